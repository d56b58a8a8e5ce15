//! `nixrs nar …` and the NAR operations of `nix-store` (`--dump`, `--restore`).
//!
//! The CppNix forms print CppNix 2.8's messages (`error: …`, exit code 1) and, like 2.8,
//! accept trailing bytes after the NAR on `--restore`. The native forms print our own messages,
//! which name the byte offset of a bad token, and reject trailing bytes.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufReader, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix_nar::{listing, reader, restore};

use crate::util::{CmdError, CmdResult};

const BUF: usize = 256 * 1024;

/// `nixrs nar dump|restore|ls|cat …`.
pub fn main(args: &[OsString]) -> CmdResult {
    let Some(sub) = args.first().and_then(|a| a.to_str()) else {
        return Err(CmdError::usage(
            "missing subcommand (dump, restore, ls, cat)",
        ));
    };
    let rest = &args[1..];
    match sub {
        "dump" => dump_cmd(one_arg(rest, "nar dump PATH")?),
        "restore" => restore_cmd(one_arg(rest, "nar restore DIR")?, false),
        "ls" => ls_cmd(rest),
        "cat" => cat_cmd(rest),
        other => Err(CmdError::usage(format!("unknown subcommand 'nar {other}'"))),
    }
}

/// `nix-store --dump PATH`.
pub fn nix_store_dump(args: &[OsString]) -> CmdResult {
    dump_cmd(cppnix_one_arg(args)?)
}

/// `nix-store --restore PATH` (NAR on standard input).
pub fn nix_store_restore(args: &[OsString]) -> CmdResult {
    restore_cmd(cppnix_one_arg(args)?, true)
}

fn cppnix_one_arg(args: &[OsString]) -> Result<&OsString, CmdError> {
    match args {
        [one] => Ok(one),
        _ => Err(CmdError::usage("only one argument allowed")),
    }
}

fn one_arg<'a>(args: &'a [OsString], usage: &str) -> Result<&'a OsString, CmdError> {
    match args {
        [one] => Ok(one),
        _ => Err(CmdError::usage(format!("usage: nixrs {usage}"))),
    }
}

/// The error chain on one line, with Rust's " (os error N)" suffixes removed so that I/O
/// errors read as CppNix's `strerror` text.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    strip_os_error(&msg)
}

fn strip_os_error(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(" (os error ") {
        out.push_str(&rest[..i]);
        let after = &rest[i + " (os error ".len()..];
        match after.find(')') {
            Some(j) if after[..j].chars().all(|c| c.is_ascii_digit()) => rest = &after[j + 1..],
            _ => {
                out.push_str(" (os error ");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn dump_cmd(path: &OsString) -> CmdResult {
    let path = Path::new(path);
    let stdout = io::stdout();
    let mut out = stdout.lock();
    // CppNix streams: it has written the magic before it looks at the path, and the node's
    // "(" before it finds an unsupported type. Reproduce that prefix for the root.
    let mut prefix = Vec::new();
    match std::fs::symlink_metadata(path) {
        Err(_) => nix_nar::wire::encode_str(&mut prefix, nix_nar::wire::MAGIC),
        Ok(m) if !(m.is_file() || m.is_dir() || m.file_type().is_symlink()) => {
            nix_nar::wire::encode_str(&mut prefix, nix_nar::wire::MAGIC);
            nix_nar::wire::encode_str(&mut prefix, nix_nar::wire::OPEN);
        }
        Ok(_) => {}
    }
    if !prefix.is_empty() {
        let _ = out.write_all(&prefix);
        let _ = out.flush();
    }
    match nix_nar::dump_path(path, &mut out) {
        Ok(_) => Ok(0),
        Err(e) => Err(CmdError::msg(chain(&e))),
    }
}

/// CppNix 2.8's wording for a bad NAR (it has no byte offsets).
fn cppnix_read_error(e: &reader::Error) -> String {
    match e {
        reader::Error::Truncated { .. } => "unexpected end-of-file".into(),
        reader::Error::BadMagic { .. } => {
            "bad archive: input doesn't look like a Nix archive".into()
        }
        reader::Error::NonZeroPadding { .. } => "non-zero padding".into(),
        reader::Error::InvalidName { name, .. } => {
            format!("NAR contains invalid file name '{name}'")
        }
        reader::Error::NonEmptyExecutableMarker { .. } => {
            "bad archive: executable marker has non-empty value".into()
        }
        reader::Error::UnknownType { file_type, .. } => {
            format!("bad archive: unknown file type {file_type}")
        }
        reader::Error::UnknownField { field, .. } => format!("bad archive: unknown field {field}"),
        reader::Error::MultipleTypeFields { .. } => "bad archive: multiple type fields".into(),
        other => chain(other),
    }
}

fn restore_cmd(target: &OsString, cppnix: bool) -> CmdResult {
    let target = PathBuf::from(target);
    let stdin = io::stdin();
    let mut input = BufReader::with_capacity(BUF, stdin.lock());
    let mut opts = restore::Options::default();
    opts.reader.allow_trailing_data = cppnix;
    match restore::restore(&mut input, &target, &opts) {
        Ok(()) => Ok(0),
        Err(restore::Error::TargetExists { path }) if cppnix => {
            // CppNix fails when it creates the root node; say what it would have created.
            let mut r = reader::Reader::new(&mut input);
            let msg = match r.next() {
                Ok(Some(reader::Event::Directory { .. })) => {
                    format!("creating directory '{}': File exists", path.display())
                }
                Ok(Some(reader::Event::File { .. })) => {
                    format!("creating file '{}': File exists", path.display())
                }
                Ok(Some(reader::Event::Symlink { target, .. })) => format!(
                    "creating symlink from '{}' to '{}': File exists",
                    path.display(),
                    String::from_utf8_lossy(&target)
                ),
                Ok(_) => format!("path '{}' already exists", path.display()),
                Err(e) => cppnix_read_error(&e),
            };
            Err(CmdError::msg(msg))
        }
        Err(restore::Error::Read(e)) if cppnix => Err(CmdError::msg(cppnix_read_error(&e))),
        Err(e) => Err(CmdError::msg(chain(&e))),
    }
}

fn open_nar(file: &OsString) -> Result<BufReader<File>, CmdError> {
    let f = File::open(file).map_err(|e| {
        CmdError::msg(strip_os_error(&format!(
            "opening file '{}': {e}",
            Path::new(file).display()
        )))
    })?;
    Ok(BufReader::with_capacity(BUF, f))
}

fn ls_cmd(args: &[OsString]) -> CmdResult {
    let (mut json, mut recursive, mut long, mut directory) = (false, false, false, false);
    let mut positional = Vec::new();
    for a in args {
        match a.as_bytes() {
            b"--json" => json = true,
            b"-R" | b"--recursive" => recursive = true,
            b"-l" | b"--long" => long = true,
            b"-d" | b"--directory" => directory = true,
            f if f.len() > 1 && f[0] == b'-' && f[1] != b'-' => {
                for &c in &f[1..] {
                    match c {
                        b'R' => recursive = true,
                        b'l' => long = true,
                        b'd' => directory = true,
                        _ => {
                            return Err(CmdError::usage(format!(
                                "unrecognised flag '{}'",
                                a.to_string_lossy()
                            )))
                        }
                    }
                }
            }
            _ => positional.push(a),
        }
    }
    let (file, path) = match positional.as_slice() {
        [file] => (*file, &b""[..]),
        [file, path] => (*file, path.as_bytes()),
        _ => {
            return Err(CmdError::usage(
                "usage: nixrs nar ls [--json] [-R] [-l] [-d] FILE [PATH]",
            ))
        }
    };
    let l = listing::list(open_nar(file)?).map_err(|e| CmdError::msg(chain(&e)))?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    if json {
        match l.find(path) {
            Ok(node) => {
                // No newline after the JSON, as CppNix 2.8.
                let _ = write!(out, "{}", node.to_json(recursive));
            }
            Err(listing::Error::NotFound { path }) => {
                // CppNix 2.8 has already opened the JSON object when it finds out.
                let _ = out.write_all(b"{}");
                let _ = out.flush();
                return Err(CmdError::msg(format!(
                    "path '{path}' does not exist in NAR"
                )));
            }
            Err(e) => return Err(CmdError::msg(chain(&e))),
        }
    } else {
        let lines = l
            .ls(path, long, recursive, directory)
            .map_err(|e| CmdError::msg(chain(&e)))?;
        for line in lines {
            out.write_all(&line)
                .and_then(|()| out.write_all(b"\n"))
                .map_err(|e| CmdError::msg(strip_os_error(&format!("writing output: {e}"))))?;
        }
    }
    out.flush()
        .map_err(|e| CmdError::msg(strip_os_error(&format!("writing output: {e}"))))?;
    Ok(0)
}

fn cat_cmd(args: &[OsString]) -> CmdResult {
    let [file, path] = args else {
        return Err(CmdError::usage("usage: nixrs nar cat FILE PATH"));
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(BUF, stdout.lock());
    listing::cat(open_nar(file)?, path.as_bytes(), &mut out)
        .map_err(|e| CmdError::msg(chain(&e)))?;
    out.flush()
        .map_err(|e| CmdError::msg(strip_os_error(&format!("writing output: {e}"))))?;
    Ok(0)
}
