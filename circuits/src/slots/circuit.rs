//! [`SlotCircuit`]: the slot table proved on its own, every public value (the instrument table,
//! the instrument totals, the totals, the id range) copied from one instance column in
//! [`Assigned::public_values`] order. In the epoch circuit the instrument table will be tied to
//! the oracle side instead of instances.

use halo2_base::halo2_proofs::circuit::{Layouter, SimpleFloorPlanner};
use halo2_base::halo2_proofs::plonk::{Circuit, Column, ConstraintSystem, Error, Instance};

use super::witness::Assigned;
use super::SlotTableConfig;
use zkmargin_layout::slots::SlotShape;
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
