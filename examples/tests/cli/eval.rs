//! `nixrs nix-instantiate --eval` against CppNix 2.8's `nix-instantiate --eval`: same stdout,
//! stderr and exit code.

use std::process::Command;

const CASES: &[(&[&str], &str)] = &[
    (&[], "1 + 2"),
    (&["--strict"], "{ b = [ 1 2.5 \"x\" ]; a = { c = null; }; }"),
    (&[], "{ a = { b = 1; }; }"),
    (
        &["--json", "--strict"],
        "{ b = [ 1 \"s\" ]; a = { c = null; }; }",
    ),
    (
        &["--xml", "--strict"],
        "{ a = 1; f = { x, y ? 2, ... }: x; }",
    ),
    (&[], "let f = { a }: a; in f { b = 1; }"),
    (&[], "{ a = 1; }.b"),
    (&[], "throw \"boom\""),
    (&["--strict"], "{ a = throw \"x\"; }"),
    (&["--strict"], "builtins.map (x: x * x) [ 1 2 3 ]"),
    (&["-A", "a.1"], "{ a = [ 1 2 ]; }"),
    (
        &["--arg", "x", "5", "--argstr", "y", "s"],
        "{ x, y }: [ x y ]",
    ),
];

#[test]
fn eval_matches_cppnix() -> Result<(), Box<dyn std::error::Error>> {
    let Some(reference) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let dir = testkit::tempdir();
    for (flags, expr) in CASES {
        let ours = Command::new(crate::nixrs())
            .arg("nix-instantiate")
            .arg("--eval")
            .args(*flags)
            .args(["-E", expr])
            .current_dir(dir.path())
            .output()?;
        let theirs = Command::new(&reference)
            .arg("--eval")
            .args(*flags)
            .args(["-E", expr])
            .current_dir(dir.path())
            .output()?;
        assert_eq!(
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&theirs.stdout),
            "stdout of {flags:?} {expr}"
        );
        assert_eq!(
            String::from_utf8_lossy(&ours.stderr),
            String::from_utf8_lossy(&theirs.stderr),
            "stderr of {flags:?} {expr}"
        );
        assert_eq!(
            ours.status.code(),
            theirs.status.code(),
            "exit code of {flags:?} {expr}"
        );
    }
    Ok(())
}

#[test]
fn eval_file_with_import() -> Result<(), Box<dyn std::error::Error>> {
    let dir = testkit::tempdir();
    std::fs::write(dir.path().join("lib.nix"), "{ x = 20; }")?;
    std::fs::write(
        dir.path().join("default.nix"),
        "let l = import ./lib.nix; in { y = l.x + 22; }",
    )?;
    let out = Command::new(crate::nixrs())
        .args(["nix-instantiate", "--eval", "--strict"])
        .current_dir(dir.path())
        .output()?;
    assert_eq!(String::from_utf8_lossy(&out.stdout), "{ y = 42; }\n");
    assert_eq!(out.status.code(), Some(0));
    Ok(())
}
