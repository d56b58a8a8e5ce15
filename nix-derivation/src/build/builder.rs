//! Running a builder as CppNix 2.8 does without a sandbox (`LocalDerivationGoal`).
//!
//! The environment is exactly CppNix's ([facts §4](../../../shared/docs/nix-facts.md)):
//!
//! | variable | value |
//! |---|---|
//! | `PATH` | `/path-not-set` |
//! | `HOME` | `/homeless-shelter` |
//! | `NIX_STORE` | the store directory |
//! | `NIX_BUILD_CORES` | [`BuildOptions::cores`] |
//! | every `env` entry of the derivation | its value, except those listed in `passAsFile`: for those, `<name>Path` names a file `.attr-<nix32(sha256(name))>` in the build directory holding the value |
//! | `NIX_BUILD_TOP`, `TMPDIR`, `TEMPDIR`, `TMP`, `TEMP`, `PWD` | the build directory |
//! | `NIX_OUTPUT_CHECKED` | `1`, for fixed-output derivations only |
//! | each of `impureEnvVars` | for fixed-output derivations only: its value in [`BuildOptions::impure_env`], or empty |
//! | `NIX_LOG_FD` | `2` |
//! | `TERM` | `xterm-256color` |
//!
//! The builder runs with `argv[0]` the base name of the builder, standard input `/dev/null`,
//! and the build directory as working directory. Its standard output and standard error both go
//! to the log sink (CppNix gives the builder one pipe for both; we read two pipes, so the
//! interleaving of the two streams is only as exact as their arrival order).
//!
//! With structured attributes (`__json`) the derivation's variables and `passAsFile` are not
//! used: the builder gets the variables above only (and, for fixed outputs, `impureEnvVars`
//! from the JSON); [`super::attrs::prepare`] adds the `.attrs.json`/`.attrs.sh` files and
//! their variables. Output placeholders (`builtins.placeholder`) in the arguments, the
//! environment and `passAsFile` files are replaced by the output paths, as CppNix does.
//!
//! Not supported (an [`BuildError::Unsupported`] error): `builtin:` builders (see
//! [`super::builtins`]).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;

use nix_store::hash::{Hash, HashAlgo};
use nix_store::store_path::{StoreDir, StorePath};

use crate::derivation::Derivation;

/// Knobs of a build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// `NIX_BUILD_CORES` (CppNix's `cores` setting; its default is the number of CPUs).
    pub cores: usize,
    /// How many lines of log to keep for the error of a failed build (CppNix's `log-lines`,
    /// default 10).
    pub log_tail_lines: usize,
    /// The caller's environment, from which a fixed-output derivation's `impureEnvVars` are
    /// taken. The library never reads the process environment itself.
    pub impure_env: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Kill the builder after this many seconds (CppNix's `timeout`, `--timeout`); 0 (the
    /// default) for no limit. [`BuildError::TimedOut`].
    pub timeout: u64,
    /// Kill the builder after this many seconds without output (CppNix's `max-silent-time`,
    /// `--max-silent-time`); 0 (the default) for no limit. [`BuildError::TimedOut`].
    pub max_silent_time: u64,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            log_tail_lines: 10,
            impure_env: BTreeMap::new(),
            timeout: 0,
            max_silent_time: 0,
        }
    }
}

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Something this builder does not do yet.
    #[error("building {what} is not supported yet")]
    Unsupported {
        /// What.
        what: &'static str,
    },
    /// An input source that is not on the file system.
    #[error("input path '{path}' does not exist")]
    MissingInput {
        /// The path.
        path: String,
    },
    /// The build directory cannot be prepared (a `passAsFile` file cannot be written).
    #[error("cannot write '{}'", path.display())]
    Prepare {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The builder cannot be started.
    #[error("executing '{builder}'")]
    Spawn {
        /// The builder.
        builder: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Reading the builder's output or writing the log failed.
    #[error("i/o error while running the builder")]
    Io(#[from] std::io::Error),
    /// The builder exited unsuccessfully.
    #[error("builder for '{drv}' {status}")]
    Failed {
        /// The derivation (its `.drv` path when known, else its name).
        drv: String,
        /// How the builder ended.
        status: ExitKind,
        /// The last lines of its log (without line ends).
        log_tail: Vec<Vec<u8>>,
    },
    /// The build sandbox could not be set up (see `build::sandbox`).
    #[error("setting up the build sandbox: {step}")]
    Sandbox {
        /// The step that failed.
        step: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A `builtin:` builder failed (see `build::builtins`).
    #[error(transparent)]
    Builtin(#[from] crate::build::builtins::BuiltinError),
    /// The builder ran longer than [`BuildOptions::timeout`] or was silent longer than
    /// [`BuildOptions::max_silent_time`] and was killed.
    #[error("building of '{drv}!*' from .drv file timed out after {seconds} seconds{}", if *silence { " of silence" } else { "" })]
    TimedOut {
        /// The derivation.
        drv: String,
        /// The limit that passed.
        seconds: u64,
        /// Whether it was the silence limit.
        silence: bool,
    },
    /// A `--check` rebuild differs from the valid output (`output` is its real path, as
    /// CppNix prints it; `kept` where the rebuild was kept with `keep_failed`).
    #[error("derivation '{drv}' may not be deterministic: output '{output}' differs{}", kept.as_ref().map(|k| format!(" from '{k}'")).unwrap_or_default())]
    NotDeterministic {
        /// The derivation.
        drv: String,
        /// The output's real path.
        output: String,
        /// Where the differing rebuild was kept.
        kept: Option<String>,
    },
    /// `--repair` found a corrupted path that it cannot rebuild.
    #[error("some paths in the output closure of derivation '{drv}' could not be repaired")]
    RepairFailed {
        /// The derivation.
        drv: String,
    },
    /// `--check` of a derivation whose outputs are not all valid.
    #[error("some outputs of '{drv}' are not valid, so checking is not possible")]
    CheckNotValid {
        /// The derivation.
        drv: String,
    },
    /// A floating content-addressed (`ca-derivations`) or impure (`impure-derivations`)
    /// derivation: CppNix 2.8 builds those only with the experimental feature enabled; we do
    /// not build them at all and give CppNix's message for the feature being disabled.
    #[error("experimental Nix feature '{feature}' is disabled; use '--extra-experimental-features {feature}' to override")]
    ExperimentalFeatureDisabled {
        /// The feature.
        feature: &'static str,
    },
    /// The builder succeeded without creating an output.
    #[error("builder for '{drv}' failed to produce output path for output '{output}' at '{path}'")]
    MissingOutput {
        /// The derivation.
        drv: String,
        /// The output name.
        output: String,
        /// Its path.
        path: String,
    },
    /// A file operation on an output, the build directory or a `.drv` failed.
    #[error("{op} '{}'", path.display())]
    Output {
        /// What was being done.
        op: &'static str,
        /// On which file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Serialising an output as a NAR failed.
    #[error("cannot serialise output '{}'", path.display())]
    Nar {
        /// The output's file.
        path: PathBuf,
        /// Why.
        #[source]
        source: nix_store::nar::Error,
    },
    /// A fixed output's hash is not the declared one (hashes in SRI form, as CppNix 2.8).
    #[error(
        "hash mismatch in fixed-output derivation '{drv}':\n         specified: {specified}\n            got:    {got}"
    )]
    HashMismatch {
        /// The derivation.
        drv: String,
        /// The declared hash.
        specified: String,
        /// The hash of what the builder produced.
        got: String,
    },
    /// A flat fixed output that is not a non-executable regular file.
    #[error("output path '{path}' should be a non-executable regular file since recursive hashing is not enabled (outputHashMode=flat)")]
    FlatOutputNotRegular {
        /// The output path.
        path: String,
    },
    /// Outputs of one derivation refer to each other in a cycle.
    #[error("cycle detected in build of '{drv}' in the references of output '{output}' from output '{from}'")]
    OutputCycle {
        /// The derivation.
        drv: String,
        /// The output reached again.
        output: String,
        /// The output it was reached from.
        from: String,
    },
    /// `__json` is not a JSON object (or holds a value of the wrong type).
    #[error("cannot process __json attribute of '{drv}': {message}")]
    StructuredAttrs {
        /// The derivation.
        drv: String,
        /// What is wrong.
        message: String,
    },
    /// A structured attribute has the wrong JSON type where CppNix reads it with nlohmann's
    /// conversions (its message, e.g. `[json.exception.type_error.302] type must be string,
    /// but is array`).
    #[error("{message}")]
    Json {
        /// nlohmann's message.
        message: String,
    },
    /// A structured attribute that must be a list of strings is not.
    #[error("attribute '{name}' of derivation '{drv}' must be a list of strings")]
    AttrNotStrings {
        /// The attribute.
        name: String,
        /// The derivation.
        drv: String,
    },
    /// A path that must be a store path is not.
    #[error("path '{path}' is not in the Nix store")]
    NotInStore {
        /// The path.
        path: String,
    },
    /// `exportReferencesGraph` (not structured) has an odd number of words.
    #[error("odd number of tokens in 'exportReferencesGraph': '{value}'")]
    ExportOddTokens {
        /// The attribute's value.
        value: String,
    },
    /// An `exportReferencesGraph` file name is not `[A-Za-z_][A-Za-z0-9_.-]*`.
    #[error("invalid file name '{name}' in 'exportReferencesGraph'")]
    ExportFileName {
        /// The name.
        name: String,
    },
    /// An `exportReferencesGraph` path is not in the store.
    #[error("'exportReferencesGraph' contains a non-store path '{path}'")]
    ExportNotStorePath {
        /// The path.
        path: String,
    },
    /// An `exportReferencesGraph` path is not in the derivation's input closure.
    #[error("cannot export references of path '{path}' because it is not in the input closure of the derivation")]
    ExportNotInput {
        /// The path.
        path: String,
    },
    /// An output refers to paths its `allowedReferences`/`allowedRequisites`/
    /// `disallowedReferences`/`disallowedRequisites` forbid (paths sorted; the message is
    /// CppNix's as printed after `error: `).
    #[error("output '{output}' is not allowed to refer to the following paths:{}", paths.iter().map(|p| format!("\n         {p}")).collect::<String>())]
    ReferencesNotAllowed {
        /// The output path.
        output: String,
        /// The forbidden paths.
        paths: Vec<String>,
    },
    /// A reference check names something that is neither a store path nor an output.
    #[error("derivation contains an illegal reference specifier '{spec}'")]
    IllegalReferenceSpecifier {
        /// The specifier.
        spec: String,
    },
    /// An output is larger than its `outputChecks.<output>.maxSize`.
    #[error("path '{path}' is too large at {size} bytes; limit is {limit} bytes")]
    OutputTooLarge {
        /// The output path.
        path: String,
        /// Its NAR size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// An output's closure is larger than its `outputChecks.<output>.maxClosureSize`.
    #[error("closure of path '{path}' is too large at {size} bytes; limit is {limit} bytes")]
    ClosureTooLarge {
        /// The output path.
        path: String,
        /// The NAR size of its closure.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A derivation cannot be built because some of its inputs failed.
    #[error("{count} dependencies of derivation '{drv}' failed to build")]
    DependenciesFailed {
        /// The derivation.
        drv: String,
        /// How many of its input derivations failed.
        count: usize,
    },
    /// A path to realise is not valid.
    #[error("path '{path}' is not valid")]
    InvalidPath {
        /// The path.
        path: String,
    },
    /// A path to build is not a `.drv`.
    #[error("path '{path}' is not a derivation")]
    NotADerivation {
        /// The path.
        path: String,
    },
    /// A `.drv` in the store does not parse.
    #[error("cannot parse derivation '{path}'")]
    BadDerivation {
        /// The `.drv` path.
        path: String,
        /// Why.
        #[source]
        source: crate::aterm::ParseError,
    },
    /// The store is diverted (its store directory is not where its files are), so builders
    /// need the sandbox, which maps one onto the other. (`realise` uses the sandbox in such a
    /// store whatever the setting, as CppNix, and reports [`BuildError::SandboxUnavailable`]
    /// when it cannot; this is for callers that would run [`run`] there.)
    #[error("building in a store whose store directory '{store_dir}' is not its real location '{}' needs the build sandbox", real_store_dir.display())]
    NeedsSandbox {
        /// The logical store directory.
        store_dir: String,
        /// Where the files are.
        real_store_dir: PathBuf,
    },
    /// The sandbox is required (`sandbox = true`, or a diverted store) but this process
    /// cannot create its namespaces.
    #[error(transparent)]
    SandboxUnavailable(#[from] crate::build::sandbox::SandboxUnavailable),
    /// `max-jobs` is 0 and something must be built.
    #[error("unable to start any build; either increase '--max-jobs' or enable remote builds")]
    NoBuildSlots,
    /// A store operation failed.
    #[error(transparent)]
    Store(#[from] nix_store::store::StoreError),
    /// An output lock could not be taken.
    #[error(transparent)]
    Lock(#[from] nix_store::store::local::lock::LockError),
    /// Writing the build log failed.
    #[error(transparent)]
    Log(#[from] super::log::LogError),
    /// Builds of [`super::realise::realise`] failed: every failure, in order.
    #[error("{0}")]
    Realise(Box<super::realise::RealiseFailure>),
}

/// How a builder process ended, when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// It exited with this non-zero code.
    Code(i32),
    /// It was killed by this signal.
    Signal(i32),
}

impl std::fmt::Display for ExitKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitKind::Code(c) => write!(f, "failed with exit code {c}"),
            ExitKind::Signal(s) => write!(f, "failed due to signal {s}"),
        }
    }
}

/// What the builder will get: its arguments, its environment and the files to put in the
/// build directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildPlan {
    /// The arguments after `argv[0]` (the derivation's, with output placeholders replaced).
    pub args: Vec<Vec<u8>>,
    /// The environment, exactly.
    pub env: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Files to create in the build directory first (`passAsFile`, `.attrs.json`,
    /// `exportReferencesGraph`): name and contents.
    pub files: Vec<(String, Vec<u8>)>,
}

/// The name of the `passAsFile` file for an attribute: `.attr-<nix32(sha256(name))>`.
pub fn pass_as_file_name(attr: &[u8]) -> String {
    format!(
        ".attr-{}",
        Hash::digest_bytes(HashAlgo::Sha256, attr).to_nix32()
    )
}

/// Splits on CppNix's whitespace (space, tab, newline, carriage return), dropping empty words.
pub(crate) fn tokenize(s: &[u8]) -> impl Iterator<Item = &[u8]> {
    s.split(|b| b" \t\n\r".contains(b))
        .filter(|w| !w.is_empty())
}

/// Computes the environment of the builder of `drv`, run in `build_dir`.
///
/// Output placeholders are replaced by the output paths. For structured attributes this is
/// only the environment; [`super::attrs::prepare`] adds their files.
///
/// # Errors
/// [`BuildError::StructuredAttrs`] for a `__json` that is not a JSON object,
/// [`BuildError::AttrNotStrings`] for a structured `impureEnvVars` that is not a list of
/// strings.
pub fn plan(
    drv: &Derivation,
    store_dir: &StoreDir,
    build_dir: &Path,
    options: &BuildOptions,
) -> Result<BuildPlan, BuildError> {
    let shown = String::from_utf8_lossy(drv.env_var("name").unwrap_or(&b"derivation"[..]));
    let structured = super::attrs::structured_attrs(drv, &shown)?;
    let outputs: BTreeMap<String, StorePath> = drv
        .outputs
        .iter()
        .filter_map(|(n, o)| o.path().map(|p| (n.clone(), p.clone())))
        .collect();
    let rewrites = super::attrs::output_rewrites(&outputs, store_dir);
    let top = build_dir.as_os_str().as_bytes().to_vec();
    let mut env: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut files = Vec::new();
    let set = |env: &mut BTreeMap<Vec<u8>, Vec<u8>>, k: &str, v: &[u8]| {
        env.insert(k.as_bytes().to_vec(), v.to_vec());
    };
    set(&mut env, "PATH", b"/path-not-set");
    set(&mut env, "HOME", b"/homeless-shelter");
    set(&mut env, "NIX_STORE", store_dir.as_str().as_bytes());
    set(
        &mut env,
        "NIX_BUILD_CORES",
        options.cores.to_string().as_bytes(),
    );
    let pass_as_file: BTreeSet<&[u8]> = drv
        .env_var("passAsFile")
        .map(|s| tokenize(s).collect())
        .unwrap_or_default();
    let own_env = if structured.is_some() {
        BTreeMap::new()
    } else {
        drv.env.clone()
    };
    for (k, v) in &own_env {
        if pass_as_file.contains(k.as_slice()) {
            let name = pass_as_file_name(k);
            let mut key = k.clone();
            key.extend_from_slice(b"Path");
            let mut value = top.clone();
            value.push(b'/');
            value.extend_from_slice(name.as_bytes());
            env.insert(key, value);
            files.push((name, super::attrs::rewrite(v, &rewrites)));
        } else {
            env.insert(k.clone(), v.clone());
        }
    }
    for k in ["NIX_BUILD_TOP", "TMPDIR", "TEMPDIR", "TMP", "TEMP", "PWD"] {
        set(&mut env, k, &top);
    }
    if drv.is_fixed_output() {
        set(&mut env, "NIX_OUTPUT_CHECKED", b"1");
        let vars = super::attrs::strings_attr(drv, structured.as_ref(), "impureEnvVars", &shown)?;
        for var in vars.unwrap_or_default() {
            let value = options.impure_env.get(&var).cloned().unwrap_or_default();
            env.insert(var, value);
        }
    }
    set(&mut env, "NIX_LOG_FD", b"2");
    set(&mut env, "TERM", b"xterm-256color");
    let env = env
        .into_iter()
        .map(|(k, v)| {
            (
                super::attrs::rewrite(&k, &rewrites),
                super::attrs::rewrite(&v, &rewrites),
            )
        })
        .collect();
    let args = drv
        .args
        .iter()
        .map(|a| super::attrs::rewrite(a, &rewrites))
        .collect();
    Ok(BuildPlan { args, env, files })
}

/// The last lines of a byte stream (the log tail of a failed build; also used by the sandbox).
#[derive(Debug)]
pub(crate) struct Tail {
    lines: VecDeque<Vec<u8>>,
    current: Vec<u8>,
    max: usize,
}

impl Tail {
    /// Keeps at most `max` lines.
    pub(crate) fn new(max: usize) -> Tail {
        Tail {
            lines: VecDeque::new(),
            current: Vec::new(),
            max,
        }
    }

    pub(crate) fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                self.lines.push_back(std::mem::take(&mut self.current));
                if self.lines.len() > self.max {
                    self.lines.pop_front();
                }
            } else if self.current.len() < 64 * 1024 {
                self.current.push(b);
            }
        }
    }

    pub(crate) fn finish(mut self) -> Vec<Vec<u8>> {
        if !self.current.is_empty() {
            self.lines.push_back(std::mem::take(&mut self.current));
        }
        while self.lines.len() > self.max {
            self.lines.pop_front();
        }
        self.lines.into()
    }
}

/// Reads each pipe on its own thread until its end, sending the chunks (or the read error)
/// to the returned channel.
pub(crate) fn read_pipes(
    pipes: Vec<Box<dyn Read + Send>>,
) -> (
    mpsc::Receiver<std::io::Result<Vec<u8>>>,
    Vec<std::thread::JoinHandle<()>>,
) {
    let (tx, rx) = mpsc::channel::<std::io::Result<Vec<u8>>>();
    let mut readers = Vec::new();
    for mut pipe in pipes {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match pipe.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if tx.send(Ok(buf[..n].to_vec())).is_err() {
                            break;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
            }
        }));
    }
    (rx, readers)
}

/// What [`pump`] saw.
pub(crate) struct Pumped {
    /// The first error writing the log or reading a pipe.
    pub(crate) io_error: Option<std::io::Error>,
    /// `Some(silence)` when a time limit passed (`silence`: `max_silent_time`).
    pub(crate) timed_out: Option<bool>,
}

/// Copies a builder's output to the log and the tail until the pipes close or a time limit
/// of `options` passes (then the caller kills the builder).
pub(crate) fn pump(
    rx: &mpsc::Receiver<std::io::Result<Vec<u8>>>,
    options: &BuildOptions,
    tail: &mut Tail,
    log: &mut dyn Write,
) -> Pumped {
    use std::time::{Duration, Instant};
    let start = Instant::now();
    let mut last = start;
    let mut io_error = None;
    let limit = |secs: u64| (secs > 0).then(|| Duration::from_secs(secs));
    let (total, silent) = (limit(options.timeout), limit(options.max_silent_time));
    loop {
        let now = Instant::now();
        let deadlines = [
            total.map(|d| (start + d, false)),
            silent.map(|d| (last + d, true)),
        ];
        let next = deadlines.into_iter().flatten().min_by_key(|(t, _)| *t);
        let chunk = match next {
            None => match rx.recv() {
                Ok(c) => c,
                Err(_) => break,
            },
            Some((at, silence)) => {
                if at <= now {
                    return Pumped {
                        io_error,
                        timed_out: Some(silence),
                    };
                }
                match rx.recv_timeout(at - now) {
                    Ok(c) => c,
                    Err(mpsc::RecvTimeoutError::Timeout) => continue,
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            }
        };
        match chunk {
            Ok(bytes) => {
                last = Instant::now();
                tail.push(&bytes);
                if io_error.is_none() {
                    if let Err(e) = log.write_all(&bytes) {
                        io_error = Some(e);
                    }
                }
            }
            Err(e) => io_error = io_error.or(Some(e)),
        }
    }
    Pumped {
        io_error,
        timed_out: None,
    }
}

/// CppNix's timeout error for a builder killed after `options.timeout` or, with `silence`,
/// `options.max_silent_time` seconds.
pub(crate) fn timed_out(drv: &str, options: &BuildOptions, silence: bool) -> BuildError {
    BuildError::TimedOut {
        drv: drv.to_string(),
        seconds: if silence {
            options.max_silent_time
        } else {
            options.timeout
        },
        silence,
    }
}

/// Runs the builder of `drv` in `build_dir` (which must exist; it becomes `NIX_BUILD_TOP`)
/// and writes everything it prints to `log`.
///
/// `drv_path` is used in messages only. Input sources must exist at their paths, and the
/// outputs must not exist yet; they are not registered anywhere.
///
/// # Errors
/// See [`BuildError`]: a missing input, a builder that cannot start, fails (with the last
/// lines of its log) or does not create its outputs.
pub fn run(
    drv: &Derivation,
    drv_path: Option<&StorePath>,
    store_dir: &StoreDir,
    build_dir: &Path,
    options: &BuildOptions,
    log: &mut dyn Write,
) -> Result<(), BuildError> {
    if drv.is_builtin() {
        return Err(BuildError::Unsupported {
            what: "with a builtin: builder",
        });
    }
    let plan = plan(drv, store_dir, build_dir, options)?;
    run_plan(drv, drv_path, store_dir, build_dir, &plan, options, log)
}

/// [`run`] with a plan computed by the caller (from [`plan`], maybe extended by
/// [`super::attrs::prepare`]): writes its files into `build_dir` and runs the builder with
/// its arguments and environment.
///
/// # Errors
/// As [`run`].
pub fn run_plan(
    drv: &Derivation,
    drv_path: Option<&StorePath>,
    store_dir: &StoreDir,
    build_dir: &Path,
    plan: &BuildPlan,
    options: &BuildOptions,
    log: &mut dyn Write,
) -> Result<(), BuildError> {
    let drv_shown = drv_path.map(|p| store_dir.display(p)).unwrap_or_else(|| {
        String::from_utf8_lossy(drv.env_var("name").unwrap_or(&b"derivation"[..])).into_owned()
    });
    if drv.is_builtin() {
        return Err(BuildError::Unsupported {
            what: "with a builtin: builder",
        });
    }
    for p in &drv.input_srcs {
        let shown = store_dir.display(p);
        if std::fs::symlink_metadata(&shown).is_err() {
            return Err(BuildError::MissingInput { path: shown });
        }
    }
    for (name, contents) in &plan.files {
        let path = build_dir.join(name);
        std::fs::write(&path, contents).map_err(|source| BuildError::Prepare { path, source })?;
    }

    let builder = OsStr::from_bytes(&drv.builder);
    let arg0 = Path::new(builder).file_name().unwrap_or(builder);
    let mut child = Command::new(builder)
        .arg0(arg0)
        .args(plan.args.iter().map(|a| OsStr::from_bytes(a)))
        .env_clear()
        .envs(
            plan.env
                .iter()
                .map(|(k, v)| (OsStr::from_bytes(k), OsStr::from_bytes(v))),
        )
        .current_dir(build_dir)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| BuildError::Spawn {
            builder: String::from_utf8_lossy(&drv.builder).into_owned(),
            source,
        })?;

    // Read both pipes on threads; write to the sink here, in arrival order.
    let pipes: Vec<Box<dyn Read + Send>> = [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .collect();
    let (rx, readers) = read_pipes(pipes);
    let mut tail = Tail::new(options.log_tail_lines);
    let pumped = pump(&rx, options, &mut tail, log);
    if pumped.timed_out.is_some() {
        // The builder leads its own process group: kill all of it, so that the pipes close.
        crate::build::sandbox::kill_process_group(child.id());
        let _ = child.kill();
    }
    drop(rx);
    for r in readers {
        let _ = r.join();
    }
    let io_error = pumped.io_error;
    let status = child.wait()?;
    log.flush()?;
    if let Some(silence) = pumped.timed_out {
        return Err(timed_out(&drv_shown, options, silence));
    }
    if let Some(e) = io_error {
        return Err(BuildError::Io(e));
    }
    if !status.success() {
        let kind = match (status.code(), status.signal()) {
            (Some(c), _) => ExitKind::Code(c),
            (None, Some(s)) => ExitKind::Signal(s),
            (None, None) => ExitKind::Code(-1),
        };
        return Err(BuildError::Failed {
            drv: drv_shown,
            status: kind,
            log_tail: tail.finish(),
        });
    }
    for (name, output) in &drv.outputs {
        if let Some(p) = output.path() {
            let shown = store_dir.display(p);
            if std::fs::symlink_metadata(&shown).is_err() {
                return Err(BuildError::MissingOutput {
                    drv: drv_shown,
                    output: name.clone(),
                    path: shown,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::derivation::DerivationOutput;

    #[test]
    fn pass_as_file_names_as_cppnix() {
        // From a CppNix 2.8 build with passAsFile = [ "big" ].
        assert_eq!(
            pass_as_file_name(b"big"),
            ".attr-1lak0mvllw8rv9i9ygkglvhqsq19qi9ynl4bi7gbf69ab5nzw89a"
        );
    }

    #[test]
    fn tail_keeps_last_lines() {
        let mut t = Tail {
            lines: VecDeque::new(),
            current: Vec::new(),
            max: 2,
        };
        t.push(b"a\nb\nc");
        t.push(b"d\ne\n");
        assert_eq!(t.finish(), vec![b"cd".to_vec(), b"e".to_vec()]);
    }

    #[test]
    fn plan_env() -> Result<(), BuildError> {
        let mut drv = Derivation::default();
        drv.outputs.insert("out".into(), DerivationOutput::Deferred);
        drv.env.insert(b"passAsFile".to_vec(), b" a\tb ".to_vec());
        drv.env.insert(b"a".to_vec(), b"A".to_vec());
        drv.env.insert(b"PATH".to_vec(), b"overridden".to_vec());
        let plan = plan(
            &drv,
            &StoreDir::default(),
            Path::new("/build"),
            &BuildOptions {
                cores: 3,
                ..Default::default()
            },
        )?;
        let get = |k: &str| {
            plan.env
                .get(k.as_bytes())
                .map(|v| String::from_utf8_lossy(v).into_owned())
        };
        assert_eq!(get("PATH").as_deref(), Some("overridden"));
        assert_eq!(get("NIX_BUILD_CORES").as_deref(), Some("3"));
        assert_eq!(get("a"), None);
        assert_eq!(
            get("aPath"),
            Some(format!("/build/{}", pass_as_file_name(b"a")))
        );
        assert_eq!(plan.files, vec![(pass_as_file_name(b"a"), b"A".to_vec())]);
        assert_eq!(get("NIX_OUTPUT_CHECKED"), None);
        Ok(())
    }
}
