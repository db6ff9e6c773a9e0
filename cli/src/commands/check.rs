//! `zkmargin check`: evaluate a snapshot with the exact engine.

use anyhow::anyhow;
use serde_json::json;
use zkmargin_core::digest::Digest;
use zkmargin_core::engine::{self, Outcome, Snapshot};
use zkmargin_core::{policy, render};
use zkmargin_layout::encoding::statement_digest_under;

use crate::args::CheckArgs;
use crate::failure::{exit, ok, Failure, Outcome as CommandOutcome};

fn parse_digest(raw: &str) -> Result<Digest, String> {
    let bytes = hex::decode(raw.trim_start_matches("0x"))
        .map_err(|e| format!("--prev-digest: not hex: {e}"))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("--prev-digest: expected 32 bytes, found {}", b.len()))
}

/// Unusable input; with `--json`, also an error object on stdout.
fn unusable(json: bool, message: String) -> Failure {
    if json {
        println!("{}", json!({ "status": "error", "error": message }));
    }
    Failure::input(anyhow!(message))
}

pub fn run(args: &CheckArgs) -> CommandOutcome {
    let prev = args
        .prev_digest
        .as_deref()
        .map(parse_digest)
        .transpose()
        .map_err(|e| unusable(args.json, e))?
        .unwrap_or([0; 32]);
    let (snapshot, outcome) = Snapshot::load(&args.snapshot)
        .and_then(|s| engine::evaluate(&s, prev).map(|outcome| (s, outcome)))
        .map_err(|e| unusable(args.json, e.to_string()))?;
    let eval = match outcome {
        Outcome::Halted(report) => {
            if args.json {
                println!("{}", json!({ "status": "halted", "halt": report }));
            } else {
                print!("{}", render::halt(&report));
            }
            return Ok(exit::HALTED.into());
        }
        Outcome::Evaluated(eval) => eval,
    };
    let checks = policy::evaluate(&eval.statement, args.strict);
    // A config the dense table does not prove has no proof encoding, so no statement digest
    // yet; the engine's statement and policy are still exact.
    let unproved = zkmargin_layout::shape::dense_support(&snapshot.config).err();
    let digest = match &unproved {
        Some(_) => None,
        None => Some(
            statement_digest_under(&snapshot.config, &eval.statement)
                .map_err(|e| unusable(args.json, e.to_string()))?,
        ),
    };
    if args.json {
        let out = json!({
            "status": "ok",
            "accounts": eval.accounts,
            "statement_digest": digest.map(hex::encode),
            "not_provable": unproved.as_ref().map(|e| e.to_string()),
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
        let digest = match (&digest, &unproved) {
            (Some(d), _) => hex::encode(d),
            (None, Some(e)) => format!("none: not provable yet ({e})"),
            (None, None) => unreachable!("a digest unless unprovable"),
        };
        print!("{}", render::statement(&eval.statement, &digest));
        print!("{}", render::policy(&checks));
    }
    ok()
}
