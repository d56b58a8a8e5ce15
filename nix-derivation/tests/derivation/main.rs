//! Integration tests of nix-derivation, one module per area (mirrors `src/`).

mod api;
mod aterm;
mod attrs;
mod build;
mod builtins;
mod common;
mod differential;
mod failures;
mod fixtures;
mod realise;
mod realise_diverted;
mod roundtrip;
mod sandbox;
mod strategy;
mod vectors;
