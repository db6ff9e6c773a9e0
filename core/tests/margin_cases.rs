//! Hand-computed margin cases, including the one-fine-unit boundary.

use ethnum::I256;
use zkmargin_core::accounts::AccountRow;
use zkmargin_core::config::Config;
use zkmargin_core::fine::FineScale;
use zkmargin_core::margin::{AccountMargin, MarkTable};

fn evaluate(config_toml: &str, prices: &[u64], row: AccountRow) -> (FineScale, AccountMargin) {
    let config = Config::parse(config_toml).expect("valid config");
    let scale = config.fine_scale().expect("fine scale");
    let underlying: Vec<usize> = config.markets.iter().map(|m| m.underlying).collect();
    let margin = MarkTable::new(&scale, &underlying, prices).evaluate(&row);
    (scale, margin)
}

fn row(balances: &[u64], sizes: &[i64], costs: &[i128]) -> AccountRow {
    AccountRow {
        identifier: "a".into(),
        balances: balances.to_vec(),
        sizes: sizes.to_vec(),
        costs: costs.to_vec(),
    }
}

/// One asset X (0 decimals, price 1), one market with 4 size decimals and a 1 bps rate, quote
/// with 0 decimals: D = 8, and E − MM can take every integer value.
const BOUNDARY: &str = r#"
epoch = 1
timestamp = 100
insurance_fund = "0"
[quote]
symbol = "USD"
decimals = 0
[[assets]]
symbol = "X"
decimals = 0
price_decimals = 0
haircut_bps = 0
quorum = 1
max_deviation_bps = 0
max_age_secs = 10
sources = [{ name = "s" }]
[[markets]]
symbol = "X-PERP"
underlying = "X"
size_decimals = 4
mmr_bps = 1
"#;

#[test]
fn short_by_one_fine_unit_is_under_margined() {
    // size 1.0001 at price 1, cost 1: UPNL = 0.0001 USD = 10^4 fine;
    // MM = 1.0001 · 1 · 0.0001 = 0.00010001 USD = 10001 fine; E − MM = −1.
    let (scale, m) = evaluate(BOUNDARY, &[1], row(&[0], &[10_001], &[1]));
    assert_eq!(scale.exponent, 8);
    assert_eq!(m.equity(), I256::from(10_000));
    assert_eq!(m.maintenance, I256::from(10_001));
    assert!(m.is_under_margined());
    assert_eq!(m.shortfall(), I256::ONE);
    assert_eq!(m.bad_debt(), I256::ZERO);
}

#[test]
fn exactly_at_requirement_is_not_under_margined() {
    // size 10000 at price 1, cost 9999: UPNL = 1 USD = 10^8 fine; MM = 10000 · 0.0001 = 1 USD.
    let (_, m) = evaluate(BOUNDARY, &[1], row(&[0], &[100_000_000], &[9_999]));
    assert_eq!(m.equity(), m.maintenance);
    assert_eq!(m.maintenance, I256::from(100_000_000));
    assert!(!m.is_under_margined());
    assert_eq!(m.shortfall(), I256::ZERO);
}

#[test]
fn one_fine_unit_above_is_healthy_and_below_zero_is_bad_debt() {
    // Short 1.0001 with cost −1: UPNL = −10^4 fine, E − MM = −10^4 − 10001.
    let (_, m) = evaluate(BOUNDARY, &[1], row(&[0], &[-10_001], &[-1]));
    assert_eq!(m.equity(), I256::from(-10_000));
    assert_eq!(m.bad_debt(), I256::from(10_000));
    assert_eq!(m.shortfall(), I256::from(20_001));
    // Adding one whole X of collateral (10^8 fine) makes it healthy.
    let (_, m) = evaluate(BOUNDARY, &[1], row(&[1], &[-10_001], &[-1]));
    assert_eq!(m.equity(), I256::from(100_000_000 - 10_000));
    assert!(!m.is_under_margined());
}

const BTC_USDC: &str = r#"
epoch = 1
timestamp = 100
insurance_fund = "0"
[quote]
symbol = "USD"
decimals = 6
[[assets]]
symbol = "USDC"
decimals = 6
price_decimals = 6
haircut_bps = 0
quorum = 1
max_deviation_bps = 100
max_age_secs = 10
sources = [{ name = "s" }]
[[assets]]
symbol = "BTC"
decimals = 8
price_decimals = 2
haircut_bps = 1000
quorum = 1
max_deviation_bps = 100
max_age_secs = 10
sources = [{ name = "s" }]
[[markets]]
symbol = "BTC-PERP"
underlying = "BTC"
size_decimals = 4
mmr_bps = 50
[[scenarios]]
name = "crash"
shocks_bps = { BTC = -3000 }
[[scenarios]]
name = "squeeze"
shocks_bps = { BTC = 2000, USDC = -100 }
"#;

fn usd(x: i64) -> I256 {
    // D = max(6, 6+6+8, 8+2+8, 4+2+4) = 20.
    I256::from(x) * I256::from(10u8).pow(20)
}

#[test]
fn collateral_haircut_upnl_requirement_and_stress() {
    // 0.5 BTC and 1000 USDC; long 2 BTC-PERP at entry 55000 (cost 110000 USD); BTC = 50000.
    let r = row(&[1_000_000_000, 50_000_000], &[20_000], &[110_000_000_000]);
    let (scale, m) = evaluate(BTC_USDC, &[1_000_000, 5_000_000], r);
    assert_eq!(scale.exponent, 20);
    // CV = 0.5 · 50000 · 0.9 + 1000 = 23500; UPNL = 2 · 50000 − 110000 = −10000.
    assert_eq!(m.collateral_value, usd(23_500));
    assert_eq!(m.unrealized_pnl, usd(-10_000));
    assert_eq!(m.equity(), usd(13_500));
    // MM = 2 · 50000 · 0.5 % = 500.
    assert_eq!(m.maintenance, usd(500));
    assert!(!m.is_under_margined());
    // Crash: BTC 35000: CV = 0.5·35000·0.9 + 1000 = 16750; UPNL = 70000 − 110000 = −40000.
    assert_eq!(m.stressed_equity[0], usd(-23_250));
    assert_eq!(m.stressed_bad_debt(1), usd(23_250));
    // Squeeze: BTC 60000, USDC 0.99: CV = 27000 + 990; UPNL = 120000 − 110000.
    assert_eq!(m.stressed_equity[1], usd(37_990));
    assert_eq!(m.stressed_bad_debt(2), I256::ZERO);
}

#[test]
fn short_position_gains_when_price_falls() {
    // Short 1 BTC-PERP opened at 60000 (cost −60000), BTC = 50000: UPNL = −50000 + 60000.
    let r = row(&[0, 0], &[-10_000], &[-60_000_000_000]);
    let (_, m) = evaluate(BTC_USDC, &[1_000_000, 5_000_000], r);
    assert_eq!(m.unrealized_pnl, usd(10_000));
    assert_eq!(m.maintenance, usd(250));
    // Squeeze to 60000: UPNL = −60000 + 60000 = 0, no collateral: equity 0, no bad debt.
    assert_eq!(m.stressed_equity[1], I256::ZERO);
    // Crash to 35000: the short gains.
    assert_eq!(m.stressed_equity[0], usd(25_000));
}
