//! Proving: keys from the shard shape, each shard's witness synthesized with the keygen layout,
//! a SHPLONK proof per shard written with snark-verifier's Keccak `EvmTranscript` (the format
//! the EVM verifier reads), and the bundle assembled with a self-check that the shards'
//! combined public outputs equal the engine's statement.

use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::plonk::{create_proof, ProvingKey};
use halo2_proofs::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_proofs::poly::kzg::multiopen::ProverSHPLONK;
use halo2_proofs::transcript::TranscriptWriterBuffer;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use snark_verifier_sdk::snark_verifier::loader::native::NativeLoader;
use snark_verifier_sdk::snark_verifier::system::halo2::transcript::evm::EvmTranscript;
use std::path::Path;
use zkmargin_bundle::{Bundle, ShardProof};
use zkmargin_circuits::keygen::{account_data_positions, prover_circuit, KeygenParams};
use zkmargin_circuits::witness::MarginWitness;
use zkmargin_core::config::Config;
use zkmargin_core::digest::keccak256;
use zkmargin_core::statement::Statement;
use zkmargin_layout::encoding::{combine_shards, digest_of, encode};
use zkmargin_layout::manifest::{Manifest, ShardEntry, SrsLabel, FORMAT_VERSION};
use zkmargin_layout::shape::MarginShape;
use zkmargin_layout::table::TableLayout;

use crate::report::{phase, Reporter};
use zkmargin_keys::cache::Origin;

#[derive(Debug, thiserror::Error)]
/// Why proving failed.
pub enum ProveError {
    #[error("key generation failed: {0:?}")]
    /// Key generation failed.
    Keygen(halo2_proofs::plonk::Error),
    #[error("proving failed: {0:?}")]
    /// halo2's prover failed.
    Prove(halo2_proofs::plonk::Error),
    #[error("internal: the circuit's public outputs differ from the reference engine's statement")]
    /// The circuit's public outputs differ from the engine's statement (a bug, never a bundle).
    StatementMismatch,
    #[error("encoding: {0}")]
    /// The statement cannot be encoded.
    Encoding(#[from] zkmargin_layout::encoding::EncodingError),
    #[error("shards: {0}")]
    /// The shards do not combine into the statement.
    Shards(#[from] zkmargin_layout::encoding::CombineError),
    #[error("witness: {0}")]
    /// No honest witness exists.
    Witness(#[from] zkmargin_circuits::witness::WitnessError),
    #[error("internal: the shape has no account table")]
    /// The shape has no account table (a bug).
    NoTable,
    #[error("internal: a shard proof does not open with its data-column commitments")]
    /// A proof just made does not parse as its shape's transcript (a bug).
    Transcript,
}

/// A shard's proof and the public instances it is about.
pub struct Proof {
    /// The proof (SHPLONK, Keccak EVM transcript).
    pub bytes: Vec<u8>,
    /// Its public instances.
    pub instances: Vec<Fr>,
    /// The advice-column commitments (the shard's account-table commitment), manifest hex.
    pub advice_commitments: Vec<String>,
}

/// The proving RNG of shard `shard`: derived from the master secret, so the prover can later
/// re-derive its blinded advice polynomials (inclusion proofs), and so a shard proved again
/// commits to the same table (a retried shard job changes no commitment).
pub fn proving_rng(master_secret: &[u8; 32], shard: usize) -> ChaCha20Rng {
    let mut seed = master_secret.to_vec();
    seed.extend_from_slice(b"zkmargin/proving-rng/v2");
    seed.extend_from_slice(&(shard as u64).to_be_bytes());
    ChaCha20Rng::from_seed(keccak256(&seed))
}

/// A shard shape's proving key and the halo2-base layout it was made with.
pub struct ShardKey {
    /// The proving key.
    pub pk: ProvingKey<G1Affine>,
    /// The keygen parameters it was made with.
    pub layout: KeygenParams,
}

/// The proving key of `shape` under `srs` (labelled `srs_label`), cached in `key_dir`.
pub fn shard_key(
    srs: &ParamsKZG<Bn256>,
    srs_label: &str,
    key_dir: &Path,
    shape: &MarginShape,
    reporter: &dyn Reporter,
) -> Result<ShardKey, ProveError> {
    let (pk, layout, origin) = phase(reporter, "key generation", || {
        zkmargin_keys::proving::load_or_generate(key_dir, srs, srs_label, shape)
    })
    .map_err(ProveError::Keygen)?;
    match origin {
        Origin::Cache => reporter.info(&format!(
            "(proving key from the cache in {})",
            key_dir.display()
        )),
        Origin::NotStored(e) => reporter.warn(&format!(
            "cannot cache the key in {}: {e}",
            key_dir.display()
        )),
        Origin::Made => {}
    }
    if let Some(plan) = TableLayout::new(shape) {
        reporter.info(&format!(
            "layout: k = {}, account blocks of {} rows × {} lanes, {} committed columns \
             ({} oracle-side), {}-bit limbs, {} limbs per account",
            layout.params.k,
            plan.block_rows,
            plan.lanes,
            plan.committed_columns() + layout.first_phase_columns(shape)
                - plan.first_phase_columns(),
            layout.first_phase_columns(shape) - plan.first_phase_columns(),
            plan.limb_bits,
            plan.limbs_per_account()
        ));
    }
    Ok(ShardKey { pk, layout })
}

/// Proves shard `shard` of an epoch from its witness (deterministic: see [`proving_rng`]).
pub fn prove_shard(
    srs: &ParamsKZG<Bn256>,
    key: &ShardKey,
    witness: &MarginWitness,
    master_secret: &[u8; 32],
    shard: usize,
    reporter: &dyn Reporter,
) -> Result<Proof, ProveError> {
    let (circuit, instances) = phase(reporter, "witness generation", || {
        prover_circuit(&key.layout, witness)
    });
    let bytes = phase(reporter, "proving", || {
        let mut transcript =
            EvmTranscript::<G1Affine, NativeLoader, Vec<u8>, Vec<u8>>::init(Vec::new());
        create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, _, _>(
            srs,
            &key.pk,
            &[circuit],
            &[&[&instances]],
            proving_rng(master_secret, shard),
            &mut transcript,
        )
        .map(|()| transcript.finalize())
    })
    .map_err(ProveError::Prove)?;
    let columns = key.layout.first_phase_columns(&witness.shape);
    let advice_commitments = zkmargin_bundle::leading_commitments(&bytes, columns)
        .expect("a proof opens with its advice commitments");
    Ok(Proof {
        bytes,
        instances,
        advice_commitments,
    })
}

/// What a bundle says besides its proofs.
pub struct EpochPublic<'a> {
    /// Every shard's shape.
    pub shape: &'a MarginShape,
    /// The keygen layout the shards were proved with (it places the account data columns).
    pub layout: &'a KeygenParams,
    /// The SRS's label.
    pub srs_label: &'a str,
    /// The config.
    pub config: &'a Config,
    /// `config.toml` as read.
    pub config_toml: &'a str,
    /// `quotes.csv` as read.
    pub quotes_csv: &'a [u8],
    /// The engine's statement.
    pub statement: &'a Statement,
}

/// The bundle of an epoch from its shards' proofs, in table order. Self-check: the shards
/// combine ([`combine_shards`]) into exactly the reference engine's statement.
pub fn assemble(epoch: &EpochPublic<'_>, proofs: Vec<Proof>) -> Result<Bundle, ProveError> {
    let shard_instances: Vec<&[Fr]> = proofs.iter().map(|p| &p.instances[..]).collect();
    let combined = combine_shards(epoch.shape, &shard_instances)?;
    if combined != encode(epoch.shape, epoch.config, epoch.statement)? {
        return Err(ProveError::StatementMismatch);
    }
    let (shards, proofs): (Vec<_>, Vec<_>) = proofs
        .into_iter()
        .map(|p| {
            (
                ShardEntry {
                    account_table_commitment: p.advice_commitments,
                },
                ShardProof {
                    proof: p.bytes,
                    instances: p.instances,
                },
            )
        })
        .unzip();
    Ok(Bundle {
        manifest: Manifest {
            format_version: FORMAT_VERSION,
            shape: epoch.shape.clone(),
            srs: SrsLabel {
                source: epoch.srs_label.to_string(),
                k: epoch.shape.k,
            },
            statement_digest: hex::encode(digest_of(&combined, epoch.statement)),
            shards,
            account_data_columns: account_data_positions(epoch.layout, epoch.shape)
                .ok_or(ProveError::NoTable)?,
            statement: epoch.statement.clone(),
        },
        shards: proofs,
        instances: combined,
        config_toml: epoch.config_toml.to_string(),
        quotes_csv: epoch.quotes_csv.to_vec(),
    })
}
