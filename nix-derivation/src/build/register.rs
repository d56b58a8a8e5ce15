//! Turning what a builder wrote into valid store paths, as CppNix 2.8's `registerOutputs`.
//!
//! For each output of a derivation whose builder succeeded, [`register_outputs`]:
//!
//! 1. checks that it exists;
//! 2. canonicalises it ([`canonicalise`]: CppNix's `canonicalisePathMetaData`: mode `0444`,
//!    or `0555` for directories and files with the owner execute bit, so no write,
//!    setuid or setgid bits; modification time 1; children first);
//! 3. serialises it as a NAR once, hashing it (SHA-256) and scanning it for the hash parts of
//!    the candidate references (the closure of the derivation's inputs and the derivation's
//!    own outputs, so self-references are found);
//! 4. for a fixed output, hashes it as declared (the file's bytes for `flat`, the NAR for
//!    `recursive`) and compares with the declared hash (CppNix's "hash mismatch in
//!    fixed-output derivation" error, both hashes in SRI form);
//! 5. refuses references that form a cycle between outputs (CppNix's "cycle detected in build
//!    of …" error), then applies CppNix's output checks: `allowedReferences`,
//!    `allowedRequisites`, `disallowedReferences`, `disallowedRequisites` (store paths or
//!    output names; self-references ignored in requisites), or with structured attributes
//!    `outputChecks.<output>` with those and `maxSize`/`maxClosureSize` (self-references not
//!    ignored), with CppNix's messages;
//! 6. registers all outputs in ONE database transaction, with the `.drv` as deriver,
//!    `ultimate` set, and a `fixed:…` content address for fixed outputs.
//!
//! If any step fails nothing is registered; the caller deletes the outputs
//! ([`remove_tree`]).
//!
//! A fixed output whose hash does not match is, as in CppNix 2.8, moved to the path of its
//! actual hash and registered there (deriver, `fixed:…` content address) before the
//! mismatch error is returned, so a second build with the right hash finds it valid.
//!
//! Differences from CppNix 2.8: the owner of the files is not changed (the builder runs as the
//! caller, so the files are already the caller's); hard-link counts are not checked;
//! self-references of fixed outputs are not hashed modulo (such outputs are refused by the
//! hash check instead, and a mismatching fixed output with references is not registered).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use nix_store::content_address::{ContentAddress, FileIngestionMethod};
use nix_store::hash::{Hash, HashAlgo, Hasher};
use nix_store::references::ReferenceScanner;
use nix_store::store::local::LocalStore;
use nix_store::store::{Store, ValidPathInfo};
use nix_store::store_path::StorePath;

use super::attrs;
use super::builder::BuildError;
use crate::derivation::{Derivation, DerivationOutput};

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> BuildError + 'a {
    move |source| BuildError::Output {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// CppNix's `canonicalisePathMetaData` for a build output (see the module docs): children
/// first, so directories end read-only.
///
/// # Errors
/// [`BuildError::Output`] with the file that could not be changed.
pub fn canonicalise(path: &Path) -> Result<(), BuildError> {
    let meta = std::fs::symlink_metadata(path).map_err(io_err("cannot stat", path))?;
    let ft = meta.file_type();
    if ft.is_dir() {
        // A directory the builder left without write or search permission for us.
        if meta.permissions().mode() & 0o700 != 0o700 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
                .map_err(io_err("cannot change the mode of", path))?;
        }
        for e in std::fs::read_dir(path).map_err(io_err("cannot read directory", path))? {
            let e = e.map_err(io_err("cannot read directory", path))?;
            canonicalise(&e.path())?;
        }
    }
    if !ft.is_symlink() {
        let mode = meta.permissions().mode() & 0o7777;
        if mode != 0o444 && mode != 0o555 {
            let want = if ft.is_dir() || mode & 0o100 != 0 {
                0o555
            } else {
                0o444
            };
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(want))
                .map_err(io_err("cannot change the mode of", path))?;
        }
    }
    if meta.mtime() != 1 {
        let times = rustix::fs::Timestamps {
            last_access: rustix::fs::Timespec {
                tv_sec: meta.atime(),
                tv_nsec: meta.atime_nsec() as _,
            },
            last_modification: rustix::fs::Timespec {
                tv_sec: 1,
                tv_nsec: 0,
            },
        };
        rustix::fs::utimensat(
            rustix::fs::CWD,
            path,
            &times,
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(|e| BuildError::Output {
            op: "cannot set the modification time of",
            path: path.to_path_buf(),
            source: e.into(),
        })?;
    }
    Ok(())
}

/// Removes a file system object, also when it is read-only (a canonicalised output); a missing
/// path is not an error.
///
/// # Errors
/// [`BuildError::Output`] with the file that could not be removed.
pub fn remove_tree(path: &Path) -> Result<(), BuildError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err("cannot stat", path)(e)),
    };
    if meta.is_dir() {
        if meta.permissions().mode() & 0o700 != 0o700 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
                .map_err(io_err("cannot change the mode of", path))?;
        }
        for e in std::fs::read_dir(path).map_err(io_err("cannot read directory", path))? {
            let e = e.map_err(io_err("cannot read directory", path))?;
            remove_tree(&e.path())?;
        }
        std::fs::remove_dir(path).map_err(io_err("cannot remove", path))
    } else {
        std::fs::remove_file(path).map_err(io_err("cannot remove", path))
    }
}

/// Hashes and scans the NAR stream in one pass.
struct NarSink {
    nar: Hasher,
    extra: Option<Hasher>,
    scanner: ReferenceScanner,
}

impl Write for NarSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.nar.update(buf);
        if let Some(e) = &mut self.extra {
            e.update(buf);
        }
        self.scanner.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What scanning one output found.
#[derive(Debug)]
struct Scanned {
    nar_hash: Hash,
    nar_size: u64,
    references: BTreeSet<StorePath>,
    ca: Option<ContentAddress>,
}

fn sri(h: &Hash) -> String {
    h.to_sri()
}

/// Canonicalises, hashes and scans each output of `drv` (whose builder succeeded) and
/// registers them all in one transaction; returns their path infos by output name.
///
/// `drv_path` becomes the deriver; `input_closure` is the closure of the derivation's inputs
/// (input sources and the outputs it uses of its input derivations): the candidates for
/// references, besides the outputs themselves.
///
/// # Errors
/// [`BuildError::MissingOutput`], [`BuildError::HashMismatch`],
/// [`BuildError::FlatOutputNotRegular`], [`BuildError::OutputCycle`], I/O and store errors.
/// Nothing is registered then; the outputs stay on disk for the caller to delete.
pub fn register_outputs(
    store: &LocalStore,
    drv_path: &StorePath,
    drv: &Derivation,
    input_closure: &BTreeSet<StorePath>,
) -> Result<BTreeMap<String, ValidPathInfo>, BuildError> {
    register_some_outputs(store, drv_path, drv, input_closure, &BTreeSet::new())
}

/// [`register_outputs`] for the outputs not named in `skip` (outputs that were already valid
/// when a derivation was built again for its other outputs: CppNix keeps those as they are).
///
/// # Errors
/// As [`register_outputs`].
pub fn register_some_outputs(
    store: &LocalStore,
    drv_path: &StorePath,
    drv: &Derivation,
    input_closure: &BTreeSet<StorePath>,
    skip: &BTreeSet<String>,
) -> Result<BTreeMap<String, ValidPathInfo>, BuildError> {
    let sd = store.store_dir().clone();
    let shown_drv = sd.display(drv_path);
    let mut outputs: BTreeMap<&str, (&StorePath, &DerivationOutput)> = BTreeMap::new();
    for (name, out) in &drv.outputs {
        let path = out.path().ok_or(BuildError::Unsupported {
            what: "content-addressed (floating, deferred or impure) outputs",
        })?;
        outputs.insert(name.as_str(), (path, out));
    }
    let mut candidates: Vec<&StorePath> = input_closure.iter().collect();
    candidates.extend(outputs.values().map(|(p, _)| *p));
    let scanner = ReferenceScanner::for_paths(candidates.iter().copied());

    let mut scanned: BTreeMap<&str, Scanned> = BTreeMap::new();
    for (&name, &(path, out)) in &outputs {
        if skip.contains(name) {
            continue;
        }
        let real = store.real_path(path);
        let meta = std::fs::symlink_metadata(&real).map_err(|_| BuildError::MissingOutput {
            drv: shown_drv.clone(),
            output: name.to_string(),
            path: sd.display(path),
        })?;
        let fixed = match out {
            DerivationOutput::Fixed { method, hash, .. } => Some((*method, *hash)),
            _ => None,
        };
        if let Some((FileIngestionMethod::Flat, _)) = fixed {
            if !meta.is_file() || meta.permissions().mode() & 0o100 != 0 {
                return Err(BuildError::FlatOutputNotRegular {
                    path: sd.display(path),
                });
            }
        }
        canonicalise(&real)?;
        let extra = match fixed {
            Some((FileIngestionMethod::Recursive, h)) if h.algo() != HashAlgo::Sha256 => {
                Some(Hasher::new(h.algo()))
            }
            _ => None,
        };
        let mut sink = NarSink {
            nar: Hasher::new(HashAlgo::Sha256),
            extra,
            scanner: scanner.clone(),
        };
        let nar_size =
            nix_store::nar::dump_path(&real, &mut sink).map_err(|source| BuildError::Nar {
                path: real.clone(),
                source,
            })?;
        let nar_hash = sink.nar.finish();
        let references = sink.scanner.clone().found_paths(candidates.iter().copied());
        let ca = match fixed {
            None => None,
            Some((method, expected)) => {
                let got = match method {
                    FileIngestionMethod::Recursive => {
                        sink.extra.map(Hasher::finish).unwrap_or(nar_hash)
                    }
                    FileIngestionMethod::Flat => {
                        let mut h = Hasher::new(expected.algo());
                        let mut f = File::open(&real).map_err(io_err("cannot read", &real))?;
                        std::io::copy(&mut f, &mut h).map_err(io_err("cannot read", &real))?;
                        h.finish()
                    }
                };
                if got != expected {
                    let error = BuildError::HashMismatch {
                        drv: shown_drv.clone(),
                        specified: sri(&expected),
                        got: sri(&got),
                    };
                    let refs = sink.scanner.found_paths(candidates.iter().copied());
                    register_mismatched(
                        store, drv_path, path, method, got, nar_hash, nar_size, refs,
                    )?;
                    return Err(error);
                }
                Some(ContentAddress::Fixed { method, hash: got })
            }
        };
        scanned.insert(
            name,
            Scanned {
                nar_hash,
                nar_size,
                references,
                ca,
            },
        );
    }
    check_output_cycles(&shown_drv, &outputs, &scanned)?;
    check_outputs(store, &shown_drv, drv, &outputs, &scanned)?;

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut infos = BTreeMap::new();
    for (name, s) in scanned {
        let (path, _) = outputs[name];
        infos.insert(
            name.to_string(),
            ValidPathInfo {
                path: path.clone(),
                deriver: Some(drv_path.clone()),
                nar_hash: s.nar_hash,
                references: s.references,
                registration_time: now,
                nar_size: s.nar_size,
                ultimate: true,
                sigs: Vec::new(),
                ca: s.ca,
            },
        );
    }
    let all: Vec<ValidPathInfo> = infos.values().cloned().collect();
    store.register_valid_paths(&all)?;
    Ok(infos)
}

/// A fixed output whose hash is not the declared one: as CppNix 2.8, it is moved to the path
/// its actual content hash gives (unless that path is valid already) and registered there,
/// with the derivation as deriver, before the mismatch is reported. An output that refers to
/// itself or to other paths is not registered (its path would need CppNix's hash rewriting).
#[allow(clippy::too_many_arguments)]
fn register_mismatched(
    store: &LocalStore,
    drv_path: &StorePath,
    expected_path: &StorePath,
    method: FileIngestionMethod,
    got: Hash,
    nar_hash: Hash,
    nar_size: u64,
    references: BTreeSet<StorePath>,
) -> Result<(), BuildError> {
    if !references.is_empty() {
        return Ok(());
    }
    let name = expected_path.name();
    let Ok(actual) =
        store
            .store_dir()
            .make_fixed_output_path(name, method, &got, &references, false)
    else {
        return Ok(());
    };
    if store.is_valid_path(&actual)? {
        return Ok(());
    }
    let from = store.real_path(expected_path);
    let to = store.real_path(&actual);
    // CppNix locks the new path too; a concurrent build of it would hold `<path>.lock`.
    let mut lock_name = to.clone().into_os_string();
    lock_name.push(".lock");
    let _lock = nix_store::store::local::lock::PathLock::acquire(
        Path::new(&lock_name),
        nix_store::store::local::lock::LockMode::Wait,
        nix_store::store::local::lock::OnRelease::Delete,
    )?;
    if store.is_valid_path(&actual)? {
        return Ok(());
    }
    remove_tree(&to)?;
    std::fs::rename(&from, &to).map_err(io_err("cannot move output to", &to))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    store.register_valid_paths(&[ValidPathInfo {
        path: actual,
        deriver: Some(drv_path.clone()),
        nar_hash,
        references,
        registration_time: now,
        nar_size,
        ultimate: true,
        sigs: Vec::new(),
        ca: Some(ContentAddress::Fixed { method, hash: got }),
    }])?;
    Ok(())
}

/// The checks of one output (CppNix's `Checks`).
#[derive(Debug, Default)]
struct Checks {
    ignore_self_refs: bool,
    max_size: Option<u64>,
    max_closure_size: Option<u64>,
    allowed_references: Option<Vec<Vec<u8>>>,
    allowed_requisites: Option<Vec<Vec<u8>>>,
    disallowed_references: Option<Vec<Vec<u8>>>,
    disallowed_requisites: Option<Vec<Vec<u8>>>,
}

/// The checks of output `name`: `outputChecks.<name>` with structured attributes, else the
/// top-level attributes (self-references ignored in requisites, as CppNix).
fn checks_for(
    drv: &Derivation,
    structured: Option<&serde_json::Map<String, serde_json::Value>>,
    name: &str,
    shown_drv: &str,
) -> Result<Option<Checks>, BuildError> {
    let Some(json) = structured else {
        let get = |attr: &str| attrs::strings_attr(drv, None, attr, shown_drv);
        return Ok(Some(Checks {
            ignore_self_refs: true,
            allowed_references: get("allowedReferences")?,
            allowed_requisites: get("allowedRequisites")?,
            disallowed_references: get("disallowedReferences")?,
            disallowed_requisites: get("disallowedRequisites")?,
            ..Checks::default()
        }));
    };
    let Some(spec) = json
        .get("outputChecks")
        .and_then(|c| c.as_object())
        .and_then(|c| c.get(name))
        .and_then(|c| c.as_object())
    else {
        return Ok(None);
    };
    let size = |key: &str| -> Result<Option<u64>, BuildError> {
        match spec.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| BuildError::StructuredAttrs {
                    drv: shown_drv.to_string(),
                    message: format!("'outputChecks.{name}.{key}' is not an unsigned integer"),
                }),
        }
    };
    // nlohmann iterates a lone string as a one-element list.
    let list = |key: &str| -> Result<Option<Vec<Vec<u8>>>, BuildError> {
        match spec.get(key) {
            None => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(vec![s.as_bytes().to_vec()])),
            Some(v) => attrs::json_strings(v)
                .map(Some)
                .ok_or_else(|| BuildError::AttrNotStrings {
                    name: key.to_string(),
                    drv: shown_drv.to_string(),
                }),
        }
    };
    Ok(Some(Checks {
        ignore_self_refs: false,
        max_size: size("maxSize")?,
        max_closure_size: size("maxClosureSize")?,
        allowed_references: list("allowedReferences")?,
        allowed_requisites: list("allowedRequisites")?,
        disallowed_references: list("disallowedReferences")?,
        disallowed_requisites: list("disallowedRequisites")?,
    }))
}

/// CppNix 2.8's `checkOutputs`: sizes and allowed/disallowed references and requisites of
/// each output, in output name order.
fn check_outputs(
    store: &LocalStore,
    shown_drv: &str,
    drv: &Derivation,
    outputs: &BTreeMap<&str, (&StorePath, &DerivationOutput)>,
    scanned: &BTreeMap<&str, Scanned>,
) -> Result<(), BuildError> {
    let sd = store.store_dir();
    let structured = attrs::structured_attrs(drv, shown_drv)?;
    let by_path: BTreeMap<&StorePath, &Scanned> = outputs
        .iter()
        .filter_map(|(n, (p, _))| scanned.get(n).map(|s| (*p, s)))
        .collect();
    // The closure of an output and its NAR size (other outputs are not valid yet).
    let closure = |start: &StorePath| -> Result<(BTreeSet<StorePath>, u64), BuildError> {
        let mut done = BTreeSet::new();
        let mut size = 0u64;
        let mut todo = std::collections::VecDeque::from([start.clone()]);
        while let Some(p) = todo.pop_front() {
            if !done.insert(p.clone()) {
                continue;
            }
            if let Some(s) = by_path.get(&p) {
                size += s.nar_size;
                todo.extend(s.references.iter().cloned());
            } else {
                let info = store
                    .query_path_info(&p)?
                    .ok_or_else(|| BuildError::InvalidPath {
                        path: sd.display(&p),
                    })?;
                size += info.nar_size;
                todo.extend(info.references);
            }
        }
        Ok((done, size))
    };
    for (&name, &(path, _)) in outputs {
        let Some(checks) = checks_for(drv, structured.as_ref(), name, shown_drv)? else {
            continue;
        };
        let Some(info) = scanned.get(name) else {
            continue;
        };
        let shown = sd.display(path);
        if let Some(limit) = checks.max_size {
            if info.nar_size > limit {
                return Err(BuildError::OutputTooLarge {
                    path: shown,
                    size: info.nar_size,
                    limit,
                });
            }
        }
        if let Some(limit) = checks.max_closure_size {
            let (_, size) = closure(path)?;
            if size > limit {
                return Err(BuildError::ClosureTooLarge {
                    path: shown,
                    size,
                    limit,
                });
            }
        }
        let check_refs = |value: &Option<Vec<Vec<u8>>>,
                          allowed: bool,
                          recursive: bool|
         -> Result<(), BuildError> {
            let Some(value) = value else { return Ok(()) };
            let mut spec = BTreeSet::new();
            for s in value {
                let text = String::from_utf8_lossy(s);
                if let Ok(p) = sd.parse_path(&text) {
                    spec.insert(p);
                } else if let Some((p, _)) = outputs.get(&*text) {
                    spec.insert((*p).clone());
                } else {
                    return Err(BuildError::IllegalReferenceSpecifier {
                        spec: text.into_owned(),
                    });
                }
            }
            let mut used = if recursive {
                closure(path)?.0
            } else {
                info.references.clone()
            };
            if recursive && checks.ignore_self_refs {
                used.remove(path);
            }
            let bad: Vec<String> = used
                .iter()
                .filter(|p| spec.contains(*p) != allowed)
                .map(|p| sd.display(p))
                .collect();
            if bad.is_empty() {
                Ok(())
            } else {
                Err(BuildError::ReferencesNotAllowed {
                    output: shown.clone(),
                    paths: bad,
                })
            }
        };
        check_refs(&checks.allowed_references, true, false)?;
        check_refs(&checks.allowed_requisites, true, true)?;
        check_refs(&checks.disallowed_references, false, false)?;
        check_refs(&checks.disallowed_requisites, false, true)?;
    }
    Ok(())
}

/// Refuses references between outputs that form a cycle, naming the first output found on
/// it and the output it was reached from, as CppNix's topological sort of the outputs does.
fn check_output_cycles(
    drv: &str,
    outputs: &BTreeMap<&str, (&StorePath, &DerivationOutput)>,
    scanned: &BTreeMap<&str, Scanned>,
) -> Result<(), BuildError> {
    let by_path: BTreeMap<&StorePath, &str> = outputs.iter().map(|(n, (p, _))| (*p, *n)).collect();
    // 0 = unvisited, 1 = on the stack, 2 = done
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    fn visit<'a>(
        drv: &str,
        name: &'a str,
        parent: &'a str,
        by_path: &BTreeMap<&StorePath, &'a str>,
        scanned: &'a BTreeMap<&str, Scanned>,
        state: &mut BTreeMap<&'a str, u8>,
    ) -> Result<(), BuildError> {
        match state.get(name) {
            Some(2) => return Ok(()),
            Some(1) => {
                return Err(BuildError::OutputCycle {
                    drv: drv.to_string(),
                    output: name.to_string(),
                    from: parent.to_string(),
                })
            }
            _ => {}
        }
        state.insert(name, 1);
        if let Some(s) = scanned.get(name) {
            for r in &s.references {
                if let Some(&other) = by_path.get(r) {
                    if other != name {
                        visit(drv, other, name, by_path, scanned, state)?;
                    }
                }
            }
        }
        state.insert(name, 2);
        Ok(())
    }
    for &name in outputs.keys() {
        visit(drv, name, name, &by_path, scanned, &mut state)?;
    }
    Ok(())
}
