//! `quotes.csv`: one row per (asset, source) with columns `asset,source,price,timestamp` and an
//! optional `signature` column (hex Ed25519 signature over [`quote_message`]).
//!
//! The file is small (assets × sources rows) and read whole.

use std::collections::HashSet;

use ed25519_dalek::{Signature, Verifier, VerifyingKey};

use crate::amount;
use crate::bounds;
use crate::config::Config;
use crate::csv_input;
use crate::error::InputError;

/// The quotes file's name in a snapshot.
pub const QUOTES_FILE: &str = "quotes.csv";

/// One oracle quote, resolved against the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// Index into the config's assets.
    pub asset: usize,
    /// Index into that asset's sources.
    pub source: usize,
    /// Price units: `10^-price_decimals` quote per whole asset; `0 < price < 2^64`.
    pub price: u64,
    /// Unix seconds, `< 2^63`.
    pub timestamp: u64,
    /// Ed25519 signature, if the row carries one (checked when the source has a key).
    pub signature: Option<[u8; 64]>,
    /// Line in `quotes.csv`, for reports.
    pub line: u64,
}

/// The bytes a source signs: a domain tag, the asset and source names, the price in price
/// units with its decimals, and the timestamp. Fixed-width big-endian integers; names are
/// NUL-terminated (they cannot contain NUL).
pub fn quote_message(
    asset: &str,
    source: &str,
    price: u64,
    price_decimals: u32,
    timestamp: u64,
) -> Vec<u8> {
    let mut m = Vec::with_capacity(64);
    m.extend_from_slice(b"zkmargin/quote/v1\0");
    m.extend_from_slice(asset.as_bytes());
    m.push(0);
    m.extend_from_slice(source.as_bytes());
    m.push(0);
    m.extend_from_slice(&price.to_be_bytes());
    m.extend_from_slice(&price_decimals.to_be_bytes());
    m.extend_from_slice(&timestamp.to_be_bytes());
    m
}

impl Quote {
    /// True when the configured key for this quote's source accepts its signature.
    /// Sources without a key accept any quote.
    pub fn signature_ok(&self, config: &Config) -> bool {
        let asset = &config.assets[self.asset];
        let source = &asset.sources[self.source];
        let Some(key) = source.public_key else {
            return true;
        };
        let Some(sig) = self.signature else {
            return false;
        };
        let Ok(key) = VerifyingKey::from_bytes(&key) else {
            return false;
        };
        let msg = quote_message(
            &asset.symbol,
            &source.name,
            self.price,
            asset.price_decimals,
            self.timestamp,
        );
        key.verify(&msg, &Signature::from_bytes(&sig)).is_ok()
    }
}

/// Parses and validates the bytes of `quotes.csv`. Unknown assets or sources and duplicate
/// (asset, source) pairs are rejected.
pub fn parse_quotes(bytes: &[u8], config: &Config) -> Result<Vec<Quote>, InputError> {
    const F: &str = QUOTES_FILE;
    let mut reader = csv_input::strict(bytes);
    let header = csv_input::header(&mut reader, F)?;
    let column = |name: &str| header.iter().position(|h| h == name);
    for h in &header {
        if !["asset", "source", "price", "timestamp", "signature"].contains(&h.as_str()) {
            return Err(InputError::at(
                F,
                1,
                h.as_str(),
                "unknown column (expected asset, source, price, timestamp[, signature])",
            ));
        }
    }
    let required =
        |name: &str| column(name).ok_or_else(|| InputError::at(F, 1, name, "missing column"));
    let (c_asset, c_source, c_price, c_ts) = (
        required("asset")?,
        required("source")?,
        required("price")?,
        required("timestamp")?,
    );
    let c_sig = column("signature");

    let mut seen = HashSet::new();
    let mut quotes = Vec::new();
    let mut record = csv::ByteRecord::new();
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| csv_input::error(F, e))?
    {
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let text = |c: usize, name: &str| {
            std::str::from_utf8(&record[c])
                .map_err(|_| InputError::at(F, line, name, "not valid UTF-8"))
        };
        let symbol = text(c_asset, "asset")?;
        let asset = config
            .asset_index(symbol)
            .ok_or_else(|| InputError::at(F, line, "asset", format!("unknown asset `{symbol}`")))?;
        let a = &config.assets[asset];
        let source_name = text(c_source, "source")?;
        let source = a
            .sources
            .iter()
            .position(|s| s.name == source_name)
            .ok_or_else(|| {
                InputError::at(
                    F,
                    line,
                    "source",
                    format!("unknown source `{source_name}` for asset {symbol}"),
                )
            })?;
        if !seen.insert((asset, source)) {
            return Err(InputError::at(
                F,
                line,
                "source",
                format!("duplicate quote for {symbol} from {source_name}"),
            ));
        }
        let price = amount::parse_unsigned(
            &record[c_price],
            a.price_decimals,
            config.bounds.price_limit(),
        )
        .map_err(|e| InputError::at(F, line, "price", e.to_string()))?;
        if price == 0 {
            return Err(InputError::at(F, line, "price", "price must be positive"));
        }
        let timestamp = amount::parse_integer(&record[c_ts], bounds::TIMESTAMP_LIMIT)
            .map_err(|e| InputError::at(F, line, "timestamp", e.to_string()))?;
        let signature = match c_sig.map(|c| &record[c]) {
            None | Some(b"") => None,
            Some(hex_sig) => {
                let bytes = hex::decode(hex_sig)
                    .map_err(|e| InputError::at(F, line, "signature", format!("not hex: {e}")))?;
                let sig: [u8; 64] = bytes.try_into().map_err(|b: Vec<u8>| {
                    InputError::at(
                        F,
                        line,
                        "signature",
                        format!("an Ed25519 signature is 64 bytes, found {}", b.len()),
                    )
                })?;
                Some(sig)
            }
        };
        quotes.push(Quote {
            asset,
            source,
            price: price as u64,
            timestamp: timestamp as u64,
            signature,
            line,
        });
    }
    Ok(quotes)
}
