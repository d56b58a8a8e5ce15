//! Finding the derivations in a value and instantiating them, as `nix-instantiate FILE` (and
//! `nix-build`, `nix-env`) do.
//!
//! [`get_derivations`] is CppNix 2.8's `getDerivations`: a derivation is taken as is; the
//! attributes of a set are visited in name order (names matching `[A-Za-z_][A-Za-z0-9-_+]*`),
//! taking derivations and recursing only into sets with `recurseForDerivations = true`; the
//! elements of a list are all visited (nested lists and sets too); functions are called with
//! the automatic arguments (`--arg`/`--argstr`) first; the same derivation (same attribute set)
//! is taken once. Anything else is `expression does not evaluate to a derivation (or a set or
//! list of those)`.
//!
//! [`instantiate_value`] then forces each derivation's `drvPath` (which writes the `.drv`
//! files when the evaluator's store is read-write, see [`crate::store`]) and its
//! `outputName`.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use nix_eval::instantiate::instantiate_value;
//! use nix_eval::store::StoreBackend;
//! use nix_eval::Evaluator;
//! use nix_store::store::memory::MemoryStore;
//!
//! let mut ev = Evaluator::builder()
//!     .store(Box::new(StoreBackend::read_write(Arc::new(MemoryStore::new()))))
//!     .build();
//! let v = ev.eval_expr(
//!     r#"derivation { name = "simple"; system = "x86_64-linux"; builder = "/bin/sh";
//!        args = [ "-c" "echo hello > $out" ]; }"#,
//!     "/tmp",
//! )?;
//! let drvs = ev.with_big_stack(|ev| instantiate_value(ev.state(), &v, &[]))?;
//! assert_eq!(drvs[0].drv_path, "/nix/store/3ghsl9sd83mc26i81adpa2fzf3yw4f68-simple.drv");
//! assert_eq!(drvs[0].output_name, "out");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::rc::Rc;

use crate::error::{Error, ErrorKind, Result};
use crate::eval::EvalState;
use crate::value::{Attrs, Context, Value};

/// A derivation found in a value (CppNix's `DrvInfo`): its attribute set and where it was
/// found (`a.b`, `0`, or empty for the top level).
#[derive(Debug, Clone)]
pub struct DrvInfo {
    /// The attribute path it was found at.
    pub attr_path: String,
    attrs: Rc<Attrs>,
}

fn attr(
    st: &mut EvalState,
    a: &Attrs,
    name: &[u8],
) -> Option<(Value, Option<crate::diagnostic::Pos>)> {
    let s = st.intern(name);
    // a lookup, not a scan: iterating a layered (`//`) set would build and keep its flat array
    a.get_attr(s).map(|x| (x.value.clone(), x.pos))
}

impl DrvInfo {
    /// The attribute set.
    pub fn attrs(&self) -> &Rc<Attrs> {
        &self.attrs
    }

    /// `name` (`derivation name missing` if absent).
    ///
    /// # Errors
    /// A missing or non-string name.
    pub fn name(&self, st: &mut EvalState) -> Result<String> {
        let Some((v, _)) = attr(st, &self.attrs, b"name") else {
            return Err(Error::type_error("derivation name missing"));
        };
        let s = crate::builtins::store_ops::force_string_no_ctx(st, &v, None)?;
        Ok(s.to_str_lossy().into_owned())
    }

    /// `drvPath`, if present (forcing it instantiates the derivation).
    ///
    /// # Errors
    /// Evaluation errors, or a path outside the store.
    pub fn drv_path(&self, st: &mut EvalState) -> Result<Option<String>> {
        self.store_path_attr(st, b"drvPath")
    }

    /// `outPath`, if present.
    ///
    /// # Errors
    /// Evaluation errors, or a path outside the store.
    pub fn out_path(&self, st: &mut EvalState) -> Result<Option<String>> {
        self.store_path_attr(st, b"outPath")
    }

    fn store_path_attr(&self, st: &mut EvalState, name: &[u8]) -> Result<Option<String>> {
        let Some((v, pos)) = attr(st, &self.attrs, name) else {
            return Ok(None);
        };
        let mut ctx = Context::new();
        let s = st.coerce_to_string(&v, pos, false, false, &mut ctx)?;
        let s = String::from_utf8_lossy(&s).into_owned();
        if !s.starts_with('/') {
            return Err(
                Error::eval(format!("string '{s}' doesn't represent an absolute path")).at_opt(pos),
            );
        }
        if st.store.store_dir().parse_path(&s).is_err() {
            return Err(Error::eval(format!("path '{s}' is not in the Nix store")).at_opt(pos));
        }
        Ok(Some(s))
    }

    /// `outputName`, or the empty string if absent.
    ///
    /// # Errors
    /// A non-string value.
    pub fn output_name(&self, st: &mut EvalState) -> Result<String> {
        match attr(st, &self.attrs, b"outputName") {
            Some((v, _)) => Ok(
                crate::builtins::store_ops::force_string_no_ctx(st, &v, None)?
                    .to_str_lossy()
                    .into_owned(),
            ),
            None => Ok(String::new()),
        }
    }
}

fn attr_name_ok(n: &[u8]) -> bool {
    match n.split_first() {
        Some((f, rest)) => {
            (f.is_ascii_alphabetic() || *f == b'_')
                && rest
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || b"-_+".contains(c))
        }
        None => false,
    }
}

struct Walk<'a> {
    auto: &'a [(String, Value)],
    done: Vec<Rc<Attrs>>,
    out: Vec<DrvInfo>,
}

impl Walk<'_> {
    /// CppNix's `getDerivation`: `true` when `v` is not a derivation (so the caller may
    /// recurse).
    fn one(&mut self, st: &mut EvalState, v: &Value, path: &str) -> Result<bool> {
        let v = st.force(v)?;
        let Value::Attrs(a) = &v else {
            return Ok(true);
        };
        if !st.is_derivation(a)? {
            return Ok(true);
        }
        if self.done.iter().any(|d| Rc::ptr_eq(d, a)) {
            return Ok(false);
        }
        self.done.push(a.clone());
        let info = DrvInfo {
            attr_path: path.to_string(),
            attrs: a.clone(),
        };
        info.name(st)?;
        self.out.push(info);
        Ok(false)
    }

    fn all(&mut self, st: &mut EvalState, v: &Value, prefix: &str) -> Result<()> {
        let v = st.auto_call(v, self.auto)?;
        if !self.one(st, &v, prefix)? {
            return Ok(());
        }
        let join = |n: &str| {
            if prefix.is_empty() {
                n.to_string()
            } else {
                format!("{prefix}.{n}")
            }
        };
        match &v {
            Value::Attrs(a) => {
                let combine = st.intern(b"_combineChannels");
                let combine = a.contains(combine);
                let recurse_sym = st.intern(b"recurseForDerivations");
                let mut entries: Vec<(Vec<u8>, Value)> = a
                    .iter()
                    .map(|x| (st.symbols().resolve(x.name).to_vec(), x.value.clone()))
                    .collect();
                entries.sort_by(|x, y| x.0.cmp(&y.0));
                for (name, value) in entries {
                    if !attr_name_ok(&name) {
                        continue;
                    }
                    let p = join(&String::from_utf8_lossy(&name));
                    if combine {
                        self.all(st, &value, &p)?;
                    } else if self.one(st, &value, &p)? {
                        if let Value::Attrs(inner) = st.force(&value)? {
                            if let Some(r) = inner.get_attr(recurse_sym) {
                                let (rv, rpos) = (r.value.clone(), r.pos);
                                if st.force_bool(&rv, rpos)? {
                                    self.all(st, &value, &p)?;
                                }
                            }
                        }
                    }
                }
                Ok(())
            }
            Value::List(l) => {
                for (i, x) in l.iter().enumerate() {
                    let p = join(&i.to_string());
                    if self.one(st, x, &p)? {
                        self.all(st, x, &p)?;
                    }
                }
                Ok(())
            }
            _ => Err(Error::new(
                ErrorKind::Type,
                "expression does not evaluate to a derivation (or a set or list of those)",
            )),
        }
    }
}

/// The derivations in `v` (CppNix's `getDerivations`), see the module docs.
///
/// # Errors
/// Evaluation errors, and a value that is not a derivation, set or list.
pub fn get_derivations(
    st: &mut EvalState,
    v: &Value,
    auto_args: &[(String, Value)],
) -> Result<Vec<DrvInfo>> {
    let mut w = Walk {
        auto: auto_args,
        done: Vec::new(),
        out: Vec::new(),
    };
    w.all(st, v, "")?;
    Ok(w.out)
}

/// An instantiated derivation: what `nix-instantiate` prints for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instantiated {
    /// The attribute path it was found at.
    pub attr_path: String,
    /// The `.drv` store path.
    pub drv_path: String,
    /// The selected output (`out`, `dev`, …).
    pub output_name: String,
}

impl Instantiated {
    /// The line `nix-instantiate` prints: the `.drv` path, with `!<output>` unless the output
    /// is `out`.
    pub fn to_line(&self) -> String {
        if self.output_name == "out" {
            self.drv_path.clone()
        } else {
            format!("{}!{}", self.drv_path, self.output_name)
        }
    }
}

/// Instantiates one found derivation: forces `drvPath` (`derivation does not contain a
/// 'drvPath' attribute` if absent) and `outputName` (`derivation '…' lacks an 'outputName'
/// attribute` if absent).
///
/// # Errors
/// As described, and evaluation errors.
pub fn instantiate_one(st: &mut EvalState, d: &DrvInfo) -> Result<Instantiated> {
    let drv_path = d
        .drv_path(st)?
        .ok_or_else(|| Error::eval("derivation does not contain a 'drvPath' attribute"))?;
    let output_name = d.output_name(st)?;
    if output_name.is_empty() {
        return Err(Error::eval(format!(
            "derivation '{drv_path}' lacks an 'outputName' attribute"
        )));
    }
    Ok(Instantiated {
        attr_path: d.attr_path.clone(),
        drv_path,
        output_name,
    })
}

/// Finds and instantiates every derivation in `v`, as `nix-instantiate` does (use a
/// read-write store to write the `.drv` files).
///
/// # Errors
/// As [`get_derivations`] and [`instantiate_one`].
pub fn instantiate_value(
    st: &mut EvalState,
    v: &Value,
    auto_args: &[(String, Value)],
) -> Result<Vec<Instantiated>> {
    let drvs = get_derivations(st, v, auto_args)?;
    drvs.iter().map(|d| instantiate_one(st, d)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attr_names() {
        assert!(attr_name_ok(b"a-b_c+1"));
        assert!(attr_name_ok(b"_x"));
        assert!(!attr_name_ok(b"1x"));
        assert!(!attr_name_ok(b"a.b"));
        assert!(!attr_name_ok(b""));
    }
}
