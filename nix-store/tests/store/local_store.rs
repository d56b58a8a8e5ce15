//! The local store: adding, querying, closures, export/import, delete, verify; checked
//! against the shared vectors and CppNix 2.8's own reading of the same store.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use nix_store::content_address::FileIngestionMethod;
use nix_store::hash::HashAlgo;
use nix_store::store::local::LocalStore;
use nix_store::store::memory::MemoryStore;
use nix_store::store::{AddOptions, Store, StoreError};
use nix_store::store_path::StorePath;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Runs a CppNix binary with args; returns (status code, stdout, stderr).
pub fn cppnix(
    bin: &Path,
    args: &[&str],
) -> Result<(i32, String, String), Box<dyn std::error::Error>> {
    let out = Command::new(bin)
        .args(args)
        .env("NIX_CONFIG", "substituters =")
        .output()?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout)?,
        String::from_utf8(out.stderr)?,
    ))
}

/// A scratch source tree: `hello.txt`, and `tree/` as in the vectors (facts §2).
pub fn make_sources(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(dir.join("hello.txt"), b"hello\n")?;
    let tree = dir.join("tree");
    std::fs::create_dir(&tree)?;
    std::fs::write(tree.join("a"), b"hello\n")?;
    std::fs::write(tree.join("b.sh"), b"#!/bin/sh\necho hi\n")?;
    std::fs::set_permissions(tree.join("b.sh"), std::fs::Permissions::from_mode(0o755))?;
    std::os::unix::fs::symlink("a", tree.join("c"))?;
    std::fs::create_dir(tree.join("d"))?;
    std::fs::write(tree.join("d/e"), b"")?;
    Ok(())
}

/// A store with a small graph: `a.txt`, `b.txt` → a, `c.txt` → b, the two sources, and a
/// text path referring to the tree.
pub fn populate(store: &dyn Store, src: &Path) -> Result<Vec<StorePath>, StoreError> {
    let none = BTreeSet::new();
    let a = store.add_text("a.txt", b"a", &none)?;
    let b = store.add_text(
        "b.txt",
        format!("ref {}", store.store_dir().display(&a)).as_bytes(),
        &[a.clone()].into(),
    )?;
    let c = store.add_text("c.txt", b"c", &[b.clone()].into())?;
    let hello = store.add_path(
        "hello.txt",
        &src.join("hello.txt"),
        AddOptions::default(),
        &none,
    )?;
    let tree = store.add_path("tree", &src.join("tree"), AddOptions::default(), &none)?;
    let t = store.add_text("t.txt", b"tree user", &[tree.clone(), a.clone()].into())?;
    Ok(vec![a, b, c, hello, tree, t])
}

fn vector_path(name: &str) -> String {
    let v = testkit::vectors("storepaths");
    let text = v.to_string();
    // Find the full store path ending in `-<name>` among the vectors.
    let needle = format!("-{name}\"");
    let end = text.find(&needle).expect("vector present") + needle.len() - 1;
    let start = text[..end].rfind("/nix/store/").expect("store path");
    text[start..end].to_string()
}

#[test]
fn added_paths_match_the_vectors() -> TestResult {
    let src = testkit::tempdir();
    make_sources(src.path())?;
    let root = testkit::TempStore::new();
    let store = LocalStore::open(root.root())?;
    let paths = populate(&store, src.path())?;
    let sd = store.store_dir();
    assert_eq!(sd.display(&paths[3]), vector_path("hello.txt"));
    assert_eq!(
        sd.display(&paths[3]),
        "/nix/store/i9pmrzmpshapij2kin22pff6fc2adavx-hello.txt"
    );
    assert_eq!(
        sd.display(&paths[4]),
        "/nix/store/vdzs82mfml1h1qh9mbl68nfhfrwwn2kq-tree"
    );
    let flat = store.add_path(
        "hello.txt",
        &src.path().join("hello.txt"),
        AddOptions {
            method: FileIngestionMethod::Flat,
            algo: HashAlgo::Sha256,
        },
        &BTreeSet::new(),
    )?;
    assert_eq!(
        sd.display(&flat),
        "/nix/store/gy454w1cxaq731grqwylhzf4pp9r5izh-hello.txt"
    );
    let text = store.add_text("hello.txt", b"hello\n", &BTreeSet::new())?;
    assert_eq!(
        sd.display(&text),
        "/nix/store/qa1w9gdfrba6jl2r57mb3c43863gqywp-hello.txt"
    );
    // Canonical metadata on disk.
    use std::os::unix::fs::MetadataExt;
    let real = store.real_path(&paths[4]);
    for (p, mode) in [("", 0o555), ("/a", 0o444), ("/b.sh", 0o555), ("/d", 0o555)] {
        let m = std::fs::symlink_metadata(format!("{}{p}", real.display()))?;
        assert_eq!(m.mode() & 0o7777, mode, "{p}");
        assert_eq!(m.mtime(), 1, "{p}");
    }
    assert_eq!(std::fs::symlink_metadata(real.join("c"))?.mtime(), 1);
    // Adding again returns the same path and keeps one row.
    let again = store.add_path(
        "tree",
        &src.path().join("tree"),
        AddOptions::default(),
        &BTreeSet::new(),
    )?;
    assert_eq!(again, paths[4]);
    // No temporary leftovers.
    let leftovers: Vec<_> = std::fs::read_dir(root.real_store_dir())?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".nixrs-tmp"))
        .collect();
    assert!(leftovers.is_empty());
    Ok(())
}

fn conformance(store: &dyn Store) -> TestResult {
    let src = testkit::tempdir();
    make_sources(src.path())?;
    let p = populate(store, src.path())?;
    let (a, b, c, tree, t) = (&p[0], &p[1], &p[2], &p[4], &p[5]);
    assert!(store.is_valid_path(a)?);
    let info = store.query_path_info(b)?.ok_or("b missing")?;
    assert_eq!(info.references, [a.clone()].into());
    assert_eq!(
        info.ca
            .map(|c| c.to_string())
            .as_deref()
            .map(|s| s.starts_with("text:sha256:")),
        Some(true)
    );
    assert_eq!(store.query_referrers(a)?, [b.clone(), t.clone()].into());
    assert_eq!(
        store.closure(&[c.clone()].into())?,
        [a.clone(), b.clone(), c.clone()].into()
    );
    assert_eq!(
        store.topo_sort(&[a.clone(), b.clone(), c.clone()].into())?,
        vec![c.clone(), b.clone(), a.clone()]
    );
    assert_eq!(
        store.query_path_from_hash_part(tree.hash_part())?,
        Some(tree.clone())
    );
    assert_eq!(
        store.query_path_from_hash_part("00000000000000000000000000000000")?,
        None
    );
    // Delete only when unreferenced.
    assert!(matches!(
        store.delete_path(a),
        Err(StoreError::StillAlive { .. })
    ));
    store.delete_path(c)?;
    assert!(!store.is_valid_path(c)?);
    assert!(store.verify(true, false)?.is_clean());
    // Export / import round trip into a fresh memory store.
    let mut exported = Vec::new();
    let closure = store.closure(&[b.clone(), t.clone()].into())?;
    store.export_paths(&closure, &mut exported)?;
    let other = MemoryStore::new();
    let imported = other.import_paths(&mut &exported[..])?;
    assert_eq!(imported.len(), 4);
    // References come before their referrers in the stream.
    assert!(imported.iter().position(|x| x == a) < imported.iter().position(|x| x == b));
    assert_eq!(
        other.query_path_info(b)?.map(|i| i.nar_hash),
        store.query_path_info(b)?.map(|i| i.nar_hash)
    );
    let mut nar1 = Vec::new();
    let mut nar2 = Vec::new();
    store.nar_from_path(tree, &mut nar1)?;
    other.nar_from_path(tree, &mut nar2)?;
    assert_eq!(nar1, nar2);
    Ok(())
}

#[test]
fn conformance_local_store() -> TestResult {
    let root = testkit::TempStore::new();
    conformance(&LocalStore::open(root.root())?)
}

#[test]
fn conformance_memory_store() -> TestResult {
    conformance(&MemoryStore::new())
}

#[test]
fn import_checks_the_nar_hash() -> TestResult {
    let root = testkit::TempStore::new();
    let store = LocalStore::open(root.root())?;
    let a = store.add_text("a.txt", b"a", &BTreeSet::new())?;
    let mut info = store.query_path_info(&a)?.ok_or("missing")?;
    let mut nar = Vec::new();
    store.nar_from_path(&a, &mut nar)?;
    let other_root = testkit::TempStore::new();
    let other = LocalStore::open(other_root.root())?;
    info.nar_hash = nix_store::hash::Hash::digest_bytes(HashAlgo::Sha256, b"something else");
    assert!(matches!(
        other.add_nar(&info, &mut &nar[..]),
        Err(StoreError::HashMismatch { .. })
    ));
    assert!(!other.is_valid_path(&a)?);
    Ok(())
}

#[test]
fn verify_finds_modified_contents() -> TestResult {
    use std::os::unix::fs::PermissionsExt;
    let root = testkit::TempStore::new();
    let store = LocalStore::open(root.root())?;
    let a = store.add_text("a.txt", b"a", &BTreeSet::new())?;
    let real = store.real_path(&a);
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o644))?;
    std::fs::write(&real, b"b")?;
    let report = store.verify(true, false)?;
    assert_eq!(report.hash_mismatches.len(), 1);
    Ok(())
}

#[test]
fn schema_matches_cppnix() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let ours = testkit::TempStore::new();
    drop(LocalStore::open(ours.root())?);
    let theirs = testkit::TempStore::new();
    let src = testkit::tempdir();
    std::fs::write(src.path().join("f"), b"x")?;
    let (rc, _, err) = cppnix(
        &nix_store,
        &[
            "--store",
            &theirs.root().to_string_lossy(),
            "--add",
            &src.path().join("f").to_string_lossy(),
        ],
    )?;
    assert_eq!(rc, 0, "{err}");
    let schema = |root: &Path| -> Result<Vec<String>, Box<dyn std::error::Error>> {
        let conn = rusqlite::Connection::open(root.join("nix/var/nix/db/db.sqlite"))?;
        let mut st =
            conn.prepare("select sql from sqlite_master where sql is not null order by name")?;
        let rows = st
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    };
    assert_eq!(schema(ours.root())?, schema(theirs.root())?);
    assert_eq!(
        std::fs::read_to_string(ours.root().join("nix/var/nix/db/schema"))?,
        std::fs::read_to_string(theirs.root().join("nix/var/nix/db/schema"))?
    );
    let mode = |root: &Path| -> Result<String, Box<dyn std::error::Error>> {
        let conn = rusqlite::Connection::open(root.join("nix/var/nix/db/db.sqlite"))?;
        Ok(conn.query_row("pragma journal_mode", [], |r| r.get(0))?)
    };
    assert_eq!(mode(ours.root())?, "wal");
    assert_eq!(mode(theirs.root())?, "wal");
    Ok(())
}

#[test]
fn export_bytes_match_cppnix() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let src = testkit::tempdir();
    make_sources(src.path())?;
    let root = testkit::TempStore::new();
    let store = LocalStore::open(root.root())?;
    let p = populate(&store, src.path())?;
    let r = root.root().to_string_lossy().into_owned();
    let args: Vec<String> = [p[1].clone(), p[5].clone(), p[0].clone(), p[4].clone()]
        .iter()
        .map(|x| store.store_dir().display(x))
        .collect();
    let mut cmd = Command::new(&nix_store);
    cmd.args(["--store", &r, "--export"]).args(&args);
    let out = cmd.output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut ours = Vec::new();
    let set: BTreeSet<StorePath> = [p[1].clone(), p[5].clone(), p[0].clone(), p[4].clone()].into();
    store.export_paths(&set, &mut ours)?;
    assert_eq!(ours, out.stdout);
    // And CppNix imports ours into a fresh store.
    let other = testkit::TempStore::new();
    let mut child = Command::new(&nix_store)
        .args(["--store", &other.root().to_string_lossy(), "--import"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    use std::io::Write;
    child.stdin.take().ok_or("stdin")?.write_all(&ours)?;
    let done = child.wait_with_output()?;
    assert!(done.status.success());
    let printed: BTreeSet<String> = String::from_utf8(done.stdout)?
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(printed, args.iter().cloned().collect());
    Ok(())
}
