//! CppNix's parse-time variable check (`bindVars`): every variable must be bound by an enclosing
//! `let`, recursive set, function argument or the base environment, unless a `with` encloses it.

use super::ast::*;
use super::span::Span;
use super::symbol::{Interner, Symbol};
use super::{ParseError, ParseErrorKind};

/// The names in CppNix 2.8's base environment (the global scope of every file): the global
/// builtins and every builtin as `__name`.
pub const BASE_ENV_NAMES: &[&str] = &[
    "__add",
    "__addErrorContext",
    "__all",
    "__any",
    "__appendContext",
    "__attrNames",
    "__attrValues",
    "__bitAnd",
    "__bitOr",
    "__bitXor",
    "__catAttrs",
    "__ceil",
    "__compareVersions",
    "__concatLists",
    "__concatMap",
    "__concatStringsSep",
    "__currentSystem",
    "__currentTime",
    "__deepSeq",
    "__div",
    "__elem",
    "__elemAt",
    "__fetchurl",
    "__filter",
    "__filterSource",
    "__findFile",
    "__floor",
    "__foldl'",
    "__fromJSON",
    "__functionArgs",
    "__genList",
    "__genericClosure",
    "__getAttr",
    "__getContext",
    "__getEnv",
    "__groupBy",
    "__hasAttr",
    "__hasContext",
    "__hashFile",
    "__hashString",
    "__head",
    "__intersectAttrs",
    "__isAttrs",
    "__isBool",
    "__isFloat",
    "__isFunction",
    "__isInt",
    "__isList",
    "__isPath",
    "__isString",
    "__langVersion",
    "__length",
    "__lessThan",
    "__listToAttrs",
    "__mapAttrs",
    "__match",
    "__mul",
    "__nixPath",
    "__nixVersion",
    "__parseDrvName",
    "__partition",
    "__path",
    "__pathExists",
    "__readDir",
    "__readFile",
    "__replaceStrings",
    "__seq",
    "__sort",
    "__split",
    "__splitVersion",
    "__storeDir",
    "__storePath",
    "__stringLength",
    "__sub",
    "__substring",
    "__tail",
    "__toFile",
    "__toJSON",
    "__toPath",
    "__toXML",
    "__trace",
    "__tryEval",
    "__typeOf",
    "__unsafeDiscardOutputDependency",
    "__unsafeDiscardStringContext",
    "__unsafeGetAttrPos",
    "__zipAttrsWith",
    "abort",
    "baseNameOf",
    "builtins",
    "derivation",
    "derivationStrict",
    "dirOf",
    "false",
    "fetchGit",
    "fetchMercurial",
    "fetchTarball",
    "fetchTree",
    "fromTOML",
    "import",
    "isNull",
    "map",
    "null",
    "placeholder",
    "removeAttrs",
    "scopedImport",
    "throw",
    "toString",
    "true",
];

/// Checks that every variable in `expr` is bound, in CppNix's traversal order, so the first
/// error is the one CppNix reports. `is_global` says whether a name is in the base environment
/// (see [`BASE_ENV_NAMES`]).
///
/// # Errors
///
/// `undefined variable 'x'` at the variable's position.
///
/// # Example
///
/// ```
/// # use nix_eval::syntax::{check_scopes, parse, Interner, Origin, ParseOptions, SourceMap};
/// let mut map = SourceMap::new();
/// let f = map.add(Origin::String, b"x: y".to_vec());
/// let mut names = Interner::new();
/// let e = parse(&map, f, &mut names, &ParseOptions::new("/"))?;
/// let err = check_scopes(&e, &names, |_| false).unwrap_err();
/// assert_eq!(err.message, "undefined variable 'y'");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_scopes(
    expr: &Expr,
    names: &Interner,
    is_global: impl Fn(Symbol) -> bool,
) -> Result<(), ParseError> {
    // First without CppNix's by-name order (cheaper); only if there is an error, find the one
    // CppNix reports first by walking again in its order.
    let mut fast = Checker {
        names,
        is_global: &is_global,
        scopes: Vec::new(),
        bound: vec![0; names.len()],
        with_depth: 0,
        sort: false,
    };
    if fast.expr(expr).is_ok() {
        return Ok(());
    }
    let mut c = Checker {
        names,
        is_global: &is_global,
        scopes: Vec::new(),
        bound: vec![0; names.len()],
        with_depth: 0,
        sort: true,
    };
    c.expr(expr)
}

struct Checker<'a> {
    names: &'a Interner,
    is_global: &'a dyn Fn(Symbol) -> bool,
    /// Lexical scopes, innermost last.
    scopes: Vec<Vec<Symbol>>,
    /// For each symbol (by index), how many scopes in `scopes` bind it.
    bound: Vec<u32>,
    /// Visit attributes in CppNix's (by name) order.
    sort: bool,
    with_depth: u32,
}

impl Checker<'_> {
    fn lookup(&self, s: Symbol, span: Span) -> Result<(), ParseError> {
        let bound = self.bound.get(s.index() as usize).is_some_and(|&n| n > 0);
        if self.with_depth > 0 || bound || (self.is_global)(s) {
            return Ok(());
        }
        Err(ParseError::new(
            ParseErrorKind::UndefinedVariable,
            format!(
                "undefined variable '{}'",
                String::from_utf8_lossy(self.names.resolve(s))
            ),
            Span {
                file: span.file,
                start: span.start,
                end: span.start,
            },
        ))
    }

    fn push_scope(&mut self, scope: Vec<Symbol>) {
        for s in &scope {
            if let Some(n) = self.bound.get_mut(s.index() as usize) {
                *n += 1;
            }
        }
        self.scopes.push(scope);
    }

    fn pop_scope(&mut self) -> Option<Vec<Symbol>> {
        let scope = self.scopes.pop()?;
        for s in &scope {
            if let Some(n) = self.bound.get_mut(s.index() as usize) {
                *n -= 1;
            }
        }
        Some(scope)
    }

    fn sorted<'s>(&self, set: &'s AttrSet) -> Vec<&'s AttrDef> {
        let mut v: Vec<&AttrDef> = set.attrs.iter().collect();
        if !self.sort {
            return v;
        }
        v.sort_by(|a, b| self.names.resolve(a.name).cmp(self.names.resolve(b.name)));
        v
    }

    fn path(&mut self, path: &[AttrName]) -> Result<(), ParseError> {
        for a in path {
            if let AttrName::Dynamic(e) = a {
                self.expr(e)?;
            }
        }
        Ok(())
    }

    fn bindings(&mut self, set: &AttrSet, recursive: bool) -> Result<(), ParseError> {
        if recursive {
            self.push_scope(set.attrs.iter().map(|a| a.name).collect());
        }
        for a in self.sorted(set) {
            match &a.value {
                AttrValue::Plain(e) => self.expr(e)?,
                AttrValue::Inherit { var_span } => {
                    // looked up outside the recursive scope
                    let saved = if recursive { self.pop_scope() } else { None };
                    let r = self.lookup(a.name, *var_span);
                    if let Some(s) = saved {
                        self.push_scope(s);
                    }
                    r?;
                }
                AttrValue::InheritFrom { source } => {
                    if let Some(e) = set.inherit_from.get(*source as usize) {
                        self.expr(e)?;
                    }
                }
            }
        }
        for d in &set.dynamic {
            self.expr(&d.name)?;
            self.expr(&d.value)?;
        }
        if recursive {
            self.pop_scope();
        }
        Ok(())
    }

    fn expr(&mut self, e: &Expr) -> Result<(), ParseError> {
        super::parser::grow(|| self.expr_inner(e))
    }

    fn expr_inner(&mut self, e: &Expr) -> Result<(), ParseError> {
        match &e.kind {
            ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Path(_) | ExprKind::CurPos => Ok(()),
            ExprKind::Str(parts) | ExprKind::InterpolatedPath(parts) => {
                for p in parts {
                    if let StrPart::Interpolation(x) = p {
                        self.expr(x)?;
                    }
                }
                Ok(())
            }
            ExprKind::SearchPath(_) => Ok(()),
            ExprKind::Var(s) => self.lookup(*s, e.span),
            ExprKind::Select(s) => {
                self.expr(&s.expr)?;
                if let Some(d) = &s.default {
                    self.expr(d)?;
                }
                self.path(&s.path)
            }
            ExprKind::HasAttr(h) => {
                self.expr(&h.expr)?;
                self.path(&h.path)
            }
            ExprKind::Attrs(set) => self.bindings(set, set.recursive),
            ExprKind::List(items) => items.iter().try_for_each(|i| self.expr(i)),
            ExprKind::Lambda(l) => {
                let mut scope = Vec::new();
                if let Some(a) = l.arg {
                    scope.push(a);
                }
                if let Some(f) = &l.formals {
                    scope.extend(f.entries.iter().map(|x| x.name));
                }
                self.push_scope(scope);
                let r = (|| {
                    if let Some(f) = &l.formals {
                        for x in &f.entries {
                            if let Some(d) = &x.default {
                                self.expr(d)?;
                            }
                        }
                    }
                    self.expr(&l.body)
                })();
                self.pop_scope();
                r
            }
            ExprKind::Call(c) => {
                self.expr(&c.fun)?;
                c.args.iter().try_for_each(|a| self.expr(a))
            }
            ExprKind::Let(l) => {
                self.push_scope(l.bindings.attrs.iter().map(|a| a.name).collect());
                let r = (|| {
                    for a in &l.bindings.attrs {
                        match &a.value {
                            AttrValue::Plain(e) => self.expr(e)?,
                            AttrValue::Inherit { var_span } => {
                                let saved = self.pop_scope();
                                let r = self.lookup(a.name, *var_span);
                                if let Some(s) = saved {
                                    self.push_scope(s);
                                }
                                r?;
                            }
                            AttrValue::InheritFrom { source } => {
                                if let Some(e) = l.bindings.inherit_from.get(*source as usize) {
                                    self.expr(e)?;
                                }
                            }
                        }
                    }
                    self.expr(&l.body)
                })();
                self.pop_scope();
                r
            }
            ExprKind::With(w) => {
                self.expr(&w.env)?;
                self.with_depth += 1;
                let r = self.expr(&w.body);
                self.with_depth -= 1;
                r
            }
            ExprKind::Assert(a) => {
                self.expr(&a.cond)?;
                self.expr(&a.body)
            }
            ExprKind::If(i) => {
                self.expr(&i.cond)?;
                self.expr(&i.then)?;
                self.expr(&i.else_)
            }
            ExprKind::Not(x) | ExprKind::Neg(x) => self.expr(x),
            ExprKind::BinOp(b) => {
                self.expr(&b.lhs)?;
                self.expr(&b.rhs)
            }
        }
    }
}
