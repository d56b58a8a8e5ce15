//! Nix derivations, bit-compatible with CppNix 2.8.
//!
//! Use this crate to read, write and create `.drv` files: the ATerm format ([`aterm`]), the JSON
//! of `nix show-derivation` ([`json`]), `hashDerivationModulo` ([`hash_modulo`]) and output and
//! `.drv` paths ([`outputs`]); and to run a builder as CppNix does ([`build::builder`]). It
//! does no I/O except in [`hash_modulo::FsResolver`], which reads input derivations from a
//! directory, and in the builder.
//!
//! ```
//! use nix_derivation::Derivation;
//! use nix_derivation::hash_modulo::{DrvHashCache, NoInputs};
//! use nix_derivation::outputs::check_outputs;
//! use nix_derivation::store::store_path::StoreDir;
//!
//! let store_dir = StoreDir::default();
//! let text = br#"Derive([("out","/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple","","")],[],[],"x86_64-linux","/bin/sh",["-c","echo hello > $out"],[("builder","/bin/sh"),("name","simple"),("out","/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple"),("system","x86_64-linux")])"#;
//!
//! // Parse and print back, byte for byte.
//! let drv = Derivation::parse(text, &store_dir)?;
//! assert_eq!(drv.to_aterm(&store_dir), text.to_vec());
//!
//! // Its store path, as `nix-instantiate` prints it.
//! let path = drv.drv_path(&store_dir, "simple")?;
//! assert_eq!(store_dir.display(&path), "/nix/store/3ghsl9sd83mc26i81adpa2fzf3yw4f68-simple.drv");
//!
//! // Its output path is the one hashDerivationModulo gives.
//! check_outputs(&drv, "simple", &store_dir, &mut NoInputs, &mut DrvHashCache::new())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Examples
//! * Creating a derivation as `derivationStrict` does: [`outputs::fill_outputs`].
//! * Computing hashes over a graph of derivations on disk: [`hash_modulo::FsResolver`] and a
//!   shared [`hash_modulo::DrvHashCache`].
//! * `nix show-derivation`: [`json::show_derivation`]; reading it back:
//!   [`json::parse_show_derivation`].
//!
//! # Feature flags
//! None.
//!
//! # Errors
//! Parsing returns [`aterm::ParseError`] or [`json::JsonError`], each with the byte offset of
//! the problem. Everything else returns [`Error`], which wraps them.
//!
//! # Compatibility with CppNix
//! Printing and hashing follow CppNix 2.8 byte for byte, including its quirks (output names,
//! paths and the platform are written unescaped; JSON strings keep non-UTF-8 bytes). The parser
//! accepts everything CppNix writes and is stricter than CppNix's parser in a few documented
//! ways (see [`aterm`]). Floating content-addressed, deferred and impure outputs (experimental
//! in 2.8) are read, written and hashed as 2.8 does.
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub use nix_store as store;

pub mod aterm;
pub mod build;
pub mod derivation;
mod error;
pub mod hash_modulo;
pub mod json;
pub mod outputs;

pub use derivation::{Derivation, DerivationKind, DerivationOutput, FileIngestionMethod};
pub use error::Error;
pub use outputs::DrvFile;
