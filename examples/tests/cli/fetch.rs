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

fn store_names(root: &Path) -> std::io::Result<Vec<String>> {
    let mut v: Vec<String> = std::fs::read_dir(root.join("nix/store"))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    v.sort();
    Ok(v)
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
    let names = store_names(&ours_root)?;
    assert_eq!(names, store_names(&cpp_root)?);
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
