//! The store of `nix-instantiate --eval` without `--store`/`NIX_REMOTE`: paths are computed
//! (as [`ComputeOnly`]), but CppNix 2.8's fetchers write to the default store even in
//! read-only mode, so `readFile (fetchurl …)` works. The default local store (`/`) is opened
//! only when a fetcher (or a validity check) needs it; a pure evaluation never opens it. When it
//! cannot be opened, everything stays computed-only, as before.

use std::cell::OnceCell;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use nix_eval::derivation::Derivation;
use nix_eval::store::{AddedPath, ComputeOnly, EvalStore, PathFilter, StoreBackend};
use nix_eval::Result;
use nix_store::content_address::FileIngestionMethod;
use nix_store::hash::HashAlgo;
use nix_store::store_path::{StoreDir, StorePath};

/// Computes paths; opens the default store on first use by a fetcher.
pub(crate) struct LazyFetchStore {
    compute: ComputeOnly,
    dir: StoreDir,
    real: OnceCell<Option<StoreBackend>>,
}

impl LazyFetchStore {
    /// Paths under `/nix/store`, the default store opened on demand.
    pub(crate) fn new() -> Self {
        LazyFetchStore {
            compute: ComputeOnly::new(StoreDir::default()),
            dir: StoreDir::default(),
            real: OnceCell::new(),
        }
    }

    fn real(&self) -> Option<&StoreBackend> {
        self.real
            .get_or_init(|| {
                let local = super::store::cppnix_store(Some("/")).ok()?;
                Some(StoreBackend::read_only(Arc::new(local)))
            })
            .as_ref()
    }
}

impl EvalStore for LazyFetchStore {
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
        self.compute.add_path(name, src, method, algo, filter)
    }

    fn add_text(
        &self,
        name: &str,
        contents: &[u8],
        references: &BTreeSet<StorePath>,
    ) -> Result<StorePath> {
        self.compute.add_text(name, contents, references)
    }

    fn is_valid_path(&self, path: &StorePath) -> Result<bool> {
        match self.real() {
            Some(r) => r.is_valid_path(path),
            None => self.compute.is_valid_path(path),
        }
    }

    fn fetch_writes(&self) -> bool {
        self.real().is_some_and(|r| r.fetch_writes())
    }

    fn add_fetched(
        &self,
        name: &str,
        src: &Path,
        method: FileIngestionMethod,
    ) -> Result<StorePath> {
        match self.real() {
            Some(r) => r.add_fetched(name, src, method),
            None => self.compute.add_fetched(name, src, method),
        }
    }

    fn export_path(&self, path: &StorePath, dest: &Path) -> Result<bool> {
        match self.real() {
            Some(r) => r.export_path(path, dest),
            None => self.compute.export_path(path, dest),
        }
    }

    fn read_derivation(&self, path: &StorePath) -> Result<Derivation> {
        self.compute.read_derivation(path)
    }

    fn query_references(&self, path: &StorePath) -> Result<BTreeSet<StorePath>> {
        self.compute.query_references(path)
    }
}
