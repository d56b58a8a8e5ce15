//! `derivationStrict` and the `derivation` wrapper, as CppNix 2.8 defines them.
//!
//! `derivationStrict` turns an attribute set into a [`Derivation`]: every attribute is coerced
//! to a string for the environment (or, with `__structuredAttrs`, printed as JSON into
//! `__json`), the string contexts become the input derivations and sources, the output paths
//! are computed (`hashDerivationModulo` for input-addressed outputs, the expected hash for a
//! fixed output) and the `.drv` file is added to the store (written in read-write mode,
//! only computed in read-only mode). It returns `{ drvPath; <output> = path; … }`.
//!
//! `derivation` is CppNix's `derivation.nix`, kept as Nix source with the same layout so that
//! error positions and trace frames (`//builtin/derivation.nix:19:9`) are the same.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use nix_derivation::{Derivation, DerivationOutput};
use nix_store::content_address::FileIngestionMethod;
use nix_store::hash::{Hash, HashAlgo};
use nix_store::store_path::{StoreDir, StorePath};

use super::store::{force_string_no_ctx, parse_hash_allow_empty};
use super::PrimOp;
use crate::diagnostic::Pos;
use crate::error::{Error, Result};
use crate::eval::EvalState;
use crate::value::{AttrsBuilder, Context, NixString, Value};

/// The path CppNix 2.8 gives `derivation.nix` in positions.
pub const DERIVATION_NIX_PATH: &str = "//builtin/derivation.nix";

/// The Nix source of `derivation`: the behaviour (and the line/column layout, which error
/// positions show) of CppNix 2.8's `derivation.nix`, in our own words where layout allows.
pub const DERIVATION_NIX: &str = "
/* `derivation`: derivationStrict plus the attribute set users see,
   with one attribute set per output sharing the common attributes. */

drvAttrs @ { outputs ? [ \"out\" ], ... }:

let

  strict = derivationStrict drvAttrs;

  commonAttrs = drvAttrs // (builtins.listToAttrs outputsList) //
    { all = map (x: x.value) outputsList;
      inherit drvAttrs;
    };

  outputToAttrListElement = outputName:
    { name = outputName;
      value = commonAttrs // {
        outPath = builtins.getAttr outputName strict;
        drvPath = strict.drvPath;
        type = \"derivation\";
        inherit outputName;
      };
    };

  outputsList = map outputToAttrListElement outputs;

in (builtins.head outputsList).value
";

/// CppNix's store path name check, with its message (`store path '<hash>-<name>' contains
/// illegal character ' '`), for the path `type_`/`inner`/`name` would get.
pub(crate) fn check_path_name(dir: &StoreDir, type_: &str, inner: &Hash, name: &str) -> Result<()> {
    let bad = if name.is_empty() {
        Some("has an empty name".to_string())
    } else if name.len() > 211 {
        Some("has a name longer than 211 characters".to_string())
    } else {
        name.bytes()
            .find(|c| !(c.is_ascii_alphanumeric() || b"+-._?=".contains(c)))
            .map(|c| format!("contains illegal character '{}'", c as char))
    };
    let Some(what) = bad else {
        return Ok(());
    };
    let fingerprint = format!(
        "{type_}:{}:{}:{name}",
        inner.to_typed_base16(),
        dir.as_str()
    );
    let digest = Hash::digest_bytes(HashAlgo::Sha256, fingerprint.as_bytes()).compress(20);
    let hash_part = Hash::new(HashAlgo::Sha1, &digest)
        .map(|h| h.to_nix32())
        .unwrap_or_default();
    Err(Error::eval(format!(
        "store path '{hash_part}-{name}' {what}"
    )))
}

/// A string whose context is `element`.
fn string_with(s: String, element: String) -> Value {
    let mut c = Context::new();
    c.insert(element);
    Value::String(NixString::with_context(s.into_bytes(), Some(c)))
}

fn experimental(feature: &str) -> Error {
    Error::eval(format!(
        "experimental Nix feature '{feature}' is disabled; use '--extra-experimental-features {feature}' to override"
    ))
}

fn derivation_strict(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let attrs = st.force_attrs(&args[0], pos)?;
    let name_sym = st.sym.name;
    let Some(name_attr) = attrs.iter().find(|a| a.name == name_sym) else {
        return Err(super::misc::missing_for_call(
            "name",
            "derivationStrict",
            attrs.pos(),
            pos,
        ));
    };
    let pos_drv_name = name_attr.pos.or(pos);
    let drv_name = force_string_no_ctx(st, &name_attr.value.clone(), pos)
        .map_err(|e| {
            e.add_trace(
                pos_drv_name,
                "while evaluating the derivation attribute 'name'",
            )
        })?
        .to_str_lossy()
        .into_owned();

    // name → (value, position), in name order (CppNix's lexicographicOrder)
    let mut entries: Vec<(Vec<u8>, Value, Option<Pos>)> = attrs
        .iter()
        .map(|a| (st.symbols.resolve(a.name).to_vec(), a.value.clone(), a.pos))
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let find = |n: &[u8]| entries.iter().find(|e| e.0 == n).map(|e| e.1.clone());

    let structured = match find(b"__structuredAttrs") {
        Some(v) => st.force_bool(&v, pos)?,
        None => false,
    };
    let ignore_nulls = match find(b"__ignoreNulls") {
        Some(v) => st.force_bool(&v, pos)?,
        None => false,
    };

    let mut drv = Derivation::default();
    let mut ctx = Context::new();
    let mut json: Vec<u8> = Vec::new();
    let mut json_first = true;
    let mut output_hash: Option<String> = None;
    let mut output_hash_algo = String::new();
    let mut method = FileIngestionMethod::Flat;
    let mut outputs: BTreeSet<String> = ["out".to_string()].into();

    let handle_outputs = |list: Vec<String>| -> Result<BTreeSet<String>> {
        let mut out = BTreeSet::new();
        for j in list {
            if out.contains(&j) {
                return Err(
                    Error::eval(format!("duplicate derivation output '{j}'")).at_opt(pos_drv_name)
                );
            }
            if j == "drv" {
                return Err(
                    Error::eval("invalid derivation output name 'drv'").at_opt(pos_drv_name)
                );
            }
            out.insert(j);
        }
        if out.is_empty() {
            return Err(
                Error::eval("derivation cannot have an empty set of outputs").at_opt(pos_drv_name),
            );
        }
        Ok(out)
    };
    let hash_mode = |s: &str| -> Result<FileIngestionMethod> {
        match s {
            "recursive" => Ok(FileIngestionMethod::Recursive),
            "flat" => Ok(FileIngestionMethod::Flat),
            _ => Err(Error::eval(format!(
                "invalid value '{s}' for 'outputHashMode' attribute"
            ))
            .at_opt(pos_drv_name)),
        }
    };

    for (key, value, apos) in &entries {
        if key == b"__ignoreNulls" {
            continue;
        }
        let key_s = String::from_utf8_lossy(key).into_owned();
        let res = (|| -> Result<()> {
            if ignore_nulls && matches!(st.force(value)?, Value::Null) {
                return Ok(());
            }
            match key.as_slice() {
                b"__contentAddressed" => {
                    if st.force_bool(value, pos)? {
                        return Err(experimental("ca-derivations"));
                    }
                }
                b"__impure" => {
                    if st.force_bool(value, pos)? {
                        return Err(experimental("impure-derivations"));
                    }
                }
                b"args" => {
                    let list = st.force_list(value, pos)?;
                    for x in list.iter() {
                        let s = st.coerce_to_string(x, pos_drv_name, true, true, &mut ctx)?;
                        drv.args.push(s);
                    }
                }
                _ if structured => {
                    if key == b"__structuredAttrs" {
                        return Ok(());
                    }
                    json.push(if json_first { b'{' } else { b',' });
                    json_first = false;
                    crate::support::json::escape_string(&mut json, key);
                    json.push(b':');
                    let text = crate::print::to_json(st, value, *apos, &mut ctx)?;
                    json.extend_from_slice(&text);
                    match key.as_slice() {
                        b"builder" => {
                            let s = st.force_string(value, pos_drv_name)?;
                            if let Some(c) = s.context() {
                                ctx.extend(c);
                            }
                            drv.builder = s.as_bytes().to_vec();
                        }
                        b"system" => {
                            drv.system = force_string_no_ctx(st, value, pos_drv_name)?
                                .as_bytes()
                                .to_vec()
                        }
                        b"outputHash" => {
                            output_hash = Some(
                                force_string_no_ctx(st, value, pos_drv_name)?
                                    .to_str_lossy()
                                    .into_owned(),
                            )
                        }
                        b"outputHashAlgo" => {
                            output_hash_algo = force_string_no_ctx(st, value, pos_drv_name)?
                                .to_str_lossy()
                                .into_owned()
                        }
                        b"outputHashMode" => {
                            let s = force_string_no_ctx(st, value, pos_drv_name)?;
                            method = hash_mode(&s.to_str_lossy())?;
                        }
                        b"outputs" => {
                            let list = st.force_list(value, pos_drv_name)?;
                            let mut ss = Vec::new();
                            for x in list.iter() {
                                ss.push(
                                    force_string_no_ctx(st, x, pos_drv_name)?
                                        .to_str_lossy()
                                        .into_owned(),
                                );
                            }
                            outputs = handle_outputs(ss)?;
                        }
                        _ => {}
                    }
                }
                _ => {
                    let s =
                        st.coerce_to_string(value, apos.or(pos_drv_name), true, true, &mut ctx)?;
                    let text = String::from_utf8_lossy(&s).into_owned();
                    match key.as_slice() {
                        b"builder" => drv.builder = s.clone(),
                        b"system" => drv.system = s.clone(),
                        b"outputHash" => output_hash = Some(text),
                        b"outputHashAlgo" => output_hash_algo = text,
                        b"outputHashMode" => method = hash_mode(&text)?,
                        b"outputs" => {
                            outputs = handle_outputs(
                                text.split([' ', '\t', '\n', '\r'])
                                    .filter(|t| !t.is_empty())
                                    .map(str::to_string)
                                    .collect(),
                            )?
                        }
                        _ => {}
                    }
                    drv.env.entry(key.clone()).or_insert(s);
                }
            }
            Ok(())
        })();
        res.map_err(|e| {
            e.add_trace(
                pos_drv_name,
                format!("while evaluating the attribute '{key_s}' of the derivation '{drv_name}'"),
            )
        })?;
    }
    if structured {
        if json_first {
            json.push(b'{');
        }
        json.push(b'}');
        drv.env.insert(b"__json".to_vec(), json);
    }

    let store = st.store.clone();
    let dir = store.store_dir().clone();

    // the string context becomes the inputs
    for e in ctx.iter() {
        if let Some(p) = e.strip_prefix('=') {
            let sp = dir.parse_path(p).map_err(|x| Error::eval(x.to_string()))?;
            for j in store.closure(&sp)? {
                if j.name().ends_with(".drv") {
                    let outputs = store.output_names(&j)?;
                    drv.input_drvs.entry(j.clone()).or_default().extend(outputs);
                }
                drv.input_srcs.insert(j);
            }
        } else if let Some(rest) = e.strip_prefix('!') {
            if let Some((out, p)) = rest.split_once('!') {
                let sp = dir.parse_path(p).map_err(|x| Error::eval(x.to_string()))?;
                drv.input_drvs
                    .entry(sp)
                    .or_default()
                    .insert(out.to_string());
            }
        } else {
            drv.input_srcs
                .insert(dir.parse_path(e).map_err(|x| Error::eval(x.to_string()))?);
        }
    }

    if drv.builder.is_empty() {
        return Err(Error::eval("required attribute 'builder' missing").at_opt(pos_drv_name));
    }
    if drv.system.is_empty() {
        return Err(Error::eval("required attribute 'system' missing").at_opt(pos_drv_name));
    }
    if drv_name.ends_with(".drv") {
        return Err(
            Error::eval("derivation names are not allowed to end in '.drv'").at_opt(pos_drv_name),
        );
    }

    if let Some(h) = output_hash {
        if outputs.len() != 1 || !outputs.contains("out") {
            return Err(Error::eval(
                "multiple outputs are not supported in fixed-output derivations",
            )
            .at_opt(pos_drv_name));
        }
        // CppNix's parseHashTypeOpt: an unknown name counts as no type
        let algo = output_hash_algo.parse::<HashAlgo>().ok();
        if h.is_empty() {
            if let Some(a) = algo {
                let zero = parse_hash_allow_empty("", Some(a))?;
                st.io.trace(&format!(
                    "warning: found empty hash, assuming '{}'",
                    zero.to_sri()
                ));
            }
        }
        let hash = parse_hash_allow_empty(&h, algo)?;
        let inner = Hash::digest_bytes(
            HashAlgo::Sha256,
            format!("fixed:out:{}{}:", method.prefix(), hash.to_typed_base16()).as_bytes(),
        );
        if method == FileIngestionMethod::Recursive && hash.algo() == HashAlgo::Sha256 {
            check_path_name(&dir, "source", &hash, &drv_name)?;
        } else {
            check_path_name(&dir, "output:out", &inner, &drv_name)?;
        }
        let out = DerivationOutput::fixed(&dir, &drv_name, "out", method, hash)
            .map_err(|e| Error::eval(e.to_string()))?;
        drv.outputs.insert("out".into(), out);
    } else {
        for o in &outputs {
            drv.outputs.insert(o.clone(), DerivationOutput::Deferred);
            drv.env.insert(o.clone().into_bytes(), Vec::new());
        }
        // names are checked as CppNix's makeOutputPath does, with the masked hash
        for o in &outputs {
            let pname = nix_derivation::outputs::output_path_name(&drv_name, o);
            if check_path_name(
                &dir,
                "x",
                &Hash::digest_bytes(HashAlgo::Sha256, b""),
                &pname,
            )
            .is_err()
            {
                let inputs: Vec<StorePath> = drv.input_drvs.keys().cloned().collect();
                let h = store.with_resolver(&inputs, |r, c| {
                    nix_derivation::hash_modulo::hash_derivation_modulo(&drv, &dir, true, r, c)
                });
                let h = h.map_err(|e| Error::eval(e.to_string()))?;
                if let Some(oh) = h.hashes.get(o) {
                    check_path_name(&dir, &format!("output:{o}"), oh, &pname)?;
                }
            }
        }
    }
    let inputs: Vec<StorePath> = drv.input_drvs.keys().cloned().collect();
    store
        .with_resolver(&inputs, |r, c| {
            nix_derivation::outputs::fill_outputs(&mut drv, &drv_name, &dir, r, c)
        })
        .map_err(|e| Error::eval(e.to_string()))?;

    let file = drv
        .to_drv_file(&dir, &drv_name)
        .map_err(|e| Error::eval(e.to_string()))?;
    let drv_path = store
        .backend()
        .add_text(file.path.name(), &file.contents, &file.references)?;
    store.remember_derivation(drv_path.clone(), &drv)?;
    let drv_path_s = dir.display(&drv_path);

    let mut b = AttrsBuilder::with_capacity(1 + drv.outputs.len());
    let mut fields: BTreeMap<Vec<u8>, Value> = BTreeMap::new();
    fields.insert(
        b"drvPath".to_vec(),
        string_with(drv_path_s.clone(), format!("={drv_path_s}")),
    );
    for (name, o) in &drv.outputs {
        let p = o.path().map(|p| dir.display(p)).unwrap_or_default();
        fields.insert(
            name.clone().into_bytes(),
            string_with(p, format!("!{name}!{drv_path_s}")),
        );
    }
    for (k, v) in fields {
        let s = st.symbols.intern(&k);
        b.insert(s, v, None);
    }
    Ok(Value::Attrs(Rc::new(b.build())))
}

/// Evaluates `derivation.nix` to the `derivation` function.
pub(crate) fn derivation_value(st: &mut EvalState) -> Result<Value> {
    st.eval_source(
        crate::syntax::Origin::File(std::path::PathBuf::from(DERIVATION_NIX_PATH)),
        DERIVATION_NIX.as_bytes().to_vec(),
        std::path::Path::new("/"),
        None,
    )
}

pub(super) const PRIMOPS: &[PrimOp] = &[PrimOp {
    name: "derivationStrict",
    arity: 1,
    func: derivation_strict,
}];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_cppnix_positions() {
        // `outPath` is at 19:9 and `map` of outputsList at 26:17 in CppNix 2.8's file
        let lines: Vec<&str> = DERIVATION_NIX.split('\n').collect();
        assert!(lines[18].starts_with("        outPath = builtins.getAttr"));
        assert!(lines[25].starts_with("  outputsList = map"));
        assert_eq!(lines[4], "drvAttrs @ { outputs ? [ \"out\" ], ... }:");
    }
}
