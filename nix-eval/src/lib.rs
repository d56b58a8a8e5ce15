//! The Nix language.
//!
//! Parser, lazy evaluator, every builtin of CppNix 2.8, string context, derivations and imports,
//! with output and errors matching `nix-instantiate`.
//!
//! # Examples
//!
//! ```
//! use nix_eval::Evaluator;
//! let mut ev = Evaluator::builder().build();
//! let v = ev.eval_expr("let f = x: x * 2; in [ (f 21) ]", "/tmp")?;
//! let v = ev.force_deep(&v)?;
//! assert_eq!(ev.print(&v), "[ 42 ]");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Design (evaluator)
//!
//! The syntax tree is lowered to an IR whose variables are resolved to
//! `(environment level, slot)` pairs; only names under `with` are looked up at run time.
//! Values are 16 bytes ([`value::Value`]); thunks are updated in place and blackholed while
//! being forced (`infinite recursion encountered`). Deep recursion grows the native stack on
//! demand and ends with a `stack overflow` error at a fixed depth, never a crash. Memory is
//! reference counted: cycles created by `rec`/`let` leak until the process exits.
//!
//! # Errors
//!
//! [`Error`] is one pointer: kind, message, position, suggestions and trace. Render it with
//! [`Evaluator::render_error`] to get exactly what `nix-instantiate` prints.
//!
//! # Compatibility with CppNix
//!
//! Output and error texts follow CppNix 2.8. Derivations and store builtins go through
//! [`store::EvalStore`] (read-only by default, read-write with [`EvaluatorBuilder::store`]);
//! [`instantiate`] finds and instantiates the derivations of a value as `nix-instantiate`
//! does. See [`builtins`] for what is not implemented.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub use nix_derivation as derivation;

pub mod builtins;
pub mod diagnostic;
pub mod error;
pub mod eval;
pub mod fetch;
pub mod instantiate;
pub mod io;
pub(crate) mod lower;
pub mod print;
pub mod store;
pub mod support;
pub mod syntax;
pub mod value;

use std::path::{Path, PathBuf};

pub use error::{Error, ErrorKind, Result};
pub use eval::{EvalState, Settings};
pub use value::Value;

/// Builds an [`Evaluator`].
#[derive(Debug, Default)]
pub struct EvaluatorBuilder {
    settings: Settings,
    io: Option<Box<dyn io::EvalIo>>,
    store: Option<Box<dyn store::EvalStore>>,
}

impl std::fmt::Debug for dyn io::EvalIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EvalIo")
    }
}

impl EvaluatorBuilder {
    /// Adds a search path entry (`-I prefix=path` or `-I path` with an empty prefix).
    pub fn search_path(mut self, prefix: impl Into<String>, path: impl Into<String>) -> Self {
        self.settings.search_path.push((prefix.into(), path.into()));
        self
    }

    /// Sets the store directory (default `/nix/store`).
    pub fn store_dir(mut self, dir: impl Into<String>) -> Self {
        self.settings.store_dir = dir.into();
        self
    }

    /// Pure evaluation (no `currentTime`, empty `getEnv`).
    pub fn pure(mut self, pure: bool) -> Self {
        self.settings.pure = pure;
        self
    }

    /// Collects call traces for `--show-trace`.
    pub fn show_trace(mut self, on: bool) -> Self {
        self.settings.show_trace = on;
        self
    }

    /// The home directory for `~/…` paths.
    pub fn home(mut self, home: impl Into<PathBuf>) -> Self {
        self.settings.home = Some(home.into());
        self
    }

    /// How long (in seconds) an unpinned download stays fresh in the fetcher cache: CppNix's
    /// `tarball-ttl` setting, default 3600; 0 revalidates every time.
    pub fn tarball_ttl(mut self, secs: u64) -> Self {
        self.settings.tarball_ttl = secs;
        self
    }

    /// How many times a fetcher tries a download that fails transiently: CppNix's
    /// `download-attempts` setting, default 5.
    pub fn download_attempts(mut self, n: u32) -> Self {
        self.settings.download_attempts = n;
        self
    }

    /// The I/O backend (default: the real file system).
    pub fn io(mut self, io: Box<dyn io::EvalIo>) -> Self {
        self.io = Some(io);
        self
    }

    /// The store (default: [`store::ComputeOnly`] at the store directory: paths are computed,
    /// nothing is written). Its store directory replaces [`EvaluatorBuilder::store_dir`].
    pub fn store(mut self, store: Box<dyn store::EvalStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Builds the evaluator.
    pub fn build(mut self) -> Evaluator {
        let io = self.io.unwrap_or_else(|| Box::new(io::RealIo));
        let state = match self.store {
            Some(store) => {
                self.settings.store_dir = store.store_dir().as_str().to_string();
                let io: Box<dyn io::EvalIo> = match store.real_store_dir() {
                    Some(real) => {
                        Box::new(store::DivertedIo::new(io, store.store_dir().as_str(), real))
                    }
                    None => io,
                };
                EvalState::with_store(self.settings, io, store)
            }
            None => EvalState::new(self.settings, io),
        };
        Evaluator { state }
    }
}

/// A Nix evaluator: one symbol table, import cache and source map for many evaluations.
#[derive(Debug)]
pub struct Evaluator {
    state: EvalState,
}

impl Evaluator {
    /// A builder with default settings.
    pub fn builder() -> EvaluatorBuilder {
        EvaluatorBuilder::default()
    }

    /// Evaluates an expression (as `-E`) to weak head normal form; relative paths are
    /// resolved against `base_dir`.
    ///
    /// # Errors
    /// Syntax, undefined variables and evaluation errors.
    pub fn eval_expr(&mut self, expr: &str, base_dir: impl AsRef<Path>) -> Result<Value> {
        let base_dir = base_dir.as_ref();
        eval::with_big_stack(|| {
            self.state.eval_source(
                syntax::Origin::String,
                expr.as_bytes().to_vec(),
                base_dir,
                None,
            )
        })
    }

    /// Evaluates a file (or `default.nix` in a directory), as `import` does.
    ///
    /// # Errors
    /// Missing file, syntax and evaluation errors.
    pub fn eval_file(&mut self, path: impl AsRef<Path>) -> Result<Value> {
        let path = path.as_ref();
        eval::with_big_stack(|| self.state.import_path(path, None))
    }

    /// Forces a value to weak head normal form.
    ///
    /// # Errors
    /// Evaluation errors.
    pub fn force(&mut self, v: &Value) -> Result<Value> {
        eval::with_big_stack(|| self.state.force(v))
    }

    /// Forces a value and everything inside it.
    ///
    /// # Errors
    /// Evaluation errors.
    pub fn force_deep(&mut self, v: &Value) -> Result<Value> {
        eval::with_big_stack(|| self.state.force_deep(v))
    }

    /// Runs `f` on a large stack segment (see [`eval::BIG_STACK`]): use it around several
    /// lower-level calls on [`Evaluator::state`] in a row.
    pub fn with_big_stack<R>(&mut self, f: impl FnOnce(&mut Evaluator) -> R) -> R {
        eval::with_big_stack(|| f(self))
    }

    /// Prints a value as `nix-instantiate --eval` does (no final newline).
    pub fn print(&self, v: &Value) -> String {
        String::from_utf8_lossy(&print::print_value(&self.state, v)).into_owned()
    }

    /// Renders an error exactly as `nix-instantiate` prints it (ends with a newline).
    pub fn render_error(&self, e: &Error) -> String {
        self.state.render_error(e)
    }

    /// The underlying state, for the lower-level API (printing, JSON, XML, calls).
    pub fn state(&mut self) -> &mut EvalState {
        &mut self.state
    }
}
