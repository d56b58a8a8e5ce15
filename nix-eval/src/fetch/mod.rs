//! Fetchers: `builtins.fetchurl`, `fetchTarball`, `fetchGit` and `fetchMercurial` as CppNix
//! 2.8 runs them, without the evaluator.
//!
//! A [`Fetcher`] downloads (`http(s)://` with `ureq`, `file://` directly; [`download`]),
//! hashes while streaming into a temporary file, unpacks tarballs ([`unpack`]; zip archives
//! with [`zip`]), adds the
//! results to a [`nix_store::store::Store`] as fixed-output paths, and remembers what each URL
//! gave in a [`cache::Cache`] with CppNix's `tarball-ttl` semantics. [`git`] fetches local and
//! remote git repositories with the `git` binary, as CppNix does, and [`hg`] Mercurial ones
//! with `hg`.
//!
//! | fetch | store path | name |
//! |---|---|---|
//! | [`Fetcher::fetch_url`] (`fetchurl`) | flat sha256 of the bytes | `name`, else the URL's base name |
//! | [`Fetcher::fetch_tarball`] (`fetchTarball`) | recursive sha256 of the single top-level entry | `name`, else `source` |
//! | [`Fetcher::fetch_git`] (`fetchGit`) | recursive sha256 of the tree at the revision | `name`, else `source` |
//! | [`Fetcher::fetch_mercurial`] (`fetchMercurial`) | recursive sha256 of the tree at the revision | `name`, else `source` |
//!
//! `<nix/fetchurl.nix>`, the fixed-output `builtin:fetchurl` derivation CppNix 2.8 embeds, is
//! [`FETCHURL_NIX`] (see [`corepkgs_file`]).
//!
//! With an expected sha256 the path is computed first and, when it is already valid, nothing
//! is downloaded. Errors carry CppNix's exact text (`unable to download '…': HTTP error 404
//! ('Not Found')`, `hash mismatch in file downloaded from '…': …`).
//!
//! # Example
//!
//! ```
//! use nix_eval::fetch::Fetcher;
//! use nix_store::store::memory::MemoryStore;
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("hello.txt"), b"hello\n")?;
//! let store = MemoryStore::default();
//! let url = format!("file://{}/hello.txt", dir.path().display());
//! let path = Fetcher::new(&store).fetch_url(&url, None, None)?;
//! assert_eq!(path.to_base_name(), "gy454w1cxaq731grqwylhzf4pp9r5izh-hello.txt");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod cache;
pub mod download;
pub mod git;
pub mod hg;
pub mod unpack;
pub mod zip;

use std::collections::BTreeSet;
use std::path::Path;

use nix_store::content_address::FileIngestionMethod;
use nix_store::hash::{Hash, HashAlgo};
use nix_store::store::{AddOptions, Store, StoreError};
use nix_store::store_path::{StoreDir, StorePath, HASH_BYTES};

pub use cache::Cache;
pub use download::DownloadError;
pub use git::{GitError, GitInput, GitTree};
pub use hg::{HgError, HgInput, HgTree};
pub use unpack::UnpackError;

/// Where CppNix 2.8's built-in Nix files live: `<nix/NAME>` falls back to this directory when
/// the search path has no `nix` entry, and importing a file there reads the embedded copy.
pub const COREPKGS_PREFIX: &str = "/__corepkgs__/";

/// The embedded `<nix/fetchurl.nix>`: a function of `{ url; sha256/sha1/sha512/md5/hash ? …;
/// name ? …; executable ? false; unpack ? false; … }` returning a fixed-output derivation with
/// the `builtin:fetchurl` builder, the same `.drv` as CppNix 2.8's. It begins with a newline, as
/// CppNix's embedded text does (the function is at line 2).
pub const FETCHURL_NIX: &str = include_str!("fetchurl.nix");

/// The text of an embedded core file (`/__corepkgs__/fetchurl.nix`), if `path` is one.
pub fn corepkgs_file(path: &Path) -> Option<&'static str> {
    let rest = path.to_str()?.strip_prefix(COREPKGS_PREFIX)?;
    (rest == "fetchurl.nix").then_some(FETCHURL_NIX)
}

/// Why a fetch failed. `Display` is CppNix 2.8's message (after `error: `).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The download failed.
    #[error(transparent)]
    Download(#[from] DownloadError),
    /// The content does not have the expected hash (CppNix exits with 102).
    #[error("hash mismatch in file downloaded from '{url}':\n  specified: {specified}\n  got:       {got}")]
    HashMismatch {
        /// The URL.
        url: String,
        /// The expected hash, `sha256:<nix32>`.
        specified: String,
        /// The actual hash, `sha256:<nix32>`.
        got: String,
    },
    /// A tarball without exactly one top-level entry.
    #[error("tarball '{url}' contains an unexpected number of top-level files")]
    TopLevel {
        /// The URL.
        url: String,
    },
    /// The archive could not be unpacked.
    #[error(transparent)]
    Unpack(#[from] UnpackError),
    /// The name is not a valid store path name (CppNix reports the whole base name).
    #[error("store path '{base_name}' {problem}")]
    BadName {
        /// `<hash>-<name>` as CppNix computed it.
        base_name: String,
        /// `contains illegal character ':'`, `has a name longer than 211 characters`, ….
        problem: String,
    },
    /// Adding to or querying the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A store path could not be computed.
    #[error(transparent)]
    StorePath(#[from] nix_store::store_path::StorePathError),
    /// A local file operation failed.
    #[error("{what}: {message}")]
    Io {
        /// What was being done (`creating temporary directory`, …).
        what: String,
        /// The OS error.
        message: String,
    },
    /// A git operation failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// A Mercurial failure.
    #[error(transparent)]
    Hg(#[from] HgError),
    /// Any other failure, in CppNix's words (from a store adapter).
    #[error("{0}")]
    Message(String),
}

impl FetchError {
    /// The exit status CppNix uses for this error: 102 for a hash mismatch, else 1.
    pub fn exit_status(&self) -> i32 {
        match self {
            FetchError::HashMismatch { .. } => 102,
            _ => 1,
        }
    }
}

/// An input's URL as CppNix renders it in `while fetching the input '…'`: `base`, then
/// `ref=`, `rev=` and the `extra` parameters as its query (appended to a query `base` has).
pub(crate) fn input_url(
    mut base: String,
    ref_: Option<&str>,
    rev: Option<&str>,
    extra: &[&str],
) -> String {
    let mut q: Vec<String> = Vec::new();
    if let Some(r) = ref_ {
        q.push(format!("ref={r}"));
    }
    if let Some(r) = rev {
        q.push(format!("rev={r}"));
    }
    q.extend(extra.iter().map(|e| e.to_string()));
    if !q.is_empty() {
        base.push(if base.contains('?') { '&' } else { '?' });
        base.push_str(&q.join("&"));
    }
    base
}

pub(crate) fn io_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> FetchError {
    let what = what.into();
    move |e| FetchError::Io {
        what,
        message: e.to_string(),
    }
}

/// CppNix's `baseNameOf` on a URL: the last component, ignoring one trailing slash.
pub fn base_name_of(url: &str) -> &str {
    if url.is_empty() {
        return "";
    }
    let mut last = url.len() - 1;
    if url.as_bytes()[last] == b'/' && last > 0 {
        last -= 1;
    }
    let start = url[..=last].rfind('/').map(|p| p + 1).unwrap_or(0);
    &url[start..=last]
}

/// CppNix's `resolveUri`: `channel:NAME` is the nixexprs tarball of a NixOS channel.
pub fn resolve_uri(url: &str) -> String {
    match url.strip_prefix("channel:") {
        Some(c) => format!("https://nixos.org/channels/{c}/nixexprs.tar.xz"),
        None => url.to_string(),
    }
}

/// Computes a fixed-output path; an invalid name becomes CppNix's `store path '<hash>-<name>'
/// contains illegal character …` error, whose hash part is computed regardless of the name.
///
/// # Errors
/// [`FetchError::BadName`].
pub fn fixed_output_path(
    dir: &StoreDir,
    name: &str,
    method: FileIngestionMethod,
    hash: &Hash,
) -> Result<StorePath, FetchError> {
    if let Err(e) = nix_store::store_path::check_name(name) {
        use nix_store::store_path::NameError;
        let problem = match e {
            NameError::Empty => "has an empty name".to_string(),
            NameError::TooLong { .. } => "has a name longer than 211 characters".to_string(),
            NameError::InvalidChar { character, .. } => {
                format!("contains illegal character '{character}'")
            }
            _ => e.to_string(),
        };
        let (type_, inner) = if method == FileIngestionMethod::Recursive {
            ("source".to_string(), *hash)
        } else {
            let inner = format!("fixed:out:{}{}:", method.prefix(), hash.to_typed_base16());
            (
                "output:out".to_string(),
                Hash::digest_bytes(HashAlgo::Sha256, inner.as_bytes()),
            )
        };
        let fp = format!(
            "{type_}:{}:{}:{name}",
            inner.to_typed_base16(),
            dir.as_str()
        );
        let digest = Hash::digest_bytes(HashAlgo::Sha256, fp.as_bytes()).compress(HASH_BYTES);
        return Err(FetchError::BadName {
            base_name: format!("{}-{name}", nix_store::hash::nix32::encode(&digest)),
            problem,
        });
    }
    Ok(dir.make_fixed_output_path(name, method, hash, &BTreeSet::new(), false)?)
}

/// The store operations a [`Fetcher`] needs. Implemented for every
/// [`nix_store::store::Store`] (and for `&dyn Store` through [`DynStore`]); the evaluator
/// adapts its own store interface to it.
pub trait FetchStore {
    /// The store directory.
    fn store_dir(&self) -> &StoreDir;

    /// Whether added paths are really written (a store that only computes paths answers
    /// `false`: cache entries are then trusted without a validity check, and cached files cannot
    /// be read back, so tarballs are downloaded again when their unpacked entry expires).
    fn writes(&self) -> bool {
        true
    }

    /// Whether `path` is valid.
    ///
    /// # Errors
    /// Backend failures.
    fn is_valid_path(&self, path: &StorePath) -> Result<bool, FetchError>;

    /// Adds `src` as a sha256 fixed-output path (`Flat`: one regular file's bytes,
    /// `Recursive`: its NAR) named `name`.
    ///
    /// # Errors
    /// Backend failures.
    fn add_path(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
    ) -> Result<StorePath, FetchError>;

    /// Copies the regular file at the valid flat path `path` to `dest` (which does not exist).
    /// `Ok(false)` when this store cannot give contents back.
    ///
    /// # Errors
    /// Backend failures.
    fn export_file(&self, path: &StorePath, dest: &Path) -> Result<bool, FetchError>;
}

impl<S: Store> FetchStore for S {
    fn store_dir(&self) -> &StoreDir {
        Store::store_dir(self)
    }

    fn is_valid_path(&self, path: &StorePath) -> Result<bool, FetchError> {
        Ok(Store::is_valid_path(self, path)?)
    }

    fn add_path(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
    ) -> Result<StorePath, FetchError> {
        let options = AddOptions {
            method,
            algo: HashAlgo::Sha256,
        };
        Ok(Store::add_path(self, name, src, options, &BTreeSet::new())?)
    }

    fn export_file(&self, path: &StorePath, dest: &Path) -> Result<bool, FetchError> {
        export_through_nar(self, path, dest)
    }
}

/// A `&dyn Store` as a [`FetchStore`].
#[derive(Debug, Clone, Copy)]
pub struct DynStore<'a>(pub &'a dyn Store);

impl FetchStore for DynStore<'_> {
    fn store_dir(&self) -> &StoreDir {
        self.0.store_dir()
    }

    fn is_valid_path(&self, path: &StorePath) -> Result<bool, FetchError> {
        Ok(self.0.is_valid_path(path)?)
    }

    fn add_path(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
    ) -> Result<StorePath, FetchError> {
        let options = AddOptions {
            method,
            algo: HashAlgo::Sha256,
        };
        Ok(self.0.add_path(name, src, options, &BTreeSet::new())?)
    }

    fn export_file(&self, path: &StorePath, dest: &Path) -> Result<bool, FetchError> {
        export_through_nar(self.0, path, dest)
    }
}

/// Copies a store path's contents out through its NAR.
fn export_through_nar(
    store: &(impl Store + ?Sized),
    path: &StorePath,
    dest: &Path,
) -> Result<bool, FetchError> {
    let mut nar = Vec::new();
    store.nar_from_path(path, &mut nar)?;
    nix_nar::restore::restore(&nar[..], dest, &Default::default()).map_err(|e| FetchError::Io {
        what: format!("copying '{}' out of the store", path.to_base_name()),
        message: e.to_string(),
    })?;
    Ok(true)
}

/// A file downloaded into the store by [`Fetcher::download_file`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadedFile {
    /// The flat fixed-output path.
    pub store_path: StorePath,
    /// sha256 of the file.
    pub sha256: Hash,
    /// The `ETag`, if the server sent one.
    pub etag: Option<String>,
    /// The URL after redirects.
    pub effective_url: String,
}

/// A tarball unpacked into the store by [`Fetcher::download_tarball`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadedTree {
    /// The recursive (source) path of the single top-level entry.
    pub store_path: StorePath,
    /// The modification time of that entry, from the archive.
    pub last_modified: u64,
    /// The NAR hash of the unpacked tree.
    pub nar_hash: Hash,
}

/// Fetches into a store, with an optional download cache.
#[derive(Clone, Copy)]
pub struct Fetcher<'a> {
    store: &'a dyn FetchStore,
    cache: Option<&'a Cache>,
    attempts: u32,
    warn: &'a dyn Fn(&str),
}

impl std::fmt::Debug for Fetcher<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("cache", &self.cache)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

fn no_warning(_: &str) {}

impl<'a> Fetcher<'a> {
    /// A fetcher adding to `store`, without a cache, trying each download up to 5 times
    /// (CppNix's `download-attempts`) and ignoring warnings.
    pub fn new(store: &'a dyn FetchStore) -> Self {
        Fetcher {
            store,
            cache: None,
            attempts: 5,
            warn: &no_warning,
        }
    }

    /// Uses a download cache.
    pub fn cache(mut self, cache: &'a Cache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// How many times a download is tried when it fails transiently (at least once).
    pub fn attempts(mut self, n: u32) -> Self {
        self.attempts = n.max(1);
        self
    }

    /// Receives warnings (the text after `warning: `): retries, dirty git trees, stale cache
    /// entries used after a failed download.
    pub fn on_warning(mut self, warn: &'a dyn Fn(&str)) -> Self {
        self.warn = warn;
        self
    }

    /// The store.
    pub fn store(&self) -> &'a dyn FetchStore {
        self.store
    }

    pub(crate) fn warn(&self, msg: &str) {
        (self.warn)(msg)
    }

    /// A cache entry whose store path is still valid.
    fn lookup(&self, key: &cache::CacheKey) -> Option<(cache::Cached, StorePath)> {
        let c = self.cache?.lookup(key)?;
        let p = StorePath::from_base_name(&c.entry.store_path).ok()?;
        if !self.store.writes() {
            return Some((c, p));
        }
        match self.store.is_valid_path(&p) {
            Ok(true) => Some((c, p)),
            _ => None,
        }
    }

    fn remember(
        &self,
        key: &cache::CacheKey,
        info: std::collections::BTreeMap<String, String>,
        path: &StorePath,
        immutable: bool,
    ) {
        if let Some(c) = self.cache {
            let entry = cache::CacheEntry {
                info,
                store_path: path.to_base_name(),
                immutable,
                timestamp: cache::now(),
            };
            // a cache that cannot be written only costs a later download
            let _ = c.add(key, &entry);
        }
    }

    /// CppNix's `downloadFile`: the URL's content as a flat fixed-output path named `name`,
    /// from the cache while it is fresh (or when the download fails, with a warning), else
    /// downloaded (with the cached `ETag`). `immutable` entries never expire.
    ///
    /// # Errors
    /// Download, name and store errors.
    pub fn download_file(
        &self,
        url: &str,
        name: &str,
        immutable: bool,
    ) -> Result<DownloadedFile, FetchError> {
        Ok(self
            .download_file_impl(url, name, immutable, None, false)?
            .0)
    }

    /// [`Fetcher::download_file`], also moving a freshly downloaded file to `keep` (the
    /// boolean says whether that happened); `force` ignores a fresh cache entry.
    fn download_file_impl(
        &self,
        url: &str,
        name: &str,
        immutable: bool,
        keep: Option<&Path>,
        force: bool,
    ) -> Result<(DownloadedFile, bool), FetchError> {
        let key = cache::key(&[("type", "file"), ("url", url), ("name", name)]);
        let cached = self.lookup(&key);
        let from_cache = |c: &cache::Cached, p: &StorePath| -> Option<DownloadedFile> {
            let sha = c.entry.info.get("sha256")?;
            Some(DownloadedFile {
                store_path: p.clone(),
                sha256: Hash::parse_with_algo(sha, HashAlgo::Sha256).ok()?,
                etag: c.entry.info.get("etag").cloned(),
                effective_url: c
                    .entry
                    .info
                    .get("url")
                    .cloned()
                    .unwrap_or_else(|| url.to_string()),
            })
        };
        if let Some((c, p)) = &cached {
            if !c.expired && !force {
                if let Some(d) = from_cache(c, p) {
                    return Ok((d, false));
                }
            }
        }
        let tmp = tempfile::tempdir().map_err(io_err("creating temporary directory"))?;
        let file_path = tmp.path().join("download");
        let mut file =
            std::fs::File::create(&file_path).map_err(io_err("creating temporary file"))?;
        let etag = cached
            .as_ref()
            .and_then(|(c, _)| c.entry.info.get("etag").cloned());
        let result = {
            let mut reset = || {
                file.set_len(0)?;
                std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(0)).map(|_| ())
            };
            let mut out = std::fs::OpenOptions::new()
                .write(true)
                .open(&file_path)
                .map_err(io_err("opening temporary file"))?;
            download::download_with_retries(
                url,
                &mut out,
                etag.as_deref(),
                self.attempts,
                self.warn,
                &mut reset,
            )
        };
        let res = match result {
            Ok(r) => r,
            Err(e) => {
                if let Some((c, p)) = &cached {
                    if let Some(d) = from_cache(c, p) {
                        self.warn(&format!("{e}; using cached version"));
                        return Ok((d, false));
                    }
                }
                return Err(e.into());
            }
        };
        let mut kept = false;
        let (store_path, sha256) = match (&cached, res.not_modified) {
            (Some((c, p)), true) => match from_cache(c, p) {
                Some(d) => (d.store_path, d.sha256),
                None => return Err(self.missing_cache_hash(url)),
            },
            _ => {
                let expected = fixed_output_path(
                    self.store.store_dir(),
                    name,
                    FileIngestionMethod::Flat,
                    &res.sha256,
                )?;
                let p = self
                    .store
                    .add_path(name, &file_path, FileIngestionMethod::Flat)?;
                if p != expected {
                    return Err(FetchError::Message(format!(
                        "the store added '{}' as '{}'",
                        url,
                        p.to_base_name()
                    )));
                }
                if let Some(k) = keep {
                    if std::fs::rename(&file_path, k).is_err() {
                        std::fs::copy(&file_path, k)
                            .map_err(io_err(format!("copying '{}'", file_path.display())))?;
                    }
                    kept = true;
                }
                (p, res.sha256)
            }
        };
        let mut info = std::collections::BTreeMap::new();
        info.insert("etag".to_string(), res.etag.clone().unwrap_or_default());
        info.insert("url".to_string(), res.effective_url.clone());
        info.insert("sha256".to_string(), sha256.to_typed_nix32());
        self.remember(&key, info.clone(), &store_path, immutable);
        if res.effective_url != url {
            let key2 = cache::key(&[
                ("type", "file"),
                ("url", &res.effective_url),
                ("name", name),
            ]);
            self.remember(&key2, info, &store_path, immutable);
        }
        Ok((
            DownloadedFile {
                store_path,
                sha256,
                etag: res.etag,
                effective_url: res.effective_url,
            },
            kept,
        ))
    }

    fn missing_cache_hash(&self, url: &str) -> FetchError {
        FetchError::Io {
            what: format!("reading the download cache entry of '{url}'"),
            message: "the entry has no hash".into(),
        }
    }

    /// CppNix's `downloadTarball`: downloads (as [`Fetcher::download_file`], so the archive
    /// itself is also a store path), unpacks, requires a single top-level entry and adds it
    /// recursively under `name`. Fresh cache entries, and stale ones whose `ETag` the server
    /// confirms, skip the unpacking.
    ///
    /// # Errors
    /// Download, unpack, top-level and store errors.
    pub fn download_tarball(
        &self,
        url: &str,
        name: &str,
        immutable: bool,
    ) -> Result<DownloadedTree, FetchError> {
        let key = cache::key(&[("type", "tarball"), ("url", url), ("name", name)]);
        let cached = self.lookup(&key);
        let last_modified_of = |c: &cache::Cached| -> u64 {
            c.entry
                .info
                .get("lastModified")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0)
        };
        if let Some((c, p)) = &cached {
            if !c.expired {
                if let Some(h) = c
                    .entry
                    .info
                    .get("narHash")
                    .and_then(|h| Hash::parse_any(h).ok())
                {
                    return Ok(DownloadedTree {
                        store_path: p.clone(),
                        last_modified: last_modified_of(c),
                        nar_hash: h,
                    });
                }
            }
        }
        let tmp = tempfile::tempdir().map_err(io_err("creating temporary directory"))?;
        let archive = tmp.path().join("archive");
        let (file, kept) = self.download_file_impl(url, name, immutable, Some(&archive), false)?;
        let etag = file.etag.clone().unwrap_or_default();
        let same_etag = cached.as_ref().filter(|(c, _)| {
            !etag.is_empty() && c.entry.info.get("etag").map(String::as_str) == Some(&etag)
        });
        let (store_path, last_modified, nar_hash) = match same_etag {
            Some((c, p)) if c.entry.info.contains_key("narHash") => (
                p.clone(),
                last_modified_of(c),
                c.entry.info.get("narHash").cloned().unwrap_or_default(),
            ),
            _ => {
                if !kept && !self.store.export_file(&file.store_path, &archive)? {
                    // the archive is not readable back from this store: download it again
                    self.download_file_impl(url, name, immutable, Some(&archive), true)?;
                }
                let out = tmp.path().join("unpacked");
                std::fs::create_dir(&out).map_err(io_err("creating temporary directory"))?;
                unpack::unpack_file(&archive, &out)?;
                let top = unpack::single_top_level(&out)
                    .map_err(io_err("reading the unpacked tarball"))?
                    .ok_or_else(|| FetchError::TopLevel {
                        url: url.to_string(),
                    })?;
                let meta = std::fs::symlink_metadata(&top)
                    .map_err(io_err(format!("getting status of '{}'", top.display())))?;
                let mtime = {
                    use std::os::unix::fs::MetadataExt;
                    meta.mtime().max(0) as u64
                };
                let (digest, _) =
                    nix_nar::hash::dump_and_hash(&top).map_err(|e| FetchError::Io {
                        what: format!("hashing '{}'", top.display()),
                        message: e.to_string(),
                    })?;
                let nar_hash =
                    Hash::new(HashAlgo::Sha256, &digest).map_err(|e| FetchError::Io {
                        what: "hashing the unpacked tarball".into(),
                        message: e.to_string(),
                    })?;
                fixed_output_path(
                    self.store.store_dir(),
                    name,
                    FileIngestionMethod::Recursive,
                    &nar_hash,
                )?;
                let p = self
                    .store
                    .add_path(name, &top, FileIngestionMethod::Recursive)?;
                (p, mtime, nar_hash.to_typed_nix32())
            }
        };
        let mut info = std::collections::BTreeMap::new();
        info.insert("lastModified".to_string(), last_modified.to_string());
        info.insert("etag".to_string(), etag);
        info.insert("narHash".to_string(), nar_hash.clone());
        self.remember(&key, info, &store_path, immutable);
        Ok(DownloadedTree {
            store_path,
            last_modified,
            nar_hash: Hash::parse_any(&nar_hash).map_err(|e| FetchError::Message(e.to_string()))?,
        })
    }

    /// What `builtins.fetchurl` (`unpack = false`) and `builtins.fetchTarball` (`unpack =
    /// true`) do once their arguments are read: with `expected`, return the computed path if
    /// it is already valid; otherwise download (through the cache), and check the flat file
    /// hash or the NAR hash against `expected`. `name` defaults to the URL's base name for
    /// files and `source` for tarballs.
    ///
    /// # Errors
    /// [`FetchError::HashMismatch`], and everything [`Fetcher::download_file`] and
    /// [`Fetcher::download_tarball`] return.
    pub fn fetch(
        &self,
        url: &str,
        name: Option<&str>,
        expected: Option<&Hash>,
        unpack: bool,
    ) -> Result<StorePath, FetchError> {
        let name = match name {
            Some(n) if !n.is_empty() => n.to_string(),
            _ if unpack => "source".to_string(),
            _ => base_name_of(url).to_string(),
        };
        let method = if unpack {
            FileIngestionMethod::Recursive
        } else {
            FileIngestionMethod::Flat
        };
        if let Some(h) = expected {
            if h.algo() == HashAlgo::Sha256 {
                let p = fixed_output_path(self.store.store_dir(), &name, method, h)?;
                if self.store.is_valid_path(&p)? {
                    return Ok(p);
                }
            }
        }
        let immutable = expected.is_some();
        let (path, got) = if unpack {
            let t = self.download_tarball(url, &name, immutable)?;
            (t.store_path, Some(t.nar_hash))
        } else {
            let f = self.download_file(url, &name, immutable)?;
            (f.store_path, Some(f.sha256))
        };
        if let Some(want) = expected {
            if let Some(got) = got {
                if &got != want {
                    return Err(FetchError::HashMismatch {
                        url: url.to_string(),
                        specified: want.to_typed_nix32(),
                        got: got.to_typed_nix32(),
                    });
                }
            }
        }
        Ok(path)
    }

    /// `builtins.fetchurl`: [`Fetcher::fetch`] without unpacking.
    ///
    /// # Errors
    /// As [`Fetcher::fetch`].
    pub fn fetch_url(
        &self,
        url: &str,
        name: Option<&str>,
        expected: Option<&Hash>,
    ) -> Result<StorePath, FetchError> {
        self.fetch(url, name, expected, false)
    }

    /// `builtins.fetchTarball`: [`Fetcher::fetch`] with unpacking.
    ///
    /// # Errors
    /// As [`Fetcher::fetch`].
    pub fn fetch_tarball(
        &self,
        url: &str,
        name: Option<&str>,
        expected: Option<&Hash>,
    ) -> Result<StorePath, FetchError> {
        self.fetch(url, name, expected, true)
    }

    /// `builtins.fetchGit`: see [`git`].
    ///
    /// # Errors
    /// [`GitError`]s and store errors.
    pub fn fetch_git(&self, input: &GitInput) -> Result<GitTree, FetchError> {
        git::fetch(self, input)
    }

    /// `builtins.fetchMercurial`: see [`hg`].
    ///
    /// # Errors
    /// [`HgError`]s and store errors.
    pub fn fetch_mercurial(&self, input: &HgInput) -> Result<HgTree, FetchError> {
        hg::fetch(self, input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_names() {
        assert_eq!(base_name_of("http://h/a/b.tar.gz"), "b.tar.gz");
        assert_eq!(base_name_of("http://127.0.0.1:18931/"), "127.0.0.1:18931");
        assert_eq!(base_name_of("x"), "x");
        assert_eq!(base_name_of(""), "");
    }

    #[test]
    fn bad_name_has_cppnix_hash_part() -> Result<(), Box<dyn std::error::Error>> {
        // CppNix 2.8: builtins.fetchurl "http://127.0.0.1:PORT/h:x" serving "hello\n"
        let h = Hash::digest_bytes(HashAlgo::Sha256, b"hello\n");
        let e = fixed_output_path(&StoreDir::default(), "h:x", FileIngestionMethod::Flat, &h)
            .err()
            .ok_or("no error")?;
        assert_eq!(
            e.to_string(),
            "store path 'cf0gjmqgzbqkvy85hga4wi7sv23jya5w-h:x' contains illegal character ':'"
        );
        Ok(())
    }
}
