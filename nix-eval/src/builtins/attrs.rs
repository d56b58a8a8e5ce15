//! Attribute set builtins.

use std::collections::HashMap;
use std::rc::Rc;

use crate::diagnostic::Pos;
use crate::error::{Error, Result};
use crate::eval::EvalState;
use crate::syntax::Symbol;
use crate::value::{Attr, Attrs, AttrsBuilder, Thunk, Value};

use super::PrimOp;

fn sym_string(st: &EvalState, s: Symbol) -> Value {
    Value::string(st.symbols.resolve(s).to_vec())
}

fn attr_names(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let a = st.force_attrs(&args[0], pos)?;
    let v: Vec<Value> = a
        .sorted_by_name(&st.symbols)
        .into_iter()
        .map(|x| sym_string(st, x.name))
        .collect();
    Ok(Value::list(v))
}

fn attr_values(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let a = st.force_attrs(&args[0], pos)?;
    let v: Vec<Value> = a
        .sorted_by_name(&st.symbols)
        .into_iter()
        .map(|x| x.value.clone())
        .collect();
    Ok(Value::list(v))
}

fn get_attr(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let name = super::store::force_string_no_ctx(st, &args[0], pos)?;
    let a = st.force_attrs(&args[1], pos)?;
    let sym = st.symbols.intern(name.as_bytes());
    match a.get(sym) {
        Some(v) => {
            let v = v.clone();
            st.force(&v)
        }
        None => Err(super::misc::missing_for_call(
            &name.to_str_lossy(),
            "getAttr",
            a.pos(),
            pos,
        )),
    }
}

fn has_attr(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let name = super::store::force_string_no_ctx(st, &args[0], pos)?;
    let a = st.force_attrs(&args[1], pos)?;
    let sym = st.symbols.intern(name.as_bytes());
    Ok(Value::Bool(a.contains(sym)))
}

fn remove_attrs(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let a = st.force_attrs(&args[0], pos)?;
    let l = st.force_list(&args[1], pos)?;
    let mut remove = Vec::with_capacity(l.len());
    for x in l.iter() {
        let s = st.force_string(x, pos)?;
        remove.push(st.symbols.intern(s.as_bytes()));
    }
    remove.sort();
    let kept: Vec<Attr> = a
        .iter()
        .filter(|x| remove.binary_search(&x.name).is_err())
        .cloned()
        .collect();
    Ok(Value::Attrs(Rc::new(Attrs::from_sorted(kept))))
}

fn list_to_attrs(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let l = st.force_list(&args[0], pos)?;
    let mut b = AttrsBuilder::with_capacity(l.len());
    for x in l.iter() {
        let a = st.force_attrs(x, pos)?;
        let (name, name_pos) = match a.get_attr(st.sym.name) {
            Some(n) => (n.value.clone(), n.pos.or(pos)),
            None => {
                return Err(super::misc::missing_for_call(
                    "name",
                    "listToAttrs",
                    a.pos(),
                    pos,
                ))
            }
        };
        let name = super::store::force_string_no_ctx(st, &name, name_pos)?;
        let sym = st.symbols.intern(name.as_bytes());
        let value = match a.get_attr(st.sym.value) {
            Some(v) => v.clone(),
            None => {
                return Err(super::misc::missing_for_call(
                    "value",
                    "listToAttrs",
                    a.pos(),
                    pos,
                ))
            }
        };
        b.insert(sym, value.value, value.pos);
    }
    Ok(Value::Attrs(Rc::new(b.build())))
}

fn intersect_attrs(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let a = st.force_attrs(&args[0], pos)?;
    let b = st.force_attrs(&args[1], pos)?;
    let kept: Vec<Attr> = b.iter().filter(|x| a.contains(x.name)).cloned().collect();
    Ok(Value::Attrs(Rc::new(Attrs::from_sorted(kept))))
}

fn cat_attrs(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let name = st.force_string(&args[0], pos)?;
    let sym = st.symbols.intern(name.as_bytes());
    let l = st.force_list(&args[1], pos)?;
    let mut out = Vec::new();
    for x in l.iter() {
        let a = st.force_attrs(x, pos)?;
        if let Some(v) = a.get(sym) {
            out.push(v.clone());
        }
    }
    Ok(Value::list(out))
}

fn map_attrs(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let a = st.force_attrs(&args[1], pos)?;
    let f = args[0].clone();
    // as CppNix, the attributes of the result have no position
    let out: Vec<Attr> = a
        .iter()
        .map(|x| {
            let name = Value::string(st.symbols.resolve(x.name).to_vec());
            let partial = Value::Thunk(Thunk::apply(f.clone(), name));
            Attr {
                name: x.name,
                value: Value::Thunk(Thunk::apply(partial, x.value.clone())),
                pos: None,
            }
        })
        .collect();
    Ok(Value::Attrs(Rc::new(Attrs::from_sorted(out))))
}

fn zip_attrs_with(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let l = st.force_list(&args[1], pos)?;
    let mut order: Vec<Symbol> = Vec::new();
    let mut groups: HashMap<Symbol, Vec<Value>> = HashMap::new();
    for x in l.iter() {
        let a = st.force_attrs(x, pos)?;
        for attr in a.iter() {
            groups
                .entry(attr.name)
                .or_insert_with(|| {
                    order.push(attr.name);
                    Vec::new()
                })
                .push(attr.value.clone());
        }
    }
    let f = args[0].clone();
    let mut b = AttrsBuilder::with_capacity(order.len());
    for name in order {
        let vals = groups.remove(&name).unwrap_or_default();
        let n = Value::string(st.symbols.resolve(name).to_vec());
        let partial = Value::Thunk(Thunk::apply(f.clone(), n));
        b.insert(
            name,
            Value::Thunk(Thunk::apply(partial, Value::list(vals))),
            None,
        );
    }
    Ok(Value::Attrs(Rc::new(b.build())))
}

fn function_args(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let f = st.force(&args[0])?;
    match &f {
        Value::Lambda(c) => {
            let mut b = AttrsBuilder::new();
            if let Some(formals) = &c.lambda.formals {
                for fm in &formals.entries {
                    // each attribute at its formal, as CppNix's (`unsafeGetAttrPos`, `--xml`)
                    b.insert(fm.name, Value::Bool(fm.default.is_some()), Some(fm.pos));
                }
            }
            Ok(Value::Attrs(Rc::new(b.build())))
        }
        Value::PrimOp(_) | Value::PrimOpApp(_) => Ok(Value::Attrs(Rc::new(Attrs::new()))),
        _ => Err(Error::type_error("'functionArgs' requires a function").at_opt(pos)),
    }
}

fn unsafe_get_attr_pos(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let name = st.force_string(&args[0], pos)?;
    let a = st.force_attrs(&args[1], pos)?;
    let sym = st.symbols.intern(name.as_bytes());
    match a.get_attr(sym).and_then(|x| x.pos) {
        Some(p) => Ok(st.pos_to_attrs(p)),
        None => Ok(Value::Null),
    }
}

pub(super) const PRIMOPS: &[PrimOp] = &[
    PrimOp {
        name: "attrNames",
        arity: 1,
        func: attr_names,
    },
    PrimOp {
        name: "attrValues",
        arity: 1,
        func: attr_values,
    },
    PrimOp {
        name: "getAttr",
        arity: 2,
        func: get_attr,
    },
    PrimOp {
        name: "hasAttr",
        arity: 2,
        func: has_attr,
    },
    PrimOp {
        name: "removeAttrs",
        arity: 2,
        func: remove_attrs,
    },
    PrimOp {
        name: "listToAttrs",
        arity: 1,
        func: list_to_attrs,
    },
    PrimOp {
        name: "intersectAttrs",
        arity: 2,
        func: intersect_attrs,
    },
    PrimOp {
        name: "catAttrs",
        arity: 2,
        func: cat_attrs,
    },
    PrimOp {
        name: "mapAttrs",
        arity: 2,
        func: map_attrs,
    },
    PrimOp {
        name: "zipAttrsWith",
        arity: 2,
        func: zip_attrs_with,
    },
    PrimOp {
        name: "functionArgs",
        arity: 1,
        func: function_args,
    },
    PrimOp {
        name: "unsafeGetAttrPos",
        arity: 2,
        func: unsafe_get_attr_pos,
    },
];
