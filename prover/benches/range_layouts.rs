//! Measures the alternative to the halo2-base layout for the account table's dominant cost,
//! its ~146 range-checked 16-bit limbs per account: a custom running-sum gate,
//! `acc_i = limb_i + 2^16 · acc_{i+1}`, over C (limb, acc) column pairs, with one lookup per
//! limb column and equality on the acc columns (where values would be copied in and out).
//! It models the limbs only, not the per-row arithmetic, so compare it with the production
//! circuit at equal accounts to see what the range checks alone would cost.
//!
//! `cargo bench -p zkmargin-prover --bench range_layouts -- [ACCOUNTS] [LIMBS_PER_ACCOUNT] [COLUMNS]`
//! (defaults 16384 146 8). Uses the cached development SRS (`zkmargin setup --k K`).

use std::time::Instant;

use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::plonk::{
    create_proof, keygen_pk, keygen_vk, Advice, Circuit, Column, ConstraintSystem, Error,
    Expression, Selector, TableColumn,
};
use halo2_proofs::poly::kzg::commitment::KZGCommitmentScheme;
use halo2_proofs::poly::kzg::multiopen::ProverSHPLONK;
use halo2_proofs::poly::Rotation;
use halo2_proofs::transcript::{Blake2bWrite, Challenge255, TranscriptWriterBuffer};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use zkmargin_srs::{self as srs, SrsKind};

const LIMB_BITS: u32 = 16;
/// Limbs per value (64-bit values): selectors repeat with this period.
const PER_VALUE: usize = 4;

#[derive(Clone)]
struct LimbConfig {
    limb: Vec<Column<Advice>>,
    acc: Vec<Column<Advice>>,
    q_run: Selector,
    q_end: Selector,
    table: TableColumn,
}

#[derive(Clone, Default)]
struct LimbCircuit {
    /// values[c][v]: the v-th 64-bit value decomposed in column pair c.
    values: Vec<Vec<u64>>,
}

impl Circuit<Fr> for LimbCircuit {
    type Config = LimbConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = usize;

    fn without_witnesses(&self) -> Self {
        LimbCircuit {
            values: self.values.iter().map(|c| vec![0; c.len()]).collect(),
        }
    }

    fn params(&self) -> usize {
        self.values.len()
    }

    fn configure_with_params(meta: &mut ConstraintSystem<Fr>, columns: usize) -> LimbConfig {
        let limb: Vec<_> = (0..columns).map(|_| meta.advice_column()).collect();
        let acc: Vec<_> = (0..columns).map(|_| meta.advice_column()).collect();
        for &a in &acc {
            meta.enable_equality(a);
        }
        let (q_run, q_end) = (meta.selector(), meta.selector());
        let table = meta.lookup_table_column();
        let shift = Expression::Constant(Fr::from(1u64 << LIMB_BITS));
        meta.create_gate("running sum", |meta| {
            let (run, end) = (meta.query_selector(q_run), meta.query_selector(q_end));
            let mut constraints = Vec::new();
            for (&l, &a) in limb.iter().zip(&acc) {
                let l = meta.query_advice(l, Rotation::cur());
                let cur = meta.query_advice(a, Rotation::cur());
                let next = meta.query_advice(a, Rotation::next());
                constraints.push(run.clone() * (cur.clone() - l.clone() - shift.clone() * next));
                constraints.push(end.clone() * (cur - l));
            }
            constraints
        });
        for &l in &limb {
            meta.lookup("16-bit limb", |meta| {
                vec![(meta.query_advice(l, Rotation::cur()), table)]
            });
        }
        LimbConfig {
            limb,
            acc,
            q_run,
            q_end,
            table,
        }
    }

    fn configure(_: &mut ConstraintSystem<Fr>) -> LimbConfig {
        unreachable!("configured with params")
    }

    fn synthesize(&self, cfg: LimbConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        layouter.assign_table(
            || "range",
            |mut t| {
                for i in 0..1usize << LIMB_BITS {
                    t.assign_cell(|| "", cfg.table, i, || Value::known(Fr::from(i as u64)))?;
                }
                Ok(())
            },
        )?;
        layouter.assign_region(
            || "limbs",
            |mut region| {
                for (c, values) in self.values.iter().enumerate() {
                    for (v, &x) in values.iter().enumerate() {
                        for i in 0..PER_VALUE {
                            let row = v * PER_VALUE + i;
                            let acc = x >> (LIMB_BITS as usize * i);
                            let limb = acc & ((1 << LIMB_BITS) - 1);
                            region.assign_advice(cfg.limb[c], row, Value::known(Fr::from(limb)));
                            region.assign_advice(cfg.acc[c], row, Value::known(Fr::from(acc)));
                            if c == 0 {
                                if i + 1 < PER_VALUE {
                                    cfg.q_run.enable(&mut region, row)?;
                                } else {
                                    cfg.q_end.enable(&mut region, row)?;
                                }
                            }
                        }
                    }
                }
                Ok(())
            },
        )
    }
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let accounts = args.first().copied().unwrap_or(16384);
    let limbs_per_account = args.get(1).copied().unwrap_or(146);
    let columns = args.get(2).copied().unwrap_or(8);
    let values_per_column = (accounts * limbs_per_account).div_ceil(PER_VALUE * columns);
    let rows = values_per_column * PER_VALUE;
    let k = (usize::BITS - (rows + 10).leading_zeros()).max(LIMB_BITS + 1);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let circuit = LimbCircuit {
        values: (0..columns)
            .map(|_| (0..values_per_column).map(|_| rng.gen()).collect())
            .collect(),
    };
    let params = srs::load(&srs::default_dir(), SrsKind::Dev, k).expect("dev SRS");

    let start = Instant::now();
    let vk = keygen_vk(&params, &circuit).expect("vk");
    let pk = keygen_pk(&params, vk, &circuit).expect("pk");
    let keygen = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut transcript = Blake2bWrite::<_, G1Affine, Challenge255<_>>::init(Vec::new());
    create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, _, _>(
        &params,
        &pk,
        &[circuit],
        &[&[]],
        ChaCha20Rng::seed_from_u64(2),
        &mut transcript,
    )
    .expect("proof");
    let proof = transcript.finalize();
    let prove = start.elapsed().as_secs_f64();
    println!("accounts limbs/account columns k    limbs      keygen_s prove_s proof_bytes");
    println!(
        "{accounts:<8} {limbs_per_account:<13} {columns:<7} {k:<4} {:<10} {keygen:<8.1} {prove:<7.1} {}",
        accounts * limbs_per_account,
        proof.len()
    );
}
