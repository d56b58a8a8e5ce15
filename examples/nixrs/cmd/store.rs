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
        "add" => native_add(rest),
        "query" => native_query(rest),
        "closure" => native_closure(rest),
        "verify" => native_verify(rest),
        "gc" => native_gc(rest),
        "delete" => native_delete(rest),
        "export" => native_export(rest),
        "import" => native_import(rest),
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

// ---------------------------------------------------------------------------------------
// The local store: native `nixrs store add|query|closure|verify|gc|delete|export|import`
// and the CppNix `nix-store` operations `--add`, `--add-fixed`, `-q`, `--gc`, `--delete`,
// `--verify`, `--export`, `--import`.
// ---------------------------------------------------------------------------------------

use std::path::PathBuf;

use nix_store::store::local::gc::{GcAction, GcError, GcOptions};
use nix_store::store::local::{AddItem, LocalStore};
use nix_store::store::{AddOptions, Store};
use nix_store::store_path::StorePath;

/// Options every store command accepts, and the remaining arguments.
pub(crate) struct StoreArgs {
    /// `--store R` if given.
    pub store: Option<String>,
    /// Everything else, in order.
    pub rest: Vec<OsString>,
}

/// Splits off `--store R`, `--option NAME VALUE` (ignored) and verbosity flags.
pub(crate) fn store_args(args: &[OsString]) -> Result<StoreArgs, CmdError> {
    let mut store = None;
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.to_str() {
            Some("--store") => {
                let v = it
                    .next()
                    .ok_or_else(|| CmdError::usage("flag '--store' requires 1 argument"))?;
                store = Some(arg_str(v)?.to_string());
            }
            Some("--option") => {
                if it.next().is_none() || it.next().is_none() {
                    return Err(CmdError::usage("flag '--option' requires 2 arguments"));
                }
            }
            Some("-v" | "--verbose" | "--quiet" | "-Q" | "--no-build-output") => {}
            _ => rest.push(a.clone()),
        }
    }
    Ok(StoreArgs { store, rest })
}

/// The root directory of a store URL: a path, `local`, `auto`, or `local?root=R`.
fn store_root_of(url: &str) -> Result<PathBuf, CmdError> {
    if url.starts_with('/') {
        return Ok(PathBuf::from(url));
    }
    if url.is_empty() || url == "local" || url == "auto" {
        return Ok(PathBuf::from("/"));
    }
    if let Some(q) = url.strip_prefix("local?") {
        for kv in q.split('&') {
            if let Some(r) = kv.strip_prefix("root=") {
                return Ok(PathBuf::from(r));
            }
        }
        return Ok(PathBuf::from("/"));
    }
    Err(CmdError::msg(format!(
        "don't know how to open Nix store '{url}'"
    )))
}

/// The store CppNix command lines use: `--store`, then `NIX_REMOTE`, then `/`.
pub(crate) fn cppnix_store(flag: Option<&str>) -> Result<LocalStore, CmdError> {
    let url = match flag {
        Some(u) => u.to_string(),
        None => std::env::var("NIX_REMOTE").unwrap_or_default(),
    };
    Ok(LocalStore::open(store_root_of(&url)?)?)
}

/// The store native commands use: `--store`, else [`native_default_root`].
fn native_store(flag: Option<&str>) -> Result<LocalStore, CmdError> {
    if let Some(u) = flag {
        return Ok(LocalStore::open(store_root_of(u)?)?);
    }
    Ok(LocalStore::open(native_default_root()?)?)
}

/// The root of the store native commands (`nixrs store …`, `nixrs copy`) use without
/// `--store`: `$XDG_DATA_HOME/nixrs`, else `~/.local/share/nixrs`.
pub(crate) fn native_default_root() -> Result<PathBuf, CmdError> {
    let base = match std::env::var_os("XDG_DATA_HOME") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => {
            let home = std::env::var_os("HOME")
                .ok_or_else(|| CmdError::msg("neither XDG_DATA_HOME nor HOME is set"))?;
            PathBuf::from(home).join(".local/share")
        }
    };
    Ok(base.join("nixrs"))
}

/// CppNix's `followLinksToStorePath`: follows symlinks outside the store until a store path
/// (possibly with a sub-path, which is dropped) is reached.
pub(crate) fn follow_to_store_path(
    store: &LocalStore,
    arg: &OsString,
) -> Result<StorePath, CmdError> {
    let sd = store.store_dir();
    let cwd = std::env::current_dir().map_err(|e| CmdError::msg(format!("cannot get cwd: {e}")))?;
    let mut path = cwd.join(Path::new(arg));
    for _ in 0..64 {
        let text = path.to_string_lossy().into_owned();
        if sd.is_in_store(&text) {
            return sd
                .parse_path_prefix(&text)
                .map(|(p, _)| p)
                .map_err(|e| CmdError::msg(e.to_string()));
        }
        match std::fs::read_link(&path) {
            Ok(t) => {
                let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
                path = parent.join(t);
            }
            Err(_) => break,
        }
    }
    Err(CmdError::msg(format!(
        "path '{}' is not in the Nix store",
        path.display()
    )))
}

fn require_valid(store: &LocalStore, p: &StorePath) -> Result<(), CmdError> {
    if store.is_valid_path(p)? {
        Ok(())
    } else {
        Err(CmdError::msg(format!(
            "path '{}' is not valid",
            store.store_dir().display(p)
        )))
    }
}

fn add_one(store: &LocalStore, src: &OsString, options: AddOptions) -> Result<StorePath, CmdError> {
    let path = Path::new(src);
    if let Err(e) = std::fs::symlink_metadata(path) {
        return Err(CmdError::msg(format!(
            "getting status of '{}': {}",
            path.display(),
            io_text(&e)
        )));
    }
    let abs = std::env::current_dir()
        .map(|c| c.join(path))
        .unwrap_or_else(|_| path.to_path_buf());
    let name = abs
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| CmdError::msg(format!("cannot take the name of '{}'", path.display())))?;
    Ok(store.add_path(name, path, options, &BTreeSet::new())?)
}

/// Adds `srcs` in one batch (one sync and one transaction per chunk), printing each path as
/// soon as it is registered, so a failure still shows the paths added before it, as CppNix.
fn add_all(store: &LocalStore, srcs: &[OsString], options: AddOptions) -> CmdResult {
    let none = BTreeSet::new();
    let mut names: Vec<(PathBuf, String)> = Vec::with_capacity(srcs.len());
    let mut failure = None;
    for src in srcs {
        let path = Path::new(src);
        if let Err(e) = std::fs::symlink_metadata(path) {
            failure = Some(CmdError::msg(format!(
                "getting status of '{}': {}",
                path.display(),
                io_text(&e)
            )));
            break;
        }
        let abs = std::env::current_dir()
            .map(|c| c.join(path))
            .unwrap_or_else(|_| path.to_path_buf());
        let Some(name) = abs.file_name().and_then(|n| n.to_str()) else {
            failure = Some(CmdError::msg(format!(
                "cannot take the name of '{}'",
                path.display()
            )));
            break;
        };
        names.push((path.to_path_buf(), name.to_string()));
    }
    let items: Vec<AddItem<'_>> = names
        .iter()
        .map(|(path, name)| AddItem::Path {
            name,
            source: path,
            options,
            references: &none,
        })
        .collect();
    let dir = store.store_dir().clone();
    store.add_many_with(&items, &mut |_, p| println!("{}", dir.display(p)))?;
    match failure {
        Some(e) => Err(e),
        None => Ok(0),
    }
}

/// An I/O error's text without Rust's " (os error N)" suffix, as CppNix prints it.
fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// `nix-store --add PATHS`.
pub fn nix_store_add(args: &[OsString]) -> CmdResult {
    let a = store_args(args)?;
    let store = cppnix_store(a.store.as_deref())?;
    add_all(&store, &a.rest, AddOptions::default())
}

/// `nix-store --add-fixed [--recursive] ALGO PATHS`.
pub fn nix_store_add_fixed(args: &[OsString]) -> CmdResult {
    let a = store_args(args)?;
    let mut recursive = false;
    let mut rest = Vec::new();
    for x in &a.rest {
        if x == "--recursive" {
            recursive = true;
        } else {
            rest.push(x.clone());
        }
    }
    let Some((algo, paths)) = rest.split_first() else {
        return Err(CmdError::usage("first argument must be hash algorithm"));
    };
    let algo: HashAlgo = arg_str(algo)?
        .parse()
        .map_err(|e| CmdError::msg(format!("{e}")))?;
    let method = if recursive {
        FileIngestionMethod::Recursive
    } else {
        FileIngestionMethod::Flat
    };
    let store = cppnix_store(a.store.as_deref())?;
    add_all(&store, paths, AddOptions { method, algo })
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Query {
    Outputs,
    Requisites,
    References,
    Referrers,
    ReferrersClosure,
    Deriver,
    Hash,
    Size,
    Tree,
    Roots,
}

/// `nix-store -q …`.
pub fn nix_store_query(args: &[OsString]) -> CmdResult {
    let a = store_args(args)?;
    let mut query: Option<Query> = None;
    let mut include_outputs = false;
    let mut paths = Vec::new();
    for x in &a.rest {
        let s = arg_str(x)?;
        let q = match s {
            "--outputs" => Some(Query::Outputs),
            "--requisites" | "-R" => Some(Query::Requisites),
            "--references" => Some(Query::References),
            "--referrers" | "--referers" => Some(Query::Referrers),
            "--referrers-closure" | "--referers-closure" => Some(Query::ReferrersClosure),
            "--deriver" | "-d" => Some(Query::Deriver),
            "--hash" => Some(Query::Hash),
            "--size" => Some(Query::Size),
            "--tree" => Some(Query::Tree),
            "--roots" => Some(Query::Roots),
            "--include-outputs" => {
                include_outputs = true;
                None
            }
            _ if s.starts_with('-') => {
                return Err(CmdError::usage(format!("unknown flag '{s}'")));
            }
            _ => {
                paths.push(x.clone());
                None
            }
        };
        if let Some(q) = q {
            if query.is_some_and(|old| old != q) {
                return Err(CmdError::usage(format!(
                    "query type '{s}' conflicts with earlier flag"
                )));
            }
            query = Some(q);
        }
    }
    let query = query.unwrap_or(Query::Outputs);
    let store = cppnix_store(a.store.as_deref())?;
    let sd = store.store_dir().clone();
    let mut out = String::new();
    match query {
        Query::Outputs => {
            for x in &paths {
                let p = follow_to_store_path(&store, x)?;
                if p.name().ends_with(".drv") {
                    require_valid(&store, &p)?;
                    for o in store.query_derivation_outputs(&p)?.values() {
                        out.push_str(&format!("{}\n", sd.display(o)));
                    }
                } else {
                    out.push_str(&format!("{}\n", sd.display(&p)));
                }
            }
        }
        Query::Requisites | Query::References | Query::Referrers | Query::ReferrersClosure => {
            let mut set = BTreeSet::new();
            for x in &paths {
                let p = follow_to_store_path(&store, x)?;
                require_valid(&store, &p)?;
                match query {
                    Query::Requisites => {
                        let mut start = BTreeSet::from([p.clone()]);
                        if include_outputs && p.name().ends_with(".drv") {
                            start.extend(
                                store
                                    .query_derivation_outputs(&p)?
                                    .into_values()
                                    .filter(|o| store.is_valid_path(o).unwrap_or(false)),
                            );
                        }
                        set.extend(store.closure(&start)?);
                    }
                    Query::References => set.extend(store.query_references(&p)?),
                    Query::Referrers => set.extend(store.query_referrers(&p)?),
                    _ => set.extend(store.referrers_closure(&BTreeSet::from([p.clone()]))?),
                }
            }
            let sorted = store.topo_sort(&set)?;
            for p in sorted.iter().rev() {
                out.push_str(&format!("{}\n", sd.display(p)));
            }
        }
        Query::Deriver | Query::Hash | Query::Size => {
            for x in &paths {
                let p = follow_to_store_path(&store, x)?;
                let info = store.query_path_info(&p)?.ok_or_else(|| {
                    CmdError::msg(format!("path '{}' is not valid", sd.display(&p)))
                })?;
                let line = match query {
                    Query::Deriver => info
                        .deriver
                        .map(|d| sd.display(&d))
                        .unwrap_or_else(|| "unknown-deriver".to_string()),
                    Query::Hash => info.nar_hash.to_typed_nix32(),
                    _ => info.nar_size.to_string(),
                };
                out.push_str(&line);
                out.push('\n');
            }
        }
        Query::Tree => {
            let mut done = BTreeSet::new();
            for x in &paths {
                let p = follow_to_store_path(&store, x)?;
                require_valid(&store, &p)?;
                print_tree(&store, &p, "", "", &mut done, &mut out)?;
            }
        }
        Query::Roots => {
            let mut targets = BTreeSet::new();
            for x in &paths {
                let p = follow_to_store_path(&store, x)?;
                require_valid(&store, &p)?;
                targets.insert(p);
            }
            let roots = store.find_roots(&mut |_| {})?;
            let mut lines = BTreeSet::new();
            for (root, links) in &roots {
                let closure = store.closure(&BTreeSet::from([root.clone()]))?;
                if closure.iter().any(|c| targets.contains(c)) {
                    for l in links {
                        lines.insert(format!("{l} -> {}", sd.display(root)));
                    }
                }
            }
            for l in lines {
                out.push_str(&l);
                out.push('\n');
            }
        }
    }
    print!("{out}");
    Ok(0)
}

fn print_tree(
    store: &LocalStore,
    p: &StorePath,
    first: &str,
    tail: &str,
    done: &mut BTreeSet<StorePath>,
    out: &mut String,
) -> Result<(), CmdError> {
    let sd = store.store_dir();
    if !done.insert(p.clone()) {
        out.push_str(&format!("{first}{} [...]\n", sd.display(p)));
        return Ok(());
    }
    out.push_str(&format!("{first}{}\n", sd.display(p)));
    let refs = store.query_references(p)?;
    let mut sorted = store.topo_sort(&refs)?;
    sorted.reverse();
    let n = sorted.len();
    for (i, r) in sorted.iter().enumerate() {
        let last = i + 1 == n;
        print_tree(
            store,
            r,
            &format!("{tail}{}", if last { "└───" } else { "├───" }),
            &format!("{tail}{}", if last { "    " } else { "│   " }),
            done,
            out,
        )?;
    }
    Ok(())
}

fn print_freed(deleted: usize, bytes: u64) {
    println!(
        "{deleted} store paths deleted, {:.2} MiB freed",
        bytes as f64 / (1024.0 * 1024.0)
    );
}

fn run_gc(store: &LocalStore, action: GcAction, max_freed: Option<u64>) -> CmdResult {
    let opts = GcOptions {
        action: action.clone(),
        max_freed,
        ..GcOptions::default()
    };
    let deleting = matches!(action, GcAction::DeleteDead | GcAction::DeleteSpecific(_));
    match store.collect_garbage(&opts, &mut |line| eprintln!("{line}")) {
        Ok(r) => {
            if deleting {
                print_freed(r.paths.len(), r.bytes_freed);
            } else {
                for p in &r.paths {
                    println!("{p}");
                }
            }
            Ok(0)
        }
        Err(GcError::StillAlive {
            path,
            bytes_freed,
            deleted,
        }) => {
            print_freed(deleted, bytes_freed);
            Err(CmdError::msg(format!(
                "Cannot delete path '{path}' since it is still alive. To find out why, use: nix-store --query --roots"
            )))
        }
        Err(e) => Err(e.into()),
    }
}

/// `nix-store --gc [--print-roots|--print-live|--print-dead] [--max-freed N]`.
pub fn nix_store_gc(args: &[OsString]) -> CmdResult {
    let a = store_args(args)?;
    let mut action = GcAction::DeleteDead;
    let mut print_roots = false;
    let mut max_freed = None;
    let mut it = a.rest.iter();
    while let Some(x) = it.next() {
        match arg_str(x)? {
            "--print-roots" => print_roots = true,
            "--print-live" => action = GcAction::ReturnLive,
            "--print-dead" => action = GcAction::ReturnDead,
            "--max-freed" => {
                let v = it
                    .next()
                    .ok_or_else(|| CmdError::usage("flag '--max-freed' requires 1 argument"))?;
                max_freed = Some(arg_str(v)?.parse::<u64>().map_err(|_| {
                    CmdError::usage(format!("'{}' is not an integer", v.to_string_lossy()))
                })?);
            }
            s => return Err(CmdError::usage(format!("bad sub-operation '{s}' in GC"))),
        }
    }
    let store = cppnix_store(a.store.as_deref())?;
    if print_roots {
        let roots = store.find_roots(&mut |_| {})?;
        let mut lines = BTreeSet::new();
        for (p, links) in &roots {
            for l in links {
                lines.insert((l.clone(), store.store_dir().display(p)));
            }
        }
        for (l, p) in lines {
            println!("{l} -> {p}");
        }
        return Ok(0);
    }
    run_gc(&store, action, max_freed)
}

/// `nix-store --delete PATHS`.
pub fn nix_store_delete(args: &[OsString]) -> CmdResult {
    let a = store_args(args)?;
    let store = cppnix_store(a.store.as_deref())?;
    let mut set = BTreeSet::new();
    for x in &a.rest {
        set.insert(follow_to_store_path(&store, x)?);
    }
    run_gc(&store, GcAction::DeleteSpecific(set), None)
}

/// `nix-store --verify [--check-contents] [--repair]`.
pub fn nix_store_verify(args: &[OsString]) -> CmdResult {
    let a = store_args(args)?;
    let mut check = false;
    let mut repair = false;
    for x in &a.rest {
        match arg_str(x)? {
            "--check-contents" => check = true,
            "--repair" => repair = true,
            s => return Err(CmdError::usage(format!("unknown flag '{s}'"))),
        }
    }
    let store = cppnix_store(a.store.as_deref())?;
    verify_and_print(&store, check, repair)
}

fn verify_and_print(store: &LocalStore, check: bool, repair: bool) -> CmdResult {
    let sd = store.store_dir().clone();
    eprintln!("reading the Nix store...");
    eprintln!("checking path existence...");
    let report = store.verify(check, repair)?;
    for p in &report.invalidated {
        eprintln!(
            "path '{}' disappeared, removing from database...",
            sd.display(p)
        );
    }
    for p in &report.missing {
        eprintln!(
            "path '{}' disappeared, but it still has valid referrers!",
            sd.display(p)
        );
    }
    if check {
        eprintln!("checking link hashes...");
        eprintln!("checking store hashes...");
        for (p, expected, got) in &report.hash_mismatches {
            eprintln!(
                "path '{}' was modified! expected hash '{expected}', got '{got}'",
                sd.display(p)
            );
        }
    }
    for problem in &report.db_problems {
        eprintln!("database: {problem}");
    }
    if report.is_clean() {
        Ok(0)
    } else {
        eprintln!("warning: not all store errors were fixed");
        Ok(1)
    }
}

/// `nix-store --export PATHS` (to standard output).
pub fn nix_store_export(args: &[OsString]) -> CmdResult {
    let a = store_args(args)?;
    let store = cppnix_store(a.store.as_deref())?;
    let mut set = BTreeSet::new();
    for x in &a.rest {
        let p = follow_to_store_path(&store, x)?;
        require_valid(&store, &p)?;
        set.insert(p);
    }
    let stdout = std::io::stdout();
    let mut lock = std::io::BufWriter::new(stdout.lock());
    store.export_paths(&set, &mut lock)?;
    std::io::Write::flush(&mut lock)
        .map_err(|e| CmdError::msg(format!("writing to stdout: {e}")))?;
    Ok(0)
}

/// `nix-store --import` (from standard input); prints the imported paths.
pub fn nix_store_import(args: &[OsString]) -> CmdResult {
    let a = store_args(args)?;
    let store = cppnix_store(a.store.as_deref())?;
    let stdin = std::io::stdin();
    let mut input = std::io::BufReader::new(stdin.lock());
    for p in store.import_paths(&mut input)? {
        println!("{}", store.store_dir().display(&p));
    }
    Ok(0)
}

/// Native `nixrs store add [--store R] [--name N] [--flat|--recursive] [--algo A] [--text] PATH…`.
fn native_add(args: &[OsString]) -> CmdResult {
    let a = store_args(args)?;
    let mut method = FileIngestionMethod::Recursive;
    let mut algo = HashAlgo::Sha256;
    let mut name: Option<String> = None;
    let mut text = false;
    let mut paths = Vec::new();
    let mut it = a.rest.iter();
    while let Some(x) = it.next() {
        match arg_str(x)? {
            "--flat" => method = FileIngestionMethod::Flat,
            "--recursive" => method = FileIngestionMethod::Recursive,
            "--text" => text = true,
            "--algo" | "--name" => {
                let flag = arg_str(x)?.to_string();
                let v = arg_str(
                    it.next()
                        .ok_or_else(|| CmdError::usage(format!("'{flag}' needs a value")))?,
                )?;
                if flag == "--algo" {
                    algo = v.parse().map_err(|e| CmdError::usage(format!("{e}")))?;
                } else {
                    name = Some(v.to_string());
                }
            }
            s if s.starts_with('-') => return Err(CmdError::usage(format!("unknown flag '{s}'"))),
            _ => paths.push(x.clone()),
        }
    }
    let store = native_store(a.store.as_deref())?;
    for src in &paths {
        let p = if text || name.is_some() {
            let abs = Path::new(src);
            let n = match &name {
                Some(n) => n.clone(),
                None => abs
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("file")
                    .to_string(),
            };
            if text {
                let bytes = std::fs::read(abs).map_err(|e| {
                    CmdError::msg(format!("reading '{}': {}", abs.display(), io_text(&e)))
                })?;
                store.add_text(&n, &bytes, &BTreeSet::new())?
            } else {
                store.add_path(&n, abs, AddOptions { method, algo }, &BTreeSet::new())?
            }
        } else {
            add_one(&store, src, AddOptions { method, algo })?
        };
        println!("{}", store.store_dir().display(&p));
    }
    Ok(0)
}

/// Native `nixrs store query [--store R] (--references|--referrers|--requisites|--hash|--size|--deriver|--outputs) PATH…`.
fn native_query(args: &[OsString]) -> CmdResult {
    let a = store_args(args)?;
    let mut forwarded: Vec<OsString> = Vec::new();
    if let Some(s) = &a.store {
        forwarded.push("--store".into());
        forwarded.push(s.into());
    } else {
        let store = native_store(None)?;
        forwarded.push("--store".into());
        forwarded.push(store.layout().root().as_os_str().to_os_string());
    }
    forwarded.extend(a.rest.iter().cloned());
    nix_store_query(&forwarded)
}

/// Native `nixrs store closure [--store R] PATH…`: the requisites, dependencies first.
fn native_closure(args: &[OsString]) -> CmdResult {
    let mut with = args.to_vec();
    with.push("--requisites".into());
    native_query(&with)
}

fn native_root_args(args: &[OsString]) -> Result<(LocalStore, Vec<OsString>), CmdError> {
    let a = store_args(args)?;
    Ok((native_store(a.store.as_deref())?, a.rest))
}

/// Native `nixrs store verify [--check-contents] [--repair]`.
fn native_verify(args: &[OsString]) -> CmdResult {
    let (store, rest) = native_root_args(args)?;
    let check = rest.iter().any(|x| x == "--check-contents");
    let repair = rest.iter().any(|x| x == "--repair");
    verify_and_print(&store, check, repair)
}

/// Runs the CppNix-style command `run` with `--store ROOT` (the native store's root, see
/// [`native_store`]) and the rest of `args`.
fn forward_with_root(args: &[OsString], run: fn(&[OsString]) -> CmdResult) -> CmdResult {
    let (store, mut rest) = native_root_args(args)?;
    let mut forwarded: Vec<OsString> = vec![
        "--store".into(),
        store.layout().root().as_os_str().to_os_string(),
    ];
    drop(store);
    forwarded.append(&mut rest);
    run(&forwarded)
}

/// Native `nixrs store gc [--print-roots|--print-live|--print-dead]`.
fn native_gc(args: &[OsString]) -> CmdResult {
    forward_with_root(args, nix_store_gc)
}

/// Native `nixrs store delete PATH…`.
fn native_delete(args: &[OsString]) -> CmdResult {
    forward_with_root(args, nix_store_delete)
}

/// Native `nixrs store export PATH… > FILE`.
fn native_export(args: &[OsString]) -> CmdResult {
    forward_with_root(args, nix_store_export)
}

/// Native `nixrs store import < FILE`.
fn native_import(args: &[OsString]) -> CmdResult {
    forward_with_root(args, nix_store_import)
}
