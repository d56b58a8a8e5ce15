//! Control flow, errors and type predicates.

use std::rc::Rc;

use crate::diagnostic::Pos;
use crate::error::{Error, ErrorKind, Result};
use crate::eval::EvalState;
use crate::value::{AttrsBuilder, Context, Value};

use super::PrimOp;

fn seq(st: &mut EvalState, args: &[Value], _pos: Option<Pos>) -> Result<Value> {
    st.force(&args[0])?;
    st.force(&args[1])
}

fn deep_seq(st: &mut EvalState, args: &[Value], _pos: Option<Pos>) -> Result<Value> {
    st.force_deep(&args[0])?;
    st.force(&args[1])
}

fn try_eval(st: &mut EvalState, args: &[Value], _pos: Option<Pos>) -> Result<Value> {
    let (ok, v) = match st.force(&args[0]) {
        Ok(v) => (true, v),
        Err(e) if e.is_catchable() => (false, Value::Bool(false)),
        Err(e) => return Err(e),
    };
    let mut b = AttrsBuilder::with_capacity(2);
    b.insert(st.sym.success, Value::Bool(ok), None);
    b.insert(st.sym.value, v, None);
    Ok(Value::Attrs(Rc::new(b.build())))
}

fn message(st: &mut EvalState, v: &Value, pos: Option<Pos>) -> Result<String> {
    let mut ctx = Context::new();
    let s = st.coerce_to_string(v, pos, false, true, &mut ctx)?;
    Ok(String::from_utf8_lossy(&s).into_owned())
}

fn throw(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let m = message(st, &args[0], pos)?;
    Err(Error::new(ErrorKind::Throw, m))
}

fn abort(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let m = message(st, &args[0], pos)?;
    Err(Error::new(
        ErrorKind::Abort,
        format!("evaluation aborted with the following error message: '{m}'"),
    ))
}

fn trace(st: &mut EvalState, args: &[Value], _pos: Option<Pos>) -> Result<Value> {
    let v = st.force(&args[0])?;
    let text = match &v {
        Value::String(s) => s.to_str_lossy().into_owned(),
        other => String::from_utf8_lossy(&crate::print::print_value_lazy(st, other)).into_owned(),
    };
    st.io.trace(&format!("trace: {text}"));
    st.force(&args[1])
}

fn add_error_context(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    match st.force(&args[1]) {
        Ok(v) => Ok(v),
        Err(e) => {
            let m = message(st, &args[0], pos)?;
            Err(e.add_trace(None, m))
        }
    }
}

fn type_of(st: &mut EvalState, args: &[Value], _pos: Option<Pos>) -> Result<Value> {
    let v = st.force(&args[0])?;
    Ok(Value::string(v.type_of()))
}

macro_rules! predicate {
    ($name:ident, $pat:pat) => {
        fn $name(st: &mut EvalState, args: &[Value], _pos: Option<Pos>) -> Result<Value> {
            let v = st.force(&args[0])?;
            Ok(Value::Bool(matches!(v, $pat)))
        }
    };
}

predicate!(is_null, Value::Null);
predicate!(is_int, Value::Int(_));
predicate!(is_float, Value::Float(_));
predicate!(is_bool, Value::Bool(_));
predicate!(is_string, Value::String(_));
predicate!(is_path, Value::Path(_));
predicate!(is_attrs, Value::Attrs(_));
predicate!(is_list, Value::List(_));
predicate!(
    is_function,
    Value::Lambda(_) | Value::PrimOp(_) | Value::PrimOpApp(_)
);

pub(super) const PRIMOPS: &[PrimOp] = &[
    PrimOp {
        name: "seq",
        arity: 2,
        func: seq,
    },
    PrimOp {
        name: "deepSeq",
        arity: 2,
        func: deep_seq,
    },
    PrimOp {
        name: "tryEval",
        arity: 1,
        func: try_eval,
    },
    PrimOp {
        name: "throw",
        arity: 1,
        func: throw,
    },
    PrimOp {
        name: "abort",
        arity: 1,
        func: abort,
    },
    PrimOp {
        name: "trace",
        arity: 2,
        func: trace,
    },
    PrimOp {
        name: "addErrorContext",
        arity: 2,
        func: add_error_context,
    },
    PrimOp {
        name: "typeOf",
        arity: 1,
        func: type_of,
    },
    PrimOp {
        name: "isNull",
        arity: 1,
        func: is_null,
    },
    PrimOp {
        name: "isInt",
        arity: 1,
        func: is_int,
    },
    PrimOp {
        name: "isFloat",
        arity: 1,
        func: is_float,
    },
    PrimOp {
        name: "isBool",
        arity: 1,
        func: is_bool,
    },
    PrimOp {
        name: "isString",
        arity: 1,
        func: is_string,
    },
    PrimOp {
        name: "isPath",
        arity: 1,
        func: is_path,
    },
    PrimOp {
        name: "isAttrs",
        arity: 1,
        func: is_attrs,
    },
    PrimOp {
        name: "isList",
        arity: 1,
        func: is_list,
    },
    PrimOp {
        name: "isFunction",
        arity: 1,
        func: is_function,
    },
];
