//! `nixrs eval` and `nixrs nix-instantiate --eval` (CppNix 2.8's command line and output).

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use nix_eval::instantiate;
use nix_eval::store::{EvalStore, StoreBackend, SubstituteObserver};
use nix_eval::value::Context;
use nix_eval::{Error, Evaluator, Value};
use nix_store::store::local::LocalStore;

use crate::util::{arg_str, CmdError, CmdResult};

#[derive(Default)]
struct Opts {
    eval: bool,
    strict: bool,
    json: bool,
    xml: bool,
    location: bool,
    from_expr: bool,
    show_trace: bool,
    attr_paths: Vec<String>,
    args: Vec<(String, ArgValue)>,
    include: Vec<String>,
    files: Vec<String>,
    store: Option<String>,
    add_root: Option<String>,
    /// `--option substituters URLS` / `--substituters URLS` (space-separated).
    substituters: Option<Vec<String>>,
    /// `--option trusted-public-keys KEYS`.
    trusted_keys: Option<String>,
    /// nix.conf and `NIX_CONFIG`, read before the arguments (as CppNix's `initNix`).
    conf: super::nix_conf::NixConf,
    /// `--read-write-mode`: `--eval` writes to the store too.
    read_write: bool,
    /// `--readonly-mode`: nothing is written, even without `--eval`.
    read_only: bool,
    tarball_ttl: Option<u64>,
    download_attempts: Option<u32>,
    /// `--option pure-eval BOOL`.
    pure_eval: Option<bool>,
}

enum ArgValue {
    Expr(String),
    Str(String),
}

/// CppNix's usage error for a flag given without its argument(s): nix-instantiate's own flags
/// say `'-A' requires an argument`, the common ones `flag '-I' requires 1 argument(s)`.
fn missing_argument(flag: &str) -> String {
    match flag {
        "-A" | "--attr" | "--add-root" => format!("'{flag}' requires an argument"),
        "--arg" | "--argstr" | "--option" => format!("flag '{flag}' requires 2 argument(s)"),
        _ => format!("flag '{flag}' requires 1 argument(s)"),
    }
}

fn parse_args(args: &[OsString]) -> Result<Opts, CmdError> {
    let mut o = Opts {
        location: true,
        conf: super::nix_conf::NixConf::load()?,
        ..Default::default()
    };
    let mut i = 0;
    let next = |i: &mut usize, flag: &str| -> Result<String, CmdError> {
        *i += 1;
        match args.get(*i) {
            Some(a) => Ok(arg_str(a)?.to_string()),
            None => Err(CmdError::usage(missing_argument(flag))),
        }
    };
    while i < args.len() {
        let a = arg_str(&args[i])?.to_string();
        match a.as_str() {
            "--eval" | "--eval-only" => o.eval = true,
            "--strict" => o.strict = true,
            "--json" => o.json = true,
            "--xml" => o.xml = true,
            "--no-location" => o.location = false,
            "-E" | "--expr" => o.from_expr = true,
            "--show-trace" => o.show_trace = true,
            "--read-write-mode" => o.read_write = true,
            "--readonly-mode" => o.read_only = true,
            "--impure" => {}
            "-A" | "--attr" => {
                let p = next(&mut i, &a)?;
                o.attr_paths.push(p);
            }
            "--arg" => {
                let n = next(&mut i, &a)?;
                let v = next(&mut i, &a)?;
                o.args.push((n, ArgValue::Expr(v)));
            }
            "--argstr" => {
                let n = next(&mut i, &a)?;
                let v = next(&mut i, &a)?;
                o.args.push((n, ArgValue::Str(v)));
            }
            "-I" | "--include" => {
                let p = next(&mut i, &a)?;
                o.include.push(p);
            }
            "--option" => {
                let name = next(&mut i, &a)?;
                let value = next(&mut i, &a)?;
                o.conf.note_option(&name);
                let invalid =
                    || eprintln!("warning: error: setting '{name}' has invalid value '{value}'");
                match name.as_str() {
                    "substituters" => {
                        o.substituters = Some(value.split_whitespace().map(String::from).collect());
                    }
                    "trusted-public-keys" => o.trusted_keys = Some(value.clone()),
                    "extra-substituters" => {
                        let mut v = substituter_urls(&o);
                        v.extend(value.split_whitespace().map(String::from));
                        o.substituters = Some(v);
                    }
                    "extra-trusted-public-keys" => {
                        let old = trusted_keys(&o);
                        o.trusted_keys = Some(format!("{old} {value}").trim().to_string());
                    }
                    "tarball-ttl" => match value.parse() {
                        Ok(n) => o.tarball_ttl = Some(n),
                        Err(_) => invalid(),
                    },
                    "download-attempts" => match value.parse() {
                        Ok(n) => o.download_attempts = Some(n),
                        Err(_) => invalid(),
                    },
                    "pure-eval" => match super::nix_conf::parse_bool(&value) {
                        Some(b) => o.pure_eval = Some(b),
                        None => eprintln!(
                            "warning: error: Boolean setting '{name}' has invalid value '{value}'"
                        ),
                    },
                    _ => {}
                }
            }
            "--substituters" => {
                let value = next(&mut i, &a)?;
                o.substituters = Some(value.split_whitespace().map(String::from).collect());
            }
            "--tarball-ttl" => {
                let value = next(&mut i, &a)?;
                o.tarball_ttl = Some(value.parse().map_err(|_| {
                    CmdError::usage(format!("setting 'tarball-ttl' has invalid value '{value}'"))
                })?);
            }
            "--timeout" | "--max-jobs" | "-j" | "--cores" => {
                next(&mut i, &a)?;
            }
            "--store" => o.store = Some(next(&mut i, &a)?),
            "--add-root" => o.add_root = Some(next(&mut i, &a)?),
            "--indirect" => {}
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(CmdError::usage(format!("unrecognised flag '{s}'")));
            }
            _ => o.files.push(a),
        }
        i += 1;
    }
    Ok(o)
}

pub(crate) fn split_search_entry(s: &str) -> (String, String) {
    match s.split_once('=') {
        Some((p, path)) => (p.to_string(), path.to_string()),
        None => (String::new(), s.to_string()),
    }
}

fn build_evaluator(o: &Opts, store: Option<Box<dyn EvalStore>>) -> Evaluator {
    let mut b = Evaluator::builder().show_trace(o.show_trace);
    if let Some(s) = store {
        b = b.store(s);
    }
    for inc in &o.include {
        let (p, path) = split_search_entry(inc);
        b = b.search_path(p, path);
    }
    if let Ok(np) = std::env::var("NIX_PATH") {
        for entry in np.split(':').filter(|e| !e.is_empty()) {
            let (p, path) = split_search_entry(entry);
            b = b.search_path(p, path);
        }
    }
    if let Ok(sd) = std::env::var("NIX_STORE_DIR") {
        b = b.store_dir(sd);
    }
    if let Ok(h) = std::env::var("HOME") {
        b = b.home(h);
    }
    // the fetchers' settings: --option, else nix.conf files and NIX_CONFIG
    let conf = |n: &str| o.conf.get(n).and_then(|v| v.parse().ok());
    if let Some(ttl) = o.tarball_ttl.or_else(|| conf("tarball-ttl")) {
        b = b.tarball_ttl(ttl);
    }
    if let Some(n) = o
        .download_attempts
        .or_else(|| conf("download-attempts").map(|n| n as u32))
    {
        b = b.download_attempts(n);
    }
    if o.pure_eval
        .or_else(|| {
            o.conf
                .get("pure-eval")
                .and_then(super::nix_conf::parse_bool)
        })
        .unwrap_or(false)
    {
        b = b.pure(true);
    }
    b.build()
}

pub(crate) fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))
}

fn auto_args(ev: &mut Evaluator, o: &Opts) -> Result<Vec<(String, Value)>, Error> {
    let mut out = Vec::new();
    for (name, v) in &o.args {
        let value = match v {
            ArgValue::Str(s) => Value::string(s.as_bytes().to_vec()),
            ArgValue::Expr(e) => ev.state().delay_expr(e, &cwd())?,
        };
        out.push((name.clone(), value));
    }
    Ok(out)
}

fn process(
    ev: &mut Evaluator,
    o: &Opts,
    root: Value,
    auto: &[(String, Value)],
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let paths: Vec<String> = if o.attr_paths.is_empty() {
        vec![String::new()]
    } else {
        o.attr_paths.clone()
    };
    for p in paths {
        let st = ev.state();
        let v = st.find_along_attr_path(&root, &p, auto)?;
        let v = st.force(&v)?;
        let v = if auto.is_empty() {
            v
        } else {
            st.auto_call(&v, auto)?
        };
        if o.xml {
            let mut ctx = Context::new();
            let bytes = nix_eval::print::to_xml(st, &v, o.strict, o.location, &mut ctx)?;
            out.extend_from_slice(&bytes);
        } else if o.json {
            let mut ctx = Context::new();
            nix_eval::print::write_json(st, &v, o.strict, &mut ctx, out)?;
        } else {
            if o.strict {
                let v = st.force_deep(&v)?;
                out.extend_from_slice(&nix_eval::print::print_value(st, &v));
            } else {
                out.extend_from_slice(&nix_eval::print::print_value_lazy(st, &v));
            }
            out.push(b'\n');
        }
    }
    Ok(())
}

fn run(o: &Opts) -> CmdResult {
    let mut deferred: Option<Arc<LocalStore>> = None;
    let remote = std::env::var("NIX_REMOTE").is_ok_and(|r| !r.is_empty());
    // CppNix's settings.readOnlyMode: `--eval` without `--read-write-mode`, or `--readonly-mode`
    let read_only = o.read_only || (o.eval && !o.read_write);
    let store: Option<Box<dyn EvalStore>> = if read_only && o.store.is_none() && !remote {
        // computed paths; fetchers write to the default store, opened on demand (CppNix 2.8)
        if std::env::var_os("NIX_STORE_DIR").is_some() {
            None
        } else {
            Some(Box::new(super::lazy_store::LazyFetchStore::new()))
        }
    } else if read_only {
        // read-only, as CppNix's --eval: paths are computed, but fetchers write
        let local = super::store::cppnix_store(o.store.as_deref())?;
        let real = local.layout().real_store_dir();
        Some(Box::new(
            StoreBackend::read_only(Arc::new(local)).with_real_store_dir(real),
        ))
    } else {
        let local = Arc::new(super::store::cppnix_store(o.store.as_deref())?);
        // The `.drv` files are registered in batches; `run_on` registers what is waiting
        // before it prints any path, so every printed path is valid (as CppNix's).
        local.set_deferred_registration(true)?;
        deferred = Some(local.clone());
        let real = local.layout().real_store_dir();
        let mut backend = StoreBackend::read_write(local).with_real_store_dir(real);
        let urls = substituter_urls(o);
        if !urls.is_empty() {
            // CppNix's `copying path '…' from '…'...` for each substituted path
            let dir = nix_store::store_path::StoreDir::default();
            let report = move |p: &nix_store::store_path::StorePath, url: &str| {
                eprintln!("copying path '{}' from '{url}'...", dir.display(p));
            };
            backend = backend
                .with_substituters(substituters(o, &urls)?)
                .on_substitute(SubstituteObserver(Arc::new(report)));
        }
        Some(Box::new(backend))
    };
    let mut ev = build_evaluator(o, store);
    let code = ev.with_big_stack(|ev| run_on(ev, o, deferred.as_deref()))?;
    if let Some(local) = &deferred {
        local.set_deferred_registration(false)?;
    }
    Ok(code)
}

/// CppNix's default `trusted-public-keys`.
const DEFAULT_TRUSTED_KEYS: &str = "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=";

/// The `substituters` setting: `--option`/`--substituters`, else nix.conf and `NIX_CONFIG`.
/// When nothing sets it there are none: CppNix's default `https://cache.nixos.org/` is left
/// out, as this tool has no network in its tests and a pure evaluation never needs it.
fn substituter_urls(o: &Opts) -> Vec<String> {
    match &o.substituters {
        Some(v) => v.clone(),
        None => o
            .conf
            .get("substituters")
            .map(|v| v.split_whitespace().map(String::from).collect())
            .unwrap_or_default(),
    }
}

/// The `trusted-public-keys` setting: `--option`, else nix.conf and `NIX_CONFIG`, else
/// CppNix's default key.
fn trusted_keys(o: &Opts) -> &str {
    o.trusted_keys
        .as_deref()
        .or_else(|| o.conf.get("trusted-public-keys"))
        .unwrap_or(DEFAULT_TRUSTED_KEYS)
}

/// The binary caches `urls`, trusting `trusted-public-keys` (`--option`, else nix.conf and
/// `NIX_CONFIG`, else CppNix's default key): `builtins.storePath` and `appendContext`
/// substitute from them in read-write mode.
fn substituters(o: &Opts, urls: &[String]) -> Result<nix_store::cache::Substituters, CmdError> {
    use nix_store::cache::{open_cache, Substituters};
    let dir = nix_store::store_path::StoreDir::default();
    let caches = urls
        .iter()
        .map(|url| open_cache(url, &dir))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CmdError::msg(e.to_string()))?;
    let keys = nix_store::narinfo::PublicKeys::parse_list(trusted_keys(o))
        .map_err(|e| CmdError::msg(e.to_string()))?;
    Ok(Substituters::new(caches, keys))
}

/// `nix-instantiate` without `--eval`: prints each derivation's `.drv` path (with
/// `!<output>` for another output than `out`), or the `--add-root` link made for it.
fn instantiate(
    ev: &mut Evaluator,
    o: &Opts,
    v: &Value,
    auto: &[(String, Value)],
    out: &mut Vec<u8>,
    root_nr: &mut usize,
) -> Result<(), Error> {
    let st = ev.state();
    let drvs = instantiate::get_derivations(st, v, auto)?;
    for d in &drvs {
        let inst = instantiate::instantiate_one(st, d)?;
        let mut shown = inst.drv_path.clone();
        match &o.add_root {
            None => {
                if !GC_WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    eprintln!("warning: you did not specify '--add-root'; the result might be removed by the garbage collector");
                }
            }
            Some(root) => {
                *root_nr += 1;
                let mut name = absolute(root);
                if *root_nr > 1 {
                    name.push_str(&format!("-{}", root_nr));
                }
                shown = add_root(o, &inst.drv_path, &name)?;
            }
        }
        out.extend_from_slice(shown.as_bytes());
        if inst.output_name != "out" {
            out.extend_from_slice(format!("!{}", inst.output_name).as_bytes());
        }
        out.push(b'\n');
    }
    Ok(())
}

static GC_WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub(crate) fn absolute(p: &str) -> String {
    let path = Path::new(p);
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd().join(path)
    };
    // CppNix's canonPath without resolving symlinks: drop `.`, empty parts and `..`
    let mut parts: Vec<String> = Vec::new();
    for c in abs.to_string_lossy().split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c.to_string()),
        }
    }
    format!("/{}", parts.join("/"))
}

/// CppNix's `addPermRoot`: a symlink `name` → `drv_path`, registered as an indirect root.
fn add_root(o: &Opts, drv_path: &str, name: &str) -> Result<String, Error> {
    let io_err = |m: String| Error::new(nix_eval::ErrorKind::Io, m);
    let store =
        super::store::cppnix_store(o.store.as_deref()).map_err(|e| io_err(e.to_string()))?;
    use nix_eval::derivation::store::store::Store as _;
    let dir = store.store_dir().as_str().to_string();
    if name.starts_with(&format!("{dir}/")) {
        return Err(io_err(format!("creating a garbage collector root ({name}) in the Nix store is forbidden (are you running nix-build inside the store?)")));
    }
    let link = Path::new(name);
    if let Ok(meta) = std::fs::symlink_metadata(link) {
        let in_store = meta.file_type().is_symlink()
            && std::fs::read_link(link)
                .map(|t| t.to_string_lossy().starts_with(&format!("{dir}/")))
                .unwrap_or(false);
        if !in_store {
            return Err(io_err(format!(
                "cannot create symlink '{name}'; already exists"
            )));
        }
        let _ = std::fs::remove_file(link);
    }
    std::os::unix::fs::symlink(drv_path, link).map_err(|e| {
        io_err(format!(
            "creating symlink from '{name}' to '{drv_path}': {e}"
        ))
    })?;
    store
        .add_indirect_root(link)
        .map_err(|e| io_err(e.to_string()))?;
    Ok(name.to_string())
}

fn run_on(ev: &mut Evaluator, o: &Opts, deferred: Option<&LocalStore>) -> CmdResult {
    // Registers the deferred paths, so that what is printed next is valid.
    let settle = || -> Result<(), Error> {
        match deferred {
            Some(local) => local
                .flush_registrations()
                .map_err(|e| Error::new(nix_eval::ErrorKind::Io, e.to_string())),
            None => Ok(()),
        }
    };
    let mut out = Vec::new();
    let mut root_nr = 0usize;
    let result = (|| -> Result<(), Error> {
        let auto = auto_args(ev, o)?;
        let inputs: Vec<String> = if o.files.is_empty() && !o.from_expr {
            vec!["default.nix".to_string()]
        } else {
            o.files.clone()
        };
        for input in &inputs {
            let root = if o.from_expr {
                ev.eval_expr(input, cwd())?
            } else if input.starts_with('<') && input.ends_with('>') {
                let v = ev.eval_expr(input, cwd())?;
                match v {
                    Value::Path(p) => ev.eval_file(Path::new(&*p.to_str_lossy()))?,
                    other => other,
                }
            } else {
                let p = Path::new(input);
                let abs = if p.is_absolute() {
                    p.to_path_buf()
                } else {
                    cwd().join(p)
                };
                ev.eval_file(abs)?
            };
            if o.eval {
                process(ev, o, root, &auto, &mut out)?;
            } else {
                let paths: Vec<String> = if o.attr_paths.is_empty() {
                    vec![String::new()]
                } else {
                    o.attr_paths.clone()
                };
                for p in paths {
                    let v = ev.state().find_along_attr_path(&root, &p, &auto)?;
                    instantiate(ev, o, &v, &auto, &mut out, &mut root_nr)?;
                }
            }
            settle()?;
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            let _ = lock.write_all(&out);
            let _ = lock.flush();
            out.clear();
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(0),
        Err(e) => {
            if let Err(f) = settle() {
                eprintln!("error: {}", f.message());
            }
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            let _ = lock.write_all(&out);
            let _ = lock.flush();
            eprint!("{}", ev.render_error(&e));
            if e.kind() == nix_eval::ErrorKind::Usage {
                // CppNix's handleExceptions on a UsageError
                eprintln!("Try 'nix-instantiate --help' for more information.");
            }
            Ok(e.exit_status())
        }
    }
}

/// `nixrs eval [--strict] [--json] [--xml] (-E EXPR | FILE) [-A PATH] …`: evaluates and
/// prints like `nix-instantiate --eval`.
pub fn main(args: &[OsString]) -> CmdResult {
    let mut o = parse_args(args)?;
    o.conf.warn_unknown();
    o.eval = true;
    run(&o)
}

/// `nix-instantiate`: `--eval` prints values; without it, the derivations are written to the
/// store (`--store`, `NIX_REMOTE`, else `/`) and their `.drv` paths printed.
pub fn nix_instantiate(args: &[OsString]) -> CmdResult {
    if args.iter().any(|a| a == "--parse") {
        return super::parse::nix_instantiate_parse(args);
    }
    let o = parse_args(args)?;
    o.conf.warn_unknown();
    run(&o)
}
