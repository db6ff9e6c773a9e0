//! The one statement ↔ public-instance encoding, shared by prover and verifier.
//!
//! The layout is [`PublicInputs::flatten`] followed by [`PublicOutputs::flatten`]. The circuit
//! fills these structs with assigned cells, [`encode`] fills them with field elements from a
//! statement and its config, so both sides agree by construction. In order:
//!
//! | inputs | |
//! |---|---|
//! | `epoch, timestamp` | |
//! | `prev_digest_hi, prev_digest_lo, config_digest_hi, config_digest_lo` | 128-bit halves |
//! | per asset: `quorum, max_deviation_bps, max_age_secs, W[0..=S][a]` | fine weights |
//! | per asset, per source: `present, signature_ok, price, timestamp` | quote |
//! | per market: `V[0..=S][m], R[m]` | |
//! | `C` (quote weight), `insurance_fund` (fine) | |
//!
//! | outputs | |
//! |---|---|
//! | per asset, per source: `valid, counted` | oracle verdict |
//! | per asset: `median, liabilities` | |
//! | per market: `long_open_interest, short_open_interest` | |
//! | `total_equity, total_maintenance, under_margined_accounts, total_shortfall` | |
//! | `bad_debt[0..=S]` | base case, then each scenario |
//!
//! Negative totals are `p − |x|`. Missing quotes have price and timestamp 0.
//!
//! **Shards.** A proof covers one shard of the account table; its instances are the layout
//! above with the shard's own totals, followed by the shard's first and last account id
//! ([`ID_RANGE_WORDS`]). [`combine_shards`] turns the shards' instances into the epoch's: inputs,
//! verdicts and medians must agree, totals add up, and each shard's ids must lie strictly above
//! the previous shard's.
//!
//! The statement digest (the chain link between epochs) is computed from this encoding, so a
//! contract that verified the instances recomputes it: [`digest_of`].

use zkmargin_core::config::Config;
use zkmargin_core::digest::{statement_digest, Digest};
use zkmargin_core::oracle::QuoteStatus;
use zkmargin_core::statement::Statement;

use halo2curves::ff::PrimeField;

use crate::field::{digest_halves, try_fr_from_i256};
use crate::shape::MarginShape;
use crate::Fr;

/// One oracle quote as public input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteInput<T> {
    /// 1 if the source sent a quote, else 0.
    pub present: T,
    /// 1 if the quote's signature verified (or the source has no key), else 0.
    pub signature_ok: T,
    /// The quote's price, price units (0 when absent).
    pub price: T,
    /// Its timestamp, unix seconds (0 when absent).
    pub timestamp: T,
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// One asset's public inputs: its oracle policy, fine weights and quotes.
pub struct AssetInput<T> {
    /// Counted quotes needed.
    pub quorum: T,
    /// The deviation band, bps.
    pub max_deviation_bps: T,
    /// The largest quote age, seconds.
    pub max_age_secs: T,
    /// `W[j][a]` for `j = 0..=S`.
    pub collateral_weights: Vec<T>,
    /// One per configured source, in config order.
    pub quotes: Vec<QuoteInput<T>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// One market's public fine weights.
pub struct MarketInput<T> {
    /// `V[j][m]` for `j = 0..=S`.
    pub mark_weights: Vec<T>,
    /// `R[m]`.
    pub maintenance_weight: T,
}

/// Public inputs: what the statement asserts about its inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicInputs<T> {
    /// The epoch number.
    pub epoch: T,
    /// The epoch timestamp.
    pub timestamp: T,
    /// The previous statement's digest, as two 128-bit halves.
    pub prev_digest: [T; 2],
    /// The config digest, as two 128-bit halves.
    pub config_digest: [T; 2],
    /// Per asset.
    pub assets: Vec<AssetInput<T>>,
    /// Per market.
    pub markets: Vec<MarketInput<T>>,
    /// `C = 10^(D − Q)`.
    pub quote_weight: T,
    /// The insurance fund, fine units.
    pub insurance_fund: T,
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// One asset's public outputs: the oracle's verdicts, the median and the liabilities.
pub struct AssetOutput<T> {
    /// `(valid, counted)` per source.
    pub verdicts: Vec<(T, T)>,
    /// The lower median, price units.
    pub median: T,
    /// Σ balances, base units.
    pub liabilities: T,
}

/// Public outputs: what the circuit computes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicOutputs<T> {
    /// Per asset.
    pub assets: Vec<AssetOutput<T>>,
    /// `(long, short)` open interest per market.
    pub open_interest: Vec<(T, T)>,
    /// Σ equity (field element of the signed integer).
    pub total_equity: T,
    /// Σ maintenance requirement.
    pub total_maintenance: T,
    /// Number of under-margined accounts.
    pub under_margined: T,
    /// Σ shortfall.
    pub total_shortfall: T,
    /// Base case, then each stress scenario.
    pub bad_debt: Vec<T>,
}

impl<T: Clone> PublicInputs<T> {
    /// The inputs of `shape` with every per-epoch field (epoch, timestamp, previous digest,
    /// quotes, insurance fund) set to `per_epoch` and every config-derived one to `config`.
    pub fn filled(shape: &MarginShape, per_epoch: T, config: T) -> Self {
        let cases = shape.cases();
        let quote = QuoteInput {
            present: per_epoch.clone(),
            signature_ok: per_epoch.clone(),
            price: per_epoch.clone(),
            timestamp: per_epoch.clone(),
        };
        PublicInputs {
            epoch: per_epoch.clone(),
            timestamp: per_epoch.clone(),
            prev_digest: [per_epoch.clone(), per_epoch.clone()],
            config_digest: [config.clone(), config.clone()],
            assets: shape
                .sources
                .iter()
                .map(|&n| AssetInput {
                    quorum: config.clone(),
                    max_deviation_bps: config.clone(),
                    max_age_secs: config.clone(),
                    collateral_weights: vec![config.clone(); cases],
                    quotes: vec![quote.clone(); n],
                })
                .collect(),
            markets: (0..shape.markets())
                .map(|_| MarketInput {
                    mark_weights: vec![config.clone(); cases],
                    maintenance_weight: config.clone(),
                })
                .collect(),
            quote_weight: config,
            insurance_fund: per_epoch,
        }
    }

    /// The inputs as instance words, in circuit order.
    pub fn flatten(&self) -> Vec<T> {
        let mut v = vec![self.epoch.clone(), self.timestamp.clone()];
        v.extend(self.prev_digest.iter().cloned());
        v.extend(self.config_digest.iter().cloned());
        for a in &self.assets {
            v.extend([
                a.quorum.clone(),
                a.max_deviation_bps.clone(),
                a.max_age_secs.clone(),
            ]);
            v.extend(a.collateral_weights.iter().cloned());
            for q in &a.quotes {
                v.extend([
                    q.present.clone(),
                    q.signature_ok.clone(),
                    q.price.clone(),
                    q.timestamp.clone(),
                ]);
            }
        }
        for m in &self.markets {
            v.extend(m.mark_weights.iter().cloned());
            v.push(m.maintenance_weight.clone());
        }
        v.extend([self.quote_weight.clone(), self.insurance_fund.clone()]);
        v
    }
}

impl<T: Clone> PublicOutputs<T> {
    /// The outputs as instance words, in circuit order.
    pub fn flatten(&self) -> Vec<T> {
        let mut v = Vec::new();
        for a in &self.assets {
            for (valid, counted) in &a.verdicts {
                v.extend([valid.clone(), counted.clone()]);
            }
            v.extend([a.median.clone(), a.liabilities.clone()]);
        }
        for (long, short) in &self.open_interest {
            v.extend([long.clone(), short.clone()]);
        }
        v.extend([
            self.total_equity.clone(),
            self.total_maintenance.clone(),
            self.under_margined.clone(),
            self.total_shortfall.clone(),
        ]);
        v.extend(self.bad_debt.iter().cloned());
        v
    }
}

/// Positions, in the instance column, of the inputs that are functions of the config alone:
/// the config digest, each asset's quorum, deviation and age limits and collateral weights,
/// each market's weights, and the quote weight. The epoch, timestamp, previous digest, quotes
/// and insurance fund change every epoch. A verifier that cannot re-derive the weights from
/// the config (a contract) pins these words instead: the circuit takes them as given, and only
/// the config digest says which config they came from.
pub fn config_positions(shape: &MarginShape) -> Vec<usize> {
    let marked = PublicInputs::filled(shape, false, true);
    marked
        .flatten()
        .iter()
        .enumerate()
        .filter_map(|(i, &config)| config.then_some(i))
        .collect()
}

/// Words after the statement's layout in a shard's instances: its first and last account id.
pub const ID_RANGE_WORDS: usize = 2;

/// Largest number of table rows over all shards: the bounds analysis (no total wraps the field)
/// assumes fewer than 2^32 accounts.
pub const MAX_TABLE_ROWS: u64 = (1 << 32) - 1;

/// Why shard instances do not combine into an epoch statement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CombineError {
    #[error("no shards")]
    /// No shard instances were given.
    Empty,
    #[error("{shards} shards of {rows} rows exceed {MAX_TABLE_ROWS} table rows")]
    /// More table rows than the statement's bound allows.
    TooManyRows {
        /// Shards.
        shards: usize,
        /// Rows per shard.
        rows: usize,
    },
    #[error("shard {shard} has {got} public instances, the shape needs {expected}")]
    /// A shard's instance column has the wrong length.
    Length {
        /// The shard.
        shard: usize,
        /// Its instances.
        got: usize,
        /// What the shape needs.
        expected: usize,
    },
    #[error("shard {shard} disagrees with shard 0 on public word {word} (an input, quote verdict or median)")]
    /// A shard disagrees with shard 0 on a word every shard repeats.
    Shared {
        /// The shard.
        shard: usize,
        /// The statement word.
        word: usize,
    },
    #[error("shard {shard}'s first id is not above shard {}'s last id (shards dropped, duplicated or reordered)", shard - 1)]
    /// A shard's first id is not above the previous shard's last.
    Order {
        /// The shard.
        shard: usize,
    },
}

/// Which statement words add up across shards (totals) rather than repeat in every shard.
pub fn additive_words(shape: &MarginShape) -> Vec<bool> {
    let mut v = PublicInputs::filled(shape, false, false).flatten();
    v.extend(
        PublicOutputs {
            assets: shape
                .sources
                .iter()
                .map(|&n| AssetOutput {
                    verdicts: vec![(false, false); n],
                    median: false,
                    liabilities: true,
                })
                .collect(),
            open_interest: vec![(true, true); shape.markets()],
            total_equity: true,
            total_maintenance: true,
            under_margined: true,
            total_shortfall: true,
            bad_debt: vec![true; shape.cases()],
        }
        .flatten(),
    );
    v
}

/// Words of a statement's instances for `shape` (a shard's add [`ID_RANGE_WORDS`]).
pub fn instance_count(shape: &MarginShape) -> usize {
    additive_words(shape).len()
}

/// A canonical field element as an integer, for ordering ids.
fn as_integer(x: &Fr) -> ethnum::U256 {
    ethnum::U256::from_le_bytes(x.to_repr())
}

/// The epoch's statement instances from its shards' instances, in table order. Every shard's
/// ids are `< 2^192` (the circuit's gap checks), so they order as integers; totals are sums of
/// fewer than 2^32 accounts' bounded values, so field addition is integer addition.
pub fn combine_shards<S: AsRef<[Fr]>>(
    shape: &MarginShape,
    shards: &[S],
) -> Result<Vec<Fr>, CombineError> {
    let first = shards.first().ok_or(CombineError::Empty)?.as_ref();
    if (shards.len() as u64).saturating_mul(shape.rows as u64) > MAX_TABLE_ROWS {
        return Err(CombineError::TooManyRows {
            shards: shards.len(),
            rows: shape.rows,
        });
    }
    let additive = additive_words(shape);
    let n = additive.len();
    let expected = n + ID_RANGE_WORDS;
    let mut combined = first[..n.min(first.len())].to_vec();
    for (shard, words) in shards.iter().map(AsRef::as_ref).enumerate() {
        if words.len() != expected {
            return Err(CombineError::Length {
                shard,
                got: words.len(),
                expected,
            });
        }
        if shard == 0 {
            continue;
        }
        for (word, (&add, w)) in additive.iter().zip(words).enumerate() {
            if add {
                combined[word] += w;
            } else if combined[word] != *w {
                return Err(CombineError::Shared { shard, word });
            }
        }
        if as_integer(&words[n]) <= as_integer(&shards[shard - 1].as_ref()[n + 1]) {
            return Err(CombineError::Order { shard });
        }
    }
    Ok(combined)
}

/// Why a statement cannot be encoded for a shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodingError {
    #[error("statement does not fit the circuit shape: {0}")]
    /// The statement does not fit the shape (counts of assets, markets, scenarios, sources).
    ShapeMismatch(String),
    #[error("config admits no fine scale: {0}")]
    /// The config has no fine unit.
    Scale(String),
    #[error("statement value `{0}` is outside the field")]
    /// A statement value is outside the field (a hostile statement).
    OutOfField(String),
    #[error(transparent)]
    /// The shape is not one the config admits.
    Shape(#[from] crate::shape::ShapeError),
}

/// A signed statement value as a field element; hostile statements may exceed the field.
fn signed(x: ethnum::I256) -> Result<Fr, EncodingError> {
    try_fr_from_i256(x).ok_or_else(|| EncodingError::OutOfField(x.to_string()))
}

fn bit(b: bool) -> Fr {
    Fr::from(u64::from(b))
}

/// Public inputs derived from the config and the statement.
pub fn encode_inputs(
    shape: &MarginShape,
    config: &Config,
    statement: &Statement,
) -> Result<PublicInputs<Fr>, EncodingError> {
    let scale = config
        .fine_scale()
        .map_err(|e| EncodingError::Scale(e.reason))?;
    let mismatch = |what: &str| EncodingError::ShapeMismatch(what.to_string());
    if statement.oracle.len() != shape.assets() || config.assets.len() != shape.assets() {
        return Err(mismatch("number of assets"));
    }
    if config.markets.len() != shape.markets() || config.scenarios.len() != shape.scenarios {
        return Err(mismatch("number of markets or scenarios"));
    }
    let mut assets = Vec::with_capacity(shape.assets());
    for (a, (asset, oracle)) in config.assets.iter().zip(&statement.oracle).enumerate() {
        if oracle.quotes.len() != shape.sources[a] {
            return Err(mismatch("number of sources"));
        }
        assets.push(AssetInput {
            quorum: Fr::from(u64::from(asset.quorum)),
            max_deviation_bps: Fr::from(u64::from(asset.max_deviation_bps)),
            max_age_secs: Fr::from(asset.max_age_secs),
            collateral_weights: (0..shape.cases())
                .map(|j| Fr::from(scale.collateral[j][a]))
                .collect(),
            quotes: oracle
                .quotes
                .iter()
                .map(|q| QuoteInput {
                    present: bit(q.status != QuoteStatus::Missing),
                    signature_ok: bit(q.status != QuoteStatus::BadSignature),
                    price: Fr::from(q.price.unwrap_or(0)),
                    timestamp: Fr::from(q.timestamp.unwrap_or(0)),
                })
                .collect(),
        });
    }
    let markets = (0..shape.markets())
        .map(|m| MarketInput {
            mark_weights: (0..shape.cases())
                .map(|j| Fr::from(scale.mark[j][m]))
                .collect(),
            maintenance_weight: Fr::from(scale.maintenance[m][0].rate),
        })
        .collect();
    Ok(PublicInputs {
        epoch: Fr::from(statement.epoch),
        timestamp: Fr::from(statement.timestamp),
        prev_digest: digest_halves(&statement.prev_digest),
        config_digest: digest_halves(&statement.config_digest),
        assets,
        markets,
        quote_weight: Fr::from(scale.quote),
        insurance_fund: signed(statement.insurance_fund)?,
    })
}

/// Public outputs as the statement claims them.
pub fn encode_outputs(
    shape: &MarginShape,
    statement: &Statement,
) -> Result<PublicOutputs<Fr>, EncodingError> {
    if statement.markets.len() != shape.markets() || statement.scenarios.len() != shape.scenarios {
        return Err(EncodingError::ShapeMismatch(
            "number of markets or scenarios".into(),
        ));
    }
    let assets = statement
        .oracle
        .iter()
        .zip(&statement.assets)
        .map(|(o, totals)| AssetOutput {
            verdicts: o
                .quotes
                .iter()
                .map(|q| {
                    (
                        bit(q.status.is_valid()),
                        bit(q.status == QuoteStatus::Counted),
                    )
                })
                .collect(),
            median: Fr::from(o.median.unwrap_or(0)),
            liabilities: Fr::from_u128(totals.liabilities),
        })
        .collect();
    let mut bad_debt = vec![signed(statement.total_bad_debt)?];
    for s in &statement.scenarios {
        bad_debt.push(signed(s.bad_debt)?);
    }
    Ok(PublicOutputs {
        assets,
        open_interest: statement
            .markets
            .iter()
            .map(|m| {
                (
                    Fr::from_u128(m.long_open_interest),
                    Fr::from_u128(m.short_open_interest),
                )
            })
            .collect(),
        total_equity: signed(statement.total_equity)?,
        total_maintenance: signed(statement.total_maintenance)?,
        under_margined: Fr::from(statement.under_margined_accounts),
        total_shortfall: signed(statement.total_shortfall)?,
        bad_debt,
    })
}

/// The full instance column for a statement: inputs then outputs.
pub fn encode(
    shape: &MarginShape,
    config: &Config,
    statement: &Statement,
) -> Result<Vec<Fr>, EncodingError> {
    let mut v = encode_inputs(shape, config, statement)?.flatten();
    v.extend(encode_outputs(shape, statement)?.flatten());
    Ok(v)
}

/// Instances as 32-byte big-endian words (`uint256` in Solidity, the calldata encoding).
pub fn instance_words(instances: &[Fr]) -> Vec<Digest> {
    instances
        .iter()
        .map(|f| {
            let mut w = f.to_repr();
            w.reverse();
            w
        })
        .collect()
}

/// The digest of a statement whose public instances are `instances` (see
/// [`zkmargin_core::digest::statement_digest`]).
pub fn digest_of(instances: &[Fr], statement: &Statement) -> Digest {
    statement_digest(&instance_words(instances), &statement.declared_words())
}

/// The digest of `statement` under `config`: its instances do not depend on the table size.
pub fn statement_digest_under(
    config: &Config,
    statement: &Statement,
) -> Result<Digest, EncodingError> {
    let instances = encode(&MarginShape::new(config, 0, 0)?, config, statement)?;
    Ok(digest_of(&instances, statement))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_shape() -> MarginShape {
        MarginShape {
            k: 12,
            lookup_bits: 8,
            rows: 16,
            sources: vec![2, 3],
            underlying: vec![1],
            scenarios: 1,
            value_bits: 192,
            widths: Default::default(),
        }
    }

    /// A shard's instances: shared words `7`, totals `total`, ids `[first, last]`.
    fn shard(shape: &MarginShape, total: u64, ids: [u64; 2]) -> Vec<Fr> {
        let mut v: Vec<Fr> = additive_words(shape)
            .iter()
            .map(|&add| Fr::from(if add { total } else { 7 }))
            .collect();
        v.extend(ids.map(Fr::from));
        v
    }

    #[test]
    fn shards_combine_by_sharing_inputs_and_adding_totals() {
        let shape = small_shape();
        let shards = [
            shard(&shape, 1, [1, 10]),
            shard(&shape, 2, [11, 20]),
            shard(&shape, 5, [30, 40]),
        ];
        let combined = combine_shards(&shape, &shards).unwrap();
        let add = additive_words(&shape);
        assert_eq!(combined.len(), add.len());
        for (w, a) in combined.iter().zip(&add) {
            assert_eq!(*w, Fr::from(if *a { 1 + 2 + 5 } else { 7 }));
        }
        // Liabilities, open interest, totals and bad debt add; verdicts and medians do not.
        assert_eq!(add.iter().filter(|&&a| a).count(), 2 + 2 + 4 + 2);
        // A single shard is the epoch itself, minus its id range.
        let one = combine_shards(&shape, &shards[..1]).unwrap();
        assert_eq!(one, shards[0][..add.len()].to_vec());
    }

    #[test]
    fn dropped_duplicated_reordered_or_foreign_shards_do_not_combine() {
        let shape = small_shape();
        let (a, b, c) = (
            shard(&shape, 1, [1, 10]),
            shard(&shape, 2, [11, 20]),
            shard(&shape, 4, [30, 40]),
        );
        let honest = combine_shards(&shape, &[a.clone(), b.clone(), c.clone()]).unwrap();
        // Dropped: still combines, to different totals (the statement check catches it).
        let dropped = combine_shards(&shape, &[a.clone(), c.clone()]).unwrap();
        assert_ne!(dropped, honest);
        assert_eq!(
            combine_shards(&shape, &[a.clone(), b.clone(), b.clone(), c.clone()]),
            Err(CombineError::Order { shard: 2 })
        );
        assert_eq!(
            combine_shards(&shape, &[a.clone(), c.clone(), b.clone()]),
            Err(CombineError::Order { shard: 2 })
        );
        // Touching id ranges (a shared account) are not strictly increasing either.
        let overlapping = shard(&shape, 2, [10, 20]);
        assert_eq!(
            combine_shards(&shape, &[a.clone(), overlapping]),
            Err(CombineError::Order { shard: 1 })
        );
        // A shard of another epoch (its epoch word differs) or another oracle run.
        let mut foreign = b.clone();
        foreign[0] = Fr::from(99u64);
        assert_eq!(
            combine_shards(&shape, &[a.clone(), foreign]),
            Err(CombineError::Shared { shard: 1, word: 0 })
        );
        let mut short = b.clone();
        short.pop();
        assert!(matches!(
            combine_shards(&shape, &[a.clone(), short]),
            Err(CombineError::Length { shard: 1, .. })
        ));
        assert_eq!(
            combine_shards::<Vec<Fr>>(&shape, &[]),
            Err(CombineError::Empty)
        );
        let huge = MarginShape {
            rows: 1 << 31,
            ..shape.clone()
        };
        assert!(matches!(
            combine_shards(&huge, &[a.clone(), b.clone()]),
            Err(CombineError::TooManyRows { .. })
        ));
    }

    #[test]
    fn config_positions_pick_the_limits_and_weights_only() {
        let shape = small_shape();
        // epoch, timestamp, prev ×2, config ×2 | asset 0: 3 limits, 2 weights, 2×4 quote words |
        // asset 1: 3 limits, 2 weights, 3×4 quote words | market: 2 weights, R | C, fund.
        let mut expected = vec![4, 5];
        expected.extend(6..11);
        expected.extend(19..24);
        expected.extend(36..40);
        assert_eq!(config_positions(&shape), expected);
    }
}
