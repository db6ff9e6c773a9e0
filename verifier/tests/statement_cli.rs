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
        zkmargin_circuits::encoding::statement_digest_under(&snapshot.config, &eval.statement)
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
