//! Garbage collection: roots, live/dead sets and deletion, compared with CppNix's
//! `nix-store --gc` on the same store.

use std::collections::BTreeSet;

use nix_store::profiles::Profile;
use nix_store::store::local::gc::{GcAction, GcError, GcOptions};
use nix_store::store::local::LocalStore;
use nix_store::store::Store;

use crate::local_store::{cppnix, make_sources, populate, TestResult};

fn opts(action: GcAction) -> GcOptions {
    GcOptions {
        action,
        ..GcOptions::default()
    }
}

#[test]
fn roots_live_dead_and_delete() -> TestResult {
    let src = testkit::tempdir();
    make_sources(src.path())?;
    let root = testkit::TempStore::new();
    let store = LocalStore::open(root.root())?;
    let p = populate(&store, src.path())?;
    let sd = store.store_dir().clone();
    // Root c.txt directly, and t.txt through a profile.
    std::os::unix::fs::symlink(sd.display(&p[2]), root.root().join("nix/var/nix/gcroots/c"))?;
    let profile = Profile::new(root.root().join("nix/var/nix/profiles/test"));
    profile.set(std::path::Path::new(&sd.display(&p[5])))?;
    // And hello.txt as an indirect root through a link outside the store.
    let outside = testkit::tempdir();
    let result = outside.path().join("result");
    std::os::unix::fs::symlink(sd.display(&p[3]), &result)?;
    store.add_indirect_root(&result)?;

    let mut log = |_: &str| {};
    let roots = store.find_roots(&mut log)?;
    // Our own temp roots (this process added the paths) count as roots too.
    assert!(roots.contains_key(&p[2]));
    assert!(roots[&p[3]].contains(&result.to_string_lossy().into_owned()));
    drop(store);

    // A fresh process-less view: reopen (temp roots of this process still hold, so use a
    // child-free check by comparing with CppNix, which also sees our live temproots file).
    let store = LocalStore::open(root.root())?;
    let live = store
        .collect_garbage(&opts(GcAction::ReturnLive), &mut log)?
        .paths;
    for i in [0, 1, 2, 3, 4, 5] {
        assert!(live.contains(&sd.display(&p[i])), "{i} should be live");
    }
    // Remove the direct root and the indirect one: c.txt and hello.txt die unless temp-rooted.
    std::fs::remove_file(root.root().join("nix/var/nix/gcroots/c"))?;
    std::fs::remove_file(&result)?;
    Ok(())
}

#[test]
fn same_answers_as_cppnix_gc() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let src = testkit::tempdir();
    make_sources(src.path())?;
    let root = testkit::TempStore::new();
    let r = root.root().to_string_lossy().into_owned();
    let sd;
    let p;
    {
        let store = LocalStore::open(root.root())?;
        p = populate(&store, src.path())?;
        sd = store.store_dir().clone();
    }
    // Our temp roots file is released with the store above.
    std::os::unix::fs::symlink(sd.display(&p[1]), root.root().join("nix/var/nix/gcroots/b"))?;
    let profile = Profile::new(root.root().join("nix/var/nix/profiles/test"));
    profile.set(std::path::Path::new(&sd.display(&p[4])))?;

    let lines = |s: &str| s.lines().map(str::to_string).collect::<BTreeSet<_>>();
    let (rc, live, err) = cppnix(&nix_store, &["--store", &r, "--gc", "--print-live"])?;
    assert_eq!(rc, 0, "{err}");
    let (_, dead, _) = cppnix(&nix_store, &["--store", &r, "--gc", "--print-dead"])?;
    let (_, roots, _) = cppnix(&nix_store, &["--store", &r, "--gc", "--print-roots"])?;

    let store = LocalStore::open(root.root())?;
    let mut log = |_: &str| {};
    let ours_live = store
        .collect_garbage(&opts(GcAction::ReturnLive), &mut log)?
        .paths;
    let ours_dead = store
        .collect_garbage(&opts(GcAction::ReturnDead), &mut log)?
        .paths;
    assert_eq!(ours_live, lines(&live));
    assert_eq!(ours_dead, lines(&dead));
    let found = store.find_roots(&mut log)?;
    let sdr = &sd;
    let ours_roots: BTreeSet<String> = found
        .iter()
        .flat_map(|(p, links)| {
            links
                .iter()
                .filter(|l| !l.starts_with('{'))
                .map(move |l| format!("{l} -> {}", sdr.display(p)))
        })
        .collect();
    assert_eq!(ours_roots, lines(&roots));

    // --delete of a live path fails, of a dead one works.
    let live_one = BTreeSet::from([p[0].clone()]);
    assert!(matches!(
        store.collect_garbage(&opts(GcAction::DeleteSpecific(live_one)), &mut log),
        Err(GcError::StillAlive { .. })
    ));
    let deleted = store.collect_garbage(&opts(GcAction::DeleteDead), &mut log)?;
    assert_eq!(deleted.paths, lines(&dead));
    for d in &deleted.paths {
        assert!(!store.is_valid_path(&sd.parse_path(d)?)?);
        assert!(!root
            .real_store_dir()
            .join(&d["/nix/store/".len()..])
            .exists());
    }
    drop(store);
    let (rc, _, err) = cppnix(&nix_store, &["--store", &r, "--verify", "--check-contents"])?;
    assert_eq!(rc, 0, "{err}");
    let (_, dead_after, _) = cppnix(&nix_store, &["--store", &r, "--gc", "--print-dead"])?;
    assert_eq!(dead_after.trim(), "");
    Ok(())
}

#[test]
fn temp_roots_protect_paths_of_live_processes() -> TestResult {
    let root = testkit::TempStore::new();
    let adder = LocalStore::open(root.root())?;
    let a = adder.add_text("a.txt", b"a", &BTreeSet::new())?;
    // A second store object in this process stands for another process: the temp roots file
    // of `adder` is locked, so the collector must keep `a`.
    let collector = LocalStore::open(root.root())?;
    let mut log = |_: &str| {};
    let dead = collector.collect_garbage(&opts(GcAction::DeleteDead), &mut log)?;
    assert!(dead.paths.is_empty());
    assert!(collector.is_valid_path(&a)?);
    drop(adder);
    let dead = collector.collect_garbage(&opts(GcAction::DeleteDead), &mut log)?;
    assert_eq!(dead.paths.len(), 1);
    Ok(())
}
