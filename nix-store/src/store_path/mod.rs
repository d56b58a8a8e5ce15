//! Store paths: `<storeDir>/<32 nix32 chars>-<name>` (nix-facts §3).
//!
//! A [`StorePath`] is only the **base name** `<hash>-<name>`; the store directory is a separate
//! value, [`StoreDir`], which parses full paths ([`StoreDir::parse_path`]), prints them
//! ([`StoreDir::display`]) and computes new paths ([`StoreDir::make_store_path`] and friends in
//! [`compute`]). [`StorePathRef`] is the borrowed twin.
//!
//! Equality, ordering and hashing follow CppNix: by the base name string (hash part, then name).
//! Serde (de)serialises a store path as its base name, since the full path needs the store dir.
//!
//! # Example
//! ```
//! use nix_store::store_path::{StoreDir, StorePath};
//! let dir = StoreDir::default();
//! let p = dir.parse_path("/nix/store/i9pmrzmpshapij2kin22pff6fc2adavx-hello.txt")?;
//! assert_eq!(p.hash_part(), "i9pmrzmpshapij2kin22pff6fc2adavx");
//! assert_eq!(p.name(), "hello.txt");
//! assert_eq!(p.to_string(), "i9pmrzmpshapij2kin22pff6fc2adavx-hello.txt");
//! assert_eq!(dir.display(&p), "/nix/store/i9pmrzmpshapij2kin22pff6fc2adavx-hello.txt");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod compute;
pub mod name;
mod store_dir;

use std::fmt;
use std::str::FromStr;

pub use crate::content_address::FileIngestionMethod;
pub use name::{check_name, NameError};
pub use store_dir::StoreDir;

use crate::hash::nix32;

/// The length of the hash part, in nix32 characters.
pub const HASH_PART_LEN: usize = 32;

/// The length of the hash part, in bytes (a sha256 compressed to 160 bits).
pub const HASH_BYTES: usize = 20;

/// Why a store path (or store directory) is invalid. Messages follow CppNix's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StorePathError {
    /// Shorter than a hash part.
    #[error("'{path}' is too short to be a valid store path")]
    TooShort {
        /// The offending base name.
        path: String,
    },
    /// A hash-part character outside the nix32 alphabet.
    #[error("store path '{path}' contains illegal base-32 character '{character}'")]
    InvalidHashChar {
        /// The offending base name.
        path: String,
        /// The character.
        character: char,
        /// Its byte offset in the base name.
        position: usize,
    },
    /// No `-` between hash part and name.
    #[error("store path '{path}' has no '-' after its hash part")]
    MissingDash {
        /// The offending base name.
        path: String,
    },
    /// An empty name.
    #[error("store path '{path}' has an empty name")]
    EmptyName {
        /// The offending base name.
        path: String,
    },
    /// A name longer than 211 characters.
    #[error("store path '{path}' has a name longer than 211 characters")]
    NameTooLong {
        /// The offending base name.
        path: String,
        /// The name length.
        len: usize,
    },
    /// A name character outside `[A-Za-z0-9+\-._?=]`.
    #[error("store path '{path}' contains illegal character '{character}'")]
    InvalidNameChar {
        /// The offending base name.
        path: String,
        /// The character.
        character: char,
        /// Its byte offset in the base name.
        position: usize,
    },
    /// An invalid name, checked on its own with [`check_name`] (no base name to show).
    #[error("invalid store path name")]
    InvalidName(#[from] NameError),
    /// A full path that is not directly inside the store directory.
    #[error("path '{path}' is not in the Nix store")]
    NotInStore {
        /// The offending path.
        path: String,
    },
    /// An unusable store directory.
    #[error("invalid store directory '{dir}': {reason}")]
    InvalidStoreDir {
        /// The directory given.
        dir: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A text path's content hash must be sha256 (CppNix asserts this).
    #[error("text path '{name}' needs a sha256 content hash, not {algo}")]
    TextHashNotSha256 {
        /// The name of the path being computed.
        name: String,
        /// The algorithm given.
        algo: crate::hash::HashAlgo,
    },
    /// Text paths cannot refer to themselves.
    #[error("text path '{name}' cannot have a self-reference")]
    TextSelfReference {
        /// The name of the path being computed.
        name: String,
    },
    /// Only recursive sha256 fixed-output paths (source paths) can have references.
    #[error("fixed-output path '{name}' cannot have references unless it is recursive sha256")]
    FixedOutputWithReferences {
        /// The name of the path being computed.
        name: String,
    },
}

impl StorePathError {
    fn from_name(path: &str, e: NameError) -> Self {
        let path = path.to_string();
        match e {
            NameError::Empty => StorePathError::EmptyName { path },
            NameError::TooLong { len } => StorePathError::NameTooLong { path, len },
            NameError::InvalidChar {
                character,
                position,
            } => StorePathError::InvalidNameChar {
                path,
                character,
                position: position + HASH_PART_LEN + 1,
            },
        }
    }
}

/// Validates a base name `<hash>-<name>`.
fn check_base_name(base: &str) -> Result<(), StorePathError> {
    let bytes = base.as_bytes();
    if bytes.len() < HASH_PART_LEN {
        return Err(StorePathError::TooShort {
            path: base.to_string(),
        });
    }
    if let Some(position) = bytes[..HASH_PART_LEN]
        .iter()
        .position(|&b| !nix32::is_nix32_char(b))
    {
        let character = base
            .get(position..)
            .and_then(|s| s.chars().next())
            .unwrap_or(char::from(bytes[position]));
        return Err(StorePathError::InvalidHashChar {
            path: base.to_string(),
            character,
            position,
        });
    }
    match bytes.get(HASH_PART_LEN) {
        None => {
            return Err(StorePathError::EmptyName {
                path: base.to_string(),
            })
        }
        Some(b'-') => {}
        Some(_) => {
            return Err(StorePathError::MissingDash {
                path: base.to_string(),
            })
        }
    }
    name::check_name(&base[HASH_PART_LEN + 1..]).map_err(|e| StorePathError::from_name(base, e))
}

/// An owned store path, held as its base name `<hash>-<name>`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StorePath {
    base: String,
}

/// A borrowed store path (a validated base name).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StorePathRef<'a> {
    base: &'a str,
}

impl StorePath {
    /// Parses a base name `<32 nix32 chars>-<name>`.
    ///
    /// # Errors
    /// See [`StorePathError`]; the messages are CppNix's.
    pub fn from_base_name(base: &str) -> Result<StorePath, StorePathError> {
        check_base_name(base)?;
        Ok(StorePath {
            base: base.to_string(),
        })
    }

    /// Builds a path from its 20-byte hash and a name.
    ///
    /// # Errors
    /// An invalid name.
    pub fn from_hash_and_name(
        hash: &[u8; HASH_BYTES],
        name: &str,
    ) -> Result<StorePath, StorePathError> {
        let mut base = nix32::encode(hash);
        base.push('-');
        base.push_str(name);
        name::check_name(name).map_err(|e| StorePathError::from_name(&base, e))?;
        Ok(StorePath { base })
    }

    /// The 32-character nix32 hash part.
    pub fn hash_part(&self) -> &str {
        &self.base[..HASH_PART_LEN]
    }

    /// The name after `<hash>-`.
    pub fn name(&self) -> &str {
        &self.base[HASH_PART_LEN + 1..]
    }

    /// The 20 bytes the hash part encodes.
    pub fn hash_digest(&self) -> [u8; HASH_BYTES] {
        self.as_ref().hash_digest()
    }

    /// `<hash>-<name>`.
    pub fn to_base_name(&self) -> String {
        self.base.clone()
    }

    /// `<hash>-<name>` as a borrowed string.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// The borrowed form.
    pub fn as_ref(&self) -> StorePathRef<'_> {
        StorePathRef { base: &self.base }
    }
}

impl<'a> StorePathRef<'a> {
    /// Parses a base name `<32 nix32 chars>-<name>`.
    ///
    /// # Errors
    /// See [`StorePathError`].
    pub fn from_base_name(base: &'a str) -> Result<StorePathRef<'a>, StorePathError> {
        check_base_name(base)?;
        Ok(StorePathRef { base })
    }

    /// The 32-character nix32 hash part.
    pub fn hash_part(&self) -> &'a str {
        &self.base[..HASH_PART_LEN]
    }

    /// The name after `<hash>-`.
    pub fn name(&self) -> &'a str {
        &self.base[HASH_PART_LEN + 1..]
    }

    /// `<hash>-<name>`.
    pub fn as_str(&self) -> &'a str {
        self.base
    }

    /// The 20 bytes the hash part encodes.
    pub fn hash_digest(&self) -> [u8; HASH_BYTES] {
        let mut out = [0u8; HASH_BYTES];
        nix32::decode_into(self.hash_part().as_bytes(), &mut out)
            .expect("a validated hash part is 32 nix32 characters");
        out
    }

    /// The owned form.
    pub fn to_owned(&self) -> StorePath {
        StorePath {
            base: self.base.to_string(),
        }
    }
}

impl fmt::Display for StorePath {
    /// The base name `<hash>-<name>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)
    }
}

impl fmt::Display for StorePathRef<'_> {
    /// The base name `<hash>-<name>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.base)
    }
}

impl fmt::Debug for StorePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StorePath({:?})", self.base)
    }
}

impl fmt::Debug for StorePathRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StorePathRef({:?})", self.base)
    }
}

impl FromStr for StorePath {
    type Err = StorePathError;

    /// Parses a base name (not a full path: use [`StoreDir::parse_path`] for that).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StorePath::from_base_name(s)
    }
}

impl<'a> TryFrom<&'a str> for StorePathRef<'a> {
    type Error = StorePathError;

    fn try_from(s: &'a str) -> Result<Self, Self::Error> {
        StorePathRef::from_base_name(s)
    }
}

impl<'a> From<StorePathRef<'a>> for StorePath {
    fn from(p: StorePathRef<'a>) -> Self {
        p.to_owned()
    }
}

impl<'a> From<&'a StorePath> for StorePathRef<'a> {
    fn from(p: &'a StorePath) -> Self {
        p.as_ref()
    }
}

impl PartialEq<StorePathRef<'_>> for StorePath {
    fn eq(&self, other: &StorePathRef<'_>) -> bool {
        self.base == other.base
    }
}

impl PartialEq<StorePath> for StorePathRef<'_> {
    fn eq(&self, other: &StorePath) -> bool {
        self.base == other.base
    }
}

impl serde::Serialize for StorePath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.base)
    }
}

impl<'de> serde::Deserialize<'de> for StorePath {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        StorePath::from_base_name(&s).map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for StorePathRef<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "i9pmrzmpshapij2kin22pff6fc2adavx";

    #[test]
    fn errors_like_cppnix() {
        let e = |s: &str| {
            StorePath::from_base_name(s)
                .expect_err("invalid")
                .to_string()
        };
        assert_eq!(e("abc"), "'abc' is too short to be a valid store path");
        assert_eq!(
            e(&format!("{}e-x", &HASH[..31])),
            format!(
                "store path '{}e-x' contains illegal base-32 character 'e'",
                &HASH[..31]
            )
        );
        assert_eq!(
            e(&format!("{HASH}-")),
            format!("store path '{HASH}-' has an empty name")
        );
        assert_eq!(e(HASH), format!("store path '{HASH}' has an empty name"));
        assert_eq!(
            e(&format!("{HASH}-{}", "a".repeat(212))),
            format!(
                "store path '{HASH}-{}' has a name longer than 211 characters",
                "a".repeat(212)
            )
        );
        assert_eq!(
            e(&format!("{HASH}-a b")),
            format!("store path '{HASH}-a b' contains illegal character ' '")
        );
        assert!(matches!(
            StorePath::from_base_name(&format!("{HASH}_x")),
            Err(StorePathError::MissingDash { .. })
        ));
    }

    #[test]
    fn owned_and_borrowed_agree() {
        let s = format!("{HASH}-hello.txt");
        let owned = StorePath::from_base_name(&s).expect("valid");
        let borrowed = StorePathRef::from_base_name(&s).expect("valid");
        assert_eq!(owned, borrowed);
        assert_eq!(owned.as_ref(), borrowed);
        assert_eq!(borrowed.to_owned(), owned);
        assert_eq!(owned.hash_digest(), borrowed.hash_digest());
        let again =
            StorePath::from_hash_and_name(&owned.hash_digest(), "hello.txt").expect("valid");
        assert_eq!(again, owned);
    }
}
