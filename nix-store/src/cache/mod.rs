//! Binary caches in CppNix's layout: read them, substitute from them, copy to them.
//!
//! A binary cache is a directory tree, on disk (`file://DIR`) or behind an HTTP(S) server
//! (`http://HOST/…`, `https://HOST/…`), laid out as CppNix 2.8 lays it out (nix-facts §5):
//!
//! ```text
//! nix-cache-info                  StoreDir: /nix/store   (+ WantMassQuery: 1, Priority: 40)
//! <hash part>.narinfo             one per store path (see [`crate::narinfo`])
//! nar/<nix32 FileHash>.nar.xz     the NAR, compressed (.xz, .zst, .bz2, or no extension)
//! ```
//!
//! * [`BinaryCache`] is the object-safe, `Send + Sync` backend trait: four file operations
//!   each backend implements ([`BinaryCache::get_file`], [`BinaryCache::file_exists`],
//!   [`BinaryCache::put_file`], [`BinaryCache::put_bytes`]) and provided methods on top of
//!   them (`nix-cache-info`, narinfo lookups with an in-memory positive/negative cache,
//!   decompressing NAR readers, narinfo writes).
//! * [`file::FileCache`] (`file://`) and [`http::HttpCache`] (`http://`, `https://`, feature
//!   `http`); [`open_cache`] picks one from a URL.
//! * [`Substituters`] fetches the missing closure of store paths from a list of caches into a
//!   [`Store`](crate::store::Store), in parallel, verifying each NAR's hash and size while it
//!   streams and requiring a trusted signature (or a content address that checks out).
//! * [`copy_to_cache`] writes a closure to a cache (compressed, signed, NAR before narinfo);
//!   [`copy_paths`] copies a closure between two stores.
//!
//! `.ls` listings, `log/` and `realisations/` are not read or written.
//!
//! # Example
//! ```
//! use std::collections::BTreeSet;
//! use nix_store::cache::{copy_to_cache, open_cache, Compression, CopyOptions, Substituters};
//! use nix_store::narinfo::{PublicKeys, SecretKey};
//! use nix_store::store::{local::LocalStore, Store};
//!
//! let (a, b, dir) = (tempfile::tempdir()?, tempfile::tempdir()?, tempfile::tempdir()?);
//! let from = LocalStore::open(a.path())?;
//! let path = from.add_text("hello.txt", b"hello\n", &BTreeSet::new())?;
//!
//! let cache = open_cache(&format!("file://{}", dir.path().display()), from.store_dir())?;
//! let key = SecretKey::generate("test-cache-1");
//! let options = CopyOptions { secret_key: Some(&key), compression: Compression::Xz };
//! copy_to_cache(&from, cache.as_ref(), &BTreeSet::from([path.clone()]), &options)?;
//!
//! let to = LocalStore::open(b.path())?;
//! let trusted: PublicKeys = [key.to_public()].into_iter().collect();
//! let subs = Substituters::new(vec![cache], trusted);
//! assert!(subs.substitute_path(&to, &path)?);
//! assert!(to.is_valid_path(&path)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod compression;
mod copy;
pub mod file;
#[cfg(feature = "http")]
pub mod http;
mod info;
mod substitute;
mod verify;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::narinfo::{NarInfo, NarInfoError};
use crate::path_info::PathInfoError;
use crate::store::StoreError;
use crate::store_path::{StoreDir, StorePath};

pub use compression::{Compression, Encoder};
pub use copy::{copy_paths, copy_to_cache, CopyOptions};
pub use info::CacheInfo;
pub use substitute::{Substituters, DEFAULT_JOBS};

/// Why a binary-cache operation failed. Every variant names the URL (or path) involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The cache URL cannot be used.
    #[error("invalid binary cache URL '{url}': {what}")]
    BadUrl {
        /// The URL.
        url: String,
        /// What is wrong.
        what: String,
    },
    /// A local file operation failed (`file://` caches, staging files).
    #[error("cannot {op} '{}'", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// An HTTP request failed before a status was received (DNS, connection, TLS, timeout).
    #[error("cannot {method} '{url}'")]
    Http {
        /// `GET`, `HEAD` or `PUT`.
        method: &'static str,
        /// The URL.
        url: String,
        /// The failure.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The server answered with an error status.
    #[error("HTTP error {status} for {method} '{url}'")]
    HttpStatus {
        /// `GET`, `HEAD` or `PUT`.
        method: &'static str,
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// Reading a file of the cache failed midway (after `offset` bytes of decompressed data).
    #[error("cannot read '{url}' at byte {offset}")]
    Read {
        /// The file's URL.
        url: String,
        /// Bytes delivered before the failure.
        offset: u64,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// The cache has no `nix-cache-info`.
    #[error("'{url}' does not appear to be a binary cache (no nix-cache-info)")]
    NotACache {
        /// The cache URL.
        url: String,
    },
    /// `nix-cache-info` is malformed.
    #[error("'{url}/nix-cache-info' line {line}: {what}")]
    CacheInfo {
        /// The cache URL.
        url: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        what: String,
    },
    /// The cache is for another store directory.
    #[error("binary cache '{url}' is for Nix stores with prefix '{cache}', not '{ours}'")]
    StoreDirMismatch {
        /// The cache URL.
        url: String,
        /// Its `StoreDir`.
        cache: String,
        /// Ours.
        ours: String,
    },
    /// A narinfo is malformed.
    #[error("NAR info file '{url}' is corrupt")]
    NarInfo {
        /// The narinfo's URL.
        url: String,
        /// What is wrong.
        #[source]
        source: NarInfoError,
    },
    /// A narinfo describes another path than the one it was fetched for.
    #[error("NAR info file '{url}' describes '{found}', not '{expected}'")]
    WrongNarInfo {
        /// The narinfo's URL.
        url: String,
        /// The path asked for.
        expected: String,
        /// The path in the narinfo.
        found: String,
    },
    /// A narinfo's `URL:` cannot be used (absolute, or leaves the cache).
    #[error("NAR info file '{url}' has an unusable URL '{nar_url}'")]
    BadNarUrl {
        /// The narinfo's URL.
        url: String,
        /// Its `URL:` field.
        nar_url: String,
    },
    /// The compression method is not supported.
    #[error("unsupported compression method '{name}' in '{url}'")]
    UnsupportedCompression {
        /// Where it was found.
        url: String,
        /// The method.
        name: String,
    },
    /// A narinfo lacks the `FileHash`/`NarHash` data needed to write it.
    #[error("path '{path}' has a {what} hash that is not sha256")]
    NotSha256 {
        /// The path.
        path: String,
        /// `NAR` or `file`.
        what: &'static str,
    },
    /// No signature by a trusted key, and not content-addressed.
    #[error("cannot add path '{path}' from '{url}' because it lacks a signature by a trusted key")]
    Untrusted {
        /// The path.
        path: String,
        /// The cache (or store) it came from.
        url: String,
    },
    /// The NAR's hash differs from its narinfo's `NarHash`.
    #[error("hash mismatch in NAR '{url}' of path '{path}':\n  specified: {expected}\n  got:       {got}")]
    NarHashMismatch {
        /// The path.
        path: String,
        /// The NAR's URL.
        url: String,
        /// `NarHash` (`sha256:<nix32>`).
        expected: String,
        /// The hash of what was received.
        got: String,
    },
    /// The NAR is shorter or longer than its narinfo's `NarSize` (`got` is a lower bound when
    /// it is longer).
    #[error("NAR '{url}' of path '{path}' has {got} bytes, but NarSize says {expected}")]
    NarSizeMismatch {
        /// The path.
        path: String,
        /// The NAR's URL.
        url: String,
        /// `NarSize`.
        expected: u64,
        /// Bytes received.
        got: u64,
    },
    /// A path trusted only through its content address has contents that do not match it.
    #[error("content address '{ca}' of path '{path}' does not match its NAR from '{url}'")]
    CaMismatch {
        /// The path.
        path: String,
        /// The NAR's URL.
        url: String,
        /// The content address.
        ca: String,
    },
    /// No cache has the path.
    #[error("path '{path}' is not available from any binary cache")]
    NotSubstitutable {
        /// The path.
        path: String,
    },
    /// The cache does not accept writes.
    #[error("binary cache '{url}' is read-only")]
    ReadOnly {
        /// The cache URL.
        url: String,
    },
    /// The path's fingerprint cannot be computed (to sign or verify it).
    #[error("cannot compute the fingerprint of '{path}'")]
    Fingerprint {
        /// The path.
        path: String,
        /// Why.
        #[source]
        source: PathInfoError,
    },
    /// The source store's NAR of a path does not match its recorded hash.
    #[error("refusing to copy corrupted path '{path}': its NAR hash is {got}, not {expected}")]
    SourceCorrupt {
        /// The path.
        path: String,
        /// The recorded hash.
        expected: String,
        /// The NAR's hash.
        got: String,
    },
    /// The operation was cancelled through its cancel flag.
    #[error("cancelled")]
    Cancelled,
    /// A store operation failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Per-cache memory: the checked `nix-cache-info` and the narinfos looked up so far
/// (including "not there"), shared by all threads using the cache.
#[derive(Debug, Default)]
pub struct CacheState {
    info: OnceLock<CacheInfo>,
    narinfos: Mutex<HashMap<String, Option<Arc<NarInfo>>>>,
}

impl CacheState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    fn get(&self, hash_part: &str) -> Option<Option<Arc<NarInfo>>> {
        self.narinfos
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(hash_part)
            .cloned()
    }

    fn put(&self, hash_part: &str, value: Option<Arc<NarInfo>>) {
        self.narinfos
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(hash_part.to_string(), value);
    }

    /// Forgets every narinfo looked up (positive and negative answers).
    pub fn clear(&self) {
        self.narinfos
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// A readable file of a cache: a streaming body.
pub type CacheReader = Box<dyn Read + Send>;

/// A binary cache backend (synchronous, object-safe).
///
/// Implementations provide raw file access relative to the cache root; everything
/// Nix-specific is a provided method. File names (`rel`) are relative paths such as
/// `nix-cache-info`, `<hash>.narinfo` or `nar/<hash>.nar.xz`.
pub trait BinaryCache: Send + Sync + std::fmt::Debug {
    /// The cache's URL (`file:///…`, `https://…`), without a trailing slash.
    fn url(&self) -> &str;

    /// The store directory the cache must be for (checked against `nix-cache-info`).
    fn store_dir(&self) -> &StoreDir;

    /// The cache's memory (see [`CacheState`]).
    fn state(&self) -> &CacheState;

    /// Opens `rel` for streaming; `None` if the cache has no such file.
    ///
    /// # Errors
    /// I/O or HTTP failures other than "not found".
    fn get_file(&self, rel: &str) -> Result<Option<CacheReader>, CacheError>;

    /// Whether `rel` exists.
    ///
    /// # Errors
    /// I/O or HTTP failures.
    fn file_exists(&self, rel: &str) -> Result<bool, CacheError>;

    /// Stores the local file `local` as `rel`, atomically (a reader sees the whole file or
    /// none). `local` is consumed: moved or copied, then removed.
    ///
    /// # Errors
    /// [`CacheError::ReadOnly`], I/O or HTTP failures.
    fn put_file(&self, rel: &str, local: &Path) -> Result<(), CacheError>;

    /// Stores `data` as `rel`, atomically.
    ///
    /// # Errors
    /// [`CacheError::ReadOnly`], I/O or HTTP failures.
    fn put_bytes(&self, rel: &str, data: &[u8]) -> Result<(), CacheError>;

    /// A local directory for staging files before [`BinaryCache::put_file`] (on the same
    /// file system as the cache for `file://`, so the final step is a rename).
    ///
    /// # Errors
    /// The directory cannot be created.
    fn staging_dir(&self) -> Result<PathBuf, CacheError> {
        Ok(std::env::temp_dir())
    }

    /// The URL of a file of the cache.
    fn file_url(&self, rel: &str) -> String {
        format!("{}/{rel}", self.url())
    }

    /// Reads `nix-cache-info` (once; later calls return the remembered value) and checks
    /// that its `StoreDir` is ours.
    ///
    /// # Errors
    /// [`CacheError::NotACache`], [`CacheError::CacheInfo`],
    /// [`CacheError::StoreDirMismatch`], I/O.
    fn cache_info(&self) -> Result<CacheInfo, CacheError> {
        if let Some(i) = self.state().info.get() {
            return Ok(i.clone());
        }
        let Some(mut r) = self.get_file(info::FILE)? else {
            return Err(CacheError::NotACache {
                url: self.url().to_string(),
            });
        };
        let text = read_text(&mut r, &self.file_url(info::FILE), 1 << 16)?;
        let parsed = CacheInfo::parse(&text).map_err(|(line, what)| CacheError::CacheInfo {
            url: self.url().to_string(),
            line,
            what,
        })?;
        parsed.check_store_dir(self.url(), self.store_dir())?;
        Ok(self.state().info.get_or_init(|| parsed).clone())
    }

    /// Makes sure the cache exists: writes `info` as `nix-cache-info` if there is none (as
    /// CppNix does when it opens a writable cache), else checks the existing one.
    ///
    /// # Errors
    /// As [`BinaryCache::cache_info`] and [`BinaryCache::put_bytes`].
    fn init(&self, info: &CacheInfo) -> Result<CacheInfo, CacheError> {
        if !self.file_exists(info::FILE)? {
            self.put_bytes(info::FILE, info.to_text().as_bytes())?;
        }
        self.cache_info()
    }

    /// The narinfo of `path`, `None` if the cache does not have it. Answers (both ways) are
    /// remembered in [`BinaryCache::state`].
    ///
    /// # Errors
    /// [`CacheError::NarInfo`], [`CacheError::WrongNarInfo`], I/O or HTTP failures.
    fn query_narinfo(&self, path: &StorePath) -> Result<Option<Arc<NarInfo>>, CacheError> {
        let hash = path.hash_part();
        if let Some(known) = self.state().get(hash) {
            return Ok(known);
        }
        let rel = format!("{hash}.narinfo");
        let url = self.file_url(&rel);
        let found = match self.get_file(&rel)? {
            None => None,
            Some(mut r) => {
                let text = read_text(&mut r, &url, 1 << 24)?;
                let info = NarInfo::parse(&text, self.store_dir()).map_err(|source| {
                    CacheError::NarInfo {
                        url: url.clone(),
                        source,
                    }
                })?;
                if info.info.path != *path {
                    return Err(CacheError::WrongNarInfo {
                        url,
                        expected: self.store_dir().display(path),
                        found: self.store_dir().display(&info.info.path),
                    });
                }
                Some(Arc::new(info))
            }
        };
        self.state().put(hash, found.clone());
        Ok(found)
    }

    /// Whether the cache has a narinfo for `path`.
    ///
    /// # Errors
    /// As [`BinaryCache::query_narinfo`].
    fn has_path(&self, path: &StorePath) -> Result<bool, CacheError> {
        Ok(self.query_narinfo(path)?.is_some())
    }

    /// Opens the NAR `info` points to and decompresses it while it streams. The NAR is not
    /// verified here (see [`Substituters`], which checks its hash and size).
    ///
    /// # Errors
    /// [`CacheError::BadNarUrl`], [`CacheError::UnsupportedCompression`], a missing NAR
    /// ([`CacheError::HttpStatus`] 404 or [`CacheError::Io`] not found), I/O.
    fn nar_reader(&self, info: &NarInfo) -> Result<CacheReader, CacheError> {
        let rel = checked_rel(&info.url).ok_or_else(|| CacheError::BadNarUrl {
            url: self.file_url(&format!("{}.narinfo", info.info.path.hash_part())),
            nar_url: info.url.clone(),
        })?;
        let url = self.file_url(rel);
        let compression = Compression::from_name(info.compression()).ok_or_else(|| {
            CacheError::UnsupportedCompression {
                url: url.clone(),
                name: info.compression().to_string(),
            }
        })?;
        let raw = self.get_file(rel)?.ok_or_else(|| CacheError::Read {
            url: url.clone(),
            offset: 0,
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "the NAR file is missing"),
        })?;
        compression.decoder(raw).map_err(|source| CacheError::Read {
            url,
            offset: 0,
            source,
        })
    }

    /// Writes `info` as `<hash>.narinfo` (atomically) and remembers it.
    ///
    /// # Errors
    /// As [`BinaryCache::put_bytes`].
    fn write_narinfo(&self, info: &NarInfo) -> Result<(), CacheError> {
        let hash = info.info.path.hash_part().to_string();
        self.put_bytes(
            &format!("{hash}.narinfo"),
            info.to_text(self.store_dir()).as_bytes(),
        )?;
        self.state().put(&hash, Some(Arc::new(info.clone())));
        Ok(())
    }
}

/// `rel` if it is a relative path that stays inside the cache.
fn checked_rel(rel: &str) -> Option<&str> {
    let ok = !rel.is_empty()
        && !rel.starts_with('/')
        && !rel.contains("://")
        && !rel.contains('\\')
        && rel
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..");
    ok.then_some(rel)
}

/// Reads a small text file (at most `limit` bytes).
fn read_text(r: &mut CacheReader, url: &str, limit: u64) -> Result<String, CacheError> {
    let mut buf = Vec::new();
    r.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|source| CacheError::Read {
            url: url.to_string(),
            offset: buf.len() as u64,
            source,
        })?;
    if buf.len() as u64 > limit {
        return Err(CacheError::Read {
            url: url.to_string(),
            offset: limit,
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("file is larger than {limit} bytes"),
            ),
        });
    }
    String::from_utf8(buf).map_err(|e| CacheError::Read {
        url: url.to_string(),
        offset: e.utf8_error().valid_up_to() as u64,
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, "file is not UTF-8"),
    })
}

/// Opens the cache at `url`: `file://DIR` (an absolute directory) or, with feature `http`,
/// `http://…`/`https://…`. Nothing is read yet. A `?compression=…` query parameter is
/// accepted and ignored here (pass the compression to [`copy_to_cache`]).
///
/// # Errors
/// [`CacheError::BadUrl`] for other schemes, query parameters or a relative directory.
pub fn open_cache(url: &str, store_dir: &StoreDir) -> Result<Box<dyn BinaryCache>, CacheError> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    for kv in query.into_iter().flat_map(|q| q.split('&')) {
        let key = kv.split_once('=').map_or(kv, |(k, _)| k);
        if key != "compression" {
            return Err(CacheError::BadUrl {
                url: url.to_string(),
                what: format!("unsupported parameter '{key}'"),
            });
        }
    }
    if let Some(dir) = base.strip_prefix("file://") {
        return Ok(Box::new(file::FileCache::open(dir, store_dir.clone())?));
    }
    if base.starts_with("http://") || base.starts_with("https://") {
        #[cfg(feature = "http")]
        return Ok(Box::new(http::HttpCache::new(
            base,
            store_dir.clone(),
            http::HttpOptions::default(),
        )?));
        #[cfg(not(feature = "http"))]
        return Err(CacheError::BadUrl {
            url: url.to_string(),
            what: "HTTP support is disabled (feature 'http')".into(),
        });
    }
    Err(CacheError::BadUrl {
        url: url.to_string(),
        what: "expected file://, http:// or https://".into(),
    })
}

/// The `compression=` parameter of a cache URL, if any.
///
/// # Errors
/// [`CacheError::UnsupportedCompression`] for an unknown method.
pub fn url_compression(url: &str) -> Result<Option<Compression>, CacheError> {
    let Some((_, q)) = url.split_once('?') else {
        return Ok(None);
    };
    for kv in q.split('&') {
        if let Some(v) = kv.strip_prefix("compression=") {
            return Compression::from_name(v).map(Some).ok_or_else(|| {
                CacheError::UnsupportedCompression {
                    url: url.to_string(),
                    name: v.to_string(),
                }
            });
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_nar_urls_stay_inside_the_cache() {
        assert_eq!(checked_rel("nar/abc.nar.xz"), Some("nar/abc.nar.xz"));
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "nar/../../x",
            "https://evil/x",
            "nar//x",
            "./x",
        ] {
            assert_eq!(checked_rel(bad), None, "{bad}");
        }
    }

    #[test]
    fn urls_are_checked() {
        let dir = StoreDir::default();
        assert!(matches!(
            open_cache("s3://bucket", &dir),
            Err(CacheError::BadUrl { .. })
        ));
        assert!(matches!(
            open_cache("file:///tmp/x?priority=10", &dir),
            Err(CacheError::BadUrl { .. })
        ));
        assert!(matches!(
            open_cache("file://relative/dir", &dir),
            Err(CacheError::BadUrl { .. })
        ));
        assert_eq!(
            url_compression("file:///x?compression=zstd").ok().flatten(),
            Some(Compression::Zstd)
        );
    }

    #[test]
    fn caches_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Box<dyn BinaryCache>>();
        check::<Substituters>();
    }
}
