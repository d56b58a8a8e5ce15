//! Binary-cache signing keys: `nixrs key generate NAME SECRET_FILE PUBLIC_FILE` and CppNix's
//! `nix-store --generate-binary-cache-key NAME SECRET_FILE PUBLIC_FILE`.
//!
//! Both write `NAME:base64(seed ‖ public key)` to the secret file (mode 0600) and
//! `NAME:base64(public key)` to the public file, without a trailing newline, replacing existing
//! files, like CppNix 2.8.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nix_store::narinfo::keys::SecretKey;

use crate::util::{arg_str, CmdError, CmdResult};

/// Writes `contents` to `path` (created with `mode`, truncated if it exists).
fn write_file(path: &Path, contents: &str, mode: u32) -> Result<(), CmdError> {
    let shown = path.display();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(|e| {
            CmdError::msg(format!(
                "opening file '{shown}': {}",
                super::hash::os_error_text(&e)
            ))
        })?;
    f.write_all(contents.as_bytes()).map_err(|e| {
        CmdError::msg(format!(
            "writing to file '{shown}': {}",
            super::hash::os_error_text(&e)
        ))
    })?;
    Ok(())
}

fn generate(name: &str, secret_file: &Path, public_file: &Path) -> CmdResult {
    let sk = SecretKey::generate(name);
    write_file(public_file, &sk.to_public().to_string(), 0o666)?;
    write_file(secret_file, &sk.to_string(), 0o600)?;
    Ok(0)
}

/// The positional arguments (CppNix's common options such as `--store R` are skipped).
fn positional(args: &[OsString]) -> Vec<&OsString> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.to_str() {
            Some("--store" | "--option") => {
                // `--option NAME VALUE` takes two values, `--store URL` one.
                if a.to_str() == Some("--option") {
                    it.next();
                }
                it.next();
            }
            _ => out.push(a),
        }
    }
    out
}

/// `nixrs key SUBCOMMAND …`.
pub fn main(args: &[OsString]) -> CmdResult {
    match args.first().map(arg_str).transpose()? {
        Some("generate") => {
            let [name, sk, pk] = &args[1..] else {
                return Err(CmdError::usage(
                    "usage: nixrs key generate NAME SECRET_FILE PUBLIC_FILE",
                ));
            };
            generate(arg_str(name)?, Path::new(sk), Path::new(pk))
        }
        Some(other) => Err(CmdError::usage(format!(
            "unknown 'key' subcommand '{other}'"
        ))),
        None => Err(CmdError::usage(
            "usage: nixrs key generate NAME SECRET_FILE PUBLIC_FILE",
        )),
    }
}

/// `nix-store --generate-binary-cache-key NAME SECRET_FILE PUBLIC_FILE` (the operation flag
/// already removed).
pub fn nix_store_generate_key(args: &[OsString]) -> CmdResult {
    let pos = positional(args);
    let [name, sk, pk] = pos.as_slice() else {
        return Err(CmdError::usage("three arguments expected"));
    };
    generate(arg_str(name)?, Path::new(sk), Path::new(pk))
}
