//! Real-world instantiation: the nixpkgs-style corpus `nix-eval/tests/realworld/` (about 290
//! top-level derivations, 618 `.drv` files) instantiated by `nixrs nix-instantiate --store ROOT
//! default.nix` and by CppNix 2.8 `nix-instantiate --store ROOT default.nix` in the same run,
//! each into a fresh throwaway store root; then `--eval --strict --json info.nix` (the module
//! system's configuration and the library results, no derivations) by both.
//!
//! Each run is one whole process under `/usr/bin/time -f "%e %U %S %M"`: wall time, user and
//! system CPU time and peak resident memory. The table shows medians and the ratios
//! (CppNix / nixrs for time, nixrs / CppNix for memory), and whether the outputs are equal.
//!
//! Run: `cargo build --release -p nixrs-examples && cargo bench -p nixrs-benches --bench
//! instantiate` (`NIXRS_BENCH_RUNS`, default 5). The store roots are made under `TMPDIR`:
//! `TMPDIR=/dev/shm` keeps them on tmpfs, so the figures show the two programs rather than
//! the disk's latency for creating ~1,300 files (the same for both; on a slow disk it
//! dominates both times). The `nixrs` binary is
//! `$CARGO_TARGET_DIR/release/nixrs` or `target/release/nixrs`.
//! IDs: `eval/instantiate/realworld`, `eval/strict-json/realworld-info` (all of `info.nix`,
//! including the module system's configuration), `eval/strict-json/realworld-packages`
//! (`-A packages info.nix`: the generated package specifications and their dependency
//! closures, no derivations).

use nixrs_benches::{median_f, median_u, nixrs_binary};
use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

/// One measured process run.
#[derive(Debug, Clone)]
struct Sample {
    wall: f64,
    cpu: f64,
    peak_kib: u64,
    ok: bool,
    stdout: Vec<u8>,
}

/// Runs `program args…` in `dir` under `/usr/bin/time`.
fn measure(program: &Path, args: &[OsString], dir: &Path) -> Option<Sample> {
    let o = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%e %U %S %M")
        .arg(program)
        .args(args)
        .current_dir(dir)
        .env("NIX_PATH", "")
        .output()
        .ok()?;
    let stderr = String::from_utf8_lossy(&o.stderr);
    let last = stderr.lines().last()?;
    let f: Vec<&str> = last.split_whitespace().collect();
    if f.len() != 4 {
        return None;
    }
    let wall: f64 = f[0].parse().ok()?;
    let user: f64 = f[1].parse().ok()?;
    let sys: f64 = f[2].parse().ok()?;
    let peak_kib: u64 = f[3].parse().ok()?;
    Some(Sample {
        wall,
        cpu: user + sys,
        peak_kib,
        ok: o.status.success(),
        stdout: o.stdout,
    })
}

/// Runs a command `runs` times; `fresh_store` makes a new store root for each run and passes
/// `--store ROOT` first.
fn series(
    program: &Path,
    pre: &[&str],
    args: &[&str],
    dir: &Path,
    runs: usize,
    fresh_store: bool,
) -> Option<Vec<Sample>> {
    let mut out = Vec::new();
    for _ in 0..runs {
        let store = testkit::TempStore::new();
        let mut a: Vec<OsString> = pre.iter().map(OsString::from).collect();
        if fresh_store {
            a.push("--store".into());
            a.push(store.root().as_os_str().to_owned());
        }
        a.extend(args.iter().map(OsString::from));
        let s = measure(program, &a, dir)?;
        let ok = s.ok;
        out.push(s);
        if !ok {
            break;
        }
    }
    Some(out)
}

struct Summary {
    wall: f64,
    cpu: f64,
    peak_kib: u64,
}

fn summarize(v: &[Sample]) -> Summary {
    Summary {
        wall: median_f(v.iter().map(|s| s.wall).collect()),
        cpu: median_f(v.iter().map(|s| s.cpu).collect()),
        peak_kib: median_u(v.iter().map(|s| s.peak_kib).collect()),
    }
}

fn main() {
    let runs: usize = std::env::var("NIXRS_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5)
        .max(1);
    if !Path::new("/usr/bin/time").exists() {
        eprintln!("SKIP: /usr/bin/time is needed to measure whole processes");
        return;
    }
    let Some(reference) = testkit::reference("nix-instantiate") else {
        return;
    };
    let nixrs = nixrs_binary();
    if !nixrs.exists() {
        eprintln!(
            "SKIP: {} not built (cargo build --release -p nixrs-examples)",
            nixrs.display()
        );
        return;
    }
    let corpus = testkit::workspace_root().join("nix-eval/tests/realworld");

    println!(
        "{:<34} {:>16} {:>16} {:>12} {:>12} {:>9} {:>9} {:>6}",
        "id",
        "nixrs wall/cpu",
        "cppnix wall/cpu",
        "nixrs KiB",
        "cppnix KiB",
        "speedup",
        "mem",
        "same"
    );
    let cases: [(&str, &[&str], bool); 3] = [
        ("eval/instantiate/realworld", &["default.nix"], true),
        (
            "eval/strict-json/realworld-info",
            &["--eval", "--strict", "--json", "info.nix"],
            false,
        ),
        (
            "eval/strict-json/realworld-packages",
            &["--eval", "--strict", "--json", "-A", "packages", "info.nix"],
            false,
        ),
    ];
    for (id, args, fresh_store) in cases {
        let Some(theirs) = series(&reference, &[], args, &corpus, runs, fresh_store) else {
            eprintln!("{id}: could not run {}", reference.display());
            continue;
        };
        let Some(ours) = series(
            &nixrs,
            &["nix-instantiate"],
            args,
            &corpus,
            runs,
            fresh_store,
        ) else {
            eprintln!("{id}: could not run {}", nixrs.display());
            continue;
        };
        if let Some(bad) = ours.iter().find(|s| !s.ok) {
            println!(
                "{id:<34} nixrs failed (exit non-zero); stdout {} bytes",
                bad.stdout.len()
            );
            continue;
        }
        if let Some(bad) = theirs.iter().find(|s| !s.ok) {
            println!(
                "{id:<34} CppNix failed (exit non-zero); stdout {} bytes",
                bad.stdout.len()
            );
            continue;
        }
        let same = ours[0].stdout == theirs[0].stdout;
        let (o, t) = (summarize(&ours), summarize(&theirs));
        println!(
            "{id:<34} {:>7.3}/{:<7.3}s {:>7.3}/{:<7.3}s {:>12} {:>12} {:>8.2}x {:>8.2}x {:>6}",
            o.wall,
            o.cpu,
            t.wall,
            t.cpu,
            o.peak_kib,
            t.peak_kib,
            t.cpu / o.cpu.max(1e-3),
            o.peak_kib as f64 / t.peak_kib.max(1) as f64,
            if same { "yes" } else { "NO" }
        );
    }
    println!("(speedup: CppNix CPU time / nixrs CPU time; mem: nixrs peak / CppNix peak; medians of {runs} runs)");
}
