//! Integration tests of nix-derivation, one module per area (mirrors `src/`).
