//! Integration tests of nix-derivation, one module per area (mirrors `src/`).

mod common;
mod vectors;
