//! The real-world corpus (`nix-eval/tests/realworld/`): nixpkgs-style Nix code evaluated and
//! instantiated by CppNix 2.8 and by `nixrs` in the same run, compared byte for byte.
//!
//! Checks (see the corpus README):
//! - `info-json-lib`, `info-json-packages`, `info-json-system` (`-A` of `info.nix`) and
//!   `drvinfo-json`: `nix-instantiate --eval --strict --json …`;
//! - `instantiate-paths`: the `.drv` paths printed by `nix-instantiate --store ROOT default.nix`;
//! - `instantiate-drvs`: every `.drv` file written under the two store roots;
//! - `instantiate-sources`: every other store path written (`toFile`, copied sources).
//!
//! `expected-failures.txt` beside the corpus lists the checks that do not pass yet
//! (`check # reason`). A failing check that is not listed fails the test, and so does a listed
//! check that passes, so the list only shrinks.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// How long one evaluation may run (debug builds on a loaded 2-core machine).
const TIMEOUT: Duration = Duration::from_secs(300);

fn corpus_dir() -> Result<PathBuf, std::io::Error> {
    fs::canonicalize(testkit::workspace_root().join("nix-eval/tests/realworld"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    code: i32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Runs `program pre_args… args…` in `dir` with a fixed environment and a timeout.
fn run(
    program: &Path,
    pre_args: &[&str],
    args: &[&str],
    dir: &Path,
    scratch: &Path,
) -> Result<Outcome, Box<dyn std::error::Error>> {
    let out_path = scratch.join("stdout");
    let err_path = scratch.join("stderr");
    let mut child = Command::new(program)
        .args(pre_args)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", "/homeless-shelter")
        .env("TZ", "UTC")
        .env("LANG", "C")
        .env("NIX_PATH", "")
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out_path)?)
        .stderr(fs::File::create(&err_path)?)
        .spawn()?;
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if start.elapsed() > TIMEOUT {
            child.kill()?;
            child.wait()?;
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut stderr = fs::read(&err_path)?;
    let code = match status.and_then(|s| s.code()) {
        Some(c) => c,
        None => {
            stderr.extend_from_slice(b"\n[realworld: timed out or killed]\n");
            -1
        }
    };
    Ok(Outcome {
        code,
        stdout: fs::read(&out_path)?,
        stderr,
    })
}

/// The first line where two outputs differ, cut to 100 characters each.
fn first_difference(got: &[u8], want: &[u8]) -> String {
    let cut = |line: &[u8]| {
        let s = String::from_utf8_lossy(line);
        let mut t: String = s.chars().take(100).collect();
        if s.chars().count() > 100 {
            t.push('…');
        }
        t
    };
    let mut g = got.split(|&b| b == b'\n');
    let mut w = want.split(|&b| b == b'\n');
    let mut line = 1;
    loop {
        match (g.next(), w.next()) {
            (Some(a), Some(b)) if a == b => line += 1,
            (a, b) => {
                let a = a.map_or_else(|| "<none>".to_string(), cut);
                let b = b.map_or_else(|| "<none>".to_string(), cut);
                return format!("line {line}: got '{a}' want '{b}'");
            }
        }
    }
}

/// `None` if equal, else a description.
fn compare_outcomes(got: &Outcome, want: &Outcome) -> Option<String> {
    let mut parts = Vec::new();
    if got.code != want.code {
        parts.push(format!("exit {} (want {})", got.code, want.code));
    }
    if got.stdout != want.stdout {
        parts.push(format!(
            "stdout {}",
            first_difference(&got.stdout, &want.stdout)
        ));
    }
    if got.stderr != want.stderr {
        parts.push(format!(
            "stderr {}",
            first_difference(&got.stderr, &want.stderr)
        ));
    }
    if parts.is_empty() {
        None
    } else {
        Some(parts.join("; "))
    }
}

/// The store paths under `root/nix/store`, by base name.
fn store_entries(root: &Path) -> Result<BTreeSet<String>, std::io::Error> {
    let dir = root.join("nix/store");
    let mut out = BTreeSet::new();
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') {
            out.insert(name);
        }
    }
    Ok(out)
}

/// A store path's contents as a canonical listing: type, executable bit, bytes, recursively.
fn tree_digest(path: &Path, out: &mut Vec<u8>) -> Result<(), std::io::Error> {
    use std::os::unix::fs::PermissionsExt;
    let meta = fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        out.extend_from_slice(b"symlink ");
        out.extend_from_slice(fs::read_link(path)?.to_string_lossy().as_bytes());
    } else if meta.is_dir() {
        let mut names: Vec<_> = fs::read_dir(path)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()?;
        names.sort();
        out.extend_from_slice(b"dir(");
        for name in names {
            out.extend_from_slice(name.to_string_lossy().as_bytes());
            out.push(b':');
            tree_digest(&path.join(&name), out)?;
        }
        out.push(b')');
    } else {
        let exec = meta.permissions().mode() & 0o111 != 0;
        out.extend_from_slice(if exec { b"exe " } else { b"reg " });
        let data = fs::read(path)?;
        out.extend_from_slice(data.len().to_string().as_bytes());
        out.push(b' ');
        out.extend_from_slice(&data);
    }
    out.push(b'\n');
    Ok(())
}

/// Compares the `.drv` files (or, with `drvs == false`, the other store paths) of two roots.
fn compare_stores(
    ours: &Path,
    theirs: &Path,
    drvs: bool,
) -> Result<Option<String>, std::io::Error> {
    let pick = |set: BTreeSet<String>| -> BTreeSet<String> {
        set.into_iter()
            .filter(|n| n.ends_with(".drv") == drvs)
            .collect()
    };
    let ours_set = pick(store_entries(ours)?);
    let theirs_set = pick(store_entries(theirs)?);
    let mut problems = Vec::new();
    let missing: Vec<_> = theirs_set.difference(&ours_set).collect();
    let extra: Vec<_> = ours_set.difference(&theirs_set).collect();
    if !missing.is_empty() {
        problems.push(format!(
            "{} of {} paths missing (first: {})",
            missing.len(),
            theirs_set.len(),
            missing
                .iter()
                .take(3)
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !extra.is_empty() {
        problems.push(format!(
            "{} paths CppNix did not write (first: {})",
            extra.len(),
            extra
                .iter()
                .take(3)
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut differing = Vec::new();
    for name in theirs_set.intersection(&ours_set) {
        let mut a = Vec::new();
        let mut b = Vec::new();
        tree_digest(&ours.join("nix/store").join(name), &mut a)?;
        tree_digest(&theirs.join("nix/store").join(name), &mut b)?;
        if a != b {
            differing.push(format!("{name}: {}", first_difference(&a, &b)));
        }
    }
    if !differing.is_empty() {
        problems.push(format!(
            "{} paths differ (first: {})",
            differing.len(),
            differing[0]
        ));
    }
    if theirs_set.is_empty() {
        problems.push("CppNix wrote no paths".to_string());
    }
    Ok(if problems.is_empty() {
        None
    } else {
        Some(problems.join("; "))
    })
}

/// `check # reason` lines of `expected-failures.txt`.
fn expected_failures(corpus: &Path) -> Result<BTreeMap<String, String>, std::io::Error> {
    let text = fs::read_to_string(corpus.join("expected-failures.txt"))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once('#') {
            Some((c, r)) => (c.trim().to_string(), r.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect())
}

#[test]
fn realworld_corpus_matches_cppnix() -> TestResult {
    let Some(reference) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let corpus = corpus_dir()?;
    let nixrs = crate::nixrs();
    let scratch = testkit::tempdir();
    let verbose = std::env::var_os("NIXRS_REALWORLD_VERBOSE").is_some();
    // check name -> None (passes) or Some(difference)
    let mut results: BTreeMap<&str, Option<String>> = BTreeMap::new();

    let json_checks: [(&str, &[&str]); 4] = [
        ("info-json-lib", &["-A", "lib", "info.nix"]),
        ("info-json-packages", &["-A", "packages", "info.nix"]),
        ("info-json-system", &["-A", "system", "info.nix"]),
        ("drvinfo-json", &["drvinfo.nix"]),
    ];
    for (check, rest) in json_checks {
        let mut args = vec!["--eval", "--strict", "--json"];
        args.extend_from_slice(rest);
        let want = run(&reference, &[], &args, &corpus, scratch.path())?;
        if want.code != 0 {
            return Err(format!(
                "CppNix fails on {check}: {}",
                String::from_utf8_lossy(&want.stderr)
            )
            .into());
        }
        let got = run(&nixrs, &["nix-instantiate"], &args, &corpus, scratch.path())?;
        let diff = compare_outcomes(&got, &want);
        if verbose {
            if let Some(d) = &diff {
                eprintln!(
                    "--- {check}: {d}\n  got stderr: {}",
                    String::from_utf8_lossy(&got.stderr)
                );
            }
        }
        results.insert(check, diff);
    }

    let theirs = testkit::TempStore::new();
    let ours = testkit::TempStore::new();
    let store_arg = |s: &testkit::TempStore| s.root().to_string_lossy().into_owned();
    let (theirs_root, ours_root) = (store_arg(&theirs), store_arg(&ours));
    let want = run(
        &reference,
        &[],
        &["--store", &theirs_root, "default.nix"],
        &corpus,
        scratch.path(),
    )?;
    if want.code != 0 {
        return Err(format!(
            "CppNix fails to instantiate default.nix: {}",
            String::from_utf8_lossy(&want.stderr)
        )
        .into());
    }
    let got = run(
        &nixrs,
        &["nix-instantiate"],
        &["--store", &ours_root, "default.nix"],
        &corpus,
        scratch.path(),
    )?;
    let paths_diff = if got.code != want.code || got.stdout != want.stdout {
        Some(format!(
            "exit {} (want {}), stdout {}; stderr: {}",
            got.code,
            want.code,
            first_difference(&got.stdout, &want.stdout),
            String::from_utf8_lossy(&got.stderr)
                .lines()
                .take(3)
                .collect::<Vec<_>>()
                .join(" | ")
        ))
    } else {
        None
    };
    results.insert("instantiate-paths", paths_diff);
    results.insert(
        "instantiate-drvs",
        compare_stores(ours.root(), theirs.root(), true)?,
    );
    results.insert(
        "instantiate-sources",
        compare_stores(ours.root(), theirs.root(), false)?,
    );

    let expected = expected_failures(&corpus)?;
    let mut msg = String::new();
    for (check, diff) in &results {
        match (diff, expected.contains_key(*check)) {
            (Some(d), false) => msg.push_str(&format!("{check} fails: {d}\n")),
            (None, true) => msg.push_str(&format!(
                "{check} passes but is listed in expected-failures.txt: remove it\n"
            )),
            (Some(d), true) => println!("realworld: {check} fails as expected: {d}"),
            (None, false) => println!("realworld: {check} passes"),
        }
    }
    for check in expected.keys() {
        if !results.contains_key(check.as_str()) {
            msg.push_str(&format!(
                "expected-failures.txt lists an unknown check '{check}'\n"
            ));
        }
    }
    if msg.is_empty() {
        Ok(())
    } else {
        Err(msg.into())
    }
}
