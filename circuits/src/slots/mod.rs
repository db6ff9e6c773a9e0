//! The slot table (account table v2, layout in `zkmargin_layout::slots`): one row per entry an
//! account holds, each row's coefficients looked up in the public instrument table, so an
//! account costs what it holds. [`circuit::SlotCircuit`] proves one class shard with the
//! epoch's instrument table as public instances; [`public`] derives every public value from
//! the config and the statement (the verifier's side).
//!
//! Constraints (every polynomial is named with its formula; `′` is the next row, `[r]` the
//! row `r` of the block):
//! - *slots*: `empty`, `short` and the sign flags are bits; `live = 1 − empty`; an empty slot
//!   has `qty = cost = amount = 0` (so it adds nothing); a balance (`kind = 0`) has no short
//!   and no cost;
//! - *instrument table*: `(live, live·inst, live·tier, live·coef_j, live·cost_coef,
//!   live·price, live·rate, live·amount, live·lo, live·hi, live·kind)` is a row of
//!   `(table, inst, tier, …)` — a live slot reads exactly one instrument-tier row's
//!   coefficients (the fixed `table` marker is 1 only on instrument rows, so a slot row can
//!   never serve as a table row);
//! - *tiers*: `x = qty · price`, and `x − lo`, `hi − x` are range-checked: the notional lies in
//!   the tier the slot claims, boundaries included exactly as the engine draws them;
//! - *order*: inside a block `inst′ − inst − 1` is range-checked unless the next slot is empty,
//!   and `empty · (1 − empty′) = 0`: instruments strictly increase (none twice), empties last;
//!   `id′ = id` (one account per block);
//! - *lanes*: `qty − short`, `cost + 2^(c−1)` and every gap recompose from range-checked limbs
//!   (one logUp argument, [`crate::table::lookup::LimbLookup`]);
//! - *margin*: per slot `e_j = size · coef_j − cost_coef · cost` and `m = qty · rate − amount`
//!   ([`zkmargin_core::margin::equity`] and [`zkmargin_core::margin::maintenance`] over one
//!   entry, so the formula is the engine's), accumulated down the block; the account values
//!   `E_j + f_j · 2^B`, `E_0 − MM + u · 2^B` (range-checked in `B` bits, so `f_j = [E_j < 0]`,
//!   `u = [E_0 < MM]`) and `id − id_prev − 1` (192 bits; block 0: `id`) sit in the account
//!   lanes;
//! - *totals*: running sums of equity, requirement, under-margined accounts, shortfall and bad
//!   debt per case, 0 before the first slot;
//! - *instrument totals*: `h · (β − 2·inst − short) = sign · qty` with `sign = +1` on slot rows
//!   and `−1` on the instrument-totals rows, and `w′ = w + h` from 0 to 0: a weighted logUp, so
//!   every (instrument, side)'s public total is the sum of its slots' quantities (liabilities,
//!   long and short open interest) without a column per instrument.

pub mod circuit;
pub mod witness;

use halo2_base::halo2_proofs::circuit::{Cell, Region, Value};
use halo2_base::halo2_proofs::plonk::{
    Advice, Column, ConstraintSystem, Expression, FirstPhase, Fixed, SecondPhase, Selector,
    VirtualCells,
};
use halo2_base::halo2_proofs::poly::Rotation;

use crate::table::lookup::LimbLookup;
use witness::Assigned;
use zkmargin_core::margin::{self, AccountTerms};
use zkmargin_layout::field::pow2;
use zkmargin_layout::slots::public::{SlotTotal, Tuple};
use zkmargin_layout::slots::{AccountValue, SlotData, SlotShape, SlotValue};
use zkmargin_layout::Fr;

/// The slot table's columns, selectors and gates.
#[derive(Debug, Clone)]
pub struct SlotTableConfig {
    /// The shape the gates were made for.
    pub shape: SlotShape,
    /// Account id (equal on every row of a block).
    pub id: Column<Advice>,
    /// Instrument index (assets first, then markets), or the instrument of a totals row.
    pub inst: Column<Advice>,
    /// Tier of a position (0 for a balance).
    pub tier: Column<Advice>,
    /// The slot is empty (bit).
    pub empty: Column<Advice>,
    /// Balance or `|size|`; on a totals row, the total.
    pub qty: Column<Advice>,
    /// The position is short (bit); on a totals row, the side.
    pub short: Column<Advice>,
    /// Signed cost basis.
    pub cost: Column<Advice>,
    /// `1 − empty`: the slot reads the instrument table.
    pub live: Column<Advice>,
    /// Looked-up coefficients (instrument rows hold the table itself).
    pub tuple: Tuple<Column<Advice>>,
    /// `x = qty · price`.
    pub notional: Column<Advice>,
    /// The slot values' lanes, in [`SlotShape::slot_values`] order.
    pub values: Vec<Column<Advice>>,
    /// Account lanes.
    pub account: Vec<Column<Advice>>,
    /// Sign flags of the account lanes.
    pub flags: Vec<Column<Advice>>,
    /// The limb range check (slot limbs, then each account lane's).
    pub lookup: LimbLookup,
    /// Per-block accumulators: `E_j` per case, then `MM`.
    pub acc: Vec<Column<Advice>>,
    /// Running totals, in [`SlotTotal`] order.
    pub totals: Vec<Column<Advice>>,
    /// `h = sign · qty / (β − 2·inst − short)` (second phase).
    pub h: Column<Advice>,
    /// Running sum of `h` (second phase).
    pub w: Column<Advice>,
    /// 1 on instrument-table rows.
    pub table: Column<Fixed>,
    /// +1 on slot rows, −1 on instrument-totals rows.
    pub sign: Column<Fixed>,
    q_slot: Selector,
    q_first: Selector,
    q_inner: Selector,
    q_pair: Selector,
    q_last: Selector,
    /// Row `p` of every block, for the rows holding account values.
    q_pos: Vec<Selector>,
    /// The id gap's row, in block 0 and in the other blocks.
    q_id_first: Selector,
    q_id_chain: Selector,
    q_totals_start: Selector,
    q_w: Selector,
    q_w_start: Selector,
    q_w_end: Selector,
}

/// The cells that carry the table's public values.
pub struct SlotCells {
    /// Every instrument row's `inst, tier, tuple…` cells.
    pub instruments: Vec<Vec<Cell>>,
    /// Every instrument-totals row's `inst, side, total` cells.
    pub instrument_totals: Vec<[Cell; 3]>,
    /// The final running totals, in [`SlotTotal`] order.
    pub totals: Vec<Cell>,
    /// The first and the last account id.
    pub id_range: [Cell; 2],
}

fn constant(x: Fr) -> Expression<Fr> {
    Expression::Constant(x)
}

fn one() -> Expression<Fr> {
    constant(Fr::one())
}

/// One slot as a one-entry account of [`margin`]: a balance is an entry marked at `P · W_j`
/// with no cost coefficient, rate or amount (the looked-up row says which).
struct SlotGateTerms<'q, 'm> {
    config: &'q SlotTableConfig,
    meta: &'q mut VirtualCells<'m, Fr>,
}

impl SlotGateTerms<'_, '_> {
    fn cur(&mut self, column: Column<Advice>) -> Expression<Fr> {
        self.meta.query_advice(column, Rotation::cur())
    }
}

impl AccountTerms for SlotGateTerms<'_, '_> {
    type Value = Expression<Fr>;
    fn balances(&self) -> usize {
        0
    }
    fn positions(&self) -> usize {
        1
    }
    fn zero(&mut self) -> Expression<Fr> {
        constant(Fr::zero())
    }
    fn balance(&mut self, _: usize) -> Expression<Fr> {
        unreachable!("a slot is one position-shaped entry")
    }
    fn size(&mut self, _: usize) -> Expression<Fr> {
        let (qty, short) = (self.config.qty, self.config.short);
        self.cur(qty) * (one() - constant(Fr::from(2u64)) * self.cur(short))
    }
    fn size_abs(&mut self, _: usize) -> Expression<Fr> {
        let qty = self.config.qty;
        self.cur(qty)
    }
    fn cost(&mut self, _: usize) -> Expression<Fr> {
        let cost = self.config.cost;
        self.cur(cost)
    }
    fn collateral_coefficient(&mut self, _: usize, _: usize) -> Expression<Fr> {
        unreachable!("a slot is one position-shaped entry")
    }
    fn mark_coefficient(&mut self, case: usize, _: usize) -> Expression<Fr> {
        let c = self.config.tuple.coef[case];
        self.cur(c)
    }
    fn maintenance_coefficient(&mut self, _: usize) -> Expression<Fr> {
        let c = self.config.tuple.rate;
        self.cur(c)
    }
    fn maintenance_amount(&mut self, _: usize) -> Option<Expression<Fr>> {
        let c = self.config.tuple.amount;
        Some(self.cur(c))
    }
    fn quote_coefficient(&mut self) -> Expression<Fr> {
        let c = self.config.tuple.cost_coef;
        self.cur(c)
    }
}

impl SlotTableConfig {
    /// The columns holding what an account's holder knows (its inclusion data).
    pub fn data(&self) -> SlotData<Column<Advice>> {
        SlotData {
            id: self.id,
            inst: self.inst,
            tier: self.tier,
            empty: self.empty,
            qty: self.qty,
            short: self.short,
            cost: self.cost,
        }
    }

    /// Allocates the columns and creates the gates for `shape`.
    pub fn configure(meta: &mut ConstraintSystem<Fr>, shape: SlotShape) -> Self {
        let advice = |meta: &mut ConstraintSystem<Fr>, n: usize| -> Vec<Column<Advice>> {
            (0..n).map(|_| meta.advice_column_in(FirstPhase)).collect()
        };
        let [id, inst, tier, empty, qty, short, cost, live, notional] =
            std::array::from_fn(|_| meta.advice_column_in(FirstPhase));
        let tuple = Tuple {
            coef: advice(meta, shape.cases),
            cost_coef: meta.advice_column_in(FirstPhase),
            price: meta.advice_column_in(FirstPhase),
            rate: meta.advice_column_in(FirstPhase),
            amount: meta.advice_column_in(FirstPhase),
            lo: meta.advice_column_in(FirstPhase),
            hi: meta.advice_column_in(FirstPhase),
            kind: meta.advice_column_in(FirstPhase),
        };
        let values = advice(meta, shape.slot_values().len());
        let lanes = shape.account_lanes();
        let account = advice(meta, lanes);
        let flags = advice(meta, lanes);
        let limbs = advice(meta, shape.slot_limbs() + lanes * shape.account_limbs());
        let acc = advice(meta, shape.cases + 1);
        let totals = advice(meta, SlotTotal::all(shape.cases).len());
        for &c in [id, inst, tier, short, qty]
            .iter()
            .chain(&tuple.flatten())
            .chain(&totals)
        {
            meta.enable_equality(c);
        }
        let lookup = LimbLookup::configure(meta, limbs);
        let h = meta.advice_column_in(SecondPhase);
        let w = meta.advice_column_in(SecondPhase);
        let table = meta.fixed_column();
        let sign = meta.fixed_column();
        let positions = shape.slots.min(shape.account_values());
        let config = SlotTableConfig {
            id,
            inst,
            tier,
            empty,
            qty,
            short,
            cost,
            live,
            tuple,
            notional,
            values,
            account,
            flags,
            lookup,
            acc,
            totals,
            h,
            w,
            table,
            sign,
            q_slot: meta.complex_selector(),
            q_first: meta.selector(),
            q_inner: meta.selector(),
            q_pair: meta.selector(),
            // Complex: the totals gate subtracts terms gated by these.
            q_last: meta.complex_selector(),
            q_pos: (0..positions).map(|_| meta.complex_selector()).collect(),
            q_id_first: meta.selector(),
            q_id_chain: meta.selector(),
            q_totals_start: meta.selector(),
            q_w: meta.selector(),
            q_w_start: meta.selector(),
            q_w_end: meta.selector(),
            shape,
        };
        config.slot_gates(meta);
        config.instrument_lookup(meta);
        config.lane_gates(meta);
        config.margin_gates(meta);
        config.total_gates(meta);
        config.instrument_total_gates(meta);
        config
    }

    fn cur(meta: &mut VirtualCells<Fr>, c: Column<Advice>) -> Expression<Fr> {
        meta.query_advice(c, Rotation::cur())
    }

    fn next(meta: &mut VirtualCells<Fr>, c: Column<Advice>) -> Expression<Fr> {
        meta.query_advice(c, Rotation::next())
    }

    fn slot_gates(&self, meta: &mut ConstraintSystem<Fr>) {
        meta.create_gate("slots", |meta| {
            let q = meta.query_selector(self.q_slot);
            let [empty, short, qty, cost, live, amount, kind, price, x] = [
                self.empty,
                self.short,
                self.qty,
                self.cost,
                self.live,
                self.tuple.amount,
                self.tuple.kind,
                self.tuple.price,
                self.notional,
            ]
            .map(|c| Self::cur(meta, c));
            let mut out = vec![
                (
                    "empty: e · (1 − e) = 0".to_string(),
                    q.clone() * empty.clone() * (one() - empty.clone()),
                ),
                (
                    "short: s · (1 − s) = 0".to_string(),
                    q.clone() * short.clone() * (one() - short.clone()),
                ),
                (
                    "live = 1 − empty".to_string(),
                    q.clone() * (live - one() + empty.clone()),
                ),
                (
                    "empty slot: empty · qty = 0".to_string(),
                    q.clone() * empty.clone() * qty.clone(),
                ),
                (
                    "empty slot: empty · cost = 0".to_string(),
                    q.clone() * empty.clone() * cost.clone(),
                ),
                (
                    "empty slot: empty · amount = 0".to_string(),
                    q.clone() * empty * amount,
                ),
                (
                    "balance: (1 − kind) · short = 0".to_string(),
                    q.clone() * (one() - kind.clone()) * short,
                ),
                (
                    "balance: (1 − kind) · cost = 0".to_string(),
                    q.clone() * (one() - kind) * cost,
                ),
                (
                    "notional: x = qty · price".to_string(),
                    q.clone() * (x - qty * price),
                ),
            ];
            for (l, &f) in self.flags.iter().enumerate() {
                let f = Self::cur(meta, f);
                out.push((
                    format!("flag[{l}]: f · (1 − f) = 0"),
                    q.clone() * f.clone() * (one() - f),
                ));
            }
            out
        });
        meta.create_gate("block order", |meta| {
            let q = meta.query_selector(self.q_pair);
            let [id, id_next, inst, inst_next, empty, empty_next] = [
                Self::cur(meta, self.id),
                Self::next(meta, self.id),
                Self::cur(meta, self.inst),
                Self::next(meta, self.inst),
                Self::cur(meta, self.empty),
                Self::next(meta, self.empty),
            ];
            let order = Self::cur(meta, self.values[4]);
            vec![
                (
                    "one account per block: id′ = id",
                    q.clone() * (id_next - id),
                ),
                (
                    "empties last: empty · (1 − empty′) = 0",
                    q.clone() * empty * (one() - empty_next.clone()),
                ),
                (
                    "order: (1 − empty′) · (gap − (inst′ − inst − 1)) = 0",
                    q * (one() - empty_next) * (order - (inst_next - inst - one())),
                ),
            ]
        });
    }

    fn instrument_lookup(&self, meta: &mut ConstraintSystem<Fr>) {
        meta.lookup_any("instrument table", |meta| {
            let live = Self::cur(meta, self.live);
            let mut pairs = vec![(live.clone(), meta.query_fixed(self.table, Rotation::cur()))];
            for c in [self.inst, self.tier]
                .into_iter()
                .chain(self.tuple.flatten())
            {
                let v = Self::cur(meta, c);
                pairs.push((live.clone() * v.clone(), v));
            }
            pairs
        });
    }

    fn recompose(
        &self,
        meta: &mut VirtualCells<Fr>,
        first_limb: usize,
        limbs: usize,
    ) -> Expression<Fr> {
        let b = self.shape.limb_bits();
        (0..limbs)
            .map(|i| {
                meta.query_advice(self.lookup.limbs[first_limb + i], Rotation::cur())
                    * constant(pow2(b * i))
            })
            .fold(constant(Fr::zero()), |a, t| a + t)
    }

    fn lane_gates(&self, meta: &mut ConstraintSystem<Fr>) {
        let b = self.shape.limb_bits();
        let cost_shift = pow2(self.shape.widths.cost_bits as usize - 1);
        meta.create_gate("slot lanes", |meta| {
            let q = meta.query_selector(self.q_slot);
            let [qty, short, cost, x, lo, hi] = [
                self.qty,
                self.short,
                self.cost,
                self.notional,
                self.tuple.lo,
                self.tuple.hi,
            ]
            .map(|c| Self::cur(meta, c));
            let mut out = Vec::new();
            let mut first = 0;
            for (i, (value, bits)) in self.shape.slot_values().into_iter().enumerate() {
                let lane = Self::cur(meta, self.values[i]);
                let n = bits.div_ceil(b);
                let limbs = self.recompose(meta, first, n);
                first += n;
                let (name, expected) = match value {
                    SlotValue::Quantity => {
                        ("quantity lane = qty − short", qty.clone() - short.clone())
                    }
                    SlotValue::Cost => (
                        "cost lane = cost + 2^(cost_bits − 1)",
                        cost.clone() + constant(cost_shift),
                    ),
                    SlotValue::TierFloor => ("tier floor lane = x − lo", x.clone() - lo.clone()),
                    SlotValue::TierCap => ("tier cap lane = hi − x", hi.clone() - x.clone()),
                    // Set by the block-order gate.
                    SlotValue::Order => ("order lane", lane.clone()),
                };
                out.push((
                    format!("range of {value:?}: lane = Σ limb_i · 2^(b·i)"),
                    q.clone() * (lane.clone() - limbs),
                ));
                if value != SlotValue::Order {
                    out.push((name.to_string(), q.clone() * (lane - expected)));
                }
            }
            out
        });
    }

    /// The first limb column of account lane `l`.
    fn account_limb(&self, l: usize) -> usize {
        self.shape.slot_limbs() + l * self.shape.account_limbs()
    }

    fn margin_gates(&self, meta: &mut ConstraintSystem<Fr>) {
        let cases = self.shape.cases;
        meta.create_gate("per-account sums", |meta| {
            let (first, inner) = (
                meta.query_selector(self.q_first),
                meta.query_selector(self.q_inner),
            );
            let mut terms = SlotGateTerms { config: self, meta };
            let mut contribution: Vec<Expression<Fr>> =
                (0..cases).map(|j| margin::equity(&mut terms, j)).collect();
            contribution.push(margin::maintenance(&mut terms));
            let mut out = Vec::new();
            for (i, (&acc, c)) in self.acc.iter().zip(contribution).enumerate() {
                let what = if i < cases {
                    format!("E[{i}]")
                } else {
                    "MM".to_string()
                };
                let a = Self::cur(meta, acc);
                let prev = meta.query_advice(acc, Rotation::prev());
                out.push((
                    format!("{what}: acc = slot term at a block's first slot"),
                    first.clone() * (a.clone() - c.clone()),
                ));
                out.push((
                    format!("{what}: acc = acc_prev + slot term"),
                    inner.clone() * (a - prev - c),
                ));
            }
            out
        });
        let s = self.shape.slots as i32;
        let shift = pow2(self.shape.value_bits);
        let b = self.shape.limb_bits();
        meta.create_gate("account values", |meta| {
            let mut out = Vec::new();
            for (p, &q) in self.q_pos.iter().enumerate() {
                let q = meta.query_selector(q);
                let last = Rotation(s - 1 - p as i32);
                for l in 0..self.account.len() {
                    let v = self.shape.account_value(l, p);
                    let lane = Self::cur(meta, self.account[l]);
                    let f = Self::cur(meta, self.flags[l]);
                    let n = self.shape.account_value_bits(v).div_ceil(b);
                    let limbs = self.recompose(meta, self.account_limb(l), n);
                    out.push((
                        format!("range of {v:?}: lane = Σ limb_i · 2^(b·i)"),
                        q.clone() * (lane.clone() - limbs),
                    ));
                    let sign = lane.clone() - f.clone() * constant(shift);
                    match v {
                        AccountValue::Equity(j) => {
                            let e = meta.query_advice(self.acc[j], last);
                            out.push((
                                format!("equity[{j}]: lane = E_j + negative_j · 2^B"),
                                q.clone() * (sign - e),
                            ));
                        }
                        AccountValue::Surplus => {
                            let e = meta.query_advice(self.acc[0], last);
                            let mm = meta.query_advice(self.acc[cases], last);
                            out.push((
                                "surplus: lane = E − MM + under · 2^B".to_string(),
                                q.clone() * (sign - (e - mm)),
                            ));
                        }
                        AccountValue::IdGap | AccountValue::Unused => {
                            out.push((format!("{v:?}: flag = 0"), q.clone() * f));
                        }
                    }
                }
            }
            out
        });
        meta.create_gate("account ids", |meta| {
            let (first, chain) = (
                meta.query_selector(self.q_id_first),
                meta.query_selector(self.q_id_chain),
            );
            let (l, p) = self.id_gap_place();
            let lane = Self::cur(meta, self.account[l]);
            let id = Self::cur(meta, self.id);
            let prev = meta.query_advice(self.id, Rotation(-(p as i32) - 1));
            vec![
                (
                    "first account: gap = id",
                    first * (lane.clone() - id.clone()),
                ),
                (
                    "chain: gap = id − id_prev − 1",
                    chain * (lane - (id - prev - one())),
                ),
            ]
        });
    }

    /// `(lane, row)` of account value `v` in a block.
    fn place(&self, v: AccountValue) -> (usize, usize) {
        (0..self.account.len())
            .flat_map(|l| (0..self.shape.slots).map(move |p| (l, p)))
            .find(|&(l, p)| self.shape.account_value(l, p) == v)
            .expect("every account value has a place")
    }

    fn id_gap_place(&self) -> (usize, usize) {
        self.place(AccountValue::IdGap)
    }

    fn total_gates(&self, meta: &mut ConstraintSystem<Fr>) {
        let shift = constant(pow2(self.shape.value_bits));
        meta.create_gate("totals", |meta| {
            let q = meta.query_selector(self.q_slot);
            let start = meta.query_selector(self.q_totals_start);
            let last = meta.query_selector(self.q_last);
            let mut out = Vec::new();
            for (t, &column) in SlotTotal::all(self.shape.cases).iter().zip(&self.totals) {
                let total = Self::cur(meta, column);
                let next = Self::next(meta, column);
                let term = match *t {
                    SlotTotal::Equity => last.clone() * Self::cur(meta, self.acc[0]),
                    SlotTotal::Maintenance => {
                        last.clone() * Self::cur(meta, self.acc[self.shape.cases])
                    }
                    SlotTotal::Under | SlotTotal::Shortfall | SlotTotal::BadDebt(_) => {
                        let v = match *t {
                            SlotTotal::BadDebt(j) => AccountValue::Equity(j),
                            _ => AccountValue::Surplus,
                        };
                        let (l, p) = self.place(v);
                        let at = meta.query_selector(self.q_pos[p]);
                        let f = Self::cur(meta, self.flags[l]);
                        let lane = Self::cur(meta, self.account[l]);
                        match *t {
                            SlotTotal::Under => at * f,
                            _ => at * f * (shift.clone() - lane),
                        }
                    }
                };
                out.push((
                    format!("{t:?}: total′ = total + term"),
                    q.clone() * (next - total.clone()) - term,
                ));
                out.push((
                    format!("{t:?}: total = 0 before the first slot"),
                    start.clone() * total,
                ));
            }
            out
        });
    }

    fn instrument_total_gates(&self, meta: &mut ConstraintSystem<Fr>) {
        meta.create_gate("instrument totals", |meta| {
            let q = meta.query_selector(self.q_w);
            let beta = meta.query_challenge(self.lookup.beta);
            let [h, inst, short, qty, w] =
                [self.h, self.inst, self.short, self.qty, self.w].map(|c| Self::cur(meta, c));
            let w_next = Self::next(meta, self.w);
            let sign = meta.query_fixed(self.sign, Rotation::cur());
            let key = constant(Fr::from(2u64)) * inst + short;
            vec![
                (
                    "instrument totals: h · (β − 2·inst − short) = sign · qty",
                    q.clone() * (h.clone() * (beta - key) - sign * qty),
                ),
                (
                    "instrument totals: w′ = w + h",
                    q * (w_next - w.clone() - h),
                ),
                (
                    "instrument totals: w = 0 at the start",
                    meta.query_selector(self.q_w_start) * w.clone(),
                ),
                (
                    "instrument totals: w = 0 at the end",
                    meta.query_selector(self.q_w_end) * w,
                ),
            ]
        });
    }

    /// Assigns every first-phase cell, selector and fixed cell of `witness` (which was built for
    /// this shape) and returns the public cells.
    pub fn assign_first_phase(&self, region: &mut Region<Fr>, witness: &Assigned) -> SlotCells {
        let shape = &self.shape;
        let set = |region: &mut Region<Fr>, c: Column<Advice>, row: usize, v: Fr| -> Cell {
            region.assign_advice(c, row, Value::known(v)).cell()
        };
        let mut instruments = Vec::new();
        for (r, row) in witness.instruments.iter().enumerate() {
            region.assign_fixed(self.table, r, Fr::one());
            let mut cells = vec![
                set(region, self.inst, r, row.inst),
                set(region, self.tier, r, row.tier),
            ];
            for (&c, &v) in self.tuple.flatten().iter().zip(&row.tuple.flatten()) {
                cells.push(set(region, c, r, v));
            }
            instruments.push(cells);
        }
        let mut instrument_totals = Vec::new();
        for (i, t) in witness.instrument_totals.iter().enumerate() {
            let r = shape.totals_start() + i;
            region.assign_fixed(self.sign, r, -Fr::one());
            instrument_totals.push([
                set(region, self.inst, r, t[0]),
                set(region, self.short, r, t[1]),
                set(region, self.qty, r, t[2]),
            ]);
        }
        let start = shape.slots_start();
        let (_, id_row) = self.id_gap_place();
        let mut id_cells = Vec::with_capacity(witness.slots.len());
        for (r, slot) in witness.slots.iter().enumerate() {
            let row = start + r;
            let p = r % shape.slots;
            let block = r / shape.slots;
            region.assign_fixed(self.sign, row, Fr::one());
            let enable = |s: &Selector, region: &mut Region<Fr>| {
                s.enable(region, row).expect("selector row in range")
            };
            enable(&self.q_slot, region);
            if p == 0 {
                enable(&self.q_first, region);
            } else {
                enable(&self.q_inner, region);
            }
            if p + 1 < shape.slots {
                enable(&self.q_pair, region);
            } else {
                enable(&self.q_last, region);
            }
            if let Some(q) = self.q_pos.get(p) {
                enable(q, region);
            }
            if p == id_row {
                enable(
                    if block == 0 {
                        &self.q_id_first
                    } else {
                        &self.q_id_chain
                    },
                    region,
                );
            }
            id_cells.push(set(region, self.id, row, slot.id));
            for (c, v) in [
                (self.inst, slot.inst),
                (self.tier, slot.tier),
                (self.empty, slot.empty),
                (self.qty, slot.qty),
                (self.short, slot.short),
                (self.cost, slot.cost),
                (self.live, slot.live),
                (self.notional, slot.notional),
            ] {
                set(region, c, row, v);
            }
            for (&c, &v) in self.tuple.flatten().iter().zip(&slot.tuple.flatten()) {
                set(region, c, row, v);
            }
            for (&c, &v) in self.values.iter().zip(&slot.values) {
                set(region, c, row, v);
            }
            for (&c, &v) in self.account.iter().zip(&slot.account) {
                set(region, c, row, v);
            }
            for (&c, &v) in self.flags.iter().zip(&slot.flags) {
                set(region, c, row, v);
            }
            for (&c, &v) in self.acc.iter().zip(&slot.acc) {
                set(region, c, row, v);
            }
        }
        self.q_totals_start
            .enable(region, start)
            .expect("first slot row");
        let mut totals = Vec::new();
        for (i, &c) in self.totals.iter().enumerate() {
            let mut cell = None;
            for (r, v) in witness.running_totals[i].iter().enumerate() {
                cell = Some(set(region, c, start + r, *v));
            }
            totals.push(cell.expect("a final total"));
        }
        for r in 0..shape.end_row() {
            self.q_w.enable(region, r).expect("row in range");
        }
        self.q_w_start.enable(region, 0).expect("row 0");
        self.q_w_end
            .enable(region, shape.end_row())
            .expect("end row");
        let b = shape.limb_bits();
        self.lookup
            .assign_first_phase(region, &witness.limbs, shape.lookup_rows(), b);
        for (c, column) in witness.limbs.iter().enumerate() {
            for (row, &v) in column.iter().enumerate() {
                region.assign_advice(
                    self.lookup.limbs[c],
                    row,
                    Value::known(Fr::from(u64::from(v))),
                );
            }
        }
        SlotCells {
            instruments,
            instrument_totals,
            totals,
            id_range: [id_cells[0], id_cells[id_cells.len() - 1]],
        }
    }

    /// Assigns the second phase: the limb lookup's helpers and the instrument totals' logUp.
    pub fn assign_second_phase(
        &self,
        region: &mut Region<Fr>,
        witness: &Assigned,
        beta: Value<Fr>,
    ) {
        let shape = &self.shape;
        self.lookup.assign_second_phase(
            region,
            &witness.limbs,
            shape.lookup_rows(),
            shape.limb_bits(),
            beta,
        );
        let end = shape.end_row();
        let mut known = None;
        beta.map(|b| known = Some(b));
        let Some(beta) = known else {
            for row in 0..=end {
                region.assign_advice(self.h, row, Value::<Fr>::unknown());
                region.assign_advice(self.w, row, Value::<Fr>::unknown());
            }
            return;
        };
        let mut w = Fr::zero();
        for row in 0..=end {
            region.assign_advice(self.w, row, Value::known(w));
            if row == end {
                break;
            }
            let (sign, inst, short, qty) = witness.logup_row(row);
            let denominator = beta - (Fr::from(2u64) * inst + short);
            let h = sign * qty * denominator.invert().unwrap_or(Fr::zero());
            region.assign_advice(self.h, row, Value::known(h));
            w += h;
        }
    }
}
