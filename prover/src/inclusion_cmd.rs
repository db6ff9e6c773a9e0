//! `zkmargin inclusion`: per-account inclusion files from a bundle's private data.

use std::path::Path;
use std::time::Instant;

use zkmargin_bundle::srs;
use zkmargin_inclusion::InclusionFile;
use zkmargin_prover::inclusion::{InclusionError, InclusionProver};

use crate::cli::InclusionArgs;
use crate::exit;

fn write_json(path: &Path, file: &InclusionFile) -> Result<(), InclusionError> {
    let text = serde_json::to_vec_pretty(file).expect("inclusion file serializes");
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|source| InclusionError::Io {
            path: path.to_path_buf(),
            source,
        })
}

pub fn run(args: &InclusionArgs) -> u8 {
    let srs_dir = args.srs_dir.clone().unwrap_or_else(srs::default_dir);
    if args.all && args.out.exists() {
        eprintln!("error: {} already exists", args.out.display());
        return exit::INPUT;
    }
    let opened = Instant::now();
    let prover = match InclusionProver::open(
        &args.bundle,
        &srs_dir,
        &zkmargin_prover::keystore::default_dir(),
    ) {
        Ok(p) => p,
        Err(e @ (InclusionError::Bundle(_) | InclusionError::Private(_))) => {
            eprintln!("error: {e}");
            return exit::INPUT;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FAILURE;
        }
    };
    eprintln!(
        "bundle opened for inclusion proofs in {:.2} s",
        opened.elapsed().as_secs_f64()
    );
    let result = match &args.account {
        Some(identifier) => match prover.block_of(identifier) {
            Ok(block) => {
                let start = Instant::now();
                let file = match prover.prove(block) {
                    Ok(f) => f,
                    Err(e) => {
                        eprintln!("error: {e}");
                        return exit::FAILURE;
                    }
                };
                if !prover.self_check(&file) {
                    eprintln!("error: the opening failed its own check");
                    return exit::FAILURE;
                }
                eprintln!(
                    "inclusion proof for row {block} in {:.2} s",
                    start.elapsed().as_secs_f64()
                );
                write_json(&args.out, &file)
            }
            Err(e) => {
                eprintln!("error: {e}");
                return exit::INPUT;
            }
        },
        None => {
            let tmp = args.out.with_extension("tmp-all");
            let _ = std::fs::remove_dir_all(&tmp);
            let start = Instant::now();
            let written = std::fs::create_dir_all(&tmp)
                .map_err(|source| InclusionError::Io {
                    path: tmp.clone(),
                    source,
                })
                .and_then(|()| {
                    prover
                        .prove_all(|file| write_json(&tmp.join(format!("{}.json", file.id)), &file))
                })
                .and_then(|()| {
                    std::fs::rename(&tmp, &args.out).map_err(|source| InclusionError::Io {
                        path: args.out.clone(),
                        source,
                    })
                });
            if written.is_ok() {
                eprintln!(
                    "{} inclusion proofs in {:.1} s",
                    prover.accounts(),
                    start.elapsed().as_secs_f64()
                );
            }
            written
        }
    };
    match result {
        Ok(()) => {
            eprintln!("written to {}", args.out.display());
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::FAILURE
        }
    }
}
