//! `zkmargin-verify bundle` for a slot-table bundle (account table v2, shard classes by entry
//! count), everything re-derived as for a dense bundle ([`crate::bundle`]):
//!
//! - each class's shard shape is admitted against the config (`SlotShape::admit`) before it
//!   sizes any work, and its verifying key is rebuilt from it and the verifier's own SRS;
//! - the oracle is re-run on the bundled quotes, and the instrument table every shard is
//!   verified against is rebuilt from the config and those medians
//!   ([`zkmargin_layout::slots::public::instrument_table`]): a shard proved against another
//!   table (a tier, weight or median edited) fails;
//! - ids run in one strictly increasing order across the epoch: each shard's first id follows
//!   the previous shard's last, and both carry the shard's class tag, so no account is counted
//!   twice, within a class or across two;
//! - the manifest's data commitments (what holders open without the proofs) are the ones each
//!   shard proof opens with;
//! - the shards' instrument totals and totals add up to the statement's (a shard dropped, or
//!   one added, changes them);
//! - the statement digest, the config digest, `--prev` and the policy, as for a dense bundle.

use std::path::Path;
use std::time::Instant;

use ethnum::U256;
use halo2_proofs::halo2curves::bn256::Fr;
use rayon::prelude::*;
use zkmargin_bundle::leading_commitments;
use zkmargin_bundle::slots::SlotBundle;
use zkmargin_circuits::slots::circuit::{data_commitments, verifying_key};
use zkmargin_core::account_id::{CLASS_TAG_BITS, ID_BITS};
use zkmargin_core::config::Config;
use zkmargin_core::digest::Digest;
use zkmargin_core::policy::{self, PolicyCheck};
use zkmargin_layout::slots::public::{
    combine, instrument_table, slot_statement_digest, statement_totals, ShardValues,
};
use zkmargin_layout::slots::{SlotShape, DATA_COLUMNS};

use crate::bundle::{SrsLoader, UnusableBundle};
use crate::chain::PreviousEpoch;
use crate::statement::Report;

/// A slot-table bundle checked for integrity (everything but policy).
pub struct CheckedSlotBundle {
    /// The bundle read.
    pub bundle: SlotBundle,
    /// Its config, parsed.
    pub config: Config,
    /// Every integrity check.
    pub report: Report,
    /// The statement digest recomputed from the statement and the config.
    pub digest: Option<Digest>,
}

/// An id's integer value; `None` unless it is below `2^ID_BITS`.
fn id_value(f: &Fr) -> Option<U256> {
    let v = U256::from_le_bytes(f.to_bytes());
    (v < U256::ONE << ID_BITS).then_some(v)
}

/// The class tag of an id value ([`zkmargin_core::account_id::AccountId::tagged`]).
fn tag_of(v: U256) -> usize {
    (v >> (ID_BITS - CLASS_TAG_BITS)).as_usize()
}

/// Checks that the shards' ids run in one strictly increasing order through the epoch, each
/// shard's range inside its class's tag.
fn ids_in_one_order(classes: &[(usize, Vec<ShardValues>)]) -> Result<String, String> {
    let mut last: Option<U256> = None;
    let mut shards = 0;
    for (class, values) in classes {
        for (s, v) in values.iter().enumerate() {
            let (Some(first), Some(end)) = (id_value(&v.id_range[0]), id_value(&v.id_range[1]))
            else {
                return Err(format!(
                    "class {class} shard {s}: an id is not below 2^{ID_BITS}"
                ));
            };
            if tag_of(first) != *class || tag_of(end) != *class {
                return Err(format!(
                    "class {class} shard {s}: its ids do not carry the class tag {class}"
                ));
            }
            if last.is_some_and(|l| first <= l) {
                return Err(format!(
                    "class {class} shard {s}: its first id does not follow the previous shard's last"
                ));
            }
            last = Some(end);
            shards += 1;
        }
    }
    Ok(format!("{shards} shard(s) in one id order"))
}

/// Checks a slot-table bundle and its policy.
pub fn verify_slot_bundle(
    dir: &Path,
    prev: Option<&Path>,
    strict: bool,
    vk_cache: Option<&Path>,
    load_srs: SrsLoader<'_>,
) -> Result<Report, UnusableBundle> {
    let mut checked = check_slot_bundle(dir, prev, strict, vk_cache, load_srs)?;
    let policy = policy::evaluate(&checked.report.statement, strict);
    checked.report.checks.extend(policy);
    Ok(checked.report)
}

/// Every integrity check of a slot-table bundle, without policy. `vk_cache` is passed on to
/// `--prev` (slot keys are rebuilt every time).
pub fn check_slot_bundle(
    dir: &Path,
    prev: Option<&Path>,
    strict: bool,
    vk_cache: Option<&Path>,
    load_srs: SrsLoader<'_>,
) -> Result<CheckedSlotBundle, UnusableBundle> {
    let bundle = SlotBundle::read(dir)?;
    let config = Config::parse(&bundle.config_toml).map_err(UnusableBundle::Config)?;
    let previous = prev
        .map(|p| PreviousEpoch::read(p, vk_cache, load_srs))
        .transpose()
        .map_err(|e| UnusableBundle::Previous(Box::new(e)))?;
    let m = &bundle.manifest;
    let s = &m.statement;
    let recomputed = slot_statement_digest(&config, s);
    let digest = match &recomputed {
        Ok(d) => hex::encode(d),
        Err(e) => format!("(not computable: {e})"),
    };
    let (mut checks, oracle_ok) = crate::bundle::statement_checks(
        &config,
        s,
        &m.statement_digest,
        &digest,
        &bundle.quotes_csv,
    )?;

    let shapes: Result<Vec<SlotShape>, String> = m
        .classes
        .iter()
        .map(|c| {
            SlotShape::admit(&config, c.class, &c.shape)
                .map_err(|e| format!("class {}: {e}", c.class))
        })
        .collect();
    checks.push(PolicyCheck::new(
        "every class's shard shape fits the config",
        shapes.is_ok(),
        match &shapes {
            Ok(shapes) => shapes
                .iter()
                .zip(&m.classes)
                .map(|(s, c)| {
                    format!(
                        "{} slots: k = {}, {} shard(s) of {} accounts",
                        s.slots, s.k, c.shards, s.accounts
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            Err(e) => e.clone(),
        },
    ));
    let shapes = shapes.ok();

    // What holders open against without the proofs (inclusion files, the browser page).
    let committed = shapes.as_ref().map(|shapes| {
        shapes
            .iter()
            .zip(&m.classes)
            .zip(&bundle.shards)
            .flat_map(|((shape, c), shards)| {
                shards.iter().zip(&c.data_commitments).enumerate().map(
                    move |(shard, (proof, listed))| {
                        let opened = leading_commitments(&proof.proof, shape.first_phase_columns())
                            .and_then(|leading| data_commitments(shape, &leading));
                        (opened.as_ref() == Some(listed), c.class, shard)
                    },
                )
            })
            .find(|(same, _, _)| !same)
    });
    checks.push(PolicyCheck::new(
        "the manifest's data commitments are the shard proofs'",
        committed == Some(None),
        match committed {
            None => "not attempted: shapes unusable".to_string(),
            Some(None) => format!(
                "{DATA_COLUMNS} per shard, {} shard(s)",
                bundle.shards.iter().map(Vec::len).sum::<usize>()
            ),
            Some(Some((_, class, shard))) => {
                format!("class {class} shard {shard}: not its proof's commitments")
            }
        },
    ));

    // The instrument table comes from the oracle re-run, never from a shard.
    let table = if oracle_ok {
        instrument_table(&config, s).ok()
    } else {
        None
    };
    let values: Option<Vec<(usize, Vec<ShardValues>)>> = shapes.as_ref().and_then(|shapes| {
        shapes
            .iter()
            .zip(&m.classes)
            .zip(&bundle.shards)
            .map(|((shape, c), shards)| {
                let v: Option<Vec<ShardValues>> = shards
                    .iter()
                    .map(|p| ShardValues::split(shape, &p.instances))
                    .collect();
                v.map(|v| (c.class, v))
            })
            .collect()
    });
    let tables_ok = match (&values, &table) {
        (Some(values), Some(table)) => values
            .iter()
            .all(|(_, v)| v.iter().all(|v| &v.instruments == table)),
        _ => false,
    };
    checks.push(PolicyCheck::new(
        "every shard is proved against the instrument table rebuilt from the config and the \
         oracle's medians",
        tables_ok,
        match (&values, &table) {
            (None, _) => "not attempted: shapes or instance counts unusable".to_string(),
            (_, None) => "not attempted: no instrument table (oracle disagrees or halted)".into(),
            _ if tables_ok => format!(
                "{} instrument rows",
                shapes.as_ref().map_or(0, |s| s[0].instruments)
            ),
            _ => "a shard's instrument table differs".to_string(),
        },
    ));

    let order = match &values {
        Some(values) => ids_in_one_order(values),
        None => Err("not attempted: shapes or instance counts unusable".into()),
    };
    checks.push(PolicyCheck::new(
        "ids strictly increase across every shard of every class (one order, class tags)",
        order.is_ok(),
        match &order {
            Ok(d) | Err(d) => d.clone(),
        },
    ));

    let (want3, want) = statement_totals(&config, s);
    let combined = values.as_ref().map(|values| {
        // Each shard's instrument table is the check above's; this one adds up the amounts.
        let shards: Vec<ShardValues> = values
            .iter()
            .flat_map(|(_, v)| v.iter())
            .map(|v| ShardValues {
                instruments: Vec::new(),
                ..v.clone()
            })
            .collect();
        combine(&shards).is_some_and(|sum| sum.instrument_totals == want3 && sum.totals == want)
    });
    checks.push(PolicyCheck::new(
        "the shards' liabilities, open interest and totals add up to the statement",
        combined == Some(true),
        match combined {
            None => "not attempted: shapes or instance counts unusable".to_string(),
            Some(true) => format!(
                "{} shard(s) in {} class(es)",
                bundle.shards.iter().map(Vec::len).sum::<usize>(),
                m.classes.len()
            ),
            Some(false) => "the shards' combined values are not the statement's".to_string(),
        },
    ));

    checks.push(policy::trusted_setup(&m.srs, strict));
    let snark = match &shapes {
        Some(shapes) if tables_ok => snarks_verify(&m.srs, shapes, &bundle, load_srs)?,
        _ => Err("not attempted: shapes or instrument table unusable".into()),
    };
    let (passed, detail) = match snark {
        Ok(d) => (true, d),
        Err(d) => (false, d),
    };
    checks.push(PolicyCheck::new(
        "every shard's SNARK verifies (key rebuilt from its class's shape)",
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
    Ok(CheckedSlotBundle {
        bundle,
        config,
        report,
        digest: recomputed.ok(),
    })
}

/// Every shard's proof against its instances, one rebuilt key per class. `Err` inside: the
/// first failure; `Err` outside: no SRS.
fn snarks_verify(
    label: &str,
    shapes: &[SlotShape],
    bundle: &SlotBundle,
    load_srs: SrsLoader<'_>,
) -> Result<Result<String, String>, UnusableBundle> {
    let start = Instant::now();
    for ((shape, entry), shards) in shapes
        .iter()
        .zip(&bundle.manifest.classes)
        .zip(&bundle.shards)
    {
        let srs = load_srs(label, shape.k).map_err(UnusableBundle::Srs)?;
        let vk = match verifying_key(&srs, shape) {
            Ok(vk) => vk,
            Err(e) => return Ok(Err(format!("cannot rebuild the verifying key: {e:?}"))),
        };
        let results: Vec<Result<(), String>> = shards
            .par_iter()
            .enumerate()
            .map(|(s, p)| {
                zkmargin_keys::snark::verify(&srs, &vk, &p.instances, &p.proof)
                    .map_err(|e| format!("class {} shard {s}: {e}", entry.class))
            })
            .collect();
        if let Err(e) = results.into_iter().collect::<Result<(), String>>() {
            return Ok(Err(e));
        }
    }
    Ok(Ok(format!(
        "{} shard proof(s); keys rebuilt and checked in {:.2} s",
        bundle.shards.iter().map(Vec::len).sum::<usize>(),
        start.elapsed().as_secs_f64()
    )))
}
