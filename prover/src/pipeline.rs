//! The operator's steps from a snapshot to a bundle, as the CLI and the epoch runner run them:
//! [`make_plan`] (evaluate, sort, cut into shards, write the plan directory), [`prove_shard`]
//! (one stateless shard job), [`prove_plan`] (every shard in this process, one key),
//! [`assemble`] (verify every shard proof, write the bundle), and [`prove_snapshot`] (all of
//! them, the plan kept private beside the bundle and removed once the bundle is written).

use std::path::{Path, PathBuf};

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::VerifyingKey;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use zkmargin_bundle::Bundle;
use zkmargin_core::oracle::HaltReport;
use zkmargin_srs::{self as srs, SrsError, SrsKind};
use zkmargin_verifier::chain::{PreviousEpoch, UnusablePrevious};

use crate::epoch::{prepare, PrepareError, Sharding};
use crate::plan::{write_plan, Plan, PlanError};
use crate::prove::{self, shard_key, Proof, ProveError, ShardKey};
use crate::report::{phase, Reporter};
use crate::ErrorClass;

/// Where parameters and keys live on this machine.
#[derive(Debug, Clone, Copy)]
pub struct Setup<'a> {
    /// The SRS directory (`zkmargin setup` fills it).
    pub srs_dir: &'a Path,
    /// The proving-key cache.
    pub key_dir: &'a Path,
    /// The verifier's key cache, used to verify `--prev` bundles.
    pub vk_dir: &'a Path,
}

/// What to prove: a snapshot, its predecessor and how its table is cut.
#[derive(Debug, Clone, Copy)]
pub struct EpochRequest<'a> {
    /// The snapshot directory (config.toml, quotes.csv, accounts.csv).
    pub snapshot: &'a Path,
    /// The previous epoch's bundle; its statement digest becomes `prev_digest`.
    pub prev: Option<&'a Path>,
    /// Shard rows and circuit size.
    pub sharding: Sharding,
    /// The SRS every shard is proved under.
    pub srs: SrsKind,
}

/// Why a step did not produce its plan or bundle.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The output path is taken.
    #[error("{} already exists", .0.display())]
    Exists(PathBuf),
    /// `--prev` could not be read.
    #[error(transparent)]
    Previous(#[from] UnusablePrevious),
    /// `--prev` was read and does not verify.
    #[error("--prev {}: the previous bundle does not verify: {}", path.display(), failed.join("; "))]
    PreviousFails {
        /// The previous bundle.
        path: PathBuf,
        /// The checks it failed.
        failed: Vec<String>,
    },
    /// The snapshot cannot be evaluated or sharded (an oracle halt is [`Planned::Halted`]).
    #[error(transparent)]
    Prepare(PrepareError),
    /// The plan directory is unusable or a shard step failed.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A plan or bundle names an SRS this build does not know.
    #[error("unknown SRS `{0}`")]
    UnknownSrs(String),
    /// The SRS is missing or unreadable.
    #[error(transparent)]
    Srs(#[from] SrsError),
    /// Key generation or proving failed.
    #[error(transparent)]
    Prove(#[from] ProveError),
    /// The verifying key could not be rebuilt.
    #[error("verifying key: {0:?}")]
    VerifyingKey(halo2_proofs::plonk::Error),
}

impl PipelineError {
    /// Whether the input is at fault (exit 2) or the run (exit 1).
    pub fn class(&self) -> ErrorClass {
        match self {
            PipelineError::Exists(_)
            | PipelineError::Previous(_)
            | PipelineError::PreviousFails { .. }
            | PipelineError::Prepare(_)
            | PipelineError::UnknownSrs(_) => ErrorClass::Input,
            PipelineError::Plan(e) => e.class(),
            _ => ErrorClass::Runtime,
        }
    }
}

/// A plan written, or the oracle's halt.
#[derive(Debug)]
pub enum Planned {
    /// The plan directory is complete.
    Written(PlanSummary),
    /// The oracle circuit breaker halted the epoch: nothing was written.
    Halted(Box<HaltReport>),
}

/// The size of a written plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanSummary {
    /// Real accounts.
    pub accounts: usize,
    /// Shards.
    pub shards: usize,
    /// Table rows per shard.
    pub rows: usize,
    /// Circuit size.
    pub k: u32,
}

/// `request`'s predecessor, verified in full as `zkmargin-verify bundle --prev` verifies one
/// ([`PreviousEpoch`]); a predecessor that fails is refused.
pub(crate) fn previous_epoch(
    request: &EpochRequest<'_>,
    setup: &Setup<'_>,
) -> Result<Option<PreviousEpoch>, PipelineError> {
    let Some(prev) = request.prev else {
        return Ok(None);
    };
    let load = |label: &str, k: u32| {
        let kind = SrsKind::from_label(label).ok_or_else(|| format!("unknown SRS `{label}`"))?;
        srs::load(setup.srs_dir, kind, k).map_err(|e| e.to_string())
    };
    let previous = PreviousEpoch::read(prev, Some(setup.vk_dir), &load)?;
    if !previous.failed.is_empty() {
        return Err(PipelineError::PreviousFails {
            path: prev.to_path_buf(),
            failed: previous.failed,
        });
    }
    Ok(Some(previous))
}

/// Prepares `request.snapshot` and writes its plan to `out` (which must not exist). A link to
/// `--prev` that the verifier will reject (a gap, another venue) is only a warning: the
/// operator may be re-proving history on purpose.
pub fn make_plan(
    request: &EpochRequest<'_>,
    setup: &Setup<'_>,
    out: &Path,
    reporter: &dyn Reporter,
) -> Result<Planned, PipelineError> {
    let previous = previous_epoch(request, setup)?;
    let prev_digest = previous.as_ref().map_or([0; 32], |p| p.digest);
    if out.exists() {
        return Err(PipelineError::Exists(out.to_path_buf()));
    }
    let epoch = match prepare(request.snapshot, prev_digest, request.sharding, None) {
        Ok(e) => e,
        Err(PrepareError::Halted(report)) => return Ok(Planned::Halted(report)),
        Err(e) => return Err(PipelineError::Prepare(e)),
    };
    for check in previous
        .iter()
        .flat_map(|p| p.link_checks(&epoch.statement))
    {
        if !check.passed {
            reporter.warn(&format!("--prev: {}: {}", check.name, check.detail));
        }
    }
    let summary = PlanSummary {
        accounts: epoch.accounts,
        shards: epoch.shards(),
        rows: epoch.shape.rows,
        k: epoch.shape.k,
    };
    reporter.info(&format!(
        "{} accounts in {} shard(s) of {} rows, circuit k = {}",
        summary.accounts, summary.shards, summary.rows, summary.k
    ));
    write_plan(&epoch, request.srs.label(), request.snapshot, out)?;
    Ok(Planned::Written(summary))
}

/// Writes an oracle halt's report to `path` as `{"status": "halted", "halt": …}`.
pub fn write_halt_report(path: &Path, report: &HaltReport) -> std::io::Result<()> {
    let text =
        serde_json::to_string_pretty(&serde_json::json!({ "status": "halted", "halt": report }))
            .expect("a halt report serializes");
    std::fs::write(path, text)
}

/// The plan's SRS, from `srs_dir`.
fn plan_srs(plan: &Plan, srs_dir: &Path) -> Result<ParamsKZG<Bn256>, PipelineError> {
    let label = &plan.manifest.srs.source;
    let kind =
        SrsKind::from_label(label).ok_or_else(|| PipelineError::UnknownSrs(label.clone()))?;
    Ok(srs::load(srs_dir, kind, plan.manifest.shape.k)?)
}

fn plan_key(
    plan: &Plan,
    params: &ParamsKZG<Bn256>,
    setup: &Setup<'_>,
    reporter: &dyn Reporter,
) -> Result<ShardKey, PipelineError> {
    Ok(shard_key(
        params,
        &plan.manifest.srs.source,
        setup.key_dir,
        &plan.manifest.shape,
        reporter,
    )?)
}

/// What [`prove_shard`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardOutcome {
    /// The plan already held the shard's proof.
    AlreadyProved,
    /// The shard was proved: a proof of this many bytes.
    Proved(usize),
}

/// Proves `shard` and records its proof in the plan.
fn prove_and_store(
    plan: &Plan,
    params: &ParamsKZG<Bn256>,
    key: &ShardKey,
    shard: usize,
    reporter: &dyn Reporter,
) -> Result<ShardOutcome, PipelineError> {
    let witness = plan.shard_witness(shard)?;
    let proof = prove::prove_shard(params, key, &witness, plan.master_secret(), shard, reporter)
        .map_err(|e| PlanError::Shard {
            shard,
            source: Box::new(e),
        })?;
    plan.store_result(shard, &proof)?;
    reporter.info(&format!(
        "shard {shard}: proved ({} byte proof)",
        proof.bytes.len()
    ));
    Ok(ShardOutcome::Proved(proof.bytes.len()))
}

/// Whether the plan already holds `shard`'s proof (reported as skipped).
fn already_proved(
    plan: &Plan,
    shard: usize,
    reporter: &dyn Reporter,
) -> Result<bool, PipelineError> {
    let proved = plan.is_proved(shard)?;
    if proved {
        reporter.info(&format!("shard {shard}: already proved"));
    }
    Ok(proved)
}

/// One shard job: proves `shard` of the plan in `plan_dir` and records its proof there.
/// Stateless and idempotent: a bad index is refused and a proved shard skipped before the SRS
/// and the key are loaded.
pub fn prove_shard(
    plan_dir: &Path,
    shard: usize,
    setup: &Setup<'_>,
    reporter: &dyn Reporter,
) -> Result<ShardOutcome, PipelineError> {
    let plan = Plan::open(plan_dir)?;
    if already_proved(&plan, shard, reporter)? {
        return Ok(ShardOutcome::AlreadyProved);
    }
    let params = plan_srs(&plan, setup.srs_dir)?;
    let key = plan_key(&plan, &params, setup, reporter)?;
    prove_and_store(&plan, &params, &key, shard, reporter)
}

/// Verifies a shard's proof natively.
fn verifier<'a>(
    params: &'a ParamsKZG<Bn256>,
    vk: &'a VerifyingKey<G1Affine>,
) -> impl Fn(&Proof) -> Result<(), String> + 'a {
    move |p: &Proof| zkmargin_keys::snark::verify(params, vk, &p.instances, &p.bytes)
}

fn write_bundle(plan: &Plan, bundle: Bundle, out: &Path) -> Result<Bundle, PipelineError> {
    plan.write_bundle(&bundle, out)?;
    Ok(bundle)
}

/// Verifies every shard proof of the plan in `plan_dir` under a verifying key rebuilt from
/// the circuit, and writes the bundle to `out` (which must not exist).
pub fn assemble(
    plan_dir: &Path,
    out: &Path,
    setup: &Setup<'_>,
    reporter: &dyn Reporter,
) -> Result<Bundle, PipelineError> {
    if out.exists() {
        return Err(PipelineError::Exists(out.to_path_buf()));
    }
    let plan = Plan::open(plan_dir)?;
    let params = plan_srs(&plan, setup.srs_dir)?;
    let (vk, layout) = phase(reporter, "verifying key", || {
        zkmargin_circuits::keygen::verifying_key(&params, &plan.manifest.shape)
    })
    .map_err(PipelineError::VerifyingKey)?;
    let bundle = plan.assemble(&layout, verifier(&params, &vk))?;
    write_bundle(&plan, bundle, out)
}

/// Proves every shard of the plan in `plan_dir` in this process (one key; shards already
/// proved are kept), then writes the bundle to `out`.
pub fn prove_plan(
    plan_dir: &Path,
    out: &Path,
    setup: &Setup<'_>,
    reporter: &dyn Reporter,
) -> Result<Bundle, PipelineError> {
    let plan = Plan::open(plan_dir)?;
    let params = plan_srs(&plan, setup.srs_dir)?;
    let key = plan_key(&plan, &params, setup, reporter)?;
    let shards = plan.manifest.shards;
    for s in 0..shards {
        if !already_proved(&plan, s, reporter)? {
            prove_and_store(&plan, &params, &key, s, reporter)?;
        }
        reporter.progress("shards", s as u64 + 1, shards as u64);
    }
    let bundle = plan.assemble(&key.layout, verifier(&params, key.pk.get_vk()))?;
    write_bundle(&plan, bundle, out)
}

/// A bundle written, or the oracle's halt.
#[derive(Debug)]
pub enum Proved {
    /// The bundle at the requested path.
    Bundle(Box<Bundle>),
    /// The oracle circuit breaker halted the epoch: no bundle was written.
    Halted(Box<HaltReport>),
}

/// `zkmargin prove`: [`make_plan`] into a private plan beside `out`, [`prove_plan`], and the
/// plan removed (a failure to remove it is a warning).
pub fn prove_snapshot(
    request: &EpochRequest<'_>,
    setup: &Setup<'_>,
    out: &Path,
    reporter: &dyn Reporter,
) -> Result<Proved, PipelineError> {
    if out.exists() {
        return Err(PipelineError::Exists(out.to_path_buf()));
    }
    let name = out.file_name().and_then(|n| n.to_str()).unwrap_or("bundle");
    let plan_dir = out.with_file_name(format!(".{name}.plan-{}", std::process::id()));
    if let Planned::Halted(report) = make_plan(request, setup, &plan_dir, reporter)? {
        return Ok(Proved::Halted(report));
    }
    let proved = prove_plan(&plan_dir, out, setup, reporter);
    if let Err(e) = std::fs::remove_dir_all(&plan_dir) {
        reporter.warn(&format!("cannot remove {}: {e}", plan_dir.display()));
    }
    proved.map(|bundle| Proved::Bundle(Box::new(bundle)))
}
