//! `nixrs copy [--from URL] [--to URL] [--trusted-key KEY…] [--secret-key-file SK]
//! [--no-check-sigs] [--compression xz|zstd|bzip2|none] [-j N] PATH…`: like CppNix's
//! `nix copy`, copies the closures of store paths.
//!
//! A URL is a local store root (`/ROOT`, `local?root=/ROOT`, `local` or `auto` for `/`) or a
//! binary cache (`file:///DIR`, `http://…`, `https://…`). A missing `--from`/`--to` is the
//! default store of native commands (`$XDG_DATA_HOME/nixrs` or `~/.local/share/nixrs`).
//!
//! * cache → store: substitution; each path needs a signature by a `--trusted-key` (or a
//!   content address that checks out) unless `--no-check-sigs`.
//! * store → cache: NARs compressed with `--compression` (default xz, or the URL's
//!   `?compression=`), narinfos signed with `--secret-key-file`.
//! * store → store: NARs streamed from one to the other; signatures are checked only when
//!   `--trusted-key` is given.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::PathBuf;

use nix_store::cache::{
    copy_paths, copy_to_cache, open_cache, url_compression, Compression, CopyOptions, Substituters,
};
use nix_store::narinfo::{PublicKey, PublicKeys, SecretKey};
use nix_store::store::local::LocalStore;
use nix_store::store_path::{StoreDir, StorePath};

use crate::util::{arg_str, CmdError, CmdResult};

const USAGE: &str = "usage: nixrs copy [--from URL] [--to URL] [--trusted-key KEY…] \
[--secret-key-file SK] [--no-check-sigs] [--compression xz|zstd|bzip2|none] [-j N] PATH…";

/// Where paths come from or go to.
enum Endpoint {
    Store(PathBuf),
    Cache(String),
}

/// A store root or cache URL. (The store-root forms are those of `--store` in
/// `cmd/store.rs`.)
fn endpoint(url: Option<&str>) -> Result<Endpoint, CmdError> {
    let Some(url) = url else {
        return Ok(Endpoint::Store(super::store::native_default_root()?));
    };
    if url.starts_with("file://") || url.starts_with("http://") || url.starts_with("https://") {
        return Ok(Endpoint::Cache(url.to_string()));
    }
    if url.starts_with('/') {
        return Ok(Endpoint::Store(PathBuf::from(url)));
    }
    if url == "local" || url == "auto" {
        return Ok(Endpoint::Store(PathBuf::from("/")));
    }
    if let Some(q) = url.strip_prefix("local?") {
        let root = q
            .split('&')
            .find_map(|kv| kv.strip_prefix("root="))
            .unwrap_or("/");
        return Ok(Endpoint::Store(PathBuf::from(root)));
    }
    Err(CmdError::msg(format!(
        "don't know how to open Nix store '{url}'"
    )))
}

/// `nixrs copy …`.
pub fn main(args: &[OsString]) -> CmdResult {
    let mut from = None;
    let mut to = None;
    let mut trusted = PublicKeys::new();
    let mut have_keys = false;
    let mut secret_key_file = None;
    let mut check_sigs = true;
    let mut compression = None;
    let mut jobs = nix_store::cache::DEFAULT_JOBS;
    let mut paths: Vec<&OsString> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let s = arg_str(a)?;
        let mut value = |flag: &str| -> Result<String, CmdError> {
            let v = it
                .next()
                .ok_or_else(|| CmdError::usage(format!("flag '{flag}' requires 1 argument")))?;
            Ok(arg_str(v)?.to_string())
        };
        match s {
            "--from" => from = Some(value(s)?),
            "--to" => to = Some(value(s)?),
            "--trusted-key" => {
                let k: PublicKey = value(s)?
                    .trim()
                    .parse()
                    .map_err(|e| CmdError::usage(format!("bad --trusted-key: {e}")))?;
                trusted.insert(k);
                have_keys = true;
            }
            "--secret-key-file" => secret_key_file = Some(value(s)?),
            "--no-check-sigs" => check_sigs = false,
            "--compression" => {
                compression = Some(value(s)?.parse::<Compression>().map_err(CmdError::usage)?)
            }
            "-j" | "--jobs" => {
                jobs = value(s)?
                    .parse()
                    .map_err(|_| CmdError::usage("'-j' needs a number"))?
            }
            "--help" | "-h" => {
                println!("{USAGE}");
                return Ok(0);
            }
            _ if s.starts_with('-') => {
                return Err(CmdError::usage(format!("unrecognised flag '{s}'\n{USAGE}")))
            }
            _ => paths.push(a),
        }
    }
    if from.is_none() && to.is_none() {
        return Err(CmdError::usage(format!(
            "'nixrs copy' needs --from or --to\n{USAGE}"
        )));
    }
    if paths.is_empty() {
        return Err(CmdError::usage(format!(
            "'nixrs copy' needs a PATH\n{USAGE}"
        )));
    }
    let secret_key = match &secret_key_file {
        None => None,
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .map_err(|e| CmdError::msg(format!("cannot read secret key file '{f}': {e}")))?;
            Some(text.trim().parse::<SecretKey>()?)
        }
    };
    let store_dir = StoreDir::default();
    match (endpoint(from.as_deref())?, endpoint(to.as_deref())?) {
        (Endpoint::Cache(src), Endpoint::Store(root)) => {
            let dst = LocalStore::open(&root)?;
            let wanted = parse_paths(&paths, &store_dir, None)?;
            let subs = Substituters::new(vec![open_cache(&src, &store_dir)?], trusted)
                .check_sigs(check_sigs)
                .jobs(jobs);
            subs.substitute(&dst, &wanted)?;
        }
        (Endpoint::Store(root), Endpoint::Cache(dst)) => {
            let src = LocalStore::open(&root)?;
            let wanted = parse_paths(&paths, &store_dir, Some(&src))?;
            let cache = open_cache(&dst, &store_dir)?;
            let compression = match compression {
                Some(c) => c,
                None => url_compression(&dst)?.unwrap_or_default(),
            };
            let options = CopyOptions {
                secret_key: secret_key.as_ref(),
                compression,
            };
            copy_to_cache(&src, cache.as_ref(), &wanted, &options)?;
        }
        (Endpoint::Store(a), Endpoint::Store(b)) => {
            let src = LocalStore::open(&a)?;
            let dst = LocalStore::open(&b)?;
            let wanted = parse_paths(&paths, &store_dir, Some(&src))?;
            let keys = (check_sigs && have_keys).then_some(&trusted);
            copy_paths(&src, &dst, &wanted, keys)?;
        }
        (Endpoint::Cache(_), Endpoint::Cache(_)) => {
            return Err(CmdError::msg(
                "copying from a binary cache to a binary cache is not supported",
            ))
        }
    }
    Ok(0)
}

/// Store paths from the arguments; with a local source store, symlinks to store paths
/// (such as `result`) are followed.
fn parse_paths(
    args: &[&OsString],
    dir: &StoreDir,
    local: Option<&LocalStore>,
) -> Result<BTreeSet<StorePath>, CmdError> {
    let mut out = BTreeSet::new();
    for a in args {
        let s = arg_str(a)?;
        let p = match (dir.parse_path_prefix(s), local) {
            (Ok((p, _)), _) => p,
            (Err(_), Some(store)) => super::store::follow_to_store_path(store, a)?,
            (Err(e), None) => return Err(CmdError::msg(format!("'{s}': {e}"))),
        };
        out.insert(p);
    }
    Ok(out)
}
