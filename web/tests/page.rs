//! The web verifier page over a one-epoch archive of each table (dense and slot). Natively:
//! the page's checks (`zkmargin_web::verify_page`) pass on the holder's file, each fails on its
//! own tampered input, and unusable inputs are errors. In headless Chromium (`#[ignore]`: it needs the page
//! built by `scripts/build-web.sh` and Debian's chromium; `.ci/run` runs it): the served page
//! verifies a good file in WebAssembly and rejects tampered ones.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use halo2curves::bn256::{Fr, G1Affine, G2Affine, G1, G2};
use halo2curves::ff::Field;
use halo2curves::group::Curve;
use serde_json::{json, Value};
use zkmargin_core::account_id::account_id;
use zkmargin_inclusion::points::encode_points;
use zkmargin_testkit::{one_epoch_archive, one_slot_epoch_archive, scratch, Server};
use zkmargin_web::{epoch_paths_of, srs_paths_of, verify_page, EpochFiles, PageReport};

struct Published {
    archive: PathBuf,
    identifier: String,
    /// The first account's inclusion file, as the archive holds it.
    inclusion: Vec<u8>,
}

/// An archive with epoch 1 (16 accounts) and its first account's inclusion file.
fn published() -> &'static Published {
    static P: OnceLock<Published> = OnceLock::new();
    P.get_or_init(|| {
        let (archive, identifier) = one_epoch_archive("web", 5);
        let inclusion = holders_file(&archive, &identifier);
        Published {
            archive,
            identifier,
            inclusion,
        }
    })
}

/// An archive with one slot-table epoch (tiered venue) and its first holder's inclusion file.
fn published_slots() -> &'static Published {
    static P: OnceLock<Published> = OnceLock::new();
    P.get_or_init(|| {
        let (archive, identifier) = one_slot_epoch_archive("web-slots", 24, 9);
        let inclusion = holders_file(&archive, &identifier);
        Published {
            archive,
            identifier,
            inclusion,
        }
    })
}

/// The inclusion file whose id is `H(identifier ‖ salt)` (tagged with its class, for a slot
/// file).
fn holders_file(archive: &Path, identifier: &str) -> Vec<u8> {
    let dir = archive.join("private/0000000001/inclusion");
    fs::read_dir(&dir)
        .unwrap()
        .map(|e| fs::read(e.unwrap().path()).unwrap())
        .find(|bytes| {
            let f: Value = serde_json::from_slice(bytes).unwrap();
            let salt: [u8; 32] = hex::decode(f["salt"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap();
            let id = account_id(identifier, &salt);
            let id = match f["class"].as_u64() {
                Some(class) => id.tagged(class as usize),
                None => id,
            };
            id.to_hex() == f["id"]
        })
        .expect("the holder has an inclusion file")
}

/// An epoch's public files as the page fetches them, editable.
#[derive(Clone)]
struct Files {
    manifest: Vec<u8>,
    config: String,
    g1: Vec<u8>,
    g2: Vec<u8>,
}

fn public_files() -> Files {
    files_of(published())
}

fn files_of(p: &Published) -> Files {
    let paths = epoch_paths_of(&p.inclusion).unwrap();
    let manifest = fs::read(p.archive.join(&paths.manifest)).unwrap();
    let srs = srs_paths_of(&manifest).unwrap();
    Files {
        config: fs::read_to_string(p.archive.join(&paths.config)).unwrap(),
        g1: fs::read(p.archive.join(&srs.g1)).unwrap(),
        g2: fs::read(p.archive.join(&srs.g2)).unwrap(),
        manifest,
    }
}

fn check(inclusion: &[u8], identifier: Option<&str>, f: &Files) -> Result<PageReport, String> {
    verify_page(
        inclusion,
        identifier,
        &EpochFiles {
            manifest: &f.manifest,
            config_toml: &f.config,
            g1: &f.g1,
            g2: &f.g2,
        },
    )
}

fn failed(r: &PageReport) -> Vec<&str> {
    r.checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.as_str())
        .collect()
}

fn edit_json(bytes: &[u8], edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(bytes).unwrap();
    edit(&mut v);
    serde_json::to_vec(&v).unwrap()
}

/// Powers of a `τ` that is not the SRS's.
fn other_tau_powers(n1: usize, n2: usize) -> (Vec<u8>, Vec<u8>) {
    let tau = Fr::from(0x5eed_u64);
    let g1: Vec<G1Affine> = (0..n1 as u64)
        .map(|i| (G1::generator() * tau.pow_vartime([i])).to_affine())
        .collect();
    let g2: Vec<G2Affine> = (0..n2 as u64)
        .map(|i| (G2::generator() * tau.pow_vartime([i])).to_affine())
        .collect();
    (encode_points(&g1), encode_points(&g2))
}

const CONFIG_CHECK: &str = "the config is the statement's";
const DIGEST_CHECK: &str = "the statement digest recomputes from the statement";
const TAU_CHECK: &str = "the SRS powers start at the generators and share one τ";
const FILE_CHECK: &str = "the file is for this epoch's statement";
const ID_CHECK: &str = "H(identifier ‖ salt) is the row's id";
const OPENING_CHECK: &str = "the KZG opening of the account data columns equals this account";

#[test]
fn the_holders_file_verifies_with_the_epochs_prices_and_statement() {
    let p = published();
    let files = public_files();
    let r = check(&p.inclusion, Some(&p.identifier), &files).unwrap();
    assert!(r.verified, "{:?}", failed(&r));
    assert!(r.identifier_checked);
    assert_eq!(r.checks.len(), 10);
    // The epoch was proved under the development SRS: verified, with a warning that says so.
    assert_eq!(r.status, zkmargin_core::policy::Verdict::Warning);
    let warned: Vec<&str> = r
        .checks
        .iter()
        .filter(|c| c.warning)
        .map(|c| c.detail.as_str())
        .collect();
    assert_eq!(
        warned,
        ["INSECURE development parameters: this proof proves nothing"]
    );
    let manifest: Value = serde_json::from_slice(&files.manifest).unwrap();
    let statement = &manifest["statement"];
    assert_eq!(r.statement_digest, manifest["statement_digest"]);
    assert_eq!(r.headline.epoch, 1);
    assert_eq!(
        r.headline.prices.len(),
        statement["oracle"].as_array().unwrap().len()
    );
    assert!(r.headline.prices.iter().all(|p| p.median.is_some()));
    assert_eq!(
        r.headline.under_margined_accounts,
        statement["under_margined_accounts"]
    );
    let file: Value = serde_json::from_slice(&p.inclusion).unwrap();
    let shown: Vec<&str> = r.balances.iter().map(|b| b.amount.as_str()).collect();
    assert_eq!(json!(shown), file["balances"]);
    assert!(!r.account.under_margined, "the fixture is margined");

    // Without the identifier the row verifies but is not bound to the holder.
    let anonymous = check(&p.inclusion, None, &files).unwrap();
    assert!(anonymous.verified && !anonymous.identifier_checked);
}

#[test]
fn each_page_check_fails_on_its_own_tampered_input() {
    let p = published();
    let good = public_files();
    let id = Some(p.identifier.as_str());
    let expect = |case: &str, r: Result<PageReport, String>, check: &str| {
        let r = r.unwrap_or_else(|e| panic!("{case}: unusable: {e}"));
        assert!(!r.verified, "{case}: verified");
        assert!(failed(&r).contains(&check), "{case}: {:?}", failed(&r));
    };

    let mut f = good.clone();
    f.config = f
        .config
        .replacen("haircut_bps = 1000", "haircut_bps = 900", 1);
    assert_ne!(f.config, good.config);
    expect("config", check(&p.inclusion, id, &f), CONFIG_CHECK);

    let mut f = good.clone();
    f.manifest = edit_json(&f.manifest, |m| {
        let median = m["statement"]["oracle"][1]["median"].as_u64().unwrap();
        m["statement"]["oracle"][1]["median"] = json!(median + 1);
    });
    let r = check(&p.inclusion, id, &f);
    expect("a price", r, DIGEST_CHECK);

    let mut f = good.clone();
    f.manifest = edit_json(&f.manifest, |m| {
        m["statement"]["total_bad_debt"] = json!("0");
        m["statement"]["under_margined_accounts"] = json!(0);
        m["statement"]["insurance_fund"] = json!("999999999999");
    });
    expect("a total", check(&p.inclusion, id, &f), DIGEST_CHECK);

    // Fields the digest does not hash are checked against the config.
    let mut f = good.clone();
    f.manifest = edit_json(&f.manifest, |m| {
        m["statement"]["oracle"][0]["quotes"][0]["source"] = json!("someone-else");
        m["statement"]["assets"][0]["symbol"] = json!("USDT");
    });
    let r = check(&p.inclusion, id, &f);
    expect("a source name", r, "statement agrees with the config");
    // A setup label no verifier knows is no ceremony.
    let mut f = good.clone();
    f.manifest = edit_json(&f.manifest, |m| m["srs"]["source"] = json!("dev-insecur0"));
    let r = check(&p.inclusion, id, &f);
    expect(
        "an unknown SRS label",
        r,
        "trusted setup (a real ceremony is required with --strict)",
    );

    let mut f = good.clone();
    f.manifest = edit_json(&f.manifest, |m| {
        m["statement_digest"] = json!("00".repeat(32));
    });
    let r = check(&p.inclusion, id, &f);
    expect("the digest", r.clone(), DIGEST_CHECK);
    expect("the digest", r, FILE_CHECK);

    let (g1, g2) = other_tau_powers(64, 4097);
    let mut f = good.clone();
    f.g2 = g2;
    expect("G2 powers", check(&p.inclusion, id, &f), TAU_CHECK);
    let mut f = good.clone();
    f.g1 = g1;
    expect("G1 powers", check(&p.inclusion, id, &f), TAU_CHECK);

    let mut f = good.clone();
    f.manifest = edit_json(&f.manifest, |m| {
        let columns = m["account_data_columns"].as_array_mut().unwrap();
        columns.swap(0, 1);
    });
    expect("data columns", check(&p.inclusion, id, &f), OPENING_CHECK);

    let mut f = good.clone();
    f.manifest = edit_json(&f.manifest, |m| {
        let p = m["account_data_columns"][0].as_u64().unwrap() as usize;
        let list = m["shards"][0]["account_table_commitment"]
            .as_array_mut()
            .unwrap();
        let n = list.len();
        list.swap(p, (p + 1) % n);
    });
    expect("a commitment", check(&p.inclusion, id, &f), OPENING_CHECK);

    let file = |edit: &dyn Fn(&mut Value)| edit_json(&p.inclusion, edit);
    let balance = file(&|v| {
        let b = v["balances"][0].as_str().unwrap().to_string();
        v["balances"][0] = json!(format!("{b}1"));
    });
    expect("a balance", check(&balance, id, &good), OPENING_CHECK);
    let size = file(&|v| {
        let other = if v["sizes"][0] == "0" { "1" } else { "0" };
        v["sizes"][0] = json!(other);
    });
    expect("a size", check(&size, id, &good), OPENING_CHECK);
    let row = file(&|v| {
        let r = v["row"].as_u64().unwrap();
        v["row"] = json!(r ^ 1);
    });
    expect("the row", check(&row, id, &good), OPENING_CHECK);
    let point = file(&|v| {
        let levels = v["openings"].as_array_mut().unwrap();
        let first = levels[0]["point"].clone();
        let last = levels.len() - 1;
        levels[last]["point"] = first;
    });
    expect("an opening", check(&point, id, &good), OPENING_CHECK);
    let salt = file(&|v| v["salt"] = json!("11".repeat(32)));
    expect("the salt", check(&salt, id, &good), ID_CHECK);
    expect(
        "another identifier",
        check(&p.inclusion, Some("someone-else"), &good),
        ID_CHECK,
    );
    // The id itself is committed: an id that matches another identifier does not open.
    let salt_bytes = [7u8; 32];
    let forged = file(&|v| {
        v["salt"] = json!(hex::encode(salt_bytes));
        v["id"] = json!(account_id("someone-else", &salt_bytes).to_hex());
    });
    expect(
        "a forged id",
        check(&forged, Some("someone-else"), &good),
        OPENING_CHECK,
    );
}

#[test]
fn unusable_inputs_are_errors_not_panics() {
    let p = published();
    let good = public_files();
    let id = Some(p.identifier.as_str());
    let unusable = |case: &str, inclusion: &[u8], f: &Files, why: &str| {
        let e = check(inclusion, id, f)
            .err()
            .unwrap_or_else(|| panic!("{case}: accepted"));
        assert!(e.contains(why), "{case}: {e}");
    };
    unusable("not JSON", b"{", &good, "not an inclusion file");
    let v1 = edit_json(&p.inclusion, |v| v["format_version"] = json!(1));
    unusable("old file", &v1, &good, "format version");
    let shard = edit_json(&p.inclusion, |v| v["shard"] = json!(5));
    unusable("shard", &shard, &good, "shard 5 is not in this epoch");
    let hostile = edit_json(&p.inclusion, |v| v["balances"][0] = json!("-1"));
    unusable("negative balance", &hostile, &good, "balance");

    let mut f = good.clone();
    f.manifest.truncate(f.manifest.len() / 2);
    unusable(
        "truncated manifest",
        &p.inclusion,
        &f,
        "not an epoch manifest",
    );
    let mut f = good.clone();
    f.manifest = edit_json(&f.manifest, |m| m["format_version"] = json!(3));
    unusable("old manifest", &p.inclusion, &f, "format version 3");
    let mut f = good.clone();
    f.manifest = edit_json(&f.manifest, |m| m["shards"] = json!([]));
    unusable("no shards", &p.inclusion, &f, "no shards");
    let mut f = good.clone();
    f.manifest = edit_json(&f.manifest, |m| m["account_data_columns"] = json!([999]));
    unusable("columns", &p.inclusion, &f, "account data commitments");
    let mut f = good.clone();
    f.config = "not = [toml".into();
    unusable("config", &p.inclusion, &f, "config.toml");
    let mut f = good.clone();
    f.g1.pop();
    unusable("g1", &p.inclusion, &f, "G1 powers");
    let mut f = good.clone();
    f.g2.clear();
    unusable("g2", &p.inclusion, &f, "G2 powers");

    assert!(epoch_paths_of(b"[]").is_err());
    assert!(srs_paths_of(b"{}").is_err());
    let paths = epoch_paths_of(&p.inclusion).unwrap();
    assert_eq!(paths.manifest, "public/0000000001/manifest.json");
    assert_eq!(
        srs_paths_of(&good.manifest).unwrap().g2,
        "public/srs/dev-insecure/g2.bin"
    );
}

const SLOT_ID_CHECK: &str = "H(identifier ‖ salt), tagged with the class, is the block's id";
const SLOT_OPENING_CHECK: &str =
    "the KZG opening of the slot data columns equals this account's entries";

#[test]
fn a_slot_holders_file_verifies_showing_exactly_its_entries() {
    let p = published_slots();
    let files = files_of(p);
    let r = check(&p.inclusion, Some(&p.identifier), &files).unwrap();
    assert!(r.verified, "{:?}", failed(&r));
    assert_eq!(r.status, zkmargin_core::policy::Verdict::Warning);
    let file: Value = serde_json::from_slice(&p.inclusion).unwrap();
    let class = file["class"].as_u64().unwrap() as usize;
    assert_eq!(r.class_slots, Some(zkmargin_layout::slots::CLASSES[class]));
    assert_eq!(
        (r.shard, r.row),
        (0, file["block"].as_u64().unwrap() as usize)
    );
    // Every entry is shown once, balances without a cost, positions with theirs.
    let entries = file["entries"].as_array().unwrap();
    assert!(
        !entries.is_empty(),
        "the fixture's first holder holds something"
    );
    let shown: Vec<Value> = r
        .balances
        .iter()
        .chain(&r.positions)
        .map(|a| json!([a.symbol, a.amount, a.cost.as_deref().unwrap_or("")]))
        .collect();
    let listed: Vec<Value> = entries
        .iter()
        .map(|e| json!([e["instrument"], e["amount"], e["cost"]]))
        .collect();
    let mut sorted = shown.clone();
    sorted.sort_by_key(|v| v.to_string());
    let mut want = listed.clone();
    want.sort_by_key(|v| v.to_string());
    assert_eq!(sorted, want);
    assert!(r.positions.iter().all(|a| a.cost.is_some()));
    let manifest: Value = serde_json::from_slice(&files.manifest).unwrap();
    assert_eq!(r.statement_digest, manifest["statement_digest"]);
    let anonymous = check(&p.inclusion, None, &files).unwrap();
    assert!(anonymous.verified && !anonymous.identifier_checked);
}

#[test]
fn each_slot_page_check_fails_on_its_own_tampered_input() {
    let p = published_slots();
    let good = files_of(p);
    let id = Some(p.identifier.as_str());
    let expect = |case: &str, r: Result<PageReport, String>, check: &str| {
        let r = r.unwrap_or_else(|e| panic!("{case}: unusable: {e}"));
        assert!(!r.verified, "{case}: verified");
        assert!(failed(&r).contains(&check), "{case}: {:?}", failed(&r));
    };

    let mut f = good.clone();
    f.config = f.config.replacen("haircut_bps = ", "haircut_bps = 1", 1);
    assert_ne!(f.config, good.config);
    expect("config", check(&p.inclusion, id, &f), CONFIG_CHECK);

    // The slot statement digest covers the medians and totals.
    let mut f = good.clone();
    f.manifest = edit_json(&f.manifest, |m| {
        let median = m["statement"]["oracle"][0]["median"].as_u64().unwrap();
        m["statement"]["oracle"][0]["median"] = json!(median + 1);
    });
    expect("a price", check(&p.inclusion, id, &f), DIGEST_CHECK);
    let mut f = good.clone();
    f.manifest = edit_json(&f.manifest, |m| {
        m["statement"]["under_margined_accounts"] = json!(0);
    });
    expect("a total", check(&p.inclusion, id, &f), DIGEST_CHECK);
    let mut f = good.clone();
    f.manifest = edit_json(&f.manifest, |m| {
        m["statement_digest"] = json!("00".repeat(32));
    });
    let r = check(&p.inclusion, id, &f);
    expect("the digest", r.clone(), DIGEST_CHECK);
    expect("the digest", r, FILE_CHECK);

    let (g1, _) = other_tau_powers(256, 2);
    let mut f = good.clone();
    f.g1 = g1;
    expect("G1 powers", check(&p.inclusion, id, &f), TAU_CHECK);

    // The manifest's data commitments are what the block opens against.
    let class = serde_json::from_slice::<Value>(&p.inclusion).unwrap()["class"].clone();
    let mut f = good.clone();
    f.manifest = edit_json(&f.manifest, |m| {
        let entry = m["classes"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|c| c["class"] == class)
            .unwrap();
        entry["data_commitments"][0]
            .as_array_mut()
            .unwrap()
            .swap(3, 4);
    });
    expect(
        "a commitment",
        check(&p.inclusion, id, &f),
        SLOT_OPENING_CHECK,
    );

    let file = |edit: &dyn Fn(&mut Value)| edit_json(&p.inclusion, edit);
    let amount = file(&|v| {
        let a = v["entries"][0]["amount"].as_str().unwrap().to_string();
        let more = match a.strip_prefix('-') {
            Some(digits) => format!("-1{digits}"),
            None => format!("1{a}"),
        };
        v["entries"][0]["amount"] = json!(more);
    });
    expect("an amount", check(&amount, id, &good), SLOT_OPENING_CHECK);
    let dropped = file(&|v| {
        v["entries"].as_array_mut().unwrap().pop();
    });
    expect(
        "an entry dropped",
        check(&dropped, id, &good),
        SLOT_OPENING_CHECK,
    );
    let block = file(&|v| {
        let b = v["block"].as_u64().unwrap();
        v["block"] = json!(b ^ 1);
    });
    expect("the block", check(&block, id, &good), SLOT_OPENING_CHECK);
    let salt = file(&|v| v["salt"] = json!("11".repeat(32)));
    expect("the salt", check(&salt, id, &good), SLOT_ID_CHECK);
    expect(
        "another identifier",
        check(&p.inclusion, Some("someone-else"), &good),
        SLOT_ID_CHECK,
    );
}

#[test]
fn unusable_slot_inputs_are_errors_not_panics() {
    let p = published_slots();
    let good = files_of(p);
    let id = Some(p.identifier.as_str());
    let unusable = |case: &str, inclusion: &[u8], f: &Files, why: &str| {
        let e = check(inclusion, id, f)
            .err()
            .unwrap_or_else(|| panic!("{case}: accepted"));
        assert!(e.contains(why), "{case}: {e}");
    };
    let v4 = edit_json(&p.inclusion, |v| v["format_version"] = json!(4));
    unusable("unknown file version", &v4, &good, "format version 4");
    let shard = edit_json(&p.inclusion, |v| v["shard"] = json!(7));
    unusable("shard", &shard, &good, "not 8");
    let class = edit_json(&p.inclusion, |v| v["class"] = json!(3));
    unusable("class", &class, &good, "class");
    let symbol = edit_json(&p.inclusion, |v| {
        v["entries"][0]["instrument"] = json!("NOPE")
    });
    unusable("unknown symbol", &symbol, &good, "entries:1");
    // A dense file against a slot manifest, and a slot file against a dense one.
    unusable(
        "a dense file",
        &published().inclusion,
        &good,
        "not an epoch manifest",
    );
    unusable(
        "a slot file",
        &p.inclusion,
        &public_files(),
        "not a slot-table epoch manifest",
    );
    let mut f = good.clone();
    f.manifest = edit_json(&f.manifest, |m| {
        for c in m["classes"].as_array_mut().unwrap() {
            c["data_commitments"] = json!([]);
        }
    });
    unusable("no commitments", &p.inclusion, &f, "data commitments");
    let mut f = good.clone();
    f.manifest = edit_json(&f.manifest, |m| {
        for c in m["classes"].as_array_mut().unwrap() {
            c["data_commitments"][0][0] = json!("zz");
        }
    });
    unusable("a bad point", &p.inclusion, &f, "malformed");
    assert_eq!(
        srs_paths_of(&good.manifest).unwrap().g1,
        "public/srs/dev-insecure/g1.bin"
    );
    assert_eq!(
        epoch_paths_of(&p.inclusion).unwrap().config,
        "public/0000000001/config.toml"
    );
}

/// The page built by `scripts/build-web.sh` (web/dist).
fn built_page() -> PathBuf {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("dist");
    assert!(
        dist.join("pkg/zkmargin_web_bg.wasm").is_file(),
        "no built page in {}: run scripts/build-web.sh first",
        dist.display()
    );
    dist
}

/// What `scripts/node/page-check.mjs` saw of the page at `url` for `cases` (screenshots into
/// `shots`); the page must have logged no error and failed no request.
fn page_check(url: &str, shots: &Path, cases: &Value) -> Value {
    let out = Command::new("node")
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/node"))
        .arg("page-check.mjs")
        .arg(url)
        .arg(shots)
        .arg(cases.to_string())
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "page-check.mjs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["errors"], json!([]), "the page logged errors: {seen}");
    seen
}

#[test]
#[ignore = "needs the page built by scripts/build-web.sh and Debian's chromium; .ci/run runs it"]
fn the_served_page_verifies_in_chromium_and_rejects_tampered_files() {
    let p = published();
    let web = built_page();
    let server = Server::start(&p.archive, Some(&web), 20, 40);
    let work = scratch("web-page");
    let shots = std::env::var_os("ZKMARGIN_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| work.join("screenshots"));
    fs::create_dir_all(&shots).unwrap();
    let good = work.join("inclusion.json");
    fs::write(&good, &p.inclusion).unwrap();
    let tampered = edit_json(&p.inclusion, |v| {
        let b = v["balances"][0].as_str().unwrap().to_string();
        v["balances"][0] = json!(format!("{b}1"));
    });
    let cases = json!([
        { "name": "verified", "file": good, "identifier": p.identifier },
        { "name": "tampered-balance", "text": String::from_utf8(tampered).unwrap(),
          "identifier": p.identifier },
        { "name": "other-identifier", "file": good, "identifier": "someone-else" },
        { "name": "not-a-file", "text": "{\"hello\": 1}", "identifier": "" },
    ]);
    let seen = page_check(&format!("{}/", server.base), &shots, &cases);
    eprintln!("screenshots in {}", shots.display());
    let case = |name: &str| {
        seen["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no case {name}: {seen}"))
            .clone()
    };

    // The demo epoch is proved under the development SRS: the good file is shown as a
    // warning (amber), not as verified, and the verdict says the proof proves nothing.
    let ok = case("verified");
    assert_eq!(ok["state"], "warning", "{ok}");
    assert_eq!(ok["failed"], json!([]));
    assert_eq!(
        ok["warned"],
        json!(["trusted setup (a real ceremony is required with --strict)"])
    );
    assert_eq!(ok["passed"], 9);
    assert!(
        ok["verdict"]
            .as_str()
            .unwrap()
            .contains("INSECURE development parameters: this proof proves nothing"),
        "{ok}"
    );
    // The prices and statement shown are the epoch's, as the native check reports them.
    let native = check(&p.inclusion, Some(&p.identifier), &public_files()).unwrap();
    let prices: Vec<Value> = native
        .headline
        .prices
        .iter()
        .map(|q| json!(q.median.as_deref().unwrap()))
        .collect();
    let shown: Vec<Value> = ok["prices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row[1].clone())
        .collect();
    assert_eq!(shown, prices);
    assert_eq!(
        ok["headline"]["Statement digest"],
        json!(native.statement_digest)
    );
    assert_eq!(ok["account"]["Equity"], json!(native.account.equity));

    let bad = case("tampered-balance");
    assert_eq!(bad["state"], "rejected", "{bad}");
    assert_eq!(bad["failed"], json!([OPENING_CHECK]));
    let other = case("other-identifier");
    assert_eq!(other["state"], "rejected", "{other}");
    assert_eq!(other["failed"], json!([ID_CHECK]));
    let junk = case("not-a-file");
    assert_eq!(junk["state"], "error", "{junk}");
    assert!(
        junk["verdict"]
            .as_str()
            .unwrap()
            .contains("not an inclusion file"),
        "{junk}"
    );
    for name in [
        "verified",
        "tampered-balance",
        "other-identifier",
        "not-a-file",
    ] {
        assert!(shots.join(format!("{name}.png")).is_file());
    }
}

#[test]
#[ignore = "needs the page built by scripts/build-web.sh and Debian's chromium; .ci/run runs it"]
fn the_served_page_shows_a_slot_holders_entries_in_chromium() {
    let p = published_slots();
    let server = Server::start(&p.archive, Some(&built_page()), 20, 40);
    let work = scratch("web-slot-page");
    let good = work.join("inclusion.json");
    fs::write(&good, &p.inclusion).unwrap();
    let tampered = edit_json(&p.inclusion, |v| {
        v["entries"].as_array_mut().unwrap().pop();
    });
    let cases = json!([
        { "name": "slot-verified", "file": good, "identifier": p.identifier },
        { "name": "slot-entry-dropped", "text": String::from_utf8(tampered).unwrap(),
          "identifier": p.identifier },
    ]);
    let seen = page_check(&format!("{}/", server.base), &work, &cases);
    let ok = &seen["cases"][0];
    assert_eq!(ok["state"], "warning", "{ok}");
    assert_eq!(ok["failed"], json!([]));
    assert!(
        ok["verdict"].as_str().unwrap().contains("Class of "),
        "{ok}"
    );
    // The tables show the entries the native check reports, positions with their cost.
    let native = check(&p.inclusion, Some(&p.identifier), &files_of(p)).unwrap();
    let rows = |list: &[zkmargin_web::Amount]| -> Value {
        json!(list
            .iter()
            .map(|a| match &a.cost {
                Some(cost) => json!([a.symbol, a.amount, format!("cost {cost}")]),
                None => json!([a.symbol, a.amount]),
            })
            .collect::<Vec<_>>())
    };
    if !native.balances.is_empty() {
        assert_eq!(ok["balances"], rows(&native.balances));
    }
    if !native.positions.is_empty() {
        assert_eq!(ok["positions"], rows(&native.positions));
    }
    let bad = &seen["cases"][1];
    assert_eq!(bad["state"], "rejected", "{bad}");
    assert_eq!(bad["failed"], json!([SLOT_OPENING_CHECK]));
}

/// A plain static file server (Python's) over `dir`; killed on drop.
struct StaticHost(std::process::Child, String);

impl StaticHost {
    fn start(dir: &Path) -> StaticHost {
        use std::io::{BufRead, BufReader};
        let mut child = Command::new("python3")
            .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1"])
            .current_dir(dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("(").and_then(|u| u.strip_suffix(")")))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        StaticHost(child, url)
    }
}

impl Drop for StaticHost {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
#[ignore = "needs the page built by scripts/build-web.sh and Debian's chromium; .ci/run runs it"]
fn the_page_works_from_any_static_host_beside_the_public_archive() {
    let p = published();
    let site = scratch("web-static");
    for entry in fs::read_dir(built_page()).unwrap() {
        let entry = entry.unwrap();
        std::os::unix::fs::symlink(entry.path(), site.join(entry.file_name())).unwrap();
    }
    std::os::unix::fs::symlink(p.archive.join("public"), site.join("public")).unwrap();
    let host = StaticHost::start(&site);
    let good = site.join("inclusion.json");
    fs::write(&good, &p.inclusion).unwrap();
    let cases = json!([{ "name": "static", "file": good, "identifier": p.identifier }]);
    let seen = page_check(&host.1, &site, &cases);
    assert_eq!(seen["cases"][0]["state"], "warning", "{seen}");
}
