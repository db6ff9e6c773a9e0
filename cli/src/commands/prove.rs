//! `zkmargin setup`, `zkmargin prove`, and the pieces of distributed proving: `plan`,
//! `prove-shard` and `assemble` (see `zkmargin_prover::pipeline`).

use std::path::{Path, PathBuf};

use zkmargin_bundle::slots::SlotBundle;
use zkmargin_bundle::Bundle;
use zkmargin_core::oracle::HaltReport;
use zkmargin_core::render;
use zkmargin_prover::epoch::Sharding;
use zkmargin_prover::pipeline::{self, EpochRequest, Planned, Proved};
use zkmargin_prover::slot_plan;
use zkmargin_prover::slots::{self, default_table, SlotProved, Table};
use zkmargin_srs::{self as srs, ImportError, SrsKind};

use crate::args::{
    AssembleArgs, EpochArgs, PlanArgs, ProveArgs, ProveShardArgs, SetupArgs, TableChoice,
};
use crate::commands::Machine;
use crate::failure::{exit, ok, Failure, Outcome};
use crate::terminal::Terminal;

pub fn setup(args: &SetupArgs) -> Outcome {
    let dir = args.srs_dir.path();
    let Some(ptau) = &args.ptau else {
        srs::load(&dir, SrsKind::Dev, args.k).map_err(Failure::runtime)?;
        eprintln!(
            "development SRS for k = {} ready in {} (INSECURE: for testing only)",
            args.k,
            dir.display()
        );
        return ok();
    };
    let path = srs::import_ceremony(&dir, ptau, args.k).map_err(|e| match e {
        ImportError::Read { .. } | ImportError::Ceremony { .. } => Failure::input(e),
        ImportError::Store(_) => Failure::runtime(e),
    })?;
    eprintln!(
        "imported {} (pairing-checked) as {}",
        ptau.display(),
        path.display()
    );
    ok()
}

fn request(args: &EpochArgs) -> EpochRequest<'_> {
    EpochRequest {
        snapshot: &args.snapshot,
        prev: args.prev.as_deref(),
        sharding: Sharding {
            k: args.k,
            shard_rows: args.shard_k.map(|k| 1usize << k),
        },
        srs: args.srs.kind(),
    }
}

/// Prints the halt report, writes it beside `out`, and exits 3.
fn halted(report: &HaltReport, out: &Path) -> Outcome {
    print!("{}", render::halt(report));
    let path = PathBuf::from(format!("{}.halt.json", out.display()));
    pipeline::write_halt_report(&path, report)
        .map_err(|e| Failure::runtime(anyhow::anyhow!("cannot write {}: {e}", path.display())))?;
    eprintln!("halt report written to {}; nothing proved", path.display());
    Ok(exit::HALTED.into())
}

fn bundle_written(bundle: &Bundle, out: &Path) -> Outcome {
    eprintln!(
        "bundle written to {} ({} shard(s), {} byte proof each)",
        out.display(),
        bundle.shards.len(),
        bundle.shards[0].proof.len()
    );
    ok()
}

fn slot_bundle_written(bundle: &SlotBundle, out: &Path) -> Outcome {
    let classes: Vec<String> = bundle
        .manifest
        .classes
        .iter()
        .map(|c| {
            format!(
                "{} slots: {} shard(s) at k = {}",
                c.shape.slots, c.shards, c.shape.k
            )
        })
        .collect();
    eprintln!(
        "slot-table bundle written to {} ({})",
        out.display(),
        classes.join("; ")
    );
    ok()
}

/// The table `choice` names for the snapshot of `epoch`; the slot table refuses the dense
/// table's sizing flags.
fn table(choice: TableChoice, epoch: &EpochArgs) -> Result<Table, Failure> {
    let table = match choice {
        TableChoice::Dense => Table::Dense,
        TableChoice::Slots => Table::Slots,
        TableChoice::Auto => {
            default_table(&epoch.snapshot).map_err(|e| Failure::input(anyhow::anyhow!("{e}")))?
        }
    };
    if table == Table::Slots && (epoch.k.is_some() || epoch.shard_k.is_some()) {
        return Err(Failure::input(anyhow::anyhow!(
            "--k and --shard-k size the dense table; the slot table sizes each class's \
             circuit by its accounts"
        )));
    }
    Ok(table)
}

pub fn prove(args: &ProveArgs) -> Outcome {
    let machine = Machine::new(&args.epoch.srs_dir);
    if table(args.table, &args.epoch)? == Table::Slots {
        return match slots::prove_snapshot_slots(
            &request(&args.epoch),
            &machine.setup(),
            &args.out,
            &Terminal::default(),
        )? {
            SlotProved::Bundle(bundle) => slot_bundle_written(&bundle, &args.out),
            SlotProved::Halted(report) => halted(&report, &args.out),
        };
    }
    match pipeline::prove_snapshot(
        &request(&args.epoch),
        &machine.setup(),
        &args.out,
        &Terminal::default(),
    )? {
        Proved::Bundle(bundle) => bundle_written(&bundle, &args.out),
        Proved::Halted(report) => halted(&report, &args.out),
    }
}

pub fn plan(args: &PlanArgs) -> Outcome {
    let machine = Machine::new(&args.epoch.srs_dir);
    let make = match table(args.table, &args.epoch)? {
        Table::Dense => pipeline::make_plan,
        Table::Slots => slot_plan::make_slot_plan,
    };
    match make(
        &request(&args.epoch),
        &machine.setup(),
        &args.out,
        &Terminal::default(),
    )? {
        Planned::Written(_) => {
            eprintln!("plan written to {}", args.out.display());
            ok()
        }
        Planned::Halted(report) => halted(&report, &args.out),
    }
}

pub fn prove_shard(args: &ProveShardArgs) -> Outcome {
    let machine = Machine::new(&args.srs_dir);
    let prove = if slot_plan::is_slot_plan(&args.plan) {
        slot_plan::prove_slot_plan_shard
    } else {
        pipeline::prove_shard
    };
    prove(
        &args.plan,
        args.shard,
        &machine.setup(),
        &Terminal::default(),
    )?;
    ok()
}

pub fn assemble(args: &AssembleArgs) -> Outcome {
    let machine = Machine::new(&args.srs_dir);
    if slot_plan::is_slot_plan(&args.plan) {
        let bundle = slot_plan::assemble_slot_plan(
            &args.plan,
            &args.out,
            &machine.setup(),
            &Terminal::default(),
        )?;
        return slot_bundle_written(&bundle, &args.out);
    }
    let bundle = pipeline::assemble(
        &args.plan,
        &args.out,
        &machine.setup(),
        &Terminal::default(),
    )?;
    bundle_written(&bundle, &args.out)
}
