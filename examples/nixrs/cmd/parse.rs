//! `nix-instantiate --parse [-E EXPR… | FILE… | -]`: prints the parsed expression as CppNix 2.8
//! does (`Expr::show`), or the parse error with its source excerpt.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use nix_eval::syntax::{parse_and_check, show_bytes, Interner, Origin, ParseOptions, SourceMap};

use crate::util::{arg_str, CmdError, CmdResult};

/// Flags of `nix-instantiate` that take a value and do not matter for `--parse`.
const FLAGS_WITH_VALUE: &[&str] = &[
    "--arg",
    "--argstr",
    "-A",
    "--attr",
    "-I",
    "--include",
    "--store",
    "--option",
    "--eval-store",
];

/// `nix-instantiate --parse …`.
pub fn nix_instantiate_parse(args: &[OsString]) -> CmdResult {
    let mut exprs = false;
    let mut inputs: Vec<String> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = arg_str(&args[i])?;
        match a {
            "--parse" | "--show-trace" | "--strict" | "--eval" | "--json" | "--xml"
            | "--read-write-mode" | "--readonly-mode" | "--no-location" => {}
            "-E" | "--expr" => exprs = true,
            f if FLAGS_WITH_VALUE.contains(&f) => {
                // --arg/--argstr take two values, --option too
                let n = if matches!(f, "--arg" | "--argstr" | "--option") {
                    2
                } else {
                    1
                };
                i += n;
            }
            f if f.starts_with('-') && f != "-" => {
                return Err(CmdError::usage(format!("unrecognised flag '{f}'")));
            }
            other => inputs.push(other.to_string()),
        }
        i += 1;
    }
    let cwd = std::env::current_dir()
        .map_err(|e| CmdError::msg(format!("getting the current directory: {e}")))?;
    let home = std::env::var_os("HOME").map(PathBuf::from);
    if inputs.is_empty() && !exprs {
        inputs.push(".".to_string());
    }
    let mut map = SourceMap::new();
    let mut names = Interner::new();
    let stdout = std::io::stdout();
    for input in &inputs {
        let (origin, text, base) = if exprs {
            (Origin::String, input.as_bytes().to_vec(), cwd.clone())
        } else if input == "-" {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| CmdError::msg(format!("reading standard input: {e}")))?;
            (Origin::Stdin, buf, cwd.clone())
        } else {
            let mut path = absolute(&cwd, Path::new(input));
            if path.is_dir() {
                path.push("default.nix");
            }
            let text = std::fs::read(&path).map_err(|e| {
                let reason = match e.kind() {
                    std::io::ErrorKind::NotFound => "No such file or directory".to_string(),
                    _ => e.to_string(),
                };
                CmdError::msg(format!("getting status of '{}': {reason}", path.display()))
            })?;
            let base = path
                .parent()
                .map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
            (Origin::File(path), text, base)
        };
        let Some(file) = map.try_add(origin, text) else {
            return Err(CmdError::msg("input too large"));
        };
        let mut opts = ParseOptions::new(base);
        opts.home = home.clone();
        match parse_and_check(&map, file, &mut names, &opts) {
            Ok(e) => {
                let mut out = show_bytes(&e, &names);
                out.push(b'\n');
                let mut lock = stdout.lock();
                lock.write_all(&out)
                    .map_err(|e| CmdError::msg(format!("writing output: {e}")))?;
                // The process ends after the last input: freeing the tree node by node would
                // only cost time (about 8% of `--parse` of a 10 MB file). It owns memory only.
                std::mem::forget(e);
            }
            Err(e) => {
                let _ = std::io::stdout().flush();
                eprint!("{}", e.render(&map));
                return Ok(1);
            }
        }
    }
    Ok(0)
}

/// `path` made absolute against `cwd` and normalised textually (as CppNix's `absPath`).
fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    let mut out = PathBuf::from("/");
    for comp in joined.components() {
        match comp {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::Normal(c) => out.push(c),
            _ => {}
        }
    }
    out
}
