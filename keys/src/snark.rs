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

/// Whether `proof` proves `instances` under `vk`; the error is halo2's reason. A proof is one
/// encoding: bytes left after the transcript's last element are refused, as is an instance
/// column of another length than the key's circuit takes (checked before halo2 sees it).
pub fn verify(
    srs: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    instances: &[Fr],
    proof: &[u8],
) -> Result<(), String> {
    let cs = vk.cs();
    if cs.num_instance_columns() != 1 {
        return Err("the key's circuit does not take one instance column".into());
    }
    // halo2 needs the instances to fit the usable rows (it would index past them otherwise).
    let usable = (1usize << vk.get_domain().k()).saturating_sub(cs.blinding_factors() + 1);
    if instances.len() > usable {
        return Err(format!(
            "{} instances do not fit the circuit's {usable} usable rows",
            instances.len()
        ));
    }
    let mut rest: &[u8] = proof;
    let mut transcript =
        EvmTranscript::<G1Affine, NativeLoader, &mut &[u8], Vec<u8>>::init(&mut rest);
    verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>, _, _, _>(
        srs.verifier_params(),
        vk,
        SingleStrategy::new(srs),
        &[&[instances]],
        &mut transcript,
    )
    .map_err(|e| format!("{e:?}"))?;
    drop(transcript);
    match rest.len() {
        0 => Ok(()),
        extra => Err(format!(
            "{extra} bytes follow the proof (one proof, one encoding)"
        )),
    }
}
