//! Table-wide sums of the statement (docs/statement.md), accumulated per account and merged across threads.
//! Integer sums are exact; by [`crate::bounds`] none can overflow: liabilities and open
//! interest are `< 2^64 · 2^32 = 2^96`, fine totals `< 2^234`.

use ethnum::I256;

use crate::holdings::Holdings;
use crate::margin::AccountMargin;

/// Sums over a set of accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    /// Accounts summed.
    pub accounts: u64,
    /// Per asset: Σ balance, base units.
    pub liabilities: Vec<u128>,
    /// Per market: Σ size over long positions, size base units.
    pub long_open_interest: Vec<u128>,
    /// Per market: Σ |size| over short positions.
    pub short_open_interest: Vec<u128>,
    /// Σ equity, fine units.
    pub equity: I256,
    /// Σ maintenance requirement, fine units.
    pub maintenance: I256,
    /// Accounts with equity below their requirement.
    pub under_margined: u64,
    /// Σ shortfall, fine units.
    pub shortfall: I256,
    /// Σ bad debt, fine units.
    pub bad_debt: I256,
    /// Per stress scenario: Σ bad debt.
    pub stressed_bad_debt: Vec<I256>,
}

impl Totals {
    /// Zero totals for `assets`, `markets` and `stress_scenarios`.
    pub fn new(assets: usize, markets: usize, stress_scenarios: usize) -> Self {
        Self {
            accounts: 0,
            liabilities: vec![0; assets],
            long_open_interest: vec![0; markets],
            short_open_interest: vec![0; markets],
            equity: I256::ZERO,
            maintenance: I256::ZERO,
            under_margined: 0,
            shortfall: I256::ZERO,
            bad_debt: I256::ZERO,
            stressed_bad_debt: vec![I256::ZERO; stress_scenarios],
        }
    }

    /// Adds one account.
    pub fn add(&mut self, holdings: &Holdings, margin: &AccountMargin) {
        self.accounts += 1;
        for b in &holdings.balances {
            self.liabilities[b.asset] += u128::from(b.amount);
        }
        for p in &holdings.positions {
            if p.size > 0 {
                self.long_open_interest[p.market] += u128::from(p.size.unsigned_abs());
            } else {
                self.short_open_interest[p.market] += u128::from(p.size.unsigned_abs());
            }
        }
        self.equity += margin.equity();
        self.maintenance += margin.maintenance;
        self.under_margined += u64::from(margin.is_under_margined());
        self.shortfall += margin.shortfall();
        self.bad_debt += margin.bad_debt();
        for (j, t) in self.stressed_bad_debt.iter_mut().enumerate() {
            *t += margin.stressed_bad_debt(j + 1);
        }
    }

    /// Adds another partial sum (from another batch or thread).
    pub fn merge(mut self, other: Totals) -> Totals {
        self.accounts += other.accounts;
        let add = |a: &mut Vec<u128>, b: Vec<u128>| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        add(&mut self.liabilities, other.liabilities);
        add(&mut self.long_open_interest, other.long_open_interest);
        add(&mut self.short_open_interest, other.short_open_interest);
        self.equity += other.equity;
        self.maintenance += other.maintenance;
        self.under_margined += other.under_margined;
        self.shortfall += other.shortfall;
        self.bad_debt += other.bad_debt;
        self.stressed_bad_debt
            .iter_mut()
            .zip(other.stressed_bad_debt)
            .for_each(|(x, y)| *x += y);
        self
    }
}
