//! `TableWitness`: every cell of the account table, computed from a [`MarginWitness`] by the
//! same formulas the gates check. Hints are taken as given (a dishonest witness yields cells
//! that satisfy the arithmetic gates but fail a range check, exactly where the constraints
//! say so).

use std::collections::BTreeMap;

use ethnum::U256;
use halo2_base::halo2_proofs::halo2curves::ff::PrimeField;
use rayon::prelude::*;

use crate::table::lookup::limb_of;
use crate::witness::{MarginWitness, RowWitness};
use zkmargin_core::margin::{self, AccountTerms, Coefficients};
use zkmargin_layout::field::pow2;
use zkmargin_layout::table::{Aux, Checked, Coef, LanePlacement, TableLayout, Total, LANE_LIMBS};
use zkmargin_layout::Fr;

/// The sentinel id closing the chain: `2^ID_BITS − 1`.
pub fn sentinel() -> Fr {
    pow2(zkmargin_layout::table::GAP_BITS) - Fr::one()
}

/// The coefficients `P·W`, `P·V`, `P·R` and `C` of a witness (medians times public weights,
/// folded by [`Coefficients::fold`], as the engine folds them).
pub fn coefficient_values(witness: &MarginWitness) -> BTreeMap<Coef, Fr> {
    let shape = &witness.shape;
    let (assets, markets) = (&witness.inputs.assets, &witness.inputs.markets);
    let by_case = |weight: &dyn Fn(usize) -> Vec<Fr>| -> Vec<Vec<Fr>> {
        (0..shape.cases()).map(weight).collect()
    };
    let folded = Coefficients::fold(
        &witness.medians,
        &shape.underlying,
        &by_case(&|j| assets.iter().map(|a| a.collateral_weights[j]).collect()),
        &by_case(&|j| markets.iter().map(|m| m.mark_weights[j]).collect()),
        &markets
            .iter()
            .map(|m| vec![m.maintenance_weight])
            .collect::<Vec<_>>(),
    );
    let mut out = BTreeMap::new();
    for (case, (collateral, mark)) in folded.collateral.iter().zip(&folded.mark).enumerate() {
        for (asset, &c) in collateral.iter().enumerate() {
            out.insert(Coef::Collateral { case, asset }, c);
        }
        for (market, &c) in mark.iter().enumerate() {
            out.insert(Coef::Mark { case, market }, c);
        }
    }
    for (market, tiers) in folded.maintenance.iter().enumerate() {
        out.insert(Coef::Maintenance(market), tiers[0]);
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
    /// `values[lane][row]`: lane values.
    pub values: Vec<Vec<Fr>>,
    /// `limbs[lane·4 + i][row]`: their limbs.
    pub limbs: Vec<Vec<u32>>,
    /// `data[column][row]`: account data cells.
    pub data: Vec<Vec<Fr>>,
    /// `flags[column][row]`: sign flags.
    pub flags: Vec<Vec<Fr>>,
    /// `coef[column][row]`: price coefficients, repeated in every block.
    pub coef: Vec<Vec<Fr>>,
    /// `acc[column][row]`: running totals.
    pub acc: Vec<Vec<Fr>>,
    /// Final totals, in [`TableLayout::totals`] order.
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

/// One account's witness read as [`AccountTerms`] in the field (the gates read the same terms
/// from cells).
struct FieldTerms<'a> {
    coef: &'a BTreeMap<Coef, Fr>,
    row: &'a RowWitness,
}

impl AccountTerms for FieldTerms<'_> {
    type Value = Fr;
    fn balances(&self) -> usize {
        self.row.balances.len()
    }
    fn positions(&self) -> usize {
        self.row.size_abs.len()
    }
    fn zero(&mut self) -> Fr {
        Fr::zero()
    }
    fn balance(&mut self, asset: usize) -> Fr {
        self.row.balances[asset]
    }
    fn size(&mut self, market: usize) -> Fr {
        self.row.size_abs[market] * (Fr::one() - Fr::from(2u64) * self.row.size_negative[market])
    }
    fn size_abs(&mut self, market: usize) -> Fr {
        self.row.size_abs[market]
    }
    fn cost(&mut self, market: usize) -> Fr {
        self.row.costs[market]
    }
    fn collateral_coefficient(&mut self, case: usize, asset: usize) -> Fr {
        self.coef[&Coef::Collateral { case, asset }]
    }
    fn mark_coefficient(&mut self, case: usize, market: usize) -> Fr {
        self.coef[&Coef::Mark { case, market }]
    }
    fn maintenance_coefficient(&mut self, market: usize) -> Fr {
        self.coef[&Coef::Maintenance(market)]
    }
    /// Flat markets only (`zkmargin_layout::shape::dense_support`): `A_0 = 0`.
    fn maintenance_amount(&mut self, _market: usize) -> Option<Fr> {
        None
    }
    fn quote_coefficient(&mut self) -> Fr {
        self.coef[&Coef::Quote]
    }
}

/// `E_j` per case and `MM` of one account.
struct RowTerms {
    equity: Vec<Fr>,
    maintenance: Fr,
}

fn row_terms(coef: &BTreeMap<Coef, Fr>, row: &RowWitness) -> RowTerms {
    let terms = &mut FieldTerms { coef, row };
    RowTerms {
        equity: (0..row.equity_negative.len())
            .map(|case| margin::equity(terms, case))
            .collect(),
        maintenance: margin::maintenance(terms),
    }
}

impl TableWitness {
    /// Every cell of the table of `witness`, laid out by `plan`.
    pub fn new(plan: &TableLayout, witness: &MarginWitness) -> Self {
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
    pub fn set_checked(&mut self, plan: &TableLayout, block: usize, c: Checked, value: Fr) {
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
    pub fn aux_mut(&mut self, plan: &TableLayout, block: usize, a: Aux) -> &mut Fr {
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
fn lay_lanes(plan: &TableLayout, checked: &BTreeMap<Checked, Fr>) -> (Vec<Vec<Fr>>, Vec<Vec<u32>>) {
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
    plan: &TableLayout,
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
        checked.insert(Checked::Cost(m), *c + pow2(plan.cost_bits - 1));
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

fn tail_block(plan: &TableLayout, last_id: Fr) -> BlockCells {
    let checked = BTreeMap::from([(Checked::Gap, sentinel() - last_id - Fr::one())]);
    let (values, limbs) = lay_lanes(plan, &checked);
    BlockCells {
        values,
        limbs,
        aux: BTreeMap::from([(Aux::Id, sentinel())]),
        contributions: Vec::new(),
    }
}
