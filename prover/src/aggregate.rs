//! Aggregation for the on-chain path. The direct verifier of an epoch proof is about twice the
//! EIP-170 code limit and costs about 0.8 M gas; snark-verifier's aggregation circuit folds the
//! epoch's shard proofs into one proof of a circuit whose verifier fits mainnet.
//!
//! The aggregation circuit verifies Poseidon-transcript proofs (the in-circuit verifier reads
//! Poseidon), so each shard is proved once more with that transcript, from the same witness and
//! the same proving RNG (so its first-phase commitments, the account table's, equal the
//! bundle's). Its own transcript is Keccak (EVM).
//!
//! **Shards.** The circuit combines the shards exactly as `encoding::combine_shards` does off
//! chain: every shared word (inputs, quote verdicts, medians) is copy-constrained equal across
//! shards, totals are added, and each shard's first id must exceed the previous shard's last id
//! (`check_less_than` over 192 bits: the shard circuits already bound ids below 2^192). The
//! statement it compresses is the combined one.
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

use halo2_base::gates::RangeInstructions;
use halo2_base::AssignedValue;
use zkmargin_circuits::encoding::additive_words;
use zkmargin_circuits::keys::{prover_circuit, CircuitLayout};
use zkmargin_circuits::shape::MarginShape;
use zkmargin_core::account_id::ID_BITS;

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

/// Shard `shard` of the epoch proved with a Poseidon transcript (what the aggregation circuit
/// verifies).
pub fn shard_snark(
    srs: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    layout: &CircuitLayout,
    epoch: &PreparedEpoch,
    shard: usize,
) -> Result<Snark, ProveError> {
    let (circuit, instances) = prover_circuit(layout, &epoch.shard_witness(shard)?);
    let mut transcript =
        PoseidonTranscript::<NativeLoader, Vec<u8>>::from_spec(vec![], POSEIDON_SPEC.clone());
    create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, _, _>(
        srs,
        pk,
        &[circuit],
        &[&[&instances]],
        proving_rng(&epoch.master_secret, shard),
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

/// Every shard of the epoch proved with a Poseidon transcript, in table order.
pub fn shard_snarks(
    srs: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    layout: &CircuitLayout,
    epoch: &PreparedEpoch,
) -> Result<Vec<Snark>, ProveError> {
    (0..epoch.shards())
        .map(|s| shard_snark(srs, pk, layout, epoch, s))
        .collect()
}

/// The aggregation circuit over the shard proofs `snarks` (in table order) of `shape`,
/// exposing the accumulator, then `r` and the compressed combined statement `c` (see the
/// module docs). `r` is a witness here, public through the instance column; the prover sets it
/// to [`compression_point`] of the statement digest.
fn circuit(
    stage: CircuitBuilderStage,
    agg_srs: &ParamsKZG<Bn256>,
    shape: &MarginShape,
    snarks: Vec<Snark>,
    params: AggregationConfigParams,
    r: Fr,
) -> AggregationCircuit {
    let mut c = AggregationCircuit::new::<SHPLONK>(
        stage,
        params,
        agg_srs,
        snarks,
        VerifierUniversality::None,
    );
    let shards = c.previous_instances().clone();
    let additive = additive_words(shape);
    let n = additive.len();
    let range = c.builder.range_chip();
    let gate = GateChip::<Fr>::default();
    let ctx = c.builder.main(0);
    // The combined statement: shard 0's shared words, every shard's totals added up.
    let mut statement: Vec<AssignedValue<Fr>> = shards[0][..n].to_vec();
    for (s, shard) in shards.iter().enumerate().skip(1) {
        for (w, &add) in additive.iter().enumerate() {
            if add {
                statement[w] = gate.add(ctx, statement[w], shard[w]);
            } else {
                ctx.constrain_equal(&statement[w], &shard[w]);
            }
        }
        // Ids strictly increase across shards: last id of shard s − 1 < first id of shard s.
        range.check_less_than(ctx, shards[s - 1][n + 1], shard[n], ID_BITS as usize);
    }
    let r = ctx.load_witness(r);
    let mut acc = ctx.load_zero();
    for s in statement {
        acc = gate.mul_add(ctx, acc, r, s);
    }
    c.builder.assigned_instances[0].extend([r, acc]);
    c
}

/// The default column layout, before `calculate_params` sizes it.
fn default_params() -> AggregationConfigParams {
    AggregationConfigParams {
        degree: AGGREGATION_K,
        lookup_bits: AGGREGATION_LOOKUP_BITS,
        ..Default::default()
    }
}

/// The aggregation circuit's proving key for shard proofs of `shape` shaped like `snarks`
/// (their values do not matter: only their number and protocol, which the verifying key fixes).
pub fn aggregation_key(
    agg_srs: &ParamsKZG<Bn256>,
    shape: &MarginShape,
    snarks: Vec<Snark>,
) -> Result<(ProvingKey<G1Affine>, AggregationLayout), halo2_proofs::plonk::Error> {
    let mut c = circuit(
        CircuitBuilderStage::Keygen,
        agg_srs,
        shape,
        snarks,
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

/// Aggregates the shard proofs `snarks` of `shape`, whose combined statement has digest
/// `digest`, into one proof with a Keccak transcript.
pub fn aggregate(
    agg_srs: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    layout: &AggregationLayout,
    shape: &MarginShape,
    snarks: Vec<Snark>,
    digest: &[u8; 32],
    rng: impl rand::RngCore,
) -> Result<AggregatedProof, ProveError> {
    let c = circuit(
        CircuitBuilderStage::Prover,
        agg_srs,
        shape,
        snarks,
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

    /// The aggregation circuit over two shards: the honest circuit passes MockProver; the same
    /// shards in the wrong order fail (only the id-order check can object); and a forged `c`
    /// (the witness cell and the instance changed together, so only the Horner gates can
    /// object) fails. Ignored: 2^21 rows (several minutes, about 8 GB) and the k = 21
    /// development SRS (generated on first use, about 10 minutes).
    #[test]
    #[ignore]
    fn shards_are_combined_in_order_and_the_statement_compressed() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("snapshot");
        let options = zkmargin_fixtures::GeneratorOptions {
            accounts: 20,
            seed: 3,
            assets: 2,
            markets: 1,
            scenarios: 1,
            ..Default::default()
        };
        zkmargin_fixtures::generate(&options, &dir).unwrap();
        let sharding = crate::epoch::Sharding {
            k: Some(12),
            shard_rows: Some(16),
        };
        let epoch = crate::epoch::prepare(&dir, [0; 32], sharding, Some([5; 32])).unwrap();
        assert_eq!(epoch.shards(), 2);
        let srs_dir = srs::default_dir();
        let srs = srs::load(&srs_dir, SrsKind::Dev, 12).unwrap();
        let (pk, layout) = zkmargin_circuits::keys::proving_key(&srs, &epoch.shape).unwrap();
        let snarks = shard_snarks(&srs, &pk, &layout, &epoch).unwrap();
        let shard_instances: Vec<Vec<Fr>> = snarks.iter().map(|s| s.instances[0].clone()).collect();
        let statement =
            zkmargin_circuits::encoding::combine_shards(&epoch.shape, &shard_instances).unwrap();
        let digest = zkmargin_circuits::encoding::digest_of(&statement, &epoch.statement);
        let agg_srs = srs::load(&srs_dir, SrsKind::Dev, AGGREGATION_K).unwrap();
        let r = compression_point(&digest);
        let mock = |snarks: Vec<Snark>| {
            let mut c = circuit(
                CircuitBuilderStage::Mock,
                &agg_srs,
                &epoch.shape,
                snarks,
                default_params(),
                r,
            );
            c.calculate_params(Some(20));
            c
        };

        let mut c = mock(snarks.clone());
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
            "a compressed statement off the inner proofs' statement was accepted"
        );
        drop(c);

        // Swapped shards: same shared words, same sums, ids out of order.
        let swapped = mock(vec![snarks[1].clone(), snarks[0].clone()]);
        let instances = swapped.instances();
        assert_eq!(instances[0][ACCUMULATOR_WORDS + 1], honest);
        assert!(
            MockProver::run(AGGREGATION_K, &swapped, instances)
                .unwrap()
                .verify()
                .is_err(),
            "shards out of id order were accepted"
        );
    }
}
