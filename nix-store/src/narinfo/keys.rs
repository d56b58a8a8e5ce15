//! Ed25519 signing keys in CppNix's `name:base64` form (nix-facts §5).
//!
//! * secret key: `NAME:base64(64 bytes = 32-byte seed ‖ 32-byte public key)`
//! * public key: `NAME:base64(32 bytes)`
//!
//! These are the files `nix-store --generate-binary-cache-key NAME SK PK` writes (no trailing
//! newline) and the entries of the `trusted-public-keys` setting.
//!
//! # Example
//! ```
//! use nix_store::narinfo::keys::{PublicKeys, SecretKey};
//! let sk = SecretKey::generate("cache.example.org-1");
//! let pk = sk.to_public();
//! let sig = sk.sign(b"some fingerprint");
//! assert!(pk.verify(b"some fingerprint", &sig));
//! let trusted = PublicKeys::parse_list(&pk.to_string())?;
//! assert!(trusted.verify(b"some fingerprint", &sig.to_string()));
//! let again: SecretKey = sk.to_string().parse()?;
//! assert_eq!(again.to_public(), pk);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

use super::signature::Signature;
use crate::hash::sri::{decode_base64, encode_base64};

/// Why a key could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// No `:`, an empty name or an empty key (CppNix: "secret key is corrupt").
    #[error("{kind} key is corrupt: expected NAME:BASE64")]
    Corrupt {
        /// `"secret"` or `"public"`.
        kind: &'static str,
    },
    /// The key is not base 64.
    #[error("{kind} key is not valid base 64 (at position {position} of the key)")]
    Base64 {
        /// `"secret"` or `"public"`.
        kind: &'static str,
        /// Byte offset in the base-64 text.
        position: usize,
    },
    /// The key has the wrong size (CppNix: "secret key is not valid").
    #[error("{kind} key is not valid: {len} bytes instead of {expected}")]
    Length {
        /// `"secret"` or `"public"`.
        kind: &'static str,
        /// Bytes found.
        len: usize,
        /// Bytes required.
        expected: usize,
    },
    /// The public half of a secret key does not belong to its seed, or a public key is not a
    /// curve point.
    #[error("{kind} key is not a valid ed25519 key")]
    Invalid {
        /// `"secret"` or `"public"`.
        kind: &'static str,
    },
}

fn split_key<'a>(s: &'a str, kind: &'static str) -> Result<(&'a str, Vec<u8>), KeyError> {
    let (name, key) = s.split_once(':').ok_or(KeyError::Corrupt { kind })?;
    if name.is_empty() || key.is_empty() {
        return Err(KeyError::Corrupt { kind });
    }
    let bytes = decode_base64(key).map_err(|e| KeyError::Base64 {
        kind,
        position: base64_position(&e),
    })?;
    Ok((name, bytes))
}

/// The byte offset a base-64 error points at.
pub(crate) fn base64_position(e: &crate::hash::Base64Error) -> usize {
    match e {
        crate::hash::Base64Error::InvalidChar { position, .. }
        | crate::hash::Base64Error::Invalid { position } => *position,
    }
}

/// An ed25519 secret key with its name.
#[derive(Clone)]
pub struct SecretKey {
    name: String,
    key: SigningKey,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl SecretKey {
    /// A fresh random key from the operating system's random number generator.
    pub fn generate(name: impl Into<String>) -> SecretKey {
        SecretKey {
            name: name.into(),
            key: SigningKey::generate(&mut rand::rngs::OsRng),
        }
    }

    /// A key from its 32-byte seed.
    pub fn from_seed(name: impl Into<String>, seed: &[u8; 32]) -> SecretKey {
        SecretKey {
            name: name.into(),
            key: SigningKey::from_bytes(seed),
        }
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The matching public key.
    pub fn to_public(&self) -> PublicKey {
        PublicKey {
            name: self.name.clone(),
            key: self.key.verifying_key(),
        }
    }

    /// Signs `data` (a fingerprint) and returns `name:signature`.
    pub fn sign(&self, data: &[u8]) -> Signature {
        Signature::new(self.name.clone(), self.key.sign(data).to_bytes())
    }
}

impl fmt::Display for SecretKey {
    /// `name:base64(seed ‖ public key)`, the key file format.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}",
            self.name,
            encode_base64(&self.key.to_keypair_bytes())
        )
    }
}

impl FromStr for SecretKey {
    type Err = KeyError;

    /// Parses a key file's contents (surrounding white space is ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const KIND: &str = "secret";
        let (name, bytes) = split_key(s.trim(), KIND)?;
        let bytes: [u8; 64] = bytes.as_slice().try_into().map_err(|_| KeyError::Length {
            kind: KIND,
            len: bytes.len(),
            expected: 64,
        })?;
        let key =
            SigningKey::from_keypair_bytes(&bytes).map_err(|_| KeyError::Invalid { kind: KIND })?;
        Ok(SecretKey {
            name: name.to_string(),
            key,
        })
    }
}

/// An ed25519 public key with its name.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    name: String,
    key: VerifyingKey,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl PublicKey {
    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 32 key bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Whether `sig` is a valid signature of `data` by this key (names must match too).
    pub fn verify(&self, data: &[u8], sig: &Signature) -> bool {
        sig.key_name() == self.name
            && self
                .key
                .verify_strict(data, &ed25519_dalek::Signature::from_bytes(sig.bytes()))
                .is_ok()
    }
}

impl fmt::Display for PublicKey {
    /// `name:base64(32 bytes)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.name, encode_base64(self.key.as_bytes()))
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;

    /// Parses `name:base64` (surrounding white space is ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const KIND: &str = "public";
        let (name, bytes) = split_key(s.trim(), KIND)?;
        let bytes: [u8; 32] = bytes.as_slice().try_into().map_err(|_| KeyError::Length {
            kind: KIND,
            len: bytes.len(),
            expected: 32,
        })?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::Invalid { kind: KIND })?;
        Ok(PublicKey {
            name: name.to_string(),
            key,
        })
    }
}

/// A set of trusted public keys, by name (CppNix's `PublicKeys`; a later key with the same name
/// replaces an earlier one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublicKeys {
    keys: BTreeMap<String, PublicKey>,
}

impl PublicKeys {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a white-space separated list, like the `trusted-public-keys` setting.
    ///
    /// # Errors
    /// The first invalid key.
    pub fn parse_list(s: &str) -> Result<Self, KeyError> {
        let mut keys = PublicKeys::new();
        for k in s.split_whitespace() {
            keys.insert(k.parse()?);
        }
        Ok(keys)
    }

    /// Adds (or replaces) a key.
    pub fn insert(&mut self, key: PublicKey) {
        self.keys.insert(key.name.clone(), key);
    }

    /// The key with this name.
    pub fn get(&self, name: &str) -> Option<&PublicKey> {
        self.keys.get(name)
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// CppNix's `verifyDetached`: whether `sig` (`name:base64`) is a valid signature of `data`
    /// by the key of that name. Unparsable signatures and unknown names give `false`.
    pub fn verify(&self, data: &[u8], sig: &str) -> bool {
        let Ok(sig) = sig.parse::<Signature>() else {
            return false;
        };
        self.get(sig.key_name())
            .is_some_and(|k| k.verify(data, &sig))
    }
}

impl FromIterator<PublicKey> for PublicKeys {
    fn from_iter<I: IntoIterator<Item = PublicKey>>(iter: I) -> Self {
        let mut keys = PublicKeys::new();
        for k in iter {
            keys.insert(k);
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors() {
        assert_eq!(
            "nocolon".parse::<SecretKey>().err(),
            Some(KeyError::Corrupt { kind: "secret" })
        );
        assert_eq!(
            ":abcd".parse::<PublicKey>().err(),
            Some(KeyError::Corrupt { kind: "public" })
        );
        assert!(matches!(
            "k:!!!!".parse::<PublicKey>(),
            Err(KeyError::Base64 { .. })
        ));
        assert!(matches!(
            "k:AAAA".parse::<PublicKey>(),
            Err(KeyError::Length { len: 3, .. })
        ));
    }

    #[test]
    fn mismatched_public_half_is_rejected() {
        let a = SecretKey::generate("a");
        let b = SecretKey::generate("a");
        let mut bytes = a.key.to_keypair_bytes();
        bytes[32..].copy_from_slice(&b.key.verifying_key().to_bytes());
        let text = format!("a:{}", encode_base64(&bytes));
        assert_eq!(
            text.parse::<SecretKey>().err(),
            Some(KeyError::Invalid { kind: "secret" })
        );
    }

    #[test]
    fn wrong_name_or_data_fails() {
        let sk = SecretKey::generate("a");
        let sig = sk.sign(b"x");
        let other = SecretKey::from_seed("b", &sk.key.to_bytes()).to_public();
        assert!(!other.verify(b"x", &sig));
        assert!(!sk.to_public().verify(b"y", &sig));
    }
}
