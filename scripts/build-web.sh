#!/usr/bin/env bash
# Builds the web verifier page into OUT (default web/dist): the zkmargin-web crate for
# wasm32-unknown-unknown, wasm-bindgen's ES-module glue (pkg/), and web/static/.
# Serve it with `zkmargin serve ARCHIVE --web OUT`, or host OUT beside the archive's public/.
# Needs the wasm32 target and wasm-bindgen-cli at the version Cargo.lock pins
# (scripts/install-web-tools.sh installs both where the network allows).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-web/dist}"
want=$(scripts/install-web-tools.sh --version)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [[ "$have" != "$want" ]]; then
  echo "error: wasm-bindgen ${have:-not found}; the lock file pins $want (scripts/install-web-tools.sh)" >&2
  exit 2
fi
# No debug info in the browser build (the workspace's release profile keeps line tables).
CARGO_PROFILE_RELEASE_DEBUG=0 cargo build --release --target wasm32-unknown-unknown -p zkmargin-web
tmp="$out.tmp"
rm -rf "$tmp"
mkdir -p "$tmp/pkg"
wasm-bindgen --target web --no-typescript --out-dir "$tmp/pkg" \
  target/wasm32-unknown-unknown/release/zkmargin_web.wasm
cp web/static/* "$tmp/"
rm -rf "$out"
mv "$tmp" "$out"
echo "web page in $out ($(du -h "$out/pkg/zkmargin_web_bg.wasm" | cut -f1) of WebAssembly)"
