//! What fixes the zkmargin constraint system, with no halo2 dependency so that light verifiers
//! (the browser inclusion check) share it: the circuit [`shape`] (and which circuit sizes a table fits), the
//! account [`table`]'s layout (where every cell of an account block lives), the [`slots`]
//! table's (account table v2: one row per entry held), the range-check
//! [`widths`], exact [`field`] conversions, the statement ↔
//! instance [`encoding`] (and so the statement digest) and the bundle [`manifest`].
#![warn(missing_docs)]

pub mod encoding;
pub mod field;
pub mod manifest;
pub mod shape;
mod sizing;
pub mod slots;
pub mod table;
pub mod widths;

pub use halo2curves::bn256::Fr;
