//! zkmargin core: the data model shared by prover, verifier and circuits.
//!
//! - [`config`], [`quotes`], [`accounts`]: the snapshot formats (SPEC §2), strictly parsed;
//! - [`bounds`], [`fine`]: every numeric bound and the fine integer unit;
//! - [`oracle`], [`margin`], [`aggregate`], [`engine`]: the exact reference semantics (SPEC §3);
//! - [`statement`], [`digest`], [`policy`]: the public statement (SPEC §4) and checks on it.

pub mod account_id;
pub mod accounts;
pub mod aggregate;
pub mod amount;
pub mod bounds;
pub mod config;
mod csv_input;
pub mod digest;
pub mod engine;
pub mod error;
pub mod fine;
pub mod margin;
pub mod oracle;
pub mod policy;
pub mod quotes;
pub mod render;
pub mod statement;

pub use error::InputError;
