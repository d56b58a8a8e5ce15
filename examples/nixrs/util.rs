//! Small helpers shared by the subcommands: the error type and exit-code handling.
#![allow(dead_code)] // a toolbox: not every helper is used by every command yet

use std::ffi::OsString;
use std::fmt;

/// What a subcommand returns: the process exit code, or an error to print.
pub type CmdResult = Result<i32, CmdError>;

/// A command failure: printed as `error: MESSAGE` on standard error (as CppNix does), with an
/// exit code (1 unless said otherwise).
#[derive(Debug)]
pub struct CmdError {
    /// The text after `error: `.
    pub message: String,
    /// The process exit code.
    pub code: i32,
    /// Whether to add CppNix's "Try 'PROG --help' for more information." line.
    pub usage: bool,
}

impl CmdError {
    /// An error with exit code 1.
    pub fn msg(message: impl Into<String>) -> Self {
        CmdError {
            message: message.into(),
            code: 1,
            usage: false,
        }
    }

    /// A usage error (exit code 1, followed by the `--help` hint).
    pub fn usage(message: impl Into<String>) -> Self {
        CmdError {
            message: message.into(),
            code: 1,
            usage: true,
        }
    }

    /// An error with a given exit code.
    pub fn with_code(message: impl Into<String>, code: i32) -> Self {
        CmdError {
            message: message.into(),
            code,
            usage: false,
        }
    }
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl<E: std::error::Error> From<E> for CmdError {
    fn from(e: E) -> Self {
        // The whole source chain, CppNix-style on one line each.
        let mut message = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        CmdError::msg(message)
    }
}

/// Prints an error (if any) and returns the exit code.
pub fn finish(program: &str, result: CmdResult) -> i32 {
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", e.message);
            if e.usage {
                eprintln!("Try '{program} --help' for more information.");
            }
            e.code
        }
    }
}

/// Converts an argument to UTF-8 text, or fails with a usage error naming it.
pub fn arg_str(arg: &OsString) -> Result<&str, CmdError> {
    arg.to_str().ok_or_else(|| {
        CmdError::usage(format!(
            "argument '{}' is not valid UTF-8",
            arg.to_string_lossy()
        ))
    })
}
