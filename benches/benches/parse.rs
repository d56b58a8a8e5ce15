//! Parser throughput: the nix-eval parser (parse + CppNix's variable check, what
//! `nix-instantiate --parse` does) on a large nixpkgs-flavoured file from
//! `shared/bench/gen_parse_input.py`, beside CppNix 2.8 in the same run (`nix-instantiate
//! --parse FILE` and `nix-instantiate --eval FILE`, whole process, which parse and bind only),
//! with the ratio.
//!
//! Then `target/release/nixrs nix-instantiate --parse|--eval FILE` (when built) as a whole
//! process beside CppNix's, with the ratio.
//!
//! Run: `cargo bench -p nixrs-benches --bench parse` (`NIXRS_BENCH_MB`, default 10;
//! `NIXRS_BENCH_RUNS`, default 5). IDs: `eval/parse/<MB>MB`.
//!
//! The `rnix` crate (rowan-based lossless parser used by nixpkgs-fmt/nil-style tools) parses the
//! same text in the same run: `rnix::Root::parse`, which builds its full syntax tree (no
//! variable check), ID `eval/parse/<MB>MB/rnix`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix_eval::syntax::{parse_and_check, Interner, Origin, ParseOptions, SourceMap};

/// The same allocator as the `nixrs` binary (whose `nix-instantiate --parse` runs this
/// parser), so the library figure is the CLI's; rnix is measured with it too.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn mbps(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e6
}

fn ours(file: &Path, text: &[u8]) -> Result<Duration, String> {
    let mut map = SourceMap::new();
    let id = map.add(Origin::File(file.to_path_buf()), text.to_vec());
    let mut names = Interner::new();
    let base = file.parent().unwrap_or(Path::new("/")).to_path_buf();
    let start = Instant::now();
    let e = parse_and_check(&map, id, &mut names, &ParseOptions::new(base))
        .map_err(|e| e.render(&map))?;
    let t = start.elapsed();
    drop(e);
    Ok(t)
}

/// `rnix::Root::parse` over the same text; fails if rnix reports a syntax error.
fn rnix_parse(text: &str) -> Result<Duration, String> {
    let start = Instant::now();
    let parse = rnix::Root::parse(text);
    let t = start.elapsed();
    if let Some(e) = parse.errors().first() {
        return Err(format!("rnix: {e}"));
    }
    drop(parse);
    Ok(t)
}

fn cppnix(bin: &Path, mode: &str, file: &Path) -> Option<Duration> {
    timed(Command::new(bin).arg(mode).arg(file))
}

/// The wall time of a whole process, output discarded; `None` if it fails.
fn timed(cmd: &mut Command) -> Option<Duration> {
    let start = Instant::now();
    let st = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    let t = start.elapsed();
    st.success().then_some(t)
}

fn main() {
    let mb: usize = std::env::var("NIXRS_BENCH_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let runs: usize = std::env::var("NIXRS_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let dir = testkit::tempdir();
    let file: PathBuf = dir.path().join("big.nix");
    let gen = testkit::shared_dir().join("bench/gen_parse_input.py");
    let ok = Command::new("python3")
        .arg(&gen)
        .arg(mb.to_string())
        .arg(&file)
        .status()
        .map(|s| s.success());
    if ok.ok() != Some(true) {
        eprintln!("SKIP: could not run {} (python3 needed)", gen.display());
        return;
    }
    let text = match std::fs::read(&file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("SKIP: {e}");
            return;
        }
    };
    let mut t_ours = Vec::new();
    for _ in 0..runs {
        match ours(&file, &text) {
            Ok(t) => t_ours.push(t),
            Err(e) => {
                eprintln!("parse failed: {e}");
                return;
            }
        }
    }
    let t_ours = median(t_ours);
    println!(
        "eval/parse/{mb}MB  nix-eval: {:.3} s  {:.1} MB/s",
        t_ours.as_secs_f64(),
        mbps(text.len(), t_ours)
    );
    match std::str::from_utf8(&text) {
        Ok(s) => {
            let times: Result<Vec<Duration>, String> = (0..runs).map(|_| rnix_parse(s)).collect();
            match times {
                Ok(times) => {
                    let t = median(times);
                    println!(
                        "eval/parse/{mb}MB/rnix  rnix 0.12: {:.3} s  {:.1} MB/s  (nix-eval is {:.2}x faster)",
                        t.as_secs_f64(),
                        mbps(text.len(), t),
                        t.as_secs_f64() / t_ours.as_secs_f64()
                    );
                }
                Err(e) => eprintln!("SKIP rnix: {e}"),
            }
        }
        Err(e) => eprintln!("SKIP rnix: input is not UTF-8 ({e})"),
    }
    let bin = std::env::var_os("NIXRS_REFERENCE_BIN")
        .map(|d| PathBuf::from(d).join("nix-instantiate"))
        .unwrap_or_else(|| PathBuf::from("nix-instantiate"));
    // the whole `nixrs nix-instantiate` process beside CppNix's (parse, variable check and
    // lowering for `--eval`; `--parse` also prints the whole tree)
    let nixrs = testkit::workspace_root().join("target/release/nixrs");
    let nixrs = match std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| PathBuf::from(d).join("release/nixrs"))
    {
        Some(p) if p.exists() => p,
        _ => nixrs,
    };
    for mode in ["--parse", "--eval"] {
        let times: Vec<Duration> = (0..runs)
            .filter_map(|_| cppnix(&bin, mode, &file))
            .collect();
        if times.is_empty() {
            eprintln!("SKIP: nix-instantiate {mode} not available");
            continue;
        }
        let t = median(times);
        println!(
            "eval/parse/{mb}MB  CppNix nix-instantiate {mode}: {:.3} s  {:.1} MB/s  (nix-eval is {:.2}x faster)",
            t.as_secs_f64(),
            mbps(text.len(), t),
            t.as_secs_f64() / t_ours.as_secs_f64()
        );
        if !nixrs.exists() {
            eprintln!(
                "SKIP: {} not built (cargo build --release -p nixrs-examples)",
                nixrs.display()
            );
            continue;
        }
        let mine: Vec<Duration> = (0..runs)
            .filter_map(|_| {
                timed(
                    Command::new(&nixrs)
                        .arg("nix-instantiate")
                        .arg(mode)
                        .arg(&file),
                )
            })
            .collect();
        if mine.is_empty() {
            eprintln!("nixrs nix-instantiate {mode} failed");
            continue;
        }
        let m = median(mine);
        println!(
            "eval/parse/{mb}MB  nixrs nix-instantiate {mode}: {:.3} s  {:.1} MB/s  ({:.2}x CppNix's speed, whole process)",
            m.as_secs_f64(),
            mbps(text.len(), m),
            t.as_secs_f64() / m.as_secs_f64()
        );
    }
}
