//! Store path names: the part after `<hash>-` (nix-facts §3).
//!
//! CppNix 2.8 (`checkName`) accepts a non-empty name of at most 211 characters from
//! `[A-Za-z0-9+\-._?=]`. (Newer CppNix also rejects names starting with `.`; 2.8 does not, and
//! neither do we.)

/// The longest allowed name.
pub const MAX_NAME_LEN: usize = 211;

/// Why a store path name is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty.
    #[error("name is empty")]
    Empty,
    /// The name is longer than [`MAX_NAME_LEN`].
    #[error("name has {len} characters, more than 211")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// A character outside `[A-Za-z0-9+\-._?=]`.
    #[error("name contains illegal character {character:?} at position {position}")]
    InvalidChar {
        /// The character.
        character: char,
        /// Its byte offset in the name.
        position: usize,
    },
}

/// Whether `b` may appear in a store path name.
#[inline]
pub fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.' | b'_' | b'?' | b'=')
}

/// Checks a store path name.
///
/// # Errors
/// Empty, longer than 211 bytes, or containing a character outside `[A-Za-z0-9+\-._?=]`.
///
/// # Example
/// ```
/// use nix_store::store_path::name::check_name;
/// assert!(check_name("hello-2.12.1").is_ok());
/// assert!(check_name("a b").is_err());
/// ```
pub fn check_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong { len: name.len() });
    }
    if let Some(position) = name.bytes().position(|b| !is_name_char(b)) {
        let character = name[position..].chars().next().unwrap_or('\u{fffd}');
        return Err(NameError::InvalidChar {
            character,
            position,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert_eq!(check_name(""), Err(NameError::Empty));
        assert_eq!(check_name(&"a".repeat(211)), Ok(()));
        assert_eq!(
            check_name(&"a".repeat(212)),
            Err(NameError::TooLong { len: 212 })
        );
        assert_eq!(check_name("+-._?=Az09"), Ok(()));
        assert_eq!(check_name(".hidden"), Ok(()));
        assert_eq!(
            check_name("aé"),
            Err(NameError::InvalidChar {
                character: 'é',
                position: 1
            })
        );
    }
}
