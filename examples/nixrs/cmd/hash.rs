//! `nixrs hash` (not implemented yet).

use std::ffi::OsString;

use crate::util::{CmdError, CmdResult};

/// Not implemented yet.
pub fn main(_args: &[OsString]) -> CmdResult {
    Err(CmdError::msg("'hash main' is not implemented yet"))
}

/// Not implemented yet.
pub fn nix_hash(_args: &[OsString]) -> CmdResult {
    Err(CmdError::msg("'hash nix_hash' is not implemented yet"))
}
