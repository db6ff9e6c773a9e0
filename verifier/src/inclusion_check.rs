//! `zkmargin-verify inclusion`: an account holder's check that their account, with exactly
//! these balances and positions, is a constrained row of a verified epoch's account table.
//!
//! Checks, all reported: the bundle verifies (SNARK, statement, digests; policy is reported by
//! `bundle`, not here); the file is for this epoch's statement; its row is an account row of
//! the table (not the tail, padding beyond the table, or blinding rows); its opening levels are
//! nested block ranges ending at that row; `H(identifier ‖ salt)` is the row's id (when the
//! identifier is given); and the KZG opening of the data columns at the row's data rows equals
//! the holder's own values (one pairing equation, see `zkmargin_bundle::inclusion`).

use std::path::Path;

use ethnum::I256;
use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine, G2Affine, G1};
use halo2_proofs::halo2curves::group::Curve;
use halo2_proofs::poly::commitment::ParamsProver;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use serde::Serialize;
use zkmargin_bundle::inclusion::{
    check_opening, combined_values, data_cells, data_points, g1_from_hex, g1_from_transcript_hex,
    gamma, powers, InclusionFile, INCLUSION_FORMAT,
};
use zkmargin_bundle::Bundle;
use zkmargin_circuits::keys::data_columns;
use zkmargin_circuits::table::plan::TablePlan;
use zkmargin_core::account_id::{account_id, AccountId};
use zkmargin_core::accounts::AccountRow;
use zkmargin_core::amount::{parse_signed, parse_unsigned};
use zkmargin_core::bounds::{BALANCE_LIMIT, COST_LIMIT, SIZE_LIMIT};
use zkmargin_core::config::Config;
use zkmargin_core::fine::FineScale;
use zkmargin_core::margin::MarkTable;
use zkmargin_core::policy::{self, PolicyCheck};

use crate::bundle_check::{verify_bundle, SrsLoader, UnusableBundle};

/// Supplies the verifier's own G2 powers for an SRS label, checked against its parameters.
pub type G2Loader<'a> = &'a dyn Fn(&str, &ParamsKZG<Bn256>) -> Result<Vec<G2Affine>, String>;

#[derive(Debug, thiserror::Error)]
pub enum UnusableInclusion {
    #[error(transparent)]
    Bundle(#[from] UnusableBundle),
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    #[error("SRS: {0}")]
    Srs(String),
}

/// The account at the epoch's prices (fine values shown in the quote currency).
#[derive(Debug, Clone, Serialize)]
pub struct AccountStatus {
    pub equity: String,
    pub maintenance_requirement: String,
    pub under_margined: bool,
    pub shortfall: String,
    pub bad_debt: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct InclusionReport {
    pub epoch: u64,
    pub row: usize,
    pub id: String,
    pub checks: Vec<PolicyCheck>,
    pub account: AccountStatus,
}

impl InclusionReport {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
}

fn check(name: &str, passed: bool, detail: impl Into<String>) -> PolicyCheck {
    PolicyCheck {
        name: name.into(),
        passed,
        detail: detail.into(),
    }
}

fn hex32(s: &str) -> Option<[u8; 32]> {
    hex::decode(s).ok()?.try_into().ok()
}

/// The account row an inclusion file claims, parsed with the config's decimals and bounds.
fn parse_row(file: &InclusionFile, config: &Config) -> Result<AccountRow, String> {
    if file.balances.len() != config.assets.len()
        || file.sizes.len() != config.markets.len()
        || file.costs.len() != config.markets.len()
    {
        return Err("balances, sizes or costs do not match the config's assets and markets".into());
    }
    let balances = file
        .balances
        .iter()
        .zip(&config.assets)
        .map(|(v, a)| {
            parse_unsigned(v.as_bytes(), a.decimals, BALANCE_LIMIT)
                .map(|x| x as u64)
                .map_err(|e| format!("balance {v:?}: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let sizes = file
        .sizes
        .iter()
        .zip(&config.markets)
        .map(|(v, m)| {
            parse_signed(v.as_bytes(), m.size_decimals, SIZE_LIMIT)
                .map(|x| x as i64)
                .map_err(|e| format!("size {v:?}: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let costs = file
        .costs
        .iter()
        .map(|v| {
            parse_signed(v.as_bytes(), config.quote.decimals, COST_LIMIT)
                .map_err(|e| format!("cost {v:?}: {e}"))
        })
        .collect::<Result<_, _>>()?;
    Ok(AccountRow {
        identifier: String::new(),
        balances,
        sizes,
        costs,
    })
}

/// Verifies inclusion file `path` against the bundle in `dir`.
pub fn verify_inclusion(
    dir: &Path,
    path: &Path,
    identifier: Option<&str>,
    vk_cache: Option<&Path>,
    load_srs: SrsLoader<'_>,
    load_g2: G2Loader<'_>,
) -> Result<InclusionReport, UnusableInclusion> {
    let shown = path.display().to_string();
    let unusable = |reason: String| UnusableInclusion::File {
        path: shown.clone(),
        reason,
    };
    let text = std::fs::read(path).map_err(|e| unusable(e.to_string()))?;
    let file: InclusionFile = serde_json::from_slice(&text)
        .map_err(|e| unusable(format!("not an inclusion file: {e}")))?;
    if file.format_version != INCLUSION_FORMAT {
        return Err(unusable(format!(
            "format version {} (expected {INCLUSION_FORMAT})",
            file.format_version
        )));
    }
    let id_bytes = hex32(&file.id).ok_or_else(|| unusable("id is not 32 hex bytes".into()))?;
    let salt = hex32(&file.salt).ok_or_else(|| unusable("salt is not 32 hex bytes".into()))?;
    let levels: Vec<G1Affine> = file
        .openings
        .iter()
        .map(|l| g1_from_hex(&l.point))
        .collect::<Option<_>>()
        .ok_or_else(|| unusable("an opening is not a compressed G1 point".into()))?;

    let bundle_report = verify_bundle(dir, None, false, vk_cache, load_srs)?;
    let policy_checks = policy::evaluate(&bundle_report.statement, false).len();
    let integrity = &bundle_report.checks[..bundle_report.checks.len() - policy_checks];
    let failed: Vec<&str> = integrity
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name.as_str())
        .collect();
    let mut checks = vec![check(
        "the bundle's proof and statement verify",
        failed.is_empty(),
        if failed.is_empty() {
            "SNARK, statement, digests and oracle check out".to_string()
        } else {
            format!("failed: {}", failed.join("; "))
        },
    )];

    let bundle = Bundle::read(dir).map_err(UnusableBundle::from)?;
    let m = &bundle.manifest;
    let config = Config::parse(&bundle.config_toml).map_err(UnusableBundle::Config)?;
    let row = parse_row(&file, &config).map_err(unusable)?;
    let plan = TablePlan::new(&m.shape)
        .ok_or_else(|| unusable("the bundle's shape has no table".into()))?;
    checks.push(check(
        "the file is for this epoch's statement",
        file.statement_digest == m.statement_digest && file.epoch == m.statement.epoch,
        format!(
            "file: epoch {} digest {}",
            file.epoch, file.statement_digest
        ),
    ));
    checks.push(check(
        "the row is an account row of the constrained table",
        file.row < m.shape.rows,
        format!("row {} of {} account rows", file.row, m.shape.rows),
    ));
    // Nested block ranges ending at the row, each small enough for the G2 powers (which also
    // bounds the verifier's work on a hostile file).
    let nested = file.openings.last().map(|l| l.blocks)
        == file.row.checked_add(1).map(|e| [file.row, e])
        && file
            .openings
            .windows(2)
            .all(|w| w[0].blocks[0] <= w[1].blocks[0] && w[1].blocks[1] <= w[0].blocks[1])
        && file.openings.iter().all(|l| {
            l.blocks[0] < l.blocks[1]
                && l.blocks[1] <= m.shape.rows
                && (l.blocks[1] - l.blocks[0]) * plan.data_rows() < zkmargin_bundle::srs::G2_POWERS
        });
    checks.push(check(
        "opening sets are nested block ranges ending at the row",
        nested,
        format!("{} levels", file.openings.len()),
    ));
    let id = AccountId(id_bytes);
    checks.push(match identifier {
        Some(identifier) => {
            let derived = account_id(identifier, &salt);
            check(
                "H(identifier ‖ salt) is the row's id",
                derived == id,
                format!("derived {}", hex::encode(derived.0)),
            )
        }
        None => check(
            "H(identifier ‖ salt) is the row's id",
            true,
            "not checked: pass --identifier to bind the row to your identifier",
        ),
    });

    let opening_ok = if nested && file.row < m.shape.rows {
        let params = load_srs(&m.srs.source, m.shape.k).map_err(UnusableInclusion::Srs)?;
        let g2 = load_g2(&m.srs.source, &params).map_err(UnusableInclusion::Srs)?;
        let (_, layout, _) =
            crate::vk_cache::load_or_rebuild(vk_cache, &params, &m.srs.source, &m.shape)
                .map_err(|e| UnusableInclusion::Srs(format!("{e:?}")))?;
        let columns = data_columns(&layout, &m.shape)
            .ok_or_else(|| unusable("the bundle's shape has no data columns".into()))?;
        let commitments: Option<Vec<G1Affine>> = columns
            .iter()
            .map(|&(_, p)| {
                m.account_table_commitment
                    .get(p)
                    .and_then(|h| g1_from_transcript_hex(h))
            })
            .collect();
        let digest = hex32(&m.statement_digest);
        match (commitments, digest) {
            (Some(commitments), Some(digest)) => {
                let g = gamma(&digest, &commitments);
                let combined: G1 = powers(g, commitments.len())
                    .iter()
                    .zip(&commitments)
                    .map(|(p, c)| c * p)
                    .sum();
                let cells = data_cells(&plan, &id, &row);
                let values = combined_values(&plan, &cells, g);
                let points = data_points(&plan, m.shape.k, [file.row, file.row + 1]);
                let sets: Vec<(G1Affine, Vec<_>)> = levels
                    .iter()
                    .zip(&file.openings)
                    .map(|(w, l)| (*w, data_points(&plan, m.shape.k, l.blocks)))
                    .collect();
                check_opening(
                    params.get_g(),
                    &g2,
                    &combined.to_affine(),
                    &points,
                    &values,
                    &sets,
                )
            }
            _ => false,
        }
    } else {
        false
    };
    checks.push(check(
        "the KZG opening of the account data columns equals this account",
        opening_ok,
        if opening_ok {
            "id, balances, sizes and costs are the row's committed values"
        } else {
            "the opening does not match these values"
        },
    ));

    let s = &bundle_report.statement;
    let prices: Vec<u64> = s.oracle.iter().map(|o| o.median.unwrap_or(0)).collect();
    let scale = FineScale::derive(&config).map_err(|e| unusable(e.reason))?;
    let underlying: Vec<usize> = config.markets.iter().map(|m| m.underlying).collect();
    let margin = MarkTable::new(&scale, &underlying, &prices).evaluate(&row);
    let money = |v: I256| format!("{} {}", s.display_fine(v), s.quote_symbol);
    Ok(InclusionReport {
        epoch: m.statement.epoch,
        row: file.row,
        id: file.id.clone(),
        checks,
        account: AccountStatus {
            equity: money(margin.equity()),
            maintenance_requirement: money(margin.maintenance),
            under_margined: margin.is_under_margined(),
            shortfall: money(margin.shortfall()),
            bad_debt: money(margin.bad_debt()),
        },
    })
}
