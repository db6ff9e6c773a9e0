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
//! MM     = Σ_m (|size_m| · P_u · R_t[m] − A_t[m]),
//!                                       R_t[m] = mmr_t,m · 10^(D − s_m − p_u − 4),
//!                                       A_t[m] = amount_t,m · 10^(D − Q − 4)
//! ```
//!
//! where `t` is the position's risk-limit tier: the first with `N ≤ U_t[m]`, for the fine
//! notional `N = |size_m| · P_u · V[0][m]` (`= n · 10^(D − Q)` for the notional `n` in quote
//! base units) and the bound `U_t[m] = up_to_t,m · 10^(D − Q)`. A config with a tiered market
//! also needs `D ≥ Q + 4`, so every `A_t` is whole; a flat market has one tier and `A_0 = 0`.
//!
//! Scenario `j = 0` is the unshocked base case (σ = 10000). Every weight must be
//! `< 2^64` ([`bounds::WEIGHT_LIMIT`]); a config whose decimals spread too far apart is rejected.

use ethnum::U256;

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
    /// `maintenance[m][t]`: tier `t` of market `m` (one tier for a flat rate).
    pub maintenance: Vec<Vec<FineTier>>,
    /// `C = 10^(D − Q)`: quote base units → fine units.
    pub quote: u64,
}

/// One risk-limit tier in fine units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FineTier {
    /// `U_t = up_to_t · 10^(D − Q)` (`< 2^191`): the tier holds fine notionals `≤ U_t`; `None`
    /// on the last tier.
    pub bound: Option<U256>,
    /// `R_t = mmr_t · 10^(D − s − p − 4)` (`< 2^64`).
    pub rate: u64,
    /// `A_t = amount_t · 10^(D − Q − 4)` (`< 2^192`, [`bounds::TIER_AMOUNT_LIMIT_BITS`]).
    pub amount: U256,
}

/// One market's inputs to the fine unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketScaleInputs {
    /// Its symbol (for errors).
    pub symbol: String,
    /// Its underlying asset.
    pub underlying: usize,
    /// Size decimals `s_m`.
    pub size_decimals: u32,
    /// Its tiers: `(up_to, mmr_bps, amount)` as in `zkmargin_core::config::Tier`.
    pub tiers: Vec<(Option<u128>, u32, u128)>,
}

/// What the fine unit depends on: every decimal count, rate and shock of a config
/// (`zkmargin_core::config::Config::fine_scale` gathers them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleInputs {
    /// Quote currency decimals `Q`.
    pub quote_decimals: u32,
    /// Per asset: its symbol, balance decimals `d_a`, price decimals `p_a`, haircut in bps.
    pub assets: Vec<(String, u32, u32, u32)>,
    /// Per market: its symbol, underlying asset, size decimals `s_m` and tiers.
    pub markets: Vec<MarketScaleInputs>,
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
        let market_exp = |m: usize| markets[m].size_decimals + assets[markets[m].underlying].2 + 4;
        let tiered = markets.iter().any(|m| m.tiers.len() > 1);
        let exponent = (0..assets.len())
            .map(asset_exp)
            .chain((0..markets.len()).map(market_exp))
            .chain(std::iter::once(inputs.quote_decimals))
            .chain(tiered.then_some(inputs.quote_decimals + 4))
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
            for (m, market) in markets.iter().enumerate() {
                let factor = shock_multiplier(inputs, j, market.underlying);
                row.push(weight(
                    factor,
                    exponent - market_exp(m),
                    Some(market.underlying),
                    &format!("market {}", market.symbol),
                )?);
            }
            mark.push(row);
        }
        let quote = weight(
            1,
            exponent - inputs.quote_decimals,
            None,
            "the quote currency",
        )?;
        let mut maintenance = Vec::with_capacity(markets.len());
        for (m, market) in markets.iter().enumerate() {
            let mut tiers = Vec::with_capacity(market.tiers.len());
            for (t, &(up_to, mmr_bps, amount)) in market.tiers.iter().enumerate() {
                let what = format!("market {} tier {t}", market.symbol);
                let rate = weight(
                    u128::from(mmr_bps),
                    exponent - market_exp(m),
                    Some(market.underlying),
                    &what,
                )?;
                let amount = if amount == 0 {
                    U256::ZERO
                } else {
                    // D ≥ Q + 4 for a tiered config.
                    U256::from(amount) * U256::from(10u32).pow(exponent - inputs.quote_decimals - 4)
                };
                if amount >> bounds::TIER_AMOUNT_LIMIT_BITS != U256::ZERO {
                    return Err(FineScaleError {
                        asset: Some(market.underlying),
                        field: "tiers".into(),
                        reason: format!(
                            "the maintenance amount of {what} is 2^{} fine units or more; lower its bounds or rates",
                            bounds::TIER_AMOUNT_LIMIT_BITS
                        ),
                    });
                }
                tiers.push(FineTier {
                    bound: up_to.map(|u| U256::from(u) * U256::from(quote)),
                    rate,
                    amount,
                });
            }
            maintenance.push(tiers);
        }
        Ok(FineScale {
            exponent,
            collateral,
            mark,
            maintenance,
            quote,
        })
    }
}
