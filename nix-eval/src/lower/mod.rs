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

    /// Lowers an expression, consuming the syntax tree: each node is freed as soon as its IR
    /// node exists (the tree and the IR are not both whole at once, and no separate pass drops
    /// the tree).
    pub(crate) fn lower(&mut self, e: ast::Expr) -> Result<ExprRef> {
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

    fn key(&mut self, k: AttrName) -> Result<AttrKey> {
        Ok(match k {
            AttrName::Static(s) => AttrKey::Static(s),
            AttrName::Dynamic(e) => AttrKey::Dynamic(self.lower(e)?),
        })
    }

    fn str_parts(&mut self, parts: Vec<StrPart>, force_string: bool, span: Span) -> Result<Expr> {
        let mut out = Vec::with_capacity(parts.len());
        for (i, p) in parts.into_iter().enumerate() {
            match p {
                StrPart::Literal(bytes) => {
                    let v = if i == 0 && !force_string {
                        Value::Path(NixString::new(bytes))
                    } else {
                        Value::String(NixString::new(bytes))
                    };
                    out.push((Rc::new(Expr::Const(v)), self.pos(span)));
                }
                StrPart::Interpolation(e) => {
                    let pos = self.interp_pos(&e);
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

    fn lower_expr(&mut self, e: ast::Expr, name: Option<Symbol>) -> Result<Expr> {
        let (kind, span) = e.into_parts();
        let pos = self.pos(span);
        Ok(match kind {
            ExprKind::Int(i) => Expr::Const(Value::Int(i)),
            ExprKind::Float(f) => Expr::Const(Value::Float(f)),
            ExprKind::Str(mut parts) => match parts.as_mut_slice() {
                [] => Expr::Const(Value::string(Vec::new())),
                [StrPart::Literal(b)] => Expr::Const(Value::string(std::mem::take(b))),
                _ => self.str_parts(parts, true, span)?,
            },
            ExprKind::Path(p) => Expr::Const(Value::Path(NixString::new(p))),
            ExprKind::InterpolatedPath(parts) => self.str_parts(parts, false, span)?,
            ExprKind::SearchPath(p) => {
                let find = self.st.symbols.intern(b"__findFile");
                let nix_path = self.st.symbols.intern(b"__nixPath");
                let f = self.resolve(find, 0, pos)?;
                let np = self.resolve(nix_path, 0, pos)?;
                Expr::Call {
                    func: Rc::new(f),
                    args: vec![Rc::new(np), Rc::new(Expr::Const(Value::string(p)))]
                        .into_boxed_slice(),
                    pos,
                }
            }
            ExprKind::Var(s) => self.resolve(s, 0, pos)?,
            ExprKind::CurPos => Expr::CurPos(pos),
            ExprKind::Select(sel) => {
                let ast::Select {
                    expr,
                    path,
                    default,
                } = *sel;
                let expr = self.lower(expr)?;
                let path = path
                    .into_iter()
                    .map(|k| self.key(k))
                    .collect::<Result<Vec<_>>>()?;
                let default = match default {
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
                let ast::HasAttr { expr, path } = *h;
                let expr = self.lower(expr)?;
                let path = path
                    .into_iter()
                    .map(|k| self.key(k))
                    .collect::<Result<Vec<_>>>()?;
                Expr::HasAttr {
                    expr,
                    path: path.into_boxed_slice(),
                }
            }
            ExprKind::Attrs(set) => self.lower_attrs(*set)?,
            ExprKind::List(items) => Expr::List(
                items
                    .into_iter()
                    .map(|i| self.lower(i))
                    .collect::<Result<Vec<_>>>()?
                    .into_boxed_slice(),
            ),
            ExprKind::Lambda(l) => Expr::Lambda(Rc::new(self.lower_lambda(*l, name, pos)?)),
            ExprKind::Call(c) => {
                let ast::Call { fun, args } = *c;
                let pos = self.call_pos(&fun);
                let func = self.lower(fun)?;
                let args = args
                    .into_iter()
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
                let r = self.lower_let(*l);
                self.scopes.pop();
                r?
            }
            ExprKind::With(w) => {
                let ast::With { env, body } = *w;
                let attrs = self.lower(env)?;
                self.scopes.push(Scope::With);
                let body = self.lower(body);
                self.scopes.pop();
                Expr::With { attrs, body: body? }
            }
            ExprKind::Assert(a) => {
                let ast::Assert { cond, body } = *a;
                let text = crate::syntax::show(&cond, &self.st.symbols);
                Expr::Assert {
                    cond: self.lower(cond)?,
                    body: self.lower(body)?,
                    pos,
                    text: Rc::from(text.as_str()),
                }
            }
            ExprKind::If(i) => {
                let ast::If { cond, then, else_ } = *i;
                Expr::If {
                    cond: self.lower(cond)?,
                    then: self.lower(then)?,
                    else_: self.lower(else_)?,
                    pos,
                }
            }
            ExprKind::Not(x) => Expr::Not(self.lower(*x)?, pos),
            ExprKind::Neg(x) => {
                let x = self.lower(*x)?;
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
                let ast::BinOp { op, lhs, rhs } = *b;
                let (lspan, rspan) = (lhs.span, rhs.span);
                let lhs = self.lower(lhs)?;
                let rhs = self.lower(rhs)?;
                // CppNix parses these operators as calls of `__sub`, `__mul`, `__div` and
                // `__lessThan` (`a > b` is `__lessThan b a`, `a <= b` is
                // `!(__lessThan b a)`): a lexical binding of that name changes them.
                let desugared: Option<(&[u8], bool, bool)> = match op {
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
                let op = match op {
                    BinOpKind::Impl => return Ok(Expr::Impl(lhs, rhs, pos)),
                    BinOpKind::Or => return Ok(Expr::Or(lhs, rhs, pos)),
                    BinOpKind::And => return Ok(Expr::And(lhs, rhs, pos)),
                    BinOpKind::Add => {
                        let lp = self.pos(lspan);
                        let rp = self.pos(rspan);
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
        sources: &mut InheritSources,
        a: ast::AttrDef,
        recursive: bool,
    ) -> Result<(ExprRef, bool)> {
        match a.value {
            AttrValue::Plain(e) => Ok((Rc::new(self.lower_expr(e, Some(a.name))?), false)),
            AttrValue::Inherit { var_span } => {
                let skip = usize::from(recursive);
                let v = self.resolve(a.name, skip, self.pos(var_span))?;
                // resolved relative to the inner scope: evaluate in the inner environment
                Ok((Rc::new(v), false))
            }
            AttrValue::InheritFrom { source } => {
                let src = sources
                    .take(source)
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

    fn lower_let(&mut self, l: ast::Let) -> Result<Expr> {
        let ast::Let {
            bindings: set,
            body,
        } = l;
        let mut sources = InheritSources::new(set.inherit_from, &set.attrs);
        let mut bindings = Vec::with_capacity(set.attrs.len());
        for a in set.attrs {
            bindings.push(self.binding_value(&mut sources, a, true)?);
        }
        Ok(Expr::Let {
            bindings: bindings.into_boxed_slice(),
            body: self.lower(body)?,
        })
    }

    fn lower_attrs(&mut self, set: ast::AttrSet) -> Result<Expr> {
        let ast::AttrSet {
            recursive,
            mut attrs,
            dynamic,
            inherit_from,
            open,
        } = set;
        attrs.sort_by_key(|a| a.name);
        if recursive {
            self.scopes.push(Scope::Vars(Vars::new(
                attrs.iter().map(|a| a.name).collect(),
            )));
        }
        let sources = InheritSources::new(inherit_from, &attrs);
        let r = self.lower_attrs_inner(recursive, attrs, dynamic, sources, open);
        if recursive {
            self.scopes.pop();
        }
        r
    }

    fn lower_attrs_inner(
        &mut self,
        recursive: bool,
        attrs: Vec<ast::AttrDef>,
        dynamic: Vec<ast::DynamicAttr>,
        mut sources: InheritSources,
        open: Option<u32>,
    ) -> Result<Expr> {
        let mut statics = Vec::with_capacity(attrs.len());
        for a in attrs {
            let (name, span) = (a.name, a.span);
            let (value, outer) = self.binding_value(&mut sources, a, recursive)?;
            statics.push(AttrDef {
                name,
                value,
                pos: self.pos(span),
                outer,
            });
        }
        let mut dynamics = Vec::with_capacity(dynamic.len());
        for d in dynamic {
            dynamics.push(DynAttrDef {
                name: self.lower(d.name)?,
                value: self.lower(d.value)?,
                pos: self.pos(d.span),
            });
        }
        let overrides = if recursive {
            let o = self.st.symbols.intern(b"__overrides");
            statics.iter().position(|a| a.name == o)
        } else {
            None
        };
        Ok(Expr::Attrs(Box::new(AttrsDef {
            rec: recursive,
            statics,
            dynamics,
            pos: open.map(|o| Pos::at(self.base, o)),
            overrides,
        })))
    }

    fn lower_lambda(&mut self, l: ast::Lambda, name: Option<Symbol>, pos: Pos) -> Result<Lambda> {
        let ast::Lambda { arg, formals, body } = l;
        let mut vars: Vec<Symbol> = Vec::new();
        if let Some(f) = &formals {
            vars.extend(f.entries.iter().map(|e| e.name));
        }
        if let Some(a) = arg {
            vars.push(a);
        }
        let slots = vars.len().max(1) as u32;
        self.scopes.push(Scope::Vars(Vars::new(vars)));
        let r = (|| -> Result<Lambda> {
            let formals = match formals {
                Some(f) => {
                    let mut entries = Vec::with_capacity(f.entries.len());
                    for e in f.entries {
                        let default = match e.default {
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
            let body = Rc::new(self.lower_expr(body, name)?);
            let strict_arg = formals.is_none() && ir::forces_slot0_first(&body);
            let frameless = formals.is_none() && ir::is_frameless_body(&body);
            Ok(Lambda {
                name,
                pos,
                arg,
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

/// The `inherit (e) …;` source expressions of one set or `let`. CppNix 2.8 lowers
/// `inherit (e) a b;` to `a = e.a; b = e.b;`, so each name gets its own lowering of `e`: the
/// source is cloned for every name but the last one that uses it, which takes it.
struct InheritSources {
    exprs: Vec<Option<ast::Expr>>,
    /// Uses of each source not lowered yet.
    uses: Vec<u32>,
}

impl InheritSources {
    fn new(exprs: Vec<ast::Expr>, attrs: &[ast::AttrDef]) -> InheritSources {
        let mut uses = vec![0u32; exprs.len()];
        for a in attrs {
            if let AttrValue::InheritFrom { source } = a.value {
                if let Some(u) = uses.get_mut(source as usize) {
                    *u += 1;
                }
            }
        }
        InheritSources {
            exprs: exprs.into_iter().map(Some).collect(),
            uses,
        }
    }

    /// The source `i` for one use: a copy while other uses remain, else the source itself.
    fn take(&mut self, i: u32) -> Option<ast::Expr> {
        let i = i as usize;
        let uses = self.uses.get_mut(i)?;
        *uses = uses.saturating_sub(1);
        if *uses == 0 {
            self.exprs.get_mut(i)?.take()
        } else {
            self.exprs.get(i)?.clone()
        }
    }
}
