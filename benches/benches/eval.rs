//! Evaluator benchmarks: each `shared/bench/eval/*.nix` through the nix-eval library
//! (parse, evaluate, force deeply, print) beside `nix-instantiate --eval --strict FILE` (whole
//! process) in the same run, with the time ratio; then the peak memory of
//! `target/release/nixrs nix-instantiate --eval --strict FILE` and of CppNix under
//! `/usr/bin/time -f %M` when both are available.
//!
//! Run: `cargo bench -p nixrs-benches --bench eval` (set `NIXRS_BENCH_RUNS`, default 3).
//! IDs: `eval/strict/<name>`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The same allocator as the `nixrs` binary, so the library figures match the CLI's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ours(file: &Path) -> Result<(Duration, String), String> {
    let start = Instant::now();
    let mut ev = nix_eval::Evaluator::builder().build();
    let out = ev.with_big_stack(|ev| -> Result<String, String> {
        let v = ev.eval_file(file).map_err(|e| ev.render_error(&e))?;
        let v = ev.force_deep(&v).map_err(|e| ev.render_error(&e))?;
        Ok(ev.print(&v))
    })?;
    Ok((start.elapsed(), out))
}

fn cppnix(bin: &Path, file: &Path) -> Option<(Duration, String)> {
    let start = Instant::now();
    let o = Command::new(bin)
        .args(["--eval", "--strict"])
        .arg(file)
        .output()
        .ok()?;
    let t = start.elapsed();
    Some((t, String::from_utf8_lossy(&o.stdout).trim_end().to_string()))
}

fn peak_kib(cmd: &[&std::ffi::OsStr]) -> Option<u64> {
    let time = Path::new("/usr/bin/time");
    if !time.exists() {
        return None;
    }
    let o = Command::new(time)
        .arg("-f")
        .arg("%M")
        .args(cmd)
        .output()
        .ok()?;
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .last()?
        .trim()
        .parse()
        .ok()
}

fn main() {
    let dir = testkit::shared_dir().join("bench/eval");
    let runs: usize = std::env::var("NIXRS_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .max(1);
    let reference = testkit::reference("nix-instantiate");
    let nixrs = testkit::workspace_root().join("target/release/nixrs");
    let nixrs_alt =
        std::env::var_os("CARGO_TARGET_DIR").map(|d| PathBuf::from(d).join("release/nixrs"));
    let nixrs = match nixrs_alt {
        Some(p) if p.exists() => p,
        _ => nixrs,
    };
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "nix"))
            .collect(),
        Err(e) => {
            eprintln!("cannot read {}: {e}", dir.display());
            return;
        }
    };
    files.sort();
    println!(
        "{:<28} {:>10} {:>10} {:>8} {:>10} {:>10}",
        "id", "nixrs", "cppnix", "ratio", "nixrs KiB", "cppnix KiB"
    );
    for f in files {
        let name = f
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut ts = Vec::new();
        let mut our_out = String::new();
        for _ in 0..runs {
            match ours(&f) {
                Ok((t, out)) => {
                    ts.push(t);
                    our_out = out;
                }
                Err(e) => {
                    eprintln!("eval/strict/{name}: {e}");
                    break;
                }
            }
        }
        if ts.is_empty() {
            continue;
        }
        let t_ours = median(ts);
        let (t_ref, same) = match &reference {
            Some(bin) => {
                let mut v = Vec::new();
                let mut out = String::new();
                for _ in 0..runs {
                    if let Some((t, o)) = cppnix(bin, &f) {
                        v.push(t);
                        out = o;
                    }
                }
                if v.is_empty() {
                    (None, true)
                } else {
                    (Some(median(v)), out == our_out)
                }
            }
            None => (None, true),
        };
        let m_ours = if nixrs.exists() {
            peak_kib(&[
                nixrs.as_os_str(),
                "nix-instantiate".as_ref(),
                "--eval".as_ref(),
                "--strict".as_ref(),
                f.as_os_str(),
            ])
        } else {
            None
        };
        let m_ref = reference.as_ref().and_then(|bin| {
            peak_kib(&[
                bin.as_os_str(),
                "--eval".as_ref(),
                "--strict".as_ref(),
                f.as_os_str(),
            ])
        });
        let fmt_t =
            |t: Option<Duration>| t.map_or("-".to_string(), |t| format!("{:.3}s", t.as_secs_f64()));
        let fmt_m = |m: Option<u64>| m.map_or("-".to_string(), |m| m.to_string());
        let ratio = t_ref.map_or("-".to_string(), |r| {
            format!("{:.2}x", t_ours.as_secs_f64() / r.as_secs_f64())
        });
        println!(
            "{:<28} {:>10} {:>10} {:>8} {:>10} {:>10}{}",
            format!("eval/strict/{name}"),
            fmt_t(Some(t_ours)),
            fmt_t(t_ref),
            ratio,
            fmt_m(m_ours),
            fmt_m(m_ref),
            if same { "" } else { "  OUTPUT DIFFERS" }
        );
    }
}
