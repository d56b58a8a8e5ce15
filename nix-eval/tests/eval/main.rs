//! Integration tests of nix-eval, one module per area (mirrors `src/`).
