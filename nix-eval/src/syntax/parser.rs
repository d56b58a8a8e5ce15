//! The parser: recursive descent with precedence climbing over the token stream of
//! [`super::lexer`], building the [`Expr`] tree with CppNix 2.8's parse-time desugarings and
//! errors.
//!
//! Grammar (CppNix 2.8's, precedence from loosest to tightest):
//!
//! ```text
//! expr      = ID ':' expr | '{' formals '}' ('@' ID)? ':' expr | ID '@' '{' formals '}' ':' expr
//!           | 'assert' expr ';' expr | 'with' expr ';' expr | 'let' binds 'in' expr | if
//! if        = 'if' expr 'then' expr 'else' expr | op
//! op        = '->' (right) < '||' < '&&' < '==' '!=' (non-assoc) < '<' '>' '<=' '>=' (non-assoc)
//!             < '//' (right) < prefix '!' < '+' '-' < '*' '/' < '++' (right) < op '?' attrpath
//!             < prefix '-' < app
//! app       = select+
//! select    = simple ('.' attrpath ('or' select)?)? | simple 'or'
//! simple    = ID | INT | FLOAT | string | indstring | path | SPATH | URI | '(' expr ')'
//!           | 'let' '{' binds '}' | 'rec'? '{' binds '}' | '[' select* ']'
//! binds     = (attrpath '=' expr ';' | 'inherit' ('(' expr ')')? attr* ';')*
//! attrpath  = attr ('.' attr)*      attr = ID | 'or' | string | '${' expr '}'
//! formals   = (formal (',' formal)* (',' '...')? ','? | '...')?     formal = ID ('?' expr)?
//! ```

use std::collections::{HashMap, VecDeque};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use super::ast::*;
use super::lexer::{LexError, Lexer, Tok, Token};
use super::span::{FileId, SourceMap, Span};
use super::symbol::{Interner, Symbol};
use super::{show, ParseError, ParseErrorKind};

/// Knobs of [`parse`].
#[derive(Clone, Debug)]
pub struct ParseOptions {
    /// The directory relative paths are resolved against: the directory of the file being
    /// parsed, or the current directory for `-E` and standard input (as CppNix does).
    pub base_dir: PathBuf,
    /// The home directory for `~/…` paths (CppNix uses `$HOME`). With `None`, `~` is replaced
    /// by nothing (`~/a` becomes `/a`).
    pub home: Option<PathBuf>,
    /// The maximum nesting depth (counted in grammar levels: a parenthesis costs 3, each operator
    /// of a chain 1); deeper input fails with `memory exhausted` (CppNix's bison stack-limit
    /// message, which it gives from about 10000 levels) instead of overflowing the native stack.
    /// Parsing, printing and the scope check grow the stack on the heap as needed; the default,
    /// 6000 (about 2000 nested parentheses), also keeps dropping the tree within 2 MiB of stack.
    pub max_depth: u32,
}

impl ParseOptions {
    /// Options with the given base directory, no home directory and the default depth limit.
    pub fn new(base_dir: impl Into<PathBuf>) -> Self {
        ParseOptions {
            base_dir: base_dir.into(),
            home: None,
            max_depth: 6000,
        }
    }

    /// Sets the home directory used for `~/…` paths.
    pub fn with_home(mut self, home: impl Into<PathBuf>) -> Self {
        self.home = Some(home.into());
        self
    }
}

/// Parses the file `file` of `map`, interning names in `names`.
///
/// This does everything CppNix 2.8 does while parsing except the variable-binding check; call
/// [`super::check_scopes`] afterwards to get its `undefined variable` errors.
///
/// # Errors
///
/// A [`ParseError`] with CppNix's message and position for syntax errors, duplicate attributes or
/// formals, dynamic attributes in `let`/`inherit`, invalid numbers, paths with a trailing slash
/// and nesting deeper than [`ParseOptions::max_depth`].
///
/// # Panics
///
/// Panics if `file` is not in `map` (a caller bug).
pub fn parse(
    map: &SourceMap,
    file: FileId,
    names: &mut Interner,
    opts: &ParseOptions,
) -> Result<Expr, ParseError> {
    let src = map.file(file).text();
    let mut p = Parser {
        src,
        lex: Lexer::new(src),
        file,
        map,
        names,
        opts,
        paren_start: HashMap::new(),
        tok: Token {
            kind: Tok::Eof,
            start: 0,
            end: 0,
            loc: 0,
        },
        la: VecDeque::new(),
        depth: 0,
    };
    p.bump()?;
    let e = p.parse_expr()?;
    if p.tok.kind != Tok::Eof {
        return Err(p.unexpected(&[Tok::Eof]));
    }
    Ok(e)
}

struct Parser<'a> {
    src: &'a [u8],
    lex: Lexer<'a>,
    file: FileId,
    map: &'a SourceMap,
    names: &'a mut Interner,
    opts: &'a ParseOptions,
    /// The current token.
    tok: Token,
    /// Tokens lexed ahead of `tok`.
    la: VecDeque<Result<Token, LexError>>,
    depth: u32,
    /// Where the outermost parentheses around an expression open, by the expression's span:
    /// CppNix's position of an operator, selection or call is where its text starts,
    /// parentheses around its first operand included.
    paren_start: HashMap<(u32, u32), u32>,
}

/// A parsed attribute path element with its position.
struct PathElem {
    name: AttrName,
    span: Span,
}

/// Builds an [`AttrSet`], with a name index once it gets large (nixpkgs has sets with many
/// thousands of attributes).
struct SetBuilder {
    set: AttrSet,
    index: Option<HashMap<Symbol, usize>>,
}

impl SetBuilder {
    fn new(recursive: bool) -> Self {
        SetBuilder {
            set: AttrSet {
                recursive,
                attrs: Vec::new(),
                dynamic: Vec::new(),
                inherit_from: Vec::new(),
                open: None,
            },
            index: None,
        }
    }

    fn find(&mut self, name: Symbol) -> Option<usize> {
        if let Some(ix) = &self.index {
            return ix.get(&name).copied();
        }
        if self.set.attrs.len() >= 16 {
            let ix: HashMap<Symbol, usize> = self
                .set
                .attrs
                .iter()
                .enumerate()
                .map(|(i, a)| (a.name, i))
                .collect();
            let r = ix.get(&name).copied();
            self.index = Some(ix);
            return r;
        }
        self.set.attrs.iter().position(|a| a.name == name)
    }

    fn push(&mut self, def: AttrDef) {
        if let Some(ix) = &mut self.index {
            ix.insert(def.name, self.set.attrs.len());
        }
        self.set.attrs.push(def);
    }
}

fn is_const_string(e: &Expr) -> Option<&[u8]> {
    match &e.kind {
        ExprKind::Str(parts) => match parts.as_slice() {
            [] => Some(b""),
            [StrPart::Literal(s)] => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// Tokens that can start a `select` (an application argument or list element).
fn starts_simple(t: Tok) -> bool {
    matches!(
        t,
        Tok::Id
            | Tok::Int
            | Tok::Float
            | Tok::Char(b'"')
            | Tok::IndStringOpen
            | Tok::Path
            | Tok::HPath
            | Tok::SPath
            | Tok::Uri
            | Tok::Char(b'(')
            | Tok::Let
            | Tok::Rec
            | Tok::Char(b'{')
            | Tok::Char(b'[')
    )
}

/// Binary operator of a token: (operator, precedence, right-associative, non-associative).
fn binop(t: Tok) -> Option<(BinOpKind, u8, bool, bool)> {
    Some(match t {
        Tok::Impl => (BinOpKind::Impl, 1, true, false),
        Tok::Or => (BinOpKind::Or, 2, false, false),
        Tok::And => (BinOpKind::And, 3, false, false),
        Tok::Eq => (BinOpKind::Eq, 4, false, true),
        Tok::NEq => (BinOpKind::NEq, 4, false, true),
        Tok::Char(b'<') => (BinOpKind::Lt, 5, false, true),
        Tok::Char(b'>') => (BinOpKind::Gt, 5, false, true),
        Tok::Leq => (BinOpKind::Le, 5, false, true),
        Tok::Geq => (BinOpKind::Ge, 5, false, true),
        Tok::Update => (BinOpKind::Update, 6, true, false),
        Tok::Char(b'+') => (BinOpKind::Add, 8, false, false),
        Tok::Char(b'-') => (BinOpKind::Sub, 8, false, false),
        Tok::Char(b'*') => (BinOpKind::Mul, 9, false, false),
        Tok::Char(b'/') => (BinOpKind::Div, 9, false, false),
        Tok::Concat => (BinOpKind::Concat, 10, true, false),
        _ => return None,
    })
}
const PREC_NOT: u8 = 7;
const PREC_HAS_ATTR: u8 = 11;

/// CppNix's `canonPath`: resolves `.`, `..` and repeated slashes textually.
fn canon_path(path: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(path.len() + 1);
    for comp in path.split(|&c| c == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => {
                while let Some(c) = out.pop() {
                    if c == b'/' {
                        break;
                    }
                }
            }
            _ => {
                out.push(b'/');
                out.extend_from_slice(comp);
            }
        }
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

/// Decodes a `"…"` string piece: `\n` `\r` `\t` escapes, other `\c` → `c`, CR and CR/LF → LF.
/// Like CppNix, a NUL byte ends the piece.
fn unescape_str(s: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c == 0 {
            return;
        }
        if c == b'\\' {
            let Some(&e) = s.get(i) else { return };
            i += 1;
            if e == 0 {
                return;
            }
            out.push(match e {
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                other => other,
            });
        } else if c == b'\r' {
            out.push(b'\n');
            if s.get(i) == Some(&b'\n') {
                i += 1;
            }
        } else {
            out.push(c);
        }
    }
}

/// An indented-string piece before stripping.
enum IndPart {
    /// Raw text (subject to indentation).
    Raw(u32, u32),
    /// Text that ends start-of-line whitespace (`''$`, `'''`, escapes, `'`, `$`).
    Lit(Vec<u8>),
    Interp(Expr),
}

impl<'a> Parser<'a> {
    // ----- tokens -------------------------------------------------------------------------

    fn lex_one(&mut self) -> Result<Token, LexError> {
        self.lex.next_token()
    }

    fn bump(&mut self) -> Result<(), ParseError> {
        let next = match self.la.pop_front() {
            Some(t) => t,
            None => self.lex_one(),
        };
        match next {
            Ok(t) => {
                self.tok = t;
                Ok(())
            }
            Err(LexError::TrailingSlash(at)) => Err(ParseError::new(
                ParseErrorKind::TrailingSlash,
                "path has a trailing slash".to_string(),
                self.span(at, at),
            )),
        }
    }

    /// The kind of the `n`-th token after the current one (1 = next).
    fn peek(&mut self, n: usize) -> Tok {
        while self.la.len() < n {
            let t = self.lex_one();
            self.la.push_back(t);
        }
        match &self.la[n - 1] {
            Ok(t) => t.kind,
            Err(_) => Tok::Eof,
        }
    }

    #[inline]
    fn span(&self, start: u32, end: u32) -> Span {
        Span {
            file: self.file,
            start,
            end,
        }
    }

    #[inline]
    fn tok_span(&self) -> Span {
        self.span(self.tok.start, self.tok.end)
    }

    fn text(&self, t: &Token) -> &'a [u8] {
        &self.src[t.start as usize..t.end as usize]
    }

    fn unexpected(&self, expected: &[Tok]) -> ParseError {
        let mut msg = format!("syntax error, unexpected {}", self.tok.kind.bison_name());
        if !expected.is_empty() && expected.len() <= 4 {
            msg.push_str(", expecting ");
            for (i, t) in expected.iter().enumerate() {
                if i > 0 {
                    msg.push_str(" or ");
                }
                msg.push_str(&t.bison_name());
            }
        }
        ParseError::new(
            ParseErrorKind::Syntax,
            msg,
            self.span(self.tok.loc, self.tok.loc),
        )
    }

    fn expect(&mut self, kind: Tok, expected: &[Tok]) -> Result<Token, ParseError> {
        if self.tok.kind == kind {
            let t = self.tok;
            self.bump()?;
            Ok(t)
        } else {
            Err(self.unexpected(expected))
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > self.opts.max_depth {
            return Err(ParseError::new(
                ParseErrorKind::TooDeep,
                "memory exhausted".to_string(),
                self.span(self.tok.loc, self.tok.loc),
            ));
        }
        Ok(())
    }

    fn id_symbol(&mut self, t: &Token) -> Symbol {
        let text = &self.src[t.start as usize..t.end as usize];
        self.names.intern(text)
    }

    // ----- expressions --------------------------------------------------------------------

    fn parse_expr(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let r = grow(|| self.parse_function());
        self.depth -= 1;
        r
    }

    fn parse_function(&mut self) -> Result<Expr, ParseError> {
        let start = self.tok.start;
        let kind = self.tok.kind;
        match kind {
            Tok::Id => match self.peek(1) {
                Tok::Char(b':') => {
                    let t = self.tok;
                    let arg = self.id_symbol(&t);
                    self.bump()?;
                    self.bump()?;
                    let body = self.parse_expr()?;
                    let span = self.span(start, body.span.end);
                    return Ok(Expr::new(
                        ExprKind::Lambda(Box::new(Lambda {
                            arg: Some(arg),
                            formals: None,
                            body,
                        })),
                        span,
                    ));
                }
                Tok::Char(b'@') => {
                    let t = self.tok;
                    let arg = self.id_symbol(&t);
                    self.bump()?;
                    self.bump()?;
                    self.expect(Tok::Char(b'{'), &[Tok::Char(b'{')])?;
                    let formals = self.parse_formals()?;
                    self.expect(Tok::Char(b':'), &[Tok::Char(b':')])?;
                    return self.finish_pattern_lambda(start, Some(arg), formals);
                }
                _ => {}
            },
            Tok::Char(b'{') if self.is_formals() => {
                self.bump()?;
                let formals = self.parse_formals()?;
                let arg = match self.tok.kind {
                    Tok::Char(b':') => {
                        self.bump()?;
                        None
                    }
                    Tok::Char(b'@') => {
                        self.bump()?;
                        let t = self.expect(Tok::Id, &[Tok::Id])?;
                        let arg = self.id_symbol(&t);
                        self.expect(Tok::Char(b':'), &[Tok::Char(b':')])?;
                        Some(arg)
                    }
                    _ => return Err(self.unexpected(&[Tok::Char(b':'), Tok::Char(b'@')])),
                };
                return self.finish_pattern_lambda(start, arg, formals);
            }
            Tok::Assert => {
                self.bump()?;
                let cond = self.parse_expr()?;
                self.expect(Tok::Char(b';'), &[Tok::Char(b';')])?;
                let body = self.parse_expr()?;
                let span = self.span(start, body.span.end);
                return Ok(Expr::new(
                    ExprKind::Assert(Box::new(Assert { cond, body })),
                    span,
                ));
            }
            Tok::With => {
                self.bump()?;
                let env = self.parse_expr()?;
                self.expect(Tok::Char(b';'), &[Tok::Char(b';')])?;
                let body = self.parse_expr()?;
                let span = self.span(start, body.span.end);
                return Ok(Expr::new(
                    ExprKind::With(Box::new(With { env, body })),
                    span,
                ));
            }
            Tok::Let if self.peek(1) != Tok::Char(b'{') => {
                let let_tok = self.tok;
                self.bump()?;
                let b = self.parse_binds(let_tok.end, Tok::In)?;
                self.bump()?; // `in`
                let body = self.parse_expr()?;
                if !b.set.dynamic.is_empty() {
                    return Err(ParseError::new(
                        ParseErrorKind::DynamicAttrNotAllowed,
                        "dynamic attributes not allowed in let".to_string(),
                        self.span(start, start),
                    ));
                }
                let span = self.span(start, body.span.end);
                return Ok(Expr::new(
                    ExprKind::Let(Box::new(Let {
                        bindings: b.set,
                        body,
                    })),
                    span,
                ));
            }
            _ => {}
        }
        self.parse_if()
    }

    fn finish_pattern_lambda(
        &mut self,
        start: u32,
        arg: Option<Symbol>,
        formals: Formals,
    ) -> Result<Expr, ParseError> {
        if let Some(a) = arg {
            if formals.entries.iter().any(|f| f.name == a) {
                let name = String::from_utf8_lossy(self.names.resolve(a)).into_owned();
                return Err(ParseError::new(
                    ParseErrorKind::DuplicateFormal,
                    format!("duplicate formal function argument '{name}'"),
                    self.span(start, start),
                ));
            }
        }
        let body = self.parse_expr()?;
        let span = self.span(start, body.span.end);
        Ok(Expr::new(
            ExprKind::Lambda(Box::new(Lambda {
                arg,
                formals: Some(formals),
                body,
            })),
            span,
        ))
    }

    /// At `{`: does a pattern follow (rather than an attribute set)?
    fn is_formals(&mut self) -> bool {
        match self.peek(1) {
            Tok::Ellipsis => true,
            Tok::Char(b'}') => matches!(self.peek(2), Tok::Char(b':') | Tok::Char(b'@')),
            Tok::Id => match self.peek(2) {
                Tok::Char(b',') | Tok::Char(b'?') => true,
                // `{ a }` is a pattern (CppNix's GLR parser then expects `:` or `@`)
                Tok::Char(b'}') => true,
                _ => false,
            },
            _ => false,
        }
    }

    /// After `{`: formals up to and including `}`.
    fn parse_formals(&mut self) -> Result<Formals, ParseError> {
        let mut entries: Vec<Formal> = Vec::new();
        let mut ellipsis = false;
        loop {
            match self.tok.kind {
                Tok::Char(b'}') => {
                    self.bump()?;
                    break;
                }
                Tok::Ellipsis => {
                    self.bump()?;
                    ellipsis = true;
                    self.expect(Tok::Char(b'}'), &[Tok::Char(b'}')])?;
                    break;
                }
                Tok::Id => {
                    let t = self.tok;
                    let name = self.id_symbol(&t);
                    let span = self.tok_span();
                    self.bump()?;
                    let default = if self.tok.kind == Tok::Char(b'?') {
                        self.bump()?;
                        Some(self.parse_expr()?)
                    } else {
                        None
                    };
                    if entries.iter().any(|f| f.name == name) {
                        let n = String::from_utf8_lossy(self.names.resolve(name)).into_owned();
                        return Err(ParseError::new(
                            ParseErrorKind::DuplicateFormal,
                            format!("duplicate formal function argument '{n}'"),
                            self.span(span.start, span.start),
                        ));
                    }
                    entries.push(Formal {
                        name,
                        span,
                        default,
                    });
                    match self.tok.kind {
                        Tok::Char(b',') => {
                            self.bump()?;
                        }
                        Tok::Char(b'}') => {
                            self.bump()?;
                            break;
                        }
                        _ => return Err(self.unexpected(&[Tok::Char(b'}')])),
                    }
                }
                _ => return Err(self.unexpected(&[Tok::Id, Tok::Ellipsis, Tok::Char(b'}')])),
            }
        }
        Ok(Formals { entries, ellipsis })
    }

    fn parse_if(&mut self) -> Result<Expr, ParseError> {
        if self.tok.kind != Tok::If {
            return self.parse_binary(0);
        }
        let start = self.tok.start;
        self.bump()?;
        let cond = self.parse_expr()?;
        self.expect(Tok::Then, &[Tok::Then])?;
        let then = self.parse_expr()?;
        self.expect(Tok::Else, &[Tok::Else])?;
        let else_ = self.parse_expr()?;
        let span = self.span(start, else_.span.end);
        Ok(Expr::new(
            ExprKind::If(Box::new(If { cond, then, else_ })),
            span,
        ))
    }

    /// Precedence climbing over binary operators binding tighter than `min`.
    fn parse_binary(&mut self, min: u8) -> Result<Expr, ParseError> {
        self.enter()?;
        let saved = self.depth;
        let r = grow(|| self.parse_binary_inner(min));
        // operators applied in the loop below each nested the tree one level deeper
        self.depth = saved - 1;
        r
    }

    fn parse_binary_inner(&mut self, min: u8) -> Result<Expr, ParseError> {
        let mut lhs = self.parse_unary(min)?;
        // the precedence of the last non-associative operator applied at this level
        let mut last_nonassoc: Option<u8> = None;
        loop {
            if self.tok.kind == Tok::Char(b'?') {
                if PREC_HAS_ATTR <= min {
                    break;
                }
                self.bump()?;
                let path = self.parse_attrpath()?;
                let span = self.span(self.outer_start(&lhs), self.prev_end(&path, lhs.span.end));
                let path = path.into_iter().map(|p| p.name).collect();
                lhs = Expr::new(
                    ExprKind::HasAttr(Box::new(HasAttr { expr: lhs, path })),
                    span,
                );
                self.enter()?;
                continue;
            }
            let Some((op, prec, right, nonassoc)) = binop(self.tok.kind) else {
                break;
            };
            if prec <= min {
                break;
            }
            if nonassoc && last_nonassoc == Some(prec) {
                return Err(self.unexpected(&[]));
            }
            self.bump()?;
            let rhs = if right {
                self.parse_binary(prec - 1)?
            } else {
                self.parse_binary(prec)?
            };
            let span = self.span(self.outer_start(&lhs), rhs.span.end);
            lhs = Expr::new(ExprKind::BinOp(Box::new(BinOp { op, lhs, rhs })), span);
            last_nonassoc = if nonassoc { Some(prec) } else { None };
            self.enter()?;
        }
        Ok(lhs)
    }

    /// Where the text of `e` starts, an opening parenthesis around it included.
    fn outer_start(&self, e: &Expr) -> u32 {
        if self.paren_start.is_empty() {
            return e.span.start;
        }
        self.paren_start
            .get(&(e.span.start, e.span.end))
            .copied()
            .unwrap_or(e.span.start)
    }

    fn prev_end(&self, path: &[PathElem], default: u32) -> u32 {
        path.last().map_or(default, |p| p.span.end)
    }

    fn parse_unary(&mut self, min: u8) -> Result<Expr, ParseError> {
        match self.tok.kind {
            Tok::Char(b'!') => {
                let start = self.tok.start;
                self.bump()?;
                let e = self.parse_binary(PREC_NOT)?;
                let span = self.span(start, e.span.end);
                let not = Expr::new(ExprKind::Not(Box::new(e)), span);
                // `!` binds looser than what follows it but the result is an operand of `min`
                let _ = min;
                Ok(not)
            }
            Tok::Char(b'-') => {
                let start = self.tok.start;
                self.bump()?;
                self.enter()?;
                let e = grow(|| self.parse_unary(12));
                self.depth -= 1;
                let e = e?;
                let span = self.span(start, e.span.end);
                Ok(Expr::new(ExprKind::Neg(Box::new(e)), span))
            }
            _ => self.parse_app(),
        }
    }

    fn parse_app(&mut self) -> Result<Expr, ParseError> {
        let f = self.parse_select()?;
        if !starts_simple(self.tok.kind) {
            return Ok(f);
        }
        let mut args = Vec::new();
        while starts_simple(self.tok.kind) {
            args.push(self.parse_select()?);
        }
        let end = args.last().map_or(f.span.end, |a| a.span.end);
        Ok(self.make_call(f, args, end))
    }

    /// `f args`, flattening into an existing call as CppNix does.
    fn make_call(&mut self, f: Expr, mut args: Vec<Expr>, end: u32) -> Expr {
        let span = self.span(self.outer_start(&f), end);
        let mut f = f;
        let f_span = f.span;
        match std::mem::replace(&mut f.kind, ExprKind::Int(0)) {
            ExprKind::Call(mut c) => {
                // CppNix extends the call `(f a) b` in place: it keeps its position
                c.args.append(&mut args);
                Expr::new(ExprKind::Call(c), self.span(f_span.start, end))
            }
            kind => {
                let fun = Expr::new(kind, f_span);
                Expr::new(ExprKind::Call(Box::new(Call { fun, args })), span)
            }
        }
    }

    fn parse_select(&mut self) -> Result<Expr, ParseError> {
        let e = self.parse_simple()?;
        match self.tok.kind {
            Tok::Char(b'.') => {
                self.bump()?;
                let path = self.parse_attrpath()?;
                let mut end = self.prev_end(&path, e.span.end);
                let default = if self.tok.kind == Tok::OrKw {
                    self.bump()?;
                    self.enter()?;
                    let d = grow(|| self.parse_select());
                    self.depth -= 1;
                    let d = d?;
                    end = d.span.end;
                    Some(d)
                } else {
                    None
                };
                let span = self.span(self.outer_start(&e), end);
                let path = path.into_iter().map(|p| p.name).collect();
                Ok(Expr::new(
                    ExprKind::Select(Box::new(Select {
                        expr: e,
                        path,
                        default,
                    })),
                    span,
                ))
            }
            Tok::OrKw => {
                // `e or`: CppNix applies `e` to the variable `or`.
                let or_span = self.tok_span();
                self.bump()?;
                let or = self.names.intern(b"or");
                let var = Expr::new(ExprKind::Var(or), self.span(e.span.start, or_span.end));
                let end = or_span.end;
                Ok(self.make_call(e, vec![var], end))
            }
            _ => Ok(e),
        }
    }

    /// An attribute path (at least one element).
    fn parse_attrpath(&mut self) -> Result<Vec<PathElem>, ParseError> {
        let mut path = Vec::new();
        loop {
            path.push(self.parse_attr()?);
            if self.tok.kind == Tok::Char(b'.') {
                self.bump()?;
            } else {
                return Ok(path);
            }
        }
    }

    fn parse_attr(&mut self) -> Result<PathElem, ParseError> {
        let start = self.tok.start;
        match self.tok.kind {
            Tok::Id | Tok::OrKw => {
                let t = self.tok;
                let s = self.id_symbol(&t);
                self.bump()?;
                Ok(PathElem {
                    name: AttrName::Static(s),
                    span: self.span(t.start, t.end),
                })
            }
            Tok::Char(b'"') => {
                let e = self.parse_string()?;
                let span = e.span;
                Ok(PathElem {
                    name: self.attr_name_of(e),
                    span,
                })
            }
            Tok::DollarCurly => {
                self.bump()?;
                let e = self.parse_expr()?;
                let close = self.expect(Tok::Char(b'}'), &[Tok::Char(b'}')])?;
                let span = self.span(start, close.end);
                Ok(PathElem {
                    name: self.attr_name_of(e),
                    span,
                })
            }
            _ => Err(self.unexpected(&[Tok::Id, Tok::OrKw, Tok::DollarCurly, Tok::Char(b'"')])),
        }
    }

    fn attr_name_of(&mut self, e: Expr) -> AttrName {
        match is_const_string(&e) {
            Some(s) => AttrName::Static(self.names.intern(s)),
            None => AttrName::Dynamic(e),
        }
    }

    fn parse_simple(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let r = grow(|| self.parse_simple_inner());
        self.depth -= 1;
        r
    }

    fn parse_simple_inner(&mut self) -> Result<Expr, ParseError> {
        let t = self.tok;
        let start = t.start;
        match t.kind {
            Tok::Id => {
                self.bump()?;
                let text = self.text(&t);
                let kind = if text == b"__curPos" {
                    ExprKind::CurPos
                } else {
                    ExprKind::Var(self.names.intern(text))
                };
                Ok(Expr::new(kind, self.span(t.start, t.end)))
            }
            Tok::Int => {
                let text = self.text(&t);
                let n = std::str::from_utf8(text)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok());
                let Some(n) = n else {
                    return Err(ParseError::new(
                        ParseErrorKind::InvalidInteger,
                        format!("invalid integer '{}'", String::from_utf8_lossy(text)),
                        self.span(t.start, t.start),
                    ));
                };
                self.bump()?;
                Ok(Expr::new(ExprKind::Int(n), self.span(t.start, t.end)))
            }
            Tok::Float => {
                let text = self.text(&t);
                let f = parse_float(text);
                let Some(f) = f else {
                    return Err(ParseError::new(
                        ParseErrorKind::InvalidFloat,
                        format!("invalid float '{}'", String::from_utf8_lossy(text)),
                        self.span(t.start, t.start),
                    ));
                };
                self.bump()?;
                Ok(Expr::new(ExprKind::Float(f), self.span(t.start, t.end)))
            }
            Tok::Char(b'"') => self.parse_string(),
            Tok::IndStringOpen => self.parse_ind_string(),
            Tok::Path | Tok::HPath => self.parse_path(),
            Tok::SPath => {
                self.bump()?;
                let text = self.text(&t);
                let inner = text[1..text.len() - 1].to_vec();
                Ok(Expr::new(
                    ExprKind::SearchPath(inner),
                    self.span(t.start, t.end),
                ))
            }
            Tok::Uri => {
                self.bump()?;
                let text = self.text(&t).to_vec();
                Ok(Expr::new(
                    ExprKind::Str(vec![StrPart::Literal(text)]),
                    self.span(t.start, t.end),
                ))
            }
            Tok::Char(b'(') => {
                let open = self.tok.start;
                self.bump()?;
                let e = self.parse_expr()?;
                self.expect(Tok::Char(b')'), &[Tok::Char(b')')])?;
                self.paren_start.insert((e.span.start, e.span.end), open);
                Ok(e)
            }
            Tok::Let => {
                // legacy `let { … }`: `(rec { … }).body`
                self.bump()?;
                let open = self.expect(Tok::Char(b'{'), &[Tok::Char(b'{')])?;
                let mut b = self.parse_binds(open.end, Tok::Char(b'}'))?;
                let close = self.tok;
                self.bump()?;
                b.set.recursive = true;
                b.set.open = Some(open.start);
                let span = self.span(start, close.end);
                let set = Expr::new(ExprKind::Attrs(Box::new(b.set)), span);
                let body = self.names.intern(b"body");
                Ok(Expr::new(
                    ExprKind::Select(Box::new(Select {
                        expr: set,
                        path: vec![AttrName::Static(body)],
                        default: None,
                    })),
                    span,
                ))
            }
            Tok::Rec => {
                self.bump()?;
                let open = self.expect(Tok::Char(b'{'), &[Tok::Char(b'{')])?;
                let mut b = self.parse_binds(open.end, Tok::Char(b'}'))?;
                let close = self.tok;
                self.bump()?;
                b.set.recursive = true;
                b.set.open = Some(open.start);
                Ok(Expr::new(
                    ExprKind::Attrs(Box::new(b.set)),
                    self.span(start, close.end),
                ))
            }
            Tok::Char(b'{') => {
                self.bump()?;
                let mut b = self.parse_binds(t.end, Tok::Char(b'}'))?;
                b.set.open = Some(t.start);
                let close = self.tok;
                self.bump()?;
                Ok(Expr::new(
                    ExprKind::Attrs(Box::new(b.set)),
                    self.span(start, close.end),
                ))
            }
            Tok::Char(b'[') => {
                self.bump()?;
                let mut elems = Vec::new();
                while self.tok.kind != Tok::Char(b']') {
                    if !starts_simple(self.tok.kind) {
                        return Err(self.unexpected(&[]));
                    }
                    elems.push(self.parse_select()?);
                }
                let close = self.tok;
                self.bump()?;
                Ok(Expr::new(
                    ExprKind::List(elems),
                    self.span(start, close.end),
                ))
            }
            _ => Err(self.unexpected(&[])),
        }
    }

    /// Bindings up to (not including) `end` (`}` or `in`). `binds_start` is the offset just after
    /// the token before the bindings (CppNix's position of inherited variables).
    fn parse_binds(&mut self, binds_start: u32, end: Tok) -> Result<SetBuilder, ParseError> {
        let mut b = SetBuilder::new(false);
        loop {
            match self.tok.kind {
                k if k == end => return Ok(b),
                Tok::Inherit => {
                    let inherit_tok = self.tok;
                    self.bump()?;
                    let (source, list_pos) = if self.tok.kind == Tok::Char(b'(') {
                        self.bump()?;
                        let e = self.parse_expr()?;
                        let close = self.expect(Tok::Char(b')'), &[Tok::Char(b')')])?;
                        b.set.inherit_from.push(e);
                        (Some(b.set.inherit_from.len() as u32 - 1), close.end)
                    } else {
                        (None, inherit_tok.end)
                    };
                    let pos = self.span(list_pos, list_pos);
                    loop {
                        let (name, name_start) = match self.tok.kind {
                            Tok::Char(b';') => {
                                self.bump()?;
                                break;
                            }
                            Tok::Id | Tok::OrKw => {
                                let t = self.tok;
                                self.bump()?;
                                (self.id_symbol(&t), t.start)
                            }
                            Tok::Char(b'"') | Tok::DollarCurly => {
                                let s = self.tok.start;
                                let e = self.parse_attr()?;
                                match e.name {
                                    AttrName::Static(sym) => (sym, s),
                                    AttrName::Dynamic(_) => {
                                        return Err(ParseError::new(
                                            ParseErrorKind::DynamicAttrNotAllowed,
                                            "dynamic attributes not allowed in inherit".to_string(),
                                            self.span(s, s),
                                        ))
                                    }
                                }
                            }
                            _ => return Err(self.unexpected(&[])),
                        };
                        let _ = name_start;
                        if let Some(i) = b.find(name) {
                            let prev = b.set.attrs[i].span;
                            return Err(self.dup_attr(&self.quote_name(name), pos, prev));
                        }
                        let value = match source {
                            Some(source) => AttrValue::InheritFrom { source },
                            None => AttrValue::Inherit {
                                var_span: self.span(binds_start, binds_start),
                            },
                        };
                        b.push(AttrDef {
                            name,
                            span: pos,
                            value,
                        });
                    }
                }
                Tok::Id | Tok::OrKw | Tok::Char(b'"') | Tok::DollarCurly => {
                    let pos_start = self.tok.start;
                    let path = self.parse_attrpath_binding()?;
                    self.expect(Tok::Char(b'='), &[Tok::Char(b'.'), Tok::Char(b'=')])?;
                    let value = self.parse_expr()?;
                    self.expect(Tok::Char(b';'), &[Tok::Char(b';')])?;
                    let pos = self.span(pos_start, pos_start);
                    self.add_attr(&mut b, path, value, pos)?;
                }
                _ => return Err(self.unexpected(&[])),
            }
        }
    }

    /// An attribute path in a binding: like [`Self::parse_attrpath`], but the error after an
    /// element expects `.` or `=`.
    fn parse_attrpath_binding(&mut self) -> Result<Vec<PathElem>, ParseError> {
        let mut path = Vec::new();
        loop {
            path.push(self.parse_attr()?);
            match self.tok.kind {
                Tok::Char(b'.') => self.bump()?,
                Tok::Char(b'=') => return Ok(path),
                _ => return Err(self.unexpected(&[Tok::Char(b'.'), Tok::Char(b'=')])),
            }
        }
    }

    fn quote_name(&self, s: Symbol) -> String {
        show::attr_name(self.names.resolve(s))
    }

    fn path_string(&self, path: &[PathElem]) -> String {
        let mut out = String::new();
        for (i, p) in path.iter().enumerate() {
            if i > 0 {
                out.push('.');
            }
            match &p.name {
                AttrName::Static(s) => out.push_str(&self.quote_name(*s)),
                AttrName::Dynamic(e) => {
                    out.push_str("\"${");
                    out.push_str(&show::show(e, self.names));
                    out.push_str("}\"");
                }
            }
        }
        out
    }

    fn dup_attr(&self, name: &str, at: Span, prev: Span) -> ParseError {
        ParseError::new(
            ParseErrorKind::DuplicateAttr,
            format!(
                "attribute '{name}' already defined at {}",
                self.pos_in_message(prev)
            ),
            at,
        )
    }

    fn pos_in_message(&self, span: Span) -> String {
        self.map.pos_in_message(span)
    }

    /// CppNix's `addAttr`: inserts `path = value` into `b`, creating and merging nested sets.
    fn add_attr(
        &mut self,
        b: &mut SetBuilder,
        path: Vec<PathElem>,
        value: Expr,
        pos: Span,
    ) -> Result<(), ParseError> {
        let n = path.len();
        let path_str = |p: &Self| p.path_string(&path);
        // Walk/create the intermediate sets. The top level uses the builder's index.
        let mut cur: &mut AttrSet;
        let mut elems = path.iter();
        let first = elems.next().expect("attribute paths are never empty");
        if n == 1 {
            return self.insert_last(b, None, first, value, pos, &path);
        }
        match &first.name {
            AttrName::Static(sym) => match b.find(*sym) {
                Some(i) => {
                    let def = &mut b.set.attrs[i];
                    match &mut def.value {
                        AttrValue::Plain(Expr {
                            kind: ExprKind::Attrs(inner),
                            ..
                        }) => cur = inner,
                        _ => {
                            let prev = def.span;
                            return Err(self.dup_attr(&path_str(self), pos, prev));
                        }
                    }
                }
                None => {
                    b.push(AttrDef {
                        name: *sym,
                        span: pos,
                        value: AttrValue::Plain(Expr::new(
                            ExprKind::Attrs(Box::new(empty_set())),
                            pos,
                        )),
                    });
                    let def = b.set.attrs.last_mut().expect("just pushed");
                    cur = match &mut def.value {
                        AttrValue::Plain(Expr {
                            kind: ExprKind::Attrs(inner),
                            ..
                        }) => inner,
                        _ => unreachable_set(),
                    };
                }
            },
            AttrName::Dynamic(e) => {
                b.set.dynamic.push(DynamicAttr {
                    name: e.clone(),
                    value: Expr::new(ExprKind::Attrs(Box::new(empty_set())), pos),
                    span: pos,
                });
                let d = b.set.dynamic.last_mut().expect("just pushed");
                cur = match &mut d.value.kind {
                    ExprKind::Attrs(inner) => inner,
                    _ => unreachable_set(),
                };
            }
        }
        for (k, elem) in path.iter().enumerate().skip(1) {
            if k == n - 1 {
                break;
            }
            match &elem.name {
                AttrName::Static(sym) => match cur.attrs.iter().position(|a| a.name == *sym) {
                    Some(i) => {
                        let def = &mut cur.attrs[i];
                        match &mut def.value {
                            AttrValue::Plain(Expr {
                                kind: ExprKind::Attrs(inner),
                                ..
                            }) => cur = inner,
                            _ => {
                                let prev = def.span;
                                return Err(self.dup_attr(&path_str(self), pos, prev));
                            }
                        }
                    }
                    None => {
                        cur.attrs.push(AttrDef {
                            name: *sym,
                            span: pos,
                            value: AttrValue::Plain(Expr::new(
                                ExprKind::Attrs(Box::new(empty_set())),
                                pos,
                            )),
                        });
                        let def = cur.attrs.last_mut().expect("just pushed");
                        cur = match &mut def.value {
                            AttrValue::Plain(Expr {
                                kind: ExprKind::Attrs(inner),
                                ..
                            }) => inner,
                            _ => unreachable_set(),
                        };
                    }
                },
                AttrName::Dynamic(e) => {
                    cur.dynamic.push(DynamicAttr {
                        name: e.clone(),
                        value: Expr::new(ExprKind::Attrs(Box::new(empty_set())), pos),
                        span: pos,
                    });
                    let d = cur.dynamic.last_mut().expect("just pushed");
                    cur = match &mut d.value.kind {
                        ExprKind::Attrs(inner) => inner,
                        _ => unreachable_set(),
                    };
                }
            }
        }
        let last = &path[n - 1];
        let mut nested = SetBuilder {
            set: std::mem::replace(cur, empty_set()),
            index: None,
        };
        let r = self.insert_last(&mut nested, None, last, value, pos, &path);
        *cur = nested.set;
        r
    }

    fn insert_last(
        &mut self,
        b: &mut SetBuilder,
        _unused: Option<()>,
        last: &PathElem,
        value: Expr,
        pos: Span,
        path: &[PathElem],
    ) -> Result<(), ParseError> {
        match &last.name {
            AttrName::Static(sym) => match b.find(*sym) {
                Some(i) => {
                    let existing = &mut b.set.attrs[i];
                    let merge = matches!(
                        (&existing.value, &value.kind),
                        (
                            AttrValue::Plain(Expr {
                                kind: ExprKind::Attrs(_),
                                ..
                            }),
                            ExprKind::Attrs(_)
                        )
                    );
                    if !merge {
                        let prev = existing.span;
                        return Err(self.dup_attr(&self.path_string(path), pos, prev));
                    }
                    let mut value = value;
                    let ExprKind::Attrs(mut ae) =
                        std::mem::replace(&mut value.kind, ExprKind::Int(0))
                    else {
                        return Ok(());
                    };
                    let AttrValue::Plain(Expr {
                        kind: ExprKind::Attrs(j),
                        ..
                    }) = &mut existing.value
                    else {
                        return Ok(());
                    };
                    // CppNix merges the static attributes only (dynamic ones of the second set
                    // are dropped); `inherit (e)` sources move along.
                    let base = j.inherit_from.len() as u32;
                    j.inherit_from.append(&mut ae.inherit_from);
                    for mut ad in ae.attrs.drain(..) {
                        if let Some(j2) = j.attrs.iter().find(|a| a.name == ad.name) {
                            let at = j2.span;
                            let name = self.quote_name(ad.name);
                            return Err(self.dup_attr(&name, at, ad.span));
                        }
                        if let AttrValue::InheritFrom { source } = &mut ad.value {
                            *source += base;
                        }
                        j.attrs.push(ad);
                    }
                    Ok(())
                }
                None => {
                    b.push(AttrDef {
                        name: *sym,
                        span: pos,
                        value: AttrValue::Plain(value),
                    });
                    Ok(())
                }
            },
            AttrName::Dynamic(e) => {
                b.set.dynamic.push(DynamicAttr {
                    name: e.clone(),
                    value,
                    span: pos,
                });
                Ok(())
            }
        }
    }

    // ----- strings and paths --------------------------------------------------------------

    /// `"…"` (current token is the opening quote).
    fn parse_string(&mut self) -> Result<Expr, ParseError> {
        let start = self.tok.start;
        self.bump()?;
        let mut parts: Vec<StrPart> = Vec::new();
        loop {
            match self.tok.kind {
                Tok::Str => {
                    let t = self.tok;
                    let mut buf = Vec::with_capacity((t.end - t.start) as usize);
                    unescape_str(self.text(&t), &mut buf);
                    parts.push(StrPart::Literal(buf));
                    self.bump()?;
                    // after a STR, bison only accepts `${` or the closing quote
                }
                Tok::DollarCurly => {
                    self.bump()?;
                    let e = self.parse_expr()?;
                    self.expect(Tok::Char(b'}'), &[Tok::Char(b'}')])?;
                    parts.push(StrPart::Interpolation(e));
                }
                Tok::Char(b'"') => {
                    let end = self.tok.end;
                    self.bump()?;
                    return Ok(Expr::new(ExprKind::Str(parts), self.span(start, end)));
                }
                _ => return Err(self.unexpected(&[Tok::Char(b'"')])),
            }
        }
    }

    /// `''…''` with CppNix's indentation stripping.
    fn parse_ind_string(&mut self) -> Result<Expr, ParseError> {
        let start = self.tok.start;
        self.bump()?;
        let mut parts: Vec<IndPart> = Vec::new();
        let end;
        loop {
            match self.tok.kind {
                Tok::IndStr => {
                    parts.push(IndPart::Raw(self.tok.start, self.tok.end));
                    self.bump()?;
                }
                Tok::IndStrLit => {
                    let t = self.tok;
                    let text = self.text(&t);
                    let lit = match text {
                        b"''$" | b"$" => b"$".to_vec(),
                        b"'''" => b"''".to_vec(),
                        b"'" => b"'".to_vec(),
                        _ => {
                            let mut v = Vec::new();
                            unescape_str(&text[2..], &mut v);
                            v
                        }
                    };
                    parts.push(IndPart::Lit(lit));
                    self.bump()?;
                }
                Tok::DollarCurly => {
                    self.bump()?;
                    let e = self.parse_expr()?;
                    self.expect(Tok::Char(b'}'), &[Tok::Char(b'}')])?;
                    parts.push(IndPart::Interp(e));
                }
                Tok::IndStringClose => {
                    end = self.tok.end;
                    self.bump()?;
                    break;
                }
                _ => {
                    return Err(self.unexpected(&[
                        Tok::IndStr,
                        Tok::DollarCurly,
                        Tok::IndStringClose,
                    ]))
                }
            }
        }
        let span = self.span(start, end);
        Ok(self.strip_indentation(parts, span))
    }

    fn strip_indentation(&self, parts: Vec<IndPart>, span: Span) -> Expr {
        if parts.is_empty() {
            return Expr::new(ExprKind::Str(Vec::new()), span);
        }
        let src = self.src;
        // minimum indentation
        let mut at_sol = true;
        let mut min_indent = usize::MAX;
        let mut cur = 0usize;
        for p in &parts {
            match p {
                IndPart::Raw(s, e) => {
                    for &c in &src[*s as usize..*e as usize] {
                        if at_sol {
                            if c == b' ' {
                                cur += 1;
                            } else if c == b'\n' {
                                cur = 0;
                            } else {
                                at_sol = false;
                                min_indent = min_indent.min(cur);
                            }
                        } else if c == b'\n' {
                            at_sol = true;
                            cur = 0;
                        }
                    }
                }
                _ => {
                    if at_sol {
                        at_sol = false;
                        min_indent = min_indent.min(cur);
                    }
                }
            }
        }
        if min_indent == usize::MAX {
            min_indent = 1_000_000;
        }
        // strip
        let mut out: Vec<StrPart> = Vec::with_capacity(parts.len());
        let mut at_sol = true;
        let mut dropped = 0usize;
        let n = parts.len();
        for (idx, p) in parts.into_iter().enumerate() {
            match p {
                IndPart::Interp(e) => {
                    at_sol = false;
                    dropped = 0;
                    out.push(StrPart::Interpolation(e));
                }
                IndPart::Lit(bytes) => {
                    // hasIndentation = false: copied through the same loop
                    let s2 =
                        strip_piece(&bytes, &mut at_sol, &mut dropped, min_indent, idx + 1 == n);
                    out.push(StrPart::Literal(s2));
                }
                IndPart::Raw(s, e) => {
                    let s2 = strip_piece(
                        &src[s as usize..e as usize],
                        &mut at_sol,
                        &mut dropped,
                        min_indent,
                        idx + 1 == n,
                    );
                    out.push(StrPart::Literal(s2));
                }
            }
        }
        if out.len() == 1 {
            if let StrPart::Interpolation(e) = &out[0] {
                if is_const_string(e).is_some() {
                    if let Some(StrPart::Interpolation(e)) = out.pop() {
                        return e;
                    }
                }
            }
        }
        Expr::new(ExprKind::Str(out), span)
    }

    /// A path literal, possibly interpolated (current token is PATH or HPATH).
    fn parse_path(&mut self) -> Result<Expr, ParseError> {
        let t = self.tok;
        let text = self.text(&t);
        let prefix = if t.kind == Tok::HPath {
            let mut p = self
                .opts
                .home
                .as_ref()
                .map(|h| h.as_os_str().as_bytes().to_vec())
                .unwrap_or_default();
            p.extend_from_slice(&text[1..]);
            p
        } else {
            let mut p = if text.first() == Some(&b'/') {
                canon_path(text)
            } else {
                let mut full = self.opts.base_dir.as_os_str().as_bytes().to_vec();
                full.push(b'/');
                full.extend_from_slice(text);
                canon_path(&full)
            };
            if text.len() > 1 && text.last() == Some(&b'/') {
                p.push(b'/');
            }
            p
        };
        self.bump()?;
        if self.tok.kind == Tok::PathEnd {
            let end = self.tok.start;
            self.bump()?;
            return Ok(Expr::new(
                ExprKind::Path(prefix),
                self.span(t.start, end.max(t.end)),
            ));
        }
        let mut parts = vec![StrPart::Literal(prefix)];
        let mut seen_interp = false;
        loop {
            match self.tok.kind {
                Tok::Str => {
                    let piece = self.text(&self.tok).to_vec();
                    parts.push(StrPart::Literal(piece));
                    self.bump()?;
                    if !seen_interp && self.tok.kind != Tok::DollarCurly {
                        return Err(self.unexpected(&[Tok::DollarCurly]));
                    }
                }
                Tok::DollarCurly => {
                    self.bump()?;
                    let e = self.parse_expr()?;
                    self.expect(Tok::Char(b'}'), &[Tok::Char(b'}')])?;
                    parts.push(StrPart::Interpolation(e));
                    seen_interp = true;
                }
                Tok::PathEnd => {
                    let end = self.tok.start;
                    self.bump()?;
                    return Ok(Expr::new(
                        ExprKind::InterpolatedPath(parts),
                        self.span(t.start, end),
                    ));
                }
                _ => return Err(self.unexpected(&[Tok::PathEnd, Tok::Str, Tok::DollarCurly])),
            }
        }
    }
}

fn strip_piece(
    t: &[u8],
    at_sol: &mut bool,
    dropped: &mut usize,
    min_indent: usize,
    is_last: bool,
) -> Vec<u8> {
    let mut s2 = Vec::with_capacity(t.len());
    for &c in t {
        if *at_sol {
            if c == b' ' {
                if *dropped >= min_indent {
                    s2.push(c);
                }
                *dropped += 1;
            } else if c == b'\n' {
                *dropped = 0;
                s2.push(c);
            } else {
                *at_sol = false;
                *dropped = 0;
                s2.push(c);
            }
        } else {
            s2.push(c);
            if c == b'\n' {
                *at_sol = true;
            }
        }
    }
    if is_last {
        if let Some(p) = s2.iter().rposition(|&c| c == b'\n') {
            if s2[p + 1..].iter().all(|&c| c == b' ') {
                s2.truncate(p + 1);
            }
        }
    }
    s2
}

/// Runs `f` with at least 256 KiB of native stack left, growing the stack on the heap if
/// needed, so deep nesting (up to [`ParseOptions::max_depth`]) never overflows.
#[inline]
pub(crate) fn grow<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(256 * 1024, 4 * 1024 * 1024, f)
}

fn empty_set() -> AttrSet {
    AttrSet {
        recursive: false,
        attrs: Vec::new(),
        dynamic: Vec::new(),
        inherit_from: Vec::new(),
        open: None,
    }
}

#[cold]
fn unreachable_set() -> ! {
    unreachable!("a value just created as an attribute set is an attribute set")
}

/// `strtod` with CppNix's range check: overflow and underflow (including subnormal results)
/// are errors.
fn parse_float(text: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(text).ok()?;
    // Rust's parser does not accept a trailing '.' before an exponent in all versions; normalise.
    let f: f64 = match s.parse() {
        Ok(f) => f,
        Err(_) => {
            let fixed = s.replacen(".e", ".0e", 1).replacen(".E", ".0E", 1);
            fixed.parse().ok()?
        }
    };
    if f.is_infinite() {
        return None;
    }
    if f != 0.0 && f.abs() < f64::MIN_POSITIVE {
        return None;
    }
    if f == 0.0 {
        let mantissa = s.split(['e', 'E']).next().unwrap_or("");
        if mantissa.bytes().any(|c| (b'1'..=b'9').contains(&c)) {
            return None;
        }
    }
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canon() {
        assert_eq!(canon_path(b"/a/../../b//./c/"), b"/b/c");
        assert_eq!(canon_path(b"/"), b"/");
        assert_eq!(canon_path(b"/tmp/."), b"/tmp");
    }

    #[test]
    fn floats() {
        assert_eq!(parse_float(b"1."), Some(1.0));
        assert_eq!(parse_float(b"1.e5"), Some(100000.0));
        assert_eq!(parse_float(b".5"), Some(0.5));
        assert_eq!(parse_float(b"1.0e999"), None);
        assert_eq!(parse_float(b"1.0e-310"), None);
        assert_eq!(parse_float(b"0.0e-400"), Some(0.0));
    }
}
