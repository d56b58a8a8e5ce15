//! `nixrs store SUBCOMMAND …`: one function per subcommand, dispatched by [`main`].
//!
//! * `nixrs store path-of [--name N] [--fixed ALGO [--recursive]] [--store-dir DIR] PATH` prints
//!   the store path `nix-store --add PATH` (or `--add-fixed [--recursive] ALGO PATH`) would
//!   print, without touching any store. The store directory defaults to `$NIX_STORE_DIR` or
//!   `/nix/store`.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::Path;

use nix_store::content_address::FileIngestionMethod;
use nix_store::hash::{HashAlgo, Hasher};

use crate::util::{arg_str, CmdError, CmdResult};

/// `nixrs store SUBCOMMAND …`.
pub fn main(args: &[OsString]) -> CmdResult {
    let Some(sub) = args.first() else {
        return Err(CmdError::usage("'nixrs store' needs a subcommand"));
    };
    let rest = &args[1..];
    match arg_str(sub)? {
        "path-of" => path_of(rest),
        other => Err(CmdError::usage(format!(
            "unknown 'store' subcommand '{other}'"
        ))),
    }
}

/// `nixrs store path-of …`.
fn path_of(args: &[OsString]) -> CmdResult {
    let mut name: Option<&str> = None;
    let mut fixed: Option<HashAlgo> = None;
    let mut recursive = false;
    let mut dir_flag: Option<&str> = None;
    let mut paths: Vec<&OsString> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let s = a.to_str().unwrap_or("");
        let mut value = |flag: &str| -> Result<&str, CmdError> {
            arg_str(
                it.next()
                    .ok_or_else(|| CmdError::usage(format!("'{flag}' requires an argument")))?,
            )
        };
        match s {
            "--name" => name = Some(value(s)?),
            "--fixed" => {
                fixed = Some(
                    value(s)?
                        .parse()
                        .map_err(|e| CmdError::usage(format!("{e}")))?,
                )
            }
            "--recursive" => recursive = true,
            "--store-dir" => dir_flag = Some(value(s)?),
            _ if s.starts_with('-') && s != "-" => {
                return Err(CmdError::usage(format!("unrecognised flag '{s}'")))
            }
            _ => paths.push(a),
        }
    }
    if recursive && fixed.is_none() {
        return Err(CmdError::usage("'--recursive' needs '--fixed ALGO'"));
    }
    let [path] = paths.as_slice() else {
        return Err(CmdError::usage("'store path-of' takes exactly one PATH"));
    };
    let dir = super::narinfo::store_dir(dir_flag)?;
    let path = Path::new(path);
    let base_name;
    let name = match name {
        Some(n) => n,
        None => {
            base_name = path
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| {
                    CmdError::msg(format!(
                        "cannot take a store path name from '{}'",
                        path.display()
                    ))
                })?
                .to_string();
            &base_name
        }
    };
    let none = BTreeSet::new();
    let store_path = match fixed {
        None => {
            let mut h = Hasher::new(HashAlgo::Sha256);
            nix_nar::dump_path(path, &mut h)?;
            dir.make_source_path(name, &h.finish(), &none, false)?
        }
        Some(algo) => {
            let mut h = Hasher::new(algo);
            if recursive {
                nix_nar::dump_path(path, &mut h)?;
            } else {
                let mut f = std::fs::File::open(path).map_err(|e| {
                    CmdError::msg(format!(
                        "opening file '{}': {}",
                        path.display(),
                        super::hash::os_error_text(&e)
                    ))
                })?;
                std::io::copy(&mut f, &mut h)?;
            }
            let method = if recursive {
                FileIngestionMethod::Recursive
            } else {
                FileIngestionMethod::Flat
            };
            dir.make_fixed_output_path(name, method, &h.finish(), &none, false)?
        }
    };
    println!("{}", dir.display(&store_path));
    Ok(0)
}
