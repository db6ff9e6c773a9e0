//! The epoch archive: every published epoch of one venue, public and private data apart, with
//! an SQLite index that lists epochs and locates inclusion proofs.
//!
//! ```text
//! ARCHIVE/
//!   index.sqlite          epochs and inclusion locations; an epoch exists iff it is indexed
//!   public/NNNNNNNNNN/    the bundle without private/: what auditors and users fetch
//!   public/srs/<label>/   SRS powers for light verifiers (g1.bin, g2.bin; the browser page)
//!   private/access.key    the secret that access tokens derive from (created once)
//!   private/NNNNNNNNNN/   the bundle's private/ (secrets, snapshot) and inclusion/<id>.json
//!   work/                 the epoch being made; removed at every start
//!   lock                  held by the one process that writes the archive
//! ```
//!
//! Publishing renames the finished directories into `public/` and `private/`, then commits
//! the index row in one transaction. A crash at any point leaves either no trace the index
//! knows of (recovery removes `work/` and unindexed epoch directories) or a complete epoch,
//! so readers that go through the index never see half an epoch.
#![warn(missing_docs)]

//!
//! Without the default `store` feature the crate is only [`published`]: the public layout,
//! which the browser page reads (no SQLite, no file locks).

pub mod published;

#[cfg(feature = "store")]
mod index;
#[cfg(feature = "store")]
mod store;
#[cfg(feature = "store")]
mod token;

#[cfg(feature = "store")]
pub use index::{EpochRecord, Index};
#[cfg(feature = "store")]
pub use store::*;
#[cfg(feature = "store")]
pub use token::{AccessKey, TokenHash};
