//! The crate-wide error type.

/// Any error of this crate. Each operation has its own error enum in its module; this wraps
/// them for callers that do not care which one failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A hash string or digest was invalid.
    #[error(transparent)]
    Hash(#[from] crate::hash::ParseHashError),
    /// A store path or store directory was invalid.
    #[error(transparent)]
    StorePath(#[from] crate::store_path::StorePathError),
    /// A content address string was invalid.
    #[error(transparent)]
    ContentAddress(#[from] crate::content_address::ContentAddressError),
    /// Path info could not be fingerprinted or read from JSON.
    #[error(transparent)]
    PathInfo(#[from] crate::path_info::PathInfoError),
    /// A narinfo was corrupt.
    #[error("NAR info file is corrupt")]
    NarInfo(#[from] crate::narinfo::NarInfoError),
    /// A signing key was invalid.
    #[error(transparent)]
    Key(#[from] crate::narinfo::KeyError),
    /// A signature was invalid.
    #[error(transparent)]
    Signature(#[from] crate::narinfo::SignatureError),
}
