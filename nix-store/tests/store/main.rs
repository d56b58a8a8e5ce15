//! Integration tests of nix-store, one module per area (mirrors `src/`).

mod cache;
mod differential;
mod gc;
mod gc_concurrent;
mod hash;
mod interop;
mod local_store;
mod narinfo;
mod profiles;
mod references;
mod store_path;
