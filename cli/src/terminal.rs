//! The operator library's progress on this terminal: a spinner per phase and a bar per long
//! loop on stderr (hidden when stderr is not a terminal), a `name: N.NN s` line when a phase
//! ends, and info and warning lines. Results go to stdout, from the commands.

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use zkmargin_prover::report::Reporter;

/// Reports on stderr.
#[derive(Default)]
pub struct Terminal {
    spinner: Mutex<Option<ProgressBar>>,
    bar: Mutex<Option<ProgressBar>>,
}

impl Reporter for Terminal {
    fn phase_started(&self, name: &str) {
        let spinner = ProgressBar::new_spinner();
        spinner.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed_precise}]")
                .expect("valid template"),
        );
        spinner.set_message(name.to_string());
        spinner.enable_steady_tick(Duration::from_millis(200));
        *self.spinner.lock().expect("not poisoned") = Some(spinner);
    }

    fn phase_finished(&self, name: &str, took: Duration) {
        if let Some(spinner) = self.spinner.lock().expect("not poisoned").take() {
            spinner.finish_and_clear();
        }
        eprintln!("{name}: {:.2} s", took.as_secs_f64());
    }

    fn progress(&self, name: &str, done: u64, total: u64) {
        if total <= 1 {
            return;
        }
        let mut slot = self.bar.lock().expect("not poisoned");
        let bar = slot.get_or_insert_with(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg} {bar:30} {pos}/{len} [{elapsed_precise}, ETA {eta_precise}]",
                )
                .expect("valid template"),
            );
            bar.set_message(name.to_string());
            bar
        });
        bar.set_position(done);
        if done >= total {
            bar.finish_and_clear();
            *slot = None;
        }
    }

    fn info(&self, message: &str) {
        eprintln!("{message}");
    }

    fn warn(&self, message: &str) {
        eprintln!("warning: {message}");
    }
}
