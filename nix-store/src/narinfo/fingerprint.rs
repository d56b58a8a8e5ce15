//! The bytes a binary-cache signature covers (CppNix's `ValidPathInfo::fingerprint`):
//!
//! ```text
//! 1;<full store path>;<narHash as sha256:nix32>;<narSize>;<full reference paths joined by ','>
//! ```
//!
//! References are sorted (by base name, which is the same as by full path); with none, the
//! string ends in `;`.

use std::collections::BTreeSet;

use crate::hash::{Hash, HashAlgo};
use crate::store_path::{StoreDir, StorePath};

/// Why a fingerprint cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FingerprintError {
    /// The NAR size is 0 (unknown).
    #[error("cannot calculate fingerprint of path '{path}' because its size is not known")]
    UnknownNarSize {
        /// The full path.
        path: String,
    },
    /// The NAR hash is not sha256.
    #[error(
        "cannot calculate fingerprint of path '{path}' because its NAR hash is {algo}, not sha256"
    )]
    NarHashNotSha256 {
        /// The full path.
        path: String,
        /// The algorithm found.
        algo: HashAlgo,
    },
}

/// Computes the fingerprint.
///
/// # Errors
/// A NAR size of 0 or a NAR hash that is not sha256.
///
/// # Example
/// ```
/// use std::collections::BTreeSet;
/// use nix_store::hash::Hash;
/// use nix_store::narinfo::fingerprint::fingerprint;
/// use nix_store::store_path::StoreDir;
/// let dir = StoreDir::default();
/// let p = dir.parse_path("/nix/store/6a1i2siin042a916394zmfly5bwydf1x-multi")?;
/// let r = dir.parse_path("/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple")?;
/// let h = Hash::parse_any("sha256:1rwfjkl834j88h35b40zxchdkmafwzlcjb7504jj19rycmx0s4nv")?;
/// assert_eq!(
///     fingerprint(&dir, &p, &h, 168, &BTreeSet::from([r]))?,
///     "1;/nix/store/6a1i2siin042a916394zmfly5bwydf1x-multi;\
///      sha256:1rwfjkl834j88h35b40zxchdkmafwzlcjb7504jj19rycmx0s4nv;168;\
///      /nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn fingerprint(
    store_dir: &StoreDir,
    path: &StorePath,
    nar_hash: &Hash,
    nar_size: u64,
    references: &BTreeSet<StorePath>,
) -> Result<String, FingerprintError> {
    let full = store_dir.display(path);
    if nar_size == 0 {
        return Err(FingerprintError::UnknownNarSize { path: full });
    }
    if nar_hash.algo() != HashAlgo::Sha256 {
        return Err(FingerprintError::NarHashNotSha256 {
            path: full,
            algo: nar_hash.algo(),
        });
    }
    let mut s = format!("1;{full};{};{nar_size};", nar_hash.to_typed_nix32());
    for (i, r) in references.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&store_dir.display(r));
    }
    Ok(s)
}
