//! `zkmargin prove` and `zkmargin keys` as commands: exit codes and messages (a halt, unusable
//! input, a corrupt SRS), the warning on a link the verifier rejects, the proving-key cache and
//! its pruning.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use zkmargin_testkit::{check_bundle, copy_public as copy_dir, fixture, home};
use zkmargin_verifier::bundle::Report;

/// `zkmargin prove --k 12` with `$ZKMARGIN_HOME = home`.
fn prove_in(home: &Path, snapshot: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    Command::cargo_bin("zkmargin")
        .unwrap()
        .env("ZKMARGIN_HOME", home)
        .arg("prove")
        .arg(snapshot)
        .arg("--out")
        .arg(out)
        .args(["--k", "12"])
        .args(extra)
        .output()
        .unwrap()
}

fn prove(snapshot: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    prove_in(home(), snapshot, out, extra)
}

fn verify_in(home: &Path, bundle: &Path, prev: Option<&Path>, strict: bool) -> Report {
    check_bundle(&home.join("srs"), bundle, prev, strict, None)
}

fn verify(bundle: &Path, prev: Option<&Path>, strict: bool) -> Report {
    verify_in(home(), bundle, prev, strict)
}

fn failed(r: &Report) -> Vec<String> {
    zkmargin_testkit::failed(&r.checks)
}

#[test]
fn epochs_chain_and_a_wrong_or_skipped_predecessor_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let snap1 = dir.path().join("s1");
    let snap2 = dir.path().join("s2");
    let snap4 = dir.path().join("s4");
    for (snap, epoch) in [(&snap1, 1), (&snap2, 2), (&snap4, 4)] {
        copy_dir(&fixture("edge/boundary"), snap);
        let text = fs::read_to_string(snap.join("config.toml"))
            .unwrap()
            .replace("epoch = 1", &format!("epoch = {epoch}"));
        fs::write(snap.join("config.toml"), text).unwrap();
    }
    let (b1, b2, b4) = (
        dir.path().join("b1"),
        dir.path().join("b2"),
        dir.path().join("b4"),
    );
    assert!(prove(&snap1, &b1, &[]).status.success());
    assert!(prove(&snap2, &b2, &["--prev", b1.to_str().unwrap()])
        .status
        .success());
    assert!(failed(&verify(&b2, Some(&b1), false)).is_empty());
    // Epoch 4 chained to epoch 2 skips epoch 3.
    let o = prove(&snap4, &b4, &["--prev", b2.to_str().unwrap()]);
    assert!(o.status.success());
    // The prover warns about the link the verifier will reject.
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("warning: --prev: epoch follows the previous one: epoch 4 after epoch 2"),
        "{stderr}"
    );
    assert_eq!(
        failed(&verify(&b4, Some(&b2), false)),
        ["epoch follows the previous one"]
    );
    // Epoch 2 against the wrong predecessor (itself): replay.
    let f = failed(&verify(&b2, Some(&b2), false));
    assert!(
        f.contains(&"chains to the previous epoch".to_string())
            && f.contains(&"epoch follows the previous one".to_string()),
        "{f:?}"
    );
}

#[test]
fn halted_epoch_produces_no_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b");
    let o = prove(&fixture("edge/halt-stale"), &out, &[]);
    assert_eq!(o.status.code(), Some(3));
    assert!(!out.exists());
    let report: serde_json::Value =
        serde_json::from_slice(&fs::read(out.with_extension("halt.json")).unwrap()).unwrap();
    assert_eq!(report["halt"]["halted"][0]["symbol"], "BTC");
    assert!(String::from_utf8_lossy(&o.stdout).contains("HALTED"));
}

/// Proves the boundary fixture into `home/out` with `home` as `$ZKMARGIN_HOME`; whether the
/// proving key came from the cache.
fn prove_boundary_in(home: &Path, out: &str) -> bool {
    let o = prove_in(home, &fixture("edge/boundary"), &home.join(out), &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stderr).contains("proving key from the cache")
}

#[test]
fn proving_keys_are_cached_per_shape_and_a_corrupt_cache_is_regenerated() {
    let home = tempfile::tempdir().unwrap();
    let run = |out: &str| prove_boundary_in(home.path(), out);
    let verify_in_home =
        |out: &str| verify_in(home.path(), &home.path().join(out), None, false).passed();
    assert!(!run("a"), "first run generates the key");
    assert!(run("b"), "second run reads it");
    assert!(verify_in_home("b"));
    let keys = home.path().join("keys");
    for e in fs::read_dir(&keys).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "pk") {
            fs::write(&p, b"garbage").unwrap();
        }
    }
    assert!(!run("c"), "a corrupt key is regenerated");
    assert!(verify_in_home("c"));
}

/// Sets every file's modification time in `dir` to `days` ago.
fn age_files(dir: &Path, days: u64) {
    let then = std::time::SystemTime::now() - std::time::Duration::from_secs(days * 86_400);
    for e in fs::read_dir(dir).unwrap() {
        fs::File::options()
            .write(true)
            .open(e.unwrap().path())
            .unwrap()
            .set_modified(then)
            .unwrap();
    }
}

#[test]
fn zkmargin_keys_prunes_only_the_keys_not_used_lately() {
    let home = tempfile::tempdir().unwrap();
    let keys = home.path().join("keys");
    let run = |out: &str| prove_boundary_in(home.path(), out);
    let keys_cmd = |extra: &[&str]| {
        let o = Command::cargo_bin("zkmargin")
            .unwrap()
            .env("ZKMARGIN_HOME", home.path())
            .arg("keys")
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    assert!(!run("a"));
    // Another code version's key, and this one's, both untouched for 40 days; reading this
    // one's key marks it used again.
    fs::write(keys.join("0123456789abcdef.pk"), b"an old key").unwrap();
    fs::write(keys.join("0123456789abcdef.layout.json"), b"{}").unwrap();
    age_files(&keys, 40);
    assert!(run("b"), "the aged key still serves");
    let listed = keys_cmd(&[]);
    assert!(listed.contains("2 entries"), "{listed}");
    let pruned = keys_cmd(&["--prune-unused-for", "30d"]);
    assert!(
        pruned.contains("removed 0123456789abcdef") && pruned.contains("removed 1 entry"),
        "{pruned}"
    );
    assert!(pruned.contains("1 entry,"), "{pruned}");
    assert!(!keys.join("0123456789abcdef.pk").exists());
    assert!(run("c"), "the key in use was kept");
}

#[test]
fn prove_refuses_unusable_input_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("s");
    copy_dir(&fixture("edge/boundary"), &snap);
    fs::write(
        snap.join("accounts.csv"),
        "account,X,X-PERP.size,X-PERP.cost\nalice,-1,0,0\n",
    )
    .unwrap();
    let o = prove(&snap, &dir.path().join("b"), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("accounts.csv:2: X: "));
    assert!(!dir.path().join("b").exists(), "no partial bundle");
    let o = prove(
        &fixture("edge/boundary"),
        &dir.path().join("b"),
        &["--prev", "/nonexistent/bundle"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--prev"));
    let existing = dir.path().join("existing");
    fs::create_dir_all(&existing).unwrap();
    let o = prove(&fixture("edge/boundary"), &existing, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("already exists"));
}

#[test]
fn corrupt_srs_file_is_an_error_not_a_wrong_proof() {
    let home = tempfile::tempdir().unwrap();
    fs::create_dir_all(home.path().join("srs")).unwrap();
    fs::write(home.path().join("srs/dev-k12.srs"), b"not parameters").unwrap();
    let o = prove_in(
        home.path(),
        &fixture("edge/boundary"),
        &home.path().join("b"),
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("dev-k12.srs"));
}
