//! `nixrs derivation show|path`, compared with CppNix 2.8's `nix show-derivation`.

use std::path::Path;
use std::process::Command;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const EXPR: &str = r#"
let mk = name: attrs: derivation ({ inherit name; system = "x86_64-linux"; builder = "/bin/sh"; } // attrs);
  simple = mk "simple" { args = [ "-c" "echo hello > $out" ]; };
in [
  simple
  (mk "multi" { outputs = [ "out" "dev" ]; dep = simple; weird = "a\"b\\c\nd\re\tf$g é \u{1}"; src = builtins.toFile "s.sh" "echo"; })
  (mk "fod" { outputHash = "sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM="; outputHashMode = "recursive"; })
  (mk "sa" { __structuredAttrs = true; list = [ 1 2.5 null ]; })
]
"#;

/// Instantiates `EXPR` into a store root; returns the `.drv` paths.
fn instantiate(root: &Path) -> Result<Option<Vec<String>>, Box<dyn std::error::Error>> {
    let Some(bin) = testkit::reference("nix-instantiate") else {
        return Ok(None);
    };
    // Nix has no \u escapes: put a raw control byte in instead.
    let expr = EXPR.replace("\\u{1}", "\u{1}");
    let out = Command::new(bin)
        .arg("--store")
        .arg(root)
        .arg("-E")
        .arg(expr)
        .output()?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned().into());
    }
    Ok(Some(
        String::from_utf8(out.stdout)?
            .lines()
            .map(|l| l.split('!').next().unwrap_or(l).to_string())
            .collect(),
    ))
}

#[test]
fn show_matches_nix_show_derivation() -> TestResult {
    let store = testkit::TempStore::new();
    let Some(drvs) = instantiate(store.root())? else {
        return Ok(());
    };
    let Some(nix) = testkit::reference("nix") else {
        return Ok(());
    };
    // One at a time, and all together (in reverse order, with a duplicate).
    let mut sets: Vec<Vec<String>> = drvs.iter().map(|d| vec![d.clone()]).collect();
    let mut all: Vec<String> = drvs.iter().rev().cloned().collect();
    all.push(drvs[0].clone());
    sets.push(all);
    for set in sets {
        let want = Command::new(&nix)
            .args([
                "--extra-experimental-features",
                "nix-command",
                "show-derivation",
                "--store",
            ])
            .arg(store.root())
            .args(&set)
            .output()?;
        assert!(
            want.status.success(),
            "{}",
            String::from_utf8_lossy(&want.stderr)
        );
        let got = Command::new(crate::nixrs())
            .args(["derivation", "show", "--store"])
            .arg(store.root())
            .args(&set)
            .output()?;
        assert!(
            got.status.success(),
            "{}",
            String::from_utf8_lossy(&got.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&got.stdout),
            String::from_utf8_lossy(&want.stdout),
            "{set:?}"
        );
        assert_eq!(got.stdout, want.stdout);

        // The same from the files themselves.
        let files: Vec<_> = set
            .iter()
            .map(|d| store.root().join(d.trim_start_matches('/')))
            .collect();
        let got = Command::new(crate::nixrs())
            .args(["derivation", "show"])
            .args(&files)
            .output()?;
        assert_eq!(got.stdout, want.stdout);
    }
    Ok(())
}

#[test]
fn path_matches_the_file_name() -> TestResult {
    let store = testkit::TempStore::new();
    let Some(drvs) = instantiate(store.root())? else {
        return Ok(());
    };
    let files: Vec<_> = drvs
        .iter()
        .map(|d| store.root().join(d.trim_start_matches('/')))
        .collect();
    let got = Command::new(crate::nixrs())
        .args(["derivation", "path"])
        .args(&files)
        .output()?;
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    let want: String = drvs.iter().map(|d| format!("{d}\n")).collect();
    assert_eq!(String::from_utf8(got.stdout)?, want);
    Ok(())
}

#[test]
fn errors() -> TestResult {
    let dir = testkit::tempdir();
    let bad = dir.path().join("00000000000000000000000000000000-bad.drv");
    std::fs::write(&bad, "Derive([(")?;
    let out = Command::new(crate::nixrs())
        .args(["derivation", "show"])
        .arg(&bad)
        .output()?;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr)?;
    assert!(
        err.starts_with(
            "error: error parsing derivation '/nix/store/00000000000000000000000000000000-bad.drv'"
        ),
        "{err}"
    );
    assert!(err.contains("at byte 9"), "{err}");

    let out = Command::new(crate::nixrs())
        .args(["derivation", "show", "--store"])
        .arg(dir.path())
        .arg("/nix/store/00000000000000000000000000000000-missing.drv")
        .output()?;
    assert_eq!(out.status.code(), Some(1));

    let out = Command::new(crate::nixrs())
        .args(["derivation", "show"])
        .output()?;
    assert_eq!(out.status.code(), Some(1));
    Ok(())
}
