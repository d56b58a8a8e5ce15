//! `build::realise` in *diverted* stores (`--store R`: logical `/nix/store`, files in
//! `R/nix/store`), where builders run in the sandbox: a graph instantiated by CppNix 2.8 (a
//! busybox builder, a multi-output derivation, a `builtin:buildenv` one, a fixed output) is
//! built by us in one root and by CppNix in another. The logical store directory being the
//! same, the output paths and their NAR hashes must be equal, and CppNix must accept our store
//! (`--verify --check-contents`).

use std::path::Path;
use std::process::Command;

use nix_derivation::build::realise::{realise, RealiseOptions, SandboxMode};
use nix_derivation::build::sandbox;
use nix_derivation::store::store::local::LocalStore;
use nix_derivation::store::store::Store;

use crate::common::{cpp, TestResult};

/// CppNix flags for building as root without build users or substituters (the sandbox stays
/// at its default, `true`, which a diverted store needs).
const OPTS: [&str; 6] = [
    "--option",
    "build-users-group",
    "",
    "--option",
    "substituters",
    "",
];

/// The graph; `BB` is replaced by the busybox directory's store path.
const GRAPH: &str = r#"let bb = builtins.storePath "BB"; mk = name: script: extra: derivation ({ inherit name; system = "x86_64-linux"; builder = "${bb}/bin/sh"; args = [ "-c" script ]; } // extra); in rec {
  a = mk "a" "echo building a; echo a > $out" {};
  multi = mk "multi" "mkdir -p $out/bin; echo ${a} > $out/bin/x; echo '#!/bin/sh' > $out/bin/run; chmod 755 $out/bin/run; ln -s ${a} $out/link; echo $out > $dev; echo plain > $doc" { outputs = [ "out" "dev" "doc" ]; };
  env = derivation { name = "env"; system = "builtin"; builder = "builtin:buildenv"; manifest = "/dev/null"; derivations = [ "true" "5" "1" multi.out "true" "5" "1" multi.doc ]; };
  top = mk "top" "echo ${multi.dev} ${env} > $out; ls ${env}/bin >> $out; cat ${env}/bin/x >> $out; test -e /bin/busybox || echo sandboxed >> $out" {};
  fod = mk "fod" "echo -n hello > $out" { outputHashAlgo = "sha256"; outputHash = "sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="; };
}"#;

const ATTRS: [&str; 5] = ["a", "multi", "env", "top", "fod"];

/// A diverted root with busybox (`bin/busybox`, `bin/sh`) added by CppNix and the graph
/// instantiated; returns the `.drv` paths of [`ATTRS`].
fn setup(
    nix_store: &Path,
    nix_instantiate: &Path,
    root: &Path,
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let src = root.join("bbsrc");
    std::fs::create_dir_all(src.join("bin"))?;
    std::fs::copy("/bin/busybox", src.join("bin/busybox"))?;
    std::os::unix::fs::symlink("busybox", src.join("bin/sh"))?;
    let r = root.to_str().ok_or("root")?;
    let src_s = src.to_str().ok_or("src")?;
    let bb = cpp(nix_store, &["--store", r, "--add", src_s])?.join("");
    let file = root.join("graph.nix");
    std::fs::write(&file, GRAPH.replace("BB", &bb))?;
    let file_s = file.to_str().ok_or("file")?;
    let mut drvs = Vec::new();
    for a in ATTRS {
        drvs.push(cpp(nix_instantiate, &["--store", r, file_s, "-A", a])?.join(""));
    }
    Ok(drvs)
}

/// The tools and busybox, or `None` (with SKIP printed) when something is missing.
fn tools() -> Option<(std::path::PathBuf, std::path::PathBuf)> {
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

#[test]
fn diverted_roots_build_like_cppnix() -> TestResult {
    let Some((nix_store, nix_instantiate)) = tools() else {
        return Ok(());
    };
    let ours = testkit::tempdir();
    let theirs = testkit::tempdir();
    let tmp = testkit::tempdir();
    let drvs = setup(&nix_store, &nix_instantiate, ours.path())?;
    let their_drvs = setup(&nix_store, &nix_instantiate, theirs.path())?;
    assert_eq!(drvs, their_drvs, "same logical store dir, same .drv paths");

    let store = LocalStore::open(ours.path())?;
    let sd = store.store_dir().clone();
    let paths = drvs
        .iter()
        .map(|d| sd.parse_path(d))
        .collect::<Result<Vec<_>, _>>()?;
    let options = RealiseOptions {
        max_jobs: 2,
        sandbox: SandboxMode::Enabled,
        build_dir_parent: tmp.path().to_path_buf(),
        ..Default::default()
    };
    let built = realise(&store, &paths, &options)?;

    let r1 = ours.path().to_str().ok_or("root")?;
    let r2 = theirs.path().to_str().ok_or("root")?;
    // CppNix accepts the store we built into.
    let verify = Command::new(&nix_store)
        .args(["--store", r1, "--verify", "--check-contents"])
        .output()?;
    let said = String::from_utf8_lossy(&verify.stderr);
    assert!(
        verify.status.success() && !said.contains("error") && !said.contains("modified"),
        "{said}"
    );

    // CppNix builds the same graph in the other root (in its sandbox).
    let mut args = vec!["--store", r2, "--realise"];
    args.extend(drvs.iter().map(String::as_str));
    args.extend(OPTS);
    cpp(&nix_store, &args)?;

    // Same output paths (CppNix's view of each root), same NAR hashes and references.
    for drv in &drvs {
        let mine = cpp(&nix_store, &["--store", r1, "-q", "--outputs", drv])?;
        let theirs_out = cpp(&nix_store, &["--store", r2, "-q", "--outputs", drv])?;
        assert_eq!(mine, theirs_out, "{drv}");
        let ours_built: Vec<String> = built[&sd.parse_path(drv)?]
            .values()
            .map(|p| sd.display(p))
            .collect();
        let mut sorted = mine.clone();
        sorted.sort();
        let mut ours_sorted = ours_built;
        ours_sorted.sort();
        assert_eq!(sorted, ours_sorted, "{drv}");
        for out in &mine {
            for q in ["--hash", "--size", "--references", "--deriver"] {
                assert_eq!(
                    cpp(&nix_store, &["--store", r1, "-q", q, out])?,
                    cpp(&nix_store, &["--store", r2, "-q", q, out])?,
                    "{out} {q}"
                );
            }
        }
    }
    // The builder ran in the sandbox (the host's /bin is not there) and saw the buildenv
    // tree and the outputs of its inputs at their logical paths.
    let top = &built[&sd.parse_path(&drvs[3])?]["out"];
    let text = std::fs::read_to_string(store.real_path(top))?;
    assert!(text.contains("\nrun\nx\n/nix/store/"), "{text}");
    assert!(text.ends_with("-a\nsandboxed\n"), "{text}");
    // Our log is what `nix-store -l` prints; building again builds nothing.
    let log = cpp(&nix_store, &["--store", r1, "-l", &drvs[0]])?;
    assert_eq!(log, ["building a"]);
    assert_eq!(realise(&store, &paths, &options)?, built);
    // Build directories and chroots are gone.
    assert_eq!(std::fs::read_dir(tmp.path())?.count(), 0);
    let leftovers: Vec<_> = std::fs::read_dir(ours.path().join("nix/store"))?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".chroot"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    Ok(())
}

/// CppNix 2.8 builds in its sandbox in a diverted store even with `sandbox = false`; so do we.
#[test]
fn diverted_store_uses_the_sandbox_even_when_disabled() -> TestResult {
    let Some((nix_store, nix_instantiate)) = tools() else {
        return Ok(());
    };
    let ours = testkit::tempdir();
    let theirs = testkit::tempdir();
    let tmp = testkit::tempdir();
    let drvs = setup(&nix_store, &nix_instantiate, ours.path())?;
    setup(&nix_store, &nix_instantiate, theirs.path())?;
    let store = LocalStore::open(ours.path())?;
    let top = store.store_dir().parse_path(&drvs[3])?;
    let options = RealiseOptions {
        sandbox: SandboxMode::Disabled,
        build_dir_parent: tmp.path().to_path_buf(),
        ..Default::default()
    };
    let built = realise(&store, std::slice::from_ref(&top), &options)?;
    let out = &built[&top]["out"];
    let text = std::fs::read_to_string(store.real_path(out))?;
    assert!(text.ends_with("sandboxed\n"), "{text}");
    let r2 = theirs.path().to_str().ok_or("root")?;
    let mut args = vec!["--store", r2, "--realise", &drvs[3]];
    args.extend(OPTS);
    args.extend(["--option", "sandbox", "false"]);
    let their_out = cpp(&nix_store, &args)?;
    let shown = store.store_dir().display(out);
    assert_eq!(their_out, std::slice::from_ref(&shown));
    let r1 = ours.path().to_str().ok_or("root")?;
    assert_eq!(
        cpp(&nix_store, &["--store", r1, "-q", "--hash", &shown])?,
        cpp(&nix_store, &["--store", r2, "-q", "--hash", &shown])?
    );
    Ok(())
}

#[cfg(feature = "http")]
/// Serves `body` over HTTP on 127.0.0.1 (any path, `Connection: close`) from a detached
/// thread; returns the port.
fn serve(body: &'static [u8]) -> std::io::Result<u16> {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(body);
        }
    });
    Ok(port)
}

/// A `builtin:fetchurl` fixed-output derivation (over HTTP from this process) built by us in
/// one diverted root and by CppNix in another: the same path and NAR hash.
#[cfg(feature = "http")]
#[test]
fn builtin_fetchurl_like_cppnix() -> TestResult {
    let Some((nix_store, nix_instantiate)) = tools() else {
        return Ok(());
    };
    let port = serve(b"hello")?;
    let (ours, theirs, tmp) = (testkit::tempdir(), testkit::tempdir(), testkit::tempdir());
    let nix = format!(
        r#"derivation {{ name = "f.txt"; system = "builtin"; builder = "builtin:fetchurl"; url = "http://127.0.0.1:{port}/f.txt"; outputHashAlgo = "sha256"; outputHash = "sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="; outputHashMode = "flat"; }}"#
    );
    let mut drvs = Vec::new();
    for root in [ours.path(), theirs.path()] {
        let file = root.join("f.nix");
        std::fs::write(&file, &nix)?;
        let r = root.to_str().ok_or("root")?;
        let f = file.to_str().ok_or("file")?;
        drvs.push(cpp(&nix_instantiate, &["--store", r, f])?.join(""));
    }
    assert_eq!(drvs[0], drvs[1]);
    let store = LocalStore::open(ours.path())?;
    let drv = store.store_dir().parse_path(&drvs[0])?;
    let options = RealiseOptions {
        build_dir_parent: tmp.path().to_path_buf(),
        ..Default::default()
    };
    let built = realise(&store, std::slice::from_ref(&drv), &options)?;
    let out = store.store_dir().display(&built[&drv]["out"]);
    let r2 = theirs.path().to_str().ok_or("root")?;
    let mut args = vec!["--store", r2, "--realise", &drvs[1]];
    args.extend(OPTS);
    assert_eq!(cpp(&nix_store, &args)?, std::slice::from_ref(&out));
    let r1 = ours.path().to_str().ok_or("root")?;
    for q in ["--hash", "--references", "--deriver"] {
        assert_eq!(
            cpp(&nix_store, &["--store", r1, "-q", q, &out])?,
            cpp(&nix_store, &["--store", r2, "-q", q, &out])?,
            "{q}"
        );
    }
    let verify = cpp(&nix_store, &["--store", r1, "--verify", "--check-contents"]);
    assert!(verify.is_ok(), "{verify:?}");
    Ok(())
}
