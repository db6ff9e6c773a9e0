//! One module per command (or family of commands), each returning [`Outcome`].

mod check;
mod epoch;
mod evm;
mod fixtures;
mod inclusion;
mod keys;
mod prove;
mod serve;

use std::path::PathBuf;

use zkmargin_prover::pipeline::Setup;

use crate::args::{Command, FixturesCommand, SrsDir};
use crate::failure::Outcome;

/// This machine's parameter and key directories.
pub struct Machine {
    /// `--srs-dir` or the default.
    pub srs_dir: PathBuf,
    /// The proving-key cache.
    pub key_dir: PathBuf,
    /// The verifier's key cache (for `--prev`).
    pub vk_dir: PathBuf,
}

impl Machine {
    /// The directories, `--srs-dir` taken from `srs_dir`.
    pub fn new(srs_dir: &SrsDir) -> Machine {
        Machine {
            srs_dir: srs_dir.path(),
            key_dir: zkmargin_keys::proving::default_dir(),
            vk_dir: zkmargin_keys::verifying::default_dir(),
        }
    }

    /// As the library takes them.
    pub fn setup(&self) -> Setup<'_> {
        Setup {
            srs_dir: &self.srs_dir,
            key_dir: &self.key_dir,
            vk_dir: &self.vk_dir,
        }
    }
}

/// Runs `command`.
pub fn run(command: Command) -> Outcome {
    match command {
        Command::Check(args) => check::run(&args),
        Command::Setup(args) => prove::setup(&args),
        Command::Prove(args) => prove::prove(&args),
        Command::Plan(args) => prove::plan(&args),
        Command::ProveShard(args) => prove::prove_shard(&args),
        Command::Assemble(args) => prove::assemble(&args),
        Command::Inclusion(args) => inclusion::run(&args),
        Command::ExportVerifier(args) => evm::export_verifier(&args),
        Command::Aggregate(args) => evm::aggregate(&args),
        Command::Calldata(args) => evm::calldata(&args),
        Command::Epoch(args) => epoch::epoch(&args),
        Command::Run(args) => epoch::run(&args),
        Command::Token(args) => epoch::token(&args),
        Command::Keys(args) => keys::run(&args),
        Command::Serve(args) => serve::serve(&args),
        Command::Fixtures {
            command: FixturesCommand::Generate(args),
        } => fixtures::generate(&args),
    }
}
