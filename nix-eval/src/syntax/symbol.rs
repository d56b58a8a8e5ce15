//! Interned names: identifiers and static attribute names become [`Symbol`]s.
//!
//! The [`Interner`] is owned by the caller and passed to the parser, so an evaluator can keep one
//! interner for a whole evaluation: the names of builtins and the names in every parsed file then
//! share ids, and comparing two names is comparing two `u32`s.
//!
//! Names are bytes (a Nix attribute name can be any string, e.g. `{ "\xff" = 1; }`).

use std::fmt;

/// An interned name. Cheap to copy and compare; resolve it with [`Interner::resolve`].
///
/// Ids are dense and start at 0 in the order names were first interned.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol(u32);

impl Symbol {
    /// The dense index of this symbol in its interner.
    pub fn index(self) -> u32 {
        self.0
    }
}

impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Symbol({})", self.0)
    }
}

/// The table of interned names.
///
/// All names live in one byte buffer; the hash table stores only symbol ids (open addressing,
/// linear probing), so interning an already known name allocates nothing.
///
/// # Example
///
/// ```
/// use nix_eval::syntax::Interner;
/// let mut names = Interner::new();
/// let a = names.intern(b"foo");
/// let b = names.intern(b"foo");
/// assert_eq!(a, b);
/// assert_eq!(names.resolve(a), b"foo");
/// ```
#[derive(Clone)]
pub struct Interner {
    /// All names, back to back.
    bytes: Vec<u8>,
    /// `(start, end)` of each symbol's name in `bytes`, indexed by symbol id.
    spans: Vec<(u32, u32)>,
    /// Hash of each symbol's name, indexed by symbol id (to grow without rehashing names).
    hashes: Vec<u64>,
    /// Open-addressing table of `symbol id + 1` (0 = empty); its length is a power of two.
    table: Vec<u32>,
}

impl fmt::Debug for Interner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interner")
            .field("len", &self.spans.len())
            .finish()
    }
}

impl Default for Interner {
    fn default() -> Self {
        Self::new()
    }
}

/// FNV-1a style hash, mixed at the end; names are short so this is fast enough.
fn hash_bytes(s: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in s {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^ (h >> 29)
}

impl Interner {
    /// An empty interner.
    pub fn new() -> Self {
        Interner {
            bytes: Vec::new(),
            spans: Vec::new(),
            hashes: Vec::new(),
            table: vec![0; 64],
        }
    }

    /// The number of distinct names interned so far.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether nothing has been interned yet.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Interns `name`, returning its symbol (the same one every time for the same bytes).
    ///
    /// # Panics
    ///
    /// Panics if more than `u32::MAX` bytes of distinct names are interned.
    pub fn intern(&mut self, name: &[u8]) -> Symbol {
        let h = hash_bytes(name);
        let mask = self.table.len() - 1;
        let mut i = (h as usize) & mask;
        loop {
            let slot = self.table[i];
            if slot == 0 {
                break;
            }
            let id = (slot - 1) as usize;
            if self.hashes[id] == h {
                let (s, e) = self.spans[id];
                if &self.bytes[s as usize..e as usize] == name {
                    return Symbol(slot - 1);
                }
            }
            i = (i + 1) & mask;
        }
        let start =
            u32::try_from(self.bytes.len()).expect("interner holds less than 4 GiB of names");
        self.bytes.extend_from_slice(name);
        let end = u32::try_from(self.bytes.len()).expect("interner holds less than 4 GiB of names");
        let id = u32::try_from(self.spans.len()).expect("fewer than 2^32 symbols");
        self.spans.push((start, end));
        self.hashes.push(h);
        self.table[i] = id + 1;
        if self.spans.len() * 2 > self.table.len() {
            self.grow();
        }
        Symbol(id)
    }

    /// The symbol of `name` if it was interned already.
    pub fn get(&self, name: &[u8]) -> Option<Symbol> {
        let h = hash_bytes(name);
        let mask = self.table.len() - 1;
        let mut i = (h as usize) & mask;
        loop {
            let slot = self.table[i];
            if slot == 0 {
                return None;
            }
            let id = (slot - 1) as usize;
            if self.hashes[id] == h {
                let (s, e) = self.spans[id];
                if &self.bytes[s as usize..e as usize] == name {
                    return Some(Symbol(slot - 1));
                }
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let n = self.table.len() * 2;
        let mut table = vec![0u32; n];
        let mask = n - 1;
        for (id, &h) in self.hashes.iter().enumerate() {
            let mut i = (h as usize) & mask;
            while table[i] != 0 {
                i = (i + 1) & mask;
            }
            table[i] = id as u32 + 1;
        }
        self.table = table;
    }

    /// The name of a symbol.
    ///
    /// # Panics
    ///
    /// Panics if `sym` comes from a different interner with more symbols (a caller bug); see
    /// [`Interner::try_resolve`].
    pub fn resolve(&self, sym: Symbol) -> &[u8] {
        self.try_resolve(sym)
            .expect("symbol belongs to this interner")
    }

    /// The name of a symbol, or `None` if this interner has no such symbol.
    pub fn try_resolve(&self, sym: Symbol) -> Option<&[u8]> {
        let &(s, e) = self.spans.get(sym.0 as usize)?;
        Some(&self.bytes[s as usize..e as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intern_many() {
        let mut i = Interner::new();
        let syms: Vec<Symbol> = (0..1000)
            .map(|n| i.intern(format!("n{n}").as_bytes()))
            .collect();
        for (n, s) in syms.iter().enumerate() {
            assert_eq!(i.intern(format!("n{n}").as_bytes()), *s);
            assert_eq!(i.resolve(*s), format!("n{n}").as_bytes());
        }
        assert_eq!(i.len(), 1000);
        assert_eq!(i.get(b"zzz"), None);
        assert_eq!(i.intern(b""), Symbol(1000));
    }
}
