//! `zkmargin-verify`: the auditor's and account holder's command line.
//! Exit 0 = valid, 1 = invalid or policy failed (every reason listed), 2 = unusable input.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use zkmargin_core::policy::{PolicyCheck, Verdict};
use zkmargin_core::render;
use zkmargin_srs::{self as srs, SrsKind};
use zkmargin_verifier::inclusion::InclusionReport;

#[derive(Parser)]
#[command(
    name = "zkmargin-verify",
    version,
    about = "Verify zkmargin epoch proofs and statements"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verify an epoch bundle
    ///
    /// Checks the SNARK under a verifying key rebuilt from the circuit and the declared shape,
    /// statement ↔ instances, digests, the oracle, chaining and policy.
    ///
    /// Exit codes: 0 valid (possibly with warnings), 1 invalid, 2 unusable input.
    Bundle {
        bundle: PathBuf,
        /// The previous epoch's bundle: checks prev_digest and epoch + 1.
        #[arg(long)]
        prev: Option<PathBuf>,
        /// Also require zero under-margined accounts and a real (non-development) SRS.
        #[arg(long)]
        strict: bool,
        #[command(flatten)]
        options: Options,
    },
    /// Check that an account is a row of an epoch's proven table
    ///
    /// The bundle verifies, and the inclusion file's account — with exactly its balances,
    /// sizes and costs — is a constrained row of that epoch's account table. Prints the
    /// account's equity, requirement and margin status at the epoch's prices.
    ///
    /// Exit codes: 0 valid (possibly with warnings), 1 invalid, 2 unusable input.
    Inclusion {
        bundle: PathBuf,
        file: PathBuf,
        /// Your account identifier: checks that H(identifier ‖ salt) is the row's id.
        #[arg(long)]
        identifier: Option<String>,
        #[command(flatten)]
        options: Options,
    },
    /// Check what a published statement claims
    ///
    /// The statement (bare, or the `zkmargin check --json` output, which carries its config):
    /// every field agrees with the config, its digest, and the policy. This checks what a
    /// statement claims, not that it is true; a bare statement is only a warning.
    ///
    /// Exit codes: 0 valid (possibly with warnings), 1 invalid, 2 unusable input.
    Statement {
        file: PathBuf,
        /// Also require zero under-margined accounts.
        #[arg(long)]
        strict: bool,
        #[arg(long)]
        json: bool,
    },
}

/// Options shared by the commands that check proofs.
#[derive(Args)]
struct Options {
    #[arg(long)]
    json: bool,
    /// The verifier's own SRS directory (default: $ZKMARGIN_HOME/srs or
    /// ~/.cache/zkmargin/srs). Parameters are never taken from the bundle.
    #[arg(long)]
    srs_dir: Option<PathBuf>,
    /// Rebuild the verifying key even if this verifier cached it before.
    #[arg(long)]
    no_key_cache: bool,
}

impl Options {
    fn srs_dir(&self) -> PathBuf {
        self.srs_dir.clone().unwrap_or_else(srs::default_dir)
    }

    fn vk_cache(&self) -> Option<PathBuf> {
        (!self.no_key_cache).then(zkmargin_keys::verifying::default_dir)
    }
}

fn srs_kind(label: &str) -> Result<SrsKind, String> {
    SrsKind::from_label(label).ok_or_else(|| format!("unknown SRS source `{label}`"))
}

fn unusable(json: bool, message: String) -> ExitCode {
    eprintln!("error: {message}");
    if json {
        println!(
            "{}",
            serde_json::json!({ "status": "error", "error": message })
        );
    }
    ExitCode::from(2)
}

/// Prints a report (JSON, or `human` then the verdict line) and returns the exit code: 0 for
/// valid (with or without warnings), 1 for invalid.
fn emit<R: Serialize>(
    json: bool,
    checks: &[PolicyCheck],
    report: &R,
    human: impl FnOnce(),
    valid: &str,
) -> ExitCode {
    let verdict = Verdict::of(checks);
    if json {
        let out = serde_json::json!({ "status": verdict, "report": report });
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("report serializes")
        );
    } else {
        human();
        let warnings: Vec<&str> = checks
            .iter()
            .filter(|c| c.warning)
            .map(|c| c.detail.as_str())
            .collect();
        match verdict {
            Verdict::Valid => println!("\n{valid}"),
            Verdict::Warning => println!(
                "\nWARNING: every check passed, but {} (see [warn] above)",
                warnings.join("; ")
            ),
            Verdict::Invalid => println!("\nINVALID: see the failed checks above"),
        }
    }
    ExitCode::from(if verdict == Verdict::Invalid { 1 } else { 0 })
}

fn report(json: bool, report: &zkmargin_verifier::statement::Report) -> ExitCode {
    let checks = &report.checks;
    emit(
        json,
        checks,
        report,
        || {
            print!(
                "{}",
                render::statement(
                    &report.statement,
                    report
                        .statement_digest
                        .as_deref()
                        .unwrap_or("(not computed: needs the config)")
                )
            );
            print!("{}", render::policy(checks));
        },
        "VALID: every check passed",
    )
}

fn inclusion_report(json: bool, r: &InclusionReport) -> ExitCode {
    emit(
        json,
        &r.checks,
        r,
        || {
            match r.class {
                Some(class) => println!(
                    "epoch {}, class {class}, shard {}, block {}, account id {}",
                    r.epoch, r.shard, r.row, r.id
                ),
                None => println!(
                    "epoch {}, shard {}, row {}, account id {}",
                    r.epoch, r.shard, r.row, r.id
                ),
            }
            print!("{}", render::checks_under("checks", &r.checks));
            if let Some(entries) = &r.entries {
                println!("\nentries counted:");
                for e in entries {
                    if e.cost.is_empty() {
                        println!("  {:<16} {}", e.instrument, e.amount);
                    } else {
                        println!("  {:<16} {} (cost {})", e.instrument, e.amount, e.cost);
                    }
                }
            }
            let a = &r.account;
            println!("\nat the epoch's prices:");
            println!("  equity                   {}", a.equity);
            println!("  maintenance requirement  {}", a.maintenance_requirement);
            println!(
                "  status                   {}",
                if a.under_margined {
                    format!(
                        "UNDER-MARGINED (shortfall {}, bad debt {})",
                        a.shortfall, a.bad_debt
                    )
                } else {
                    "adequately margined".to_string()
                }
            );
        },
        "VALID: this account is a constrained row of the proven table",
    )
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Bundle {
            bundle,
            prev,
            strict,
            options,
        } => {
            let dir = options.srs_dir();
            let load = |label: &str, k: u32| {
                srs::load_for_verifier(&dir, srs_kind(label)?, k).map_err(|e| e.to_string())
            };
            let vk_cache = options.vk_cache();
            match zkmargin_verifier::bundle::verify_bundle(
                &bundle,
                prev.as_deref(),
                strict,
                vk_cache.as_deref(),
                &load,
            ) {
                Err(e) => unusable(options.json, e.to_string()),
                Ok(r) => report(options.json, &r),
            }
        }
        Command::Inclusion {
            bundle,
            file,
            identifier,
            options,
        } => {
            let dir = options.srs_dir();
            let load = |label: &str, k: u32| {
                srs::load_for_verifier(&dir, srs_kind(label)?, k).map_err(|e| e.to_string())
            };
            let load_g2 = |label: &str, params: &_| {
                srs::g2_powers(&dir, srs_kind(label)?, params).map_err(|e| e.to_string())
            };
            let vk_cache = options.vk_cache();
            match zkmargin_verifier::inclusion::verify_inclusion(
                &bundle,
                &file,
                identifier.as_deref(),
                vk_cache.as_deref(),
                &load,
                &load_g2,
            ) {
                Err(e) => unusable(options.json, e.to_string()),
                Ok(r) => inclusion_report(options.json, &r),
            }
        }
        Command::Statement { file, strict, json } => {
            match zkmargin_verifier::statement::check_file(&file, strict) {
                Err(e) => unusable(json, e.to_string()),
                Ok(r) => report(json, &r),
            }
        }
    }
}
