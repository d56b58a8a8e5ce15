//! The Nix language syntax: lexer, parser, syntax tree, source positions and the
//! `nix-instantiate --parse` printer.
//!
//! The parser accepts the language exactly as CppNix 2.8 does and performs the same parse-time
//! work: nested attribute paths are merged, duplicate attributes and formals are rejected,
//! indented strings are stripped, paths are made absolute, and (with [`check_scopes`]) unbound
//! variables are reported as `undefined variable 'x'`, which CppNix does before evaluation.
//!
//! # Example
//!
//! ```
//! use nix_eval::syntax::{parse, show, Interner, Origin, ParseOptions, SourceMap};
//! let mut map = SourceMap::new();
//! let file = map.add(Origin::String, b"let a = 1; in a + 2".to_vec());
//! let mut names = Interner::new();
//! let expr = parse(&map, file, &mut names, &ParseOptions::new("/tmp"))?;
//! assert_eq!(show(&expr, &names), "(let a = 1; in (a + 2))");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Errors
//!
//! [`ParseError`] carries the CppNix message (`syntax error, unexpected '}', expecting ';'`,
//! `attribute 'a' already defined at (string):1:3`, …) and the span CppNix reports;
//! [`ParseError::render`] prints it with the source excerpt like `nix-instantiate`.

pub mod ast;
mod lexer;
mod parser;
mod scope;
pub mod show;
pub mod span;
pub mod symbol;

pub use ast::Expr;
pub use parser::{parse, ParseOptions};
pub use scope::{check_scopes, BASE_ENV_NAMES};
pub use show::{show, show_bytes};
pub use span::{FileId, LineCol, Origin, SourceFile, SourceMap, Span};
pub use symbol::{Interner, Symbol};

/// Parses like CppNix 2.8 does for `nix-instantiate --parse`: [`parse`] followed by
/// [`check_scopes`] against CppNix's base environment ([`BASE_ENV_NAMES`]).
///
/// # Errors
///
/// The first error CppNix would report (see [`parse`] and [`check_scopes`]).
pub fn parse_and_check(
    map: &SourceMap,
    file: FileId,
    names: &mut Interner,
    opts: &ParseOptions,
) -> Result<Expr, ParseError> {
    let e = parse(map, file, names, opts)?;
    let mut base = vec![false; names.len() + BASE_ENV_NAMES.len()];
    for n in BASE_ENV_NAMES {
        let s = names.intern(n.as_bytes());
        if let Some(slot) = base.get_mut(s.index() as usize) {
            *slot = true;
        }
    }
    check_scopes(&e, names, |s| {
        base.get(s.index() as usize).copied().unwrap_or(false)
    })?;
    Ok(e)
}

/// A parse-time error (syntax errors, and the semantic checks CppNix does while parsing).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// What is wrong.
    pub kind: ParseErrorKind,
    /// The full message as CppNix prints it after `error: `.
    pub message: String,
    /// Where CppNix reports it.
    pub span: Span,
}

/// The kinds of [`ParseError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// A grammar error (`syntax error, unexpected …`).
    Syntax,
    /// Nesting deeper than the parser's limit (CppNix: `memory exhausted`).
    TooDeep,
    /// An integer literal beyond `i64` (`invalid integer '…'`).
    InvalidInteger,
    /// A float literal out of range (`invalid float '…'`).
    InvalidFloat,
    /// `attribute 'a.b' already defined at …`.
    DuplicateAttr,
    /// `duplicate formal function argument 'x'`.
    DuplicateFormal,
    /// `dynamic attributes not allowed in let` / `in inherit`.
    DynamicAttrNotAllowed,
    /// A path ending in `/` (`path '…' has a trailing slash`).
    TrailingSlash,
    /// `undefined variable 'x'` (from [`check_scopes`]).
    UndefinedVariable,
}

impl ParseError {
    pub(crate) fn new(kind: ParseErrorKind, message: String, span: Span) -> Self {
        ParseError {
            kind,
            message,
            span,
        }
    }

    /// The error as `nix-instantiate` prints it: `error: MESSAGE` followed by the excerpt
    /// (see [`SourceMap::excerpt`]); ends with a newline.
    pub fn render(&self, map: &SourceMap) -> String {
        filter_like_cppnix(&format!(
            "error: {}\n{}",
            self.message,
            map.excerpt(self.span)
        ))
    }
}

/// What CppNix's logger does to a message before writing it (`filterANSIEscapes`): drops `\r`
/// and expands each tab to the next multiple of 8 of the number of characters written so far
/// in the whole message (newlines included).
pub fn filter_like_cppnix(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut w = 0usize;
    for c in s.chars() {
        match c {
            '\t' => {
                out.push(' ');
                w += 1;
                while w % 8 != 0 {
                    out.push(' ');
                    w += 1;
                }
            }
            '\r' => {}
            c => {
                out.push(c);
                w += 1;
            }
        }
    }
    out
}
