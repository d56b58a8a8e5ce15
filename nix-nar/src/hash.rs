//! NAR hashing: SHA-256 and size computed in the same pass as dumping.
//!
//! [`HashingWriter`] is a [`Write`] adapter that hashes and counts everything written through it
//! (and forwards it); [`dump_and_hash`] dumps a path straight into a hasher. The `nix-hash --type
//! sha256 PATH` of CppNix is the SHA-256 of the NAR.
//!
//! # Example
//! ```
//! let dir = tempfile::tempdir()?;
//! let file = dir.path().join("hello.txt");
//! std::fs::write(&file, b"hello\n")?;
//! let (digest, size) = nix_nar::hash::dump_and_hash(&file)?;
//! assert_eq!(size, 120);
//! assert_eq!(digest[..4], [0x1c, 0x37, 0xd0, 0x1a]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{self, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

/// A [`Write`] adapter that computes the SHA-256 and byte count of what passes through it.
#[derive(Debug, Clone)]
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Returns the inner writer, the SHA-256 digest and the number of bytes written.
    pub fn finish(self) -> (W, [u8; 32], u64) {
        (self.inner, self.hasher.finalize().into(), self.size)
    }
}

impl HashingWriter<io::Sink> {
    /// A hasher that forwards nothing.
    pub fn sink() -> Self {
        Self::new(io::sink())
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner.write_all(buf)?;
        self.hasher.update(buf);
        self.size += buf.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Dumps `path` as a NAR and returns its SHA-256 digest and size, without storing the NAR.
///
/// # Errors
/// As [`dump_path`](crate::dump_path).
pub fn dump_and_hash(path: &Path) -> Result<([u8; 32], u64), crate::Error> {
    let mut h = HashingWriter::sink();
    crate::dump_path(path, &mut h)?;
    let (_, digest, size) = h.finish();
    Ok((digest, size))
}
