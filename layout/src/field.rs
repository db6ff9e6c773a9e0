//! Exact conversions between the data model's integers and BN254 scalars. Negative values map
//! to `p − |x|`; every value converted here is bounded far below `p/2` by `zkmargin_core::bounds`.

use ethnum::{I256, U256};
use halo2curves::ff::{Field, PrimeField};

use zkmargin_core::account_id::AccountId;

use crate::Fr;

/// `x` as a field element (negatives become `p − |x|`), or `None` when `|x| ≥ p`. Values
/// from an untrusted statement go through this.
pub fn try_fr_from_i256(x: I256) -> Option<Fr> {
    let magnitude: U256 = x.unsigned_abs();
    let mut repr = <Fr as PrimeField>::Repr::default();
    repr.as_mut().copy_from_slice(&magnitude.to_le_bytes());
    let f = Option::<Fr>::from(Fr::from_repr(repr))?;
    Some(if x < 0 { -f } else { f })
}

/// `x` as a field element, for values bounded far below `p` by construction (`|x| < 2^253`).
pub fn fr_from_i256(x: I256) -> Fr {
    try_fr_from_i256(x).expect("|x| < p by the data model's bounds")
}

/// `x` as a field element (negative values as `p − |x|`).
pub fn fr_from_i128(x: i128) -> Fr {
    fr_from_i256(I256::from(x))
}

/// `2^bits` as a field element.
pub fn pow2(bits: usize) -> Fr {
    Fr::from(2u64).pow_vartime([bits as u64])
}

/// A 32-byte digest as two public field elements: the high and low 128-bit halves.
pub fn digest_halves(d: &[u8; 32]) -> [Fr; 2] {
    let hi = u128::from_be_bytes(d[..16].try_into().expect("16 bytes"));
    let lo = u128::from_be_bytes(d[16..].try_into().expect("16 bytes"));
    [Fr::from_u128(hi), Fr::from_u128(lo)]
}

/// An account id as a field element (exact: ids are `< 2^192 < p`).
pub fn fr_from_id(id: &AccountId) -> Fr {
    let b = id.to_be_bytes();
    let limb =
        |i: usize| u64::from_be_bytes(b[24 - 8 * i..32 - 8 * i].try_into().expect("8 bytes"));
    Fr::from_raw([limb(0), limb(1), limb(2), 0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_round_trip() {
        assert_eq!(fr_from_i256(I256::from(-5)) + Fr::from(5u64), Fr::zero());
        assert_eq!(fr_from_i256(I256::from(7)), Fr::from(7u64));
        let big: I256 = I256::ONE << 231u32;
        assert_eq!(fr_from_i256(-big) + fr_from_i256(big), Fr::zero());
    }

    #[test]
    fn out_of_field_values_are_refused_not_wrapped() {
        assert!(try_fr_from_i256(I256::MAX).is_none());
        assert!(try_fr_from_i256(I256::MIN).is_none());
        assert!(try_fr_from_i256(I256::ONE << 240u32).is_some());
    }

    #[test]
    fn ids_convert_exactly() {
        let id = zkmargin_core::account_id::sentinel_id();
        assert_eq!(fr_from_id(&id) + Fr::one(), pow2(192));
        let small =
            AccountId::from_hex(&format!("{:064x}", 0x0102_0304_0506_0708_090au128)).unwrap();
        assert_eq!(
            fr_from_id(&small),
            Fr::from_u128(0x0102_0304_0506_0708_090a)
        );
    }

    #[test]
    fn digest_halves_split_big_endian() {
        let mut d = [0u8; 32];
        d[15] = 1;
        d[31] = 2;
        assert_eq!(digest_halves(&d), [Fr::from(1u64), Fr::from(2u64)]);
    }
}
