//! `nixrs copy`: store → cache → store, store → store, signatures, and CppNix's `nix copy`
//! reading our cache.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::nixrs;

type R = Result<(), Box<dyn std::error::Error>>;

fn nixrs_run(args: &[&str]) -> std::io::Result<Output> {
    Command::new(nixrs()).args(args).output()
}

fn ok(o: Output, what: &str) -> Result<String, Box<dyn std::error::Error>> {
    if !o.status.success() {
        return Err(format!("{what} failed: {}", String::from_utf8_lossy(&o.stderr)).into());
    }
    Ok(String::from_utf8(o.stdout)?)
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// A store root holding one input-addressed path (imported from an export, so it has no
/// content address and needs a signature to be substituted). Returns the path.
fn input_addressed_path(root: &Path) -> Result<String, Box<dyn std::error::Error>> {
    let src = testkit::tempdir();
    let tree = src.path().join("tree");
    std::fs::create_dir(&tree)?;
    std::fs::write(tree.join("f"), "contents\n")?;
    std::os::unix::fs::symlink("f", tree.join("l"))?;
    let scratch = testkit::TempStore::new();
    let path = ok(
        nixrs_run(&[
            "nix-store",
            "--store",
            &s(scratch.root()),
            "--add",
            &s(&tree),
        ])?,
        "add",
    )?;
    let path = path.trim().to_string();
    let export = src.path().join("export");
    let out = Command::new(nixrs())
        .args([
            "nix-store",
            "--store",
            &s(scratch.root()),
            "--export",
            &path,
        ])
        .stdout(std::fs::File::create(&export)?)
        .output()?;
    ok(out, "export")?;
    let out = Command::new(nixrs())
        .args(["nix-store", "--store", &s(root), "--import"])
        .stdin(std::fs::File::open(&export)?)
        .output()?;
    ok(out, "import")?;
    Ok(path)
}

/// Generates the key pair `cli-test-1` in `keys` (`sk`, `pk`) with `nixrs key generate`;
/// returns the two files and the `file://` URL of the cache directory `cache`.
fn keys_and_cache(
    keys: &Path,
    cache: &Path,
) -> Result<(PathBuf, PathBuf, String), Box<dyn std::error::Error>> {
    let (sk, pk) = (keys.join("sk"), keys.join("pk"));
    ok(
        nixrs_run(&["key", "generate", "cli-test-1", &s(&sk), &s(&pk)])?,
        "key",
    )?;
    Ok((sk, pk, format!("file://{}", s(cache))))
}

#[test]
fn copy_through_a_cache_checks_signatures() -> R {
    let r1 = testkit::TempStore::new();
    let path = input_addressed_path(r1.root())?;
    let (keys, cache) = (testkit::tempdir(), testkit::tempdir());
    let (sk, pk, url) = keys_and_cache(keys.path(), cache.path())?;
    for compression in ["xz", "zstd", "bzip2", "none"] {
        let to = format!("{url}/{compression}");
        ok(
            nixrs_run(&[
                "copy",
                "--from",
                &s(r1.root()),
                "--to",
                &to,
                "--secret-key-file",
                &s(&sk),
                "--compression",
                compression,
                &path,
            ])?,
            "copy --to",
        )?;
        let hash = path
            .rsplit('/')
            .next()
            .and_then(|b| b.get(..32))
            .ok_or("hash part")?;
        let narinfo = std::fs::read_to_string(
            cache
                .path()
                .join(compression)
                .join(format!("{hash}.narinfo")),
        )?;
        assert!(
            narinfo.contains(&format!("Compression: {compression}\n")),
            "{narinfo}"
        );
        assert!(narinfo.contains("Sig: cli-test-1:"), "{narinfo}");

        // without the key: refused, nothing registered
        let r2 = testkit::TempStore::new();
        let out = nixrs_run(&["copy", "--from", &to, "--to", &s(r2.root()), &path])?;
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("lacks a signature by a trusted key"), "{err}");
        let q = nixrs_run(&["nix-store", "--store", &s(r2.root()), "-q", "--hash", &path])?;
        assert!(!q.status.success());

        // with it
        let key = std::fs::read_to_string(&pk)?;
        ok(
            nixrs_run(&[
                "copy",
                "--from",
                &to,
                "--to",
                &s(r2.root()),
                "--trusted-key",
                &key,
                &path,
            ])?,
            "copy --from",
        )?;
        let a = ok(
            nixrs_run(&["nix-store", "--store", &s(r1.root()), "-q", "--hash", &path])?,
            "q",
        )?;
        let b = ok(
            nixrs_run(&["nix-store", "--store", &s(r2.root()), "-q", "--hash", &path])?,
            "q",
        )?;
        assert_eq!(a, b);
        ok(
            nixrs_run(&[
                "nix-store",
                "--store",
                &s(r2.root()),
                "--verify",
                "--check-contents",
            ])?,
            "verify",
        )?;

        // --no-check-sigs
        let r3 = testkit::TempStore::new();
        ok(
            nixrs_run(&[
                "copy",
                "--no-check-sigs",
                "--from",
                &to,
                "--to",
                &s(r3.root()),
                &path,
            ])?,
            "copy --no-check-sigs",
        )?;
    }
    Ok(())
}

#[test]
fn copy_between_stores_and_errors() -> R {
    let r1 = testkit::TempStore::new();
    let path = input_addressed_path(r1.root())?;
    let r2 = testkit::TempStore::new();
    ok(
        nixrs_run(&[
            "copy",
            "--from",
            &s(r1.root()),
            "--to",
            &s(r2.root()),
            &path,
        ])?,
        "copy store to store",
    )?;
    ok(
        nixrs_run(&[
            "nix-store",
            "--store",
            &s(r2.root()),
            "--verify",
            "--check-contents",
        ])?,
        "verify",
    )?;
    // usage errors
    let out = nixrs_run(&["copy", &path])?;
    assert_eq!(out.status.code(), Some(1));
    let out = nixrs_run(&["copy", "--to", "s3://x", "--from", &s(r1.root()), &path])?;
    assert_eq!(out.status.code(), Some(1));
    let out = nixrs_run(&[
        "copy",
        "--compression",
        "lzip",
        "--to",
        "file:///tmp/x",
        &path,
    ])?;
    assert_eq!(out.status.code(), Some(1));
    Ok(())
}

#[test]
fn cppnix_copies_from_a_cache_written_by_nixrs_copy() -> R {
    let Some(nix) = testkit::reference("nix") else {
        return Ok(());
    };
    let r1 = testkit::TempStore::new();
    let path = input_addressed_path(r1.root())?;
    let (keys, cache) = (testkit::tempdir(), testkit::tempdir());
    let (sk, pk, url) = keys_and_cache(keys.path(), cache.path())?;
    ok(
        nixrs_run(&[
            "copy",
            "--from",
            &s(r1.root()),
            "--to",
            &url,
            "--secret-key-file",
            &s(&sk),
            &path,
        ])?,
        "copy --to",
    )?;
    let r3 = testkit::TempStore::new();
    let key = std::fs::read_to_string(&pk)?;
    let out = Command::new(&nix)
        .args([
            "--extra-experimental-features",
            "nix-command",
            "copy",
            "--option",
            "substituters",
            "",
            "--from",
            &url,
            "--to",
            &s(r3.root()),
            "--store",
            &s(r3.root()),
            "--option",
            "trusted-public-keys",
            &key,
            &path,
        ])
        .output()?;
    ok(out, "nix copy --from")?;
    ok(
        nixrs_run(&[
            "nix-store",
            "--store",
            &s(r3.root()),
            "--verify",
            "--check-contents",
        ])?,
        "verify",
    )?;
    Ok(())
}

#[test]
fn a_killed_substitution_leaves_only_valid_paths() -> R {
    // a closure of several paths, about 6 MB of NARs, in an xz cache
    let r1 = testkit::TempStore::new();
    let src = testkit::tempdir();
    let mut paths = Vec::new();
    for i in 0..6u32 {
        let d = src.path().join(format!("part{i}"));
        std::fs::create_dir(&d)?;
        let data: Vec<u8> = (0..1_000_000u32)
            .map(|k| (k.wrapping_mul(2_654_435_761).wrapping_add(i) >> 24) as u8)
            .collect();
        std::fs::write(d.join("data"), data)?;
        let p = ok(
            nixrs_run(&["nix-store", "--store", &s(r1.root()), "--add", &s(&d)])?,
            "add",
        )?;
        paths.push(p.trim().to_string());
    }
    let cache = testkit::tempdir();
    let url = format!("file://{}", s(cache.path()));
    let root1 = s(r1.root());
    let mut args = vec!["copy", "--from", &root1, "--to", &url];
    args.extend(paths.iter().map(String::as_str));
    ok(nixrs_run(&args)?, "copy --to")?;

    let r2 = testkit::TempStore::new();
    let root2 = s(r2.root());
    for delay_ms in [5u64, 20, 40, 80, 160] {
        let mut child = Command::new(nixrs())
            .args(["copy", "--from", &url, "--to", &root2])
            .args(&paths)
            .stderr(std::process::Stdio::null())
            .spawn()?;
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        child.wait()?;
        let v = nixrs_run(&[
            "nix-store",
            "--store",
            &root2,
            "--verify",
            "--check-contents",
        ])?;
        assert!(
            v.status.success(),
            "verify after a kill at {delay_ms} ms: {}",
            String::from_utf8_lossy(&v.stderr)
        );
        if let Some(nix_store) = testkit::reference("nix-store") {
            let out = Command::new(nix_store)
                .args(["--store", &root2, "--verify", "--check-contents"])
                .output()?;
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success() && !err.contains("was modified"),
                "{err}"
            );
        }
    }
    let mut args = vec!["copy", "--from", &url, "--to", &root2];
    args.extend(paths.iter().map(String::as_str));
    ok(nixrs_run(&args)?, "copy --from after the kills")?;
    for p in &paths {
        ok(
            nixrs_run(&["nix-store", "--store", &root2, "-q", "--hash", p])?,
            "valid",
        )?;
    }
    Ok(())
}
