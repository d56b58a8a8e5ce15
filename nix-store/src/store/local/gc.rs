//! Garbage collection of a [`LocalStore`] (facts §6).
//!
//! Roots are: symlinks (and plain files named like store paths) found recursively under
//! `gcroots/` — a link to a path outside the store that is itself a link into the store is an
//! *indirect* root (`gcroots/auto/…` → `result` → store path); stale `auto/` links are
//! removed — then everything under `profiles/` the same way, then the runtime roots (store
//! paths that running processes have open, mapped, as executable or working directory, or
//! in their environment, found through `/proc` as CppNix 2.8 does; listed as
//! `/proc/<pid>/fd/3 -> …`), then the temp roots of live processes (`temproots/<pid>` files
//! whose lock is held). Live paths are the closure of the
//! roots; with `keep_derivations` (the default) the valid deriver of a live path is live too,
//! with `keep_outputs` the valid outputs of a live derivation. Dead paths are deleted
//! referrers first; each is removed from the database before its files are removed.
//!
//! The collector holds `gc.lock` exclusively for the whole run and, like CppNix 2.8, serves
//! `gc-socket/socket` meanwhile: a process that needs a temp root while the lock is taken
//! sends the path there (a line) and waits for `1`. Every temp root (read from `temproots/`
//! at the start, valid or not, or received on the socket) protects its hash part: such a path
//! is not deleted, and a path that becomes a temp root during the run keeps its closure too;
//! a root that arrives for the path being deleted is answered once the deletion is over.
//! Our `add_*` operations hold `gc.lock` shared for the whole add, so they wait for a running
//! collection (ours or CppNix's), and CppNix's collector cannot remove their temporary
//! directories; [`LocalStore::add_temp_root`] on its own uses the socket as CppNix does.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{BufRead, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::lock::{LockMode, OnRelease, PathLock};
use super::{remove_tree, LocalStore};
use crate::store::{Store, StoreError};
use crate::store_path::{StoreDir, StorePath};

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
        self.find_runtime_roots(&mut roots)?;
        self.find_temp_roots(&mut roots)?;
        Ok(roots)
    }

    /// Store paths used by running processes (see `runtime_roots`): their executables,
    /// working directories, open files, mapped files and environment strings, as
    /// `/proc/<pid>/{exe,cwd,fd/<n>,maps,environ}` links. Paths are matched in the logical
    /// store directory (as CppNix) and, for a store rooted elsewhere, in the real one.
    ///
    /// # Errors
    /// Database failures.
    pub fn find_runtime_roots(&self, roots: &mut Roots) -> Result<(), StoreError> {
        let logical = self.store_dir().as_str().to_string();
        let real = self
            .layout()
            .real_store_dir()
            .to_string_lossy()
            .into_owned();
        let mut prefixes = vec![logical.clone()];
        if real != logical {
            prefixes.push(real.clone());
        }
        let found = super::runtime_roots::scan(Path::new("/proc"), &prefixes);
        for (target, links) in found {
            let logical_target = match target.strip_prefix(real.as_str()) {
                Some(rest) if real != logical && rest.starts_with('/') => {
                    format!("{logical}{rest}")
                }
                _ => target,
            };
            let Ok((sp, _)) = self.store_dir().parse_path_prefix(&logical_target) else {
                continue;
            };
            if self.is_valid_path(&sp)? {
                roots.entry(sp).or_default().extend(links);
            }
        }
        Ok(())
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
        for (pid, sp) in self.read_temp_roots()? {
            if self.is_valid_path(&sp)? {
                roots
                    .entry(sp)
                    .or_default()
                    .insert(format!("{{temp:{pid}}}"));
            }
        }
        Ok(())
    }

    /// Every store path in the temp roots files of live processes (valid or not: a path
    /// being added is a temp root before it is valid), with the owner's pid. Files of dead
    /// processes are removed.
    fn read_temp_roots(&self) -> Result<Vec<(String, StorePath)>, StoreError> {
        let dir = self.layout().temproots_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Self::gc_io("cannot read directory", &dir)(e)),
        };
        let mut out = Vec::new();
        for e in entries.flatten() {
            let file = e.path();
            let pid = e.file_name().to_string_lossy().into_owned();
            if pid.starts_with('.') {
                continue;
            }
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
                    out.push((pid.clone(), sp));
                }
            }
        }
        Ok(out)
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
        // Deferred objects hold `gc.lock` shared: register them and let it go first.
        self.settle()?;
        self.forget_registered();
        let _gc = PathLock::acquire(&self.layout().gc_lock(), LockMode::Wait, OnRelease::Keep)
            .map_err(StoreError::from)?
            .expect("a blocking lock always returns a lock");
        // From now on, processes that need a temp root tell us through the socket.
        let server = RootsServer::start(self.layout().gc_socket(), self.store_dir().clone())?;
        log("finding garbage collector roots...");
        let roots = self.find_roots(log)?;
        server.add_temp_roots(
            self.read_temp_roots()?
                .into_iter()
                .map(|(_, p)| p.hash_part().to_string()),
        );
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
                result.paths = all
                    .difference(&live)
                    .filter(|p| !server.is_temp_root(p.hash_part()))
                    .map(|p| sd.display(p))
                    .collect();
                result.paths.extend(
                    self.invalid_entries()?
                        .into_iter()
                        .filter(|p| !server.is_temp_root(p.hash_part()))
                        .map(|p| sd.display(&p)),
                );
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
                let still_alive = |p: &StorePath, result: &GcResult| GcError::StillAlive {
                    path: sd.display(p),
                    bytes_freed: result.bytes_freed,
                    deleted: result.paths.len(),
                };
                for p in &sorted {
                    if live.contains(p)
                        || server.is_temp_root(p.hash_part())
                        || self
                            .query_referrers(p)?
                            .iter()
                            .any(|r| r != p && !paths.contains(r))
                    {
                        return Err(still_alive(p, &result));
                    }
                }
                for p in &sorted {
                    if !server.begin_delete(p.hash_part()) {
                        return Err(still_alive(p, &result));
                    }
                    let r = self.delete_one(p, &mut result, log);
                    server.end_delete();
                    r?;
                }
                for p in paths {
                    if !sorted.contains(p) && std::fs::symlink_metadata(self.real_path(p)).is_ok() {
                        if !server.begin_delete(p.hash_part()) {
                            return Err(still_alive(p, &result));
                        }
                        let r = self.delete_invalid(p, &mut result, log);
                        server.end_delete();
                        r?;
                    }
                }
            }
            GcAction::DeleteDead => {
                log("deleting garbage...");
                let all = self.query_all_valid_paths()?;
                let dead: BTreeSet<StorePath> = all.difference(&live).cloned().collect();
                // Paths that became temp roots during the collection, with their closures.
                let mut rescued: BTreeSet<StorePath> = BTreeSet::new();
                for p in self.topo_sort(&dead)? {
                    if opts.max_freed.is_some_and(|m| result.bytes_freed >= m) {
                        break;
                    }
                    if rescued.contains(&p) {
                        continue;
                    }
                    if !server.begin_delete(p.hash_part()) {
                        rescued.extend(self.closure(&BTreeSet::from([p.clone()]))?);
                        continue;
                    }
                    let r = self.delete_one(&p, &mut result, log);
                    server.end_delete();
                    r?;
                }
                self.remove_stale_temp_dirs()?;
                for p in self.invalid_entries()? {
                    if opts.max_freed.is_some_and(|m| result.bytes_freed >= m) {
                        break;
                    }
                    if !server.begin_delete(p.hash_part()) {
                        continue;
                    }
                    let r = self.delete_invalid(&p, &mut result, log);
                    server.end_delete();
                    r?;
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

/// State shared by a running collection and its roots server (CppNix 2.8's `gc-socket`).
#[derive(Debug, Default)]
struct ServerState {
    /// Hash parts of the temp roots: read from `temproots/` at the start, and received on
    /// the socket while the collection runs. Hash parts, so `<path>.lock` entries and paths
    /// not yet valid are covered too.
    temp_roots: HashSet<String>,
    /// Hash part of the path being deleted right now.
    pending: Option<String>,
    /// The collection is over.
    stop: bool,
}

type Shared = Arc<(Mutex<ServerState>, Condvar)>;

fn lock_state(shared: &Shared) -> MutexGuard<'_, ServerState> {
    shared.0.lock().unwrap_or_else(|e| e.into_inner())
}

/// The server a collection runs on `gc-socket/socket` while it holds `gc.lock`: a process
/// that wants a temp root but cannot take `gc.lock` shared connects, writes the full store
/// path and a newline, and waits for the byte `1`. The root is recorded first; if that path is
/// being deleted at that moment, the answer waits until the deletion is over (so the client
/// does not start re-creating it under our feet). Clients may send any number of lines on
/// one connection.
#[derive(Debug)]
struct RootsServer {
    shared: Shared,
    thread: Option<std::thread::JoinHandle<()>>,
    path: PathBuf,
}

impl RootsServer {
    fn start(path: PathBuf, store_dir: StoreDir) -> Result<RootsServer, StoreError> {
        let io = |op| LocalStore::gc_io(op, &path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(LocalStore::gc_io("cannot create", dir))?;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("cannot remove")(e)),
        }
        let listener = bind_unix(&path).map_err(io("cannot bind socket"))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666))
            .map_err(io("cannot chmod"))?;
        listener
            .set_nonblocking(true)
            .map_err(io("cannot make non-blocking"))?;
        let shared: Shared = Arc::default();
        let s2 = shared.clone();
        let thread = std::thread::Builder::new()
            .name("nixrs-gc-roots".into())
            .spawn(move || serve(listener, s2, store_dir))
            .map_err(io("cannot start the roots server for"))?;
        Ok(RootsServer {
            shared,
            thread: Some(thread),
            path,
        })
    }

    fn add_temp_roots(&self, hashes: impl IntoIterator<Item = String>) {
        lock_state(&self.shared).temp_roots.extend(hashes);
    }

    fn is_temp_root(&self, hash_part: &str) -> bool {
        lock_state(&self.shared).temp_roots.contains(hash_part)
    }

    /// Marks `hash_part` as being deleted, unless it is a temp root (then `false`).
    fn begin_delete(&self, hash_part: &str) -> bool {
        let mut st = lock_state(&self.shared);
        if st.temp_roots.contains(hash_part) {
            return false;
        }
        st.pending = Some(hash_part.to_string());
        true
    }

    fn end_delete(&self) {
        lock_state(&self.shared).pending = None;
        self.shared.1.notify_all();
    }
}

impl Drop for RootsServer {
    fn drop(&mut self) {
        {
            let mut st = lock_state(&self.shared);
            st.stop = true;
            st.pending = None;
        }
        self.shared.1.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = &self.path;
    }
}

/// Binds a listening socket at `path`, through `/proc/self/fd/<dir>/…` when the path is too
/// long for `sun_path` (CppNix binds such paths from a child that changed directory).
fn bind_unix(path: &Path) -> std::io::Result<UnixListener> {
    if path.as_os_str().len() < 100 {
        return UnixListener::bind(path);
    }
    let (dir, name) = split_parent(path)?;
    let d = std::fs::File::open(dir)?;
    UnixListener::bind(Path::new(&format!("/proc/self/fd/{}", d.as_raw_fd())).join(name))
}

/// Connects to the socket at `path` (long paths as in [`bind_unix`]).
pub(crate) fn connect_unix(path: &Path) -> std::io::Result<UnixStream> {
    if path.as_os_str().len() < 100 {
        return UnixStream::connect(path);
    }
    let (dir, name) = split_parent(path)?;
    let d = std::fs::File::open(dir)?;
    UnixStream::connect(Path::new(&format!("/proc/self/fd/{}", d.as_raw_fd())).join(name))
}

fn split_parent(path: &Path) -> std::io::Result<(&Path, &std::ffi::OsStr)> {
    match (path.parent(), path.file_name()) {
        (Some(d), Some(n)) => Ok((d, n)),
        _ => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "socket path has no parent directory",
        )),
    }
}

fn serve(listener: UnixListener, shared: Shared, store_dir: StoreDir) {
    let mut clients: Vec<(UnixStream, std::thread::JoinHandle<()>)> = Vec::new();
    loop {
        if lock_state(&shared).stop {
            break;
        }
        match listener.accept() {
            Ok((stream, _)) => {
                let Ok(other) = stream.try_clone() else {
                    continue;
                };
                if stream.set_nonblocking(false).is_err() {
                    continue;
                }
                let s2 = shared.clone();
                let sd = store_dir.clone();
                if let Ok(t) = std::thread::Builder::new()
                    .name("nixrs-gc-client".into())
                    .spawn(move || serve_client(stream, s2, sd))
                {
                    clients.push((other, t));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(2)),
        }
        clients.retain(|(_, t)| !t.is_finished());
    }
    // Disconnect the clients: their next root goes through `gc.lock` again.
    for (s, t) in clients {
        let _ = s.shutdown(std::net::Shutdown::Both);
        let _ = t.join();
    }
}

fn serve_client(stream: UnixStream, shared: Shared, store_dir: StoreDir) {
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut input = std::io::BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        match input.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let text = line.strip_suffix('\n').unwrap_or(&line);
        if let Ok(path) = store_dir.parse_path(text) {
            let hash = path.hash_part().to_string();
            let mut st = lock_state(&shared);
            st.temp_roots.insert(hash.clone());
            while st.pending.as_deref() == Some(hash.as_str()) && !st.stop {
                st = shared.1.wait(st).unwrap_or_else(|e| e.into_inner());
            }
        }
        // Garbage gets an answer too, as in CppNix (which only logs it).
        if out.write_all(b"1").is_err() {
            return;
        }
    }
}
