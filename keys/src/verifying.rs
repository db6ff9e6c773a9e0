//! The verifier's own cache of verifying keys it rebuilt (pinning), in `$ZKMARGIN_HOME/vk`
//! (default `~/.cache/zkmargin/vk`). Keys are only ever written here by this verifier after
//! rebuilding them from the circuit; nothing from a bundle is stored.

use std::path::{Path, PathBuf};

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::{Error, VerifyingKey};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use zkmargin_circuits::keygen::{cache_name, verifying_key, KeygenParams};
use zkmargin_layout::shape::MarginShape;

use crate::cache;

/// `$ZKMARGIN_HOME/vk`.
pub fn default_dir() -> PathBuf {
    cache::default_dir("vk")
}

/// The verifying key for `shape`: read from this verifier's own cache in `dir` when given,
/// else rebuilt from the circuit. Returns whether it came from the cache. A rebuilt key is not
/// stored here: [`pin`] stores it once it has verified a proof, so a bundle that fails (a
/// declared shape that is not the proof's) leaves nothing in the cache.
pub fn load_or_rebuild(
    dir: Option<&Path>,
    srs: &ParamsKZG<Bn256>,
    srs_label: &str,
    shape: &MarginShape,
) -> Result<(VerifyingKey<G1Affine>, KeygenParams, bool), Error> {
    if let Some((vk, layout)) =
        dir.and_then(|d| cache::read_margin(d, &cache_name(srs, srs_label, shape), shape))
    {
        return Ok((vk, layout, true));
    }
    let (vk, layout) = verifying_key(srs, shape)?;
    Ok((vk, layout, false))
}

/// Stores a rebuilt key that has just verified every shard of a bundle.
pub fn pin(
    dir: &Path,
    srs: &ParamsKZG<Bn256>,
    srs_label: &str,
    shape: &MarginShape,
    vk: &VerifyingKey<G1Affine>,
    layout: &KeygenParams,
) -> std::io::Result<()> {
    cache::store_margin(dir, &cache_name(srs, srs_label, shape), vk, layout)
}
