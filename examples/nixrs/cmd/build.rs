//! Building: `nixrs build`, `nix-store --realise`/`-r`, `nix-store --read-log`/`-l` and
//! `nixrs log`.
//!
//! * `nixrs build [--store R] [-j N] [--keep-going] [--keep-failed] [-Q] DRV…` builds the
//!   derivations and prints their output paths, one per line.
//! * `nix-store -r [--store R] [-j N|--max-jobs N] [-k] [-K] [--dry-run] [--add-root P
//!   [--indirect]] [-Q] PATH…` as CppNix 2.8: progress and build logs on standard error, the
//!   output paths (or the roots made with `--add-root`) on standard output, sorted per
//!   argument; on failure CppNix's messages and exit status (100 build failure, 101 timeout,
//!   102 hash mismatch, 104 `--check` found a difference, 1 otherwise). `--check` rebuilds
//!   the (valid) outputs of the given derivations in the sandbox and compares them;
//!   `--repair` checks the contents of their outputs' closure and rebuilds (in the sandbox)
//!   and replaces what is corrupted.
//! * `nix-store --repair-path PATH…` realises each path's deriver with `--repair`. `--timeout N` and `--max-silent-time N` (also as
//!   `--option timeout N`/`--option max-silent-time N`, in `nixrs build` too) limit each
//!   builder's run time and silence in seconds.
//! * `nix-store -l PATH…` and `nixrs log [--store R] PATH…` print the build log of a
//!   derivation, or of the derivation that built an output.
//!
//! Stores: `--store R` (a diverted store: paths `/nix/store/…`, files in `R/nix/store`; builders
//! always run in the build sandbox there, as CppNix 2.8 does even with `sandbox = false`), the
//! system store, or `--store 'local?store=R/nix/store&state=R/nix/var/nix&log=R/nix/var/log/nix'`
//! (a non-diverted store).
//!
//! The sandbox: by default builders run in it when this process can create its namespaces,
//! else without it (CppNix's default is `sandbox = true`, which fails instead). `--option
//! sandbox true|relaxed` or `--sandbox` require it, `--option sandbox false` or `--no-sandbox`
//! turn it off (except in a diverted store). `builtin:` builders run in-process.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use nix_derivation::build::builder::BuildError;
use nix_derivation::build::log::read_log;
use nix_derivation::build::realise::{plan, RealiseFailure, RealiseOptions};
use nix_store::store::local::LocalStore;
use nix_store::store::Store;
use nix_store::store_path::{StoreDir, StorePath};

use super::store::{cppnix_store, follow_to_store_path};
use crate::util::{CmdError, CmdResult};

/// Opens the store of `--store URL` (or `NIX_REMOTE`): a root directory, `local?root=R`, or
/// `local?store=R/nix/store&state=R/nix/var/nix&log=R/nix/var/log/nix` (non-diverted).
pub(crate) fn open_store(url: Option<&str>) -> Result<LocalStore, CmdError> {
    let url = match url {
        Some(u) => u.to_string(),
        None => std::env::var("NIX_REMOTE").unwrap_or_default(),
    };
    if let Some(q) = url.strip_prefix("local?") {
        let mut store = None;
        let mut state = None;
        let mut log = None;
        for kv in q.split('&') {
            if let Some(v) = kv.strip_prefix("store=") {
                store = Some(v.to_string());
            } else if let Some(v) = kv.strip_prefix("state=") {
                state = Some(v.to_string());
            } else if let Some(v) = kv.strip_prefix("log=") {
                log = Some(v.to_string());
            }
        }
        if let Some(store) = store {
            let unsupported = || {
                CmdError::msg(format!(
                    "nixrs opens 'local?store=…' stores only in the layout R/nix/store, state=R/nix/var/nix, log=R/nix/var/log/nix: '{url}'"
                ))
            };
            let root = store
                .trim_end_matches('/')
                .strip_suffix("/nix/store")
                .ok_or_else(unsupported)?
                .to_string();
            if state.is_some_and(|s| s.trim_end_matches('/') != format!("{root}/nix/var/nix"))
                || log.is_some_and(|l| l.trim_end_matches('/') != format!("{root}/nix/var/log/nix"))
            {
                return Err(unsupported());
            }
            let sd = StoreDir::new(store.trim_end_matches('/')).map_err(CmdError::from)?;
            let root = if root.is_empty() {
                "/".to_string()
            } else {
                root
            };
            return Ok(LocalStore::open_with_store_dir(root, sd)?);
        }
    }
    cppnix_store(Some(&url))
}

/// CppNix's text of a build error; with `quiet` (the log was not shown), a failed builder's
/// message ends with the last lines of its log.
pub(crate) fn describe(e: &BuildError, quiet: bool) -> String {
    let mut text = e.to_string();
    if let (true, BuildError::Failed { drv, log_tail, .. }) = (quiet, e) {
        if !log_tail.is_empty() {
            text.push_str(&format!(";\n       last {} log lines:", log_tail.len()));
            for l in log_tail {
                text.push_str(&format!("\n       > {}", String::from_utf8_lossy(l)));
            }
            text.push_str(&format!("\n       For full logs, run 'nix log {drv}'."));
        }
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The options shared by `nixrs build` and `nix-store -r`.
struct BuildArgs {
    store: Option<String>,
    options: RealiseOptions,
    quiet: bool,
    dry_run: bool,
    add_root: Option<PathBuf>,
    paths: Vec<OsString>,
}

fn parse_build_args(args: &[OsString]) -> Result<BuildArgs, CmdError> {
    let mut b = BuildArgs {
        store: None,
        options: super::build_common::realise_options(),
        quiet: false,
        dry_run: false,
        add_root: None,
        paths: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str, n: usize| super::build_common::next_value(&mut it, flag, n);
        let flag = a.to_str().unwrap_or_default();
        if super::build_common::parse_flag(flag, &mut b.options, &mut b.quiet, &mut value)? {
            continue;
        }
        match a.to_str() {
            Some("--store") => b.store = Some(value("--store", 1)?),
            Some("--dry-run") => b.dry_run = true,
            Some("--add-root") => b.add_root = Some(PathBuf::from(value("--add-root", 1)?)),
            Some("--indirect") => {}
            Some("-v" | "--verbose") => {}
            Some("--check") => b.options.check = true,
            Some("--repair") => b.options.repair = true,
            Some(s) if s.starts_with('-') && s.len() > 1 => {
                return Err(CmdError::usage(format!("unrecognised flag '{s}'")))
            }
            _ => b.paths.push(a.clone()),
        }
    }
    Ok(b)
}

/// Prints the messages of a failed realisation as CppNix does and returns the final error.
pub(crate) fn report(f: &RealiseFailure, quiet: bool) -> CmdError {
    let status = f.exit_status();
    for (_, e) in f.roots.iter().skip(1) {
        eprintln!("error: {}", describe(e, quiet));
    }
    match (f.failed.len(), f.roots.first()) {
        (1, Some((_, e))) => CmdError::with_code(describe(e, quiet), status),
        (_, first) => {
            if let Some((_, e)) = first {
                eprintln!("error: {}", describe(e, quiet));
            }
            CmdError::with_code(f.to_string(), status)
        }
    }
}

fn run_realise(
    store: &LocalStore,
    b: &BuildArgs,
    drvs: &[StorePath],
) -> Result<nix_derivation::build::realise::Realised, CmdError> {
    super::build_common::realise_with_progress(store, drvs, &b.options, b.quiet, false)
}

/// `nixrs build [--store R] [-j N] [--keep-going] [--keep-failed] [-Q] DRV…`.
pub fn main(args: &[OsString]) -> CmdResult {
    let b = parse_build_args(args)?;
    let store = open_store(b.store.as_deref())?;
    let sd = store.store_dir().clone();
    let mut drvs = Vec::new();
    for p in &b.paths {
        drvs.push(follow_to_store_path(&store, p)?);
    }
    let built = run_realise(&store, &b, &drvs)?;
    let mut out = std::io::stdout().lock();
    for d in &drvs {
        for p in built.get(d).into_iter().flat_map(|m| m.values()) {
            writeln!(out, "{}", sd.display(p)).map_err(|e| CmdError::msg(e.to_string()))?;
        }
    }
    Ok(0)
}

/// `nix-store --realise PATH…`.
pub fn nix_store_realise(args: &[OsString]) -> CmdResult {
    let b = parse_build_args(args)?;
    let store = open_store(b.store.as_deref())?;
    let sd = store.store_dir().clone();
    let mut targets = Vec::new();
    for p in &b.paths {
        targets.push(follow_to_store_path(&store, p)?);
    }
    let drvs: Vec<StorePath> = targets
        .iter()
        .filter(|p| p.name().ends_with(".drv"))
        .cloned()
        .collect();
    if b.dry_run {
        let plan =
            plan(&store, &drvs, &b.options).map_err(|e| CmdError::msg(describe(&e, true)))?;
        let list: Vec<&StorePath> = plan.to_build.iter().collect();
        super::build_common::print_to_build(&sd, &list, "would");
        return Ok(0);
    }
    for t in targets.iter().filter(|p| !p.name().ends_with(".drv")) {
        if !store.is_valid_path(t)? {
            return Err(CmdError::msg(format!(
                "path '{}' does not exist and cannot be created",
                sd.display(t)
            )));
        }
    }
    let built = run_realise(&store, &b, &drvs)?;
    let mut out = std::io::stdout().lock();
    let mut root_nr = 0usize;
    let mut warned = false;
    for t in &targets {
        let outputs: Vec<(String, StorePath)> = match built.get(t) {
            Some(m) => m.iter().map(|(n, p)| (n.clone(), p.clone())).collect(),
            None => vec![("out".to_string(), t.clone())],
        };
        root_nr += 1;
        let mut lines: Vec<String> = Vec::new();
        for (name, path) in outputs {
            match &b.add_root {
                None => {
                    if !warned {
                        eprintln!("warning: you did not specify '--add-root'; the result might be removed by the garbage collector");
                        warned = true;
                    }
                    lines.push(sd.display(&path));
                }
                Some(root) => {
                    let mut name_s = absolute(root).into_os_string();
                    if root_nr > 1 {
                        name_s.push(format!("-{root_nr}"));
                    }
                    if name != "out" {
                        name_s.push(format!("-{name}"));
                    }
                    let link = PathBuf::from(name_s);
                    nix_store::profiles::replace_symlink(
                        std::ffi::OsStr::new(&sd.display(&path)),
                        &link,
                    )
                    .map_err(|e| CmdError::msg(e.to_string()))?;
                    store.add_indirect_root(&link)?;
                    lines.push(link.display().to_string());
                }
            }
        }
        lines.sort();
        for l in lines {
            writeln!(out, "{l}").map_err(|e| CmdError::msg(e.to_string()))?;
        }
    }
    Ok(0)
}

/// `nix-store --repair-path PATH…`: each path's deriver is realised with `--repair` (its
/// outputs' contents checked, corrupted ones rebuilt and replaced). Substituters are not
/// tried (CppNix tries them first).
pub fn nix_store_repair_path(args: &[OsString]) -> CmdResult {
    let mut b = parse_build_args(args)?;
    b.options.repair = true;
    let store = open_store(b.store.as_deref())?;
    let sd = store.store_dir().clone();
    for p in &b.paths {
        let path = follow_to_store_path(&store, p)?;
        let Some(info) = store.query_path_info(&path)? else {
            return Err(CmdError::msg(format!(
                "path '{}' is not valid",
                sd.display(&path)
            )));
        };
        let deriver = match info.deriver {
            Some(d) if store.is_valid_path(&d)? => d,
            _ => {
                return Err(CmdError::msg(format!(
                    "cannot repair path '{}'",
                    sd.display(&path)
                )))
            }
        };
        run_realise(&store, &b, &[deriver])?;
    }
    Ok(0)
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    }
}

/// Prints the logs of `paths` (`.drv`s, or outputs whose deriver is known).
fn print_logs(store: &LocalStore, paths: &[OsString]) -> CmdResult {
    let sd = store.store_dir().clone();
    let mut out = std::io::stdout().lock();
    for p in paths {
        let path = follow_to_store_path(store, p)?;
        let drv = if path.name().ends_with(".drv") {
            Some(path.clone())
        } else {
            store.query_path_info(&path)?.and_then(|i| i.deriver)
        };
        let log = match &drv {
            Some(d) => read_log(&store.layout().log_dir(), d).map_err(CmdError::from)?,
            None => None,
        };
        let Some(log) = log else {
            return Err(CmdError::msg(format!(
                "build log of derivation '{}' is not available",
                sd.display(&path)
            )));
        };
        out.write_all(&log)
            .map_err(|e| CmdError::msg(e.to_string()))?;
    }
    Ok(0)
}

/// `nix-store --read-log PATH…`.
pub fn nix_store_read_log(args: &[OsString]) -> CmdResult {
    let b = parse_build_args(args)?;
    let store = open_store(b.store.as_deref())?;
    print_logs(&store, &b.paths)
}

/// `nixrs log [--store R] PATH…`.
pub fn log_main(args: &[OsString]) -> CmdResult {
    nix_store_read_log(args)
}
