//! Real proofs end to end (small circuits): bundles proved through the operator library, then
//! the verifier library, and every tampering of the threat model (docs/threat-model.md)
//! rejected by the check it targets.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use zkmargin_prover::epoch::Sharding;
use zkmargin_srs::{self as srs, SrsKind};
use zkmargin_testkit::{
    check_bundle, copy_public as copy_dir, dirs, fixture, prove_bundle, target_tmp,
};
use zkmargin_verifier::bundle::{verify_bundle, Report};

const K12: Sharding = Sharding {
    k: Some(12),
    shard_rows: None,
};

/// Proves `snapshot` at k = 12 into `out`, chained to `prev`.
fn prove(snapshot: &Path, out: &Path, prev: Option<&Path>) {
    prove_bundle(snapshot, prev, K12, out);
}

fn verify(bundle: &Path, prev: Option<&Path>, strict: bool) -> Report {
    check_bundle(&dirs().srs, bundle, prev, strict, None)
}

fn failed(r: &Report) -> Vec<String> {
    zkmargin_testkit::failed(&r.checks)
}

const SNARK_CHECK: &str = "every shard's SNARK verifies (key rebuilt from the shape)";
/// What ties the proved shard instances to the bundle's statement.
const SHARDS_CHECK: &str =
    "shards chain (ids strictly increasing, same inputs and oracle) and add up to the statement";

/// The only shard's proof file of a one-shard bundle.
const PROOF: &str = "shards/0000/proof.bin";

fn edit_manifest(bundle: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let path = bundle.join("manifest.json");
    let mut v: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    f(&mut v);
    fs::write(path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

/// Proves the boundary fixture once; tests copy the bundle before tampering.
fn boundary_bundle() -> &'static Path {
    static B: OnceLock<PathBuf> = OnceLock::new();
    B.get_or_init(|| {
        let out = target_tmp().join(format!("boundary-{}", std::process::id()));
        let _ = fs::remove_dir_all(&out);
        prove(&fixture("edge/boundary"), &out, None);
        out
    })
}

/// A copy of the boundary bundle to tamper with, under the target's scratch directory (not
/// the system's /tmp, which a kept temporary directory per test would fill).
fn tampered(name: &str) -> PathBuf {
    let dir = target_tmp()
        .join(format!("tampered-{}", std::process::id()))
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    copy_dir(boundary_bundle(), &dir);
    dir
}

#[test]
fn honest_bundle_verifies_and_keeps_secrets_private() {
    let r = verify(boundary_bundle(), None, false);
    assert!(failed(&r).is_empty(), "{:?}", failed(&r));
    assert!(r.checks.iter().any(|c| c.name == SNARK_CHECK && c.passed));
    assert!(boundary_bundle().join("private/master_secret.hex").exists());
    assert!(fs::read_to_string(boundary_bundle().join("private/README"))
        .unwrap()
        .contains("NEVER publish"));
    // Strict mode: one under-margined account and a development SRS.
    let strict = failed(&verify(boundary_bundle(), None, true));
    assert_eq!(strict.len(), 2, "{strict:?}");
}

#[test]
fn edited_statement_is_rejected_even_with_a_fresh_digest() {
    let b = tampered("edited");
    edit_manifest(&b, |m| m["statement"]["under_margined_accounts"] = 0.into());
    // Recompute the digest so only the proof can object.
    let manifest: zkmargin_layout::manifest::Manifest =
        serde_json::from_slice(&fs::read(b.join("manifest.json")).unwrap()).unwrap();
    let config =
        zkmargin_core::config::Config::parse(&fs::read_to_string(b.join("config.toml")).unwrap())
            .unwrap();
    let digest = hex::encode(
        zkmargin_layout::encoding::statement_digest_under(&config, &manifest.statement).unwrap(),
    );
    edit_manifest(&b, |m| m["statement_digest"] = digest.into());
    // The proved shard instances no longer add up to the statement.
    let f = failed(&verify(&b, None, false));
    assert!(f.contains(&SHARDS_CHECK.to_string()), "{f:?}");
    assert!(!f.contains(&SNARK_CHECK.to_string()), "{f:?}");
    assert!(
        f.contains(&"bundled instances equal the statement's encoding".to_string()),
        "{f:?}"
    );
}

#[test]
fn flipped_proof_byte_is_rejected() {
    let len = fs::read(boundary_bundle().join(PROOF)).unwrap().len();
    for at in [0usize, len / 2, len - 1] {
        let b = tampered(&format!("flip{at}"));
        let mut proof = fs::read(b.join(PROOF)).unwrap();
        proof[at] ^= 1;
        fs::write(b.join(PROOF), proof).unwrap();
        assert_eq!(failed(&verify(&b, None, false)), [SNARK_CHECK], "byte {at}");
    }
}

#[test]
fn swapped_verifying_key_via_another_shape_is_rejected() {
    // Declaring a larger table makes the verifier rebuild another key: the proof fails under it.
    let b = tampered("shape");
    edit_manifest(&b, |m| m["shape"]["rows"] = 32.into());
    assert_eq!(failed(&verify(&b, None, false)), [SNARK_CHECK]);
    // A shape that does not fit the config is refused outright.
    let b = tampered("shape2");
    edit_manifest(&b, |m| m["shape"]["scenarios"] = 1.into());
    assert!(
        failed(&verify(&b, None, false)).contains(&"declared shape fits the config".to_string())
    );
}

#[test]
fn changed_config_is_rejected() {
    let b = tampered("config");
    let text = fs::read_to_string(b.join("config.toml"))
        .unwrap()
        .replace("mmr_bps = 1", "mmr_bps = 2");
    fs::write(b.join("config.toml"), text).unwrap();
    let f = failed(&verify(&b, None, false));
    assert!(
        f.contains(&"config digest matches the bundled config".to_string()),
        "{f:?}"
    );
    assert!(f.contains(&SHARDS_CHECK.to_string()), "{f:?}");
}

#[test]
fn replaced_quote_is_rejected() {
    let b = tampered("quotes");
    fs::write(
        b.join("quotes.csv"),
        "asset,source,price,timestamp\nX,feed,2,100\n",
    )
    .unwrap();
    let f = failed(&verify(&b, None, false));
    assert!(f.iter().any(|n| n.starts_with("oracle re-run")), "{f:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3, ..ProptestConfig::default() })]

    /// The proved statement is the reference engine's statement (the prover refuses to write a
    /// bundle otherwise) and it verifies.
    #[test]
    fn random_small_snapshots_prove_and_verify(seed in 0u64..10_000, accounts in 1u64..14, scenarios in 0usize..3) {
        let dir = tempfile::tempdir().unwrap();
        let snap = dir.path().join("s");
        zkmargin_fixtures::generate(&zkmargin_fixtures::GeneratorOptions { accounts, seed, scenarios, ..Default::default() }, &snap).unwrap();
        let out = dir.path().join("b");
        prove(&snap, &out, None);
        let r = verify(&out, None, false);
        prop_assert!(failed(&r).is_empty(), "{:?}", failed(&r));
        let engine = zkmargin_core::engine::evaluate(&zkmargin_core::engine::Snapshot::load(&snap).unwrap(), [0; 32]).unwrap();
        let zkmargin_core::engine::Outcome::Evaluated(e) = engine else { panic!("halted") };
        prop_assert_eq!(r.statement, e.statement);
    }
}

#[test]
fn swapped_account_table_commitment_is_rejected() {
    let b = tampered("commitment");
    edit_manifest(&b, |m| {
        let list = m["shards"][0]["account_table_commitment"]
            .as_array_mut()
            .unwrap();
        assert!(!list.is_empty());
        let last = list.len() - 1;
        list.swap(0, last);
        if list.len() == 1 {
            list[0] = serde_json::Value::String("00".repeat(64));
        }
    });
    let r = verify(&b, None, false);
    let snark = r.checks.iter().find(|c| c.name.contains("SNARK")).unwrap();
    assert!(
        !snark.passed && snark.detail.contains("account-table commitment"),
        "{snark:?}"
    );
}

#[test]
fn manifest_naming_other_data_columns_is_rejected() {
    let b = tampered("data-columns");
    edit_manifest(&b, |m| {
        let list = m["account_data_columns"].as_array_mut().unwrap();
        assert!(list.len() > 1);
        list.swap(0, 1);
    });
    let r = verify(&b, None, false);
    let snark = r.checks.iter().find(|c| c.name.contains("SNARK")).unwrap();
    assert!(
        !snark.passed && snark.detail.contains("account data columns"),
        "{snark:?}"
    );
}

#[test]
fn verifier_key_cache_pins_rebuilt_keys_and_still_checks_proofs() {
    let cache = tempfile::tempdir().unwrap();
    let snark = |bundle: &Path| {
        let r = check_bundle(&dirs().srs, bundle, None, false, Some(cache.path()));
        r.checks
            .into_iter()
            .find(|c| c.name.contains("SNARK"))
            .unwrap()
    };
    let first = snark(boundary_bundle());
    assert!(
        first.passed && first.detail.contains("key rebuilt"),
        "{first:?}"
    );
    let second = snark(boundary_bundle());
    assert!(
        second.passed && second.detail.contains("own cache"),
        "{second:?}"
    );
    let b = tampered("cached-flip");
    let mut proof = fs::read(b.join(PROOF)).unwrap();
    let mid = proof.len() / 2;
    proof[mid] ^= 1;
    fs::write(b.join(PROOF), proof).unwrap();
    assert!(!snark(&b).passed, "a cached key does not skip verification");
}

#[test]
fn a_venue_without_accounts_still_proves_a_statement() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("s");
    copy_dir(&fixture("edge/boundary"), &snap);
    fs::write(
        snap.join("accounts.csv"),
        "account,X,X-PERP.size,X-PERP.cost\n",
    )
    .unwrap();
    let out = dir.path().join("b");
    prove(&snap, &out, None);
    let r = verify(&out, None, true);
    assert_eq!(
        failed(&r),
        ["trusted setup (a real ceremony is required with --strict)"]
    );
    assert_eq!(r.statement.total_equity, 0);
}

#[test]
fn liabilities_only_configuration_proves() {
    // docs/semantics.md: no markets, no scenarios, a plain per-asset liabilities proof.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b");
    prove(&fixture("edge/liabilities-only"), &out, None);
    let r = verify(&out, None, false);
    assert_eq!(
        failed(&r),
        ["reserves cover liabilities in ETH"],
        "only the fixture's deliberate one-unit gap"
    );
    assert_eq!(r.statement.assets[1].liabilities, 100_500_000_001);
}

#[test]
fn hostile_statement_values_fail_cleanly() {
    // Out-of-field totals and an impossible fine exponent: the verifier reports, never panics.
    let b = tampered("hostile");
    edit_manifest(&b, |m| {
        m["statement"]["total_equity"] =
            "57896044618658097711785492504343953926634992332820282019728792003956564819967".into();
        m["statement"]["fine_exponent"] = 0.into();
    });
    let f = failed(&verify(&b, None, false));
    assert!(
        f.contains(&"bundled instances equal the statement's encoding".to_string()),
        "{f:?}"
    );
    assert!(
        f.contains(&"statement agrees with the config".to_string()),
        "{f:?}"
    );
}

#[test]
fn absurd_declared_sizes_are_refused_before_any_work() {
    for (k, rows) in [(0u32, 16u64), (60, 16), (12, 1 << 40), (12, 17)] {
        let b = tampered(&format!("size-{k}-{rows}"));
        edit_manifest(&b, |m| {
            m["shape"]["k"] = k.into();
            m["srs"]["k"] = k.into();
            m["shape"]["rows"] = rows.into();
        });
        let f = failed(&verify(&b, None, false));
        assert!(
            f.contains(&"declared shape fits the config".to_string()),
            "k {k}, rows {rows}: {f:?}"
        );
    }
    // An SRS size other than the shape's is no manifest at all.
    let b = tampered("srs-k");
    edit_manifest(&b, |m| m["srs"]["k"] = 13.into());
    assert!(unusable(&b).contains("srs.k = 13 is not the shape's k = 12"));
}

/// `verify_bundle` on a bundle that cannot be checked at all: the error message.
fn unusable(bundle: &Path) -> String {
    let dir = &dirs().srs;
    let load = |label: &str, k: u32| {
        srs::load(dir, SrsKind::from_label(label).unwrap(), k).map_err(|e| e.to_string())
    };
    match verify_bundle(bundle, None, false, None, &load) {
        Ok(r) => panic!("usable: {:?}", failed(&r)),
        Err(e) => e.to_string(),
    }
}

#[test]
fn malformed_bundle_files_are_unusable_with_a_clear_reason() {
    let cases: [(&str, &str, &[u8], &str); 5] = [
        (
            "manifest",
            "manifest.json",
            b"{ not json",
            "manifest.json: malformed",
        ),
        (
            "instances",
            "instances.json",
            b"[\"zz\"]",
            "instances.json: malformed: `zz` is not a field element",
        ),
        (
            "config",
            "config.toml",
            b"epoch = \xff",
            "config.toml: malformed: not UTF-8",
        ),
        (
            "quotes",
            "quotes.csv",
            b"asset,source,price,timestamp\nX,feed,1e3,100\n",
            "bundled quotes.csv: quotes.csv:2: price",
        ),
        (
            "toml",
            "config.toml",
            b"epoch = = 1",
            "bundled config.toml: config.toml:1",
        ),
    ];
    for (name, file, bytes, reason) in cases {
        let b = tampered(&format!("malformed-{name}"));
        fs::write(b.join(file), bytes).unwrap();
        let message = unusable(&b);
        assert!(message.contains(reason), "{name}: {message}");
    }
    let b = tampered("version");
    edit_manifest(&b, |m| m["format_version"] = 99.into());
    assert!(unusable(&b).contains("format version 99"));
    let b = tampered("no-proof");
    fs::remove_file(b.join(PROOF)).unwrap();
    assert!(unusable(&b).contains(PROOF));
}
