//! List builtins.

use std::rc::Rc;

use crate::diagnostic::Pos;
use crate::error::{Error, Result};
use crate::eval::EvalState;
use crate::value::{AttrsBuilder, Thunk, Value};

use super::PrimOp;

fn call2(st: &mut EvalState, f: &Value, a: Value, b: Value, pos: Option<Pos>) -> Result<Value> {
    st.call_value2(f, a, b, pos)
}

fn map(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let l = st.force_list(&args[1], pos)?;
    let f = &args[0];
    let v: Vec<Value> = l
        .iter()
        .map(|x| Value::Thunk(Thunk::apply(f.clone(), x.clone())))
        .collect();
    Ok(Value::list(v))
}

fn filter(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let l = st.force_list(&args[1], pos)?;
    let f = st.force_function(&args[0], pos)?;
    let mut out = Vec::new();
    for x in l.iter() {
        let r = st.call_value(&f, x.clone(), pos)?;
        if st.force_bool(&r, pos)? {
            out.push(x.clone());
        }
    }
    if out.len() == l.len() {
        return Ok(Value::List(l));
    }
    Ok(Value::list(out))
}

fn foldl(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let l = st.force_list(&args[2], pos)?;
    if l.is_empty() {
        return st.force(&args[1]);
    }
    let f = st.force_function(&args[0], pos)?;
    let mut acc = args[1].clone();
    if let Some((c, body)) = st.curried_frameless(&f) {
        for x in l.iter() {
            acc = st.call_frameless2(&c, &body, acc, x.clone(), pos)?;
        }
        return Ok(acc);
    }
    for x in l.iter() {
        acc = call2(st, &f, acc, x.clone(), pos)?;
    }
    Ok(acc)
}

fn gen_list(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let n = st.force_int(&args[1], pos)?;
    if n < 0 {
        return Err(Error::eval(format!("cannot create list of size {n}")).at_opt(pos));
    }
    let f = &args[0];
    let v: Vec<Value> = (0..n)
        .map(|i| Value::Thunk(Thunk::apply(f.clone(), Value::Int(i))))
        .collect();
    Ok(Value::list(v))
}

fn length(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    Ok(Value::Int(st.force_list(&args[0], pos)?.len() as i64))
}

fn head(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let l = st.force_list(&args[0], pos)?;
    match l.first() {
        Some(x) => st.force(x),
        None => Err(Error::eval("list index 0 is out of bounds").at_opt(pos)),
    }
}

fn tail(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let l = st.force_list(&args[0], pos)?;
    if l.is_empty() {
        return Err(Error::eval("'tail' called on an empty list").at_opt(pos));
    }
    Ok(Value::list(l[1..].to_vec()))
}

fn elem_at(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let l = st.force_list(&args[0], pos)?;
    let n = st.force_int(&args[1], pos)?;
    if n < 0 || n as usize >= l.len() {
        return Err(Error::eval(format!("list index {n} is out of bounds")).at_opt(pos));
    }
    st.force(&l[n as usize])
}

fn elem(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let l = st.force_list(&args[1], pos)?;
    for x in l.iter() {
        if st.eq_values(&args[0], x)? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn concat_lists(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let l = st.force_list(&args[0], pos)?;
    let mut out = Vec::new();
    for x in l.iter() {
        let inner = st.force_list(x, pos)?;
        out.extend(inner.iter().cloned());
    }
    Ok(Value::list(out))
}

fn concat_map(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let l = st.force_list(&args[1], pos)?;
    let f = st.force_function(&args[0], pos)?;
    let mut out = Vec::new();
    for x in l.iter() {
        let r = st.call_value(&f, x.clone(), pos)?;
        let r = st.force(&r)?;
        // CppNix's determinePos: a lambda's own position, else the function's, else the call's
        let lambda_pos = |v: &Value| match v {
            Value::Lambda(c) => Some(c.lambda.pos),
            _ => None,
        };
        let at = lambda_pos(&r).or_else(|| lambda_pos(&f)).or(pos);
        let inner = st
            .force_list(&r, at)
            .map_err(|e| e.add_trace(pos, "while invoking 'concatMap'"))?;
        out.extend(inner.iter().cloned());
    }
    Ok(Value::list(out))
}

fn any_all(st: &mut EvalState, args: &[Value], pos: Option<Pos>, any: bool) -> Result<Value> {
    let l = st.force_list(&args[1], pos)?;
    let f = st.force_function(&args[0], pos)?;
    for x in l.iter() {
        let r = st.call_value(&f, x.clone(), pos)?;
        if st.force_bool(&r, pos)? == any {
            return Ok(Value::Bool(any));
        }
    }
    Ok(Value::Bool(!any))
}

fn any(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    any_all(st, args, pos, true)
}

fn all(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    any_all(st, args, pos, false)
}

/// Stable merge sort with a fallible comparator.
fn merge_sort(
    st: &mut EvalState,
    v: Vec<Value>,
    less: &mut dyn FnMut(&mut EvalState, &Value, &Value) -> Result<bool>,
) -> Result<Vec<Value>> {
    if v.len() <= 1 {
        return Ok(v);
    }
    let mut v = v;
    let right = v.split_off(v.len() / 2);
    let left = merge_sort(st, v, less)?;
    let right = merge_sort(st, right, less)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        // take from the right only if right < left (stability)
        if less(st, &right[j], &left[i])? {
            out.push(right[j].clone());
            j += 1;
        } else {
            out.push(left[i].clone());
            i += 1;
        }
    }
    out.extend_from_slice(&left[i..]);
    out.extend_from_slice(&right[j..]);
    Ok(out)
}

fn sort(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let l = st.force_list(&args[1], pos)?;
    let f = st.force_function(&args[0], pos)?;
    let items: Vec<Value> = l.iter().cloned().collect();
    let is_less_than = matches!(&f, Value::PrimOp(p) if p.name == "lessThan");
    let mut less = |st: &mut EvalState, a: &Value, b: &Value| -> Result<bool> {
        if is_less_than {
            return st.less_than(a, b);
        }
        let r = call2(st, &f, a.clone(), b.clone(), pos)?;
        st.force_bool(&r, pos)
    };
    Ok(Value::list(merge_sort(st, items, &mut less)?))
}

fn partition(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let l = st.force_list(&args[1], pos)?;
    let f = st.force_function(&args[0], pos)?;
    let (mut right, mut wrong) = (Vec::new(), Vec::new());
    for x in l.iter() {
        let r = st.call_value(&f, x.clone(), pos)?;
        if st.force_bool(&r, pos)? {
            right.push(x.clone());
        } else {
            wrong.push(x.clone());
        }
    }
    let mut b = AttrsBuilder::with_capacity(2);
    b.insert(st.sym.right, Value::list(right), None);
    b.insert(st.sym.wrong, Value::list(wrong), None);
    Ok(Value::Attrs(Rc::new(b.build())))
}

fn group_by(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let l = st.force_list(&args[1], pos)?;
    let f = st.force_function(&args[0], pos)?;
    let mut order = Vec::new();
    let mut groups: std::collections::HashMap<crate::syntax::Symbol, Vec<Value>> =
        std::collections::HashMap::new();
    for x in l.iter() {
        let r = st.call_value(&f, x.clone(), pos)?;
        let k = st.force_string(&r, pos)?;
        let sym = st.symbols.intern(k.as_bytes());
        groups
            .entry(sym)
            .or_insert_with(|| {
                order.push(sym);
                Vec::new()
            })
            .push(x.clone());
    }
    let mut b = AttrsBuilder::with_capacity(order.len());
    for s in order {
        let v = groups.remove(&s).unwrap_or_default();
        b.insert(s, Value::list(v), None);
    }
    Ok(Value::Attrs(Rc::new(b.build())))
}

pub(super) const PRIMOPS: &[PrimOp] = &[
    PrimOp {
        name: "map",
        arity: 2,
        func: map,
    },
    PrimOp {
        name: "filter",
        arity: 2,
        func: filter,
    },
    PrimOp {
        name: "foldl'",
        arity: 3,
        func: foldl,
    },
    PrimOp {
        name: "genList",
        arity: 2,
        func: gen_list,
    },
    PrimOp {
        name: "length",
        arity: 1,
        func: length,
    },
    PrimOp {
        name: "head",
        arity: 1,
        func: head,
    },
    PrimOp {
        name: "tail",
        arity: 1,
        func: tail,
    },
    PrimOp {
        name: "elemAt",
        arity: 2,
        func: elem_at,
    },
    PrimOp {
        name: "elem",
        arity: 2,
        func: elem,
    },
    PrimOp {
        name: "concatLists",
        arity: 1,
        func: concat_lists,
    },
    PrimOp {
        name: "concatMap",
        arity: 2,
        func: concat_map,
    },
    PrimOp {
        name: "any",
        arity: 2,
        func: any,
    },
    PrimOp {
        name: "all",
        arity: 2,
        func: all,
    },
    PrimOp {
        name: "sort",
        arity: 2,
        func: sort,
    },
    PrimOp {
        name: "partition",
        arity: 2,
        func: partition,
    },
    PrimOp {
        name: "groupBy",
        arity: 2,
        func: group_by,
    },
];
