//! The evaluator's store: where interpolated paths, `builtins.path`, `filterSource`, `toFile`,
//! fetched files and `.drv` files go.
//!
//! [`EvalStore`] is the pluggable part (object safe, one per evaluator, next to
//! [`crate::io::EvalIo`]):
//!
//! | implementation | paths | writes | validity / reading `.drv`s |
//! |---|---|---|---|
//! | [`ComputeOnly`] (the default) | computed | nothing | nothing is valid |
//! | [`StoreBackend::read_only`] over a [`nix_store::store::Store`] | computed | nothing | queried from the store |
//! | [`StoreBackend::read_write`] over a [`nix_store::store::Store`] (`LocalStore`, `MemoryStore`) | computed | written | queried from the store |
//!
//! Read-only is what CppNix does for `nix-instantiate --eval` (`settings.readOnlyMode`), and
//! read-write what it does for `nix-instantiate FILE`. Give the evaluator a store with
//! [`crate::EvaluatorBuilder::store`].
//!
//! [`StoreState`] wraps the backend with what CppNix keeps per evaluation: the memoised
//! derivation hashes (CppNix's `drvHashes`, filled for each derivation as it is created, so
//! that a derivation depending on another one created in read-only mode can still compute
//! `hashDerivationModulo`), the references and output names of the derivations created so far
//! (for the closures of `drvPath` contexts; not the whole derivations, which would keep every
//! environment alive until the end), and the store path of every source path already copied
//! (`srcToStore`).
//!
//! Source files are read from the real file system (not through [`crate::io::EvalIo`]).
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use nix_eval::store::{EvalStore, StoreBackend};
//! use nix_eval::Evaluator;
//! use nix_store::store::memory::MemoryStore;
//!
//! let mem = Arc::new(MemoryStore::new());
//! let mut ev = Evaluator::builder()
//!     .store(Box::new(StoreBackend::read_write(mem.clone())))
//!     .build();
//! let v = ev.eval_expr(r#"builtins.toFile "hello.txt" "hello""#, "/tmp")?;
//! let path = ev.print(&v);
//! assert!(path.ends_with("-hello.txt\""));
//! let sp = nix_store::store_path::StoreDir::default()
//!     .parse_path(path.trim_matches('"'))?;
//! use nix_store::store::Store;
//! assert!(mem.is_valid_path(&sp)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use nix_derivation::hash_modulo::{BoxError, DrvHash, DrvHashCache, DrvHashKind, DrvResolver};
use nix_derivation::Derivation;
use nix_nar::writer::{Node, Writer};
use nix_store::cache::Substituters;
use nix_store::content_address::{ContentAddress, FileIngestionMethod};
use nix_store::hash::{Hash, HashAlgo};
use nix_store::store::{Store, ValidPathInfo};
use nix_store::store_path::{StoreDir, StorePath};

use crate::error::{Error, ErrorKind, Result};
use crate::io::{EvalIo, FileKind};

/// A source filter: called with the full path and the kind of every file system object below
/// the root (the root itself is not filtered); `Ok(false)` leaves the object (and everything
/// under it) out. Errors (from calling a Nix function) abort the copy.
pub type PathFilter<'a> = dyn FnMut(&Path, FileKind) -> Result<bool> + 'a;

/// What [`EvalStore::add_path`] added (or would add).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedPath {
    /// The store path.
    pub path: StorePath,
    /// The content hash in the requested algorithm: of the (filtered) NAR for
    /// [`FileIngestionMethod::Recursive`], of the file's bytes for
    /// [`FileIngestionMethod::Flat`].
    pub hash: Hash,
}

/// The store operations the evaluator needs. Errors are evaluator [`Error`]s with CppNix's
/// message text.
pub trait EvalStore {
    /// The store directory (`/nix/store`).
    fn store_dir(&self) -> &StoreDir;

    /// Whether paths are written (read-write mode) or only computed (read-only mode).
    fn writes(&self) -> bool;

    /// Adds the file system object at `src` as a content-addressed path named `name`:
    /// `method` recursive hashes its NAR (a *source* path when `algo` is sha256, a fixed-output
    /// path otherwise), flat hashes one regular file's bytes (a fixed-output path). This is
    /// interpolation of a path, `builtins.path`, `filterSource`, and fetchers adding an
    /// already-fetched file or directory.
    ///
    /// # Errors
    /// A missing or unsupported file, a filter error, a non-regular file with flat
    /// ingestion, an invalid name, or a store failure.
    fn add_path(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
        algo: HashAlgo,
        filter: Option<&mut PathFilter<'_>>,
    ) -> Result<AddedPath>;

    /// Adds a text path (`builtins.toFile`, `.drv` files) with `references`.
    ///
    /// # Errors
    /// An invalid name or a store failure.
    fn add_text(
        &self,
        name: &str,
        contents: &[u8],
        references: &BTreeSet<StorePath>,
    ) -> Result<StorePath>;

    /// Whether `path` is valid in the store (always `false` for [`ComputeOnly`]).
    ///
    /// # Errors
    /// A store failure.
    fn is_valid_path(&self, path: &StorePath) -> Result<bool>;

    /// CppNix's `ensurePath` (`builtins.storePath` and `appendContext` in read-write mode):
    /// makes `path` valid, by substitution where the backend can, else fails with CppNix's
    /// `path '…' does not exist and cannot be created`. The default only checks validity.
    ///
    /// # Errors
    /// The path is not valid and cannot be substituted, or a store failure.
    fn ensure_path(&self, path: &StorePath) -> Result<()> {
        if self.is_valid_path(path)? {
            return Ok(());
        }
        Err(cannot_be_created(self.store_dir(), path))
    }

    /// Where the store's files really are when that is not [`EvalStore::store_dir`] (a
    /// diverted store `R` keeps `/nix/store/…` in `R/nix/store/…`), else `None` (the default).
    /// [`crate::EvaluatorBuilder::build`] then reads store paths there through [`DivertedIo`],
    /// as CppNix's `toRealPath`.
    fn real_store_dir(&self) -> Option<&Path> {
        None
    }

    /// Whether [`EvalStore::add_fetched`] really writes. CppNix 2.8's fetchers write to the
    /// store even in read-only mode (`nix-instantiate --eval`), so a backend over a real store
    /// answers `true` whatever [`EvalStore::writes`] says. The default is
    /// [`EvalStore::writes`].
    fn fetch_writes(&self) -> bool {
        self.writes()
    }

    /// Adds a fetched file (`Flat`) or directory (`Recursive`) as a sha256 fixed-output path
    /// named `name` (`builtins.fetchurl`, `fetchTarball`, `fetchGit`). Unlike
    /// [`EvalStore::add_path`] this writes in read-only mode too when the backend has a real
    /// store (see [`EvalStore::fetch_writes`]). The default adds through
    /// [`EvalStore::add_path`] (for [`ComputeOnly`]: computes the path).
    ///
    /// # Errors
    /// As [`EvalStore::add_path`].
    fn add_fetched(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
    ) -> Result<StorePath> {
        Ok(self
            .add_path(name, src, method, HashAlgo::Sha256, None)?
            .path)
    }

    /// Copies the contents of the valid path `path` to `dest` (which does not exist), so that
    /// a fetcher can unpack a cached archive again. `Ok(false)` when this store cannot give
    /// contents back (the default, and [`ComputeOnly`]).
    ///
    /// # Errors
    /// A store failure or a file that cannot be written.
    fn export_path(&self, path: &StorePath, dest: &Path) -> Result<bool> {
        let _ = (path, dest);
        Ok(false)
    }

    /// Reads and parses a `.drv` file from the store.
    ///
    /// # Errors
    /// The path is not valid, or does not parse as a derivation.
    fn read_derivation(&self, path: &StorePath) -> Result<Derivation>;

    /// The references of a valid path.
    ///
    /// # Errors
    /// The path is not valid.
    fn query_references(&self, path: &StorePath) -> Result<BTreeSet<StorePath>>;
}

fn cannot_be_created(dir: &StoreDir, path: &StorePath) -> Error {
    io_error(format!(
        "path '{}' does not exist and cannot be created",
        dir.display(path)
    ))
}

fn io_error(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Io, msg)
}

fn os_message(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn kind_of(meta: &std::fs::Metadata) -> FileKind {
    let ft = meta.file_type();
    if ft.is_symlink() {
        FileKind::Symlink
    } else if ft.is_dir() {
        FileKind::Directory
    } else if ft.is_file() {
        FileKind::Regular
    } else {
        FileKind::Unknown
    }
}

fn nar_err(path: &Path, e: impl std::fmt::Display) -> Error {
    io_error(format!("cannot serialise '{}': {e}", path.display()))
}

/// Serialises `path` as a NAR, leaving out what `filter` rejects (CppNix's `dumpPath` with a
/// `PathFilter`).
///
/// # Errors
/// A missing or unsupported file, or a filter error.
pub fn dump_filtered(path: &Path, filter: Option<&mut PathFilter<'_>>) -> Result<Vec<u8>> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| {
        io_error(format!(
            "getting status of '{}': {}",
            path.display(),
            os_message(&e)
        ))
    })?;
    match filter {
        None => {
            let mut out = Vec::new();
            nix_nar::dump_path(path, &mut out).map_err(|e| io_error(e.to_string()))?;
            Ok(out)
        }
        Some(f) => {
            let mut w = Writer::new(Vec::new());
            let root = w.root().map_err(|e| nar_err(path, e))?;
            let mut buf = path.to_path_buf();
            dump_node(root, &mut buf, &meta, f)?;
            let (out, _) = w.finish().map_err(|e| nar_err(path, e))?;
            Ok(out)
        }
    }
}

fn dump_node(
    node: Node<'_, Vec<u8>>,
    path: &mut PathBuf,
    meta: &std::fs::Metadata,
    filter: &mut PathFilter<'_>,
) -> Result<()> {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    use std::os::unix::fs::PermissionsExt;
    let ft = meta.file_type();
    if ft.is_file() {
        let data = std::fs::read(&*path).map_err(|e| {
            io_error(format!(
                "opening file '{}': {}",
                path.display(),
                os_message(&e)
            ))
        })?;
        let exec = meta.permissions().mode() & 0o100 != 0;
        node.file_bytes(exec, &data).map_err(|e| nar_err(path, e))
    } else if ft.is_symlink() {
        let target = std::fs::read_link(&*path).map_err(|e| {
            io_error(format!(
                "reading symbolic link '{}': {}",
                path.display(),
                os_message(&e)
            ))
        })?;
        node.symlink(target.as_os_str().as_bytes())
            .map_err(|e| nar_err(path, e))
    } else if ft.is_dir() {
        let rd = std::fs::read_dir(&*path).map_err(|e| {
            io_error(format!(
                "opening directory '{}': {}",
                path.display(),
                os_message(&e)
            ))
        })?;
        let mut names = Vec::new();
        for ent in rd {
            let ent = ent.map_err(|e| {
                io_error(format!(
                    "reading directory '{}': {}",
                    path.display(),
                    os_message(&e)
                ))
            })?;
            names.push(ent.file_name().into_vec());
        }
        names.sort_unstable();
        let mut dir = node.directory().map_err(|e| nar_err(path, e))?;
        for name in names {
            path.push(std::ffi::OsStr::from_bytes(&name));
            let res = (|| -> Result<()> {
                let m = std::fs::symlink_metadata(&*path).map_err(|e| {
                    io_error(format!(
                        "getting status of '{}': {}",
                        path.display(),
                        os_message(&e)
                    ))
                })?;
                if !filter(path, kind_of(&m))? {
                    return Ok(());
                }
                let child = dir.entry(&name).map_err(|e| nar_err(path, e))?;
                dump_node(child, path, &m, filter)
            })();
            path.pop();
            res?;
        }
        dir.close().map_err(|e| nar_err(path, e))
    } else {
        Err(io_error(format!(
            "file '{}' has an unsupported type",
            path.display()
        )))
    }
}

/// The content of `src` to add: the NAR (always, for writing) and the content hash.
fn ingest(
    src: &Path,
    method: FileIngestionMethod,
    algo: HashAlgo,
    filter: Option<&mut PathFilter<'_>>,
) -> Result<(Vec<u8>, Hash)> {
    let nar = dump_filtered(src, filter)?;
    let hash = match method {
        FileIngestionMethod::Recursive => Hash::digest_bytes(algo, &nar),
        FileIngestionMethod::Flat => {
            let meta = std::fs::symlink_metadata(src).map_err(|e| {
                io_error(format!(
                    "getting status of '{}': {}",
                    src.display(),
                    os_message(&e)
                ))
            })?;
            if !meta.file_type().is_file() {
                return Err(io_error(format!(
                    "file '{}' has an unsupported type",
                    src.display()
                )));
            }
            let data = std::fs::read(src).map_err(|e| {
                io_error(format!(
                    "opening file '{}': {}",
                    src.display(),
                    os_message(&e)
                ))
            })?;
            Hash::digest_bytes(algo, &data)
        }
    };
    Ok((nar, hash))
}

fn path_error(e: impl std::fmt::Display) -> Error {
    Error::eval(e.to_string())
}

fn compute_path(
    dir: &StoreDir,
    name: &str,
    method: FileIngestionMethod,
    hash: &Hash,
) -> Result<StorePath> {
    dir.make_fixed_output_path(name, method, hash, &BTreeSet::new(), false)
        .map_err(path_error)
}

/// Computes store paths without a store: nothing is written and nothing is valid. The
/// default of [`crate::EvaluatorBuilder`].
#[derive(Debug, Clone, Default)]
pub struct ComputeOnly {
    dir: StoreDir,
}

impl ComputeOnly {
    /// Paths under `dir`.
    pub fn new(dir: StoreDir) -> Self {
        ComputeOnly { dir }
    }
}

impl EvalStore for ComputeOnly {
    fn store_dir(&self) -> &StoreDir {
        &self.dir
    }

    fn writes(&self) -> bool {
        false
    }

    fn add_path(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
        algo: HashAlgo,
        filter: Option<&mut PathFilter<'_>>,
    ) -> Result<AddedPath> {
        let (_, hash) = ingest(src, method, algo, filter)?;
        let path = compute_path(&self.dir, name, method, &hash)?;
        Ok(AddedPath { path, hash })
    }

    fn add_text(
        &self,
        name: &str,
        contents: &[u8],
        references: &BTreeSet<StorePath>,
    ) -> Result<StorePath> {
        let h = Hash::digest_bytes(HashAlgo::Sha256, contents);
        self.dir
            .make_text_path(name, &h, references)
            .map_err(path_error)
    }

    fn is_valid_path(&self, _path: &StorePath) -> Result<bool> {
        Ok(false)
    }

    fn read_derivation(&self, path: &StorePath) -> Result<Derivation> {
        Err(io_error(format!(
            "path '{}' is not valid",
            self.dir.display(path)
        )))
    }

    fn query_references(&self, path: &StorePath) -> Result<BTreeSet<StorePath>> {
        Err(io_error(format!(
            "path '{}' is not valid",
            self.dir.display(path)
        )))
    }
}

/// A [`nix_store::store::Store`] used by the evaluator, read-only (paths computed, validity
/// and `.drv` files queried) or read-write (paths written).
#[derive(Debug, Clone)]
pub struct StoreBackend {
    store: Arc<dyn Store>,
    write: bool,
    real_dir: Option<PathBuf>,
    substituters: Option<Arc<Substituters>>,
    on_substitute: Option<SubstituteObserver>,
}

/// Told of each path [`EvalStore::ensure_path`] substituted, with the URL of its cache (the
/// CLI prints CppNix's `copying path '…' from '…'...`). Set with
/// [`StoreBackend::on_substitute`].
#[derive(Clone)]
pub struct SubstituteObserver(pub Arc<SubstituteFn>);

/// The function in a [`SubstituteObserver`]: the substituted path and its cache's URL.
pub type SubstituteFn = dyn Fn(&StorePath, &str) + Send + Sync;

impl std::fmt::Debug for SubstituteObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubstituteObserver")
    }
}

impl StoreBackend {
    /// Computes paths, reads from `store`, writes nothing.
    pub fn read_only(store: Arc<dyn Store>) -> Self {
        StoreBackend {
            store,
            write: false,
            real_dir: None,
            substituters: None,
            on_substitute: None,
        }
    }

    /// Writes every path to `store`.
    pub fn read_write(store: Arc<dyn Store>) -> Self {
        StoreBackend {
            store,
            write: true,
            real_dir: None,
            substituters: None,
            on_substitute: None,
        }
    }

    /// The store keeps its files in `dir` instead of its store directory (a diverted local
    /// store: `R/nix/store`); see [`EvalStore::real_store_dir`].
    pub fn with_real_store_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        self.real_dir = (dir != Path::new(self.store.store_dir().as_str())).then_some(dir);
        self
    }

    /// Binary caches that [`EvalStore::ensure_path`] substitutes missing paths from
    /// (`builtins.storePath` and `appendContext` in read-write mode), as CppNix's
    /// `substituters` setting.
    pub fn with_substituters(mut self, substituters: Substituters) -> Self {
        self.substituters = Some(Arc::new(substituters));
        self
    }

    /// Calls `observer` after each substitution by [`EvalStore::ensure_path`], once per path
    /// added (references first).
    pub fn on_substitute(mut self, observer: SubstituteObserver) -> Self {
        self.on_substitute = Some(observer);
        self
    }

    /// The underlying store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Computes the path of `src` and, with `write`, adds it unless it is already valid.
    fn add(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
        algo: HashAlgo,
        filter: Option<&mut PathFilter<'_>>,
        write: bool,
    ) -> Result<AddedPath> {
        let (nar, hash) = ingest(src, method, algo, filter)?;
        let path = compute_path(self.store.store_dir(), name, method, &hash)?;
        if !write || self.store.is_valid_path(&path).map_err(store_error)? {
            return Ok(AddedPath { path, hash });
        }
        let info = ValidPathInfo {
            path: path.clone(),
            deriver: None,
            nar_hash: Hash::digest_bytes(HashAlgo::Sha256, &nar),
            references: BTreeSet::new(),
            registration_time: 0,
            nar_size: nar.len() as u64,
            ultimate: false,
            sigs: Vec::new(),
            ca: Some(ContentAddress::Fixed { method, hash }),
        };
        self.store
            .add_nar(&info, &mut &nar[..])
            .map_err(store_error)?;
        Ok(AddedPath { path, hash })
    }
}

fn store_error(e: impl std::fmt::Display) -> Error {
    io_error(e.to_string())
}

impl EvalStore for StoreBackend {
    fn store_dir(&self) -> &StoreDir {
        self.store.store_dir()
    }

    fn writes(&self) -> bool {
        self.write
    }

    fn add_path(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
        algo: HashAlgo,
        filter: Option<&mut PathFilter<'_>>,
    ) -> Result<AddedPath> {
        self.add(name, src, method, algo, filter, self.write)
    }

    fn real_store_dir(&self) -> Option<&Path> {
        self.real_dir.as_deref()
    }

    fn fetch_writes(&self) -> bool {
        true
    }

    fn add_fetched(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
    ) -> Result<StorePath> {
        Ok(self
            .add(name, src, method, HashAlgo::Sha256, None, true)?
            .path)
    }

    fn export_path(&self, path: &StorePath, dest: &Path) -> Result<bool> {
        let mut nar = Vec::new();
        self.store
            .nar_from_path(path, &mut nar)
            .map_err(store_error)?;
        nix_nar::restore::restore(&nar[..], dest, &Default::default()).map_err(|e| {
            io_error(format!(
                "copying '{}' out of the store: {e}",
                self.store.store_dir().display(path)
            ))
        })?;
        Ok(true)
    }

    fn add_text(
        &self,
        name: &str,
        contents: &[u8],
        references: &BTreeSet<StorePath>,
    ) -> Result<StorePath> {
        if !self.write {
            let h = Hash::digest_bytes(HashAlgo::Sha256, contents);
            return self
                .store
                .store_dir()
                .make_text_path(name, &h, references)
                .map_err(path_error);
        }
        self.store
            .add_text(name, contents, references)
            .map_err(store_error)
    }

    fn is_valid_path(&self, path: &StorePath) -> Result<bool> {
        self.store.is_valid_path(path).map_err(store_error)
    }

    fn ensure_path(&self, path: &StorePath) -> Result<()> {
        if self.is_valid_path(path)? {
            return Ok(());
        }
        let Some(subs) = &self.substituters else {
            return Err(cannot_be_created(self.store_dir(), path));
        };
        let cache_error = |e: nix_store::cache::CacheError| io_error(e.to_string());
        if subs.query(path).map_err(cache_error)?.is_none() {
            return Err(cannot_be_created(self.store_dir(), path));
        }
        let added = subs
            .substitute(&*self.store, &BTreeSet::from([path.clone()]))
            .map_err(cache_error)?;
        if let Some(observer) = &self.on_substitute {
            for p in &added {
                if let Some((url, _)) = subs.query(p).map_err(cache_error)? {
                    (observer.0)(p, &url);
                }
            }
        }
        Ok(())
    }

    fn read_derivation(&self, path: &StorePath) -> Result<Derivation> {
        let mut nar = Vec::new();
        self.store
            .nar_from_path(path, &mut nar)
            .map_err(store_error)?;
        let mut text = Vec::new();
        nix_nar::listing::cat(&nar[..], b"", &mut text).map_err(|e| {
            io_error(format!(
                "reading derivation '{}': {e}",
                self.store.store_dir().display(path)
            ))
        })?;
        Derivation::parse(&text, self.store.store_dir()).map_err(|e| {
            Error::eval(format!(
                "parsing derivation '{}': {e}",
                self.store.store_dir().display(path)
            ))
        })
    }

    fn query_references(&self, path: &StorePath) -> Result<BTreeSet<StorePath>> {
        self.store.query_references(path).map_err(store_error)
    }
}

/// An [`EvalIo`] that reads paths under the store directory from where a diverted store
/// really keeps them (CppNix's `toRealPath`); everything else goes to the inner backend
/// unchanged.
#[derive(Debug)]
pub struct DivertedIo {
    inner: Box<dyn EvalIo>,
    store_dir: PathBuf,
    real_dir: PathBuf,
}

impl DivertedIo {
    /// Reads `store_dir/…` from `real_dir/…` through `inner`.
    pub fn new(
        inner: Box<dyn EvalIo>,
        store_dir: impl Into<PathBuf>,
        real_dir: impl Into<PathBuf>,
    ) -> Self {
        DivertedIo {
            inner,
            store_dir: store_dir.into(),
            real_dir: real_dir.into(),
        }
    }

    /// Where `path` really is.
    pub fn real_path<'p>(&self, path: &'p Path) -> std::borrow::Cow<'p, Path> {
        match path.strip_prefix(&self.store_dir) {
            Ok(rest) if !rest.as_os_str().is_empty() => self.real_dir.join(rest).into(),
            _ => path.into(),
        }
    }
}

impl EvalIo for DivertedIo {
    fn read_file(&self, path: &Path) -> std::result::Result<Vec<u8>, String> {
        self.inner.read_file(&self.real_path(path))
    }

    fn file_kind(&self, path: &Path) -> Option<FileKind> {
        self.inner.file_kind(&self.real_path(path))
    }

    fn read_dir(&self, path: &Path) -> std::result::Result<Vec<(Vec<u8>, FileKind)>, String> {
        self.inner.read_dir(&self.real_path(path))
    }

    fn store_path_of_source(
        &self,
        path: &Path,
        store_dir: &str,
    ) -> std::result::Result<String, String> {
        self.inner
            .store_path_of_source(&self.real_path(path), store_dir)
    }

    fn get_env(&self, name: &str) -> Option<String> {
        self.inner.get_env(name)
    }

    fn trace(&self, line: &str) {
        self.inner.trace(line)
    }
}

impl std::fmt::Debug for dyn EvalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "EvalStore({}, {})",
            self.store_dir().as_str(),
            if self.writes() {
                "read-write"
            } else {
                "read-only"
            }
        )
    }
}

/// The evaluator's store and what it remembers during one evaluation: the derivations it
/// created, their `hashDerivationModulo` (CppNix's `drvHashes`) and the store paths of copied
/// sources (CppNix's `srcToStore`).
///
/// Builtins reach it as `st.store` (an `Rc`, so that a filter callback can borrow the
/// evaluator mutably while the store is in use).
#[derive(Debug)]
pub struct StoreState {
    backend: Box<dyn EvalStore>,
    drvs: RefCell<HashMap<Rc<StorePath>, Created>>,
    /// One shared copy of every store path named by a created derivation (inputs are
    /// referenced by many derivations).
    paths: RefCell<HashSet<Rc<StorePath>>>,
    /// The memoised `hashDerivationModulo`s, compact (a `DrvHash`'s map is a whole B-tree
    /// node, about 1 KiB, even for one output).
    hashes: RefCell<HashMap<Rc<StorePath>, KnownHash>>,
    sources: RefCell<HashMap<PathBuf, StorePath>>,
}

/// A memoised derivation hash: one hash per output, in output-name order.
#[derive(Debug)]
struct KnownHash {
    kind: DrvHashKind,
    hashes: Box<[(Box<str>, Hash)]>,
}

impl KnownHash {
    fn new(h: &DrvHash) -> Self {
        KnownHash {
            kind: h.kind,
            hashes: h
                .hashes
                .iter()
                .map(|(o, h)| (Box::from(o.as_str()), *h))
                .collect(),
        }
    }

    fn to_drv_hash(&self) -> DrvHash {
        DrvHash {
            hashes: self
                .hashes
                .iter()
                .map(|(o, h)| (o.to_string(), *h))
                .collect(),
            kind: self.kind,
        }
    }
}

/// What is kept of a derivation created during the evaluation.
#[derive(Debug)]
struct Created {
    /// Its references: input sources and input derivations.
    references: Box<[Rc<StorePath>]>,
    /// Its output names.
    outputs: Box<[String]>,
}

impl StoreState {
    /// Wraps a backend.
    pub fn new(backend: Box<dyn EvalStore>) -> Self {
        StoreState {
            backend,
            drvs: RefCell::new(HashMap::new()),
            paths: RefCell::new(HashSet::new()),
            hashes: RefCell::new(HashMap::new()),
            sources: RefCell::new(HashMap::new()),
        }
    }

    /// The backend.
    pub fn backend(&self) -> &dyn EvalStore {
        &*self.backend
    }

    /// The store directory.
    pub fn store_dir(&self) -> &StoreDir {
        self.backend.store_dir()
    }

    /// The store path of a source path already copied by interpolation, if any.
    pub fn cached_source(&self, path: &Path) -> Option<StorePath> {
        self.sources.borrow().get(path).cloned()
    }

    /// Remembers the store path of a source path copied by interpolation.
    pub fn remember_source(&self, path: &Path, sp: StorePath) {
        self.sources.borrow_mut().insert(path.to_path_buf(), sp);
    }

    /// Remembers a derivation created during this evaluation (written or not): its
    /// `hashDerivationModulo` (as an input: outputs not masked) goes to the hash cache, and
    /// its references and output names are kept.
    ///
    /// # Errors
    /// Computing the hash fails (an input that is neither created here nor in the store).
    pub fn remember_derivation(&self, path: StorePath, drv: &Derivation) -> Result<()> {
        let dir = self.store_dir().clone();
        let inputs: Vec<StorePath> = drv.input_drvs.keys().cloned().collect();
        let h = self.with_resolver(&inputs, |r, c| {
            nix_derivation::hash_modulo::hash_derivation_modulo(drv, &dir, false, r, c)
        });
        let h = h.map_err(|e| Error::eval(e.to_string()))?;
        let mut paths = self.paths.borrow_mut();
        let key = intern(&mut paths, path.clone());
        self.hashes.borrow_mut().insert(key, KnownHash::new(&h));
        let created = Created {
            references: drv
                .references()
                .into_iter()
                .map(|r| intern(&mut paths, r))
                .collect(),
            outputs: drv.outputs.keys().cloned().collect(),
        };
        let path = intern(&mut paths, path);
        self.drvs.borrow_mut().insert(path, created);
        Ok(())
    }

    /// Reads a derivation from the store (derivations created during this evaluation are not
    /// kept: their hashes, references and output names are).
    ///
    /// # Errors
    /// As [`EvalStore::read_derivation`].
    pub fn derivation(&self, path: &StorePath) -> Result<Derivation> {
        self.backend.read_derivation(path)
    }

    /// The output names of a derivation created during this evaluation, else read from the
    /// store.
    ///
    /// # Errors
    /// As [`EvalStore::read_derivation`].
    pub fn output_names(&self, path: &StorePath) -> Result<Vec<String>> {
        if let Some(d) = self.drvs.borrow().get(path) {
            return Ok(d.outputs.to_vec());
        }
        Ok(self
            .backend
            .read_derivation(path)?
            .outputs
            .into_keys()
            .collect())
    }

    /// The closure of `path` over references (CppNix's `computeFSClosure`), using the
    /// references of derivations created during this evaluation before asking the store.
    ///
    /// # Errors
    /// A path in the closure that is neither created here nor valid.
    pub fn closure(&self, path: &StorePath) -> Result<BTreeSet<StorePath>> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![path.clone()];
        while let Some(p) = todo.pop() {
            if !seen.insert(p.clone()) {
                continue;
            }
            let refs = self
                .drvs
                .borrow()
                .get(&p)
                .map(|d| d.references.iter().map(|r| StorePath::clone(r)).collect());
            let refs: Vec<StorePath> = match refs {
                Some(r) => r,
                None => self.backend.query_references(&p)?.into_iter().collect(),
            };
            todo.extend(refs.into_iter().filter(|r| !seen.contains(r)));
        }
        Ok(seen)
    }

    /// Runs `f` with a resolver for input derivations (created ones, then the store) and a
    /// hash cache holding the memoised hashes of `inputs` (the input derivations of the
    /// derivation `f` works on): what [`nix_derivation::outputs::fill_outputs`] and
    /// [`nix_derivation::hash_modulo::hash_derivation_modulo`] need. Hashes of `inputs`
    /// computed by `f` (inputs read from the store) are memoised too.
    pub fn with_resolver<R>(
        &self,
        inputs: &[StorePath],
        f: impl FnOnce(&mut dyn DrvResolver, &mut DrvHashCache) -> R,
    ) -> R {
        struct Res<'a>(&'a StoreState);
        impl DrvResolver for Res<'_> {
            fn read_drv(&mut self, p: &StorePath) -> std::result::Result<Derivation, BoxError> {
                self.0
                    .derivation(p)
                    .map_err(|e| BoxError::from(e.message().to_string()))
            }
        }
        let mut cache = DrvHashCache::new();
        let mut unknown = Vec::new();
        {
            let known = self.hashes.borrow();
            for p in inputs {
                match known.get(p) {
                    Some(h) => cache.insert(p.clone(), h.to_drv_hash()),
                    None => unknown.push(p),
                }
            }
        }
        let r = f(&mut Res(self), &mut cache);
        for p in unknown {
            if let Some(h) = cache.get(p) {
                let key = intern(&mut self.paths.borrow_mut(), p.clone());
                self.hashes.borrow_mut().insert(key, KnownHash::new(h));
            }
        }
        r
    }
}

/// The shared copy of `path` in `paths` (added if new).
fn intern(paths: &mut HashSet<Rc<StorePath>>, path: StorePath) -> Rc<StorePath> {
    if let Some(p) = paths.get(&path) {
        return p.clone();
    }
    let p = Rc::new(path);
    paths.insert(p.clone());
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix_store::store::memory::MemoryStore;

    #[test]
    fn compute_only_and_memory_agree() -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = testkit::tempdir();
        std::fs::create_dir(dir.path().join("src"))?;
        std::fs::write(dir.path().join("src/a.txt"), b"a")?;
        std::fs::write(dir.path().join("src/b.txt"), b"b")?;
        let src = dir.path().join("src");
        let ro = ComputeOnly::default();
        let mem = Arc::new(MemoryStore::new());
        let rw = StoreBackend::read_write(mem.clone());
        let method = FileIngestionMethod::Recursive;
        let a = ro.add_path("src", &src, method, HashAlgo::Sha256, None)?;
        let b = rw.add_path("src", &src, method, HashAlgo::Sha256, None)?;
        assert_eq!(a, b);
        assert!(rw.is_valid_path(&b.path)?);
        assert!(!ro.is_valid_path(&a.path)?);
        // a filter that drops b.txt changes the path, and the NAR has only a.txt
        let mut f = |p: &Path, _k: FileKind| -> Result<bool> { Ok(!p.ends_with("b.txt")) };
        let filtered = rw.add_path(
            "src",
            &src,
            FileIngestionMethod::Recursive,
            HashAlgo::Sha256,
            Some(&mut f),
        )?;
        std::fs::remove_file(dir.path().join("src/b.txt"))?;
        let plain = ro.add_path(
            "src",
            &src,
            FileIngestionMethod::Recursive,
            HashAlgo::Sha256,
            None,
        )?;
        assert_eq!(filtered, plain);
        // flat
        let flat = rw.add_path(
            "a.txt",
            &src.join("a.txt"),
            FileIngestionMethod::Flat,
            HashAlgo::Sha1,
            None,
        )?;
        assert_eq!(flat.hash, Hash::digest_bytes(HashAlgo::Sha1, b"a"));
        assert!(mem.is_valid_path(&flat.path)?);
        Ok(())
    }

    #[test]
    fn fetched_paths_are_written_in_read_only_mode(
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = testkit::tempdir();
        let f = dir.path().join("f");
        std::fs::write(&f, b"data")?;
        let mem = Arc::new(MemoryStore::new());
        let ro = StoreBackend::read_only(mem.clone());
        let flat = FileIngestionMethod::Flat;
        let plain = ro.add_path("f", &f, flat, HashAlgo::Sha256, None)?;
        assert!(!mem.is_valid_path(&plain.path)?);
        assert!(ro.fetch_writes());
        let p = ro.add_fetched("f", &f, flat)?;
        assert_eq!(p, plain.path);
        assert!(mem.is_valid_path(&p)?);
        let back = dir.path().join("back");
        assert!(ro.export_path(&p, &back)?);
        assert_eq!(std::fs::read(&back)?, b"data");
        // ComputeOnly computes the same path and writes nothing
        let co = ComputeOnly::default();
        assert!(!co.fetch_writes());
        assert_eq!(co.add_fetched("f", &f, flat)?, p);
        assert!(!co.export_path(&p, &dir.path().join("x"))?);
        Ok(())
    }

    #[test]
    fn diverted_io_reads_the_real_store_dir() -> std::result::Result<(), Box<dyn std::error::Error>>
    {
        let dir = testkit::tempdir();
        let real = dir.path().join("nix/store");
        std::fs::create_dir_all(&real)?;
        std::fs::write(real.join("abc-x"), b"x")?;
        let io = DivertedIo::new(Box::new(crate::io::RealIo), "/nix/store", &real);
        assert_eq!(io.read_file(Path::new("/nix/store/abc-x"))?, b"x");
        assert_eq!(
            io.file_kind(Path::new("/nix/store/abc-x")),
            Some(FileKind::Regular)
        );
        assert_eq!(
            io.real_path(Path::new("/nix/store/abc-x/y")),
            real.join("abc-x/y")
        );
        // only whole components of the store directory are diverted
        assert_eq!(
            io.real_path(Path::new("/nix/storex/a")),
            Path::new("/nix/storex/a")
        );
        assert_eq!(
            io.real_path(Path::new("/nix/store")),
            Path::new("/nix/store")
        );
        let sb = StoreBackend::read_only(Arc::new(MemoryStore::new()));
        assert_eq!(
            sb.clone()
                .with_real_store_dir("/nix/store")
                .real_store_dir(),
            None
        );
        assert_eq!(
            sb.with_real_store_dir(&real).real_store_dir(),
            Some(real.as_path())
        );
        Ok(())
    }

    #[test]
    fn derivations_read_back() -> std::result::Result<(), Box<dyn std::error::Error>> {
        let mem = Arc::new(MemoryStore::new());
        let rw = StoreBackend::read_write(mem);
        let text = br#"Derive([("out","/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple","","")],[],[],"x86_64-linux","/bin/sh",["-c","echo hello > $out"],[("builder","/bin/sh"),("name","simple"),("out","/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple"),("system","x86_64-linux")])"#;
        let p = rw.add_text("simple.drv", text, &BTreeSet::new())?;
        assert_eq!(
            rw.store_dir().display(&p),
            "/nix/store/3ghsl9sd83mc26i81adpa2fzf3yw4f68-simple.drv"
        );
        let d = rw.read_derivation(&p)?;
        assert_eq!(d.to_aterm(rw.store_dir()), text.to_vec());
        let st = StoreState::new(Box::new(ComputeOnly::default()));
        assert!(st.derivation(&p).is_err());
        assert!(st.output_names(&p).is_err());
        st.remember_derivation(p.clone(), &d)?;
        assert_eq!(st.output_names(&p)?, vec!["out".to_string()]);
        assert_eq!(st.closure(&p)?, BTreeSet::from([p.clone()]));
        // the hash is memoised: a resolver is never asked for it
        let h = st.with_resolver(std::slice::from_ref(&p), |_, c| c.get(&p).cloned());
        let direct = nix_derivation::hash_modulo::hash_derivation_modulo(
            &d,
            rw.store_dir(),
            false,
            &mut nix_derivation::hash_modulo::NoInputs,
            &mut DrvHashCache::new(),
        )?;
        assert_eq!(h, Some(direct));
        Ok(())
    }
}
