//! `manifest.json`, the public description of an epoch bundle: what verifiers of every kind
//! (the CLI, the contract registry, the browser page) read first. No halo2 here, so the
//! browser's inclusion check parses the very same type.

use serde::{Deserialize, Serialize};
use zkmargin_core::statement::Statement;

use crate::shape::MarginShape;
use crate::slots::{SlotShape, CLASSES, DATA_COLUMNS};

/// Bundle format. 4: the manifest names the account data columns. (3: one proof per shard
/// under `shards/`; 2: the statement digest hashes the public instances; 1: the old digest.)
/// Other versions are refused.
pub const FORMAT_VERSION: u32 = 4;
/// The manifest's file name in a bundle (and in an archive's public epoch directory).
pub const MANIFEST: &str = "manifest.json";
/// The snapshot config's file name beside it.
pub const CONFIG: &str = "config.toml";

/// Where the KZG parameters came from; verifiers use their own copy and compare the label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SrsLabel {
    /// `dev-insecure` or `ptau:<file name>`.
    pub source: String,
    /// The SRS size: 2^k points (the shape's k).
    pub k: u32,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The manifest format's version.
    pub format_version: u32,
    /// The circuit shape every shard is proved with.
    pub shape: MarginShape,
    /// The SRS every shard is proved under.
    pub srs: SrsLabel,
    /// Hex Keccak-256 of the statement (the next epoch's `prev_digest`).
    pub statement_digest: String,
    /// The shards, in table order (ascending account ids).
    pub shards: Vec<ShardEntry>,
    /// Positions in every shard's `account_table_commitment` of the account data columns
    /// (what inclusion proofs open), in data-column order. Fixed by the circuit layout;
    /// `zkmargin-verify` re-derives it and refuses a manifest that differs.
    pub account_data_columns: Vec<usize>,
    /// The statement the bundle proves.
    pub statement: Statement,
}

/// One shard in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardEntry {
    /// Commitment to the shard's account table: the KZG commitments of the advice columns that
    /// hold it, in column order, each hex `x ‖ y` (32-byte big-endian coordinates), exactly
    /// as they open the shard's proof transcript.
    pub account_table_commitment: Vec<String>,
}

impl Manifest {
    /// A manifest from its JSON, refusing other format versions, manifests without shards and
    /// an SRS size other than the shape's (`Err`: why, for the caller to place). The shape
    /// itself is admitted against the config by the caller ([`MarginShape::admit`]).
    pub fn parse(json: &[u8]) -> Result<Manifest, String> {
        let m: Manifest = serde_json::from_slice(json).map_err(|e| e.to_string())?;
        if m.format_version != FORMAT_VERSION {
            return Err(format!(
                "format version {} is not {FORMAT_VERSION}",
                m.format_version
            ));
        }
        if m.shards.is_empty() {
            return Err("no shards".into());
        }
        if m.srs.k != m.shape.k {
            return Err(format!(
                "srs.k = {} is not the shape's k = {}",
                m.srs.k, m.shape.k
            ));
        }
        Ok(m)
    }

    /// The statement digest as bytes; `None` if the manifest's hex is not 32 bytes.
    pub fn statement_digest_bytes(&self) -> Option<[u8; 32]> {
        hex::decode(&self.statement_digest).ok()?.try_into().ok()
    }
}

/// Format of a slot-table bundle's manifest ([`SlotManifest`]): the account table v2, shard
/// classes by entry count.
pub const SLOT_FORMAT_VERSION: u32 = 6;

/// The `format_version` of a JSON file (a manifest of either kind, an inclusion file);
/// `None` if it has none.
pub fn format_version(json: &[u8]) -> Option<u32> {
    #[derive(Deserialize)]
    struct Version {
        format_version: u32,
    }
    serde_json::from_slice::<Version>(json)
        .ok()
        .map(|v| v.format_version)
}

/// `manifest.json` of a slot-table bundle: the classes present, each with its shard shape and
/// shard count, in epoch order (class by class, shards in ascending id order; ids of class `c`
/// carry the tag `c`, so one id order runs through the whole epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotManifest {
    /// [`SLOT_FORMAT_VERSION`].
    pub format_version: u32,
    /// The SRS source every shard is proved under (`dev-insecure` or `ptau:<file name>`).
    pub srs: String,
    /// Hex Keccak-256 of the statement (the next epoch's `prev_digest`).
    pub statement_digest: String,
    /// The classes holding accounts, in ascending class order.
    pub classes: Vec<ClassEntry>,
    /// The statement the bundle proves.
    pub statement: Statement,
}

/// One shard class in a [`SlotManifest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassEntry {
    /// Index into [`CLASSES`].
    pub class: usize,
    /// The shape of each of its shards (`shape.accounts` blocks each: the padded count).
    pub shape: SlotShape,
    /// Its shards.
    pub shards: usize,
    /// Per shard, in shard order: the commitments of its [`DATA_COLUMNS`] slot data columns
    /// ([`crate::slots::SlotData::flatten`] order), each hex `x ‖ y` (32-byte big-endian
    /// coordinates) exactly as it opens the shard's proof transcript — what a holder's
    /// inclusion check opens without the proof (`zkmargin-verify` checks they are the
    /// proofs').
    pub data_commitments: Vec<Vec<String>>,
}

impl SlotManifest {
    /// A slot manifest from its JSON, refusing other versions, no classes, classes out of
    /// order or of no shards, and data commitments other than [`DATA_COLUMNS`] per shard
    /// (`Err`: why). Each class's shape is admitted against the config by
    /// the caller (`SlotShape::admit`).
    pub fn parse(json: &[u8]) -> Result<SlotManifest, String> {
        let m: SlotManifest = serde_json::from_slice(json).map_err(|e| e.to_string())?;
        if m.format_version != SLOT_FORMAT_VERSION {
            return Err(format!(
                "format version {} is not {SLOT_FORMAT_VERSION}",
                m.format_version
            ));
        }
        if m.classes.is_empty() {
            return Err("no classes".into());
        }
        if !m.classes.windows(2).all(|w| w[0].class < w[1].class)
            || m.classes.iter().any(|c| c.class >= CLASSES.len())
        {
            return Err(format!(
                "classes: not strictly increasing class indices below {}",
                CLASSES.len()
            ));
        }
        if let Some(c) = m.classes.iter().find(|c| c.shards == 0) {
            return Err(format!("class {}: no shards", c.class));
        }
        if let Some(c) = m.classes.iter().find(|c| {
            c.data_commitments.len() != c.shards
                || c.data_commitments.iter().any(|d| d.len() != DATA_COLUMNS)
        }) {
            return Err(format!(
                "class {}: data commitments: not {DATA_COLUMNS} per shard for {} shard(s)",
                c.class, c.shards
            ));
        }
        Ok(m)
    }

    /// The statement digest as bytes; `None` if the manifest's hex is not 32 bytes.
    pub fn statement_digest_bytes(&self) -> Option<[u8; 32]> {
        hex::decode(&self.statement_digest).ok()?.try_into().ok()
    }
}
