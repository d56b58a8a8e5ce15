//! `nixrs narinfo sign|verify`: sign a binary-cache `.narinfo` or check its signatures.
//!
//! * `nixrs narinfo sign --key-file SK [--store-dir DIR] FILE` prints the narinfo with a
//!   signature by the secret key in `SK` added (a `nix-store --generate-binary-cache-key` file).
//! * `nixrs narinfo verify --trusted-key KEY… [--store-dir DIR] FILE` exits 0 if one of the
//!   signatures is valid for one of the trusted public keys (`NAME:BASE64`, as in the
//!   `trusted-public-keys` setting; repeat the flag or separate keys with spaces), else prints
//!   why and exits 1.
//!
//! The store directory defaults to `$NIX_STORE_DIR` or `/nix/store`.

use std::ffi::OsString;

use nix_store::narinfo::keys::{PublicKeys, SecretKey};
use nix_store::narinfo::NarInfo;
use nix_store::store_path::StoreDir;

use crate::util::{arg_str, CmdError, CmdResult};

/// `--store-dir DIR`, else `$NIX_STORE_DIR`, else `/nix/store`.
pub fn store_dir(flag: Option<&str>) -> Result<StoreDir, CmdError> {
    match flag
        .map(str::to_string)
        .or_else(|| std::env::var("NIX_STORE_DIR").ok())
    {
        Some(d) => Ok(StoreDir::new(d)?),
        None => Ok(StoreDir::default()),
    }
}

fn read(path: &str) -> Result<String, CmdError> {
    std::fs::read_to_string(path).map_err(|e| {
        CmdError::msg(format!(
            "opening file '{path}': {}",
            super::hash::os_error_text(&e)
        ))
    })
}

fn parse_narinfo(path: &str, dir: &StoreDir) -> Result<NarInfo, CmdError> {
    NarInfo::parse(&read(path)?, dir).map_err(|e| {
        let mut m = format!("NAR info file '{path}' is corrupt: {e}");
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            m.push_str(": ");
            m.push_str(&s.to_string());
            src = s.source();
        }
        CmdError::msg(m)
    })
}

/// `nixrs narinfo SUBCOMMAND …`.
pub fn main(args: &[OsString]) -> CmdResult {
    let sub = match args.first() {
        Some(s) => arg_str(s)?,
        None => {
            return Err(CmdError::usage(
                "'nixrs narinfo' needs a subcommand: sign or verify",
            ))
        }
    };
    let mut key_file: Option<&str> = None;
    let mut trusted: Vec<&str> = Vec::new();
    let mut dir_flag: Option<&str> = None;
    let mut files: Vec<&str> = Vec::new();
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        let s = arg_str(a)?;
        let mut value = |flag: &str| -> Result<&str, CmdError> {
            arg_str(
                it.next()
                    .ok_or_else(|| CmdError::usage(format!("'{flag}' requires an argument")))?,
            )
        };
        match s {
            "--key-file" => key_file = Some(value(s)?),
            "--trusted-key" => trusted.push(value(s)?),
            "--store-dir" => dir_flag = Some(value(s)?),
            _ if s.starts_with('-') && s != "-" => {
                return Err(CmdError::usage(format!("unrecognised flag '{s}'")));
            }
            _ => files.push(s),
        }
    }
    let dir = store_dir(dir_flag)?;
    let [file] = files.as_slice() else {
        return Err(CmdError::usage(format!(
            "'narinfo {sub}' takes exactly one FILE"
        )));
    };
    match sub {
        "sign" => {
            let key_file =
                key_file.ok_or_else(|| CmdError::usage("'narinfo sign' needs --key-file SK"))?;
            let key: SecretKey = read(key_file)?.parse()?;
            let mut info = parse_narinfo(file, &dir)?;
            info.sign(&dir, &key)?;
            print!("{}", info.to_text(&dir));
            Ok(0)
        }
        "verify" => {
            if trusted.is_empty() {
                return Err(CmdError::usage(
                    "'narinfo verify' needs at least one --trusted-key KEY",
                ));
            }
            let keys = PublicKeys::parse_list(&trusted.join(" "))?;
            let info = parse_narinfo(file, &dir)?;
            let valid = info.count_valid_signatures(&dir, &keys)?;
            let path = dir.display(&info.info.path);
            if valid == 0 {
                return Err(CmdError::msg(format!(
                    "path '{path}' has no valid signature by a trusted key ({} signature(s) checked)",
                    info.info.signatures.len()
                )));
            }
            println!("path '{path}' has {valid} valid signature(s) by trusted keys");
            Ok(0)
        }
        other => Err(CmdError::usage(format!(
            "unknown 'narinfo' subcommand '{other}'"
        ))),
    }
}
