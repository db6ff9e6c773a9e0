//! Medianized oracle with a circuit breaker (docs/semantics.md).
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
    /// The source's name.
    pub source: String,
    /// Price units; `None` when the source sent nothing.
    pub price: Option<u64>,
    /// Unix seconds; `None` when the source sent nothing.
    pub timestamp: Option<u64>,
    /// The oracle's verdict on the quote.
    pub status: QuoteStatus,
}

/// The oracle's verdict for one asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetOracle {
    /// The asset's symbol.
    pub symbol: String,
    /// Its price decimals.
    pub price_decimals: u32,
    /// Lower median of the valid quotes; `None` when no quote is valid.
    pub median: Option<u64>,
    /// The quotes needed (`Counted`) for the epoch to proceed.
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
    /// The halted epoch.
    pub epoch: u64,
    /// Its timestamp (unix seconds).
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
    diff * u128::from(crate::bounds::BPS) > u128::from(max_deviation_bps) * u128::from(median)
}

/// What a source reported, as the oracle judges it: price, timestamp and whether its
/// signature verifies (always true for a source without a key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Observation {
    price: u64,
    timestamp: u64,
    signature_ok: bool,
}

/// Validity of a quote apart from deviation.
fn validity(config: &Config, asset: usize, q: &Observation) -> QuoteStatus {
    let max_age = config.assets[asset].max_age_secs;
    if q.timestamp > config.timestamp {
        QuoteStatus::Future
    } else if config.timestamp - q.timestamp > max_age {
        QuoteStatus::Stale
    } else if !q.signature_ok {
        QuoteStatus::BadSignature
    } else {
        QuoteStatus::Counted
    }
}

/// The oracle's rules over every configured source's observation (`None`: no quote), per
/// asset in config order. The one definition behind [`evaluate`] and [`rederive`].
fn judge(config: &Config, observed: &[Vec<Option<Observation>>]) -> Vec<AssetOracle> {
    config
        .assets
        .iter()
        .zip(observed)
        .enumerate()
        .map(|(a, (asset, sources))| {
            let mut entries: Vec<SourceQuote> = asset
                .sources
                .iter()
                .zip(sources)
                .map(|(s, o)| SourceQuote {
                    source: s.name.clone(),
                    price: o.map(|o| o.price),
                    timestamp: o.map(|o| o.timestamp),
                    status: o.map_or(QuoteStatus::Missing, |o| validity(config, a, &o)),
                })
                .collect();
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

/// Runs the oracle for every configured asset.
pub fn evaluate(config: &Config, quotes: &[Quote]) -> Vec<AssetOracle> {
    let mut observed: Vec<Vec<Option<Observation>>> = config
        .assets
        .iter()
        .map(|a| vec![None; a.sources.len()])
        .collect();
    for q in quotes {
        observed[q.asset][q.source] = Some(Observation {
            price: q.price,
            timestamp: q.timestamp,
            signature_ok: q.signature_ok(config),
        });
    }
    judge(config, &observed)
}

/// The verdict the oracle's rules give on a published verdict's own quotes (prices,
/// timestamps, and which signatures failed: the signatures themselves are not published), or
/// `None` when `claimed` does not list exactly the config's assets and sources. A published
/// verdict is consistent iff it equals this: every status, median, count, quorum, symbol and
/// source name then follows from the config and the quotes the digest commits to.
pub fn rederive(config: &Config, claimed: &[AssetOracle]) -> Option<Vec<AssetOracle>> {
    if claimed.len() != config.assets.len() {
        return None;
    }
    let observed = config
        .assets
        .iter()
        .zip(claimed)
        .map(|(asset, o)| {
            (o.quotes.len() == asset.sources.len()).then(|| {
                asset
                    .sources
                    .iter()
                    .zip(&o.quotes)
                    .map(|(source, q)| {
                        (q.status != QuoteStatus::Missing).then(|| Observation {
                            price: q.price.unwrap_or(0),
                            timestamp: q.timestamp.unwrap_or(0),
                            signature_ok: source.public_key.is_none()
                                || q.status != QuoteStatus::BadSignature,
                        })
                    })
                    .collect()
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(judge(config, &observed))
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

    #[test]
    fn a_published_verdict_is_rederived_from_its_own_quotes() {
        // Valid, outlier, stale, future and missing quotes; keyless sources.
        let c = config(2, false);
        let quotes = [quote(0, 100, 990), quote(1, 150, 995), quote(2, 101, 1001)];
        let honest = evaluate(&c, &quotes);
        assert_eq!(rederive(&c, &honest).as_ref(), Some(&honest));
        // Every field a publisher could edit is recomputed, not taken.
        let edits: [fn(&mut AssetOracle); 7] = [
            |o| o.median = o.median.map(|m| m + 1),
            |o| o.counted += 1,
            |o| o.quorum = 1,
            |o| o.symbol.push('x'),
            |o| o.price_decimals += 1,
            |o| o.quotes[1].status = QuoteStatus::Counted,
            |o| o.quotes[0].source = "z".into(),
        ];
        for (i, edit) in edits.iter().enumerate() {
            let mut forged = honest.clone();
            edit(&mut forged[0]);
            assert_ne!(rederive(&c, &forged).as_ref(), Some(&forged), "edit {i}");
        }
        // A missing quote carries no price; a keyless source cannot fail its signature.
        let mut forged = honest.clone();
        forged[0].quotes[2] = SourceQuote {
            source: "c".into(),
            price: Some(5),
            timestamp: None,
            status: QuoteStatus::Missing,
        };
        assert_ne!(rederive(&c, &forged).as_ref(), Some(&forged));
        let mut forged = honest.clone();
        forged[0].quotes[0].status = QuoteStatus::BadSignature;
        assert_ne!(rederive(&c, &forged).as_ref(), Some(&forged));
        // Other shapes are not verdicts of this config.
        assert_eq!(rederive(&c, &[]), None);
        let mut short = honest.clone();
        short[0].quotes.pop();
        assert_eq!(rederive(&c, &short), None);
    }

    #[test]
    fn a_failed_signature_is_taken_from_the_verdict_when_the_source_has_a_key() {
        let c = config(1, true);
        let quotes = [quote(0, 100, 990), quote(1, 100, 990), quote(2, 100, 990)];
        let verdict = evaluate(&c, &quotes);
        assert!(verdict[0]
            .quotes
            .iter()
            .all(|q| q.status == QuoteStatus::BadSignature));
        assert_eq!(rederive(&c, &verdict).as_ref(), Some(&verdict));
    }
}
