//! `nixrs key` (not implemented yet).

use std::ffi::OsString;

use crate::util::{CmdError, CmdResult};

/// Not implemented yet.
pub fn main(_args: &[OsString]) -> CmdResult {
    Err(CmdError::msg("'key main' is not implemented yet"))
}

/// Not implemented yet.
pub fn nix_store_generate_key(_args: &[OsString]) -> CmdResult {
    Err(CmdError::msg(
        "'key nix_store_generate_key' is not implemented yet",
    ))
}
