//! Integration tests of nix-store, one module per area (mirrors `src/`).

mod differential;
mod hash;
mod narinfo;
mod references;
mod store_path;
