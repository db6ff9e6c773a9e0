//! `SignChip`: the sign of a bounded signed value, from an untrusted hint.

use halo2_base::gates::{GateInstructions, RangeChip, RangeInstructions};
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use halo2_base::{AssignedValue, Context, QuantumCell::Constant};

use crate::Fr;

/// `2^bits` as a field element.
pub fn pow2(bits: usize) -> Fr {
    Fr::from(2u64).pow_vartime([bits as u64])
}

/// Sign instructions for values known to satisfy `−2^bits ≤ x < 2^bits` (outside it no hint
/// satisfies the check, so an out-of-bound value makes the witness unsatisfiable).
pub trait SignInstructions {
    /// Loads `hint` as a bit `f` and constrains `f = 1 ⇔ x < 0`, by range-checking
    /// `x + f · 2^bits ∈ [0, 2^bits)`: with the wrong bit the shifted value is either
    /// `≥ 2^bits` (x ≥ 0, f = 1) or a field-negative number (x < 0, f = 0).
    fn is_negative(
        &self,
        ctx: &mut Context<Fr>,
        x: AssignedValue<Fr>,
        bits: usize,
        hint: Fr,
    ) -> AssignedValue<Fr>;
}

/// The chip: a thin layer over the range chip.
pub struct SignChip<'a> {
    pub range: &'a RangeChip<Fr>,
}

impl SignInstructions for SignChip<'_> {
    fn is_negative(
        &self,
        ctx: &mut Context<Fr>,
        x: AssignedValue<Fr>,
        bits: usize,
        hint: Fr,
    ) -> AssignedValue<Fr> {
        let gate = self.range.gate();
        let flag = ctx.load_witness(hint);
        gate.assert_bit(ctx, flag);
        let shifted = gate.mul_add(ctx, flag, Constant(pow2(bits)), x);
        self.range.range_check(ctx, shifted, bits);
        flag
    }
}
