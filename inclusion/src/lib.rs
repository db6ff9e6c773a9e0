//! Per-account inclusion proofs: the file format and the parts prover and verifier share.
//!
//! An account's data (id, balances, `|size|`, short flags, costs) sits in the account table's
//! *data columns* at the first [`TableLayout::data_rows`] rows of its block; every such cell is
//! known to the holder (or zero). With `γ` drawn from the statement digest and the data
//! columns' commitments, `F = Σ_c γ^c · data_c` is one polynomial whose commitment `C_F`
//! anyone computes from the proof. The verifier computes the values `y_o = Σ_c γ^c ·
//! cell(c, o)` of its own rows `A` itself: nothing is chosen by the prover but the opening, so
//! an epoch-wide `γ` is sound (the commitments are fixed before `γ` is drawn) and openings can
//! share work across accounts.
//!
//! The opening of `F` on `A` is a multi-point KZG opening, one pairing equation
//! `e(C_F − [I_A(τ)]_1, G2) = Π_l e(W_l, [Z_(S_l)(τ)]_2)` over nested sets
//! `S_0 ⊇ S_1 ⊇ … ⊇ S_L = A` (block ranges): `W_0 = [(F − I_(S_0))/Z_(S_0)]` and
//! `W_l = [(I_(S_(l−1)) − I_(S_l))/Z_(S_l)]`. On demand one level (`S_0 = A`, one MSM of size
//! 2^k); for every account at once, levels of 1,024 and 32 blocks let one large MSM serve a
//! whole chunk. The outer points depend on other accounts' rows only through polynomials
//! that contain their unguessable 192-bit ids.
#![warn(missing_docs)]

use halo2curves::bn256::{Bn256, Fq, Fr, G1Affine, G2Affine, G2Prepared, G1, G2};
use halo2curves::ff::{Field, FromUniformBytes, PrimeField};
use halo2curves::group::prime::PrimeCurveAffine;
use halo2curves::group::{Curve, Group, GroupEncoding};
use halo2curves::msm::msm_serial;
use halo2curves::pairing::{MillerLoopResult, MultiMillerLoop};
use halo2curves::CurveAffine;
use serde::{Deserialize, Serialize};
use zkmargin_core::account_id::AccountId;
use zkmargin_core::accounts::AccountRow;
use zkmargin_core::digest::keccak256;
use zkmargin_layout::field::{fr_from_i128, fr_from_id};
use zkmargin_layout::manifest::ShardEntry;
use zkmargin_layout::table::{Aux, TableLayout};

pub mod points;
pub mod slots;
pub mod verify;

/// 2: the file names its shard.
pub const INCLUSION_FORMAT: u32 = 2;

/// One level of an opening: a KZG quotient for the data rows of the blocks `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningLevel {
    /// The block range `[start, end)` whose data rows the quotient opens.
    pub blocks: [usize; 2],
    /// Compressed G1 hex.
    pub point: String,
}

/// An inclusion file (JSON, about 1 KB).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionFile {
    /// [`INCLUSION_FORMAT`].
    pub format_version: u32,
    /// The epoch the file is for.
    pub epoch: u64,
    /// Hex Keccak-256 of the epoch's statement.
    pub statement_digest: String,
    /// The shard whose account table holds the account.
    pub shard: usize,
    /// The account's block (its row in the shard's table).
    pub row: usize,
    /// Hex account id (`H(identifier ‖ salt)`, 32 bytes big-endian).
    pub id: String,
    /// Hex, 32 bytes.
    pub salt: String,
    /// Per asset, decimal in the asset's units.
    pub balances: Vec<String>,
    /// Per market, signed decimal in size units.
    pub sizes: Vec<String>,
    /// Per market, signed decimal in the quote currency.
    pub costs: Vec<String>,
    /// Nested sets, outermost first, the last exactly `[row, row + 1)`: with `S_0 ⊇ … ⊇ S_L`
    /// and `W_l` the level points, `F − I = Σ_l Z_(S_l) · W_l` where `I` interpolates the
    /// account's values on its own rows.
    pub openings: Vec<OpeningLevel>,
}

/// `y_o = Σ_c γ^c · cell(c, o)` for every data row `o` of the account's block, from its id
/// and row (exactly what the account holder knows).
pub fn account_values(plan: &TableLayout, id: &AccountId, row: &AccountRow, gamma: Fr) -> Vec<Fr> {
    let powers = powers(gamma, plan.data_columns);
    let mut y = vec![Fr::zero(); plan.data_rows()];
    for (a, slot) in &plan.data {
        let v = match *a {
            Aux::Id => fr_from_id(id),
            Aux::Balance(i) => Fr::from(row.balances[i]),
            Aux::Size(m) => Fr::from(row.sizes[m].unsigned_abs()),
            Aux::Short(m) => Fr::from(u64::from(row.sizes[m] < 0)),
            Aux::Cost(m) => fr_from_i128(row.costs[m]),
            Aux::Negative(_) | Aux::Under => unreachable!("flags are not account data"),
        };
        y[slot.row] += powers[slot.column] * v;
    }
    y
}

/// Where the account blocks' data rows lie in a table of `2^k` rows: block `b`'s are rows
/// `first + b · stride + o` for `o < rows`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockRows {
    /// The first block's first row.
    pub first: usize,
    /// Rows from one block to the next.
    pub stride: usize,
    /// Data rows per block (`≤ stride`).
    pub rows: usize,
}

impl BlockRows {
    /// The dense account table's: blocks from row 0, [`TableLayout::data_rows`] of each.
    pub fn of_table(plan: &TableLayout) -> Self {
        BlockRows {
            first: 0,
            stride: plan.block_rows,
            rows: plan.data_rows(),
        }
    }

    /// The data rows of blocks `[start, end)` as evaluation points `ω^row`.
    pub fn points(&self, k: u32, blocks: [usize; 2]) -> Vec<Fr> {
        let w = omega(k);
        (blocks[0]..blocks[1])
            .flat_map(|b| (0..self.rows).map(move |o| self.first + b * self.stride + o))
            .map(|row| w.pow_vartime([row as u64]))
            .collect()
    }
}

/// Coefficients (lowest first) of `Π (X − z)`.
pub fn vanishing(points: &[Fr]) -> Vec<Fr> {
    let mut c = vec![Fr::one()];
    for z in points {
        let mut next = vec![Fr::zero(); c.len() + 1];
        for (i, a) in c.iter().enumerate() {
            next[i + 1] += a;
            next[i] -= *a * z;
        }
        c = next;
    }
    c
}

/// `p / (X − z)` for `p(z) = 0` (synthetic division; the remainder is dropped).
pub fn divide_linear(p: &[Fr], z: Fr) -> Vec<Fr> {
    let mut q = vec![Fr::zero(); p.len().saturating_sub(1)];
    let mut carry = Fr::zero();
    for i in (1..p.len()).rev() {
        carry = p[i] + carry * z;
        q[i - 1] = carry;
    }
    q
}

/// Coefficients of the polynomial of degree `< m` through `(points[i], values[i])`.
pub fn interpolate(points: &[Fr], values: &[Fr]) -> Vec<Fr> {
    let z = vanishing(points);
    let mut out = vec![Fr::zero(); points.len()];
    for (i, (&x, &y)) in points.iter().zip(values).enumerate() {
        let basis = divide_linear(&z, x);
        let denom: Fr = points
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(_, &p)| x - p)
            .product();
        let scale = y * denom.invert().unwrap_or(Fr::zero());
        for (o, b) in out.iter_mut().zip(&basis) {
            *o += scale * b;
        }
    }
    out
}

/// `num / den` when `den` divides `num` exactly (long division), else `None`.
pub fn divide_exact(num: &[Fr], den: &[Fr]) -> Option<Vec<Fr>> {
    let lead = den.last()?.invert().into_option()?;
    if num.len() < den.len() {
        return num.iter().all(|c| bool::from(c.is_zero())).then(Vec::new);
    }
    let mut rem = num.to_vec();
    let mut q = vec![Fr::zero(); num.len() - den.len() + 1];
    for i in (0..q.len()).rev() {
        let c = rem[i + den.len() - 1] * lead;
        q[i] = c;
        for (j, d) in den.iter().enumerate() {
            rem[i + j] -= c * d;
        }
    }
    rem.iter().all(|c| bool::from(c.is_zero())).then_some(q)
}

/// The opening of the account in block `block` (own values `values`) by nested levels of
/// `(point, block range)`, checked against `C_F`: the data points of every set, then
/// [`check_opening`].
#[allow(clippy::too_many_arguments)]
pub fn check_account_opening(
    g1: &[G1Affine],
    g2: &[G2Affine],
    rows: &BlockRows,
    k: u32,
    commitment: &G1Affine,
    block: usize,
    values: &[Fr],
    levels: &[(G1Affine, [usize; 2])],
) -> bool {
    let sets: Vec<(G1Affine, Vec<Fr>)> = levels
        .iter()
        .map(|(w, blocks)| (*w, rows.points(k, *blocks)))
        .collect();
    check_opening(
        g1,
        g2,
        commitment,
        &rows.points(k, [block, block + 1]),
        values,
        &sets,
    )
}

/// The pairing check of an opening: `e(C − [I(τ)]_1, G2) = Π_l e(W_l, [Z_l(τ)]_2)`, with
/// `I` the interpolation of `values` on `points`, `levels` the `(W_l, S_l)` and the SRS powers
/// `g1` (`τ^i·G1`) and `g2` (`τ^i·G2`). `false` when a set needs more G2 powers than given.
pub fn check_opening(
    g1: &[G1Affine],
    g2: &[G2Affine],
    commitment: &G1Affine,
    points: &[Fr],
    values: &[Fr],
    levels: &[(G1Affine, Vec<Fr>)],
) -> bool {
    let i = interpolate(points, values);
    if i.len() > g1.len() {
        return false;
    }
    let lhs = (commitment.to_curve() - msm_g1(&i, &g1[..i.len()])).to_affine();
    let mut terms = vec![(lhs, G2Prepared::from(G2Affine::generator()))];
    for (w, set) in levels {
        let z = vanishing(set);
        if z.len() > g2.len() {
            return false;
        }
        let zt = msm_g2(&z, &g2[..z.len()]).to_affine();
        terms.push((-*w, G2Prepared::from(zt)));
    }
    let refs: Vec<(&G1Affine, &G2Prepared)> = terms.iter().map(|(a, b)| (a, b)).collect();
    bool::from(
        Bn256::multi_miller_loop(&refs)
            .final_exponentiation()
            .is_identity(),
    )
}

/// Serial multi-scalar multiplications (no threads: this crate also runs in browsers).
fn msm_g1(scalars: &[Fr], bases: &[G1Affine]) -> G1 {
    let mut acc = G1::identity();
    msm_serial(scalars, bases, &mut acc);
    acc
}

fn msm_g2(scalars: &[Fr], bases: &[G2Affine]) -> G2 {
    let mut acc = G2::identity();
    msm_serial(scalars, bases, &mut acc);
    acc
}

/// `1, x, x², …` (`n` terms).
pub fn powers(x: Fr, n: usize) -> Vec<Fr> {
    std::iter::successors(Some(Fr::one()), |p| Some(*p * x))
        .take(n)
        .collect()
}

fn to_field(domain: &[u8], parts: &[&[u8]]) -> Fr {
    let mut wide = [0u8; 64];
    for (i, half) in wide.chunks_mut(32).enumerate() {
        let mut input = domain.to_vec();
        input.push(i as u8);
        for p in parts {
            input.extend_from_slice(p);
        }
        half.copy_from_slice(&keccak256(&input));
    }
    Fr::from_uniform_bytes(&wide)
}

/// `γ` and the commitment `C_F = Σ_c γ^c · C_c` of the combined data polynomial.
pub fn combine(statement_digest: &[u8; 32], data_commitments: &[G1Affine]) -> (Fr, G1Affine) {
    let g = gamma(statement_digest, data_commitments);
    let combined: G1 = powers(g, data_commitments.len())
        .iter()
        .zip(data_commitments)
        .map(|(p, c)| c * p)
        .sum();
    (g, combined.to_affine())
}

/// `γ`, bound to the statement digest and the data columns' commitments.
pub fn gamma(statement_digest: &[u8; 32], data_commitments: &[G1Affine]) -> Fr {
    let points: Vec<u8> = data_commitments
        .iter()
        .flat_map(|c| c.to_bytes().as_ref().to_vec())
        .collect();
    to_field(b"zkmargin/inclusion/gamma/v1", &[statement_digest, &points])
}

/// G1 powers published for light verifiers (`public/srs/<label>/g1.bin`): an opening
/// interpolates one account's own rows, at most a block of the largest slot class (a dense
/// account's data rows are fewer).
pub const LIGHT_G1_POWERS: usize =
    zkmargin_layout::slots::CLASSES[zkmargin_layout::slots::CLASSES.len() - 1];

/// The generator of the 2^k-th roots of unity (halo2's evaluation domain).
pub fn omega(k: u32) -> Fr {
    let mut w = Fr::ROOT_OF_UNITY;
    for _ in k..Fr::S {
        w = w.square();
    }
    w
}

/// A commitment as it opens the proof transcript (`x ‖ y`, 32-byte big-endian each).
pub fn g1_from_transcript_hex(s: &str) -> Option<G1Affine> {
    let bytes = hex::decode(s).ok()?;
    if bytes.len() != 64 {
        return None;
    }
    let coord = |b: &[u8]| {
        let mut le: [u8; 32] = b.try_into().ok()?;
        le.reverse();
        Option::<Fq>::from(Fq::from_repr(le))
    };
    let (x, y) = (coord(&bytes[..32])?, coord(&bytes[32..])?);
    Option::from(G1Affine::from_xy(x, y))
}

/// The account data columns' commitments in a manifest's shard entry, at `positions` (as
/// manifests and circuit layouts give them); `None` if a position is out of range or a
/// commitment is not a point.
pub fn data_commitments(
    entry: &ShardEntry,
    positions: impl IntoIterator<Item = usize>,
) -> Option<Vec<G1Affine>> {
    positions
        .into_iter()
        .map(|p| {
            entry
                .account_table_commitment
                .get(p)
                .and_then(|h| g1_from_transcript_hex(h))
        })
        .collect()
}

/// Compressed G1 hex (openings in inclusion files).
pub fn g1_to_hex(p: &G1Affine) -> String {
    hex::encode(p.to_bytes())
}

/// A compressed G1 point from hex; `None` if not a canonical point on the curve.
pub fn g1_from_hex(s: &str) -> Option<G1Affine> {
    let bytes = hex::decode(s).ok()?;
    let mut repr = <G1Affine as GroupEncoding>::Repr::default();
    if bytes.len() != repr.as_ref().len() {
        return None;
    }
    repr.as_mut().copy_from_slice(&bytes);
    Option::from(G1Affine::from_bytes(&repr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo2curves::group::Curve;

    #[test]
    fn omega_has_order_two_to_the_k() {
        let w = omega(10);
        assert_eq!(w.pow_vartime([1u64 << 10]), Fr::one());
        assert_ne!(w.pow_vartime([1u64 << 9]), Fr::one());
    }

    #[test]
    fn compressed_points_round_trip_and_garbage_is_refused() {
        let p = (G1Affine::generator() * Fr::from(12345u64)).to_affine();
        assert_eq!(g1_from_hex(&g1_to_hex(&p)), Some(p));
        assert_eq!(g1_from_hex("zz"), None);
        assert_eq!(g1_from_hex(&"ff".repeat(32)), None);
        assert_eq!(g1_from_transcript_hex(&"00".repeat(63)), None);
    }

    #[test]
    fn challenges_depend_on_every_input() {
        let p = G1Affine::generator();
        let g = gamma(&[1; 32], &[p]);
        assert_ne!(g, gamma(&[2; 32], &[p]));
        assert_ne!(g, gamma(&[1; 32], &[p, p]));
    }
}

#[cfg(test)]
mod polynomial_tests {
    use super::*;

    fn eval(p: &[Fr], x: Fr) -> Fr {
        p.iter().rev().fold(Fr::zero(), |acc, c| acc * x + c)
    }

    #[test]
    fn interpolation_vanishing_and_division_agree() {
        let points: Vec<Fr> = (1..6u64).map(|i| Fr::from(i * 7)).collect();
        let values: Vec<Fr> = (1..6u64).map(|i| Fr::from(i * i + 3)).collect();
        let i = interpolate(&points, &values);
        for (x, y) in points.iter().zip(&values) {
            assert_eq!(eval(&i, *x), *y);
        }
        let z = vanishing(&points);
        assert!(points.iter().all(|x| bool::from(eval(&z, *x).is_zero())));
        let product: Vec<Fr> = {
            let q = [Fr::from(3u64), Fr::from(5u64)];
            let mut p = vec![Fr::zero(); z.len() + 1];
            for (a, x) in z.iter().enumerate() {
                for (b, y) in q.iter().enumerate() {
                    p[a + b] += *x * y;
                }
            }
            p
        };
        assert_eq!(
            divide_exact(&product, &z),
            Some(vec![Fr::from(3u64), Fr::from(5u64)])
        );
        let mut off = product.clone();
        off[0] += Fr::one();
        assert_eq!(divide_exact(&off, &z), None, "a remainder is refused");
    }
}
