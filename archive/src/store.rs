//! The archive directory and its writer: recovery, the lock, publishing.

use std::fs::{self, File, TryLockError};
use std::path::{Path, PathBuf};

use crate::index::{EpochRecord, Index};
use crate::published::{epoch_dir, srs_dir_name, G1_FILE, G2_FILE, SRS_DIR};
use crate::token::{AccessKey, TokenHash};

#[derive(Debug, thiserror::Error)]
/// Why an archive operation failed.
pub enum ArchiveError {
    #[error("{path}: {source}")]
    /// Reading or writing a file failed.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    #[error("index {path}: {source}")]
    /// The SQLite index failed.
    Index {
        /// The index file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    #[error("{0}: another process is writing this archive")]
    /// Another process holds the writer's lock.
    Busy(PathBuf),
    #[error("{path}: malformed: {reason}")]
    /// A file of the archive is not what the layout says.
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    #[error("epoch {0} is already archived")]
    /// The epoch is already published.
    Exists(u64),
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ArchiveError + '_ {
    move |source| ArchiveError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An archive directory (paths only; nothing is held open).
#[derive(Debug, Clone)]
pub struct Archive {
    root: PathBuf,
}

/// The writer's exclusive lock on an archive, released on drop (also when the process dies).
#[derive(Debug)]
pub struct WriteLock {
    _file: File,
}

/// What [`Archive::recover`] removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Whether `work/` was removed.
    pub work: bool,
    /// Epoch directories (public or private) that no index row names.
    pub orphans: Vec<PathBuf>,
}

impl Archive {
    /// The archive at `root`, created (empty) if missing.
    pub fn create_or_open(root: &Path) -> Result<Archive, ArchiveError> {
        for dir in [root.join("public"), root.join("private")] {
            fs::create_dir_all(&dir).map_err(io(&dir))?;
        }
        let archive = Archive {
            root: root.to_path_buf(),
        };
        archive.index()?;
        Ok(archive)
    }

    /// An existing archive (for readers); its index must exist.
    pub fn open(root: &Path) -> Result<Archive, ArchiveError> {
        let archive = Archive {
            root: root.to_path_buf(),
        };
        let index = archive.index_path();
        if !index.is_file() {
            return Err(ArchiveError::Malformed {
                path: root.to_path_buf(),
                reason: "no index.sqlite: not an archive".into(),
            });
        }
        Ok(archive)
    }

    /// The archive directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `index.sqlite`.
    pub fn index_path(&self) -> PathBuf {
        self.root.join("index.sqlite")
    }

    /// A connection to the index (schema created if missing).
    pub fn index(&self) -> Result<Index, ArchiveError> {
        Index::open(&self.index_path())
    }

    /// `public/NNNNNNNNNN/`: the epoch's public bundle.
    pub fn public_dir(&self, epoch: u64) -> PathBuf {
        self.root.join("public").join(epoch_dir(epoch))
    }

    /// `private/NNNNNNNNNN/`: the epoch's secrets and inclusion files.
    pub fn private_dir(&self, epoch: u64) -> PathBuf {
        self.root.join("private").join(epoch_dir(epoch))
    }

    /// An epoch's inclusion file for the account id `id` (hex, as in the file's `id`).
    pub fn inclusion_path(&self, epoch: u64, id: &str) -> PathBuf {
        self.private_dir(epoch)
            .join("inclusion")
            .join(format!("{id}.json"))
    }

    /// The published SRS powers of `label` (`g1.bin`, `g2.bin`).
    pub fn srs_powers_dir(&self, label: &str) -> PathBuf {
        self.root
            .join("public")
            .join(SRS_DIR)
            .join(srs_dir_name(label))
    }

    /// Publishes the SRS powers of `label` for light verifiers, once: written under `work/`
    /// and renamed into place. `Ok(false)` if they are already published with these bytes;
    /// different bytes under the same label are refused. Needs the writer's lock.
    pub fn publish_srs_powers(
        &self,
        _lock: &WriteLock,
        label: &str,
        g1: &[u8],
        g2: &[u8],
    ) -> Result<bool, ArchiveError> {
        let dir = self.srs_powers_dir(label);
        if dir.exists() {
            for (file, bytes) in [(G1_FILE, g1), (G2_FILE, g2)] {
                let path = dir.join(file);
                if fs::read(&path).map_err(io(&path))? != bytes {
                    return Err(ArchiveError::Malformed {
                        path,
                        reason: format!("published powers of SRS {label:?} differ from this SRS"),
                    });
                }
            }
            return Ok(false);
        }
        let tmp = self.work_dir().join(format!("srs-{}", srs_dir_name(label)));
        fs::create_dir_all(&tmp).map_err(io(&tmp))?;
        for (file, bytes) in [(G1_FILE, g1), (G2_FILE, g2)] {
            let path = tmp.join(file);
            fs::write(&path, bytes).map_err(io(&path))?;
        }
        sync_filesystem(&tmp)?;
        let parent = dir.parent().expect("srs/<label>");
        fs::create_dir_all(parent).map_err(io(parent))?;
        fs::rename(&tmp, &dir).map_err(io(&dir))?;
        sync_dir(parent)?;
        Ok(true)
    }

    /// `work/`: the epoch being made (removed at every start).
    pub fn work_dir(&self) -> PathBuf {
        self.root.join("work")
    }

    fn access_key_path(&self) -> PathBuf {
        self.root.join("private").join("access.key")
    }

    /// The access-token secret, created by the writer on first use (32 random bytes, hex).
    pub fn access_key(&self, _lock: &WriteLock) -> Result<AccessKey, ArchiveError> {
        AccessKey::load_or_create(&self.access_key_path())
    }

    /// The access-token secret, if the writer has created it.
    pub fn existing_access_key(&self) -> Result<AccessKey, ArchiveError> {
        let path = self.access_key_path();
        if !path.is_file() {
            return Err(ArchiveError::Malformed {
                path,
                reason: "no access key yet: no epoch was published".into(),
            });
        }
        AccessKey::load_or_create(&path)
    }

    /// Takes the writer's lock without waiting: [`ArchiveError::Busy`] if another process
    /// holds it.
    pub fn lock(&self) -> Result<WriteLock, ArchiveError> {
        let path = self.root.join("lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(WriteLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(ArchiveError::Busy(self.root.clone())),
            Err(TryLockError::Error(e)) => Err(ArchiveError::Io { path, source: e }),
        }
    }

    /// Removes what an interrupted writer left: `work/`, and epoch directories the index does
    /// not list (`public/srs/` is not an epoch: its entries appear whole). Needs the writer's
    /// lock.
    pub fn recover(&self, _lock: &WriteLock) -> Result<Recovered, ArchiveError> {
        let mut out = Recovered::default();
        let work = self.work_dir();
        if work.exists() {
            fs::remove_dir_all(&work).map_err(io(&work))?;
            out.work = true;
        }
        let indexed = self.index()?.epoch_numbers()?;
        for side in ["public", "private"] {
            let dir = self.root.join(side);
            for entry in fs::read_dir(&dir).map_err(io(&dir))? {
                let entry = entry.map_err(io(&dir))?;
                let path = entry.path();
                if !path.is_dir() || (side == "public" && entry.file_name() == SRS_DIR) {
                    continue;
                }
                let known = entry
                    .file_name()
                    .to_str()
                    .and_then(|n| n.parse::<u64>().ok())
                    .is_some_and(|e| indexed.contains(&e));
                if !known {
                    fs::remove_dir_all(&path).map_err(io(&path))?;
                    out.orphans.push(path);
                }
            }
        }
        Ok(out)
    }

    /// Publishes a finished epoch: moves `bundle` (whose `private/` goes to the private side,
    /// with `inclusion` as its `inclusion/`), then commits `record` and the accounts' token
    /// hashes (each with its account id) to the index. Needs the writer's lock.
    pub fn publish(
        &self,
        lock: &WriteLock,
        bundle: &Path,
        inclusion: &Path,
        record: &EpochRecord,
        accounts: &[(TokenHash, String)],
    ) -> Result<(), ArchiveError> {
        self.publish_with(lock, bundle, inclusion, record, accounts, || {})
    }

    /// [`Archive::publish`], calling `renamed` between the renames and the index commit (where
    /// crash tests stop the process).
    pub fn publish_with(
        &self,
        _lock: &WriteLock,
        bundle: &Path,
        inclusion: &Path,
        record: &EpochRecord,
        accounts: &[(TokenHash, String)],
        renamed: impl FnOnce(),
    ) -> Result<(), ArchiveError> {
        let mut index = self.index()?;
        if index.epoch(record.epoch)?.is_some() {
            return Err(ArchiveError::Exists(record.epoch));
        }
        let (public, private) = (
            self.public_dir(record.epoch),
            self.private_dir(record.epoch),
        );
        // The files' contents reach the disk before any rename can make them reachable.
        sync_filesystem(bundle)?;
        let bundle_private = bundle.join("private");
        fs::rename(&bundle_private, &private).map_err(io(&private))?;
        let inclusion_dir = private.join("inclusion");
        fs::rename(inclusion, &inclusion_dir).map_err(io(&inclusion_dir))?;
        fs::rename(bundle, &public).map_err(io(&public))?;
        sync_dir(&self.root.join("public"))?;
        sync_dir(&self.root.join("private"))?;
        renamed();
        index.insert(record, accounts)
    }
}

/// Flushes every written file of the filesystem holding `dir` (one `syncfs`, not one `fsync`
/// per inclusion file).
#[cfg(target_os = "linux")]
fn sync_filesystem(dir: &Path) -> Result<(), ArchiveError> {
    let f = File::open(dir).map_err(io(dir))?;
    rustix::fs::syncfs(&f).map_err(|e| ArchiveError::Io {
        path: dir.to_path_buf(),
        source: e.into(),
    })
}

#[cfg(not(target_os = "linux"))]
fn sync_filesystem(_dir: &Path) -> Result<(), ArchiveError> {
    Ok(())
}

/// Makes a directory's renames durable before the index names them.
fn sync_dir(dir: &Path) -> Result<(), ArchiveError> {
    File::open(dir).and_then(|f| f.sync_all()).map_err(io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(epoch: u64) -> EpochRecord {
        EpochRecord {
            epoch,
            timestamp: 1_700_000_000 + epoch,
            statement_digest: format!("{epoch:064x}"),
            prev_digest: "00".repeat(32),
            accounts: 2,
            shards: 1,
            published_at: 1,
        }
    }

    #[test]
    fn the_access_key_is_created_once_and_a_malformed_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = Archive::create_or_open(dir.path()).unwrap();
        assert!(matches!(
            a.existing_access_key(),
            Err(ArchiveError::Malformed { .. })
        ));
        let lock = a.lock().unwrap();
        let token = a.access_key(&lock).unwrap().token_hex("alice");
        assert_eq!(a.existing_access_key().unwrap().token_hex("alice"), token);
        assert_ne!(a.existing_access_key().unwrap().token_hex("bob"), token);
        for bad in ["", "zz", &"ab".repeat(31), &"ab".repeat(33)] {
            fs::write(a.access_key_path(), bad).unwrap();
            assert!(
                matches!(a.existing_access_key(), Err(ArchiveError::Malformed { .. })),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn a_second_writer_is_busy_and_indexed_epochs_list_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let a = Archive::create_or_open(dir.path()).unwrap();
        let lock = a.lock().unwrap();
        assert!(matches!(a.lock(), Err(ArchiveError::Busy(_))));
        let mut index = a.index().unwrap();
        let token = TokenHash::of(&[1; 32]);
        for e in 1..=3 {
            index
                .insert(&record(e), &[(token, format!("id{e}"))])
                .unwrap();
        }
        let listed: Vec<u64> = index
            .list(None, 10)
            .unwrap()
            .iter()
            .map(|r| r.epoch)
            .collect();
        assert_eq!(listed, [3, 2, 1]);
        let before: Vec<u64> = index
            .list(Some(3), 1)
            .unwrap()
            .iter()
            .map(|r| r.epoch)
            .collect();
        assert_eq!(before, [2]);
        assert_eq!(index.last().unwrap(), Some(record(3)));
        assert_eq!(index.locate(&token, 2).unwrap().as_deref(), Some("id2"));
        assert!(
            index.insert(&record(2), &[]).is_err(),
            "an epoch is indexed once"
        );
        // SQLite holds signed 64-bit integers: larger values are refused, not wrapped.
        assert!(matches!(
            index.insert(&record(u64::MAX), &[]),
            Err(ArchiveError::Malformed { .. })
        ));
        assert!(matches!(
            index.epoch(u64::MAX),
            Err(ArchiveError::Malformed { .. })
        ));
        drop(lock);
        assert!(a.lock().is_ok(), "the lock is released on drop");
    }

    #[test]
    fn recovery_removes_work_and_unindexed_epochs_only() {
        let dir = tempfile::tempdir().unwrap();
        let a = Archive::create_or_open(dir.path()).unwrap();
        let lock = a.lock().unwrap();
        a.index().unwrap().insert(&record(1), &[]).unwrap();
        for d in [
            a.public_dir(1),
            a.private_dir(1),
            a.public_dir(2),
            a.private_dir(2),
            a.work_dir(),
        ] {
            fs::create_dir_all(d).unwrap();
        }
        assert!(a
            .publish_srs_powers(&lock, "dev-insecure", b"g1", b"g2")
            .unwrap());
        let mut r = a.recover(&lock).unwrap();
        assert!(r.work);
        r.orphans.sort();
        assert_eq!(r.orphans, [a.private_dir(2), a.public_dir(2)]);
        assert!(a.public_dir(1).is_dir() && a.private_dir(1).is_dir());
        assert!(!a.work_dir().exists() && !a.public_dir(2).exists());
        assert!(a.srs_powers_dir("dev-insecure").join(G2_FILE).is_file());
    }

    #[test]
    fn srs_powers_are_published_once_and_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let a = Archive::create_or_open(dir.path()).unwrap();
        let lock = a.lock().unwrap();
        assert!(a
            .publish_srs_powers(&lock, "ptau:x.ptau", b"one", b"two")
            .unwrap());
        let published = a.srs_powers_dir("ptau:x.ptau");
        assert_eq!(published, dir.path().join("public/srs/ptau_x.ptau"));
        assert_eq!(fs::read(published.join(G1_FILE)).unwrap(), b"one");
        assert!(!a
            .publish_srs_powers(&lock, "ptau:x.ptau", b"one", b"two")
            .unwrap());
        let err = a
            .publish_srs_powers(&lock, "ptau:x.ptau", b"one", b"other")
            .unwrap_err();
        assert!(err.to_string().contains("differ"), "{err}");
        assert_eq!(fs::read(published.join(G2_FILE)).unwrap(), b"two");
    }
}
