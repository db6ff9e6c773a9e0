//! The account table's own constraints, each isolated: a table witness edited so that exactly
//! one constraint family is violated must be rejected by `MockProver`, by the constraint of
//! that family (its name, with the formula beside it, is asserted).

mod common;

use common::*;
use halo2_base::gates::circuit::CircuitBuilderStage;
use halo2_base::halo2_proofs::dev::MockProver;
use zkmargin_circuits::circuit::MarginCircuit;
use zkmargin_circuits::table::witness::{sentinel, TableWitness};
use zkmargin_circuits::witness::MarginWitness;
use zkmargin_layout::field::pow2;
use zkmargin_layout::table::{Aux, Checked, TableLayout, Total, RESERVED_ROWS};
use zkmargin_layout::Fr;

/// Runs the circuit with `edit` applied to its table cells, against the instances it computes.
fn run_edited(witness: &MarginWitness, edit: impl FnOnce(&TableLayout, &mut TableWitness)) -> bool {
    failing_gates(witness, edit).is_empty()
}

/// Asserts that `edit` is rejected, and that one failed constraint's name contains `name`.
fn rejected_by(
    witness: &MarginWitness,
    edit: impl FnOnce(&TableLayout, &mut TableWitness),
    name: &str,
    what: &str,
) {
    let failed = failing_gates(witness, edit);
    assert!(
        failed.iter().any(|f| f.contains(name)),
        "{what}: expected `{name}` to fail, failed: {failed:?}"
    );
}

#[test]
fn unedited_table_is_accepted() {
    let w = small_case().witness();
    assert!(run_edited(&w, |_, _| {}));
}

#[test]
fn a_limb_outside_the_table_is_caught_by_the_lookup() {
    // Move 2^b from limb 1 into limb 0 of the id gap (a large random value): the lane still
    // recomposes, only the logUp range check can object.
    let case = small_case();
    let w = case.witness();
    for block in [0, 5, case.accounts.len() - 1] {
        let edit = |plan: &TableLayout, t: &mut TableWitness| {
            let p = plan.checked[&Checked::Gap];
            let row = block * plan.block_rows + p.row;
            let (l0, l1) = (p.lane * 4, p.lane * 4 + 1);
            assert!(
                t.limbs[l1][row] > 0,
                "a random gap has a non-zero second limb"
            );
            t.limbs[l1][row] -= 1;
            t.limbs[l0][row] += 1 << plan.limb_bits;
        };
        let what = format!("an out-of-range limb in block {block}");
        rejected_by(&w, edit, "running sum ends at 0", &what);
    }
}

#[test]
fn coefficients_must_repeat_in_every_block() {
    // The tail block's coefficients feed no arithmetic: only the repetition gate reads them.
    let w = small_case().witness();
    rejected_by(
        &w,
        |plan, t| {
            let tail = plan.blocks * plan.block_rows;
            t.coef[0][tail] += Fr::one();
        },
        "coef column 0: c = c of the next block",
        "a tail coefficient moved",
    );
}

#[test]
fn totals_must_start_from_zero() {
    // Shift one running total by the same amount in every block (so every step still adds
    // the block's contribution) and the final total with it: only "block 0 starts at 0" fails.
    let w = small_case().witness();
    let edit = |plan: &TableLayout, t: &mut TableWitness| {
        let (i, (_, slot)) = plan
            .totals
            .iter()
            .enumerate()
            .find(|(_, (total, _))| *total == Total::Liability(0))
            .expect("a liability total");
        for block in 0..=plan.blocks {
            t.acc[slot.column][block * plan.block_rows + slot.row] += Fr::from(7u64);
        }
        t.totals[i] += Fr::from(7u64);
    };
    rejected_by(
        &w,
        edit,
        "Liability(0): acc = 0 at the first block",
        "a shifted running total",
    );
}

#[test]
fn the_public_id_range_is_the_tables_first_and_last_id() {
    // The oracle side's copy of the id range moves, with the instances it computes: only the
    // copy constraints to the table's first and last id cells can object.
    let w = small_case().witness();
    for end in 0..2 {
        rejected_by(
            &w,
            |_, t| t.id_range[end] += Fr::one(),
            "copy constraint",
            &format!("id range end {end} detached from the table"),
        );
    }
}

#[test]
fn the_tail_id_is_the_sentinel() {
    // A tail id above the sentinel (which would let every id grow past 2^192), with a
    // consistent gap: only the sentinel gate fails.
    let w = small_case().witness();
    let last = w.rows[w.shape.rows - 1].id;
    rejected_by(
        &w,
        |plan, t| {
            let id = sentinel() + Fr::from(1000u64);
            *t.aux_mut(plan, plan.blocks, Aux::Id) = id;
            t.set_checked(plan, plan.blocks, Checked::Gap, id - last - Fr::one());
        },
        "tail: id = 2^ID_BITS − 1",
        "a tail id above the sentinel",
    );
    // The consistent rewrite itself is accepted when the id is the sentinel.
    assert!(run_edited(&w, |plan, t| {
        t.set_checked(
            plan,
            plan.blocks,
            Checked::Gap,
            sentinel() - last - Fr::one(),
        );
    }));
}

#[test]
fn the_first_id_has_no_predecessor_below_zero() {
    // Block 0's gap must equal its id: a gap of id − 1 (as if a predecessor 0 existed) fails.
    let w = small_case().witness();
    let first = w.rows[0].id;
    rejected_by(
        &w,
        |plan, t| t.set_checked(plan, 0, Checked::Gap, first - Fr::one()),
        "first account: gap = id",
        "block 0 with a predecessor",
    );
}

#[test]
fn every_lane_row_recomposes_its_limbs() {
    // One limb of one lane-row moved by one (still in range) breaks only that row's
    // recomposition; an unused lane-row (no limbs) set to 1 breaks only its zero constraint.
    // Every lane-row of a block is tried, so each lane-row role has its constraint exercised.
    let w = small_case().witness();
    let plan = TableLayout::new(&w.shape).expect("plan");
    let block = 2;
    for lane in 0..plan.lanes {
        for r in 0..plan.block_rows {
            let row = block * plan.block_rows + r;
            let role = plan.lane_row_role(lane, r);
            let edit = |plan: &TableLayout, t: &mut TableWitness| {
                if role.limbs == 0 {
                    assert_eq!(t.values[lane][row], Fr::zero(), "unused lane-rows hold 0");
                    t.values[lane][row] = Fr::one();
                } else {
                    let limb = &mut t.limbs[lane * 4][row];
                    *limb = if *limb == 0 { 1 } else { *limb - 1 };
                    assert!(*limb < 1 << plan.limb_bits);
                }
            };
            let what = format!("lane {lane}, block row {r} ({role:?})");
            rejected_by(&w, edit, "range of ", &what);
        }
    }
}

#[test]
fn surplus_and_equity_lanes_are_bound_to_the_inputs() {
    // An equity lane one unit off the account's inputs fails its arithmetic gate even though
    // the lane itself recomposes and is in range.
    let w = small_case().witness();
    for (c, name) in [
        (
            Checked::Equity(0),
            "equity[0]: lane = E_j + negative_j · 2^B",
        ),
        (
            Checked::Equity(2),
            "equity[2]: lane = E_j + negative_j · 2^B",
        ),
        (Checked::Surplus, "surplus: lane = E − MM + under · 2^B"),
    ] {
        let edit = |plan: &TableLayout, t: &mut TableWitness| {
            let p = plan.checked[&c];
            let v = t.values[p.lane][3 * plan.block_rows + p.row] + Fr::one();
            t.set_checked(plan, 3, c, v);
        };
        rejected_by(&w, edit, name, &format!("{c:?} edited"));
    }
}

#[test]
fn account_data_must_equal_its_lanes() {
    // Inclusion proofs open the data columns: each datum must be the range-checked lane value
    // the margin arithmetic used (a cost through its 2^127 offset).
    let w = small_case().witness();
    for (a, name) in [
        (Aux::Balance(1), "balance[1]: lane = data"),
        (Aux::Size(2), "size[2]: lane = |size| − short"),
        (Aux::Cost(0), "cost[0]: lane = cost + 2^(cost_bits − 1)"),
    ] {
        rejected_by(
            &w,
            |plan, t| *t.aux_mut(plan, 4, a) += Fr::one(),
            name,
            &format!("{a:?} edited"),
        );
    }
    let cost = w.rows[4].costs[0];
    assert!(run_edited(&w, |plan, t| {
        assert_eq!(
            *t.aux_mut(plan, 4, Aux::Cost(0)),
            cost,
            "data holds the signed cost"
        );
    }));
}

#[test]
fn sign_flags_must_be_bits() {
    // Without "flags are bits", a flag f' = (t − x)/2^B puts any small t in the lane of x + f·2^B
    // (so the range check passes) and turns bad debt or shortfall into garbage. The witness is
    // rebuilt from the edited hint, so lanes, contributions and totals stay consistent and only
    // the bit constraint can object.
    let w = small_case().witness();
    let plan = TableLayout::new(&w.shape).unwrap();
    let table = TableWitness::new(&plan, &w);
    let shift = pow2(plan.value_bits);
    let r = 3;
    let lane = |c: Checked| {
        let p = plan.checked[&c];
        table.values[p.lane][r * plan.block_rows + p.row]
    };
    let forged = |lane_value: Fr, honest_flag: Fr| {
        let x = lane_value - honest_flag * shift;
        (Fr::from(5u64) - x) * shift.invert().unwrap()
    };
    let mut negative = w.clone();
    negative.rows[r].equity_negative[1] =
        forged(lane(Checked::Equity(1)), w.rows[r].equity_negative[1]);
    rejected_by(
        &negative,
        |_, _| {},
        "Negative(1): f · (1 − f) = 0",
        "non-bit negative-equity flag",
    );
    let mut under = w.clone();
    under.rows[r].under_margined = forged(lane(Checked::Surplus), w.rows[r].under_margined);
    rejected_by(
        &under,
        |_, _| {},
        "Under: f · (1 − f) = 0",
        "non-bit under-margined flag",
    );
}

/// What `MockProver` reports for the table with `edit` applied, against the instances it
/// computes: the names of the unsatisfied constraints ([`failure_names`]), empty when the
/// table is accepted.
fn failing_gates(
    witness: &MarginWitness,
    edit: impl FnOnce(&TableLayout, &mut TableWitness),
) -> Vec<String> {
    let plan = TableLayout::new(&witness.shape).expect("plan");
    let mut table = TableWitness::new(&plan, witness);
    edit(&plan, &mut table);
    let (mut circuit, instances) =
        MarginCircuit::with_table(CircuitBuilderStage::Mock, witness, plan, table, None);
    circuit.builder.calculate_params(Some(RESERVED_ROWS));
    let Err(failures) = MockProver::run(witness.shape.k, &circuit, vec![instances])
        .expect("synthesizes")
        .verify()
    else {
        return Vec::new();
    };
    failure_names(&failures)
}

#[test]
fn a_zero_size_cannot_be_short() {
    // `-0` would be a second encoding of an empty position: a short flag on a zero size leaves
    // every total and equity unchanged (0 · anything), so only the size lane `|size| − short`
    // (range-checked, so a short has |size| ≥ 1) can object.
    let w = small_case().witness();
    let (block, market) = (0..w.rows.len())
        .flat_map(|b| (0..w.shape.markets()).map(move |m| (b, m)))
        .find(|&(b, m)| w.rows[b].size_abs[m] == Fr::zero())
        .expect("an account without a position in some market");
    assert_eq!(
        failing_gates(&w, |plan, t| *t.aux_mut(plan, block, Aux::Short(market)) =
            Fr::one()),
        [format!("size[{market}]: lane = |size| − short")]
    );
    // A short position of one unit is accepted: the lane holds |size| − 1 = 0.
    let shorts = (0..w.rows.len())
        .flat_map(|b| (0..w.shape.markets()).map(move |m| (b, m)))
        .find(|&(b, m)| w.rows[b].size_negative[m] == Fr::one());
    assert!(shorts.is_some(), "the case has a short position");
    assert!(failing_gates(&w, |_, _| {}).is_empty());
}
