//! `file://DIR`: a binary cache in a local directory.
//!
//! Files are written atomically: into `<name>.nixrs-tmp-<pid>-<n>` beside the target, synced,
//! then renamed over it. NARs are staged in `DIR/nar` so their final step is a rename too.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{BinaryCache, CacheError, CacheReader, CacheState};
use crate::store_path::StoreDir;

/// A binary cache in a local directory.
#[derive(Debug)]
pub struct FileCache {
    root: PathBuf,
    url: String,
    store_dir: StoreDir,
    state: CacheState,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A unique temporary name beside `target`.
pub(super) fn temp_name(target: &Path) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut name = target
        .file_name()
        .map(|s| s.to_os_string())
        .unwrap_or_default();
    name.push(format!(".nixrs-tmp-{}-{n}", std::process::id()));
    target.with_file_name(name)
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> CacheError + 'a {
    move |source| CacheError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

impl FileCache {
    /// The cache in directory `dir` (absolute; it is created when something is written).
    ///
    /// # Errors
    /// [`CacheError::BadUrl`] if `dir` is not absolute.
    pub fn open(dir: impl AsRef<Path>, store_dir: StoreDir) -> Result<FileCache, CacheError> {
        let root = dir.as_ref().to_path_buf();
        let text = root.to_string_lossy().trim_end_matches('/').to_string();
        if !root.is_absolute() {
            return Err(CacheError::BadUrl {
                url: format!("file://{}", root.display()),
                what: "the directory must be absolute".into(),
            });
        }
        Ok(FileCache {
            url: format!("file://{text}"),
            root,
            store_dir,
            state: CacheState::new(),
        })
    }

    /// The cache's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn target(&self, rel: &str) -> Result<PathBuf, CacheError> {
        let rel = super::checked_rel(rel).ok_or_else(|| CacheError::BadNarUrl {
            url: self.url.clone(),
            nar_url: rel.to_string(),
        })?;
        Ok(self.root.join(rel))
    }

    fn make_parent(&self, target: &Path) -> Result<(), CacheError> {
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(io_err("create directory", parent))?;
        }
        Ok(())
    }
}

impl BinaryCache for FileCache {
    fn url(&self) -> &str {
        &self.url
    }

    fn store_dir(&self) -> &StoreDir {
        &self.store_dir
    }

    fn state(&self) -> &CacheState {
        &self.state
    }

    fn get_file(&self, rel: &str) -> Result<Option<CacheReader>, CacheError> {
        let path = self.target(rel)?;
        match fs::File::open(&path) {
            Ok(f) => Ok(Some(Box::new(f))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("open", &path)(e)),
        }
    }

    fn file_exists(&self, rel: &str) -> Result<bool, CacheError> {
        let path = self.target(rel)?;
        match fs::metadata(&path) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_err("stat", &path)(e)),
        }
    }

    fn put_file(&self, rel: &str, local: &Path) -> Result<(), CacheError> {
        let target = self.target(rel)?;
        self.make_parent(&target)?;
        if fs::rename(local, &target).is_ok() {
            return Ok(());
        }
        // Another file system: copy beside the target, then rename.
        let tmp = temp_name(&target);
        let copied = fs::copy(local, &tmp)
            .map_err(io_err("copy to", &tmp))
            .and_then(|_| {
                fs::File::open(&tmp)
                    .and_then(|f| f.sync_all())
                    .map_err(io_err("sync", &tmp))
            })
            .and_then(|_| fs::rename(&tmp, &target).map_err(io_err("rename to", &target)));
        if copied.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        copied?;
        fs::remove_file(local).map_err(io_err("remove", local))
    }

    fn put_bytes(&self, rel: &str, data: &[u8]) -> Result<(), CacheError> {
        let target = self.target(rel)?;
        self.make_parent(&target)?;
        let tmp = temp_name(&target);
        let written = (|| {
            let mut f = fs::File::create(&tmp).map_err(io_err("create", &tmp))?;
            f.write_all(data).map_err(io_err("write", &tmp))?;
            f.sync_all().map_err(io_err("sync", &tmp))?;
            fs::rename(&tmp, &target).map_err(io_err("rename to", &target))
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written
    }

    fn staging_dir(&self) -> Result<PathBuf, CacheError> {
        let dir = self.root.join("nar");
        fs::create_dir_all(&dir).map_err(io_err("create directory", &dir))?;
        Ok(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_round_trip() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let cache = FileCache::open(dir.path(), StoreDir::default())?;
        assert!(cache.get_file("x.narinfo")?.is_none());
        assert!(!cache.file_exists("nar/a.nar")?);
        cache.put_bytes("nar/a.nar", b"abc")?;
        assert!(cache.file_exists("nar/a.nar")?);
        let mut s = String::new();
        std::io::Read::read_to_string(&mut cache.get_file("nar/a.nar")?.ok_or("missing")?, &mut s)?;
        assert_eq!(s, "abc");
        assert!(cache.put_bytes("../escape", b"x").is_err());
        let names: Vec<_> = fs::read_dir(dir.path().join("nar"))?.collect();
        assert_eq!(names.len(), 1, "no temporary file is left");
        Ok(())
    }
}
