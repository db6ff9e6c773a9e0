//! Honest witnesses satisfy the circuit, and the circuit's public outputs equal the reference
//! engine's statement.

mod common;

use common::*;
use halo2_base::gates::circuit::CircuitBuilderStage;
use zkmargin_circuits::circuit::{build, new_builder};
use zkmargin_circuits::halo2_base;

#[test]
fn honest_demo_shaped_snapshot_is_satisfied_and_matches_engine() {
    let case = small_case();
    let witness = case.witness();
    let mut builder = new_builder(&case.shape, CircuitBuilderStage::Mock);
    let computed = build(&mut builder, &witness);
    let stats = builder.statistics();
    eprintln!(
        "gate cells {:?}, lookup cells {:?}",
        stats.gate.total_advice_per_phase, stats.total_lookup_advice_per_phase
    );
    assert_eq!(
        computed,
        case.instances(),
        "circuit outputs equal the engine's statement encoding"
    );
    mock(&witness, case.instances()).expect("honest witness satisfies every constraint");
}
