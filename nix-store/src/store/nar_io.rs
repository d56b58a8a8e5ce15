//! A small NAR reader used by the stores to import NARs: it reads exactly one NAR from a
//! stream (so a NAR embedded in an export stream can be delimited), keeps its bytes, and
//! restores it to disk. Grammar and limits as in facts §2; names must be strictly sorted.

use std::io::Read;
use std::ops::Range;
use std::path::Path;

/// Longest file name accepted in a NAR directory entry.
const MAX_NAME: u64 = 255;
/// Longest symlink target accepted.
const MAX_TARGET: u64 = 4095;
/// Longest structural token (keywords).
const MAX_TOKEN: u64 = 64;
/// Deepest directory nesting accepted.
const MAX_DEPTH: usize = 256;

/// Why a NAR could not be read or restored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NarReadError {
    /// The stream ended or failed.
    #[error("cannot read NAR at byte {offset}")]
    Io {
        /// Bytes of the NAR read so far.
        offset: u64,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// The bytes do not follow the NAR grammar.
    #[error("bad archive at byte {offset}: {what}")]
    Syntax {
        /// Offset of the offending token.
        offset: u64,
        /// What was wrong.
        what: String,
    },
    /// Writing the restored tree failed.
    #[error("cannot restore '{}'", path.display())]
    Restore {
        /// The file being written.
        path: std::path::PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
}

/// A parsed NAR node; file contents and targets are ranges into [`Nar::bytes`].
#[derive(Debug, Clone)]
pub(crate) enum NarNode {
    File {
        executable: bool,
        contents: Range<usize>,
    },
    Symlink {
        target: Range<usize>,
    },
    Directory {
        entries: Vec<(Range<usize>, NarNode)>,
    },
}

/// One NAR, its bytes and its parsed tree.
#[derive(Debug, Clone)]
pub(crate) struct Nar {
    pub bytes: Vec<u8>,
    pub root: NarNode,
}

struct Reader<'r, R: Read + ?Sized> {
    inner: &'r mut R,
    bytes: Vec<u8>,
}

impl<R: Read + ?Sized> Reader<'_, R> {
    fn offset(&self) -> u64 {
        self.bytes.len() as u64
    }

    fn syntax(&self, what: impl Into<String>) -> NarReadError {
        NarReadError::Syntax {
            offset: self.offset(),
            what: what.into(),
        }
    }

    fn take(&mut self, n: u64) -> Result<Range<usize>, NarReadError> {
        let start = self.bytes.len();
        let got = (&mut *self.inner)
            .take(n)
            .read_to_end(&mut self.bytes)
            .map_err(|source| NarReadError::Io {
                offset: start as u64,
                source,
            })?;
        if (got as u64) < n {
            return Err(NarReadError::Io {
                offset: self.offset(),
                source: std::io::ErrorKind::UnexpectedEof.into(),
            });
        }
        Ok(start..self.bytes.len())
    }

    fn u64(&mut self) -> Result<u64, NarReadError> {
        let r = self.take(8)?;
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.bytes[r]);
        Ok(u64::from_le_bytes(b))
    }

    /// A string token of at most `max` bytes; returns its range.
    fn string(&mut self, max: u64) -> Result<Range<usize>, NarReadError> {
        let len = self.u64()?;
        if len > max {
            return Err(self.syntax(format!("string of {len} bytes is too long")));
        }
        let r = self.take(len)?;
        let pad = (8 - len % 8) % 8;
        let p = self.take(pad)?;
        if self.bytes[p].iter().any(|b| *b != 0) {
            return Err(self.syntax("non-zero padding"));
        }
        Ok(r)
    }

    fn expect(&mut self, word: &str) -> Result<(), NarReadError> {
        let r = self.string(MAX_TOKEN)?;
        if &self.bytes[r.clone()] != word.as_bytes() {
            return Err(self.syntax(format!(
                "expected '{word}', got '{}'",
                String::from_utf8_lossy(&self.bytes[r])
            )));
        }
        Ok(())
    }

    fn word(&mut self) -> Result<String, NarReadError> {
        let r = self.string(MAX_TOKEN)?;
        Ok(String::from_utf8_lossy(&self.bytes[r]).into_owned())
    }

    fn node(&mut self, depth: usize) -> Result<NarNode, NarReadError> {
        if depth > MAX_DEPTH {
            return Err(self.syntax("directories nested too deeply"));
        }
        self.expect("(")?;
        self.expect("type")?;
        let kind = self.word()?;
        let node = match kind.as_str() {
            "regular" => {
                let mut executable = false;
                let mut w = self.word()?;
                if w == "executable" {
                    let v = self.string(MAX_TOKEN)?;
                    if !v.is_empty() {
                        return Err(self.syntax("executable marker has non-empty value"));
                    }
                    executable = true;
                    w = self.word()?;
                }
                if w != "contents" {
                    return Err(self.syntax(format!("unknown field {w}")));
                }
                let contents = self.string(u64::MAX)?;
                self.expect(")")?;
                NarNode::File {
                    executable,
                    contents,
                }
            }
            "symlink" => {
                self.expect("target")?;
                let target = self.string(MAX_TARGET)?;
                self.expect(")")?;
                NarNode::Symlink { target }
            }
            "directory" => {
                let mut entries: Vec<(Range<usize>, NarNode)> = Vec::new();
                loop {
                    let w = self.word()?;
                    if w == ")" {
                        break;
                    }
                    if w != "entry" {
                        return Err(self.syntax(format!("unknown field {w}")));
                    }
                    self.expect("(")?;
                    self.expect("name")?;
                    let name = self.string(MAX_NAME)?;
                    let n = &self.bytes[name.clone()];
                    if n.is_empty()
                        || n == b"."
                        || n == b".."
                        || n.contains(&b'/')
                        || n.contains(&0)
                    {
                        return Err(self.syntax(format!(
                            "NAR contains invalid file name '{}'",
                            String::from_utf8_lossy(n)
                        )));
                    }
                    if let Some((prev, _)) = entries.last() {
                        if self.bytes[prev.clone()] >= *n {
                            return Err(self.syntax("NAR directory is not sorted"));
                        }
                    }
                    self.expect("node")?;
                    let child = self.node(depth + 1)?;
                    self.expect(")")?;
                    entries.push((name, child));
                }
                NarNode::Directory { entries }
            }
            other => return Err(self.syntax(format!("unknown file type {other}"))),
        };
        Ok(node)
    }
}

/// Reads exactly one NAR from `input`.
pub(crate) fn read_nar<R: Read + ?Sized>(input: &mut R) -> Result<Nar, NarReadError> {
    let mut r = Reader {
        inner: input,
        bytes: Vec::new(),
    };
    let magic = r.string(MAX_TOKEN)?;
    if &r.bytes[magic] != b"nix-archive-1" {
        return Err(NarReadError::Syntax {
            offset: 0,
            what: "input doesn't look like a Nix archive".into(),
        });
    }
    let root = r.node(0)?;
    Ok(Nar {
        bytes: r.bytes,
        root,
    })
}

impl Nar {
    /// Writes the tree to `dest` (which must not exist).
    pub(crate) fn restore(&self, dest: &Path) -> Result<(), NarReadError> {
        self.restore_node(&self.root, dest)
    }

    fn restore_node(&self, node: &NarNode, dest: &Path) -> Result<(), NarReadError> {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::PermissionsExt;
        let err = |source| NarReadError::Restore {
            path: dest.to_path_buf(),
            source,
        };
        match node {
            NarNode::File {
                executable,
                contents,
            } => {
                std::fs::write(dest, &self.bytes[contents.clone()]).map_err(err)?;
                let mode = if *executable { 0o755 } else { 0o644 };
                std::fs::set_permissions(dest, std::fs::Permissions::from_mode(mode))
                    .map_err(err)?;
            }
            NarNode::Symlink { target } => {
                let t = std::ffi::OsStr::from_bytes(&self.bytes[target.clone()]);
                std::os::unix::fs::symlink(t, dest).map_err(err)?;
            }
            NarNode::Directory { entries } => {
                std::fs::create_dir(dest).map_err(err)?;
                for (name, child) in entries {
                    let name = std::ffi::OsStr::from_bytes(&self.bytes[name.clone()]);
                    self.restore_node(child, &dest.join(name))?;
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
    fn reads_and_restores_a_dumped_tree() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let src = dir.path().join("src");
        std::fs::create_dir(&src)?;
        std::fs::write(src.join("a"), b"hello\n")?;
        std::os::unix::fs::symlink("a", src.join("c"))?;
        let mut nar = Vec::new();
        nix_nar::dump_path(&src, &mut nar)?;
        nar.extend_from_slice(b"trailing");
        let mut input = &nar[..];
        let parsed = read_nar(&mut input)?;
        assert_eq!(input, b"trailing");
        let out = dir.path().join("out");
        parsed.restore(&out)?;
        let mut again = Vec::new();
        nix_nar::dump_path(&out, &mut again)?;
        assert_eq!(again, parsed.bytes);
        Ok(())
    }

    #[test]
    fn rejects_bad_magic_and_truncation() {
        assert!(read_nar(&mut &b"\x05\0\0\0\0\0\0\0hello\0\0\0"[..]).is_err());
        assert!(read_nar(&mut &b"\x0d\0\0\0\0\0\0\0nix-archive-1\0\0\0"[..]).is_err());
    }
}
