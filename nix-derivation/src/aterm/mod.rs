//! The ATerm `.drv` format, byte-exact with CppNix 2.8.
//!
//! A `.drv` file is one ATerm with no whitespace (see [facts §4]):
//!
//! ```text
//! drv       := 'Derive(' '[' outputs ']' ',' '[' inputDrvs ']' ',' '[' inputSrcs ']' ','
//!              string ',' string ',' '[' args ']' ',' '[' env ']' ')'
//! outputs   := ( '(' name ',' path ',' hashAlgo ',' hash ')' ) separated by ','   sorted by name
//! inputDrvs := ( '(' drvPath ',' '[' name,… ']' ')' ) separated by ','          sorted by path
//! inputSrcs := path separated by ','                                            sorted
//! args      := string separated by ','
//! env       := ( '(' key ',' value ')' ) separated by ','                       sorted by key
//! string    := '"' ( byte other than '"' and '\' | '\' byte )* '"'
//! ```
//!
//! * Escapes (module [`escape`]): `"`→`\"`, `\`→`\\`, LF→`\n`, CR→`\r`, TAB→`\t`; every other
//!   byte raw. CppNix writes output names, store paths, hash algorithms and the platform
//!   *without* escaping, and so do we.
//! * Output tuples: input-addressed `("out","/nix/store/…","","")`, fixed
//!   `("out","/nix/store/…","r:sha256","<base16>")` (flat: `"sha256"`), floating
//!   `("out","","r:sha256","")`, deferred `("out","","","")`, impure
//!   `("out","","r:sha256","impure")`.
//!
//! # Differences from CppNix's parser
//! We are stricter where CppNix is sloppy, and never accept something CppNix would reject:
//! * list separators are required (CppNix accepts `["a""b"]` and `[,"a"]`);
//! * duplicate outputs, input derivations, input sources, output names and environment keys
//!   are errors (CppNix silently keeps one);
//! * bytes after the closing `)` are an error;
//! * output names must be UTF-8, and inputs of the size limit in [`ParseOptions`] are refused.
//!
//! Unsorted lists are accepted (as CppNix does); printing sorts them.
//!
//! [facts §4]: ../../../shared/docs/nix-facts.md

pub mod escape;
pub(crate) mod parse;
pub(crate) mod write;

use std::fmt;

use nix_store::store_path::StoreDir;

use crate::derivation::Derivation;

/// What the parser expected to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expected {
    /// A fixed token such as `Derive(`, `,` or `[`.
    Literal(&'static str),
    /// A quoted string.
    String,
    /// `,` or `]` after a list element.
    CommaOrEnd,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::Literal(lit) => write!(f, "'{lit}'"),
            Expected::String => f.write_str("a string"),
            Expected::CommaOrEnd => f.write_str("',' or ']'"),
        }
    }
}

/// Why a `.drv` could not be parsed. Every variant says where (a byte offset into the input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Something else than what the grammar allows here.
    #[error("expected {expected} at byte {offset}")]
    Unexpected {
        /// Byte offset.
        offset: usize,
        /// What would have been valid.
        expected: Expected,
    },
    /// The input ended early.
    #[error("unexpected end of input at byte {offset}, expected {expected}")]
    UnexpectedEof {
        /// Byte offset (the input length).
        offset: usize,
        /// What would have been valid.
        expected: Expected,
    },
    /// A string literal without its closing quote.
    #[error("unterminated string starting at byte {offset}")]
    UnterminatedString {
        /// Offset of the opening quote.
        offset: usize,
    },
    /// Bytes after the end of the derivation.
    #[error("trailing data at byte {offset}")]
    TrailingData {
        /// Offset of the first extra byte.
        offset: usize,
    },
    /// A string that must be UTF-8 (an output name, a path, a hash) is not.
    #[error("string at byte {offset} is not valid UTF-8")]
    NotUtf8 {
        /// Offset of the string.
        offset: usize,
    },
    /// A store path that does not parse.
    #[error("invalid store path at byte {offset}")]
    StorePath {
        /// Offset of the string.
        offset: usize,
        /// Why.
        #[source]
        source: nix_store::store_path::StorePathError,
    },
    /// An unknown hash algorithm in an output.
    #[error("unknown hash algorithm '{name}' at byte {offset}")]
    UnknownHashAlgo {
        /// Offset of the string.
        offset: usize,
        /// The algorithm name (without `r:`).
        name: String,
    },
    /// A fixed output's hash that does not parse.
    #[error("invalid output hash at byte {offset}")]
    Hash {
        /// Offset of the string.
        offset: usize,
        /// Why.
        #[source]
        source: nix_store::hash::ParseHashError,
    },
    /// An output tuple whose fields do not fit together.
    #[error("invalid output at byte {offset}: {reason}")]
    InvalidOutput {
        /// Offset of the offending field.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// The same name twice in a map or set.
    #[error(
        "duplicate {what} '{}' at byte {offset}",
        String::from_utf8_lossy(name)
    )]
    Duplicate {
        /// Offset of the second occurrence.
        offset: usize,
        /// Which collection.
        what: &'static str,
        /// The repeated name.
        name: Vec<u8>,
    },
    /// The input is larger than [`ParseOptions::max_size`].
    #[error("derivation is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// The input size.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

impl ParseError {
    /// The byte offset the error refers to.
    pub fn offset(&self) -> usize {
        match self {
            ParseError::Unexpected { offset, .. }
            | ParseError::UnexpectedEof { offset, .. }
            | ParseError::UnterminatedString { offset }
            | ParseError::TrailingData { offset }
            | ParseError::NotUtf8 { offset }
            | ParseError::StorePath { offset, .. }
            | ParseError::UnknownHashAlgo { offset, .. }
            | ParseError::Hash { offset, .. }
            | ParseError::InvalidOutput { offset, .. }
            | ParseError::Duplicate { offset, .. } => *offset,
            ParseError::TooLarge { .. } => 0,
        }
    }
}

/// Knobs of the parser.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// The largest input accepted, in bytes (default 256 MiB; real `.drv` files are at most a
    /// few MiB).
    pub max_size: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            max_size: 256 << 20,
        }
    }
}

/// Parses a `.drv` file.
///
/// # Errors
/// A [`ParseError`] saying what was expected at which byte offset.
///
/// # Example
/// ```
/// use nix_derivation::aterm;
/// use nix_derivation::store::store_path::StoreDir;
///
/// let err = aterm::parse(b"Derive([(", &StoreDir::default(), &Default::default()).unwrap_err();
/// assert_eq!(err.offset(), 9);
/// ```
pub fn parse(
    input: &[u8],
    store_dir: &StoreDir,
    options: &ParseOptions,
) -> Result<Derivation, ParseError> {
    parse::derivation(input, store_dir, options)
}

/// Prints a derivation in CppNix's `.drv` format.
pub fn print(drv: &Derivation, store_dir: &StoreDir) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    write::derivation(&mut out, drv, store_dir, write::WriteMode::default());
    out
}

/// Prints a derivation with its output paths, and the environment variables named like its
/// outputs, replaced by empty strings (CppNix's `unparse(maskOutputs = true)`).
pub fn print_masked(drv: &Derivation, store_dir: &StoreDir) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    write::derivation(
        &mut out,
        drv,
        store_dir,
        write::WriteMode {
            mask_outputs: true,
            input_replacement: None,
        },
    );
    out
}
