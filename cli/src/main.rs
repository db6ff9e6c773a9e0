//! `zkmargin`: the operator's command line, a thin layer over `zkmargin_prover`. Each command
//! module parses nothing and prints its results; errors come back to `main`, which prints them
//! once and exits with the documented code.

mod args;
mod commands;
mod failure;
mod terminal;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::run(cli.command) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {:#}", failure.error);
            failure.exit_code()
        }
    }
}
