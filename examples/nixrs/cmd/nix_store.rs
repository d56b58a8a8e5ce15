//! `nix-store` with CppNix's command line: the operation flag picks the handler, which lives in
//! the module of its area (`nar`, `store`, `key`, …).
//!
//! CppNix parses one operation flag (`--dump`, `--restore`, `--add`, `-q`, …) anywhere on the
//! line, plus common options (`--store R`, `--option N V`, `-v`, …) that apply to every
//! operation. We find the operation and hand the whole argument list (minus the operation flag
//! itself) to its handler, which parses what it needs.

use std::ffi::OsString;

use super::{build, key, nar, store};
use crate::util::{CmdError, CmdResult};

/// A handler for one `nix-store` operation.
type Handler = fn(&[OsString]) -> CmdResult;

/// Operation flags and their handlers.
fn handler(op: &str) -> Option<Handler> {
    Some(match op {
        "--dump" => nar::nix_store_dump,
        "--add" => store::nix_store_add,
        "--add-fixed" => store::nix_store_add_fixed,
        "--query" | "-q" => store::nix_store_query,
        "--gc" => store::nix_store_gc,
        "--delete" => store::nix_store_delete,
        "--verify" => store::nix_store_verify,
        "--export" => store::nix_store_export,
        "--import" => store::nix_store_import,
        "--restore" => nar::nix_store_restore,
        "--generate-binary-cache-key" => key::nix_store_generate_key,
        "--realise" | "-r" => build::nix_store_realise,
        "--read-log" | "-l" => build::nix_store_read_log,
        "--repair-path" => build::nix_store_repair_path,
        _ => return None,
    })
}

/// Operation flags CppNix knows that we do not implement yet (so we say so instead of
/// "unknown flag").
const KNOWN_OPS: &[&str] = &[
    "--print-env",
    "--dump-db",
    "--load-db",
    "--verify-path",
    "--optimise",
    "--serve",
    "--version",
];

/// Entry point for `nix-store ARGS…`.
pub fn main(args: &[OsString]) -> CmdResult {
    let args = &expand_short_flags(args);
    let mut op: Option<(usize, &str)> = None;
    for (i, a) in args.iter().enumerate() {
        let Some(s) = a.to_str() else { continue };
        if s == "--help" {
            println!("usage: nix-store OPERATION [OPTIONS…] [ARGS…]");
            return Ok(0);
        }
        if handler(s).is_some() || KNOWN_OPS.contains(&s) {
            if op.is_some() {
                return Err(CmdError::usage("only one operation may be specified"));
            }
            op = Some((i, s));
        }
    }
    let Some((index, op)) = op else {
        return Err(CmdError::usage("no operation specified"));
    };
    let Some(run) = handler(op) else {
        return Err(CmdError::msg(format!(
            "nix-store {op} is not implemented by nixrs yet"
        )));
    };
    let mut rest = args.to_vec();
    rest.remove(index);
    run(&rest)
}

/// CppNix splits clustered short flags (`-qR` → `-q -R`) before parsing.
fn expand_short_flags(args: &[OsString]) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    for a in args {
        match a.to_str() {
            Some(s)
                if s.len() > 2
                    && s.starts_with('-')
                    && !s.starts_with("--")
                    && s[1..].chars().all(|c| c.is_ascii_alphabetic()) =>
            {
                out.extend(s[1..].chars().map(|c| OsString::from(format!("-{c}"))));
            }
            _ => out.push(a.clone()),
        }
    }
    out
}
