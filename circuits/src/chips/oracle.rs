//! `OracleChip`: quote validity, the lower median, the deviation band and the quorum, for one
//! asset, all from public quotes and one untrusted hint (the claimed median).
//!
//! Bounds (`zkmargin_core::bounds`): prices `< 2^price_bits` (the shape's width, at most
//! `PRICE_BITS`), timestamps and ages
//! `< 2^TIMESTAMP_BITS`, the deviation band `≤ 10_000 < 2^BPS_BITS` bps, quote counts
//! `< 2^COUNT_BITS`.

use halo2_base::gates::{GateInstructions, RangeChip, RangeInstructions};
use halo2_base::utils::ScalarField;
use halo2_base::{AssignedValue, Context, QuantumCell::Constant};

use zkmargin_core::bounds;
use zkmargin_layout::encoding::AssetInput;
use zkmargin_layout::Fr;

const TIMESTAMP_BITS: usize = bounds::TIMESTAMP_BITS as usize;
const BPS_BITS: usize = bounds::BPS_BITS as usize;
const COUNT_BITS: usize = bounds::COUNT_BITS as usize;

/// The oracle's constrained verdict for one asset.
pub struct AssetVerdict {
    /// The constrained lower median (the hint, checked).
    pub median: AssignedValue<Fr>,
    /// `(valid, counted)` per source.
    pub verdicts: Vec<(AssignedValue<Fr>, AssignedValue<Fr>)>,
}

/// The oracle's constraints for one asset (the chip implements them on halo2-base).
pub trait OracleInstructions {
    /// Constrains, for quotes `q_s` with timestamps `t_s` and epoch timestamp `T`:
    /// - `valid_s = present_s · signature_ok_s · [t_s ≤ T] · [T − t_s ≤ max_age]`;
    /// - the hint `m` equals some valid quote, fewer than `k + 1` valid quotes are below `m` and
    ///   at least `k + 1` are at or below it, `k = ⌊(n_valid − 1)/2⌋`: `m` is the lower median;
    /// - `outlier_s = [|q_s − m| · 10000 > max_deviation · m]`, `counted_s = valid_s · ¬outlier_s`;
    /// - `1 ≤ quorum ≤ Σ counted_s` (the circuit breaker: otherwise no proof exists).
    fn assign_asset(
        &self,
        ctx: &mut Context<Fr>,
        epoch_timestamp: AssignedValue<Fr>,
        asset: &AssetInput<AssignedValue<Fr>>,
        median_hint: Fr,
    ) -> AssetVerdict;
}

/// The oracle chip: [`OracleInstructions`] on halo2-base's range chip.
pub struct OracleChip<'a> {
    /// The range chip every comparison and range check uses.
    pub range: &'a RangeChip<Fr>,
    /// Prices are checked `< 2^price_bits` (the shape's widths); `|q − m| · 10000` and
    /// `max_deviation · m` are then `< 2^(price_bits + BPS_BITS)`.
    pub price_bits: usize,
}

impl OracleInstructions for OracleChip<'_> {
    fn assign_asset(
        &self,
        ctx: &mut Context<Fr>,
        epoch_timestamp: AssignedValue<Fr>,
        asset: &AssetInput<AssignedValue<Fr>>,
        median_hint: Fr,
    ) -> AssetVerdict {
        let (range, gate) = (self.range, self.range.gate());
        range.range_check(ctx, epoch_timestamp, TIMESTAMP_BITS);
        range.range_check(ctx, asset.max_age_secs, TIMESTAMP_BITS);
        range.range_check(ctx, asset.max_deviation_bps, BPS_BITS);

        // Validity by presence, signature flag and age.
        let mut valid = Vec::with_capacity(asset.quotes.len());
        for q in &asset.quotes {
            gate.assert_bit(ctx, q.present);
            gate.assert_bit(ctx, q.signature_ok);
            range.range_check(ctx, q.price, self.price_bits);
            range.range_check(ctx, q.timestamp, TIMESTAMP_BITS);
            // A present quote has a positive price.
            let zero_price = gate.is_zero(ctx, q.price);
            let bad = gate.mul(ctx, zero_price, q.present);
            gate.assert_is_const(ctx, &bad, &Fr::zero());
            let future = range.is_less_than(ctx, epoch_timestamp, q.timestamp, TIMESTAMP_BITS + 1);
            let not_future = gate.not(ctx, future);
            let elapsed = gate.sub(ctx, epoch_timestamp, q.timestamp);
            let age = gate.mul(ctx, elapsed, not_future);
            let stale = range.is_less_than(ctx, asset.max_age_secs, age, TIMESTAMP_BITS + 1);
            let fresh = gate.mul_not(ctx, stale, not_future);
            let usable = gate.mul(ctx, q.present, q.signature_ok);
            valid.push(gate.mul(ctx, usable, fresh));
        }

        // The claimed median is the lower median of the valid quotes.
        let median = ctx.load_witness(median_hint);
        range.range_check(ctx, median, self.price_bits);
        let mut hits = Vec::new();
        let mut below = Vec::new();
        let mut is_below = Vec::new();
        for (q, &v) in asset.quotes.iter().zip(&valid) {
            let eq = gate.is_equal(ctx, q.price, median);
            let lt = range.is_less_than(ctx, q.price, median, self.price_bits);
            hits.push(gate.mul(ctx, eq, v));
            below.push(gate.mul(ctx, lt, v));
            is_below.push(lt);
        }
        let n_hits = gate.sum(ctx, hits);
        let no_hit = gate.is_zero(ctx, n_hits);
        gate.assert_is_const(ctx, &no_hit, &Fr::zero());
        let n_valid = gate.sum(ctx, valid.iter().copied());
        let n_below = gate.sum(ctx, below);
        let n_at_or_below = gate.add(ctx, n_below, n_hits);
        // k = ⌊(n_valid − 1)/2⌋: n_valid − 1 − 2k is a bit.
        let k_value = (n_valid.value().get_lower_64().saturating_sub(1)) / 2;
        let k = ctx.load_witness(Fr::from(k_value));
        range.range_check(ctx, k, COUNT_BITS);
        let n_minus_one = gate.sub(ctx, n_valid, Constant(Fr::one()));
        let parity = gate.mul_add(ctx, k, Constant(-Fr::from(2u64)), n_minus_one);
        gate.assert_bit(ctx, parity);
        let k_plus_one = gate.add(ctx, k, Constant(Fr::one()));
        range.check_less_than(ctx, n_below, k_plus_one, COUNT_BITS);
        range.check_less_than(ctx, k, n_at_or_below, COUNT_BITS);

        // Deviation band and quorum.
        let band = gate.mul(ctx, asset.max_deviation_bps, median);
        let mut verdicts = Vec::with_capacity(valid.len());
        let mut counted = Vec::with_capacity(valid.len());
        for ((q, &v), &lt) in asset.quotes.iter().zip(&valid).zip(&is_below) {
            let down = gate.sub(ctx, median, q.price);
            let up = gate.sub(ctx, q.price, median);
            let distance = gate.select(ctx, down, up, lt);
            let scaled = gate.mul(ctx, distance, Constant(Fr::from(u64::from(bounds::BPS))));
            let outlier = range.is_less_than(ctx, band, scaled, self.price_bits + BPS_BITS);
            let c = gate.mul_not(ctx, outlier, v);
            counted.push(c);
            verdicts.push((v, c));
        }
        let n_counted = gate.sum(ctx, counted);
        // quorum ≥ 1 (range-checking quorum − 1 also stops `check_less_than` from wrapping
        // on quorum = 0), then quorum − 1 < Σ counted.
        let quorum_minus_one = gate.sub(ctx, asset.quorum, Constant(Fr::one()));
        range.range_check(ctx, quorum_minus_one, COUNT_BITS);
        range.check_less_than(ctx, quorum_minus_one, n_counted, COUNT_BITS);
        AssetVerdict { median, verdicts }
    }
}
