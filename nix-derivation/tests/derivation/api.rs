//! Promised auto traits and sizes of the public types.

use nix_derivation::aterm::ParseError;
use nix_derivation::build::builder::BuildError;
use nix_derivation::hash_modulo::{DrvHash, DrvHashCache, FsResolver};
use nix_derivation::json::JsonError;
use nix_derivation::{Derivation, DerivationOutput, DrvFile, Error};

fn send_sync<T: Send + Sync>() {}
fn unwind_safe<T: std::panic::UnwindSafe + std::panic::RefUnwindSafe>() {}

#[test]
fn auto_traits() {
    send_sync::<Derivation>();
    send_sync::<DerivationOutput>();
    send_sync::<DrvFile>();
    send_sync::<DrvHash>();
    send_sync::<DrvHashCache>();
    send_sync::<FsResolver>();
    send_sync::<ParseError>();
    send_sync::<JsonError>();
    send_sync::<Error>();
    send_sync::<BuildError>();
    unwind_safe::<Derivation>();
    unwind_safe::<ParseError>();
}

#[test]
fn sizes() {
    // A fixed output holds a path and a 64-byte digest inline.
    assert_eq!(std::mem::size_of::<DerivationOutput>(), 96);
    assert_eq!(std::mem::size_of::<Derivation>(), 6 * 24 + 24);
}
