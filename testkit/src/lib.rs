//! Shared test helpers for the nixrs crates (dev-dependency only, never published).
//!
//! * [`vectors`] reads `../shared/testvectors/<name>.json` (or `$NIXRS_SHARED/testvectors`).
//! * [`reference`] finds a CppNix 2.8 binary (`nix-store`, `nix-instantiate`, `nix-hash`, …)
//!   in `$NIXRS_REFERENCE_BIN` or on `PATH`. When it is missing, a differential test **fails**
//!   if `CI` is set and is skipped (with a message) otherwise.
//! * [`TempStore`] is a throwaway store root for `--store ROOT`.
//! * [`http::FileServer`] serves a directory over HTTP on the loopback interface.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub mod http;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root (the directory holding the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit lives one level below the workspace root")
        .to_path_buf()
}

/// The `shared/` directory beside the repository (`$NIXRS_SHARED` overrides it).
pub fn shared_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("NIXRS_SHARED") {
        return PathBuf::from(dir);
    }
    let root = workspace_root();
    for candidate in [root.join("../shared"), root.join("shared")] {
        if candidate.join("testvectors").is_dir() {
            return candidate;
        }
    }
    root.join("../shared")
}

/// Reads and parses `shared/testvectors/<name>.json`.
///
/// # Panics
/// If the file is missing or is not JSON: the vectors are part of the test set-up.
pub fn vectors(name: &str) -> serde_json::Value {
    let path = shared_dir()
        .join("testvectors")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read test vectors {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("bad JSON in test vectors {}: {e}", path.display()))
}

/// Whether we run under CI (the `CI` environment variable is set and not empty/`false`/`0`).
pub fn in_ci() -> bool {
    match std::env::var("CI") {
        Ok(v) => !(v.is_empty() || v == "0" || v.eq_ignore_ascii_case("false")),
        Err(_) => false,
    }
}

/// Finds a reference CppNix binary by name.
///
/// Looks in `$NIXRS_REFERENCE_BIN` (a directory) first, then on `PATH`. Returns `None` (after
/// printing a skip notice) when it is missing outside CI.
///
/// # Panics
/// When the binary is missing and `CI` is set: differential tests must fail, not skip, in CI.
pub fn reference(name: &str) -> Option<PathBuf> {
    let found = find_reference(name);
    if found.is_none() {
        if in_ci() {
            panic!(
                "reference binary `{name}` (CppNix 2.8) not found in $NIXRS_REFERENCE_BIN or PATH, \
                 and CI is set: install nix-bin"
            );
        }
        eprintln!("SKIP: reference binary `{name}` not found; differential test skipped");
    }
    found
}

/// The static busybox that build tests use as a deterministic builder.
pub const BUSYBOX: &str = "/bin/busybox";

/// Whether [`BUSYBOX`] is installed; prints a skip notice when it is not.
///
/// # Panics
/// When it is missing and `CI` is set (`.ci/run` installs busybox-static).
pub fn have_busybox() -> bool {
    if Path::new(BUSYBOX).is_file() {
        return true;
    }
    if in_ci() {
        panic!("{BUSYBOX} not found and CI is set: install busybox-static");
    }
    eprintln!("SKIP: {BUSYBOX} is missing; build test skipped");
    false
}

/// Makes `dir/bin/busybox` (a copy of [`BUSYBOX`]) and `dir/bin/sh` → `busybox`: a tree to add
/// to a store, whose `bin/sh` runs busybox's shell (busybox picks the applet by name).
///
/// # Errors
/// I/O errors creating the tree.
pub fn busybox_tree(dir: &Path) -> std::io::Result<()> {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin)?;
    std::fs::copy(BUSYBOX, bin.join("busybox"))?;
    std::os::unix::fs::symlink("busybox", bin.join("sh"))
}

fn find_reference(name: &str) -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("NIXRS_REFERENCE_BIN") {
        let p = Path::new(&dir).join(name);
        if p.is_file() {
            return Some(p);
        }
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Runs a reference binary with arguments and returns its output.
///
/// # Panics
/// If the process cannot be started.
pub fn run<I, S>(bin: &Path, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(bin)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()))
}

/// A throwaway store root: `root/nix/store`, `root/nix/var/nix/db`, … as CppNix's
/// `--store ROOT` expects. Removed on drop.
#[derive(Debug)]
pub struct TempStore {
    dir: tempfile::TempDir,
}

impl TempStore {
    /// Creates an empty temporary directory to use as a store root.
    ///
    /// # Panics
    /// If the temporary directory cannot be created.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("nixrs-store-")
            .tempdir()
            .expect("create temporary store root");
        TempStore { dir }
    }

    /// The store root (`ROOT` in `--store ROOT`).
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The real directory holding the store paths (`ROOT/nix/store`).
    pub fn real_store_dir(&self) -> PathBuf {
        self.dir.path().join("nix/store")
    }
}

impl Default for TempStore {
    fn default() -> Self {
        Self::new()
    }
}

/// What [`tempdir`] returns (so that helpers can name it without depending on `tempfile`).
pub use tempfile::TempDir;

/// A temporary directory for scratch files, removed on drop.
///
/// # Panics
/// If it cannot be created.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("nixrs-test-")
        .tempdir()
        .expect("create temporary directory")
}

/// A tiny deterministic pseudo-random generator (xorshift64*) for tests and benchmarks that need
/// reproducible inputs without a dependency. Not for anything security-related.
///
/// The seed must not be zero (zero stays zero).
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`.
    ///
    /// # Panics
    /// If `n` is zero.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}
