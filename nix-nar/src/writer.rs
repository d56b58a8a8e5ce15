//! Type-state NAR writer: it cannot produce an invalid NAR.
//!
//! [`Writer::new`] wraps any [`Write`]; [`Writer::root`] writes the magic and hands out the root
//! [`Node`]. A node is consumed by exactly one of [`Node::file`], [`Node::symlink`] or
//! [`Node::directory`]. A [`Directory`] hands out one [`Node`] per [`Directory::entry`]; entry
//! names are checked ([`check_name`]) and must come in strictly
//! increasing bytewise order, and the directory must be [`close`](Directory::close)d.
//! Misuse that the types cannot prevent (dropping a node without writing it) is detected at run
//! time and reported as [`Error::Incomplete`]; after any error the writer refuses further work.
//!
//! Output is buffered internally in one reusable buffer, so tokens never cause small writes, and
//! file contents are streamed through the same buffer: memory use does not depend on file size.
//!
//! # Example
//! ```
//! use nix_nar::writer::Writer;
//!
//! let mut w = Writer::new(Vec::new());
//! let mut dir = w.root()?.directory()?;
//! dir.entry(b"a.txt")?.file(false, 6, &mut &b"hello\n"[..])?;
//! dir.entry(b"b")?.symlink(b"a.txt")?;
//! dir.close()?;
//! let (nar, size) = w.finish()?;
//! assert_eq!(nar.len() as u64, size);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{self, Read, Write};

use crate::wire::{self, check_name, NameError};

/// Default size of the internal write buffer (256 KiB).
pub const DEFAULT_BUFFER_SIZE: usize = 256 * 1024;

/// Errors of the NAR writer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Writing to the underlying writer failed.
    #[error("cannot write NAR output")]
    Io(#[source] io::Error),
    /// Reading the contents of a file failed.
    #[error("cannot read file contents")]
    ReadContents(#[source] io::Error),
    /// A file's contents were shorter than the size announced.
    #[error("file contents ended after {actual} of {expected} bytes")]
    ShortContents {
        /// Announced size.
        expected: u64,
        /// Bytes actually read.
        actual: u64,
    },
    /// An entry name is not allowed.
    #[error("invalid entry name {name:?}")]
    InvalidName {
        /// The offending name (lossily decoded).
        name: String,
        /// The rule it breaks.
        #[source]
        reason: NameError,
    },
    /// An entry name is not strictly greater (bytewise) than the previous one.
    #[error("entry {name:?} is not after {previous:?} in bytewise order")]
    NotSorted {
        /// The previous entry name (lossily decoded).
        previous: String,
        /// The offending name (lossily decoded).
        name: String,
    },
    /// A node was dropped without being written, a directory was not closed, or
    /// [`Writer::root`] was called twice.
    #[error("NAR is incomplete or a node was written out of order")]
    Incomplete,
    /// An earlier error left the writer in an unknown state.
    #[error("the NAR writer failed earlier and cannot continue")]
    Poisoned,
}

/// A NAR writer over `W`, buffering internally.
pub struct Writer<W: Write> {
    inner: W,
    /// Always `cap` bytes long; `len` of them are pending output.
    buf: Vec<u8>,
    len: usize,
    cap: usize,
    written: u64,
    /// Number of nodes handed out and not yet completely written.
    open: usize,
    started: bool,
    poisoned: bool,
}

impl<W: Write> Writer<W> {
    /// A writer with the default buffer size.
    pub fn new(inner: W) -> Self {
        Self::with_capacity(DEFAULT_BUFFER_SIZE, inner)
    }

    /// A writer with a buffer of `cap` bytes (at least 4 KiB is used).
    pub fn with_capacity(cap: usize, inner: W) -> Self {
        let cap = cap.max(4096);
        Writer {
            inner,
            buf: vec![0; cap],
            len: 0,
            cap,
            written: 0,
            open: 0,
            started: false,
            poisoned: false,
        }
    }

    /// Writes the magic and returns the root node.
    ///
    /// # Errors
    /// [`Error::Incomplete`] if called twice, [`Error::Io`] if writing fails.
    pub fn root(&mut self) -> Result<Node<'_, W>, Error> {
        self.check()?;
        if self.started {
            self.poisoned = true;
            return Err(Error::Incomplete);
        }
        self.started = true;
        self.token(wire::MAGIC)?;
        self.token(wire::OPEN)?;
        self.token(wire::TYPE)?;
        self.open = 1;
        Ok(Node { w: self })
    }

    /// Number of NAR bytes produced so far (including those still buffered).
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// Flushes and returns the underlying writer and the total NAR size.
    ///
    /// # Errors
    /// [`Error::Incomplete`] unless exactly one complete root node was written;
    /// [`Error::Io`] if flushing fails.
    pub fn finish(mut self) -> Result<(W, u64), Error> {
        self.check()?;
        if !self.started || self.open != 0 {
            return Err(Error::Incomplete);
        }
        self.flush_buf()?;
        self.inner.flush().map_err(Error::Io)?;
        Ok((self.inner, self.written))
    }

    fn check(&self) -> Result<(), Error> {
        if self.poisoned {
            Err(Error::Poisoned)
        } else {
            Ok(())
        }
    }

    fn fail<T>(&mut self, e: Error) -> Result<T, Error> {
        self.poisoned = true;
        Err(e)
    }

    fn flush_buf(&mut self) -> Result<(), Error> {
        if self.len > 0 {
            if let Err(e) = self.inner.write_all(&self.buf[..self.len]) {
                return self.fail(Error::Io(e));
            }
            self.len = 0;
        }
        Ok(())
    }

    fn reserve(&mut self, n: usize) -> Result<(), Error> {
        if self.len + n > self.cap {
            self.flush_buf()?;
        }
        Ok(())
    }

    /// Appends bytes that fit (after [`reserve`](Self::reserve)).
    fn put(&mut self, b: &[u8]) {
        self.buf[self.len..self.len + b.len()].copy_from_slice(b);
        self.len += b.len();
    }

    /// Appends one string token.
    fn token(&mut self, s: &[u8]) -> Result<(), Error> {
        let n = wire::encoded_len(s.len() as u64) as usize;
        self.reserve(n)?;
        if n > self.cap {
            // Only long symlink targets or names get here; write them straight through.
            let mut tmp = Vec::with_capacity(n);
            wire::encode_str(&mut tmp, s);
            if let Err(e) = self.inner.write_all(&tmp) {
                return self.fail(Error::Io(e));
            }
        } else {
            self.put(&(s.len() as u64).to_le_bytes());
            self.put(s);
            self.put(&[0u8; 8][..wire::padding_len(s.len() as u64)]);
        }
        self.written += n as u64;
        Ok(())
    }

    fn raw_u64(&mut self, v: u64) -> Result<(), Error> {
        self.reserve(8)?;
        self.put(&v.to_le_bytes());
        self.written += 8;
        Ok(())
    }

    /// Streams exactly `size` bytes of `contents` plus padding.
    fn contents(&mut self, size: u64, contents: &mut dyn Read) -> Result<(), Error> {
        self.raw_u64(size)?;
        let mut remaining = size;
        while remaining > 0 {
            if self.len == self.cap {
                self.flush_buf()?;
            }
            let start = self.len;
            let room = (self.cap - start) as u64;
            let want = room.min(remaining) as usize;
            let got = loop {
                match contents.read(&mut self.buf[start..start + want]) {
                    Ok(n) => break n.min(want),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return self.fail(Error::ReadContents(e)),
                }
            };
            self.len += got;
            if got == 0 {
                return self.fail(Error::ShortContents {
                    expected: size,
                    actual: size - remaining,
                });
            }
            remaining -= got as u64;
            self.written += got as u64;
        }
        let pad = wire::padding_len(size);
        self.reserve(pad)?;
        self.put(&[0u8; 8][..pad]);
        self.written += pad as u64;
        Ok(())
    }
}

impl<W: Write + std::fmt::Debug> std::fmt::Debug for Writer<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("inner", &self.inner)
            .field("buffered", &self.len)
            .field("written", &self.written)
            .field("open", &self.open)
            .field("poisoned", &self.poisoned)
            .finish()
    }
}

/// A node to be written; consumed by [`file`](Node::file), [`symlink`](Node::symlink) or
/// [`directory`](Node::directory).
#[derive(Debug)]
#[must_use = "a NAR node must be written"]
pub struct Node<'a, W: Write> {
    w: &'a mut Writer<W>,
}

impl<'a, W: Write> Node<'a, W> {
    /// Writes a regular file of `size` bytes read from `contents` (exactly `size` bytes are read;
    /// extra bytes are left unread).
    ///
    /// # Errors
    /// [`Error::ShortContents`] if `contents` ends early, [`Error::ReadContents`] if reading
    /// fails, [`Error::Io`] if writing fails.
    pub fn file<R: Read + ?Sized>(
        self,
        executable: bool,
        size: u64,
        contents: &mut R,
    ) -> Result<(), Error> {
        let w = self.w;
        w.check()?;
        w.token(wire::REGULAR)?;
        if executable {
            w.token(wire::EXECUTABLE)?;
            w.token(b"")?;
        }
        w.token(wire::CONTENTS)?;
        let mut adapter = DynRead(contents);
        w.contents(size, &mut adapter)?;
        w.token(wire::CLOSE)?;
        w.open -= 1;
        Ok(())
    }

    /// Writes a regular file whose contents are `data`.
    ///
    /// # Errors
    /// [`Error::Io`] if writing fails.
    pub fn file_bytes(self, executable: bool, data: &[u8]) -> Result<(), Error> {
        self.file(executable, data.len() as u64, &mut &data[..])
    }

    /// Writes a symlink with `target` (stored verbatim).
    ///
    /// # Errors
    /// [`Error::Io`] if writing fails.
    pub fn symlink(self, target: &[u8]) -> Result<(), Error> {
        let w = self.w;
        w.check()?;
        w.token(wire::SYMLINK)?;
        w.token(wire::TARGET)?;
        w.token(target)?;
        w.token(wire::CLOSE)?;
        w.open -= 1;
        Ok(())
    }

    /// Starts a directory; add entries with [`Directory::entry`] and finish with
    /// [`Directory::close`].
    ///
    /// # Errors
    /// [`Error::Io`] if writing fails.
    pub fn directory(self) -> Result<Directory<'a, W>, Error> {
        let w = self.w;
        w.check()?;
        w.token(wire::DIRECTORY)?;
        let depth = w.open;
        Ok(Directory {
            w,
            depth,
            prev: None,
        })
    }
}

struct DynRead<'r, R: Read + ?Sized>(&'r mut R);

impl<R: Read + ?Sized> Read for DynRead<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

/// A directory being written. Entries must be added in strictly increasing bytewise order.
#[derive(Debug)]
#[must_use = "a NAR directory must be closed"]
pub struct Directory<'a, W: Write> {
    w: &'a mut Writer<W>,
    depth: usize,
    prev: Option<Vec<u8>>,
}

impl<W: Write> Directory<'_, W> {
    /// Adds an entry called `name` and returns its node, which must be written before the next
    /// entry is added or the directory is closed.
    ///
    /// # Errors
    /// [`Error::InvalidName`], [`Error::NotSorted`], [`Error::Incomplete`] if the previous entry's
    /// node was not written, [`Error::Io`] if writing fails.
    pub fn entry(&mut self, name: &[u8]) -> Result<Node<'_, W>, Error> {
        self.w.check()?;
        if self.w.open != self.depth {
            return self.w.fail(Error::Incomplete);
        }
        if let Err(reason) = check_name(name) {
            return self.w.fail(Error::InvalidName {
                name: String::from_utf8_lossy(name).into_owned(),
                reason,
            });
        }
        match &mut self.prev {
            Some(prev) => {
                if name <= prev.as_slice() {
                    let previous = String::from_utf8_lossy(prev).into_owned();
                    return self.w.fail(Error::NotSorted {
                        previous,
                        name: String::from_utf8_lossy(name).into_owned(),
                    });
                }
                prev.clear();
                prev.extend_from_slice(name);
                self.w.token(wire::CLOSE)?;
            }
            None => self.prev = Some(name.to_vec()),
        }
        self.w.token(wire::ENTRY)?;
        self.w.token(wire::OPEN)?;
        self.w.token(wire::NAME)?;
        self.w.token(name)?;
        self.w.token(wire::NODE)?;
        self.w.token(wire::OPEN)?;
        self.w.token(wire::TYPE)?;
        self.w.open += 1;
        Ok(Node { w: self.w })
    }

    /// Closes the directory.
    ///
    /// # Errors
    /// [`Error::Incomplete`] if the last entry's node was not written, [`Error::Io`] if writing
    /// fails.
    pub fn close(self) -> Result<(), Error> {
        self.w.check()?;
        if self.w.open != self.depth {
            return self.w.fail(Error::Incomplete);
        }
        if self.prev.is_some() {
            self.w.token(wire::CLOSE)?;
        }
        self.w.token(wire::CLOSE)?;
        self.w.open -= 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nar_of(f: impl FnOnce(Node<'_, Vec<u8>>) -> Result<(), Error>) -> Result<Vec<u8>, Error> {
        let mut w = Writer::new(Vec::new());
        f(w.root()?)?;
        Ok(w.finish()?.0)
    }

    #[test]
    fn hello_file_is_120_bytes() -> Result<(), Error> {
        let nar = nar_of(|n| n.file_bytes(false, b"hello\n"))?;
        assert_eq!(nar.len(), 120);
        Ok(())
    }

    #[test]
    fn rejects_unsorted_and_bad_names() -> Result<(), Error> {
        let mut w = Writer::new(Vec::new());
        let mut d = w.root()?.directory()?;
        d.entry(b"b")?.file_bytes(false, b"")?;
        assert!(matches!(d.entry(b"a"), Err(Error::NotSorted { .. })));
        assert!(matches!(d.entry(b"c"), Err(Error::Poisoned)));

        let mut w = Writer::new(Vec::new());
        let mut d = w.root()?.directory()?;
        assert!(matches!(d.entry(b".."), Err(Error::InvalidName { .. })));
        Ok(())
    }

    #[test]
    fn dropped_node_is_detected() -> Result<(), Error> {
        let mut w = Writer::new(Vec::new());
        let mut d = w.root()?.directory()?;
        drop(d.entry(b"a")?);
        assert!(matches!(d.close(), Err(Error::Incomplete)));

        let mut w = Writer::new(Vec::new());
        drop(w.root()?);
        assert!(matches!(w.finish(), Err(Error::Incomplete)));
        Ok(())
    }

    #[test]
    fn short_contents() -> Result<(), Error> {
        let mut w = Writer::with_capacity(0, Vec::new());
        let r = w.root()?.file(false, 10, &mut &b"abc"[..]);
        assert!(matches!(
            r,
            Err(Error::ShortContents {
                expected: 10,
                actual: 3
            })
        ));
        Ok(())
    }

    #[test]
    fn large_contents_through_small_buffer() -> Result<(), Error> {
        let data: Vec<u8> = (0..100_003u32).map(|i| (i % 251) as u8).collect();
        let mut w = Writer::with_capacity(4096, Vec::new());
        w.root()?.file_bytes(true, &data)?;
        let (nar, size) = w.finish()?;
        assert_eq!(nar.len() as u64, size);
        assert!(nar.windows(data.len()).any(|win| win == &data[..]));
        Ok(())
    }
}
