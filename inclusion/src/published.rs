//! Where an archive's public files live, relative to the directory it publishes (`public/`),
//! and the SRS powers it publishes for light verifiers (the browser page). The archive writes
//! these paths and the page reads them, so both take them from here.
//!
//! ```text
//! public/NNNNNNNNNN/manifest.json, config.toml, …   an epoch's bundle (ten digits at least)
//! public/srs/<label>/g1.bin                         τ^i·G1, i < PAGE_G1_POWERS
//! public/srs/<label>/g2.bin                         τ^i·G2, as many as inclusion openings use
//! ```
//!
//! Powers are halo2curves' raw point encoding (`SerdeObject`): affine coordinates as
//! Montgomery-form little-endian limbs, 64 bytes per G1 point and 128 per G2 point. Decoding
//! checks that every coordinate is canonical and every point is on its curve.

use halo2curves::bn256::{Bn256, G1Affine, G2Affine, G2Prepared};
use halo2curves::group::Group;
use halo2curves::pairing::{MillerLoopResult, MultiMillerLoop};
use halo2curves::serde::SerdeObject;

/// The public side's subdirectory of SRS powers (never an epoch: epochs are all digits).
pub const SRS_DIR: &str = "srs";
pub const G1_FILE: &str = "g1.bin";
pub const G2_FILE: &str = "g2.bin";
/// G1 powers published for the page: an account's own rows interpolate to fewer coefficients.
pub const PAGE_G1_POWERS: usize = 64;

const G1_BYTES: usize = 64;
const G2_BYTES: usize = 128;

/// An epoch's directory name: its number in ten digits at least.
pub fn epoch_dir(epoch: u64) -> String {
    format!("{epoch:010}")
}

/// The directory name of an SRS label (`dev-insecure`, `ptau:<file name>`): characters other
/// than ASCII letters, digits, `.`, `_` and `-` become `_`, so a label never escapes `srs/`.
pub fn srs_dir_name(label: &str) -> String {
    let name: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.chars().all(|c| c == '.') {
        format!("_{name}")
    } else {
        name
    }
}

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

pub fn decode_g1(bytes: &[u8]) -> Result<Vec<G1Affine>, String> {
    decode(bytes, G1_BYTES, "G1")
}

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

    #[test]
    fn labels_stay_inside_the_srs_directory() {
        assert_eq!(srs_dir_name("dev-insecure"), "dev-insecure");
        assert_eq!(srs_dir_name("ptau:pot12.ptau"), "ptau_pot12.ptau");
        assert_eq!(srs_dir_name("ptau:../../x"), "ptau_.._.._x");
        assert_eq!(srs_dir_name(".."), "_..");
        assert_eq!(srs_dir_name(""), "_");
        assert_eq!(epoch_dir(7), "0000000007");
    }
}
