//! The `.drv` printer: byte-for-byte what CppNix 2.8's `Derivation::unparse` writes.

use std::collections::{BTreeMap, BTreeSet};

use nix_store::store_path::StoreDir;

use super::escape::{write_quoted, write_unquoted};
use crate::derivation::{Derivation, DerivationOutput};

/// How to print: the knobs `hashDerivationModulo` needs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WriteMode<'a> {
    /// Print output paths, and the values of environment variables named like an output, as
    /// empty strings (CppNix's `maskOutputs`).
    pub(crate) mask_outputs: bool,
    /// Print these (key → output names) as the input derivations instead of the real ones.
    /// `hashDerivationModulo` passes the base-16 hashes of the inputs here.
    pub(crate) input_replacement: Option<&'a BTreeMap<String, BTreeSet<String>>>,
}

/// Appends the ATerm of `drv` to `out`.
pub(crate) fn derivation(
    out: &mut Vec<u8>,
    drv: &Derivation,
    store_dir: &StoreDir,
    mode: WriteMode<'_>,
) {
    out.extend_from_slice(b"Derive([");
    let mut first = true;
    for (name, output) in &drv.outputs {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        out.push(b'(');
        write_unquoted(out, name.as_bytes());
        out.push(b',');
        match output {
            DerivationOutput::InputAddressed(path) => {
                write_path(out, store_dir, path, mode.mask_outputs);
                out.extend_from_slice(br#","","""#);
            }
            DerivationOutput::Fixed { path, method, hash } => {
                write_path(out, store_dir, path, mode.mask_outputs);
                out.extend_from_slice(b",\"");
                out.extend_from_slice(method.prefix().as_bytes());
                out.extend_from_slice(hash.algo().name().as_bytes());
                out.extend_from_slice(b"\",\"");
                out.extend_from_slice(hash.to_base16().as_bytes());
                out.push(b'"');
            }
            DerivationOutput::Floating { method, algo } => {
                out.extend_from_slice(b"\"\",\"");
                out.extend_from_slice(method.prefix().as_bytes());
                out.extend_from_slice(algo.name().as_bytes());
                out.extend_from_slice(b"\",\"\"");
            }
            DerivationOutput::Deferred => out.extend_from_slice(br#""","","""#),
            DerivationOutput::Impure { method, algo } => {
                out.extend_from_slice(b"\"\",\"");
                out.extend_from_slice(method.prefix().as_bytes());
                out.extend_from_slice(algo.name().as_bytes());
                out.extend_from_slice(b"\",\"impure\"");
            }
        }
        out.push(b')');
    }

    out.extend_from_slice(b"],[");
    match mode.input_replacement {
        Some(replacement) => {
            let mut first = true;
            for (key, names) in replacement {
                if !std::mem::take(&mut first) {
                    out.push(b',');
                }
                out.push(b'(');
                write_unquoted(out, key.as_bytes());
                out.push(b',');
                write_names(out, names);
                out.push(b')');
            }
        }
        None => {
            let mut first = true;
            for (path, names) in &drv.input_drvs {
                if !std::mem::take(&mut first) {
                    out.push(b',');
                }
                out.push(b'(');
                write_path(out, store_dir, path, false);
                out.push(b',');
                write_names(out, names);
                out.push(b')');
            }
        }
    }

    out.extend_from_slice(b"],[");
    let mut first = true;
    for path in &drv.input_srcs {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        write_path(out, store_dir, path, false);
    }
    out.extend_from_slice(b"],");
    write_unquoted(out, &drv.system);
    out.push(b',');
    write_quoted(out, &drv.builder);
    out.extend_from_slice(b",[");
    let mut first = true;
    for arg in &drv.args {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        write_quoted(out, arg);
    }
    out.extend_from_slice(b"],[");
    let mut first = true;
    for (key, value) in &drv.env {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        out.push(b'(');
        write_quoted(out, key);
        out.push(b',');
        let masked = mode.mask_outputs
            && std::str::from_utf8(key).is_ok_and(|k| drv.outputs.contains_key(k));
        write_quoted(out, if masked { b"" } else { value });
        out.push(b')');
    }
    out.extend_from_slice(b"])");
}

fn write_path(
    out: &mut Vec<u8>,
    store_dir: &StoreDir,
    path: &nix_store::store_path::StorePath,
    mask: bool,
) {
    if mask {
        out.extend_from_slice(b"\"\"");
    } else {
        write_unquoted(out, store_dir.display(path).as_bytes());
    }
}

fn write_names(out: &mut Vec<u8>, names: &BTreeSet<String>) {
    out.push(b'[');
    let mut first = true;
    for name in names {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        write_unquoted(out, name.as_bytes());
    }
    out.push(b']');
}
