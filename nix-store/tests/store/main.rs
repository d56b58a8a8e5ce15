//! Integration tests of nix-store, one module per area (mirrors `src/`).

mod cache;
mod differential;
mod gc;
mod hash;
mod interop;
mod local_store;
mod narinfo;
mod profiles;
mod references;
mod store_path;
