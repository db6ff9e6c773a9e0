//! The long accounts format (`holdings.csv`), risk-limit tiers and price-only index assets,
//! end to end through `zkmargin check`: the same accounts in either format state the same,
//! tier boundaries are exact, every malformed input exits 2 naming file, line and field, and
//! the dense prover refuses what it does not prove.

use std::fs;
use std::path::Path;

use assert_cmd::Command;

const CONFIG: &str = r#"epoch = 3
timestamp = 1000
insurance_fund = "5000"

[quote]
symbol = "USD"
decimals = 2

[[assets]]
symbol = "USDC"
decimals = 2
price_decimals = 4
haircut_bps = 0
quorum = 2
max_deviation_bps = 100
max_age_secs = 60
sources = [{ name = "a" }, { name = "b" }, { name = "c" }]

[[assets]]
symbol = "BTC"
decimals = 4
price_decimals = 2
haircut_bps = 1000
quorum = 2
max_deviation_bps = 200
max_age_secs = 60
sources = [{ name = "a" }, { name = "b" }, { name = "c" }]

[[markets]]
symbol = "BTC-PERP"
underlying = "BTC"
size_decimals = 3
mmr_bps = 50

[[scenarios]]
name = "crash"
shocks_bps = { BTC = -3000 }
"#;

/// BTC-PERP in three tiers: ≤ 75,000 at 0.5 %, ≤ 150,000 at 1 %, above at 2 %; amounts
/// 375 and 1,875 USD by continuity. Plus a price-only index `SOLI` with its market.
fn tiered() -> String {
    CONFIG
        .replace(
            "mmr_bps = 50\n",
            "tiers = [\n  { up_to = \"75000\", mmr_bps = 50 },\n  { up_to = \"150000\", mmr_bps = 100 },\n  { mmr_bps = 200 },\n]\n",
        )
        .replace(
            "[[markets]]",
            "[[assets]]\nsymbol = \"SOLI\"\nindex = true\ndecimals = 0\nprice_decimals = 2\nquorum = 1\nmax_deviation_bps = 100\nmax_age_secs = 60\nsources = [{ name = \"a\" }]\n\n[[markets]]\nsymbol = \"SOL-PERP\"\nunderlying = \"SOLI\"\nsize_decimals = 2\nmmr_bps = 100\n\n[[markets]]",
        )
}

const QUOTES: &str = "asset,source,price,timestamp
USDC,a,1.0000,990
USDC,b,0.9999,995
USDC,c,1.0001,1000
BTC,a,50000.00,990
BTC,b,50100.00,995
BTC,c,49900.00,1000
";

fn tiered_quotes() -> String {
    format!("{QUOTES}SOLI,a,150.00,1000\n")
}

const WIDE: &str = "account,USDC,BTC,BTC-PERP.size,BTC-PERP.cost
alice,1000.5,0.5,1.5,75000
bob,20000,0,-1.5,-75000
carol,0,0.0001,0,0
";

/// `WIDE` in the long format, rows of an account in any order.
const LONG: &str = "account,instrument,amount,cost
alice,BTC-PERP,1.5,75000
alice,USDC,1000.5,
alice,BTC,0.5,
bob,USDC,20000,
bob,BTC-PERP,-1.5,-75000
carol,BTC,0.0001,
";

fn run(
    command: &str,
    config: &str,
    quotes: &str,
    file: &str,
    accounts: &[u8],
    extra: &[&str],
) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), config, quotes, file, accounts);
    let out = Command::cargo_bin("zkmargin")
        .unwrap()
        .arg(command)
        .arg(dir.path())
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn write(dir: &Path, config: &str, quotes: &str, file: &str, accounts: &[u8]) {
    fs::write(dir.join("config.toml"), config).unwrap();
    fs::write(dir.join("quotes.csv"), quotes).unwrap();
    fs::write(dir.join(file), accounts).unwrap();
}

fn statement(config: &str, quotes: &str, file: &str, accounts: &str) -> serde_json::Value {
    let (code, stdout, stderr) = run(
        "check",
        config,
        quotes,
        file,
        accounts.as_bytes(),
        &["--json"],
    );
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(&stdout).expect("stdout is JSON")
}

#[test]
fn the_same_accounts_state_the_same_in_either_format() {
    let wide = statement(CONFIG, QUOTES, "accounts.csv", WIDE);
    let long = statement(CONFIG, QUOTES, "holdings.csv", LONG);
    assert_eq!(wide["statement"], long["statement"]);
    assert_eq!(wide["statement_digest"], long["statement_digest"]);
    assert_eq!(long["accounts"], 3);
}

/// `(long size, expected requirement of one such position in USD)`: on each tier boundary
/// exactly and one size unit (0.001 BTC = 50 USD of notional) past it.
const TIER_CASES: [(&str, &str); 6] = [
    ("0.001", "0.25"),  // first tier: 50 · 0.5 %
    ("1.5", "375"),     // 75,000 exactly: still the first tier
    ("1.501", "375.5"), // 75,050: 1 % − 375
    ("3", "1125"),      // 150,000 exactly: the middle tier, 1,500 − 375
    ("3.001", "1126"),  // 150,050: the last tier, 3,001 − 1,875
    ("10", "8125"),     // 500,000: 10,000 − 1,875
];

#[test]
fn a_position_is_charged_in_the_tier_its_notional_falls_in() {
    for (size, mm) in TIER_CASES {
        // A long and a short of the same size: twice the requirement in total.
        let holdings = format!(
            "account,instrument,amount,cost\nlong,USDC,100000,\nlong,BTC-PERP,{size},0\nshort,USDC,100000,\nshort,BTC-PERP,-{size},0\n"
        );
        let v = statement(&tiered(), &tiered_quotes(), "holdings.csv", &holdings);
        // Fine unit 10^-14 USD; the requirement of one position is half the total.
        let total: u128 = v["statement"]["total_maintenance"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let expected = zkmargin_core::amount::parse_unsigned(mm.as_bytes(), 14, u128::MAX).unwrap();
        assert_eq!(total, 2 * expected, "size {size}");
        assert_eq!(v["table"], "slots");
        assert_eq!(v["statement_digest"].as_str().unwrap().len(), 64);
        assert!(
            v["dense_refused"]
                .as_str()
                .unwrap()
                .contains("price-only index"),
            "{v}"
        );
    }
}

/// (case name, config, holdings, expected `file:line: field: ` prefix, reason fragment)
fn corpus() -> Vec<(&'static str, String, String, &'static str, &'static str)> {
    let h = |rows: &str| format!("account,instrument,amount,cost\n{rows}");
    let t = tiered();
    let ok = h("alice,USDC,1,\n");
    vec![
        (
            "unknown symbol",
            t.clone(),
            h("alice,USDC,1,\nalice,DOGE,1,\n"),
            "holdings.csv:3: instrument: ",
            "unknown symbol `DOGE`",
        ),
        (
            "index asset held",
            t.clone(),
            h("alice,SOLI,1,\n"),
            "holdings.csv:2: instrument: ",
            "price-only index",
        ),
        (
            "instrument twice",
            t.clone(),
            h("alice,BTC-PERP,1,0\nalice,USDC,1,\nalice,BTC-PERP,2,0\n"),
            "holdings.csv:4: instrument: ",
            "`BTC-PERP` twice for account `alice` (first on line 2)",
        ),
        (
            "account regrouped",
            t.clone(),
            h("alice,USDC,1,\nbob,USDC,1,\nalice,BTC,1,\n"),
            "holdings.csv:4: account: ",
            "its rows began on line 2",
        ),
        (
            "cost on a balance",
            t.clone(),
            h("alice,USDC,1,5\n"),
            "holdings.csv:2: cost: ",
            "no cost basis",
        ),
        (
            "position without cost",
            t.clone(),
            h("alice,BTC-PERP,1,\n"),
            "holdings.csv:2: cost: ",
            "empty value",
        ),
        (
            "negative balance",
            t.clone(),
            h("alice,USDC,-1,\n"),
            "holdings.csv:2: amount: ",
            "negative",
        ),
        (
            "size decimals",
            t.clone(),
            h("alice,BTC-PERP,0.0001,0\n"),
            "holdings.csv:2: amount: ",
            "at most 3",
        ),
        (
            "float",
            t.clone(),
            h("alice,USDC,1e3,\n"),
            "holdings.csv:2: amount: ",
            "not a decimal number",
        ),
        (
            "missing column",
            t.clone(),
            "account,instrument,amount\nalice,USDC,1\n".into(),
            "holdings.csv:1: cost: ",
            "missing column",
        ),
        (
            "unknown column",
            t.clone(),
            "account,instrument,amount,cost,note\nalice,USDC,1,,x\n".into(),
            "holdings.csv:1: note: ",
            "unknown column",
        ),
        (
            "empty identifier",
            t.clone(),
            h(",USDC,1,\n"),
            "holdings.csv:2: account: ",
            "empty account identifier",
        ),
        (
            "wrong field count",
            t.clone(),
            h("alice,USDC,1\n"),
            "holdings.csv:2: record: ",
            "expected 4 fields",
        ),
        (
            "more entries than the largest class",
            t.clone(),
            h(&"whale,USDC,1,\n".repeat(257)),
            "holdings.csv:258: account: ",
            "more than 256 entries",
        ),
        (
            "tier bounds not increasing",
            t.replace("up_to = \"150000\"", "up_to = \"75000\""),
            ok.clone(),
            "config.toml:",
            "tier bounds must strictly increase",
        ),
        (
            "tier rate decreasing",
            t.replace("{ mmr_bps = 200 }", "{ mmr_bps = 20 }"),
            ok.clone(),
            "config.toml:",
            "rates never decrease",
        ),
        (
            "last tier bounded",
            t.replace("{ mmr_bps = 200 }", "{ up_to = \"900000\", mmr_bps = 200 }"),
            ok.clone(),
            "config.toml:",
            "the last tier has no upper bound",
        ),
        (
            "middle tier unbounded",
            t.replace("{ up_to = \"150000\", mmr_bps = 100 }", "{ mmr_bps = 100 }"),
            ok.clone(),
            "config.toml:",
            "every tier but the last",
        ),
        (
            "tiers and a flat rate",
            t.replace("tiers = [", "mmr_bps = 5\ntiers = ["),
            ok.clone(),
            "config.toml:",
            "either `mmr_bps`",
        ),
        (
            "no rate at all",
            t.replace("size_decimals = 2\nmmr_bps = 100\n", "size_decimals = 2\n"),
            ok.clone(),
            "config.toml:",
            "missing: give `mmr_bps`",
        ),
        (
            "tier bound as a number",
            t.replace("up_to = \"75000\"", "up_to = 75000"),
            ok.clone(),
            "config.toml:",
            "decimal strings",
        ),
        (
            "seventeen tiers",
            t.replace(
                "tiers = [\n",
                &format!(
                    "tiers = [\n{}",
                    (1..=13)
                        .map(|i| format!("  {{ up_to = \"{i}\", mmr_bps = 10 }},\n"))
                        .collect::<String>()
                ),
            )
            .replace(
                "{ up_to = \"75000\", mmr_bps = 50 }",
                "{ up_to = \"75000\", mmr_bps = 50 },\n  { up_to = \"75001\", mmr_bps = 50 }",
            ),
            ok.clone(),
            "config.toml:",
            "17 tiers; between 1 and 16",
        ),
        (
            "index with a haircut",
            t.replace("index = true\n", "index = true\nhaircut_bps = 10\n"),
            ok.clone(),
            "config.toml:",
            "has no haircut",
        ),
        (
            "collateral without a haircut",
            t.replace("haircut_bps = 1000\n", ""),
            ok.clone(),
            "config.toml:",
            "needs a haircut",
        ),
        (
            "reserves of an index",
            format!("{t}\n[reserves]\nSOLI = \"1\"\n"),
            ok.clone(),
            "config.toml:",
            "price-only index",
        ),
    ]
}

#[test]
fn malformed_holdings_and_tiers_exit_2_naming_file_line_and_field() {
    let cases = corpus();
    for (name, config, holdings, prefix, reason) in cases {
        let (code, stdout, stderr) = run(
            "check",
            &config,
            &tiered_quotes(),
            "holdings.csv",
            holdings.as_bytes(),
            &[],
        );
        assert_eq!(code, 2, "{name}: exit code; stderr: {stderr}");
        assert!(stdout.is_empty(), "{name}: partial output: {stdout}");
        assert!(
            stderr.starts_with(&format!("error: {prefix}")),
            "{name}: expected `{prefix}`, got: {stderr}"
        );
        assert!(
            stderr.contains(reason),
            "{name}: expected `{reason}` in: {stderr}"
        );
    }
}

#[test]
fn a_snapshot_with_both_accounts_files_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), CONFIG, QUOTES, "accounts.csv", WIDE.as_bytes());
    fs::write(dir.path().join("holdings.csv"), LONG).unwrap();
    let out = Command::cargo_bin("zkmargin")
        .unwrap()
        .arg("check")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("both accounts.csv and holdings.csv"),
        "{stderr}"
    );
}

#[test]
fn the_dense_prover_refuses_a_tiered_config_by_name_before_proving() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("bundle");
    let (code, _, stderr) = run(
        "prove",
        &tiered(),
        &tiered_quotes(),
        "holdings.csv",
        b"account,instrument,amount,cost\nalice,USDC,1,\n",
        &["--out", out_dir.to_str().unwrap(), "--table", "dense"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("assets[2].index: the dense account table proves collateral assets only"),
        "{stderr}"
    );
    assert!(!out_dir.exists(), "no partial output");
}
