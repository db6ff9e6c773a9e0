//! Per-account access tokens: `HMAC-SHA256(access key, identifier)`, hex. The operator hands
//! each account holder its token once; it opens that account's inclusion proof in every
//! epoch. The index keeps only `SHA-256(token)`, so a leaked index grants no access, and an
//! identifier alone (without the key) gives no token.

use std::fs;
use std::path::Path;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{io, ArchiveError};

const DOMAIN: &[u8] = b"zkmargin access token v1\0";

/// The archive's token secret.
#[derive(Clone)]
pub struct AccessKey([u8; 32]);

/// `SHA-256` of a token's 32 bytes: what the index stores and looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessKey(..)")
    }
}

impl AccessKey {
    /// Reads the key file (64 hex digits), or creates it with fresh randomness (mode 0600 on
    /// Unix) when missing.
    pub fn load_or_create(path: &Path) -> Result<AccessKey, ArchiveError> {
        if path.exists() {
            let text = fs::read_to_string(path).map_err(io(path))?;
            let bytes: [u8; 32] = hex::decode(text.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| ArchiveError::Malformed {
                    path: path.to_path_buf(),
                    reason: "expected 64 hex digits".into(),
                })?;
            return Ok(AccessKey(bytes));
        }
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        let tmp = path.with_extension("tmp");
        let _ = fs::remove_file(&tmp);
        write_private(&tmp, hex::encode(key).as_bytes())?;
        fs::rename(&tmp, path).map_err(io(path))?;
        Ok(AccessKey(key))
    }

    /// The access token of the account `identifier`, as 32 bytes.
    pub fn token(&self, identifier: &str) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("any key length");
        mac.update(DOMAIN);
        mac.update(identifier.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The token as the holder sees it (hex).
    pub fn token_hex(&self, identifier: &str) -> String {
        hex::encode(self.token(identifier))
    }
}

impl TokenHash {
    /// The hash of `token` that the index stores (never the token itself).
    pub fn of(token: &[u8; 32]) -> TokenHash {
        TokenHash(Sha256::digest(token).into())
    }

    /// The hash of a token given as hex; `None` unless it is exactly 64 hex digits.
    pub fn of_hex(token: &str) -> Option<TokenHash> {
        let bytes: [u8; 32] = hex::decode(token).ok()?.try_into().ok()?;
        Some(TokenHash::of(&bytes))
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ArchiveError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(io(path))
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ArchiveError> {
    fs::write(path, bytes).map_err(io(path))
}
