//! Stores: the synchronous [`Store`] trait and its implementations.
//!
//! * [`local::LocalStore`]: a CppNix-compatible local store (`R/nix/store` plus the SQLite
//!   database in `R/nix/var/nix/db`), readable and writable by CppNix 2.8 too.
//! * [`memory::MemoryStore`]: keeps everything in memory, for tests.
//! * `async_store` (feature `async`): an `async-trait` view of any [`Store`].
//!
//! Everything that only needs queries (closures, export) is a provided method, so it works
//! for every implementation.
//!
//! # Example
//! ```
//! use nix_store::store::{local::LocalStore, Store};
//! let root = tempfile::tempdir()?;
//! let store = LocalStore::open(root.path())?;
//! let path = store.add_text("hello.txt", b"hello\n", &Default::default())?;
//! assert_eq!(
//!     store.store_dir().display(&path),
//!     "/nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt"
//! );
//! assert!(store.is_valid_path(&path)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "async")]
pub mod async_store;
pub mod local;
pub mod memory;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::closure::{self, TopoSortError};
use crate::content_address::{ContentAddress, FileIngestionMethod};
use crate::hash::{Hash, HashAlgo};
use crate::store_path::{StoreDir, StorePath, StorePathError};

/// The magic number after each NAR in a `nix-store --export` stream ("NIXE").
pub const EXPORT_MAGIC: u64 = 0x4558_494e;

/// Everything a store knows about a valid path (one `ValidPaths` row and its references).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPathInfo {
    /// The path.
    pub path: StorePath,
    /// The derivation that produced it, if known.
    pub deriver: Option<StorePath>,
    /// SHA-256 of its NAR.
    pub nar_hash: Hash,
    /// Paths it references (may include itself).
    pub references: BTreeSet<StorePath>,
    /// When it was registered (Unix seconds).
    pub registration_time: i64,
    /// Size of its NAR in bytes.
    pub nar_size: u64,
    /// Built locally.
    pub ultimate: bool,
    /// Signatures (`name:base64`).
    pub sigs: Vec<String>,
    /// Content-address assertion.
    pub ca: Option<ContentAddress>,
}

/// Errors of store operations.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] local::db::DbError),
    /// A file operation failed.
    #[error("{op} '{}'", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// On which file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// A stream (export/import/NAR output) failed.
    #[error("{op}")]
    Stream {
        /// What was being done.
        op: &'static str,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// Dumping a path as a NAR failed.
    #[error("cannot serialise '{}'", path.display())]
    Nar {
        /// The path.
        path: PathBuf,
        /// The failure.
        #[source]
        source: nix_nar::Error,
    },
    /// A NAR is invalid, or reading it failed.
    #[error("invalid NAR starting at byte {start} of the input")]
    NarRead {
        /// Where the NAR starts in the input (0 for a bare NAR; the offset of the error inside
        /// the NAR is the source's [`offset`](nix_nar::reader::Error::offset), so the error is
        /// at byte `start + offset` of the input).
        start: u64,
        /// What is wrong, and where in the NAR.
        #[source]
        source: nix_nar::reader::Error,
    },
    /// Writing the files of a NAR failed.
    #[error("cannot restore a NAR to '{}'", path.display())]
    NarRestore {
        /// The target of the restore.
        path: PathBuf,
        /// The failure.
        #[source]
        source: nix_nar::restore::Error,
    },
    /// A path or name is not valid.
    #[error(transparent)]
    StorePath(#[from] StorePathError),
    /// The path is not valid in this store.
    #[error("path '{path}' is not valid")]
    InvalidPath {
        /// The path (full).
        path: String,
    },
    /// The NAR's hash differs from the expected one.
    #[error("hash mismatch importing path '{path}';\n  specified: {expected}\n  got:       {got}")]
    HashMismatch {
        /// The path (full).
        path: String,
        /// The claimed hash (`sha256:<nix32>`).
        expected: String,
        /// The computed hash.
        got: String,
    },
    /// The NAR's size differs from the expected one.
    #[error("size mismatch importing path '{path}';\n  specified: {expected}\n  got:       {got}")]
    SizeMismatch {
        /// The path.
        path: String,
        /// Claimed size.
        expected: u64,
        /// Actual size.
        got: u64,
    },
    /// A reference of a path to register is not valid.
    #[error("cannot add path '{path}' because it references invalid path '{reference}'")]
    MissingReference {
        /// The path.
        path: String,
        /// The invalid reference.
        reference: String,
    },
    /// A path to delete is still referenced.
    #[error("cannot delete path '{path}' since it is still alive")]
    StillAlive {
        /// The path.
        path: String,
    },
    /// An export stream is malformed.
    #[error("bad export stream at byte {offset}: {what}")]
    BadExport {
        /// Offset in the stream.
        offset: u64,
        /// What is wrong.
        what: String,
    },
    /// The reference graph has a cycle.
    #[error("cycle detected in the references of '{path}' from '{parent}'")]
    Cycle {
        /// The path reached again.
        path: String,
        /// The path it was reached from.
        parent: String,
    },
    /// A lock could not be taken.
    #[error(transparent)]
    Lock(#[from] local::lock::LockError),
    /// The file type cannot be stored.
    #[error("file '{}' has an unsupported type", path.display())]
    UnsupportedFileType {
        /// The file.
        path: PathBuf,
    },
    /// Flat ingestion of something that is not a regular file.
    #[error("'{}' is not a regular file (needed for flat hashing)", path.display())]
    NotARegularFile {
        /// The file.
        path: PathBuf,
    },
}

/// How to ingest a file system object with [`Store::add_path`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddOptions {
    /// Flat (one regular file's bytes) or recursive (NAR).
    pub method: FileIngestionMethod,
    /// The hash algorithm of the content address (`sha256` for `nix-store --add`).
    pub algo: HashAlgo,
}

impl Default for AddOptions {
    /// Recursive sha256: what `nix-store --add` does (a source path).
    fn default() -> Self {
        AddOptions {
            method: FileIngestionMethod::Recursive,
            algo: HashAlgo::Sha256,
        }
    }
}

/// The result of [`Store::verify`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Valid paths whose files were missing and that nothing referenced: removed from the
    /// database (CppNix: "path '…' disappeared, removing from database...").
    pub invalidated: Vec<StorePath>,
    /// Valid paths whose files are missing but that valid paths still reference.
    pub missing: Vec<StorePath>,
    /// Paths whose recomputed NAR hash differs: (path, recorded, actual `sha256:<nix32>`).
    pub hash_mismatches: Vec<(StorePath, String, String)>,
    /// Paths whose recorded size was wrong or missing (repaired when asked).
    pub size_fixed: Vec<StorePath>,
    /// Problems found by the database's own checks.
    pub db_problems: Vec<String>,
}

impl VerifyReport {
    /// Whether nothing was found.
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.hash_mismatches.is_empty() && self.db_problems.is_empty()
    }
}

/// A Nix store (synchronous, object-safe).
pub trait Store: Send + Sync + std::fmt::Debug {
    /// The logical store directory (`/nix/store`).
    fn store_dir(&self) -> &StoreDir;

    /// Whether `path` is valid.
    ///
    /// # Errors
    /// Backend failures.
    fn is_valid_path(&self, path: &StorePath) -> Result<bool, StoreError>;

    /// The info of a valid path, `None` if it is not valid.
    ///
    /// # Errors
    /// Backend failures.
    fn query_path_info(&self, path: &StorePath) -> Result<Option<ValidPathInfo>, StoreError>;

    /// Valid paths that reference `path`.
    ///
    /// # Errors
    /// Backend failures.
    fn query_referrers(&self, path: &StorePath) -> Result<BTreeSet<StorePath>, StoreError>;

    /// Valid derivations that list `path` as an output.
    ///
    /// # Errors
    /// Backend failures.
    fn query_valid_derivers(&self, path: &StorePath) -> Result<BTreeSet<StorePath>, StoreError>;

    /// The outputs (name → path) of a valid derivation.
    ///
    /// # Errors
    /// Backend failures.
    fn query_derivation_outputs(
        &self,
        drv: &StorePath,
    ) -> Result<BTreeMap<String, StorePath>, StoreError>;

    /// The valid path with this 32-character hash part.
    ///
    /// # Errors
    /// Backend failures.
    fn query_path_from_hash_part(&self, hash_part: &str) -> Result<Option<StorePath>, StoreError>;

    /// Every valid path.
    ///
    /// # Errors
    /// Backend failures.
    fn query_all_valid_paths(&self) -> Result<BTreeSet<StorePath>, StoreError>;

    /// Adds the file system object at `source` under `name`, content-addressed as `options`
    /// says, with `references`. Returns the (possibly already valid) path.
    ///
    /// # Errors
    /// I/O, an invalid name, an unsupported file type.
    fn add_path(
        &self,
        name: &str,
        source: &Path,
        options: AddOptions,
        references: &BTreeSet<StorePath>,
    ) -> Result<StorePath, StoreError>;

    /// Adds a text path (`builtins.toFile`, `.drv` files).
    ///
    /// # Errors
    /// I/O, an invalid name, an invalid reference.
    fn add_text(
        &self,
        name: &str,
        contents: &[u8],
        references: &BTreeSet<StorePath>,
    ) -> Result<StorePath, StoreError>;

    /// Adds a path from its NAR and info (import, substitution). The NAR hash and size are
    /// checked; references must be valid (or the path itself).
    ///
    /// # Errors
    /// [`StoreError::HashMismatch`], [`StoreError::SizeMismatch`],
    /// [`StoreError::MissingReference`], NAR syntax errors, I/O.
    fn add_nar(&self, info: &ValidPathInfo, nar: &mut dyn Read) -> Result<(), StoreError>;

    /// Writes the NAR of a valid path; returns its size.
    ///
    /// # Errors
    /// [`StoreError::InvalidPath`], I/O.
    fn nar_from_path(&self, path: &StorePath, out: &mut dyn Write) -> Result<u64, StoreError>;

    /// Deletes a valid path that no other valid path references.
    ///
    /// # Errors
    /// [`StoreError::StillAlive`] if it is referenced, [`StoreError::InvalidPath`].
    fn delete_path(&self, path: &StorePath) -> Result<(), StoreError>;

    /// Checks that files exist (a missing path that nothing references is removed from the
    /// database, as CppNix does), recomputes NAR hashes (when `check_contents`), and with
    /// `repair` fixes recorded sizes.
    ///
    /// # Errors
    /// Backend failures (damage is reported, not returned as an error).
    fn verify(&self, check_contents: bool, repair: bool) -> Result<VerifyReport, StoreError>;

    /// References of a valid path.
    ///
    /// # Errors
    /// [`StoreError::InvalidPath`] if it is not valid.
    fn query_references(&self, path: &StorePath) -> Result<BTreeSet<StorePath>, StoreError> {
        self.query_path_info(path)?
            .map(|i| i.references)
            .ok_or_else(|| self.invalid(path))
    }

    /// A [`StoreError::InvalidPath`] for `path`.
    fn invalid(&self, path: &StorePath) -> StoreError {
        StoreError::InvalidPath {
            path: self.store_dir().display(path),
        }
    }

    /// The closure of `paths` over references (`nix-store -qR` before sorting).
    ///
    /// # Errors
    /// [`StoreError::InvalidPath`] if a path in it is not valid.
    fn closure(&self, paths: &BTreeSet<StorePath>) -> Result<BTreeSet<StorePath>, StoreError> {
        closure::closure(paths.iter().cloned(), |p| self.query_references(p))
    }

    /// The closure over referrers (`nix-store -q --referrers-closure`).
    ///
    /// # Errors
    /// Backend failures.
    fn referrers_closure(
        &self,
        paths: &BTreeSet<StorePath>,
    ) -> Result<BTreeSet<StorePath>, StoreError> {
        closure::closure(paths.iter().cloned(), |p| self.query_referrers(p))
    }

    /// `paths` sorted referrers first (CppNix's `topoSortPaths`).
    ///
    /// # Errors
    /// [`StoreError::Cycle`], [`StoreError::InvalidPath`].
    fn topo_sort(&self, paths: &BTreeSet<StorePath>) -> Result<Vec<StorePath>, StoreError> {
        closure::topo_sort(paths, |p| self.query_references(p)).map_err(|e| match e {
            TopoSortError::Cycle { path, parent } => StoreError::Cycle {
                path: self.store_dir().display(&path),
                parent: self.store_dir().display(&parent),
            },
            TopoSortError::References(e) => e,
        })
    }

    /// Writes `paths` in `nix-store --export` format, references first.
    ///
    /// # Errors
    /// [`StoreError::InvalidPath`], I/O.
    fn export_paths(
        &self,
        paths: &BTreeSet<StorePath>,
        out: &mut dyn Write,
    ) -> Result<(), StoreError> {
        let mut sorted = self.topo_sort(paths)?;
        sorted.reverse();
        let w = |out: &mut dyn Write, b: &[u8]| {
            out.write_all(b).map_err(|source| StoreError::Stream {
                op: "cannot write export stream",
                source,
            })
        };
        for p in &sorted {
            let info = self.query_path_info(p)?.ok_or_else(|| self.invalid(p))?;
            w(out, &1u64.to_le_bytes())?;
            self.nar_from_path(p, out)?;
            let mut tail = Vec::new();
            tail.extend_from_slice(&EXPORT_MAGIC.to_le_bytes());
            put_str(&mut tail, self.store_dir().display(p).as_bytes());
            tail.extend_from_slice(&(info.references.len() as u64).to_le_bytes());
            for r in &info.references {
                put_str(&mut tail, self.store_dir().display(r).as_bytes());
            }
            let deriver = info
                .deriver
                .as_ref()
                .map(|d| self.store_dir().display(d))
                .unwrap_or_default();
            put_str(&mut tail, deriver.as_bytes());
            tail.extend_from_slice(&0u64.to_le_bytes());
            w(out, &tail)?;
        }
        w(out, &0u64.to_le_bytes())
    }

    /// Reads a `nix-store --export` stream and adds every path in it (already valid paths
    /// are kept as they are). Returns the paths in stream order.
    ///
    /// # Errors
    /// [`StoreError::BadExport`], NAR errors, [`StoreError::MissingReference`].
    fn import_paths(&self, input: &mut dyn Read) -> Result<Vec<StorePath>, StoreError> {
        let mut r = ExportReader {
            inner: std::io::BufReader::new(input),
            pos: 0,
        };
        let mut out = Vec::new();
        loop {
            match r.u64()? {
                0 => break,
                1 => {}
                other => {
                    return Err(StoreError::BadExport {
                        offset: r.pos - 8,
                        what: format!("unexpected record marker {other}"),
                    })
                }
            }
            let nar = r.nar()?;
            let magic = r.u64()?;
            if magic != EXPORT_MAGIC {
                return Err(StoreError::BadExport {
                    offset: r.pos - 8,
                    what: "input doesn't look like something created by 'nix-store --export'"
                        .into(),
                });
            }
            let path_text = r.string()?;
            let path = self.store_dir().parse_path(&path_text)?;
            let n = r.u64()?;
            if n > 1 << 20 {
                return Err(StoreError::BadExport {
                    offset: r.pos - 8,
                    what: format!("too many references ({n})"),
                });
            }
            let mut references = BTreeSet::new();
            for _ in 0..n {
                references.insert(self.store_dir().parse_path(&r.string()?)?);
            }
            let deriver = r.string()?;
            let deriver = if deriver.is_empty() {
                None
            } else {
                Some(self.store_dir().parse_path(&deriver)?)
            };
            if r.u64()? == 1 {
                // An old-style signature: ignored, as CppNix does.
                r.string()?;
            }
            if !self.is_valid_path(&path)? {
                let nar_hash = Hash::digest_bytes(HashAlgo::Sha256, &nar);
                let info = ValidPathInfo {
                    path: path.clone(),
                    deriver,
                    nar_hash,
                    references,
                    registration_time: now_secs(),
                    nar_size: nar.len() as u64,
                    ultimate: false,
                    sigs: Vec::new(),
                    ca: None,
                };
                self.add_nar(&info, &mut &nar[..])?;
            }
            out.push(path);
        }
        Ok(out)
    }
}

/// Reads an export stream, counting the bytes consumed (for error offsets).
struct ExportReader<'a> {
    inner: std::io::BufReader<&'a mut dyn Read>,
    pos: u64,
}

impl ExportReader<'_> {
    fn u64(&mut self) -> Result<u64, StoreError> {
        let mut b = [0u8; 8];
        self.inner
            .read_exact(&mut b)
            .map_err(|source| StoreError::Stream {
                op: "cannot read export stream",
                source,
            })?;
        self.pos += 8;
        Ok(u64::from_le_bytes(b))
    }

    fn string(&mut self) -> Result<String, StoreError> {
        let len = self.u64()?;
        if len > 4096 {
            return Err(StoreError::BadExport {
                offset: self.pos - 8,
                what: format!("string of {len} bytes is too long"),
            });
        }
        let padded = len.div_ceil(8) * 8;
        let mut b = vec![0u8; padded as usize];
        self.inner
            .read_exact(&mut b)
            .map_err(|source| StoreError::Stream {
                op: "cannot read export stream",
                source,
            })?;
        self.pos += padded;
        b.truncate(len as usize);
        String::from_utf8(b).map_err(|_| StoreError::BadExport {
            offset: self.pos,
            what: "string is not UTF-8".into(),
        })
    }

    /// Reads (and checks) exactly one NAR, leaving the stream just after it.
    fn nar(&mut self) -> Result<Vec<u8>, StoreError> {
        let start = self.pos;
        let options = nix_nar::reader::Options {
            allow_trailing_data: true,
            ..Default::default()
        };
        let mut reader = nix_nar::reader::Reader::with_options(&mut self.inner, options);
        let mut bytes = Vec::new();
        let res = nix_nar::reader::transcode(&mut reader, &mut bytes);
        self.pos += reader.offset();
        match res {
            Ok(_) => Ok(bytes),
            Err(e) => Err(transcode_error(start, e)),
        }
    }
}

/// Reads one NAR from `input` (which must hold nothing else) into memory, checking it.
pub(crate) fn read_whole_nar(input: &mut dyn Read) -> Result<Vec<u8>, StoreError> {
    let mut reader = nix_nar::reader::Reader::new(std::io::BufReader::new(input));
    let mut bytes = Vec::new();
    nix_nar::reader::transcode(&mut reader, &mut bytes).map_err(|e| transcode_error(0, e))?;
    Ok(bytes)
}

fn transcode_error(start: u64, e: nix_nar::reader::TranscodeError) -> StoreError {
    match e {
        nix_nar::reader::TranscodeError::Read(source) => StoreError::NarRead { start, source },
        // Writing into a `Vec` cannot fail; keep whatever it says anyway.
        other => StoreError::Stream {
            op: "cannot copy NAR",
            source: std::io::Error::other(other),
        },
    }
}

/// Maps an error of [`nix_nar::restore::restore`] into `target`.
pub(crate) fn restore_error(target: &Path, e: nix_nar::restore::Error) -> StoreError {
    match e {
        nix_nar::restore::Error::Read(source) => StoreError::NarRead { start: 0, source },
        source => StoreError::NarRestore {
            path: target.to_path_buf(),
            source,
        },
    }
}

/// Appends a wire string (length, bytes, zero padding to 8).
pub(crate) fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s);
    out.resize(out.len() + (8 - s.len() % 8) % 8, 0);
}

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_objects_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<local::LocalStore>();
        check::<memory::MemoryStore>();
        check::<Box<dyn Store>>();
    }
}
