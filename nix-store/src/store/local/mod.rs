//! A local store compatible with CppNix 2.8: store objects in `R/nix/store`, metadata in the
//! SQLite database `R/nix/var/nix/db/db.sqlite` (see [`db`]), GC roots, profiles and temp
//! roots under `R/nix/var/nix` (see [`layout`]).
//!
//! Adding a path is atomic: the object is written into a temporary directory inside the real
//! store directory, canonicalised (modes `0444`/`0555`, mtime 1), hashed, and renamed into
//! place under a lock on `<path>.lock`; then it is registered with its references in one
//! database transaction. Until registration the path is protected by a temp root
//! (`temproots/<pid>`) and a shared lock on `gc.lock`, so a concurrent garbage collection
//! (ours or CppNix's, which take `gc.lock` exclusively) never deletes it; temp roots taken
//! while a collection runs go to its socket (see [`gc`]).
//!
//! Like CppNix, the process holds a shared lock on `db/big-lock` while the store is open.
//!
//! Durability ([`Durability`], set with [`LocalStore::set_durability`]): by default, as
//! CppNix 2.8, nothing is fsynced; a path is registered only after its complete contents are
//! in place, so a killed process leaves at most an unregistered object, which the next add
//! of the same path replaces and the garbage collector removes. With [`Durability::Full`]
//! the contents are also on disk before registration: a single add ([`Store::add_path`],
//! [`Store::add_text`], [`Store::add_nar`]) fsyncs the new files and the store directory,
//! and a batch ([`LocalStore::add_many`], which `nix-store --add A B C…` uses) moves up to
//! [`BATCH_CHUNK`] objects into place, syncs the store's file system once (`syncfs`), and
//! then registers them all in one transaction.
//!
//! Deferred registration ([`LocalStore::set_deferred_registration`], which `nix-instantiate`
//! uses for the many small `.drv` files it writes): with [`Durability::CppNix`], adds still
//! move each object into place at once (its files can be read, and this store object answers
//! [`Store::is_valid_path`] and [`Store::query_path_info`] for it), but the database
//! registration waits and is done for up to [`BATCH_CHUNK`] objects in one transaction: when
//! that many are waiting, before any other query, on [`LocalStore::flush_registrations`],
//! when deferring is turned off, and when the store is dropped. Until then the objects keep
//! their `<path>.lock` locks, their temp roots and the shared `gc.lock` lock, so a concurrent
//! add of the same path waits and a garbage collection cannot delete them. One transaction
//! per object is what made adding hundreds of derivations slow (each commit writes the
//! changed database pages to the write-ahead log again).

pub mod db;
pub mod gc;
pub mod layout;
pub mod lock;
mod runtime_roots;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use self::db::{Db, PathRow};
use self::layout::Layout;
use self::lock::{LockMode, OnRelease, PathLock};
use super::{now_secs, restore_error, AddOptions, Store, StoreError, ValidPathInfo, VerifyReport};
use crate::content_address::{ContentAddress, FileIngestionMethod};
use crate::hash::{Hash, HashAlgo, Hasher};
use crate::store_path::{StoreDir, StorePath};

/// A local store rooted at some directory (see the module docs).
#[derive(Debug)]
pub struct LocalStore {
    layout: Layout,
    store_dir: StoreDir,
    db: Mutex<Db>,
    _big_lock: File,
    temp_roots: Mutex<Option<PathLock>>,
    gc_shared: Mutex<GcShared>,
    roots_socket: Mutex<Option<std::os::unix::net::UnixStream>>,
    counter: AtomicU64,
    durability: Durability,
    deferred: Mutex<Deferred>,
    /// Paths this store object registered: they are temp roots of this process, so no
    /// garbage collection removes them while it lives, and their validity needs no query
    /// (emptied by this object's own deletions: [`Store::delete_path`], `verify`, `gc`).
    registered: Mutex<HashSet<StorePath>>,
}

/// Objects moved into place and waiting for their registration.
#[derive(Debug, Default)]
struct Batch {
    pending: Vec<Pending>,
    paths: HashSet<StorePath>,
}

impl Batch {
    fn contains(&self, path: &StorePath) -> bool {
        self.paths.contains(path)
    }

    fn push(&mut self, p: Pending) {
        self.paths.insert(p.info.path.clone());
        self.pending.push(p);
    }

    fn len(&self) -> usize {
        self.pending.len()
    }

    fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    fn take(&mut self) -> Vec<Pending> {
        self.paths.clear();
        std::mem::take(&mut self.pending)
    }
}

/// The state of deferred registration (see the module docs).
#[derive(Debug, Default)]
struct Deferred {
    on: bool,
    batch: Batch,
    /// Whether this batch holds one count of the shared `gc.lock` lock.
    holds_gc: bool,
}

/// How many objects [`LocalStore::add_many`] moves into place before it syncs and registers
/// them (each holds an open `<path>.lock` until then).
pub const BATCH_CHUNK: usize = 512;

/// One object to add with [`LocalStore::add_many`].
#[derive(Debug, Clone, Copy)]
pub enum AddItem<'a> {
    /// A file system object, as [`Store::add_path`].
    Path {
        /// The store path name.
        name: &'a str,
        /// The object to copy.
        source: &'a Path,
        /// Flat or recursive, and the hash algorithm.
        options: AddOptions,
        /// The references of the new path.
        references: &'a BTreeSet<StorePath>,
    },
    /// A text object, as [`Store::add_text`].
    Text {
        /// The store path name.
        name: &'a str,
        /// The file contents.
        contents: &'a [u8],
        /// The references (valid paths, or earlier items of the same batch).
        references: &'a BTreeSet<StorePath>,
    },
}

/// How hard a [`LocalStore`] works to make new paths survive a power loss or an operating
/// system crash. A killed *process* never leaves a registered path without its complete
/// contents, whatever the setting: contents are renamed into place before the database
/// transaction that registers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// As CppNix 2.8, which fsyncs nothing it adds: contents are written and renamed into
    /// place, then registered (the database runs in WAL mode with `synchronous = normal`, as
    /// CppNix's). After a power loss, a registered path may have lost recent contents; `verify
    /// --check-contents` reports it, as it would for CppNix.
    #[default]
    CppNix,
    /// A single add fsyncs the new files and the store directory before it registers the
    /// path; [`LocalStore::add_many`] syncs the file system once per [`BATCH_CHUNK`] objects.
    Full,
}

/// When new objects reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SyncMode {
    /// Leave it to the kernel ([`Durability::CppNix`]).
    None,
    /// fsync each file as it is written and the store directory after the rename.
    PerPath,
    /// One `syncfs` per chunk, before registration.
    Batch,
}

/// The process's shared lock on `gc.lock`: one open file, locked while any add is running.
#[derive(Debug, Default)]
struct GcShared {
    file: Option<File>,
    holders: usize,
}

/// Holds the shared `gc.lock` lock until dropped.
struct GcGuard<'a> {
    store: &'a LocalStore,
}

impl Drop for GcGuard<'_> {
    fn drop(&mut self) {
        self.store.gc_release();
    }
}

/// An object moved into place, waiting for the sync and its registration.
#[derive(Debug)]
struct Pending {
    info: ValidPathInfo,
    /// The outputs of a `.drv` text object, read from its contents when it was prepared
    /// (`None`: read them from the file at registration).
    drv_outputs: Option<Vec<(String, String)>>,
    _lock: PathLock,
}

/// What happened to one prepared object.
enum Placed {
    /// Already valid, or already pending in this batch.
    Present(StorePath),
    /// Moved into place; register it.
    Moved(Box<Pending>),
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

impl LocalStore {
    /// Opens (creating if needed) the store rooted at `root`; `/` is the system store.
    ///
    /// # Errors
    /// I/O failures creating the layout, database errors, an unsupported schema version.
    pub fn open(root: impl Into<PathBuf>) -> Result<LocalStore, StoreError> {
        let layout = Layout::new(root);
        layout.create().map_err(|(path, source)| StoreError::Io {
            op: "cannot create",
            path,
            source,
        })?;
        let big = layout.big_lock();
        let big_lock = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&big)
            .map_err(io_err("cannot open", &big))?;
        lock::flock(&big_lock, lock::FlockOperation::LockShared)
            .map_err(io_err("cannot lock", &big))?;
        let db = Db::open(&layout.db_dir())?;
        Ok(LocalStore {
            layout,
            store_dir: StoreDir::default(),
            db: Mutex::new(db),
            _big_lock: big_lock,
            temp_roots: Mutex::new(None),
            gc_shared: Mutex::new(GcShared::default()),
            roots_socket: Mutex::new(None),
            counter: AtomicU64::new(0),
            durability: Durability::default(),
            deferred: Mutex::new(Deferred::default()),
            registered: Mutex::new(HashSet::new()),
        })
    }

    /// Opens the store rooted at `root` (objects in `root/nix/store`, as [`LocalStore::open`])
    /// whose paths are named in `store_dir` instead of `/nix/store`.
    ///
    /// With `store_dir` = `root/nix/store` the store is not diverted: a path's name is where
    /// its files are, so a builder can run without a sandbox. CppNix opens the same store as
    /// `local?store=R/nix/store&state=R/nix/var/nix&log=R/nix/var/log/nix`.
    ///
    /// # Errors
    /// As [`LocalStore::open`].
    pub fn open_with_store_dir(
        root: impl Into<PathBuf>,
        store_dir: StoreDir,
    ) -> Result<LocalStore, StoreError> {
        let mut store = Self::open(root)?;
        store.store_dir = store_dir;
        Ok(store)
    }

    /// Sets how new paths are synced to disk (see [`Durability`]; the default is CppNix's).
    ///
    /// ```
    /// use nix_store::store::local::{Durability, LocalStore};
    /// let root = tempfile::tempdir()?;
    /// let mut store = LocalStore::open(root.path())?;
    /// store.set_durability(Durability::Full);
    /// assert_eq!(store.durability(), Durability::Full);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_durability(&mut self, durability: Durability) {
        self.durability = durability;
    }

    /// How new paths are synced to disk.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    fn single_sync(&self) -> SyncMode {
        match self.durability {
            Durability::Full => SyncMode::PerPath,
            Durability::CppNix => SyncMode::None,
        }
    }

    /// The store's layout (where its files are).
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Where the files of `path` really are (`R/nix/store/<base name>`).
    pub fn real_path(&self, path: &StorePath) -> PathBuf {
        self.layout.real_store_dir().join(path.to_base_name())
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Db> {
        // A panic while holding the lock cannot leave the connection inconsistent (SQLite
        // transactions roll back on drop), so a poisoned lock is still usable.
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn parse_full(&self, p: &str) -> Result<StorePath, StoreError> {
        Ok(self.store_dir.parse_path(p)?)
    }

    fn info_from_row(&self, row: PathRow) -> Result<ValidPathInfo, StoreError> {
        let path = self.parse_full(&row.path)?;
        let bad = |what: String| StoreError::BadExport { offset: 0, what };
        let nar_hash = Hash::parse_any(&row.hash)
            .map_err(|e| bad(format!("invalid hash '{}' in database: {e}", row.hash)))?;
        let mut references = BTreeSet::new();
        for r in &row.references {
            references.insert(self.parse_full(r)?);
        }
        let deriver = match row.deriver.as_deref() {
            Some(d) if !d.is_empty() => self.parse_full(d).ok(),
            _ => None,
        };
        let ca = match row.ca.as_deref() {
            Some(c) if !c.is_empty() => c.parse::<ContentAddress>().ok(),
            _ => None,
        };
        Ok(ValidPathInfo {
            path,
            deriver,
            nar_hash,
            references,
            registration_time: row.registration_time,
            nar_size: row.nar_size.unwrap_or(0).max(0) as u64,
            ultimate: row.ultimate,
            sigs: row
                .sigs
                .as_deref()
                .unwrap_or("")
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            ca,
        })
    }

    fn row_from_info(&self, info: &ValidPathInfo) -> PathRow {
        PathRow {
            path: self.store_dir.display(&info.path),
            hash: info.nar_hash.to_typed_base16(),
            // as CppNix: an info without a registration time is registered now
            registration_time: if info.registration_time == 0 {
                now_secs()
            } else {
                info.registration_time
            },
            deriver: info.deriver.as_ref().map(|d| self.store_dir.display(d)),
            nar_size: Some(info.nar_size as i64),
            ultimate: info.ultimate,
            sigs: (!info.sigs.is_empty()).then(|| info.sigs.join(" ")),
            ca: info.ca.map(|c| c.to_string()),
            references: info
                .references
                .iter()
                .map(|r| self.store_dir.display(r))
                .collect(),
        }
    }

    /// The process's open `gc.lock` (opened on first use).
    fn gc_lock_file<'g>(&self, g: &'g mut GcShared) -> Result<&'g File, StoreError> {
        if g.file.is_none() {
            let p = self.layout.gc_lock();
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&p)
                .map_err(io_err("cannot open", &p))?;
            g.file = Some(f);
        }
        Ok(g.file.as_ref().expect("the gc lock file was opened above"))
    }

    /// Takes a shared lock on `gc.lock` (held while paths are being added, so our garbage
    /// collector, which locks it exclusively, waits) — CppNix's `addTempRoot` protocol. The
    /// file stays open for the store's lifetime; the lock is released when the last guard of
    /// this process is dropped.
    fn gc_shared_lock(&self) -> Result<GcGuard<'_>, StoreError> {
        self.gc_hold()?;
        Ok(GcGuard { store: self })
    }

    /// Counts one more holder of the shared `gc.lock` lock, taking it for the first.
    fn gc_hold(&self) -> Result<(), StoreError> {
        let mut g = self.gc_shared.lock().unwrap_or_else(|e| e.into_inner());
        if g.holders == 0 {
            let p = self.layout.gc_lock();
            let f = self.gc_lock_file(&mut g)?;
            lock::flock(f, lock::FlockOperation::LockShared).map_err(io_err("cannot lock", &p))?;
        }
        g.holders += 1;
        Ok(())
    }

    /// Counts one holder less, unlocking `gc.lock` after the last.
    fn gc_release(&self) {
        let mut g = self.gc_shared.lock().unwrap_or_else(|e| e.into_inner());
        g.holders = g.holders.saturating_sub(1);
        if g.holders == 0 {
            if let Some(f) = &g.file {
                let _ = lock::flock(f, lock::FlockOperation::Unlock);
            }
        }
    }

    fn deferred(&self) -> std::sync::MutexGuard<'_, Deferred> {
        // The batch stays consistent across a panic (pushes are single operations).
        self.deferred.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Turns deferred registration on or off (see the module docs). Turning it off registers
    /// what is waiting. With [`Durability::Full`] adds are never deferred.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::collections::BTreeSet;
    /// use nix_store::store::local::LocalStore;
    /// use nix_store::store::Store;
    ///
    /// let root = tempfile::tempdir()?;
    /// let store = LocalStore::open(root.path())?;
    /// store.set_deferred_registration(true)?;
    /// let a = store.add_text("a", b"one", &BTreeSet::new())?;
    /// assert!(store.is_valid_path(&a)?); // this store object knows it already
    /// assert!(!LocalStore::open(root.path())?.is_valid_path(&a)?); // not registered yet
    /// store.flush_registrations()?;
    /// assert!(LocalStore::open(root.path())?.is_valid_path(&a)?);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`LocalStore::flush_registrations`].
    pub fn set_deferred_registration(&self, on: bool) -> Result<(), StoreError> {
        let mut d = self.deferred();
        d.on = on;
        if !on {
            self.flush_deferred(&mut d)?;
        }
        Ok(())
    }

    /// Registers the objects whose registration was deferred, in one transaction.
    ///
    /// # Errors
    /// Database errors; the objects stay unregistered then (and their locks are released).
    pub fn flush_registrations(&self) -> Result<(), StoreError> {
        let mut d = self.deferred();
        self.flush_deferred(&mut d)
    }

    fn flush_deferred(&self, d: &mut Deferred) -> Result<(), StoreError> {
        let r = self.flush(&mut d.batch, SyncMode::None);
        if d.holds_gc {
            d.holds_gc = false;
            self.gc_release();
        }
        r
    }

    /// Registers deferred objects before a query that the database answers.
    fn settle(&self) -> Result<(), StoreError> {
        let mut d = self.deferred();
        if d.batch.is_empty() {
            return Ok(());
        }
        self.flush_deferred(&mut d)
    }

    /// Whether the database has `path` (not looking at deferred objects).
    fn db_valid(&self, path: &StorePath) -> Result<bool, StoreError> {
        if self.registered().contains(path) {
            return Ok(true);
        }
        Ok(self.db().is_valid(&self.store_dir.display(path))?)
    }

    fn registered(&self) -> std::sync::MutexGuard<'_, HashSet<StorePath>> {
        self.registered.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets which paths this object registered, before it deletes any.
    pub(crate) fn forget_registered(&self) {
        self.registered().clear();
    }

    /// Records `path` as a temporary root of this process (`temproots/<pid>`), which the
    /// garbage collector honours while this process lives.
    ///
    /// This is CppNix 2.8's `addTempRoot` handshake: when `gc.lock` can be taken shared
    /// (no collection is running), the root is appended to the file under that lock, so a
    /// collection that starts later reads it; otherwise a collection (ours or CppNix's) is
    /// running, and the root is first sent to its socket (`gc-socket/socket`) and
    /// acknowledged, then appended. A refused or broken connection means the collection just
    /// ended: start over.
    ///
    /// # Errors
    /// I/O or lock failures.
    pub fn add_temp_root(&self, path: &StorePath) -> Result<(), StoreError> {
        let mut guard = self.temp_roots.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            let file = self
                .layout
                .temproots_dir()
                .join(std::process::id().to_string());
            // A file with our pid is stale: no two live processes share a pid.
            let _ = std::fs::remove_file(&file);
            *guard = PathLock::acquire(&file, LockMode::Wait, OnRelease::Delete)?;
        }
        let lock = guard
            .as_ref()
            .expect("the temp roots file was created above");
        let mut entry = self.store_dir.display(path).into_bytes();
        entry.push(0);
        let write = || {
            let mut f = lock.file();
            f.write_all(&entry)
                .map_err(io_err("cannot write", lock.path()))
        };
        loop {
            {
                let mut g = self.gc_shared.lock().unwrap_or_else(|e| e.into_inner());
                if g.holders > 0 {
                    // This process holds `gc.lock` shared already: no collection runs.
                    return write();
                }
                let f = self.gc_lock_file(&mut g)?;
                match lock::flock(f, lock::FlockOperation::NonBlockingLockShared) {
                    Ok(()) => {
                        let r = write();
                        let _ = lock::flock(f, lock::FlockOperation::Unlock);
                        return r;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(io_err("cannot lock", &self.layout.gc_lock())(e)),
                }
            }
            if self.send_root_to_gc(path) {
                return write();
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    /// Sends `path` to the running collection's socket and waits for its answer; `false` if
    /// there is no collection to talk to (any failure: the caller starts over).
    fn send_root_to_gc(&self, path: &StorePath) -> bool {
        let mut conn = self.roots_socket.lock().unwrap_or_else(|e| e.into_inner());
        if conn.is_none() {
            match gc::connect_unix(&self.layout.gc_socket()) {
                Ok(c) => *conn = Some(c),
                Err(_) => return false,
            }
        }
        let Some(c) = conn.as_mut() else {
            return false;
        };
        let mut line = self.store_dir.display(path).into_bytes();
        line.push(b'\n');
        let mut ack = [0u8; 1];
        let ok = c.write_all(&line).is_ok() && c.read_exact(&mut ack).is_ok() && ack[0] == b'1';
        if !ok {
            *conn = None;
        }
        ok
    }

    /// Registers `gc_root` (a symlink outside the store, such as a profile generation or a
    /// `result` link) as an indirect root: `gcroots/auto/<nix32 sha1 of its path>` points to
    /// it, as CppNix's `addIndirectRoot` does.
    ///
    /// # Errors
    /// I/O failures.
    pub fn add_indirect_root(&self, gc_root: &Path) -> Result<(), StoreError> {
        let text = gc_root.to_string_lossy();
        let hash = Hash::digest_bytes(HashAlgo::Sha1, text.as_bytes()).to_nix32();
        let dir = self.layout.gcroots_dir().join("auto");
        std::fs::create_dir_all(&dir).map_err(io_err("cannot create", &dir))?;
        crate::profiles::replace_symlink(gc_root.as_os_str(), &dir.join(hash)).map_err(|e| {
            StoreError::Io {
                op: "cannot create indirect root",
                path: gc_root.to_path_buf(),
                source: std::io::Error::other(e.to_string()),
            }
        })
    }

    fn temp_dir(&self) -> PathBuf {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        self.layout
            .real_store_dir()
            .join(format!(".nixrs-tmp-{}-{n}", std::process::id()))
    }

    /// Moves the prepared object `tmp` into place as `info.path` (unless it is already valid
    /// or pending in this batch) under its `<path>.lock`. References must be valid or pending.
    /// `tmp` is removed in every case.
    fn place(
        &self,
        tmp: &Path,
        info: ValidPathInfo,
        drv_outputs: Option<Vec<(String, String)>>,
        pending: &Batch,
    ) -> Result<Placed, StoreError> {
        let result = self.place_inner(tmp, info, drv_outputs, pending);
        if std::fs::symlink_metadata(tmp).is_ok() {
            let _ = remove_tree(tmp);
        }
        result
    }

    fn place_inner(
        &self,
        tmp: &Path,
        info: ValidPathInfo,
        drv_outputs: Option<Vec<(String, String)>>,
        pending: &Batch,
    ) -> Result<Placed, StoreError> {
        let path = info.path.clone();
        self.add_temp_root(&path)?;
        let is_pending = |p: &StorePath| pending.contains(p);
        // We hold its lock already: locking it again through another file would deadlock.
        if is_pending(&path) {
            return Ok(Placed::Present(path));
        }
        let real = self.real_path(&path);
        let mut lock_name = real.as_os_str().to_os_string();
        lock_name.push(".lock");
        let lock = PathLock::acquire(Path::new(&lock_name), LockMode::Wait, OnRelease::Delete)?
            .expect("a blocking lock always returns a lock");
        if self.db_valid(&path)? {
            return Ok(Placed::Present(path));
        }
        for r in &info.references {
            if r != &path && !is_pending(r) && !self.db_valid(r)? {
                return Err(StoreError::MissingReference {
                    path: self.store_dir.display(&path),
                    reference: self.store_dir.display(r),
                });
            }
        }
        if std::fs::symlink_metadata(&real).is_ok() {
            remove_tree(&real)?;
        }
        std::fs::rename(tmp, &real).map_err(io_err("cannot move into place", &real))?;
        Ok(Placed::Moved(Box::new(Pending {
            info,
            drv_outputs,
            _lock: lock,
        })))
    }

    /// Makes the pending objects durable and registers them in one transaction; their locks
    /// are released afterwards (also on failure, leaving them unregistered).
    fn flush(&self, pending: &mut Batch, sync: SyncMode) -> Result<(), StoreError> {
        if pending.is_empty() {
            return Ok(());
        }
        let batch = pending.take();
        let dir = self.layout.real_store_dir();
        match sync {
            SyncMode::None => {}
            SyncMode::PerPath => sync_dir(&dir)?,
            SyncMode::Batch => {
                let d = File::open(&dir).map_err(io_err("cannot open", &dir))?;
                rustix::fs::syncfs(&d).map_err(|e| StoreError::Io {
                    op: "cannot sync the file system of",
                    path: dir.clone(),
                    source: e.into(),
                })?;
            }
        }
        let rows: Vec<PathRow> = batch.iter().map(|p| self.row_from_info(&p.info)).collect();
        let drv: Vec<_> = batch
            .iter()
            .flat_map(|p| match &p.drv_outputs {
                Some(outs) => vec![(self.store_dir.display(&p.info.path), outs.clone())],
                None => self.drv_outputs_of(&p.info.path, &self.real_path(&p.info.path)),
            })
            .collect();
        self.db().register(&rows, &drv)?;
        self.registered()
            .extend(batch.into_iter().map(|p| p.info.path));
        Ok(())
    }

    /// Adds many objects with one sync and one transaction per [`BATCH_CHUNK`] objects
    /// (instead of an fsync per file and per add): what `nix-store --add A B C…` needs.
    /// Returns the store paths in the order of `items`. An item may reference valid paths and
    /// earlier items of the batch; the same object may appear more than once.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::collections::BTreeSet;
    /// use nix_store::store::local::{AddItem, LocalStore};
    /// use nix_store::store::Store;
    ///
    /// let root = tempfile::tempdir()?;
    /// let store = LocalStore::open(root.path())?;
    /// let none = BTreeSet::new();
    /// let a = store.add_text("a", b"one", &none)?;
    /// let refs = BTreeSet::from([a.clone()]);
    /// let paths = store.add_many(&[
    ///     AddItem::Text { name: "b", contents: b"two", references: &none },
    ///     AddItem::Text { name: "c", contents: b"three", references: &refs },
    /// ])?;
    /// assert_eq!(paths.len(), 2);
    /// assert_eq!(store.query_references(&paths[1])?, refs);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`Store::add_path`] and [`Store::add_text`]. The items before the failing one are
    /// still added (synced and registered); the failing one and those after it are not.
    pub fn add_many(&self, items: &[AddItem<'_>]) -> Result<Vec<StorePath>, StoreError> {
        self.add_many_with(items, &mut |_, _| {})
    }

    /// [`LocalStore::add_many`], calling `on_added(index, path)` for each item, in order, as
    /// soon as it is registered (so a caller can print the paths added before a failure).
    ///
    /// # Errors
    /// As [`LocalStore::add_many`].
    pub fn add_many_with(
        &self,
        items: &[AddItem<'_>],
        on_added: &mut dyn FnMut(usize, &StorePath),
    ) -> Result<Vec<StorePath>, StoreError> {
        let sync = match self.durability {
            Durability::Full => SyncMode::Batch,
            Durability::CppNix => SyncMode::None,
        };
        self.add_items(items, sync, on_added)
    }

    fn add_items(
        &self,
        items: &[AddItem<'_>],
        sync: SyncMode,
        on_added: &mut dyn FnMut(usize, &StorePath),
    ) -> Result<Vec<StorePath>, StoreError> {
        let mut deferred = self.deferred();
        let defer = deferred.on && sync == SyncMode::None;
        let _gc = self.gc_shared_lock()?;
        let mut out: Vec<StorePath> = Vec::with_capacity(items.len());
        let mut reported = 0;
        let mut local = Batch::default();
        let pending = if defer {
            &mut deferred.batch
        } else {
            &mut local
        };
        for item in items {
            match self.add_item(item, sync, pending) {
                Ok(p) => out.push(p),
                Err(e) => {
                    self.flush(pending, sync)?;
                    for (i, p) in out.iter().enumerate().skip(reported) {
                        on_added(i, p);
                    }
                    return Err(e);
                }
            }
            if pending.len() >= BATCH_CHUNK {
                self.flush(pending, sync)?;
                for (i, p) in out.iter().enumerate().skip(reported) {
                    on_added(i, p);
                }
                reported = out.len();
            }
        }
        if defer {
            if !deferred.batch.is_empty() && !deferred.holds_gc {
                self.gc_hold()?;
                deferred.holds_gc = true;
            }
        } else {
            self.flush(&mut local, sync)?;
        }
        for (i, p) in out.iter().enumerate().skip(reported) {
            on_added(i, p);
        }
        Ok(out)
    }

    /// Prepares one item in a temporary directory and moves it into place (or finds it
    /// present); a moved object is pushed onto `pending`.
    fn add_item(
        &self,
        item: &AddItem<'_>,
        sync: SyncMode,
        pending: &mut Batch,
    ) -> Result<StorePath, StoreError> {
        let fsync = sync == SyncMode::PerPath;
        let (name, source, options, references) = match *item {
            AddItem::Text {
                name,
                contents,
                references,
            } => {
                let hash = Hash::digest_bytes(HashAlgo::Sha256, contents);
                let path = self.store_dir.make_text_path(name, &hash, references)?;
                self.add_temp_root(&path)?;
                if pending.contains(&path) || self.db_valid(&path)? {
                    return Ok(path);
                }
                return self.add_text_in_place(path, hash, contents, references, fsync, pending);
            }
            AddItem::Path {
                name,
                source,
                options,
                references,
            } => (name, source, options, references),
        };
        let tmp = self.temp_dir();
        let prepared = self.prepare_path(name, source, options, references, &tmp, fsync);
        let info = match prepared {
            Ok(info) => info,
            Err(e) => {
                let _ = remove_tree(&tmp);
                return Err(e);
            }
        };
        match self.place(&tmp, info, None, pending)? {
            Placed::Present(p) => Ok(p),
            Placed::Moved(p) => {
                let path = p.info.path.clone();
                pending.push(*p);
                Ok(path)
            }
        }
    }

    fn prepare_path(
        &self,
        name: &str,
        source: &Path,
        options: AddOptions,
        references: &BTreeSet<StorePath>,
        tmp: &Path,
        fsync: bool,
    ) -> Result<ValidPathInfo, StoreError> {
        crate::store_path::check_name(name).map_err(crate::store_path::StorePathError::from)?;
        let meta = std::fs::symlink_metadata(source).map_err(io_err("cannot stat", source))?;
        if options.method == FileIngestionMethod::Flat && !meta.file_type().is_file() {
            return Err(StoreError::NotARegularFile {
                path: source.to_path_buf(),
            });
        }
        copy_tree(source, &meta, tmp, fsync)?;
        canonicalise(tmp)?;
        let extra = match (options.method, options.algo) {
            (FileIngestionMethod::Recursive, HashAlgo::Sha256) => None,
            (FileIngestionMethod::Recursive, a) => Some(a),
            (FileIngestionMethod::Flat, _) => None,
        };
        let (nar_hash, nar_size, extra) = self.hash_nar_of(tmp, extra)?;
        let ca_hash = match options.method {
            FileIngestionMethod::Recursive => extra.unwrap_or(nar_hash),
            FileIngestionMethod::Flat => {
                let mut h = Hasher::new(options.algo);
                let mut f = File::open(tmp).map_err(io_err("cannot read", tmp))?;
                std::io::copy(&mut f, &mut h).map_err(io_err("cannot read", tmp))?;
                h.finish()
            }
        };
        let path = self.store_dir.make_fixed_output_path(
            name,
            options.method,
            &ca_hash,
            references,
            false,
        )?;
        Ok(ValidPathInfo {
            path,
            deriver: None,
            nar_hash,
            references: references.clone(),
            registration_time: now_secs(),
            nar_size,
            ultimate: false,
            sigs: Vec::new(),
            ca: Some(ContentAddress::Fixed {
                method: options.method,
                hash: ca_hash,
            }),
        })
    }

    /// Writes a text object straight to its place under its `<path>.lock` (as CppNix's
    /// `addTextToStore`: no temporary file and rename; until registration an interrupted
    /// write is an unregistered object, which the next add replaces) and pushes it onto
    /// `pending`.
    fn add_text_in_place(
        &self,
        path: StorePath,
        hash: Hash,
        contents: &[u8],
        references: &BTreeSet<StorePath>,
        fsync: bool,
        pending: &mut Batch,
    ) -> Result<StorePath, StoreError> {
        let real = self.real_path(&path);
        let mut lock_name = real.as_os_str().to_os_string();
        lock_name.push(".lock");
        let lock = PathLock::acquire(Path::new(&lock_name), LockMode::Wait, OnRelease::Delete)?
            .expect("a blocking lock always returns a lock");
        if self.db_valid(&path)? {
            return Ok(path);
        }
        for r in references {
            if r != &path && !pending.contains(r) && !self.db_valid(r)? {
                return Err(StoreError::MissingReference {
                    path: self.store_dir.display(&path),
                    reference: self.store_dir.display(r),
                });
            }
        }
        if std::fs::symlink_metadata(&real).is_ok() {
            remove_tree(&real)?;
        }
        if let Err(e) = write_canonical_file(&real, contents, fsync) {
            let _ = std::fs::remove_file(&real);
            return Err(e);
        }
        let (nar_hash, nar_size) = regular_file_nar_hash(contents);
        let drv_outputs = if path.name().ends_with(".drv") {
            parse_drv_outputs(contents)
        } else {
            None
        };
        let info = ValidPathInfo {
            path: path.clone(),
            deriver: None,
            nar_hash,
            references: references.clone(),
            registration_time: now_secs(),
            nar_size,
            ultimate: false,
            sigs: Vec::new(),
            ca: Some(ContentAddress::Text(hash)),
        };
        pending.push(Pending {
            info,
            drv_outputs,
            _lock: lock,
        });
        Ok(path)
    }

    fn drv_outputs_of(
        &self,
        path: &StorePath,
        real: &Path,
    ) -> Vec<(String, Vec<(String, String)>)> {
        if !path.name().ends_with(".drv") {
            return Vec::new();
        }
        match std::fs::read(real) {
            Ok(text) => match parse_drv_outputs(&text) {
                Some(outs) => vec![(self.store_dir.display(path), outs)],
                None => Vec::new(),
            },
            Err(_) => Vec::new(),
        }
    }

    /// Registers paths whose files are already in place (e.g. written by a builder), with
    /// their infos, in one transaction.
    ///
    /// # Errors
    /// Database errors; an invalid reference.
    pub fn register_valid_paths(&self, infos: &[ValidPathInfo]) -> Result<(), StoreError> {
        self.settle()?;
        let rows: Vec<PathRow> = infos.iter().map(|i| self.row_from_info(i)).collect();
        let drv: Vec<_> = infos
            .iter()
            .flat_map(|i| self.drv_outputs_of(&i.path, &self.real_path(&i.path)))
            .collect();
        self.db().register(&rows, &drv)?;
        Ok(())
    }

    fn hash_nar_of(
        &self,
        path: &Path,
        extra: Option<HashAlgo>,
    ) -> Result<(Hash, u64, Option<Hash>), StoreError> {
        let mut tee = Tee {
            nar: Hasher::new(HashAlgo::Sha256),
            extra: extra.map(Hasher::new),
        };
        let size = nix_nar::dump_path(path, &mut tee).map_err(|source| StoreError::Nar {
            path: path.to_path_buf(),
            source,
        })?;
        Ok((tee.nar.finish(), size, tee.extra.map(Hasher::finish)))
    }
}

struct Tee {
    nar: Hasher,
    extra: Option<Hasher>,
}

impl Write for Tee {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.nar.update(buf);
        if let Some(e) = &mut self.extra {
            e.update(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Store for LocalStore {
    fn store_dir(&self) -> &StoreDir {
        &self.store_dir
    }

    fn is_valid_path(&self, path: &StorePath) -> Result<bool, StoreError> {
        if self.deferred().batch.contains(path) {
            return Ok(true);
        }
        self.db_valid(path)
    }

    fn query_path_info(&self, path: &StorePath) -> Result<Option<ValidPathInfo>, StoreError> {
        {
            let d = self.deferred();
            if d.batch.contains(path) {
                let p = d.batch.pending.iter().find(|p| &p.info.path == path);
                return Ok(p.map(|p| p.info.clone()));
            }
        }
        let row = self.db().query_path(&self.store_dir.display(path))?;
        row.map(|r| self.info_from_row(r)).transpose()
    }

    fn query_referrers(&self, path: &StorePath) -> Result<BTreeSet<StorePath>, StoreError> {
        self.settle()?;
        let rows = self.db().referrers(&self.store_dir.display(path))?;
        rows.iter().map(|p| self.parse_full(p)).collect()
    }

    fn query_valid_derivers(&self, path: &StorePath) -> Result<BTreeSet<StorePath>, StoreError> {
        self.settle()?;
        let rows = self.db().valid_derivers(&self.store_dir.display(path))?;
        rows.iter().map(|p| self.parse_full(p)).collect()
    }

    fn query_derivation_outputs(
        &self,
        drv: &StorePath,
    ) -> Result<BTreeMap<String, StorePath>, StoreError> {
        self.settle()?;
        let rows = self.db().derivation_outputs(&self.store_dir.display(drv))?;
        rows.into_iter()
            .map(|(n, p)| Ok((n, self.parse_full(&p)?)))
            .collect()
    }

    fn query_path_from_hash_part(&self, hash_part: &str) -> Result<Option<StorePath>, StoreError> {
        self.settle()?;
        let prefix = format!("{}/{hash_part}", self.store_dir.as_str());
        let found = self.db().path_from_prefix(&prefix)?;
        found
            .filter(|p| p.as_bytes().get(prefix.len()) == Some(&b'-'))
            .map(|p| self.parse_full(&p))
            .transpose()
    }

    fn query_all_valid_paths(&self) -> Result<BTreeSet<StorePath>, StoreError> {
        self.settle()?;
        let rows = self.db().all_paths()?;
        rows.iter().map(|p| self.parse_full(p)).collect()
    }

    fn add_path(
        &self,
        name: &str,
        source: &Path,
        options: AddOptions,
        references: &BTreeSet<StorePath>,
    ) -> Result<StorePath, StoreError> {
        let item = AddItem::Path {
            name,
            source,
            options,
            references,
        };
        let mut out = self.add_items(&[item], self.single_sync(), &mut |_, _| {})?;
        Ok(out.pop().expect("one item gives one path"))
    }

    fn add_text(
        &self,
        name: &str,
        contents: &[u8],
        references: &BTreeSet<StorePath>,
    ) -> Result<StorePath, StoreError> {
        let item = AddItem::Text {
            name,
            contents,
            references,
        };
        let mut out = self.add_items(&[item], self.single_sync(), &mut |_, _| {})?;
        Ok(out.pop().expect("one item gives one path"))
    }

    fn add_nar(&self, info: &ValidPathInfo, nar: &mut dyn Read) -> Result<(), StoreError> {
        let mut deferred = self.deferred();
        let defer = deferred.on && self.single_sync() == SyncMode::None;
        let _gc = self.gc_shared_lock()?;
        self.add_temp_root(&info.path)?;
        if deferred.batch.contains(&info.path) || self.db_valid(&info.path)? {
            return Ok(());
        }
        // Restore straight from the stream into a temporary directory, hashing the bytes as
        // they are read; the NAR is checked against `info` before anything is moved into place.
        let tmp = self.temp_dir();
        let mut hashing = nix_nar::hash::HashingReader::new(nar);
        let options = nix_nar::restore::Options {
            fsync: self.durability == Durability::Full,
            ..Default::default()
        };
        let restored =
            nix_nar::restore::restore(std::io::BufReader::new(&mut hashing), &tmp, &options)
                .map_err(|e| restore_error(&tmp, e));
        let (_, digest, size) = hashing.finish();
        let checked = restored.and_then(|()| {
            let got = Hash::new(HashAlgo::Sha256, &digest)
                .expect("a SHA-256 digest has the length of a SHA-256 digest");
            let full = self.store_dir.display(&info.path);
            if got != info.nar_hash {
                return Err(StoreError::HashMismatch {
                    path: full,
                    expected: info.nar_hash.to_typed_nix32(),
                    got: got.to_typed_nix32(),
                });
            }
            if info.nar_size != 0 && size != info.nar_size {
                return Err(StoreError::SizeMismatch {
                    path: full,
                    expected: info.nar_size,
                    got: size,
                });
            }
            canonicalise(&tmp)
        });
        if let Err(e) = checked {
            let _ = remove_tree(&tmp);
            return Err(e);
        }
        let mut info = info.clone();
        info.nar_size = size;
        if defer {
            if let Placed::Moved(p) = self.place(&tmp, info, None, &deferred.batch)? {
                deferred.batch.push(*p);
            }
            if deferred.batch.len() >= BATCH_CHUNK {
                return self.flush(&mut deferred.batch, SyncMode::None);
            }
            if !deferred.batch.is_empty() && !deferred.holds_gc {
                self.gc_hold()?;
                deferred.holds_gc = true;
            }
            return Ok(());
        }
        let mut pending = Batch::default();
        if let Placed::Moved(p) = self.place(&tmp, info, None, &pending)? {
            pending.push(*p);
        }
        self.flush(&mut pending, self.single_sync())
    }

    fn nar_from_path(&self, path: &StorePath, out: &mut dyn Write) -> Result<u64, StoreError> {
        if !self.is_valid_path(path)? {
            return Err(self.invalid(path));
        }
        let real = self.real_path(path);
        nix_nar::dump_path(&real, out).map_err(|source| StoreError::Nar { path: real, source })
    }

    fn delete_path(&self, path: &StorePath) -> Result<(), StoreError> {
        self.settle()?;
        self.forget_registered();
        let full = self.store_dir.display(path);
        if !self.is_valid_path(path)? {
            return Err(self.invalid(path));
        }
        if self.query_referrers(path)?.iter().any(|r| r != path) {
            return Err(StoreError::StillAlive { path: full });
        }
        self.db().invalidate(&[full]).map_err(|e| match e {
            db::DbError::StillReferenced { path } => StoreError::StillAlive { path },
            e => e.into(),
        })?;
        let real = self.real_path(path);
        if std::fs::symlink_metadata(&real).is_ok() {
            remove_tree(&real)?;
        }
        Ok(())
    }

    fn verify(&self, check_contents: bool, repair: bool) -> Result<VerifyReport, StoreError> {
        self.settle()?;
        self.forget_registered();
        let mut report = VerifyReport {
            db_problems: self.db().check()?,
            ..VerifyReport::default()
        };
        for path in self.query_all_valid_paths()? {
            let real = self.real_path(&path);
            if std::fs::symlink_metadata(&real).is_err() {
                if self.query_referrers(&path)?.iter().all(|r| r == &path) {
                    self.db().invalidate(&[self.store_dir.display(&path)])?;
                    report.invalidated.push(path);
                } else {
                    report.missing.push(path);
                }
                continue;
            }
            if !check_contents {
                continue;
            }
            let Some(info) = self.query_path_info(&path)? else {
                continue;
            };
            let (got, size, _) = self.hash_nar_of(&real, None)?;
            if got != info.nar_hash {
                report.hash_mismatches.push((
                    path,
                    info.nar_hash.to_typed_nix32(),
                    got.to_typed_nix32(),
                ));
            } else if info.nar_size != size {
                if repair {
                    self.db().update_hash(
                        &self.store_dir.display(&path),
                        &got.to_typed_base16(),
                        size as i64,
                    )?;
                }
                report.size_fixed.push(path);
            }
        }
        Ok(report)
    }
}

impl Drop for LocalStore {
    fn drop(&mut self) {
        // Deferred objects are in place: register them (errors cannot be reported here; the
        // objects then stay unregistered, as after a killed process).
        let _ = self.flush_registrations();
    }
}

/// The SHA-256 and size of the NAR of one regular, non-executable file with `contents`
/// (what `dump_path` of a text object gives), without reading it back.
fn regular_file_nar_hash(contents: &[u8]) -> (Hash, u64) {
    let mut head = Vec::with_capacity(96);
    for t in [
        &b"nix-archive-1"[..],
        b"(",
        b"type",
        b"regular",
        b"contents",
    ] {
        super::put_str(&mut head, t);
    }
    head.extend_from_slice(&(contents.len() as u64).to_le_bytes());
    let mut tail = vec![0u8; (8 - contents.len() % 8) % 8];
    super::put_str(&mut tail, b")");
    let mut h = Hasher::new(HashAlgo::Sha256);
    h.update(&head);
    h.update(contents);
    h.update(&tail);
    let size = (head.len() + contents.len() + tail.len()) as u64;
    (h.finish(), size)
}

/// Parses the output list of a `.drv` ATerm: `Derive([("out","/nix/store/…","",""),…],…`.
fn parse_drv_outputs(text: &[u8]) -> Option<Vec<(String, String)>> {
    let text = std::str::from_utf8(text).ok()?;
    let mut rest = text.strip_prefix("Derive([")?;
    let mut out = Vec::new();
    if let Some(r) = rest.strip_prefix(']') {
        let _ = r;
        return Some(out);
    }
    loop {
        rest = rest.strip_prefix("(\"")?;
        let (name, r) = rest.split_once('"')?;
        let r = r.strip_prefix(",\"")?;
        let (path, r) = r.split_once('"')?;
        let r = r.strip_prefix(",\"")?;
        let (_, r) = r.split_once('"')?;
        let r = r.strip_prefix(",\"")?;
        let (_, r) = r.split_once('"')?;
        let r = r.strip_prefix(')')?;
        if !path.is_empty() {
            out.push((name.to_string(), path.to_string()));
        }
        if let Some(r) = r.strip_prefix(',') {
            rest = r;
        } else {
            r.strip_prefix(']')?;
            return Some(out);
        }
    }
}

/// Writes a new regular file already canonical (mode `0444`, times 1) through its open
/// descriptor, without looking its path up again.
fn write_canonical_file(path: &Path, contents: &[u8], fsync: bool) -> Result<(), StoreError> {
    let mut f = create_file(path, 0o444)?;
    f.write_all(contents)
        .map_err(io_err("cannot write", path))?;
    // the mode given at creation is reduced by the umask
    rustix::fs::fchmod(&f, rustix::fs::Mode::from_raw_mode(0o444)).map_err(|e| StoreError::Io {
        op: "cannot chmod",
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    let one = rustix::fs::Timespec {
        tv_sec: 1,
        tv_nsec: 0,
    };
    let times = rustix::fs::Timestamps {
        last_access: one,
        last_modification: one,
    };
    rustix::fs::futimens(&f, &times).map_err(|e| StoreError::Io {
        op: "cannot set the modification time of",
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    if fsync {
        f.sync_all().map_err(io_err("cannot sync", path))?;
    }
    Ok(())
}

/// Creates a new file with `mode` (its final, canonical mode: the open descriptor can still
/// write), so canonicalising needs no `chmod`.
fn create_file(path: &Path, mode: u32) -> Result<File, StoreError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(io_err("cannot create", path))
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(io_err("cannot sync", dir))
}

/// Copies a file system object (regular files, symlinks, directories; execute bit kept),
/// fsyncing the files when `fsync`. `meta` is `src`'s `symlink_metadata`.
fn copy_tree(
    src: &Path,
    meta: &std::fs::Metadata,
    dst: &Path,
    fsync: bool,
) -> Result<(), StoreError> {
    let ft = meta.file_type();
    if ft.is_symlink() {
        let target = std::fs::read_link(src).map_err(io_err("cannot read link", src))?;
        std::os::unix::fs::symlink(target, dst).map_err(io_err("cannot create symlink", dst))?;
    } else if ft.is_file() {
        let mut from = File::open(src).map_err(io_err("cannot open", src))?;
        let exec = meta.permissions().mode() & 0o100 != 0;
        let mut to = create_file(dst, if exec { 0o555 } else { 0o444 })?;
        std::io::copy(&mut from, &mut to).map_err(io_err("cannot copy to", dst))?;
        if fsync {
            to.sync_all().map_err(io_err("cannot sync", dst))?;
        }
    } else if ft.is_dir() {
        std::fs::create_dir(dst).map_err(io_err("cannot create", dst))?;
        for e in std::fs::read_dir(src).map_err(io_err("cannot read directory", src))? {
            let e = e.map_err(io_err("cannot read directory", src))?;
            let from = e.path();
            let m = std::fs::symlink_metadata(&from).map_err(io_err("cannot stat", &from))?;
            copy_tree(&from, &m, &dst.join(e.file_name()), fsync)?;
        }
    } else {
        return Err(StoreError::UnsupportedFileType {
            path: src.to_path_buf(),
        });
    }
    Ok(())
}

/// CppNix's canonicalisation: mode 0444, or 0555 for directories and files with the owner
/// execute bit; mtime 1 (symlinks included). Children first, so directories end read-only.
pub(crate) fn canonicalise(path: &Path) -> Result<(), StoreError> {
    let meta = std::fs::symlink_metadata(path).map_err(io_err("cannot stat", path))?;
    let ft = meta.file_type();
    if ft.is_dir() {
        for e in std::fs::read_dir(path).map_err(io_err("cannot read directory", path))? {
            let e = e.map_err(io_err("cannot read directory", path))?;
            canonicalise(&e.path())?;
        }
    }
    if !ft.is_symlink() {
        let mode = meta.permissions().mode() & 0o7777;
        let want = if ft.is_dir() || mode & 0o100 != 0 {
            0o555
        } else {
            0o444
        };
        if mode != want {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(want))
                .map_err(io_err("cannot chmod", path))?;
        }
    }
    let one = rustix::fs::Timestamps {
        last_access: rustix::fs::Timespec {
            tv_sec: 1,
            tv_nsec: 0,
        },
        last_modification: rustix::fs::Timespec {
            tv_sec: 1,
            tv_nsec: 0,
        },
    };
    rustix::fs::utimensat(
        rustix::fs::CWD,
        path,
        &one,
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .map_err(|e| StoreError::Io {
        op: "cannot set the modification time of",
        path: path.to_path_buf(),
        source: e.into(),
    })
}

/// Removes a (possibly read-only) tree.
pub(crate) fn remove_tree(path: &Path) -> Result<(), StoreError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err("cannot stat", path)(e)),
    };
    if meta.is_dir() {
        if meta.permissions().mode() & 0o200 == 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
                .map_err(io_err("cannot chmod", path))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_drv_outputs() {
        let t = br#"Derive([("dev","/nix/store/a-x-dev","",""),("out","/nix/store/b-x","","")],[],[],"x","y",[],[])"#;
        assert_eq!(
            parse_drv_outputs(t),
            Some(vec![
                ("dev".into(), "/nix/store/a-x-dev".into()),
                ("out".into(), "/nix/store/b-x".into())
            ])
        );
        assert_eq!(parse_drv_outputs(b"nonsense"), None);
    }

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn sources(dir: &Path, n: usize) -> std::io::Result<Vec<PathBuf>> {
        (0..n)
            .map(|i| {
                let p = dir.join(format!("f{i}"));
                std::fs::write(&p, format!("small {i}\n"))?;
                Ok(p)
            })
            .collect()
    }

    #[test]
    fn deferred_registration_matches_immediate() -> TestResult {
        // a derivation-like text with outputs, another referring to it, a source by NAR
        let none = BTreeSet::new();
        let drv = br#"Derive([("out","/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple","","")],[],[],"x86_64-linux","/bin/sh",[],[])"#;
        let src = testkit::tempdir();
        std::fs::write(src.path().join("f"), b"data")?;
        let add_all = |store: &LocalStore| -> Result<Vec<StorePath>, StoreError> {
            let a = store.add_text("simple.drv", drv, &none)?;
            let b = store.add_text("b", b"refers", &BTreeSet::from([a.clone()]))?;
            let c = store.add_path("f", &src.path().join("f"), AddOptions::default(), &none)?;
            let again = store.add_text("simple.drv", drv, &none)?;
            Ok(vec![a, b, c, again])
        };
        let d = testkit::tempdir();
        let deferred = LocalStore::open(d.path())?;
        deferred.set_deferred_registration(true)?;
        let got = add_all(&deferred)?;
        assert_eq!(got[0], got[3]);
        // known to this store object, not yet in the database
        assert!(deferred.is_valid_path(&got[1])?);
        assert_eq!(
            deferred.query_path_info(&got[1])?.map(|i| i.references),
            Some(BTreeSet::from([got[0].clone()]))
        );
        assert!(!LocalStore::open(d.path())?.is_valid_path(&got[0])?);
        // a query the database answers registers first
        assert_eq!(
            deferred.query_referrers(&got[0])?,
            BTreeSet::from([got[1].clone()])
        );
        assert!(LocalStore::open(d.path())?.is_valid_path(&got[1])?);
        let more = deferred.add_text("more", b"x", &none)?;
        drop(deferred); // dropping registers the rest
        let i = testkit::tempdir();
        let immediate = LocalStore::open(i.path())?;
        assert_eq!(add_all(&immediate)?, got);
        immediate.add_text("more", b"x", &none)?;
        let reopened = LocalStore::open(d.path())?;
        assert!(reopened.is_valid_path(&more)?);
        assert_eq!(
            reopened.query_all_valid_paths()?,
            immediate.query_all_valid_paths()?
        );
        for p in &got {
            let (x, y) = (reopened.query_path_info(p)?, immediate.query_path_info(p)?);
            assert_eq!(
                x.map(|i| (i.nar_hash, i.nar_size, i.references, i.ca)),
                y.map(|i| (i.nar_hash, i.nar_size, i.references, i.ca))
            );
        }
        assert_eq!(
            reopened.query_derivation_outputs(&got[0])?,
            immediate.query_derivation_outputs(&got[0])?
        );
        assert!(reopened.verify(true, false)?.is_clean());
        // no lock files or temporary files are left
        let names: Vec<String> = std::fs::read_dir(reopened.layout().real_store_dir())?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names
                .iter()
                .all(|n| !n.ends_with(".lock") && !n.starts_with(".nixrs-tmp")),
            "{names:?}"
        );
        if let Some(bin) = testkit::reference("nix-store") {
            let root = d.path().to_str().ok_or("utf8")?;
            let out = testkit::run(&bin, ["--store", root, "--verify", "--check-contents"]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!String::from_utf8_lossy(&out.stderr).contains("modified"));
            let q = testkit::run(
                &bin,
                [
                    "--store",
                    root,
                    "-q",
                    "--references",
                    &reopened.store_dir().display(&got[1]),
                ],
            );
            assert_eq!(
                String::from_utf8_lossy(&q.stdout).trim(),
                reopened.store_dir().display(&got[0])
            );
        }
        Ok(())
    }

    #[test]
    fn batch_gives_the_same_paths_as_single_adds() -> TestResult {
        let src = testkit::tempdir();
        let files = sources(src.path(), BATCH_CHUNK + 3)?;
        // a directory, an executable and a duplicate too
        let tree = src.path().join("tree");
        std::fs::create_dir_all(tree.join("sub"))?;
        std::fs::write(tree.join("sub/x"), b"x")?;
        std::fs::write(tree.join("run"), b"#!/bin/sh\n")?;
        std::fs::set_permissions(tree.join("run"), std::fs::Permissions::from_mode(0o755))?;
        let mut all = files.clone();
        all.push(tree);
        all.push(files[0].clone());
        let none = BTreeSet::new();
        let name_of = |p: &PathBuf| p.file_name().and_then(|n| n.to_str()).map(str::to_string);
        let names: Vec<String> = all.iter().filter_map(name_of).collect();
        let items: Vec<AddItem<'_>> = all
            .iter()
            .zip(&names)
            .map(|(p, name)| AddItem::Path {
                name,
                source: p,
                options: AddOptions::default(),
                references: &none,
            })
            .collect();
        let a = testkit::tempdir();
        let batch = LocalStore::open(a.path())?;
        let mut seen = Vec::new();
        let got = batch.add_many_with(&items, &mut |i, p| seen.push((i, p.clone())))?;
        assert_eq!(got.len(), all.len());
        assert_eq!(
            seen.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            (0..all.len()).collect::<Vec<_>>()
        );
        assert_eq!(got.first(), got.last());
        let b = testkit::tempdir();
        let single = LocalStore::open(b.path())?;
        for (p, name) in all.iter().zip(&names) {
            let one = single.add_path(name, p, AddOptions::default(), &none)?;
            assert_eq!(
                batch.query_path_info(&one)?.map(|i| i.nar_hash),
                single.query_path_info(&one)?.map(|i| i.nar_hash)
            );
        }
        assert_eq!(
            batch.query_all_valid_paths()?,
            single.query_all_valid_paths()?
        );
        assert!(batch.verify(true, false)?.is_clean());
        // no temporary directories are left behind
        let left: Vec<_> = std::fs::read_dir(batch.layout().real_store_dir())?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".nixrs-tmp"))
            .collect();
        assert!(left.is_empty());
        if let Some(bin) = testkit::reference("nix-store") {
            let root = a.path().to_str().ok_or("utf8")?;
            let out = testkit::run(&bin, ["--store", root, "--verify", "--check-contents"]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                out.stderr.is_empty() || !String::from_utf8_lossy(&out.stderr).contains("modified")
            );
        }
        Ok(())
    }

    #[test]
    fn full_durability_adds_the_same_objects() -> TestResult {
        let src = testkit::tempdir();
        let files = sources(src.path(), 3)?;
        let none = BTreeSet::new();
        let a = testkit::tempdir();
        let mut full = LocalStore::open(a.path())?;
        full.set_durability(Durability::Full);
        let b = testkit::tempdir();
        let plain = LocalStore::open(b.path())?;
        for store in [&full, &plain] {
            store.add_path("f0", &files[0], AddOptions::default(), &none)?;
            store.add_text("t", b"text", &none)?;
            store.add_many(&[AddItem::Path {
                name: "f1",
                source: &files[1],
                options: AddOptions::default(),
                references: &none,
            }])?;
        }
        let c = testkit::tempdir();
        let mut imported = LocalStore::open(c.path())?;
        imported.set_durability(Durability::Full);
        for p in full.query_all_valid_paths()? {
            let mut nar = Vec::new();
            full.nar_from_path(&p, &mut nar)?;
            let info = full.query_path_info(&p)?.ok_or("info")?;
            imported.add_nar(&info, &mut &nar[..])?;
        }
        assert_eq!(
            full.query_all_valid_paths()?,
            plain.query_all_valid_paths()?
        );
        assert_eq!(
            full.query_all_valid_paths()?,
            imported.query_all_valid_paths()?
        );
        for s in [&full, &plain, &imported] {
            assert!(s.verify(true, false)?.is_clean());
        }
        Ok(())
    }

    #[test]
    fn batch_items_reference_earlier_items_and_failures_keep_the_prefix() -> TestResult {
        let a = testkit::tempdir();
        let store = LocalStore::open(a.path())?;
        let none = BTreeSet::new();
        let first = store.store_dir.make_text_path(
            "first",
            &Hash::digest_bytes(HashAlgo::Sha256, b"1"),
            &none,
        )?;
        let refs = BTreeSet::from([first.clone()]);
        let missing = store.store_dir.make_text_path(
            "ghost",
            &Hash::digest_bytes(HashAlgo::Sha256, b"boo"),
            &none,
        )?;
        let bad = BTreeSet::from([missing]);
        let items = [
            AddItem::Text {
                name: "first",
                contents: b"1",
                references: &none,
            },
            AddItem::Text {
                name: "second",
                contents: b"2",
                references: &refs,
            },
            AddItem::Text {
                name: "third",
                contents: b"3",
                references: &bad,
            },
            AddItem::Text {
                name: "fourth",
                contents: b"4",
                references: &none,
            },
        ];
        let mut seen = Vec::new();
        let err = store.add_many_with(&items, &mut |i, _| seen.push(i));
        assert!(
            matches!(err, Err(StoreError::MissingReference { .. })),
            "{err:?}"
        );
        assert_eq!(seen, vec![0, 1]);
        let valid = store.query_all_valid_paths()?;
        assert_eq!(valid.len(), 2);
        let second = valid
            .iter()
            .find(|p| p.name() == "second")
            .ok_or("second")?;
        assert_eq!(store.query_references(second)?, refs);
        assert!(store.verify(true, false)?.is_clean());
        Ok(())
    }
}
