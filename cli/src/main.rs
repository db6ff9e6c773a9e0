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
            eprintln!("error: {}", once(&failure.error));
            failure.exit_code()
        }
    }
}

/// The error and its causes, each said once: a cause whose text the message already holds
/// (an error that prints its source) is not repeated.
fn once(error: &anyhow::Error) -> String {
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !message.contains(&cause) {
            message.push_str(": ");
            message.push_str(&cause);
        }
    }
    message
}
