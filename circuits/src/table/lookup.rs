//! `LimbLookup`: a logarithmic-derivative (logUp) range check of every cell of the limb columns
//! against the table `0..2^b`, in one argument for all columns.
//!
//! After the limbs `l` and the multiplicities `m` (first phase) are committed, a challenge `β`
//! is drawn and the second phase proves
//!
//! ```text
//! Σ_{rows < N} Σ_{limb columns} 1/(β − l)  =  Σ_{rows < N} m(row) / (β − t(row))
//! ```
//!
//! with `t(row) = row` for `row < 2^b` and 0 after. Helper columns hold
//! `h = Σ_{i ∈ group} 1/(β − l_i)` for groups of [`LIMBS_PER_HELPER`] limb columns (gate
//! `h · Π(β − l_i) = Σ_i Π_{j≠i}(β − l_j)`), and a running sum `Z` with `Z(0) = 0`,
//! `Z(N) = 0` and `(Z(next) − Z − Σ h) · (β − t) + m = 0` on rows `0..N`.
//! As rational functions in `β` the left side has a pole at every limb value (with coefficient
//! its count, non-zero since counts are `< p`), the right side only at table values, so by
//! Schwartz–Zippel every limb lies in the table except with probability about
//! `(limb cells + N) / p`. Junk multiplicities only add poles at table values and cannot help.
//!
//! Compared with halo2's lookup argument (three extra committed columns per looked-up column),
//! this costs one extra column per [`LIMBS_PER_HELPER`] limb columns plus two.

use halo2_base::halo2_proofs::circuit::{Region, Value};
use halo2_base::halo2_proofs::halo2curves::ff::PrimeField;
use halo2_base::halo2_proofs::plonk::{
    Advice, Challenge, Column, ConstraintSystem, Expression, FirstPhase, Fixed, SecondPhase,
    Selector,
};
use halo2_base::halo2_proofs::poly::Rotation;
use rayon::prelude::*;

use zkmargin_layout::Fr;

use zkmargin_layout::table::LIMBS_PER_HELPER;

#[derive(Debug, Clone)]
/// The logUp range check of every limb column against one fixed table of `0..2^b`.
pub struct LimbLookup {
    /// The limb columns checked.
    pub limbs: Vec<Column<Advice>>,
    /// How often each table value occurs among the limbs.
    pub multiplicity: Column<Advice>,
    /// Second-phase helpers: `h = Σ 1/(β − l)` over a group of limb columns.
    pub helpers: Vec<Column<Advice>>,
    /// The running sum `z` of `Σ h − m/(β − t)`, 0 at both ends.
    pub running: Column<Advice>,
    /// The table `0..2^b`.
    pub table: Column<Fixed>,
    /// The challenge `β`, drawn after the limbs and multiplicities are committed.
    pub beta: Challenge,
    /// On rows `0..N`.
    q_active: Selector,
    /// On row 0.
    q_start: Selector,
    /// On row `N`.
    q_end: Selector,
}

impl LimbLookup {
    /// Configures the argument over `limbs` (first-phase advice columns).
    pub fn configure(meta: &mut ConstraintSystem<Fr>, limbs: Vec<Column<Advice>>) -> Self {
        let multiplicity = meta.advice_column_in(FirstPhase);
        let beta = meta.challenge_usable_after(FirstPhase);
        let helpers: Vec<_> = limbs
            .chunks(LIMBS_PER_HELPER)
            .map(|_| meta.advice_column_in(SecondPhase))
            .collect();
        let running = meta.advice_column_in(SecondPhase);
        let table = meta.fixed_column();
        let (q_active, q_start, q_end) = (meta.selector(), meta.selector(), meta.selector());

        meta.create_gate("limb lookup helpers", |meta| {
            let q = meta.query_selector(q_active);
            let beta = meta.query_challenge(beta);
            limbs
                .chunks(LIMBS_PER_HELPER)
                .zip(&helpers)
                .enumerate()
                .map(|(i, (group, &h))| {
                    let h = meta.query_advice(h, Rotation::cur());
                    let shifted: Vec<Expression<Fr>> = group
                        .iter()
                        .map(|&l| beta.clone() - meta.query_advice(l, Rotation::cur()))
                        .collect();
                    let product = shifted
                        .iter()
                        .cloned()
                        .reduce(|a, b| a * b)
                        .expect("non-empty group");
                    let numerator = (0..shifted.len())
                        .map(|i| {
                            shifted
                                .iter()
                                .enumerate()
                                .filter(|&(j, _)| j != i)
                                .map(|(_, e)| e.clone())
                                .reduce(|a, b| a * b)
                                .unwrap_or(Expression::Constant(Fr::one()))
                        })
                        .reduce(|a, b| a + b)
                        .expect("non-empty group");
                    (
                        format!("helper[{i}]: h · Π(β − l) = Σ_i Π_(j≠i)(β − l_j)"),
                        q.clone() * (h * product - numerator),
                    )
                })
                .collect::<Vec<_>>()
        });
        meta.create_gate("limb lookup running sum", |meta| {
            let q = meta.query_selector(q_active);
            let beta = meta.query_challenge(beta);
            let z = meta.query_advice(running, Rotation::cur());
            let z_next = meta.query_advice(running, Rotation::next());
            let m = meta.query_advice(multiplicity, Rotation::cur());
            let t = meta.query_fixed(table, Rotation::cur());
            let h_sum = helpers
                .iter()
                .map(|&h| meta.query_advice(h, Rotation::cur()))
                .reduce(|a, b| a + b)
                .expect("at least one helper");
            vec![(
                "running sum: (z′ − z − Σ h)·(β − t) + m = 0",
                q * ((z_next - z - h_sum) * (beta - t) + m),
            )]
        });
        meta.create_gate("limb lookup ends", |meta| {
            let z = meta.query_advice(running, Rotation::cur());
            vec![
                (
                    "running sum starts at 0",
                    meta.query_selector(q_start) * z.clone(),
                ),
                ("running sum ends at 0", meta.query_selector(q_end) * z),
            ]
        });
        LimbLookup {
            limbs,
            multiplicity,
            helpers,
            running,
            table,
            beta,
            q_active,
            q_start,
            q_end,
        }
    }

    /// Assigns the table, selectors and multiplicities (first phase). `limb_values[c][row]` are
    /// the limb cells of rows `0..rows`; `bits` the limb width.
    pub fn assign_first_phase(
        &self,
        region: &mut Region<Fr>,
        limb_values: &[Vec<u32>],
        rows: usize,
        bits: usize,
    ) {
        for row in 0..1usize << bits {
            region.assign_fixed(self.table, row, Fr::from(row as u64));
        }
        for row in 0..rows {
            self.q_active
                .enable(region, row)
                .expect("selector row in range");
        }
        self.q_start.enable(region, 0).expect("row 0");
        self.q_end.enable(region, rows).expect("row N");
        for (row, &c) in multiplicities(limb_values, rows, bits).iter().enumerate() {
            region.assign_advice(self.multiplicity, row, Value::known(Fr::from(c)));
        }
    }

    /// Assigns helpers and the running sum (second phase), given `β`.
    pub fn assign_second_phase(
        &self,
        region: &mut Region<Fr>,
        limb_values: &[Vec<u32>],
        rows: usize,
        bits: usize,
        beta: Value<Fr>,
    ) {
        let Some(beta) = known(beta) else {
            // Key generation: values are unknown, only the shape matters.
            for row in 0..=rows {
                for &h in &self.helpers {
                    region.assign_advice(h, row, Value::<Fr>::unknown());
                }
                region.assign_advice(self.running, row, Value::<Fr>::unknown());
            }
            return;
        };
        // 1/(β − v) for every table value, then helpers by table lookups (no per-cell inversion).
        let mut inverses: Vec<Fr> = (0..1u64 << bits)
            .into_par_iter()
            .map(|v| beta - Fr::from(v))
            .collect();
        batch_invert(&mut inverses);
        let inverse = |v: u32| -> Fr {
            inverses.get(v as usize).copied().unwrap_or_else(|| {
                // An out-of-table limb (dishonest witness): the true inverse keeps the helper gate
                // satisfied so that the failure shows where it belongs, in the running sum.
                (beta - Fr::from(u64::from(v)))
                    .invert()
                    .unwrap_or(Fr::zero())
            })
        };
        let helper_values: Vec<Vec<Fr>> = limb_values
            .chunks(LIMBS_PER_HELPER)
            .map(|group| {
                (0..rows)
                    .into_par_iter()
                    .map(|row| group.iter().map(|c| inverse(c[row])).sum())
                    .collect()
            })
            .collect();
        let table_terms: Vec<Fr> = multiplicities(limb_values, rows, bits)
            .iter()
            .zip(&inverses)
            .map(|(&c, &inv)| Fr::from(c) * inv)
            .collect();
        let mut z = Fr::zero();
        for row in 0..rows {
            region.assign_advice(self.running, row, Value::known(z));
            let mut step = Fr::zero();
            for (h, values) in self.helpers.iter().zip(&helper_values) {
                region.assign_advice(*h, row, Value::known(values[row]));
                step += values[row];
            }
            // m/(β − t): t(row) = row below 2^b, 0 above (where m = 0).
            z += step - table_terms.get(row).copied().unwrap_or(Fr::zero());
        }
        region.assign_advice(self.running, rows, Value::known(z));
    }
}

/// How often each table value occurs among the limb cells of rows `0..rows`. Out-of-table
/// limbs (a dishonest witness) get no multiplicity: the argument then fails.
fn multiplicities(limb_values: &[Vec<u32>], rows: usize, bits: usize) -> Vec<u64> {
    let mut counts = vec![0u64; 1 << bits];
    for column in limb_values {
        for &v in column.iter().take(rows) {
            if let Some(c) = counts.get_mut(v as usize) {
                *c += 1;
            }
        }
    }
    counts
}

fn known(v: Value<Fr>) -> Option<Fr> {
    let mut out = None;
    v.map(|x| out = Some(x));
    out
}

/// Montgomery's batch inversion (zeros are left as zero).
fn batch_invert(values: &mut [Fr]) {
    use halo2_base::halo2_proofs::halo2curves::ff::BatchInvert;
    values.iter_mut().batch_invert();
}

/// Limb `index` (of `bits` bits, little-endian) of the canonical integer of `x`.
pub fn limb_of(x: &Fr, index: usize, bits: usize) -> u32 {
    let value = ethnum::U256::from_le_bytes(x.to_repr()) >> (index * bits) as u32;
    (value.as_u64() & ((1u64 << bits) - 1)) as u32
}
