//! `zkmargin epoch`, `zkmargin run` and `zkmargin token`: the periodic epoch runner over an
//! archive (see `zkmargin_archive` for the layout and why a crash leaves it valid).
//!
//! One step: lock the archive, remove what an interrupted step left, pick the snapshot whose
//! epoch follows the archive's last, prove it into `work/` with the last epoch as `--prev`,
//! write every account's inclusion proof, then publish (renames, then one index transaction).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use zkmargin_archive::{Archive, ArchiveError, EpochRecord, TokenHash};
use zkmargin_core::config::Config;
use zkmargin_prover::inclusion::{page_powers, write_all, EpochAccounts};

use crate::cli::{EpochArgs, RunArgs, RunnerArgs, TokenArgs};
use crate::prove_cmd::srs_dir;
use crate::{exit, shard_cmd};

/// Environment variable naming a point at which the runner aborts, as a crash would (tests).
const FAILPOINT: &str = "ZKMARGIN_FAILPOINT";

/// Aborts the process if the failpoint `name` is armed.
fn failpoint(name: &str) {
    if std::env::var(FAILPOINT).is_ok_and(|v| v == name) {
        eprintln!("failpoint {name}: aborting");
        std::process::abort();
    }
}

/// What one step did.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    Published(u64),
    UpToDate,
}

/// A step that did not publish: its exit code and why.
struct Stop {
    code: u8,
    reason: String,
}

impl Stop {
    fn new(code: u8, reason: impl Into<String>) -> Stop {
        Stop {
            code,
            reason: reason.into(),
        }
    }
}

impl From<ArchiveError> for Stop {
    fn from(e: ArchiveError) -> Stop {
        let code = match e {
            ArchiveError::Malformed { .. } => exit::INPUT,
            _ => exit::FAILURE,
        };
        Stop::new(code, e.to_string())
    }
}

/// The snapshot in `source` for the epoch after `last` (the lowest epoch if `None`).
/// Subdirectories without `config.toml` are ignored; a config that does not parse, two
/// snapshots of one epoch, or a gap after `last` are unusable input.
fn next_snapshot(source: &Path, last: Option<u64>) -> Result<Option<(u64, PathBuf)>, Stop> {
    let entries = std::fs::read_dir(source)
        .map_err(|e| Stop::new(exit::INPUT, format!("{}: {e}", source.display())))?;
    let mut later: Vec<(u64, PathBuf)> = Vec::new();
    for entry in entries {
        let dir = entry
            .map_err(|e| Stop::new(exit::INPUT, format!("{}: {e}", source.display())))?
            .path();
        let config = dir.join("config.toml");
        if !config.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&config)
            .map_err(|e| Stop::new(exit::INPUT, format!("{}: {e}", config.display())))?;
        let epoch = Config::parse(&text)
            .map_err(|e| Stop::new(exit::INPUT, format!("{}: {e}", config.display())))?
            .epoch;
        if last.is_none_or(|l| epoch > l) {
            later.push((epoch, dir));
        }
    }
    later.sort();
    if let [(a, x), (b, y), ..] = later.as_slice() {
        if a == b {
            return Err(Stop::new(
                exit::INPUT,
                format!(
                    "epoch {a} has two snapshots: {} and {}",
                    x.display(),
                    y.display()
                ),
            ));
        }
    }
    match (later.into_iter().next(), last) {
        (None, _) => Ok(None),
        (Some((epoch, _)), Some(l)) if epoch != l + 1 => Err(Stop::new(
            exit::INPUT,
            format!(
                "the archive ends at epoch {l} and {} has no snapshot for epoch {}: the next is \
                 {epoch}",
                source.display(),
                l + 1
            ),
        )),
        (Some(next), _) => Ok(Some(next)),
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn step(args: &RunnerArgs) -> Result<Step, Stop> {
    let archive = Archive::create_or_open(&args.archive)?;
    let lock = archive.lock()?;
    let recovered = archive.recover(&lock)?;
    if recovered.work || !recovered.orphans.is_empty() {
        eprintln!(
            "recovered from an interrupted step: removed {}{} unpublished epoch director{}",
            if recovered.work { "work/ and " } else { "" },
            recovered.orphans.len(),
            if recovered.orphans.len() == 1 {
                "y"
            } else {
                "ies"
            }
        );
    }
    let last = archive.index()?.last()?;
    let Some((epoch, snapshot)) = next_snapshot(&args.source, last.as_ref().map(|r| r.epoch))?
    else {
        return Ok(Step::UpToDate);
    };
    eprintln!("epoch {epoch}: proving {}", snapshot.display());
    let started = Instant::now();
    let work = archive.work_dir();
    std::fs::create_dir_all(&work)
        .map_err(|e| Stop::new(exit::FAILURE, format!("{}: {e}", work.display())))?;
    let (plan, bundle, inclusion) = (
        work.join("plan"),
        work.join("bundle"),
        work.join("inclusion"),
    );
    let epoch_args = EpochArgs {
        snapshot,
        prev: last.as_ref().map(|r| archive.public_dir(r.epoch)),
        shard_k: args.shard_k,
        k: None,
        ptau: args.ptau,
    };
    let srs = srs_dir(&args.srs_dir);
    let code = shard_cmd::make_plan(&epoch_args, &srs, &plan, &work.join("halt.json"));
    if code != exit::OK {
        return Err(Stop::new(code, format!("epoch {epoch} was not proved")));
    }
    let code = shard_cmd::prove_all_and_assemble(&plan, &bundle, &srs);
    if code != exit::OK {
        return Err(Stop::new(code, format!("epoch {epoch} was not proved")));
    }
    failpoint("proved");
    let accounts =
        EpochAccounts::load(&bundle).map_err(|e| Stop::new(exit::FAILURE, e.to_string()))?;
    write_all(
        &accounts,
        &inclusion,
        &srs,
        &zkmargin_prover::keystore::default_dir(),
    )
    .map_err(|e| Stop::new(exit::FAILURE, format!("inclusion proofs: {e}")))?;
    failpoint("inclusion-written");
    let (g1, g2) = page_powers(&accounts.bundle.manifest, &srs)
        .map_err(|e| Stop::new(exit::FAILURE, format!("SRS powers for the page: {e}")))?;
    archive.publish_srs_powers(&lock, &accounts.bundle.manifest.srs.source, &g1, &g2)?;
    let key = archive.access_key(&lock)?;
    let holders: Vec<(TokenHash, String)> = accounts
        .holders()
        .map(|(identifier, id)| (TokenHash::of(&key.token(identifier)), id))
        .collect();
    let manifest = &accounts.bundle.manifest;
    let record = EpochRecord {
        epoch,
        timestamp: manifest.statement.timestamp,
        statement_digest: manifest.statement_digest.clone(),
        prev_digest: hex::encode(manifest.statement.prev_digest),
        accounts: holders.len() as u64,
        shards: manifest.shards.len() as u64,
        published_at: unix_now(),
    };
    drop(accounts);
    archive.publish_with(&lock, &bundle, &inclusion, &record, &holders, || {
        failpoint("renamed")
    })?;
    failpoint("indexed");
    if let Err(e) = std::fs::remove_dir_all(&work) {
        eprintln!("warning: cannot remove {}: {e}", work.display());
    }
    eprintln!(
        "epoch {epoch} published in {:.1} s: {} (statement digest {})",
        started.elapsed().as_secs_f64(),
        archive.public_dir(epoch).display(),
        record.statement_digest
    );
    Ok(Step::Published(epoch))
}

pub fn epoch(args: &RunnerArgs) -> u8 {
    match step(args) {
        Ok(Step::Published(_)) => exit::OK,
        Ok(Step::UpToDate) => {
            eprintln!("up to date: no new snapshot in {}", args.source.display());
            exit::OK
        }
        Err(stop) => {
            eprintln!("error: {}", stop.reason);
            stop.code
        }
    }
}

pub fn run(args: &RunArgs) -> u8 {
    if args.every.is_zero() {
        eprintln!("error: --every must be positive");
        return exit::INPUT;
    }
    loop {
        let tick = Instant::now();
        // Publish every waiting snapshot before sleeping.
        loop {
            match step(&args.runner) {
                Ok(Step::Published(_)) => continue,
                Ok(Step::UpToDate) => break,
                Err(stop) => {
                    eprintln!("error: {} (retrying at the next tick)", stop.reason);
                    break;
                }
            }
        }
        let wait = args.every.saturating_sub(tick.elapsed());
        std::thread::sleep(wait.max(Duration::from_secs(1)));
    }
}

pub fn token(args: &TokenArgs) -> u8 {
    let key = match Archive::open(&args.archive).and_then(|a| a.existing_access_key()) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INPUT;
        }
    };
    if let Some(identifier) = &args.account {
        println!("{}", key.token_hex(identifier));
        return exit::OK;
    }
    let Some(csv_path) = &args.csv else {
        return exit::INPUT;
    };
    let mut reader = match csv::Reader::from_path(csv_path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}: {e}", csv_path.display());
            return exit::INPUT;
        }
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (line, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {}: {e}", csv_path.display());
                return exit::INPUT;
            }
        };
        let Some(identifier) = record.get(0).filter(|s| !s.is_empty()) else {
            eprintln!(
                "error: {}: line {}: no account identifier",
                csv_path.display(),
                line + 2
            );
            return exit::INPUT;
        };
        if writeln!(out, "{identifier},{}", key.token_hex(identifier)).is_err() {
            return exit::FAILURE;
        }
    }
    if out.flush().is_err() {
        return exit::FAILURE;
    }
    exit::OK
}
