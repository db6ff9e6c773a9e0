//! zkmargin constraint systems and gadgets: halo2 (halo2-axiom) with KZG over BN254, laid out by
//! halo2-base's vertical flex gate and lookup range chip.
//!
//! Why this layout: every account needs ~150 range-checked 16-bit limbs (inputs, ids, and the
//! sign of equity in every scenario). One wide row per account would need ~60 lookup columns at
//! k = 17 and proofs of ~30 KB; the vertical layout keeps a handful of columns at a larger k,
//! so proofs stay small, and reuses a maintained, audited range chip.
//!
//! Soundness pattern: every claim the prover makes (a median, the sign of an equity, the
//! under-margined flag) is a *hint* in [`witness::MarginWitness`] that the chips constrain;
//! nothing is trusted. Tests build dishonest witnesses and expect `MockProver` to fail.
//!
//! Modules: [`shape`] (what fixes the verifying key), [`witness`] (circuit inputs and hints),
//! [`encoding`] (statement ↔ public instances), [`chips`] (gadgets), [`circuit`] (assembly).

pub mod chips;
pub mod circuit;
pub mod encoding;
pub mod field;
pub mod keys;
pub mod shape;
pub mod witness;

/// Version of the constraint system and instance layout (semantic; recorded for humans).
pub const CIRCUIT_VERSION: u32 = 2;

/// SHA-256 of this crate's sources and the workspace lock file (see `build.rs`): cached keys
/// are named by it, so they never outlive the code that made them.
pub const CIRCUIT_SOURCE_HASH: &str = env!("ZKMARGIN_CIRCUIT_SOURCE_HASH");

pub use halo2_base;
pub use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
