//! Where an archive's public files live, relative to the directory it publishes (`public/`).
//! The archive writes these paths and the browser page reads them, so both take them from here;
//! this module needs no SQLite (the page builds the crate with `default-features = false`).
//!
//! ```text
//! public/NNNNNNNNNN/manifest.json, config.toml, …   an epoch's bundle (ten digits at least)
//! public/srs/<label>/g1.bin                         τ^i·G1, as many as one account's opening uses
//! public/srs/<label>/g2.bin                         τ^i·G2, as many as inclusion openings use
//! ```
//!
//! Power files hold points in `zkmargin_inclusion::points`' encoding.

/// The public side's subdirectory of SRS powers (never an epoch: epochs are all digits).
pub const SRS_DIR: &str = "srs";
/// The G1 powers' file name in `srs/<label>/`.
pub const G1_FILE: &str = "g1.bin";
/// The G2 powers' file name in `srs/<label>/`.
pub const G2_FILE: &str = "g2.bin";

/// An epoch's directory name: its number in ten digits at least.
pub fn epoch_dir(epoch: u64) -> String {
    format!("{epoch:010}")
}

/// The directory name of an SRS label (`dev-insecure`, `ptau:<file name>`): characters other
/// than ASCII letters, digits, `.`, `_` and `-` become `_`, so a label never escapes `srs/`.
pub fn srs_dir_name(label: &str) -> String {
    let name: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.chars().all(|c| c == '.') {
        format!("_{name}")
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_stay_inside_the_srs_directory() {
        assert_eq!(srs_dir_name("dev-insecure"), "dev-insecure");
        assert_eq!(srs_dir_name("ptau:pot12.ptau"), "ptau_pot12.ptau");
        assert_eq!(srs_dir_name("ptau:../../x"), "ptau_.._.._x");
        assert_eq!(srs_dir_name(".."), "_..");
        assert_eq!(srs_dir_name(""), "_");
        assert_eq!(epoch_dir(7), "0000000007");
    }
}
