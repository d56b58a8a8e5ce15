//! An `async` view of a [`Store`] (feature `async`).
//!
//! [`AsyncStore`] is a `#[async_trait]` trait; [`Blocking`] implements it for any `Arc` of a
//! synchronous store by running each call inline (stores here do local I/O only, so a caller
//! that must not block its executor should wrap calls with its own `spawn_blocking`). Listing
//! uses a `BoxStream`.

use std::collections::BTreeSet;
use std::sync::Arc;

use futures::stream::{self, BoxStream, StreamExt};

use super::{Store, StoreError, ValidPathInfo};
use crate::store_path::{StoreDir, StorePath};

/// The async store interface.
#[async_trait::async_trait]
pub trait AsyncStore: Send + Sync {
    /// The logical store directory.
    fn store_dir(&self) -> &StoreDir;
    /// See [`Store::is_valid_path`].
    async fn is_valid_path(&self, path: &StorePath) -> Result<bool, StoreError>;
    /// See [`Store::query_path_info`].
    async fn query_path_info(&self, path: &StorePath) -> Result<Option<ValidPathInfo>, StoreError>;
    /// See [`Store::add_text`].
    async fn add_text(
        &self,
        name: &str,
        contents: &[u8],
        references: &BTreeSet<StorePath>,
    ) -> Result<StorePath, StoreError>;
    /// See [`Store::closure`].
    async fn closure(&self, paths: &BTreeSet<StorePath>)
        -> Result<BTreeSet<StorePath>, StoreError>;
    /// Every valid path, as a stream.
    fn list(&self) -> BoxStream<'static, Result<StorePath, StoreError>>;
}

/// Adapts a synchronous store to [`AsyncStore`].
#[derive(Debug, Clone)]
pub struct Blocking<S: ?Sized>(pub Arc<S>);

#[async_trait::async_trait]
impl<S: Store + ?Sized + 'static> AsyncStore for Blocking<S> {
    fn store_dir(&self) -> &StoreDir {
        self.0.store_dir()
    }
    async fn is_valid_path(&self, path: &StorePath) -> Result<bool, StoreError> {
        self.0.is_valid_path(path)
    }
    async fn query_path_info(&self, path: &StorePath) -> Result<Option<ValidPathInfo>, StoreError> {
        self.0.query_path_info(path)
    }
    async fn add_text(
        &self,
        name: &str,
        contents: &[u8],
        references: &BTreeSet<StorePath>,
    ) -> Result<StorePath, StoreError> {
        self.0.add_text(name, contents, references)
    }
    async fn closure(
        &self,
        paths: &BTreeSet<StorePath>,
    ) -> Result<BTreeSet<StorePath>, StoreError> {
        self.0.closure(paths)
    }
    fn list(&self) -> BoxStream<'static, Result<StorePath, StoreError>> {
        match self.0.query_all_valid_paths() {
            Ok(all) => stream::iter(all.into_iter().map(Ok)).boxed(),
            Err(e) => stream::once(async move { Err(e) }).boxed(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    #[test]
    fn blocking_adapter_answers() -> Result<(), StoreError> {
        let store = Blocking(Arc::new(MemoryStore::new()));
        let p = futures::executor::block_on(store.add_text("a", b"a", &BTreeSet::new()))?;
        assert!(futures::executor::block_on(store.is_valid_path(&p))?);
        let all: Vec<_> = futures::executor::block_on(store.list().collect::<Vec<_>>());
        assert_eq!(all.len(), 1);
        Ok(())
    }
}
