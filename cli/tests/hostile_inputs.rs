//! The verifiers trust nothing they read. A corpus of hostile manifests, inclusion files,
//! proofs and predecessors (every field of each at and past its bounds, lists emptied,
//! shortened and duplicated, non-canonical field elements and points) run against
//! `zkmargin-verify` and against the web page's entry point natively: each is a clear error
//! (exit 1 with the failed checks or exit 2 with a reason; never a panic or an abort) and none
//! makes the verifier do work a file asks for (no SRS or verifying key for a bogus shape is
//! made or cached). Then the epoch chain: every field of the previous bundle edited, its
//! instances, its epoch (to hide a gap) and another venue's bundle, each rejected with a reason
//! naming the previous bundle. And the warning state of an epoch proved under the development
//! SRS.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use assert_cmd::Command;
use proptest::prelude::*;
use serde_json::Value;
use zkmargin_fixtures::hostile::{self, mutate_json, node_mut, paths, show, variants};
use zkmargin_srs::{self as srs, SrsKind};
use zkmargin_verifier::bundle::{verify_bundle, Report, UnusableBundle};
use zkmargin_web::{epoch_paths_of, srs_paths_of, verify_page, EpochFiles};

struct Setup {
    root: PathBuf,
    home: PathBuf,
    /// Epoch 1; epoch 2 chained to it; epoch 3 chained to epoch 1 (a gap); epoch 1 of another
    /// venue (another maintenance rate, so another config digest).
    e1: PathBuf,
    e2: PathBuf,
    e3: PathBuf,
    foreign: PathBuf,
    snap2: PathBuf,
    identifier: String,
    /// Epoch 1's inclusion file for `identifier`.
    file: Vec<u8>,
    /// The page's files of epoch 1 (as an archive would publish them).
    g1: Vec<u8>,
    g2: Vec<u8>,
}

fn zkmargin(home: &Path) -> Command {
    let mut c = Command::cargo_bin("zkmargin").unwrap();
    c.env("ZKMARGIN_HOME", home)
        .env_remove("ZKMARGIN_FAILPOINT");
    c
}

fn setup() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| {
        let root = zkmargin_testkit::scratch("hostile");
        let home = root.join("home");
        let snap = |epoch: u64| {
            let dir = root.join(format!("snap{epoch}"));
            zkmargin_testkit::margined_snapshot(&dir, 12, epoch, 7);
            dir
        };
        let (snap1, snap2, snap3) = (snap(1), snap(2), snap(3));
        let foreign_snap = root.join("foreign-snap");
        zkmargin_testkit::margined_snapshot(&foreign_snap, 12, 1, 7);
        let config = fs::read_to_string(foreign_snap.join("config.toml")).unwrap();
        let other = config.replacen("mmr_bps = ", "mmr_bps = 1", 1);
        assert_ne!(config, other);
        fs::write(foreign_snap.join("config.toml"), other).unwrap();

        let prove = |snap: &Path, out: &str, prev: Option<&Path>| {
            let out = root.join(out);
            let mut c = zkmargin(&home);
            c.arg("prove").arg(snap).arg("--out").arg(&out);
            c.args(["--k", "12"]);
            if let Some(p) = prev {
                c.arg("--prev").arg(p);
            }
            c.assert().success();
            out
        };
        let e1 = prove(&snap1, "e1", None);
        let e2 = prove(&snap2, "e2", Some(&e1));
        let e3 = prove(&snap3, "e3", Some(&e1));
        let foreign = prove(&foreign_snap, "foreign", None);

        let identifier = zkmargin_testkit::first_identifier(&snap1);
        let path = root.join("file.json");
        zkmargin(&home)
            .arg("inclusion")
            .arg(&e1)
            .args(["--account", &identifier, "--out"])
            .arg(&path)
            .assert()
            .success();
        let file = fs::read(&path).unwrap();
        // The page's SRS powers, as `zkmargin epoch` publishes them.
        let manifest: zkmargin_layout::manifest::Manifest =
            serde_json::from_slice(&fs::read(e1.join("manifest.json")).unwrap()).unwrap();
        let (g1, g2) = zkmargin_prover::inclusion::page_powers(
            &manifest.srs.source,
            manifest.shape.k,
            &home.join("srs"),
        )
        .expect("SRS powers");
        Setup {
            root,
            home,
            e1,
            e2,
            e3,
            foreign,
            snap2,
            identifier,
            file,
            g1,
            g2,
        }
    })
}

/// A fresh copy of bundle `from` (public part) under the scratch directory.
fn copy_of(from: &Path, name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let to = setup()
        .root
        .join("copies")
        .join(format!("{name}-{}", N.fetch_add(1, Ordering::Relaxed)));
    copy_tree(from, &to);
    to
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            if e.file_name() != "private" {
                copy_tree(&e.path(), &to.join(e.file_name()));
            }
        } else {
            fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

fn write_json(path: &Path, v: &Value) {
    fs::write(path, serde_json::to_vec_pretty(v).unwrap()).unwrap();
}

/// What a `zkmargin-verify` run ended with.
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

fn verify_cli(args: &[&std::ffi::OsStr]) -> Outcome {
    let out = Command::cargo_bin("zkmargin-verify")
        .unwrap()
        .env("ZKMARGIN_HOME", &setup().home)
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `zkmargin-verify inclusion BUNDLE FILE --identifier <the holder's> --json`.
fn holder_check(bundle: &Path, file: &Path) -> Outcome {
    verify_cli(&[
        "inclusion".as_ref(),
        bundle.as_os_str(),
        file.as_os_str(),
        "--identifier".as_ref(),
        setup().identifier.as_ref(),
        "--json".as_ref(),
    ])
}

/// A `--json` run that refused its input clearly: exit 1 with status `invalid` and a failed
/// check, or exit 2 with status `error` and one `error: …` line; never a panic or a signal.
fn assert_refused(o: &Outcome, what: &str) {
    assert!(
        !o.stderr.contains("panicked") && !o.stderr.contains("RUST_BACKTRACE"),
        "{what}: panicked: {}",
        o.stderr
    );
    let v: Value = serde_json::from_str(&o.stdout)
        .unwrap_or_else(|_| panic!("{what}: exit {}, stdout not JSON: {}", o.code, o.stdout));
    match o.code {
        1 => {
            assert_eq!(v["status"], "invalid", "{what}");
            let failed = v["report"]["checks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["passed"] == false);
            assert!(failed, "{what}: exit 1 without a failed check");
        }
        2 => {
            assert_eq!(v["status"], "error", "{what}");
            assert!(
                o.stderr
                    .lines()
                    .any(|l| l.starts_with("error: ") && l.len() > 8),
                "{what}: no reason: {}",
                o.stderr
            );
        }
        code => panic!("{what}: exit {code}: {}{}", o.stdout, o.stderr),
    }
}

/// At most `n` of `all`, spread evenly (so each node's corpus covers its range).
fn spread<T: Clone>(all: &[T], n: usize) -> Vec<T> {
    if all.len() <= n {
        return all.to_vec();
    }
    (0..n).map(|i| all[i * all.len() / n].clone()).collect()
}

/// Runs `cases` on two threads.
fn in_parallel<T: Sync>(cases: &[T], run: impl Fn(&T) + Sync) {
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                run(case);
            });
        }
    });
}

/// The page's verdict on a manifest and an inclusion file (epoch 1's config and powers);
/// `Ok(true)` only when it verified.
fn page(manifest: &[u8], file: &[u8]) -> Result<bool, String> {
    let s = setup();
    let config = fs::read_to_string(s.e1.join("config.toml")).unwrap();
    let caught = std::panic::catch_unwind(|| {
        verify_page(
            file,
            Some(&s.identifier),
            &EpochFiles {
                manifest,
                config_toml: &config,
                g1: &s.g1,
                g2: &s.g2,
            },
        )
        .map(|r| r.verified)
    });
    caught.unwrap_or_else(|_| panic!("the page panicked"))
}

/// What of a manifest the page checks an inclusion file against: everything but the
/// commitments of other shards and of the shard's other columns, which only a SNARK check
/// binds (`zkmargin-verify`; the page says it trusts them). `None` if it does not parse.
fn page_relevant(manifest: &Value) -> Option<Value> {
    let m =
        zkmargin_layout::manifest::Manifest::parse(&serde_json::to_vec(manifest).unwrap()).ok()?;
    let data: Vec<Option<&String>> = m
        .account_data_columns
        .iter()
        .map(|&c| m.shards[0].account_table_commitment.get(c))
        .collect();
    Some(serde_json::json!({
        "format_version": m.format_version,
        "shape": m.shape,
        "srs": m.srs,
        "statement_digest": m.statement_digest,
        "statement": m.statement,
        "account_data_columns": m.account_data_columns,
        "data_commitments": data,
    }))
}

/// Every manifest node that sizes or steers verification, with its hostile variants.
fn manifest_cases() -> Vec<(String, Value)> {
    let manifest = read_json(&setup().e1.join("manifest.json"));
    let mut cases = Vec::new();
    for path in paths(&manifest) {
        let shown = show(&path);
        let steering = [
            "format_version",
            "shape",
            "srs",
            "shards",
            "account_data_columns",
        ]
        .iter()
        .any(|p| shown.starts_with(p))
            || shown == "statement_digest"
            || ["statement.oracle", "statement.assets", "statement.markets"]
                .contains(&shown.as_str());
        if !steering {
            continue;
        }
        // Commitment lists are long: their first two points stand for the rest.
        if let Some(hostile::Step::Index(i)) = path.last() {
            if shown.contains("account_table_commitment[") && *i > 1 {
                continue;
            }
        }
        let node = node_mut(&mut manifest.clone(), &path).unwrap().clone();
        for variant in spread(&variants(&node), 10) {
            let mut edited = manifest.clone();
            *node_mut(&mut edited, &path).unwrap() = variant.clone();
            if edited != manifest {
                cases.push((format!("manifest {shown} = {variant}"), edited));
            }
        }
    }
    cases
}

#[test]
fn hostile_manifests_are_clear_errors_for_the_cli_and_the_page() {
    let s = setup();
    let cases = manifest_cases();
    assert!(cases.len() > 150, "{} cases", cases.len());
    let file_path = s.root.join("file.json");
    in_parallel(&cases, |(what, manifest)| {
        let bundle = copy_of(&s.e1, "manifest");
        write_json(&bundle.join("manifest.json"), manifest);
        let o = holder_check(&bundle, &file_path);
        assert_refused(&o, what);
        let o = verify_cli(&["bundle".as_ref(), bundle.as_os_str(), "--json".as_ref()]);
        assert_refused(&o, what);
        let bytes = serde_json::to_vec(manifest).unwrap();
        let original = read_json(&s.e1.join("manifest.json"));
        if page_relevant(manifest) != page_relevant(&original) {
            assert!(
                !matches!(page(&bytes, &s.file), Ok(true)),
                "{what}: the page verified"
            );
        } else {
            // Another shard's or column's commitment: the page does not read it (no panic).
            let _ = page(&bytes, &s.file);
        }
        fs::remove_dir_all(&bundle).unwrap();
    });
    eprintln!("{} hostile manifests refused", cases.len());
    no_work_was_cached();
}

/// Every inclusion-file node with its hostile variants, and files a parser must not choke on.
fn inclusion_cases() -> Vec<(String, Vec<u8>)> {
    let file: Value = serde_json::from_slice(&setup().file).unwrap();
    let mut cases = Vec::new();
    for path in paths(&file).into_iter().filter(|p| !p.is_empty()) {
        let node = node_mut(&mut file.clone(), &path).unwrap().clone();
        for variant in spread(&variants(&node), 12) {
            let mut edited = file.clone();
            *node_mut(&mut edited, &path).unwrap() = variant.clone();
            if edited != file {
                cases.push((
                    format!("file {} = {variant}", show(&path)),
                    serde_json::to_vec(&edited).unwrap(),
                ));
            }
        }
    }
    // Non-canonical account ids (the circuit's ids are below 2^192) and many opening levels.
    for id in [
        "30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "0000000000000001000000000000000000000000000000000000000000000000",
    ] {
        let mut edited = file.clone();
        edited["id"] = Value::from(id);
        cases.push((
            format!("file id {id}"),
            serde_json::to_vec(&edited).unwrap(),
        ));
    }
    let mut many = file.clone();
    let level = many["openings"][0].clone();
    many["openings"] = Value::Array(vec![level; 5000]);
    cases.push((
        "5000 opening levels".into(),
        serde_json::to_vec(&many).unwrap(),
    ));
    for junk in ["", "{", "null", "[]", "{\"format_version\": 2}"] {
        cases.push((format!("file {junk:?}"), junk.as_bytes().to_vec()));
    }
    cases.push(("deep nesting".into(), "[".repeat(100_000).into_bytes()));
    cases
}

#[test]
fn hostile_inclusion_files_are_clear_errors_for_the_cli_and_the_page() {
    let s = setup();
    let cases = inclusion_cases();
    assert!(cases.len() > 100, "{} cases", cases.len());
    let manifest = fs::read(s.e1.join("manifest.json")).unwrap();
    let dir = s.root.join("files");
    fs::create_dir_all(&dir).unwrap();
    let next = AtomicUsize::new(0);
    in_parallel(&cases, |(what, bytes)| {
        let path = dir.join(format!("{}.json", next.fetch_add(1, Ordering::Relaxed)));
        fs::write(&path, bytes).unwrap();
        let o = holder_check(&s.e1, &path);
        assert_refused(&o, what);
        assert!(
            !matches!(page(&manifest, bytes), Ok(true)),
            "{what}: the page verified"
        );
    });
    eprintln!("{} hostile inclusion files refused", cases.len());
    // The level bound refuses many levels before any pairing (without it they would fail the
    // pairing, after one G2 MSM each).
    let (_, many) = cases
        .iter()
        .find(|(what, _)| what == "5000 opening levels")
        .unwrap();
    let path = dir.join("levels.json");
    fs::write(&path, many).unwrap();
    let o = holder_check(&s.e1, &path);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("openings: 5000 levels, at most 32"),
        "{}",
        o.stderr
    );
    // The honest file still verifies (with the development-SRS warning).
    let o = holder_check(&s.e1, &s.root.join("file.json"));
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert_eq!(page(&manifest, &s.file), Ok(true));
    no_work_was_cached();
}

/// The verifier's caches hold what the honest epochs need and nothing a hostile file asked
/// for: the k = 12 SRS and the one verifying key that verified a proof.
fn no_work_was_cached() {
    let home = &setup().home;
    let names = |dir: &str| -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(home.join(dir))
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    let srs = names("srs");
    assert!(
        srs.iter()
            .all(|n| n == "dev-k12.srs" || n == "dev-insecure-g2.bin"),
        "{srs:?}"
    );
    let keys: Vec<String> = names("vk")
        .into_iter()
        .filter(|n| n.ends_with(".vk"))
        .collect();
    // Two venues' configs: the honest shape's key and the foreign venue's.
    assert!(keys.len() <= 2, "{keys:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Random edits anywhere in a manifest or an inclusion file (one to three, each a node
    /// replaced by a hostile variant or removed): the page never panics, and it verifies only
    /// when the edits left the file as it was.
    #[test]
    fn the_page_verifies_only_what_was_published(seed in any::<u64>(), rounds in 1u64..4, which in 0..2u8) {
        let s = setup();
        let manifest: Value = read_json(&s.e1.join("manifest.json"));
        let file: Value = serde_json::from_slice(&s.file).unwrap();
        let mut edited = if which == 0 { manifest.clone() } else { file.clone() };
        for r in 0..rounds {
            edited = mutate_json(&edited, seed ^ (r << 48)).0;
        }
        let bytes = serde_json::to_vec(&edited).unwrap();
        let verdict = if which == 0 {
            page(&bytes, &s.file)
        } else {
            page(&serde_json::to_vec(&manifest).unwrap(), &bytes)
        };
        if verdict == Ok(true) {
            // Verified: the edits must have left the same manifest or file (removing a key
            // that was null is no edit).
            if which == 0 {
                prop_assert_eq!(page_relevant(&edited), page_relevant(&manifest));
            } else {
                let parse = |v: &Value| serde_json::from_value::<zkmargin_inclusion::InclusionFile>(v.clone()).ok();
                prop_assert_eq!(parse(&edited), parse(&file));
            }
        }
    }
}

fn library_verify(bundle: &Path, prev: Option<&Path>) -> Result<Report, UnusableBundle> {
    let s = setup();
    let dir = s.home.join("srs");
    let load = |label: &str, k: u32| {
        srs::load_for_verifier(&dir, SrsKind::from_label(label).unwrap(), k)
            .map_err(|e| e.to_string())
    };
    verify_bundle(bundle, prev, false, Some(&s.home.join("vk")), &load)
}

#[test]
fn the_honest_chain_verifies() {
    let s = setup();
    let r = library_verify(&s.e2, Some(&s.e1)).unwrap();
    assert!(r.failed().is_empty(), "{:?}", r.failed());
    let names: Vec<&str> = r.checks.iter().map(|c| c.name.as_str()).collect();
    for check in [
        "the previous epoch's bundle verifies",
        "chains to the previous epoch",
        "epoch follows the previous one",
        "the previous epoch is of the same venue (config digest)",
    ] {
        assert!(names.contains(&check), "{check}: {names:?}");
    }
}

/// The previous bundle is refused, with a reason naming it.
fn assert_link_refused(prev: &Path, what: &str) {
    let s = setup();
    match library_verify(&s.e2, Some(prev)) {
        Err(e) => {
            let reason = e.to_string();
            assert!(
                reason.contains("--prev") && reason.contains(&prev.display().to_string()),
                "{what}: {reason}"
            );
        }
        Ok(r) => {
            let named = r
                .checks
                .iter()
                .any(|c| !c.passed && c.detail.contains(&prev.display().to_string()));
            assert!(named, "{what}: accepted or not named: {:?}", r.failed());
        }
    }
}

#[test]
fn every_edited_field_of_the_previous_statement_breaks_the_chain() {
    let s = setup();
    let manifest = read_json(&s.e1.join("manifest.json"));
    let statement = &manifest["statement"];
    let mut edits = 0;
    for path in paths(statement) {
        let mut edited = manifest.clone();
        let node = node_mut(&mut edited["statement"], &path).unwrap();
        *node = match node {
            Value::String(text) => Value::String(hostile::edited(text)),
            Value::Number(n) => Value::from(n.as_i64().unwrap() ^ 1),
            Value::Bool(b) => Value::Bool(!*b),
            Value::Null => Value::from(1),
            _ => continue,
        };
        edits += 1;
        for recompute_digest in [false, true] {
            let prev = copy_of(&s.e1, "prev-field");
            if recompute_digest {
                // The forger also recomputes the claimed digest: still refused.
                let config = zkmargin_core::config::Config::parse(
                    &fs::read_to_string(prev.join("config.toml")).unwrap(),
                )
                .unwrap();
                let st: Result<zkmargin_core::statement::Statement, _> =
                    serde_json::from_value(edited["statement"].clone());
                if let Ok(Ok(d)) =
                    st.map(|st| zkmargin_layout::encoding::statement_digest_under(&config, &st))
                {
                    edited["statement_digest"] = Value::String(hex::encode(d));
                }
            }
            write_json(&prev.join("manifest.json"), &edited);
            assert_link_refused(&prev, &format!("statement.{}", show(&path)));
            fs::remove_dir_all(&prev).unwrap();
        }
    }
    assert!(edits > 50, "{edits} fields");
}

#[test]
fn edited_instances_or_proofs_of_the_previous_bundle_break_the_chain() {
    let s = setup();
    let prev = copy_of(&s.e1, "prev-instances");
    let mut words = read_json(&prev.join("instances.json"));
    words[0] = Value::String(format!("{:0<64}", "02"));
    write_json(&prev.join("instances.json"), &words);
    assert_link_refused(&prev, "instances.json");

    let prev = copy_of(&s.e1, "prev-proof");
    let path = prev.join("shards/0000/proof.bin");
    let mut proof = fs::read(&path).unwrap();
    let mid = proof.len() / 2;
    proof[mid] ^= 1;
    fs::write(&path, proof).unwrap();
    assert_link_refused(&prev, "proof.bin");
}

#[test]
fn a_gap_hidden_by_editing_the_previous_epoch_is_rejected() {
    // Epoch 3 was proved with --prev epoch 1. Against epoch 1 itself the gap shows; against a
    // copy of epoch 1 claiming to be epoch 2 (digest recomputed or not) the copy is refused.
    let s = setup();
    let r = library_verify(&s.e3, Some(&s.e1)).unwrap();
    assert_eq!(r.failed(), ["epoch follows the previous one"]);
    for recompute in [false, true] {
        let prev = copy_of(&s.e1, "gap");
        let mut m = read_json(&prev.join("manifest.json"));
        m["statement"]["epoch"] = Value::from(2);
        if recompute {
            let config = zkmargin_core::config::Config::parse(
                &fs::read_to_string(prev.join("config.toml")).unwrap(),
            )
            .unwrap();
            let st = serde_json::from_value(m["statement"].clone()).unwrap();
            let d = zkmargin_layout::encoding::statement_digest_under(&config, &st).unwrap();
            m["statement_digest"] = Value::String(hex::encode(d));
        }
        write_json(&prev.join("manifest.json"), &m);
        let r = library_verify(&s.e3, Some(&prev)).unwrap();
        let f = r.failed();
        assert!(
            f.contains(&"the previous epoch's bundle verifies")
                && f.contains(&"chains to the previous epoch"),
            "{f:?}"
        );
    }
}

#[test]
fn a_previous_epoch_of_another_venue_is_rejected() {
    let s = setup();
    let r = library_verify(&s.e2, Some(&s.foreign)).unwrap();
    let f = r.failed();
    assert!(
        f.contains(&"chains to the previous epoch")
            && f.contains(&"the previous epoch is of the same venue (config digest)"),
        "{f:?}"
    );
    // The CLI names the previous bundle in the failed check.
    let o = verify_cli(&[
        "bundle".as_ref(),
        s.e2.as_os_str(),
        "--prev".as_ref(),
        s.foreign.as_os_str(),
    ]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stdout.contains("[FAIL] chains to the previous epoch")
            && o.stdout.contains(&s.foreign.display().to_string()),
        "{}",
        o.stdout
    );
}

#[test]
fn the_prover_refuses_a_previous_bundle_that_does_not_verify() {
    let s = setup();
    let prev = copy_of(&s.e1, "prover-prev");
    let mut m = read_json(&prev.join("manifest.json"));
    m["statement"]["timestamp"] = Value::from(m["statement"]["timestamp"].as_u64().unwrap() + 1);
    write_json(&prev.join("manifest.json"), &m);
    let out = s.root.join("never");
    let o = zkmargin(&s.home)
        .arg("prove")
        .arg(&s.snap2)
        .arg("--out")
        .arg(&out)
        .args(["--k", "12", "--prev"])
        .arg(&prev)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("--prev") && stderr.contains("does not verify"),
        "{stderr}"
    );
    assert!(!out.exists());
}

#[test]
fn bytes_after_a_proof_or_a_resized_instance_column_are_refused() {
    let s = setup();
    let snark = |bundle: &Path| {
        let r = library_verify(bundle, None).unwrap();
        r.checks
            .into_iter()
            .find(|c| c.name.starts_with("every shard's SNARK"))
            .unwrap()
    };
    for extra in [&[0u8][..], &[0; 32], &[7; 4096]] {
        let b = copy_of(&s.e1, "trailing");
        let path = b.join("shards/0000/proof.bin");
        let mut proof = fs::read(&path).unwrap();
        proof.extend_from_slice(extra);
        fs::write(&path, proof).unwrap();
        let c = snark(&b);
        assert!(
            !c.passed && c.detail.contains("bytes follow the proof"),
            "{c:?}"
        );
    }
    let b = copy_of(&s.e1, "truncated");
    let path = b.join("shards/0000/proof.bin");
    let proof = fs::read(&path).unwrap();
    fs::write(&path, &proof[..proof.len() - 1]).unwrap();
    assert!(!snark(&b).passed);

    for extra in [1usize, 100_000] {
        let b = copy_of(&s.e1, "instances");
        let path = b.join("shards/0000/instances.json");
        let mut words = read_json(&path);
        let list = words.as_array_mut().unwrap();
        for _ in 0..extra {
            list.push(Value::String("00".repeat(32)));
        }
        write_json(&path, &words);
        let c = snark(&b);
        assert!(!c.passed && c.detail.contains("instances"), "{c:?}");
    }
}

#[test]
fn an_epoch_under_the_development_srs_is_a_warning_everywhere() {
    let s = setup();
    // bundle: JSON status "warning", the setup check marked as a warning, exit 0.
    let o = verify_cli(&["bundle".as_ref(), s.e1.as_os_str(), "--json".as_ref()]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["status"], "warning");
    let setup_check = v["report"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().unwrap().starts_with("trusted setup"))
        .unwrap();
    assert_eq!(
        (
            setup_check["passed"].clone(),
            setup_check["warning"].clone()
        ),
        (true.into(), true.into())
    );
    // Text: the check is [warn], not [ok], and the verdict says the proof proves nothing.
    let o = verify_cli(&["bundle".as_ref(), s.e1.as_os_str()]);
    assert_eq!(o.code, 0);
    assert!(o.stdout.contains("[warn] trusted setup"), "{}", o.stdout);
    assert!(!o.stdout.contains("[ok] trusted setup"), "{}", o.stdout);
    assert!(
        o.stdout
            .contains("WARNING: every check passed, but INSECURE development parameters"),
        "{}",
        o.stdout
    );
    // --strict turns it into a failure.
    let o = verify_cli(&["bundle".as_ref(), s.e1.as_os_str(), "--strict".as_ref()]);
    assert_eq!(o.code, 1);
    assert!(o.stdout.contains("[FAIL] trusted setup"), "{}", o.stdout);
    // inclusion: the holder is warned too.
    let o = verify_cli(&[
        "inclusion".as_ref(),
        s.e1.as_os_str(),
        s.root.join("file.json").as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["status"], "warning", "{v}");
    // The page: verified, with the warning status.
    let manifest = fs::read(s.e1.join("manifest.json")).unwrap();
    let paths = epoch_paths_of(&s.file).unwrap();
    assert_eq!(paths.epoch, 1);
    assert_eq!(srs_paths_of(&manifest).unwrap().label, "dev-insecure");
    let config = fs::read_to_string(s.e1.join("config.toml")).unwrap();
    let r = verify_page(
        &s.file,
        Some(&s.identifier),
        &EpochFiles {
            manifest: &manifest,
            config_toml: &config,
            g1: &s.g1,
            g2: &s.g2,
        },
    )
    .unwrap();
    assert!(r.verified);
    assert_eq!(r.status, zkmargin_core::policy::Verdict::Warning);
}

#[test]
fn a_verifier_does_not_generate_a_large_srs_because_a_file_says_so() {
    // A bundle whose honest-looking shape needs k = 21: the verifier's own SRS directory has
    // none, and it refuses to generate one that large (exit 2, naming `zkmargin setup`).
    let dir = tempfile::tempdir().unwrap();
    let k = srs::VERIFIER_GENERATES_UP_TO_K + 1;
    let e = srs::load_for_verifier(dir.path(), SrsKind::Dev, k).unwrap_err();
    assert!(
        e.to_string().contains(&format!("zkmargin setup --k {k}")),
        "{e}"
    );
    assert!(
        fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing written"
    );
}

#[test]
fn the_operator_tools_refuse_a_hostile_shape_read_back_from_a_plan_or_bundle() {
    // What `zkmargin` reads back is no more trusted than what a verifier reads: a plan or a
    // bundle (with its private part) whose shape was edited is unusable input, with a reason.
    let s = setup();
    let plan = s.root.join("plan");
    if !plan.exists() {
        zkmargin(&s.home)
            .arg("plan")
            .arg(&s.snap2)
            .arg("--out")
            .arg(&plan)
            .args(["--k", "12"])
            .assert()
            .success();
    }
    let honest = read_json(&plan.join("plan.json"));
    // The shard count, which every loop over the plan runs to.
    let mut edited = honest.clone();
    edited["shards"] = Value::from(u64::MAX);
    write_json(&plan.join("plan.json"), &edited);
    let o = zkmargin(&s.home)
        .arg("assemble")
        .arg(&plan)
        .arg("--out")
        .arg(s.root.join("never-assembled"))
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "shards: {stderr}");
    assert!(
        stderr.contains("plan.json") && stderr.contains("shards:"),
        "{stderr}"
    );
    for (field, value) in [
        ("k", Value::from(0)),
        ("k", Value::from(26)),
        ("rows", Value::from(0)),
        ("rows", Value::from(1u64 << 40)),
        ("scenarios", Value::from(u32::MAX)),
        ("sources", Value::Array(vec![])),
        ("value_bits", Value::from(1u64 << 31)),
    ] {
        let mut edited = honest.clone();
        edited["shape"][field] = value.clone();
        write_json(&plan.join("plan.json"), &edited);
        for args in [
            &["prove-shard", "--shard", "0"][..],
            &["assemble", "--out"][..],
        ] {
            let mut c = zkmargin(&s.home);
            c.arg(args[0]).arg(&plan).args(&args[1..]);
            if args[0] == "assemble" {
                c.arg(s.root.join("never-assembled"));
            }
            let o = c.output().unwrap();
            let stderr = String::from_utf8_lossy(&o.stderr);
            assert_eq!(
                o.status.code(),
                Some(2),
                "{} {field} = {value}: {stderr}",
                args[0]
            );
            assert!(
                stderr.contains("plan.json") && stderr.contains("shape"),
                "{} {field} = {value}: {stderr}",
                args[0]
            );
        }
    }
    write_json(&plan.join("plan.json"), &honest);

    // A bundle's own manifest, with private/, for `zkmargin inclusion`.
    let bundle = s.root.join("readback");
    let _ = fs::remove_dir_all(&bundle);
    copy_tree(&s.e1, &bundle);
    copy_tree(&s.e1.join("private"), &bundle.join("private"));
    let mut m = read_json(&bundle.join("manifest.json"));
    m["shape"]["rows"] = Value::from(1u64 << 40);
    write_json(&bundle.join("manifest.json"), &m);
    let o = zkmargin(&s.home)
        .arg("calldata")
        .arg(&bundle)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "calldata: {stderr}");
    assert!(stderr.contains("shape"), "calldata: {stderr}");
    let o = zkmargin(&s.home)
        .arg("inclusion")
        .arg(&bundle)
        .arg("--all")
        .arg("--out")
        .arg(s.root.join("never-written"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("manifest.json") && stderr.contains("shape"),
        "{stderr}"
    );
    assert!(!s.root.join("never-written").exists());
}

#[test]
fn a_key_rebuilt_for_a_shape_the_proof_is_not_of_is_not_cached() {
    // Another table size the config admits (so a key is rebuilt for it): the SNARK fails, and
    // the verifier's cache gains nothing.
    let s = setup();
    let config = zkmargin_core::config::Config::parse(
        &fs::read_to_string(s.e1.join("config.toml")).unwrap(),
    )
    .unwrap();
    let k = *zkmargin_layout::shape::MarginShape::k_range(&config, 32)
        .unwrap()
        .start();
    let b = copy_of(&s.e1, "other-rows");
    let mut m = read_json(&b.join("manifest.json"));
    m["shape"]["rows"] = Value::from(32);
    m["shape"]["k"] = Value::from(k);
    m["shape"]["lookup_bits"] = Value::from(if k >= 17 { 16 } else { 8 });
    m["srs"]["k"] = Value::from(k);
    write_json(&b.join("manifest.json"), &m);
    let cache = s.root.join("pin-cache");
    let entries = || fs::read_dir(&cache).map_or(0, |d| d.count());
    let dir = s.home.join("srs");
    let load = |label: &str, k: u32| {
        srs::load_for_verifier(&dir, SrsKind::from_label(label).unwrap(), k)
            .map_err(|e| e.to_string())
    };
    let r = verify_bundle(&b, None, false, Some(&cache), &load).unwrap();
    assert!(
        !r.failed().contains(&"declared shape fits the config"),
        "{:?}",
        r.failed()
    );
    assert!(r
        .failed()
        .contains(&"every shard's SNARK verifies (key rebuilt from the shape)"));
    assert_eq!(entries(), 0, "a key that verified nothing was cached");
    // The honest bundle's key is cached once it has verified the proof.
    let r = verify_bundle(&s.e1, None, false, Some(&cache), &load).unwrap();
    assert!(r.failed().is_empty(), "{:?}", r.failed());
    assert!(entries() > 0);
}

#[test]
fn an_instance_column_larger_than_the_circuit_is_refused_before_halo2() {
    // snark::verify is shared with the operator's assembly step: its own guard, not only the
    // bundle check's exact count, keeps oversized instances from halo2.
    let s = setup();
    let bundle = zkmargin_bundle::Bundle::read(&s.e1).unwrap();
    let shape = bundle.admitted_shape().unwrap();
    let params = srs::load(&s.home.join("srs"), SrsKind::Dev, shape.k).unwrap();
    let (vk, _, _) =
        zkmargin_keys::verifying::load_or_rebuild(None, &params, "dev-insecure", &shape).unwrap();
    let shard = &bundle.shards[0];
    assert_eq!(
        zkmargin_keys::snark::verify(&params, &vk, &shard.instances, &shard.proof),
        Ok(())
    );
    let huge = vec![zkmargin_layout::Fr::zero(); 1 << shape.k];
    let e = zkmargin_keys::snark::verify(&params, &vk, &huge, &shard.proof).unwrap_err();
    assert!(e.contains("do not fit the circuit's"), "{e}");
}
