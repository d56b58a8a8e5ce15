//! `nixrs store …`, `nixrs key …`, `nixrs narinfo …` and `nixrs nix-store
//! --generate-binary-cache-key`, checked against CppNix where it has the same operation.

use std::path::Path;
use std::process::Output;

use crate::hash::run;
use crate::nixrs;

type R = Result<(), Box<dyn std::error::Error>>;

fn ok(o: Output, what: &str) -> Result<String, Box<dyn std::error::Error>> {
    if !o.status.success() {
        return Err(format!("{what} failed: {}", String::from_utf8_lossy(&o.stderr)).into());
    }
    Ok(String::from_utf8(o.stdout)?)
}

#[test]
fn path_of_matches_nix_store_add() -> R {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let dir = testkit::tempdir();
    crate::hash::fixture(dir.path())?;
    let store = testkit::TempStore::new();
    let root = store.root().to_str().ok_or("utf-8")?.to_string();
    let mut cases: Vec<(Vec<&str>, Vec<&str>)> = Vec::new();
    for p in ["hello.txt", "exe", "tree", "empty"] {
        cases.push((vec!["--add"], vec![p]));
        for algo in ["md5", "sha1", "sha256", "sha512"] {
            cases.push((
                vec!["--add-fixed", "--recursive", algo],
                vec!["--fixed", algo, "--recursive"],
            ));
            if !p.starts_with("tree") {
                cases.push((vec!["--add-fixed", algo], vec!["--fixed", algo]));
            }
        }
        for (theirs, ours) in cases.drain(..) {
            let mut targs = vec!["--store", root.as_str()];
            targs.extend(&theirs);
            if theirs[0] != "--add" {
                targs.push(p);
            } else {
                targs = vec!["--store", root.as_str(), "--add", p];
            }
            let expected = ok(run(&nix_store, &[], &targs, dir.path()), "nix-store")?;
            let mut oargs = vec!["path-of"];
            if ours != [p] {
                oargs.extend(&ours);
            }
            oargs.push(p);
            let got = ok(
                run(&nixrs(), &["store"], &oargs, dir.path()),
                "nixrs store path-of",
            )?;
            assert_eq!(got, expected, "{theirs:?} {p}");
        }
    }
    // --name and --store-dir
    let got = ok(
        run(
            &nixrs(),
            &["store"],
            &["path-of", "--name", "renamed", "hello.txt"],
            dir.path(),
        ),
        "path-of",
    )?;
    assert!(got.ends_with("-renamed\n"), "{got}");
    let got = ok(
        run(
            &nixrs(),
            &["store"],
            &["path-of", "--store-dir", "/other/store", "hello.txt"],
            dir.path(),
        ),
        "",
    )?;
    assert!(got.starts_with("/other/store/"), "{got}");
    Ok(())
}

#[test]
fn keys_sign_and_verify_through_the_cli() -> R {
    let dir = testkit::tempdir();
    let d = dir.path();
    ok(
        run(
            &nixrs(),
            &["key"],
            &["generate", "cli-key-1", "sk", "pk"],
            d,
        ),
        "key generate",
    )?;
    ok(
        run(
            &nixrs(),
            &["nix-store"],
            &["--generate-binary-cache-key", "cli-key-2", "sk2", "pk2"],
            d,
        ),
        "compat",
    )?;
    let pk = std::fs::read_to_string(d.join("pk"))?;
    let pk2 = std::fs::read_to_string(d.join("pk2"))?;
    assert!(pk.starts_with("cli-key-1:") && !pk.ends_with('\n'));
    assert!(std::fs::read_to_string(d.join("sk2"))?.starts_with("cli-key-2:"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(d.join("sk"))?.permissions().mode() & 0o777,
        0o600
    );

    // A narinfo from the vectors, without its signature.
    let v = testkit::vectors("binary-cache");
    let text = v["caches"]["none"]["files"]["94f9f6i31zwzwbf0kclq1naqxxi4c7v9.narinfo"]
        .as_str()
        .ok_or("narinfo")?;
    let unsigned: String = text
        .lines()
        .filter(|l| !l.starts_with("Sig: "))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(d.join("x.narinfo"), &unsigned)?;
    let signed = ok(
        run(
            &nixrs(),
            &["narinfo"],
            &["sign", "--key-file", "sk", "x.narinfo"],
            d,
        ),
        "sign",
    )?;
    assert!(
        signed.starts_with(&unsigned) && signed[unsigned.len()..].starts_with("Sig: cli-key-1:")
    );
    std::fs::write(d.join("signed.narinfo"), &signed)?;
    ok(
        run(
            &nixrs(),
            &["narinfo"],
            &["verify", "--trusted-key", &pk, "signed.narinfo"],
            d,
        ),
        "verify",
    )?;
    // Wrong key, no signature: exit 1 with a message.
    for (key, file) in [(&pk2, "signed.narinfo"), (&pk, "x.narinfo")] {
        let o = run(
            &nixrs(),
            &["narinfo"],
            &["verify", "--trusted-key", key, file],
            d,
        );
        assert_eq!(o.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&o.stderr).contains("no valid signature by a trusted key"));
    }
    // Both keys given: valid.
    ok(
        run(
            &nixrs(),
            &["narinfo"],
            &[
                "verify",
                "--trusted-key",
                &format!("{pk2} {pk}"),
                "signed.narinfo",
            ],
            d,
        ),
        "",
    )?;

    // The real cache key re-signs the vector narinfo exactly.
    std::fs::write(
        d.join("test-sk"),
        v["secret_key_file"].as_str().ok_or("sk")?,
    )?;
    let resigned = ok(
        run(
            &nixrs(),
            &["narinfo"],
            &["sign", "--key-file", "test-sk", "x.narinfo"],
            d,
        ),
        "sign",
    )?;
    assert_eq!(resigned, text);
    // A corrupt narinfo.
    std::fs::write(d.join("bad.narinfo"), "StorePath: /nix/store/x\n")?;
    let o = run(
        &nixrs(),
        &["narinfo"],
        &["verify", "--trusted-key", &pk, "bad.narinfo"],
        d,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr)
        .starts_with("error: NAR info file 'bad.narinfo' is corrupt"));
    Ok(())
}

#[test]
fn generate_key_usage_errors_match_cppnix() -> R {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let dir = testkit::tempdir();
    for args in [
        &["--generate-binary-cache-key", "k", "sk"][..],
        &["--generate-binary-cache-key", "k", "sk", "/nonexistent/pk"][..],
    ] {
        let theirs = run(&nix_store, &[], args, dir.path());
        let ours = run(&nixrs(), &["nix-store"], args, dir.path());
        assert_eq!(
            (String::from_utf8_lossy(&ours.stderr), ours.status.code()),
            (
                String::from_utf8_lossy(&theirs.stderr),
                theirs.status.code()
            ),
            "{args:?}"
        );
    }
    assert!(!Path::new(&dir.path().join("sk")).exists());
    Ok(())
}
