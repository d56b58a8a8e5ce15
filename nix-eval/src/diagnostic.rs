//! Source positions and CppNix-style rendering of errors.
//!
//! A [`Pos`] is 4 bytes: a place in the position space of the evaluator's [`SourceMap`]. The
//! map keeps each source text so that errors can show the code excerpt CppNix 2.8 prints:
//!
//! ```text
//! error: division by zero
//!
//!        at «string»:1:1:
//!
//!             1| 1 / 0
//!              | ^
//! ```

use std::num::NonZeroU32;
use std::path::Path;

use crate::error::Error;
use crate::syntax::{FileId, Origin, SourceMap};

/// A position in a source known to a [`SourceMap`]: one number across all the files of the map
/// (4 bytes, and `Option<Pos>` too; made by [`SourceMap::pos`], turned back into a file and
/// byte offset by [`SourceMap::resolve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pos(NonZeroU32);

impl Pos {
    /// The position `offset` bytes into the file that starts at `base` in the map's position
    /// space ([`SourceMap::base`]); a `base` of 0 is taken as 1.
    pub fn at(base: u32, offset: u32) -> Self {
        Pos(NonZeroU32::new(base.saturating_add(offset)).unwrap_or(NonZeroU32::MIN))
    }

    /// The number in the map's position space.
    pub fn raw(self) -> u32 {
        self.0.get()
    }
}

/// `(string):1:2` or `/path/file.nix:3:1`, as CppNix prints a position inside a message.
pub fn describe(map: &SourceMap, pos: Pos) -> String {
    map.pos_in_message(map.pos_span(pos))
}

/// The line and column (1-based) of a position.
pub fn line_col(map: &SourceMap, pos: Pos) -> (u32, u32) {
    match map
        .resolve(pos)
        .and_then(|(file, offset)| Some((map.get(file)?, offset)))
    {
        Some((f, offset)) => {
            let lc = f.line_col(offset);
            (lc.line, lc.column)
        }
        None => (0, 0),
    }
}

/// What `unsafeGetAttrPos`/`__curPos` report as `file`: the path, or for strings the whole
/// source text (as CppNix 2.8 does).
pub fn pos_file_value(map: &SourceMap, file: FileId) -> Vec<u8> {
    match map.get(file) {
        Some(f) => match f.origin() {
            Origin::File(p) => p.display().to_string().into_bytes(),
            _ => f.text().to_vec(),
        },
        None => Vec::new(),
    }
}

/// The path of a file source, if it is one.
pub fn path_of(map: &SourceMap, file: FileId) -> Option<&Path> {
    match map.get(file).map(|f| f.origin()) {
        Some(Origin::File(p)) => Some(p),
        _ => None,
    }
}

/// Renders an error exactly as CppNix 2.8 prints it on standard error (with the final
/// newline).
pub fn render_error(map: &SourceMap, err: &Error, show_trace: bool) -> String {
    if err.kind() == crate::error::ErrorKind::StackOverflow {
        // CppNix 2.8 reports a stack overflow from its signal handler: one line, no position
        // and no trace.
        return "error: stack overflow (possible infinite recursion)\n".to_string();
    }
    let mut out = format!("error: {}\n", indent_rest(err.message()));
    // CppNix ends `at FILE:L:C:` without a newline when it has no code to quote (the built-in
    // `derivation.nix`): a trace frame then follows on the next line, not after a blank one
    let mut codeless = false;
    if let Some(pos) = err.pos() {
        let ex = map.excerpt(map.pos_span(pos));
        codeless = ex.matches('\n').count() == 2;
        out.push_str(&ex);
    }
    let sugg = err.suggestions();
    if !sugg.is_empty() {
        out.push_str("       Did you mean ");
        if sugg.len() == 1 {
            out.push_str(&sugg[0]);
        } else {
            out.push_str("one of ");
            for (i, s) in sugg.iter().enumerate() {
                if i > 0 {
                    out.push_str(if i + 1 == sugg.len() { " or " } else { ", " });
                }
                out.push_str(s);
            }
        }
        out.push_str("?\n");
    }
    if !err.trace().is_empty() {
        if show_trace {
            for frame in err.trace().iter() {
                if !codeless {
                    out.push('\n');
                }
                out.push_str(&format!("       … {}\n", indent_rest(&frame.message)));
                codeless = false;
                if let Some(pos) = frame.pos {
                    let ex = map.excerpt(map.pos_span(pos));
                    codeless = ex.matches('\n').count() == 2;
                    out.push_str(&ex);
                }
            }
        } else {
            out.push_str("(use '--show-trace' to show detailed location information)\n");
        }
    }
    // CppNix prints every line of an error without trailing blanks (message and code lines).
    let mut trimmed = String::with_capacity(out.len());
    for line in out.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        trimmed.push_str(body.trim_end_matches([' ', '\t', '\r']));
        trimmed.push_str(nl);
    }
    expand_tabs(&trimmed)
}

/// CppNix's logger passes the whole message through `filterANSIEscapes`, which expands each tab
/// to the next multiple of 8 of a column counted from the start of the message (a newline counts
/// as one column and does not reset it; a UTF-8 character counts once) and drops `\r`.
fn expand_tabs(s: &str) -> String {
    if !s.contains(['\t', '\r']) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut w = 0usize;
    for c in s.chars() {
        match c {
            '\t' => {
                out.push(' ');
                w += 1;
                while w % 8 != 0 {
                    out.push(' ');
                    w += 1;
                }
            }
            '\r' => {}
            c => {
                out.push(c);
                w += 1;
            }
        }
    }
    out
}

/// CppNix indents every line of an error after the first by the width of `error: `, except
/// empty lines.
fn indent_rest(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for (i, line) in message.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            if !line.is_empty() {
                out.push_str("       ");
            }
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tab_tests {
    #[test]
    fn tabs_expand_from_the_start_of_the_message() {
        assert_eq!(super::expand_tabs("ab\tc"), "ab      c");
        assert_eq!(super::expand_tabs("abcdefg\n\tx"), "abcdefg\n        x");
        assert_eq!(super::expand_tabs("a\r\tb"), "a       b");
    }
}

/// Levenshtein distance, for "Did you mean …?".
pub(crate) fn levenshtein(a: &[u8], b: &[u8]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// CppNix's suggestion choice: names within edit distance 2, best first, at most 5.
pub(crate) fn suggestions<'a>(query: &[u8], names: impl Iterator<Item = &'a [u8]>) -> Vec<String> {
    let mut all: Vec<(usize, String)> = names
        .filter_map(|n| {
            let d = levenshtein(query, n);
            (d <= 2).then(|| (d, String::from_utf8_lossy(n).into_owned()))
        })
        .collect();
    all.sort();
    all.truncate(5);
    all.into_iter().map(|(_, s)| s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn renders_like_cppnix() -> std::result::Result<(), &'static str> {
        let mut map = SourceMap::new();
        let f = map.add(Origin::String, b"1 / 0".to_vec());
        let e = Error::eval("division by zero").at(map.pos(f, 0).ok_or("no pos")?);
        assert_eq!(
            render_error(&map, &e, false),
            "error: division by zero\n\n       at «string»:1:1:\n\n            1| 1 / 0\n             | ^\n"
        );
        Ok(())
    }

    #[test]
    fn positions_resolve_to_their_file() -> std::result::Result<(), &'static str> {
        assert_eq!(std::mem::size_of::<Option<Pos>>(), 4);
        let mut map = SourceMap::new();
        let a = map.add(Origin::String, b"ab".to_vec());
        let e = map.add(Origin::String, Vec::new());
        let b = map.add(Origin::Stdin, b"xyz".to_vec());
        for (file, len) in [(a, 2), (e, 0), (b, 3)] {
            for off in 0..=len {
                let p = map.pos(file, off).ok_or("no pos")?;
                assert_eq!(map.resolve(p), Some((file, off)));
            }
        }
        assert_eq!(map.pos(FileId(9), 0), None);
        assert_eq!(SourceMap::new().resolve(Pos::at(1, 0)), None);
        Ok(())
    }

    #[test]
    fn multi_line_messages_are_indented() {
        let map = SourceMap::new();
        let e = Error::eval("a\n\nb\n  c");
        assert_eq!(
            render_error(&map, &e, false),
            "error: a\n\n       b\n         c\n"
        );
        let e = Error::eval("a  \nb \t");
        assert_eq!(render_error(&map, &e, false), "error: a\n       b\n");
    }

    #[test]
    fn levenshtein_works() {
        assert_eq!(levenshtein(b"kitten", b"sitting"), 3);
        assert_eq!(levenshtein(b"", b"ab"), 2);
    }
}
