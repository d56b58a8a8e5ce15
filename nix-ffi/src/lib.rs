//! A stable C ABI over the nixrs crates.
//!
//! This crate will export `nixrs_*` functions with opaque handles, owned byte buffers and
//! error values (see `include/nixrs.h` once generated), plus a ctypes-based Python package.
//! Only the version query exists so far.
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub use nix_modules as modules;

/// The ABI version: bumped whenever a function is added. The ABI only grows.
pub const ABI_VERSION: u32 = 0;

/// Returns the ABI version of this library (see [`ABI_VERSION`]).
#[no_mangle]
pub extern "C" fn nixrs_version() -> u32 {
    ABI_VERSION
}
