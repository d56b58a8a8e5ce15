//! Arithmetic with CppNix 2.8 semantics: wrapping 64-bit integers, float mixing, integer
//! division truncating toward zero.

use crate::error::{Error, Result};
use crate::value::Value;

use super::type_expected;

fn float_of(v: &Value) -> Result<f64> {
    match v {
        Value::Int(i) => Ok(*i as f64),
        Value::Float(f) => Ok(*f),
        other => Err(type_expected(other, "a float")),
    }
}

fn int_of(v: &Value) -> Result<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        other => Err(type_expected(other, "an integer")),
    }
}

/// `a - b` (`__sub`).
#[inline]
pub(crate) fn sub(a: &Value, b: &Value) -> Result<Value> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(Value::Int(x.wrapping_sub(*y))),
        (Value::Float(_), _) | (_, Value::Float(_)) => {
            Ok(Value::Float(float_of(a)? - float_of(b)?))
        }
        _ => Ok(Value::Int(int_of(a)?.wrapping_sub(int_of(b)?))),
    }
}

/// `a * b` (`__mul`).
#[inline]
pub(crate) fn mul(a: &Value, b: &Value) -> Result<Value> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(Value::Int(x.wrapping_mul(*y))),
        (Value::Float(_), _) | (_, Value::Float(_)) => {
            Ok(Value::Float(float_of(a)? * float_of(b)?))
        }
        _ => Ok(Value::Int(int_of(a)?.wrapping_mul(int_of(b)?))),
    }
}

/// `a / b` (`__div`).
#[inline]
pub(crate) fn div(a: &Value, b: &Value) -> Result<Value> {
    let d = float_of(b)?;
    if d == 0.0 {
        return Err(Error::eval("division by zero"));
    }
    match (a, b) {
        (Value::Float(_), _) | (_, Value::Float(_)) => Ok(Value::Float(float_of(a)? / d)),
        _ => {
            let x = int_of(a)?;
            let y = int_of(b)?;
            if x == i64::MIN && y == -1 {
                return Err(Error::eval("overflow in integer division"));
            }
            Ok(Value::Int(x / y))
        }
    }
}

/// `a + b` for numbers (`__add`).
pub(crate) fn add(a: &Value, b: &Value) -> Result<Value> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(Value::Int(x.wrapping_add(*y))),
        (Value::Float(_), _) | (_, Value::Float(_)) => {
            Ok(Value::Float(float_of(a)? + float_of(b)?))
        }
        _ => Ok(Value::Int(int_of(a)?.wrapping_add(int_of(b)?))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_and_division() -> Result<()> {
        assert!(matches!(
            add(&Value::Int(i64::MAX), &Value::Int(1))?,
            Value::Int(i64::MIN)
        ));
        assert!(matches!(
            mul(&Value::Int(i64::MAX), &Value::Int(2))?,
            Value::Int(-2)
        ));
        assert!(matches!(
            div(&Value::Int(-7), &Value::Int(2))?,
            Value::Int(-3)
        ));
        assert!(div(&Value::Int(1), &Value::Int(0)).is_err());
        assert!(matches!(sub(&Value::Int(1), &Value::Float(0.5))?, Value::Float(f) if f == 0.5));
        Ok(())
    }
}
