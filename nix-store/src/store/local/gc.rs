//! Garbage collection of a [`LocalStore`] (facts §6).
//!
//! Roots are: symlinks (and plain files named like store paths) found recursively under
//! `gcroots/` — a link to a path outside the store that is itself a link into the store is an
//! *indirect* root (`gcroots/auto/…` → `result` → store path); stale `auto/` links are
//! removed — then everything under `profiles/` the same way, then the temp roots of live
//! processes (`temproots/<pid>` files whose lock is held). Live paths are the closure of the
//! roots; with `keep_derivations` (the default) the valid deriver of a live path is live too,
//! with `keep_outputs` the valid outputs of a live derivation. Dead paths are deleted
//! referrers first; each is removed from the database before its files are removed.
//!
//! The collector holds `gc.lock` exclusively for the whole run; our `add_*` operations hold
//! it shared, so they wait for a running collection and a collection waits for them.
//!
//! Not done: CppNix's runtime roots (store paths open in running processes, found through
//! `/proc`) and its `gc-socket` (CppNix clients adding paths while *our* collector runs fail
//! to register their temp roots and report an error instead).

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::lock::{LockMode, OnRelease, PathLock};
use super::{remove_tree, LocalStore};
use crate::store::{Store, StoreError};
use crate::store_path::StorePath;

/// What a collection does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GcAction {
    /// Only compute and return the live paths (`--print-live`).
    ReturnLive,
    /// Only compute and return the dead paths (`--print-dead`).
    ReturnDead,
    /// Delete every dead path (`--gc`).
    DeleteDead,
    /// Delete these paths, failing if any is alive (`--delete`).
    DeleteSpecific(BTreeSet<StorePath>),
}

/// Knobs of a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcOptions {
    /// What to do.
    pub action: GcAction,
    /// Keep the derivers of live paths (CppNix's `keep-derivations`, default true).
    pub keep_derivations: bool,
    /// Keep the outputs of live derivations (`keep-outputs`, default false).
    pub keep_outputs: bool,
    /// Stop deleting once this many bytes are freed (`--max-freed`).
    pub max_freed: Option<u64>,
}

impl Default for GcOptions {
    fn default() -> Self {
        GcOptions {
            action: GcAction::DeleteDead,
            keep_derivations: true,
            keep_outputs: false,
            max_freed: None,
        }
    }
}

/// What a collection found or did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GcResult {
    /// Live, dead, or deleted paths (by action), as full paths, sorted.
    pub paths: BTreeSet<String>,
    /// Bytes freed (sizes of the deleted files and symlinks).
    pub bytes_freed: u64,
    /// Bytes saved by hard links in `.links` (CppNix's "currently hard linking saves").
    pub links_saving: Option<f64>,
}

/// Errors specific to collection (others are [`StoreError`]s).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GcError {
    /// `--delete` of a path that is reachable from a root.
    #[error("Cannot delete path '{path}' since it is still alive. To find out why, use: nix-store --query --roots")]
    StillAlive {
        /// The path.
        path: String,
        /// Bytes freed before the failure.
        bytes_freed: u64,
        /// Paths deleted before the failure.
        deleted: usize,
    },
    /// A store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// GC roots: each root store path and the links that make it a root (`{temp:PID}` for temp
/// roots), as [`LocalStore::find_roots`] returns them.
pub type Roots = BTreeMap<StorePath, BTreeSet<String>>;

impl LocalStore {
    fn gc_io<'a>(
        op: &'static str,
        path: &'a Path,
    ) -> impl FnOnce(std::io::Error) -> StoreError + 'a {
        move |source| StoreError::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }

    /// Finds the GC roots (see the module docs); `log` receives notices such as
    /// `removing stale link from '…' to '…'`.
    ///
    /// # Errors
    /// I/O and database failures.
    pub fn find_roots(&self, log: &mut dyn FnMut(&str)) -> Result<Roots, StoreError> {
        let mut roots = Roots::new();
        let layout = self.layout().clone();
        self.find_roots_in(&layout.gcroots_dir(), &mut roots, log)?;
        self.find_roots_in(&layout.profiles_dir(), &mut roots, log)?;
        self.find_temp_roots(&mut roots)?;
        Ok(roots)
    }

    fn found_root(
        &self,
        link: &Path,
        target: &str,
        roots: &mut Roots,
        log: &mut dyn FnMut(&str),
    ) -> Result<(), StoreError> {
        if let Ok((sp, _)) = self.store_dir().parse_path_prefix(target) {
            if self.is_valid_path(&sp)? {
                roots
                    .entry(sp)
                    .or_default()
                    .insert(link.to_string_lossy().into_owned());
            } else {
                log(&format!(
                    "skipping invalid root from '{}' to '{target}'",
                    link.display()
                ));
            }
        }
        Ok(())
    }

    fn find_roots_in(
        &self,
        path: &Path,
        roots: &mut Roots,
        log: &mut dyn FnMut(&str),
    ) -> Result<(), StoreError> {
        let meta = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Self::gc_io("cannot stat", path)(e)),
        };
        let ft = meta.file_type();
        if ft.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(Self::gc_io("cannot read directory", path))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            entries.sort();
            for e in entries {
                self.find_roots_in(&e, roots, log)?;
            }
        } else if ft.is_symlink() {
            let target = std::fs::read_link(path).map_err(Self::gc_io("cannot read link", path))?;
            let target_s = target.to_string_lossy();
            if self.store_dir().is_in_store(&target_s) {
                return self.found_root(path, &target_s, roots, log);
            }
            let parent = path.parent().unwrap_or(Path::new("/"));
            let abs = parent.join(&target);
            match std::fs::symlink_metadata(&abs) {
                Err(_) => {
                    let auto = self.layout().gcroots_dir().join("auto");
                    if path.starts_with(&auto) {
                        log(&format!(
                            "removing stale link from '{}' to '{}'",
                            path.display(),
                            abs.display()
                        ));
                        let _ = std::fs::remove_file(path);
                    }
                }
                Ok(m) if m.file_type().is_symlink() => {
                    let t2 =
                        std::fs::read_link(&abs).map_err(Self::gc_io("cannot read link", &abs))?;
                    let t2 = t2.to_string_lossy();
                    if self.store_dir().is_in_store(&t2) {
                        self.found_root(&abs, &t2, roots, log)?;
                    }
                }
                Ok(_) => {}
            }
        } else if ft.is_file() {
            if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                if let Ok(sp) = crate::store_path::StorePath::from_base_name(name) {
                    if self.is_valid_path(&sp)? {
                        roots
                            .entry(sp)
                            .or_default()
                            .insert(path.to_string_lossy().into_owned());
                    }
                }
            }
        }
        Ok(())
    }

    /// Temp roots of live processes; files of dead processes are removed.
    fn find_temp_roots(&self, roots: &mut Roots) -> Result<(), StoreError> {
        let dir = self.layout().temproots_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Self::gc_io("cannot read directory", &dir)(e)),
        };
        for e in entries.flatten() {
            let file = e.path();
            let pid = e.file_name().to_string_lossy().into_owned();
            // If we can lock it, its owner is dead: remove it (marking it stale for a
            // process that may have opened it meanwhile).
            match PathLock::acquire(&file, LockMode::Try, OnRelease::Delete) {
                Ok(Some(lock)) => {
                    drop(lock);
                    continue;
                }
                Ok(None) => {}
                Err(_) => continue,
            }
            let data = std::fs::read(&file).unwrap_or_default();
            for entry in data.split(|b| *b == 0) {
                let Ok(text) = std::str::from_utf8(entry) else {
                    continue;
                };
                if let Ok(sp) = self.store_dir().parse_path(text) {
                    if self.is_valid_path(&sp)? {
                        roots
                            .entry(sp)
                            .or_default()
                            .insert(format!("{{temp:{pid}}}"));
                    }
                }
            }
        }
        Ok(())
    }

    fn live_paths(
        &self,
        roots: &Roots,
        opts: &GcOptions,
    ) -> Result<BTreeSet<StorePath>, StoreError> {
        let mut live = self.closure(&roots.keys().cloned().collect())?;
        loop {
            let mut extra = BTreeSet::new();
            for p in &live {
                if opts.keep_derivations {
                    if let Some(d) = self.query_path_info(p)?.and_then(|i| i.deriver) {
                        if !live.contains(&d) && self.is_valid_path(&d)? {
                            extra.insert(d);
                        }
                    }
                }
                if opts.keep_outputs && p.name().ends_with(".drv") {
                    for o in self.query_derivation_outputs(p)?.into_values() {
                        if !live.contains(&o) && self.is_valid_path(&o)? {
                            extra.insert(o);
                        }
                    }
                }
            }
            if extra.is_empty() {
                return Ok(live);
            }
            let more = self.closure(&extra)?;
            live.extend(more);
        }
    }

    /// Runs a collection. `log` receives CppNix's progress lines (`finding garbage collector
    /// roots...`, `deleting '…'`, …).
    ///
    /// # Errors
    /// [`GcError::StillAlive`] for [`GcAction::DeleteSpecific`] of a live path; store errors.
    pub fn collect_garbage(
        &self,
        opts: &GcOptions,
        log: &mut dyn FnMut(&str),
    ) -> Result<GcResult, GcError> {
        let _gc = PathLock::acquire(&self.layout().gc_lock(), LockMode::Wait, OnRelease::Keep)
            .map_err(StoreError::from)?
            .expect("a blocking lock always returns a lock");
        log("finding garbage collector roots...");
        let roots = self.find_roots(log)?;
        let live = self.live_paths(&roots, opts)?;
        let mut result = GcResult::default();
        let sd = self.store_dir().clone();
        match &opts.action {
            GcAction::ReturnLive => {
                log("determining live/dead paths...");
                result.paths = live.iter().map(|p| sd.display(p)).collect();
                return Ok(result);
            }
            GcAction::ReturnDead => {
                log("determining live/dead paths...");
                let all = self.query_all_valid_paths()?;
                result.paths = all.difference(&live).map(|p| sd.display(p)).collect();
                result
                    .paths
                    .extend(self.invalid_entries()?.into_iter().map(|p| sd.display(&p)));
                return Ok(result);
            }
            GcAction::DeleteSpecific(paths) => {
                // Dependencies of the requested paths are deleted after them.
                let sorted = self.topo_sort(
                    &paths
                        .iter()
                        .filter(|p| self.is_valid_path(p).unwrap_or(false))
                        .cloned()
                        .collect(),
                )?;
                for p in &sorted {
                    if live.contains(p)
                        || self
                            .query_referrers(p)?
                            .iter()
                            .any(|r| r != p && !paths.contains(r))
                    {
                        return Err(GcError::StillAlive {
                            path: sd.display(p),
                            bytes_freed: result.bytes_freed,
                            deleted: result.paths.len(),
                        });
                    }
                }
                for p in &sorted {
                    self.delete_one(p, &mut result, log)?;
                }
                for p in paths {
                    if !sorted.contains(p) && std::fs::symlink_metadata(self.real_path(p)).is_ok() {
                        self.delete_invalid(p, &mut result, log)?;
                    }
                }
            }
            GcAction::DeleteDead => {
                log("deleting garbage...");
                let all = self.query_all_valid_paths()?;
                let dead: BTreeSet<StorePath> = all.difference(&live).cloned().collect();
                for p in self.topo_sort(&dead)? {
                    if opts.max_freed.is_some_and(|m| result.bytes_freed >= m) {
                        break;
                    }
                    self.delete_one(&p, &mut result, log)?;
                }
                self.remove_stale_temp_dirs()?;
                let temp: BTreeSet<StorePath> = self.temp_root_paths(&roots);
                for p in self.invalid_entries()? {
                    if !temp.contains(&p)
                        && !opts.max_freed.is_some_and(|m| result.bytes_freed >= m)
                    {
                        self.delete_invalid(&p, &mut result, log)?;
                    }
                }
            }
        }
        log("deleting unused links...");
        result.links_saving = self.clean_links(&mut result.bytes_freed)?;
        if let Some(s) = result.links_saving {
            log(&format!("note: currently hard linking saves {s:.2} MiB"));
        }
        Ok(result)
    }

    fn temp_root_paths(&self, roots: &Roots) -> BTreeSet<StorePath> {
        roots
            .iter()
            .filter(|(_, links)| links.iter().any(|l| l.starts_with("{temp:")))
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// Removes `.nixrs-tmp-<pid>-<n>` directories left by processes that no longer run (an
    /// add interrupted before its rename).
    fn remove_stale_temp_dirs(&self) -> Result<(), StoreError> {
        let dir = self.layout().real_store_dir();
        for e in std::fs::read_dir(&dir).map_err(Self::gc_io("cannot read directory", &dir))? {
            let e = e.map_err(Self::gc_io("cannot read directory", &dir))?;
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(rest) = name.strip_prefix(".nixrs-tmp-") else {
                continue;
            };
            let pid = rest.split('-').next().unwrap_or("");
            if !pid.is_empty() && !Path::new("/proc").join(pid).exists() {
                remove_tree(&e.path())?;
            }
        }
        Ok(())
    }

    /// Entries of the real store directory that look like store paths but are not valid.
    fn invalid_entries(&self) -> Result<Vec<StorePath>, StoreError> {
        let dir = self.layout().real_store_dir();
        let mut out = Vec::new();
        for e in std::fs::read_dir(&dir).map_err(Self::gc_io("cannot read directory", &dir))? {
            let e = e.map_err(Self::gc_io("cannot read directory", &dir))?;
            let Some(name) = e.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if name.starts_with('.') || name.ends_with(".lock") {
                continue;
            }
            if let Ok(sp) = StorePath::from_base_name(&name) {
                if !self.is_valid_path(&sp)? {
                    out.push(sp);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    fn delete_one(
        &self,
        p: &StorePath,
        result: &mut GcResult,
        log: &mut dyn FnMut(&str),
    ) -> Result<(), StoreError> {
        let full = self.store_dir().display(p);
        log(&format!("deleting '{full}'"));
        let real = self.real_path(p);
        let size = tree_size(&real);
        self.delete_path(p)?;
        result.bytes_freed += size;
        result.paths.insert(full);
        Ok(())
    }

    fn delete_invalid(
        &self,
        p: &StorePath,
        result: &mut GcResult,
        log: &mut dyn FnMut(&str),
    ) -> Result<(), StoreError> {
        let full = self.store_dir().display(p);
        log(&format!("deleting '{full}'"));
        let real = self.real_path(p);
        result.bytes_freed += tree_size(&real);
        remove_tree(&real)?;
        result.paths.insert(full);
        Ok(())
    }

    /// Removes `.links` entries no store file shares any more; returns CppNix's "hard
    /// linking saves" figure in MiB (None if there is no `.links`).
    fn clean_links(&self, freed: &mut u64) -> Result<Option<f64>, StoreError> {
        let dir = self.layout().real_store_dir().join(".links");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(None);
        };
        let (mut actual, mut unshared) = (0i64, 0i64);
        for e in entries.flatten() {
            let Ok(m) = std::fs::symlink_metadata(e.path()) else {
                continue;
            };
            if m.nlink() != 1 {
                actual += m.size() as i64;
                unshared += (m.nlink() as i64 - 1) * m.size() as i64;
                continue;
            }
            if std::fs::remove_file(e.path()).is_ok() {
                *freed += m.size();
            }
        }
        let overhead = std::fs::symlink_metadata(&dir)
            .map(|m| m.blocks() as i64 * 512)
            .unwrap_or(0);
        Ok(Some(
            (unshared - actual - overhead) as f64 / (1024.0 * 1024.0),
        ))
    }
}

/// Sum of the sizes of the non-directories below `path` (what CppNix counts as freed).
fn tree_size(path: &Path) -> u64 {
    let Ok(m) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if m.is_dir() {
        std::fs::read_dir(path)
            .map(|es| es.flatten().map(|e| tree_size(&e.path())).sum())
            .unwrap_or(0)
    } else {
        m.size()
    }
}
