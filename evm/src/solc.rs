//! Solidity compilation through a `solc --bin` command: `$ZKMARGIN_SOLC` if set, else the
//! repository's `scripts/solc` (solcjs 0.8.19 from npm, no download), else `solc` on `PATH`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

#[derive(Debug, thiserror::Error)]
/// Why a contract could not be compiled.
pub enum SolcError {
    #[error(
        "cannot run {command}: {source} (run `npm ci --prefix scripts/node`, or set ZKMARGIN_SOLC)"
    )]
    /// The compiler could not be started.
    Spawn {
        /// The command line.
        command: String,
        /// The error.
        source: std::io::Error,
    },
    #[error("{command} failed:\n{stderr}")]
    /// The compiler failed.
    Failed {
        /// The command line.
        command: String,
        /// Its standard error.
        stderr: String,
    },
    #[error("{command}: no bytecode for contract {contract} in its output")]
    /// The compiler's output has no bytecode for the contract.
    Missing {
        /// The command line.
        command: String,
        /// The contract's name.
        contract: String,
    },
    #[error("{command}: bytecode of {contract} is not hex")]
    /// The compiler's bytecode is not hex.
    NotHex {
        /// The command line.
        command: String,
        /// The contract's name.
        contract: String,
    },
}

/// The compiler command used by [`compile`].
pub fn command() -> PathBuf {
    if let Some(c) = std::env::var_os("ZKMARGIN_SOLC") {
        return PathBuf::from(c);
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/solc");
    if script.exists() {
        return script;
    }
    PathBuf::from("solc")
}

/// Whether to run solc's optimizer: yes for the registry; no for generated verifiers, which
/// solc 0.8.19 cannot optimize ("Stack too deep", or out of memory in solcjs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Optimizer {
    /// Optimize (the registry).
    On,
    /// Do not optimize (generated verifiers).
    Off,
}

/// Compiles `source` and returns the creation bytecode of the contract named `contract`.
pub fn compile(source: &str, contract: &str, optimizer: Optimizer) -> Result<Vec<u8>, SolcError> {
    let cmd = command();
    let shown = cmd.display().to_string();
    let mut args = vec!["--bin"];
    if optimizer == Optimizer::On {
        args.push("--optimize");
    }
    args.push("-");
    let mut child = Command::new(&cmd)
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| SolcError::Spawn {
            command: shown.clone(),
            source,
        })?;
    let written = child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(source.as_bytes());
    let out = child
        .wait_with_output()
        .map_err(|source| SolcError::Spawn {
            command: shown.clone(),
            source,
        })?;
    if !out.status.success() || written.is_err() {
        return Err(SolcError::Failed {
            command: shown,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let hex_code = bytecode_of(&stdout, contract).ok_or_else(|| SolcError::Missing {
        command: shown.clone(),
        contract: contract.into(),
    })?;
    hex::decode(hex_code).map_err(|_| SolcError::NotHex {
        command: shown,
        contract: contract.into(),
    })
}

/// The `Binary:` hex that follows the `======= <source>:<contract> =======` header.
fn bytecode_of<'a>(output: &'a str, contract: &str) -> Option<&'a str> {
    let mut lines = output.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let named = line
            .strip_prefix("=======")
            .and_then(|l| l.strip_suffix("======="))
            .and_then(|l| l.trim().rsplit(':').next())
            .is_some_and(|name| name == contract);
        if named {
            let mut rest = lines.by_ref().skip_while(|l| *l != "Binary:");
            rest.next();
            return rest.next().filter(|hex| !hex.is_empty());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{bytecode_of, compile, Optimizer, SolcError};

    /// Needs the compiler (`npm ci --prefix scripts/node`, which `.ci/run` does).
    #[test]
    fn compiles_and_reports_errors() {
        let ok = compile("contract A { uint x; }", "A", Optimizer::On).unwrap();
        assert!(!ok.is_empty());
        assert!(matches!(
            compile("contract A {", "A", Optimizer::Off),
            Err(SolcError::Failed { .. })
        ));
        assert!(matches!(
            compile("contract A { }", "B", Optimizer::Off),
            Err(SolcError::Missing { .. })
        ));
    }

    #[test]
    fn picks_the_named_contract() {
        let out = "\n======= <stdin>:A =======\nBinary:\n6001\n\n======= <stdin>:B =======\nBinary:\n6002\n";
        assert_eq!(bytecode_of(out, "A"), Some("6001"));
        assert_eq!(bytecode_of(out, "B"), Some("6002"));
        assert_eq!(bytecode_of(out, "C"), None);
        assert_eq!(bytecode_of("======= x:A =======\nBinary:\n", "A"), None);
    }
}
