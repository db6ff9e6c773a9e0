//! zkmargin light verifier library. It depends on `zkmargin-core` only (never on the prover).
//!
//! Today it checks published statements: the digest and the SPEC §6 policy. SNARK and
//! inclusion verification extend this library as proofs land.

pub mod bundle_check;
pub mod inclusion_check;
pub mod statement_check;
pub mod vk_cache;
