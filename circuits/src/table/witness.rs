//! `TableWitness`: every cell of the account table, computed from a [`MarginWitness`] by the
//! same formulas the gates check. Hints are taken as given (a dishonest witness yields cells
//! that satisfy the arithmetic gates but fail a range check, exactly where the constraints
//! say so).

use std::collections::BTreeMap;

use ethnum::U256;
use halo2_base::halo2_proofs::halo2curves::ff::PrimeField;
use rayon::prelude::*;

use crate::field::pow2;
use crate::table::lookup::limb_of;
use crate::table::plan::{
    Aux, Checked, Coef, LanePlacement, TablePlan, Total, COST_BITS, LANE_LIMBS,
};
use crate::witness::{MarginWitness, RowWitness};
use crate::Fr;

/// The sentinel id closing the chain: `2^ID_BITS − 1`.
pub fn sentinel() -> Fr {
    pow2(crate::table::plan::GAP_BITS) - Fr::one()
}

/// The coefficients `P·W`, `P·V`, `P·R` and `C` of a witness (medians times public weights).
pub fn coefficient_values(witness: &MarginWitness) -> BTreeMap<Coef, Fr> {
    let shape = &witness.shape;
    let mut out = BTreeMap::new();
    for case in 0..shape.cases() {
        for (asset, a) in witness.inputs.assets.iter().enumerate() {
            out.insert(
                Coef::Collateral { case, asset },
                witness.medians[asset] * a.collateral_weights[case],
            );
        }
        for (market, m) in witness.inputs.markets.iter().enumerate() {
            let price = witness.medians[shape.underlying[market]];
            out.insert(Coef::Mark { case, market }, price * m.mark_weights[case]);
        }
    }
    for (market, m) in witness.inputs.markets.iter().enumerate() {
        let price = witness.medians[shape.underlying[market]];
        out.insert(Coef::Maintenance(market), price * m.maintenance_weight);
    }
    out.insert(Coef::Quote, witness.inputs.quote_weight);
    out
}

/// One block's cells before they are laid into columns.
struct BlockCells {
    /// `values[lane][row]`.
    values: Vec<Vec<Fr>>,
    /// `limbs[lane·4 + i][row]`.
    limbs: Vec<Vec<u32>>,
    aux: BTreeMap<Aux, Fr>,
    contributions: Vec<Fr>,
}

/// All table cells, column by column (rows `0..table_rows`; limbs up to `lookup_rows`).
#[derive(Debug, Clone, Default)]
pub struct TableWitness {
    pub values: Vec<Vec<Fr>>,
    pub limbs: Vec<Vec<u32>>,
    pub data: Vec<Vec<Fr>>,
    pub flags: Vec<Vec<Fr>>,
    pub coef: Vec<Vec<Fr>>,
    pub acc: Vec<Vec<Fr>>,
    /// Final totals, in [`TablePlan::totals`] order.
    pub totals: Vec<Fr>,
    /// Coefficient values, for the links to the oracle side.
    pub coefficients: BTreeMap<Coef, Fr>,
    /// The ids of the first and the last account block, exposed as the shard's id range.
    pub id_range: [Fr; 2],
}

/// `x >> bits` on the canonical integer of `x`.
fn shift_right(x: &Fr, bits: usize) -> Fr {
    let v = U256::from_le_bytes(x.to_repr()) >> bits as u32;
    Fr::from_repr(v.to_le_bytes()).expect("a shifted canonical value stays canonical")
}

/// Per-account arithmetic in the field, mirroring the gates.
struct RowTerms {
    /// `E_j` per case.
    equity: Vec<Fr>,
    /// `MM`.
    maintenance: Fr,
}

fn row_terms(coef: &BTreeMap<Coef, Fr>, row: &RowWitness) -> RowTerms {
    let cases = row.equity_negative.len();
    let signed_sizes: Vec<Fr> = row
        .size_abs
        .iter()
        .zip(&row.size_negative)
        .map(|(a, n)| *a * (Fr::one() - Fr::from(2u64) * n))
        .collect();
    let cost: Fr = row.costs.iter().sum();
    let equity = (0..cases)
        .map(|case| {
            let cv: Fr = row
                .balances
                .iter()
                .enumerate()
                .map(|(asset, b)| *b * coef[&Coef::Collateral { case, asset }])
                .sum();
            let marked: Fr = signed_sizes
                .iter()
                .enumerate()
                .map(|(market, s)| *s * coef[&Coef::Mark { case, market }])
                .sum();
            cv + marked - coef[&Coef::Quote] * cost
        })
        .collect();
    let maintenance = row
        .size_abs
        .iter()
        .enumerate()
        .map(|(m, a)| *a * coef[&Coef::Maintenance(m)])
        .sum();
    RowTerms {
        equity,
        maintenance,
    }
}

impl TableWitness {
    pub fn new(plan: &TablePlan, witness: &MarginWitness) -> Self {
        let coefficients = coefficient_values(witness);
        let rows = &witness.rows;
        let blocks: Vec<BlockCells> = (0..=plan.blocks)
            .into_par_iter()
            .map(|i| {
                let prev = if i == 0 { -Fr::one() } else { rows[i - 1].id };
                match rows.get(i).filter(|_| i < plan.blocks) {
                    Some(row) => account_block(plan, &coefficients, row, prev),
                    None => tail_block(plan, prev),
                }
            })
            .collect();

        let r = plan.block_rows;
        let n = plan.table_rows();
        let mut values = vec![vec![Fr::zero(); n]; plan.lanes];
        let mut limbs = vec![vec![0u32; plan.lookup_rows]; plan.limb_columns()];
        let mut data = vec![vec![Fr::zero(); n]; plan.data_columns];
        let mut flags = vec![vec![Fr::zero(); n]; plan.flag_columns];
        let mut coef = vec![vec![Fr::zero(); n]; plan.coef_columns];
        let mut acc = vec![vec![Fr::zero(); n]; plan.acc_columns];
        let mut running = vec![Fr::zero(); plan.totals.len()];
        for (i, block) in blocks.iter().enumerate() {
            let base = i * r;
            for (lane, col) in block.values.iter().enumerate() {
                values[lane][base..base + r].copy_from_slice(col);
            }
            for (c, col) in block.limbs.iter().enumerate() {
                limbs[c][base..base + r].copy_from_slice(col);
            }
            for (a, slot) in &plan.data {
                data[slot.column][base + slot.row] = block.aux.get(a).copied().unwrap_or_default();
            }
            for (a, slot) in &plan.flags {
                flags[slot.column][base + slot.row] = block.aux.get(a).copied().unwrap_or_default();
            }
            for (c, slot) in &plan.coefs {
                coef[slot.column][base + slot.row] = coefficients[c];
            }
            for ((_, slot), total) in plan.totals.iter().zip(&running) {
                acc[slot.column][base + slot.row] = *total;
            }
            if i < plan.blocks {
                for (t, c) in running.iter_mut().zip(&block.contributions) {
                    *t += c;
                }
            }
        }
        let id = plan.data[&Aux::Id];
        let id_range = [
            data[id.column][id.row],
            data[id.column][(plan.blocks - 1) * r + id.row],
        ];
        TableWitness {
            id_range,
            values,
            limbs,
            data,
            flags,
            coef,
            acc,
            totals: running,
            coefficients,
        }
    }
}

impl TableWitness {
    /// Rewrites checked value `c` of `block` (its lane cells and limbs) to `value`, decomposed
    /// the way an honest prover would. For tests that edit one value and expect exactly the
    /// constraints that read it to fail.
    pub fn set_checked(&mut self, plan: &TablePlan, block: usize, c: Checked, value: Fr) {
        let base = block * plan.block_rows;
        decompose(
            &plan.checked[&c],
            &value,
            plan.limb_bits,
            |lane, row, v| self.values[lane][base + row] = v,
            |column, row, l| self.limbs[column][base + row] = l,
        );
    }

    /// The cell of `a` in `block`.
    pub fn aux_mut(&mut self, plan: &TablePlan, block: usize, a: Aux) -> &mut Fr {
        let (data, s) = plan.aux_slot(a);
        let columns = if data {
            &mut self.data
        } else {
            &mut self.flags
        };
        &mut columns[s.column][block * plan.block_rows + s.row]
    }
}

/// The cells of `value` placed at `p` (rows relative to the block): `put_value(lane, row, v)`
/// for the running remainder of every lane-row, `put_limb(limb column, row, limb)` for every
/// limb the value uses.
fn decompose(
    p: &LanePlacement,
    value: &Fr,
    limb_bits: usize,
    mut put_value: impl FnMut(usize, usize, Fr),
    mut put_limb: impl FnMut(usize, usize, u32),
) {
    for i in 0..p.lane_rows() {
        put_value(
            p.lane,
            p.row + i,
            shift_right(value, LANE_LIMBS * limb_bits * i),
        );
        for j in 0..LANE_LIMBS {
            let index = LANE_LIMBS * i + j;
            if index < p.limbs {
                put_limb(
                    p.lane * LANE_LIMBS + j,
                    p.row + i,
                    limb_of(value, index, limb_bits),
                );
            }
        }
    }
}

/// Lays checked values into lanes with their limbs and running remainders.
fn lay_lanes(plan: &TablePlan, checked: &BTreeMap<Checked, Fr>) -> (Vec<Vec<Fr>>, Vec<Vec<u32>>) {
    let r = plan.block_rows;
    let mut values = vec![vec![Fr::zero(); r]; plan.lanes];
    let mut limbs = vec![vec![0u32; r]; plan.limb_columns()];
    for (c, p) in &plan.checked {
        let v = checked.get(c).copied().unwrap_or_default();
        decompose(
            p,
            &v,
            plan.limb_bits,
            |lane, row, x| values[lane][row] = x,
            |column, row, l| limbs[column][row] = l,
        );
    }
    (values, limbs)
}

fn account_block(
    plan: &TablePlan,
    coef: &BTreeMap<Coef, Fr>,
    row: &RowWitness,
    prev_id: Fr,
) -> BlockCells {
    let shift = pow2(plan.value_bits);
    let terms = row_terms(coef, row);
    let mut checked = BTreeMap::new();
    checked.insert(Checked::Gap, row.id - prev_id - Fr::one());
    for (a, b) in row.balances.iter().enumerate() {
        checked.insert(Checked::Balance(a), *b);
    }
    for (m, (a, c)) in row.size_abs.iter().zip(&row.costs).enumerate() {
        checked.insert(Checked::Size(m), *a - row.size_negative[m]);
        checked.insert(Checked::Cost(m), *c + pow2(COST_BITS - 1));
    }
    let mut aux = BTreeMap::from([(Aux::Id, row.id)]);
    for (a, b) in row.balances.iter().enumerate() {
        aux.insert(Aux::Balance(a), *b);
    }
    for (m, n) in row.size_negative.iter().enumerate() {
        aux.insert(Aux::Size(m), row.size_abs[m]);
        aux.insert(Aux::Short(m), *n);
        aux.insert(Aux::Cost(m), row.costs[m]);
    }
    let surplus = terms.equity[0] - terms.maintenance + row.under_margined * shift;
    if plan.has_markets() {
        for (j, (e, f)) in terms.equity.iter().zip(&row.equity_negative).enumerate() {
            checked.insert(Checked::Equity(j), *e + *f * shift);
            aux.insert(Aux::Negative(j), *f);
        }
        checked.insert(Checked::Surplus, surplus);
        aux.insert(Aux::Under, row.under_margined);
    }
    let contributions = plan
        .totals
        .iter()
        .map(|(t, _)| match *t {
            Total::Liability(a) => row.balances[a],
            Total::Long(m) => row.size_abs[m] * (Fr::one() - row.size_negative[m]),
            Total::Short(m) => row.size_abs[m] * row.size_negative[m],
            Total::Equity => terms.equity[0],
            Total::Maintenance => terms.maintenance,
            Total::Under if plan.has_markets() => row.under_margined,
            Total::Shortfall if plan.has_markets() => row.under_margined * (shift - surplus),
            Total::BadDebt(j) if plan.has_markets() => {
                let f = row.equity_negative[j];
                f * (shift - checked[&Checked::Equity(j)])
            }
            _ => Fr::zero(),
        })
        .collect();
    let (values, limbs) = lay_lanes(plan, &checked);
    BlockCells {
        values,
        limbs,
        aux,
        contributions,
    }
}

fn tail_block(plan: &TablePlan, last_id: Fr) -> BlockCells {
    let checked = BTreeMap::from([(Checked::Gap, sentinel() - last_id - Fr::one())]);
    let (values, limbs) = lay_lanes(plan, &checked);
    BlockCells {
        values,
        limbs,
        aux: BTreeMap::from([(Aux::Id, sentinel())]),
        contributions: Vec::new(),
    }
}
