//! Checks on a published statement JSON: digest consistency and policy.

use serde::Deserialize;
use zkmargin_core::config::Config;
use zkmargin_core::policy::{self, PolicyCheck};
use zkmargin_core::statement::Statement;
use zkmargin_layout::encoding::statement_digest_under;

/// Either a bare [`Statement`] or the `zkmargin check --json` envelope around one.
#[derive(Deserialize)]
#[serde(untagged)]
enum Published {
    Envelope {
        statement: Statement,
        statement_digest: Option<String>,
        /// The config the statement was made under: the digest hashes the statement's public
        /// instances, whose weights come from the config.
        config_toml: Option<String>,
    },
    Bare(Statement),
}

/// Why a statement file cannot be checked at all (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum StatementFileError {
    #[error("{path}: cannot read: {source}")]
    /// The file cannot be read.
    Read {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    #[error("{path}: not a zkmargin statement: {source}")]
    /// The file is not a statement, bare or with its config.
    Parse {
        /// The file.
        path: String,
        /// The parser's error.
        source: serde_json::Error,
    },
    #[error("{path}: config_toml: {source}")]
    /// The bundled config does not parse.
    Config {
        /// The file.
        path: String,
        /// The config's error.
        source: zkmargin_core::InputError,
    },
    #[error(
        "{path}: a claimed statement_digest can only be checked with the config \
         (`zkmargin check --json` includes it as config_toml)"
    )]
    /// A digest is claimed without the config that computing it needs.
    DigestWithoutConfig {
        /// The file.
        path: String,
    },
}

/// The verdict on a statement or bundle: every check, passed or not.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// The statement checked.
    pub statement: Statement,
    /// Hex; `None` when no config came with the statement.
    pub statement_digest: Option<String>,
    /// Every check, passed or not.
    pub checks: Vec<PolicyCheck>,
}

impl Report {
    /// Whether every check passed (warnings included).
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// The names of the failed checks, in report order.
    pub fn failed(&self) -> Vec<&str> {
        self.checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name.as_str())
            .collect()
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
            path: shown.clone(),
            source,
        })?;
    let (statement, claimed, config_toml) = match published {
        Published::Envelope {
            statement,
            statement_digest,
            config_toml,
        } => (statement, statement_digest, config_toml),
        Published::Bare(statement) => (statement, None, None),
    };
    let mut checks = Vec::new();
    let mut digest = None;
    match (config_toml, claimed) {
        (None, Some(_)) => return Err(StatementFileError::DigestWithoutConfig { path: shown }),
        (None, None) => checks.push(PolicyCheck::warning(
            "statement fields are bound to a config",
            "not checked: a bare statement carries no config, so its prices, symbols and \
             totals are the publisher's word (check the `zkmargin check --json` output or a \
             bundle instead)",
        )),
        (Some(text), claimed) => {
            let config = Config::parse(&text).map_err(|source| StatementFileError::Config {
                path: shown.clone(),
                source,
            })?;
            checks.push(PolicyCheck::new(
                "config digest matches the config",
                statement.config_digest == config.digest(),
                format!(
                    "statement {}, config {}",
                    hex::encode(statement.config_digest),
                    hex::encode(config.digest())
                ),
            ));
            checks.push(policy::statement_agrees(&statement, &config));
            let computed = statement_digest_under(&config, &statement).map(hex::encode);
            checks.push(match &claimed {
                Some(claimed) => PolicyCheck::new(
                    "statement digest matches its contents",
                    computed
                        .as_ref()
                        .is_ok_and(|d| claimed.trim_start_matches("0x").eq_ignore_ascii_case(d)),
                    match &computed {
                        Ok(d) => format!("claimed {claimed}, recomputed {d}"),
                        Err(e) => format!("claimed {claimed}, not computable: {e}"),
                    },
                ),
                // Without a claimed digest nothing ties the totals to a proof or a registry
                // entry: the config binds prices and symbols, not the sums.
                None => match &computed {
                    Ok(d) => PolicyCheck::warning(
                        "statement digest is claimed",
                        format!(
                            "not checked: the file claims no statement_digest, so its totals are \
                             the publisher's word (digest of these contents: {d})"
                        ),
                    ),
                    Err(e) => PolicyCheck::new(
                        "statement digest is claimed",
                        false,
                        format!("none claimed, and not computable: {e}"),
                    ),
                },
            });
            digest = computed.ok();
        }
    }
    checks.extend(policy::evaluate(&statement, strict));
    Ok(Report {
        statement,
        statement_digest: digest,
        checks,
    })
}
