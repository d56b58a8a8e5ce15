//! Builtins that put things into the store: copying interpolated paths, `toFile`, `path`,
//! `filterSource`, `storePath`, and `hashFile`.
//!
//! They go through the evaluator's [`crate::store::StoreState`], so in read-only mode paths
//! are computed and in read-write mode written (CppNix's `settings.readOnlyMode`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use nix_store::content_address::FileIngestionMethod;
use nix_store::hash::{Hash, HashAlgo};
use nix_store::store_path::StorePath;

use super::PrimOp;
use crate::diagnostic::Pos;
use crate::error::{Error, Result};
use crate::eval::EvalState;
use crate::io::FileKind;
use crate::value::{Context, NixString, Value};

/// Forces a string that must not have a context (CppNix's `forceStringNoCtx`).
pub(crate) fn force_string_no_ctx(
    st: &mut EvalState,
    v: &Value,
    pos: Option<Pos>,
) -> Result<NixString> {
    let s = st.force_string(v, pos)?;
    if let Some(c) = s.context() {
        if let Some(first) = c.iter().next() {
            // CppNix shows the raw context element (`=/nix/store/…`, `!out!/nix/store/…`)
            return Err(Error::eval(format!(
                "the string '{}' is not allowed to refer to a store path (such as '{}')",
                s.to_str_lossy(),
                first
            ))
            .at_opt(pos));
        }
    }
    Ok(s)
}

/// A store path name error as CppNix words it.
pub(crate) fn name_error(e: impl std::fmt::Display) -> Error {
    Error::eval(e.to_string())
}

/// A string value that is a store path with itself as context.
fn store_path_string(st: &EvalState, p: &StorePath) -> Value {
    let s = st.store.store_dir().display(p);
    let mut c = Context::new();
    c.insert(s.clone());
    Value::String(NixString::with_context(s.into_bytes(), Some(c)))
}

/// Copies a source path to the store as interpolation does (CppNix's `copyPathToStore`):
/// remembered per path, named after its base name, refused for `.drv` names.
pub(crate) fn copy_source(st: &mut EvalState, path: &Path) -> Result<String> {
    let store = st.store.clone();
    if let Some(sp) = store.cached_source(path) {
        return Ok(store.store_dir().display(&sp));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.ends_with(".drv") {
        return Err(Error::eval("file names are not allowed to end in '.drv'"));
    }
    let added = store.backend().add_path(
        &name,
        path,
        FileIngestionMethod::Recursive,
        HashAlgo::Sha256,
        None,
    )?;
    store.remember_source(path, added.path.clone());
    Ok(store.store_dir().display(&added.path))
}

fn to_file(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let name = force_string_no_ctx(st, &args[0], pos)?;
    let contents = st.force_string(&args[1], pos)?;
    let name = name.to_str_lossy().into_owned();
    let store = st.store.clone();
    let mut refs = BTreeSet::new();
    if let Some(c) = contents.context() {
        for e in c.iter() {
            if !e.starts_with('/') {
                return Err(Error::eval(format!(
                    "in 'toFile': the file named '{name}' must not contain a reference to a derivation but contains ({e})"
                ))
                .at_opt(pos));
            }
            refs.insert(store.store_dir().parse_path(e).map_err(name_error)?);
        }
    }
    let p = store
        .backend()
        // CppNix's store errors (an invalid name) carry no position
        .add_text(&name, contents.as_bytes(), &refs)?;
    Ok(store_path_string(st, &p))
}

/// CppNix's `addPath`: copies `path` (filtered) as `name`, checking `expected` if given.
fn add_path(
    st: &mut EvalState,
    pos: Option<Pos>,
    name: &str,
    path: &Path,
    filter: Option<Value>,
    method: FileIngestionMethod,
    expected: Option<Hash>,
) -> Result<Value> {
    add_path_inner(st, pos, name, path, filter, method, expected)
        .map_err(|e| e.add_trace(pos, format!("while adding path '{}'", path.display())))
}

fn add_path_inner(
    st: &mut EvalState,
    pos: Option<Pos>,
    name: &str,
    path: &Path,
    filter: Option<Value>,
    method: FileIngestionMethod,
    expected: Option<Hash>,
) -> Result<Value> {
    let store = st.store.clone();
    let expected_path = match &expected {
        Some(h) => Some(
            store
                .store_dir()
                .make_fixed_output_path(name, method, h, &BTreeSet::new(), false)
                .map_err(name_error)?,
        ),
        None => None,
    };
    if let Some(ep) = &expected_path {
        if store.backend().is_valid_path(ep)? {
            return Ok(store_path_string(st, ep));
        }
    }
    let added = match filter {
        None => store
            .backend()
            .add_path(name, path, method, HashAlgo::Sha256, None)?,
        Some(f) => {
            let mut cb = |p: &Path, kind: FileKind| -> Result<bool> {
                let arg = Value::string(p.to_string_lossy().into_owned());
                let g = st.call_value(&f, arg, None)?;
                let r = st.call_value(&g, Value::string(kind.as_str()), None)?;
                st.force_bool(&r, pos)
            };
            store
                .backend()
                .add_path(name, path, method, HashAlgo::Sha256, Some(&mut cb))?
        }
    };
    if let Some(ep) = &expected_path {
        if *ep != added.path {
            return Err(Error::eval(format!(
                "store path mismatch in (possibly filtered) path added from '{}'",
                path.display()
            )));
        }
    }
    Ok(store_path_string(st, &added.path))
}

fn base_name(p: &Path) -> String {
    let s = p.to_string_lossy();
    let t = s.strip_suffix('/').unwrap_or(&s);
    match t.rfind('/') {
        Some(i) => t[i + 1..].to_string(),
        None => t.to_string(),
    }
}

/// Coerces to a path that must not have a context (`string '…' cannot refer to other paths`).
fn coerce_path_no_ctx(st: &mut EvalState, v: &Value, pos: Option<Pos>) -> Result<PathBuf> {
    let mut ctx = Context::new();
    let s = st.coerce_to_string(v, pos, false, false, &mut ctx)?;
    let text = String::from_utf8_lossy(&s).into_owned();
    if !text.starts_with('/') {
        return Err(Error::eval(format!(
            "string '{text}' doesn't represent an absolute path"
        ))
        .at_opt(pos));
    }
    if !ctx.is_empty() {
        return Err(
            Error::eval(format!("string '{text}' cannot refer to other paths")).at_opt(pos),
        );
    }
    Ok(PathBuf::from(text))
}

fn filter_source(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let path = coerce_path_no_ctx(st, &args[1], pos)?;
    let f = st.force(&args[0])?;
    if !matches!(f, Value::Lambda(_) | Value::PrimOp(_) | Value::PrimOpApp(_)) {
        return Err(Error::type_error(format!(
            "first argument in call to 'filterSource' is not a function but {}",
            f.show_type()
        ))
        .at_opt(pos));
    }
    let name = base_name(&path);
    add_path(
        st,
        pos,
        &name,
        &path,
        Some(f),
        FileIngestionMethod::Recursive,
        None,
    )
}

fn path(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let attrs = st.force_attrs(&args[0], pos)?;
    let mut path: Option<PathBuf> = None;
    let mut name = String::new();
    let mut filter = None;
    let mut method = FileIngestionMethod::Recursive;
    let mut expected = None;
    // CppNix iterates the set in its internal (symbol) order; errors name the attribute.
    let entries: Vec<(Vec<u8>, Value, Option<Pos>)> = attrs
        .iter()
        .map(|a| (st.symbols.resolve(a.name).to_vec(), a.value.clone(), a.pos))
        .collect();
    for (n, v, apos) in entries {
        let apos = apos.or(pos);
        match n.as_slice() {
            b"path" => path = Some(coerce_path_no_ctx(st, &v, apos)?),
            b"name" => {
                name = force_string_no_ctx(st, &v, apos)?
                    .to_str_lossy()
                    .into_owned()
            }
            b"filter" => filter = Some(st.force(&v)?),
            b"recursive" => {
                method = if st.force_bool(&v, apos)? {
                    FileIngestionMethod::Recursive
                } else {
                    FileIngestionMethod::Flat
                }
            }
            b"sha256" => {
                let s = force_string_no_ctx(st, &v, apos)?;
                expected = Some(
                    parse_hash_allow_empty(&s.to_str_lossy(), Some(HashAlgo::Sha256))
                        .map_err(|e| e.at_opt(apos))?,
                );
            }
            other => {
                return Err(Error::eval(format!(
                    "unsupported argument '{}' to 'addPath'",
                    String::from_utf8_lossy(other)
                ))
                .at_opt(apos))
            }
        }
    }
    let path = match path {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => return Err(Error::eval("'path' required").at_opt(pos)),
    };
    if name.is_empty() {
        name = base_name(&path);
    }
    add_path(st, pos, &name, &path, filter, method, expected)
}

/// CppNix's `newHashAllowEmpty`: an empty hash is the all-zero hash of `algo` (with a warning
/// in CppNix), otherwise any encoding (base16, nix32, base64, SRI).
pub(crate) fn parse_hash_allow_empty(s: &str, algo: Option<HashAlgo>) -> Result<Hash> {
    if s.is_empty() {
        let algo = algo.ok_or_else(|| Error::eval("empty hash requires explicit hash type"))?;
        return Hash::new(algo, &vec![0u8; algo.digest_len()])
            .map_err(|e| Error::eval(e.to_string()));
    }
    match algo {
        Some(a) => Hash::parse_with_algo(s, a),
        None => Hash::parse_any(s),
    }
    .map_err(|e| match e {
        // CppNix's `Hash::parseAny` with no type given
        nix_store::hash::ParseHashError::MissingAlgo { hash } => Error::eval(format!(
            "hash '{hash}' does not include a type, nor is the type otherwise known from context"
        )),
        e => Error::eval(e.to_string()),
    })
}

fn store_path(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    if st.settings.pure {
        return Err(
            Error::eval("'builtins.storePath' is not allowed in pure evaluation mode").at_opt(pos),
        );
    }
    let mut ctx = Context::new();
    let s = st.coerce_to_string(&args[0], pos, false, false, &mut ctx)?;
    let text = String::from_utf8_lossy(&s).into_owned();
    if !text.starts_with('/') {
        return Err(Error::eval(format!(
            "string '{text}' doesn't represent an absolute path"
        ))
        .at_opt(pos));
    }
    let store = st.store.clone();
    let dir = store.store_dir().clone();
    let canon = String::from_utf8_lossy(&crate::eval::canon_path(text.as_bytes())).into_owned();
    // a store path itself (even a symlink) is kept; anything else has its symlinks resolved
    let resolved = if dir.parse_path(&canon).is_ok() {
        canon
    } else {
        resolve_symlinks(&canon)?
    };
    let (sp, _) = dir.parse_path_prefix(&resolved).map_err(|_| {
        Error::eval(format!("path '{resolved}' is not in the Nix store")).at_opt(pos)
    })?;
    if store.backend().writes() {
        store.backend().ensure_path(&sp)?;
    }
    ctx.insert(dir.display(&sp));
    Ok(Value::String(NixString::with_context(
        resolved.into_bytes(),
        Some(ctx),
    )))
}

/// CppNix's `canonPath(path, true)`: `path` with every symlink resolved; a component that
/// does not exist is an error without a position (`getting status of '/a/b': …`).
fn resolve_symlinks(path: &str) -> Result<String> {
    match std::fs::canonicalize(path) {
        Ok(p) => Ok(p.to_string_lossy().into_owned()),
        Err(e) => {
            // name the first prefix that cannot be examined, as CppNix's lstat does
            let mut prefix = String::new();
            for part in path.split('/').filter(|p| !p.is_empty()) {
                prefix.push('/');
                prefix.push_str(part);
                if let Err(e) = std::fs::metadata(&prefix) {
                    return Err(Error::new(
                        crate::error::ErrorKind::Io,
                        format!(
                            "getting status of '{prefix}': {}",
                            crate::io::os_message(&e)
                        ),
                    ));
                }
            }
            Err(Error::new(
                crate::error::ErrorKind::Io,
                format!("getting status of '{path}': {}", crate::io::os_message(&e)),
            ))
        }
    }
}

fn hash_file(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let ty = force_string_no_ctx(st, &args[0], pos)?;
    let algo: HashAlgo = ty.to_str_lossy().parse().map_err(|_| {
        Error::new(
            crate::error::ErrorKind::Usage,
            format!("unknown hash algorithm '{}'", ty.to_str_lossy()),
        )
    })?;
    let p = super::misc::realise_path(st, &args[1], pos)?;
    let data = st
        .io
        .read_file(&p)
        .map_err(|e| Error::new(crate::error::ErrorKind::Io, e))?;
    Ok(Value::string(Hash::digest_bytes(algo, &data).to_base16()))
}

pub(super) const PRIMOPS: &[PrimOp] = &[
    PrimOp {
        name: "toFile",
        arity: 2,
        func: to_file,
    },
    PrimOp {
        name: "filterSource",
        arity: 2,
        func: filter_source,
    },
    PrimOp {
        name: "path",
        arity: 1,
        func: path,
    },
    PrimOp {
        name: "storePath",
        arity: 1,
        func: store_path,
    },
    PrimOp {
        name: "hashFile",
        arity: 2,
        func: hash_file,
    },
];
