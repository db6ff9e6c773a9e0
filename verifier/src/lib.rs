//! The zkmargin verifier library (never depends on the prover): epoch bundles (the SNARKs under
//! keys rebuilt from the circuit, statement, digests, config, oracle, policy), the chain to the
//! previous epoch, slot-table bundles ([`slots`]), account holders' inclusion files, and published statements. Everything it
//! reads is untrusted: shapes are admitted against the config before they size any work.
#![warn(missing_docs)]

pub mod bundle;
pub mod chain;
pub mod inclusion;
pub mod slots;
pub mod statement;
