//! A slot-table epoch bundle (account table v2): a directory with
//!
//! | file | content |
//! |---|---|
//! | `manifest.json` | [`SlotManifest`]: format 6, the classes (shape, shard count, each shard's slot data commitments), statement, digest, SRS source |
//! | `classes/C/NNNN/proof.bin` | shard `NNNN` of class `C`'s SNARK (SHPLONK, Keccak EVM transcript) |
//! | `classes/C/NNNN/instances.json` | its public values: the epoch's instrument table, the shard's instrument totals, totals and id range |
//! | `config.toml`, `quotes.csv` | the snapshot's config and signed quotes (verifiers re-run the oracle and rebuild the instrument table) |
//! | `private/` | operator secrets (master secret, the snapshot); **never publish** |
//!
//! Written atomically, as a dense bundle ([`crate::Bundle`]).

use std::fs;
use std::path::Path;

use zkmargin_layout::manifest::{SlotManifest, CONFIG, MANIFEST};

use crate::{instances_json, io, parse_instances, BundleError, ShardProof, PROOF, QUOTES};

/// The classes' directory.
pub const CLASSES_DIR: &str = "classes";

/// `classes/C/NNNN`.
pub fn class_shard_dir(class: usize, shard: usize) -> String {
    format!("{CLASSES_DIR}/{class}/{shard:04}")
}

/// A slot-table bundle held in memory.
#[derive(Debug, Clone)]
pub struct SlotBundle {
    /// `manifest.json`.
    pub manifest: SlotManifest,
    /// Per manifest class, its shards in order.
    pub shards: Vec<Vec<ShardProof>>,
    /// `config.toml`, as proven.
    pub config_toml: String,
    /// `quotes.csv`, as proven (with signatures).
    pub quotes_csv: Vec<u8>,
}

impl SlotBundle {
    /// Writes the public files, `private_files` and `private_copies` into `private/`
    /// atomically to `out` (which must not exist).
    pub fn write(
        &self,
        out: &Path,
        private_files: &[(&str, Vec<u8>)],
        private_copies: &[(&str, &Path)],
    ) -> Result<(), BundleError> {
        let manifest = serde_json::to_vec_pretty(&self.manifest).expect("manifest serializes");
        let mut files: Vec<(String, Vec<u8>)> = vec![
            (MANIFEST.into(), manifest),
            (CONFIG.into(), self.config_toml.clone().into_bytes()),
            (QUOTES.into(), self.quotes_csv.clone()),
        ];
        for (entry, shards) in self.manifest.classes.iter().zip(&self.shards) {
            for (s, shard) in shards.iter().enumerate() {
                let dir = class_shard_dir(entry.class, s);
                files.push((format!("{dir}/{PROOF}"), shard.proof.clone()));
                files.push((
                    format!("{dir}/{}", crate::INSTANCES),
                    instances_json(&shard.instances),
                ));
            }
        }
        crate::write_atomically(out, files, private_files, private_copies)
    }

    /// Reads the public part of a slot-table bundle.
    pub fn read(dir: &Path) -> Result<SlotBundle, BundleError> {
        let read = |file: &str| {
            let path = dir.join(file);
            fs::read(&path).map_err(io(&path))
        };
        let malformed = |file: &str, reason: String| BundleError::Malformed {
            path: dir.join(file),
            reason,
        };
        let manifest = SlotManifest::parse(&read(MANIFEST)?).map_err(|e| malformed(MANIFEST, e))?;
        let shards = manifest
            .classes
            .iter()
            .map(|entry| {
                (0..entry.shards)
                    .map(|s| {
                        let dir = class_shard_dir(entry.class, s);
                        let file = format!("{dir}/{}", crate::INSTANCES);
                        Ok(ShardProof {
                            instances: parse_instances(&read(&file)?)
                                .map_err(|e| malformed(&file, e))?,
                            proof: read(&format!("{dir}/{PROOF}"))?,
                        })
                    })
                    .collect::<Result<Vec<_>, BundleError>>()
            })
            .collect::<Result<_, BundleError>>()?;
        let config_toml =
            String::from_utf8(read(CONFIG)?).map_err(|_| malformed(CONFIG, "not UTF-8".into()))?;
        Ok(SlotBundle {
            manifest,
            shards,
            config_toml,
            quotes_csv: read(QUOTES)?,
        })
    }

    /// Whether the bundle in `dir` is a slot-table bundle (its manifest's format version is
    /// [`zkmargin_layout::manifest::SLOT_FORMAT_VERSION`]); `false` when it cannot be read.
    pub fn is_slot_bundle(dir: &Path) -> bool {
        fs::read(dir.join(MANIFEST))
            .ok()
            .and_then(|j| zkmargin_layout::manifest::format_version(&j))
            == Some(zkmargin_layout::manifest::SLOT_FORMAT_VERSION)
    }
}
