//! `zkmargin fixtures generate`.

use zkmargin_core::amount;
use zkmargin_fixtures::{generate as generate_snapshot, GeneratorOptions};

use crate::cli::GenerateArgs;
use crate::exit;

/// A percentage with up to two decimals, as basis points.
fn percent_bps(flag: &str, raw: &str) -> Result<u32, String> {
    amount::parse_unsigned(raw.as_bytes(), 2, 10_001)
        .map(|v| v as u32)
        .map_err(|e| format!("--{flag}: {e} (a percentage 0-100 with at most 2 decimals)"))
}

pub fn generate(args: &GenerateArgs) -> u8 {
    let shares = percent_bps("under-margined", &args.under_margined)
        .and_then(|u| Ok((u, percent_bps("bad-debt", &args.bad_debt)?)));
    let (under_margined_bps, bad_debt_bps) = match shares {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INPUT;
        }
    };
    let options = GeneratorOptions {
        accounts: args.accounts,
        seed: args.seed,
        epoch: args.epoch,
        assets: args.assets,
        markets: args.markets,
        scenarios: args.scenarios,
        sources: args.sources,
        under_margined_bps,
        bad_debt_bps,
        stale_quotes: args.stale,
        outlier_quotes: args.outliers,
        signed: args.signed,
    };
    match generate_snapshot(&options, &args.out) {
        Ok(()) => {
            eprintln!("wrote {} accounts to {}", args.accounts, args.out.display());
            exit::OK
        }
        Err(e @ zkmargin_fixtures::GeneratorError::Options(_)) => {
            eprintln!("error: {e}");
            exit::INPUT
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::FAILURE
        }
    }
}
