//! `zkmargin prove` on a venue only the slot table proves (risk-limit tiers, price-only index
//! assets, the long format): `--table auto` chooses the slot table, the bundle verifies with
//! `zkmargin-verify`, and the dense table and its sizing options are refused with exit 2.

mod common;

use assert_cmd::cargo::CommandCargoExt;
use std::process::Command;

use common::zkmargin;
use zkmargin_testkit::{home, scratch, venue_snapshot};

#[test]
fn a_tiered_venue_is_proved_by_the_slot_table_and_verifies() {
    let root = scratch("slots-cli");
    let snapshot = root.join("venue");
    venue_snapshot(&snapshot, 40, 9);

    let dense = zkmargin()
        .arg("prove")
        .arg(&snapshot)
        .arg("--out")
        .arg(root.join("dense"))
        .args(["--table", "dense"])
        .output()
        .unwrap();
    assert_eq!(dense.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&dense.stderr);
    assert!(stderr.contains("the dense account table"), "{stderr}");
    assert_eq!(
        stderr.matches("the dense account table").count(),
        1,
        "the error is said once: {stderr}"
    );
    assert!(!root.join("dense").exists());

    let sized = zkmargin()
        .arg("prove")
        .arg(&snapshot)
        .arg("--out")
        .arg(root.join("sized"))
        .args(["--k", "14"])
        .output()
        .unwrap();
    assert_eq!(sized.status.code(), Some(2));
    assert!(!root.join("sized").exists());

    let bundle = root.join("bundle");
    let proved = zkmargin()
        .arg("prove")
        .arg(&snapshot)
        .arg("--out")
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(
        proved.status.success(),
        "{}",
        String::from_utf8_lossy(&proved.stderr)
    );
    assert!(String::from_utf8_lossy(&proved.stderr).contains("slot-table bundle written"));
    assert!(bundle.join("classes/0/0000/proof.bin").exists());
    assert!(bundle.join("private/master_secret.hex").exists());
    assert!(bundle.join("private/snapshot/holdings.csv").exists());

    let verified = Command::cargo_bin("zkmargin-verify")
        .unwrap()
        .env("ZKMARGIN_HOME", home())
        .args(["bundle", "--json"])
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
    let report: serde_json::Value = serde_json::from_slice(&verified.stdout).unwrap();
    let checks = report["report"]["checks"].as_array().unwrap();
    for name in [
        "every shard is proved against the instrument table rebuilt from the config and the \
         oracle's medians",
        "ids strictly increase across every shard of every class (one order, class tags)",
        "every shard's SNARK verifies (key rebuilt from its class's shape)",
    ] {
        let check = checks.iter().find(|c| c["name"] == name).expect(name);
        assert_eq!(check["passed"], true, "{check}");
    }
}
