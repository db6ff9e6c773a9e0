//! The archive API over a one-epoch archive: health, epochs and statements, public files,
//! inclusion proofs only for the holder's token (one constant answer for everything else),
//! and the per-address rate limit; the same routes over a slot-table epoch.

use std::fs;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{json, Value};
use zkmargin_archive::Archive;
use zkmargin_testkit::{one_epoch_archive, one_slot_epoch_archive, Server};

/// An archive with epoch 1 (16 accounts) and the identifier of its first account.
fn archive() -> &'static (PathBuf, String) {
    static A: OnceLock<(PathBuf, String)> = OnceLock::new();
    A.get_or_init(|| one_epoch_archive("serve", 3))
}

fn serve(rate: u32, burst: u32) -> Server {
    Server::start(&archive().0, None, rate, burst)
}

/// The holder's access token of `identifier` in `archive`, as `zkmargin token` prints it.
fn token_of(archive: &std::path::Path, identifier: &str) -> String {
    Archive::open(archive)
        .and_then(|a| a.existing_access_key())
        .unwrap()
        .token_hex(identifier)
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
    let server = serve(1000, 1000);
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
    let server = serve(1000, 1000);
    let url = format!("{}/api/inclusion", server.base);
    let (archive, identifier) = archive();
    let token = token_of(archive, identifier);
    let token = token.as_str();

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
        json!({ "token": token_of(archive, "nobody") }),
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
fn a_slot_table_epoch_is_served_with_its_class_shards_and_the_holders_entries() {
    let (archive, identifier) = one_slot_epoch_archive("serve-slots", 20, 4);
    let server = Server::start(&archive, None, 1000, 1000);
    let b = &server.base;
    let (status, body) = get(&format!("{b}/api/epochs/1"));
    assert_eq!(status, 200, "{body}");
    let doc = parse(&body);
    let manifest = &doc["manifest"];
    assert_eq!(
        manifest["format_version"],
        zkmargin_layout::manifest::SLOT_FORMAT_VERSION
    );
    assert_eq!(
        manifest["statement_digest"],
        doc["record"]["statement_digest"]
    );
    let classes = manifest["classes"].as_array().unwrap();
    let shards: u64 = classes.iter().map(|c| c["shards"].as_u64().unwrap()).sum();
    assert_eq!(doc["record"]["shards"], shards);
    // Every class shard's proof is public, as zkmargin-verify bundle reads it.
    for c in classes {
        let path =
            zkmargin_bundle::slots::class_shard_dir(c["class"].as_u64().unwrap() as usize, 0);
        let (status, _) = get(&format!("{b}/public/0000000001/{path}/proof.bin"));
        assert_eq!(status, 200, "{path}");
    }

    let token = token_of(&archive, &identifier);
    let (status, body) = post(&format!("{b}/api/inclusion"), json!({ "token": token }));
    assert_eq!(status, 200, "{body}");
    let file = parse(&body);
    assert_eq!(
        file["format_version"],
        zkmargin_inclusion::slots::SLOT_INCLUSION_FORMAT
    );
    let a = Archive::open(&archive).unwrap();
    let on_disk = fs::read(a.inclusion_path(1, file["id"].as_str().unwrap())).unwrap();
    assert_eq!(body.as_bytes(), on_disk);
    assert!(!file["entries"].as_array().unwrap().is_empty());
    let (status, _) = post(
        &format!("{b}/api/inclusion"),
        json!({ "token": token_of(&archive, "nobody") }),
    );
    assert_eq!(status, 404);
}

#[test]
fn each_client_address_is_rate_limited() {
    let server = serve(1, 5);
    let url = format!("{}/health", server.base);
    let statuses: Vec<u16> = (0..8).map(|_| get(&url).0).collect();
    assert_eq!(&statuses[..5], [200; 5], "{statuses:?}");
    assert!(statuses[5..].contains(&429), "{statuses:?}");
}
