//! Runtime values.
//!
//! [`Value`] is 16 bytes: a tag and either an immediate (null, bool, int, float) or one `Rc`
//! pointer. Cloning a value is at most a reference-count increment.
//!
//! * strings ([`NixString`]) of up to 22 bytes are one allocation; longer ones own an exact-size
//!   buffer that `substring` shares; a context set is stored only when present;
//! * attribute sets ([`Attrs`]) are arrays sorted by interned [`Symbol`] id, searched by binary
//!   search on `u32`s; printing and `attrNames` sort by name bytes;
//! * lists are `Rc<Vec<Value>>`;
//! * a [`Thunk`] is updated in place when forced and blackholed while it is being evaluated.
//!
//! Memory is reference counted: cycles built by `rec`/`let` are leaked for the lifetime of the
//! process, which is fine for one evaluation in a CLI.

mod attrs;
mod string;
mod thunk;

use std::rc::Rc;

pub use attrs::{Attr, Attrs, AttrsBuilder};
pub use string::{Context, NixString};
pub use thunk::Thunk;
pub(crate) use thunk::ThunkState;

use crate::builtins::PrimOp;
use crate::eval::env::Env;
use crate::lower::ir::Lambda;
pub use crate::syntax::Symbol;

/// A Nix value (possibly an unevaluated thunk).
// The tag is a whole word so that every payload (even `Bool`'s) sits at offset 8: cloning or
// moving a value is then two aligned word copies. With a one-byte tag `Bool`'s payload sits at
// offset 1 and LLVM copies bytes 1..8 of every cloned value through overlapping stack stores,
// a store-forwarding stall on each `clone` (~15% of list_fold's time). Invalid tags still give
// `Option<Value>`/`Result<Value>` their niche (both stay 16 bytes).
#[derive(Clone)]
#[repr(u64)]
#[non_exhaustive]
pub enum Value {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A 64-bit integer (wrapping arithmetic, as in CppNix 2.8).
    Int(i64),
    /// A double.
    Float(f64),
    /// A string with optional context.
    String(NixString),
    /// A path (absolute, canonical).
    Path(NixString),
    /// An attribute set.
    Attrs(Rc<Attrs>),
    /// A list.
    List(Rc<Vec<Value>>),
    /// A lambda with its environment.
    Lambda(Rc<Closure>),
    /// A builtin function.
    PrimOp(&'static PrimOp),
    /// A partially applied builtin.
    PrimOpApp(Rc<PrimOpApp>),
    /// A delayed computation.
    Thunk(Thunk),
}

/// A lambda together with the environment it closes over.
pub struct Closure {
    pub(crate) lambda: Rc<Lambda>,
    pub(crate) env: Rc<Env>,
}

impl std::fmt::Debug for Closure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Closure")
    }
}

/// A builtin applied to fewer arguments than its arity.
#[derive(Debug)]
pub struct PrimOpApp {
    pub(crate) op: &'static PrimOp,
    pub(crate) args: Vec<Value>,
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::String(s) => write!(f, "{:?}", String::from_utf8_lossy(s.as_bytes())),
            Value::Path(s) => write!(f, "{}", String::from_utf8_lossy(s.as_bytes())),
            Value::Attrs(a) => write!(f, "<attrs {}>", a.len()),
            Value::List(l) => write!(f, "<list {}>", l.len()),
            Value::Lambda(_) => f.write_str("<LAMBDA>"),
            Value::PrimOp(p) => write!(f, "<PRIMOP {}>", p.name),
            Value::PrimOpApp(_) => f.write_str("<PRIMOP-APP>"),
            Value::Thunk(_) => f.write_str("<CODE>"),
        }
    }
}

impl Value {
    /// A string value without context.
    pub fn string(s: impl Into<Vec<u8>>) -> Value {
        Value::String(NixString::new(s.into()))
    }

    /// An empty list.
    pub fn empty_list() -> Value {
        Value::List(Rc::new(Vec::new()))
    }

    /// A list value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(items))
    }

    /// CppNix's `showType` text ("an integer", "a string", …).
    pub fn show_type(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a Boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::String(s) => {
                if s.context().is_some() {
                    "a string with context"
                } else {
                    "a string"
                }
            }
            Value::Path(_) => "a path",
            Value::Attrs(_) => "a set",
            Value::List(_) => "a list",
            Value::Lambda(_) => "a function",
            Value::PrimOp(_) => "a built-in function",
            Value::PrimOpApp(_) => "a partially applied built-in function",
            Value::Thunk(_) => "a thunk",
        }
    }

    /// The type name, as `builtins.typeOf` reports it.
    pub fn type_of(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::String(_) => "string",
            Value::Path(_) => "path",
            Value::Attrs(_) => "set",
            Value::List(_) => "list",
            Value::Lambda(_) | Value::PrimOp(_) | Value::PrimOpApp(_) => "lambda",
            Value::Thunk(_) => "thunk",
        }
    }

    /// Whether this is a function of any kind.
    pub fn is_function(&self) -> bool {
        matches!(
            self,
            Value::Lambda(_) | Value::PrimOp(_) | Value::PrimOpApp(_)
        )
    }

    /// Whether this is an unevaluated (or being evaluated) thunk.
    pub fn is_thunk(&self) -> bool {
        match self {
            Value::Thunk(t) => !t.is_evaluated(),
            _ => false,
        }
    }

    /// If this is an already evaluated thunk, its value; otherwise a clone of `self`.
    pub fn shallow(&self) -> Value {
        match self {
            Value::Thunk(t) => t.value().unwrap_or_else(|| self.clone()),
            _ => self.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_is_16_bytes() {
        assert_eq!(std::mem::size_of::<Value>(), 16);
    }

    #[test]
    fn show_types() {
        assert_eq!(Value::Int(1).show_type(), "an integer");
        assert_eq!(Value::string("x").type_of(), "string");
        assert_eq!(Value::Null.type_of(), "null");
    }
}
