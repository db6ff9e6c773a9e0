//! Verifier contracts generated from a verifying key by snark-verifier's EVM loader (SHPLONK,
//! Keccak transcript). The contract is `Halo2Verifier`: its calldata is the instances as
//! 32-byte big-endian words, then the proof; it returns empty on success and reverts otherwise.
//! It reduces every word modulo the scalar field, so callers must refuse non-canonical words.

use halo2_base::gates::circuit::builder::BaseCircuitBuilder;
use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_base::halo2_proofs::plonk::VerifyingKey;
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
use snark_verifier_sdk::evm::gen_evm_verifier_sol_code;
use snark_verifier_sdk::halo2::aggregation::AggregationCircuit;
use snark_verifier_sdk::SHPLONK;

/// The contract name snark-verifier gives the verifier.
pub const VERIFIER_CONTRACT: &str = "Halo2Verifier";

/// The verifier of an epoch proof (one instance column of `instances` words).
pub fn epoch_verifier(
    params: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    instances: usize,
) -> String {
    gen_evm_verifier_sol_code::<BaseCircuitBuilder<Fr>, SHPLONK>(params, vk, vec![instances])
}

/// The verifier of an aggregation proof: its first 12 instances are the KZG accumulator's
/// limbs, which the contract checks with a final pairing.
pub fn aggregation_verifier(
    params: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    instances: usize,
) -> String {
    gen_evm_verifier_sol_code::<AggregationCircuit, SHPLONK>(params, vk, vec![instances])
}

/// Verifier calldata: the instances as big-endian words, then the proof.
pub fn verifier_calldata(instances: &[Fr], proof: &[u8]) -> Vec<u8> {
    snark_verifier_sdk::snark_verifier::loader::evm::encode_calldata(&[instances.to_vec()], proof)
}
