//! Collection against running processes: runtime roots (`/proc`), adds running in other
//! processes while a collection runs (ours and CppNix's, both ways through `gc.lock` and
//! `gc-socket/socket`), and processes killed in the middle of an add, a collection or a
//! profile switch.
//!
//! Child processes are this test binary run again on [`child`] (selected by the
//! `NIXRS_STORE_CHILD` environment variable), so they use the library directly.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use nix_store::profiles::Profile;
use nix_store::store::local::gc::{GcAction, GcOptions};
use nix_store::store::local::LocalStore;
use nix_store::store::Store;
use nix_store::store_path::StorePath;

use crate::local_store::{cppnix, TestResult};

fn gc(action: GcAction) -> GcOptions {
    GcOptions {
        action,
        ..GcOptions::default()
    }
}

/// Runs this binary's [`child`] test as a child process with `mode` and `root`.
fn spawn_child(mode: &str, root: &Path, stdin: Stdio) -> std::io::Result<Child> {
    Command::new(std::env::current_exe()?)
        .args([
            "--exact",
            "gc_concurrent::child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("NIXRS_STORE_CHILD", mode)
        .env("NIXRS_STORE_ROOT", root)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
}

/// The child side: does nothing unless run by [`spawn_child`].
///
/// * `add`: adds 40 text paths one by one (`add_text`), printing `PATH <full path>` after
///   each, then `DONE`, then waits for its stdin to close (keeping its temp roots).
/// * `add-forever`: adds text paths (one per iteration, each referencing the previous one)
///   until killed.
/// * `gc-forever`: collects garbage until killed.
/// * `switch-forever`: switches `R/profile` between two paths (given in
///   `NIXRS_STORE_TARGETS`) until killed.
#[test]
fn child() -> TestResult {
    let Ok(mode) = std::env::var("NIXRS_STORE_CHILD") else {
        return Ok(());
    };
    let root = std::env::var("NIXRS_STORE_ROOT")?;
    let store = LocalStore::open(&root)?;
    let sd = store.store_dir().clone();
    let mut out = std::io::stdout();
    let tag = std::process::id();
    match mode.as_str() {
        "add" => {
            for i in 0..40 {
                let p = store.add_text(
                    &format!("child-{i}"),
                    format!("{tag} {i}").as_bytes(),
                    &BTreeSet::new(),
                )?;
                writeln!(out, "PATH {}", sd.display(&p))?;
                out.flush()?;
            }
            writeln!(out, "DONE")?;
            out.flush()?;
            let mut rest = String::new();
            let _ = std::io::stdin().read_line(&mut rest);
        }
        "add-forever" => {
            let mut prev: Option<StorePath> = None;
            for i in 0.. {
                let refs: BTreeSet<StorePath> = prev.iter().cloned().collect();
                let body = format!("{tag} {i} {}", "x".repeat(i % 5000));
                prev = Some(store.add_text(&format!("f-{i}"), body.as_bytes(), &refs)?);
            }
        }
        "gc-forever" => loop {
            store.collect_garbage(&gc(GcAction::DeleteDead), &mut |_| {})?;
        },
        "switch-forever" => {
            let targets = std::env::var("NIXRS_STORE_TARGETS")?;
            let targets: Vec<&str> = targets.split(':').collect();
            let profile = Profile::new(Path::new(&root).join("profile"));
            for i in 0.. {
                profile.set(Path::new(targets[i % targets.len()]))?;
            }
        }
        other => return Err(format!("unknown child mode {other}").into()),
    }
    Ok(())
}

/// A store path written by this process, then forgotten (no temp root left).
fn orphan(
    root: &Path,
    name: &str,
    contents: &[u8],
) -> Result<StorePath, Box<dyn std::error::Error>> {
    let store = LocalStore::open(root)?;
    Ok(store.add_text(name, contents, &BTreeSet::new())?)
}

#[test]
fn an_open_file_keeps_its_path_alive() -> TestResult {
    let root = testkit::TempStore::new();
    let p = orphan(root.root(), "held", b"held open\n")?;
    let q = orphan(root.root(), "free", b"not held\n")?;
    let store = LocalStore::open(root.root())?;
    let real = store.real_path(&p);
    let mut holder = Command::new("sleep")
        .arg("30")
        .stdin(std::fs::File::open(&real)?)
        .spawn()?;
    let roots = store.find_roots(&mut |_| {})?;
    let link = format!("/proc/{}/fd/0", holder.id());
    let found = roots.get(&p).is_some_and(|links| links.contains(&link));
    let res = store.collect_garbage(&gc(GcAction::DeleteDead), &mut |_| {});
    let _ = holder.kill();
    holder.wait()?;
    let res = res?;
    assert!(found, "{roots:?}");
    assert!(store.is_valid_path(&p)?);
    assert!(!store.is_valid_path(&q)?);
    assert!(res.paths.contains(&store.store_dir().display(&q)));
    // Once the process is gone the path is garbage.
    store.collect_garbage(&gc(GcAction::DeleteDead), &mut |_| {})?;
    assert!(!store.is_valid_path(&p)?);
    assert!(!real.exists());
    Ok(())
}

#[test]
fn environment_roots_are_listed_as_cppnix_lists_them() -> TestResult {
    let root = testkit::TempStore::new();
    let p = orphan(root.root(), "env-root", b"in the environment\n")?;
    let store = LocalStore::open(root.root())?;
    let full = store.store_dir().display(&p);
    let mut holder = Command::new("sleep")
        .arg("30")
        .env("NIXRS_TEST_ROOT", format!("{full}/bin/x"))
        .spawn()?;
    let mine = format!("/proc/{}/", holder.id());
    let ours: BTreeSet<String> = store
        .find_roots(&mut |_| {})?
        .iter()
        .flat_map(|(p, links)| {
            let shown = store.store_dir().display(p);
            links.iter().map(move |l| format!("{l} -> {shown}"))
        })
        .filter(|l| l.starts_with(&mine))
        .collect();
    let theirs = match testkit::reference("nix-store") {
        Some(bin) => {
            let r = root.root().to_str().ok_or("utf8")?;
            let (code, stdout, stderr) = cppnix(&bin, &["--store", r, "--gc", "--print-roots"])?;
            assert_eq!(code, 0, "{stderr}");
            Some(
                stdout
                    .lines()
                    .filter(|l| l.starts_with(&mine))
                    .map(str::to_string)
                    .collect::<BTreeSet<_>>(),
            )
        }
        None => None,
    };
    let _ = holder.kill();
    holder.wait()?;
    assert_eq!(
        ours,
        BTreeSet::from([format!("/proc/{}/environ -> {full}", holder.id())])
    );
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
    Ok(())
}

/// Reads `PATH …` lines from a child until `DONE`.
fn read_paths(child: &mut Child) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let out = child.stdout.take().ok_or("no stdout")?;
    let mut paths = Vec::new();
    for line in BufReader::new(out).lines() {
        let line = line?;
        // The test harness may print its own text at the start of a line.
        if line.ends_with("DONE") {
            return Ok(paths);
        }
        if let Some(at) = line.find("PATH ") {
            paths.push(line[at + 5..].to_string());
        }
    }
    Err("the child ended before DONE".into())
}

#[test]
fn our_collector_never_deletes_what_another_process_is_adding() -> TestResult {
    let root = testkit::TempStore::new();
    let store = LocalStore::open(root.root())?;
    let mut child = spawn_child("add", root.root(), Stdio::piped())?;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let paths = std::thread::scope(|s| {
        let collector = s.spawn(|| -> Result<usize, String> {
            let mut runs = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                store
                    .collect_garbage(&gc(GcAction::DeleteDead), &mut |_| {})
                    .map_err(|e| e.to_string())?;
                runs += 1;
            }
            Ok(runs)
        });
        let paths = read_paths(&mut child);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let runs = collector.join();
        (paths, runs)
    });
    let (paths, runs) = paths;
    let paths = paths?;
    let runs = runs.map_err(|_| "collector panicked")??;
    assert!(runs > 0);
    assert_eq!(paths.len(), 40);
    // While the child lives, everything it added is valid and intact.
    for p in &paths {
        let sp = store.store_dir().parse_path(p)?;
        assert!(store.is_valid_path(&sp)?, "{p} was collected");
    }
    assert!(store.verify(true, false)?.is_clean());
    drop(child.stdin.take());
    child.wait()?;
    Ok(())
}

#[test]
fn cppnix_adds_during_our_collection_and_our_adds_during_cppnix_collection() -> TestResult {
    let Some(bin) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let src = testkit::tempdir();
    let root = testkit::TempStore::new();
    let r = root.root().to_str().ok_or("utf8")?.to_string();
    let store = LocalStore::open(root.root())?;
    // CppNix adds (it sends its temp roots to our socket when it finds gc.lock taken) while
    // we collect in a loop.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (added, runs) = std::thread::scope(|s| {
        let collector = s.spawn(|| -> Result<usize, String> {
            let mut runs = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                store
                    .collect_garbage(&gc(GcAction::DeleteDead), &mut |_| {})
                    .map_err(|e| e.to_string())?;
                runs += 1;
            }
            Ok(runs)
        });
        let mut added = Vec::new();
        let mut result = Ok(());
        for i in 0..12 {
            let f = src.path().join(format!("c{i}"));
            let r2 = std::fs::write(&f, format!("cpp {i}\n"))
                .map_err(|e| e.to_string())
                .and_then(|()| {
                    cppnix(&bin, &["--store", &r, "--add", f.to_str().unwrap_or("")])
                        .map_err(|e| e.to_string())
                });
            match r2 {
                Ok((0, out, _)) => added.push(out.trim().to_string()),
                Ok((code, _, err)) => {
                    result = Err(format!("nix-store --add failed ({code}): {err}"));
                    break;
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let runs = collector.join();
        (result.map(|()| added), runs)
    });
    let added = added?;
    let runs = runs.map_err(|_| "collector panicked")??;
    assert!(runs > 0);
    assert_eq!(added.len(), 12);
    // Each CppNix add either stayed (valid and intact) or was collected after it ended;
    // never half.
    assert!(store.verify(true, false)?.is_clean());
    let (code, _, err) = cppnix(&bin, &["--store", &r, "--verify", "--check-contents"])?;
    assert_eq!(code, 0, "{err}");
    assert!(
        !err.contains("modified") && !err.contains("disappeared"),
        "{err}"
    );

    // Now CppNix collects in a loop while our child process adds.
    let mut collector = Command::new(&bin)
        .args(["--store", &r, "--gc"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let mut child = spawn_child("add", root.root(), Stdio::piped())?;
    let mut collections = 0;
    let paths = std::thread::scope(|s| {
        let reader = s.spawn(|| read_paths(&mut child).map_err(|e| e.to_string()));
        while !reader.is_finished() {
            if collector.try_wait()?.is_some() {
                collections += 1;
                collector = Command::new(&bin)
                    .args(["--store", &r, "--gc"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()?;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        reader
            .join()
            .map_err(|_| "reader panicked".to_string())
            .and_then(|r| r)
            .map_err(Box::<dyn std::error::Error>::from)
    })?;
    collector.wait()?;
    assert_eq!(paths.len(), 40);
    for p in &paths {
        let sp = store.store_dir().parse_path(p)?;
        assert!(store.is_valid_path(&sp)?, "{p} was collected by CppNix");
    }
    let _ = collections;
    assert!(store.verify(true, false)?.is_clean());
    drop(child.stdin.take());
    child.wait()?;
    Ok(())
}

/// Kills a `mode` child after `ms` milliseconds.
fn kill_child_after(mode: &str, root: &Path, ms: u64, env: &[(&str, &str)]) -> TestResult {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args([
        "--exact",
        "gc_concurrent::child",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("NIXRS_STORE_CHILD", mode)
    .env("NIXRS_STORE_ROOT", root)
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn()?;
    std::thread::sleep(std::time::Duration::from_millis(ms));
    let _ = child.kill();
    child.wait()?;
    Ok(())
}

/// Our verify and CppNix's find nothing wrong.
fn both_verify_clean(root: &Path) -> TestResult {
    let store = LocalStore::open(root)?;
    let report = store.verify(true, false)?;
    assert!(report.is_clean(), "{report:?}");
    drop(store);
    if let Some(bin) = testkit::reference("nix-store") {
        let r = root.to_str().ok_or("utf8")?;
        let (code, _, err) = cppnix(&bin, &["--store", r, "--verify", "--check-contents"])?;
        assert_eq!(code, 0, "{err}");
        assert!(!err.contains("modified"), "{err}");
    }
    Ok(())
}

#[test]
fn processes_killed_mid_add_mid_gc_and_mid_switch_leave_everything_consistent() -> TestResult {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64 | 1)
        .unwrap_or(1);
    eprintln!("kill-delay seed {seed}");
    let mut rng = testkit::Rng(seed);
    let root = testkit::TempStore::new();
    // Mid-add (chains of references, so a half-registered chain would show).
    for _ in 0..4 {
        kill_child_after("add-forever", root.root(), 60 + rng.below(200) as u64, &[])?;
        both_verify_clean(root.root())?;
    }
    // Mid-GC: the adds above left plenty of garbage (their temp roots died with them).
    for _ in 0..4 {
        kill_child_after("gc-forever", root.root(), 30 + rng.below(150) as u64, &[])?;
        both_verify_clean(root.root())?;
        kill_child_after("add-forever", root.root(), 60 + rng.below(100) as u64, &[])?;
    }
    // Mid-switch: the profile always points to a complete generation of a valid path.
    let a = orphan(root.root(), "gen-a", b"a\n")?;
    let b = orphan(root.root(), "gen-b", b"b\n")?;
    let store = LocalStore::open(root.root())?;
    let (fa, fb) = (store.store_dir().display(&a), store.store_dir().display(&b));
    std::os::unix::fs::symlink(&fa, root.root().join("nix/var/nix/gcroots/a"))?;
    std::os::unix::fs::symlink(&fb, root.root().join("nix/var/nix/gcroots/b"))?;
    drop(store);
    let targets = format!("{fa}:{fb}");
    let profile = root.root().join("profile");
    for _ in 0..6 {
        kill_child_after(
            "switch-forever",
            root.root(),
            20 + rng.below(80) as u64,
            &[("NIXRS_STORE_TARGETS", &targets)],
        )?;
        if let Ok(gen) = std::fs::read_link(&profile) {
            let gen = root.root().join(gen);
            let target = std::fs::read_link(&gen)?;
            assert!(
                target == Path::new(&fa) || target == Path::new(&fb),
                "{} -> {}",
                gen.display(),
                target.display()
            );
            let current = Profile::new(&profile).current()?;
            assert!(current.is_some());
        }
        both_verify_clean(root.root())?;
    }
    Ok(())
}

#[test]
fn our_temp_roots_reach_a_running_cppnix_collection_through_its_socket() -> TestResult {
    let Some(bin) = testkit::reference("nix-store") else {
        return Ok(());
    };
    let root = testkit::TempStore::new();
    let x = orphan(root.root(), "rescued", b"x\n")?;
    let y = orphan(root.root(), "collected", b"y\n")?;
    let r = root.root().to_str().ok_or("utf8")?.to_string();
    // CppNix 2.8 waits at `_NIX_TEST_GC_SYNC` (it reads that file) after it has taken
    // gc.lock, started its socket server and read the temp roots.
    let dir = testkit::tempdir();
    let fifo = dir.path().join("sync");
    let st = Command::new("mkfifo").arg(&fifo).status()?;
    assert!(st.success());
    let mut collector = Command::new(&bin)
        .args(["--store", &r, "--gc"])
        .env("_NIX_TEST_GC_SYNC", &fifo)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let socket = root.root().join("nix/var/nix/gc-socket/socket");
    for _ in 0..2000 {
        if socket.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let store = LocalStore::open(root.root())?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        s.spawn(|| {
            let _ = tx.send(store.add_temp_root(&x).map_err(|e| e.to_string()));
        });
        let sent = rx.recv_timeout(std::time::Duration::from_secs(30));
        // Let the collector go on in every case, so nothing hangs.
        let _ = std::fs::write(&fifo, b"go\n");
        sent
    })??;
    let status = collector.wait()?;
    assert!(status.success());
    assert!(
        store.is_valid_path(&x)?,
        "the temp root sent to CppNix was ignored"
    );
    assert!(!store.is_valid_path(&y)?, "the collection did not run");
    Ok(())
}
