//! `build::attrs` and the output checks of `build::register`, against CppNix 2.8: structured
//! attributes (`.attrs.json`, `.attrs.sh`, the environment, `exportReferencesGraph` in
//! structured mode), output placeholders, `exportReferencesGraph` files, and the errors and
//! exit statuses of `allowedReferences`/… and `outputChecks`. The same graph, instantiated by
//! CppNix into two diverted roots, is built by us in one and by CppNix (in its sandbox) in
//! the other; the outputs must have the same NAR hashes and the failures the same messages
//! and exit statuses.

use std::path::{Path, PathBuf};
use std::process::Command;

use nix_derivation::build::builder::BuildError;
use nix_derivation::build::realise::{realise, RealiseOptions, SandboxMode};
use nix_derivation::build::sandbox;
use nix_derivation::store::store::local::LocalStore;
use nix_derivation::store::store::Store;

use crate::common::cpp;
use crate::common::TestResult;

/// CppNix flags: no build users, no substituters (the sandbox stays on, as a diverted store
/// needs).
pub(crate) const OPTS: [&str; 6] = [
    "--option",
    "build-users-group",
    "",
    "--option",
    "substituters",
    "",
];

/// `BB` is replaced by the busybox directory's store path. `$o` in the scripts is the output
/// placeholder (`${placeholder "out"}`), which CppNix rewrites in the arguments.
const GRAPH: &str = r#"let bb = builtins.storePath "BB"; sh = "${bb}/bin/sh"; o = placeholder "out";
  mk = name: script: extra: derivation ({ inherit name; system = "x86_64-linux"; builder = sh; args = [ "-c" script ]; } // extra);
in rec {
  dep = mk "dep" "echo hi > $out" {};
  dep2 = mk "dep2" "echo ${dep} > $out" {};
  fod = mk "fod" "echo -n hello > $out" { outputHashAlgo = "sha256"; outputHash = "sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="; };
  sa = mk "sa" "mkdir ${o}; echo dev > ${placeholder "dev"}; cat .attrs.json > ${o}/json; cat .attrs.sh > ${o}/sh; env | sort | sed 's|^\\(NIX_ATTRS_[A-Z_]*_FILE=\\).*/|\\1|' > ${o}/env; ls -a > ${o}/ls" {
    __structuredAttrs = true; outputs = [ "out" "dev" ];
    str = "a'b \"c\" \n d\t"; int = 42; neg = -3; fl = 1.5; fl2 = 2.0; big = 12345678901; t = true; f = false; n = null;
    lst = [ "x" 1 true false null ]; lst2 = [ "x" [ 1 ] ]; set = { a = "b"; "c d" = 1; "e'f" = true; }; nested = { a = { b = 1; }; };
    "bad-name" = 1; empty = []; eset = {}; uni = "é☃"; self = "${o}/x";
    exportReferencesGraph = { graph = [ dep2 ]; both = [ dep2 fod ]; one = "${fod}"; drvs = [ dep2.drvPath ]; };
  };
  ph = mk "ph" "echo $foo > $out; cat $barPath >> $out; echo ${o} >> $out" { foo = "x${o}y"; bar = "${o}"; passAsFile = [ "bar" ]; };
  erg = mk "erg" "mkdir $out; cp g1 g2 g3 $out/" { exportReferencesGraph = [ "g1" dep2 "g2" "${bb}/bin/sh" "g3" dep2.drvPath ]; };
  arq2 = mk "arq2" "echo ${dep2} $out > $out" { allowedRequisites = [ dep2 dep "out" ]; };
  sachk6 = mk "sachk6" "echo ${dep2} > ${o}" { __structuredAttrs = true; outputChecks.out = { allowedRequisites = [ dep2 dep "out" ]; maxSize = 1000; maxClosureSize = 1000; }; };
  ar = mk "ar" "echo ${dep2} > $out" { allowedReferences = [ dep ]; };
  ar2 = mk "ar2" "echo ${dep2} $out > $out" { allowedReferences = [ dep2 ]; };
  arq = mk "arq" "echo ${dep2} $out > $out" { allowedRequisites = [ dep2 ]; };
  dr = mk "dr" "echo ${dep2} > $out" { disallowedReferences = [ dep2 ]; };
  drq = mk "drq" "echo ${dep2} > $out" { disallowedRequisites = [ dep ]; };
  ill = mk "ill" "echo ${dep2} > $out" { allowedReferences = [ "foo" ]; };
  ergodd = mk "ergodd" "true" { exportReferencesGraph = [ "g1" ]; };
  ergbad = mk "ergbad" "true" { exportReferencesGraph = [ "g/1" dep2 ]; };
  ergns = mk "ergns" "true" { exportReferencesGraph = [ "g1" "/tmp/x" ]; };
  ergnotin = mk "ergnotin" "true" { exportReferencesGraph = [ "g1" (builtins.unsafeDiscardStringContext dep.outPath) ]; };
  sachk = mk "sachk" "echo ${dep2} > ${o}" { __structuredAttrs = true; outputChecks.out.allowedReferences = [ dep ]; };
  sachk2 = mk "sachk2" "echo ${dep2} > ${o}" { __structuredAttrs = true; outputChecks.out = { allowedRequisites = [ dep2 ]; maxSize = 10; }; };
  sachk3 = mk "sachk3" "echo ${dep2} > ${o}" { __structuredAttrs = true; outputChecks.out = { maxClosureSize = 300; }; };
  sachk4 = mk "sachk4" "echo ${dep2} > ${o}" { __structuredAttrs = true; outputChecks.out = { allowedRequisites = [ dep2 dep ]; }; };
  sachk5 = mk "sachk5" "echo ${dep2} > ${o}" { __structuredAttrs = true; outputChecks.out = { disallowedReferences = [ 1 ]; }; };
}"#;

/// Derivations that build.
const GOOD: [&str; 5] = ["sa", "ph", "erg", "arq2", "sachk6"];

/// Derivations that fail before or after their builder.
const BAD: [&str; 15] = [
    "ar", "ar2", "arq", "dr", "drq", "ill", "ergodd", "ergbad", "ergns", "ergnotin", "sachk",
    "sachk2", "sachk3", "sachk4", "sachk5",
];

/// The tools, or `None` (SKIP printed) when something is missing.
pub(crate) fn tools() -> Option<(PathBuf, PathBuf)> {
    let nix_store = testkit::reference("nix-store")?;
    let nix_instantiate = testkit::reference("nix-instantiate")?;
    if !testkit::have_busybox() {
        return None;
    }
    if let Err(e) = sandbox::available() {
        eprintln!("SKIP: {e}");
        return None;
    }
    Some((nix_store, nix_instantiate))
}

/// A diverted root with busybox added by CppNix and the attributes `attrs` of `graph` (with
/// `BB` replaced by busybox's store path) instantiated; returns their `.drv` paths.
pub(crate) fn setup(
    nix_store: &Path,
    nix_instantiate: &Path,
    root: &Path,
    graph: &str,
    attrs: &[&str],
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let src = root.join("bbsrc");
    std::fs::create_dir_all(src.join("bin"))?;
    std::fs::copy("/bin/busybox", src.join("bin/busybox"))?;
    std::os::unix::fs::symlink("busybox", src.join("bin/sh"))?;
    let r = root.to_str().ok_or("root")?;
    let bb = cpp(
        nix_store,
        &["--store", r, "--add", src.to_str().ok_or("src")?],
    )?
    .join("");
    let file = root.join("graph.nix");
    std::fs::write(&file, graph.replace("BB", &bb))?;
    let file_s = file.to_str().ok_or("file")?;
    let mut args = vec!["--store", r, file_s];
    for a in attrs {
        args.extend(["-A", a]);
    }
    cpp(nix_instantiate, &args)
}

pub(crate) fn options(tmp: &Path) -> RealiseOptions {
    RealiseOptions {
        max_jobs: 2,
        sandbox: SandboxMode::Enabled,
        build_dir_parent: tmp.to_path_buf(),
        ..Default::default()
    }
}

#[test]
fn structured_attrs_and_reference_graphs_like_cppnix() -> TestResult {
    let Some((nix_store, nix_instantiate)) = tools() else {
        return Ok(());
    };
    let (ours, theirs, tmp) = (testkit::tempdir(), testkit::tempdir(), testkit::tempdir());
    let drvs = setup(&nix_store, &nix_instantiate, ours.path(), GRAPH, &GOOD)?;
    assert_eq!(
        drvs,
        setup(&nix_store, &nix_instantiate, theirs.path(), GRAPH, &GOOD)?
    );
    let store = LocalStore::open(ours.path())?;
    let sd = store.store_dir().clone();
    let paths = drvs
        .iter()
        .map(|d| sd.parse_path(d))
        .collect::<Result<Vec<_>, _>>()?;
    let built = realise(&store, &paths, &options(tmp.path()))?;

    let r2 = theirs.path().to_str().ok_or("root")?;
    let mut args = vec!["--store", r2, "--realise"];
    args.extend(drvs.iter().map(String::as_str));
    args.extend(OPTS);
    cpp(&nix_store, &args)?;

    let r1 = ours.path().to_str().ok_or("root")?;
    for drv in &paths {
        for out in built[drv].values() {
            let shown = sd.display(out);
            // The files first, for a readable failure.
            let mine = ours.path().join(shown.trim_start_matches('/'));
            let theirs_file = theirs.path().join(shown.trim_start_matches('/'));
            if mine.is_dir() {
                for e in std::fs::read_dir(&theirs_file)? {
                    let name = e?.file_name();
                    assert_eq!(
                        String::from_utf8_lossy(&std::fs::read(mine.join(&name))?),
                        String::from_utf8_lossy(&std::fs::read(theirs_file.join(&name))?),
                        "{shown}/{}",
                        name.to_string_lossy()
                    );
                }
            } else {
                assert_eq!(
                    String::from_utf8_lossy(&std::fs::read(&mine)?),
                    String::from_utf8_lossy(&std::fs::read(&theirs_file)?),
                    "{shown}"
                );
            }
            let q = |root: &str| cpp(&nix_store, &["--store", root, "-q", "--hash", &shown]);
            assert_eq!(q(r1)?, q(r2)?, "NAR hash of {shown}");
        }
    }
    // The structured attributes really were there (not two empty files).
    let sa = sd.display(&built[&paths[0]]["out"]);
    let json = std::fs::read_to_string(ours.path().join(sa.trim_start_matches('/')).join("json"))?;
    assert!(json.contains("\"closureSize\"") && json.contains("\"outputs\":{\"dev\""));
    Ok(())
}

/// CppNix's message (after `error: `, to the end) and exit status for building `drv`.
pub(crate) fn cppnix_failure(
    nix_store: &Path,
    root: &str,
    drv: &str,
) -> Result<(String, i32), Box<dyn std::error::Error>> {
    cppnix_failure_with(nix_store, root, drv, &[])
}

/// [`cppnix_failure`] with more flags.
pub(crate) fn cppnix_failure_with(
    nix_store: &Path,
    root: &str,
    drv: &str,
    extra: &[&str],
) -> Result<(String, i32), Box<dyn std::error::Error>> {
    // CppNix's build directories (kept with `-K`) go to a throwaway TMPDIR.
    let tmp = testkit::tempdir();
    let out = Command::new(nix_store)
        .env("TMPDIR", tmp.path())
        .args(["--store", root, "--realise", drv, "-Q"])
        .args(OPTS)
        .args(extra)
        .output()?;
    let stderr = String::from_utf8(out.stderr)?;
    let at = stderr.find("error: ").ok_or_else(|| stderr.clone())?;
    Ok((
        stderr[at + 7..].trim_end().to_string(),
        out.status.code().unwrap_or(-1),
    ))
}

#[test]
fn output_checks_and_graph_errors_like_cppnix() -> TestResult {
    let Some((nix_store, nix_instantiate)) = tools() else {
        return Ok(());
    };
    let (ours, theirs, tmp) = (testkit::tempdir(), testkit::tempdir(), testkit::tempdir());
    let drvs = setup(&nix_store, &nix_instantiate, ours.path(), GRAPH, &BAD)?;
    setup(&nix_store, &nix_instantiate, theirs.path(), GRAPH, &BAD)?;
    let store = LocalStore::open(ours.path())?;
    let sd = store.store_dir().clone();
    let r2 = theirs.path().to_str().ok_or("root")?;
    for (name, drv) in BAD.iter().zip(&drvs) {
        let (want, status) = cppnix_failure(&nix_store, r2, drv)?;
        let got = match realise(&store, &[sd.parse_path(drv)?], &options(tmp.path())) {
            Err(BuildError::Realise(f)) => (f.to_string(), f.exit_status()),
            other => return Err(format!("{name}: expected a failure, got {other:?}").into()),
        };
        assert_eq!(got, (want, status), "{name}");
        // Nothing of the failed build is valid or left behind.
        let outs = cpp(
            &nix_store,
            &[
                "--store",
                ours.path().to_str().ok_or("root")?,
                "-q",
                "--outputs",
                drv,
            ],
        )?;
        for o in outs {
            assert!(!ours.path().join(o.trim_start_matches('/')).exists(), "{o}");
        }
    }
    assert_eq!(std::fs::read_dir(tmp.path())?.count(), 0, "build dirs left");
    Ok(())
}

/// Without the sandbox (non-diverted roots, `sandbox = false` on both sides): the same
/// `.attrs.json`/`.attrs.sh` and placeholder rewriting, up to the roots' store directories.
#[test]
fn structured_attrs_without_sandbox_like_cppnix() -> TestResult {
    let (Some(nix_store), Some(nix_instantiate)) = (
        testkit::reference("nix-store"),
        testkit::reference("nix-instantiate"),
    ) else {
        return Ok(());
    };
    if !testkit::have_busybox() {
        return Ok(());
    }
    let graph = r#"derivation { name = "plain"; system = "x86_64-linux"; builder = "/bin/busybox"; __structuredAttrs = true;
      args = [ "sh" "-c" "/bin/busybox mkdir ${placeholder "out"}; /bin/busybox cp .attrs.json .attrs.sh ${placeholder "out"}/; echo $NIX_ATTRS_SH_FILE | /bin/busybox sed 's|.*/||' > ${placeholder "out"}/var" ];
      list = [ 1 "two" true ]; set = { a = "b"; }; s = "${placeholder "out"}/bin"; }"#;
    let (ours, theirs, tmp) = (testkit::tempdir(), testkit::tempdir(), testkit::tempdir());
    let mut drvs = Vec::new();
    for root in [ours.path(), theirs.path()] {
        let r = root.display();
        let url =
            format!("local?store={r}/nix/store&state={r}/nix/var/nix&log={r}/nix/var/log/nix");
        std::fs::write(root.join("g.nix"), graph)?;
        let drv = cpp(
            &nix_instantiate,
            &["--store", &url, root.join("g.nix").to_str().ok_or("path")?],
        )?
        .join("");
        drvs.push((url, drv));
    }
    let sd = nix_derivation::store::store_path::StoreDir::new(format!(
        "{}/nix/store",
        ours.path().display()
    ))?;
    let store = LocalStore::open_with_store_dir(ours.path(), sd.clone())?;
    let drv = sd.parse_path(&drvs[0].1)?;
    let mut opts = options(tmp.path());
    opts.sandbox = SandboxMode::Disabled;
    let built = realise(&store, std::slice::from_ref(&drv), &opts)?;
    let mut args = vec!["--store", &drvs[1].0, "--realise", &drvs[1].1];
    args.extend(OPTS);
    args.extend(["--option", "sandbox", "false"]);
    let theirs_out = cpp(&nix_store, &args)?.join("");
    let ours_out = sd.display(&built[&drv]["out"]);
    let (r1, r2) = (
        ours.path().to_str().ok_or("root")?,
        theirs.path().to_str().ok_or("root")?,
    );
    for f in [".attrs.json", ".attrs.sh", "var"] {
        let mine = std::fs::read_to_string(Path::new(&ours_out).join(f))?;
        let want = std::fs::read_to_string(Path::new(&theirs_out).join(f))?;
        // Input-addressed paths differ between roots (the store directory is hashed in).
        assert_eq!(
            mine.replace(&ours_out, &theirs_out).replace(r1, r2),
            want,
            "{f}"
        );
    }
    Ok(())
}
