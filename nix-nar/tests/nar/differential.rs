//! Our dump/restore against `nix-store --dump`/`--restore` of CppNix 2.8 on real trees.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::Command;

use crate::TestResult;

fn cppnix_dump(nix_store: &Path, path: &Path) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let out = Command::new(nix_store).arg("--dump").arg(path).output()?;
    if !out.status.success() {
        return Err(format!(
            "nix-store --dump {} failed: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(out.stdout)
}

fn ours(path: &Path) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut v = Vec::new();
    let n = nix_nar::dump_path(path, &mut v)?;
    assert_eq!(n, v.len() as u64);
    Ok(v)
}

fn assert_same_dump(nix_store: &Path, path: &Path) -> TestResult {
    let theirs = cppnix_dump(nix_store, path)?;
    let ours = ours(path)?;
    assert!(
        theirs == ours,
        "dump of {} differs ({} vs {} bytes)",
        path.display(),
        theirs.len(),
        ours.len()
    );
    Ok(())
}

/// A tree with every kind of node and odd but legal names.
pub fn make_odd_tree(root: &Path) -> TestResult {
    fs::create_dir(root)?;
    fs::write(root.join("empty"), b"")?;
    fs::create_dir(root.join("empty-dir"))?;
    fs::write(root.join("exe"), b"#!/bin/sh\necho hi\n")?;
    fs::set_permissions(root.join("exe"), fs::Permissions::from_mode(0o755))?;
    // Owner-execute only counts; group/other execute bits alone do not.
    fs::write(root.join("group-exec"), b"x")?;
    fs::set_permissions(root.join("group-exec"), fs::Permissions::from_mode(0o651))?;
    fs::write(root.join("owner-exec-only"), b"y")?;
    fs::set_permissions(
        root.join("owner-exec-only"),
        fs::Permissions::from_mode(0o700),
    )?;
    for name in [
        "with space",
        "ünïcödé",
        "new\nline",
        "-dash",
        ".hidden",
        "...",
        "B",
        "Z",
        "_",
        "a",
        "a-b",
        "a.b",
        "ab",
        "tab\there",
    ] {
        fs::write(root.join(name), name.as_bytes())?;
    }
    symlink("a", root.join("rel-link"))?;
    symlink("/nix/store/absolute", root.join("abs-link"))?;
    symlink("does/not/exist", root.join("dangling"))?;
    symlink("../..", root.join("up-link"))?;
    // 100 levels of nesting.
    let mut deep = root.join("deep");
    for i in 0..100 {
        deep.push(format!("d{i}"));
    }
    fs::create_dir_all(&deep)?;
    fs::write(deep.join("leaf"), b"bottom")?;
    // A file spanning several writer buffers, with a size not a multiple of 8.
    let big: Vec<u8> = (0..700_001u32).map(|i| (i * 7 % 253) as u8).collect();
    fs::write(root.join("big"), big)?;
    Ok(())
}

#[test]
fn dump_matches_cppnix_on_odd_tree() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let tmp = testkit::tempdir();
    let root = tmp.path().join("tree");
    make_odd_tree(&root)?;
    assert_same_dump(&nix_store, &root)?;
    // Single nodes as roots.
    assert_same_dump(&nix_store, &root.join("exe"))?;
    assert_same_dump(&nix_store, &root.join("empty"))?;
    assert_same_dump(&nix_store, &root.join("dangling"))?;
    assert_same_dump(&nix_store, &root.join("empty-dir"))?;
    assert_same_dump(&nix_store, &root.join("big"))?;
    Ok(())
}

/// A real tree with thousands of files: the Rust toolchain's own sources or docs.
fn toolchain_tree() -> Option<std::path::PathBuf> {
    let out = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    let sysroot = std::path::PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    [
        "lib/rustlib/src/rust/library/core",
        "share/doc/rust/html/std",
        "share/doc",
        "lib/rustlib/etc",
    ]
    .iter()
    .map(|p| sysroot.join(p))
    .find(|p| p.is_dir())
}

#[test]
fn dump_matches_cppnix_on_toolchain_tree() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let Some(tree) = toolchain_tree() else {
        eprintln!("SKIP: no toolchain directory found");
        return Ok(());
    };
    // Compared by streaming both through SHA-256: the tree is about 100 MiB.
    let mut child = Command::new(&nix_store)
        .arg("--dump")
        .arg(&tree)
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let mut theirs = nix_nar::hash::HashingWriter::sink();
    std::io::copy(child.stdout.as_mut().ok_or("stdout")?, &mut theirs)?;
    assert!(child.wait()?.success());
    let (_, their_digest, their_size) = theirs.finish();
    let (digest, size) = nix_nar::hash::dump_and_hash(&tree)?;
    assert_eq!(size, their_size, "{}", tree.display());
    assert_eq!(digest, their_digest, "{}", tree.display());
    Ok(())
}

#[test]
fn unsupported_type_is_named() -> TestResult {
    let tmp = testkit::tempdir();
    let fifo = tmp.path().join("fifo");
    let st = Command::new("mkfifo").arg(&fifo).status()?;
    assert!(st.success());
    let err = nix_nar::dump_path(&fifo, std::io::sink()).expect_err("fifo must fail");
    assert_eq!(
        err.to_string(),
        format!("file '{}' has an unsupported type", fifo.display())
    );
    Ok(())
}
