//! Printing values as `nix-instantiate --eval` does, and as JSON and XML.
//!
//! * [`print_value`]: CppNix 2.8's `operator<<(Value)`: one line, no indentation, `<CODE>` for
//!   unevaluated thunks, `<LAMBDA>`, `<PRIMOP>`, `<PRIMOP-APP>`, `«repeated»` for a non-empty
//!   list or set already printed, floats as `%g`, non-identifier attribute names quoted.
//! * [`to_json`]: `builtins.toJSON` / `--json` (forces as it goes).
//! * [`to_xml`]: `builtins.toXML` / `--xml`.

use std::collections::HashSet;
use std::rc::Rc;

use crate::diagnostic::{self, Pos};
use crate::error::{Error, Result};
use crate::eval::EvalState;
use crate::support::float::format_g;
use crate::support::xml::XmlWriter;
use crate::syntax::Interner;
use crate::value::{Attrs, Context, Value};

/// Appends a string literal with CppNix's escapes.
pub fn escape_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        match c {
            b'"' | b'\\' => {
                out.push(b'\\');
                out.push(c);
            }
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'$' if s.get(i + 1) == Some(&b'{') => out.extend_from_slice(b"\\$"),
            _ => out.push(c),
        }
        i += 1;
    }
    out.push(b'"');
}

const KEYWORDS: &[&[u8]] = &[
    b"if", b"then", b"else", b"assert", b"with", b"let", b"in", b"rec", b"inherit", b"or",
];

/// Whether `s` can be written as a bare attribute name.
pub fn is_identifier(s: &[u8]) -> bool {
    let Some(first) = s.first() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || *first == b'_') {
        return false;
    }
    if !s[1..]
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'\'' | b'-'))
    {
        return false;
    }
    !KEYWORDS.contains(&s)
}

fn attr_name(out: &mut Vec<u8>, name: &[u8]) {
    if is_identifier(name) {
        out.extend_from_slice(name);
    } else {
        escape_string(out, name);
    }
}

/// Prints a value as `nix-instantiate --eval` does (without the final newline). Nothing is
/// forced: unevaluated thunks print as `<CODE>`.
pub fn print_value(st: &EvalState, v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    print_inner(&st.symbols, v, &mut out, &mut seen, false);
    out
}

/// As [`print_value`], for a value whose parts were not forced (`nix-instantiate --eval`
/// without `--strict`, `builtins.trace`): a function stored in a set or a list prints as
/// `<CODE>`, as CppNix's thunk for a function expression does until something calls it (the
/// evaluator stores such functions without a thunk).
///
/// ```
/// let mut ev = nix_eval::Evaluator::builder().build();
/// let v = ev.eval_expr("{ f = x: x; }", "/").unwrap();
/// let st = ev.state();
/// assert_eq!(nix_eval::print::print_value_lazy(st, &v), b"{ f = <CODE>; }");
/// ```
pub fn print_value_lazy(st: &EvalState, v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    match v {
        Value::Attrs(_) | Value::List(_) => print_inner(&st.symbols, v, &mut out, &mut seen, true),
        _ => print_inner(&st.symbols, v, &mut out, &mut seen, false),
    }
    out
}

fn print_inner(
    names: &Interner,
    v: &Value,
    out: &mut Vec<u8>,
    seen: &mut HashSet<*const ()>,
    lazy: bool,
) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Float(f) => out.extend_from_slice(format_g(*f).as_bytes()),
        Value::String(s) => escape_string(out, s.as_bytes()),
        Value::Path(p) => out.extend_from_slice(p.as_bytes()),
        Value::Attrs(a) => {
            if !a.is_empty() && !seen.insert(Rc::as_ptr(a) as *const ()) {
                out.extend_from_slice("«repeated»".as_bytes());
                return;
            }
            out.extend_from_slice(b"{ ");
            for attr in a.sorted_by_name(names) {
                attr_name(out, names.resolve(attr.name));
                out.extend_from_slice(b" = ");
                stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
                    print_inner(names, &attr.value, out, seen, lazy)
                });
                out.extend_from_slice(b"; ");
            }
            out.push(b'}');
        }
        Value::List(l) => {
            if !l.is_empty() && !seen.insert(Rc::as_ptr(l) as *const ()) {
                out.extend_from_slice("«repeated»".as_bytes());
                return;
            }
            out.extend_from_slice(b"[ ");
            for x in l.iter() {
                stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
                    print_inner(names, x, out, seen, lazy)
                });
                out.push(b' ');
            }
            out.push(b']');
        }
        Value::Lambda(_) if lazy => out.extend_from_slice(b"<CODE>"),
        Value::Lambda(_) => out.extend_from_slice(b"<LAMBDA>"),
        Value::PrimOp(_) => out.extend_from_slice(b"<PRIMOP>"),
        Value::PrimOpApp(_) => out.extend_from_slice(b"<PRIMOP-APP>"),
        Value::Thunk(t) => match t.value() {
            // a forced thunk: a function in it was forced, what a set or list holds was not
            Some(inner) => {
                let lazy = lazy && !matches!(inner, Value::Lambda(_));
                print_inner(names, &inner, out, seen, lazy)
            }
            None => out.extend_from_slice(b"<CODE>"),
        },
    }
}

/// Serialises a value as JSON (`builtins.toJSON`, `--json`), forcing it; paths are copied to
/// the store and their store paths (and the strings' contexts) are added to `ctx`.
///
/// # Errors
/// Functions cannot be converted; errors from forcing.
pub fn to_json(
    st: &mut EvalState,
    v: &Value,
    pos: Option<Pos>,
    ctx: &mut Context,
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    json_inner(st, v, pos, ctx, &mut out)?;
    Ok(out)
}

fn json_inner(
    st: &mut EvalState,
    v: &Value,
    pos: Option<Pos>,
    ctx: &mut Context,
    out: &mut Vec<u8>,
) -> Result<()> {
    let v = st.force(v)?;
    match &v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Float(f) => out.extend_from_slice(crate::support::json::format_float(*f).as_bytes()),
        Value::String(s) => {
            if let Some(c) = s.context() {
                ctx.extend(c);
            }
            crate::support::json::escape_string(out, s.as_bytes());
        }
        Value::Path(p) => {
            let sp = st
                .copy_path_to_store(p.as_bytes())
                .map_err(|e| e.at_opt(pos))?;
            ctx.insert(sp.clone());
            crate::support::json::escape_string(out, sp.as_bytes());
        }
        Value::Attrs(a) => {
            if a.contains(st.sym.to_string) {
                let s = st.coerce_to_string(&v, pos, false, false, ctx)?;
                crate::support::json::escape_string(out, &s);
                return Ok(());
            }
            if let Some(o) = a.get(st.sym.out_path) {
                let o = o.clone();
                return json_inner(st, &o, pos, ctx, out);
            }
            out.push(b'{');
            let attrs: Vec<(Vec<u8>, Value, Option<Pos>)> = a
                .sorted_by_name(&st.symbols)
                .into_iter()
                .map(|x| (st.symbols.resolve(x.name).to_vec(), x.value.clone(), x.pos))
                .collect();
            for (i, (name, value, apos)) in attrs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                crate::support::json::escape_string(out, name);
                out.push(b':');
                stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
                    json_inner(st, value, apos.or(pos), ctx, out)
                })?;
            }
            out.push(b'}');
        }
        Value::List(l) => {
            out.push(b'[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                stacker::maybe_grow(64 * 1024, 1024 * 1024, || json_inner(st, x, pos, ctx, out))?;
            }
            out.push(b']');
        }
        Value::Lambda(c) => {
            return Err(Error::type_error("cannot convert a function to JSON")
                .at(c.lambda.pos)
                .add_trace(pos, "message for the trace"))
        }
        _ => {
            return Err(Error::type_error("cannot convert a function to JSON")
                .at_opt(pos)
                .add_trace(pos, "message for the trace"))
        }
    }
    Ok(())
}

/// Writes a value as JSON the way `nix-instantiate --eval --json` does (CppNix's
/// `printValueAsJSON` into standard output): with `strict`, every value is forced; without it,
/// a value that is still a thunk fails with `cannot convert a thunk to JSON`. Output is written
/// to `out` as it is produced, so on an error `out` holds what was printed so far, with the
/// objects and lists that were open closed again (CppNix's JSON writer closes them while the
/// error unwinds, so `{"a":1,"b":}` is what it prints).
///
/// # Errors
/// Thunks (without `strict`) and functions cannot be converted; errors from forcing.
pub fn write_json(
    st: &mut EvalState,
    v: &Value,
    strict: bool,
    ctx: &mut Context,
    out: &mut Vec<u8>,
) -> Result<()> {
    // CppNix starts at the value's own position: a set's or a function's, else none.
    let pos = match v {
        Value::Lambda(c) => Some(c.lambda.pos),
        _ => None,
    };
    write_json_inner(st, v, strict, pos, ctx, out)
}

/// Whether `v`, held by a set or a list, stands for a thunk CppNix would not have forced: the
/// evaluator stores a function expression's value without a thunk (see [`print_value_lazy`]).
fn unforced_function(strict: bool, v: &Value) -> bool {
    !strict && matches!(v, Value::Lambda(_))
}

fn json_thunk_error(pos: Option<Pos>) -> Error {
    Error::type_error("cannot convert a thunk to JSON")
        .at_opt(pos)
        .add_trace(pos, "message for the trace")
}

fn write_json_inner(
    st: &mut EvalState,
    v: &Value,
    strict: bool,
    pos: Option<Pos>,
    ctx: &mut Context,
    out: &mut Vec<u8>,
) -> Result<()> {
    let v = if strict {
        st.force(v)?
    } else {
        match v {
            Value::Thunk(t) => match t.value() {
                Some(v) => v,
                None => return Err(json_thunk_error(pos)),
            },
            other => other.clone(),
        }
    };
    match &v {
        Value::Attrs(a) => {
            if a.contains(st.sym.to_string) {
                let s = st.coerce_to_string(&v, pos, false, false, ctx)?;
                crate::support::json::escape_string(out, &s);
                return Ok(());
            }
            if let Some(o) = a.get_attr(st.sym.out_path) {
                let (o, opos) = (o.value.clone(), o.pos);
                return write_json_inner(st, &o, strict, opos, ctx, out);
            }
            out.push(b'{');
            let attrs: Vec<(Vec<u8>, Value, Option<Pos>)> = a
                .sorted_by_name(&st.symbols)
                .into_iter()
                .map(|x| (st.symbols.resolve(x.name).to_vec(), x.value.clone(), x.pos))
                .collect();
            for (i, (name, value, apos)) in attrs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                crate::support::json::escape_string(out, name);
                out.push(b':');
                let r = if unforced_function(strict, value) {
                    Err(json_thunk_error(*apos))
                } else {
                    stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
                        write_json_inner(st, value, strict, *apos, ctx, out)
                    })
                };
                if let Err(e) = r {
                    out.push(b'}');
                    return Err(e);
                }
            }
            out.push(b'}');
        }
        Value::List(l) => {
            out.push(b'[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let r = if unforced_function(strict, x) {
                    Err(json_thunk_error(pos))
                } else {
                    stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
                        write_json_inner(st, x, strict, pos, ctx, out)
                    })
                };
                if let Err(e) = r {
                    out.push(b']');
                    return Err(e);
                }
            }
            out.push(b']');
        }
        Value::PrimOp(op) => {
            return Err(Error::type_error(format!(
                "cannot convert the built-in function '{}' to JSON",
                op.name
            ))
            .at_opt(pos)
            .add_trace(pos, "message for the trace"))
        }
        Value::PrimOpApp(app) => {
            return Err(Error::type_error(format!(
                "cannot convert the partially applied built-in function '{}' to JSON",
                app.op.name
            ))
            .at_opt(pos)
            .add_trace(pos, "message for the trace"))
        }
        _ => json_inner(st, &v, pos, ctx, out)?,
    }
    Ok(())
}

/// Serialises a value as CppNix's XML (`builtins.toXML`, `--xml`). With `location`, attribute
/// and function positions are included. With `strict`, values are forced; otherwise
/// unevaluated thunks become `<unevaluated />`.
///
/// # Errors
/// Errors from forcing.
pub fn to_xml(
    st: &mut EvalState,
    v: &Value,
    strict: bool,
    location: bool,
    ctx: &mut Context,
) -> Result<Vec<u8>> {
    let mut w = XmlWriter::new();
    w.open("expr", &[]);
    let mut drvs_seen = HashSet::new();
    let mut o = XmlOpts {
        strict,
        location,
        drvs_seen: &mut drvs_seen,
    };
    xml_inner(st, v, &mut o, ctx, &mut w)?;
    Ok(w.finish())
}

/// The knobs of one XML serialisation, and the `.drv` paths already shown in full.
struct XmlOpts<'a> {
    strict: bool,
    location: bool,
    drvs_seen: &'a mut HashSet<Vec<u8>>,
}

/// CppNix's XML for a derivation: `<derivation drvPath=… outPath=…>` (each only when it is a
/// string, forced only when strict) holding the attributes the first time its `drvPath` is
/// seen, else (or without a `drvPath`) `<repeated />`.
fn xml_derivation(
    st: &mut EvalState,
    a: &Attrs,
    o: &mut XmlOpts<'_>,
    ctx: &mut Context,
    w: &mut XmlWriter,
) -> Result<()> {
    let strict = o.strict;
    let string_attr = |st: &mut EvalState, name: &[u8]| -> Result<Option<Vec<u8>>> {
        let sym = st.symbols.intern(name);
        let Some(v) = a.get(sym) else {
            return Ok(None);
        };
        let v = if strict { st.force(v)? } else { v.shallow() };
        Ok(match v {
            Value::String(s) => Some(s.as_bytes().to_vec()),
            _ => None,
        })
    };
    let drv_path = string_attr(st, b"drvPath")?;
    let out_path = string_attr(st, b"outPath")?;
    let mut attrs: Vec<(&str, &[u8])> = Vec::new();
    if let Some(d) = &drv_path {
        attrs.push(("drvPath", d));
    }
    if let Some(p) = &out_path {
        attrs.push(("outPath", p));
    }
    w.open("derivation", &attrs);
    let first = drv_path.is_some_and(|d| !d.is_empty() && o.drvs_seen.insert(d));
    if first {
        xml_attrs(st, a, o, ctx, w)?;
    } else {
        w.empty("repeated", &[]);
    }
    w.close();
    Ok(())
}

fn pos_attrs(st: &EvalState, pos: Pos) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let (line, col) = diagnostic::line_col(&st.sources, pos);
    (
        col.to_string().into_bytes(),
        line.to_string().into_bytes(),
        diagnostic::pos_file_value(&st.sources, st.sources.pos_span(pos).file),
    )
}

fn xml_attrs(
    st: &mut EvalState,
    a: &Attrs,
    o: &mut XmlOpts<'_>,
    ctx: &mut Context,
    w: &mut XmlWriter,
) -> Result<()> {
    let attrs: Vec<(Vec<u8>, Value, Option<Pos>)> = a
        .sorted_by_name(&st.symbols)
        .into_iter()
        .map(|x| (st.symbols.resolve(x.name).to_vec(), x.value.clone(), x.pos))
        .collect();
    for (name, value, apos) in attrs {
        match (o.location, apos) {
            (true, Some(p)) => {
                let (c, l, f) = pos_attrs(st, p);
                w.open(
                    "attr",
                    &[("column", &c), ("line", &l), ("name", &name), ("path", &f)],
                );
            }
            _ => w.open("attr", &[("name", &name)]),
        }
        if unforced_function(o.strict, &value) {
            w.empty("unevaluated", &[]);
        } else {
            stacker::maybe_grow(64 * 1024, 1024 * 1024, || xml_inner(st, &value, o, ctx, w))?;
        }
        w.close();
    }
    Ok(())
}

fn xml_inner(
    st: &mut EvalState,
    v: &Value,
    o: &mut XmlOpts<'_>,
    ctx: &mut Context,
    w: &mut XmlWriter,
) -> Result<()> {
    let v = if o.strict { st.force(v)? } else { v.shallow() };
    match &v {
        Value::Null => w.empty("null", &[]),
        Value::Bool(b) => w.empty("bool", &[("value", if *b { b"true" } else { b"false" })]),
        Value::Int(i) => w.empty("int", &[("value", i.to_string().as_bytes())]),
        Value::Float(f) => w.empty("float", &[("value", format_g(*f).as_bytes())]),
        Value::String(s) => {
            if let Some(c) = s.context() {
                ctx.extend(c);
            }
            w.empty("string", &[("value", s.as_bytes())])
        }
        Value::Path(p) => w.empty("path", &[("value", p.as_bytes())]),
        Value::Attrs(a) if st.is_derivation(a)? => xml_derivation(st, a, o, ctx, w)?,
        Value::Attrs(a) => {
            w.open("attrs", &[]);
            xml_attrs(st, a, o, ctx, w)?;
            w.close();
        }
        Value::List(l) => {
            w.open("list", &[]);
            for x in l.iter() {
                if unforced_function(o.strict, x) {
                    w.empty("unevaluated", &[]);
                } else {
                    stacker::maybe_grow(64 * 1024, 1024 * 1024, || xml_inner(st, x, o, ctx, w))?;
                }
            }
            w.close();
        }
        Value::Lambda(c) => {
            if o.location {
                let (col, l, f) = pos_attrs(st, c.lambda.pos);
                w.open("function", &[("column", &col), ("line", &l), ("path", &f)]);
            } else {
                w.open("function", &[]);
            }
            match &c.lambda.formals {
                Some(formals) => {
                    let arg_name = c.lambda.arg.map(|a| st.symbols.resolve(a).to_vec());
                    let mut attrs: Vec<(&str, &[u8])> = Vec::new();
                    if formals.ellipsis {
                        attrs.push(("ellipsis", b"1"));
                    }
                    if let Some(n) = &arg_name {
                        attrs.push(("name", n));
                    }
                    w.open("attrspat", &attrs);
                    let mut names: Vec<Vec<u8>> = formals
                        .entries
                        .iter()
                        .map(|f| st.symbols.resolve(f.name).to_vec())
                        .collect();
                    names.sort();
                    for n in names {
                        w.empty("attr", &[("name", &n)]);
                    }
                    w.close();
                }
                None => {
                    let n = c
                        .lambda
                        .arg
                        .map(|a| st.symbols.resolve(a).to_vec())
                        .unwrap_or_default();
                    w.empty("varpat", &[("name", &n)]);
                }
            }
            w.close();
        }
        _ => w.empty("unevaluated", &[]),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert!(is_identifier(b"a-b'"));
        assert!(is_identifier(b"_x"));
        assert!(!is_identifier(b"1a"));
        assert!(!is_identifier(b"if"));
        assert!(!is_identifier(b""));
        assert!(!is_identifier(b"a.b"));
    }

    #[test]
    fn escapes() {
        let mut out = Vec::new();
        escape_string(&mut out, b"a\"b\\c\nd\te${f}$x");
        assert_eq!(out, b"\"a\\\"b\\\\c\\nd\\te\\${f}$x\"");
    }
}
