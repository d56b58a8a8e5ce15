//! `nixrs nix-instantiate --parse` against CppNix 2.8: same stdout, stderr and exit code for
//! expressions (`-E`), files and standard input. The large fixture corpus is checked through
//! the library in `nix-eval/tests/eval/parse.rs`; this checks the command line around it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::nixrs;

const EXPRS: &[&str] = &[
    "x: x.a or 1",
    "{ a.b.c = 1; a.d = 2; }",
    "let b = 1; a = 2; in a",
    "1 +",
    "x",
    "{ a = 1; a = 2; }",
    "({x, x}: x)",
    "x: ./a/${x}/b",
    "~/foo",
    "<nixpkgs/lib>",
    "a: a - 1 < 2",
    "''\n  a\n    b\n''",
    "1.5e3",
    "9223372036854775808",
    "(1",
    "",
];

fn run_with_stdin(cmd: &mut Command, input: &[u8]) -> Result<Output, Box<dyn std::error::Error>> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child.stdin.take().ok_or("no stdin")?.write_all(input)?;
    Ok(child.wait_with_output()?)
}

fn same(ours: &Output, theirs: &Output, what: &str) {
    assert_eq!(
        (
            ours.status.code(),
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&ours.stderr)
        ),
        (
            theirs.status.code(),
            String::from_utf8_lossy(&theirs.stdout),
            String::from_utf8_lossy(&theirs.stderr)
        ),
        "{what}"
    );
}

#[test]
fn parse_expressions_like_cppnix() -> Result<(), Box<dyn std::error::Error>> {
    let Some(reference) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let dir = testkit::tempdir();
    for e in EXPRS {
        let mut a = Command::new(nixrs());
        a.args(["nix-instantiate", "--parse", "-E", e])
            .current_dir(dir.path())
            .env("HOME", "/homeless-shelter");
        let mut b = Command::new(&reference);
        b.args(["--parse", "-E", e])
            .current_dir(dir.path())
            .env("HOME", "/homeless-shelter");
        same(&a.output()?, &b.output()?, e);
    }
    Ok(())
}

#[test]
fn parse_files_and_stdin_like_cppnix() -> Result<(), Box<dyn std::error::Error>> {
    let Some(reference) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let dir = testkit::tempdir();
    let sub = dir.path().join("pkg");
    std::fs::create_dir(&sub)?;
    std::fs::write(sub.join("default.nix"), "{ src = ./src; }\n")?;
    std::fs::write(dir.path().join("bad.nix"), "{\n  a = 1;\n  b = x;\n}\n")?;
    for args in [
        vec!["pkg"],
        vec!["bad.nix"],
        vec!["missing.nix"],
        vec!["pkg", "bad.nix"],
    ] {
        let a = Command::new(nixrs())
            .arg("nix-instantiate")
            .arg("--parse")
            .args(&args)
            .current_dir(dir.path())
            .output()?;
        let b = Command::new(&reference)
            .arg("--parse")
            .args(&args)
            .current_dir(dir.path())
            .output()?;
        same(&a, &b, &format!("{args:?}"));
    }
    for input in ["(1\n", "a: a + 1\n", "{ inherit x; }"] {
        let a = run_with_stdin(
            Command::new(nixrs())
                .args(["nix-instantiate", "--parse", "-"])
                .current_dir(dir.path()),
            input.as_bytes(),
        )?;
        let b = run_with_stdin(
            Command::new(&reference)
                .args(["--parse", "-"])
                .current_dir(dir.path()),
            input.as_bytes(),
        )?;
        same(&a, &b, input);
    }
    Ok(())
}
