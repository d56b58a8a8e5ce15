//! The NAR wire format: tokens, padding and limits, without any I/O.
//!
//! A NAR is a sequence of *strings*. Each string is its length as a little-endian `u64`, then
//! its bytes, then zero bytes up to the next multiple of 8 (no padding when the length already is
//! a multiple of 8; the empty string is eight zero bytes). Padding bytes must be zero.
//!
//! The grammar, where each quoted word is one string (see `docs/nix-facts.md` §2 in the shared
//! documentation):
//!
//! ```text
//! nar       := "nix-archive-1" node
//! node      := "(" "type" ( regular | symlink | directory ) ")"
//! regular   := "regular" [ "executable" "" ] "contents" <bytes>
//! symlink   := "symlink" "target" <target>
//! directory := "directory" { "entry" "(" "name" <name> "node" node ")" }*
//! ```
//!
//! Directory entries appear in strictly increasing bytewise order of their names. A name is not
//! empty, not `.` or `..`, and contains neither `/` nor NUL. The executable marker is written iff
//! the owner-execute bit of the file is set.
//!
//! This module holds the token values, helpers to encode them, the name rules ([`check_name`])
//! and the caps applied to untrusted lengths ([`Limits`]).

/// The magic string that starts every NAR.
pub const MAGIC: &[u8] = b"nix-archive-1";
/// Opens a node or a directory entry.
pub const OPEN: &[u8] = b"(";
/// Closes a node or a directory entry.
pub const CLOSE: &[u8] = b")";
/// Introduces the type of a node.
pub const TYPE: &[u8] = b"type";
/// Type of a regular file.
pub const REGULAR: &[u8] = b"regular";
/// Marks a regular file executable (followed by an empty string).
pub const EXECUTABLE: &[u8] = b"executable";
/// Introduces the contents of a regular file.
pub const CONTENTS: &[u8] = b"contents";
/// Type of a symbolic link.
pub const SYMLINK: &[u8] = b"symlink";
/// Introduces the target of a symbolic link.
pub const TARGET: &[u8] = b"target";
/// Type of a directory.
pub const DIRECTORY: &[u8] = b"directory";
/// Introduces a directory entry.
pub const ENTRY: &[u8] = b"entry";
/// Introduces the name of a directory entry.
pub const NAME: &[u8] = b"name";
/// Introduces the node of a directory entry.
pub const NODE: &[u8] = b"node";

/// Number of zero bytes that follow a string of `len` bytes.
///
/// # Example
/// ```
/// assert_eq!(nix_nar::wire::padding_len(0), 0);
/// assert_eq!(nix_nar::wire::padding_len(13), 3);
/// assert_eq!(nix_nar::wire::padding_len(16), 0);
/// ```
pub const fn padding_len(len: u64) -> usize {
    ((8 - (len % 8)) % 8) as usize
}

/// Size on the wire of a string of `len` bytes (length field, bytes, padding).
pub const fn encoded_len(len: u64) -> u64 {
    8 + len + padding_len(len) as u64
}

/// Appends the encoding of the string `s` (length, bytes, zero padding) to `out`.
///
/// # Example
/// ```
/// let mut out = Vec::new();
/// nix_nar::wire::encode_str(&mut out, b"(");
/// assert_eq!(out, b"\x01\0\0\0\0\0\0\0(\0\0\0\0\0\0\0");
/// ```
pub fn encode_str(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s);
    out.extend_from_slice(&[0u8; 8][..padding_len(s.len() as u64)]);
}

/// Why a directory entry name is not allowed in a NAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty.
    Empty,
    /// The name is `.` or `..`.
    Dots,
    /// The name contains `/`.
    Slash,
    /// The name contains a NUL byte.
    Nul,
}

impl std::fmt::Display for NameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NameError::Empty => "name is empty",
            NameError::Dots => "name is '.' or '..'",
            NameError::Slash => "name contains '/'",
            NameError::Nul => "name contains a NUL byte",
        })
    }
}

impl std::error::Error for NameError {}

/// Checks that `name` may name a directory entry: not empty, not `.`/`..`, no `/`, no NUL.
///
/// # Errors
/// The first rule that `name` breaks.
///
/// # Example
/// ```
/// use nix_nar::wire::{check_name, NameError};
/// assert!(check_name(b"hello.txt").is_ok());
/// assert_eq!(check_name(b".."), Err(NameError::Dots));
/// assert_eq!(check_name(b"a/b"), Err(NameError::Slash));
/// ```
pub fn check_name(name: &[u8]) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name == b"." || name == b".." {
        return Err(NameError::Dots);
    }
    if name.contains(&b'/') {
        return Err(NameError::Slash);
    }
    if name.contains(&0) {
        return Err(NameError::Nul);
    }
    Ok(())
}

/// Caps applied by the reader to lengths and nesting read from untrusted input.
///
/// No allocation is ever sized by a length read from the wire beyond these caps. File contents
/// are never buffered whole, so their size is only capped by `max_file_size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest directory entry name (bytes). Default 4096.
    pub max_name_len: u64,
    /// Longest symlink target (bytes). Default 4096.
    pub max_target_len: u64,
    /// Deepest directory nesting. Default 2048.
    pub max_depth: usize,
    /// Largest regular file (bytes). Default `u64::MAX`.
    pub max_file_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_name_len: 4096,
            max_target_len: 4096,
            max_depth: 2048,
            max_file_size: u64::MAX,
        }
    }
}

/// Longest keyword token of the grammar; any longer token read where a keyword is expected is
/// rejected without being buffered.
pub const MAX_KEYWORD_LEN: u64 = 16;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding() {
        for (len, pad) in [(0, 0), (1, 7), (7, 1), (8, 0), (9, 7), (15, 1)] {
            assert_eq!(padding_len(len), pad);
            assert_eq!(encoded_len(len) % 8, 0);
        }
    }

    #[test]
    fn names() {
        assert_eq!(check_name(b""), Err(NameError::Empty));
        assert_eq!(check_name(b"."), Err(NameError::Dots));
        assert_eq!(check_name(b"a\0"), Err(NameError::Nul));
        assert!(check_name(b"...").is_ok());
        assert!(check_name(b".hidden").is_ok());
        assert!(check_name("ünï code\n".as_bytes()).is_ok());
    }

    #[test]
    fn keywords_fit() {
        for k in [
            MAGIC, OPEN, CLOSE, TYPE, REGULAR, EXECUTABLE, CONTENTS, SYMLINK, TARGET, DIRECTORY,
            ENTRY, NAME, NODE,
        ] {
            assert!(k.len() as u64 <= MAX_KEYWORD_LEN);
        }
    }
}
