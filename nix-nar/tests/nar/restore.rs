//! Restore: CppNix restores our NARs and we restore theirs, and the trees agree.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::TestResult;

fn cppnix_restore(nix_store: &Path, nar: &[u8], target: &Path) -> TestResult {
    use std::io::Write;
    let mut child = Command::new(nix_store)
        .arg("--restore")
        .arg(target)
        .stdin(Stdio::piped())
        .spawn()?;
    child.stdin.take().ok_or("stdin")?.write_all(nar)?;
    assert!(child.wait()?.success(), "nix-store --restore failed");
    Ok(())
}

#[test]
fn restore_both_ways() -> TestResult {
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let tmp = testkit::tempdir();
    let root = tmp.path().join("tree");
    crate::differential::make_odd_tree(&root)?;
    let mut nar = Vec::new();
    nix_nar::dump_path(&root, &mut nar)?;

    // Theirs restores ours.
    let theirs = tmp.path().join("by-cppnix");
    cppnix_restore(&nix_store, &nar, &theirs)?;
    // Ours restores the NAR that CppNix dumped.
    let out = Command::new(&nix_store).arg("--dump").arg(&root).output()?;
    assert!(out.status.success());
    let ours = tmp.path().join("by-us");
    nix_nar::restore::restore(&out.stdout[..], &ours, &Default::default())?;

    let dump = |p: &Path| -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        let mut v = Vec::new();
        nix_nar::dump_path(p, &mut v)?;
        Ok(v)
    };
    assert!(dump(&theirs)? == nar);
    assert!(dump(&ours)? == nar);

    // Same modes as CppNix (0644/0755 under the umask; symlinks are links).
    use std::os::unix::fs::PermissionsExt;
    for name in ["exe", "a", "empty", "owner-exec-only", "group-exec"] {
        let m1 = std::fs::metadata(theirs.join(name))?.permissions().mode();
        let m2 = std::fs::metadata(ours.join(name))?.permissions().mode();
        assert_eq!(m1 & 0o7777, m2 & 0o7777, "{name}");
    }
    assert!(std::fs::symlink_metadata(ours.join("dangling"))?
        .file_type()
        .is_symlink());
    Ok(())
}

#[test]
fn restore_single_nodes_and_refuse_existing() -> TestResult {
    let tmp = testkit::tempdir();
    let nar = nix_nar::dump::Tree::Symlink {
        target: b"/nowhere".to_vec(),
    }
    .to_nar()?;
    let t = tmp.path().join("link");
    nix_nar::restore::restore(&nar[..], &t, &Default::default())?;
    assert_eq!(std::fs::read_link(&t)?, Path::new("/nowhere"));
    let err =
        nix_nar::restore::restore(&nar[..], &t, &Default::default()).expect_err("existing target");
    assert_eq!(
        err.to_string(),
        format!("path '{}' already exists", t.display())
    );
    // With fsync on.
    let opts = nix_nar::restore::Options {
        fsync: true,
        ..Default::default()
    };
    let nar = nix_nar::dump::Tree::File {
        executable: true,
        contents: b"#!/bin/sh\n".to_vec(),
    }
    .to_nar()?;
    nix_nar::restore::restore(&nar[..], &tmp.path().join("exe"), &opts)?;
    Ok(())
}

#[test]
fn bad_cases_leave_nothing_behind() -> TestResult {
    let v = testkit::vectors("nar");
    let tmp = testkit::tempdir();
    for c in v["restore_cases_cppnix_2_8"].as_array().ok_or("cases")? {
        let name = c["case"].as_str().ok_or("case")?;
        let nar = crate::unhex(c["nar_hex"].as_str().ok_or("hex")?);
        let target = tmp.path().join(name);
        let r = nix_nar::restore::restore(&nar[..], &target, &Default::default());
        if name == "valid_two_entries_sorted" {
            r?;
            std::fs::remove_dir_all(&target)?;
        } else {
            assert!(r.is_err(), "{name}");
        }
        assert_eq!(std::fs::read_dir(tmp.path())?.count(), 0, "{name}");
    }
    Ok(())
}
