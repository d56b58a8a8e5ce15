//! `nixrs`: the reference command-line client of the nixrs crates.
//!
//! It is built only on the crates' public APIs. It has native subcommands (`nixrs nar dump`,
//! `nixrs hash path`, …) and answers to CppNix's own command lines: `nixrs nix-store …`,
//! `nixrs nix-hash …`, `nixrs nix-instantiate …`, and the same when invoked through a symlink
//! named `nix-store`, `nix-hash`, `nix-instantiate`, `nix-build` or `nix-env`.
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

mod cmd;
mod thp;
mod util;

/// mimalloc instead of glibc malloc: the evaluator makes and frees many small objects.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::ffi::OsString;
use std::path::Path;

use util::CmdResult;

const USAGE: &str = "\
usage: nixrs COMMAND [ARGS…]

native commands:
  nar dump PATH                 write the NAR of PATH to standard output
  nar restore DIR               unpack a NAR from standard input into DIR
  nar ls [--json] [-R] FILE [PATH]
  nar cat FILE PATH
  hash path [--type T] [--base32|--base16|--sri] PATH
  hash file [--type T] [--base32|--base16|--sri] FILE
  hash to-base32|to-base16|to-sri [--type T] HASH…
  store add|query|closure|verify|gc|delete|export|import [--store R] …
  profile list|set|switch|rollback|delete-generations --profile P …
  store path-of [--name N] [--fixed ALGO [--recursive]] PATH
  key generate NAME SECRET_FILE PUBLIC_FILE
  narinfo sign --key-file SK FILE
  narinfo verify --trusted-key KEY… FILE
  copy [--from URL] [--to URL] [--trusted-key KEY…] [--secret-key-file SK] [--no-check-sigs]
       [--compression xz|zstd|bzip2|none] PATH…
  eval [--strict] [--json] (-E EXPR | FILE)
  derivation show [--store ROOT] [--store-dir DIR] DRV…
  derivation path [--store-dir DIR] FILE…
  build [--store R] [-j N] [--keep-going] [--keep-failed] [-Q] DRV…
  log [--store R] PATH…

CppNix command lines (also through a symlink of that name):
  nix-store …   nix-hash …   nix-instantiate …   nix-build …   nix-env …
";

/// The CppNix programs we answer to, by `argv[0]` or as the first argument.
const COMPAT: &[&str] = &[
    "nix-store",
    "nix-hash",
    "nix-instantiate",
    "nix-build",
    "nix-env",
];

fn main() {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    let argv0 = args.remove(0);
    let invoked_as = Path::new(&argv0)
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("nixrs")
        .to_string();

    let (program, rest) = if COMPAT.contains(&invoked_as.as_str()) {
        (invoked_as, args)
    } else if let Some(first) = args.first().and_then(|a| a.to_str()) {
        let first = first.to_string();
        (first, args.split_off(1))
    } else {
        eprint!("{USAGE}");
        std::process::exit(1);
    };

    // commands that only evaluate start without transparent huge pages (see thp.rs)
    if matches!(program.as_str(), "nix-instantiate" | "eval") {
        thp::small_heap_policy();
    }
    let result = dispatch(&program, &rest);
    std::process::exit(util::finish(&program, result));
}

fn dispatch(program: &str, args: &[OsString]) -> CmdResult {
    match program {
        // CppNix command lines
        "nix-store" => cmd::nix_store::main(args),
        "nix-hash" => cmd::hash::nix_hash(args),
        "nix-instantiate" => cmd::eval::nix_instantiate(args),
        "nix-env" => cmd::nix_env::main(args),
        "nix-build" => cmd::nix_build::main(args),
        // native commands
        "nar" => cmd::nar::main(args),
        "derivation" => cmd::derivation::main(args),
        "build" => cmd::build::main(args),
        "log" => cmd::build::log_main(args),
        "hash" => cmd::hash::main(args),
        "store" => cmd::store::main(args),
        "profile" => cmd::profile::main(args),
        "key" => cmd::key::main(args),
        "narinfo" => cmd::narinfo::main(args),
        "copy" => cmd::copy::main(args),
        "eval" => cmd::eval::main(args),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(0)
        }
        other => Err(util::CmdError::usage(format!(
            "unknown command '{other}'\n{USAGE}"
        ))),
    }
}
