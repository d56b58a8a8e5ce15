//! The Nix language.
//!
//! Parser, lazy evaluator, every builtin of CppNix 2.8, string context, derivations and imports,
//! with output and errors matching `nix-instantiate`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub use nix_derivation as derivation;

pub mod support;
