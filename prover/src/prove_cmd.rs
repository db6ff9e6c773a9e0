//! `zkmargin setup` and `zkmargin prove`.

use std::path::PathBuf;

use zkmargin_bundle::srs::{self, SrsKind};

use crate::cli::{ProveArgs, SetupArgs};
use crate::{exit, shard_cmd};

pub fn srs_dir(dir: &Option<PathBuf>) -> PathBuf {
    dir.clone().unwrap_or_else(srs::default_dir)
}

pub fn setup(args: &SetupArgs) -> u8 {
    let dir = srs_dir(&args.srs_dir);
    let Some(ptau) = &args.ptau else {
        return match srs::load(&dir, SrsKind::Dev, args.k) {
            Ok(_) => {
                eprintln!(
                    "development SRS for k = {} ready in {} (INSECURE: for testing only)",
                    args.k,
                    dir.display()
                );
                exit::OK
            }
            Err(e) => {
                eprintln!("error: {e}");
                exit::FAILURE
            }
        };
    };
    let bytes = match std::fs::read(ptau) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {}: {e}", ptau.display());
            return exit::INPUT;
        }
    };
    let params = match zkmargin_bundle::ptau::import(&bytes, args.k) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {}: {e}", ptau.display());
            return exit::INPUT;
        }
    };
    let g2 = match zkmargin_bundle::ptau::import_g2_powers(&bytes, srs::G2_POWERS) {
        Ok(g2) => g2,
        Err(e) => {
            eprintln!("error: {}: {e}", ptau.display());
            return exit::INPUT;
        }
    };
    if let Err(e) = srs::store_g2_powers(&dir, SrsKind::Ptau, &g2) {
        eprintln!("error: {e}");
        return exit::FAILURE;
    }
    match srs::store_ptau(&dir, &params) {
        Ok(path) => {
            eprintln!(
                "imported {} (pairing-checked) as {}",
                ptau.display(),
                path.display()
            );
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::FAILURE
        }
    }
}

pub fn prove_cmd(args: &ProveArgs) -> u8 {
    if args.out.exists() {
        eprintln!("error: {} already exists", args.out.display());
        return exit::INPUT;
    }
    // One path for every proof: a private plan next to the bundle, each shard proved in this
    // process with one key, then assembled; the plan is removed once the bundle is written.
    let name = args
        .out
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("bundle");
    let plan_dir = args
        .out
        .with_file_name(format!(".{name}.plan-{}", std::process::id()));
    let halt_report = PathBuf::from(format!("{}.halt.json", args.out.display()));
    let code = shard_cmd::make_plan(
        &args.epoch,
        &srs_dir(&args.srs_dir),
        &plan_dir,
        &halt_report,
    );
    if code != exit::OK {
        return code;
    }
    let code = shard_cmd::prove_all_and_assemble(&plan_dir, &args.out, &srs_dir(&args.srs_dir));
    if let Err(e) = std::fs::remove_dir_all(&plan_dir) {
        eprintln!("warning: cannot remove {}: {e}", plan_dir.display());
    }
    code
}
