//! On-disk caches of keys rebuilt from the circuit: proving keys for the prover
//! (`$ZKMARGIN_HOME/keys`), verifying keys pinned by the verifier (`$ZKMARGIN_HOME/vk`). An
//! entry is `<name>.<ext>` plus `<name>.layout.json`, named by
//! `zkmargin_circuits::keygen::cache_name`; it is written atomically, and an unreadable entry
//! is rebuilt. Reading an entry marks it used (its key file's modification time), so
//! [`prune`] can drop the entries of code or shapes no longer run: nothing else ever removes
//! one, and a proving key is gigabytes.

use std::fs;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use halo2_proofs::halo2curves::bn256::{Fr, G1Affine};
use halo2_proofs::plonk::{Circuit, Error, ProvingKey, VerifyingKey};
use halo2_proofs::SerdeFormat;
use serde::de::DeserializeOwned;
use serde::Serialize;
use zkmargin_circuits::circuit::MarginCircuit;
use zkmargin_circuits::keygen::KeygenParams;
use zkmargin_layout::shape::MarginShape;

/// A key of circuit `C` that can be cached.
pub trait CachedKey<C: Circuit<Fr>>: Sized {
    /// The key file's extension (`pk`, `vk`).
    const EXTENSION: &'static str;
    /// Reads a key of circuit `C` with the circuit parameters `params`.
    fn read_from(r: &mut impl Read, params: C::Params) -> io::Result<Self>;
    /// Writes the key.
    fn write_to(&self, w: &mut impl Write) -> io::Result<()>;
}

impl<C: Circuit<Fr>> CachedKey<C> for ProvingKey<G1Affine> {
    const EXTENSION: &'static str = "pk";
    fn read_from(r: &mut impl Read, params: C::Params) -> io::Result<Self> {
        ProvingKey::read::<_, C>(r, SerdeFormat::RawBytesUnchecked, params)
    }
    fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        self.write(w, SerdeFormat::RawBytesUnchecked)
    }
}

impl<C: Circuit<Fr>> CachedKey<C> for VerifyingKey<G1Affine> {
    const EXTENSION: &'static str = "vk";
    fn read_from(r: &mut impl Read, params: C::Params) -> io::Result<Self> {
        VerifyingKey::read::<_, C>(r, SerdeFormat::RawBytes, params)
    }
    fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        self.write(w, SerdeFormat::RawBytes)
    }
}

/// `$ZKMARGIN_HOME/<name>`, beside the SRS directory.
pub fn default_dir(name: &str) -> PathBuf {
    zkmargin_srs::default_dir().with_file_name(name)
}

fn paths(dir: &Path, name: &str, extension: &str) -> (PathBuf, PathBuf) {
    (
        dir.join(format!("{name}.{extension}")),
        dir.join(format!("{name}.layout.json")),
    )
}

fn read<C, K, L>(
    dir: &Path,
    name: &str,
    params: impl FnOnce(&L) -> Option<C::Params>,
) -> Option<(K, L)>
where
    C: Circuit<Fr>,
    K: CachedKey<C>,
    L: DeserializeOwned,
{
    let (key_path, layout_path) = paths(dir, name, K::EXTENSION);
    let layout: L = serde_json::from_slice(&fs::read(layout_path).ok()?).ok()?;
    let mut r = BufReader::new(fs::File::open(&key_path).ok()?);
    let key = K::read_from(&mut r, params(&layout)?).ok()?;
    mark_used(&key_path);
    Some((key, layout))
}

/// Sets the key file's modification time to now (best effort: a read-only cache still works,
/// it just looks unused to [`prune`]).
fn mark_used(key_path: &Path) {
    let _ = fs::File::options()
        .write(true)
        .open(key_path)
        .and_then(|f| f.set_modified(SystemTime::now()));
}

/// One cache entry: every file named `<name>.…` (key, layout, a write's leftover temporary).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    /// The entry's name (`<name>.pk`, `<name>.layout.json`, …).
    pub name: String,
    /// Its files.
    pub files: Vec<PathBuf>,
    /// Their total size.
    pub bytes: u64,
    /// The newest modification time of its files: when it was last written or read.
    pub last_used: SystemTime,
}

/// The entries in `dir`, most recently used first (none if `dir` does not exist).
pub fn entries(dir: &Path) -> io::Result<Vec<CacheEntry>> {
    let listing = match fs::read_dir(dir) {
        Ok(l) => l,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut by_name: std::collections::BTreeMap<String, CacheEntry> = Default::default();
    for file in listing {
        let file = file?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            continue;
        }
        let file_name = file.file_name().to_string_lossy().into_owned();
        let name = file_name.split('.').next().unwrap_or_default().to_string();
        let entry = by_name.entry(name.clone()).or_insert(CacheEntry {
            name,
            files: Vec::new(),
            bytes: 0,
            last_used: SystemTime::UNIX_EPOCH,
        });
        entry.files.push(file.path());
        entry.bytes += meta.len();
        entry.last_used = entry.last_used.max(meta.modified()?);
    }
    let mut list: Vec<CacheEntry> = by_name.into_values().collect();
    list.sort_by(|a, b| b.last_used.cmp(&a.last_used).then(a.name.cmp(&b.name)));
    Ok(list)
}

/// Removes the entries of `dir` not used for `unused_for` (before `now`); returns them.
pub fn prune(dir: &Path, unused_for: Duration, now: SystemTime) -> io::Result<Vec<CacheEntry>> {
    let cutoff = now
        .checked_sub(unused_for)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let stale: Vec<CacheEntry> = entries(dir)?
        .into_iter()
        .filter(|e| e.last_used < cutoff)
        .collect();
    for entry in &stale {
        for file in &entry.files {
            match fs::remove_file(file) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
    }
    Ok(stale)
}

fn write<C, K, L>(dir: &Path, name: &str, key: &K, layout: &L) -> io::Result<()>
where
    C: Circuit<Fr>,
    K: CachedKey<C>,
    L: Serialize,
{
    let (key_path, layout_path) = paths(dir, name, K::EXTENSION);
    fs::create_dir_all(dir)?;
    let tmp = key_path.with_extension(format!("tmp-{}", std::process::id()));
    let written = (|| {
        let mut w = FirstError::new(BufWriter::new(fs::File::create(&tmp)?));
        key.write_to(&mut w)?;
        w.finish()?;
        fs::write(
            &layout_path,
            serde_json::to_vec(layout).expect("layout serializes"),
        )?;
        fs::rename(&tmp, &key_path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// A writer that keeps the first error of its inner writer and then discards everything.
///
/// halo2's key serialization unwraps some write results itself, so a full disk would panic
/// inside it; behind this writer every write succeeds and [`FirstError::finish`] reports the
/// error instead.
struct FirstError<W: Write> {
    inner: W,
    error: Option<io::Error>,
}

impl<W: Write> FirstError<W> {
    fn new(inner: W) -> Self {
        FirstError { inner, error: None }
    }

    /// Flushes; the first error met, if any.
    fn finish(mut self) -> io::Result<()> {
        if self.error.is_none() {
            if let Err(e) = self.inner.flush() {
                self.error = Some(e);
            }
        }
        self.error.map_or(Ok(()), Err)
    }
}

impl<W: Write> Write for FirstError<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.error.is_none() {
            if let Err(e) = self.inner.write_all(buf) {
                self.error = Some(e);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Where a key handed out by [`load_or_make_for`] came from.
#[derive(Debug)]
pub enum Origin {
    /// Read from the cache.
    Cache,
    /// Made, and stored in the cache (or no cache was given).
    Made,
    /// Made, but storing it failed (the caller reports it: the key is still good).
    NotStored(io::Error),
}

impl Origin {
    /// Whether the key was read from the cache.
    pub fn cached(&self) -> bool {
        matches!(self, Origin::Cache)
    }
}

/// The key of circuit `C` named `name` from the cache in `dir` (read with the circuit
/// parameters `params` derives from the cached layout), else `make()` (then cached). With no
/// `dir`, always `make()`.
pub fn load_or_make_for<C, K, L>(
    dir: Option<&Path>,
    name: &str,
    params: impl FnOnce(&L) -> Option<C::Params>,
    make: impl FnOnce() -> Result<(K, L), Error>,
) -> Result<(K, L, Origin), Error>
where
    C: Circuit<Fr>,
    K: CachedKey<C>,
    L: Serialize + DeserializeOwned,
{
    if let Some((key, layout)) = dir.and_then(|d| read::<C, K, L>(d, name, params)) {
        return Ok((key, layout, Origin::Cache));
    }
    let (key, layout) = make()?;
    let origin = match dir.map(|dir| write::<C, K, L>(dir, name, &key, &layout)) {
        Some(Err(e)) => Origin::NotStored(e),
        _ => Origin::Made,
    };
    Ok((key, layout, origin))
}

/// The margin-circuit key of `shape` named `name` from the cache in `dir`, if there.
pub fn read_margin<K: CachedKey<MarginCircuit>>(
    dir: &Path,
    name: &str,
    shape: &MarginShape,
) -> Option<(K, KeygenParams)> {
    read::<MarginCircuit, K, KeygenParams>(dir, name, |layout| layout.margin_params(shape))
}

/// Stores a margin-circuit key in the cache in `dir`.
pub fn store_margin<K: CachedKey<MarginCircuit>>(
    dir: &Path,
    name: &str,
    key: &K,
    layout: &KeygenParams,
) -> io::Result<()> {
    write::<MarginCircuit, K, KeygenParams>(dir, name, key, layout)
}

/// [`load_or_make_for`] the margin circuit of `shape`.
pub fn load_or_make<K: CachedKey<MarginCircuit>>(
    dir: Option<&Path>,
    name: &str,
    shape: &MarginShape,
    make: impl FnOnce() -> Result<(K, KeygenParams), Error>,
) -> Result<(K, KeygenParams, Origin), Error> {
    load_or_make_for::<MarginCircuit, K, KeygenParams>(
        dir,
        name,
        |layout| layout.margin_params(shape),
        make,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Accepts `room` bytes, then fails like a full disk.
    struct SmallDisk {
        room: usize,
    }

    impl Write for SmallDisk {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if buf.len() > self.room {
                return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
            }
            self.room -= buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_full_disk_is_reported_after_the_write_not_by_a_panic() {
        let mut w = FirstError::new(SmallDisk { room: 10 });
        // Callers that unwrap every write (as halo2's serialization does) keep going.
        for _ in 0..5 {
            w.write_all(&[7; 4]).expect("every write is accepted");
        }
        let e = w.finish().expect_err("the disk filled up");
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);

        let mut roomy = FirstError::new(SmallDisk { room: 20 });
        roomy.write_all(&[7; 20]).unwrap();
        roomy.finish().expect("everything fitted");
    }

    fn file_at(dir: &Path, name: &str, bytes: usize, modified: SystemTime) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, vec![1u8; bytes]).unwrap();
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        path
    }

    #[test]
    fn entries_group_a_keys_files_and_prune_drops_only_unused_ones() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let days = |d: u64| now - Duration::from_secs(d * 86_400);
        file_at(dir.path(), "old.pk", 100, days(40));
        file_at(dir.path(), "old.layout.json", 10, days(40));
        file_at(dir.path(), "new.pk", 200, days(1));
        file_at(dir.path(), "new.layout.json", 20, days(50));
        file_at(dir.path(), "new.tmp-77", 5, days(2));
        let used = file_at(dir.path(), "used.vk", 30, days(90));
        fs::create_dir(dir.path().join("not-a-key")).unwrap();

        mark_used(&used);
        let list = entries(dir.path()).unwrap();
        let names: Vec<&str> = list.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["used", "new", "old"], "most recently used first");
        let new = &list[1];
        assert_eq!((new.files.len(), new.bytes), (3, 225));
        assert_eq!(new.last_used, days(1), "the newest of its files");

        let removed = prune(dir.path(), Duration::from_secs(30 * 86_400), now).unwrap();
        assert_eq!(removed.len(), 1);
        assert_eq!(removed[0].name, "old");
        assert!(
            !dir.path().join("old.pk").exists() && !dir.path().join("old.layout.json").exists()
        );
        let left: Vec<String> = entries(dir.path())
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(left, ["used", "new"]);
        assert!(entries(&dir.path().join("missing")).unwrap().is_empty());
    }
}
