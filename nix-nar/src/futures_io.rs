//! Async NAR writer and reader over `futures::io` (feature `async`).
//!
//! [`AsyncWriter`] mirrors the type-state [`Writer`](crate::writer::Writer): a node is consumed
//! by [`file`](AsyncNode::file), [`symlink`](AsyncNode::symlink) or
//! [`directory`](AsyncNode::directory), entries are checked and must be in strictly increasing
//! bytewise order, and a directory must be closed. Output is buffered internally and file
//! contents are streamed from any [`AsyncRead`].
//!
//! [`AsyncReader`] yields the same events as the sync [`Reader`] (and runs the same parser, fed
//! from an internal buffer that only ever holds a few tokens), with file contents exposed as
//! [`AsyncContents`], an [`AsyncRead`] of exactly the file's size.
//!
//! # Example
//! ```
//! use futures::io::AsyncReadExt;
//! use nix_nar::futures_io::{AsyncEvent, AsyncReader, AsyncWriter};
//!
//! futures::executor::block_on(async {
//!     let mut w = AsyncWriter::new(Vec::new());
//!     let mut dir = w.root().await?.directory().await?;
//!     dir.entry(b"hello.txt")?.file(false, 6, &mut &b"hello\n"[..]).await?;
//!     dir.close().await?;
//!     let (nar, _) = w.finish().await?;
//!
//!     let mut r = AsyncReader::new(&nar[..]);
//!     while let Some(ev) = r.next().await? {
//!         if let AsyncEvent::File { mut contents, .. } = ev {
//!             let mut s = String::new();
//!             contents.read_to_string(&mut s).await?;
//!             assert_eq!(s, "hello\n");
//!         }
//!     }
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{self, BufRead, Read};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::reader::{Error, Options, Pending, Reader, State};
use crate::wire::{self, check_name};
use crate::writer::{self, DEFAULT_BUFFER_SIZE};

/// An async NAR writer over `W`, buffering internally.
#[derive(Debug)]
pub struct AsyncWriter<W> {
    inner: W,
    buf: Vec<u8>,
    cap: usize,
    written: u64,
    open: usize,
    started: bool,
    poisoned: bool,
}

impl<W: AsyncWrite + Unpin> AsyncWriter<W> {
    /// A writer with the default buffer size.
    pub fn new(inner: W) -> Self {
        AsyncWriter {
            inner,
            buf: Vec::with_capacity(DEFAULT_BUFFER_SIZE),
            cap: DEFAULT_BUFFER_SIZE,
            written: 0,
            open: 0,
            started: false,
            poisoned: false,
        }
    }

    /// Writes the magic and returns the root node.
    ///
    /// # Errors
    /// [`writer::Error::Incomplete`] if called twice, [`writer::Error::Io`] if writing fails.
    pub async fn root(&mut self) -> Result<AsyncNode<'_, W>, writer::Error> {
        self.check()?;
        if self.started {
            self.poisoned = true;
            return Err(writer::Error::Incomplete);
        }
        self.started = true;
        for t in [wire::MAGIC, wire::OPEN, wire::TYPE] {
            self.token(t).await?;
        }
        self.open = 1;
        Ok(AsyncNode { w: self })
    }

    /// Flushes and returns the underlying writer and the NAR size.
    ///
    /// # Errors
    /// [`writer::Error::Incomplete`] unless one complete root node was written;
    /// [`writer::Error::Io`] if flushing fails.
    pub async fn finish(mut self) -> Result<(W, u64), writer::Error> {
        self.check()?;
        if !self.started || self.open != 0 {
            return Err(writer::Error::Incomplete);
        }
        self.flush_buf().await?;
        self.inner.flush().await.map_err(writer::Error::Io)?;
        Ok((self.inner, self.written))
    }

    fn check(&self) -> Result<(), writer::Error> {
        if self.poisoned {
            Err(writer::Error::Poisoned)
        } else {
            Ok(())
        }
    }

    async fn flush_buf(&mut self) -> Result<(), writer::Error> {
        if !self.buf.is_empty() {
            if let Err(e) = self.inner.write_all(&self.buf).await {
                self.poisoned = true;
                return Err(writer::Error::Io(e));
            }
            self.buf.clear();
        }
        Ok(())
    }

    async fn token(&mut self, s: &[u8]) -> Result<(), writer::Error> {
        let n = wire::encoded_len(s.len() as u64) as usize;
        if self.buf.len() + n > self.cap {
            self.flush_buf().await?;
        }
        wire::encode_str(&mut self.buf, s);
        self.written += n as u64;
        Ok(())
    }

    async fn contents<R: AsyncRead + Unpin + ?Sized>(
        &mut self,
        size: u64,
        contents: &mut R,
    ) -> Result<(), writer::Error> {
        if self.buf.len() + 8 > self.cap {
            self.flush_buf().await?;
        }
        self.buf.extend_from_slice(&size.to_le_bytes());
        self.written += 8;
        let mut remaining = size;
        while remaining > 0 {
            if self.buf.len() == self.cap {
                self.flush_buf().await?;
            }
            let start = self.buf.len();
            let want = ((self.cap - start) as u64).min(remaining) as usize;
            self.buf.resize(start + want, 0);
            let got = match contents.read(&mut self.buf[start..start + want]).await {
                Ok(n) => n,
                Err(e) => {
                    self.buf.truncate(start);
                    self.poisoned = true;
                    return Err(writer::Error::ReadContents(e));
                }
            };
            self.buf.truncate(start + got);
            if got == 0 {
                self.poisoned = true;
                return Err(writer::Error::ShortContents {
                    expected: size,
                    actual: size - remaining,
                });
            }
            remaining -= got as u64;
            self.written += got as u64;
        }
        let pad = wire::padding_len(size);
        if self.buf.len() + pad > self.cap {
            self.flush_buf().await?;
        }
        self.buf.extend_from_slice(&[0u8; 8][..pad]);
        self.written += pad as u64;
        Ok(())
    }
}

/// A node to be written by an [`AsyncWriter`].
#[derive(Debug)]
#[must_use = "a NAR node must be written"]
pub struct AsyncNode<'a, W> {
    w: &'a mut AsyncWriter<W>,
}

impl<'a, W: AsyncWrite + Unpin> AsyncNode<'a, W> {
    /// Writes a regular file of `size` bytes read from `contents`.
    ///
    /// # Errors
    /// As [`Node::file`](crate::writer::Node::file).
    pub async fn file<R: AsyncRead + Unpin + ?Sized>(
        self,
        executable: bool,
        size: u64,
        contents: &mut R,
    ) -> Result<(), writer::Error> {
        let w = self.w;
        w.check()?;
        w.token(wire::REGULAR).await?;
        if executable {
            w.token(wire::EXECUTABLE).await?;
            w.token(b"").await?;
        }
        w.token(wire::CONTENTS).await?;
        w.contents(size, contents).await?;
        w.token(wire::CLOSE).await?;
        w.open -= 1;
        Ok(())
    }

    /// Writes a symlink.
    ///
    /// # Errors
    /// [`writer::Error::Io`] if writing fails.
    pub async fn symlink(self, target: &[u8]) -> Result<(), writer::Error> {
        let w = self.w;
        w.check()?;
        for t in [wire::SYMLINK, wire::TARGET, target, wire::CLOSE] {
            w.token(t).await?;
        }
        w.open -= 1;
        Ok(())
    }

    /// Starts a directory.
    ///
    /// # Errors
    /// [`writer::Error::Io`] if writing fails.
    pub async fn directory(self) -> Result<AsyncDirectory<'a, W>, writer::Error> {
        let w = self.w;
        w.check()?;
        w.token(wire::DIRECTORY).await?;
        let depth = w.open;
        Ok(AsyncDirectory {
            w,
            depth,
            prev: None,
        })
    }
}

/// A directory being written by an [`AsyncWriter`].
#[derive(Debug)]
#[must_use = "a NAR directory must be closed"]
pub struct AsyncDirectory<'a, W> {
    w: &'a mut AsyncWriter<W>,
    depth: usize,
    prev: Option<Vec<u8>>,
}

impl<W: AsyncWrite + Unpin> AsyncDirectory<'_, W> {
    /// Adds an entry; its tokens are buffered, and written with the node.
    ///
    /// # Errors
    /// As [`Directory::entry`](crate::writer::Directory::entry).
    pub fn entry(&mut self, name: &[u8]) -> Result<AsyncNode<'_, W>, writer::Error> {
        self.w.check()?;
        if self.w.open != self.depth {
            self.w.poisoned = true;
            return Err(writer::Error::Incomplete);
        }
        if let Err(reason) = check_name(name) {
            self.w.poisoned = true;
            return Err(writer::Error::InvalidName {
                name: String::from_utf8_lossy(name).into_owned(),
                reason,
            });
        }
        let mut toks: Vec<&[u8]> = Vec::with_capacity(8);
        match &mut self.prev {
            Some(prev) => {
                if name <= prev.as_slice() {
                    self.w.poisoned = true;
                    return Err(writer::Error::NotSorted {
                        previous: String::from_utf8_lossy(prev).into_owned(),
                        name: String::from_utf8_lossy(name).into_owned(),
                    });
                }
                prev.clear();
                prev.extend_from_slice(name);
                toks.push(wire::CLOSE);
            }
            None => self.prev = Some(name.to_vec()),
        }
        toks.extend_from_slice(&[
            wire::ENTRY,
            wire::OPEN,
            wire::NAME,
            name,
            wire::NODE,
            wire::OPEN,
            wire::TYPE,
        ]);
        // Tokens go to the buffer, which may grow past its nominal size by one name here; it
        // is flushed by the node's next write.
        for t in toks {
            wire::encode_str(&mut self.w.buf, t);
            self.w.written += wire::encoded_len(t.len() as u64);
        }
        self.w.open += 1;
        Ok(AsyncNode { w: self.w })
    }

    /// Closes the directory.
    ///
    /// # Errors
    /// [`writer::Error::Incomplete`] if the last entry's node was not written,
    /// [`writer::Error::Io`] if writing fails.
    pub async fn close(self) -> Result<(), writer::Error> {
        self.w.check()?;
        if self.w.open != self.depth {
            self.w.poisoned = true;
            return Err(writer::Error::Incomplete);
        }
        if self.prev.is_some() {
            self.w.token(wire::CLOSE).await?;
        }
        self.w.token(wire::CLOSE).await?;
        self.w.open -= 1;
        Ok(())
    }
}

/// The buffer the sync parser reads from.
#[derive(Debug, Default)]
pub(crate) struct Feed {
    buf: Vec<u8>,
    pos: usize,
}

impl Read for Feed {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = (self.buf.len() - self.pos).min(out.len());
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl BufRead for Feed {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        Ok(&self.buf[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.buf.len());
    }
}

/// One step of a NAR read by an [`AsyncReader`] (see [`Event`](crate::reader::Event)).
#[derive(Debug)]
#[non_exhaustive]
pub enum AsyncEvent<'a, R> {
    /// A directory starts.
    Directory {
        /// Entry name (empty for the root).
        name: Vec<u8>,
    },
    /// A regular file.
    File {
        /// Entry name (empty for the root).
        name: Vec<u8>,
        /// Whether the executable marker is present.
        executable: bool,
        /// Size of the contents.
        size: u64,
        /// Offset of the first content byte.
        offset: u64,
        /// The contents, an [`AsyncRead`] of exactly `size` bytes.
        contents: AsyncContents<'a, R>,
    },
    /// A symbolic link.
    Symlink {
        /// Entry name (empty for the root).
        name: Vec<u8>,
        /// The target, verbatim.
        target: Vec<u8>,
    },
    /// The innermost open directory ends.
    EndDirectory,
}

/// An async streaming NAR reader over `R`.
#[derive(Debug)]
pub struct AsyncReader<R> {
    inner: R,
    parser: Reader<Feed>,
    eof: bool,
    done: bool,
}

const REFILL: usize = 64 * 1024;

impl<R: AsyncRead + Unpin> AsyncReader<R> {
    /// A reader with default [`Options`].
    pub fn new(inner: R) -> Self {
        Self::with_options(inner, Options::default())
    }

    /// A reader with the given options.
    pub fn with_options(inner: R, options: Options) -> Self {
        AsyncReader {
            inner,
            parser: Reader::with_options(Feed::default(), options),
            eof: false,
            done: false,
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.parser.offset
    }

    fn fail<T>(&mut self, e: Error) -> Result<T, Error> {
        self.parser.state = State::Failed;
        Err(e)
    }

    /// Reads more input into the feed; `false` at end of input.
    async fn refill(&mut self) -> Result<bool, Error> {
        let feed = &mut self.parser.inner;
        if feed.pos > 0 {
            feed.buf.drain(..feed.pos);
            feed.pos = 0;
        }
        let start = feed.buf.len();
        feed.buf.resize(start + REFILL, 0);
        let r = self.inner.read(&mut feed.buf[start..]).await;
        let n = match r {
            Ok(n) => n,
            Err(source) => {
                feed.buf.truncate(start);
                let offset = self.parser.offset;
                return self.fail(Error::Io { offset, source });
            }
        };
        feed.buf.truncate(start + n);
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    /// Skips unread file contents.
    async fn skip_contents(&mut self) -> Result<(), Error> {
        while let State::InFile { remaining, size } = self.parser.state {
            if remaining == 0 {
                break;
            }
            let feed = &mut self.parser.inner;
            let avail = (feed.buf.len() - feed.pos) as u64;
            if avail == 0 {
                if !self.refill().await? {
                    let offset = self.parser.offset;
                    return self.fail(Error::Truncated { offset });
                }
                continue;
            }
            let k = avail.min(remaining);
            feed.pos += k as usize;
            self.parser.offset += k;
            self.parser.state = State::InFile {
                remaining: remaining - k,
                size,
            };
        }
        Ok(())
    }

    /// The next event, or `None` after the root node has ended.
    ///
    /// # Errors
    /// Any [`Error`], as the sync reader.
    pub async fn next(&mut self) -> Result<Option<AsyncEvent<'_, R>>, Error> {
        if self.done {
            return Ok(None);
        }
        self.skip_contents().await?;
        loop {
            let snap = self.parser.snapshot();
            let pos = self.parser.inner.pos;
            match self.parser.step() {
                Ok(true) => break,
                Ok(false) => {
                    self.done = true;
                    if !self.parser.options.allow_trailing_data && !self.eof {
                        // The parser saw an empty feed; look at the real input.
                        if self.refill().await? {
                            let offset = self.parser.offset;
                            return self.fail(Error::TrailingData { offset });
                        }
                    }
                    return Ok(None);
                }
                Err(Error::Truncated { .. }) if !self.eof => {
                    self.parser.rewind(snap);
                    self.parser.inner.pos = pos;
                    self.refill().await?;
                }
                Err(e) => return self.fail(e),
            }
        }
        Ok(Some(
            match std::mem::replace(&mut self.parser.pending, Pending::None) {
                Pending::Directory(name) => AsyncEvent::Directory { name },
                Pending::Symlink(name, target) => AsyncEvent::Symlink { name, target },
                Pending::EndDirectory | Pending::None => AsyncEvent::EndDirectory,
                Pending::File(name, executable, size) => AsyncEvent::File {
                    name,
                    executable,
                    size,
                    offset: self.parser.offset,
                    contents: AsyncContents { r: self },
                },
            },
        ))
    }
}

/// The contents of a regular file read by an [`AsyncReader`]: an [`AsyncRead`] of exactly the
/// file's size.
#[derive(Debug)]
pub struct AsyncContents<'a, R> {
    r: &'a mut AsyncReader<R>,
}

impl<R: AsyncRead + Unpin> AsyncRead for AsyncContents<'_, R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = &mut *this.r;
        let State::InFile { remaining, size } = r.parser.state else {
            return Poll::Ready(Ok(0));
        };
        if remaining == 0 || out.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let want = (out.len() as u64).min(remaining) as usize;
        let feed = &mut r.parser.inner;
        let avail = feed.buf.len() - feed.pos;
        let n = if avail > 0 {
            let n = avail.min(want);
            out[..n].copy_from_slice(&feed.buf[feed.pos..feed.pos + n]);
            feed.pos += n;
            n
        } else {
            match Pin::new(&mut r.inner).poll_read(cx, &mut out[..want]) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(0)) => {
                    let offset = r.parser.offset;
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        Error::Truncated { offset },
                    )));
                }
                Poll::Ready(Ok(n)) => n,
            }
        };
        r.parser.offset += n as u64;
        r.parser.state = State::InFile {
            remaining: remaining - n as u64,
            size,
        };
        Poll::Ready(Ok(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::Tree;
    use futures::executor::block_on;

    fn tree() -> Tree {
        Tree::Directory(
            [
                (
                    b"a".to_vec(),
                    Tree::File {
                        executable: true,
                        contents: (0..200_000u32).map(|i| i as u8).collect(),
                    },
                ),
                (
                    b"b".to_vec(),
                    Tree::Directory(
                        [(
                            b"c".to_vec(),
                            Tree::Symlink {
                                target: b"../a".to_vec(),
                            },
                        )]
                        .into(),
                    ),
                ),
            ]
            .into(),
        )
    }

    type Entries = std::collections::BTreeMap<Vec<u8>, Tree>;

    /// Re-serialises events from the async reader through the async writer.
    async fn copy(nar: &[u8]) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        let mut r = AsyncReader::new(nar);
        let mut w = AsyncWriter::new(Vec::new());
        // Collect into a Tree (contents read asynchronously), then write the tree.
        let mut stack: Vec<(Vec<u8>, Entries)> = Vec::new();
        let mut root = None;
        while let Some(ev) = r.next().await? {
            let (name, node) = match ev {
                AsyncEvent::Directory { name } => {
                    stack.push((name, Default::default()));
                    continue;
                }
                AsyncEvent::EndDirectory => {
                    let (n, e) = stack.pop().ok_or("unbalanced")?;
                    (n, Tree::Directory(e))
                }
                AsyncEvent::File {
                    name,
                    executable,
                    mut contents,
                    ..
                } => {
                    let mut v = Vec::new();
                    contents.read_to_end(&mut v).await?;
                    (
                        name,
                        Tree::File {
                            executable,
                            contents: v,
                        },
                    )
                }
                AsyncEvent::Symlink { name, target } => (name, Tree::Symlink { target }),
            };
            match stack.last_mut() {
                Some((_, e)) => {
                    e.insert(name, node);
                }
                None => root = Some(node),
            }
        }
        let t = root.ok_or("no root")?;
        write_async(&t, w.root().await?).await?;
        Ok(w.finish().await?.0)
    }

    fn write_async<'a, W: AsyncWrite + Unpin>(
        t: &'a Tree,
        node: AsyncNode<'a, W>,
    ) -> Pin<Box<dyn std::future::Future<Output = Result<(), writer::Error>> + 'a>> {
        Box::pin(async move {
            match t {
                Tree::File {
                    executable,
                    contents,
                } => {
                    node.file(*executable, contents.len() as u64, &mut &contents[..])
                        .await
                }
                Tree::Symlink { target } => node.symlink(target).await,
                Tree::Directory(entries) => {
                    let mut d = node.directory().await?;
                    for (n, c) in entries {
                        write_async(c, d.entry(n)?).await?;
                    }
                    d.close().await
                }
            }
        })
    }

    #[test]
    fn async_roundtrip_matches_sync_bytes() -> Result<(), Box<dyn std::error::Error>> {
        let nar = tree().to_nar()?;
        assert_eq!(block_on(copy(&nar))?, nar);
        Ok(())
    }

    #[test]
    fn async_reader_rejects_like_sync() -> Result<(), Box<dyn std::error::Error>> {
        let nar = tree().to_nar()?;
        for cut in (0..nar.len()).step_by(nar.len() / 40 + 1).chain(0..200) {
            assert!(block_on(copy(&nar[..cut])).is_err(), "cut {cut}");
        }
        let mut trailing = nar.clone();
        trailing.push(0);
        assert!(block_on(copy(&trailing)).is_err());
        Ok(())
    }

    #[test]
    fn unread_contents_are_skipped() -> Result<(), Box<dyn std::error::Error>> {
        let nar = tree().to_nar()?;
        block_on(async {
            let mut r = AsyncReader::new(&nar[..]);
            let mut n = 0;
            while r.next().await?.is_some() {
                n += 1;
            }
            assert_eq!(n, 6);
            Ok::<(), Error>(())
        })?;
        Ok(())
    }
}
