//! `index.sqlite`: the published epochs and, per epoch, which account id each access token
//! opens. WAL mode, so the server reads while the runner writes; `synchronous = FULL`, so a
//! committed epoch survives a machine crash.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::token::TokenHash;
use crate::ArchiveError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS epochs (
    epoch            INTEGER PRIMARY KEY,
    timestamp        INTEGER NOT NULL,
    statement_digest TEXT NOT NULL,
    prev_digest      TEXT NOT NULL,
    accounts         INTEGER NOT NULL,
    shards           INTEGER NOT NULL,
    published_at     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS inclusion (
    token_hash BLOB NOT NULL,
    epoch      INTEGER NOT NULL REFERENCES epochs(epoch),
    account_id TEXT NOT NULL,
    PRIMARY KEY (token_hash, epoch)
) WITHOUT ROWID;
";

/// One published epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// The epoch number.
    pub epoch: u64,
    /// The snapshot's timestamp (unix seconds).
    pub timestamp: u64,
    /// Hex Keccak-256 of the statement.
    pub statement_digest: String,
    /// Hex digest of the previous epoch's statement (zero for the first).
    pub prev_digest: String,
    /// Real accounts in the epoch (each has an inclusion file and a token row).
    pub accounts: u64,
    /// Shards the epoch was proved in.
    pub shards: u64,
    /// When the archive published it (unix seconds).
    pub published_at: u64,
}

/// A connection to an archive's index.
pub struct Index {
    path: PathBuf,
    conn: Connection,
}

/// SQLite stores signed 64-bit integers; epoch numbers and counts above `i64::MAX` are refused.
fn signed(path: &Path, what: &str, v: u64) -> Result<i64, ArchiveError> {
    i64::try_from(v).map_err(|_| ArchiveError::Malformed {
        path: path.to_path_buf(),
        reason: format!("{what} {v} does not fit the index"),
    })
}

impl Index {
    /// Opens (creating if needed) the index at `path`.
    pub fn open(path: &Path) -> Result<Index, ArchiveError> {
        let err = |source| ArchiveError::Index {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        Ok(Index {
            path: path.to_path_buf(),
            conn,
        })
    }

    fn err(&self) -> impl FnOnce(rusqlite::Error) -> ArchiveError + '_ {
        |source| ArchiveError::Index {
            path: self.path.clone(),
            source,
        }
    }

    fn record(row: &rusqlite::Row<'_>) -> rusqlite::Result<EpochRecord> {
        let u = |i: usize| row.get::<_, i64>(i).map(|v| v as u64);
        Ok(EpochRecord {
            epoch: u(0)?,
            timestamp: u(1)?,
            statement_digest: row.get(2)?,
            prev_digest: row.get(3)?,
            accounts: u(4)?,
            shards: u(5)?,
            published_at: u(6)?,
        })
    }

    const COLUMNS: &'static str =
        "epoch, timestamp, statement_digest, prev_digest, accounts, shards, published_at";

    /// Every indexed epoch.
    pub fn epoch_numbers(&self) -> Result<BTreeSet<u64>, ArchiveError> {
        let mut stmt = self
            .conn
            .prepare("SELECT epoch FROM epochs")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| r.get::<_, i64>(0).map(|v| v as u64))
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// The record of `epoch`, if indexed.
    pub fn epoch(&self, epoch: u64) -> Result<Option<EpochRecord>, ArchiveError> {
        let e = signed(&self.path, "epoch", epoch)?;
        self.conn
            .query_row(
                &format!("SELECT {} FROM epochs WHERE epoch = ?1", Self::COLUMNS),
                [e],
                Self::record,
            )
            .optional()
            .map_err(self.err())
    }

    /// The newest epoch.
    pub fn last(&self) -> Result<Option<EpochRecord>, ArchiveError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {} FROM epochs ORDER BY epoch DESC LIMIT 1",
                    Self::COLUMNS
                ),
                [],
                Self::record,
            )
            .optional()
            .map_err(self.err())
    }

    /// Up to `limit` epochs below `before` (all if `None`), newest first.
    pub fn list(&self, before: Option<u64>, limit: u32) -> Result<Vec<EpochRecord>, ArchiveError> {
        let before = signed(&self.path, "epoch", before.unwrap_or(i64::MAX as u64))?;
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {} FROM epochs WHERE epoch < ?1 ORDER BY epoch DESC LIMIT ?2",
                Self::COLUMNS
            ))
            .map_err(self.err())?;
        let rows = stmt
            .query_map(params![before, limit], Self::record)
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// The account id that `token` opens in `epoch`.
    pub fn locate(&self, token: &TokenHash, epoch: u64) -> Result<Option<String>, ArchiveError> {
        let e = signed(&self.path, "epoch", epoch)?;
        self.conn
            .query_row(
                "SELECT account_id FROM inclusion WHERE token_hash = ?1 AND epoch = ?2",
                params![&token.0[..], e],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())
    }

    /// Adds a published epoch and its accounts' token hashes, in one transaction.
    pub fn insert(
        &mut self,
        record: &EpochRecord,
        accounts: &[(TokenHash, String)],
    ) -> Result<(), ArchiveError> {
        let path = self.path.clone();
        let values = [
            record.epoch,
            record.timestamp,
            record.accounts,
            record.shards,
            record.published_at,
        ]
        .iter()
        .zip(["epoch", "timestamp", "accounts", "shards", "published_at"])
        .map(|(&v, what)| signed(&path, what, v))
        .collect::<Result<Vec<i64>, _>>()?;
        let err = |source| ArchiveError::Index {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute(
            &format!(
                "INSERT INTO epochs ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                Self::COLUMNS
            ),
            params![
                values[0],
                values[1],
                record.statement_digest,
                record.prev_digest,
                values[2],
                values[3],
                values[4]
            ],
        )
        .map_err(err)?;
        {
            let mut stmt = tx
                .prepare(
                    "INSERT INTO inclusion (token_hash, epoch, account_id) VALUES (?1, ?2, ?3)",
                )
                .map_err(err)?;
            for (token, id) in accounts {
                stmt.execute(params![&token.0[..], values[0], id])
                    .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }
}
