//! Thunks: delayed computations updated in place.

use std::cell::RefCell;
use std::rc::Rc;

use crate::eval::env::Env;
use crate::lower::ir::Expr;

use super::Value;

/// What a thunk holds.
pub(crate) enum ThunkState {
    /// Already evaluated.
    Done(Value),
    /// An expression in an environment.
    Pending(Rc<Env>, Rc<Expr>),
    /// A function application `f x`, evaluated when forced.
    Apply(Value, Value),
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
        Thunk(Rc::new(RefCell::new(ThunkState::Apply(f, arg))))
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
