//! Arithmetic and comparison builtins.

use crate::diagnostic::Pos;
use crate::error::Result;
use crate::eval::EvalState;
use crate::value::Value;

use super::PrimOp;

fn nums(st: &mut EvalState, args: &[Value]) -> Result<(Value, Value)> {
    Ok((st.force(&args[0])?, st.force(&args[1])?))
}

fn add(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let (a, b) = nums(st, args)?;
    crate::eval::arith(crate::eval::Arith::Add, &a, &b).map_err(|e| e.at_opt(pos))
}

fn sub(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let (a, b) = nums(st, args)?;
    crate::eval::arith(crate::eval::Arith::Sub, &a, &b).map_err(|e| e.at_opt(pos))
}

fn mul(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let (a, b) = nums(st, args)?;
    crate::eval::arith(crate::eval::Arith::Mul, &a, &b).map_err(|e| e.at_opt(pos))
}

fn div(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let (a, b) = nums(st, args)?;
    crate::eval::arith(crate::eval::Arith::Div, &a, &b).map_err(|e| e.at_opt(pos))
}

fn less_than(st: &mut EvalState, args: &[Value], _pos: Option<Pos>) -> Result<Value> {
    Ok(Value::Bool(st.less_than(&args[0], &args[1])?))
}

fn bit_and(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    Ok(Value::Int(
        st.force_int(&args[0], pos)? & st.force_int(&args[1], pos)?,
    ))
}

fn bit_or(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    Ok(Value::Int(
        st.force_int(&args[0], pos)? | st.force_int(&args[1], pos)?,
    ))
}

fn bit_xor(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    Ok(Value::Int(
        st.force_int(&args[0], pos)? ^ st.force_int(&args[1], pos)?,
    ))
}

fn ceil(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    Ok(Value::Int(st.force_float(&args[0], pos)?.ceil() as i64))
}

fn floor(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    Ok(Value::Int(st.force_float(&args[0], pos)?.floor() as i64))
}

pub(super) const PRIMOPS: &[PrimOp] = &[
    PrimOp {
        name: "add",
        arity: 2,
        func: add,
    },
    PrimOp {
        name: "sub",
        arity: 2,
        func: sub,
    },
    PrimOp {
        name: "mul",
        arity: 2,
        func: mul,
    },
    PrimOp {
        name: "div",
        arity: 2,
        func: div,
    },
    PrimOp {
        name: "lessThan",
        arity: 2,
        func: less_than,
    },
    PrimOp {
        name: "bitAnd",
        arity: 2,
        func: bit_and,
    },
    PrimOp {
        name: "bitOr",
        arity: 2,
        func: bit_or,
    },
    PrimOp {
        name: "bitXor",
        arity: 2,
        func: bit_xor,
    },
    PrimOp {
        name: "ceil",
        arity: 1,
        func: ceil,
    },
    PrimOp {
        name: "floor",
        arity: 1,
        func: floor,
    },
];
