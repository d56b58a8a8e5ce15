//! Advisory file locks compatible with CppNix's `PathLocks`.
//!
//! CppNix locks a path `P` by taking an exclusive `flock` on `P.lock` (for profiles) or on a
//! fixed lock file (`db/big-lock`, `gc.lock`, `temproots/<pid>`). A lock file that is deleted
//! on release is first marked *stale* by writing one byte into it, so a process that was
//! waiting on the old inode notices and retries on the new file. [`PathLock`] follows the same
//! protocol, so our processes and CppNix's exclude each other.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// `flock(2)` on an open file (rustix, without unsafe code).
pub(crate) fn flock(file: &File, op: FlockOperation) -> std::io::Result<()> {
    rustix::fs::flock(file, op).map_err(std::io::Error::from)
}

pub(crate) use rustix::fs::FlockOperation;

/// Errors taking or releasing a lock.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// The lock file could not be opened, locked or inspected.
    #[error("cannot lock '{path}'")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: std::io::Error,
    },
}

/// How to wait for a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Block until the lock is free.
    Wait,
    /// Give up at once if another process holds it.
    Try,
}

/// Whether the lock file is deleted when the lock is released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnRelease {
    /// Leave the lock file in place (`big-lock`, `gc.lock`).
    Keep,
    /// Mark it stale and delete it (CppNix does this for `P.lock` of profiles and paths).
    Delete,
}

/// An exclusive lock held on a lock file; released when dropped.
#[derive(Debug)]
pub struct PathLock {
    file: File,
    path: PathBuf,
    on_release: OnRelease,
}

impl PathLock {
    /// Locks `lock_file` exclusively (creating it if needed).
    ///
    /// Returns `Ok(None)` in [`LockMode::Try`] when another process holds the lock.
    ///
    /// # Errors
    /// [`LockError::Io`] if the file cannot be created or locked.
    pub fn acquire(
        lock_file: &Path,
        mode: LockMode,
        on_release: OnRelease,
    ) -> Result<Option<PathLock>, LockError> {
        let io = |source| LockError::Io {
            path: lock_file.to_path_buf(),
            source,
        };
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(lock_file)
                .map_err(io)?;
            match mode {
                LockMode::Wait => flock(&file, FlockOperation::LockExclusive).map_err(io)?,
                LockMode::Try => match flock(&file, FlockOperation::NonBlockingLockExclusive) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(None),
                    Err(e) => return Err(io(e)),
                },
            }
            // A stale lock file (deleted by its previous holder, or marked with a byte) must
            // not be trusted: retry on the file now at that path.
            let held = file.metadata().map_err(io)?;
            let current = match std::fs::metadata(lock_file) {
                Ok(m) => Some(m),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(io(e)),
            };
            let same = current.is_some_and(|c| c.ino() == held.ino() && c.dev() == held.dev());
            if same && held.len() == 0 {
                return Ok(Some(PathLock {
                    file,
                    path: lock_file.to_path_buf(),
                    on_release,
                }));
            }
            if same && held.len() != 0 && on_release == OnRelease::Keep {
                // Long-lived lock files never get the stale marker from us; CppNix does not
                // write into them either, but tolerate content.
                return Ok(Some(PathLock {
                    file,
                    path: lock_file.to_path_buf(),
                    on_release,
                }));
            }
            if same {
                // Marked stale but still linked: remove it so the next round creates a fresh one.
                let _ = std::fs::remove_file(lock_file);
            }
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open, locked file (temp-root files are written through it).
    pub fn file(&self) -> &File {
        &self.file
    }
}

impl Drop for PathLock {
    fn drop(&mut self) {
        if self.on_release == OnRelease::Delete {
            // Delete first, then mark stale, as CppNix does: a waiter that gets the lock on
            // this inode sees the marker and retries.
            let _ = std::fs::remove_file(&self.path);
            let _ = self.file.write_all(b"d");
        }
        let _ = flock(&self.file, FlockOperation::Unlock);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn try_lock_is_exclusive_and_released_on_drop() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("x.lock");
        let a = PathLock::acquire(&p, LockMode::Wait, OnRelease::Delete)?;
        assert!(a.is_some());
        // flock locks belong to the open file description, so a second open conflicts.
        assert!(PathLock::acquire(&p, LockMode::Try, OnRelease::Delete)?.is_none());
        drop(a);
        assert!(!p.exists());
        let b = PathLock::acquire(&p, LockMode::Try, OnRelease::Keep)?;
        assert!(b.is_some());
        drop(b);
        assert!(p.exists());
        Ok(())
    }
}
