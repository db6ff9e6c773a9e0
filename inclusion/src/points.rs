//! The raw encoding of BN254 points that SRS power files use (the verifier's SRS cache and an
//! archive's published powers): halo2curves' `SerdeObject` encoding, affine coordinates as
//! Montgomery-form little-endian limbs, 64 bytes per G1 point and 128 per G2 point, concatenated.
//! Decoding checks that every coordinate is canonical and every point is on its curve.

use halo2curves::bn256::{Bn256, G1Affine, G2Affine, G2Prepared};
use halo2curves::group::Group;
use halo2curves::pairing::{MillerLoopResult, MultiMillerLoop};
use halo2curves::serde::SerdeObject;

const G1_BYTES: usize = 64;
const G2_BYTES: usize = 128;

/// The points' raw encoding, concatenated.
pub fn encode_points<P: SerdeObject>(points: &[P]) -> Vec<u8> {
    points.iter().flat_map(|p| p.to_raw_bytes()).collect()
}

fn decode<P: SerdeObject>(bytes: &[u8], size: usize, what: &str) -> Result<Vec<P>, String> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(size) {
        return Err(format!(
            "{what} powers: {} bytes is not a whole number of {size}-byte points",
            bytes.len()
        ));
    }
    bytes
        .chunks(size)
        .enumerate()
        .map(|(i, c)| {
            P::from_raw_bytes(c).ok_or_else(|| format!("power {i} is not a {what} point"))
        })
        .collect()
}

/// Decodes a G1 power file: every point canonical and on the curve.
pub fn decode_g1(bytes: &[u8]) -> Result<Vec<G1Affine>, String> {
    decode(bytes, G1_BYTES, "G1")
}

/// Decodes a G2 power file: every point canonical and on the curve.
pub fn decode_g2(bytes: &[u8]) -> Result<Vec<G2Affine>, String> {
    decode(bytes, G2_BYTES, "G2")
}

/// Both lists start at the generators and share their `τ`: `e(τ·G1, G2) = e(G1, τ·G2)`.
/// (Whether `τ` is the ceremony's is what the label and the file's provenance say.)
pub fn same_tau(g1: &[G1Affine], g2: &[G2Affine]) -> bool {
    if g1.len() < 2 || g2.len() < 2 {
        return false;
    }
    if g1[0] != G1Affine::generator() || g2[0] != G2Affine::generator() {
        return false;
    }
    let (a, b) = (G2Prepared::from(g2[0]), G2Prepared::from(g2[1]));
    let minus_g1 = -g1[0];
    bool::from(
        Bn256::multi_miller_loop(&[(&g1[1], &a), (&minus_g1, &b)])
            .final_exponentiation()
            .is_identity(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo2curves::bn256::{Fr, G1, G2};
    use halo2curves::ff::Field;
    use halo2curves::group::Curve;

    fn powers_of(tau: Fr) -> (Vec<G1Affine>, Vec<G2Affine>) {
        let g1 = (0..3u64)
            .map(|i| (G1::generator() * tau.pow_vartime([i])).to_affine())
            .collect();
        let g2 = (0..3u64)
            .map(|i| (G2::generator() * tau.pow_vartime([i])).to_affine())
            .collect();
        (g1, g2)
    }

    #[test]
    fn powers_round_trip_and_share_tau() {
        let (g1, g2) = powers_of(Fr::from(7u64));
        let (g1b, g2b) = (
            decode_g1(&encode_points(&g1)).unwrap(),
            decode_g2(&encode_points(&g2)).unwrap(),
        );
        assert_eq!((&g1b, &g2b), (&g1, &g2));
        assert!(same_tau(&g1, &g2));
        let (other, _) = powers_of(Fr::from(8u64));
        assert!(!same_tau(&other, &g2), "another τ is refused");
        assert!(
            !same_tau(&g1[1..], &g2[1..]),
            "lists must start at the generators"
        );
        assert!(!same_tau(&g1[..1], &g2));
    }

    #[test]
    fn malformed_power_files_are_refused() {
        let (g1, g2) = powers_of(Fr::from(7u64));
        let bytes = encode_points(&g1);
        assert!(decode_g1(&[]).is_err());
        assert!(decode_g1(&bytes[..100])
            .unwrap_err()
            .contains("whole number"));
        let mut off_curve = bytes.clone();
        off_curve[70] ^= 1;
        assert!(decode_g1(&off_curve).unwrap_err().contains("power 1"));
        assert!(decode_g2(&[0xff; 128]).is_err());
        assert!(decode_g2(&encode_points(&g2)).is_ok());
    }
}
