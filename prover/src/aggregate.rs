//! Aggregation for the on-chain path. The direct verifier of an epoch proof is about twice the
//! EIP-170 code limit and costs about 0.8 M gas; snark-verifier's aggregation circuit folds the
//! epoch proof into one proof of a small circuit whose verifier fits mainnet.
//!
//! The aggregation circuit verifies a Poseidon-transcript proof (the in-circuit verifier reads
//! Poseidon), so the epoch circuit is proved once more with that transcript, from the same
//! witness and the same proving RNG (so its first-phase commitments, the account table's, equal
//! the bundle's). Its own transcript is Keccak (EVM).
//!
//! **Instances.** Each instance costs the EVM verifier about 130 bytes of code, and EIP-170
//! caps it at 24,576 bytes, so the statement (45 to 300+ words) is not exposed word by word.
//! The aggregated proof has 14 instances: the accumulator's 12 limbs, then `r` and
//! `c = Σ_i s_i·r^(n−1−i)` (Horner, over the epoch statement `s` as the inner proof has it).
//! The registry sets `r` = the statement digest mod p, which it computes from the words it
//! was given, and `c` from the same words. A forged statement `s' ≠ s` passes only if its own
//! digest is a root of the nonzero polynomial `Σ (s'_i − s_i)·X^(n−1−i)`: probability ≤ n/p per
//! digest tried, with the digest a Keccak output (Schwartz–Zippel).

use halo2_base::gates::circuit::CircuitBuilderStage;
use halo2_base::gates::flex_gate::MultiPhaseThreadBreakPoints;
use halo2_base::gates::{GateChip, GateInstructions};
use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::plonk::{create_proof, keygen_pk, keygen_vk, ProvingKey};
use halo2_proofs::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_proofs::poly::kzg::multiopen::ProverSHPLONK;
use halo2_proofs::transcript::TranscriptWriterBuffer;
use serde::{Deserialize, Serialize};
use snark_verifier_sdk::halo2::aggregation::{
    AggregationCircuit, AggregationConfigParams, VerifierUniversality,
};
use snark_verifier_sdk::halo2::{PoseidonTranscript, POSEIDON_SPEC};
use snark_verifier_sdk::snark_verifier::loader::native::NativeLoader;
use snark_verifier_sdk::snark_verifier::system::halo2::transcript::evm::EvmTranscript;
use snark_verifier_sdk::snark_verifier::system::halo2::{compile, Config};
use snark_verifier_sdk::{Snark, SHPLONK};

use zkmargin_circuits::keys::{prover_circuit, CircuitLayout};

use crate::epoch::PreparedEpoch;
use crate::prove::{proving_rng, ProveError};

/// The aggregation circuit has 2^21 rows; its range checks use a 2^20-row lookup table.
pub const AGGREGATION_K: u32 = 21;
pub const AGGREGATION_LOOKUP_BITS: usize = 20;
pub use zkmargin_evm::aggregated::{compress, compression_point, ACCUMULATOR_WORDS};

/// Column counts and break points of the aggregation circuit for one epoch shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AggregationLayout {
    pub params: AggregationConfigParams,
    pub break_points: MultiPhaseThreadBreakPoints,
}

/// An aggregated proof: `instances` = accumulator limbs ‖ `r` ‖ `c`.
#[derive(Debug, Clone)]
pub struct AggregatedProof {
    pub instances: Vec<Fr>,
    pub proof: Vec<u8>,
}

impl AggregatedProof {
    pub fn accumulator(&self) -> &[Fr] {
        &self.instances[..ACCUMULATOR_WORDS]
    }
}

/// The epoch proved with a Poseidon transcript (what the aggregation circuit verifies).
pub fn epoch_snark(
    srs: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    layout: &CircuitLayout,
    epoch: &PreparedEpoch,
) -> Result<Snark, ProveError> {
    let (circuit, instances) = prover_circuit(layout, &epoch.witness);
    let mut transcript =
        PoseidonTranscript::<NativeLoader, Vec<u8>>::from_spec(vec![], POSEIDON_SPEC.clone());
    create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, _, _>(
        srs,
        pk,
        &[circuit],
        &[&[&instances]],
        proving_rng(&epoch.master_secret),
        &mut transcript,
    )
    .map_err(ProveError::Prove)?;
    let protocol = compile(
        srs,
        pk.get_vk(),
        Config::kzg().with_num_instance(vec![instances.len()]),
    );
    Ok(Snark::new(protocol, vec![instances], transcript.finalize()))
}

/// The aggregation circuit over `snark`, exposing the accumulator, then `r` and the
/// compressed statement `c` (see the module docs). `r` is a witness here, public through the
/// instance column; the prover sets it to [`compression_point`] of the statement digest.
fn circuit(
    stage: CircuitBuilderStage,
    agg_srs: &ParamsKZG<Bn256>,
    snark: Snark,
    params: AggregationConfigParams,
    r: Fr,
) -> AggregationCircuit {
    let mut c = AggregationCircuit::new::<SHPLONK>(
        stage,
        params,
        agg_srs,
        [snark],
        VerifierUniversality::None,
    );
    let statement = c.previous_instances()[0].clone();
    let gate = GateChip::<Fr>::default();
    let ctx = c.builder.main(0);
    let r = ctx.load_witness(r);
    let mut acc = ctx.load_zero();
    for s in statement {
        acc = gate.mul_add(ctx, acc, r, s);
    }
    c.builder.assigned_instances[0].extend([r, acc]);
    c
}

fn default_params() -> AggregationConfigParams {
    AggregationConfigParams {
        degree: AGGREGATION_K,
        lookup_bits: AGGREGATION_LOOKUP_BITS,
        ..Default::default()
    }
}

/// The aggregation circuit's proving key for snarks shaped like `snark` (its values do not
/// matter: only its protocol, which the verifying key fixes).
pub fn aggregation_key(
    agg_srs: &ParamsKZG<Bn256>,
    snark: Snark,
) -> Result<(ProvingKey<G1Affine>, AggregationLayout), ProveError> {
    let mut c = circuit(
        CircuitBuilderStage::Keygen,
        agg_srs,
        snark,
        default_params(),
        Fr::zero(),
    );
    let params = c.calculate_params(Some(20));
    let vk = keygen_vk(agg_srs, &c).map_err(ProveError::Keygen)?;
    let pk = keygen_pk(agg_srs, vk, &c).map_err(ProveError::Keygen)?;
    let layout = AggregationLayout {
        params,
        break_points: c.break_points(),
    };
    Ok((pk, layout))
}

/// Aggregates `snark`, whose statement has digest `digest`, into one proof with a Keccak
/// transcript.
pub fn aggregate(
    agg_srs: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    layout: &AggregationLayout,
    snark: Snark,
    digest: &[u8; 32],
    rng: impl rand::RngCore,
) -> Result<AggregatedProof, ProveError> {
    let c = circuit(
        CircuitBuilderStage::Prover,
        agg_srs,
        snark,
        layout.params,
        compression_point(digest),
    )
    .use_break_points(layout.break_points.clone());
    let instances = snark_verifier_sdk::CircuitExt::instances(&c).concat();
    let mut transcript =
        EvmTranscript::<G1Affine, NativeLoader, Vec<u8>, Vec<u8>>::init(Vec::new());
    create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, _, _>(
        agg_srs,
        pk,
        &[c],
        &[&[&instances]],
        rng,
        &mut transcript,
    )
    .map_err(ProveError::Prove)?;
    Ok(AggregatedProof {
        instances,
        proof: transcript.finalize(),
    })
}
