//! `fetchMercurial` with the `hg` binary, following CppNix 2.8's Mercurial fetcher.
//!
//! - **Local working trees** (a path or `file://` URL of a directory with `.hg`), without `ref`
//!   or `rev`: when `hg status --modified --added --removed` lists anything, the tracked files
//!   (clean, modified and added ones, as they are on disk) are copied with the warning
//!   `Mercurial tree '<path>' is unclean`; the result has no revision and no `revCount`, and
//!   its branch is `hg branch`'s.
//! - **Everything else** (clean local trees too) is cloned into `<cache>/hg/<nix32 sha256 of
//!   the URL>` (`hg clone --noupdate`, later `hg pull`; no pull when `rev` is already there),
//!   `ref` defaulting to `default`. `hg log -r REV-OR-REF --template '{node} {rev} {branch}'`
//!   gives the revision, the revision number (`revCount`) and the branch, and `hg archive`
//!   the tree (without `.hg_archival.txt`).
//!
//! The [`super::cache::Cache`] remembers `{type = hg; name; rev}` forever and `{type = hg;
//! name; url; ref}` for `tarball-ttl` seconds (only when no `rev` was asked for), as CppNix's
//! fetcher cache does: a fresh entry answers without running `hg`, even when the repository
//! has new commits. Every `hg` runs with `HGPLAIN` set and its standard error going to ours;
//! a failure is `hg failed with exit code N`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix_store::content_address::FileIngestionMethod;
use nix_store::hash::{Hash, HashAlgo};
use nix_store::store_path::StorePath;

use super::{cache, io_err, FetchError, Fetcher};

/// A `fetchMercurial` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HgInput {
    /// The repository: `file:///path`, `https://…`, `ssh://…`.
    pub url: String,
    /// A branch, tag or bookmark.
    pub ref_: Option<String>,
    /// A full 40-hex changeset id.
    pub rev: Option<String>,
    /// The store path name (default `source`).
    pub name: String,
}

impl HgInput {
    /// A request for `url` with the defaults.
    pub fn new(url: impl Into<String>) -> HgInput {
        HgInput {
            url: url.into(),
            ref_: None,
            rev: None,
            name: "source".into(),
        }
    }

    /// CppNix's rendering of the input in `while fetching the input '…'`:
    /// `hg+file:///repo?ref=default&rev=…`.
    pub fn to_url_string(&self) -> String {
        super::input_url(
            format!("hg+{}", self.url),
            self.ref_.as_deref(),
            self.rev.as_deref(),
            &[],
        )
    }
}

/// A fetched Mercurial tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HgTree {
    /// The store path of the tree.
    pub store_path: StorePath,
    /// The changeset, `None` for an unclean working tree.
    pub rev: Option<String>,
    /// The revision number of `rev` (`None` for an unclean working tree).
    pub rev_count: Option<u64>,
    /// The branch (CppNix's locked `ref`: the requested one, else the changeset's branch, else
    /// the working tree's).
    pub branch: String,
}

/// Mercurial failures, in CppNix's words.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HgError {
    /// `hg` exited with an error (its own message went to standard error).
    #[error("hg failed with exit code {code}")]
    Failed {
        /// The exit status.
        code: i32,
    },
    /// `hg pull` into the cache failed.
    #[error("'hg pull' failed with exit code {code}")]
    PullFailed {
        /// The exit status.
        code: i32,
    },
    /// `hg` could not be started.
    #[error("executing 'hg': {message}")]
    Spawn {
        /// The OS error.
        message: String,
    },
    /// A `ref` that is not a Mercurial branch/tag name (CppNix's `refRegex`).
    #[error("invalid Mercurial branch/tag name '{0}'")]
    BadRef(String),
    /// hg printed something we cannot read.
    #[error("unexpected output from 'hg {args}': '{output}'")]
    Output {
        /// The arguments.
        args: String,
        /// What it printed.
        output: String,
    },
}

/// Whether `r` is a valid `ref` (CppNix's `refRegex`: `[a-zA-Z0-9][a-zA-Z0-9_./-]*`).
pub fn is_valid_ref(r: &str) -> bool {
    let mut b = r.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && b.all(|c| c.is_ascii_alphanumeric() || b"_./-".contains(&c))
}

/// Whether a `rev` argument of `fetchMercurial` is a changeset id (40 hex digits, CppNix's
/// `revRegex`) rather than a branch or tag name.
pub fn is_rev(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn hg(args: &[&str]) -> Command {
    let mut c = Command::new("hg");
    c.args(args).env("HGPLAIN", "").stdin(Stdio::null());
    c
}

fn spawn_err(e: std::io::Error) -> HgError {
    HgError::Spawn {
        message: match e.kind() {
            std::io::ErrorKind::NotFound => "No such file or directory".into(),
            _ => e.to_string(),
        },
    }
}

/// Runs `hg args` and returns its standard output; standard error goes to ours, as in CppNix.
fn run(args: &[&str]) -> Result<Vec<u8>, HgError> {
    let out = hg(args)
        .stderr(Stdio::inherit())
        .output()
        .map_err(spawn_err)?;
    if !out.status.success() {
        return Err(HgError::Failed {
            code: out.status.code().unwrap_or(1),
        });
    }
    Ok(out.stdout)
}

/// `(is_local, actual_url)`: a `file://` URL is used as its path, anything else as the URL
/// without query and fragment.
fn actual_url(url: &str) -> (bool, String) {
    let base = url.split(['?', '#']).next().unwrap_or(url);
    match base.strip_prefix("file://") {
        Some(p) => (true, p.to_string()),
        None => (false, base.to_string()),
    }
}

fn add_tree(f: &Fetcher<'_>, name: &str, dir: &Path) -> Result<StorePath, FetchError> {
    let (digest, _) = nix_nar::hash::dump_and_hash(dir).map_err(|e| FetchError::Io {
        what: format!("hashing '{}'", dir.display()),
        message: e.to_string(),
    })?;
    let nar_hash = Hash::new(HashAlgo::Sha256, &digest).map_err(|e| FetchError::Io {
        what: format!("hashing '{}'", dir.display()),
        message: e.to_string(),
    })?;
    // the name is checked (with CppNix's message) before anything is written
    super::fixed_output_path(
        f.store().store_dir(),
        name,
        FileIngestionMethod::Recursive,
        &nar_hash,
    )?;
    f.store()
        .add_path(name, dir, FileIngestionMethod::Recursive)
}

fn tree_from_info(
    info: &BTreeMap<String, String>,
    store_path: StorePath,
    branch: &str,
) -> Option<HgTree> {
    Some(HgTree {
        store_path,
        rev: Some(info.get("rev")?.clone()),
        rev_count: Some(info.get("revCount")?.parse().ok()?),
        branch: branch.to_string(),
    })
}

/// Fetches a Mercurial input (see the module docs).
///
/// # Errors
/// [`HgError`]s (hg's own message goes to standard error), store and I/O errors.
pub(crate) fn fetch(f: &Fetcher<'_>, input: &HgInput) -> Result<HgTree, FetchError> {
    let (is_local, url) = actual_url(&input.url);
    if input.ref_.is_none()
        && input.rev.is_none()
        && is_local
        && Path::new(&url).join(".hg").exists()
    {
        if let Some(t) = fetch_unclean(f, input, &url)? {
            return Ok(t);
        }
    }
    let ref_ = input.ref_.clone().unwrap_or_else(|| "default".into());
    let name = input.name.as_str();
    let locked_key = |rev: &str| cache::key(&[("type", "hg"), ("name", name), ("rev", rev)]);
    let from_cache = |key: &cache::CacheKey, branch: &str| -> Option<HgTree> {
        let (c, p) = f.lookup(key)?;
        if c.expired {
            return None;
        }
        tree_from_info(&c.entry.info, p, branch)
    };
    if let Some(rev) = &input.rev {
        if let Some(t) = from_cache(&locked_key(rev), &ref_) {
            return Ok(t);
        }
    }
    let unlocked_key = cache::key(&[
        ("type", "hg"),
        ("name", name),
        ("url", &url),
        ("ref", &ref_),
    ]);
    if let Some(t) = from_cache(&unlocked_key, &ref_) {
        if input.rev.is_none() || input.rev == t.rev {
            return Ok(t);
        }
    }

    let mut _clone_tmp = None;
    let dir: PathBuf = match f.cache {
        Some(c) => c
            .dir()
            .join("hg")
            .join(Hash::digest_bytes(HashAlgo::Sha256, url.as_bytes()).to_nix32()),
        None => {
            let t = tempfile::tempdir().map_err(io_err("creating temporary directory"))?;
            let d = t.path().join("repo");
            _clone_tmp = Some(t);
            d
        }
    };
    let dir_s = dir.to_string_lossy().into_owned();
    // a changeset the cache already has needs no pull (hg's complaint about a missing one
    // goes to standard error, as in CppNix)
    let have_rev = match &input.rev {
        Some(rev) if dir.exists() => {
            let out = hg(&["log", "-R", &dir_s, "-r", rev, "--template", "1"])
                .stderr(Stdio::inherit())
                .output()
                .map_err(spawn_err)?;
            out.stdout == b"1"
        }
        _ => false,
    };
    if !have_rev {
        if dir.exists() {
            if let Err(e) = run(&["pull", "-R", &dir_s, "--", &url]) {
                if !dir.join(".hg/store/journal").exists() {
                    return Err(match e {
                        HgError::Failed { code } => HgError::PullFailed { code },
                        other => other,
                    }
                    .into());
                }
                run(&["recover", "-R", &dir_s])?;
                run(&["pull", "-R", &dir_s, "--", &url])?;
            }
        } else {
            if let Some(parent) = dir.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(io_err(format!("creating directory '{}'", parent.display())))?;
            }
            run(&["clone", "--noupdate", "--", &url, &dir_s])?;
        }
    }

    let rev_or_ref = input.rev.as_deref().unwrap_or(&ref_);
    let template = "{node} {rev} {branch}";
    let out = run(&[
        "log",
        "-R",
        &dir_s,
        "-r",
        rev_or_ref,
        "--template",
        template,
    ])?;
    let text = String::from_utf8_lossy(&out).into_owned();
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let bad_output = || HgError::Output {
        args: format!("log -r {rev_or_ref} --template '{template}'"),
        output: text.clone(),
    };
    let [node, num, branch] = tokens[..] else {
        return Err(bad_output().into());
    };
    if !is_rev(node) {
        return Err(bad_output().into());
    }
    let rev = node.to_ascii_lowercase();
    let rev_count: u64 = num.parse().map_err(|_| bad_output())?;
    if let Some(t) = from_cache(&locked_key(&rev), branch) {
        return Ok(t);
    }

    let tmp = tempfile::tempdir().map_err(io_err("creating temporary directory"))?;
    let tree = tmp.path().join("tree");
    let tree_s = tree.to_string_lossy().into_owned();
    run(&["archive", "-R", &dir_s, "-r", &rev, &tree_s])?;
    let archival = tree.join(".hg_archival.txt");
    if archival.exists() {
        std::fs::remove_file(&archival)
            .map_err(io_err(format!("removing '{}'", archival.display())))?;
    }
    let store_path = add_tree(f, name, &tree)?;
    let mut info = BTreeMap::new();
    info.insert("rev".to_string(), rev.clone());
    info.insert("revCount".to_string(), rev_count.to_string());
    if input.rev.is_none() {
        f.remember(&unlocked_key, info.clone(), &store_path, false);
    }
    f.remember(&locked_key(&rev), info, &store_path, true);
    Ok(HgTree {
        store_path,
        rev: Some(rev),
        rev_count: Some(rev_count),
        branch: branch.to_string(),
    })
}

/// A local working tree with uncommitted changes: its tracked files. `None` when it is clean.
fn fetch_unclean(
    f: &Fetcher<'_>,
    input: &HgInput,
    url: &str,
) -> Result<Option<HgTree>, FetchError> {
    let status = run(&["status", "-R", url, "--modified", "--added", "--removed"])?;
    if status.is_empty() {
        return Ok(None);
    }
    f.warn(&format!("Mercurial tree '{url}' is unclean"));
    let branch = String::from_utf8_lossy(&run(&["branch", "-R", url])?)
        .trim_end_matches('\n')
        .to_string();
    let listed = run(&[
        "status",
        "-R",
        url,
        "--clean",
        "--modified",
        "--added",
        "--no-status",
        "--print0",
    ])?;
    let files: BTreeSet<Vec<u8>> = listed
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    let tmp = tempfile::tempdir().map_err(io_err("creating temporary directory"))?;
    let tree = tmp.path().join("tree");
    std::fs::create_dir(&tree).map_err(io_err("creating temporary directory"))?;
    super::git::copy_tracked(Path::new(url), &files, &tree)?;
    let store_path = add_tree(f, &input.name, &tree)?;
    Ok(Some(HgTree {
        store_path,
        rev: None,
        rev_count: None,
        branch,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_and_revs() {
        assert!(is_valid_ref("default"));
        assert!(is_valid_ref("release/1.0_x-y"));
        assert!(!is_valid_ref("bad ref"));
        assert!(!is_valid_ref("-x"));
        assert!(!is_valid_ref(""));
        assert!(is_rev("57ae1129260fc975b553b89b4cd5fa7b4e3c4bab"));
        assert!(!is_rev("57ae1129260f"));
    }

    #[test]
    fn urls() {
        assert_eq!(actual_url("file:///r?x=1"), (true, "/r".to_string()));
        assert_eq!(
            actual_url("https://h/r#f"),
            (false, "https://h/r".to_string())
        );
        let mut i = HgInput::new("file:///r");
        i.ref_ = Some("default".into());
        i.rev = Some("57ae1129260fc975b553b89b4cd5fa7b4e3c4bab".into());
        assert_eq!(
            i.to_url_string(),
            "hg+file:///r?ref=default&rev=57ae1129260fc975b553b89b4cd5fa7b4e3c4bab"
        );
    }
}
