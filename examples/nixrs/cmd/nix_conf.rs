//! Settings from CppNix's configuration files and `NIX_CONFIG`, in CppNix 2.8's order (a later
//! source wins): `$NIX_CONF_DIR/nix.conf` (default `/etc/nix/nix.conf`), then the user files
//! (`$NIX_USER_CONF_FILES`, colon-separated, else `nix/nix.conf` under `$XDG_CONFIG_DIRS`
//! (default `/etc/xdg`) and then `$XDG_CONFIG_HOME` (default `~/.config`)), then the lines of
//! `NIX_CONFIG`. A missing file is skipped.
//!
//! Each line is cut at its first `#` and split into whitespace-separated tokens: `name = v1 v2`
//! sets `name` to the tokens after `=` joined by one space, `extra-name = …` appends to `name`,
//! `include PATH` reads another file (PATH relative to the including file's directory; a
//! missing one is the error `file '…' included from '…' not found`) and `!include PATH` the
//! same, skipping a missing file. Any other line is CppNix's usage error `illegal
//! configuration line '…' in '…'`. The settings this tool reads that have a type are checked
//! as CppNix checks them (`setting 'tarball-ttl' has invalid value '…'`, `Boolean setting
//! 'pure-eval' has invalid value '…'`; their `extra-` forms are ignored); CppNix's `unknown
//! setting` warnings are not printed (we do not know all of its settings). As CppNix,
//! everything is read when the command starts, so a broken file fails every command that reads
//! it. `--option` on the command line wins over all of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::util::CmdError;

/// The settings read from the configuration files and `NIX_CONFIG`.
#[derive(Debug, Default, Clone)]
pub(crate) struct NixConf {
    values: BTreeMap<String, String>,
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
/// typed setting is an error too, which [`NixConf::apply`] uses to know it is not a list.
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
            match tokens[0].strip_prefix("extra-") {
                // CppNix has no `extra-` form of a setting that is not a list
                Some(base) if check_typed(base, "").is_err() => {}
                Some(base) => {
                    let slot = self.values.entry(base.to_string()).or_default();
                    if !slot.is_empty() && !value.is_empty() {
                        slot.push(' ');
                    }
                    slot.push_str(&value);
                }
                None => {
                    check_typed(tokens[0], &value)?;
                    self.values.insert(tokens[0].to_string(), value);
                }
            }
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
        std::fs::write(dir.path().join("sub/a.conf"), "x = 1\n!include b.conf\n")?;
        std::fs::write(dir.path().join("sub/b.conf"), "y =  2   3 # c\n")?;
        let main = dir.path().join("nix.conf");
        std::fs::write(
            &main,
            "include sub/a.conf\n!include nope.conf\nextra-y = 4\n",
        )?;
        let mut c = NixConf::default();
        c.apply_file(&main.to_string_lossy(), 0)
            .map_err(|e| e.message)?;
        assert_eq!(c.get("x"), Some("1"));
        assert_eq!(c.get("y"), Some("2 3 4"));
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
        assert_eq!(msg(c.apply("a =\n\n  # only\n", "/c", 0)), None);
        assert_eq!(c.get("a"), Some(""));
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
    }
}
