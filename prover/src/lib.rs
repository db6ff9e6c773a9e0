//! The zkmargin operator library: an epoch from its snapshot to a published bundle. It
//! prepares (engine → salted, sorted, sharded table: [`epoch`]), plans and proves shards and
//! assembles the bundle ([`pipeline`] over the [`plan`] directory and [`prove`]; the slot
//! table's classes in [`slots`]), writes
//! holders' inclusion proofs ([`inclusion`]), aggregates for the chain ([`aggregate`],
//! [`onchain`]) and runs the periodic archive step ([`runner`]).
//!
//! Every step returns a typed error whose [`ErrorClass`] says whose fault it is; progress goes
//! through one [`report::Reporter`]; nothing here parses arguments or prints.
#![warn(missing_docs)]

pub mod aggregate;
pub mod epoch;
pub mod inclusion;
pub mod onchain;
mod opening;
pub mod pipeline;
pub mod plan;
pub mod prove;
pub mod report;
pub mod runner;
pub mod slot_inclusion;
pub mod slot_plan;
pub mod slots;

/// Whose fault a failed step is: the documented exit codes follow from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Unusable input: a malformed snapshot, plan or bundle, a bad argument (exit 2).
    Input,
    /// The run failed: I/O, key generation, proving (exit 1).
    Runtime,
    /// The oracle circuit breaker halted the epoch (exit 3).
    Halted,
}
