//! Interoperability with CppNix 2.8 on the same store root, both directions.

use std::collections::BTreeSet;

use nix_store::store::local::LocalStore;
use nix_store::store::Store;

use crate::local_store::{cppnix, make_sources, populate, TestResult};

#[test]
fn cppnix_verifies_and_queries_a_store_we_wrote() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let src = testkit::tempdir();
    make_sources(src.path())?;
    let root = testkit::TempStore::new();
    let store = LocalStore::open(root.root())?;
    let paths = populate(&store, src.path())?;
    let r = root.root().to_string_lossy().into_owned();
    let (rc, out, err) = cppnix(&nix_store, &["--store", &r, "--verify", "--check-contents"])?;
    assert_eq!(rc, 0, "stdout: {out}\nstderr: {err}");
    assert!(
        !err.contains("was modified") && !err.contains("disappeared"),
        "{err}"
    );
    let sd = store.store_dir().clone();
    for p in &paths {
        let full = sd.display(p);
        let info = store.query_path_info(p)?.ok_or("missing")?;
        let q = |flag: &str| cppnix(&nix_store, &["--store", &r, "-q", flag, &full]);
        let lines = |s: String| s.lines().map(str::to_string).collect::<Vec<_>>();

        let (_, hash, _) = q("--hash")?;
        assert_eq!(hash.trim(), info.nar_hash.to_typed_nix32());
        let (_, size, _) = q("--size")?;
        assert_eq!(size.trim(), info.nar_size.to_string());
        let (_, refs, _) = q("--references")?;
        let mut ours: Vec<String> = info.references.iter().map(|x| sd.display(x)).collect();
        let mut theirs = lines(refs);
        ours.sort();
        theirs.sort();
        assert_eq!(ours, theirs, "references of {full}");
        let (_, referrers, _) = q("--referrers")?;
        let mut ours: Vec<String> = store
            .query_referrers(p)?
            .iter()
            .map(|x| sd.display(x))
            .collect();
        let mut theirs = lines(referrers);
        ours.sort();
        theirs.sort();
        assert_eq!(ours, theirs, "referrers of {full}");
        let (_, reqs, _) = q("--requisites")?;
        let closure = store.closure(&[p.clone()].into())?;
        let mut sorted = store.topo_sort(&closure)?;
        sorted.reverse();
        let ours: Vec<String> = sorted.iter().map(|x| sd.display(x)).collect();
        assert_eq!(ours, lines(reqs), "requisites of {full} (order included)");
        let (_, deriver, _) = q("--deriver")?;
        assert_eq!(deriver.trim(), "unknown-deriver");
    }
    Ok(())
}

#[test]
fn we_read_a_store_cppnix_wrote() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let Some(nix_instantiate) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let src = testkit::tempdir();
    make_sources(src.path())?;
    let root = testkit::TempStore::new();
    let r = root.root().to_string_lossy().into_owned();
    let tree = src.path().join("tree").to_string_lossy().into_owned();
    let (rc, added, err) = cppnix(&nix_store, &["--store", &r, "--add", &tree])?;
    assert_eq!(rc, 0, "{err}");
    let expr = "derivation { name = \"simple\"; system = \"x86_64-linux\"; builder = \"/bin/sh\"; \
                args = [ \"-c\" \"echo hello > $out\" ]; }";
    let (rc, drv, err) = cppnix(&nix_instantiate, &["--store", &r, "-E", expr])?;
    assert_eq!(rc, 0, "{err}");
    let drv = drv.trim().to_string();
    assert_eq!(
        drv,
        "/nix/store/3ghsl9sd83mc26i81adpa2fzf3yw4f68-simple.drv"
    );

    let store = LocalStore::open(root.root())?;
    let sd = store.store_dir().clone();
    let tree_path = sd.parse_path(added.trim())?;
    let info = store
        .query_path_info(&tree_path)?
        .ok_or("tree not valid for us")?;
    let (_, hash, _) = cppnix(&nix_store, &["--store", &r, "-q", "--hash", added.trim()])?;
    assert_eq!(info.nar_hash.to_typed_nix32(), hash.trim());
    assert_eq!(
        info.ca
            .map(|c| c.to_string())
            .unwrap_or_default()
            .split(':')
            .take(2)
            .collect::<Vec<_>>(),
        ["fixed", "r"]
    );
    let drv_path = sd.parse_path(&drv)?;
    let outputs = store.query_derivation_outputs(&drv_path)?;
    assert_eq!(
        outputs.get("out").map(|p| sd.display(p)).as_deref(),
        Some("/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple")
    );
    let out_path = sd.parse_path("/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple")?;
    assert_eq!(
        store.query_valid_derivers(&out_path)?,
        BTreeSet::from([drv_path.clone()])
    );
    assert!(store.verify(true, false)?.is_clean());
    // We can add to it and CppNix still verifies it.
    let added_by_us = store.add_text("x.txt", b"x", &[drv_path.clone()].into())?;
    drop(store);
    let (rc, _, err) = cppnix(&nix_store, &["--store", &r, "--verify", "--check-contents"])?;
    assert_eq!(rc, 0, "{err}");
    let (_, refs, _) = cppnix(
        &nix_store,
        &[
            "--store",
            &r,
            "-q",
            "--references",
            &sd.display(&added_by_us),
        ],
    )?;
    assert_eq!(refs.trim(), drv);
    Ok(())
}
