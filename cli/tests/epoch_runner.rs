//! The epoch runner over an archive: `zkmargin epoch` publishes the next snapshot chained to
//! the last epoch, with every account's inclusion proof reachable through its access token;
//! a crash at each step (failpoints) or a `kill -9` at any moment leaves the archive valid,
//! and the next run resumes; unusable sources and a second writer are refused.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{stdout_of, zkmargin};
use zkmargin_archive::{Archive, TokenHash};
use zkmargin_srs::{self as srs, SrsKind};
use zkmargin_testkit::{first_identifier, home, margined_snapshot, scratch, venue_options};
use zkmargin_verifier::bundle::verify_bundle;
use zkmargin_verifier::inclusion::verify_inclusion;

const ACCOUNTS: u64 = 24;

/// A source directory holding snapshots `snap-<epoch>` of `epochs`.
fn source(dir: &Path, epochs: &[u64]) -> PathBuf {
    let src = dir.join("source");
    for &epoch in epochs {
        snapshot(&src.join(format!("snap-{epoch}")), epoch, 5);
    }
    src
}

fn snapshot(out: &Path, epoch: u64, seed: u64) {
    margined_snapshot(out, ACCOUNTS, epoch, seed);
}

fn epoch(src: &Path, archive: &Path) -> std::process::Output {
    zkmargin()
        .arg("epoch")
        .arg(src)
        .arg(archive)
        .output()
        .unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts that the run exited with `code` and said `why`.
fn refused(out: std::process::Output, code: i32, why: &str) {
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "{text}");
    assert!(text.contains(why), "{text}");
}

fn ok(out: std::process::Output) -> String {
    assert!(out.status.success(), "{}", stderr(&out));
    stderr(&out)
}

fn indexed(archive: &Path) -> Vec<u64> {
    let index = Archive::open(archive).unwrap().index().unwrap();
    index.epoch_numbers().unwrap().into_iter().collect()
}

/// What a reader relies on: the indexed epochs are 1..=n, each with a verifying public bundle
/// chained to the one before, no private data on the public side, and one inclusion file per
/// account on the private side.
fn assert_valid(archive: &Path) {
    assert_valid_with(archive, ACCOUNTS)
}

fn assert_valid_with(archive: &Path, accounts: u64) {
    let a = Archive::open(archive).unwrap();
    let epochs = indexed(archive);
    assert_eq!(epochs, (1..=epochs.len() as u64).collect::<Vec<_>>());
    let dir = home().join("srs");
    let load = |label: &str, k: u32| {
        srs::load(&dir, SrsKind::from_label(label).unwrap(), k).map_err(|e| e.to_string())
    };
    for &e in &epochs {
        let public = a.public_dir(e);
        assert!(
            !public.join("private").exists(),
            "epoch {e}: secrets in public/"
        );
        let prev = (e > 1).then(|| a.public_dir(e - 1));
        let report = verify_bundle(&public, prev.as_deref(), false, None, &load).unwrap();
        let failed: Vec<_> = report.checks.iter().filter(|c| !c.passed).collect();
        assert!(failed.is_empty(), "epoch {e}: {failed:?}");
        let files = fs::read_dir(a.private_dir(e).join("inclusion"))
            .unwrap()
            .count();
        assert_eq!(files as u64, accounts, "epoch {e}: inclusion files");
        let record = a.index().unwrap().epoch(e).unwrap().unwrap();
        assert_eq!(record.accounts, accounts);
    }
}

#[test]
fn epochs_are_published_in_order_chained_and_found_by_token() {
    let dir = scratch("archive-order");
    let src = source(&dir, &[1, 2]);
    let archive = dir.join("archive");
    assert!(ok(epoch(&src, &archive)).contains("epoch 1 published"));
    assert!(ok(epoch(&src, &archive)).contains("epoch 2 published"));
    assert!(ok(epoch(&src, &archive)).contains("up to date"));
    assert_eq!(indexed(&archive), [1, 2]);
    assert_valid(&archive);

    // The holder's token opens their own inclusion proof, which verifies for their identifier.
    let a = Archive::open(&archive).unwrap();
    let identifier = first_identifier(&src.join("snap-2"));
    let token = stdout_of(
        zkmargin()
            .args(["token"])
            .arg(&archive)
            .args(["--account", &identifier]),
    );
    let hash = TokenHash::of_hex(token.trim()).expect("64 hex digits");
    let index = a.index().unwrap();
    let id = index
        .locate(&hash, 2)
        .unwrap()
        .expect("the token opens epoch 2");
    let dir_srs = home().join("srs");
    let kind = |l: &str| SrsKind::from_label(l).unwrap();
    let load = |l: &str, k: u32| srs::load(&dir_srs, kind(l), k).map_err(|e| e.to_string());
    let load_g2 = |l: &str, p: &_| srs::g2_powers(&dir_srs, kind(l), p).map_err(|e| e.to_string());
    let report = verify_inclusion(
        &a.public_dir(2),
        &a.inclusion_path(2, &id),
        Some(&identifier),
        None,
        &load,
        &load_g2,
    )
    .unwrap();
    assert!(report.passed(), "{:?}", report.checks);
    // Another identifier's token does not open this account, and a made-up token opens nothing.
    let other = TokenHash::of(&[7; 32]);
    assert_eq!(index.locate(&other, 2).unwrap(), None);
}

#[test]
fn slot_table_epochs_are_published_chained_with_every_holders_entries() {
    const VENUE: u64 = 40;
    let dir = scratch("archive-slots");
    let src = dir.join("source");
    for epoch in [1, 2] {
        let options = zkmargin_fixtures::VenueOptions {
            epoch,
            ..venue_options(VENUE, 20 + epoch)
        };
        zkmargin_fixtures::generate_venue(&options, &src.join(format!("venue-{epoch}"))).unwrap();
    }
    let archive = dir.join("archive");
    assert!(ok(epoch(&src, &archive)).contains("epoch 1 published"));
    assert!(ok(epoch(&src, &archive)).contains("epoch 2 published"));
    assert_valid_with(&archive, VENUE);
    let a = Archive::open(&archive).unwrap();
    assert!(
        zkmargin_bundle::slots::SlotBundle::is_slot_bundle(&a.public_dir(2)),
        "a tiered venue is proved with the slot table"
    );
    let record = a.index().unwrap().epoch(2).unwrap().unwrap();
    let manifest = zkmargin_bundle::slots::SlotBundle::read(&a.public_dir(2))
        .unwrap()
        .manifest;
    let shards: usize = manifest.classes.iter().map(|c| c.shards).sum();
    assert_eq!(
        record.shards, shards as u64,
        "every class's shards are indexed"
    );

    // The holder's token opens their slot inclusion file, which lists their entries.
    let identifier = first_identifier(&src.join("venue-2"));
    let token = a.existing_access_key().unwrap().token(&identifier);
    let id = a
        .index()
        .unwrap()
        .locate(&TokenHash::of(&token), 2)
        .unwrap()
        .expect("the token opens epoch 2");
    let dir_srs = home().join("srs");
    let kind = |l: &str| SrsKind::from_label(l).unwrap();
    let load = |l: &str, k: u32| srs::load(&dir_srs, kind(l), k).map_err(|e| e.to_string());
    let load_g2 = |l: &str, p: &_| srs::g2_powers(&dir_srs, kind(l), p).map_err(|e| e.to_string());
    let report = verify_inclusion(
        &a.public_dir(2),
        &a.inclusion_path(2, &id),
        Some(&identifier),
        None,
        &load,
        &load_g2,
    )
    .unwrap();
    assert!(report.passed(), "{:?}", report.checks);
    let holdings = fs::read_to_string(src.join("venue-2/holdings.csv")).unwrap();
    let rows = holdings
        .lines()
        .filter(|l| l.split(',').next() == Some(identifier.as_str()))
        .count();
    assert_eq!(report.entries.map(|e| e.len()), Some(rows));
}

#[test]
fn a_crash_at_every_step_leaves_the_archive_valid_and_the_next_run_resumes() {
    let dir = scratch("archive-crash");
    let src = source(&dir, &[1, 2, 3]);
    let archive = dir.join("archive");
    ok(epoch(&src, &archive));
    // Each failpoint aborts the process (as a crash would) at one step of publishing epoch 2.
    for point in ["proved", "inclusion-written", "renamed"] {
        let out = zkmargin()
            .arg("epoch")
            .arg(&src)
            .arg(&archive)
            .env("ZKMARGIN_FAILPOINT", point)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{point}: the failpoint did not fire");
        assert_eq!(indexed(&archive), [1], "{point}: half an epoch is visible");
        assert_valid(&archive);
    }
    // After the index commit: the epoch is published, only work/ is left behind.
    let out = zkmargin()
        .arg("epoch")
        .arg(&src)
        .arg(&archive)
        .env("ZKMARGIN_FAILPOINT", "indexed")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(indexed(&archive), [1, 2]);
    assert_valid(&archive);
    let resumed = ok(epoch(&src, &archive));
    assert!(
        resumed.contains("recovered from an interrupted step"),
        "{resumed}"
    );
    assert!(resumed.contains("epoch 3 published"), "{resumed}");
    assert_valid(&archive);
}

#[test]
fn kill_9_at_any_moment_leaves_the_archive_valid() {
    let dir = scratch("archive-kill");
    let src = source(&dir, &[1, 2]);
    let archive = dir.join("archive");
    ok(epoch(&src, &archive));
    let mut delays_ms = vec![50, 300, 800, 1500, 2500, 4000];
    let mut published = false;
    while let Some(ms) = delays_ms.pop() {
        let mut child = zkmargin()
            .arg("epoch")
            .arg(&src)
            .arg(&archive)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(ms));
        let _ = child.kill();
        let status = child.wait().unwrap();
        published |= status.success();
        assert_valid(&archive);
    }
    let last = ok(epoch(&src, &archive));
    if !published {
        assert!(last.contains("epoch 2 published"), "{last}");
    }
    assert_eq!(indexed(&archive), [1, 2]);
    assert_valid(&archive);
}

#[test]
fn unusable_sources_and_a_second_writer_are_refused() {
    let dir = scratch("archive-refused");
    let archive = dir.join("archive");
    // A gap: the archive ends at 1 and the source's next epoch is 3.
    let src = source(&dir, &[1, 3]);
    ok(epoch(&src, &archive));
    refused(epoch(&src, &archive), 2, "no snapshot for epoch 2");
    // Two snapshots of one epoch.
    fs::remove_dir_all(src.join("snap-3")).unwrap();
    snapshot(&src.join("snap-2"), 2, 5);
    snapshot(&src.join("snap-2b"), 2, 6);
    refused(epoch(&src, &archive), 2, "two snapshots");
    // A config that does not parse.
    fs::remove_dir_all(src.join("snap-2b")).unwrap();
    fs::write(src.join("snap-2/config.toml"), "epoch = \"two\"\n").unwrap();
    refused(epoch(&src, &archive), 2, "snap-2/config.toml");
    // Another process holds the writer's lock.
    let a = Archive::open(&archive).unwrap();
    let lock = a.lock().unwrap();
    refused(epoch(&src, &archive), 1, "another process");
    drop(lock);
    assert_eq!(indexed(&archive), [1]);
    assert_valid(&archive);
}

#[test]
fn a_failed_step_reports_its_own_cause() {
    // The runner's error names the epoch and the failed step's own error (file, line, field),
    // not just "epoch N was not proved"; the archive is left as it was.
    let dir = scratch("archive-cause");
    let archive = dir.join("archive");
    let src = source(&dir, &[1]);
    let accounts = src.join("snap-1/accounts.csv");
    let text = fs::read_to_string(&accounts).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut fields: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    fields[1] = "-1".into();
    lines[1] = fields.join(",");
    fs::write(&accounts, lines.join("\n") + "\n").unwrap();
    let out = epoch(&src, &archive);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(
        text.contains("error: epoch 1: ") && text.contains("accounts.csv:2: "),
        "{text}"
    );
    assert_eq!(text.matches("error:").count(), 1, "reported once: {text}");
    assert!(indexed(&archive).is_empty());
}
