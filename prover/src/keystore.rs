//! Proving keys cached per circuit shape, in `$ZKMARGIN_HOME/keys` (default
//! `~/.cache/zkmargin/keys`), named by `zkmargin_circuits::keys::cache_name` (shape, circuit
//! version, circuit source hash, SRS identity), so a key is never reused across circuits, code
//! changes or setups. Files are written atomically; a corrupt cache entry is regenerated.

use std::fs;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::{Error, ProvingKey};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_proofs::SerdeFormat;
use zkmargin_circuits::halo2_base::gates::circuit::builder::BaseCircuitBuilder;
use zkmargin_circuits::keys::{cache_name, proving_key, CircuitLayout};
use zkmargin_circuits::shape::MarginShape;
use zkmargin_circuits::Fr;

/// The default key directory, beside the SRS directory.
pub fn default_dir() -> PathBuf {
    zkmargin_bundle::srs::default_dir().with_file_name("keys")
}

fn read_cached(
    pk_path: &Path,
    layout_path: &Path,
) -> Option<(ProvingKey<G1Affine>, CircuitLayout)> {
    let layout: CircuitLayout = serde_json::from_slice(&fs::read(layout_path).ok()?).ok()?;
    let mut r = BufReader::new(fs::File::open(pk_path).ok()?);
    let pk = ProvingKey::read::<_, BaseCircuitBuilder<Fr>>(
        &mut r,
        SerdeFormat::RawBytesUnchecked,
        layout.params.clone(),
    )
    .ok()?;
    Some((pk, layout))
}

fn write_cached(
    pk: &ProvingKey<G1Affine>,
    layout: &CircuitLayout,
    pk_path: &Path,
    layout_path: &Path,
) -> std::io::Result<()> {
    if let Some(dir) = pk_path.parent() {
        fs::create_dir_all(dir)?;
    }
    let tmp = pk_path.with_extension(format!("tmp-{}", std::process::id()));
    let mut w = BufWriter::new(fs::File::create(&tmp)?);
    pk.write(&mut w, SerdeFormat::RawBytesUnchecked)?;
    drop(w);
    fs::write(
        layout_path,
        serde_json::to_vec(layout).expect("layout serializes"),
    )?;
    fs::rename(tmp, pk_path)
}

/// The proving key for `shape`, from the cache in `dir` or freshly generated (then cached).
/// Returns whether it came from the cache.
pub fn load_or_generate(
    dir: &Path,
    srs: &ParamsKZG<Bn256>,
    srs_label: &str,
    shape: &MarginShape,
) -> Result<(ProvingKey<G1Affine>, CircuitLayout, bool), Error> {
    let name = cache_name(srs, srs_label, shape);
    let (pk_path, layout_path) = (
        dir.join(format!("{name}.pk")),
        dir.join(format!("{name}.layout.json")),
    );
    if let Some((pk, layout)) = read_cached(&pk_path, &layout_path) {
        return Ok((pk, layout, true));
    }
    let (pk, layout) = proving_key(srs, shape)?;
    if let Err(e) = write_cached(&pk, &layout, &pk_path, &layout_path) {
        eprintln!(
            "warning: cannot cache the proving key in {}: {e}",
            dir.display()
        );
    }
    Ok((pk, layout, false))
}
