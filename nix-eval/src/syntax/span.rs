//! Source positions: a [`Span`] is a file id plus byte offsets; the [`SourceMap`] turns offsets
//! into CppNix-style line/column positions and renders error excerpts.
//!
//! Lines and columns follow CppNix 2.8's lexer: both are 1-based, a column counts **bytes** (a
//! tab or a UTF-8 continuation byte is one column), and `\n`, `\r\n` and a lone `\r` each end a
//! line.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::diagnostic::Pos;

/// Identifies one source text in a [`SourceMap`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct FileId(pub u32);

/// A byte range `start..end` in one source file. `start` is the position CppNix reports for the
/// node (see the notes on each [`crate::syntax::ast::ExprKind`] variant).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Span {
    /// The file the offsets refer to.
    pub file: FileId,
    /// Offset of the first byte.
    pub start: u32,
    /// Offset one past the last byte (equal to `start` for an empty span).
    pub end: u32,
}

impl Span {
    /// A span from `start` to `end` in `file`.
    pub fn new(file: FileId, start: u32, end: u32) -> Self {
        Span { file, start, end }
    }

    /// The smallest span covering `self` and `other` (which must be in the same file).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// Where a source text came from; decides how positions are shown.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Origin {
    /// An expression given on the command line (`-E`): shown as `«string»` in excerpt headers
    /// and `(string)` inside messages.
    String,
    /// Standard input: `«stdin»` / `(stdin)`.
    Stdin,
    /// A file: its path, both places.
    File(PathBuf),
}

/// A 1-based line and byte column.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LineCol {
    /// Line number, from 1.
    pub line: u32,
    /// Column (in bytes), from 1.
    pub column: u32,
}

/// One source text and its origin.
#[derive(Clone, Debug)]
pub struct SourceFile {
    origin: Origin,
    text: Arc<[u8]>,
    /// Offsets where each line starts (line 1 starts at 0).
    line_starts: Vec<u32>,
    /// Where the file starts in the map's position space (see [`SourceMap::pos`]).
    base: u32,
}

impl SourceFile {
    /// Where the text came from.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The whole text.
    pub fn text(&self) -> &[u8] {
        &self.text
    }

    /// The shared text.
    pub fn text_arc(&self) -> &Arc<[u8]> {
        &self.text
    }

    /// The line and column of a byte offset (offsets past the end are clamped).
    pub fn line_col(&self, offset: u32) -> LineCol {
        let offset = offset.min(self.text.len() as u32);
        let idx = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        LineCol {
            line: idx as u32 + 1,
            column: offset - self.line_starts[idx] + 1,
        }
    }

    /// The text of a 1-based line without its terminator, if the line exists. For files only
    /// terminated lines exist (CppNix reads them line by line); for strings and standard input
    /// the text after the last newline is a line too, even if empty.
    fn line_text(&self, line: u32) -> Option<&[u8]> {
        let i = line.checked_sub(1)? as usize;
        let start = *self.line_starts.get(i)? as usize;
        let end = match self.line_starts.get(i + 1) {
            Some(&next) => {
                let mut e = next as usize;
                // strip the terminator: "\n", "\r\n" or "\r"
                if e > start && self.text[e - 1] == b'\n' {
                    e -= 1;
                    if e > start && self.text[e - 1] == b'\r' {
                        e -= 1;
                    }
                } else if e > start && self.text[e - 1] == b'\r' {
                    e -= 1;
                }
                e
            }
            None => {
                // CppNix reads files line by line: an unterminated last line is not shown
                if matches!(self.origin, Origin::File(_)) {
                    return None;
                }
                self.text.len()
            }
        };
        Some(&self.text[start..end])
    }
}

/// All source texts of a parse or evaluation, indexed by [`FileId`].
///
/// # Example
///
/// ```
/// use nix_eval::syntax::{Origin, SourceMap};
/// let mut map = SourceMap::new();
/// let id = map.add(Origin::String, b"1 +\n  2".to_vec());
/// let lc = map.file(id).line_col(6);
/// assert_eq!((lc.line, lc.column), (2, 3));
/// ```
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> Self {
        SourceMap::default()
    }

    /// Adds a source text and returns its id.
    ///
    /// # Panics
    ///
    /// Panics if the text is 4 GiB or larger (offsets are `u32`); see [`SourceMap::try_add`].
    pub fn add(&mut self, origin: Origin, text: impl Into<Arc<[u8]>>) -> FileId {
        self.try_add(origin, text)
            .expect("source text smaller than 4 GiB")
    }

    /// Adds a source text, or returns `None` if it is 4 GiB or larger.
    pub fn try_add(&mut self, origin: Origin, text: impl Into<Arc<[u8]>>) -> Option<FileId> {
        let text: Arc<[u8]> = text.into();
        if text.len() >= u32::MAX as usize {
            return None;
        }
        let mut line_starts = vec![0u32];
        let t = &text[..];
        let mut i = 0;
        while i < t.len() {
            match t[i] {
                b'\n' => line_starts.push(i as u32 + 1),
                b'\r' => {
                    if t.get(i + 1) == Some(&b'\n') {
                        i += 1;
                    }
                    line_starts.push(i as u32 + 1);
                }
                _ => {}
            }
            i += 1;
        }
        let id = FileId(u32::try_from(self.files.len()).ok()?);
        // positions are numbered across all files: each file takes its length plus one (so
        // that a position at its very end stays inside it); past 4 GiB of source in all,
        // later files share the last base (their positions name the wrong place, never panic)
        let base = match self.files.last() {
            None => 1,
            Some(last) => {
                let next = last.base as u64 + last.text.len() as u64 + 1;
                u32::try_from(next).unwrap_or(last.base)
            }
        };
        self.files.push(SourceFile {
            origin,
            text,
            line_starts,
            base,
        });
        Some(id)
    }

    /// The position at byte `offset` of file `id`: one number across all the files of this
    /// map, so that a [`Pos`] is 4 bytes (and `Option<Pos>` too). `None` if the file is not
    /// from this map.
    pub fn pos(&self, id: FileId, offset: u32) -> Option<Pos> {
        let f = self.get(id)?;
        Some(Pos::at(f.base, offset))
    }

    /// The start of file `id` in the position space (for [`Pos::at`]), if the file is known.
    pub fn base(&self, id: FileId) -> Option<u32> {
        self.get(id).map(|f| f.base)
    }

    /// The file and byte offset of a position made by this map, if it is from this map.
    pub fn resolve(&self, pos: Pos) -> Option<(FileId, u32)> {
        let p = pos.raw();
        let i = self.files.partition_point(|f| f.base <= p).checked_sub(1)?;
        let f = self.files.get(i)?;
        let offset = p - f.base;
        if offset as usize > f.text.len() {
            return None;
        }
        Some((FileId(u32::try_from(i).ok()?), offset))
    }

    /// An empty span at a position (in no file if the position is not from this map).
    pub fn pos_span(&self, pos: Pos) -> Span {
        match self.resolve(pos) {
            Some((file, offset)) => Span::new(file, offset, offset),
            None => Span::new(FileId(u32::MAX), 0, 0),
        }
    }

    /// The file with this id.
    ///
    /// # Panics
    ///
    /// Panics if the id is not from this map (a caller bug); see [`SourceMap::get`].
    pub fn file(&self, id: FileId) -> &SourceFile {
        self.get(id).expect("file id belongs to this source map")
    }

    /// The file with this id, if any.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// The position of a span's start as CppNix prints it inside messages:
    /// `(string):1:3`, `(stdin):2:1` or `/path/file.nix:4:5`.
    pub fn pos_in_message(&self, span: Span) -> String {
        match self.get(span.file) {
            None => "«none»".to_string(),
            Some(f) => {
                let lc = f.line_col(span.start);
                let name = match &f.origin {
                    Origin::String => "(string)".to_string(),
                    Origin::Stdin => "(stdin)".to_string(),
                    Origin::File(p) => p.display().to_string(),
                };
                format!("{name}:{}:{}", lc.line, lc.column)
            }
        }
    }

    /// The excerpt CppNix 2.8 prints under an error message, starting with the blank line after
    /// the message:
    ///
    /// ```text
    ///
    ///        at «string»:1:4:
    ///
    ///             1| 1 +
    ///              |    ^
    /// ```
    ///
    /// (the line before and the line after the error line are shown when they exist).
    pub fn excerpt(&self, span: Span) -> String {
        let Some(f) = self.get(span.file) else {
            return String::new();
        };
        let lc = f.line_col(span.start);
        let name = match &f.origin {
            Origin::String => "«string»".to_string(),
            Origin::Stdin => "«stdin»".to_string(),
            Origin::File(p) => p.display().to_string(),
        };
        let mut out = format!("\n       at {name}:{}:{}:\n", lc.line, lc.column);
        // built-in sources (`//builtin/derivation.nix`) have no file to quote from
        if name.starts_with("//builtin/") {
            return out;
        }
        let Some(cur) = f.line_text(lc.line) else {
            return out;
        };
        out.push('\n');
        let line = |out: &mut String, n: u32, text: &[u8]| {
            let text = String::from_utf8_lossy(text);
            if text.is_empty() {
                out.push_str(&format!("{n:>13}|\n"));
            } else {
                out.push_str(&format!("{n:>13}| {text}\n"));
            }
        };
        if lc.line > 1 {
            if let Some(prev) = f.line_text(lc.line - 1) {
                line(&mut out, lc.line - 1, prev);
            }
        }
        line(&mut out, lc.line, cur);
        let pad = " ".repeat(lc.column.saturating_sub(1) as usize);
        out.push_str(&format!("{:>13}| {pad}^\n", ""));
        if let Some(next) = f.line_text(lc.line + 1) {
            line(&mut out, lc.line + 1, next);
        }
        out
    }
}

impl fmt::Display for LineCol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_crlf() {
        let mut m = SourceMap::new();
        let id = m.add(Origin::String, b"a\r\nb\rc\nd".to_vec());
        let f = m.file(id);
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(3), LineCol { line: 2, column: 1 });
        assert_eq!(f.line_col(5), LineCol { line: 3, column: 1 });
        assert_eq!(f.line_col(7), LineCol { line: 4, column: 1 });
    }
}
