//! NAR compression methods: the `Compression:` field of a narinfo and the extension of the
//! NAR file (`none` → `.nar`, `xz` → `.nar.xz`, `zstd` → `.nar.zst`, `bzip2` → `.nar.bz2`).

use std::io::{self, Write};

use super::CacheReader;

/// A NAR compression method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Compression {
    /// No compression.
    None,
    /// xz (LZMA2): CppNix 2.8's default for `nix copy --to file://…`.
    #[default]
    Xz,
    /// Zstandard.
    Zstd,
    /// bzip2 (what a narinfo without `Compression:` means).
    Bzip2,
}

impl Compression {
    /// The method named `name` in a narinfo or on a command line.
    pub fn from_name(name: &str) -> Option<Compression> {
        Some(match name {
            "none" => Compression::None,
            "xz" => Compression::Xz,
            "zstd" => Compression::Zstd,
            "bzip2" => Compression::Bzip2,
            _ => return None,
        })
    }

    /// The name written in `Compression:`.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
        }
    }

    /// The NAR file's extension after `.nar` (`""` for none).
    pub fn extension(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Xz => ".xz",
            Compression::Zstd => ".zst",
            Compression::Bzip2 => ".bz2",
        }
    }

    /// Wraps `raw` (compressed bytes) in a streaming decompressor.
    ///
    /// # Errors
    /// The decompressor cannot be set up (zstd allocation).
    pub fn decoder(self, raw: CacheReader) -> io::Result<CacheReader> {
        Ok(match self {
            Compression::None => raw,
            Compression::Xz => Box::new(xz2::read::XzDecoder::new_multi_decoder(raw)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(raw)?),
            Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(raw)),
        })
    }

    /// Wraps `out` in a streaming compressor; call [`Encoder::finish`] at the end.
    ///
    /// # Errors
    /// The compressor cannot be set up.
    pub fn encoder<W: Write>(self, out: W) -> io::Result<Encoder<W>> {
        Ok(Encoder(match self {
            Compression::None => Enc::None(out),
            // Level 6: xz's (and CppNix's libarchive's) default.
            Compression::Xz => Enc::Xz(xz2::write::XzEncoder::new(out, 6)),
            Compression::Zstd => Enc::Zstd(zstd::stream::write::Encoder::new(out, 3)?),
            Compression::Bzip2 => Enc::Bzip2(bzip2::write::BzEncoder::new(
                out,
                bzip2::Compression::default(),
            )),
        }))
    }
}

impl std::str::FromStr for Compression {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Compression::from_name(s).ok_or_else(|| {
            format!("unknown compression method '{s}' (expected xz, zstd, bzip2 or none)")
        })
    }
}

/// A streaming compressor returned by [`Compression::encoder`].
pub struct Encoder<W: Write>(Enc<W>);

enum Enc<W: Write> {
    None(W),
    Xz(xz2::write::XzEncoder<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
    Bzip2(bzip2::write::BzEncoder<W>),
}

impl<W: Write> std::fmt::Debug for Encoder<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match &self.0 {
            Enc::None(_) => "none",
            Enc::Xz(_) => "xz",
            Enc::Zstd(_) => "zstd",
            Enc::Bzip2(_) => "bzip2",
        };
        f.debug_tuple("Encoder").field(&name).finish()
    }
}

impl<W: Write> Encoder<W> {
    /// Writes the end of the compressed stream and returns the inner writer.
    ///
    /// # Errors
    /// Writing failed.
    pub fn finish(self) -> io::Result<W> {
        match self.0 {
            Enc::None(w) => Ok(w),
            Enc::Xz(e) => e.finish(),
            Enc::Zstd(e) => e.finish(),
            Enc::Bzip2(e) => e.finish(),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.0 {
            Enc::None(w) => w.write(buf),
            Enc::Xz(e) => e.write(buf),
            Enc::Zstd(e) => e.write(buf),
            Enc::Bzip2(e) => e.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.0 {
            Enc::None(w) => w.flush(),
            Enc::Xz(e) => e.flush(),
            Enc::Zstd(e) => e.flush(),
            Enc::Bzip2(e) => e.flush(),
        }
    }
}

/// Reads everything (for tests and small files).
#[cfg(test)]
fn read_all(mut r: impl io::Read) -> io::Result<Vec<u8>> {
    let mut v = Vec::new();
    r.read_to_end(&mut v)?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_round_trips() -> io::Result<()> {
        let data: Vec<u8> = (0..100_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for c in [
            Compression::None,
            Compression::Xz,
            Compression::Zstd,
            Compression::Bzip2,
        ] {
            let mut e = c.encoder(Vec::new())?;
            e.write_all(&data)?;
            let packed = e.finish()?;
            let back = read_all(c.decoder(Box::new(io::Cursor::new(packed)))?)?;
            assert_eq!(back, data, "{c:?}");
            assert_eq!(Compression::from_name(c.name()), Some(c));
        }
        assert_eq!(Compression::from_name("br"), None);
        Ok(())
    }

    #[test]
    fn corrupt_input_is_an_error() -> io::Result<()> {
        for c in [Compression::Xz, Compression::Zstd, Compression::Bzip2] {
            let r = c.decoder(Box::new(io::Cursor::new(b"not compressed at all".to_vec())));
            assert!(r.and_then(read_all).is_err(), "{c:?}");
        }
        Ok(())
    }
}
