//! The shared CppNix 2.8 vectors (`shared/testvectors/derivations.json`): parse, print
//! byte-identically, JSON, `.drv` path, references and output paths.

use std::collections::BTreeMap;

use nix_derivation::hash_modulo::DrvHashCache;
use nix_derivation::outputs::{check_outputs, drv_name_from_path, expected_outputs};
use nix_derivation::store::store_path::StoreDir;
use nix_derivation::{json, Derivation};

use crate::common::{vector_drvs, vector_resolver, TestResult};

#[test]
fn aterm_round_trips_byte_for_byte() -> TestResult {
    let store_dir = StoreDir::default();
    let cases = vector_drvs()?;
    assert_eq!(cases.len(), 7);
    for (name, _, drv, case) in cases {
        let aterm = case["drv_aterm"].as_str().ok_or("drv_aterm")?;
        assert_eq!(
            String::from_utf8(drv.to_aterm(&store_dir))?,
            aterm,
            "{name}"
        );
    }
    Ok(())
}

#[test]
fn drv_paths_and_references() -> TestResult {
    let store_dir = StoreDir::default();
    for (name, drv_path, drv, case) in vector_drvs()? {
        let drv_name = drv_name_from_path(&drv_path).ok_or("not a .drv")?;
        let file = drv.to_drv_file(&store_dir, drv_name)?;
        assert_eq!(file.path, drv_path, "{name}");
        let refs: Vec<String> = file
            .references
            .iter()
            .map(|p| store_dir.display(p))
            .collect();
        let want: Vec<String> = serde_json::from_value(case["drv_references"].clone())?;
        assert_eq!(refs, want, "{name}");
    }
    Ok(())
}

#[test]
fn output_paths() -> TestResult {
    let store_dir = StoreDir::default();
    let mut resolver = vector_resolver()?;
    let mut cache = DrvHashCache::new();
    for (name, drv_path, drv, case) in vector_drvs()? {
        let drv_name = drv_name_from_path(&drv_path).ok_or("not a .drv")?;
        check_outputs(&drv, drv_name, &store_dir, &mut resolver, &mut cache)?;
        let got: BTreeMap<String, String> =
            expected_outputs(&drv, drv_name, &store_dir, &mut resolver, &mut cache)?
                .into_iter()
                .map(|(k, v)| (k, v.map(|p| store_dir.display(&p)).unwrap_or_default()))
                .collect();
        let want: BTreeMap<String, String> = serde_json::from_value(case["output_paths"].clone())?;
        assert_eq!(got, want, "{name}");
    }
    Ok(())
}

#[test]
fn fod_dependents_share_output_paths() -> TestResult {
    // Two different FOD .drv files with the same hash give dependents equal output paths.
    let cases = vector_drvs()?;
    let find = |n: &str| {
        cases
            .iter()
            .find(|c| c.0 == n)
            .map(|c| c.3["output_paths"].clone())
    };
    assert_eq!(find("uses_fod"), find("uses_fod_other_builder"));
    assert!(find("uses_fod").is_some());
    Ok(())
}

#[test]
fn show_derivation_json() -> TestResult {
    let store_dir = StoreDir::default();
    for (name, drv_path, drv, case) in vector_drvs()? {
        let text = json::show_derivation(
            &store_dir,
            &BTreeMap::from([(drv_path.clone(), drv.clone())]),
        );
        let ours: serde_json::Value = serde_json::from_slice(&text)?;
        assert_eq!(ours, case["show_derivation_json"], "{name}");
        // (The exact bytes are compared with `nix show-derivation` in the differential tests.)
        // And it reads back.
        let back = json::parse_show_derivation(&text, &store_dir)?;
        assert_eq!(back, BTreeMap::from([(drv_path, drv)]), "{name}");
    }
    Ok(())
}

#[test]
fn parse_errors_have_offsets() -> TestResult {
    let store_dir = StoreDir::default();
    let (_, _, drv, _) = vector_drvs()?.into_iter().next().ok_or("no vectors")?;
    let good = drv.to_aterm(&store_dir);
    // Every proper prefix fails, at or before its end.
    for len in 0..good.len() {
        let err = Derivation::parse(&good[..len], &store_dir)
            .err()
            .ok_or("a prefix parsed")?;
        assert!(err.offset() <= len, "{err} for prefix of {len}");
    }
    // Trailing data.
    let mut long = good.clone();
    long.push(b'x');
    let err = Derivation::parse(&long, &store_dir)
        .err()
        .ok_or("trailing data parsed")?;
    assert_eq!(err.offset(), good.len());
    Ok(())
}
