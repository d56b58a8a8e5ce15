//! `nixrs eval` (not implemented yet).

use std::ffi::OsString;

use crate::util::{CmdError, CmdResult};

/// Not implemented yet.
pub fn main(_args: &[OsString]) -> CmdResult {
    Err(CmdError::msg("'eval main' is not implemented yet"))
}

/// Not implemented yet.
pub fn nix_instantiate(_args: &[OsString]) -> CmdResult {
    Err(CmdError::msg("'eval nix_instantiate' is not implemented yet"))
}
