//! Helpers shared by the test modules.
#![allow(dead_code)]

use std::collections::BTreeMap;

use nix_derivation::store::store_path::{StoreDir, StorePath};
use nix_derivation::Derivation;

/// The error type of the tests.
pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// The shared derivation vectors: name → (drv path, derivation, vector JSON).
pub fn vector_drvs() -> TestResult<Vec<(String, StorePath, Derivation, serde_json::Value)>> {
    let store_dir = StoreDir::default();
    let v = testkit::vectors("derivations");
    let obj = v.as_object().ok_or("derivations.json is not an object")?;
    let mut out = Vec::new();
    for (name, case) in obj {
        let aterm = case["drv_aterm"].as_str().ok_or("drv_aterm")?;
        let drv_path = store_dir.parse_path(case["drv_path"].as_str().ok_or("drv_path")?)?;
        let drv = Derivation::parse(aterm.as_bytes(), &store_dir)?;
        out.push((name.clone(), drv_path, drv, case.clone()));
    }
    Ok(out)
}

/// All vector derivations by path, as a resolver for their inputs.
pub fn vector_resolver() -> TestResult<BTreeMap<StorePath, Derivation>> {
    Ok(vector_drvs()?
        .into_iter()
        .map(|(_, p, d, _)| (p, d))
        .collect())
}

/// Runs a reference binary; fails with its standard error unless it succeeds. Returns the
/// lines of its standard output.
pub fn cpp(bin: &std::path::Path, args: &[&str]) -> TestResult<Vec<String>> {
    let out = std::process::Command::new(bin).args(args).output()?;
    if !out.status.success() {
        return Err(format!(
            "{} {args:?}: {}",
            bin.display(),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(String::from_utf8(out.stdout)?
        .lines()
        .map(str::to_string)
        .collect())
}
