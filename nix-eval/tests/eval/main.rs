//! Integration tests of nix-eval, one module per area (mirrors `src/`).

mod core;
mod fetch;
mod parse;
mod vectors;
