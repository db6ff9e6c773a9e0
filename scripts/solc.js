#!/usr/bin/env node
// A `solc --bin` stand-in built on solcjs (npm `solc`, pinned to 0.8.19 in scripts/node): the
// compiler ships inside the package as wasm, so nothing is downloaded.
//
//   solc --bin -              compile Solidity read from stdin
//   solc --bin A.sol B.sol    compile files (imports resolve relative to the working directory)
//   solc --bin --optimize -   the same with the optimizer (200 runs)
//
// Prints, per contract, `======= <source>:<Name> =======` then `Binary:` and the creation
// bytecode in hex, like the native compiler; the last token is the last contract's bytecode,
// which is what snark-verifier's `compile_solidity` reads. The optimizer is off unless asked
// for: on the generated verifier 0.8.19 fails with it ("Stack too deep", or out of wasm
// memory). Exit 1 on compile errors.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require(path.join(__dirname, 'node', 'node_modules', 'solc'));

const optimize = process.argv.includes('--optimize');
const args = process.argv.slice(2).filter((a) => a !== '--bin' && a !== '--optimize');
if (args.length === 0) {
  process.stderr.write('usage: solc --bin (- | FILE...)\n');
  process.exit(2);
}
const sources = {};
for (const a of args) {
  if (a === '-') sources['<stdin>'] = { content: fs.readFileSync(0, 'utf8') };
  else sources[a] = { content: fs.readFileSync(a, 'utf8') };
}
const input = {
  language: 'Solidity',
  sources,
  settings: {
    optimizer: { enabled: optimize, runs: 200 },
    outputSelection: { '*': { '*': ['evm.bytecode.object'] } },
  },
};
const findImports = (p) => {
  try {
    return { contents: fs.readFileSync(p, 'utf8') };
  } catch (e) {
    return { error: `import not found: ${p}` };
  }
};
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
let failed = false;
for (const e of output.errors || []) {
  process.stderr.write(e.formattedMessage || e.message);
  if (e.severity === 'error') failed = true;
}
if (failed) process.exit(1);
for (const [source, contracts] of Object.entries(output.contracts || {})) {
  for (const [name, c] of Object.entries(contracts)) {
    process.stdout.write(`\n======= ${source}:${name} =======\nBinary:\n${c.evm.bytecode.object}\n`);
  }
}
