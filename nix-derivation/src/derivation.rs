//! The typed derivation model.
//!
//! A [`Derivation`] is what a `.drv` file holds: outputs, input derivations, input sources,
//! platform, builder, arguments and environment. Strings that Nix treats as bytes (platform,
//! builder, arguments, environment) are `Vec<u8>`; output names are UTF-8 [`String`]s.
//!
//! Collections are sorted maps and sets, so a `Derivation` always prints in CppNix's canonical
//! order ([facts §4](../../shared/docs/nix-facts.md)).

use std::collections::{BTreeMap, BTreeSet};

use nix_store::hash::{Hash, HashAlgo};
use nix_store::store_path::{StoreDir, StorePath};

use crate::aterm::{self, ParseError, ParseOptions};

pub use nix_store::content_address::FileIngestionMethod;

/// The method and algorithm of a content-addressed output as written in a `.drv` and in JSON
/// (`sha256`, `r:sha256`).
pub fn print_method_algo(method: FileIngestionMethod, algo: HashAlgo) -> String {
    format!("{}{}", method.prefix(), algo.name())
}

/// One output of a derivation, as CppNix 2.8's `DerivationOutput`.
///
/// | variant | `.drv` tuple `(name, path, hashAlgo, hash)` |
/// |---|---|
/// | `InputAddressed(p)` | `("out","/nix/store/…","","")` |
/// | `Fixed { .. }` | `("out","/nix/store/…","r:sha256","<base16>")` |
/// | `Floating { .. }` | `("out","","r:sha256","")` |
/// | `Deferred` | `("out","","","")` |
/// | `Impure { .. }` | `("out","","r:sha256","impure")` |
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DerivationOutput {
    /// An input-addressed output: its path comes from `hashDerivationModulo`.
    InputAddressed(StorePath),
    /// A fixed-output (content-addressed with a known hash) output.
    ///
    /// The path is a function of the hash, the method and the output's name; CppNix recomputes
    /// it when printing. We keep the path that was read so that printing is exact, and
    /// [`DerivationOutput::fixed`] computes it for new derivations.
    Fixed {
        /// The output path (`makeFixedOutputPath`).
        path: StorePath,
        /// Flat or recursive.
        method: FileIngestionMethod,
        /// The expected hash of the output.
        hash: Hash,
    },
    /// A floating content-addressed output (experimental `ca-derivations`): the path is known
    /// only after the build.
    Floating {
        /// Flat or recursive.
        method: FileIngestionMethod,
        /// The hash algorithm.
        algo: HashAlgo,
    },
    /// An input-addressed output whose path is not known yet: either a derivation being
    /// created (before [`crate::outputs::fill_outputs`]), or one that depends on a floating
    /// content-addressed derivation.
    Deferred,
    /// An impure output (experimental `impure-derivations`).
    Impure {
        /// Flat or recursive.
        method: FileIngestionMethod,
        /// The hash algorithm.
        algo: HashAlgo,
    },
}

impl DerivationOutput {
    /// A fixed output with its path computed as CppNix does:
    /// `makeFixedOutputPath(method, hash, outputPathName(drv_name, output_name))`.
    ///
    /// # Errors
    /// If the resulting store path name is invalid.
    pub fn fixed(
        store_dir: &StoreDir,
        drv_name: &str,
        output_name: &str,
        method: FileIngestionMethod,
        hash: Hash,
    ) -> Result<Self, crate::Error> {
        let path =
            crate::outputs::fixed_output_path(store_dir, drv_name, output_name, method, &hash)?;
        Ok(DerivationOutput::Fixed { path, method, hash })
    }

    /// The output path, when the derivation fixes it (input-addressed and fixed outputs).
    pub fn path(&self) -> Option<&StorePath> {
        match self {
            DerivationOutput::InputAddressed(p) | DerivationOutput::Fixed { path: p, .. } => {
                Some(p)
            }
            _ => None,
        }
    }
}

/// What kind of derivation this is, from its outputs (CppNix's `DerivationType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DerivationKind {
    /// All outputs are input-addressed; `deferred` when their paths are not known yet.
    InputAddressed {
        /// Whether the outputs are [`DerivationOutput::Deferred`].
        deferred: bool,
    },
    /// One fixed output named `out`.
    Fixed,
    /// All outputs are floating content-addressed.
    Floating,
    /// All outputs are impure.
    Impure,
}

/// A derivation: the contents of a `.drv` file.
///
/// # Example
/// ```
/// use nix_derivation::Derivation;
/// use nix_derivation::store::store_path::StoreDir;
///
/// let store_dir = StoreDir::default();
/// let aterm = br#"Derive([("out","/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple","","")],[],[],"x86_64-linux","/bin/sh",["-c","echo hello > $out"],[("builder","/bin/sh"),("name","simple"),("out","/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple"),("system","x86_64-linux")])"#;
/// let drv = Derivation::parse(aterm, &store_dir)?;
/// assert_eq!(drv.builder, b"/bin/sh");
/// assert_eq!(drv.to_aterm(&store_dir), aterm.to_vec());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Derivation {
    /// The outputs, by name.
    pub outputs: BTreeMap<String, DerivationOutput>,
    /// The derivations this one needs built, with the outputs it needs from each.
    pub input_drvs: BTreeMap<StorePath, BTreeSet<String>>,
    /// The store paths this one needs (sources, `builtins.toFile` results, …).
    pub input_srcs: BTreeSet<StorePath>,
    /// The platform (`system`), e.g. `x86_64-linux`.
    pub system: Vec<u8>,
    /// The program to run.
    pub builder: Vec<u8>,
    /// Its arguments.
    pub args: Vec<Vec<u8>>,
    /// The environment of the builder. With `__structuredAttrs`, the attributes are one JSON
    /// text in `__json`, carried as is.
    pub env: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl Derivation {
    /// Parses a `.drv` file with the default [`ParseOptions`].
    ///
    /// # Errors
    /// A [`ParseError`] with the byte offset of the problem.
    pub fn parse(input: &[u8], store_dir: &StoreDir) -> Result<Self, ParseError> {
        aterm::parse(input, store_dir, &ParseOptions::default())
    }

    /// Prints the derivation as CppNix writes it into the store.
    pub fn to_aterm(&self, store_dir: &StoreDir) -> Vec<u8> {
        aterm::print(self, store_dir)
    }

    /// The store paths a `.drv` file refers to: its input sources and input derivations.
    /// (Outputs are not references.)
    pub fn references(&self) -> BTreeSet<StorePath> {
        let mut refs = self.input_srcs.clone();
        refs.extend(self.input_drvs.keys().cloned());
        refs
    }

    /// Whether this is a fixed-output derivation.
    pub fn is_fixed_output(&self) -> bool {
        matches!(self.kind(), Ok(DerivationKind::Fixed))
    }

    /// Whether the builder is built into Nix (`builtin:fetchurl`, …).
    pub fn is_builtin(&self) -> bool {
        self.builder.starts_with(b"builtin:")
    }

    /// The kind of derivation, from its outputs, as CppNix's `Derivation::type()`.
    ///
    /// # Errors
    /// [`crate::Error::NoOutputs`], [`crate::Error::MixedOutputTypes`], or a fixed-output
    /// derivation with more than one output or an output not named `out`.
    pub fn kind(&self) -> Result<DerivationKind, crate::Error> {
        let mut counts = [0usize; 5];
        for o in self.outputs.values() {
            let i = match o {
                DerivationOutput::InputAddressed(_) => 0,
                DerivationOutput::Fixed { .. } => 1,
                DerivationOutput::Floating { .. } => 2,
                DerivationOutput::Deferred => 3,
                DerivationOutput::Impure { .. } => 4,
            };
            counts[i] += 1;
        }
        let total = self.outputs.len();
        if total == 0 {
            return Err(crate::Error::NoOutputs);
        }
        match counts.iter().position(|&n| n == total) {
            Some(0) => Ok(DerivationKind::InputAddressed { deferred: false }),
            Some(1) => {
                if total > 1 {
                    Err(crate::Error::MultipleFixedOutputs)
                } else if !self.outputs.contains_key("out") {
                    Err(crate::Error::FixedOutputNotOut)
                } else {
                    Ok(DerivationKind::Fixed)
                }
            }
            Some(2) => {
                let mut algos = self.outputs.values().filter_map(|o| match o {
                    DerivationOutput::Floating { algo, .. } => Some(*algo),
                    _ => None,
                });
                let first = algos.next();
                if algos.any(|a| Some(a) != first) {
                    return Err(crate::Error::MixedFloatingAlgos);
                }
                Ok(DerivationKind::Floating)
            }
            Some(3) => Ok(DerivationKind::InputAddressed { deferred: true }),
            Some(4) => Ok(DerivationKind::Impure),
            _ => Err(crate::Error::MixedOutputTypes),
        }
    }

    /// The value of an environment variable, if set.
    pub fn env_var(&self, key: &str) -> Option<&[u8]> {
        self.env.get(key.as_bytes()).map(Vec::as_slice)
    }

    /// The structured attributes (`__json`), if the derivation has them.
    pub fn structured_attrs(&self) -> Option<&[u8]> {
        self.env_var("__json")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_prefixes() {
        assert_eq!(
            print_method_algo(FileIngestionMethod::Flat, HashAlgo::Sha1),
            "sha1"
        );
        assert_eq!(
            print_method_algo(FileIngestionMethod::Recursive, HashAlgo::Sha256),
            "r:sha256"
        );
    }

    #[test]
    fn kind_of_empty_and_mixed() {
        let mut drv = Derivation::default();
        assert!(matches!(drv.kind(), Err(crate::Error::NoOutputs)));
        drv.outputs.insert("out".into(), DerivationOutput::Deferred);
        assert_eq!(
            drv.kind().ok(),
            Some(DerivationKind::InputAddressed { deferred: true })
        );
        drv.outputs.insert(
            "dev".into(),
            DerivationOutput::Floating {
                method: FileIngestionMethod::Flat,
                algo: HashAlgo::Sha256,
            },
        );
        assert!(matches!(drv.kind(), Err(crate::Error::MixedOutputTypes)));
    }
}
