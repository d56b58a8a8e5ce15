//! `builtin:buildenv`: the symlink forest of a user environment (what `nix-env` installs in a
//! profile), as CppNix 2.8 builds it.
//!
//! Attributes: `derivations`, a whitespace-separated list of groups
//! `<active> <priority> <n> <path>…` (`<active>` is `false` to skip the group, anything else to
//! use it; `<priority>` an integer, lower wins; then `n` store paths), and `manifest`, the target
//! of the `manifest.nix` symlink.
//!
//! The packages are linked in order of priority, then path. For each entry of a package
//! directory (not starting with `.`) a symlink is created in `$out`; when a directory is already
//! there as a symlink to another package's directory, it becomes a real directory holding
//! links to both. A file present in two packages goes to the one with the lower priority number;
//! with equal priorities the build fails ([`BuiltinError::SamePriority`]). Entries named
//! `propagated-build-inputs`, `nix-support`, `perllocal.pod`, `log`, `manifest.nix`,
//! `manifest.json` and `info/dir` are not linked. Dangling symlinks are skipped with a warning.
//! Then the packages listed in each linked package's `nix-support/propagated-user-env-packages`
//! are linked, round after round, with priorities 1000, 1001, … in path order.

use std::collections::{BTreeSet, HashMap};
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use super::{attr, BuiltinError, Paths};
use crate::build::builder::BuildError;
use crate::derivation::Derivation;

/// One package of the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// Its store path (logical).
    pub path: Vec<u8>,
    /// Whether it is linked.
    pub active: bool,
    /// Its priority (lower wins).
    pub priority: i32,
}

/// C's `stoi`: optional whitespace and sign, then digits; the rest is ignored.
fn stoi(word: &[u8]) -> Option<i32> {
    let s = word
        .iter()
        .position(|b| !b" \t\n\r\x0b\x0c".contains(b))
        .map_or(&word[word.len()..], |i| &word[i..]);
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    if n == 0 {
        return None;
    }
    let mut v: i64 = 0;
    for &d in &digits[..n] {
        v = v.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
        if v > i64::from(i32::MAX) + 1 {
            return None;
        }
    }
    let v = if neg { -v } else { v };
    i32::try_from(v).ok()
}

/// Parses the `derivations` attribute.
///
/// # Errors
/// [`BuiltinError::BadDerivations`] when a group is cut short or a number does not parse
/// (CppNix trusts the attribute and has undefined behaviour there).
pub fn parse_derivations(value: &[u8]) -> Result<Vec<Package>, BuiltinError> {
    let words: Vec<&[u8]> = value
        .split(|b| b" \t\n\r".contains(b))
        .filter(|w| !w.is_empty())
        .collect();
    let mut pkgs = Vec::new();
    let mut i = 0;
    let bad = |word: usize, problem: &'static str| BuiltinError::BadDerivations { word, problem };
    while i < words.len() {
        let active = words[i] != b"false";
        let priority = words
            .get(i + 1)
            .ok_or(bad(i + 1, "missing priority"))
            .and_then(|w| stoi(w).ok_or(bad(i + 1, "priority is not an integer")))?;
        let count = words
            .get(i + 2)
            .ok_or(bad(i + 2, "missing output count"))
            .and_then(|w| stoi(w).ok_or(bad(i + 2, "output count is not an integer")))?;
        i += 3;
        for _ in 0..count.max(0) {
            let path = words.get(i).ok_or(bad(i, "missing output path"))?;
            pkgs.push(Package {
                path: path.to_vec(),
                active,
                priority,
            });
            i += 1;
        }
    }
    Ok(pkgs)
}

/// A path in `$out`: where it is on disk and what CppNix calls it in messages.
#[derive(Debug, Clone)]
struct Dst {
    real: PathBuf,
    logical: PathBuf,
}

impl Dst {
    fn join(&self, name: &OsStr) -> Dst {
        Dst {
            real: concat(&self.real, name),
            logical: concat(&self.logical, name),
        }
    }
}

/// `dir + "/" + name`, as bytes (CppNix does not normalise).
fn concat(dir: &Path, name: &OsStr) -> PathBuf {
    let mut v = dir.as_os_str().as_bytes().to_vec();
    v.push(b'/');
    v.extend_from_slice(name.as_bytes());
    PathBuf::from(OsString::from_vec(v))
}

struct State<'a, 'l> {
    paths: Paths<'a>,
    priorities: HashMap<PathBuf, i32>,
    symlinks: u64,
    log: &'l mut dyn Write,
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> BuildError + 'a {
    move |source| {
        BuildError::Builtin(BuiltinError::Io {
            op,
            path: path.to_path_buf(),
            source,
        })
    }
}

fn is_not_found(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::NotFound
}

fn is_enotdir(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::ENOTDIR)
}

const SKIPPED_SUFFIXES: [&[u8]; 7] = [
    b"/propagated-build-inputs",
    b"/nix-support",
    b"/perllocal.pod",
    b"/info/dir",
    b"/log",
    b"/manifest.nix",
    b"/manifest.json",
];

impl State<'_, '_> {
    fn warn(&mut self, msg: std::fmt::Arguments<'_>) -> Result<(), BuildError> {
        writeln!(self.log, "warning: {msg}")?;
        Ok(())
    }

    fn create_symlink(&mut self, target: &Path, dst: &Dst) -> Result<(), BuildError> {
        std::os::unix::fs::symlink(target, &dst.real).map_err(io("creating symlink", &dst.logical))
    }

    fn create_links(
        &mut self,
        src_dir: &Path,
        dst_dir: &Dst,
        priority: i32,
    ) -> Result<(), BuildError> {
        let entries = match self
            .paths
            .resolve(src_dir)
            .and_then(|r| std::fs::read_dir(self.paths.real(&r)))
        {
            Ok(e) => e,
            Err(e) if is_enotdir(&e) => {
                return self.warn(format_args!(
                    "not including '{}' in the user environment because it's not a directory",
                    src_dir.display()
                ));
            }
            Err(e) => return Err(io("reading directory", src_dir)(e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            names.push(entry.map_err(io("reading directory", src_dir))?.file_name());
        }
        for name in names {
            if name.as_bytes().first() == Some(&b'.') {
                continue;
            }
            let src = concat(src_dir, &name);
            let dst = dst_dir.join(&name);
            let src_meta = match self.paths.stat(&src) {
                Ok(m) => m,
                Err(e) if is_not_found(&e) || is_enotdir(&e) => {
                    self.warn(format_args!(
                        "skipping dangling symlink '{}'",
                        dst.logical.display()
                    ))?;
                    continue;
                }
                Err(e) => return Err(io("getting status of", &src)(e)),
            };
            let src_bytes = src.as_os_str().as_bytes();
            if SKIPPED_SUFFIXES.iter().any(|s| src_bytes.ends_with(s)) {
                continue;
            }
            let dst_meta = match std::fs::symlink_metadata(&dst.real) {
                Ok(m) => Some(m),
                Err(e) if is_not_found(&e) => None,
                Err(e) => return Err(io("getting status of", &dst.logical)(e)),
            };
            if src_meta.is_dir() {
                if let Some(dm) = &dst_meta {
                    if dm.is_dir() {
                        self.create_links(&src, &dst, priority)?;
                        continue;
                    } else if dm.file_type().is_symlink() {
                        let link = std::fs::read_link(&dst.real)
                            .map_err(io("reading symlink", &dst.logical))?;
                        let target = self
                            .paths
                            .resolve(&link)
                            .map_err(io("getting status of", &link))?;
                        let target_meta = std::fs::symlink_metadata(self.paths.real(&target))
                            .map_err(io("getting status of", &target))?;
                        if !target_meta.is_dir() {
                            return Err(BuiltinError::DirectoryCollision {
                                dir: src.display().to_string(),
                                other: target.display().to_string(),
                            }
                            .into());
                        }
                        std::fs::remove_file(&dst.real).map_err(io("unlinking", &dst.logical))?;
                        std::fs::create_dir(&dst.real)
                            .map_err(io("creating directory", &dst.logical))?;
                        let prev = *self.priorities.entry(dst.real.clone()).or_insert(0);
                        self.create_links(&target, &dst, prev)?;
                        self.create_links(&src, &dst, priority)?;
                        continue;
                    }
                }
            } else if let Some(dm) = &dst_meta {
                if dm.file_type().is_symlink() {
                    let prev = *self.priorities.entry(dst.real.clone()).or_insert(0);
                    if prev == priority {
                        let other = std::fs::read_link(&dst.real)
                            .map_err(io("reading symlink", &dst.logical))?;
                        return Err(BuiltinError::SamePriority {
                            first: src.display().to_string(),
                            second: other.display().to_string(),
                            priority,
                        }
                        .into());
                    }
                    if prev < priority {
                        continue;
                    }
                    std::fs::remove_file(&dst.real).map_err(io("unlinking", &dst.logical))?;
                } else if dm.is_dir() {
                    return Err(BuiltinError::FileCollision {
                        file: src.display().to_string(),
                        dir: dst.logical.display().to_string(),
                    }
                    .into());
                }
            }
            self.create_symlink(&src, &dst)?;
            self.priorities.insert(dst.real.clone(), priority);
            self.symlinks += 1;
        }
        Ok(())
    }
}

/// Builds the profile of `pkgs` at `out` (real path `out.real`).
fn build_profile(
    state: &mut State<'_, '_>,
    out: &Dst,
    mut pkgs: Vec<Package>,
) -> Result<(), BuildError> {
    let mut done: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut postponed: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut add = |state: &mut State<'_, '_>,
                   postponed: &mut BTreeSet<Vec<u8>>,
                   pkg: &[u8],
                   priority: i32|
     -> Result<(), BuildError> {
        if !done.insert(pkg.to_vec()) {
            return Ok(());
        }
        let dir = PathBuf::from(OsStr::from_bytes(pkg));
        state.create_links(&dir, out, priority)?;
        let file = concat(&dir, OsStr::new("nix-support/propagated-user-env-packages"));
        let contents = state
            .paths
            .resolve(&file)
            .and_then(|r| std::fs::read(state.paths.real(&r)));
        match contents {
            Ok(c) => {
                for p in c.split(|b| b" \n".contains(b)).filter(|w| !w.is_empty()) {
                    if !done.contains(p) {
                        postponed.insert(p.to_vec());
                    }
                }
            }
            Err(e) if is_not_found(&e) || is_enotdir(&e) => {}
            Err(e) => return Err(io("reading file", &file)(e)),
        }
        Ok(())
    };
    pkgs.sort_by(|a, b| (a.priority, &a.path).cmp(&(b.priority, &b.path)));
    for pkg in &pkgs {
        if pkg.active {
            add(state, &mut postponed, &pkg.path, pkg.priority)?;
        }
    }
    let mut counter: i32 = 1000;
    while !postponed.is_empty() {
        let round = std::mem::take(&mut postponed);
        for pkg in round {
            add(state, &mut postponed, &pkg, counter)?;
            counter = counter.saturating_add(1);
        }
    }
    Ok(())
}

/// Runs `builtin:buildenv` for `drv`, writing `$out` at `out` (a real path).
pub(super) fn build(
    drv: &Derivation,
    paths: Paths<'_>,
    out: &Path,
    log: &mut dyn Write,
) -> Result<(), BuildError> {
    let logical_out = PathBuf::from(OsStr::from_bytes(attr(drv, "out")?));
    std::fs::create_dir_all(out).map_err(io("creating directory", &logical_out))?;
    let pkgs = parse_derivations(attr(drv, "derivations")?)?;
    let dst = Dst {
        real: out.to_path_buf(),
        logical: logical_out,
    };
    let mut state = State {
        paths,
        priorities: HashMap::new(),
        symlinks: 0,
        log,
    };
    build_profile(&mut state, &dst, pkgs)?;
    let manifest = PathBuf::from(OsStr::from_bytes(attr(drv, "manifest")?));
    state.create_symlink(&manifest, &dst.join(OsStr::new("manifest.nix")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stoi_as_c() {
        assert_eq!(stoi(b"5"), Some(5));
        assert_eq!(stoi(b"-3x"), Some(-3));
        assert_eq!(stoi(b"+7"), Some(7));
        assert_eq!(stoi(b"x"), None);
        assert_eq!(stoi(b""), None);
        assert_eq!(stoi(b"2147483647"), Some(i32::MAX));
        assert_eq!(stoi(b"-2147483648"), Some(i32::MIN));
        assert_eq!(stoi(b"2147483648"), None);
    }

    #[test]
    fn derivations_attr() -> Result<(), BuiltinError> {
        let pkgs = parse_derivations(b"true 5 2 /a /b\nfalse -1 1 /c")?;
        assert_eq!(pkgs.len(), 3);
        assert!(pkgs[0].active && pkgs[1].active && !pkgs[2].active);
        assert_eq!(pkgs[2].priority, -1);
        assert_eq!(pkgs[1].path, b"/b");
        assert!(matches!(
            parse_derivations(b"true 5 2 /a"),
            Err(BuiltinError::BadDerivations { word: 4, .. })
        ));
        assert!(matches!(
            parse_derivations(b"true x 1 /a"),
            Err(BuiltinError::BadDerivations { word: 1, .. })
        ));
        Ok(())
    }
}
