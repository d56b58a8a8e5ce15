//! The crate's error type.

use crate::hash_modulo::BoxError;

/// Everything that can go wrong in this crate, apart from parsing (which has its own
/// [`crate::aterm::ParseError`] and [`crate::json::JsonError`], wrapped here).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A `.drv` that does not parse.
    #[error("invalid derivation")]
    Parse(#[from] crate::aterm::ParseError),
    /// Derivation JSON that does not parse.
    #[error("invalid derivation JSON")]
    Json(#[from] crate::json::JsonError),
    /// A store path that cannot be made (an invalid name).
    #[error("invalid store path")]
    StorePath(#[from] nix_store::store_path::StorePathError),
    /// A derivation without outputs.
    #[error("derivation must have at least one output")]
    NoOutputs,
    /// Outputs of different kinds in one derivation.
    #[error("can't mix derivation output types")]
    MixedOutputTypes,
    /// More than one fixed output.
    #[error("only one fixed output is allowed for now")]
    MultipleFixedOutputs,
    /// A fixed output not named `out`.
    #[error("single fixed output must be named \"out\"")]
    FixedOutputNotOut,
    /// Floating outputs with different hash algorithms.
    #[error("all floating outputs must use the same hash type")]
    MixedFloatingAlgos,
    /// An input derivation that cannot be read.
    #[error("cannot read input derivation '{drv_path}'")]
    Resolve {
        /// The input's path.
        drv_path: String,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// An input derivation without an output that is asked for.
    #[error("no hash for output '{output}' of derivation '{drv_path}'")]
    MissingInputOutput {
        /// The input's path.
        drv_path: String,
        /// The output asked for.
        output: String,
        /// The derivation asking, when known.
        referrer: Option<String>,
    },
    /// Input derivations that depend on each other.
    #[error("cycle in the input derivations at '{drv_path}'")]
    Cycle {
        /// A derivation on the cycle.
        drv_path: String,
    },
    /// `hashDerivationModulo` gave no hash for an output (cannot happen for valid input).
    #[error("derivation produced no hash for output '{output}'")]
    NoOutputHash {
        /// The output.
        output: String,
    },
    /// An output path that is not the one CppNix computes.
    #[error("output '{output}' should be '{expected}', not '{found}'")]
    OutputPathMismatch {
        /// The output.
        output: String,
        /// The path CppNix computes.
        expected: String,
        /// The path the derivation has.
        found: String,
    },
}
