//! zkmargin constraint systems and gadgets (halo2 over BN254 with KZG).
//!
//! Empty until the margin circuit lands: it will constrain exactly the semantics of
//! `zkmargin_core` (oracle, per-account margin, aggregates) under the bounds in
//! `zkmargin_core::bounds`.
