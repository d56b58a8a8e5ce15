//! Fetchers writing to the store under `nix-instantiate --eval` (read-only mode does not stop
//! CppNix 2.8's fetchers): `readFile (fetchurl …)` and `import (fetchTarball …)` against a
//! diverted store root give CppNix's output, the same store paths and NAR hashes, and
//! `nix-store --verify --check-contents` accepts what we wrote. `fetchGit` of a local
//! repository too.

use std::path::Path;
use std::process::Command;

/// Runs `nix-instantiate --eval --strict --store ROOT -E EXPR` with its own HOME and cache.
fn eval(bin: &Path, root: &Path, home: &Path, expr: &str) -> std::io::Result<std::process::Output> {
    let mut cmd = Command::new(bin);
    if bin == crate::nixrs() {
        cmd.arg("nix-instantiate");
    }
    cmd.args(["--eval", "--strict", "--store"])
        .arg(root)
        .args(["-E", expr])
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env_remove("NIX_REMOTE")
        .output()
}

#[test]
fn fetchers_write_in_eval_mode() -> Result<(), Box<dyn std::error::Error>> {
    let Some(cpp) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let Some(cpp_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let tmp = testkit::tempdir();
    let t = tmp.path();
    std::fs::create_dir_all(t.join("src/pkg/lib"))?;
    std::fs::write(t.join("src/hello.txt"), b"hello, fetched\n")?;
    std::fs::write(
        t.join("src/pkg/default.nix"),
        b"{ x = 42; y = import ./lib/y.nix; }\n",
    )?;
    std::fs::write(t.join("src/pkg/lib/y.nix"), b"\"why\"\n")?;
    let tar = Command::new("tar")
        .arg("czf")
        .arg(t.join("pkg.tar.gz"))
        .arg("-C")
        .arg(t.join("src"))
        .arg("pkg")
        .status()?;
    assert!(tar.success());
    // a git repository with fixed dates
    let repo = t.join("repo");
    std::fs::create_dir_all(&repo)?;
    std::fs::write(repo.join("default.nix"), b"{ v = \"from git\"; }\n")?;
    let git = |args: &[&str]| -> std::io::Result<bool> {
        Ok(Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env("GIT_AUTHOR_DATE", "2020-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2020-01-01T00:00:00Z")
            .env("HOME", t)
            .output()?
            .status
            .success())
    };
    assert!(git(&["init", "-q"])?);
    assert!(git(&["add", "."])?);
    assert!(git(&[
        "-c",
        "user.name=a",
        "-c",
        "user.email=a@b",
        "commit",
        "-qm",
        "init"
    ])?);
    let file_url = format!("file://{}", t.join("src/hello.txt").display());
    let tar_url = format!("file://{}", t.join("pkg.tar.gz").display());
    let exprs = [
        format!(r#"builtins.readFile (builtins.fetchurl "{file_url}")"#),
        format!(r#"import (builtins.fetchTarball "{tar_url}")"#),
        format!(
            r#"[ (builtins.fetchurl {{ url = "{file_url}"; name = "named"; }}) (builtins.pathExists (builtins.fetchTarball {{ url = "{tar_url}"; name = "t"; }} + "/lib/y.nix")) ]"#
        ),
        format!(
            r#"let g = builtins.fetchGit {}; in [ (import g).v g.outPath g.narHash g.revCount ]"#,
            repo.display()
        ),
    ];
    let ours_root = t.join("ours");
    let cpp_root = t.join("cpp");
    for (i, e) in exprs.iter().enumerate() {
        let a = eval(&crate::nixrs(), &ours_root, &t.join("home-ours"), e)?;
        let b = eval(&cpp, &cpp_root, &t.join("home-cpp"), e)?;
        assert_eq!(
            String::from_utf8_lossy(&a.stdout),
            String::from_utf8_lossy(&b.stdout),
            "stdout of expression {i}: {e}\nour stderr: {}",
            String::from_utf8_lossy(&a.stderr)
        );
        assert_eq!(a.status.code(), b.status.code(), "exit code of {e}");
        assert_eq!(a.status.code(), Some(0), "{e}");
    }
    let names = crate::store_entries(&ours_root)?;
    assert_eq!(names, crate::store_entries(&cpp_root)?);
    // 2 files (hello.txt, named), 2 archives, 2 unpacked trees, 1 git tree
    assert_eq!(names.len(), 7, "{names:?}");
    for n in &names {
        let p = format!("/nix/store/{n}");
        let hash = |root: &Path| {
            Command::new(&cpp_store)
                .arg("--store")
                .arg(root)
                .args(["-q", "--hash", &p])
                .output()
        };
        let (a, b) = (hash(&ours_root)?, hash(&cpp_root)?);
        assert!(
            a.status.success(),
            "{p}: {}",
            String::from_utf8_lossy(&a.stderr)
        );
        assert_eq!(a.stdout, b.stdout, "NAR hash of {p}");
    }
    let verify = Command::new(&cpp_store)
        .arg("--store")
        .arg(&ours_root)
        .args(["--verify", "--check-contents"])
        .output()?;
    assert!(verify.status.success());
    let err = String::from_utf8_lossy(&verify.stderr);
    assert!(
        !err.contains("error") && !err.contains("was modified"),
        "{err}"
    );
    // a second evaluation finds the paths valid (and the download cache) and prints the same
    let again = eval(&crate::nixrs(), &ours_root, &t.join("home-ours"), &exprs[1])?;
    assert_eq!(again.stdout, b"{ x = 42; y = \"why\"; }\n");
    Ok(())
}

/// Runs `nix-instantiate ARGS` (ours or CppNix's) with its own HOME and cache; `NIX_CONFIG`
/// only when given.
fn instantiate(
    bin: &Path,
    home: &Path,
    args: &[&str],
    nix_config: Option<&str>,
) -> std::io::Result<std::process::Output> {
    let mut cmd = Command::new(bin);
    if bin == crate::nixrs() {
        cmd.arg("nix-instantiate");
    }
    cmd.args(args)
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env_remove("NIX_USER_CONF_FILES")
        .env_remove("NIX_REMOTE")
        .env_remove("NIX_CONFIG");
    if let Some(c) = nix_config {
        cmd.env("NIX_CONFIG", c);
    }
    cmd.output()
}

/// Same stdout, stderr and exit status from ours and CppNix's.
fn same(
    ours: &std::process::Output,
    theirs: &std::process::Output,
    what: &str,
) -> Result<(), String> {
    let show = |o: &std::process::Output| {
        format!(
            "status {:?}\nstdout: {}\nstderr: {}",
            o.status.code(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    if ours.stdout != theirs.stdout
        || ours.stderr != theirs.stderr
        || ours.status.code() != theirs.status.code()
    {
        return Err(format!(
            "{what}\n--- ours:\n{}\n--- CppNix:\n{}",
            show(ours),
            show(theirs)
        ));
    }
    Ok(())
}

/// Hash mismatches exit with 102 and CppNix's message; a 404, a missing `file://` file and an
/// unreachable host exit with 1 and libcurl's words (no retries with `download-attempts 1`).
#[test]
fn fetch_errors_exit_as_cppnix() -> Result<(), Box<dyn std::error::Error>> {
    let Some(cpp) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let tmp = testkit::tempdir();
    let t = tmp.path();
    std::fs::write(t.join("hello.txt"), b"hello\n")?;
    let server = testkit::http::FileServer::start(t);
    let zero = "0000000000000000000000000000000000000000000000000000";
    let file = format!("file://{}/hello.txt", t.display());
    let exprs = [
        format!(r#"builtins.fetchurl {{ url = "{file}"; sha256 = "{zero}"; }}"#),
        format!(
            r#"builtins.fetchurl {{ url = "{}/hello.txt"; sha256 = "{zero}"; }}"#,
            server.url()
        ),
        format!(r#"builtins.fetchTarball {{ url = "{file}.tar"; sha256 = "{zero}"; }}"#),
        format!(r#"builtins.fetchurl "{}/missing""#, server.url()),
        format!(r#"builtins.fetchurl "file://{}/missing""#, t.display()),
        r#"builtins.fetchurl "http://127.0.0.1:1/x""#.to_string(),
    ];
    // a tarball for the fetchTarball mismatch
    let tar = Command::new("tar")
        .arg("cf")
        .arg(t.join("hello.txt.tar"))
        .arg("-C")
        .arg(t)
        .arg("hello.txt")
        .status()?;
    assert!(tar.success());
    for (i, e) in exprs.iter().enumerate() {
        let root = t.join(format!("root{i}"));
        let root = root.to_string_lossy();
        let args = [
            "--eval",
            "--store",
            &root,
            "--option",
            "download-attempts",
            "1",
            "-E",
            e,
        ];
        let a = instantiate(&crate::nixrs(), &t.join("home-ours"), &args, None)?;
        let b = instantiate(&cpp, &t.join("home-cpp"), &args, None)?;
        same(&a, &b, e)?;
        assert_eq!(b.status.code(), Some(if i < 3 { 102 } else { 1 }), "{e}");
    }
    Ok(())
}

/// File content, extra arguments, `NIX_CONFIG`, expected output.
type Step<'a> = (&'a [u8], &'a [&'a str], Option<&'a str>, &'a str);

/// `tarball-ttl` from `--option`, `--tarball-ttl`, `NIX_CONFIG` and a user `nix.conf`: a fresh
/// cache entry hides a changed file, a TTL of 0 fetches again; invalid values warn (`--option`)
/// or fail.
#[test]
fn tarball_ttl_setting() -> Result<(), Box<dyn std::error::Error>> {
    let Some(cpp) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let tmp = testkit::tempdir();
    let t = tmp.path();
    let url = format!("file://{}/ttl.txt", t.display());
    let expr = format!(r#"builtins.readFile (builtins.fetchurl "{url}")"#);
    for (who, bin) in [("ours", crate::nixrs()), ("cpp", cpp)] {
        let home = t.join(format!("home-{who}"));
        let root = t.join(format!("root-{who}"));
        let root = root.to_string_lossy();
        let run = |extra: &[&str], conf: Option<&str>| {
            let mut args = vec!["--eval", "--store", &root];
            args.extend_from_slice(extra);
            args.extend_from_slice(&["-E", &expr]);
            instantiate(&bin, &home, &args, conf)
        };
        let steps: [Step; 6] = [
            (b"v1\n", &[], None, "\"v1\\n\"\n"),
            (b"v2\n", &[], None, "\"v1\\n\"\n"),
            (
                b"v3\n",
                &["--option", "tarball-ttl", "3600"],
                None,
                "\"v1\\n\"\n",
            ),
            (
                b"v4\n",
                &["--option", "tarball-ttl", "0"],
                None,
                "\"v4\\n\"\n",
            ),
            (b"v5\n", &[], Some("tarball-ttl = 0"), "\"v5\\n\"\n"),
            (b"v6\n", &["--tarball-ttl", "0"], None, "\"v6\\n\"\n"),
        ];
        for (content, extra, conf, want) in steps {
            std::fs::write(t.join("ttl.txt"), content)?;
            let o = run(extra, conf)?;
            assert_eq!(
                String::from_utf8_lossy(&o.stdout),
                want,
                "{who} {extra:?} {conf:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        // a user nix.conf, and --option over it
        let conf_dir = home.join("config/nix");
        std::fs::create_dir_all(&conf_dir)?;
        std::fs::write(conf_dir.join("nix.conf"), "tarball-ttl = 0 # always\n")?;
        std::fs::write(t.join("ttl.txt"), b"v7\n")?;
        assert_eq!(run(&[], None)?.stdout, b"\"v7\\n\"\n", "{who}: nix.conf");
        std::fs::write(t.join("ttl.txt"), b"v8\n")?;
        let o = run(&["--option", "tarball-ttl", "3600"], None)?;
        assert_eq!(o.stdout, b"\"v7\\n\"\n", "{who}: --option over nix.conf");
        std::fs::remove_file(conf_dir.join("nix.conf"))?;
        let o = run(&["--option", "tarball-ttl", "x"], None)?;
        assert_eq!(
            String::from_utf8_lossy(&o.stderr),
            "warning: error: setting 'tarball-ttl' has invalid value 'x'\n",
            "{who}"
        );
        assert_eq!(o.status.code(), Some(0));
        let o = run(&["--tarball-ttl", "x"], None)?;
        assert!(
            String::from_utf8_lossy(&o.stderr)
                .starts_with("error: setting 'tarball-ttl' has invalid value 'x'\n"),
            "{who}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(o.status.code(), Some(1));
    }
    Ok(())
}

/// `import <nix/fetchurl.nix> { … }` is CppNix 2.8's built-in fixed-output `builtin:fetchurl`
/// derivation: the same `.drv` paths and bytes for each hash form, `executable` and `unpack`.
#[test]
fn corepkgs_fetchurl_drv() -> Result<(), Box<dyn std::error::Error>> {
    let Some(cpp) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let tmp = testkit::tempdir();
    let t = tmp.path();
    let z = "0000000000000000000000000000000000000000000000000000";
    let exprs = [
        format!(r#"import <nix/fetchurl.nix> {{ url = "http://example.org/a.tar.gz"; sha256 = "{z}"; }}"#),
        r#"import <nix/fetchurl.nix> { url = "http://x/y"; hash = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="; executable = true; name = "tool"; }"#.to_string(),
        r#"import <nix/fetchurl.nix> { url = "http://x/src.tar"; sha1 = "0000000000000000000000000000000000000000"; unpack = true; system = "ignored"; }"#.to_string(),
        r#"import <nix/fetchurl.nix> { url = "http://x/m"; md5 = "00000000000000000000000000000000"; }"#.to_string(),
        r#"(import <nix/fetchurl.nix> { url = "http://x/m"; sha256 = ""; }).outputHashAlgo"#.to_string(),
        r#"(import <nix/fetchurl.nix>) { }"#.to_string(),
        r#"builtins.pathExists <nix/fetchurl.nix>"#.to_string(),
    ];
    for (i, e) in exprs.iter().enumerate() {
        let eval_only = i >= 4;
        let roots = [t.join(format!("ours{i}")), t.join(format!("cpp{i}"))];
        let mut outs = Vec::new();
        for (bin, root) in [(crate::nixrs(), &roots[0]), (cpp.clone(), &roots[1])] {
            let root_s = root.to_string_lossy().into_owned();
            let mut args = vec!["--store", &root_s];
            if eval_only {
                args.push("--eval");
            }
            args.extend_from_slice(&["-E", e]);
            outs.push(instantiate(&bin, &t.join("home"), &args, None)?);
        }
        same(&outs[0], &outs[1], e)?;
        if !eval_only {
            assert_eq!(outs[1].status.code(), Some(0), "{e}");
            let drv = String::from_utf8_lossy(&outs[1].stdout).trim().to_string();
            let rel = drv.trim_start_matches('/');
            assert_eq!(
                std::fs::read(roots[0].join(rel))?,
                std::fs::read(roots[1].join(rel))?,
                "{drv}"
            );
        }
    }
    Ok(())
}

/// Runs `git ARGS` in `repo` with fixed identities and dates.
fn git_in(repo: &Path, home: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(repo)
        .env("GIT_AUTHOR_DATE", "@1600000000 +0000")
        .env("GIT_COMMITTER_DATE", "@1600000000 +0000")
        .env("GIT_AUTHOR_NAME", "T")
        .env("GIT_AUTHOR_EMAIL", "t@example.org")
        .env("GIT_COMMITTER_NAME", "T")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", home)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// `fetchGit`'s `narHash` (SRI sha256, checked with exit status 102), `lastModified` and
/// `revCount` (checked against the locked input), `shallow`, `allRefs`, `name`, `submodules`,
/// and the shortcut CppNix takes when `narHash` + `lastModified` name a valid path; on a clean
/// and on a dirty working tree. Output, messages and exit status as CppNix 2.8.
#[test]
fn fetch_git_attributes_as_cppnix() -> Result<(), Box<dyn std::error::Error>> {
    let Some(cpp) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let tmp = testkit::tempdir();
    let t = tmp.path();
    let repo = t.join("repo");
    std::fs::create_dir_all(&repo)?;
    std::fs::write(repo.join("f"), b"one\n")?;
    git_in(&repo, t, &["init", "-q", "-b", "main", "."])?;
    git_in(&repo, t, &["add", "f"])?;
    git_in(&repo, t, &["commit", "-qm", "one"])?;
    let rev = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(&repo)
        .output()?;
    let rev = String::from_utf8_lossy(&rev.stdout).trim().to_string();
    let r = repo.display();
    let z = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let run = |who: &str, bin: &Path, e: &str| -> std::io::Result<(String, String, Option<i32>)> {
        let root = t.join(format!("root-{who}"));
        let root_s = root.to_string_lossy().into_owned();
        let o = instantiate(
            bin,
            &t.join(format!("home-{who}")),
            &["--eval", "--strict", "--store", &root_s, "-E", e],
            None,
        )?;
        // the NAR hash mismatch names the real path, under each side's own root; CppNix's
        // `Try '…' --help` names its argv[0]
        let norm = |b: &[u8]| {
            String::from_utf8_lossy(b)
                .replace(&root_s, "ROOT")
                .replace(&bin.display().to_string(), "nix-instantiate")
        };
        Ok((norm(&o.stdout), norm(&o.stderr), o.status.code()))
    };
    let compare = |e: &str| -> Result<(String, Option<i32>), String> {
        let a = run("ours", &crate::nixrs(), e).map_err(|x| x.to_string())?;
        let b = run("cpp", &cpp, e).map_err(|x| x.to_string())?;
        if a != b {
            return Err(format!("{e}\nours:   {a:?}\nCppNix: {b:?}"));
        }
        Ok((b.0, b.2))
    };
    // the real NAR hash, from CppNix
    let (out, _) = compare(&format!("(builtins.fetchGit {r}).narHash"))?;
    let h = out.trim().trim_matches('"').to_string();
    let clean = [
        format!(r#"builtins.fetchGit {{ url = {r}; narHash = "{z}"; }}"#),
        format!(r#"builtins.fetchGit {{ url = {r}; narHash = "{h}"; }}"#),
        format!(r#"builtins.fetchGit {{ url = {r}; narHash = ""; }}"#),
        format!(
            r#"builtins.fetchGit {{ url = {r}; narHash = "sha256:{}"; }}"#,
            "0".repeat(52)
        ),
        format!(r#"builtins.fetchGit {{ url = {r}; narHash = 5; }}"#),
        // a usage error: `Try 'nix-instantiate --help' for more information.`
        format!(
            r#"builtins.fetchGit {{ url = {r}; narHash = "sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA="; }}"#
        ),
        format!(r#"builtins.fetchGit {{ url = {r}; revCount = "1"; }}"#),
        format!(r#"builtins.fetchGit {{ url = {r}; revCount = 5; }}"#),
        format!(r#"builtins.fetchGit {{ url = {r}; lastModified = 5; }}"#),
        format!(r#"builtins.fetchGit {{ url = {r}; rev = "{rev}"; revCount = 5; }}"#),
        format!(
            r#"builtins.fetchGit {{ url = {r}; ref = "main"; narHash = "{h}"; lastModified = 7; }}"#
        ),
        format!(r#"builtins.fetchGit {{ url = {r}; narHash = "{h}"; lastModified = 7; }}"#),
        format!(r#"builtins.fetchGit {{ url = {r}; shallow = true; revCount = 9; }}"#),
        format!(
            r#"builtins.fetchGit {{ url = {r}; allRefs = true; name = "n"; submodules = true; }}"#
        ),
        format!(
            r#"builtins.fetchGit {{ url = {r}; revCount = 1; lastModified = 1600000000; narHash = "{h}"; rev = "{rev}"; ref = "main"; }}"#
        ),
    ];
    for (i, e) in clean.iter().enumerate() {
        let (_, code) = compare(e)?;
        if i == 0 || i == 2 {
            assert_eq!(code, Some(102), "{e}");
        }
    }
    std::fs::write(repo.join("f"), b"dirty\n")?;
    let dirty = [
        format!(r#"builtins.fetchGit {{ url = {r}; revCount = 5; }}"#),
        format!(r#"builtins.fetchGit {{ url = {r}; lastModified = 5; }}"#),
        format!(r#"builtins.fetchGit {{ url = {r}; narHash = "{z}"; }}"#),
        format!(r#"builtins.fetchGit {{ url = {r}; shallow = true; }}"#),
    ];
    for e in &dirty {
        compare(e)?;
    }
    Ok(())
}

/// `builtins.fetchurl`/`fetchTarball` argument forms: `sha256` in base 16, nix32, base 64, SRI
/// and `sha256:` forms, `""` (the zero hash, with CppNix's warning), a wrong algorithm or
/// length, `name` (empty, invalid), `hash` (not accepted by 2.8), other types: the same output,
/// messages and exit status as CppNix.
#[test]
fn fetchurl_argument_forms() -> Result<(), Box<dyn std::error::Error>> {
    let Some(cpp) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let tmp = testkit::tempdir();
    let t = tmp.path();
    std::fs::write(t.join("hello.txt"), b"hello\n")?;
    let tar = Command::new("tar")
        .arg("czf")
        .arg(t.join("h.tar.gz"))
        .arg("-C")
        .arg(t)
        .arg("hello.txt")
        .status()?;
    assert!(tar.success());
    let f = format!("file://{}/hello.txt", t.display());
    let tz = format!("file://{}/h.tar.gz", t.display());
    let b16 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
    let b32 = "00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq";
    let b64 = "WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=";
    let exprs = [
        format!(r#"builtins.fetchurl {{ url = "{f}"; sha256 = "{b16}"; }}"#),
        format!(r#"builtins.fetchurl {{ url = "{f}"; sha256 = "{b32}"; name = "x"; }}"#),
        format!(r#"builtins.fetchurl {{ url = "{f}"; sha256 = "{b64}"; }}"#),
        format!(r#"builtins.fetchurl {{ url = "{f}"; sha256 = "sha256-{b64}"; name = "s"; }}"#),
        format!(r#"builtins.fetchurl {{ url = "{f}"; sha256 = "sha256:{b16}"; }}"#),
        format!(r#"builtins.fetchurl {{ url = "{f}"; sha256 = ""; }}"#),
        format!(r#"builtins.fetchurl {{ url = "{f}"; hash = "sha256-{b64}"; }}"#),
        format!(
            r#"builtins.fetchurl {{ url = "{f}"; sha256 = "sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA="; }}"#
        ),
        format!(r#"builtins.fetchurl {{ url = "{f}"; sha256 = "abc"; }}"#),
        format!(r#"builtins.fetchurl {{ url = "{f}"; name = ""; }}"#),
        format!(r#"builtins.fetchurl {{ url = "{f}"; name = "a b"; }}"#),
        "builtins.fetchurl 5".to_string(),
        format!(r#"builtins.fetchTarball {{ url = "{tz}"; name = "zz"; }}"#),
        format!(r#"builtins.fetchTarball {{ url = "{tz}"; sha256 = 5; }}"#),
        format!(r#"builtins.readFile (builtins.fetchTarball {{ url = "{tz}"; name = "zz"; }})"#),
    ];
    for (i, e) in exprs.iter().enumerate() {
        let mut outs = Vec::new();
        for (who, bin) in [("ours", crate::nixrs()), ("cpp", cpp.clone())] {
            let root = t.join(format!("root-{who}-{i}"));
            let root = root.to_string_lossy().into_owned();
            let args = ["--eval", "--store", &root, "-E", e];
            outs.push(instantiate(
                &bin,
                &t.join(format!("home-{who}")),
                &args,
                None,
            )?);
        }
        same(&outs[0], &outs[1], e)?;
    }
    Ok(())
}

/// Runs `hg ARGS` in `repo` with fixed user and dates, no user configuration.
fn hg_in(repo: &Path, home: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new("hg")
        .args(args)
        .current_dir(repo)
        .env("HOME", home)
        .env("HGPLAIN", "")
        .env("HGUSER", "t")
        .env("HGRCPATH", "")
        .output()
        .map_err(|e| format!("hg {args:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "hg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// Whether `hg` can be run (the test is skipped without it, as CppNix's behaviour then is
/// tested in nix-eval's fetch tests).
fn have_hg() -> bool {
    Command::new("hg")
        .arg("--version")
        .env("HGRCPATH", "")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `fetchMercurial` of local repositories made by `hg`: a clean tree, a changeset id, a
/// branch, a tag with `name`, a missing changeset (hg's own `abort:` lines on standard error,
/// twice once the clone exists, as CppNix), an invalid ref, a missing repository, an unclean
/// tree (tracked files only, no `revCount`, the warning) and the fetcher cache (a new commit
/// is not seen until `tarball-ttl` runs out). Ours and CppNix's run in sequence, each with its
/// own `HOME` (so their caches and clones do not mix) and store root; stdout, stderr and exit
/// status must be identical: the printed `outPath`s are the content-addressed paths of the
/// trees, so equal paths mean equal contents (including a symlink and an executable).
#[test]
fn fetch_mercurial_matches_cppnix() -> Result<(), Box<dyn std::error::Error>> {
    let Some(cpp) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    if !have_hg() {
        assert!(!testkit::in_ci(), "hg is not installed");
        eprintln!("SKIP: hg is not installed");
        return Ok(());
    }
    let tmp = testkit::tempdir();
    let t = tmp.path();
    let repo = t.join("repo");
    std::fs::create_dir_all(repo.join("d"))?;
    std::fs::write(repo.join("a.txt"), b"a\n")?;
    std::fs::write(repo.join("d/b.txt"), b"b\n")?;
    hg_in(&repo, t, &["init", "."])?;
    hg_in(&repo, t, &["add", "-q"])?;
    hg_in(
        &repo,
        t,
        &["commit", "-q", "-d", "1600000000 0", "-m", "one"],
    )?;
    std::os::unix::fs::symlink("a.txt", repo.join("link"))?;
    std::fs::write(repo.join("run.sh"), b"#!/bin/sh\n")?;
    std::fs::set_permissions(
        repo.join("run.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )?;
    hg_in(&repo, t, &["add", "-q", "link", "run.sh"])?;
    hg_in(
        &repo,
        t,
        &["commit", "-q", "-d", "1600001000 0", "-m", "two"],
    )?;
    hg_in(&repo, t, &["branch", "-q", "feature"])?;
    std::fs::write(repo.join("f.txt"), b"f\n")?;
    hg_in(&repo, t, &["add", "-q", "f.txt"])?;
    hg_in(
        &repo,
        t,
        &["commit", "-q", "-d", "1600002000 0", "-m", "three"],
    )?;
    hg_in(&repo, t, &["tag", "-d", "1600003000 0", "v1"])?;
    hg_in(&repo, t, &["update", "-q", "default"])?;
    let first = Command::new("hg")
        .args(["log", "-r", "0", "--template", "{node}"])
        .current_dir(&repo)
        .env("HGRCPATH", "")
        .output()?;
    let first = String::from_utf8(first.stdout)?;
    let r = repo.display();
    let run = |who: &str, bin: &Path, args: &[&str]| -> std::io::Result<std::process::Output> {
        let root = t.join(format!("root-{who}"));
        let mut all = vec!["--eval", "--strict", "--store"];
        let root_s = root.to_string_lossy().into_owned();
        all.push(&root_s);
        all.extend_from_slice(args);
        instantiate(bin, &t.join(format!("home-{who}")), &all, None)
    };
    let compare = |args: &[&str]| -> Result<(), String> {
        let ours = run("ours", &crate::nixrs(), args).map_err(|e| e.to_string())?;
        let theirs = run("cpp", &cpp, args).map_err(|e| e.to_string())?;
        same(&ours, &theirs, &format!("{args:?}"))
    };
    let exprs = [
        format!("builtins.fetchMercurial {r}"),
        format!("builtins.fetchMercurial {{ url = {r}; rev = \"{first}\"; }}"),
        format!("builtins.fetchMercurial {{ url = {r}; rev = \"1111111111111111111111111111111111111111\"; }}"),
        format!("builtins.fetchMercurial {{ url = \"file://{r}\"; rev = \"feature\"; }}"),
        format!("builtins.fetchMercurial {{ url = {r}; rev = \"v1\"; name = \"tagged\"; }}"),
        format!("builtins.fetchMercurial {{ url = {r}; rev = \"bad ref\"; }}"),
        format!("builtins.fetchMercurial {r}/nonexistent"),
    ];
    for e in &exprs {
        compare(&["-E", e])?;
    }
    // pure mode needs a changeset id
    let e = format!("builtins.fetchMercurial {r}");
    compare(&["--option", "pure-eval", "true", "-E", &e])?;
    // a new commit: the cached result stays until tarball-ttl runs out
    std::fs::write(repo.join("a.txt"), b"a2\n")?;
    hg_in(
        &repo,
        t,
        &["commit", "-q", "-d", "1600004000 0", "-m", "four"],
    )?;
    compare(&["-E", &e])?;
    compare(&["--tarball-ttl", "0", "-E", &e])?;
    // an unclean tree: tracked files as they are, untracked ones left out
    std::fs::write(repo.join("a.txt"), b"dirty\n")?;
    std::fs::write(repo.join("new.txt"), b"new\n")?;
    hg_in(&repo, t, &["add", "-q", "new.txt"])?;
    std::fs::write(repo.join("untracked.txt"), b"u\n")?;
    compare(&["-E", &e])?;
    compare(&[
        "-E",
        &format!("builtins.fetchMercurial {{ url = {r}; name = \"x\"; }}"),
    ])?;
    Ok(())
}

/// `fetchGit` with `narHash` + `lastModified` naming a path that is not valid substitutes it
/// (CppNix's `ensurePath` in `Input::fetch`) in read-write mode, printing `copying path '…'
/// from '…'...`, without running git (the URL does not exist). The cache is made by the
/// reference `nix copy` from a store where CppNix fetched the repository.
#[test]
fn fetch_git_substitutes_a_locked_input() -> Result<(), Box<dyn std::error::Error>> {
    let (Some(cpp), Some(nix)) = (
        testkit::reference("nix-instantiate"),
        testkit::reference("nix"),
    ) else {
        return Ok(());
    };
    let tmp = testkit::tempdir();
    let t = tmp.path();
    let repo = t.join("repo");
    std::fs::create_dir_all(&repo)?;
    std::fs::write(repo.join("f"), b"substituted\n")?;
    git_in(&repo, t, &["init", "-q", "-b", "main", "."])?;
    git_in(&repo, t, &["add", "f"])?;
    git_in(&repo, t, &["commit", "-qm", "one"])?;
    let src = t.join("src");
    let src_s = src.to_string_lossy().into_owned();
    let attr = |a: &str| -> Result<String, Box<dyn std::error::Error>> {
        let e = format!("(builtins.fetchGit {}).{a}", repo.display());
        let o = instantiate(
            &cpp,
            &t.join("home-src"),
            &["--eval", "--store", &src_s, "-E", &e],
            None,
        )?;
        assert!(o.status.success(), "{o:?}");
        Ok(String::from_utf8(o.stdout)?
            .trim()
            .trim_matches('"')
            .to_string())
    };
    let (nar_hash, path) = (attr("narHash")?, attr("outPath")?);
    let cache = format!("file://{}", t.join("cache").display());
    let copied = Command::new(&nix)
        .args(["--extra-experimental-features", "nix-command", "copy"])
        .args(["--store", &src_s, "--to", &cache, &path])
        .output()?;
    assert!(copied.status.success(), "{copied:?}");
    let e = format!(
        "builtins.seq (builtins.fetchGit {{ url = {}/nonexistent; narHash = \"{nar_hash}\"; \
         lastModified = 1600000000; }}).outPath \
         (derivation {{ name = \"x\"; system = \"x\"; builder = \"/b\"; }})",
        t.display()
    );
    let run = |who: &str, bin: &Path| {
        let root = t.join(format!("root-{who}"));
        let root_s = root.to_string_lossy().into_owned();
        let args = [
            "--store",
            &root_s,
            "--option",
            "substituters",
            &cache,
            "--option",
            "build-users-group",
            "",
            "-E",
            &e,
        ];
        instantiate(bin, &t.join(format!("home-{who}")), &args, None)
    };
    let ours = run("ours", &crate::nixrs())?;
    let theirs = run("cpp", &cpp)?;
    same(&ours, &theirs, &e)?;
    assert_eq!(ours.status.code(), Some(0), "{ours:?}");
    assert!(String::from_utf8_lossy(&ours.stderr).contains("copying path"));
    Ok(())
}
