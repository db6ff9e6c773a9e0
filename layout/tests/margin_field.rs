//! The one margin formula (`zkmargin_core::margin`) run in the engine's exact integers and in
//! the circuit's field agree on random accounts at the input bounds: the field value is the
//! integer reduced mod p, and the integer stays inside `ACCOUNT_VALUE_LIMIT_BITS`, so the
//! circuit's range checks (which read canonical lifts) see the engine's number.

use ethnum::I256;
use proptest::prelude::*;
use zkmargin_core::bounds::{
    ACCOUNT_VALUE_LIMIT_BITS, BALANCE_LIMIT, COST_LIMIT, MAX_ASSETS, MAX_MARKETS, SIZE_LIMIT,
};
use zkmargin_core::margin::{self, AccountTerms};
use zkmargin_layout::field::{fr_from_i128, fr_from_i256};
use zkmargin_layout::Fr;

/// One account and one case's coefficients, as exact integers.
#[derive(Debug, Clone)]
struct Account {
    balances: Vec<u128>,
    sizes: Vec<i128>,
    costs: Vec<i128>,
    collateral: Vec<u128>,
    mark: Vec<u128>,
    maintenance: Vec<u128>,
    quote: u128,
}

struct Exact<'a>(&'a Account);
struct Field<'a>(&'a Account);

macro_rules! terms {
    ($t:ident, $v:ty, $u:expr, $i:expr, $zero:expr) => {
        impl AccountTerms for $t<'_> {
            type Value = $v;
            fn balances(&self) -> usize {
                self.0.balances.len()
            }
            fn positions(&self) -> usize {
                self.0.sizes.len()
            }
            fn zero(&mut self) -> $v {
                $zero
            }
            fn balance(&mut self, a: usize) -> $v {
                $u(self.0.balances[a])
            }
            fn size(&mut self, m: usize) -> $v {
                $i(self.0.sizes[m])
            }
            fn size_abs(&mut self, m: usize) -> $v {
                $u(self.0.sizes[m].unsigned_abs())
            }
            fn cost(&mut self, m: usize) -> $v {
                $i(self.0.costs[m])
            }
            fn collateral_coefficient(&mut self, _: usize, a: usize) -> $v {
                $u(self.0.collateral[a])
            }
            fn mark_coefficient(&mut self, _: usize, m: usize) -> $v {
                $u(self.0.mark[m])
            }
            fn maintenance_coefficient(&mut self, m: usize) -> $v {
                $u(self.0.maintenance[m])
            }
            fn maintenance_amount(&mut self, _: usize) -> Option<$v> {
                None
            }
            fn quote_coefficient(&mut self) -> $v {
                $u(self.0.quote)
            }
        }
    };
}

terms!(Exact, I256, I256::from, I256::from, I256::ZERO);
terms!(
    Field,
    Fr,
    |x: u128| fr_from_i256(I256::from(x)),
    fr_from_i128,
    Fr::zero()
);

/// Values near a bound are drawn as often as arbitrary ones.
fn up_to(limit: u128) -> impl Strategy<Value = u128> {
    prop_oneof![Just(limit - 1), Just(0u128), 0..limit]
}

/// `|x| < limit` (`limit ≤ 2^127`).
fn signed(limit: u128) -> impl Strategy<Value = i128> {
    let max = (limit - 1) as i128;
    prop_oneof![Just(max), Just(-max), Just(0i128), -max..=max]
}

fn account() -> impl Strategy<Value = Account> {
    // Coefficients: a price below 2^64 times a weight below 2^64.
    let coefficient = prop_oneof![Just((1u128 << 64) - 1), 0..1u128 << 64]
        .prop_flat_map(|p| (Just(p), up_to(1 << 64)))
        .prop_map(|(p, w)| p * w);
    (1..=MAX_ASSETS.min(8), 0..=MAX_MARKETS.min(8)).prop_flat_map(move |(assets, markets)| {
        (
            prop::collection::vec(up_to(BALANCE_LIMIT), assets),
            prop::collection::vec(signed(SIZE_LIMIT), markets),
            prop::collection::vec(signed(COST_LIMIT), markets),
            prop::collection::vec(coefficient.clone(), assets),
            prop::collection::vec(coefficient.clone(), markets),
            prop::collection::vec(coefficient.clone(), markets),
            up_to(1 << 64),
        )
            .prop_map(
                |(balances, sizes, costs, collateral, mark, maintenance, quote)| Account {
                    balances,
                    sizes,
                    costs,
                    collateral,
                    mark,
                    maintenance,
                    quote,
                },
            )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn the_field_formula_is_the_exact_formula_mod_p(a in account()) {
        let limit = I256::ONE << ACCOUNT_VALUE_LIMIT_BITS;
        let (exact, field) = (&mut Exact(&a), &mut Field(&a));
        let pairs = [
            (margin::collateral_value(exact, 0), margin::collateral_value(field, 0)),
            (margin::unrealized_pnl(exact, 0), margin::unrealized_pnl(field, 0)),
            (margin::equity(exact, 0), margin::equity(field, 0)),
            (margin::maintenance(exact), margin::maintenance(field)),
        ];
        for (x, f) in pairs {
            prop_assert!(x.abs() < limit, "{x} is outside the per-account bound");
            prop_assert_eq!(fr_from_i256(x), f);
        }
    }
}
