//! Build scheduling overhead (issue #5): a diamond-shaped graph of trivial derivations
//! (`nix-derivation/tests/fixtures/bench/diamond.nix`: LAYERS layers of WIDTH busybox
//! derivations, each depending on 3 of the layer before, plus one top derivation needing the
//! last layer) realised by CppNix 2.8 `nix-store -r` and by nixrs in the same run, each in a
//! fresh store root.
//!
//! Per run and case, every peer gets its own fresh store root, into which a directory holding
//! the static `/bin/busybox` (and `bin/sh` → `busybox`) is added with CppNix `nix-store --add`
//! and the graph is instantiated with CppNix `nix-instantiate`, so all peers build the same
//! graph (the same `.drv` files where the store directory is the same). Then the top is
//! realised (this alone is timed) by:
//!
//! * `cppnix`: `nix-store --store S -r TOP -j JOBS -Q --option build-users-group ''
//!   --option substituters '' --option sandbox false|true`;
//! * `nixrs-lib`: `nix_derivation::build::realise::realise` called directly, in a child process
//!   (this bench binary run again with `NIXRS_BENCH_BUILD_CHILD` set) so that its wall time and
//!   peak memory are measured the same way as the others';
//! * `nixrs-cli`: `nixrs nix-store --store S -r TOP -j JOBS -Q --option sandbox …`, if the
//!   release `nixrs` binary is built.
//!
//! After the first run of each case, CppNix's `nix-store --verify --check-contents` checks the
//! stores the nixrs peers built (not timed; printed as a note).
//!
//! Each is one process under `/usr/bin/time -f "%e %U %S %M"`: wall time, user + system CPU time
//! (of the process and its waited-for children, so including the builders) and peak resident
//! memory of the largest process (the scheduler, not the builders: busybox is small).
//!
//! Cases:
//! * `drv/realise/diamond-nosandbox`: `NIXRS_BENCH_LAYERS` (default 100) layers, so 2,001
//!   derivations, without the sandbox, in non-diverted roots
//!   (`local?store=R/nix/store&state=R/nix/var/nix&log=R/nix/var/log/nix`, CppNix's spelling;
//!   ours [`LocalStore::open_with_store_dir`]), where a builder can run without a sandbox;
//! * `drv/realise/diamond-sandbox`: `NIXRS_BENCH_SANDBOX_LAYERS` (default 10) layers, so 201
//!   derivations, with the sandbox (CppNix `--option sandbox true`, ours
//!   [`SandboxMode::Enabled`]) in diverted roots (`--store R`), where the `.drv` files and the
//!   output paths are the same for every peer; the bench checks that they are.
//!
//! `NIXRS_BENCH_JOBS` (default 2) is `-j`/`max_jobs`, `NIXRS_BENCH_WIDTH` (default 20) the
//! width, `NIXRS_BENCH_RUNS` (default 1) the number of runs (medians are printed). 0 layers
//! skips a case. A tiny run: `NIXRS_BENCH_LAYERS=2 NIXRS_BENCH_SANDBOX_LAYERS=1
//! NIXRS_BENCH_WIDTH=3 cargo bench -p nixrs-benches --bench build`.
//!
//! Run: `cargo build --release -p nixrs-examples --bin nixrs && cargo bench -p nixrs-benches
//! --bench build`. The `nixrs` binary is `$CARGO_TARGET_DIR/release/nixrs` or
//! `target/release/nixrs`; without it the `nixrs-cli` column is left out.

use nixrs_benches::{median_f, median_u, nixrs_binary};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix_derivation::build::realise::{realise, RealiseOptions, SandboxMode};
use nix_derivation::store::store::local::LocalStore;
use nix_derivation::store::store::Store;
use nix_derivation::store::store_path::StoreDir;

/// The environment variable that makes this binary the `nixrs-lib` peer: its value is
/// `ROOT`, and the arguments are `DIVERTED(0|1) JOBS SANDBOX(0|1) TOP.drv`.
const CHILD_VAR: &str = "NIXRS_BENCH_BUILD_CHILD";

/// One measured process run.
#[derive(Debug, Clone)]
struct Sample {
    wall: f64,
    cpu: f64,
    peak_kib: u64,
    ok: bool,
    stdout: String,
    stderr_tail: String,
}

/// Runs `cmd` under `/usr/bin/time` (`cmd`'s program and arguments are moved behind it).
fn measure(program: &Path, args: &[OsString], envs: &[(&str, OsString)]) -> Option<Sample> {
    let mut c = Command::new("/usr/bin/time");
    c.arg("-f").arg("%e %U %S %M").arg(program).args(args);
    for (k, v) in envs {
        c.env(k, v);
    }
    let o = c.output().ok()?;
    let stderr = String::from_utf8_lossy(&o.stderr);
    let last = stderr.lines().last()?;
    let f: Vec<&str> = last.split_whitespace().collect();
    if f.len() != 4 {
        return None;
    }
    let tail: Vec<&str> = stderr.lines().rev().skip(1).take(5).collect();
    Some(Sample {
        wall: f[0].parse().ok()?,
        cpu: f[1].parse::<f64>().ok()? + f[2].parse::<f64>().ok()?,
        peak_kib: f[3].parse().ok()?,
        ok: o.status.success(),
        stdout: String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        stderr_tail: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
    })
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// A fresh store root with busybox added and the diamond graph instantiated.
struct Prepared {
    /// Removed (after making it writable) on drop.
    store: testkit::TempStore,
    /// `--store` argument.
    spec: OsString,
    /// The top `.drv` path as CppNix printed it.
    top: String,
    /// How many `.drv` files the store holds.
    drvs: usize,
}

impl Drop for Prepared {
    fn drop(&mut self) {
        // The busybox directory is read-only (0555); make everything writable so the
        // temporary root can be removed.
        let _ = Command::new("chmod")
            .arg("-R")
            .arg("u+w")
            .arg(self.store.root())
            .status();
    }
}

/// The `--store` argument for `root`: diverted (`R`) or not (`local?store=R/nix/store&…`).
fn store_spec(root: &Path, diverted: bool) -> OsString {
    if diverted {
        return root.as_os_str().to_owned();
    }
    let r = root.display();
    format!("local?store={r}/nix/store&state={r}/nix/var/nix&log={r}/nix/var/log/nix").into()
}

struct Tools {
    nix_store: PathBuf,
    nix_instantiate: PathBuf,
    fixture: PathBuf,
    /// A directory with `bin/busybox` and `bin/sh` to add to each store.
    busybox_dir: PathBuf,
}

/// Runs `cmd`; its standard output, trimmed, or why it failed.
fn stdout_of(cmd: &mut Command, what: &str) -> Result<String, String> {
    let o = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&o.stdout).trim().to_owned())
}

fn prepare(tools: &Tools, diverted: bool, layers: usize, width: usize) -> Result<Prepared, String> {
    let store = testkit::TempStore::new();
    let spec = store_spec(store.root(), diverted);
    let mut add = Command::new(&tools.nix_store);
    add.arg("--store")
        .arg(&spec)
        .arg("--add")
        .arg(&tools.busybox_dir);
    let bb = stdout_of(&mut add, "nix-store --add")?;
    let mut inst = Command::new(&tools.nix_instantiate);
    inst.arg("--store")
        .arg(&spec)
        .arg(&tools.fixture)
        .args(["--argstr", "bb", &bb])
        .args(["--arg", "layers", &layers.to_string()])
        .args(["--arg", "width", &width.to_string()])
        .env("NIX_PATH", "");
    let top = stdout_of(&mut inst, "nix-instantiate")?;
    let drvs = std::fs::read_dir(store.real_store_dir())
        .map_err(|e| format!("reading the store: {e}"))?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".drv"))
        .count();
    Ok(Prepared {
        store,
        spec,
        top,
        drvs,
    })
}

/// The `nixrs-lib` peer, run in a child process: realises `TOP` in `ROOT`; prints the top's
/// output path.
fn child(root: &str) -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [diverted, jobs, sandbox, top] = args.as_slice() else {
        return Err(format!("child: expected 4 arguments, got {args:?}"));
    };
    let store = if diverted == "1" {
        LocalStore::open(root)
    } else {
        let dir = StoreDir::new(format!("{root}/nix/store")).map_err(|e| e.to_string())?;
        LocalStore::open_with_store_dir(root, dir)
    }
    .map_err(|e| e.to_string())?;
    let top = store
        .store_dir()
        .parse_path(top)
        .map_err(|e| e.to_string())?;
    let options = RealiseOptions {
        max_jobs: jobs.parse().map_err(|_| format!("bad jobs {jobs}"))?,
        sandbox: if sandbox == "1" {
            SandboxMode::Enabled
        } else {
            SandboxMode::Disabled
        },
        build_dir_parent: std::env::temp_dir(),
        ..RealiseOptions::default()
    };
    let built = realise(&store, std::slice::from_ref(&top), &options).map_err(|e| e.to_string())?;
    for path in built.get(&top).into_iter().flat_map(|o| o.values()) {
        println!("{}", store.store_dir().display(path));
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Peer {
    CppNix,
    Lib,
    Cli,
}

impl Peer {
    fn name(self) -> &'static str {
        match self {
            Peer::CppNix => "cppnix",
            Peer::Lib => "nixrs-lib",
            Peer::Cli => "nixrs-cli",
        }
    }
}

/// Realises the prepared graph with `peer`, measured.
fn run_peer(
    peer: Peer,
    tools: &Tools,
    nixrs: &Path,
    p: &Prepared,
    diverted: bool,
    jobs: usize,
    sandbox: bool,
) -> Option<Sample> {
    let sandbox_opt = if sandbox { "true" } else { "false" };
    let common = |a: &mut Vec<OsString>| {
        a.extend([
            "--store".into(),
            p.spec.clone(),
            "-r".into(),
            (&p.top).into(),
        ]);
        a.extend(["-j".into(), jobs.to_string().into(), "-Q".into()]);
        a.extend(["--option".into(), "sandbox".into(), sandbox_opt.into()]);
    };
    match peer {
        Peer::CppNix => {
            let mut a = Vec::new();
            common(&mut a);
            for (k, v) in [("build-users-group", ""), ("substituters", "")] {
                a.extend(["--option".into(), k.into(), v.into()]);
            }
            measure(&tools.nix_store, &a, &[])
        }
        Peer::Cli => {
            let mut a: Vec<OsString> = vec!["nix-store".into()];
            common(&mut a);
            measure(nixrs, &a, &[])
        }
        Peer::Lib => {
            let me = std::env::current_exe().ok()?;
            let a: Vec<OsString> = vec![
                if diverted { "1" } else { "0" }.into(),
                jobs.to_string().into(),
                if sandbox { "1" } else { "0" }.into(),
                (&p.top).into(),
            ];
            measure(
                &me,
                &a,
                &[(CHILD_VAR, p.store.root().as_os_str().to_owned())],
            )
        }
    }
}

/// Whether the top output `path` exists in `p`'s store.
fn output_exists(p: &Prepared, diverted: bool, path: &str) -> bool {
    if path.is_empty() {
        return false;
    }
    if diverted {
        p.store.root().join(path.trim_start_matches('/')).exists()
    } else {
        Path::new(path).exists()
    }
}

struct Case {
    id: &'static str,
    layers: usize,
    diverted: bool,
    sandbox: bool,
}

fn run_case(
    tools: &Tools,
    nixrs: Option<&Path>,
    case: &Case,
    width: usize,
    jobs: usize,
    runs: usize,
) {
    let drvs = case.layers * width + 1;
    let mut peers = vec![Peer::CppNix, Peer::Lib];
    if nixrs.is_some() {
        peers.push(Peer::Cli);
    }
    let nixrs = nixrs.unwrap_or(Path::new("nixrs"));
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); peers.len()];
    let mut failed = vec![false; peers.len()];
    let mut notes: Vec<String> = Vec::new();
    for run in 0..runs {
        let mut tops: Vec<(Peer, String, String)> = Vec::new();
        for (k, &peer) in peers.iter().enumerate() {
            if failed[k] {
                continue;
            }
            let p = match prepare(tools, case.diverted, case.layers, width) {
                Ok(p) => p,
                Err(e) => {
                    println!("{}: preparing the store failed: {e}", case.id);
                    return;
                }
            };
            if p.drvs != drvs {
                notes.push(format!(
                    "{}: {} .drv files instead of {drvs}",
                    peer.name(),
                    p.drvs
                ));
            }
            let Some(s) = run_peer(peer, tools, nixrs, &p, case.diverted, jobs, case.sandbox)
            else {
                notes.push(format!("{}: could not run", peer.name()));
                failed[k] = true;
                continue;
            };
            let out = s.stdout.lines().last().unwrap_or("").to_owned();
            if !s.ok || !output_exists(&p, case.diverted, &out) {
                notes.push(format!("{} failed:\n{}", peer.name(), s.stderr_tail));
                failed[k] = true;
                continue;
            }
            // Once per case, CppNix checks the store each nixrs peer built (not timed).
            if run == 0 && peer != Peer::CppNix {
                let mut verify = Command::new(&tools.nix_store);
                verify
                    .arg("--store")
                    .arg(&p.spec)
                    .args(["--verify", "--check-contents"]);
                match stdout_of(&mut verify, "nix-store --verify --check-contents") {
                    Ok(_) => notes.push(format!(
                        "{}: CppNix's nix-store --verify --check-contents accepts its store",
                        peer.name()
                    )),
                    Err(e) => notes.push(format!("{}: {e}", peer.name())),
                }
            }
            tops.push((peer, p.top.clone(), out));
            samples[k].push(s);
        }
        // In diverted roots every peer builds the same `.drv` files to the same paths.
        if case.diverted {
            if let Some((_, drv0, out0)) = tops.first() {
                for (peer, drv, out) in &tops[1..] {
                    if drv != drv0 || out != out0 {
                        notes.push(format!(
                            "{}: top {drv} -> {out} differs from {drv0} -> {out0}",
                            peer.name()
                        ));
                    }
                }
            }
        }
    }
    let base = samples[0]
        .first()
        .map(|_| median_f(samples[0].iter().map(|s| s.wall).collect()));
    for (k, peer) in peers.iter().enumerate() {
        let v = &samples[k];
        if v.is_empty() {
            println!("{:<32} {:<10} no successful run", case.id, peer.name());
            continue;
        }
        let wall = median_f(v.iter().map(|s| s.wall).collect());
        let cpu = median_f(v.iter().map(|s| s.cpu).collect());
        let peak = median_u(v.iter().map(|s| s.peak_kib).collect());
        let ratio = match base {
            Some(b) => format!("{:>8.2}x", b / wall.max(1e-3)),
            None => format!("{:>9}", "-"),
        };
        println!(
            "{:<32} {:<10} {:>6} {:>9.2} {:>9.2} {:>10} {ratio}",
            case.id,
            peer.name(),
            drvs,
            wall,
            cpu,
            peak
        );
    }
    for n in notes {
        println!("  note: {n}");
    }
}

fn main() {
    if let Some(root) = std::env::var_os(CHILD_VAR) {
        if let Err(e) = child(&root.to_string_lossy()) {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
        return;
    }
    let runs = env_usize("NIXRS_BENCH_RUNS", 1).max(1);
    let jobs = env_usize("NIXRS_BENCH_JOBS", 2).max(1);
    let width = env_usize("NIXRS_BENCH_WIDTH", 20).max(1);
    let layers = env_usize("NIXRS_BENCH_LAYERS", 100);
    let sandbox_layers = env_usize("NIXRS_BENCH_SANDBOX_LAYERS", 10);
    if !Path::new("/usr/bin/time").exists() {
        eprintln!("SKIP: /usr/bin/time is needed to measure whole processes");
        return;
    }
    if !testkit::have_busybox() {
        return;
    }
    let Some(nix_store) = testkit::reference("nix-store") else {
        return;
    };
    let Some(nix_instantiate) = testkit::reference("nix-instantiate") else {
        return;
    };
    let work = testkit::tempdir();
    let busybox_dir = work.path().join("busybox");
    let made = testkit::busybox_tree(&busybox_dir);
    if let Err(e) = made {
        eprintln!("cannot set up busybox in {}: {e}", work.path().display());
        return;
    }
    let tools = Tools {
        nix_store,
        nix_instantiate,
        fixture: testkit::workspace_root().join("nix-derivation/tests/fixtures/bench/diamond.nix"),
        busybox_dir,
    };
    let nixrs = nixrs_binary();
    let nixrs = if nixrs.exists() {
        Some(nixrs)
    } else {
        eprintln!(
            "note: {} not built (cargo build --release -p nixrs-examples --bin nixrs): no nixrs-cli column",
            nixrs.display()
        );
        None
    };
    // The machine's load, to put beside the figures.
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average before: {}", load.trim());
    }
    println!(
        "{:<32} {:<10} {:>6} {:>9} {:>9} {:>10} {:>9}",
        "id", "peer", "drvs", "wall s", "cpu s", "peak KiB", "speedup"
    );
    let cases = [
        Case {
            id: "drv/realise/diamond-nosandbox",
            layers,
            diverted: false,
            sandbox: false,
        },
        Case {
            id: "drv/realise/diamond-sandbox",
            layers: sandbox_layers,
            diverted: true,
            sandbox: true,
        },
    ];
    for case in &cases {
        if case.layers == 0 {
            continue;
        }
        run_case(&tools, nixrs.as_deref(), case, width, jobs, runs);
    }
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average after: {}", load.trim());
    }
    println!(
        "(-j {jobs}; medians of {runs} run(s), each peer in its own fresh store; speedup: CppNix wall / peer wall; \
         cpu includes the builders; peak: the largest process)"
    );
}
