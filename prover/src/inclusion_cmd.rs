//! `zkmargin inclusion`: per-account inclusion files from a bundle's private data.

use std::time::Instant;

use zkmargin_bundle::srs;
use zkmargin_prover::inclusion::{
    write_all, write_file, EpochAccounts, InclusionError, InclusionProver,
};

use crate::cli::InclusionArgs;
use crate::exit;

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
            write_file(&args.out, &file)
        }
        None => {
            let start = Instant::now();
            let written = write_all(&epoch, &args.out, &srs_dir, &key_dir);
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
