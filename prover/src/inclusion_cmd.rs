//! `zkmargin inclusion`: per-account inclusion files from a bundle's private data.

use std::path::Path;
use std::time::Instant;

use zkmargin_bundle::srs;
use zkmargin_inclusion::InclusionFile;
use zkmargin_prover::inclusion::{EpochAccounts, InclusionError, InclusionProver};

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
    let key_dir = zkmargin_prover::keystore::default_dir();
    if args.all && args.out.exists() {
        eprintln!("error: {} already exists", args.out.display());
        return exit::INPUT;
    }
    let opened = Instant::now();
    let usage = |e: InclusionError| -> u8 {
        eprintln!("error: {e}");
        match e {
            InclusionError::Bundle(_)
            | InclusionError::Private(_)
            | InclusionError::UnknownAccount(_) => exit::INPUT,
            _ => exit::FAILURE,
        }
    };
    let epoch = match EpochAccounts::load(&args.bundle) {
        Ok(e) => e,
        Err(e) => return usage(e),
    };
    let result = match &args.account {
        Some(identifier) => {
            let (shard, block) = match epoch.locate(identifier) {
                Ok(at) => at,
                Err(e) => return usage(e),
            };
            let prover = match InclusionProver::open(&epoch, shard, &srs_dir, &key_dir) {
                Ok(p) => p,
                Err(e) => return usage(e),
            };
            eprintln!(
                "shard {shard} opened for inclusion proofs in {:.2} s",
                opened.elapsed().as_secs_f64()
            );
            let start = Instant::now();
            let file = match prover.prove(block) {
                Ok(f) => f,
                Err(e) => return usage(e),
            };
            if !prover.self_check(&file) {
                eprintln!("error: the opening failed its own check");
                return exit::FAILURE;
            }
            eprintln!(
                "inclusion proof for shard {shard}, row {block} in {:.2} s",
                start.elapsed().as_secs_f64()
            );
            write_json(&args.out, &file)
        }
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
                    (0..epoch.shards()).try_for_each(|shard| {
                        let prover = InclusionProver::open(&epoch, shard, &srs_dir, &key_dir)?;
                        prover.prove_all(|file| {
                            write_json(&tmp.join(format!("{}.json", file.id)), &file)
                        })
                    })
                })
                .and_then(|()| {
                    std::fs::rename(&tmp, &args.out).map_err(|source| InclusionError::Io {
                        path: args.out.clone(),
                        source,
                    })
                });
            if written.is_ok() {
                eprintln!(
                    "{} inclusion proofs ({} shard(s)) in {:.1} s",
                    epoch.accounts(),
                    epoch.shards(),
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
        Err(e) => usage(e),
    }
}
