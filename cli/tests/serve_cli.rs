//! `zkmargin token` and `zkmargin serve`'s arguments: tokens for a whole accounts.csv, and the
//! refusals (malformed csv, a web directory without a page), exit 2 with the reason.

mod common;

use std::fs;
use std::path::PathBuf;
use std::sync::OnceLock;

use common::{stdout_of, zkmargin};
use zkmargin_testkit::{one_epoch_archive, scratch};

/// An archive with epoch 1 (16 accounts) and the identifier of its first account.
fn archive() -> &'static (PathBuf, String) {
    static A: OnceLock<(PathBuf, String)> = OnceLock::new();
    A.get_or_init(|| one_epoch_archive("serve-cli", 3))
}

#[test]
fn tokens_for_a_whole_accounts_csv_and_malformed_csvs_are_refused() {
    let (archive, identifier) = archive();
    let csv = archive.parent().unwrap().join("source/snap-1/accounts.csv");
    let listed = stdout_of(zkmargin().arg("token").arg(archive).arg("--csv").arg(&csv));
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 16, "{listed}");
    let own = stdout_of(
        zkmargin()
            .arg("token")
            .arg(archive)
            .args(["--account", identifier.as_str()]),
    );
    assert_eq!(lines[0], format!("{identifier},{}", own.trim()));

    let dir = scratch("serve-token-csv");
    let refused = |bytes: &[u8], why: &str| {
        let bad = dir.join("accounts.csv");
        fs::write(&bad, bytes).unwrap();
        let out = zkmargin()
            .arg("token")
            .arg(archive)
            .arg("--csv")
            .arg(&bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{why}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(why), "{why}: {err}");
    };
    refused(b"account,USDC\n,5\n", "line 2: no account identifier");
    refused(b"account,USDC\nalice,1\nbob\n", "accounts.csv");
    let missing = zkmargin()
        .arg("token")
        .arg(archive)
        .arg("--csv")
        .arg(dir.join("absent.csv"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn a_web_directory_without_a_page_is_refused() {
    let empty = scratch("serve-no-page");
    let out = zkmargin()
        .arg("serve")
        .arg(&archive().0)
        .args(["--addr", "127.0.0.1:0", "--web"])
        .arg(&empty)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no index.html"));
}
