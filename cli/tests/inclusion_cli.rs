//! `zkmargin inclusion` and `zkmargin-verify inclusion` as commands: an on-demand proof and
//! the printed status, unusable files exit 2 with no report, a corrupted private cache exits 1
//! before any proof is handed out.

mod common;

use std::fs;
use std::path::Path;
use std::sync::OnceLock;

use assert_cmd::prelude::OutputAssertExt;
use assert_cmd::Command;
use common::zkmargin;
use zkmargin_inclusion::InclusionFile;
use zkmargin_testkit::{check_inclusion as verify, failed as failed_checks, TwoEpochs};
use zkmargin_verifier::inclusion::InclusionReport;

fn epochs() -> &'static TwoEpochs {
    static E: OnceLock<TwoEpochs> = OnceLock::new();
    E.get_or_init(|| TwoEpochs::build("inclusion-cli"))
}

fn failed(r: &InclusionReport) -> Vec<String> {
    failed_checks(&r.checks)
}

#[test]
fn an_on_demand_proof_verifies_and_the_cli_prints_the_status() {
    let e = epochs();
    let who = &e.identifiers[3];
    let out = e.root.join("one.json");
    zkmargin()
        .arg("inclusion")
        .arg(&e.first)
        .args(["--account", who, "--out"])
        .arg(&out)
        .assert()
        .success();
    let file: InclusionFile = serde_json::from_slice(&fs::read(&out).unwrap()).unwrap();
    assert_eq!(file.openings.len(), 1, "one level on demand");
    let r = verify(&e.first, &out, Some(who));
    assert!(r.passed(), "{:?}", failed(&r));
    let run = Command::cargo_bin("zkmargin-verify")
        .unwrap()
        .env("ZKMARGIN_HOME", zkmargin_testkit::home())
        .arg("inclusion")
        .arg(&e.first)
        .arg(&out)
        .args(["--identifier", who])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    let text = String::from_utf8_lossy(&run.stdout);
    // A development-SRS epoch: the holder is warned that the proof proves nothing, not told
    // it is valid.
    assert!(
        text.contains("maintenance requirement")
            && text.contains("[warn] trusted setup")
            && text.contains(
                "WARNING: every check passed, but INSECURE development parameters: this proof \
                 proves nothing"
            )
            && !text.contains("VALID"),
        "{text}"
    );
    // An unknown account is unusable input.
    zkmargin()
        .arg("inclusion")
        .arg(&e.first)
        .args(["--account", "nobody", "--out"])
        .arg(e.root.join("nobody.json"))
        .assert()
        .code(2);
}

#[test]
fn malformed_inclusion_files_are_unusable_input() {
    let e = epochs();
    let (f, _, who) = e.files_by_row().remove(0);
    let good = serde_json::to_value(&f).unwrap();
    let edit = |key: &str, value: serde_json::Value| {
        let mut v = good.clone();
        v[key] = value;
        v.to_string()
    };
    let mut short = f.balances.clone();
    short.pop();
    let cases = [
        ("not JSON", "{".to_string()),
        ("wrong version", edit("format_version", 9.into())),
        ("bad id", edit("id", "zz".into())),
        ("short salt", edit("salt", "00".into())),
        (
            "bad point",
            edit(
                "openings",
                serde_json::json!([{ "blocks": [0, 1], "point": "00" }]),
            ),
        ),
        (
            "missing balance",
            edit("balances", serde_json::json!(short)),
        ),
        (
            "too many decimals",
            edit(
                "balances",
                serde_json::json!(["1.0000000000000000001", "0", "0", "0"]),
            ),
        ),
        (
            "negative balance",
            edit("balances", serde_json::json!(["-1", "0", "0", "0"])),
        ),
    ];
    for (what, text) in cases {
        let path = e.root.join("malformed.json");
        fs::write(&path, text).unwrap();
        let run = Command::cargo_bin("zkmargin-verify")
            .unwrap()
            .env("ZKMARGIN_HOME", zkmargin_testkit::home())
            .arg("inclusion")
            .arg(&e.first)
            .arg(&path)
            .args(["--identifier", &who])
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(2), "{what}");
        assert!(run.stdout.is_empty(), "{what}: no report on unusable input");
        assert!(
            String::from_utf8_lossy(&run.stderr).contains("error:"),
            "{what}"
        );
    }
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn a_corrupted_private_cache_is_caught_before_any_proof_is_handed_out() {
    let e = epochs();
    let copy = e.root.join("corrupt-bundle");
    let _ = fs::remove_dir_all(&copy);
    copy_tree(&e.first, &copy);
    let cache = copy.join("private/inclusion-cache-0000.bin");
    let mut bytes = fs::read(&cache).expect("--all left a cache");
    let n = bytes.len();
    bytes[n - 40] ^= 1;
    fs::write(&cache, bytes).unwrap();
    zkmargin()
        .arg("inclusion")
        .arg(&copy)
        .args(["--account", &e.identifiers[0], "--out"])
        .arg(e.root.join("corrupt.json"))
        .assert()
        .code(1);
    zkmargin()
        .arg("inclusion")
        .arg(&copy)
        .arg("--all")
        .arg("--out")
        .arg(e.root.join("corrupt-all"))
        .assert()
        .code(1);
    // Without the cache the columns are rebuilt from private/ and proofs verify again.
    fs::remove_file(&cache).unwrap();
    let out = e.root.join("rebuilt.json");
    zkmargin()
        .arg("inclusion")
        .arg(&copy)
        .args(["--account", &e.identifiers[0], "--out"])
        .arg(&out)
        .assert()
        .success();
    let r = verify(&copy, &out, Some(&e.identifiers[0]));
    assert!(r.passed(), "{:?}", failed(&r));
}
