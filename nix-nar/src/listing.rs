//! Listing the contents of a NAR (as `nix nar ls`) and extracting one file (as `nix nar cat`).
//!
//! [`list`] reads a NAR as a stream (skipping file contents) and returns its [`Listing`]: the
//! tree of nodes with sizes, executable flags, symlink targets and the offset of each file's
//! contents in the NAR (`narOffset`). [`Listing::to_json`] prints the same JSON as CppNix 2.8's
//! `nix nar ls --json [-R]`, and [`Listing::ls`] the same lines as `nix nar ls [-l] [-R] [-d]`.
//! [`cat`] streams one regular file out of a NAR without buffering the NAR.
//!
//! Paths inside a NAR follow CppNix 2.8: `""` and `"/"` name the root (for [`cat`] only `""`),
//! other paths must start with `/`, and components are separated by single slashes (a trailing
//! or doubled slash names nothing).
//!
//! # Example
//! ```
//! use nix_nar::dump::Tree;
//! use nix_nar::listing;
//!
//! let nar = Tree::Directory([(b"a".to_vec(), Tree::File {
//!     executable: true,
//!     contents: b"hi\n".to_vec(),
//! })].into()).to_nar()?;
//! let l = listing::list(&nar[..])?;
//! assert_eq!(
//!     l.to_json(true),
//!     r#"{"type":"directory","entries":{"a":{"type":"regular","size":3,"executable":true,"narOffset":264}}}"#
//! );
//! let mut out = Vec::new();
//! listing::cat(&nar[..], b"/a", &mut out)?;
//! assert_eq!(out, b"hi\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};

/// Directories being built: name and entries so far.
type OpenDirs = Vec<(Vec<u8>, BTreeMap<Vec<u8>, Listing>)>;

use crate::reader::{self, Event, Reader};

/// Errors of listing and extracting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The NAR is invalid.
    #[error(transparent)]
    Read(#[from] reader::Error),
    /// The path is neither empty nor absolute.
    #[error("not an absolute path: '{path}'")]
    NotAbsolute {
        /// The path (lossily decoded).
        path: String,
    },
    /// Nothing in the NAR has this path.
    #[error("path '{path}' does not exist")]
    NotFound {
        /// The path (lossily decoded).
        path: String,
    },
    /// The path names a directory or symlink, not a regular file.
    #[error("path '{path}' is not a regular file")]
    NotRegular {
        /// The path (lossily decoded).
        path: String,
    },
    /// Writing the output failed.
    #[error("cannot write output")]
    Write(#[source] io::Error),
}

/// The listing of a NAR node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    /// A regular file.
    Regular {
        /// Size of the contents.
        size: u64,
        /// Whether the executable marker is set.
        executable: bool,
        /// Offset of the first content byte in the NAR.
        nar_offset: u64,
    },
    /// A symbolic link.
    Symlink {
        /// The target, verbatim.
        target: Vec<u8>,
    },
    /// A directory.
    Directory(BTreeMap<Vec<u8>, Listing>),
}

/// Reads the NAR from `input` and returns its listing (file contents are skipped).
///
/// # Errors
/// [`Error::Read`] if the NAR is invalid.
pub fn list<R: BufRead>(input: R) -> Result<Listing, Error> {
    let mut r = Reader::new(input);
    let mut stack: OpenDirs = Vec::new();
    while let Some(ev) = r.next()? {
        let (name, node) = match ev {
            Event::Directory { name } => {
                stack.push((name, BTreeMap::new()));
                continue;
            }
            Event::EndDirectory => {
                let (name, entries) = stack.pop().ok_or(reader::Error::Poisoned)?;
                (name, Listing::Directory(entries))
            }
            Event::File {
                name,
                executable,
                size,
                offset,
                ..
            } => (
                name,
                Listing::Regular {
                    size,
                    executable,
                    nar_offset: offset,
                },
            ),
            Event::Symlink { name, target } => (name, Listing::Symlink { target }),
        };
        match stack.last_mut() {
            Some((_, entries)) => {
                entries.insert(name, node);
            }
            None => {
                r.finish()?;
                return Ok(node);
            }
        }
    }
    Err(reader::Error::Poisoned.into())
}

/// Splits a NAR path into components; `None` if it names nothing.
fn components(path: &[u8], root_slash: bool) -> Result<Option<Vec<&[u8]>>, Error> {
    if path.is_empty() {
        return Ok(Some(Vec::new()));
    }
    if path[0] != b'/' {
        return Err(Error::NotAbsolute {
            path: String::from_utf8_lossy(path).into_owned(),
        });
    }
    if path == b"/" {
        return Ok(root_slash.then(Vec::new));
    }
    let comps: Vec<&[u8]> = path[1..].split(|&b| b == b'/').collect();
    if comps.iter().any(|c| c.is_empty()) {
        return Ok(None);
    }
    Ok(Some(comps))
}

fn not_found(path: &[u8]) -> Error {
    Error::NotFound {
        path: String::from_utf8_lossy(path).into_owned(),
    }
}

impl Listing {
    /// The node at `path` (see the [module docs](self) for the path rules).
    ///
    /// # Errors
    /// [`Error::NotAbsolute`] or [`Error::NotFound`].
    pub fn find(&self, path: &[u8]) -> Result<&Listing, Error> {
        let comps = components(path, true)?.ok_or_else(|| not_found(path))?;
        let mut cur = self;
        for c in comps {
            match cur {
                Listing::Directory(entries) => {
                    cur = entries.get(c).ok_or_else(|| not_found(path))?;
                }
                _ => return Err(not_found(path)),
            }
        }
        Ok(cur)
    }

    /// The JSON of `nix nar ls --json` (with `-R` when `recursive`), compact, keys in CppNix's
    /// order.
    pub fn to_json(&self, recursive: bool) -> String {
        let mut out = String::new();
        self.json(&mut out, recursive);
        out
    }

    fn json(&self, out: &mut String, recursive: bool) {
        match self {
            Listing::Regular {
                size,
                executable,
                nar_offset,
            } => {
                out.push_str(&format!("{{\"type\":\"regular\",\"size\":{size}"));
                if *executable {
                    out.push_str(",\"executable\":true");
                }
                out.push_str(&format!(",\"narOffset\":{nar_offset}}}"));
            }
            Listing::Symlink { target } => {
                out.push_str("{\"type\":\"symlink\",\"target\":");
                json_str(out, target);
                out.push('}');
            }
            Listing::Directory(entries) => {
                out.push_str("{\"type\":\"directory\",\"entries\":{");
                for (i, (name, child)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json_str(out, name);
                    out.push(':');
                    if recursive {
                        child.json(out, true);
                    } else {
                        out.push_str("{}");
                    }
                }
                out.push_str("}}");
            }
        }
    }

    /// The lines of `nix nar ls [-l] [-R] [-d] NAR PATH` for the node at `path`, each without
    /// its newline. `long` is `-l`, `recursive` is `-R`, `show_directory` is `-d`.
    ///
    /// # Errors
    /// [`Error::NotAbsolute`] or [`Error::NotFound`].
    pub fn ls(
        &self,
        path: &[u8],
        long: bool,
        recursive: bool,
        show_directory: bool,
    ) -> Result<Vec<Vec<u8>>, Error> {
        let node = self.find(path)?;
        let rel: Vec<u8> = match node {
            Listing::Directory(_) => b".".to_vec(),
            _ => base_name(path).to_vec(),
        };
        let mut lines = Vec::new();
        node.ls_path(&rel, long, recursive, show_directory, &mut lines);
        Ok(lines)
    }

    fn ls_path(
        &self,
        rel: &[u8],
        long: bool,
        recursive: bool,
        show_directory: bool,
        lines: &mut Vec<Vec<u8>>,
    ) {
        match self {
            Listing::Directory(entries) if !show_directory => {
                for (name, child) in entries {
                    let mut r = rel.to_vec();
                    r.push(b'/');
                    r.extend_from_slice(name);
                    child.ls_file(&r, long, recursive, lines);
                }
            }
            _ => self.ls_file(rel, long, recursive, lines),
        }
    }

    fn ls_file(&self, rel: &[u8], long: bool, recursive: bool, lines: &mut Vec<Vec<u8>>) {
        if long {
            let (tp, size) = match self {
                Listing::Regular {
                    executable: true,
                    size,
                    ..
                } => ("-r-xr-xr-x", *size),
                Listing::Regular { size, .. } => ("-r--r--r--", *size),
                Listing::Symlink { .. } => ("lrwxrwxrwx", 0),
                Listing::Directory(_) => ("dr-xr-xr-x", 0),
            };
            let mut line = format!("{tp} {size:20} ").into_bytes();
            line.extend_from_slice(rel);
            if let Listing::Symlink { target } = self {
                line.extend_from_slice(b" -> ");
                line.extend_from_slice(target);
            }
            lines.push(line);
        } else {
            lines.push(rel.to_vec());
        }
        if recursive {
            if let Listing::Directory(_) = self {
                self.ls_path(rel, long, recursive, false, lines);
            }
        }
    }
}

fn base_name(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&b| b == b'/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// Appends `s` (lossily decoded) as a JSON string, escaped as CppNix's JSON printer does.
fn json_str(out: &mut String, s: &[u8]) {
    out.push('"');
    for c in String::from_utf8_lossy(s).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Streams the regular file at `path` in the NAR read from `input` into `out`, and returns its
/// size. Reading stops once the file has been copied.
///
/// # Errors
/// [`Error::NotFound`], [`Error::NotRegular`], [`Error::NotAbsolute`], [`Error::Read`] for an
/// invalid NAR, [`Error::Write`] if writing fails.
pub fn cat<R: BufRead, W: Write>(input: R, path: &[u8], mut out: W) -> Result<u64, Error> {
    let want = components(path, false)?.ok_or_else(|| not_found(path))?;
    let mut r = Reader::new(input);
    let mut cur: Vec<Vec<u8>> = Vec::new();
    let mut depth = 0usize;
    while let Some(ev) = r.next()? {
        let name = match &ev {
            Event::EndDirectory => {
                depth -= 1;
                if depth > 0 {
                    cur.pop();
                }
                continue;
            }
            Event::Directory { name } | Event::File { name, .. } | Event::Symlink { name, .. } => {
                name.clone()
            }
        };
        let is_dir = matches!(ev, Event::Directory { .. });
        if depth > 0 {
            cur.push(name);
        }
        let here = cur.len() == want.len() && cur.iter().zip(&want).all(|(a, b)| a == b);
        if here {
            return match ev {
                Event::File {
                    mut contents,
                    offset,
                    ..
                } => {
                    let mut buf = vec![0u8; 256 * 1024];
                    let mut total = 0u64;
                    loop {
                        let n = match io::Read::read(&mut contents, &mut buf) {
                            Ok(0) => return Ok(total),
                            Ok(n) => n,
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                            Err(e) => return Err(reader::Error::from_contents_io(e, offset).into()),
                        };
                        out.write_all(&buf[..n]).map_err(Error::Write)?;
                        total += n as u64;
                    }
                }
                _ => Err(Error::NotRegular {
                    path: String::from_utf8_lossy(path).into_owned(),
                }),
            };
        }
        if is_dir {
            depth += 1;
        } else if depth > 0 {
            cur.pop();
        }
    }
    Err(not_found(path))
}
