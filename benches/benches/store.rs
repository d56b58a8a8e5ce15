//! Local store benchmarks, ours vs CppNix 2.8 on the same stores in the same run:
//!
//! * `store/add/10k-small`: add 10,000 small files as source paths (ours: one
//!   `LocalStore::add_many` batch in one process, what `nixrs nix-store --add` does; CppNix: one
//!   `nix-store --store R --add F1 … F10000`). One timed run each (a second add of the same
//!   files is a no-op), in fresh stores.
//! * `store/add/1k-single`: 1,000 separate `LocalStore::add_path` calls with the default
//!   durability (CppNix's: nothing fsynced); CppNix: one `--add` of 1,000 files.
//! * `store/add/1k-single-full`: the same with `Durability::Full` (fsync of each file and of
//!   the store directory before each registration); compared with the same CppNix run.
//! * `store/query-path-info/100k`: 100,000 path-info queries (ours: `query_path_info` over the
//!   10,000 paths ten times; CppNix: ten `nix-store --store R -q --hash P1 … P10000` runs) on
//!   the store *we* wrote.
//! * `store/closure/10k-chain`: closure + topological order of a chain of 10,000 text paths
//!   (each references the previous one; ours: `closure` + `topo_sort`; CppNix: `nix-store -qR`).
//!
//! Run: `CARGO_TARGET_DIR=target-store2 cargo bench -p nixrs-benches --bench store`; with an
//! argument containing `add` (`… --bench store -- add`) only the add benchmarks run.
//! Ratios (CppNix time / our time, medians) are printed at the end.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::Criterion;
use nix_store::store::local::{AddItem, Durability, LocalStore};
use nix_store::store::{AddOptions, Store};
use nix_store::store_path::StorePath;

const COUNT: usize = 10_000;

static TIMES: Mutex<BTreeMap<String, Vec<Duration>>> = Mutex::new(BTreeMap::new());

fn record(id: &str, d: Duration) {
    if let Ok(mut t) = TIMES.lock() {
        t.entry(id.to_string()).or_default().push(d);
    }
}

fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn cppnix(bin: &Path, args: &[String]) -> Duration {
    let start = Instant::now();
    let st = Command::new(bin)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run nix-store");
    assert!(
        st.success(),
        "nix-store {:?} failed",
        &args[..args.len().min(4)]
    );
    start.elapsed()
}

fn main() {
    let nix_store = testkit::reference("nix-store");
    let src = tempfile::tempdir().expect("tempdir");
    let files: Vec<String> = (0..COUNT)
        .map(|i| {
            let p = src.path().join(format!("f{i}"));
            std::fs::write(&p, format!("small file {i}\n")).expect("write input");
            p.to_string_lossy().into_owned()
        })
        .collect();

    // --- add 10,000 small paths -----------------------------------------------------------
    let ours_root = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(ours_root.path()).expect("open store");
    let none = BTreeSet::new();
    let start = Instant::now();
    let items: Vec<AddItem<'_>> = files
        .iter()
        .map(|f| AddItem::Path {
            name: Path::new(f)
                .file_name()
                .and_then(|n| n.to_str())
                .expect("name"),
            source: Path::new(f),
            options: AddOptions::default(),
            references: &none,
        })
        .collect();
    let paths: Vec<StorePath> = store.add_many(&items).expect("add");
    record("store/add/10k-small/nixrs", start.elapsed());
    if let Some(bin) = &nix_store {
        let theirs_root = tempfile::tempdir().expect("tempdir");
        let args = cppnix_add_args(theirs_root.path(), &files);
        record("store/add/10k-small/cppnix", cppnix(bin, &args));
    }

    // --- 1,000 separate single adds ----------------------------------------------------------
    let single_root = tempfile::tempdir().expect("tempdir");
    let single = LocalStore::open(single_root.path()).expect("open store");
    let start = Instant::now();
    for f in &files[..1000] {
        let name = Path::new(f)
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name");
        single
            .add_path(name, Path::new(f), AddOptions::default(), &none)
            .expect("add");
    }
    record("store/add/1k-single/nixrs", start.elapsed());
    drop(single);
    let full_root = tempfile::tempdir().expect("tempdir");
    let mut full = LocalStore::open(full_root.path()).expect("open store");
    full.set_durability(Durability::Full);
    let start = Instant::now();
    for f in &files[..1000] {
        let name = Path::new(f)
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name");
        full.add_path(name, Path::new(f), AddOptions::default(), &none)
            .expect("add");
    }
    record("store/add/1k-single-full/nixrs", start.elapsed());
    drop(full);
    if let Some(bin) = &nix_store {
        let theirs_root = tempfile::tempdir().expect("tempdir");
        let args = cppnix_add_args(theirs_root.path(), &files[..1000]);
        let t = cppnix(bin, &args);
        record("store/add/1k-single/cppnix", t);
        record("store/add/1k-single-full/cppnix", t);
    }
    let only_add = std::env::args().skip(1).any(|a| a.contains("add"));
    if only_add {
        summary();
        return;
    }

    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();

    // --- 100,000 path-info queries ----------------------------------------------------------
    c.bench_function("store/query-path-info/100k/nixrs", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                for _ in 0..10 {
                    for p in &paths {
                        std::hint::black_box(store.query_path_info(p).expect("query"));
                    }
                }
                let d = start.elapsed();
                record("store/query-path-info/100k/nixrs", d);
                total += d;
            }
            total
        })
    });
    let full: Vec<String> = paths.iter().map(|p| store.store_dir().display(p)).collect();
    if let Some(bin) = &nix_store {
        let mut args = vec![
            "--store".to_string(),
            ours_root.path().to_string_lossy().into_owned(),
            "-q".to_string(),
            "--hash".to_string(),
        ];
        args.extend(full.iter().cloned());
        c.bench_function("store/query-path-info/100k/cppnix", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let d: Duration = (0..10).map(|_| cppnix(bin, &args)).sum();
                    record("store/query-path-info/100k/cppnix", d);
                    total += d;
                }
                total
            })
        });
    }

    // --- closure of a 10,000-path chain ------------------------------------------------------
    // Built in one batch: each text names the previous path, computed ahead.
    let sd = store.store_dir().clone();
    let mut chain: Vec<(String, String, BTreeSet<StorePath>)> = Vec::with_capacity(COUNT);
    let mut prev: Option<StorePath> = None;
    for i in 0..COUNT {
        let refs: BTreeSet<StorePath> = prev.iter().cloned().collect();
        let text = match &prev {
            Some(p) => format!("{i} {}", sd.display(p)),
            None => format!("{i}"),
        };
        let name = format!("chain-{i}");
        let h =
            nix_store::hash::Hash::digest_bytes(nix_store::hash::HashAlgo::Sha256, text.as_bytes());
        prev = Some(sd.make_text_path(&name, &h, &refs).expect("text path"));
        chain.push((name, text, refs));
    }
    let items: Vec<AddItem<'_>> = chain
        .iter()
        .map(|(name, text, refs)| AddItem::Text {
            name,
            contents: text.as_bytes(),
            references: refs,
        })
        .collect();
    let added = store.add_many(&items).expect("add chain");
    let top = added.last().cloned().expect("chain is not empty");
    assert_eq!(Some(&top), prev.as_ref());
    c.bench_function("store/closure/10k-chain/nixrs", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let all = store
                    .closure(&BTreeSet::from([top.clone()]))
                    .expect("closure");
                let sorted = store.topo_sort(&all).expect("sort");
                std::hint::black_box(sorted);
                let d = start.elapsed();
                record("store/closure/10k-chain/nixrs", d);
                total += d;
            }
            total
        })
    });
    if let Some(bin) = &nix_store {
        let args = vec![
            "--store".to_string(),
            ours_root.path().to_string_lossy().into_owned(),
            "-qR".to_string(),
            store.store_dir().display(&top),
        ];
        c.bench_function("store/closure/10k-chain/cppnix", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let d = cppnix(bin, &args);
                    record("store/closure/10k-chain/cppnix", d);
                    total += d;
                }
                total
            })
        });
    }
    c.final_summary();
    summary();
}

fn summary() {
    let times = TIMES.lock().map(|t| t.clone()).unwrap_or_default();
    println!("\nmedians (CppNix / nixrs; > 1 means we are faster):");
    for op in [
        "store/add/10k-small",
        "store/add/1k-single",
        "store/add/1k-single-full",
        "store/query-path-info/100k",
        "store/closure/10k-chain",
    ] {
        let ours = times.get(&format!("{op}/nixrs")).map(|v| median(v));
        let theirs = times.get(&format!("{op}/cppnix")).map(|v| median(v));
        match (ours, theirs) {
            (Some(o), Some(t)) => println!(
                "  {op:<30} nixrs {:>10.1} ms   cppnix {:>10.1} ms   ratio {:.2}",
                o.as_secs_f64() * 1e3,
                t.as_secs_f64() * 1e3,
                t.as_secs_f64() / o.as_secs_f64()
            ),
            (Some(o), None) => println!(
                "  {op:<30} nixrs {:>10.1} ms   (no CppNix)",
                o.as_secs_f64() * 1e3
            ),
            _ => {}
        }
    }
}

/// `nix-store --store ROOT --add FILE…` arguments.
fn cppnix_add_args(root: &Path, files: &[String]) -> Vec<String> {
    let mut args = vec![
        "--store".to_string(),
        root.to_string_lossy().into_owned(),
        "--add".to_string(),
    ];
    args.extend(files.iter().cloned());
    args
}
