//! Fixtures shared by the integration tests of several crates. Everything is made through the
//! operator library (never the `zkmargin` binary, which only the CLI's own tests drive), under
//! one `$ZKMARGIN_HOME`-like directory per test binary so SRS and keys are made once.
#![warn(missing_docs)]

use std::fs;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use zkmargin_bundle::slots::SlotBundle;
use zkmargin_bundle::Bundle;
use zkmargin_core::account_id::account_id;
use zkmargin_core::policy::PolicyCheck;
use zkmargin_fixtures::{generate, GeneratorOptions};
use zkmargin_inclusion::InclusionFile;
use zkmargin_prover::epoch::Sharding;
use zkmargin_prover::inclusion::{write_all, EpochAccounts};
use zkmargin_prover::pipeline::{self, EpochRequest, Proved, Setup};
use zkmargin_prover::report::Silent;
use zkmargin_prover::runner::{self, RunnerOptions, Step};
use zkmargin_prover::slots::SlotProved;
use zkmargin_srs::{self as srs, SrsKind};
use zkmargin_verifier::bundle::{verify_bundle, Report};
use zkmargin_verifier::inclusion::{verify_inclusion, InclusionReport};

/// `target/tmp` (what Cargo names `CARGO_TARGET_TMPDIR` for integration tests), found from the
/// running test binary (`target/<profile>/deps/<test>`).
pub fn target_tmp() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    let target = exe
        .ancestors()
        .nth(3)
        .expect("a test binary lives in target/<profile>/deps");
    target.join("tmp")
}

/// One home directory (SRS and key caches, as `$ZKMARGIN_HOME` holds them) per test binary.
pub fn home() -> &'static Path {
    static HOME: OnceLock<PathBuf> = OnceLock::new();
    HOME.get_or_init(|| {
        let dir = target_tmp().join("zkmargin-home");
        fs::create_dir_all(&dir).expect("target/tmp is writable");
        dir
    })
}

/// The directories under [`home`], as the library takes them.
pub struct Dirs {
    /// `home/srs`.
    pub srs: PathBuf,
    /// `home/keys`.
    pub keys: PathBuf,
    /// `home/vk`.
    pub vk: PathBuf,
}

/// [`home`]'s directories.
pub fn dirs() -> &'static Dirs {
    static DIRS: OnceLock<Dirs> = OnceLock::new();
    DIRS.get_or_init(|| Dirs {
        srs: home().join("srs"),
        keys: home().join("keys"),
        vk: home().join("vk"),
    })
}

/// [`dirs`] as a [`Setup`].
pub fn setup() -> Setup<'static> {
    let d = dirs();
    Setup {
        srs_dir: &d.srs,
        key_dir: &d.keys,
        vk_dir: &d.vk,
    }
}

/// A fresh directory named `name` for this test process.
pub fn scratch(name: &str) -> PathBuf {
    let dir = target_tmp().join(format!("{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("target/tmp is writable");
    dir
}

/// A small snapshot of `epoch` at `out` (2 assets, 1 market, 1 scenario, 3 sources), every
/// account adequately margined and solvent.
pub fn margined_snapshot(out: &Path, accounts: u64, epoch: u64, seed: u64) {
    let options = GeneratorOptions {
        accounts,
        seed,
        epoch,
        assets: 2,
        markets: 1,
        scenarios: 1,
        sources: 3,
        under_margined_bps: 0,
        bad_debt_bps: 0,
        ..Default::default()
    };
    generate(&options, out).expect("the generator writes the snapshot");
}

/// The identifier of a snapshot's first account.
pub fn first_identifier(snapshot: &Path) -> String {
    let wide = snapshot.join("accounts.csv");
    let path = if wide.exists() {
        wide
    } else {
        snapshot.join("holdings.csv")
    };
    let csv = fs::read_to_string(&path).expect("accounts.csv or holdings.csv");
    let line = csv.lines().nth(1).expect("at least one account");
    line.split(',').next().expect("an identifier").to_string()
}

/// Proves `snapshot` (chained to `prev`, cut and sized by `sharding`) into the bundle `out`
/// under the development SRS, as `zkmargin prove` does.
pub fn prove_bundle(
    snapshot: &Path,
    prev: Option<&Path>,
    sharding: Sharding,
    out: &Path,
) -> Bundle {
    let request = EpochRequest {
        snapshot,
        prev,
        sharding,
        srs: SrsKind::Dev,
    };
    match pipeline::prove_snapshot(&request, &setup(), out, &Silent) {
        Ok(Proved::Bundle(bundle)) => *bundle,
        Ok(Proved::Halted(report)) => panic!("the oracle halted: {report:?}"),
        Err(e) => panic!("proving {} failed: {e}", snapshot.display()),
    }
}

/// A small venue (2 collateral assets, 6 markets of 3 tiers each on price-only indexes, 1
/// stress scenario, 3 sources) of `accounts` accounts in the long format at `out`: what only
/// the slot table proves, with accounts of up to 8 entries (two shard classes).
pub fn venue_snapshot(out: &Path, accounts: u64, seed: u64) {
    zkmargin_fixtures::generate_venue(&venue_options(accounts, seed), out)
        .expect("the generator writes the venue");
}

/// The options of [`venue_snapshot`] (epoch 1).
pub fn venue_options(accounts: u64, seed: u64) -> zkmargin_fixtures::VenueOptions {
    zkmargin_fixtures::VenueOptions {
        accounts,
        seed,
        epoch: 1,
        markets: 6,
        collateral: 2,
        tiers: 3,
        scenarios: 1,
        sources: 3,
        max_positions: 64,
        under_margined_bps: 800,
        bad_debt_bps: 300,
    }
}

/// Proves `snapshot` with the slot table (chained to `prev`) into the bundle `out` under the
/// development SRS, as `zkmargin prove --table slots` does.
pub fn prove_slot_bundle(snapshot: &Path, prev: Option<&Path>, out: &Path) -> SlotBundle {
    let request = EpochRequest {
        snapshot,
        prev,
        sharding: Sharding::default(),
        srs: SrsKind::Dev,
    };
    match zkmargin_prover::slots::prove_snapshot_slots(&request, &setup(), out, &Silent) {
        Ok(SlotProved::Bundle(bundle)) => *bundle,
        Ok(SlotProved::Halted(report)) => panic!("the oracle halted: {report:?}"),
        Err(e) => panic!("proving {} failed: {e}", snapshot.display()),
    }
}

/// Writes every account's inclusion file of the bundle in `bundle` into the new directory `out`.
pub fn inclusion_files(bundle: &Path, out: &Path) {
    let accounts = EpochAccounts::load(bundle).expect("the bundle has its private data");
    let d = dirs();
    write_all(&accounts, out, &d.srs, &d.keys, &Silent).expect("inclusion proofs");
}

/// One step of the epoch runner from `source` into `archive` (development SRS, one shard).
pub fn publish_next(source: &Path, archive: &Path) -> Result<Step, runner::RunnerError> {
    let options = RunnerOptions {
        source,
        archive,
        shard_rows: None,
        srs: SrsKind::Dev,
    };
    runner::step(&options, &setup(), &Silent)
}

/// A fresh archive (in scratch directory `name`) holding epoch 1 of a 16-account margined
/// snapshot generated with `seed`, and the identifier of that snapshot's first account. The
/// snapshot is at `<name>/source/snap-1`.
pub fn one_epoch_archive(name: &str, seed: u64) -> (PathBuf, String) {
    let dir = scratch(name);
    let snapshot = dir.join("source/snap-1");
    margined_snapshot(&snapshot, 16, 1, seed);
    let archive = dir.join("archive");
    let step = publish_next(&dir.join("source"), &archive).expect("epoch 1 is published");
    assert!(matches!(step, Step::Published(_)), "{step:?}");
    (archive, first_identifier(&snapshot))
}

/// An archive with one slot-table epoch ([`venue_snapshot`] of `accounts` accounts, epoch 1)
/// and the identifier of its first holder.
pub fn one_slot_epoch_archive(name: &str, accounts: u64, seed: u64) -> (PathBuf, String) {
    let dir = scratch(name);
    let snapshot = dir.join("source/venue-1");
    venue_snapshot(&snapshot, accounts, seed);
    let archive = dir.join("archive");
    let step = publish_next(&dir.join("source"), &archive).expect("epoch 1 is published");
    assert!(matches!(step, Step::Published(_)), "{step:?}");
    (archive, first_identifier(&snapshot))
}

/// The archive API served in this process on a free loopback port, for the life of the test
/// binary.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Server {
    /// Serves `archive` (and the page in `web`, if given) at `rate` requests per second with
    /// `burst`.
    pub fn start(archive: &Path, web: Option<&Path>, rate: u32, burst: u32) -> Server {
        let config = zkmargin_serve::ServeConfig {
            archive: archive.to_path_buf(),
            web: web.map(Path::to_path_buf),
            rate: zkmargin_serve::RateLimit {
                per_second: NonZeroU32::new(rate).expect("rate ≥ 1"),
                burst: NonZeroU32::new(burst).expect("burst ≥ 1"),
            },
        };
        let (tx, rx) = std::sync::mpsc::channel::<SocketAddr>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime");
            let addr: SocketAddr = "127.0.0.1:0".parse().expect("an address");
            runtime
                .block_on(zkmargin_serve::serve(config, addr, move |bound| {
                    tx.send(bound).expect("the test waits for the address");
                }))
                .expect("the server runs");
        });
        let addr = rx.recv().expect("the server printed its address");
        Server {
            base: format!("http://{addr}"),
        }
    }
}

/// The names of the checks in `checks` that failed.
pub fn failed(checks: &[PolicyCheck]) -> Vec<String> {
    checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.clone())
        .collect()
}

/// Two chained epochs proved (k = 12) from one 12-account snapshot, and every account's
/// inclusion file of the first.
pub struct TwoEpochs {
    /// The scratch directory holding everything.
    pub root: PathBuf,
    /// Epoch 1's bundle.
    pub first: PathBuf,
    /// A second bundle of the same accounts, chained to the first.
    pub second: PathBuf,
    /// The snapshot's account identifiers, in file order.
    pub identifiers: Vec<String>,
    /// The first epoch's inclusion files (`<id>.json`).
    pub all: PathBuf,
}

impl TwoEpochs {
    /// Builds them in scratch directory `name`.
    pub fn build(name: &str) -> TwoEpochs {
        let root = scratch(name);
        let snap = root.join("snap");
        let options = GeneratorOptions {
            accounts: 12,
            seed: 5,
            ..Default::default()
        };
        generate(&options, &snap).expect("the generator writes the snapshot");
        let (first, second) = (root.join("e1"), root.join("e2"));
        let k12 = Sharding {
            k: Some(12),
            shard_rows: None,
        };
        prove_bundle(&snap, None, k12, &first);
        prove_bundle(&snap, Some(&first), k12, &second);
        let all = root.join("all");
        inclusion_files(&first, &all);
        let csv = fs::read_to_string(snap.join("accounts.csv")).expect("accounts.csv");
        let identifiers = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().expect("an identifier").to_string())
            .collect();
        TwoEpochs {
            root,
            first,
            second,
            identifiers,
            all,
        }
    }

    /// The first epoch's inclusion files by row, each with its path and its identifier.
    pub fn files_by_row(&self) -> Vec<(InclusionFile, PathBuf, String)> {
        let mut out: Vec<_> = fs::read_dir(&self.all)
            .expect("the inclusion directory")
            .map(|f| {
                let path = f.expect("an entry").path();
                let file: InclusionFile =
                    serde_json::from_slice(&fs::read(&path).expect("readable"))
                        .expect("an inclusion file");
                let salt: [u8; 32] = hex::decode(&file.salt)
                    .ok()
                    .and_then(|s| s.try_into().ok())
                    .expect("a 32-byte salt");
                let who = self
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
}

/// `zkmargin-verify inclusion`'s library check of `file` against `bundle` under [`home`]'s
/// SRS, without a key cache; panics if the inputs are unusable.
pub fn check_inclusion(bundle: &Path, file: &Path, identifier: Option<&str>) -> InclusionReport {
    let dir = &dirs().srs;
    let kind = |l: &str| SrsKind::from_label(l).ok_or_else(|| format!("unknown SRS {l}"));
    let load = |l: &str, k: u32| srs::load(dir, kind(l)?, k).map_err(|e| e.to_string());
    let load_g2 = |l: &str, p: &_| srs::g2_powers(dir, kind(l)?, p).map_err(|e| e.to_string());
    match verify_inclusion(bundle, file, identifier, None, &load, &load_g2) {
        Ok(r) => r,
        Err(e) => panic!("unusable: {e}"),
    }
}

/// The bundled fixture snapshot `name` (`fixtures/<name>`).
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(name)
}

/// Copies the directory tree `from` to `to`, leaving out `private/` (a bundle's public part).
pub fn copy_public(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("the copy's directory");
    for e in fs::read_dir(from).expect("a directory") {
        let e = e.expect("an entry");
        let kind = e.file_type().expect("a file type");
        if kind.is_file() {
            fs::copy(e.path(), to.join(e.file_name())).expect("the file is copied");
        } else if kind.is_dir() && e.file_name() != "private" {
            copy_public(&e.path(), &to.join(e.file_name()));
        }
    }
}

/// `zkmargin-verify bundle`'s library check under the SRS in `srs_dir` (the key rebuilt, or
/// pinned in `vk_cache`); panics if the bundle is unusable.
pub fn check_bundle(
    srs_dir: &Path,
    bundle: &Path,
    prev: Option<&Path>,
    strict: bool,
    vk_cache: Option<&Path>,
) -> Report {
    let load = |label: &str, k: u32| {
        let kind = SrsKind::from_label(label).ok_or_else(|| format!("unknown SRS {label}"))?;
        srs::load(srs_dir, kind, k).map_err(|e| e.to_string())
    };
    verify_bundle(bundle, prev, strict, vk_cache, &load).expect("the bundle is usable")
}
