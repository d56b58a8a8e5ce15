//! Nix store identities and stores.
//!
//! Hashes and nix32, store paths, content addresses, path info, narinfo and signatures,
//! reference scanning, the local store (CppNix-compatible SQLite database and layout),
//! closures, garbage collection, binary caches, profiles and generations.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub use nix_nar as nar;
