//! Integration tests of nix-store, one module per area (mirrors `src/`).
