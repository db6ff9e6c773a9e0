//! Aggregation for the on-chain path. The direct verifier of an epoch proof is about twice the
//! EIP-170 code limit and costs about 0.8 M gas; snark-verifier's aggregation circuit folds the
//! epoch's shard proofs into one proof of a circuit whose verifier fits mainnet.
//!
//! The aggregation circuit verifies Poseidon-transcript proofs (the in-circuit verifier reads
//! Poseidon), so each shard is proved once more with that transcript, from the same witness and
//! the same proving RNG (so its first-phase commitments, the account table's, equal the
//! bundle's). Its own transcript is Keccak (EVM).
//!
//! **Shards.** The circuit combines the shards exactly as the verifier does off chain
//! (`encoding::combine_shards` for dense shards, `slots::public::combine` for slot shards): every
//! shared word (inputs, quote verdicts, medians; the instrument table) is copy-constrained equal
//! across shards, totals are added, and each shard's first id must exceed the previous shard's
//! last id. That is `check_less_than` over 192 bits, which range-checks `a + 2^192 − b`: sound
//! for any `a, b < p − 2^192` (a shard's first id is below 2^192 and each next id adds at most
//! 2^192, so ids stay below 2^211), complete when consecutive ids differ by at most 2^192. The
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
use zkmargin_circuits::keygen::{prover_circuit, KeygenParams};
use zkmargin_core::account_id::ID_BITS;

use crate::epoch::PreparedEpoch;
use crate::prove::{proving_rng, ProveError};
use crate::report::{phase, Reporter};
use crate::slots::SlotEpoch;
use std::path::Path;
use zkmargin_circuits::slots::circuit::SlotCircuit;
use zkmargin_core::digest::keccak256;
use zkmargin_keys::cache::Origin;

/// The aggregation circuit has 2^21 rows; its range checks use a 2^20-row lookup table.
pub const AGGREGATION_K: u32 = 21;
/// Bits of the aggregation circuit's range-check lookup table.
pub const AGGREGATION_LOOKUP_BITS: usize = 20;
use zkmargin_evm::aggregated::{compression_point, ACCUMULATOR_WORDS};

/// Column counts and break points of the aggregation circuit for one epoch shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AggregationParams {
    /// halo2-base's aggregation configuration.
    pub params: AggregationConfigParams,
    /// Its break points, fixed at keygen.
    pub break_points: MultiPhaseThreadBreakPoints,
}

/// An aggregated proof: `instances` = accumulator limbs ‖ `r` ‖ `c`.
#[derive(Debug, Clone)]
pub struct AggregatedProof {
    /// Accumulator limbs ‖ `r` ‖ `c`.
    pub instances: Vec<Fr>,
    /// The proof (Keccak transcript, for the EVM verifier).
    pub proof: Vec<u8>,
}

impl AggregatedProof {
    /// The accumulator's limbs (the pairing check the verifier finishes).
    pub fn accumulator(&self) -> &[Fr] {
        &self.instances[..ACCUMULATOR_WORDS]
    }
}

/// Shard `shard` of the epoch proved with a Poseidon transcript (what the aggregation circuit
/// verifies).
pub fn shard_snark(
    srs: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    layout: &KeygenParams,
    epoch: &PreparedEpoch,
    shard: usize,
) -> Result<Snark, ProveError> {
    let (circuit, instances) = prover_circuit(layout, &epoch.shard_witness(shard)?);
    let rng = proving_rng(&epoch.master_secret, shard);
    poseidon_snark(srs, pk, circuit, instances, rng, Config::kzg())
}

/// Shard `s` of class index `c` of a slot-table epoch proved with a Poseidon transcript (same
/// witness and proving RNG as its bundle proof), under its class's key.
pub fn slot_shard_snark(
    srs: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    epoch: &SlotEpoch,
    c: usize,
    s: usize,
) -> Result<Snark, ProveError> {
    let circuit = SlotCircuit::new(&epoch.shard_witness(c, s));
    let instances = circuit.assigned.public_values();
    let rng = proving_rng(&epoch.master_secret, epoch.shard_offset(c) + s);
    poseidon_snark(srs, pk, circuit, instances, rng, Config::kzg())
}

/// A SHPLONK proof of `circuit` for `instances` written to `transcript` (a fresh one).
fn shplonk<C, E, T>(
    srs: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    circuit: C,
    instances: &[Fr],
    rng: impl rand::RngCore,
    mut transcript: T,
) -> Result<Vec<u8>, ProveError>
where
    C: halo2_proofs::plonk::Circuit<Fr>,
    E: halo2_proofs::transcript::EncodedChallenge<G1Affine>,
    T: TranscriptWriterBuffer<Vec<u8>, G1Affine, E>,
{
    create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, _, _>(
        srs,
        pk,
        &[circuit],
        &[&[instances]],
        rng,
        &mut transcript,
    )
    .map_err(ProveError::Prove)?;
    Ok(transcript.finalize())
}

/// A proof with a Poseidon transcript (what an aggregation circuit verifies), as a snark whose
/// protocol is compiled with `config` (plus the instance count).
fn poseidon_snark(
    srs: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    circuit: impl halo2_proofs::plonk::Circuit<Fr>,
    instances: Vec<Fr>,
    rng: impl rand::RngCore,
    config: Config,
) -> Result<Snark, ProveError> {
    let transcript =
        PoseidonTranscript::<NativeLoader, Vec<u8>>::from_spec(vec![], POSEIDON_SPEC.clone());
    let proof = shplonk(srs, pk, circuit, &instances, rng, transcript)?;
    let protocol = compile(
        srs,
        pk.get_vk(),
        config.with_num_instance(vec![instances.len()]),
    );
    Ok(Snark::new(protocol, vec![instances], proof))
}

/// Every shard of the epoch proved with a Poseidon transcript, in table order.
pub fn shard_snarks(
    srs: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    layout: &KeygenParams,
    epoch: &PreparedEpoch,
) -> Result<Vec<Snark>, ProveError> {
    (0..epoch.shards())
        .map(|s| shard_snark(srs, pk, layout, epoch, s))
        .collect()
}

/// A proof the aggregation tree folds: a shard proof, or a node proof (whose instances start
/// with its accumulator's limbs, which the parent folds in).
#[derive(Clone)]
pub struct Child {
    /// The proof.
    pub snark: Snark,
    /// Whether it is a node proof (its instances start with an accumulator).
    pub node: bool,
}

/// What an aggregation circuit exposes after its accumulator.
#[derive(Debug, Clone, Copy)]
pub enum Output {
    /// An inner node: its children's combined statement, then their first and last account id
    /// (the layout of a shard's instances, so nodes nest like shards).
    Node,
    /// The root: `r`, then the compressed combined statement `c` (see the module docs). `r` is
    /// a witness, public through the instance column; the prover sets it to
    /// [`compression_point`] of the statement digest.
    Root(Fr),
}

/// The aggregation circuit over `children` (in id order), whose instances (after a node's
/// accumulator) are `n = additive.len()` statement words then the first and last account id:
/// verifies them, combines their statements word by word (`additive[w]`: summed, else equal in
/// every child — `encoding::additive_words` for dense shards, `slots::public::additive_values`
/// for slot shards), and exposes `output`.
fn circuit(
    stage: CircuitBuilderStage,
    agg_srs: &ParamsKZG<Bn256>,
    additive: &[bool],
    children: Vec<Child>,
    params: AggregationConfigParams,
    output: Output,
) -> AggregationCircuit {
    let skips: Vec<usize> = children
        .iter()
        .map(|c| if c.node { ACCUMULATOR_WORDS } else { 0 })
        .collect();
    let mut c = AggregationCircuit::new::<SHPLONK>(
        stage,
        params,
        agg_srs,
        children.into_iter().map(|c| c.snark),
        VerifierUniversality::None,
    );
    // Each child's statement words, then its id range (a node's accumulator is folded in by
    // the succinct verifier, not combined here).
    let parts: Vec<Vec<AssignedValue<Fr>>> = c
        .previous_instances()
        .iter()
        .zip(&skips)
        .map(|(p, &skip)| p[skip..].to_vec())
        .collect();
    let n = additive.len();
    let range = c.builder.range_chip();
    let gate = GateChip::<Fr>::default();
    let ctx = c.builder.main(0);
    let mut statement: Vec<AssignedValue<Fr>> = parts[0][..n].to_vec();
    for (s, part) in parts.iter().enumerate().skip(1) {
        for (w, &add) in additive.iter().enumerate() {
            if add {
                statement[w] = gate.add(ctx, statement[w], part[w]);
            } else {
                ctx.constrain_equal(&statement[w], &part[w]);
            }
        }
        // Ids strictly increase across children: last id of child s − 1 < first id of child s.
        range.check_less_than(ctx, parts[s - 1][n + 1], part[n], ID_BITS as usize);
    }
    let exposed = match output {
        Output::Node => {
            statement.extend([parts[0][n], parts[parts.len() - 1][n + 1]]);
            statement
        }
        Output::Root(r) => {
            let r = ctx.load_witness(r);
            let mut acc = ctx.load_zero();
            for s in statement {
                acc = gate.mul_add(ctx, acc, r, s);
            }
            vec![r, acc]
        }
    };
    c.builder.assigned_instances[0].extend(exposed);
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

/// The proving key of the aggregation circuit over children shaped like `children` (their
/// values do not matter: only their number, kinds and protocols, which the key fixes) that
/// combines them by `additive` (see [`circuit`]).
pub fn aggregation_key(
    agg_srs: &ParamsKZG<Bn256>,
    additive: &[bool],
    children: Vec<Child>,
    root: bool,
) -> Result<(ProvingKey<G1Affine>, AggregationParams), halo2_proofs::plonk::Error> {
    let output = if root {
        Output::Root(Fr::zero())
    } else {
        Output::Node
    };
    let mut c = circuit(
        CircuitBuilderStage::Keygen,
        agg_srs,
        additive,
        children,
        default_params(),
        output,
    );
    let params = c.calculate_params(Some(20));
    let vk = keygen_vk(agg_srs, &c)?;
    let pk = keygen_pk(agg_srs, vk, &c)?;
    let layout = AggregationParams {
        params,
        break_points: c.break_points(),
    };
    Ok((pk, layout))
}

/// The prover's circuit over `children` with the key's layout, and its instances.
fn prover_instance(
    agg_srs: &ParamsKZG<Bn256>,
    layout: &AggregationParams,
    additive: &[bool],
    children: Vec<Child>,
    output: Output,
) -> (AggregationCircuit, Vec<Fr>) {
    let c = circuit(
        CircuitBuilderStage::Prover,
        agg_srs,
        additive,
        children,
        layout.params,
        output,
    )
    .use_break_points(layout.break_points.clone());
    let instances = snark_verifier_sdk::CircuitExt::instances(&c).concat();
    (c, instances)
}

/// An inner node's proof (Poseidon transcript, so a parent can verify it in-circuit), as a
/// child for the next level.
pub fn prove_node(
    agg_srs: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    layout: &AggregationParams,
    additive: &[bool],
    children: Vec<Child>,
    rng: impl rand::RngCore,
) -> Result<Child, ProveError> {
    let (c, instances) = prover_instance(agg_srs, layout, additive, children, Output::Node);
    let config = Config::kzg().with_accumulator_indices(
        <AggregationCircuit as snark_verifier_sdk::CircuitExt<Fr>>::accumulator_indices(),
    );
    Ok(Child {
        snark: poseidon_snark(agg_srs, pk, c, instances, rng, config)?,
        node: true,
    })
}

/// The root's proof over its one child (Keccak transcript, for the EVM verifier), whose
/// combined statement has digest `digest`.
pub fn prove_root(
    agg_srs: &ParamsKZG<Bn256>,
    pk: &ProvingKey<G1Affine>,
    layout: &AggregationParams,
    additive: &[bool],
    child: Child,
    digest: &[u8; 32],
    rng: impl rand::RngCore,
) -> Result<AggregatedProof, ProveError> {
    let output = Output::Root(compression_point(digest));
    let (c, instances) = prover_instance(agg_srs, layout, additive, vec![child], output);
    let transcript = EvmTranscript::<G1Affine, NativeLoader, Vec<u8>, Vec<u8>>::init(Vec::new());
    let proof = shplonk(agg_srs, pk, c, &instances, rng, transcript)?;
    Ok(AggregatedProof { instances, proof })
}

/// An aggregation circuit's proving key and layout.
pub type AggregationKey = (ProvingKey<G1Affine>, AggregationParams);

/// Supplies the aggregation key for children shaped like the given ones (`true`: the root).
pub type KeySource<'a> = dyn FnMut(Vec<Child>, bool) -> Result<AggregationKey, ProveError> + 'a;

/// Folds an epoch's shard proofs (in table order) into one root proof: pairs of children are
/// folded into nodes, level by level (an odd child moves up unchanged), until one child is
/// left; the root (one child, so its verifier stays small enough for EIP-170) compresses the
/// combined statement, whose digest is `digest`. With `root_over_node`, a last child that is
/// a shard is first wrapped in a node of its own, so the root always verifies a node proof
/// (a slot shard's protocol makes a root over it too large for EIP-170).
#[allow(clippy::too_many_arguments)]
pub fn fold(
    agg_srs: &ParamsKZG<Bn256>,
    additive: &[bool],
    shards: Vec<Snark>,
    digest: &[u8; 32],
    root_over_node: bool,
    key: &mut KeySource<'_>,
    mut rng: impl rand::RngCore,
    reporter: &dyn Reporter,
) -> Result<(AggregatedProof, ProvingKey<G1Affine>), ProveError> {
    let mut level: Vec<Child> = shards
        .into_iter()
        .map(|snark| Child { snark, node: false })
        .collect();
    if root_over_node && level.len() == 1 {
        let only = level.clone();
        let (pk, layout) = key(only.clone(), false)?;
        level = vec![phase(reporter, "aggregation node", || {
            prove_node(agg_srs, &pk, &layout, additive, only, &mut rng)
        })?];
    }
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        let mut pending = level.into_iter();
        while let Some(left) = pending.next() {
            match pending.next() {
                Some(right) => {
                    let pair = vec![left, right];
                    let (pk, layout) = key(pair.clone(), false)?;
                    next.push(phase(reporter, "aggregation node", || {
                        prove_node(agg_srs, &pk, &layout, additive, pair, &mut rng)
                    })?);
                }
                None => next.push(left),
            }
        }
        level = next;
    }
    let child = level.pop().expect("at least one shard");
    let (pk, layout) = key(vec![child.clone()], true)?;
    let proof = phase(reporter, "aggregation root", || {
        prove_root(agg_srs, &pk, &layout, additive, child, digest, &mut rng)
    })?;
    Ok((proof, pk))
}

/// The proving key of the aggregation circuit over children like `children` (the root when
/// `root`) combining them by `additive`, cached in `dir` by a name that hashes the combination,
/// each child's kind, verifying key and instance count, the aggregation code, the circuit
/// sources and `Cargo.lock`, the SRS label and `τ·G2`. Returns where it came from.
pub fn load_or_generate_aggregation(
    dir: &Path,
    agg_srs: &ParamsKZG<Bn256>,
    srs_label: &str,
    additive: &[bool],
    children: Vec<Child>,
    root: bool,
) -> Result<(ProvingKey<G1Affine>, AggregationParams, Origin), ProveError> {
    use halo2_proofs::halo2curves::ff::PrimeField;
    use halo2_proofs::halo2curves::group::GroupEncoding;
    let mut id = b"zkmargin/aggregation-key/v4".to_vec();
    id.push(u8::from(root));
    id.extend(additive.iter().map(|&a| u8::from(a)));
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
    zkmargin_keys::cache::load_or_make_for::<AggregationCircuit, _, _>(
        Some(dir),
        &name,
        |layout: &AggregationParams| Some(layout.params),
        || aggregation_key(agg_srs, additive, children, root),
    )
    .map_err(ProveError::Keygen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo2_proofs::dev::MockProver;
    use halo2_proofs::plonk::Assigned;
    use snark_verifier_sdk::CircuitExt;
    use zkmargin_layout::encoding::additive_words;
    use zkmargin_srs::{self as srs, SrsKind};

    /// An aggregation circuit over two shards (the combination `fold` does in its nodes, here
    /// with the root's compression): the honest circuit passes MockProver; a shard of another
    /// epoch fails (only the shared-word equality can object); the same
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
        // The same accounts and salts in another epoch: a foreign shard that keeps the id order
        // and the totals, so only the shared-word equality can object.
        let other_dir = tmp.path().join("other-epoch");
        let other = zkmargin_fixtures::GeneratorOptions {
            epoch: options.epoch + 1,
            ..options.clone()
        };
        zkmargin_fixtures::generate(&other, &other_dir).unwrap();
        let other = crate::epoch::prepare(&other_dir, [0; 32], sharding, Some([5; 32])).unwrap();
        let srs_dir = srs::default_dir();
        let srs = srs::load(&srs_dir, SrsKind::Dev, 12).unwrap();
        let (pk, layout) = zkmargin_circuits::keygen::proving_key(&srs, &epoch.shape).unwrap();
        let snarks = shard_snarks(&srs, &pk, &layout, &epoch).unwrap();
        let shard_instances: Vec<Vec<Fr>> = snarks.iter().map(|s| s.instances[0].clone()).collect();
        let statement =
            zkmargin_layout::encoding::combine_shards(&epoch.shape, &shard_instances).unwrap();
        let digest = zkmargin_layout::encoding::digest_of(&statement, &epoch.statement);
        let agg_srs = srs::load(&srs_dir, SrsKind::Dev, AGGREGATION_K).unwrap();
        let r = compression_point(&digest);
        let mock = |snarks: Vec<Snark>| {
            let children = snarks
                .into_iter()
                .map(|snark| Child { snark, node: false })
                .collect();
            let mut c = circuit(
                CircuitBuilderStage::Mock,
                &agg_srs,
                &additive_words(&epoch.shape),
                children,
                default_params(),
                Output::Root(r),
            );
            c.calculate_params(Some(20));
            c
        };

        let mut c = mock(snarks.clone());
        let instances = c.instances();
        let honest = zkmargin_evm::aggregated::compress(&statement, r);
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

        // A shard of another epoch in place of shard 1.
        let foreign = shard_snark(&srs, &pk, &layout, &other, 1).unwrap();
        let mixed = mock(vec![snarks[0].clone(), foreign]);
        let instances = mixed.instances();
        assert!(
            MockProver::run(AGGREGATION_K, &mixed, instances)
                .unwrap()
                .verify()
                .is_err(),
            "a shard of another epoch was accepted"
        );
        drop(mixed);

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
