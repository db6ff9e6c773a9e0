//! Every numeric bound of the data model, in one place. The circuit enforces the same bounds,
//! so that no sum over a table of [`MAX_ACCOUNTS`] rows can wrap the BN254 scalar field
//! (`p ≈ 2^253.6`).
//!
//! Derived magnitudes, all in fine units (see [`crate::fine`]):
//! - one collateral or mark term `qty · price · weight` < 2^64 · 2^64 · 2^64 = 2^192;
//! - one cost term `cost · 10^(D−Q)` < 2^127 · 2^64 = 2^191;
//! - per account, with ≤ 32 assets and ≤ 32 markets: |CV|, |UPNL|, |equity|, MM,
//!   shortfall and bad debt are all < 2^192 · (32 + 2·32) < 2^199 = [`ACCOUNT_VALUE_LIMIT_BITS`];
//! - summed over < 2^32 accounts: < 2^231 = [`TOTAL_VALUE_LIMIT_BITS`].

/// Largest number of fraction digits of any configured quantity.
pub const MAX_DECIMALS: u32 = 18;
/// Longest asset or market symbol, in bytes.
pub const MAX_SYMBOL_LEN: usize = 16;
/// Longest account identifier, in bytes of UTF-8.
pub const MAX_IDENTIFIER_LEN: usize = 128;
/// Most collateral assets in one config.
pub const MAX_ASSETS: usize = 32;
/// Most markets in one config.
pub const MAX_MARKETS: usize = 32;
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

const _: () = assert!(BPS < 1 << BPS_BITS);
const _: () = assert!((MAX_SOURCES as u64) < 1 << COUNT_BITS);
const _: () = assert!(MAX_AGE_SECS <= 1 << TIMESTAMP_BITS);
/// Insurance fund and declared reserves are `< 2^127` base units.
pub const AMOUNT_LIMIT: u128 = 1 << 127;
/// Every per-asset / per-market fine weight is `< 2^64`.
pub const WEIGHT_LIMIT: u128 = 1 << 64;
/// Number of accounts in one snapshot is `< 2^32`.
pub const MAX_ACCOUNTS: u64 = 1 << 32;
/// Per-account fine values have magnitude `< 2^199`.
pub const ACCOUNT_VALUE_LIMIT_BITS: u32 = 199;
/// Table totals of fine values have magnitude `< 2^231`.
pub const TOTAL_VALUE_LIMIT_BITS: u32 = 231;
