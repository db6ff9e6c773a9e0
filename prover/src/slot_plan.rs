//! Distributed proving of slot-table epochs: a *slot plan* directory holds an epoch prepared
//! once ([`prepare_slots`]); stateless jobs prove one class shard each, by its index in the
//! epoch (class by class, [`SlotEpoch::shard_offset`]), and a last step assembles the slot
//! bundle.
//!
//! | path | written by | content |
//! |---|---|---|
//! | `plan.json` | `plan` | [`SlotPlanManifest`]: format, SRS label, the epoch's shard count, classes (class, shape, shard count), statement |
//! | `config.toml`, `quotes.csv` | `plan` | the snapshot's public inputs |
//! | `private/master_secret.hex`, `private/snapshot/` | `plan` | the master secret and the snapshot, copied into the bundle |
//! | `shards/NNNN/proof.bin`, `instances.json` | `prove-shard` | epoch shard `NNNN`'s proof and public values |
//!
//! A job prepares the epoch again from `private/snapshot/` under the master secret — the same
//! ids, classes and shard cuts, refused unless the statement and every class are the plan's —
//! so a plan holds no per-shard inputs, and a job costs one evaluation of the snapshot before
//! its proof. A shard's witness and proving randomness derive from the plan alone, so a shard
//! proved again has the same instances and data commitments. A result is written to a
//! temporary directory and renamed into place: a job killed at any moment leaves no result or
//! a whole one, and a job skips a shard whose result exists.

use std::fs;
use std::path::{Path, PathBuf};

use halo2_proofs::halo2curves::bn256::Bn256;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use serde::{Deserialize, Serialize};
use zkmargin_bundle::slots::SlotBundle;
use zkmargin_bundle::{
    instances_json, parse_instances, ShardProof, MASTER_SECRET, PRIVATE, PRIVATE_SNAPSHOT,
};
use zkmargin_circuits::slots::circuit::{keygen, verifying_key};
use zkmargin_core::config::Config;
use zkmargin_core::statement::Statement;
use zkmargin_layout::manifest::CONFIG;
use zkmargin_layout::slots::SlotShape;
use zkmargin_srs::SrsKind;

use crate::pipeline::{EpochRequest, PipelineError, PlanSummary, Planned, Setup, ShardOutcome};
use crate::plan::{io, malformed, shard_dir, staging_dir, PlanError, PLAN_FILE};
use crate::prove::ProveError;
use crate::report::{phase, Reporter};
use crate::slots::{
    prepare_request, prepare_slots, prove_slot_shard, slot_bundle, snapshot_copies,
    write_slot_bundle, SlotEpoch,
};

/// `plan.json`'s format for a slot-table epoch (a dense plan's is [`crate::plan::PLAN_FORMAT`]).
pub const SLOT_PLAN_FORMAT: &str = "zkmargin-slot-plan/1";
const QUOTES: &str = "quotes.csv";
const PROOF: &str = "proof.bin";
const INSTANCES: &str = "instances.json";
/// At most this many shards in a plan (a 2^20 shard of class 4 holds about 2^18 accounts, so
/// this bounds an epoch far above any venue's) — a plan's shard count sizes work.
const MAX_PLAN_SHARDS: usize = 1 << 16;

/// One class of a [`SlotPlanManifest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedClass {
    /// Index into `zkmargin_layout::slots::CLASSES`.
    pub class: usize,
    /// Its shard shape.
    pub shape: SlotShape,
    /// Its shards.
    pub shards: usize,
}

/// `plan.json` of a slot plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotPlanManifest {
    /// [`SLOT_PLAN_FORMAT`].
    pub format: String,
    /// The SRS source every shard is proved under.
    pub srs: String,
    /// The epoch's shards, every class's (what a job runner numbers `0..shards`, as for a
    /// dense plan).
    pub shards: usize,
    /// The classes holding accounts, in epoch order.
    pub classes: Vec<PlannedClass>,
    /// The engine's statement.
    pub statement: Statement,
}

/// Whether `dir` holds a slot plan (its `plan.json` names [`SLOT_PLAN_FORMAT`]); `false` when
/// it cannot be read, so the dense plan's reader reports what is wrong.
pub fn is_slot_plan(dir: &Path) -> bool {
    #[derive(Deserialize)]
    struct Format {
        format: String,
    }
    fs::read(dir.join(PLAN_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice::<Format>(&b).ok())
        .is_some_and(|f| f.format == SLOT_PLAN_FORMAT)
}

/// Writes the plan of `epoch` (prepared from `snapshot`) to `out` atomically.
pub fn write_slot_plan(
    epoch: &SlotEpoch,
    srs_label: &str,
    snapshot: &Path,
    out: &Path,
) -> Result<SlotPlanManifest, PlanError> {
    let tmp = staging_dir(out)?;
    let manifest = SlotPlanManifest {
        format: SLOT_PLAN_FORMAT.into(),
        srs: srs_label.into(),
        shards: epoch.classes.iter().map(|c| c.shards()).sum(),
        classes: epoch
            .classes
            .iter()
            .map(|c| PlannedClass {
                class: c.class,
                shape: c.shape.clone(),
                shards: c.shards(),
            })
            .collect(),
        statement: epoch.statement.clone(),
    };
    let snapshot_dir = tmp.join(PRIVATE).join(PRIVATE_SNAPSHOT);
    fs::create_dir_all(&snapshot_dir).map_err(io(&snapshot_dir))?;
    let write = |path: PathBuf, bytes: &[u8]| fs::write(&path, bytes).map_err(io(&path));
    write(
        tmp.join(PLAN_FILE),
        &serde_json::to_vec_pretty(&manifest).expect("plan serializes"),
    )?;
    write(tmp.join(CONFIG), epoch.config_toml.as_bytes())?;
    write(tmp.join(QUOTES), &epoch.quotes_csv)?;
    write(
        tmp.join(PRIVATE).join(MASTER_SECRET),
        hex::encode(epoch.master_secret).as_bytes(),
    )?;
    for (to, from) in snapshot_copies(epoch, snapshot) {
        let to = tmp.join(PRIVATE).join(to);
        fs::copy(&from, &to).map_err(io(&to))?;
    }
    fs::create_dir_all(tmp.join(zkmargin_bundle::SHARDS)).map_err(io(&tmp))?;
    fs::rename(&tmp, out).map_err(io(out))?;
    Ok(manifest)
}

/// `plan.json` of the slot plan in `dir`, parsed and bounded, every class shape admitted
/// against the plan's config (no evaluation: a job's index is checked against it first).
fn read_manifest(dir: &Path) -> Result<SlotPlanManifest, PlanError> {
    let path = dir.join(PLAN_FILE);
    let bytes = fs::read(&path).map_err(io(&path))?;
    let manifest: SlotPlanManifest =
        serde_json::from_slice(&bytes).map_err(|e| malformed(&path, e))?;
    if manifest.format != SLOT_PLAN_FORMAT {
        return Err(malformed(
            &path,
            format!("format {:?}, not {SLOT_PLAN_FORMAT:?}", manifest.format),
        ));
    }
    let config_path = dir.join(CONFIG);
    let config_text = fs::read_to_string(&config_path).map_err(io(&config_path))?;
    let config = Config::parse(&config_text).map_err(|e| malformed(&config_path, e))?;
    let mut total = 0usize;
    for c in &manifest.classes {
        SlotShape::admit(&config, c.class, &c.shape)
            .map_err(|e| malformed(&path, format!("class {}: {e}", c.class)))?;
        total = total.saturating_add(c.shards);
        if c.shards == 0 || total > MAX_PLAN_SHARDS {
            return Err(malformed(
                &path,
                format!(
                    "class {}: shard counts must be 1 to {MAX_PLAN_SHARDS} in all",
                    c.class
                ),
            ));
        }
    }
    if total != manifest.shards {
        return Err(malformed(
            &path,
            format!("shards: {}, but the classes hold {total}", manifest.shards),
        ));
    }
    Ok(manifest)
}

/// An opened slot plan, its epoch prepared again and checked against `plan.json`.
pub struct SlotPlan {
    dir: PathBuf,
    /// `plan.json`.
    pub manifest: SlotPlanManifest,
    /// The epoch, prepared again from the plan's private snapshot.
    pub epoch: SlotEpoch,
}

impl SlotPlan {
    /// Opens the plan in `dir`: `plan.json` parsed and bounded, every class shape admitted
    /// against the plan's config, the epoch prepared again and required to reproduce it.
    pub fn open(dir: &Path) -> Result<SlotPlan, PlanError> {
        let manifest = read_manifest(dir)?;
        let path = dir.join(PLAN_FILE);
        let private = dir.join(PRIVATE);
        let secret_path = private.join(MASTER_SECRET);
        let secret = crate::epoch::master_secret(dir)
            .map_err(|_| malformed(&secret_path, "unreadable, or not 32 hex bytes"))?;
        let epoch = prepare_slots(
            &private.join(PRIVATE_SNAPSHOT),
            manifest.statement.prev_digest,
            Some(secret),
        )
        .map_err(|e| malformed(&private.join(PRIVATE_SNAPSHOT), e))?;
        let planned = manifest
            .classes
            .iter()
            .map(|c| (c.class, &c.shape, c.shards));
        if !epoch.reproduces(&manifest.statement, planned) {
            return Err(malformed(
                &path,
                "the private snapshot does not prepare into this plan's statement and classes",
            ));
        }
        Ok(SlotPlan {
            dir: dir.to_path_buf(),
            manifest,
            epoch,
        })
    }

    /// `(class index, shard)` of epoch shard `index`, or why there is none.
    fn locate(&self, index: usize) -> Result<(usize, usize), PlanError> {
        self.epoch
            .locate_shard(index)
            .ok_or(PlanError::NoSuchShard {
                shard: index,
                shards: self.manifest.shards,
            })
    }

    /// Epoch shard `index`'s result, if a job has written one.
    pub fn result(&self, index: usize) -> Result<Option<ShardProof>, PlanError> {
        self.locate(index)?;
        let dir = shard_dir(&self.dir, index);
        if !dir.exists() {
            return Ok(None);
        }
        let read = |file: &str| {
            let path = dir.join(file);
            fs::read(&path).map_err(io(&path))
        };
        let instances_path = dir.join(INSTANCES);
        Ok(Some(ShardProof {
            instances: parse_instances(&read(INSTANCES)?)
                .map_err(|e| malformed(&instances_path, e))?,
            proof: read(PROOF)?,
        }))
    }

    /// Records epoch shard `index`'s proof: written beside its place and renamed into it.
    pub fn store_result(&self, index: usize, proof: &ShardProof) -> Result<(), PlanError> {
        self.locate(index)?;
        let dir = shard_dir(&self.dir, index);
        let tmp = dir.with_extension(format!("tmp-{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp).map_err(io(&tmp))?;
        let write = |file: &str, bytes: &[u8]| {
            let path = tmp.join(file);
            fs::write(&path, bytes).map_err(io(&path))
        };
        write(PROOF, &proof.proof)?;
        write(INSTANCES, &instances_json(&proof.instances))?;
        match fs::rename(&tmp, &dir) {
            Ok(()) => Ok(()),
            // Another job recorded it first: its result is the same shard's.
            Err(_) if dir.exists() => {
                let _ = fs::remove_dir_all(&tmp);
                Ok(())
            }
            Err(e) => Err(io(&dir)(e)),
        }
    }

    fn srs(&self, srs_dir: &Path, k: u32) -> Result<ParamsKZG<Bn256>, PipelineError> {
        let label = &self.manifest.srs;
        let kind =
            SrsKind::from_label(label).ok_or_else(|| PipelineError::UnknownSrs(label.clone()))?;
        Ok(zkmargin_srs::load(srs_dir, kind, k)?)
    }
}

/// `zkmargin plan` for the slot table: the snapshot prepared ([`prepare_slots`]) and the plan
/// written to `out`. `request.sharding` is the dense table's and must be empty.
pub fn make_slot_plan(
    request: &EpochRequest<'_>,
    setup: &Setup<'_>,
    out: &Path,
    reporter: &dyn Reporter,
) -> Result<Planned, PipelineError> {
    let epoch = match prepare_request(request, setup, out, reporter)? {
        Ok(epoch) => epoch,
        Err(halt) => return Ok(Planned::Halted(halt)),
    };
    let manifest = write_slot_plan(&epoch, request.srs.label(), request.snapshot, out)?;
    let summary = PlanSummary {
        accounts: epoch.classes.iter().map(|c| c.accounts.len()).sum(),
        shards: manifest.shards,
        rows: epoch
            .classes
            .iter()
            .map(|c| 1usize << c.shape.k)
            .max()
            .unwrap_or(0),
        k: epoch.classes.iter().map(|c| c.shape.k).max().unwrap_or(0),
    };
    for c in &manifest.classes {
        reporter.info(&format!(
            "class of {} slots: {} shard(s) at k = {}",
            c.shape.slots, c.shards, c.shape.k
        ));
    }
    Ok(Planned::Written(summary))
}

/// One shard job of a slot plan: proves epoch shard `index` and records it. A bad index is
/// refused and a recorded shard skipped before any SRS or key is loaded.
pub fn prove_slot_plan_shard(
    plan_dir: &Path,
    index: usize,
    setup: &Setup<'_>,
    reporter: &dyn Reporter,
) -> Result<ShardOutcome, PipelineError> {
    // The index and a recorded result first: neither needs the snapshot evaluated.
    let planned = read_manifest(plan_dir)?.shards;
    if index >= planned {
        return Err(PlanError::NoSuchShard {
            shard: index,
            shards: planned,
        }
        .into());
    }
    if shard_dir(plan_dir, index).exists() {
        reporter.info(&format!("shard {index}: already proved"));
        return Ok(ShardOutcome::AlreadyProved);
    }
    let plan = phase(reporter, "evaluation", || SlotPlan::open(plan_dir))?;
    let (c, s) = plan.locate(index)?;
    let epoch = &plan.epoch;
    let shape = &epoch.classes[c].shape;
    let srs = plan.srs(setup.srs_dir, shape.k)?;
    let pk =
        phase(reporter, "key generation", || keygen(&srs, shape)).map_err(ProveError::Keygen)?;
    let witness = phase(reporter, "witness generation", || epoch.shard_witness(c, s));
    let proof = phase(reporter, "proving", || {
        prove_slot_shard(&srs, &pk, &witness, &epoch.master_secret, index)
    })
    .map_err(|e| PlanError::Shard {
        shard: index,
        source: Box::new(e),
    })?;
    plan.store_result(index, &proof)?;
    reporter.info(&format!(
        "shard {index} (class of {} slots, shard {s}): proved ({} byte proof)",
        shape.slots,
        proof.proof.len()
    ));
    Ok(ShardOutcome::Proved(proof.proof.len()))
}

/// Verifies every shard proof of the slot plan in `plan_dir` under verifying keys rebuilt from
/// the class shapes, and writes the bundle to `out` (which must not exist).
pub fn assemble_slot_plan(
    plan_dir: &Path,
    out: &Path,
    setup: &Setup<'_>,
    reporter: &dyn Reporter,
) -> Result<SlotBundle, PipelineError> {
    if out.exists() {
        return Err(PipelineError::Exists(out.to_path_buf()));
    }
    let plan = phase(reporter, "evaluation", || SlotPlan::open(plan_dir))?;
    let shards = plan.manifest.shards;
    let results: Vec<Option<ShardProof>> = (0..shards)
        .map(|i| plan.result(i))
        .collect::<Result<_, _>>()?;
    let missing: Vec<usize> = (0..shards).filter(|&i| results[i].is_none()).collect();
    if !missing.is_empty() {
        return Err(PlanError::Missing(missing).into());
    }
    let mut results = results.into_iter().flatten();
    let mut proofs = Vec::new();
    for (c, class) in plan.epoch.classes.iter().enumerate() {
        let srs = plan.srs(setup.srs_dir, class.shape.k)?;
        let vk = phase(reporter, "verifying key", || {
            verifying_key(&srs, &class.shape)
        })
        .map_err(PipelineError::VerifyingKey)?;
        let mut shards = Vec::new();
        for s in 0..class.shards() {
            let proof = results.next().expect("one result per shard");
            zkmargin_keys::snark::verify(&srs, &vk, &proof.instances, &proof.proof).map_err(
                |reason| PlanError::BadProof {
                    shard: plan.epoch.shard_offset(c) + s,
                    reason,
                },
            )?;
            shards.push(proof);
        }
        proofs.push(shards);
    }
    let bundle = slot_bundle(&plan.epoch, &plan.manifest.srs, proofs).map_err(PlanError::Prove)?;
    let snapshot = plan_dir.join(PRIVATE).join(PRIVATE_SNAPSHOT);
    write_slot_bundle(&bundle, &plan.epoch, &snapshot, out).map_err(PlanError::Bundle)?;
    Ok(bundle)
}
