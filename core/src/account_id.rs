//! Account ids: `id = H(identifier ‖ salt)` truncated to [`ID_BITS`] bits, with a per-account
//! salt derived from the operator's master secret and handed only to that account.
//!
//! - `salt = HMAC-SHA-256(master_secret, "zkmargin/salt/v1" ‖ identifier)`;
//! - `id = Keccak-256("zkmargin/account-id/v1" ‖ u32be(len(identifier)) ‖ identifier ‖ salt)`
//!   with its top 64 bits cleared, read big-endian: `id < 2^192`, a canonical BN254 scalar.
//!
//! Truncation to 192 bits leaves a 2^96 birthday bound against a prover grinding salts to
//! make two accounts share an id (which the strictly increasing table forbids anyway). The
//! circuit checks each id gap in 192 bits (three 64-bit lanes), so a wider id would cost a
//! fourth lane per account.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sha3::{Digest as _, Keccak256};

/// Bits of an account id.
pub const ID_BITS: u32 = 192;

/// A 192-bit account id, big-endian in 32 bytes (the first eight are zero). Ordered as integers.
/// The invariant `id < 2^ID_BITS` holds by construction: ids are derived, or parsed by
/// [`AccountId::from_be_bytes`] / [`AccountId::from_hex`], which refuse anything wider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId([u8; 32]);

impl AccountId {
    /// The id with these big-endian bytes; `None` unless the value is `< 2^ID_BITS`.
    pub fn from_be_bytes(bytes: [u8; 32]) -> Option<AccountId> {
        bytes[..(32 - ID_BITS as usize / 8)]
            .iter()
            .all(|&b| b == 0)
            .then_some(AccountId(bytes))
    }

    /// An id from untrusted hex (64 digits, big-endian), with the reason it is refused.
    pub fn from_hex(hex_id: &str) -> Result<AccountId, String> {
        let bytes: [u8; 32] = hex::decode(hex_id)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or("not 32 hex bytes")?;
        AccountId::from_be_bytes(bytes)
            .ok_or_else(|| format!("not an account id: ids are below 2^{ID_BITS}"))
    }

    /// The 32 big-endian bytes.
    pub fn to_be_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// The 64 hex digits of [`AccountId::to_be_bytes`].
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// Bits at the top of an id that name its shard class in a slot-table epoch
/// (`zkmargin_layout::slots::CLASSES`): ids of class `c` lie in
/// `[c · 2^190, (c + 1) · 2^190)`, so one strictly increasing id order runs across every class
/// of the epoch.
pub const CLASS_TAG_BITS: u32 = 2;

impl AccountId {
    /// This id with its top [`CLASS_TAG_BITS`] bits (of [`ID_BITS`]) replaced by `class`
    /// (`< 2^CLASS_TAG_BITS`): `class · 2^190 + (id mod 2^190)`.
    pub fn tagged(&self, class: usize) -> AccountId {
        assert!(class < 1 << CLASS_TAG_BITS, "class tag out of range");
        let mut bytes = self.0;
        let top = 32 - ID_BITS as usize / 8;
        let shift = 8 - CLASS_TAG_BITS;
        bytes[top] = (bytes[top] & ((1 << shift) - 1)) | ((class as u8) << shift);
        AccountId(bytes)
    }

    /// The class tag of an id ([`AccountId::tagged`]).
    pub fn class_tag(&self) -> usize {
        (self.0[32 - ID_BITS as usize / 8] >> (8 - CLASS_TAG_BITS)) as usize
    }
}

/// The per-account salt for `identifier` under the operator's master secret.
pub fn derive_salt(master_secret: &[u8; 32], identifier: &str) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(master_secret).expect("HMAC takes any key length");
    mac.update(b"zkmargin/salt/v1");
    mac.update(identifier.as_bytes());
    mac.finalize().into_bytes().into()
}

/// `H(identifier ‖ salt)` truncated to [`ID_BITS`] bits.
pub fn account_id(identifier: &str, salt: &[u8; 32]) -> AccountId {
    let mut h = Keccak256::new();
    h.update(b"zkmargin/account-id/v1");
    h.update((identifier.len() as u32).to_be_bytes());
    h.update(identifier.as_bytes());
    h.update(salt);
    let mut id: [u8; 32] = h.finalize().into();
    id[..(32 - ID_BITS as usize / 8)].fill(0);
    AccountId(id)
}

/// The sentinel id `2^192 − 1` that closes the table: every row's id must lie below it.
pub fn sentinel_id() -> AccountId {
    AccountId(((ethnum::U256::ONE << ID_BITS) - 1).to_be_bytes())
}

/// Ids for padding rows: the top of the id range, `2^192 − 1 − rows + r` for row `r`, so they
/// sort after every real id and below [`sentinel_id`] (a real id that high has probability
/// about `rows / 2^192`).
pub fn padding_id(rows: usize, row: usize) -> AccountId {
    let value = (ethnum::U256::ONE << ID_BITS) - 1 - ethnum::U256::from(rows as u64)
        + ethnum::U256::from(row as u64);
    AccountId(value.to_be_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_tag_orders_ids_by_class_and_keeps_the_low_bits() {
        let id = account_id("alice", &[7; 32]);
        let ids: Vec<AccountId> = (0..4).map(|c| id.tagged(c)).collect();
        for (c, t) in ids.iter().enumerate() {
            assert_eq!(t.class_tag(), c);
            assert_eq!(t.tagged(id.class_tag()), id);
            assert!(AccountId::from_be_bytes(t.to_be_bytes()).is_some());
        }
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        // Any id of class 0 is below every id of class 1.
        assert!(sentinel_id().tagged(0) < AccountId([0; 32]).tagged(1));
    }

    #[test]
    fn ids_are_192_bit_and_depend_on_salt_and_identifier() {
        let salt = derive_salt(&[7; 32], "alice");
        let id = account_id("alice", &salt);
        assert_eq!(&id.to_be_bytes()[..8], &[0; 8]);
        assert_ne!(id, account_id("alice", &derive_salt(&[8; 32], "alice")));
        assert_ne!(id, account_id("bob", &salt));
        // Length prefix: ("ab", salt) and ("a", "b" ‖ salt…) cannot collide by concatenation.
        assert_eq!(id, account_id("alice", &salt));
    }

    #[test]
    fn padding_ids_sort_last_and_increase() {
        let a = padding_id(16, 3);
        let b = padding_id(16, 4);
        assert!(a < b);
        assert!(b < sentinel_id());
        assert!(padding_id(16, 15) < sentinel_id());
        assert!(account_id("x", &[0; 32]) < padding_id(16, 0));
    }

    #[test]
    fn parsed_ids_are_below_2_192() {
        let top = sentinel_id().to_hex();
        assert_eq!(AccountId::from_hex(&top), Ok(sentinel_id()));
        let mut wide = sentinel_id().to_be_bytes();
        wide[7] = 1;
        assert!(AccountId::from_be_bytes(wide).is_none());
        assert!(AccountId::from_hex(&hex::encode(wide)).is_err());
        assert!(AccountId::from_hex(&"ff".repeat(32)).is_err());
        assert!(AccountId::from_hex("00").is_err());
        assert!(AccountId::from_hex("zz").is_err());
    }
}
