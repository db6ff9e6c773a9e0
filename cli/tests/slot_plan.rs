//! Distributed proving of a slot-table epoch: `zkmargin plan` writes a slot plan, shard jobs
//! (`prove-shard`, any order, repeated) prove every class's shards by their epoch index, and
//! `assemble` writes a bundle that `zkmargin-verify` accepts, with the statement digest
//! `zkmargin check` states. Bad indices, missing or tampered results and an edited private
//! snapshot are refused.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

use common::zkmargin;
use zkmargin_testkit::{home, scratch, venue_snapshot};

fn run(args: &[&str], paths: &[&Path]) -> Output {
    let mut cmd = zkmargin();
    cmd.args(args);
    for p in paths {
        cmd.arg(p);
    }
    cmd.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn prove_shard(plan: &Path, shard: usize) -> Output {
    run(&["prove-shard", "--shard", &shard.to_string()], &[plan])
}

#[test]
fn a_slot_plan_is_proved_shard_by_shard_in_any_order_and_assembles_into_a_valid_bundle() {
    let root = scratch("slot-plan");
    let snapshot = root.join("venue");
    venue_snapshot(&snapshot, 60, 12);
    let plan = root.join("plan");
    let planned = run(&["plan"], &[&snapshot, Path::new("--out"), &plan]);
    assert!(planned.status.success(), "{}", stderr(&planned));
    let manifest: Value =
        serde_json::from_slice(&fs::read(plan.join("plan.json")).unwrap()).unwrap();
    assert_eq!(manifest["format"], "zkmargin-slot-plan/1");
    let shards: usize = manifest["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["shards"].as_u64().unwrap() as usize)
        .sum();
    assert_eq!(
        manifest["shards"], shards,
        "the epoch's count, for job runners"
    );
    assert!(
        manifest["classes"].as_array().unwrap().len() >= 2,
        "the fixture spans classes: {manifest}"
    );

    // An index past the epoch's shards is unusable input, and writes nothing.
    let past = prove_shard(&plan, shards);
    assert_eq!(past.status.code(), Some(2), "{}", stderr(&past));
    assert!(stderr(&past).contains(&format!("shard {shards} is not in this plan")));
    // Nothing proved yet: assemble names every missing shard.
    let early = run(
        &["assemble"],
        &[&plan, Path::new("--out"), &root.join("early")],
    );
    assert_eq!(early.status.code(), Some(1), "{}", stderr(&early));
    assert!(
        stderr(&early).contains("shards not proved yet"),
        "{}",
        stderr(&early)
    );
    assert!(!root.join("early").exists());

    for shard in (0..shards).rev() {
        let proved = prove_shard(&plan, shard);
        assert!(
            proved.status.success(),
            "shard {shard}: {}",
            stderr(&proved)
        );
    }
    let again = prove_shard(&plan, 0);
    assert!(again.status.success());
    assert!(
        stderr(&again).contains("already proved"),
        "{}",
        stderr(&again)
    );

    let bundle = root.join("bundle");
    let assembled = run(&["assemble"], &[&plan, Path::new("--out"), &bundle]);
    assert!(assembled.status.success(), "{}", stderr(&assembled));
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
    let checked = run(&["check", "--json"], &[&snapshot]);
    let check: Value = serde_json::from_slice(&checked.stdout).unwrap();
    let written: Value =
        serde_json::from_slice(&fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(written["statement_digest"], check["statement_digest"]);
    assert!(bundle.join("private/snapshot/holdings.csv").exists());

    // A recorded result that is not its shard's proof is refused by assemble.
    let tampered = root.join("tampered-plan");
    copy_dir(&plan, &tampered);
    let instances = tampered.join("shards/0000/instances.json");
    let mut values: Vec<String> = serde_json::from_slice(&fs::read(&instances).unwrap()).unwrap();
    // The last id claimed as the first's: the same public values otherwise.
    let n = values.len();
    values[n - 1] = values[n - 2].clone();
    fs::write(&instances, serde_json::to_vec(&values).unwrap()).unwrap();
    let bad = run(
        &["assemble"],
        &[&tampered, Path::new("--out"), &root.join("bad")],
    );
    assert_eq!(bad.status.code(), Some(1), "{}", stderr(&bad));
    assert!(
        stderr(&bad).contains("shard 0: its proof does not verify"),
        "{}",
        stderr(&bad)
    );

    // A private snapshot edited after planning no longer prepares into the plan.
    let edited = root.join("edited-plan");
    copy_dir(&plan, &edited);
    fs::remove_dir_all(edited.join("shards/0000")).unwrap();
    let holdings = edited.join("private/snapshot/holdings.csv");
    let text = fs::read_to_string(&holdings).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.pop();
    fs::write(&holdings, lines.join("\n") + "\n").unwrap();
    let refused = prove_shard(&edited, 0);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("does not prepare into this plan"),
        "{}",
        stderr(&refused)
    );
    assert!(!edited.join("shards/0000").exists());

    // A plan.json whose class shape the config does not give, or with no shards, is unusable
    // before any work is sized.
    for (case, edit) in [("a shape", r#""k": 30"#), ("no shards", r#""shards": 0"#)] {
        let hostile = root.join(format!("hostile-{}", case.replace(' ', "-")));
        copy_dir(&plan, &hostile);
        let path = hostile.join("plan.json");
        let mut m: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        let (key, value) = edit.split_once(": ").unwrap();
        let key = key.trim_matches('"');
        let value: Value = serde_json::from_str(value).unwrap();
        if key == "k" {
            m["classes"][0]["shape"]["k"] = value;
        } else {
            m["classes"][0][key] = value;
        }
        fs::write(&path, serde_json::to_vec(&m).unwrap()).unwrap();
        let refused = prove_shard(&hostile, 0);
        assert_eq!(
            refused.status.code(),
            Some(2),
            "{case}: {}",
            stderr(&refused)
        );
        assert!(
            stderr(&refused).contains("plan.json: malformed: class"),
            "{case}: {}",
            stderr(&refused)
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}
