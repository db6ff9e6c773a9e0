//! `zkmargin epoch`, `zkmargin run` and `zkmargin token`: the periodic epoch runner over an
//! archive (`zkmargin_prover::runner`) and holders' access tokens.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use zkmargin_archive::Archive;
use zkmargin_prover::runner::{self, RunnerOptions, Step};

use crate::args::{RunArgs, RunnerArgs, TokenArgs};
use crate::commands::Machine;
use crate::failure::{ok, Failure, Outcome};
use crate::terminal::Terminal;

/// One runner step, its outcome on stderr.
fn step(args: &RunnerArgs) -> Result<Step, Failure> {
    let machine = Machine::new(&args.srs_dir);
    let options = RunnerOptions {
        source: &args.source,
        archive: &args.archive,
        shard_rows: args.shard_k.map(|k| 1usize << k),
        srs: args.srs.kind(),
    };
    let step = runner::step(&options, &machine.setup(), &Terminal::default())?;
    match &step {
        Step::Published(p) => eprintln!(
            "epoch {} published in {:.1} s: {} (statement digest {})",
            p.epoch,
            p.took.as_secs_f64(),
            p.dir.display(),
            p.statement_digest
        ),
        Step::UpToDate => eprintln!("up to date: no new snapshot in {}", args.source.display()),
    }
    Ok(step)
}

pub fn epoch(args: &RunnerArgs) -> Outcome {
    step(args)?;
    ok()
}

pub fn run(args: &RunArgs) -> Outcome {
    if args.every.is_zero() {
        return Err(Failure::input(anyhow!("--every must be positive")));
    }
    loop {
        let tick = Instant::now();
        // Publish every waiting snapshot before sleeping.
        loop {
            match step(&args.runner) {
                Ok(Step::Published(_)) => continue,
                Ok(Step::UpToDate) => break,
                Err(failure) => {
                    eprintln!("error: {:#} (retrying at the next tick)", failure.error);
                    break;
                }
            }
        }
        let wait = args.every.saturating_sub(tick.elapsed());
        std::thread::sleep(wait.max(Duration::from_secs(1)));
    }
}

pub fn token(args: &TokenArgs) -> Outcome {
    let key = Archive::open(&args.archive)
        .and_then(|a| a.existing_access_key())
        .map_err(Failure::input)?;
    if let Some(identifier) = &args.account {
        println!("{}", key.token_hex(identifier));
        return ok();
    }
    let csv_path = args.csv.as_ref().expect("clap requires --account or --csv");
    let at = |e: &dyn std::fmt::Display| anyhow!("{}: {e}", csv_path.display());
    let mut reader = csv::Reader::from_path(csv_path).map_err(|e| Failure::input(at(&e)))?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| Failure::input(at(&e)))?;
        let Some(identifier) = record.get(0).filter(|s| !s.is_empty()) else {
            return Err(Failure::input(anyhow!(
                "{}: line {}: no account identifier",
                csv_path.display(),
                line + 2
            )));
        };
        writeln!(out, "{identifier},{}", key.token_hex(identifier)).map_err(Failure::runtime)?;
    }
    out.flush().map_err(Failure::runtime)?;
    ok()
}
