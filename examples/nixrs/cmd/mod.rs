//! One module per command family. Each area's module is owned by the crate it drives.

pub mod build;
pub(crate) mod build_common;
pub mod copy;
pub mod derivation;
pub mod eval;
pub mod hash;
pub mod key;
pub mod lazy_store;
pub mod nar;
pub mod narinfo;
pub mod nix_build;
pub mod nix_conf;
pub mod nix_env;
pub mod nix_store;
pub mod parse;
pub mod profile;
pub mod store;
