//! The reference engine: a snapshot directory in, the epoch's statement (or a halt report) out.
//!
//! The accounts file — wide `accounts.csv` or long `holdings.csv`, exactly one of them — is
//! streamed: a reader thread hands batches of raw records (of whole accounts) to the caller's
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
use crate::holdings::{regrouped_account, Holdings, HoldingsReader, RawGroup, HOLDINGS_FILE};
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

    /// The snapshot's accounts file and its format: `accounts.csv` (wide) or `holdings.csv`
    /// (long), exactly one of them.
    pub fn accounts_file(&self) -> Result<(AccountsFormat, PathBuf), InputError> {
        let wide = self.dir.join(ACCOUNTS_FILE);
        let long = self.dir.join(HOLDINGS_FILE);
        match (wide.exists(), long.exists()) {
            (true, false) => Ok((AccountsFormat::Wide, wide)),
            (false, true) => Ok((AccountsFormat::Long, long)),
            (true, true) => Err(InputError::file(
                HOLDINGS_FILE,
                format!("the snapshot has both {ACCOUNTS_FILE} and {HOLDINGS_FILE}; keep one"),
            )),
            // Reported as the wide file, which is the one the first release required.
            (false, false) => Ok((AccountsFormat::Wide, wide)),
        }
    }

    /// Every account of either format as its entries (the slot table's input), rejecting
    /// duplicates: memory follows the entries held, not the instruments listed.
    pub fn read_holdings(&self) -> Result<Vec<Holdings>, InputError> {
        let mut all = Vec::new();
        for_each_batch(self, |batch| {
            all.extend(batch);
            Ok(())
        })?;
        Ok(all)
    }

    /// Every account of either format as a wide row (the dense account table's input),
    /// rejecting duplicates.
    pub fn read_rows(&self) -> Result<Vec<AccountRow>, InputError> {
        let (assets, markets) = (self.config.assets.len(), self.config.markets.len());
        let mut rows = Vec::new();
        for_each_batch(self, |batch| {
            rows.extend(batch.into_iter().map(|h| h.to_row(assets, markets)));
            Ok(())
        })?;
        Ok(rows)
    }
}

/// The layout of a snapshot's accounts file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountsFormat {
    /// `accounts.csv`: one row per account, a column per asset and two per market.
    Wide,
    /// `holdings.csv`: one row per entry, an account's rows contiguous.
    Long,
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
        let holdings: Vec<Holdings> = rows.par_iter().map(Holdings::of_row).collect();
        Ok(sum_holdings(&snapshot.config, &holdings, table))
    })
}

/// Evaluates a snapshot whose accounts are already read as entries (by
/// [`Snapshot::read_holdings`]): no second parse.
pub fn evaluate_holdings(
    snapshot: &Snapshot,
    holdings: &[Holdings],
    prev_digest: Digest,
) -> Result<Outcome, InputError> {
    evaluate_with(snapshot, prev_digest, |table| {
        Ok(sum_holdings(&snapshot.config, holdings, table))
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

/// Totals of `holdings` in parallel; without prices (a halt) only the count.
fn sum_holdings(config: &Config, holdings: &[Holdings], table: Option<&MarkTable>) -> Totals {
    let Some(table) = table else {
        let mut totals = empty_totals(config);
        totals.accounts = holdings.len() as u64;
        return totals;
    };
    let empty = || empty_totals(config);
    holdings
        .par_iter()
        .fold(empty, |mut t, h| {
            t.add(h, &table.evaluate_holdings(h));
            t
        })
        .reduce(empty, Totals::merge)
}

/// Streams, validates and (when prices exist) evaluates every account.
fn stream_accounts(snapshot: &Snapshot, table: Option<&MarkTable>) -> Result<Totals, InputError> {
    let config = &snapshot.config;
    let mut totals = empty_totals(config);
    for_each_batch(snapshot, |batch| {
        totals = std::mem::replace(&mut totals, empty_totals(config))
            .merge(sum_holdings(config, &batch, table));
        Ok(())
    })?;
    Ok(totals)
}

/// A batch of raw input: whole accounts of either format.
enum RawBatch {
    Wide(Vec<RawRecord>),
    Long(Vec<RawGroup>),
}

impl RawBatch {
    fn is_empty(&self) -> bool {
        match self {
            RawBatch::Wide(b) => b.is_empty(),
            RawBatch::Long(b) => b.is_empty(),
        }
    }
}

/// Streams the snapshot's accounts file (either format) and hands `each` every batch of
/// parsed accounts, in file order, after rejecting duplicates (a long file's regrouped
/// account included) and more than [`bounds::MAX_ACCOUNTS`] accounts.
fn for_each_batch(
    snapshot: &Snapshot,
    mut each: impl FnMut(Vec<Holdings>) -> Result<(), InputError>,
) -> Result<(), InputError> {
    let config = &snapshot.config;
    let (format, path) = snapshot.accounts_file()?;
    let (tx, rx) = mpsc::sync_channel::<Result<RawBatch, InputError>>(2);
    let mut wide = None;
    let mut long = None;
    let file = match format {
        AccountsFormat::Wide => {
            wide = Some(AccountReader::open(&path, config)?);
            ACCOUNTS_FILE
        }
        AccountsFormat::Long => {
            long = Some(HoldingsReader::open(&path, config)?);
            HOLDINGS_FILE
        }
    };
    let wide_layout = wide.as_ref().map(|r| r.layout().clone());
    let long_layout = long.as_ref().map(|r| r.layout().clone());

    std::thread::scope(|scope| {
        scope.spawn(move || loop {
            let batch = match (&mut wide, &mut long) {
                (Some(r), _) => r.next_batch(BATCH).map(RawBatch::Wide),
                (_, Some(r)) => r.next_batch(BATCH / 4).map(RawBatch::Long),
                _ => unreachable!("one reader is open"),
            };
            let done = !matches!(&batch, Ok(b) if !b.is_empty());
            if tx.send(batch).is_err() || done {
                return;
            }
        });

        let mut seen: HashMap<u128, u64> = HashMap::new();
        for batch in rx {
            let batch = batch?;
            if batch.is_empty() {
                break;
            }
            let parsed: Vec<(u64, Result<Holdings, InputError>)> = match &batch {
                RawBatch::Wide(records) => {
                    let layout = wide_layout.as_ref().expect("wide layout");
                    records
                        .par_iter()
                        .map(|(line, record)| {
                            (
                                *line,
                                layout.parse(*line, record).map(|r| Holdings::of_row(&r)),
                            )
                        })
                        .collect()
                }
                RawBatch::Long(groups) => {
                    let layout = long_layout.as_ref().expect("long layout");
                    groups
                        .par_iter()
                        .map(|g| (g[0].0, layout.parse(g)))
                        .collect()
                }
            };
            let mut accounts = Vec::with_capacity(parsed.len());
            for (line, result) in parsed {
                let holdings = result?;
                let fp = identifier_fingerprint(&holdings.identifier);
                if let Some(first) = seen.insert(fp, line) {
                    return Err(match format {
                        AccountsFormat::Wide => {
                            duplicate_account(line, &holdings.identifier, first)
                        }
                        AccountsFormat::Long => {
                            regrouped_account(line, &holdings.identifier, first)
                        }
                    });
                }
                accounts.push(holdings);
            }
            if seen.len() as u64 >= bounds::MAX_ACCOUNTS {
                return Err(InputError::file(
                    file,
                    format!("at most {} accounts", bounds::MAX_ACCOUNTS - 1),
                ));
            }
            each(accounts)?;
        }
        Ok(())
    })
}
