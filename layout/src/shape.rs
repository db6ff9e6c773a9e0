//! The circuit shape: everything that fixes the constraint system and hence the verifying key.
//! Two snapshots with the same shape share keys; the verifier rebuilds the key from the shape.

use ethnum::U256;
use serde::{Deserialize, Serialize};
use zkmargin_core::config::Config;

use zkmargin_core::bounds::Widths;

use crate::widths::limb_bits;

/// Smallest table: 2^4 rows.
pub const MIN_ROWS_LOG2: u32 = 4;
/// Smallest circuit considered when choosing k.
pub const MIN_K: u32 = 12;
/// Largest circuit considered when choosing k, and the largest any verifier rebuilds.
pub const MAX_K: u32 = 26;
/// Widest sign check `B` the circuit supports: per-account values are `< 2^199` by
/// `zkmargin_core::bounds`, rounded up to a multiple of 16.
pub const WIDEST_VALUE_BITS: usize = 208;

/// Why a config admits no shape, or why a declared shape is not one the config admits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    #[error("config admits no fine scale: {0}")]
    /// The config has no fine unit.
    Scale(String),
    #[error(
        "value_bits: the config's weights (decimals, haircuts, mmr_bps, shocks) need a \
         {bits}-bit sign check; the circuit supports at most {WIDEST_VALUE_BITS}"
    )]
    /// The config's weights need a wider sign check than the circuit has.
    TooWide {
        /// The bits needed.
        bits: usize,
    },
    #[error("{field}: {reason}")]
    /// The config uses what the dense account table does not prove.
    Unsupported {
        /// The config field.
        field: String,
        /// What the dense table lacks.
        reason: String,
    },
    #[error("rows = {0}: must be a power of two from 2^{MIN_ROWS_LOG2} to 2^{MAX_K}")]
    /// `rows` is not a supported table size.
    Rows(u64),
    #[error("rows = {rows}: no circuit up to 2^{MAX_K} rows holds the table")]
    /// No supported circuit holds the table.
    NoCircuit {
        /// Rows of the table.
        rows: usize,
    },
    #[error("k = {k}: a table of {rows} rows is proved with k from {min} to {max} (the cheapest circuit)")]
    /// `k` is outside the sizes a table of `rows` is proved with.
    K {
        /// The declared k.
        k: u32,
        /// The table's rows.
        rows: usize,
        /// The smallest circuit the table fits.
        min: u32,
        /// The circuit `prove` chooses.
        max: u32,
    },
    #[error("{field} = {declared}: the config gives {expected}")]
    /// A declared field is not what the config gives.
    Field {
        /// The field.
        field: &'static str,
        /// What was declared.
        declared: String,
        /// What the config gives.
        expected: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
/// The circuit shape: everything that fixes the constraint system (and so the verifying key).
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
    /// The checked widths of balances, sizes, costs and prices (the config's `[bounds]`;
    /// absent from a shape file when they are the defaults, so first-release shapes read).
    #[serde(default, skip_serializing_if = "Widths::is_default")]
    pub widths: Widths,
}

/// `Ok` when the dense account table (a column per asset and market, in every block) proves
/// `config`: at most `MAX_WIDE_ASSETS` assets and `MAX_WIDE_MARKETS` markets, every asset
/// collateral, every market flat-rate (one tier). Tiered markets, price-only index assets and
/// larger venues are refused by name, never proved with a different rule.
pub fn dense_support(config: &Config) -> Result<(), ShapeError> {
    use zkmargin_core::bounds::{MAX_WIDE_ASSETS, MAX_WIDE_MARKETS};
    let unsupported = |field: String, reason: &str| {
        Err(ShapeError::Unsupported {
            field,
            reason: format!("the dense account table {reason}"),
        })
    };
    if config.assets.len() > MAX_WIDE_ASSETS {
        return unsupported(
            "assets".into(),
            &format!("proves at most {MAX_WIDE_ASSETS} assets"),
        );
    }
    if config.markets.len() > MAX_WIDE_MARKETS {
        return unsupported(
            "markets".into(),
            &format!("proves at most {MAX_WIDE_MARKETS} markets"),
        );
    }
    if let Some(a) = config.assets.iter().position(|a| !a.collateral) {
        return unsupported(
            format!("assets[{a}].index"),
            "proves collateral assets only, not a price-only index",
        );
    }
    if let Some(m) = config.markets.iter().position(|m| m.tiers.len() > 1) {
        return unsupported(
            format!("markets[{m}].tiers"),
            "proves flat maintenance rates (one tier per market) only",
        );
    }
    Ok(())
}

/// The sign-check width for `config`: the bit length of the largest possible
/// `Σ_a bal·P·max_j W[j][a] + Σ_m |size|·P·(max_j V[j][m] + R[m]) + Σ_m |cost|·C` with
/// balances, sizes and prices at their circuit bounds, rounded up to a multiple of 16. `Err`
/// when that exceeds [`WIDEST_VALUE_BITS`] (a config the circuit cannot sign-check is refused,
/// never clamped).
pub fn value_bits(config: &Config) -> Result<usize, ShapeError> {
    dense_support(config)?;
    sign_width(config)
}

/// Per entry, the largest `max_j |E_j term| + MM term` an in-bound entry can reach under the
/// config's weights: a balance of asset `a` below `balance`, `bal · P · max_j W[j][a]`; a
/// position in market `m` below `size`,
/// `|size| · P · (max_j V[j][m] + max_t R_t[m]) + |cost| · C + max_t A_t[m]`; prices below
/// `2^price_bits`, costs `≤ 2^(cost_bits − 1)`. One definition for the dense table (summed over
/// every asset and market) and the slot table (its largest entry times the slots of a block).
pub(crate) fn entry_bounds(
    config: &Config,
    balance: U256,
    size: U256,
) -> Result<(Vec<U256>, Vec<U256>), ShapeError> {
    let scale = config
        .fine_scale()
        .map_err(|e| ShapeError::Scale(e.reason))?;
    let w = &config.bounds;
    let price = U256::ONE << w.price_bits;
    let cost = U256::ONE << (w.cost_bits - 1);
    let assets = (0..config.assets.len())
        .map(|a| {
            let w = scale.collateral.iter().map(|c| c[a]).max().unwrap_or(0);
            balance * price * U256::from(w)
        })
        .collect();
    let markets = (0..config.markets.len())
        .map(|m| {
            let v = scale.mark.iter().map(|c| c[m]).max().unwrap_or(0);
            let tiers = &scale.maintenance[m];
            let r = tiers.iter().map(|t| t.rate).max().unwrap_or(0);
            let amount = tiers.iter().map(|t| t.amount).max().unwrap_or(U256::ZERO);
            size * price * (U256::from(v) + U256::from(r)) + cost * U256::from(scale.quote) + amount
        })
        .collect();
    Ok((assets, markets))
}

/// The bit length of `x` rounded up to a multiple of 16; `Err` past [`WIDEST_VALUE_BITS`].
pub(crate) fn sign_bits(x: U256) -> Result<usize, ShapeError> {
    let bits = ((256 - x.leading_zeros()) as usize).div_ceil(16).max(1) * 16;
    if bits > WIDEST_VALUE_BITS {
        return Err(ShapeError::TooWide { bits });
    }
    Ok(bits)
}

/// [`value_bits`] without the dense-support check.
fn sign_width(config: &Config) -> Result<usize, ShapeError> {
    // The circuit's bounds: balances and `|size| − short` below their widths.
    let w = &config.bounds;
    let (assets, markets) = entry_bounds(
        config,
        U256::ONE << w.balance_bits,
        U256::ONE << w.size_bits,
    )?;
    let sum = assets
        .into_iter()
        .chain(markets)
        .fold(U256::ZERO, |a, b| a + b);
    sign_bits(sum)
}

impl MarginShape {
    /// The shape for a config and a table of `rows` rows proved in a circuit of 2^k rows
    /// (whether the table fits is [`MarginShape::admit`]'s business, in `crate::sizing`).
    pub fn new(config: &Config, rows: usize, k: u32) -> Result<Self, ShapeError> {
        Ok(MarginShape {
            k,
            lookup_bits: limb_bits(k),
            rows,
            sources: config.assets.iter().map(|a| a.sources.len()).collect(),
            underlying: config.markets.iter().map(|m| m.underlying).collect(),
            scenarios: config.scenarios.len(),
            value_bits: value_bits(config)?,
            widths: config.bounds,
        })
    }

    /// Collateral assets.
    pub fn assets(&self) -> usize {
        self.sources.len()
    }

    /// Markets.
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
    use crate::table::TableLayout;

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
        assert_eq!(value_bits(&config("demo")), Ok(192));
        let liabilities = value_bits(&config("edge/liabilities-only")).unwrap();
        assert_eq!(liabilities % 16, 0);
        assert!(liabilities <= WIDEST_VALUE_BITS);
    }

    #[test]
    fn only_the_config_derived_shape_is_admitted() {
        let demo = config("demo");
        let honest = MarginShape::choose(&demo, 1024).unwrap().unwrap();
        assert_eq!(MarginShape::admit(&demo, &honest), Ok(honest.clone()));
        // Every field at 0, 1, its bound, past it, and at the widths of the integer types.
        let hostile = zkmargin_fixtures::hostile::BOUND_NUMBERS;
        for &x in hostile {
            let n = x as usize;
            let mut cases = vec![
                MarginShape {
                    rows: n,
                    ..honest.clone()
                },
                MarginShape {
                    lookup_bits: n,
                    ..honest.clone()
                },
                MarginShape {
                    scenarios: n,
                    ..honest.clone()
                },
                MarginShape {
                    value_bits: n,
                    ..honest.clone()
                },
                MarginShape {
                    sources: vec![n; honest.sources.len()],
                    ..honest.clone()
                },
                MarginShape {
                    underlying: vec![n; honest.underlying.len()],
                    ..honest.clone()
                },
            ];
            if x <= u32::MAX as u64 {
                cases.push(MarginShape {
                    k: x as u32,
                    ..honest.clone()
                });
                let w = x as u32;
                let d = Widths::DEFAULT;
                for widths in [
                    Widths {
                        balance_bits: w,
                        ..d
                    },
                    Widths { size_bits: w, ..d },
                    Widths { cost_bits: w, ..d },
                    Widths { price_bits: w, ..d },
                ] {
                    cases.push(MarginShape {
                        widths,
                        ..honest.clone()
                    });
                }
            }
            for shape in cases.into_iter().filter(|s| *s != honest) {
                assert!(MarginShape::admit(&demo, &shape).is_err(), "{shape:?}");
                // The plan of a hostile shape is refused, never computed with overflow.
                let _ = TableLayout::new(&shape);
            }
        }
        // Lists emptied, shortened and lengthened.
        for sources in [vec![], vec![3], vec![3; 5], vec![3; 1 << 20]] {
            let shape = MarginShape {
                sources,
                ..honest.clone()
            };
            assert!(MarginShape::admit(&demo, &shape).is_err());
        }
        // A circuit larger than the cheapest one for the table is not needed, so not admitted.
        let bigger = MarginShape::new(&demo, honest.rows, honest.k + 1).unwrap();
        assert!(matches!(
            MarginShape::admit(&demo, &bigger),
            Err(ShapeError::K { .. })
        ));
        // A smaller one that still fits (what `--k` may ask for) is.
        let range = MarginShape::k_range(&demo, 16).unwrap();
        for k in range.clone() {
            let shape = MarginShape::new(&demo, 16, k).unwrap();
            assert!(MarginShape::admit(&demo, &shape).is_ok(), "k = {k}");
        }
        assert!(*range.start() >= MIN_K && *range.end() <= MAX_K);
    }

    #[test]
    fn a_config_needing_a_wider_sign_check_is_refused_not_clamped() {
        // A validated config stays below 208 bits (at most 32 assets and 32 markets); one
        // built past those bounds (2^20 markets of whole-unit sizes at the full maintenance
        // rate) needs more, and is refused with an error naming the field instead of clamped
        // to the widest check.
        let mut c = config("demo");
        let mut market = c.markets[0].clone();
        market.size_decimals = 0;
        market.tiers[0].mmr_bps = 10_000;
        c.markets = vec![market; 1 << 20];
        // Past the dense table's 32 markets: refused by name before any width is computed.
        assert!(matches!(
            value_bits(&c),
            Err(ShapeError::Unsupported { .. })
        ));
        let e = sign_width(&c).unwrap_err();
        assert!(
            matches!(e, ShapeError::TooWide { bits } if bits > WIDEST_VALUE_BITS),
            "{e}"
        );
        assert!(e.to_string().starts_with("value_bits:"), "{e}");
        assert!(MarginShape::new(&c, 16, 12).is_err());
        assert!(MarginShape::choose(&c, 16).is_err());
    }

    #[test]
    fn the_cost_model_picks_the_measured_sizes() {
        let demo = config("demo");
        assert_eq!(MarginShape::choose(&demo, 1024).unwrap().unwrap().k, 14);
        assert_eq!(MarginShape::choose(&demo, 1 << 16).unwrap().unwrap().k, 19);
        // Every chosen shape has a table plan.
        for rows in [16, 1024, 1 << 14] {
            let shape = MarginShape::choose(&demo, rows).unwrap().unwrap();
            assert!(TableLayout::new(&shape).is_some());
        }
    }
}
