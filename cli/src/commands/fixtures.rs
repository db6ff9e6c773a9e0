//! `zkmargin fixtures generate`.

use anyhow::anyhow;
use zkmargin_core::amount;
use zkmargin_fixtures::{
    generate as generate_snapshot, generate_venue, GeneratorError, GeneratorOptions, VenueOptions,
};

use crate::args::{Format, GenerateArgs, Preset};
use crate::failure::{ok, Failure, Outcome};

/// A percentage with up to two decimals, as basis points.
fn percent_bps(flag: &str, raw: &str) -> Result<u32, Failure> {
    amount::parse_unsigned(raw.as_bytes(), 2, 10_001)
        .map(|v| v as u32)
        .map_err(|e| {
            Failure::input(anyhow!(
                "--{flag}: {e} (a percentage 0-100 with at most 2 decimals)"
            ))
        })
}

pub fn generate(args: &GenerateArgs) -> Outcome {
    let classify = |e: GeneratorError| match e {
        GeneratorError::Options(_) => Failure::input(e),
        _ => Failure::runtime(e),
    };
    if args.format == Format::Long || args.preset.is_some() {
        if args.stale > 0 || args.outliers > 0 || args.signed {
            return Err(Failure::input(anyhow!(
                "--stale, --outliers and --signed apply to the wide format only"
            )));
        }
        let mut options = match args.preset {
            Some(Preset::V1) => VenueOptions::v1(args.accounts, args.seed),
            None => VenueOptions {
                accounts: args.accounts,
                seed: args.seed,
                epoch: args.epoch,
                markets: args.markets,
                collateral: args.assets,
                tiers: args.tiers,
                scenarios: args.scenarios,
                sources: args.sources,
                max_positions: args.max_positions,
                under_margined_bps: 0,
                bad_debt_bps: 0,
            },
        };
        options.epoch = args.epoch;
        options.under_margined_bps = percent_bps("under-margined", &args.under_margined)?;
        options.bad_debt_bps = percent_bps("bad-debt", &args.bad_debt)?;
        generate_venue(&options, &args.out).map_err(classify)?;
        eprintln!("wrote {} accounts to {}", args.accounts, args.out.display());
        return ok();
    }
    let options = GeneratorOptions {
        accounts: args.accounts,
        seed: args.seed,
        epoch: args.epoch,
        assets: args.assets,
        markets: args.markets,
        scenarios: args.scenarios,
        sources: args.sources,
        under_margined_bps: percent_bps("under-margined", &args.under_margined)?,
        bad_debt_bps: percent_bps("bad-debt", &args.bad_debt)?,
        stale_quotes: args.stale,
        outlier_quotes: args.outliers,
        signed: args.signed,
    };
    generate_snapshot(&options, &args.out).map_err(classify)?;
    eprintln!("wrote {} accounts to {}", args.accounts, args.out.display());
    ok()
}
