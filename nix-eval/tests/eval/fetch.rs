//! Fetchers (`builtins.fetchurl`, `fetchTarball`, `fetchGit`, `fetchTree`, `fetchMercurial`)
//! against a loopback HTTP server started here, `file://` URLs and git repositories made in
//! temporary directories; compared with CppNix 2.8's `nix-instantiate --eval --strict` run
//! with a throwaway store root and cache (`--store ROOT`, `HOME`, `XDG_CACHE_HOME`).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use nix_eval::io::{EvalIo, FileKind, RealIo};
use nix_eval::Evaluator;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A loopback HTTP/1.0 server for one directory: `GET` of a file is 200, anything else 404
/// with a short HTML body. Counts requests; stops when dropped.
struct Server {
    port: u16,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(dir: &Path) -> std::io::Result<Server> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s, dir) = (requests.clone(), stop.clone(), dir.to_path_buf());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(c) = conn {
                    r.fetch_add(1, Ordering::SeqCst);
                    let _ = serve(c, &dir);
                }
            }
        });
        Ok(Server {
            port,
            requests,
            stop,
            thread: Some(thread),
        })
    }

    fn url(&self, file: &str) -> String {
        format!("http://127.0.0.1:{}/{file}", self.port)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(c: TcpStream, dir: &Path) -> std::io::Result<()> {
    let mut reader = BufReader::new(c.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/");
    let rel = path.trim_start_matches('/');
    let file = dir.join(rel);
    let mut c = c;
    match std::fs::read(&file) {
        Ok(data) if !rel.contains("..") && !rel.is_empty() => {
            write!(
                c,
                "HTTP/1.0 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                data.len()
            )?;
            c.write_all(&data)?;
        }
        _ => {
            let body = "<html><body>no such file</body></html>\n";
            write!(
                c,
                "HTTP/1.0 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
        }
    }
    c.flush()
}

/// The real file system, with `HOME` and `XDG_CACHE_HOME` pointing into a test directory and
/// `trace`/warning lines collected.
struct TestIo {
    home: PathBuf,
    lines: Arc<std::sync::Mutex<Vec<String>>>,
}

impl EvalIo for TestIo {
    fn read_file(&self, path: &Path) -> Result<Vec<u8>, String> {
        RealIo.read_file(path)
    }
    fn file_kind(&self, path: &Path) -> Option<FileKind> {
        RealIo.file_kind(path)
    }
    fn read_dir(&self, path: &Path) -> Result<Vec<(Vec<u8>, FileKind)>, String> {
        RealIo.read_dir(path)
    }
    fn store_path_of_source(&self, path: &Path, store_dir: &str) -> Result<String, String> {
        RealIo.store_path_of_source(path, store_dir)
    }
    fn get_env(&self, name: &str) -> Option<String> {
        match name {
            "HOME" => Some(self.home.display().to_string()),
            "XDG_CACHE_HOME" => Some(self.home.join("cache").display().to_string()),
            _ => std::env::var(name).ok(),
        }
    }
    fn trace(&self, line: &str) {
        if let Ok(mut l) = self.lines.lock() {
            l.push(line.to_string());
        }
    }
}

/// One user: a home (with the download cache) and a store.
struct Sandbox {
    _dir: tempfile::TempDir,
    home: PathBuf,
    root: PathBuf,
    lines: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Sandbox {
    fn new() -> std::io::Result<Sandbox> {
        let dir = testkit::tempdir();
        let home = dir.path().join("home");
        let root = dir.path().join("root");
        std::fs::create_dir_all(&home)?;
        Ok(Sandbox {
            home,
            root,
            _dir: dir,
            lines: Arc::default(),
        })
    }

    /// Our evaluation: (stdout or rendered error, warning/trace lines).
    fn ours(&self, expr: &str) -> (Result<String, String>, Vec<String>) {
        if let Ok(mut l) = self.lines.lock() {
            l.clear();
        }
        let io = TestIo {
            home: self.home.clone(),
            lines: self.lines.clone(),
        };
        let mut ev = Evaluator::builder().io(Box::new(io)).build();
        let r = ev.eval_expr(expr, "/").and_then(|v| ev.force_deep(&v));
        let lines = self.lines.lock().map(|l| l.clone()).unwrap_or_default();
        // standard error: the warning/trace lines, then the error
        let out =
            match r {
                Ok(v) => Ok(ev.print(&v)),
                Err(e) => Err(lines.iter().map(|l| format!("{l}\n")).collect::<String>()
                    + &ev.render_error(&e)),
            };
        (out, lines)
    }

    /// CppNix's: (stdout without the newline, or stderr).
    fn cppnix(&self, bin: &Path, expr: &str) -> std::io::Result<Result<String, String>> {
        let out = Command::new(bin)
            .args(["--eval", "--strict", "--store"])
            .arg(&self.root)
            .args(["-E", expr])
            .env("HOME", &self.home)
            .env("XDG_CACHE_HOME", self.home.join("cppnix-cache"))
            .output()?;
        Ok(if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        })
    }
}

fn make_tarballs(dir: &Path) -> TestResult {
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("top/sub"))?;
    std::fs::write(src.join("top/a"), b"a\n")?;
    std::fs::write(src.join("top/sub/b"), b"#!/bin/sh\n")?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        src.join("top/sub/b"),
        std::fs::Permissions::from_mode(0o755),
    )?;
    std::os::unix::fs::symlink("a", src.join("top/link"))?;
    let mut b = tar::Builder::new(Vec::new());
    b.follow_symlinks(false);
    b.append_dir_all("top", src.join("top"))?;
    let tar = b.into_inner()?;
    std::fs::write(dir.join("t.tar"), &tar)?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar)?;
    std::fs::write(dir.join("t.tar.gz"), gz.finish()?)?;
    let mut xz = xz2::write::XzEncoder::new(Vec::new(), 6);
    xz.write_all(&tar)?;
    std::fs::write(dir.join("t.tar.xz"), xz.finish()?)?;
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    bz.write_all(&tar)?;
    std::fs::write(dir.join("t.tar.bz2"), bz.finish()?)?;
    std::fs::write(dir.join("t.tar.zst"), zstd::encode_all(&tar[..], 3)?)?;
    // two top-level entries
    let mut b = tar::Builder::new(Vec::new());
    b.append_dir_all(".", src.join("top"))?;
    std::fs::write(dir.join("multi.tar"), b.into_inner()?)?;
    std::fs::write(dir.join("hello.txt"), b"hello\n")?;
    // not an archive (a text file is not used: libarchive reads some as mtree specifications)
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let noise: Vec<u8> = (0..3000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    std::fs::write(dir.join("noise.bin"), noise)?;
    // zip archives (libarchive reads them for fetchTarball): deflated and stored entries, a
    // symlink, an executable, implicit parent directories; and one with two top-level entries
    let big: Vec<u8> = (0..20_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let entries: Vec<(&str, &[u8], u32)> = vec![
        ("top/", b"", 0o40755),
        ("top/a", b"a\n", 0o100644),
        ("top/big", &big, 0o100644),
        ("top/sub/b", b"#!/bin/sh\n", 0o100755),
        ("top/link", b"a", 0o120777),
        ("top/deep/er/c", b"c\n", 0o100600),
    ];
    std::fs::write(dir.join("t.zip"), zip_of(&entries)?)?;
    std::fs::write(dir.join("lzma.zip"), zip_with(&entries, true)?)?;
    std::fs::write(
        dir.join("multi.zip"),
        zip_of(&[("a", b"a", 0o100644), ("b/", b"", 0o40755)])?,
    )?;
    Ok(())
}

/// A zip archive of (name, data, unix mode): entries over 64 bytes are deflated.
fn zip_of(entries: &[(&str, &[u8], u32)]) -> std::io::Result<Vec<u8>> {
    zip_with(entries, false)
}

/// The data of an LZMA (method 14) zip entry, with an end marker: the zip LZMA header (SDK
/// version 16.2, 5 bytes of properties), then liblzma's `.lzma` encoding without its 8-byte
/// size field.
fn lzma_entry(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let opts = xz2::stream::LzmaOptions::new_preset(6)?;
    let stream = xz2::stream::Stream::new_lzma_encoder(&opts)?;
    let mut e = xz2::write::XzEncoder::new_stream(Vec::new(), stream);
    e.write_all(data)?;
    let alone = e.finish()?;
    let mut out = vec![16, 2, 5, 0];
    out.extend_from_slice(&alone[..5]);
    out.extend_from_slice(&alone[13..]);
    Ok(out)
}

/// [`zip_of`], with LZMA (method 14, end marker flagged) instead of deflate when `lzma`.
fn zip_with(entries: &[(&str, &[u8], u32)], lzma: bool) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data, mode) in entries {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let compress = data.len() > 64;
        let body = if compress && lzma {
            lzma_entry(data)?
        } else if compress {
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), Default::default());
            e.write_all(data)?;
            e.finish()?
        } else {
            data.to_vec()
        };
        let (version, flags, method) = match (compress, lzma) {
            (true, true) => (63u16, 2u16, 14u16),
            (true, false) => (20, 0, 8),
            _ => (20, 0, 0),
        };
        let mut common = Vec::new();
        for v in [version, flags, method, 0, 0x5021] {
            common.extend_from_slice(&v.to_le_bytes());
        }
        for v in [crc.sum(), body.len() as u32, data.len() as u32] {
            common.extend_from_slice(&v.to_le_bytes());
        }
        common.extend_from_slice(&(name.len() as u16).to_le_bytes());
        common.extend_from_slice(&0u16.to_le_bytes());
        let offset = out.len() as u32;
        out.extend_from_slice(b"PK\x03\x04");
        out.extend_from_slice(&common);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&body);
        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&0x0314u16.to_le_bytes());
        central.extend_from_slice(&common);
        central.extend_from_slice(&[0; 6]);
        central.extend_from_slice(&(mode << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    let n = entries.len() as u16;
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    Ok(out)
}

#[test]
fn fetchurl_http_and_file_cache_and_errors() -> TestResult {
    let sb = Sandbox::new()?;
    let srv_dir = testkit::tempdir();
    std::fs::write(srv_dir.path().join("hello.txt"), b"hello\n")?;
    let server = Server::start(srv_dir.path())?;
    let url = server.url("hello.txt");
    let expected = "\"/nix/store/gy454w1cxaq731grqwylhzf4pp9r5izh-hello.txt\"";

    let (out, _) = sb.ours(&format!("builtins.fetchurl \"{url}\""));
    assert_eq!(out.as_deref(), Ok(expected));
    let file_url = format!("file://{}/hello.txt", srv_dir.path().display());
    let (out, _) = sb.ours(&format!("builtins.fetchurl {{ url = \"{file_url}\"; }}"));
    assert_eq!(out.as_deref(), Ok(expected));
    let (out, _) = sb.ours(&format!(
        "builtins.fetchurl {{ url = \"{url}\"; name = \"foo\"; sha256 = \"sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=\"; }}"
    ));
    assert_eq!(
        out.as_deref(),
        Ok("\"/nix/store/w8r2kfwk48haw3v8l15jjjvwnhhavxc6-foo\"")
    );

    // a fresh cache entry answers without the server
    let before = server.requests();
    drop(server);
    let (out, _) = sb.ours(&format!("builtins.fetchurl \"{url}\""));
    assert_eq!(out.as_deref(), Ok(expected));
    assert!(before >= 2);

    let (out, _) = sb.ours(&format!(
        "builtins.fetchurl {{ url = \"{file_url}\"; sha256 = \"0000000000000000000000000000000000000000000000000000\"; }}"
    ));
    assert_eq!(
        out.err().as_deref(),
        Some(format!("error: hash mismatch in file downloaded from '{file_url}':\n         specified: sha256:0000000000000000000000000000000000000000000000000000\n         got:       sha256:00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq\n").as_str())
    );
    Ok(())
}

#[test]
fn fetchers_match_cppnix() -> TestResult {
    let Some(bin) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let sb = Sandbox::new()?;
    let srv_dir = testkit::tempdir();
    make_tarballs(srv_dir.path())?;
    let server = Server::start(srv_dir.path())?;
    let file_url = |f: &str| format!("file://{}/{f}", srv_dir.path().display());
    let mut exprs = vec![
        format!("builtins.fetchurl \"{}\"", server.url("hello.txt")),
        format!("builtins.fetchurl \"{}\"", server.url("nope.txt")),
        format!("builtins.fetchurl \"{}\"", file_url("nope.txt")),
        format!(
            "builtins.fetchurl {{ url = \"{}\"; sha256 = \"sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"; }}",
            file_url("hello.txt")
        ),
        format!("builtins.fetchurl {{ url = \"{}\"; md5 = \"\"; }}", file_url("hello.txt")),
        "builtins.fetchurl { }".to_string(),
        format!("builtins.fetchTarball \"{}\"", file_url("multi.tar")),
        format!("builtins.fetchTarball \"{}\"", file_url("noise.bin")),
        format!(
            "builtins.fetchTarball {{ url = \"{}\"; sha256 = \"0000000000000000000000000000000000000000000000000000\"; }}",
            server.url("t.tar.gz")
        ),
        "builtins.fetchTree { type = \"file\"; url = \"x\"; }".to_string(),
        "fetchMercurial { url = \"/x\"; foo = 1; }".to_string(),
    ];
    // the store path is the NAR hash of the tree: contents, executable bits and the symlink
    for t in ["t.zip", "multi.zip", "lzma.zip"] {
        exprs.push(format!("builtins.fetchTarball \"{}\"", server.url(t)));
    }
    for t in [
        "t.tar",
        "t.tar.gz",
        "t.tar.xz",
        "t.tar.bz2",
        "t.tar.zst",
        "t.zip",
    ] {
        exprs.push(format!("fetchTarball \"{}\"", server.url(t)));
        exprs.push(format!(
            "builtins.fetchTarball {{ url = \"{}\"; name = \"n\"; }}",
            file_url(t)
        ));
    }
    for e in &exprs {
        let theirs = sb.cppnix(&bin, e)?;
        let (ours, _) = sb.ours(e);
        assert_eq!(ours, theirs, "{e}");
    }
    Ok(())
}

fn git(dir: &Path, args: &[&str], time: u64) -> std::io::Result<()> {
    let st = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_DATE", format!("@{time} +0000"))
        .env("GIT_COMMITTER_DATE", format!("@{time} +0000"))
        .env("GIT_AUTHOR_NAME", "T")
        .env("GIT_AUTHOR_EMAIL", "t@example.org")
        .env("GIT_COMMITTER_NAME", "T")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()?;
    if !st.status.success() {
        return Err(std::io::Error::other(format!(
            "git {args:?}: {}",
            String::from_utf8_lossy(&st.stderr)
        )));
    }
    Ok(())
}

#[test]
fn fetch_git_matches_cppnix() -> TestResult {
    let Some(bin) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let sb = Sandbox::new()?;
    let repo_dir = testkit::tempdir();
    let repo = repo_dir.path().join("repo");
    std::fs::create_dir_all(repo.join("d"))?;
    git(&repo, &["init", "-q", "-b", "main", "."], 0)?;
    std::fs::write(repo.join("f"), b"one\n")?;
    std::fs::write(repo.join("d/x"), b"x\n")?;
    git(&repo, &["add", "."], 0)?;
    git(&repo, &["commit", "-qm", "one"], 1_600_000_000)?;
    std::fs::write(repo.join("f"), b"two\n")?;
    git(&repo, &["commit", "-qam", "two"], 1_600_001_000)?;
    let out = Command::new("git")
        .arg("-C")
        .arg(&repo)
        .args(["rev-list", "--max-parents=0", "HEAD"])
        .output()?;
    let first = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let r = repo.display();
    let exprs = [
        format!("builtins.fetchGit {r}"),
        format!("builtins.fetchGit \"file://{r}\""),
        format!("builtins.fetchGit {{ url = {r}; rev = \"{first}\"; }}"),
        format!("builtins.fetchGit {{ url = {r}; ref = \"main\"; name = \"foo\"; }}"),
        format!("builtins.fetchGit {{ url = {r}; submodules = true; }}"),
        format!("builtins.fetchGit {{ url = {r}; rev = \"1111111111111111111111111111111111111111\"; }}"),
        format!("builtins.fetchGit {{ url = {r}; foo = 1; }}"),
        format!("builtins.fetchGit {{ url = {r}; rev = \"45a6\"; }}"),
        "builtins.fetchGit { }".to_string(),
        "builtins.fetchGit { url = 1; }".to_string(),
    ];
    for e in &exprs {
        let theirs = sb.cppnix(&bin, e)?;
        let (ours, _) = sb.ours(e);
        assert_eq!(ours, theirs, "{e}");
    }
    // a dirty working tree: tracked files as they are, no revision, a warning
    std::fs::write(repo.join("f"), b"dirty\n")?;
    std::fs::write(repo.join("untracked"), b"u\n")?;
    let e = format!("builtins.fetchGit {r}");
    let theirs = sb.cppnix(&bin, &e)?;
    let (ours, lines) = sb.ours(&e);
    assert_eq!(ours, theirs);
    assert_eq!(lines, vec![format!("warning: Git tree '{r}' is dirty")]);
    Ok(())
}
