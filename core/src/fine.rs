//! The fine unit: one integer unit in which every term of the margin statement is exact.
//!
//! With quote decimals `Q`, asset balance decimals `d_a`, price decimals `p_a` and market size
//! decimals `s_m`, one fine unit is `10^-D` quote where
//!
//! ```text
//! D = max(Q, max_a(d_a + p_a + 8), max_m(s_m + p_u(m) + 4))
//! ```
//!
//! The `+8` absorbs the haircut `(10000 − h)/10^4` and the shock `σ/10^4` (σ = 10000 + shock)
//! of collateral; the `+4` the shock or maintenance rate of a market. Then, exactly,
//!
//! ```text
//! CV_j   = Σ_a bal_a · P_a · W[j][a],   W[j][a] = (10000 − h_a) · σ_j,a · 10^(D − d_a − p_a − 8)
//! UPNL_j = Σ_m size_m · P_u · V[j][m] − cost_m · C,
//!                                       V[j][m] = σ_j,u · 10^(D − s_m − p_u − 4), C = 10^(D − Q)
//! MM     = Σ_m |size_m| · P_u · R[m],   R[m] = mmr_m · 10^(D − s_m − p_u − 4)
//! ```
//!
//! Scenario `j = 0` is the unshocked base case (σ = 10000). Every weight must be
//! `< 2^64` ([`bounds::WEIGHT_LIMIT`]); a config whose decimals spread too far apart is rejected.

use crate::bounds;

/// Why a config admits no fine unit within bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FineScaleError {
    /// The asset whose decimals make the weight too large, if one is to blame.
    pub asset: Option<usize>,
    /// The config field to blame.
    pub field: String,
    /// Why no fine unit fits.
    pub reason: String,
}

/// Per-asset and per-market weights turning base-unit quantities into fine units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FineScale {
    /// One fine unit is `10^-exponent` quote.
    pub exponent: u32,
    /// `collateral[j][a]` = W[j][a]; `j = 0` is the base case.
    pub collateral: Vec<Vec<u64>>,
    /// `mark[j][m]` = V[j][m].
    pub mark: Vec<Vec<u64>>,
    /// `maintenance[m]` = R[m].
    pub maintenance: Vec<u64>,
    /// `C = 10^(D − Q)`: quote base units → fine units.
    pub quote: u64,
}

/// What the fine unit depends on: every decimal count, rate and shock of a config
/// (`zkmargin_core::config::Config::fine_scale` gathers them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleInputs {
    /// Quote currency decimals `Q`.
    pub quote_decimals: u32,
    /// Per asset: its symbol, balance decimals `d_a`, price decimals `p_a`, haircut in bps.
    pub assets: Vec<(String, u32, u32, u32)>,
    /// Per market: its symbol, underlying asset, size decimals `s_m`, maintenance rate in bps.
    pub markets: Vec<(String, usize, u32, u32)>,
    /// `shocks_bps[j − 1][a]`: the shock of asset `a` in stress scenario `j`.
    pub shocks_bps: Vec<Vec<i32>>,
}

/// σ = 10000 + shock for asset `a` in scenario `j` (`j = 0`: no shock).
fn shock_multiplier(inputs: &ScaleInputs, j: usize, a: usize) -> u128 {
    let shock = if j == 0 {
        0
    } else {
        inputs.shocks_bps[j - 1][a]
    };
    (i64::from(bounds::BPS) + i64::from(shock)) as u128
}

fn weight(factor: u128, pow: u32, asset: Option<usize>, what: &str) -> Result<u64, FineScaleError> {
    let too_big = || FineScaleError {
        asset,
        field: "decimals".into(),
        reason: format!(
            "decimals spread too wide: the fine-unit weight of {what} is 2^64 or more; \
             bring decimals and price_decimals of assets and markets closer together"
        ),
    };
    let w = 10u128
        .checked_pow(pow)
        .and_then(|p| p.checked_mul(factor))
        .ok_or_else(too_big)?;
    if w >= bounds::WEIGHT_LIMIT {
        return Err(too_big());
    }
    Ok(w as u64)
}

impl FineScale {
    /// Derives the fine unit and all weights; fails if a weight reaches 2^64.
    pub fn derive(inputs: &ScaleInputs) -> Result<FineScale, FineScaleError> {
        let (assets, markets) = (&inputs.assets, &inputs.markets);
        let asset_exp = |a: usize| assets[a].1 + assets[a].2 + 8;
        let market_exp = |m: usize| markets[m].2 + assets[markets[m].1].2 + 4;
        let exponent = (0..assets.len())
            .map(asset_exp)
            .chain((0..markets.len()).map(market_exp))
            .chain(std::iter::once(inputs.quote_decimals))
            .max()
            .unwrap_or(inputs.quote_decimals);

        let scenarios = 1 + inputs.shocks_bps.len();
        let mut collateral = Vec::with_capacity(scenarios);
        let mut mark = Vec::with_capacity(scenarios);
        for j in 0..scenarios {
            let mut row = Vec::with_capacity(assets.len());
            for (a, (symbol, _, _, haircut_bps)) in assets.iter().enumerate() {
                let factor = u128::from(bounds::BPS - haircut_bps) * shock_multiplier(inputs, j, a);
                row.push(weight(
                    factor,
                    exponent - asset_exp(a),
                    Some(a),
                    &format!("asset {symbol}"),
                )?);
            }
            collateral.push(row);
            let mut row = Vec::with_capacity(markets.len());
            for (m, (symbol, underlying, _, _)) in markets.iter().enumerate() {
                let factor = shock_multiplier(inputs, j, *underlying);
                row.push(weight(
                    factor,
                    exponent - market_exp(m),
                    Some(*underlying),
                    &format!("market {symbol}"),
                )?);
            }
            mark.push(row);
        }
        let maintenance = markets
            .iter()
            .enumerate()
            .map(|(m, (symbol, underlying, _, mmr_bps))| {
                weight(
                    u128::from(*mmr_bps),
                    exponent - market_exp(m),
                    Some(*underlying),
                    &format!("market {symbol}"),
                )
            })
            .collect::<Result<_, _>>()?;
        let quote = weight(
            1,
            exponent - inputs.quote_decimals,
            None,
            "the quote currency",
        )?;
        Ok(FineScale {
            exponent,
            collateral,
            mark,
            maintenance,
            quote,
        })
    }
}
