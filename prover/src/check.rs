//! `zkmargin check`: evaluate a snapshot with the reference engine.

use serde_json::json;

use zkmargin_circuits::encoding::statement_digest_under;
use zkmargin_core::digest::Digest;
use zkmargin_core::engine::{self, Outcome, Snapshot};
use zkmargin_core::{policy, render};

use crate::cli::CheckArgs;
use crate::exit;

fn parse_digest(raw: &str) -> Result<Digest, String> {
    let bytes = hex::decode(raw.trim_start_matches("0x"))
        .map_err(|e| format!("--prev-digest: not hex: {e}"))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("--prev-digest: expected 32 bytes, found {}", b.len()))
}

fn fail(json: bool, code: u8, message: &str) -> u8 {
    eprintln!("error: {message}");
    if json {
        println!("{}", json!({ "status": "error", "error": message }));
    }
    code
}

pub fn run(args: &CheckArgs) -> u8 {
    let prev = match args.prev_digest.as_deref().map(parse_digest).transpose() {
        Ok(p) => p.unwrap_or([0; 32]),
        Err(e) => return fail(args.json, exit::INPUT, &e),
    };
    let outcome = Snapshot::load(&args.snapshot)
        .and_then(|s| engine::evaluate(&s, prev).map(|outcome| (s, outcome)));
    match outcome {
        Err(e) => fail(args.json, exit::INPUT, &e.to_string()),
        Ok((_, Outcome::Halted(report))) => {
            if args.json {
                println!("{}", json!({ "status": "halted", "halt": report }));
            } else {
                print!("{}", render::halt(&report));
            }
            exit::HALTED
        }
        Ok((snapshot, Outcome::Evaluated(eval))) => {
            let checks = policy::evaluate(&eval.statement, args.strict);
            let digest = match statement_digest_under(&snapshot.config, &eval.statement) {
                Ok(d) => d,
                Err(e) => return fail(args.json, exit::INPUT, &e.to_string()),
            };
            if args.json {
                let out = json!({
                    "status": "ok",
                    "accounts": eval.accounts,
                    "statement_digest": hex::encode(digest),
                    "statement": eval.statement,
                    "config_toml": snapshot.config_text,
                    "policy": checks,
                });
                println!(
                    "{}",
                    serde_json::to_string_pretty(&out).expect("statement serializes")
                );
            } else {
                println!(
                    "{} accounts (private: not part of the statement)\n",
                    eval.accounts
                );
                print!(
                    "{}",
                    render::statement(&eval.statement, &hex::encode(digest))
                );
                print!("{}", render::policy(&checks));
            }
            exit::OK
        }
    }
}
