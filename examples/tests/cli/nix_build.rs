//! `nixrs nix-build` against CppNix 2.8's `nix-build`: a small file whose builders are a static
//! busybox, built in a throwaway store by each: the same output paths on standard output, the
//! same `result`, `result-2`, `result-2-dev` … symlinks (registered in `gcroots/auto`), the same
//! NAR hashes, and the same standard error and exit status for `--dry-run` and a failing
//! builder.
//!
//! Both run one after the other at the same root path `R` (moved away in between), once as a
//! diverted store `--store R` (builds in the sandbox) and once as a non-diverted store
//! `local?store=R/nix/store&state=R/nix/var/nix&log=…` (whose store directory includes `R`,
//! hence the same path for both).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const FILE: &str = r#"
{ busybox }:
let
  sh = "${builtins.storePath busybox}/bin/sh";
  mk = name: outputs: derivation {
    inherit name outputs;
    system = "x86_64-linux";
    builder = sh;
    args = [ "-c" "for o in $outputs; do eval p=\\$$o; echo $name-$o > $p; done" ];
  };
  dep = mk "dep" [ "out" ];
in {
  x = mk "x" [ "out" ];
  y = mk "y" [ "out" "dev" ];
  l = [ (mk "l1" [ "out" ]) (mk "l2" [ "out" ]) ];
  uses = derivation {
    name = "uses"; system = "x86_64-linux"; builder = sh;
    args = [ "-c" "read v < ${dep}; echo \"$v used\" > $out" ];
  };
  bad = derivation {
    name = "bad"; system = "x86_64-linux"; builder = sh;
    args = [ "-c" "echo oops; exit 3" ];
  };
}
"#;

/// `--store` for `root`: the root itself (diverted: `/nix/store` kept in `root/nix/store`,
/// builds in the sandbox), or the non-diverted form with the store directory
/// `root/nix/store`.
fn store_url(root: &Path, diverted: bool) -> String {
    let r = root.display();
    if diverted {
        return r.to_string();
    }
    format!("local?store={r}/nix/store&state={r}/nix/var/nix&log={r}/nix/var/log/nix")
}

/// One tool's run of everything, at `root`, in the work directory `work`.
struct Run {
    builds: Vec<Output>,
    links: Vec<(String, String)>,
    hashes: Vec<(String, Vec<u8>)>,
    roots: Vec<String>,
}

fn nix_build(
    diverted: bool,
    ours: bool,
    cpp: &Path,
    root: &Path,
    work: &Path,
    args: &[&str],
) -> std::io::Result<Output> {
    let mut cmd = if ours {
        let mut c = Command::new(crate::nixrs());
        c.arg("nix-build");
        c
    } else {
        let mut c = Command::new(cpp);
        c.args([
            "--option",
            "build-users-group",
            "",
            "--option",
            "substituters",
            "",
        ]);
        c
    };
    cmd.arg("--store")
        .arg(store_url(root, diverted))
        .args(args)
        .current_dir(work)
        .env_remove("NIX_REMOTE")
        .env("HOME", work)
        .output()
}

fn run_all(
    diverted: bool,
    ours: bool,
    cpp: &Path,
    cpp_store: &Path,
    root: &Path,
    work: &Path,
) -> Result<Run, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(work)?;
    std::fs::write(work.join("file.nix"), FILE)?;
    let bb = work.join("bb");
    testkit::busybox_tree(&bb)?;
    let add = Command::new(cpp_store)
        .arg("--store")
        .arg(store_url(root, diverted))
        .arg("--add")
        .arg(&bb)
        .output()?;
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let bb_path = String::from_utf8(add.stdout)?.trim().to_string();
    let common = ["file.nix", "--argstr", "busybox", &bb_path];
    let mut builds = Vec::new();
    let with = |extra: &[&str]| -> Vec<String> {
        common.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let runs: Vec<Vec<String>> = vec![
        with(&["-A", "x", "--dry-run"]),
        with(&["-A", "x", "-A", "y.dev", "-A", "l", "-A", "y"]),
        with(&["-A", "uses", "-o", "used", "-j", "2"]),
        with(&["-A", "x", "--no-out-link"]),
        with(&["-A", "bad"]),
        with(&["-A", "nope"]),
        vec![
            "-E".into(),
            format!(
                "(import {} {{ busybox = \"{bb_path}\"; }}).x",
                work.join("file.nix").display()
            ),
        ],
    ];
    // the expression (last) runs in its own directory, so that its `result` is separate
    std::fs::create_dir_all(work.join("e"))?;
    for (i, args) in runs.iter().enumerate() {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let dir: PathBuf = if i == runs.len() - 1 {
            work.join("e")
        } else {
            work.to_path_buf()
        };
        builds.push(nix_build(diverted, ours, cpp, root, &dir, &args)?);
    }
    let mut links = Vec::new();
    let mut hashes = Vec::new();
    for dir in [work.to_path_buf(), work.join("e")] {
        for e in std::fs::read_dir(&dir)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            if !e.file_type()?.is_symlink() {
                continue;
            }
            let target = std::fs::read_link(e.path())?.display().to_string();
            let h = Command::new(cpp_store)
                .arg("--store")
                .arg(store_url(root, diverted))
                .args(["-q", "--hash", &target])
                .output()?;
            assert!(h.status.success(), "{}", String::from_utf8_lossy(&h.stderr));
            hashes.push((target.clone(), h.stdout));
            let rel = dir.strip_prefix(work)?.join(&name).display().to_string();
            links.push((rel, target));
        }
    }
    links.sort();
    hashes.sort();
    let mut roots = Vec::new();
    for e in std::fs::read_dir(root.join("nix/var/nix/gcroots/auto"))? {
        let target = std::fs::read_link(e?.path())?;
        // CppNix's --no-out-link roots a link in a temporary directory it deletes
        if let Ok(rel) = target.strip_prefix(work) {
            roots.push(rel.display().to_string());
        }
    }
    roots.sort();
    Ok(Run {
        builds,
        links,
        hashes,
        roots,
    })
}

/// Runs everything with CppNix, then with nixrs, and compares.
fn compare(diverted: bool) -> Result<(), Box<dyn std::error::Error>> {
    let Some(cpp) = testkit::reference("nix-build") else {
        return Ok(());
    };
    let Some(cpp_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    if !testkit::have_busybox() {
        return Ok(());
    }
    let tmp = testkit::tempdir();
    let root = tmp.path().join("R");
    let work = tmp.path().join("w");
    let theirs = run_all(diverted, false, &cpp, &cpp_store, &root, &work)?;
    // the same paths: the non-diverted store directory includes the root
    std::fs::rename(&root, tmp.path().join("R-cpp"))?;
    std::fs::rename(&work, tmp.path().join("w-cpp"))?;
    let ours = run_all(diverted, true, &cpp, &cpp_store, &root, &work)?;
    let names = [
        "dry-run",
        "x y.dev l y",
        "uses -o",
        "--no-out-link",
        "bad",
        "nope",
        "-E",
    ];
    for (i, (a, b)) in ours.builds.iter().zip(&theirs.builds).enumerate() {
        let what = names[i];
        assert_eq!(
            String::from_utf8_lossy(&a.stdout),
            String::from_utf8_lossy(&b.stdout),
            "stdout of {what}; our stderr:\n{}",
            String::from_utf8_lossy(&a.stderr)
        );
        assert_eq!(a.status.code(), b.status.code(), "exit status of {what}");
        let mut ea: Vec<String> = String::from_utf8_lossy(&a.stderr)
            .lines()
            .map(str::to_string)
            .collect();
        let mut eb: Vec<String> = String::from_utf8_lossy(&b.stderr)
            .lines()
            .map(str::to_string)
            .collect();
        // the order in which independent derivations are built may differ
        if what.starts_with('x') || what.starts_with("uses") {
            ea.sort();
            eb.sort();
        }
        assert_eq!(ea, eb, "stderr of {what}");
    }
    assert_eq!(ours.builds[1].status.code(), Some(0));
    assert_eq!(ours.builds[4].status.code(), Some(100));
    assert_eq!(ours.links, theirs.links);
    assert_eq!(
        ours.links.iter().map(|l| l.0.as_str()).collect::<Vec<_>>(),
        [
            "e/result",
            "result",
            "result-2",
            "result-2-dev",
            "result-3",
            "result-4",
            "used"
        ]
    );
    assert_eq!(ours.hashes, theirs.hashes);
    assert_eq!(ours.roots, theirs.roots);
    Ok(())
}

#[test]
fn nix_build_matches_cppnix_non_diverted() -> Result<(), Box<dyn std::error::Error>> {
    compare(false)
}

#[test]
fn nix_build_matches_cppnix_diverted() -> Result<(), Box<dyn std::error::Error>> {
    compare(true)
}
