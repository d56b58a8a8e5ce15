//! The lowered form that the evaluator walks.
//!
//! Every variable is resolved: `Var { level, slot }` means "go `level` environments up, take
//! slot `slot`". Only names under a `with` that are not bound lexically are looked up at run
//! time (`WithVar`). Builtins and the other global names become constants.

use std::rc::Rc;

use crate::diagnostic::Pos;
use crate::syntax::Symbol;
use crate::value::Value;

/// A shared IR node.
pub(crate) type ExprRef = Rc<Expr>;

/// An attribute name in a path: static or computed.
#[derive(Debug)]
pub(crate) enum AttrKey {
    Static(Symbol),
    Dynamic(ExprRef),
}

/// Binary operators that are evaluated strictly on both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Sub,
    Mul,
    Div,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    Update,
    Concat,
}

/// An attribute definition.
#[derive(Debug)]
pub(crate) struct AttrDef {
    pub name: Symbol,
    pub value: ExprRef,
    pub pos: Pos,
    /// Evaluate in the enclosing environment (an `inherit` in a `rec` set or `let`).
    pub outer: bool,
}

/// A dynamic attribute definition `${name} = value;`.
#[derive(Debug)]
pub(crate) struct DynAttrDef {
    pub name: ExprRef,
    pub value: ExprRef,
    pub pos: Pos,
}

/// An attribute set literal.
#[derive(Debug)]
pub(crate) struct AttrsDef {
    /// `rec { … }`: the values are evaluated in a new environment holding the static
    /// attributes, in the order of `statics`.
    pub rec: bool,
    /// Sorted by symbol id, no duplicates.
    pub statics: Vec<AttrDef>,
    pub dynamics: Vec<DynAttrDef>,
    /// Where the set's `{` is (the position of the set value), if written in the source.
    pub pos: Option<Pos>,
    /// The index in `statics` of a `__overrides` attribute of a `rec` set (legacy: its
    /// attributes replace the set's, also for the other attributes' references).
    pub overrides: Option<usize>,
}

/// A formal parameter.
#[derive(Debug)]
pub(crate) struct Formal {
    pub name: Symbol,
    /// Where the name is (`functionArgs` gives it to the attribute).
    pub pos: Pos,
    pub default: Option<ExprRef>,
}

/// `{ a, b ? e, ... }`.
#[derive(Debug)]
pub(crate) struct Formals {
    /// In slot order (slot i holds formal i); `at` (if any) takes the slot after the formals.
    pub entries: Vec<Formal>,
    pub ellipsis: bool,
}

/// A function literal.
#[derive(Debug)]
pub(crate) struct Lambda {
    /// The name it was bound to (`f = x: …`), for messages.
    pub name: Option<Symbol>,
    pub pos: Pos,
    /// The simple argument name or the `@` name.
    pub arg: Option<Symbol>,
    pub formals: Option<Formals>,
    pub body: ExprRef,
    /// Number of slots of the call environment.
    pub slots: u32,
    /// A simple-argument lambda whose body forces its argument (slot 0) before anything
    /// could take hold of it (see [`forces_slot0_first`]). An argument that is computed
    /// ahead without possible failure or effect (integer arithmetic on known integers) can
    /// then be stored in the slot as a plain value instead of a thunk: nothing could ever
    /// see it unevaluated (printed as `<CODE>`).
    pub strict_arg: bool,
    /// A simple-argument lambda whose body starts with a node that
    /// `EvalState::eval_frame` evaluates without the call's environment (see
    /// [`is_frameless_body`]): a call then makes the environment only if something in the
    /// body needs it (a thunk or closure capturing it, a node `eval_frame` does not handle).
    pub frameless: bool,
}

/// Whether a lambda body is worth evaluating without making the call's environment first:
/// constants, variables, strict binary operators, `a + b`, `if` and calls, whose operands
/// are read or evaluated directly.
pub(crate) fn is_frameless_body(e: &Expr) -> bool {
    match e {
        Expr::Const(_) | Expr::Var { .. } | Expr::Bin { .. } | Expr::If { .. } => true,
        Expr::Call { .. } => true,
        // `a + b`; string interpolation and longer sums go to `eval` at once
        Expr::Concat {
            parts,
            force_string,
            ..
        } => !*force_string && parts.len() == 2,
        _ => false,
    }
}

/// Whether evaluating `e` (in the environment of a lambda call) forces slot 0 of that
/// environment before doing anything that could take hold of the slot's value (making a
/// thunk, a closure, a list, a set, a call, a new scope). Only strict operators whose
/// operands are evaluated in order are followed; leaves met before the forcing (constants,
/// other variables) cannot reach the fresh call environment.
pub(crate) fn forces_slot0_first(e: &Expr) -> bool {
    match e {
        Expr::Var { level, slot, .. } => *level == 0 && *slot == 0,
        Expr::If { cond, .. } | Expr::Assert { cond, .. } => forces_slot0_first(cond),
        Expr::Not(x, _) | Expr::Neg(x, _) => forces_slot0_first(x),
        Expr::And(a, _, _) | Expr::Or(a, _, _) | Expr::Impl(a, _, _) => forces_slot0_first(a),
        Expr::Bin { lhs, rhs, .. } => in_order(&[lhs, rhs]),
        Expr::Concat { parts, .. } => {
            let v: Vec<&ExprRef> = parts.iter().map(|(p, _)| p).collect();
            in_order(&v)
        }
        _ => false,
    }
}

/// Operands evaluated in order: the first that is not a harmless leaf decides.
fn in_order(parts: &[&ExprRef]) -> bool {
    for p in parts {
        if forces_slot0_first(p) {
            return true;
        }
        if !matches!(&***p, Expr::Const(_) | Expr::Var { .. }) {
            return false;
        }
    }
    false
}

/// An IR node.
#[derive(Debug)]
pub(crate) enum Expr {
    Const(Value),
    Var {
        level: u32,
        slot: u32,
        pos: Pos,
    },
    WithVar {
        name: Symbol,
        /// Levels of the enclosing `with` environments, innermost first.
        withs: Box<[u32]>,
        pos: Pos,
    },
    Attrs(Box<AttrsDef>),
    List(Box<[ExprRef]>),
    Select {
        expr: ExprRef,
        path: Box<[AttrKey]>,
        default: Option<ExprRef>,
        pos: Pos,
    },
    HasAttr {
        expr: ExprRef,
        path: Box<[AttrKey]>,
    },
    Lambda(Rc<Lambda>),
    Call {
        func: ExprRef,
        args: Box<[ExprRef]>,
        pos: Pos,
    },
    /// `let`: a new recursive environment with one slot per binding.
    Let {
        bindings: Box<[(ExprRef, bool)]>,
        body: ExprRef,
    },
    With {
        attrs: ExprRef,
        body: ExprRef,
    },
    If {
        cond: ExprRef,
        then: ExprRef,
        else_: ExprRef,
        pos: Pos,
    },
    Assert {
        cond: ExprRef,
        body: ExprRef,
        pos: Pos,
        text: Rc<str>,
    },
    Not(ExprRef, Pos),
    Neg(ExprRef, Pos),
    Bin {
        op: BinOp,
        lhs: ExprRef,
        rhs: ExprRef,
        pos: Pos,
    },
    And(ExprRef, ExprRef, Pos),
    Or(ExprRef, ExprRef, Pos),
    Impl(ExprRef, ExprRef, Pos),
    /// `+` and string interpolation: parts with their positions. `force_string` for
    /// interpolation (`"${a}${b}"`).
    Concat {
        parts: Box<[(ExprRef, Pos)]>,
        force_string: bool,
        pos: Pos,
    },
    CurPos(Pos),
}
