//! What fixes the zkmargin constraint system, with no halo2 dependency so that light verifiers
//! (the browser inclusion check) share it: the circuit [`shape`], the account-table [`plan`]
//! (where every cell of an account block lives) and exact [`field`] conversions.

pub mod field;
pub mod plan;
pub mod shape;

pub use halo2curves::bn256::Fr;
