//! `nixrs derivation …`: the `.drv` format.
//!
//! * `nixrs derivation show [--store R] [--store-dir D] DRV…` prints what CppNix 2.8's
//!   `nix show-derivation DRV…` prints, byte for byte. With `--store R` (a store root, as CppNix's
//!   `--store R`), `DRV` is a store path `D/<base>` read from `R/D/<base>`. Without it, `DRV`
//!   is any file whose name is a `.drv` base name; it is shown under `D/<base>`.
//! * `nixrs derivation path [--store-dir D] FILE…` prints the store path each `.drv` file has
//!   (a text path over its bytes and references).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use nix_derivation::outputs::drv_name_from_path;
use nix_derivation::store::store_path::{StoreDir, StorePath};
use nix_derivation::{json, Derivation};

use crate::util::{arg_str, CmdError, CmdResult};

const USAGE: &str = "usage: nixrs derivation show [--store ROOT] [--store-dir DIR] DRV…\n       nixrs derivation path [--store-dir DIR] FILE…";

/// `nixrs derivation show|path …`.
pub fn main(args: &[OsString]) -> CmdResult {
    let Some(sub) = args.first().and_then(|a| a.to_str()) else {
        return Err(CmdError::usage(format!("missing subcommand\n{USAGE}")));
    };
    let opts = Options::parse(&args[1..])?;
    match sub {
        "show" => show(&opts),
        "path" => path(&opts),
        other => Err(CmdError::usage(format!(
            "unknown subcommand 'derivation {other}'\n{USAGE}"
        ))),
    }
}

struct Options {
    store_root: Option<PathBuf>,
    store_dir: StoreDir,
    paths: Vec<OsString>,
}

impl Options {
    fn parse(args: &[OsString]) -> Result<Options, CmdError> {
        let mut store_root = None;
        let mut store_dir = StoreDir::default();
        let mut paths = Vec::new();
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            match arg.to_str() {
                Some("--store") => {
                    let v = iter
                        .next()
                        .ok_or_else(|| CmdError::usage("'--store' requires an argument"))?;
                    store_root = Some(PathBuf::from(v));
                }
                Some("--store-dir") => {
                    let v = iter
                        .next()
                        .ok_or_else(|| CmdError::usage("'--store-dir' requires an argument"))?;
                    store_dir = StoreDir::new(arg_str(v)?)
                        .map_err(|e| CmdError::msg(format!("invalid store directory: {e}")))?;
                }
                Some(s) if s.starts_with("--") => {
                    return Err(CmdError::usage(format!("unrecognised flag '{s}'")))
                }
                _ => paths.push(arg.clone()),
            }
        }
        if paths.is_empty() {
            return Err(CmdError::usage(format!("no derivation given\n{USAGE}")));
        }
        Ok(Options {
            store_root,
            store_dir,
            paths,
        })
    }

    /// The store path a `DRV` argument names, and the file to read it from.
    fn locate(&self, arg: &OsString) -> Result<(StorePath, PathBuf), CmdError> {
        let s = arg_str(arg)?;
        match &self.store_root {
            Some(root) => {
                let path = self
                    .store_dir
                    .parse_path(s)
                    .map_err(|e| CmdError::msg(format!("'{s}' is not a store path: {e}")))?;
                let rel = self.store_dir.display(&path);
                let file = root.join(rel.trim_start_matches('/'));
                Ok((path, file))
            }
            None => {
                let base = Path::new(s)
                    .file_name()
                    .and_then(|b| b.to_str())
                    .ok_or_else(|| CmdError::msg(format!("'{s}' has no file name")))?;
                let path = StorePath::from_base_name(base).map_err(|e| {
                    CmdError::msg(format!("'{s}' is not named like a store path: {e}"))
                })?;
                Ok((path, PathBuf::from(s)))
            }
        }
    }
}

fn read_drv(opts: &Options, path: &StorePath, file: &Path) -> Result<Derivation, CmdError> {
    let shown = opts.store_dir.display(path);
    if drv_name_from_path(path).is_none() {
        return Err(CmdError::msg(format!("'{shown}' is not a derivation")));
    }
    let bytes = std::fs::read(file)
        .map_err(|e| CmdError::msg(format!("reading '{}': {e}", file.display())))?;
    Derivation::parse(&bytes, &opts.store_dir)
        .map_err(|e| CmdError::msg(format!("error parsing derivation '{shown}': {e}")))
}

fn show(opts: &Options) -> CmdResult {
    let mut drvs = BTreeMap::new();
    for arg in &opts.paths {
        let (path, file) = opts.locate(arg)?;
        let drv = read_drv(opts, &path, &file)?;
        drvs.insert(path, drv);
    }
    let text = json::show_derivation(&opts.store_dir, &drvs);
    std::io::stdout()
        .write_all(&text)
        .map_err(|e| CmdError::msg(format!("writing output: {e}")))?;
    Ok(0)
}

fn path(opts: &Options) -> CmdResult {
    let mut out = Vec::new();
    for arg in &opts.paths {
        let (path, file) = opts.locate(arg)?;
        let drv = read_drv(opts, &path, &file)?;
        let name = drv_name_from_path(&path).unwrap_or_default();
        let computed = drv
            .drv_path(&opts.store_dir, name)
            .map_err(|e| CmdError::msg(format!("{e}")))?;
        out.extend_from_slice(opts.store_dir.display(&computed).as_bytes());
        out.push(b'\n');
    }
    std::io::stdout()
        .write_all(&out)
        .map_err(|e| CmdError::msg(format!("writing output: {e}")))?;
    Ok(0)
}
