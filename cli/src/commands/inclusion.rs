//! `zkmargin inclusion`: account holders' inclusion files from a bundle's private data.

use std::time::Instant;

use anyhow::anyhow;
use zkmargin_bundle::slots::SlotBundle;
use zkmargin_prover::inclusion::{
    write_all, write_file, EpochAccounts, InclusionError, InclusionProver,
};
use zkmargin_prover::slot_inclusion::{write_all_slots, SlotAccounts, SlotInclusionProver};

use crate::args::InclusionArgs;
use crate::commands::Machine;
use crate::failure::{ok, Failure, Outcome};
use crate::terminal::Terminal;

fn failure(e: InclusionError) -> Failure {
    match e {
        InclusionError::Bundle(_)
        | InclusionError::Private(_)
        | InclusionError::UnknownAccount(_) => Failure::input(e),
        _ => Failure::runtime(e),
    }
}

pub fn run(args: &InclusionArgs) -> Outcome {
    let machine = Machine::new(&args.srs_dir);
    let reporter = Terminal::default();
    if args.all && args.out.exists() {
        return Err(Failure::input(anyhow!(
            "{} already exists",
            args.out.display()
        )));
    }
    if SlotBundle::is_slot_bundle(&args.bundle) {
        return run_slots(args, &machine, &reporter);
    }
    let opened = Instant::now();
    let epoch = EpochAccounts::load(&args.bundle).map_err(failure)?;
    match &args.account {
        Some(identifier) => {
            let (shard, block) = epoch.locate(identifier).map_err(failure)?;
            let prover =
                InclusionProver::open(&epoch, shard, &machine.srs_dir, &machine.key_dir, &reporter)
                    .map_err(failure)?;
            eprintln!(
                "shard {shard} opened for inclusion proofs in {:.2} s",
                opened.elapsed().as_secs_f64()
            );
            let start = Instant::now();
            let file = prover.prove(block).map_err(failure)?;
            if !prover.self_check(&file) {
                return Err(Failure::runtime(anyhow!(
                    "the opening failed its own check"
                )));
            }
            eprintln!(
                "inclusion proof for shard {shard}, row {block} in {:.2} s",
                start.elapsed().as_secs_f64()
            );
            write_file(&args.out, &file).map_err(failure)?;
        }
        None => {
            let start = Instant::now();
            write_all(
                &epoch,
                &args.out,
                &machine.srs_dir,
                &machine.key_dir,
                &reporter,
            )
            .map_err(failure)?;
            eprintln!(
                "{} inclusion proofs ({} shard(s)) in {:.1} s",
                epoch.accounts(),
                epoch.shards(),
                start.elapsed().as_secs_f64()
            );
        }
    }
    eprintln!("written to {}", args.out.display());
    ok()
}

/// `zkmargin inclusion` for a slot-table bundle.
fn run_slots(args: &InclusionArgs, machine: &Machine, reporter: &Terminal) -> Outcome {
    let opened = Instant::now();
    let accounts = SlotAccounts::load(&args.bundle).map_err(failure)?;
    match &args.account {
        Some(identifier) => {
            let (c, shard, block) = accounts.locate(identifier).map_err(failure)?;
            let prover = SlotInclusionProver::open(&accounts, c, shard, &machine.srs_dir, reporter)
                .map_err(failure)?;
            eprintln!(
                "class shard opened for inclusion proofs in {:.2} s",
                opened.elapsed().as_secs_f64()
            );
            let start = Instant::now();
            let file = prover.prove(block).map_err(failure)?;
            if !prover.self_check(&file) {
                return Err(Failure::runtime(anyhow!(
                    "the opening failed its own check"
                )));
            }
            eprintln!(
                "inclusion proof for class {} shard {shard}, block {block} in {:.2} s",
                file.class,
                start.elapsed().as_secs_f64()
            );
            zkmargin_prover::slot_inclusion::write_slot_file(&args.out, &file).map_err(failure)?;
        }
        None => {
            let start = Instant::now();
            write_all_slots(&accounts, &args.out, &machine.srs_dir, reporter).map_err(failure)?;
            eprintln!(
                "{} inclusion proofs ({} class shard(s)) in {:.1} s",
                accounts.accounts(),
                accounts.shards().len(),
                start.elapsed().as_secs_f64()
            );
        }
    }
    eprintln!("written to {}", args.out.display());
    ok()
}
