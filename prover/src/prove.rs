//! Proving: keys from the shape, the witness synthesized with the keygen layout, a SHPLONK
//! proof written with snark-verifier's Keccak `EvmTranscript` (the format the EVM verifier
//! reads), and a self-check that the circuit's public outputs equal the engine's statement.

use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::plonk::create_proof;
use halo2_proofs::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_proofs::poly::kzg::multiopen::ProverSHPLONK;
use halo2_proofs::transcript::TranscriptWriterBuffer;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use snark_verifier_sdk::snark_verifier::loader::native::NativeLoader;
use snark_verifier_sdk::snark_verifier::system::halo2::transcript::evm::EvmTranscript;
use std::path::Path;
use zkmargin_circuits::encoding::encode;

use zkmargin_circuits::keys::prover_circuit;
use zkmargin_circuits::table::plan::TablePlan;
use zkmargin_core::digest::keccak256;

use crate::epoch::PreparedEpoch;
use crate::keystore;
use crate::progress::phase;

#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    #[error("key generation failed: {0:?}")]
    Keygen(halo2_proofs::plonk::Error),
    #[error("proving failed: {0:?}")]
    Prove(halo2_proofs::plonk::Error),
    #[error("internal: the circuit's public outputs differ from the reference engine's statement")]
    StatementMismatch,
    #[error("encoding: {0}")]
    Encoding(#[from] zkmargin_circuits::encoding::EncodingError),
}

/// A proof and the public instances it is about.
pub struct Proof {
    pub bytes: Vec<u8>,
    pub instances: Vec<Fr>,
    /// The advice-column commitments (the account-table commitment), manifest hex.
    pub advice_commitments: Vec<String>,
}

/// The proving RNG for an epoch: derived from the master secret, so the prover can later
/// re-derive its blinded advice polynomials (inclusion proofs).
pub fn proving_rng(master_secret: &[u8; 32]) -> ChaCha20Rng {
    let mut seed = master_secret.to_vec();
    seed.extend_from_slice(b"zkmargin/proving-rng/v1");
    ChaCha20Rng::from_seed(keccak256(&seed))
}

/// Proves `epoch` under `srs` (labelled `srs_label`), with proving keys cached in `key_dir`.
pub fn prove(
    srs: &ParamsKZG<Bn256>,
    srs_label: &str,
    key_dir: &Path,
    epoch: &PreparedEpoch,
) -> Result<Proof, ProveError> {
    let (pk, layout, cached) = phase("key generation", || {
        keystore::load_or_generate(key_dir, srs, srs_label, &epoch.shape)
    })
    .map_err(ProveError::Keygen)?;
    if cached {
        eprintln!("(proving key from the cache in {})", key_dir.display());
    }
    if let Some(plan) = TablePlan::new(&epoch.shape) {
        eprintln!(
            "layout: k = {}, account blocks of {} rows × {} lanes, {} committed columns \
             ({} oracle-side), {}-bit limbs",
            layout.params.k,
            plan.block_rows,
            plan.lanes,
            plan.committed_columns() + layout.first_phase_columns(&epoch.shape)
                - plan.first_phase_columns(),
            layout.first_phase_columns(&epoch.shape) - plan.first_phase_columns(),
            plan.limb_bits
        );
    }
    let (circuit, instances) = phase("witness generation", || {
        prover_circuit(&layout, &epoch.witness)
    });
    if instances != encode(&epoch.shape, &epoch.config, &epoch.statement)? {
        return Err(ProveError::StatementMismatch);
    }
    let bytes = phase("proving", || {
        let mut transcript =
            EvmTranscript::<G1Affine, NativeLoader, Vec<u8>, Vec<u8>>::init(Vec::new());
        create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, _, _>(
            srs,
            &pk,
            &[circuit],
            &[&[&instances]],
            proving_rng(&epoch.master_secret),
            &mut transcript,
        )
        .map(|()| transcript.finalize())
    })
    .map_err(ProveError::Prove)?;
    let columns = layout.first_phase_columns(&epoch.shape);
    let advice_commitments = zkmargin_bundle::leading_commitments(&bytes, columns)
        .expect("a proof opens with its advice commitments");
    Ok(Proof {
        bytes,
        instances,
        advice_commitments,
    })
}
