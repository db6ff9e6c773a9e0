//! On-disk caches of keys rebuilt from the circuit: proving keys for the prover
//! (`$ZKMARGIN_HOME/keys`), verifying keys pinned by the verifier (`$ZKMARGIN_HOME/vk`). An
//! entry is `<name>.<ext>` plus `<name>.layout.json`, named by
//! `zkmargin_circuits::keys::cache_name`; it is written atomically, and an unreadable entry
//! is rebuilt.

use std::fs;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use halo2_proofs::halo2curves::bn256::G1Affine;
use halo2_proofs::plonk::{Error, ProvingKey, VerifyingKey};
use halo2_proofs::SerdeFormat;
use zkmargin_circuits::circuit::{MarginCircuit, MarginParams};
use zkmargin_circuits::keys::CircuitLayout;
use zkmargin_circuits::shape::MarginShape;

/// A key that can be cached.
pub trait CachedKey: Sized {
    const EXTENSION: &'static str;
    fn read_from(r: &mut impl Read, params: MarginParams) -> io::Result<Self>;
    fn write_to(&self, w: &mut impl Write) -> io::Result<()>;
}

impl CachedKey for ProvingKey<G1Affine> {
    const EXTENSION: &'static str = "pk";
    fn read_from(r: &mut impl Read, params: MarginParams) -> io::Result<Self> {
        ProvingKey::read::<_, MarginCircuit>(r, SerdeFormat::RawBytesUnchecked, params)
    }
    fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        self.write(w, SerdeFormat::RawBytesUnchecked)
    }
}

impl CachedKey for VerifyingKey<G1Affine> {
    const EXTENSION: &'static str = "vk";
    fn read_from(r: &mut impl Read, params: MarginParams) -> io::Result<Self> {
        VerifyingKey::read::<_, MarginCircuit>(r, SerdeFormat::RawBytes, params)
    }
    fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        self.write(w, SerdeFormat::RawBytes)
    }
}

/// `$ZKMARGIN_HOME/<name>`, beside the SRS directory.
pub fn default_dir(name: &str) -> PathBuf {
    crate::srs::default_dir().with_file_name(name)
}

fn paths<K: CachedKey>(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    (
        dir.join(format!("{name}.{}", K::EXTENSION)),
        dir.join(format!("{name}.layout.json")),
    )
}

fn read<K: CachedKey>(dir: &Path, name: &str, shape: &MarginShape) -> Option<(K, CircuitLayout)> {
    let (key_path, layout_path) = paths::<K>(dir, name);
    let layout: CircuitLayout = serde_json::from_slice(&fs::read(layout_path).ok()?).ok()?;
    let mut r = BufReader::new(fs::File::open(key_path).ok()?);
    let key = K::read_from(&mut r, layout.margin_params(shape)?).ok()?;
    Some((key, layout))
}

fn write<K: CachedKey>(dir: &Path, name: &str, key: &K, layout: &CircuitLayout) -> io::Result<()> {
    let (key_path, layout_path) = paths::<K>(dir, name);
    fs::create_dir_all(dir)?;
    let tmp = key_path.with_extension(format!("tmp-{}", std::process::id()));
    let mut w = BufWriter::new(fs::File::create(&tmp)?);
    key.write_to(&mut w)?;
    w.flush()?;
    drop(w);
    fs::write(
        layout_path,
        serde_json::to_vec(layout).expect("layout serializes"),
    )?;
    fs::rename(tmp, key_path)
}

/// The key of `shape` named `name` from the cache in `dir`, else `make()` (then cached). With
/// no `dir`, always `make()`. Returns whether the key came from the cache.
pub fn load_or_make<K: CachedKey>(
    dir: Option<&Path>,
    name: &str,
    shape: &MarginShape,
    make: impl FnOnce() -> Result<(K, CircuitLayout), Error>,
) -> Result<(K, CircuitLayout, bool), Error> {
    if let Some((key, layout)) = dir.and_then(|d| read::<K>(d, name, shape)) {
        return Ok((key, layout, true));
    }
    let (key, layout) = make()?;
    if let Some(dir) = dir {
        if let Err(e) = write(dir, name, &key, &layout) {
            eprintln!("warning: cannot cache the key in {}: {e}", dir.display());
        }
    }
    Ok((key, layout, false))
}
