//! Unpacking tarballs as CppNix 2.8's `unpackTarfile` (libarchive) does for `fetchTarball`.
//!
//! The compression is recognised by content, not by the file name, as libarchive does: gzip
//! (`1f 8b`), xz (`fd 37 7a 58 5a 00`), bzip2 (`BZh`), zstd (`28 b5 2f fd`), or none. The
//! decompressed stream must be a tar archive (ustar/GNU/pax, or a v7 header with a valid
//! checksum); an empty stream is an empty archive. Zip archives (which libarchive also reads,
//! also compressed as a whole) are unpacked by [`super::zip`].
//!
//! Entries are unpacked with their permissions and modification times; paths with `..` are
//! refused. Canonicalisation (read-only, timestamp 1, owner) happens when the tree is added to
//! the store: only the executable bit survives the NAR serialisation.

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// Why an archive could not be unpacked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UnpackError {
    /// The content is neither a (compressed) tar archive nor empty.
    #[error("failed to open archive: Unrecognized archive format")]
    UnknownFormat,
    /// Reading, decompressing or writing failed.
    #[error("failed to extract archive ({reason})")]
    Extract {
        /// What failed.
        reason: String,
    },
}

/// The compression of an archive, recognised by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// No compression.
    None,
    /// gzip.
    Gzip,
    /// xz.
    Xz,
    /// bzip2.
    Bzip2,
    /// zstd.
    Zstd,
}

impl Compression {
    /// Recognises the compression from the first bytes of a file.
    pub fn detect(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Compression::Xz
        } else if head.starts_with(b"BZh") {
            Compression::Bzip2
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

fn extract_err(e: impl std::fmt::Display) -> UnpackError {
    UnpackError::Extract {
        reason: e.to_string(),
    }
}

/// Reads up to `buf.len()` bytes (fewer only at the end of the stream).
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Whether a 512-byte block is a tar header (ustar magic, or a v7 header whose checksum
/// matches).
fn is_tar_header(block: &[u8]) -> bool {
    if block.len() < 512 {
        return false;
    }
    if &block[257..262] == b"ustar" {
        return true;
    }
    let field = &block[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|b| *b == b' ')
        .take_while(|b| (b'0'..=b'7').contains(b))
        .collect();
    if digits.is_empty() {
        return false;
    }
    let Ok(expected) = u32::from_str_radix(&String::from_utf8_lossy(&digits), 8) else {
        return false;
    };
    let sum: u32 = block
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                u32::from(b' ')
            } else {
                u32::from(*b)
            }
        })
        .sum();
    sum == expected
}

/// Unpacks the archive in `archive` into the existing directory `dest`.
///
/// # Errors
/// [`UnpackError::UnknownFormat`] for content that is not a tarball or zip archive,
/// [`UnpackError::Extract`] for corrupt data or I/O failures.
pub fn unpack_file(archive: &Path, dest: &Path) -> Result<(), UnpackError> {
    let mut f = std::fs::File::open(archive).map_err(extract_err)?;
    let mut head = [0u8; 4];
    let n = read_full(&mut f, &mut head).map_err(extract_err)?;
    if super::zip::is_zip(&head[..n]) {
        return super::zip::unpack(&mut BufReader::new(f), dest);
    }
    std::io::Seek::rewind(&mut f).map_err(extract_err)?;
    unpack(&mut BufReader::new(f), dest)
}

/// Unpacks a (possibly compressed) tar stream into the existing directory `dest`.
///
/// # Errors
/// As [`unpack_file`].
pub fn unpack(input: &mut dyn Read, dest: &Path) -> Result<(), UnpackError> {
    let mut head = [0u8; 6];
    let n = read_full(input, &mut head).map_err(extract_err)?;
    let head = &head[..n];
    let rest = std::io::Cursor::new(head.to_vec()).chain(input);
    let mut decoded: Box<dyn Read + '_> = match Compression::detect(head) {
        Compression::None => Box::new(rest),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(rest)),
        Compression::Xz => Box::new(xz2::read::XzDecoder::new_multi_decoder(rest)),
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(rest)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(rest).map_err(extract_err)?),
    };
    let mut block = vec![0u8; 512];
    let n = read_full(&mut *decoded, &mut block).map_err(extract_err)?;
    if n == 0 {
        return Ok(()); // an empty archive
    }
    if super::zip::is_zip(&block[..n]) {
        // a zip archive is read from its end: spool it to a file first
        let mut spool = tempfile::tempfile().map_err(extract_err)?;
        std::io::Write::write_all(&mut spool, &block[..n]).map_err(extract_err)?;
        std::io::copy(&mut decoded, &mut spool).map_err(extract_err)?;
        return super::zip::unpack(&mut BufReader::new(spool), dest);
    }
    if n == 512 && block.iter().all(|b| *b == 0) {
        return Ok(()); // only the end-of-archive marker
    }
    if !is_tar_header(&block[..n]) {
        return Err(UnpackError::UnknownFormat);
    }
    block.truncate(n);
    let stream = std::io::Cursor::new(block).chain(decoded);
    let mut ar = tar::Archive::new(stream);
    ar.set_preserve_permissions(true);
    ar.set_preserve_mtime(true);
    ar.set_unpack_xattrs(false);
    ar.set_overwrite(true);
    ar.unpack(dest).map_err(extract_err)
}

/// The single top-level entry of an unpacked tarball, as CppNix requires of `fetchTarball`.
///
/// # Errors
/// `None` when there are zero or several entries (the caller words the error with the URL),
/// `Some(Err)` for I/O failures.
pub fn single_top_level(dir: &Path) -> std::io::Result<Option<PathBuf>> {
    let mut it = std::fs::read_dir(dir)?;
    let first = match it.next() {
        Some(e) => e?,
        None => return Ok(None),
    };
    if it.next().is_some() {
        return Ok(None);
    }
    Ok(Some(first.path()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(files: &[(&str, &[u8], u32)]) -> Result<Vec<u8>, std::io::Error> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data, mode) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(*mode);
            h.set_mtime(1_600_000_000);
            h.set_cksum();
            b.append_data(&mut h, name, *data)?;
        }
        b.into_inner()
    }

    #[test]
    fn detects_compression() {
        assert_eq!(Compression::detect(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(Compression::detect(b"BZh91AY"), Compression::Bzip2);
        assert_eq!(Compression::detect(b"\xfd7zXZ\0"), Compression::Xz);
        assert_eq!(
            Compression::detect(&[0x28, 0xb5, 0x2f, 0xfd]),
            Compression::Zstd
        );
        assert_eq!(Compression::detect(b"top/"), Compression::None);
    }

    #[test]
    fn unpacks_each_compression() -> Result<(), Box<dyn std::error::Error>> {
        use std::io::Write;
        let tar = tar_of(&[("top/a", b"a\n", 0o644), ("top/x", b"#!", 0o755)])?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&tar)?;
        let mut xz = xz2::write::XzEncoder::new(Vec::new(), 6);
        xz.write_all(&tar)?;
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        bz.write_all(&tar)?;
        let zst = zstd::encode_all(&tar[..], 3)?;
        for data in [tar.clone(), gz.finish()?, xz.finish()?, bz.finish()?, zst] {
            let dir = tempfile::tempdir()?;
            unpack(&mut &data[..], dir.path())?;
            let top = single_top_level(dir.path())?.ok_or("no single top level")?;
            assert_eq!(std::fs::read(top.join("a"))?, b"a\n");
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(top.join("x"))?.permissions().mode() & 0o111,
                0o111
            );
        }
        Ok(())
    }

    #[test]
    fn rejects_non_archives() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let r = unpack(&mut &b"hello, this is not a tarball\n"[..], dir.path());
        assert!(matches!(r, Err(UnpackError::UnknownFormat)));
        unpack(&mut &b""[..], dir.path())?;
        assert_eq!(single_top_level(dir.path())?, None);
        Ok(())
    }
}
