//! Imports, the search path, files and `genericClosure`.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::diagnostic::Pos;
use crate::error::{Error, ErrorKind, Result};
use crate::eval::EvalState;
use crate::io::FileKind;
use crate::value::{AttrsBuilder, Context, NixString, Value};

use super::PrimOp;

/// `builtins.nixPath`: `[ { path; prefix; } … ]` from the search path.
pub(crate) fn nix_path_value(st: &mut EvalState) -> Value {
    let entries = st.settings.search_path.clone();
    let mut out = Vec::with_capacity(entries.len());
    for (prefix, path) in entries {
        let mut b = AttrsBuilder::with_capacity(2);
        b.insert(st.sym.path, Value::string(path), None);
        b.insert(st.sym.prefix, Value::string(prefix), None);
        out.push(Value::Attrs(Rc::new(b.build())));
    }
    Value::list(out)
}

/// Coerces to an absolute path (no store copy).
pub(crate) fn coerce_to_path(st: &mut EvalState, v: &Value, pos: Option<Pos>) -> Result<PathBuf> {
    let mut ctx = Context::new();
    let s = st.coerce_to_string(v, pos, false, false, &mut ctx)?;
    if s.first() != Some(&b'/') {
        return Err(Error::eval(format!(
            "string '{}' doesn't represent an absolute path",
            String::from_utf8_lossy(&s)
        ))
        .at_opt(pos));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&s).into_owned()))
}

/// CppNix's `attribute 'NAME' missing for call to 'FUNC'`: at the set's position with a
/// `while invoking` frame at the call when the set was written in the source, else at the
/// call.
pub(crate) fn missing_for_call(
    name: &str,
    func: &str,
    set_pos: Option<Pos>,
    pos: Option<Pos>,
) -> Error {
    let e = Error::type_error(format!("attribute '{name}' missing for call to '{func}'"));
    match set_pos {
        Some(sp) => e.at(sp).add_trace(pos, format!("while invoking '{func}'")),
        None => e.at_opt(pos),
    }
}

/// CppNix's `realisePath` (import, readFile, readDir, pathExists, hashFile): a coercion
/// error gets the trace frame `while realising the context of a path`.
///
/// The store paths of the string's context must be valid (CppNix's `realiseContext`): else
/// `path '…' is not valid`, without a position. A path that exists on disk counts as valid
/// (without a store, [`crate::store::ComputeOnly`] knows no valid paths).
pub(crate) fn realise_path(st: &mut EvalState, v: &Value, pos: Option<Pos>) -> Result<PathBuf> {
    let trace = |e: Error| e.add_trace(pos, "while realising the context of a path");
    let mut ctx = Context::new();
    let s = st
        .coerce_to_string(v, pos, false, false, &mut ctx)
        .map_err(trace)?;
    if s.first() != Some(&b'/') {
        return Err(trace(
            Error::eval(format!(
                "string '{}' doesn't represent an absolute path",
                String::from_utf8_lossy(&s)
            ))
            .at_opt(pos),
        ));
    }
    if !ctx.is_empty() {
        let store = st.store.clone();
        for element in ctx.iter() {
            let printed = match element.strip_prefix('=') {
                Some(p) => p,
                None => match element.strip_prefix('!') {
                    Some(rest) => rest.split_once('!').map_or(rest, |x| x.1),
                    None => element,
                },
            };
            let Ok(sp) = store.store_dir().parse_path(printed) else {
                continue;
            };
            if !store.backend().is_valid_path(&sp).map_err(trace)?
                && st.io.file_kind(Path::new(printed)).is_none()
            {
                return Err(trace(Error::new(
                    ErrorKind::Io,
                    format!("path '{printed}' is not valid"),
                )));
            }
        }
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&s).into_owned()))
}

fn import(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let p = realise_path(st, &args[0], pos)?;
    let target = import_target(st, &p);
    let exists = st.io.file_kind(&target).is_some();
    st.import_path(&p, pos).map_err(|e| {
        // CppNix adds this frame to errors of evaluating the file's expression (not to a
        // missing file or a syntax error).
        if exists && !matches!(e.kind(), ErrorKind::Parse | ErrorKind::UndefinedVar) {
            e.add_trace(
                None,
                format!("while evaluating the file '{}':", target.display()),
            )
        } else {
            e
        }
    })
}

fn scoped_import(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let scope = st.force_attrs(&args[0], pos)?;
    let p = realise_path(st, &args[1], pos)?;
    st.scoped_import_path(&scope, &p, pos)
}

fn find_file(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let list = st.force_list(&args[0], pos)?;
    let wanted = st.force_string(&args[1], pos)?;
    let wanted = wanted.as_bytes().to_vec();
    for entry in list.iter() {
        let a = st.force_attrs(entry, pos)?;
        let prefix = match a.get(st.sym.prefix) {
            Some(p) => st.force_string(&p.clone(), pos)?.as_bytes().to_vec(),
            None => Vec::new(),
        };
        let path = match a.get(st.sym.path) {
            Some(p) => {
                let p = p.clone();
                let mut ctx = Context::new();
                st.coerce_to_string(&p, pos, false, false, &mut ctx)?
            }
            None => {
                return Err(
                    Error::new(ErrorKind::MissingAttr, "attribute 'path' missing").at_opt(pos),
                )
            }
        };
        let rest: Option<Vec<u8>> = if prefix.is_empty() {
            Some(wanted.clone())
        } else if wanted == prefix {
            Some(Vec::new())
        } else if wanted.starts_with(&prefix) && wanted.get(prefix.len()) == Some(&b'/') {
            Some(wanted[prefix.len() + 1..].to_vec())
        } else {
            None
        };
        let Some(rest) = rest else { continue };
        let mut candidate = path.clone();
        if !rest.is_empty() {
            candidate.push(b'/');
            candidate.extend_from_slice(&rest);
        }
        let cand = PathBuf::from(String::from_utf8_lossy(&candidate).into_owned());
        if st.io.file_kind(&cand).is_some() {
            return Ok(Value::Path(NixString::new(crate::eval::canon_path(
                &candidate,
            ))));
        }
    }
    if let Some(rest) = wanted.strip_prefix(b"nix/") {
        // CppNix 2.8's built-in files (`<nix/fetchurl.nix>`, see crate::fetch::corepkgs_file)
        let mut p = crate::fetch::COREPKGS_PREFIX.as_bytes().to_vec();
        p.extend_from_slice(rest);
        return Ok(Value::Path(NixString::new(p)));
    }
    Err(Error::eval(format!(
        "file '{}' was not found in the Nix search path (add it using $NIX_PATH or -I)",
        String::from_utf8_lossy(&wanted)
    ))
    .at_opt(pos))
}

fn get_env(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let name = super::store::force_string_no_ctx(st, &args[0], pos)?;
    if st.settings.pure {
        return Ok(Value::string(""));
    }
    Ok(Value::string(
        st.io.get_env(&name.to_str_lossy()).unwrap_or_default(),
    ))
}

fn path_exists(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let p = realise_path(st, &args[0], pos)?;
    Ok(Value::Bool(st.io.file_kind(&p).is_some()))
}

fn read_file(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let p = realise_path(st, &args[0], pos)?;
    let data = st
        .io
        .read_file(&p)
        .map_err(|m| Error::new(ErrorKind::Io, m))?;
    Ok(Value::string(data))
}

fn read_dir(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let p = realise_path(st, &args[0], pos)?;
    let entries = st
        .io
        .read_dir(&p)
        // CppNix's readDirectory error has no position
        .map_err(|m| Error::new(ErrorKind::Io, m))?;
    let mut b = AttrsBuilder::with_capacity(entries.len());
    for (name, kind) in entries {
        let sym = st.symbols.intern(&name);
        b.insert(sym, Value::string(kind.as_str()), None);
    }
    Ok(Value::Attrs(Rc::new(b.build())))
}

fn to_path(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let p = coerce_to_path(st, &args[0], pos)?;
    let s = p.to_string_lossy().into_owned();
    Ok(Value::string(crate::eval::canon_path(s.as_bytes())))
}

fn generic_closure(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let a = st.force_attrs(&args[0], pos)?;
    let start = match a.get(st.sym.start_set) {
        Some(s) => s.clone(),
        None => return Err(missing_for_call("startSet", "genericClosure", a.pos(), pos)),
    };
    let op = match a.get(st.sym.operator) {
        Some(s) => s.clone(),
        None => return Err(missing_for_call("operator", "genericClosure", a.pos(), pos)),
    };
    let start = st.force_list(&start, pos)?;
    let mut work: std::collections::VecDeque<Value> = start.iter().cloned().collect();
    let mut keys: Vec<Value> = Vec::new();
    let mut out = Vec::new();
    while let Some(item) = work.pop_front() {
        let attrs = st.force_attrs(&item, pos)?;
        let key = match attrs.get(st.sym.key) {
            Some(k) => st.force(&k.clone())?,
            None => {
                return Err(
                    Error::new(ErrorKind::MissingAttr, "attribute 'key' required").at_opt(pos),
                )
            }
        };
        let mut dup = false;
        for k in &keys {
            if !st.less_than(k, &key)? && !st.less_than(&key, k)? {
                dup = true;
                break;
            }
        }
        if dup {
            continue;
        }
        keys.push(key);
        out.push(item.clone());
        let next = st.call_value(&op, item, pos)?;
        let next = st.force_list(&next, pos)?;
        work.extend(next.iter().cloned());
    }
    Ok(Value::list(out))
}

pub(super) const PRIMOPS: &[PrimOp] = &[
    PrimOp {
        name: "import",
        arity: 1,
        func: import,
    },
    PrimOp {
        name: "scopedImport",
        arity: 2,
        func: scoped_import,
    },
    PrimOp {
        name: "findFile",
        arity: 2,
        func: find_file,
    },
    PrimOp {
        name: "getEnv",
        arity: 1,
        func: get_env,
    },
    PrimOp {
        name: "pathExists",
        arity: 1,
        func: path_exists,
    },
    PrimOp {
        name: "readFile",
        arity: 1,
        func: read_file,
    },
    PrimOp {
        name: "readDir",
        arity: 1,
        func: read_dir,
    },
    PrimOp {
        name: "toPath",
        arity: 1,
        func: to_path,
    },
    PrimOp {
        name: "genericClosure",
        arity: 1,
        func: generic_closure,
    },
];

/// Resolves `path` to the file to import (`default.nix` for a directory).
pub(crate) fn import_target(st: &EvalState, path: &Path) -> PathBuf {
    match st.io.file_kind(path) {
        Some(FileKind::Directory) => path.join("default.nix"),
        _ => path.to_path_buf(),
    }
}
