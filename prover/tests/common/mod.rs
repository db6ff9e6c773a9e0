//! Harness shared by the prover's integration tests (each test binary uses a part of it).
#![allow(dead_code)]

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use assert_cmd::cargo::CommandCargoExt;
use zkmargin_fixtures::{generate, GeneratorOptions};

/// One `$ZKMARGIN_HOME` (SRS and key caches) per test binary.
pub fn home() -> &'static Path {
    static HOME: OnceLock<PathBuf> = OnceLock::new();
    HOME.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("zkmargin-home");
        fs::create_dir_all(&dir).unwrap();
        dir
    })
}

/// The `zkmargin` binary with `$ZKMARGIN_HOME = home()` and no failpoint armed.
pub fn zkmargin() -> Command {
    let mut c = Command::cargo_bin("zkmargin").unwrap();
    c.env("ZKMARGIN_HOME", home())
        .env_remove("ZKMARGIN_FAILPOINT");
    c
}

/// A fresh directory named `name` for this test process.
pub fn scratch(name: &str) -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
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
    generate(&options, out).unwrap();
}

/// Runs `c`, which must succeed; its stdout.
pub fn stdout_of(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A fresh archive (in scratch directory `name`) holding epoch 1 of a 16-account margined
/// snapshot generated with `seed`, and the identifier of that snapshot's first account. The
/// snapshot is at `<name>/source/snap-1`.
pub fn one_epoch_archive(name: &str, seed: u64) -> (PathBuf, String) {
    let dir = scratch(name);
    let snapshot = dir.join("source/snap-1");
    margined_snapshot(&snapshot, 16, 1, seed);
    let archive = dir.join("archive");
    stdout_of(
        zkmargin()
            .arg("epoch")
            .arg(dir.join("source"))
            .arg(&archive),
    );
    (archive, first_identifier(&snapshot))
}

/// The identifier of a snapshot's first account.
pub fn first_identifier(snapshot: &Path) -> String {
    let csv = fs::read_to_string(snapshot.join("accounts.csv")).unwrap();
    let line = csv.lines().nth(1).expect("at least one account");
    line.split(',').next().unwrap().to_string()
}

/// A running `zkmargin serve`; killed on drop.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl Server {
    /// Serves `archive` on a free loopback port with the extra arguments `args`.
    pub fn start(archive: &Path, args: &[&str]) -> Server {
        let mut child = zkmargin()
            .arg("serve")
            .arg(archive)
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let base = loop {
            let line = lines
                .next()
                .expect("the server printed its address")
                .unwrap();
            if let Some(addr) = line.strip_prefix("listening on ") {
                break addr.to_string();
            }
        };
        // Keep draining the logs so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Server { child, base }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
