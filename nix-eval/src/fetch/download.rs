//! Downloading one URL into a writer, hashing (sha256) while the bytes stream through.
//!
//! `http://` and `https://` go through `ureq` (redirects followed, `ETag`/`If-None-Match`
//! honoured, `Content-Encoding: gzip` decoded); `file://` URLs are read directly. Failures are
//! described with the text CppNix 2.8 (libcurl) prints after `unable to download '<url>': `,
//! e.g. `HTTP error 404 ('Not Found')` followed by the response body when it is short,
//! `Couldn't read a file:// file (37)` or `Couldn't connect to server (7)`.

use std::io::{Read, Write};

use nix_store::hash::{Hash, HashAlgo, Hasher};

/// What went wrong with one download attempt: the text after `unable to download '<url>': `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unable to download '{url}': {reason}")]
pub struct DownloadError {
    /// The URL as requested.
    pub url: String,
    /// libcurl's wording of the failure (`HTTP error 404 ('Not Found')…`, `… (37)`).
    pub reason: String,
    /// Whether CppNix would retry (connection failures, timeouts, HTTP 5xx/408/429).
    pub transient: bool,
}

/// The result of a successful download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// sha256 of the bytes written (meaningless when `not_modified`).
    pub sha256: Hash,
    /// Number of bytes written.
    pub size: u64,
    /// The `ETag` response header, if any.
    pub etag: Option<String>,
    /// The URL after redirects.
    pub effective_url: String,
    /// The server answered `304 Not Modified` to our `If-None-Match`: nothing was written.
    pub not_modified: bool,
}

/// The most bytes of an error response body kept for the message.
const MAX_ERROR_BODY: u64 = 1 << 20;

/// Downloads `url` into `out`, sending `If-None-Match: <etag>` when `etag` is given. One
/// attempt; see [`download_with_retries`].
///
/// # Errors
/// A [`DownloadError`] with CppNix's wording.
pub fn download(
    url: &str,
    out: &mut dyn Write,
    etag: Option<&str>,
) -> Result<Downloaded, DownloadError> {
    let fail = |reason: String, transient: bool| DownloadError {
        url: url.to_string(),
        reason,
        transient,
    };
    if let Some(path) = url.strip_prefix("file://") {
        return download_file_url(url, path, out).map_err(|r| fail(r, false));
    }
    let lower = url.to_ascii_lowercase();
    let http_url = if lower.starts_with("http://") || lower.starts_with("https://") {
        url.to_string()
    } else if url.is_empty() || url.starts_with('/') {
        return Err(fail(
            "URL using bad/illegal format or missing URL (3)".into(),
            false,
        ));
    } else if url.contains("://") {
        return Err(fail("Unsupported protocol (1)".into(), false));
    } else {
        // libcurl guesses http:// for a URL without a scheme
        format!("http://{url}")
    };
    let agent = ureq::AgentBuilder::new()
        .user_agent("curl/7.83.1 Nix/2.8.0")
        .build();
    let mut req = agent.get(&http_url);
    if let Some(e) = etag {
        req = req.set("If-None-Match", e);
    }
    match req.call() {
        Ok(resp) => {
            let effective_url = resp.get_url().to_string();
            let effective_url = if effective_url == http_url {
                url.to_string()
            } else {
                effective_url
            };
            let new_etag = resp.header("ETag").map(str::to_string);
            if resp.status() == 304 {
                return Ok(Downloaded {
                    sha256: Hash::digest_bytes(HashAlgo::Sha256, b""),
                    size: 0,
                    etag: new_etag.or_else(|| etag.map(str::to_string)),
                    effective_url,
                    not_modified: true,
                });
            }
            let mut reader = resp.into_reader();
            let (sha256, size) = copy_hashing(&mut reader, out).map_err(|e| {
                fail(
                    format!("Failure when receiving data from the peer (56): {e}"),
                    true,
                )
            })?;
            Ok(Downloaded {
                sha256,
                size,
                etag: new_etag,
                effective_url,
                not_modified: false,
            })
        }
        Err(ureq::Error::Status(code, resp)) => {
            let status_text = resp.status_text().to_string();
            let mut body = Vec::new();
            let _ = resp
                .into_reader()
                .take(MAX_ERROR_BODY)
                .read_to_end(&mut body);
            let mut reason = format!("HTTP error {code} ('{status_text}')");
            // CppNix keeps the body of a failed response and shows it when it is short or HTML
            if !body.is_empty() && (body.len() < 1024 || contains(&body, b"<html>")) {
                let text = String::from_utf8_lossy(&body);
                reason.push_str("\n\nresponse body:\n\n");
                reason.push_str(text.trim_end());
            }
            let transient = code == 408 || code == 429 || (500..600).contains(&code);
            Err(fail(reason, transient))
        }
        Err(ureq::Error::Transport(t)) => Err(transport_error(url, &t)),
    }
}

/// [`download`] with CppNix's retry policy for transient failures: up to `attempts` tries,
/// waiting 250 ms × 2^(n−1) (plus up to 40% jitter) between them, and calling `warn` with
/// `error: unable to download '…': …; retrying in N ms` before each wait. `reset` is called
/// before a retry to truncate what the failed attempt wrote.
///
/// # Errors
/// The last attempt's [`DownloadError`].
pub fn download_with_retries(
    url: &str,
    out: &mut dyn Write,
    etag: Option<&str>,
    attempts: u32,
    warn: &dyn Fn(&str),
    reset: &mut dyn FnMut() -> std::io::Result<()>,
) -> Result<Downloaded, DownloadError> {
    let mut attempt = 1u32;
    loop {
        match download(url, &mut *out, etag) {
            Ok(d) => return Ok(d),
            Err(e) if e.transient && attempt < attempts.max(1) => {
                let jitter = 1.0 + (jitter_fraction() * 0.41);
                let ms = (250.0 * 2f64.powi(attempt as i32 - 1) * jitter) as u64;
                warn(&format!("error: {e}; retrying in {ms} ms"));
                std::thread::sleep(std::time::Duration::from_millis(ms));
                reset().map_err(|io| DownloadError {
                    url: url.to_string(),
                    reason: format!("Failed writing received data to disk/application (23): {io}"),
                    transient: false,
                })?;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

fn jitter_fraction() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    f64::from(nanos % 1000) / 1000.0
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// libcurl's wording for a transport failure.
fn transport_error(url: &str, t: &ureq::Transport) -> DownloadError {
    use ureq::ErrorKind as K;
    let (reason, transient) = match t.kind() {
        K::InvalidUrl => ("URL using bad/illegal format or missing URL (3)", false),
        K::UnknownScheme => ("Unsupported protocol (1)", false),
        K::Dns => ("Couldn't resolve host name (6)", true),
        K::ConnectionFailed => ("Couldn't connect to server (7)", true),
        K::TooManyRedirects => ("Number of redirects hit maximum amount (47)", false),
        K::BadStatus | K::BadHeader => ("Weird server reply (8)", true),
        K::Io => ("Failure when receiving data from the peer (56)", true),
        K::InvalidProxyUrl | K::ProxyConnect | K::ProxyUnauthorized => {
            ("Couldn't resolve proxy name (5)", true)
        }
        K::HTTP => ("Weird server reply (8)", true),
        _ => ("Couldn't connect to server (7)", true),
    };
    DownloadError {
        url: url.to_string(),
        reason: reason.to_string(),
        transient,
    }
}

/// Decodes `%XX` escapes in a `file://` URL path.
fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn download_file_url(url: &str, rest: &str, out: &mut dyn Write) -> Result<Downloaded, String> {
    use std::os::unix::ffi::OsStringExt;
    // file://host/path: only an empty host or localhost names this machine
    let path = if rest.starts_with('/') {
        rest
    } else if let Some(p) = rest.strip_prefix("localhost") {
        p
    } else {
        return Err("URL using bad/illegal format or missing URL (3)".into());
    };
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let path = std::path::PathBuf::from(std::ffi::OsString::from_vec(percent_decode(path)));
    let mut f = match std::fs::File::open(&path) {
        Ok(f) if f.metadata().map(|m| m.is_file()).unwrap_or(false) => f,
        _ => return Err("Couldn't read a file:// file (37)".into()),
    };
    let (sha256, size) = copy_hashing(&mut f, out)
        .map_err(|e| format!("Failed writing received data to disk/application (23): {e}"))?;
    Ok(Downloaded {
        sha256,
        size,
        etag: None,
        effective_url: url.to_string(),
        not_modified: false,
    })
}

/// Copies `r` to `w`, returning the sha256 and the length of what went through.
fn copy_hashing(r: &mut dyn Read, w: &mut dyn Write) -> std::io::Result<(Hash, u64)> {
    let mut h = Hasher::new(HashAlgo::Sha256);
    let mut buf = vec![0u8; 64 * 1024];
    let mut n = 0u64;
    loop {
        let k = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..k]);
        w.write_all(&buf[..k])?;
        n += k as u64;
    }
    w.flush()?;
    Ok((h.finish(), n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_urls() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("a b.txt");
        std::fs::write(&p, b"hello\n")?;
        let url = format!("file://{}", dir.path().join("a%20b.txt").display());
        let mut out = Vec::new();
        let d = download(&url, &mut out, None)?;
        assert_eq!(out, b"hello\n");
        assert_eq!(d.size, 6);
        assert_eq!(
            d.sha256.to_nix32(),
            "00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq"
        );
        let missing = format!("file://{}/nope", dir.path().display());
        let e = download(&missing, &mut Vec::new(), None).err();
        assert_eq!(
            e.map(|e| e.to_string()),
            Some(format!(
                "unable to download '{missing}': Couldn't read a file:// file (37)"
            ))
        );
        Ok(())
    }

    #[test]
    fn bad_urls() {
        let msg = |u: &str| download(u, &mut Vec::new(), None).err().map(|e| e.reason);
        assert_eq!(
            msg("/tmp/x").as_deref(),
            Some("URL using bad/illegal format or missing URL (3)")
        );
        assert_eq!(
            msg("ftp2://x/y").as_deref(),
            Some("Unsupported protocol (1)")
        );
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("/a%20b%2"), b"/a b%2");
        assert_eq!(percent_decode("%41%zz"), b"A%zz");
    }
}
