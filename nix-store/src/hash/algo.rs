//! The hash algorithms Nix knows.

use std::fmt;
use std::str::FromStr;

use super::nix32;

/// A hash algorithm: `md5`, `sha1`, `sha256` or `sha512`.
///
/// # Example
/// ```
/// use nix_store::hash::HashAlgo;
/// let algo: HashAlgo = "sha256".parse()?;
/// assert_eq!(algo, HashAlgo::Sha256);
/// assert_eq!(algo.name(), "sha256");
/// assert_eq!(algo.digest_len(), 32);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HashAlgo {
    /// MD5 (16 bytes).
    Md5,
    /// SHA-1 (20 bytes).
    Sha1,
    /// SHA-256 (32 bytes).
    Sha256,
    /// SHA-512 (64 bytes).
    Sha512,
}

/// An unknown hash algorithm name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown hash algorithm '{name}'")]
pub struct UnknownHashAlgo {
    /// The name that was given.
    pub name: String,
}

impl HashAlgo {
    /// All algorithms, in CppNix's order.
    pub const ALL: [HashAlgo; 4] = [
        HashAlgo::Md5,
        HashAlgo::Sha1,
        HashAlgo::Sha256,
        HashAlgo::Sha512,
    ];

    /// The name Nix uses (`md5`, `sha1`, `sha256`, `sha512`).
    pub fn name(&self) -> &'static str {
        match self {
            HashAlgo::Md5 => "md5",
            HashAlgo::Sha1 => "sha1",
            HashAlgo::Sha256 => "sha256",
            HashAlgo::Sha512 => "sha512",
        }
    }

    /// The digest length in bytes.
    pub const fn digest_len(&self) -> usize {
        match self {
            HashAlgo::Md5 => 16,
            HashAlgo::Sha1 => 20,
            HashAlgo::Sha256 => 32,
            HashAlgo::Sha512 => 64,
        }
    }

    /// The length of the digest in base 16.
    pub const fn base16_len(&self) -> usize {
        self.digest_len() * 2
    }

    /// The length of the digest in nix32.
    pub const fn nix32_len(&self) -> usize {
        nix32::encoded_len(self.digest_len())
    }

    /// The length of the digest in padded base 64.
    pub const fn base64_len(&self) -> usize {
        self.digest_len().div_ceil(3) * 4
    }
}

impl fmt::Display for HashAlgo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for HashAlgo {
    type Err = UnknownHashAlgo;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "md5" => HashAlgo::Md5,
            "sha1" => HashAlgo::Sha1,
            "sha256" => HashAlgo::Sha256,
            "sha512" => HashAlgo::Sha512,
            _ => {
                return Err(UnknownHashAlgo {
                    name: s.to_string(),
                })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_match_the_table() {
        let table = [
            (HashAlgo::Md5, 32, 26, 24),
            (HashAlgo::Sha1, 40, 32, 28),
            (HashAlgo::Sha256, 64, 52, 44),
            (HashAlgo::Sha512, 128, 103, 88),
        ];
        for (algo, b16, n32, b64) in table {
            assert_eq!(
                (algo.base16_len(), algo.nix32_len(), algo.base64_len()),
                (b16, n32, b64)
            );
            assert_eq!(algo.name().parse::<HashAlgo>(), Ok(algo));
        }
        assert!("sha3".parse::<HashAlgo>().is_err());
    }
}
