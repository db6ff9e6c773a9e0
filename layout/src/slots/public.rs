//! The public side of a slot-table epoch, derived from the config and the statement alone
//! (no halo2, so light verifiers share it): the *instrument table* every shard looks its slots
//! up in, what a verifier feeds every class shard's proof, and what the statement digest
//! covers.
//!
//! A shard's instances are `instruments ‖ instrument totals ‖ totals ‖ [first id, last id]`
//! ([`ShardValues`]). The instrument table is one per epoch: each instrument's median folded
//! into its fine weights per case, its tiers and their amounts — a function of the config and
//! the statement's medians ([`instrument_table`]), which the verifier obtains by re-running the
//! oracle on the bundled quotes. Every shard of every class is verified against that same
//! table, so a shard proved against any other table (an edited tier, another median) fails.
//! The other values are the shard's own claims; summed over the epoch's shards they must be
//! the statement's ([`statement_totals`]).

use ethnum::U256;
use halo2curves::ff::PrimeField;
use zkmargin_core::config::Config;
use zkmargin_core::digest::{keccak256, statement_digest, Digest};
use zkmargin_core::fine::FineScale;
use zkmargin_core::margin::MarkTable;
use zkmargin_core::oracle::prices_or_halt;
use zkmargin_core::statement::Statement;

use super::SlotShape;
use crate::encoding::instance_words;
use crate::field::{digest_halves, fr_from_i256};
use crate::Fr;

/// What a live slot looks up after `inst` and `tier`, generic over the element: columns in
/// the configuration, field elements in the witness (one order for both: [`Tuple::flatten`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tuple<T> {
    /// `P · W[j]` (balance) or `P · V[j]` (position), per case.
    pub coef: Vec<T>,
    /// `C` for a market, 0 for an asset.
    pub cost_coef: T,
    /// The underlying's price (market), 0 (asset).
    pub price: T,
    /// `P · R_t` of the tier.
    pub rate: T,
    /// `A_t` of the tier.
    pub amount: T,
    /// Smallest notional `x = |size| · P` of the tier.
    pub lo: T,
    /// Largest notional of the tier.
    pub hi: T,
    /// 1 for a market, 0 for an asset.
    pub kind: T,
}

impl<T: Clone> Tuple<T> {
    /// The elements in lookup order: the coefficients, then `cost_coef, price, rate, amount,
    /// lo, hi, kind`.
    pub fn flatten(&self) -> Vec<T> {
        let mut v = self.coef.clone();
        v.extend([
            self.cost_coef.clone(),
            self.price.clone(),
            self.rate.clone(),
            self.amount.clone(),
            self.lo.clone(),
            self.hi.clone(),
            self.kind.clone(),
        ]);
        v
    }

    /// A tuple of `cases` coefficients, every element `x`.
    pub fn filled(cases: usize, x: T) -> Self {
        Tuple {
            coef: vec![x.clone(); cases],
            cost_coef: x.clone(),
            price: x.clone(),
            rate: x.clone(),
            amount: x.clone(),
            lo: x.clone(),
            hi: x.clone(),
            kind: x,
        }
    }
}
/// The table's running totals, in column order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotTotal {
    /// Σ E_0.
    Equity,
    /// Σ MM.
    Maintenance,
    /// Under-margined accounts.
    Under,
    /// Σ max(0, MM − E_0).
    Shortfall,
    /// Σ max(0, −E_j) in case `j`.
    BadDebt(usize),
}

impl SlotTotal {
    /// Every total of `cases` cases, in column order.
    pub fn all(cases: usize) -> Vec<SlotTotal> {
        let mut v = vec![
            SlotTotal::Equity,
            SlotTotal::Maintenance,
            SlotTotal::Under,
            SlotTotal::Shortfall,
        ];
        v.extend((0..cases).map(SlotTotal::BadDebt));
        v
    }
}
/// One (instrument, tier) row of the public instrument table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstrumentRow {
    /// Instrument index: collateral assets by config index, market `m` as `assets + m`.
    pub inst: Fr,
    /// Tier (0 for an asset).
    pub tier: Fr,
    /// What a slot of this instrument and tier reads.
    pub tuple: Tuple<Fr>,
}
/// The bound of tier `t` in notional units `x = |size| · P`: `⌊U_t / V[0][m]⌋` (so
/// `x ≤ bound ⇔ |size| · P · V[0][m] ≤ U_t`, the engine's rule), capped at `2^bits − 1`.
fn tier_bound(bound: Option<U256>, v0: u64, bits: usize) -> U256 {
    let cap = (U256::ONE << bits as u32) - 1;
    match bound {
        Some(b) => (b / U256::from(v0)).min(cap),
        None => cap,
    }
}

fn fr_u256(x: U256) -> Fr {
    let mut bytes = x.to_le_bytes();
    // x < 2^254 here (notional bounds < 2^128, amounts < 2^192).
    bytes[31] &= 0x3f;
    Fr::from_bytes(&bytes).expect("canonical")
}
/// The instrument table of an epoch: one row per collateral asset, one per market tier.
pub fn instrument_rows(
    config: &Config,
    scale: &FineScale,
    table: &MarkTable,
    prices: &[u64],
    notional_bits: usize,
) -> Vec<InstrumentRow> {
    let cases = table.collateral.len();
    let assets = config.assets.len();
    let mut rows = Vec::new();
    for (a, asset) in config.assets.iter().enumerate() {
        if !asset.collateral {
            continue;
        }
        rows.push(InstrumentRow {
            inst: Fr::from(a as u64),
            tier: Fr::zero(),
            tuple: Tuple {
                coef: (0..cases)
                    .map(|j| Fr::from_u128(table.collateral[j][a]))
                    .collect(),
                ..Tuple::filled(0, Fr::zero())
            },
        });
    }
    for (m, market) in config.markets.iter().enumerate() {
        let v0 = scale.mark[0][m];
        let mut below: Option<U256> = None;
        for (t, tier) in scale.maintenance[m].iter().enumerate() {
            let hi = tier_bound(tier.bound, v0, notional_bits);
            let lo = below.map_or(U256::ZERO, |b| b + 1);
            below = Some(hi);
            rows.push(InstrumentRow {
                inst: Fr::from((assets + m) as u64),
                tier: Fr::from(t as u64),
                tuple: Tuple {
                    coef: (0..cases)
                        .map(|j| Fr::from_u128(table.mark[j][m]))
                        .collect(),
                    cost_coef: Fr::from(scale.quote),
                    price: Fr::from(prices[market.underlying]),
                    rate: Fr::from_u128(table.maintenance[m][t]),
                    amount: fr_u256(tier.amount),
                    lo: fr_u256(lo),
                    hi: fr_u256(hi),
                    kind: Fr::one(),
                },
            });
        }
    }
    rows
}

/// The config side of the instrument table, the words a contract rebuilds the table from with
/// the medians (`P_a`, per asset): every table word is one of these or a median times one.
///
/// Layout (one field element per word): `A` (assets), `J` (cases), `C` (`cost_coef`), `K`
/// (collateral assets), then per collateral asset `a, W[0..J][a]`; then `M` (markets), and per
/// market `u` (its underlying), `V[0..J][m]`, `T` (tiers), then per tier `R_t, A_t, hi_t`.
/// The table follows as [`instrument_rows`] builds it: a collateral row is `a, 0, P_a·W[j][a]…,
/// 0…` (seven zeros); tier `t` of market `m` is `A + m, t, P_u·V[j][m]…, C, P_u, P_u·R_t, A_t,
/// lo_t, hi_t, 1` with `lo_0 = 0`, `lo_t = hi_(t−1) + 1`. `Err` if the config has no fine scale.
pub fn instrument_rules(config: &Config) -> Result<Vec<Fr>, PublicError> {
    let scale = config
        .fine_scale()
        .map_err(|e| PublicError::Scale(format!("{}: {}", e.field, e.reason)))?;
    let notional = notional_bits(config);
    let cases = scale.collateral.len();
    let count = |n: usize| Fr::from(n as u64);
    let collateral: Vec<usize> = (0..config.assets.len())
        .filter(|&a| config.assets[a].collateral)
        .collect();
    let mut v = vec![
        count(config.assets.len()),
        count(cases),
        Fr::from(scale.quote),
        count(collateral.len()),
    ];
    for &a in &collateral {
        v.push(count(a));
        v.extend((0..cases).map(|j| Fr::from(scale.collateral[j][a])));
    }
    v.push(count(config.markets.len()));
    for (m, market) in config.markets.iter().enumerate() {
        v.push(count(market.underlying));
        v.extend((0..cases).map(|j| Fr::from(scale.mark[j][m])));
        v.push(count(scale.maintenance[m].len()));
        for tier in &scale.maintenance[m] {
            v.push(Fr::from(tier.rate));
            v.push(fr_u256(tier.amount));
            v.push(fr_u256(tier_bound(tier.bound, scale.mark[0][m], notional)));
        }
    }
    Ok(v)
}

/// Domain word that opens a slot-table statement's digest words (so they never read as a
/// dense-table statement's).
pub const SLOT_STATEMENT_DOMAIN: &str = "zkmargin/slot-statement/v2";

/// Why a statement has no slot-table public values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicError {
    /// The config has no fine scale.
    #[error("config: {0}")]
    Scale(String),
    /// Some asset has no median (an oracle halt): there is no instrument table.
    #[error("the statement's oracle halted: no instrument table")]
    Halted,
}

/// One shard's public values, split by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardValues {
    /// The instrument table, flattened (`inst, tier, tuple…` per row).
    pub instruments: Vec<Fr>,
    /// `(inst, side, total)` per instrument and side.
    pub instrument_totals: Vec<[Fr; 3]>,
    /// The totals, in [`SlotTotal::all`] order.
    pub totals: Vec<Fr>,
    /// The shard's first and last account id (padding accounts included).
    pub id_range: [Fr; 2],
}

impl ShardValues {
    /// `values` split as `shape`'s circuit exposes them; `None` unless there are exactly
    /// [`SlotShape::public_values`] of them.
    pub fn split(shape: &SlotShape, values: &[Fr]) -> Option<ShardValues> {
        if values.len() != shape.public_values() {
            return None;
        }
        let (instruments, rest) = values.split_at(shape.instrument_words());
        let (totals3, rest) = rest.split_at(shape.instrument_totals * 3);
        let (totals, ids) = rest.split_at(shape.cases + 4);
        Some(ShardValues {
            instruments: instruments.to_vec(),
            instrument_totals: totals3.chunks(3).map(|c| [c[0], c[1], c[2]]).collect(),
            totals: totals.to_vec(),
            id_range: [ids[0], ids[1]],
        })
    }

    /// The values in instance order (the inverse of [`ShardValues::split`]).
    pub fn flatten(&self) -> Vec<Fr> {
        let mut v = self.instruments.clone();
        v.extend(self.instrument_totals.iter().flatten());
        v.extend(&self.totals);
        v.extend(self.id_range);
        v
    }
}

/// Which of a shard's values add up across the epoch's shards (the instrument totals' amounts
/// and the totals) rather than repeat in every shard (the instrument table and the instrument
/// totals' `(inst, side)` labels), in instance order and without the id range that follows
/// them: the combination an aggregation circuit constrains, word for word what [`combine`]
/// computes.
pub fn additive_values(shape: &SlotShape) -> Vec<bool> {
    let mut v = vec![false; shape.instrument_words()];
    for _ in 0..shape.instrument_totals {
        v.extend([false, false, true]);
    }
    v.extend(vec![true; shape.cases + 4]);
    v
}

/// The epoch's values from its shards' (in id order): the instrument table and the totals'
/// labels every shard carries (`None` if two shards disagree on one, or there is no shard),
/// the amounts and totals summed, and the id range from the first shard's first id to the
/// last shard's last id (the order itself is checked apart: the class tags matter there).
pub fn combine(shards: &[ShardValues]) -> Option<ShardValues> {
    let (first, rest) = shards.split_first()?;
    let mut sum = first.clone();
    for v in rest {
        let aligned = v.instruments == sum.instruments
            && v.instrument_totals.len() == sum.instrument_totals.len()
            && v.totals.len() == sum.totals.len()
            && v.instrument_totals
                .iter()
                .zip(&sum.instrument_totals)
                .all(|(a, b)| a[..2] == b[..2]);
        if !aligned {
            return None;
        }
        for (s, t) in sum.instrument_totals.iter_mut().zip(&v.instrument_totals) {
            s[2] += t[2];
        }
        sum.totals
            .iter_mut()
            .zip(&v.totals)
            .for_each(|(a, b)| *a += b);
        sum.id_range[1] = v.id_range[1];
    }
    Some(sum)
}

/// Bits of a notional `x = qty · price` under `config`'s widths (the tier bounds' cap).
fn notional_bits(config: &Config) -> usize {
    let shape = SlotShape {
        widths: config.bounds,
        ..SlotShape::default()
    };
    shape.slot_values()[2].1
}

/// The epoch's instrument table, flattened as a shard exposes it: the config's collateral
/// assets and market tiers with the statement's medians folded in.
pub fn instrument_table(config: &Config, statement: &Statement) -> Result<Vec<Fr>, PublicError> {
    let scale = config
        .fine_scale()
        .map_err(|e| PublicError::Scale(format!("{}: {}", e.field, e.reason)))?;
    let prices = prices_or_halt(config, &statement.oracle).map_err(|_| PublicError::Halted)?;
    let underlying: Vec<usize> = config.markets.iter().map(|m| m.underlying).collect();
    let table = MarkTable::new(&scale, &underlying, &prices);
    let rows = instrument_rows(config, &scale, &table, &prices, notional_bits(config));
    Ok(rows
        .iter()
        .flat_map(|r| {
            let mut v = vec![r.inst, r.tier];
            v.extend(r.tuple.flatten());
            v
        })
        .collect())
}

/// The statement's instrument totals (liabilities per collateral asset, long then short open
/// interest per market) and totals, in the order a shard exposes its own.
pub fn statement_totals(config: &Config, statement: &Statement) -> (Vec<[Fr; 3]>, Vec<Fr>) {
    let assets = config.assets.len();
    let mut instrument_totals = Vec::new();
    for (a, asset) in config.assets.iter().enumerate() {
        if asset.collateral {
            let total = statement.assets.get(a).map_or(0, |t| t.liabilities);
            instrument_totals.push([Fr::from(a as u64), Fr::zero(), Fr::from_u128(total)]);
        }
    }
    for m in 0..config.markets.len() {
        let inst = Fr::from((assets + m) as u64);
        let (long, short) = statement
            .markets
            .get(m)
            .map_or((0, 0), |t| (t.long_open_interest, t.short_open_interest));
        instrument_totals.push([inst, Fr::zero(), Fr::from_u128(long)]);
        instrument_totals.push([inst, Fr::one(), Fr::from_u128(short)]);
    }
    let totals = SlotTotal::all(config.scenario_count())
        .into_iter()
        .map(|t| match t {
            SlotTotal::Equity => fr_from_i256(statement.total_equity),
            SlotTotal::Maintenance => fr_from_i256(statement.total_maintenance),
            SlotTotal::Under => Fr::from(statement.under_margined_accounts),
            SlotTotal::Shortfall => fr_from_i256(statement.total_shortfall),
            SlotTotal::BadDebt(0) => fr_from_i256(statement.total_bad_debt),
            SlotTotal::BadDebt(j) => statement
                .scenarios
                .get(j - 1)
                .map_or(Fr::zero(), |s| fr_from_i256(s.bad_debt)),
        })
        .collect();
    (instrument_totals, totals)
}

/// The words a slot-table epoch's statement digest covers, after its two leading hashes:
/// epoch, timestamp, the previous and config digests (two 128-bit halves each), the insurance
/// fund, every asset's median (price units, asset order), the amounts of the statement's
/// instrument totals (their `(inst, side)` labels follow from the config) and its totals.
///
/// The instrument table is not among them: every word of it is a config word or a median
/// times one (`Coefficients::fold`), so the config digest and the medians fix it — which is
/// what lets a contract rebuild the table from pinned rules and these few words
/// ([`instrument_rules`]). `Err` if the config has no fine scale or the oracle halted.
pub fn slot_statement_values(
    config: &Config,
    statement: &Statement,
) -> Result<Vec<Fr>, PublicError> {
    config
        .fine_scale()
        .map_err(|e| PublicError::Scale(format!("{}: {}", e.field, e.reason)))?;
    let prices = prices_or_halt(config, &statement.oracle).map_err(|_| PublicError::Halted)?;
    let mut values = vec![Fr::from(statement.epoch), Fr::from(statement.timestamp)];
    values.extend(digest_halves(&statement.prev_digest));
    values.extend(digest_halves(&statement.config_digest));
    values.push(fr_from_i256(statement.insurance_fund));
    values.extend(prices.iter().map(|&p| Fr::from(p)));
    let (instrument_totals, totals) = statement_totals(config, statement);
    values.extend(instrument_totals.iter().map(|t| t[2]));
    values.extend(totals);
    Ok(values)
}

/// Keccak-256 of the statement's oracle verdict as JSON: the slot digest's second word.
pub fn oracle_hash(statement: &Statement) -> Digest {
    keccak256(&serde_json::to_vec(&statement.oracle).expect("the oracle verdict serializes"))
}

/// The statement digest of a slot-table epoch: [`statement_digest`] over the words
/// `keccak(SLOT_STATEMENT_DOMAIN)`, `keccak` of the oracle verdict's JSON (every quote's status
/// and the medians; verifiers re-run the oracle and compare), then [`slot_statement_values`] —
/// then the declared reserves.
pub fn slot_statement_digest(
    config: &Config,
    statement: &Statement,
) -> Result<Digest, PublicError> {
    let values = slot_statement_values(config, statement)?;
    let mut words = vec![
        keccak256(SLOT_STATEMENT_DOMAIN.as_bytes()),
        oracle_hash(statement),
    ];
    words.extend(instance_words(&values));
    Ok(statement_digest(&words, &statement.declared_words()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The aggregation circuit's word-by-word combination (shared words equal, additive
    /// words summed) is [`combine`].
    #[test]
    fn additive_values_combine_as_combine_does() {
        let shape = SlotShape {
            k: 12,
            slots: 4,
            accounts: 2,
            cases: 2,
            value_bits: 64,
            instruments: 3,
            instrument_totals: 5,
            widths: Default::default(),
        };
        let additive = additive_values(&shape);
        assert_eq!(additive.len() + 2, shape.public_values());
        let n = additive.len();
        let shard = |seed: u64| -> Vec<Fr> {
            (0..shape.public_values() as u64)
                .map(|i| {
                    if i < n as u64 && !additive[i as usize] {
                        Fr::from(i * 7 + 1)
                    } else {
                        Fr::from(seed * 1000 + i)
                    }
                })
                .collect()
        };
        let shards: Vec<Vec<Fr>> = (1..4).map(shard).collect();
        let mut by_word = shards[0][..n].to_vec();
        for other in &shards[1..] {
            for (w, &add) in additive.iter().enumerate() {
                if add {
                    by_word[w] += other[w];
                } else {
                    assert_eq!(by_word[w], other[w]);
                }
            }
        }
        by_word.extend([shards[0][n], shards[2][n + 1]]);
        let split: Vec<ShardValues> = shards
            .iter()
            .map(|v| ShardValues::split(&shape, v).unwrap())
            .collect();
        assert_eq!(combine(&split).unwrap().flatten(), by_word);
        // A shared word that differs: no combination.
        let mut odd = split.clone();
        odd[1].instrument_totals[2][1] += Fr::one();
        assert!(combine(&odd).is_none());
        let mut odd = split;
        odd[2].instruments[0] += Fr::one();
        assert!(combine(&odd).is_none());
    }

    #[test]
    fn shard_values_split_and_flatten_are_inverse() {
        let shape = SlotShape {
            k: 12,
            slots: 4,
            accounts: 2,
            cases: 2,
            value_bits: 64,
            instruments: 3,
            instrument_totals: 5,
            widths: Default::default(),
        };
        let values: Vec<Fr> = (0..shape.public_values() as u64).map(Fr::from).collect();
        let split = ShardValues::split(&shape, &values).expect("the right count");
        assert_eq!(split.instruments.len(), 3 * 11);
        assert_eq!(split.instrument_totals.len(), 5);
        assert_eq!(split.totals.len(), 6);
        assert_eq!(split.flatten(), values);
        assert!(ShardValues::split(&shape, &values[1..]).is_none());
    }
}
