//! Golden pairs in `tests/fixtures/drv/`: `<base>.drv` as CppNix 2.8 wrote it and
//! `<base>.drv.json` as `nix show-derivation` printed it (made by
//! `tests/fixtures/make_drvs.sh`). Each `.drv` must parse, print back byte for byte, have the
//! path its file name says, have the output paths CppNix computed, and give that JSON exactly.

use std::collections::BTreeMap;
use std::path::PathBuf;

use nix_derivation::hash_modulo::{DrvHashCache, FsResolver};
use nix_derivation::outputs::{check_outputs, drv_name_from_path};
use nix_derivation::store::store_path::{StoreDir, StorePath};
use nix_derivation::{json, Derivation};

use crate::common::TestResult;

/// Known failures, with the reason (none).
const NOT_YET_PASSING: &[(&str, &str)] = &[];

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/drv")
}

#[test]
fn golden_pairs() -> TestResult {
    let store_dir = StoreDir::default();
    let dir = fixtures_dir();
    let mut resolver = FsResolver::new(store_dir.clone(), &dir);
    let mut cache = DrvHashCache::new();
    let mut count = 0;
    let mut names: Vec<String> = std::fs::read_dir(&dir)?
        .map(|e| Ok(e?.file_name().to_string_lossy().into_owned()))
        .collect::<std::io::Result<_>>()?;
    names.sort();
    for name in names.iter().filter(|n| n.ends_with(".drv")) {
        if NOT_YET_PASSING.iter().any(|(n, _)| n == name) {
            continue;
        }
        let bytes = std::fs::read(dir.join(name))?;
        let want_json = std::fs::read(dir.join(format!("{name}.json")))?;
        let path = StorePath::from_base_name(name)?;
        let drv = Derivation::parse(&bytes, &store_dir).map_err(|e| format!("{name}: {e}"))?;
        assert_eq!(drv.to_aterm(&store_dir), bytes, "{name}");
        let drv_name = drv_name_from_path(&path).ok_or("not a .drv")?;
        assert_eq!(drv.drv_path(&store_dir, drv_name)?, path, "{name}");
        check_outputs(&drv, drv_name, &store_dir, &mut resolver, &mut cache)
            .map_err(|e| format!("{name}: {e}"))?;
        let all = BTreeMap::from([(path, drv)]);
        let ours = json::show_derivation(&store_dir, &all);
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&want_json),
            "{name}"
        );
        assert_eq!(
            json::parse_show_derivation(&want_json, &store_dir)?,
            all,
            "{name}"
        );
        count += 1;
    }
    assert!(count >= 11, "only {count} fixtures");
    Ok(())
}
