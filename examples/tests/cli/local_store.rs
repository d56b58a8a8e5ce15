//! The local store and profile command lines, differential against CppNix 2.8: the same
//! arguments on the same store root give the same stdout, stderr (where CppNix's is
//! deterministic) and exit code.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::nixrs;

type TestResult = Result<(), Box<dyn std::error::Error>>;

struct Out {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

/// Runs `bin`; usage hints name the program as invoked (`'/usr/bin/nix-store --help'`), so
/// the directory is stripped from them.
fn run(bin: &Path, args: &[&str], stdin: Option<&[u8]>) -> Result<Out, Box<dyn std::error::Error>> {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env("NIX_CONFIG", "substituters =")
        .env_remove("NIX_REMOTE")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn()?;
    if let Some(data) = stdin {
        use std::io::Write;
        child.stdin.take().ok_or("stdin")?.write_all(data)?;
    }
    let out = child.wait_with_output()?;
    Ok(Out {
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).replace(
            &format!(
                "Try '{}",
                bin.parent()
                    .map(|d| format!("{}/", d.display()))
                    .unwrap_or_default()
            ),
            "Try '",
        ),
    })
}

/// `nixrs nix-store ARGS` vs `nix-store ARGS`.
fn both(
    theirs: &Path,
    program: &str,
    args: &[&str],
) -> Result<(Out, Out), Box<dyn std::error::Error>> {
    let mut ours_args = vec![program];
    ours_args.extend_from_slice(args);
    Ok((run(&nixrs(), &ours_args, None)?, run(theirs, args, None)?))
}

fn same(
    theirs: &Path,
    program: &str,
    args: &[&str],
    compare_stderr: bool,
) -> Result<Out, Box<dyn std::error::Error>> {
    let (o, t) = both(theirs, program, args)?;
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&t.stdout),
        "stdout of {program} {args:?}\nour stderr: {}\ntheir stderr: {}",
        o.stderr,
        t.stderr
    );
    assert_eq!(
        o.code, t.code,
        "exit code of {program} {args:?}: ours {} theirs {}",
        o.stderr, t.stderr
    );
    if compare_stderr {
        assert_eq!(o.stderr, t.stderr, "stderr of {program} {args:?}");
    }
    Ok(o)
}

fn sources(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(dir.join("hello.txt"), b"hello\n")?;
    std::fs::create_dir(dir.join("tree"))?;
    std::fs::write(dir.join("tree/a"), b"a")?;
    std::fs::write(dir.join("tree/x.sh"), b"#!/bin/sh\n")?;
    std::fs::set_permissions(
        dir.join("tree/x.sh"),
        std::fs::Permissions::from_mode(0o755),
    )?;
    std::os::unix::fs::symlink("a", dir.join("tree/l"))?;
    Ok(())
}

#[test]
fn add_and_add_fixed_print_the_same_paths() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let src = testkit::tempdir();
    sources(src.path())?;
    let (ours, theirs) = (testkit::TempStore::new(), testkit::TempStore::new());
    let f = src.path().join("hello.txt").to_string_lossy().into_owned();
    let d = src.path().join("tree").to_string_lossy().into_owned();
    for args in [
        vec!["--add", f.as_str(), d.as_str()],
        vec!["--add-fixed", "sha256", f.as_str()],
        vec!["--add-fixed", "--recursive", "sha1", d.as_str()],
        vec!["--add-fixed", "md5", f.as_str()],
    ] {
        let mut a = vec!["nix-store", "--store", ours.root().to_str().ok_or("utf8")?];
        a.extend(&args);
        let o = run(&nixrs(), &a, None)?;
        let mut b = vec!["--store", theirs.root().to_str().ok_or("utf8")?];
        b.extend(&args);
        let t = run(&nix_store, &b, None)?;
        assert_eq!(
            (o.code, &o.stdout),
            (t.code, &t.stdout),
            "{args:?}: {} / {}",
            o.stderr,
            t.stderr
        );
    }
    // Each side verifies the other's store.
    let r = ours.root().to_str().ok_or("utf8")?;
    let t = run(
        &nix_store,
        &["--store", r, "--verify", "--check-contents"],
        None,
    )?;
    assert_eq!(t.code, 0, "{}", t.stderr);
    let r2 = theirs.root().to_str().ok_or("utf8")?;
    let o = run(
        &nixrs(),
        &["nix-store", "--store", r2, "--verify", "--check-contents"],
        None,
    )?;
    assert_eq!(o.code, 0, "{}", o.stderr);
    // Error texts.
    same(
        &nix_store,
        "nix-store",
        &["--store", r, "--add", "/nonexistent/x"],
        true,
    )?;
    Ok(())
}

#[test]
fn queries_match_on_a_cppnix_store() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let Some(nix_instantiate) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let src = testkit::tempdir();
    sources(src.path())?;
    let root = testkit::TempStore::new();
    let r = root.root().to_str().ok_or("utf8")?.to_string();
    let expr = format!(
        "let t = builtins.path {{ path = {}; name = \"tree\"; }}; \
         d = derivation {{ name = \"dep\"; system = \"x86_64-linux\"; builder = \"/bin/sh\"; args = [ \"-c\" \"echo ${{t}} > $out\" ]; }}; \
         in derivation {{ name = \"top\"; system = \"x86_64-linux\"; builder = \"/bin/sh\"; outputs = [ \"out\" \"dev\" ]; \
         args = [ \"-c\" \"echo ${{d}} ${{builtins.toFile \"f.txt\" \"${{t}}\"}} > $out\" ]; }}",
        src.path().join("tree").display()
    );
    let i = run(&nix_instantiate, &["--store", &r, "-E", &expr], None)?;
    assert_eq!(i.code, 0, "{}", i.stderr);
    let drv = String::from_utf8(i.stdout)?.trim().to_string();
    let all = run(&nix_store, &["--store", &r, "-qR", &drv], None)?;
    let all: Vec<String> = String::from_utf8(all.stdout)?
        .lines()
        .map(str::to_string)
        .collect();
    assert!(all.len() >= 4);
    for q in [
        "--references",
        "--referrers",
        "--requisites",
        "-R",
        "--hash",
        "--size",
        "--deriver",
        "--outputs",
        "--referrers-closure",
    ] {
        for p in &all {
            same(&nix_store, "nix-store", &["--store", &r, "-q", q, p], false)?;
        }
        let mut args: Vec<&str> = vec!["--store", &r, "--query", q];
        args.extend(all.iter().map(String::as_str));
        same(&nix_store, "nix-store", &args, false)?;
    }
    same(
        &nix_store,
        "nix-store",
        &["--store", &r, "-qR", "--include-outputs", &drv],
        false,
    )?;
    same(
        &nix_store,
        "nix-store",
        &["--store", &r, "-q", "--tree", &drv],
        false,
    )?;
    // Errors.
    let bogus = "/nix/store/00000000000000000000000000000000-nothing";
    same(
        &nix_store,
        "nix-store",
        &["--store", &r, "-q", "--hash", bogus],
        true,
    )?;
    same(
        &nix_store,
        "nix-store",
        &["--store", &r, "-q", "--references", bogus],
        true,
    )?;
    same(
        &nix_store,
        "nix-store",
        &["--store", &r, "-q", "--hash", "/tmp"],
        true,
    )?;
    same(
        &nix_store,
        "nix-store",
        &["--store", &r, "-q", "--hash", "--size", &drv],
        true,
    )?;
    // Export bytes.
    let mut args: Vec<&str> = vec!["--store", &r, "--export"];
    args.extend(all.iter().map(String::as_str));
    same(&nix_store, "nix-store", &args, false)?;
    Ok(())
}

#[test]
fn gc_and_delete_match() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let src = testkit::tempdir();
    sources(src.path())?;
    let root = testkit::TempStore::new();
    let r = root.root().to_str().ok_or("utf8")?.to_string();
    let f = src.path().join("hello.txt").to_string_lossy().into_owned();
    let d = src.path().join("tree").to_string_lossy().into_owned();
    let added = run(
        &nixrs(),
        &["nix-store", "--store", &r, "--add", &f, &d],
        None,
    )?;
    let added: Vec<String> = String::from_utf8(added.stdout)?
        .lines()
        .map(str::to_string)
        .collect();
    std::os::unix::fs::symlink(&added[0], root.root().join("nix/var/nix/gcroots/keep"))?;
    for args in [
        ["--gc", "--print-roots"],
        ["--gc", "--print-live"],
        ["--gc", "--print-dead"],
    ] {
        let mut a = vec!["--store", r.as_str()];
        a.extend(args);
        same(&nix_store, "nix-store", &a, false)?;
    }
    // Deleting a live path fails the same way (stdout summary, error line, exit code).
    let o = same(
        &nix_store,
        "nix-store",
        &["--store", &r, "--delete", &added[0]],
        false,
    )?;
    assert!(o.stderr.contains("since it is still alive"), "{}", o.stderr);
    // Our collection deletes exactly what CppNix called dead.
    let dead = run(&nix_store, &["--store", &r, "--gc", "--print-dead"], None)?;
    let o = run(&nixrs(), &["nix-store", "--store", &r, "--gc"], None)?;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let n = String::from_utf8(dead.stdout)?.lines().count();
    assert!(String::from_utf8(o.stdout)?.starts_with(&format!("{n} store paths deleted, ")));
    let t = run(
        &nix_store,
        &["--store", &r, "--verify", "--check-contents"],
        None,
    )?;
    assert_eq!(t.code, 0, "{}", t.stderr);
    Ok(())
}

#[test]
fn verify_reports_damage_like_cppnix() -> TestResult {
    use std::os::unix::fs::PermissionsExt;
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let src = testkit::tempdir();
    sources(src.path())?;
    let f = src.path().join("hello.txt").to_string_lossy().into_owned();
    let d = src.path().join("tree").to_string_lossy().into_owned();
    let mut roots = Vec::new();
    for _ in 0..2 {
        let root = testkit::TempStore::new();
        let r = root.root().to_str().ok_or("utf8")?.to_string();
        let added = run(&nix_store, &["--store", &r, "--add", &f, &d], None)?;
        let added: Vec<String> = String::from_utf8(added.stdout)?
            .lines()
            .map(str::to_string)
            .collect();
        let real = root.root().join(added[0].trim_start_matches('/'));
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o644))?;
        std::fs::write(&real, b"changed\n")?;
        let tree = root.root().join(added[1].trim_start_matches('/'));
        std::fs::set_permissions(&tree, std::fs::Permissions::from_mode(0o755))?;
        std::fs::remove_dir_all(&tree)?;
        roots.push(root);
    }
    let ours = run(
        &nixrs(),
        &[
            "nix-store",
            "--store",
            roots[0].root().to_str().ok_or("utf8")?,
            "--verify",
            "--check-contents",
        ],
        None,
    )?;
    let theirs = run(
        &nix_store,
        &[
            "--store",
            roots[1].root().to_str().ok_or("utf8")?,
            "--verify",
            "--check-contents",
        ],
        None,
    )?;
    assert_eq!((ours.code, &ours.stderr), (theirs.code, &theirs.stderr));
    Ok(())
}

#[test]
fn import_of_a_cppnix_export() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let src = testkit::tempdir();
    sources(src.path())?;
    let from = testkit::TempStore::new();
    let r = from.root().to_str().ok_or("utf8")?.to_string();
    let d = src.path().join("tree").to_string_lossy().into_owned();
    let added = run(&nix_store, &["--store", &r, "--add", &d], None)?;
    let p = String::from_utf8(added.stdout)?.trim().to_string();
    let exported = run(&nix_store, &["--store", &r, "--export", &p], None)?;
    let to = testkit::TempStore::new();
    let o = run(
        &nixrs(),
        &[
            "nix-store",
            "--store",
            to.root().to_str().ok_or("utf8")?,
            "--import",
        ],
        Some(&exported.stdout),
    )?;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(String::from_utf8(o.stdout)?.trim(), p);
    let t = run(
        &nix_store,
        &[
            "--store",
            to.root().to_str().ok_or("utf8")?,
            "-q",
            "--hash",
            &p,
        ],
        None,
    )?;
    let h = run(&nix_store, &["--store", &r, "-q", "--hash", &p], None)?;
    assert_eq!(t.stdout, h.stdout);
    Ok(())
}

fn links(dir: &Path) -> Result<Vec<(String, String)>, std::io::Error> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let t = std::fs::read_link(e.path())
            .map(|t| t.to_string_lossy().into_owned())
            .unwrap_or_default();
        v.push((name, t));
    }
    v.sort();
    Ok(v)
}

/// Masks the date column of `--list-generations` (generations are made at different times).
fn mask_dates(s: &[u8]) -> String {
    String::from_utf8_lossy(s)
        .lines()
        .map(|l| format!("{}{}\n", &l[..l.len().min(7)], l.get(26..).unwrap_or("")))
        .collect()
}

#[test]
fn nix_env_profile_forms_match() -> TestResult {
    let Some(nix_env) = testkit::reference("nix-env") else {
        return Ok(());
    };
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let root = testkit::TempStore::new();
    let r = root.root().to_str().ok_or("utf8")?.to_string();
    let src = testkit::tempdir();
    let mut paths = Vec::new();
    for n in ["one", "two", "three"] {
        let f = src.path().join(n);
        std::fs::write(&f, n)?;
        let o = run(
            &nix_store,
            &["--store", &r, "--add", &f.to_string_lossy()],
            None,
        )?;
        paths.push(String::from_utf8(o.stdout)?.trim().to_string());
    }
    let (od, td) = (testkit::tempdir(), testkit::tempdir());
    let op = od.path().join("prof").to_string_lossy().into_owned();
    let tp = td.path().join("prof").to_string_lossy().into_owned();
    let steps: Vec<Vec<&str>> = vec![
        vec!["--list-generations"],
        vec!["--rollback"],
        vec!["--set", &paths[0]],
        vec!["--set", &paths[1]],
        vec!["--set", &paths[1]],
        vec!["--set", &paths[2]],
        vec!["--list-generations"],
        vec!["--rollback"],
        vec!["--switch-generation", "7"],
        vec!["--switch-generation", "3"],
        vec!["--delete-generations", "3"],
        vec!["--delete-generations", "+2"],
        vec!["--rollback"],
        vec!["--rollback"],
        vec!["--delete-generations", "1x"],
        vec!["--delete-generations", "0d"],
        vec!["--delete-generations", "old"],
        vec!["--list-generations"],
    ];
    for step in &steps {
        let mut a = vec!["nix-env", "--store", r.as_str(), "-p", op.as_str()];
        a.extend(step);
        let o = run(&nixrs(), &a, None)?;
        let mut b = vec!["--store", r.as_str(), "-p", tp.as_str()];
        b.extend(step);
        let t = run(&nix_env, &b, None)?;
        assert_eq!(
            o.code, t.code,
            "{step:?}: ours {} theirs {}",
            o.stderr, t.stderr
        );
        assert_eq!(
            o.stderr.replace(&op, "PROFILE"),
            t.stderr.replace(&tp, "PROFILE"),
            "{step:?}"
        );
        assert_eq!(mask_dates(&o.stdout), mask_dates(&t.stdout), "{step:?}");
        let mut ol = links(od.path())?;
        ol.retain(|(n, _)| !n.ends_with(".lock"));
        assert_eq!(ol, links(td.path())?, "{step:?}");
    }
    Ok(())
}

/// A small deterministic pseudo-random sequence (kill delays), seeded per test run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below.max(1)
    }
}

/// Starts `nixrs ARGS`, kills it after `delay_ms`, and waits for it.
fn kill_after(args: &[&str], delay_ms: u64) -> Result<(), Box<dyn std::error::Error>> {
    let mut child = Command::new(nixrs())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    std::thread::sleep(std::time::Duration::from_millis(delay_ms));
    let _ = child.kill();
    child.wait()?;
    Ok(())
}

fn check_consistent(nix_store: Option<&Path>, r: &str) -> TestResult {
    let ours = run(
        &nixrs(),
        &["nix-store", "--store", r, "--verify", "--check-contents"],
        None,
    )?;
    assert_eq!(ours.code, 0, "our verify: {}", ours.stderr);
    assert!(!ours.stderr.contains("was modified"), "{}", ours.stderr);
    if let Some(bin) = nix_store {
        let theirs = run(bin, &["--store", r, "--verify", "--check-contents"], None)?;
        assert_eq!(theirs.code, 0, "CppNix verify: {}", theirs.stderr);
        assert!(!theirs.stderr.contains("was modified"), "{}", theirs.stderr);
    }
    Ok(())
}

#[test]
fn killed_adds_gcs_and_switches_leave_a_consistent_store() -> TestResult {
    let nix_store = testkit::reference("nix-store");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    eprintln!("fault-injection seed {seed}");
    let mut rng = Lcg(seed);
    let src = testkit::tempdir();
    // A tree big enough that adding it takes a while.
    let big = src.path().join("big");
    for d in 0..20 {
        let dir = big.join(format!("d{d}"));
        std::fs::create_dir_all(&dir)?;
        for f in 0..40 {
            std::fs::write(dir.join(format!("f{f}")), vec![b'x'; 2000 + d * 40 + f])?;
        }
    }
    let root = testkit::TempStore::new();
    let r = root.root().to_str().ok_or("utf8")?.to_string();
    let bigs = big.to_string_lossy().into_owned();

    // Mid-add.
    for _ in 0..6 {
        kill_after(&["nix-store", "--store", &r, "--add", &bigs], rng.next(120))?;
        check_consistent(nix_store.as_deref(), &r)?;
    }
    // The add still works afterwards and gives CppNix's path.
    let o = run(
        &nixrs(),
        &["nix-store", "--store", &r, "--add", &bigs],
        None,
    )?;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let big_path = String::from_utf8(o.stdout)?.trim().to_string();

    // Mid-GC: many small dead paths.
    let small = src.path().join("small");
    std::fs::create_dir(&small)?;
    let mut args: Vec<String> = vec![
        "nix-store".into(),
        "--store".into(),
        r.clone(),
        "--add".into(),
    ];
    for i in 0..150 {
        let f = small.join(format!("s{i}"));
        std::fs::write(&f, format!("{i}"))?;
        args.push(f.to_string_lossy().into_owned());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    for _ in 0..4 {
        let o = run(&nixrs(), &args, None)?;
        assert_eq!(o.code, 0, "{}", o.stderr);
        kill_after(&["nix-store", "--store", &r, "--gc"], rng.next(150))?;
        check_consistent(nix_store.as_deref(), &r)?;
    }
    let o = run(&nixrs(), &["nix-store", "--store", &r, "--gc"], None)?;
    assert_eq!(o.code, 0, "{}", o.stderr);
    check_consistent(nix_store.as_deref(), &r)?;

    // Mid-switch: the profile always points at an existing generation.
    let o = run(
        &nixrs(),
        &[
            "nix-store",
            "--store",
            &r,
            "--add",
            &small.join("s1").to_string_lossy(),
        ],
        None,
    )?;
    let s1 = String::from_utf8(o.stdout)?.trim().to_string();
    let pdir = testkit::tempdir();
    let prof = pdir.path().join("prof").to_string_lossy().into_owned();
    for i in 0..12 {
        let target = if i % 2 == 0 { &big_path } else { &s1 };
        kill_after(
            &["nix-env", "--store", &r, "-p", &prof, "--set", target],
            rng.next(40),
        )?;
        if let Ok(t) = std::fs::read_link(&prof) {
            let gen = pdir.path().join(&t);
            let target = std::fs::read_link(&gen)?;
            assert!(
                target == Path::new(&big_path) || target == Path::new(&s1),
                "{}",
                target.display()
            );
        }
        let l = run(
            &nixrs(),
            &["nix-env", "-p", &prof, "--list-generations"],
            None,
        )?;
        assert_eq!(l.code, 0, "{}", l.stderr);
    }
    Ok(())
}
