//! zkmargin core: the data model shared by prover, verifier and circuits.
//!
//! - [`config`], [`quotes`], [`accounts`], [`holdings`]: the snapshot formats (docs/statement.md), strictly parsed;
//! - [`bounds`], [`fine`]: every numeric bound and the fine integer unit;
//! - [`oracle`], [`margin`], [`totals`], [`engine`]: the exact reference semantics (docs/semantics.md);
//! - [`statement`], [`digest`], [`policy`]: the public statement (docs/statement.md) and checks on it.
#![warn(missing_docs)]

pub mod account_id;
pub mod accounts;
pub mod amount;
pub mod bounds;
pub mod config;
mod csv_input;
pub mod digest;
pub mod engine;
pub mod error;
pub mod fine;
pub mod holdings;
pub mod margin;
pub mod oracle;
pub mod policy;
pub mod quotes;
pub mod render;
pub mod statement;
pub mod totals;

pub use error::InputError;
