//! Build logs, stored as CppNix 2.8 stores them.
//!
//! The log of the build of `/nix/store/<hash>-<name>.drv` is the file
//! `<log dir>/drvs/<first two characters of the base name>/<rest of the base name>.bz2`, a
//! bzip2 stream (CppNix's default `compress-build-log = true`). For a local store rooted at
//! `R`, `<log dir>/drvs` is `R/nix/var/log/nix/drvs`
//! ([`nix_store::store::local::layout::Layout::log_dir`]). CppNix also reads an uncompressed
//! file of the same name without `.bz2`; so does [`read_log`].
//!
//! ```
//! use nix_derivation::build::log::{read_log, LogFile};
//! use nix_derivation::store::store_path::StorePath;
//! use std::io::Write;
//!
//! let dir = testkit::tempdir();
//! let drv = StorePath::from_base_name("3ghsl9sd83mc26i81adpa2fzf3yw4f68-simple.drv")?;
//! let mut log = LogFile::create(dir.path(), &drv)?;
//! log.write_all(b"hello\n")?;
//! log.finish()?;
//! assert!(dir.path().join("3g/hsl9sd83mc26i81adpa2fzf3yw4f68-simple.drv.bz2").exists());
//! assert_eq!(read_log(dir.path(), &drv)?, Some(b"hello\n".to_vec()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use bzip2::write::BzEncoder;
use nix_store::store_path::StorePath;

/// Errors of reading or writing a log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// A file operation failed.
    #[error("{op} '{}'", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// On which file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
}

/// Where the log of `drv` is, without the `.bz2` suffix: `<drvs_dir>/<2 chars>/<rest>`.
///
/// `drvs_dir` is the `drvs` directory (`R/nix/var/log/nix/drvs` for a store rooted at `R`).
pub fn log_path(drvs_dir: &Path, drv: &StorePath) -> PathBuf {
    let base = drv.to_base_name();
    // Base names start with 32 ASCII characters, so splitting at 2 is on a char boundary.
    let (dir, rest) = base.split_at(2);
    drvs_dir.join(dir).join(rest)
}

/// The compressed log of `drv`: [`log_path`] with `.bz2`.
pub fn compressed_log_path(drvs_dir: &Path, drv: &StorePath) -> PathBuf {
    let mut p = log_path(drvs_dir, drv).into_os_string();
    p.push(".bz2");
    PathBuf::from(p)
}

/// A log being written (bzip2-compressed). Call [`LogFile::finish`] at the end: dropping it
/// without finishing leaves a truncated stream.
pub struct LogFile {
    path: PathBuf,
    encoder: BzEncoder<BufWriter<File>>,
}

impl std::fmt::Debug for LogFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogFile").field("path", &self.path).finish()
    }
}

impl LogFile {
    /// Creates (replacing) the compressed log file of `drv` under `drvs_dir`.
    ///
    /// # Errors
    /// [`LogError::Io`] if the directory or the file cannot be created.
    pub fn create(drvs_dir: &Path, drv: &StorePath) -> Result<LogFile, LogError> {
        let path = compressed_log_path(drvs_dir, drv);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| LogError::Io {
                op: "cannot create directory",
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let file = File::create(&path).map_err(|source| LogError::Io {
            op: "cannot create",
            path: path.clone(),
            source,
        })?;
        Ok(LogFile {
            path,
            encoder: BzEncoder::new(BufWriter::new(file), bzip2::Compression::default()),
        })
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Ends the bzip2 stream and flushes the file.
    ///
    /// # Errors
    /// [`LogError::Io`] if writing fails.
    pub fn finish(self) -> Result<(), LogError> {
        let path = self.path;
        let io = |source| LogError::Io {
            op: "cannot write",
            path: path.clone(),
            source,
        };
        let mut inner = self.encoder.finish().map_err(io)?;
        inner.flush().map_err(io)
    }
}

impl Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.encoder.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.encoder.flush()
    }
}

/// Reads the log of `drv` from `drvs_dir`: the `.bz2` file (decompressed), else an
/// uncompressed file of the same name; `None` if there is neither.
///
/// # Errors
/// [`LogError::Io`] if a log file exists but cannot be read or decompressed.
pub fn read_log(drvs_dir: &Path, drv: &StorePath) -> Result<Option<Vec<u8>>, LogError> {
    let compressed = compressed_log_path(drvs_dir, drv);
    let read_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LogError::Io {
            op: "cannot read",
            path,
            source,
        }
    };
    match File::open(&compressed) {
        Ok(f) => {
            let mut out = Vec::new();
            bzip2::read::MultiBzDecoder::new(f)
                .read_to_end(&mut out)
                .map_err(read_err(&compressed))?;
            return Ok(Some(out));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(read_err(&compressed)(e)),
    }
    let plain = log_path(drvs_dir, drv);
    match std::fs::read(&plain) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(read_err(&plain)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_as_cppnix() -> Result<(), Box<dyn std::error::Error>> {
        // From a CppNix 2.8 build: drvs/9a/dbk6iwg6z4gc2vhaqrw5amfcr02qz4-a.drv.bz2
        let drv = StorePath::from_base_name("9adbk6iwg6z4gc2vhaqrw5amfcr02qz4-a.drv")?;
        assert_eq!(
            compressed_log_path(Path::new("/r/drvs"), &drv),
            Path::new("/r/drvs/9a/dbk6iwg6z4gc2vhaqrw5amfcr02qz4-a.drv.bz2")
        );
        Ok(())
    }

    #[test]
    fn empty_log_round_trips() -> Result<(), Box<dyn std::error::Error>> {
        let dir = testkit::tempdir();
        let drv = StorePath::from_base_name("9adbk6iwg6z4gc2vhaqrw5amfcr02qz4-a.drv")?;
        assert_eq!(read_log(dir.path(), &drv)?, None);
        LogFile::create(dir.path(), &drv)?.finish()?;
        assert_eq!(read_log(dir.path(), &drv)?, Some(Vec::new()));
        // a plain log is read too
        std::fs::remove_file(compressed_log_path(dir.path(), &drv))?;
        std::fs::write(log_path(dir.path(), &drv), b"plain")?;
        assert_eq!(read_log(dir.path(), &drv)?, Some(b"plain".to_vec()));
        Ok(())
    }
}
