//! `nixrs nix-store -r` and `-l` against CppNix 2.8 on the same non-diverted store
//! (`local?store=R/nix/store&state=R/nix/var/nix&log=R/nix/var/log/nix`): failures give the same
//! standard error and exit code, successes the same standard output, and each side reads the
//! other's logs.

use std::error::Error;
use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn url(root: &Path) -> String {
    let r = root.display();
    format!("local?store={r}/nix/store&state={r}/nix/var/nix&log={r}/nix/var/log/nix")
}

const OPTS: [&str; 6] = [
    "--option",
    "build-users-group",
    "",
    "--option",
    "substituters",
    "",
];

fn run(bin: &Path, root: &Path, args: &[&str]) -> std::io::Result<Output> {
    run_with(bin, &[], root, args)
}

fn run_with(bin: &Path, prefix: &[&str], root: &Path, args: &[&str]) -> std::io::Result<Output> {
    Command::new(bin)
        .args(prefix)
        .args(["--store", &url(root)])
        .args(args)
        .args(OPTS)
        .args(["--option", "sandbox", "false"])
        .current_dir(root)
        .output()
}

fn ours(root: &Path, args: &[&str]) -> std::io::Result<Output> {
    run_with(&crate::nixrs(), &["nix-store"], root, args)
}

/// Makes a busybox tree in `root/bb` and adds it to the store `store` (a `--store` argument)
/// with CppNix; returns its store path.
fn add_busybox(nix_store: &Path, store: &OsStr, root: &Path) -> Result<String, Box<dyn Error>> {
    testkit::busybox_tree(&root.join("bb"))?;
    let add = Command::new(nix_store)
        .arg("--store")
        .arg(store)
        .arg("--add")
        .arg(root.join("bb"))
        .output()?;
    Ok(String::from_utf8(add.stdout)?.trim().to_string())
}

/// Instantiates `attrs` of `file` (the whole file when empty) into the store `store` with
/// CppNix; the printed paths, one per line.
fn instantiate(
    nix_instantiate: &Path,
    store: &OsStr,
    file: &Path,
    attrs: &[&str],
) -> Result<Vec<String>, Box<dyn Error>> {
    let mut cmd = Command::new(nix_instantiate);
    cmd.arg("--store").arg(store).arg(file);
    for a in attrs {
        cmd.args(["-A", a]);
    }
    let o = cmd.output()?;
    Ok(String::from_utf8(o.stdout)?
        .lines()
        .map(str::to_string)
        .collect())
}

#[test]
fn realise_and_read_log_like_cppnix() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let Some(nix_instantiate) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    if !testkit::have_busybox() {
        return Ok(());
    }
    let root = testkit::tempdir();
    let r = root.path();
    let bb = add_busybox(&nix_store, url(r).as_ref(), r)?;
    let nix = format!(
        r#"let sh = "${{builtins.storePath "{bb}"}}/bin/sh"; mk = name: script: extra: derivation ({{ inherit name; system = "x86_64-linux"; builder = sh; args = [ "-c" script ]; }} // extra); in rec {{
  fail = mk "fail" "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo line $i; done; exit 3" {{}};
  dep = mk "dep" "echo ${{fail}} > $out" {{}};
  a = mk "a" "echo hello from a; echo a > $out" {{}};
  multi = mk "multi" "echo ${{a}} > $out; echo $out > $dev" {{ outputs = [ "out" "dev" ]; }};
}}"#
    );
    std::fs::write(r.join("g.nix"), nix)?;
    let inst = |attr: &str| -> Result<String, Box<dyn Error>> {
        let paths = instantiate(&nix_instantiate, url(r).as_ref(), &r.join("g.nix"), &[attr])?;
        Ok(paths.concat())
    };
    let (dep, a, multi) = (inst("dep")?, inst("a")?, inst("multi")?);

    // A failing build, with and without the build output: same stderr and exit code.
    for extra in [&[][..], &["-Q"][..]] {
        let mut args = vec!["-r", dep.as_str()];
        args.extend_from_slice(extra);
        let theirs = run(&nix_store, r, &args)?;
        let mine = ours(r, &args)?;
        assert_eq!(
            mine.status.code(),
            theirs.status.code(),
            "{extra:?} {}",
            String::from_utf8_lossy(&mine.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&mine.stderr),
            String::from_utf8_lossy(&theirs.stderr),
            "{extra:?}"
        );
        assert!(mine.stdout.is_empty());
    }

    // A successful build by us; CppNix then finds it built and prints the same paths.
    let mine = ours(r, &["-r", &multi, &a, "-j", "2"])?;
    assert!(
        mine.status.success(),
        "{}",
        String::from_utf8_lossy(&mine.stderr)
    );
    let theirs = run(&nix_store, r, &["-r", &multi, &a])?;
    assert_eq!(mine.stdout, theirs.stdout);
    assert_eq!(String::from_utf8(mine.stdout)?.lines().count(), 3);
    // --add-root: the same root names and links.
    let mine = ours(r, &["-r", &multi, &a, "--add-root", "res"])?;
    let links: Vec<String> = ["res", "res-dev", "res-2"]
        .iter()
        .map(|n| std::fs::read_link(r.join(n)).map(|t| t.display().to_string()))
        .collect::<Result<_, _>>()?;
    let theirs = run(&nix_store, r, &["-r", &multi, &a, "--add-root", "res"])?;
    assert_eq!(mine.stdout, theirs.stdout);
    for (n, t) in ["res", "res-dev", "res-2"].iter().zip(&links) {
        assert_eq!(&std::fs::read_link(r.join(n))?.display().to_string(), t);
    }

    // Logs: ours read by CppNix, and CppNix's (its build of fail, just below) read by us.
    let theirs = Command::new(&nix_store)
        .args(["--store", &url(r), "-l", &a])
        .output()?;
    assert_eq!(theirs.stdout, b"hello from a\n");
    let fail = inst("fail")?;
    let cpp_built = run(&nix_store, r, &["-r", &fail])?;
    assert!(!cpp_built.status.success());
    let mine = ours(r, &["-l", &fail])?;
    assert!(mine.stdout.starts_with(b"line 1\n"), "{mine:?}");
    let missing = ours(
        r,
        &[
            "-l",
            &format!(
                "{}/nix/store/{}",
                r.display(),
                "00000000000000000000000000000000-x.drv"
            ),
        ],
    )?;
    assert_eq!(missing.status.code(), Some(1));
    Ok(())
}

/// `nixrs nix-store --store R -r` in diverted stores (`--store R`: paths `/nix/store/…`, files
/// in `R/nix/store`), where builders run in the sandbox: our build in one root and CppNix's in
/// another print the same paths, log the same standard error, and give the same NAR hashes;
/// CppNix accepts our store.
#[test]
fn realise_in_diverted_stores_like_cppnix() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let Some(nix_instantiate) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    if !testkit::have_busybox() {
        return Ok(());
    }
    let (one, two) = (testkit::tempdir(), testkit::tempdir());
    let mut drvs = Vec::new();
    for root in [one.path(), two.path()] {
        let bb = add_busybox(&nix_store, root.as_os_str(), root)?;
        let nix = format!(
            r#"let sh = "${{builtins.storePath "{bb}"}}/bin/sh"; mk = name: script: extra: derivation ({{ inherit name; system = "x86_64-linux"; builder = sh; args = [ "-c" script ]; }} // extra); in rec {{
  a = mk "a" "echo hello from a; echo a > $out" {{}};
  multi = mk "multi" "mkdir $out; echo ${{a}} > $out/x; echo $out > $dev" {{ outputs = [ "out" "dev" ]; }};
  env = derivation {{ name = "env"; system = "builtin"; builder = "builtin:buildenv"; manifest = "/dev/null"; derivations = [ "true" "5" "1" multi.out ]; }};
  top = mk "top" "cat ${{env}}/x ${{multi.dev}} > $out" {{}};
}}"#
        );
        std::fs::write(root.join("g.nix"), nix)?;
        let top = instantiate(
            &nix_instantiate,
            root.as_os_str(),
            &root.join("g.nix"),
            &["top"],
        )?;
        drvs.push(top.concat());
    }
    assert_eq!(drvs[0], drvs[1]);
    let realise = |bin: &Path, prefix: &[&str], root: &Path| {
        Command::new(bin)
            .args(prefix)
            .arg("--store")
            .arg(root)
            .args(["-r", &drvs[0]])
            .args(OPTS)
            .output()
    };
    let mine = realise(&crate::nixrs(), &["nix-store"], one.path())?;
    let theirs = realise(&nix_store, &[], two.path())?;
    assert!(
        mine.status.success(),
        "{}",
        String::from_utf8_lossy(&mine.stderr)
    );
    assert_eq!(mine.stdout, theirs.stdout);
    assert_eq!(
        String::from_utf8_lossy(&mine.stderr),
        String::from_utf8_lossy(&theirs.stderr)
    );
    let out = String::from_utf8(mine.stdout)?.trim().to_string();
    let hash = |root: &Path| {
        Command::new(&nix_store)
            .arg("--store")
            .arg(root)
            .args(["-q", "--hash", &out])
            .output()
    };
    let (h1, h2) = (hash(one.path())?, hash(two.path())?);
    assert!(h1.status.success() && !h1.stdout.is_empty());
    assert_eq!(h1.stdout, h2.stdout);
    let verify = Command::new(&nix_store)
        .arg("--store")
        .arg(one.path())
        .args(["--verify", "--check-contents"])
        .output()?;
    let said = String::from_utf8_lossy(&verify.stderr);
    assert!(verify.status.success() && !said.contains("error"), "{said}");
    // `--option sandbox false` / `--no-sandbox` are accepted (the store is diverted, so the
    // sandbox is used anyway, as by CppNix); an invalid value is warned about, as by CppNix.
    for flags in [&["--option", "sandbox", "false"][..], &["--no-sandbox"][..]] {
        let again = Command::new(crate::nixrs())
            .args(["build", "--store"])
            .arg(one.path())
            .arg(&drvs[0])
            .args(flags)
            .output()?;
        assert!(again.status.success(), "{again:?}");
        assert_eq!(String::from_utf8(again.stdout)?.trim(), out);
    }
    let bogus = realise(
        &crate::nixrs(),
        &["nix-store", "--option", "sandbox", "bogus"],
        one.path(),
    )?;
    assert!(bogus.status.success());
    assert!(String::from_utf8_lossy(&bogus.stderr)
        .contains("warning: error: option 'sandbox' has invalid value 'bogus'\n"));
    Ok(())
}

/// Structured attributes, a rejected reference, the two time limits, `--check` and errors
/// found before the builder starts (no "building" line), through `nixrs
/// nix-store -r` in one diverted root and CppNix in another: the same standard output, standard
/// error and exit status.
#[test]
fn structured_attrs_checks_and_timeouts_like_cppnix() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let Some(nix_instantiate) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    if !testkit::have_busybox() {
        return Ok(());
    }
    let (one, two) = (testkit::tempdir(), testkit::tempdir());
    let attrs = [
        "sa", "ar", "slow", "silent", "odd", "nested", "notstore", "impure",
    ];
    let mut drvs = Vec::new();
    for root in [one.path(), two.path()] {
        let bb = add_busybox(&nix_store, root.as_os_str(), root)?;
        let nix = format!(
            r#"let bb = builtins.storePath "{bb}"; o = placeholder "out"; mk = name: script: extra: derivation ({{ inherit name; system = "x86_64-linux"; builder = "${{bb}}/bin/sh"; args = [ "-c" script ]; }} // extra); in {{
  sa = mk "sa" "echo building; mkdir ${{o}}; cat .attrs.json .attrs.sh > ${{o}}/attrs" {{ __structuredAttrs = true; list = [ 1 "a" ]; set.x = true; }};
  ar = mk "ar" "echo ${{bb}} > $out" {{ allowedReferences = [ ]; }};
  slow = mk "slow" "while true; do echo tick; sleep 0.4; done" {{}};
  silent = mk "silent" "echo start; sleep 20 & sleep 20; echo end > $out" {{}};
  odd = mk "odd" "true" {{ exportReferencesGraph = [ "g1" ]; }};
  nested = mk "nested" "true" {{ __structuredAttrs = true; exportReferencesGraph.g = [ [ "${{bb}}" ] ]; }};
  notstore = mk "notstore" "true" {{ __structuredAttrs = true; exportReferencesGraph.g = [ "/tmp/x" ]; }};
  impure = mk "impure" "true" {{ __structuredAttrs = true; impureEnvVars = "FOO"; outputHashAlgo = "sha256"; outputHash = "sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="; }};
}}"#
        );
        std::fs::write(root.join("g.nix"), nix)?;
        drvs.push(instantiate(
            &nix_instantiate,
            root.as_os_str(),
            &root.join("g.nix"),
            &attrs,
        )?);
    }
    assert_eq!(drvs[0], drvs[1]);
    let flags: [&[&str]; 8] = [
        &[],
        &["-Q"],
        &["--timeout", "1", "-Q"],
        &["--option", "max-silent-time", "1"],
        &[],
        &[],
        &[],
        &[],
    ];
    // The last run checks the first derivation again (`--check`, deterministic).
    let runs = drvs[0]
        .iter()
        .zip(flags)
        .chain([(&drvs[0][0], &["--check"][..])]);
    for (drv, extra) in runs {
        let realise = |bin: &Path, prefix: &[&str], root: &Path| {
            Command::new(bin)
                .args(prefix)
                .arg("--store")
                .arg(root)
                .args(["-r", drv])
                .args(extra)
                .args(OPTS)
                .output()
        };
        let mine = realise(&crate::nixrs(), &["nix-store"], one.path())?;
        let theirs = realise(&nix_store, &[], two.path())?;
        let ticks = |o: &Output| {
            // How many ticks the slow builder printed before it was killed varies.
            String::from_utf8_lossy(&o.stderr).replace("tick\n", "")
        };
        assert_eq!(ticks(&mine), ticks(&theirs), "{drv}");
        assert_eq!(mine.status.code(), theirs.status.code(), "{drv}");
        assert_eq!(
            String::from_utf8_lossy(&mine.stdout),
            String::from_utf8_lossy(&theirs.stdout),
            "{drv}"
        );
    }
    Ok(())
}

/// A floating content-addressed derivation (instantiated with `ca-derivations`): refused by
/// `nixrs nix-store -r` with CppNix 2.8's message and status for the disabled feature.
#[test]
fn content_addressed_derivations_are_refused_like_cppnix() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let Some(nix_instantiate) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let root = testkit::tempdir();
    let r = root.path();
    std::fs::write(
        r.join("ca.nix"),
        r#"derivation { name = "ca"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo hi > $out" ]; __contentAddressed = true; outputHashMode = "recursive"; outputHashAlgo = "sha256"; }"#,
    )?;
    let o = Command::new(&nix_instantiate)
        .args([
            "--store",
            &url(r),
            "--extra-experimental-features",
            "ca-derivations",
        ])
        .arg(r.join("ca.nix"))
        .output()?;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let drv = String::from_utf8(o.stdout)?.trim().to_string();
    let mine = ours(r, &["-r", &drv])?;
    let theirs = run(&nix_store, r, &["-r", &drv])?;
    assert_eq!(
        String::from_utf8_lossy(&mine.stderr),
        String::from_utf8_lossy(&theirs.stderr)
    );
    assert_eq!(mine.status.code(), theirs.status.code());
    assert!(String::from_utf8_lossy(&mine.stderr).contains("'ca-derivations' is disabled"));
    Ok(())
}

/// `nix-store -r --repair` and `--repair-path` in two non-diverted roots (CppNix 2.8 misreads
/// paths in diverted ones): after corrupting an input's output, the same messages (up to the
/// root and hashes), status and repaired contents; a second run finds nothing to repair;
/// `--repair-path` of a corrupted output, of a source path, and of a good path.
#[test]
fn repair_like_cppnix() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let Some(nix_instantiate) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    if !testkit::have_busybox() {
        return Ok(());
    }
    let (one, two) = (testkit::tempdir(), testkit::tempdir());
    let mut drvs = Vec::new();
    for root in [one.path(), two.path()] {
        // Busybox as a store path, so that the builder is visible in the sandbox.
        let bb = add_busybox(&nix_store, url(root).as_ref(), root)?;
        std::fs::write(
            root.join("g.nix"),
            format!(
                r#"let bb = builtins.storePath "{bb}"; mk = name: script: derivation {{ inherit name; system = "x86_64-linux"; builder = "${{bb}}/bin/busybox"; args = [ "sh" "-c" script ]; }}; a = mk "a" "echo a > $out"; in mk "b" "echo ${{a}} > $out""#
            ),
        )?;
        let top = instantiate(
            &nix_instantiate,
            url(root).as_ref(),
            &root.join("g.nix"),
            &[],
        )?;
        drvs.push(top.concat());
    }
    let realise = |ours_side: bool, extra: &[&str]| {
        let (root, drv) = if ours_side {
            (one.path(), &drvs[0])
        } else {
            (two.path(), &drvs[1])
        };
        let mut args = vec!["-r", drv.as_str()];
        args.extend(extra);
        if ours_side {
            // Our default sandbox setting: rebuilding a valid output needs the sandbox.
            Command::new(crate::nixrs())
                .args(["nix-store", "--store", &url(root)])
                .args(&args)
                .args(OPTS)
                .output()
        } else {
            run(&nix_store, root, &args)
        }
    };
    for side in [true, false] {
        let o = realise(side, &[])?;
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    // Corrupt `a` on both sides.
    for root in [one.path(), two.path()] {
        for e in std::fs::read_dir(root.join("nix/store"))? {
            let p = e?.path();
            if p.to_string_lossy().ends_with("-a") && p.is_file() {
                let mut perm = std::fs::metadata(&p)?.permissions();
                #[allow(clippy::permissions_set_readonly_false)]
                perm.set_readonly(false);
                std::fs::set_permissions(&p, perm)?;
                std::fs::write(&p, "corrupt\n")?;
            }
        }
    }
    // Paths differ between the roots (the store directory is hashed in): keep the names.
    let normalise = |o: &Output, root: &Path| {
        let text = String::from_utf8_lossy(&o.stderr).replace(&root.display().to_string(), "ROOT");
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("/nix/store/") {
            out.push_str(&rest[..i + 11]);
            rest = &rest[i + 11..];
            if rest.len() > 32 && rest.as_bytes()[32] == b'-' {
                out.push_str("HASH");
                rest = &rest[32..];
            }
        }
        out.push_str(rest);
        out
    };
    for _ in 0..2 {
        let mine = realise(true, &["--repair"])?;
        let theirs = realise(false, &["--repair"])?;
        if !mine.status.success() && String::from_utf8_lossy(&mine.stderr).contains("sandbox") {
            eprintln!("SKIP: {}", String::from_utf8_lossy(&mine.stderr));
            return Ok(());
        }
        assert_eq!(normalise(&mine, one.path()), normalise(&theirs, two.path()));
        assert_eq!(mine.status.code(), theirs.status.code());
    }
    // `--repair-path` of the corrupted top output, and of a source (no deriver).
    let mut outs = Vec::new();
    for (root, drv) in [(one.path(), &drvs[0]), (two.path(), &drvs[1])] {
        let o = run(&nix_store, root, &["-q", "--outputs", drv])?;
        let out = String::from_utf8(o.stdout)?.trim().to_string();
        let mut perm = std::fs::metadata(&out)?.permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perm.set_readonly(false);
        std::fs::set_permissions(&out, perm)?;
        std::fs::write(&out, "corrupt\n")?;
        let bb = std::fs::read_dir(root.join("nix/store"))?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with("-bb"))
            .ok_or("bb")?;
        outs.push((out, bb.display().to_string()));
    }
    for pick in [0, 1, 0] {
        let target = |k: usize| if pick == 0 { &outs[k].0 } else { &outs[k].1 };
        let mine = Command::new(crate::nixrs())
            .args([
                "nix-store",
                "--store",
                &url(one.path()),
                "--repair-path",
                target(0),
            ])
            .args(OPTS)
            .output()?;
        let theirs = run(&nix_store, two.path(), &["--repair-path", target(1)])?;
        assert_eq!(normalise(&mine, one.path()), normalise(&theirs, two.path()));
        assert_eq!(mine.status.code(), theirs.status.code());
    }
    // Repaired, and CppNix agrees the store is sound.
    assert!(std::fs::read_to_string(&outs[0].0)?.ends_with("-a\n"));
    for e in std::fs::read_dir(one.path().join("nix/store"))? {
        let p = e?.path();
        if p.to_string_lossy().ends_with("-a") && p.is_file() {
            assert_eq!(std::fs::read_to_string(&p)?, "a\n");
        }
    }
    let verify = run(&nix_store, one.path(), &["--verify", "--check-contents"])?;
    let said = String::from_utf8_lossy(&verify.stderr);
    assert!(
        verify.status.success() && !said.contains("modified"),
        "{said}"
    );
    Ok(())
}
