//! The NixOS module system.
//!
//! This crate will own options, types, priorities and merging as nixpkgs' `lib/modules.nix`
//! defines them, typed access to an evaluated configuration through serde, and system
//! activation (build, switch, roll back). Nothing is implemented yet: it re-exports the
//! evaluator it will be built on.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub use nix_eval as eval;
