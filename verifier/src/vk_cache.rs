//! The verifier's own cache of verifying keys it rebuilt (pinning), in `$ZKMARGIN_HOME/vk`
//! (default `~/.cache/zkmargin/vk`). Keys are only ever written here by this verifier after
//! rebuilding them from the circuit; nothing from a bundle is stored.

use std::path::{Path, PathBuf};

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::{Error, VerifyingKey};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use zkmargin_bundle::key_cache;
use zkmargin_circuits::keys::{cache_name, verifying_key, CircuitLayout};
use zkmargin_circuits::shape::MarginShape;

pub fn default_dir() -> PathBuf {
    key_cache::default_dir("vk")
}

/// The verifying key for `shape`: rebuilt from the circuit, or read from this verifier's own
/// cache in `dir` when given. Returns whether it came from the cache.
pub fn load_or_rebuild(
    dir: Option<&Path>,
    srs: &ParamsKZG<Bn256>,
    srs_label: &str,
    shape: &MarginShape,
) -> Result<(VerifyingKey<G1Affine>, CircuitLayout, bool), Error> {
    key_cache::load_or_make(dir, &cache_name(srs, srs_label, shape), shape, || {
        verifying_key(srs, shape)
    })
}
