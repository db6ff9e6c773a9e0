//! The one interface through which the operator library reports progress. The library never
//! prints: every long step takes a `&dyn Reporter`, and the binary decides what reaches the
//! terminal (spinners, bars, log lines). Results and failures are return values, not reports.

use std::time::{Duration, Instant};

/// Receives the progress of a library step. Every method has an empty default, so a caller
/// implements only what it shows.
pub trait Reporter: Sync {
    /// A named phase (key generation, proving, …) began.
    fn phase_started(&self, _name: &str) {}
    /// The phase `name` ended after `took`.
    fn phase_finished(&self, _name: &str, _took: Duration) {}
    /// `done` of `total` items (shards, chunks of accounts) of `name` are finished; called with
    /// `done == total` last.
    fn progress(&self, _name: &str, _done: u64, _total: u64) {}
    /// A fact about the step (a shard proved, a key read from the cache, the circuit layout).
    fn info(&self, _message: &str) {}
    /// Something that did not stop the step but deserves the operator's attention.
    fn warn(&self, _message: &str) {}
}

/// Reports nothing (tests, embedding).
pub struct Silent;

impl Reporter for Silent {}

/// Runs `f` as the phase `name`, reporting its start and its duration.
pub fn phase<T>(reporter: &dyn Reporter, name: &str, f: impl FnOnce() -> T) -> T {
    reporter.phase_started(name);
    let start = Instant::now();
    let out = f();
    reporter.phase_finished(name, start.elapsed());
    out
}
