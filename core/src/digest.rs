//! Canonical digests: Keccak-256 over a sequence of 32-byte words, the way an EVM contract
//! would hash `abi.encode(...)` of `uint256`/`int256`/`bytes32` values.
//!
//! Encoding of each item: unsigned integers as big-endian `uint256`; signed as two's complement
//! `int256`; digests as `bytes32`; strings as the word `keccak256(utf8 bytes)`; an optional
//! value as a presence word (0/1) followed by the value (0 when absent); a list as its length
//! word followed by its items. The first word is `keccak256(domain tag)`.

use ethnum::I256;
use sha3::{Digest as _, Keccak256};

/// A 32-byte digest.
pub type Digest = [u8; 32];

/// Keccak-256 of `bytes`.
pub fn keccak256(bytes: &[u8]) -> Digest {
    Keccak256::digest(bytes).into()
}

/// Streams words into Keccak-256.
pub struct WordHasher {
    hasher: Keccak256,
}

impl WordHasher {
    /// Starts a digest under a domain tag such as `zkmargin/statement/v1`.
    pub fn new(domain: &str) -> Self {
        let mut h = Self {
            hasher: Keccak256::new(),
        };
        h.bytes32(&keccak256(domain.as_bytes()));
        h
    }

    /// Appends one 32-byte word.
    pub fn bytes32(&mut self, word: &Digest) -> &mut Self {
        self.hasher.update(word);
        self
    }

    /// Appends `v` as a big-endian 256-bit word.
    pub fn uint(&mut self, v: u128) -> &mut Self {
        let mut w = [0u8; 32];
        w[16..].copy_from_slice(&v.to_be_bytes());
        self.bytes32(&w)
    }

    /// Appends `v` as a two's-complement 256-bit word.
    pub fn int(&mut self, v: I256) -> &mut Self {
        self.bytes32(&v.to_be_bytes())
    }

    /// Appends the Keccak-256 of `s`.
    pub fn string(&mut self, s: &str) -> &mut Self {
        self.bytes32(&keccak256(s.as_bytes()))
    }

    /// Appends a presence word (0 or 1), then `v` or 0.
    pub fn optional(&mut self, v: Option<u128>) -> &mut Self {
        self.uint(u128::from(v.is_some())).uint(v.unwrap_or(0))
    }

    /// The Keccak-256 of every word appended.
    pub fn finish(self) -> Digest {
        self.hasher.finalize().into()
    }
}

/// Domain tag of the statement digest.
pub const STATEMENT_DOMAIN: &str = "zkmargin/statement/v2";

/// The statement digest, the next epoch's `prev_digest`: Keccak-256 of the words
/// `keccak256(STATEMENT_DOMAIN) ‖ public instances ‖ declared values`, each a 32-byte
/// big-endian word. In Solidity: `keccak256(abi.encodePacked(DOMAIN, instances, declared))`,
/// so a contract that has verified the instances recomputes it.
///
/// Binding: the instances carry every proved number and the config digest; the statement's
/// remaining fields (symbols, decimals, scenarios, sources) are functions of the config, and
/// the declared values (reserves, which no proof covers) are hashed in explicitly.
pub fn statement_digest(instance_words: &[Digest], declared_words: &[Digest]) -> Digest {
    let mut h = WordHasher::new(STATEMENT_DOMAIN);
    for w in instance_words.iter().chain(declared_words) {
        h.bytes32(w);
    }
    h.finish()
}
