//! String context builtins beyond the basic ones in `strings.rs`: `appendContext`.
//!
//! Context elements are encoded as CppNix does: `P` (a plain store path), `=P.drv` (a
//! derivation with all its outputs), `!out!P.drv` (one output of a derivation).

use std::rc::Rc;

use super::store::force_string_no_ctx;
use super::PrimOp;
use crate::diagnostic::Pos;
use crate::error::{Error, Result};
use crate::eval::EvalState;
use crate::value::Value;

fn append_context(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let orig = st.force_string(&args[0], pos)?;
    let mut ctx = orig.context().cloned().unwrap_or_default();
    let attrs = st.force_attrs(&args[1], pos)?;
    let store = Rc::clone(&st.store);
    let dir = store.store_dir().clone();
    let path_sym = st.symbols.intern(b"path");
    let all_sym = st.symbols.intern(b"allOutputs");
    let outputs_sym = st.symbols.intern(b"outputs");
    let entries: Vec<_> = attrs
        .iter()
        .map(|a| {
            (
                String::from_utf8_lossy(st.symbols.resolve(a.name)).into_owned(),
                a.value.clone(),
                a.pos.or(pos),
            )
        })
        .collect();
    for (name, value, apos) in entries {
        let sp = match dir.parse_path(&name) {
            Ok(sp) => sp,
            Err(_) => {
                return Err(
                    Error::eval(format!("Context key '\"{name}\"' is not a store path"))
                        .at_opt(apos),
                )
            }
        };
        if store.backend().writes() {
            store.backend().ensure_path(&sp)?;
        }
        let info = st.force_attrs(&value, apos)?;
        if let Some(a) = info.iter().find(|a| a.name == path_sym) {
            let (v, p) = (a.value.clone(), a.pos.or(apos));
            if st.force_bool(&v, p)? {
                ctx.insert(name.clone());
            }
        }
        if let Some(a) = info.iter().find(|a| a.name == all_sym) {
            let (v, p) = (a.value.clone(), a.pos.or(apos));
            if st.force_bool(&v, p)? {
                if !name.ends_with(".drv") {
                    return Err(Error::eval(format!(
                        "Tried to add all-outputs context of \"{name}\", which is not a derivation, to a string"
                    ))
                    .at_opt(apos));
                }
                ctx.insert(format!("={name}"));
            }
        }
        if let Some(a) = info.iter().find(|a| a.name == outputs_sym) {
            let (v, p) = (a.value.clone(), a.pos.or(apos));
            let list = st.force_list(&v, p)?;
            if !list.is_empty() && !name.ends_with(".drv") {
                return Err(Error::eval(format!(
                    "Tried to add derivation output context of \"{name}\", which is not a derivation, to a string"
                ))
                .at_opt(apos));
            }
            for x in list.iter() {
                let out = force_string_no_ctx(st, x, p)?;
                ctx.insert(format!("!{}!{name}", out.to_str_lossy()));
            }
        }
    }
    Ok(Value::String(orig.with_other_context(Some(ctx))))
}

pub(super) const PRIMOPS: &[PrimOp] = &[PrimOp {
    name: "appendContext",
    arity: 2,
    func: append_context,
}];
