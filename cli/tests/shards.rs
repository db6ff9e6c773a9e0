//! Sharded epochs end to end: `zkmargin plan`, `scripts/run-shards.sh` (xargs -P over
//! `zkmargin prove-shard`), `zkmargin assemble`; a shard job killed midway and rerun; bundles
//! with a shard dropped, duplicated, reordered or taken from another table rejected by the
//! verifier; and inclusion proofs that name their shard.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use assert_cmd::cargo::CommandCargoExt;
use common::zkmargin;
use zkmargin_fixtures::{generate, GeneratorOptions};
use zkmargin_srs::{self as srs, SrsKind};
use zkmargin_testkit::home;
use zkmargin_verifier::bundle::{verify_bundle, Report};

/// The verifier's check that the shards combine into the statement.
const SHARDS_CHECK: &str =
    "shards chain (ids strictly increasing, same inputs and oracle) and add up to the statement";

fn run(args: &[&dyn AsRef<std::ffi::OsStr>]) -> std::process::Output {
    zkmargin()
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .unwrap()
}

fn ok(out: std::process::Output) -> std::process::Output {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn work() -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("shards-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// 100 accounts, 2 assets, 1 market, 1 scenario.
fn snapshot() -> &'static Path {
    static S: OnceLock<PathBuf> = OnceLock::new();
    S.get_or_init(|| {
        let out = work().join("snapshot");
        let _ = fs::remove_dir_all(&out);
        let options = GeneratorOptions {
            accounts: 100,
            seed: 11,
            assets: 2,
            markets: 1,
            scenarios: 1,
            sources: 3,
            ..Default::default()
        };
        generate(&options, &out).unwrap();
        out
    })
}

/// `zkmargin plan --shard-k 5 --k 12`: 100 accounts in 4 shards of 32 rows.
fn plan(out: &Path) {
    let _ = fs::remove_dir_all(out);
    ok(run(&[
        &"plan",
        &snapshot(),
        &"--shard-k",
        &"5",
        &"--k",
        &"12",
        &"--out",
        &out,
    ]));
}

/// `scripts/run-shards.sh PLAN 2` with this test's binary.
fn run_shards(plan: &Path) -> std::process::Output {
    std::process::Command::new(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/run-shards.sh"),
    )
    .arg(plan)
    .arg("2")
    .env("ZKMARGIN", assert_cmd::cargo::cargo_bin("zkmargin"))
    .env("ZKMARGIN_HOME", home())
    .output()
    .unwrap()
}

fn verify(bundle: &Path) -> Report {
    let dir = home().join("srs");
    let load = |label: &str, k: u32| {
        srs::load(&dir, SrsKind::from_label(label).unwrap(), k).map_err(|e| e.to_string())
    };
    verify_bundle(bundle, None, false, None, &load).expect("bundle is usable")
}

fn failed(r: &Report) -> Vec<String> {
    r.checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.clone())
        .collect()
}

/// The distributed bundle of the 100-account snapshot, assembled once.
fn sharded_bundle() -> &'static Path {
    static B: OnceLock<PathBuf> = OnceLock::new();
    B.get_or_init(|| {
        let dir = work();
        let p = dir.join("plan");
        plan(&p);
        let shards = ok(run_shards(&p));
        assert!(String::from_utf8_lossy(&shards.stderr).contains("all 4 shards"));
        let b = dir.join("b1");
        let _ = fs::remove_dir_all(&b);
        ok(run(&[&"assemble", &p, &"--out", &b]));
        b
    })
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()));
        } else {
            fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn distributed_bundle_verifies_and_a_killed_shard_job_resumes_to_the_same_statement() {
    let b1 = sharded_bundle();
    let r = verify(b1);
    assert!(r.passed(), "{:?}", failed(&r));
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(b1.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["shards"].as_array().unwrap().len(), 4);
    assert_eq!(manifest["shape"]["rows"], 32);

    // A second plan of the same snapshot, fully proved; then shard 2's proof is lost and its
    // job killed midway.
    let dir = work();
    let p = dir.join("plan-kill");
    plan(&p);
    ok(run_shards(&p));
    let a = dir.join("a1");
    let _ = fs::remove_dir_all(&a);
    ok(run(&[&"assemble", &p, &"--out", &a]));
    let result = p.join("shards/0002/proof.json");
    fs::remove_file(&result).unwrap();
    let mut job = zkmargin()
        .args(["prove-shard"])
        .arg(&p)
        .args(["--shard", "2"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    job.kill().unwrap();
    job.wait().unwrap();
    assert!(!result.exists(), "a killed job left a result behind");

    // Assembling now names the missing shard.
    let a2 = dir.join("a2");
    let _ = fs::remove_dir_all(&a2);
    let missing = run(&[&"assemble", &p, &"--out", &a2]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not proved yet: [2]"));
    assert!(!a2.exists());

    // Rerunning every job proves shard 2 only, and the bundle states exactly the same epoch.
    let rerun = ok(run_shards(&p));
    assert_eq!(
        String::from_utf8_lossy(&rerun.stderr)
            .matches("already proved")
            .count(),
        3
    );
    ok(run(&[&"assemble", &p, &"--out", &a2]));
    for file in [
        "manifest.json",
        "instances.json",
        "shards/0000/proof.bin",
        "shards/0001/proof.bin",
        "shards/0003/proof.bin",
        "shards/0002/instances.json",
    ] {
        assert_eq!(
            fs::read(a.join(file)).unwrap(),
            fs::read(a2.join(file)).unwrap(),
            "{file} changed"
        );
    }
    let r = verify(&a2);
    assert!(r.passed(), "{:?}", failed(&r));
    // A bad shard index is unusable input; assembling over an existing bundle too.
    assert_eq!(
        run(&[&"prove-shard", &p, &"--shard", &"4"]).status.code(),
        Some(2)
    );
    assert_eq!(
        run(&[&"assemble", &p, &"--out", &a2]).status.code(),
        Some(2)
    );
}

/// Rewrites a bundle's shard list: `order[i]` is the original shard now at position `i`
/// (files from `from`, manifest entries too).
fn rearrange(bundle: &Path, from: &Path, order: &[usize], out: &Path) {
    let _ = fs::remove_dir_all(out);
    copy_tree(bundle, out);
    fs::remove_dir_all(out.join("shards")).unwrap();
    let src: serde_json::Value =
        serde_json::from_slice(&fs::read(from.join("manifest.json")).unwrap()).unwrap();
    let path = out.join("manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    let mut entries = Vec::new();
    for (i, &s) in order.iter().enumerate() {
        copy_tree(
            &from.join(format!("shards/{s:04}")),
            &out.join(format!("shards/{i:04}")),
        );
        entries.push(src["shards"][s].clone());
    }
    m["shards"] = serde_json::Value::Array(entries);
    fs::write(path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
}

#[test]
fn dropped_duplicated_reordered_or_foreign_shards_are_rejected() {
    let b = sharded_bundle();
    let dir = work();
    let out = dir.join("tampered");
    // The same rearrangement of the honest shards is accepted (the harness itself is sound).
    rearrange(b, b, &[0, 1, 2, 3], &out);
    let r = verify(&out);
    assert!(r.passed(), "{:?}", failed(&r));
    for (what, order) in [
        ("the last shard dropped", &[0, 1, 2][..]),
        ("a middle shard dropped", &[0, 1, 3]),
        ("a shard duplicated", &[0, 1, 1, 2, 3]),
        ("a shard replacing its neighbour", &[0, 1, 1, 3]),
        ("two shards swapped", &[0, 2, 1, 3]),
    ] {
        rearrange(b, b, order, &out);
        let r = verify(&out);
        // Every shard's SNARK still verifies: only the combination check objects.
        assert_eq!(failed(&r), vec![SHARDS_CHECK.to_string()], "{what}");
    }

    // A shard of another table of the same epoch (another plan: other salts, other ids).
    let p = dir.join("plan-foreign");
    plan(&p);
    ok(run(&[&"prove-shard", &p, &"--shard", &"1"]));
    let foreign = dir.join("foreign-bundle");
    let _ = fs::remove_dir_all(&foreign);
    fs::create_dir_all(foreign.join("shards/0001")).unwrap();
    let result: serde_json::Value =
        serde_json::from_slice(&fs::read(p.join("shards/0001/proof.json")).unwrap()).unwrap();
    fs::write(
        foreign.join("shards/0001/proof.bin"),
        hex::decode(result["proof"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    fs::write(
        foreign.join("shards/0001/instances.json"),
        serde_json::to_vec(&result["instances"]).unwrap(),
    )
    .unwrap();
    let mut m: serde_json::Value =
        serde_json::from_slice(&fs::read(b.join("manifest.json")).unwrap()).unwrap();
    m["shards"][1]["account_table_commitment"] = result["account_table_commitment"].clone();
    fs::write(
        foreign.join("manifest.json"),
        serde_json::to_vec(&m).unwrap(),
    )
    .unwrap();
    rearrange(b, b, &[0, 1, 2, 3], &out);
    copy_tree(&foreign.join("shards/0001"), &out.join("shards/0001"));
    fs::copy(foreign.join("manifest.json"), out.join("manifest.json")).unwrap();
    let r = verify(&out);
    assert_eq!(failed(&r), vec![SHARDS_CHECK.to_string()], "foreign shard");
}

#[test]
fn inclusion_proofs_name_their_shard() {
    let b = sharded_bundle();
    let dir = work();
    // The fixture's accounts are `acct-000000000`…; find one outside shard 0.
    let file = dir.join("inclusion.json");
    let mut found = None;
    for i in 0..100 {
        let who = format!("acct-{i:09}");
        ok(run(&[
            &"inclusion",
            &b,
            &"--account",
            &who,
            &"--out",
            &file,
        ]));
        let v: serde_json::Value = serde_json::from_slice(&fs::read(&file).unwrap()).unwrap();
        if v["shard"].as_u64().unwrap() > 0 {
            found = Some((who, v));
            break;
        }
    }
    let (who, v) = found.expect("an account outside shard 0");
    let check = |path: &Path| {
        std::process::Command::cargo_bin("zkmargin-verify")
            .unwrap()
            .env("ZKMARGIN_HOME", home())
            .arg("inclusion")
            .arg(b)
            .arg(path)
            .args(["--identifier", &who])
            .output()
            .unwrap()
    };
    let good = check(&file);
    assert_eq!(
        good.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&good.stdout)
    );
    // The same file claiming another shard opens against the wrong commitment.
    let shard = v["shard"].as_u64().unwrap();
    let mut moved = v.clone();
    moved["shard"] = (shard - 1).into();
    let path = dir.join("moved.json");
    fs::write(&path, serde_json::to_vec(&moved).unwrap()).unwrap();
    assert_eq!(check(&path).status.code(), Some(1));
    // A shard the epoch does not have is unusable input.
    moved["shard"] = 9.into();
    fs::write(&path, serde_json::to_vec(&moved).unwrap()).unwrap();
    assert_eq!(check(&path).status.code(), Some(2));
}

#[test]
fn malformed_plans_are_unusable_input() {
    sharded_bundle();
    let dir = work();
    let honest = dir.join("plan");
    let code = |args: &[&dyn AsRef<std::ffi::OsStr>]| run(args).status.code();
    let case = |what: &str, edit: &dyn Fn(&Path)| {
        let p = dir.join(format!("malformed-{what}"));
        let _ = fs::remove_dir_all(&p);
        copy_tree(&honest, &p);
        edit(&p);
        p
    };
    let out = dir.join("never-written");

    let p = case("plan-json", &|p| {
        fs::write(p.join("plan.json"), "{").unwrap()
    });
    assert_eq!(code(&[&"prove-shard", &p, &"--shard", &"0"]), Some(2));
    assert_eq!(code(&[&"assemble", &p, &"--out", &out]), Some(2));
    let p = case("format", &|p| {
        let path = p.join("plan.json");
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, text.replace("zkmargin-plan/1", "zkmargin-plan/0")).unwrap();
    });
    assert_eq!(code(&[&"prove-shard", &p, &"--shard", &"0"]), Some(2));
    let p = case("accounts", &|p| {
        fs::remove_file(p.join("shards/0001/proof.json")).unwrap();
        fs::write(p.join("shards/0001/accounts.json"), "[{\"identifier\": 7}]").unwrap();
    });
    let o = run(&[&"prove-shard", &p, &"--shard", &"1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("accounts.json"));
    let p = case("result-shard", &|p| {
        let path = p.join("shards/0001/proof.json");
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, text.replace("\"shard\":1", "\"shard\":0")).unwrap();
    });
    let o = run(&[&"assemble", &p, &"--out", &out]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("names shard 0"));
    let p = case("result-json", &|p| {
        fs::write(p.join("shards/0002/proof.json"), "not json").unwrap()
    });
    assert_eq!(code(&[&"assemble", &p, &"--out", &out]), Some(2));
    assert!(!out.exists());
}
