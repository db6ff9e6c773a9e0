//! Per-account margin arithmetic in fine units (see [`crate::fine`] for the formulas), written
//! once: [`collateral_value`], [`unrealized_pnl`], [`equity`] and [`maintenance`] are generic
//! over an [`AccountTerms`] source, and run in the engine's exact integers (`I256`, here), in
//! the circuit's witness (field elements) and in its gates (expressions). Only ring operations
//! are used, so the field value is the exact integer reduced mod p; the bounds in
//! [`crate::bounds`] keep every per-account value below `2^199` in magnitude, so the integer
//! never overflows and the circuit's range checks see its canonical lift.

use std::ops::{Add, Mul, Sub};

use ethnum::{I256, U256};

use crate::accounts::AccountRow;
use crate::fine::{FineScale, FineTier};
use crate::holdings::Holdings;

/// Price-times-weight multipliers for one epoch: the prices folded into the fine weights, so an
/// account term is one multiplication `quantity · multiplier`. Each multiplier is `< 2^128`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkTable {
    /// `collateral[j][a] = P_a · W[j][a]`.
    pub collateral: Vec<Vec<u128>>,
    /// `mark[j][m] = P_u(m) · V[j][m]`.
    pub mark: Vec<Vec<u128>>,
    /// `maintenance[m][t] = P_u(m) · R_t[m]`.
    pub maintenance: Vec<Vec<u128>>,
    /// The fine tiers `maintenance[m][t]` of the scale (bounds and amounts).
    pub tiers: Vec<Vec<FineTier>>,
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

/// One account's entries and the epoch's price coefficients, in some number type: what the
/// formulas below read. An account has *balance entries* `i < balances()` (an asset `a(i)`
/// and its balance) and *position entries* `i < positions()` (a market `m(i)`, its size and
/// cost, and its risk-limit tier `t(i)`); a wide row's entries are all its assets and
/// markets, in config order. Case `j = 0` is the base case, `j ≥ 1` stress scenario `j`.
pub trait AccountTerms {
    /// The number type (`I256`, a field element, a gate expression).
    type Value: Clone
        + Add<Output = Self::Value>
        + Sub<Output = Self::Value>
        + Mul<Output = Self::Value>;
    /// Balance entries.
    fn balances(&self) -> usize;
    /// Position entries.
    fn positions(&self) -> usize;
    /// `0`.
    fn zero(&mut self) -> Self::Value;
    /// `bal_i`, base units of asset `a(i)`.
    fn balance(&mut self, entry: usize) -> Self::Value;
    /// `size_i`, signed base units (long > 0).
    fn size(&mut self, entry: usize) -> Self::Value;
    /// `|size_i|`.
    fn size_abs(&mut self, entry: usize) -> Self::Value;
    /// `cost_i`, signed quote base units.
    fn cost(&mut self, entry: usize) -> Self::Value;
    /// `P_a · W[j][a]` for `a = a(i)`.
    fn collateral_coefficient(&mut self, case: usize, entry: usize) -> Self::Value;
    /// `P_u(m) · V[j][m]` for `m = m(i)`.
    fn mark_coefficient(&mut self, case: usize, entry: usize) -> Self::Value;
    /// `P_u(m) · R_t[m]` for `m = m(i)` at the entry's tier `t = t(i)`.
    fn maintenance_coefficient(&mut self, entry: usize) -> Self::Value;
    /// `A_t[m]` for `m = m(i)`, `t = t(i)`; `None` where it is 0 by construction (a flat
    /// market's only tier), so a gate expression carries no `− 0` term.
    fn maintenance_amount(&mut self, entry: usize) -> Option<Self::Value>;
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

/// `CV_j = Σ_i bal_i · P_a(i) · W[j][a(i)]` over balance entries.
pub fn collateral_value<S: AccountTerms>(s: &mut S, case: usize) -> S::Value {
    let entries = s.balances();
    sum(s, entries, |s, i| {
        s.balance(i) * s.collateral_coefficient(case, i)
    })
}

/// `UPNL_j = Σ_i size_i · P_u · V[j][m(i)] − C · Σ_i cost_i` over position entries.
pub fn unrealized_pnl<S: AccountTerms>(s: &mut S, case: usize) -> S::Value {
    let entries = s.positions();
    let marked = sum(s, entries, |s, i| s.size(i) * s.mark_coefficient(case, i));
    let costs = sum(s, entries, |s, i| s.cost(i));
    marked - s.quote_coefficient() * costs
}

/// `E_j = CV_j + UPNL_j`.
pub fn equity<S: AccountTerms>(s: &mut S, case: usize) -> S::Value {
    collateral_value(s, case) + unrealized_pnl(s, case)
}

/// `MM = Σ_i (|size_i| · P_u · R_t(i)[m(i)] − A_t(i)[m(i)])` over position entries.
pub fn maintenance<S: AccountTerms>(s: &mut S) -> S::Value {
    let entries = s.positions();
    let charged = sum(s, entries, |s, i| {
        s.size_abs(i) * s.maintenance_coefficient(i)
    });
    (0..entries).fold(charged, |mm, i| match s.maintenance_amount(i) {
        Some(a) => mm - a,
        None => mm,
    })
}

/// The price coefficients of one epoch: the median prices folded into the fine weights, in
/// any number type (`u128` for the engine, field elements for the witness). Case-major:
/// `collateral[j][a] = P_a · W[j][a]`, `mark[j][m] = P_u(m) · V[j][m]`,
/// `maintenance[m][t] = P_u(m) · R_t[m]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coefficients<T> {
    /// `P_a · W[j][a]`.
    pub collateral: Vec<Vec<T>>,
    /// `P_u(m) · V[j][m]`.
    pub mark: Vec<Vec<T>>,
    /// `P_u(m) · R_t[m]`, per market and tier.
    pub maintenance: Vec<Vec<T>>,
}

impl<T: Clone + Mul<Output = T>> Coefficients<T> {
    /// Folds `prices` (one per asset) into the weights `collateral[j][a]`, `mark[j][m]` and
    /// `maintenance[m][t]`; market `m` is marked at the price of asset `underlying[m]`.
    pub fn fold(
        prices: &[T],
        underlying: &[usize],
        collateral: &[Vec<T>],
        mark: &[Vec<T>],
        maintenance: &[Vec<T>],
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
            maintenance: maintenance
                .iter()
                .zip(underlying)
                .map(|(tiers, &u)| {
                    tiers
                        .iter()
                        .map(|r| prices[u].clone() * r.clone())
                        .collect()
                })
                .collect(),
        }
    }
}

/// An account's holdings read against a [`MarkTable`], in exact integers; `tiers[i]` is the
/// tier of position entry `i`.
struct ExactTerms<'a> {
    table: &'a MarkTable,
    holdings: &'a Holdings,
    tiers: &'a [usize],
}

impl AccountTerms for ExactTerms<'_> {
    type Value = I256;
    fn balances(&self) -> usize {
        self.holdings.balances.len()
    }
    fn positions(&self) -> usize {
        self.holdings.positions.len()
    }
    fn zero(&mut self) -> I256 {
        I256::ZERO
    }
    fn balance(&mut self, entry: usize) -> I256 {
        I256::from(self.holdings.balances[entry].amount)
    }
    fn size(&mut self, entry: usize) -> I256 {
        I256::from(self.holdings.positions[entry].size)
    }
    fn size_abs(&mut self, entry: usize) -> I256 {
        I256::from(self.holdings.positions[entry].size.unsigned_abs())
    }
    fn cost(&mut self, entry: usize) -> I256 {
        I256::from(self.holdings.positions[entry].cost)
    }
    fn collateral_coefficient(&mut self, case: usize, entry: usize) -> I256 {
        I256::from(self.table.collateral[case][self.holdings.balances[entry].asset])
    }
    fn mark_coefficient(&mut self, case: usize, entry: usize) -> I256 {
        I256::from(self.table.mark[case][self.holdings.positions[entry].market])
    }
    fn maintenance_coefficient(&mut self, entry: usize) -> I256 {
        let m = self.holdings.positions[entry].market;
        I256::from(self.table.maintenance[m][self.tiers[entry]])
    }
    fn maintenance_amount(&mut self, entry: usize) -> Option<I256> {
        let m = self.holdings.positions[entry].market;
        let tiers = &self.table.tiers[m];
        (tiers.len() > 1).then(|| tiers[self.tiers[entry]].amount.as_i256())
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
        let rates: Vec<Vec<u128>> = scale
            .maintenance
            .iter()
            .map(|tiers| tiers.iter().map(|t| u128::from(t.rate)).collect())
            .collect();
        let folded = Coefficients::fold(
            &prices,
            underlying,
            &scale.collateral.iter().map(|w| wide(w)).collect::<Vec<_>>(),
            &scale.mark.iter().map(|w| wide(w)).collect::<Vec<_>>(),
            &rates,
        );
        MarkTable {
            collateral: folded.collateral,
            mark: folded.mark,
            maintenance: folded.maintenance,
            tiers: scale.maintenance.clone(),
            quote: scale.quote,
        }
    }

    /// The fine notional `N = |size| · P_u · V[0][m]` of a position (`< 2^191`).
    pub fn notional(&self, market: usize, size: i64) -> U256 {
        U256::from(size.unsigned_abs()) * U256::from(self.mark[0][market])
    }

    /// The tier of a position: the first whose bound is `≥` its fine notional.
    pub fn tier(&self, market: usize, size: i64) -> usize {
        let tiers = &self.tiers[market];
        if tiers.len() == 1 {
            return 0;
        }
        let n = self.notional(market, size);
        tiers
            .iter()
            .position(|t| t.bound.is_none_or(|b| n <= b))
            .unwrap_or(tiers.len() - 1)
    }

    /// Evaluates one account's holdings in the base case and in every stress scenario.
    pub fn evaluate_holdings(&self, holdings: &Holdings) -> AccountMargin {
        const INLINE: usize = 16;
        let mut inline = [0usize; INLINE];
        let mut heap = Vec::new();
        let tiers: &mut [usize] = if holdings.positions.len() <= INLINE {
            &mut inline[..holdings.positions.len()]
        } else {
            heap.resize(holdings.positions.len(), 0);
            &mut heap
        };
        for (t, p) in tiers.iter_mut().zip(&holdings.positions) {
            *t = self.tier(p.market, p.size);
        }
        let terms = &mut ExactTerms {
            table: self,
            holdings,
            tiers,
        };
        AccountMargin {
            collateral_value: collateral_value(terms, 0),
            unrealized_pnl: unrealized_pnl(terms, 0),
            maintenance: maintenance(terms),
            stressed_equity: (1..self.collateral.len())
                .map(|j| equity(terms, j))
                .collect(),
        }
    }

    /// Evaluates one wide row (its entries are its non-zero balances and positions).
    pub fn evaluate(&self, row: &AccountRow) -> AccountMargin {
        self.evaluate_holdings(&Holdings::of_row(row))
    }
}
