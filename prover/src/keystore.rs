//! Proving keys cached per circuit shape in `$ZKMARGIN_HOME/keys` (default
//! `~/.cache/zkmargin/keys`), named by `zkmargin_circuits::keys::cache_name` (shape, circuit
//! version, circuit source hash, SRS identity), so a key is never reused across circuits, code
//! changes or setups.

use std::path::{Path, PathBuf};

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::{Error, ProvingKey};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use zkmargin_bundle::key_cache;
use zkmargin_circuits::keys::{cache_name, proving_key, CircuitLayout};
use zkmargin_circuits::shape::MarginShape;

pub fn default_dir() -> PathBuf {
    key_cache::default_dir("keys")
}

/// The proving key for `shape`, from the cache in `dir` or freshly generated (then cached).
/// Returns whether it came from the cache.
pub fn load_or_generate(
    dir: &Path,
    srs: &ParamsKZG<Bn256>,
    srs_label: &str,
    shape: &MarginShape,
) -> Result<(ProvingKey<G1Affine>, CircuitLayout, bool), Error> {
    key_cache::load_or_make(Some(dir), &cache_name(srs, srs_label, shape), shape, || {
        proving_key(srs, shape)
    })
}
