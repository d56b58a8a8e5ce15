//! `nixrs eval` and `nixrs nix-instantiate --eval` (CppNix 2.8's command line and output).

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use nix_eval::value::Context;
use nix_eval::{Error, Evaluator, Value};

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
}

enum ArgValue {
    Expr(String),
    Str(String),
}

fn parse_args(args: &[OsString]) -> Result<Opts, CmdError> {
    let mut o = Opts {
        location: true,
        ..Default::default()
    };
    let mut i = 0;
    let next = |i: &mut usize, flag: &str| -> Result<String, CmdError> {
        *i += 1;
        match args.get(*i) {
            Some(a) => Ok(arg_str(a)?.to_string()),
            None => Err(CmdError::usage(format!(
                "flag '{flag}' requires an argument"
            ))),
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
            "--read-write-mode" | "--readonly-mode" | "--impure" => {}
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
                next(&mut i, &a)?;
                next(&mut i, &a)?;
            }
            "--timeout" | "--max-jobs" | "-j" | "--cores" | "--store" => {
                next(&mut i, &a)?;
            }
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(CmdError::usage(format!("unrecognised flag '{s}'")));
            }
            _ => o.files.push(a),
        }
        i += 1;
    }
    Ok(o)
}

fn split_search_entry(s: &str) -> (String, String) {
    match s.split_once('=') {
        Some((p, path)) => (p.to_string(), path.to_string()),
        None => (String::new(), s.to_string()),
    }
}

fn build_evaluator(o: &Opts) -> Evaluator {
    let mut b = Evaluator::builder().show_trace(o.show_trace);
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
    b.build()
}

fn cwd() -> PathBuf {
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
            let v = if o.strict { st.force_deep(&v)? } else { v };
            out.extend_from_slice(&nix_eval::print::print_value(st, &v));
            out.push(b'\n');
        }
    }
    Ok(())
}

fn run(o: &Opts) -> CmdResult {
    let mut ev = build_evaluator(o);
    ev.with_big_stack(|ev| run_on(ev, o))
}

fn run_on(ev: &mut Evaluator, o: &Opts) -> CmdResult {
    let mut out = Vec::new();
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
            process(ev, o, root, &auto, &mut out)?;
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
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            let _ = lock.write_all(&out);
            let _ = lock.flush();
            eprint!("{}", ev.render_error(&e));
            Ok(1)
        }
    }
}

/// `nixrs eval [--strict] [--json] [--xml] (-E EXPR | FILE) [-A PATH] …`: evaluates and
/// prints like `nix-instantiate --eval`.
pub fn main(args: &[OsString]) -> CmdResult {
    let mut o = parse_args(args)?;
    o.eval = true;
    run(&o)
}

/// `nix-instantiate` (only the `--eval` form is implemented).
pub fn nix_instantiate(args: &[OsString]) -> CmdResult {
    if args.iter().any(|a| a == "--parse") {
        return super::parse::nix_instantiate_parse(args);
    }
    let o = parse_args(args)?;
    if !o.eval {
        return Err(CmdError::msg(
            "nixrs nix-instantiate: only --eval is implemented (derivation instantiation is not yet)",
        ));
    }
    run(&o)
}
