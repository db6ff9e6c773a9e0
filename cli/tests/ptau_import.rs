//! Importing a real (small) powers-of-tau ceremony made with snarkjs, proving under it, and
//! rejecting corrupted ceremony files. Needs `npm ci --prefix scripts/node` (`.ci/run` does it).

use std::path::{Path, PathBuf};
use std::process::Command as Std;
use std::sync::OnceLock;

use assert_cmd::Command;
use zkmargin_srs::{self as srs, SrsKind};

fn snarkjs() -> PathBuf {
    let bin =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/node/node_modules/.bin/snarkjs");
    assert!(
        bin.exists(),
        "snarkjs missing: run `npm ci --prefix scripts/node`"
    );
    bin
}

/// A 2-party ceremony of power 12: `powersoftau new` then one contribution.
fn ceremony() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir =
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("ptau-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (p0, p1) = (dir.join("pot12_0000.ptau"), dir.join("pot12_0001.ptau"));
        let ok = Std::new(snarkjs())
            .args(["powersoftau", "new", "bn128", "12"])
            .arg(&p0)
            .status()
            .unwrap()
            .success();
        assert!(ok, "snarkjs powersoftau new");
        let ok = Std::new(snarkjs())
            .args(["powersoftau", "contribute"])
            .arg(&p0)
            .arg(&p1)
            .args(["--name=zkmargin test", "-e=zkmargin test entropy"])
            .status()
            .unwrap()
            .success();
        assert!(ok, "snarkjs powersoftau contribute");
        p1
    })
}

fn zkmargin(home: &Path, args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::cargo_bin("zkmargin")
        .unwrap()
        .env("ZKMARGIN_HOME", home)
        .args(args)
        .output()
        .unwrap()
}

/// `zkmargin setup --k 12 --ptau FILE` in `home`.
fn import(home: &Path, file: &Path) -> std::process::Output {
    zkmargin(
        home,
        &[
            "setup".as_ref(),
            "--k".as_ref(),
            "12".as_ref(),
            "--ptau".as_ref(),
            file.as_os_str(),
        ],
    )
}

#[test]
fn imported_ceremony_proves_and_verifies() {
    let home = tempfile::tempdir().unwrap();
    let o = import(home.path(), ceremony());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(home.path().join("srs/ptau-k12.srs").exists());

    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/edge/boundary");
    let out = home.path().join("bundle");
    let o = zkmargin(
        home.path(),
        &[
            "prove".as_ref(),
            fixture.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
            "--k".as_ref(),
            "12".as_ref(),
            "--ceremony".as_ref(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let dir = home.path().join("srs");
    let load = |label: &str, k: u32| {
        srs::load(&dir, SrsKind::from_label(label).unwrap(), k).map_err(|e| e.to_string())
    };
    let report = zkmargin_verifier::bundle::verify_bundle(&out, None, false, None, &load).unwrap();
    assert!(report.passed(), "{:?}", report.checks);
    let setup = report
        .checks
        .iter()
        .find(|c| c.name.starts_with("trusted setup"))
        .unwrap();
    assert_eq!(setup.detail, "ptau");

    // The ceremony's G2 powers were imported with it, and belong to its parameters only.
    let params = srs::load(&dir, SrsKind::Ptau, 12).unwrap();
    let g2 = srs::g2_powers(&dir, SrsKind::Ptau, &params).unwrap();
    assert_eq!(g2.len(), 4096, "a power-12 ceremony has 2^12 G2 powers");
    let dev_params = srs::load(&dir, SrsKind::Dev, 12).unwrap();
    assert!(srs::g2_powers(&dir, SrsKind::Ptau, &dev_params).is_err());

    // The dev SRS is a different setup: the same proof fails under it.
    let dev = |_: &str, k: u32| srs::load(&dir, SrsKind::Dev, k).map_err(|e| e.to_string());
    let report = zkmargin_verifier::bundle::verify_bundle(&out, None, false, None, &dev).unwrap();
    assert!(!report.passed());
}

#[test]
fn corrupted_or_undersized_ceremonies_are_rejected() {
    let bytes = std::fs::read(ceremony()).unwrap();
    // A ceremony of power 12 cannot serve k = 13.
    assert_eq!(
        zkmargin_srs::ptau::import(&bytes, 13).unwrap_err(),
        zkmargin_srs::ptau::PtauError::TooSmall { power: 12, k: 13 }
    );
    // Section 2 (tauG1) starts after the 12-byte file header, the header section (12 + 44
    // bytes) and its own 12-byte section header. Replace point 5 by point 6: both stay valid
    // curve points, but the powers no longer line up.
    let g1 = 12 + 12 + 44 + 12;
    let mut swapped = bytes.clone();
    let p6 = bytes[g1 + 6 * 64..g1 + 7 * 64].to_vec();
    swapped[g1 + 5 * 64..g1 + 6 * 64].copy_from_slice(&p6);
    assert_eq!(
        zkmargin_srs::ptau::import(&swapped, 12).unwrap_err(),
        zkmargin_srs::ptau::PtauError::Inconsistent
    );
    // A flipped coordinate byte leaves the curve.
    let mut flipped = bytes.clone();
    flipped[g1 + 3 * 64 + 7] ^= 1;
    assert!(matches!(
        zkmargin_srs::ptau::import(&flipped, 12).unwrap_err(),
        zkmargin_srs::ptau::PtauError::BadPoint {
            section: 2,
            index: 3
        }
    ));
    // Another curve's header, a missing tauG1 section, and first points that are not the
    // generators (points 0 and 1 swapped: both on the curve).
    let mut other_curve = bytes.clone();
    other_curve[12 + 12 + 4] ^= 1;
    assert!(
        matches!(zkmargin_srs::ptau::import(&other_curve, 12).unwrap_err(), zkmargin_srs::ptau::PtauError::Format(m) if m.contains("BN254"))
    );
    let mut no_g1 = bytes.clone();
    no_g1[g1 - 12] = 0x7f; // section 2 renamed to an unknown type
    assert!(
        matches!(zkmargin_srs::ptau::import(&no_g1, 12).unwrap_err(), zkmargin_srs::ptau::PtauError::Format(m) if m.contains("missing section 2"))
    );
    let mut swapped01 = bytes.clone();
    swapped01[g1..g1 + 64].copy_from_slice(&bytes[g1 + 64..g1 + 128]);
    swapped01[g1 + 64..g1 + 128].copy_from_slice(&bytes[g1..g1 + 64]);
    assert_eq!(
        zkmargin_srs::ptau::import(&swapped01, 12).unwrap_err(),
        zkmargin_srs::ptau::PtauError::NotGenerators
    );
    // Section 3 (tauG2): two swapped powers are inconsistent, a flipped byte leaves the curve.
    let g2 = {
        let mut at = 12;
        loop {
            let kind = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
            let size = u64::from_le_bytes(bytes[at + 4..at + 12].try_into().unwrap()) as usize;
            if kind == 3 {
                break at + 12;
            }
            at += 12 + size;
        }
    };
    let mut swapped_g2 = bytes.clone();
    swapped_g2[g2 + 5 * 128..g2 + 6 * 128].copy_from_slice(&bytes[g2 + 6 * 128..g2 + 7 * 128]);
    assert_eq!(
        zkmargin_srs::ptau::import_g2_powers(&swapped_g2, 16).unwrap_err(),
        zkmargin_srs::ptau::PtauError::Inconsistent
    );
    let mut flipped_g2 = bytes.clone();
    flipped_g2[g2 + 3 * 128 + 7] ^= 1;
    assert!(matches!(
        zkmargin_srs::ptau::import_g2_powers(&flipped_g2, 16).unwrap_err(),
        zkmargin_srs::ptau::PtauError::BadPoint {
            section: 3,
            index: 3
        }
    ));
    assert!(matches!(
        zkmargin_srs::ptau::import_g2_powers(&no_g1, 16).unwrap_err(),
        zkmargin_srs::ptau::PtauError::Format(m) if m.contains("missing section 2")
    ));
    // Through the CLI: a clear error and exit 2.
    let home = tempfile::tempdir().unwrap();
    let bad = home.path().join("bad.ptau");
    std::fs::write(&bad, &swapped).unwrap();
    let o = import(home.path(), &bad);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("inconsistent"));
}
