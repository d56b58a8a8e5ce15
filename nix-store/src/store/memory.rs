//! A store kept entirely in memory (NARs and path infos), for tests and examples.
//!
//! ```
//! use nix_store::store::{memory::MemoryStore, Store};
//! let store = MemoryStore::new();
//! let a = store.add_text("a.txt", b"a", &Default::default())?;
//! let b = store.add_text("b.txt", b"b", &[a.clone()].into())?;
//! assert_eq!(store.query_referrers(&a)?, [b].into());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::RwLock;

use super::{now_secs, read_whole_nar, AddOptions, Store, StoreError, ValidPathInfo, VerifyReport};
use crate::content_address::{ContentAddress, FileIngestionMethod};
use crate::hash::{Hash, HashAlgo};
use crate::store_path::{StoreDir, StorePath};

#[derive(Debug, Default)]
struct Inner {
    paths: BTreeMap<StorePath, (ValidPathInfo, Vec<u8>)>,
}

/// An in-memory store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    store_dir: StoreDir,
    inner: RwLock<Inner>,
}

impl MemoryStore {
    /// An empty store with store directory `/nix/store`.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    fn insert(&self, info: ValidPathInfo, nar: Vec<u8>) -> Result<StorePath, StoreError> {
        let mut inner = self.write();
        if inner.paths.contains_key(&info.path) {
            return Ok(info.path);
        }
        for r in &info.references {
            if r != &info.path && !inner.paths.contains_key(r) {
                return Err(StoreError::MissingReference {
                    path: self.store_dir.display(&info.path),
                    reference: self.store_dir.display(r),
                });
            }
        }
        let path = info.path.clone();
        inner.paths.insert(path.clone(), (info, nar));
        Ok(path)
    }
}

fn nar_of(path: &Path) -> Result<Vec<u8>, StoreError> {
    let mut nar = Vec::new();
    nix_nar::dump_path(path, &mut nar).map_err(|source| StoreError::Nar {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(nar)
}

impl Store for MemoryStore {
    fn store_dir(&self) -> &StoreDir {
        &self.store_dir
    }

    fn is_valid_path(&self, path: &StorePath) -> Result<bool, StoreError> {
        Ok(self.read().paths.contains_key(path))
    }

    fn query_path_info(&self, path: &StorePath) -> Result<Option<ValidPathInfo>, StoreError> {
        Ok(self.read().paths.get(path).map(|(i, _)| i.clone()))
    }

    fn query_referrers(&self, path: &StorePath) -> Result<BTreeSet<StorePath>, StoreError> {
        Ok(self
            .read()
            .paths
            .values()
            .filter(|(i, _)| i.references.contains(path))
            .map(|(i, _)| i.path.clone())
            .collect())
    }

    fn query_valid_derivers(&self, path: &StorePath) -> Result<BTreeSet<StorePath>, StoreError> {
        Ok(self
            .read()
            .paths
            .get(path)
            .and_then(|(i, _)| i.deriver.clone())
            .filter(|d| self.read().paths.contains_key(d))
            .into_iter()
            .collect())
    }

    fn query_derivation_outputs(
        &self,
        _drv: &StorePath,
    ) -> Result<BTreeMap<String, StorePath>, StoreError> {
        // Derivation outputs are only recorded by the local store's database.
        Ok(BTreeMap::new())
    }

    fn query_path_from_hash_part(&self, hash_part: &str) -> Result<Option<StorePath>, StoreError> {
        Ok(self
            .read()
            .paths
            .keys()
            .find(|p| p.hash_part() == hash_part)
            .cloned())
    }

    fn query_all_valid_paths(&self) -> Result<BTreeSet<StorePath>, StoreError> {
        Ok(self.read().paths.keys().cloned().collect())
    }

    fn add_path(
        &self,
        name: &str,
        source: &Path,
        options: AddOptions,
        references: &BTreeSet<StorePath>,
    ) -> Result<StorePath, StoreError> {
        let nar = nar_of(source)?;
        let nar_hash = Hash::digest_bytes(HashAlgo::Sha256, &nar);
        let ca_hash = match options.method {
            FileIngestionMethod::Recursive => Hash::digest_bytes(options.algo, &nar),
            FileIngestionMethod::Flat => {
                let meta = std::fs::symlink_metadata(source).map_err(|e| StoreError::Io {
                    op: "cannot stat",
                    path: source.to_path_buf(),
                    source: e,
                })?;
                if !meta.is_file() {
                    return Err(StoreError::NotARegularFile {
                        path: source.to_path_buf(),
                    });
                }
                let bytes = std::fs::read(source).map_err(|e| StoreError::Io {
                    op: "cannot read",
                    path: source.to_path_buf(),
                    source: e,
                })?;
                Hash::digest_bytes(options.algo, &bytes)
            }
        };
        let path = self.store_dir.make_fixed_output_path(
            name,
            options.method,
            &ca_hash,
            references,
            false,
        )?;
        let info = ValidPathInfo {
            path,
            deriver: None,
            nar_hash,
            references: references.clone(),
            registration_time: now_secs(),
            nar_size: nar.len() as u64,
            ultimate: false,
            sigs: Vec::new(),
            ca: Some(ContentAddress::Fixed {
                method: options.method,
                hash: ca_hash,
            }),
        };
        self.insert(info, nar)
    }

    fn add_text(
        &self,
        name: &str,
        contents: &[u8],
        references: &BTreeSet<StorePath>,
    ) -> Result<StorePath, StoreError> {
        let hash = Hash::digest_bytes(HashAlgo::Sha256, contents);
        let path = self.store_dir.make_text_path(name, &hash, references)?;
        let mut nar = Vec::new();
        for t in [
            &b"nix-archive-1"[..],
            b"(",
            b"type",
            b"regular",
            b"contents",
            contents,
            b")",
        ] {
            super::put_str(&mut nar, t);
        }
        let info = ValidPathInfo {
            path,
            deriver: None,
            nar_hash: Hash::digest_bytes(HashAlgo::Sha256, &nar),
            references: references.clone(),
            registration_time: now_secs(),
            nar_size: nar.len() as u64,
            ultimate: false,
            sigs: Vec::new(),
            ca: Some(ContentAddress::Text(hash)),
        };
        self.insert(info, nar)
    }

    fn add_nar(&self, info: &ValidPathInfo, nar: &mut dyn Read) -> Result<(), StoreError> {
        let bytes = read_whole_nar(nar)?;
        let got = Hash::digest_bytes(HashAlgo::Sha256, &bytes);
        if got != info.nar_hash {
            return Err(StoreError::HashMismatch {
                path: self.store_dir.display(&info.path),
                expected: info.nar_hash.to_typed_nix32(),
                got: got.to_typed_nix32(),
            });
        }
        if info.nar_size != 0 && info.nar_size != bytes.len() as u64 {
            return Err(StoreError::SizeMismatch {
                path: self.store_dir.display(&info.path),
                expected: info.nar_size,
                got: bytes.len() as u64,
            });
        }
        let mut info = info.clone();
        info.nar_size = bytes.len() as u64;
        self.insert(info, bytes).map(|_| ())
    }

    fn nar_from_path(&self, path: &StorePath, out: &mut dyn Write) -> Result<u64, StoreError> {
        let inner = self.read();
        let (_, nar) = inner.paths.get(path).ok_or_else(|| self.invalid(path))?;
        out.write_all(nar).map_err(|source| StoreError::Stream {
            op: "cannot write NAR",
            source,
        })?;
        Ok(nar.len() as u64)
    }

    fn delete_path(&self, path: &StorePath) -> Result<(), StoreError> {
        let mut inner = self.write();
        if !inner.paths.contains_key(path) {
            return Err(self.invalid(path));
        }
        let referenced = inner
            .paths
            .values()
            .any(|(i, _)| &i.path != path && i.references.contains(path));
        if referenced {
            return Err(StoreError::StillAlive {
                path: self.store_dir.display(path),
            });
        }
        inner.paths.remove(path);
        Ok(())
    }

    fn verify(&self, check_contents: bool, _repair: bool) -> Result<VerifyReport, StoreError> {
        let mut report = VerifyReport::default();
        if check_contents {
            for (p, (info, nar)) in &self.read().paths {
                let got = Hash::digest_bytes(HashAlgo::Sha256, nar);
                if got != info.nar_hash {
                    report.hash_mismatches.push((
                        p.clone(),
                        info.nar_hash.to_typed_nix32(),
                        got.to_typed_nix32(),
                    ));
                }
            }
        }
        Ok(report)
    }
}
