//! Lowering: syntax tree → IR with every variable resolved.
//!
//! Scopes are resolved once here. A variable bound by a lambda, `let` or `rec` set becomes
//! `Var { level, slot }` (environments up, slot index). A variable that is not bound lexically
//! but sits under one or more `with`s becomes `WithVar` with the levels of those `with`
//! environments. Global names (builtins, `true`, `null`, …) become constants, and they win over
//! `with` as in CppNix. Anything else is `undefined variable 'x'`, reported before evaluation as
//! CppNix does.
//!
//! Operators that CppNix desugars to calls of `__sub`, `__mul`, `__div` and `__lessThan` are
//! evaluated directly (a user binding named `__sub` does not change `-`, unlike CppNix).

pub(crate) mod ir;

use std::rc::Rc;

use crate::diagnostic::Pos;
use crate::error::{Error, ErrorKind, Result};
use crate::eval::EvalState;
use crate::syntax::ast::{self, AttrName, AttrValue, BinOpKind, ExprKind, StrPart};
use crate::syntax::{FileId, Span, Symbol};
use crate::value::{NixString, Value};
use ir::{AttrDef, AttrKey, AttrsDef, BinOp, DynAttrDef, Expr, ExprRef, Formal, Formals, Lambda};

enum Scope {
    Vars(Vars),
    With,
}

/// The names a `let`, recursive set or lambda binds, in slot order. A scope of more than
/// [`Vars::INDEXED`] names also keeps a name → slot map, so that resolving the variables of a
/// large file (a `rec` set or `let` of thousands of bindings) is not quadratic.
struct Vars {
    names: Vec<Symbol>,
    index: Option<std::collections::HashMap<Symbol, u32>>,
}

impl Vars {
    const INDEXED: usize = 16;

    fn new(names: Vec<Symbol>) -> Vars {
        let index = (names.len() > Self::INDEXED).then(|| {
            let mut m = std::collections::HashMap::with_capacity(names.len());
            for (slot, n) in names.iter().enumerate() {
                // the first binding of a name is the one a lookup finds
                m.entry(*n).or_insert(slot as u32);
            }
            m
        });
        Vars { names, index }
    }

    /// The slot of `name` in this scope.
    fn slot(&self, name: Symbol) -> Option<u32> {
        match &self.index {
            Some(m) => m.get(&name).copied(),
            None => self.names.iter().position(|v| *v == name).map(|s| s as u32),
        }
    }
}

/// Lowers one parsed file or expression.
pub(crate) struct Lowerer<'a> {
    st: &'a mut EvalState,
    scopes: Vec<Scope>,
    file: FileId,
    /// Where `file` starts in the position space of the source map.
    base: u32,
}

impl<'a> Lowerer<'a> {
    /// A lowerer for `file`; `base` is an extra outermost scope (for `scopedImport`).
    pub(crate) fn new(st: &'a mut EvalState, file: FileId, base: Option<Vec<Symbol>>) -> Self {
        let pos_base = st.sources.base(file).unwrap_or(0);
        Lowerer {
            st,
            scopes: base
                .map(|b| Scope::Vars(Vars::new(b)))
                .into_iter()
                .collect(),
            file,
            base: pos_base,
        }
    }

    fn pos(&self, span: Span) -> Pos {
        Pos::at(self.base, span.start)
    }

    /// Lowers an expression.
    pub(crate) fn lower(&mut self, e: &ast::Expr) -> Result<ExprRef> {
        Ok(Rc::new(self.lower_expr(e, None)?))
    }

    fn resolve(&mut self, name: Symbol, skip: usize, pos: Pos) -> Result<Expr> {
        let mut level: u32 = 0;
        let mut withs = Vec::new();
        for (i, scope) in self.scopes.iter().rev().enumerate() {
            if i < skip {
                level += 1;
                continue;
            }
            match scope {
                Scope::Vars(vars) => {
                    if let Some(slot) = vars.slot(name) {
                        return Ok(Expr::Var { level, slot, pos });
                    }
                }
                Scope::With => withs.push(level),
            }
            level += 1;
        }
        if let Some(v) = self.st.globals.get(&name) {
            return Ok(Expr::Const(v.clone()));
        }
        if !withs.is_empty() {
            return Ok(Expr::WithVar {
                name,
                withs: withs.into_boxed_slice(),
                pos,
            });
        }
        Err(Error::new(
            ErrorKind::UndefinedVar,
            format!(
                "undefined variable '{}'",
                String::from_utf8_lossy(self.st.symbols.resolve(name))
            ),
        )
        .at(pos))
    }

    /// The variable an operator desugars to (`__sub`, `__lessThan`, …) when a lexical scope
    /// binds that name; `None` when it is the builtin (operators then evaluate directly).
    fn shadowed_operator(&mut self, name: &[u8], pos: Pos) -> Option<Expr> {
        let sym = self.st.symbols.intern(name);
        let bound = self
            .scopes
            .iter()
            .any(|s| matches!(s, Scope::Vars(vars) if vars.slot(sym).is_some()));
        if bound {
            self.resolve(sym, 0, pos).ok()
        } else {
            None
        }
    }

    /// The position CppNix gives an interpolation: its `${`.
    fn interp_pos(&self, e: &ast::Expr) -> Pos {
        let start = e.span.start as usize;
        if let Some(f) = self.st.sources.get(self.file) {
            let text = f.text();
            let mut i = start.min(text.len());
            while i > 0 && text[i - 1].is_ascii_whitespace() {
                i -= 1;
            }
            if i >= 2 && &text[i - 2..i] == b"${" {
                return Pos::at(self.base, (i - 2) as u32);
            }
        }
        Pos::at(self.base, e.span.start)
    }

    /// CppNix reports a call at the start of its function expression, including the
    /// parentheses around it (`(f) x` is reported at the `(`).
    fn call_pos(&self, fun: &ast::Expr) -> Pos {
        let Some(f) = self.st.sources.get(self.file) else {
            return self.pos(fun.span);
        };
        let text = f.text();
        let mut end = (fun.span.end as usize).min(text.len());
        let mut closing = 0;
        loop {
            while end < text.len() && text[end].is_ascii_whitespace() {
                end += 1;
            }
            if end < text.len() && text[end] == b')' {
                closing += 1;
                end += 1;
            } else {
                break;
            }
        }
        let mut start = (fun.span.start as usize).min(text.len());
        let mut best = start;
        while closing > 0 {
            while start > 0 && text[start - 1].is_ascii_whitespace() {
                start -= 1;
            }
            if start > 0 && text[start - 1] == b'(' {
                start -= 1;
                best = start;
                closing -= 1;
            } else {
                break;
            }
        }
        Pos::at(self.base, best as u32)
    }

    fn key(&mut self, k: &AttrName) -> Result<AttrKey> {
        Ok(match k {
            AttrName::Static(s) => AttrKey::Static(*s),
            AttrName::Dynamic(e) => AttrKey::Dynamic(self.lower(e)?),
        })
    }

    fn str_parts(&mut self, parts: &[StrPart], force_string: bool, span: Span) -> Result<Expr> {
        let mut out = Vec::with_capacity(parts.len());
        for (i, p) in parts.iter().enumerate() {
            match p {
                StrPart::Literal(bytes) => {
                    let v = if i == 0 && !force_string {
                        Value::Path(NixString::new(bytes.clone()))
                    } else {
                        Value::String(NixString::new(bytes.clone()))
                    };
                    out.push((Rc::new(Expr::Const(v)), self.pos(span)));
                }
                StrPart::Interpolation(e) => {
                    let pos = self.interp_pos(e);
                    out.push((self.lower(e)?, pos));
                }
            }
        }
        Ok(Expr::Concat {
            parts: out.into_boxed_slice(),
            force_string,
            pos: self.pos(span),
        })
    }

    fn lower_expr(&mut self, e: &ast::Expr, name: Option<Symbol>) -> Result<Expr> {
        let pos = self.pos(e.span);
        Ok(match &e.kind {
            ExprKind::Int(i) => Expr::Const(Value::Int(*i)),
            ExprKind::Float(f) => Expr::Const(Value::Float(*f)),
            ExprKind::Str(parts) => match parts.as_slice() {
                [] => Expr::Const(Value::string(Vec::new())),
                [StrPart::Literal(b)] => Expr::Const(Value::string(b.clone())),
                _ => self.str_parts(parts, true, e.span)?,
            },
            ExprKind::Path(p) => Expr::Const(Value::Path(NixString::new(p.clone()))),
            ExprKind::InterpolatedPath(parts) => self.str_parts(parts, false, e.span)?,
            ExprKind::SearchPath(p) => {
                let find = self.st.symbols.intern(b"__findFile");
                let nix_path = self.st.symbols.intern(b"__nixPath");
                let f = self.resolve(find, 0, pos)?;
                let np = self.resolve(nix_path, 0, pos)?;
                Expr::Call {
                    func: Rc::new(f),
                    args: vec![Rc::new(np), Rc::new(Expr::Const(Value::string(p.clone())))]
                        .into_boxed_slice(),
                    pos,
                }
            }
            ExprKind::Var(s) => self.resolve(*s, 0, pos)?,
            ExprKind::CurPos => Expr::CurPos(pos),
            ExprKind::Select(sel) => {
                let expr = self.lower(&sel.expr)?;
                let path = sel
                    .path
                    .iter()
                    .map(|k| self.key(k))
                    .collect::<Result<Vec<_>>>()?;
                let default = match &sel.default {
                    Some(d) => Some(self.lower(d)?),
                    None => None,
                };
                Expr::Select {
                    expr,
                    path: path.into_boxed_slice(),
                    default,
                    pos,
                }
            }
            ExprKind::HasAttr(h) => {
                let expr = self.lower(&h.expr)?;
                let path = h
                    .path
                    .iter()
                    .map(|k| self.key(k))
                    .collect::<Result<Vec<_>>>()?;
                Expr::HasAttr {
                    expr,
                    path: path.into_boxed_slice(),
                }
            }
            ExprKind::Attrs(set) => self.lower_attrs(set)?,
            ExprKind::List(items) => Expr::List(
                items
                    .iter()
                    .map(|i| self.lower(i))
                    .collect::<Result<Vec<_>>>()?
                    .into_boxed_slice(),
            ),
            ExprKind::Lambda(l) => Expr::Lambda(Rc::new(self.lower_lambda(l, name, pos)?)),
            ExprKind::Call(c) => {
                let pos = self.call_pos(&c.fun);
                let func = self.lower(&c.fun)?;
                let args = c
                    .args
                    .iter()
                    .map(|a| self.lower(a))
                    .collect::<Result<Vec<_>>>()?;
                Expr::Call {
                    func,
                    args: args.into_boxed_slice(),
                    pos,
                }
            }
            ExprKind::Let(l) => {
                let names: Vec<Symbol> = l.bindings.attrs.iter().map(|a| a.name).collect();
                self.scopes.push(Scope::Vars(Vars::new(names)));
                let r = self.lower_let(l);
                self.scopes.pop();
                r?
            }
            ExprKind::With(w) => {
                let attrs = self.lower(&w.env)?;
                self.scopes.push(Scope::With);
                let body = self.lower(&w.body);
                self.scopes.pop();
                Expr::With { attrs, body: body? }
            }
            ExprKind::Assert(a) => {
                let text = crate::syntax::show(&a.cond, &self.st.symbols);
                Expr::Assert {
                    cond: self.lower(&a.cond)?,
                    body: self.lower(&a.body)?,
                    pos,
                    text: Rc::from(text.as_str()),
                }
            }
            ExprKind::If(i) => Expr::If {
                cond: self.lower(&i.cond)?,
                then: self.lower(&i.then)?,
                else_: self.lower(&i.else_)?,
                pos,
            },
            ExprKind::Not(x) => Expr::Not(self.lower(x)?, pos),
            ExprKind::Neg(x) => {
                let x = self.lower(x)?;
                // CppNix parses `-x` as `__sub 0 x`: a lexical `__sub` changes it.
                match self.shadowed_operator(b"__sub", pos) {
                    Some(f) => Expr::Call {
                        func: Rc::new(f),
                        args: vec![Rc::new(Expr::Const(Value::Int(0))), x].into_boxed_slice(),
                        pos,
                    },
                    None => Expr::Neg(x, pos),
                }
            }
            ExprKind::BinOp(b) => {
                let lhs = self.lower(&b.lhs)?;
                let rhs = self.lower(&b.rhs)?;
                // CppNix parses these operators as calls of `__sub`, `__mul`, `__div` and
                // `__lessThan` (`a > b` is `__lessThan b a`, `a <= b` is
                // `!(__lessThan b a)`): a lexical binding of that name changes them.
                let desugared: Option<(&[u8], bool, bool)> = match b.op {
                    BinOpKind::Sub => Some((b"__sub", false, false)),
                    BinOpKind::Mul => Some((b"__mul", false, false)),
                    BinOpKind::Div => Some((b"__div", false, false)),
                    BinOpKind::Lt => Some((b"__lessThan", false, false)),
                    BinOpKind::Gt => Some((b"__lessThan", true, false)),
                    BinOpKind::Le => Some((b"__lessThan", true, true)),
                    BinOpKind::Ge => Some((b"__lessThan", false, true)),
                    _ => None,
                };
                if let Some((name, swap, negate)) = desugared {
                    if let Some(f) = self.shadowed_operator(name, pos) {
                        let args = if swap { [rhs, lhs] } else { [lhs, rhs] };
                        let call = Expr::Call {
                            func: Rc::new(f),
                            args: Box::new(args),
                            pos,
                        };
                        return Ok(if negate {
                            Expr::Not(Rc::new(call), pos)
                        } else {
                            call
                        });
                    }
                }
                let op = match b.op {
                    BinOpKind::Impl => return Ok(Expr::Impl(lhs, rhs, pos)),
                    BinOpKind::Or => return Ok(Expr::Or(lhs, rhs, pos)),
                    BinOpKind::And => return Ok(Expr::And(lhs, rhs, pos)),
                    BinOpKind::Add => {
                        let lp = self.pos(b.lhs.span);
                        let rp = self.pos(b.rhs.span);
                        return Ok(Expr::Concat {
                            parts: vec![(lhs, lp), (rhs, rp)].into_boxed_slice(),
                            force_string: false,
                            pos,
                        });
                    }
                    BinOpKind::Eq => BinOp::Eq,
                    BinOpKind::NEq => BinOp::Ne,
                    BinOpKind::Lt => BinOp::Lt,
                    BinOpKind::Gt => BinOp::Gt,
                    BinOpKind::Le => BinOp::Le,
                    BinOpKind::Ge => BinOp::Ge,
                    BinOpKind::Update => BinOp::Update,
                    BinOpKind::Sub => BinOp::Sub,
                    BinOpKind::Mul => BinOp::Mul,
                    BinOpKind::Div => BinOp::Div,
                    BinOpKind::Concat => BinOp::Concat,
                };
                Expr::Bin { op, lhs, rhs, pos }
            }
        })
    }

    /// Lowers the value of a static binding; `skip` scopes are hidden (1 for `inherit` inside
    /// `rec`/`let`, whose value is evaluated in the enclosing environment).
    fn binding_value(
        &mut self,
        set: &ast::AttrSet,
        a: &ast::AttrDef,
        recursive: bool,
    ) -> Result<(ExprRef, bool)> {
        match &a.value {
            AttrValue::Plain(e) => Ok((Rc::new(self.lower_expr(e, Some(a.name))?), false)),
            AttrValue::Inherit { var_span } => {
                let skip = usize::from(recursive);
                let v = self.resolve(a.name, skip, self.pos(*var_span))?;
                // resolved relative to the inner scope: evaluate in the inner environment
                Ok((Rc::new(v), false))
            }
            AttrValue::InheritFrom { source } => {
                let src = set
                    .inherit_from
                    .get(*source as usize)
                    .ok_or_else(|| Error::eval("bad inherit source").at(self.pos(a.span)))?;
                // CppNix 2.8 makes `inherit (e) a;` the binding `a = e.a;`: in `rec` sets and
                // `let`, `e` sees the bindings of the set itself.
                let sel = Expr::Select {
                    expr: self.lower(src)?,
                    path: vec![AttrKey::Static(a.name)].into_boxed_slice(),
                    default: None,
                    pos: self.pos(a.span),
                };
                Ok((Rc::new(sel), false))
            }
        }
    }

    fn lower_let(&mut self, l: &ast::Let) -> Result<Expr> {
        let mut bindings = Vec::with_capacity(l.bindings.attrs.len());
        for a in &l.bindings.attrs {
            bindings.push(self.binding_value(&l.bindings, a, true)?);
        }
        Ok(Expr::Let {
            bindings: bindings.into_boxed_slice(),
            body: self.lower(&l.body)?,
        })
    }

    fn lower_attrs(&mut self, set: &ast::AttrSet) -> Result<Expr> {
        let mut order: Vec<&ast::AttrDef> = set.attrs.iter().collect();
        order.sort_by_key(|a| a.name);
        if set.recursive {
            self.scopes.push(Scope::Vars(Vars::new(
                order.iter().map(|a| a.name).collect(),
            )));
        }
        let r = self.lower_attrs_inner(set, &order);
        if set.recursive {
            self.scopes.pop();
        }
        r
    }

    fn lower_attrs_inner(&mut self, set: &ast::AttrSet, order: &[&ast::AttrDef]) -> Result<Expr> {
        let mut statics = Vec::with_capacity(order.len());
        for a in order {
            let (value, outer) = self.binding_value(set, a, set.recursive)?;
            statics.push(AttrDef {
                name: a.name,
                value,
                pos: self.pos(a.span),
                outer,
            });
        }
        let mut dynamics = Vec::with_capacity(set.dynamic.len());
        for d in &set.dynamic {
            dynamics.push(DynAttrDef {
                name: self.lower(&d.name)?,
                value: self.lower(&d.value)?,
                pos: self.pos(d.span),
            });
        }
        let overrides = if set.recursive {
            let o = self.st.symbols.intern(b"__overrides");
            statics.iter().position(|a| a.name == o)
        } else {
            None
        };
        Ok(Expr::Attrs(Box::new(AttrsDef {
            rec: set.recursive,
            statics,
            dynamics,
            pos: set.open.map(|o| Pos::at(self.base, o)),
            overrides,
        })))
    }

    fn lower_lambda(&mut self, l: &ast::Lambda, name: Option<Symbol>, pos: Pos) -> Result<Lambda> {
        let mut vars: Vec<Symbol> = Vec::new();
        if let Some(f) = &l.formals {
            vars.extend(f.entries.iter().map(|e| e.name));
        }
        if let Some(a) = l.arg {
            vars.push(a);
        }
        let slots = vars.len().max(1) as u32;
        self.scopes.push(Scope::Vars(Vars::new(vars)));
        let r = (|| -> Result<Lambda> {
            let formals = match &l.formals {
                Some(f) => {
                    let mut entries = Vec::with_capacity(f.entries.len());
                    for e in &f.entries {
                        let default = match &e.default {
                            Some(d) => Some(self.lower(d)?),
                            None => None,
                        };
                        entries.push(Formal {
                            name: e.name,
                            pos: self.pos(e.span),
                            default,
                        });
                    }
                    Some(Formals {
                        entries,
                        ellipsis: f.ellipsis,
                    })
                }
                None => None,
            };
            // CppNix names a curried lambda's inner lambdas after the binding too
            // (`g = a: b: …`: both are 'g' in messages and traces)
            let body = Rc::new(self.lower_expr(&l.body, name)?);
            let strict_arg = formals.is_none() && ir::forces_slot0_first(&body);
            let frameless = formals.is_none() && ir::is_frameless_body(&body);
            Ok(Lambda {
                name,
                pos,
                arg: l.arg,
                formals,
                body,
                slots,
                strict_arg,
                frameless,
            })
        })();
        self.scopes.pop();
        r
    }
}
