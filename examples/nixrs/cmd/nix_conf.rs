//! Settings from CppNix's configuration files and `NIX_CONFIG`, in CppNix 2.8's order (a later
//! source wins): `$NIX_CONF_DIR/nix.conf` (default `/etc/nix/nix.conf`), then the user files
//! (`$NIX_USER_CONF_FILES`, colon-separated, else `nix/nix.conf` under `$XDG_CONFIG_DIRS`
//! (default `/etc/xdg`) and then `$XDG_CONFIG_HOME` (default `~/.config`)), then the lines of
//! `NIX_CONFIG`. A missing file is skipped.
//!
//! Each line is cut at its first `#` and split into whitespace-separated tokens: `name = v1 v2`
//! sets `name` to the tokens after `=` joined by one space, `extra-name = …` appends to `name`
//! when it is a list setting, `include PATH` reads another file (PATH relative to the including file's directory; a
//! missing one is the error `file '…' included from '…' not found`) and `!include PATH` the
//! same, skipping a missing file. Any other line is CppNix's usage error `illegal
//! configuration line '…' in '…'`. The settings this tool reads that have a type are checked
//! as CppNix checks them (`setting 'tarball-ttl' has invalid value '…'`, `Boolean setting
//! 'pure-eval' has invalid value '…'`). Names CppNix 2.8 does not know ([`KNOWN`], aliases
//! included; `extra-` of a setting that is not a list) get its `warning: unknown setting '…'`,
//! sorted, once the arguments are parsed ([`NixConf::warn_unknown`]). As CppNix, everything is
//! read when the command starts, so a broken file fails every command that reads it.
//! `--option` on the command line wins over all of them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::util::CmdError;

/// The settings read from the configuration files and `NIX_CONFIG`.
#[derive(Debug, Default, Clone)]
pub(crate) struct NixConf {
    values: BTreeMap<String, String>,
    /// Names CppNix does not know, for its `unknown setting` warnings.
    unknown: BTreeSet<String>,
}

/// Every setting name CppNix 2.8 accepts on Linux, aliases included: the names `nix
/// show-config` lists, plus the aliases found in its libraries and checked one by one
/// against `nix-instantiate` (each is accepted without an `unknown setting` warning).
const KNOWN: &[&str] = &[
    "accept-flake-config",
    "access-tokens",
    "allow-dirty",
    "allow-import-from-derivation",
    "allow-new-privileges",
    "allow-symlinked-store",
    "allow-unsafe-native-code-during-evaluation",
    "allowed-impure-host-deps",
    "allowed-uris",
    "allowed-users",
    "auto-optimise-store",
    "bash-prompt",
    "bash-prompt-suffix",
    "binary-cache-public-keys",
    "binary-caches",
    "binary-caches-parallel-connections",
    "build-chroot-dirs",
    "build-compress-log",
    "build-cores",
    "build-fallback",
    "build-hook",
    "build-impersonate-linux-26",
    "build-keep-log",
    "build-max-jobs",
    "build-max-log-size",
    "build-max-silent-time",
    "build-poll-interval",
    "build-repeat",
    "build-sandbox-paths",
    "build-timeout",
    "build-use-chroot",
    "build-use-sandbox",
    "build-use-substitutes",
    "build-users-group",
    "builders",
    "builders-use-substitutes",
    "commit-lockfile-summary",
    "compress-build-log",
    "connect-timeout",
    "cores",
    "diff-hook",
    "download-attempts",
    "enforce-determinism",
    "env-keep-derivations",
    "eval-cache",
    "experimental-features",
    "extra-platforms",
    "extra-sandbox-paths",
    "fallback",
    "filter-syscalls",
    "flake-registry",
    "fsync-metadata",
    "gc-keep-derivations",
    "gc-keep-outputs",
    "gc-reserved-space",
    "hashed-mirrors",
    "http-connections",
    "http2",
    "ignored-acls",
    "impersonate-linux-26",
    "keep-build-log",
    "keep-derivations",
    "keep-env-derivations",
    "keep-failed",
    "keep-going",
    "keep-outputs",
    "log-lines",
    "max-build-log-size",
    "max-free",
    "max-jobs",
    "max-silent-time",
    "min-free",
    "min-free-check-interval",
    "nar-buffer-size",
    "narinfo-cache-negative-ttl",
    "narinfo-cache-positive-ttl",
    "netrc-file",
    "nix-path",
    "plugin-files",
    "post-build-hook",
    "pre-build-hook",
    "preallocate-contents",
    "print-missing",
    "pure-eval",
    "repeat",
    "require-sigs",
    "restrict-eval",
    "run-diff-hook",
    "sandbox",
    "sandbox-build-dir",
    "sandbox-dev-shm-size",
    "sandbox-fallback",
    "sandbox-paths",
    "secret-key-files",
    "show-trace",
    "stalled-download-timeout",
    "store",
    "substitute",
    "substituters",
    "sync-before-registering",
    "system",
    "system-features",
    "tarball-ttl",
    "timeout",
    "trace-function-calls",
    "trusted-binary-caches",
    "trusted-public-keys",
    "trusted-substituters",
    "trusted-users",
    "use-case-hack",
    "use-registries",
    "use-sqlite-wal",
    "user-agent-suffix",
    "warn-dirty",
];

/// The settings whose `extra-NAME` form appends (lists and sets; checked against
/// `nix-instantiate`: the `extra-` form of any other setting is an unknown setting).
const APPENDABLE: &[&str] = &[
    "access-tokens",
    "allowed-impure-host-deps",
    "allowed-uris",
    "allowed-users",
    "binary-cache-public-keys",
    "binary-caches",
    "build-chroot-dirs",
    "build-sandbox-paths",
    "experimental-features",
    "hashed-mirrors",
    "ignored-acls",
    "nix-path",
    "plugin-files",
    "sandbox-paths",
    "secret-key-files",
    "substituters",
    "system-features",
    "trusted-binary-caches",
    "trusted-public-keys",
    "trusted-substituters",
    "trusted-users",
];

/// Aliases of the settings this tool reads, and their names.
const ALIASES: &[(&str, &str)] = &[
    ("binary-caches", "substituters"),
    ("binary-cache-public-keys", "trusted-public-keys"),
];

/// The name a setting is stored under (an alias's setting).
fn canonical(name: &str) -> &str {
    ALIASES
        .iter()
        .find(|(a, _)| *a == name)
        .map_or(name, |(_, n)| n)
}

/// Whether CppNix 2.8 knows the setting `name` (`extra-NAME` of a list setting included).
pub(crate) fn is_known(name: &str) -> bool {
    KNOWN.contains(&name)
        || name
            .strip_prefix("extra-")
            .is_some_and(|b| APPENDABLE.contains(&b))
}

/// The configuration files, lowest priority first.
fn files() -> Vec<PathBuf> {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    let mut out = vec![
        PathBuf::from(var("NIX_CONF_DIR").unwrap_or_else(|| "/etc/nix".into())).join("nix.conf"),
    ];
    if let Some(list) = var("NIX_USER_CONF_FILES") {
        // CppNix applies them last to first: the first one wins
        out.extend(list.split(':').rev().map(PathBuf::from));
        return out;
    }
    let dirs = var("XDG_CONFIG_DIRS").unwrap_or_else(|| "/etc/xdg".into());
    out.extend(
        dirs.split(':')
            .rev()
            .map(|d| PathBuf::from(d).join("nix/nix.conf")),
    );
    let home_conf = var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".config")));
    if let Some(h) = home_conf {
        out.push(h.join("nix/nix.conf"));
    }
    out
}

/// CppNix's `absPath(path, dir)`: `path` made absolute against `dir`, then `canonPath`
/// (`.`, `..` and empty parts dropped lexically, symlinks not resolved). A result that is
/// still relative (an include from `NIX_CONFIG`, whose "directory" is `.`) is CppNix's
/// `not an absolute path` error.
fn abs_path(path: &str, dir: &str) -> Result<String, CmdError> {
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{dir}/{path}")
    };
    if !joined.starts_with('/') {
        return Err(CmdError::msg(format!("not an absolute path: '{joined}'")));
    }
    let mut parts: Vec<&str> = Vec::new();
    for c in joined.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

/// CppNix's `dirOf`: everything before the last `/` (`/` for a top-level file, `.` without
/// any slash).
fn dir_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => ".",
    }
}

/// How deep includes may nest before we call it a loop (CppNix recurses until the stack
/// runs out).
const MAX_INCLUDE_DEPTH: usize = 64;

/// Checks the value of a setting whose type we know (the ones this tool reads that are not
/// lists), with CppNix's usage errors; other settings are not checked. An empty `value` of a
/// typed setting is an error too.
pub(crate) fn check_typed(name: &str, value: &str) -> Result<(), CmdError> {
    let ok = match name {
        "tarball-ttl" => value.parse::<u32>().is_ok(),
        "download-attempts" => value.parse::<u64>().is_ok(),
        "pure-eval" => {
            return match parse_bool(value) {
                Some(_) => Ok(()),
                None => Err(CmdError::usage(format!(
                    "Boolean setting '{name}' has invalid value '{value}'"
                ))),
            }
        }
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(CmdError::usage(format!(
            "setting '{name}' has invalid value '{value}'"
        )))
    }
}

/// A Boolean setting's value, as CppNix reads it (`true`/`yes`/`1`, `false`/`no`/`0`).
pub(crate) fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

impl NixConf {
    /// Reads every configuration file and `NIX_CONFIG`, as CppNix's `loadConfFile`.
    ///
    /// # Errors
    /// An illegal line or a missing `include`d file, with CppNix's message.
    pub(crate) fn load() -> Result<NixConf, CmdError> {
        let mut conf = NixConf::default();
        for f in files() {
            conf.apply_file(&f.to_string_lossy(), 0)?;
        }
        if let Ok(text) = std::env::var("NIX_CONFIG") {
            conf.apply(&text, "NIX_CONFIG", 0)?;
        }
        Ok(conf)
    }

    /// CppNix's `Config::set`: `name` (an alias is stored under its setting's name), or
    /// `extra-NAME` appending to a list setting; unknown names are remembered for
    /// [`NixConf::warn_unknown`].
    ///
    /// # Errors
    /// An invalid value of a setting whose type we check ([`check_typed`]).
    pub(crate) fn set(&mut self, name: &str, value: String) -> Result<(), CmdError> {
        if !is_known(name) {
            self.unknown.insert(name.to_string());
            return Ok(());
        }
        match name.strip_prefix("extra-") {
            Some(base) if APPENDABLE.contains(&base) => {
                let slot = self.values.entry(canonical(base).to_string()).or_default();
                if !slot.is_empty() && !value.is_empty() {
                    slot.push(' ');
                }
                slot.push_str(&value);
            }
            _ => {
                check_typed(name, &value)?;
                self.values.insert(canonical(name).to_string(), value);
            }
        }
        Ok(())
    }

    /// Remembers a name given to `--option` that CppNix does not know.
    pub(crate) fn note_option(&mut self, name: &str) {
        if !is_known(name) {
            self.unknown.insert(name.to_string());
        }
    }

    /// CppNix's `warning: unknown setting '…'` for each unknown name from the files,
    /// `NIX_CONFIG` and `--option`, sorted, once each (printed once the arguments are parsed,
    /// before evaluating).
    pub(crate) fn warn_unknown(&self) {
        for n in &self.unknown {
            eprintln!("warning: unknown setting '{n}'");
        }
    }

    /// The value of setting `name`, if any source sets it.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Applies the file at `path`; a file that cannot be read is skipped (CppNix ignores
    /// its `SysError`).
    fn apply_file(&mut self, path: &str, depth: usize) -> Result<(), CmdError> {
        match std::fs::read(path) {
            Ok(bytes) => self.apply(&String::from_utf8_lossy(&bytes), path, depth),
            Err(_) => Ok(()),
        }
    }

    /// CppNix's `applyConfig(contents, path)`.
    fn apply(&mut self, text: &str, path: &str, depth: usize) -> Result<(), CmdError> {
        for raw in text.split('\n') {
            let line = raw.split('#').next().unwrap_or("");
            let tokens: Vec<&str> = line
                .split([' ', '\t', '\n', '\r'])
                .filter(|t| !t.is_empty())
                .collect();
            if tokens.is_empty() {
                continue;
            }
            let illegal =
                || CmdError::usage(format!("illegal configuration line '{line}' in '{path}'"));
            if tokens.len() < 2 {
                return Err(illegal());
            }
            let ignore_missing = match tokens[0] {
                "include" => Some(false),
                "!include" => Some(true),
                _ => None,
            };
            if let Some(ignore_missing) = ignore_missing {
                if tokens.len() != 2 {
                    return Err(illegal());
                }
                let p = abs_path(tokens[1], dir_of(path))?;
                if Path::new(&p).exists() {
                    if depth >= MAX_INCLUDE_DEPTH {
                        return Err(CmdError::msg(format!(
                            "too many nested includes at '{p}' included from '{path}'"
                        )));
                    }
                    self.apply_file(&p, depth + 1)?;
                } else if !ignore_missing {
                    return Err(CmdError::msg(format!(
                        "file '{p}' included from '{path}' not found"
                    )));
                }
                continue;
            }
            if tokens[1] != "=" {
                return Err(illegal());
            }
            let value = tokens[2..].join(" ");
            self.set(tokens[0], value)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_are_relative_to_the_including_file() -> Result<(), Box<dyn std::error::Error>> {
        let dir = testkit::tempdir();
        std::fs::create_dir(dir.path().join("sub"))?;
        std::fs::write(
            dir.path().join("sub/a.conf"),
            "max-jobs = 1\nx = 1\n!include b.conf\n",
        )?;
        std::fs::write(dir.path().join("sub/b.conf"), "substituters =  2   3 # c\n")?;
        let main = dir.path().join("nix.conf");
        std::fs::write(
            &main,
            "include sub/a.conf\n!include nope.conf\nextra-binary-caches = 4\n",
        )?;
        let mut c = NixConf::default();
        c.apply_file(&main.to_string_lossy(), 0)
            .map_err(|e| e.message)?;
        assert_eq!(c.get("max-jobs"), Some("1"));
        assert_eq!(c.get("substituters"), Some("2 3 4"));
        assert_eq!(c.unknown, BTreeSet::from(["x".to_string()]));
        std::fs::write(&main, "include nope.conf\n")?;
        let err = c
            .apply_file(&main.to_string_lossy(), 0)
            .err()
            .map(|e| e.message);
        let d = dir.path().display();
        assert_eq!(
            err.as_deref(),
            Some(&*format!(
                "file '{d}/nope.conf' included from '{d}/nix.conf' not found"
            ))
        );
        Ok(())
    }

    #[test]
    fn illegal_lines_and_relative_includes_from_the_environment() {
        let mut c = NixConf::default();
        let msg = |r: Result<(), CmdError>| r.err().map(|e| e.message);
        assert_eq!(
            msg(c.apply("foo bar", "NIX_CONFIG", 0)).as_deref(),
            Some("illegal configuration line 'foo bar' in 'NIX_CONFIG'")
        );
        assert_eq!(
            msg(c.apply("include a b", "/c", 0)).as_deref(),
            Some("illegal configuration line 'include a b' in '/c'")
        );
        assert_eq!(
            msg(c.apply("include x.conf", "NIX_CONFIG", 0)).as_deref(),
            Some("not an absolute path: './x.conf'")
        );
        assert_eq!(msg(c.apply("cores =\n\n  # only\n", "/c", 0)), None);
        assert_eq!(c.get("cores"), Some(""));
        assert_eq!(
            msg(c.apply("tarball-ttl = 5 6", "/c", 0)).as_deref(),
            Some("setting 'tarball-ttl' has invalid value '5 6'")
        );
        assert_eq!(
            msg(c.apply("pure-eval = maybe", "/c", 0)).as_deref(),
            Some("Boolean setting 'pure-eval' has invalid value 'maybe'")
        );
        assert_eq!(msg(c.apply("extra-tarball-ttl = 5", "/c", 0)), None);
        assert_eq!(c.get("tarball-ttl"), None);
        assert!(c.unknown.contains("extra-tarball-ttl"));
        assert!(is_known("extra-trusted-public-keys") && !is_known("extra-pure-eval"));
    }
}
