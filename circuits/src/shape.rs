//! The circuit shape: everything that fixes the constraint system and hence the verifying key.
//! Two snapshots with the same shape share keys; the verifier rebuilds the key from the shape.

use serde::{Deserialize, Serialize};
use zkmargin_core::config::Config;

/// Bits of an account id (`zkmargin_core::account_id::ID_BITS`): canonical field elements,
/// and a multiple of every lookup size up to 16 stays within the field's capacity.
pub const ID_BITS: usize = zkmargin_core::account_id::ID_BITS as usize;
/// Per-account equity satisfies `|E| < 2^199` (see `zkmargin_core::bounds`).
pub const EQUITY_BITS: usize = zkmargin_core::bounds::ACCOUNT_VALUE_LIMIT_BITS as usize;
/// Smallest table: 2^4 rows.
pub const MIN_ROWS_LOG2: u32 = 4;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarginShape {
    /// The circuit has 2^k rows.
    pub k: u32,
    /// Range-check limb size (the lookup table holds `0..2^lookup_bits`).
    pub lookup_bits: usize,
    /// Account table rows (a power of two); real accounts first, zero accounts after.
    pub rows: usize,
    /// Number of oracle sources per asset.
    pub sources: Vec<usize>,
    /// Underlying asset index per market.
    pub underlying: Vec<usize>,
    /// Number of stress scenarios (besides the base case).
    pub scenarios: usize,
}

impl MarginShape {
    /// The shape for a config and a table of `rows` rows proved in a circuit of 2^k rows.
    pub fn new(config: &Config, rows: usize, k: u32) -> Self {
        MarginShape {
            k,
            lookup_bits: (k as usize).saturating_sub(1).min(16),
            rows,
            sources: config.assets.iter().map(|a| a.sources.len()).collect(),
            underlying: config.markets.iter().map(|m| m.underlying).collect(),
            scenarios: config.scenarios.len(),
        }
    }

    pub fn assets(&self) -> usize {
        self.sources.len()
    }

    pub fn markets(&self) -> usize {
        self.underlying.len()
    }

    /// Base case plus stress scenarios.
    pub fn cases(&self) -> usize {
        1 + self.scenarios
    }

    /// Padded table size for `accounts` accounts: the next power of two, at least 2^4.
    pub fn padded_rows(accounts: u64) -> usize {
        (accounts.max(1) as usize)
            .next_power_of_two()
            .max(1 << MIN_ROWS_LOG2)
    }
}
