//! Prints the constraint system of the bench shape (8 assets, 8 markets, 4 scenarios, 5
//! sources): degree, column counts, the account table's plan, and per gate the number of
//! polynomials and of expression nodes. The prover evaluates every gate polynomial at every
//! point of the extended domain, so these counts drive the quotient's cost.
//!   cargo run --release -p zkmargin-circuits --example gate_stats
use halo2_base::halo2_proofs::plonk::{Circuit, ConstraintSystem, Expression};
use zkmargin_circuits::circuit::MarginCircuit;
use zkmargin_circuits::keygen::keygen_circuit;
use zkmargin_layout::shape::MarginShape;
use zkmargin_layout::table::TableLayout;
use zkmargin_layout::Fr;

/// (multiplications, additions) in an expression tree, before common subexpressions merge.
fn operations(e: &Expression<Fr>) -> (usize, usize) {
    let pair = |a: &Expression<Fr>, b: &Expression<Fr>| {
        let (x, y) = (operations(a), operations(b));
        (x.0 + y.0, x.1 + y.1)
    };
    match e {
        Expression::Sum(a, b) => {
            let (m, s) = pair(a, b);
            (m, s + 1)
        }
        Expression::Product(a, b) => {
            let (m, s) = pair(a, b);
            (m + 1, s)
        }
        Expression::Scaled(a, _) => {
            let (m, s) = operations(a);
            (m + 1, s)
        }
        Expression::Negated(a) => {
            let (m, s) = operations(a);
            (m, s + 1)
        }
        _ => (0, 0),
    }
}

fn main() {
    let shape = MarginShape {
        k: 17,
        lookup_bits: 16,
        rows: 8192,
        sources: vec![5; 8],
        underlying: (0..8).collect(),
        scenarios: 4,
        value_bits: 192,
        widths: Default::default(),
    };
    let circuit = keygen_circuit(&shape);
    let mut cs = ConstraintSystem::<Fr>::default();
    let _ = MarginCircuit::configure_with_params(&mut cs, circuit.params());
    println!(
        "degree {}, advice {}, fixed {}, selectors {}, equality columns {}, lookups {}",
        cs.degree(),
        cs.num_advice_columns(),
        cs.num_fixed_columns(),
        cs.num_selectors(),
        cs.permutation().get_columns().len(),
        cs.lookups().len()
    );
    let p = TableLayout::new(&shape).expect("bench shape has a plan");
    println!(
        "table: {} lanes, {} limb, {} data, {} flag, {} coefficient, {} accumulator columns; \
         blocks of {} rows",
        p.lanes,
        p.limb_columns(),
        p.data_columns,
        p.flag_columns,
        p.coef_columns,
        p.acc_columns,
        p.block_rows
    );
    println!(
        "{:32} {:>6} {:>6} {:>6} {:>6}",
        "gate", "polys", "mults", "adds", "degree"
    );
    for g in cs.gates() {
        let (m, a) = g
            .polynomials()
            .iter()
            .map(operations)
            .fold((0, 0), |x, y| (x.0 + y.0, x.1 + y.1));
        let degree = g
            .polynomials()
            .iter()
            .map(|p| p.degree())
            .max()
            .unwrap_or(0);
        println!(
            "{:32} {:>6} {:>6} {:>6} {:>6}",
            g.name(),
            g.polynomials().len(),
            m,
            a,
            degree
        );
    }
}
