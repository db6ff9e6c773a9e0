//! Import of a snarkjs / Perpetual Powers of Tau (`.ptau`) ceremony file into KZG parameters.
//!
//! Format (all integers little-endian): magic `ptau`, `u32` version, `u32` section count, then
//! sections `(u32 type, u64 size, bytes)`. Section 1 (header): `u32 n8 = 32`, the base field
//! modulus `q` (n8 bytes), `u32 power`, `u32 ceremony_power`. Section 2: `2^(power+1) − 1` G1
//! points `τ^i·G1`; section 3: `2^power` G2 points `τ^i·G2`. Coordinates are field elements in
//! Montgomery form, n8 bytes each; a G2 coordinate is `(c0, c1)`.
//!
//! The import trusts nothing it can check: every point must be on its curve, the first points
//! must be the generators, and the powers must be consistent:
//! `e(Σ r_i·τ^{i+1}G1, G2) = e(Σ r_i·τ^i G1, τ·G2)` for random `r_i` (one pairing check).

use std::collections::HashMap;

use halo2_proofs::arithmetic::best_multiexp;
use halo2_proofs::halo2curves::bn256::{Bn256, Fq, Fq2, Fr, G1Affine, G2Affine};
use halo2_proofs::halo2curves::ff::PrimeField;
use halo2_proofs::halo2curves::group::Curve;
use halo2_proofs::halo2curves::pairing::Engine;
use halo2_proofs::halo2curves::serde::SerdeObject;
use halo2_proofs::halo2curves::CurveAffine;
use halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// BN254 base field modulus, little-endian.
const BN254_Q_LE: [u8; 32] = [
    0x47, 0xfd, 0x7c, 0xd8, 0x16, 0x8c, 0x20, 0x3c, 0x8d, 0xca, 0x71, 0x68, 0x91, 0x6a, 0x81, 0x97,
    0x5d, 0x58, 0x81, 0x81, 0xb6, 0x45, 0x50, 0xb8, 0x29, 0xa0, 0x31, 0xe1, 0x72, 0x4e, 0x64, 0x30,
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
/// Why a `.ptau` file cannot be imported.
pub enum PtauError {
    #[error("not a .ptau file: {0}")]
    /// Not a `.ptau` file of BN254 (the reason says which part).
    Format(String),
    #[error("the ceremony has 2^{power} powers; k = {k} needs 2^{k}")]
    /// The ceremony has fewer powers than k needs.
    TooSmall {
        /// The ceremony's power.
        power: u32,
        /// The k asked for.
        k: u32,
    },
    #[error("point {index} of section {section} is not a valid curve point")]
    /// A point is not a valid curve point.
    BadPoint {
        /// The file's section.
        section: u32,
        /// The point's index.
        index: usize,
    },
    #[error("the ceremony's first points are not the BN254 generators")]
    /// The first points are not the BN254 generators.
    NotGenerators,
    #[error("the powers of tau are inconsistent (pairing check failed)")]
    /// The powers fail the pairing consistency check.
    Inconsistent,
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, PtauError> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes(s.try_into().expect("4 bytes")))
        .ok_or_else(|| PtauError::Format("truncated".into()))
}

/// Section type → byte range.
fn sections(bytes: &[u8]) -> Result<HashMap<u32, std::ops::Range<usize>>, PtauError> {
    if bytes.get(..4) != Some(b"ptau") {
        return Err(PtauError::Format("missing `ptau` magic".into()));
    }
    let count = u32_at(bytes, 8)?;
    let mut at = 12usize;
    let mut map = HashMap::new();
    for _ in 0..count {
        let kind = u32_at(bytes, at)?;
        let size = bytes
            .get(at + 4..at + 12)
            .map(|s| u64::from_le_bytes(s.try_into().expect("8 bytes")) as usize)
            .ok_or_else(|| PtauError::Format("truncated section header".into()))?;
        let start = at + 12;
        let end = start
            .checked_add(size)
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| PtauError::Format(format!("section {kind} overruns the file")))?;
        map.insert(kind, start..end);
        at = end;
    }
    Ok(map)
}

fn fq(b: &[u8]) -> Option<Fq> {
    Fq::from_raw_bytes(b)
}

fn g1(b: &[u8]) -> Option<G1Affine> {
    Option::from(G1Affine::from_xy(fq(&b[..32])?, fq(&b[32..64])?))
}

fn g2(b: &[u8]) -> Option<G2Affine> {
    let x = Fq2::from_raw_bytes(&b[..64])?;
    let y = Fq2::from_raw_bytes(&b[64..128])?;
    Option::from(G2Affine::from_xy(x, y))
}

/// Section `t` of a parsed file.
fn section<'a>(
    bytes: &'a [u8],
    secs: &HashMap<u32, std::ops::Range<usize>>,
    t: u32,
) -> Result<&'a [u8], PtauError> {
    secs.get(&t)
        .map(|r| &bytes[r.clone()])
        .ok_or_else(|| PtauError::Format(format!("missing section {t}")))
}

/// The first `count` points of `size` bytes of section `t`, each parsed by `parse`.
fn points<T>(
    data: &[u8],
    t: u32,
    size: usize,
    count: usize,
    parse: impl Fn(&[u8]) -> Option<T>,
) -> Result<Vec<T>, PtauError> {
    (0..count)
        .map(|i| {
            parse(&data[i * size..(i + 1) * size]).ok_or(PtauError::BadPoint {
                section: t,
                index: i,
            })
        })
        .collect()
}

/// Parses `bytes` and returns verified KZG parameters for 2^k points.
pub fn import(bytes: &[u8], k: u32) -> Result<ParamsKZG<Bn256>, PtauError> {
    let secs = sections(bytes)?;
    let header = section(bytes, &secs, 1)?;
    if u32_at(header, 0)? != 32 || header.get(4..36) != Some(&BN254_Q_LE[..]) {
        return Err(PtauError::Format("not a BN254 (bn128) ceremony".into()));
    }
    let power = u32_at(header, 36)?;
    if power < k {
        return Err(PtauError::TooSmall { power, k });
    }
    let n = 1usize << k;
    let tau_g1 = section(bytes, &secs, 2)?;
    let tau_g2 = section(bytes, &secs, 3)?;
    if tau_g1.len() < n * 64 || tau_g2.len() < 2 * 128 {
        return Err(PtauError::Format(
            "sections 2/3 shorter than the declared power".into(),
        ));
    }
    let g: Vec<G1Affine> = points(tau_g1, 2, 64, n, g1)?;
    let gen2 = g2(&tau_g2[..128]).ok_or(PtauError::BadPoint {
        section: 3,
        index: 0,
    })?;
    let s_g2 = g2(&tau_g2[128..256]).ok_or(PtauError::BadPoint {
        section: 3,
        index: 1,
    })?;
    if g[0] != G1Affine::generator() || gen2 != G2Affine::generator() {
        return Err(PtauError::NotGenerators);
    }
    // Random coefficients bound to the file: e(Σ r_i g_{i+1}, G2) = e(Σ r_i g_i, τG2).
    let mut rng = ChaCha20Rng::from_seed(zkmargin_core::digest::keccak256(&tau_g1[..n * 64]));
    let r: Vec<Fr> = (0..n - 1)
        .map(|_| Fr::from_u128(rand::Rng::gen(&mut rng)))
        .collect();
    let shifted = best_multiexp(&r, &g[1..]).to_affine();
    let base = best_multiexp(&r, &g[..n - 1]).to_affine();
    if Bn256::pairing(&shifted, &gen2) != Bn256::pairing(&base, &s_g2) {
        return Err(PtauError::Inconsistent);
    }
    let seed = ParamsKZG::<Bn256>::setup(1, ChaCha20Rng::from_seed([0; 32]));
    Ok(seed.from_parts(k, g, None, gen2, s_g2))
}

/// The first G2 powers `τ^i·G2` of the ceremony in `bytes` (at most `max`, at least 2),
/// checked for consistency with its `τ·G1` by a random linear combination:
/// `e(G1, Σ r_i·τ^(i+1)·G2) = e(τ·G1, Σ r_i·τ^i·G2)`.
pub fn import_g2_powers(bytes: &[u8], max: usize) -> Result<Vec<G2Affine>, PtauError> {
    let secs = sections(bytes)?;
    let tau_g1 = section(bytes, &secs, 2)?;
    let tau_g2 = section(bytes, &secs, 3)?;
    let count = (tau_g2.len() / 128).min(max);
    if count < 2 || tau_g1.len() < 128 {
        return Err(PtauError::Format(
            "the ceremony has fewer than 2 G2 powers".into(),
        ));
    }
    let powers: Vec<G2Affine> = points(tau_g2, 3, 128, count, g2)?;
    let tau = g1(&tau_g1[64..128]).ok_or(PtauError::BadPoint {
        section: 2,
        index: 1,
    })?;
    let mut rng = ChaCha20Rng::from_seed(zkmargin_core::digest::keccak256(&tau_g2[..count * 128]));
    let r: Vec<Fr> = (0..count - 1)
        .map(|_| Fr::from_u128(rand::Rng::gen(&mut rng)))
        .collect();
    let shifted = best_multiexp(&r, &powers[1..]).to_affine();
    let base = best_multiexp(&r, &powers[..count - 1]).to_affine();
    if Bn256::pairing(&G1Affine::generator(), &shifted) != Bn256::pairing(&tau, &base) {
        return Err(PtauError::Inconsistent);
    }
    Ok(powers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_ptau_and_truncated_files() {
        assert!(matches!(import(b"nope", 4), Err(PtauError::Format(_))));
        let mut fake = b"ptau".to_vec();
        fake.extend_from_slice(&1u32.to_le_bytes());
        fake.extend_from_slice(&1u32.to_le_bytes());
        fake.extend_from_slice(&1u32.to_le_bytes());
        fake.extend_from_slice(&1000u64.to_le_bytes());
        assert!(matches!(import(&fake, 4), Err(PtauError::Format(m)) if m.contains("overruns")));
    }
}
