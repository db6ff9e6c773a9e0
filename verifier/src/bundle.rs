//! `zkmargin-verify bundle`: everything a bundle claims, re-derived independently.
//!
//! The verifying key is never read from the bundle: it is rebuilt from the circuit definition,
//! the declared shape (admitted only if it is the one the bundled config gives:
//! [`MarginShape::admit`]) and the verifier's own SRS, and cached only once it has verified the
//! proofs. Instances are re-encoded from the statement, every readable statement field is
//! compared with the config, the oracle is re-run on the bundled quotes, `--prev` is checked by
//! [`crate::chain`], and every check is reported, not just the first failure.

use std::path::Path;
use std::time::Instant;

use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::plonk::VerifyingKey;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rayon::prelude::*;
use zkmargin_bundle::{Bundle, BundleError};
use zkmargin_circuits::keygen::KeygenParams;
use zkmargin_core::config::Config;
use zkmargin_core::oracle;
use zkmargin_core::policy::{self, PolicyCheck};
use zkmargin_core::quotes::parse_quotes;
use zkmargin_layout::encoding::{combine_shards, encode, statement_digest_under};
use zkmargin_layout::shape::MarginShape;

pub use crate::statement::Report;

/// Why a bundle cannot be checked at all (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum UnusableBundle {
    #[error(transparent)]
    /// The bundle's files cannot be read.
    Bundle(#[from] BundleError),
    #[error("bundled config.toml: {0}")]
    /// Its `config.toml` does not parse.
    Config(zkmargin_core::InputError),
    #[error("bundled quotes.csv: {0}")]
    /// Its `quotes.csv` does not parse.
    Quotes(zkmargin_core::InputError),
    #[error("SRS: {0}")]
    /// The verifier's own SRS for the bundle's label and size is unavailable.
    Srs(String),
    #[error(transparent)]
    /// `--prev` cannot be used.
    Previous(Box<crate::chain::UnusablePrevious>),
}

/// Verifies every shard's proof (in parallel) against its instances with `vk` (rebuilt from the shape), and
/// that the manifest's account-table commitments are the proofs' advice commitments. On success
/// returns how the key was obtained and how long the SNARK checks took.
fn snarks_verify(
    srs: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    layout: &KeygenParams,
    key_source: &str,
    shape: &MarginShape,
    bundle: &Bundle,
) -> Result<String, String> {
    if zkmargin_circuits::keygen::account_data_positions(layout, shape).as_ref()
        != Some(&bundle.manifest.account_data_columns)
    {
        return Err("the manifest's account data columns are not the circuit's".into());
    }
    let columns = layout.first_phase_columns(shape);
    let instance_count = zkmargin_layout::encoding::instance_count(shape)
        + zkmargin_layout::encoding::ID_RANGE_WORDS;
    let start = Instant::now();
    // Shards verify independently (in parallel); the first failure in shard order is reported.
    let results: Vec<Result<(), String>> = bundle
        .shards
        .par_iter()
        .zip(&bundle.manifest.shards)
        .enumerate()
        .map(|(s, (shard, entry))| {
            if shard.instances.len() != instance_count {
                return Err(format!(
                    "shard {s}: {} instances; the shape's circuit takes {instance_count}",
                    shard.instances.len()
                ));
            }
            if zkmargin_bundle::leading_commitments(&shard.proof, columns).as_deref()
                != Some(entry.account_table_commitment.as_slice())
            {
                return Err(format!(
                    "shard {s}: the manifest's account-table commitment is not the proof's"
                ));
            }
            zkmargin_keys::snark::verify(srs, vk, &shard.instances, &shard.proof)
                .map_err(|e| format!("shard {s}: {e}"))
        })
        .collect();
    results.into_iter().collect::<Result<(), String>>()?;
    Ok(format!(
        "{} shard proof(s) of {} bytes; {key_source}; SNARKs checked in {:.2} ms",
        bundle.shards.len(),
        bundle.shards[0].proof.len(),
        start.elapsed().as_secs_f64() * 1e3
    ))
}

/// The checks every kind of bundle runs first: the claimed statement digest against the one
/// recomputed (`digest`, hex or why not), the config digest, the statement against the config,
/// and the oracle re-run on the bundled quotes. Returns them and whether the oracle agrees.
pub(crate) fn statement_checks(
    config: &Config,
    s: &zkmargin_core::statement::Statement,
    claimed: &str,
    digest: &str,
    quotes_csv: &[u8],
) -> Result<(Vec<PolicyCheck>, bool), UnusableBundle> {
    let mut checks = vec![
        PolicyCheck::new(
            "statement digest matches its contents",
            claimed == digest,
            format!("claimed {claimed}, recomputed {digest}"),
        ),
        PolicyCheck::new(
            "config digest matches the bundled config",
            s.config_digest == config.digest(),
            format!(
                "statement {}, config {}",
                hex::encode(s.config_digest),
                hex::encode(config.digest())
            ),
        ),
        policy::statement_agrees(s, config),
    ];
    let quotes = parse_quotes(quotes_csv, config).map_err(UnusableBundle::Quotes)?;
    let oracle_ok = oracle::evaluate(config, &quotes) == s.oracle;
    checks.push(PolicyCheck::new(
        "oracle re-run on the bundled quotes (ages, signatures, medians, outliers, quorum) agrees",
        oracle_ok,
        if oracle_ok {
            "same verdict"
        } else {
            "different verdict"
        },
    ));
    Ok((checks, oracle_ok))
}

/// Supplies the verifier's own KZG parameters for an SRS label and size.
pub type SrsLoader<'a> = &'a dyn Fn(&str, u32) -> Result<ParamsKZG<Bn256>, String>;

/// A bundle checked for integrity (everything but policy), with what the checks loaded.
pub struct CheckedBundle {
    /// The bundle read.
    pub bundle: Bundle,
    /// Its config, parsed.
    pub config: Config,
    /// Every integrity check; [`verify_bundle`] appends the policy checks.
    pub report: Report,
    /// The statement digest recomputed from the statement and the config (`None`: the
    /// statement does not encode under it, and "statement digest matches its contents" failed).
    pub digest: Option<zkmargin_core::digest::Digest>,
    /// The verifier's SRS, the circuit layout of its rebuilt key and the admitted shape, when
    /// the shape and statement were usable enough to get that far (whatever the SNARK's
    /// verdict).
    pub keys: Option<Keys>,
}

/// What the SNARK check loaded and admitted, for the inclusion check to reuse.
pub struct Keys {
    /// The verifier's own SRS for the bundle's shape.
    pub srs: ParamsKZG<Bn256>,
    /// The keygen parameters of the rebuilt verifying key.
    pub layout: KeygenParams,
    /// The shape admitted against the config.
    pub shape: MarginShape,
}

/// Checks a bundle (dense, or slot-table: [`crate::slots`]) and its policy. `load_srs(label,
/// k)` supplies the verifier's own KZG parameters; `vk_cache` is this verifier's own key cache
/// (`None`: always rebuild).
pub fn verify_bundle(
    dir: &Path,
    prev: Option<&Path>,
    strict: bool,
    vk_cache: Option<&Path>,
    load_srs: SrsLoader<'_>,
) -> Result<Report, UnusableBundle> {
    if zkmargin_bundle::slots::SlotBundle::is_slot_bundle(dir) {
        return crate::slots::verify_slot_bundle(dir, prev, strict, vk_cache, load_srs);
    }
    let mut checked = check_bundle(dir, prev, strict, vk_cache, load_srs)?;
    let policy = policy::evaluate(&checked.report.statement, strict);
    checked.report.checks.extend(policy);
    Ok(checked.report)
}

/// Every integrity check of a bundle (SNARK, statement, digests, config, oracle, chaining,
/// setup), without policy. The declared shape is admitted against the config
/// ([`MarginShape::admit`]) before anything it sizes runs; a shape that is not admitted fails
/// its check and nothing shaped by it (encoding, shards, SRS, key) is attempted.
pub fn check_bundle(
    dir: &Path,
    prev: Option<&Path>,
    strict: bool,
    vk_cache: Option<&Path>,
    load_srs: SrsLoader<'_>,
) -> Result<CheckedBundle, UnusableBundle> {
    let bundle = Bundle::read(dir)?;
    let config = Config::parse(&bundle.config_toml).map_err(UnusableBundle::Config)?;
    let previous = prev
        .map(|p| crate::chain::PreviousEpoch::read(p, vk_cache, load_srs))
        .transpose()
        .map_err(|e| UnusableBundle::Previous(Box::new(e)))?;
    let m = &bundle.manifest;
    let s = &m.statement;
    let recomputed = statement_digest_under(&config, s);
    let digest = match &recomputed {
        Ok(d) => hex::encode(d),
        Err(e) => format!("(not computable: {e})"),
    };
    let (mut checks, _) =
        statement_checks(&config, s, &m.statement_digest, &digest, &bundle.quotes_csv)?;

    let shape = MarginShape::admit(&config, &m.shape);
    checks.push(PolicyCheck::new(
        "declared shape fits the config",
        shape.is_ok(),
        match &shape {
            Ok(_) => format!("k = {}, {} table rows", m.shape.k, m.shape.rows),
            Err(e) => e.to_string(),
        },
    ));
    let shape = shape.ok();

    let instances = shape
        .as_ref()
        .and_then(|shape| encode(shape, &config, s).ok());
    checks.push(PolicyCheck::new(
        "bundled instances equal the statement's encoding",
        instances.as_deref() == Some(bundle.instances.as_slice()),
        format!("{} instances", bundle.instances.len()),
    ));
    let shard_instances: Vec<&[Fr]> = bundle.shards.iter().map(|p| &p.instances[..]).collect();
    let (combined_ok, detail) = match shape
        .as_ref()
        .map(|shape| combine_shards(shape, &shard_instances))
    {
        None => (
            false,
            "not attempted: the shape is not admitted".to_string(),
        ),
        Some(Ok(combined)) if Some(&combined) == instances.as_ref() => (
            true,
            format!("{} shard(s) of {} rows", bundle.shards.len(), m.shape.rows),
        ),
        Some(Ok(_)) => (
            false,
            "the shards' combined totals are not the statement's".to_string(),
        ),
        Some(Err(e)) => (false, e.to_string()),
    };
    checks.push(PolicyCheck::new(
        "shards chain (ids strictly increasing, same inputs and oracle) and add up to the statement",
        combined_ok,
        detail,
    ));

    checks.push(policy::trusted_setup(&m.srs.source, strict));
    let mut keys = None;
    let snark = match (&instances, &shape) {
        (Some(_), Some(shape)) => {
            let srs = load_srs(&m.srs.source, shape.k).map_err(UnusableBundle::Srs)?;
            let start = Instant::now();
            match zkmargin_keys::verifying::load_or_rebuild(vk_cache, &srs, &m.srs.source, shape) {
                Err(e) => Err(format!("cannot rebuild the verifying key: {e:?}")),
                Ok((vk, layout, cached)) => {
                    let source = format!(
                        "key {} in {:.3} s",
                        if cached {
                            "from this verifier's own cache"
                        } else {
                            "rebuilt"
                        },
                        start.elapsed().as_secs_f64()
                    );
                    let verdict = snarks_verify(&srs, &vk, &layout, &source, shape, &bundle);
                    if let (Ok(_), Some(dir), false) = (&verdict, vk_cache, cached) {
                        // Pinning only saves the next check a rebuild: a key that cannot be
                        // stored is rebuilt then, and the verdict is the same either way.
                        let _ = zkmargin_keys::verifying::pin(
                            dir,
                            &srs,
                            &m.srs.source,
                            shape,
                            &vk,
                            &layout,
                        );
                    }
                    keys = Some(Keys {
                        srs,
                        layout,
                        shape: shape.clone(),
                    });
                    verdict
                }
            }
        }
        _ => Err("not attempted: shape or statement unusable".into()),
    };
    let (passed, detail) = match snark {
        Ok(timings) => (true, timings),
        Err(reason) => (false, reason),
    };
    checks.push(PolicyCheck::new(
        "every shard's SNARK verifies (key rebuilt from the shape)",
        passed,
        detail,
    ));

    if let Some(previous) = &previous {
        checks.extend(previous.link_checks(s));
    }
    let report = Report {
        statement: s.clone(),
        statement_digest: Some(digest),
        checks,
    };
    Ok(CheckedBundle {
        bundle,
        config,
        report,
        digest: recomputed.ok(),
        keys,
    })
}
