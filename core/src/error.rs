//! Typed errors for snapshot input. Every rejection names the file, the line (when the input
//! has lines) and the field, so an operator can fix the export without guessing.

use std::fmt;

/// A snapshot input that cannot be used. `Display` renders `file:line: field: reason`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InputError {
    /// File name as the operator knows it (`config.toml`, `accounts.csv`, `quotes.csv`).
    pub file: String,
    /// 1-based line number, when the problem sits on a line.
    pub line: Option<u64>,
    /// The field (column or TOML key path) at fault.
    pub field: String,
    /// What is wrong, in plain words.
    pub reason: String,
}

impl InputError {
    /// An error located at `file:line`.
    pub fn at(file: &str, line: u64, field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            file: file.to_string(),
            line: Some(line),
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// An error about a whole file (unreadable, missing).
    pub fn file(file: &str, reason: impl Into<String>) -> Self {
        Self {
            file: file.to_string(),
            line: None,
            field: "file".to_string(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}: {}", self.file, line, self.field, self.reason),
            None => write!(f, "{}: {}: {}", self.file, self.field, self.reason),
        }
    }
}
