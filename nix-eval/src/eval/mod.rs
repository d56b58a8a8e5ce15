//! The evaluator: walks the lowered IR lazily.
//!
//! [`EvalState`] owns the symbol table, the sources, the global scope, the import cache and
//! the [`crate::io::EvalIo`] backend. [`EvalState::eval`] evaluates an IR node to weak head
//! normal form; [`EvalState::force`] forces a possibly-thunk value.
//!
//! Deep recursion grows the native stack on demand (`stacker`) and stops with a clean
//! `stack overflow` error at [`MAX_DEPTH`] nested evaluations.

pub(crate) mod env;
mod ops;

use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

use crate::diagnostic::{self, Pos};
use crate::error::{Error, ErrorKind, Result};
use crate::io::EvalIo;
use crate::lower::ir::{AttrKey, BinOp, Expr, ExprRef};
use crate::syntax::{FileId, Interner, SourceMap, Symbol};
use crate::value::{
    Attr, Attrs, AttrsBuilder, Closure, NixString, PrimOpApp, Thunk, ThunkState, Value,
};
use env::Env;

/// A call of a [`crate::lower::ir::Lambda::frameless`] lambda being evaluated by
/// [`EvalState::eval_frame`]: its argument, its closure's environment, and its own
/// environment once something needed it.
struct Frame<'a, const S: u32> {
    /// The argument (`args[0]`); for a curried call `a: b: …` made at once
    /// ([`EvalState::call_frameless2`], `S` = 2 levels instead of 1) also the outer
    /// lambda's argument (`args[1]`).
    args: [&'a Value; 2],
    outer: &'a Rc<Env>,
    env: Option<Rc<Env>>,
}

/// Nested evaluations allowed before `stack overflow` is reported.
pub const MAX_DEPTH: usize = 1_000_000;

/// Size of the stack segment the public entry points evaluate on (reserved, committed only
/// as it is touched). Keeping one big segment avoids re-mapping stack pages when deep
/// recursion goes up and down repeatedly; deeper recursion still grows in 16 MiB segments.
pub const BIG_STACK: usize = 1 << 30;

/// Most environments (and thunks) kept in [`EvalState`]'s pools: enough for the frames of a
/// 10^4-deep recursion to be reused by the next one, at most ~2 MiB.
const ENV_POOL: usize = 1 << 14;

/// Stack that must be left when a call or a thunk starts evaluating; below it `stacker`
/// switches to a new segment of [`STACK_SEGMENT`] bytes.
const RED_ZONE: usize = 128 * 1024;

/// Size of the stack segments added when deep recursion runs out of stack.
const STACK_SEGMENT: usize = 16 * 1024 * 1024;

/// The address of a local of the caller's frame (an approximation of the stack pointer).
#[inline(always)]
fn stack_pointer() -> usize {
    let here = 0u8;
    std::ptr::addr_of!(here) as usize
}

/// Runs `f` on a stack segment of [`BIG_STACK`] bytes unless already on one.
pub fn with_big_stack<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(BIG_STACK / 4, BIG_STACK, f)
}

/// Symbols the evaluator needs by name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KnownSymbols {
    pub out_path: Symbol,
    pub type_: Symbol,
    pub to_string: Symbol,
    pub functor: Symbol,
    pub name: Symbol,
    pub value: Symbol,
    pub key: Symbol,
    pub success: Symbol,
    pub right: Symbol,
    pub wrong: Symbol,
    pub file: Symbol,
    pub line: Symbol,
    pub column: Symbol,
    pub start_set: Symbol,
    pub operator: Symbol,
    pub path: Symbol,
    pub prefix: Symbol,
    pub version: Symbol,
}

impl KnownSymbols {
    fn new(s: &mut Interner) -> Self {
        KnownSymbols {
            out_path: s.intern(b"outPath"),
            type_: s.intern(b"type"),
            to_string: s.intern(b"__toString"),
            functor: s.intern(b"__functor"),
            name: s.intern(b"name"),
            value: s.intern(b"value"),
            key: s.intern(b"key"),
            success: s.intern(b"success"),
            right: s.intern(b"right"),
            wrong: s.intern(b"wrong"),
            file: s.intern(b"file"),
            line: s.intern(b"line"),
            column: s.intern(b"column"),
            start_set: s.intern(b"startSet"),
            operator: s.intern(b"operator"),
            path: s.intern(b"path"),
            prefix: s.intern(b"prefix"),
            version: s.intern(b"version"),
        }
    }
}

/// Evaluator settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The store directory (`/nix/store`).
    pub store_dir: String,
    /// Search path entries (`-I`, then `NIX_PATH`): `(prefix, path)`; an empty prefix matches
    /// everything.
    pub search_path: Vec<(String, String)>,
    /// `builtins.currentSystem`.
    pub system: String,
    /// Whether errors collect `… while evaluating` frames for calls (`--show-trace`).
    pub show_trace: bool,
    /// Pure evaluation mode (no `currentTime`, `getEnv` returns "").
    pub pure: bool,
    /// The home directory for `~/…` paths.
    pub home: Option<PathBuf>,
    /// Seconds an unpinned download stays fresh in the fetcher cache (CppNix's `tarball-ttl`).
    pub tarball_ttl: u64,
    /// How many times a fetcher tries a download (CppNix's `download-attempts`, default 5).
    pub download_attempts: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            store_dir: "/nix/store".into(),
            search_path: Vec::new(),
            system: "x86_64-linux".into(),
            show_trace: false,
            pure: false,
            home: None,
            tarball_ttl: 3600,
            download_attempts: 5,
        }
    }
}

/// The state of one evaluation.
pub struct EvalState {
    pub(crate) symbols: Interner,
    pub(crate) sources: SourceMap,
    pub(crate) settings: Settings,
    pub(crate) io: Box<dyn EvalIo>,
    /// The global scope: name → value (lowering turns references into constants).
    pub(crate) globals: HashMap<Symbol, Value>,
    pub(crate) builtins: Value,
    /// One-slot environments of finished calls that nothing captured, reused by the next
    /// calls instead of a free and a malloc each.
    env_pool: Vec<Rc<Env>>,
    /// Thunks that were the argument of such a call and nothing else held, reused by `delay`.
    thunk_pool: Vec<Thunk>,
    pub(crate) import_cache: HashMap<PathBuf, Value>,
    pub(crate) sym: KnownSymbols,
    pub(crate) regex_cache: HashMap<Vec<u8>, Rc<crate::support::regex::Regex>>,
    /// The store (see [`crate::store`]); an `Rc` so a builtin can hold it while calling back
    /// into the evaluator.
    pub(crate) store: Rc<crate::store::StoreState>,
    depth: usize,
    /// The part of the current stack segment known to have at least [`RED_ZONE`] bytes
    /// left below it: a call whose stack pointer is in `stack_floor..=stack_ceil` needs no
    /// `stacker` check (see [`EvalState::guarded`]). Empty until the first check.
    stack_floor: usize,
    stack_ceil: usize,
}

impl std::fmt::Debug for EvalState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvalState")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// `value is X while Y was expected`.
#[cold]
pub(crate) fn type_expected(v: &Value, what: &str) -> Error {
    Error::type_error(format!(
        "value is {} while {} was expected",
        v.show_type(),
        what
    ))
}

impl EvalState {
    /// A new evaluator with the given settings and I/O backend.
    pub fn new(settings: Settings, io: Box<dyn EvalIo>) -> Self {
        let dir =
            nix_store::store_path::StoreDir::new(settings.store_dir.clone()).unwrap_or_default();
        let store = Box::new(crate::store::ComputeOnly::new(dir));
        Self::with_store(settings, io, store)
    }

    /// A new evaluator with the given settings, I/O backend and store.
    pub fn with_store(
        settings: Settings,
        io: Box<dyn EvalIo>,
        store: Box<dyn crate::store::EvalStore>,
    ) -> Self {
        let mut symbols = Interner::new();
        let sym = KnownSymbols::new(&mut symbols);
        let mut st = EvalState {
            symbols,
            sources: SourceMap::new(),
            settings,
            io,
            globals: HashMap::new(),
            builtins: Value::Null,
            env_pool: Vec::new(),
            thunk_pool: Vec::new(),
            import_cache: HashMap::new(),
            sym,
            regex_cache: HashMap::new(),
            store: Rc::new(crate::store::StoreState::new(store)),
            depth: 0,
            stack_floor: usize::MAX,
            stack_ceil: 0,
        };
        crate::builtins::install(&mut st);
        st
    }

    /// The symbol table.
    pub fn symbols(&self) -> &Interner {
        &self.symbols
    }

    /// The source map (for rendering errors).
    pub fn sources(&self) -> &SourceMap {
        &self.sources
    }

    /// Interns a name.
    pub fn intern(&mut self, name: &[u8]) -> Symbol {
        self.symbols.intern(name)
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Renders an error as `nix-instantiate` prints it.
    pub fn render_error(&self, err: &Error) -> String {
        diagnostic::render_error(&self.sources, err, self.settings.show_trace)
    }

    /// Describes a position for use inside messages (`(string):1:2`).
    pub(crate) fn describe_pos(&self, pos: Pos) -> String {
        diagnostic::describe(&self.sources, pos)
    }

    /// Counts one more level of evaluation depth, or fails with CppNix's "stack overflow" (at
    /// `pos`) when that would pass [`MAX_DEPTH`]. Every successful `enter` is paired with a
    /// `self.depth -= 1` when the level is left.
    #[inline(always)]
    fn enter(&mut self, pos: Option<Pos>) -> Result<()> {
        if self.depth >= MAX_DEPTH {
            return Err(Error::new(ErrorKind::StackOverflow, "stack overflow").at_opt(pos));
        }
        self.depth += 1;
        Ok(())
    }

    /// Runs `f` with at least [`RED_ZONE`] bytes of native stack. The common case (the stack
    /// pointer inside the range the last `stacker` check vouched for) costs two compares
    /// instead of a thread-local read and a call.
    #[inline(always)]
    fn guarded<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> R {
        let sp = stack_pointer();
        if sp >= self.stack_floor && sp <= self.stack_ceil {
            return f(self);
        }
        self.guarded_slow(f)
    }

    #[inline(never)]
    fn guarded_slow<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> R {
        let saved = (self.stack_floor, self.stack_ceil);
        let r = stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, || {
            let sp = stack_pointer();
            // the range of this segment where RED_ZONE bytes are still left below
            match stacker::remaining_stack() {
                Some(left) if left > RED_ZONE && sp > left - RED_ZONE => {
                    self.stack_floor = sp - (left - RED_ZONE);
                    self.stack_ceil = sp;
                }
                _ => {
                    self.stack_floor = usize::MAX;
                    self.stack_ceil = 0;
                }
            }
            f(self)
        });
        (self.stack_floor, self.stack_ceil) = saved;
        r
    }

    // ----- thunks and forcing -----

    /// A value for `e` in `env` without evaluating it: variables are shared, constants and
    /// lambdas are made directly, everything else becomes a thunk.
    #[inline]
    pub(crate) fn delay(&mut self, env: &Rc<Env>, e: &ExprRef) -> Value {
        match &**e {
            Expr::Const(v) => v.clone(),
            Expr::Var { level, slot, .. } => match env.up(*level).get(*slot as usize) {
                Some(v) => v.clone(),
                // a recursive binding not filled yet: delay the lookup itself
                None => self.new_thunk(ThunkState::Pending(env.clone(), e.clone())),
            },
            Expr::Lambda(l) => Value::Lambda(Rc::new(Closure {
                lambda: l.clone(),
                env: env.clone(),
            })),
            Expr::Bin { op, lhs, rhs, .. } => match eager_int_bin(env, *op, lhs, rhs) {
                Some(v) => self.new_thunk(ThunkState::Eager(v)),
                None => self.new_thunk(ThunkState::Pending(env.clone(), e.clone())),
            },
            Expr::Concat {
                parts,
                force_string: false,
                ..
            } => match &parts[..] {
                [(a, _), (b, _)] => match (known_int(env, a), known_int(env, b)) {
                    (Some(x), Some(y)) => {
                        self.new_thunk(ThunkState::Eager(Value::Int(x.wrapping_add(y))))
                    }
                    _ => self.new_thunk(ThunkState::Pending(env.clone(), e.clone())),
                },
                _ => self.new_thunk(ThunkState::Pending(env.clone(), e.clone())),
            },
            _ => self.new_thunk(ThunkState::Pending(env.clone(), e.clone())),
        }
    }

    /// The argument `e` for a lambda whose body forces its argument before anything can take
    /// hold of it (`Lambda::strict_arg`): an integer result that [`EvalState::delay`] would
    /// compute ahead into an `Eager` thunk is passed as a plain value instead (no thunk is
    /// made; nothing can see the difference, since the callee forces it first).
    #[inline]
    fn delay_strict_arg(&mut self, env: &Rc<Env>, e: &ExprRef) -> Value {
        match &**e {
            Expr::Bin { op, lhs, rhs, .. } => match eager_int_bin(env, *op, lhs, rhs) {
                Some(v) => v,
                None => self.new_thunk(ThunkState::Pending(env.clone(), e.clone())),
            },
            Expr::Concat {
                parts,
                force_string: false,
                ..
            } => match &parts[..] {
                [(a, _), (b, _)] => match (known_int(env, a), known_int(env, b)) {
                    (Some(x), Some(y)) => Value::Int(x.wrapping_add(y)),
                    _ => self.new_thunk(ThunkState::Pending(env.clone(), e.clone())),
                },
                _ => self.new_thunk(ThunkState::Pending(env.clone(), e.clone())),
            },
            _ => self.delay(env, e),
        }
    }

    /// A thunk in `state`, reusing a pooled allocation when there is one.
    #[inline]
    fn new_thunk(&mut self, state: ThunkState) -> Value {
        if let Some(mut t) = self.thunk_pool.pop() {
            if let Some(cell) = Rc::get_mut(&mut t.0) {
                *cell.get_mut() = state;
                return Value::Thunk(t);
            }
        }
        Value::Thunk(Thunk(Rc::new(std::cell::RefCell::new(state))))
    }

    /// Evaluates `e`, reading constants and already evaluated variables without a call.
    #[inline(always)]
    fn eval_leaf(&mut self, env: &Rc<Env>, e: &Expr) -> Result<Value> {
        match e {
            Expr::Const(v) => Ok(v.clone()),
            Expr::Var { level, slot, pos } => match env.up(*level).get(*slot as usize) {
                Some(Value::Thunk(t)) => self.force_thunk(t).map_err(|e| fix_recursion(e, *pos)),
                Some(v) => Ok(v.clone()),
                None => self.eval(env, e),
            },
            Expr::Call { func, args, pos } => self.eval_call_counted(env, func, args, *pos),
            _ => self.eval(env, e),
        }
    }

    /// Forces a value to weak head normal form.
    #[inline]
    pub fn force(&mut self, v: &Value) -> Result<Value> {
        match v {
            Value::Thunk(t) => self.force_thunk(t),
            other => Ok(other.clone()),
        }
    }

    /// Forces a thunk, updating it in place.
    #[inline]
    pub(crate) fn force_thunk(&mut self, t: &Thunk) -> Result<Value> {
        if let Ok(mut b) = t.0.try_borrow_mut() {
            match &mut *b {
                ThunkState::Done(v) => return Ok(v.clone()),
                ThunkState::Eager(v) => {
                    let v = std::mem::replace(v, Value::Null);
                    *b = ThunkState::Done(v.clone());
                    return Ok(v);
                }
                _ => {}
            }
        }
        self.force_thunk_slow(t)
    }

    #[inline(never)]
    fn force_thunk_slow(&mut self, t: &Thunk) -> Result<Value> {
        let state = {
            let mut b = t.0.borrow_mut();
            match &mut *b {
                ThunkState::Done(v) => return Ok(v.clone()),
                ThunkState::Eager(v) => {
                    let v = std::mem::replace(v, Value::Null);
                    *b = ThunkState::Done(v.clone());
                    return Ok(v);
                }
                ThunkState::Blackhole => {
                    return Err(Error::new(
                        ErrorKind::InfiniteRecursion,
                        "infinite recursion encountered",
                    ))
                }
                _ => std::mem::replace(&mut *b, ThunkState::Blackhole),
            }
        };
        if let Err(e) = self.enter(None) {
            *t.0.borrow_mut() = state;
            return Err(e);
        }
        // Each kind of state is evaluated and then released by its own arm, so that no
        // generic drop glue (a jump on the state's kind) runs per forced thunk; the blackhole
        // that the result replaces owns nothing and is forgotten instead of dropped.
        let res = match state {
            ThunkState::Pending(env, e) => {
                let r = self.guarded(|st| st.eval(&env, &e));
                if r.is_err() {
                    self.depth -= 1;
                    *t.0.borrow_mut() = ThunkState::Pending(env, e);
                    return r;
                }
                r
            }
            ThunkState::ApplyLambda(a, c) => {
                let r = if c.lambda.frameless {
                    // a frameless body reads the argument in place: no clone of it is made
                    // (a clone of a value just taken apart into registers is copied back
                    // through the stack, a store-forwarding stall per forced application)
                    match self.run_frame::<1>(&c, &c.lambda.body, [&a, &a], None) {
                        Err(e) if self.settings.show_trace => Err(self.call_trace(&c, e, None)),
                        r => r,
                    }
                } else {
                    self.guarded(|st| st.call_lambda(&c, a.clone(), None))
                };
                if r.is_err() {
                    self.depth -= 1;
                    *t.0.borrow_mut() = ThunkState::ApplyLambda(a, c);
                    return r;
                }
                self.recycle_arg(a);
                r
            }
            ThunkState::Apply(fa) => {
                let r = self.guarded(|st| st.call_value(&fa.0, fa.1.clone(), None));
                if r.is_err() {
                    self.depth -= 1;
                    *t.0.borrow_mut() = ThunkState::Apply(fa);
                    return r;
                }
                r
            }
            ThunkState::Done(v) | ThunkState::Eager(v) => Ok(v),
            ThunkState::Blackhole => Ok(Value::Null),
        };
        self.depth -= 1;
        let v = res?;
        std::mem::forget(std::mem::replace(
            &mut *t.0.borrow_mut(),
            ThunkState::Done(v.clone()),
        ));
        Ok(v)
    }

    /// Forces `v` and everything inside it (lists and attribute values), as `--strict` and
    /// `deepSeq` do.
    pub fn force_deep(&mut self, v: &Value) -> Result<Value> {
        let mut seen = std::collections::HashSet::new();
        let v = self.force(v)?;
        self.force_deep_inner(&v, &mut seen)?;
        Ok(v)
    }

    fn force_deep_inner(
        &mut self,
        v: &Value,
        seen: &mut std::collections::HashSet<*const ()>,
    ) -> Result<()> {
        match v {
            Value::Attrs(a) => {
                if !seen.insert(Rc::as_ptr(a) as *const ()) {
                    return Ok(());
                }
                for attr in a.iter() {
                    let res = stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
                        let x = self.force(&attr.value)?;
                        self.force_deep_inner(&x, seen)
                    });
                    if let Err(e) = res {
                        let name = self.symbols.resolve(attr.name);
                        let msg = format!(
                            "while evaluating the attribute '{}'",
                            String::from_utf8_lossy(name)
                        );
                        return Err(e.add_trace(attr.pos, msg));
                    }
                }
                Ok(())
            }
            Value::List(l) => {
                if !seen.insert(Rc::as_ptr(l) as *const ()) {
                    return Ok(());
                }
                for x in l.iter() {
                    stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
                        let x = self.force(x)?;
                        self.force_deep_inner(&x, seen)
                    })?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    // ----- typed forcing -----

    /// Forces to an integer; a type error is reported at `pos`.
    pub(crate) fn force_int(&mut self, v: &Value, pos: Option<Pos>) -> Result<i64> {
        match self.force(v)? {
            Value::Int(i) => Ok(i),
            other => Err(type_expected(&other, "an integer").at_opt(pos)),
        }
    }

    /// Forces to an integer or float, as a float.
    pub(crate) fn force_float(&mut self, v: &Value, pos: Option<Pos>) -> Result<f64> {
        match self.force(v)? {
            Value::Int(i) => Ok(i as f64),
            Value::Float(f) => Ok(f),
            other => Err(type_expected(&other, "a float").at_opt(pos)),
        }
    }

    /// Forces to a bool.
    pub(crate) fn force_bool(&mut self, v: &Value, pos: Option<Pos>) -> Result<bool> {
        match self.force(v)? {
            Value::Bool(b) => Ok(b),
            other => Err(type_expected(&other, "a Boolean").at_opt(pos)),
        }
    }

    /// Forces to an attribute set.
    pub(crate) fn force_attrs(&mut self, v: &Value, pos: Option<Pos>) -> Result<Rc<Attrs>> {
        match self.force(v)? {
            Value::Attrs(a) => Ok(a),
            other => Err(type_expected(&other, "a set").at_opt(pos)),
        }
    }

    /// Forces to a list.
    pub(crate) fn force_list(&mut self, v: &Value, pos: Option<Pos>) -> Result<Rc<Vec<Value>>> {
        match self.force(v)? {
            Value::List(l) => Ok(l),
            other => Err(type_expected(&other, "a list").at_opt(pos)),
        }
    }

    /// Forces to a string (no coercion); context is kept.
    pub(crate) fn force_string(&mut self, v: &Value, pos: Option<Pos>) -> Result<NixString> {
        match self.force(v)? {
            Value::String(s) => Ok(s),
            other => Err(type_expected(&other, "a string").at_opt(pos)),
        }
    }

    /// Forces to a function.
    pub(crate) fn force_function(&mut self, v: &Value, pos: Option<Pos>) -> Result<Value> {
        let f = self.force(v)?;
        match &f {
            Value::Lambda(_) | Value::PrimOp(_) | Value::PrimOpApp(_) => Ok(f),
            Value::Attrs(a) if a.contains(self.sym.functor) => Ok(f),
            other => Err(type_expected(other, "a function").at_opt(pos)),
        }
    }

    // ----- evaluation -----

    /// Evaluates an IR node in an environment to weak head normal form.
    pub(crate) fn eval(&mut self, env: &Rc<Env>, e: &Expr) -> Result<Value> {
        // `if` and `assert` continue with a sub-expression in tail position: loop instead of
        // recursing, so deep recursion through them uses less native stack.
        let mut e = e;
        loop {
            match e {
                Expr::If {
                    cond,
                    then,
                    else_,
                    pos,
                } => match self.eval_cond(env, cond)? {
                    Value::Bool(true) => e = then,
                    Value::Bool(false) => e = else_,
                    other => return Err(type_expected(&other, "a Boolean").at(*pos)),
                },
                Expr::Assert {
                    cond,
                    body,
                    pos,
                    text,
                } => match self.eval(env, cond)? {
                    Value::Bool(true) => e = body,
                    Value::Bool(false) => {
                        return Err(Error::new(
                            ErrorKind::Assert,
                            format!("assertion '{text}' failed"),
                        )
                        .at(*pos))
                    }
                    other => return Err(type_expected(&other, "a Boolean").at(*pos)),
                },
                _ => return self.eval_inner(env, e),
            }
        }
    }

    #[inline(always)]
    fn eval_inner(&mut self, env: &Rc<Env>, e: &Expr) -> Result<Value> {
        match e {
            Expr::Const(v) => Ok(v.clone()),
            Expr::Var { level, slot, pos } => match env.up(*level).get(*slot as usize) {
                Some(Value::Thunk(t)) => self.force_thunk(t).map_err(|e| fix_recursion(e, *pos)),
                Some(v) => Ok(v.clone()),
                None => Err(Error::eval("internal error: unset variable slot").at(*pos)),
            },
            Expr::WithVar { name, withs, pos } => self.eval_with_var(env, *name, withs, *pos),
            Expr::Lambda(l) => Ok(Value::Lambda(Rc::new(Closure {
                lambda: l.clone(),
                env: env.clone(),
            }))),
            Expr::Call { func, args, pos } => self.eval_call_counted(env, func, args, *pos),
            Expr::If {
                cond,
                then,
                else_,
                pos,
            } => {
                let c = self.eval(env, cond)?;
                match c {
                    Value::Bool(true) => self.eval(env, then),
                    Value::Bool(false) => self.eval(env, else_),
                    other => Err(type_expected(&other, "a Boolean").at(*pos)),
                }
            }
            Expr::Bin { op, lhs, rhs, pos } => self.eval_bin_node(env, *op, lhs, rhs, *pos),
            Expr::Concat {
                parts,
                force_string,
                pos,
            } => {
                if let (false, [(a, _), (b, _)]) = (*force_string, &parts[..]) {
                    let x = self.eval_leaf(env, a)?;
                    if let Value::Int(xi) = x {
                        let y = self.eval_leaf(env, b)?;
                        if let Value::Int(yi) = y {
                            // integers own nothing: skip their drop glue
                            std::mem::forget(x);
                            std::mem::forget(y);
                            return Ok(Value::Int(xi.wrapping_add(yi)));
                        }
                        return self.eval_concat(env, parts, false, *pos, vec![x, y]);
                    }
                    return self.eval_concat(env, parts, false, *pos, vec![x]);
                }
                self.eval_concat(env, parts, *force_string, *pos, Vec::new())
            }
            Expr::Select {
                expr,
                path,
                default,
                pos,
            } => self.eval_select(env, expr, path, default.as_ref(), *pos),
            Expr::HasAttr { expr, path } => self.eval_has_attr(env, expr, path),
            Expr::Attrs(def) => self.eval_attrs(env, def),
            Expr::List(items) => {
                let v: Vec<Value> = items.iter().map(|i| self.delay(env, i)).collect();
                Ok(Value::List(Rc::new(v)))
            }
            Expr::Let { bindings, body } => {
                let new = Rc::new(Env::new(Some(env.clone()), bindings.len()));
                for (i, (b, outer)) in bindings.iter().enumerate() {
                    let v = if *outer {
                        self.delay(env, b)
                    } else {
                        self.delay(&new, b)
                    };
                    new.set(i, v);
                }
                self.eval(&new, body)
            }
            Expr::With { attrs, body } => {
                let v = self.delay(env, attrs);
                let new = Rc::new(Env::with_one(env.clone(), v));
                self.eval(&new, body)
            }
            Expr::Assert {
                cond,
                body,
                pos,
                text,
            } => {
                let c = self.eval(env, cond)?;
                match c {
                    Value::Bool(true) => self.eval(env, body),
                    Value::Bool(false) => Err(Error::new(
                        ErrorKind::Assert,
                        format!("assertion '{text}' failed"),
                    )
                    .at(*pos)),
                    other => Err(type_expected(&other, "a Boolean").at(*pos)),
                }
            }
            Expr::Not(x, _pos) => match self.eval(env, x)? {
                Value::Bool(b) => Ok(Value::Bool(!b)),
                other => Err(type_expected(&other, "a Boolean")),
            },
            Expr::Neg(x, pos) => {
                let v = self.eval(env, x)?;
                ops::sub(&Value::Int(0), &v).map_err(|e| e.at(*pos))
            }
            Expr::And(a, b, pos) => {
                if !self.eval_bool(env, a, *pos)? {
                    return Ok(Value::Bool(false));
                }
                Ok(Value::Bool(self.eval_bool(env, b, *pos)?))
            }
            Expr::Or(a, b, pos) => {
                if self.eval_bool(env, a, *pos)? {
                    return Ok(Value::Bool(true));
                }
                Ok(Value::Bool(self.eval_bool(env, b, *pos)?))
            }
            Expr::Impl(a, b, pos) => {
                if !self.eval_bool(env, a, *pos)? {
                    return Ok(Value::Bool(true));
                }
                Ok(Value::Bool(self.eval_bool(env, b, *pos)?))
            }
            Expr::CurPos(pos) => Ok(self.pos_to_attrs(*pos)),
        }
    }

    /// `lhs op rhs` for a strict binary operator, with integer operands read directly when
    /// they are constants or variables.
    #[inline(always)]
    fn eval_bin_node(
        &mut self,
        env: &Rc<Env>,
        op: BinOp,
        lhs: &Expr,
        rhs: &Expr,
        pos: Pos,
    ) -> Result<Value> {
        let a = self.eval_leaf(env, lhs)?;
        let b = self.eval_leaf(env, rhs)?;
        if let (Value::Int(x), Value::Int(y)) = (&a, &b) {
            if let Some(v) = int_bin(op, *x, *y) {
                // integers own nothing: skip their drop glue
                std::mem::forget(a);
                std::mem::forget(b);
                return Ok(v);
            }
        }
        self.eval_bin(op, a, b, pos)
    }

    /// The condition of an `if`: a comparison of integers already known (constants and
    /// evaluated variables) is read directly, anything else goes through
    /// [`EvalState::eval`] (the result is the same value either way).
    #[inline(always)]
    fn eval_cond(&mut self, env: &Rc<Env>, cond: &Expr) -> Result<Value> {
        if let Expr::Bin { op, lhs, rhs, .. } = cond {
            if let Some(v) = eager_int_bin(env, *op, lhs, rhs) {
                return Ok(v);
            }
        }
        self.eval(env, cond)
    }

    /// A call, counted in the evaluation depth.
    #[inline(always)]
    fn eval_call_counted(
        &mut self,
        env: &Rc<Env>,
        func: &ExprRef,
        args: &[ExprRef],
        pos: Pos,
    ) -> Result<Value> {
        self.enter(Some(pos))?;
        let r = self.eval_call(env, func, args, pos);
        self.depth -= 1;
        r
    }

    fn eval_bool(&mut self, env: &Rc<Env>, e: &Expr, pos: Pos) -> Result<bool> {
        match self.eval(env, e)? {
            Value::Bool(b) => Ok(b),
            other => Err(type_expected(&other, "a Boolean").at(pos)),
        }
    }

    /// `{ file; line; column; }` for a position.
    pub(crate) fn pos_to_attrs(&mut self, pos: Pos) -> Value {
        let (line, col) = diagnostic::line_col(&self.sources, pos);
        let file = diagnostic::pos_file_value(&self.sources, self.sources.pos_span(pos).file);
        let mut b = AttrsBuilder::with_capacity(3);
        b.insert(self.sym.file, Value::string(file), None);
        b.insert(self.sym.line, Value::Int(i64::from(line)), None);
        b.insert(self.sym.column, Value::Int(i64::from(col)), None);
        Value::Attrs(Rc::new(b.build()))
    }

    #[inline(never)]
    fn eval_with_var(
        &mut self,
        env: &Rc<Env>,
        name: Symbol,
        withs: &[u32],
        pos: Pos,
    ) -> Result<Value> {
        for level in withs {
            let scope = env.up(*level).get(0).cloned().unwrap_or(Value::Null);
            let attrs = self.force_attrs(&scope, None)?;
            if let Some(v) = attrs.get(name) {
                let v = v.clone();
                return self.force(&v).map_err(|e| fix_recursion(e, pos));
            }
        }
        Err(Error::new(
            ErrorKind::UndefinedVar,
            format!(
                "undefined variable '{}'",
                String::from_utf8_lossy(self.symbols.resolve(name))
            ),
        )
        .at(pos))
    }

    fn eval_call(
        &mut self,
        env: &Rc<Env>,
        func: &ExprRef,
        args: &[ExprRef],
        pos: Pos,
    ) -> Result<Value> {
        let f = self.eval_leaf(env, func)?;
        self.apply_call(env, f, args, pos)
    }

    /// The rest of a call once the function is evaluated: `args` are delayed in `env`.
    #[inline(always)]
    fn apply_call(
        &mut self,
        env: &Rc<Env>,
        mut f: Value,
        args: &[ExprRef],
        pos: Pos,
    ) -> Result<Value> {
        let mut rest = args;
        if let Value::PrimOp(op) = &f {
            let op: &'static crate::builtins::PrimOp = op;
            if op.arity > 1 && op.arity <= args.len() {
                f = match op.arity {
                    2 => {
                        let argv = [self.delay(env, &args[0]), self.delay(env, &args[1])];
                        (op.func)(self, &argv, Some(pos))?
                    }
                    _ => {
                        let argv: Vec<Value> = args[..op.arity]
                            .iter()
                            .map(|a| self.delay(env, a))
                            .collect();
                        (op.func)(self, &argv, Some(pos))?
                    }
                };
                rest = &args[op.arity..];
            }
        } else if let (Value::Lambda(_), [a, b, ..]) = (&f, args) {
            let x = self.delay(env, a);
            let y = self.delay(env, b);
            if let Value::Lambda(c) = std::mem::replace(&mut f, Value::Null) {
                f = self.call_lambda2(&c, x, y, Some(pos))?;
            }
            rest = &args[2..];
        }
        for a in rest {
            f = match std::mem::replace(&mut f, Value::Null) {
                Value::Lambda(c) => {
                    let arg = if c.lambda.strict_arg {
                        self.delay_strict_arg(env, a)
                    } else {
                        self.delay(env, a)
                    };
                    self.call_lambda(&c, arg, Some(pos))?
                }
                g => {
                    let arg = self.delay(env, a);
                    self.call_value(&g, arg, Some(pos))?
                }
            };
        }
        Ok(f)
    }

    /// Calls a function value with one argument.
    #[inline]
    pub(crate) fn call_value(&mut self, f: &Value, arg: Value, pos: Option<Pos>) -> Result<Value> {
        match f {
            Value::Lambda(c) => self.call_lambda(c, arg, pos),
            _ => self.call_value_slow(f, arg, pos),
        }
    }

    #[inline(never)]
    fn call_value_slow(&mut self, f: &Value, arg: Value, pos: Option<Pos>) -> Result<Value> {
        if let Value::Thunk(t) = f {
            let f = self.force_thunk(t)?;
            return self.call_value(&f, arg, pos);
        }
        match f {
            Value::Lambda(c) => self.call_lambda(c, arg, pos),
            Value::PrimOp(op) => {
                if op.arity == 1 {
                    (op.func)(self, &[arg], pos)
                } else {
                    Ok(Value::PrimOpApp(Rc::new(PrimOpApp {
                        op,
                        args: vec![arg],
                    })))
                }
            }
            Value::PrimOpApp(app) => {
                let mut args = Vec::with_capacity(app.args.len() + 1);
                args.extend(app.args.iter().cloned());
                args.push(arg);
                if args.len() == app.op.arity {
                    (app.op.func)(self, &args, pos)
                } else {
                    Ok(Value::PrimOpApp(Rc::new(PrimOpApp { op: app.op, args })))
                }
            }
            Value::Attrs(a) if a.contains(self.sym.functor) => {
                let functor = a.get(self.sym.functor).cloned().unwrap_or(Value::Null);
                let g = self.call_value(&functor, f.clone(), pos)?;
                self.call_value(&g, arg, pos)
            }
            other => Err(Error::type_error(format!(
                "attempt to call something which is not a function but {}",
                other.show_type()
            ))
            .at_opt(pos)),
        }
    }

    /// Calls a function value with two arguments (`f a b`), without building the
    /// intermediate closure when `f` is a curried lambda.
    pub(crate) fn call_value2(
        &mut self,
        f: &Value,
        a: Value,
        b: Value,
        pos: Option<Pos>,
    ) -> Result<Value> {
        match f {
            Value::Thunk(t) => {
                let f = self.force_thunk(t)?;
                self.call_value2(&f, a, b, pos)
            }
            Value::Lambda(c) => self.call_lambda2(c, a, b, pos),
            _ => {
                let g = self.call_value(f, a, pos)?;
                self.call_value(&g, b, pos)
            }
        }
    }

    fn call_lambda2(
        &mut self,
        c: &Rc<Closure>,
        a: Value,
        b: Value,
        pos: Option<Pos>,
    ) -> Result<Value> {
        if c.lambda.formals.is_none() && !self.settings.show_trace {
            if let Expr::Lambda(inner) = &*c.lambda.body {
                if inner.formals.is_none() {
                    self.enter(pos)?;
                    let body = &inner.body;
                    if inner.frameless {
                        self.depth -= 1;
                        return self.call_frameless2(c, body, a, b, pos);
                    }
                    let env1 = self.new_env1(&c.env, a);
                    let env2 = self.new_env1_owned(env1, b);
                    let r = self.guarded(|st| st.eval(&env2, body));
                    self.depth -= 1;
                    self.release_env(env2);
                    return r;
                }
            }
        }
        let g = self.call_lambda(c, a, pos)?;
        self.call_value(&g, b, pos)
    }

    /// The body of `f` when it is a curried `a: b: body` whose inner lambda is
    /// [`crate::lower::ir::Lambda::frameless`] and no `--show-trace` frames are collected:
    /// [`EvalState::call_frameless2`] then calls it with both arguments (for builtin loops
    /// such as `foldl'`, which look this up once).
    pub(crate) fn curried_frameless(&self, f: &Value) -> Option<(Rc<Closure>, ExprRef)> {
        let Value::Lambda(c) = f else { return None };
        if c.lambda.formals.is_some() || self.settings.show_trace {
            return None;
        }
        match &*c.lambda.body {
            Expr::Lambda(inner) if inner.formals.is_none() && inner.frameless => {
                Some((c.clone(), inner.body.clone()))
            }
            _ => None,
        }
    }

    /// Calls the curried `c` = `a: b: body` (see [`EvalState::curried_frameless`]) with both
    /// arguments: `a` and `b` are read directly, no environment is made for either lambda
    /// unless the body needs one.
    pub(crate) fn call_frameless2(
        &mut self,
        c: &Rc<Closure>,
        body: &ExprRef,
        a: Value,
        b: Value,
        pos: Option<Pos>,
    ) -> Result<Value> {
        let r = self.run_frame::<2>(c, body, [&b, &a], pos);
        self.recycle_arg(b);
        self.recycle_arg(a);
        r
    }

    /// Evaluates the body of a frameless call with its arguments (see [`Frame`]), counted in
    /// the evaluation depth, and pools the environment if the body made one.
    #[inline(always)]
    fn run_frame<const S: u32>(
        &mut self,
        c: &Rc<Closure>,
        body: &ExprRef,
        args: [&Value; 2],
        pos: Option<Pos>,
    ) -> Result<Value> {
        self.enter(pos)?;
        let mut fr = Frame::<S> {
            args,
            outer: &c.env,
            env: None,
        };
        let r = self.guarded(|st| st.eval_frame(&mut fr, body));
        self.depth -= 1;
        if let Some(e) = fr.env {
            self.release_env(e);
        }
        r
    }

    /// Evaluates `e`, the body of a [`crate::lower::ir::Lambda::frameless`] lambda or a
    /// part of it, for a call whose argument is `fr.args[0]` and whose closure environment is
    /// `fr.outer`, without making the call's environment until something needs it (a thunk,
    /// a closure or a node this does not handle, which go to [`EvalState::eval`] and
    /// [`EvalState::delay`] in the environment made then by [`EvalState::frame_env`]).
    /// Level 0 is the argument, level `n + S` is level `n` of `fr.outer`. Every node is
    /// evaluated in the same order, with the same errors and the same depth accounting as
    /// [`EvalState::eval`] does it.
    fn eval_frame<const S: u32>(&mut self, fr: &mut Frame<'_, S>, e: &ExprRef) -> Result<Value> {
        // `if` continues with a branch in tail position: loop instead of recursing (less
        // native stack for deep recursion through `if`)
        let mut e = e;
        while let Expr::If {
            cond,
            then,
            else_,
            pos,
        } = &**e
        {
            e = match match Self::frame_eager(fr, cond) {
                // a comparison of known integers (as `eval_cond`)
                Some(v) => v,
                None => self.frame_operand(fr, cond)?,
            } {
                Value::Bool(true) => then,
                Value::Bool(false) => else_,
                other => return Err(type_expected(&other, "a Boolean").at(*pos)),
            };
        }
        match &**e {
            Expr::Const(_) | Expr::Var { .. } => self.frame_operand(fr, e),
            Expr::Bin { op, lhs, rhs, pos } => {
                let a = self.frame_operand(fr, lhs)?;
                let b = self.frame_operand(fr, rhs)?;
                if let (Value::Int(x), Value::Int(y)) = (&a, &b) {
                    if let Some(v) = int_bin(*op, *x, *y) {
                        // integers own nothing: skip their drop glue
                        std::mem::forget(a);
                        std::mem::forget(b);
                        return Ok(v);
                    }
                }
                self.eval_bin(*op, a, b, *pos)
            }
            Expr::Concat {
                parts,
                force_string: false,
                pos,
            } if parts.len() == 2 => {
                let x = self.frame_operand(fr, &parts[0].0)?;
                if let Value::Int(xi) = x {
                    let y = self.frame_operand(fr, &parts[1].0)?;
                    if let Value::Int(yi) = y {
                        // integers own nothing: skip their drop glue
                        std::mem::forget(x);
                        std::mem::forget(y);
                        return Ok(Value::Int(xi.wrapping_add(yi)));
                    }
                    // both operands are given: `eval_concat` evaluates nothing in the
                    // environment
                    return self.eval_concat(fr.outer, parts, false, *pos, vec![x, y]);
                }
                let env = self.frame_env(fr);
                self.eval_concat(env, parts, false, *pos, vec![x])
            }
            Expr::Call { func, args, pos } => self.frame_call(fr, func, args, *pos),
            _ => {
                let env = self.frame_env(fr);
                self.eval(env, e)
            }
        }
    }

    /// A call in [`EvalState::eval_frame`] (as [`EvalState::eval_call_counted`]): a
    /// one-argument call of a lambda is made directly, its argument delayed in the frame.
    #[inline(never)]
    fn frame_call<const S: u32>(
        &mut self,
        fr: &mut Frame<'_, S>,
        func: &ExprRef,
        args: &[ExprRef],
        pos: Pos,
    ) -> Result<Value> {
        self.enter(Some(pos))?;
        let r = self.frame_call_inner(fr, func, args, pos);
        self.depth -= 1;
        r
    }

    #[inline(always)]
    fn frame_call_inner<const S: u32>(
        &mut self,
        fr: &mut Frame<'_, S>,
        func: &ExprRef,
        args: &[ExprRef],
        pos: Pos,
    ) -> Result<Value> {
        let f = self.frame_operand(fr, func)?;
        if let (Value::Lambda(c), [a]) = (&f, args) {
            let arg = if c.lambda.strict_arg {
                self.delay_frame_strict(fr, a)
            } else {
                self.delay_frame(fr, a)
            };
            return self.call_lambda(c, arg, Some(pos));
        }
        self.frame_call_other(fr, f, args, pos)
    }

    /// The calls [`EvalState::frame_call`] does not make directly, out of line so that its
    /// native stack frame stays small (deep recursion goes through it).
    #[inline(never)]
    fn frame_call_other<const S: u32>(
        &mut self,
        fr: &mut Frame<'_, S>,
        f: Value,
        args: &[ExprRef],
        pos: Pos,
    ) -> Result<Value> {
        // a builtin given exactly its arguments (as `apply_call` and `call_value` call it)
        if let Value::PrimOp(op) = &f {
            let op: &'static crate::builtins::PrimOp = op;
            if op.arity == args.len() {
                match args {
                    [a] => {
                        let argv = [self.delay_frame(fr, a)];
                        return (op.func)(self, &argv, Some(pos));
                    }
                    [a, b] => {
                        let argv = [self.delay_frame(fr, a), self.delay_frame(fr, b)];
                        return (op.func)(self, &argv, Some(pos));
                    }
                    [a, b, c] => {
                        let argv = [
                            self.delay_frame(fr, a),
                            self.delay_frame(fr, b),
                            self.delay_frame(fr, c),
                        ];
                        return (op.func)(self, &argv, Some(pos));
                    }
                    _ => {}
                }
            }
        }
        let env = self.frame_env(fr);
        self.apply_call(env, f, args, pos)
    }

    /// The environment of the call `fr` stands for, made on first use (slot 0 is the
    /// argument, its parent the closure's environment).
    #[inline]
    fn frame_env<'f, const S: u32>(&mut self, fr: &'f mut Frame<'_, S>) -> &'f Rc<Env> {
        if fr.env.is_none() {
            let env = if S == 1 {
                self.new_env1(fr.outer, fr.args[0].clone())
            } else {
                let env1 = self.new_env1(fr.outer, fr.args[1].clone());
                self.new_env1_owned(env1, fr.args[0].clone())
            };
            fr.env = Some(env);
        }
        fr.env
            .as_ref()
            .expect("the frame's environment was just made")
    }

    /// A variable's value in [`EvalState::eval_frame`] (`None`: not filled yet).
    #[inline(always)]
    fn frame_var<'v, const S: u32>(
        fr: &'v Frame<'_, S>,
        level: u32,
        slot: u32,
    ) -> Option<&'v Value> {
        if level < S {
            Some(fr.args[level as usize & 1])
        } else {
            fr.outer.up(level - S).get(slot as usize)
        }
    }

    /// An operand in [`EvalState::eval_frame`]: constants and variables are read here,
    /// anything else recurses.
    #[inline(always)]
    fn frame_operand<const S: u32>(&mut self, fr: &mut Frame<'_, S>, e: &ExprRef) -> Result<Value> {
        match &**e {
            Expr::Const(v) => Ok(v.clone()),
            Expr::Var { level, slot, pos } => match Self::frame_var(fr, *level, *slot) {
                Some(Value::Thunk(t)) => self.force_thunk(t).map_err(|e| fix_recursion(e, *pos)),
                Some(v) => Ok(v.clone()),
                None => {
                    let env = self.frame_env(fr);
                    self.eval(env, e)
                }
            },
            Expr::Call { func, args, pos } => self.frame_call(fr, func, args, *pos),
            _ => self.eval_frame(fr, e),
        }
    }

    /// An integer known without evaluating anything (as `known_int`, for a frame).
    #[inline(always)]
    fn frame_known_int<const S: u32>(fr: &Frame<'_, S>, e: &Expr) -> Option<i64> {
        match e {
            Expr::Const(Value::Int(i)) => Some(*i),
            Expr::Var { level, slot, .. } => match Self::frame_var(fr, *level, *slot)? {
                Value::Int(i) => Some(*i),
                Value::Thunk(t) => match &*t.0.try_borrow().ok()? {
                    ThunkState::Done(Value::Int(i)) => Some(*i),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        }
    }

    /// The value [`EvalState::delay_strict_arg`] would compute ahead, for a frame.
    #[inline(always)]
    fn frame_eager<const S: u32>(fr: &Frame<'_, S>, e: &Expr) -> Option<Value> {
        match e {
            Expr::Bin { op, lhs, rhs, .. } => {
                let (x, y) = (
                    Self::frame_known_int(fr, lhs)?,
                    Self::frame_known_int(fr, rhs)?,
                );
                int_bin(*op, x, y)
            }
            Expr::Concat {
                parts,
                force_string: false,
                ..
            } => match &parts[..] {
                [(a, _), (b, _)] => Some(Value::Int(
                    Self::frame_known_int(fr, a)?.wrapping_add(Self::frame_known_int(fr, b)?),
                )),
                _ => None,
            },
            _ => None,
        }
    }

    /// [`EvalState::delay`] in a frame: constants, variables and values computed ahead need
    /// no environment; anything else is delayed in the frame's environment.
    #[inline]
    fn delay_frame<const S: u32>(&mut self, fr: &mut Frame<'_, S>, e: &ExprRef) -> Value {
        match &**e {
            Expr::Const(v) => return v.clone(),
            Expr::Var { level, slot, .. } => {
                if let Some(v) = Self::frame_var(fr, *level, *slot) {
                    return v.clone();
                }
            }
            Expr::Bin { .. } | Expr::Concat { .. } => {
                if let Some(v) = Self::frame_eager(fr, e) {
                    return self.new_thunk(ThunkState::Eager(v));
                }
            }
            _ => {}
        }
        let env = self.frame_env(fr);
        self.delay(env, e)
    }

    /// [`EvalState::delay_strict_arg`] in a frame.
    #[inline]
    fn delay_frame_strict<const S: u32>(&mut self, fr: &mut Frame<'_, S>, e: &ExprRef) -> Value {
        if let Expr::Bin { .. } | Expr::Concat { .. } = &**e {
            if let Some(v) = Self::frame_eager(fr, e) {
                return v;
            }
        }
        self.delay_frame(fr, e)
    }

    /// Puts a finished call's argument back into the thunk pool when it is a thunk nothing
    /// else holds (as [`EvalState::release_env`] does for a pooled environment's slot).
    #[inline(always)]
    fn recycle_arg(&mut self, arg: Value) {
        match arg {
            Value::Thunk(mut t) => {
                if self.thunk_pool.len() < ENV_POOL {
                    if let Some(cell) = Rc::get_mut(&mut t.0) {
                        *cell.get_mut() = ThunkState::Blackhole;
                        self.thunk_pool.push(t);
                    }
                }
            }
            // immediates own nothing: skip the drop glue
            Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => std::mem::forget(arg),
            other => drop(other),
        }
    }

    /// A description of a lambda for messages: `'f' at (string):1:9` or
    /// `anonymous function at (string):1:2`.
    pub(crate) fn lambda_name(&self, c: &Closure) -> String {
        let where_ = self.describe_pos(c.lambda.pos);
        match c.lambda.name {
            Some(n) => format!(
                "'{}' at {}",
                String::from_utf8_lossy(self.symbols.resolve(n)),
                where_
            ),
            None => format!("anonymous function at {where_}"),
        }
    }

    #[inline(never)]
    fn bind_formals(&mut self, c: &Rc<Closure>, arg: Value, pos: Option<Pos>) -> Result<Rc<Env>> {
        let lambda = &c.lambda;
        let Some(formals) = &lambda.formals else {
            return Ok(Rc::new(Env::with_one(c.env.clone(), arg)));
        };
        let attrs = self.force_attrs(&arg, pos)?;
        let new = Rc::new(Env::new(Some(c.env.clone()), lambda.slots as usize));
        let mut used = 0usize;
        for (i, f) in formals.entries.iter().enumerate() {
            match attrs.get(f.name) {
                Some(v) => {
                    used += 1;
                    new.set(i, v.clone());
                }
                None => match &f.default {
                    Some(d) => {
                        let v = self.delay(&new, d);
                        new.set(i, v);
                    }
                    None => {
                        return Err(Error::type_error(format!(
                            "{} called without required argument '{}'",
                            self.lambda_name(c),
                            String::from_utf8_lossy(self.symbols.resolve(f.name))
                        ))
                        .at_opt(pos))
                    }
                },
            }
        }
        if !formals.ellipsis && used < attrs.len() {
            for a in attrs.iter() {
                if !formals.entries.iter().any(|f| f.name == a.name) {
                    let names: Vec<&[u8]> = formals
                        .entries
                        .iter()
                        .map(|f| self.symbols.resolve(f.name))
                        .collect();
                    let query = self.symbols.resolve(a.name);
                    let sugg = diagnostic::suggestions(query, names.into_iter());
                    return Err(Error::type_error(format!(
                        "{} called with unexpected argument '{}'",
                        self.lambda_name(c),
                        String::from_utf8_lossy(query)
                    ))
                    .at_opt(pos)
                    .with_suggestions(sugg));
                }
            }
        }
        if lambda.arg.is_some() {
            new.set(formals.entries.len(), Value::Attrs(attrs));
        }
        Ok(new)
    }

    /// A one-slot environment holding `v` under `parent`, from the pool when possible.
    #[inline]
    fn new_env1(&mut self, parent: &Rc<Env>, v: Value) -> Rc<Env> {
        self.new_env1_owned(parent.clone(), v)
    }

    #[inline]
    fn new_env1_owned(&mut self, parent: Rc<Env>, v: Value) -> Rc<Env> {
        if let Some(mut e) = self.env_pool.pop() {
            if let Some(m) = Rc::get_mut(&mut e) {
                m.refill_one(parent, v);
                return e;
            }
        }
        Rc::new(Env::with_one(parent, v))
    }

    /// Returns a finished call's environment to the pool if nothing else holds it; its
    /// parent is released the same way.
    #[inline]
    fn release_env(&mut self, mut e: Rc<Env>) {
        loop {
            if self.env_pool.len() >= ENV_POOL {
                return;
            }
            let (parent, slot) = match Rc::get_mut(&mut e) {
                Some(m) if m.is_one_slot() => m.take_parent_and_slot(),
                _ => return,
            };
            if let Some(Value::Thunk(mut t)) = slot {
                if self.thunk_pool.len() < ENV_POOL {
                    if let Some(cell) = Rc::get_mut(&mut t.0) {
                        *cell.get_mut() = ThunkState::Blackhole;
                        self.thunk_pool.push(t);
                    }
                }
            }
            self.env_pool.push(e);
            match parent {
                Some(p) => e = p,
                None => return,
            }
        }
    }

    fn call_lambda(&mut self, c: &Rc<Closure>, arg: Value, pos: Option<Pos>) -> Result<Value> {
        let lambda = &c.lambda;
        if lambda.frameless {
            let r = self.run_frame::<1>(c, &lambda.body, [&arg, &arg], pos);
            self.recycle_arg(arg);
            return match r {
                Ok(v) => Ok(v),
                Err(e) if self.settings.show_trace => Err(self.call_trace(c, e, pos)),
                Err(e) => Err(e),
            };
        }
        let new = match &lambda.formals {
            None => self.new_env1(&c.env, arg),
            Some(_) => self.bind_formals(c, arg, pos)?,
        };
        self.enter(pos)?;
        let body = &lambda.body;
        let r = self.guarded(|st| st.eval(&new, body));
        self.depth -= 1;
        self.release_env(new);
        match r {
            Ok(v) => Ok(v),
            Err(e) if self.settings.show_trace => Err(self.call_trace(c, e, pos)),
            Err(e) => Err(e),
        }
    }

    /// The `--show-trace` frames of a failed call of `c` at `pos`.
    #[cold]
    fn call_trace(&self, c: &Closure, e: Error, pos: Option<Pos>) -> Error {
        let lambda = &c.lambda;
        let name = match lambda.name {
            Some(n) => format!("'{}'", String::from_utf8_lossy(self.symbols.resolve(n))),
            None => "anonymous lambda".to_string(),
        };
        let e = e.add_trace(Some(lambda.pos), format!("while evaluating {name}"));
        e.add_trace(pos, "from call site")
    }

    fn attr_name(&mut self, env: &Rc<Env>, key: &AttrKey) -> Result<Symbol> {
        match key {
            AttrKey::Static(s) => Ok(*s),
            AttrKey::Dynamic(e) => {
                let v = self.eval(env, e)?;
                match v {
                    Value::String(s) => Ok(self.symbols.intern(s.as_bytes())),
                    other => Err(type_expected(&other, "a string")),
                }
            }
        }
    }

    fn show_attr_path(&mut self, env: &Rc<Env>, path: &[AttrKey]) -> String {
        let mut out = String::new();
        for (i, k) in path.iter().enumerate() {
            if i > 0 {
                out.push('.');
            }
            match k {
                AttrKey::Static(s) => {
                    out.push_str(&String::from_utf8_lossy(self.symbols.resolve(*s)))
                }
                AttrKey::Dynamic(_) => match self.attr_name(env, k) {
                    Ok(s) => out.push_str(&String::from_utf8_lossy(self.symbols.resolve(s))),
                    Err(_) => out.push_str("\"«error»\""),
                },
            }
        }
        out
    }

    #[inline(never)]
    fn eval_select(
        &mut self,
        env: &Rc<Env>,
        expr: &ExprRef,
        path: &[AttrKey],
        default: Option<&ExprRef>,
        pos: Pos,
    ) -> Result<Value> {
        let mut v = self.eval(env, expr)?;
        let mut pos2: Option<Option<Pos>> = None;
        let res: Result<Value> = (|| {
            for (i, key) in path.iter().enumerate() {
                if i > 0 {
                    v = self.force(&v)?;
                }
                let name = self.attr_name(env, key)?;
                let attrs = match &v {
                    Value::Attrs(a) => a.clone(),
                    other => {
                        if let Some(d) = default {
                            return self.eval(env, d);
                        }
                        return Err(type_expected(other, "a set").at(pos));
                    }
                };
                match attrs.get_attr(name) {
                    Some(a) => {
                        pos2 = Some(a.pos);
                        v = a.value.clone();
                    }
                    None => {
                        if let Some(d) = default {
                            return self.eval(env, d);
                        }
                        let names: Vec<&[u8]> =
                            attrs.iter().map(|a| self.symbols.resolve(a.name)).collect();
                        let query = self.symbols.resolve(name);
                        let sugg = diagnostic::suggestions(query, names.into_iter());
                        return Err(Error::new(
                            ErrorKind::MissingAttr,
                            format!("attribute '{}' missing", String::from_utf8_lossy(query)),
                        )
                        .at(pos)
                        .with_suggestions(sugg));
                    }
                }
            }
            self.force(&v).map_err(|e| fix_recursion(e, pos))
        })();
        match res {
            Ok(v) => Ok(v),
            Err(e) => match pos2 {
                // as CppNix, no frame for an attribute of the built-in `derivation.nix`
                Some(p)
                    if !p.is_some_and(|q| {
                        diagnostic::path_of(&self.sources, self.sources.pos_span(q).file)
                            == Some(std::path::Path::new(
                                crate::builtins::derivation::DERIVATION_NIX_PATH,
                            ))
                    }) =>
                {
                    let shown = self.show_attr_path(env, path);
                    Err(e.add_trace(p, format!("while evaluating the attribute '{shown}'")))
                }
                _ => Err(e),
            },
        }
    }

    #[inline(never)]
    fn eval_has_attr(&mut self, env: &Rc<Env>, expr: &ExprRef, path: &[AttrKey]) -> Result<Value> {
        let mut v = self.eval(env, expr)?;
        for (i, key) in path.iter().enumerate() {
            if i > 0 {
                v = self.force(&v)?;
            }
            let name = self.attr_name(env, key)?;
            match &v {
                Value::Attrs(a) => match a.get(name) {
                    Some(x) => v = x.clone(),
                    None => return Ok(Value::Bool(false)),
                },
                _ => return Ok(Value::Bool(false)),
            }
        }
        Ok(Value::Bool(true))
    }

    /// CppNix's `__overrides` in a `rec` set: the (forced) set at `entries[i]` replaces the
    /// attributes of the same names, in the set and in its recursive scope, and adds the others.
    #[cold]
    fn apply_overrides(
        &mut self,
        def: &crate::lower::ir::AttrsDef,
        mut entries: Vec<Attr>,
        i: usize,
    ) -> Result<Vec<Attr>> {
        let v = entries[i].value.clone();
        let v = self.force(&v)?;
        let Value::Attrs(over) = v else {
            return Err(type_expected(&v, "a set"));
        };
        let mut extra = Vec::new();
        for a in over.iter() {
            match entries.binary_search_by(|e| e.name.cmp(&a.name)) {
                Ok(j) => {
                    // the scope's slot `j` holds the attribute's own thunk (made above, not
                    // forced yet): it now reads the override instead
                    if let (Value::Thunk(t), Some(d)) = (&entries[j].value, def.statics.get(j)) {
                        if !d.outer && matches!(&*t.0.borrow(), ThunkState::Pending(..)) {
                            let holder = Env::new(None, 1);
                            holder.set(0, a.value.clone());
                            let read = Expr::Var {
                                level: 0,
                                slot: 0,
                                pos: d.pos,
                            };
                            *t.0.borrow_mut() = ThunkState::Pending(Rc::new(holder), Rc::new(read));
                        }
                    }
                    entries[j] = a.clone();
                }
                Err(_) => extra.push(a.clone()),
            }
        }
        if !extra.is_empty() {
            entries.extend(extra);
            entries.sort_by_key(|x| x.name);
        }
        Ok(entries)
    }

    #[inline(never)]
    fn eval_attrs(&mut self, env: &Rc<Env>, def: &crate::lower::ir::AttrsDef) -> Result<Value> {
        let scope = if def.rec {
            Rc::new(Env::new(Some(env.clone()), def.statics.len()))
        } else {
            env.clone()
        };
        let mut entries = Vec::with_capacity(def.statics.len() + def.dynamics.len());
        for (i, a) in def.statics.iter().enumerate() {
            let v = if a.outer {
                self.delay(env, &a.value)
            } else if def.overrides.is_some() {
                // as CppNix: a set with `__overrides` gets a thunk per attribute, so that
                // references to an overridden attribute see the override
                self.new_thunk(ThunkState::Pending(scope.clone(), a.value.clone()))
            } else {
                self.delay(&scope, &a.value)
            };
            if def.rec {
                scope.set(i, v.clone());
            }
            entries.push(Attr {
                name: a.name,
                value: v,
                pos: Some(a.pos),
            });
        }
        if let Some(i) = def.overrides {
            entries = self.apply_overrides(def, entries, i)?;
        }
        if def.dynamics.is_empty() {
            return Ok(Value::Attrs(Rc::new(
                Attrs::from_sorted(entries).with_pos(def.pos),
            )));
        }
        let mut attrs = Attrs::from_sorted(entries);
        for d in &def.dynamics {
            let n = self.eval(&scope, &d.name)?;
            let name = match n {
                Value::Null => continue,
                Value::String(s) => {
                    if s.context().is_some_and(|c| !c.is_empty()) {
                        // CppNix's forceStringNoCtx, without a position
                        let v = Value::String(s.clone());
                        crate::builtins::store::force_string_no_ctx(self, &v, None)?;
                    }
                    self.symbols.intern(s.as_bytes())
                }
                other => return Err(type_expected(&other, "a string").at(d.pos)),
            };
            if let Some(prev) = attrs.get_attr(name) {
                let where_ = prev.pos.map(|p| self.describe_pos(p)).unwrap_or_default();
                return Err(Error::eval(format!(
                    "dynamic attribute '{}' already defined at {}",
                    String::from_utf8_lossy(self.symbols.resolve(name)),
                    where_
                ))
                .at(d.pos));
            }
            let v = self.delay(&scope, &d.value);
            let mut b = AttrsBuilder::with_capacity(1);
            b.insert(name, v, Some(d.pos));
            attrs = attrs.update(&b.build());
        }
        Ok(Value::Attrs(Rc::new(attrs.with_pos(def.pos))))
    }

    #[inline(never)]
    fn eval_bin(&mut self, op: BinOp, a: Value, b: Value, pos: Pos) -> Result<Value> {
        match op {
            BinOp::Sub => ops::sub(&a, &b).map_err(|e| e.at(pos)),
            BinOp::Mul => ops::mul(&a, &b).map_err(|e| e.at(pos)),
            BinOp::Div => ops::div(&a, &b).map_err(|e| e.at(pos)),
            BinOp::Lt => Ok(Value::Bool(self.less_than(&a, &b)?)),
            BinOp::Gt => Ok(Value::Bool(self.less_than(&b, &a)?)),
            BinOp::Le => Ok(Value::Bool(!self.less_than(&b, &a)?)),
            BinOp::Ge => Ok(Value::Bool(!self.less_than(&a, &b)?)),
            BinOp::Eq => Ok(Value::Bool(self.eq_values(&a, &b)?)),
            BinOp::Ne => Ok(Value::Bool(!self.eq_values(&a, &b)?)),
            BinOp::Update => {
                let x = match a {
                    Value::Attrs(x) => x,
                    other => return Err(type_expected(&other, "a set")),
                };
                let y = match b {
                    Value::Attrs(y) => y,
                    other => return Err(type_expected(&other, "a set")),
                };
                if y.is_empty() {
                    return Ok(Value::Attrs(x));
                }
                if x.is_empty() {
                    return Ok(Value::Attrs(y));
                }
                Ok(Value::Attrs(Rc::new(Attrs::update_shared(&x, &y))))
            }
            BinOp::Concat => {
                let x = match a {
                    Value::List(x) => x,
                    other => return Err(type_expected(&other, "a list").at(pos)),
                };
                let y = match b {
                    Value::List(y) => y,
                    other => return Err(type_expected(&other, "a list").at(pos)),
                };
                if y.is_empty() {
                    return Ok(Value::List(x));
                }
                if x.is_empty() {
                    return Ok(Value::List(y));
                }
                let mut v = Vec::with_capacity(x.len() + y.len());
                v.extend(x.iter().cloned());
                v.extend(y.iter().cloned());
                Ok(Value::List(Rc::new(v)))
            }
        }
    }

    /// Deep equality as CppNix's `==`.
    pub(crate) fn eq_values(&mut self, a: &Value, b: &Value) -> Result<bool> {
        let a = self.force(a)?;
        let b = self.force(b)?;
        self.eq_forced(&a, &b)
    }

    fn eq_inner(&mut self, a: &Value, b: &Value) -> Result<bool> {
        // identical values inside containers are equal (CppNix compares pointers first)
        match (a, b) {
            (Value::Thunk(x), Value::Thunk(y)) if Rc::ptr_eq(&x.0, &y.0) => return Ok(true),
            (Value::Lambda(x), Value::Lambda(y)) if Rc::ptr_eq(x, y) => return Ok(true),
            (Value::PrimOp(x), Value::PrimOp(y)) if std::ptr::eq(*x, *y) => return Ok(true),
            (Value::PrimOpApp(x), Value::PrimOpApp(y)) if Rc::ptr_eq(x, y) => return Ok(true),
            _ => {}
        }
        let a = self.force(a)?;
        let b = self.force(b)?;
        self.eq_forced(&a, &b)
    }

    fn eq_forced(&mut self, a: &Value, b: &Value) -> Result<bool> {
        Ok(match (a, b) {
            (Value::Int(x), Value::Int(y)) => x == y,
            (Value::Int(x), Value::Float(y)) => (*x as f64) == *y,
            (Value::Float(x), Value::Int(y)) => *x == (*y as f64),
            (Value::Float(x), Value::Float(y)) => x == y,
            (Value::Bool(x), Value::Bool(y)) => x == y,
            (Value::Null, Value::Null) => true,
            (Value::String(x), Value::String(y)) => x.as_bytes() == y.as_bytes(),
            (Value::Path(x), Value::Path(y)) => x.as_bytes() == y.as_bytes(),
            (Value::List(x), Value::List(y)) => {
                if Rc::ptr_eq(x, y) {
                    return Ok(true);
                }
                if x.len() != y.len() {
                    return Ok(false);
                }
                for (p, q) in x.iter().zip(y.iter()) {
                    if !self.eq_inner(p, q)? {
                        return Ok(false);
                    }
                }
                true
            }
            (Value::Attrs(x), Value::Attrs(y)) => {
                if Rc::ptr_eq(x, y) {
                    return Ok(true);
                }
                if self.is_derivation(x)? && self.is_derivation(y)? {
                    if let (Some(p), Some(q)) = (x.get(self.sym.out_path), y.get(self.sym.out_path))
                    {
                        let (p, q) = (p.clone(), q.clone());
                        return self.eq_inner(&p, &q);
                    }
                }
                if x.len() != y.len() {
                    return Ok(false);
                }
                for (p, q) in x.iter().zip(y.iter()) {
                    if p.name != q.name || !self.eq_inner(&p.value, &q.value)? {
                        return Ok(false);
                    }
                }
                true
            }
            _ => false,
        })
    }

    /// Whether a set has `type = "derivation"`.
    pub(crate) fn is_derivation(&mut self, a: &Attrs) -> Result<bool> {
        match a.get(self.sym.type_) {
            Some(t) => {
                let t = t.clone();
                match self.force(&t)? {
                    Value::String(s) => Ok(s.as_bytes() == b"derivation"),
                    _ => Ok(false),
                }
            }
            None => Ok(false),
        }
    }

    /// `<` as CppNix compares values.
    pub(crate) fn less_than(&mut self, a: &Value, b: &Value) -> Result<bool> {
        let a = self.force(a)?;
        let b = self.force(b)?;
        match (&a, &b) {
            (Value::Int(x), Value::Int(y)) => Ok(x < y),
            (Value::Int(x), Value::Float(y)) => Ok((*x as f64) < *y),
            (Value::Float(x), Value::Int(y)) => Ok(*x < (*y as f64)),
            (Value::Float(x), Value::Float(y)) => Ok(x < y),
            (Value::String(x), Value::String(y)) => Ok(x.as_bytes() < y.as_bytes()),
            (Value::Path(x), Value::Path(y)) => Ok(x.as_bytes() < y.as_bytes()),
            (Value::List(x), Value::List(y)) => {
                let mut i = 0;
                loop {
                    if i == y.len() {
                        return Ok(false);
                    }
                    if i == x.len() {
                        return Ok(true);
                    }
                    if !self.eq_values(&x[i], &y[i])? {
                        return self.less_than(&x[i], &y[i]);
                    }
                    i += 1;
                }
            }
            _ => Err(Error::eval(format!(
                "cannot compare {} with {}",
                a.show_type(),
                b.show_type()
            ))),
        }
    }

    #[inline(never)]
    fn eval_concat(
        &mut self,
        env: &Rc<Env>,
        parts: &[(ExprRef, Pos)],
        force_string: bool,
        pos: Pos,
        pre: Vec<Value>,
    ) -> Result<Value> {
        #[derive(PartialEq, Clone, Copy)]
        enum First {
            Int,
            Float,
            Path,
            Str,
        }
        let mut first = if force_string { Some(First::Str) } else { None };
        let mut n: i64 = 0;
        let mut nf: f64 = 0.0;
        let mut buf: Vec<u8> = Vec::new();
        let mut ctx = crate::value::Context::new();
        let mut pre = pre.into_iter();
        for (p, ppos) in parts.iter() {
            let v = match pre.next() {
                Some(v) => v,
                None => self.eval(env, p)?,
            };
            let kind = match first {
                Some(k) => k,
                None => {
                    let k = match &v {
                        Value::Int(_) => First::Int,
                        Value::Float(_) => First::Float,
                        Value::Path(_) => First::Path,
                        _ => First::Str,
                    };
                    first = Some(k);
                    k
                }
            };
            match kind {
                First::Int => match v {
                    Value::Int(x) => n = n.wrapping_add(x),
                    Value::Float(x) => {
                        nf = n as f64 + x;
                        first = Some(First::Float);
                    }
                    other => {
                        return Err(Error::type_error(format!(
                            "cannot add {} to an integer",
                            other.show_type()
                        ))
                        .at(*ppos))
                    }
                },
                First::Float => match v {
                    Value::Int(x) => nf += x as f64,
                    Value::Float(x) => nf += x,
                    other => {
                        return Err(Error::type_error(format!(
                            "cannot add {} to a float",
                            other.show_type()
                        ))
                        .at(*ppos))
                    }
                },
                First::Path | First::Str => {
                    if let Value::String(s) = &v {
                        if let Some(c) = s.context() {
                            ctx.extend(c);
                        }
                        buf.extend_from_slice(s.as_bytes());
                        continue;
                    }
                    let copy = kind == First::Str;
                    let s = self.coerce_to_string(&v, Some(*ppos), false, copy, &mut ctx)?;
                    buf.extend_from_slice(&s);
                }
            }
        }
        match first {
            Some(First::Int) => Ok(Value::Int(n)),
            Some(First::Float) => Ok(Value::Float(nf)),
            Some(First::Path) => {
                if !ctx.is_empty() {
                    return Err(Error::eval(
                        "a string that refers to a store path cannot be appended to a path",
                    )
                    .at(pos));
                }
                Ok(Value::Path(NixString::new(canon_path(&buf))))
            }
            _ => Ok(Value::String(NixString::with_context(buf, Some(ctx)))),
        }
    }

    /// CppNix's `coerceToString`: strings (with context), paths (copied to the store when
    /// `copy_to_store`), sets with `__toString`/`outPath`, and with `coerce_more` also
    /// bools, numbers, null and lists.
    #[inline(never)]
    pub(crate) fn coerce_to_string(
        &mut self,
        v: &Value,
        pos: Option<Pos>,
        coerce_more: bool,
        copy_to_store: bool,
        ctx: &mut crate::value::Context,
    ) -> Result<Vec<u8>> {
        let v = self.force(v)?;
        match &v {
            Value::String(s) => {
                if let Some(c) = s.context() {
                    ctx.extend(c);
                }
                Ok(s.as_bytes().to_vec())
            }
            Value::Path(p) => {
                if copy_to_store {
                    let sp = self.copy_path_to_store(p.as_bytes())?;
                    ctx.insert(sp.clone());
                    Ok(sp.into_bytes())
                } else {
                    Ok(p.as_bytes().to_vec())
                }
            }
            Value::Attrs(a) => {
                if let Some(f) = a.get(self.sym.to_string) {
                    let f = f.clone();
                    let r = self.call_value(&f, v.clone(), pos)?;
                    return self.coerce_to_string(&r, pos, coerce_more, copy_to_store, ctx);
                }
                if let Some(o) = a.get(self.sym.out_path) {
                    let o = o.clone();
                    return self.coerce_to_string(&o, pos, coerce_more, copy_to_store, ctx);
                }
                Err(Error::type_error("cannot coerce a set to a string").at_opt(pos))
            }
            Value::Bool(b) if coerce_more => Ok(if *b { b"1".to_vec() } else { Vec::new() }),
            Value::Int(i) if coerce_more => Ok(i.to_string().into_bytes()),
            Value::Float(f) if coerce_more => Ok(crate::support::float::format_f(*f).into_bytes()),
            Value::Null if coerce_more => Ok(Vec::new()),
            Value::List(l) if coerce_more => {
                let mut out = Vec::new();
                let n = l.len();
                for (i, x) in l.iter().enumerate() {
                    let s = self.coerce_to_string(x, pos, coerce_more, copy_to_store, ctx)?;
                    out.extend_from_slice(&s);
                    if i + 1 < n {
                        let fx = self.force(x)?;
                        let empty_list = matches!(&fx, Value::List(l2) if l2.is_empty());
                        if !empty_list {
                            out.push(b' ');
                        }
                    }
                }
                Ok(out)
            }
            other => Err(Error::type_error(format!(
                "cannot coerce {} to a string",
                other.show_type()
            ))
            .at_opt(pos)),
        }
    }

    /// Copies a path to the store (read-only: only computes the store path) and returns it.
    pub(crate) fn copy_path_to_store(&mut self, path: &[u8]) -> Result<String> {
        let p = PathBuf::from(String::from_utf8_lossy(path).into_owned());
        crate::builtins::store_ops::copy_source(self, &p)
    }

    /// Parses, lowers and evaluates a source text to weak head normal form. `base` is an
    /// extra outermost scope (for `scopedImport`).
    pub(crate) fn eval_source(
        &mut self,
        origin: crate::syntax::Origin,
        text: Vec<u8>,
        base_dir: &std::path::Path,
        base: Option<&Attrs>,
    ) -> Result<Value> {
        let file = self.add_source(origin, text);
        let mut opts = crate::syntax::ParseOptions::new(base_dir);
        if let Some(h) = &self.settings.home {
            opts = opts.with_home(h.clone());
        }
        let ast =
            crate::syntax::parse(&self.sources, file, &mut self.symbols, &opts).map_err(|e| {
                Error::new(ErrorKind::Parse, e.message.clone()).at(Pos::at(
                    self.sources.base(e.span.file).unwrap_or(0),
                    e.span.start,
                ))
            })?;
        let scope_names = base.map(|a| a.iter().map(|x| x.name).collect::<Vec<_>>());
        let ir = crate::lower::Lowerer::new(self, file, scope_names).lower(ast)?;
        let env = match base {
            Some(a) => {
                let env = Env::new(None, a.len());
                for (i, x) in a.iter().enumerate() {
                    env.set(i, x.value.clone());
                }
                Rc::new(env)
            }
            None => Rc::new(Env::new(None, 0)),
        };
        self.eval(&env, &ir)
    }

    /// `import path`: evaluates a file (or `default.nix` in a directory), cached per path.
    pub(crate) fn import_path(
        &mut self,
        path: &std::path::Path,
        _pos: Option<Pos>,
    ) -> Result<Value> {
        let target = crate::builtins::import_target(self, path);
        if let Some(v) = self.import_cache.get(&target) {
            return Ok(v.clone());
        }
        if let Some(text) = crate::fetch::corepkgs_file(&target) {
            // CppNix 2.8 parses its embedded <nix/fetchurl.nix> as a string based at "/"
            let v = self.eval_source(
                crate::syntax::Origin::String,
                text.as_bytes().to_vec(),
                std::path::Path::new("/"),
                None,
            )?;
            self.import_cache.insert(target, v.clone());
            return Ok(v);
        }
        if self.io.file_kind(path).is_none() {
            return Err(Error::new(
                ErrorKind::Io,
                format!(
                    "getting status of '{}': No such file or directory",
                    target.display()
                ),
            ));
        }
        let text = self
            .io
            .read_file(&target)
            .map_err(|m| Error::new(ErrorKind::Io, m))?;
        let dir = target
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_else(|| PathBuf::from("/"));
        let v = self.eval_source(
            crate::syntax::Origin::File(target.clone()),
            text,
            &dir,
            None,
        )?;
        self.import_cache.insert(target, v.clone());
        Ok(v)
    }

    /// `scopedImport attrs path`: like `import`, with `attrs` in scope; not cached.
    pub(crate) fn scoped_import_path(
        &mut self,
        scope: &Attrs,
        path: &std::path::Path,
        _pos: Option<Pos>,
    ) -> Result<Value> {
        let target = crate::builtins::import_target(self, path);
        if self.io.file_kind(path).is_none() {
            return Err(Error::new(
                ErrorKind::Io,
                format!(
                    "getting status of '{}': No such file or directory",
                    target.display()
                ),
            ));
        }
        let text = self
            .io
            .read_file(&target)
            .map_err(|m| Error::new(ErrorKind::Io, m))?;
        let dir = target
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_else(|| PathBuf::from("/"));
        self.eval_source(crate::syntax::Origin::File(target), text, &dir, Some(scope))
    }

    /// Parses and lowers an expression (as `--arg NAME EXPR`) and returns it unevaluated.
    ///
    /// # Errors
    /// Syntax errors and undefined variables.
    pub fn delay_expr(&mut self, text: &str, base_dir: &std::path::Path) -> Result<Value> {
        let file = self.add_source(crate::syntax::Origin::String, text.as_bytes().to_vec());
        let mut opts = crate::syntax::ParseOptions::new(base_dir);
        if let Some(h) = &self.settings.home {
            opts = opts.with_home(h.clone());
        }
        let ast =
            crate::syntax::parse(&self.sources, file, &mut self.symbols, &opts).map_err(|e| {
                Error::new(ErrorKind::Parse, e.message.clone()).at(Pos::at(
                    self.sources.base(e.span.file).unwrap_or(0),
                    e.span.start,
                ))
            })?;
        let ir = crate::lower::Lowerer::new(self, file, None).lower(ast)?;
        let env = Rc::new(Env::new(None, 0));
        // always a thunk, as CppNix (printed `<CODE>` until forced)
        Ok(Value::Thunk(Thunk::pending(env, ir)))
    }

    /// CppNix's `autoCallFunction`: calls a function taking a formals pattern with the given
    /// arguments (`--arg`/`--argstr`); other values are returned as they are.
    ///
    /// # Errors
    /// A required argument without a value, and evaluation errors.
    pub fn auto_call(&mut self, f: &Value, args: &[(String, Value)]) -> Result<Value> {
        let f = self.force(f)?;
        if let Value::Attrs(a) = &f {
            if let Some(functor) = a.get(self.sym.functor) {
                let functor = functor.clone();
                let g = self.call_value(&functor, f.clone(), None)?;
                let g = self.force(&g)?;
                return self.auto_call(&g, args);
            }
        }
        let Value::Lambda(c) = &f else {
            return Ok(f);
        };
        let Some(formals) = &c.lambda.formals else {
            return Ok(f);
        };
        let mut b = AttrsBuilder::new();
        if formals.ellipsis {
            for (n, v) in args {
                let s = self.symbols.intern(n.as_bytes());
                b.insert(s, v.clone(), None);
            }
        } else {
            for fm in &formals.entries {
                let name = self.symbols.resolve(fm.name).to_vec();
                match args.iter().find(|(n, _)| n.as_bytes() == name.as_slice()) {
                    Some((_, v)) => b.insert(fm.name, v.clone(), None),
                    None if fm.default.is_none() => {
                        return Err(Error::eval(format!(
                            "cannot evaluate a function that has an argument without a value ('{}') Nix attempted to evaluate a function as a top level expression; in this case it must have its arguments supplied either by default values, or passed explicitly with '--arg' or '--argstr'. See https://nixos.org/manual/nix/stable/#ss-functions.",
                            String::from_utf8_lossy(&name)
                        )))
                    }
                    None => {}
                }
            }
        }
        let arg = Value::Attrs(Rc::new(b.build()));
        self.call_value(&f, arg, None)
    }

    /// CppNix's `findAlongAttrPath` (`-A a.b.0`): selects attributes and list elements,
    /// auto-calling functions on the way.
    ///
    /// # Errors
    /// Missing attributes, bad indices and evaluation errors.
    pub fn find_along_attr_path(
        &mut self,
        root: &Value,
        path: &str,
        args: &[(String, Value)],
    ) -> Result<Value> {
        let mut v = root.clone();
        if path.is_empty() {
            return Ok(v);
        }
        let mut tokens = Vec::new();
        let mut cur = String::new();
        let mut quoted = false;
        for ch in path.chars() {
            match ch {
                '"' => quoted = !quoted,
                '.' if !quoted => tokens.push(std::mem::take(&mut cur)),
                c => cur.push(c),
            }
        }
        tokens.push(cur);
        for tok in tokens {
            let called = self.auto_call(&v, args)?;
            v = self.force(&called)?;
            if let Ok(idx) = tok.parse::<usize>() {
                let l = match &v {
                    Value::List(l) => l.clone(),
                    other => {
                        return Err(Error::type_error(format!(
                            "the expression selected by the selection path '{path}' should be a list but is {}",
                            other.show_type()
                        )))
                    }
                };
                match l.get(idx) {
                    Some(x) => v = x.clone(),
                    None => {
                        return Err(Error::eval(format!(
                            "list index {idx} in selection path '{path}' is out of range"
                        )))
                    }
                }
            } else {
                let a = match &v {
                    Value::Attrs(a) => a.clone(),
                    other => {
                        return Err(Error::type_error(format!(
                            "the expression selected by the selection path '{path}' should be a set but is {}",
                            other.show_type()
                        )))
                    }
                };
                if tok.is_empty() {
                    return Err(Error::eval(format!(
                        "empty attribute name in selection path '{path}'"
                    )));
                }
                let sym = self.symbols.intern(tok.as_bytes());
                match a.get(sym) {
                    Some(x) => v = x.clone(),
                    None => {
                        let names = a.iter().map(|x| self.symbols.resolve(x.name));
                        let sugg = diagnostic::suggestions(tok.as_bytes(), names);
                        return Err(Error::new(
                            ErrorKind::MissingAttr,
                            format!("attribute '{tok}' in selection path '{path}' not found"),
                        )
                        .with_suggestions(sugg));
                    }
                }
            }
        }
        Ok(v)
    }

    /// Registers a source text and returns its file id.
    pub(crate) fn add_source(&mut self, origin: crate::syntax::Origin, text: Vec<u8>) -> FileId {
        self.sources.add(origin, text)
    }
}

/// Arithmetic operators shared by the IR and the builtins.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arith {
    Add,
    Sub,
    Mul,
    Div,
}

/// Applies an arithmetic operator to two forced values.
pub(crate) fn arith(op: Arith, a: &Value, b: &Value) -> Result<Value> {
    match op {
        Arith::Add => ops::add(a, b),
        Arith::Sub => ops::sub(a, b),
        Arith::Mul => ops::mul(a, b),
        Arith::Div => ops::div(a, b),
    }
}

/// The integer `e` already is in `env`, if it is a constant or an evaluated variable.
#[inline]
fn known_int(env: &Rc<Env>, e: &Expr) -> Option<i64> {
    match e {
        Expr::Const(Value::Int(i)) => Some(*i),
        Expr::Var { level, slot, .. } => match env.up(*level).get(*slot as usize)? {
            Value::Int(i) => Some(*i),
            Value::Thunk(t) => match &*t.0.try_borrow().ok()? {
                ThunkState::Done(Value::Int(i)) => Some(*i),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// The result of `lhs op rhs` when both sides are known integers and the operation can
/// neither fail nor have an effect, so computing it ahead of time is not observable (beyond
/// the thunk being shown as `<CODE>` until forced, which `ThunkState::Eager` keeps).
#[inline]
fn eager_int_bin(env: &Rc<Env>, op: BinOp, lhs: &Expr, rhs: &Expr) -> Option<Value> {
    if matches!(op, BinOp::Update | BinOp::Concat) {
        return None;
    }
    let x = known_int(env, lhs)?;
    let y = known_int(env, rhs)?;
    int_bin(op, x, y)
}

/// `x op y` on integers when it can neither fail nor have an effect.
#[inline(always)]
fn int_bin(op: BinOp, x: i64, y: i64) -> Option<Value> {
    Some(match op {
        BinOp::Sub => Value::Int(x.wrapping_sub(y)),
        BinOp::Mul => Value::Int(x.wrapping_mul(y)),
        BinOp::Div => {
            if y == 0 || (x == i64::MIN && y == -1) {
                return None;
            }
            Value::Int(x / y)
        }
        BinOp::Lt => Value::Bool(x < y),
        BinOp::Le => Value::Bool(x <= y),
        BinOp::Gt => Value::Bool(x > y),
        BinOp::Ge => Value::Bool(x >= y),
        BinOp::Eq => Value::Bool(x == y),
        BinOp::Ne => Value::Bool(x != y),
        BinOp::Update | BinOp::Concat => return None,
    })
}

#[cold]
fn fix_recursion(e: Error, pos: Pos) -> Error {
    if e.kind() == ErrorKind::InfiniteRecursion && e.pos().is_none() {
        e.at(pos)
    } else {
        e
    }
}

/// Canonicalises an absolute path textually: collapses `//`, removes `.` and resolves `..`.
pub(crate) fn canon_path(p: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for comp in p.split(|c| *c == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return b"/".to_vec();
    }
    let mut out = Vec::with_capacity(p.len());
    for c in parts {
        out.push(b'/');
        out.extend_from_slice(c);
    }
    out
}
