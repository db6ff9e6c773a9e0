//! `zkmargin calldata`, `export-verifier` and `aggregate` as commands: the printed calldata
//! decodes to the bundle's statement and proof, and unusable bundles or aggregated files exit 2
//! with nothing written.

use std::fs;

use alloy_sol_types::SolCall;
use assert_cmd::Command;
use zkmargin_evm::registry::direct_proof;
use zkmargin_evm::registry::EpochRegistry;
use zkmargin_prover::epoch::Sharding;
use zkmargin_testkit::{prove_bundle, scratch};

struct Setup {
    first: zkmargin_bundle::Bundle,
    contracts: std::path::PathBuf,
}

/// The insolvent fixture proved at k = 12 into `b1` of a scratch directory.
fn setup() -> Setup {
    let dir = scratch("calldata");
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/edge/insolvent");
    let sharding = Sharding {
        k: Some(12),
        shard_rows: None,
    };
    let first = prove_bundle(&fixture, None, sharding, &dir.join("b1"));
    Setup {
        first,
        contracts: dir.join("contracts"),
    }
}

/// `zkmargin calldata`: the bundle's calldata decodes to its statement and proof; a malformed
/// aggregated file, or one made for another epoch, is unusable input (exit 2).
#[test]
fn calldata_encodes_the_bundle_and_foreign_files_are_refused() {
    let setup = setup();
    let dir = setup.contracts.parent().unwrap();
    let run = |args: &[&str]| {
        Command::cargo_bin("zkmargin")
            .unwrap()
            .arg("calldata")
            .args(args)
            .output()
            .unwrap()
    };
    let b1 = dir.join("b1");
    let b1 = b1.to_str().unwrap();
    let out = run(&[b1]);
    assert!(out.status.success());
    let hex_data = String::from_utf8(out.stdout).unwrap();
    let call = EpochRegistry::submitEpochCall::abi_decode(
        &hex::decode(hex_data.trim().trim_start_matches("0x")).unwrap(),
    )
    .unwrap();
    assert_eq!(call.statement.len(), setup.first.instances.len());
    assert_eq!(call.proof.to_vec(), direct_proof(&setup.first).unwrap());
    assert!(call.proof.ends_with(&setup.first.shards[0].proof));

    let acc: Vec<zkmargin_layout::Fr> = (0..12u64).map(zkmargin_layout::Fr::from).collect();
    let foreign = zkmargin_evm::aggregated::AggregatedFile::new(&[9; 32], &acc, &[1]);
    let path = dir.join("foreign.json");
    fs::write(&path, serde_json::to_vec(&foreign).unwrap()).unwrap();
    let out = run(&[b1, "--aggregated", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("another epoch"));
    fs::write(&path, b"{").unwrap();
    let out = run(&[b1, "--aggregated", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let out = run(&[dir.join("missing").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    for command in ["export-verifier", "aggregate"] {
        let out = Command::cargo_bin("zkmargin")
            .unwrap()
            .args([command, dir.join("missing").to_str().unwrap(), "--out"])
            .arg(dir.join("unused"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{command}");
        assert!(!dir.join("unused").exists());
    }
}
