//! Assembly of the margin circuit: the oracle and the public instances on halo2-base (its flex
//! gate and range chip), and the account table as custom gates ([`crate::table`]), tied
//! together by copy constraints — the table's coefficients equal the oracle side's medians
//! times the public weights, and its final totals equal the public outputs.

use std::collections::BTreeMap;

use halo2_base::gates::circuit::builder::BaseCircuitBuilder;
use halo2_base::gates::circuit::{BaseCircuitParams, BaseConfig, CircuitBuilderStage};
use halo2_base::gates::{GateInstructions, RangeChip};
use halo2_base::halo2_proofs::circuit::{Layouter, SimpleFloorPlanner};
use halo2_base::halo2_proofs::plonk::{Circuit, ConstraintSystem, Error};
use halo2_base::{AssignedValue, Context};

use crate::chips::oracle::{OracleChip, OracleInstructions};
use crate::table::witness::TableWitness;
use crate::table::TableConfig;
use crate::witness::MarginWitness;
use zkmargin_layout::encoding::{
    AssetInput, AssetOutput, MarketInput, PublicInputs, PublicOutputs, QuoteInput,
};
use zkmargin_layout::shape::MarginShape;
use zkmargin_layout::table::{Coef, TableLayout, Total, RESERVED_ROWS};
use zkmargin_layout::Fr;

/// A builder for `shape` at `stage`, before synthesis.
pub fn new_builder(shape: &MarginShape, stage: CircuitBuilderStage) -> BaseCircuitBuilder<Fr> {
    BaseCircuitBuilder::from_stage(stage)
        .use_k(shape.k as usize)
        .use_lookup_bits(shape.lookup_bits)
        .use_instance_columns(1)
}

fn load_inputs(
    ctx: &mut Context<Fr>,
    inputs: &PublicInputs<Fr>,
) -> PublicInputs<AssignedValue<Fr>> {
    let mut load = |v: &Fr| ctx.load_witness(*v);
    PublicInputs {
        epoch: load(&inputs.epoch),
        timestamp: load(&inputs.timestamp),
        prev_digest: [load(&inputs.prev_digest[0]), load(&inputs.prev_digest[1])],
        config_digest: [
            load(&inputs.config_digest[0]),
            load(&inputs.config_digest[1]),
        ],
        assets: inputs
            .assets
            .iter()
            .map(|a| AssetInput {
                quorum: load(&a.quorum),
                max_deviation_bps: load(&a.max_deviation_bps),
                max_age_secs: load(&a.max_age_secs),
                collateral_weights: a.collateral_weights.iter().map(&mut load).collect(),
                quotes: a
                    .quotes
                    .iter()
                    .map(|q| QuoteInput {
                        present: load(&q.present),
                        signature_ok: load(&q.signature_ok),
                        price: load(&q.price),
                        timestamp: load(&q.timestamp),
                    })
                    .collect(),
            })
            .collect(),
        markets: inputs
            .markets
            .iter()
            .map(|m| MarketInput {
                mark_weights: m.mark_weights.iter().map(&mut load).collect(),
                maintenance_weight: load(&m.maintenance_weight),
            })
            .collect(),
        quote_weight: load(&inputs.quote_weight),
        insurance_fund: load(&inputs.insurance_fund),
    }
}

/// The oracle-side cells the account table is tied to.
#[derive(Debug, Clone, Default)]
pub struct TableLinks {
    /// `P·W`, `P·V`, `P·R` and `C`, computed from the constrained medians and public weights.
    pub coefs: BTreeMap<Coef, AssignedValue<Fr>>,
    /// The public outputs the table's totals must equal, in [`TableLayout::totals`] order.
    pub totals: Vec<AssignedValue<Fr>>,
    /// The public first and last account ids the table's must equal.
    pub id_range: Vec<AssignedValue<Fr>>,
}

/// Synthesizes the oracle side for `witness` into `builder` and registers the public instances
/// (inputs, outputs, then the id range, in the [`zkmargin_layout::encoding`] shard layout). `totals` are
/// the table's final totals (in [`TableLayout::totals`] order) and `id_range` its first and last
/// account ids, exposed as outputs and later tied to the table. Returns the links and the
/// instance values.
pub fn build_oracle(
    builder: &mut BaseCircuitBuilder<Fr>,
    witness: &MarginWitness,
    plan: &TableLayout,
    totals: &[Fr],
    id_range: [Fr; 2],
) -> (TableLinks, Vec<Fr>) {
    let shape = &witness.shape;
    let range: RangeChip<Fr> = builder.range_chip();
    let gate = &range.gate;
    let ctx = builder.main(0);
    let inputs = load_inputs(ctx, &witness.inputs);
    let oracle = OracleChip {
        range: &range,
        price_bits: shape.widths.price_bits as usize,
    };
    let verdicts: Vec<_> = inputs
        .assets
        .iter()
        .zip(&witness.medians)
        .map(|(asset, &median)| oracle.assign_asset(ctx, inputs.timestamp, asset, median))
        .collect();

    let mut coefs = BTreeMap::new();
    for case in 0..shape.cases() {
        for (asset, a) in inputs.assets.iter().enumerate() {
            let c = gate.mul(ctx, verdicts[asset].median, a.collateral_weights[case]);
            coefs.insert(Coef::Collateral { case, asset }, c);
        }
        for (market, m) in inputs.markets.iter().enumerate() {
            let price = verdicts[shape.underlying[market]].median;
            let c = gate.mul(ctx, price, m.mark_weights[case]);
            coefs.insert(Coef::Mark { case, market }, c);
        }
    }
    for (market, m) in inputs.markets.iter().enumerate() {
        let price = verdicts[shape.underlying[market]].median;
        let c = gate.mul(ctx, price, m.maintenance_weight);
        coefs.insert(Coef::Maintenance(market), c);
    }
    coefs.insert(Coef::Quote, inputs.quote_weight);

    let total_cells = ctx.assign_witnesses(totals.iter().copied());
    let by_total: BTreeMap<Total, AssignedValue<Fr>> = plan
        .totals
        .iter()
        .map(|(t, _)| *t)
        .zip(total_cells.iter().copied())
        .collect();
    let outputs = PublicOutputs {
        assets: verdicts
            .iter()
            .enumerate()
            .map(|(a, v)| AssetOutput {
                verdicts: v.verdicts.clone(),
                median: v.median,
                liabilities: by_total[&Total::Liability(a)],
            })
            .collect(),
        open_interest: (0..shape.markets())
            .map(|m| (by_total[&Total::Long(m)], by_total[&Total::Short(m)]))
            .collect(),
        total_equity: by_total[&Total::Equity],
        total_maintenance: by_total[&Total::Maintenance],
        under_margined: by_total[&Total::Under],
        total_shortfall: by_total[&Total::Shortfall],
        bad_debt: (0..shape.cases())
            .map(|j| by_total[&Total::BadDebt(j)])
            .collect(),
    };
    let id_cells = ctx.assign_witnesses(id_range);
    let mut public = inputs.flatten();
    public.extend(outputs.flatten());
    public.extend(id_cells.iter().copied());
    let values = public.iter().map(|c| *c.value()).collect();
    builder.assigned_instances[0].extend(public);
    (
        TableLinks {
            coefs,
            totals: total_cells,
            id_range: id_cells,
        },
        values,
    )
}

/// Everything that fixes the constraint system: halo2-base's column layout and the table plan.
#[derive(Debug, Clone, Default)]
pub struct MarginParams {
    /// halo2-base's column counts and lookup bits.
    pub base: BaseCircuitParams,
    /// The account table's layout (`None`: a shape with no table).
    pub plan: Option<TableLayout>,
}

#[derive(Debug, Clone)]
/// The configured columns: halo2-base's and the account table's.
pub struct MarginConfig {
    /// halo2-base's gate and range columns (the oracle side).
    pub base: BaseConfig<Fr>,
    /// The account table's columns, selectors and gates.
    pub table: TableConfig,
}

/// The margin circuit: a synthesized oracle side plus the account table's witness.
pub struct MarginCircuit {
    /// The oracle side, as halo2-base builds it.
    pub builder: BaseCircuitBuilder<Fr>,
    /// The account table's layout.
    pub plan: TableLayout,
    /// The account table's cells.
    pub table: TableWitness,
    /// The cells of the oracle side the table is copy-constrained to.
    pub links: TableLinks,
}

/// halo2-base's pinned layout for the prover: column counts and break points.
pub type BaseLayout = (
    BaseCircuitParams,
    halo2_base::gates::flex_gate::MultiPhaseThreadBreakPoints,
);

impl MarginCircuit {
    /// Builds the circuit for `witness` at `stage` (the oracle side synthesized, the table's
    /// cells computed). Returns it with the public instance values it computed.
    pub fn new(
        stage: CircuitBuilderStage,
        witness: &MarginWitness,
        base: Option<BaseLayout>,
    ) -> (Self, Vec<Fr>) {
        let plan = TableLayout::new(&witness.shape).expect("the shape's table fits 2^k rows");
        let table = TableWitness::new(&plan, witness);
        Self::with_table(stage, witness, plan, table, base)
    }

    /// As [`MarginCircuit::new`] with the table's cells given (tests edit them to check that
    /// every table constraint rejects what it must).
    pub fn with_table(
        stage: CircuitBuilderStage,
        witness: &MarginWitness,
        plan: TableLayout,
        table: TableWitness,
        base: Option<BaseLayout>,
    ) -> (Self, Vec<Fr>) {
        let mut builder = new_builder(&witness.shape, stage);
        if let Some((params, break_points)) = base {
            builder = builder.use_params(params).use_break_points(break_points);
        }
        let (links, instances) =
            build_oracle(&mut builder, witness, &plan, &table.totals, table.id_range);
        (
            MarginCircuit {
                builder,
                plan,
                table,
                links,
            },
            instances,
        )
    }
}

impl Circuit<Fr> for MarginCircuit {
    type Config = MarginConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = MarginParams;

    fn params(&self) -> MarginParams {
        MarginParams {
            base: self.builder.config_params.clone(),
            plan: Some(self.plan.clone()),
        }
    }

    fn without_witnesses(&self) -> Self {
        unimplemented!("keys are generated from a zero witness")
    }

    fn configure_with_params(
        meta: &mut ConstraintSystem<Fr>,
        params: MarginParams,
    ) -> MarginConfig {
        let k = params.base.k;
        let mut base = BaseConfig::configure(meta, params.base);
        let table = TableConfig::configure(meta, params.plan.expect("a table plan"));
        // The table's rotations raise halo2's blinding rows above what halo2-base assumed when
        // it was configured; it must stop where the builder's layout stopped.
        base.set_usable_rows((1 << k) - RESERVED_ROWS);
        assert!(
            meta.minimum_rows() <= RESERVED_ROWS,
            "blinding rows exceed the reserved rows"
        );
        MarginConfig { base, table }
    }

    fn configure(_: &mut ConstraintSystem<Fr>) -> MarginConfig {
        unreachable!("configured with params")
    }

    fn synthesize(
        &self,
        config: MarginConfig,
        mut layouter: impl Layouter<Fr>,
    ) -> Result<(), Error> {
        <BaseCircuitBuilder<Fr> as Circuit<Fr>>::synthesize(
            &self.builder,
            config.base.clone(),
            layouter.namespace(|| "oracle"),
        )?;
        let cells = layouter.assign_region(
            || "account table",
            |mut region| Ok(config.table.assign_first_phase(&mut region, &self.table)),
        )?;
        if !self.builder.witness_gen_only() {
            layouter.assign_region(
                || "table links",
                |mut region| {
                    let copies = self
                        .builder
                        .core()
                        .copy_manager
                        .lock()
                        .expect("copy manager lock");
                    let base_cell = |v: &AssignedValue<Fr>| {
                        *copies
                            .assigned_advices
                            .get(&v.cell.expect("a circuit cell"))
                            .expect("oracle cell assigned")
                    };
                    for (c, cell) in &cells.coefs {
                        region.constrain_equal(*cell, base_cell(&self.links.coefs[c]));
                    }
                    for ((_, cell), v) in cells.totals.iter().zip(&self.links.totals) {
                        region.constrain_equal(*cell, base_cell(v));
                    }
                    for (cell, v) in cells.id_range.iter().zip(&self.links.id_range) {
                        region.constrain_equal(*cell, base_cell(v));
                    }
                    Ok(())
                },
            )?;
        }
        layouter.next_phase();
        let beta = layouter.get_challenge(config.table.lookup.beta);
        layouter.assign_region(
            || "limb lookup",
            |mut region| {
                config
                    .table
                    .assign_second_phase(&mut region, &self.table, beta);
                Ok(())
            },
        )
    }
}
