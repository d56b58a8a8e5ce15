//! Benchmarks live in `benches/`; this library holds the few helpers the process-level
//! benchmarks (`build`, `instantiate`) share.

use std::path::PathBuf;

/// The median of `v` (the upper one for an even count); `NaN` for an empty `v`.
pub fn median_f(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The median of `v` (the upper one for an even count); 0 for an empty `v`.
pub fn median_u(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

/// The release `nixrs` binary: `$CARGO_TARGET_DIR/release/nixrs` when it exists, else the
/// workspace's `target/release/nixrs` (it may not exist: callers check).
pub fn nixrs_binary() -> PathBuf {
    let alt = std::env::var_os("CARGO_TARGET_DIR").map(|d| PathBuf::from(d).join("release/nixrs"));
    match alt {
        Some(p) if p.exists() => p,
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/nixrs"),
    }
}
