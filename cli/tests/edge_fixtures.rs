//! The committed snapshots under `fixtures/` evaluate to their documented outcomes.

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(name)
}

fn check(name: &str) -> (i32, Value) {
    let out = Command::cargo_bin("zkmargin")
        .unwrap()
        .arg("check")
        .arg(fixture(name))
        .arg("--json")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        serde_json::from_slice(&out.stdout).expect("JSON on stdout"),
    )
}

fn failed_checks(v: &Value) -> Vec<String> {
    v["policy"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn demo_passes_policy() {
    let (code, v) = check("demo");
    assert_eq!(code, 0);
    assert_eq!(v["accounts"], 1000);
    let s = &v["statement"];
    assert_eq!(
        (
            s["assets"].as_array().unwrap().len(),
            s["markets"].as_array().unwrap().len()
        ),
        (4, 4)
    );
    assert_eq!(s["scenarios"].as_array().unwrap().len(), 2);
    assert!(s["under_margined_accounts"].as_u64().unwrap() > 0);
    assert!(failed_checks(&v).is_empty(), "{:?}", failed_checks(&v));
    for m in s["markets"].as_array().unwrap() {
        assert_eq!(
            m["long_open_interest"], m["short_open_interest"],
            "zero-sum book"
        );
    }
}

#[test]
fn boundary_counts_the_one_unit_shortfall() {
    let (code, v) = check("edge/boundary");
    assert_eq!(code, 0);
    let s = &v["statement"];
    assert_eq!(s["fine_exponent"], 8);
    assert_eq!(s["under_margined_accounts"], 1);
    assert_eq!(s["total_shortfall"], "1");
    assert_eq!(s["total_equity"], "100010000");
    let text = Command::cargo_bin("zkmargin")
        .unwrap()
        .arg("check")
        .arg(fixture("edge/boundary"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("shortfall                0.00000001 USD")
    );
}

#[test]
fn liabilities_only_reports_exact_reserve_gap() {
    let (code, v) = check("edge/liabilities-only");
    assert_eq!(code, 0);
    assert_eq!(v["statement"]["assets"][1]["liabilities"], "100500000001");
    assert_eq!(failed_checks(&v), ["reserves cover liabilities in ETH"]);
}

#[test]
fn stale_feeds_halt() {
    let (code, v) = check("edge/halt-stale");
    assert_eq!(code, 3);
    let btc = &v["halt"]["halted"][0];
    assert_eq!(btc["symbol"], "BTC");
    let statuses: Vec<&str> = btc["quotes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["counted", "stale", "stale"]);
}

#[test]
fn outlier_is_reported_not_fatal() {
    let (code, v) = check("edge/outlier");
    assert_eq!(code, 0);
    let btc = &v["statement"]["oracle"][0];
    assert_eq!(btc["quotes"][1]["status"], "outlier");
    assert_eq!(btc["median"], 6_400_000);
}

#[test]
fn insolvent_account_fails_insurance_policy() {
    let (code, v) = check("edge/insolvent");
    assert_eq!(code, 0);
    let s = &v["statement"];
    let usd = |x: &str| {
        format!(
            "{x}{}",
            "0".repeat(s["fine_exponent"].as_u64().unwrap() as usize)
        )
    };
    assert_eq!(s["total_bad_debt"], usd("500"));
    assert_eq!(s["total_shortfall"], usd("700"));
    assert_eq!(s["scenarios"][0]["bad_debt"], usd("4500"));
    assert_eq!(failed_checks(&v).len(), 2);
}
