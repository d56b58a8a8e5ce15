//! `fetchGit` with the `git` binary, following CppNix 2.8's git fetcher.
//!
//! - **Local repositories** (a path or `file://` URL of a directory with `.git`): with neither
//!   `ref` nor `rev`, a working tree with uncommitted changes (`git diff-index HEAD` not clean,
//!   or no commits yet) is copied as it is, tracked files only (`git ls-files`), with the
//!   warning `Git tree '<path>' is dirty`; the result then has no revision (`fetchGit` reports
//!   the all-zero `rev` and `revCount = 0`) and `lastModified` is the time of `HEAD`. Otherwise
//!   `ref` defaults to the checked-out branch, `rev` to what `ref` points to, and the tree of
//!   `rev` is exported with `git archive` (or checked out with its submodules when
//!   `submodules = true`).
//! - **Other URLs** (including `file://` URLs of bare repositories) are fetched into a bare
//!   repository in the cache directory (`<cache>/git/<nix32 sha256 of the URL>`), refreshed
//!   when the ref is older than `tarball-ttl`, with `ref` defaulting to `master`.
//!
//! Results of a revision are remembered in the [`super::cache::Cache`] (immutable), so a
//! second fetch of the same revision does not run git.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix_store::content_address::FileIngestionMethod;
use nix_store::hash::{Hash, HashAlgo};
use nix_store::store_path::StorePath;

use super::{cache, io_err, FetchError, Fetcher};

/// A `fetchGit` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitInput {
    /// The repository: an absolute path, `file://…`, `https://…`, `ssh://…`.
    pub url: String,
    /// A branch or tag (`refs/…` or a short name).
    pub ref_: Option<String>,
    /// A full 40-hex commit hash.
    pub rev: Option<String>,
    /// The store path name (default `source`).
    pub name: String,
    /// Check out submodules too.
    pub submodules: bool,
    /// Fetch every ref of a remote repository (so `rev` may be on any branch).
    pub all_refs: bool,
    /// Accept a shallow repository (no `revCount` then).
    pub shallow: bool,
}

impl GitInput {
    /// A request for `url` with the defaults.
    pub fn new(url: impl Into<String>) -> GitInput {
        GitInput {
            url: url.into(),
            ref_: None,
            rev: None,
            name: "source".into(),
            submodules: false,
            all_refs: false,
            shallow: false,
        }
    }

    /// CppNix's rendering of the input in `while fetching the input '…'`:
    /// `git+file:///repo?ref=main&rev=…`.
    pub fn to_url_string(&self) -> String {
        let base = if self.url.starts_with("git") {
            self.url.clone()
        } else {
            format!("git+{}", self.url)
        };
        let extra: &[&str] = if self.shallow { &["shallow=1"] } else { &[] };
        super::input_url(base, self.ref_.as_deref(), self.rev.as_deref(), extra)
    }
}

/// A fetched git tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitTree {
    /// The store path of the tree.
    pub store_path: StorePath,
    /// The NAR hash of the tree.
    pub nar_hash: Hash,
    /// The commit, `None` for a dirty working tree.
    pub rev: Option<String>,
    /// Number of commits reachable from `rev` (`None` for dirty or shallow fetches).
    pub rev_count: Option<u64>,
    /// Commit time of `rev` (of `HEAD` for a dirty tree, 0 without commits).
    pub last_modified: u64,
    /// Whether submodules were requested.
    pub submodules: bool,
    /// The ref the revision was taken from (the requested one, else the default branch); `None`
    /// for a dirty tree.
    pub locked_ref: Option<String>,
}

/// Git failures, in CppNix's words.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GitError {
    /// `git` exited with an error (its own message went to standard error).
    #[error("program 'git' failed with exit code {code}")]
    Failed {
        /// The exit status.
        code: i32,
    },
    /// `git` could not be started.
    #[error("executing 'git': {message}")]
    Spawn {
        /// The OS error.
        message: String,
    },
    /// The revision is not in the repository.
    #[error("Cannot find Git revision '{rev}' in ref '{ref_}' of repository '{url}'! Please make sure that the rev exists on the ref you've specified or add allRefs = true; to fetchGit.")]
    RevNotFound {
        /// The revision.
        rev: String,
        /// The ref.
        ref_: String,
        /// The repository.
        url: String,
    },
    /// A shallow repository without `shallow = true`.
    #[error("'{url}' is a shallow Git repository, but a non-shallow repository is needed")]
    Shallow {
        /// The repository.
        url: String,
    },
    /// A ref name git would refuse.
    #[error("invalid Git branch/tag name '{0}'")]
    BadRef(String),
    /// `rev` is not a 40-digit hex commit hash.
    #[error("hash '{0}' has wrong length for hash type 'sha1'")]
    BadRev(String),
    /// git printed something we cannot read.
    #[error("unexpected output from 'git {args}': '{output}'")]
    Output {
        /// The arguments.
        args: String,
        /// What it printed.
        output: String,
    },
}

/// Whether git would refuse `r` as a branch or tag name (CppNix's `badGitRefRegex`).
pub fn is_bad_ref(r: &str) -> bool {
    r.is_empty()
        || r == "@"
        || r.contains("//")
        || r.starts_with('.')
        || r.starts_with('/')
        || r.contains("/.")
        || r.contains("..")
        || r.bytes()
            .any(|b| b.is_ascii_control() || b" :?^~[\\*".contains(&b))
        || r.ends_with(".lock")
        || r.contains(".lock/")
        || r.contains("@{")
        || r.ends_with('/')
        || r.ends_with('.')
}

/// Checks a `rev` argument (40 hex digits, as `Hash::parseAny(…, sha1)` needs).
///
/// # Errors
/// [`GitError::BadRev`].
pub fn check_rev(rev: &str) -> Result<(), GitError> {
    Hash::parse_with_algo(rev, HashAlgo::Sha1)
        .map(|_| ())
        .map_err(|_| GitError::BadRev(rev.to_string()))
}

struct Git<'a> {
    args: Vec<&'a str>,
}

fn git<'a>(args: &[&'a str]) -> Git<'a> {
    Git {
        args: args.to_vec(),
    }
}

impl Git<'_> {
    fn command(&self) -> Command {
        let mut c = Command::new("git");
        c.args(&self.args).stdin(Stdio::null());
        c
    }

    /// Runs and returns standard output; standard error goes to ours, as in CppNix.
    fn output(&self) -> Result<Vec<u8>, GitError> {
        let out = self
            .command()
            .stderr(Stdio::inherit())
            .output()
            .map_err(spawn_err)?;
        if !out.status.success() {
            return Err(GitError::Failed {
                code: out.status.code().unwrap_or(1),
            });
        }
        Ok(out.stdout)
    }

    fn text(&self) -> Result<String, GitError> {
        Ok(String::from_utf8_lossy(&self.output()?)
            .trim_end()
            .to_string())
    }

    /// Runs with standard error captured; returns (exit code, stdout + stderr).
    fn status_merged(&self) -> Result<(i32, String), GitError> {
        let out = self.command().output().map_err(spawn_err)?;
        let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
        s.push_str(&String::from_utf8_lossy(&out.stderr));
        Ok((out.status.code().unwrap_or(-1), s))
    }

    fn number(&self) -> Result<u64, GitError> {
        let t = self.text()?;
        t.trim().parse().map_err(|_| GitError::Output {
            args: self.args.join(" "),
            output: t,
        })
    }
}

fn spawn_err(e: std::io::Error) -> GitError {
    GitError::Spawn {
        message: match e.kind() {
            std::io::ErrorKind::NotFound => "No such file or directory".into(),
            _ => e.to_string(),
        },
    }
}

/// `(is_local, actual_url)`: a `file://` URL (or path) of a non-bare repository is used in
/// place; everything else is cloned.
fn actual_url(url: &str) -> (bool, String) {
    let path = url
        .strip_prefix("git+file://")
        .or_else(|| url.strip_prefix("file://"))
        .or_else(|| url.starts_with('/').then_some(url));
    if let Some(p) = path {
        let p = p.split(['?', '#']).next().unwrap_or(p);
        if Path::new(p).join(".git").exists() {
            return (true, p.to_string());
        }
        return (false, format!("file://{p}"));
    }
    let base = url.split(['?', '#']).next().unwrap_or(url);
    let base = base.strip_prefix("git+").unwrap_or(base);
    (false, base.to_string())
}

fn cache_type(input: &GitInput) -> String {
    let mut t = "git".to_string();
    if input.shallow {
        t.push_str("-shallow");
    }
    if input.submodules {
        t.push_str("-submodules");
    }
    if input.all_refs {
        t.push_str("-all-refs");
    }
    t
}

fn nar_hash_of(path: &Path) -> Result<Hash, FetchError> {
    let (digest, _) = nix_nar::hash::dump_and_hash(path).map_err(|e| FetchError::Io {
        what: format!("hashing '{}'", path.display()),
        message: e.to_string(),
    })?;
    Hash::new(HashAlgo::Sha256, &digest).map_err(|e| FetchError::Io {
        what: format!("hashing '{}'", path.display()),
        message: e.to_string(),
    })
}

fn add_tree(f: &Fetcher<'_>, name: &str, dir: &Path) -> Result<(StorePath, Hash), FetchError> {
    let nar_hash = nar_hash_of(dir)?;
    super::fixed_output_path(
        f.store().store_dir(),
        name,
        FileIngestionMethod::Recursive,
        &nar_hash,
    )?;
    let p = f
        .store()
        .add_path(name, dir, FileIngestionMethod::Recursive)?;
    Ok((p, nar_hash))
}

/// Copies the tracked files of a working tree (`files`, relative) into `dest`.
pub(super) fn copy_tracked(
    repo: &Path,
    files: &BTreeSet<Vec<u8>>,
    dest: &Path,
) -> Result<(), FetchError> {
    use std::os::unix::ffi::OsStrExt;
    for rel in files {
        let rel = Path::new(std::ffi::OsStr::from_bytes(rel));
        let src = repo.join(rel);
        let Ok(meta) = std::fs::symlink_metadata(&src) else {
            continue; // deleted in the working tree: not part of the copy
        };
        let target = dest.join(rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(io_err(format!("creating directory '{}'", parent.display())))?;
        }
        if meta.file_type().is_symlink() {
            let l = std::fs::read_link(&src)
                .map_err(io_err(format!("reading link '{}'", src.display())))?;
            std::os::unix::fs::symlink(&l, &target)
                .map_err(io_err(format!("creating link '{}'", target.display())))?;
        } else if meta.is_file() {
            std::fs::copy(&src, &target).map_err(io_err(format!("copying '{}'", src.display())))?;
        }
        // directories (submodule roots without --recurse-submodules) are skipped
    }
    Ok(())
}

/// Removes every entry named `.git` below `dir` (CppNix filters them out of submodule
/// checkouts).
fn remove_dot_git(dir: &Path) -> std::io::Result<()> {
    for ent in std::fs::read_dir(dir)? {
        let ent = ent?;
        let p = ent.path();
        let ft = ent.file_type()?;
        if ent.file_name() == ".git" {
            if ft.is_dir() {
                std::fs::remove_dir_all(&p)?;
            } else {
                std::fs::remove_file(&p)?;
            }
        } else if ft.is_dir() {
            remove_dot_git(&p)?;
        }
    }
    Ok(())
}

fn tree_from_cache(c: &cache::CacheEntry, p: StorePath, input: &GitInput) -> Option<GitTree> {
    let num = |k: &str| c.info.get(k).and_then(|v| v.parse::<u64>().ok());
    Some(GitTree {
        store_path: p,
        nar_hash: Hash::parse_any(c.info.get("narHash")?).ok()?,
        rev: Some(c.info.get("rev")?.clone()),
        rev_count: if input.shallow { None } else { num("revCount") },
        last_modified: num("lastModified")?,
        submodules: input.submodules,
        locked_ref: input.ref_.clone(),
    })
}

/// Fetches a git input (see the module docs).
///
/// # Errors
/// [`GitError`]s (git's own message goes to standard error), store and I/O errors.
pub(crate) fn fetch(f: &Fetcher<'_>, input: &GitInput) -> Result<GitTree, FetchError> {
    if let Some(r) = &input.ref_ {
        if is_bad_ref(r) {
            return Err(GitError::BadRef(r.clone()).into());
        }
    }
    if let Some(r) = &input.rev {
        check_rev(r)?;
    }
    let ctype = cache_type(input);
    let locked_key =
        |rev: &str| cache::key(&[("type", &ctype), ("name", &input.name), ("rev", rev)]);
    let lookup_locked = |rev: &str| -> Option<GitTree> {
        let c = f.cache?.lookup(&locked_key(rev))?;
        let p = StorePath::from_base_name(&c.entry.store_path).ok()?;
        if f.store().writes() && !f.store().is_valid_path(&p).ok()? {
            return None;
        }
        tree_from_cache(&c.entry, p, input)
    };
    if let Some(rev) = &input.rev {
        if let Some(t) = lookup_locked(rev) {
            return Ok(t);
        }
    }
    let (is_local, url) = actual_url(&input.url);

    if is_local && input.ref_.is_none() && input.rev.is_none() {
        if let Some(t) = fetch_dirty(f, input, &url)? {
            return Ok(t);
        }
    }

    let ref_ = match &input.ref_ {
        Some(r) => r.clone(),
        None if is_local => git(&["-C", &url, "rev-parse", "--abbrev-ref", "HEAD"]).text()?,
        None => "master".to_string(),
    };

    let mut _clone_tmp = None;
    let (repo_dir, rev) = if is_local {
        let rev = match &input.rev {
            Some(r) => r.clone(),
            None => {
                let r = git(&["-C", &url, "rev-parse", &ref_]).text()?;
                check_rev(&r)?;
                r
            }
        };
        (PathBuf::from(&url), rev)
    } else {
        let dir = match f.cache {
            Some(c) => c
                .dir()
                .join("git")
                .join(Hash::digest_bytes(HashAlgo::Sha256, url.as_bytes()).to_nix32()),
            None => {
                let t = tempfile::tempdir().map_err(io_err("creating temporary directory"))?;
                let d = t.path().join("repo");
                _clone_tmp = Some(t);
                d
            }
        };
        let ttl = f.cache.map(|c| c.ttl()).unwrap_or(0);
        let rev = fetch_remote(f, input, &url, &ref_, &dir, ttl)?;
        (dir, rev)
    };
    let repo = repo_dir.to_string_lossy().into_owned();

    let shallow_repo = git(&["-C", &repo, "rev-parse", "--is-shallow-repository"]).text()?;
    if shallow_repo == "true" && !input.shallow {
        return Err(GitError::Shallow { url }.into());
    }
    if let Some(mut t) = lookup_locked(&rev) {
        t.locked_ref = Some(ref_);
        return Ok(t);
    }

    let (code, out) = git(&["-C", &repo, "cat-file", "commit", &rev]).status_merged()?;
    if code == 128 && out.contains("bad file") {
        return Err(GitError::RevNotFound { rev, ref_, url }.into());
    }

    let tmp = tempfile::tempdir().map_err(io_err("creating temporary directory"))?;
    let tree = tmp.path().join("tree");
    std::fs::create_dir(&tree).map_err(io_err("creating temporary directory"))?;
    let tree_s = tree.to_string_lossy().into_owned();
    if input.submodules {
        let gd = tmp.path().join("gitdir");
        let gd_s = gd.to_string_lossy().into_owned();
        git(&[
            "-c",
            "init.defaultBranch=__nix_dummy_branch",
            "init",
            "--quiet",
            &tree_s,
            "--separate-git-dir",
            &gd_s,
        ])
        .output()?;
        git(&[
            "-C",
            &tree_s,
            "fetch",
            "--quiet",
            "--force",
            "--update-head-ok",
            "--",
            &repo,
            "refs/*:refs/*",
        ])
        .output()?;
        git(&["-C", &tree_s, "checkout", "--quiet", &rev]).output()?;
        git(&["-C", &tree_s, "remote", "add", "origin", &url]).output()?;
        git(&[
            "-C",
            &tree_s,
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "--quiet",
            "update",
            "--init",
            "--recursive",
        ])
        .output()?;
        remove_dot_git(&tree).map_err(io_err("removing .git from the checkout"))?;
    } else {
        let mut child = git(&["-C", &repo, "archive", &rev])
            .command()
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(spawn_err)?;
        let unpacked = match child.stdout.take() {
            Some(mut out) => {
                let r = super::unpack::unpack(&mut out, &tree);
                // drain so git is not killed by SIGPIPE before it reports
                let _ = std::io::copy(&mut out.by_ref(), &mut std::io::sink());
                r
            }
            None => Ok(()),
        };
        let status = child.wait().map_err(spawn_err)?;
        if !status.success() {
            return Err(GitError::Failed {
                code: status.code().unwrap_or(1),
            }
            .into());
        }
        unpacked?;
    }
    let (store_path, nar_hash) = add_tree(f, &input.name, &tree)?;
    let last_modified = git(&[
        "-C",
        &repo,
        "log",
        "-1",
        "--format=%ct",
        "--no-show-signature",
        &rev,
    ])
    .number()?;
    let rev_count = if input.shallow {
        None
    } else {
        Some(git(&["-C", &repo, "rev-list", "--count", &rev]).number()?)
    };
    let mut info = BTreeMap::new();
    info.insert("rev".to_string(), rev.clone());
    info.insert("lastModified".to_string(), last_modified.to_string());
    info.insert("narHash".to_string(), nar_hash.to_sri());
    if let Some(n) = rev_count {
        info.insert("revCount".to_string(), n.to_string());
    }
    f.remember(&locked_key(&rev), info, &store_path, true);
    Ok(GitTree {
        store_path,
        nar_hash,
        rev: Some(rev),
        rev_count,
        last_modified,
        submodules: input.submodules,
        locked_ref: Some(ref_),
    })
}

/// A local working tree with uncommitted changes (or no commits): its tracked files.
/// `None` when the tree is clean.
fn fetch_dirty(
    f: &Fetcher<'_>,
    input: &GitInput,
    url: &str,
) -> Result<Option<GitTree>, FetchError> {
    let common = git(&["-C", url, "rev-parse", "--git-common-dir"]).text()?;
    let git_dir = if common == ".git" {
        Path::new(url).join(".git")
    } else {
        Path::new(url).join(&common)
    };
    let have_commits = std::fs::read_dir(git_dir.join("refs/heads"))
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    let clean = if have_commits {
        let st = git(&["-C", url, "diff-index", "--quiet", "HEAD", "--"])
            .command()
            .stderr(Stdio::inherit())
            .status()
            .map_err(spawn_err)?;
        match st.code() {
            Some(0) => true,
            Some(1) => false,
            c => {
                return Err(GitError::Failed {
                    code: c.unwrap_or(1),
                }
                .into())
            }
        }
    } else {
        false
    };
    if clean {
        return Ok(None);
    }
    f.warn(&format!("Git tree '{url}' is dirty"));
    let mut args = vec!["-C", url, "ls-files", "-z"];
    if input.submodules {
        args.push("--recurse-submodules");
    }
    let listed = git(&args).output()?;
    let files: BTreeSet<Vec<u8>> = listed
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    let tmp = tempfile::tempdir().map_err(io_err("creating temporary directory"))?;
    let tree = tmp.path().join("tree");
    std::fs::create_dir(&tree).map_err(io_err("creating temporary directory"))?;
    copy_tracked(Path::new(url), &files, &tree)?;
    let (store_path, nar_hash) = add_tree(f, &input.name, &tree)?;
    let last_modified = if have_commits {
        git(&[
            "-C",
            url,
            "log",
            "-1",
            "--format=%ct",
            "--no-show-signature",
            "HEAD",
        ])
        .number()?
    } else {
        0
    };
    Ok(Some(GitTree {
        store_path,
        nar_hash,
        rev: None,
        rev_count: None,
        last_modified,
        submodules: input.submodules,
        locked_ref: None,
    }))
}

/// Brings the bare cache repository `dir` up to date for `ref_` (or makes sure it has
/// `input.rev`) and returns the revision to use.
fn fetch_remote(
    f: &Fetcher<'_>,
    input: &GitInput,
    url: &str,
    ref_: &str,
    dir: &Path,
    ttl: u64,
) -> Result<String, FetchError> {
    let dir_s = dir.to_string_lossy().into_owned();
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)
            .map_err(io_err(format!("creating directory '{}'", parent.display())))?;
    }
    if !dir.exists() {
        git(&[
            "-c",
            "init.defaultBranch=__nix_dummy_branch",
            "init",
            "--quiet",
            "--bare",
            &dir_s,
        ])
        .output()?;
    }
    let local_ref = if ref_.starts_with("refs/") {
        dir.join(ref_)
    } else {
        dir.join("refs/heads").join(ref_)
    };
    let do_fetch = match &input.rev {
        Some(rev) => {
            let st = git(&["-C", &dir_s, "cat-file", "-e", rev])
                .command()
                .stderr(Stdio::null())
                .status()
                .map_err(spawn_err)?;
            !st.success()
        }
        None if input.all_refs => true,
        None => match std::fs::metadata(&local_ref).and_then(|m| m.modified()) {
            Ok(t) => {
                let age = t.elapsed().map(|d| d.as_secs()).unwrap_or(0);
                ttl == 0 || age >= ttl
            }
            Err(_) => true,
        },
    };
    if do_fetch {
        let fetch_ref = if input.all_refs {
            "refs/*".to_string()
        } else if ref_.starts_with("refs/") || ref_ == "HEAD" {
            ref_.to_string()
        } else {
            format!("refs/heads/{ref_}")
        };
        let spec = format!("{fetch_ref}:{fetch_ref}");
        let r = git(&[
            "-C", &dir_s, "fetch", "--quiet", "--force", "--", url, &spec,
        ])
        .output();
        if let Err(e) = r {
            if !local_ref.exists() {
                return Err(e.into());
            }
            f.warn(&format!(
                "could not update local clone of Git repository '{url}'; continuing with the most recent version"
            ));
        }
        // mark the ref as fresh (git leaves its mtime alone when nothing changed)
        if let Ok(file) = std::fs::File::options().append(true).open(&local_ref) {
            let _ = file.set_modified(std::time::SystemTime::now());
        }
    }
    match &input.rev {
        Some(r) => Ok(r.clone()),
        None => {
            let text = match std::fs::read_to_string(&local_ref) {
                Ok(t) => t.trim().to_string(),
                Err(_) => git(&["-C", &dir_s, "rev-parse", ref_]).text()?,
            };
            check_rev(&text)?;
            Ok(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_refs() {
        for r in [
            "", "@", "a//b", ".a", "/a", "a/.b", "a..b", "a b", "a:b", "a~1", "a.lock", "a@{1",
            "a/", "a.",
        ] {
            assert!(is_bad_ref(r), "{r:?}");
        }
        for r in ["main", "refs/heads/main", "v1.0", "feature/x-y"] {
            assert!(!is_bad_ref(r), "{r:?}");
        }
    }

    #[test]
    fn url_strings() {
        let mut i = GitInput::new("file:///tmp/repo");
        i.ref_ = Some("nope".into());
        assert_eq!(i.to_url_string(), "git+file:///tmp/repo?ref=nope");
        assert_eq!(
            actual_url("/nonexistent/x"),
            (false, "file:///nonexistent/x".into())
        );
        assert_eq!(
            actual_url("git+https://example.org/r.git?x=1"),
            (false, "https://example.org/r.git".into())
        );
    }

    #[test]
    fn revs() {
        assert!(check_rev("45a639dc08ada4a291df65e797d752b78656c83a").is_ok());
        assert_eq!(
            check_rev("45a6").err().map(|e| e.to_string()),
            Some("hash '45a6' has wrong length for hash type 'sha1'".into())
        );
    }
}
