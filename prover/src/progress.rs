//! Progress reporting for long steps: a spinner with elapsed time per phase on stderr (hidden
//! when stderr is not a terminal), and a `tracing`-free log line when each phase ends.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Runs `f` as a named phase with a spinner; logs its duration.
pub fn phase<T>(name: &str, f: impl FnOnce() -> T) -> T {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed_precise}]")
            .expect("valid template"),
    );
    bar.set_message(name.to_string());
    bar.enable_steady_tick(Duration::from_millis(200));
    let start = Instant::now();
    let out = f();
    bar.finish_and_clear();
    eprintln!("{name}: {:.2} s", start.elapsed().as_secs_f64());
    out
}

/// A bar with ETA over `len` items (shards, chunks), hidden when stderr is not a terminal.
pub fn bar(name: &str, len: u64) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} {bar:30} {pos}/{len} [{elapsed_precise}, ETA {eta_precise}]",
        )
        .expect("valid template"),
    );
    bar.set_message(name.to_string());
    bar
}
