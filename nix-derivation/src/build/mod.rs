//! Building derivations.
//!
//! [`builder`] runs a derivation's builder the way CppNix 2.8 does without a sandbox: with
//! exactly CppNix's environment, in a build directory, with its output captured to a log
//! sink. Registration of the outputs in a store, the scheduler and the sandbox are not here
//! yet.

pub mod builder;
