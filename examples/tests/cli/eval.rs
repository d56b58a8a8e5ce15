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

/// CppNix expands tabs in an error message from a column counted from the start of the whole
/// message, so the excerpt depends on the file's path: compare live at several path lengths.
#[test]
fn tabs_in_error_excerpts_match_cppnix() -> Result<(), Box<dyn std::error::Error>> {
    let Some(reference) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let dir = testkit::tempdir();
    for sub in ["a", "abc", "abcdefghijk", "x/yz"] {
        let d = dir.path().join(sub);
        std::fs::create_dir_all(&d)?;
        let file = d.join("tabs.nix");
        std::fs::write(&file, "let\tx = 1;\tin\tx + \"a\"\n\t# \t\n")?;
        let ours = Command::new(crate::nixrs())
            .args(["nix-instantiate", "--eval"])
            .arg(&file)
            .output()?;
        let theirs = Command::new(&reference).arg("--eval").arg(&file).output()?;
        assert_eq!(
            String::from_utf8_lossy(&ours.stderr),
            String::from_utf8_lossy(&theirs.stderr),
            "stderr for {}",
            file.display()
        );
        assert_eq!(ours.status.code(), theirs.status.code());
    }
    let ours = Command::new(crate::nixrs())
        .args(["nix-instantiate", "--eval", "-E", "throw \"a\\tb\\tc\""])
        .output()?;
    let theirs = Command::new(&reference)
        .args(["--eval", "-E", "throw \"a\\tb\\tc\""])
        .output()?;
    assert_eq!(
        String::from_utf8_lossy(&ours.stderr),
        String::from_utf8_lossy(&theirs.stderr)
    );
    Ok(())
}
