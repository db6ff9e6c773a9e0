//! `zkmargin plan`, `zkmargin prove-shard` and `zkmargin assemble` (see
//! `zkmargin_prover::plan`), and the in-process loop `zkmargin prove` runs over them.

use std::path::{Path, PathBuf};

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::VerifyingKey;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use serde_json::json;
use zkmargin_bundle::srs::{self, SrsKind};
use zkmargin_bundle::Bundle;
use zkmargin_core::render;
use zkmargin_prover::epoch::{prepare, PrepareError, Sharding};
use zkmargin_prover::plan::{write_plan, Plan, PlanError};
use zkmargin_prover::prove::{prove_shard as prove_one, shard_key, Proof, ShardKey};
use zkmargin_verifier::chain::PreviousEpoch;

use crate::cli::{AssembleArgs, EpochArgs, PlanArgs, ProveShardArgs};
use crate::exit;
use crate::prove_cmd::srs_dir;

fn srs_kind(ptau: bool) -> SrsKind {
    if ptau {
        SrsKind::Ptau
    } else {
        SrsKind::Dev
    }
}

/// The previous epoch for `--prev`: the bundle is verified in full as `zkmargin-verify bundle
/// --prev` verifies a predecessor ([`PreviousEpoch`]), so the digest comes from its statement
/// and config, never from its `instances.json`. A predecessor that fails is refused.
fn previous_epoch(args: &EpochArgs, srs_dir: &Path) -> Result<Option<PreviousEpoch>, String> {
    let Some(prev) = &args.prev else {
        return Ok(None);
    };
    let load = |label: &str, k: u32| {
        let kind = SrsKind::from_label(label).ok_or_else(|| format!("unknown SRS `{label}`"))?;
        srs::load(srs_dir, kind, k).map_err(|e| e.to_string())
    };
    let vk_cache = zkmargin_verifier::vk_cache::default_dir();
    let previous = PreviousEpoch::read(prev, Some(&vk_cache), &load).map_err(|e| e.to_string())?;
    if !previous.failed.is_empty() {
        return Err(format!(
            "--prev {}: the previous bundle does not verify: {}",
            prev.display(),
            previous.failed.join("; ")
        ));
    }
    Ok(Some(previous))
}

/// Prepares `args.snapshot` and writes its plan to `out`; on an oracle halt writes the halt
/// report to `halt_report` instead.
pub fn make_plan(args: &EpochArgs, srs_dir: &Path, out: &Path, halt_report: &Path) -> u8 {
    let previous = match previous_epoch(args, srs_dir) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INPUT;
        }
    };
    let prev_digest = previous.as_ref().map_or([0; 32], |p| p.digest);
    if out.exists() {
        eprintln!("error: {} already exists", out.display());
        return exit::INPUT;
    }
    let sharding = Sharding {
        k: args.k,
        shard_rows: args.shard_k.map(|k| 1usize << k),
    };
    let epoch = match prepare(&args.snapshot, prev_digest, sharding, None) {
        Ok(e) => e,
        Err(PrepareError::Halted(report)) => {
            print!("{}", render::halt(&report));
            let text = serde_json::to_string_pretty(&json!({ "status": "halted", "halt": report }))
                .expect("serializes");
            if let Err(e) = std::fs::write(halt_report, text) {
                eprintln!("error: cannot write {}: {e}", halt_report.display());
            } else {
                eprintln!(
                    "halt report written to {}; nothing proved",
                    halt_report.display()
                );
            }
            return exit::HALTED;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INPUT;
        }
    };
    // A link the verifier will reject (a gap, another venue) is proved with a warning: the
    // operator may be re-proving history on purpose.
    for check in previous
        .iter()
        .flat_map(|p| p.link_checks(&epoch.statement))
    {
        if !check.passed {
            eprintln!("warning: --prev: {}: {}", check.name, check.detail);
        }
    }
    eprintln!(
        "{} accounts in {} shard(s) of {} rows, circuit k = {}",
        epoch.accounts,
        epoch.shards(),
        epoch.shape.rows,
        epoch.shape.k
    );
    match write_plan(&epoch, srs_kind(args.ptau).label(), &args.snapshot, out) {
        Ok(_) => exit::OK,
        Err(e) => {
            eprintln!("error: {e}");
            exit::FAILURE
        }
    }
}

fn halt_path(out: &Path) -> PathBuf {
    PathBuf::from(format!("{}.halt.json", out.display()))
}

pub fn plan(args: &PlanArgs) -> u8 {
    let code = make_plan(
        &args.epoch,
        &srs_dir(&args.srs_dir),
        &args.out,
        &halt_path(&args.out),
    );
    if code == exit::OK {
        eprintln!("plan written to {}", args.out.display());
    }
    code
}

/// Why a plan step failed, with its exit code.
fn report(e: PlanError) -> u8 {
    eprintln!("error: {e}");
    match e {
        PlanError::Malformed { .. } | PlanError::NoSuchShard { .. } => exit::INPUT,
        PlanError::Io { ref source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            exit::INPUT
        }
        _ => exit::FAILURE,
    }
}

/// The plan's SRS, from `srs_dir`.
fn plan_srs(plan: &Plan, srs_dir: &Path) -> Result<ParamsKZG<Bn256>, u8> {
    let Some(kind) = SrsKind::from_label(&plan.manifest.srs.source) else {
        eprintln!("error: unknown SRS `{}`", plan.manifest.srs.source);
        return Err(exit::INPUT);
    };
    srs::load(srs_dir, kind, plan.manifest.shape.k).map_err(|e| {
        eprintln!("error: {e}");
        exit::FAILURE
    })
}

fn key(plan: &Plan, params: &ParamsKZG<Bn256>) -> Result<ShardKey, u8> {
    shard_key(
        params,
        &plan.manifest.srs.source,
        &zkmargin_prover::keystore::default_dir(),
        &plan.manifest.shape,
    )
    .map_err(|e| {
        eprintln!("error: {e}");
        exit::FAILURE
    })
}

/// Proves `shard` unless the plan already holds its proof.
fn prove_if_missing(
    plan: &Plan,
    params: &ParamsKZG<Bn256>,
    key: &ShardKey,
    shard: usize,
) -> Result<(), PlanError> {
    if plan.is_proved(shard)? {
        eprintln!("shard {shard}: already proved");
        return Ok(());
    }
    let witness = plan.shard_witness(shard)?;
    let proof = prove_one(params, key, &witness, plan.master_secret(), shard)?;
    plan.store_result(shard, &proof)?;
    eprintln!("shard {shard}: proved ({} byte proof)", proof.bytes.len());
    Ok(())
}

pub fn prove_shard(args: &ProveShardArgs) -> u8 {
    let plan = match Plan::open(&args.plan) {
        Ok(p) => p,
        Err(e) => return report(e),
    };
    // Refuse a bad index, and skip a proved shard, before loading the SRS and the key.
    match plan.is_proved(args.shard) {
        Err(e) => return report(e),
        Ok(true) => {
            eprintln!("shard {}: already proved", args.shard);
            return exit::OK;
        }
        Ok(false) => {}
    }
    let params = match plan_srs(&plan, &srs_dir(&args.srs_dir)) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let key = match key(&plan, &params) {
        Ok(k) => k,
        Err(code) => return code,
    };
    match prove_if_missing(&plan, &params, &key, args.shard) {
        Ok(()) => exit::OK,
        Err(e) => report(e),
    }
}

/// Verifies a shard's proof natively.
fn verifier<'a>(
    params: &'a ParamsKZG<Bn256>,
    vk: &'a VerifyingKey<G1Affine>,
) -> impl Fn(&Proof) -> Result<(), String> + 'a {
    move |p: &Proof| zkmargin_bundle::snark::verify(params, vk, &p.instances, &p.bytes)
}

fn write_bundle(plan: &Plan, bundle: Result<Bundle, PlanError>, out: &Path) -> u8 {
    match bundle.and_then(|b| plan.write_bundle(&b, out).map(|()| b)) {
        Ok(b) => {
            eprintln!(
                "bundle written to {} ({} shard(s), {} byte proof each)",
                out.display(),
                b.shards.len(),
                b.shards[0].proof.len()
            );
            exit::OK
        }
        Err(e) => report(e),
    }
}

pub fn assemble(args: &AssembleArgs) -> u8 {
    if args.out.exists() {
        eprintln!("error: {} already exists", args.out.display());
        return exit::INPUT;
    }
    let plan = match Plan::open(&args.plan) {
        Ok(p) => p,
        Err(e) => return report(e),
    };
    let params = match plan_srs(&plan, &srs_dir(&args.srs_dir)) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let vk = match zkmargin_prover::progress::phase("verifying key", || {
        zkmargin_circuits::keys::verifying_key(&params, &plan.manifest.shape)
    }) {
        Ok(keys) => keys,
        Err(e) => {
            eprintln!("error: verifying key: {e:?}");
            return exit::FAILURE;
        }
    };
    let (vk, layout) = vk;
    let bundle = plan.assemble(&layout, verifier(&params, &vk));
    write_bundle(&plan, bundle, &args.out)
}

/// `zkmargin prove`: every shard of the plan in `plan_dir` in this process (one key), then the
/// bundle at `out`.
pub fn prove_all_and_assemble(plan_dir: &Path, out: &Path, srs_dir: &Path) -> u8 {
    let plan = match Plan::open(plan_dir) {
        Ok(p) => p,
        Err(e) => return report(e),
    };
    let params = match plan_srs(&plan, srs_dir) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let key = match key(&plan, &params) {
        Ok(k) => k,
        Err(code) => return code,
    };
    let shards = plan.manifest.shards;
    let bar = (shards > 1).then(|| zkmargin_prover::progress::bar("shards", shards as u64));
    for s in 0..shards {
        if let Err(e) = prove_if_missing(&plan, &params, &key, s) {
            return report(e);
        }
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let bundle = plan.assemble(&key.layout, verifier(&params, key.pk.get_vk()));
    write_bundle(&plan, bundle, out)
}
