//! `nix-build` (CppNix 2.8's command line): evaluate, instantiate, realise, link the results.
//!
//! `nix-build [--store R] [FILE… | -E EXPR…] [-A ATTR]… [--arg N E] [--argstr N S] [-I P]
//! [-o LINK | --out-link LINK] [--no-out-link] [-j N] [--dry-run] [--option N V]
//! [--show-trace]`:
//!
//! 1. every file (`./default.nix` by default, `DIR/default.nix` for a directory) or
//!    expression is evaluated and each attribute path (`-A`, default the whole value) is
//!    searched for derivations as `nix-instantiate` does (auto-calling functions with
//!    `--arg`/`--argstr`); their `.drv` files are written to the store;
//! 2. the derivations are realised with [`nix_derivation::build::realise`], with CppNix's
//!    progress on standard error (`these N derivations will be built:` …, `building '…'...`,
//!    the build logs) and its failure messages and exit status (100 build failure, 102 hash
//!    mismatch, 1 otherwise); `--dry-run` prints what would be built and stops;
//! 3. the selected output of every derivation gets a symlink named like CppNix's: `result`
//!    for the first derivation, `result-2`, `result-3` … for the next ones (one number per
//!    `.drv`, in the order found), with `-<output>` appended for outputs other than `out`
//!    (`result-dev`, `result-2-dev`); each is registered as an indirect GC root in the
//!    store's `gcroots/auto`. `-o LINK` replaces `result`, `--no-out-link` makes no links;
//! 4. the output paths are printed on standard output, one per line, in the order found.
//!
//! Not supported: `nix-shell` mode, `--add-root`, `--check`, `--repair`, URLs as files.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nix_derivation::build::realise::{plan, RealiseOptions};
use nix_eval::instantiate;
use nix_eval::store::StoreBackend;
use nix_eval::{Error, Evaluator, Value};
use nix_store::store::local::LocalStore;
use nix_store::store::Store;
use nix_store::store_path::{StoreDir, StorePath};

use super::eval::{absolute, cwd, split_search_entry};
use crate::util::{arg_str, CmdError, CmdResult};

/// The parsed command line.
struct Opts {
    store: Option<String>,
    from_expr: bool,
    files: Vec<String>,
    attr_paths: Vec<String>,
    args: Vec<(String, ArgValue)>,
    include: Vec<String>,
    out_link: Option<String>,
    dry_run: bool,
    show_trace: bool,
    quiet: bool,
    options: RealiseOptions,
}

enum ArgValue {
    Expr(String),
    Str(String),
}

fn parse_args(args: &[OsString]) -> Result<Opts, CmdError> {
    let mut o = Opts {
        store: None,
        from_expr: false,
        files: Vec::new(),
        attr_paths: Vec::new(),
        args: Vec::new(),
        include: Vec::new(),
        out_link: Some("result".to_string()),
        dry_run: false,
        show_trace: false,
        quiet: false,
        options: super::build_common::realise_options(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let a = arg_str(a)?;
        let mut value = |flag: &str, n: usize| super::build_common::next_value(&mut it, flag, n);
        if super::build_common::parse_flag(a, &mut o.options, &mut o.quiet, &mut value)? {
            continue;
        }
        match a {
            "--store" => o.store = Some(value(a, 1)?),
            "-E" | "--expr" => o.from_expr = true,
            "-A" | "--attr" => o.attr_paths.push(value(a, 1)?),
            "--arg" => {
                let n = value(a, 2)?;
                let v = value(a, 2)?;
                o.args.push((n, ArgValue::Expr(v)));
            }
            "--argstr" => {
                let n = value(a, 2)?;
                let v = value(a, 2)?;
                o.args.push((n, ArgValue::Str(v)));
            }
            "-I" | "--include" => o.include.push(value(a, 1)?),
            "-o" | "--out-link" => o.out_link = Some(value(a, 1)?),
            "--no-out-link" => o.out_link = None,
            "--dry-run" => o.dry_run = true,
            "--show-trace" => o.show_trace = true,
            "-v" | "--verbose" | "--impure" | "--read-write-mode" => {}
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(CmdError::usage(format!("unrecognised flag '{s}'")))
            }
            _ => o.files.push(a.to_string()),
        }
    }
    Ok(o)
}

fn evaluator(o: &Opts, store: Arc<LocalStore>) -> Evaluator {
    let real = store.layout().real_store_dir();
    let backend = StoreBackend::read_write(store).with_real_store_dir(real);
    let mut b = Evaluator::builder()
        .show_trace(o.show_trace)
        .store(Box::new(backend));
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
    if let Ok(h) = std::env::var("HOME") {
        b = b.home(h);
    }
    b.build()
}

/// One derivation to build: its `.drv` and the selected output.
struct Wanted {
    drv: StorePath,
    output: String,
}

/// Evaluates the inputs and instantiates every derivation found.
fn instantiate_all(ev: &mut Evaluator, o: &Opts, sd: &StoreDir) -> Result<Vec<Wanted>, Error> {
    let mut auto = Vec::new();
    for (name, v) in &o.args {
        let value = match v {
            ArgValue::Str(s) => Value::string(s.as_bytes().to_vec()),
            ArgValue::Expr(e) => ev.state().delay_expr(e, &cwd())?,
        };
        auto.push((name.clone(), value));
    }
    let inputs: Vec<String> = if o.files.is_empty() {
        if o.from_expr {
            Vec::new()
        } else {
            vec!["./default.nix".to_string()]
        }
    } else {
        o.files.clone()
    };
    let attr_paths: Vec<String> = if o.attr_paths.is_empty() {
        vec![String::new()]
    } else {
        o.attr_paths.clone()
    };
    let mut wanted = Vec::new();
    for input in &inputs {
        let root = if o.from_expr {
            ev.eval_expr(input, cwd())?
        } else if input.starts_with('<') && input.ends_with('>') {
            match ev.eval_expr(input, cwd())? {
                Value::Path(p) => ev.eval_file(Path::new(&*p.to_str_lossy()))?,
                other => other,
            }
        } else {
            let mut p = PathBuf::from(absolute(input));
            if p.is_dir() {
                p.push("default.nix");
            }
            ev.eval_file(p)?
        };
        for ap in &attr_paths {
            let st = ev.state();
            let v = st.find_along_attr_path(&root, ap, &auto)?;
            let v = st.force(&v)?;
            for d in instantiate::get_derivations(st, &v, &auto)? {
                let inst = instantiate::instantiate_one(st, &d)?;
                let drv = sd
                    .parse_path(&inst.drv_path)
                    .map_err(|e| Error::eval(e.to_string()))?;
                wanted.push(Wanted {
                    drv,
                    output: inst.output_name,
                });
            }
        }
    }
    Ok(wanted)
}

/// CppNix's `addPermRoot`: the symlink `link` → `target`, registered as an indirect root.
fn add_perm_root(store: &LocalStore, target: &str, link: &str) -> Result<(), CmdError> {
    let dir = store.store_dir().as_str();
    if link.starts_with(&format!("{dir}/")) {
        return Err(CmdError::msg(format!("creating a garbage collector root ({link}) in the Nix store is forbidden (are you running nix-build inside the store?)")));
    }
    let path = Path::new(link);
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        let to_store = meta.file_type().is_symlink()
            && std::fs::read_link(path)
                .map(|t| t.to_string_lossy().starts_with(&format!("{dir}/")))
                .unwrap_or(false);
        if !to_store {
            return Err(CmdError::msg(format!(
                "cannot create symlink '{link}'; already exists"
            )));
        }
    }
    nix_store::profiles::replace_symlink(std::ffi::OsStr::new(target), path)
        .map_err(|e| CmdError::msg(e.to_string()))?;
    store.add_indirect_root(path)?;
    Ok(())
}

/// `nix-build …` (see the module docs).
pub fn main(args: &[OsString]) -> CmdResult {
    let o = parse_args(args)?;
    let store = Arc::new(super::build::open_store(o.store.as_deref())?);
    let sd = store.store_dir().clone();
    let mut ev = evaluator(&o, store.clone());
    let wanted = match ev.with_big_stack(|ev| instantiate_all(ev, &o, &sd)) {
        Ok(w) => w,
        Err(e) => {
            eprint!("{}", ev.render_error(&e));
            return Ok(e.exit_status());
        }
    };
    drop(ev);
    let mut drvs: Vec<StorePath> = Vec::new();
    let mut number: HashMap<StorePath, usize> = HashMap::new();
    for w in &wanted {
        if !number.contains_key(&w.drv) {
            number.insert(w.drv.clone(), number.len());
            drvs.push(w.drv.clone());
        }
    }
    if o.dry_run {
        let plan = plan(&store, &drvs, &o.options)
            .map_err(|e| CmdError::msg(super::build::describe(&e, true)))?;
        let list: Vec<&StorePath> = plan.to_build.iter().collect();
        super::build_common::print_to_build(&sd, &list, "will");
        return Ok(0);
    }
    let built =
        super::build_common::realise_with_progress(&store, &drvs, &o.options, o.quiet, true)?;
    let mut out_paths = Vec::new();
    let mut links: Vec<(String, String)> = Vec::new();
    for w in &wanted {
        let path = built
            .get(&w.drv)
            .and_then(|m| m.get(&w.output))
            .ok_or_else(|| {
                CmdError::msg(format!(
                    "derivation '{}' does not have an output named '{}'",
                    sd.display(&w.drv),
                    w.output
                ))
            })?;
        let shown = sd.display(path);
        if let Some(base) = &o.out_link {
            let mut link = absolute(base);
            let n = number.get(&w.drv).copied().unwrap_or(0);
            if n > 0 {
                link.push_str(&format!("-{}", n + 1));
            }
            if w.output != "out" {
                link.push('-');
                link.push_str(&w.output);
            }
            links.push((link, shown.clone()));
        }
        out_paths.push(shown);
    }
    links.sort();
    links.dedup_by(|a, b| a.0 == b.0);
    for (link, target) in &links {
        add_perm_root(&store, target, link)?;
    }
    let mut stdout = std::io::stdout().lock();
    for p in &out_paths {
        writeln!(stdout, "{p}").map_err(|e| CmdError::msg(e.to_string()))?;
    }
    Ok(0)
}
