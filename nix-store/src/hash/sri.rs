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

use data_encoding::BASE64;

/// Why a base-64 string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Base64Error {
    /// Not valid padded base 64 (bad character, length or padding).
    #[error("invalid base-64 at position {position}")]
    Invalid {
        /// Byte offset of the problem.
        position: usize,
    },
}

/// Encodes bytes as padded standard base 64.
pub fn encode_base64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

/// Decodes padded standard base 64.
///
/// # Errors
/// A character outside the alphabet, a bad length or bad padding, with its position.
pub fn decode_base64(s: &str) -> Result<Vec<u8>, Base64Error> {
    BASE64
        .decode(s.as_bytes())
        .map_err(|e| Base64Error::Invalid {
            position: e.position,
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
            Err(Base64Error::Invalid { position: 2 })
        );
    }

    proptest! {
        #[test]
        fn roundtrip(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            prop_assert_eq!(decode_base64(&encode_base64(&bytes)).expect("decodes"), bytes);
        }
    }
}
