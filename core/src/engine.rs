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
    duplicate_account, identifier_fingerprint, AccountReader, AccountRow, RawRecord, ACCOUNTS_FILE,
};
use crate::bounds;
use crate::config::{Config, CONFIG_FILE};
use crate::digest::Digest;
use crate::error::InputError;
use crate::fine::FineScale;
use crate::margin::MarkTable;
use crate::oracle::{self, HaltReport};
use crate::quotes::{parse_quotes, Quote, QUOTES_FILE};
use crate::statement::Statement;
use crate::totals::Totals;

/// Records per batch handed from the reader thread to the workers.
const BATCH: usize = 32 * 1024;

/// A snapshot directory with its config and quotes loaded; accounts stay on disk.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The snapshot directory.
    pub dir: PathBuf,
    /// `config.toml`, parsed.
    pub config: Config,
    /// `quotes.csv`, parsed and resolved against the config.
    pub quotes: Vec<Quote>,
    /// `config.toml` as read (bundles carry it verbatim).
    pub config_text: String,
    /// `quotes.csv` as read.
    pub quotes_csv: Vec<u8>,
}

impl Snapshot {
    /// Loads and validates `config.toml` and `quotes.csv` from `dir`, each read once.
    pub fn load(dir: &Path) -> Result<Snapshot, InputError> {
        let read = |file: &str| {
            let path = dir.join(file);
            std::fs::read(&path)
                .map_err(|e| InputError::file(file, format!("cannot read {}: {e}", path.display())))
        };
        let config_text = String::from_utf8(read(CONFIG_FILE)?).map_err(|e| {
            let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            InputError::at(CONFIG_FILE, line, "config", "not valid UTF-8")
        })?;
        let config = Config::parse(&config_text)?;
        let quotes_csv = read(QUOTES_FILE)?;
        let quotes = parse_quotes(&quotes_csv, &config)?;
        Ok(Snapshot {
            dir: dir.to_path_buf(),
            config,
            quotes,
            config_text,
            quotes_csv,
        })
    }

    /// `accounts.csv` in the snapshot (streamed, never loaded whole).
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
    /// The public statement.
    pub statement: Statement,
    /// Private: the exact number of accounts (not part of the statement).
    pub accounts: u64,
    /// The fine unit and weights the statement is in.
    pub scale: FineScale,
    /// Median price per asset, price units.
    pub prices: Vec<u64>,
}

/// Evaluates a snapshot, streaming `accounts.csv`. The accounts file is validated in full even
/// when the oracle halts, so malformed input is always reported (exit 2) before a halt (exit 3).
pub fn evaluate(snapshot: &Snapshot, prev_digest: Digest) -> Result<Outcome, InputError> {
    evaluate_with(snapshot, prev_digest, |table| {
        stream_accounts(snapshot, table)
    })
}

/// Evaluates a snapshot whose accounts are already parsed and validated (by
/// [`crate::accounts::read_all`]), for callers that need the rows anyway: no second parse.
pub fn evaluate_rows(
    snapshot: &Snapshot,
    rows: &[AccountRow],
    prev_digest: Digest,
) -> Result<Outcome, InputError> {
    evaluate_with(snapshot, prev_digest, |table| {
        Ok(sum_rows(&snapshot.config, rows, table))
    })
}

/// The oracle, then `totals` over the accounts (with prices folded in, unless halted), then
/// the statement.
fn evaluate_with(
    snapshot: &Snapshot,
    prev_digest: Digest,
    totals: impl FnOnce(Option<&MarkTable>) -> Result<Totals, InputError>,
) -> Result<Outcome, InputError> {
    let config = &snapshot.config;
    let scale = config
        .fine_scale()
        .map_err(|e| InputError::at(CONFIG_FILE, 1, e.field, e.reason))?;
    let oracle = oracle::evaluate(config, &snapshot.quotes);
    let prices = oracle::prices_or_halt(config, &oracle);
    let underlying: Vec<usize> = config.markets.iter().map(|m| m.underlying).collect();
    let table = prices
        .as_ref()
        .ok()
        .map(|p| MarkTable::new(&scale, &underlying, p));
    let totals = totals(table.as_ref())?;
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

fn empty_totals(config: &Config) -> Totals {
    Totals::new(
        config.assets.len(),
        config.markets.len(),
        config.scenarios.len(),
    )
}

/// Totals of `rows` in parallel; without prices (a halt) only the count.
fn sum_rows(config: &Config, rows: &[AccountRow], table: Option<&MarkTable>) -> Totals {
    let Some(table) = table else {
        let mut totals = empty_totals(config);
        totals.accounts = rows.len() as u64;
        return totals;
    };
    let empty = || empty_totals(config);
    rows.par_iter()
        .fold(empty, |mut t, row| {
            t.add(row, &table.evaluate(row));
            t
        })
        .reduce(empty, Totals::merge)
}

/// Streams, validates and (when prices exist) evaluates every account.
fn stream_accounts(snapshot: &Snapshot, table: Option<&MarkTable>) -> Result<Totals, InputError> {
    let config = &snapshot.config;
    let mut reader = AccountReader::open(&snapshot.accounts_path(), config)?;
    let layout = reader.layout().clone();
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
        let mut totals = empty_totals(config);
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
                    return Err(duplicate_account(*line, &row.identifier, first));
                }
                rows.push(row);
            }
            if seen.len() as u64 >= bounds::MAX_ACCOUNTS {
                return Err(InputError::file(
                    ACCOUNTS_FILE,
                    format!("at most {} accounts", bounds::MAX_ACCOUNTS - 1),
                ));
            }
            totals = totals.merge(sum_rows(config, &rows, table));
        }
        Ok(totals)
    })
}
