//! `AccountChip`: one account row — range checks on every input, the margin arithmetic of
//! `zkmargin_core::fine` in fine units, and the constrained flags.
//!
//! Input bounds enforced here: balances `< 2^64`, `|size| < 2^63` (sign bit + magnitude),
//! `|cost| < 2^127`, ids `< 2^240` and strictly increasing. By `zkmargin_core::bounds` they
//! imply `|E_j| < 2^199` and `0 ≤ MM < 2^199`, which the sign checks rely on.

use halo2_base::gates::{GateInstructions, RangeChip, RangeInstructions};
use halo2_base::{
    AssignedValue, Context, QuantumCell, QuantumCell::Constant, QuantumCell::Existing,
};

use crate::chips::sign::{pow2, SignChip, SignInstructions};
use crate::shape::{EQUITY_BITS, ID_BITS};
use crate::witness::RowWitness;
use crate::Fr;

const BALANCE_BITS: usize = 64;
const SIZE_BITS: usize = 63;
const COST_BITS: usize = 127;

/// Prices folded into the weights, shared by all rows (cells of the main context).
pub struct MarkCells {
    /// `P_a · W[j][a]`.
    pub collateral: Vec<Vec<AssignedValue<Fr>>>,
    /// `P_u · V[j][m]`.
    pub mark: Vec<Vec<AssignedValue<Fr>>>,
    /// `P_u · R[m]`.
    pub maintenance: Vec<AssignedValue<Fr>>,
    /// `C`.
    pub quote_weight: AssignedValue<Fr>,
}

/// One row's contributions to the public totals.
pub struct RowTotals {
    pub balances: Vec<AssignedValue<Fr>>,
    pub long: Vec<AssignedValue<Fr>>,
    pub short: Vec<AssignedValue<Fr>>,
    pub equity: AssignedValue<Fr>,
    pub maintenance: AssignedValue<Fr>,
    pub under_margined: AssignedValue<Fr>,
    pub shortfall: AssignedValue<Fr>,
    /// Per case: `max(0, −E_j)`.
    pub bad_debt: Vec<AssignedValue<Fr>>,
}

pub trait AccountInstructions {
    /// Constrains one account row. `id` and `prev_id` are cells loaded by the caller (ids are
    /// shared between neighbouring rows); `prev_id` is `None` for the first row.
    fn assign_row(
        &self,
        ctx: &mut Context<Fr>,
        marks: &MarkCells,
        row: &RowWitness,
        id: AssignedValue<Fr>,
        prev_id: Option<AssignedValue<Fr>>,
    ) -> RowTotals;
}

pub struct AccountChip<'a> {
    pub range: &'a RangeChip<Fr>,
}

fn existing(cells: &[AssignedValue<Fr>]) -> Vec<QuantumCell<Fr>> {
    cells.iter().map(|&c| Existing(c)).collect()
}

impl AccountInstructions for AccountChip<'_> {
    fn assign_row(
        &self,
        ctx: &mut Context<Fr>,
        marks: &MarkCells,
        row: &RowWitness,
        id: AssignedValue<Fr>,
        prev_id: Option<AssignedValue<Fr>>,
    ) -> RowTotals {
        let (range, gate) = (self.range, self.range.gate());
        let sign = SignChip { range };

        // Ids: canonical (< 2^240) and strictly above the previous row's.
        range.range_check(ctx, id, ID_BITS);
        if let Some(prev) = prev_id {
            let gap = gate.sub(ctx, id, prev);
            let gap_minus_one = gate.sub(ctx, gap, Constant(Fr::one()));
            range.range_check(ctx, gap_minus_one, ID_BITS);
        }

        let balances = ctx.assign_witnesses(row.balances.iter().copied());
        for &b in &balances {
            range.range_check(ctx, b, BALANCE_BITS);
        }
        let abs = ctx.assign_witnesses(row.size_abs.iter().copied());
        let negative = ctx.assign_witnesses(row.size_negative.iter().copied());
        let mut sizes = Vec::with_capacity(abs.len());
        let mut long = Vec::with_capacity(abs.len());
        let mut short = Vec::with_capacity(abs.len());
        for (&a, &n) in abs.iter().zip(&negative) {
            range.range_check(ctx, a, SIZE_BITS);
            gate.assert_bit(ctx, n);
            let s = gate.mul(ctx, n, a);
            // size = |size| − 2·neg·|size|
            sizes.push(gate.mul_add(ctx, s, Constant(-Fr::from(2u64)), a));
            long.push(gate.sub(ctx, a, s));
            short.push(s);
        }
        let costs = ctx.assign_witnesses(row.costs.iter().copied());
        for &c in &costs {
            let shifted = gate.add(ctx, c, Constant(pow2(COST_BITS)));
            range.range_check(ctx, shifted, COST_BITS + 1);
        }
        let cost_sum = gate.sum(ctx, costs.iter().copied());
        let cost_fine = gate.mul(ctx, cost_sum, Existing(marks.quote_weight));

        // The sign of a value from its hint. Without markets every equity is a sum of
        // range-checked balances times public weights, so it cannot be negative (and MM = 0):
        // the flag is then constrained to 0 instead of paying for a ~200-bit sign check.
        let no_markets = marks.mark.iter().all(Vec::is_empty);
        let sign_of = |ctx: &mut Context<Fr>, x: AssignedValue<Fr>, bits: usize, hint: Fr| {
            if no_markets {
                let flag = ctx.load_witness(hint);
                gate.assert_is_const(ctx, &flag, &Fr::zero());
                flag
            } else {
                sign.is_negative(ctx, x, bits, hint)
            }
        };

        // Equity in each case and its sign.
        let mut equity = Vec::with_capacity(marks.collateral.len());
        let mut bad_debt = Vec::with_capacity(marks.collateral.len());
        for (j, hint) in row.equity_negative.iter().enumerate() {
            let cv = gate.inner_product(
                ctx,
                balances.iter().copied(),
                existing(&marks.collateral[j]),
            );
            let marked = gate.inner_product(ctx, sizes.iter().copied(), existing(&marks.mark[j]));
            let value = gate.add(ctx, cv, marked);
            let e = gate.sub(ctx, value, cost_fine);
            let neg = sign_of(ctx, e, EQUITY_BITS, *hint);
            let loss = gate.mul(ctx, neg, e);
            bad_debt.push(gate.neg(ctx, loss));
            equity.push(e);
        }
        let maintenance =
            gate.inner_product(ctx, abs.iter().copied(), existing(&marks.maintenance));
        let surplus = gate.sub(ctx, equity[0], maintenance);
        let under = sign_of(ctx, surplus, EQUITY_BITS + 1, row.under_margined);
        let deficit = gate.mul(ctx, under, surplus);
        let shortfall = gate.neg(ctx, deficit);

        RowTotals {
            balances,
            long,
            short,
            equity: equity[0],
            maintenance,
            under_margined: under,
            shortfall,
            bad_debt,
        }
    }
}
