//! Streaming hashing: feed bytes through [`std::io::Write`], then [`Hasher::finish`].

use std::io;

use md5::Digest as _;

use super::{Hash, HashAlgo};

#[derive(Clone)]
enum Inner {
    Md5(md5::Md5),
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

/// A streaming hasher for one [`HashAlgo`]; it also counts the bytes it saw.
///
/// # Example
/// ```
/// use std::io::Write;
/// use nix_store::hash::{Hash, HashAlgo, Hasher};
/// let mut h = Hasher::new(HashAlgo::Sha256);
/// h.write_all(b"hel")?;
/// h.write_all(b"lo\n")?;
/// assert_eq!(h.bytes_hashed(), 6);
/// assert_eq!(h.finish(), Hash::digest_bytes(HashAlgo::Sha256, b"hello\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Hasher {
    inner: Inner,
    count: u64,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("algo", &self.algo())
            .field("count", &self.count)
            .finish()
    }
}

impl Hasher {
    /// A new hasher for `algo`.
    pub fn new(algo: HashAlgo) -> Self {
        let inner = match algo {
            HashAlgo::Md5 => Inner::Md5(md5::Md5::new()),
            HashAlgo::Sha1 => Inner::Sha1(sha1::Sha1::new()),
            HashAlgo::Sha256 => Inner::Sha256(sha2::Sha256::new()),
            HashAlgo::Sha512 => Inner::Sha512(sha2::Sha512::new()),
        };
        Hasher { inner, count: 0 }
    }

    /// The algorithm.
    pub fn algo(&self) -> HashAlgo {
        match self.inner {
            Inner::Md5(_) => HashAlgo::Md5,
            Inner::Sha1(_) => HashAlgo::Sha1,
            Inner::Sha256(_) => HashAlgo::Sha256,
            Inner::Sha512(_) => HashAlgo::Sha512,
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.count += data.len() as u64;
        match &mut self.inner {
            Inner::Md5(h) => h.update(data),
            Inner::Sha1(h) => h.update(data),
            Inner::Sha256(h) => h.update(data),
            Inner::Sha512(h) => h.update(data),
        }
    }

    /// How many bytes were fed so far.
    pub fn bytes_hashed(&self) -> u64 {
        self.count
    }

    /// The digest of everything fed.
    pub fn finish(self) -> Hash {
        let algo = self.algo();
        let digest: Vec<u8> = match self.inner {
            Inner::Md5(h) => h.finalize().to_vec(),
            Inner::Sha1(h) => h.finalize().to_vec(),
            Inner::Sha256(h) => h.finalize().to_vec(),
            Inner::Sha512(h) => h.finalize().to_vec(),
        };
        Hash::new(algo, &digest).expect("a digest has the length of its algorithm")
    }
}

impl io::Write for Hasher {
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
