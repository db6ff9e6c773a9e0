//! `zkmargin-verify inclusion`: an account holder's check that their account, with exactly
//! these balances and positions, is a constrained row of a verified epoch's account table.
//!
//! This module checks the bundle's integrity (SNARK, statement, digests, oracle; policy is
//! `bundle`'s business), takes the account data columns' commitments from the verified proof, and hands
//! the file to `zkmargin_inclusion::verify`, the same code the browser page runs.

use std::path::Path;

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine, G2Affine};
use halo2_proofs::poly::commitment::ParamsProver;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use serde::Serialize;
use zkmargin_circuits::keygen::data_columns;
use zkmargin_core::policy::{self, PolicyCheck};
use zkmargin_inclusion::slots::{check_slot_file, parse_slot_file, SlotShard};
use zkmargin_inclusion::verify::{check_file, parse_file, AccountStatus, Epoch, Powers};
use zkmargin_inclusion::{data_commitments, g1_from_transcript_hex};

use crate::bundle::{check_bundle, SrsLoader, UnusableBundle};
use crate::slots::check_slot_bundle;

/// Supplies the verifier's own G2 powers for an SRS label, checked against its parameters.
pub type G2Loader<'a> = &'a dyn Fn(&str, &ParamsKZG<Bn256>) -> Result<Vec<G2Affine>, String>;

#[derive(Debug, thiserror::Error)]
/// Why an inclusion file cannot be checked at all (exit 2).
pub enum UnusableInclusion {
    #[error(transparent)]
    /// The bundle cannot be checked.
    Bundle(#[from] UnusableBundle),
    #[error("{path}: {reason}")]
    /// The inclusion file is unreadable or not of the format.
    File {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    #[error("SRS: {0}")]
    /// The verifier's SRS or its G2 powers are unavailable.
    Srs(String),
    #[error("the bundle cannot be checked far enough to open its commitments: {0}")]
    /// The bundle's SNARK check did not get far enough to open its commitments.
    Unopenable(String),
}

#[derive(Debug, Clone, Serialize)]
/// The verdict on one inclusion file: every check, and the account's status.
pub struct InclusionReport {
    /// The epoch of the bundle checked against.
    pub epoch: u64,
    /// The shard the file names.
    pub shard: usize,
    /// The row within the shard.
    pub row: usize,
    /// The row's account id (hex).
    pub id: String,
    /// Slot-table epochs: the account's class (index into `zkmargin_layout::slots::CLASSES`);
    /// `row` is then its block in the class's shard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<usize>,
    /// Slot-table epochs: the entries the account was counted with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries: Option<Vec<zkmargin_inclusion::slots::Entry>>,
    /// Every check, passed or not.
    pub checks: Vec<PolicyCheck>,
    /// The account at the epoch's prices.
    pub account: AccountStatus,
}

impl InclusionReport {
    /// Whether every check passed (warnings included).
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
}

/// Verifies inclusion file `path` against the bundle in `dir`.
pub fn verify_inclusion(
    dir: &Path,
    path: &Path,
    identifier: Option<&str>,
    vk_cache: Option<&Path>,
    load_srs: SrsLoader<'_>,
    load_g2: G2Loader<'_>,
) -> Result<InclusionReport, UnusableInclusion> {
    if zkmargin_bundle::slots::SlotBundle::is_slot_bundle(dir) {
        return verify_slot_inclusion(dir, path, identifier, vk_cache, load_srs, load_g2);
    }
    let unusable = |reason: String| UnusableInclusion::File {
        path: path.display().to_string(),
        reason,
    };
    let file = std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| parse_file(&bytes))
        .map_err(unusable)?;

    let checked = check_bundle(dir, None, false, vk_cache, load_srs)?;
    let failed = checked.report.failed();
    let bundle_ok = PolicyCheck::new(
        "the bundle's proof and statement verify",
        failed.is_empty(),
        if failed.is_empty() {
            "SNARK, statement, digests and oracle check out".to_string()
        } else {
            format!("failed: {}", failed.join("; "))
        },
    );
    let m = &checked.bundle.manifest;
    let setup = policy::trusted_setup(&m.srs.source, false);
    // The SRS, key layout and admitted shape the bundle check used. Without them (the shape
    // was not admitted, or the statement does not encode) the bundle is unusable for an
    // inclusion check: nothing of the file can be checked against it.
    let keys = checked
        .keys
        .ok_or_else(|| UnusableInclusion::Unopenable(failed.join("; ")))?;
    let g2 = load_g2(&m.srs.source, &keys.srs).map_err(UnusableInclusion::Srs)?;
    let shard = m.shards.get(file.shard).ok_or_else(|| {
        unusable(format!(
            "shard: {} is not in this epoch of {} shards",
            file.shard,
            m.shards.len()
        ))
    })?;
    let commitments: Vec<G1Affine> = data_columns(&keys.layout, &keys.shape)
        .and_then(|columns| data_commitments(shard, columns.into_iter().map(|(_, p)| p)))
        .ok_or_else(|| unusable("the bundle has no account data commitments".into()))?;
    let epoch = Epoch::new(
        &m.statement,
        &m.statement_digest,
        &checked.config,
        &keys.shape,
        &commitments,
    )
    .map_err(unusable)?;
    let (mut checks, account) = check_file(
        &file,
        &epoch,
        identifier,
        &Powers {
            g1: keys.srs.get_g(),
            g2: &g2,
        },
    )
    .map_err(unusable)?;
    checks.insert(0, bundle_ok);
    checks.insert(1, setup);
    Ok(InclusionReport {
        epoch: m.statement.epoch,
        shard: file.shard,
        row: file.row,
        id: file.id.clone(),
        class: None,
        entries: None,
        checks,
        account,
    })
}

/// [`verify_inclusion`] for a slot-table bundle: the whole bundle verifies, then the file's
/// block opens the seven holder data columns of its class shard's proof to its entries.
fn verify_slot_inclusion(
    dir: &Path,
    path: &Path,
    identifier: Option<&str>,
    vk_cache: Option<&Path>,
    load_srs: SrsLoader<'_>,
    load_g2: G2Loader<'_>,
) -> Result<InclusionReport, UnusableInclusion> {
    let unusable = |reason: String| UnusableInclusion::File {
        path: path.display().to_string(),
        reason,
    };
    let file = std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| parse_slot_file(&bytes))
        .map_err(unusable)?;
    let checked = check_slot_bundle(dir, None, false, vk_cache, load_srs)?;
    let failed = checked.report.failed();
    let bundle_ok = PolicyCheck::new(
        "the bundle's proof and statement verify",
        failed.is_empty(),
        if failed.is_empty() {
            "every class shard's SNARK, the statement, digests, instrument table and oracle \
             check out"
                .to_string()
        } else {
            format!("failed: {}", failed.join("; "))
        },
    );
    let m = &checked.bundle.manifest;
    let entry = m
        .classes
        .iter()
        .find(|e| e.class == file.class)
        .ok_or_else(|| unusable(format!("class: the epoch has no class {}", file.class)))?;
    let listed = entry.data_commitments.get(file.shard).ok_or_else(|| {
        unusable(format!(
            "shard: class {} has {} shard(s), not {}",
            file.class,
            entry.shards,
            file.shard + 1
        ))
    })?;
    // Admitted before it configures a constraint system or sizes an SRS load.
    let shape =
        &zkmargin_layout::slots::SlotShape::admit(&checked.config, file.class, &entry.shape)
            .map_err(|e| unusable(format!("manifest class {} shape: {e}", file.class)))?;
    // The bundle's checks tied these to the shard's proof.
    let commitments: Vec<G1Affine> = listed
        .iter()
        .map(|h| g1_from_transcript_hex(h))
        .collect::<Option<_>>()
        .ok_or_else(|| unusable("the manifest's slot data commitments are malformed".into()))?;
    let srs = load_srs(&m.srs, shape.k).map_err(UnusableInclusion::Srs)?;
    let g2 = load_g2(&m.srs, &srs).map_err(UnusableInclusion::Srs)?;
    let shard = SlotShard::new(
        &m.statement,
        &m.statement_digest,
        &checked.config,
        file.class,
        shape,
        &commitments,
    )
    .map_err(unusable)?;
    let (mut checks, account) = check_slot_file(
        &file,
        &shard,
        identifier,
        &Powers {
            g1: srs.get_g(),
            g2: &g2,
        },
    )
    .map_err(unusable)?;
    checks.insert(0, bundle_ok);
    checks.insert(1, policy::trusted_setup(&m.srs, false));
    Ok(InclusionReport {
        epoch: m.statement.epoch,
        shard: file.shard,
        row: file.block,
        id: file.id.clone(),
        class: Some(file.class),
        entries: Some(file.entries.clone()),
        checks,
        account,
    })
}
