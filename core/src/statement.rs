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
use crate::digest::{Digest, WordHasher};
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

    /// Canonical digest ([`WordHasher`] under `zkmargin/statement/v1`, fields in declaration
    /// order); the next epoch's `prev_digest`.
    pub fn digest(&self) -> Digest {
        let mut h = WordHasher::new("zkmargin/statement/v1");
        h.uint(self.version.into())
            .uint(self.epoch.into())
            .uint(self.timestamp.into())
            .bytes32(&self.prev_digest)
            .bytes32(&self.config_digest)
            .string(&self.quote_symbol)
            .uint(self.quote_decimals.into())
            .uint(self.fine_exponent.into());
        h.uint(self.oracle.len() as u128);
        for o in &self.oracle {
            h.string(&o.symbol)
                .uint(o.price_decimals.into())
                .optional(o.median.map(u128::from));
            h.uint(o.quorum.into())
                .uint(o.counted.into())
                .uint(o.quotes.len() as u128);
            for q in &o.quotes {
                h.string(&q.source)
                    .optional(q.price.map(u128::from))
                    .optional(q.timestamp.map(u128::from))
                    .uint(q.status as u128);
            }
        }
        h.uint(self.assets.len() as u128);
        for a in &self.assets {
            h.string(&a.symbol)
                .uint(a.decimals.into())
                .uint(a.liabilities)
                .optional(a.reserves);
        }
        h.uint(self.markets.len() as u128);
        for m in &self.markets {
            h.string(&m.symbol)
                .uint(m.size_decimals.into())
                .uint(m.long_open_interest)
                .uint(m.short_open_interest);
        }
        h.int(self.total_equity)
            .int(self.total_maintenance)
            .uint(self.under_margined_accounts.into())
            .int(self.total_shortfall)
            .int(self.total_bad_debt);
        h.uint(self.scenarios.len() as u128);
        for s in &self.scenarios {
            h.string(&s.name).uint(s.shocks_bps.len() as u128);
            for &shock in &s.shocks_bps {
                h.int(shock.into());
            }
            h.int(s.bad_debt);
        }
        h.int(self.insurance_fund);
        h.finish()
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
}
