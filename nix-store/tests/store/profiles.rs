//! Profiles and generations against `profiles.json` and the real `nix-env`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use nix_store::profiles::{DeleteSpec, Profile, ProfileError};

use crate::local_store::{cppnix, TestResult};

fn listing(dir: &Path) -> Result<BTreeMap<String, String>, std::io::Error> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let target = std::fs::read_link(e.path())
            .map(|t| t.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "<not a link>".into());
        out.insert(name, target);
    }
    Ok(out)
}

const HELLO: &str = "/nix/store/i9pmrzmpshapij2kin22pff6fc2adavx-hello.txt";
const TREE: &str = "/nix/store/vdzs82mfml1h1qh9mbl68nfhfrwwn2kq-tree";

#[test]
fn steps_match_the_vectors() -> TestResult {
    let v = testkit::vectors("profiles");
    let steps = v["steps"].as_array().ok_or("steps")?;
    let dir = testkit::tempdir();
    let profile = Profile::new(dir.path().join("prof"));
    let now = SystemTime::now();
    for (i, step) in steps.iter().enumerate() {
        match i {
            0 => assert_eq!(profile.set(Path::new(HELLO))?, (None, 1)),
            1 => assert_eq!(profile.set(Path::new(TREE))?, (Some(1), 2)),
            2 => assert_eq!(profile.rollback()?, (2, 1)),
            3 => assert_eq!(profile.set(Path::new(TREE))?, (Some(1), 2)),
            4 => assert_eq!(profile.delete_generations(&DeleteSpec::Old, now)?, vec![1]),
            5 => assert_eq!(profile.switch_generation(2)?, (2, 2)),
            _ => return Err("unexpected step".into()),
        }
        let want: BTreeMap<String, String> = step["dir"]
            .as_object()
            .ok_or("dir")?
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        assert_eq!(listing(dir.path())?, want, "after {}", step["step"]);
    }
    Ok(())
}

#[test]
fn errors_and_keep_last() -> TestResult {
    let dir = testkit::tempdir();
    let profile = Profile::new(dir.path().join("p"));
    assert!(matches!(
        profile.rollback(),
        Err(ProfileError::NoOlderGeneration { current: 0 })
    ));
    for i in 0..5 {
        profile.set(Path::new(&format!("/nix/store/{i}")))?;
    }
    assert!(matches!(
        profile.switch_generation(9),
        Err(ProfileError::NoSuchGeneration { number: 9 })
    ));
    let err = profile
        .delete_generations(&DeleteSpec::Numbers(vec![5]), SystemTime::now())
        .err()
        .ok_or("deleting the current generation must fail")?;
    assert_eq!(
        err.to_string(),
        format!(
            "cannot delete current version of profile {}'",
            profile.path().display()
        )
    );
    profile.switch_generation(4)?;
    // +2 keeps the current (4) and one older (3); 5 is newer than current and stays.
    assert_eq!(
        profile.delete_generations(&DeleteSpec::KeepLast(2), SystemTime::now())?,
        vec![1, 2]
    );
    let left: Vec<u64> = profile.generations()?.iter().map(|g| g.number).collect();
    assert_eq!(left, vec![3, 4, 5]);
    // Nothing is older than a day here.
    assert!(profile
        .delete_generations(&DeleteSpec::OlderThanDays(1), SystemTime::now())?
        .is_empty());
    Ok(())
}

#[test]
fn same_links_as_nix_env() -> TestResult {
    let Some(nix_env) = testkit::reference("nix-env") else {
        return Ok(());
    };
    let Some(nix_store) = testkit::reference("nix-store") else {
        return Ok(());
    };
    // nix-env --set needs the paths valid in its store: add them with CppNix.
    let root = testkit::TempStore::new();
    let r = root.root().to_string_lossy().into_owned();
    let src = testkit::tempdir();
    let mut targets = Vec::new();
    for n in ["one", "two", "three"] {
        let f = src.path().join(n);
        std::fs::write(&f, n)?;
        let (rc, out, err) = cppnix(&nix_store, &["--store", &r, "--add", &f.to_string_lossy()])?;
        assert_eq!(rc, 0, "{err}");
        targets.push(out.trim().to_string());
    }
    let theirs = testkit::tempdir();
    let ours = testkit::tempdir();
    let tp = theirs.path().join("prof").to_string_lossy().into_owned();
    let profile = Profile::new(ours.path().join("prof"));
    let ops: Vec<Vec<String>> = vec![
        vec!["--set".into(), targets[0].clone()],
        vec!["--set".into(), targets[1].clone()],
        vec!["--set".into(), targets[1].clone()],
        vec!["--set".into(), targets[2].clone()],
        vec!["--rollback".into()],
        vec!["--rollback".into()],
        vec!["--switch-generation".into(), "3".into()],
        vec!["--delete-generations".into(), "+2".into()],
        vec!["--rollback".into()],
        vec!["--delete-generations".into(), "old".into()],
    ];
    for op in &ops {
        let mut args = vec!["--store".to_string(), r.clone(), "-p".into(), tp.clone()];
        args.extend(op.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (rc, _, err) = cppnix(&nix_env, &args)?;
        assert_eq!(rc, 0, "{op:?}: {err}");
        match op[0].as_str() {
            "--set" => {
                profile.set(Path::new(&op[1]))?;
            }
            "--rollback" => {
                profile.rollback()?;
            }
            "--switch-generation" => {
                profile.switch_generation(op[1].parse()?)?;
            }
            _ => {
                let spec: Vec<&str> = op[1..].iter().map(String::as_str).collect();
                profile.delete_generations(&DeleteSpec::parse(&spec)?, SystemTime::now())?;
            }
        }
        let mut l = listing(ours.path())?;
        let t = listing(theirs.path())?;
        l.retain(|k, _| !k.ends_with(".lock"));
        assert_eq!(l, t, "after {op:?}");
    }
    Ok(())
}
