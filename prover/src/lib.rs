//! zkmargin operator library: SRS handling, epoch preparation (engine → witness), proving and
//! bundle writing. The `zkmargin` binary is a thin CLI over it.

pub mod aggregate;
pub mod epoch;
pub mod inclusion;
pub mod keystore;
pub mod plan;
pub mod progress;
pub mod prove;
