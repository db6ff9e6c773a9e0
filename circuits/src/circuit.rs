//! Assembly of the margin circuit: public inputs, the oracle for every asset, prices folded
//! into the fine weights, every table row (in parallel chunks, in a fixed order), and the
//! totals exposed as public outputs in the [`crate::encoding`] layout.

use halo2_base::gates::circuit::builder::BaseCircuitBuilder;
use halo2_base::gates::circuit::CircuitBuilderStage;
use halo2_base::gates::flex_gate::threads::parallelize_core;
use halo2_base::gates::{GateInstructions, RangeInstructions};
use halo2_base::{AssignedValue, Context};

use crate::chips::account::{AccountChip, AccountInstructions, MarkCells, RowTotals};
use crate::chips::oracle::{OracleChip, OracleInstructions};
use crate::encoding::{
    AssetInput, AssetOutput, MarketInput, PublicInputs, PublicOutputs, QuoteInput,
};
use crate::shape::MarginShape;
use crate::witness::MarginWitness;
use crate::Fr;

/// Rows per parallel witness-generation context.
const ROWS_PER_CHUNK: usize = 64;

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

/// Partial sums of [`RowTotals`] over a chunk of rows.
struct ChunkTotals {
    balances: Vec<AssignedValue<Fr>>,
    long: Vec<AssignedValue<Fr>>,
    short: Vec<AssignedValue<Fr>>,
    scalars: Vec<AssignedValue<Fr>>,
}

/// Column-wise sums of many rows of cells.
fn sum_columns(
    ctx: &mut Context<Fr>,
    gate: &impl GateInstructions<Fr>,
    rows: &[Vec<AssignedValue<Fr>>],
    width: usize,
) -> Vec<AssignedValue<Fr>> {
    (0..width)
        .map(|c| gate.sum(ctx, rows.iter().map(|r| r[c])))
        .collect()
}

/// `(equity, maintenance, under, shortfall, bad_debt[0..=S])` of a row, flattened.
fn scalars(t: &RowTotals) -> Vec<AssignedValue<Fr>> {
    let mut v = vec![t.equity, t.maintenance, t.under_margined, t.shortfall];
    v.extend(t.bad_debt.iter().copied());
    v
}

/// Synthesizes the circuit for `witness` into `builder` and registers the public instances.
/// Returns the instance values the circuit computed (equal to the statement's encoding for an
/// honest witness).
pub fn build(builder: &mut BaseCircuitBuilder<Fr>, witness: &MarginWitness) -> Vec<Fr> {
    let shape = &witness.shape;
    let range = builder.range_chip();
    let gate = range.gate();

    let (inputs, verdicts, marks, ids) = {
        let ctx = builder.main(0);
        let inputs = load_inputs(ctx, &witness.inputs);
        let oracle = OracleChip { range: &range };
        let verdicts: Vec<_> = inputs
            .assets
            .iter()
            .zip(&witness.medians)
            .map(|(asset, &median)| oracle.assign_asset(ctx, inputs.timestamp, asset, median))
            .collect();
        let medians: Vec<_> = verdicts.iter().map(|v| v.median).collect();
        let marks = MarkCells {
            collateral: (0..shape.cases())
                .map(|j| {
                    inputs
                        .assets
                        .iter()
                        .zip(&medians)
                        .map(|(a, &p)| gate.mul(ctx, p, a.collateral_weights[j]))
                        .collect()
                })
                .collect(),
            mark: (0..shape.cases())
                .map(|j| {
                    inputs
                        .markets
                        .iter()
                        .zip(&shape.underlying)
                        .map(|(m, &u)| gate.mul(ctx, medians[u], m.mark_weights[j]))
                        .collect()
                })
                .collect(),
            maintenance: inputs
                .markets
                .iter()
                .zip(&shape.underlying)
                .map(|(m, &u)| gate.mul(ctx, medians[u], m.maintenance_weight))
                .collect(),
            quote_weight: inputs.quote_weight,
        };
        let ids = ctx.assign_witnesses(witness.rows.iter().map(|r| r.id));
        (inputs, verdicts, marks, ids)
    };

    let chunks: Vec<usize> = (0..witness.rows.len()).step_by(ROWS_PER_CHUNK).collect();
    let partials = parallelize_core(builder.pool(0), chunks, |ctx, start| {
        let chip = AccountChip { range: &range };
        let end = (start + ROWS_PER_CHUNK).min(witness.rows.len());
        let rows: Vec<RowTotals> = (start..end)
            .map(|i| {
                chip.assign_row(
                    ctx,
                    &marks,
                    &witness.rows[i],
                    ids[i],
                    i.checked_sub(1).map(|p| ids[p]),
                )
            })
            .collect();
        let gate = range.gate();
        let pick = |f: &dyn Fn(&RowTotals) -> Vec<AssignedValue<Fr>>| {
            rows.iter().map(f).collect::<Vec<_>>()
        };
        ChunkTotals {
            balances: sum_columns(ctx, gate, &pick(&|r| r.balances.clone()), shape.assets()),
            long: sum_columns(ctx, gate, &pick(&|r| r.long.clone()), shape.markets()),
            short: sum_columns(ctx, gate, &pick(&|r| r.short.clone()), shape.markets()),
            scalars: sum_columns(ctx, gate, &pick(&|r| scalars(r)), 4 + shape.cases()),
        }
    });

    let ctx = builder.main(0);
    let gather = |f: &dyn Fn(&ChunkTotals) -> Vec<AssignedValue<Fr>>| {
        partials.iter().map(f).collect::<Vec<_>>()
    };
    let liabilities = sum_columns(ctx, gate, &gather(&|c| c.balances.clone()), shape.assets());
    let long = sum_columns(ctx, gate, &gather(&|c| c.long.clone()), shape.markets());
    let short = sum_columns(ctx, gate, &gather(&|c| c.short.clone()), shape.markets());
    let totals = sum_columns(
        ctx,
        gate,
        &gather(&|c| c.scalars.clone()),
        4 + shape.cases(),
    );
    let outputs = PublicOutputs {
        assets: verdicts
            .iter()
            .zip(&liabilities)
            .map(|(v, &l)| AssetOutput {
                verdicts: v.verdicts.clone(),
                median: v.median,
                liabilities: l,
            })
            .collect(),
        open_interest: long.into_iter().zip(short).collect(),
        total_equity: totals[0],
        total_maintenance: totals[1],
        under_margined: totals[2],
        total_shortfall: totals[3],
        bad_debt: totals[4..].to_vec(),
    };
    let mut public = inputs.flatten();
    public.extend(outputs.flatten());
    let values = public.iter().map(|c| *c.value()).collect();
    builder.assigned_instances[0].extend(public);
    values
}
