//! Per-account margin arithmetic in fine units (see [`crate::fine`] for the formulas), written
//! once: [`collateral_value`], [`unrealized_pnl`], [`equity`] and [`maintenance`] are generic
//! over an [`AccountTerms`] source, and run in the engine's exact integers (`I256`, here), in
//! the circuit's witness (field elements) and in its gates (expressions). Only ring operations
//! are used, so the field value is the exact integer reduced mod p; the bounds in
//! [`crate::bounds`] keep every per-account value below `2^199` in magnitude, so the integer
//! never overflows and the circuit's range checks see its canonical lift.

use std::ops::{Add, Mul, Sub};

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
    /// Unrealized PnL at the median prices.
    pub unrealized_pnl: I256,
    /// Maintenance requirement (≥ 0).
    pub maintenance: I256,
    /// Equity in each stress scenario (index `j − 1` for scenario `j`).
    pub stressed_equity: Vec<I256>,
}

impl AccountMargin {
    /// `CV + UPNL`.
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

/// One account's quantities and the epoch's price coefficients, in some number type: what the
/// formulas below read. Case `j = 0` is the base case, `j ≥ 1` stress scenario `j`.
pub trait AccountTerms {
    /// The number type (`I256`, a field element, a gate expression).
    type Value: Clone
        + Add<Output = Self::Value>
        + Sub<Output = Self::Value>
        + Mul<Output = Self::Value>;
    /// Collateral assets.
    fn assets(&self) -> usize;
    /// Markets.
    fn markets(&self) -> usize;
    /// `0`.
    fn zero(&mut self) -> Self::Value;
    /// `bal_a`, base units.
    fn balance(&mut self, asset: usize) -> Self::Value;
    /// `size_m`, signed base units (long > 0).
    fn size(&mut self, market: usize) -> Self::Value;
    /// `|size_m|`.
    fn size_abs(&mut self, market: usize) -> Self::Value;
    /// `cost_m`, signed quote base units.
    fn cost(&mut self, market: usize) -> Self::Value;
    /// `P_a · W[j][a]`.
    fn collateral_coefficient(&mut self, case: usize, asset: usize) -> Self::Value;
    /// `P_u(m) · V[j][m]`.
    fn mark_coefficient(&mut self, case: usize, market: usize) -> Self::Value;
    /// `P_u(m) · R[m]`.
    fn maintenance_coefficient(&mut self, market: usize) -> Self::Value;
    /// `C = 10^(D − Q)`.
    fn quote_coefficient(&mut self) -> Self::Value;
}

/// `Σ_i term(s, i)` for `i < n`, without allocating (this runs per account on the engine's
/// hot path); `zero` only for an empty sum, so a gate expression has no `0 +`.
fn sum<S: AccountTerms>(
    s: &mut S,
    n: usize,
    mut term: impl FnMut(&mut S, usize) -> S::Value,
) -> S::Value {
    let mut total: Option<S::Value> = None;
    for i in 0..n {
        let t = term(s, i);
        total = Some(match total {
            None => t,
            Some(acc) => acc + t,
        });
    }
    total.unwrap_or_else(|| s.zero())
}

/// `CV_j = Σ_a bal_a · P_a · W[j][a]`.
pub fn collateral_value<S: AccountTerms>(s: &mut S, case: usize) -> S::Value {
    let assets = s.assets();
    sum(s, assets, |s, a| {
        s.balance(a) * s.collateral_coefficient(case, a)
    })
}

/// `UPNL_j = Σ_m size_m · P_u · V[j][m] − C · Σ_m cost_m`.
pub fn unrealized_pnl<S: AccountTerms>(s: &mut S, case: usize) -> S::Value {
    let markets = s.markets();
    let marked = sum(s, markets, |s, m| s.size(m) * s.mark_coefficient(case, m));
    let costs = sum(s, markets, |s, m| s.cost(m));
    marked - s.quote_coefficient() * costs
}

/// `E_j = CV_j + UPNL_j`.
pub fn equity<S: AccountTerms>(s: &mut S, case: usize) -> S::Value {
    collateral_value(s, case) + unrealized_pnl(s, case)
}

/// `MM = Σ_m |size_m| · P_u · R[m]`.
pub fn maintenance<S: AccountTerms>(s: &mut S) -> S::Value {
    let markets = s.markets();
    sum(s, markets, |s, m| {
        s.size_abs(m) * s.maintenance_coefficient(m)
    })
}

/// The price coefficients of one epoch: the median prices folded into the fine weights, in
/// any number type (`u128` for the engine, field elements for the witness). Case-major:
/// `collateral[j][a] = P_a · W[j][a]`, `mark[j][m] = P_u(m) · V[j][m]`,
/// `maintenance[m] = P_u(m) · R[m]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coefficients<T> {
    /// `P_a · W[j][a]`.
    pub collateral: Vec<Vec<T>>,
    /// `P_u(m) · V[j][m]`.
    pub mark: Vec<Vec<T>>,
    /// `P_u(m) · R[m]`.
    pub maintenance: Vec<T>,
}

impl<T: Clone + Mul<Output = T>> Coefficients<T> {
    /// Folds `prices` (one per asset) into the weights `collateral[j][a]`, `mark[j][m]` and
    /// `maintenance[m]`; market `m` is marked at the price of asset `underlying[m]`.
    pub fn fold(
        prices: &[T],
        underlying: &[usize],
        collateral: &[Vec<T>],
        mark: &[Vec<T>],
        maintenance: &[T],
    ) -> Self {
        let per_market = |w: &[T]| -> Vec<T> {
            w.iter()
                .zip(underlying)
                .map(|(w, &u)| prices[u].clone() * w.clone())
                .collect()
        };
        Coefficients {
            collateral: collateral
                .iter()
                .map(|w| {
                    w.iter()
                        .zip(prices)
                        .map(|(w, p)| p.clone() * w.clone())
                        .collect()
                })
                .collect(),
            mark: mark.iter().map(|w| per_market(w)).collect(),
            maintenance: per_market(maintenance),
        }
    }
}

/// An account row read against a [`MarkTable`], in exact integers.
struct ExactTerms<'a> {
    table: &'a MarkTable,
    row: &'a AccountRow,
}

impl AccountTerms for ExactTerms<'_> {
    type Value = I256;
    fn assets(&self) -> usize {
        self.row.balances.len()
    }
    fn markets(&self) -> usize {
        self.row.sizes.len()
    }
    fn zero(&mut self) -> I256 {
        I256::ZERO
    }
    fn balance(&mut self, asset: usize) -> I256 {
        I256::from(self.row.balances[asset])
    }
    fn size(&mut self, market: usize) -> I256 {
        I256::from(self.row.sizes[market])
    }
    fn size_abs(&mut self, market: usize) -> I256 {
        I256::from(self.row.sizes[market].unsigned_abs())
    }
    fn cost(&mut self, market: usize) -> I256 {
        I256::from(self.row.costs[market])
    }
    fn collateral_coefficient(&mut self, case: usize, asset: usize) -> I256 {
        I256::from(self.table.collateral[case][asset])
    }
    fn mark_coefficient(&mut self, case: usize, market: usize) -> I256 {
        I256::from(self.table.mark[case][market])
    }
    fn maintenance_coefficient(&mut self, market: usize) -> I256 {
        I256::from(self.table.maintenance[market])
    }
    fn quote_coefficient(&mut self) -> I256 {
        I256::from(self.table.quote)
    }
}

impl MarkTable {
    /// Folds the epoch's median prices (one per asset, price units) into the fine weights.
    pub fn new(scale: &FineScale, underlying: &[usize], prices: &[u64]) -> Self {
        let wide = |w: &[u64]| -> Vec<u128> { w.iter().map(|&x| u128::from(x)).collect() };
        let prices = wide(prices);
        let folded = Coefficients::fold(
            &prices,
            underlying,
            &scale.collateral.iter().map(|w| wide(w)).collect::<Vec<_>>(),
            &scale.mark.iter().map(|w| wide(w)).collect::<Vec<_>>(),
            &wide(&scale.maintenance),
        );
        MarkTable {
            collateral: folded.collateral,
            mark: folded.mark,
            maintenance: folded.maintenance,
            quote: scale.quote,
        }
    }

    /// Evaluates one account in the base case and in every stress scenario.
    pub fn evaluate(&self, row: &AccountRow) -> AccountMargin {
        let terms = &mut ExactTerms { table: self, row };
        AccountMargin {
            collateral_value: collateral_value(terms, 0),
            unrealized_pnl: unrealized_pnl(terms, 0),
            maintenance: maintenance(terms),
            stressed_equity: (1..self.collateral.len())
                .map(|j| equity(terms, j))
                .collect(),
        }
    }
}
