//! The public statement of one epoch (docs/statement.md), as computed by the reference engine and, later,
//! carried by the proof. Money is in fine units (`10^-fine_exponent` quote); liabilities and
//! reserves in each asset's base units; open interest in each market's size base units. Large
//! integers serialize as decimal strings, digests as hex.
//!
//! The number of accounts is deliberately absent: it is private to the operator.

use ethnum::I256;
use serde::{Deserialize, Serialize};
use serde_with::{hex::Hex, serde_as, DisplayFromStr};

use crate::amount::format_units;
use crate::config::Config;
use crate::digest::Digest;
use crate::fine::FineScale;
use crate::oracle::AssetOracle;
use crate::totals::Totals;

/// Version of the statement's format (in the statement and its digest).
pub const STATEMENT_VERSION: u32 = 1;

/// Per-asset public totals.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetTotals {
    /// The asset's symbol.
    pub symbol: String,
    /// Its balance decimals.
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
    /// The market's symbol.
    pub symbol: String,
    /// Its size decimals.
    pub size_decimals: u32,
    #[serde_as(as = "DisplayFromStr")]
    /// Σ size over long positions, size base units.
    pub long_open_interest: u128,
    #[serde_as(as = "DisplayFromStr")]
    /// Σ |size| over short positions, size base units.
    pub short_open_interest: u128,
}

/// Bad debt under one stress scenario.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioTotals {
    /// The scenario's name.
    pub name: String,
    /// Shock per asset in bps, index-aligned with `assets`.
    pub shocks_bps: Vec<i32>,
    #[serde_as(as = "DisplayFromStr")]
    /// Σ max(0, −E_j) over all accounts, fine units.
    pub bad_debt: I256,
}

/// What one epoch's proof asserts.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// [`STATEMENT_VERSION`].
    pub version: u32,
    /// The epoch number.
    pub epoch: u64,
    /// The snapshot's timestamp (unix seconds).
    pub timestamp: u64,
    /// Digest of the previous epoch's statement (all zero for the first epoch).
    #[serde_as(as = "Hex")]
    pub prev_digest: Digest,
    #[serde_as(as = "Hex")]
    /// Digest of the config's market structure ([`crate::config::Config::digest`]).
    pub config_digest: Digest,
    /// The quote currency's symbol.
    pub quote_symbol: String,
    /// The quote currency's decimals.
    pub quote_decimals: u32,
    /// One fine unit is `10^-fine_exponent` quote.
    pub fine_exponent: u32,
    /// Every quote with its status, and the medians.
    pub oracle: Vec<AssetOracle>,
    /// Per asset: liabilities and declared reserves.
    pub assets: Vec<AssetTotals>,
    /// Per market: open interest.
    pub markets: Vec<MarketTotals>,
    #[serde_as(as = "DisplayFromStr")]
    /// Σ equity over all accounts, fine units.
    pub total_equity: I256,
    #[serde_as(as = "DisplayFromStr")]
    /// Σ maintenance requirement, fine units.
    pub total_maintenance: I256,
    /// Accounts with equity below their requirement.
    pub under_margined_accounts: u64,
    #[serde_as(as = "DisplayFromStr")]
    /// Σ max(0, MM − E) over all accounts, fine units.
    pub total_shortfall: I256,
    #[serde_as(as = "DisplayFromStr")]
    /// Σ max(0, −E) over all accounts, fine units.
    pub total_bad_debt: I256,
    /// Per stress scenario: its shocks and bad debt.
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

    /// The fields of this (published, untrusted) statement that are not what `config` gives,
    /// as JSON paths (`oracle[0].quotes[1].status`, `assets[2].symbol`, `version`); empty when
    /// the statement is consistent with the config.
    ///
    /// The one definition of "agrees with the config": the statement is rebuilt by
    /// [`Statement::assemble`] from the config, the oracle's rules re-run on its own quotes
    /// ([`crate::oracle::rederive`]) and its proved totals, and must equal it field for field.
    /// So every readable field the digest does not hash (symbols, decimals, source names,
    /// counts, the version) is vouched for by the config the digest does hash.
    pub fn config_differences(&self, config: &Config) -> Vec<String> {
        let Ok(scale) = config.fine_scale() else {
            return vec!["(the config admits no fine scale)".into()];
        };
        // A verdict not shaped like the config's is compared with the config's shape (all
        // sources missing), so it differs rather than matching an equally empty list.
        let oracle = crate::oracle::rederive(config, &self.oracle)
            .unwrap_or_else(|| crate::oracle::evaluate(config, &[]));
        let (assets, markets) = (config.assets.len(), config.markets.len());
        let totals = Totals {
            accounts: 0,
            liabilities: (0..assets)
                .map(|a| self.assets.get(a).map_or(0, |t| t.liabilities))
                .collect(),
            long_open_interest: (0..markets)
                .map(|m| self.markets.get(m).map_or(0, |t| t.long_open_interest))
                .collect(),
            short_open_interest: (0..markets)
                .map(|m| self.markets.get(m).map_or(0, |t| t.short_open_interest))
                .collect(),
            equity: self.total_equity,
            maintenance: self.total_maintenance,
            under_margined: self.under_margined_accounts,
            shortfall: self.total_shortfall,
            bad_debt: self.total_bad_debt,
            stressed_bad_debt: (0..config.scenarios.len())
                .map(|j| self.scenarios.get(j).map_or(I256::ZERO, |t| t.bad_debt))
                .collect(),
        };
        let expected = Statement::assemble(config, &scale, oracle, &totals, self.prev_digest);
        let mut out = Vec::new();
        json_differences(
            "",
            &serde_json::to_value(self).expect("statements serialize"),
            &serde_json::to_value(&expected).expect("statements serialize"),
            &mut out,
        );
        out
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

/// The paths at which `a` and `b` differ (a list of another length differs as a whole).
fn json_differences(
    path: &str,
    a: &serde_json::Value,
    b: &serde_json::Value,
    out: &mut Vec<String>,
) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (key, va) in x {
                let sub = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match y.get(key) {
                    Some(vb) => json_differences(&sub, va, vb, out),
                    None => out.push(sub),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                json_differences(&format!("{path}[{i}]"), va, vb, out);
            }
        }
        _ if a == b => {}
        _ => out.push(if path.is_empty() {
            "(statement)".into()
        } else {
            path.into()
        }),
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{evaluate, Outcome, Snapshot};

    fn demo() -> (crate::config::Config, super::Statement) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/demo");
        let snapshot = Snapshot::load(&dir).unwrap();
        let Outcome::Evaluated(e) = evaluate(&snapshot, [7; 32]).unwrap() else {
            panic!("the demo halts")
        };
        (snapshot.config, e.statement)
    }

    #[test]
    fn the_engines_statement_agrees_with_its_config() {
        let (config, statement) = demo();
        assert!(statement.config_differences(&config).is_empty());
    }

    /// An edit of a statement and the JSON path it changes.
    type Edit = (&'static str, fn(&mut super::Statement));

    #[test]
    fn each_readable_field_is_named_when_it_differs() {
        let (config, honest) = demo();
        let cases: [Edit; 10] = [
            ("version", |s| s.version = 2),
            ("epoch", |s| s.epoch += 1),
            ("quote_symbol", |s| s.quote_symbol.push('x')),
            ("quote_decimals", |s| s.quote_decimals += 1),
            ("fine_exponent", |s| s.fine_exponent += 1),
            ("oracle[1].symbol", |s| s.oracle[1].symbol.push('x')),
            ("oracle[1].counted", |s| s.oracle[1].counted -= 1),
            ("oracle[0].quotes[2].source", |s| {
                s.oracle[0].quotes[2].source.push('x')
            }),
            ("assets[2].decimals", |s| s.assets[2].decimals += 1),
            ("insurance_fund", |s| s.insurance_fund += 1),
        ];
        for (path, edit) in cases {
            let mut s = honest.clone();
            edit(&mut s);
            assert_eq!(s.config_differences(&config), [path]);
        }
        // A list of another length differs as a whole, and nothing panics.
        let mut s = honest.clone();
        s.assets.pop();
        s.oracle.clear();
        s.scenarios.push(s.scenarios[0].clone());
        let d = s.config_differences(&config);
        assert!(
            d.contains(&"assets".to_string()) && d.contains(&"oracle".to_string()),
            "{d:?}"
        );
    }
}
