//! Environments: arrays of slots chained to their parent.
//!
//! Slot 0 is stored inline, so the environment of a one-argument lambda call is a single
//! allocation. Slots are filled once, right after the environment is made (recursive bindings
//! need the environment to exist before their thunks).

use std::cell::OnceCell;
use std::rc::Rc;

use crate::value::Value;

/// A runtime environment.
pub struct Env {
    pub(crate) parent: Option<Rc<Env>>,
    first: OnceCell<Value>,
    rest: Box<[OnceCell<Value>]>,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Env({} slots)", 1 + self.rest.len())
    }
}

impl Env {
    /// A new environment with `n` empty slots.
    pub(crate) fn new(parent: Option<Rc<Env>>, n: usize) -> Env {
        let rest = if n > 1 {
            (1..n).map(|_| OnceCell::new()).collect()
        } else {
            Box::default()
        };
        Env {
            parent,
            first: OnceCell::new(),
            rest,
        }
    }

    /// A new environment with one slot holding `v`.
    #[inline]
    pub(crate) fn with_one(parent: Rc<Env>, v: Value) -> Env {
        let first = OnceCell::new();
        let _ = first.set(v);
        Env {
            parent: Some(parent),
            first,
            rest: Box::default(),
        }
    }

    /// Makes an emptied one-slot environment hold `v` under `parent` (for reuse).
    #[inline]
    pub(crate) fn refill_one(&mut self, parent: Rc<Env>, v: Value) {
        self.parent = Some(parent);
        self.first = OnceCell::from(v);
    }

    /// Whether this environment has exactly one slot.
    #[inline]
    pub(crate) fn is_one_slot(&self) -> bool {
        self.rest.is_empty()
    }

    /// Empties the slot and hands back the parent and the slot's value (for reuse of this
    /// environment).
    #[inline]
    pub(crate) fn take_parent_and_slot(&mut self) -> (Option<Rc<Env>>, Option<Value>) {
        (self.parent.take(), self.first.take())
    }

    /// Fills slot `i` (a second set is ignored).
    #[inline]
    pub(crate) fn set(&self, i: usize, v: Value) {
        let cell = if i == 0 {
            &self.first
        } else {
            match self.rest.get(i - 1) {
                Some(c) => c,
                None => return,
            }
        };
        let _ = cell.set(v);
    }

    /// Reads slot `i` (`Null` if unset, which lowering rules out).
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<&Value> {
        if i == 0 {
            self.first.get()
        } else {
            self.rest.get(i - 1).and_then(|c| c.get())
        }
    }

    /// The environment `level` steps up.
    #[inline]
    pub(crate) fn up(self: &Rc<Env>, level: u32) -> &Rc<Env> {
        let mut e = self;
        for _ in 0..level {
            match &e.parent {
                Some(p) => e = p,
                None => break,
            }
        }
        e
    }
}
