//! Integration tests of nix-eval, one module per area (mirrors `src/`).

mod core;
mod parse;
mod vectors;
