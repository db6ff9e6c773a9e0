//! Distributed proving: a *plan* directory holds an epoch prepared once and cut into shards,
//! so that separate, stateless jobs prove one shard each and a last step assembles the bundle.
//!
//! | path | written by | content |
//! |---|---|---|
//! | `plan.json` | `plan` | [`PlanManifest`]: shard shape, shard count, SRS label, statement |
//! | `config.toml`, `quotes.csv` | `plan` | the snapshot's public inputs |
//! | `private/master_secret.hex`, `private/snapshot/` | `plan` | operator secrets, copied into the bundle |
//! | `shards/NNNN/accounts.json` | `plan` | the shard's accounts in table order (private) |
//! | `shards/NNNN/proof.json` | `prove-shard` | [`ShardResult`]: the shard's proof and instances |
//!
//! Every file is written to a temporary name and renamed, so a job killed at any moment leaves
//! either no result or a whole one, and a job skips a shard whose result exists: jobs are safe
//! to retry, duplicate or kill. A shard's witness and its proving RNG derive from the plan
//! alone (master secret and shard index), so a shard proved again has the same instances and
//! the same table commitments, hence the bundle the same manifest and statement digest. Only
//! the proof bytes after the advice commitments can differ: halo2-axiom draws the vanishing
//! argument's masking polynomial from `thread_rng`, not from the caller's RNG.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zkmargin_bundle::{
    fr_from_hex, fr_hex, Bundle, BundleError, MASTER_SECRET, PRIVATE, PRIVATE_SNAPSHOT,
};
use zkmargin_circuits::keygen::KeygenParams;
use zkmargin_circuits::witness::MarginWitness;
use zkmargin_core::accounts::AccountRow;
use zkmargin_core::config::Config;
use zkmargin_core::statement::Statement;
use zkmargin_layout::manifest::SrsLabel;
use zkmargin_layout::shape::MarginShape;

use crate::epoch::{salted_and_sorted, PreparedEpoch};
use crate::prove::{assemble, EpochPublic, Proof, ProveError};
use crate::ErrorClass;

/// `plan.json`'s format.
pub const PLAN_FORMAT: &str = "zkmargin-plan/1";
/// The plan's manifest file name.
pub const PLAN_FILE: &str = "plan.json";
const ACCOUNTS: &str = "accounts.json";
const RESULT: &str = "proof.json";
const CONFIG: &str = "config.toml";
const QUOTES: &str = "quotes.csv";
const SNAPSHOT_FILES: [&str; 3] = ["config.toml", "quotes.csv", "accounts.csv"];

#[derive(Debug, thiserror::Error)]
/// Why a plan step failed.
pub enum PlanError {
    #[error("{path}: {source}")]
    /// Reading or writing a file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    #[error("{path}: malformed: {reason}")]
    /// A file of the plan is not in its format.
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    #[error("shard {shard} is not in this plan of {shards} shards")]
    /// The shard index is not in the plan.
    NoSuchShard {
        /// The index asked for.
        shard: usize,
        /// The plan's shards.
        shards: usize,
    },
    #[error("shards not proved yet: {0:?}")]
    /// These shards have no proof yet.
    Missing(Vec<usize>),
    #[error("shard {shard}: its proof does not verify ({reason})")]
    /// A shard's recorded proof does not verify.
    BadProof {
        /// The shard.
        shard: usize,
        /// Why.
        reason: String,
    },
    #[error("shard {shard}: {source}")]
    /// Proving a shard failed.
    Shard {
        /// The shard.
        shard: usize,
        /// The prover's error.
        source: Box<ProveError>,
    },
    #[error(transparent)]
    /// Assembling the bundle failed.
    Prove(#[from] ProveError),
    #[error(transparent)]
    /// Writing the bundle failed.
    Bundle(#[from] BundleError),
}

impl PlanError {
    /// Whether the plan is unusable input (exit 2) or the run failed (exit 1).
    pub fn class(&self) -> ErrorClass {
        match self {
            PlanError::Malformed { .. } | PlanError::NoSuchShard { .. } => ErrorClass::Input,
            PlanError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                ErrorClass::Input
            }
            _ => ErrorClass::Runtime,
        }
    }
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PlanError + '_ {
    move |source| PlanError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub(crate) fn malformed(path: &Path, reason: impl ToString) -> PlanError {
    PlanError::Malformed {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Writes `bytes` to `path` atomically (a temporary sibling renamed into place).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PlanError> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    fs::write(&tmp, bytes).map_err(io(&tmp))?;
    fs::rename(&tmp, path).map_err(io(path))
}

/// The temporary sibling a plan for `out` is written in before it is renamed to `out`
/// (which must not exist); a stale one of this process is removed.
pub(crate) fn staging_dir(out: &Path) -> Result<PathBuf, PlanError> {
    if out.exists() {
        return Err(PlanError::Io {
            path: out.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "already exists"),
        });
    }
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = out.file_name().and_then(|n| n.to_str()).unwrap_or("plan");
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    Ok(tmp)
}

/// `plan.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanManifest {
    /// [`PLAN_FORMAT`].
    pub format: String,
    /// Every shard's shape.
    pub shape: MarginShape,
    /// Shards to prove.
    pub shards: usize,
    /// The SRS every shard job must prove under.
    pub srs: SrsLabel,
    /// The engine's statement the shards must combine into.
    pub statement: Statement,
}

/// `shards/NNNN/proof.json`: a proved shard.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardResult {
    /// The shard's index.
    pub shard: usize,
    /// Hex field elements, as in a bundle's `instances.json`.
    pub instances: Vec<String>,
    /// Hex.
    pub proof: String,
    /// The shard's account-table commitment (its first-phase advice commitments, hex).
    pub account_table_commitment: Vec<String>,
}

/// `PLAN/shards/NNNN` (a dense plan's inputs and result, a slot plan's result).
pub(crate) fn shard_dir(plan: &Path, shard: usize) -> PathBuf {
    plan.join(zkmargin_bundle::shard_dir(shard))
}

/// Writes the plan of `epoch` (prepared from `snapshot`) to `out`, which must not exist.
pub fn write_plan(
    epoch: &PreparedEpoch,
    srs_label: &str,
    snapshot: &Path,
    out: &Path,
) -> Result<PlanManifest, PlanError> {
    let tmp = staging_dir(out)?;
    let private = tmp.join(PRIVATE);
    fs::create_dir_all(private.join(PRIVATE_SNAPSHOT)).map_err(io(&private))?;
    let manifest = PlanManifest {
        format: PLAN_FORMAT.into(),
        shape: epoch.shape.clone(),
        shards: epoch.shards(),
        srs: SrsLabel {
            source: srs_label.into(),
            k: epoch.shape.k,
        },
        statement: epoch.statement.clone(),
    };
    let write = |path: PathBuf, bytes: &[u8]| fs::write(&path, bytes).map_err(io(&path));
    write(
        tmp.join(PLAN_FILE),
        &serde_json::to_vec_pretty(&manifest).expect("plan serializes"),
    )?;
    write(tmp.join(CONFIG), epoch.config_toml.as_bytes())?;
    write(tmp.join(QUOTES), &epoch.quotes_csv)?;
    write(
        private.join(MASTER_SECRET),
        hex::encode(epoch.master_secret).as_bytes(),
    )?;
    for file in SNAPSHOT_FILES {
        let to = private.join(PRIVATE_SNAPSHOT).join(file);
        fs::copy(snapshot.join(file), &to).map_err(io(&to))?;
    }
    for s in 0..manifest.shards {
        let dir = shard_dir(&tmp, s);
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        let rows: Vec<&AccountRow> = epoch.shard_accounts(s).iter().map(|(_, r)| r).collect();
        write(
            dir.join(ACCOUNTS),
            &serde_json::to_vec(&rows).expect("rows serialize"),
        )?;
    }
    fs::rename(&tmp, out).map_err(io(out))?;
    Ok(manifest)
}

/// An opened plan directory.
pub struct Plan {
    /// The plan directory.
    pub dir: PathBuf,
    /// `plan.json`.
    pub manifest: PlanManifest,
    /// The snapshot's config.
    pub config: Config,
    config_toml: String,
    quotes_csv: Vec<u8>,
    master_secret: [u8; 32],
}

impl Plan {
    /// Opens the plan in `dir`: its manifest read, its shape admitted against its config and its shard count bounded.
    pub fn open(dir: &Path) -> Result<Plan, PlanError> {
        let read = |file: &str| {
            let path = dir.join(file);
            fs::read(&path).map_err(io(&path))
        };
        let path = dir.join(PLAN_FILE);
        let manifest: PlanManifest =
            serde_json::from_slice(&read(PLAN_FILE)?).map_err(|e| malformed(&path, e))?;
        if manifest.format != PLAN_FORMAT || manifest.shards == 0 {
            return Err(malformed(&path, format!("not a {PLAN_FORMAT} plan")));
        }
        let config_toml = String::from_utf8(read(CONFIG)?)
            .map_err(|_| malformed(&dir.join(CONFIG), "not UTF-8"))?;
        let config = Config::parse(&config_toml).map_err(|e| malformed(&dir.join(CONFIG), e))?;
        MarginShape::admit(&config, &manifest.shape)
            .map_err(|e| malformed(&path, format!("shape: {e}")))?;
        // The shard count sizes every loop over the plan: bounded like an epoch's table.
        let max = zkmargin_layout::encoding::MAX_TABLE_ROWS / manifest.shape.rows as u64;
        if manifest.shards as u64 > max {
            return Err(malformed(
                &path,
                format!(
                    "shards: {} shards of {} rows exceed {} table rows",
                    manifest.shards,
                    manifest.shape.rows,
                    zkmargin_layout::encoding::MAX_TABLE_ROWS
                ),
            ));
        }
        let master_secret = crate::epoch::master_secret(dir)
            .map_err(|e| malformed(&dir.join(PRIVATE).join(MASTER_SECRET), e))?;
        Ok(Plan {
            dir: dir.to_path_buf(),
            manifest,
            config,
            config_toml,
            quotes_csv: read(QUOTES)?,
            master_secret,
        })
    }

    /// The master secret (salts and proving randomness derive from it).
    pub fn master_secret(&self) -> &[u8; 32] {
        &self.master_secret
    }

    fn check_shard(&self, shard: usize) -> Result<(), PlanError> {
        if shard >= self.manifest.shards {
            return Err(PlanError::NoSuchShard {
                shard,
                shards: self.manifest.shards,
            });
        }
        Ok(())
    }

    /// Shard `shard`'s witness, from its accounts (ids re-derived from the master secret; the
    /// rows must be in table order).
    pub fn shard_witness(&self, shard: usize) -> Result<MarginWitness, PlanError> {
        self.check_shard(shard)?;
        let path = shard_dir(&self.dir, shard).join(ACCOUNTS);
        let bytes = fs::read(&path).map_err(io(&path))?;
        let rows: Vec<AccountRow> =
            serde_json::from_slice(&bytes).map_err(|e| malformed(&path, e))?;
        let shape = &self.manifest.shape;
        if rows.len() > shape.rows {
            return Err(malformed(&path, "more accounts than the shard has rows"));
        }
        let n = rows.len();
        let accounts = salted_and_sorted(rows, &self.master_secret);
        if accounts.len() != n {
            return Err(malformed(&path, "accounts lost"));
        }
        MarginWitness::honest(shape, &self.config, &self.manifest.statement, &accounts)
            .map_err(|e| malformed(&path, e))
    }

    /// Whether a job has recorded shard `shard`'s proof (results are written by rename, so an
    /// existing one is whole).
    pub fn is_proved(&self, shard: usize) -> Result<bool, PlanError> {
        self.check_shard(shard)?;
        Ok(shard_dir(&self.dir, shard).join(RESULT).exists())
    }

    /// Shard `shard`'s result, if a job has written one.
    pub fn result(&self, shard: usize) -> Result<Option<Proof>, PlanError> {
        self.check_shard(shard)?;
        let path = shard_dir(&self.dir, shard).join(RESULT);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&path)(e)),
        };
        let r: ShardResult = serde_json::from_slice(&bytes).map_err(|e| malformed(&path, e))?;
        if r.shard != shard {
            return Err(malformed(&path, format!("names shard {}", r.shard)));
        }
        let instances = r
            .instances
            .iter()
            .map(|h| fr_from_hex(h).ok_or_else(|| malformed(&path, "bad instance")))
            .collect::<Result<_, _>>()?;
        Ok(Some(Proof {
            bytes: hex::decode(&r.proof).map_err(|e| malformed(&path, e))?,
            instances,
            advice_commitments: r.account_table_commitment,
        }))
    }

    /// Records shard `shard`'s proof (atomically).
    pub fn store_result(&self, shard: usize, proof: &Proof) -> Result<(), PlanError> {
        self.check_shard(shard)?;
        let r = ShardResult {
            shard,
            instances: proof.instances.iter().map(fr_hex).collect(),
            proof: hex::encode(&proof.bytes),
            account_table_commitment: proof.advice_commitments.clone(),
        };
        write_atomic(
            &shard_dir(&self.dir, shard).join(RESULT),
            &serde_json::to_vec(&r).expect("result serializes"),
        )
    }

    /// The bundle from every shard's result; each proof is verified with `verify` first.
    pub fn assemble(
        &self,
        layout: &KeygenParams,
        verify: impl Fn(&Proof) -> Result<(), String>,
    ) -> Result<Bundle, PlanError> {
        let results: Vec<Option<Proof>> = (0..self.manifest.shards)
            .map(|s| self.result(s))
            .collect::<Result<_, _>>()?;
        let missing: Vec<usize> = (0..results.len())
            .filter(|&s| results[s].is_none())
            .collect();
        if !missing.is_empty() {
            return Err(PlanError::Missing(missing));
        }
        let proofs: Vec<Proof> = results.into_iter().flatten().collect();
        for (shard, p) in proofs.iter().enumerate() {
            verify(p).map_err(|reason| PlanError::BadProof { shard, reason })?;
        }
        let m = &self.manifest;
        Ok(assemble(
            &EpochPublic {
                shape: &m.shape,
                layout,
                srs_label: &m.srs.source,
                config: &self.config,
                config_toml: &self.config_toml,
                quotes_csv: &self.quotes_csv,
                statement: &m.statement,
            },
            proofs,
        )?)
    }

    /// Writes `bundle` to `out` with the plan's secrets and snapshot in its `private/`.
    pub fn write_bundle(&self, bundle: &Bundle, out: &Path) -> Result<(), PlanError> {
        let private = self.dir.join(PRIVATE);
        let snapshot: Vec<(String, PathBuf)> = SNAPSHOT_FILES
            .iter()
            .map(|f| {
                (
                    format!("{PRIVATE_SNAPSHOT}/{f}"),
                    private.join(PRIVATE_SNAPSHOT).join(f),
                )
            })
            .collect();
        let copies: Vec<(&str, &Path)> = snapshot
            .iter()
            .map(|(to, from)| (to.as_str(), from.as_path()))
            .collect();
        bundle.write_with_copies(
            out,
            &[(MASTER_SECRET, hex::encode(self.master_secret).into_bytes())],
            &copies,
        )?;
        Ok(())
    }
}
