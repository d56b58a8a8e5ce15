//! The evaluator's differential corpus: `nix-eval/tests/corpus/**.nix`.
//!
//! Each case is evaluated by `nixrs nix-instantiate --eval FLAGS FILE` exactly as
//! `make_baseline.sh` evaluated it with CppNix 2.8 (same working directory, same environment),
//! and stdout, stderr and the exit code are compared byte for byte with the committed
//! `<case>.exp`, after the corpus's absolute path is replaced by `@CORPUS@`.
//!
//! Cases listed in `known-failures.txt` (`relative/path.nix # reason`) may fail; a listed case
//! that passes fails the test, so the list only shrinks. `NIXRS_UPDATE_KNOWN_FAILURES=1`
//! rewrites the list from the current results (keeping the reasons already written).
//!
//! A second test re-runs the reference `nix-instantiate` on a sample of cases and checks that
//! the `.exp` files are still what it prints.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const PLACEHOLDER: &[u8] = b"@CORPUS@";
const HOME: &str = "/homeless-shelter";
/// How long one case may run before it counts as failed: generous, since the deepest cases
/// (recursion to the evaluator's depth limit) take several seconds in a debug build on a
/// loaded 2-core CI machine.
const CASE_TIMEOUT: Duration = Duration::from_secs(30);

fn corpus_dir() -> Result<PathBuf, std::io::Error> {
    fs::canonicalize(testkit::workspace_root().join("nix-eval/tests/corpus"))
}

/// Every case below `root` (a `*.nix` file with no `helpers` directory in its path), as
/// paths relative to `root` with `/` separators, sorted.
fn find_cases(root: &Path) -> Result<Vec<String>, std::io::Error> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), std::io::Error> {
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            let name = entry.file_name();
            if entry.file_type()?.is_dir() {
                if name != "helpers" {
                    walk(root, &path, out)?;
                }
            } else if path.extension().is_some_and(|e| e == "nix") {
                let rel = path
                    .strip_prefix(root)
                    .map_err(std::io::Error::other)?
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push(rel);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(root, root, &mut out)?;
    out.sort();
    Ok(out)
}

/// Splits the words of a `# nixrs-flags:` line; single or double quotes group words.
fn split_flags(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for ch in s.chars() {
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => cur.push(ch),
            None if ch == '\'' || ch == '"' => {
                quote = Some(ch);
                in_word = true;
            }
            None if ch.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                cur.push(ch);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// The flags of a case: from its `# nixrs-flags:` first line, else `--strict`.
fn case_flags(file: &Path) -> Result<Vec<String>, std::io::Error> {
    let text = fs::read(file)?;
    let first = text.split(|&b| b == b'\n').next().unwrap_or_default();
    let first = String::from_utf8_lossy(first);
    Ok(match first.strip_prefix("# nixrs-flags:") {
        Some(rest) => split_flags(rest),
        None => vec!["--strict".to_string()],
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    code: i32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    if needle.is_empty() {
        return haystack.to_vec();
    }
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// Runs `program [pre_args…] --eval FLAGS FILE` for one case, as `make_baseline.sh` does.
fn run_case(
    corpus: &Path,
    rel: &str,
    program: &Path,
    pre_args: &[&str],
    scratch: &Path,
) -> Result<Outcome, Box<dyn std::error::Error>> {
    let file = corpus.join(rel);
    let dir = file.parent().ok_or("case without a directory")?;
    let base = file.file_name().ok_or("case without a file name")?;
    let flags = case_flags(&file)?;
    let out_path = scratch.join("stdout");
    let err_path = scratch.join("stderr");
    let corpus_str = corpus.to_string_lossy();
    let mut command = Command::new(program);
    if pre_args.is_empty() {
        // the reference names itself by argv[0] (`Try 'nix-instantiate --help'`): run it as
        // make_baseline.sh does, by its name
        if let Some(name) = program.file_name() {
            use std::os::unix::process::CommandExt as _;
            command.arg0(name);
        }
    }
    let mut child = command
        .args(pre_args)
        .arg("--eval")
        .args(&flags)
        .arg(base)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", HOME)
        .env("TZ", "UTC")
        .env("LANG", "C")
        .env(
            "NIX_PATH",
            format!("corpus={corpus_str}/imports/helpers:{corpus_str}/helpers/nixpath"),
        )
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out_path)?)
        .stderr(fs::File::create(&err_path)?)
        .spawn()?;
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if start.elapsed() > CASE_TIMEOUT {
            child.kill()?;
            child.wait()?;
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let needle = corpus_str.as_bytes();
    let stdout = replace_all(&fs::read(&out_path)?, needle, PLACEHOLDER);
    let mut stderr = replace_all(&fs::read(&err_path)?, needle, PLACEHOLDER);
    let code = match status {
        // killed by a signal: report it as the shell would
        Some(s) => s.code().unwrap_or(128 + signal_of(&s)),
        None => {
            stderr.extend_from_slice(b"\n[nixrs corpus: timed out]\n");
            -1
        }
    };
    Ok(Outcome {
        code,
        stdout,
        stderr,
    })
}

#[cfg(unix)]
fn signal_of(s: &std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    s.signal().unwrap_or(0)
}

#[cfg(not(unix))]
fn signal_of(_: &std::process::ExitStatus) -> i32 {
    0
}

/// Parses a `.exp` file: `exit: N\nstdout: LEN\n<bytes>\nstderr: LEN\n<bytes>\n`.
fn parse_exp(data: &[u8]) -> Result<Outcome, String> {
    fn header<'a>(data: &'a [u8], pos: &mut usize, key: &str) -> Result<&'a str, String> {
        let rest = &data[*pos..];
        let nl = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| format!("missing '{key}' line"))?;
        let line = std::str::from_utf8(&rest[..nl]).map_err(|e| e.to_string())?;
        let value = line
            .strip_prefix(key)
            .and_then(|l| l.strip_prefix(": "))
            .ok_or_else(|| format!("expected '{key}: …', found {line:?}"))?;
        *pos += nl + 1;
        Ok(value)
    }
    fn body(data: &[u8], pos: &mut usize, len: usize) -> Result<Vec<u8>, String> {
        let end = *pos + len;
        if data.len() < end + 1 || data[end] != b'\n' {
            return Err("body shorter than its length".into());
        }
        let b = data[*pos..end].to_vec();
        *pos = end + 1;
        Ok(b)
    }
    let mut pos = 0;
    let code: i32 = header(data, &mut pos, "exit")?
        .parse()
        .map_err(|e| format!("bad exit code: {e}"))?;
    let len: usize = header(data, &mut pos, "stdout")?
        .parse()
        .map_err(|e| format!("bad stdout length: {e}"))?;
    let stdout = body(data, &mut pos, len)?;
    let len: usize = header(data, &mut pos, "stderr")?
        .parse()
        .map_err(|e| format!("bad stderr length: {e}"))?;
    let stderr = body(data, &mut pos, len)?;
    Ok(Outcome {
        code,
        stdout,
        stderr,
    })
}

fn load_expected(corpus: &Path, rel: &str) -> Result<Outcome, Box<dyn std::error::Error>> {
    let exp = corpus.join(rel.strip_suffix(".nix").unwrap_or(rel).to_string() + ".exp");
    let data = fs::read(&exp).map_err(|e| format!("{}: {e}", exp.display()))?;
    Ok(parse_exp(&data).map_err(|e| format!("{}: {e}", exp.display()))?)
}

/// A one-line description of how `got` differs from `want` (None if equal).
fn difference(got: &Outcome, want: &Outcome) -> Option<String> {
    if got == want {
        return None;
    }
    let mut parts = Vec::new();
    if got.code != want.code {
        parts.push(format!("exit {} (want {})", got.code, want.code));
    }
    for (name, g, w) in [
        ("stdout", &got.stdout, &want.stdout),
        ("stderr", &got.stderr, &want.stderr),
    ] {
        if g != w {
            parts.push(format!("{name} {}", first_line_difference(g, w)));
        }
    }
    Some(parts.join(", "))
}

/// `got 'LINE' want 'LINE'` for the first line that differs, each cut to 70 characters.
fn first_line_difference(got: &[u8], want: &[u8]) -> String {
    let cut = |line: &[u8]| {
        let s = String::from_utf8_lossy(line);
        let mut t: String = s.chars().take(70).collect();
        if s.chars().count() > 70 {
            t.push('…');
        }
        t
    };
    let mut g = got.split(|&b| b == b'\n');
    let mut w = want.split(|&b| b == b'\n');
    loop {
        match (g.next(), w.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (a, b) => {
                let a = a.map_or_else(|| "<none>".to_string(), cut);
                let b = b.map_or_else(|| "<none>".to_string(), cut);
                return format!("got '{a}' want '{b}'");
            }
        }
    }
}

fn known_failures_path(corpus: &Path) -> PathBuf {
    corpus.join("known-failures.txt")
}

/// `relative/path.nix # reason` lines; blank lines and lines starting with `#` are skipped.
fn load_known_failures(corpus: &Path) -> Result<BTreeMap<String, String>, std::io::Error> {
    let path = known_failures_path(corpus);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (case, reason) = match line.split_once('#') {
            Some((c, r)) => (c.trim(), r.trim()),
            None => (line, ""),
        };
        out.insert(case.to_string(), reason.to_string());
    }
    Ok(out)
}

fn write_known_failures(
    corpus: &Path,
    failing: &BTreeMap<String, String>,
) -> Result<(), std::io::Error> {
    let mut text = String::from(
        "# Corpus cases that nixrs does not pass yet: `relative/path.nix # reason`.\n\
         # The CLI test eval_corpus fails when a case not listed here fails, and when a listed\n\
         # case passes (remove it then). NIXRS_UPDATE_KNOWN_FAILURES=1 regenerates this file.\n",
    );
    for (case, reason) in failing {
        text.push_str(case);
        text.push_str(" # ");
        text.push_str(reason);
        text.push('\n');
    }
    fs::write(known_failures_path(corpus), text)
}

fn show(bytes: &[u8]) -> String {
    let cut = bytes.len().min(600);
    let mut s = String::from_utf8_lossy(&bytes[..cut]).into_owned();
    if cut < bytes.len() {
        s.push('…');
    }
    s
}

/// How a case differs: a summary, what we printed, what CppNix printed.
type Mismatch = (String, Outcome, Outcome);

fn check_case(
    corpus: &Path,
    rel: &str,
    nixrs: &Path,
    scratch: &Path,
) -> Result<Option<Mismatch>, Box<dyn std::error::Error>> {
    let want = load_expected(corpus, rel)?;
    let got = run_case(corpus, rel, nixrs, &["nix-instantiate"], scratch)?;
    Ok(difference(&got, &want).map(|d| (d, got, want)))
}

#[test]
fn corpus_matches_cppnix_baseline() -> TestResult {
    let corpus = corpus_dir()?;
    let cases = find_cases(&corpus)?;
    assert!(!cases.is_empty(), "no cases found in {}", corpus.display());
    let nixrs = crate::nixrs();

    // Run the cases on a few threads; each process is independent.
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4);
    let chunks: Vec<Vec<String>> = (0..workers)
        .map(|w| cases.iter().skip(w).step_by(workers).cloned().collect())
        .collect();
    let results: Vec<(String, Result<Option<String>, String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                let corpus = &corpus;
                let nixrs = &nixrs;
                scope.spawn(move || {
                    let scratch = testkit::tempdir();
                    chunk
                        .iter()
                        .map(|rel| {
                            let r = check_case(corpus, rel, nixrs, scratch.path());
                            let r = match r {
                                Ok(None) => Ok(None),
                                Ok(Some((d, got, want))) => {
                                    if std::env::var_os("NIXRS_CORPUS_VERBOSE").is_some() {
                                        eprintln!(
                                            "--- {rel}: {d}\n  want stdout: {}\n  got  stdout: {}\n  want stderr: {}\n  got  stderr: {}",
                                            show(&want.stdout),
                                            show(&got.stdout),
                                            show(&want.stderr),
                                            show(&got.stderr)
                                        );
                                    }
                                    Ok(Some(d))
                                }
                                Err(e) => Err(e.to_string()),
                            };
                            (rel.clone(), r)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("corpus worker thread panicked"))
            .collect()
    });

    let mut failing: BTreeMap<String, String> = BTreeMap::new();
    let mut harness_errors = Vec::new();
    for (rel, r) in results {
        match r {
            Ok(None) => {}
            Ok(Some(d)) => {
                failing.insert(rel, d);
            }
            Err(e) => harness_errors.push(format!("{rel}: {e}")),
        }
    }
    let passed = cases.len() - failing.len() - harness_errors.len();
    println!(
        "corpus: {passed} passed, {} failed",
        failing.len() + harness_errors.len()
    );
    if !harness_errors.is_empty() {
        return Err(format!("corpus harness errors:\n{}", harness_errors.join("\n")).into());
    }

    let known = load_known_failures(&corpus)?;
    if std::env::var_os("NIXRS_UPDATE_KNOWN_FAILURES").is_some_and(|v| v == "1") {
        let updated: BTreeMap<String, String> = failing
            .iter()
            .map(|(case, d)| {
                let reason = known
                    .get(case)
                    .filter(|r| !r.is_empty())
                    .cloned()
                    .unwrap_or_else(|| d.clone());
                (case.clone(), reason)
            })
            .collect();
        write_known_failures(&corpus, &updated)?;
        println!("known-failures.txt rewritten: {} cases", updated.len());
        return Ok(());
    }

    let unexpected: Vec<String> = failing
        .iter()
        .filter(|(case, _)| !known.contains_key(*case))
        .map(|(case, d)| format!("  {case}: {d}"))
        .collect();
    let listing = |items: &[String]| {
        let mut s = items
            .iter()
            .take(60)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n");
        if items.len() > 60 {
            s.push_str(&format!("\n  … and {} more", items.len() - 60));
        }
        s
    };
    let now_passing: Vec<String> = known
        .keys()
        .filter(|case| !failing.contains_key(*case))
        .map(|case| format!("  {case}"))
        .collect();
    println!(
        "corpus: {} known failures, {} unexpected failures, {} listed cases now pass",
        failing.len() - unexpected.len(),
        unexpected.len(),
        now_passing.len()
    );
    let mut msg = String::new();
    if !unexpected.is_empty() {
        msg.push_str(&format!(
            "{} corpus cases fail and are not in known-failures.txt (NIXRS_CORPUS_VERBOSE=1 shows the outputs):\n{}\n",
            unexpected.len(),
            listing(&unexpected)
        ));
    }
    if !now_passing.is_empty() {
        msg.push_str(&format!(
            "{} cases in known-failures.txt pass (or no longer exist): remove them \
             (or run with NIXRS_UPDATE_KNOWN_FAILURES=1):\n{}\n",
            now_passing.len(),
            listing(&now_passing)
        ));
    }
    if msg.is_empty() {
        Ok(())
    } else {
        Err(msg.into())
    }
}

/// Re-runs CppNix on every 16th case and checks the committed `.exp` files still match.
#[test]
fn corpus_baseline_is_current() -> TestResult {
    let Some(reference) = testkit::reference("nix-instantiate") else {
        return Ok(());
    };
    let corpus = corpus_dir()?;
    let cases = find_cases(&corpus)?;
    let scratch = testkit::tempdir();
    let mut stale = Vec::new();
    let mut checked = 0;
    for rel in cases.iter().step_by(16) {
        let want = load_expected(&corpus, rel)?;
        let got = run_case(&corpus, rel, &reference, &[], scratch.path())?;
        checked += 1;
        if let Some(d) = difference(&got, &want) {
            stale.push(format!(
                "  {rel}: {d}\n    stdout: {}\n    stderr: {}",
                show(&got.stdout),
                show(&got.stderr)
            ));
        }
    }
    assert!(checked > 0);
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} of {checked} sampled .exp files differ from what CppNix prints now \
             (regenerate with nix-eval/tests/corpus/make_baseline.sh):\n{}",
            stale.len(),
            stale.join("\n")
        )
        .into())
    }
}

#[test]
fn exp_format_and_flags_parse() -> TestResult {
    let o = parse_exp(b"exit: 1\nstdout: 3\na\nb\nstderr: 0\n\n")?;
    assert_eq!(
        o,
        Outcome {
            code: 1,
            stdout: b"a\nb".to_vec(),
            stderr: Vec::new()
        }
    );
    assert!(parse_exp(b"exit: 1\nstdout: 9\nab\n").is_err());
    assert_eq!(
        split_flags(" --strict --arg s '{ a = 7; }' -A x"),
        ["--strict", "--arg", "s", "{ a = 7; }", "-A", "x"]
    );
    assert_eq!(split_flags(""), Vec::<String>::new());
    assert_eq!(replace_all(b"x/c/y/c", b"/c", b"@"), b"x@/y@".to_vec());
    Ok(())
}
