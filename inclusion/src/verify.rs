//! The holder's checks of an inclusion file against an epoch's public data (statement, config,
//! shape and the data columns' commitments taken from a verified proof). No I/O and no threads:
//! the native verifier and the browser page run the same code.

use ethnum::I256;
use halo2curves::bn256::{G1Affine, G2Affine};
use serde::Serialize;
use zkmargin_core::account_id::{account_id, AccountId};
use zkmargin_core::accounts::AccountRow;
use zkmargin_core::amount::{parse_signed, parse_unsigned};
use zkmargin_core::bounds::{BALANCE_LIMIT, COST_LIMIT, SIZE_LIMIT};
use zkmargin_core::config::Config;
use zkmargin_core::margin::MarkTable;
use zkmargin_core::policy::PolicyCheck;
use zkmargin_core::statement::Statement;
use zkmargin_layout::shape::MarginShape;
use zkmargin_layout::table::TableLayout;

use crate::{
    account_values, check_account_opening, combine, g1_from_hex, BlockRows, InclusionFile,
    INCLUSION_FORMAT,
};

/// The public data of a verified epoch that an inclusion file is checked against. Built only
/// by [`Epoch::new`], which admits the declared shape against the config first: nothing a file
/// declares sizes an allocation or indexes a slice before that.
pub struct Epoch<'a> {
    statement: &'a Statement,
    /// Hex Keccak-256 of the statement.
    statement_digest: &'a str,
    config: &'a Config,
    shape: MarginShape,
    plan: TableLayout,
    /// The account data columns' commitments, from the verified proof.
    data_commitments: &'a [G1Affine],
}

impl<'a> Epoch<'a> {
    /// The epoch of `statement` under `config`, with the manifest's `declared` shape (refused
    /// unless [`MarginShape::admit`] accepts it) and the shard's account data commitments
    /// (exactly one per data column of the shape's plan).
    pub fn new(
        statement: &'a Statement,
        statement_digest: &'a str,
        config: &'a Config,
        declared: &MarginShape,
        data_commitments: &'a [G1Affine],
    ) -> Result<Epoch<'a>, String> {
        let shape =
            MarginShape::admit(config, declared).map_err(|e| format!("manifest shape: {e}"))?;
        let plan = TableLayout::new(&shape).ok_or("manifest shape: the table has no plan")?;
        if data_commitments.len() != plan.data_columns {
            return Err(format!(
                "{} account data commitments; the shape has {} data columns",
                data_commitments.len(),
                plan.data_columns
            ));
        }
        Ok(Epoch {
            statement,
            statement_digest,
            config,
            shape,
            plan,
            data_commitments,
        })
    }
}

/// Most opening levels a file may carry: nested block ranges shrink at every level, so a
/// table of `2^26` blocks needs at most 27; the bound stops a file from asking for unbounded
/// pairings.
pub const MAX_OPENING_LEVELS: usize = 32;

/// SRS powers: `τ^i·G1` (at least as many as the largest opening set) and `τ^i·G2`.
pub struct Powers<'a> {
    /// `τ^i·G1`.
    pub g1: &'a [G1Affine],
    /// `τ^i·G2`.
    pub g2: &'a [G2Affine],
}

/// The account at the epoch's prices (fine values shown in the quote currency).
#[derive(Debug, Clone, Serialize)]
pub struct AccountStatus {
    /// Equity, in the quote currency.
    pub equity: String,
    /// Maintenance requirement, in the quote currency.
    pub maintenance_requirement: String,
    /// Whether equity is below the requirement.
    pub under_margined: bool,
    /// `max(0, MM − E)`, in the quote currency.
    pub shortfall: String,
    /// `max(0, −E)`, in the quote currency.
    pub bad_debt: String,
}

fn hex32(s: &str) -> Option<[u8; 32]> {
    hex::decode(s).ok()?.try_into().ok()
}

/// Parses an inclusion file, refusing unknown versions (`Err`: why it is unusable).
pub fn parse_file(bytes: &[u8]) -> Result<InclusionFile, String> {
    let file: InclusionFile =
        serde_json::from_slice(bytes).map_err(|e| format!("not an inclusion file: {e}"))?;
    if file.format_version != INCLUSION_FORMAT {
        return Err(format!(
            "format version {} (expected {INCLUSION_FORMAT})",
            file.format_version
        ));
    }
    Ok(file)
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

/// Every check of `file` against `epoch` (all reported, none short-circuits), and the
/// account's status at the epoch's prices. `Err`: the file is unusable (malformed values).
pub fn check_file(
    file: &InclusionFile,
    epoch: &Epoch<'_>,
    identifier: Option<&str>,
    powers_of_tau: &Powers<'_>,
) -> Result<(Vec<PolicyCheck>, AccountStatus), String> {
    let id = AccountId::from_hex(&file.id).map_err(|e| format!("id: {e}"))?;
    let salt = hex32(&file.salt).ok_or("salt: not 32 hex bytes")?;
    if file.openings.len() > MAX_OPENING_LEVELS {
        return Err(format!(
            "openings: {} levels, at most {MAX_OPENING_LEVELS}",
            file.openings.len()
        ));
    }
    let plan = &epoch.plan;
    if powers_of_tau.g1.len() < plan.data_rows() {
        return Err(format!(
            "SRS: {} G1 powers; an opening needs {}",
            powers_of_tau.g1.len(),
            plan.data_rows()
        ));
    }
    let levels: Vec<(G1Affine, [usize; 2])> = file
        .openings
        .iter()
        .map(|l| g1_from_hex(&l.point).map(|p| (p, l.blocks)))
        .collect::<Option<_>>()
        .ok_or("openings: a point is not a compressed G1 point")?;
    let row = parse_row(file, epoch.config)?;
    let rows = epoch.shape.rows;

    let mut checks = vec![
        PolicyCheck::new(
            "the file is for this epoch's statement",
            file.statement_digest == epoch.statement_digest && file.epoch == epoch.statement.epoch,
            format!(
                "file: epoch {} digest {}",
                file.epoch, file.statement_digest
            ),
        ),
        PolicyCheck::new(
            "the row is an account row of the constrained table",
            file.row < rows,
            format!("row {} of {rows} account rows", file.row),
        ),
    ];
    // Nested block ranges ending at the row, each within the G2 powers (which also bounds the
    // work a hostile file can cause).
    let nested = file.openings.last().map(|l| l.blocks)
        == file.row.checked_add(1).map(|e| [file.row, e])
        && file
            .openings
            .windows(2)
            .all(|w| w[0].blocks[0] <= w[1].blocks[0] && w[1].blocks[1] <= w[0].blocks[1])
        && file.openings.iter().all(|l| {
            l.blocks[0] < l.blocks[1]
                && l.blocks[1] <= rows
                && (l.blocks[1] - l.blocks[0]) * plan.data_rows() < powers_of_tau.g2.len()
        });
    checks.push(PolicyCheck::new(
        "opening sets are nested block ranges ending at the row",
        nested,
        format!("{} levels", file.openings.len()),
    ));
    checks.push(match identifier {
        Some(identifier) => {
            let derived = account_id(identifier, &salt);
            PolicyCheck::new(
                "H(identifier ‖ salt) is the row's id",
                derived == id,
                format!("derived {}", derived.to_hex()),
            )
        }
        None => PolicyCheck::new(
            "H(identifier ‖ salt) is the row's id",
            true,
            "not checked: pass the identifier to bind the row to it",
        ),
    });

    let opening_ok = nested
        && file.row < rows
        && hex32(epoch.statement_digest).is_some_and(|digest| {
            let (g, combined) = combine(&digest, epoch.data_commitments);
            check_account_opening(
                powers_of_tau.g1,
                powers_of_tau.g2,
                &BlockRows::of_table(plan),
                epoch.shape.k,
                &combined,
                file.row,
                &account_values(plan, &id, &row, g),
                &levels,
            )
        });
    checks.push(PolicyCheck::new(
        "the KZG opening of the account data columns equals this account",
        opening_ok,
        if opening_ok {
            "id, balances, sizes and costs are the row's committed values"
        } else {
            "the opening does not match these values"
        },
    ));

    let s = epoch.statement;
    // Per configured asset (a statement that lists others fails its config check).
    let prices: Vec<u64> = (0..epoch.config.assets.len())
        .map(|a| s.oracle.get(a).and_then(|o| o.median).unwrap_or(0))
        .collect();
    let scale = epoch.config.fine_scale().map_err(|e| e.reason)?;
    let underlying = &epoch.shape.underlying;
    let margin = MarkTable::new(&scale, underlying, &prices).evaluate(&row);
    let money = |v: I256| s.display_money(v);
    Ok((
        checks,
        AccountStatus {
            equity: money(margin.equity()),
            maintenance_requirement: money(margin.maintenance),
            under_margined: margin.is_under_margined(),
            shortfall: money(margin.shortfall()),
            bad_debt: money(margin.bad_debt()),
        },
    ))
}
