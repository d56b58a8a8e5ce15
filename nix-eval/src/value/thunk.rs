//! Thunks: delayed computations updated in place.

use std::cell::RefCell;
use std::rc::Rc;

use crate::eval::env::Env;
use crate::lower::ir::Expr;

use super::{Closure, Value};

/// What a thunk holds.
pub(crate) enum ThunkState {
    /// Already evaluated.
    Done(Value),
    /// An expression in an environment.
    Pending(Rc<Env>, Rc<Expr>),
    /// A function application `f x`, evaluated when forced. Boxed so that the state is 24
    /// bytes (a thunk 48 bytes with its counts and borrow flag) instead of 32 (56): pending
    /// expressions are far more common than applications made by `map`, `genList` & co.,
    /// and those mostly apply a lambda (next variant).
    Apply(Box<(Value, Value)>),
    /// A lambda applied to an argument (`Apply` without the box): the argument comes first
    /// so that the compiler can keep the variant tag in the spare values of the argument's
    /// own tag and lay the other variants out after it (the state stays 24 bytes).
    ApplyLambda(Value, Rc<Closure>),
    /// A result computed ahead of time because computing it could neither fail nor have any
    /// effect (integer arithmetic on known integers). It still counts as unevaluated (it is
    /// shown as `<CODE>`, as CppNix shows the thunk it would have made) until forced.
    Eager(Value),
    /// Being evaluated right now (forcing it again is infinite recursion).
    Blackhole,
}

/// A shared, lazily evaluated value. Forcing it once updates it for every holder.
#[derive(Clone)]
pub struct Thunk(pub(crate) Rc<RefCell<ThunkState>>);

impl Thunk {
    pub(crate) fn pending(env: Rc<Env>, expr: Rc<Expr>) -> Thunk {
        Thunk(Rc::new(RefCell::new(ThunkState::Pending(env, expr))))
    }

    pub(crate) fn apply(f: Value, arg: Value) -> Thunk {
        let state = match f {
            Value::Lambda(c) => ThunkState::ApplyLambda(arg, c),
            f => ThunkState::Apply(Box::new((f, arg))),
        };
        Thunk(Rc::new(RefCell::new(state)))
    }

    /// Whether the thunk has been evaluated.
    pub fn is_evaluated(&self) -> bool {
        matches!(&*self.0.borrow(), ThunkState::Done(_))
    }

    /// The value if evaluated.
    pub fn value(&self) -> Option<Value> {
        match &*self.0.borrow() {
            ThunkState::Done(v) => Some(v.clone()),
            _ => None,
        }
    }

    /// A pointer identity for this thunk.
    pub fn ptr(&self) -> *const () {
        Rc::as_ptr(&self.0) as *const ()
    }
}

impl std::fmt::Debug for Thunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Thunk")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thunk_state_is_24_bytes() {
        assert_eq!(std::mem::size_of::<ThunkState>(), 24);
        assert_eq!(std::mem::size_of::<RefCell<ThunkState>>(), 32);
    }
}
