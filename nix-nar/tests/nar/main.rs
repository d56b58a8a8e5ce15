//! Integration tests of nix-nar, one module per area (mirrors `src/`).

mod differential;
mod listing;
mod reader;
mod restore;
mod roundtrip;
mod vectors;

/// Decodes a lowercase hex string.
pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("valid hex in test vectors"))
        .collect()
}

/// Lowercase hex of bytes.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Result type of the tests.
pub type TestResult = Result<(), Box<dyn std::error::Error>>;
