//! Base-16 (hexadecimal): lower case on output, either case on input (as CppNix).
//!
//! # Example
//! ```
//! use nix_store::hash::base16;
//! assert_eq!(base16::encode(&[0xab, 0x01]), "ab01");
//! assert_eq!(base16::decode("AB01")?, vec![0xab, 0x01]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Why a base-16 string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Base16Error {
    /// A character that is not a hex digit.
    #[error("invalid base-16 character {character:?} at position {position}")]
    InvalidChar {
        /// The offending character.
        character: char,
        /// Its byte offset.
        position: usize,
    },
    /// An odd number of characters.
    #[error("invalid base-16 length {len}")]
    OddLength {
        /// The input length.
        len: usize,
    },
}

/// Encodes bytes as lower-case hex.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 0xf) as usize] as char);
    }
    out
}

fn value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes hex (either case).
///
/// # Errors
/// An odd length or a non-hex character (with its position).
pub fn decode(s: &str) -> Result<Vec<u8>, Base16Error> {
    let input = s.as_bytes();
    if input.len() % 2 != 0 {
        return Err(Base16Error::OddLength { len: input.len() });
    }
    let mut out = Vec::with_capacity(input.len() / 2);
    for (k, pair) in input.chunks_exact(2).enumerate() {
        let digit = |off: usize| {
            value(pair[off]).ok_or_else(|| Base16Error::InvalidChar {
                character: s[2 * k + off..].chars().next().unwrap_or('\u{fffd}'),
                position: 2 * k + off,
            })
        };
        out.push((digit(0)? << 4) | digit(1)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn errors() {
        assert_eq!(decode("abc"), Err(Base16Error::OddLength { len: 3 }));
        assert_eq!(
            decode("a0zz"),
            Err(Base16Error::InvalidChar {
                character: 'z',
                position: 2
            })
        );
    }

    proptest! {
        #[test]
        fn roundtrip(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let s = encode(&bytes);
            prop_assert_eq!(decode(&s).expect("decodes"), bytes.clone());
            prop_assert_eq!(decode(&s.to_uppercase()).expect("decodes"), bytes);
        }
    }
}
