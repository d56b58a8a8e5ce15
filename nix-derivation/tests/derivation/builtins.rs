//! The builtin builders: `buildenv` against CppNix 2.8 in a chroot store, `fetchurl` from
//! `file://` and a loopback HTTP server.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix_derivation::build::builder::BuildError;
use nix_derivation::build::builtins::{self, BuiltinError};
use nix_derivation::store::hash::{Hash, HashAlgo};
use nix_derivation::store::store_path::StoreDir;
use nix_derivation::{Derivation, DerivationOutput, FileIngestionMethod};

use crate::common::TestResult;

fn write(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p)?;
    }
    std::fs::write(path, contents)
}

fn run_ok(cmd: &mut Command) -> Result<String, Box<dyn std::error::Error>> {
    let out = cmd.output()?;
    if !out.status.success() {
        return Err(format!("{cmd:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8(out.stdout)?.trim().to_string())
}

/// Runs our buildenv for the `.drv` at `drv_path` (logical) of the chroot store at `root`,
/// writing the output at `out`.
fn our_buildenv(root: &Path, drv_path: &str, out: &Path) -> Result<Vec<u8>, BuildError> {
    let store_dir = StoreDir::default();
    let real_store_dir = root.join("nix/store");
    let text = std::fs::read(root.join(drv_path.trim_start_matches('/')))?;
    let drv = Derivation::parse(&text, &store_dir).map_err(|_| BuildError::Unsupported {
        what: "an unparsable .drv",
    })?;
    let outs = BTreeMap::from([("out".to_string(), out.to_path_buf())]);
    let mut log = Vec::new();
    builtins::run(&drv, None, &store_dir, &real_store_dir, &outs, &mut log)?;
    Ok(log)
}

const CPPNIX_BUILD: [&str; 4] = ["--option", "substituters", "", "--option"];

#[test]
fn buildenv_matches_cppnix() -> TestResult {
    let (Some(instantiate), Some(nix_store), Some(nix_hash)) = (
        testkit::reference("nix-instantiate"),
        testkit::reference("nix-store"),
        testkit::reference("nix-hash"),
    ) else {
        return Ok(());
    };
    let tmp = testkit::tempdir();
    let dir = tmp.path().canonicalize()?;
    let root = dir.join("R");
    let root_s = root.to_str().ok_or("non-UTF-8 temp dir")?;
    let p = dir.join("pkgs");
    // c: propagated by a; its bin/x loses against a's (priority 1000).
    write(&p.join("c/bin/x"), "c\n")?;
    write(&p.join("c/bin/z"), "z\n")?;
    let c = run_ok(
        Command::new(&nix_store)
            .args(["--store", root_s, "--add"])
            .arg(p.join("c")),
    )?;
    write(&p.join("a/bin/x"), "a\n")?;
    write(&p.join("a/share/man/m"), "m\n")?;
    write(&p.join("a/.hidden"), "h\n")?;
    write(&p.join("a/log"), "not linked\n")?;
    write(
        &p.join("a/nix-support/propagated-user-env-packages"),
        &format!("{c}\n"),
    )?;
    write(&p.join("b/bin/y"), "b\n")?;
    write(&p.join("b/share/doc/d"), "d\n")?;
    write(&p.join("b/share/info/dir"), "not linked\n")?;
    std::os::unix::fs::symlink("/nonexistent", p.join("b/bin/dangle"))?;
    std::os::unix::fs::symlink("share", p.join("b/libexec"))?;
    write(&p.join("d/bin/w"), "inactive\n")?;
    write(&p.join("e/bin/y"), "e wins\n")?;
    write(&p.join("e/share/doc/e"), "e\n")?;
    write(&p.join("manifest"), "manifest\n")?;
    let expr = format!(
        r#"derivation {{
  name = "env"; system = "builtin"; builder = "builtin:buildenv";
  manifest = ./pkgs/manifest;
  propagated = builtins.storePath "{c}";
  derivations = [ "true" "5" "1" ./pkgs/a "true" "5" "1" ./pkgs/b "false" "5" "1" ./pkgs/d "true" "3" "1" ./pkgs/e ];
}}"#
    );
    write(&dir.join("env.nix"), &expr)?;
    let drv = run_ok(
        Command::new(&instantiate)
            .args(["--store", root_s])
            .arg(dir.join("env.nix")),
    )?;
    let out = Command::new(&nix_store)
        .args(["--store", root_s])
        .args(CPPNIX_BUILD)
        .args(["build-users-group", "", "--realise", &drv])
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let cpp_out = root.join(
        String::from_utf8(out.stdout)?
            .trim()
            .trim_start_matches('/'),
    );

    let ours = dir.join("ours");
    let log = our_buildenv(&root, &drv, &ours)?;
    let hash = |path: &Path| run_ok(Command::new(&nix_hash).args(["--type", "sha256"]).arg(path));
    assert_eq!(hash(&ours)?, hash(&cpp_out)?);
    // Same warnings as CppNix's build log.
    let log = String::from_utf8(log)?;
    assert!(
        log.contains("warning: skipping dangling symlink '"),
        "{log}"
    );
    for line in log.lines() {
        assert!(stderr.contains(line), "{line:?} not in {stderr}");
    }
    assert_eq!(
        std::fs::read_link(ours.join("bin/z"))?,
        PathBuf::from(format!("{c}/bin/z"))
    );
    assert!(std::fs::symlink_metadata(ours.join("bin/w")).is_err());
    Ok(())
}

#[test]
fn buildenv_collision_as_cppnix() -> TestResult {
    let (Some(instantiate), Some(nix_store)) = (
        testkit::reference("nix-instantiate"),
        testkit::reference("nix-store"),
    ) else {
        return Ok(());
    };
    let tmp = testkit::tempdir();
    let dir = tmp.path().canonicalize()?;
    let root = dir.join("R");
    let root_s = root.to_str().ok_or("non-UTF-8 temp dir")?;
    write(&dir.join("pkgs/a/bin/x"), "a\n")?;
    write(&dir.join("pkgs/c/bin/x"), "c\n")?;
    write(
        &dir.join("env.nix"),
        r#"derivation { name = "env"; system = "builtin"; builder = "builtin:buildenv"; manifest = "m";
  derivations = [ "true" "5" "1" ./pkgs/a "true" "5" "1" ./pkgs/c ]; }"#,
    )?;
    let drv = run_ok(
        Command::new(&instantiate)
            .args(["--store", root_s])
            .arg(dir.join("env.nix")),
    )?;
    let out = Command::new(&nix_store)
        .args(["--store", root_s])
        .args(CPPNIX_BUILD)
        .args(["build-users-group", "", "--realise", &drv])
        .output()?;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let err = our_buildenv(&root, &drv, &dir.join("ours"))
        .err()
        .ok_or("our buildenv succeeded")?;
    assert!(matches!(
        err,
        BuildError::Builtin(BuiltinError::SamePriority { priority: 5, .. })
    ));
    let line = format!("error: {err}\n");
    assert!(stderr.contains(&line), "{line:?} not in {stderr}");
    Ok(())
}

/// A fixed-output `builtin:fetchurl` derivation of `contents` at `url`.
fn fetchurl_drv(url: &str, contents: &[u8], extra: &[(&str, &str)]) -> TestResult<Derivation> {
    let store_dir = StoreDir::default();
    let mut drv = Derivation {
        system: b"builtin".to_vec(),
        builder: b"builtin:fetchurl".to_vec(),
        ..Derivation::default()
    };
    let hash = Hash::digest_bytes(HashAlgo::Sha256, contents);
    let out = DerivationOutput::fixed(&store_dir, "file", "out", FileIngestionMethod::Flat, hash)?;
    let path = store_dir.display(out.path().ok_or("no path")?);
    drv.outputs.insert("out".into(), out);
    for (k, v) in [
        ("builder", "builtin:fetchurl"),
        ("name", "file"),
        ("out", path.as_str()),
        ("outputHashMode", "flat"),
        ("url", url),
    ]
    .iter()
    .chain(extra)
    {
        drv.env.insert(k.as_bytes().to_vec(), v.as_bytes().to_vec());
    }
    Ok(drv)
}

fn fetch(drv: &Derivation, out: &Path) -> Result<(), BuildError> {
    let outs = BTreeMap::from([("out".to_string(), out.to_path_buf())]);
    builtins::run(
        drv,
        None,
        &StoreDir::default(),
        Path::new("/nix/store"),
        &outs,
        &mut Vec::new(),
    )
}

#[test]
fn fetchurl_file() -> TestResult {
    let tmp = testkit::tempdir();
    let dir = tmp.path().canonicalize()?;
    let src = dir.join("a file");
    std::fs::write(&src, b"#!/bin/sh\necho hi\n")?;
    let url = format!("file://{}", dir.join("a%20file").display());
    let drv = fetchurl_drv(&url, b"#!/bin/sh\necho hi\n", &[("executable", "1")])?;
    let out = dir.join("out");
    fetch(&drv, &out)?;
    assert_eq!(std::fs::read(&out)?, b"#!/bin/sh\necho hi\n");
    assert_eq!(std::fs::metadata(&out)?.permissions().mode() & 0o777, 0o755);

    // A missing file.
    let drv = fetchurl_drv("file:///nonexistent/x", b"", &[])?;
    assert!(matches!(
        fetch(&drv, &dir.join("out2")),
        Err(BuildError::Builtin(BuiltinError::Download { .. }))
    ));
    // Not fixed-output.
    let mut drv = fetchurl_drv(&url, b"", &[])?;
    drv.outputs.insert("out".into(), DerivationOutput::Deferred);
    assert!(matches!(
        fetch(&drv, &dir.join("out3")),
        Err(BuildError::Builtin(BuiltinError::NotFixedOutput))
    ));
    Ok(())
}

#[test]
fn fetchurl_unpacks_nars() -> TestResult {
    let tmp = testkit::tempdir();
    let dir = tmp.path().canonicalize()?;
    let tree = dir.join("tree");
    write(&tree.join("sub/file"), "contents\n")?;
    std::os::unix::fs::symlink("sub/file", tree.join("link"))?;
    let mut nar = Vec::new();
    nix_derivation::store::nar::dump_path(&tree, &mut nar)?;
    std::fs::write(dir.join("t.nar"), &nar)?;
    let mut xz = xz2::write::XzEncoder::new(Vec::new(), 1);
    xz.write_all(&nar)?;
    std::fs::write(dir.join("t.nar.xz"), xz.finish()?)?;
    for name in ["t.nar", "t.nar.xz"] {
        let url = format!("file://{}", dir.join(name).display());
        let drv = fetchurl_drv(&url, b"", &[("unpack", "1")])?;
        let out = dir.join(format!("out-{name}"));
        fetch(&drv, &out)?;
        assert_eq!(std::fs::read(out.join("sub/file"))?, b"contents\n");
        assert_eq!(std::fs::read_link(out.join("link"))?, Path::new("sub/file"));
    }
    Ok(())
}

#[test]
fn fetchurl_http() -> TestResult {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let server = std::thread::spawn(move || -> std::io::Result<Vec<u8>> {
        let (mut s, _) = listener.accept()?;
        let mut req = Vec::new();
        let mut buf = [0u8; 1024];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf)?;
            if n == 0 {
                break;
            }
            req.extend_from_slice(&buf[..n]);
        }
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nserved")?;
        Ok(req)
    });
    let tmp = testkit::tempdir();
    let out = tmp.path().join("out");
    let drv = fetchurl_drv(&format!("http://127.0.0.1:{port}/f"), b"served", &[])?;
    fetch(&drv, &out)?;
    assert_eq!(std::fs::read(&out)?, b"served");
    let req = server.join().map_err(|_| "server panicked")??;
    assert!(req.starts_with(b"GET /f HTTP/1.1\r\n"));

    // A server that refuses: an error, no output.
    let drv = fetchurl_drv(&format!("http://127.0.0.1:{port}/f"), b"", &[])?;
    let out2 = tmp.path().join("out2");
    assert!(fetch(&drv, &out2).is_err());
    assert!(!out2.exists());
    Ok(())
}
