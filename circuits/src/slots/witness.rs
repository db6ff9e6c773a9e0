//! The slot table's witness: [`SlotWitness`] is what the prover claims (the instrument table,
//! the instrument totals, every account's slots); [`Assigned`] derives every other cell from it
//! exactly as the gates define them, so a test that edits a claim sees the constraint that
//! guards it fail.

use ethnum::U256;
use halo2_base::halo2_proofs::halo2curves::ff::PrimeField;

use crate::table::lookup::limb_of;
use zkmargin_core::config::Config;
use zkmargin_core::fine::FineScale;
use zkmargin_core::holdings::Holdings;
use zkmargin_core::margin::{self, AccountTerms, MarkTable};
use zkmargin_layout::field::pow2;
use zkmargin_layout::slots::public::{instrument_rows, InstrumentRow, SlotTotal, Tuple};
use zkmargin_layout::slots::{AccountValue, SlotData, SlotShape};
use zkmargin_layout::Fr;

/// One slot as claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// Instrument index.
    pub inst: Fr,
    /// Tier.
    pub tier: Fr,
    /// Empty (bit).
    pub empty: Fr,
    /// Balance or `|size|`.
    pub qty: Fr,
    /// Short (bit).
    pub short: Fr,
    /// Signed cost.
    pub cost: Fr,
    /// The instrument row whose coefficients the slot reads (ignored when empty).
    pub reads: usize,
}

impl Slot {
    /// An empty slot.
    pub fn empty() -> Self {
        Slot {
            inst: Fr::zero(),
            tier: Fr::zero(),
            empty: Fr::one(),
            qty: Fr::zero(),
            short: Fr::zero(),
            cost: Fr::zero(),
            reads: 0,
        }
    }
}

/// One account block as claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSlots {
    /// The account id.
    pub id: Fr,
    /// Exactly `shape.slots` slots.
    pub slots: Vec<Slot>,
}

/// Everything the prover claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotWitness {
    /// The shape.
    pub shape: SlotShape,
    /// The instrument table.
    pub instruments: Vec<InstrumentRow>,
    /// `(inst, side, total)` per instrument and side.
    pub instrument_totals: Vec<[Fr; 3]>,
    /// Exactly `shape.accounts` blocks, ids strictly increasing.
    pub accounts: Vec<AccountSlots>,
}

impl SlotWitness {
    /// A witness of `shape` holding nothing (zero instrument table, empty accounts): what key
    /// generation synthesizes, since the keys depend on the shape alone.
    pub fn blank(shape: &SlotShape) -> SlotWitness {
        SlotWitness {
            shape: shape.clone(),
            instruments: vec![
                InstrumentRow {
                    inst: Fr::zero(),
                    tier: Fr::zero(),
                    tuple: Tuple::filled(shape.cases, Fr::zero()),
                };
                shape.instruments
            ],
            instrument_totals: vec![[Fr::zero(); 3]; shape.instrument_totals],
            accounts: (1..=shape.accounts as u64)
                .map(|id| AccountSlots {
                    id: Fr::from(id),
                    slots: vec![Slot::empty(); shape.slots],
                })
                .collect(),
        }
    }

    /// The honest witness of `accounts` (sorted by id, each with at most `shape.slots`
    /// entries), padded with empty accounts whose ids follow the last.
    pub fn honest(
        shape: &SlotShape,
        config: &Config,
        scale: &FineScale,
        prices: &[u64],
        accounts: &[(Fr, Holdings)],
    ) -> SlotWitness {
        let underlying: Vec<usize> = config.markets.iter().map(|m| m.underlying).collect();
        let table = MarkTable::new(scale, &underlying, prices);
        let notional = shape.slot_values()[2].1;
        let instruments = instrument_rows(config, scale, &table, prices, notional);
        let assets = config.assets.len();
        let row_of = |inst: Fr, tier: Fr| {
            instruments
                .iter()
                .position(|r| r.inst == inst && r.tier == tier)
                .expect("every held instrument has a row")
        };
        let mut liabilities = vec![0u128; assets];
        let mut long = vec![0u128; config.markets.len()];
        let mut short = vec![0u128; config.markets.len()];
        let mut blocks = Vec::with_capacity(shape.accounts);
        for (id, h) in accounts {
            for b in &h.balances {
                liabilities[b.asset] += u128::from(b.amount);
            }
            for p in &h.positions {
                let side = if p.size < 0 { &mut short } else { &mut long };
                side[p.market] += u128::from(p.size.unsigned_abs());
            }
            let slots = SlotData::block(config, &table, *id, h, shape.slots)
                .expect("account has more entries than its class")
                .into_iter()
                .map(|d| Slot {
                    inst: d.inst,
                    tier: d.tier,
                    empty: d.empty,
                    qty: d.qty,
                    short: d.short,
                    cost: d.cost,
                    reads: if d.empty == Fr::one() {
                        0
                    } else {
                        row_of(d.inst, d.tier)
                    },
                })
                .collect();
            blocks.push(AccountSlots { id: *id, slots });
        }
        let mut next = accounts
            .last()
            .map_or(Fr::zero(), |(id, _)| *id + Fr::one());
        while blocks.len() < shape.accounts {
            blocks.push(AccountSlots {
                id: next,
                slots: vec![Slot::empty(); shape.slots],
            });
            next += Fr::one();
        }
        let mut instrument_totals = Vec::new();
        for (a, asset) in config.assets.iter().enumerate() {
            if asset.collateral {
                instrument_totals.push([
                    Fr::from(a as u64),
                    Fr::zero(),
                    Fr::from_u128(liabilities[a]),
                ]);
            }
        }
        for m in 0..config.markets.len() {
            let inst = Fr::from((assets + m) as u64);
            instrument_totals.push([inst, Fr::zero(), Fr::from_u128(long[m])]);
            instrument_totals.push([inst, Fr::one(), Fr::from_u128(short[m])]);
        }
        SlotWitness {
            shape: shape.clone(),
            instruments,
            instrument_totals,
            accounts: blocks,
        }
    }
}

/// Every cell of one slot row.
#[derive(Debug, Clone)]
pub struct SlotRow {
    /// Account id.
    pub id: Fr,
    /// Instrument.
    pub inst: Fr,
    /// Tier.
    pub tier: Fr,
    /// Empty.
    pub empty: Fr,
    /// Quantity.
    pub qty: Fr,
    /// Short.
    pub short: Fr,
    /// Cost.
    pub cost: Fr,
    /// `1 − empty`.
    pub live: Fr,
    /// `qty · price`.
    pub notional: Fr,
    /// The looked-up tuple (zero for an empty slot).
    pub tuple: Tuple<Fr>,
    /// The slot value lanes.
    pub values: Vec<Fr>,
    /// The account lanes.
    pub account: Vec<Fr>,
    /// Their flags.
    pub flags: Vec<Fr>,
    /// The accumulators `E_j…`, `MM`.
    pub acc: Vec<Fr>,
}

/// Every cell of a [`SlotWitness`], derived as the gates define it.
#[derive(Debug, Clone)]
pub struct Assigned {
    /// The shape.
    pub shape: SlotShape,
    /// The instrument table.
    pub instruments: Vec<InstrumentRow>,
    /// The instrument totals rows.
    pub instrument_totals: Vec<[Fr; 3]>,
    /// One per slot row.
    pub slots: Vec<SlotRow>,
    /// Per total: its value at every slot row and at the end row.
    pub running_totals: Vec<Vec<Fr>>,
    /// Per limb column: its value at rows `0..lookup_rows`.
    pub limbs: Vec<Vec<u32>>,
}

/// One slot row read as a one-entry account (see [`super::SlotGateTerms`]), in field elements.
struct FieldSlotTerms<'a>(&'a SlotRow);

impl AccountTerms for FieldSlotTerms<'_> {
    type Value = Fr;
    fn balances(&self) -> usize {
        0
    }
    fn positions(&self) -> usize {
        1
    }
    fn zero(&mut self) -> Fr {
        Fr::zero()
    }
    fn balance(&mut self, _: usize) -> Fr {
        unreachable!("a slot is one position-shaped entry")
    }
    fn size(&mut self, _: usize) -> Fr {
        self.0.qty * (Fr::one() - Fr::from(2u64) * self.0.short)
    }
    fn size_abs(&mut self, _: usize) -> Fr {
        self.0.qty
    }
    fn cost(&mut self, _: usize) -> Fr {
        self.0.cost
    }
    fn collateral_coefficient(&mut self, _: usize, _: usize) -> Fr {
        unreachable!("a slot is one position-shaped entry")
    }
    fn mark_coefficient(&mut self, case: usize, _: usize) -> Fr {
        self.0.tuple.coef[case]
    }
    fn maintenance_coefficient(&mut self, _: usize) -> Fr {
        self.0.tuple.rate
    }
    fn maintenance_amount(&mut self, _: usize) -> Option<Fr> {
        Some(self.0.tuple.amount)
    }
    fn quote_coefficient(&mut self) -> Fr {
        self.0.tuple.cost_coef
    }
}

/// Whether a field element is the image of a negative integer (above `(p − 1)/2`).
fn is_negative(x: &Fr) -> bool {
    let half = -Fr::one() * Fr::from(2u64).invert().expect("2 is invertible");
    let repr = |v: &Fr| U256::from_le_bytes(v.to_bytes());
    repr(x) > repr(&half)
}

impl Assigned {
    /// Derives every cell.
    pub fn new(w: &SlotWitness) -> Assigned {
        let shape = &w.shape;
        let cases = shape.cases;
        let shift = pow2(shape.value_bits);
        let cost_shift = pow2(shape.widths.cost_bits as usize - 1);
        let mut slots = Vec::with_capacity(shape.accounts * shape.slots);
        let mut prev_id = None;
        for block in &w.accounts {
            let first = slots.len();
            for (p, s) in block.slots.iter().enumerate() {
                let live = Fr::one() - s.empty;
                let none = Tuple::filled(cases, Fr::zero());
                let tuple = if s.empty == Fr::zero() {
                    w.instruments.get(s.reads).map_or(none, |r| r.tuple.clone())
                } else {
                    none
                };
                let (price, lo, hi) = (tuple.price, tuple.lo, tuple.hi);
                let notional = s.qty * price;
                let order = match block.slots.get(p + 1) {
                    Some(next) if next.empty == Fr::zero() => next.inst - s.inst - Fr::one(),
                    _ => Fr::zero(),
                };
                let mut row = SlotRow {
                    id: block.id,
                    inst: s.inst,
                    tier: s.tier,
                    empty: s.empty,
                    qty: s.qty,
                    short: s.short,
                    cost: s.cost,
                    live,
                    notional,
                    tuple,
                    values: vec![
                        s.qty - s.short,
                        s.cost + cost_shift,
                        notional - lo,
                        hi - notional,
                        order,
                    ],
                    account: vec![Fr::zero(); shape.account_lanes()],
                    flags: vec![Fr::zero(); shape.account_lanes()],
                    acc: Vec::new(),
                };
                let terms = &mut FieldSlotTerms(&row);
                let mut acc: Vec<Fr> = (0..cases).map(|j| margin::equity(terms, j)).collect();
                acc.push(margin::maintenance(terms));
                if p > 0 {
                    let prev: &SlotRow = &slots[slots.len() - 1];
                    acc.iter_mut().zip(&prev.acc).for_each(|(a, b)| *a += *b);
                }
                row.acc = acc;
                slots.push(row);
            }
            // Account values, from the block's last accumulators.
            let last = slots[slots.len() - 1].acc.clone();
            for p in 0..shape.slots {
                for l in 0..shape.account_lanes() {
                    let (value, flag) = match shape.account_value(l, p) {
                        AccountValue::Equity(j) => {
                            let f = is_negative(&last[j]);
                            (last[j] + if f { shift } else { Fr::zero() }, f)
                        }
                        AccountValue::Surplus => {
                            let s = last[0] - last[cases];
                            let f = is_negative(&s);
                            (s + if f { shift } else { Fr::zero() }, f)
                        }
                        AccountValue::IdGap => (
                            match prev_id {
                                None => block.id,
                                Some(prev) => block.id - prev - Fr::one(),
                            },
                            false,
                        ),
                        AccountValue::Unused => (Fr::zero(), false),
                    };
                    slots[first + p].account[l] = value;
                    slots[first + p].flags[l] = Fr::from(u64::from(flag));
                }
            }
            prev_id = Some(block.id);
        }
        let mut assigned = Assigned {
            shape: shape.clone(),
            instruments: w.instruments.clone(),
            instrument_totals: w.instrument_totals.clone(),
            slots,
            running_totals: Vec::new(),
            limbs: Vec::new(),
        };
        assigned.derive_totals_and_limbs();
        assigned
    }

    /// Recomputes the running totals and the limbs from the slot rows (after a test edits a
    /// row's cells directly).
    pub fn derive_totals_and_limbs(&mut self) {
        let shape = &self.shape;
        let cases = shape.cases;
        let shift = pow2(shape.value_bits);
        let place = |v: AccountValue| {
            (0..shape.account_lanes())
                .flat_map(|l| (0..shape.slots).map(move |p| (l, p)))
                .find(|&(l, p)| shape.account_value(l, p) == v)
                .expect("placed")
        };
        self.running_totals = SlotTotal::all(cases)
            .iter()
            .map(|t| {
                let mut total = Fr::zero();
                let mut column = vec![total];
                for (r, row) in self.slots.iter().enumerate() {
                    let p = r % shape.slots;
                    let last = p + 1 == shape.slots;
                    total += match *t {
                        SlotTotal::Equity if last => row.acc[0],
                        SlotTotal::Maintenance if last => row.acc[cases],
                        SlotTotal::Under | SlotTotal::Shortfall | SlotTotal::BadDebt(_) => {
                            let v = match *t {
                                SlotTotal::BadDebt(j) => AccountValue::Equity(j),
                                _ => AccountValue::Surplus,
                            };
                            let (l, at) = place(v);
                            if p != at {
                                Fr::zero()
                            } else if *t == SlotTotal::Under {
                                row.flags[l]
                            } else {
                                row.flags[l] * (shift - row.account[l])
                            }
                        }
                        _ => Fr::zero(),
                    };
                    column.push(total);
                }
                column
            })
            .collect();
        let b = shape.limb_bits();
        let rows = shape.lookup_rows();
        let start = shape.slots_start();
        let mut limbs = vec![
            vec![0u32; rows];
            shape.slot_limbs() + shape.account_lanes() * shape.account_limbs()
        ];
        for (r, row) in self.slots.iter().enumerate() {
            let at = start + r;
            let mut c = 0;
            for ((_, bits), v) in shape.slot_values().iter().zip(&row.values) {
                for i in 0..bits.div_ceil(b) {
                    limbs[c + i][at] = limb_of(v, i, b);
                }
                c += bits.div_ceil(b);
            }
            for (l, v) in row.account.iter().enumerate() {
                let n = shape.account_value_bits(shape.account_value(l, r % shape.slots));
                let first = shape.slot_limbs() + l * shape.account_limbs();
                if r % shape.slots < shape.account_values().min(shape.slots) {
                    for i in 0..n.div_ceil(b) {
                        limbs[first + i][at] = limb_of(v, i, b);
                    }
                }
            }
        }
        self.limbs = limbs;
    }

    /// `(sign, inst, short, qty)` of row `row` for the instrument totals' logUp.
    pub fn logup_row(&self, row: usize) -> (Fr, Fr, Fr, Fr) {
        let shape = &self.shape;
        if row < shape.totals_start() {
            (Fr::zero(), Fr::zero(), Fr::zero(), Fr::zero())
        } else if row < shape.slots_start() {
            let t = &self.instrument_totals[row - shape.totals_start()];
            (-Fr::one(), t[0], t[1], t[2])
        } else {
            let s = &self.slots[row - shape.slots_start()];
            (Fr::one(), s.inst, s.short, s.qty)
        }
    }

    /// The public values, in the order [`super::circuit::SlotCircuit`] exposes them: every
    /// instrument row (`inst, tier, tuple…`), every instrument total (`inst, side, total`), the
    /// final totals, the first and the last id.
    pub fn public_values(&self) -> Vec<Fr> {
        let mut v = Vec::new();
        for r in &self.instruments {
            v.extend([r.inst, r.tier]);
            v.extend(r.tuple.flatten());
        }
        for t in &self.instrument_totals {
            v.extend(t);
        }
        v.extend(
            self.running_totals
                .iter()
                .map(|c| *c.last().expect("end row")),
        );
        v.push(self.slots[0].id);
        v.push(self.slots[self.slots.len() - 1].id);
        v
    }
}
