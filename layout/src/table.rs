//! `TableLayout`: where every cell of the account table lives, derived from the shape alone (so
//! prover and verifier derive the same constraint system).
//!
//! The table is a sequence of *blocks* of `block_rows` rows: one block per table row (account or
//! zero account), then one *tail* block that closes the id chain and holds the final totals.
//! A block has `lanes` lanes; a lane is one value column plus [`LANE_LIMBS`] limb columns, and a
//! *lane-row* (one row of one lane) range-checks `LANE_LIMBS · limb_bits` bits by a running sum
//! `v_r = Σ_i 2^(b·i)·limb_i + 2^(4b)·v_(r+1)`. A checked value of `n` limbs occupies
//! `⌈n/4⌉` consecutive lane-rows of one lane; its top lane-row uses only the limbs it needs, so
//! the bound is exact (every width is a multiple of 16 bits, and `b ∈ {8, 16}`).
//!
//! Besides the lanes a block has *account data* cells (id, balances, sizes, short flags, costs:
//! exactly what the account holder knows, so an inclusion proof opens these columns and
//! nothing else), *flag* cells (the sign hints), *coefficient* cells (prices folded into the
//! fine weights; equal in every block) and *accumulator* cells (running totals: the
//! accumulator in block `i + 1` is the one in block `i` plus block `i`'s contribution).

use std::collections::BTreeMap;

use crate::shape::MarginShape;
use crate::widths::limb_bits;

/// Limbs per lane-row.
pub const LANE_LIMBS: usize = 4;
/// Limb columns summed by one lookup helper column (the helper gate has degree `2 + this`,
/// kept ≤ 5).
pub const LIMBS_PER_HELPER: usize = 3;
/// Rows kept free at the bottom of the circuit for halo2's blinding rows (which grow with the
/// number of rotations queried per column, at most `2 · MAX_BLOCK_ROWS + 2`).
pub const RESERVED_ROWS: usize = 64;
/// Largest block height (bounds the rotations per column).
pub const MAX_BLOCK_ROWS: usize = 16;
/// Account data fills at most this many rows of a block (and more columns): an inclusion
/// proof costs one opening, one MSM of size 2^k, per data row.
pub const MAX_DATA_ROWS: usize = 4;
/// Bit width of an account-id gap check (`zkmargin_core::account_id::ID_BITS`).
pub const GAP_BITS: usize = zkmargin_core::account_id::ID_BITS as usize;
/// A range-checked value of an account block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Checked {
    /// `id − previous id − 1` (block 0: `id`; tail: `sentinel − last id − 1`).
    Gap,
    /// A balance of an asset.
    Balance(usize),
    /// `|size| − short` of a market: the short flag needs a non-zero size, so every position
    /// has one encoding (a zero size is long).
    Size(usize),
    /// `cost + 2^127` of a market.
    Cost(usize),
    /// `E_j + f_j · 2^B` for case `j` (0 = base case).
    Equity(usize),
    /// `E_0 − MM + u · 2^B`.
    Surplus,
}

/// Where a checked value lives: lane, first row within the block, number of limbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LanePlacement {
    /// The lane (value column).
    pub lane: usize,
    /// Its first row within the block.
    pub row: usize,
    /// Limbs of the value.
    pub limbs: usize,
}

impl LanePlacement {
    /// Rows of the lane the value spans (`LANE_LIMBS` limbs per row).
    pub fn lane_rows(&self) -> usize {
        self.limbs.div_ceil(LANE_LIMBS)
    }
}

/// What a lane-row does: how many limbs it recomposes and whether it carries into the next row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaneRowRole {
    /// Limbs recomposed on this row.
    pub limbs: usize,
    /// Whether the value continues on the next row.
    pub carries: bool,
}

/// Per-account cells outside the lanes: the account data and the sign flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Aux {
    /// The account id (`H(identifier ‖ salt)`).
    Id,
    /// Balance of an asset (equal to its lane).
    Balance(usize),
    /// `|size|` of a market (equal to its lane).
    Size(usize),
    /// Market position is short (bit).
    Short(usize),
    /// Signed cost of a market (its lane holds `cost + 2^127`).
    Cost(usize),
    /// Equity in case `j` is negative (bit).
    Negative(usize),
    /// Under-margined (bit).
    Under,
}

impl Aux {
    /// Account data (what the holder knows and an inclusion proof opens), not a derived flag.
    pub fn is_account_data(&self) -> bool {
        !matches!(self, Aux::Negative(_) | Aux::Under)
    }

    /// Whether the cell must be a bit.
    pub fn is_flag(&self) -> bool {
        matches!(self, Aux::Short(_) | Aux::Negative(_) | Aux::Under)
    }
}

/// Price-dependent weights shared by all blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Coef {
    /// `P_a · W[j][a]`.
    Collateral {
        /// The case (0 = base).
        case: usize,
        /// The asset.
        asset: usize,
    },
    /// `P_u · V[j][m]`.
    Mark {
        /// The case (0 = base).
        case: usize,
        /// The market.
        market: usize,
    },
    /// `P_u · R[m]`.
    Maintenance(usize),
    /// `C`.
    Quote,
}

/// Table totals, in the order of the public outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Total {
    /// Σ balance of an asset.
    Liability(usize),
    /// Σ long size of a market.
    Long(usize),
    /// Σ short size of a market.
    Short(usize),
    /// Σ equity.
    Equity,
    /// Σ maintenance requirement.
    Maintenance,
    /// Under-margined accounts.
    Under,
    /// Σ shortfall.
    Shortfall,
    /// Σ bad debt in case `j`.
    BadDebt(usize),
}

/// A cell of a block: column index (within its column group) and row within the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Column within its group.
    pub column: usize,
    /// Row within the block.
    pub row: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// Where every cell of an account block lives, for one shape (shared by the circuit, the witness and inclusion proofs).
pub struct TableLayout {
    /// Bits per limb (the lookup table is `0..2^limb_bits`).
    pub limb_bits: usize,
    /// `B`: per-account equities satisfy `|E| < 2^B`; a multiple of 16.
    pub value_bits: usize,
    /// The cost lane's width: it holds `cost + 2^(cost_bits − 1)` (the shape's widths).
    pub cost_bits: usize,
    /// Value columns.
    pub lanes: usize,
    /// Rows per block.
    pub block_rows: usize,
    /// Account blocks (the shape's table rows); the tail block follows them.
    pub blocks: usize,
    /// Assets.
    pub assets: usize,
    /// Markets.
    pub markets: usize,
    /// Base case plus scenarios.
    pub cases: usize,
    /// Where each checked value lives.
    pub checked: BTreeMap<Checked, LanePlacement>,
    /// Account data cells ([`Aux::is_account_data`]) in the data columns.
    pub data: BTreeMap<Aux, Slot>,
    /// Account data columns.
    pub data_columns: usize,
    /// Sign flags in the flag columns.
    pub flags: BTreeMap<Aux, Slot>,
    /// Flag columns.
    pub flag_columns: usize,
    /// Where each coefficient lives (the same in every block).
    pub coefs: BTreeMap<Coef, Slot>,
    /// Coefficient columns.
    pub coef_columns: usize,
    /// The totals and where each running total lives, in public-output order.
    pub totals: Vec<(Total, Slot)>,
    /// Running-total columns.
    pub acc_columns: usize,
    /// Rows `0..lookup_rows` of every limb column are range-checked; `lookup_rows` itself holds
    /// the end of the lookup running sum.
    pub lookup_rows: usize,
}

/// Every width a multiple of 16 from 16 up to its default (a hostile shape file's widths are
/// refused here, before any arithmetic).
fn widths_are_checkable(w: &zkmargin_core::bounds::Widths) -> bool {
    let d = zkmargin_core::bounds::Widths::DEFAULT;
    [
        (w.balance_bits, d.balance_bits),
        (w.size_bits, d.size_bits),
        (w.cost_bits, d.cost_bits),
        (w.price_bits, d.price_bits),
    ]
    .iter()
    .all(|&(x, max)| (16..=max).contains(&x) && x % 16 == 0)
}

/// Block height for `blocks` account blocks in 2^k rows (`None` if even one row does not fit).
fn block_rows(k: u32, blocks: usize) -> Option<usize> {
    let usable = (1usize << k).checked_sub(RESERVED_ROWS + 1)?;
    let r = (usable / (blocks + 1)).min(MAX_BLOCK_ROWS);
    (r >= 1 && usable > 1 << limb_bits(k)).then_some(r)
}

/// The checked values of a shape with their widths in bits, widest first (stable).
fn checked_values(shape: &MarginShape) -> Vec<(Checked, usize)> {
    let mut v = vec![(Checked::Gap, GAP_BITS)];
    let w = &shape.widths;
    let (balance, size, cost) = (
        w.balance_bits as usize,
        w.size_bits as usize,
        w.cost_bits as usize,
    );
    v.extend((0..shape.assets()).map(|a| (Checked::Balance(a), balance)));
    v.extend((0..shape.markets()).map(|m| (Checked::Size(m), size)));
    v.extend((0..shape.markets()).map(|m| (Checked::Cost(m), cost)));
    if shape.markets() > 0 {
        v.extend((0..shape.cases()).map(|j| (Checked::Equity(j), shape.value_bits)));
        v.push((Checked::Surplus, shape.value_bits));
    }
    v.sort_by_key(|&(_, bits)| std::cmp::Reverse(bits));
    v
}

/// First-fit packing of values (in lane-rows) into `lanes` lanes of height `rows`.
fn pack(
    values: &[(Checked, usize)],
    limb_bits: usize,
    lanes: usize,
    rows: usize,
) -> Option<BTreeMap<Checked, LanePlacement>> {
    let mut used = vec![0usize; lanes];
    let mut out = BTreeMap::new();
    for &(c, bits) in values {
        let limbs = bits / limb_bits;
        let need = limbs.div_ceil(LANE_LIMBS);
        let lane = (0..lanes).find(|&l| used[l] + need <= rows)?;
        out.insert(
            c,
            LanePlacement {
                lane,
                row: used[lane],
                limbs,
            },
        );
        used[lane] += need;
    }
    Some(out)
}

fn slots<T: Copy + Ord>(items: &[T], rows: usize) -> (BTreeMap<T, Slot>, usize) {
    let map = items
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            (
                t,
                Slot {
                    column: i / rows,
                    row: i % rows,
                },
            )
        })
        .collect();
    (map, items.len().div_ceil(rows).max(1))
}

impl TableLayout {
    /// The plan of `shape`, or `None` when its table does not fit 2^k rows.
    pub fn new(shape: &MarginShape) -> Option<Self> {
        // Hostile shapes (from files) end here before any arithmetic can overflow; admitted
        // shapes ([`MarginShape::admit`]) are far inside these limits.
        if shape.k > crate::shape::MAX_K
            || shape.rows >= 1 << shape.k
            || shape.scenarios > zkmargin_core::bounds::MAX_SCENARIOS
            || shape.assets() > zkmargin_core::bounds::MAX_ASSETS
            || shape.markets() > zkmargin_core::bounds::MAX_MARKETS
            || shape.value_bits > crate::shape::WIDEST_VALUE_BITS
            || !shape.value_bits.is_multiple_of(16)
            || !widths_are_checkable(&shape.widths)
        {
            return None;
        }
        let blocks = shape.rows;
        let block_rows = block_rows(shape.k, blocks)?;
        let limb_bits = limb_bits(shape.k);
        let values = checked_values(shape);
        let lane_rows: usize = values
            .iter()
            .map(|&(_, bits)| (bits / limb_bits).div_ceil(LANE_LIMBS))
            .sum();
        let tallest = values
            .iter()
            .map(|&(_, bits)| (bits / limb_bits).div_ceil(LANE_LIMBS))
            .max()?;
        if tallest > block_rows {
            return None;
        }
        let checked = (lane_rows.div_ceil(block_rows)..=lane_rows)
            .find_map(|lanes| pack(&values, limb_bits, lanes, block_rows))?;
        let lanes = checked.values().map(|p| p.lane + 1).max().unwrap_or(1);

        let mut data = vec![Aux::Id];
        data.extend((0..shape.assets()).map(Aux::Balance));
        for m in 0..shape.markets() {
            data.extend([Aux::Size(m), Aux::Short(m), Aux::Cost(m)]);
        }
        let (data, data_columns) = slots(&data, block_rows.min(MAX_DATA_ROWS));
        let mut flags = Vec::new();
        if shape.markets() > 0 {
            flags.extend((0..shape.cases()).map(Aux::Negative));
            flags.push(Aux::Under);
        }
        let (flags, flag_columns) = slots(&flags, block_rows);
        let flag_columns = if flags.is_empty() { 0 } else { flag_columns };

        let mut coefs = Vec::new();
        for case in 0..shape.cases() {
            coefs.extend((0..shape.assets()).map(|asset| Coef::Collateral { case, asset }));
            coefs.extend((0..shape.markets()).map(|market| Coef::Mark { case, market }));
        }
        coefs.extend((0..shape.markets()).map(Coef::Maintenance));
        coefs.push(Coef::Quote);
        let (coefs, coef_columns) = slots(&coefs, block_rows);

        let totals = Self::total_order(shape);
        let (acc, acc_columns) = slots(&totals, block_rows);
        let totals = totals.iter().map(|t| (*t, acc[t])).collect();

        let table_rows = (blocks + 1) * block_rows;
        let lookup_rows = table_rows.max(1 << limb_bits);
        if lookup_rows + RESERVED_ROWS + 1 > 1 << shape.k {
            return None;
        }
        Some(TableLayout {
            limb_bits,
            value_bits: shape.value_bits,
            cost_bits: shape.widths.cost_bits as usize,
            lanes,
            block_rows,
            blocks,
            assets: shape.assets(),
            markets: shape.markets(),
            cases: shape.cases(),
            checked,
            data,
            data_columns,
            flags,
            flag_columns,
            coefs,
            coef_columns,
            totals,
            acc_columns,
            lookup_rows,
        })
    }

    /// The totals in public-output order.
    pub fn total_order(shape: &MarginShape) -> Vec<Total> {
        let mut t: Vec<Total> = (0..shape.assets()).map(Total::Liability).collect();
        for m in 0..shape.markets() {
            t.push(Total::Long(m));
            t.push(Total::Short(m));
        }
        t.extend([
            Total::Equity,
            Total::Maintenance,
            Total::Under,
            Total::Shortfall,
        ]);
        t.extend((0..shape.cases()).map(Total::BadDebt));
        t
    }

    /// Whether the shape has markets (otherwise equity is a non-negative sum of balances and
    /// there are no sign checks, flags, requirements or bad debt).
    pub fn has_markets(&self) -> bool {
        self.markets > 0
    }

    /// Limb columns: `LANE_LIMBS` per lane.
    pub fn limb_columns(&self) -> usize {
        self.lanes * LANE_LIMBS
    }

    /// Limbs range-checked per account block (every checked value's own limbs).
    pub fn limbs_per_account(&self) -> usize {
        self.checked.values().map(|p| p.limbs).sum()
    }

    /// Rows of the table: account blocks and the tail block.
    pub fn table_rows(&self) -> usize {
        (self.blocks + 1) * self.block_rows
    }

    /// The role of lane-row `(lane, row)` of a block (`limbs = 0, carries = false` when unused:
    /// its value cell is then forced to zero).
    pub fn lane_row_role(&self, lane: usize, row: usize) -> LaneRowRole {
        for p in self.checked.values().filter(|p| p.lane == lane) {
            if (p.row..p.row + p.lane_rows()).contains(&row) {
                let i = row - p.row;
                let top = i + 1 == p.lane_rows();
                return LaneRowRole {
                    limbs: if top {
                        p.limbs - LANE_LIMBS * i
                    } else {
                        LANE_LIMBS
                    },
                    carries: !top,
                };
            }
        }
        LaneRowRole {
            limbs: 0,
            carries: false,
        }
    }

    /// Rows of a block holding account data (an inclusion proof opens these).
    pub fn data_rows(&self) -> usize {
        self.data.values().map(|s| s.row + 1).max().unwrap_or(1)
    }

    /// The slot of an account data cell or flag, and whether it is account data.
    pub fn aux_slot(&self, a: Aux) -> (bool, Slot) {
        match self.data.get(&a) {
            Some(s) => (true, *s),
            None => (false, self.flags[&a]),
        }
    }

    /// First-phase (witness) columns: limbs, lane values, multiplicities, account data, flags,
    /// coefficients and accumulators.
    pub fn first_phase_columns(&self) -> usize {
        self.limb_columns()
            + self.lanes
            + 1
            + self.data_columns
            + self.flag_columns
            + self.coef_columns
            + self.acc_columns
    }

    /// Committed columns of the table (the cost model: every column costs about one MSM and a
    /// few FFTs of size 2^k): limbs, lane values, lookup helpers, multiplicities, running sum,
    /// account data, flags, coefficients and accumulators.
    pub fn committed_columns(&self) -> usize {
        let limbs = self.limb_columns();
        limbs
            + self.lanes
            + limbs.div_ceil(LIMBS_PER_HELPER)
            + 2
            + self.data_columns
            + self.flag_columns
            + self.coef_columns
            + self.acc_columns
    }
}
