//! The Nix ARchive (NAR) format.
//!
//! NAR is the canonical serialisation of a file system object (a regular file, a symlink or a
//! directory tree) that Nix hashes, signs and ships between stores. This crate will own the
//! streaming writer and reader, dump and restore of file trees, listing and NAR hashing.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]
