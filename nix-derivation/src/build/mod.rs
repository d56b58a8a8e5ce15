//! Building derivations.
//!
//! [`builder`] runs a derivation's builder the way CppNix 2.8 does without a sandbox: with
//! exactly CppNix's environment, in a build directory, with its output captured to a log
//! sink. [`sandbox`] runs it the same way inside Linux namespaces (CppNix's `sandbox = true`),
//! and [`builtins`] runs the `builtin:` builders (`buildenv`, `fetchurl`). [`realise`] builds
//! whole graphs of `.drv`s in a local store (scheduling, parallel jobs, substitution, logs in
//! [`log`]), and [`register`] turns what a builder wrote into valid paths. [`attrs`] writes
//! structured attributes and `exportReferencesGraph` files into the build directory.

pub mod attrs;
pub mod builder;
pub mod builtins;
pub mod log;
pub mod realise;
pub mod register;
pub mod sandbox;
