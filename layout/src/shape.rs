//! The circuit shape: everything that fixes the constraint system and hence the verifying key.
//! Two snapshots with the same shape share keys; the verifier rebuilds the key from the shape.

use ethnum::U256;
use serde::{Deserialize, Serialize};
use zkmargin_core::config::Config;
use zkmargin_core::fine::FineScale;

use crate::plan::{TablePlan, BALANCE_BITS, COST_BITS, SIZE_BITS};

/// Smallest table: 2^4 rows.
pub const MIN_ROWS_LOG2: u32 = 4;
/// Largest circuit considered when choosing k.
pub const MAX_K: u32 = 26;
/// Bound on the sign-check width `B` when a config's weights cannot be derived (never for a
/// validated config): per-account values are `< 2^199` by `zkmargin_core::bounds`.
const WIDEST_VALUE_BITS: usize = 208;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarginShape {
    /// The circuit has 2^k rows.
    pub k: u32,
    /// Range-check limb size (lookup tables hold `0..2^lookup_bits`): 16 for k ≥ 17, else 8.
    pub lookup_bits: usize,
    /// Account table rows (a power of two); real accounts first, zero accounts after.
    pub rows: usize,
    /// Number of oracle sources per asset.
    pub sources: Vec<usize>,
    /// Underlying asset index per market.
    pub underlying: Vec<usize>,
    /// Number of stress scenarios (besides the base case).
    pub scenarios: usize,
    /// `B`, a multiple of 16: every account's equity in every case, and its equity minus its
    /// requirement, has magnitude `< 2^B` fine units for *any* in-bound inputs and prices under
    /// this config's weights (see [`value_bits`]). The sign checks are `B` bits wide.
    pub value_bits: usize,
}

/// The sign-check width for `config`: the bit length of the largest possible
/// `Σ_a bal·P·max_j W[j][a] + Σ_m |size|·P·(max_j V[j][m] + R[m]) + Σ_m |cost|·C` with
/// balances, sizes and prices at their circuit bounds, rounded up to a multiple of 16.
pub fn value_bits(config: &Config) -> usize {
    let Ok(scale) = FineScale::derive(config) else {
        return WIDEST_VALUE_BITS;
    };
    let price = U256::ONE << 64u32;
    let balance = U256::ONE << BALANCE_BITS as u32;
    let size = U256::ONE << SIZE_BITS as u32;
    let cost = U256::ONE << (COST_BITS as u32 - 1);
    let mut sum = U256::ZERO;
    for a in 0..config.assets.len() {
        let w = scale.collateral.iter().map(|c| c[a]).max().unwrap_or(0);
        sum += balance * price * U256::from(w);
    }
    for m in 0..config.markets.len() {
        let v = scale.mark.iter().map(|c| c[m]).max().unwrap_or(0);
        sum += size * price * (U256::from(v) + U256::from(scale.maintenance[m]));
        sum += cost * U256::from(scale.quote);
    }
    let bits = (256 - sum.leading_zeros()) as usize;
    (bits.div_ceil(16) * 16).clamp(16, WIDEST_VALUE_BITS)
}

impl MarginShape {
    /// The shape for a config and a table of `rows` rows proved in a circuit of 2^k rows.
    pub fn new(config: &Config, rows: usize, k: u32) -> Self {
        MarginShape {
            k,
            lookup_bits: crate::plan::limb_bits(k),
            rows,
            sources: config.assets.iter().map(|a| a.sources.len()).collect(),
            underlying: config.markets.iter().map(|m| m.underlying).collect(),
            scenarios: config.scenarios.len(),
            value_bits: value_bits(config),
        }
    }

    /// The cheapest shape for `rows` table rows. The prover's cost is about (committed columns
    /// × 2^k): each column costs one MSM and a few FFTs of size 2^k. Each column also adds
    /// about 160 bytes to the proof and work to every verification, so the model charges
    /// `(1 + columns/100)` on top. (Measured at 2^16 demo-shaped accounts: k = 18 with 94
    /// columns proves in 149 s, 14.7 KB, 19 ms to verify; k = 19 with 46 columns in 193 s,
    /// 9.7 KB, 12 ms. The model picks k = 19.)
    pub fn choose(config: &Config, rows: usize) -> Option<Self> {
        (12..=MAX_K)
            .filter_map(|k| {
                let shape = MarginShape::new(config, rows, k);
                let plan = TablePlan::new(&shape)?;
                let columns = plan.committed_columns() + 6;
                let cost = ((columns << k) as u128) * (100 + columns as u128);
                Some((cost, shape))
            })
            .min_by_key(|(cost, shape)| (*cost, shape.k))
            .map(|(_, shape)| shape)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(name: &str) -> Config {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures")
            .join(name)
            .join("config.toml");
        Config::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn sign_width_follows_the_config_weights() {
        // The demo: 64-bit balances and prices times its largest weights, summed, need 192 bits.
        assert_eq!(value_bits(&config("demo")), 192);
        let liabilities = value_bits(&config("edge/liabilities-only"));
        assert_eq!(liabilities % 16, 0);
        assert!(liabilities <= WIDEST_VALUE_BITS);
    }

    #[test]
    fn the_cost_model_picks_the_measured_sizes() {
        let demo = config("demo");
        assert_eq!(MarginShape::choose(&demo, 1024).unwrap().k, 14);
        assert_eq!(MarginShape::choose(&demo, 1 << 16).unwrap().k, 19);
        // Every chosen shape has a table plan.
        for rows in [16, 1024, 1 << 14] {
            let shape = MarginShape::choose(&demo, rows).unwrap();
            assert!(TablePlan::new(&shape).is_some());
        }
    }
}
