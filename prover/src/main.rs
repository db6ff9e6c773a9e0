//! `zkmargin`: the operator's command line.

mod check;
mod cli;
mod epoch_cmd;
mod evm_cmd;
mod fixtures_cmd;
mod inclusion_cmd;
mod keys_cmd;
mod prove_cmd;
mod serve_cmd;
mod shard_cmd;

use std::process::ExitCode;

use clap::Parser;

/// Exit codes shared by every subcommand.
pub mod exit {
    pub const OK: u8 = 0;
    /// A runtime failure that is not the input's fault.
    pub const FAILURE: u8 = 1;
    /// Unusable input: malformed snapshot, bad arguments.
    pub const INPUT: u8 = 2;
    /// The oracle circuit breaker halted the epoch.
    pub const HALTED: u8 = 3;
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let code = match cli.command {
        cli::Command::Check(args) => check::run(&args),
        cli::Command::Setup(args) => prove_cmd::setup(&args),
        cli::Command::Prove(args) => prove_cmd::prove_cmd(&args),
        cli::Command::Plan(args) => shard_cmd::plan(&args),
        cli::Command::ProveShard(args) => shard_cmd::prove_shard(&args),
        cli::Command::Assemble(args) => shard_cmd::assemble(&args),
        cli::Command::Inclusion(args) => inclusion_cmd::run(&args),
        cli::Command::ExportVerifier(args) => evm_cmd::export_verifier(&args),
        cli::Command::Aggregate(args) => evm_cmd::aggregate(&args),
        cli::Command::Calldata(args) => evm_cmd::calldata(&args),
        cli::Command::Epoch(args) => epoch_cmd::epoch(&args),
        cli::Command::Run(args) => epoch_cmd::run(&args),
        cli::Command::Token(args) => epoch_cmd::token(&args),
        cli::Command::Keys(args) => keys_cmd::run(&args),
        cli::Command::Serve(args) => serve_cmd::serve(&args),
        cli::Command::Fixtures {
            command: cli::FixturesCommand::Generate(args),
        } => fixtures_cmd::generate(&args),
    };
    ExitCode::from(code)
}
