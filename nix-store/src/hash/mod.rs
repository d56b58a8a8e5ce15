//! Cryptographic hashes as Nix prints and parses them (nix-facts §1).
//!
//! A [`Hash`] is an algorithm ([`HashAlgo`]) plus its digest. It has one method per textual
//! form and no `Display`, because Nix uses several forms and none is the obvious one:
//!
//! | method | example (sha256 of `hello\n`) |
//! |---|---|
//! | [`Hash::to_base16`] | `5891b5b5…f6be03` |
//! | [`Hash::to_nix32`] | `00xyyr3f…svb4aq` (Nix's base-32, see [`nix32`]) |
//! | [`Hash::to_base64`] | `WJG1tSLV…Eb2vgM=` |
//! | [`Hash::to_sri`] | `sha256-WJG1tSLV…Eb2vgM=` |
//! | [`Hash::to_typed_nix32`] | `sha256:00xyyr3f…svb4aq` (narinfo, `ca`) |
//! | [`Hash::to_typed_base16`] | `sha256:5891b5b5…f6be03` (database, store path fingerprints) |
//!
//! Parsing ([`Hash::parse_any`], [`Hash::parse_with_algo`]) recognises the encoding of a digest
//! by its **length**, as CppNix does.
//!
//! # Example
//! ```
//! use nix_store::hash::{Hash, HashAlgo};
//! let h = Hash::digest_bytes(HashAlgo::Sha256, b"hello\n");
//! assert_eq!(h.to_typed_nix32(), "sha256:00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq");
//! assert_eq!(Hash::parse_any("sha256:00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq")?, h);
//! assert_eq!(Hash::parse_with_algo(&h.to_base16(), HashAlgo::Sha256)?, h);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod algo;
pub mod base16;
mod hasher;
pub mod nix32;
pub mod sri;

use std::fmt;

pub use algo::{HashAlgo, UnknownHashAlgo};
pub use base16::Base16Error;
pub use hasher::Hasher;
pub use nix32::Nix32Error;
pub use sri::Base64Error;

/// The largest digest (sha512).
const MAX_DIGEST: usize = 64;

/// A digest together with its algorithm.
///
/// Equality, ordering and hashing compare the algorithm, then the digest bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hash {
    algo: HashAlgo,
    bytes: [u8; MAX_DIGEST],
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_typed_base16())
    }
}

/// Why a hash string (or a digest) was rejected.
///
/// As in CppNix, errors about the algorithm show the whole input, and errors about the digest
/// show the digest text (after any `algo:`/`algo-` prefix).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseHashError {
    /// The algorithm name is unknown.
    #[error("unknown hash algorithm '{name}'")]
    UnknownAlgo {
        /// The whole input.
        hash: String,
        /// The algorithm name given.
        name: String,
    },
    /// A bare digest where a typed hash (`algo:…` or SRI) is required.
    #[error("hash '{hash}' does not include a type")]
    MissingAlgo {
        /// The whole input.
        hash: String,
    },
    /// The hash names another algorithm than the one required.
    #[error("hash '{hash}' should have type '{expected}'")]
    AlgoMismatch {
        /// The whole input.
        hash: String,
        /// The required algorithm.
        expected: HashAlgo,
        /// The algorithm the input names.
        found: HashAlgo,
    },
    /// The digest text has a length that is no encoding of a digest of this algorithm.
    #[error("hash '{hash}' has wrong length for hash type '{algo}'")]
    WrongLength {
        /// The digest text.
        hash: String,
        /// The algorithm.
        algo: HashAlgo,
        /// The length of the digest text.
        len: usize,
    },
    /// Bad base-16 digest.
    #[error("invalid base-16 hash '{hash}'")]
    InvalidBase16 {
        /// The digest text.
        hash: String,
        /// What and where.
        #[source]
        source: Base16Error,
    },
    /// Bad nix32 digest.
    #[error("invalid base-32 hash '{hash}'")]
    InvalidNix32 {
        /// The digest text.
        hash: String,
        /// What and where.
        #[source]
        source: Nix32Error,
    },
    /// Bad base-64 digest.
    #[error("invalid base-64 hash '{hash}'")]
    InvalidBase64 {
        /// The digest text.
        hash: String,
        /// What and where.
        #[source]
        source: Base64Error,
    },
    /// An SRI hash whose digest does not decode to the right length.
    #[error("invalid SRI hash '{hash}'")]
    InvalidSri {
        /// The digest text.
        hash: String,
    },
    /// [`Hash::new`] got a digest of the wrong size.
    #[error("a {algo} digest has {expected} bytes, not {len}")]
    DigestLength {
        /// The algorithm.
        algo: HashAlgo,
        /// Its digest size.
        expected: usize,
        /// The size given.
        len: usize,
    },
}

impl Hash {
    /// A hash from a raw digest.
    ///
    /// # Errors
    /// [`ParseHashError::DigestLength`] if `digest` is not `algo.digest_len()` bytes.
    pub fn new(algo: HashAlgo, digest: &[u8]) -> Result<Hash, ParseHashError> {
        if digest.len() != algo.digest_len() {
            return Err(ParseHashError::DigestLength {
                algo,
                expected: algo.digest_len(),
                len: digest.len(),
            });
        }
        let mut bytes = [0u8; MAX_DIGEST];
        bytes[..digest.len()].copy_from_slice(digest);
        Ok(Hash { algo, bytes })
    }

    /// Hashes `data` with `algo`.
    pub fn digest_bytes(algo: HashAlgo, data: &[u8]) -> Hash {
        let mut h = Hasher::new(algo);
        h.update(data);
        h.finish()
    }

    /// The algorithm.
    pub fn algo(&self) -> HashAlgo {
        self.algo
    }

    /// The digest bytes (`algo().digest_len()` of them).
    pub fn digest(&self) -> &[u8] {
        &self.bytes[..self.algo.digest_len()]
    }

    /// Lower-case hex.
    pub fn to_base16(&self) -> String {
        base16::encode(self.digest())
    }

    /// Nix's base 32.
    pub fn to_nix32(&self) -> String {
        nix32::encode(self.digest())
    }

    /// Padded standard base 64.
    pub fn to_base64(&self) -> String {
        sri::encode_base64(self.digest())
    }

    /// `<algo>-<base64>`.
    pub fn to_sri(&self) -> String {
        format!("{}-{}", self.algo, self.to_base64())
    }

    /// `<algo>:<nix32>`, the form of narinfo `NarHash` and content addresses.
    pub fn to_typed_nix32(&self) -> String {
        format!("{}:{}", self.algo, self.to_nix32())
    }

    /// `<algo>:<base16>`, the form of the database `hash` column and store path fingerprints.
    pub fn to_typed_base16(&self) -> String {
        format!("{}:{}", self.algo, self.to_base16())
    }

    /// `<algo>:<base64>`.
    pub fn to_typed_base64(&self) -> String {
        format!("{}:{}", self.algo, self.to_base64())
    }

    /// CppNix's `compressHash`: XOR-folds the digest into `size` bytes (`out[i % size] ^= d[i]`).
    /// Store paths use 20 bytes of a sha256.
    ///
    /// # Panics
    /// If `size` is 0 (a caller bug).
    pub fn compress(&self, size: usize) -> Vec<u8> {
        compress_digest(self.digest(), size)
    }

    /// Parses `<algo>:<digest>` (digest in base 16, nix32 or base 64, recognised by length) or
    /// SRI `<algo>-<base64>`.
    ///
    /// # Errors
    /// A missing or unknown algorithm, a wrong length, or a bad character (see
    /// [`ParseHashError`]).
    pub fn parse_any(s: &str) -> Result<Hash, ParseHashError> {
        match split_prefix(s)? {
            Some((algo, rest, sri)) => decode_digest(rest, algo, sri),
            None => Err(ParseHashError::MissingAlgo {
                hash: s.to_string(),
            }),
        }
    }

    /// Parses a digest of a known algorithm: bare (any encoding, recognised by length), or one of
    /// the prefixed forms [`Hash::parse_any`] takes if they name the same algorithm.
    ///
    /// # Errors
    /// As [`Hash::parse_any`], plus [`ParseHashError::AlgoMismatch`].
    pub fn parse_with_algo(s: &str, algo: HashAlgo) -> Result<Hash, ParseHashError> {
        match split_prefix(s)? {
            Some((found, rest, sri)) => {
                if found != algo {
                    return Err(ParseHashError::AlgoMismatch {
                        hash: s.to_string(),
                        expected: algo,
                        found,
                    });
                }
                decode_digest(rest, algo, sri)
            }
            None => decode_digest(s, algo, false),
        }
    }

    /// Parses a bare digest (no prefix) of a known algorithm, in any encoding.
    ///
    /// # Errors
    /// A wrong length or a bad character.
    pub fn parse_bare(s: &str, algo: HashAlgo) -> Result<Hash, ParseHashError> {
        decode_digest(s, algo, false)
    }
}

/// CppNix's `compressHash` over raw bytes: `out[i % size] ^= digest[i]`.
///
/// # Panics
/// If `size` is 0 (a caller bug).
pub fn compress_digest(digest: &[u8], size: usize) -> Vec<u8> {
    assert!(size > 0, "cannot compress a digest to 0 bytes");
    let mut out = vec![0u8; size];
    for (i, b) in digest.iter().enumerate() {
        out[i % size] ^= b;
    }
    out
}

/// Splits `algo:rest` or `algo-rest` (SRI). `None` if there is no prefix.
fn split_prefix(s: &str) -> Result<Option<(HashAlgo, &str, bool)>, ParseHashError> {
    let (name, rest, sri) = if let Some((name, rest)) = s.split_once(':') {
        (name, rest, false)
    } else if let Some((name, rest)) = s.split_once('-') {
        (name, rest, true)
    } else {
        return Ok(None);
    };
    let algo = name
        .parse::<HashAlgo>()
        .map_err(|_| ParseHashError::UnknownAlgo {
            hash: s.to_string(),
            name: name.to_string(),
        })?;
    Ok(Some((algo, rest, sri)))
}

/// Decodes the digest text `rest` (the part of the input after any prefix).
fn decode_digest(rest: &str, algo: HashAlgo, sri: bool) -> Result<Hash, ParseHashError> {
    let len = rest.len();
    let hash = || rest.to_string();
    let digest = if sri {
        let d = sri::decode_base64(rest).map_err(|source| match source {
            Base64Error::InvalidChar { .. } => ParseHashError::InvalidBase64 {
                hash: hash(),
                source,
            },
            Base64Error::Invalid { .. } => ParseHashError::InvalidSri { hash: hash() },
        })?;
        if d.len() != algo.digest_len() {
            return Err(ParseHashError::InvalidSri { hash: hash() });
        }
        d
    } else if len == algo.base16_len() {
        base16::decode(rest).map_err(|source| ParseHashError::InvalidBase16 {
            hash: hash(),
            source,
        })?
    } else if len == algo.nix32_len() {
        nix32::decode(rest).map_err(|source| ParseHashError::InvalidNix32 {
            hash: hash(),
            source,
        })?
    } else if len == algo.base64_len() {
        let d = sri::decode_base64(rest).map_err(|source| ParseHashError::InvalidBase64 {
            hash: hash(),
            source,
        })?;
        if d.len() != algo.digest_len() {
            return Err(ParseHashError::InvalidBase64 {
                hash: hash(),
                source: Base64Error::Invalid { position: len },
            });
        }
        d
    } else {
        return Err(ParseHashError::WrongLength {
            hash: hash(),
            algo,
            len,
        });
    };
    Hash::new(algo, &digest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_hash() -> impl Strategy<Value = Hash> {
        (
            prop::sample::select(HashAlgo::ALL.to_vec()),
            prop::collection::vec(any::<u8>(), 64),
        )
            .prop_map(|(algo, bytes)| {
                Hash::new(algo, &bytes[..algo.digest_len()]).expect("right length")
            })
    }

    #[test]
    fn errors() {
        assert!(matches!(
            Hash::parse_any("abc"),
            Err(ParseHashError::MissingAlgo { .. })
        ));
        assert!(matches!(
            Hash::parse_any("sha3:abc"),
            Err(ParseHashError::UnknownAlgo { .. })
        ));
        assert!(matches!(
            Hash::parse_any("sha256:abc"),
            Err(ParseHashError::WrongLength { len: 3, .. })
        ));
        assert!(matches!(
            Hash::parse_with_algo("sha1:abc", HashAlgo::Sha256),
            Err(ParseHashError::AlgoMismatch {
                found: HashAlgo::Sha1,
                ..
            })
        ));
        let bad = format!("sha1:{}", "z".repeat(39) + "!");
        assert!(matches!(
            Hash::parse_any(&bad),
            Err(ParseHashError::InvalidBase16 { .. })
        ));
        assert!(matches!(
            Hash::parse_any("sha256-abc"),
            Err(ParseHashError::InvalidSri { .. })
        ));
        assert!(Hash::new(HashAlgo::Md5, &[0; 3]).is_err());
    }

    #[test]
    fn compress() {
        let h = Hash::new(HashAlgo::Sha256, &[1u8; 32]).expect("32 bytes");
        // bytes 0..12 are xored twice (1^1 = 0), 12..20 once.
        let c = h.compress(20);
        assert_eq!(&c[..12], &[0u8; 12]);
        assert_eq!(&c[12..], &[1u8; 8]);
    }

    proptest! {
        #[test]
        fn roundtrip_every_form(h in any_hash()) {
            for s in [h.to_typed_nix32(), h.to_typed_base16(), h.to_typed_base64(), h.to_sri(),
                      h.to_typed_base16().to_uppercase().replacen(&h.algo().name().to_uppercase(), h.algo().name(), 1)] {
                prop_assert_eq!(Hash::parse_any(&s).expect("parses"), h);
                prop_assert_eq!(Hash::parse_with_algo(&s, h.algo()).expect("parses"), h);
            }
            for s in [h.to_nix32(), h.to_base16(), h.to_base64()] {
                prop_assert_eq!(Hash::parse_with_algo(&s, h.algo()).expect("parses"), h);
            }
        }
    }
}
