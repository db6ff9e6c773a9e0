//! Every numeric bound of the data model, in one place. The circuit enforces the same bounds,
//! so that no sum over a table of [`MAX_ACCOUNTS`] rows can wrap the BN254 scalar field
//! (`p ≈ 2^253.6`).
//!
//! Derived magnitudes, all in fine units (see [`crate::fine`]):
//! - one collateral or mark term `qty · price · weight` < 2^64 · 2^64 · 2^64 = 2^192;
//! - one cost term `cost · 10^(D−Q)` < 2^127 · 2^64 = 2^191;
//! - one tier's maintenance amount `A_t` < 2^192 ([`TIER_AMOUNT_LIMIT_BITS`], checked per config);
//! - per account, with ≤ [`MAX_ENTRIES`] entries (each a balance, or a position with a size,
//!   a cost and a requirement term): |CV|, |UPNL|, |equity|, MM, shortfall and bad debt are all
//!   < 2^192 · 3 · 256 < 2^202 = [`ACCOUNT_VALUE_LIMIT_BITS`] (a wide row of
//!   ≤ [`MAX_WIDE_ASSETS`] assets and ≤ [`MAX_WIDE_MARKETS`] markets: < 2^192 · 96 < 2^199);
//! - summed over < 2^32 accounts: < 2^234 = [`TOTAL_VALUE_LIMIT_BITS`].

/// Largest number of fraction digits of any configured quantity.
pub const MAX_DECIMALS: u32 = 18;
/// Longest asset or market symbol, in bytes.
pub const MAX_SYMBOL_LEN: usize = 16;
/// Longest account identifier, in bytes of UTF-8.
pub const MAX_IDENTIFIER_LEN: usize = 128;
/// Most assets (collateral and price-only index assets) in one config.
pub const MAX_ASSETS: usize = 256;
/// Most markets in one config.
pub const MAX_MARKETS: usize = 1024;
/// Most assets a wide `accounts.csv` (one column per asset) and the dense account table carry.
pub const MAX_WIDE_ASSETS: usize = 32;
/// Most markets a wide `accounts.csv` and the dense account table carry.
pub const MAX_WIDE_MARKETS: usize = 32;
/// Most entries (balances plus positions) of one account.
pub const MAX_ENTRIES: usize = 256;
/// Most risk-limit tiers of one market.
pub const MAX_TIERS: usize = 16;
/// A tier's maintenance amount is `< 2^TIER_AMOUNT_LIMIT_BITS` fine units.
pub const TIER_AMOUNT_LIMIT_BITS: u32 = 192;
/// Most stress scenarios in one config.
pub const MAX_SCENARIOS: usize = 16;
/// Most oracle sources of one asset.
pub const MAX_SOURCES: usize = 16;
/// Largest oracle `max_age_secs`.
pub const MAX_AGE_SECS: u64 = 1 << 32;
/// Stress shocks lie in `-100 % ..= +1000 %`.
pub const MIN_SHOCK_BPS: i32 = -(BPS as i32);
/// The largest stress shock (+1000 %).
pub const MAX_SHOCK_BPS: i32 = 100_000;
/// Balances are `< 2^BALANCE_BITS` base units.
pub const BALANCE_BITS: u32 = 64;
/// `2^BALANCE_BITS`.
pub const BALANCE_LIMIT: u128 = 1 << BALANCE_BITS;
/// Position sizes satisfy `|size| < 2^SIZE_BITS` base units.
pub const SIZE_BITS: u32 = 63;
/// `2^SIZE_BITS`.
pub const SIZE_LIMIT: u128 = 1 << SIZE_BITS;
/// Cost bases satisfy `|cost| < 2^COST_BITS` quote base units.
pub const COST_BITS: u32 = 127;
/// `2^COST_BITS`.
pub const COST_LIMIT: u128 = 1 << COST_BITS;
/// Prices are `0 < price < 2^PRICE_BITS` price units.
pub const PRICE_BITS: u32 = 64;
/// `2^PRICE_BITS`.
pub const PRICE_LIMIT: u128 = 1 << PRICE_BITS;
/// Timestamps (and oracle ages) are `< 2^TIMESTAMP_BITS` unix seconds.
pub const TIMESTAMP_BITS: u32 = 63;
/// `2^TIMESTAMP_BITS`.
pub const TIMESTAMP_LIMIT: u128 = 1 << TIMESTAMP_BITS;
/// One whole in basis points: rates (haircut, deviation band, maintenance) are `≤ BPS`.
pub const BPS: u32 = 10_000;
/// Rates in basis points are `≤ BPS < 2^BPS_BITS`.
pub const BPS_BITS: u32 = 14;
/// Counts of one asset's quotes (`≤ MAX_SOURCES`) fit in `COUNT_BITS` bits.
pub const COUNT_BITS: u32 = 8;

/// The checked widths of account values and prices: the defaults are the bounds above; a config
/// may declare tighter ones (`[bounds]`, multiples of 16), which the parsers and the circuit
/// then enforce. Signed values are given as signed widths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Widths {
    /// Balances are `< 2^balance_bits` base units.
    pub balance_bits: u32,
    /// Sizes satisfy `|size| < 2^(size_bits − 1)` (the circuit checks `|size| − short < 2^size_bits`).
    pub size_bits: u32,
    /// Costs satisfy `|cost| < 2^(cost_bits − 1)` (the circuit checks `cost + 2^(cost_bits − 1) < 2^cost_bits`).
    pub cost_bits: u32,
    /// Prices are `< 2^price_bits` price units.
    pub price_bits: u32,
}

impl Widths {
    /// The bounds of the data model: 64-bit balances and prices, `i64` sizes, `i128` costs.
    pub const DEFAULT: Widths = Widths {
        balance_bits: BALANCE_BITS,
        size_bits: SIZE_BITS + 1,
        cost_bits: COST_BITS + 1,
        price_bits: PRICE_BITS,
    };

    /// Whether these are the data model's own bounds.
    pub fn is_default(&self) -> bool {
        *self == Self::DEFAULT
    }

    /// Exclusive bound of a balance.
    pub fn balance_limit(&self) -> u128 {
        1 << self.balance_bits
    }

    /// Exclusive bound of `|size|`.
    pub fn size_limit(&self) -> u128 {
        1 << (self.size_bits - 1)
    }

    /// Exclusive bound of `|cost|`.
    pub fn cost_limit(&self) -> u128 {
        1 << (self.cost_bits - 1)
    }

    /// Exclusive bound of a price.
    pub fn price_limit(&self) -> u128 {
        1 << self.price_bits
    }
}

impl Default for Widths {
    fn default() -> Self {
        Self::DEFAULT
    }
}

const _: () = assert!(BPS < 1 << BPS_BITS);
const _: () = assert!((MAX_SOURCES as u64) < 1 << COUNT_BITS);
const _: () = assert!(MAX_AGE_SECS <= 1 << TIMESTAMP_BITS);
/// Insurance fund and declared reserves are `< 2^127` base units.
pub const AMOUNT_LIMIT: u128 = 1 << 127;
/// Every per-asset / per-market fine weight is `< 2^64`.
pub const WEIGHT_LIMIT: u128 = 1 << 64;
/// Number of accounts in one snapshot is `< 2^32`.
pub const MAX_ACCOUNTS: u64 = 1 << 32;
/// Per-account fine values have magnitude `< 2^202`.
pub const ACCOUNT_VALUE_LIMIT_BITS: u32 = 202;
/// Per-account fine values of a wide row have magnitude `< 2^199`.
pub const WIDE_ACCOUNT_VALUE_LIMIT_BITS: u32 = 199;
/// Table totals of fine values have magnitude `< 2^234`.
pub const TOTAL_VALUE_LIMIT_BITS: u32 = 234;

const _: () = assert!(MAX_WIDE_ASSETS <= MAX_ASSETS && MAX_WIDE_MARKETS <= MAX_MARKETS);
// 3 terms of < 2^192 per entry.
const _: () = assert!(3 * MAX_ENTRIES <= 1 << (ACCOUNT_VALUE_LIMIT_BITS - 192));
const _: () =
    assert!(MAX_WIDE_ASSETS + 2 * MAX_WIDE_MARKETS <= 1 << (WIDE_ACCOUNT_VALUE_LIMIT_BITS - 192));
const _: () = assert!(ACCOUNT_VALUE_LIMIT_BITS + 32 <= TOTAL_VALUE_LIMIT_BITS);
const _: () = assert!(TOTAL_VALUE_LIMIT_BITS < 253);
