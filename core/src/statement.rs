//! The public statement of one epoch (SPEC §4), as computed by the reference engine and, later,
//! carried by the proof. Money is in fine units (`10^-fine_exponent` quote); liabilities and
//! reserves in each asset's base units; open interest in each market's size base units. Large
//! integers serialize as decimal strings, digests as hex.
//!
//! The number of accounts is deliberately absent: it is private to the operator.

use ethnum::I256;
use serde::{Deserialize, Serialize};
use serde_with::{hex::Hex, serde_as, DisplayFromStr};

use crate::aggregate::Totals;
use crate::amount::format_units;
use crate::config::Config;
use crate::digest::Digest;
use crate::fine::FineScale;
use crate::oracle::AssetOracle;

pub const STATEMENT_VERSION: u32 = 1;

/// Per-asset public totals.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetTotals {
    pub symbol: String,
    pub decimals: u32,
    /// Σ balances over all accounts, base units.
    #[serde_as(as = "DisplayFromStr")]
    pub liabilities: u128,
    /// Declared reserves, base units, if the config declares them.
    #[serde_as(as = "Option<DisplayFromStr>")]
    pub reserves: Option<u128>,
}

/// Per-market open interest.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketTotals {
    pub symbol: String,
    pub size_decimals: u32,
    #[serde_as(as = "DisplayFromStr")]
    pub long_open_interest: u128,
    #[serde_as(as = "DisplayFromStr")]
    pub short_open_interest: u128,
}

/// Bad debt under one stress scenario.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioTotals {
    pub name: String,
    /// Shock per asset in bps, index-aligned with `assets`.
    pub shocks_bps: Vec<i32>,
    #[serde_as(as = "DisplayFromStr")]
    pub bad_debt: I256,
}

/// What one epoch's proof asserts.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub version: u32,
    pub epoch: u64,
    pub timestamp: u64,
    /// Digest of the previous epoch's statement (all zero for the first epoch).
    #[serde_as(as = "Hex")]
    pub prev_digest: Digest,
    #[serde_as(as = "Hex")]
    pub config_digest: Digest,
    pub quote_symbol: String,
    pub quote_decimals: u32,
    /// One fine unit is `10^-fine_exponent` quote.
    pub fine_exponent: u32,
    /// Every quote with its status, and the medians.
    pub oracle: Vec<AssetOracle>,
    pub assets: Vec<AssetTotals>,
    pub markets: Vec<MarketTotals>,
    #[serde_as(as = "DisplayFromStr")]
    pub total_equity: I256,
    #[serde_as(as = "DisplayFromStr")]
    pub total_maintenance: I256,
    pub under_margined_accounts: u64,
    #[serde_as(as = "DisplayFromStr")]
    pub total_shortfall: I256,
    #[serde_as(as = "DisplayFromStr")]
    pub total_bad_debt: I256,
    pub scenarios: Vec<ScenarioTotals>,
    /// Insurance fund in fine units.
    #[serde_as(as = "DisplayFromStr")]
    pub insurance_fund: I256,
}

impl Statement {
    /// Assembles the statement from the config, the oracle verdict and the table totals.
    pub fn assemble(
        config: &Config,
        scale: &FineScale,
        oracle: Vec<AssetOracle>,
        totals: &Totals,
        prev_digest: Digest,
    ) -> Self {
        Statement {
            version: STATEMENT_VERSION,
            epoch: config.epoch,
            timestamp: config.timestamp,
            prev_digest,
            config_digest: config.digest(),
            quote_symbol: config.quote.symbol.clone(),
            quote_decimals: config.quote.decimals,
            fine_exponent: scale.exponent,
            oracle,
            assets: config
                .assets
                .iter()
                .enumerate()
                .map(|(a, asset)| AssetTotals {
                    symbol: asset.symbol.clone(),
                    decimals: asset.decimals,
                    liabilities: totals.liabilities[a],
                    reserves: config.reserves[a],
                })
                .collect(),
            markets: config
                .markets
                .iter()
                .enumerate()
                .map(|(m, market)| MarketTotals {
                    symbol: market.symbol.clone(),
                    size_decimals: market.size_decimals,
                    long_open_interest: totals.long_open_interest[m],
                    short_open_interest: totals.short_open_interest[m],
                })
                .collect(),
            total_equity: totals.equity,
            total_maintenance: totals.maintenance,
            under_margined_accounts: totals.under_margined,
            total_shortfall: totals.shortfall,
            total_bad_debt: totals.bad_debt,
            scenarios: config
                .scenarios
                .iter()
                .zip(&totals.stressed_bad_debt)
                .map(|(s, &bad_debt)| ScenarioTotals {
                    name: s.name.clone(),
                    shocks_bps: s.shocks_bps.clone(),
                    bad_debt,
                })
                .collect(),
            insurance_fund: I256::from(config.insurance_fund) * I256::from(scale.quote),
        }
    }

    /// The declared values no proof covers, as digest words: per asset, a presence word and
    /// the declared reserves (0 when absent). See [`crate::digest::statement_digest`].
    pub fn declared_words(&self) -> Vec<Digest> {
        let word = |v: u128| {
            let mut w = [0u8; 32];
            w[16..].copy_from_slice(&v.to_be_bytes());
            w
        };
        self.assets
            .iter()
            .flat_map(|a| {
                [
                    word(u128::from(a.reserves.is_some())),
                    word(a.reserves.unwrap_or(0)),
                ]
            })
            .collect()
    }

    /// A fine-unit amount in the quote currency, rounded half away from zero to the quote's
    /// decimals; a non-zero amount that would round to zero is shown exactly instead. For
    /// display only; the statement itself is exact.
    pub fn display_fine(&self, fine: I256) -> String {
        // A statement read from an untrusted file may carry inconsistent exponents: show the
        // raw fine value rather than fail.
        let Some(unit) = self
            .fine_exponent
            .checked_sub(self.quote_decimals)
            .and_then(|drop| I256::from(10u8).checked_pow(drop))
        else {
            return format!("{fine} fine units");
        };
        let half = unit / 2;
        let rounded = if fine >= 0 {
            fine.checked_add(half)
        } else {
            fine.checked_sub(half)
        }
        .map(|v| v / unit);
        match rounded {
            None => format!("{fine} fine units"),
            Some(r) if r == 0 && fine != 0 => format_units(fine, self.fine_exponent),
            Some(r) => format_units(r, self.quote_decimals),
        }
    }

    /// [`Statement::display_fine`] followed by the quote symbol (`"12.5 USD"`).
    pub fn display_money(&self, fine: I256) -> String {
        format!("{} {}", self.display_fine(fine), self.quote_symbol)
    }
}
