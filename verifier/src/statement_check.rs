//! Checks on a published statement JSON: digest consistency and policy.

use serde::Deserialize;
use zkmargin_core::policy::{self, PolicyCheck};
use zkmargin_core::statement::Statement;

/// Either a bare [`Statement`] or the `zkmargin check --json` envelope around one.
#[derive(Deserialize)]
#[serde(untagged)]
enum Published {
    Envelope {
        statement: Statement,
        statement_digest: Option<String>,
    },
    Bare(Statement),
}

/// Why a statement file cannot be checked at all (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum StatementFileError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a zkmargin statement: {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
}

/// The verdict on a statement or bundle: every check, passed or not.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub statement: Statement,
    pub statement_digest: String,
    pub checks: Vec<PolicyCheck>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
}

/// Reads a statement file and runs every check on it.
pub fn check_file(path: &std::path::Path, strict: bool) -> Result<Report, StatementFileError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| StatementFileError::Read {
        path: shown.clone(),
        source,
    })?;
    let published: Published =
        serde_json::from_slice(&bytes).map_err(|source| StatementFileError::Parse {
            path: shown,
            source,
        })?;
    let (statement, claimed) = match published {
        Published::Envelope {
            statement,
            statement_digest,
        } => (statement, statement_digest),
        Published::Bare(statement) => (statement, None),
    };
    let digest = hex::encode(statement.digest());
    let mut checks = Vec::new();
    if let Some(claimed) = claimed {
        checks.push(PolicyCheck {
            name: "statement digest matches its contents".into(),
            passed: claimed
                .trim_start_matches("0x")
                .eq_ignore_ascii_case(&digest),
            detail: format!("claimed {claimed}, recomputed {digest}"),
        });
    }
    checks.extend(policy::evaluate(&statement, strict));
    Ok(Report {
        statement,
        statement_digest: digest,
        checks,
    })
}
