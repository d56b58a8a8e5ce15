//! A local store compatible with CppNix 2.8: store objects in `R/nix/store`, metadata in the
//! SQLite database `R/nix/var/nix/db/db.sqlite` (see [`db`]), GC roots, profiles and temp
//! roots under `R/nix/var/nix` (see [`layout`]).
//!
//! Adding a path is atomic: the object is written into a temporary directory inside the real
//! store directory, canonicalised (modes `0444`/`0555`, mtime 1), hashed, and renamed into
//! place under a lock on `<path>.lock`; then it is registered with its references in one
//! database transaction. Until registration the path is protected by a temp root
//! (`temproots/<pid>`) and a shared lock on `gc.lock`, so a concurrent garbage collection
//! (ours, which takes `gc.lock` exclusively) never deletes it.
//!
//! Like CppNix, the process holds a shared lock on `db/big-lock` while the store is open.

pub mod db;
pub mod gc;
pub mod layout;
pub mod lock;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use self::db::{Db, PathRow};
use self::layout::Layout;
use self::lock::{LockMode, OnRelease, PathLock};
use super::{nar_io, now_secs, AddOptions, Store, StoreError, ValidPathInfo, VerifyReport};
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
    counter: AtomicU64,
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
            counter: AtomicU64::new(0),
        })
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
            registration_time: info.registration_time,
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

    /// Takes a shared lock on `gc.lock` (held while a path is being added, so our garbage
    /// collector, which locks it exclusively, waits) — CppNix's `addTempRoot` protocol.
    fn gc_shared_lock(&self) -> Result<File, StoreError> {
        let p = self.layout.gc_lock();
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&p)
            .map_err(io_err("cannot open", &p))?;
        lock::flock(&f, lock::FlockOperation::LockShared).map_err(io_err("cannot lock", &p))?;
        Ok(f)
    }

    /// Records `path` as a temporary root of this process (`temproots/<pid>`), which the
    /// garbage collector honours while this process lives.
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
        let mut f = lock.file();
        f.write_all(&entry)
            .map_err(io_err("cannot write", lock.path()))?;
        Ok(())
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

    /// Moves the prepared object `tmp` into place as `path` (unless already valid) and
    /// registers `info`. `tmp` is removed in every case.
    fn commit(&self, tmp: &Path, info: ValidPathInfo) -> Result<StorePath, StoreError> {
        let result = self.commit_inner(tmp, info);
        if std::fs::symlink_metadata(tmp).is_ok() {
            let _ = remove_tree(tmp);
        }
        result
    }

    fn commit_inner(&self, tmp: &Path, info: ValidPathInfo) -> Result<StorePath, StoreError> {
        let path = info.path.clone();
        self.add_temp_root(&path)?;
        let real = self.real_path(&path);
        let mut lock_name = real.as_os_str().to_os_string();
        lock_name.push(".lock");
        let _lock = PathLock::acquire(Path::new(&lock_name), LockMode::Wait, OnRelease::Delete)?
            .expect("a blocking lock always returns a lock");
        if self.is_valid_path(&path)? {
            return Ok(path);
        }
        for r in &info.references {
            if r != &path && !self.is_valid_path(r)? {
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
        sync_dir(&self.layout.real_store_dir())?;
        let drv_outputs = self.drv_outputs_of(&path, &real);
        let row = self.row_from_info(&info);
        self.db().register(&[row], &drv_outputs)?;
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
        Ok(self.db().is_valid(&self.store_dir.display(path))?)
    }

    fn query_path_info(&self, path: &StorePath) -> Result<Option<ValidPathInfo>, StoreError> {
        let row = self.db().query_path(&self.store_dir.display(path))?;
        row.map(|r| self.info_from_row(r)).transpose()
    }

    fn query_referrers(&self, path: &StorePath) -> Result<BTreeSet<StorePath>, StoreError> {
        let rows = self.db().referrers(&self.store_dir.display(path))?;
        rows.iter().map(|p| self.parse_full(p)).collect()
    }

    fn query_valid_derivers(&self, path: &StorePath) -> Result<BTreeSet<StorePath>, StoreError> {
        let rows = self.db().valid_derivers(&self.store_dir.display(path))?;
        rows.iter().map(|p| self.parse_full(p)).collect()
    }

    fn query_derivation_outputs(
        &self,
        drv: &StorePath,
    ) -> Result<BTreeMap<String, StorePath>, StoreError> {
        let rows = self.db().derivation_outputs(&self.store_dir.display(drv))?;
        rows.into_iter()
            .map(|(n, p)| Ok((n, self.parse_full(&p)?)))
            .collect()
    }

    fn query_path_from_hash_part(&self, hash_part: &str) -> Result<Option<StorePath>, StoreError> {
        let prefix = format!("{}/{hash_part}", self.store_dir.as_str());
        let found = self.db().path_from_prefix(&prefix)?;
        found
            .filter(|p| p.as_bytes().get(prefix.len()) == Some(&b'-'))
            .map(|p| self.parse_full(&p))
            .transpose()
    }

    fn query_all_valid_paths(&self) -> Result<BTreeSet<StorePath>, StoreError> {
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
        crate::store_path::check_name(name).map_err(crate::store_path::StorePathError::from)?;
        let _gc = self.gc_shared_lock()?;
        let tmp = self.temp_dir();
        let prepared = (|| {
            let meta = std::fs::symlink_metadata(source).map_err(io_err("cannot stat", source))?;
            if options.method == FileIngestionMethod::Flat && !meta.file_type().is_file() {
                return Err(StoreError::NotARegularFile {
                    path: source.to_path_buf(),
                });
            }
            copy_tree(source, &tmp)?;
            canonicalise(&tmp)?;
            let extra = match (options.method, options.algo) {
                (FileIngestionMethod::Recursive, HashAlgo::Sha256) => None,
                (FileIngestionMethod::Recursive, a) => Some(a),
                (FileIngestionMethod::Flat, _) => None,
            };
            let (nar_hash, nar_size, extra) = self.hash_nar_of(&tmp, extra)?;
            let ca_hash = match options.method {
                FileIngestionMethod::Recursive => extra.unwrap_or(nar_hash),
                FileIngestionMethod::Flat => {
                    let mut h = Hasher::new(options.algo);
                    let mut f = File::open(&tmp).map_err(io_err("cannot read", &tmp))?;
                    std::io::copy(&mut f, &mut h).map_err(io_err("cannot read", &tmp))?;
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
        })();
        match prepared {
            Ok(info) => self.commit(&tmp, info),
            Err(e) => {
                let _ = remove_tree(&tmp);
                Err(e)
            }
        }
    }

    fn add_text(
        &self,
        name: &str,
        contents: &[u8],
        references: &BTreeSet<StorePath>,
    ) -> Result<StorePath, StoreError> {
        let hash = Hash::digest_bytes(HashAlgo::Sha256, contents);
        let path = self.store_dir.make_text_path(name, &hash, references)?;
        let _gc = self.gc_shared_lock()?;
        self.add_temp_root(&path)?;
        if self.is_valid_path(&path)? {
            return Ok(path);
        }
        let tmp = self.temp_dir();
        let prepared = (|| {
            write_file(&tmp, contents)?;
            canonicalise(&tmp)?;
            let (nar_hash, nar_size, _) = self.hash_nar_of(&tmp, None)?;
            Ok(ValidPathInfo {
                path: path.clone(),
                deriver: None,
                nar_hash,
                references: references.clone(),
                registration_time: now_secs(),
                nar_size,
                ultimate: false,
                sigs: Vec::new(),
                ca: Some(ContentAddress::Text(hash)),
            })
        })();
        match prepared {
            Ok(info) => self.commit(&tmp, info),
            Err(e) => {
                let _ = remove_tree(&tmp);
                Err(e)
            }
        }
    }

    fn add_nar(&self, info: &ValidPathInfo, nar: &mut dyn Read) -> Result<(), StoreError> {
        let _gc = self.gc_shared_lock()?;
        self.add_temp_root(&info.path)?;
        if self.is_valid_path(&info.path)? {
            return Ok(());
        }
        let parsed = nar_io::read_nar(nar)?;
        let got = Hash::digest_bytes(HashAlgo::Sha256, &parsed.bytes);
        let full = self.store_dir.display(&info.path);
        if got != info.nar_hash {
            return Err(StoreError::HashMismatch {
                path: full,
                expected: info.nar_hash.to_typed_nix32(),
                got: got.to_typed_nix32(),
            });
        }
        if info.nar_size != 0 && parsed.bytes.len() as u64 != info.nar_size {
            return Err(StoreError::SizeMismatch {
                path: full,
                expected: info.nar_size,
                got: parsed.bytes.len() as u64,
            });
        }
        let tmp = self.temp_dir();
        let prepared = (|| {
            parsed.restore(&tmp)?;
            sync_tree(&tmp)?;
            canonicalise(&tmp)
        })();
        if let Err(e) = prepared {
            let _ = remove_tree(&tmp);
            return Err(e);
        }
        let mut info = info.clone();
        info.nar_size = parsed.bytes.len() as u64;
        self.commit(&tmp, info).map(|_| ())
    }

    fn nar_from_path(&self, path: &StorePath, out: &mut dyn Write) -> Result<u64, StoreError> {
        if !self.is_valid_path(path)? {
            return Err(self.invalid(path));
        }
        let real = self.real_path(path);
        nix_nar::dump_path(&real, out).map_err(|source| StoreError::Nar { path: real, source })
    }

    fn delete_path(&self, path: &StorePath) -> Result<(), StoreError> {
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

fn write_file(path: &Path, contents: &[u8]) -> Result<(), StoreError> {
    let mut f = File::create(path).map_err(io_err("cannot create", path))?;
    f.write_all(contents)
        .map_err(io_err("cannot write", path))?;
    f.sync_all().map_err(io_err("cannot sync", path))
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(io_err("cannot sync", dir))
}

/// fsyncs every regular file below `path` (after a NAR restore).
fn sync_tree(path: &Path) -> Result<(), StoreError> {
    let meta = std::fs::symlink_metadata(path).map_err(io_err("cannot stat", path))?;
    if meta.is_file() {
        File::open(path)
            .and_then(|f| f.sync_all())
            .map_err(io_err("cannot sync", path))?;
    } else if meta.is_dir() {
        for e in std::fs::read_dir(path).map_err(io_err("cannot read directory", path))? {
            let e = e.map_err(io_err("cannot read directory", path))?;
            sync_tree(&e.path())?;
        }
    }
    Ok(())
}

/// Copies a file system object (regular files, symlinks, directories; execute bit kept).
fn copy_tree(src: &Path, dst: &Path) -> Result<(), StoreError> {
    let meta = std::fs::symlink_metadata(src).map_err(io_err("cannot stat", src))?;
    let ft = meta.file_type();
    if ft.is_symlink() {
        let target = std::fs::read_link(src).map_err(io_err("cannot read link", src))?;
        std::os::unix::fs::symlink(target, dst).map_err(io_err("cannot create symlink", dst))?;
    } else if ft.is_file() {
        let mut from = File::open(src).map_err(io_err("cannot open", src))?;
        let mut to = File::create(dst).map_err(io_err("cannot create", dst))?;
        std::io::copy(&mut from, &mut to).map_err(io_err("cannot copy to", dst))?;
        to.sync_all().map_err(io_err("cannot sync", dst))?;
        let exec = meta.permissions().mode() & 0o100 != 0;
        std::fs::set_permissions(
            dst,
            std::fs::Permissions::from_mode(if exec { 0o755 } else { 0o644 }),
        )
        .map_err(io_err("cannot chmod", dst))?;
    } else if ft.is_dir() {
        std::fs::create_dir(dst).map_err(io_err("cannot create", dst))?;
        for e in std::fs::read_dir(src).map_err(io_err("cannot read directory", src))? {
            let e = e.map_err(io_err("cannot read directory", src))?;
            copy_tree(&e.path(), &dst.join(e.file_name()))?;
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
}
