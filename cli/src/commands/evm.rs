//! `zkmargin export-verifier`, `zkmargin aggregate` and `zkmargin calldata`: the on-chain
//! path for a bundle (`zkmargin_prover::onchain`).

use zkmargin_prover::onchain::{self, Target, Written};

use crate::args::{AggregateArgs, CalldataArgs, ContractsOut, ExportVerifierArgs};
use crate::commands::Machine;
use crate::failure::{ok, Outcome};
use crate::terminal::Terminal;

fn written(out: &ContractsOut, written: &Written) {
    for (name, bytes) in &written.compiled {
        eprintln!("{name}: {bytes} bytes of creation code");
    }
    eprintln!("wrote {}: {}", out.out.display(), written.files.join(", "));
}

pub fn export_verifier(args: &ExportVerifierArgs) -> Outcome {
    let machine = Machine::new(&args.contracts.srs_dir);
    let reporter = Terminal::default();
    let contracts = onchain::export_verifier(&args.bundle, &machine.setup(), &reporter)?;
    let w = onchain::write_contracts(
        &args.contracts.out,
        &contracts,
        args.contracts.bin,
        &reporter,
    )?;
    written(&args.contracts, &w);
    ok()
}

pub fn aggregate(args: &AggregateArgs) -> Outcome {
    let machine = Machine::new(&args.contracts.srs_dir);
    let reporter = Terminal::default();
    let aggregated = onchain::aggregate(&args.bundle, &machine.setup(), &reporter)?;
    let w = onchain::write_aggregated(
        &args.contracts.out,
        &aggregated,
        args.contracts.bin,
        &reporter,
    )?;
    written(&args.contracts, &w);
    eprintln!(
        "aggregated proof: {} bytes, {} instances",
        aggregated.proof_bytes, aggregated.instances
    );
    ok()
}

pub fn calldata(args: &CalldataArgs) -> Outcome {
    let target = if args.verifier {
        Target::Verifier
    } else {
        Target::Registry
    };
    let data = onchain::calldata(&args.bundle, args.aggregated.as_deref(), target)?;
    println!("0x{}", hex::encode(data));
    ok()
}
