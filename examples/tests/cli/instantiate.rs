//! `nixrs nix-instantiate FILE` against CppNix 2.8's `nix-instantiate FILE`, each with its own
//! throwaway store root: same printed `.drv` paths, byte-identical `.drv` files (inputs too),
//! the same store paths written, and the same errors and exit codes.

use std::path::Path;
use std::process::Command;

const DRVS: &str = r#"
let
  a = derivation {
    name = "a"; system = "x86_64-linux"; builder = "/bin/sh";
    args = [ "-c" "echo ${./d} > $out" ];
    outputs = [ "out" "dev" ];
    x = [ 1 "y" true null 2.5 ];
    n = null; b = false; i = 42;
  };
  nulls = derivation {
    name = "nulls"; system = "x86_64-linux"; builder = "/bin/sh";
    __ignoreNulls = true; gone = null; kept = "k";
  };
  fod = mode: hash: derivation {
    name = "fod-${mode}"; system = "x86_64-linux"; builder = "/bin/sh";
    outputHashMode = mode; outputHashAlgo = "sha256"; outputHash = hash;
  };
  t = builtins.toFile "t.txt" "hello ${./d/f}";
  b = derivation {
    name = "b"; system = "x86_64-linux"; builder = "/bin/sh";
    args = [ "-c" "${a.dev} ${t} ${a.drvPath}" ];
    f1 = fod "flat" "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    f2 = fod "recursive" "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    f3 = fod "flat" "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73";
    f4 = fod "recursive" "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    discarded = builtins.unsafeDiscardOutputDependency a.drvPath;
  };
  s = derivation {
    name = "s"; system = "x86_64-linux"; builder = "/bin/sh";
    __structuredAttrs = true; deps = [ a b ]; n = 1.5; o = { x = null; };
    src = builtins.path { path = ./d; name = "dd"; filter = p: t: baseNameOf p != "skip"; };
    src2 = builtins.filterSource (p: t: t != "symlink") ./d;
    flat = builtins.path { path = ./d/f; recursive = false; };
  };
in { inherit a b s nulls; z = { recurseForDerivations = true; q = b; l = [ a ]; }; }
"#;

fn run(
    bin: &Path,
    store: &Path,
    dir: &Path,
    args: &[&str],
) -> std::io::Result<std::process::Output> {
    let mut cmd = Command::new(bin);
    if bin == crate::nixrs() {
        cmd.arg("nix-instantiate");
    }
    cmd.arg("--store")
        .arg(store)
        .args(args)
        .current_dir(dir)
        .env_remove("NIX_REMOTE")
        .output()
}

#[test]
fn instantiate_matches_cppnix() -> Result<(), Box<dyn std::error::Error>> {
    let Some(cpp) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let tmp = testkit::tempdir();
    let dir = tmp.path().join("src");
    std::fs::create_dir_all(dir.join("d"))?;
    std::fs::write(dir.join("d/f"), b"file\n")?;
    std::fs::write(dir.join("d/skip"), b"skipped\n")?;
    std::os::unix::fs::symlink("f", dir.join("d/link"))?;
    std::fs::write(dir.join("default.nix"), DRVS)?;
    for (i, args) in [
        &["default.nix"][..],
        &["-A", "s", "default.nix"],
        &["-A", "a.dev", "default.nix"],
    ]
    .iter()
    .enumerate()
    {
        let r1 = tmp.path().join(format!("r1-{i}"));
        let r2 = tmp.path().join(format!("r2-{i}"));
        let want = run(&cpp, &r1, &dir, args)?;
        let got = run(&crate::nixrs(), &r2, &dir, args)?;
        assert_eq!(
            String::from_utf8_lossy(&got.stdout),
            String::from_utf8_lossy(&want.stdout),
            "{args:?}: {}",
            String::from_utf8_lossy(&got.stderr)
        );
        assert_eq!(got.status.code(), want.status.code());
        assert_eq!(
            crate::store_entries(&r2)?,
            crate::store_entries(&r1)?,
            "{args:?}"
        );
        for f in crate::store_entries(&r1)? {
            if f.ends_with(".drv") {
                let p = format!("nix/store/{f}");
                assert_eq!(
                    std::fs::read(r2.join(&p))?,
                    std::fs::read(r1.join(&p))?,
                    "{f}"
                );
            }
        }
    }
    Ok(())
}

#[test]
fn instantiate_errors_match_cppnix() -> Result<(), Box<dyn std::error::Error>> {
    let Some(cpp) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let tmp = testkit::tempdir();
    let cases = [
        r#"derivation { name = "x"; system = "s"; }"#,
        r#"derivation { name = "x"; builder = "b"; }"#,
        r#"derivation { name = "x.drv"; system = "s"; builder = "b"; }"#,
        r#"derivation { name = "x"; system = "s"; builder = "b"; outputs = [ "a" "a" ]; }"#,
        r#"derivation { name = "x"; system = "s"; builder = "b"; outputHashMode = "bad"; }"#,
        r#"1"#,
        r#"[ 1 ]"#,
    ];
    for (i, c) in cases.iter().enumerate() {
        let f = tmp.path().join(format!("e{i}.nix"));
        std::fs::write(&f, c)?;
        let name = format!("e{i}.nix");
        let want = run(&cpp, &tmp.path().join("r1"), tmp.path(), &[&name])?;
        let got = run(
            &crate::nixrs(),
            &tmp.path().join("r2"),
            tmp.path(),
            &[&name],
        )?;
        assert_eq!(got.status.code(), want.status.code(), "{c}");
        assert_eq!(
            String::from_utf8_lossy(&got.stderr),
            String::from_utf8_lossy(&want.stderr),
            "{c}"
        );
    }
    Ok(())
}
