//! Exposes `ZKMARGIN_CIRCUIT_SOURCE_HASH`: SHA-256 of this crate's and zkmargin-layout's
//! sources and the workspace
//! lock file. Cached proving and verifying keys are named by it, so any change to the circuit
//! code or to a dependency (halo2-base, halo2-axiom) invalidates them automatically.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src readable")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    // The shape and table plan live in zkmargin-layout: they fix the constraint system too.
    sources(&root.join("../layout/src"), &mut files);
    files.push(root.join("../Cargo.lock"));
    let mut hasher = Sha256::new();
    for file in &files {
        hasher.update(
            file.strip_prefix(&root)
                .unwrap_or(file)
                .to_string_lossy()
                .as_bytes(),
        );
        hasher.update(std::fs::read(file).unwrap_or_default());
    }
    let hash: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    println!("cargo:rustc-env=ZKMARGIN_CIRCUIT_SOURCE_HASH={hash}");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=../layout/src");
    println!("cargo:rerun-if-changed=../Cargo.lock");
}
