//! What CppNix 2.8 puts in the build directory besides the builder's environment: structured
//! attributes (`.attrs.json`, `.attrs.sh`), `exportReferencesGraph` closure files, and the
//! output placeholders rewritten to the output paths.
//!
//! # Structured attributes
//! A derivation with `__structuredAttrs = true` has all its attributes as one JSON object in
//! the environment variable `__json`. Its builder gets none of the derivation's variables (and
//! no `passAsFile` files); instead the build directory holds:
//!
//! * `.attrs.json`: the object, with `outputs` replaced by an object output name → output
//!   path, and each key of the `exportReferencesGraph` object set to the closure of its paths
//!   as a list of path infos (`closureSize`, `narHash` as `sha256:<nix32>`, `narSize`, `path`,
//!   `references`, and `ca` when the path has one), printed as nlohmann::json prints: compact,
//!   keys sorted bytewise, non-ASCII raw, integral floats with `.0`;
//! * `.attrs.sh`: one `declare` line per key that is a shell variable name, in key order, for
//!   strings (`'…'`, with `'` as `'\''`), numbers whose `float` value is integral (printed as
//!   a C `int`, so `12345678901` becomes `-539222987`, as CppNix), `null` (`''`) and Booleans
//!   (`1` or empty); `declare -a` for lists and `declare -A` for objects whose elements are all
//!   of those kinds; everything else is skipped.
//!
//! and the environment has `NIX_ATTRS_JSON_FILE` and `NIX_ATTRS_SH_FILE` naming the two files
//! *by their path on the host* (CppNix 2.8 does exactly that, also in its sandbox, where the
//! builder sees the directory as `/build`). `impureEnvVars` and the output checks
//! (`outputChecks.<output>.{allowedReferences,allowedRequisites,disallowedReferences,
//! disallowedRequisites,maxSize,maxClosureSize}`, see [`super::register`]) are read from the
//! JSON.
//!
//! # `exportReferencesGraph` without structured attributes
//! The attribute is a list `name1 path1 name2 path2 …`; for each pair the file `nameN` of the
//! build directory receives the closure of `pathN` (which must be in the derivation's input
//! closure; outputs of `.drv` files in the closure are added with their closures) in the
//! format of `nix-store --register-validity`, without derivers or hashes.
//!
//! # Placeholders
//! `builtins.placeholder "out"` (`/<nix32(sha256("nix-output:out"))>`) in the arguments, the
//! environment, `passAsFile` files and the structured attribute files is replaced by the
//! output's path, as CppNix's `inputRewrites` do.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use nix_store::hash::{Hash, HashAlgo};
use nix_store::store::local::LocalStore;
use nix_store::store::Store;
use nix_store::store_path::{StoreDir, StorePath};
use serde_json::{Map, Value};

use super::builder::{BuildError, BuildPlan};
use crate::derivation::Derivation;

/// The placeholder of an output (`builtins.placeholder`): `/` followed by the nix32 SHA-256
/// of `nix-output:<name>`.
///
/// # Example
/// ```
/// use nix_derivation::build::attrs::hash_placeholder;
/// assert_eq!(hash_placeholder("out"), "/1rz4g4znpzjwh1xymhjpm42vipw92pr73vdgl6xs1hycac8kf2n9");
/// ```
pub fn hash_placeholder(output: &str) -> String {
    let h = Hash::digest_bytes(HashAlgo::Sha256, format!("nix-output:{output}").as_bytes());
    format!("/{}", h.to_nix32())
}

/// The rewrites of a build: each output's placeholder → its path, in CppNix's order (sorted
/// by the placeholder).
pub(crate) fn output_rewrites(
    outputs: &BTreeMap<String, StorePath>,
    store_dir: &StoreDir,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut r: Vec<(Vec<u8>, Vec<u8>)> = outputs
        .iter()
        .map(|(n, p)| {
            (
                hash_placeholder(n).into_bytes(),
                store_dir.display(p).into_bytes(),
            )
        })
        .collect();
    r.sort();
    r
}

/// CppNix's `rewriteStrings`: each rewrite in turn, every occurrence.
pub(crate) fn rewrite(s: &[u8], rewrites: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut cur = s.to_vec();
    for (from, to) in rewrites {
        if from.is_empty() || memchr::memmem::find(&cur, from).is_none() {
            continue;
        }
        let mut out = Vec::with_capacity(cur.len());
        let mut rest = &cur[..];
        while let Some(i) = memchr::memmem::find(rest, from) {
            out.extend_from_slice(&rest[..i]);
            out.extend_from_slice(to);
            rest = &rest[i + from.len()..];
        }
        out.extend_from_slice(rest);
        cur = out;
    }
    cur
}

/// The structured attributes of `drv` (its `__json`), parsed; `None` without them.
///
/// # Errors
/// [`BuildError::StructuredAttrs`] when `__json` is not a JSON object.
pub fn structured_attrs(
    drv: &Derivation,
    drv_shown: &str,
) -> Result<Option<Map<String, Value>>, BuildError> {
    let Some(json) = drv.structured_attrs() else {
        return Ok(None);
    };
    let err = |message: String| BuildError::StructuredAttrs {
        drv: drv_shown.to_string(),
        message,
    };
    match serde_json::from_slice::<Value>(json) {
        Ok(Value::Object(m)) => Ok(Some(m)),
        Ok(_) => Err(err("the value is not a JSON object".into())),
        Err(e) => Err(err(e.to_string())),
    }
}

/// CppNix's `getStringsAttr`: a list of strings from the structured attributes, or the
/// whitespace-separated words of the environment variable.
///
/// # Errors
/// [`BuildError::AttrNotStrings`] when a structured attribute is not a list of strings.
pub fn strings_attr(
    drv: &Derivation,
    structured: Option<&Map<String, Value>>,
    name: &str,
    drv_shown: &str,
) -> Result<Option<Vec<Vec<u8>>>, BuildError> {
    match structured {
        Some(m) => match m.get(name) {
            None => Ok(None),
            Some(v) => json_strings(v)
                .map(Some)
                .ok_or_else(|| BuildError::AttrNotStrings {
                    name: name.to_string(),
                    drv: drv_shown.to_string(),
                }),
        },
        None => Ok(drv
            .env_var(name)
            .map(|s| super::builder::tokenize(s).map(<[u8]>::to_vec).collect())),
    }
}

/// A JSON list of strings, as bytes.
pub(crate) fn json_strings(v: &Value) -> Option<Vec<Vec<u8>>> {
    v.as_array()?
        .iter()
        .map(|e| e.as_str().map(|s| s.as_bytes().to_vec()))
        .collect()
}

/// Adds to `plan` what the build directory and the environment get besides the basic
/// environment: the structured attribute files and variables, or the `exportReferencesGraph`
/// files. `host_build_dir` is the build directory on the host (named by
/// `NIX_ATTRS_*_FILE`), `outputs` the derivation's output paths, `input_closure` the closure
/// of its inputs.
///
/// # Errors
/// CppNix's errors for a bad `__json` or `exportReferencesGraph`, and store errors.
pub fn prepare(
    plan: &mut BuildPlan,
    store: &LocalStore,
    drv_path: &StorePath,
    drv: &Derivation,
    outputs: &BTreeMap<String, StorePath>,
    input_closure: &BTreeSet<StorePath>,
    host_build_dir: &Path,
) -> Result<(), BuildError> {
    let sd = store.store_dir();
    let shown = sd.display(drv_path);
    let rewrites = output_rewrites(outputs, sd);
    if let Some(mut json) = structured_attrs(drv, &shown)? {
        let outs: Map<String, Value> = outputs
            .iter()
            .map(|(n, p)| (n.clone(), Value::String(sd.display(p))))
            .collect();
        json.insert("outputs".into(), Value::Object(outs));
        let graphs: Vec<(String, Value)> = match json.get("exportReferencesGraph") {
            Some(Value::Object(g)) => g.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            _ => Vec::new(),
        };
        for (key, spec) in graphs {
            let mut roots = BTreeSet::new();
            let items: Vec<&Value> = match &spec {
                Value::Array(a) => a.iter().collect(),
                Value::Object(o) => o.values().collect(),
                v => vec![v],
            };
            for item in items {
                let s = item.as_str().ok_or_else(|| BuildError::Json {
                    message: format!(
                        "[json.exception.type_error.302] type must be string, but is {}",
                        json_type_name(item)
                    ),
                })?;
                let p = sd.parse_path(s).map_err(|_| BuildError::NotInStore {
                    path: s.to_string(),
                })?;
                roots.insert(p);
            }
            let paths = export_references(store, input_closure, &roots)?;
            json.insert(key, path_infos_json(store, &paths)?);
        }
        let text = rewrite(
            dump_json(&Value::Object(json.clone())).as_bytes(),
            &rewrites,
        );
        let sh = rewrite(attrs_sh(&json).as_bytes(), &rewrites);
        plan.files.push((".attrs.json".into(), text));
        plan.files.push((".attrs.sh".into(), sh));
        let dir = host_build_dir.as_os_str();
        for (var, file) in [
            ("NIX_ATTRS_JSON_FILE", ".attrs.json"),
            ("NIX_ATTRS_SH_FILE", ".attrs.sh"),
        ] {
            let mut v = std::os::unix::ffi::OsStrExt::as_bytes(dir).to_vec();
            v.push(b'/');
            v.extend_from_slice(file.as_bytes());
            plan.env.insert(var.as_bytes().to_vec(), v);
        }
        return Ok(());
    }

    let Some(value) = drv.env_var("exportReferencesGraph") else {
        return Ok(());
    };
    let words: Vec<&[u8]> = super::builder::tokenize(value).collect();
    if words.len() % 2 != 0 {
        return Err(BuildError::ExportOddTokens {
            value: String::from_utf8_lossy(value).into_owned(),
        });
    }
    for pair in words.chunks(2) {
        let (name, path) = (pair[0], pair[1]);
        if !valid_export_name(name) {
            return Err(BuildError::ExportFileName {
                name: String::from_utf8_lossy(name).into_owned(),
            });
        }
        let path_s = String::from_utf8_lossy(path).into_owned();
        let root = store_path_of(sd, &path_s).ok_or_else(|| BuildError::ExportNotStorePath {
            path: path_s.clone(),
        })?;
        let paths = export_references(store, input_closure, &BTreeSet::from([root]))?;
        let mut reg = String::new();
        for p in &paths {
            let refs = store.query_references(p)?;
            let _ = write!(reg, "{}\n\n{}\n", sd.display(p), refs.len());
            for r in &refs {
                reg.push_str(&sd.display(r));
                reg.push('\n');
            }
        }
        plan.files
            .push((String::from_utf8_lossy(name).into_owned(), reg.into_bytes()));
    }
    Ok(())
}

/// `[A-Za-z_][A-Za-z0-9_.-]*`, CppNix's check of `exportReferencesGraph` file names.
fn valid_export_name(name: &[u8]) -> bool {
    match name.split_first() {
        Some((first, rest)) => {
            (first.is_ascii_alphabetic() || *first == b'_')
                && rest
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(b))
        }
        None => false,
    }
}

/// CppNix's `isInStore` + `toStorePath`: the store path a path is in or below.
fn store_path_of(sd: &StoreDir, path: &str) -> Option<StorePath> {
    let rest = path.strip_prefix(sd.as_str())?.strip_prefix('/')?;
    let base = rest.split('/').next()?;
    sd.parse_path(&format!("{}/{base}", sd.as_str())).ok()
}

/// CppNix's `exportReferences`: the closure of `roots` (each of which must be in the input
/// closure), plus the closures of the outputs of the `.drv` files in it.
///
/// # Errors
/// [`BuildError::ExportNotInput`], an invalid output of a `.drv` in the closure, store errors.
pub fn export_references(
    store: &LocalStore,
    input_closure: &BTreeSet<StorePath>,
    roots: &BTreeSet<StorePath>,
) -> Result<BTreeSet<StorePath>, BuildError> {
    let sd = store.store_dir();
    for r in roots {
        if !input_closure.contains(r) {
            return Err(BuildError::ExportNotInput {
                path: sd.display(r),
            });
        }
    }
    let mut paths = store.closure(roots)?;
    let drvs: Vec<StorePath> = paths
        .iter()
        .filter(|p| p.name().ends_with(".drv"))
        .cloned()
        .collect();
    for d in drvs {
        let drv = super::realise::read_drv(store, &d)?;
        let mut outs = BTreeSet::new();
        for out in drv.outputs.values() {
            let p = out.path().ok_or(BuildError::Unsupported {
                what: "exportReferencesGraph of content-addressed derivations",
            })?;
            if !store.is_valid_path(p)? {
                return Err(BuildError::InvalidPath {
                    path: sd.display(p),
                });
            }
            outs.insert(p.clone());
        }
        paths.extend(store.closure(&outs)?);
    }
    Ok(paths)
}

/// CppNix's `pathInfoToJSON` without impure info, with closure sizes.
fn path_infos_json(store: &LocalStore, paths: &BTreeSet<StorePath>) -> Result<Value, BuildError> {
    let sd = store.store_dir();
    let mut list = Vec::new();
    for p in paths {
        let mut o = Map::new();
        o.insert("path".into(), Value::String(sd.display(p)));
        match store.query_path_info(p)? {
            None => {
                o.insert("valid".into(), Value::Bool(false));
            }
            Some(info) => {
                o.insert(
                    "narHash".into(),
                    Value::String(info.nar_hash.to_typed_nix32()),
                );
                o.insert("narSize".into(), Value::from(info.nar_size));
                o.insert(
                    "references".into(),
                    Value::Array(
                        info.references
                            .iter()
                            .map(|r| Value::String(sd.display(r)))
                            .collect(),
                    ),
                );
                if let Some(ca) = &info.ca {
                    o.insert("ca".into(), Value::String(ca.to_string()));
                }
                let mut size = 0u64;
                for q in store.closure(&BTreeSet::from([p.clone()]))? {
                    if let Some(i) = store.query_path_info(&q)? {
                        size += i.nar_size;
                    }
                }
                o.insert("closureSize".into(), Value::from(size));
            }
        }
        list.push(Value::Object(o));
    }
    Ok(Value::Array(list))
}

fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Prints JSON as nlohmann::json's `dump()` (CppNix's `.attrs.json`): compact, object keys
/// sorted bytewise, `"`, `\`, `\b`, `\f`, `\n`, `\r`, `\t` escaped, other control characters
/// as `\u00xx`, everything else raw; floats in nlohmann's shortest form (`2.0`, `1e+100`).
///
/// # Example
/// ```
/// use nix_derivation::build::attrs::dump_json;
/// let v: serde_json::Value = serde_json::from_str(r#"{"b":[1,-2,1.5,1e100],"a":"x\u0001"}"#)?;
/// assert_eq!(dump_json(&v), r#"{"a":"x\u0001","b":[1,-2,1.5,1e+100]}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn dump_json(v: &Value) -> String {
    let mut out = String::new();
    dump_into(v, &mut out);
    out
}

fn dump_into(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                let _ = write!(out, "{u}");
            } else if let Some(i) = n.as_i64() {
                let _ = write!(out, "{i}");
            } else {
                out.push_str(&nlohmann_float(n.as_f64().unwrap_or(f64::NAN)));
            }
        }
        Value::String(s) => dump_string(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                dump_into(e, out);
            }
            out.push(']');
        }
        Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                dump_string(k, out);
                out.push(':');
                if let Some(e) = o.get(k) {
                    dump_into(e, out);
                }
            }
            out.push('}');
        }
    }
}

fn dump_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// nlohmann::json's float format: shortest round-trip digits, fixed notation when the
/// decimal exponent is in (-4, 15], else `d.ddde+XX`; integral values get `.0`.
fn nlohmann_float(f: f64) -> String {
    if !f.is_finite() {
        return "null".into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "-1.2345e-7".
    let e = format!("{:e}", f.abs());
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    let k = digits.len() as i32;
    let n = exp + 1;
    let mut s = String::new();
    if f < 0.0 {
        s.push('-');
    }
    if k <= n && n <= 15 {
        s.push_str(&digits);
        s.extend(std::iter::repeat('0').take((n - k) as usize));
        s.push_str(".0");
    } else if 0 < n && n <= 15 {
        s.push_str(&digits[..n as usize]);
        s.push('.');
        s.push_str(&digits[n as usize..]);
    } else if -4 < n && n <= 0 {
        s.push_str("0.");
        s.extend(std::iter::repeat('0').take((-n) as usize));
        s.push_str(&digits);
    } else {
        s.push_str(&digits[..1]);
        if k > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        let e = n - 1;
        let _ = write!(s, "e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    }
    s
}

/// `'…'` with `'` as `'\''` (CppNix's `shellEscape`).
fn shell_escape(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// CppNix 2.8's value of a scalar in `.attrs.sh`, or `None` for values bash cannot hold.
fn sh_scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(shell_escape(s)),
        Value::Number(n) => {
            // `value.get<float>()`, integral check, then `value.get<int>()`.
            let as_f64 = n.as_f64().unwrap_or(f64::NAN);
            let f = as_f64 as f32;
            if f.ceil() != f {
                return None;
            }
            let i: i32 = if let Some(u) = n.as_u64() {
                u as i32
            } else if let Some(i) = n.as_i64() {
                i as i32
            } else if as_f64.is_nan() || as_f64 >= 2147483648.0 || as_f64 <= -2147483649.0 {
                // What x86's conversion gives for out-of-range values.
                i32::MIN
            } else {
                as_f64 as i32
            };
            Some(i.to_string())
        }
        Value::Null => Some("''".into()),
        Value::Bool(b) => Some(if *b { "1" } else { "" }.into()),
        _ => None,
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
fn is_shell_var(name: &str) -> bool {
    let b = name.as_bytes();
    match b.split_first() {
        Some((f, rest)) => {
            (f.is_ascii_alphabetic() || *f == b'_')
                && rest.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        }
        None => false,
    }
}

/// The `.attrs.sh` of a structured attribute object (see the module docs).
///
/// # Example
/// ```
/// use nix_derivation::build::attrs::attrs_sh;
/// let v: serde_json::Value = serde_json::from_str(r#"{"a":"it's","l":["x",1,true],"o":{"k":null},"bad-name":1,"f":1.5}"#)?;
/// assert_eq!(
///     attrs_sh(v.as_object().ok_or("object")?),
///     "declare a='it'\\''s'\ndeclare -a l=('x' 1 1 )\ndeclare -A o=(['k']='' )\n"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn attrs_sh(json: &Map<String, Value>) -> String {
    let mut keys: Vec<&String> = json.keys().collect();
    keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let mut sh = String::new();
    for key in keys {
        if !is_shell_var(key) {
            continue;
        }
        let Some(value) = json.get(key) else { continue };
        if let Some(s) = sh_scalar(value) {
            let _ = writeln!(sh, "declare {key}={s}");
        } else if let Value::Array(a) = value {
            let items: Option<Vec<String>> = a.iter().map(sh_scalar).collect();
            if let Some(items) = items {
                let mut s2 = String::new();
                for i in items {
                    s2.push_str(&i);
                    s2.push(' ');
                }
                let _ = writeln!(sh, "declare -a {key}=({s2})");
            }
        } else if let Value::Object(o) = value {
            let mut ks: Vec<&String> = o.keys().collect();
            ks.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            let items: Option<Vec<String>> = ks
                .iter()
                .map(|k| {
                    o.get(*k)
                        .and_then(sh_scalar)
                        .map(|v| format!("[{}]={v} ", shell_escape(k)))
                })
                .collect();
            if let Some(items) = items {
                let _ = writeln!(sh, "declare -A {key}=({})", items.concat());
            }
        }
    }
    sh
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_nlohmann() {
        for (f, s) in [
            (2.0, "2.0"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e15, "1e+15"),
            (123456789012345.0, "123456789012345.0"),
            (1e16, "1e+16"),
            (1.25e16, "1.25e+16"),
            (-3.5, "-3.5"),
            (1e100, "1e+100"),
            (123456.789, "123456.789"),
        ] {
            assert_eq!(nlohmann_float(f), s, "{f}");
        }
    }

    #[test]
    fn sh_numbers_as_cppnix() -> Result<(), serde_json::Error> {
        let v: Value = serde_json::from_str("[12345678901, -3, 2.0, 1.5, 1e300, 1e-50]")?;
        let got: Vec<Option<String>> = v
            .as_array()
            .map(|a| a.iter().map(sh_scalar).collect())
            .unwrap_or_default();
        let want = [
            Some("-539222987"),
            Some("-3"),
            Some("2"),
            None,
            Some("-2147483648"),
            Some("0"),
        ];
        assert_eq!(
            got,
            want.iter()
                .map(|s| s.map(str::to_string))
                .collect::<Vec<_>>()
        );
        Ok(())
    }

    #[test]
    fn rewrites_every_occurrence() {
        let r = vec![(b"/ab".to_vec(), b"/x/y".to_vec())];
        assert_eq!(rewrite(b"/ab:/ab/c", &r), b"/x/y:/x/y/c");
        assert_eq!(rewrite(b"none", &r), b"none");
    }

    #[test]
    fn export_file_names() {
        assert!(valid_export_name(b"g1.x-y_"));
        assert!(!valid_export_name(b"g/1"));
        assert!(!valid_export_name(b"1g"));
        assert!(!valid_export_name(b""));
    }
}
