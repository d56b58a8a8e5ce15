//! Profiles and generations, as `nix-env -p PROFILE` manages them (facts §7).
//!
//! A profile `P` is a symlink to a sibling generation link `P-N-link` (relative target), and
//! each generation link points to a store path. Switching replaces `P` atomically: a new
//! symlink is made at `<dir>/.<k>_<basename of P>` and renamed over `P`. Changes take an
//! exclusive lock on `P.lock` (CppNix's lock protocol, see [`crate::store::local::lock`]), so
//! concurrent `nix-env` runs and ours exclude each other; listing takes no lock.
//!
//! This module only manipulates symlinks; it neither checks that targets are valid store
//! paths nor registers GC roots (see [`crate::store::local::LocalStore::add_indirect_root`]).
//!
//! # Example
//! ```
//! use nix_store::profiles::Profile;
//! let dir = tempfile::tempdir()?;
//! let profile = Profile::new(dir.path().join("prof"));
//! let (from, to) = profile.set("/nix/store/i9pmrzmpshapij2kin22pff6fc2adavx-hello.txt".as_ref())?;
//! assert_eq!((from, to), (None, 1));
//! assert_eq!(profile.current()?, Some(1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::store::local::lock::{LockError, LockMode, OnRelease, PathLock};

/// Errors of profile operations. Messages follow `nix-env`'s.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// `--rollback` with no older generation.
    #[error("no profile version older than the current ({current}) exists")]
    NoOlderGeneration {
        /// The current generation (0 if none).
        current: u64,
    },
    /// `--switch-generation N` for a missing N.
    #[error("profile version {number} does not exist")]
    NoSuchGeneration {
        /// The requested generation.
        number: u64,
    },
    /// Deleting the current generation (the stray quote is CppNix 2.8's).
    #[error("cannot delete current version of profile {}'", profile.display())]
    DeleteCurrent {
        /// The profile.
        profile: PathBuf,
    },
    /// A specifier containing `d` that does not end in `d`.
    #[error("invalid number of days specifier '{spec}', expected something like '14d'")]
    DaysSuffix {
        /// The specifier.
        spec: String,
    },
    /// A `Nd` specifier that is not a positive number of days.
    #[error("invalid number of days specifier '{spec}'")]
    InvalidDays {
        /// The specifier.
        spec: String,
    },
    /// A `+N` specifier with N missing or zero.
    #[error("invalid number of generations to keep '{spec}'")]
    InvalidKeep {
        /// The specifier.
        spec: String,
    },
    /// Something that is not a generation number.
    #[error("invalid generation number '{spec}'")]
    InvalidNumber {
        /// The specifier.
        spec: String,
    },
    /// The profile path has no file name or parent directory.
    #[error("invalid profile path '{}'", path.display())]
    InvalidProfilePath {
        /// The path.
        path: PathBuf,
    },
    /// A generation link exists but is not a symlink to a store path (not clobbered).
    #[error("cannot create symlink '{}'; already exists", path.display())]
    LinkExists {
        /// The link.
        path: PathBuf,
    },
    /// Taking the profile lock failed.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// A filesystem operation failed.
    #[error("{op} '{}'", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// On which path.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
}

fn io_err<'a>(
    op: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> ProfileError + 'a {
    move |source| ProfileError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// One generation of a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    /// Its number (`N` in `P-N-link`).
    pub number: u64,
    /// The generation link (`P-N-link`).
    pub link: PathBuf,
    /// Where the link points (normally a store path).
    pub target: PathBuf,
    /// The link's own modification time (`lstat`), shown by `--list-generations`.
    pub created: SystemTime,
}

/// What `--delete-generations` should delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteSpec {
    /// `old`: every generation except the current one.
    Old,
    /// `Nd`: generations older than N days, keeping the one that was current then.
    OlderThanDays(u32),
    /// `+N`: keep the current generation and the N-1 before it; delete older ones.
    KeepLast(u64),
    /// Explicit numbers (missing ones are ignored).
    Numbers(Vec<u64>),
}

impl DeleteSpec {
    /// Parses `nix-env --delete-generations` arguments the way CppNix 2.8 does.
    ///
    /// # Errors
    /// [`ProfileError::InvalidDays`], [`ProfileError::InvalidKeep`] or
    /// [`ProfileError::InvalidNumber`].
    pub fn parse(args: &[&str]) -> Result<DeleteSpec, ProfileError> {
        if let [one] = args {
            if *one == "old" {
                return Ok(DeleteSpec::Old);
            }
            if one.contains('d') {
                if !one.ends_with('d') {
                    return Err(ProfileError::DaysSuffix {
                        spec: one.to_string(),
                    });
                }
                let days = one
                    .strip_suffix('d')
                    .and_then(|d| d.parse::<i64>().ok())
                    .filter(|d| *d >= 1)
                    .and_then(|d| u32::try_from(d).ok());
                return days.map(DeleteSpec::OlderThanDays).ok_or_else(|| {
                    ProfileError::InvalidDays {
                        spec: one.to_string(),
                    }
                });
            }
            if one.contains('+') {
                let keep = one
                    .strip_prefix('+')
                    .and_then(|n| n.parse::<u64>().ok())
                    .filter(|n| *n > 0);
                return keep
                    .map(DeleteSpec::KeepLast)
                    .ok_or_else(|| ProfileError::InvalidKeep {
                        spec: one.to_string(),
                    });
            }
        }
        args.iter()
            .map(|a| {
                a.parse::<u64>().map_err(|_| ProfileError::InvalidNumber {
                    spec: a.to_string(),
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(DeleteSpec::Numbers)
    }
}

/// A profile: the symlink `P` and its generation links beside it.
#[derive(Debug, Clone)]
pub struct Profile {
    path: PathBuf,
}

impl Profile {
    /// A profile at `path` (it need not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> Profile {
        Profile { path: path.into() }
    }

    /// The profile link `P`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn dir_and_name(&self) -> Result<(PathBuf, OsString), ProfileError> {
        let invalid = || ProfileError::InvalidProfilePath {
            path: self.path.clone(),
        };
        let name = self.path.file_name().ok_or_else(invalid)?.to_os_string();
        let dir = match self.path.parent() {
            Some(d) if d.as_os_str().is_empty() => PathBuf::from("."),
            Some(d) => d.to_path_buf(),
            None => return Err(invalid()),
        };
        Ok((dir, name))
    }

    /// The link of generation `number`: `P-N-link`.
    pub fn generation_link(&self, number: u64) -> PathBuf {
        let mut s = self.path.as_os_str().to_os_string();
        s.push(format!("-{number}-link"));
        PathBuf::from(s)
    }

    fn lock(&self) -> Result<PathLock, ProfileError> {
        let mut lock = self.path.as_os_str().to_os_string();
        lock.push(".lock");
        let lock = PathLock::acquire(Path::new(&lock), LockMode::Wait, OnRelease::Delete)?;
        Ok(lock.expect("a blocking lock always returns a lock"))
    }

    /// All generations, sorted by number. A missing profile directory means none.
    ///
    /// # Errors
    /// [`ProfileError::Io`] if the directory or a link cannot be read.
    pub fn generations(&self) -> Result<Vec<Generation>, ProfileError> {
        let (dir, name) = self.dir_and_name()?;
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err("cannot read directory", &dir)(e)),
        };
        let mut gens = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_err("cannot read directory", &dir))?;
            let Some(number) = parse_generation_name(&name, &entry.file_name()) else {
                continue;
            };
            let link = dir.join(entry.file_name());
            let meta = std::fs::symlink_metadata(&link).map_err(io_err("cannot stat", &link))?;
            let target = std::fs::read_link(&link).map_err(io_err("cannot read link", &link))?;
            let created = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            gens.push(Generation {
                number,
                link,
                target,
                created,
            });
        }
        gens.sort_by_key(|g| g.number);
        Ok(gens)
    }

    /// The current generation number: parsed from where `P` points, `None` if `P` is missing
    /// or does not point to a generation link.
    ///
    /// # Errors
    /// [`ProfileError::Io`] if `P` exists but cannot be read.
    pub fn current(&self) -> Result<Option<u64>, ProfileError> {
        let (_, name) = self.dir_and_name()?;
        match std::fs::read_link(&self.path) {
            Ok(target) => Ok(parse_generation_name(&name, target.as_os_str())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => Ok(None),
            Err(e) => Err(io_err("cannot read link", &self.path)(e)),
        }
    }

    /// Creates a generation pointing to `target` (reusing the highest one if it already
    /// points there) without switching to it. Returns its number.
    ///
    /// # Errors
    /// [`ProfileError::Io`] or [`ProfileError::LinkExists`].
    pub fn create_generation(&self, target: &Path) -> Result<u64, ProfileError> {
        let _lock = self.lock()?;
        self.create_generation_locked(target)
    }

    fn create_generation_locked(&self, target: &Path) -> Result<u64, ProfileError> {
        let gens = self.generations()?;
        let number = match gens.last() {
            Some(last) if last.target == target => return Ok(last.number),
            Some(last) => last.number + 1,
            None => 1,
        };
        let link = self.generation_link(number);
        match std::fs::symlink_metadata(&link) {
            Ok(m) if !m.file_type().is_symlink() => {
                return Err(ProfileError::LinkExists { path: link })
            }
            _ => {}
        }
        replace_symlink(target.as_os_str(), &link)?;
        Ok(number)
    }

    /// `nix-env --set`: creates (or reuses) a generation for `target` and switches to it.
    /// Returns the previous current generation and the new one.
    ///
    /// # Errors
    /// As [`Profile::create_generation`]; on failure the profile is unchanged.
    pub fn set(&self, target: &Path) -> Result<(Option<u64>, u64), ProfileError> {
        let _lock = self.lock()?;
        let from = self.current()?;
        let number = self.create_generation_locked(target)?;
        self.switch_link(number)?;
        Ok((from, number))
    }

    fn switch_link(&self, number: u64) -> Result<(), ProfileError> {
        // Relative target, as CppNix's switchLink writes when the link is a sibling.
        let (_, name) = self.dir_and_name()?;
        let mut target = name;
        target.push(format!("-{number}-link"));
        replace_symlink(&target, &self.path)
    }

    /// `--switch-generation N`: returns (previous current or 0, N).
    ///
    /// # Errors
    /// [`ProfileError::NoSuchGeneration`] if N does not exist.
    pub fn switch_generation(&self, number: u64) -> Result<(u64, u64), ProfileError> {
        let _lock = self.lock()?;
        let current = self.current()?;
        let gens = self.generations()?;
        if !gens.iter().any(|g| g.number == number) {
            return Err(ProfileError::NoSuchGeneration { number });
        }
        self.switch_link(number)?;
        Ok((current.unwrap_or(0), number))
    }

    /// `--rollback`: switches to the highest generation below the current one. Returns
    /// (previous current or 0, new current).
    ///
    /// # Errors
    /// [`ProfileError::NoOlderGeneration`] if there is none.
    pub fn rollback(&self) -> Result<(u64, u64), ProfileError> {
        let _lock = self.lock()?;
        let current = self.current()?;
        let gens = self.generations()?;
        let target = gens
            .iter()
            .filter(|g| current.is_some_and(|c| g.number < c))
            .map(|g| g.number)
            .next_back();
        let Some(target) = target else {
            return Err(ProfileError::NoOlderGeneration {
                current: current.unwrap_or(0),
            });
        };
        self.switch_link(target)?;
        Ok((current.unwrap_or(0), target))
    }

    /// Deletes generations; returns the numbers removed, in ascending order (`nix-env`
    /// prints `removing profile version N` for each).
    ///
    /// `now` is the reference time for [`DeleteSpec::OlderThanDays`].
    ///
    /// # Errors
    /// [`ProfileError::DeleteCurrent`] when explicitly asked to delete the current one
    /// (nothing is deleted then), [`ProfileError::Io`] if a link cannot be removed.
    pub fn delete_generations(
        &self,
        spec: &DeleteSpec,
        now: SystemTime,
    ) -> Result<Vec<u64>, ProfileError> {
        let _lock = self.lock()?;
        let current = self.current()?;
        let gens = self.generations()?;
        let victims = select_victims(&gens, current, spec, now);
        if let DeleteSpec::Numbers(numbers) = spec {
            if current.is_some_and(|c| numbers.contains(&c)) {
                return Err(ProfileError::DeleteCurrent {
                    profile: self.path.clone(),
                });
            }
        }
        let mut removed = Vec::new();
        for g in gens.iter().filter(|g| victims.contains(&g.number)) {
            std::fs::remove_file(&g.link).map_err(io_err("cannot remove", &g.link))?;
            removed.push(g.number);
        }
        Ok(removed)
    }
}

fn select_victims(
    gens: &[Generation],
    current: Option<u64>,
    spec: &DeleteSpec,
    now: SystemTime,
) -> Vec<u64> {
    let not_current = |n: u64| current != Some(n);
    match spec {
        DeleteSpec::Old => gens
            .iter()
            .map(|g| g.number)
            .filter(|n| not_current(*n))
            .collect(),
        DeleteSpec::Numbers(ns) => gens
            .iter()
            .map(|g| g.number)
            .filter(|n| ns.contains(n))
            .collect(),
        DeleteSpec::KeepLast(keep) => {
            // Walk from the newest; once past the current generation keep `keep - 1` more.
            let mut left = *keep;
            let mut from_current = false;
            let mut out = Vec::new();
            for g in gens.iter().rev() {
                if Some(g.number) == current {
                    from_current = true;
                    left = left.saturating_sub(1);
                    continue;
                }
                if from_current {
                    if left > 0 {
                        left -= 1;
                        continue;
                    }
                    out.push(g.number);
                }
            }
            out
        }
        DeleteSpec::OlderThanDays(days) => {
            let limit = now
                .checked_sub(Duration::from_secs(u64::from(*days) * 24 * 3600))
                .unwrap_or(SystemTime::UNIX_EPOCH);
            let mut can_delete = false;
            let mut out = Vec::new();
            for g in gens.iter().rev() {
                if can_delete {
                    if not_current(g.number) {
                        out.push(g.number);
                    }
                } else if g.created < limit {
                    // This one was current at the limit: keep it, delete everything older.
                    can_delete = true;
                }
            }
            out
        }
    }
}

/// Parses `<profile>-<N>-link` (`N` unsigned decimal).
fn parse_generation_name(profile: &OsStr, name: &OsStr) -> Option<u64> {
    let rest = name.as_bytes().strip_prefix(profile.as_bytes())?;
    let rest = rest.strip_prefix(b"-")?;
    let digits = rest.strip_suffix(b"-link")?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Atomically points `link` at `target`: a temporary symlink `.<k>_<name>` beside it is
/// renamed over `link` (CppNix's `replaceSymlink`).
///
/// # Errors
/// [`ProfileError::Io`] if the symlink cannot be made or renamed.
pub fn replace_symlink(target: &OsStr, link: &Path) -> Result<(), ProfileError> {
    let dir = match link.parent() {
        Some(d) if d.as_os_str().is_empty() => Path::new("."),
        Some(d) => d,
        None => {
            return Err(ProfileError::InvalidProfilePath {
                path: link.to_path_buf(),
            })
        }
    };
    let name = link
        .file_name()
        .ok_or_else(|| ProfileError::InvalidProfilePath {
            path: link.to_path_buf(),
        })?;
    for k in 0u64.. {
        let mut tmp_name = OsString::from(format!(".{k}_"));
        tmp_name.push(name);
        let tmp = dir.join(tmp_name);
        match std::os::unix::fs::symlink(target, &tmp) {
            Ok(()) => {
                return std::fs::rename(&tmp, link).map_err(|e| {
                    let _ = std::fs::remove_file(&tmp);
                    io_err("cannot rename", link)(e)
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_err("cannot create symlink", &tmp)(e)),
        }
    }
    unreachable!("u64 range exhausted while looking for a temporary link name")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_generation_names() {
        let p = OsStr::new("prof");
        assert_eq!(
            parse_generation_name(p, OsStr::new("prof-12-link")),
            Some(12)
        );
        assert_eq!(parse_generation_name(p, OsStr::new("prof--link")), None);
        assert_eq!(parse_generation_name(p, OsStr::new("prof-1a-link")), None);
        assert_eq!(parse_generation_name(p, OsStr::new("prof2-1-link")), None);
        assert_eq!(
            parse_generation_name(p, OsStr::new("prof-1-link.lock")),
            None
        );
    }

    #[test]
    fn parses_delete_specs() {
        assert_eq!(DeleteSpec::parse(&["old"]).ok(), Some(DeleteSpec::Old));
        assert_eq!(
            DeleteSpec::parse(&["14d"]).ok(),
            Some(DeleteSpec::OlderThanDays(14))
        );
        assert_eq!(
            DeleteSpec::parse(&["+3"]).ok(),
            Some(DeleteSpec::KeepLast(3))
        );
        assert_eq!(
            DeleteSpec::parse(&["1", "3"]).ok(),
            Some(DeleteSpec::Numbers(vec![1, 3]))
        );
        assert!(DeleteSpec::parse(&["0d"]).is_err());
        assert!(DeleteSpec::parse(&["+0"]).is_err());
        assert!(DeleteSpec::parse(&["x"]).is_err());
    }
}
