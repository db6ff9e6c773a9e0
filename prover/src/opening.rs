//! KZG openings of a shard's combined data polynomial `F = Σ_c γ^c · data_c` on account
//! blocks (see `zkmargin_inclusion`), for either account table: the table only says where a
//! block's data rows lie ([`BlockRows`]) and what its holder's values are.
//!
//! One account on demand is one level (one MSM of size `2^k`); every account at once shares
//! two outer levels per chunk of blocks, so one large MSM serves a whole chunk.

use halo2_proofs::arithmetic::{best_fft, best_multiexp};
use halo2_proofs::fft::recursive::FFTData;
use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine, G2Affine};
use halo2_proofs::halo2curves::ff::{BatchInvert, PrimeField};
use halo2_proofs::halo2curves::group::Curve;
use halo2_proofs::plonk::AdviceSingle;
use halo2_proofs::poly::commitment::{Blind, Params, ParamsProver};
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use zkmargin_inclusion::{
    check_account_opening, divide_exact, g1_to_hex, interpolate, vanishing, BlockRows, OpeningLevel,
};

use crate::inclusion::InclusionError;
use crate::report::Reporter;

/// `F = Σ_c weights[c] · advice[index_c]` in coefficient form, after checking that every
/// rebuilt column `index_c` commits to `committed_c` (the proof's own commitment): what was
/// rebuilt is exactly what was proved, or nothing is opened.
pub(crate) fn combine_columns(
    params: &ParamsKZG<Bn256>,
    advice: &AdviceSingle<G1Affine>,
    columns: &[(usize, G1Affine)],
    weights: &[Fr],
) -> Result<Vec<Fr>, InclusionError> {
    for &(index, committed) in columns {
        let again = params
            .commit_lagrange(&advice.advice_values[index], Blind::default())
            .to_affine();
        if again != committed {
            return Err(InclusionError::Mismatch(
                "rebuilt data column differs from the proof's commitment",
            ));
        }
    }
    let mut poly = vec![Fr::zero(); params.n() as usize];
    for (w, &(index, _)) in weights.iter().zip(columns) {
        for (acc, x) in poly.iter_mut().zip(advice.advice_polys[index].iter()) {
            *acc += *w * x;
        }
    }
    Ok(poly)
}

/// A shard's `F`, its commitment `C_F` (from the proof's commitments) and where its blocks'
/// data rows lie.
pub(crate) struct Opener {
    pub params: ParamsKZG<Bn256>,
    pub g2_powers: Vec<G2Affine>,
    pub rows: BlockRows,
    /// `F` in coefficient form.
    pub poly: Vec<Fr>,
    /// `C_F`.
    pub commitment: G1Affine,
}

impl Opener {
    /// The data points of `blocks` and the interpolation of `values` (theirs, in order) there.
    fn interpolation(&self, blocks: [usize; 2], values: &[Fr]) -> (Vec<Fr>, Vec<Fr>) {
        let points = self.rows.points(self.params.k(), blocks);
        let i = interpolate(&points, values);
        (points, i)
    }

    /// Whether `openings` open `F` to `values` on block `block` (as a verifier checks).
    pub fn check(&self, block: usize, values: &[Fr], openings: &[OpeningLevel]) -> bool {
        let levels: Option<Vec<(G1Affine, [usize; 2])>> = openings
            .iter()
            .map(|l| zkmargin_inclusion::g1_from_hex(&l.point).map(|p| (p, l.blocks)))
            .collect();
        levels.is_some_and(|levels| {
            check_account_opening(
                self.params.get_g(),
                &self.g2_powers,
                &self.rows,
                self.params.k(),
                &self.commitment,
                block,
                values,
                &levels,
            )
        })
    }

    /// One level, `W = [(F − I_A)/Z_A]` (one MSM of size 2^k), for block `block` holding
    /// `values`.
    pub fn prove(&self, block: usize, values: &[Fr]) -> Result<Vec<OpeningLevel>, InclusionError> {
        let (points, i) = self.interpolation([block, block + 1], values);
        let mut num = self.poly.clone();
        for (a, c) in num.iter_mut().zip(&i) {
            *a -= c;
        }
        // F takes the account's values on its rows unless the cached F is not the committed one.
        let w = divide_exact(&num, &vanishing(&points)).ok_or(InclusionError::Mismatch(
            "the data polynomial does not take this account's values",
        ))?;
        let point = best_multiexp(&w, &self.params.get_g()[..w.len()]).to_affine();
        Ok(vec![OpeningLevel {
            blocks: [block, block + 1],
            point: g1_to_hex(&point),
        }])
    }

    /// Openings of blocks `0..accounts` with two shared outer levels: chunks of `chunk[0]`
    /// blocks, sub-chunks of `chunk[1]` (both capped so a set fits the G2 powers). `values(b)`
    /// gives block `b`'s values; `emit(b, levels)` receives each opening. The first opening of
    /// every chunk is checked in full before it is emitted.
    pub fn prove_all(
        &self,
        accounts: usize,
        chunk: [usize; 2],
        values: impl Fn(usize) -> Vec<Fr> + Sync,
        emit: impl Fn(usize, Vec<OpeningLevel>) -> Result<(), InclusionError> + Sync,
        reporter: &dyn Reporter,
    ) -> Result<(), InclusionError> {
        let per = self.rows.rows;
        // The largest set must fit the G2 powers.
        let outer = chunk[0].min((self.g2_powers.len() - 1) / per).max(1);
        let inner = chunk[1].min(outer).max(1);
        let k = self.params.k();
        let n = self.params.n() as usize;
        // F must be the committed polynomial before thousands of openings are derived from it.
        if best_multiexp(&self.poly, &self.params.get_g()[..n]).to_affine() != self.commitment {
            return Err(InclusionError::Mismatch(
                "the cached data polynomial is not the committed one",
            ));
        }
        let coset = CosetDivider::new(k, &self.poly);
        let chunks: Vec<usize> = (0..accounts).step_by(outer).collect();
        reporter.info(&format!(
            "{} accounts: {} chunks of {} blocks, sub-chunks of {}",
            accounts,
            chunks.len(),
            outer,
            inner
        ));
        let total = chunks.len() as u64;
        let done = AtomicU64::new(0);
        chunks
            .par_iter()
            .try_for_each(|&start| -> Result<(), InclusionError> {
                let end = (start + outer).min(accounts);
                // Each account's values once, sliced for every level.
                let all: Vec<Fr> = (start..end).flat_map(&values).collect();
                let of = |from: usize, to: usize| &all[(from - start) * per..(to - start) * per];
                let (outer_points, i_outer) = self.interpolation([start, end], &all);
                let w = coset.quotient(&i_outer, &vanishing(&outer_points));
                let w0 = best_multiexp(
                    &w[..n - outer_points.len()],
                    &self.params.get_g()[..n - outer_points.len()],
                )
                .to_affine();
                for sub in (start..end).step_by(inner) {
                    let sub_end = (sub + inner).min(end);
                    let (sub_points, i_sub) = self.interpolation([sub, sub_end], of(sub, sub_end));
                    let w1 = self.level(&i_outer, &i_sub, &sub_points);
                    for b in sub..sub_end {
                        let (own, i_own) = self.interpolation([b, b + 1], of(b, b + 1));
                        let w2 = self.level(&i_sub, &i_own, &own);
                        let levels = vec![
                            OpeningLevel {
                                blocks: [start, end],
                                point: g1_to_hex(&w0),
                            },
                            OpeningLevel {
                                blocks: [sub, sub_end],
                                point: g1_to_hex(&w1),
                            },
                            OpeningLevel {
                                blocks: [b, b + 1],
                                point: g1_to_hex(&w2),
                            },
                        ];
                        // One full check per chunk (the outer vanishing polynomial is large).
                        if b == start && !self.check(b, of(b, b + 1), &levels) {
                            return Err(InclusionError::Mismatch(
                                "an opening failed its own check",
                            ));
                        }
                        emit(b, levels)?;
                    }
                }
                let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                reporter.progress("inclusion proofs", finished, total);
                Ok(())
            })
    }

    /// `[(I_outer − I_inner)/Z_inner]`: an inner level (a small MSM).
    fn level(&self, outer: &[Fr], inner: &[Fr], inner_points: &[Fr]) -> G1Affine {
        let mut num = outer.to_vec();
        for (a, c) in num.iter_mut().zip(inner) {
            *a -= c;
        }
        // Both interpolations take the same values on the inner rows, so the division is exact.
        let q = divide_exact(&num, &vanishing(inner_points)).expect("nested interpolations agree");
        best_multiexp(&q, &self.params.get_g()[..q.len()]).to_affine()
    }
}

/// Exact division of `F − I` by a vanishing polynomial, on a coset of the 2^k domain (where
/// no divisor vanishes): `F` is evaluated there once.
struct CosetDivider {
    k: u32,
    shift: Fr,
    data: FFTData<Fr>,
    omega: Fr,
    omega_inv: Fr,
    /// `F` on the coset.
    f: Vec<Fr>,
}

impl CosetDivider {
    fn new(k: u32, poly: &[Fr]) -> Self {
        let n = 1usize << k;
        let omega = zkmargin_inclusion::omega(k);
        let omega_inv = omega.invert().expect("non-zero");
        let data = FFTData::new(n, omega, omega_inv);
        let shift = Fr::MULTIPLICATIVE_GENERATOR;
        let mut d = CosetDivider {
            k,
            shift,
            data,
            omega,
            omega_inv,
            f: Vec::new(),
        };
        d.f = d.to_coset(poly);
        d
    }

    fn to_coset(&self, coeffs: &[Fr]) -> Vec<Fr> {
        let n = 1usize << self.k;
        let mut v = vec![Fr::zero(); n];
        let mut s = Fr::one();
        for (o, c) in v.iter_mut().zip(coeffs) {
            *o = *c * s;
            s *= self.shift;
        }
        best_fft(&mut v, self.omega, self.k, &self.data, false);
        v
    }

    /// `(F − i)/z` in coefficient form (degree `< n − deg z`).
    fn quotient(&self, i: &[Fr], z: &[Fr]) -> Vec<Fr> {
        let n = 1usize << self.k;
        let iv = self.to_coset(i);
        let mut zv = self.to_coset(z);
        zv.iter_mut().batch_invert();
        let mut q: Vec<Fr> = (0..n)
            .into_par_iter()
            .map(|j| (self.f[j] - iv[j]) * zv[j])
            .collect();
        best_fft(&mut q, self.omega_inv, self.k, &self.data, true);
        let n_inv = Fr::from(n as u64).invert().expect("non-zero");
        let shift_inv = self.shift.invert().expect("non-zero");
        let mut s = n_inv;
        for c in q.iter_mut() {
            *c *= s;
            s *= shift_inv;
        }
        q
    }
}
