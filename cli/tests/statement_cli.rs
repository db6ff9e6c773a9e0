//! `zkmargin-verify statement`: exit codes and the checks it must not skip.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn published(fixture: &str) -> Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(fixture);
    // The verifier must not depend on the prover: evaluate through the core library.
    let snapshot = zkmargin_core::engine::Snapshot::load(&dir).unwrap();
    let zkmargin_core::engine::Outcome::Evaluated(eval) =
        zkmargin_core::engine::evaluate(&snapshot, [0; 32]).unwrap()
    else {
        panic!("fixture halted")
    };
    let digest =
        zkmargin_layout::encoding::statement_digest_under(&snapshot.config, &eval.statement)
            .unwrap();
    serde_json::json!({
        "statement_digest": hex::encode(digest),
        "statement": eval.statement,
        "config_toml": snapshot.config_text,
    })
}

/// The check named `name` in a `--json` report.
fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["report"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name:?} in {report}"))
}

fn verify(doc: &Value, extra: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("statement.json");
    fs::write(&path, serde_json::to_vec(doc).unwrap()).unwrap();
    let out = Command::cargo_bin("zkmargin-verify")
        .unwrap()
        .arg("statement")
        .arg(&path)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn demo_statement_is_valid_and_strict_mode_rejects_under_margined() {
    let doc = published("demo");
    let (code, stdout) = verify(&doc, &[]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("VALID"));
    let (code, stdout) = verify(&doc, &["--strict"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("[FAIL] no under-margined accounts (strict)"));
}

#[test]
fn edited_statement_fails_its_digest() {
    let mut doc = published("demo");
    doc["statement"]["total_bad_debt"] = Value::String("0".into());
    let (code, stdout) = verify(&doc, &["--json"]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["status"], "invalid");
    assert_eq!(
        check(&v, "statement digest matches its contents")["passed"],
        false
    );
}

#[test]
fn reserves_are_part_of_the_digest() {
    let mut doc = published("demo");
    doc["statement"]["assets"][0]["reserves"] = Value::String("1".into());
    let (code, stdout) = verify(&doc, &["--json"]);
    assert_eq!(code, 1, "{stdout}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        check(&v, "statement digest matches its contents")["passed"],
        false
    );
}

#[test]
fn a_foreign_config_fails_the_config_digest() {
    let mut doc = published("demo");
    let other = published("edge/insolvent");
    doc["config_toml"] = other["config_toml"].clone();
    let (code, stdout) = verify(&doc, &["--json"]);
    assert_eq!(code, 1, "{stdout}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        check(&v, "config digest matches the config")["passed"],
        false
    );
}

#[test]
fn a_claimed_digest_without_its_config_is_unusable() {
    let mut doc = published("demo");
    doc.as_object_mut().unwrap().remove("config_toml");
    let (code, _) = verify(&doc, &[]);
    assert_eq!(code, 2);
}

#[test]
fn every_failed_policy_is_listed() {
    let (code, stdout) = verify(&published("edge/insolvent"), &["--strict"]);
    assert_eq!(code, 1);
    assert_eq!(stdout.matches("[FAIL]").count(), 3, "{stdout}");
}

#[test]
fn unusable_input_exits_2() {
    let (code, _) = verify(&serde_json::json!({ "hello": 1 }), &[]);
    assert_eq!(code, 2);
    let out = Command::cargo_bin("zkmargin-verify")
        .unwrap()
        .args(["statement", "/nonexistent/s.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

/// `zkmargin-verify statement --json` on `doc`: its exit code and JSON status.
fn status(doc: &Value) -> (i32, String) {
    let (code, stdout) = verify(doc, &["--json"]);
    let v: Value = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (code, v["status"].as_str().unwrap_or("").to_string())
}

#[test]
fn every_field_of_a_published_statement_is_checked() {
    // Each leaf of the statement, edited on its own (the digest left as published), is refused:
    // either the digest no longer matches or the field is not what the config gives (symbols,
    // decimals, source names, counts, quorum, version, fine exponent). Nothing readable is
    // left unchecked.
    let doc = published("demo");
    let paths = zkmargin_fixtures::hostile::paths(&doc["statement"]);
    let mut leaves = 0;
    for path in &paths {
        let mut edited = doc.clone();
        let node = zkmargin_fixtures::hostile::node_mut(&mut edited["statement"], path).unwrap();
        let replacement = match node {
            Value::String(s) => Value::String(zkmargin_fixtures::hostile::edited(s)),
            Value::Number(n) => {
                Value::from(n.as_i64().expect("statement numbers are integers") ^ 1)
            }
            Value::Bool(b) => Value::Bool(!*b),
            Value::Null => Value::from(1),
            _ => continue,
        };
        *node = replacement;
        leaves += 1;
        let (code, status) = status(&edited);
        assert!(
            code == 1 && status == "invalid" || code == 2 && status == "error",
            "statement.{} edited: exit {code}, {status}",
            zkmargin_fixtures::hostile::show(path)
        );
    }
    assert!(leaves > 100, "{leaves} leaves");
}

#[test]
fn the_envelope_config_is_checked_field_by_field() {
    // Per-epoch config values (outside the config digest) must still be the statement's.
    let doc = published("demo");
    let text = doc["config_toml"].as_str().unwrap().to_string();
    for (from, to) in [
        ("epoch = 1", "epoch = 2"),
        ("timestamp = ", "timestamp = 1"),
        ("insurance_fund = \"", "insurance_fund = \"1"),
    ] {
        assert!(text.contains(from), "{from}");
        let mut edited = doc.clone();
        edited["config_toml"] = Value::String(text.replacen(from, to, 1));
        let (code, stdout) = verify(&edited, &["--json"]);
        let v: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!((code, v["status"].as_str()), (1, Some("invalid")), "{from}");
        assert_eq!(
            check(&v, "statement agrees with the config")["passed"],
            false,
            "{from}"
        );
    }
}

#[test]
fn a_bare_statement_is_only_a_warning() {
    // Without its config nothing binds a bare statement's fields: it is never "valid".
    let doc = published("demo");
    let bare = doc["statement"].clone();
    let (code, stdout) = verify(&bare, &["--json"]);
    assert_eq!(code, 0, "{stdout}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["status"], "warning");
    assert_eq!(
        check(&v, "statement fields are bound to a config")["warning"],
        true
    );
    let (_, text) = verify(&bare, &[]);
    assert!(
        text.contains("[warn] statement fields are bound to a config")
            && text.contains("\nWARNING: every check passed, but")
            && !text.contains("VALID"),
        "{text}"
    );
}

#[test]
fn a_statement_without_its_digest_is_only_a_warning() {
    // The config binds prices and symbols; only the claimed digest binds the totals.
    let mut doc = published("demo");
    doc.as_object_mut().unwrap().remove("statement_digest");
    doc["statement"]["total_shortfall"] = Value::from("-1");
    let (code, stdout) = verify(&doc, &["--json"]);
    assert_eq!(code, 0, "{stdout}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["status"], "warning", "{stdout}");
    assert_eq!(check(&v, "statement digest is claimed")["warning"], true);
}

#[test]
fn a_statement_of_another_version_is_refused() {
    let mut doc = published("demo");
    doc["statement"]["version"] = Value::from(2);
    let (code, stdout) = verify(&doc, &["--json"]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let agrees = check(&v, "statement agrees with the config");
    assert_eq!(agrees["passed"], false);
    assert!(
        agrees["detail"].as_str().unwrap().contains("version"),
        "{agrees}"
    );
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;
    use zkmargin_verifier::statement::check_file;

    fn demo() -> &'static Value {
        static DOC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
        DOC.get_or_init(|| published("demo"))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

        /// A mutated published statement never panics the checker, and whenever it is not
        /// refused it says exactly what the original said.
        #[test]
        fn valid_means_the_published_statement(seed in any::<u64>(), rounds in 1u64..3) {
            let original = demo();
            let mut doc = original.clone();
            for r in 0..rounds {
                doc = zkmargin_fixtures::hostile::mutate_json(&doc, seed ^ (r << 40)).0;
            }
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("statement.json");
            fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
            if let Ok(report) = check_file(&path, false) {
                // The text report renders whatever the file held, without panicking.
                let _ = zkmargin_core::render::statement(&report.statement, "digest");
                let _ = zkmargin_core::render::policy(&report.checks);
                if zkmargin_core::policy::Verdict::of(&report.checks)
                    == zkmargin_core::policy::Verdict::Valid
                {
                    let statement: zkmargin_core::statement::Statement =
                        serde_json::from_value(original["statement"].clone()).unwrap();
                    prop_assert_eq!(&report.statement, &statement);
                    let config = |d: &Value| {
                        zkmargin_core::config::Config::parse(d["config_toml"].as_str().unwrap())
                            .map(|c| (c.digest(), c.epoch, c.timestamp, c.insurance_fund, c.reserves))
                    };
                    prop_assert_eq!(config(&doc).unwrap(), config(original).unwrap());
                }
            }
        }
    }
}
