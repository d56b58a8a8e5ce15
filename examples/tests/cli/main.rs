//! Integration tests of the `nixrs` binary, one module per command family. Differential
//! modules compare against the reference CppNix binaries (see `testkit::reference`).

mod build;
mod copy;
mod derivation;
mod eval;
mod eval_corpus;
mod fetch;
mod hash;
mod instantiate;
mod local_store;
mod nar;
mod nix_build;
mod parse;
mod realworld;
mod store;

/// The `nixrs` binary under test.
pub fn nixrs() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_nixrs"))
}

/// The sorted names in `root/nix/store`, without hidden entries (`.links`, …).
pub fn store_entries(root: &std::path::Path) -> std::io::Result<Vec<String>> {
    let mut v: Vec<String> = std::fs::read_dir(root.join("nix/store"))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    v.sort();
    Ok(v)
}
