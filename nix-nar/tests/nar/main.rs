//! Integration tests of nix-nar, one module per area (mirrors `src/`).
