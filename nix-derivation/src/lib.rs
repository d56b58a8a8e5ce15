//! Nix derivations.
//!
//! The `.drv` ATerm format and its JSON form, output path computation,
//! `hashDerivationModulo`, and building (scheduler, sandbox, logs).
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub use nix_store as store;
