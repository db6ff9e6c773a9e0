//! Honest witnesses satisfy the circuit, and the circuit's public outputs equal the reference
//! engine's statement.

mod common;

use common::*;
use zkmargin_circuits::keygen::mock_circuit;

#[test]
fn honest_demo_shaped_snapshot_is_satisfied_and_matches_engine() {
    let case = small_case();
    let witness = case.witness();
    let (circuit, computed) = mock_circuit(&witness);
    eprintln!(
        "table: {} lanes × {} rows per block, {} committed columns",
        circuit.plan.lanes,
        circuit.plan.block_rows,
        circuit.plan.committed_columns()
    );
    assert_eq!(
        computed,
        case.instances(),
        "circuit outputs equal the engine's statement encoding"
    );
    mock(&witness, case.instances()).expect("honest witness satisfies every constraint");
}
