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
pub const MAX_ASSETS: usize = 32;
pub const MAX_MARKETS: usize = 32;
pub const MAX_SCENARIOS: usize = 16;
pub const MAX_SOURCES: usize = 16;
/// Largest oracle `max_age_secs`.
pub const MAX_AGE_SECS: u64 = 1 << 32;
/// Stress shocks lie in `-100 % ..= +1000 %`.
pub const MIN_SHOCK_BPS: i32 = -10_000;
pub const MAX_SHOCK_BPS: i32 = 100_000;
/// Balances are `< 2^64` base units.
pub const BALANCE_LIMIT: u128 = 1 << 64;
/// Position sizes satisfy `|size| < 2^63` base units.
pub const SIZE_LIMIT: u128 = 1 << 63;
/// Cost bases satisfy `|cost| < 2^127` quote base units.
pub const COST_LIMIT: u128 = 1 << 127;
/// Prices are `0 < price < 2^64` price units.
pub const PRICE_LIMIT: u128 = 1 << 64;
/// Timestamps are `< 2^63` unix seconds.
pub const TIMESTAMP_LIMIT: u128 = 1 << 63;
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
