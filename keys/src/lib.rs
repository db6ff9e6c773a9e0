//! Keys of the margin circuit, kept in one place: the on-disk [`cache`] both sides share, the
//! prover's [`proving`] keys, the verifier's pinned [`verifying`] keys, and native [`snark`]
//! verification. Every key here was generated from the circuit on this machine; a key is never
//! read from a bundle.
#![warn(missing_docs)]

pub mod cache;
pub mod proving;
pub mod snark;
pub mod verifying;
