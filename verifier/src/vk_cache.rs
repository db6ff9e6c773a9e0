//! The verifier's own cache of verifying keys it rebuilt (pinning): `$ZKMARGIN_HOME/vk`
//! (default `~/.cache/zkmargin/vk`), named by `zkmargin_circuits::keys::cache_name` (shape,
//! circuit version, SRS identity). Keys are only ever written here by this verifier after
//! rebuilding them from the circuit; nothing from a bundle is stored. An unreadable entry is
//! rebuilt.

use std::fs;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::{Error, VerifyingKey};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_proofs::SerdeFormat;
use zkmargin_circuits::halo2_base::gates::circuit::builder::BaseCircuitBuilder;
use zkmargin_circuits::keys::{cache_name, verifying_key, CircuitLayout};
use zkmargin_circuits::shape::MarginShape;
use zkmargin_circuits::Fr;

/// The default cache directory, beside the SRS directory.
pub fn default_dir() -> PathBuf {
    zkmargin_bundle::srs::default_dir().with_file_name("vk")
}

fn read(vk_path: &Path, layout_path: &Path) -> Option<(VerifyingKey<G1Affine>, CircuitLayout)> {
    let layout: CircuitLayout = serde_json::from_slice(&fs::read(layout_path).ok()?).ok()?;
    let mut r = BufReader::new(fs::File::open(vk_path).ok()?);
    let vk = VerifyingKey::read::<_, BaseCircuitBuilder<Fr>>(
        &mut r,
        SerdeFormat::RawBytes,
        layout.params.clone(),
    )
    .ok()?;
    Some((vk, layout))
}

fn write(
    vk: &VerifyingKey<G1Affine>,
    layout: &CircuitLayout,
    vk_path: &Path,
    layout_path: &Path,
) -> std::io::Result<()> {
    if let Some(dir) = vk_path.parent() {
        fs::create_dir_all(dir)?;
    }
    let tmp = vk_path.with_extension(format!("tmp-{}", std::process::id()));
    let mut w = BufWriter::new(fs::File::create(&tmp)?);
    vk.write(&mut w, SerdeFormat::RawBytes)?;
    drop(w);
    fs::write(
        layout_path,
        serde_json::to_vec(layout).expect("layout serializes"),
    )?;
    fs::rename(tmp, vk_path)
}

/// The verifying key for `shape`: rebuilt from the circuit, or read from this verifier's own
/// cache in `dir` when given. Returns whether it came from the cache.
pub fn load_or_rebuild(
    dir: Option<&Path>,
    srs: &ParamsKZG<Bn256>,
    srs_label: &str,
    shape: &MarginShape,
) -> Result<(VerifyingKey<G1Affine>, CircuitLayout, bool), Error> {
    let Some(dir) = dir else {
        let (vk, layout) = verifying_key(srs, shape)?;
        return Ok((vk, layout, false));
    };
    let name = cache_name(srs, srs_label, shape);
    let (vk_path, layout_path) = (
        dir.join(format!("{name}.vk")),
        dir.join(format!("{name}.layout.json")),
    );
    if let Some((vk, layout)) = read(&vk_path, &layout_path) {
        return Ok((vk, layout, true));
    }
    let (vk, layout) = verifying_key(srs, shape)?;
    if let Err(e) = write(&vk, &layout, &vk_path, &layout_path) {
        eprintln!(
            "warning: cannot cache the verifying key in {}: {e}",
            dir.display()
        );
    }
    Ok((vk, layout, false))
}
