//! Fetcher builtins: `fetchurl`, `fetchTarball`, `fetchGit`, `fetchTree`, `fetchMercurial`.
//!
//! The work is done by [`crate::fetch`]; this module reads the arguments as CppNix 2.8's
//! `primops/fetchTree.cc` and `primops/fetchMercurial.cc` do, adds to the evaluator's store
//! through [`EvalStore::add_fetched`] (written whenever the evaluator has a real store, also
//! in read-only mode as CppNix does; only computed with [`crate::store::ComputeOnly`]), and
//! words errors and warnings the same way.
//!
//! - `fetchTree` needs the `flakes` experimental feature in 2.8, which is off: it fails with
//!   CppNix's message.
//! - `fetchMercurial` runs `hg` (see [`crate::fetch::hg`]); without `hg` installed 2.8 prints
//!   `executing 'hg': No such file or directory` and fails with `hg failed with exit code 1`,
//!   which is what we do.
//! - The download cache is `$XDG_CACHE_HOME/nixrs` (else `$HOME/.cache/nixrs`), read through
//!   [`crate::io::EvalIo::get_env`]; unpinned entries stay fresh for
//!   [`crate::Settings::tarball_ttl`] seconds (CppNix's `tarball-ttl`, default 3600).

use std::rc::Rc;

use nix_store::content_address::FileIngestionMethod;
use nix_store::hash::{Hash, HashAlgo};
use nix_store::store_path::{StoreDir, StorePath};

use super::PrimOp;
use crate::diagnostic::Pos;
use crate::error::{Error, ErrorKind, Result};
use crate::eval::EvalState;
use crate::fetch::{self, Cache, FetchError, FetchStore, Fetcher, GitInput};
use crate::store::EvalStore;
use crate::value::{AttrsBuilder, Context, NixString, Value};

/// The evaluator's store as a [`FetchStore`]: fetched paths go through
/// [`EvalStore::add_fetched`], which writes whenever the backend has a real store (also in
/// read-only mode, as CppNix 2.8's fetchers do) and only computes paths with
/// [`crate::store::ComputeOnly`]. The download cache remembers every result either way.
struct EvalFetchStore<'a>(&'a dyn EvalStore);

fn from_eval(e: Error) -> FetchError {
    FetchError::Message(e.message().to_string())
}

impl FetchStore for EvalFetchStore<'_> {
    fn store_dir(&self) -> &StoreDir {
        self.0.store_dir()
    }

    fn writes(&self) -> bool {
        self.0.fetch_writes()
    }

    fn is_valid_path(&self, path: &StorePath) -> std::result::Result<bool, FetchError> {
        self.0.is_valid_path(path).map_err(from_eval)
    }

    fn add_path(
        &self,
        name: &str,
        src: &std::path::Path,
        method: FileIngestionMethod,
    ) -> std::result::Result<StorePath, FetchError> {
        self.0.add_fetched(name, src, method).map_err(from_eval)
    }

    fn export_file(
        &self,
        path: &StorePath,
        dest: &std::path::Path,
    ) -> std::result::Result<bool, FetchError> {
        self.0.export_path(path, dest).map_err(from_eval)
    }
}

fn fetch_error(e: FetchError) -> Error {
    let status = e.exit_status();
    Error::new(ErrorKind::Io, e.to_string()).with_exit_status(status)
}

fn warn(st: &EvalState, msg: &str) {
    st.io.trace(&format!("warning: {msg}"));
}

/// The download cache of this user, if a directory can be named.
fn user_cache(st: &EvalState) -> Option<Cache> {
    let xdg = st.io.get_env("XDG_CACHE_HOME");
    let home = st.io.get_env("HOME");
    let ttl = st.settings.tarball_ttl;
    Cache::default_dir(xdg.as_deref(), home.as_deref()).map(|d| Cache::new(d, ttl))
}

/// A string value holding a store path, with the path as its context.
/// The attribute set a fetcher builtin returns for a fetched tree: `outPath` first, then the
/// attributes added by name.
struct TreeAttrs(AttrsBuilder);

impl TreeAttrs {
    fn new(st: &mut EvalState, capacity: usize, out_path: Value) -> Self {
        let mut t = TreeAttrs(AttrsBuilder::with_capacity(capacity));
        t.put(st, "outPath", out_path);
        t
    }

    fn put(&mut self, st: &mut EvalState, name: &str, v: Value) {
        let s = st.symbols.intern(name.as_bytes());
        self.0.insert(s, v, None);
    }

    fn finish(self) -> Value {
        Value::Attrs(Rc::new(self.0.build()))
    }
}

fn store_path_value(dir: &StoreDir, p: &StorePath) -> Value {
    let s = dir.display(p);
    let mut c = Context::new();
    c.insert(s.clone());
    Value::String(NixString::with_context(s.into_bytes(), Some(c)))
}

/// CppNix's `forceStringNoCtx`.
fn string_no_ctx(st: &mut EvalState, v: &Value, pos: Option<Pos>) -> Result<String> {
    let s = st.force_string(v, pos)?;
    if let Some(c) = s.context() {
        if let Some(first) = c.iter().next() {
            let shown = first
                .strip_prefix('=')
                .or_else(|| {
                    first
                        .strip_prefix('!')
                        .and_then(|r| r.split_once('!').map(|x| x.1))
                })
                .unwrap_or(first);
            return Err(Error::eval(format!(
                "the string '{}' is not allowed to refer to a store path (such as '{}')",
                s.to_str_lossy(),
                shown
            ))
            .at_opt(pos));
        }
    }
    Ok(s.to_str_lossy().into_owned())
}

/// CppNix's `newHashAllowEmpty(s, sha256)`.
fn parse_sha256(st: &EvalState, s: &str) -> Result<Hash> {
    if s.is_empty() {
        let h = Hash::new(HashAlgo::Sha256, &[0u8; 32]).map_err(|e| Error::eval(e.to_string()))?;
        warn(st, &format!("found empty hash, assuming '{}'", h.to_sri()));
        return Ok(h);
    }
    Hash::parse_with_algo(s, HashAlgo::Sha256).map_err(|e| Error::eval(e.to_string()))
}

/// `fetchurl` and `fetchTarball`: `url` or `{ url; sha256 ? …; name ? …; }`.
fn fetch_url_like(
    st: &mut EvalState,
    args: &[Value],
    pos: Option<Pos>,
    who: &str,
    unpack: bool,
) -> Result<Value> {
    let v = st.force(&args[0])?;
    let mut url = None;
    let mut expected = None;
    let mut name = None;
    if let Value::Attrs(a) = &v {
        for attr in a.iter() {
            let n = st.symbols.resolve(attr.name).to_vec();
            match &n[..] {
                b"url" => url = Some(string_no_ctx(st, &attr.value, attr.pos)?),
                b"sha256" => {
                    let s = string_no_ctx(st, &attr.value, attr.pos)?;
                    expected = Some(parse_sha256(st, &s)?);
                }
                b"name" => name = Some(string_no_ctx(st, &attr.value, attr.pos)?),
                _ => {
                    return Err(Error::eval(format!(
                        "unsupported argument '{}' to '{who}'",
                        String::from_utf8_lossy(&n)
                    ))
                    .at_opt(attr.pos))
                }
            }
        }
        if url.is_none() {
            return Err(Error::eval("'url' argument required").at_opt(pos));
        }
    } else {
        url = Some(string_no_ctx(st, &v, pos)?);
    }
    let url = fetch::resolve_uri(&url.unwrap_or_default());
    if st.settings.pure && expected.is_none() {
        return Err(Error::eval(format!(
            "in pure evaluation mode, '{who}' requires a 'sha256' argument"
        )));
    }
    let backend = Rc::clone(&st.store);
    let store = EvalFetchStore(backend.backend());
    let cache = user_cache(st);
    let warn_fn = |m: &str| warn(st, m);
    let attempts = st.settings.download_attempts;
    let mut f = Fetcher::new(&store).on_warning(&warn_fn).attempts(attempts);
    if let Some(c) = &cache {
        f = f.cache(c);
    }
    let p = f
        .fetch(&url, name.as_deref(), expected.as_ref(), unpack)
        .map_err(fetch_error)?;
    Ok(store_path_value(store.0.store_dir(), &p))
}

fn fetchurl(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    fetch_url_like(st, args, pos, "fetchurl", false)
}

fn fetch_tarball(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    fetch_url_like(st, args, pos, "fetchTarball", true)
}

/// CppNix's `fixURI`/`fixURIForGit`: a string without `://` is a local path (`file://`);
/// scp-like `user@host:path` becomes `ssh://user@host/path`.
fn fix_uri_for_git(s: &str) -> String {
    if !s.starts_with('/') {
        if let Some((user, rest)) = s.split_once('@') {
            if !user.contains('/') {
                if let Some((host, path)) = rest.rsplit_once(':') {
                    let fixed = format!("{user}@{host}/{path}");
                    return if fixed.contains("://") {
                        fixed
                    } else {
                        format!("ssh://{fixed}")
                    };
                }
            }
        }
    }
    if s.contains("://") {
        s.to_string()
    } else {
        format!("file://{s}")
    }
}

/// A git input attribute as CppNix keeps it (string, Boolean or integer).
#[derive(Debug, Clone)]
enum InputAttr {
    Str(String),
    Bool(bool),
    Int(i64),
}

fn attrs_json(attrs: &std::collections::BTreeMap<String, InputAttr>) -> String {
    let mut m = serde_json::Map::new();
    for (k, v) in attrs {
        let j = match v {
            InputAttr::Str(s) => serde_json::Value::String(s.clone()),
            InputAttr::Bool(b) => serde_json::Value::Bool(*b),
            InputAttr::Int(i) => serde_json::Value::from(*i),
        };
        m.insert(k.clone(), j);
    }
    serde_json::Value::Object(m).to_string()
}

/// The attributes of a `fetchGit` input that CppNix checks against the result (`Input::fetch`).
#[derive(Debug, Default)]
struct Expected {
    nar_hash: Option<Hash>,
    last_modified: Option<i64>,
    rev_count: Option<i64>,
}

/// CppNix's `Input::getNarHash`: `""` is the zero sha256, anything else must be SRI sha256.
fn parse_nar_hash(s: &str) -> Result<Hash> {
    if s.is_empty() {
        return Hash::new(HashAlgo::Sha256, &[0u8; 32]).map_err(|e| Error::eval(e.to_string()));
    }
    let Some((algo, _)) = s.split_once('-') else {
        return Err(Error::eval(format!("hash '{s}' is not SRI")));
    };
    if algo.contains(':') {
        return Err(Error::eval(format!("hash '{s}' is not SRI")));
    }
    let h = Hash::parse_any(s).map_err(|e| Error::eval(e.to_string()))?;
    if h.algo() != HashAlgo::Sha256 {
        // a UsageError in CppNix, which adds the command's `Try '… --help'` line
        return Err(Error::new(ErrorKind::Usage, "narHash must use SHA-256"));
    }
    Ok(h)
}

/// Reads `fetchGit`'s argument into a [`GitInput`] (CppNix's `fetchTree` with type `git`,
/// then `GitInputScheme::inputFromAttrs`), with the attributes checked after fetching.
fn git_input(st: &mut EvalState, v: &Value, pos: Option<Pos>) -> Result<(GitInput, Expected)> {
    use std::collections::BTreeMap;
    let mut attrs: BTreeMap<String, InputAttr> = BTreeMap::new();
    attrs.insert("type".into(), InputAttr::Str("git".into()));
    if let Value::Attrs(a) = v {
        if a.contains(st.sym.type_) {
            return Err(Error::eval("unexpected attribute 'type'").at_opt(pos));
        }
        for attr in a.iter() {
            let n = String::from_utf8_lossy(st.symbols.resolve(attr.name)).into_owned();
            let val = st.force(&attr.value)?;
            let entry = match &val {
                Value::String(_) | Value::Path(_) => {
                    let mut ctx = Context::new();
                    let s = st.coerce_to_string(&val, attr.pos, false, false, &mut ctx)?;
                    let s = String::from_utf8_lossy(&s).into_owned();
                    InputAttr::Str(if n == "url" { fix_uri_for_git(&s) } else { s })
                }
                Value::Bool(b) => InputAttr::Bool(*b),
                Value::Int(i) => InputAttr::Int(*i),
                other => {
                    let what = other.show_type();
                    return Err(Error::type_error(format!(
                        "fetchTree argument '{n}' is {what} while a string, Boolean or integer is expected"
                    )));
                }
            };
            attrs.insert(n, entry);
        }
    } else {
        let mut ctx = Context::new();
        let s = st.coerce_to_string(v, pos, false, false, &mut ctx)?;
        attrs.insert(
            "url".into(),
            InputAttr::Str(fix_uri_for_git(&String::from_utf8_lossy(&s))),
        );
    }
    const ALLOWED: &[&str] = &[
        "type",
        "url",
        "ref",
        "rev",
        "shallow",
        "submodules",
        "lastModified",
        "revCount",
        "narHash",
        "allRefs",
        "name",
    ];
    if let Some(bad) = attrs.keys().find(|k| !ALLOWED.contains(&k.as_str())) {
        return Err(Error::eval(format!(
            "unsupported Git input attribute '{bad}'"
        )));
    }
    let get_str = |k: &str| -> Result<Option<String>> {
        match attrs.get(k) {
            None => Ok(None),
            Some(InputAttr::Str(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Error::eval(format!(
                "input attribute '{k}' is not a string {}",
                attrs_json(&attrs)
            ))),
        }
    };
    let get_bool = |k: &str| -> Result<bool> {
        match attrs.get(k) {
            None => Ok(false),
            Some(InputAttr::Bool(b)) => Ok(*b),
            Some(_) => Err(Error::eval(format!(
                "input attribute '{k}' is not a Boolean {}",
                attrs_json(&attrs)
            ))),
        }
    };
    let url = get_str("url")?.ok_or_else(|| Error::eval("input attribute 'url' is missing"))?;
    let mut input = GitInput::new(url);
    input.ref_ = get_str("ref")?;
    if let Some(r) = &input.ref_ {
        if fetch::git::is_bad_ref(r) {
            return Err(Error::eval(format!("invalid Git branch/tag name '{r}'")));
        }
    }
    input.rev = get_str("rev")?;
    if let Some(r) = &input.rev {
        fetch::git::check_rev(r).map_err(|e| Error::eval(e.to_string()))?;
    }
    if let Some(n) = get_str("name")? {
        input.name = n;
    }
    input.submodules = get_bool("submodules")?;
    input.all_refs = get_bool("allRefs")?;
    input.shallow = get_bool("shallow")?;
    let get_int = |k: &str| -> Result<Option<i64>> {
        match attrs.get(k) {
            None => Ok(None),
            Some(InputAttr::Int(i)) => Ok(Some(*i)),
            Some(_) => Err(Error::eval(format!(
                "input attribute '{k}' is not an integer"
            ))),
        }
    };
    let mut expected = Expected {
        last_modified: get_int("lastModified")?,
        rev_count: get_int("revCount")?,
        nar_hash: None,
    };
    if let Some(h) = get_str("narHash")? {
        expected.nar_hash = Some(parse_nar_hash(&h)?);
    }
    Ok((input, expected))
}

/// CppNix's `GitInputScheme::hasAllInfo` then the substitution in `Input::fetch`: with
/// `narHash` and `lastModified` (and `revCount` unless shallow or without `ref`), the path of
/// that NAR hash is the result, described by the given attributes alone, when it is valid or
/// [`EvalStore::ensure_path`] can substitute it (CppNix's `ensurePath`).
fn git_tree_from_attrs(
    store: &EvalFetchStore<'_>,
    input: &GitInput,
    expected: &Expected,
) -> Option<fetch::GitTree> {
    let nar_hash = expected.nar_hash?;
    let last_modified = expected.last_modified?;
    if !(input.shallow || input.ref_.is_none() || expected.rev_count.is_some()) {
        return None;
    }
    let p = fetch::fixed_output_path(
        store.store_dir(),
        &input.name,
        FileIngestionMethod::Recursive,
        &nar_hash,
    )
    .ok()?;
    // CppNix ignores a failed substitution here and fetches
    store.0.ensure_path(&p).ok()?;
    Some(fetch::GitTree {
        store_path: p,
        nar_hash,
        rev: input.rev.clone(),
        rev_count: expected.rev_count.map(|n| n as u64),
        last_modified: last_modified as u64,
        submodules: input.submodules,
        locked_ref: input.ref_.clone(),
    })
}

/// CppNix's checks of a fetched input against the given `narHash` (exit status 102),
/// `lastModified` and `revCount`; returns the `revCount` to show.
fn check_git_result(
    st: &EvalState,
    input: &GitInput,
    expected: &Expected,
    tree: &fetch::GitTree,
) -> Result<Option<u64>> {
    if let Some(want) = &expected.nar_hash {
        if *want != tree.nar_hash {
            let shown = match st.store.backend().real_store_dir() {
                Some(real) => real
                    .join(tree.store_path.to_base_name())
                    .to_string_lossy()
                    .into_owned(),
                None => st.store.backend().store_dir().display(&tree.store_path),
            };
            return Err(Error::new(
                ErrorKind::Io,
                format!(
                    "NAR hash mismatch in input '{}' ({shown}), expected '{}', got '{}'",
                    input.to_url_string(),
                    want.to_sri(),
                    tree.nar_hash.to_sri()
                ),
            )
            .with_exit_status(102));
        }
    }
    // the locked input: the ref when one was given or no revision was, and the revision
    let mut locked = input.clone();
    if input.ref_.is_none() && input.rev.is_none() {
        locked.ref_ = tree.locked_ref.clone();
    }
    locked.rev = tree.rev.clone();
    // a dirty or shallow fetch keeps the revCount it was given
    let rev_count = match tree.rev_count {
        Some(n) => Some(n),
        None if tree.rev.is_none() || input.shallow => expected.rev_count.map(|n| n as u64),
        None => None,
    };
    if let Some(want) = expected.last_modified {
        if tree.last_modified as i64 != want {
            return Err(Error::eval(format!(
                "'lastModified' attribute mismatch in input '{}', expected {want}",
                locked.to_url_string()
            )));
        }
    }
    if let Some(want) = expected.rev_count {
        if rev_count.map(|n| n as i64) != Some(want) {
            return Err(Error::eval(format!(
                "'revCount' attribute mismatch in input '{}', expected {want}",
                locked.to_url_string()
            )));
        }
    }
    Ok(rev_count)
}

/// `YYYYMMDDHHMMSS` in UTC, as CppNix's `lastModifiedDate`.
fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // civil date from days since 1970-01-01 (proleptic Gregorian)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

fn fetch_git(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let v = st.force(&args[0])?;
    let (input, expected) = git_input(st, &v, pos)?;
    if st.settings.pure && input.rev.is_none() {
        let at = match pos {
            Some(p) => st.describe_pos(p),
            None => "undefined position".into(),
        };
        return Err(Error::eval(format!(
            "in pure evaluation mode, 'fetchGit' requires a locked input, at {at}"
        )));
    }
    let backend = Rc::clone(&st.store);
    let store = EvalFetchStore(backend.backend());
    let cache = user_cache(st);
    let warn_fn = |m: &str| warn(st, m);
    let attempts = st.settings.download_attempts;
    let mut f = Fetcher::new(&store).on_warning(&warn_fn).attempts(attempts);
    if let Some(c) = &cache {
        f = f.cache(c);
    }
    let (tree, rev_count) = match git_tree_from_attrs(&store, &input, &expected) {
        Some(t) => {
            let n = t.rev_count;
            (t, n)
        }
        None => {
            let tree = f.fetch_git(&input).map_err(|e| {
                fetch_error(e).add_trace(
                    None,
                    format!("while fetching the input '{}'", input.to_url_string()),
                )
            })?;
            let n = check_git_result(st, &input, &expected, &tree)?;
            (tree, n)
        }
    };
    let (rev, short) = rev_and_short(tree.rev.as_deref(), 7);
    let mut b = TreeAttrs::new(
        st,
        8,
        store_path_value(store.0.store_dir(), &tree.store_path),
    );
    b.put(st, "narHash", Value::string(tree.nar_hash.to_sri()));
    b.put(st, "submodules", Value::Bool(tree.submodules));
    b.put(st, "rev", Value::string(rev));
    b.put(st, "shortRev", Value::string(short));
    b.put(
        st,
        "revCount",
        Value::Int(rev_count.map(|n| n as i64).unwrap_or(0)),
    );
    b.put(st, "lastModified", Value::Int(tree.last_modified as i64));
    b.put(
        st,
        "lastModifiedDate",
        Value::string(format_utc(tree.last_modified)),
    );
    Ok(b.finish())
}

fn fetch_tree(_st: &mut EvalState, _args: &[Value], _pos: Option<Pos>) -> Result<Value> {
    Err(Error::eval(
        "experimental Nix feature 'flakes' is disabled; use '--extra-experimental-features flakes' to override",
    ))
}

fn hg_installed(st: &EvalState) -> bool {
    let path = st.io.get_env("PATH").unwrap_or_default();
    path.split(':')
        .filter(|d| !d.is_empty())
        .any(|d| std::path::Path::new(d).join("hg").is_file())
}

fn fetch_mercurial(st: &mut EvalState, args: &[Value], pos: Option<Pos>) -> Result<Value> {
    let v = st.force(&args[0])?;
    let mut url = String::new();
    let mut rev = None;
    let mut ref_ = None;
    let mut name = "source".to_string();
    if let Value::Attrs(a) = &v {
        for attr in a.iter() {
            let n = st.symbols.resolve(attr.name).to_vec();
            match &n[..] {
                b"url" => {
                    let mut ctx = Context::new();
                    let s = st.coerce_to_string(&attr.value, attr.pos, false, false, &mut ctx)?;
                    url = String::from_utf8_lossy(&s).into_owned();
                }
                b"rev" => {
                    // a changeset id or a branch/tag name, as in CppNix
                    let s = string_no_ctx(st, &attr.value, attr.pos)?;
                    if fetch::hg::is_rev(&s) {
                        rev = Some(s.to_ascii_lowercase());
                    } else {
                        ref_ = Some(s);
                    }
                }
                b"name" => {
                    name = string_no_ctx(st, &attr.value, attr.pos)?;
                }
                _ => {
                    return Err(Error::eval(format!(
                        "unsupported argument '{}' to 'fetchMercurial'",
                        String::from_utf8_lossy(&n)
                    ))
                    .at_opt(attr.pos))
                }
            }
        }
        if url.is_empty() {
            return Err(Error::eval("'url' argument required").at_opt(pos));
        }
    } else {
        let mut ctx = Context::new();
        let s = st.coerce_to_string(&v, pos, false, false, &mut ctx)?;
        url = String::from_utf8_lossy(&s).into_owned();
    }
    if st.settings.pure && rev.is_none() {
        return Err(Error::eval(
            "in pure evaluation mode, 'fetchMercurial' requires a Mercurial revision",
        ));
    }
    let url = if url.contains("://") {
        url
    } else {
        format!("file://{url}")
    };
    if let Some(r) = &ref_ {
        if !fetch::hg::is_valid_ref(r) {
            return Err(fetch_error(fetch::HgError::BadRef(r.clone()).into()));
        }
    }
    let input = fetch::HgInput {
        url,
        ref_,
        rev,
        name,
    };
    let trace = format!("while fetching the input '{}'", input.to_url_string());
    if !hg_installed(st) {
        // what CppNix 2.8 shows when `hg` cannot be executed: the forked child's message,
        // then the failed exit status
        st.io.trace(
            "\u{1b}[31;1merror:\u{1b}[0m executing '\u{1b}[35;1mhg\u{1b}[0m': \u{1b}[35;1mNo such file or directory\u{1b}[0m",
        );
        return Err(Error::eval("hg failed with exit code 1").add_trace(None, trace));
    }
    let backend = Rc::clone(&st.store);
    let store = EvalFetchStore(backend.backend());
    let cache = user_cache(st);
    let warn_fn = |m: &str| warn(st, m);
    let mut f = Fetcher::new(&store).on_warning(&warn_fn);
    if let Some(c) = &cache {
        f = f.cache(c);
    }
    let tree = f
        .fetch_mercurial(&input)
        .map_err(|e| fetch_error(e).add_trace(None, trace))?;
    let (rev, short) = rev_and_short(tree.rev.as_deref(), 12);
    let mut b = TreeAttrs::new(
        st,
        5,
        store_path_value(store.0.store_dir(), &tree.store_path),
    );
    b.put(st, "branch", Value::string(tree.branch.clone()));
    b.put(st, "rev", Value::string(rev));
    b.put(st, "shortRev", Value::string(short));
    if let Some(n) = tree.rev_count {
        b.put(st, "revCount", Value::Int(n as i64));
    }
    Ok(b.finish())
}

pub(super) const PRIMOPS: &[PrimOp] = &[
    PrimOp {
        name: "fetchurl",
        arity: 1,
        func: fetchurl,
    },
    PrimOp {
        name: "fetchTarball",
        arity: 1,
        func: fetch_tarball,
    },
    PrimOp {
        name: "fetchGit",
        arity: 1,
        func: fetch_git,
    },
    PrimOp {
        name: "fetchTree",
        arity: 1,
        func: fetch_tree,
    },
    PrimOp {
        name: "fetchMercurial",
        arity: 1,
        func: fetch_mercurial,
    },
];

/// A fetched tree's `rev` (all zeros for an unclean working tree, as CppNix) and its first
/// `short` characters (`shortRev`: 7 for git, 12 for Mercurial).
fn rev_and_short(rev: Option<&str>, short: usize) -> (String, String) {
    let rev = rev.unwrap_or("0000000000000000000000000000000000000000");
    (rev.to_string(), rev.chars().take(short).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(format_utc(1_600_001_000), "20200913124320");
        assert_eq!(format_utc(1_600_000_000), "20200913122640");
        assert_eq!(format_utc(0), "19700101000000");
        assert_eq!(format_utc(951_782_400), "20000229000000");
    }

    #[test]
    fn git_uris() {
        assert_eq!(fix_uri_for_git("/tmp/r"), "file:///tmp/r");
        assert_eq!(fix_uri_for_git("https://x/y"), "https://x/y");
        assert_eq!(
            fix_uri_for_git("git@github.com:NixOS/nix"),
            "ssh://git@github.com/NixOS/nix"
        );
    }
}
