//! The public values of a slot-table epoch, derived from the config and the statement alone:
//! what a verifier feeds every class shard's proof, and what the statement digest covers.
//!
//! A shard's instances are `instruments ‖ instrument totals ‖ totals ‖ [first id, last id]`
//! ([`ShardValues`], the order of [`super::witness::Assigned::public_values`]). The
//! *instrument table* is one per epoch: each instrument's median folded into its fine weights
//! per case, its tiers and their amounts — a function of the config and the statement's
//! medians ([`instrument_table`]), which the verifier obtains by re-running the oracle on the
//! bundled quotes. Every shard of every class is verified against that same table, so a shard
//! proved against any other table (an edited tier, another median) fails. The other values
//! are the shard's own claims; summed over the epoch's shards they must be the statement's
//! ([`statement_totals`]).

use halo2_base::halo2_proofs::halo2curves::ff::PrimeField;
use zkmargin_core::config::Config;
use zkmargin_core::digest::{keccak256, statement_digest, Digest};
use zkmargin_core::margin::MarkTable;
use zkmargin_core::oracle::prices_or_halt;
use zkmargin_core::statement::Statement;
use zkmargin_layout::encoding::instance_words;
use zkmargin_layout::field::{digest_halves, fr_from_i256};
use zkmargin_layout::slots::SlotShape;
use zkmargin_layout::Fr;

use super::witness::SlotWitness;
use super::SlotTotal;

/// Domain word that opens a slot-table statement's digest words (so they never read as a
/// dense-table statement's).
pub const SLOT_STATEMENT_DOMAIN: &str = "zkmargin/slot-statement/v1";

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
    let rows = SlotWitness::instrument_rows(config, &scale, &table, &prices, notional_bits(config));
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

/// The statement digest of a slot-table epoch: [`statement_digest`] over the words
/// `keccak(SLOT_STATEMENT_DOMAIN)`, epoch, timestamp, the previous and config digests (two
/// 128-bit halves each), the insurance fund, `keccak` of the oracle verdict's JSON (every
/// quote's status and the medians; verifiers re-run the oracle and compare), the instrument
/// table, the statement's instrument totals and totals — then the declared reserves.
pub fn slot_statement_digest(
    config: &Config,
    statement: &Statement,
) -> Result<Digest, PublicError> {
    let mut values = vec![Fr::from(statement.epoch), Fr::from(statement.timestamp)];
    values.extend(digest_halves(&statement.prev_digest));
    values.extend(digest_halves(&statement.config_digest));
    values.push(fr_from_i256(statement.insurance_fund));
    values.extend(instrument_table(config, statement)?);
    let (instrument_totals, totals) = statement_totals(config, statement);
    values.extend(instrument_totals.iter().flatten());
    values.extend(totals);
    let oracle = serde_json::to_vec(&statement.oracle).expect("the oracle verdict serializes");
    let mut words = vec![
        keccak256(SLOT_STATEMENT_DOMAIN.as_bytes()),
        keccak256(&oracle),
    ];
    words.extend(instance_words(&values));
    Ok(statement_digest(&words, &statement.declared_words()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
