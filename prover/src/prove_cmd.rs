//! `zkmargin setup` and `zkmargin prove`.

use std::path::PathBuf;

use serde_json::json;
use zkmargin_bundle::srs::{self, SrsKind};
use zkmargin_bundle::{Bundle, Manifest, SrsLabel, FORMAT_VERSION, MASTER_SECRET};
use zkmargin_circuits::encoding::digest_of;
use zkmargin_core::render;
use zkmargin_prover::epoch::{prepare, PrepareError};
use zkmargin_prover::prove::prove;

use crate::cli::{ProveArgs, SetupArgs};
use crate::exit;

fn srs_dir(dir: &Option<PathBuf>) -> PathBuf {
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
    let prev_digest = match &args.prev {
        None => [0; 32],
        Some(p) => match Bundle::read(p) {
            Ok(b) => digest_of(&b.instances, &b.manifest.statement),
            Err(e) => {
                eprintln!("error: --prev: {e}");
                return exit::INPUT;
            }
        },
    };
    if args.out.exists() {
        eprintln!("error: {} already exists", args.out.display());
        return exit::INPUT;
    }
    let epoch = match prepare(&args.snapshot, prev_digest, args.k, None) {
        Ok(e) => e,
        Err(PrepareError::Halted(report)) => {
            print!("{}", render::halt(&report));
            let path = std::path::PathBuf::from(format!("{}.halt.json", args.out.display()));
            let text = serde_json::to_string_pretty(&json!({ "status": "halted", "halt": report }))
                .expect("serializes");
            if let Err(e) = std::fs::write(&path, text) {
                eprintln!("error: cannot write {}: {e}", path.display());
            } else {
                eprintln!(
                    "halt report written to {}; no bundle produced",
                    path.display()
                );
            }
            return exit::HALTED;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INPUT;
        }
    };
    eprintln!(
        "{} accounts in a table of {} rows, circuit k = {}",
        epoch.accounts, epoch.shape.rows, epoch.shape.k
    );
    let kind = if args.ptau {
        SrsKind::Ptau
    } else {
        SrsKind::Dev
    };
    let params = match srs::load(&srs_dir(&args.srs_dir), kind, epoch.shape.k) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FAILURE;
        }
    };
    let proof = match prove(
        &params,
        kind.label(),
        &zkmargin_prover::keystore::default_dir(),
        &epoch,
    ) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FAILURE;
        }
    };
    let bundle = Bundle {
        manifest: Manifest {
            format_version: FORMAT_VERSION,
            shape: epoch.shape.clone(),
            srs: SrsLabel {
                source: kind.label().to_string(),
                k: epoch.shape.k,
            },
            statement_digest: hex::encode(digest_of(&proof.instances, &epoch.statement)),
            account_table_commitment: proof.advice_commitments.clone(),
            statement: epoch.statement.clone(),
        },
        proof: proof.bytes,
        instances: proof.instances,
        config_toml: epoch.config_toml.clone(),
        quotes_csv: epoch.quotes_csv.clone(),
    };
    let snapshot_file = |name: &str| args.snapshot.join(name);
    let (config, quotes, accounts) = (
        snapshot_file("config.toml"),
        snapshot_file("quotes.csv"),
        snapshot_file("accounts.csv"),
    );
    match bundle.write_with_copies(
        &args.out,
        &[(MASTER_SECRET, hex::encode(epoch.master_secret).into_bytes())],
        &[
            ("snapshot/config.toml", &config),
            ("snapshot/quotes.csv", &quotes),
            ("snapshot/accounts.csv", &accounts),
        ],
    ) {
        Ok(()) => {
            eprintln!(
                "bundle written to {} ({} byte proof)",
                args.out.display(),
                bundle.proof.len()
            );
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::FAILURE
        }
    }
}
