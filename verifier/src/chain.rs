//! `--prev`: the link from an epoch to the one before it (a replayed, skipped or foreign
//! predecessor is refused).
//!
//! The previous bundle `P` is verified in full — every integrity check [`check_bundle`] runs,
//! its SNARKs included (its policy is its own epoch's business) — and the link's three facts
//! come from one place: `P`'s statement, checked against `P`'s config, with its digest
//! recomputed from the two. Nothing is read from `P`'s `instances.json` or claimed digest
//! (those are checked against the statement, not trusted for it). A full check rather than the
//! statement alone, because a chain that links to an epoch whose proof fails vouches for
//! nothing; with the verifier's key cache it costs one more SNARK check.

use std::path::{Path, PathBuf};

use zkmargin_core::digest::Digest;
use zkmargin_core::policy::PolicyCheck;
use zkmargin_core::statement::Statement;

use crate::bundle::{check_bundle, SrsLoader, UnusableBundle};

/// What an epoch links to: the previous epoch's number, venue and statement digest, and the
/// integrity checks it failed (none for a valid predecessor).
#[derive(Debug, Clone)]
pub struct PreviousEpoch {
    /// The previous bundle's directory.
    pub path: PathBuf,
    /// Its epoch, from its statement.
    pub epoch: u64,
    /// Its statement's config digest (the venue's rules).
    pub config_digest: Digest,
    /// Recomputed from its statement and config.
    pub digest: Digest,
    /// Names of the integrity checks it failed.
    pub failed: Vec<String>,
}

/// Why `--prev` cannot be used at all (exit 2): the previous bundle is unreadable.
#[derive(Debug, thiserror::Error)]
#[error("--prev {}: {source}", path.display())]
pub struct UnusablePrevious {
    /// The previous bundle's directory.
    pub path: PathBuf,
    #[source]
    /// Why it cannot be read.
    pub source: UnusableBundle,
}

impl PreviousEpoch {
    /// Reads and verifies the bundle in `dir` as a predecessor.
    pub fn read(
        dir: &Path,
        vk_cache: Option<&Path>,
        load_srs: SrsLoader<'_>,
    ) -> Result<PreviousEpoch, UnusablePrevious> {
        let unusable = |source| UnusablePrevious {
            path: dir.to_path_buf(),
            source,
        };
        let (report, digest) = if zkmargin_bundle::slots::SlotBundle::is_slot_bundle(dir) {
            let c = crate::slots::check_slot_bundle(dir, None, false, vk_cache, load_srs)
                .map_err(unusable)?;
            (c.report, c.digest)
        } else {
            let c = check_bundle(dir, None, false, vk_cache, load_srs).map_err(unusable)?;
            (c.report, c.digest)
        };
        let s = &report.statement;
        // Not computable only when "statement digest matches its contents" failed too.
        let digest = digest.unwrap_or([0; 32]);
        let failed = report.failed().into_iter().map(String::from).collect();
        Ok(PreviousEpoch {
            path: dir.to_path_buf(),
            epoch: s.epoch,
            config_digest: s.config_digest,
            digest,
            failed,
        })
    }

    /// The chain checks of `statement` against this predecessor, each naming it.
    pub fn link_checks(&self, statement: &Statement) -> Vec<PolicyCheck> {
        let prev = self.path.display();
        vec![
            PolicyCheck::new(
                "the previous epoch's bundle verifies",
                self.failed.is_empty(),
                if self.failed.is_empty() {
                    format!("{prev}: SNARK, statement, config and oracle check out")
                } else {
                    format!("{prev}: failed: {}", self.failed.join("; "))
                },
            ),
            PolicyCheck::new(
                "chains to the previous epoch",
                statement.prev_digest == self.digest,
                format!(
                    "prev_digest {}, statement digest of {prev} {}",
                    hex::encode(statement.prev_digest),
                    hex::encode(self.digest)
                ),
            ),
            PolicyCheck::new(
                "epoch follows the previous one",
                Some(statement.epoch) == self.epoch.checked_add(1),
                format!(
                    "epoch {} after epoch {} of {prev}",
                    statement.epoch, self.epoch
                ),
            ),
            PolicyCheck::new(
                "the previous epoch is of the same venue (config digest)",
                statement.config_digest == self.config_digest,
                format!(
                    "config digest {}, of {prev} {}",
                    hex::encode(statement.config_digest),
                    hex::encode(self.config_digest)
                ),
            ),
        ]
    }
}
