//! Nix's own base-32 encoding ("nix32").
//!
//! The alphabet is `0123456789abcdfghijklmnpqrsvwxyz` (no `e`, `o`, `u`, `t`). Unlike RFC 4648 the
//! digest is read as one little-endian integer and printed from its most significant 5-bit group
//! down to the least significant one, so the **last** character holds the low 5 bits of byte 0
//! (nix-facts §1). An input of `n` bytes encodes to `(8n - 1) / 5 + 1` characters.
//!
//! # Example
//! ```
//! use nix_store::hash::nix32;
//! let mut digest = [0u8; 20];
//! digest[0] = 1;
//! assert_eq!(nix32::encode(&digest), "00000000000000000000000000000001");
//! assert_eq!(nix32::decode("00000000000000000000000000000001")?, digest);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

/// The 32 symbols of nix32, in value order.
pub const ALPHABET: &[u8; 32] = b"0123456789abcdfghijklmnpqrsvwxyz";

/// Marks bytes that are not nix32 characters in [`DECODE_TABLE`].
const INVALID: u8 = 0xff;

/// Maps an ASCII byte to its nix32 value, or `0xff`.
pub(crate) const DECODE_TABLE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 32 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Whether `b` is one of the 32 nix32 characters.
#[inline]
pub fn is_nix32_char(b: u8) -> bool {
    DECODE_TABLE[b as usize] != INVALID
}

/// Why a nix32 string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Nix32Error {
    /// A character outside the nix32 alphabet.
    #[error("invalid base-32 character {character:?} at position {position}")]
    InvalidChar {
        /// The offending character.
        character: char,
        /// Its byte offset in the input.
        position: usize,
    },
    /// A length no byte string encodes to (e.g. 3 characters).
    #[error("invalid base-32 length {len}")]
    InvalidLength {
        /// The input length.
        len: usize,
    },
    /// A character whose bits spill past the last byte (CppNix: "invalid base-32 hash").
    #[error(
        "invalid base-32 hash: character at position {position} has bits beyond the last byte"
    )]
    Overflow {
        /// Byte offset of the character.
        position: usize,
    },
}

/// The number of nix32 characters `n` bytes encode to.
pub const fn encoded_len(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        (8 * n - 1) / 5 + 1
    }
}

/// The number of bytes a nix32 string of `len` characters decodes to, if `len` is a length some
/// byte string encodes to.
pub const fn decoded_len(len: usize) -> Option<usize> {
    let n = len * 5 / 8;
    if encoded_len(n) == len {
        Some(n)
    } else {
        None
    }
}

/// Encodes bytes as nix32.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = vec![0u8; encoded_len(bytes.len())];
    encode_into(bytes, &mut out);
    String::from_utf8(out).expect("nix32 output is ASCII")
}

/// Encodes bytes as nix32 into a byte buffer of exactly [`encoded_len`] bytes.
///
/// # Panics
/// If `out.len() != encoded_len(bytes.len())` (a caller bug).
pub fn encode_into(bytes: &[u8], out: &mut [u8]) {
    let len = encoded_len(bytes.len());
    assert_eq!(out.len(), len, "output buffer has the wrong length");
    for (k, slot) in out.iter_mut().enumerate() {
        *slot = ALPHABET[digit_at(bytes, len - 1 - k) as usize];
    }
}

/// The 5-bit group number `n` (counting from the least significant end).
#[inline]
fn digit_at(bytes: &[u8], n: usize) -> u8 {
    let b = n * 5;
    let i = b / 8;
    let j = b % 8;
    let low = bytes[i] >> j;
    let high = if j > 3 {
        match bytes.get(i + 1) {
            Some(next) => next << (8 - j),
            None => 0,
        }
    } else {
        0
    };
    (low | high) & 0x1f
}

/// Decodes a nix32 string.
///
/// # Errors
/// A character outside the alphabet, a length no byte string encodes to, or a character whose
/// bits spill past the last byte.
pub fn decode(s: &str) -> Result<Vec<u8>, Nix32Error> {
    let input = s.as_bytes();
    let n = decoded_len(input.len()).ok_or(Nix32Error::InvalidLength { len: input.len() })?;
    let mut out = vec![0u8; n];
    decode_into(input, &mut out)?;
    Ok(out)
}

/// Decodes nix32 bytes into `out`, whose length must be the decoded length.
///
/// # Errors
/// As [`decode`]; `InvalidLength` if `out` has the wrong size for `input`.
pub fn decode_into(input: &[u8], out: &mut [u8]) -> Result<(), Nix32Error> {
    if decoded_len(input.len()) != Some(out.len()) {
        return Err(Nix32Error::InvalidLength { len: input.len() });
    }
    out.fill(0);
    let len = input.len();
    for n in 0..len {
        let position = len - n - 1;
        let c = input[position];
        let digit = DECODE_TABLE[c as usize];
        if digit == INVALID {
            return Err(Nix32Error::InvalidChar {
                character: char_at(input, position),
                position,
            });
        }
        let b = n * 5;
        let i = b / 8;
        let j = b % 8;
        match out.get_mut(i) {
            Some(slot) => *slot |= digit << j,
            None => {
                if digit != 0 {
                    return Err(Nix32Error::Overflow { position });
                }
                continue;
            }
        }
        let carry = if j == 0 { 0 } else { digit >> (8 - j) };
        match out.get_mut(i + 1) {
            Some(slot) => *slot |= carry,
            None => {
                if carry != 0 {
                    return Err(Nix32Error::Overflow { position });
                }
            }
        }
    }
    Ok(())
}

/// The (possibly multi-byte) character starting at or containing `position`, for messages.
fn char_at(input: &[u8], position: usize) -> char {
    let mut start = position;
    while start > 0 && (input[start] & 0xc0) == 0x80 {
        start -= 1;
    }
    std::str::from_utf8(&input[start..])
        .ok()
        .and_then(|s| s.chars().next())
        .unwrap_or(char::from(input[position]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lengths() {
        assert_eq!(encoded_len(16), 26);
        assert_eq!(encoded_len(20), 32);
        assert_eq!(encoded_len(32), 52);
        assert_eq!(encoded_len(64), 103);
        assert_eq!(decoded_len(52), Some(32));
        assert_eq!(decoded_len(3), None);
    }

    #[test]
    fn overflow_rejected() {
        // md5: 26 chars = 130 bits for 128; the top char may only use 3 bits (values 0..=7).
        let mut s = String::from("8");
        s.push_str(&"0".repeat(25));
        assert!(matches!(
            decode(&s),
            Err(Nix32Error::Overflow { position: 0 })
        ));
        let mut s = String::from("7");
        s.push_str(&"0".repeat(25));
        assert!(decode(&s).is_ok());
    }

    #[test]
    fn bad_char() {
        let s = format!("{}e", "0".repeat(31));
        assert_eq!(
            decode(&s),
            Err(Nix32Error::InvalidChar {
                character: 'e',
                position: 31
            })
        );
    }

    proptest! {
        #[test]
        fn roundtrip(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let s = encode(&bytes);
            prop_assert_eq!(s.len(), encoded_len(bytes.len()));
            prop_assert_eq!(decode(&s).expect("decodes"), bytes);
        }
    }
}
