//! On-disk caches of keys rebuilt from the circuit: proving keys for the prover
//! (`$ZKMARGIN_HOME/keys`), verifying keys pinned by the verifier (`$ZKMARGIN_HOME/vk`). An
//! entry is `<name>.<ext>` plus `<name>.layout.json`, named by
//! `zkmargin_circuits::keys::cache_name`; it is written atomically, and an unreadable entry
//! is rebuilt.

use std::fs;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use halo2_proofs::halo2curves::bn256::{Fr, G1Affine};
use halo2_proofs::plonk::{Circuit, Error, ProvingKey, VerifyingKey};
use halo2_proofs::SerdeFormat;
use serde::de::DeserializeOwned;
use serde::Serialize;
use zkmargin_circuits::circuit::MarginCircuit;
use zkmargin_circuits::keys::CircuitLayout;
use zkmargin_circuits::shape::MarginShape;

/// A key of circuit `C` that can be cached.
pub trait CachedKey<C: Circuit<Fr>>: Sized {
    const EXTENSION: &'static str;
    fn read_from(r: &mut impl Read, params: C::Params) -> io::Result<Self>;
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
    crate::srs::default_dir().with_file_name(name)
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
    let mut r = BufReader::new(fs::File::open(key_path).ok()?);
    let key = K::read_from(&mut r, params(&layout)?).ok()?;
    Some((key, layout))
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

/// The key of circuit `C` named `name` from the cache in `dir` (read with the circuit
/// parameters `params` derives from the cached layout), else `make()` (then cached). With no
/// `dir`, always `make()`. Returns whether the key came from the cache.
pub fn load_or_make_for<C, K, L>(
    dir: Option<&Path>,
    name: &str,
    params: impl FnOnce(&L) -> Option<C::Params>,
    make: impl FnOnce() -> Result<(K, L), Error>,
) -> Result<(K, L, bool), Error>
where
    C: Circuit<Fr>,
    K: CachedKey<C>,
    L: Serialize + DeserializeOwned,
{
    if let Some((key, layout)) = dir.and_then(|d| read::<C, K, L>(d, name, params)) {
        return Ok((key, layout, true));
    }
    let (key, layout) = make()?;
    if let Some(dir) = dir {
        if let Err(e) = write::<C, K, L>(dir, name, &key, &layout) {
            eprintln!("warning: cannot cache the key in {}: {e}", dir.display());
        }
    }
    Ok((key, layout, false))
}

/// [`load_or_make_for`] the margin circuit of `shape`.
pub fn load_or_make<K: CachedKey<MarginCircuit>>(
    dir: Option<&Path>,
    name: &str,
    shape: &MarginShape,
    make: impl FnOnce() -> Result<(K, CircuitLayout), Error>,
) -> Result<(K, CircuitLayout, bool), Error> {
    load_or_make_for::<MarginCircuit, K, CircuitLayout>(
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
}
