//! `listing` against `nix nar ls` / `nix nar cat` of CppNix 2.8.

use std::path::Path;
use std::process::Command;

use nix_nar::listing;

use crate::TestResult;

fn nix_nar_cmd(
    nix: &Path,
    args: &[&str],
    nar: &Path,
) -> Result<(bool, Vec<u8>), Box<dyn std::error::Error>> {
    let mut cmd = Command::new(nix);
    cmd.args(["--extra-experimental-features", "nix-command", "nar"]);
    cmd.arg(args[0]);
    cmd.args(&args[1..args.len() - 1]);
    cmd.arg(nar).arg(args[args.len() - 1]);
    let out = cmd.output()?;
    Ok((out.status.success(), out.stdout))
}

#[test]
fn ls_and_cat_match_cppnix() -> TestResult {
    let Some(nix) = testkit::reference("nix") else {
        return Ok(());
    };
    let tmp = testkit::tempdir();
    let root = tmp.path().join("tree");
    crate::differential::make_odd_tree(&root)?;
    let nar_path = tmp.path().join("tree.nar");
    let mut nar = Vec::new();
    nix_nar::dump_path(&root, &mut nar)?;
    std::fs::write(&nar_path, &nar)?;
    let l = listing::list(&nar[..])?;

    for path in ["/", "", "/exe", "/deep", "/rel-link", "/empty-dir"] {
        for (json, recursive) in [(true, true), (true, false)] {
            let _ = json;
            let args: Vec<&str> = if recursive {
                vec!["ls", "--json", "-R", path]
            } else {
                vec!["ls", "--json", path]
            };
            let (ok, out) = nix_nar_cmd(&nix, &args, &nar_path)?;
            assert!(ok, "nix nar ls {args:?}");
            let ours = l.find(path.as_bytes())?.to_json(recursive);
            assert_eq!(String::from_utf8(out)?.trim_end(), ours, "{args:?}");
        }
        for flags in [
            &[][..],
            &["-l"],
            &["-R"],
            &["-l", "-R"],
            &["-d"],
            &["-l", "-d"],
        ] {
            let mut args = vec!["ls"];
            args.extend_from_slice(flags);
            args.push(path);
            let (ok, out) = nix_nar_cmd(&nix, &args, &nar_path)?;
            assert!(ok, "nix nar ls {args:?}");
            let long = flags.contains(&"-l");
            let rec = flags.contains(&"-R");
            let dir = flags.contains(&"-d");
            let mut ours = Vec::new();
            for line in l.ls(path.as_bytes(), long, rec, dir)? {
                ours.extend_from_slice(&line);
                ours.push(b'\n');
            }
            assert!(
                out == ours,
                "{args:?}:\n{}\nvs ours\n{}",
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&ours)
            );
        }
    }
    for path in ["/big", "/exe", "/empty", "/new\nline"] {
        let (ok, out) = nix_nar_cmd(&nix, &["cat", path], &nar_path)?;
        assert!(ok);
        let mut ours = Vec::new();
        let n = listing::cat(&nar[..], path.as_bytes(), &mut ours)?;
        assert_eq!(n as usize, ours.len());
        assert!(out == ours, "cat {path}");
    }
    // Paths that name nothing, or not a file, fail on both sides.
    for path in [
        "/",
        "/nope",
        "/deep",
        "/rel-link",
        "/exe/x",
        "//exe",
        "/exe/",
    ] {
        let (ok, _) = nix_nar_cmd(&nix, &["cat", path], &nar_path)?;
        assert!(!ok, "nix nar cat {path} should fail");
        assert!(listing::cat(&nar[..], path.as_bytes(), std::io::sink()).is_err());
    }
    assert!(matches!(
        listing::cat(&nar[..], b"exe", std::io::sink()),
        Err(listing::Error::NotAbsolute { .. })
    ));
    Ok(())
}
