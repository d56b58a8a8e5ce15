//! `nixrs hash …` (like `nix hash …`) and CppNix's `nix-hash`.
//!
//! * `nixrs hash path|file [--type T] [--base32|--base16|--sri|--base64] PATH…` — NAR hash of a
//!   path / hash of a file's bytes; sha256 and SRI by default, as `nix hash path|file`.
//! * `nixrs hash to-base32|to-base16|to-sri|to-base64 [--type T] HASH…`
//! * `nix-hash [--type T] [--flat] [--base32] [--truncate] PATH…` (md5 and base 16 by default)
//!   and `nix-hash --to-base32|--to-base16 [--type T] HASH…`, with CppNix 2.8's output and error
//!   texts.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::Path;

use nix_store::hash::{Base64Error, Hash, HashAlgo, Hasher, ParseHashError};

use crate::util::{arg_str, CmdError, CmdResult};

/// How to print a hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    Base16,
    Nix32,
    Base64,
    Sri,
}

fn render(h: &Hash, base: Base) -> String {
    match base {
        Base::Base16 => h.to_base16(),
        Base::Nix32 => h.to_nix32(),
        Base::Base64 => h.to_base64(),
        Base::Sri => h.to_sri(),
    }
}

/// An I/O error's text without Rust's " (os error N)" suffix, as CppNix prints `strerror`.
pub fn os_error_text(e: &io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// A hash-parsing error with CppNix's wording.
fn hash_error(e: ParseHashError, type_known: bool) -> CmdError {
    match &e {
        ParseHashError::UnknownAlgo { .. } => CmdError::usage(e.to_string()),
        // CppNix 2.8 prints the offending character with a broken format: always ''.
        ParseHashError::InvalidBase64 {
            source: Base64Error::InvalidChar { .. },
            ..
        } => CmdError::msg("invalid character in Base64 string: ''"),
        ParseHashError::MissingAlgo { hash } if !type_known => CmdError::msg(format!(
            "hash '{hash}' does not include a type, nor is the type otherwise known from context"
        )),
        _ => CmdError::msg(e.to_string()),
    }
}

fn parse_algo(s: &str) -> Result<HashAlgo, CmdError> {
    s.parse::<HashAlgo>()
        .map_err(|e| CmdError::usage(e.to_string()))
}

/// Hash of a path: the NAR serialisation (`recursive`) or the file's bytes.
fn hash_path(path: &Path, algo: HashAlgo, recursive: bool) -> Result<Hash, CmdError> {
    let shown = path.display();
    let mut hasher = Hasher::new(algo);
    if recursive {
        std::fs::symlink_metadata(path).map_err(|e| {
            CmdError::msg(format!(
                "getting status of '{shown}': {}",
                os_error_text(&e)
            ))
        })?;
        nix_nar::dump_path(path, &mut hasher)?;
    } else {
        let mut f = File::open(path)
            .map_err(|e| CmdError::msg(format!("opening file '{shown}': {}", os_error_text(&e))))?;
        io::copy(&mut f, &mut hasher)
            .map_err(|e| CmdError::msg(format!("reading from file: {}", os_error_text(&e))))?;
    }
    Ok(hasher.finish())
}

/// Parses one hash argument of a to-base command (`algo` known from `--type` or not).
fn parse_hash_arg(s: &str, algo: Option<HashAlgo>) -> Result<Hash, CmdError> {
    match algo {
        Some(a) => Hash::parse_with_algo(s, a),
        None => Hash::parse_any(s),
    }
    .map_err(|e| hash_error(e, algo.is_some()))
}

/// `nixrs hash SUBCOMMAND …`.
pub fn main(args: &[OsString]) -> CmdResult {
    let Some(sub) = args.first() else {
        return Err(CmdError::usage(
            "'nixrs hash' needs a subcommand: path, file, to-base16, to-base32, to-base64 or to-sri",
        ));
    };
    let sub = arg_str(sub)?;
    let mut algo: Option<HashAlgo> = None;
    let mut base: Option<Base> = None;
    let mut operands: Vec<&OsString> = Vec::new();
    let mut it = args[1..].iter();
    let mut flags_done = false;
    while let Some(a) = it.next() {
        let s = a.to_str().unwrap_or("");
        if flags_done || !s.starts_with('-') || s == "-" {
            operands.push(a);
            continue;
        }
        match s {
            "--" => flags_done = true,
            "--type" => {
                let t = it
                    .next()
                    .ok_or_else(|| CmdError::usage("'--type' requires an argument"))?;
                algo = Some(parse_algo(arg_str(t)?)?);
            }
            "--base16" => base = Some(Base::Base16),
            "--base32" => base = Some(Base::Nix32),
            "--base64" => base = Some(Base::Base64),
            "--sri" => base = Some(Base::Sri),
            _ => return Err(CmdError::usage(format!("unrecognised flag '{s}'"))),
        }
    }
    let to = match sub {
        "path" | "file" => None,
        "to-base16" => Some(Base::Base16),
        "to-base32" => Some(Base::Nix32),
        "to-base64" => Some(Base::Base64),
        "to-sri" => Some(Base::Sri),
        other => {
            return Err(CmdError::usage(format!(
                "unknown 'hash' subcommand '{other}'"
            )))
        }
    };
    if let Some(to) = to {
        if base.is_some() {
            return Err(CmdError::usage(format!(
                "'hash {sub}' does not take an output format flag"
            )));
        }
        for op in operands {
            println!("{}", render(&parse_hash_arg(arg_str(op)?, algo)?, to));
        }
    } else {
        let algo = algo.unwrap_or(HashAlgo::Sha256);
        let base = base.unwrap_or(Base::Sri);
        for op in operands {
            println!(
                "{}",
                render(&hash_path(Path::new(op), algo, sub == "path")?, base)
            );
        }
    }
    Ok(0)
}

/// CppNix's `nix-hash ARGS…`.
pub fn nix_hash(args: &[OsString]) -> CmdResult {
    let mut algo = HashAlgo::Md5;
    let mut flat = false;
    let mut base32 = false;
    let mut truncate = false;
    let mut to: Option<Base> = None;
    let mut operands: Vec<&OsString> = Vec::new();
    let mut it = args.iter();
    let mut flags_done = false;
    while let Some(a) = it.next() {
        let s = a.to_str().unwrap_or("");
        if flags_done || !s.starts_with('-') {
            operands.push(a);
            continue;
        }
        match s {
            "--" => flags_done = true,
            "--help" => {
                println!(
                    "Usage: nix-hash [--flat] [--base32] [--truncate] [--type HASH-TYPE] PATH..."
                );
                println!("       nix-hash [--to-base16|--to-base32] [--type HASH-TYPE] HASH...");
                return Ok(0);
            }
            "--version" => {
                println!("nix-hash (nixrs) {}", env!("CARGO_PKG_VERSION"));
                return Ok(0);
            }
            "--flat" => flat = true,
            "--base32" => base32 = true,
            "--truncate" => truncate = true,
            "--type" => {
                let t = it
                    .next()
                    .ok_or_else(|| CmdError::usage("'--type' requires an argument"))?;
                algo = parse_algo(arg_str(t)?)?;
            }
            "--to-base16" => to = Some(Base::Base16),
            "--to-base32" => to = Some(Base::Nix32),
            _ => return Err(CmdError::usage(format!("unrecognised flag '{s}'"))),
        }
    }
    if let Some(to) = to {
        for op in operands {
            println!("{}", render(&parse_hash_arg(arg_str(op)?, Some(algo))?, to));
        }
        return Ok(0);
    }
    for op in operands {
        let h = hash_path(Path::new(op), algo, !flat)?;
        let digest = if truncate && h.digest().len() > 20 {
            h.compress(20)
        } else {
            h.digest().to_vec()
        };
        let text = if base32 {
            nix_store::hash::nix32::encode(&digest)
        } else {
            nix_store::hash::base16::encode(&digest)
        };
        println!("{text}");
    }
    Ok(0)
}
