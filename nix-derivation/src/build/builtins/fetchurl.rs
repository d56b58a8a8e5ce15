//! `builtin:fetchurl`: downloads a file for a fixed-output derivation, as CppNix 2.8 does
//! (what `<nix/fetchurl.nix>` and `builtins.fetchurl`-style derivations use).
//!
//! Attributes: `url` (required), `outputHashMode` (required, as in CppNix), `unpack` (`"1"`: the
//! download is a NAR, xz-compressed when `url` ends in `.xz`, restored at `$out`),
//! `executable` (`"1"`: `$out` gets mode 0755). CppNix first tries its `hashed-mirrors`, whose
//! default is empty in 2.8; there is no such setting here.
//!
//! Schemes: `file://` (a local file; `%XX` escapes decoded, host empty or `localhost`),
//! `http://` and `https://` (with the `http` feature, through `ureq`; the body is taken as
//! is, without content decoding). Unlike CppNix, TLS certificates are verified (CppNix skips
//! that because the output hash is checked anyway), and only fixed-output derivations are
//! accepted. Checking the hash of the result is the caller's job, as for any fixed output.

use std::io::{BufReader, Read, Write};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{attr, BuiltinError};
use crate::build::builder::BuildError;
use crate::derivation::Derivation;

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).copied(), b.get(i + 2).copied()) {
            (b'%', Some(h), Some(l)) if hex(h).is_some() && hex(l).is_some() => {
                let v = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(v as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn download_error(
    url: &str,
) -> impl FnOnce(Box<dyn std::error::Error + Send + Sync>) -> BuiltinError + '_ {
    move |source| BuiltinError::Download {
        url: url.to_string(),
        source,
    }
}

/// Opens `url` for reading.
fn open(url: &str) -> Result<Box<dyn Read>, BuiltinError> {
    if let Some(rest) = url.strip_prefix("file://") {
        let rest = rest.strip_prefix("localhost").unwrap_or(rest);
        if !rest.starts_with('/') {
            return Err(BuiltinError::UnsupportedUrl { url: url.into() });
        }
        let path = PathBuf::from(std::ffi::OsString::from_vec(percent_decode(rest)));
        let f = std::fs::File::open(&path).map_err(|e| download_error(url)(Box::new(e)))?;
        return Ok(Box::new(f));
    }
    if url.starts_with("http://") || url.starts_with("https://") {
        return open_http(url);
    }
    Err(BuiltinError::UnsupportedUrl { url: url.into() })
}

#[cfg(feature = "http")]
fn open_http(url: &str) -> Result<Box<dyn Read>, BuiltinError> {
    let response = ureq::get(url)
        .set("Accept-Encoding", "identity")
        .call()
        .map_err(|e| download_error(url)(Box::new(e)))?;
    Ok(Box::new(response.into_reader()))
}

#[cfg(not(feature = "http"))]
fn open_http(url: &str) -> Result<Box<dyn Read>, BuiltinError> {
    Err(BuiltinError::UnsupportedUrl { url: url.into() })
}

/// Runs `builtin:fetchurl` for `drv`, writing `$out` at `out` (a real path).
pub(super) fn fetch(drv: &Derivation, out: &Path, log: &mut dyn Write) -> Result<(), BuildError> {
    let _ = log;
    if !drv.is_fixed_output() {
        return Err(BuiltinError::NotFixedOutput.into());
    }
    let url_bytes = attr(drv, "url")?;
    let url = String::from_utf8_lossy(url_bytes).into_owned();
    let unpack = drv.env_var("unpack") == Some(b"1");
    // CppNix reads it to decide on hashed mirrors (none by default), and requires it.
    attr(drv, "outputHashMode")?;
    let source = open(&url)?;
    let io_err = |op: &'static str| {
        move |source: std::io::Error| {
            BuildError::Builtin(BuiltinError::Io {
                op,
                path: out.to_path_buf(),
                source,
            })
        }
    };
    if unpack {
        let reader: Box<dyn Read> = if url.ends_with(".xz") {
            Box::new(xz2::read::XzDecoder::new(source))
        } else {
            source
        };
        nix_store::nar::restore::restore(
            BufReader::new(reader),
            out,
            &nix_store::nar::restore::Options::default(),
        )
        .map_err(|source| BuiltinError::Unpack {
            url: url.clone(),
            source,
        })?;
    } else {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o666)
            .open(out)
            .map_err(io_err("creating"))?;
        let mut source = source;
        std::io::copy(&mut source, &mut file).map_err(|e| {
            let _ = std::fs::remove_file(out);
            BuildError::Builtin(download_error(&url)(Box::new(e)))
        })?;
        file.sync_all().map_err(io_err("writing"))?;
    }
    if drv.env_var("executable") == Some(b"1") {
        std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o755))
            .map_err(io_err("making executable"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("/a%20b%2fc%zz%4"), b"/a b/c%zz%4");
    }
}
