//! NAR benchmarks: dump, dump+hash and restore of (a) one 1 GiB file and (b) a tree of 10,000
//! files of 100 KiB, through our `nix-nar`, CppNix 2.8 (`nix-store --dump`, `nix-hash`,
//! `nix-store --restore`, timed as processes), the `nix-nar` crate from crates.io, and
//! `openssl dgst -sha256` over the same NAR bytes. Ratios (ours vs each peer, medians) are
//! printed at the end, then the peak memory of our dump measured with `/usr/bin/time -v`.
//!
//! Run: `CARGO_TARGET_DIR=target-nar cargo bench -p nixrs-benches --bench nar`.
//! The inputs (about 2 GiB, plus 2 GiB of NARs) are generated once under
//! `$NIXRS_BENCH_DIR` (default: the temporary directory) and reused.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput};

const GIB: u64 = 1 << 30;
const SMALL: usize = 100 * 1024;
const COUNT: usize = 10_000;

/// Every timed iteration, by benchmark id (for the ratios).
static TIMES: Mutex<BTreeMap<String, Vec<Duration>>> = Mutex::new(BTreeMap::new());

fn record(id: &str, d: Duration) {
    if let Ok(mut t) = TIMES.lock() {
        t.entry(id.to_string()).or_default().push(d);
    }
}

/// Deterministic filler (xorshift), so the data does not compress or dedupe.
fn fill(buf: &mut [u8], seed: &mut u64) {
    for chunk in buf.chunks_mut(8) {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        let b = seed.to_le_bytes();
        chunk.copy_from_slice(&b[..chunk.len()]);
    }
}

struct Inputs {
    dir: PathBuf,
    big: PathBuf,
    tree: PathBuf,
}

fn inputs() -> io::Result<Inputs> {
    let base = std::env::var_os("NIXRS_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join("nixrs-nar-bench");
    let big = base.join("1GiB-file");
    let tree = base.join("10k-files");
    let done = base.join(".complete");
    if !done.exists() {
        let _ = fs::remove_dir_all(&base);
        fs::create_dir_all(&tree)?;
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut f = io::BufWriter::with_capacity(1 << 20, fs::File::create(&big)?);
        let mut buf = vec![0u8; 1 << 20];
        for _ in 0..(GIB >> 20) {
            fill(&mut buf, &mut seed);
            f.write_all(&buf)?;
        }
        f.flush()?;
        let mut buf = vec![0u8; SMALL];
        for i in 0..COUNT {
            let sub = tree.join(format!("d{:03}", i / 100));
            if i % 100 == 0 {
                fs::create_dir(&sub)?;
            }
            fill(&mut buf, &mut seed);
            fs::write(sub.join(format!("f{i:05}")), &buf)?;
        }
        fs::write(&done, b"")?;
    }
    Ok(Inputs {
        dir: base,
        big,
        tree,
    })
}

fn run_quiet(cmd: &mut Command) {
    let st = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("start peer process");
    assert!(st.success(), "peer failed: {cmd:?}");
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Times `f` once per iteration and records each duration under `id`.
fn timed(b: &mut criterion::Bencher<'_>, id: &str, mut f: impl FnMut()) {
    b.iter_custom(|iters| {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let t = Instant::now();
            f();
            let d = t.elapsed();
            record(id, d);
            total += d;
        }
        total
    });
}

/// Like [`timed`] with an untimed set-up and tear-down around each iteration.
fn timed_with(
    b: &mut criterion::Bencher<'_>,
    id: &str,
    mut setup: impl FnMut(),
    mut f: impl FnMut(),
) {
    b.iter_custom(|iters| {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            setup();
            let t = Instant::now();
            f();
            let d = t.elapsed();
            record(id, d);
            total += d;
        }
        setup();
        total
    });
}

fn bench(c: &mut Criterion, inp: &Inputs) {
    let nix_store = which("nix-store");
    let nix_hash = which("nix-hash");
    let openssl = which("openssl");
    for (label, path) in [("1GiB-file", &inp.big), ("10k-files-100KiB", &inp.tree)] {
        let nar_file = inp.dir.join(format!("{label}.nar"));
        if !nar_file.exists() {
            let f = io::BufWriter::new(fs::File::create(&nar_file).expect("create NAR"));
            nix_nar::dump_path(path, f).expect("dump");
        }
        let size = fs::metadata(&nar_file).expect("NAR").len();

        let mut g = c.benchmark_group("nar/dump");
        g.sampling_mode(SamplingMode::Flat);
        g.throughput(Throughput::Bytes(size));
        g.bench_function(label, |b| {
            timed(b, &format!("dump/{label}/ours"), || {
                nix_nar::dump_path(path, io::sink()).expect("dump");
            })
        });
        g.bench_function(format!("{label}/crates-io-nix-nar"), |b| {
            timed(b, &format!("dump/{label}/crates-io-nix-nar"), || {
                let mut enc = nix_nar_crates::Encoder::new(path).expect("encoder");
                io::copy(&mut enc, &mut io::sink()).expect("encode");
            })
        });
        if let Some(ns) = &nix_store {
            g.bench_function(format!("{label}/cppnix"), |b| {
                timed(b, &format!("dump/{label}/cppnix"), || {
                    run_quiet(Command::new(ns).arg("--dump").arg(path))
                })
            });
        }
        g.finish();

        let mut g = c.benchmark_group("nar/dump-hash");
        g.sampling_mode(SamplingMode::Flat);
        g.throughput(Throughput::Bytes(size));
        g.bench_function(label, |b| {
            timed(b, &format!("hash/{label}/ours"), || {
                nix_nar::hash::dump_and_hash(path).expect("hash");
            })
        });
        if let Some(nh) = &nix_hash {
            g.bench_function(format!("{label}/cppnix"), |b| {
                timed(b, &format!("hash/{label}/cppnix"), || {
                    run_quiet(Command::new(nh).args(["--type", "sha256"]).arg(path))
                })
            });
        }
        if let Some(o) = &openssl {
            g.bench_function(format!("{label}/openssl-dgst-of-nar"), |b| {
                timed(b, &format!("hash/{label}/openssl"), || {
                    run_quiet(Command::new(o).args(["dgst", "-sha256"]).arg(&nar_file))
                })
            });
        }
        g.finish();

        let target = inp.dir.join("restored");
        let clean = || {
            let _ = fs::remove_dir_all(&target);
            let _ = fs::remove_file(&target);
        };
        let mut g = c.benchmark_group("nar/restore");
        g.sampling_mode(SamplingMode::Flat);
        g.throughput(Throughput::Bytes(size));
        g.bench_function(label, |b| {
            timed_with(b, &format!("restore/{label}/ours"), clean, || {
                let f =
                    BufReader::with_capacity(256 * 1024, fs::File::open(&nar_file).expect("NAR"));
                nix_nar::restore::restore(f, &target, &Default::default()).expect("restore");
            })
        });
        g.bench_function(format!("{label}/crates-io-nix-nar"), |b| {
            timed_with(
                b,
                &format!("restore/{label}/crates-io-nix-nar"),
                clean,
                || {
                    let f = BufReader::new(fs::File::open(&nar_file).expect("NAR"));
                    nix_nar_crates::Decoder::new(f)
                        .expect("decoder")
                        .unpack(&target)
                        .expect("unpack");
                },
            )
        });
        if let Some(ns) = &nix_store {
            g.bench_function(format!("{label}/cppnix"), |b| {
                timed_with(b, &format!("restore/{label}/cppnix"), clean, || {
                    let f = fs::File::open(&nar_file).expect("NAR");
                    let st = Command::new(ns)
                        .arg("--restore")
                        .arg(&target)
                        .stdin(f)
                        .status()
                        .expect("nix-store");
                    assert!(st.success());
                })
            });
        }
        g.finish();
    }
}

fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v[v.len() / 2]
}

fn print_ratios() {
    let Ok(t) = TIMES.lock() else { return };
    println!(
        "\n== ratios (median time of ours / median time of peer; < 1 means ours is faster) =="
    );
    for (id, times) in t.iter() {
        if !id.ends_with("/ours") {
            continue;
        }
        let prefix = id.trim_end_matches("ours");
        let ours = median(times);
        for (peer_id, peer_times) in t.range(prefix.to_string()..) {
            if !peer_id.starts_with(prefix) {
                break;
            }
            if peer_id == id {
                continue;
            }
            let peer = median(peer_times);
            println!(
                "{:<45} ours {:>9.3?}  {:<22} {:>9.3?}  ratio {:.3}",
                prefix.trim_end_matches('/'),
                ours,
                &peer_id[prefix.len()..],
                peer,
                ours.as_secs_f64() / peer.as_secs_f64()
            );
        }
    }
}

/// Peak resident memory of dumping `path` to /dev/null, in a child process of this binary.
fn peak_memory(path: &Path) {
    let Some(time) = which("time").or_else(|| {
        let p = PathBuf::from("/usr/bin/time");
        p.is_file().then_some(p)
    }) else {
        println!("peak memory: /usr/bin/time not found (apt-get install time)");
        return;
    };
    let Ok(me) = std::env::current_exe() else {
        return;
    };
    let out = Command::new(time)
        .arg("-v")
        .arg(me)
        .env("NIXRS_NAR_BENCH_DUMP", path)
        .stdout(Stdio::null())
        .output()
        .expect("run /usr/bin/time");
    let text = String::from_utf8_lossy(&out.stderr);
    for line in text.lines() {
        if line.contains("Maximum resident set size") {
            println!(
                "peak memory of our dump of {}: {}",
                path.display(),
                line.trim()
            );
        }
    }
}

fn main() {
    if let Some(p) = std::env::var_os("NIXRS_NAR_BENCH_DUMP") {
        let out = io::stdout();
        nix_nar::dump_path(Path::new(&p), out.lock()).expect("dump");
        return;
    }
    let inp = inputs().expect("generate benchmark inputs");
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    bench(&mut c, &inp);
    c.final_summary();
    print_ratios();
    peak_memory(&inp.big);
    peak_memory(&inp.tree);
}
