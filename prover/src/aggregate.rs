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

use zkmargin_circuits::encoding::ID_RANGE_WORDS;
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

/// The epoch (of one shard) proved with a Poseidon transcript (what the aggregation circuit
/// verifies).
pub fn epoch_snark(
    srs: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    layout: &CircuitLayout,
    epoch: &PreparedEpoch,
) -> Result<Snark, ProveError> {
    if epoch.shards() != 1 {
        return Err(ProveError::Sharded(epoch.shards()));
    }
    let (circuit, instances) = prover_circuit(layout, &epoch.shard_witness(0)?);
    let mut transcript =
        PoseidonTranscript::<NativeLoader, Vec<u8>>::from_spec(vec![], POSEIDON_SPEC.clone());
    create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, _, _>(
        srs,
        pk,
        &[circuit],
        &[&[&instances]],
        proving_rng(&epoch.master_secret, 0),
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
    // The shard's instances end with its id range, which is not part of the statement.
    let shard = &c.previous_instances()[0];
    let statement = shard[..shard.len() - ID_RANGE_WORDS].to_vec();
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
) -> Result<(ProvingKey<G1Affine>, AggregationLayout), halo2_proofs::plonk::Error> {
    let mut c = circuit(
        CircuitBuilderStage::Keygen,
        agg_srs,
        snark,
        default_params(),
        Fr::zero(),
    );
    let params = c.calculate_params(Some(20));
    let vk = keygen_vk(agg_srs, &c)?;
    let pk = keygen_pk(agg_srs, vk, &c)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use halo2_proofs::dev::MockProver;
    use halo2_proofs::plonk::Assigned;
    use snark_verifier_sdk::CircuitExt;
    use zkmargin_bundle::srs::{self, SrsKind};

    /// The aggregation circuit constrains `c` to the compression of the statement its inner
    /// proof verified, at the exposed `r`: the honest circuit passes MockProver, and a forged
    /// `c` (the witness cell and the instance changed together, so only the Horner gates can
    /// object) fails. Ignored: 2^21 rows (about 2 minutes, 5 GB) and the k = 21 development SRS
    /// (generated on first use, about 10 minutes).
    #[test]
    #[ignore]
    fn compressed_statement_is_constrained() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/edge/insolvent");
        let epoch = crate::epoch::prepare(
            &dir,
            [0; 32],
            crate::epoch::Sharding {
                k: Some(12),
                shard_rows: None,
            },
            Some([5; 32]),
        )
        .unwrap();
        let srs_dir = srs::default_dir();
        let srs = srs::load(&srs_dir, SrsKind::Dev, 12).unwrap();
        let (pk, layout) = zkmargin_circuits::keys::proving_key(&srs, &epoch.shape).unwrap();
        let snark = epoch_snark(&srs, &pk, &layout, &epoch).unwrap();
        let shard = &snark.instances[0];
        let statement = shard[..shard.len() - ID_RANGE_WORDS].to_vec();
        let digest = zkmargin_circuits::encoding::digest_of(&statement, &epoch.statement);
        let agg_srs = srs::load(&srs_dir, SrsKind::Dev, AGGREGATION_K).unwrap();
        let r = compression_point(&digest);
        let mut c = circuit(
            CircuitBuilderStage::Mock,
            &agg_srs,
            snark,
            default_params(),
            r,
        );
        c.calculate_params(Some(20));
        let instances = c.instances();
        let honest = compress(&statement, r);
        assert_eq!(instances[0][ACCUMULATOR_WORDS..], [r, honest]);
        MockProver::run(AGGREGATION_K, &c, instances.clone())
            .unwrap()
            .assert_satisfied();

        // `c` is the last cell the circuit assigns: forge it and expose the forgery.
        let forged_c = honest + Fr::one();
        let ctx = c.builder.main(0);
        let last = ctx.advice.len() - 1;
        assert_eq!(ctx.advice[last].evaluate(), honest);
        ctx.advice[last] = Assigned::Trivial(forged_c);
        let mut forged = instances;
        forged[0][ACCUMULATOR_WORDS + 1] = forged_c;
        assert!(
            MockProver::run(AGGREGATION_K, &c, forged)
                .unwrap()
                .verify()
                .is_err(),
            "a compressed statement off the inner proof's statement was accepted"
        );
    }
}
