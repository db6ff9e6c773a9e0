//! An epoch bundle: a directory with
//!
//! | file | content |
//! |---|---|
//! | `manifest.json` | [`Manifest`]: format version, shard shape, statement, digests, SRS label, per-shard account-table commitments |
//! | `instances.json` | the statement's public instances, hex field elements (informative: verifiers re-encode) |
//! | `shards/NNNN/proof.bin` | shard `NNNN`'s SNARK (SHPLONK, Keccak EVM transcript) |
//! | `shards/NNNN/instances.json` | its public instances: the statement layout with the shard's own totals, then its first and last account id |
//! | `config.toml` | the snapshot's config, from which verifiers rebuild weights and digests |
//! | `quotes.csv` | the oracle quotes with signatures, so verifiers re-run the oracle |
//! | `private/` | operator secrets (master secret for salts); **never publish** |
//!
//! Bundles are written atomically: into a sibling temporary directory renamed into place.
#![warn(missing_docs)]

pub mod slots;

use std::fs;
use std::path::{Path, PathBuf};

use zkmargin_layout::manifest::{Manifest, CONFIG, MANIFEST};
use zkmargin_layout::Fr;

/// A shard's proof file name.
pub const PROOF: &str = "proof.bin";
/// The shards' directory.
pub const SHARDS: &str = "shards";
/// Instances file name (the bundle's, and each shard's).
pub const INSTANCES: &str = "instances.json";
/// The bundled quotes' file name.
pub const QUOTES: &str = "quotes.csv";
/// The operator's secrets' directory; never published.
pub const PRIVATE: &str = "private";
/// The master secret's file name in `private/`.
pub const MASTER_SECRET: &str = "master_secret.hex";
/// `private/snapshot/`: the proven snapshot (config, quotes, accounts), from which the
/// operator rebuilds the witness for inclusion proofs.
pub const PRIVATE_SNAPSHOT: &str = "snapshot";

/// A shard's proof and the public instances it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardProof {
    /// The SNARK (SHPLONK, Keccak EVM transcript).
    pub proof: Vec<u8>,
    /// Its public instances.
    pub instances: Vec<Fr>,
}

/// `shards/NNNN` (at least four digits).
pub fn shard_dir(shard: usize) -> String {
    format!("{SHARDS}/{shard:04}")
}

#[derive(Debug, thiserror::Error)]
/// Why a bundle cannot be read or written.
pub enum BundleError {
    #[error("{path}: {source}")]
    /// Reading or writing a file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    #[error("{path}: malformed: {reason}")]
    /// A file of the bundle is not in its format.
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BundleError + '_ {
    move |source| BundleError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A bundle held in memory.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// `manifest.json`.
    pub manifest: Manifest,
    /// One per manifest shard, in order.
    pub shards: Vec<ShardProof>,
    /// The statement's instances (the shards' combined).
    pub instances: Vec<Fr>,
    /// `config.toml`, as proven.
    pub config_toml: String,
    /// `quotes.csv`, as proven (with signatures).
    pub quotes_csv: Vec<u8>,
}

/// A field element as hex (32 bytes, little-endian), as in `instances.json`.
pub fn fr_hex(f: &Fr) -> String {
    hex::encode(f.to_bytes())
}

/// The inverse of [`fr_hex`]; `None` unless canonical.
pub fn fr_from_hex(s: &str) -> Option<Fr> {
    let bytes: [u8; 32] = hex::decode(s).ok()?.try_into().ok()?;
    Option::from(Fr::from_bytes(&bytes))
}

/// Instances as `instances.json` text.
pub fn instances_json(instances: &[Fr]) -> Vec<u8> {
    let hexes: Vec<String> = instances.iter().map(fr_hex).collect();
    serde_json::to_vec_pretty(&hexes).expect("strings serialize")
}

/// Parses `instances.json` text.
pub fn parse_instances(bytes: &[u8]) -> Result<Vec<Fr>, String> {
    let hexes: Vec<String> = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    hexes
        .iter()
        .map(|h| fr_from_hex(h).ok_or_else(|| format!("`{h}` is not a field element")))
        .collect()
}

impl Bundle {
    /// Writes the public files and `private/` atomically to `out` (replacing nothing: `out`
    /// must not exist).
    pub fn write(&self, out: &Path, private_files: &[(&str, Vec<u8>)]) -> Result<(), BundleError> {
        self.write_with_copies(out, private_files, &[])
    }

    /// As [`Bundle::write`], also copying files into `private/` (`(relative path, source)`).
    pub fn write_with_copies(
        &self,
        out: &Path,
        private_files: &[(&str, Vec<u8>)],
        private_copies: &[(&str, &Path)],
    ) -> Result<(), BundleError> {
        let manifest = serde_json::to_vec_pretty(&self.manifest).expect("manifest serializes");
        let mut files: Vec<(String, Vec<u8>)> = vec![
            (MANIFEST.into(), manifest),
            (INSTANCES.into(), instances_json(&self.instances)),
            (CONFIG.into(), self.config_toml.clone().into_bytes()),
            (QUOTES.into(), self.quotes_csv.clone()),
        ];
        for (s, shard) in self.shards.iter().enumerate() {
            let dir = shard_dir(s);
            files.push((format!("{dir}/{PROOF}"), shard.proof.clone()));
            files.push((
                format!("{dir}/{INSTANCES}"),
                instances_json(&shard.instances),
            ));
        }
        write_atomically(out, files, private_files, private_copies)
    }

    /// Reads the public part of a bundle.
    pub fn read(dir: &Path) -> Result<Bundle, BundleError> {
        let read = |file: &str| {
            let path = dir.join(file);
            fs::read(&path).map_err(io(&path))
        };
        let malformed = |file: &str, reason: String| BundleError::Malformed {
            path: dir.join(file),
            reason,
        };
        let manifest = Manifest::parse(&read(MANIFEST)?).map_err(|e| malformed(MANIFEST, e))?;
        let instances = parse_instances(&read(INSTANCES)?).map_err(|e| malformed(INSTANCES, e))?;
        let shards = (0..manifest.shards.len())
            .map(|s| {
                let file = format!("{}/{INSTANCES}", shard_dir(s));
                Ok(ShardProof {
                    instances: parse_instances(&read(&file)?).map_err(|e| malformed(&file, e))?,
                    proof: read(&format!("{}/{PROOF}", shard_dir(s)))?,
                })
            })
            .collect::<Result<_, BundleError>>()?;
        let config_toml =
            String::from_utf8(read(CONFIG)?).map_err(|_| malformed(CONFIG, "not UTF-8".into()))?;
        Ok(Bundle {
            manifest,
            shards,
            instances,
            config_toml,
            quotes_csv: read(QUOTES)?,
        })
    }
}

impl Bundle {
    /// The manifest's shape, admitted against the bundled config
    /// ([`zkmargin_layout::shape::MarginShape::admit`]): what the operator's tools check
    /// before a shape read back from a bundle sizes any work.
    pub fn admitted_shape(&self) -> Result<zkmargin_layout::shape::MarginShape, BundleError> {
        let malformed = |file: &str, reason: String| BundleError::Malformed {
            path: PathBuf::from(file),
            reason,
        };
        let config = zkmargin_core::config::Config::parse(&self.config_toml)
            .map_err(|e| malformed(CONFIG, e.to_string()))?;
        zkmargin_layout::shape::MarginShape::admit(&config, &self.manifest.shape)
            .map_err(|e| malformed(MANIFEST, format!("shape: {e}")))
    }

    /// The only shard's proof and instances, for paths that take one proof (the direct EVM
    /// verifier); `None` for a bundle of several shards.
    pub fn single_shard(&self) -> Option<&ShardProof> {
        match self.shards.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }
}

/// Writes `files` (public, relative paths) and `private/` (its README, `private_files`, and
/// `private_copies` copied from their sources) into a sibling temporary directory renamed to
/// `out`, which must not exist: a reader sees no bundle or a whole one.
pub(crate) fn write_atomically(
    out: &Path,
    files: Vec<(String, Vec<u8>)>,
    private_files: &[(&str, Vec<u8>)],
    private_copies: &[(&str, &Path)],
) -> Result<(), BundleError> {
    if out.exists() {
        return Err(BundleError::Io {
            path: out.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "bundle already exists"),
        });
    }
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io(parent))?;
    let name = out.file_name().and_then(|n| n.to_str()).unwrap_or("bundle");
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(tmp.join(PRIVATE)).map_err(io(&tmp))?;
    for (file, bytes) in files {
        let path = tmp.join(file);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io(dir))?;
        }
        fs::write(&path, bytes).map_err(io(&path))?;
    }
    let readme = tmp.join(PRIVATE).join("README");
    fs::write(
        &readme,
        "Operator secrets for this epoch. NEVER publish this directory.\n",
    )
    .map_err(io(&readme))?;
    for (file, bytes) in private_files {
        let path = tmp.join(PRIVATE).join(file);
        fs::write(&path, bytes).map_err(io(&path))?;
    }
    for (file, source) in private_copies {
        let path = tmp.join(PRIVATE).join(file);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io(dir))?;
        }
        fs::copy(source, &path).map_err(io(source))?;
    }
    fs::rename(&tmp, out).map_err(io(out))
}

/// The first `columns` commitments of a proof (its advice columns), as manifest hex strings.
pub fn leading_commitments(proof: &[u8], columns: usize) -> Option<Vec<String>> {
    proof
        .get(..columns * 64)
        .map(|b| b.chunks(64).map(hex::encode).collect())
}
