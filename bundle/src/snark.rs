//! Native verification of one shard proof (SHPLONK, Keccak `EvmTranscript`), shared by the
//! operator's assembly step and the independent verifier.

use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::plonk::{verify_proof, VerifyingKey};
use halo2_proofs::poly::commitment::ParamsProver;
use halo2_proofs::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_proofs::poly::kzg::multiopen::VerifierSHPLONK;
use halo2_proofs::poly::kzg::strategy::SingleStrategy;
use halo2_proofs::transcript::TranscriptReadBuffer;
use snark_verifier_sdk::snark_verifier::loader::native::NativeLoader;
use snark_verifier_sdk::snark_verifier::system::halo2::transcript::evm::EvmTranscript;

/// Whether `proof` proves `instances` under `vk`; the error is halo2's reason.
pub fn verify(
    srs: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    instances: &[Fr],
    proof: &[u8],
) -> Result<(), String> {
    let mut transcript = EvmTranscript::<G1Affine, NativeLoader, &[u8], Vec<u8>>::init(proof);
    verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>, _, _, _>(
        srs.verifier_params(),
        vk,
        SingleStrategy::new(srs),
        &[&[instances]],
        &mut transcript,
    )
    .map(|_| ())
    .map_err(|e| format!("{e:?}"))
}
