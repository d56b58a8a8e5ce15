//! `nixrs` nar commands: `nixrs nar dump|restore|ls|cat` and `nix-store --dump/--restore`,
//! compared with CppNix 2.8 (output bytes, stderr, exit code).

use std::fs;
use std::io::Write;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn run(
    bin: &Path,
    args: &[&std::ffi::OsStr],
    stdin: &[u8],
) -> Result<Output, Box<dyn std::error::Error>> {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut i = child.stdin.take().ok_or("stdin")?;
    // A failing command may exit before reading everything.
    let _ = i.write_all(stdin);
    drop(i);
    Ok(child.wait_with_output()?)
}

fn nixrs_store(
    args: &[&std::ffi::OsStr],
    stdin: &[u8],
) -> Result<Output, Box<dyn std::error::Error>> {
    let mut a: Vec<&std::ffi::OsStr> = vec!["nix-store".as_ref()];
    a.extend_from_slice(args);
    run(&crate::nixrs(), &a, stdin)
}

/// A scratch directory holding the tree of [`make_tree`] at `tree`.
fn temp_tree() -> Result<(testkit::TempDir, PathBuf), Box<dyn std::error::Error>> {
    let tmp = testkit::tempdir();
    let root = tmp.path().join("tree");
    make_tree(&root)?;
    Ok((tmp, root))
}

fn make_tree(root: &Path) -> TestResult {
    fs::create_dir_all(root.join("sub/deeper"))?;
    fs::write(root.join("hello.txt"), b"hello\n")?;
    fs::write(root.join("run.sh"), b"#!/bin/sh\necho hi\n")?;
    fs::set_permissions(root.join("run.sh"), fs::Permissions::from_mode(0o755))?;
    fs::write(root.join("sub/deeper/empty"), b"")?;
    fs::write(root.join("odd name\n"), b"x")?;
    symlink("hello.txt", root.join("link"))?;
    symlink("/does/not/exist", root.join("dangling"))?;
    Ok(())
}

fn same(ours: &Output, theirs: &Output, what: &str) {
    assert_eq!(
        ours.status.code(),
        theirs.status.code(),
        "{what}: exit code"
    );
    assert!(ours.stdout == theirs.stdout, "{what}: stdout differs");
    assert_eq!(
        String::from_utf8_lossy(&ours.stderr),
        String::from_utf8_lossy(&theirs.stderr),
        "{what}: stderr"
    );
}

#[test]
fn dump_matches_nix_store() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let (tmp, root) = temp_tree()?;
    let fifo = tmp.path().join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status()?.success());
    let missing = tmp.path().join("missing");
    for p in [
        &root,
        &root.join("hello.txt"),
        &root.join("link"),
        &fifo,
        &missing,
    ] {
        let theirs = run(&nix_store, &["--dump".as_ref(), p.as_os_str()], b"")?;
        let ours = nixrs_store(&["--dump".as_ref(), p.as_os_str()], b"")?;
        same(&ours, &theirs, &format!("--dump {}", p.display()));
        let native = run(
            &crate::nixrs(),
            &["nar".as_ref(), "dump".as_ref(), p.as_os_str()],
            b"",
        )?;
        assert_eq!(native.status.code(), theirs.status.code());
        if theirs.status.success() {
            assert!(native.stdout == theirs.stdout);
        }
    }
    // Usage errors.
    // CppNix names itself by its argv[0] in the hint.
    let mut theirs = run(&nix_store, &["--dump".as_ref()], b"")?;
    theirs.stderr = String::from_utf8(theirs.stderr)?
        .replace(&*nix_store.to_string_lossy(), "nix-store")
        .into_bytes();
    let ours = nixrs_store(&["--dump".as_ref()], b"")?;
    same(&ours, &theirs, "--dump without argument");
    Ok(())
}

#[test]
fn restore_matches_nix_store() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let (tmp, root) = temp_tree()?;
    let nar = run(&nix_store, &["--dump".as_ref(), root.as_os_str()], b"")?.stdout;

    let ours_dir = tmp.path().join("ours");
    let theirs_dir = tmp.path().join("theirs");
    let ours = nixrs_store(&["--restore".as_ref(), ours_dir.as_os_str()], &nar)?;
    let theirs = run(
        &nix_store,
        &["--restore".as_ref(), theirs_dir.as_os_str()],
        &nar,
    )?;
    same(&ours, &theirs, "--restore");
    let redump = |p: &Path| run(&nix_store, &["--dump".as_ref(), p.as_os_str()], b"");
    assert!(redump(&ours_dir)?.stdout == nar);
    assert!(redump(&theirs_dir)?.stdout == nar);

    // Restoring onto an existing path: same message and exit code.
    let ours = nixrs_store(&["--restore".as_ref(), ours_dir.as_os_str()], &nar)?;
    let theirs = run(
        &nix_store,
        &["--restore".as_ref(), theirs_dir.as_os_str()],
        &nar,
    )?;
    same(
        &ours,
        &Output {
            stderr: String::from_utf8(theirs.stderr.clone())?
                .replace(&*theirs_dir.to_string_lossy(), &ours_dir.to_string_lossy())
                .into_bytes(),
            ..theirs
        },
        "--restore onto an existing path",
    );

    // The hand-made cases of the vectors (CppNix 2.8's stderr and exit code), except those
    // where we are deliberately stricter (unsorted entries) or where CppNix's message names its
    // own scratch path (duplicate entries).
    let v = testkit::vectors("nar");
    for c in v["restore_cases_cppnix_2_8"].as_array().ok_or("cases")? {
        let case = c["case"].as_str().ok_or("case")?;
        let hex = c["nar_hex"].as_str().ok_or("hex")?;
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
            .collect::<Result<_, _>>()?;
        let target = tmp.path().join(format!("case-{case}"));
        let ours = nixrs_store(&["--restore".as_ref(), target.as_os_str()], &bytes)?;
        match case {
            "unsorted_entries" => {
                assert_eq!(ours.status.code(), Some(1), "{case}");
                assert!(String::from_utf8_lossy(&ours.stderr)
                    .starts_with("error: NAR directory is not sorted"));
            }
            "duplicate_entries" => assert_eq!(ours.status.code(), Some(1), "{case}"),
            _ => {
                assert_eq!(
                    ours.status.code(),
                    c["nix_store_restore_rc"].as_i64().map(|x| x as i32),
                    "{case}"
                );
                let want = c["stderr"].as_str().ok_or("stderr")?;
                assert_eq!(
                    String::from_utf8_lossy(&ours.stderr).trim_end(),
                    want,
                    "{case}"
                );
            }
        }
        assert_eq!(target.exists(), ours.status.success(), "{case}");
    }
    // Empty input.
    let target = tmp.path().join("empty-input");
    let ours = nixrs_store(&["--restore".as_ref(), target.as_os_str()], b"")?;
    let theirs = run(&nix_store, &["--restore".as_ref(), target.as_os_str()], b"")?;
    same(&ours, &theirs, "--restore of empty input");
    Ok(())
}

#[test]
fn invoked_through_a_nix_store_symlink() -> TestResult {
    let tmp = testkit::tempdir();
    let link = tmp.path().join("nix-store");
    symlink(crate::nixrs(), &link)?;
    let file = tmp.path().join("hello.txt");
    fs::write(&file, b"hello\n")?;
    let out = run(&link, &["--dump".as_ref(), file.as_os_str()], b"")?;
    assert!(out.status.success());
    assert_eq!(out.stdout.len(), 120);
    let target = tmp.path().join("back");
    let out = run(
        &link,
        &["--restore".as_ref(), target.as_os_str()],
        &out.stdout,
    )?;
    assert!(out.status.success());
    assert_eq!(fs::read(&target)?, b"hello\n");
    Ok(())
}

#[test]
fn native_restore_is_strict() -> TestResult {
    let tmp = testkit::tempdir();
    let file = tmp.path().join("f");
    fs::write(&file, b"x")?;
    let mut nar = run(
        &crate::nixrs(),
        &["nar".as_ref(), "dump".as_ref(), file.as_os_str()],
        b"",
    )?
    .stdout;
    nar.extend_from_slice(&[0u8; 8]);
    let target = tmp.path().join("t");
    let out = run(
        &crate::nixrs(),
        &["nar".as_ref(), "restore".as_ref(), target.as_os_str()],
        &nar,
    )?;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        format!(
            "error: trailing data after the NAR at byte offset {}",
            nar.len() - 8
        )
    );
    assert!(!target.exists());
    // The CppNix form accepts it, as 2.8 does.
    let out = nixrs_store(&["--restore".as_ref(), target.as_os_str()], &nar)?;
    assert!(out.status.success());
    Ok(())
}

#[test]
fn ls_and_cat_match_nix_nar() -> TestResult {
    let Some(nix) = testkit::reference("nix") else {
        return Ok(());
    };
    let (tmp, root) = temp_tree()?;
    let nar_file = tmp.path().join("tree.nar");
    let nar = run(
        &crate::nixrs(),
        &["nar".as_ref(), "dump".as_ref(), root.as_os_str()],
        b"",
    )?
    .stdout;
    fs::write(&nar_file, &nar)?;
    let nix_nar = |args: &[&str]| -> Result<Output, Box<dyn std::error::Error>> {
        let mut a: Vec<&std::ffi::OsStr> = vec![
            "--extra-experimental-features".as_ref(),
            "nix-command".as_ref(),
            "nar".as_ref(),
            args[0].as_ref(),
        ];
        a.extend(args[1..args.len() - 1].iter().map(std::ffi::OsStr::new));
        a.push(nar_file.as_os_str());
        a.push(args[args.len() - 1].as_ref());
        run(&nix, &a, b"")
    };
    let ours = |args: &[&str]| -> Result<Output, Box<dyn std::error::Error>> {
        let mut a: Vec<&std::ffi::OsStr> = vec!["nar".as_ref(), args[0].as_ref()];
        a.extend(args[1..args.len() - 1].iter().map(std::ffi::OsStr::new));
        a.push(nar_file.as_os_str());
        a.push(args[args.len() - 1].as_ref());
        run(&crate::nixrs(), &a, b"")
    };
    let cases: &[&[&str]] = &[
        &["ls", "--json", "-R", "/"],
        &["ls", "--json", "/"],
        &["ls", "--json", "/hello.txt"],
        &["ls", "--json", "/link"],
        &["ls", "-l", "-R", "/"],
        &["ls", "-R", "/"],
        &["ls", "/sub"],
        &["ls", "-l", "/run.sh"],
        &["ls", "-d", "/sub"],
        &["ls", "/nope"],
        &["ls", "--json", "/nope"],
        &["cat", "/hello.txt"],
        &["cat", "/sub/deeper/empty"],
        &["cat", "/sub"],
        &["cat", "/link"],
        &["cat", "/nope"],
    ];
    for args in cases {
        let t = nix_nar(args)?;
        let o = ours(args)?;
        same(&o, &t, &format!("nar {args:?}"));
    }
    Ok(())
}
