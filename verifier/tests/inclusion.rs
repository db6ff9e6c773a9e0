//! Account holders' inclusion proofs (k = 12) checked by the verifier library: every
//! attack of the threat model's inclusion section (docs/threat-model.md) is rejected, each by
//! the check it targets.

use std::path::PathBuf;
use std::sync::OnceLock;

use zkmargin_inclusion::{g1_to_hex, InclusionFile};
use zkmargin_testkit::{check_inclusion as verify, failed as failed_checks, TwoEpochs};
use zkmargin_verifier::inclusion::InclusionReport;

fn epochs() -> &'static TwoEpochs {
    static E: OnceLock<TwoEpochs> = OnceLock::new();
    E.get_or_init(|| TwoEpochs::build("inclusion"))
}

fn failed(r: &InclusionReport) -> Vec<String> {
    failed_checks(&r.checks)
}

const OPENING: &str = "the KZG opening of the account data columns equals this account";

fn files_by_row() -> Vec<(InclusionFile, PathBuf, String)> {
    epochs().files_by_row()
}

fn edited(name: &str, f: &InclusionFile) -> PathBuf {
    let path = epochs().root.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_vec(f).unwrap()).unwrap();
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
    use halo2_proofs::halo2curves::bn256::G1Affine;
    use halo2_proofs::halo2curves::group::Curve;
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
