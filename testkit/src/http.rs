//! A tiny HTTP/1.1 file server on the loopback interface, for tests of HTTP clients.
//!
//! [`FileServer::start`] serves a directory: `GET` and `HEAD` of files (`404` for anything
//! missing or outside the directory), `PUT` (with `Content-Length`) writes a file. Each
//! connection gets its own thread, so parallel requests are served in parallel; connections
//! are kept alive. [`FileServer::requests`] counts the requests served. The server stops
//! when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// A running file server; stops on drop.
#[derive(Debug)]
pub struct FileServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl FileServer {
    /// Serves `dir` on `127.0.0.1` at a free port.
    ///
    /// # Panics
    /// If no port can be bound.
    pub fn start(dir: impl Into<PathBuf>) -> FileServer {
        let dir = dir.into();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("bound address");
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicUsize::new(0));
        let (s, r) = (stop.clone(), requests.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (dir, r) = (dir.clone(), r.clone());
                std::thread::spawn(move || {
                    let _ = serve(conn, &dir, &r);
                });
            }
        });
        FileServer {
            addr,
            stop,
            requests,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many requests were answered so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The file for a request path, if it stays inside `dir`.
fn resolve(dir: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split('?').next().unwrap_or("");
    let rel = Path::new(path.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    Some(dir.join(rel))
}

fn respond(out: &mut TcpStream, status: &str, len: u64) -> std::io::Result<()> {
    write!(
        out,
        "HTTP/1.1 {status}\r\nContent-Length: {len}\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
}

fn serve(conn: TcpStream, dir: &Path, requests: &AtomicUsize) -> std::io::Result<()> {
    let mut out = conn.try_clone()?;
    let mut input = BufReader::new(conn);
    loop {
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let mut content_length = 0u64;
        let mut close = false;
        loop {
            let mut h = String::new();
            if input.read_line(&mut h)? == 0 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
                if k == "content-length" {
                    content_length = v.parse().unwrap_or(0);
                } else if k == "connection" && v.eq_ignore_ascii_case("close") {
                    close = true;
                }
            }
        }
        let file = resolve(dir, &target);
        match (method.as_str(), file) {
            ("GET" | "HEAD", Some(f)) if f.is_file() => {
                let mut fh = std::fs::File::open(&f)?;
                let len = fh.metadata()?.len();
                respond(&mut out, "200 OK", len)?;
                if method == "GET" {
                    std::io::copy(&mut fh, &mut out)?;
                }
            }
            ("PUT", Some(f)) => {
                if let Some(parent) = f.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                let mut body = Vec::new();
                (&mut input).take(content_length).read_to_end(&mut body)?;
                std::fs::write(&f, body)?;
                respond(&mut out, "201 Created", 0)?;
            }
            ("PUT", None) => {
                std::io::copy(&mut (&mut input).take(content_length), &mut std::io::sink())?;
                respond(&mut out, "403 Forbidden", 0)?;
            }
            _ => respond(&mut out, "404 Not Found", 0)?,
        }
        out.flush()?;
        requests.fetch_add(1, Ordering::SeqCst);
        if close {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(url_path: &str, server: &FileServer) -> std::io::Result<String> {
        let mut s = TcpStream::connect(server.addr)?;
        write!(
            s,
            "GET {url_path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )?;
        let mut text = String::new();
        s.read_to_string(&mut text)?;
        Ok(text)
    }

    #[test]
    fn serves_files_and_404() -> std::io::Result<()> {
        let dir = crate::tempdir();
        std::fs::write(dir.path().join("a.txt"), "hello")?;
        let server = FileServer::start(dir.path());
        assert!(get("/a.txt", &server)?.ends_with("\r\n\r\nhello"));
        assert!(get("/missing", &server)?.starts_with("HTTP/1.1 404"));
        assert!(get("/../etc/passwd", &server)?.starts_with("HTTP/1.1 404"));
        assert_eq!(server.requests(), 3);
        Ok(())
    }
}
