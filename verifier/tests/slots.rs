//! Slot-table bundles (account table v2) end to end: a tiered venue with index assets proved
//! class by class, verified, and the epoch-level attacks — a shard proved against an edited
//! tier table, the same account in two classes, a class dropped, a class shape not the
//! config's — each refused by the check named for it.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use zkmargin_bundle::slots::{class_shard_dir, SlotBundle};
use zkmargin_bundle::{instances_json, PROOF};
use zkmargin_circuits::slots::circuit::keygen;
use zkmargin_core::engine::{evaluate, Outcome, Snapshot};
use zkmargin_layout::manifest::{SlotManifest, MANIFEST};
use zkmargin_layout::Fr;
use zkmargin_prover::epoch::master_secret;
use zkmargin_prover::pipeline::PipelineError;
use zkmargin_prover::report::Silent;
use zkmargin_prover::slots::{
    prepare_slots, prove_slot_epoch, prove_slot_shard, write_slot_bundle,
};
use zkmargin_srs::{self as srs, SrsKind};
use zkmargin_testkit::{copy_public, dirs, failed, prove_slot_bundle, scratch, venue_snapshot};
use zkmargin_verifier::bundle::UnusableBundle;
use zkmargin_verifier::slots::check_slot_bundle;

const TABLE: &str = "every shard is proved against the instrument table rebuilt from the config \
                     and the oracle's medians";
const ORDER: &str =
    "ids strictly increase across every shard of every class (one order, class tags)";
const TOTALS: &str = "the shards' liabilities, open interest and totals add up to the statement";
const SHAPES: &str = "every class's shard shape fits the config";
const COMMITMENTS: &str = "the manifest's data commitments are the shard proofs'";
const SNARK: &str = "every shard's SNARK verifies (key rebuilt from its class's shape)";

struct Proved {
    root: PathBuf,
    snapshot: PathBuf,
    bundle: PathBuf,
}

/// One venue of 120 accounts proved once for every test of this binary.
fn proved() -> &'static Proved {
    static P: OnceLock<Proved> = OnceLock::new();
    P.get_or_init(|| {
        let root = scratch("slot-bundles");
        let snapshot = root.join("venue");
        venue_snapshot(&snapshot, 120, 5);
        let bundle = root.join("bundle");
        prove_slot_bundle(&snapshot, None, &bundle);
        Proved {
            root,
            snapshot,
            bundle,
        }
    })
}

fn check(bundle: &Path) -> Result<Vec<String>, UnusableBundle> {
    let load = |label: &str, k: u32| {
        let kind = SrsKind::from_label(label).ok_or_else(|| format!("unknown SRS {label}"))?;
        srs::load(&dirs().srs, kind, k).map_err(|e| e.to_string())
    };
    let checked = check_slot_bundle(bundle, None, false, None, &load)?;
    Ok(failed(&checked.report.checks))
}

fn public_copy(name: &str) -> PathBuf {
    let to = proved().root.join(format!("{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&to);
    copy_public(&proved().bundle, &to);
    to
}

#[test]
fn an_honest_venue_epoch_verifies_class_by_class_and_states_what_the_engine_states() {
    let p = proved();
    let bundle = SlotBundle::read(&p.bundle).unwrap();
    assert!(
        bundle.manifest.classes.len() >= 2,
        "the venue fills two classes: {:?}",
        bundle.manifest.classes
    );
    assert_eq!(check(&p.bundle).unwrap(), Vec::<String>::new());
    let Outcome::Evaluated(eval) =
        evaluate(&Snapshot::load(&p.snapshot).unwrap(), [0; 32]).unwrap()
    else {
        panic!("the venue halted")
    };
    assert_eq!(bundle.manifest.statement, eval.statement);
    assert!(
        eval.statement.under_margined_accounts > 0,
        "the venue has accounts to count"
    );
}

#[test]
fn a_shard_proved_against_an_edited_tier_table_is_refused() {
    let p = proved();
    let secret = master_secret(&p.bundle).unwrap();
    let epoch = prepare_slots(&p.snapshot, [0; 32], Some(secret)).unwrap();
    let shape = &epoch.classes[0].shape;
    let mut witness = epoch.shard_witness(0, 0);
    // A tier row no slot of the shard reads: editing it changes no account and no total, so
    // only the tie to the epoch's instrument table can notice.
    let read: HashSet<usize> = witness
        .accounts
        .iter()
        .flat_map(|a| {
            a.slots
                .iter()
                .filter(|s| s.empty == Fr::zero())
                .map(|s| s.reads)
        })
        .collect();
    let row = (0..witness.instruments.len())
        .rev()
        .find(|r| !read.contains(r) && witness.instruments[*r].tuple.kind == Fr::one())
        .expect("a tier row the shard does not read");
    witness.instruments[row].tuple.amount += Fr::one();
    let params = srs::load(&dirs().srs, SrsKind::Dev, shape.k).unwrap();
    let pk = keygen(&params, shape).unwrap();
    let proof = prove_slot_shard(&params, &pk, &witness, &secret, 0).unwrap();
    // The proof is valid for the table it claims …
    zkmargin_keys::snark::verify(&params, pk.get_vk(), &proof.instances, &proof.proof).unwrap();
    let tampered = public_copy("edited-tier");
    let dir = tampered.join(class_shard_dir(epoch.classes[0].class, 0));
    fs::write(dir.join(PROOF), &proof.proof).unwrap();
    fs::write(dir.join("instances.json"), instances_json(&proof.instances)).unwrap();
    // … and that table is not the epoch's.
    let failed = check(&tampered).unwrap();
    assert!(failed.contains(&TABLE.to_string()), "{failed:?}");
    assert!(!failed.contains(&TOTALS.to_string()), "{failed:?}");
}

#[test]
fn the_same_account_in_two_classes_is_refused() {
    let p = proved();
    // Split one account of 6+ entries: its first entry under its identifier, the rest (5+,
    // the 16-slot class) under another, so the engine states the split epoch exactly.
    let root = scratch("split-account");
    let snapshot = root.join("venue");
    copy_public(&p.snapshot, &snapshot);
    let csv = fs::read_to_string(snapshot.join("holdings.csv")).unwrap();
    let mut lines: Vec<String> = csv.lines().map(String::from).collect();
    let account = |l: &String| l.split(',').next().unwrap().to_string();
    let mut start = 1;
    let (first, len) = loop {
        let id = account(&lines[start]);
        let len = lines[start..]
            .iter()
            .take_while(|l| account(l) == id)
            .count();
        if len >= 6 {
            break (start, len);
        }
        start += len;
        assert!(start < lines.len(), "an account of 6 entries");
    };
    let identifier = account(&lines[first]);
    let other = format!("{identifier}-part");
    for line in &mut lines[first + 1..first + len] {
        *line = line.replacen(&identifier, &other, 1);
    }
    fs::write(snapshot.join("holdings.csv"), lines.join("\n") + "\n").unwrap();

    let mut epoch = prepare_slots(&snapshot, [0; 32], None).unwrap();
    let id_of = |epoch: &zkmargin_prover::slots::SlotEpoch, who: &str| {
        epoch
            .classes
            .iter()
            .enumerate()
            .find_map(|(c, class)| {
                let i = class
                    .accounts
                    .iter()
                    .position(|(_, h)| h.identifier == who)?;
                Some((c, i, class.accounts[i].0))
            })
            .unwrap()
    };
    let (c0, _, id) = id_of(&epoch, &identifier);
    let (c1, i1, _) = id_of(&epoch, &other);
    assert!(c0 < c1, "the two parts fall in two classes");
    // The dishonest prover gives the second part the first part's id: one account, two blocks.
    epoch.classes[c1].accounts[i1].0 = id;
    epoch.classes[c1].accounts.sort_by_key(|a| a.0);
    let load =
        |k: u32| -> Result<_, PipelineError> { Ok(srs::load(&dirs().srs, SrsKind::Dev, k)?) };
    let bundle = prove_slot_epoch(&epoch, SrsKind::Dev.label(), &load, &Silent).unwrap();
    let out = root.join("bundle");
    write_slot_bundle(&bundle, &epoch, &snapshot, &out).unwrap();
    assert_eq!(check(&out).unwrap(), vec![ORDER.to_string()]);
}

#[test]
fn a_dropped_class_is_refused() {
    let tampered = public_copy("dropped-class");
    let path = tampered.join(MANIFEST);
    let mut m = SlotManifest::parse(&fs::read(&path).unwrap()).unwrap();
    let dropped = m.classes.pop().unwrap();
    fs::remove_dir_all(tampered.join("classes").join(dropped.class.to_string())).unwrap();
    fs::write(&path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    assert_eq!(check(&tampered).unwrap(), vec![TOTALS.to_string()]);
}

#[test]
fn a_data_commitment_other_than_the_proofs_is_refused() {
    // Holders open against the manifest's commitments; a swapped pair would let a block
    // open against columns no proof commits to.
    let tampered = public_copy("data-commitments");
    let path = tampered.join(MANIFEST);
    let mut m = SlotManifest::parse(&fs::read(&path).unwrap()).unwrap();
    m.classes[0].data_commitments[0].swap(0, 4);
    fs::write(&path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    assert_eq!(check(&tampered).unwrap(), vec![COMMITMENTS.to_string()]);
}

#[test]
fn a_class_shape_other_than_the_config_gives_is_refused_before_any_key_is_built() {
    let tampered = public_copy("other-shape");
    let path = tampered.join(MANIFEST);
    let mut m = SlotManifest::parse(&fs::read(&path).unwrap()).unwrap();
    m.classes[0].shape.value_bits -= 16;
    fs::write(&path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    let failed = check(&tampered).unwrap();
    assert!(failed.contains(&SHAPES.to_string()), "{failed:?}");
    assert!(failed.contains(&SNARK.to_string()), "{failed:?}");
}

#[test]
fn a_slot_epoch_chains_to_the_slot_epoch_before_it() {
    let p = proved();
    let root = scratch("slot-chain");
    let next = root.join("venue-2");
    let options = zkmargin_fixtures::VenueOptions {
        epoch: 2,
        ..zkmargin_testkit::venue_options(120, 5)
    };
    zkmargin_fixtures::generate_venue(&options, &next).unwrap();
    let bundle = root.join("bundle-2");
    let proved = prove_slot_bundle(&next, Some(&p.bundle), &bundle);
    let first = SlotBundle::read(&p.bundle).unwrap();
    assert_eq!(
        hex::encode(proved.manifest.statement.prev_digest),
        first.manifest.statement_digest
    );
    let load = |label: &str, k: u32| {
        let kind = SrsKind::from_label(label).ok_or_else(|| format!("unknown SRS {label}"))?;
        srs::load(&dirs().srs, kind, k).map_err(|e| e.to_string())
    };
    let checked = check_slot_bundle(&bundle, Some(&p.bundle), false, None, &load).unwrap();
    assert_eq!(failed(&checked.report.checks), Vec::<String>::new());
    assert!(checked
        .report
        .checks
        .iter()
        .any(|c| c.name == "chains to the previous epoch" && c.passed));
    // The same epoch checked against a predecessor it does not follow: the link fails.
    let wrong = check_slot_bundle(&bundle, Some(&bundle), false, None, &load).unwrap();
    assert!(failed(&wrong.report.checks).contains(&"chains to the previous epoch".to_string()));
}

#[test]
fn a_malformed_slot_manifest_is_unusable_naming_the_file_and_the_reason() {
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(proved().bundle.join(MANIFEST)).unwrap()).unwrap();
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 5] = [
        ("no classes", |m| m["classes"] = serde_json::json!([])),
        ("not strictly increasing", |m| {
            let first = m["classes"][0].clone();
            m["classes"].as_array_mut().unwrap().push(first);
        }),
        ("no shards", |m| m["classes"][0]["shards"] = 0.into()),
        ("data commitments: not 7 per shard", |m| {
            m["classes"][0]["data_commitments"][0]
                .as_array_mut()
                .unwrap()
                .pop();
        }),
        ("missing field `shape`", |m| {
            m["classes"][0].as_object_mut().unwrap().remove("shape");
        }),
    ];
    for (reason, edit) in edits {
        let tampered = public_copy("malformed-manifest");
        let mut m = json.clone();
        edit(&mut m);
        fs::write(tampered.join(MANIFEST), serde_json::to_vec(&m).unwrap()).unwrap();
        let message = match check(&tampered) {
            Err(e) => e.to_string(),
            Ok(failed) => panic!("{reason}: usable, failing {failed:?}"),
        };
        assert!(
            message.contains("manifest.json: malformed") && message.contains(reason),
            "{reason}: {message}"
        );
    }
}
