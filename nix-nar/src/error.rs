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
    /// Reading a NAR failed.
    #[error(transparent)]
    Read(#[from] crate::reader::Error),
    /// Re-serialising a NAR failed.
    #[error(transparent)]
    Transcode(#[from] crate::reader::TranscodeError),
    /// Restoring a NAR failed.
    #[error(transparent)]
    Restore(#[from] crate::restore::Error),
    /// Listing a NAR or extracting a file failed.
    #[error(transparent)]
    Listing(#[from] crate::listing::Error),
}
