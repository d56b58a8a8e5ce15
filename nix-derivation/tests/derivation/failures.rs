//! Build failures with CppNix 2.8's consequences: a fixed output with the wrong hash (status
//! 102, registered under its actual content address), timeouts (status 101) and `--check`
//! (status 104). Each graph is instantiated by CppNix into two diverted roots, built by us in
//! one and by CppNix in the other.

use std::path::Path;

use nix_derivation::build::builder::BuildError;
use nix_derivation::build::realise::realise;
use nix_derivation::store::store::local::LocalStore;
use nix_derivation::store::store::Store;

use crate::attrs::{cppnix_failure, cppnix_failure_with, options, setup, tools};
use crate::common::cpp;
use crate::common::TestResult;

const GRAPH: &str = r#"let bb = builtins.storePath "BB"; sh = "${bb}/bin/sh";
  mk = name: script: extra: derivation ({ inherit name; system = "x86_64-linux"; builder = sh; args = [ "-c" script ]; } // extra);
in {
  badfod = mk "badfod" "echo -n hello > $out" { outputHashAlgo = "sha256"; outputHash = "0000000000000000000000000000000000000000000000000000"; };
  slow = mk "slow" "while true; do echo tick; sleep 0.3; done" {};
  silent = mk "silent" "echo start; sleep 20 & sleep 20; echo end > $out" {};
  nondet = mk "nondet" "cat /proc/sys/kernel/random/uuid > $out" {};
  det = mk "det" "echo same > $out" {};
  mo = mk "mo" "cat /proc/sys/kernel/random/uuid > $out; echo $out > $dev" { outputs = [ "out" "dev" ]; };
  unbuilt = mk "unbuilt" "echo same > $out" {};
  badfodr = mk "badfodr" "mkdir $out; echo -n hello > $out/x" { outputHashMode = "recursive"; outputHashAlgo = "sha1"; outputHash = "0000000000000000000000000000000000000000"; };
}"#;

/// The store entries of `root` whose names contain `part`, except `.drv` and `.lock` files.
fn entries(root: &Path, part: &str) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(root.join("nix/store"))? {
        let n = e?.file_name().to_string_lossy().into_owned();
        if n.contains(part) && !n.ends_with(".drv") && !n.ends_with(".lock") {
            v.push(format!("/nix/store/{n}"));
        }
    }
    v.sort();
    Ok(v)
}

#[test]
fn hash_mismatch_registers_the_actual_path_like_cppnix() -> TestResult {
    let Some((nix_store, nix_instantiate)) = tools() else {
        return Ok(());
    };
    let Some(nix) = testkit::reference("nix") else {
        return Ok(());
    };
    let (ours, theirs, tmp) = (testkit::tempdir(), testkit::tempdir(), testkit::tempdir());
    let attrs = ["badfod", "badfodr"];
    let drvs = setup(&nix_store, &nix_instantiate, ours.path(), GRAPH, &attrs)?;
    setup(&nix_store, &nix_instantiate, theirs.path(), GRAPH, &attrs)?;
    let store = LocalStore::open(ours.path())?;
    let sd = store.store_dir().clone();
    let (r1, r2) = (
        ours.path().to_str().ok_or("root")?,
        theirs.path().to_str().ok_or("root")?,
    );
    for (name, drv) in attrs.iter().zip(&drvs) {
        let want = cppnix_failure(&nix_store, r2, drv)?;
        let got = match realise(&store, &[sd.parse_path(drv)?], &options(tmp.path())) {
            Err(BuildError::Realise(f)) => (f.to_string(), f.exit_status()),
            other => return Err(format!("{name}: expected a failure, got {other:?}").into()),
        };
        assert_eq!(got, want, "{name}");
        assert_eq!(want.1, 102);
        // The output is valid at the path of its actual hash, with the same info.
        let paths = entries(theirs.path(), name)?;
        assert_eq!(paths.len(), 1, "{paths:?}");
        assert_eq!(entries(ours.path(), name)?, paths, "{name}");
        let info = |root: &str| -> Result<serde_json::Value, Box<dyn std::error::Error>> {
            let text = cpp(
                &nix,
                &[
                    "--extra-experimental-features",
                    "nix-command",
                    "path-info",
                    "--json",
                    "--store",
                    root,
                    &paths[0],
                ],
            )?
            .join("");
            let mut v: serde_json::Value = serde_json::from_str(&text)?;
            if let Some(o) = v.get_mut(0).and_then(|o| o.as_object_mut()) {
                o.remove("registrationTime");
            }
            Ok(v)
        };
        assert_eq!(info(r1)?, info(r2)?, "{name}");
        // The expected path is not valid.
        let expected = cpp(&nix_store, &["--store", r1, "-q", "--outputs", drv])?.join("");
        assert!(!ours.path().join(expected.trim_start_matches('/')).exists());
    }
    Ok(())
}

#[test]
fn timeouts_like_cppnix() -> TestResult {
    let Some((nix_store, nix_instantiate)) = tools() else {
        return Ok(());
    };
    let (ours, theirs, tmp) = (testkit::tempdir(), testkit::tempdir(), testkit::tempdir());
    let attrs = ["slow", "silent"];
    let drvs = setup(&nix_store, &nix_instantiate, ours.path(), GRAPH, &attrs)?;
    setup(&nix_store, &nix_instantiate, theirs.path(), GRAPH, &attrs)?;
    let store = LocalStore::open(ours.path())?;
    let sd = store.store_dir().clone();
    let r2 = theirs.path().to_str().ok_or("root")?;
    for ((name, drv), flag) in attrs
        .iter()
        .zip(&drvs)
        .zip(["--timeout", "--max-silent-time"])
    {
        let want = cppnix_failure_with(&nix_store, r2, drv, &[flag, "1"])?;
        let mut opts = options(tmp.path());
        if *name == "slow" {
            opts.build.timeout = 1;
        } else {
            opts.build.max_silent_time = 1;
        }
        let got = match realise(&store, &[sd.parse_path(drv)?], &opts) {
            Err(BuildError::Realise(f)) => (f.to_string(), f.exit_status()),
            other => return Err(format!("{name}: expected a failure, got {other:?}").into()),
        };
        assert_eq!(got, want, "{name}");
        assert_eq!(want.1, 101);
    }
    assert_eq!(std::fs::read_dir(tmp.path())?.count(), 0, "build dirs left");
    Ok(())
}

/// `nix-store -r --check` by CppNix in `root`: (stderr from `error: `, status).
fn cppnix_check(
    nix_store: &Path,
    root: &str,
    drv: &str,
    extra: &[&str],
) -> Result<(String, i32), Box<dyn std::error::Error>> {
    let mut flags = vec!["--check"];
    flags.extend(extra);
    cppnix_failure_with(nix_store, root, drv, &flags)
}

#[test]
fn check_rebuilds_and_compares_like_cppnix() -> TestResult {
    let Some((nix_store, nix_instantiate)) = tools() else {
        return Ok(());
    };
    let (ours, theirs, tmp) = (testkit::tempdir(), testkit::tempdir(), testkit::tempdir());
    let attrs = ["nondet", "det", "unbuilt"];
    let drvs = setup(&nix_store, &nix_instantiate, ours.path(), GRAPH, &attrs)?;
    setup(&nix_store, &nix_instantiate, theirs.path(), GRAPH, &attrs)?;
    let store = LocalStore::open(ours.path())?;
    let sd = store.store_dir().clone();
    let (r1, r2) = (
        ours.path().to_str().ok_or("root")?,
        theirs.path().to_str().ok_or("root")?,
    );
    let paths = drvs
        .iter()
        .map(|d| sd.parse_path(d))
        .collect::<Result<Vec<_>, _>>()?;
    // Build the first two normally, on both sides.
    realise(&store, &paths[..2], &options(tmp.path()))?;
    let mut args = vec!["--store", r2, "--realise", &drvs[0], &drvs[1]];
    args.extend(crate::attrs::OPTS);
    cpp(&nix_store, &args)?;

    let mut check = options(tmp.path());
    check.check = true;
    // Deterministic: fine on both sides, nothing changes.
    let out = realise(&store, &paths[1..2], &check)?;
    assert_eq!(out[&paths[1]].len(), 1);
    let mut args = vec!["--store", r2, "--realise", "--check", &drvs[1]];
    args.extend(crate::attrs::OPTS);
    cpp(&nix_store, &args)?;
    // Not deterministic, and not built: CppNix's messages (with each root's real path) and
    // statuses; with keep-failed the rebuild is kept at `<output>.check` and named.
    for (i, keep) in [(0, false), (0, true), (2, false)] {
        let extra: &[&str] = if keep { &["-K"] } else { &[] };
        let want = cppnix_check(&nix_store, r2, &drvs[i], extra)?;
        let mut opts = check.clone();
        opts.keep_failed = keep;
        let got = match realise(&store, &paths[i..=i], &opts) {
            Err(BuildError::Realise(f)) => (f.to_string().replace(r1, r2), f.exit_status()),
            other => return Err(format!("{}: expected a failure, got {other:?}", drvs[i]).into()),
        };
        assert_eq!(got, want, "{} keep-failed {keep}", drvs[i]);
    }
    // The valid output is untouched: CppNix's verification still accepts our store.
    let verify = std::process::Command::new(&nix_store)
        .args(["--store", r1, "--verify", "--check-contents"])
        .output()?;
    let said = String::from_utf8_lossy(&verify.stderr);
    assert!(
        verify.status.success() && !said.contains("modified"),
        "{said}"
    );
    Ok(())
}

#[test]
fn some_outputs_valid_like_cppnix() -> TestResult {
    let Some((nix_store, nix_instantiate)) = tools() else {
        return Ok(());
    };
    let (ours, theirs, tmp) = (testkit::tempdir(), testkit::tempdir(), testkit::tempdir());
    let drvs = setup(&nix_store, &nix_instantiate, ours.path(), GRAPH, &["mo"])?;
    setup(&nix_store, &nix_instantiate, theirs.path(), GRAPH, &["mo"])?;
    let store = LocalStore::open(ours.path())?;
    let sd = store.store_dir().clone();
    let (r1, r2) = (
        ours.path().to_str().ok_or("root")?,
        theirs.path().to_str().ok_or("root")?,
    );
    let drv = sd.parse_path(&drvs[0])?;
    let built = realise(&store, std::slice::from_ref(&drv), &options(tmp.path()))?;
    let mut args = vec!["--store", r2, "--realise", &drvs[0]];
    args.extend(crate::attrs::OPTS);
    cpp(&nix_store, &args)?;
    let out = sd.display(&built[&drv]["out"]);
    let dev = sd.display(&built[&drv]["dev"]);
    let read = |root: &Path, p: &str| std::fs::read_to_string(root.join(p.trim_start_matches('/')));
    let before = read(ours.path(), &out)?;
    // Lose `dev` on both sides; building again restores it and keeps `out` as it was. (Our
    // store's temporary roots go away with it.)
    drop(store);
    for r in [r1, r2] {
        cpp(
            &nix_store,
            &["--store", r, "--delete", "--ignore-liveness", &dev],
        )?;
    }
    let store = LocalStore::open(ours.path())?;
    let again = realise(&store, std::slice::from_ref(&drv), &options(tmp.path()))?;
    assert_eq!(again, built);
    cpp(&nix_store, &args)?;
    assert_eq!(read(ours.path(), &out)?, before);
    let q = |r: &str, p: &str| cpp(&nix_store, &["--store", r, "-q", "--hash", p]);
    assert_eq!(q(r1, &dev)?, q(r2, &dev)?);
    let verify = std::process::Command::new(&nix_store)
        .args(["--store", r1, "--verify", "--check-contents"])
        .output()?;
    let said = String::from_utf8_lossy(&verify.stderr);
    assert!(
        verify.status.success() && !said.contains("modified"),
        "{said}"
    );
    assert_eq!(std::fs::read_dir(tmp.path())?.count(), 0, "build dirs left");
    Ok(())
}
