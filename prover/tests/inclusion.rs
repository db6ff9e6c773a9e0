//! Per-account inclusion proofs end to end (k = 12): `zkmargin inclusion` (one account and
//! `--all`), then the verifier library and CLI, and every SPEC §7.5 attack rejected.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;
use zkmargin_bundle::srs::{self, SrsKind};
use zkmargin_core::account_id::account_id;
use zkmargin_inclusion::{g1_to_hex, InclusionFile};
use zkmargin_verifier::inclusion_check::{verify_inclusion, InclusionReport};

struct Epochs {
    home: PathBuf,
    /// Epoch 1 and a second epoch proved from the same accounts.
    first: PathBuf,
    second: PathBuf,
    identifiers: Vec<String>,
    /// `--all` output of the first epoch.
    all: PathBuf,
}

fn zkmargin(home: &Path) -> Command {
    let mut c = Command::cargo_bin("zkmargin").unwrap();
    c.env("ZKMARGIN_HOME", home);
    c
}

fn epochs() -> &'static Epochs {
    static E: OnceLock<Epochs> = OnceLock::new();
    E.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("inclusion");
        let _ = fs::remove_dir_all(&root);
        let home = root.join("home");
        let snap = root.join("snap");
        zkmargin(&home)
            .args([
                "fixtures",
                "generate",
                "--accounts",
                "12",
                "--seed",
                "5",
                "--out",
            ])
            .arg(&snap)
            .assert()
            .success();
        let (first, second) = (root.join("e1"), root.join("e2"));
        for (out, prev) in [(&first, None), (&second, Some(&first))] {
            let mut c = zkmargin(&home);
            c.arg("prove")
                .arg(&snap)
                .arg("--out")
                .arg(out)
                .args(["--k", "12"]);
            if let Some(p) = prev {
                c.arg("--prev").arg(p);
            }
            c.assert().success();
        }
        let all = root.join("all");
        zkmargin(&home)
            .arg("inclusion")
            .arg(&first)
            .arg("--all")
            .arg("--out")
            .arg(&all)
            .assert()
            .success();
        let csv = fs::read_to_string(snap.join("accounts.csv")).unwrap();
        let identifiers = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().to_string())
            .collect();
        Epochs {
            home,
            first,
            second,
            identifiers,
            all,
        }
    })
}

fn verify(bundle: &Path, file: &Path, identifier: Option<&str>) -> InclusionReport {
    let dir = epochs().home.join("srs");
    let kind = |l: &str| SrsKind::from_label(l).unwrap();
    let load = |l: &str, k: u32| srs::load(&dir, kind(l), k).map_err(|e| e.to_string());
    let load_g2 = |l: &str, p: &_| srs::g2_powers(&dir, kind(l), p).map_err(|e| e.to_string());
    match verify_inclusion(bundle, file, identifier, None, &load, &load_g2) {
        Ok(r) => r,
        Err(e) => panic!("unusable: {e}"),
    }
}

fn failed(r: &InclusionReport) -> Vec<String> {
    r.checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.clone())
        .collect()
}

const OPENING: &str = "the KZG opening of the account data columns equals this account";

/// The `--all` files by row, with the identifier each belongs to.
fn files_by_row() -> Vec<(InclusionFile, PathBuf, String)> {
    let e = epochs();
    let mut out: Vec<_> = fs::read_dir(&e.all)
        .unwrap()
        .map(|f| {
            let path = f.unwrap().path();
            let file: InclusionFile = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
            let salt: [u8; 32] = hex::decode(&file.salt).unwrap().try_into().unwrap();
            let who = e
                .identifiers
                .iter()
                .find(|i| account_id(i, &salt).to_hex() == file.id)
                .expect("every file belongs to an account")
                .clone();
            (file, path, who)
        })
        .collect();
    out.sort_by_key(|(f, _, _)| f.row);
    out
}

fn edited(name: &str, f: &InclusionFile) -> PathBuf {
    let path = epochs().home.join(format!("{name}.json"));
    fs::write(&path, serde_json::to_vec(f).unwrap()).unwrap();
    path
}

#[test]
fn all_proofs_verify_for_first_middle_and_last_account() {
    let files = files_by_row();
    assert_eq!(
        files.len(),
        epochs().identifiers.len(),
        "one file per account"
    );
    for i in [0, files.len() / 2, files.len() - 1] {
        let (f, path, who) = &files[i];
        assert_eq!(f.openings.len(), 3, "chunk, sub-chunk and own levels");
        let r = verify(&epochs().first, path, Some(who));
        assert!(r.passed(), "row {}: {:?}", f.row, failed(&r));
    }
}

#[test]
fn an_on_demand_proof_verifies_and_the_cli_prints_the_status() {
    let e = epochs();
    let who = &e.identifiers[3];
    let out = e.home.join("one.json");
    zkmargin(&e.home)
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
        .env("ZKMARGIN_HOME", &e.home)
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
    zkmargin(&e.home)
        .arg("inclusion")
        .arg(&e.first)
        .args(["--account", "nobody", "--out"])
        .arg(e.home.join("nobody.json"))
        .assert()
        .code(2);
}

#[test]
fn rows_outside_the_account_table_are_rejected() {
    let (f, _, who) = files_by_row().remove(0);
    let rows = 16; // the padded table of the k = 12 test shape
    for row in [rows, 4000] {
        let mut bad = f.clone();
        bad.row = row;
        let last = bad.openings.len() - 1;
        bad.openings[last].blocks = [row, row + 1];
        let r = verify(&epochs().first, &edited("outside", &bad), Some(&who));
        let failures = failed(&r);
        assert!(
            failures.contains(&"the row is an account row of the constrained table".to_string())
                && failures.contains(&OPENING.to_string()),
            "row {row}: {failures:?}"
        );
    }
}

#[test]
fn another_accounts_row_or_edited_values_are_rejected() {
    let files = files_by_row();
    let (f, _, who) = &files[1];
    let other = &files[2].0;
    let mut moved = f.clone();
    moved.row = other.row;
    moved.openings = other.openings.clone();
    let mut balance = f.clone();
    balance.balances[0] = if f.balances[0] == "0" { "1" } else { "0" }.into();
    let mut size = f.clone();
    size.sizes[1] = if f.sizes[1] == "1" { "2" } else { "1" }.into();
    let mut cost = f.clone();
    cost.costs[2] = "12345".into();
    for (what, bad) in [
        ("another account's row", moved),
        ("edited balance", balance),
        ("edited size", size),
        ("edited cost", cost),
    ] {
        let r = verify(&epochs().first, &edited("edited", &bad), Some(who));
        assert!(
            failed(&r).contains(&OPENING.to_string()),
            "{what}: {:?}",
            failed(&r)
        );
    }
}

#[test]
fn a_wrong_salt_or_identifier_is_rejected() {
    let (f, path, who) = files_by_row().remove(4);
    let id_check = "H(identifier ‖ salt) is the row's id".to_string();
    let r = verify(&epochs().first, &path, Some("someone-else"));
    assert_eq!(failed(&r), vec![id_check.clone()]);
    let mut salted = f.clone();
    salted.salt = "11".repeat(32);
    let r = verify(&epochs().first, &edited("salt", &salted), Some(&who));
    assert_eq!(failed(&r), vec![id_check]);
}

#[test]
fn a_proof_replayed_against_another_epoch_is_rejected() {
    let (_, path, who) = files_by_row().remove(0);
    let r = verify(&epochs().second, &path, Some(&who));
    let failures = failed(&r);
    assert!(
        failures.contains(&"the file is for this epoch's statement".to_string())
            && failures.contains(&OPENING.to_string()),
        "{failures:?}"
    );
}

#[test]
fn tampered_opening_points_are_rejected() {
    use zkmargin_circuits::halo2_base::halo2_proofs::halo2curves::bn256::G1Affine;
    use zkmargin_circuits::halo2_base::halo2_proofs::halo2curves::group::Curve;
    use zkmargin_inclusion::g1_from_hex;
    let (f, _, who) = files_by_row().remove(5);
    for level in 0..f.openings.len() {
        let mut bad = f.clone();
        let p = g1_from_hex(&bad.openings[level].point).unwrap();
        bad.openings[level].point = g1_to_hex(&(p + G1Affine::generator()).to_affine());
        let r = verify(&epochs().first, &edited("point", &bad), Some(&who));
        assert_eq!(failed(&r), vec![OPENING.to_string()], "level {level}");
    }
    // Levels that do not nest down to the row are refused before any pairing.
    let mut flat = f.clone();
    flat.openings.remove(2);
    let r = verify(&epochs().first, &edited("flat", &flat), Some(&who));
    assert!(
        failed(&r).contains(&"opening sets are nested block ranges ending at the row".to_string())
    );
}

#[test]
fn malformed_inclusion_files_are_unusable_input() {
    let e = epochs();
    let (f, _, who) = files_by_row().remove(0);
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
        let path = e.home.join("malformed.json");
        fs::write(&path, text).unwrap();
        let run = Command::cargo_bin("zkmargin-verify")
            .unwrap()
            .env("ZKMARGIN_HOME", &e.home)
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
    let copy = e.home.join("corrupt-bundle");
    let _ = fs::remove_dir_all(&copy);
    copy_tree(&e.first, &copy);
    let cache = copy.join("private/inclusion-cache-0000.bin");
    let mut bytes = fs::read(&cache).expect("--all left a cache");
    let n = bytes.len();
    bytes[n - 40] ^= 1;
    fs::write(&cache, bytes).unwrap();
    zkmargin(&e.home)
        .arg("inclusion")
        .arg(&copy)
        .args(["--account", &e.identifiers[0], "--out"])
        .arg(e.home.join("corrupt.json"))
        .assert()
        .code(1);
    zkmargin(&e.home)
        .arg("inclusion")
        .arg(&copy)
        .arg("--all")
        .arg("--out")
        .arg(e.home.join("corrupt-all"))
        .assert()
        .code(1);
    // Without the cache the columns are rebuilt from private/ and proofs verify again.
    fs::remove_file(&cache).unwrap();
    let out = e.home.join("rebuilt.json");
    zkmargin(&e.home)
        .arg("inclusion")
        .arg(&copy)
        .args(["--account", &e.identifiers[0], "--out"])
        .arg(&out)
        .assert()
        .success();
    let r = verify(&copy, &out, Some(&e.identifiers[0]));
    assert!(r.passed(), "{:?}", failed(&r));
}
