//! Runtime roots: store paths that running processes use, found through `/proc` (CppNix
//! 2.8's `findRuntimeRoots` on Linux).
//!
//! For every process (`/proc/<digits>`), these count as uses of a path:
//!
//! * the targets of the `exe` and `cwd` links and of every link in `fd/` (absolute targets
//!   only; link name `/proc/<pid>/exe`, `/proc/<pid>/cwd`, `/proc/<pid>/fd/<n>`);
//! * the file names of `maps` lines with exactly six fields whose last one is absolute
//!   (so `… (deleted)` mappings are skipped; link name `/proc/<pid>/maps`);
//! * every `<store dir>/<hash-ish>[<name characters>]` string in `environ` (link name
//!   `/proc/<pid>/environ`);
//!
//! and, once per scan, the contents of `/proc/sys/kernel/{modprobe,fbsplash,poweroff_cmd}`
//! (link name: the file). Processes that vanish or cannot be read are skipped.
//!
//! A target counts if it is inside one of the given store directory prefixes: the logical
//! store directory (`/nix/store`, what CppNix matches) and, for a store rooted elsewhere
//! (`R/nix/store`), also the real directory, which CppNix 2.8 does not look for (so with
//! `--store R` it misses processes that use `R/nix/store/…` files; we keep them alive).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Targets (paths as found) and the `/proc` entries that mention them.
pub(crate) type Unchecked = BTreeMap<String, BTreeSet<String>>;

/// Scans `proc` (normally `/proc`) for uses of paths below any of `prefixes` (store
/// directories without a trailing slash).
pub(crate) fn scan(proc: &Path, prefixes: &[String]) -> Unchecked {
    let mut out = Unchecked::new();
    let Ok(entries) = std::fs::read_dir(proc) else {
        return out;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str() else { continue };
        if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let dir = proc.join(pid);
        let shown = format!("/proc/{pid}");
        read_link_root(&dir.join("exe"), &format!("{shown}/exe"), &mut out);
        read_link_root(&dir.join("cwd"), &format!("{shown}/cwd"), &mut out);
        if let Ok(fds) = std::fs::read_dir(dir.join("fd")) {
            for fd in fds.flatten() {
                let n = fd.file_name();
                let n = n.to_string_lossy();
                if n.starts_with('.') {
                    continue;
                }
                read_link_root(&fd.path(), &format!("{shown}/fd/{n}"), &mut out);
            }
        }
        if let Ok(maps) = std::fs::read(dir.join("maps")) {
            for file in map_files(&maps) {
                out.entry(file).or_default().insert(format!("{shown}/maps"));
            }
        }
        if let Ok(env) = std::fs::read(dir.join("environ")) {
            for p in prefixes {
                for found in store_paths_in(&env, p) {
                    out.entry(found)
                        .or_default()
                        .insert(format!("{shown}/environ"));
                }
            }
        }
    }
    for f in ["modprobe", "fbsplash", "poweroff_cmd"] {
        let file = proc.join("sys/kernel").join(f);
        if let Ok(text) = std::fs::read(&file) {
            out.entry(String::from_utf8_lossy(&text).into_owned())
                .or_default()
                .insert(format!("/proc/sys/kernel/{f}"));
        }
    }
    out.retain(|target, _| {
        prefixes.iter().any(|p| {
            target
                .strip_prefix(p.as_str())
                .is_some_and(|r| r.starts_with('/'))
        })
    });
    out
}

fn read_link_root(link: &Path, shown: &str, out: &mut Unchecked) {
    if let Ok(t) = std::fs::read_link(link) {
        let t = t.to_string_lossy();
        if t.starts_with('/') {
            out.entry(t.into_owned())
                .or_default()
                .insert(shown.to_string());
        }
    }
}

/// The file names of `/proc/<pid>/maps` lines: six whitespace-separated fields, the last one
/// an absolute path.
pub(crate) fn map_files(maps: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(maps);
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_ascii_whitespace().collect();
            match fields.as_slice() {
                [_, _, _, _, _, file] if file.starts_with('/') => Some(file.to_string()),
                _ => None,
            }
        })
        .collect()
}

/// Every `<prefix>/` followed by a character of `[0-9a-z]` and then as many of
/// `[0-9a-zA-Z+-._?=]` as follow (CppNix's regex over `environ`), leftmost first, without
/// overlaps.
pub(crate) fn store_paths_in(data: &[u8], prefix: &str) -> Vec<String> {
    let mut pat = prefix.as_bytes().to_vec();
    pat.push(b'/');
    let first = |b: u8| b.is_ascii_digit() || b.is_ascii_lowercase();
    let rest = |b: u8| b.is_ascii_alphanumeric() || b"+-._?=".contains(&b);
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(at) = find(&data[i..], &pat).map(|k| i + k) {
        let start = at + pat.len();
        if data.get(start).copied().is_some_and(first) {
            let mut end = start + 1;
            while data.get(end).copied().is_some_and(rest) {
                end += 1;
            }
            out.push(String::from_utf8_lossy(&data[at..end]).into_owned());
            i = end;
        } else {
            i = at + 1;
        }
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_lines_with_six_fields_and_an_absolute_file() {
        let maps =
            b"55d0c8a00000-55d0c8a02000 r--p 00000000 08:01 123 /nix/store/abc-x/bin/sleep\n\
7f00-7f01 rw-p 00000000 00:00 0 \n\
7f01-7f02 r--p 00000000 08:01 9 /tmp/gone (deleted)\n\
7f02-7f03 r--p 00000000 00:00 0 [vdso]\n";
        assert_eq!(map_files(maps), vec!["/nix/store/abc-x/bin/sleep"]);
    }

    #[test]
    fn environ_store_paths_like_cppnix_regex() {
        let env = b"PATH=/nix/store/abc-foo/bin:/nix/store/xyz-bar.1+2?=_/lib\0X=/nix/store/Abc\0Y=/nix/store/\0Z=/nix/storeq/a1";
        assert_eq!(
            store_paths_in(env, "/nix/store"),
            vec!["/nix/store/abc-foo", "/nix/store/xyz-bar.1+2?=_"]
        );
    }

    #[test]
    fn finds_our_own_open_file() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let store = dir.path().join("store");
        std::fs::create_dir(&store)?;
        let file = store.join("aaaa-x");
        std::fs::write(&file, b"x")?;
        let _open = std::fs::File::open(&file)?;
        let prefix = store.to_string_lossy().into_owned();
        let found = scan(Path::new("/proc"), &[prefix]);
        let links = found
            .get(file.to_string_lossy().as_ref())
            .cloned()
            .unwrap_or_default();
        let me = format!("/proc/{}/fd/", std::process::id());
        assert!(links.iter().any(|l| l.starts_with(&me)), "{found:?}");
        Ok(())
    }
}
