//! Running a builder in a Linux namespace sandbox, as CppNix 2.8 does with `sandbox = true`.
//!
//! The builder runs as pid 1 of fresh user, mount, PID, IPC and UTS namespaces, and of a fresh
//! network namespace unless the derivation is fixed-output. It sees a root directory (the
//! *chroot*, a directory on the host that [`run`] creates and removes) holding:
//!
//! | path | what |
//! |---|---|
//! | the store directory (e.g. `/nix/store`) | the input closure only, bind-mounted read-only (symlinks copied); writable, so the builder can create its outputs |
//! | `/build` | the host build directory, bind-mounted read-write; the working directory |
//! | `/dev` | `full`, `null`, `random`, `tty`, `urandom`, `zero` from the host; `fd`, `stdin`, `stdout`, `stderr` symlinks into `/proc/self/fd`; `/dev/shm` (tmpfs) and `/dev/pts` (new devpts instance, `/dev/ptmx` links to it) |
//! | `/proc` | a fresh procfs of the new PID namespace |
//! | `/tmp` | an empty directory, mode 1777 |
//! | `/etc/passwd`, `/etc/group` | `root`, `nixbld` (uid 1000, gid 100, home `/build`) and `nobody`, as CppNix writes them |
//! | `/etc/hosts` | `localhost` only; for fixed-output derivations the host's `/etc/hosts`, `/etc/resolv.conf` and `/etc/services` instead |
//! | extra paths | [`SandboxSpec::extra_paths`] (CppNix's `sandbox-paths`; empty by default in 2.8) |
//!
//! The sandbox user is uid 1000 (`nixbld`), gid 100, mapped to the calling process's effective
//! ids; the host name is `localhost` and the domain name `(none)`; only the loopback interface
//! is up. When the builder exits, the kernel kills everything left in its PID namespace. The
//! outputs, written by the builder at `<store dir>/<name>` inside the chroot, are then moved to
//! the real store directory, which is how a store whose real directory differs from its logical
//! one (a chroot store, `--store /some/root`) builds correctly.
//!
//! The environment is [`crate::build::builder::plan`]'s for the build directory
//! [`SANDBOX_BUILD_DIR`], exit statuses, signals and the log are reported as
//! [`crate::build::builder::run`] reports them (the builder's standard output and standard
//! error are one pipe here, as in CppNix, so their interleaving is exact).
//!
//! # Process creation
//!
//! The sandboxed process is created by a fork-like `clone` system call with the namespace
//! flags, from the calling thread. Between the clone and `execve`, the child only uses memory
//! prepared beforehand and async-signal-safe system calls, so it is sound even if the calling
//! process has other threads (see the `sys` module). The parent writes the child's uid and gid
//! maps, then lets it continue through a pipe. Each setup failure comes back as a typed
//! [`BuildError::Sandbox`] naming the step.
//!
//! # When namespaces are unavailable
//!
//! [`available`] tells whether this kernel lets this process create the namespaces, and if not,
//! why (for example Debian's `kernel.unprivileged_userns_clone = 0`,
//! `user.max_user_namespaces = 0`, Ubuntu's AppArmor restriction, or a container's seccomp
//! filter). The fallback is CppNix's `sandbox = false`: [`crate::build::builder::run`] builds
//! without isolation, which is only possible when the store's real directory is its logical
//! directory (the builder must find its inputs at their store paths).
#![deny(unsafe_code)]

mod sys;

/// Kills the process group `pgid` (a builder run without the sandbox, on a timeout).
pub(crate) fn kill_process_group(pgid: u32) {
    sys::kill_process_group(pgid);
}

use std::collections::BTreeMap;
use std::ffi::CString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use nix_store::store_path::{StoreDir, StorePath};

use crate::build::builder::{BuildError, BuildOptions, BuildPlan, ExitKind, Tail};
use crate::derivation::Derivation;

/// The build directory inside the sandbox (CppNix's `sandbox-build-dir`).
pub const SANDBOX_BUILD_DIR: &str = "/build";
/// The uid of the build user inside the sandbox.
pub const SANDBOX_UID: u32 = 1000;
/// The gid of the build user inside the sandbox.
pub const SANDBOX_GID: u32 = 100;

/// What to run in a sandbox, and where.
#[derive(Debug, Clone, Copy)]
pub struct SandboxSpec<'a> {
    /// The derivation. Its builder must not be a `builtin:` one.
    pub drv: &'a Derivation,
    /// Its `.drv` path, for messages.
    pub drv_path: Option<&'a StorePath>,
    /// The builder's environment and `passAsFile` files, computed by
    /// [`crate::build::builder::plan`] for the build directory [`SANDBOX_BUILD_DIR`].
    pub plan: &'a BuildPlan,
    /// The logical store directory (what paths look like, e.g. `/nix/store`).
    pub store_dir: &'a StoreDir,
    /// Where the store's paths are on disk (e.g. `/some/root/nix/store`).
    pub real_store_dir: &'a Path,
    /// The store paths the builder may see: the closure of its inputs (and of the builder).
    pub input_closure: &'a [StorePath],
    /// The output paths, by output name. After a successful build each is at
    /// `real_store_dir/<base name>`; they must not exist there before.
    pub outputs: &'a BTreeMap<String, StorePath>,
    /// The build directory on the host (it must exist; it is mounted at `/build`).
    pub host_build_dir: &'a Path,
    /// The sandbox's root directory on the host, on the same file system as `real_store_dir`:
    /// created (after removing a leftover) and removed by [`run`]. CppNix uses
    /// `<real store dir>/<drv base name>.chroot` ([`chroot_dir_for`]).
    pub chroot_dir: &'a Path,
    /// Whether the builder shares the host's network (fixed-output derivations do).
    pub network: bool,
    /// More host paths to show: (path inside the sandbox, path on the host), like CppNix's
    /// `sandbox-paths` (empty by default in 2.8). Bind-mounted read-only.
    pub extra_paths: &'a [(PathBuf, PathBuf)],
    /// Appended to each output's base name when it is moved out of the sandbox: empty
    /// normally, `.check` when rebuilding valid outputs to compare them (`--check`).
    pub output_suffix: &'a str,
}

/// Where CppNix puts the root of the sandbox of `drv_path`: `<real store dir>/<base>.chroot`.
pub fn chroot_dir_for(real_store_dir: &Path, drv_path: &StorePath) -> PathBuf {
    real_store_dir.join(format!("{}.chroot", drv_path.to_base_name()))
}

/// Why the sandbox cannot be used on this system.
#[derive(Debug, thiserror::Error)]
#[error("the build sandbox is not available: {reason}; setting 'sandbox = false' builds without it, which needs the store's real directory to be its logical directory")]
pub struct SandboxUnavailable {
    /// Why, in words (which setting or restriction is the likely cause).
    pub reason: String,
    /// The error of the `clone` system call.
    #[source]
    pub source: std::io::Error,
}

fn read_sysctl(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Explains a failure to create the namespaces.
fn unavailable_reason(e: &std::io::Error) -> String {
    if read_sysctl("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        return "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)"
            .into();
    }
    if read_sysctl("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        return "user namespaces are disabled (user.max_user_namespaces = 0)".into();
    }
    if read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1")
    {
        return "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1)".into();
    }
    match e.raw_os_error() {
        Some(libc::EINVAL) => "the kernel does not support the needed namespaces".into(),
        Some(libc::ENOSPC) => "the limit on the number of namespaces is reached".into(),
        Some(libc::EPERM) => {
            "creating user namespaces is not permitted (a container's seccomp filter or a security module?)".into()
        }
        _ => "creating user, mount, PID, network, IPC and UTS namespaces failed".into(),
    }
}

/// Checks that this process can create the namespaces of a sandbox (by creating them in a
/// child that exits at once).
///
/// # Errors
/// [`SandboxUnavailable`], with the likely reason.
pub fn available() -> Result<(), SandboxUnavailable> {
    sys::probe_namespaces().map_err(|source| SandboxUnavailable {
        reason: unavailable_reason(&source),
        source,
    })
}

fn cstring(bytes: &[u8], what: &str) -> Result<CString, BuildError> {
    CString::new(bytes).map_err(|_| BuildError::Sandbox {
        step: format!("{what} contains a NUL byte"),
        source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
    })
}

fn path_c(p: &Path) -> Result<CString, BuildError> {
    cstring(p.as_os_str().as_bytes(), &p.display().to_string())
}

/// `root` + an absolute path inside it.
fn inside(root: &Path, abs: &Path) -> PathBuf {
    root.join(abs.strip_prefix("/").unwrap_or(abs))
}

/// Builds the child's steps and the chroot's skeleton on disk.
struct Setup {
    steps: Vec<(sys::Step, bool)>,
    descriptions: Vec<String>,
    chroot: PathBuf,
}

fn io_step(step: String) -> impl FnOnce(std::io::Error) -> BuildError {
    move |source| BuildError::Sandbox { step, source }
}

impl Setup {
    fn step(&mut self, step: sys::Step, optional: bool, description: String) {
        self.steps.push((step, optional));
        self.descriptions.push(description);
    }

    #[allow(clippy::too_many_arguments)]
    fn mount(
        &mut self,
        source: Option<&Path>,
        target: &Path,
        fstype: Option<&str>,
        flags: libc::c_ulong,
        data: Option<&str>,
        optional: bool,
        description: String,
    ) -> Result<(), BuildError> {
        let step = sys::Step::Mount {
            source: source.map(path_c).transpose()?,
            target: path_c(target)?,
            fstype: fstype.map(|s| cstring(s.as_bytes(), s)).transpose()?,
            flags,
            data: data.map(|s| cstring(s.as_bytes(), s)).transpose()?,
        };
        self.step(step, optional, description);
        Ok(())
    }

    /// Makes host `source` visible at `target` (absolute, inside the chroot): directories
    /// and files are bind-mounted, symlinks copied.
    fn bind(&mut self, source: &Path, target: &Path, read_only: bool) -> Result<(), BuildError> {
        let dest = inside(&self.chroot, target);
        let meta = std::fs::symlink_metadata(source)
            .map_err(io_step(format!("getting status of '{}'", source.display())))?;
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .map_err(io_step(format!("creating '{}'", parent.display())))?;
        }
        let created = if meta.file_type().is_symlink() {
            let target = std::fs::read_link(source)
                .map_err(io_step(format!("reading symlink '{}'", source.display())))?;
            std::os::unix::fs::symlink(target, &dest)
                .map_err(io_step(format!("creating '{}'", dest.display())))?;
            return Ok(());
        } else if meta.is_dir() {
            std::fs::create_dir(&dest)
        } else {
            std::fs::File::create(&dest).map(drop)
        };
        created.map_err(io_step(format!("creating '{}'", dest.display())))?;
        self.mount(
            Some(source),
            &dest,
            None,
            libc::MS_BIND | libc::MS_REC,
            None,
            false,
            format!(
                "bind-mounting '{}' at '{}'",
                source.display(),
                target.display()
            ),
        )?;
        if read_only {
            let locked = sys::locked_mount_flags(source).map_err(io_step(format!(
                "getting the mount flags of '{}'",
                source.display()
            )))?;
            self.mount(
                None,
                &dest,
                None,
                libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | locked,
                None,
                false,
                format!("making '{}' read-only", target.display()),
            )?;
        }
        Ok(())
    }
}

fn write_file(path: &Path, contents: &[u8]) -> Result<(), BuildError> {
    std::fs::write(path, contents).map_err(|source| BuildError::Prepare {
        path: path.to_path_buf(),
        source,
    })
}

fn create_dir(path: &Path, mode: u32) -> Result<(), BuildError> {
    std::fs::create_dir_all(path)
        .and_then(|()| std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)))
        .map_err(io_step(format!("creating '{}'", path.display())))
}

/// Removes a directory tree, making directories writable first where needed.
fn remove_tree(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) => {
            make_writable(path);
            std::fs::remove_dir_all(path)
        }
    }
}

fn make_writable(path: &Path) {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if meta.is_dir() {
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755));
            if let Ok(entries) = std::fs::read_dir(path) {
                for e in entries.flatten() {
                    make_writable(&e.path());
                }
            }
        }
    }
}

/// Prepares the chroot on disk and the child's mount steps.
fn prepare(spec: &SandboxSpec<'_>) -> Result<Setup, BuildError> {
    let chroot = spec.chroot_dir.to_path_buf();
    remove_tree(&chroot).map_err(io_step(format!("removing '{}'", chroot.display())))?;
    create_dir(&chroot, 0o750)?;
    let mut setup = Setup {
        steps: Vec::new(),
        descriptions: Vec::new(),
        chroot: chroot.clone(),
    };

    // Mounts stay in the sandbox's mount namespace; the chroot becomes a mount point for
    // pivot_root.
    setup.mount(
        None,
        Path::new("/"),
        None,
        libc::MS_PRIVATE | libc::MS_REC,
        None,
        false,
        "making the mounts private".into(),
    )?;
    setup.mount(
        Some(&chroot),
        &chroot,
        None,
        libc::MS_BIND,
        None,
        false,
        "bind-mounting the sandbox root".into(),
    )?;

    create_dir(&chroot.join("tmp"), 0o1777)?;
    create_dir(&chroot.join("etc"), 0o755)?;
    write_file(
        &chroot.join("etc/passwd"),
        format!(
            "root:x:0:0:Nix build user:{SANDBOX_BUILD_DIR}:/noshell\n\
             nixbld:x:{SANDBOX_UID}:{SANDBOX_GID}:Nix build user:{SANDBOX_BUILD_DIR}:/noshell\n\
             nobody:x:65534:65534:Nobody:/:/noshell\n"
        )
        .as_bytes(),
    )?;
    write_file(
        &chroot.join("etc/group"),
        format!("root:x:0:\nnixbld:!:{SANDBOX_GID}:\nnogroup:x:65534:\n").as_bytes(),
    )?;
    if !spec.network {
        write_file(
            &chroot.join("etc/hosts"),
            b"127.0.0.1 localhost\n::1 localhost\n",
        )?;
    }

    // The store: the input closure only.
    let store_inside = PathBuf::from(spec.store_dir.as_str());
    create_dir(&inside(&chroot, &store_inside), 0o1775)?;
    for p in spec.input_closure {
        let real = spec.real_store_dir.join(p.to_base_name());
        if std::fs::symlink_metadata(&real).is_err() {
            return Err(BuildError::MissingInput {
                path: spec.store_dir.display(p),
            });
        }
        setup.bind(&real, &store_inside.join(p.to_base_name()), true)?;
    }

    // The build directory.
    setup.bind(spec.host_build_dir, Path::new(SANDBOX_BUILD_DIR), false)?;

    // /dev.
    let dev = chroot.join("dev");
    create_dir(&dev.join("shm"), 0o755)?;
    create_dir(&dev.join("pts"), 0o755)?;
    for name in ["full", "null", "random", "tty", "urandom", "zero"] {
        let host = Path::new("/dev").join(name);
        if host.exists() {
            setup.bind(&host, &host, false)?;
        }
    }
    for (link, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        let l = dev.join(link);
        std::os::unix::fs::symlink(target, &l)
            .map_err(io_step(format!("creating '{}'", l.display())))?;
    }
    setup.mount(
        None,
        &dev.join("shm"),
        Some("tmpfs"),
        0,
        Some("size=50%"),
        false,
        "mounting /dev/shm".into(),
    )?;
    if Path::new("/dev/pts/ptmx").exists() {
        let l = dev.join("ptmx");
        std::os::unix::fs::symlink("/dev/pts/ptmx", &l)
            .map_err(io_step(format!("creating '{}'", l.display())))?;
        setup.mount(
            None,
            &dev.join("pts"),
            Some("devpts"),
            0,
            Some("newinstance,mode=0620,ptmxmode=0666"),
            true,
            "mounting /dev/pts".into(),
        )?;
    }

    // Networking files for fixed-output derivations.
    if spec.network {
        for name in ["/etc/resolv.conf", "/etc/services", "/etc/hosts"] {
            let host = Path::new(name);
            if host.exists() {
                setup.bind(host, host, true)?;
            }
        }
    }

    for (target, source) in spec.extra_paths {
        if std::fs::symlink_metadata(source).is_err() {
            return Err(BuildError::MissingInput {
                path: source.display().to_string(),
            });
        }
        setup.bind(source, target, true)?;
    }

    // /proc, then the switch of root.
    create_dir(&chroot.join("proc"), 0o555)?;
    setup.mount(
        None,
        &chroot.join("proc"),
        Some("proc"),
        0,
        None,
        false,
        "mounting /proc".into(),
    )?;
    let chroot_c = path_c(&chroot)?;
    setup.step(
        sys::Step::Chdir(chroot_c),
        false,
        "entering the sandbox root".into(),
    );
    setup.step(
        sys::Step::PivotRoot,
        false,
        "switching to the sandbox root".into(),
    );
    setup.step(
        sys::Step::Hostname(cstring(b"localhost", "host name")?),
        false,
        "setting the host name".into(),
    );
    setup.step(
        sys::Step::Domainname(cstring(b"(none)", "domain name")?),
        false,
        "setting the domain name".into(),
    );
    if !spec.network {
        setup.step(
            sys::Step::LoopbackUp,
            false,
            "bringing up the loopback interface".into(),
        );
    }
    setup.step(
        sys::Step::SetIds {
            uid: SANDBOX_UID,
            gid: SANDBOX_GID,
        },
        false,
        "switching to the build user".into(),
    );
    setup.step(
        sys::Step::Chdir(cstring(SANDBOX_BUILD_DIR.as_bytes(), "build dir")?),
        false,
        format!("entering {SANDBOX_BUILD_DIR}"),
    );
    Ok(setup)
}

/// Runs the builder of `spec.drv` in a sandbox (see the module docs) and writes what it
/// prints to `log`.
///
/// # Errors
/// [`BuildError::Sandbox`] when a setup step fails (with the step), and otherwise the errors
/// of [`crate::build::builder::run`]: a missing input, a builder that cannot be executed
/// ([`BuildError::Spawn`]), fails (with the last lines of its log) or does not create its
/// outputs.
pub fn run(
    spec: &SandboxSpec<'_>,
    options: &BuildOptions,
    log: &mut dyn Write,
) -> Result<(), BuildError> {
    let drv = spec.drv;
    if drv.is_builtin() {
        return Err(BuildError::Unsupported {
            what: "with a builtin: builder in the sandbox runner",
        });
    }
    let result = run_in(spec, options, log);
    let cleanup = remove_tree(spec.chroot_dir)
        .map_err(io_step(format!("removing '{}'", spec.chroot_dir.display())));
    result.and(cleanup)
}

fn run_in(
    spec: &SandboxSpec<'_>,
    options: &BuildOptions,
    log: &mut dyn Write,
) -> Result<(), BuildError> {
    let drv = spec.drv;
    let drv_shown = spec
        .drv_path
        .map(|p| spec.store_dir.display(p))
        .unwrap_or_else(|| {
            String::from_utf8_lossy(drv.env_var("name").unwrap_or(&b"derivation"[..])).into_owned()
        });
    let setup = prepare(spec)?;
    for (name, contents) in &spec.plan.files {
        write_file(&spec.host_build_dir.join(name), contents)?;
    }

    let builder_c = cstring(&drv.builder, "the builder")?;
    let arg0 = drv
        .builder
        .rsplit(|&b| b == b'/')
        .next()
        .unwrap_or(&drv.builder);
    let mut argv = vec![cstring(arg0, "the builder")?];
    for a in &spec.plan.args {
        argv.push(cstring(a, "an argument")?);
    }
    let mut envp = Vec::new();
    for (k, v) in &spec.plan.env {
        let mut kv = k.clone();
        kv.push(b'=');
        kv.extend_from_slice(v);
        envp.push(cstring(&kv, "an environment variable")?);
    }
    let (euid, egid) = sys::effective_ids();
    let program = sys::Program {
        steps: setup.steps,
        builder: builder_c,
        argv,
        envp,
        network: spec.network,
        uid_map: (SANDBOX_UID, euid),
        gid_map: (SANDBOX_GID, egid),
    };

    let mut child = sys::start(&program).map_err(|e| {
        let step = if e.what == "creating the build's namespaces" {
            format!("{} ({})", e.what, unavailable_reason(&e.source))
        } else {
            e.what.to_string()
        };
        BuildError::Sandbox {
            step,
            source: e.source,
        }
    })?;
    if let Some((step, source)) = child.setup_result()? {
        child.kill();
        return Err(match step {
            sys::STEP_EXEC => BuildError::Spawn {
                builder: String::from_utf8_lossy(&drv.builder).into_owned(),
                source,
            },
            sys::STEP_STDIO => BuildError::Sandbox {
                step: "setting up standard input and output".into(),
                source,
            },
            sys::STEP_INIT => BuildError::Sandbox {
                step: "resetting signals and creating a session".into(),
                source,
            },
            i => BuildError::Sandbox {
                step: setup
                    .descriptions
                    .get(i as usize)
                    .cloned()
                    .unwrap_or_else(|| format!("step {i}")),
                source,
            },
        });
    }

    let mut tail = Tail::new(options.log_tail_lines);
    let pipe = child.log.try_clone()?;
    let (rx, reader) = crate::build::builder::read_pipes(vec![Box::new(pipe)]);
    let pumped = crate::build::builder::pump(&rx, options, &mut tail, log);
    if pumped.timed_out.is_some() {
        child.signal_kill();
    }
    drop(rx);
    for r in reader {
        let _ = r.join();
    }
    let status = child.wait()?;
    log.flush()?;
    if let Some(silence) = pumped.timed_out {
        return Err(crate::build::builder::timed_out(
            &drv_shown, options, silence,
        ));
    }
    if let Some(e) = pumped.io_error {
        return Err(BuildError::Io(e));
    }
    let kind = if libc::WIFEXITED(status) {
        match libc::WEXITSTATUS(status) {
            0 => None,
            c => Some(ExitKind::Code(c)),
        }
    } else if libc::WIFSIGNALED(status) {
        Some(ExitKind::Signal(libc::WTERMSIG(status)))
    } else {
        Some(ExitKind::Code(-1))
    };
    if let Some(status) = kind {
        return Err(BuildError::Failed {
            drv: drv_shown,
            status,
            log_tail: tail.finish(),
        });
    }

    // Move the outputs out of the chroot.
    let store_inside = inside(&setup.chroot, Path::new(spec.store_dir.as_str()));
    for (name, path) in spec.outputs {
        let from = store_inside.join(path.to_base_name());
        let to = spec
            .real_store_dir
            .join(format!("{}{}", path.to_base_name(), spec.output_suffix));
        if std::fs::symlink_metadata(&from).is_err() {
            return Err(BuildError::MissingOutput {
                drv: drv_shown,
                output: name.clone(),
                path: spec.store_dir.display(path),
            });
        }
        std::fs::rename(&from, &to).map_err(io_step(format!(
            "moving output '{}' to '{}'",
            from.display(),
            to.display()
        )))?;
    }
    Ok(())
}
