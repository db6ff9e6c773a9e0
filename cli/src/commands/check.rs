//! `zkmargin check`: evaluate a snapshot with the exact engine.

use anyhow::anyhow;
use serde_json::json;
use zkmargin_core::digest::Digest;
use zkmargin_core::engine::{self, Outcome, Snapshot};
use zkmargin_core::{policy, render};
use zkmargin_layout::encoding::statement_digest_under;
use zkmargin_layout::slots::public::slot_statement_digest;

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
    // The digest of the bundle `zkmargin prove` (its default table) would write: the dense
    // table's encoding where it proves the config, the slot table's otherwise.
    let dense_refused = zkmargin_layout::shape::dense_support(&snapshot.config).err();
    let digest = match &dense_refused {
        Some(_) => slot_statement_digest(&snapshot.config, &eval.statement)
            .map_err(|e| unusable(args.json, e.to_string()))?,
        None => statement_digest_under(&snapshot.config, &eval.statement)
            .map_err(|e| unusable(args.json, e.to_string()))?,
    };
    let table = if dense_refused.is_some() {
        "slots"
    } else {
        "dense"
    };
    if args.json {
        let out = json!({
            "status": "ok",
            "accounts": eval.accounts,
            "statement_digest": hex::encode(digest),
            "table": table,
            "dense_refused": dense_refused.as_ref().map(|e| e.to_string()),
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
        let digest = format!("{} ({table} table)", hex::encode(digest));
        print!("{}", render::statement(&eval.statement, &digest));
        print!("{}", render::policy(&checks));
    }
    ok()
}
