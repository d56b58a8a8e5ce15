//! The Nix ARchive (NAR) format, bit-compatible with CppNix 2.8.
//!
//! NAR is the canonical serialisation of a file system object (a regular file, a symlink or a
//! directory tree) that Nix hashes, signs and ships between stores. Use this crate to dump a
//! path as a NAR ([`dump_path`]), compute its NAR hash ([`hash::dump_and_hash`]), write NARs
//! from your own data with a writer that cannot produce an invalid one ([`writer`]), read NARs
//! as a stream of entries ([`reader`]), restore them to disk atomically ([`restore`]), and list
//! them or extract one file ([`listing`]). Everything streams: memory use does not depend on file
//! sizes.
//!
//! ```
//! use nix_nar::dump::Tree;
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("hello.txt"), b"hello\n")?;
//!
//! // Dump a path: the same bytes as `nix-store --dump`.
//! let mut nar = Vec::new();
//! let size = nix_nar::dump_path(&dir.path().join("hello.txt"), &mut nar)?;
//! assert_eq!(size, 120);
//!
//! // Read it back.
//! let tree = nix_nar::reader::Reader::new(&nar[..]).read_tree()?;
//! assert_eq!(tree, Tree::File { executable: false, contents: b"hello\n".to_vec() });
//!
//! // Restore it somewhere else.
//! nix_nar::restore::restore(&nar[..], &dir.path().join("copy"), &Default::default())?;
//! assert_eq!(std::fs::read(dir.path().join("copy"))?, b"hello\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Examples
//!
//! Each module's docs have a runnable example: [`writer`] (type-state writer), [`reader`]
//! (pull parser), [`dump`] (paths and in-memory [`Tree`](dump::Tree)s), [`hash`] (NAR hash and
//! size in one pass), [`restore`], [`listing`] (`nix nar ls --json` and `nix nar cat`), and
//! `futures_io` (async, behind the `async` feature).
//!
//! # Feature flags
//!
//! * `async` (off by default): the `futures_io` module, an async writer over
//!   `futures::io::AsyncWrite` and an async reader over `futures::io::AsyncRead`.
//!
//! # Errors
//!
//! Each operation has its own error enum in its module ([`writer::Error`], [`reader::Error`],
//! [`dump::Error`], [`restore::Error`], [`listing::Error`]); the crate-level [`Error`] wraps
//! them. Reader errors carry the byte offset of the offending token; dump and restore errors
//! carry the path. Nothing panics on untrusted input.
//!
//! # Compatibility with CppNix
//!
//! * [`dump_path`] produces the same bytes as `nix-store --dump` of CppNix 2.8 (tested against
//!   the real binary on generated trees and on the Rust toolchain's documentation).
//! * The reader is stricter than CppNix 2.8: it rejects directory entries that are not in
//!   strictly increasing bytewise order (2.8 accepts unsorted entries and fails on duplicates
//!   only when it creates the second file; newer CppNix rejects both), and it rejects bytes after
//!   the root node unless [`reader::Options::allow_trailing_data`] is set (2.8's
//!   `nix-store --restore` ignores them). It also rejects `executable` after `contents`, which
//!   2.8 tolerates; CppNix never writes that order.
//! * Restored files get mode `0666`/`0777` filtered by the umask, like CppNix.
//! * The macOS case hack (`~nix~case~hack~N`) is not implemented.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub mod dump;
pub mod error;
#[cfg(feature = "async")]
pub mod futures_io;
pub mod hash;
pub mod listing;
pub mod reader;
pub mod restore;
pub mod wire;
pub mod writer;

pub use dump::dump_path;
pub use error::Error;
