//! NAR hashing: SHA-256 and size computed in the same pass as dumping.
//!
//! [`HashingWriter`] is a [`Write`] adapter that hashes and counts everything written through it
//! (and forwards it); [`HashingReader`] does the same for everything read through a [`Read`]
//! (to hash a NAR while it is being restored); [`dump_and_hash`] dumps a path straight into a
//! hasher. The `nix-hash --type
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

use std::io::{self, Read, Write};
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

/// A [`Read`] adapter that computes the SHA-256 and byte count of everything read through it.
///
/// Wrap the input of [`restore`](crate::restore::restore) (under its `BufRead` buffer) to get
/// the NAR hash and size of a NAR in the same pass that restores it. Only bytes actually
/// returned by [`Read::read`] are counted; with a buffered reader on top, that is everything the
/// buffer pulled in, so the input should hold exactly one NAR (the default reader options
/// reject trailing bytes).
///
/// # Example
/// ```
/// use std::io::BufReader;
/// use nix_nar::{dump::Tree, hash::HashingReader};
///
/// let nar = Tree::File { executable: false, contents: b"hi\n".to_vec() }.to_nar()?;
/// let dir = tempfile::tempdir()?;
/// let mut input = HashingReader::new(&nar[..]);
/// nix_nar::restore::restore(BufReader::new(&mut input), &dir.path().join("out"), &Default::default())?;
/// let (_, digest, size) = input.finish();
/// assert_eq!(size, nar.len() as u64);
/// let mut again = nix_nar::hash::HashingWriter::sink();
/// std::io::Write::write_all(&mut again, &nar)?;
/// assert_eq!(again.finish().1, digest);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    size: u64,
}

impl<R> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    /// Bytes read so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Returns the inner reader, the SHA-256 digest and the number of bytes read.
    pub fn finish(self) -> (R, [u8; 32], u64) {
        (self.inner, self.hasher.finalize().into(), self.size)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_reader_counts_what_passes_through_in_any_chunks() -> io::Result<()> {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut r = HashingReader::new(&data[..]);
        let mut buf = [0u8; 37];
        let mut got = Vec::new();
        loop {
            let n = r.read(&mut buf)?;
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        let (_, digest, size) = r.finish();
        assert_eq!(got, data);
        assert_eq!(size, data.len() as u64);
        let want: [u8; 32] = Sha256::digest(&data).into();
        assert_eq!(digest, want);
        Ok(())
    }
}
