//! Restoring a NAR to the file system, atomically.
//!
//! [`restore`] reads a NAR from any [`BufRead`] and materialises it at a target path that must
//! not exist yet. Everything is first created under a fresh temporary name in the target's
//! parent directory and then `rename`d into place, so a failure (bad NAR, I/O error) leaves
//! nothing behind: the temporary tree is removed. Children are only ever created inside
//! directories this function has just created, with `O_CREAT|O_EXCL` (`create_new`), and names
//! are validated by the reader, so nothing outside the target is created or followed. Files are
//! created with mode `0666` and executables get `+x` for user, group and other, both filtered by
//! the umask (`0644`/`0755` under the usual umask), as CppNix does. Symlinks are created as
//! links.
//!
//! # Example
//! ```
//! use nix_nar::dump::Tree;
//! let nar = Tree::File { executable: false, contents: b"hi\n".to_vec() }.to_nar()?;
//! let dir = tempfile::tempdir()?;
//! let target = dir.path().join("out");
//! nix_nar::restore::restore(&nar[..], &target, &Default::default())?;
//! assert_eq!(std::fs::read(&target)?, b"hi\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::reader::{self, Event, Reader};

/// Errors of restoring a NAR.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The target already exists.
    #[error("path '{}' already exists", path.display())]
    TargetExists {
        /// The target.
        path: PathBuf,
    },
    /// The NAR is invalid.
    #[error(transparent)]
    Read(#[from] reader::Error),
    /// A file system operation failed.
    #[error("{op} '{}'", path.display())]
    Io {
        /// What we were doing.
        op: &'static str,
        /// The path involved (inside the temporary tree, or the target).
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// Knobs of [`restore`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Options of the NAR reader.
    pub reader: reader::Options,
    /// `fsync` every file and directory before the final rename. Off by default.
    pub fsync: bool,
}

/// Restores the NAR read from `input` at `target`, which must not exist.
///
/// # Errors
/// [`Error::TargetExists`], [`Error::Read`] for an invalid NAR, [`Error::Io`] for file system
/// failures. On error nothing is left at `target` or beside it.
pub fn restore<R: BufRead>(input: R, target: &Path, options: &Options) -> Result<(), Error> {
    if fs::symlink_metadata(target).is_ok() {
        return Err(Error::TargetExists {
            path: target.to_path_buf(),
        });
    }
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base = target.file_name().ok_or_else(|| Error::Io {
        op: "restoring to",
        path: target.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidInput, "target has no file name"),
    })?;
    let tmp = temp_name(&parent, base);
    let mut reader = Reader::with_options(input, options.reader);
    let res = write_tree(&mut reader, &tmp, options).and_then(|()| {
        if options.fsync {
            sync_dir(&parent)?;
        }
        if fs::symlink_metadata(target).is_ok() {
            return Err(Error::TargetExists {
                path: target.to_path_buf(),
            });
        }
        fs::rename(&tmp, target).map_err(|source| Error::Io {
            op: "renaming into",
            path: target.to_path_buf(),
            source,
        })?;
        if options.fsync {
            sync_dir(&parent)?;
        }
        Ok(())
    });
    if res.is_err() {
        remove_all(&tmp);
    }
    res
}

fn temp_name(parent: &Path, base: &OsStr) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut name = b".".to_vec();
    name.extend_from_slice(base.as_bytes());
    name.extend_from_slice(
        format!(
            ".nixrs-restore-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        )
        .as_bytes(),
    );
    parent.join(OsStr::from_bytes(&name))
}

fn remove_all(p: &Path) {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => {
            // Make directories writable again in case a caller changed them; best effort.
            let _ = fs::remove_dir_all(p);
        }
        Ok(_) => {
            let _ = fs::remove_file(p);
        }
        Err(_) => {}
    }
}

fn sync_dir(p: &Path) -> Result<(), Error> {
    File::open(p)
        .and_then(|f| f.sync_all())
        .map_err(|source| Error::Io {
            op: "syncing directory",
            path: p.to_path_buf(),
            source,
        })
}

fn write_tree<R: BufRead>(
    reader: &mut Reader<R>,
    root: &Path,
    options: &Options,
) -> Result<(), Error> {
    let mut path = root.to_path_buf();
    let mut depth = 0usize;
    let mut buf = vec![0u8; 256 * 1024];
    while let Some(ev) = reader.next()? {
        let name = match &ev {
            Event::Directory { name } | Event::File { name, .. } | Event::Symlink { name, .. } => {
                Some(name.as_slice())
            }
            Event::EndDirectory => None,
        };
        if let Some(name) = name {
            // The root node (depth 0) is the temporary path itself.
            if depth > 0 {
                path.push(OsStr::from_bytes(name));
            }
        }
        let io = |op: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { op, path, source }
        };
        match ev {
            Event::Directory { .. } => {
                fs::create_dir(&path).map_err(io("creating directory", &path))?;
                depth += 1;
                continue;
            }
            Event::EndDirectory => {
                if options.fsync {
                    sync_dir(&path)?;
                }
                depth -= 1;
            }
            Event::File {
                executable,
                mut contents,
                offset,
                ..
            } => {
                let mut f = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o666)
                    .open(&path)
                    .map_err(io("creating file", &path))?;
                copy(&mut contents, &mut f, &mut buf).map_err(|e| match e {
                    CopyError::Read(e) => Error::Read(reader::Error::from_contents_io(e, offset)),
                    CopyError::Write(source) => Error::Io {
                        op: "writing file",
                        path: path.clone(),
                        source,
                    },
                })?;
                if executable {
                    let meta = f.metadata().map_err(io("getting status of", &path))?;
                    let mode = meta.permissions().mode() | 0o111;
                    f.set_permissions(fs::Permissions::from_mode(mode))
                        .map_err(io("making executable", &path))?;
                }
                if options.fsync {
                    f.sync_all().map_err(io("syncing file", &path))?;
                }
            }
            Event::Symlink { target, .. } => {
                std::os::unix::fs::symlink(OsStr::from_bytes(&target), &path)
                    .map_err(io("creating symlink", &path))?;
            }
        }
        if depth > 0 {
            path.pop();
        }
    }
    Ok(())
}

enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

fn copy(r: &mut impl io::Read, w: &mut impl io::Write, buf: &mut [u8]) -> Result<(), CopyError> {
    loop {
        let n = match r.read(buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        w.write_all(&buf[..n]).map_err(CopyError::Write)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::Tree;

    #[test]
    fn failure_leaves_nothing() -> Result<(), Box<dyn std::error::Error>> {
        let tree = Tree::Directory(
            [
                (
                    b"a".to_vec(),
                    Tree::File {
                        executable: false,
                        contents: vec![1; 100],
                    },
                ),
                (b"b".to_vec(), Tree::Directory(Default::default())),
            ]
            .into(),
        );
        let nar = tree.to_nar()?;
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("t");
        let r = restore(&nar[..nar.len() - 20], &target, &Options::default());
        assert!(matches!(r, Err(Error::Read(_))), "{r:?}");
        assert_eq!(fs::read_dir(dir.path())?.count(), 0);
        restore(&nar[..], &target, &Options::default())?;
        assert!(matches!(
            restore(&nar[..], &target, &Options::default()),
            Err(Error::TargetExists { .. })
        ));
        Ok(())
    }
}
