//! Per-account margin arithmetic in fine units (see [`crate::fine`] for the formulas).
//!
//! All values are exact `I256`; by the bounds in [`crate::bounds`] every per-account value has
//! magnitude `< 2^199`, so no operation here can overflow.

use ethnum::I256;

use crate::accounts::AccountRow;
use crate::fine::FineScale;

/// Price-times-weight multipliers for one epoch: the prices folded into the fine weights, so an
/// account term is one multiplication `quantity · multiplier`. Each multiplier is `< 2^128`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkTable {
    /// `collateral[j][a] = P_a · W[j][a]`.
    pub collateral: Vec<Vec<u128>>,
    /// `mark[j][m] = P_u(m) · V[j][m]`.
    pub mark: Vec<Vec<u128>>,
    /// `maintenance[m] = P_u(m) · R[m]`.
    pub maintenance: Vec<u128>,
    /// `C = 10^(D − Q)`.
    pub quote: u64,
}

/// One account's margin numbers in fine units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountMargin {
    /// Haircut collateral value at the median prices.
    pub collateral_value: I256,
    pub unrealized_pnl: I256,
    /// Maintenance requirement (≥ 0).
    pub maintenance: I256,
    /// Equity in each stress scenario (index `j − 1` for scenario `j`).
    pub stressed_equity: Vec<I256>,
}

impl AccountMargin {
    pub fn equity(&self) -> I256 {
        self.collateral_value + self.unrealized_pnl
    }

    /// `equity < maintenance`.
    pub fn is_under_margined(&self) -> bool {
        self.equity() < self.maintenance
    }

    /// `max(0, maintenance − equity)`.
    pub fn shortfall(&self) -> I256 {
        (self.maintenance - self.equity()).max(I256::ZERO)
    }

    /// `max(0, −equity)`.
    pub fn bad_debt(&self) -> I256 {
        (-self.equity()).max(I256::ZERO)
    }

    /// `max(0, −equity_j)` in stress scenario `j ≥ 1`.
    pub fn stressed_bad_debt(&self, scenario: usize) -> I256 {
        (-self.stressed_equity[scenario - 1]).max(I256::ZERO)
    }
}

impl MarkTable {
    /// Folds the epoch's median prices (one per asset, price units) into the fine weights.
    pub fn new(scale: &FineScale, underlying: &[usize], prices: &[u64]) -> Self {
        let collateral = scale
            .collateral
            .iter()
            .map(|w| {
                w.iter()
                    .zip(prices)
                    .map(|(&w, &p)| u128::from(w) * u128::from(p))
                    .collect()
            })
            .collect();
        let per_market = |w: &[u64]| -> Vec<u128> {
            w.iter()
                .zip(underlying)
                .map(|(&w, &u)| u128::from(w) * u128::from(prices[u]))
                .collect()
        };
        MarkTable {
            collateral,
            mark: scale.mark.iter().map(|w| per_market(w)).collect(),
            maintenance: per_market(&scale.maintenance),
            quote: scale.quote,
        }
    }

    /// Equity in scenario `j` (0 = base) without the split into CV and UPNL.
    fn equity_in(&self, j: usize, row: &AccountRow) -> (I256, I256) {
        let cv = row
            .balances
            .iter()
            .zip(&self.collateral[j])
            .fold(I256::ZERO, |acc, (&b, &w)| {
                acc + I256::from(b) * I256::from(w)
            });
        let cost = row
            .costs
            .iter()
            .fold(I256::ZERO, |acc, &c| acc + I256::from(c));
        let upnl = row
            .sizes
            .iter()
            .zip(&self.mark[j])
            .fold(I256::ZERO, |acc, (&s, &w)| {
                acc + I256::from(s) * I256::from(w)
            })
            - cost * I256::from(self.quote);
        (cv, upnl)
    }

    /// Evaluates one account in the base case and in every stress scenario.
    pub fn evaluate(&self, row: &AccountRow) -> AccountMargin {
        let (collateral_value, unrealized_pnl) = self.equity_in(0, row);
        let maintenance = row
            .sizes
            .iter()
            .zip(&self.maintenance)
            .fold(I256::ZERO, |acc, (&s, &w)| {
                acc + I256::from(s.unsigned_abs()) * I256::from(w)
            });
        let stressed_equity = (1..self.collateral.len())
            .map(|j| {
                let (cv, upnl) = self.equity_in(j, row);
                cv + upnl
            })
            .collect();
        AccountMargin {
            collateral_value,
            unrealized_pnl,
            maintenance,
            stressed_equity,
        }
    }
}
