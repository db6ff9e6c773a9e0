//! Keys from the shape alone. A keygen build synthesizes the circuit on a zero witness of the
//! shape. The constraint system, the column counts and the break points do not depend on the
//! witness, so the prover and an independent verifier derive the same keys from the same
//! shape and SRS.

use halo2_base::gates::circuit::{BaseCircuitParams, CircuitBuilderStage};
use halo2_base::gates::flex_gate::MultiPhaseThreadBreakPoints;
use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_base::halo2_proofs::plonk::{
    keygen_pk, keygen_vk_custom, Error, ProvingKey, VerifyingKey,
};
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;

use crate::circuit::{MarginCircuit, MarginParams};
use crate::witness::{MarginWitness, RowWitness};
use zkmargin_layout::encoding::PublicInputs;
use zkmargin_layout::shape::MarginShape;
use zkmargin_layout::table::RESERVED_ROWS;
use zkmargin_layout::Fr;

/// The file name (without extension) under which keys for `shape` under `srs` are cached:
/// Keccak-256 of the shape, [`crate::CIRCUIT_VERSION`], [`crate::CIRCUIT_SOURCE_HASH`], the SRS
/// label and `τ·G2`, so a cached key is never reused across circuits, code or setups.
pub fn cache_name(srs: &ParamsKZG<Bn256>, srs_label: &str, shape: &MarginShape) -> String {
    use halo2_base::halo2_proofs::halo2curves::group::GroupEncoding;
    let mut id = serde_json::to_vec(shape).expect("shape serializes");
    id.extend_from_slice(&crate::CIRCUIT_VERSION.to_be_bytes());
    id.extend_from_slice(crate::CIRCUIT_SOURCE_HASH.as_bytes());
    id.extend_from_slice(srs_label.as_bytes());
    id.extend_from_slice(srs.s_g2().to_bytes().as_ref());
    let digest = zkmargin_core::digest::keccak256(&id);
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// A witness of the right shape with every value zero (for key generation only).
pub fn zero_witness(shape: &MarginShape) -> MarginWitness {
    let z = Fr::zero();
    let cases = shape.cases();
    MarginWitness {
        shape: shape.clone(),
        inputs: PublicInputs::filled(shape, z, z),
        medians: vec![z; shape.assets()],
        rows: vec![
            RowWitness {
                id: z,
                balances: vec![z; shape.assets()],
                size_abs: vec![z; shape.markets()],
                size_negative: vec![z; shape.markets()],
                costs: vec![z; shape.markets()],
                equity_negative: vec![z; cases],
                under_margined: z,
            };
            shape.rows
        ],
    }
}

/// The column layout and break points a shape needs.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct KeygenParams {
    /// halo2-base's column counts and lookup bits, as keygen fixed them.
    pub params: BaseCircuitParams,
    /// halo2-base's break points, as keygen fixed them.
    pub break_points: MultiPhaseThreadBreakPoints,
}

/// Synthesizes the keygen circuit for `shape` (column counts fixed, break points not yet).
pub fn keygen_circuit(shape: &MarginShape) -> MarginCircuit {
    let (mut circuit, _) =
        MarginCircuit::new(CircuitBuilderStage::Keygen, &zero_witness(shape), None);
    circuit.builder.calculate_params(Some(RESERVED_ROWS));
    circuit
}

/// A circuit for `witness` run by `MockProver` (constraints recorded), with the instances it
/// computed.
pub fn mock_circuit(witness: &MarginWitness) -> (MarginCircuit, Vec<Fr>) {
    let (mut circuit, instances) = MarginCircuit::new(CircuitBuilderStage::Mock, witness, None);
    circuit.builder.calculate_params(Some(RESERVED_ROWS));
    (circuit, instances)
}

impl KeygenParams {
    /// The circuit parameters (what `configure` needs) of `shape` laid out like this.
    pub fn margin_params(&self, shape: &MarginShape) -> Option<MarginParams> {
        Some(MarginParams {
            base: self.params.clone(),
            plan: Some(zkmargin_layout::table::TableLayout::new(shape)?),
        })
    }

    /// First-phase advice columns (halo2-base's and the account table's): their commitments
    /// open every proof, and they commit to the whole account table.
    pub fn first_phase_columns(&self, shape: &MarginShape) -> usize {
        let base = self.params.num_advice_per_phase.iter().sum::<usize>()
            + self
                .params
                .num_lookup_advice_per_phase
                .iter()
                .sum::<usize>();
        base + zkmargin_layout::table::TableLayout::new(shape)
            .map_or(0, |p| p.first_phase_columns())
    }
}

/// Selectors are compressed into fewer fixed columns (never raising the gate degree): the
/// prover evaluates every fixed column on the extended domain, so each one costs time.
const COMPRESS_SELECTORS: bool = true;

/// The layout of a keygen circuit once key generation has laid it out.
fn layout(circuit: &MarginCircuit) -> KeygenParams {
    KeygenParams {
        params: circuit.builder.config_params.clone(),
        break_points: circuit.builder.break_points(),
    }
}

/// The verifying key of `shape` under `srs` (which must have exactly 2^k points).
pub fn verifying_key(
    srs: &ParamsKZG<Bn256>,
    shape: &MarginShape,
) -> Result<(VerifyingKey<G1Affine>, KeygenParams), Error> {
    let circuit = keygen_circuit(shape);
    let vk = keygen_vk_custom(srs, &circuit, COMPRESS_SELECTORS)?;
    Ok((vk, layout(&circuit)))
}

/// The proving key of `shape` under `srs`.
pub fn proving_key(
    srs: &ParamsKZG<Bn256>,
    shape: &MarginShape,
) -> Result<(ProvingKey<G1Affine>, KeygenParams), Error> {
    let circuit = keygen_circuit(shape);
    let vk = keygen_vk_custom(srs, &circuit, COMPRESS_SELECTORS)?;
    let pk = keygen_pk(srs, vk, &circuit)?;
    Ok((pk, layout(&circuit)))
}

/// The circuit a prover proves: the witness synthesized with the keygen layout.
pub fn prover_circuit(layout: &KeygenParams, witness: &MarginWitness) -> (MarginCircuit, Vec<Fr>) {
    MarginCircuit::new(
        CircuitBuilderStage::Prover,
        witness,
        Some((layout.params.clone(), layout.break_points.clone())),
    )
}

/// The account data columns of `shape` laid out like `layout`: for each data column, its
/// advice column index and its position among the first-phase commitments that open the proof.
pub fn data_columns(layout: &KeygenParams, shape: &MarginShape) -> Option<Vec<(usize, usize)>> {
    use halo2_base::halo2_proofs::plonk::{Circuit, ConstraintSystem};
    let mut cs = ConstraintSystem::<Fr>::default();
    let config = MarginCircuit::configure_with_params(&mut cs, layout.margin_params(shape)?);
    let phases = cs.advice_column_phase();
    Some(
        config
            .table
            .data
            .iter()
            .map(|c| {
                let index = c.index();
                (index, phases[..index].iter().filter(|&&p| p == 0).count())
            })
            .collect(),
    )
}

/// Positions of the account data columns among the first-phase advice commitments (what a
/// manifest's `account_data_columns` must say).
pub fn account_data_positions(layout: &KeygenParams, shape: &MarginShape) -> Option<Vec<usize>> {
    Some(
        data_columns(layout, shape)?
            .into_iter()
            .map(|(_, p)| p)
            .collect(),
    )
}
