//! The builders built into Nix: `builtin:buildenv` and `builtin:fetchurl`, as CppNix 2.8 runs
//! them.
//!
//! CppNix runs a builtin builder in a child process (in the sandbox when there is one); the
//! builtin reads the derivation's environment and writes `$out`. Here [`run`] does the same
//! work in the calling process, reading input store paths from the store's real directory and
//! writing each output at the real path the caller names, so that a store whose real directory
//! differs from its logical one builds the same tree (symlinks made by `buildenv` point to
//! logical store paths, as CppNix's do).
//!
//! * [`buildenv`]: the symlink forest behind `nix-env` profiles.
//! * [`fetchurl`]: downloads `url` (`file://`, `http://`, `https://`) to `$out`, for
//!   fixed-output derivations.

pub mod buildenv;
pub mod fetchurl;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use nix_store::store_path::{StoreDir, StorePath};

use crate::build::builder::BuildError;
use crate::derivation::Derivation;

/// Why a builtin builder failed. The messages are CppNix 2.8's where it has one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuiltinError {
    /// The builder is `builtin:<name>` for a name CppNix 2.8 does not know.
    #[error("unsupported builtin builder '{name}'")]
    Unknown {
        /// The name after `builtin:`.
        name: String,
    },
    /// A derivation attribute the builder needs is missing.
    #[error("attribute '{name}' missing")]
    MissingAttr {
        /// The attribute.
        name: &'static str,
    },
    /// The caller gave no real path for an output.
    #[error("no path given for output '{output}'")]
    MissingOutputPath {
        /// The output name.
        output: String,
    },
    /// `buildenv`'s `derivations` attribute is malformed.
    #[error("invalid 'derivations' attribute at word {word}: {problem}")]
    BadDerivations {
        /// The index of the offending word (0-based).
        word: usize,
        /// What is wrong.
        problem: &'static str,
    },
    /// Two packages provide the same file with the same priority.
    #[error("packages '{first}' and '{second}' have the same priority {priority}; use 'nix-env --set-flag priority NUMBER INSTALLED_PKGNAME' to change the priority of one of the conflicting packages (0 being the highest priority)")]
    SamePriority {
        /// The file being added.
        first: String,
        /// The file already linked.
        second: String,
        /// Their priority.
        priority: i32,
    },
    /// A directory collides with a non-directory already linked.
    #[error("collision between '{dir}' and non-directory '{other}'")]
    DirectoryCollision {
        /// The directory being added.
        dir: String,
        /// What is already there.
        other: String,
    },
    /// A non-directory collides with a directory already there.
    #[error("collision between non-directory '{file}' and directory '{dir}'")]
    FileCollision {
        /// The file being added.
        file: String,
        /// The directory already there.
        dir: String,
    },
    /// `fetchurl` of a derivation that is not fixed-output.
    #[error("'builtin:fetchurl' can only build fixed-output derivations")]
    NotFixedOutput,
    /// A URL scheme `fetchurl` does not handle.
    #[error("unsupported URL '{url}' (only file://, http:// and https://)")]
    UnsupportedUrl {
        /// The URL.
        url: String,
    },
    /// A download failed.
    #[error("unable to download '{url}'")]
    Download {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Unpacking a downloaded NAR failed.
    #[error("unpacking '{url}'")]
    Unpack {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: nix_store::nar::restore::Error,
    },
    /// A file system operation failed.
    #[error("{op} '{}'", path.display())]
    Io {
        /// What was done (`"getting status of"`, `"creating symlink"`, …).
        op: &'static str,
        /// On which path (logical where CppNix shows one).
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Logical store paths and where they are on disk.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paths<'a> {
    store_dir: &'a Path,
    real_store_dir: &'a Path,
}

impl Paths<'_> {
    /// Where a logical path is on disk.
    pub(crate) fn real(&self, logical: &Path) -> PathBuf {
        match logical.strip_prefix(self.store_dir) {
            Ok(rest) if rest.as_os_str().is_empty() => self.real_store_dir.to_path_buf(),
            Ok(rest) => self.real_store_dir.join(rest),
            Err(_) => logical.to_path_buf(),
        }
    }

    /// The canonical logical path of `logical`, following symlinks with store paths mapped to
    /// the real store directory (CppNix's `canonPath(path, true)`).
    ///
    /// Fails like `stat` does: `NotFound` for a missing component, `ENOTDIR` when a
    /// non-final component is not a directory, `ELOOP` after 1024 symlinks.
    pub(crate) fn resolve(&self, logical: &Path) -> std::io::Result<PathBuf> {
        use std::collections::VecDeque;
        use std::ffi::OsString;
        use std::path::Component;
        let mut todo: VecDeque<OsString> = VecDeque::new();
        let push_all = |todo: &mut VecDeque<OsString>, p: &Path, front: bool| {
            let comps: Vec<OsString> = p
                .components()
                .filter_map(|c| match c {
                    Component::Normal(n) => Some(n.to_os_string()),
                    Component::ParentDir => Some(OsString::from("..")),
                    _ => None,
                })
                .collect();
            if front {
                for c in comps.into_iter().rev() {
                    todo.push_front(c);
                }
            } else {
                todo.extend(comps);
            }
        };
        push_all(&mut todo, logical, false);
        let mut cur = PathBuf::from("/");
        let mut follows = 0;
        while let Some(c) = todo.pop_front() {
            if c == ".." {
                cur.pop();
                continue;
            }
            cur.push(&c);
            if self.store_dir.starts_with(&cur) && cur != self.store_dir {
                // A parent of the store directory: always a directory here.
                continue;
            }
            let real = self.real(&cur);
            let meta = std::fs::symlink_metadata(&real)?;
            if meta.file_type().is_symlink() {
                follows += 1;
                if follows > 1024 {
                    return Err(std::io::Error::from_raw_os_error(libc::ELOOP));
                }
                let target = std::fs::read_link(&real)?;
                cur.pop();
                if target.is_absolute() {
                    cur = PathBuf::from("/");
                }
                push_all(&mut todo, &target, true);
            } else if !meta.is_dir() && !todo.is_empty() {
                return Err(std::io::Error::from_raw_os_error(libc::ENOTDIR));
            }
        }
        Ok(cur)
    }

    /// `stat` of a logical path (following symlinks).
    pub(crate) fn stat(&self, logical: &Path) -> std::io::Result<std::fs::Metadata> {
        let resolved = self.resolve(logical)?;
        std::fs::metadata(self.real(&resolved))
    }
}

fn attr<'a>(drv: &'a Derivation, name: &'static str) -> Result<&'a [u8], BuiltinError> {
    drv.env_var(name).ok_or(BuiltinError::MissingAttr { name })
}

/// Runs the builtin builder of `drv` (`builtin:buildenv` or `builtin:fetchurl`).
///
/// `store_dir` is the logical store directory and `real_store_dir` where its paths are on
/// disk; input paths named in the derivation are read there. `real_out_paths` gives, for each
/// output name, where to write it (these must not exist yet). Warnings (CppNix's
/// `warning: …` lines) go to `log`. `drv_path` is for messages.
///
/// # Errors
/// [`BuildError::Builtin`] with a [`BuiltinError`]: an unknown builtin, a missing attribute,
/// a `buildenv` collision, a failed download; [`BuildError::Io`] when `log` fails.
pub fn run(
    drv: &Derivation,
    drv_path: Option<&StorePath>,
    store_dir: &StoreDir,
    real_store_dir: &Path,
    real_out_paths: &BTreeMap<String, PathBuf>,
    log: &mut dyn Write,
) -> Result<(), BuildError> {
    let _ = drv_path;
    let name = drv
        .builder
        .strip_prefix(b"builtin:")
        .unwrap_or(&drv.builder);
    let out = || {
        real_out_paths
            .get("out")
            .ok_or_else(|| BuiltinError::MissingOutputPath {
                output: "out".into(),
            })
    };
    let paths = Paths {
        store_dir: Path::new(store_dir.as_str()),
        real_store_dir,
    };
    match name {
        b"buildenv" => buildenv::build(drv, paths, out()?, log)?,
        b"fetchurl" => fetchurl::fetch(drv, out()?, log)?,
        _ => {
            return Err(BuiltinError::Unknown {
                name: String::from_utf8_lossy(name).into_owned(),
            }
            .into())
        }
    }
    log.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_maps_store_paths() -> std::io::Result<()> {
        let tmp = std::env::temp_dir().join(format!("nixrs-builtins-{}", std::process::id()));
        let real = tmp.join("real/store");
        std::fs::create_dir_all(real.join("aaa-pkg/bin"))?;
        std::fs::write(real.join("aaa-pkg/bin/x"), b"x")?;
        std::os::unix::fs::symlink("/logical/store/aaa-pkg/bin", real.join("bbb-link"))?;
        std::os::unix::fs::symlink("aaa-pkg", real.join("ccc-rel"))?;
        let paths = Paths {
            store_dir: Path::new("/logical/store"),
            real_store_dir: &real,
        };
        assert_eq!(
            paths.resolve(Path::new("/logical/store/bbb-link/x"))?,
            Path::new("/logical/store/aaa-pkg/bin/x")
        );
        assert_eq!(
            paths.resolve(Path::new("/logical/store/ccc-rel/bin"))?,
            Path::new("/logical/store/aaa-pkg/bin")
        );
        assert!(paths
            .stat(Path::new("/logical/store/aaa-pkg/bin"))?
            .is_dir());
        let e = paths.stat(Path::new("/logical/store/aaa-pkg/bin/x/y"));
        assert_eq!(e.err().and_then(|e| e.raw_os_error()), Some(libc::ENOTDIR));
        let e = paths.stat(Path::new("/logical/store/zzz"));
        assert_eq!(
            e.err().map(|e| e.kind()),
            Some(std::io::ErrorKind::NotFound)
        );
        std::fs::remove_dir_all(&tmp)
    }
}
