//! The reference engine: a snapshot directory in, the epoch's statement (or a halt report) out.
//!
//! `accounts.csv` is streamed: a reader thread hands batches of raw records to the caller's
//! thread, which parses and evaluates them with rayon. Memory is bounded by two batches plus
//! 32 bytes per account for duplicate detection.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use rayon::prelude::*;

use crate::accounts::{
    identifier_fingerprint, AccountReader, AccountRow, RawRecord, ACCOUNTS_FILE,
};
use crate::aggregate::Totals;
use crate::bounds;
use crate::config::{Config, CONFIG_FILE};
use crate::digest::Digest;
use crate::error::InputError;
use crate::fine::FineScale;
use crate::margin::MarkTable;
use crate::oracle::{self, HaltReport};
use crate::quotes::{read_quotes, Quote, QUOTES_FILE};
use crate::statement::Statement;

/// Records per batch handed from the reader thread to the workers.
const BATCH: usize = 32 * 1024;

/// A snapshot directory with its config and quotes loaded; accounts stay on disk.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub dir: PathBuf,
    pub config: Config,
    pub quotes: Vec<Quote>,
}

impl Snapshot {
    /// Loads and validates `config.toml` and `quotes.csv` from `dir`.
    pub fn load(dir: &Path) -> Result<Snapshot, InputError> {
        let config_path = dir.join(CONFIG_FILE);
        let text = std::fs::read(&config_path).map_err(|e| {
            InputError::file(
                CONFIG_FILE,
                format!("cannot read {}: {e}", config_path.display()),
            )
        })?;
        let text = String::from_utf8(text).map_err(|e| {
            let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            InputError::at(CONFIG_FILE, line, "config", "not valid UTF-8")
        })?;
        let config = Config::parse(&text)?;
        let quotes = read_quotes(&dir.join(QUOTES_FILE), &config)?;
        Ok(Snapshot {
            dir: dir.to_path_buf(),
            config,
            quotes,
        })
    }

    pub fn accounts_path(&self) -> PathBuf {
        self.dir.join(ACCOUNTS_FILE)
    }
}

/// The engine's result for a well-formed snapshot.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The circuit breaker tripped: no statement for this epoch.
    Halted(HaltReport),
    /// The epoch's statement and the operator-private figures behind it.
    Evaluated(Box<Evaluation>),
}

/// A complete evaluation.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub statement: Statement,
    /// Private: the exact number of accounts (not part of the statement).
    pub accounts: u64,
    pub scale: FineScale,
    /// Median price per asset, price units.
    pub prices: Vec<u64>,
}

/// Evaluates a snapshot. The accounts file is validated in full even when the oracle halts,
/// so malformed input is always reported (exit 2) before a halt (exit 3).
pub fn evaluate(snapshot: &Snapshot, prev_digest: Digest) -> Result<Outcome, InputError> {
    let config = &snapshot.config;
    let scale =
        FineScale::derive(config).map_err(|e| InputError::at(CONFIG_FILE, 1, e.field, e.reason))?;
    let oracle = oracle::evaluate(config, &snapshot.quotes);
    let prices = oracle::prices_or_halt(config, &oracle);
    let underlying: Vec<usize> = config.markets.iter().map(|m| m.underlying).collect();
    let table = prices
        .as_ref()
        .ok()
        .map(|p| MarkTable::new(&scale, &underlying, p));
    let totals = stream_accounts(snapshot, table.as_ref())?;
    match prices {
        Err(halt) => Ok(Outcome::Halted(halt)),
        Ok(prices) => {
            let statement = Statement::assemble(config, &scale, oracle, &totals, prev_digest);
            Ok(Outcome::Evaluated(Box::new(Evaluation {
                statement,
                accounts: totals.accounts,
                scale,
                prices,
            })))
        }
    }
}

/// Streams, validates and (when prices exist) evaluates every account.
fn stream_accounts(snapshot: &Snapshot, table: Option<&MarkTable>) -> Result<Totals, InputError> {
    let config = &snapshot.config;
    let mut reader = AccountReader::open(&snapshot.accounts_path(), config)?;
    let layout = reader.layout().clone();
    let empty = || {
        Totals::new(
            config.assets.len(),
            config.markets.len(),
            config.scenarios.len(),
        )
    };
    let (tx, rx) = mpsc::sync_channel::<Result<Vec<RawRecord>, InputError>>(2);

    std::thread::scope(|scope| {
        scope.spawn(move || loop {
            let batch = reader.next_batch(BATCH);
            let done = !matches!(&batch, Ok(b) if !b.is_empty());
            if tx.send(batch).is_err() || done {
                return;
            }
        });

        let mut seen: HashMap<u128, u64> = HashMap::new();
        let mut totals = empty();
        for batch in rx {
            let batch = batch?;
            if batch.is_empty() {
                break;
            }
            let parsed: Vec<Result<(AccountRow, u128), InputError>> = batch
                .par_iter()
                .map(|(line, record)| {
                    let row = layout.parse(*line, record)?;
                    let fp = identifier_fingerprint(&row.identifier);
                    Ok((row, fp))
                })
                .collect();
            let mut rows = Vec::with_capacity(parsed.len());
            for (result, (line, _)) in parsed.into_iter().zip(&batch) {
                let (row, fp) = result?;
                if let Some(first) = seen.insert(fp, *line) {
                    return Err(InputError::at(
                        ACCOUNTS_FILE,
                        *line,
                        "account",
                        format!(
                            "duplicate account `{}` (first on line {first})",
                            row.identifier
                        ),
                    ));
                }
                rows.push(row);
            }
            if seen.len() as u64 >= bounds::MAX_ACCOUNTS {
                return Err(InputError::file(
                    ACCOUNTS_FILE,
                    format!("at most {} accounts", bounds::MAX_ACCOUNTS - 1),
                ));
            }
            if let Some(table) = table {
                let part = rows
                    .par_iter()
                    .fold(empty, |mut t, row| {
                        t.add(row, &table.evaluate(row));
                        t
                    })
                    .reduce(empty, Totals::merge);
                totals = totals.merge(part);
            } else {
                totals.accounts += rows.len() as u64;
            }
        }
        Ok(totals)
    })
}
