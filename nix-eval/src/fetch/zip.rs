//! Reading zip archives for `fetchTarball`, as CppNix 2.8 does through libarchive.
//!
//! The archive is read like libarchive's seekable zip reader: the *end of central directory*
//! record (searched for in the last 64 KiB + 22 bytes, with the zip64 locator and record when a
//! field overflows) gives the central directory, whose entries are authoritative for names,
//! sizes, compression method, attributes and where each local header is. Each entry's data
//! follows its local header (whose name and extra field lengths may differ from the central
//! copy).
//!
//! - Methods: 0 (stored), 8 (deflate, through `flate2`), 12 (bzip2), 14 (LZMA, with `xz2`'s
//!   LZMA1 decoder after the zip's 4-byte LZMA header and properties), 93 (zstd) and 95 (xz), as
//!   libarchive reads them. Others (deflate64, PPMd, …) and encrypted entries are refused with
//!   an error naming the entry. The CRC-32 and the size of every file are checked.
//! - Types and modes: an entry made on Unix (host 3) with a non-zero mode in the high half of
//!   its external attributes has that mode (directory, regular file, symbolic link whose data is
//!   the target); otherwise a name ending in `/` (or the MS-DOS directory attribute) is a
//!   directory and anything else a non-executable regular file. Only the executable bit matters
//!   once the tree is in the store.
//! - Names: `.` and empty components are dropped, a leading `/` is ignored (CppNix prefixes every
//!   name with the destination directory), `..` is refused; missing parent directories are
//!   created; a later entry of the same name replaces an earlier one.
//! - Times: the *extended timestamp* extra field (`UT`, UTC) when present, else the MS-DOS
//!   date and time read as UTC, are set as modification times (CppNix keeps the top-level
//!   entry's as `lastModified`).

use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use super::unpack::UnpackError;

const EOCD_SIG: u32 = 0x0605_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const LOCAL_SIG: u32 = 0x0403_4b50;
/// The largest central directory we read into memory (names are short; this is generous).
const MAX_CENTRAL_DIRECTORY: u64 = 1 << 30;

/// Whether the first bytes of a file are those of a zip archive (a local file header, or the
/// end record of an empty archive).
pub fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

fn corrupt(what: impl std::fmt::Display) -> UnpackError {
    UnpackError::Extract {
        reason: format!("corrupt zip archive: {what}"),
    }
}

fn io(e: std::io::Error) -> UnpackError {
    UnpackError::Extract {
        reason: e.to_string(),
    }
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, UnpackError> {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or_else(|| corrupt(format!("truncated record at byte {at}")))
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, UnpackError> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| corrupt(format!("truncated record at byte {at}")))
}

fn u64_at(b: &[u8], at: usize) -> Result<u64, UnpackError> {
    b.get(at..at + 8)
        .map(|s| {
            let mut a = [0u8; 8];
            a.copy_from_slice(s);
            u64::from_le_bytes(a)
        })
        .ok_or_else(|| corrupt(format!("truncated record at byte {at}")))
}

/// The kind of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dir,
    File { executable: bool },
    Symlink,
}

/// One central directory entry.
#[derive(Debug, Clone)]
struct Entry {
    name: Vec<u8>,
    kind: Kind,
    method: u16,
    encrypted: bool,
    crc: u32,
    compressed: u64,
    size: u64,
    local_offset: u64,
    mtime: Option<u64>,
}

/// Where the central directory is and how many entries it has.
fn find_central_directory<R: Read + Seek>(r: &mut R) -> Result<(u64, u64, u64), UnpackError> {
    let len = r.seek(SeekFrom::End(0)).map_err(io)?;
    let tail_len = len.min(65_557);
    let tail_start = len - tail_len;
    r.seek(SeekFrom::Start(tail_start)).map_err(io)?;
    let mut tail = vec![0u8; tail_len as usize];
    r.read_exact(&mut tail).map_err(io)?;
    let pos = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| u32_at(&tail, i).ok() == Some(EOCD_SIG))
        .ok_or_else(|| corrupt("no end of central directory record"))?;
    let eocd = &tail[pos..];
    let mut count = u64::from(u16_at(eocd, 10)?);
    let mut size = u64::from(u32_at(eocd, 12)?);
    let mut offset = u64::from(u32_at(eocd, 16)?);
    if count == 0xffff || size == 0xffff_ffff || offset == 0xffff_ffff {
        // zip64: the locator sits right before the end record
        if pos >= 20 && u32_at(&tail, pos - 20)? == ZIP64_LOCATOR_SIG {
            let rec_offset = u64_at(&tail, pos - 20 + 8)?;
            r.seek(SeekFrom::Start(rec_offset)).map_err(io)?;
            let mut rec = [0u8; 56];
            r.read_exact(&mut rec).map_err(io)?;
            if u32_at(&rec, 0)? != ZIP64_EOCD_SIG {
                return Err(corrupt("bad zip64 end of central directory record"));
            }
            count = u64_at(&rec, 32)?;
            size = u64_at(&rec, 40)?;
            offset = u64_at(&rec, 48)?;
        }
    }
    if size > MAX_CENTRAL_DIRECTORY || offset.saturating_add(size) > len {
        return Err(corrupt("central directory out of bounds"));
    }
    Ok((offset, size, count))
}

/// The MS-DOS date and time as seconds since the epoch (read as UTC).
fn dos_time(date: u16, time: u16) -> u64 {
    let year = 1980 + i64::from(date >> 9);
    let month = i64::from((date >> 5) & 0xf).clamp(1, 12);
    let day = i64::from(date & 0x1f).max(1);
    let (h, m, s) = (
        i64::from(time >> 11),
        i64::from((time >> 5) & 0x3f),
        i64::from(time & 0x1f) * 2,
    );
    // days from the civil date (proleptic Gregorian)
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (days * 86_400 + h * 3600 + m * 60 + s).max(0) as u64
}

/// Parses the central directory.
fn read_entries(cd: &[u8], count: u64) -> Result<Vec<Entry>, UnpackError> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + 4 <= cd.len() && u32_at(cd, at)? == CENTRAL_SIG {
        let host = u16_at(cd, at + 4)? >> 8;
        let flags = u16_at(cd, at + 8)?;
        let method = u16_at(cd, at + 10)?;
        let time = u16_at(cd, at + 12)?;
        let date = u16_at(cd, at + 14)?;
        let crc = u32_at(cd, at + 16)?;
        let mut compressed = u64::from(u32_at(cd, at + 20)?);
        let mut size = u64::from(u32_at(cd, at + 24)?);
        let name_len = usize::from(u16_at(cd, at + 28)?);
        let extra_len = usize::from(u16_at(cd, at + 30)?);
        let comment_len = usize::from(u16_at(cd, at + 32)?);
        let external = u32_at(cd, at + 38)?;
        let mut local_offset = u64::from(u32_at(cd, at + 42)?);
        let name_start = at + 46;
        let extra_start = name_start + name_len;
        let end = extra_start + extra_len + comment_len;
        let name = cd
            .get(name_start..extra_start)
            .ok_or_else(|| corrupt("truncated central directory"))?
            .to_vec();
        let extra = cd
            .get(extra_start..extra_start + extra_len)
            .ok_or_else(|| corrupt("truncated central directory"))?;
        let mut mtime = None;
        let mut e = 0usize;
        while e + 4 <= extra.len() {
            let id = u16_at(extra, e)?;
            let len = usize::from(u16_at(extra, e + 2)?);
            let data = extra.get(e + 4..e + 4 + len).unwrap_or(&[]);
            match id {
                0x0001 => {
                    // zip64: the overflowed fields, in this order
                    let mut d = 0usize;
                    for field in [&mut size, &mut compressed, &mut local_offset] {
                        if *field == 0xffff_ffff {
                            if let Ok(v) = u64_at(data, d) {
                                *field = v;
                                d += 8;
                            }
                        }
                    }
                }
                // extended timestamp: flags, then the modification time when bit 0 is set
                0x5455 if data.first().is_some_and(|f| f & 1 == 1) => {
                    if let Ok(t) = u32_at(data, 1) {
                        mtime = Some(u64::from(t));
                    }
                }
                _ => {}
            }
            e += 4 + len;
        }
        let unix_mode = if host == 3 { external >> 16 } else { 0 };
        let dir_name = name.last() == Some(&b'/');
        let kind = match unix_mode & 0o170_000 {
            0o040_000 => Kind::Dir,
            0o120_000 => Kind::Symlink,
            0o100_000 if !dir_name => Kind::File {
                executable: unix_mode & 0o111 != 0,
            },
            _ if dir_name || (unix_mode == 0 && external & 0x10 != 0) => Kind::Dir,
            _ => Kind::File {
                executable: unix_mode & 0o111 != 0,
            },
        };
        out.push(Entry {
            name,
            kind,
            method,
            encrypted: flags & 1 != 0,
            crc,
            compressed,
            size,
            local_offset,
            mtime: mtime.or_else(|| Some(dos_time(date, time))),
        });
        at = end;
    }
    if count < 0xffff && (out.len() as u64) < count {
        return Err(corrupt(format!(
            "the central directory lists {} entries instead of {count}",
            out.len()
        )));
    }
    Ok(out)
}

/// The relative path of an entry name, or an error for names leaving the directory.
fn entry_path(name: &[u8]) -> Result<Option<PathBuf>, UnpackError> {
    use std::os::unix::ffi::OsStrExt;
    let raw = Path::new(std::ffi::OsStr::from_bytes(name));
    let mut p = PathBuf::new();
    for c in raw.components() {
        match c {
            Component::Normal(n) => p.push(n),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir | Component::Prefix(_) => {
                return Err(UnpackError::Extract {
                    reason: format!(
                        "path '{}' contains a '..' component",
                        String::from_utf8_lossy(name)
                    ),
                })
            }
        }
    }
    Ok(if p.as_os_str().is_empty() {
        None
    } else {
        Some(p)
    })
}

/// Removes whatever is at `p` (not following symlinks) unless it is a directory and `keep_dir`.
fn clear(p: &Path, keep_dir: bool) -> std::io::Result<()> {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() && keep_dir => Ok(()),
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(p),
        Ok(_) => std::fs::remove_file(p),
        Err(_) => Ok(()),
    }
}

/// Creates the parent directories of `rel` under `dest`, refusing to go through symlinks.
fn make_parents(dest: &Path, rel: &Path) -> Result<(), UnpackError> {
    let mut cur = dest.to_path_buf();
    let comps: Vec<_> = rel.components().collect();
    for c in comps.iter().take(comps.len().saturating_sub(1)) {
        cur.push(c);
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.is_dir() => {}
            Ok(m) if m.file_type().is_symlink() => {
                return Err(UnpackError::Extract {
                    reason: format!("cannot extract through symlink '{}'", cur.display()),
                })
            }
            Ok(_) => {
                std::fs::remove_file(&cur).map_err(io)?;
                std::fs::create_dir(&cur).map_err(io)?;
            }
            Err(_) => std::fs::create_dir(&cur).map_err(io)?,
        }
    }
    Ok(())
}

/// Method 14 (LZMA): the data starts with the LZMA SDK version (2 bytes) and the size of the
/// LZMA properties (2 bytes, always 5), then the properties (the `lc`/`lp`/`pb` byte and the
/// dictionary size), then raw LZMA1 data with or without an end marker. As libarchive does, it
/// is decoded as an `.lzma` ("alone") stream whose header says the size is unknown, and the
/// caller stops after the entry's size (so a stream without an end marker is fine).
fn lzma_reader<'r>(mut raw: impl Read + 'r, name: &str) -> Result<impl Read + 'r, UnpackError> {
    let mut head = [0u8; 4];
    raw.read_exact(&mut head).map_err(io)?;
    let props_len = u16_at(&head, 2)?;
    if props_len != 5 {
        return Err(corrupt(format!(
            "zip entry '{name}' has {props_len} bytes of LZMA properties instead of 5"
        )));
    }
    // properties, then the uncompressed size: all ones is "unknown"
    let mut alone = [0xffu8; 13];
    raw.read_exact(&mut alone[..5]).map_err(io)?;
    let stream = xz2::stream::Stream::new_lzma_decoder(u64::MAX)
        .map_err(|e| corrupt(format!("cannot decode the LZMA data of '{name}': {e}")))?;
    Ok(xz2::read::XzDecoder::new_stream(
        std::io::Cursor::new(alone).chain(raw),
        stream,
    ))
}

/// Reads the data of `e` (decompressed and checked) into `sink`.
fn read_data<R: Read + Seek>(
    r: &mut R,
    e: &Entry,
    sink: &mut dyn std::io::Write,
) -> Result<(), UnpackError> {
    let shown = || String::from_utf8_lossy(&e.name).into_owned();
    if e.encrypted {
        return Err(UnpackError::Extract {
            reason: format!("zip entry '{}' is encrypted", shown()),
        });
    }
    r.seek(SeekFrom::Start(e.local_offset)).map_err(io)?;
    let mut local = [0u8; 30];
    r.read_exact(&mut local).map_err(io)?;
    if u32_at(&local, 0)? != LOCAL_SIG {
        return Err(corrupt(format!("no local header for '{}'", shown())));
    }
    let skip = u64::from(u16_at(&local, 26)?) + u64::from(u16_at(&local, 28)?);
    r.seek(SeekFrom::Current(skip as i64)).map_err(io)?;
    let raw = r.take(e.compressed);
    let mut data: Box<dyn Read + '_> = match e.method {
        0 => Box::new(raw),
        8 => Box::new(flate2::read::DeflateDecoder::new(raw)),
        12 => Box::new(bzip2::read::BzDecoder::new(raw)),
        93 => Box::new(zstd::stream::read::Decoder::new(raw).map_err(io)?),
        95 => Box::new(xz2::read::XzDecoder::new(raw)),
        14 => Box::new(lzma_reader(raw, &shown())?.take(e.size)),
        m => {
            return Err(UnpackError::Extract {
                reason: format!(
                    "zip entry '{}' uses unsupported compression method {m}",
                    shown()
                ),
            })
        }
    };
    let mut crc = flate2::Crc::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = data.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > e.size {
            break;
        }
        crc.update(&buf[..n]);
        sink.write_all(&buf[..n]).map_err(io)?;
    }
    if total != e.size || crc.sum() != e.crc {
        return Err(corrupt(format!(
            "the data of '{}' does not match its size or CRC-32",
            shown()
        )));
    }
    Ok(())
}

/// Unpacks the zip archive read from `r` into the existing directory `dest`.
///
/// # Errors
/// [`UnpackError::Extract`] for corrupt archives, unsupported methods, encrypted entries,
/// names with `..` and I/O failures.
pub fn unpack<R: Read + Seek>(r: &mut R, dest: &Path) -> Result<(), UnpackError> {
    use std::os::unix::fs::PermissionsExt;
    let (offset, size, count) = find_central_directory(r)?;
    r.seek(SeekFrom::Start(offset)).map_err(io)?;
    let mut cd = vec![0u8; size as usize];
    r.read_exact(&mut cd).map_err(io)?;
    let entries = read_entries(&cd, count)?;
    let mut times = Vec::new();
    for e in &entries {
        let Some(rel) = entry_path(&e.name)? else {
            continue;
        };
        make_parents(dest, &rel)?;
        let target = dest.join(&rel);
        match e.kind {
            Kind::Dir => {
                clear(&target, true).map_err(io)?;
                if !target.is_dir() {
                    std::fs::create_dir(&target).map_err(io)?;
                }
            }
            Kind::File { executable } => {
                clear(&target, false).map_err(io)?;
                let mut f = std::fs::File::create(&target).map_err(io)?;
                read_data(r, e, &mut f)?;
                let mode = if executable { 0o755 } else { 0o644 };
                f.set_permissions(std::fs::Permissions::from_mode(mode))
                    .map_err(io)?;
            }
            Kind::Symlink => {
                clear(&target, false).map_err(io)?;
                let mut link = Vec::new();
                read_data(r, e, &mut link)?;
                use std::os::unix::ffi::OsStrExt;
                std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(&link), &target)
                    .map_err(io)?;
            }
        }
        if e.kind != Kind::Symlink {
            if let Some(t) = e.mtime {
                times.push((target, t));
            }
        }
    }
    // directories last (and deepest first), so that writing their contents does not change them
    times.sort_by_key(|(p, _)| std::cmp::Reverse(p.components().count()));
    for (p, t) in times {
        let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(t);
        if let Ok(f) = std::fs::File::open(&p) {
            // a time that cannot be set only changes `lastModified`
            let _ = f.set_modified(when);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal zip writer for tests: (name, data, unix mode, deflate).
    fn zip_of(entries: &[(&str, &[u8], u32, bool)]) -> Result<Vec<u8>, std::io::Error> {
        let with: Vec<(&str, &[u8], u32, u16)> = entries
            .iter()
            .map(|(n, d, m, deflate)| (*n, *d, *m, if *deflate { 8 } else { 0 }))
            .collect();
        zip_with_methods(&with)
    }

    /// The data of an LZMA (method 14) entry: the zip LZMA header (SDK version 16.2, 5
    /// bytes of properties), the properties, the raw stream (with an end marker). Made from
    /// liblzma's `.lzma` encoding by dropping its 8-byte size field.
    fn lzma_entry(data: &[u8]) -> Result<Vec<u8>, std::io::Error> {
        use std::io::Write;
        let opts = xz2::stream::LzmaOptions::new_preset(6)?;
        let stream = xz2::stream::Stream::new_lzma_encoder(&opts)?;
        let mut e = xz2::write::XzEncoder::new_stream(Vec::new(), stream);
        e.write_all(data)?;
        let alone = e.finish()?;
        let mut out = vec![16, 2, 5, 0];
        out.extend_from_slice(&alone[..5]);
        out.extend_from_slice(&alone[13..]);
        Ok(out)
    }

    /// A minimal zip writer for tests: (name, data, unix mode, method 0/8/12/14/93/95).
    fn zip_with_methods(entries: &[(&str, &[u8], u32, u16)]) -> Result<Vec<u8>, std::io::Error> {
        use std::io::Write;
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, data, mode, method) in entries {
            let mut crc = flate2::Crc::new();
            crc.update(data);
            let body = match method {
                8 => {
                    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), Default::default());
                    e.write_all(data)?;
                    e.finish()?
                }
                12 => {
                    let mut e = bzip2::write::BzEncoder::new(Vec::new(), Default::default());
                    e.write_all(data)?;
                    e.finish()?
                }
                93 => zstd::encode_all(*data, 3)?,
                14 => lzma_entry(data)?,
                95 => {
                    let mut e = xz2::write::XzEncoder::new(Vec::new(), 6);
                    e.write_all(data)?;
                    e.finish()?
                }
                _ => data.to_vec(),
            };
            let method: u16 = *method;
            let offset = out.len() as u32;
            let mut common = Vec::new();
            common.extend_from_slice(&20u16.to_le_bytes()); // version needed
            common.extend_from_slice(&0u16.to_le_bytes()); // flags
            common.extend_from_slice(&method.to_le_bytes());
            common.extend_from_slice(&0u16.to_le_bytes()); // time
            common.extend_from_slice(&0x5021u16.to_le_bytes()); // date 2020-01-01
            common.extend_from_slice(&crc.sum().to_le_bytes());
            common.extend_from_slice(&(body.len() as u32).to_le_bytes());
            common.extend_from_slice(&(data.len() as u32).to_le_bytes());
            common.extend_from_slice(&(name.len() as u16).to_le_bytes());
            common.extend_from_slice(&0u16.to_le_bytes()); // extra
            out.extend_from_slice(&LOCAL_SIG.to_le_bytes());
            out.extend_from_slice(&common);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&body);
            central.extend_from_slice(&CENTRAL_SIG.to_le_bytes());
            central.extend_from_slice(&(0x0300u16 | 20).to_le_bytes()); // made on unix
            central.extend_from_slice(&common);
            central.extend_from_slice(&0u16.to_le_bytes()); // comment
            central.extend_from_slice(&0u16.to_le_bytes()); // disk
            central.extend_from_slice(&0u16.to_le_bytes()); // internal
            central.extend_from_slice(&(mode << 16).to_le_bytes());
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&EOCD_SIG.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        Ok(out)
    }

    #[test]
    fn unpacks_stored_deflated_links_and_modes() -> Result<(), Box<dyn std::error::Error>> {
        use std::os::unix::fs::PermissionsExt;
        let z = zip_of(&[
            ("top/", b"", 0o40755, false),
            ("top/a", b"aaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", 0o100644, true),
            ("top/sub/x", b"#!/bin/sh\n", 0o100755, false),
            ("top/link", b"a", 0o120777, false),
            ("./top/./plain", b"p", 0, false),
        ])?;
        assert!(is_zip(&z));
        let dir = tempfile::tempdir()?;
        unpack(&mut std::io::Cursor::new(z), dir.path())?;
        let top = dir.path().join("top");
        assert_eq!(
            std::fs::read(top.join("a"))?,
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
        );
        assert_eq!(
            std::fs::metadata(top.join("sub/x"))?.permissions().mode() & 0o111,
            0o111
        );
        assert_eq!(
            std::fs::metadata(top.join("plain"))?.permissions().mode() & 0o111,
            0
        );
        assert_eq!(std::fs::read_link(top.join("link"))?, Path::new("a"));
        let t = std::fs::metadata(top.join("a"))?.modified()?;
        assert_eq!(
            t,
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_577_836_800)
        );
        Ok(())
    }

    #[test]
    fn refuses_dot_dot_and_corruption() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let z = zip_of(&[("../evil", b"x", 0o100644, false)])?;
        assert!(unpack(&mut std::io::Cursor::new(z), dir.path()).is_err());
        let mut z = zip_of(&[("a", b"hello", 0o100644, false)])?;
        z[30 + 1] = b'X'; // the data
        assert!(unpack(&mut std::io::Cursor::new(z), dir.path()).is_err());
        let z = zip_of(&[("a", b"hello", 0o100644, false)])?;
        let cut = z[..z.len() - 10].to_vec();
        assert!(unpack(&mut std::io::Cursor::new(cut), dir.path()).is_err());
        Ok(())
    }

    #[test]
    fn other_methods() -> Result<(), Box<dyn std::error::Error>> {
        let data: &[u8] = b"compressed with another method\n";
        let long: Vec<u8> = (0..50_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let z = zip_with_methods(&[("l", &long, 0o100644, 14)])?;
        let dir = tempfile::tempdir()?;
        unpack(&mut std::io::Cursor::new(z), dir.path())?;
        assert_eq!(std::fs::read(dir.path().join("l"))?, long);
        for m in [12u16, 14, 93, 95] {
            let z = zip_with_methods(&[("f", data, 0o100644, m)])?;
            let dir = tempfile::tempdir()?;
            unpack(&mut std::io::Cursor::new(z), dir.path())?;
            assert_eq!(std::fs::read(dir.path().join("f"))?, data, "method {m}");
        }
        let z = zip_with_methods(&[("f", data, 0o100644, 9)])?;
        let dir = tempfile::tempdir()?;
        let e = unpack(&mut std::io::Cursor::new(z), dir.path())
            .err()
            .ok_or("method 9 accepted")?;
        assert!(
            e.to_string().contains("unsupported compression method 9"),
            "{e}"
        );
        Ok(())
    }

    #[test]
    fn empty_archive() -> Result<(), Box<dyn std::error::Error>> {
        let z = zip_of(&[])?;
        assert!(is_zip(&z));
        let dir = tempfile::tempdir()?;
        unpack(&mut std::io::Cursor::new(z), dir.path())?;
        assert_eq!(std::fs::read_dir(dir.path())?.count(), 0);
        Ok(())
    }

    #[test]
    fn dos_times() {
        assert_eq!(dos_time(0x5021, 0), 1_577_836_800);
        assert_eq!(dos_time(0x21, 0), 315_532_800); // 1980-01-01
    }
}
