//! [`SlotCircuit`]: one class shard of the slot table, every public value (the instrument
//! table, the instrument totals, the totals, the id range) copied from one instance column in
//! [`Assigned::public_values`] order. The verifier derives the instrument table from the
//! config and the oracle's medians ([`super::public`]); the keys depend on the shape alone
//! ([`keygen`]).

use halo2_base::halo2_proofs::circuit::{Layouter, SimpleFloorPlanner};
use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_base::halo2_proofs::plonk::{
    keygen_pk, keygen_vk, Circuit, Column, ConstraintSystem, Error, Instance, ProvingKey,
    VerifyingKey,
};
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;

use super::witness::{Assigned, SlotWitness};
use super::SlotTableConfig;
use zkmargin_layout::slots::{SlotShape, DATA_COLUMNS};
use zkmargin_layout::Fr;

/// The slot table and its instance column.
#[derive(Debug, Clone)]
pub struct SlotConfig {
    /// The table.
    pub table: SlotTableConfig,
    /// The public values.
    pub instance: Column<Instance>,
}

/// The slot table of one witness.
#[derive(Debug, Clone)]
pub struct SlotCircuit {
    /// Every cell.
    pub assigned: Assigned,
}

impl Circuit<Fr> for SlotCircuit {
    type Config = SlotConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = SlotShape;

    fn params(&self) -> SlotShape {
        self.assigned.shape.clone()
    }

    fn without_witnesses(&self) -> Self {
        self.clone()
    }

    fn configure_with_params(meta: &mut ConstraintSystem<Fr>, shape: SlotShape) -> SlotConfig {
        let instance = meta.instance_column();
        meta.enable_equality(instance);
        SlotConfig {
            table: SlotTableConfig::configure(meta, shape),
            instance,
        }
    }

    fn configure(_: &mut ConstraintSystem<Fr>) -> SlotConfig {
        unreachable!("configured with params")
    }

    fn synthesize(&self, config: SlotConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        let cells = layouter.assign_region(
            || "slot table",
            |mut region| Ok(config.table.assign_first_phase(&mut region, &self.assigned)),
        )?;
        let public = cells
            .instruments
            .iter()
            .flatten()
            .chain(cells.instrument_totals.iter().flatten())
            .chain(&cells.totals)
            .chain(&cells.id_range);
        for (row, &cell) in public.enumerate() {
            layouter.constrain_instance(cell, config.instance, row);
        }
        layouter.next_phase();
        let beta = layouter.get_challenge(config.table.lookup.beta);
        layouter.assign_region(
            || "slot table, second phase",
            |mut region| {
                config
                    .table
                    .assign_second_phase(&mut region, &self.assigned, beta);
                Ok(())
            },
        )?;
        Ok(())
    }
}

impl SlotCircuit {
    /// The circuit of `witness`.
    pub fn new(witness: &SlotWitness) -> Self {
        SlotCircuit {
            assigned: Assigned::new(witness),
        }
    }
}

/// The proving key (and with it the verifying key) of `shape` under `srs` (of size
/// `2^shape.k`), synthesized from [`SlotWitness::blank`]: the keys depend on the shape alone.
pub fn keygen(srs: &ParamsKZG<Bn256>, shape: &SlotShape) -> Result<ProvingKey<G1Affine>, Error> {
    let circuit = SlotCircuit::new(&SlotWitness::blank(shape));
    let vk = keygen_vk(srs, &circuit)?;
    keygen_pk(srs, vk, &circuit)
}

/// The verifying key of `shape` under `srs`, as [`keygen`] makes it (what a verifier
/// rebuilds: never read from a bundle).
pub fn verifying_key(
    srs: &ParamsKZG<Bn256>,
    shape: &SlotShape,
) -> Result<VerifyingKey<G1Affine>, Error> {
    keygen_vk(srs, &SlotCircuit::new(&SlotWitness::blank(shape)))
}

/// The holder's data columns of a `shape` shard, in
/// [`zkmargin_layout::slots::SlotData::flatten`] order: each column's advice index and its
/// position among the first-phase advice commitments the proof opens with.
pub fn data_columns(shape: &SlotShape) -> [(usize, usize); DATA_COLUMNS] {
    let mut cs = ConstraintSystem::<Fr>::default();
    let config = SlotCircuit::configure_with_params(&mut cs, shape.clone());
    let phases = cs.advice_column_phase();
    config.table.data().flatten().map(|c| {
        let index = c.index();
        (index, phases[..index].iter().filter(|&&p| p == 0).count())
    })
}

/// The holder's data columns' entries among a `shape` shard proof's `leading` first-phase
/// commitments (as `zkmargin_bundle::leading_commitments` lists them), in
/// [`zkmargin_layout::slots::SlotData::flatten`] order; `None` unless `leading` holds the
/// shape's [`SlotShape::first_phase_columns`].
pub fn data_commitments<T: Clone>(shape: &SlotShape, leading: &[T]) -> Option<Vec<T>> {
    if leading.len() != shape.first_phase_columns() {
        return None;
    }
    Some(
        data_columns(shape)
            .iter()
            .map(|&(_, p)| leading[p].clone())
            .collect(),
    )
}
