//! Where a local store keeps its files (facts §6).
//!
//! A store rooted at `R` keeps store objects in `R/nix/store` and its state in
//! `R/nix/var/nix` (`db/`, `gcroots/`, `profiles/`, `temproots/`, `gc.lock`) and build logs in
//! `R/nix/var/log/nix/drvs`. Store paths keep their *logical* directory `/nix/store`, as in
//! CppNix's chroot stores (`--store R`); the root `/` is the system store.

use std::path::{Path, PathBuf};

/// The files and directories of a local store rooted at some directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// The layout of the store rooted at `root` (`/` for the system store).
    pub fn new(root: impl Into<PathBuf>) -> Layout {
        Layout { root: root.into() }
    }

    /// The root directory (`R`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The real directory holding store objects: `R/nix/store`.
    pub fn real_store_dir(&self) -> PathBuf {
        self.root.join("nix/store")
    }

    /// `R/nix/var/nix`.
    pub fn state_dir(&self) -> PathBuf {
        self.root.join("nix/var/nix")
    }

    /// `R/nix/var/nix/db`.
    pub fn db_dir(&self) -> PathBuf {
        self.state_dir().join("db")
    }

    /// `R/nix/var/nix/db/big-lock`.
    pub fn big_lock(&self) -> PathBuf {
        self.db_dir().join("big-lock")
    }

    /// `R/nix/var/nix/gc.lock`.
    pub fn gc_lock(&self) -> PathBuf {
        self.state_dir().join("gc.lock")
    }

    /// `R/nix/var/nix/gc-socket/socket`: where a running garbage collection listens for
    /// new temp roots (CppNix 2.8's protocol; see `gc`).
    pub fn gc_socket(&self) -> PathBuf {
        self.state_dir().join("gc-socket").join("socket")
    }

    /// `R/nix/var/nix/gcroots`.
    pub fn gcroots_dir(&self) -> PathBuf {
        self.state_dir().join("gcroots")
    }

    /// `R/nix/var/nix/profiles`.
    pub fn profiles_dir(&self) -> PathBuf {
        self.state_dir().join("profiles")
    }

    /// `R/nix/var/nix/temproots`.
    pub fn temproots_dir(&self) -> PathBuf {
        self.state_dir().join("temproots")
    }

    /// `R/nix/var/log/nix/drvs`.
    pub fn log_dir(&self) -> PathBuf {
        self.root.join("nix/var/log/nix/drvs")
    }

    /// Creates the directories (and the `gcroots/profiles` link) CppNix creates when it opens
    /// a store. Existing entries are left alone.
    ///
    /// # Errors
    /// The first I/O failure, with the path.
    pub fn create(&self) -> Result<(), (PathBuf, std::io::Error)> {
        for dir in [
            self.real_store_dir(),
            self.db_dir(),
            self.gcroots_dir(),
            self.profiles_dir(),
            self.temproots_dir(),
            self.log_dir(),
            self.real_store_dir().join(".links"),
        ] {
            std::fs::create_dir_all(&dir).map_err(|e| (dir.clone(), e))?;
        }
        let link = self.gcroots_dir().join("profiles");
        if std::fs::symlink_metadata(&link).is_err() {
            match std::os::unix::fs::symlink(self.profiles_dir(), &link) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err((link, e)),
            }
        }
        Ok(())
    }
}
