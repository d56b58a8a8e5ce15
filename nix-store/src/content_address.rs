//! Content addresses: the `ca` field of the database, narinfo `CA:` and path-info JSON
//! (nix-facts §3).
//!
//! | form | meaning |
//! |---|---|
//! | `text:sha256:<nix32>` | a text path (`builtins.toFile`, `.drv`), hash of the contents |
//! | `fixed:<algo>:<nix32>` | a flat fixed-output path, hash of the file contents |
//! | `fixed:r:<algo>:<nix32>` | a recursive fixed-output path, hash of the NAR |
//!
//! Parsing accepts the digest in any encoding (recognised by length); printing uses nix32.
//!
//! # Example
//! ```
//! use std::collections::BTreeSet;
//! use nix_store::content_address::ContentAddress;
//! use nix_store::store_path::StoreDir;
//! let ca: ContentAddress = "fixed:sha256:00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq".parse()?;
//! let dir = StoreDir::default();
//! let p = ca.store_path(&dir, "hello.txt", &BTreeSet::new(), false)?;
//! assert_eq!(dir.display(&p), "/nix/store/gy454w1cxaq731grqwylhzf4pp9r5izh-hello.txt");
//! assert_eq!(ca.to_string(), "fixed:sha256:00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::hash::{Hash, HashAlgo, ParseHashError};
use crate::store_path::{StoreDir, StorePath, StorePathError};

/// How file system contents are turned into bytes to hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileIngestionMethod {
    /// The bytes of a single regular file.
    Flat,
    /// The NAR serialisation of a file system object.
    Recursive,
}

impl FileIngestionMethod {
    /// `""` for flat, `"r:"` for recursive (as in `fixed:r:sha256:…` and `r:sha256` hash algos).
    pub fn prefix(&self) -> &'static str {
        match self {
            FileIngestionMethod::Flat => "",
            FileIngestionMethod::Recursive => "r:",
        }
    }
}

/// A content address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ContentAddress {
    /// `text:sha256:…`: a text path; the hash (sha256) is of its contents.
    Text(Hash),
    /// `fixed:[r:]<algo>:…`: a fixed-output path.
    Fixed {
        /// Flat or recursive.
        method: FileIngestionMethod,
        /// The hash of the file bytes (flat) or NAR (recursive).
        hash: Hash,
    },
}

/// Why a content address string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContentAddressError {
    /// Neither `text:` nor `fixed:`.
    #[error("content address prefix of '{ca}' is unrecognized, recognized prefixes are 'text' and 'fixed'")]
    UnknownPrefix {
        /// The whole input.
        ca: String,
    },
    /// A `text:` address with another algorithm than sha256.
    #[error("text content address '{ca}' should use sha256, but uses {algo}")]
    TextNotSha256 {
        /// The whole input.
        ca: String,
        /// The algorithm found.
        algo: HashAlgo,
    },
    /// The hash part is invalid.
    #[error("invalid hash in content address '{ca}'")]
    Hash {
        /// The whole input.
        ca: String,
        /// What is wrong with the hash.
        #[source]
        source: ParseHashError,
    },
}

impl ContentAddress {
    /// The hash inside.
    pub fn hash(&self) -> &Hash {
        match self {
            ContentAddress::Text(h) => h,
            ContentAddress::Fixed { hash, .. } => hash,
        }
    }

    /// The store path this content address implies for `name` and `references`.
    ///
    /// # Errors
    /// An invalid name; references on a fixed-output path that is not recursive sha256; a
    /// self-reference on a text path.
    pub fn store_path(
        &self,
        store_dir: &StoreDir,
        name: &str,
        references: &BTreeSet<StorePath>,
        self_ref: bool,
    ) -> Result<StorePath, StorePathError> {
        match self {
            ContentAddress::Text(hash) => {
                if self_ref {
                    return Err(StorePathError::TextSelfReference {
                        name: name.to_string(),
                    });
                }
                store_dir.make_text_path(name, hash, references)
            }
            ContentAddress::Fixed { method, hash } => {
                store_dir.make_fixed_output_path(name, *method, hash, references, self_ref)
            }
        }
    }
}

impl fmt::Display for ContentAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContentAddress::Text(h) => write!(f, "text:{}", h.to_typed_nix32()),
            ContentAddress::Fixed { method, hash } => {
                write!(f, "fixed:{}{}", method.prefix(), hash.to_typed_nix32())
            }
        }
    }
}

impl FromStr for ContentAddress {
    type Err = ContentAddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hash_err = |source| ContentAddressError::Hash {
            ca: s.to_string(),
            source,
        };
        // The hash must be `<algo>:<digest>` (not SRI).
        let parse_typed = |rest: &str| -> Result<Hash, ContentAddressError> {
            let Some((algo, digest)) = rest.split_once(':') else {
                return Err(hash_err(ParseHashError::MissingAlgo {
                    hash: rest.to_string(),
                }));
            };
            let algo = algo.parse::<HashAlgo>().map_err(|e| {
                hash_err(ParseHashError::UnknownAlgo {
                    hash: rest.to_string(),
                    name: e.name,
                })
            })?;
            Hash::parse_bare(digest, algo).map_err(hash_err)
        };
        if let Some(rest) = s.strip_prefix("text:") {
            let hash = parse_typed(rest)?;
            if hash.algo() != HashAlgo::Sha256 {
                return Err(ContentAddressError::TextNotSha256 {
                    ca: s.to_string(),
                    algo: hash.algo(),
                });
            }
            Ok(ContentAddress::Text(hash))
        } else if let Some(rest) = s.strip_prefix("fixed:") {
            let (method, rest) = match rest.strip_prefix("r:") {
                Some(rest) => (FileIngestionMethod::Recursive, rest),
                None => (FileIngestionMethod::Flat, rest),
            };
            Ok(ContentAddress::Fixed {
                method,
                hash: parse_typed(rest)?,
            })
        } else {
            Err(ContentAddressError::UnknownPrefix { ca: s.to_string() })
        }
    }
}

impl serde::Serialize for ContentAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ContentAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn errors() {
        assert!(matches!(
            "foo:sha256:x".parse::<ContentAddress>(),
            Err(ContentAddressError::UnknownPrefix { .. })
        ));
        let md5 = Hash::digest_bytes(HashAlgo::Md5, b"");
        assert!(matches!(
            format!("text:{}", md5.to_typed_nix32()).parse::<ContentAddress>(),
            Err(ContentAddressError::TextNotSha256 { .. })
        ));
        assert!(matches!(
            "fixed:sha256:abc".parse::<ContentAddress>(),
            Err(ContentAddressError::Hash { .. })
        ));
        // base16 digests are accepted too
        let h = Hash::digest_bytes(HashAlgo::Sha1, b"x");
        let ca: ContentAddress = format!("fixed:r:{}", h.to_typed_base16())
            .parse()
            .expect("valid");
        assert_eq!(
            ca,
            ContentAddress::Fixed {
                method: FileIngestionMethod::Recursive,
                hash: h
            }
        );
    }

    proptest! {
        #[test]
        fn roundtrip(algo in prop::sample::select(HashAlgo::ALL.to_vec()),
                     data in prop::collection::vec(any::<u8>(), 0..16),
                     kind in 0..3u8) {
            let hash = Hash::digest_bytes(if kind == 0 { HashAlgo::Sha256 } else { algo }, &data);
            let ca = match kind {
                0 => ContentAddress::Text(hash),
                1 => ContentAddress::Fixed { method: FileIngestionMethod::Flat, hash },
                _ => ContentAddress::Fixed { method: FileIngestionMethod::Recursive, hash },
            };
            let s = ca.to_string();
            prop_assert_eq!(s.parse::<ContentAddress>().expect("parses"), ca);
        }
    }
}
