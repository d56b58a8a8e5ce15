//! Nix store identities and stores.
//!
//! Hashes and nix32, store paths, content addresses, path info, narinfo and signatures,
//! reference scanning, the local store (CppNix-compatible SQLite database and layout),
//! closures, garbage collection, binary caches, profiles and generations.
//!
//! Use this crate to name, compute, parse and verify the things Nix keeps in a store,
//! bit-compatible with CppNix 2.8. It prints nothing and reads no configuration: the store
//! directory is a [`store_path::StoreDir`] value passed to every computation.
//!
//! ```
//! use std::collections::BTreeSet;
//! use nix_store::hash::{Hash, HashAlgo};
//! use nix_store::store_path::StoreDir;
//!
//! let dir = StoreDir::default();
//! let contents = Hash::digest_bytes(HashAlgo::Sha256, b"hello\n");
//! let path = dir.make_text_path("hello.txt", &contents, &BTreeSet::new())?;
//! assert_eq!(dir.display(&path), "/nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Examples
//! Each module's documentation has runnable examples: [`hash`], [`store_path`],
//! [`content_address`], [`path_info`], [`narinfo`], [`references`], [`cache`].
//!
//! # Feature flags
//! * `http` (default): `http://` and `https://` binary caches ([`cache::http`], with `ureq`).
//! * `async`: an async view of every store (`store::async_store`).
//!
//! # Errors
//! Each operation returns its module's error enum ([`hash::ParseHashError`],
//! [`store_path::StorePathError`], …); [`Error`] wraps them all. Messages follow CppNix's where
//! CppNix has one.
//!
//! # Compatibility with CppNix
//! Formats and computations match CppNix 2.8 (see `README.md` for the details and the
//! differential tests that check them).
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub use nix_nar as nar;

pub mod cache;
pub mod closure;
pub mod content_address;
mod error;
pub mod hash;
pub mod narinfo;
pub mod path_info;
pub mod profiles;
pub mod references;
pub mod store;
pub mod store_path;

pub use error::Error;
