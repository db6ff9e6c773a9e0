//! `zkmargin serve` over a one-epoch archive: health, epochs and statements, public files,
//! inclusion proofs only for the holder's token (one constant answer for everything else),
//! and the per-address rate limit.

mod common;

use std::fs;
use std::path::PathBuf;
use std::sync::OnceLock;

use common::{one_epoch_archive, scratch, stdout_of, zkmargin, Server};
use serde_json::{json, Value};
use zkmargin_archive::Archive;

/// An archive with epoch 1 (16 accounts) and the identifier of its first account.
fn archive() -> &'static (PathBuf, String) {
    static A: OnceLock<(PathBuf, String)> = OnceLock::new();
    A.get_or_init(|| one_epoch_archive("serve", 3))
}

fn serve(rate: &str, burst: &str) -> Server {
    Server::start(&archive().0, &["--rate", rate, "--burst", burst])
}

/// Status and body, whatever the status.
fn get(url: &str) -> (u16, String) {
    answer(ureq::get(url).call())
}

fn post(url: &str, body: Value) -> (u16, String) {
    answer(ureq::post(url).send_json(body))
}

fn answer(r: Result<ureq::Response, ureq::Error>) -> (u16, String) {
    match r {
        Ok(resp) => (resp.status(), resp.into_string().unwrap()),
        Err(ureq::Error::Status(code, resp)) => (code, resp.into_string().unwrap()),
        Err(e) => panic!("{e}"),
    }
}

fn parse(body: &str) -> Value {
    serde_json::from_str(body).unwrap()
}

#[test]
fn epochs_statements_and_public_files_are_served() {
    let server = serve("1000", "1000");
    let b = &server.base;
    let (status, body) = get(&format!("{b}/health"));
    assert_eq!(status, 200);
    assert_eq!(parse(&body), json!({ "status": "ok", "last_epoch": 1 }));

    let (status, body) = get(&format!("{b}/api/epochs"));
    assert_eq!(status, 200);
    let epochs = parse(&body)["epochs"].as_array().unwrap().clone();
    assert_eq!(epochs.len(), 1);
    assert_eq!(epochs[0]["epoch"], 1);

    let (status, body) = get(&format!("{b}/api/epochs/1"));
    assert_eq!(status, 200);
    let doc = parse(&body);
    assert_eq!(
        doc["manifest"]["statement_digest"],
        doc["record"]["statement_digest"]
    );
    assert_eq!(parse(&get(&format!("{b}/api/epochs/latest")).1), doc);
    assert_eq!(get(&format!("{b}/api/epochs/2")).0, 404);

    let (status, body) = get(&format!("{b}/public/0000000001/manifest.json"));
    assert_eq!(status, 200);
    assert_eq!(parse(&body), doc["manifest"]);
    // Nothing private is reachable: no private/ in public epochs, no way out of public/.
    assert_eq!(
        get(&format!("{b}/public/0000000001/private/master_secret.hex")).0,
        404
    );
    assert_eq!(get(&format!("{b}/public/../private/access.key")).0, 404);
    assert_eq!(get(&format!("{b}/public/%2e%2e/private/access.key")).0, 404);
}

#[test]
fn inclusion_proofs_go_only_to_the_holders_token() {
    let server = serve("1000", "1000");
    let url = format!("{}/api/inclusion", server.base);
    let (archive, identifier) = archive();
    let token = stdout_of(
        zkmargin()
            .arg("token")
            .arg(archive)
            .args(["--account", identifier.as_str()]),
    );
    let token = token.trim();

    let (status, body) = post(&url, json!({ "token": token }));
    assert_eq!(status, 200, "{body}");
    let file = parse(&body);
    let a = Archive::open(archive).unwrap();
    let id = file["id"].as_str().unwrap();
    let on_disk = fs::read(a.inclusion_path(1, id)).unwrap();
    assert_eq!(
        body.as_bytes(),
        on_disk,
        "the archived inclusion file, byte for byte"
    );
    assert_eq!(post(&url, json!({ "token": token, "epoch": 1 })).1, body);

    // Everything else gets one answer: another token, a token of an unknown identifier, a
    // malformed token, the right token for an epoch that does not exist.
    let refusals = [
        json!({ "token": "00".repeat(32) }),
        json!({ "token": stdout_of(zkmargin().arg("token").arg(archive).args(["--account", "nobody"])).trim() }),
        json!({ "token": "not hex" }),
        json!({ "token": &token[..62] }),
        json!({ "token": token, "epoch": 2 }),
    ];
    let answers: Vec<(u16, String)> = refusals.iter().map(|r| post(&url, r.clone())).collect();
    assert!(answers.iter().all(|(s, _)| *s == 404), "{answers:?}");
    assert!(answers.windows(2).all(|w| w[0].1 == w[1].1), "{answers:?}");
    assert!(answers[0].1.contains(zkmargin_serve::NOT_FOUND));
    // A body that is not the request shape is a client error, not a lookup.
    assert_eq!(post(&url, json!({ "account": identifier })).0, 422);
}

#[test]
fn each_client_address_is_rate_limited() {
    let server = serve("1", "5");
    let url = format!("{}/health", server.base);
    let statuses: Vec<u16> = (0..8).map(|_| get(&url).0).collect();
    assert_eq!(&statuses[..5], [200; 5], "{statuses:?}");
    assert!(statuses[5..].contains(&429), "{statuses:?}");
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
