//! `http://…` and `https://…`: a binary cache behind a web server (feature `http`).
//!
//! Uses one `ureq` agent (a pool of keep-alive connections, shared by all threads) with
//! connect/read/write timeouts. Bodies stream: a NAR is decompressed and verified as it
//! arrives. `404`, `403` and `410` mean "not there" (CppNix treats 403 as 404 for S3-like
//! servers); other error statuses are [`CacheError::HttpStatus`]. Writes use `PUT`, as
//! CppNix's HTTP binary cache store does.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use super::{BinaryCache, CacheError, CacheReader, CacheState};
use crate::store_path::StoreDir;

/// Knobs of an HTTP cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOptions {
    /// Time allowed to connect (CppNix's `connect-timeout` default is none; ours is 30 s).
    pub connect_timeout: Duration,
    /// Time allowed for each read or write on the socket (a stall, not the whole transfer).
    pub io_timeout: Duration,
    /// `User-Agent` header.
    pub user_agent: String,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(30),
            io_timeout: Duration::from_secs(300),
            user_agent: format!("nixrs/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// A binary cache over HTTP(S).
#[derive(Debug)]
pub struct HttpCache {
    url: String,
    agent: ureq::Agent,
    store_dir: StoreDir,
    state: CacheState,
}

impl HttpCache {
    /// The cache at `url` (`http://…` or `https://…`; a trailing `/` is dropped).
    ///
    /// # Errors
    /// [`CacheError::BadUrl`] for another scheme or no host.
    pub fn new(url: &str, store_dir: StoreDir, options: HttpOptions) -> Result<Self, CacheError> {
        let url = url.trim_end_matches('/').to_string();
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"));
        match rest {
            Some(r) if !r.is_empty() && !r.starts_with('/') => {}
            _ => {
                return Err(CacheError::BadUrl {
                    url,
                    what: "expected http://HOST[/PATH] or https://HOST[/PATH]".into(),
                })
            }
        }
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(options.connect_timeout)
            .timeout_read(options.io_timeout)
            .timeout_write(options.io_timeout)
            .user_agent(&options.user_agent)
            .build();
        Ok(HttpCache {
            url,
            agent,
            store_dir,
            state: CacheState::new(),
        })
    }

    fn fail(method: &'static str, url: String, e: ureq::Error) -> CacheError {
        match e {
            ureq::Error::Status(status, _) => CacheError::HttpStatus {
                method,
                url,
                status,
            },
            ureq::Error::Transport(t) => CacheError::Http {
                method,
                url,
                source: Box::new(t),
            },
        }
    }
}

fn is_absent(status: u16) -> bool {
    matches!(status, 403 | 404 | 410)
}

impl BinaryCache for HttpCache {
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
        let url = self.file_url(rel);
        match self.agent.get(&url).call() {
            Ok(resp) => Ok(Some(Box::new(resp.into_reader()))),
            Err(ureq::Error::Status(s, _)) if is_absent(s) => Ok(None),
            Err(e) => Err(Self::fail("GET", url, e)),
        }
    }

    fn file_exists(&self, rel: &str) -> Result<bool, CacheError> {
        let url = self.file_url(rel);
        match self.agent.head(&url).call() {
            Ok(_) => Ok(true),
            Err(ureq::Error::Status(s, _)) if is_absent(s) => Ok(false),
            Err(e) => Err(Self::fail("HEAD", url, e)),
        }
    }

    fn put_file(&self, rel: &str, local: &Path) -> Result<(), CacheError> {
        let url = self.file_url(rel);
        let io = |op, source| CacheError::Io {
            op,
            path: local.to_path_buf(),
            source,
        };
        let f = std::fs::File::open(local).map_err(|e| io("open", e))?;
        let len = f.metadata().map_err(|e| io("stat", e))?.len();
        self.agent
            .put(&url)
            .set("Content-Length", &len.to_string())
            .send(f.take(len))
            .map_err(|e| Self::fail("PUT", url, e))?;
        std::fs::remove_file(local).map_err(|e| io("remove", e))
    }

    fn put_bytes(&self, rel: &str, data: &[u8]) -> Result<(), CacheError> {
        let url = self.file_url(rel);
        self.agent
            .put(&url)
            .send_bytes(data)
            .map_err(|e| Self::fail("PUT", url, e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        let dir = StoreDir::default();
        for bad in ["http://", "https:///x", "ftp://x"] {
            assert!(
                HttpCache::new(bad, dir.clone(), HttpOptions::default()).is_err(),
                "{bad}"
            );
        }
        let c = HttpCache::new("http://localhost:1/cache/", dir, HttpOptions::default());
        assert_eq!(
            c.map(|c| c.file_url("x")).ok().as_deref(),
            Some("http://localhost:1/cache/x")
        );
    }

    #[test]
    fn a_refused_connection_is_a_typed_error() {
        let dir = StoreDir::default();
        let Ok(c) = HttpCache::new("http://127.0.0.1:1", dir, HttpOptions::default()) else {
            panic!("valid URL");
        };
        match c.get_file("nix-cache-info") {
            Err(CacheError::Http { method, url, .. }) => {
                assert_eq!(method, "GET");
                assert_eq!(url, "http://127.0.0.1:1/nix-cache-info");
            }
            Err(other) => panic!("unexpected {other:?}"),
            Ok(_) => panic!("a refused connection gave a body"),
        }
    }
}
