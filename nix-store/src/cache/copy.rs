//! Copying closures: store → binary cache ([`copy_to_cache`]) and store → store
//! ([`copy_paths`]).

use std::collections::BTreeSet;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use super::verify::Verifier;
use super::{BinaryCache, CacheError, CacheInfo, Compression};
use crate::hash::{HashAlgo, Hasher};
use crate::narinfo::{NarInfo, PublicKeys, SecretKey};
use crate::path_info::PathInfo;
use crate::store::{now_secs, Store, ValidPathInfo};
use crate::store_path::StorePath;

/// Knobs of [`copy_to_cache`].
#[derive(Debug, Clone, Copy, Default)]
pub struct CopyOptions<'a> {
    /// Sign each narinfo with this key (existing signatures are kept).
    pub secret_key: Option<&'a SecretKey>,
    /// How to compress the NARs (default xz, as CppNix).
    pub compression: Compression,
}

/// The narinfo view of a store's path info.
fn to_path_info(v: &ValidPathInfo) -> PathInfo {
    PathInfo {
        path: v.path.clone(),
        deriver: v.deriver.clone(),
        nar_hash: v.nar_hash,
        nar_size: v.nar_size,
        references: v.references.clone(),
        registration_time: 0,
        ultimate: false,
        signatures: v.sigs.iter().cloned().collect(),
        ca: v.ca,
    }
}

/// Counts and hashes what passes through.
struct HashingWriter<W> {
    inner: W,
    hasher: Hasher,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Removes a staging file unless it was handed over.
struct Staged(Option<PathBuf>);

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// The closure of `paths` in `from`, references first.
fn closure_in_order(
    from: &dyn Store,
    paths: &BTreeSet<StorePath>,
) -> Result<Vec<StorePath>, CacheError> {
    let closure = from.closure(paths)?;
    let mut order = from.topo_sort(&closure)?;
    order.reverse();
    Ok(order)
}

/// Copies the closure of `paths` from `from` to `cache`, references first. Paths the cache
/// already has are skipped. For each path the compressed NAR is staged, hashed and moved to
/// `nar/<nix32 FileHash>.nar<ext>`, then the (signed) narinfo is written: a reader never
/// sees a narinfo whose NAR is missing. `nix-cache-info` is written if the cache has none.
/// Returns the paths copied.
///
/// # Errors
/// [`CacheError::SourceCorrupt`] if a NAR in `from` does not match its recorded hash, store,
/// cache and I/O errors.
pub fn copy_to_cache(
    from: &dyn Store,
    cache: &dyn BinaryCache,
    paths: &BTreeSet<StorePath>,
    options: &CopyOptions<'_>,
) -> Result<Vec<StorePath>, CacheError> {
    cache.init(&CacheInfo::new(from.store_dir()))?;
    let mut copied = Vec::new();
    for p in closure_in_order(from, paths)? {
        if cache.has_path(&p)? {
            continue;
        }
        copy_one_to_cache(from, cache, &p, options)?;
        copied.push(p);
    }
    Ok(copied)
}

fn copy_one_to_cache(
    from: &dyn Store,
    cache: &dyn BinaryCache,
    p: &StorePath,
    options: &CopyOptions<'_>,
) -> Result<(), CacheError> {
    let sd = from.store_dir();
    let full = sd.display(p);
    let info = from.query_path_info(p)?.ok_or_else(|| from.invalid(p))?;
    if info.nar_hash.algo() != HashAlgo::Sha256 {
        return Err(CacheError::NotSha256 {
            path: full,
            what: "NAR",
        });
    }
    let compression = options.compression;
    let staging_dir = cache.staging_dir()?;
    let staging = super::file::temp_name(&staging_dir.join(format!(
        "{}.nar{}",
        p.hash_part(),
        compression.extension()
    )));
    let guard = Staged(Some(staging.clone()));
    let io_err = |op: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source: io::Error| CacheError::Io { op, path, source }
    };
    let file = std::fs::File::create(&staging).map_err(io_err("create", &staging))?;
    let file_writer = HashingWriter {
        inner: BufWriter::with_capacity(1 << 16, file),
        hasher: Hasher::new(HashAlgo::Sha256),
    };
    let encoder = compression
        .encoder(file_writer)
        .map_err(io_err("compress into", &staging))?;
    let mut nar_writer = HashingWriter {
        inner: encoder,
        hasher: Hasher::new(HashAlgo::Sha256),
    };
    from.nar_from_path(p, &mut nar_writer)?;
    let nar_size = nar_writer.hasher.bytes_hashed();
    let nar_hash = nar_writer.hasher.finish();
    let file_writer = nar_writer
        .inner
        .finish()
        .map_err(io_err("compress into", &staging))?;
    let file_size = file_writer.hasher.bytes_hashed();
    let file_hash = file_writer.hasher.finish();
    let file = file_writer
        .inner
        .into_inner()
        .map_err(|e| io_err("write", &staging)(e.into_error()))?;
    file.sync_all().map_err(io_err("sync", &staging))?;
    drop(file);
    if nar_hash != info.nar_hash || (nar_size != info.nar_size && info.nar_size != 0) {
        return Err(CacheError::SourceCorrupt {
            path: full,
            expected: info.nar_hash.to_typed_nix32(),
            got: nar_hash.to_typed_nix32(),
        });
    }
    let mut path_info = to_path_info(&info);
    path_info.nar_size = nar_size;
    let mut narinfo = NarInfo {
        info: path_info,
        url: format!(
            "nar/{}.nar{}",
            file_hash.to_nix32(),
            compression.extension()
        ),
        compression: Some(compression.name().to_string()),
        file_hash: Some(file_hash),
        file_size: Some(file_size),
        system: None,
        extra: Vec::new(),
    };
    if let Some(key) = options.secret_key {
        narinfo
            .sign(sd, key)
            .map_err(|source| CacheError::Fingerprint {
                path: full.clone(),
                source,
            })?;
    }
    if !cache.file_exists(&narinfo.url)? {
        cache.put_file(&narinfo.url, &staging)?;
    }
    drop(guard);
    cache.write_narinfo(&narinfo)
}

/// A pipe between a NAR writer thread and a store reading it.
struct ChannelWriter(mpsc::SyncSender<Vec<u8>>);

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .send(buf.to_vec())
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the reader stopped"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct ChannelReader {
    rx: mpsc::Receiver<Vec<u8>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.chunk.len() {
            match self.rx.recv() {
                Ok(c) => {
                    self.chunk = c;
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Copies the closure of `paths` from one store to another (references first; paths `to`
/// already has are skipped), streaming each NAR from [`Store::nar_from_path`] into
/// [`Store::add_nar`] through a bounded pipe and checking it against the source's NAR hash.
/// With `trusted_keys`, each path must carry a signature by one of them or be
/// content-addressed (CppNix's rule for `nix copy` into a store that requires signatures);
/// `None` is `--no-check-sigs`. Returns the paths copied.
///
/// # Errors
/// [`CacheError::Untrusted`], [`CacheError::NarHashMismatch`], store errors.
pub fn copy_paths(
    from: &dyn Store,
    to: &dyn Store,
    paths: &BTreeSet<StorePath>,
    trusted_keys: Option<&PublicKeys>,
) -> Result<Vec<StorePath>, CacheError> {
    let sd = from.store_dir();
    let mut copied = Vec::new();
    for p in closure_in_order(from, paths)? {
        if to.is_valid_path(&p)? {
            continue;
        }
        let full = sd.display(&p);
        let info = from.query_path_info(&p)?.ok_or_else(|| from.invalid(&p))?;
        let pi = to_path_info(&info);
        if let Some(keys) = trusted_keys {
            let signed =
                pi.count_valid_signatures(sd, keys)
                    .map_err(|source| CacheError::Fingerprint {
                        path: full.clone(),
                        source,
                    })?;
            if signed == 0 && !pi.is_content_addressed(sd) {
                return Err(CacheError::Untrusted {
                    path: full,
                    url: "source store".into(),
                });
            }
        }
        let new_info = ValidPathInfo {
            registration_time: now_secs(),
            ultimate: false,
            ..info.clone()
        };
        let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(8);
        let source_path = &p;
        let (added, written) = std::thread::scope(|scope| {
            let writer = scope.spawn(move || {
                let mut w = BufWriter::with_capacity(1 << 18, ChannelWriter(tx));
                from.nar_from_path(source_path, &mut w)?;
                w.flush()
                    .map_err(|source| crate::store::StoreError::Stream {
                        op: "cannot stream NAR",
                        source,
                    })
            });
            let reader = ChannelReader {
                rx,
                chunk: Vec::new(),
                pos: 0,
            };
            let mut verifier = Verifier::new(
                reader,
                full.clone(),
                format!("source store path '{full}'"),
                info.nar_hash,
                info.nar_size,
                None,
            );
            let added = to
                .add_nar(&new_info, &mut verifier)
                .map_err(|e| verifier.failure.take().unwrap_or(CacheError::Store(e)));
            // Unblock the writer if the reader stopped early.
            drop(verifier);
            let written = writer
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (added, written)
        });
        match (added, written) {
            (Ok(()), _) => {}
            (Err(e), Ok(())) => return Err(e),
            (Err(e @ (CacheError::NarHashMismatch { .. } | CacheError::CaMismatch { .. })), _) => {
                return Err(e)
            }
            // The source failed first: its error explains the reader's.
            (Err(_), Err(w)) => return Err(w.into()),
        }
        copied.push(p);
    }
    Ok(copied)
}
