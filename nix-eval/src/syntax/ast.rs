//! The syntax tree of a Nix expression, as CppNix 2.8's parser builds it.
//!
//! The tree is what the parser produced **after** CppNix's parse-time desugarings, so that the
//! evaluator has nothing left to do but lower it:
//!
//! - identifiers and static attribute names are interned [`Symbol`]s;
//! - nested attribute paths in sets and `let` (`a.b.c = 1; a.d = 2;`) are already merged into
//!   nested [`AttrSet`]s, duplicates were rejected, and `"str"`/`${"str"}` names with a constant
//!   value became static names;
//! - indented strings are already stripped of their indentation, escapes are decoded;
//! - literal paths are absolute and normalised (`./a` against the base directory, `~/a` against
//!   `$HOME`); URIs are plain strings;
//! - `let { …; body = e; }` is `(rec { … }).body` (a [`ExprKind::Select`] on a recursive set);
//! - `inherit (e) a b;` shares `e` through [`AttrSet::inherit_from`].
//!
//! Operators keep their own variants ([`BinOp`], [`ExprKind::Neg`], [`ExprKind::Not`]) so that
//! errors can point at them, but note that CppNix evaluates `a - b`, `a * b`, `a / b`, `-a`,
//! `a < b` (and `>`, `<=`, `>=`) as **calls of the variables** `__sub`, `__mul`, `__div`,
//! `__lessThan` looked up lexically (a `let __sub = …;` in scope changes what `-` does), and
//! `<p>` as `__findFile __nixPath "p"`. [`crate::syntax::show`] prints them that way.
//!
//! Every node has a [`Span`]; `span.start` is the position CppNix gives the node (its first
//! byte) unless a variant says otherwise.
//!
//! Stability: variants and fields may be **added** later (all enums are `#[non_exhaustive]`);
//! existing ones keep their meaning.

use super::span::Span;
use super::symbol::Symbol;

/// An expression and where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// Where it is in the source.
    pub span: Span,
}

/// Dropping a tree is iterative (nesting can be thousands of levels deep; a recursive drop
/// would overflow small thread stacks). A consequence: fields cannot be moved out of an `Expr`
/// by destructuring; use `std::mem::replace(&mut e.kind, …)`.
impl Drop for Expr {
    fn drop(&mut self) {
        let mut stack: Vec<Expr> = Vec::new();
        take_children(&mut self.kind, &mut stack);
        while let Some(mut e) = stack.pop() {
            take_children(&mut e.kind, &mut stack);
            // `e` now has no children and drops without recursion
        }
    }
}

fn placeholder() -> Expr {
    Expr {
        kind: ExprKind::Int(0),
        span: Span::default(),
    }
}

fn take_parts(parts: &mut Vec<StrPart>, out: &mut Vec<Expr>) {
    for p in parts.drain(..) {
        if let StrPart::Interpolation(e) = p {
            out.push(e);
        }
    }
}

fn take_path(path: &mut Vec<AttrName>, out: &mut Vec<Expr>) {
    for a in path.drain(..) {
        if let AttrName::Dynamic(e) = a {
            out.push(e);
        }
    }
}

fn take_set(set: &mut AttrSet, out: &mut Vec<Expr>) {
    for a in set.attrs.drain(..) {
        if let AttrValue::Plain(e) = a.value {
            out.push(e);
        }
    }
    for d in set.dynamic.drain(..) {
        out.push(d.name);
        out.push(d.value);
    }
    out.append(&mut set.inherit_from);
}

/// Moves the direct children of `kind` into `out` (only when it has any).
fn take_children(kind: &mut ExprKind, out: &mut Vec<Expr>) {
    let mv = |e: &mut Expr| std::mem::replace(e, placeholder());
    match kind {
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Path(_)
        | ExprKind::SearchPath(_)
        | ExprKind::Var(_)
        | ExprKind::CurPos => {}
        ExprKind::Str(parts) | ExprKind::InterpolatedPath(parts) => take_parts(parts, out),
        ExprKind::Select(s) => {
            out.push(mv(&mut s.expr));
            take_path(&mut s.path, out);
            out.extend(s.default.take());
        }
        ExprKind::HasAttr(h) => {
            out.push(mv(&mut h.expr));
            take_path(&mut h.path, out);
        }
        ExprKind::Attrs(set) => take_set(set, out),
        ExprKind::List(items) => out.append(items),
        ExprKind::Lambda(l) => {
            out.push(mv(&mut l.body));
            if let Some(f) = &mut l.formals {
                for x in f.entries.drain(..) {
                    out.extend(x.default);
                }
            }
        }
        ExprKind::Call(c) => {
            out.push(mv(&mut c.fun));
            out.append(&mut c.args);
        }
        ExprKind::Let(l) => {
            take_set(&mut l.bindings, out);
            out.push(mv(&mut l.body));
        }
        ExprKind::With(w) => {
            out.push(mv(&mut w.env));
            out.push(mv(&mut w.body));
        }
        ExprKind::Assert(a) => {
            out.push(mv(&mut a.cond));
            out.push(mv(&mut a.body));
        }
        ExprKind::If(i) => {
            out.push(mv(&mut i.cond));
            out.push(mv(&mut i.then));
            out.push(mv(&mut i.else_));
        }
        ExprKind::Not(x) | ExprKind::Neg(x) => out.push(mv(x)),
        ExprKind::BinOp(b) => {
            out.push(mv(&mut b.lhs));
            out.push(mv(&mut b.rhs));
        }
    }
}

impl Expr {
    /// An expression of a kind at a span.
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }

    /// Takes the expression apart without the iterative drop walking its children: the kind
    /// (with all children) moves out and the emptied shell drops trivially. This is how a
    /// consumer that takes the tree apart node by node (the lowering) frees each node as it goes.
    ///
    /// ```
    /// use nix_eval::syntax::ast::{Expr, ExprKind};
    /// use nix_eval::syntax::Span;
    ///
    /// let e = Expr::new(ExprKind::Int(7), Span::default());
    /// let (kind, span) = e.into_parts();
    /// assert_eq!(kind, ExprKind::Int(7));
    /// assert_eq!(span, Span::default());
    /// ```
    pub fn into_parts(mut self) -> (ExprKind, Span) {
        // `CurPos` has no children: dropping the shell does nothing
        let kind = std::mem::replace(&mut self.kind, ExprKind::CurPos);
        (kind, self.span)
    }
}

/// The kinds of expressions.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ExprKind {
    /// An integer literal (non-negative; `-1` is [`ExprKind::Neg`]).
    Int(i64),
    /// A float literal (`1.`, `.5`, `1.5e3`, `0.1E-2`; CppNix 2.8 has no `1e3`).
    Float(f64),
    /// A string: `"…"`, `''…''` or a URI (`http://x.org/a`).
    ///
    /// The parts are kept as CppNix 2.8 keeps them, because `--parse` shows the difference:
    /// `[]` or a single [`StrPart::Literal`] is a constant string (CppNix `ExprString`); anything
    /// else is a concatenation (`ExprConcatStrings`, forcing strings), e.g. `"${x}"` is
    /// `[Interpolation(x)]`. Adjacent literals are **not** merged: an indented string yields one
    /// literal per lexer token (`''a''$b''` is `["a", "$", "b"]`). The evaluator may merge them.
    Str(Vec<StrPart>),
    /// A literal path, absolute and normalised at parse time (`./a` → `/base/dir/a`).
    Path(Vec<u8>),
    /// A path with interpolations (`./a/${x}/b`): `parts[0]` is the literal absolute prefix
    /// (`/base/dir/a/`, evaluated as a path), the rest are appended as strings.
    InterpolatedPath(Vec<StrPart>),
    /// `<nixpkgs/lib>`: the text between the brackets. CppNix evaluates it as
    /// `__findFile __nixPath "nixpkgs/lib"` (both variables looked up lexically).
    SearchPath(Vec<u8>),
    /// A variable reference. `true`, `false`, `null` and builtins are variables too.
    Var(Symbol),
    /// `__curPos`: an attribute set `{ file, line, column }` of its own position.
    CurPos,
    /// `e.a.b`, `e.a.b or default`; also the `(rec { … }).body` of a legacy `let { … }`.
    Select(Box<Select>),
    /// `e ? a.b`.
    HasAttr(Box<HasAttr>),
    /// `{ … }` or `rec { … }`.
    Attrs(Box<AttrSet>),
    /// `[ a b c ]`.
    List(Vec<Expr>),
    /// `x: body`, `{ a, b ? d, ... } @ x: body`.
    Lambda(Box<Lambda>),
    /// Function application `f a b`: CppNix collects all arguments of a juxtaposition into one
    /// call, also through parentheses (`(f a) b` has `args = [a, b]`).
    Call(Box<Call>),
    /// `let bindings in body`. The bindings are recursive; they never have dynamic names.
    Let(Box<Let>),
    /// `with env; body`.
    With(Box<With>),
    /// `assert cond; body`.
    Assert(Box<Assert>),
    /// `if cond then a else b`.
    If(Box<If>),
    /// `!e`.
    Not(Box<Expr>),
    /// `-e`: CppNix evaluates it as `__sub 0 e`.
    Neg(Box<Expr>),
    /// A binary operator other than `.`, `?` and application.
    BinOp(Box<BinOp>),
}

/// One piece of a string or interpolated path.
#[derive(Clone, Debug, PartialEq)]
pub enum StrPart {
    /// Literal bytes (escapes decoded, indentation stripped).
    Literal(Vec<u8>),
    /// `${ e }`; the span of the expression is its own (CppNix reports the `${` position for the
    /// part: `expr.span.start` minus the `${` and whitespace).
    Interpolation(Expr),
}

/// An attribute name in a path: `a`, `"a b"` or `${e}`.
#[derive(Clone, Debug, PartialEq)]
pub enum AttrName {
    /// A name known at parse time (identifiers, `or`, constant strings, `${"const"}`).
    Static(Symbol),
    /// A name computed at run time (`${e}`, `"a${e}"`).
    Dynamic(Expr),
}

/// `expr.path` or `expr.path or default`.
#[derive(Clone, Debug, PartialEq)]
pub struct Select {
    /// The expression selected from.
    pub expr: Expr,
    /// The attribute path (never empty).
    pub path: Vec<AttrName>,
    /// The `or` fallback.
    pub default: Option<Expr>,
}

/// `expr ? path`.
#[derive(Clone, Debug, PartialEq)]
pub struct HasAttr {
    /// The expression tested.
    pub expr: Expr,
    /// The attribute path (never empty).
    pub path: Vec<AttrName>,
}

/// The bindings of a set or a `let`, after merging nested paths.
#[derive(Clone, Debug, PartialEq)]
pub struct AttrSet {
    /// `rec { … }` (always true for the set of a legacy `let { … }`; `let … in` bindings are
    /// recursive whatever this says).
    pub recursive: bool,
    /// Static attributes in **definition order** (first definition of each name; no duplicates).
    /// CppNix keeps them sorted by name; sort by the symbol's bytes if you need that order.
    pub attrs: Vec<AttrDef>,
    /// Attributes with run-time names, in source order.
    pub dynamic: Vec<DynamicAttr>,
    /// The source expressions of `inherit (e) …;`, referenced by [`AttrValue::InheritFrom`].
    pub inherit_from: Vec<Expr>,
    /// Offset of the `{` of a set written in the source (CppNix's position of the set's
    /// bindings); `None` for the sets implied by `a.b = …`.
    pub open: Option<u32>,
}

/// A static attribute definition.
#[derive(Clone, Debug, PartialEq)]
pub struct AttrDef {
    /// The attribute name.
    pub name: Symbol,
    /// CppNix's position of the definition (what `unsafeGetAttrPos` and "already defined at"
    /// report): the start of the attribute path for `a.b = …`; for `inherit`, the point just
    /// after the `inherit` keyword or after `(e)` (CppNix's location of the name list).
    pub span: Span,
    /// The value.
    pub value: AttrValue,
}

/// How a static attribute gets its value.
#[derive(Clone, Debug, PartialEq)]
pub enum AttrValue {
    /// `name = expr;` (for nested paths, `expr` is the merged inner [`ExprKind::Attrs`]).
    Plain(Expr),
    /// `inherit name;`: the variable `name` looked up in the scope **enclosing** the set (also
    /// for `rec` sets and `let`). `var_span` is where CppNix reports an undefined variable: the
    /// start of the bindings (just after `{`, `rec {` or `let`).
    Inherit {
        /// Position for errors about the variable.
        var_span: Span,
    },
    /// `inherit (e) name;`: `e.name` where `e` is `inherit_from[source]` of the same set, evaluated
    /// in the scope enclosing the set (once per set in spirit; CppNix re-evaluates it per name).
    InheritFrom {
        /// Index into [`AttrSet::inherit_from`].
        source: u32,
    },
}

/// `${name} = value;` or `"a${b}" = value;`.
#[derive(Clone, Debug, PartialEq)]
pub struct DynamicAttr {
    /// The name expression.
    pub name: Expr,
    /// The value.
    pub value: Expr,
    /// Start of the attribute path.
    pub span: Span,
}

/// A function.
#[derive(Clone, Debug, PartialEq)]
pub struct Lambda {
    /// The plain argument name: `x` in `x: …`, or the `@` name of a pattern.
    pub arg: Option<Symbol>,
    /// The pattern `{ a, b ? d, ... }`, if any.
    pub formals: Option<Formals>,
    /// The body.
    pub body: Expr,
}

/// The pattern of a function.
#[derive(Clone, Debug, PartialEq)]
pub struct Formals {
    /// The named arguments in source order (no duplicates).
    pub entries: Vec<Formal>,
    /// Whether `...` is present.
    pub ellipsis: bool,
}

/// One named argument of a pattern.
#[derive(Clone, Debug, PartialEq)]
pub struct Formal {
    /// The name.
    pub name: Symbol,
    /// Position of the name.
    pub span: Span,
    /// The default (`? e`), evaluated in the function's scope.
    pub default: Option<Expr>,
}

/// Function application.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The function. It is never itself an [`ExprKind::Call`]; it may be a [`ExprKind::Neg`] or a
    /// [`BinOp`] that CppNix desugars to a call (`(a - b) c` is `__sub a b c`).
    pub fun: Expr,
    /// The arguments (at least one).
    pub args: Vec<Expr>,
}

/// `let … in body`.
#[derive(Clone, Debug, PartialEq)]
pub struct Let {
    /// The recursive bindings (no dynamic attributes).
    pub bindings: AttrSet,
    /// The body.
    pub body: Expr,
}

/// `with env; body`.
#[derive(Clone, Debug, PartialEq)]
pub struct With {
    /// The set whose attributes come into scope (behind all lexical bindings).
    pub env: Expr,
    /// The body.
    pub body: Expr,
}

/// `assert cond; body`.
#[derive(Clone, Debug, PartialEq)]
pub struct Assert {
    /// The condition.
    pub cond: Expr,
    /// The body.
    pub body: Expr,
}

/// `if cond then then_ else else_`.
#[derive(Clone, Debug, PartialEq)]
pub struct If {
    /// The condition.
    pub cond: Expr,
    /// The `then` branch.
    pub then: Expr,
    /// The `else` branch.
    pub else_: Expr,
}

/// A binary operator application.
#[derive(Clone, Debug, PartialEq)]
pub struct BinOp {
    /// The operator.
    pub op: BinOpKind,
    /// Left operand.
    pub lhs: Expr,
    /// Right operand.
    pub rhs: Expr,
}

/// Binary operators, from loosest to tightest binding:
/// `->` (right) < `||` < `&&` < `==` `!=` (non-assoc) < `<` `>` `<=` `>=` (non-assoc) < `//`
/// (right) < `!` (prefix) < `+` `-` (left) < `*` `/` (left) < `++` (right) < `?` < unary `-` <
/// application < `.`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BinOpKind {
    /// `->` (logical implication).
    Impl,
    /// `||`.
    Or,
    /// `&&`.
    And,
    /// `==`.
    Eq,
    /// `!=`.
    NEq,
    /// `<`: CppNix calls `__lessThan lhs rhs`.
    Lt,
    /// `>`: `__lessThan rhs lhs`.
    Gt,
    /// `<=`: `!(__lessThan rhs lhs)`.
    Le,
    /// `>=`: `!(__lessThan lhs rhs)`.
    Ge,
    /// `//` (attribute set update).
    Update,
    /// `+` (CppNix `ExprConcatStrings` without forcing strings: numbers add, strings and paths
    /// concatenate).
    Add,
    /// `-`: CppNix calls `__sub lhs rhs`.
    Sub,
    /// `*`: `__mul lhs rhs`.
    Mul,
    /// `/`: `__div lhs rhs`.
    Div,
    /// `++` (list concatenation).
    Concat,
}

impl BinOpKind {
    /// The operator as written in source.
    pub fn as_str(self) -> &'static str {
        match self {
            BinOpKind::Impl => "->",
            BinOpKind::Or => "||",
            BinOpKind::And => "&&",
            BinOpKind::Eq => "==",
            BinOpKind::NEq => "!=",
            BinOpKind::Lt => "<",
            BinOpKind::Gt => ">",
            BinOpKind::Le => "<=",
            BinOpKind::Ge => ">=",
            BinOpKind::Update => "//",
            BinOpKind::Add => "+",
            BinOpKind::Sub => "-",
            BinOpKind::Mul => "*",
            BinOpKind::Div => "/",
            BinOpKind::Concat => "++",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_sizes() {
        // Compact nodes: the tree is walked once per lowering, keep it small.
        assert!(
            std::mem::size_of::<ExprKind>() <= 32,
            "{}",
            std::mem::size_of::<ExprKind>()
        );
        assert!(
            std::mem::size_of::<Expr>() <= 48,
            "{}",
            std::mem::size_of::<Expr>()
        );
    }
}
