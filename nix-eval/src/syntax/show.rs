//! The `nix-instantiate --parse` printer: CppNix 2.8's `Expr::show` format.
//!
//! It is fully parenthesised, shows operators that CppNix desugars to calls as those calls
//! (`a - b` → `(__sub a b)`, `a > b` → `(__lessThan b a)`, `<p>` → `(__findFile __nixPath "p")`),
//! prints static attributes sorted by name and floats with C's `%g`.

use std::io::Write as _;

use super::ast::*;
use super::symbol::{Interner, Symbol};

/// Prints an expression as `nix-instantiate --parse` does (lossy if names or strings are not
/// UTF-8; see [`show_bytes`]).
///
/// # Example
///
/// ```
/// # use nix_eval::syntax::{parse, show, Interner, Origin, ParseOptions, SourceMap};
/// let mut map = SourceMap::new();
/// let f = map.add(Origin::String, b"x: -x > 2".to_vec());
/// let mut names = Interner::new();
/// let e = parse(&map, f, &mut names, &ParseOptions::new("/"))?;
/// assert_eq!(show(&e, &names), "(x: (__lessThan 2 (__sub 0 x)))");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn show(e: &Expr, names: &Interner) -> String {
    String::from_utf8_lossy(&show_bytes(e, names)).into_owned()
}

/// Prints an expression as `nix-instantiate --parse` does, as bytes.
pub fn show_bytes(e: &Expr, names: &Interner) -> Vec<u8> {
    let mut out = Vec::new();
    Printer {
        names,
        out: &mut out,
        root: e,
        let_order: None,
    }
    .expr(e);
    out
}

/// An attribute name as CppNix prints it: bare if it is an identifier that is not a keyword,
/// else as a quoted string.
pub(crate) fn attr_name(name: &[u8]) -> String {
    let mut out = Vec::new();
    push_attr_name(&mut out, name);
    String::from_utf8_lossy(&out).into_owned()
}

fn is_identifier(name: &[u8]) -> bool {
    let Some(&first) = name.first() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == b'_') {
        return false;
    }
    if !name[1..]
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'\'' | b'-'))
    {
        return false;
    }
    !matches!(
        name,
        b"if" | b"then" | b"else" | b"assert" | b"with" | b"let" | b"in" | b"rec" | b"inherit"
    )
}

fn push_attr_name(out: &mut Vec<u8>, name: &[u8]) {
    if is_identifier(name) {
        out.extend_from_slice(name);
    } else {
        push_string(out, name);
    }
}

/// CppNix 2.8's `showString` for `--parse`: escapes `"`, `\`, `$`, newline, CR and tab.
fn push_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' | b'\\' | b'$' => {
                out.push(b'\\');
                out.push(c);
            }
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => out.push(c),
        }
    }
    out.push(b'"');
}

/// C's `printf("%g", f)` (6 significant digits), as C++ streams print doubles by default.
pub(crate) fn format_g(f: f64) -> String {
    if f.is_nan() {
        return if f.is_sign_negative() {
            "-nan".into()
        } else {
            "nan".into()
        };
    }
    if f.is_infinite() {
        return if f < 0.0 { "-inf".into() } else { "inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    const P: i32 = 6;
    // exponent after rounding to P significant digits
    let sci = format!("{:.*e}", (P - 1) as usize, f);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let x: i32 = exp.parse().unwrap_or(0);
    if !(-4..P).contains(&x) {
        let mant = trim_zeros(mant);
        let sign = if x < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", x.abs())
    } else {
        let decimals = (P - 1 - x).max(0) as usize;
        let fixed = format!("{:.*}", decimals, f);
        trim_zeros(&fixed).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Names that exist in CppNix 2.8's symbol table before a file is parsed, in the order of
/// their addresses (how `let` bindings are ordered by `--parse`), measured with the real binary.
const PRE_LOW: &[&str] = &[
    "line",
    "column",
    "__functor",
    "__toString",
    "right",
    "wrong",
    "__structuredAttrs",
    "builder",
    "args",
    "outPath",
    "drvPath",
    "type",
    "meta",
    "name",
    "value",
    "system",
    "__overrides",
    "outputs",
    "outputName",
    "__ignoreNulls",
    "file",
    "__contentAddressed",
    "outputHash",
    "outputHashAlgo",
    "outputHashMode",
    "recurseForDerivations",
    "description",
    "self",
    "startSet",
    "operator",
    "key",
    "path",
    "prefix",
    "builtins",
    "true",
    "false",
    "null",
    "__currentTime",
    "currentTime",
    "__currentSystem",
    "currentSystem",
    "__nixVersion",
    "nixVersion",
    "__storeDir",
    "storeDir",
    "__langVersion",
    "langVersion",
    "__nixPath",
    "nixPath",
    "scopedImport",
    "import",
    "__typeOf",
    "typeOf",
    "isNull",
    "__isFunction",
    "isFunction",
    "__isInt",
    "isInt",
    "__isFloat",
    "isFloat",
    "__isString",
    "isString",
    "__isBool",
    "isBool",
    "__isPath",
    "isPath",
    "__genericClosure",
    "genericClosure",
    "abort",
    "throw",
    "__addErrorContext",
    "addErrorContext",
    "__ceil",
    "ceil",
    "__floor",
    "floor",
    "__tryEval",
    "tryEval",
    "__getEnv",
    "getEnv",
    "__seq",
    "seq",
    "__deepSeq",
    "deepSeq",
    "__trace",
    "trace",
    "derivationStrict",
    "placeholder",
    "__toPath",
    "toPath",
    "__storePath",
    "storePath",
    "__pathExists",
    "pathExists",
    "baseNameOf",
    "dirOf",
    "__readFile",
    "readFile",
    "__findFile",
    "findFile",
    "__hashFile",
    "hashFile",
    "__readDir",
    "readDir",
    "__toXML",
    "toXML",
    "__toJSON",
    "toJSON",
    "__fromJSON",
    "fromJSON",
    "__toFile",
    "toFile",
    "__filterSource",
    "filterSource",
    "__path",
    "__attrNames",
    "attrNames",
    "__attrValues",
    "attrValues",
    "__getAttr",
    "getAttr",
    "__unsafeGetAttrPos",
    "unsafeGetAttrPos",
    "__hasAttr",
    "hasAttr",
    "__isAttrs",
    "isAttrs",
    "removeAttrs",
    "__listToAttrs",
    "listToAttrs",
    "__intersectAttrs",
    "intersectAttrs",
    "__catAttrs",
    "catAttrs",
    "__functionArgs",
    "functionArgs",
    "__mapAttrs",
    "mapAttrs",
    "__zipAttrsWith",
    "zipAttrsWith",
    "__isList",
    "isList",
    "__elemAt",
    "elemAt",
    "__head",
    "head",
    "__tail",
    "tail",
    "map",
    "__filter",
    "filter",
    "__elem",
    "elem",
    "__concatLists",
    "concatLists",
    "__length",
    "length",
    "__foldl'",
    "foldl'",
    "__any",
    "any",
    "__all",
    "all",
    "__genList",
    "genList",
    "__sort",
    "sort",
    "__partition",
    "partition",
    "__groupBy",
    "groupBy",
    "__concatMap",
    "concatMap",
    "__add",
    "add",
    "__sub",
    "sub",
    "__mul",
    "mul",
    "__div",
    "div",
    "__bitAnd",
    "bitAnd",
    "__bitOr",
    "bitOr",
    "__bitXor",
    "bitXor",
    "__lessThan",
    "lessThan",
    "toString",
    "__substring",
    "substring",
    "__stringLength",
    "stringLength",
    "__hashString",
    "hashString",
    "__match",
    "match",
    "__split",
    "split",
    "__concatStringsSep",
    "concatStringsSep",
    "__replaceStrings",
    "replaceStrings",
    "__parseDrvName",
    "parseDrvName",
    "__compareVersions",
    "compareVersions",
    "__splitVersion",
    "splitVersion",
    "__unsafeDiscardStringContext",
    "unsafeDiscardStringContext",
    "__hasContext",
    "hasContext",
    "__unsafeDiscardOutputDependency",
    "unsafeDiscardOutputDependency",
    "__getContext",
    "getContext",
    "__appendContext",
    "appendContext",
    "fetchMercurial",
    "fetchTree",
    "__fetchurl",
    "fetchurl",
    "fetchTarball",
    "fetchGit",
    "fromTOML",
    "derivation",
];

/// Pre-existing names (from the built-in `derivation.nix`) that sort after fresh names.
const PRE_HIGH: &[&str] = &[
    "strict",
    "drvAttrs",
    "commonAttrs",
    "outputsList",
    "x",
    "outputToAttrListElement",
];

/// The order CppNix 2.8 prints `let` bindings in: it iterates a map keyed by symbol pointers,
/// i.e. roughly the order in which symbols were created. We model it as: names pre-existing in
/// CppNix's symbol table ([`PRE_LOW`], in measured order), then names created by the parse in
/// creation order (CppNix creates a name when the grammar rule containing it is reduced: a
/// lambda's argument after its body, a formal with a default after the default), then
/// [`PRE_HIGH`]. This matches small inputs; on large inputs the real order depends on heap reuse.
struct LetOrder {
    rank: std::collections::HashMap<Symbol, (u8, u32)>,
    next: u32,
}

impl LetOrder {
    fn new(root: &Expr, names: &Interner) -> Self {
        let mut rank = std::collections::HashMap::new();
        for (i, n) in PRE_LOW.iter().enumerate() {
            if let Some(s) = names.get(n.as_bytes()) {
                rank.insert(s, (0u8, i as u32));
            }
        }
        for (i, n) in PRE_HIGH.iter().enumerate() {
            if let Some(s) = names.get(n.as_bytes()) {
                rank.insert(s, (2u8, i as u32));
            }
        }
        let mut o = LetOrder { rank, next: 0 };
        o.walk(root);
        o
    }

    fn create(&mut self, s: Symbol) {
        if let std::collections::hash_map::Entry::Vacant(v) = self.rank.entry(s) {
            v.insert((1, self.next));
            self.next += 1;
        }
    }

    fn key(&self, s: Symbol) -> (u8, u32) {
        self.rank.get(&s).copied().unwrap_or((1, u32::MAX))
    }

    fn path(&mut self, path: &[AttrName]) {
        for a in path {
            match a {
                AttrName::Static(s) => self.create(*s),
                AttrName::Dynamic(e) => self.walk(e),
            }
        }
    }

    fn set(&mut self, set: &AttrSet) {
        // bindings in source order: approximate by position
        let mut items: Vec<(u32, u8, usize)> = Vec::new();
        for (i, a) in set.attrs.iter().enumerate() {
            items.push((a.span.start, 0, i));
        }
        for (i, d) in set.dynamic.iter().enumerate() {
            items.push((d.span.start, 1, i));
        }
        items.sort();
        let mut done_sources = vec![false; set.inherit_from.len()];
        for (_, kind, i) in items {
            if kind == 0 {
                let a = &set.attrs[i];
                match &a.value {
                    AttrValue::Plain(e) => {
                        self.create(a.name);
                        self.walk(e);
                    }
                    AttrValue::Inherit { .. } => self.create(a.name),
                    AttrValue::InheritFrom { source } => {
                        let k = *source as usize;
                        if let (Some(false), Some(src)) =
                            (done_sources.get(k).copied(), set.inherit_from.get(k))
                        {
                            done_sources[k] = true;
                            self.walk(src);
                        }
                        self.create(a.name);
                    }
                }
            } else {
                let d = &set.dynamic[i];
                self.walk(&d.name);
                self.walk(&d.value);
            }
        }
    }

    fn walk(&mut self, e: &Expr) {
        super::parser::grow(|| self.walk_inner(e))
    }

    fn walk_inner(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Path(_) | ExprKind::CurPos => {}
            ExprKind::SearchPath(_) => {}
            ExprKind::Str(parts) | ExprKind::InterpolatedPath(parts) => {
                for p in parts {
                    if let StrPart::Interpolation(x) = p {
                        self.walk(x);
                    }
                }
            }
            ExprKind::Var(s) => self.create(*s),
            ExprKind::Select(s) => {
                self.walk(&s.expr);
                self.path(&s.path);
                if let Some(d) = &s.default {
                    self.walk(d);
                }
            }
            ExprKind::HasAttr(h) => {
                self.walk(&h.expr);
                self.path(&h.path);
            }
            ExprKind::Attrs(set) => self.set(set),
            ExprKind::List(items) => items.iter().for_each(|i| self.walk(i)),
            ExprKind::Lambda(l) => {
                if let Some(f) = &l.formals {
                    for x in &f.entries {
                        if let Some(d) = &x.default {
                            self.walk(d);
                        }
                        self.create(x.name);
                    }
                }
                self.walk(&l.body);
                if let Some(a) = l.arg {
                    self.create(a);
                }
            }
            ExprKind::Call(c) => {
                self.walk(&c.fun);
                c.args.iter().for_each(|a| self.walk(a));
            }
            ExprKind::Let(l) => {
                self.set(&l.bindings);
                self.walk(&l.body);
            }
            ExprKind::With(w) => {
                self.walk(&w.env);
                self.walk(&w.body);
            }
            ExprKind::Assert(a) => {
                self.walk(&a.cond);
                self.walk(&a.body);
            }
            ExprKind::If(i) => {
                self.walk(&i.cond);
                self.walk(&i.then);
                self.walk(&i.else_);
            }
            ExprKind::Not(x) | ExprKind::Neg(x) => self.walk(x),
            ExprKind::BinOp(b) => {
                self.walk(&b.lhs);
                self.walk(&b.rhs);
            }
        }
    }
}

struct Printer<'a> {
    names: &'a Interner,
    out: &'a mut Vec<u8>,
    root: &'a Expr,
    let_order: Option<LetOrder>,
}

impl Printer<'_> {
    fn s(&mut self, s: &str) {
        self.out.extend_from_slice(s.as_bytes());
    }

    fn name(&mut self, sym: Symbol) {
        let n = self.names.resolve(sym);
        self.out.extend_from_slice(n);
    }

    fn attr_path(&mut self, path: &[AttrName]) {
        for (i, a) in path.iter().enumerate() {
            if i > 0 {
                self.s(".");
            }
            match a {
                AttrName::Static(s) => push_attr_name(self.out, self.names.resolve(*s)),
                AttrName::Dynamic(e) => {
                    self.s("\"${");
                    self.expr(e);
                    self.s("}\"");
                }
            }
        }
    }

    fn parts(&mut self, parts: &[StrPart], first_is_path: bool) {
        self.s("(");
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                self.s(" + ");
            }
            match p {
                StrPart::Literal(l) if i == 0 && first_is_path => self.out.extend_from_slice(l),
                StrPart::Literal(l) => push_string(self.out, l),
                StrPart::Interpolation(e) => self.expr(e),
            }
        }
        self.s(")");
    }

    /// The head and leading arguments of an expression CppNix represents as a call, without
    /// the closing parenthesis.
    fn call_head(&mut self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Neg(x) => {
                self.s("(__sub 0 ");
                self.expr(x);
            }
            ExprKind::SearchPath(p) => {
                self.s("(__findFile __nixPath ");
                push_string(self.out, p);
            }
            ExprKind::BinOp(b) => {
                let (f, l, r) = match b.op {
                    BinOpKind::Sub => ("__sub", &b.lhs, &b.rhs),
                    BinOpKind::Mul => ("__mul", &b.lhs, &b.rhs),
                    BinOpKind::Div => ("__div", &b.lhs, &b.rhs),
                    BinOpKind::Lt => ("__lessThan", &b.lhs, &b.rhs),
                    BinOpKind::Gt => ("__lessThan", &b.rhs, &b.lhs),
                    _ => return false,
                };
                let _ = write!(self.out, "({f} ");
                self.expr(l);
                self.s(" ");
                self.expr(r);
            }
            _ => return false,
        }
        true
    }

    fn attrs_body(&mut self, set: &AttrSet, is_let: bool) {
        let mut sorted: Vec<&AttrDef> = set.attrs.iter().collect();
        if is_let {
            if self.let_order.is_none() {
                self.let_order = Some(LetOrder::new(self.root, self.names));
            }
            let order = self.let_order.as_ref().expect("just set");
            sorted.sort_by_key(|a| order.key(a.name));
        } else {
            sorted.sort_by(|a, b| self.names.resolve(a.name).cmp(self.names.resolve(b.name)));
        }
        for a in sorted {
            match &a.value {
                AttrValue::Inherit { .. } => {
                    self.s("inherit ");
                    push_attr_name(self.out, self.names.resolve(a.name));
                    self.s(if is_let { "; " } else { " ; " });
                }
                AttrValue::Plain(e) => {
                    push_attr_name(self.out, self.names.resolve(a.name));
                    self.s(" = ");
                    self.expr(e);
                    self.s("; ");
                }
                AttrValue::InheritFrom { source } => {
                    push_attr_name(self.out, self.names.resolve(a.name));
                    self.s(" = (");
                    if let Some(src) = set.inherit_from.get(*source as usize) {
                        self.expr(src);
                    }
                    self.s(").");
                    push_attr_name(self.out, self.names.resolve(a.name));
                    self.s("; ");
                }
            }
        }
        if !is_let {
            for d in &set.dynamic {
                self.s("\"${");
                self.expr(&d.name);
                self.s("}\" = ");
                self.expr(&d.value);
                self.s("; ");
            }
        }
    }

    fn expr(&mut self, e: &Expr) {
        super::parser::grow(|| self.expr_inner(e))
    }

    fn expr_inner(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Int(n) => {
                let _ = write!(self.out, "{n}");
            }
            ExprKind::Float(f) => self.s(&format_g(*f)),
            ExprKind::Str(parts) => match parts.as_slice() {
                [] => push_string(self.out, b""),
                [StrPart::Literal(l)] => push_string(self.out, l),
                _ => self.parts(parts, false),
            },
            ExprKind::Path(p) => self.out.extend_from_slice(p),
            ExprKind::InterpolatedPath(parts) => self.parts(parts, true),
            ExprKind::Var(s) => self.name(*s),
            ExprKind::CurPos => self.s("__curPos"),
            ExprKind::Select(sel) => {
                self.s("(");
                self.expr(&sel.expr);
                self.s(").");
                self.attr_path(&sel.path);
                if let Some(d) = &sel.default {
                    self.s(" or (");
                    self.expr(d);
                    self.s(")");
                }
            }
            ExprKind::HasAttr(h) => {
                self.s("((");
                self.expr(&h.expr);
                self.s(") ? ");
                self.attr_path(&h.path);
                self.s(")");
            }
            ExprKind::Attrs(set) => {
                if set.recursive {
                    self.s("rec ");
                }
                self.s("{ ");
                self.attrs_body(set, false);
                self.s("}");
            }
            ExprKind::List(items) => {
                self.s("[ ");
                for i in items {
                    self.s("(");
                    self.expr(i);
                    self.s(") ");
                }
                self.s("]");
            }
            ExprKind::Lambda(l) => {
                self.s("(");
                if let Some(f) = &l.formals {
                    self.s("{ ");
                    let mut first = true;
                    // CppNix keeps formals ordered by symbol (see `LetOrder`)
                    if self.let_order.is_none() {
                        self.let_order = Some(LetOrder::new(self.root, self.names));
                    }
                    let order = self.let_order.as_ref().expect("just set");
                    let mut entries: Vec<&Formal> = f.entries.iter().collect();
                    entries.sort_by_key(|x| order.key(x.name));
                    for x in entries {
                        if !first {
                            self.s(", ");
                        }
                        first = false;
                        self.name(x.name);
                        if let Some(d) = &x.default {
                            self.s(" ? ");
                            self.expr(d);
                        }
                    }
                    if f.ellipsis {
                        if !first {
                            self.s(", ");
                        }
                        self.s("...");
                    }
                    self.s(" }");
                    if l.arg.is_some() {
                        self.s(" @ ");
                    }
                }
                if let Some(a) = l.arg {
                    self.name(a);
                }
                self.s(": ");
                self.expr(&l.body);
                self.s(")");
            }
            ExprKind::Call(c) => {
                if !self.call_head(&c.fun) {
                    self.s("(");
                    self.expr(&c.fun);
                }
                for a in &c.args {
                    self.s(" ");
                    self.expr(a);
                }
                self.s(")");
            }
            ExprKind::Let(l) => {
                self.s("(let ");
                self.attrs_body(&l.bindings, true);
                self.s("in ");
                self.expr(&l.body);
                self.s(")");
            }
            ExprKind::With(w) => {
                self.s("(with ");
                self.expr(&w.env);
                self.s("; ");
                self.expr(&w.body);
                self.s(")");
            }
            ExprKind::Assert(a) => {
                self.s("assert ");
                self.expr(&a.cond);
                self.s("; ");
                self.expr(&a.body);
            }
            ExprKind::If(i) => {
                self.s("(if ");
                self.expr(&i.cond);
                self.s(" then ");
                self.expr(&i.then);
                self.s(" else ");
                self.expr(&i.else_);
                self.s(")");
            }
            ExprKind::Not(x) => {
                self.s("(! ");
                self.expr(x);
                self.s(")");
            }
            ExprKind::Neg(_) | ExprKind::SearchPath(_) => {
                self.call_head(e);
                self.s(")");
            }
            ExprKind::BinOp(b) => match b.op {
                BinOpKind::Sub
                | BinOpKind::Mul
                | BinOpKind::Div
                | BinOpKind::Lt
                | BinOpKind::Gt => {
                    self.call_head(e);
                    self.s(")");
                }
                BinOpKind::Le | BinOpKind::Ge => {
                    let (l, r) = if b.op == BinOpKind::Le {
                        (&b.rhs, &b.lhs)
                    } else {
                        (&b.lhs, &b.rhs)
                    };
                    self.s("(! (__lessThan ");
                    self.expr(l);
                    self.s(" ");
                    self.expr(r);
                    self.s("))");
                }
                op => {
                    self.s("(");
                    self.expr(&b.lhs);
                    self.s(" ");
                    self.s(op.as_str());
                    self.s(" ");
                    self.expr(&b.rhs);
                    self.s(")");
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_format() {
        for (f, s) in [
            (1500.0, "1500"),
            (0.0015, "0.0015"),
            (1e10, "1e+10"),
            (123456.7, "123457"),
            (1234567.8, "1.23457e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.23456789, "1.23457"),
            (1.0, "1"),
            (0.1, "0.1"),
            (999999.5, "1e+06"),
            (1e100, "1e+100"),
        ] {
            assert_eq!(format_g(f), s, "{f}");
        }
    }
}
