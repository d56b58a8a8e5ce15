//! The download cache: which store path a URL (or git ref) gave last time, and when.
//!
//! CppNix 2.8 keeps this in `~/.cache/nix/fetcher-cache-v1.sqlite`: rows keyed by input
//! attributes (`{type, url, name}`), holding the info attributes (`etag`, `lastModified`, …),
//! the store path, whether the entry is immutable (the caller pinned a hash or a revision) and
//! when it was written. A mutable entry is *expired* after `tarball-ttl` seconds (default
//! 3600): it is still used for its `ETag` and as a fallback when the download fails.
//!
//! Ours has the same semantics in small files: one JSON file per key under the cache
//! directory (`$XDG_CACHE_HOME/nixrs/fetcher-v1/` by default), named by the nix32 sha256 of the
//! canonical key and written atomically. The store is the content cache: an entry whose store
//! path is no longer valid is ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nix_store::hash::{Hash, HashAlgo};

/// Attributes identifying a cached fetch (`type`, `url`, `name`, …), in sorted order.
pub type CacheKey = BTreeMap<String, String>;

/// One cache entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    /// Info attributes (`etag`, `url`, `lastModified`, `rev`, `revCount`, `sha256`, …).
    pub info: BTreeMap<String, String>,
    /// The store path's base name (`<hash>-<name>`).
    pub store_path: String,
    /// Immutable entries (pinned by hash or revision) never expire.
    pub immutable: bool,
    /// Seconds since the epoch when the entry was written.
    pub timestamp: u64,
}

/// A cache lookup: the entry and whether it is older than the TTL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cached {
    /// The entry.
    pub entry: CacheEntry,
    /// Mutable and older than `tarball-ttl`.
    pub expired: bool,
}

/// The fetcher cache in a directory.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    ttl: u64,
}

/// The current time in seconds since the epoch.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Cache {
    /// A cache in `dir` (created on first write) whose mutable entries expire after `ttl`
    /// seconds (CppNix's `tarball-ttl`, default 3600).
    pub fn new(dir: impl Into<PathBuf>, ttl: u64) -> Cache {
        Cache {
            dir: dir.into(),
            ttl,
        }
    }

    /// The default directory for a user: `$XDG_CACHE_HOME/nixrs`, else `$HOME/.cache/nixrs`.
    /// The caller passes the variables (library code reads no environment).
    pub fn default_dir(xdg_cache_home: Option<&str>, home: Option<&str>) -> Option<PathBuf> {
        match (xdg_cache_home, home) {
            (Some(x), _) if !x.is_empty() => Some(Path::new(x).join("nixrs")),
            (_, Some(h)) if !h.is_empty() => Some(Path::new(h).join(".cache/nixrs")),
            _ => None,
        }
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The time-to-live of mutable entries, in seconds.
    pub fn ttl(&self) -> u64 {
        self.ttl
    }

    fn file_of(&self, key: &CacheKey) -> PathBuf {
        let canon = serde_json::to_string(key).unwrap_or_default();
        let h = Hash::digest_bytes(HashAlgo::Sha256, canon.as_bytes());
        self.dir.join("fetcher-v1").join(h.to_nix32())
    }

    /// Looks a key up, expired or not. Unreadable or foreign entries count as absent.
    pub fn lookup(&self, key: &CacheKey) -> Option<Cached> {
        let text = std::fs::read(self.file_of(key)).ok()?;
        let v: serde_json::Value = serde_json::from_slice(&text).ok()?;
        let stored_key: CacheKey = serde_json::from_value(v.get("key")?.clone()).ok()?;
        if &stored_key != key {
            return None;
        }
        let info: BTreeMap<String, String> = serde_json::from_value(v.get("info")?.clone()).ok()?;
        let entry = CacheEntry {
            info,
            store_path: v.get("storePath")?.as_str()?.to_string(),
            immutable: v.get("immutable")?.as_bool()?,
            timestamp: v.get("timestamp")?.as_u64()?,
        };
        // as CppNix: a TTL of 0 means every mutable entry is expired
        let expired =
            !entry.immutable && (self.ttl == 0 || entry.timestamp.saturating_add(self.ttl) < now());
        Some(Cached { entry, expired })
    }

    /// Records an entry (replacing an older one for the same key).
    ///
    /// # Errors
    /// I/O failures writing the file.
    pub fn add(&self, key: &CacheKey, entry: &CacheEntry) -> std::io::Result<()> {
        let file = self.file_of(key);
        let dir = file.parent().unwrap_or(&self.dir).to_path_buf();
        std::fs::create_dir_all(&dir)?;
        let v = serde_json::json!({
            "key": key,
            "info": entry.info,
            "storePath": entry.store_path,
            "immutable": entry.immutable,
            "timestamp": entry.timestamp,
        });
        let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
        std::io::Write::write_all(&mut tmp, v.to_string().as_bytes())?;
        tmp.persist(&file).map_err(|e| e.error)?;
        Ok(())
    }
}

/// Builds a key from pairs.
pub fn key(pairs: &[(&str, &str)]) -> CacheKey {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_expiry() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let c = Cache::new(dir.path(), 3600);
        let k = key(&[("type", "file"), ("url", "http://x/y"), ("name", "y")]);
        assert_eq!(c.lookup(&k), None);
        let mut e = CacheEntry {
            info: key(&[("etag", "\"abc\"")]),
            store_path: "gy454w1cxaq731grqwylhzf4pp9r5izh-hello.txt".into(),
            immutable: false,
            timestamp: now(),
        };
        c.add(&k, &e)?;
        let got = c.lookup(&k).ok_or("missing")?;
        assert_eq!(got.entry, e);
        assert!(!got.expired);
        assert!(
            Cache::new(dir.path(), 0)
                .lookup(&k)
                .ok_or("missing")?
                .expired
        );
        e.timestamp -= 3601;
        c.add(&k, &e)?;
        assert!(c.lookup(&k).ok_or("missing")?.expired);
        e.immutable = true;
        c.add(&k, &e)?;
        assert!(!c.lookup(&k).ok_or("missing")?.expired);
        let zero = Cache::new(dir.path(), 0);
        assert!(!zero.lookup(&k).ok_or("missing")?.expired);
        Ok(())
    }

    #[test]
    fn default_dir() {
        assert_eq!(
            Cache::default_dir(Some("/x"), Some("/h")),
            Some(PathBuf::from("/x/nixrs"))
        );
        assert_eq!(
            Cache::default_dir(None, Some("/h")),
            Some(PathBuf::from("/h/.cache/nixrs"))
        );
        assert_eq!(Cache::default_dir(None, None), None);
    }
}
