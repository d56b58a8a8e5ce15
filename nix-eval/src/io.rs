//! The evaluator's only way to reach the outside world.
//!
//! Files, directories, environment variables, `trace` output and the store path of a source
//! copied into the store all go through [`EvalIo`]. [`RealIo`] uses the file system (and
//! computes store paths read-only, without writing to the store); [`MockIo`] serves files from
//! memory for pure, hermetic evaluation.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The kind of a directory entry, as `builtins.readDir` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file.
    Regular,
    /// A directory.
    Directory,
    /// A symbolic link.
    Symlink,
    /// Anything else.
    Unknown,
}

impl FileKind {
    /// The name `readDir` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Regular => "regular",
            FileKind::Directory => "directory",
            FileKind::Symlink => "symlink",
            FileKind::Unknown => "unknown",
        }
    }
}

/// Effects available to the evaluator. Errors are the CppNix message text.
pub trait EvalIo {
    /// Reads a whole file.
    ///
    /// # Errors
    /// A CppNix-style message (`opening file '/x': No such file or directory`).
    fn read_file(&self, path: &Path) -> Result<Vec<u8>, String>;

    /// The kind of the file at `path` (following symlinks), or `None` if it does not exist.
    fn file_kind(&self, path: &Path) -> Option<FileKind>;

    /// Lists a directory.
    ///
    /// # Errors
    /// A CppNix-style message.
    fn read_dir(&self, path: &Path) -> Result<Vec<(Vec<u8>, FileKind)>, String>;

    /// The store path `path` would get when copied to the store (a source path named after
    /// its base name, hashed over its NAR serialisation).
    ///
    /// # Errors
    /// A CppNix-style message (`getting status of '/a': No such file or directory`).
    fn store_path_of_source(&self, path: &Path, store_dir: &str) -> Result<String, String>;

    /// An environment variable (`builtins.getEnv`).
    fn get_env(&self, name: &str) -> Option<String>;

    /// Receives `trace: …` lines.
    fn trace(&self, line: &str);
}

pub(crate) fn os_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

/// The real file system; `trace` writes to standard error.
#[derive(Debug, Default, Clone)]
pub struct RealIo;

impl EvalIo for RealIo {
    fn read_file(&self, path: &Path) -> Result<Vec<u8>, String> {
        use std::io::Read as _;
        let mut f = std::fs::File::open(path)
            .map_err(|e| format!("opening file '{}': {}", path.display(), os_message(&e)))?;
        let mut buf = Vec::new();
        // as CppNix's readFile: a directory opens, then reading it fails
        f.read_to_end(&mut buf)
            .map_err(|e| format!("reading from file: {}", os_message(&e)))?;
        Ok(buf)
    }

    fn file_kind(&self, path: &Path) -> Option<FileKind> {
        let m = std::fs::metadata(path).ok()?;
        Some(if m.is_dir() {
            FileKind::Directory
        } else if m.is_file() {
            FileKind::Regular
        } else {
            FileKind::Unknown
        })
    }

    fn read_dir(&self, path: &Path) -> Result<Vec<(Vec<u8>, FileKind)>, String> {
        let rd = std::fs::read_dir(path)
            .map_err(|e| format!("opening directory '{}': {}", path.display(), os_message(&e)))?;
        let mut out = Vec::new();
        for ent in rd {
            let ent = ent.map_err(|e| {
                format!("reading directory '{}': {}", path.display(), os_message(&e))
            })?;
            let kind = match ent.file_type() {
                Ok(t) if t.is_symlink() => FileKind::Symlink,
                Ok(t) if t.is_dir() => FileKind::Directory,
                Ok(t) if t.is_file() => FileKind::Regular,
                _ => FileKind::Unknown,
            };
            use std::os::unix::ffi::OsStrExt;
            out.push((ent.file_name().as_bytes().to_vec(), kind));
        }
        Ok(out)
    }

    fn store_path_of_source(&self, path: &Path, store_dir: &str) -> Result<String, String> {
        std::fs::symlink_metadata(path)
            .map_err(|e| format!("getting status of '{}': {}", path.display(), os_message(&e)))?;
        let mut hw = nix_nar::hash::HashingWriter::new(std::io::sink());
        nix_nar::dump_path(path, &mut hw).map_err(|e| e.to_string())?;
        let (_, digest, _) = hw.finish();
        let hash = nix_store::hash::Hash::new(nix_store::hash::HashAlgo::Sha256, &digest)
            .map_err(|e| e.to_string())?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = nix_store::store_path::StoreDir::new(store_dir).map_err(|e| e.to_string())?;
        let sp = dir
            .make_source_path(&name, &hash, &Default::default(), false)
            .map_err(|e| e.to_string())?;
        Ok(dir.display(&sp))
    }

    fn get_env(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn trace(&self, line: &str) {
        eprintln!("{line}");
    }
}

/// An in-memory file system for pure evaluation and tests: only the files given exist, there
/// are no environment variables, and traces are collected.
#[derive(Debug, Default)]
pub struct MockIo {
    files: HashMap<PathBuf, Vec<u8>>,
    traces: std::cell::RefCell<Vec<String>>,
}

impl MockIo {
    /// An empty file system.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file.
    pub fn with_file(mut self, path: impl Into<PathBuf>, contents: impl Into<Vec<u8>>) -> Self {
        self.files.insert(path.into(), contents.into());
        self
    }

    /// The `trace` lines received so far.
    pub fn traces(&self) -> Vec<String> {
        self.traces.borrow().clone()
    }
}

impl EvalIo for MockIo {
    fn read_file(&self, path: &Path) -> Result<Vec<u8>, String> {
        self.files.get(path).cloned().ok_or_else(|| {
            format!(
                "opening file '{}': No such file or directory",
                path.display()
            )
        })
    }

    fn file_kind(&self, path: &Path) -> Option<FileKind> {
        if self.files.contains_key(path) {
            return Some(FileKind::Regular);
        }
        self.files
            .keys()
            .any(|p| p.starts_with(path))
            .then_some(FileKind::Directory)
    }

    fn read_dir(&self, path: &Path) -> Result<Vec<(Vec<u8>, FileKind)>, String> {
        let mut out: Vec<(Vec<u8>, FileKind)> = Vec::new();
        for p in self.files.keys() {
            if let Ok(rest) = p.strip_prefix(path) {
                let mut comps = rest.components();
                if let Some(first) = comps.next() {
                    let name = first.as_os_str().to_string_lossy().as_bytes().to_vec();
                    let kind = if comps.next().is_some() {
                        FileKind::Directory
                    } else {
                        FileKind::Regular
                    };
                    if !out.iter().any(|(n, _)| *n == name) {
                        out.push((name, kind));
                    }
                }
            }
        }
        Ok(out)
    }

    fn store_path_of_source(&self, path: &Path, _store_dir: &str) -> Result<String, String> {
        Err(format!(
            "cannot copy '{}' to the store in pure mock mode",
            path.display()
        ))
    }

    fn get_env(&self, _name: &str) -> Option<String> {
        None
    }

    fn trace(&self, line: &str) {
        self.traces.borrow_mut().push(line.to_string());
    }
}
