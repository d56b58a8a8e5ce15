//! Settings from CppNix's configuration files and `NIX_CONFIG`, in CppNix 2.8's order (a later
//! source wins): `$NIX_CONF_DIR/nix.conf` (default `/etc/nix/nix.conf`), then the user files
//! (`$NIX_USER_CONF_FILES`, colon-separated, else `nix/nix.conf` under `$XDG_CONFIG_DIRS`
//! (default `/etc/xdg`) and then `$XDG_CONFIG_HOME` (default `~/.config`)), then the lines of
//! `NIX_CONFIG`. Lines are `name = value`; `#` starts a comment; `include` directives are not
//! followed. Only the settings a command asks for are read; `--option` on the command line
//! wins over all of them.

use std::path::PathBuf;

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

/// The last `name = value` for `name` in `text`.
fn find_in(text: &str, name: &str) -> Option<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim().to_string())
        .next_back()
}

/// The value of setting `name` from the configuration files and `NIX_CONFIG`, if any sets it.
pub(crate) fn setting(name: &str) -> Option<String> {
    let mut found = None;
    for f in files() {
        if let Ok(text) = std::fs::read_to_string(&f) {
            if let Some(v) = find_in(&text, name) {
                found = Some(v);
            }
        }
    }
    if let Ok(text) = std::env::var("NIX_CONFIG") {
        if let Some(v) = find_in(&text, name) {
            found = Some(v);
        }
    }
    found
}
