//! Dumping a file system path or an in-memory [`Tree`] as a NAR.
//!
//! [`dump_path`] walks a path without following symlinks: regular files (executable iff the
//! owner-execute bit `S_IXUSR` is set), symlinks (target verbatim) and directories (entries in
//! bytewise order). Any other file type is an error naming the path, as in CppNix ("file '…' has
//! an unsupported type"). File contents are streamed through one fixed buffer, so memory use does
//! not depend on file sizes.
//!
//! # Example
//! ```
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("hello.txt"), b"hello\n")?;
//! let mut nar = Vec::new();
//! let size = nix_nar::dump_path(&dir.path().join("hello.txt"), &mut nar)?;
//! assert_eq!(size, 120);
//! assert_eq!(nar.len(), 120);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::writer::{self, Node, Writer};

/// Errors of dumping a path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file is neither a regular file, a symlink nor a directory.
    #[error("file '{}' has an unsupported type", path.display())]
    UnsupportedType {
        /// The offending path.
        path: PathBuf,
        /// What it is (`fifo`, `socket`, `block device`, `character device`, `unknown`).
        kind: &'static str,
    },
    /// A file system operation on `path` failed.
    #[error("{op} '{}'", path.display())]
    Io {
        /// What we were doing (`getting status of`, `opening file`, `reading directory`,
        /// `reading symbolic link`, `reading file`).
        op: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Writing the NAR failed (the path is the file being written at the time).
    #[error("cannot write NAR of '{}'", path.display())]
    Write {
        /// The path being dumped when it happened.
        path: PathBuf,
        /// The writer error.
        #[source]
        source: writer::Error,
    },
}

/// Dumps `path` as a NAR into `out` and returns the number of bytes written.
///
/// Streams in constant memory (one 256 KiB buffer plus the names of one directory per level).
///
/// # Errors
/// [`Error::UnsupportedType`], [`Error::Io`] for file system failures (naming the path),
/// [`Error::Write`] if writing to `out` fails; all wrapped in [`crate::Error::Dump`].
pub fn dump_path<W: Write>(path: &Path, out: W) -> Result<u64, crate::Error> {
    let mut w = Writer::new(out);
    let meta = fs::symlink_metadata(path).map_err(|source| Error::Io {
        op: "getting status of",
        path: path.to_path_buf(),
        source,
    })?;
    let root = w.root().map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })?;
    let mut buf = path.to_path_buf();
    dump_node(root, &mut buf, meta)?;
    let (_, size) = w.finish().map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(size)
}

fn unsupported(path: &Path, ft: fs::FileType) -> Error {
    let kind = if ft.is_fifo() {
        "fifo"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_block_device() {
        "block device"
    } else if ft.is_char_device() {
        "character device"
    } else {
        "unknown"
    };
    Error::UnsupportedType {
        path: path.to_path_buf(),
        kind,
    }
}

/// Writes the node at `path` (whose `symlink_metadata` is `meta`).
fn dump_node<W: Write>(
    node: Node<'_, W>,
    path: &mut PathBuf,
    meta: fs::Metadata,
) -> Result<(), Error> {
    let wr = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Write { path, source }
    };
    let ft = meta.file_type();
    if ft.is_file() {
        let mut f = File::open(&*path).map_err(|source| Error::Io {
            op: "opening file",
            path: path.clone(),
            source,
        })?;
        // Size and mode from the opened file, so that both describe what we read.
        let m = f.metadata().map_err(|source| Error::Io {
            op: "getting status of",
            path: path.clone(),
            source,
        })?;
        let executable = m.permissions().mode() & 0o100 != 0;
        node.file(executable, m.len(), &mut f)
            .map_err(|source| match source {
                writer::Error::ReadContents(source) => Error::Io {
                    op: "reading file",
                    path: path.clone(),
                    source,
                },
                source => Error::Write {
                    path: path.clone(),
                    source,
                },
            })
    } else if ft.is_symlink() {
        let target = fs::read_link(&*path).map_err(|source| Error::Io {
            op: "reading symbolic link",
            path: path.clone(),
            source,
        })?;
        node.symlink(target.as_os_str().as_bytes())
            .map_err(wr(path))
    } else if ft.is_dir() {
        let mut names = Vec::new();
        let rd = fs::read_dir(&*path).map_err(|source| Error::Io {
            op: "opening directory",
            path: path.clone(),
            source,
        })?;
        for entry in rd {
            let entry = entry.map_err(|source| Error::Io {
                op: "reading directory",
                path: path.clone(),
                source,
            })?;
            names.push(entry.file_name().into_vec());
        }
        names.sort_unstable();
        let mut dir = node.directory().map_err(wr(path))?;
        for name in names {
            path.push(std::ffi::OsStr::from_bytes(&name));
            let res = (|| {
                let meta = fs::symlink_metadata(&*path).map_err(|source| Error::Io {
                    op: "getting status of",
                    path: path.clone(),
                    source,
                })?;
                let child = dir.entry(&name).map_err(wr(path))?;
                dump_node(child, path, meta)
            })();
            path.pop();
            res?;
        }
        dir.close().map_err(wr(path))
    } else {
        Err(unsupported(path, ft))
    }
}

/// An in-memory file system object: what a NAR describes.
///
/// Directory entries live in a [`BTreeMap`], whose order on `Vec<u8>` keys is the bytewise order
/// NAR requires. Names are checked when the tree is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tree {
    /// A regular file.
    File {
        /// Whether the owner-execute bit is set.
        executable: bool,
        /// The file contents.
        contents: Vec<u8>,
    },
    /// A symbolic link.
    Symlink {
        /// The target, verbatim.
        target: Vec<u8>,
    },
    /// A directory.
    Directory(BTreeMap<Vec<u8>, Tree>),
}

impl Tree {
    /// Writes this tree into `node`.
    ///
    /// # Errors
    /// [`writer::Error::InvalidName`] for a bad entry name, or an I/O failure.
    pub fn write_to<W: Write>(&self, node: Node<'_, W>) -> Result<(), writer::Error> {
        match self {
            Tree::File {
                executable,
                contents,
            } => node.file_bytes(*executable, contents),
            Tree::Symlink { target } => node.symlink(target),
            Tree::Directory(entries) => {
                let mut dir = node.directory()?;
                for (name, child) in entries {
                    child.write_to(dir.entry(name)?)?;
                }
                dir.close()
            }
        }
    }

    /// Serialises this tree as a complete NAR.
    ///
    /// # Errors
    /// [`writer::Error::InvalidName`] for a bad entry name.
    ///
    /// # Example
    /// ```
    /// use nix_nar::dump::Tree;
    /// let t = Tree::File { executable: false, contents: b"hello\n".to_vec() };
    /// assert_eq!(t.to_nar()?.len(), 120);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_nar(&self) -> Result<Vec<u8>, writer::Error> {
        let mut w = Writer::new(Vec::new());
        self.write_to(w.root()?)?;
        Ok(w.finish()?.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_path_names_it() {
        let r = dump_path(Path::new("/nonexistent/nixrs-nar"), io::sink());
        match r {
            Err(crate::Error::Dump(Error::Io { path, op, .. })) => {
                assert_eq!(path, Path::new("/nonexistent/nixrs-nar"));
                assert_eq!(op, "getting status of");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
