//! The account table: one block of rows per account, with custom gates for the margin
//! arithmetic and one logUp range check ([`lookup::LimbLookup`]) for every limb.
//!
//! Gates (all behind fixed selectors, so blinding rows are free), for every account block
//! (`[x]` is the cell of `x` in the block, `[x]'` the same cell one block down):
//! - lanes: every lane-row recomposes its limbs (`v = Σ 2^(b·i)·l_i (+ 2^(4b)·v_below)`), and
//!   unused lane-rows hold 0 — every checked value is in `[0, 2^width)`;
//! - account data equals its lanes: `[bal] = lane`, `[|size|] − [short] = lane` (so a short
//!   position has `|size| ≥ 1`: a zero size has one encoding, long), `[cost] + 2^127 = lane`;
//! - ids: `[gap] = [id] − [id]_previous − 1` (block 0: `[gap] = [id]`; the tail block's id is the
//!   sentinel `2^192 − 1`), so ids strictly increase, start at ≥ 0 and stay below the sentinel;
//! - flags are bits; `[E_j] = E_j + f_j·2^B` and `[surplus] = E_0 − MM + u·2^B`, where
//!   `E_j = Σ bal·[P·W_j] + Σ [|size|]·(1 − 2·short)·[P·V_j] − [C]·Σ ([cost] − 2^127)` and
//!   `MM = Σ |size|·[P·R]`; with the range checks, `f_j = [E_j < 0]` and `u = [E_0 < MM]`;
//! - coefficients: `[c] = [c]'` (the same in every block; block 0 is tied to the oracle side);
//! - totals: `[acc]' = [acc] + contribution` (block 0: `[acc] = 0`; the tail block's
//!   accumulators are tied to the public outputs).

pub mod lookup;
pub mod witness;

use halo2_base::halo2_proofs::circuit::{Cell, Region, Value};
use halo2_base::halo2_proofs::plonk::{
    Advice, Column, ConstraintSystem, Expression, FirstPhase, Selector, VirtualCells,
};
use halo2_base::halo2_proofs::poly::Rotation;

use lookup::LimbLookup;
use witness::{sentinel, TableWitness};
use zkmargin_core::margin::{self, AccountTerms};
use zkmargin_layout::field::pow2;
use zkmargin_layout::table::{
    Aux, Checked, Coef, LaneRowRole, Slot, TableLayout, Total, LANE_LIMBS,
};
use zkmargin_layout::Fr;

#[derive(Debug, Clone)]
/// The account table's columns, selectors and gates.
pub struct TableConfig {
    /// Where every cell of a block lives.
    pub plan: TableLayout,
    /// Lane columns: range-checked values, recomposed from their limbs.
    pub values: Vec<Column<Advice>>,
    /// The logUp range check of the limbs.
    pub lookup: LimbLookup,
    /// Account data columns: what an inclusion proof opens.
    pub data: Vec<Column<Advice>>,
    /// Sign-flag columns.
    pub flags: Vec<Column<Advice>>,
    /// Price-coefficient columns (block 0's tied to the oracle side).
    pub coef: Vec<Column<Advice>>,
    /// Running-total columns.
    pub acc: Vec<Column<Advice>>,
    /// One per lane and lane-row role: on the block rows (tail block included) where the lane
    /// has that role.
    q_lanes: Vec<LaneSelector>,
    /// First row of every account block.
    q_block: Selector,
    /// First row of block 0.
    q_first: Selector,
    /// First row of blocks 1.. and of the tail (the id gap to the block above).
    q_chain: Selector,
    /// First row of the tail block.
    q_tail: Selector,
    /// Every row of every account block.
    q_rows: Selector,
}

/// The selector of the block rows where one lane has one role.
#[derive(Debug, Clone)]
struct LaneSelector {
    lane: usize,
    role: LaneRowRole,
    /// Rows of a block, ascending.
    rows: Vec<usize>,
    /// The checked values on those rows, for the constraint's name (e.g. `Gap, Balance(2)`).
    holds: String,
    selector: Selector,
}

impl LaneSelector {
    fn configure(meta: &mut ConstraintSystem<Fr>, plan: &TableLayout) -> Vec<Self> {
        let mut out: Vec<Self> = Vec::new();
        for lane in 0..plan.lanes {
            let first = out.len();
            for r in 0..plan.block_rows {
                let role = plan.lane_row_role(lane, r);
                match out[first..].iter_mut().find(|s| s.role == role) {
                    Some(s) => s.rows.push(r),
                    None => out.push(LaneSelector {
                        lane,
                        role,
                        rows: vec![r],
                        holds: String::new(),
                        selector: meta.selector(),
                    }),
                }
            }
        }
        for s in &mut out {
            let mut held: Vec<String> = Vec::new();
            for &r in &s.rows {
                let at = plan
                    .checked
                    .iter()
                    .find(|(_, p)| p.lane == s.lane && (p.row..p.row + p.lane_rows()).contains(&r));
                let name = at.map_or("padding".to_string(), |(c, _)| format!("{c:?}"));
                if !held.contains(&name) {
                    held.push(name);
                }
            }
            s.holds = held.join(", ");
        }
        out
    }
}

/// The halo2 cells of the table that tie it to the rest of the circuit.
pub struct TableCells {
    /// Block 0's coefficient cells.
    pub coefs: Vec<(Coef, Cell)>,
    /// The tail block's accumulators (the final totals), in [`TableLayout::totals`] order.
    pub totals: Vec<(Total, Cell)>,
    /// The id cells of the first and the last account block: a shard's id range.
    pub id_range: [Cell; 2],
}

fn constant(x: Fr) -> Expression<Fr> {
    Expression::Constant(x)
}

fn sum(terms: impl IntoIterator<Item = Expression<Fr>>) -> Expression<Fr> {
    terms
        .into_iter()
        .reduce(|a, b| a + b)
        .unwrap_or(constant(Fr::zero()))
}

/// Queries of one block's cells, relative to the block's first row.
struct BlockQueries<'a> {
    config: &'a TableConfig,
}

impl BlockQueries<'_> {
    fn at(meta: &mut VirtualCells<Fr>, column: Column<Advice>, row: usize) -> Expression<Fr> {
        meta.query_advice(column, Rotation(row as i32))
    }

    fn value(&self, meta: &mut VirtualCells<Fr>, c: Checked) -> Expression<Fr> {
        let p = self.config.plan.checked[&c];
        Self::at(meta, self.config.values[p.lane], p.row)
    }

    fn aux(&self, meta: &mut VirtualCells<Fr>, a: Aux) -> Expression<Fr> {
        let (data, s) = self.config.plan.aux_slot(a);
        let columns = if data {
            &self.config.data
        } else {
            &self.config.flags
        };
        Self::at(meta, columns[s.column], s.row)
    }

    fn coef(&self, meta: &mut VirtualCells<Fr>, c: Coef) -> Expression<Fr> {
        let s = self.config.plan.coefs[&c];
        Self::at(meta, self.config.coef[s.column], s.row)
    }

    /// `E_j` from the block's cells ([`margin::equity`]).
    fn equity(&self, meta: &mut VirtualCells<Fr>, case: usize) -> Expression<Fr> {
        margin::equity(&mut GateTerms { block: self, meta }, case)
    }

    /// `MM` from the block's cells ([`margin::maintenance`]).
    fn maintenance(&self, meta: &mut VirtualCells<Fr>) -> Expression<Fr> {
        margin::maintenance(&mut GateTerms { block: self, meta })
    }

    /// Block contribution to a total.
    fn contribution(&self, meta: &mut VirtualCells<Fr>, t: Total) -> Expression<Fr> {
        let one = constant(Fr::one());
        let shift = constant(pow2(self.config.plan.value_bits));
        let markets = self.config.plan.has_markets();
        match t {
            Total::Liability(a) => self.value(meta, Checked::Balance(a)),
            Total::Long(m) => self.aux(meta, Aux::Size(m)) * (one - self.aux(meta, Aux::Short(m))),
            Total::Short(m) => self.aux(meta, Aux::Size(m)) * self.aux(meta, Aux::Short(m)),
            Total::Equity => self.equity(meta, 0),
            Total::Maintenance => self.maintenance(meta),
            Total::Under if markets => self.aux(meta, Aux::Under),
            Total::Shortfall if markets => {
                self.aux(meta, Aux::Under) * (shift - self.value(meta, Checked::Surplus))
            }
            Total::BadDebt(j) if markets => {
                self.aux(meta, Aux::Negative(j)) * (shift - self.value(meta, Checked::Equity(j)))
            }
            _ => constant(Fr::zero()),
        }
    }
}

/// One account block's cells read as [`AccountTerms`]: balances and costs from their
/// range-checked lanes, `|size|` and its sign from the data cells, coefficients from theirs.
struct GateTerms<'q, 'c, 'm> {
    block: &'q BlockQueries<'c>,
    meta: &'q mut VirtualCells<'m, Fr>,
}

impl AccountTerms for GateTerms<'_, '_, '_> {
    type Value = Expression<Fr>;
    fn balances(&self) -> usize {
        self.block.config.plan.assets
    }
    fn positions(&self) -> usize {
        self.block.config.plan.markets
    }
    fn zero(&mut self) -> Expression<Fr> {
        constant(Fr::zero())
    }
    fn balance(&mut self, asset: usize) -> Expression<Fr> {
        self.block.value(self.meta, Checked::Balance(asset))
    }
    fn size(&mut self, market: usize) -> Expression<Fr> {
        let size = self.block.aux(self.meta, Aux::Size(market));
        let short = self.block.aux(self.meta, Aux::Short(market));
        size * (constant(Fr::one()) - constant(Fr::from(2u64)) * short)
    }
    fn size_abs(&mut self, market: usize) -> Expression<Fr> {
        self.block.aux(self.meta, Aux::Size(market))
    }
    fn cost(&mut self, market: usize) -> Expression<Fr> {
        self.block.value(self.meta, Checked::Cost(market))
            - constant(pow2(self.block.config.plan.cost_bits - 1))
    }
    fn collateral_coefficient(&mut self, case: usize, asset: usize) -> Expression<Fr> {
        self.block.coef(self.meta, Coef::Collateral { case, asset })
    }
    fn mark_coefficient(&mut self, case: usize, market: usize) -> Expression<Fr> {
        self.block.coef(self.meta, Coef::Mark { case, market })
    }
    fn maintenance_coefficient(&mut self, market: usize) -> Expression<Fr> {
        self.block.coef(self.meta, Coef::Maintenance(market))
    }
    /// Flat markets only (`zkmargin_layout::shape::dense_support`): `A_0 = 0`, no term.
    fn maintenance_amount(&mut self, _market: usize) -> Option<Expression<Fr>> {
        None
    }
    fn quote_coefficient(&mut self) -> Expression<Fr> {
        self.block.coef(self.meta, Coef::Quote)
    }
}

impl TableConfig {
    /// Allocates the table's columns and creates its gates.
    pub fn configure(meta: &mut ConstraintSystem<Fr>, plan: TableLayout) -> Self {
        let advice = |meta: &mut ConstraintSystem<Fr>, n: usize| -> Vec<Column<Advice>> {
            (0..n).map(|_| meta.advice_column_in(FirstPhase)).collect()
        };
        let values = advice(meta, plan.lanes);
        let limbs = advice(meta, plan.limb_columns());
        let data = advice(meta, plan.data_columns);
        let flags = advice(meta, plan.flag_columns);
        let coef = advice(meta, plan.coef_columns);
        let acc = advice(meta, plan.acc_columns);
        for &c in coef.iter().chain(&acc) {
            meta.enable_equality(c);
        }
        meta.enable_equality(data[plan.data[&Aux::Id].column]);
        let lookup = LimbLookup::configure(meta, limbs);
        let q_lanes = LaneSelector::configure(meta, &plan);
        let config = TableConfig {
            values,
            lookup,
            data,
            flags,
            coef,
            acc,
            q_lanes,
            q_block: meta.selector(),
            q_first: meta.selector(),
            q_chain: meta.selector(),
            q_tail: meta.selector(),
            q_rows: meta.selector(),
            plan,
        };
        config.lane_gates(meta);
        config.account_gates(meta);
        config
    }

    /// One constraint per lane and lane-row role (not per lane-row): fewer polynomials to
    /// evaluate on the extended domain.
    fn lane_gates(&self, meta: &mut ConstraintSystem<Fr>) {
        let b = self.plan.limb_bits;
        meta.create_gate("lane recomposition", |meta| {
            self.q_lanes
                .iter()
                .map(|s| {
                    let q = meta.query_selector(s.selector);
                    let v = meta.query_advice(self.values[s.lane], Rotation::cur());
                    let limbs = sum((0..s.role.limbs).map(|i| {
                        meta.query_advice(
                            self.lookup.limbs[s.lane * LANE_LIMBS + i],
                            Rotation::cur(),
                        ) * constant(pow2(b * i))
                    }));
                    let carry = if s.role.carries {
                        meta.query_advice(self.values[s.lane], Rotation::next())
                            * constant(pow2(b * LANE_LIMBS))
                    } else {
                        constant(Fr::zero())
                    };
                    (
                        format!("range of {}: v = Σ limb_i · 2^(b·i) + carry", s.holds),
                        q * (v - limbs - carry),
                    )
                })
                .collect::<Vec<_>>()
        });
    }

    fn account_gates(&self, meta: &mut ConstraintSystem<Fr>) {
        let plan = &self.plan;
        let block = BlockQueries { config: self };
        let r = plan.block_rows as i32;
        meta.create_gate("account ids", |meta| {
            let id = block.aux(meta, Aux::Id);
            let gap = block.value(meta, Checked::Gap);
            let s = plan.data[&Aux::Id];
            let prev = meta.query_advice(self.data[s.column], Rotation(s.row as i32 - r));
            let (first, chain, tail) = (
                meta.query_selector(self.q_first),
                meta.query_selector(self.q_chain),
                meta.query_selector(self.q_tail),
            );
            vec![
                (
                    "first account: gap = id",
                    first * (gap.clone() - id.clone()),
                ),
                (
                    "chain: gap = id − id_prev − 1",
                    chain * (gap - (id.clone() - prev - constant(Fr::one()))),
                ),
                (
                    "tail: id = 2^ID_BITS − 1",
                    tail * (id - constant(sentinel())),
                ),
            ]
        });
        meta.create_gate("account data equals its lanes", |meta| {
            let q = meta.query_selector(self.q_block);
            let mut out = Vec::new();
            for a in 0..plan.assets {
                let lane = block.value(meta, Checked::Balance(a));
                out.push((
                    format!("balance[{a}]: lane = data"),
                    q.clone() * (lane - block.aux(meta, Aux::Balance(a))),
                ));
            }
            for m in 0..plan.markets {
                // lane = |size| − short: range-checked, so a short position has |size| ≥ 1.
                let lane = block.value(meta, Checked::Size(m));
                let size = block.aux(meta, Aux::Size(m)) - block.aux(meta, Aux::Short(m));
                out.push((
                    format!("size[{m}]: lane = |size| − short"),
                    q.clone() * (lane - size),
                ));
                let lane = block.value(meta, Checked::Cost(m));
                let cost = block.aux(meta, Aux::Cost(m)) + constant(pow2(plan.cost_bits - 1));
                out.push((
                    format!("cost[{m}]: lane = cost + 2^(cost_bits − 1)"),
                    q.clone() * (lane - cost),
                ));
            }
            out
        });
        let flags: Vec<Aux> = plan
            .data
            .keys()
            .chain(plan.flags.keys())
            .filter(|a| a.is_flag())
            .copied()
            .collect();
        if !flags.is_empty() {
            meta.create_gate("flags are bits", |meta| {
                let q = meta.query_selector(self.q_block);
                flags
                    .iter()
                    .map(|&a| {
                        let f = block.aux(meta, a);
                        (
                            format!("{a:?}: f · (1 − f) = 0"),
                            q.clone() * f.clone() * (constant(Fr::one()) - f),
                        )
                    })
                    .collect::<Vec<_>>()
            });
        }
        if plan.has_markets() {
            meta.create_gate("equity and surplus", |meta| {
                let q = meta.query_selector(self.q_block);
                let shift = constant(pow2(plan.value_bits));
                let mut out = Vec::new();
                for j in 0..plan.cases {
                    let v = block.value(meta, Checked::Equity(j));
                    let f = block.aux(meta, Aux::Negative(j));
                    let e = block.equity(meta, j);
                    out.push((
                        format!("equity[{j}]: lane = E_j + negative_j · 2^B"),
                        q.clone() * (v - f * shift.clone() - e),
                    ));
                }
                let surplus = block.value(meta, Checked::Surplus);
                let u = block.aux(meta, Aux::Under);
                let e0 = block.value(meta, Checked::Equity(0))
                    - block.aux(meta, Aux::Negative(0)) * shift.clone();
                let mm = block.maintenance(meta);
                out.push((
                    "surplus: lane = E − MM + under · 2^B".to_string(),
                    q * (surplus - u * shift - (e0 - mm)),
                ));
                out
            });
        }
        meta.create_gate("coefficients repeat", |meta| {
            let q = meta.query_selector(self.q_rows);
            self.coef
                .iter()
                .enumerate()
                .map(|(i, &c)| {
                    (
                        format!("coef column {i}: c = c of the next block"),
                        q.clone()
                            * (meta.query_advice(c, Rotation::cur())
                                - meta.query_advice(c, Rotation(r))),
                    )
                })
                .collect::<Vec<_>>()
        });
        meta.create_gate("totals accumulate", |meta| {
            let q = meta.query_selector(self.q_block);
            let first = meta.query_selector(self.q_first);
            let mut out = Vec::new();
            for &(t, Slot { column, row }) in &plan.totals {
                let acc = meta.query_advice(self.acc[column], Rotation(row as i32));
                let next = meta.query_advice(self.acc[column], Rotation(row as i32 + r));
                let contribution = block.contribution(meta, t);
                out.push((
                    format!("{t:?}: acc′ = acc + contribution"),
                    q.clone() * (next - acc.clone() - contribution),
                ));
                out.push((
                    format!("{t:?}: acc = 0 at the first block"),
                    first.clone() * acc,
                ));
            }
            out
        });
    }

    /// Assigns the first-phase cells; returns the cells tied to the rest of the circuit.
    pub fn assign_first_phase(&self, region: &mut Region<Fr>, w: &TableWitness) -> TableCells {
        let plan = &self.plan;
        let r = plan.block_rows;
        let tail = plan.blocks * r;
        for block in 0..=plan.blocks {
            let start = block * r;
            for s in &self.q_lanes {
                for &i in &s.rows {
                    s.selector.enable(region, start + i).expect("row in range");
                }
            }
            if block < plan.blocks {
                self.q_block.enable(region, start).expect("row in range");
                for i in 0..r {
                    self.q_rows.enable(region, start + i).expect("row in range");
                }
            }
            if block == 0 {
                self.q_first.enable(region, start).expect("row in range");
            } else {
                self.q_chain.enable(region, start).expect("row in range");
            }
        }
        self.q_tail.enable(region, tail).expect("row in range");

        // Assigns columns and returns, per column, the cells of rows `keep` (the rows linked to
        // the rest of the circuit).
        let assign = |region: &mut Region<Fr>,
                      cols: &[Column<Advice>],
                      data: &[Vec<Fr>],
                      keep: std::ops::Range<usize>| {
            cols.iter()
                .zip(data)
                .map(|(col, values)| {
                    let mut kept = Vec::with_capacity(keep.len());
                    for (row, v) in values.iter().enumerate() {
                        let cell = region.assign_advice(*col, row, Value::known(*v)).cell();
                        if keep.contains(&row) {
                            kept.push(cell);
                        }
                    }
                    kept
                })
                .collect::<Vec<Vec<Cell>>>()
        };
        assign(region, &self.values, &w.values, 0..0);
        let id = plan.data[&Aux::Id];
        let last = (plan.blocks - 1) * r + id.row;
        let id_range = [id.row, last].map(|row| {
            region
                .assign_advice(
                    self.data[id.column],
                    row,
                    Value::known(w.data[id.column][row]),
                )
                .cell()
        });
        assign(region, &self.data, &w.data, 0..0);
        assign(region, &self.flags, &w.flags, 0..0);
        for (col, values) in self.lookup.limbs.iter().zip(&w.limbs) {
            for (row, v) in values.iter().enumerate() {
                region.assign_advice(*col, row, Value::known(Fr::from(u64::from(*v))));
            }
        }
        let block0 = assign(region, &self.coef, &w.coef, 0..r);
        let tail_acc = assign(region, &self.acc, &w.acc, tail..tail + r);
        self.lookup
            .assign_first_phase(region, &w.limbs, plan.lookup_rows, plan.limb_bits);
        TableCells {
            coefs: plan
                .coefs
                .iter()
                .map(|(c, s)| (*c, block0[s.column][s.row]))
                .collect(),
            totals: plan
                .totals
                .iter()
                .map(|(t, s)| (*t, tail_acc[s.column][s.row]))
                .collect(),
            id_range,
        }
    }

    /// Assigns the second-phase cells (the lookup's helpers and running sum).
    pub fn assign_second_phase(&self, region: &mut Region<Fr>, w: &TableWitness, beta: Value<Fr>) {
        self.lookup.assign_second_phase(
            region,
            &w.limbs,
            self.plan.lookup_rows,
            self.plan.limb_bits,
            beta,
        );
    }
}
