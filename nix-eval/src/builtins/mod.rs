//! Builtins: a registry of `(name, arity, function)` per family.
//!
//! Each family module exposes `PRIMOPS: &[PrimOp]`. [`install`] builds the `builtins` set and
//! the global scope (the names CppNix puts there directly, plus `__name` for every builtin).
//!
//! Primops receive their arguments unforced and force what they need; `pos` is the position
//! of the call, used for the errors CppNix reports there.
//!
//! Store and derivation builtins (`derivationStrict`, `derivation`, `toFile`, `path`,
//! `filterSource`, `storePath`, `hashFile`, `appendContext`) live in `derivation`, `store` and
//! `context`; fetchers in `fetch`.

mod arith;
mod attrs;
mod context;
mod control;
pub mod derivation;
mod fetch;
mod lists;
mod misc;
mod serialize;
pub(crate) mod store;
mod strings;

pub(crate) use misc::import_target;
pub(crate) use store as store_ops;

use std::rc::Rc;

use crate::diagnostic::Pos;
use crate::error::Result;
use crate::eval::EvalState;
use crate::value::{AttrsBuilder, Value};

/// A builtin function.
pub struct PrimOp {
    /// The name (without `__`).
    pub name: &'static str,
    /// Number of arguments.
    pub arity: usize,
    pub(crate) func: fn(&mut EvalState, &[Value], Option<Pos>) -> Result<Value>,
}

impl std::fmt::Debug for PrimOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrimOp({}/{})", self.name, self.arity)
    }
}

/// Names that CppNix 2.8 puts in the global scope directly (besides `__name` for all).
const GLOBAL_NAMES: &[&str] = &[
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

fn families() -> [&'static [PrimOp]; 11] {
    [
        arith::PRIMOPS,
        attrs::PRIMOPS,
        context::PRIMOPS,
        control::PRIMOPS,
        derivation::PRIMOPS,
        fetch::PRIMOPS,
        lists::PRIMOPS,
        misc::PRIMOPS,
        serialize::PRIMOPS,
        store::PRIMOPS,
        strings::PRIMOPS,
    ]
}

/// Every builtin function name known to this implementation.
pub fn names() -> Vec<&'static str> {
    families()
        .iter()
        .flat_map(|f| f.iter().map(|p| p.name))
        .collect()
}

/// Installs the builtins and global names into a fresh evaluator.
pub(crate) fn install(st: &mut EvalState) {
    let mut entries: Vec<(Vec<u8>, Value)> = Vec::new();
    for fam in families() {
        for op in fam {
            entries.push((op.name.as_bytes().to_vec(), Value::PrimOp(op)));
        }
    }
    let store_dir = st.settings.store_dir.clone();
    let system = st.settings.system.clone();
    entries.push((b"true".to_vec(), Value::Bool(true)));
    entries.push((b"false".to_vec(), Value::Bool(false)));
    entries.push((b"null".to_vec(), Value::Null));
    entries.push((b"langVersion".to_vec(), Value::Int(6)));
    entries.push((b"nixVersion".to_vec(), Value::string("2.8.0")));
    entries.push((b"storeDir".to_vec(), Value::string(store_dir)));
    entries.push((b"currentSystem".to_vec(), Value::string(system)));
    if !st.settings.pure {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        entries.push((b"currentTime".to_vec(), Value::Int(now)));
    }
    let nix_path = misc::nix_path_value(st);
    entries.push((b"nixPath".to_vec(), nix_path));
    // `derivation` is Nix code (derivation.nix) evaluated once the scope is complete
    let derivation_thunk = crate::value::Thunk(Rc::new(std::cell::RefCell::new(
        crate::value::ThunkState::Blackhole,
    )));
    entries.push((
        b"derivation".to_vec(),
        Value::Thunk(derivation_thunk.clone()),
    ));

    let mut b = AttrsBuilder::with_capacity(entries.len() + 1);
    let mut syms = Vec::with_capacity(entries.len());
    for (name, v) in &entries {
        let s = st.symbols.intern(name);
        syms.push(s);
        b.insert(s, v.clone(), None);
    }
    // `builtins.builtins` refers to the set itself: use a thunk filled after construction
    let self_thunk = crate::value::Thunk(Rc::new(std::cell::RefCell::new(
        crate::value::ThunkState::Blackhole,
    )));
    let builtins_sym = st.symbols.intern(b"builtins");
    b.insert(builtins_sym, Value::Thunk(self_thunk.clone()), None);
    let set = Value::Attrs(Rc::new(b.build()));
    *self_thunk.0.borrow_mut() = crate::value::ThunkState::Done(set.clone());
    st.builtins = set.clone();

    for ((name, v), s) in entries.iter().zip(syms) {
        // CppNix registers these two without the `__` name
        if name == b"derivation" || name == b"derivationStrict" {
            continue;
        }
        let mut global = b"__".to_vec();
        global.extend_from_slice(name);
        let gs = st.symbols.intern(&global);
        st.globals.insert(gs, v.clone());
        let _ = s;
    }
    for g in GLOBAL_NAMES {
        let s = st.symbols.intern(g.as_bytes());
        if *g == "builtins" {
            st.globals.insert(s, set.clone());
        } else if let Some((_, v)) = entries.iter().find(|(n, _)| n == g.as_bytes()) {
            st.globals.insert(s, v.clone());
        }
    }
    let drv = derivation::derivation_value(st).unwrap_or(Value::Null);
    *derivation_thunk.0.borrow_mut() = crate::value::ThunkState::Done(drv);
}
