//! Shared strict CSV reading for `accounts.csv` and `quotes.csv`: headers must be unique, every
//! record must have as many fields as the header, and csv-level errors become [`InputError`]s
//! naming the file and line.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::error::InputError;

/// A strict CSV reader over `input` (no trimming, no comments, fixed field count).
pub fn strict<R: Read>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::None)
        .buffer_capacity(1 << 20)
        .from_reader(input)
}

/// Opens `path` as a strict CSV reader.
pub fn open(path: &Path, file: &str) -> Result<csv::Reader<BufReader<File>>, InputError> {
    let handle = File::open(path)
        .map_err(|e| InputError::file(file, format!("cannot open {}: {e}", path.display())))?;
    Ok(strict(BufReader::with_capacity(1 << 20, handle)))
}

/// Converts a csv crate error into an [`InputError`] for `file`.
pub fn error(file: &str, e: csv::Error) -> InputError {
    let line = e.position().map(|p| p.line()).unwrap_or(1);
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => InputError::at(
            file,
            line,
            "record",
            format!("expected {expected_len} fields as in the header, found {len}"),
        ),
        csv::ErrorKind::Io(io) => InputError::file(file, format!("read failed: {io}")),
        _ => InputError::at(file, line, "record", e.to_string()),
    }
}

/// Reads the header row: rejects an empty file, non-UTF-8 names and duplicate names.
pub fn header<R: std::io::Read>(
    reader: &mut csv::Reader<R>,
    file: &str,
) -> Result<Vec<String>, InputError> {
    let raw = reader.byte_headers().map_err(|e| error(file, e))?.clone();
    if raw.is_empty() || (raw.len() == 1 && raw[0].is_empty()) {
        return Err(InputError::at(
            file,
            1,
            "header",
            "file is empty: a header row is required",
        ));
    }
    let mut names = Vec::with_capacity(raw.len());
    // Linear in the header's width: a header of 10^5 columns is refused in milliseconds.
    let mut seen = std::collections::HashSet::with_capacity(raw.len());
    for (i, name) in raw.iter().enumerate() {
        let name = std::str::from_utf8(name).map_err(|_| {
            InputError::at(
                file,
                1,
                format!("header column {}", i + 1),
                "not valid UTF-8",
            )
        })?;
        if !seen.insert(name) {
            return Err(InputError::at(file, 1, name, "duplicate column in header"));
        }
        names.push(name.to_string());
    }
    Ok(names)
}
