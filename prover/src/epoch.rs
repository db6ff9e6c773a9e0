//! Epoch preparation: snapshot → reference engine → salted, sorted account table → circuit
//! witness. Everything the proof needs, and nothing is proved yet.

use std::path::Path;

use rand::RngCore;
use rayon::prelude::*;
use zkmargin_circuits::shape::MarginShape;
use zkmargin_circuits::witness::{MarginWitness, WitnessError};
use zkmargin_core::account_id::{account_id, derive_salt, AccountId};
use zkmargin_core::accounts::{read_all, AccountRow};
use zkmargin_core::config::Config;
use zkmargin_core::digest::Digest;
use zkmargin_core::engine::{evaluate_rows, Outcome, Snapshot};
use zkmargin_core::oracle::HaltReport;
use zkmargin_core::statement::Statement;
use zkmargin_core::InputError;

/// Advice columns the automatic choice of k aims for.
const TARGET_COLUMNS: usize = 20;
/// Advice cells per unit of row width: measured ~880 cells per row for the demo shape (4
/// assets, 4 markets, 2 scenarios: width 37) with 15-bit lookups.
const CELLS_PER_UNIT: usize = 25;

#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("oracle halt")]
    Halted(Box<HaltReport>),
    #[error(transparent)]
    Witness(#[from] WitnessError),
}

/// An epoch ready to prove.
pub struct PreparedEpoch {
    pub config: Config,
    pub config_toml: String,
    pub quotes_csv: Vec<u8>,
    pub statement: Statement,
    pub shape: MarginShape,
    pub witness: MarginWitness,
    pub master_secret: [u8; 32],
    /// Private: the number of real accounts.
    pub accounts: usize,
}

/// The circuit size for `rows` table rows: the smallest k whose columns hold the estimated
/// cells in about [`TARGET_COLUMNS`] columns, at least 12 and above the table itself. (Measured
/// on the demo, 1,024 rows: k = 15 with 30 + 7 columns proves in 15.5 s (14.8 KB proof),
/// k = 16 with 14 + 3 in 13.3 s (7.1 KB), k = 17 with 7 + 2 in 17.2 s, k = 18 in 25 s.)
pub fn choose_k(config: &Config, rows: usize) -> u32 {
    let width =
        4 + 2 * config.assets.len() + 4 * config.markets.len() + 3 * config.scenario_count();
    let cells = rows * width * CELLS_PER_UNIT + 50_000;
    let per_column = cells.div_ceil(TARGET_COLUMNS);
    let k = (usize::BITS - (per_column.max(1) - 1).leading_zeros()).max(12);
    k.max((rows as u64).trailing_zeros() + 1)
}

/// Loads and evaluates `dir`, salts and sorts the accounts, and builds the witness.
/// `master_secret` defaults to fresh randomness (salts then differ every epoch).
pub fn prepare(
    dir: &Path,
    prev_digest: Digest,
    k: Option<u32>,
    master_secret: Option<[u8; 32]>,
) -> Result<PreparedEpoch, PrepareError> {
    let snapshot = Snapshot::load(dir)?;
    // Parse the accounts once: the witness needs every row, and the engine evaluates them.
    let rows = read_all(&snapshot.accounts_path(), &snapshot.config)?;
    let eval = match evaluate_rows(&snapshot, &rows, prev_digest)? {
        Outcome::Halted(h) => return Err(PrepareError::Halted(Box::new(h))),
        Outcome::Evaluated(e) => e,
    };
    let master_secret = master_secret.unwrap_or_else(|| {
        let mut s = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut s);
        s
    });
    let mut accounts: Vec<(AccountId, AccountRow)> = rows
        .into_par_iter()
        .map(|r| {
            (
                account_id(&r.identifier, &derive_salt(&master_secret, &r.identifier)),
                r,
            )
        })
        .collect();
    accounts.par_sort_unstable_by_key(|a| a.0);
    let table_rows = MarginShape::padded_rows(accounts.len() as u64);
    let k = k.unwrap_or_else(|| choose_k(&snapshot.config, table_rows));
    let shape = MarginShape::new(&snapshot.config, table_rows, k);
    let witness = MarginWitness::honest(&shape, &snapshot.config, &eval.statement, &accounts)?;
    Ok(PreparedEpoch {
        config_toml: snapshot.config_text,
        quotes_csv: snapshot.quotes_csv,
        config: snapshot.config,
        statement: eval.statement,
        shape,
        witness,
        master_secret,
        accounts: accounts.len(),
    })
}
