//! `zkmargin check` end to end: the malformed-input corpus (exit 2, message naming file, line
//! and field, no output on stdout), oracle halts (exit 3) and well-formed evaluations.

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

[reserves]
USDC = "100000"
"#;

const QUOTES: &str = "asset,source,price,timestamp
USDC,a,1.0000,990
USDC,b,0.9999,995
USDC,c,1.0001,1000
BTC,a,50000.00,990
BTC,b,50100.00,995
BTC,c,49900.00,1000
";

const ACCOUNTS: &str = "account,USDC,BTC,BTC-PERP.size,BTC-PERP.cost
alice,1000.5,0.5,1.5,75000
bob,20000,0,-1.5,-75000
carol,0,0.0001,0,0
";

fn write_snapshot(dir: &Path, config: &str, quotes: &str, accounts: &[u8]) {
    fs::write(dir.join("config.toml"), config).unwrap();
    fs::write(dir.join("quotes.csv"), quotes).unwrap();
    fs::write(dir.join("accounts.csv"), accounts).unwrap();
}

fn run_check(dir: &Path, extra: &[&str]) -> std::process::Output {
    Command::cargo_bin("zkmargin")
        .unwrap()
        .arg("check")
        .arg(dir)
        .args(extra)
        .output()
        .unwrap()
}

fn check(config: &str, quotes: &str, accounts: &[u8], extra: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    write_snapshot(dir.path(), config, quotes, accounts);
    let out = run_check(dir.path(), extra);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Which file a corpus case edits.
enum Edit {
    Config(&'static str, &'static str),
    Quotes(&'static str, &'static str),
    Accounts(&'static [u8]),
}

/// (case name, edit, expected `file:line: field: ` prefix, expected reason fragment)
fn corpus() -> Vec<(&'static str, Edit, &'static str, &'static str)> {
    use Edit::*;
    let acc = |s: &'static str| Accounts(s.as_bytes());
    vec![
        ("float exponent", acc("account,USDC,BTC,BTC-PERP.size,BTC-PERP.cost\nalice,1e3,0,0,0\n"), "accounts.csv:2: USDC: ", "not a decimal number"),
        ("NaN", acc("account,USDC,BTC,BTC-PERP.size,BTC-PERP.cost\nalice,NaN,0,0,0\n"), "accounts.csv:2: USDC: ", "not a decimal number"),
        ("inf", acc("account,USDC,BTC,BTC-PERP.size,BTC-PERP.cost\nalice,0,inf,0,0\n"), "accounts.csv:2: BTC: ", "not a decimal number"),
        ("negative balance", acc("account,USDC,BTC,BTC-PERP.size,BTC-PERP.cost\nalice,-1,0,0,0\n"), "accounts.csv:2: USDC: ", "negative"),
        ("too many decimals", acc("account,USDC,BTC,BTC-PERP.size,BTC-PERP.cost\nalice,1.001,0,0,0\n"), "accounts.csv:2: USDC: ", "3 fraction digits; at most 2"),
        ("plus sign", acc("account,USDC,BTC,BTC-PERP.size,BTC-PERP.cost\nalice,+1,0,0,0\n"), "accounts.csv:2: USDC: ", "not a decimal number"),
        ("leading space", acc("account,USDC,BTC,BTC-PERP.size,BTC-PERP.cost\nalice, 1,0,0,0\n"), "accounts.csv:2: USDC: ", "not a decimal number"),
        ("bare fraction", acc("account,USDC,BTC,BTC-PERP.size,BTC-PERP.cost\nalice,.5,0,0,0\n"), "accounts.csv:2: USDC: ", "not a decimal number"),
        ("empty value", acc("account,USDC,BTC,BTC-PERP.size,BTC-PERP.cost\nalice,,0,0,0\n"), "accounts.csv:2: USDC: ", "empty value"),
        ("unknown asset column", acc("account,USDC,BTC,XRP,BTC-PERP.size,BTC-PERP.cost\nalice,0,0,0,0,0\n"), "accounts.csv:1: XRP: ", "unknown asset"),
        ("unknown market column", acc("account,USDC,BTC,ETH-PERP.size,BTC-PERP.size,BTC-PERP.cost\nalice,0,0,0,0,0\n"), "accounts.csv:1: ETH-PERP.size: ", "unknown market"),
        ("bad market suffix", acc("account,USDC,BTC,BTC-PERP.qty,BTC-PERP.cost\nalice,0,0,0,0\n"), "accounts.csv:1: BTC-PERP.qty: ", "`.size` or `.cost`"),
        ("duplicate account", acc("account,USDC,BTC,BTC-PERP.size,BTC-PERP.cost\nalice,0,0,0,0\nbob,0,0,0,0\nalice,1,0,0,0\n"), "accounts.csv:4: account: ", "duplicate account `alice` (first on line 2)"),
        ("duplicate header", acc("account,USDC,USDC,BTC,BTC-PERP.size,BTC-PERP.cost\nalice,0,0,0,0,0\n"), "accounts.csv:1: USDC: ", "duplicate column"),
        ("missing column", acc("account,USDC,BTC,BTC-PERP.size\nalice,0,0,0\n"), "accounts.csv:1: BTC-PERP.cost: ", "missing column"),
        ("empty file", acc(""), "accounts.csv:1: header: ", "file is empty"),
        ("balance past 2^64", acc("account,USDC,BTC,BTC-PERP.size,BTC-PERP.cost\nalice,184467440737095516.16,0,0,0\n"), "accounts.csv:2: USDC: ", "out of range"),
        ("size past 2^63", acc("account,USDC,BTC,BTC-PERP.size,BTC-PERP.cost\nalice,0,0,-9223372036854775.808,0\n"), "accounts.csv:2: BTC-PERP.size: ", "out of range"),
        ("cost past 2^127", acc("account,USDC,BTC,BTC-PERP.size,BTC-PERP.cost\nalice,0,0,0,1701411834604692317316873037158841057.28\n"), "accounts.csv:2: BTC-PERP.cost: ", "out of range"),
        ("wrong field count", acc("account,USDC,BTC,BTC-PERP.size,BTC-PERP.cost\nalice,0,0,0\n"), "accounts.csv:2: record: ", "expected 5 fields"),
        ("bad UTF-8 identifier", Accounts(b"account,USDC,BTC,BTC-PERP.size,BTC-PERP.cost\nal\xffice,0,0,0,0\n"), "accounts.csv:2: account: ", "not valid UTF-8"),
        ("bad UTF-8 header", Accounts(b"account,US\xffDC,BTC,BTC-PERP.size,BTC-PERP.cost\nalice,0,0,0,0\n"), "accounts.csv:1: header column 2: ", "not valid UTF-8"),
        ("empty identifier", acc("account,USDC,BTC,BTC-PERP.size,BTC-PERP.cost\n,0,0,0,0\n"), "accounts.csv:2: account: ", "empty account identifier"),
        ("error on a later line", acc("account,USDC,BTC,BTC-PERP.size,BTC-PERP.cost\nalice,0,0,0,0\nbob,0,0,0,0\ncarol,0,0,1.2345,0\n"), "accounts.csv:4: BTC-PERP.size: ", "4 fraction digits; at most 3"),
        ("unknown quote asset", Quotes("BTC,c,49900.00,1000", "XRP,c,0.5,1000"), "quotes.csv:7: asset: ", "unknown asset `XRP`"),
        ("unknown quote source", Quotes("BTC,c,", "BTC,z,"), "quotes.csv:7: source: ", "unknown source `z`"),
        ("duplicate quote", Quotes("BTC,c,", "BTC,a,"), "quotes.csv:7: source: ", "duplicate quote"),
        ("zero price", Quotes("49900.00", "0"), "quotes.csv:7: price: ", "must be positive"),
        ("price exponent", Quotes("49900.00", "4.99E4"), "quotes.csv:7: price: ", "not a decimal number"),
        ("price past 2^64", Quotes("49900.00", "184467440737095516.16"), "quotes.csv:7: price: ", "out of range"),
        ("fractional timestamp", Quotes("49900.00,1000", "49900.00,1000.5"), "quotes.csv:7: timestamp: ", "not a decimal number"),
        ("bad signature hex", Quotes("asset,source,price,timestamp\n", "asset,source,price,timestamp,signature\n"), "quotes.csv:2: record: ", "expected 5 fields"),
        ("missing price column", Quotes("asset,source,price,timestamp", "asset,source,cost,timestamp"), "quotes.csv:1: cost: ", "unknown column"),
        ("float insurance fund", Config("insurance_fund = \"5000\"", "insurance_fund = 5000.0"), "config.toml:3: insurance_fund: ", "decimal strings"),
        ("insurance fund decimals", Config("insurance_fund = \"5000\"", "insurance_fund = \"5000.001\""), "config.toml:3: insurance_fund: ", "at most 2"),
        ("unknown underlying", Config("underlying = \"BTC\"", "underlying = \"ETH\""), "config.toml:31: markets[0].underlying: ", "unknown asset `ETH`"),
        ("haircut out of range", Config("haircut_bps = 1000", "haircut_bps = 10001"), "config.toml:23: assets[1].haircut_bps: ", "out of range 0..=10000"),
        ("quorum above sources", Config("quorum = 2\nmax_deviation_bps = 200", "quorum = 4\nmax_deviation_bps = 200"), "config.toml:24: assets[1].quorum: ", "out of range 1..=3"),
        ("unknown key", Config("mmr_bps = 50", "mmr_bps = 50\nleverage = 10"), "config.toml:34: leverage: ", "unknown field"),
        ("duplicate asset", Config("symbol = \"BTC\"\ndecimals = 4", "symbol = \"USDC\"\ndecimals = 4"), "config.toml:20: assets[1].symbol: ", "duplicate symbol `USDC`"),
        ("shock on unknown asset", Config("{ BTC = -3000 }", "{ DOGE = -3000 }"), "config.toml:37: scenarios[0].shocks_bps.DOGE: ", "unknown asset `DOGE`"),
        ("shock past -100%", Config("{ BTC = -3000 }", "{ BTC = -10001 }"), "config.toml:37: scenarios[0].shocks_bps.BTC: ", "out of range"),
        ("toml syntax", Config("epoch = 3", "epoch = = 3"), "config.toml:1: epoch: ", ""),
        ("decimals spread too wide", Config("decimals = 4\nprice_decimals = 2", "decimals = 18\nprice_decimals = 18"), "config.toml:11: assets[0].decimals: ", "decimals spread too wide"),
        ("bad public key", Config("{ name = \"c\" }]\n\n[[markets]]", "{ name = \"c\", public_key = \"abcd\" }]\n\n[[markets]]"), "config.toml:27: assets[1].sources[2].public_key: ", "32 bytes"),
        ("reserves for unknown asset", Config("USDC = \"100000\"", "ETH = \"1\""), "config.toml:40: reserves.ETH: ", "unknown asset"),
        ("negative epoch", Config("epoch = 3", "epoch = -3"), "config.toml:1: epoch: ", "out of range"),
        ("negative zero size", acc("account,USDC,BTC,BTC-PERP.size,BTC-PERP.cost\nalice,0,0,-0,0\n"), "accounts.csv:2: BTC-PERP.size: ", "not canonical"),
        ("negative zero cost", acc("account,USDC,BTC,BTC-PERP.size,BTC-PERP.cost\nalice,0,0,0,-0.00\n"), "accounts.csv:2: BTC-PERP.cost: ", "not canonical"),
        ("leading zero", acc("account,USDC,BTC,BTC-PERP.size,BTC-PERP.cost\nalice,01.5,0,0,0\n"), "accounts.csv:2: USDC: ", "not canonical"),
        ("leading zero price", Quotes("49900.00", "049900.00"), "quotes.csv:7: price: ", "not canonical"),
        ("NUL in a comment", Config("epoch = 3", "# a\u{0}b\nepoch = 3"), "config.toml:1: config: ", "not valid TOML"),
    ]
}

#[test]
fn malformed_inputs_exit_2_naming_file_line_and_field() {
    let cases = corpus();
    assert!(cases.len() >= 30);
    for (name, edit, prefix, reason) in cases {
        let (mut config, mut quotes, mut accounts) = (
            CONFIG.to_string(),
            QUOTES.to_string(),
            ACCOUNTS.as_bytes().to_vec(),
        );
        match edit {
            Edit::Config(from, to) => {
                assert!(config.contains(from), "{name}: pattern not in base config");
                config = config.replacen(from, to, 1);
            }
            Edit::Quotes(from, to) => {
                assert!(quotes.contains(from), "{name}: pattern not in base quotes");
                // Edit the last occurrence, so the offending line is the last one.
                let at = quotes.rfind(from).unwrap();
                quotes.replace_range(at..at + from.len(), to);
            }
            Edit::Accounts(bytes) => accounts = bytes.to_vec(),
        }
        let (code, stdout, stderr) = check(&config, &quotes, &accounts, &[]);
        assert_eq!(code, 2, "{name}: exit code; stderr: {stderr}");
        assert!(
            stdout.is_empty(),
            "{name}: partial output on stdout: {stdout}"
        );
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
fn missing_files_and_non_utf8_config_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_check(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("config.toml: file: cannot read"));

    write_snapshot(dir.path(), CONFIG, QUOTES, ACCOUNTS.as_bytes());
    fs::write(dir.path().join("config.toml"), b"epoch = 3\n# caf\xe9\n").unwrap();
    let out = run_check(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("config.toml:2: config: not valid UTF-8"));

    write_snapshot(dir.path(), CONFIG, QUOTES, ACCOUNTS.as_bytes());
    fs::remove_file(dir.path().join("accounts.csv")).unwrap();
    let out = run_check(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("accounts.csv: file: cannot open"));
}

#[test]
fn bad_prev_digest_exits_2() {
    let (code, _, stderr) = check(
        CONFIG,
        QUOTES,
        ACCOUNTS.as_bytes(),
        &["--prev-digest", "zz"],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("--prev-digest: not hex"));
}

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).expect("stdout is JSON")
}

#[test]
fn well_formed_snapshot_evaluates_exactly() {
    let (code, stdout, stderr) = check(CONFIG, QUOTES, ACCOUNTS.as_bytes(), &["--json"]);
    assert_eq!(code, 0, "{stderr}");
    let v = json(&stdout);
    let s = &v["statement"];
    assert_eq!(v["accounts"], 3);
    // Medians: USDC lower median of {0.9999, 1, 1.0001} = 1; BTC of {49900, 50000, 50100} = 50000.
    assert_eq!(s["oracle"][0]["median"], 10_000);
    assert_eq!(s["oracle"][1]["median"], 5_000_000);
    // D = max(2, 2+4+8, 4+2+8, 3+2+4) = 14.
    assert_eq!(s["fine_exponent"], 14);
    // alice: CV = 1000.5 + 0.5·50000·0.9 = 23500.5; UPNL = 1.5·50000 − 75000 = 0; MM = 375.
    // bob: CV = 20000; UPNL = −75000 + 75000 = 0; MM = 375. carol: CV = 0.0001·50000·0.9 = 4.5.
    let usd = |x: &str| format!("{x}{}", "0".repeat(14));
    assert_eq!(s["total_equity"], usd("43505"));
    assert_eq!(s["total_maintenance"], usd("750"));
    assert_eq!(s["under_margined_accounts"], 0);
    assert_eq!(s["total_bad_debt"], "0");
    // Crash −30 %: alice CV = 1000.5 + 15750 = 16750.5, UPNL = 52500 − 75000 = −22500 → −5749.5.
    // bob: 20000 + (−52500 + 75000) > 0. carol: > 0.
    assert_eq!(
        s["scenarios"][0]["bad_debt"],
        format!("57495{}", "0".repeat(13))
    );
    assert_eq!(s["assets"][0]["liabilities"], "2100050");
    assert_eq!(s["markets"][0]["long_open_interest"], "1500");
    assert_eq!(s["markets"][0]["short_open_interest"], "1500");
    assert_eq!(s["insurance_fund"], usd("5000"));
    assert_eq!(v["statement_digest"].as_str().unwrap().len(), 64);
    // Policy: the fund (5000) covers bad debt now, not the crash (5749.5).
    let failed: Vec<&str> = v["policy"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        ["insurance fund covers bad debt in scenario `crash`"]
    );
}

#[test]
fn human_output_shows_medians_totals_and_scenarios() {
    let (code, stdout, _) = check(CONFIG, QUOTES, ACCOUNTS.as_bytes(), &[]);
    assert_eq!(code, 0);
    for needle in [
        "BTC      50000 USD   3/3 counted, quorum 2",
        "equity                   43505 USD",
        "crash",
        "bad debt",
        "[FAIL] insurance fund covers bad debt in scenario `crash`",
    ] {
        assert!(stdout.contains(needle), "missing `{needle}` in:\n{stdout}");
    }
}

#[test]
fn prev_digest_changes_the_statement_digest() {
    let digest = |extra: &[&str]| {
        json(
            &check(
                CONFIG,
                QUOTES,
                ACCOUNTS.as_bytes(),
                &[&["--json"], extra].concat(),
            )
            .1,
        )["statement_digest"]
            .clone()
    };
    let zero = digest(&[]);
    let other = digest(&["--prev-digest", &"11".repeat(32)]);
    assert_ne!(zero, other);
    assert_eq!(zero, digest(&[]), "digest is deterministic");
}

#[test]
fn one_outlier_is_reported_but_does_not_halt_with_majority_quorum() {
    let quotes = QUOTES.replace("BTC,b,50100.00", "BTC,b,60000.00");
    let (code, stdout, stderr) = check(CONFIG, &quotes, ACCOUNTS.as_bytes(), &["--json"]);
    assert_eq!(code, 0, "{stderr}");
    let btc = &json(&stdout)["statement"]["oracle"][1];
    assert_eq!(btc["quotes"][1]["status"], "outlier");
    assert_eq!(btc["counted"], 2);
    assert_eq!(btc["median"], 5_000_000);
}

#[test]
fn quorum_of_all_sources_halts_on_one_outlier() {
    let quotes = QUOTES.replace("BTC,b,50100.00", "BTC,b,60000.00");
    let config = CONFIG.replace(
        "quorum = 2\nmax_deviation_bps = 200",
        "quorum = 3\nmax_deviation_bps = 200",
    );
    let (code, stdout, _) = check(&config, &quotes, ACCOUNTS.as_bytes(), &[]);
    assert_eq!(code, 3);
    assert!(stdout.contains("HALTED"));
    assert!(stdout.contains("BTC: 2 of 3 quotes counted, quorum 3"));
    assert!(stdout.contains("Outlier"));
}

#[test]
fn stale_and_future_quotes_halt_when_quorum_fails() {
    // Two of three USDC quotes unusable: one older than 60 s, one after the epoch timestamp.
    let quotes = QUOTES
        .replace("USDC,a,1.0000,990", "USDC,a,1.0000,939")
        .replace("USDC,b,0.9999,995", "USDC,b,0.9999,1001");
    let (code, stdout, _) = check(CONFIG, &quotes, ACCOUNTS.as_bytes(), &["--json"]);
    assert_eq!(code, 3);
    let v = json(&stdout);
    assert_eq!(v["status"], "halted");
    let usdc = &v["halt"]["halted"][0];
    assert_eq!(usdc["symbol"], "USDC");
    assert_eq!(usdc["quotes"][0]["status"], "stale");
    assert_eq!(usdc["quotes"][1]["status"], "future");
    assert_eq!(
        v["halt"]["halted"].as_array().unwrap().len(),
        1,
        "BTC did not halt"
    );
}

#[test]
fn missing_source_halts_and_malformed_accounts_take_precedence() {
    let quotes: String = QUOTES
        .lines()
        .filter(|l| !l.starts_with("BTC,a") && !l.starts_with("BTC,b"))
        .map(|l| format!("{l}\n"))
        .collect();
    let (code, stdout, _) = check(CONFIG, &quotes, ACCOUNTS.as_bytes(), &[]);
    assert_eq!(code, 3);
    assert!(stdout.contains("Missing"));
    // A halted epoch with a malformed accounts file still reports the input error first.
    let (code, _, stderr) = check(CONFIG, &quotes, b"account,USDC\n", &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("missing column"));
}

#[test]
fn header_only_accounts_file_is_an_empty_venue() {
    let (code, stdout, _) = check(
        CONFIG,
        QUOTES,
        b"account,USDC,BTC,BTC-PERP.size,BTC-PERP.cost\n",
        &["--json"],
    );
    assert_eq!(code, 0);
    let v = json(&stdout);
    assert_eq!(v["accounts"], 0);
    assert_eq!(v["statement"]["total_equity"], "0");
}

#[test]
fn malformed_generator_options_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap");
    for (args, reason) in [
        (&["--under-margined", "1e2"][..], "--under-margined"),
        (&["--bad-debt=-1"][..], "negative"),
        (&["--bad-debt", "0.125"][..], "at most 2"),
        (&["--assets", "9"][..], "assets must be 1..=8"),
        (
            &["--assets", "1", "--markets", "1"][..],
            "support at most 0 markets",
        ),
        // An epoch whose timestamp its own config parser would refuse.
        (
            &["--epoch", "18446744073709551615"][..],
            "epoch must be at most",
        ),
        (
            &["--epoch", "2562047787524321"][..],
            "epoch must be at most",
        ),
    ] {
        let o = Command::cargo_bin("zkmargin")
            .unwrap()
            .args(["fixtures", "generate", "--out"])
            .arg(&out)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(reason),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(!out.exists());
    }
}
