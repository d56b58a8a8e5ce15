//! `nixrs hash …` and `nixrs nix-hash …`, compared with CppNix's `nix-hash` (and `nix hash`).

use std::path::Path;
use std::process::{Command, Output};

use crate::nixrs;

type R = Result<(), Box<dyn std::error::Error>>;

/// Runs `cmd` (with `argv[0]` = its file name, as when found on `PATH`).
pub fn run(cmd: &Path, pre: &[&str], args: &[&str], cwd: &Path) -> Output {
    use std::os::unix::process::CommandExt;
    Command::new(cmd)
        .arg0(cmd.file_name().unwrap_or(cmd.as_os_str()))
        .args(pre)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", cmd.display()))
}

/// Runs the same `nix-hash` command line through CppNix and nixrs; stdout, stderr and exit
/// status must be identical.
fn same(reference: &Path, args: &[&str], cwd: &Path) {
    let theirs = run(reference, &[], args, cwd);
    let ours = run(&nixrs(), &["nix-hash"], args, cwd);
    assert_eq!(
        (
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&ours.stderr),
            ours.status.code()
        ),
        (
            String::from_utf8_lossy(&theirs.stdout),
            String::from_utf8_lossy(&theirs.stderr),
            theirs.status.code()
        ),
        "nix-hash {args:?}"
    );
}

/// Files to hash, written into `p`.
pub fn fixture(p: &Path) -> R {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(p.join("hello.txt"), "hello\n")?;
    std::fs::write(p.join("empty"), "")?;
    std::fs::write(p.join("exe"), "#!/bin/sh\necho hi\n")?;
    std::fs::set_permissions(p.join("exe"), std::fs::Permissions::from_mode(0o755))?;
    std::fs::create_dir_all(p.join("tree/sub"))?;
    std::fs::write(p.join("tree/a"), "A")?;
    std::fs::write(p.join("tree/sub/b"), vec![0u8; 1000])?;
    std::os::unix::fs::symlink("../a", p.join("tree/sub/link"))?;
    std::os::unix::fs::symlink("hello.txt", p.join("link"))?;
    Ok(())
}

#[test]
fn nix_hash_paths_every_option_combination() -> R {
    let Some(reference) = testkit::reference("nix-hash") else {
        return Ok(());
    };
    let dir = testkit::tempdir();
    fixture(dir.path())?;
    for algo in [
        None,
        Some("md5"),
        Some("sha1"),
        Some("sha256"),
        Some("sha512"),
    ] {
        for flat in [false, true] {
            for base32 in [false, true] {
                for truncate in [false, true] {
                    let mut args: Vec<&str> = Vec::new();
                    if let Some(a) = algo {
                        args.extend(["--type", a]);
                    }
                    if flat {
                        args.push("--flat");
                    }
                    if base32 {
                        args.push("--base32");
                    }
                    if truncate {
                        args.push("--truncate");
                    }
                    if flat {
                        args.extend(["hello.txt", "empty", "exe", "link"]);
                    } else {
                        args.extend(["hello.txt", "empty", "exe", "tree", "link", "tree/sub/link"]);
                    }
                    same(&reference, &args, dir.path());
                }
            }
        }
    }
    Ok(())
}

#[test]
fn nix_hash_errors() -> R {
    let Some(reference) = testkit::reference("nix-hash") else {
        return Ok(());
    };
    let dir = testkit::tempdir();
    fixture(dir.path())?;
    let cases: &[&[&str]] = &[
        &["--type", "foo", "hello.txt"],
        &["--type"],
        &["nonexistent"],
        &["--type", "sha256", "hello.txt", "nonexistent", "exe"],
        &["--flat", "nonexistent"],
        &["--flat", "tree"],
        &["--bogus", "hello.txt"],
        &["-", "hello.txt"],
        &["--type=sha256", "hello.txt"],
        &["--type", "sha256", "--", "hello.txt"],
        &[],
    ];
    for args in cases {
        same(&reference, args, dir.path());
    }
    Ok(())
}

#[test]
fn nix_hash_to_base() -> R {
    let Some(reference) = testkit::reference("nix-hash") else {
        return Ok(());
    };
    let dir = testkit::tempdir();
    let v = testkit::vectors("hashes");
    // Every vector hash, in every encoding, to both bases, bare (with --type) and prefixed.
    for c in v["hashes_of_inputs"]
        .as_array()
        .ok_or("cases")?
        .iter()
        .take(8)
    {
        let t = c["type"].as_str().ok_or("type")?;
        let forms: Vec<String> = ["base16", "nix32", "base64"]
            .iter()
            .filter_map(|f| c[*f].as_str().map(str::to_string))
            .chain([
                c["sri"].as_str().ok_or("sri")?.to_string(),
                format!("{t}:{}", c["nix32"].as_str().ok_or("n")?),
            ])
            .collect();
        for op in ["--to-base16", "--to-base32"] {
            let mut args = vec![op, "--type", t];
            args.extend(forms.iter().map(String::as_str));
            same(&reference, &args, dir.path());
        }
    }
    let h16 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
    let bad: &[&[&str]] = &[
        &["--to-base32", h16],
        &["--to-base32", "--type", "sha256", &h16.to_uppercase()],
        &["--to-base32", "--type", "sha256", "abc"],
        &["--to-base32", "--type", "sha256", "sha1:abc"],
        &[
            "--to-base32",
            "--type",
            "sha256",
            "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be0z",
        ],
        &[
            "--to-base16",
            "--type",
            "sha256",
            "00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4ae",
        ],
        &["--to-base16", "--type", "md5", "8zzzzzzzzzzzzzzzzzzzzzzzzz"],
        &["--to-base16", "--type", "md5", "7zzzzzzzzzzzzzzzzzzzzzzzzz"],
        &[
            "--to-base16",
            "--type",
            "sha256",
            "WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vg!=",
        ],
        &[
            "--to-base16",
            "--type",
            "sha256",
            "WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vg==",
        ],
        &[
            "--to-base16",
            "--type",
            "sha256",
            "WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgN=",
        ],
        &[
            "--to-base16",
            "sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=",
        ],
        &["--to-base32", "--type", "md5", "md5-abc"],
        &["--to-base32", "--type", "md5", "foo:abc"],
        &[
            "--to-base32",
            "--type",
            "md5",
            "md5-1B2M2Y8AsgTpgAmY7PhCfg==",
        ],
        &["--to-base32", "--type", "sha256", h16, "abc", h16],
        &["--to-base16", "--type", "sha256", "--to-base32", h16],
        &["--to-base32"],
    ];
    for args in bad {
        same(&reference, args, dir.path());
    }
    Ok(())
}

#[test]
fn native_hash_commands_match_nix_hash() -> R {
    let dir = testkit::tempdir();
    fixture(dir.path())?;
    let ours = |args: &[&str]| -> Result<String, Box<dyn std::error::Error>> {
        let o = run(&nixrs(), &["hash"], args, dir.path());
        if !o.status.success() {
            return Err(format!(
                "nixrs hash {args:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            )
            .into());
        }
        Ok(String::from_utf8(o.stdout)?)
    };
    // Known values (nix-facts §1, hashes.json).
    assert_eq!(
        ours(&["file", "hello.txt"])?,
        "sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=\n"
    );
    assert_eq!(
        ours(&["path", "--base32", "hello.txt"])?,
        "04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw\n"
    );
    assert_eq!(
        ours(&["file", "--type", "sha1", "--base32", "hello.txt"])?,
        "iwjz551fyw0cxcjgf4l6c879zabd6wpm\n"
    );
    assert_eq!(
        ours(&[
            "to-base16",
            "sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM="
        ])?,
        "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03\n"
    );
    assert_eq!(
        ours(&[
            "to-sri",
            "--type",
            "sha256",
            "00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq"
        ])?,
        "sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=\n"
    );
    assert_eq!(
        ours(&[
            "to-base32",
            "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
        ])?,
        "00xyyr3fi8l6hb839bv3f7yb86yjv7xi1cgh1xnhipym4asvb4aq\n"
    );
    let o = run(&nixrs(), &["hash"], &["to-base32", "abc"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "error: hash 'abc' does not include a type, nor is the type otherwise known from context\n"
    );

    // Against `nix hash path|file` when available.
    let Some(nix) = testkit::reference("nix") else {
        return Ok(());
    };
    for (sub, flags, paths) in [
        (
            "path",
            &["--type", "sha512", "--base64"][..],
            &["tree", "exe", "link"][..],
        ),
        ("path", &[][..], &["tree", "hello.txt"][..]),
        (
            "file",
            &["--type", "md5", "--base16"][..],
            &["hello.txt", "exe"][..],
        ),
        ("file", &["--sri", "--type", "sha1"][..], &["empty"][..]),
    ] {
        let mut args = vec![sub];
        args.extend(flags);
        args.extend(paths);
        let theirs = run(
            &nix,
            &["--extra-experimental-features", "nix-command", "hash"],
            &args,
            dir.path(),
        );
        assert!(theirs.status.success(), "nix hash {args:?}");
        assert_eq!(
            ours(&args)?,
            String::from_utf8(theirs.stdout)?,
            "hash {args:?}"
        );
    }
    Ok(())
}
