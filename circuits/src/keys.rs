//! Keys from the shape alone. A keygen build synthesizes the circuit on a zero witness of the
//! shape. The constraint system, the column counts and the break points do not depend on the
//! witness, so the prover and an independent verifier derive the same keys from the same
//! shape and SRS.

use halo2_base::gates::circuit::builder::BaseCircuitBuilder;
use halo2_base::gates::circuit::{BaseCircuitParams, CircuitBuilderStage};
use halo2_base::gates::flex_gate::MultiPhaseThreadBreakPoints;
use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_base::halo2_proofs::plonk::{keygen_pk, keygen_vk, Error, ProvingKey, VerifyingKey};
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;

use crate::circuit::{build, new_builder};
use crate::encoding::{AssetInput, MarketInput, PublicInputs, QuoteInput};
use crate::shape::MarginShape;
use crate::witness::{MarginWitness, RowWitness};
use crate::Fr;

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

/// Rows reserved at the bottom of each column for blinding.
pub const BLINDING_ROWS: usize = 20;

/// A witness of the right shape with every value zero (for key generation only).
pub fn zero_witness(shape: &MarginShape) -> MarginWitness {
    let z = Fr::zero();
    let cases = shape.cases();
    MarginWitness {
        shape: shape.clone(),
        inputs: PublicInputs {
            epoch: z,
            timestamp: z,
            prev_digest: [z; 2],
            config_digest: [z; 2],
            assets: shape
                .sources
                .iter()
                .map(|&n| AssetInput {
                    quorum: z,
                    max_deviation_bps: z,
                    max_age_secs: z,
                    collateral_weights: vec![z; cases],
                    quotes: vec![
                        QuoteInput {
                            present: z,
                            signature_ok: z,
                            price: z,
                            timestamp: z
                        };
                        n
                    ],
                })
                .collect(),
            markets: (0..shape.markets())
                .map(|_| MarketInput {
                    mark_weights: vec![z; cases],
                    maintenance_weight: z,
                })
                .collect(),
            quote_weight: z,
            insurance_fund: z,
        },
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
pub struct CircuitLayout {
    pub params: BaseCircuitParams,
    pub break_points: MultiPhaseThreadBreakPoints,
}

/// Synthesizes the keygen circuit for `shape` (column counts fixed, break points not yet).
pub fn keygen_circuit(shape: &MarginShape) -> BaseCircuitBuilder<Fr> {
    let mut builder = new_builder(shape, CircuitBuilderStage::Keygen);
    build(&mut builder, &zero_witness(shape));
    builder.calculate_params(Some(BLINDING_ROWS));
    builder
}

impl CircuitLayout {
    /// Advice columns, lookup-enabled ones included: their commitments open every proof.
    pub fn advice_columns(&self) -> usize {
        self.params.num_advice_per_phase.iter().sum::<usize>()
            + self
                .params
                .num_lookup_advice_per_phase
                .iter()
                .sum::<usize>()
    }
}

/// The layout of a keygen circuit once key generation has laid it out.
fn layout(builder: &BaseCircuitBuilder<Fr>) -> CircuitLayout {
    CircuitLayout {
        params: builder.config_params.clone(),
        break_points: builder.break_points(),
    }
}

/// The verifying key of `shape` under `srs` (which must have exactly 2^k points).
pub fn verifying_key(
    srs: &ParamsKZG<Bn256>,
    shape: &MarginShape,
) -> Result<(VerifyingKey<G1Affine>, CircuitLayout), Error> {
    let builder = keygen_circuit(shape);
    let vk = keygen_vk(srs, &builder)?;
    Ok((vk, layout(&builder)))
}

/// The proving key of `shape` under `srs`.
pub fn proving_key(
    srs: &ParamsKZG<Bn256>,
    shape: &MarginShape,
) -> Result<(ProvingKey<G1Affine>, CircuitLayout), Error> {
    let builder = keygen_circuit(shape);
    let vk = keygen_vk(srs, &builder)?;
    let pk = keygen_pk(srs, vk, &builder)?;
    Ok((pk, layout(&builder)))
}

/// The circuit a prover proves: the witness synthesized with the keygen layout.
pub fn prover_circuit(
    layout: &CircuitLayout,
    witness: &MarginWitness,
) -> (BaseCircuitBuilder<Fr>, Vec<Fr>) {
    let mut builder = new_builder(&witness.shape, CircuitBuilderStage::Prover)
        .use_params(layout.params.clone())
        .use_break_points(layout.break_points.clone());
    let instances = build(&mut builder, witness);
    (builder, instances)
}
