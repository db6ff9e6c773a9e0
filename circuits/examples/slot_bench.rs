//! Proves the slot table (account table v2) of a generated venue V1 (200 markets × 5 tiers,
//! 12 collateral assets, 5 sources, 4 cases), one circuit per account class (4, 16, 64 and
//! 256 slots; an account goes to the smallest class its entries fit), each class padded to the
//! capacity of the smallest circuit that holds it, with the insecure development SRS, and prints per class: accounts, slots, k, committed columns, cells per
//! account, key generation and proving time, proof bytes, peak RSS so far.
//!
//!   cargo run --release -p zkmargin-circuits --example slot_bench [ACCOUNTS] [SEED]
//!
//! The slot table is not in the epoch circuit yet: this measures the table alone (its
//! instrument table public), the part whose cost grows with accounts.

use std::time::Instant;

use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_base::halo2_proofs::plonk::{create_proof, keygen_pk, keygen_vk, verify_proof};
use halo2_base::halo2_proofs::poly::commitment::ParamsProver;
use halo2_base::halo2_proofs::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_base::halo2_proofs::poly::kzg::multiopen::{ProverSHPLONK, VerifierSHPLONK};
use halo2_base::halo2_proofs::poly::kzg::strategy::SingleStrategy;
use halo2_base::halo2_proofs::transcript::{
    Blake2bRead, Blake2bWrite, Challenge255, TranscriptReadBuffer, TranscriptWriterBuffer,
};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use zkmargin_circuits::slots::circuit::SlotCircuit;
use zkmargin_circuits::slots::witness::{Assigned, SlotWitness};
use zkmargin_core::engine::{evaluate, Outcome, Snapshot};
use zkmargin_core::holdings::Holdings;
use zkmargin_fixtures::{generate_venue, VenueOptions};
use zkmargin_layout::slots::SlotShape;
use zkmargin_layout::Fr;

const CLASSES: [usize; 4] = [4, 16, 64, 256];
/// Rows left free for halo2's blinding rows.
const RESERVED: usize = 32;

fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let accounts: u64 = args.next().map_or(16_384, |a| a.parse().expect("ACCOUNTS"));
    let seed: u64 = args.next().map_or(7, |a| a.parse().expect("SEED"));
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("v1");
    generate_venue(&VenueOptions::v1(accounts, seed), &out).expect("generate");
    let snapshot = Snapshot::load(&out).expect("load");
    let Outcome::Evaluated(eval) = evaluate(&snapshot, [0; 32]).expect("evaluate") else {
        panic!("the generated venue halted")
    };
    let config = &snapshot.config;
    let scale = config.fine_scale().expect("scale");
    let holdings: Vec<Holdings> = snapshot
        .read_rows()
        .expect("rows")
        .iter()
        .map(Holdings::of_row)
        .collect();
    println!(
        "{:<6} {:<9} {:<3} {:<5} {:<8} {:<6} {:<10} {:<9} {:<9} {:<8} {:<13}",
        "class",
        "accounts",
        "k",
        "B",
        "columns",
        "limbs",
        "cells/acct",
        "keygen_s",
        "prove_s",
        "proof_B",
        "peak_RSS_MiB"
    );
    let mut total_prove = 0.0;
    for (c, &slots) in CLASSES.iter().enumerate() {
        let lower = if c == 0 { 0 } else { CLASSES[c - 1] };
        // One id order across classes: an account's id is its position in the file.
        let members: Vec<(Fr, Holdings)> = holdings
            .iter()
            .enumerate()
            .filter(|(_, h)| h.entries() > lower && h.entries() <= slots)
            .map(|(i, h)| (Fr::from(i as u64 + 1), h.clone()))
            .collect();
        if members.is_empty() {
            continue;
        }
        // The smallest circuit whose capacity holds the class; padded to that capacity.
        let mut shape = SlotShape::new(config, slots, 1, 12).expect("a slot shape");
        while shape.capacity(RESERVED) < members.len() {
            shape.k += 1;
        }
        shape.accounts = shape.capacity(RESERVED);
        let witness = SlotWitness::honest(&shape, config, &scale, &eval.prices, &members);
        let assigned = Assigned::new(&witness);
        let instances = assigned.public_values();
        let circuit = SlotCircuit { assigned };
        let params = ParamsKZG::<Bn256>::setup(shape.k, ChaCha20Rng::seed_from_u64(1));
        let t = Instant::now();
        let vk = keygen_vk(&params, &circuit).expect("vk");
        let pk = keygen_pk(&params, vk, &circuit).expect("pk");
        let keygen = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut transcript = Blake2bWrite::<_, G1Affine, Challenge255<_>>::init(Vec::new());
        create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, _, _>(
            &params,
            &pk,
            &[circuit],
            &[&[&instances]],
            ChaCha20Rng::seed_from_u64(2),
            &mut transcript,
        )
        .expect("proof");
        let proof = transcript.finalize();
        let prove = t.elapsed().as_secs_f64();
        total_prove += prove;
        let mut read = Blake2bRead::<_, G1Affine, Challenge255<_>>::init(&proof[..]);
        verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>, _, _, _>(
            params.verifier_params(),
            pk.get_vk(),
            SingleStrategy::new(&params),
            &[&[&instances]],
            &mut read,
        )
        .expect("the proof verifies");
        println!(
            "{:<6} {:<9} {:<3} {:<5} {:<8} {:<6} {:<10} {:<9.1} {:<9.1} {:<8} {:<13}",
            slots,
            members.len(),
            shape.k,
            shape.value_bits,
            shape.committed_columns(),
            shape.limbs_per_account(),
            shape.cells_per_account(),
            keygen,
            prove,
            proof.len(),
            peak_rss_mib()
        );
    }
    println!(
        "total  {accounts} accounts, {:.1} s of proving ({:.2} ms per account)",
        total_prove,
        1000.0 * total_prove / accounts as f64
    );
}
