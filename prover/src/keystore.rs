//! Proving keys cached per circuit shape in `$ZKMARGIN_HOME/keys` (default
//! `~/.cache/zkmargin/keys`), named by `zkmargin_circuits::keys::cache_name` (shape, circuit
//! version, circuit source hash, SRS identity), so a key is never reused across circuits, code
//! changes or setups.

use std::path::{Path, PathBuf};

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::{Error, ProvingKey};
use snark_verifier_sdk::halo2::aggregation::AggregationCircuit;
use zkmargin_core::digest::keccak256;

use crate::aggregate::{aggregation_key, AggregationLayout, Child};
use crate::prove::ProveError;
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

/// The proving key of the aggregation circuit over children like `children` (the root when
/// `root`), cached in `dir` by a name that hashes each child's kind, verifying key and instance
/// count, the aggregation code, the circuit sources and `Cargo.lock`, the SRS label and `τ·G2`.
/// Returns whether it came from the cache.
pub fn load_or_generate_aggregation(
    dir: &Path,
    agg_srs: &ParamsKZG<Bn256>,
    srs_label: &str,
    shape: &MarginShape,
    children: Vec<Child>,
    root: bool,
) -> Result<(ProvingKey<G1Affine>, AggregationLayout, bool), ProveError> {
    use halo2_proofs::halo2curves::ff::PrimeField;
    use halo2_proofs::halo2curves::group::GroupEncoding;
    let mut id = b"zkmargin/aggregation-key/v3".to_vec();
    id.push(u8::from(root));
    for child in &children {
        id.push(u8::from(child.node));
        let vk = child
            .snark
            .protocol
            .transcript_initial_state
            .unwrap_or_default();
        id.extend_from_slice(vk.to_repr().as_ref());
        id.extend_from_slice(&(child.snark.instances[0].len() as u64).to_be_bytes());
    }
    id.extend_from_slice(&keccak256(include_str!("aggregate.rs").as_bytes()));
    id.extend_from_slice(zkmargin_circuits::CIRCUIT_SOURCE_HASH.as_bytes());
    id.extend_from_slice(srs_label.as_bytes());
    id.extend_from_slice(agg_srs.s_g2().to_bytes().as_ref());
    let name = format!("aggregation-{}", hex::encode(&keccak256(&id)[..16]));
    key_cache::load_or_make_for::<AggregationCircuit, _, _>(
        Some(dir),
        &name,
        |layout: &AggregationLayout| Some(layout.params),
        || aggregation_key(agg_srs, shape, children, root),
    )
    .map_err(ProveError::Keygen)
}
