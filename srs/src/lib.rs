//! KZG structured reference strings. Two sources:
//! - a deterministic **development** SRS from a fixed seed, cached on disk (`dev-k{K}.srs`).
//!   Its toxic waste is public: proofs under it prove nothing. Labelled `dev-insecure`;
//! - an imported powers-of-tau ceremony (`ptau-k{K}.srs`).
//!
//! Files are halo2's raw format (`SerdeFormat::RawBytesUnchecked`), trimmed to exactly 2^k.
//!
//! This crate knows nothing of the circuit: [`ptau`] imports a ceremony, the rest caches and
//! loads parameters by kind and size.
#![warn(missing_docs)]

pub mod ptau;

use std::fs;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G2Affine, G2};
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::halo2curves::group::Curve;
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_proofs::SerdeFormat;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkmargin_core::policy::{CEREMONY_SRS_LABEL, DEV_SRS_LABEL};
use zkmargin_inclusion::points::{decode_g2, encode_points};

/// The seed of the development SRS. Public by design: never use `dev` parameters in production.
const DEV_SEED: [u8; 32] = *b"zkmargin-dev-srs-INSECURE-v1\0\0\0\0";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// Where an SRS comes from.
pub enum SrsKind {
    /// The deterministic development SRS (public seed: INSECURE).
    Dev,
    /// An imported powers-of-tau ceremony.
    Ptau,
}

impl SrsKind {
    /// The label bundles carry (`dev-insecure`, `ptau`).
    pub fn label(self) -> &'static str {
        match self {
            SrsKind::Dev => DEV_SRS_LABEL,
            SrsKind::Ptau => CEREMONY_SRS_LABEL,
        }
    }

    /// The kind a bundle's label names; `None` for an unknown label.
    pub fn from_label(label: &str) -> Option<Self> {
        match label {
            DEV_SRS_LABEL => Some(SrsKind::Dev),
            CEREMONY_SRS_LABEL => Some(SrsKind::Ptau),
            _ => None,
        }
    }

    fn file(self, dir: &Path, k: u32) -> PathBuf {
        dir.join(match self {
            SrsKind::Dev => format!("dev-k{k}.srs"),
            SrsKind::Ptau => format!("ptau-k{k}.srs"),
        })
    }
}

#[derive(Debug, thiserror::Error)]
/// Why an SRS cannot be loaded or stored.
pub enum SrsError {
    #[error("{path}: {source}")]
    /// Reading or writing a file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    #[error("no {kind} SRS for k = {k} in {dir} (run `zkmargin setup --k {k}`{hint})")]
    /// The SRS is not in the directory (and is not generated here).
    Missing {
        /// Its kind's label.
        kind: &'static str,
        /// Its size.
        k: u32,
        /// The directory searched.
        dir: PathBuf,
        /// How to make it (appended to `zkmargin setup --k K`).
        hint: String,
    },
}

/// The default SRS directory: `$ZKMARGIN_HOME/srs`, else `$HOME/.cache/zkmargin/srs`.
pub fn default_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("ZKMARGIN_HOME") {
        return PathBuf::from(home).join("srs");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache").join("zkmargin").join("srs")
}

fn write(params: &ParamsKZG<Bn256>, path: &Path) -> Result<(), SrsError> {
    let err = |source| SrsError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(err)?;
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut w = BufWriter::new(fs::File::create(&tmp).map_err(err)?);
    params
        .write_custom(&mut w, SerdeFormat::RawBytesUnchecked)
        .map_err(err)?;
    drop(w);
    fs::rename(&tmp, path).map_err(err)
}

/// Size of a raw parameter file for 2^k points: `u32` k, then `g` and `g_lagrange` (64-byte
/// G1 points), then `g2` and `s_g2` (128-byte G2 points).
fn raw_size(k: u32) -> u64 {
    4 + 2 * (1u64 << k) * 64 + 2 * 128
}

/// Refuses a file whose header or length is not that of 2^k points before halo2 reads it
/// (halo2 trusts the header and would allocate whatever a corrupt one says).
fn check_file(path: &Path, k: u32) -> Result<(), SrsError> {
    let io = |source| SrsError::Io {
        path: path.to_path_buf(),
        source,
    };
    let corrupt = |what: String| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("corrupt parameter file: {what}; delete it to regenerate"),
        ))
    };
    let mut f = fs::File::open(path).map_err(io)?;
    let mut header = [0u8; 4];
    std::io::Read::read_exact(&mut f, &mut header)
        .map_err(|_| corrupt("shorter than its header".into()))?;
    let declared = u32::from_le_bytes(header);
    let len = f.metadata().map_err(io)?.len();
    if declared != k || len != raw_size(k) {
        return Err(corrupt(format!(
            "declares k = {declared} in {len} bytes; expected k = {k} in {} bytes",
            raw_size(k)
        )));
    }
    Ok(())
}

/// Largest development SRS a verifier generates by itself when its directory has none (2^17
/// points: about 20 s and 50 MB here; k = 20 would take minutes). Larger ones must be made on
/// purpose (`zkmargin setup --k K`), so a file declaring a large circuit cannot make a verifier
/// do that work.
pub const VERIFIER_GENERATES_UP_TO_K: u32 = 17;

/// Loads the SRS of `kind` for exactly 2^k points from `dir`. A larger one is trimmed (and the
/// trimmed copy cached); a dev SRS is generated when none is present.
pub fn load(dir: &Path, kind: SrsKind, k: u32) -> Result<ParamsKZG<Bn256>, SrsError> {
    load_generating_up_to(dir, kind, k, u32::MAX)
}

/// [`load`] for verifiers: a missing development SRS is generated only up to
/// [`VERIFIER_GENERATES_UP_TO_K`].
pub fn load_for_verifier(dir: &Path, kind: SrsKind, k: u32) -> Result<ParamsKZG<Bn256>, SrsError> {
    load_generating_up_to(dir, kind, k, VERIFIER_GENERATES_UP_TO_K)
}

fn load_generating_up_to(
    dir: &Path,
    kind: SrsKind,
    k: u32,
    generate_up_to: u32,
) -> Result<ParamsKZG<Bn256>, SrsError> {
    let path = kind.file(dir, k);
    if path.exists() {
        check_file(&path, k)?;
        let err = |source| SrsError::Io {
            path: path.clone(),
            source,
        };
        let mut r = BufReader::new(fs::File::open(&path).map_err(err)?);
        return ParamsKZG::read_custom(&mut r, SerdeFormat::RawBytesUnchecked).map_err(err);
    }
    if let Some(bigger) = (k + 1..=28).find(|&b| kind.file(dir, b).exists()) {
        let mut params = load(dir, kind, bigger)?;
        params.downsize(k);
        write(&params, &path)?;
        return Ok(params);
    }
    match kind {
        SrsKind::Dev if k > generate_up_to => Err(SrsError::Missing {
            kind: DEV_SRS_LABEL,
            k,
            dir: dir.to_path_buf(),
            hint: format!(
                "; verifiers generate development parameters only up to k = \
                 {VERIFIER_GENERATES_UP_TO_K}"
            ),
        }),
        SrsKind::Dev => {
            eprintln!(
                "generating the INSECURE development SRS for k = {k} (cached in {})",
                dir.display()
            );
            let params = ParamsKZG::<Bn256>::setup(k, ChaCha20Rng::from_seed(DEV_SEED));
            write(&params, &path)?;
            Ok(params)
        }
        SrsKind::Ptau => Err(SrsError::Missing {
            kind: "ptau",
            k,
            dir: dir.to_path_buf(),
            hint: " --ptau FILE".into(),
        }),
    }
}

/// Stores imported parameters as the `ptau` SRS of their size.
pub fn store_ptau(dir: &Path, params: &ParamsKZG<Bn256>) -> Result<PathBuf, SrsError> {
    let path = SrsKind::Ptau.file(dir, params.k());
    write(params, &path)?;
    Ok(path)
}

/// Why a ceremony file cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file cannot be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The ceremony file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a usable ceremony (unusable input).
    #[error("{}: {source}", path.display())]
    Ceremony {
        /// The ceremony file.
        path: PathBuf,
        /// What is wrong with it.
        source: ptau::PtauError,
    },
    /// The imported parameters cannot be stored.
    #[error(transparent)]
    Store(#[from] SrsError),
}

/// Imports the powers-of-tau ceremony file `ptau` into `dir`: its first 2^k G1 powers (every
/// point checked, the powers pairing-checked) as the `ptau` SRS of size k, and its first
/// [`G2_POWERS`] G2 powers. Returns the stored parameter file.
pub fn import_ceremony(dir: &Path, ptau: &Path, k: u32) -> Result<PathBuf, ImportError> {
    let bytes = fs::read(ptau).map_err(|source| ImportError::Read {
        path: ptau.to_path_buf(),
        source,
    })?;
    let ceremony = |source| ImportError::Ceremony {
        path: ptau.to_path_buf(),
        source,
    };
    let params = ptau::import(&bytes, k).map_err(ceremony)?;
    let g2 = ptau::import_g2_powers(&bytes, G2_POWERS).map_err(ceremony)?;
    store_g2_powers(dir, SrsKind::Ptau, &g2)?;
    Ok(store_ptau(dir, &params)?)
}

/// How many G2 powers `τ^i·G2` (`i = 0..G2_POWERS`) are kept for inclusion proofs: a proof
/// for a set of `m` points needs `[Z(τ)]_2` of its degree-`m` vanishing polynomial.
pub const G2_POWERS: usize = 4097;

fn g2_file(dir: &Path, kind: SrsKind) -> PathBuf {
    dir.join(format!("{}-g2.bin", kind.label()))
}

/// Stores G2 powers for `kind` (`τ^0·G2, τ^1·G2, …`, raw uncompressed points: the encoding
/// of [`zkmargin_inclusion::points`], so an archive publishes this file's bytes).
pub fn store_g2_powers(dir: &Path, kind: SrsKind, powers: &[G2Affine]) -> Result<(), SrsError> {
    let path = g2_file(dir, kind);
    let err = |source| SrsError::Io {
        path: path.clone(),
        source,
    };
    fs::create_dir_all(dir).map_err(err)?;
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    fs::write(&tmp, encode_points(powers)).map_err(err)?;
    fs::rename(&tmp, &path).map_err(err)
}

/// The G2 powers of `kind`, checked against `params` (`[1]` must be its `τ·G2`). The dev ones
/// are derived from the public seed when missing; ceremony ones come from `setup --ptau`.
pub fn g2_powers(
    dir: &Path,
    kind: SrsKind,
    params: &ParamsKZG<Bn256>,
) -> Result<Vec<G2Affine>, SrsError> {
    let path = g2_file(dir, kind);
    let corrupt = |what: &str| SrsError::Io {
        path: path.clone(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string()),
    };
    let powers = match fs::read(&path) {
        Ok(bytes) => {
            if bytes.len() < 2 * 128 {
                return Err(corrupt("wrong length for the G2 powers"));
            }
            decode_g2(&bytes).map_err(|e| corrupt(&e))?
        }
        Err(_) if kind == SrsKind::Dev => {
            // ParamsKZG::setup draws τ first from the seeded generator.
            let tau = Fr::random(ChaCha20Rng::from_seed(DEV_SEED));
            let mut powers = Vec::with_capacity(G2_POWERS);
            let mut acc = G2::generator();
            for _ in 0..G2_POWERS {
                powers.push(acc);
                acc *= tau;
            }
            let mut affine = vec![G2Affine::default(); G2_POWERS];
            G2::batch_normalize(&powers, &mut affine);
            store_g2_powers(dir, kind, &affine)?;
            affine
        }
        Err(_) => {
            return Err(SrsError::Missing {
                kind: "ptau G2 powers",
                k: params.k(),
                dir: dir.to_path_buf(),
                hint: " --ptau FILE".into(),
            })
        }
    };
    if powers[0] != params.g2() || powers[1] != params.s_g2() {
        return Err(corrupt("G2 powers of another setup"));
    }
    Ok(powers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_g2_powers_match_the_dev_srs_and_bad_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let params = load(dir.path(), SrsKind::Dev, 4).unwrap();
        let powers = g2_powers(dir.path(), SrsKind::Dev, &params).unwrap();
        assert_eq!(powers.len(), G2_POWERS);
        assert_eq!((powers[0], powers[1]), (params.g2(), params.s_g2()));
        // Read back from the file it wrote.
        assert_eq!(
            g2_powers(dir.path(), SrsKind::Dev, &params).unwrap(),
            powers
        );

        let file = g2_file(dir.path(), SrsKind::Dev);
        let refused = |bytes: Vec<u8>, why: &str| {
            fs::write(&file, bytes).unwrap();
            let e = g2_powers(dir.path(), SrsKind::Dev, &params).unwrap_err();
            assert!(e.to_string().contains(why), "{why}: {e}");
        };
        refused(vec![0; 100], "wrong length");
        refused(vec![0xff; 256], "not a G2 point");
        // Valid points of another τ (here τ' = 2).
        let two = Fr::from(2u64);
        let other = [G2Affine::generator(), (G2::generator() * two).to_affine()];
        refused(encode_points(&other), "another setup");
        // A ceremony's powers must be imported first.
        let e = g2_powers(dir.path(), SrsKind::Ptau, &params).unwrap_err();
        assert!(matches!(e, SrsError::Missing { .. }), "{e}");
    }
}
