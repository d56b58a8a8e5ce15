//! The builder: its environment compared with a CppNix 2.8 build of the same derivation, and
//! failures.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use nix_derivation::build::builder::{run, BuildError, BuildOptions, ExitKind};
use nix_derivation::hash_modulo::{DrvHashCache, NoInputs};
use nix_derivation::outputs::fill_outputs;
use nix_derivation::store::store_path::{StoreDir, StorePath};
use nix_derivation::{Derivation, DerivationOutput};

use crate::common::TestResult;

/// Dumps its environment (NUL-separated), its working directory and a passAsFile file.
const ENVDUMP: &str = r#"derivation {
  name = "envdump"; system = "x86_64-linux"; builder = "/bin/sh";
  args = [ "-c" "{ /usr/bin/env -0; printf 'CWD=%s\\0' \"$(/bin/pwd -P)\"; printf 'BIG=%s\\0' \"$(/bin/cat \"$bigPath\")\"; } > $out; echo to-stdout; echo to-stderr >&2" ];
  passAsFile = [ "big" ]; big = "passed as a file"; foo = "bar"; weird = "a\"b\\c\nd\te";
  PATH = "/overridden"; HOME = "/not-homeless";
}"#;

fn parse_dump(bytes: &[u8]) -> BTreeMap<Vec<u8>, Vec<u8>> {
    bytes
        .split(|&b| b == 0)
        .filter(|e| !e.is_empty())
        .filter_map(|e| {
            let i = e.iter().position(|&b| b == b'=')?;
            Some((e[..i].to_vec(), e[i + 1..].to_vec()))
        })
        .collect()
}

fn replace(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < haystack.len() {
        if !from.is_empty() && haystack[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn environment_matches_cppnix() -> TestResult {
    let (Some(instantiate), Some(nix_store)) = (
        testkit::reference("nix-instantiate"),
        testkit::reference("nix-store"),
    ) else {
        return Ok(());
    };
    if !Path::new("/usr/bin/env").exists() || !Path::new("/bin/pwd").exists() {
        eprintln!("SKIP: /usr/bin/env or /bin/pwd missing");
        return Ok(());
    }
    // A store whose directory is real (not diverted), so CppNix builds without a sandbox.
    let tmp = testkit::tempdir();
    let root = tmp.path().canonicalize()?;
    let dir = root.join("store");
    let store = format!(
        "local?store={}&state={}&log={}",
        dir.display(),
        root.join("state").display(),
        root.join("log").display()
    );
    let out = Command::new(instantiate)
        .args(["--store", &store, "-E", ENVDUMP])
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let drv_path_s = String::from_utf8(out.stdout)?.trim().to_string();
    let store_dir = StoreDir::new(dir.to_str().ok_or("non-UTF-8 temp dir")?)?;
    let drv_path: StorePath = store_dir.parse_path(&drv_path_s)?;
    let drv = Derivation::parse(&std::fs::read(&drv_path_s)?, &store_dir)?;
    let out_path = store_dir.display(drv.outputs["out"].path().ok_or("no out path")?);

    // Ours first.
    let build_dir = testkit::tempdir();
    let build_top = build_dir.path().canonicalize()?;
    let mut log = Vec::new();
    let options = BuildOptions {
        // CppNix's default is the number of CPUs; fixed here so both agree.
        cores: 7,
        ..BuildOptions::default()
    };
    run(
        &drv,
        Some(&drv_path),
        &store_dir,
        &build_top,
        &options,
        &mut log,
    )?;
    let ours = std::fs::read(&out_path)?;
    std::fs::remove_file(&out_path)?;
    let mut lines: Vec<&[u8]> = log
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    lines.sort();
    assert_eq!(lines, vec![&b"to-stderr"[..], b"to-stdout"]);

    // Then CppNix.
    let out = Command::new(nix_store)
        .args([
            "--store",
            &store,
            "--option",
            "cores",
            "7",
            "--option",
            "sandbox",
            "false",
            "-r",
            &drv_path_s,
        ])
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = std::fs::read(&out_path)?;

    let theirs = parse_dump(&theirs);
    let their_top = theirs
        .get(&b"NIX_BUILD_TOP"[..])
        .ok_or("no NIX_BUILD_TOP")?
        .clone();
    let ours: BTreeMap<Vec<u8>, Vec<u8>> = parse_dump(&ours)
        .into_iter()
        .map(|(k, v)| {
            (
                k,
                replace(&v, build_top.as_os_str().as_encoded_bytes(), &their_top),
            )
        })
        .collect();
    let show = |m: &BTreeMap<Vec<u8>, Vec<u8>>| {
        m.iter()
            .map(|(k, v)| {
                format!(
                    "{}={}\n",
                    String::from_utf8_lossy(k),
                    String::from_utf8_lossy(v)
                )
            })
            .collect::<String>()
    };
    assert_eq!(show(&ours), show(&theirs));
    assert_eq!(ours, theirs);
    assert_eq!(
        ours.get(&b"BIG"[..]).map(Vec::as_slice),
        Some(&b"passed as a file"[..])
    );
    Ok(())
}

/// A derivation for the store dir `dir` running `sh -c script`.
fn sh_drv(store_dir: &StoreDir, name: &str, script: &str) -> TestResult<Derivation> {
    let mut drv = Derivation::default();
    drv.outputs.insert("out".into(), DerivationOutput::Deferred);
    drv.system = b"x86_64-linux".to_vec();
    drv.builder = b"/bin/sh".to_vec();
    drv.args = vec![b"-c".to_vec(), script.as_bytes().to_vec()];
    drv.env.insert(b"name".to_vec(), name.as_bytes().to_vec());
    fill_outputs(
        &mut drv,
        name,
        store_dir,
        &mut NoInputs,
        &mut DrvHashCache::new(),
    )?;
    Ok(drv)
}

#[test]
fn failures_are_typed_with_the_log_tail() -> TestResult {
    if !Path::new("/bin/sh").exists() {
        return Ok(());
    }
    let tmp = testkit::tempdir();
    let store_dir = StoreDir::new(tmp.path().join("store").to_str().ok_or("non-UTF-8")?)?;
    std::fs::create_dir_all(store_dir.as_str())?;
    let build = testkit::tempdir();
    let options = BuildOptions {
        log_tail_lines: 2,
        ..BuildOptions::default()
    };

    let drv = sh_drv(
        &store_dir,
        "fails",
        "echo one; echo two; echo three >&2; exit 3",
    )?;
    let mut log = Vec::new();
    match run(&drv, None, &store_dir, build.path(), &options, &mut log) {
        Err(BuildError::Failed {
            drv,
            status,
            log_tail,
        }) => {
            assert_eq!(drv, "fails");
            assert_eq!(status, ExitKind::Code(3));
            assert_eq!(log_tail.len(), 2);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(log.len(), "one\ntwo\nthree\n".len());

    let drv = sh_drv(&store_dir, "killed", "kill -9 $$")?;
    assert!(matches!(
        run(
            &drv,
            None,
            &store_dir,
            build.path(),
            &options,
            &mut Vec::new()
        ),
        Err(BuildError::Failed {
            status: ExitKind::Signal(9),
            ..
        })
    ));

    let drv = sh_drv(&store_dir, "no-output", "true")?;
    assert!(matches!(
        run(
            &drv,
            None,
            &store_dir,
            build.path(),
            &options,
            &mut Vec::new()
        ),
        Err(BuildError::MissingOutput { .. })
    ));

    let mut drv = sh_drv(&store_dir, "no-builder", "true")?;
    drv.builder = b"/nonexistent/builder".to_vec();
    assert!(matches!(
        run(
            &drv,
            None,
            &store_dir,
            build.path(),
            &options,
            &mut Vec::new()
        ),
        Err(BuildError::Spawn { .. })
    ));

    // Time limits kill the builder and everything it started (its process group), so the
    // build ends although a grandchild holds the log pipe open.
    for (silence, script) in [
        (false, "while true; do echo tick; /bin/sleep 0.2; done"),
        (true, "echo once; /bin/sleep 30 & /bin/sleep 30"),
    ] {
        let drv = sh_drv(&store_dir, "slow", script)?;
        let limited = BuildOptions {
            timeout: if silence { 0 } else { 1 },
            max_silent_time: if silence { 1 } else { 0 },
            ..options.clone()
        };
        let mut log = Vec::new();
        match run(&drv, None, &store_dir, build.path(), &limited, &mut log) {
            Err(e @ BuildError::TimedOut { .. }) => assert_eq!(
                e.to_string(),
                format!(
                    "building of 'slow!*' from .drv file timed out after 1 seconds{}",
                    if silence { " of silence" } else { "" }
                )
            ),
            other => panic!("{other:?}"),
        }
        assert!(log.starts_with(if silence { b"once" } else { b"tick" }));
    }

    let drv = sh_drv(&store_dir, "works", "echo ok > $out")?;
    run(
        &drv,
        None,
        &store_dir,
        build.path(),
        &options,
        &mut Vec::new(),
    )?;
    Ok(())
}

#[test]
fn fixed_output_environment() -> TestResult {
    use nix_derivation::build::builder::plan;
    let store_dir = StoreDir::default();
    let mut drv = Derivation::default();
    let hash = nix_derivation::store::hash::Hash::parse_any(
        "sha256-WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=",
    )?;
    drv.outputs.insert(
        "out".into(),
        DerivationOutput::fixed(
            &store_dir,
            "f",
            "out",
            nix_derivation::FileIngestionMethod::Flat,
            hash,
        )?,
    );
    drv.env
        .insert(b"impureEnvVars".to_vec(), b"http_proxy FTP_PROXY".to_vec());
    let options = BuildOptions {
        impure_env: BTreeMap::from([(b"http_proxy".to_vec(), b"http://proxy".to_vec())]),
        ..BuildOptions::default()
    };
    let plan = plan(&drv, &store_dir, Path::new("/b"), &options)?;
    assert_eq!(
        plan.env.get(&b"NIX_OUTPUT_CHECKED"[..]),
        Some(&b"1".to_vec())
    );
    assert_eq!(
        plan.env.get(&b"http_proxy"[..]),
        Some(&b"http://proxy".to_vec())
    );
    assert_eq!(plan.env.get(&b"FTP_PROXY"[..]), Some(&Vec::new()));
    Ok(())
}
