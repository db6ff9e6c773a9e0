//! How a command fails: an error and the exit code it maps to. `main` prints it, once.

use std::process::ExitCode;

use zkmargin_prover::ErrorClass;

/// Exit codes shared by every command.
pub mod exit {
    /// A runtime failure that is not the input's fault.
    pub const FAILURE: u8 = 1;
    /// Unusable input: malformed snapshot, plan or bundle, bad arguments.
    pub const INPUT: u8 = 2;
    /// The oracle circuit breaker halted the epoch.
    pub const HALTED: u8 = 3;
}

/// A failed command: what went wrong and its exit code.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub code: u8,
    /// The cause, with its context chain.
    pub error: anyhow::Error,
}

impl Failure {
    /// Unusable input (exit 2).
    pub fn input(error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            code: exit::INPUT,
            error: error.into(),
        }
    }

    /// A runtime failure (exit 1).
    pub fn runtime(error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            code: exit::FAILURE,
            error: error.into(),
        }
    }

    /// A failure of the class a library error gives.
    pub fn classed(class: ErrorClass, error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            code: match class {
                ErrorClass::Input => exit::INPUT,
                ErrorClass::Runtime => exit::FAILURE,
                ErrorClass::Halted => exit::HALTED,
            },
            error: error.into(),
        }
    }

    /// The exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }
}

/// Library errors that know their class convert with `?`.
macro_rules! classed_errors {
    ($($t:ty),*) => {$(
        impl From<$t> for Failure {
            fn from(e: $t) -> Failure {
                Failure::classed(e.class(), e)
            }
        }
    )*};
}

classed_errors!(
    zkmargin_prover::pipeline::PipelineError,
    zkmargin_prover::runner::RunnerError,
    zkmargin_prover::onchain::OnchainError
);

/// A command's result: the exit code of a success, or the failure.
pub type Outcome = Result<ExitCode, Failure>;

/// Success (exit 0).
pub fn ok() -> Outcome {
    Ok(ExitCode::SUCCESS)
}
