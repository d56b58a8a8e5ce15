//! Detached signatures `<key name>:<base64 of 64 bytes>`, as in narinfo `Sig:` lines.

use std::fmt;
use std::str::FromStr;

use crate::hash::sri::{decode_base64, encode_base64};

/// A named ed25519 signature.
///
/// # Example
/// ```
/// use nix_store::narinfo::signature::Signature;
/// let text = "test-key-1:Grgf265NhJVtPd6dBy3uOyNbOF8eubk9L9JIPHLd2hEW4s56Qw1GHVg9RY4LcWdPdjYzbXy/N7nqioBy4Sk7Dw==";
/// let sig: Signature = text.parse()?;
/// assert_eq!(sig.key_name(), "test-key-1");
/// assert_eq!(sig.to_string(), text);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Signature {
    key_name: String,
    bytes: [u8; 64],
}

/// Why a signature string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// No `:` or an empty key name.
    #[error("signature '{sig}' is not of the form NAME:BASE64")]
    Corrupt {
        /// The input.
        sig: String,
    },
    /// Not base 64.
    #[error("signature '{sig}' is not valid base 64 (at position {position} after the name)")]
    Base64 {
        /// The input.
        sig: String,
        /// Byte offset in the base-64 text.
        position: usize,
    },
    /// Not 64 bytes.
    #[error("signature '{sig}' has {len} bytes instead of 64")]
    Length {
        /// The input.
        sig: String,
        /// Bytes found.
        len: usize,
    },
}

impl Signature {
    /// A signature from its parts.
    pub fn new(key_name: String, bytes: [u8; 64]) -> Signature {
        Signature { key_name, bytes }
    }

    /// The name of the key that made it.
    pub fn key_name(&self) -> &str {
        &self.key_name
    }

    /// The 64 signature bytes.
    pub fn bytes(&self) -> &[u8; 64] {
        &self.bytes
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.key_name, encode_base64(&self.bytes))
    }
}

impl FromStr for Signature {
    type Err = SignatureError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, b64) = match s.split_once(':') {
            Some((n, b)) if !n.is_empty() => (n, b),
            _ => return Err(SignatureError::Corrupt { sig: s.to_string() }),
        };
        let bytes = decode_base64(b64).map_err(|e| SignatureError::Base64 {
            sig: s.to_string(),
            position: super::keys::base64_position(&e),
        })?;
        let bytes: [u8; 64] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| SignatureError::Length {
                sig: s.to_string(),
                len: bytes.len(),
            })?;
        Ok(Signature {
            key_name: name.to_string(),
            bytes,
        })
    }
}
