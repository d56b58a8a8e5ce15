//! Reference scanning: which of a set of candidate store paths occur in a byte stream
//! (nix-facts §6).
//!
//! After a build, CppNix scans the NAR of every output for the 32-character hash part of every
//! candidate path; each one found is a reference. This module does the same, streaming and
//! correct across any chunk boundaries: a [`ReferenceScanner`] is a [`std::io::Write`] that keeps
//! the last 31 bytes between writes.
//!
//! The search, like CppNix's, looks for windows of 32 consecutive nix32 characters. It tests a
//! window from its last byte backwards and, at the first byte outside the alphabet, jumps past
//! it, so on binary data it touches about one byte in 32. A window made only of nix32 characters
//! goes through a 64 Ki-bit filter on its first four bytes and only then to a hash-set lookup. A
//! run of nix32 text slides one byte at a time without re-checking the window.
//!
//! # Example
//! ```
//! use std::collections::BTreeSet;
//! use std::io::Write;
//! use nix_store::references::{scan_references, ReferenceScanner};
//! use nix_store::store_path::StorePath;
//!
//! let a: StorePath = "l82nr4gna33sc2g8m4hkkr6r983dlbd6-a.txt".parse()?;
//! let b: StorePath = "94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple".parse()?;
//! let candidates = BTreeSet::from([a.clone(), b]);
//! let data = b"#!/bin/sh\ncat /nix/store/l82nr4gna33sc2g8m4hkkr6r983dlbd6-a.txt\n";
//! assert_eq!(scan_references(&candidates, &data[..])?, BTreeSet::from([a.clone()]));
//!
//! // The same, written in pieces that split the hash.
//! let mut scanner = ReferenceScanner::for_paths(&candidates);
//! scanner.write_all(&data[..30])?;
//! scanner.write_all(&data[30..])?;
//! assert_eq!(scanner.found_paths(&candidates), BTreeSet::from([a]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeSet, HashSet};
use std::io::{self, Read, Write};

use crate::hash::nix32;
use crate::store_path::{StorePath, HASH_PART_LEN};

/// A hash part as bytes.
type HashPart = [u8; HASH_PART_LEN];

/// Bytes of the nix32 alphabet.
const IS_NIX32: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = nix32::DECODE_TABLE[i] != 0xff;
        i += 1;
    }
    t
};

/// Bits in the prefilter.
const FILTER_BITS: usize = 1 << 16;

#[inline]
fn filter_index(window: &[u8]) -> usize {
    let prefix = u32::from_le_bytes([window[0], window[1], window[2], window[3]]);
    (prefix.wrapping_mul(0x9e37_79b1) >> 16) as usize
}

/// A hash part that is not 32 nix32 characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{hash_part}' is not a store path hash part (32 nix32 characters)")]
pub struct InvalidHashPart {
    /// The offending text.
    pub hash_part: String,
}

/// Finds which candidate hash parts occur in the bytes written to it.
#[derive(Clone)]
pub struct ReferenceScanner {
    candidates: HashSet<HashPart>,
    filter: Vec<u64>,
    found: HashSet<HashPart>,
    /// The last (up to 31) bytes seen, for windows that straddle two writes.
    tail: Vec<u8>,
    scanned: u64,
}

impl std::fmt::Debug for ReferenceScanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReferenceScanner")
            .field("candidates", &self.candidates.len())
            .field("found", &self.found.len())
            .field("scanned", &self.scanned)
            .finish()
    }
}

impl ReferenceScanner {
    /// A scanner for the hash parts of these store paths.
    pub fn for_paths<'a>(paths: impl IntoIterator<Item = &'a StorePath>) -> Self {
        Self::from_parts(paths.into_iter().map(|p| {
            let mut h = [0u8; HASH_PART_LEN];
            h.copy_from_slice(p.hash_part().as_bytes());
            h
        }))
    }

    /// A scanner for hash parts given as text.
    ///
    /// # Errors
    /// A candidate that is not 32 nix32 characters.
    pub fn for_hash_parts<S: AsRef<str>>(
        parts: impl IntoIterator<Item = S>,
    ) -> Result<Self, InvalidHashPart> {
        let mut v = Vec::new();
        for p in parts {
            let p = p.as_ref();
            let bytes: HashPart = p.as_bytes().try_into().map_err(|_| InvalidHashPart {
                hash_part: p.to_string(),
            })?;
            if !bytes.iter().all(|&b| IS_NIX32[b as usize]) {
                return Err(InvalidHashPart {
                    hash_part: p.to_string(),
                });
            }
            v.push(bytes);
        }
        Ok(Self::from_parts(v))
    }

    fn from_parts(parts: impl IntoIterator<Item = HashPart>) -> Self {
        let candidates: HashSet<HashPart> = parts.into_iter().collect();
        let mut filter = vec![0u64; FILTER_BITS / 64];
        for c in &candidates {
            let i = filter_index(c);
            filter[i / 64] |= 1 << (i % 64);
        }
        ReferenceScanner {
            candidates,
            filter,
            found: HashSet::new(),
            tail: Vec::new(),
            scanned: 0,
        }
    }

    /// Scans the next chunk of the stream.
    pub fn update(&mut self, buf: &[u8]) {
        self.scanned += buf.len() as u64;
        if self.candidates.is_empty() || buf.is_empty() {
            return;
        }
        const KEEP: usize = HASH_PART_LEN - 1;
        // Windows that start in the tail and end in `buf`.
        if !self.tail.is_empty() {
            let take = buf.len().min(KEEP);
            let mut joint = [0u8; 2 * KEEP];
            let n = self.tail.len();
            joint[..n].copy_from_slice(&self.tail);
            joint[n..n + take].copy_from_slice(&buf[..take]);
            self.search(&joint[..n + take]);
        }
        self.search(buf);
        // Keep the last 31 bytes of everything seen.
        if buf.len() >= KEEP {
            self.tail.clear();
            self.tail.extend_from_slice(&buf[buf.len() - KEEP..]);
        } else {
            self.tail.extend_from_slice(buf);
            let excess = self.tail.len().saturating_sub(KEEP);
            self.tail.drain(..excess);
        }
    }

    #[inline]
    fn check(&mut self, window: &[u8]) {
        let i = filter_index(window);
        if self.filter[i / 64] & (1 << (i % 64)) == 0 {
            return;
        }
        let key: &HashPart = window.try_into().expect("windows are 32 bytes");
        if self.candidates.contains(key) {
            self.found.insert(*key);
        }
    }

    /// Finds every candidate that occurs entirely inside `s`.
    fn search(&mut self, s: &[u8]) {
        let n = s.len();
        let mut i = 0;
        'outer: while i + HASH_PART_LEN <= n {
            // Test the window from its end; jump past the last byte outside the alphabet.
            let window: &HashPart = s[i..i + HASH_PART_LEN].try_into().expect("32 bytes");
            if let Some(j) = window.iter().rposition(|&b| !IS_NIX32[b as usize]) {
                i += j + 1;
                continue 'outer;
            }
            // A run of nix32 characters: slide one byte at a time while it lasts.
            loop {
                self.check(&s[i..i + HASH_PART_LEN]);
                let next = i + HASH_PART_LEN;
                if next < n && IS_NIX32[s[next] as usize] {
                    i += 1;
                } else {
                    i = next + 1;
                    break;
                }
            }
        }
    }

    /// How many bytes were scanned.
    pub fn bytes_scanned(&self) -> u64 {
        self.scanned
    }

    /// The hash parts found so far, as text, sorted.
    pub fn found_hash_parts(&self) -> BTreeSet<String> {
        self.found
            .iter()
            .map(|h| String::from_utf8_lossy(h).into_owned())
            .collect()
    }

    /// Whether this hash part was found.
    pub fn is_found(&self, hash_part: &str) -> bool {
        <&HashPart>::try_from(hash_part.as_bytes()).is_ok_and(|h| self.found.contains(h))
    }

    /// The paths among `paths` whose hash part was found.
    pub fn found_paths<'a>(
        &self,
        paths: impl IntoIterator<Item = &'a StorePath>,
    ) -> BTreeSet<StorePath> {
        paths
            .into_iter()
            .filter(|p| self.is_found(p.hash_part()))
            .cloned()
            .collect()
    }
}

impl Write for ReferenceScanner {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.update(buf);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads `reader` to the end and returns which of `candidates` it refers to.
///
/// # Errors
/// Read errors.
pub fn scan_references<R: Read>(
    candidates: &BTreeSet<StorePath>,
    mut reader: R,
) -> io::Result<BTreeSet<StorePath>> {
    let mut scanner = ReferenceScanner::for_paths(candidates);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => scanner.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(scanner.found_paths(candidates))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H1: &str = "l82nr4gna33sc2g8m4hkkr6r983dlbd6";
    const H2: &str = "94f9f6i31zwzwbf0kclq1naqxxi4c7v9";

    fn scan(data: &[u8]) -> BTreeSet<String> {
        let mut s = ReferenceScanner::for_hash_parts([H1, H2]).expect("valid");
        s.update(data);
        s.found_hash_parts()
    }

    #[test]
    fn finds_inside_runs_and_at_edges() {
        assert_eq!(scan(H1.as_bytes()), BTreeSet::from([H1.to_string()]));
        // Embedded in a longer run of nix32 characters on both sides.
        let s = format!("abc{H1}xyz{H2}000");
        assert_eq!(scan(s.as_bytes()).len(), 2);
        // One character short.
        assert!(scan(&H1.as_bytes()[1..]).is_empty());
        // A non-alphabet byte in the middle.
        let mut broken = H1.as_bytes().to_vec();
        broken[10] = b'e';
        assert!(scan(&broken).is_empty());
    }

    #[test]
    fn rejects_bad_candidates() {
        assert!(ReferenceScanner::for_hash_parts(["short"]).is_err());
        assert!(ReferenceScanner::for_hash_parts(["e".repeat(32)]).is_err());
    }

    #[test]
    fn byte_at_a_time() {
        let data = format!("\0\0{H2}\0{H1}");
        let mut s = ReferenceScanner::for_hash_parts([H1, H2]).expect("valid");
        for b in data.as_bytes() {
            s.update(std::slice::from_ref(b));
        }
        assert_eq!(s.found_hash_parts().len(), 2);
        assert_eq!(s.bytes_scanned(), data.len() as u64);
    }
}
