//! The store directory, a value (not a constant) so other store roots work.

use std::fmt;
use std::path::PathBuf;

use super::{StorePath, StorePathError, StorePathRef};

/// A logical store directory such as `/nix/store`: absolute, no trailing `/`, no `.`/`..` or
/// empty components.
///
/// # Example
/// ```
/// use nix_store::store_path::StoreDir;
/// let dir = StoreDir::new("/tmp/store/")?;
/// assert_eq!(dir.as_str(), "/tmp/store");
/// assert_eq!(StoreDir::default().as_str(), "/nix/store");
/// let (p, rest) = StoreDir::default()
///     .parse_path_prefix("/nix/store/i9pmrzmpshapij2kin22pff6fc2adavx-hello/bin/hello")?;
/// assert_eq!((p.name(), rest), ("hello", "/bin/hello"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StoreDir {
    dir: String,
}

impl Default for StoreDir {
    /// `/nix/store`.
    fn default() -> Self {
        StoreDir {
            dir: "/nix/store".to_string(),
        }
    }
}

impl fmt::Debug for StoreDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreDir({:?})", self.dir)
    }
}

impl fmt::Display for StoreDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.dir)
    }
}

impl StoreDir {
    /// A store directory. Trailing slashes are removed.
    ///
    /// # Errors
    /// [`StorePathError::InvalidStoreDir`] if it is not absolute, is `/`, or has empty, `.` or
    /// `..` components.
    pub fn new(dir: impl Into<String>) -> Result<StoreDir, StorePathError> {
        let mut dir: String = dir.into();
        let bad = |dir: String, reason| Err(StorePathError::InvalidStoreDir { dir, reason });
        if !dir.starts_with('/') {
            return bad(dir, "not an absolute path");
        }
        while dir.len() > 1 && dir.ends_with('/') {
            dir.pop();
        }
        if dir == "/" {
            return bad(dir, "the root directory cannot be a store directory");
        }
        if dir[1..]
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return bad(dir, "empty, '.' or '..' path component");
        }
        if dir.bytes().any(|b| b == 0) {
            return bad(dir, "contains a NUL byte");
        }
        Ok(StoreDir { dir })
    }

    /// The directory as text.
    pub fn as_str(&self) -> &str {
        &self.dir
    }

    /// The directory as a path.
    pub fn to_path(&self) -> PathBuf {
        PathBuf::from(&self.dir)
    }

    /// The full path of a store path: `<dir>/<hash>-<name>`.
    pub fn display(&self, path: &StorePath) -> String {
        self.display_ref(path.as_ref())
    }

    /// The full path of a borrowed store path.
    pub fn display_ref(&self, path: StorePathRef<'_>) -> String {
        let mut s = String::with_capacity(self.dir.len() + 1 + path.as_str().len());
        s.push_str(&self.dir);
        s.push('/');
        s.push_str(path.as_str());
        s
    }

    /// The part of `path` after `<dir>/`, if `path` is below the store directory.
    fn strip<'a>(&self, path: &'a str) -> Option<&'a str> {
        path.strip_prefix(self.dir.as_str())?.strip_prefix('/')
    }

    /// Parses a full store path `<dir>/<hash>-<name>` (exactly a store path, no sub-path).
    ///
    /// # Errors
    /// [`StorePathError::NotInStore`] if it is not directly below this directory, else the
    /// base-name errors.
    pub fn parse_path(&self, path: &str) -> Result<StorePath, StorePathError> {
        self.parse_path_ref(path).map(|p| p.to_owned())
    }

    /// Borrowing version of [`StoreDir::parse_path`].
    ///
    /// # Errors
    /// As [`StoreDir::parse_path`].
    pub fn parse_path_ref<'a>(&self, path: &'a str) -> Result<StorePathRef<'a>, StorePathError> {
        match self.strip(path) {
            Some(base) if !base.contains('/') => StorePathRef::from_base_name(base),
            _ => Err(StorePathError::NotInStore {
                path: path.to_string(),
            }),
        }
    }

    /// Parses `<dir>/<hash>-<name>[/sub/path]` into the store path and the rest (empty or
    /// starting with `/`).
    ///
    /// # Errors
    /// As [`StoreDir::parse_path`].
    pub fn parse_path_prefix<'a>(
        &self,
        path: &'a str,
    ) -> Result<(StorePath, &'a str), StorePathError> {
        let base_and_rest = self.strip(path).ok_or_else(|| StorePathError::NotInStore {
            path: path.to_string(),
        })?;
        let end = base_and_rest.find('/').unwrap_or(base_and_rest.len());
        let sp = StorePath::from_base_name(&base_and_rest[..end])?;
        Ok((sp, &base_and_rest[end..]))
    }

    /// Whether `path` is a path below the store directory (`<dir>/…`, not the directory itself).
    pub fn is_in_store(&self, path: &str) -> bool {
        self.strip(path).is_some_and(|rest| !rest.is_empty())
    }
}

impl TryFrom<PathBuf> for StoreDir {
    type Error = StorePathError;

    fn try_from(p: PathBuf) -> Result<Self, Self::Error> {
        match p.into_os_string().into_string() {
            Ok(s) => StoreDir::new(s),
            Err(os) => Err(StorePathError::InvalidStoreDir {
                dir: os.to_string_lossy().into_owned(),
                reason: "not valid UTF-8",
            }),
        }
    }
}

impl TryFrom<&str> for StoreDir {
    type Error = StorePathError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        StoreDir::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "/nix/store/i9pmrzmpshapij2kin22pff6fc2adavx-hello.txt";

    #[test]
    fn validation() {
        assert!(StoreDir::new("nix/store").is_err());
        assert!(StoreDir::new("/").is_err());
        assert!(StoreDir::new("/a//b").is_err());
        assert!(StoreDir::new("/a/../b").is_err());
        assert_eq!(StoreDir::new("/a/b//").expect("ok").as_str(), "/a/b");
    }

    #[test]
    fn parse() {
        let d = StoreDir::default();
        let p = d.parse_path(P).expect("valid");
        assert_eq!(d.display(&p), P);
        assert!(matches!(
            d.parse_path(&format!("{P}/x")),
            Err(StorePathError::NotInStore { .. })
        ));
        assert!(matches!(
            d.parse_path("/nix/storex/abc"),
            Err(StorePathError::NotInStore { .. })
        ));
        assert!(matches!(
            StoreDir::new("/other").expect("ok").parse_path(P),
            Err(StorePathError::NotInStore { .. })
        ));
        let (q, rest) = d.parse_path_prefix(P).expect("valid");
        assert_eq!((q, rest), (p, ""));
        assert!(d.is_in_store(P));
        assert!(!d.is_in_store("/nix/store/"));
    }
}
