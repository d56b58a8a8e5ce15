//! Streaming NAR reader: a pull parser of [`Event`]s over any [`BufRead`].
//!
//! [`Reader::next`] returns one event at a time: the start of a directory, a symlink, a regular
//! file, or the end of a directory. A file's contents are exposed as [`Contents`], a bounded
//! [`Read`] of exactly the file's size: nothing is buffered whole, and contents left unread are
//! skipped by the next call to [`next`](Reader::next). Entry names are the bare names; the root
//! node has an empty name.
//!
//! The reader accepts only canonical NARs and rejects everything else with an [`Error`] that
//! carries the byte offset of the offending token: bad magic, truncation, non-zero padding,
//! unknown tokens or fields, several `type` fields, a non-empty executable marker, invalid entry
//! names, entries not in strictly increasing bytewise order (this includes duplicates), lengths
//! above the [`Limits`], and trailing bytes after the root node (unless
//! [`Options::allow_trailing_data`] is set). It never panics and never allocates more than the
//! limits allow, whatever the input.
//!
//! # Example
//! ```
//! use std::io::Read;
//! use nix_nar::reader::{Event, Reader};
//! use nix_nar::dump::Tree;
//!
//! let nar = Tree::Directory([(b"a".to_vec(), Tree::File {
//!     executable: false,
//!     contents: b"hello\n".to_vec(),
//! })].into()).to_nar()?;
//! let mut r = Reader::new(&nar[..]);
//! let mut seen = Vec::new();
//! while let Some(ev) = r.next()? {
//!     match ev {
//!         Event::File { name, mut contents, .. } => {
//!             let mut s = String::new();
//!             contents.read_to_string(&mut s)?;
//!             seen.push(format!("{}={s}", String::from_utf8_lossy(&name)));
//!         }
//!         Event::Directory { .. } => seen.push("dir".into()),
//!         Event::EndDirectory => seen.push("end".into()),
//!         _ => {}
//!     }
//! }
//! assert_eq!(seen, ["dir", "a=hello\n", "end"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::io::{self, BufRead, Read, Write};

/// Directories being built: name and entries so far.
type OpenDirs = Vec<(Vec<u8>, BTreeMap<Vec<u8>, Tree>)>;

use crate::dump::Tree;
use crate::wire::{self, check_name, Limits, NameError, MAX_KEYWORD_LEN};
use crate::writer::{self, Node, Writer};

/// Errors of the NAR reader. Each names the byte offset (from the start of the NAR) of the
/// token or byte that is wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading the input failed.
    #[error("cannot read NAR at byte offset {offset}")]
    Io {
        /// Offset of the read that failed.
        offset: u64,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The input ended in the middle of the NAR.
    #[error("unexpected end of NAR at byte offset {offset}")]
    Truncated {
        /// Offset where more input was needed.
        offset: u64,
    },
    /// The input does not start with the `nix-archive-1` magic.
    #[error("bad archive: input doesn't look like a Nix archive (byte offset {offset})")]
    BadMagic {
        /// Always 0.
        offset: u64,
    },
    /// A padding byte is not zero.
    #[error("non-zero padding at byte offset {offset}")]
    NonZeroPadding {
        /// Offset of the first padding byte of that string.
        offset: u64,
    },
    /// A token other than the grammar's was found.
    #[error("expected {expected} at byte offset {offset}, found {found:?}")]
    UnexpectedToken {
        /// Offset of the token.
        offset: u64,
        /// What the grammar allows here.
        expected: &'static str,
        /// The token found (lossily decoded).
        found: String,
    },
    /// A node has a field the grammar does not allow for its type.
    #[error("bad archive: unknown field {field} at byte offset {offset}")]
    UnknownField {
        /// Offset of the field token.
        offset: u64,
        /// The field (lossily decoded).
        field: String,
    },
    /// A node has an unknown type.
    #[error("bad archive: unknown file type {file_type} at byte offset {offset}")]
    UnknownType {
        /// Offset of the type token.
        offset: u64,
        /// The type (lossily decoded).
        file_type: String,
    },
    /// A node has a second `type` field.
    #[error("bad archive: multiple type fields at byte offset {offset}")]
    MultipleTypeFields {
        /// Offset of the second `type` token.
        offset: u64,
    },
    /// The executable marker is followed by a non-empty string.
    #[error("executable marker has non-empty value at byte offset {offset}")]
    NonEmptyExecutableMarker {
        /// Offset of the marker's value.
        offset: u64,
    },
    /// An entry name is not allowed.
    #[error("NAR contains invalid file name {name:?} at byte offset {offset}")]
    InvalidName {
        /// Offset of the name token.
        offset: u64,
        /// The name (lossily decoded).
        name: String,
        /// The rule it breaks.
        #[source]
        reason: NameError,
    },
    /// An entry name is not strictly greater than the previous one (unsorted or duplicate).
    #[error("NAR directory is not sorted: {name:?} after {previous:?} at byte offset {offset}")]
    NotSorted {
        /// Offset of the name token.
        offset: u64,
        /// The previous name (lossily decoded).
        previous: String,
        /// The offending name (lossily decoded).
        name: String,
    },
    /// A length is above its limit.
    #[error("{what} of {len} bytes at byte offset {offset} exceeds the limit of {limit}")]
    TooLong {
        /// Offset of the length field.
        offset: u64,
        /// What is too long (`name`, `symlink target`, `token`, `file`).
        what: &'static str,
        /// The length read.
        len: u64,
        /// The limit.
        limit: u64,
    },
    /// Directories are nested deeper than the limit.
    #[error("directories nested deeper than {limit} at byte offset {offset}")]
    TooDeep {
        /// Offset of the `directory` token.
        offset: u64,
        /// The limit.
        limit: usize,
    },
    /// Bytes follow the root node.
    #[error("trailing data after the NAR at byte offset {offset}")]
    TrailingData {
        /// Offset of the first trailing byte.
        offset: u64,
    },
    /// An earlier error left the reader in an unknown state.
    #[error("the NAR reader failed earlier and cannot continue")]
    Poisoned,
}

impl Error {
    /// Turns an error of reading [`Contents`] back into a reader error: a wrapped reader error is
    /// unwrapped, any other I/O error becomes [`Error::Io`] at `offset`.
    pub fn from_contents_io(e: io::Error, offset: u64) -> Error {
        if e.get_ref().is_some_and(|i| i.is::<Error>()) {
            if let Some(inner) = e.into_inner() {
                if let Ok(re) = inner.downcast::<Error>() {
                    return *re;
                }
            }
            return Error::Poisoned;
        }
        Error::Io { offset, source: e }
    }

    /// The byte offset the error refers to, if any.
    pub fn offset(&self) -> Option<u64> {
        match self {
            Error::Io { offset, .. }
            | Error::Truncated { offset }
            | Error::BadMagic { offset }
            | Error::NonZeroPadding { offset }
            | Error::UnexpectedToken { offset, .. }
            | Error::UnknownField { offset, .. }
            | Error::UnknownType { offset, .. }
            | Error::MultipleTypeFields { offset }
            | Error::NonEmptyExecutableMarker { offset }
            | Error::InvalidName { offset, .. }
            | Error::NotSorted { offset, .. }
            | Error::TooLong { offset, .. }
            | Error::TooDeep { offset, .. }
            | Error::TrailingData { offset } => Some(*offset),
            Error::Poisoned => None,
        }
    }
}

/// Knobs of the reader.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Caps on untrusted lengths and nesting.
    pub limits: Limits,
    /// Accept (and leave unread) bytes after the root node, as CppNix 2.8 does. Off by default.
    pub allow_trailing_data: bool,
}

/// One step of a NAR.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a, R> {
    /// A directory starts; its entries follow, then [`Event::EndDirectory`].
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
        /// Offset of the first content byte in the NAR (CppNix's `narOffset`).
        offset: u64,
        /// The contents: a [`Read`] of exactly `size` bytes.
        contents: Contents<'a, R>,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Start,
    /// Inside file contents: bytes left, then padding and `)`.
    InFile {
        remaining: u64,
        size: u64,
    },
    /// A node just ended.
    AfterNode,
    /// Inside a directory, before `entry` or `)`.
    InDir,
    Done,
    Failed,
}

/// A streaming NAR reader over `R`.
#[derive(Debug)]
pub struct Reader<R> {
    pub(crate) inner: R,
    pub(crate) offset: u64,
    pub(crate) options: Options,
    /// Previous entry name of each open directory.
    pub(crate) stack: Vec<Option<Vec<u8>>>,
    pub(crate) state: State,
    tok: Vec<u8>,
    pub(crate) pending: Pending,
}

/// The parser state saved before a step, to retry it when more input has arrived (used by the
/// async reader, which feeds the parser from a buffer).
#[cfg(feature = "async")]
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    offset: u64,
    stack: Vec<Option<Vec<u8>>>,
    state: State,
}

#[cfg(feature = "async")]
impl<R> Reader<R> {
    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot {
            offset: self.offset,
            stack: self.stack.clone(),
            state: self.state,
        }
    }

    pub(crate) fn rewind(&mut self, s: Snapshot) {
        self.offset = s.offset;
        self.stack = s.stack;
        self.state = s.state;
        self.pending = Pending::None;
    }
}

#[derive(Debug)]
pub(crate) enum Pending {
    None,
    Directory(Vec<u8>),
    Symlink(Vec<u8>, Vec<u8>),
    File(Vec<u8>, bool, u64),
    EndDirectory,
}

impl<R: BufRead> Reader<R> {
    /// A reader with default [`Options`].
    pub fn new(inner: R) -> Self {
        Self::with_options(inner, Options::default())
    }

    /// A reader with the given options.
    pub fn with_options(inner: R, options: Options) -> Self {
        Reader {
            inner,
            offset: 0,
            options,
            stack: Vec::new(),
            state: State::Start,
            tok: Vec::with_capacity(64),
            pending: Pending::None,
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Number of directories currently open.
    pub fn depth(&self) -> usize {
        self.stack.len()
    }

    /// Returns the inner reader (positioned after the NAR if it was read to the end).
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The next event, or `None` after the root node has ended (and no trailing data was found).
    ///
    /// # Errors
    /// Any [`Error`]; after an error, every further call returns [`Error::Poisoned`].
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Event<'_, R>>, Error> {
        match self.step() {
            Ok(true) => Ok(Some(self.event())),
            Ok(false) => Ok(None),
            Err(e) => {
                self.state = State::Failed;
                Err(e)
            }
        }
    }

    /// Reads the whole NAR into an in-memory [`Tree`] (file contents included: only for NARs
    /// known to be small).
    ///
    /// # Errors
    /// Any [`Error`].
    pub fn read_tree(mut self) -> Result<Tree, Error> {
        let mut stack: OpenDirs = Vec::new();
        while let Some(ev) = self.next()? {
            let (name, node) = match ev {
                Event::Directory { name } => {
                    stack.push((name, BTreeMap::new()));
                    continue;
                }
                Event::EndDirectory => {
                    let (name, entries) = stack.pop().ok_or(Error::Poisoned)?;
                    (name, Tree::Directory(entries))
                }
                Event::File {
                    name,
                    executable,
                    size,
                    offset,
                    mut contents,
                } => {
                    let mut data = Vec::with_capacity(size.min(1 << 20) as usize);
                    contents
                        .read_to_end(&mut data)
                        .map_err(|source| Error::Io { offset, source })?;
                    (
                        name,
                        Tree::File {
                            executable,
                            contents: data,
                        },
                    )
                }
                Event::Symlink { name, target } => (name, Tree::Symlink { target }),
            };
            match stack.last_mut() {
                Some((_, entries)) => {
                    entries.insert(name, node);
                }
                None => {
                    self.finish()?;
                    return Ok(node);
                }
            }
        }
        Err(Error::Poisoned)
    }

    /// Reads to the end of the NAR and checks that nothing follows it (unless allowed).
    ///
    /// # Errors
    /// Any [`Error`].
    pub fn finish(&mut self) -> Result<(), Error> {
        while self.next()?.is_some() {}
        Ok(())
    }

    fn event(&mut self) -> Event<'_, R> {
        // `step` left what it parsed in `self.pending`.
        match std::mem::replace(&mut self.pending, Pending::None) {
            Pending::Directory(name) => Event::Directory { name },
            Pending::Symlink(name, target) => Event::Symlink { name, target },
            Pending::EndDirectory | Pending::None => Event::EndDirectory,
            Pending::File(name, executable, size) => Event::File {
                name,
                executable,
                size,
                offset: self.offset,
                contents: Contents { r: self },
            },
        }
    }
}

impl<R: BufRead> Reader<R> {
    /// Advances to the next event; `Ok(true)` if one is pending.
    pub(crate) fn step(&mut self) -> Result<bool, Error> {
        loop {
            match self.state {
                State::Failed => return Err(Error::Poisoned),
                State::Done => return Ok(false),
                State::Start => {
                    let at = self.offset;
                    match self.read_token(MAX_KEYWORD_LEN, "token") {
                        Ok(()) if self.tok == wire::MAGIC => {}
                        Ok(()) | Err(Error::TooLong { .. }) => {
                            return Err(Error::BadMagic { offset: at })
                        }
                        Err(e) => return Err(e),
                    }
                    self.node(Vec::new())?;
                    return Ok(true);
                }
                State::InFile { remaining, size } => {
                    self.skip(remaining)?;
                    self.padding(size)?;
                    self.expect(wire::CLOSE, "')'")?;
                    self.state = State::AfterNode;
                }
                State::AfterNode => {
                    if self.stack.is_empty() {
                        self.state = State::Done;
                        if !self.options.allow_trailing_data {
                            let buf = self.fill()?;
                            if !buf.is_empty() {
                                return Err(Error::TrailingData {
                                    offset: self.offset,
                                });
                            }
                        }
                        return Ok(false);
                    }
                    // Close the directory entry.
                    self.expect(wire::CLOSE, "')'")?;
                    self.state = State::InDir;
                }
                State::InDir => {
                    let at = self.offset;
                    self.keyword()?;
                    if self.tok == wire::ENTRY {
                        self.expect(wire::OPEN, "'('")?;
                        self.expect(wire::NAME, "'name'")?;
                        let name = self.name()?;
                        self.expect(wire::NODE, "'node'")?;
                        self.node(name)?;
                        return Ok(true);
                    } else if self.tok == wire::CLOSE {
                        self.stack.pop();
                        self.state = State::AfterNode;
                        self.pending = Pending::EndDirectory;
                        return Ok(true);
                    } else {
                        return Err(self.field_error(at));
                    }
                }
            }
        }
    }

    /// Reads and checks an entry name against the enclosing directory's previous one.
    fn name(&mut self) -> Result<Vec<u8>, Error> {
        let at = self.offset;
        self.read_token(self.options.limits.max_name_len, "name")?;
        let name = std::mem::take(&mut self.tok);
        if let Err(reason) = check_name(&name) {
            return Err(Error::InvalidName {
                offset: at,
                name: String::from_utf8_lossy(&name).into_owned(),
                reason,
            });
        }
        let prev = self.stack.last_mut().ok_or(Error::Poisoned)?;
        if let Some(p) = prev {
            if name.as_slice() <= p.as_slice() {
                return Err(Error::NotSorted {
                    offset: at,
                    previous: String::from_utf8_lossy(p).into_owned(),
                    name: String::from_utf8_lossy(&name).into_owned(),
                });
            }
            p.clear();
            p.extend_from_slice(&name);
        } else {
            *prev = Some(name.clone());
        }
        Ok(name)
    }

    /// Parses `( type …` up to the point where the node's event is known.
    fn node(&mut self, name: Vec<u8>) -> Result<(), Error> {
        self.expect(wire::OPEN, "'('")?;
        self.expect(wire::TYPE, "'type'")?;
        let at = self.offset;
        self.keyword()?;
        if self.tok == wire::REGULAR {
            let mut at = self.offset;
            self.keyword()?;
            let mut executable = false;
            if self.tok == wire::EXECUTABLE {
                executable = true;
                let v = self.offset;
                let len = self.read_u64()?;
                if len != 0 {
                    return Err(Error::NonEmptyExecutableMarker { offset: v });
                }
                at = self.offset;
                self.keyword()?;
            }
            if self.tok != wire::CONTENTS {
                return Err(self.field_error(at));
            }
            let len_at = self.offset;
            let size = self.read_u64()?;
            if size > self.options.limits.max_file_size {
                return Err(Error::TooLong {
                    offset: len_at,
                    what: "file",
                    len: size,
                    limit: self.options.limits.max_file_size,
                });
            }
            self.state = State::InFile {
                remaining: size,
                size,
            };
            self.pending = Pending::File(name, executable, size);
        } else if self.tok == wire::SYMLINK {
            self.expect_field(wire::TARGET)?;
            self.read_token(self.options.limits.max_target_len, "symlink target")?;
            let target = std::mem::take(&mut self.tok);
            self.expect(wire::CLOSE, "')'")?;
            self.state = State::AfterNode;
            self.pending = Pending::Symlink(name, target);
        } else if self.tok == wire::DIRECTORY {
            if self.stack.len() >= self.options.limits.max_depth {
                return Err(Error::TooDeep {
                    offset: at,
                    limit: self.options.limits.max_depth,
                });
            }
            self.stack.push(None);
            self.state = State::InDir;
            self.pending = Pending::Directory(name);
        } else {
            return Err(Error::UnknownType {
                offset: at,
                file_type: String::from_utf8_lossy(&self.tok).into_owned(),
            });
        }
        Ok(())
    }

    /// The error for an unexpected field keyword in `self.tok` read at `at`.
    fn field_error(&self, at: u64) -> Error {
        if self.tok == wire::TYPE {
            Error::MultipleTypeFields { offset: at }
        } else {
            Error::UnknownField {
                offset: at,
                field: String::from_utf8_lossy(&self.tok).into_owned(),
            }
        }
    }

    fn expect_field(&mut self, field: &[u8]) -> Result<(), Error> {
        let at = self.offset;
        self.keyword()?;
        if self.tok != field {
            return Err(self.field_error(at));
        }
        Ok(())
    }

    fn expect(&mut self, want: &[u8], expected: &'static str) -> Result<(), Error> {
        let at = self.offset;
        self.keyword()?;
        if self.tok != want {
            return Err(Error::UnexpectedToken {
                offset: at,
                expected,
                found: String::from_utf8_lossy(&self.tok).into_owned(),
            });
        }
        Ok(())
    }

    fn keyword(&mut self) -> Result<(), Error> {
        self.read_token(MAX_KEYWORD_LEN, "token")
    }

    fn fill(&mut self) -> Result<&[u8], Error> {
        loop {
            match self.inner.fill_buf() {
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(Error::Io {
                        offset: self.offset,
                        source,
                    })
                }
            }
        }
        self.inner.fill_buf().map_err(|source| Error::Io {
            offset: self.offset,
            source,
        })
    }

    /// Reads exactly `out.len()` bytes.
    fn read_exact(&mut self, out: &mut [u8]) -> Result<(), Error> {
        let mut done = 0;
        while done < out.len() {
            let buf = self.fill()?;
            if buf.is_empty() {
                return Err(Error::Truncated {
                    offset: self.offset,
                });
            }
            let n = buf.len().min(out.len() - done);
            out[done..done + n].copy_from_slice(&buf[..n]);
            self.inner.consume(n);
            self.offset += n as u64;
            done += n;
        }
        Ok(())
    }

    fn read_u64(&mut self) -> Result<u64, Error> {
        let mut b = [0u8; 8];
        self.read_exact(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// Reads one string token (at most `cap` bytes) into `self.tok`.
    fn read_token(&mut self, cap: u64, what: &'static str) -> Result<(), Error> {
        let at = self.offset;
        let len = self.read_u64()?;
        if len > cap {
            return Err(Error::TooLong {
                offset: at,
                what,
                len,
                limit: cap,
            });
        }
        // `len <= cap`, and caps are small, so this allocation is bounded.
        let mut tok = std::mem::take(&mut self.tok);
        tok.clear();
        tok.resize(len as usize, 0);
        let r = self.read_exact(&mut tok);
        self.tok = tok;
        r?;
        self.padding(len)
    }

    /// Reads and checks the padding after a string of `len` bytes.
    fn padding(&mut self, len: u64) -> Result<(), Error> {
        let pad = wire::padding_len(len);
        if pad > 0 {
            let at = self.offset;
            let mut b = [0u8; 8];
            self.read_exact(&mut b[..pad])?;
            if b.iter().any(|&x| x != 0) {
                return Err(Error::NonZeroPadding { offset: at });
            }
        }
        Ok(())
    }

    /// Discards `n` bytes of file contents.
    fn skip(&mut self, mut n: u64) -> Result<(), Error> {
        while n > 0 {
            let buf = self.fill()?;
            if buf.is_empty() {
                return Err(Error::Truncated {
                    offset: self.offset,
                });
            }
            let k = (buf.len() as u64).min(n) as usize;
            self.inner.consume(k);
            self.offset += k as u64;
            n -= k as u64;
        }
        if let State::InFile { size, .. } = self.state {
            self.state = State::InFile { remaining: 0, size };
        }
        Ok(())
    }

    fn contents_read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let State::InFile { remaining, size } = self.state else {
            return Ok(0);
        };
        if remaining == 0 || out.is_empty() {
            return Ok(0);
        }
        let want = (out.len() as u64).min(remaining) as usize;
        let n = loop {
            match self.inner.read(&mut out[..want]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                Error::Truncated {
                    offset: self.offset,
                },
            ));
        }
        self.offset += n as u64;
        self.state = State::InFile {
            remaining: remaining - n as u64,
            size,
        };
        Ok(n)
    }
}

/// The contents of a regular file: a [`Read`] of exactly the file's size.
///
/// A read past the end of a truncated NAR fails with [`io::ErrorKind::UnexpectedEof`] wrapping
/// [`Error::Truncated`].
#[derive(Debug)]
pub struct Contents<'a, R> {
    r: &'a mut Reader<R>,
}

impl<R: BufRead> Contents<'_, R> {
    /// Bytes not yet read.
    pub fn remaining(&self) -> u64 {
        match self.r.state {
            State::InFile { remaining, .. } => remaining,
            _ => 0,
        }
    }
}

impl<R: BufRead> Read for Contents<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.r.contents_read(buf)
    }
}

/// Errors of [`transcode`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TranscodeError {
    /// The input is not a valid NAR.
    #[error(transparent)]
    Read(#[from] Error),
    /// Writing the output failed.
    #[error(transparent)]
    Write(#[from] writer::Error),
}

/// Re-serialises the NAR read by `reader` through the type-state [`Writer`] into `out`, streaming,
/// and returns the number of bytes written. For a canonical NAR the output equals the input.
///
/// # Errors
/// [`TranscodeError::Read`] for invalid input, [`TranscodeError::Write`] if writing fails.
pub fn transcode<R: BufRead, W: Write>(
    reader: &mut Reader<R>,
    out: W,
) -> Result<u64, TranscodeError> {
    let mut w = Writer::new(out);
    match reader.next()? {
        Some(ev) => {
            let first = Owned::take(ev, w.root()?)?;
            if let Some(dir) = first {
                copy_dir(reader, dir)?;
            }
        }
        None => return Err(Error::Poisoned.into()),
    }
    reader.finish()?;
    Ok(w.finish()?.1)
}

/// Writes a non-directory event into `node`, or opens the directory and returns it.
struct Owned;

impl Owned {
    fn take<'w, R: BufRead, W: Write>(
        ev: Event<'_, R>,
        node: Node<'w, W>,
    ) -> Result<Option<writer::Directory<'w, W>>, TranscodeError> {
        match ev {
            Event::Directory { .. } => Ok(Some(node.directory()?)),
            Event::File {
                executable,
                size,
                mut contents,
                ..
            } => {
                node.file(executable, size, &mut contents)?;
                Ok(None)
            }
            Event::Symlink { target, .. } => {
                node.symlink(&target)?;
                Ok(None)
            }
            Event::EndDirectory => Err(Error::Poisoned.into()),
        }
    }
}

fn copy_dir<R: BufRead, W: Write>(
    reader: &mut Reader<R>,
    mut dir: writer::Directory<'_, W>,
) -> Result<(), TranscodeError> {
    loop {
        let ev = reader.next()?.ok_or(Error::Poisoned)?;
        let name = match &ev {
            Event::EndDirectory => break,
            Event::Directory { name } | Event::File { name, .. } | Event::Symlink { name, .. } => {
                name.clone()
            }
        };
        if let Some(sub) = Owned::take(ev, dir.entry(&name)?)? {
            copy_dir(reader, sub)?;
        }
    }
    dir.close()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> Tree {
        Tree::Directory(
            [
                (
                    b"a".to_vec(),
                    Tree::File {
                        executable: true,
                        contents: b"hello world".to_vec(),
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
                (b"d".to_vec(), Tree::Directory(BTreeMap::new())),
            ]
            .into(),
        )
    }

    #[test]
    fn roundtrip_tree() -> Result<(), Box<dyn std::error::Error>> {
        let t = tree();
        let nar = t.to_nar()?;
        assert_eq!(Reader::new(&nar[..]).read_tree()?, t);
        let mut out = Vec::new();
        let n = transcode(&mut Reader::new(&nar[..]), &mut out)?;
        assert_eq!(n as usize, nar.len());
        assert_eq!(out, nar);
        Ok(())
    }

    #[test]
    fn every_truncation_fails_with_an_offset() -> Result<(), Box<dyn std::error::Error>> {
        let nar = tree().to_nar()?;
        for cut in 0..nar.len() {
            let err = Reader::new(&nar[..cut])
                .read_tree()
                .expect_err("truncated NAR must fail");
            assert!(err.offset().is_some(), "cut {cut}: {err}");
        }
        Ok(())
    }

    #[test]
    fn trailing_data() -> Result<(), Box<dyn std::error::Error>> {
        let mut nar = tree().to_nar()?;
        let len = nar.len() as u64;
        nar.extend_from_slice(&[0; 8]);
        match Reader::new(&nar[..]).read_tree() {
            Err(Error::TrailingData { offset }) => assert_eq!(offset, len),
            other => panic!("unexpected {other:?}"),
        }
        let opts = Options {
            allow_trailing_data: true,
            ..Options::default()
        };
        assert_eq!(Reader::with_options(&nar[..], opts).read_tree()?, tree());
        Ok(())
    }

    #[test]
    fn limits_are_enforced() -> Result<(), Box<dyn std::error::Error>> {
        let nar = tree().to_nar()?;
        let opts = Options {
            limits: Limits {
                max_depth: 1,
                ..Limits::default()
            },
            ..Options::default()
        };
        assert!(matches!(
            Reader::with_options(&nar[..], opts).read_tree(),
            Err(Error::TooDeep { .. })
        ));
        let opts = Options {
            limits: Limits {
                max_target_len: 3,
                ..Limits::default()
            },
            ..Options::default()
        };
        assert!(matches!(
            Reader::with_options(&nar[..], opts).read_tree(),
            Err(Error::TooLong {
                what: "symlink target",
                len: 4,
                ..
            })
        ));
        Ok(())
    }

    #[test]
    fn unread_contents_are_skipped() -> Result<(), Box<dyn std::error::Error>> {
        let nar = tree().to_nar()?;
        let mut r = Reader::new(&nar[..]);
        let mut n = 0;
        while let Some(ev) = r.next()? {
            if let Event::File { mut contents, .. } = ev {
                let mut two = [0u8; 2];
                contents.read_exact(&mut two)?;
                assert_eq!(&two, b"he");
                assert_eq!(contents.remaining(), 9);
            }
            n += 1;
        }
        assert_eq!(n, 8);
        Ok(())
    }
}
