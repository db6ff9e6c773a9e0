//! zkmargin constraint systems and gadgets: halo2 (halo2-axiom) with KZG over BN254.
//!
//! Two parts share one proof. The oracle (a few thousand cells) runs on halo2-base's flex gate
//! and range chip ([`chips::oracle`]). The account table ([`table`]) is custom gates: every
//! account is one block of rows whose lanes range-check its ~120 16-bit limbs (inputs, the id
//! gap, and the sign of equity in every case), all limbs through one logUp argument, which
//! costs one committed column per three limb columns instead of halo2's three per column.
//! Copy constraints tie the two: the table's price coefficients are the oracle's medians times
//! the public weights, and its final totals are the public outputs.
//!
//! Soundness pattern: every claim the prover makes (a median, the sign of an equity, the
//! under-margined flag) is a *hint* in [`witness::MarginWitness`] that the constraints check;
//! nothing is trusted. Tests build dishonest witnesses and expect `MockProver` to fail.
//!
//! Modules: [`witness`] (circuit inputs and hints), [`chips`] (oracle gadget), [`table`]
//! (account table), [`circuit`] (assembly), [`keygen`] (keys from the shape), [`slots`] (the
//! account table v2, one row per entry held; proved on its own, not yet in the epoch circuit). What fixes the
//! verifying key (`zkmargin_layout::shape`), the table's layout (`zkmargin_layout::table`) and
//! the statement ↔ instances encoding (`zkmargin_layout::encoding`) live in `zkmargin_layout`,
//! which the browser page shares.
#![warn(missing_docs)]

pub mod chips;
pub mod circuit;
pub mod keygen;
pub mod slots;
pub mod table;
pub mod witness;

/// Version of the constraint system and instance layout (semantic; recorded for humans).
pub const CIRCUIT_VERSION: u32 = 3;

/// SHA-256 of this crate's sources and the workspace lock file (see `build.rs`): cached keys
/// are named by it, so they never outlive the code that made them.
pub const CIRCUIT_SOURCE_HASH: &str = env!("ZKMARGIN_CIRCUIT_SOURCE_HASH");
