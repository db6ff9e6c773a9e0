//! The periodic epoch runner's step over an archive (see `zkmargin_archive` for the layout and
//! why a crash leaves it valid).
//!
//! One [`step`]: lock the archive, remove what an interrupted step left, pick the snapshot whose
//! epoch follows the archive's last, prove it into `work/` chained to the last epoch (with the
//! table `zkmargin prove` would choose for it, [`default_table`]: dense or slots, so one archive
//! may hold both), write every account's inclusion proof, then publish (renames, then one index
//! transaction).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use zkmargin_archive::{Archive, ArchiveError, EpochRecord, TokenHash};
use zkmargin_core::config::Config;

use zkmargin_core::oracle::HaltReport;
use zkmargin_core::statement::Statement;
use zkmargin_srs::SrsKind;

use crate::epoch::Sharding;
use crate::inclusion::{page_powers, write_all, EpochAccounts, InclusionError};
use crate::pipeline::{self, EpochRequest, PipelineError, Planned, Setup};
use crate::report::Reporter;
use crate::slot_inclusion::{write_all_slots, SlotAccounts};
use crate::slots::{self, default_table, SlotProved, Table};
use crate::ErrorClass;

/// Environment variable naming a point at which the runner aborts, as a crash would (the
/// archive's crash tests arm it).
pub const FAILPOINT: &str = "ZKMARGIN_FAILPOINT";

/// Aborts the process if the failpoint `name` is armed.
fn failpoint(name: &str, reporter: &dyn Reporter) {
    if std::env::var(FAILPOINT).is_ok_and(|v| v == name) {
        reporter.warn(&format!("failpoint {name}: aborting"));
        std::process::abort();
    }
}

/// What the runner proves and where it publishes.
#[derive(Debug, Clone, Copy)]
pub struct RunnerOptions<'a> {
    /// A directory of snapshot directories (any names; config.toml's epoch orders them).
    pub source: &'a Path,
    /// The archive directory (created on first use).
    pub archive: &'a Path,
    /// Table rows per shard of a dense-table epoch (default: one shard holding every
    /// account); a slot-table epoch's classes size their own shards.
    pub shard_rows: Option<usize>,
    /// The SRS every epoch is proved under.
    pub srs: SrsKind,
}

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The epoch was proved and published.
    Published(Published),
    /// No snapshot follows the archive's last epoch.
    UpToDate,
}

/// A published epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Its number.
    pub epoch: u64,
    /// Its public directory in the archive.
    pub dir: PathBuf,
    /// Its statement digest (hex).
    pub statement_digest: String,
    /// Wall time of the step.
    pub took: Duration,
}

/// Why a step published nothing. The archive is left as it was (a later step recovers).
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// The archive is unusable or held by another writer.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// The source directory cannot be read or is inconsistent (a gap, two snapshots of one
    /// epoch, a config that does not parse).
    #[error("{}: {reason}", path.display())]
    Source {
        /// The directory or file at fault.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Planning, proving or assembling the epoch failed.
    #[error("epoch {epoch}: {source}")]
    Prove {
        /// The epoch being proved.
        epoch: u64,
        /// The step's own error (which shard, which file, which check).
        source: Box<PipelineError>,
    },
    /// The oracle circuit breaker halted the epoch.
    #[error("epoch {epoch}: oracle halt: halt report written to {}; nothing proved", report.display())]
    Halted {
        /// The halted epoch.
        epoch: u64,
        /// Where its halt report is.
        report: PathBuf,
    },
    /// Writing the accounts' inclusion proofs failed.
    #[error("epoch {epoch}: inclusion proofs: {source}")]
    Inclusion {
        /// The epoch being published.
        epoch: u64,
        /// The inclusion prover's error.
        source: InclusionError,
    },
    /// A file the step writes could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

impl RunnerError {
    /// Input at fault (exit 2), the run (exit 1), or an oracle halt (exit 3).
    pub fn class(&self) -> ErrorClass {
        match self {
            RunnerError::Archive(ArchiveError::Malformed { .. }) | RunnerError::Source { .. } => {
                ErrorClass::Input
            }
            RunnerError::Prove { source, .. } => source.class(),
            RunnerError::Halted { .. } => ErrorClass::Halted,
            _ => ErrorClass::Runtime,
        }
    }
}

fn source_error(path: &Path, reason: impl ToString) -> RunnerError {
    RunnerError::Source {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// The snapshot in `source` for the epoch after `last` (the lowest epoch if `None`).
/// Subdirectories without `config.toml` are ignored; a config that does not parse, two
/// snapshots of one epoch, or a gap after `last` are unusable input.
pub fn next_snapshot(
    source: &Path,
    last: Option<u64>,
) -> Result<Option<(u64, PathBuf)>, RunnerError> {
    let entries = std::fs::read_dir(source).map_err(|e| source_error(source, e))?;
    let mut later: Vec<(u64, PathBuf)> = Vec::new();
    for entry in entries {
        let dir = entry.map_err(|e| source_error(source, e))?.path();
        let config = dir.join("config.toml");
        if !config.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&config).map_err(|e| source_error(&config, e))?;
        let epoch = Config::parse(&text)
            .map_err(|e| source_error(&config, e))?
            .epoch;
        if last.is_none_or(|l| epoch > l) {
            later.push((epoch, dir));
        }
    }
    later.sort();
    if let [(a, x), (b, y), ..] = later.as_slice() {
        if a == b {
            return Err(source_error(
                source,
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
        (Some((epoch, _)), Some(l)) if epoch != l + 1 => Err(source_error(
            source,
            format!(
                "the archive ends at epoch {l} and there is no snapshot for epoch {}: the next \
                 is {epoch}",
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

/// One step of the runner: publishes the epoch after the archive's last, if its snapshot is
/// in the source.
pub fn step(
    options: &RunnerOptions<'_>,
    setup: &Setup<'_>,
    reporter: &dyn Reporter,
) -> Result<Step, RunnerError> {
    let archive = Archive::create_or_open(options.archive)?;
    let lock = archive.lock()?;
    let recovered = archive.recover(&lock)?;
    if recovered.work || !recovered.orphans.is_empty() {
        reporter.info(&format!(
            "recovered from an interrupted step: removed {}{} unpublished epoch director{}",
            if recovered.work { "work/ and " } else { "" },
            recovered.orphans.len(),
            if recovered.orphans.len() == 1 {
                "y"
            } else {
                "ies"
            }
        ));
    }
    let last = archive.index()?.last()?;
    let Some((epoch, snapshot)) = next_snapshot(options.source, last.as_ref().map(|r| r.epoch))?
    else {
        return Ok(Step::UpToDate);
    };
    reporter.info(&format!("epoch {epoch}: proving {}", snapshot.display()));
    let started = Instant::now();
    let work = archive.work_dir();
    std::fs::create_dir_all(&work).map_err(|source| RunnerError::Io {
        path: work.clone(),
        source,
    })?;
    let prev = last.as_ref().map(|r| archive.public_dir(r.epoch));
    let request = EpochRequest {
        snapshot: &snapshot,
        prev: prev.as_deref(),
        sharding: Sharding::default(),
        srs: options.srs,
    };
    let table = default_table(&snapshot).map_err(|e| RunnerError::Prove {
        epoch,
        source: Box::new(PipelineError::Prepare(e)),
    })?;
    let made = match table {
        Table::Dense => dense_epoch(epoch, &request, options, setup, &work, reporter)?,
        Table::Slots => slot_epoch(epoch, &request, setup, &work, reporter)?,
    };
    let inclusion_error = |source| RunnerError::Inclusion { epoch, source };
    let (g1, g2) = page_powers(&made.srs, made.k, setup.srs_dir).map_err(inclusion_error)?;
    archive.publish_srs_powers(&lock, &made.srs, &g1, &g2)?;
    let key = archive.access_key(&lock)?;
    let holders: Vec<(TokenHash, String)> = made
        .holders
        .iter()
        .map(|(identifier, id)| (TokenHash::of(&key.token(identifier)), id.clone()))
        .collect();
    let record = EpochRecord {
        epoch,
        timestamp: made.statement.timestamp,
        statement_digest: made.statement_digest,
        prev_digest: hex::encode(made.statement.prev_digest),
        accounts: holders.len() as u64,
        shards: made.shards as u64,
        published_at: unix_now(),
    };
    let (bundle, inclusion) = (work.join(BUNDLE), work.join(INCLUSION));
    archive.publish_with(&lock, &bundle, &inclusion, &record, &holders, || {
        failpoint("renamed", reporter)
    })?;
    failpoint("indexed", reporter);
    if let Err(e) = std::fs::remove_dir_all(&work) {
        reporter.warn(&format!("cannot remove {}: {e}", work.display()));
    }
    Ok(Step::Published(Published {
        epoch,
        dir: archive.public_dir(epoch),
        statement_digest: record.statement_digest,
        took: started.elapsed(),
    }))
}

/// `work/bundle`: the epoch's bundle as proved (published as `public/NNNNNNNNNN`).
const BUNDLE: &str = "bundle";
/// `work/inclusion`: every account's inclusion file (published under `private/`).
const INCLUSION: &str = "inclusion";

/// What proving one epoch left in `work/`, whichever its table.
struct Made {
    statement: Statement,
    statement_digest: String,
    /// Its shards (over every class, for a slot epoch).
    shards: usize,
    /// The SRS label and the largest circuit size it was proved at.
    srs: String,
    k: u32,
    /// Every account's identifier and id (hex), in table order.
    holders: Vec<(String, String)>,
}

fn halted(epoch: u64, work: &Path, report: &HaltReport) -> RunnerError {
    let path = work.join("halt.json");
    match pipeline::write_halt_report(&path, report) {
        Ok(()) => RunnerError::Halted {
            epoch,
            report: path,
        },
        Err(source) => RunnerError::Io { path, source },
    }
}

/// A dense-table epoch: planned (cut into `options.shard_rows` shards), proved, and every
/// account's inclusion file written.
fn dense_epoch(
    epoch: u64,
    request: &EpochRequest<'_>,
    options: &RunnerOptions<'_>,
    setup: &Setup<'_>,
    work: &Path,
    reporter: &dyn Reporter,
) -> Result<Made, RunnerError> {
    let proving = |source| RunnerError::Prove {
        epoch,
        source: Box::new(source),
    };
    let request = EpochRequest {
        sharding: Sharding {
            k: None,
            shard_rows: options.shard_rows,
        },
        ..*request
    };
    let plan = work.join("plan");
    if let Planned::Halted(report) =
        pipeline::make_plan(&request, setup, &plan, reporter).map_err(proving)?
    {
        return Err(halted(epoch, work, &report));
    }
    let bundle = work.join(BUNDLE);
    pipeline::prove_plan(&plan, &bundle, setup, reporter).map_err(proving)?;
    failpoint("proved", reporter);
    let inclusion_error = |source| RunnerError::Inclusion { epoch, source };
    let accounts = EpochAccounts::load(&bundle).map_err(inclusion_error)?;
    write_all(
        &accounts,
        &work.join(INCLUSION),
        setup.srs_dir,
        setup.key_dir,
        reporter,
    )
    .map_err(inclusion_error)?;
    failpoint("inclusion-written", reporter);
    let m = &accounts.bundle.manifest;
    Ok(Made {
        statement: m.statement.clone(),
        statement_digest: m.statement_digest.clone(),
        shards: m.shards.len(),
        srs: m.srs.source.clone(),
        k: m.shape.k,
        holders: accounts
            .holders()
            .map(|(identifier, id)| (identifier.to_string(), id))
            .collect(),
    })
}

/// A slot-table epoch: every class proved (each sizes its own shards), and every account's
/// inclusion file written.
fn slot_epoch(
    epoch: u64,
    request: &EpochRequest<'_>,
    setup: &Setup<'_>,
    work: &Path,
    reporter: &dyn Reporter,
) -> Result<Made, RunnerError> {
    let bundle = work.join(BUNDLE);
    match slots::prove_snapshot_slots(request, setup, &bundle, reporter).map_err(|source| {
        RunnerError::Prove {
            epoch,
            source: Box::new(source),
        }
    })? {
        SlotProved::Halted(report) => return Err(halted(epoch, work, &report)),
        SlotProved::Bundle(_) => {}
    }
    failpoint("proved", reporter);
    let inclusion_error = |source| RunnerError::Inclusion { epoch, source };
    let accounts = SlotAccounts::load(&bundle).map_err(inclusion_error)?;
    write_all_slots(&accounts, &work.join(INCLUSION), setup.srs_dir, reporter)
        .map_err(inclusion_error)?;
    failpoint("inclusion-written", reporter);
    let m = &accounts.bundle.manifest;
    Ok(Made {
        statement: m.statement.clone(),
        statement_digest: m.statement_digest.clone(),
        shards: m.classes.iter().map(|c| c.shards).sum(),
        srs: m.srs.clone(),
        k: m.classes.iter().map(|c| c.shape.k).max().unwrap_or(0),
        holders: accounts
            .holders()
            .map(|(identifier, id)| (identifier.to_string(), id))
            .collect(),
    })
}
