//! Base-64 digests and Subresource Integrity (SRI) strings, `<algo>-<base64>`.
//!
//! # Example
//! ```
//! use nix_store::hash::{Hash, HashAlgo};
//! let h = Hash::digest_bytes(HashAlgo::Sha256, b"hello\n");
//! assert_eq!(h.to_sri(), "sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=");
//! assert_eq!(Hash::parse_any(&h.to_sri())?, h);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::LazyLock;

use data_encoding::{DecodeKind, Encoding, BASE64};

/// Standard padded base 64 that, like CppNix, ignores non-zero trailing bits.
static BASE64_LENIENT: LazyLock<Encoding> = LazyLock::new(|| {
    let mut spec = BASE64.specification();
    spec.check_trailing_bits = false;
    spec.encoding().expect("a valid base-64 specification")
});

/// Why a base-64 string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Base64Error {
    /// A character that is neither in the alphabet nor padding.
    #[error("invalid character {character:?} in base-64 at position {position}")]
    InvalidChar {
        /// The character.
        character: char,
        /// Its byte offset.
        position: usize,
    },
    /// Bad length or padding.
    #[error("invalid base-64 length or padding at position {position}")]
    Invalid {
        /// Byte offset of the problem.
        position: usize,
    },
}

/// Encodes bytes as padded standard base 64.
pub fn encode_base64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

/// Decodes padded standard base 64 (non-zero trailing bits are ignored, as CppNix does).
///
/// # Errors
/// A character outside the alphabet, a bad length or bad padding, with its position.
pub fn decode_base64(s: &str) -> Result<Vec<u8>, Base64Error> {
    BASE64_LENIENT.decode(s.as_bytes()).map_err(|e| {
        let position = e.position;
        match (e.kind, s.get(position..).and_then(|r| r.chars().next())) {
            (DecodeKind::Symbol, Some(character)) if character != '=' => Base64Error::InvalidChar {
                character,
                position,
            },
            _ => Base64Error::Invalid { position },
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bad_base64() {
        assert_eq!(
            decode_base64("ab!d"),
            Err(Base64Error::InvalidChar {
                character: '!',
                position: 2
            })
        );
        assert!(matches!(
            decode_base64("ab="),
            Err(Base64Error::Invalid { .. })
        ));
        // non-canonical trailing bits are accepted, as by CppNix
        assert_eq!(decode_base64("AB=="), decode_base64("AA=="));
    }

    proptest! {
        #[test]
        fn roundtrip(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            prop_assert_eq!(decode_base64(&encode_base64(&bytes)).expect("decodes"), bytes);
        }
    }
}
