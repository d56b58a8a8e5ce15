//! String builtins.

use std::rc::Rc;

use crate::diagnostic::Pos;
use crate::error::{Error, Result};
use crate::eval::EvalState;
use crate::value::{AttrsBuilder, Context, NixString, Value};

use super::PrimOp;

/// Coerces like CppNix's default `coerceToString` (no `coerceMore`, paths copied), but
/// returns the string itself (sharing its buffer) when it already is one.
fn coerce(st: &mut EvalState, v: &Value, pos: Option<Pos>) -> Result<NixString> {
    let v = st.force(v)?;
    if let Value::String(s) = v {
        return Ok(s);
    }
    let mut ctx = Context::new();
    let bytes = st.coerce_to_string(&v, pos, false, true, &mut ctx)?;
    Ok(NixString::with_context(bytes, Some(ctx)))
}

fn string_length(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    Ok(Value::Int(coerce(st, &args[0], pos)?.len() as i64))
}

fn substring(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let start = st.force_int(&args[0], pos)?;
    let len = st.force_int(&args[1], pos)?;
    let s = coerce(st, &args[2], pos)?;
    if start < 0 {
        return Err(Error::eval("negative start position in 'substring'").at_opt(pos));
    }
    let start = start as usize;
    if start >= s.len() {
        return Ok(Value::String(s.slice(s.len(), s.len())));
    }
    let end = if len < 0 {
        s.len()
    } else {
        start.saturating_add(len as usize).min(s.len())
    };
    Ok(Value::String(s.slice(start, end)))
}

fn concat_strings_sep(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let sep = st.force_string(&args[0], pos)?;
    let l = st.force_list(&args[1], pos)?;
    let mut ctx = Context::new();
    if let Some(c) = sep.context() {
        ctx.extend(c);
    }
    let mut out = Vec::new();
    for (i, x) in l.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(sep.as_bytes());
        }
        let v = st.force(x)?;
        match &v {
            Value::String(s) => {
                out.extend_from_slice(s.as_bytes());
                if let Some(c) = s.context() {
                    ctx.extend(c);
                }
            }
            _ => {
                let s = st.coerce_to_string(&v, pos, false, true, &mut ctx)?;
                out.extend_from_slice(&s);
            }
        }
    }
    Ok(Value::String(NixString::with_context(out, Some(ctx))))
}

fn replace_strings(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let from = st.force_list(&args[0], pos)?;
    let to = st.force_list(&args[1], pos)?;
    let s = st.force_string(&args[2], pos)?;
    if from.len() != to.len() {
        return Err(Error::eval(
            "'from' and 'to' arguments to 'replaceStrings' have different lengths",
        )
        .at_opt(pos));
    }
    let mut pats = Vec::with_capacity(from.len());
    for f in from.iter() {
        pats.push(st.force_string(f, pos)?);
    }
    let mut reps: Vec<Option<NixString>> = vec![None; to.len()];
    let mut ctx = Context::new();
    if let Some(c) = s.context() {
        ctx.extend(c);
    }
    let src = s.as_bytes();
    let mut out = Vec::with_capacity(src.len());
    let mut p = 0;
    while p <= src.len() {
        let mut found = false;
        for (i, pat) in pats.iter().enumerate() {
            let pb = pat.as_bytes();
            if src[p..].starts_with(pb) {
                found = true;
                if reps[i].is_none() {
                    let r = st.force_string(&to[i], pos)?;
                    if let Some(c) = r.context() {
                        ctx.extend(c);
                    }
                    reps[i] = Some(r);
                }
                if let Some(r) = &reps[i] {
                    out.extend_from_slice(r.as_bytes());
                }
                if pb.is_empty() {
                    if p < src.len() {
                        out.push(src[p]);
                    }
                    p += 1;
                } else {
                    p += pb.len();
                }
                break;
            }
        }
        if !found {
            if p < src.len() {
                out.push(src[p]);
            }
            p += 1;
        }
    }
    Ok(Value::String(NixString::with_context(out, Some(ctx))))
}

fn to_string(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let v = st.force(&args[0])?;
    if let Value::String(s) = v {
        return Ok(Value::String(s));
    }
    let mut ctx = Context::new();
    let s = st.coerce_to_string(&v, pos, true, false, &mut ctx)?;
    Ok(Value::String(NixString::with_context(s, Some(ctx))))
}

fn base_name_of(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let mut ctx = Context::new();
    let s = st.coerce_to_string(&args[0], pos, false, false, &mut ctx)?;
    if s.is_empty() {
        return Ok(Value::String(NixString::with_context(
            Vec::new(),
            Some(ctx),
        )));
    }
    let mut last = s.len() - 1;
    if s[last] == b'/' && last > 0 {
        last -= 1;
    }
    let start = s[..=last]
        .iter()
        .rposition(|c| *c == b'/')
        .map(|i| i + 1)
        .unwrap_or(0);
    Ok(Value::String(NixString::with_context(
        s[start..=last].to_vec(),
        Some(ctx),
    )))
}

fn dir_of(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let v = st.force(&args[0])?;
    let mut ctx = Context::new();
    let s = st.coerce_to_string(&v, pos, false, false, &mut ctx)?;
    let dir: Vec<u8> = match s.iter().rposition(|c| *c == b'/') {
        None => b".".to_vec(),
        Some(0) => b"/".to_vec(),
        Some(i) => s[..i].to_vec(),
    };
    if matches!(v, Value::Path(_)) {
        Ok(Value::Path(NixString::new(dir)))
    } else {
        Ok(Value::String(NixString::with_context(dir, Some(ctx))))
    }
}

fn compare_versions(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let a = st.force_string(&args[0], pos)?;
    let b = st.force_string(&args[1], pos)?;
    Ok(Value::Int(
        match crate::support::version::compare_versions(a.as_bytes(), b.as_bytes()) {
            std::cmp::Ordering::Less => -1,
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Greater => 1,
        },
    ))
}

fn split_version(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let s = st.force_string(&args[0], pos)?;
    let parts = crate::support::version::split_version(s.as_bytes());
    Ok(Value::list(
        parts
            .into_iter()
            .map(|p| Value::string(p.to_vec()))
            .collect(),
    ))
}

fn parse_drv_name(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let s = st.force_string(&args[0], pos)?;
    let (name, version) = crate::support::version::parse_drv_name(s.as_bytes());
    let mut b = AttrsBuilder::with_capacity(2);
    b.insert(st.sym.name, Value::string(name.to_vec()), None);
    b.insert(st.sym.version, Value::string(version.to_vec()), None);
    Ok(Value::Attrs(Rc::new(b.build())))
}

fn hash_string(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let algo = st.force_string(&args[0], pos)?;
    let s = st.force_string(&args[1], pos)?;
    let algo: nix_store::hash::HashAlgo = algo.to_str_lossy().parse().map_err(|_| {
        Error::new(
            crate::error::ErrorKind::Usage,
            format!("unknown hash algorithm '{}'", algo.to_str_lossy()),
        )
    })?;
    let h = nix_store::hash::Hash::digest_bytes(algo, s.as_bytes());
    Ok(Value::string(h.to_base16()))
}

fn placeholder(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let s = st.force_string(&args[0], pos)?;
    let mut data = b"nix-output:".to_vec();
    data.extend_from_slice(s.as_bytes());
    let h = nix_store::hash::Hash::digest_bytes(nix_store::hash::HashAlgo::Sha256, &data);
    Ok(Value::string(format!("/{}", h.to_nix32())))
}

fn has_context(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let s = st.force_string(&args[0], pos)?;
    Ok(Value::Bool(s.context().is_some()))
}

fn get_context(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let s = st.force_string(&args[0], pos)?;
    let mut paths: std::collections::BTreeMap<String, (bool, bool, Vec<String>)> =
        std::collections::BTreeMap::new();
    if let Some(c) = s.context() {
        for e in c.iter() {
            if let Some(rest) = e.strip_prefix('=') {
                paths.entry(rest.to_string()).or_default().1 = true;
            } else if let Some(rest) = e.strip_prefix('!') {
                if let Some((out, path)) = rest.split_once('!') {
                    paths
                        .entry(path.to_string())
                        .or_default()
                        .2
                        .push(out.to_string());
                }
            } else {
                paths.entry(e.to_string()).or_default().0 = true;
            }
        }
    }
    let path_sym = st.symbols.intern(b"path");
    let all_sym = st.symbols.intern(b"allOutputs");
    let outs_sym = st.symbols.intern(b"outputs");
    let mut b = AttrsBuilder::with_capacity(paths.len());
    for (p, (is_path, all, outs)) in paths {
        let mut inner = AttrsBuilder::new();
        if is_path {
            inner.insert(path_sym, Value::Bool(true), None);
        }
        if all {
            inner.insert(all_sym, Value::Bool(true), None);
        }
        if !outs.is_empty() {
            inner.insert(
                outs_sym,
                Value::list(outs.into_iter().map(Value::string).collect()),
                None,
            );
        }
        let sym = st.symbols.intern(p.as_bytes());
        b.insert(sym, Value::Attrs(Rc::new(inner.build())), None);
    }
    Ok(Value::Attrs(Rc::new(b.build())))
}

fn unsafe_discard_string_context(
    st: &mut EvalState,
    args: &[Value],
    pos: Option<Pos>,
) -> Result<Value> {
    let s = coerce(st, &args[0], pos)?;
    Ok(Value::String(s.without_context()))
}

fn unsafe_discard_output_dependency(
    st: &mut EvalState,
    args: &[Value],
    pos: Option<Pos>,
) -> Result<Value> {
    let s = coerce(st, &args[0], pos)?;
    let Some(c) = s.context() else {
        return Ok(Value::String(s));
    };
    let mut out = Context::new();
    for e in c.iter() {
        match e.strip_prefix('=') {
            Some(rest) => out.insert(rest),
            None => out.insert(e),
        }
    }
    Ok(Value::String(s.with_other_context(Some(out))))
}

fn compile(
    st: &mut EvalState,
    re: &[u8],
    pos: Option<Pos>,
) -> Result<Rc<crate::support::regex::Regex>> {
    if let Some(r) = st.regex_cache.get(re) {
        return Ok(r.clone());
    }
    let r = crate::support::regex::Regex::new(re)
        .map_err(|e| Error::eval(e.to_string()).at_opt(pos))?;
    let r = Rc::new(r);
    st.regex_cache.insert(re.to_vec(), r.clone());
    Ok(r)
}

fn regex_match(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let re = st.force_string(&args[0], pos)?;
    let s = st.force_string(&args[1], pos)?;
    let r = compile(st, re.as_bytes(), pos)?;
    let m = r
        .full_match(s.as_bytes())
        .map_err(|e| Error::eval(e.to_string()).at_opt(pos))?;
    match m {
        None => Ok(Value::Null),
        Some(groups) => Ok(Value::list(
            groups
                .into_iter()
                .map(|g| match g {
                    Some(range) => Value::String(s.slice(range.start, range.end).without_context()),
                    None => Value::Null,
                })
                .collect(),
        )),
    }
}

fn regex_split(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let re = st.force_string(&args[0], pos)?;
    let s = st.force_string(&args[1], pos)?;
    let r = compile(st, re.as_bytes(), pos)?;
    let all = r
        .find_all(s.as_bytes())
        .map_err(|e| Error::eval(e.to_string()).at_opt(pos))?;
    let mut out = Vec::with_capacity(all.len() * 2 + 1);
    let mut last = 0;
    for c in all {
        out.push(Value::String(
            s.slice(last, c.whole.start).without_context(),
        ));
        out.push(Value::list(
            c.groups
                .into_iter()
                .map(|g| match g {
                    Some(range) => Value::String(s.slice(range.start, range.end).without_context()),
                    None => Value::Null,
                })
                .collect(),
        ));
        last = c.whole.end;
    }
    out.push(Value::String(s.slice(last, s.len()).without_context()));
    Ok(Value::list(out))
}

pub(super) const PRIMOPS: &[PrimOp] = &[
    PrimOp {
        name: "match",
        arity: 2,
        func: regex_match,
    },
    PrimOp {
        name: "split",
        arity: 2,
        func: regex_split,
    },
    PrimOp {
        name: "stringLength",
        arity: 1,
        func: string_length,
    },
    PrimOp {
        name: "substring",
        arity: 3,
        func: substring,
    },
    PrimOp {
        name: "concatStringsSep",
        arity: 2,
        func: concat_strings_sep,
    },
    PrimOp {
        name: "replaceStrings",
        arity: 3,
        func: replace_strings,
    },
    PrimOp {
        name: "toString",
        arity: 1,
        func: to_string,
    },
    PrimOp {
        name: "baseNameOf",
        arity: 1,
        func: base_name_of,
    },
    PrimOp {
        name: "dirOf",
        arity: 1,
        func: dir_of,
    },
    PrimOp {
        name: "compareVersions",
        arity: 2,
        func: compare_versions,
    },
    PrimOp {
        name: "splitVersion",
        arity: 1,
        func: split_version,
    },
    PrimOp {
        name: "parseDrvName",
        arity: 1,
        func: parse_drv_name,
    },
    PrimOp {
        name: "hashString",
        arity: 2,
        func: hash_string,
    },
    PrimOp {
        name: "placeholder",
        arity: 1,
        func: placeholder,
    },
    PrimOp {
        name: "hasContext",
        arity: 1,
        func: has_context,
    },
    PrimOp {
        name: "getContext",
        arity: 1,
        func: get_context,
    },
    PrimOp {
        name: "unsafeDiscardStringContext",
        arity: 1,
        func: unsafe_discard_string_context,
    },
    PrimOp {
        name: "unsafeDiscardOutputDependency",
        arity: 1,
        func: unsafe_discard_output_dependency,
    },
];
