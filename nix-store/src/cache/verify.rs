//! A reader that checks a NAR against its narinfo while it streams.
//!
//! [`Verifier`] delivers at most `NarSize` bytes. Before it hands out the last of them it
//! checks the NAR hash (and, when the path is trusted through its content address, that
//! address) and that the decompressed stream ends there; on any mismatch it returns an I/O
//! error instead of the final bytes, so the store that reads from it never sees a complete,
//! wrong NAR. The typed reason is kept in [`Verifier::failure`].

use std::io::{self, Read};

use super::CacheError;
use crate::content_address::{ContentAddress, FileIngestionMethod};
use crate::hash::{Hash, Hasher};

/// Checks a content address against the NAR bytes as they pass.
#[derive(Debug)]
pub(super) enum CaCheck {
    /// `fixed:r:<algo>:<hash>`: the hash of the whole NAR.
    Nar { hasher: Hasher, expected: Hash },
    /// `text:sha256:…` or `fixed:<algo>:…`: the hash of the single regular file's contents.
    Flat {
        hasher: Hasher,
        expected: Hash,
        /// The NAR's first bytes, kept until the contents' position is known.
        prefix: Vec<u8>,
        /// Byte range of the contents in the NAR, once known.
        range: Option<(u64, u64)>,
        /// The NAR is not a single regular file.
        bad: bool,
    },
}

fn token(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s);
    out.resize(out.len() + (8 - s.len() % 8) % 8, 0);
}

/// The NAR bytes before a regular file's content length.
fn regular_header(executable: bool) -> Vec<u8> {
    let mut v = Vec::new();
    for t in [&b"nix-archive-1"[..], b"(", b"type", b"regular"] {
        token(&mut v, t);
    }
    if executable {
        token(&mut v, b"executable");
        token(&mut v, b"");
    }
    token(&mut v, b"contents");
    v
}

impl CaCheck {
    pub(super) fn new(ca: &ContentAddress) -> CaCheck {
        match ca {
            ContentAddress::Fixed {
                method: FileIngestionMethod::Recursive,
                hash,
            } => CaCheck::Nar {
                hasher: Hasher::new(hash.algo()),
                expected: *hash,
            },
            ContentAddress::Fixed { hash, .. } | ContentAddress::Text(hash) => CaCheck::Flat {
                hasher: Hasher::new(hash.algo()),
                expected: *hash,
                prefix: Vec::new(),
                range: None,
                bad: false,
            },
        }
    }

    /// Feeds `data`, which starts at `offset` in the NAR.
    fn feed(&mut self, offset: u64, data: &[u8]) {
        match self {
            CaCheck::Nar { hasher, .. } => hasher.update(data),
            CaCheck::Flat {
                hasher,
                prefix,
                range,
                bad,
                ..
            } => {
                if *bad {
                    return;
                }
                if range.is_none() {
                    prefix.extend_from_slice(data);
                    for executable in [false, true] {
                        let h = regular_header(executable);
                        let need = h.len() + 8;
                        if prefix.len() >= need && prefix.starts_with(&h) {
                            let mut len = [0u8; 8];
                            len.copy_from_slice(&prefix[h.len()..need]);
                            let start = need as u64;
                            let end = start.saturating_add(u64::from_le_bytes(len));
                            *range = Some((start, end));
                            let upto = (prefix.len() as u64).min(end);
                            if upto > start {
                                hasher.update(&prefix[need..upto as usize]);
                            }
                            prefix.clear();
                            return;
                        }
                    }
                    // Neither header can still match.
                    let nonexec = regular_header(false);
                    let exec = regular_header(true);
                    let could = |h: &[u8]| {
                        let k = prefix.len().min(h.len());
                        prefix[..k] == h[..k]
                    };
                    if !could(&nonexec) && !could(&exec) {
                        *bad = true;
                    }
                    return;
                }
                if let Some((start, end)) = *range {
                    let from = start.max(offset);
                    let to = end.min(offset + data.len() as u64);
                    if from < to {
                        hasher.update(&data[(from - offset) as usize..(to - offset) as usize]);
                    }
                }
            }
        }
    }

    /// Whether the content address matches (call once, after the whole NAR).
    fn matches(self, nar_size: u64) -> bool {
        match self {
            CaCheck::Nar { hasher, expected } => hasher.finish() == expected,
            CaCheck::Flat {
                hasher,
                expected,
                range,
                bad,
                ..
            } => match range {
                Some((_, end)) if !bad && end <= nar_size => hasher.finish() == expected,
                _ => false,
            },
        }
    }
}

/// Wraps a decompressed NAR stream; see the module docs.
#[derive(Debug)]
pub(super) struct Verifier<R> {
    inner: R,
    path: String,
    url: String,
    expected_hash: Hash,
    expected_size: u64,
    hasher: Option<Hasher>,
    ca: Option<(CaCheck, String)>,
    count: u64,
    /// Why reading stopped, if it did because of the NAR.
    pub failure: Option<CacheError>,
    /// The whole NAR was delivered and checked.
    pub verified: bool,
}

impl<R: Read> Verifier<R> {
    pub(super) fn new(
        inner: R,
        path: String,
        url: String,
        expected_hash: Hash,
        expected_size: u64,
        ca: Option<&ContentAddress>,
    ) -> Self {
        Verifier {
            inner,
            path,
            url,
            hasher: Some(Hasher::new(expected_hash.algo())),
            expected_hash,
            expected_size,
            ca: ca.map(|c| (CaCheck::new(c), c.to_string())),
            count: 0,
            failure: None,
            verified: false,
        }
    }

    /// Bytes delivered so far.
    pub(super) fn bytes_read(&self) -> u64 {
        self.count
    }

    fn fail(&mut self, e: CacheError) -> io::Error {
        let err = io::Error::new(io::ErrorKind::InvalidData, e.to_string());
        self.failure = Some(e);
        err
    }

    fn size_mismatch(&mut self, got: u64) -> io::Error {
        self.fail(CacheError::NarSizeMismatch {
            path: self.path.clone(),
            url: self.url.clone(),
            expected: self.expected_size,
            got,
        })
    }

    fn read_error(&mut self, e: io::Error) -> io::Error {
        let copy = io::Error::new(e.kind(), e.to_string());
        self.failure = Some(CacheError::Read {
            url: self.url.clone(),
            offset: self.count,
            source: e,
        });
        copy
    }

    /// Runs the final checks once `count == expected_size`.
    fn finish_checks(&mut self) -> io::Result<()> {
        let got = self
            .hasher
            .take()
            .map(Hasher::finish)
            .unwrap_or(self.expected_hash);
        if got != self.expected_hash {
            return Err(self.fail(CacheError::NarHashMismatch {
                path: self.path.clone(),
                url: self.url.clone(),
                expected: self.expected_hash.to_typed_nix32(),
                got: got.to_typed_nix32(),
            }));
        }
        // The stream must end here (this also makes the decompressor check its trailer).
        let mut one = [0u8; 1];
        loop {
            match self.inner.read(&mut one) {
                Ok(0) => break,
                Ok(_) => return Err(self.size_mismatch(self.expected_size + 1)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.read_error(e)),
            }
        }
        if let Some((check, ca)) = self.ca.take() {
            if !check.matches(self.expected_size) {
                return Err(self.fail(CacheError::CaMismatch {
                    path: self.path.clone(),
                    url: self.url.clone(),
                    ca,
                }));
            }
        }
        self.verified = true;
        Ok(())
    }
}

impl<R: Read> Read for Verifier<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.failure.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the NAR was rejected",
            ));
        }
        let remaining = self.expected_size - self.count;
        if remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = (buf.len() as u64).min(remaining) as usize;
        let n = match self.inner.read(&mut buf[..want]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) => return Err(self.read_error(e)),
        };
        if n == 0 {
            return Err(self.size_mismatch(self.count));
        }
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        if let Some((check, _)) = &mut self.ca {
            check.feed(self.count, &buf[..n]);
        }
        self.count += n as u64;
        if self.count == self.expected_size {
            self.finish_checks()?;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::HashAlgo;

    fn nar_of_file(contents: &[u8], executable: bool) -> Vec<u8> {
        let mut v = regular_header(executable);
        token(&mut v, contents);
        token(&mut v, b")");
        v
    }

    fn run<'a>(
        nar: &'a [u8],
        hash: Hash,
        size: u64,
        ca: Option<&ContentAddress>,
    ) -> Verifier<&'a [u8]> {
        let mut v = Verifier::new(nar, "p".into(), "u".into(), hash, size, ca);
        let mut out = Vec::new();
        let _ = v.read_to_end(&mut out);
        v
    }

    #[test]
    fn good_nar_passes_and_bad_ones_fail() {
        let nar = nar_of_file(b"hello\n", false);
        let h = Hash::digest_bytes(HashAlgo::Sha256, &nar);
        let n = nar.len() as u64;
        assert!(run(&nar, h, n, None).verified);
        let mut bad = nar.clone();
        bad[100] ^= 1;
        assert!(matches!(
            run(&bad, h, n, None).failure,
            Some(CacheError::NarHashMismatch { .. })
        ));
        assert!(matches!(
            run(&nar[..50], h, n, None).failure,
            Some(CacheError::NarSizeMismatch { got: 50, .. })
        ));
        let mut longer = nar.clone();
        longer.push(0);
        assert!(matches!(
            run(&longer, h, n, None).failure,
            Some(CacheError::NarSizeMismatch { .. })
        ));
    }

    #[test]
    fn content_addresses_are_checked() {
        for executable in [false, true] {
            let contents = b"some file contents that are longer than one chunk".repeat(50);
            let nar = nar_of_file(&contents, executable);
            let h = Hash::digest_bytes(HashAlgo::Sha256, &nar);
            let n = nar.len() as u64;
            let text = ContentAddress::Text(Hash::digest_bytes(HashAlgo::Sha256, &contents));
            let flat = ContentAddress::Fixed {
                method: FileIngestionMethod::Flat,
                hash: Hash::digest_bytes(HashAlgo::Sha1, &contents),
            };
            let rec = ContentAddress::Fixed {
                method: FileIngestionMethod::Recursive,
                hash: Hash::digest_bytes(HashAlgo::Sha512, &nar),
            };
            for ca in [text, flat, rec] {
                // read in small pieces to cross the header boundary
                let mut v = Verifier::new(&nar[..], "p".into(), "u".into(), h, n, Some(&ca));
                let mut buf = [0u8; 7];
                while v.read(&mut buf).map(|k| k > 0).unwrap_or(false) {}
                assert!(v.verified, "{ca} executable={executable}");
            }
            let wrong = ContentAddress::Text(Hash::digest_bytes(HashAlgo::Sha256, b"other"));
            assert!(matches!(
                run(&nar, h, n, Some(&wrong)).failure,
                Some(CacheError::CaMismatch { .. })
            ));
        }
    }
}
