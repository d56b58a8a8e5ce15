//! `nix-env` with CppNix's command line, for the profile forms only: `-p PROFILE` with
//! `--set PATH`, `--rollback`, `--list-generations`, `--switch-generation N` (`-G N`) and
//! `--delete-generations SPEC…`. Messages and exit codes are CppNix 2.8's.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use nix_store::profiles::{DeleteSpec, Generation, Profile, ProfileError};
use nix_store::store::Store;

use super::store::{cppnix_store, follow_to_store_path, store_args};
use crate::util::{arg_str, CmdError, CmdResult};

/// The default profile: `~/.nix-profile`.
fn default_profile() -> Result<PathBuf, CmdError> {
    let home = std::env::var_os("HOME").ok_or_else(|| CmdError::msg("HOME is not set"))?;
    Ok(PathBuf::from(home).join(".nix-profile"))
}

/// One `--list-generations` line: `%4d   YYYY-MM-DD HH:MM:SS   (current)` in local time.
pub(crate) fn generation_line(g: &Generation, current: Option<u64>) -> String {
    let t: chrono::DateTime<chrono::Local> = g.created.into();
    format!(
        "{:>4}   {}   {}",
        g.number,
        t.format("%Y-%m-%d %H:%M:%S"),
        if current == Some(g.number) {
            "(current)"
        } else {
            ""
        }
    )
}

/// Entry point for `nix-env ARGS…`.
pub fn main(args: &[OsString]) -> CmdResult {
    let a = store_args(args)?;
    let mut profile: Option<PathBuf> = None;
    let mut op: Option<String> = None;
    let mut operands: Vec<OsString> = Vec::new();
    let mut dry_run = false;
    let mut it = a.rest.iter();
    while let Some(x) = it.next() {
        let s = arg_str(x)?;
        match s {
            "-p" | "--profile" => {
                let v = it
                    .next()
                    .ok_or_else(|| CmdError::usage(format!("flag '{s}' requires 1 argument")))?;
                profile = Some(PathBuf::from(v));
            }
            "--dry-run" => dry_run = true,
            "--set"
            | "--rollback"
            | "--list-generations"
            | "--switch-generation"
            | "-G"
            | "--delete-generations" => {
                if op.is_some() {
                    return Err(CmdError::usage("only one operation may be specified"));
                }
                op = Some(if s == "-G" {
                    "--switch-generation".into()
                } else {
                    s.to_string()
                });
            }
            _ if s.starts_with('-') && op.is_none() => {
                return Err(CmdError::msg(format!(
                    "nix-env {s} is not implemented by nixrs (only the profile operations are)"
                )))
            }
            _ => operands.push(x.clone()),
        }
    }
    let Some(op) = op else {
        return Err(CmdError::usage("no operation specified"));
    };
    let profile_path = match profile {
        Some(p) => std::env::current_dir().map(|c| c.join(&p)).unwrap_or(p),
        None => default_profile()?,
    };
    let profile = Profile::new(&profile_path);
    match op.as_str() {
        "--set" => {
            let [path] = operands.as_slice() else {
                return Err(CmdError::msg("--set requires exactly one derivation"));
            };
            let store = cppnix_store(a.store.as_deref())?;
            let sp = follow_to_store_path(&store, path)?;
            if !store.is_valid_path(&sp)? {
                return Err(CmdError::msg(format!(
                    "path '{}' is not valid",
                    store.store_dir().display(&sp)
                )));
            }
            if dry_run {
                return Ok(0);
            }
            let target = store.store_dir().display(&sp);
            let (_, number) = profile.set(Path::new(&target))?;
            // Like CppNix's addPermRoot: the generation is an indirect GC root.
            store.add_indirect_root(&profile.generation_link(number))?;
            Ok(0)
        }
        "--rollback" | "--switch-generation" => {
            let (from, to) = if op == "--rollback" {
                if !operands.is_empty() {
                    return Err(CmdError::usage("'--rollback' does not take arguments"));
                }
                if dry_run {
                    let cur = profile.current()?.unwrap_or(0);
                    let to = profile
                        .generations()?
                        .iter()
                        .filter(|g| g.number < cur)
                        .map(|g| g.number)
                        .next_back()
                        .ok_or(ProfileError::NoOlderGeneration { current: cur })?;
                    (cur, to)
                } else {
                    profile.rollback()?
                }
            } else {
                let [n] = operands.as_slice() else {
                    return Err(CmdError::usage("exactly one argument expected"));
                };
                let n: u64 = arg_str(n)?
                    .parse()
                    .map_err(|_| CmdError::usage("expected a generation number"))?;
                profile.switch_generation(n)?
            };
            eprintln!("switching profile from version {from} to {to}");
            Ok(0)
        }
        "--list-generations" => {
            if !operands.is_empty() {
                return Err(CmdError::usage(
                    "'--list-generations' does not take arguments",
                ));
            }
            let current = profile.current()?;
            let mut out = String::new();
            for g in profile.generations()? {
                out.push_str(&generation_line(&g, current));
                out.push('\n');
            }
            print!("{out}");
            Ok(0)
        }
        _ => {
            let specs: Vec<&str> = operands.iter().map(arg_str).collect::<Result<_, _>>()?;
            let spec = DeleteSpec::parse(&specs).map_err(|e| match e {
                // CppNix throws these as usage errors (with the `--help` hint).
                ProfileError::InvalidKeep { .. } => CmdError::msg(e.to_string()),
                e => CmdError::usage(e.to_string()),
            })?;
            for n in profile.delete_generations(&spec, SystemTime::now())? {
                eprintln!("removing profile version {n}");
            }
            Ok(0)
        }
    }
}
