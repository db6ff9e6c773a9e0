//! What fixes the zkmargin constraint system, with no halo2 dependency so that light verifiers
//! (the browser inclusion check) share it: the circuit [`shape`], the account-table [`plan`]
//! (where every cell of an account block lives), exact [`field`] conversions, the statement ↔
//! instance [`encoding`] (and so the statement digest) and the bundle [`manifest`].

pub mod encoding;
pub mod field;
pub mod manifest;
pub mod plan;
pub mod shape;

pub use halo2curves::bn256::Fr;
