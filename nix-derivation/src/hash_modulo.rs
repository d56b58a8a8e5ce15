//! `hashDerivationModulo`: the hash that input-addressed output paths are made from.
//!
//! As CppNix 2.8 ([facts §4](../../shared/docs/nix-facts.md)):
//! 1. a **fixed-output** derivation hashes to
//!    `sha256("fixed:out:" + [r:]algo + ":" + base16(hash) + ":" + outPath)`, independent of
//!    its builder and inputs;
//! 2. an **impure** derivation hashes to `sha256("impure")`, and is *deferred*;
//! 3. any other derivation hashes to the sha256 of its ATerm in which each input derivation
//!    path is replaced by the base 16 of that input's hash (for each output it uses; outputs
//!    with equal hashes are grouped, and the list is re-sorted by the new keys). A derivation
//!    with a floating content-addressed output, or with a deferred input, is *deferred*.
//!
//! Inputs are read through a [`DrvResolver`] and their hashes are memoised in a
//! [`DrvHashCache`], which can be kept across calls (one per store, as CppNix's global
//! `drvHashes`). The walk over the input graph uses an explicit stack, so deep chains do not
//! overflow the call stack, and it detects cycles.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use nix_store::hash::{Hash, HashAlgo};
use nix_store::store_path::{StoreDir, StorePath};

use crate::aterm::{self, ParseOptions};
use crate::derivation::{print_method_algo, Derivation, DerivationKind, DerivationOutput};
use crate::Error;

/// The error type a [`DrvResolver`] returns.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Reads the derivations that a derivation depends on.
pub trait DrvResolver {
    /// Returns the derivation stored at `drv_path`.
    ///
    /// # Errors
    /// Whatever prevents reading it; it is reported as [`Error::Resolve`].
    fn read_drv(&mut self, drv_path: &StorePath) -> Result<Derivation, BoxError>;
}

impl<R: DrvResolver + ?Sized> DrvResolver for &mut R {
    fn read_drv(&mut self, drv_path: &StorePath) -> Result<Derivation, BoxError> {
        (**self).read_drv(drv_path)
    }
}

/// An in-memory resolver: the derivations by path.
impl DrvResolver for BTreeMap<StorePath, Derivation> {
    fn read_drv(&mut self, drv_path: &StorePath) -> Result<Derivation, BoxError> {
        self.get(drv_path)
            .cloned()
            .ok_or_else(|| format!("derivation '{drv_path}' is not known").into())
    }
}

/// An in-memory resolver: the derivations by path.
impl DrvResolver for HashMap<StorePath, Derivation> {
    fn read_drv(&mut self, drv_path: &StorePath) -> Result<Derivation, BoxError> {
        self.get(drv_path)
            .cloned()
            .ok_or_else(|| format!("derivation '{drv_path}' is not known").into())
    }
}

/// A resolver for derivations that have no inputs (it fails if asked for one).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoInputs;

impl DrvResolver for NoInputs {
    fn read_drv(&mut self, drv_path: &StorePath) -> Result<Derivation, BoxError> {
        Err(format!("no resolver to read input derivation '{drv_path}'").into())
    }
}

/// A resolver from a function.
#[derive(Debug, Clone, Copy)]
pub struct FnResolver<F>(pub F);

impl<F> DrvResolver for FnResolver<F>
where
    F: FnMut(&StorePath) -> Result<Derivation, BoxError>,
{
    fn read_drv(&mut self, drv_path: &StorePath) -> Result<Derivation, BoxError> {
        (self.0)(drv_path)
    }
}

/// Reads `.drv` files from the directory that holds the store paths (for the store
/// `/nix/store` of a store root `R`, that is `R/nix/store`).
#[derive(Debug, Clone)]
pub struct FsResolver {
    store_dir: StoreDir,
    real_dir: PathBuf,
    options: ParseOptions,
}

impl FsResolver {
    /// A resolver reading `<real_dir>/<base name>` for each path of `store_dir`.
    pub fn new(store_dir: StoreDir, real_dir: impl Into<PathBuf>) -> Self {
        FsResolver {
            store_dir,
            real_dir: real_dir.into(),
            options: ParseOptions::default(),
        }
    }

    /// The directory the files are read from.
    pub fn real_dir(&self) -> &Path {
        &self.real_dir
    }
}

impl DrvResolver for FsResolver {
    fn read_drv(&mut self, drv_path: &StorePath) -> Result<Derivation, BoxError> {
        let file = self.real_dir.join(drv_path.as_str());
        let bytes = std::fs::read(&file)?;
        Ok(aterm::parse(&bytes, &self.store_dir, &self.options)?)
    }
}

/// Whether a derivation hash is final or depends on something only known after a build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrvHashKind {
    /// Output paths can be computed from it.
    Regular,
    /// The derivation is (or depends on) a floating content-addressed or impure one: its
    /// input-addressed outputs stay [`DerivationOutput::Deferred`].
    Deferred,
}

/// The result of `hashDerivationModulo`: one hash per output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrvHash {
    /// The hash of each output (all equal, except for fixed-output derivations).
    pub hashes: BTreeMap<String, Hash>,
    /// Regular or deferred.
    pub kind: DrvHashKind,
}

/// Memoised hashes of derivations by path (CppNix's `drvHashes`). Keep one per store
/// directory.
#[derive(Debug, Clone, Default)]
pub struct DrvHashCache {
    map: HashMap<StorePath, DrvHash>,
}

impl DrvHashCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The memoised hash of a derivation.
    pub fn get(&self, drv_path: &StorePath) -> Option<&DrvHash> {
        self.map.get(drv_path)
    }

    /// Records a hash.
    pub fn insert(&mut self, drv_path: StorePath, hash: DrvHash) {
        self.map.insert(drv_path, hash);
    }

    /// How many derivations are memoised.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is memoised.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.map.clear()
    }
}

/// The hash CppNix gives impure outputs: `sha256("impure")`.
pub fn impure_output_hash() -> Hash {
    Hash::digest_bytes(HashAlgo::Sha256, b"impure")
}

/// Computes `hashDerivationModulo(drv, mask_outputs)`.
///
/// `mask_outputs` prints the derivation's own output paths (and the environment variables
/// named like its outputs) as empty strings; CppNix sets it when computing the output paths
/// of a new derivation, and clears it for inputs.
///
/// # Errors
/// An invalid mix of outputs ([`Derivation::kind`]), an input that cannot be read
/// ([`Error::Resolve`]) or lacks a requested output, or a cycle among inputs.
///
/// # Example
/// ```
/// use nix_derivation::{Derivation, hash_modulo::{hash_derivation_modulo, DrvHashCache, NoInputs}};
/// use nix_derivation::store::store_path::StoreDir;
///
/// let store_dir = StoreDir::default();
/// let drv = Derivation::parse(br#"Derive([("out","/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple","","")],[],[],"x86_64-linux","/bin/sh",["-c","echo hello > $out"],[("builder","/bin/sh"),("name","simple"),("out","/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple"),("system","x86_64-linux")])"#, &store_dir)?;
/// let h = hash_derivation_modulo(&drv, &store_dir, true, &mut NoInputs, &mut DrvHashCache::new())?;
/// let out = store_dir.make_output_path("out", &h.hashes["out"], "simple")?;
/// assert_eq!(store_dir.display(&out), "/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn hash_derivation_modulo(
    drv: &Derivation,
    store_dir: &StoreDir,
    mask_outputs: bool,
    resolver: &mut dyn DrvResolver,
    cache: &mut DrvHashCache,
) -> Result<DrvHash, Error> {
    // Make sure every input is memoised, then hash this one.
    for input in drv.input_drvs.keys() {
        hash_input(input, store_dir, resolver, cache)?;
    }
    hash_with_inputs_known(drv, store_dir, mask_outputs, cache, None)
}

/// Computes (and memoises) the hash of the derivation at `drv_path`, walking its inputs
/// depth-first with an explicit stack.
///
/// # Errors
/// As [`hash_derivation_modulo`].
pub fn hash_input(
    drv_path: &StorePath,
    store_dir: &StoreDir,
    resolver: &mut dyn DrvResolver,
    cache: &mut DrvHashCache,
) -> Result<DrvHash, Error> {
    if let Some(h) = cache.get(drv_path) {
        return Ok(h.clone());
    }
    // Derivations whose inputs have been pushed, and are waiting for them.
    let mut expanded: HashMap<StorePath, Derivation> = HashMap::new();
    let mut stack: Vec<StorePath> = vec![drv_path.clone()];
    while let Some(top) = stack.last() {
        if cache.get(top).is_some() {
            stack.pop();
            continue;
        }
        if let Some(drv) = expanded.remove(top) {
            // All its inputs are done.
            let hash = hash_with_inputs_known(&drv, store_dir, false, cache, Some(top))?;
            let top = stack.pop().expect("the stack is not empty here");
            cache.insert(top, hash);
            continue;
        }
        let drv = resolver.read_drv(top).map_err(|source| Error::Resolve {
            drv_path: store_dir.display(top),
            source,
        })?;
        let top = top.clone();
        let mut pending = Vec::new();
        for input in drv.input_drvs.keys() {
            if cache.get(input).is_some() {
                continue;
            }
            if expanded.contains_key(input) || *input == top {
                return Err(Error::Cycle {
                    drv_path: store_dir.display(input),
                });
            }
            pending.push(input.clone());
        }
        expanded.insert(top, drv);
        stack.extend(pending);
    }
    cache.get(drv_path).cloned().ok_or_else(|| Error::Cycle {
        drv_path: store_dir.display(drv_path),
    })
}

/// `hashDerivationModulo` for a derivation whose inputs are all in `cache`.
fn hash_with_inputs_known(
    drv: &Derivation,
    store_dir: &StoreDir,
    mask_outputs: bool,
    cache: &DrvHashCache,
    this_path: Option<&StorePath>,
) -> Result<DrvHash, Error> {
    let kind = drv.kind()?;
    match kind {
        DerivationKind::Fixed => {
            let mut hashes = BTreeMap::new();
            for (name, output) in &drv.outputs {
                if let DerivationOutput::Fixed { path, method, hash } = output {
                    let text = format!(
                        "fixed:out:{}:{}:{}",
                        print_method_algo(*method, hash.algo()),
                        hash.to_base16(),
                        store_dir.display(path)
                    );
                    hashes.insert(
                        name.clone(),
                        Hash::digest_bytes(HashAlgo::Sha256, text.as_bytes()),
                    );
                }
            }
            return Ok(DrvHash {
                hashes,
                kind: DrvHashKind::Regular,
            });
        }
        DerivationKind::Impure => {
            let h = impure_output_hash();
            return Ok(DrvHash {
                hashes: drv.outputs.keys().map(|k| (k.clone(), h)).collect(),
                kind: DrvHashKind::Deferred,
            });
        }
        DerivationKind::InputAddressed { .. } | DerivationKind::Floating => {}
    }
    let mut kind = if kind == DerivationKind::Floating {
        DrvHashKind::Deferred
    } else {
        DrvHashKind::Regular
    };

    let mut replacement: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (input, outputs) in &drv.input_drvs {
        let res = cache.get(input).ok_or_else(|| Error::Cycle {
            drv_path: store_dir.display(input),
        })?;
        if res.kind == DrvHashKind::Deferred {
            kind = DrvHashKind::Deferred;
        }
        for output in outputs {
            let h = res
                .hashes
                .get(output)
                .ok_or_else(|| Error::MissingInputOutput {
                    drv_path: store_dir.display(input),
                    output: output.clone(),
                    referrer: this_path.map(|p| store_dir.display(p)),
                })?;
            replacement
                .entry(h.to_base16())
                .or_default()
                .insert(output.clone());
        }
    }
    let mut text = Vec::with_capacity(4096);
    aterm::write::derivation(
        &mut text,
        drv,
        store_dir,
        aterm::write::WriteMode {
            mask_outputs,
            input_replacement: Some(&replacement),
        },
    );
    let hash = Hash::digest_bytes(HashAlgo::Sha256, &text);
    Ok(DrvHash {
        hashes: drv.outputs.keys().map(|k| (k.clone(), hash)).collect(),
        kind,
    })
}

/// The set of inputs of a whole graph is walked once: this checks that [`hash_input`] does
/// not revisit memoised nodes.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::derivation::DerivationOutput;

    fn sp(base: &str) -> StorePath {
        StorePath::from_base_name(base).expect("valid test path")
    }

    fn drv_with_inputs(inputs: &[&StorePath]) -> Derivation {
        let mut d = Derivation::default();
        d.outputs.insert("out".into(), DerivationOutput::Deferred);
        for i in inputs {
            d.input_drvs
                .insert((*i).clone(), BTreeSet::from(["out".to_string()]));
        }
        d
    }

    #[test]
    fn cycles_are_errors() {
        let a = sp("00000000000000000000000000000000-a.drv");
        let b = sp("11111111111111111111111111111111-b.drv");
        let mut map = BTreeMap::new();
        map.insert(a.clone(), drv_with_inputs(&[&b]));
        map.insert(b.clone(), drv_with_inputs(&[&a]));
        let err = hash_input(&a, &StoreDir::default(), &mut map, &mut DrvHashCache::new());
        assert!(matches!(err, Err(Error::Cycle { .. })), "{err:?}");
        let self_loop = sp("22222222222222222222222222222222-c.drv");
        map.insert(self_loop.clone(), drv_with_inputs(&[&self_loop]));
        let err = hash_input(
            &self_loop,
            &StoreDir::default(),
            &mut map,
            &mut DrvHashCache::new(),
        );
        assert!(matches!(err, Err(Error::Cycle { .. })), "{err:?}");
    }

    #[test]
    fn diamonds_are_read_once() -> Result<(), Error> {
        let leaf = sp("00000000000000000000000000000000-leaf.drv");
        let l = sp("11111111111111111111111111111111-l.drv");
        let r = sp("22222222222222222222222222222222-r.drv");
        let top = sp("33333333333333333333333333333333-top.drv");
        let mut map = BTreeMap::new();
        map.insert(leaf.clone(), drv_with_inputs(&[]));
        map.insert(l.clone(), drv_with_inputs(&[&leaf]));
        map.insert(r.clone(), drv_with_inputs(&[&leaf]));
        map.insert(top.clone(), drv_with_inputs(&[&l, &r]));
        let mut reads = Vec::new();
        let mut resolver = FnResolver(|p: &StorePath| {
            reads.push(p.clone());
            map.read_drv(p)
        });
        let mut cache = DrvHashCache::new();
        hash_input(&top, &StoreDir::default(), &mut resolver, &mut cache)?;
        assert_eq!(cache.len(), 4);
        assert_eq!(reads.len(), 4);
        Ok(())
    }

    #[test]
    fn missing_output_is_an_error() {
        let a = sp("00000000000000000000000000000000-a.drv");
        let mut map = BTreeMap::new();
        map.insert(a.clone(), drv_with_inputs(&[]));
        let mut top = drv_with_inputs(&[&a]);
        top.input_drvs
            .insert(a, BTreeSet::from(["dev".to_string()]));
        let err = hash_derivation_modulo(
            &top,
            &StoreDir::default(),
            true,
            &mut map,
            &mut DrvHashCache::new(),
        );
        assert!(
            matches!(err, Err(Error::MissingInputOutput { .. })),
            "{err:?}"
        );
    }
}
