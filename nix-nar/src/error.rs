//! The crate-level [`Error`], wrapping the error of each operation.

/// Any error of this crate. Each operation has its own error type in its module; this enum wraps
/// them all, and its `Display` is the inner error's.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Writing a NAR failed.
    #[error(transparent)]
    Write(#[from] crate::writer::Error),
    /// Dumping a path failed.
    #[error(transparent)]
    Dump(#[from] crate::dump::Error),
}
