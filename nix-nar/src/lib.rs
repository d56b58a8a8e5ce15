//! The Nix ARchive (NAR) format.
//!
//! NAR is the canonical serialisation of a file system object (a regular file, a symlink or a
//! directory tree) that Nix hashes, signs and ships between stores. This crate writes NARs
//! ([`writer`], [`dump`]), reads them as a stream ([`reader`]), restores them to disk
//! ([`restore`]), lists them ([`listing`]) and hashes them while dumping ([`hash`]).
//!
//! ```
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("hello.txt"), b"hello\n")?;
//! let mut nar = Vec::new();
//! let size = nix_nar::dump_path(&dir.path().join("hello.txt"), &mut nar)?;
//! assert_eq!(size, 120);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub mod dump;
pub mod error;
pub mod hash;
pub mod listing;
pub mod reader;
pub mod restore;
pub mod wire;
pub mod writer;

pub use dump::dump_path;
pub use error::Error;
