//! The slot table (account table v2): an account is a block of `slots` rows, one per entry it
//! holds (a balance or a position, empty slots last), and every slot looks up its
//! instrument's coefficients in a public instrument table, so an account's cost follows what it
//! holds, not what the venue lists. `SlotShape` fixes the constraint system; this module says
//! where every row and cell lives.
//!
//! Rows, top to bottom: the *instrument table* (one row per (instrument, tier)), the
//! *instrument totals* (one row per (instrument, side): liabilities of an asset, long and short
//! open interest of a market), the account blocks, then one row holding the final running
//! totals. The limb range check covers rows `0..lookup_rows`.
//!
//! Per slot the checked values are its quantity lane (`qty − short`, the wider of
//! `balance_bits` and `size_bits`), its cost lane (`cost + 2^(cost_bits − 1)`, `cost_bits`), the
//! two tier gaps `x − lo` and `hi − x` of its notional `x = qty · price` (quantity plus
//! `price_bits` bits) and the instrument order gap (16 bits). Per account the *account values* — `E_j + f_j · 2^B` for every case, `E_0 − MM +
//! u · 2^B` and the id gap — are spread over the block's rows, one per row of each *account
//! lane*, so a block of `S` rows needs `⌈(cases + 2) / S⌉` account lanes.

pub mod public;

use ethnum::U256;
use zkmargin_core::bounds::Widths;
use zkmargin_core::config::Config;
use zkmargin_core::holdings::Holdings;
use zkmargin_core::margin::MarkTable;

use crate::field::fr_from_i128;
use crate::Fr;

use crate::shape::{entry_bounds, sign_bits, ShapeError};
use crate::widths::limb_bits;

/// Width of the instrument order gap `inst′ − inst − 1` (instrument indices are `< 2^11`).
pub const ORDER_BITS: usize = 16;
/// Width of the account id gap (`zkmargin_core::account_id::ID_BITS`).
pub const ID_GAP_BITS: usize = zkmargin_core::account_id::ID_BITS as usize;

/// The shard classes of a slot-table epoch: an account goes to the first class whose slots
/// hold its entries, and class `c`'s ids carry the tag `c`
/// (`zkmargin_core::account_id::AccountId::tagged`). The last class holds
/// `zkmargin_core::bounds::MAX_ENTRIES` entries.
pub const CLASSES: [usize; 4] = [4, 16, 64, 256];

/// Largest circuit a class shard is proved in: a class with more accounts than this circuit
/// holds is cut into several shards of it.
pub const MAX_SLOT_K: u32 = 20;

/// The class (index into [`CLASSES`]) of an account holding `entries` entries; `None` past
/// the last class.
pub fn class_of(entries: usize) -> Option<usize> {
    CLASSES.iter().position(|&slots| entries <= slots)
}

/// Everything that fixes the slot table's constraint system.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SlotShape {
    /// The circuit has 2^k rows.
    pub k: u32,
    /// Rows per account block (the class: most entries an account of it holds).
    pub slots: usize,
    /// Account blocks (accounts and padding accounts).
    pub accounts: usize,
    /// The base case plus the stress scenarios.
    pub cases: usize,
    /// `B`: the sign-check width, a multiple of 16.
    pub value_bits: usize,
    /// Rows of the instrument table (one per collateral asset, one per market tier).
    pub instruments: usize,
    /// Rows of the instrument totals (one per collateral asset, two per market).
    pub instrument_totals: usize,
    /// Checked widths of quantities, costs and prices.
    pub widths: Widths,
}

/// A checked value of a slot row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotValue {
    /// `qty − short`.
    Quantity,
    /// `cost + 2^(cost_bits − 1)`.
    Cost,
    /// `x − lo`: the notional is at least the tier's floor.
    TierFloor,
    /// `hi − x`: the notional is at most the tier's cap.
    TierCap,
    /// `inst′ − inst − 1` (0 when the next slot is empty or in another block).
    Order,
}

/// Committed columns of [`SlotData`]: what a holder's inclusion check opens.
pub const DATA_COLUMNS: usize = 7;

/// The cells of one slot row that its account's holder knows, generic over the element:
/// columns in the circuit, field elements in the witness and in the holder's inclusion check,
/// in one order ([`SlotData::flatten`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotData<T> {
    /// The account id (the same on every row of a block).
    pub id: T,
    /// Instrument index: collateral asset `a` is `a`, market `m` is `assets + m`; 0 when empty.
    pub inst: T,
    /// The tier the position's notional falls in (0 for a balance or an empty slot).
    pub tier: T,
    /// 1 for an empty slot, else 0.
    pub empty: T,
    /// Balance or `|size|`.
    pub qty: T,
    /// 1 for a short position, else 0.
    pub short: T,
    /// Signed cost basis (0 for a balance).
    pub cost: T,
}

impl<T: Clone> SlotData<T> {
    /// `id, inst, tier, empty, qty, short, cost`.
    pub fn flatten(&self) -> [T; DATA_COLUMNS] {
        [
            self.id.clone(),
            self.inst.clone(),
            self.tier.clone(),
            self.empty.clone(),
            self.qty.clone(),
            self.short.clone(),
            self.cost.clone(),
        ]
    }
}

impl SlotData<Fr> {
    /// An empty slot of account `id`.
    pub fn empty(id: Fr) -> Self {
        SlotData {
            id,
            inst: Fr::zero(),
            tier: Fr::zero(),
            empty: Fr::one(),
            qty: Fr::zero(),
            short: Fr::zero(),
            cost: Fr::zero(),
        }
    }

    /// The block of an account: its balances (by asset), then its positions (by market, each
    /// in the tier `table` draws its notional in), then empty slots up to `slots`. `None`
    /// when it holds more than `slots` entries.
    pub fn block(
        config: &Config,
        table: &MarkTable,
        id: Fr,
        holdings: &Holdings,
        slots: usize,
    ) -> Option<Vec<Self>> {
        if holdings.entries() > slots {
            return None;
        }
        let assets = config.assets.len();
        let mut block = Vec::with_capacity(slots);
        block.extend(holdings.balances.iter().map(|b| SlotData {
            inst: Fr::from(b.asset as u64),
            empty: Fr::zero(),
            qty: Fr::from(b.amount),
            ..SlotData::empty(id)
        }));
        block.extend(holdings.positions.iter().map(|p| SlotData {
            inst: Fr::from((assets + p.market) as u64),
            tier: Fr::from(table.tier(p.market, p.size) as u64),
            empty: Fr::zero(),
            qty: Fr::from(p.size.unsigned_abs()),
            short: Fr::from(u64::from(p.size < 0)),
            cost: fr_from_i128(p.cost),
            ..SlotData::empty(id)
        }));
        block.resize(slots, SlotData::empty(id));
        Some(block)
    }
}

/// What one account value of a block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountValue {
    /// `E_j + f_j · 2^B`.
    Equity(usize),
    /// `E_0 − MM + u · 2^B`.
    Surplus,
    /// `id − id_prev − 1` (block 0: `id`).
    IdGap,
    /// Nothing (0).
    Unused,
}

impl SlotShape {
    /// The shape of a class of `slots` slots holding `accounts` blocks in 2^k rows under
    /// `config`. `B` is the bit length of `slots` times the largest entry term
    /// (`crate::shape::entry_bounds`, quantities below the quantity lane's width), so every
    /// account's `|E_j|` and `|E − MM|` is below `2^B`.
    pub fn new(config: &Config, slots: usize, accounts: usize, k: u32) -> Result<Self, ShapeError> {
        let w = &config.bounds;
        let quantity = U256::ONE << w.balance_bits.max(w.size_bits);
        let (assets, markets) = entry_bounds(config, quantity, quantity)?;
        let largest = assets
            .iter()
            .zip(&config.assets)
            .filter(|(_, a)| a.collateral)
            .map(|(b, _)| *b)
            .chain(markets)
            .max()
            .unwrap_or(U256::ZERO);
        let collateral = config.assets.iter().filter(|a| a.collateral).count();
        Ok(SlotShape {
            k,
            slots,
            accounts,
            cases: config.scenario_count(),
            value_bits: sign_bits(largest * U256::from(slots as u64))?,
            instruments: collateral + config.markets.iter().map(|m| m.tiers.len()).sum::<usize>(),
            instrument_totals: collateral + 2 * config.markets.len(),
            widths: config.bounds,
        })
    }

    /// The shard shape of class `class` for `accounts` accounts under `config`: the smallest
    /// circuit from `MIN_K` up to [`MAX_SLOT_K`] whose capacity holds them (the largest when
    /// none does: the class is then cut into several shards), padded to its capacity.
    pub fn for_class(config: &Config, class: usize, accounts: usize) -> Result<Self, ShapeError> {
        let slots = CLASSES[class];
        let mut shape = SlotShape::new(config, slots, 0, crate::shape::MIN_K)?;
        while shape.k < MAX_SLOT_K && shape.capacity(crate::table::RESERVED_ROWS) < accounts.max(1)
        {
            shape.k += 1;
        }
        shape.accounts = shape.capacity(crate::table::RESERVED_ROWS);
        if shape.accounts == 0 {
            return Err(ShapeError::Unsupported {
                field: "markets".into(),
                reason: format!(
                    "the instrument table does not fit a slot circuit of 2^{MAX_SLOT_K} rows"
                ),
            });
        }
        Ok(shape)
    }

    /// Whether `declared` is the shard shape `config` gives class `class` at `declared.k`
    /// (only the circuit size is the prover's choice, and it is bounded by [`MAX_SLOT_K`]).
    pub fn admit(config: &Config, class: usize, declared: &SlotShape) -> Result<Self, ShapeError> {
        let field = |field: &'static str, declared: String, expected: String| {
            Err(ShapeError::Field {
                field,
                declared,
                expected,
            })
        };
        if class >= CLASSES.len() {
            return field(
                "class",
                class.to_string(),
                format!("below {}", CLASSES.len()),
            );
        }
        if !(crate::shape::MIN_K..=MAX_SLOT_K).contains(&declared.k) {
            return field(
                "k",
                declared.k.to_string(),
                format!("{}..={MAX_SLOT_K}", crate::shape::MIN_K),
            );
        }
        let mut expected = SlotShape::new(config, CLASSES[class], 0, declared.k)?;
        expected.accounts = expected.capacity(crate::table::RESERVED_ROWS);
        if &expected != declared {
            return field("shape", format!("{declared:?}"), format!("{expected:?}"));
        }
        Ok(expected)
    }

    /// Public values before the instrument totals: the instrument table's.
    pub fn instrument_words(&self) -> usize {
        self.instruments * (self.cases + 9)
    }

    /// Bits per limb.
    pub fn limb_bits(&self) -> usize {
        limb_bits(self.k)
    }

    /// The slot values in column order, with their widths in bits.
    pub fn slot_values(&self) -> [(SlotValue, usize); 5] {
        let w = &self.widths;
        // One lane holds a balance or a size: the wider of the two.
        let quantity = w.balance_bits.max(w.size_bits) as usize;
        let notional = quantity + w.price_bits as usize;
        [
            (SlotValue::Quantity, quantity),
            (SlotValue::Cost, w.cost_bits as usize),
            (SlotValue::TierFloor, notional),
            (SlotValue::TierCap, notional),
            (SlotValue::Order, ORDER_BITS),
        ]
    }

    /// Account values per block: every case, the surplus and the id gap.
    pub fn account_values(&self) -> usize {
        self.cases + 2
    }

    /// Account lanes: `⌈account values / slots⌉`.
    pub fn account_lanes(&self) -> usize {
        self.account_values().div_ceil(self.slots)
    }

    /// The account value on row `row` of a block in account lane `lane`.
    pub fn account_value(&self, lane: usize, row: usize) -> AccountValue {
        match lane * self.slots + row {
            v if v < self.cases => AccountValue::Equity(v),
            v if v == self.cases => AccountValue::Surplus,
            v if v == self.cases + 1 => AccountValue::IdGap,
            _ => AccountValue::Unused,
        }
    }

    /// Width of an account lane: the widest account value.
    pub fn account_bits(&self) -> usize {
        self.value_bits.max(ID_GAP_BITS)
    }

    /// Bits of one account value.
    pub fn account_value_bits(&self, v: AccountValue) -> usize {
        match v {
            AccountValue::Equity(_) | AccountValue::Surplus => self.value_bits,
            AccountValue::IdGap => ID_GAP_BITS,
            AccountValue::Unused => 0,
        }
    }

    /// Limb columns of the slot values.
    pub fn slot_limbs(&self) -> usize {
        let b = self.limb_bits();
        self.slot_values().iter().map(|(_, w)| w.div_ceil(b)).sum()
    }

    /// Limb columns of one account lane.
    pub fn account_limbs(&self) -> usize {
        self.account_bits().div_ceil(self.limb_bits())
    }

    /// First row of the instrument totals.
    pub fn totals_start(&self) -> usize {
        self.instruments
    }

    /// First row of the account blocks.
    pub fn slots_start(&self) -> usize {
        self.instruments + self.instrument_totals
    }

    /// The row after the last slot: it holds the final running totals.
    pub fn end_row(&self) -> usize {
        self.slots_start() + self.accounts * self.slots
    }

    /// Rows the limb range check covers (at least the table `0..2^b`).
    pub fn lookup_rows(&self) -> usize {
        (self.end_row() + 1).max(1 << self.limb_bits())
    }

    /// Public values of a slot shard, in this order: every instrument row (`inst`, `tier` and
    /// the `cases + 7` looked-up values), every instrument total (`inst`, side, total), the
    /// `cases + 4` totals and the id range (first and last id).
    pub fn public_values(&self) -> usize {
        self.instrument_words() + self.instrument_totals * 3 + self.cases + 4 + 2
    }

    /// Whether the table and its public values fit 2^k rows (with `reserved` rows left for
    /// blinding).
    pub fn fits(&self, reserved: usize) -> bool {
        self.slots >= 1
            && self.k <= crate::shape::MAX_K
            && self.lookup_rows().max(self.public_values()) + 1 + reserved <= 1 << self.k
    }

    /// Limb columns in all: the slot values' and every account lane's.
    pub fn limb_columns(&self) -> usize {
        self.slot_limbs() + self.account_lanes() * self.account_limbs()
    }

    /// Committed columns of the first phase: the slot cells (id, instrument, tier, empty,
    /// quantity, short, cost, live, notional), the looked-up tuple (`cases + 7`), the slot
    /// value lanes, the account lanes and their flags, the limbs and their multiplicities, the
    /// per-block sums (`cases + 1`) and the running totals (`cases + 4`).
    pub fn first_phase_columns(&self) -> usize {
        9 + (self.cases + 7)
            + self.slot_values().len()
            + 2 * self.account_lanes()
            + self.limb_columns()
            + 1
            + (self.cases + 1)
            + (self.cases + 4)
    }

    /// Committed columns in all: the first phase's, then the limb lookup's helpers (one per
    /// `LIMBS_PER_HELPER` limb columns) and running sum, and the instrument totals' `h` and
    /// `w`.
    pub fn committed_columns(&self) -> usize {
        self.first_phase_columns()
            + self.limb_columns().div_ceil(crate::table::LIMBS_PER_HELPER)
            + 1
            + 2
    }

    /// Committed cells per account: a block's rows times the committed columns.
    pub fn cells_per_account(&self) -> usize {
        self.slots * self.committed_columns()
    }

    /// The most blocks 2^k rows hold (with `reserved` rows left for blinding): a class is padded
    /// to this count, so its circuit is full and its real account count stays hidden.
    pub fn capacity(&self, reserved: usize) -> usize {
        let rows = 1usize << self.k;
        let free = rows.saturating_sub(self.slots_start() + 2 + reserved);
        let mut blocks = free / self.slots.max(1);
        let fits = |blocks: usize| {
            SlotShape {
                accounts: blocks,
                ..self.clone()
            }
            .fits(reserved)
        };
        while blocks > 0 && !fits(blocks) {
            blocks -= 1;
        }
        blocks
    }

    /// Range-checked limbs per account: every slot's values and the account values.
    pub fn limbs_per_account(&self) -> usize {
        let b = self.limb_bits();
        let per_account: usize = (0..self.account_values())
            .map(|v| self.account_value_bits(self.account_value(v / self.slots, v % self.slots)))
            .map(|w| w.div_ceil(b))
            .sum();
        self.slots * self.slot_limbs() + per_account
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(slots: usize, cases: usize) -> SlotShape {
        SlotShape {
            k: 17,
            slots,
            accounts: 8,
            cases,
            value_bits: 208,
            instruments: 10,
            instrument_totals: 12,
            widths: Widths::DEFAULT,
        }
    }

    #[test]
    fn every_account_value_has_exactly_one_place() {
        for slots in [1, 2, 4, 5, 16] {
            for cases in 1..=6 {
                let s = shape(slots, cases);
                let mut seen = Vec::new();
                for lane in 0..s.account_lanes() {
                    for row in 0..slots {
                        match s.account_value(lane, row) {
                            AccountValue::Unused => {}
                            v => seen.push(v),
                        }
                    }
                }
                let mut expected: Vec<AccountValue> =
                    (0..cases).map(AccountValue::Equity).collect();
                expected.extend([AccountValue::Surplus, AccountValue::IdGap]);
                assert_eq!(seen, expected, "slots {slots}, cases {cases}");
            }
        }
    }

    #[test]
    fn the_sign_width_follows_the_class_and_the_bounds() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/demo/config.toml");
        let demo = Config::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
        let dense = crate::shape::value_bits(&demo).unwrap();
        let small = SlotShape::new(&demo, 4, 8, 17).unwrap().value_bits;
        let large = SlotShape::new(&demo, 256, 8, 17).unwrap().value_bits;
        // Four entries reach no further than every asset and market of the dense row; 256
        // entries reach further, still inside the widest check.
        assert!(small <= dense && dense <= large, "{small} {dense} {large}");
        assert!(large <= crate::shape::WIDEST_VALUE_BITS);
        let mut tight = demo.clone();
        tight.bounds = Widths {
            balance_bits: 48,
            size_bits: 48,
            cost_bits: 64,
            price_bits: 32,
        };
        assert!(SlotShape::new(&tight, 4, 8, 17).unwrap().value_bits < small);
    }

    #[test]
    fn limbs_follow_the_widths() {
        let s = shape(4, 4);
        // 64 + 128 + 128 + 128 + 16 bits in 16-bit limbs.
        assert_eq!(s.slot_limbs(), 4 + 8 + 8 + 8 + 1);
        assert_eq!(s.account_lanes(), 2);
        // 4 slots of 29 limbs, 5 sign checks of 13 and one id gap of 12.
        assert_eq!(s.limbs_per_account(), 4 * 29 + 5 * 13 + 12);
        let narrow = SlotShape {
            widths: Widths {
                balance_bits: 48,
                size_bits: 48,
                cost_bits: 64,
                price_bits: 32,
            },
            ..s
        };
        assert_eq!(narrow.slot_limbs(), 3 + 4 + 5 + 5 + 1);
    }
}
