//! `build::realise`: graphs instantiated by CppNix 2.8 into a non-diverted store
//! (`local?store=R/nix/store&state=R/nix/var/nix&log=R/nix/var/log/nix`), built by us, checked
//! by CppNix (`--verify --check-contents`, `-l`) and compared with CppNix building the same
//! graph in another root.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use nix_derivation::build::builder::BuildError;
use nix_derivation::build::log::read_log;
use nix_derivation::build::realise::{realise, BuildObserver, RealiseOptions};
use nix_derivation::store::store::local::LocalStore;
use nix_derivation::store::store::Store;
use nix_derivation::store::store_path::{StoreDir, StorePath};

use crate::common::TestResult;

/// The CppNix URL of the non-diverted store rooted at `root`.
fn url(root: &Path) -> String {
    let r = root.display();
    format!("local?store={r}/nix/store&state={r}/nix/var/nix&log={r}/nix/var/log/nix")
}

fn open(root: &Path) -> Result<LocalStore, Box<dyn std::error::Error>> {
    let sd = StoreDir::new(format!("{}/nix/store", root.display()))?;
    Ok(LocalStore::open_with_store_dir(root, sd)?)
}

/// Adds a directory with `bin/busybox` and `bin/sh` (a symlink, so busybox runs `sh`) with
/// CppNix; returns its store path.
fn add_busybox(
    nix_store: &Path,
    root: &Path,
) -> Result<Option<String>, Box<dyn std::error::Error>> {
    if !testkit::have_busybox() {
        return Ok(None);
    }
    let src = root.join("bbsrc");
    std::fs::create_dir_all(src.join("bin"))?;
    std::fs::copy("/bin/busybox", src.join("bin/busybox"))?;
    std::os::unix::fs::symlink("busybox", src.join("bin/sh"))?;
    let out = Command::new(nix_store)
        .args(["--store", &url(root), "--add"])
        .arg(&src)
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(Some(String::from_utf8(out.stdout)?.trim().to_string()))
}

const GRAPH: &str = r#"bb: let sh = "${builtins.storePath bb}/bin/sh"; mk = name: script: extra: derivation ({ inherit name; system = "x86_64-linux"; builder = sh; args = [ "-c" script ]; } // extra); in rec {
  a = mk "a" "echo building a; echo a > $out" {};
  b = mk "b" "echo ${a} > $out" {};
  c = mk "c" "mkdir -p $out/bin; echo ${a} > $out/bin/x; echo '#!/bin/sh' > $out/bin/run; chmod 755 $out/bin/run; ln -s ${b} $out/link" {};
  multi = mk "multi" "echo ${c} > $out; echo $out > $dev; echo plain > $doc" { outputs = [ "out" "dev" "doc" ]; };
  top = mk "top" "echo ${multi.dev} ${b} > $out" {};
  fod = mk "fod" "echo -n hello > $out" { outputHashAlgo = "sha256"; outputHash = "sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="; };
  fodr = mk "fodr" "mkdir $out; echo -n hello > $out/x" { outputHashMode = "recursive"; outputHashAlgo = "sha256"; outputHash = "sha256-kkG27fx02iul3ousfYLxRNWvL2KPj7mekxj2g2G6ekE="; };
  badfod = mk "badfod" "echo -n hello > $out" { outputHashAlgo = "sha256"; outputHash = "0000000000000000000000000000000000000000000000000000"; };
  fail = mk "fail" "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo line $i; done; exit 3" {};
  dep = mk "dep" "echo ${fail} > $out" {};
  cycle = mk "cycle" "echo $dev > $out; echo $out > $dev" { outputs = [ "out" "dev" ]; };
  noout = mk "noout" "true" {};
}"#;

/// Instantiates attribute `attr` of [`GRAPH`] with CppNix into the store at `root`.
fn instantiate(root: &Path, bb: &str, attr: &str) -> Result<String, Box<dyn std::error::Error>> {
    let file = root.join("graph.nix");
    if !file.exists() {
        std::fs::write(&file, format!("({GRAPH}) \"{bb}\""))?;
    }
    let bin = testkit::reference("nix-instantiate").ok_or("nix-instantiate")?;
    let out = Command::new(bin)
        .args(["--store", &url(root)])
        .arg(&file)
        .args(["-A", attr])
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?.trim().to_string())
}

/// Builds with CppNix (no sandbox, no build users, no substituters); returns stdout lines.
fn cppnix_realise(
    nix_store: &Path,
    root: &Path,
    drv: &str,
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let out = Command::new(nix_store)
        .args(["--store", &url(root), "--realise", drv])
        .args(["--option", "build-users-group", ""])
        .args(["--option", "substituters", ""])
        .args(["--option", "sandbox", "false"])
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?
        .lines()
        .map(str::to_string)
        .collect())
}

fn options(dir: &Path) -> RealiseOptions {
    RealiseOptions {
        max_jobs: 2,
        build_dir_parent: dir.to_path_buf(),
        ..Default::default()
    }
}

#[test]
fn builds_a_graph_like_cppnix() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let ours = testkit::tempdir();
    let theirs = testkit::tempdir();
    let tmp = testkit::tempdir();
    let Some(bb) = add_busybox(&nix_store, ours.path())? else {
        return Ok(());
    };
    // The busybox path is content-addressed: the same name in both roots, modulo the dir.
    let bb_theirs = add_busybox(&nix_store, theirs.path())?.ok_or("busybox")?;
    let attrs = ["top", "fod", "fodr", "c"];
    let store = open(ours.path())?;
    let sd = store.store_dir().clone();
    let mut drvs = Vec::new();
    for a in attrs {
        drvs.push(sd.parse_path(&instantiate(ours.path(), &bb, a)?)?);
    }
    let built = realise(&store, &drvs, &options(tmp.path()))?;
    assert_eq!(built.len(), drvs.len());
    // CppNix accepts the store we built into.
    let verify = Command::new(&nix_store)
        .args(["--store", &url(ours.path()), "--verify", "--check-contents"])
        .output()?;
    let said = String::from_utf8_lossy(&verify.stderr);
    assert!(
        verify.status.success() && !said.contains("error") && !said.contains("modified"),
        "{said}"
    );
    // The same graph built by CppNix in another root has the same NAR hashes, references
    // (modulo the root), deriver and content addresses.
    let their_sd = StoreDir::new(format!("{}/nix/store", theirs.path().display()))?;
    for (drv, a) in drvs.iter().zip(attrs) {
        let their_drv = instantiate(theirs.path(), &bb_theirs, a)?;
        cppnix_realise(&nix_store, theirs.path(), &their_drv)?;
        let their_store = open(theirs.path())?;
        for (name, path) in &built[drv] {
            let mine = store
                .query_path_info(path)?
                .ok_or("our output is not valid")?;
            let their_path = their_sd.parse_path(&format!("{}/{}", their_sd, path.to_base_name()));
            // Output paths differ between roots (the store dir is in the hash): compare
            // through the drv's own outputs instead.
            let _ = their_path;
            let their_outs =
                their_store.query_derivation_outputs(&their_sd.parse_path(&their_drv)?)?;
            let theirs_info = their_store
                .query_path_info(&their_outs[name])?
                .ok_or("their output is not valid")?;
            assert_eq!(mine.nar_size, theirs_info.nar_size, "{a}.{name}");
            assert_eq!(
                mine.references.len(),
                theirs_info.references.len(),
                "{a}.{name}"
            );
            assert_eq!(mine.ca.is_some(), theirs_info.ca.is_some(), "{a}.{name}");
            assert!(mine.ultimate && mine.deriver.as_ref() == Some(drv));
            if a.starts_with("fod") {
                // content-addressed: identical in both roots
                assert_eq!(mine.nar_hash, theirs_info.nar_hash, "{a}.{name}");
                assert_eq!(mine.ca, theirs_info.ca);
            }
        }
    }
    // Building again does nothing (all outputs valid).
    let again = realise(&store, &drvs, &options(tmp.path()))?;
    assert_eq!(again, built);
    // Logs are where CppNix reads them.
    let a = sd.parse_path(&instantiate(ours.path(), &bb, "a")?)?;
    let log = read_log(&store.layout().log_dir(), &a)?.ok_or("no log")?;
    assert_eq!(log, b"building a\n");
    let out = Command::new(&nix_store)
        .args(["--store", &url(ours.path()), "-l", &sd.display(&a)])
        .output()?;
    assert_eq!(out.stdout, b"building a\n");
    // Build directories are gone.
    assert_eq!(std::fs::read_dir(tmp.path())?.count(), 0);
    Ok(())
}

/// Records what the observer sees.
#[derive(Default)]
struct Recorder {
    started: Mutex<Vec<StorePath>>,
    running: AtomicUsize,
    max_running: AtomicUsize,
    failures: Mutex<Vec<String>>,
}

impl BuildObserver for Recorder {
    fn started(&self, drv: &StorePath) {
        self.started.lock().map(|mut v| v.push(drv.clone())).ok();
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(now, Ordering::SeqCst);
    }
    fn log(&self, _drv: &StorePath, _bytes: &[u8]) {}
    fn failed(&self, e: &BuildError) {
        self.failures.lock().map(|mut v| v.push(e.to_string())).ok();
    }
}

fn realise_error(
    store: &LocalStore,
    drvs: &[StorePath],
    opts: &RealiseOptions,
) -> Result<Box<nix_derivation::build::realise::RealiseFailure>, Box<dyn std::error::Error>> {
    match realise(store, drvs, opts) {
        Err(BuildError::Realise(f)) => Ok(f),
        other => Err(format!("expected a build failure, got {other:?}").into()),
    }
}

fn valid_outputs(
    store: &LocalStore,
    root: &Path,
) -> Result<BTreeSet<String>, Box<dyn std::error::Error>> {
    let _ = root;
    Ok(store
        .query_all_valid_paths()?
        .iter()
        .filter(|p| !p.name().ends_with(".drv") && !p.name().ends_with("bbsrc"))
        .map(|p| p.to_base_name())
        .collect())
}

#[test]
fn failures_register_nothing_and_say_why() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let root = testkit::tempdir();
    let tmp = testkit::tempdir();
    let Some(bb) = add_busybox(&nix_store, root.path())? else {
        return Ok(());
    };
    let store = open(root.path())?;
    let sd = store.store_dir().clone();
    let drv = |a: &str| -> Result<StorePath, Box<dyn std::error::Error>> {
        Ok(sd.parse_path(&instantiate(root.path(), &bb, a)?)?)
    };
    let (fail, dep, badfod, cycle, noout) = (
        drv("fail")?,
        drv("dep")?,
        drv("badfod")?,
        drv("cycle")?,
        drv("noout")?,
    );

    // A failing builder: exit status, log tail, the dependent fails too.
    let rec = Arc::new(Recorder::default());
    let mut opts = options(tmp.path());
    opts.observer = Some(rec.clone());
    let f = realise_error(&store, std::slice::from_ref(&dep), &opts)?;
    assert_eq!(f.exit_status(), 100);
    assert_eq!(f.logged.len(), 1);
    match &f.logged[0] {
        BuildError::Failed { drv, log_tail, .. } => {
            assert_eq!(drv, &sd.display(&fail));
            assert_eq!(log_tail.len(), 10);
            assert_eq!(log_tail[9], b"line 12");
        }
        e => return Err(format!("unexpected {e}").into()),
    }
    assert_eq!(
        f.logged[0].to_string(),
        format!(
            "builder for '{}' failed with exit code 3",
            sd.display(&fail)
        )
    );
    assert_eq!(
        f.to_string(),
        format!(
            "1 dependencies of derivation '{}' failed to build",
            sd.display(&dep)
        )
    );
    assert_eq!(rec.failures.lock().map(|v| v.len()).unwrap_or(0), 1);
    // The log of the failed build is kept and readable by CppNix.
    let out = Command::new(&nix_store)
        .args(["--store", &url(root.path()), "-l", &sd.display(&fail)])
        .output()?;
    assert!(out.stdout.starts_with(b"line 1\nline 2\n"));

    // Wrong fixed-output hash: CppNix's message and status.
    let f = realise_error(&store, std::slice::from_ref(&badfod), &opts)?;
    assert_eq!(f.exit_status(), 102);
    assert_eq!(
        f.to_string(),
        format!("hash mismatch in fixed-output derivation '{}':\n         specified: sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n            got:    sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=", sd.display(&badfod))
    );
    // Cycles between outputs, and missing outputs.
    let f = realise_error(&store, std::slice::from_ref(&cycle), &opts)?;
    assert_eq!(
        f.to_string(),
        format!(
            "cycle detected in build of '{}' in the references of output 'dev' from output 'out'",
            sd.display(&cycle)
        )
    );
    let f = realise_error(&store, std::slice::from_ref(&noout), &opts)?;
    assert_eq!(f.exit_status(), 1);
    assert!(f
        .to_string()
        .contains("failed to produce output path for output 'out'"));

    // Keep going: both roots are tried, the final message names both.
    opts.keep_going = true;
    let f = realise_error(&store, &[badfod.clone(), cycle.clone()], &opts)?;
    assert_eq!(f.failed.len(), 2);
    assert!(f.to_string().starts_with("build of '"));

    // Nothing was registered but the wrong fixed output, at the path of its actual hash (as
    // CppNix 2.8 does); no other output files or build directories are left.
    let valid = valid_outputs(&store, root.path())?;
    assert_eq!(valid.len(), 1, "{valid:?}");
    assert!(valid.iter().all(|p| p.ends_with("-badfod")), "{valid:?}");
    let leftovers: Vec<PathBuf> = std::fs::read_dir(store.layout().real_store_dir())?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            let n = p.to_string_lossy();
            !n.ends_with(".drv")
                && !n.ends_with("-bbsrc")
                && !valid.iter().any(|v| n.ends_with(v.as_str()))
                && !n.ends_with(".lock")
                && !n.ends_with(".links")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(std::fs::read_dir(tmp.path())?.count(), 0);
    Ok(())
}

#[test]
fn max_jobs_is_respected() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let root = testkit::tempdir();
    let tmp = testkit::tempdir();
    let Some(bb) = add_busybox(&nix_store, root.path())? else {
        return Ok(());
    };
    let store = open(root.path())?;
    let sd = store.store_dir().clone();
    let drvs: Vec<StorePath> = ["a", "b", "c", "fod", "fodr"]
        .iter()
        .map(|a| Ok(sd.parse_path(&instantiate(root.path(), &bb, a)?)?))
        .collect::<Result<_, Box<dyn std::error::Error>>>()?;
    let rec = Arc::new(Recorder::default());
    // A counting observer cannot see ends; with one job, starts are strictly sequential and
    // every build happens once.
    let opts = RealiseOptions {
        max_jobs: 1,
        observer: Some(rec.clone()),
        ..options(tmp.path())
    };
    realise(&store, &drvs, &opts)?;
    let started = rec.started.lock().map(|v| v.clone()).unwrap_or_default();
    assert_eq!(started.len(), 5);
    assert_eq!(started.iter().collect::<BTreeSet<_>>().len(), 5);
    // a (input of b and c) is built before them
    let pos = |p: &StorePath| started.iter().position(|x| x == p);
    assert!(pos(&drvs[0]) < pos(&drvs[1]) && pos(&drvs[0]) < pos(&drvs[2]));
    Ok(())
}

/// Counts builds.
#[derive(Default)]
struct Starts(AtomicUsize);

impl BuildObserver for Starts {
    fn started(&self, _drv: &StorePath) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn substitutes_outputs_instead_of_building() -> TestResult {
    use nix_derivation::store::cache::{copy_to_cache, file::FileCache, CopyOptions, Substituters};
    use nix_derivation::store::narinfo::keys::PublicKeys;
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let dir = testkit::tempdir();
    let tmp = testkit::tempdir();
    // The same root path twice (so the same store directory and paths): build, copy the
    // outputs to a file:// cache, start over with an empty store, substitute.
    let root = dir.path().join("r");
    let cache_dir = dir.path().join("cache");
    let Some(bb) = add_busybox(&nix_store, &root)? else {
        return Ok(());
    };
    let b = {
        let store = open(&root)?;
        let b = store
            .store_dir()
            .parse_path(&instantiate(&root, &bb, "b")?)?;
        let built = realise(&store, std::slice::from_ref(&b), &options(tmp.path()))?;
        let cache = FileCache::open(&cache_dir, store.store_dir().clone())?;
        let outs: BTreeSet<StorePath> = built[&b].values().cloned().collect();
        copy_to_cache(&store, &cache, &outs, &CopyOptions::default())?;
        b
    };
    nix_derivation::build::register::remove_tree(&root)?;
    let bb2 = add_busybox(&nix_store, &root)?.ok_or("busybox")?;
    assert_eq!(bb, bb2);
    let store = open(&root)?;
    assert_eq!(
        store
            .store_dir()
            .parse_path(&instantiate(&root, &bb, "b")?)?,
        b
    );
    let cache = FileCache::open(&cache_dir, store.store_dir().clone())?;
    let subs = Substituters::new(vec![Box::new(cache)], PublicKeys::default()).check_sigs(false);
    let starts = Arc::new(Starts::default());
    let opts = RealiseOptions {
        substituter: Some(Arc::new(subs)),
        observer: Some(starts.clone()),
        ..options(tmp.path())
    };
    let got = realise(&store, std::slice::from_ref(&b), &opts)?;
    assert_eq!(starts.0.load(Ordering::SeqCst), 0, "nothing is built");
    let out = &got[&b]["out"];
    assert!(store.is_valid_path(out)?);
    // b's output refers to a's, which came along.
    assert_eq!(store.query_references(out)?.len(), 1);
    assert!(store.verify(true, false)?.is_clean());
    Ok(())
}
