//! Times one multi-scalar multiplication of 2^k random points (the unit of the efficiency
//! figure in `scripts/bench-prove.sh`). Usage: `cargo run --release --example msm -- K [RUNS]`.
//! Prints the median in milliseconds.

use std::time::Instant;

use halo2_proofs::arithmetic::best_multiexp;
use halo2_proofs::halo2curves::bn256::{Fr, G1Affine, G1};
use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::halo2curves::group::Curve;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;

fn main() {
    let mut args = std::env::args().skip(1);
    let k: u32 = args
        .next()
        .and_then(|a| a.parse().ok())
        .expect("usage: msm K [RUNS]");
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let n = 1usize << k;
    let bases: Vec<G1Affine> = (0..n)
        .into_par_iter()
        .map(|i| (G1::generator() * Fr::from(i as u64 + 7)).to_affine())
        .collect();
    let mut rng = ChaCha20Rng::seed_from_u64(k as u64);
    let scalars: Vec<Fr> = (0..n).map(|_| Fr::random(&mut rng)).collect();
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(best_multiexp(&scalars, &bases));
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!("{:.1}", times[times.len() / 2]);
}
