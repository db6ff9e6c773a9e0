//! Epoch preparation: snapshot → reference engine → salted, sorted account table, split into
//! shards of `shape.rows` rows → one circuit witness per shard. Everything the proofs need,
//! and nothing is proved yet.

use std::path::Path;

use rand::RngCore;
use rayon::prelude::*;
use zkmargin_circuits::witness::{MarginWitness, WitnessError};
use zkmargin_core::account_id::{account_id, derive_salt, AccountId};
use zkmargin_core::accounts::AccountRow;
use zkmargin_core::config::Config;
use zkmargin_core::digest::Digest;
use zkmargin_core::engine::{evaluate_rows, Outcome, Snapshot};
use zkmargin_core::oracle::HaltReport;
use zkmargin_core::statement::Statement;
use zkmargin_core::InputError;
use zkmargin_layout::shape::MarginShape;

#[derive(Debug, thiserror::Error)]
/// Why a snapshot cannot be prepared for proving.
pub enum PrepareError {
    #[error(transparent)]
    /// The snapshot is unusable (`file:line: field: reason`).
    Input(#[from] InputError),
    #[error("oracle halt")]
    /// The oracle circuit breaker halted the epoch.
    Halted(Box<HaltReport>),
    #[error(transparent)]
    /// No honest witness exists for the shape.
    Witness(#[from] WitnessError),
    #[error("circuit shape: {0}")]
    /// The requested circuit size is not one the table is proved with.
    Shape(#[from] zkmargin_layout::shape::ShapeError),
    #[error("a table of {0} rows does not fit any supported circuit size")]
    /// No supported circuit holds a table of this many rows.
    TooLarge(usize),
}

/// An epoch ready to prove.
pub struct PreparedEpoch {
    /// The snapshot's config.
    pub config: Config,
    /// `config.toml` as read (the bundle carries it verbatim).
    pub config_toml: String,
    /// `quotes.csv` as read.
    pub quotes_csv: Vec<u8>,
    /// The engine's statement (the proof must reproduce it).
    pub statement: Statement,
    /// The shape of every shard (`shape.rows` table rows each).
    pub shape: MarginShape,
    /// The secret salts and the proving randomness derive from.
    pub master_secret: [u8; 32],
    /// Private: the number of real accounts.
    pub accounts: usize,
    /// Private: the accounts with their ids, in table order (shard `s`, block `b` holds
    /// `sorted[s·rows + b]`).
    pub sorted: Vec<(AccountId, AccountRow)>,
}

/// Number of shards of `rows` rows for `accounts` accounts (at least one).
pub fn shard_count(accounts: usize, rows: usize) -> usize {
    accounts.div_ceil(rows).max(1)
}

/// The accounts of shard `shard` of `rows` rows, from all of them in table order.
pub fn shard_slice<T>(sorted: &[T], rows: usize, shard: usize) -> &[T] {
    let start = (shard * rows).min(sorted.len());
    &sorted[start..(start + rows).min(sorted.len())]
}

impl PreparedEpoch {
    /// Shards of `shape.rows` rows the accounts fill.
    pub fn shards(&self) -> usize {
        shard_count(self.accounts, self.shape.rows)
    }

    /// The accounts of shard `s`, in table order.
    pub fn shard_accounts(&self, s: usize) -> &[(AccountId, AccountRow)] {
        shard_slice(&self.sorted, self.shape.rows, s)
    }

    /// The witness of shard `s` (the last one padded with zero accounts).
    pub fn shard_witness(&self, s: usize) -> Result<MarginWitness, WitnessError> {
        MarginWitness::honest(
            &self.shape,
            &self.config,
            &self.statement,
            self.shard_accounts(s),
        )
    }
}

/// A fresh master secret from the operating system's randomness (salts then differ every
/// epoch).
pub fn fresh_secret() -> [u8; 32] {
    let mut s = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut s);
    s
}

/// The accounts with their ids under `master_secret`, in table order (ascending id).
pub fn salted_and_sorted(
    rows: Vec<AccountRow>,
    master_secret: &[u8; 32],
) -> Vec<(AccountId, AccountRow)> {
    let mut accounts: Vec<(AccountId, AccountRow)> = rows
        .into_par_iter()
        .map(|r| {
            (
                account_id(&r.identifier, &derive_salt(master_secret, &r.identifier)),
                r,
            )
        })
        .collect();
    accounts.par_sort_unstable_by_key(|a| a.0);
    accounts
}

/// How an epoch's table is cut and proved.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sharding {
    /// Circuit size override (default: chosen from the shard's rows).
    pub k: Option<u32>,
    /// Table rows per shard, a power of two (default: one shard holding every account).
    pub shard_rows: Option<usize>,
}

/// Loads and evaluates `dir`, salts and sorts the accounts and fixes the shard shape.
/// `master_secret` defaults to fresh randomness (salts then differ every epoch).
pub fn prepare(
    dir: &Path,
    prev_digest: Digest,
    sharding: Sharding,
    master_secret: Option<[u8; 32]>,
) -> Result<PreparedEpoch, PrepareError> {
    let snapshot = Snapshot::load(dir)?;
    // Refuse what the dense table does not prove before reading any account.
    zkmargin_layout::shape::dense_support(&snapshot.config)?;
    // Parse the accounts once (either format): the witness needs every row, and the engine
    // evaluates them.
    let rows = snapshot.read_rows()?;
    let eval = match evaluate_rows(&snapshot, &rows, prev_digest)? {
        Outcome::Halted(h) => return Err(PrepareError::Halted(Box::new(h))),
        Outcome::Evaluated(e) => e,
    };
    let master_secret = master_secret.unwrap_or_else(fresh_secret);
    let accounts = salted_and_sorted(rows, &master_secret);
    let mut table_rows = MarginShape::padded_rows(accounts.len() as u64);
    if let Some(rows) = sharding.shard_rows {
        table_rows = table_rows.min(
            rows.next_power_of_two()
                .max(1 << zkmargin_layout::shape::MIN_ROWS_LOG2),
        );
    }
    let shape = match sharding.k {
        Some(k) => MarginShape::admit(
            &snapshot.config,
            &MarginShape::new(&snapshot.config, table_rows, k)?,
        )?,
        None => MarginShape::choose(&snapshot.config, table_rows)?
            .ok_or(PrepareError::TooLarge(table_rows))?,
    };
    Ok(PreparedEpoch {
        config_toml: snapshot.config_text,
        quotes_csv: snapshot.quotes_csv,
        config: snapshot.config,
        statement: eval.statement,
        shape,
        master_secret,
        accounts: accounts.len(),
        sorted: accounts,
    })
}

/// Why a proved epoch cannot be prepared again from its bundle.
#[derive(Debug, thiserror::Error)]
pub enum ReprepareError {
    #[error("private data: {0}")]
    /// `private/` is missing or unreadable.
    Private(String),
    #[error(transparent)]
    /// The private snapshot cannot be prepared.
    Prepare(#[from] PrepareError),
    #[error("the private snapshot does not reproduce the bundle: {0} differs")]
    /// The private snapshot does not reproduce the bundle (the named part differs).
    Mismatch(&'static str),
}

/// A bundle's master secret, from `private/master_secret.hex`.
pub fn master_secret(bundle_dir: &Path) -> Result<[u8; 32], ReprepareError> {
    let path = bundle_dir
        .join(zkmargin_bundle::PRIVATE)
        .join(zkmargin_bundle::MASTER_SECRET);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ReprepareError::Private(format!("{}: {e}", path.display())))?;
    hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ReprepareError::Private(format!("{}: malformed", path.display())))
}

/// Prepares a proved epoch again from its bundle's private snapshot and master secret (same
/// salts, same witness), and checks that it reproduces the bundle's shape and statement digest.
pub fn reprepare(
    bundle_dir: &Path,
    bundle: &zkmargin_bundle::Bundle,
    master: [u8; 32],
) -> Result<PreparedEpoch, ReprepareError> {
    let m = &bundle.manifest;
    let snapshot = bundle_dir
        .join(zkmargin_bundle::PRIVATE)
        .join(zkmargin_bundle::PRIVATE_SNAPSHOT);
    let sharding = Sharding {
        k: Some(m.shape.k),
        shard_rows: Some(m.shape.rows),
    };
    let epoch = prepare(&snapshot, m.statement.prev_digest, sharding, Some(master))?;
    if epoch.shape != m.shape {
        return Err(ReprepareError::Mismatch("shape"));
    }
    if epoch.shards() != m.shards.len() {
        return Err(ReprepareError::Mismatch("number of shards"));
    }
    let digest = zkmargin_layout::encoding::statement_digest_under(&epoch.config, &epoch.statement)
        .map_err(|_| ReprepareError::Mismatch("statement encoding"))?;
    if hex::encode(digest) != m.statement_digest {
        return Err(ReprepareError::Mismatch("statement digest"));
    }
    Ok(epoch)
}
