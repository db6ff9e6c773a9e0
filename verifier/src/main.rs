//! `zkmargin-verify`: the auditor's and account holder's command line.
//! Exit 0 = valid, 1 = invalid or policy failed (every reason listed), 2 = unusable input.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use zkmargin_core::render;
use zkmargin_verifier::statement_check;

#[derive(Parser)]
#[command(
    name = "zkmargin-verify",
    version,
    about = "Verify zkmargin statements"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a published statement (bare, or the `zkmargin check --json` output): its digest
    /// and the policy of SPEC §6. This checks what a statement claims, not that it is true;
    /// proof verification (`bundle`) arrives with proofs.
    Statement {
        file: PathBuf,
        /// Also require zero under-margined accounts.
        #[arg(long)]
        strict: bool,
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let Command::Statement { file, strict, json } = Cli::parse().command;
    match statement_check::check_file(&file, strict) {
        Err(e) => {
            eprintln!("error: {e}");
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "status": "error", "error": e.to_string() })
                );
            }
            ExitCode::from(2)
        }
        Ok(report) => {
            let passed = report.passed();
            if json {
                let out = serde_json::json!({ "status": if passed { "valid" } else { "invalid" }, "report": report });
                println!(
                    "{}",
                    serde_json::to_string_pretty(&out).expect("report serializes")
                );
            } else {
                print!("{}", render::statement(&report.statement));
                print!("{}", render::policy(&report.checks));
                println!(
                    "\n{}",
                    if passed {
                        "VALID: every check passed"
                    } else {
                        "INVALID: see the failed checks above"
                    }
                );
            }
            ExitCode::from(if passed { 0 } else { 1 })
        }
    }
}
