//! `toJSON`, `fromJSON`, `toXML`.

use std::rc::Rc;

use crate::diagnostic::Pos;
use crate::error::{Error, Result};
use crate::eval::EvalState;
use crate::support::json::JsonValue;
use crate::value::{AttrsBuilder, Context, NixString, Value};

use super::PrimOp;

fn to_json(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let mut ctx = Context::new();
    let out = crate::print::to_json(st, &args[0], pos, &mut ctx)?;
    Ok(Value::String(NixString::with_context(out, Some(ctx))))
}

fn json_to_value(st: &mut EvalState, j: JsonValue) -> Value {
    match j {
        JsonValue::Null => Value::Null,
        JsonValue::Bool(b) => Value::Bool(b),
        JsonValue::Int(i) => Value::Int(i),
        JsonValue::Float(f) => Value::Float(f),
        JsonValue::String(s) => Value::string(s),
        JsonValue::Array(items) => {
            Value::list(items.into_iter().map(|x| json_to_value(st, x)).collect())
        }
        JsonValue::Object(entries) => {
            // duplicate keys: the last one wins
            let mut b = AttrsBuilder::with_capacity(entries.len());
            for (k, v) in entries.into_iter().rev() {
                let sym = st.symbols.intern(&k);
                let v = json_to_value(st, v);
                b.insert(sym, v, None);
            }
            Value::Attrs(Rc::new(b.build()))
        }
    }
}

fn from_json(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let s = st.force_string(&args[0], pos)?;
    match crate::support::json::parse(s.as_bytes()) {
        Ok(j) => Ok(json_to_value(st, j)),
        Err(e) => Err(Error::eval(e.to_string()).add_trace(pos, "while decoding a JSON string")),
    }
}

fn from_toml(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let s = st.force_string(&args[0], pos)?;
    let text = String::from_utf8_lossy(s.as_bytes()).into_owned();
    match crate::support::toml::parse(&text) {
        Ok(j) => Ok(json_to_value(st, j)),
        Err(e) => Err(Error::eval(e.to_string()).at_opt(pos)),
    }
}

fn to_xml(st: &mut EvalState, args: &[Value], _pos: Option<Pos>) -> Result<Value> {
    let mut ctx = Context::new();
    let out = crate::print::to_xml(st, &args[0], true, false, &mut ctx)?;
    Ok(Value::String(NixString::with_context(out, Some(ctx))))
}

pub(super) const PRIMOPS: &[PrimOp] = &[
    PrimOp {
        name: "toJSON",
        arity: 1,
        func: to_json,
    },
    PrimOp {
        name: "fromJSON",
        arity: 1,
        func: from_json,
    },
    PrimOp {
        name: "toXML",
        arity: 1,
        func: to_xml,
    },
    PrimOp {
        name: "fromTOML",
        arity: 1,
        func: from_toml,
    },
];
