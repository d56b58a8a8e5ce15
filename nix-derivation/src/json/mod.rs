//! The JSON of CppNix 2.8's `nix show-derivation`, written byte for byte and read back.
//!
//! ```text
//! {
//!   "/nix/store/…-simple.drv": {
//!     "outputs": {
//!       "out": {
//!         "path": "/nix/store/…-simple"
//!       }
//!     },
//!     "inputSrcs": [],
//!     "inputDrvs": {},
//!     "system": "x86_64-linux",
//!     "builder": "/bin/sh",
//!     "args": [
//!       "-c",
//!       "echo hello > $out"
//!     ],
//!     "env": {
//!       …
//!     }
//!   }
//! }
//! ```
//!
//! * Indentation is two spaces; empty arrays and objects are `[]` and `{}`; the document ends
//!   with a newline. Derivations are sorted by path, keys in the order above, outputs,
//!   input derivations and `env` sorted.
//! * An output has `"path"` when its path is known, `"hashAlgo"` (`sha256`, `r:sha256`) when it
//!   is content-addressed, `"hash"` (base 16) when fixed, and `"impure": true` when impure. A
//!   deferred output is `{}`.
//! * Strings escape `"`, `\`, LF, CR and TAB as `\"`, `\\`, `\n`, `\r`, `\t`, other bytes below
//!   0x20 as `\u00XX`; every other byte is written raw, so the output is not always UTF-8
//!   (2.8's own JSON writer does the same).
//!
//! Reading accepts this shape and, where cheap, that of newer CppNix: input derivations as
//! `{"outputs": […], "dynamicOutputs": …}`, paths as bare base names, a separate `"method"`
//! (`flat`/`nar`) beside an unprefixed `"hashAlgo"`, and extra keys (`"name"`, `"version"`),
//! which are ignored.

mod value;

use std::collections::{BTreeMap, BTreeSet};

use nix_store::hash::{Hash, HashAlgo};
use nix_store::store_path::{StoreDir, StorePath, StorePathError};

use crate::derivation::{print_method_algo, Derivation, DerivationOutput, FileIngestionMethod};
use value::Value;

/// Why derivation JSON could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// Not JSON.
    #[error("expected {expected} at byte {offset}")]
    Syntax {
        /// Byte offset.
        offset: usize,
        /// What would have been valid.
        expected: &'static str,
    },
    /// Nested too deeply.
    #[error("JSON nested too deeply at byte {offset}")]
    TooDeep {
        /// Byte offset.
        offset: usize,
    },
    /// The input is larger than the limit.
    #[error("JSON is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Input size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Valid JSON of the wrong shape.
    #[error("{field} at byte {offset}: expected {expected}")]
    Shape {
        /// Where, as a dotted path (`outputs.out.hashAlgo`).
        field: String,
        /// Byte offset of the value.
        offset: usize,
        /// What was expected.
        expected: String,
    },
    /// A missing required key.
    #[error("missing key '{key}' in {field}")]
    MissingKey {
        /// The object.
        field: String,
        /// The key.
        key: &'static str,
    },
    /// A key given twice.
    #[error("duplicate key '{key}' in {field} at byte {offset}")]
    DuplicateKey {
        /// The object.
        field: String,
        /// The key.
        key: String,
        /// Byte offset of the second one.
        offset: usize,
    },
    /// An invalid store path.
    #[error("invalid store path in {field} at byte {offset}")]
    StorePath {
        /// Where.
        field: String,
        /// Byte offset.
        offset: usize,
        /// Why.
        #[source]
        source: StorePathError,
    },
    /// An invalid hash.
    #[error("invalid hash in {field} at byte {offset}")]
    Hash {
        /// Where.
        field: String,
        /// Byte offset.
        offset: usize,
        /// Why.
        #[source]
        source: nix_store::hash::ParseHashError,
    },
}

/// The largest JSON document accepted by the readers (256 MiB).
pub const MAX_JSON_SIZE: usize = 256 << 20;

// ---------------------------------------------------------------------------------------------
// Writing

/// A pretty-printer with 2.8's layout.
struct Writer {
    out: Vec<u8>,
    depth: usize,
    /// Per open container: whether it has had a member yet.
    first: Vec<bool>,
}

impl Writer {
    fn new() -> Self {
        Writer {
            out: Vec::with_capacity(4096),
            depth: 0,
            first: Vec::new(),
        }
    }

    fn indent(&mut self) {
        self.out.push(b'\n');
        for _ in 0..self.depth {
            self.out.extend_from_slice(b"  ");
        }
    }

    fn open(&mut self, c: u8) {
        self.out.push(c);
        self.depth += 1;
        self.first.push(true);
    }

    fn close(&mut self, c: u8) {
        self.depth -= 1;
        if self.first.pop() == Some(false) {
            self.indent();
        }
        self.out.push(c);
    }

    /// Starts the next member or element.
    fn next(&mut self) {
        if let Some(first) = self.first.last_mut() {
            if !std::mem::replace(first, false) {
                self.out.push(b',');
            }
        }
        self.indent();
    }

    fn key(&mut self, key: &[u8]) {
        self.next();
        write_string(&mut self.out, key);
        self.out.extend_from_slice(b": ");
    }

    fn string_member(&mut self, key: &[u8], value: &[u8]) {
        self.key(key);
        write_string(&mut self.out, value);
    }

    fn string_element(&mut self, value: &[u8]) {
        self.next();
        write_string(&mut self.out, value);
    }
}

/// Appends a JSON string literal as CppNix 2.8 writes it.
pub fn write_string(out: &mut Vec<u8>, s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in s.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                out.extend_from_slice(&s[start..i]);
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&s[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&s[start..]);
    out.push(b'"');
}

fn write_derivation(w: &mut Writer, drv: &Derivation, store_dir: &StoreDir) {
    w.open(b'{');
    w.key(b"outputs");
    w.open(b'{');
    for (name, output) in &drv.outputs {
        w.key(name.as_bytes());
        w.open(b'{');
        if let Some(path) = output.path() {
            w.string_member(b"path", store_dir.display(path).as_bytes());
        }
        match output {
            DerivationOutput::InputAddressed(_) | DerivationOutput::Deferred => {}
            DerivationOutput::Fixed { method, hash, .. } => {
                w.string_member(
                    b"hashAlgo",
                    print_method_algo(*method, hash.algo()).as_bytes(),
                );
                w.string_member(b"hash", hash.to_base16().as_bytes());
            }
            DerivationOutput::Floating { method, algo } => {
                w.string_member(b"hashAlgo", print_method_algo(*method, *algo).as_bytes());
            }
            DerivationOutput::Impure { method, algo } => {
                w.string_member(b"hashAlgo", print_method_algo(*method, *algo).as_bytes());
                w.key(b"impure");
                w.out.extend_from_slice(b"true");
            }
        }
        w.close(b'}');
    }
    w.close(b'}');

    w.key(b"inputSrcs");
    w.open(b'[');
    for p in &drv.input_srcs {
        w.string_element(store_dir.display(p).as_bytes());
    }
    w.close(b']');

    w.key(b"inputDrvs");
    w.open(b'{');
    for (p, outputs) in &drv.input_drvs {
        w.key(store_dir.display(p).as_bytes());
        w.open(b'[');
        for o in outputs {
            w.string_element(o.as_bytes());
        }
        w.close(b']');
    }
    w.close(b'}');

    w.string_member(b"system", &drv.system);
    w.string_member(b"builder", &drv.builder);
    w.key(b"args");
    w.open(b'[');
    for a in &drv.args {
        w.string_element(a);
    }
    w.close(b']');
    w.key(b"env");
    w.open(b'{');
    for (k, v) in &drv.env {
        w.string_member(k, v);
    }
    w.close(b'}');
    w.close(b'}');
}

/// The output of `nix show-derivation` for these derivations (keyed and sorted by their
/// `.drv` path), ending with a newline.
///
/// # Example
/// ```
/// use std::collections::BTreeMap;
/// use nix_derivation::{json, Derivation};
/// use nix_derivation::store::store_path::StoreDir;
///
/// let store_dir = StoreDir::default();
/// let drv = Derivation::parse(br#"Derive([("out","/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple","","")],[],[],"x86_64-linux","/bin/sh",[],[])"#, &store_dir)?;
/// let path = drv.drv_path(&store_dir, "simple")?;
/// let text = json::show_derivation(&store_dir, &BTreeMap::from([(path, drv.clone())]));
/// assert!(text.starts_with(b"{\n  \"/nix/store/"));
/// assert_eq!(json::parse_show_derivation(&text, &store_dir)?.into_values().next(), Some(drv));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn show_derivation(store_dir: &StoreDir, drvs: &BTreeMap<StorePath, Derivation>) -> Vec<u8> {
    let mut w = Writer::new();
    w.open(b'{');
    for (path, drv) in drvs {
        w.key(store_dir.display(path).as_bytes());
        write_derivation(&mut w, drv, store_dir);
    }
    w.close(b'}');
    w.out.push(b'\n');
    w.out
}

/// One derivation as a JSON object in 2.8's layout (as it appears, less indented, inside
/// [`show_derivation`]), without a trailing newline.
pub fn to_json(drv: &Derivation, store_dir: &StoreDir) -> Vec<u8> {
    let mut w = Writer::new();
    write_derivation(&mut w, drv, store_dir);
    w.out
}

// ---------------------------------------------------------------------------------------------
// Reading

fn check_size(input: &[u8]) -> Result<(), JsonError> {
    if input.len() > MAX_JSON_SIZE {
        return Err(JsonError::TooLarge {
            size: input.len(),
            limit: MAX_JSON_SIZE,
        });
    }
    Ok(())
}

/// Reads one derivation object (as written by [`to_json`]).
///
/// # Errors
/// A [`JsonError`] saying where.
pub fn from_json(input: &[u8], store_dir: &StoreDir) -> Result<Derivation, JsonError> {
    check_size(input)?;
    let (at, v) = value::parse(input)?;
    read_derivation(&v, at, "derivation", store_dir)
}

/// Reads the output of `nix show-derivation`: derivations by `.drv` path.
///
/// # Errors
/// A [`JsonError`] saying where.
pub fn parse_show_derivation(
    input: &[u8],
    store_dir: &StoreDir,
) -> Result<BTreeMap<StorePath, Derivation>, JsonError> {
    check_size(input)?;
    let (at, v) = value::parse(input)?;
    let members = object(&v, at, "document")?;
    let mut out = BTreeMap::new();
    for (key_at, key, v) in members {
        let field = String::from_utf8_lossy(key).into_owned();
        let path = store_path(key, *key_at, "document", store_dir)?;
        let drv = read_derivation(v, *key_at, &field, store_dir)?;
        if out.insert(path, drv).is_some() {
            return Err(JsonError::DuplicateKey {
                field: "document".into(),
                key: field,
                offset: *key_at,
            });
        }
    }
    Ok(out)
}

type Members = [(usize, Vec<u8>, Value)];

fn shape(field: &str, offset: usize, expected: impl Into<String>) -> JsonError {
    JsonError::Shape {
        field: field.to_string(),
        offset,
        expected: expected.into(),
    }
}

fn object<'v>(v: &'v Value, at: usize, field: &str) -> Result<&'v Members, JsonError> {
    match v {
        Value::Object(m) => Ok(m),
        other => Err(shape(field, at, format!("an object, not {}", other.kind()))),
    }
}

fn array<'v>(v: &'v Value, at: usize, field: &str) -> Result<&'v [(usize, Value)], JsonError> {
    match v {
        Value::Array(a) => Ok(a),
        other => Err(shape(field, at, format!("an array, not {}", other.kind()))),
    }
}

fn string<'v>(v: &'v Value, at: usize, field: &str) -> Result<&'v [u8], JsonError> {
    match v {
        Value::String(s) => Ok(s),
        other => Err(shape(field, at, format!("a string, not {}", other.kind()))),
    }
}

fn utf8<'v>(v: &'v Value, at: usize, field: &str) -> Result<&'v str, JsonError> {
    std::str::from_utf8(string(v, at, field)?).map_err(|_| shape(field, at, "a UTF-8 string"))
}

/// Looks up a key; the value's offset is that of the key.
fn get<'v>(
    members: &'v Members,
    key: &str,
    field: &str,
) -> Result<Option<(usize, &'v Value)>, JsonError> {
    let mut found = None;
    for (at, k, v) in members {
        if k == key.as_bytes() {
            if found.is_some() {
                return Err(JsonError::DuplicateKey {
                    field: field.to_string(),
                    key: key.to_string(),
                    offset: *at,
                });
            }
            found = Some((*at, v));
        }
    }
    Ok(found)
}

fn require<'v>(
    members: &'v Members,
    key: &'static str,
    field: &str,
) -> Result<(usize, &'v Value), JsonError> {
    get(members, key, field)?.ok_or_else(|| JsonError::MissingKey {
        field: field.to_string(),
        key,
    })
}

/// A full store path, or (newer CppNix) a bare base name.
fn store_path(
    s: &[u8],
    at: usize,
    field: &str,
    store_dir: &StoreDir,
) -> Result<StorePath, JsonError> {
    let s = std::str::from_utf8(s).map_err(|_| shape(field, at, "a UTF-8 store path"))?;
    let res = if s.contains('/') {
        store_dir.parse_path(s)
    } else {
        StorePath::from_base_name(s)
    };
    res.map_err(|source| JsonError::StorePath {
        field: field.to_string(),
        offset: at,
        source,
    })
}

fn read_output(
    v: &Value,
    at: usize,
    field: &str,
    store_dir: &StoreDir,
) -> Result<DerivationOutput, JsonError> {
    let m = object(v, at, field)?;
    let path = match get(m, "path", field)? {
        Some((at, v)) => Some(store_path(
            string(v, at, field)?,
            at,
            &format!("{field}.path"),
            store_dir,
        )?),
        None => None,
    };
    let Some((algo_at, algo)) = get(m, "hashAlgo", field)? else {
        return Ok(match path {
            Some(p) => DerivationOutput::InputAddressed(p),
            None => DerivationOutput::Deferred,
        });
    };
    let algo_field = format!("{field}.hashAlgo");
    let algo_s = utf8(algo, algo_at, &algo_field)?;
    let (mut method, name) = match algo_s.strip_prefix("r:") {
        Some(rest) => (FileIngestionMethod::Recursive, rest),
        None => (FileIngestionMethod::Flat, algo_s),
    };
    if let Some((mat, mv)) = get(m, "method", field)? {
        let mfield = format!("{field}.method");
        method = match utf8(mv, mat, &mfield)? {
            "flat" => FileIngestionMethod::Flat,
            "nar" | "recursive" => FileIngestionMethod::Recursive,
            other => {
                return Err(shape(
                    &mfield,
                    mat,
                    format!("'flat' or 'nar', not '{other}'"),
                ))
            }
        };
    }
    let algo: HashAlgo = name.parse().map_err(|_| {
        shape(
            &algo_field,
            algo_at,
            format!("a hash algorithm, not '{name}'"),
        )
    })?;
    let impure = match get(m, "impure", field)? {
        Some((_, Value::Bool(b))) => *b,
        Some((at, other)) => {
            return Err(shape(
                &format!("{field}.impure"),
                at,
                format!("a boolean, not {}", other.kind()),
            ))
        }
        None => false,
    };
    if impure {
        return Ok(DerivationOutput::Impure { method, algo });
    }
    match get(m, "hash", field)? {
        Some((hat, hv)) => {
            let hfield = format!("{field}.hash");
            let text = utf8(hv, hat, &hfield)?;
            let hash = Hash::parse_with_algo(text, algo).map_err(|source| JsonError::Hash {
                field: hfield,
                offset: hat,
                source,
            })?;
            let path = path.ok_or_else(|| JsonError::MissingKey {
                field: field.to_string(),
                key: "path",
            })?;
            Ok(DerivationOutput::Fixed { path, method, hash })
        }
        None => Ok(DerivationOutput::Floating { method, algo }),
    }
}

fn read_derivation(
    v: &Value,
    at: usize,
    field: &str,
    store_dir: &StoreDir,
) -> Result<Derivation, JsonError> {
    let m = object(v, at, field)?;
    let mut drv = Derivation::default();

    let (oat, outputs) = require(m, "outputs", field)?;
    for (at, name, v) in object(outputs, oat, "outputs")? {
        let name_s =
            std::str::from_utf8(name).map_err(|_| shape("outputs", *at, "a UTF-8 output name"))?;
        let f = format!("outputs.{name_s}");
        let o = read_output(v, *at, &f, store_dir)?;
        if drv.outputs.insert(name_s.to_string(), o).is_some() {
            return Err(JsonError::DuplicateKey {
                field: "outputs".into(),
                key: name_s.into(),
                offset: *at,
            });
        }
    }

    let (sat, srcs) = require(m, "inputSrcs", field)?;
    for (at, v) in array(srcs, sat, "inputSrcs")? {
        let p = store_path(string(v, *at, "inputSrcs")?, *at, "inputSrcs", store_dir)?;
        if !drv.input_srcs.insert(p) {
            return Err(shape("inputSrcs", *at, "no duplicate paths"));
        }
    }

    let (dat, drvs) = require(m, "inputDrvs", field)?;
    for (at, key, v) in object(drvs, dat, "inputDrvs")? {
        let p = store_path(key, *at, "inputDrvs", store_dir)?;
        let f = format!("inputDrvs.{}", String::from_utf8_lossy(key));
        // 2.8: a list of output names; newer: {"outputs": [...], "dynamicOutputs": {...}}.
        let list = match v {
            Value::Object(om) => {
                let (lat, l) = require(om, "outputs", &f)?;
                array(l, lat, &f)?
            }
            other => array(other, *at, &f)?,
        };
        let mut names = BTreeSet::new();
        for (nat, n) in list {
            if !names.insert(utf8(n, *nat, &f)?.to_string()) {
                return Err(shape(&f, *nat, "no duplicate output names"));
            }
        }
        if drv.input_drvs.insert(p, names).is_some() {
            return Err(JsonError::DuplicateKey {
                field: "inputDrvs".into(),
                key: String::from_utf8_lossy(key).into_owned(),
                offset: *at,
            });
        }
    }

    let (sat, system) = require(m, "system", field)?;
    drv.system = string(system, sat, "system")?.to_vec();
    let (bat, builder) = require(m, "builder", field)?;
    drv.builder = string(builder, bat, "builder")?.to_vec();
    let (aat, args) = require(m, "args", field)?;
    for (at, a) in array(args, aat, "args")? {
        drv.args.push(string(a, *at, "args")?.to_vec());
    }
    let (eat, env) = require(m, "env", field)?;
    for (at, k, v) in object(env, eat, "env")? {
        let value = string(v, *at, "env")?.to_vec();
        if drv.env.insert(k.clone(), value).is_some() {
            return Err(JsonError::DuplicateKey {
                field: "env".into(),
                key: String::from_utf8_lossy(k).into_owned(),
                offset: *at,
            });
        }
    }
    Ok(drv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_escapes_as_2_8() {
        let mut out = Vec::new();
        write_string(
            &mut out,
            b"a\"b\\c\nd\re\tf\x01\x08\x0c\x1f\x7f\xc3\xa9\xff/$",
        );
        assert_eq!(
            out,
            b"\"a\\\"b\\\\c\\nd\\re\\tf\\u0001\\u0008\\u000c\\u001f\x7f\xc3\xa9\xff/$\""
        );
    }

    #[test]
    fn empty_containers() {
        let mut drv = Derivation::default();
        drv.outputs.insert("out".into(), DerivationOutput::Deferred);
        let text = to_json(&drv, &StoreDir::default());
        let expected = "{\n  \"outputs\": {\n    \"out\": {}\n  },\n  \"inputSrcs\": [],\n  \"inputDrvs\": {},\n  \"system\": \"\",\n  \"builder\": \"\",\n  \"args\": [],\n  \"env\": {}\n}";
        assert_eq!(String::from_utf8_lossy(&text), expected);
        assert_eq!(from_json(&text, &StoreDir::default()).ok(), Some(drv));
    }

    #[test]
    fn newer_shapes() -> Result<(), JsonError> {
        let text = br#"{"name":"x","version":3,"outputs":{"out":{"path":"ihzxqvvbjv9z8wkzhv2b02al1m9kz77h-hello.txt","method":"nar","hashAlgo":"sha256","hash":"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"}},
            "inputSrcs":[],"inputDrvs":{"3ghsl9sd83mc26i81adpa2fzf3yw4f68-simple.drv":{"outputs":["out"],"dynamicOutputs":{}}},"system":"s","builder":"b","args":[],"env":{}}"#;
        let drv = from_json(text, &StoreDir::default())?;
        assert!(matches!(
            drv.outputs["out"],
            DerivationOutput::Fixed {
                method: FileIngestionMethod::Recursive,
                ..
            }
        ));
        assert_eq!(drv.input_drvs.len(), 1);
        Ok(())
    }

    #[test]
    fn shape_errors_name_the_field() {
        let err = from_json(
            br#"{"outputs":{"out":{"hashAlgo":"sha3"}}}"#,
            &StoreDir::default(),
        );
        match err {
            Err(JsonError::Shape { field, .. }) => assert_eq!(field, "outputs.out.hashAlgo"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            from_json(br#"{"outputs":{}}"#, &StoreDir::default()),
            Err(JsonError::MissingKey {
                key: "inputSrcs",
                ..
            })
        ));
    }
}
