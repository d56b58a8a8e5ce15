//! `nixrs store` (not implemented yet).

use std::ffi::OsString;

use crate::util::{CmdError, CmdResult};

/// Not implemented yet.
pub fn main(_args: &[OsString]) -> CmdResult {
    Err(CmdError::msg("'store main' is not implemented yet"))
}
