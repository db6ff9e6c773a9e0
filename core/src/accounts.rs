//! `accounts.csv`, streamed in batches: one row per account with columns
//! `account` (identifier), one balance column per asset named by its symbol, and
//! `<MARKET>.size` / `<MARKET>.cost` per market. Columns may come in any order; every
//! configured column is required and no other is allowed.
//!
//! Balances are non-negative with the asset's decimals (`< 2^64` base units); sizes are signed
//! with the market's size decimals (`|size| < 2^63`); costs are signed with the quote decimals
//! (`|cost| < 2^127`); tighter where the config declares `[bounds]`. Identifiers are 1..=128 bytes of UTF-8 without control characters or
//! surrounding whitespace.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use sha3::{Digest, Keccak256};

use crate::amount;
use crate::bounds;
use crate::config::Config;
use crate::csv_input;
use crate::error::InputError;

/// The accounts file's name in a snapshot.
pub const ACCOUNTS_FILE: &str = "accounts.csv";
const F: &str = ACCOUNTS_FILE;

/// One account's balances and positions in base units, index-aligned with the config.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccountRow {
    /// The holder's identifier as in `accounts.csv` (never published: only `H(identifier ‖ salt)` is).
    pub identifier: String,
    /// Per asset, `< 2^64` base units.
    pub balances: Vec<u64>,
    /// Per market, signed, `|size| < 2^63`; long > 0.
    pub sizes: Vec<i64>,
    /// Per market, signed cost basis in quote base units, `|cost| < 2^127`.
    pub costs: Vec<i128>,
}

/// A 128-bit fingerprint of an identifier, used to detect duplicate accounts in bounded memory.
pub fn identifier_fingerprint(identifier: &str) -> u128 {
    let h = Keccak256::digest(identifier.as_bytes());
    u128::from_be_bytes(h[..16].try_into().expect("16 bytes"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Identifier,
    Balance(usize),
    Size(usize),
    Cost(usize),
}

/// How the columns of this file map onto the config.
#[derive(Debug, Clone)]
pub struct AccountLayout {
    columns: Vec<Column>,
    names: Vec<String>,
    balance_decimals: Vec<u32>,
    size_decimals: Vec<u32>,
    quote_decimals: u32,
    widths: bounds::Widths,
}

impl AccountLayout {
    /// The canonical header for a config: `account`, assets, then `size`/`cost` per market.
    pub fn canonical_header(config: &Config) -> Vec<String> {
        let mut h = vec!["account".to_string()];
        h.extend(
            config
                .assets
                .iter()
                .filter(|a| a.collateral)
                .map(|a| a.symbol.clone()),
        );
        for m in &config.markets {
            h.push(format!("{}.size", m.symbol));
            h.push(format!("{}.cost", m.symbol));
        }
        h
    }

    fn from_header(config: &Config, header: &[String]) -> Result<Self, InputError> {
        let mut columns = Vec::with_capacity(header.len());
        for name in header {
            let column = if name == "account" {
                Column::Identifier
            } else if let Some(a) = config.asset_index(name) {
                if !config.assets[a].collateral {
                    return Err(InputError::at(
                        F,
                        1,
                        name.as_str(),
                        format!("`{name}` is a price-only index: no account holds it"),
                    ));
                }
                Column::Balance(a)
            } else if let Some((market, kind)) = name.rsplit_once('.') {
                let m = config
                    .markets
                    .iter()
                    .position(|m| m.symbol == market)
                    .ok_or_else(|| {
                        InputError::at(F, 1, name.as_str(), format!("unknown market `{market}`"))
                    })?;
                match kind {
                    "size" => Column::Size(m),
                    "cost" => Column::Cost(m),
                    _ => {
                        return Err(InputError::at(
                            F,
                            1,
                            name.as_str(),
                            "market columns end in `.size` or `.cost`",
                        ))
                    }
                }
            } else {
                return Err(InputError::at(
                    F,
                    1,
                    name.as_str(),
                    format!("unknown asset `{name}`"),
                ));
            };
            columns.push(column);
        }
        for expected in Self::canonical_header(config) {
            if !header.contains(&expected) {
                return Err(InputError::at(F, 1, expected, "missing column"));
            }
        }
        Ok(Self {
            columns,
            names: header.to_vec(),
            balance_decimals: config.assets.iter().map(|a| a.decimals).collect(),
            size_decimals: config.markets.iter().map(|m| m.size_decimals).collect(),
            quote_decimals: config.quote.decimals,
            widths: config.bounds,
        })
    }

    /// Parses one record (at 1-based `line`) into an [`AccountRow`].
    pub fn parse(&self, line: u64, record: &csv::ByteRecord) -> Result<AccountRow, InputError> {
        let mut row = AccountRow {
            identifier: String::new(),
            balances: vec![0; self.balance_decimals.len()],
            sizes: vec![0; self.size_decimals.len()],
            costs: vec![0; self.size_decimals.len()],
        };
        for (c, (column, raw)) in self.columns.iter().zip(record.iter()).enumerate() {
            let err = |reason: String| InputError::at(F, line, self.names[c].as_str(), reason);
            match *column {
                Column::Identifier => row.identifier = parse_identifier(raw).map_err(err)?,
                Column::Balance(a) => {
                    row.balances[a] = amount::parse_unsigned(
                        raw,
                        self.balance_decimals[a],
                        self.widths.balance_limit(),
                    )
                    .map_err(|e| err(e.to_string()))? as u64
                }
                Column::Size(m) => {
                    row.sizes[m] =
                        amount::parse_signed(raw, self.size_decimals[m], self.widths.size_limit())
                            .map_err(|e| err(e.to_string()))? as i64
                }
                Column::Cost(m) => {
                    row.costs[m] =
                        amount::parse_signed(raw, self.quote_decimals, self.widths.cost_limit())
                            .map_err(|e| err(e.to_string()))?
                }
            }
        }
        Ok(row)
    }
}

pub(crate) fn parse_identifier(raw: &[u8]) -> Result<String, String> {
    let s = std::str::from_utf8(raw).map_err(|_| "not valid UTF-8".to_string())?;
    if s.is_empty() {
        return Err("empty account identifier".into());
    }
    if s.len() > bounds::MAX_IDENTIFIER_LEN {
        return Err(format!(
            "identifier is {} bytes; at most {}",
            s.len(),
            bounds::MAX_IDENTIFIER_LEN
        ));
    }
    if s.chars().any(char::is_control) || s.trim() != s {
        return Err("identifier has control characters or surrounding whitespace".into());
    }
    Ok(s.to_string())
}

/// A raw record with its 1-based line number, not yet parsed.
pub type RawRecord = (u64, csv::ByteRecord);

/// Streams `accounts.csv` in batches of raw records; parsing is left to the caller so it can
/// run in parallel ([`AccountLayout::parse`]).
pub struct AccountReader {
    reader: csv::Reader<BufReader<File>>,
    layout: AccountLayout,
}

impl AccountReader {
    /// Opens the file and validates its header against the config.
    pub fn open(path: &Path, config: &Config) -> Result<Self, InputError> {
        let mut reader = csv_input::open(path, F)?;
        let header = csv_input::header(&mut reader, F)?;
        let layout = AccountLayout::from_header(config, &header)?;
        Ok(Self { reader, layout })
    }

    /// The column layout read from the header.
    pub fn layout(&self) -> &AccountLayout {
        &self.layout
    }

    /// Reads up to `max` records; an empty batch means end of file.
    pub fn next_batch(&mut self, max: usize) -> Result<Vec<RawRecord>, InputError> {
        let mut batch = Vec::with_capacity(max);
        let mut record = csv::ByteRecord::new();
        while batch.len() < max {
            if !self
                .reader
                .read_byte_record(&mut record)
                .map_err(|e| csv_input::error(F, e))?
            {
                break;
            }
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            batch.push((line, record.clone()));
        }
        Ok(batch)
    }
}

/// The error for an identifier seen before on line `first`.
pub fn duplicate_account(line: u64, identifier: &str, first: u64) -> InputError {
    InputError::at(
        F,
        line,
        "account",
        format!("duplicate account `{identifier}` (first on line {first})"),
    )
}

/// Reads a whole wide accounts file into memory, rejecting duplicates, for callers that need
/// every row (tests); `engine::Snapshot::read_rows` reads either format.
pub fn read_all(path: &Path, config: &Config) -> Result<Vec<AccountRow>, InputError> {
    let mut reader = AccountReader::open(path, config)?;
    let mut seen = std::collections::HashMap::new();
    let mut rows = Vec::new();
    loop {
        let batch = reader.next_batch(4096)?;
        if batch.is_empty() {
            return Ok(rows);
        }
        for (line, record) in batch {
            let row = reader.layout().parse(line, &record)?;
            if let Some(first) = seen.insert(identifier_fingerprint(&row.identifier), line) {
                return Err(duplicate_account(line, &row.identifier, first));
            }
            rows.push(row);
        }
    }
}
