//! Medianized oracle with a circuit breaker (SPEC §3).
//!
//! For each asset:
//! 1. a quote is *valid* iff `timestamp ≤ epoch timestamp`, `epoch timestamp − timestamp ≤
//!    max_age_secs`, and its signature verifies when the source has a key;
//! 2. the price is the lower median of the valid quotes (sorted ascending, index ⌊(n−1)/2⌋);
//! 3. a valid quote with `|q − median| · 10000 > max_deviation_bps · median` is an *outlier*:
//!    reported, and not counted toward the quorum (the median itself is not recomputed);
//! 4. if fewer than `quorum` quotes are counted (valid and not outliers), the epoch halts.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::quotes::Quote;

/// What the oracle made of one configured source's quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuoteStatus {
    /// Valid and within the deviation band: counted toward the quorum.
    Counted,
    /// Valid but too far from the median.
    Outlier,
    /// Older than `max_age_secs` before the epoch timestamp.
    Stale,
    /// Timestamped after the epoch timestamp.
    Future,
    /// The source has a key and the signature is missing or does not verify.
    BadSignature,
    /// The source sent no quote.
    Missing,
}

impl QuoteStatus {
    /// Valid quotes (counted or outlier) take part in the median.
    pub fn is_valid(self) -> bool {
        matches!(self, QuoteStatus::Counted | QuoteStatus::Outlier)
    }
}

/// One source's quote as judged by the oracle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceQuote {
    pub source: String,
    /// Price units; `None` when the source sent nothing.
    pub price: Option<u64>,
    pub timestamp: Option<u64>,
    pub status: QuoteStatus,
}

/// The oracle's verdict for one asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetOracle {
    pub symbol: String,
    pub price_decimals: u32,
    /// Lower median of the valid quotes; `None` when no quote is valid.
    pub median: Option<u64>,
    pub quorum: u32,
    /// Number of quotes with status [`QuoteStatus::Counted`].
    pub counted: u32,
    /// One entry per configured source, in config order.
    pub quotes: Vec<SourceQuote>,
}

impl AssetOracle {
    /// The circuit breaker: too few counted quotes.
    pub fn is_halted(&self) -> bool {
        self.counted < self.quorum
    }
}

/// The epoch cannot be proved: these assets missed their quorum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HaltReport {
    pub epoch: u64,
    pub timestamp: u64,
    /// The halted assets only, each with all its quotes and their statuses.
    pub halted: Vec<AssetOracle>,
}

/// Lower median (index ⌊(n−1)/2⌋ of the ascending sort); `None` for no values.
pub fn lower_median(values: &mut [u64]) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(values[(values.len() - 1) / 2])
}

/// `|price − median| · 10000 > max_deviation_bps · median`, exactly.
pub fn is_outlier(price: u64, median: u64, max_deviation_bps: u32) -> bool {
    let diff = u128::from(price.abs_diff(median));
    diff * 10_000 > u128::from(max_deviation_bps) * u128::from(median)
}

/// Validity of a quote apart from deviation.
fn validity(config: &Config, q: &Quote) -> QuoteStatus {
    let max_age = config.assets[q.asset].max_age_secs;
    if q.timestamp > config.timestamp {
        QuoteStatus::Future
    } else if config.timestamp - q.timestamp > max_age {
        QuoteStatus::Stale
    } else if !q.signature_ok(config) {
        QuoteStatus::BadSignature
    } else {
        QuoteStatus::Counted
    }
}

/// Runs the oracle for every configured asset.
pub fn evaluate(config: &Config, quotes: &[Quote]) -> Vec<AssetOracle> {
    config
        .assets
        .iter()
        .enumerate()
        .map(|(a, asset)| {
            let mut entries: Vec<SourceQuote> = asset
                .sources
                .iter()
                .map(|s| SourceQuote {
                    source: s.name.clone(),
                    price: None,
                    timestamp: None,
                    status: QuoteStatus::Missing,
                })
                .collect();
            for q in quotes.iter().filter(|q| q.asset == a) {
                entries[q.source] = SourceQuote {
                    source: asset.sources[q.source].name.clone(),
                    price: Some(q.price),
                    timestamp: Some(q.timestamp),
                    status: validity(config, q),
                };
            }
            let mut valid: Vec<u64> = entries
                .iter()
                .filter(|e| e.status.is_valid())
                .filter_map(|e| e.price)
                .collect();
            let median = lower_median(&mut valid);
            if let Some(m) = median {
                for e in entries.iter_mut().filter(|e| e.status.is_valid()) {
                    if is_outlier(e.price.unwrap_or(0), m, asset.max_deviation_bps) {
                        e.status = QuoteStatus::Outlier;
                    }
                }
            }
            let counted = entries
                .iter()
                .filter(|e| e.status == QuoteStatus::Counted)
                .count() as u32;
            AssetOracle {
                symbol: asset.symbol.clone(),
                price_decimals: asset.price_decimals,
                median,
                quorum: asset.quorum,
                counted,
                quotes: entries,
            }
        })
        .collect()
}

/// The medians if no asset halted, else the halt report.
pub fn prices_or_halt(config: &Config, oracle: &[AssetOracle]) -> Result<Vec<u64>, HaltReport> {
    let halted: Vec<AssetOracle> = oracle.iter().filter(|o| o.is_halted()).cloned().collect();
    if !halted.is_empty() {
        return Err(HaltReport {
            epoch: config.epoch,
            timestamp: config.timestamp,
            halted,
        });
    }
    // Not halted implies quorum ≥ 1 counted quote, hence a median.
    Ok(oracle
        .iter()
        .map(|o| o.median.expect("quorum met implies a median"))
        .collect())
}
