//! An account's *holdings* — the entries it actually has, each a balance of a collateral
//! asset or a position in a market — and `holdings.csv`, the long format venues export.
//!
//! `holdings.csv` has exactly the columns `account`, `instrument`, `amount`, `cost` (any
//! order), one row per entry:
//! - an asset symbol names a balance: `amount` non-negative with the asset's decimals
//!   (`< 2^64` base units), `cost` empty;
//! - a market symbol names a position: `amount` is the signed size with the market's size
//!   decimals (`|size| < 2^63`), `cost` the signed cost basis with the quote decimals
//!   (`|cost| < 2^127`), both required;
//! - tighter where the config declares `[bounds]`.
//!
//! **Grouping:** an account's rows must be contiguous (in any order within the group, and the
//! groups in any order), so the file streams in memory bounded by one batch of accounts plus
//! 32 bytes per account for duplicate detection. An account's rows reappearing after another
//! account's is an error naming both lines, never a second account. Within an account an
//! instrument appears at most once, and an account has at most [`bounds::MAX_ENTRIES`]
//! entries. A price-only index asset cannot be held.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use crate::accounts::{parse_identifier, AccountRow};
use crate::amount;
use crate::bounds;
use crate::config::Config;
use crate::csv_input;
use crate::error::InputError;

/// The long accounts file's name in a snapshot.
pub const HOLDINGS_FILE: &str = "holdings.csv";
const F: &str = HOLDINGS_FILE;
/// The columns of `holdings.csv`.
pub const HOLDINGS_HEADER: [&str; 4] = ["account", "instrument", "amount", "cost"];

/// A balance entry: `amount < 2^64` base units of collateral asset `asset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Balance {
    /// Index into the config's assets (a collateral asset).
    pub asset: usize,
    /// Base units.
    pub amount: u64,
}

/// A position entry in market `market`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Position {
    /// Index into the config's markets.
    pub market: usize,
    /// Signed size, `|size| < 2^63` base units; long > 0.
    pub size: i64,
    /// Signed cost basis, `|cost| < 2^127` quote base units.
    pub cost: i128,
}

/// One account's entries: balances sorted by asset, positions by market, each instrument at
/// most once, at most [`bounds::MAX_ENTRIES`] in all.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Holdings {
    /// The holder's identifier (never published).
    pub identifier: String,
    /// Balance entries.
    pub balances: Vec<Balance>,
    /// Position entries.
    pub positions: Vec<Position>,
}

impl Holdings {
    /// A wide row's entries: its non-zero balances and its positions with a non-zero size or
    /// cost (the margin numbers are the same: a zero entry adds nothing).
    pub fn of_row(row: &AccountRow) -> Self {
        Holdings {
            identifier: row.identifier.clone(),
            balances: row
                .balances
                .iter()
                .enumerate()
                .filter(|(_, &b)| b != 0)
                .map(|(asset, &amount)| Balance { asset, amount })
                .collect(),
            positions: row
                .sizes
                .iter()
                .zip(&row.costs)
                .enumerate()
                .filter(|(_, (&s, &c))| s != 0 || c != 0)
                .map(|(market, (&size, &cost))| Position { market, size, cost })
                .collect(),
        }
    }

    /// The wide row of `assets` balances and `markets` positions (absent entries are zero).
    pub fn to_row(&self, assets: usize, markets: usize) -> AccountRow {
        let mut row = AccountRow {
            identifier: self.identifier.clone(),
            balances: vec![0; assets],
            sizes: vec![0; markets],
            costs: vec![0; markets],
        };
        for b in &self.balances {
            row.balances[b.asset] = b.amount;
        }
        for p in &self.positions {
            row.sizes[p.market] = p.size;
            row.costs[p.market] = p.cost;
        }
        row
    }

    /// Number of entries (balances plus positions).
    pub fn entries(&self) -> usize {
        self.balances.len() + self.positions.len()
    }
}

/// What a symbol of `instrument` names.
#[derive(Debug, Clone, Copy)]
enum Instrument {
    Asset(usize),
    Market(usize),
    Index,
}

/// The column positions of `holdings.csv` and the config's symbols and decimals.
#[derive(Debug, Clone)]
pub struct HoldingsLayout {
    /// Index of `account`, `instrument`, `amount`, `cost` in a record.
    at: [usize; 4],
    symbols: std::collections::HashMap<Vec<u8>, Instrument>,
    balance_decimals: Vec<u32>,
    size_decimals: Vec<u32>,
    quote_decimals: u32,
    widths: bounds::Widths,
}

impl HoldingsLayout {
    fn from_header(config: &Config, header: &[String]) -> Result<Self, InputError> {
        let mut at = [0; 4];
        for (slot, name) in at.iter_mut().zip(HOLDINGS_HEADER) {
            *slot = header
                .iter()
                .position(|h| h == name)
                .ok_or_else(|| InputError::at(F, 1, name, "missing column"))?;
        }
        if let Some(extra) = header
            .iter()
            .find(|h| !HOLDINGS_HEADER.contains(&h.as_str()))
        {
            return Err(InputError::at(
                F,
                1,
                extra.as_str(),
                "unknown column: holdings.csv has exactly account, instrument, amount, cost",
            ));
        }
        let mut symbols = std::collections::HashMap::new();
        for (a, asset) in config.assets.iter().enumerate() {
            let kind = if asset.collateral {
                Instrument::Asset(a)
            } else {
                Instrument::Index
            };
            symbols.insert(asset.symbol.as_bytes().to_vec(), kind);
        }
        for (m, market) in config.markets.iter().enumerate() {
            symbols.insert(market.symbol.as_bytes().to_vec(), Instrument::Market(m));
        }
        Ok(Self {
            at,
            symbols,
            balance_decimals: config.assets.iter().map(|a| a.decimals).collect(),
            size_decimals: config.markets.iter().map(|m| m.size_decimals).collect(),
            quote_decimals: config.quote.decimals,
            widths: config.bounds,
        })
    }

    /// The layout of records in [`HOLDINGS_HEADER`] order under `config`.
    pub fn standard(config: &Config) -> Self {
        let header = HOLDINGS_HEADER.map(String::from);
        Self::from_header(config, &header).expect("the standard header is valid")
    }

    /// Parses one account's rows (a group from [`HoldingsReader::next_batch`]).
    pub fn parse(&self, group: &[(u64, csv::ByteRecord)]) -> Result<Holdings, InputError> {
        self.parse_in(F, group)
    }

    /// [`HoldingsLayout::parse`], errors naming `file` (records from elsewhere than
    /// `holdings.csv`, such as an inclusion file's entries).
    pub fn parse_in(
        &self,
        file: &str,
        group: &[(u64, csv::ByteRecord)],
    ) -> Result<Holdings, InputError> {
        let [account, instrument, amount, cost] = self.at;
        let (first_line, first) = &group[0];
        let identifier = parse_identifier(&first[account])
            .map_err(|r| InputError::at(file, *first_line, "account", r))?;
        let mut holdings = Holdings {
            identifier,
            balances: Vec::new(),
            positions: Vec::new(),
        };
        // (instrument index over assets then markets, line) of every entry, for duplicates.
        let mut seen: Vec<(usize, u64)> = Vec::with_capacity(group.len());
        for (line, record) in group {
            let line = *line;
            let err = |field: &str, reason: String| InputError::at(file, line, field, reason);
            let symbol = &record[instrument];
            let kind = self.symbols.get(symbol).copied().ok_or_else(|| {
                err(
                    "instrument",
                    format!("unknown symbol `{}`", String::from_utf8_lossy(symbol)),
                )
            })?;
            let key = match kind {
                Instrument::Index => {
                    return Err(err(
                        "instrument",
                        format!(
                            "`{}` is a price-only index: no account holds it",
                            String::from_utf8_lossy(symbol)
                        ),
                    ))
                }
                Instrument::Asset(a) => a,
                Instrument::Market(m) => self.balance_decimals.len() + m,
            };
            if let Some(&(_, before)) = seen.iter().find(|(k, _)| *k == key) {
                return Err(err(
                    "instrument",
                    format!(
                        "`{}` twice for account `{}` (first on line {before})",
                        String::from_utf8_lossy(symbol),
                        holdings.identifier
                    ),
                ));
            }
            seen.push((key, line));
            match kind {
                Instrument::Asset(a) => {
                    if !record[cost].is_empty() {
                        return Err(err(
                            "cost",
                            "a balance has no cost basis: leave it empty".into(),
                        ));
                    }
                    let v = amount::parse_unsigned(
                        &record[amount],
                        self.balance_decimals[a],
                        self.widths.balance_limit(),
                    )
                    .map_err(|e| err("amount", e.to_string()))?;
                    holdings.balances.push(Balance {
                        asset: a,
                        amount: v as u64,
                    });
                }
                Instrument::Market(m) => {
                    let size = amount::parse_signed(
                        &record[amount],
                        self.size_decimals[m],
                        self.widths.size_limit(),
                    )
                    .map_err(|e| err("amount", e.to_string()))?;
                    let c = amount::parse_signed(
                        &record[cost],
                        self.quote_decimals,
                        self.widths.cost_limit(),
                    )
                    .map_err(|e| err("cost", e.to_string()))?;
                    holdings.positions.push(Position {
                        market: m,
                        size: size as i64,
                        cost: c,
                    });
                }
                Instrument::Index => unreachable!("refused above"),
            }
        }
        holdings.balances.sort_unstable_by_key(|b| b.asset);
        holdings.positions.sort_unstable_by_key(|p| p.market);
        Ok(holdings)
    }
}

/// One account's raw rows, with their 1-based line numbers.
pub type RawGroup = Vec<(u64, csv::ByteRecord)>;

/// Streams `holdings.csv` in batches of whole accounts; parsing is left to the caller so it
/// can run in parallel ([`HoldingsLayout::parse`]).
pub struct HoldingsReader {
    reader: csv::Reader<BufReader<File>>,
    layout: HoldingsLayout,
    /// The first row of the next group, read ahead.
    pending: Option<(u64, csv::ByteRecord)>,
}

impl HoldingsReader {
    /// Opens the file and validates its header.
    pub fn open(path: &Path, config: &Config) -> Result<Self, InputError> {
        let mut reader = csv_input::open(path, F)?;
        let header = csv_input::header(&mut reader, F)?;
        let layout = HoldingsLayout::from_header(config, &header)?;
        Ok(Self {
            reader,
            layout,
            pending: None,
        })
    }

    /// The column layout read from the header.
    pub fn layout(&self) -> &HoldingsLayout {
        &self.layout
    }

    fn read(&mut self) -> Result<Option<(u64, csv::ByteRecord)>, InputError> {
        let mut record = csv::ByteRecord::new();
        if !self
            .reader
            .read_byte_record(&mut record)
            .map_err(|e| csv_input::error(F, e))?
        {
            return Ok(None);
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        Ok(Some((line, record)))
    }

    /// Reads up to `max` whole accounts; an empty batch means end of file. A group longer
    /// than [`bounds::MAX_ENTRIES`] rows is refused at its first extra row.
    pub fn next_batch(&mut self, max: usize) -> Result<Vec<RawGroup>, InputError> {
        let account = self.layout.at[0];
        let mut batch: Vec<RawGroup> = Vec::with_capacity(max);
        let mut next = match self.pending.take() {
            Some(r) => Some(r),
            None => self.read()?,
        };
        while let Some(first) = next.take() {
            if batch.len() == max {
                self.pending = Some(first);
                break;
            }
            let mut group = vec![first];
            loop {
                match self.read()? {
                    None => break,
                    Some(r) if r.1[account] == group[0].1[account] => {
                        if group.len() == bounds::MAX_ENTRIES {
                            return Err(InputError::at(
                                F,
                                r.0,
                                "account",
                                format!(
                                    "account `{}` has more than {} entries (the largest account class)",
                                    String::from_utf8_lossy(&r.1[account]),
                                    bounds::MAX_ENTRIES
                                ),
                            ));
                        }
                        group.push(r);
                    }
                    Some(r) => {
                        next = Some(r);
                        break;
                    }
                }
            }
            batch.push(group);
        }
        Ok(batch)
    }
}

/// The error for an account whose rows reappear after another account's.
pub fn regrouped_account(line: u64, identifier: &str, first: u64) -> InputError {
    InputError::at(
        F,
        line,
        "account",
        format!(
            "account `{identifier}` again (its rows began on line {first}): an account's rows \
             must be contiguous"
        ),
    )
}
