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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn config(quorum: u32, keys: bool) -> Config {
        let key = |seed: u8| {
            let sk = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
            format!(
                ", public_key = \"{}\"",
                hex::encode(sk.verifying_key().to_bytes())
            )
        };
        let (k1, k2, k3) = if keys {
            (key(1), key(2), key(3))
        } else {
            Default::default()
        };
        Config::parse(&format!(
            r#"
epoch = 1
timestamp = 1000
insurance_fund = "0"
[quote]
symbol = "USD"
decimals = 2
[[assets]]
symbol = "X"
decimals = 2
price_decimals = 2
haircut_bps = 0
quorum = {quorum}
max_deviation_bps = 100
max_age_secs = 60
sources = [{{ name = "a"{k1} }}, {{ name = "b"{k2} }}, {{ name = "c"{k3} }}]
"#
        ))
        .expect("valid")
    }

    fn quote(source: usize, price: u64, timestamp: u64) -> Quote {
        Quote {
            asset: 0,
            source,
            price,
            timestamp,
            signature: None,
            line: 0,
        }
    }

    fn statuses(o: &AssetOracle) -> Vec<QuoteStatus> {
        o.quotes.iter().map(|q| q.status).collect()
    }

    #[test]
    fn lower_median_picks_lower_middle() {
        assert_eq!(lower_median(&mut []), None);
        assert_eq!(lower_median(&mut [5]), Some(5));
        assert_eq!(lower_median(&mut [9, 1]), Some(1));
        assert_eq!(lower_median(&mut [3, 1, 2]), Some(2));
        assert_eq!(lower_median(&mut [4, 1, 3, 2]), Some(2));
    }

    #[test]
    fn age_window_is_inclusive_and_future_is_rejected() {
        let c = config(1, false);
        let o = &evaluate(
            &c,
            &[quote(0, 100, 940), quote(1, 100, 939), quote(2, 100, 1001)],
        )[0];
        assert_eq!(
            statuses(o),
            [
                QuoteStatus::Counted,
                QuoteStatus::Stale,
                QuoteStatus::Future
            ]
        );
        assert_eq!(o.median, Some(100));
    }

    #[test]
    fn stale_quote_does_not_move_the_median() {
        let c = config(2, false);
        let o = &evaluate(
            &c,
            &[quote(0, 100, 1000), quote(1, 101, 1000), quote(2, 1, 10)],
        )[0];
        assert_eq!(o.median, Some(100));
        assert!(!o.is_halted());
    }

    #[test]
    fn outlier_is_excluded_from_quorum_at_the_exact_band_edge() {
        let c = config(3, false);
        // Median 100; band 1 %: 101 is inside (|1|·10000 = 100·100), 102 is outside.
        let o = &evaluate(
            &c,
            &[quote(0, 100, 1000), quote(1, 101, 1000), quote(2, 99, 1000)],
        )[0];
        assert_eq!(o.counted, 3);
        let o = &evaluate(
            &c,
            &[quote(0, 100, 1000), quote(1, 102, 1000), quote(2, 99, 1000)],
        )[0];
        assert_eq!(
            statuses(o),
            [
                QuoteStatus::Counted,
                QuoteStatus::Outlier,
                QuoteStatus::Counted
            ]
        );
        assert!(
            o.is_halted(),
            "quorum = all sources halts on a single outlier"
        );
        let halt = prices_or_halt(
            &c,
            &evaluate(
                &c,
                &[quote(0, 100, 1000), quote(1, 102, 1000), quote(2, 99, 1000)],
            ),
        );
        assert_eq!(halt.unwrap_err().halted[0].symbol, "X");
    }

    #[test]
    fn missing_quotes_count_against_quorum() {
        let c = config(2, false);
        let o = &evaluate(&c, &[quote(0, 100, 1000)])[0];
        assert_eq!(
            statuses(o),
            [
                QuoteStatus::Counted,
                QuoteStatus::Missing,
                QuoteStatus::Missing
            ]
        );
        assert!(o.is_halted());
    }

    #[test]
    fn signatures_are_checked_when_keys_are_configured() {
        use ed25519_dalek::Signer;
        let c = config(2, true);
        let sign = |seed: u8, source: &str, price: u64, ts: u64| {
            let sk = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
            Some(
                sk.sign(&crate::quotes::quote_message("X", source, price, 2, ts))
                    .to_bytes(),
            )
        };
        let mut q0 = quote(0, 100, 1000);
        q0.signature = sign(1, "a", 100, 1000);
        let mut q1 = quote(1, 100, 1000);
        q1.signature = sign(2, "b", 101, 1000); // signed another price
        let mut q2 = quote(2, 100, 1000);
        q2.signature = sign(1, "c", 100, 1000); // signed by a's key
        let o = &evaluate(&c, &[q0.clone(), q1, q2])[0];
        assert_eq!(
            statuses(o),
            [
                QuoteStatus::Counted,
                QuoteStatus::BadSignature,
                QuoteStatus::BadSignature
            ]
        );
        assert!(o.is_halted());
        let unsigned = quote(1, 100, 1000);
        let o = &evaluate(&c, &[q0, unsigned])[0];
        assert_eq!(o.quotes[1].status, QuoteStatus::BadSignature);
    }
}
