//! Inclusion files of slot-table epochs end to end: every holder of a tiered venue gets a
//! file, each verifies against the bundle with exactly its entries, and a file edited in any
//! way a dishonest operator or a confused holder could (an entry's amount, an entry dropped or
//! added, another block, another class, another identifier) fails the check named for it;
//! malformed files are unusable, naming the field.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use zkmargin_inclusion::slots::{Entry, SlotInclusionFile};
use zkmargin_layout::slots::CLASSES;
use zkmargin_prover::report::Silent;
use zkmargin_prover::slot_inclusion::{write_all_slots, SlotAccounts, SlotInclusionProver};
use zkmargin_srs::{self as srs, SrsKind};
use zkmargin_testkit::{dirs, failed, prove_slot_bundle, scratch, venue_snapshot};
use zkmargin_verifier::inclusion::{verify_inclusion, InclusionReport, UnusableInclusion};

/// A named edit of one entry.
type EntryEdit = (&'static str, fn(&mut Entry));
/// A named edit of a file, and the field its refusal must name.
type FileEdit = (&'static str, fn(&mut SlotInclusionFile), &'static str);

const OPENING: &str = "the KZG opening of the slot data columns equals this account's entries";
const ID: &str = "H(identifier ‖ salt), tagged with the class, is the block's id";
const TAG: &str = "the id carries the class tag";
const BLOCK: &str = "the block is an account block of the class's shard";

struct Proved {
    root: PathBuf,
    bundle: PathBuf,
    files: PathBuf,
    /// `(identifier, id)` of every holder, in table order.
    holders: Vec<(String, String)>,
}

/// One venue proved and every inclusion file written once for every test of this binary.
fn proved() -> &'static Proved {
    static P: OnceLock<Proved> = OnceLock::new();
    P.get_or_init(|| {
        let root = scratch("slot-inclusion");
        let snapshot = root.join("venue");
        venue_snapshot(&snapshot, 60, 11);
        let bundle = root.join("bundle");
        prove_slot_bundle(&snapshot, None, &bundle);
        let accounts = SlotAccounts::load(&bundle).unwrap();
        let files = root.join("inclusion");
        write_all_slots(&accounts, &files, &dirs().srs, &Silent).unwrap();
        let holders = accounts
            .holders()
            .map(|(i, id)| (i.to_string(), id))
            .collect();
        Proved {
            root,
            bundle,
            files,
            holders,
        }
    })
}

fn verify(file: &Path, identifier: Option<&str>) -> Result<InclusionReport, UnusableInclusion> {
    let d = dirs();
    let kind = |l: &str| SrsKind::from_label(l).ok_or_else(|| format!("unknown SRS {l}"));
    let load = |l: &str, k: u32| srs::load(&d.srs, kind(l)?, k).map_err(|e| e.to_string());
    let load_g2 = |l: &str, p: &_| srs::g2_powers(&d.srs, kind(l)?, p).map_err(|e| e.to_string());
    verify_inclusion(&proved().bundle, file, identifier, None, &load, &load_g2)
}

fn read(id: &str) -> SlotInclusionFile {
    let bytes = fs::read(proved().files.join(format!("{id}.json"))).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn write(name: &str, file: &SlotInclusionFile) -> PathBuf {
    let path = proved().root.join(format!("{name}.json"));
    fs::write(&path, serde_json::to_vec(file).unwrap()).unwrap();
    path
}

/// The first holder (and its file) whose file satisfies `pick`.
fn holder(pick: impl Fn(&SlotInclusionFile) -> bool) -> (String, SlotInclusionFile) {
    proved()
        .holders
        .iter()
        .map(|(identifier, id)| (identifier.clone(), read(id)))
        .find(|(_, f)| pick(f))
        .expect("a holder of that kind")
}

/// A position of non-zero size.
fn is_position(e: &Entry) -> bool {
    !e.cost.is_empty() && e.amount.bytes().any(|b| (b'1'..=b'9').contains(&b))
}

fn has_position(f: &SlotInclusionFile) -> bool {
    f.entries.iter().any(is_position)
}

#[test]
fn every_holder_gets_a_file_and_one_of_every_class_verifies_with_exactly_its_entries() {
    let p = proved();
    assert_eq!(fs::read_dir(&p.files).unwrap().count(), p.holders.len());
    let mut classes: Vec<usize> = p.holders.iter().map(|(_, id)| read(id).class).collect();
    classes.dedup();
    assert!(
        classes.len() >= 2,
        "the venue fills two classes: {classes:?}"
    );
    for class in classes {
        let (identifier, file) = holder(|f| f.class == class);
        let path = write(&format!("honest-{class}"), &file);
        let report = verify(&path, Some(&identifier)).unwrap();
        assert!(report.passed(), "{:?}", report.checks);
        assert_eq!(report.class, Some(class));
        assert_eq!(report.entries.as_deref(), Some(file.entries.as_slice()));
    }
}

#[test]
fn one_account_on_demand_gets_the_same_entries_and_a_one_level_opening_that_verifies() {
    let p = proved();
    let accounts = SlotAccounts::load(&p.bundle).unwrap();
    let (identifier, id) = &p.holders[p.holders.len() / 2];
    let (c, shard, block) = accounts.locate(identifier).unwrap();
    let prover = SlotInclusionProver::open(&accounts, c, shard, &dirs().srs, &Silent).unwrap();
    let file = prover.prove(block).unwrap();
    assert!(prover.self_check(&file));
    assert_eq!(file.openings.len(), 1);
    let batch = read(id);
    assert_eq!((&file.entries, file.block), (&batch.entries, batch.block));
    let report = verify(&write("on-demand", &file), Some(identifier)).unwrap();
    assert!(report.passed(), "{:?}", report.checks);
}

#[test]
fn an_entry_with_another_amount_or_cost_fails_the_opening() {
    let (identifier, file) = holder(has_position);
    let position = file.entries.iter().position(is_position).unwrap();
    let edits: [EntryEdit; 3] = [
        ("size", |e| e.amount = bump(&e.amount)),
        ("cost", |e| e.cost = bump(&e.cost)),
        ("side", |e| {
            e.amount = match e.amount.strip_prefix('-') {
                Some(abs) => abs.to_string(),
                None => format!("-{}", e.amount),
            }
        }),
    ];
    for (name, edit) in edits {
        let mut tampered = file.clone();
        edit(&mut tampered.entries[position]);
        let report = verify(
            &write(&format!("edited-{name}"), &tampered),
            Some(&identifier),
        );
        assert_eq!(failed(&report.unwrap().checks), [OPENING], "{name}");
    }
    let (identifier, file) = holder(|f| f.entries.iter().any(|e| e.cost.is_empty()));
    let mut tampered = file.clone();
    let balance = file.entries.iter().position(|e| e.cost.is_empty()).unwrap();
    tampered.entries[balance].amount = bump(&file.entries[balance].amount);
    let report = verify(&write("edited-balance", &tampered), Some(&identifier)).unwrap();
    assert_eq!(failed(&report.checks), [OPENING]);
}

/// The decimal `v` plus one unit of its last digit (same decimals, so it still parses).
fn bump(v: &str) -> String {
    let (neg, digits) = match v.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, v),
    };
    let mut bytes = digits.as_bytes().to_vec();
    let last = bytes.iter().rposition(u8::is_ascii_digit).unwrap();
    bytes[last] = if bytes[last] == b'9' {
        b'8'
    } else {
        bytes[last] + 1
    };
    format!(
        "{}{}",
        if neg { "-" } else { "" },
        String::from_utf8(bytes).unwrap()
    )
}

#[test]
fn an_entry_dropped_or_one_added_fails_the_opening() {
    let (identifier, file) = holder(|f| f.entries.len() >= 2);
    let mut dropped = file.clone();
    dropped.entries.pop();
    let report = verify(&write("dropped", &dropped), Some(&identifier)).unwrap();
    assert_eq!(failed(&report.checks), [OPENING]);
    // Another holder's entry of an instrument this one does not hold.
    let held: Vec<&str> = file.entries.iter().map(|e| e.instrument.as_str()).collect();
    let (_, other) = holder(|f| {
        f.entries
            .iter()
            .any(|e| !held.contains(&e.instrument.as_str()))
    });
    let extra = other
        .entries
        .iter()
        .find(|e| !held.contains(&e.instrument.as_str()))
        .unwrap();
    let mut added = file.clone();
    added.entries.push(extra.clone());
    if added.entries.len() <= zkmargin_layout::slots::CLASSES[added.class] {
        let report = verify(&write("added", &added), Some(&identifier)).unwrap();
        assert_eq!(failed(&report.checks), [OPENING]);
    }
}

#[test]
fn a_file_moved_to_another_block_or_another_holders_identifier_is_refused() {
    let (identifier, file) = holder(|f| f.block > 0);
    let mut moved = file.clone();
    moved.block -= 1;
    moved.openings.last_mut().unwrap().blocks = [moved.block, moved.block + 1];
    let report = verify(&write("moved", &moved), Some(&identifier)).unwrap();
    assert!(failed(&report.checks).contains(&OPENING.to_string()));
    let mut past = file.clone();
    past.block = 1 << 30;
    past.openings = vec![];
    let report = verify(&write("past-the-shard", &past), Some(&identifier)).unwrap();
    assert!(failed(&report.checks).contains(&BLOCK.to_string()));

    let (other, _) = holder(|f| f.id != file.id);
    let report = verify(&write("honest-again", &file), Some(&other)).unwrap();
    assert_eq!(failed(&report.checks), [ID]);
}

#[test]
fn an_id_without_its_class_tag_is_refused() {
    let (identifier, file) = holder(|_| true);
    let mut untagged = file.clone();
    // Flip the class tag (the top bits of the 192-bit id, byte 8 of 32 big-endian).
    let mut id = hex::decode(&file.id).unwrap();
    id[8] ^= 0xc0;
    untagged.id = hex::encode(id);
    let report = verify(&write("untagged", &untagged), Some(&identifier)).unwrap();
    let failed = failed(&report.checks);
    assert!(failed.contains(&TAG.to_string()), "{failed:?}");
    assert!(failed.contains(&OPENING.to_string()), "{failed:?}");
}

#[test]
fn malformed_files_are_unusable_naming_the_field() {
    let (identifier, file) = holder(has_position);
    let cases: [FileEdit; 5] = [
        (
            "unknown-symbol",
            |f| f.entries[0].instrument = "NOPE".into(),
            "entries:1: instrument: unknown symbol `NOPE`",
        ),
        (
            "twice",
            |f| {
                let e = f.entries[0].clone();
                f.entries.push(e);
            },
            "twice for account",
        ),
        (
            "bad-amount",
            |f| f.entries[0].amount = "1e9".into(),
            "entries:1: amount:",
        ),
        ("version", |f| f.format_version = 2, "format version 2"),
        ("class", |f| f.class = 7, "class: the epoch has no class 7"),
    ];
    for (name, edit, expect) in cases {
        let mut bad = file.clone();
        edit(&mut bad);
        match verify(
            &write(&format!("malformed-{name}"), &bad),
            Some(&identifier),
        ) {
            Err(e @ UnusableInclusion::File { .. }) => {
                assert!(e.to_string().contains(expect), "{name}: {e}")
            }
            Ok(r) => panic!("{name}: not refused as unusable: {:?}", failed(&r.checks)),
            Err(e) => panic!("{name}: {e}"),
        }
    }
    // More entries than the named class holds: a file of a larger class relabelled with the
    // smallest (whose first shard exists) is refused by its count.
    let smallest = proved()
        .holders
        .iter()
        .map(|(_, id)| read(id).class)
        .min()
        .unwrap();
    let slots = CLASSES[smallest];
    let (identifier, mut big) = holder(|f| f.entries.len() > slots);
    big.class = smallest;
    big.shard = 0;
    match verify(&write("malformed-count", &big), Some(&identifier)) {
        Err(e @ UnusableInclusion::File { .. }) => assert!(
            e.to_string()
                .contains(&format!("entries; the class holds {slots}")),
            "count: {e}"
        ),
        Ok(r) => panic!("count: not refused as unusable: {:?}", failed(&r.checks)),
        Err(e) => panic!("count: {e}"),
    }
}
