//! Proving keys cached per circuit shape in `$ZKMARGIN_HOME/keys` (default
//! `~/.cache/zkmargin/keys`), named by `zkmargin_circuits::keygen::cache_name` (shape, circuit
//! version, circuit source hash, SRS identity), so a key is never reused across circuits, code
//! changes or setups.

use std::path::{Path, PathBuf};

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::{Error, ProvingKey};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use zkmargin_circuits::keygen::{cache_name, proving_key, KeygenParams};
use zkmargin_layout::shape::MarginShape;

use crate::cache::{self, Origin};

/// `$ZKMARGIN_HOME/keys`.
pub fn default_dir() -> PathBuf {
    cache::default_dir("keys")
}

/// The proving key for `shape`, from the cache in `dir` or freshly generated (then cached),
/// and where it came from.
pub fn load_or_generate(
    dir: &Path,
    srs: &ParamsKZG<Bn256>,
    srs_label: &str,
    shape: &MarginShape,
) -> Result<(ProvingKey<G1Affine>, KeygenParams, Origin), Error> {
    cache::load_or_make(Some(dir), &cache_name(srs, srs_label, shape), shape, || {
        proving_key(srs, shape)
    })
}
