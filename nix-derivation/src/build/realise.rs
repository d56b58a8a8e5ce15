//! Realising derivations in a local store: CppNix 2.8's `buildPaths` for `.drv` files.
//!
//! [`realise`] reads the graph of `.drv` files below the requested ones from the store,
//! skips derivations whose outputs are all valid, asks the configured [`Substituter`] for the
//! outputs of the others (and for missing input sources), and builds what remains in
//! dependency order with at most [`RealiseOptions::max_jobs`] builders at once (one thread
//! and one child process each). Each build:
//!
//! * locks its output paths (`<path>.lock`, CppNix's protocol) and deletes stale, invalid
//!   files at those paths;
//! * runs in a fresh directory `<build_dir_parent>/nix-build-<name>.drv-<n>` (mode 0700),
//!   deleted afterwards unless it failed and [`RealiseOptions::keep_failed`] is set;
//! * writes the builder's output to the store's log (`R/nix/var/log/nix/drvs/…bz2`, see
//!   [`super::log`]) and to the [`BuildObserver`];
//! * registers its outputs with [`super::register::register_outputs`] (references,
//!   canonical metadata, NAR hashes, fixed-output hashes, one transaction), or, if anything
//!   fails, deletes them so that nothing partial is left.
//!
//! Every path read or produced is recorded as a temporary GC root of the process.
//!
//! Structured attributes, `exportReferencesGraph` and output placeholders are handled by
//! [`super::attrs`], the output checks (`allowedReferences`, `outputChecks`, …) by
//! [`super::register`]. [`BuildOptions::timeout`] and [`BuildOptions::max_silent_time`] kill
//! builders ([`BuildError::TimedOut`]). [`RealiseOptions::check`] rebuilds and compares
//! (`--check`), [`RealiseOptions::repair`] checks contents and rebuilds what is corrupted
//! (`--repair`); both rebuild in the sandbox into `<output>.check`.
//!
//! On a failure the remaining builds are not started (unless
//! [`RealiseOptions::keep_going`]); builds already running finish and are registered. Each
//! derivation that needs a failed one fails with CppNix's "N dependencies of derivation …
//! failed to build". The error, [`BuildError::Realise`], lists every failure in the order
//! they happened and CppNix's exit status.
//!
//! # Sandbox and builtins
//! `builtin:` builders (`builtin:buildenv`, and `builtin:fetchurl` for fixed-output
//! derivations) run in-process ([`super::builtins::run`]), reading inputs from and writing
//! outputs to the store's real directory (CppNix runs them in its sandboxed child; our
//! sandbox child cannot run Rust code before `execve`, and the outputs are the same: see the
//! crate README). Other builders run, depending on
//! [`RealiseOptions::sandbox`] (CppNix's `sandbox` setting):
//!
//! * [`SandboxMode::Auto`] (the default, as CppNix's default `sandbox = true` on Linux): in the
//!   sandbox ([`super::sandbox::run`]) when [`super::sandbox::available`] says this process
//!   can create its namespaces; otherwise without it ([`super::builder::run`]);
//! * [`SandboxMode::Enabled`]: always in the sandbox; [`BuildError::SandboxUnavailable`] when
//!   it cannot be used;
//! * [`SandboxMode::Disabled`]: without a sandbox ([`super::builder::run`]).
//!
//! Running without the sandbox needs a store whose store directory is where its files are (a
//! store opened with [`LocalStore::open_with_store_dir`] with `R/nix/store`, or the system
//! store `/`): the builder is told to write `/nix/store/…`. A *diverted* store (`--store R`,
//! logical `/nix/store`, files in `R/nix/store`) therefore always builds in the sandbox, even
//! with [`SandboxMode::Disabled`], as CppNix 2.8 on Linux does (`nix-store --store R -r …
//! --option sandbox false` builds in its sandbox); when the sandbox is unavailable that is
//! [`BuildError::SandboxUnavailable`], with the reason, before anything is built.
//!
//! In the sandbox the builder sees the closure of its inputs (input sources and the outputs
//! of input derivations, with their references, from the store's database), runs in `/build`,
//! and has the network only for fixed-output derivations; its outputs are moved to the real
//! store directory, so a diverted store builds the same paths as CppNix.
//!
//! # Example
//! ```no_run
//! use nix_derivation::build::realise::{realise, RealiseOptions};
//! use nix_derivation::store::store::{local::LocalStore, Store};
//! use nix_derivation::store::store_path::StoreDir;
//!
//! let store = LocalStore::open_with_store_dir("/tmp/r", StoreDir::new("/tmp/r/nix/store")?)?;
//! let drv = store.store_dir().parse_path("/tmp/r/nix/store/0zsw1yfz1sacy2x6sybndhjszj8ljhxy-a.drv")?;
//! let built = realise(&store, &[drv.clone()], &RealiseOptions { max_jobs: 4, ..Default::default() })?;
//! for (name, path) in &built[&drv] {
//!     println!("{name}: {}", store.store_dir().display(path));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use nix_store::store::local::lock::{LockMode, OnRelease, PathLock};
use nix_store::store::local::LocalStore;
use nix_store::store::Store;
use nix_store::store_path::StorePath;

use super::builder::{self, BuildError, BuildOptions};
use super::log::LogFile;
use super::register::{register_outputs, remove_tree};
use super::{attrs, builtins, sandbox};
use crate::derivation::Derivation;

/// Something that can fetch store paths instead of building them (a binary cache).
pub trait Substituter: Send + Sync + std::fmt::Debug {
    /// Tries to make `path` valid in `store` (with its references). Returns whether it is
    /// valid now; `Ok(false)` when no cache has it.
    ///
    /// # Errors
    /// A message saying why fetching failed; [`realise`] then builds instead, as CppNix does
    /// after a substituter error.
    fn substitute(&self, store: &LocalStore, path: &StorePath) -> Result<bool, String>;
}

/// Binary caches ([`nix_store::cache::Substituters`]) substitute outputs: a path is fetched
/// with its missing references, checked against the narinfo and registered atomically.
impl Substituter for nix_store::cache::Substituters {
    fn substitute(&self, store: &LocalStore, path: &StorePath) -> Result<bool, String> {
        self.substitute_path(store, path).map_err(|e| {
            let mut message = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                message.push_str(": ");
                message.push_str(&s.to_string());
                source = s.source();
            }
            message
        })
    }
}

/// Whether builders run in the sandbox (CppNix's `sandbox` setting). `builtin:` builders
/// always run in-process. Whatever the setting, a diverted store builds in the sandbox (as
/// CppNix 2.8 on Linux), so there [`BuildError::SandboxUnavailable`] is the error when it
/// cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SandboxMode {
    /// Always (`sandbox = true` or `relaxed`, as `__noChroot` is not supported);
    /// [`BuildError::SandboxUnavailable`] when this process cannot create the namespaces.
    Enabled,
    /// Without the sandbox (`sandbox = false`), except in a diverted store (see above).
    Disabled,
    /// In the sandbox on Linux when it is available, else without it (only possible in a
    /// store that is not diverted). CppNix's default `sandbox = true` on Linux, with a
    /// fallback.
    #[default]
    Auto,
}

/// How the builders of one [`realise`] call run (what [`SandboxMode`] resolves to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runner {
    Sandbox,
    Plain,
}

/// Resolves the sandbox setting for `store` (probing the namespaces at most once).
///
/// A diverted store always builds in the sandbox, even with [`SandboxMode::Disabled`]: CppNix
/// 2.8 does the same (its `startBuilder` turns the chroot on when the store directory is not
/// the real one), since only the sandbox can show the inputs at their logical paths.
fn choose_runner(store: &LocalStore, mode: SandboxMode) -> Result<Runner, BuildError> {
    let diverted = is_diverted(store);
    match mode {
        SandboxMode::Disabled if !diverted => Ok(Runner::Plain),
        SandboxMode::Enabled | SandboxMode::Disabled => {
            sandbox::available()?;
            Ok(Runner::Sandbox)
        }
        SandboxMode::Auto => match sandbox::available() {
            Ok(()) => Ok(Runner::Sandbox),
            Err(e) if diverted => Err(e.into()),
            Err(_) => Ok(Runner::Plain),
        },
    }
}

/// Receives progress and the builders' output while [`realise`] runs. Called from the build
/// threads, so it must be `Sync`; every method has an empty default.
pub trait BuildObserver: Send + Sync {
    /// The derivations that will be built, dependencies first (CppNix prints "these N
    /// derivations will be built:").
    fn will_build(&self, _drvs: &[StorePath]) {}
    /// A build starts (CppNix prints "building '…'...").
    fn started(&self, _drv: &StorePath) {}
    /// A `--check` rebuild starts (CppNix prints "checking outputs of '…'..."). Calls
    /// [`BuildObserver::started`] unless overridden.
    fn checking(&self, drv: &StorePath) {
        self.started(drv);
    }
    /// A chunk of a builder's output (standard output and standard error).
    fn log(&self, _drv: &StorePath, _bytes: &[u8]) {}
    /// A derivation failed (also for "dependencies failed"), as it happens.
    fn failed(&self, _error: &BuildError) {}
    /// Something worth a warning (a substituter error).
    fn warning(&self, _message: &str) {}
    /// A message CppNix prints as it is (`--repair`'s "checking path '…'...", "path '…' is
    /// corrupted or missing!", "found corrupted or missing path '…' in the output closure of
    /// '…'", "repairing outputs of '…'...").
    fn info(&self, _message: &str) {}
}

/// The knobs of [`realise`].
#[derive(Clone)]
pub struct RealiseOptions {
    /// How many builders may run at once (CppNix's `max-jobs`, default 1). 0 allows no
    /// local builds.
    pub max_jobs: usize,
    /// Keep building what does not depend on a failed derivation (`--keep-going`).
    pub keep_going: bool,
    /// Keep the build directory of a failed build (`--keep-failed`).
    pub keep_failed: bool,
    /// What each builder gets (`NIX_BUILD_CORES`, log tail length, impure variables).
    pub build: BuildOptions,
    /// The sandbox setting.
    pub sandbox: SandboxMode,
    /// Where build directories are created (CppNix uses `TMPDIR`, else `/tmp`; the library
    /// reads no environment, so the caller passes it). Default `/tmp`.
    pub build_dir_parent: PathBuf,
    /// Where to try to fetch outputs and missing inputs before building.
    pub substituter: Option<Arc<dyn Substituter>>,
    /// Progress and log output.
    pub observer: Option<Arc<dyn BuildObserver>>,
    /// Write build logs to the store's log directory (CppNix's `keep-log`, default true).
    pub keep_log: bool,
    /// Rebuild the requested derivations although their outputs are valid, and fail with
    /// [`BuildError::NotDeterministic`] if a result differs (`--check`; CppNix's `bmCheck`).
    /// Their outputs must all be valid ([`BuildError::CheckNotValid`]); the rebuild runs in
    /// the sandbox only. Missing dependencies are built normally.
    pub check: bool,
    /// `--repair` (CppNix's `bmRepair`): for each requested derivation whose outputs are
    /// valid (and, as in CppNix, each input of one that is built, and each derivation being
    /// repaired), check the contents (NAR hash) of its outputs and of their closure; rebuild the
    /// derivations whose outputs are corrupted or missing (found in the `.drv`'s closure), in
    /// the sandbox, and replace and register those outputs again. A corrupted path without
    /// a deriver is [`BuildError::RepairFailed`] (CppNix would try to substitute it).
    pub repair: bool,
}

impl Default for RealiseOptions {
    fn default() -> Self {
        RealiseOptions {
            max_jobs: 1,
            keep_going: false,
            keep_failed: false,
            build: BuildOptions::default(),
            sandbox: SandboxMode::Auto,
            build_dir_parent: PathBuf::from("/tmp"),
            substituter: None,
            observer: None,
            keep_log: true,
            check: false,
            repair: false,
        }
    }
}

impl std::fmt::Debug for RealiseOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealiseOptions")
            .field("max_jobs", &self.max_jobs)
            .field("keep_going", &self.keep_going)
            .field("keep_failed", &self.keep_failed)
            .field("build", &self.build)
            .field("sandbox", &self.sandbox)
            .field("build_dir_parent", &self.build_dir_parent)
            .field("substituter", &self.substituter)
            .field("observer", &self.observer.as_ref().map(|_| "…"))
            .field("keep_log", &self.keep_log)
            .field("check", &self.check)
            .field("repair", &self.repair)
            .finish()
    }
}

/// The outputs of realised derivations: `.drv` path → output name → output path.
pub type Realised = BTreeMap<StorePath, BTreeMap<String, StorePath>>;

/// Why [`realise`] failed.
///
/// As CppNix, failures of derivations that others wait for are reported as they happen
/// ([`BuildObserver::failed`], and [`RealiseFailure::logged`]); those of requested
/// derivations nothing else needs are kept for the end ([`RealiseFailure::roots`]).
#[derive(Debug)]
pub struct RealiseFailure {
    /// Failures reported as they happened, in order.
    pub logged: Vec<BuildError>,
    /// Failures of requested derivations that nothing else needed: (`.drv`, error), in the
    /// order of the request.
    pub roots: Vec<(StorePath, BuildError)>,
    /// The requested derivations that failed (full paths), sorted as CppNix sorts them.
    pub failed: Vec<String>,
    /// The outputs of the requested derivations that were realised anyway.
    pub realised: Realised,
}

impl RealiseFailure {
    /// Every failure: the logged ones, then those of requested derivations.
    pub fn errors(&self) -> impl Iterator<Item = &BuildError> {
        self.logged.iter().chain(self.roots.iter().map(|(_, e)| e))
    }

    /// CppNix 2.8's exit status for this failure (`Worker::exitStatus`): 100 for failed
    /// builds (and `exportReferencesGraph` errors, which CppNix counts as such), 101 if a
    /// builder timed out, 104 if a `--check` rebuild differed, 102 if a
    /// fixed-output hash did not match, 1 otherwise (e.g. outputs rejected by
    /// `allowedReferences` and the other output checks).
    pub fn exit_status(&self) -> i32 {
        let mut build_failure = false;
        let mut hash_mismatch = false;
        let mut timed_out = false;
        let mut check_mismatch = false;
        for e in self.errors() {
            match e {
                BuildError::NotDeterministic { .. } => check_mismatch = true,
                BuildError::TimedOut { .. } => {
                    build_failure = true;
                    timed_out = true;
                }
                // Failures and inputs rejected before the builder starts (CppNix's
                // permanent failures).
                BuildError::Failed { .. }
                | BuildError::ExportOddTokens { .. }
                | BuildError::ExportNotStorePath { .. }
                | BuildError::ExportNotInput { .. } => build_failure = true,
                BuildError::HashMismatch { .. } => {
                    build_failure = true;
                    hash_mismatch = true;
                }
                _ => {}
            }
        }
        let mut mask = 0;
        if build_failure {
            mask |= 0x04;
        }
        if timed_out {
            mask |= 0x01;
        }
        if hash_mismatch {
            mask |= 0x02;
        }
        if check_mismatch {
            mask |= 0x08;
        }
        if mask != 0 {
            0x60 | mask
        } else {
            1
        }
    }
}

impl std::fmt::Display for RealiseFailure {
    /// As CppNix's final error: the failure of the one failed requested derivation, else
    /// "build of 'A', 'B' failed".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.failed.len(), self.roots.first()) {
            (1, Some((_, e))) => write!(f, "{e}"),
            _ => {
                let list: Vec<String> = self.failed.iter().map(|p| format!("'{p}'")).collect();
                write!(f, "build of {} failed", list.join(", "))
            }
        }
    }
}

/// The failures of one [`realise`] call.
#[derive(Default)]
struct Failures<'a> {
    logged: Vec<BuildError>,
    roots: Vec<(usize, BuildError)>,
    observer: Option<&'a dyn BuildObserver>,
    requested: BTreeSet<StorePath>,
}

impl Failures<'_> {
    fn record(&mut self, g: &Graph, i: usize, e: BuildError) {
        let node = &g.nodes[i];
        if node.dependents.is_empty() && self.requested.contains(&node.path) {
            self.roots.push((i, e));
        } else {
            if let Some(o) = self.observer {
                o.failed(&e);
            }
            self.logged.push(e);
        }
    }
}

/// What [`plan`] found: what would be built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RealisePlan {
    /// The derivations to build, dependencies first.
    pub to_build: Vec<StorePath>,
}

/// One derivation to build.
#[derive(Debug)]
struct Node {
    path: StorePath,
    drv: Derivation,
    outputs: BTreeMap<String, StorePath>,
    /// Indices of input derivations that are built in this run.
    deps: Vec<usize>,
    dependents: Vec<usize>,
    /// Rebuild valid outputs and compare (`--check`).
    check: bool,
    /// Rebuild valid but corrupted outputs and replace them (`--repair`).
    repair: bool,
}

/// The derivation graph below the requested derivations.
#[derive(Debug, Default)]
struct Graph {
    /// Derivations to build, dependencies first.
    nodes: Vec<Node>,
    index: HashMap<StorePath, usize>,
    /// Derivations whose outputs are valid (or were substituted).
    valid: HashMap<StorePath, BTreeMap<String, StorePath>>,
}

fn temp_root(store: &LocalStore, p: &StorePath) -> Result<(), BuildError> {
    Ok(store.add_temp_root(p)?)
}

fn try_substitute(
    store: &LocalStore,
    options: &RealiseOptions,
    path: &StorePath,
) -> Result<bool, BuildError> {
    let Some(sub) = &options.substituter else {
        return Ok(false);
    };
    match sub.substitute(store, path) {
        Ok(true) => Ok(store.is_valid_path(path)?),
        Ok(false) => Ok(false),
        Err(message) => {
            if let Some(o) = &options.observer {
                o.warning(&format!(
                    "substituting '{}' failed: {message}",
                    store.store_dir().display(path)
                ));
            }
            Ok(false)
        }
    }
}

/// Reads and parses a valid `.drv` of the store.
pub(crate) fn read_drv(store: &LocalStore, path: &StorePath) -> Result<Derivation, BuildError> {
    let shown = store.store_dir().display(path);
    if !path.name().ends_with(".drv") {
        return Err(BuildError::NotADerivation { path: shown });
    }
    if !store.is_valid_path(path)? {
        return Err(BuildError::InvalidPath { path: shown });
    }
    let real = store.real_path(path);
    let bytes = std::fs::read(&real).map_err(|source| BuildError::Output {
        op: "cannot read",
        path: real,
        source,
    })?;
    Derivation::parse(&bytes, store.store_dir()).map_err(|source| BuildError::BadDerivation {
        path: shown,
        source,
    })
}

fn output_paths(
    store: &LocalStore,
    path: &StorePath,
    drv: &Derivation,
) -> Result<BTreeMap<String, StorePath>, BuildError> {
    let _ = (store, path);
    drv.outputs
        .iter()
        .map(|(name, out)| match out {
            // CppNix 2.8 refuses these unless the experimental feature is enabled; we do not
            // build them at all, and say what CppNix says without the feature.
            crate::derivation::DerivationOutput::Impure { .. } => {
                Err(BuildError::ExperimentalFeatureDisabled {
                    feature: "impure-derivations",
                })
            }
            crate::derivation::DerivationOutput::Floating { .. }
            | crate::derivation::DerivationOutput::Deferred => {
                Err(BuildError::ExperimentalFeatureDisabled {
                    feature: "ca-derivations",
                })
            }
            _ => out
                .path()
                .cloned()
                .map(|p| (name.clone(), p))
                .ok_or(BuildError::Unsupported {
                    what: "outputs without a path",
                }),
        })
        .collect()
}

/// Walks the graph below `roots`: which derivations need building (dependencies first).
fn discover(
    store: &LocalStore,
    roots: &[StorePath],
    options: &RealiseOptions,
    substitute: bool,
) -> Result<Graph, BuildError> {
    let mut g = Graph::default();
    // Explicit DFS: (path, children pushed?)
    let mut seen: BTreeSet<StorePath> = BTreeSet::new();
    let mut parsed: HashMap<StorePath, (Derivation, BTreeMap<String, StorePath>)> = HashMap::new();
    // `--repair`: derivations to rebuild because an output is corrupted, and the paths whose
    // contents were checked (CppNix checks and reports each once).
    let mut repairs: BTreeSet<StorePath> = BTreeSet::new();
    let mut checked: HashMap<StorePath, bool> = HashMap::new();
    // Derivations visited in repair mode (CppNix's bmRepair goals): the requested ones, the
    // inputs of those that are built, and the derivers of corrupted paths.
    let mut repair_mode: BTreeSet<StorePath> = if options.repair {
        roots.iter().cloned().collect()
    } else {
        BTreeSet::new()
    };
    for root in roots {
        let mut stack: Vec<(StorePath, bool)> = vec![(root.clone(), false)];
        while let Some((p, expanded)) = stack.pop() {
            if expanded {
                let (drv, outputs) = parsed
                    .remove(&p)
                    .expect("an expanded derivation was parsed first");
                let deps: Vec<usize> = drv
                    .input_drvs
                    .keys()
                    .filter_map(|d| g.index.get(d).copied())
                    .collect();
                let i = g.nodes.len();
                for &d in &deps {
                    g.nodes[d].dependents.push(i);
                }
                g.index.insert(p.clone(), i);
                let check = options.check && roots.contains(&p);
                let repair = repairs.contains(&p);
                g.nodes.push(Node {
                    path: p,
                    drv,
                    outputs,
                    deps,
                    dependents: Vec::new(),
                    check,
                    repair,
                });
                continue;
            }
            if !seen.insert(p.clone()) {
                continue;
            }
            temp_root(store, &p)?;
            if substitute && !store.is_valid_path(&p)? {
                try_substitute(store, options, &p)?;
            }
            let drv = read_drv(store, &p)?;
            let outputs = output_paths(store, &p, &drv)?;
            // Requested derivations are rebuilt with `--check` (CppNix's bmCheck), and their
            // outputs are not substituted.
            let check = options.check && roots.contains(&p);
            let mut all_valid = true;
            for out in outputs.values() {
                temp_root(store, out)?;
                let ok = store.is_valid_path(out)?
                    || (substitute && !check && try_substitute(store, options, out)?);
                if !ok {
                    all_valid = false;
                }
            }
            // `--repair` of a requested derivation: check its outputs, then their closure.
            if all_valid
                && options.repair
                && substitute
                && !repairs.contains(&p)
                && repair_mode.contains(&p)
            {
                let mut good = true;
                for out in outputs.values() {
                    good &= contents_good(store, options, &mut checked, out)?;
                }
                if good {
                    let derivers =
                        corrupted_closure_derivers(store, options, &mut checked, &p, &outputs)?;
                    for d in derivers {
                        repair_mode.insert(d.clone());
                        if repairs.insert(d.clone()) && !g.index.contains_key(&d) {
                            seen.remove(&d);
                            g.valid.remove(&d);
                            stack.push((d, false));
                        }
                    }
                } else {
                    repairs.insert(p.clone());
                }
            }
            if all_valid && !check && !repairs.contains(&p) {
                g.valid.insert(p, outputs);
                continue;
            }
            for src in &drv.input_srcs {
                temp_root(store, src)?;
                let ok = store.is_valid_path(src)?
                    || (substitute && try_substitute(store, options, src)?);
                if !ok {
                    return Err(BuildError::MissingInput {
                        path: store.store_dir().display(src),
                    });
                }
            }
            if repair_mode.contains(&p) {
                repair_mode.extend(drv.input_drvs.keys().cloned());
            }
            stack.push((p.clone(), true));
            for input in drv.input_drvs.keys().rev() {
                if !seen.contains(input) {
                    stack.push((input.clone(), false));
                }
            }
            parsed.insert(p, (drv, outputs));
        }
    }
    Ok(g)
}

/// CppNix's `pathContentsGood` for `--repair`: whether `path` is valid and its files have
/// the registered NAR hash. Reports "checking path '…'..." and, if not, "path '…' is
/// corrupted or missing!" through [`BuildObserver::info`], once per path.
fn contents_good(
    store: &LocalStore,
    options: &RealiseOptions,
    checked: &mut HashMap<StorePath, bool>,
    path: &StorePath,
) -> Result<bool, BuildError> {
    if let Some(&good) = checked.get(path) {
        return Ok(good);
    }
    let shown = store.store_dir().display(path);
    let info = |m: String| {
        if let Some(o) = &options.observer {
            o.info(&m);
        }
    };
    info(format!("checking path '{shown}'..."));
    let good = match store.query_path_info(path)? {
        None => false,
        Some(i) => {
            let real = store.real_path(path);
            let mut hasher = nix_store::hash::Hasher::new(nix_store::hash::HashAlgo::Sha256);
            std::fs::symlink_metadata(&real).is_ok()
                && nix_store::nar::dump_path(&real, &mut hasher).is_ok()
                && hasher.finish() == i.nar_hash
        }
    };
    if !good {
        info(format!("path '{shown}' is corrupted or missing!"));
    }
    checked.insert(path.clone(), good);
    Ok(good)
}

/// CppNix's `repairClosure`: checks the closure of the outputs of `drv_path` (whose own
/// outputs are good) and returns the derivations (from the `.drv`'s own closure) that made
/// the corrupted paths.
///
/// # Errors
/// [`BuildError::RepairFailed`] when a corrupted path has no deriver in that closure (CppNix
/// would try to substitute it).
fn corrupted_closure_derivers(
    store: &LocalStore,
    options: &RealiseOptions,
    checked: &mut HashMap<StorePath, bool>,
    drv_path: &StorePath,
    outputs: &BTreeMap<String, StorePath>,
) -> Result<Vec<StorePath>, BuildError> {
    let own: BTreeSet<StorePath> = outputs.values().cloned().collect();
    let closure = store.closure(&own)?;
    let mut outputs_to_drv: HashMap<StorePath, StorePath> = HashMap::new();
    for d in store.closure(&BTreeSet::from([drv_path.clone()]))? {
        if d.name().ends_with(".drv") {
            for (_, p) in store.query_derivation_outputs(&d)? {
                outputs_to_drv.insert(p, d.clone());
            }
        }
    }
    let sd = store.store_dir();
    let mut derivers = Vec::new();
    for p in closure.difference(&own) {
        if contents_good(store, options, checked, p)? {
            continue;
        }
        if let Some(o) = &options.observer {
            o.info(&format!(
                "found corrupted or missing path '{}' in the output closure of '{}'",
                sd.display(p),
                sd.display(drv_path)
            ));
        }
        match outputs_to_drv.get(p) {
            Some(d) => derivers.push(d.clone()),
            None => {
                return Err(BuildError::RepairFailed {
                    drv: sd.display(drv_path),
                })
            }
        }
    }
    Ok(derivers)
}

/// What [`realise`] would build, without building or substituting anything (`--dry-run`).
///
/// # Errors
/// A requested or input derivation that is not valid or cannot be parsed, an input source
/// that is not valid, store errors.
pub fn plan(
    store: &LocalStore,
    drv_paths: &[StorePath],
    options: &RealiseOptions,
) -> Result<RealisePlan, BuildError> {
    let g = discover(store, drv_paths, options, false)?;
    Ok(RealisePlan {
        to_build: g.nodes.into_iter().map(|n| n.path).collect(),
    })
}

/// The closure of the inputs of a derivation, with a memo of references shared by the
/// builds of one [`realise`] call.
#[derive(Debug, Default)]
struct RefMemo {
    refs: Mutex<HashMap<StorePath, Arc<BTreeSet<StorePath>>>>,
}

impl RefMemo {
    fn references(
        &self,
        store: &LocalStore,
        p: &StorePath,
    ) -> Result<Arc<BTreeSet<StorePath>>, BuildError> {
        if let Some(r) = self.lock().get(p) {
            return Ok(r.clone());
        }
        let r = Arc::new(store.query_references(p)?);
        self.lock().insert(p.clone(), r.clone());
        Ok(r)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<StorePath, Arc<BTreeSet<StorePath>>>> {
        self.refs.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn closure(
        &self,
        store: &LocalStore,
        start: impl IntoIterator<Item = StorePath>,
    ) -> Result<BTreeSet<StorePath>, BuildError> {
        let mut out = BTreeSet::new();
        let mut todo: Vec<StorePath> = start.into_iter().collect();
        while let Some(p) = todo.pop() {
            if out.contains(&p) {
                continue;
            }
            for r in self.references(store, &p)?.iter() {
                if !out.contains(r) {
                    todo.push(r.clone());
                }
            }
            out.insert(p);
        }
        Ok(out)
    }
}

/// The counter of CppNix's `createTempDir` (per process).
static BUILD_DIR_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Creates `<parent>/nix-build-<name>-<n>` (mode 0700) with the first free `n`.
fn create_build_dir(parent: &Path, drv: &StorePath) -> Result<PathBuf, BuildError> {
    use std::os::unix::fs::DirBuilderExt;
    loop {
        let n = BUILD_DIR_COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = parent.join(format!("nix-build-{}-{n}", drv.name()));
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => {
                return Err(BuildError::Output {
                    op: "cannot create build directory",
                    path: dir,
                    source,
                })
            }
        }
    }
}

/// The log sink of one build: the compressed log file and the observer.
struct LogTee<'a> {
    file: Option<LogFile>,
    observer: Option<&'a dyn BuildObserver>,
    drv: &'a StorePath,
}

impl Write for LogTee<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(f) = &mut self.file {
            f.write_all(buf)?;
        }
        if let Some(o) = self.observer {
            o.log(self.drv, buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether the store's paths are named where its files are (builders can run unsandboxed).
fn is_diverted(store: &LocalStore) -> bool {
    store.store_dir().to_path() != store.layout().real_store_dir()
}

/// What CppNix appends to an output's path for the result of a `--check` rebuild.
const CHECK_SUFFIX: &str = ".check";

/// Where a `--check` rebuild of `out` is put.
fn check_path(store: &LocalStore, out: &StorePath) -> PathBuf {
    let mut p = store.real_path(out).into_os_string();
    p.push(CHECK_SUFFIX);
    PathBuf::from(p)
}

/// Compares the outputs of a `--check` rebuild (at [`check_path`]) with the valid ones, by
/// NAR hash, in output name order (CppNix's `registerOutputs` in `bmCheck`). With
/// `keep_failed` a differing rebuild is left at `<output>.check` and named in the error.
fn compare_check(store: &LocalStore, node: &Node, keep_failed: bool) -> Result<(), BuildError> {
    let sd = store.store_dir();
    for (name, out) in &node.outputs {
        let rebuilt = check_path(store, out);
        if std::fs::symlink_metadata(&rebuilt).is_err() {
            return Err(BuildError::MissingOutput {
                drv: sd.display(&node.path),
                output: name.clone(),
                path: sd.display(out),
            });
        }
        super::register::canonicalise(&rebuilt)?;
        let mut hasher = nix_store::hash::Hasher::new(nix_store::hash::HashAlgo::Sha256);
        nix_store::nar::dump_path(&rebuilt, &mut hasher).map_err(|source| BuildError::Nar {
            path: rebuilt.clone(),
            source,
        })?;
        let got = hasher.finish();
        let info = store
            .query_path_info(out)?
            .ok_or_else(|| BuildError::InvalidPath {
                path: sd.display(out),
            })?;
        if got != info.nar_hash {
            return Err(BuildError::NotDeterministic {
                drv: sd.display(&node.path),
                output: store.real_path(out).display().to_string(),
                kept: keep_failed.then(|| rebuilt.display().to_string()),
            });
        }
        if !info.ultimate {
            let mut info = info;
            info.ultimate = true;
            store.register_valid_paths(&[info])?;
        }
    }
    Ok(())
}

/// Builds one derivation whose inputs are all valid, and registers its outputs.
fn build_one(
    store: &LocalStore,
    node: &Node,
    memo: &RefMemo,
    runner: Option<Runner>,
    options: &RealiseOptions,
) -> Result<BTreeMap<String, StorePath>, BuildError> {
    let sd = store.store_dir();
    // Lock the outputs (CppNix's protocol), then look again: another process may have built
    // them meanwhile.
    let mut locks = Vec::new();
    for out in node.outputs.values() {
        let mut name = store.real_path(out).into_os_string();
        name.push(".lock");
        locks.push(PathLock::acquire(
            Path::new(&name),
            LockMode::Wait,
            OnRelease::Delete,
        )?);
    }
    let mut valid = 0;
    let mut valid_names = BTreeSet::new();
    for (name, out) in &node.outputs {
        if store.is_valid_path(out)? {
            valid += 1;
            valid_names.insert(name.clone());
        } else {
            remove_tree(&store.real_path(out))?;
        }
    }
    // Some outputs valid, others not (e.g. collected): build again, keep the valid ones as
    // they are and register the others (CppNix 2.8 does the same).
    let partial = !node.check && !node.repair && valid > 0 && valid < node.outputs.len();
    if node.check {
        if valid < node.outputs.len() {
            return Err(BuildError::CheckNotValid {
                drv: sd.display(&node.path),
            });
        }
        for out in node.outputs.values() {
            remove_tree(&check_path(store, out))?;
        }
    } else if node.repair {
        for out in node.outputs.values() {
            remove_tree(&check_path(store, out))?;
        }
    } else if valid == node.outputs.len() {
        return Ok(node.outputs.clone());
    } else if partial {
        for out in node.outputs.values() {
            remove_tree(&check_path(store, out))?;
        }
    }
    let runner = if node.drv.is_builtin() {
        None
    } else {
        Some(runner.ok_or(BuildError::Unsupported {
            what: "without a resolved sandbox setting",
        })?)
    };

    let mut inputs: Vec<StorePath> = node.drv.input_srcs.iter().cloned().collect();
    for (input, wanted) in &node.drv.input_drvs {
        let outs = store.query_derivation_outputs(input)?;
        for w in wanted {
            match outs.get(w) {
                Some(p) => inputs.push(p.clone()),
                None => {
                    return Err(BuildError::MissingInput {
                        path: format!("{}!{w}", sd.display(input)),
                    })
                }
            }
        }
    }
    let closure = memo.closure(store, inputs)?;

    let observer = options.observer.as_deref();
    let rebuild = node.check || node.repair || partial;
    if rebuild && runner == Some(Runner::Plain) {
        // The builder would write over the valid outputs (CppNix rewrites the output paths
        // to scratch paths there; we only rebuild valid outputs in the sandbox).
        return Err(BuildError::Unsupported {
            what: "without the sandbox when outputs are valid already (--check, --repair, or some outputs valid)",
        });
    }
    let suffix = if rebuild { CHECK_SUFFIX } else { "" };
    let build_dir = create_build_dir(&options.build_dir_parent, &node.path)?;
    // The builder's environment and files first: CppNix reports errors in them (a bad
    // `exportReferencesGraph`, `impureEnvVars`, …) before saying "building".
    let prepared = match runner {
        None => None,
        Some(runner) => {
            let plan_dir = match runner {
                Runner::Sandbox => Path::new(sandbox::SANDBOX_BUILD_DIR),
                Runner::Plain => build_dir.as_path(),
            };
            let prepared = builder::plan(&node.drv, sd, plan_dir, &options.build)
                .map_err(|e| match e {
                    // CppNix names the derivation by its base name here.
                    BuildError::AttrNotStrings { name, .. } => BuildError::AttrNotStrings {
                        name,
                        drv: node.path.to_base_name(),
                    },
                    e => e,
                })
                .and_then(|mut plan| {
                    attrs::prepare(
                        &mut plan,
                        store,
                        &node.path,
                        &node.drv,
                        &node.outputs,
                        &closure,
                        &build_dir,
                    )?;
                    Ok(plan)
                });
            match prepared {
                Ok(plan) => Some((runner, plan)),
                Err(e) => {
                    let _ = remove_tree(&build_dir);
                    return Err(e);
                }
            }
        }
    };
    if let Some(o) = observer {
        if node.check {
            o.checking(&node.path);
        } else if node.repair {
            o.info(&format!(
                "repairing outputs of '{}'...",
                sd.display(&node.path)
            ));
        } else {
            o.started(&node.path);
        }
    }
    let file = if options.keep_log {
        Some(LogFile::create(&store.layout().log_dir(), &node.path)?)
    } else {
        None
    };
    let mut tee = LogTee {
        file,
        observer,
        drv: &node.path,
    };
    let ran = match prepared {
        None => {
            let real_outs: BTreeMap<String, PathBuf> = node
                .outputs
                .iter()
                .map(|(n, p)| {
                    let mut real = store.real_path(p).into_os_string();
                    real.push(suffix);
                    (n.clone(), PathBuf::from(real))
                })
                .collect();
            builtins::run(
                &node.drv,
                Some(&node.path),
                sd,
                &store.layout().real_store_dir(),
                &real_outs,
                &mut tee,
            )
        }
        Some((runner, plan)) => match runner {
            Runner::Plain => builder::run_plan(
                &node.drv,
                Some(&node.path),
                sd,
                &build_dir,
                &plan,
                &options.build,
                &mut tee,
            ),
            Runner::Sandbox => {
                let real_store_dir = store.layout().real_store_dir();
                let input_closure: Vec<StorePath> = closure.iter().cloned().collect();
                let spec = sandbox::SandboxSpec {
                    drv: &node.drv,
                    drv_path: Some(&node.path),
                    plan: &plan,
                    store_dir: sd,
                    real_store_dir: &real_store_dir,
                    input_closure: &input_closure,
                    outputs: &node.outputs,
                    host_build_dir: &build_dir,
                    chroot_dir: &sandbox::chroot_dir_for(&real_store_dir, &node.path),
                    network: node.drv.is_fixed_output(),
                    extra_paths: &[],
                    output_suffix: suffix,
                };
                sandbox::run(&spec, &options.build, &mut tee)
            }
        },
    };
    let logged = match tee.file.take() {
        Some(f) => f.finish().map_err(BuildError::from),
        None => Ok(()),
    };
    if node.check {
        let result = ran
            .and(logged)
            .and_then(|()| compare_check(store, node, options.keep_failed));
        let kept = match &result {
            Err(BuildError::NotDeterministic { kept, .. }) => kept.clone(),
            _ => None,
        };
        for out in node.outputs.values() {
            let p = check_path(store, out);
            if kept.as_deref() != Some(&*p.to_string_lossy()) {
                let _ = remove_tree(&p);
            }
        }
        if result.is_ok() || !options.keep_failed {
            let _ = remove_tree(&build_dir);
        }
        return result.map(|()| node.outputs.clone());
    }
    if partial {
        // Move the missing outputs into place, drop the rebuilds of the valid ones.
        let placed = ran.and(logged).and_then(|()| {
            for (name, out) in &node.outputs {
                let rebuilt = check_path(store, out);
                if valid_names.contains(name) {
                    remove_tree(&rebuilt)?;
                    continue;
                }
                let real = store.real_path(out);
                if std::fs::symlink_metadata(&rebuilt).is_err() {
                    return Err(BuildError::MissingOutput {
                        drv: sd.display(&node.path),
                        output: name.clone(),
                        path: sd.display(out),
                    });
                }
                std::fs::rename(&rebuilt, &real).map_err(|source| BuildError::Output {
                    op: "cannot move the output to",
                    path: real.clone(),
                    source,
                })?;
            }
            super::register::register_some_outputs(
                store,
                &node.path,
                &node.drv,
                &closure,
                &valid_names,
            )
        });
        for (name, out) in &node.outputs {
            let _ = remove_tree(&check_path(store, out));
            if placed.is_err() && !valid_names.contains(name) {
                let _ = remove_tree(&store.real_path(out));
            }
        }
        if placed.is_ok() || !options.keep_failed {
            let _ = remove_tree(&build_dir);
        }
        return placed.map(|_| node.outputs.clone());
    }
    if node.repair {
        // Replace the corrupted outputs by the rebuilt ones, then register them again.
        let replaced = ran.and(logged).and_then(|()| {
            for (name, out) in &node.outputs {
                let real = store.real_path(out);
                let rebuilt = check_path(store, out);
                if std::fs::symlink_metadata(&rebuilt).is_err() {
                    return Err(BuildError::MissingOutput {
                        drv: sd.display(&node.path),
                        output: name.clone(),
                        path: sd.display(out),
                    });
                }
                remove_tree(&real)?;
                std::fs::rename(&rebuilt, &real).map_err(|source| BuildError::Output {
                    op: "cannot move the repaired output to",
                    path: real.clone(),
                    source,
                })?;
            }
            register_outputs(store, &node.path, &node.drv, &closure)
        });
        for out in node.outputs.values() {
            let _ = remove_tree(&check_path(store, out));
        }
        if replaced.is_ok() || !options.keep_failed {
            let _ = remove_tree(&build_dir);
        }
        return replaced.map(|infos| infos.into_iter().map(|(n, i)| (n, i.path)).collect());
    }
    let result = ran
        .and(logged)
        .and_then(|()| register_outputs(store, &node.path, &node.drv, &closure));
    match result {
        Ok(infos) => {
            let _ = remove_tree(&build_dir);
            Ok(infos.into_iter().map(|(n, i)| (n, i.path)).collect())
        }
        Err(e) => {
            for out in node.outputs.values() {
                let _ = remove_tree(&store.real_path(out));
            }
            if !options.keep_failed {
                let _ = remove_tree(&build_dir);
            }
            Err(e)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Running,
    Built,
    Failed,
}

/// Builds the derivations `drv_paths` (and everything they need) in `store`; returns their
/// outputs. See the module docs.
///
/// # Errors
/// [`BuildError::Realise`] with every failure when builds fail; other variants for problems
/// found before building (an invalid or unparsable `.drv`, a missing input source,
/// `max_jobs` = 0 with something to build, [`BuildError::SandboxUnavailable`] when the
/// sandbox is needed (see [`SandboxMode`]) but cannot be used, store errors).
pub fn realise(
    store: &LocalStore,
    drv_paths: &[StorePath],
    options: &RealiseOptions,
) -> Result<Realised, BuildError> {
    let g = discover(store, drv_paths, options, true)?;
    if !g.nodes.is_empty() && options.max_jobs == 0 {
        return Err(BuildError::NoBuildSlots);
    }
    // Resolve the sandbox setting once, before building anything, if a builder will run.
    let runner = if g.nodes.iter().any(|n| !n.drv.is_builtin()) {
        Some(choose_runner(store, options.sandbox)?)
    } else {
        None
    };
    // `--check` rebuilds of valid outputs are not announced (CppNix's `queryMissing` finds
    // nothing to build for them).
    let mut list = Vec::new();
    for n in &g.nodes {
        let mut announce = true;
        if n.check || n.repair {
            announce = false;
            for out in n.outputs.values() {
                if !store.is_valid_path(out)? {
                    announce = true;
                }
            }
        }
        if announce {
            list.push(n.path.clone());
        }
    }
    if !list.is_empty() {
        if let Some(o) = &options.observer {
            o.will_build(&list);
        }
    }
    let n = g.nodes.len();
    let mut sched = Schedule {
        state: vec![State::Waiting; n],
        remaining: g.nodes.iter().map(|n| n.deps.len()).collect(),
        failed_deps: vec![0usize; n],
        keep_going: options.keep_going,
    };
    let mut built: Vec<Option<BTreeMap<String, StorePath>>> = vec![None; n];
    let mut errors = Failures {
        observer: options.observer.as_deref(),
        requested: drv_paths.iter().cloned().collect(),
        ..Failures::default()
    };
    let mut ready: VecDeque<usize> = (0..n).filter(|&i| sched.remaining[i] == 0).collect();
    let memo = RefMemo::default();

    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<(usize, Result<BTreeMap<String, StorePath>, BuildError>)>();
        let mut running = 0usize;
        let mut stop = false;
        loop {
            while !stop && running < options.max_jobs {
                let Some(i) = ready.pop_front() else { break };
                sched.state[i] = State::Running;
                running += 1;
                let tx = tx.clone();
                let node = &g.nodes[i];
                let memo = &memo;
                scope.spawn(move || {
                    let r = build_one(store, node, memo, runner, options);
                    let _ = tx.send((i, r));
                });
            }
            if running == 0 {
                break;
            }
            let Ok((i, result)) = rx.recv() else { break };
            running -= 1;
            match result {
                Ok(outputs) => {
                    sched.state[i] = State::Built;
                    built[i] = Some(outputs);
                    for &d in &g.nodes[i].dependents {
                        sched.remaining[d] -= 1;
                        if sched.remaining[d] == 0 && sched.state[d] == State::Waiting {
                            if sched.failed_deps[d] > 0 {
                                sched.fail_cascade(&g, d, &mut errors, store);
                            } else {
                                ready.push_back(d);
                            }
                        }
                    }
                }
                Err(e) => {
                    errors.record(&g, i, e);
                    sched.state[i] = State::Failed;
                    sched.propagate_failure(&g, i, &mut errors, store);
                    if !options.keep_going {
                        stop = true;
                    }
                }
            }
        }
    });

    let mut realised = Realised::new();
    let mut failed = BTreeSet::new();
    for p in drv_paths {
        if let Some(outs) = g.valid.get(p) {
            realised.insert(p.clone(), outs.clone());
        } else if let Some(&i) = g.index.get(p) {
            match (&built[i], sched.state[i]) {
                (Some(outs), _) => {
                    realised.insert(p.clone(), outs.clone());
                }
                (None, State::Failed) => {
                    failed.insert(p.clone());
                }
                _ => {}
            }
        }
    }
    if errors.logged.is_empty() && errors.roots.is_empty() {
        return Ok(realised);
    }
    // Requested derivations in the order requested.
    let order: HashMap<&StorePath, usize> =
        drv_paths.iter().enumerate().map(|(k, p)| (p, k)).collect();
    let mut roots = errors.roots;
    roots.sort_by_key(|(i, _)| order.get(&g.nodes[*i].path).copied());
    Err(BuildError::Realise(Box::new(RealiseFailure {
        logged: errors.logged,
        roots: roots
            .into_iter()
            .map(|(i, e)| (g.nodes[i].path.clone(), e))
            .collect(),
        failed: failed
            .iter()
            .map(|p| store.store_dir().display(p))
            .collect(),
        realised,
    })))
}

/// The scheduler's bookkeeping per node of the graph.
struct Schedule {
    state: Vec<State>,
    /// Inputs not finished yet.
    remaining: Vec<usize>,
    /// Inputs that failed.
    failed_deps: Vec<usize>,
    keep_going: bool,
}

impl Schedule {
    /// Node `i` failed: its dependents learn it; those that can no longer build fail too.
    fn propagate_failure(
        &mut self,
        g: &Graph,
        i: usize,
        errors: &mut Failures<'_>,
        store: &LocalStore,
    ) {
        for &d in &g.nodes[i].dependents {
            self.failed_deps[d] += 1;
            self.remaining[d] -= 1;
            // Without keep-going a derivation fails as soon as one input fails (CppNix's
            // waiteeDone); with it, once all its inputs are finished.
            if self.state[d] == State::Waiting && (!self.keep_going || self.remaining[d] == 0) {
                self.fail_cascade(g, d, errors, store);
            }
        }
    }

    /// Node `d` fails because `failed_deps[d]` of its inputs failed.
    fn fail_cascade(&mut self, g: &Graph, d: usize, errors: &mut Failures<'_>, store: &LocalStore) {
        self.state[d] = State::Failed;
        let e = BuildError::DependenciesFailed {
            drv: store.store_dir().display(&g.nodes[d].path),
            count: self.failed_deps[d],
        };
        errors.record(g, d, e);
        self.propagate_failure(g, d, errors, store);
    }
}
