//! Evaluation errors.
//!
//! [`Error`] is one boxed pointer (so `Result<Value, Error>` stays small on the hot paths) holding
//! the [`ErrorKind`], the message CppNix would print after `error: `, an optional source position,
//! "Did you mean …?" suggestions and the `… while evaluating …` trace frames.
//!
//! Catchable errors (`throw`, failed `assert`) are the ones `builtins.tryEval` catches; every
//! other kind is fatal for `tryEval`.

use std::fmt;

use crate::diagnostic::Pos;

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `throw` (catchable by `tryEval`).
    Throw,
    /// A failed `assert` (catchable by `tryEval`).
    Assert,
    /// `abort`.
    Abort,
    /// A value of the wrong type.
    Type,
    /// A missing attribute.
    MissingAttr,
    /// An undefined variable (found when lowering).
    UndefinedVar,
    /// A syntax error.
    Parse,
    /// `infinite recursion encountered`.
    InfiniteRecursion,
    /// The evaluation nested too deeply.
    StackOverflow,
    /// A file or store operation failed.
    Io,
    /// Any other evaluation error (bad arguments, out of bounds, division by zero, …).
    Eval,
    /// CppNix's `UsageError` (an unknown hash algorithm): printed without a position, and
    /// the command adds `Try '<program> --help' for more information.`.
    Usage,
}

impl ErrorKind {
    /// Whether `builtins.tryEval` catches this kind.
    pub fn is_catchable(self) -> bool {
        matches!(self, ErrorKind::Throw | ErrorKind::Assert)
    }
}

/// One `… while evaluating …` frame.
#[derive(Debug, Clone)]
pub struct TraceFrame {
    /// The text after `… `.
    pub message: String,
    /// Where, if known.
    pub pos: Option<Pos>,
}

#[derive(Debug, Clone)]
struct Inner {
    kind: ErrorKind,
    message: String,
    pos: Option<Pos>,
    suggestions: Vec<String>,
    trace: Vec<TraceFrame>,
    exit_status: i32,
}

/// An evaluation error: kind, message, position, suggestions and trace, behind one pointer.
#[derive(Clone)]
pub struct Error(Box<Inner>);

impl Error {
    /// A new error of `kind` with CppNix's message text (without the `error: ` prefix).
    #[cold]
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error(Box::new(Inner {
            kind,
            message: message.into(),
            pos: None,
            suggestions: Vec::new(),
            trace: Vec::new(),
            exit_status: 1,
        }))
    }

    /// Sets the exit status CppNix's commands end with for this error (1 unless set; 102 for a
    /// hash mismatch in a fetcher, as CppNix 2.8).
    #[cold]
    pub fn with_exit_status(mut self, status: i32) -> Self {
        self.0.exit_status = status;
        self
    }

    /// The exit status for this error (see [`Error::with_exit_status`]).
    pub fn exit_status(&self) -> i32 {
        self.0.exit_status
    }

    /// A generic evaluation error.
    #[cold]
    pub fn eval(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Eval, message)
    }

    /// A type error.
    #[cold]
    pub fn type_error(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Type, message)
    }

    /// Sets the position if none is set yet.
    #[cold]
    pub fn at(mut self, pos: Pos) -> Self {
        if self.0.pos.is_none() {
            self.0.pos = Some(pos);
        }
        self
    }

    /// Sets the position if none is set yet (for an optional position).
    #[cold]
    pub fn at_opt(self, pos: Option<Pos>) -> Self {
        match pos {
            Some(p) => self.at(p),
            None => self,
        }
    }

    /// Adds suggestions ("Did you mean …?").
    #[cold]
    pub fn with_suggestions(mut self, s: Vec<String>) -> Self {
        self.0.suggestions = s;
        self
    }

    /// Adds a trace frame (innermost frames are added first).
    #[cold]
    pub fn add_trace(mut self, pos: Option<Pos>, message: impl Into<String>) -> Self {
        self.0.trace.push(TraceFrame {
            message: message.into(),
            pos,
        });
        self
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The message (what CppNix prints after `error: `).
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The position, if known.
    pub fn pos(&self) -> Option<Pos> {
        self.0.pos
    }

    /// The suggestions for "Did you mean …?".
    pub fn suggestions(&self) -> &[String] {
        &self.0.suggestions
    }

    /// The trace frames, innermost first.
    pub fn trace(&self) -> &[TraceFrame] {
        &self.0.trace
    }

    /// Whether `tryEval` catches this error.
    pub fn is_catchable(&self) -> bool {
        self.0.kind.is_catchable()
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.0.kind)
            .field("message", &self.0.message)
            .field("pos", &self.0.pos)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for Error {}

/// The result type of evaluation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_one_pointer() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
        assert_eq!(
            std::mem::size_of::<Result<u64>>(),
            2 * std::mem::size_of::<usize>()
        );
    }

    #[test]
    fn catchable_kinds() {
        assert!(Error::new(ErrorKind::Throw, "x").is_catchable());
        assert!(Error::new(ErrorKind::Assert, "x").is_catchable());
        assert!(!Error::new(ErrorKind::Abort, "x").is_catchable());
        assert!(!Error::eval("x").is_catchable());
    }
}
