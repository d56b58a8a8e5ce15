//! Computing store paths (nix-facts §3), as methods of [`StoreDir`].
//!
//! ```text
//! fingerprint = type ":sha256:" base16(innerHash) ":" storeDir ":" name
//! path        = storeDir "/" nix32(compress20(sha256(fingerprint))) "-" name
//! ```
//!
//! | kind | type string | inner hash |
//! |---|---|---|
//! | text ([`StoreDir::make_text_path`]) | `text[:ref…]` | sha256 of the contents |
//! | source ([`StoreDir::make_source_path`]) | `source[:ref…][:self]` | sha256 of the NAR |
//! | fixed output ([`StoreDir::make_fixed_output_path`]) | `output:out` | sha256 of `fixed:out:[r:]algo:hex:` |
//! | derivation output ([`StoreDir::make_output_path`]) | `output:<name>` | hashDerivationModulo |
//!
//! References are written as full paths, in sorted order.
//!
//! # Example
//! ```
//! use std::collections::BTreeSet;
//! use nix_store::hash::{Hash, HashAlgo};
//! use nix_store::store_path::StoreDir;
//! let dir = StoreDir::default();
//! let h = Hash::digest_bytes(HashAlgo::Sha256, b"hello\n");
//! let p = dir.make_text_path("hello.txt", &h, &BTreeSet::new())?;
//! assert_eq!(dir.display(&p), "/nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeSet;

use super::{name, StoreDir, StorePath, StorePathError, HASH_BYTES};
use crate::content_address::FileIngestionMethod;
use crate::hash::{Hash, HashAlgo};

impl StoreDir {
    /// CppNix's `makeStorePath(type, innerHash, name)`.
    ///
    /// # Errors
    /// An invalid name.
    pub fn make_store_path(
        &self,
        type_: &str,
        inner: &Hash,
        name: &str,
    ) -> Result<StorePath, StorePathError> {
        let fingerprint = format!(
            "{type_}:{}:{}:{name}",
            inner.to_typed_base16(),
            self.as_str()
        );
        let digest =
            Hash::digest_bytes(HashAlgo::Sha256, fingerprint.as_bytes()).compress(HASH_BYTES);
        let mut hash = [0u8; HASH_BYTES];
        hash.copy_from_slice(&digest);
        StorePath::from_hash_and_name(&hash, name)
    }

    /// CppNix's `makeType(base, refs, selfRef)`: `base`, then `:<full path>` per reference (in
    /// order), then `:self`.
    pub fn make_type(
        &self,
        base: &str,
        references: &BTreeSet<StorePath>,
        self_ref: bool,
    ) -> String {
        let mut s = String::from(base);
        for r in references {
            s.push(':');
            s.push_str(&self.display(r));
        }
        if self_ref {
            s.push_str(":self");
        }
        s
    }

    /// A text path (`builtins.toFile`, `.drv` files): type `text[:refs]`, inner hash = sha256 of
    /// the contents.
    ///
    /// # Errors
    /// An invalid name, or a hash that is not sha256.
    pub fn make_text_path(
        &self,
        name: &str,
        content_sha256: &Hash,
        references: &BTreeSet<StorePath>,
    ) -> Result<StorePath, StorePathError> {
        if content_sha256.algo() != HashAlgo::Sha256 {
            return Err(StorePathError::TextHashNotSha256 {
                name: name.to_string(),
                algo: content_sha256.algo(),
            });
        }
        self.make_store_path(
            &self.make_type("text", references, false),
            content_sha256,
            name,
        )
    }

    /// The store path of a `.drv` file: a text path named `<drv_name>.drv` whose references are
    /// the input sources and input derivations.
    ///
    /// # Errors
    /// As [`StoreDir::make_text_path`].
    pub fn make_drv_path(
        &self,
        drv_name: &str,
        aterm_sha256: &Hash,
        references: &BTreeSet<StorePath>,
    ) -> Result<StorePath, StorePathError> {
        self.make_text_path(&format!("{drv_name}.drv"), aterm_sha256, references)
    }

    /// A source path (`nix-store --add`, `builtins.path`): type `source[:refs][:self]`, inner
    /// hash = sha256 of the NAR.
    ///
    /// # Errors
    /// An invalid name.
    pub fn make_source_path(
        &self,
        name: &str,
        nar_sha256: &Hash,
        references: &BTreeSet<StorePath>,
        self_ref: bool,
    ) -> Result<StorePath, StorePathError> {
        self.make_store_path(
            &self.make_type("source", references, self_ref),
            nar_sha256,
            name,
        )
    }

    /// A fixed-output path (`nix-store --add-fixed [--recursive] ALGO`, fixed-output
    /// derivations). Recursive sha256 is a source path; anything else is
    /// `output:out` over `fixed:out:[r:]<algo>:<base16>:` and cannot have references.
    ///
    /// # Errors
    /// An invalid name, or references on a path that is not recursive sha256.
    pub fn make_fixed_output_path(
        &self,
        name: &str,
        method: FileIngestionMethod,
        hash: &Hash,
        references: &BTreeSet<StorePath>,
        self_ref: bool,
    ) -> Result<StorePath, StorePathError> {
        if method == FileIngestionMethod::Recursive && hash.algo() == HashAlgo::Sha256 {
            return self.make_source_path(name, hash, references, self_ref);
        }
        if !references.is_empty() || self_ref {
            return Err(StorePathError::FixedOutputWithReferences {
                name: name.to_string(),
            });
        }
        let inner = format!("fixed:out:{}{}:", method.prefix(), hash.to_typed_base16());
        let inner = Hash::digest_bytes(HashAlgo::Sha256, inner.as_bytes());
        self.make_store_path("output:out", &inner, name)
    }

    /// The output path of an input-addressed derivation: type `output:<out>`, inner hash =
    /// hashDerivationModulo, name = [`output_path_name`].
    ///
    /// # Errors
    /// An invalid name.
    pub fn make_output_path(
        &self,
        output_name: &str,
        drv_hash_modulo: &Hash,
        drv_name: &str,
    ) -> Result<StorePath, StorePathError> {
        self.make_store_path(
            &format!("output:{output_name}"),
            drv_hash_modulo,
            &output_path_name(drv_name, output_name),
        )
    }
}

/// CppNix's `outputPathName`: `drv_name` for `out`, else `drv_name-<output>`.
pub fn output_path_name(drv_name: &str, output_name: &str) -> String {
    if output_name == "out" {
        drv_name.to_string()
    } else {
        format!("{drv_name}-{output_name}")
    }
}

/// Checks a name the way store path computation will (re-exported for callers that want to
/// fail early).
///
/// # Errors
/// See [`name::check_name`].
pub fn check_name(n: &str) -> Result<(), name::NameError> {
    name::check_name(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_examples() {
        let dir = StoreDir::default();
        let none = BTreeSet::new();
        let hello = Hash::digest_bytes(HashAlgo::Sha256, b"hello\n");
        let p = dir.make_fixed_output_path(
            "hello.txt",
            FileIngestionMethod::Flat,
            &hello,
            &none,
            false,
        );
        assert_eq!(
            dir.display(&p.expect("valid")),
            "/nix/store/gy454w1cxaq731grqwylhzf4pp9r5izh-hello.txt"
        );
        let a = dir
            .parse_path("/nix/store/l82nr4gna33sc2g8m4hkkr6r983dlbd6-a.txt")
            .expect("valid");
        let contents = format!("ref {}", dir.display(&a));
        let h = Hash::digest_bytes(HashAlgo::Sha256, contents.as_bytes());
        let refs = BTreeSet::from([a]);
        let b = dir.make_text_path("b.txt", &h, &refs).expect("valid");
        assert_eq!(
            dir.display(&b),
            "/nix/store/6l80plrsnx574g5l824hj8897hxb8xn6-b.txt"
        );
        assert!(dir
            .make_fixed_output_path("x", FileIngestionMethod::Flat, &hello, &refs, false)
            .is_err());
        let md5 = Hash::digest_bytes(HashAlgo::Md5, b"");
        assert!(dir.make_text_path("x", &md5, &none).is_err());
        assert_eq!(output_path_name("foo", "out"), "foo");
        assert_eq!(output_path_name("foo", "dev"), "foo-dev");
    }
}
