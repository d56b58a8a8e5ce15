//! Output paths and the `.drv` store path.
//!
//! * [`fill_outputs`] does for a new derivation what CppNix's `derivationStrict` does: it
//!   masks the outputs, computes `hashDerivationModulo`, and sets each input-addressed
//!   output's path, in `outputs` and in `env` ([facts §4](../../shared/docs/nix-facts.md)).
//! * [`Derivation::drv_path`] and [`Derivation::to_drv_file`] give the `.drv` store path: a
//!   text path named `<name>.drv` over the ATerm, referring to the input sources and input
//!   derivations. `to_drv_file` returns everything a store needs to write it.
//! * [`expected_outputs`] recomputes what the output paths of an existing derivation should
//!   be, to check it (CppNix's `checkDerivationOutputs`).

use std::collections::{BTreeMap, BTreeSet};

use nix_store::hash::{Hash, HashAlgo};
use nix_store::store_path::{StoreDir, StorePath};

pub use nix_store::store_path::compute::output_path_name;

use crate::derivation::{Derivation, DerivationKind, DerivationOutput, FileIngestionMethod};
use crate::hash_modulo::{hash_derivation_modulo, DrvHashCache, DrvHashKind, DrvResolver};
use crate::Error;

/// The path of a fixed output: `makeFixedOutputPath(method, hash, outputPathName(drv_name,
/// output_name))`.
///
/// # Errors
/// An invalid store path name.
pub fn fixed_output_path(
    store_dir: &StoreDir,
    drv_name: &str,
    output_name: &str,
    method: FileIngestionMethod,
    hash: &Hash,
) -> Result<StorePath, Error> {
    Ok(store_dir.make_fixed_output_path(
        &output_path_name(drv_name, output_name),
        method,
        hash,
        &BTreeSet::new(),
        false,
    )?)
}

/// The name of a derivation from its `.drv` path (`…-hello-2.12.drv` → `hello-2.12`).
///
/// Returns `None` if the path does not end in `.drv`.
pub fn drv_name_from_path(drv_path: &StorePath) -> Option<&str> {
    drv_path.name().strip_suffix(".drv")
}

/// A `.drv` file ready to be added to a store as a text path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrvFile {
    /// Its store path.
    pub path: StorePath,
    /// The ATerm bytes.
    pub contents: Vec<u8>,
    /// Its references: the input sources and input derivations.
    pub references: BTreeSet<StorePath>,
}

impl Derivation {
    /// The `.drv` file of this derivation named `drv_name` (without `.drv`): bytes, store
    /// path and references. Adding it to a store is `add_text(path.name(), contents,
    /// references)`.
    ///
    /// # Errors
    /// An invalid name.
    ///
    /// # Example
    /// ```
    /// use nix_derivation::Derivation;
    /// use nix_derivation::store::store_path::StoreDir;
    ///
    /// let store_dir = StoreDir::default();
    /// let drv = Derivation::parse(br#"Derive([("out","/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple","","")],[],[],"x86_64-linux","/bin/sh",["-c","echo hello > $out"],[("builder","/bin/sh"),("name","simple"),("out","/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple"),("system","x86_64-linux")])"#, &store_dir)?;
    /// let file = drv.to_drv_file(&store_dir, "simple")?;
    /// assert_eq!(store_dir.display(&file.path), "/nix/store/3ghsl9sd83mc26i81adpa2fzf3yw4f68-simple.drv");
    /// assert!(file.references.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_drv_file(&self, store_dir: &StoreDir, drv_name: &str) -> Result<DrvFile, Error> {
        let contents = self.to_aterm(store_dir);
        let references = self.references();
        let hash = Hash::digest_bytes(HashAlgo::Sha256, &contents);
        let path = store_dir.make_text_path(&format!("{drv_name}.drv"), &hash, &references)?;
        Ok(DrvFile {
            path,
            contents,
            references,
        })
    }

    /// The store path of this derivation's `.drv` file.
    ///
    /// # Errors
    /// An invalid name.
    pub fn drv_path(&self, store_dir: &StoreDir, drv_name: &str) -> Result<StorePath, Error> {
        Ok(self.to_drv_file(store_dir, drv_name)?.path)
    }
}

/// Computes and sets the output paths of a new derivation named `drv_name`, as CppNix's
/// `derivationStrict` does after collecting the attributes.
///
/// * Fixed outputs get their path from their hash (and `env[out]` is set to it).
/// * Input-addressed outputs (given as [`DerivationOutput::Deferred`] or with any path) are
///   masked: their paths and the environment variables named like them become empty, then
///   `hashDerivationModulo` is computed and each output's path (`makeOutputPath`) is set in
///   `outputs` and `env`. If an input is deferred (floating content-addressed), the outputs
///   stay deferred and the variables empty.
/// * Floating and impure outputs are left alone (their variables hold placeholders, which
///   the evaluator sets).
///
/// # Errors
/// Mixed output kinds, an unreadable input, or an invalid store path name.
///
/// # Example
/// ```
/// use std::collections::BTreeMap;
/// use nix_derivation::{Derivation, DerivationOutput};
/// use nix_derivation::hash_modulo::{DrvHashCache, NoInputs};
/// use nix_derivation::outputs::fill_outputs;
/// use nix_derivation::store::store_path::StoreDir;
///
/// let store_dir = StoreDir::default();
/// let mut drv = Derivation::default();
/// drv.outputs.insert("out".into(), DerivationOutput::Deferred);
/// drv.system = b"x86_64-linux".to_vec();
/// drv.builder = b"/bin/sh".to_vec();
/// drv.args = vec![b"-c".to_vec(), b"echo hello > $out".to_vec()];
/// for (k, v) in [("builder", "/bin/sh"), ("name", "simple"), ("system", "x86_64-linux")] {
///     drv.env.insert(k.into(), v.into());
/// }
/// fill_outputs(&mut drv, "simple", &store_dir, &mut NoInputs, &mut DrvHashCache::new())?;
/// assert_eq!(drv.env_var("out"), Some(&b"/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple"[..]));
/// assert_eq!(store_dir.display(&drv.drv_path(&store_dir, "simple")?),
///            "/nix/store/3ghsl9sd83mc26i81adpa2fzf3yw4f68-simple.drv");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn fill_outputs(
    drv: &mut Derivation,
    drv_name: &str,
    store_dir: &StoreDir,
    resolver: &mut dyn DrvResolver,
    cache: &mut DrvHashCache,
) -> Result<(), Error> {
    match drv.kind()? {
        DerivationKind::Fixed => {
            let mut updates = Vec::new();
            for (name, output) in &drv.outputs {
                if let DerivationOutput::Fixed { method, hash, .. } = output {
                    let path = fixed_output_path(store_dir, drv_name, name, *method, hash)?;
                    updates.push((name.clone(), path, *method, *hash));
                }
            }
            for (name, path, method, hash) in updates {
                drv.env.insert(
                    name.clone().into_bytes(),
                    store_dir.display(&path).into_bytes(),
                );
                drv.outputs
                    .insert(name, DerivationOutput::Fixed { path, method, hash });
            }
            Ok(())
        }
        DerivationKind::Floating | DerivationKind::Impure => Ok(()),
        DerivationKind::InputAddressed { .. } => {
            let names: Vec<String> = drv.outputs.keys().cloned().collect();
            for name in &names {
                drv.env.insert(name.clone().into_bytes(), Vec::new());
                drv.outputs.insert(name.clone(), DerivationOutput::Deferred);
            }
            let hash = hash_derivation_modulo(drv, store_dir, true, resolver, cache)?;
            if hash.kind == DrvHashKind::Deferred {
                return Ok(());
            }
            for name in names {
                let h = hash.hashes.get(&name).ok_or_else(|| Error::NoOutputHash {
                    output: name.clone(),
                })?;
                let path = store_dir.make_output_path(&name, h, drv_name)?;
                drv.env.insert(
                    name.clone().into_bytes(),
                    store_dir.display(&path).into_bytes(),
                );
                drv.outputs
                    .insert(name, DerivationOutput::InputAddressed(path));
            }
            Ok(())
        }
    }
}

/// The output paths CppNix would compute for this derivation named `drv_name`: `Some(path)`
/// for input-addressed and fixed outputs, `None` for outputs whose path is not known before
/// building (deferred, floating, impure).
///
/// # Errors
/// As [`fill_outputs`].
pub fn expected_outputs(
    drv: &Derivation,
    drv_name: &str,
    store_dir: &StoreDir,
    resolver: &mut dyn DrvResolver,
    cache: &mut DrvHashCache,
) -> Result<BTreeMap<String, Option<StorePath>>, Error> {
    let mut copy = drv.clone();
    fill_outputs(&mut copy, drv_name, store_dir, resolver, cache)?;
    Ok(copy
        .outputs
        .iter()
        .map(|(k, o)| (k.clone(), o.path().cloned()))
        .collect())
}

/// Checks that the output paths of `drv` (and the environment variables naming them) are
/// those CppNix would compute.
///
/// # Errors
/// [`Error::OutputPathMismatch`] for the first output that differs, or as [`fill_outputs`].
pub fn check_outputs(
    drv: &Derivation,
    drv_name: &str,
    store_dir: &StoreDir,
    resolver: &mut dyn DrvResolver,
    cache: &mut DrvHashCache,
) -> Result<(), Error> {
    let expected = expected_outputs(drv, drv_name, store_dir, resolver, cache)?;
    for (name, output) in &drv.outputs {
        let want = expected.get(name).cloned().flatten();
        let have = output.path().cloned();
        if want != have {
            return Err(Error::OutputPathMismatch {
                output: name.clone(),
                expected: want.map(|p| store_dir.display(&p)).unwrap_or_default(),
                found: have.map(|p| store_dir.display(&p)).unwrap_or_default(),
            });
        }
        if let Some(p) = &want {
            // CppNix sets a variable per output, also with structured attributes.
            let env = drv.env.get(name.as_bytes());
            if env.map(Vec::as_slice) != Some(store_dir.display(p).as_bytes()) {
                return Err(Error::OutputPathMismatch {
                    output: name.clone(),
                    expected: store_dir.display(p),
                    found: String::from_utf8_lossy(env.map(Vec::as_slice).unwrap_or_default())
                        .into_owned(),
                });
            }
        }
    }
    Ok(())
}
