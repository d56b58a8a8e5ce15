//! What `nix-store -r`/`nixrs build` ([`super::build`]) and `nix-build` ([`super::nix_build`])
//! share: the realisation options from the environment, the build flags (`-j`, `--cores`,
//! `-k`, `-K`, `-Q`, `--sandbox`, `--no-sandbox`, `--timeout`, `--max-silent-time`,
//! `--option NAME VALUE`), and the progress
//! printed on standard error with CppNix's failure messages.

use std::ffi::OsString;
use std::io::Write;
use std::sync::Arc;

use nix_derivation::build::builder::{BuildError, BuildOptions};
use nix_derivation::build::realise::{
    realise, BuildObserver, RealiseOptions, Realised, SandboxMode,
};
use nix_store::store::local::LocalStore;
use nix_store::store::Store;
use nix_store::store_path::{StoreDir, StorePath};

use super::build::{describe, report};
use crate::util::{arg_str, CmdError};

/// The realisation options before any flag: build directories in `TMPDIR` (else `/tmp`), and
/// this process's environment for the builders' impure variables.
pub(crate) fn realise_options() -> RealiseOptions {
    use std::os::unix::ffi::OsStrExt;
    RealiseOptions {
        build_dir_parent: std::env::temp_dir(),
        build: BuildOptions {
            impure_env: std::env::vars_os()
                .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
                .collect(),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A job or core count: a number or `auto` (the available parallelism).
pub(crate) fn jobs(v: &str) -> Result<usize, CmdError> {
    if v == "auto" {
        return Ok(std::thread::available_parallelism().map_or(1, |n| n.get()));
    }
    v.parse()
        .map_err(|_| CmdError::usage(format!("'{v}' is not an integer")))
}

/// A number of seconds (`--timeout`, `--max-silent-time`).
pub(crate) fn seconds(v: &str) -> Result<u64, CmdError> {
    v.parse()
        .map_err(|_| CmdError::usage(format!("'{v}' is not an integer")))
}

/// The next argument, as the value of `flag` (which takes `n` values); CppNix's usage error
/// when there is none.
pub(crate) fn next_value(
    it: &mut std::slice::Iter<'_, OsString>,
    flag: &str,
    n: usize,
) -> Result<String, CmdError> {
    let v = it
        .next()
        .ok_or_else(|| CmdError::usage(format!("flag '{flag}' requires {n} argument(s)")))?;
    Ok(arg_str(v)?.to_string())
}

/// Handles one build flag `flag` if it is one of those shared by the build commands, taking
/// its values from `value(flag, number of values the flag takes)` (see [`next_value`]). Returns whether
/// `flag` was one of them.
///
/// `--option` sets `max-jobs`, `cores`, `timeout`, `max-silent-time`, `keep-going`, `keep-failed` and `sandbox` (`true` and
/// `relaxed` require the sandbox, as `__noChroot` is not supported; an invalid value gets
/// CppNix's warning and changes nothing); other settings are accepted and ignored.
pub(crate) fn parse_flag(
    flag: &str,
    options: &mut RealiseOptions,
    quiet: &mut bool,
    value: &mut dyn FnMut(&str, usize) -> Result<String, CmdError>,
) -> Result<bool, CmdError> {
    match flag {
        "-j" | "--max-jobs" => options.max_jobs = jobs(&value(flag, 1)?)?,
        "--cores" => options.build.cores = jobs(&value(flag, 1)?)?,
        "-k" | "--keep-going" => options.keep_going = true,
        "-K" | "--keep-failed" => options.keep_failed = true,
        "-Q" | "--no-build-output" | "--quiet" => *quiet = true,
        "--sandbox" => options.sandbox = SandboxMode::Enabled,
        "--no-sandbox" => options.sandbox = SandboxMode::Disabled,
        "--timeout" => options.build.timeout = seconds(&value(flag, 1)?)?,
        "--max-silent-time" => options.build.max_silent_time = seconds(&value(flag, 1)?)?,
        "--option" => {
            let name = value(flag, 2)?;
            let v = value(flag, 2)?;
            match name.as_str() {
                "max-jobs" => options.max_jobs = jobs(&v)?,
                "cores" => options.build.cores = jobs(&v)?,
                "timeout" => options.build.timeout = seconds(&v)?,
                "max-silent-time" => options.build.max_silent_time = seconds(&v)?,
                "keep-going" => options.keep_going = v == "true",
                "keep-failed" => options.keep_failed = v == "true",
                "sandbox" => match v.as_str() {
                    "true" | "relaxed" => options.sandbox = SandboxMode::Enabled,
                    "false" => options.sandbox = SandboxMode::Disabled,
                    // CppNix warns and keeps the setting as it was.
                    _ => eprintln!("warning: error: option 'sandbox' has invalid value '{v}'"),
                },
                _ => {}
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Prints CppNix's list of derivations to build on standard error: `this derivation will be
/// built:` or `these N derivations will be built:` (`verb` "will" or "would"), then one
/// indented path a line. Prints nothing for an empty list.
pub(crate) fn print_to_build(store_dir: &StoreDir, drvs: &[&StorePath], verb: &str) {
    match drvs.len() {
        0 => return,
        1 => eprintln!("this derivation {verb} be built:"),
        n => eprintln!("these {n} derivations {verb} be built:"),
    }
    for d in drvs {
        eprintln!("  {}", store_dir.display(d));
    }
}

/// Prints build progress and logs on standard error, as CppNix does.
pub(crate) struct Progress {
    /// `-Q`: no build logs (a failed builder's message then ends with its log tail).
    pub(crate) quiet: bool,
    /// For the paths in messages.
    pub(crate) store_dir: StoreDir,
    /// List the derivations to build sorted by path (`nix-build`) rather than in dependency
    /// order (`nix-store -r`).
    pub(crate) sort_list: bool,
}

impl BuildObserver for Progress {
    fn will_build(&self, drvs: &[StorePath]) {
        let mut list: Vec<&StorePath> = drvs.iter().collect();
        if self.sort_list {
            list.sort();
        }
        print_to_build(&self.store_dir, &list, "will");
    }
    fn started(&self, drv: &StorePath) {
        eprintln!("building '{}'...", self.store_dir.display(drv));
    }
    fn checking(&self, drv: &StorePath) {
        eprintln!("checking outputs of '{}'...", self.store_dir.display(drv));
    }
    fn info(&self, message: &str) {
        eprintln!("{message}");
    }
    fn log(&self, _drv: &StorePath, bytes: &[u8]) {
        if !self.quiet {
            let _ = std::io::stderr().write_all(bytes);
        }
    }
    fn failed(&self, error: &BuildError) {
        eprintln!("error: {}", describe(error, self.quiet));
    }
    fn warning(&self, message: &str) {
        eprintln!("warning: {message}");
    }
}

/// Realises `drvs` with `options` and [`Progress`] on standard error; a failure becomes
/// CppNix's messages and exit status.
pub(crate) fn realise_with_progress(
    store: &LocalStore,
    drvs: &[StorePath],
    options: &RealiseOptions,
    quiet: bool,
    sort_list: bool,
) -> Result<Realised, CmdError> {
    let mut options = options.clone();
    options.observer = Some(Arc::new(Progress {
        quiet,
        store_dir: store.store_dir().clone(),
        sort_list,
    }));
    match realise(store, drvs, &options) {
        Ok(r) => Ok(r),
        Err(BuildError::Realise(f)) => Err(report(&f, quiet)),
        Err(e) => Err(CmdError::msg(describe(&e, quiet))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<(RealiseOptions, bool, Vec<String>), CmdError> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        let mut options = realise_options();
        let mut quiet = false;
        let mut rest = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let a = arg_str(a)?.to_string();
            let mut value = |flag: &str, n: usize| next_value(&mut it, flag, n);
            if !parse_flag(&a, &mut options, &mut quiet, &mut value)? {
                rest.push(a);
            }
        }
        Ok((options, quiet, rest))
    }

    #[test]
    fn shared_flags_set_the_options() -> Result<(), CmdError> {
        let (o, quiet, rest) = parse(&[
            "-j", "3", "--cores", "2", "-k", "-K", "-Q", "x", "--option", "sandbox", "relaxed",
        ])?;
        assert_eq!((o.max_jobs, o.build.cores), (3, 2));
        assert!(o.keep_going && o.keep_failed && quiet);
        assert_eq!(o.sandbox, SandboxMode::Enabled);
        assert_eq!(rest, ["x"]);
        let (o, _, _) = parse(&["--sandbox", "--option", "sandbox", "false"])?;
        assert_eq!(o.sandbox, SandboxMode::Disabled);
        // An invalid value keeps the setting (CppNix warns).
        let (o, _, _) = parse(&["--no-sandbox", "--option", "sandbox", "maybe"])?;
        assert_eq!(o.sandbox, SandboxMode::Disabled);
        let (o, _, _) = parse(&["--option", "max-jobs", "auto", "--option", "other", "v"])?;
        assert!(o.max_jobs >= 1);
        Ok(())
    }

    #[test]
    fn missing_values_and_bad_numbers_are_cppnix_usage_errors() {
        let e = parse(&["-j"]).err().map(|e| (e.message, e.usage));
        assert_eq!(
            e,
            Some(("flag '-j' requires 1 argument(s)".to_string(), true))
        );
        let e = parse(&["--option", "cores"]).err().map(|e| e.message);
        assert_eq!(e.as_deref(), Some("flag '--option' requires 2 argument(s)"));
        let e = parse(&["--max-jobs", "many"]).err().map(|e| e.message);
        assert_eq!(e.as_deref(), Some("'many' is not an integer"));
    }
}
