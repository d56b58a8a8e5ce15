//! `nixrs nar` (not implemented yet).

use std::ffi::OsString;

use crate::util::{CmdError, CmdResult};

/// Not implemented yet.
pub fn main(_args: &[OsString]) -> CmdResult {
    Err(CmdError::msg("'nar main' is not implemented yet"))
}

/// Not implemented yet.
pub fn nix_store_dump(_args: &[OsString]) -> CmdResult {
    Err(CmdError::msg("'nar nix_store_dump' is not implemented yet"))
}

/// Not implemented yet.
pub fn nix_store_restore(_args: &[OsString]) -> CmdResult {
    Err(CmdError::msg("'nar nix_store_restore' is not implemented yet"))
}
