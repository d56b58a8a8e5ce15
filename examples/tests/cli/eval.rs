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

/// A binary cache (`file://…` in `dir/cache`, made by the reference `nix copy`) holding
/// one content-addressed path; returns the path and the cache's URL.
fn hello_cache(
    dir: &std::path::Path,
    nix_store: &std::path::Path,
    nix: &std::path::Path,
) -> Result<(String, String), Box<dyn std::error::Error>> {
    let file = dir.join("hello.txt");
    std::fs::write(&file, "hello\n")?;
    let src = testkit::TempStore::new();
    let added = Command::new(nix_store)
        .arg("--store")
        .arg(src.root())
        .arg("--add")
        .arg(&file)
        .output()?;
    assert!(added.status.success(), "{added:?}");
    let path = String::from_utf8(added.stdout)?.trim().to_string();
    let cache = format!("file://{}", dir.join("cache").display());
    let copied = Command::new(nix)
        .args([
            "--extra-experimental-features",
            "nix-command",
            "copy",
            "--store",
        ])
        .arg(src.root())
        .args(["--to", &cache, &path])
        .output()?;
    assert!(copied.status.success(), "{copied:?}");
    Ok((path, cache))
}

/// An expression that substitutes `path` through `builtins.storePath` and instantiates a
/// derivation.
fn store_path_expr(path: &str) -> String {
    format!(
        "builtins.seq (builtins.storePath \"{path}\") \
         (derivation {{ name = \"x\"; system = \"x\"; builder = \"/b\"; }})"
    )
}

fn assert_valid(
    nix_store: &std::path::Path,
    store: &testkit::TempStore,
    path: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let valid = Command::new(nix_store)
        .arg("--store")
        .arg(store.root())
        .args(["--check-validity", path])
        .status()?;
    assert!(
        valid.success(),
        "{path} is not valid in {}",
        store.root().display()
    );
    Ok(())
}

/// `builtins.storePath` in read-write mode (`nix-instantiate` without `--eval`) makes a
/// missing path valid by substituting it from `--option substituters`, printing CppNix's
/// `copying path '…' from '…'...` line, and fails with CppNix's message when no cache has it.
#[test]
fn store_path_substitutes_in_read_write_mode() -> Result<(), Box<dyn std::error::Error>> {
    let (Some(instantiate), Some(nix_store), Some(nix)) = (
        testkit::reference("nix-instantiate"),
        testkit::reference("nix-store"),
        testkit::reference("nix"),
    ) else {
        return Ok(());
    };
    let scratch = testkit::tempdir();
    let (path, cache) = hello_cache(scratch.path(), &nix_store, &nix)?;

    let run = |program: &std::path::Path, pre: &[&str], expr: &str| {
        let store = testkit::TempStore::new();
        let out = Command::new(program)
            .args(pre)
            .arg("--store")
            .arg(store.root())
            .args(["--option", "substituters", &cache])
            .args(["--option", "build-users-group", ""])
            .args(["-E", expr])
            .output();
        (store, out)
    };
    let found = store_path_expr(&path);
    let (ours_store, ours) = run(&crate::nixrs(), &["nix-instantiate"], &found);
    let (theirs_store, theirs) = run(&instantiate, &[], &found);
    let (ours, theirs) = (ours?, theirs?);
    assert_eq!(ours.status.code(), Some(0), "{ours:?}");
    assert_eq!(theirs.status.code(), Some(0), "{theirs:?}");
    assert_eq!(ours.stdout, theirs.stdout);
    // `copying path '…' from 'file://…'...`, then the `--add-root` warning
    assert_eq!(
        String::from_utf8_lossy(&ours.stderr),
        String::from_utf8_lossy(&theirs.stderr)
    );
    for store in [&ours_store, &theirs_store] {
        assert_valid(&nix_store, store, &path)?;
    }

    let missing = "builtins.storePath \"/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x\"";
    let (_s1, ours) = run(&crate::nixrs(), &["nix-instantiate"], missing);
    let (_s2, theirs) = run(&instantiate, &[], missing);
    let (ours, theirs) = (ours?, theirs?);
    assert_eq!(ours.status.code(), theirs.status.code());
    assert_eq!(
        String::from_utf8_lossy(&ours.stderr),
        String::from_utf8_lossy(&theirs.stderr)
    );
    Ok(())
}

/// `substituters` set in an `include`d nix.conf (relative to the including file, with a
/// `!include` of a missing file beside it) or in `NIX_CONFIG` is used for `storePath` as
/// CppNix uses it; a broken nix.conf fails every command with CppNix's message. Both run with
/// `NIX_CONF_DIR` in a temp dir and no user configuration files.
#[test]
fn nix_conf_includes_and_substituters_match_cppnix() -> Result<(), Box<dyn std::error::Error>> {
    let (Some(instantiate), Some(nix_store), Some(nix)) = (
        testkit::reference("nix-instantiate"),
        testkit::reference("nix-store"),
        testkit::reference("nix"),
    ) else {
        return Ok(());
    };
    let scratch = testkit::tempdir();
    let (path, cache) = hello_cache(scratch.path(), &nix_store, &nix)?;
    let conf = scratch.path().join("conf");
    std::fs::create_dir_all(conf.join("sub"))?;
    std::fs::write(
        conf.join("sub/caches.conf"),
        format!("substituters = {cache}\n"),
    )?;
    let run = |program: &std::path::Path, pre: &[&str], post: &[&str], env: &[(&str, &str)]| {
        let store = testkit::TempStore::new();
        let mut cmd = Command::new(program);
        cmd.args(pre)
            .arg("--store")
            .arg(store.root())
            .args(["--option", "build-users-group", ""])
            .args(post)
            .env("NIX_CONF_DIR", &conf)
            .env("NIX_USER_CONF_FILES", scratch.path().join("no-user.conf"))
            .env_remove("NIX_CONFIG");
        for (k, v) in env {
            cmd.env(k, v);
        }
        (store, cmd.output())
    };
    let expr = store_path_expr(&path);
    let config_var = format!("substituters = {cache}");
    // unknown names (also `extra-` of a setting that is not a list) get CppNix's sorted
    // `unknown setting` warnings; `binary-caches` is an alias of `substituters`
    let aliased = format!(
        "zz = 1\nbinary-caches = {cache}\nextra-tarball-ttl = 3\nbuild-use-sandbox = false\n"
    );
    let setups: [(&str, &[(&str, &str)]); 3] = [
        (
            "# caches\ninclude sub/caches.conf\n!include missing.conf\n",
            &[],
        ),
        ("", &[("NIX_CONFIG", config_var.as_str())]),
        (aliased.as_str(), &[("NIX_CONFIG", "aa = 2")]),
    ];
    for (text, env) in setups {
        std::fs::write(conf.join("nix.conf"), text)?;
        let post = ["--option", "yy", "1", "-E", &expr];
        let (ours_store, ours) = run(&crate::nixrs(), &["nix-instantiate"], &post, env);
        let (theirs_store, theirs) = run(&instantiate, &[], &post, env);
        let (ours, theirs) = (ours?, theirs?);
        assert_eq!(ours.status.code(), Some(0), "{text:?}: {ours:?}");
        assert_eq!(theirs.status.code(), Some(0), "{text:?}: {theirs:?}");
        assert_eq!(ours.stdout, theirs.stdout);
        assert_eq!(
            String::from_utf8_lossy(&ours.stderr),
            String::from_utf8_lossy(&theirs.stderr)
        );
        for store in [&ours_store, &theirs_store] {
            assert_valid(&nix_store, store, &path)?;
        }
    }
    let broken: [(&str, &[(&str, &str)]); 7] = [
        ("include nothere.conf\n", &[]),
        ("tarball-ttl = 5 6\n", &[]),
        ("pure-eval = maybe\n", &[]),
        ("include\n", &[]),
        ("include a b # c\n", &[]),
        ("foo bar\n", &[]),
        ("", &[("NIX_CONFIG", "include rel.conf")]),
    ];
    for (text, env) in broken {
        std::fs::write(conf.join("nix.conf"), text)?;
        let args = ["--eval", "-E", "1"];
        let (_s1, ours) = run(&crate::nixrs(), &["nix-instantiate"], &args, env);
        let (_s2, theirs) = run(&instantiate, &[], &args, env);
        let (ours, theirs) = (ours?, theirs?);
        let theirs_err = String::from_utf8_lossy(&theirs.stderr)
            .replace(&instantiate.display().to_string(), "nix-instantiate");
        assert_eq!(
            String::from_utf8_lossy(&ours.stderr),
            theirs_err,
            "{text:?}"
        );
        assert_eq!(ours.status.code(), theirs.status.code(), "{text:?}");
        assert_eq!(ours.status.code(), Some(1), "{text:?}");
    }
    Ok(())
}

/// A flag without its argument(s) is a usage error worded as CppNix's: nix-instantiate's own
/// flags (`'-A' requires an argument`) differ from the common ones (`flag '-I' requires 1
/// argument(s)`).
#[test]
fn missing_flag_arguments_match_cppnix() -> Result<(), Box<dyn std::error::Error>> {
    let Some(reference) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    for args in [
        &["-A"][..],
        &["--add-root"],
        &["-I"],
        &["--store"],
        &["--arg", "x"],
        &["--argstr"],
        &["--option", "x"],
    ] {
        let ours = Command::new(crate::nixrs())
            .args(["nix-instantiate", "--eval", "-E", "1"])
            .args(args)
            .output()?;
        let theirs = Command::new(&reference)
            .args(["--eval", "-E", "1"])
            .args(args)
            .output()?;
        // CppNix names itself by its argv[0] (`Try '/usr/bin/nix-instantiate --help'`)
        let theirs_err = String::from_utf8_lossy(&theirs.stderr)
            .replace(&reference.display().to_string(), "nix-instantiate");
        assert_eq!(
            String::from_utf8_lossy(&ours.stderr),
            theirs_err,
            "{args:?}"
        );
        assert_eq!(ours.status.code(), theirs.status.code(), "{args:?}");
    }
    Ok(())
}

/// `--eval --read-write-mode` writes what evaluation adds (here `toFile`), as CppNix does;
/// plain `--eval` only computes the path.
#[test]
fn read_write_mode_writes_in_eval() -> Result<(), Box<dyn std::error::Error>> {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let expr = "builtins.toFile \"nixrs-rw-mode\" \"a\"";
    for (flags, written) in [(&["--read-write-mode"][..], true), (&[], false)] {
        let store = testkit::TempStore::new();
        let out = Command::new(crate::nixrs())
            .args(["nix-instantiate", "--eval"])
            .args(flags)
            .arg("--store")
            .arg(store.root())
            .args(["-E", expr])
            .output()?;
        assert!(out.status.success(), "{out:?}");
        let path = String::from_utf8(out.stdout)?
            .trim()
            .trim_matches('"')
            .to_string();
        let valid = Command::new(&nix_store)
            .arg("--store")
            .arg(store.root())
            .args(["--check-validity", &path])
            .output()?;
        assert_eq!(valid.status.success(), written, "{flags:?}: {valid:?}");
    }
    Ok(())
}
