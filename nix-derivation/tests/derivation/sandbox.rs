//! The namespace sandbox: what the builder sees, networking, a store at a non-`/` root,
//! failures. Builds use the static busybox added to a throwaway local store.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use nix_derivation::build::builder::{plan, BuildError, BuildOptions, ExitKind};
use nix_derivation::build::sandbox::{self, SandboxSpec, SANDBOX_BUILD_DIR};
use nix_derivation::hash_modulo::{DrvHashCache, NoInputs};
use nix_derivation::outputs::fill_outputs;
use nix_derivation::store::hash::{Hash, HashAlgo};
use nix_derivation::store::store::local::LocalStore;
use nix_derivation::store::store::{AddOptions, Store};
use nix_derivation::store::store_path::{StoreDir, StorePath};
use nix_derivation::{Derivation, DerivationOutput, FileIngestionMethod};

use crate::common::TestResult;

/// A store at a throwaway root (logical `/nix/store`) holding busybox, or `None` (with a
/// SKIP message) when the sandbox or busybox is unavailable here.
struct Fixture {
    _tmp: Box<dyn std::any::Any>,
    root: PathBuf,
    store_dir: StoreDir,
    real_store_dir: PathBuf,
    busybox: StorePath,
}

fn fixture() -> Result<Option<Fixture>, Box<dyn std::error::Error>> {
    if let Err(e) = sandbox::available() {
        eprintln!("SKIP: {e}");
        return Ok(None);
    }
    if !testkit::have_busybox() {
        return Ok(None);
    }
    let tmp = testkit::tempdir();
    let root = tmp.path().canonicalize()?;
    let store = LocalStore::open(&root)?;
    // A directory holding `busybox`: busybox picks its applet from the base name of argv[0],
    // which is the base name of the builder.
    let bb = root.join("bb");
    std::fs::create_dir(&bb)?;
    std::fs::copy("/bin/busybox", bb.join("busybox"))?;
    let busybox = store.add_path("bb", &bb, AddOptions::default(), &BTreeSet::new())?;
    let real_store_dir = root.join("nix/store");
    Ok(Some(Fixture {
        _tmp: Box::new(tmp),
        root,
        store_dir: StoreDir::default(),
        real_store_dir,
        busybox,
    }))
}

impl Fixture {
    /// A derivation running `script` with busybox's `sh`; `$b` is busybox.
    fn drv(
        &self,
        name: &str,
        script: &str,
        fixed: Option<&[u8]>,
    ) -> Result<Derivation, Box<dyn std::error::Error>> {
        let bb = format!("{}/busybox", self.store_dir.display(&self.busybox));
        let script = format!("b={bb}; {script}");
        let mut drv = Derivation {
            system: b"x86_64-linux".to_vec(),
            builder: bb.clone().into_bytes(),
            args: vec![b"sh".to_vec(), b"-c".to_vec(), script.clone().into_bytes()],
            ..Derivation::default()
        };
        drv.input_srcs.insert(self.busybox.clone());
        for (k, v) in [
            ("builder", bb.as_str()),
            ("name", name),
            ("system", "x86_64-linux"),
        ] {
            drv.env.insert(k.into(), v.into());
        }
        drv.env.insert(b"args".to_vec(), script.into_bytes());
        match fixed {
            Some(contents) => {
                let hash = Hash::digest_bytes(HashAlgo::Sha256, contents);
                let out = DerivationOutput::fixed(
                    &self.store_dir,
                    name,
                    "out",
                    FileIngestionMethod::Flat,
                    hash,
                )?;
                let path = self
                    .store_dir
                    .display(out.path().ok_or("fixed output without path")?);
                drv.env.insert(b"out".to_vec(), path.into_bytes());
                drv.outputs.insert("out".into(), out);
            }
            None => {
                drv.outputs.insert("out".into(), DerivationOutput::Deferred);
                fill_outputs(
                    &mut drv,
                    name,
                    &self.store_dir,
                    &mut NoInputs,
                    &mut DrvHashCache::new(),
                )?;
            }
        }
        Ok(drv)
    }

    /// Builds `drv` in the sandbox; returns the log.
    fn build(&self, drv: &Derivation) -> Result<Vec<u8>, BuildError> {
        let options = BuildOptions {
            cores: 1,
            ..BuildOptions::default()
        };
        let plan = plan(drv, &self.store_dir, Path::new(SANDBOX_BUILD_DIR), &options)?;
        let build_dir = testkit::tempdir();
        let outputs: BTreeMap<String, StorePath> = drv
            .outputs
            .iter()
            .filter_map(|(n, o)| Some((n.clone(), o.path()?.clone())))
            .collect();
        let closure = vec![self.busybox.clone()];
        let chroot = self.root.join("nix/store/test-build.chroot");
        let spec = SandboxSpec {
            drv,
            drv_path: None,
            plan: &plan,
            store_dir: &self.store_dir,
            real_store_dir: &self.real_store_dir,
            input_closure: &closure,
            outputs: &outputs,
            host_build_dir: build_dir.path(),
            chroot_dir: &chroot,
            network: drv.is_fixed_output(),
            extra_paths: &[],
            output_suffix: "",
        };
        let mut log = Vec::new();
        let r = sandbox::run(&spec, &options, &mut log);
        assert!(!chroot.exists(), "the chroot is removed");
        r.map(|()| log)
    }

    fn out(&self, drv: &Derivation) -> Result<PathBuf, Box<dyn std::error::Error>> {
        let p = drv.outputs["out"].path().ok_or("no out path")?;
        Ok(self.real_store_dir.join(p.to_base_name()))
    }
}

#[test]
fn builder_sees_only_its_inputs() -> TestResult {
    let Some(f) = fixture()? else { return Ok(()) };
    let drv = f.drv(
        "inside",
        r#"cwd=$($b pwd); $b mkdir $out; cd $out; echo $cwd > pwd
$b ls /nix/store > store
$b hostname > hostname
$b ls / > root
$b ls /proc | $b grep -c '^[0-9]' > pids
$b id -u > uid; $b id -g > gid; $b id -un > user
$b ls /dev > dev
$b cat /etc/hosts > hosts
$b cat /proc/self/uid_map > uid_map
echo done; echo to-stderr >&2"#,
        None,
    )?;
    let log = f.build(&drv)?;
    assert_eq!(log, b"done\nto-stderr\n");
    let out = f.out(&drv)?;
    let read = |n: &str| std::fs::read_to_string(out.join(n));
    // The store shows the input closure and the output being built only.
    let out_base = drv.outputs["out"]
        .path()
        .ok_or("no out path")?
        .to_base_name();
    let mut expected = [f.busybox.to_base_name(), out_base];
    expected.sort();
    assert_eq!(
        read("store")?,
        format!("{}\n{}\n", expected[0], expected[1])
    );
    assert_eq!(read("hostname")?, "localhost\n");
    assert_eq!(read("pwd")?, "/build\n");
    assert_eq!(read("root")?, "build\ndev\netc\nnix\nproc\ntmp\n");
    // The shell pipeline: pid 1 (the builder), the shell's children.
    let pids: u32 = read("pids")?.trim().parse()?;
    assert!(pids <= 4, "{pids} processes");
    assert_eq!(read("uid")?, "1000\n");
    assert_eq!(read("gid")?, "100\n");
    assert_eq!(read("user")?, "nixbld\n");
    for d in ["null", "zero", "urandom", "fd", "shm", "stdout"] {
        assert!(read("dev")?.lines().any(|l| l == d), "/dev/{d}");
    }
    assert_eq!(read("hosts")?, "127.0.0.1 localhost\n::1 localhost\n");
    assert!(read("uid_map")?.split_whitespace().next() == Some("1000"));
    Ok(())
}

#[test]
fn inputs_are_read_only() -> TestResult {
    let Some(f) = fixture()? else { return Ok(()) };
    let drv = f.drv(
        "readonly",
        r#"if $b touch /nix/store/*-bb/busybox 2>/dev/null || $b chmod 777 /nix/store/*-bb/busybox 2>/dev/null; then echo writable > $out; else echo read-only > $out; fi"#,
        None,
    )?;
    f.build(&drv)?;
    assert_eq!(std::fs::read_to_string(f.out(&drv)?)?, "read-only\n");
    Ok(())
}

/// Sends `body` to every client of a loopback port, then closes the connection.
fn serve(body: &'static [u8]) -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let _ = s.write_all(body);
        }
    });
    Ok(port)
}

#[test]
fn network_only_for_fixed_outputs() -> TestResult {
    let Some(f) = fixture()? else { return Ok(()) };
    let port = serve(b"reached\n")?;
    let script = format!("$b nc 127.0.0.1 {port} < /dev/null > $out || echo isolated > $out");
    let sandboxed = f.drv("net-off", &script, None)?;
    f.build(&sandboxed)?;
    assert_eq!(std::fs::read_to_string(f.out(&sandboxed)?)?, "isolated\n");

    let fixed = f.drv("net-on", &script, Some(b"reached\n"))?;
    let log = f.build(&fixed)?;
    assert_eq!(
        std::fs::read_to_string(f.out(&fixed)?)?,
        "reached\n",
        "{}",
        String::from_utf8_lossy(&log)
    );
    Ok(())
}

#[test]
fn failures_are_reported() -> TestResult {
    let Some(f) = fixture()? else { return Ok(()) };
    let drv = f.drv("fails", "echo one; echo two >&2; exit 3", None)?;
    match f.build(&drv) {
        Err(BuildError::Failed {
            status, log_tail, ..
        }) => {
            assert_eq!(status, ExitKind::Code(3));
            assert_eq!(log_tail, vec![b"one".to_vec(), b"two".to_vec()]);
        }
        other => panic!("expected a failure, got {other:?}"),
    }

    let drv = f.drv("no-output", "true", None)?;
    assert!(matches!(
        f.build(&drv),
        Err(BuildError::MissingOutput { .. })
    ));

    // A builder outside the input closure cannot be executed.
    let mut drv = f.drv("bad-builder", "true", None)?;
    drv.builder = b"/bin/sh".to_vec();
    assert!(matches!(f.build(&drv), Err(BuildError::Spawn { .. })));
    Ok(())
}
