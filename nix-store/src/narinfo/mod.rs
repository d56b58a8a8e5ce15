//! Binary-cache `.narinfo` files, their signatures and signing keys (nix-facts §5).
//!
//! A narinfo is `Key: value` lines. CppNix writes them in this order (and so do we):
//!
//! ```text
//! StorePath: /nix/store/<hash>-<name>      full path
//! URL: nar/<nix32 of FileHash>.nar.xz
//! Compression: xz                          reader default when absent: bzip2
//! FileHash: sha256:<nix32>
//! FileSize: <bytes>
//! NarHash: sha256:<nix32>
//! NarSize: <bytes>
//! References: <base name> <base name> …   written even when empty ("References: ")
//! Deriver: <base name>                     optional; "unknown-deriver" reads as absent
//! System: <system>                         optional
//! Sig: <key name>:<base64>                 one line per signature, sorted
//! CA: <content address>                    optional
//! ```
//!
//! Reading is a little stricter than CppNix 2.8 (which takes the value two bytes after the
//! colon without looking, lets most fields repeat and ignores unknown fields): every line must be
//! `Name: value` and end in a newline, known fields (except `Sig`) may appear once, and unknown
//! fields are kept, dropped or rejected as [`ParseOptions`] says. As in CppNix, `StorePath`,
//! `NarHash`, `URL` and a non-zero `NarSize` are required ("NAR info file is corrupt").
//!
//! Signing covers the fingerprint ([`fingerprint`]) with an ed25519 key ([`keys`]).
//!
//! # Example
//! ```
//! use nix_store::narinfo::{keys::{PublicKeys, SecretKey}, NarInfo};
//! use nix_store::store_path::StoreDir;
//! let text = "StorePath: /nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple\n\
//!     URL: nar/04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw.nar\n\
//!     Compression: none\n\
//!     FileHash: sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw\n\
//!     FileSize: 120\n\
//!     NarHash: sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw\n\
//!     NarSize: 120\n\
//!     References: \n\
//!     Deriver: 3ghsl9sd83mc26i81adpa2fzf3yw4f68-simple.drv\n";
//! let dir = StoreDir::default();
//! let mut info = NarInfo::parse(text, &dir)?;
//! assert_eq!(info.to_text(&dir), text);
//! let key = SecretKey::generate("my-cache-1");
//! info.sign(&dir, &key)?;
//! let trusted: PublicKeys = [key.to_public()].into_iter().collect();
//! assert_eq!(info.count_valid_signatures(&dir, &trusted)?, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod fingerprint;
pub mod keys;
mod parse;
pub mod signature;

use crate::content_address::ContentAddressError;
use crate::hash::{Hash, ParseHashError};
use crate::path_info::{PathInfo, PathInfoError};
use crate::store_path::{StoreDir, StorePathError};

pub use keys::{KeyError, PublicKey, PublicKeys, SecretKey};
pub use signature::{Signature, SignatureError};

/// A parsed narinfo: the path info plus where and how the NAR is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NarInfo {
    /// Path, NAR hash and size, references, deriver, signatures, content address.
    /// (`registration_time` and `ultimate` are not part of a narinfo.)
    pub info: PathInfo,
    /// Where the (compressed) NAR is, relative to the cache root.
    pub url: String,
    /// `Compression:` as written; `None` if absent (CppNix then assumes `bzip2`, see
    /// [`NarInfo::compression`]).
    pub compression: Option<String>,
    /// Hash of the (compressed) NAR file.
    pub file_hash: Option<Hash>,
    /// Size of the (compressed) NAR file.
    pub file_size: Option<u64>,
    /// `System:`, if present.
    pub system: Option<String>,
    /// Unknown fields in order, kept when parsing with [`UnknownFields::Preserve`] and written
    /// last.
    pub extra: Vec<(String, String)>,
}

/// What to do with fields CppNix does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownFields {
    /// Keep them in [`NarInfo::extra`] (and write them back).
    #[default]
    Preserve,
    /// Drop them, as CppNix does.
    Ignore,
    /// Fail with [`NarInfoError::UnknownField`].
    Reject,
}

/// Knobs for [`NarInfo::parse_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// What to do with unknown fields.
    pub unknown_fields: UnknownFields,
}

/// Why a narinfo was rejected ("NAR info file is corrupt"); `line` is 1-based.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NarInfoError {
    /// The last line has no newline.
    #[error("line {line}: missing newline at the end")]
    MissingNewline {
        /// The line.
        line: usize,
    },
    /// A line that is not `Name: value`.
    #[error("line {line}: expected 'Name: value', got '{text}'")]
    MissingSeparator {
        /// The line.
        line: usize,
        /// Its text.
        text: String,
    },
    /// A field that may appear only once appears again.
    #[error("line {line}: duplicate field '{field}'")]
    DuplicateField {
        /// The line.
        line: usize,
        /// The field name.
        field: String,
    },
    /// A field we do not know, with [`UnknownFields::Reject`].
    #[error("line {line}: unknown field '{field}'")]
    UnknownField {
        /// The line.
        line: usize,
        /// The field name.
        field: String,
    },
    /// A bad store path.
    #[error("line {line}: invalid store path")]
    StorePath {
        /// The line.
        line: usize,
        /// What is wrong.
        #[source]
        source: StorePathError,
    },
    /// A bad hash.
    #[error("line {line}: invalid {field}")]
    Hash {
        /// The line.
        line: usize,
        /// The field name.
        field: String,
        /// What is wrong.
        #[source]
        source: ParseHashError,
    },
    /// A bad number.
    #[error("line {line}: {field} '{value}' is not an unsigned integer")]
    Integer {
        /// The line.
        line: usize,
        /// The field name.
        field: String,
        /// The value.
        value: String,
    },
    /// A bad content address.
    #[error("line {line}: invalid CA")]
    ContentAddress {
        /// The line.
        line: usize,
        /// What is wrong.
        #[source]
        source: ContentAddressError,
    },
    /// A required field is missing (or `URL` is empty).
    #[error("missing required field '{field}'")]
    MissingField {
        /// The field name.
        field: &'static str,
    },
    /// `NarSize: 0`.
    #[error("NarSize is 0")]
    ZeroNarSize,
}

impl NarInfo {
    /// Parses a narinfo, keeping unknown fields.
    ///
    /// # Errors
    /// See [`NarInfoError`].
    pub fn parse(text: &str, store_dir: &StoreDir) -> Result<NarInfo, NarInfoError> {
        parse::parse(text, store_dir, &ParseOptions::default())
    }

    /// Parses a narinfo with options.
    ///
    /// # Errors
    /// See [`NarInfoError`].
    pub fn parse_with(
        text: &str,
        store_dir: &StoreDir,
        options: &ParseOptions,
    ) -> Result<NarInfo, NarInfoError> {
        parse::parse(text, store_dir, options)
    }

    /// The narinfo text, fields in CppNix's order. Optional fields that are `None` are left out
    /// (CppNix always writes `Compression`, `FileHash` and `FileSize`). Values must not contain
    /// newlines.
    pub fn to_text(&self, store_dir: &StoreDir) -> String {
        parse::write(self, store_dir)
    }

    /// The compression, with CppNix's default `bzip2` when the field is absent.
    pub fn compression(&self) -> &str {
        self.compression.as_deref().unwrap_or("bzip2")
    }

    /// The signing fingerprint (see [`fingerprint`]).
    ///
    /// # Errors
    /// A NAR hash that is not sha256.
    pub fn fingerprint(&self, store_dir: &StoreDir) -> Result<String, PathInfoError> {
        self.info.fingerprint(store_dir)
    }

    /// Adds a signature by `key`.
    ///
    /// # Errors
    /// A NAR hash that is not sha256.
    pub fn sign(&mut self, store_dir: &StoreDir, key: &SecretKey) -> Result<(), PathInfoError> {
        self.info.sign(store_dir, key)
    }

    /// How many signatures are valid signatures by one of `keys`.
    ///
    /// # Errors
    /// A NAR hash that is not sha256.
    pub fn count_valid_signatures(
        &self,
        store_dir: &StoreDir,
        keys: &PublicKeys,
    ) -> Result<usize, PathInfoError> {
        self.info.count_valid_signatures(store_dir, keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "StorePath: /nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple\nURL: nar/x.nar\nNarHash: sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw\nNarSize: 120\n";

    fn err(text: &str) -> NarInfoError {
        NarInfo::parse(text, &StoreDir::default()).expect_err("corrupt")
    }

    #[test]
    fn minimal_and_defaults() -> Result<(), NarInfoError> {
        let n = NarInfo::parse(GOOD, &StoreDir::default())?;
        assert_eq!(n.compression(), "bzip2");
        assert!(n.info.references.is_empty());
        assert_eq!(
            n.to_text(&StoreDir::default()),
            format!("{}References: \n", GOOD)
        );
        Ok(())
    }

    #[test]
    fn corrupt_files() {
        assert!(matches!(
            err("StorePath: /nix/store/x"),
            NarInfoError::MissingNewline { line: 1 }
        ));
        assert!(matches!(
            err("garbage\n"),
            NarInfoError::MissingSeparator { line: 1, .. }
        ));
        assert!(matches!(
            err(&GOOD.replace("NarSize: 120", "NarSize: 0")),
            NarInfoError::ZeroNarSize
        ));
        assert!(matches!(
            err(&GOOD.replace("NarSize: 120", "NarSize: -1")),
            NarInfoError::Integer { line: 4, .. }
        ));
        assert!(matches!(
            err(&GOOD.replace("URL: nar/x.nar\n", "")),
            NarInfoError::MissingField { field: "URL" }
        ));
        assert!(matches!(
            err(&GOOD.replace(
                "StorePath: /nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple\n",
                ""
            )),
            NarInfoError::MissingField { field: "StorePath" }
        ));
        assert!(matches!(
            err(&format!("{GOOD}URL: again\n")),
            NarInfoError::DuplicateField { line: 5, .. }
        ));
        assert!(matches!(
            err(&format!("{GOOD}NarHash: sha256:zz\n")),
            NarInfoError::Hash { line: 5, .. }
        ));
        assert!(matches!(
            err(&format!("{GOOD}References: bad\n")),
            NarInfoError::StorePath { line: 5, .. }
        ));
        assert!(matches!(
            err(&format!("{GOOD}CA: bad\n")),
            NarInfoError::ContentAddress { line: 5, .. }
        ));
    }

    #[test]
    fn unknown_fields() -> Result<(), NarInfoError> {
        let text = format!("{GOOD}References: \nX-Custom: 1\n");
        let dir = StoreDir::default();
        let n = NarInfo::parse(&text, &dir)?;
        assert_eq!(n.extra, vec![("X-Custom".to_string(), "1".to_string())]);
        assert_eq!(n.to_text(&dir), text);
        let opts = ParseOptions {
            unknown_fields: UnknownFields::Ignore,
        };
        assert!(NarInfo::parse_with(&text, &dir, &opts)?.extra.is_empty());
        let opts = ParseOptions {
            unknown_fields: UnknownFields::Reject,
        };
        assert!(matches!(
            NarInfo::parse_with(&text, &dir, &opts),
            Err(NarInfoError::UnknownField { line: 6, .. })
        ));
        Ok(())
    }

    #[test]
    fn unknown_deriver() -> Result<(), NarInfoError> {
        let n = NarInfo::parse(
            &format!("{GOOD}Deriver: unknown-deriver\n"),
            &StoreDir::default(),
        )?;
        assert_eq!(n.info.deriver, None);
        Ok(())
    }
}
