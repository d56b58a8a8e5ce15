//! String literals of the ATerm `.drv` format: quoting and escaping.
//!
//! CppNix escapes exactly five bytes inside a quoted string: `"` → `\"`, `\` → `\\`,
//! LF → `\n`, CR → `\r` and TAB → `\t`. Every other byte (control characters, `$`, non-ASCII,
//! invalid UTF-8) is written raw. When reading, a backslash followed by `n`, `r` or `t`
//! yields LF, CR or TAB, and a backslash followed by any other byte yields that byte.
//!
//! Some fields (output names, store paths, hash algorithms, the platform) are written by CppNix
//! *without* escaping; [`write_unquoted`] does the same, byte for byte.
//!
//! # Example
//! ```
//! use nix_derivation::aterm::escape;
//! let mut out = Vec::new();
//! escape::write_quoted(&mut out, b"a\"b\\c\nd");
//! assert_eq!(out, br#""a\"b\\c\nd""#);
//! assert_eq!(escape::unescape(br#"a\"b\\c\nd\q"#), b"a\"b\\c\ndq".to_vec());
//! ```

/// Whether `s` holds a byte that [`write_quoted`] would escape.
pub fn needs_escaping(s: &[u8]) -> bool {
    s.iter()
        .any(|&b| matches!(b, b'"' | b'\\' | b'\n' | b'\r' | b'\t'))
}

/// The escape sequence for one byte, if it has one.
#[inline]
fn escape_of(b: u8) -> Option<&'static [u8; 2]> {
    match b {
        b'"' => Some(br#"\""#),
        b'\\' => Some(br"\\"),
        b'\n' => Some(br"\n"),
        b'\r' => Some(br"\r"),
        b'\t' => Some(br"\t"),
        _ => None,
    }
}

/// Appends `s` to `out` as a quoted, escaped string literal (`"…"`).
pub fn write_quoted(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in s.iter().enumerate() {
        if let Some(esc) = escape_of(b) {
            out.extend_from_slice(&s[start..i]);
            out.extend_from_slice(esc);
            start = i + 1;
        }
    }
    out.extend_from_slice(&s[start..]);
    out.push(b'"');
}

/// Appends `s` to `out` between quotes, *without* escaping, as CppNix does for output names,
/// store paths, hash algorithms and the platform.
pub fn write_unquoted(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    out.extend_from_slice(s);
    out.push(b'"');
}

/// Decodes the body of a string literal (the bytes between the quotes).
///
/// A trailing lone backslash is kept as is. Use the parser for untrusted input: it also finds
/// where the literal ends.
pub fn unescape(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut iter = body.iter().copied();
    while let Some(b) = iter.next() {
        if b == b'\\' {
            match iter.next() {
                Some(e) => out.push(unescape_byte(e)),
                None => out.push(b'\\'),
            }
        } else {
            out.push(b);
        }
    }
    out
}

/// The byte that `\x` stands for.
#[inline]
pub(crate) fn unescape_byte(x: u8) -> u8 {
    match x {
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted(s: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_quoted(&mut out, s);
        out
    }

    #[test]
    fn escapes_exactly_five_bytes() {
        assert_eq!(quoted(b""), b"\"\"");
        assert_eq!(quoted(b"plain $x"), b"\"plain $x\"");
        assert_eq!(quoted(b"\"\\\n\r\t"), br#""\"\\\n\r\t""#);
        // Other control bytes, DEL and non-UTF-8 bytes are raw.
        assert_eq!(
            quoted(b"\x01\x1f\x7f\xff\xc3\xa9"),
            b"\"\x01\x1f\x7f\xff\xc3\xa9\""
        );
    }

    #[test]
    fn unescape_inverts_escape() {
        for s in [&b"a\"b\\c\nd\re\tf"[..], b"", b"\\\\", b"\x00\xff"] {
            let q = quoted(s);
            assert_eq!(unescape(&q[1..q.len() - 1]), s);
        }
    }

    #[test]
    fn unknown_escapes_yield_the_byte() {
        assert_eq!(unescape(br"\a\$\x"), b"a$x");
        assert_eq!(unescape(b"end\\"), b"end\\");
    }

    #[test]
    fn needs_escaping_matches_write_quoted() {
        assert!(!needs_escaping(b"x86_64-linux"));
        for b in [b'"', b'\\', b'\n', b'\r', b'\t'] {
            assert!(needs_escaping(&[b]));
        }
    }

    #[test]
    fn unquoted_is_raw() {
        let mut out = Vec::new();
        write_unquoted(&mut out, b"a\"b");
        assert_eq!(out, b"\"a\"b\"");
    }
}
