//! The system calls of the sandbox: cloning into new namespaces, the child's setup up to
//! `execve`, and waiting.
//!
//! # Soundness of the child
//!
//! The child is created with the raw `clone` system call (no new stack: like `fork`) from a
//! process that may have other threads. Until it calls `execve` or `_exit`, the child runs on a
//! copy of the parent's memory in which other threads' locks (the allocator's, stdio's, the
//! dynamic loader's) may be held forever. So the child only:
//!
//! * reads memory prepared by the parent before the clone ([`Program`], [`ChildCtx`]): C strings,
//!   pointer arrays, an `ifreq` and a signal set; nothing is allocated, formatted or dropped;
//! * calls thin libc wrappers of system calls that POSIX or Linux lists as async-signal-safe
//!   (`read`, `write`, `open`, `close`, `dup2`, `mount`, `umount2`, `chdir`, `setsid`,
//!   `sigprocmask`, `signal`, `socket`, `ioctl`, `sethostname`, `setdomainname`, `prctl`,
//!   `syscall`, `execve`, `_exit`) and reads `errno`; `setgid` and `setuid` are made as raw
//!   system calls, because glibc's wrappers change the ids of every thread of the process and
//!   wait for threads that do not exist in the child;
//! * never panics (no indexing, no arithmetic that can overflow) and never returns: every path
//!   ends in `execve` or `_exit`, so no destructor of the copied state runs twice.
//!
//! glibc's `fork` would run `atfork` handlers and refresh its cached thread id; the raw clone
//! does not, so the child avoids everything that uses the cached id (`raise`, `abort`,
//! `pthread_*`). A failure is reported as an 8-byte record (step index, `errno`) on a
//! close-on-exec pipe, whose end of file tells the parent that `execve` succeeded.
#![allow(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]

use std::ffi::{CStr, CString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use libc::{c_char, c_int, c_ulong, c_void, pid_t};

/// One setup step of the child, with everything prepared.
#[derive(Debug)]
pub(super) enum Step {
    /// `mount(source, target, fstype, flags, data)`.
    Mount {
        source: Option<CString>,
        target: CString,
        fstype: Option<CString>,
        flags: c_ulong,
        data: Option<CString>,
    },
    /// `chdir(dir)`.
    Chdir(CString),
    /// `pivot_root(".", ".")`, then detach the old root and `chdir("/")`.
    PivotRoot,
    /// `sethostname`.
    Hostname(CString),
    /// `setdomainname`.
    Domainname(CString),
    /// Bring the loopback interface up.
    LoopbackUp,
    /// `setgid`, then `setuid`.
    SetIds { uid: libc::uid_t, gid: libc::gid_t },
}

/// What the child does: its steps (each optional or not), then `execve`.
#[derive(Debug)]
pub(super) struct Program {
    /// The steps, in order; a failing optional step is ignored.
    pub steps: Vec<(Step, bool)>,
    /// The program to execute.
    pub builder: CString,
    /// `argv`.
    pub argv: Vec<CString>,
    /// `envp` (`NAME=value`).
    pub envp: Vec<CString>,
    /// Whether to share the host's network namespace.
    pub network: bool,
    /// The user and group ids the sandbox user maps to (inside, outside).
    pub uid_map: (u32, u32),
    /// See `uid_map`.
    pub gid_map: (u32, u32),
}

/// The index reported when the step is not one of [`Program::steps`].
pub(super) const STEP_STDIO: u32 = u32::MAX;
/// `execve` failed.
pub(super) const STEP_EXEC: u32 = u32::MAX - 1;
/// The setup before the steps (signals, session) failed.
pub(super) const STEP_INIT: u32 = u32::MAX - 2;

/// A started sandbox: the child's pid and the parent's ends of its pipes.
#[derive(Debug)]
pub(super) struct Child {
    pid: pid_t,
    /// The builder's standard output and error.
    pub log: File,
    report: File,
    reaped: bool,
}

/// Why the sandbox could not be started.
#[derive(Debug)]
pub(super) struct StartError {
    pub what: &'static str,
    pub source: io::Error,
}

fn errno() -> c_int {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as c_int; 2];
    // SAFETY: `fds` is a valid array of two ints for pipe2 to fill.
    let r = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    if r == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both descriptors are open and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// The namespace flags of a sandbox.
pub(super) fn clone_flags(network: bool) -> c_int {
    let mut flags = libc::CLONE_NEWUSER
        | libc::CLONE_NEWNS
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWUTS;
    if !network {
        flags |= libc::CLONE_NEWNET;
    }
    flags
}

/// Tries to create every namespace a sandbox needs, in a child that exits at once.
pub(super) fn probe_namespaces() -> io::Result<()> {
    let flags = clone_flags(false) | libc::SIGCHLD;
    // SAFETY: a fork-like clone (no new stack); the child only calls `_exit`, which is
    // async-signal-safe.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone,
            flags as c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    if pid == -1 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: in the child; `_exit` never returns and runs no handlers.
        unsafe { libc::_exit(0) }
    }
    wait(pid as pid_t).map(|_| ())
}

/// The mount flags a bind mount of `path` must keep when remounted in a user namespace (the
/// kernel locks `nosuid`, `nodev`, `noexec` and the atime flags of mounts it inherits).
pub(super) fn locked_mount_flags(path: &Path) -> io::Result<c_ulong> {
    let c = CString::new(std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()))
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: an all-zero statvfs is a valid value of this plain C struct.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path and `st` a valid statvfs to fill.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } == -1 {
        return Err(io::Error::last_os_error());
    }
    let f = st.f_flag;
    let mut flags = 0;
    for (st_flag, ms_flag) in [
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ] {
        if f & st_flag != 0 {
            flags |= ms_flag;
        }
    }
    Ok(flags)
}

/// Everything the child reads, prepared before the clone.
struct ChildCtx<'a> {
    program: &'a Program,
    argv: &'a [*const c_char],
    envp: &'a [*const c_char],
    ifreq: &'a libc::ifreq,
    empty_set: &'a libc::sigset_t,
    dev_null: &'a CStr,
    dot: &'a CStr,
    slash: &'a CStr,
    log_write: RawFd,
    report_write: RawFd,
    sync_read: RawFd,
    sync_write: RawFd,
}

/// Writes a failure record and exits.
///
/// # Safety
/// Only to be called in the child.
unsafe fn fail(ctx: &ChildCtx<'_>, step: u32, err: c_int) -> ! {
    let mut rec = [0u8; 8];
    let (a, b) = rec.split_at_mut(4);
    a.copy_from_slice(&step.to_le_bytes());
    b.copy_from_slice(&err.to_le_bytes());
    // SAFETY: `rec` is 8 valid bytes; a pipe write of at most PIPE_BUF bytes is atomic.
    unsafe {
        libc::write(ctx.report_write, rec.as_ptr().cast::<c_void>(), rec.len());
        libc::_exit(127)
    }
}

/// Runs one step; returns the `errno` of a failure.
///
/// # Safety
/// Only to be called in the child.
unsafe fn do_step(ctx: &ChildCtx<'_>, step: &Step) -> Result<(), c_int> {
    let check = |r: c_int| if r == -1 { Err(errno()) } else { Ok(()) };
    let opt = |s: &Option<CString>| s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
    // SAFETY: every pointer passed below is a NUL-terminated string or a struct prepared by
    // the parent, alive for the whole child; the calls are plain system calls.
    unsafe {
        match step {
            Step::Mount {
                source,
                target,
                fstype,
                flags,
                data,
            } => check(libc::mount(
                opt(source),
                target.as_ptr(),
                opt(fstype),
                *flags,
                opt(data).cast::<c_void>(),
            )),
            Step::Chdir(dir) => check(libc::chdir(dir.as_ptr())),
            Step::PivotRoot => {
                let r = libc::syscall(libc::SYS_pivot_root, ctx.dot.as_ptr(), ctx.dot.as_ptr());
                if r == -1 {
                    return Err(errno());
                }
                check(libc::umount2(ctx.dot.as_ptr(), libc::MNT_DETACH))?;
                check(libc::chdir(ctx.slash.as_ptr()))
            }
            Step::Hostname(name) => check(libc::sethostname(name.as_ptr(), name.as_bytes().len())),
            Step::Domainname(name) => {
                check(libc::setdomainname(name.as_ptr(), name.as_bytes().len()))
            }
            Step::LoopbackUp => {
                let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
                if fd == -1 {
                    return Err(errno());
                }
                let r = libc::ioctl(fd, libc::SIOCSIFFLAGS as _, ctx.ifreq as *const libc::ifreq);
                let e = errno();
                libc::close(fd);
                if r == -1 {
                    Err(e)
                } else {
                    Ok(())
                }
            }
            Step::SetIds { uid, gid } => {
                // Raw system calls: glibc's setgid/setuid make every thread of the process
                // change ids, and wait on a lock for threads that do not exist in the child.
                if libc::syscall(libc::SYS_setgid, c_ulong::from(*gid)) == -1 {
                    return Err(errno());
                }
                if libc::syscall(libc::SYS_setuid, c_ulong::from(*uid)) == -1 {
                    return Err(errno());
                }
                Ok(())
            }
        }
    }
}

/// The child: waits for the parent's go, sets itself up and executes the builder.
///
/// # Safety
/// Only to be called in the child of a fork-like clone; see the module docs.
unsafe fn child_main(ctx: &ChildCtx<'_>) -> ! {
    // SAFETY: see the module docs; each call is an async-signal-safe system call on memory
    // prepared before the clone.
    unsafe {
        libc::close(ctx.sync_write);
        let mut byte = 0u8;
        loop {
            let r = libc::read(ctx.sync_read, (&mut byte as *mut u8).cast::<c_void>(), 1);
            if r == 1 {
                break;
            }
            if r == -1 && errno() == libc::EINTR {
                continue;
            }
            // The parent gave up (it could not write the id maps) or died.
            libc::_exit(127);
        }
        libc::close(ctx.sync_read);
        // Die with the parent's thread.
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as c_ulong,
            0 as c_ulong,
            0 as c_ulong,
            0 as c_ulong,
        );

        let null = libc::open(ctx.dev_null.as_ptr(), libc::O_RDWR);
        if null == -1 {
            fail(ctx, STEP_STDIO, errno());
        }
        if libc::dup2(null, 0) == -1
            || libc::dup2(ctx.log_write, 1) == -1
            || libc::dup2(ctx.log_write, 2) == -1
        {
            fail(ctx, STEP_STDIO, errno());
        }
        if null > 2 {
            libc::close(null);
        }
        // Everything else is closed by execve (the report pipe only then).
        libc::syscall(
            libc::SYS_close_range,
            3 as c_ulong,
            c_ulong::from(u32::MAX),
            c_ulong::from(libc::CLOSE_RANGE_CLOEXEC),
        );
        if libc::sigprocmask(libc::SIG_SETMASK, ctx.empty_set, std::ptr::null_mut()) == -1 {
            fail(ctx, STEP_INIT, errno());
        }
        // The Rust runtime ignores SIGPIPE; builders expect the default.
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        if libc::setsid() == -1 {
            fail(ctx, STEP_INIT, errno());
        }

        let mut index: u32 = 0;
        for (step, optional) in &ctx.program.steps {
            if let Err(e) = do_step(ctx, step) {
                if !optional {
                    fail(ctx, index, e);
                }
            }
            index = index.wrapping_add(1);
        }
        libc::execve(
            ctx.program.builder.as_ptr(),
            ctx.argv.as_ptr(),
            ctx.envp.as_ptr(),
        );
        fail(ctx, STEP_EXEC, errno())
    }
}

fn write_map(pid: pid_t, file: &str, contents: &str) -> io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(format!("/proc/{pid}/{file}"))?;
    f.write_all(contents.as_bytes())
}

/// The effective user and group ids of this process.
pub(super) fn effective_ids() -> (u32, u32) {
    // SAFETY: geteuid and getegid cannot fail and touch no memory.
    unsafe { (libc::geteuid(), libc::getegid()) }
}

/// Starts `program` in new namespaces.
pub(super) fn start(program: &Program) -> Result<Child, StartError> {
    let err = |what: &'static str| move |source: io::Error| StartError { what, source };
    let (log_read, log_write) = pipe().map_err(err("creating the log pipe"))?;
    let (report_read, report_write) = pipe().map_err(err("creating a pipe"))?;
    let (sync_read, sync_write) = pipe().map_err(err("creating a pipe"))?;

    let mut argv: Vec<*const c_char> = program.argv.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const c_char> = program.envp.iter().map(|a| a.as_ptr()).collect();
    envp.push(std::ptr::null());
    // SAFETY: an all-zero ifreq is valid (a plain C struct and union of integers/arrays).
    let mut ifreq: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in ifreq.ifr_name.iter_mut().zip(b"lo") {
        *d = *s as c_char;
    }
    ifreq.ifr_ifru.ifru_flags =
        (libc::IFF_UP | libc::IFF_LOOPBACK | libc::IFF_RUNNING) as libc::c_short;
    // SAFETY: an all-zero sigset_t is a valid value to pass to sigemptyset.
    let mut empty_set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `empty_set` is a valid sigset_t.
    unsafe { libc::sigemptyset(&mut empty_set) };
    let ctx = ChildCtx {
        program,
        argv: &argv,
        envp: &envp,
        ifreq: &ifreq,
        empty_set: &empty_set,
        dev_null: c"/dev/null",
        dot: c".",
        slash: c"/",
        log_write: log_write.as_raw_fd(),
        report_write: report_write.as_raw_fd(),
        sync_read: sync_read.as_raw_fd(),
        sync_write: sync_write.as_raw_fd(),
    };

    let flags = clone_flags(program.network) | libc::SIGCHLD;
    // SAFETY: a fork-like clone (no new stack, so the child continues here on a copy of this
    // stack); the child only runs `child_main`, which never returns (see the module docs).
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone,
            flags as c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    if pid == -1 {
        return Err(StartError {
            what: "creating the build's namespaces",
            source: io::Error::last_os_error(),
        });
    }
    if pid == 0 {
        // SAFETY: this is the child of the clone above.
        unsafe { child_main(&ctx) }
    }
    let pid = pid as pid_t;
    drop((log_write, report_write, sync_read));
    let mut child = Child {
        pid,
        log: File::from(log_read),
        report: File::from(report_read),
        reaped: false,
    };

    // Map the sandbox user and group to ours, as CppNix does.
    let maps = write_map(pid, "setgroups", "deny")
        .or_else(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                Ok(())
            } else {
                Err(e)
            }
        })
        .map_err(err("writing the sandbox's setgroups"))
        .and_then(|()| {
            write_map(
                pid,
                "uid_map",
                &format!("{} {} 1", program.uid_map.0, program.uid_map.1),
            )
            .map_err(err("writing the sandbox's uid_map"))
        })
        .and_then(|()| {
            write_map(
                pid,
                "gid_map",
                &format!("{} {} 1", program.gid_map.0, program.gid_map.1),
            )
            .map_err(err("writing the sandbox's gid_map"))
        });
    if let Err(e) = maps {
        child.kill();
        return Err(e);
    }
    let mut sync = File::from(sync_write);
    if let Err(source) = sync.write_all(&[1]) {
        child.kill();
        return Err(StartError {
            what: "starting the sandbox",
            source,
        });
    }
    Ok(child)
}

impl Child {
    /// Waits until the builder is executed; returns the failed step and its error otherwise.
    pub(super) fn setup_result(&mut self) -> io::Result<Option<(u32, io::Error)>> {
        let mut rec = Vec::new();
        self.report.read_to_end(&mut rec)?;
        match rec.get(..8) {
            Some(r) => {
                let mut step = [0u8; 4];
                let mut err = [0u8; 4];
                step.copy_from_slice(&r[..4]);
                err.copy_from_slice(&r[4..]);
                Ok(Some((
                    u32::from_le_bytes(step),
                    io::Error::from_raw_os_error(i32::from_le_bytes(err)),
                )))
            }
            None => Ok(None),
        }
    }

    /// Waits for the child; returns its raw wait status.
    pub(super) fn wait(&mut self) -> io::Result<c_int> {
        let status = wait(self.pid)?;
        self.reaped = true;
        Ok(status)
    }

    /// Sends `SIGKILL` to the child (the init of its PID namespace, so every process of the
    /// build dies) without reaping it; [`Child::wait`] still has to be called.
    pub(super) fn signal_kill(&self) {
        if !self.reaped {
            // SAFETY: `pid` is our unreaped child, so the pid cannot have been reused.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
        }
    }

    /// Kills and reaps the child.
    pub(super) fn kill(&mut self) {
        if !self.reaped {
            // SAFETY: `pid` is our unreaped child, so the pid cannot have been reused.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
            let _ = self.wait();
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Sends `SIGKILL` to every process of the process group `pgid` (a builder run without the
/// sandbox leads its own group).
pub(super) fn kill_process_group(pgid: u32) {
    let Ok(pgid) = pid_t::try_from(pgid) else {
        return;
    };
    if pgid <= 1 {
        return;
    }
    // SAFETY: `kill` has no memory effects; a negative pid names the process group, which the
    // caller's unreaped child leads, so the group cannot have been reused.
    unsafe { libc::kill(-pgid, libc::SIGKILL) };
}

fn wait(pid: pid_t) -> io::Result<c_int> {
    let mut status: c_int = 0;
    loop {
        // SAFETY: `status` is a valid int to fill.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return Ok(status);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}
