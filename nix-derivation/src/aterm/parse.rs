//! The `.drv` parser: a hand-written recursive-descent parser over bytes.
//!
//! Every function here is small and reports the byte offset of what it did not understand.
//! Nothing here panics on any input.

use std::collections::{BTreeMap, BTreeSet};

use memchr::memchr2;
use nix_store::hash::{Hash, HashAlgo};
use nix_store::store_path::{StoreDir, StorePath};

use super::escape::unescape_byte;
use super::{Expected, ParseError, ParseOptions};
use crate::derivation::{Derivation, DerivationOutput, FileIngestionMethod};

/// A position in the input.
#[derive(Debug)]
pub(crate) struct Cursor<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Cursor { input, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    fn rest(&self) -> &'a [u8] {
        &self.input[self.pos..]
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn fail<T>(&self, expected: Expected) -> Result<T, ParseError> {
        Err(if self.pos >= self.input.len() {
            ParseError::UnexpectedEof {
                offset: self.pos,
                expected,
            }
        } else {
            ParseError::Unexpected {
                offset: self.pos,
                expected,
            }
        })
    }

    /// Consumes the literal `lit` (a punctuation token such as `,` or `Derive([`).
    pub(crate) fn expect(&mut self, lit: &'static str) -> Result<(), ParseError> {
        let rest = self.rest();
        if rest.starts_with(lit.as_bytes()) {
            self.pos += lit.len();
            return Ok(());
        }
        // Point at the first byte that differs.
        let same = rest
            .iter()
            .zip(lit.as_bytes())
            .take_while(|(a, b)| a == b)
            .count();
        self.pos += same;
        let res = self.fail(Expected::Literal(lit));
        self.pos -= same;
        res
    }

    /// Parses a quoted string literal and returns its decoded bytes.
    pub(crate) fn string(&mut self) -> Result<Vec<u8>, ParseError> {
        if self.peek() != Some(b'"') {
            return self.fail(Expected::String);
        }
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let rest = self.rest();
            let Some(i) = memchr2(b'"', b'\\', rest) else {
                self.pos = self.input.len();
                return Err(ParseError::UnterminatedString { offset: start });
            };
            out.extend_from_slice(&rest[..i]);
            self.pos += i;
            if rest[i] == b'"' {
                self.pos += 1;
                return Ok(out);
            }
            // A backslash: the next byte is escaped.
            match rest.get(i + 1) {
                Some(&e) => {
                    out.push(unescape_byte(e));
                    self.pos += 2;
                }
                None => {
                    self.pos = self.input.len();
                    return Err(ParseError::UnterminatedString { offset: start });
                }
            }
        }
    }

    /// Parses a string that must be valid UTF-8 (output names), returning it and its offset.
    fn utf8_string(&mut self) -> Result<(String, usize), ParseError> {
        let offset = self.pos;
        let bytes = self.string()?;
        String::from_utf8(bytes)
            .map(|s| (s, offset))
            .map_err(|_| ParseError::NotUtf8 { offset })
    }

    /// Parses a list `[item,item,…]`, calling `item` for each element.
    pub(crate) fn list(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<(), ParseError>,
    ) -> Result<(), ParseError> {
        self.expect("[")?;
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            item(self)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return self.fail(Expected::CommaOrEnd),
            }
        }
    }

    /// Parses a store path string.
    fn store_path(&mut self, store_dir: &StoreDir) -> Result<StorePath, ParseError> {
        let offset = self.pos;
        let bytes = self.string()?;
        parse_store_path(store_dir, &bytes, offset)
    }
}

/// Parses a full store path at `offset`.
pub(crate) fn parse_store_path(
    store_dir: &StoreDir,
    bytes: &[u8],
    offset: usize,
) -> Result<StorePath, ParseError> {
    let s = std::str::from_utf8(bytes).map_err(|_| ParseError::NotUtf8 { offset })?;
    store_dir
        .parse_path(s)
        .map_err(|source| ParseError::StorePath { offset, source })
}

/// Parses an output's `hashAlgo` field (`sha256`, `r:sha256`).
pub(crate) fn parse_method_algo(
    s: &[u8],
    offset: usize,
) -> Result<(FileIngestionMethod, HashAlgo), ParseError> {
    let (method, algo) = match s.strip_prefix(b"r:") {
        Some(rest) => (FileIngestionMethod::Recursive, rest),
        None => (FileIngestionMethod::Flat, s),
    };
    let name = String::from_utf8_lossy(algo);
    let algo = name
        .parse::<HashAlgo>()
        .map_err(|_| ParseError::UnknownHashAlgo {
            offset,
            name: name.into_owned(),
        })?;
    Ok((method, algo))
}

/// Builds an output from the three strings of its tuple, as CppNix's `parseDerivationOutput`.
pub(crate) fn output_from_fields(
    store_dir: &StoreDir,
    path: (&[u8], usize),
    hash_algo: (&[u8], usize),
    hash: (&[u8], usize),
) -> Result<DerivationOutput, ParseError> {
    let (path, path_at) = path;
    let (hash_algo, algo_at) = hash_algo;
    let (hash, hash_at) = hash;
    if hash_algo.is_empty() {
        if !hash.is_empty() {
            return Err(ParseError::InvalidOutput {
                offset: hash_at,
                reason: "an output hash without a hash algorithm",
            });
        }
        if path.is_empty() {
            return Ok(DerivationOutput::Deferred);
        }
        return Ok(DerivationOutput::InputAddressed(parse_store_path(
            store_dir, path, path_at,
        )?));
    }
    let (method, algo) = parse_method_algo(hash_algo, algo_at)?;
    if hash == b"impure" {
        if !path.is_empty() {
            return Err(ParseError::InvalidOutput {
                offset: path_at,
                reason: "an impure output with a path",
            });
        }
        return Ok(DerivationOutput::Impure { method, algo });
    }
    if hash.is_empty() {
        if !path.is_empty() {
            return Err(ParseError::InvalidOutput {
                offset: path_at,
                reason: "a floating content-addressed output with a path",
            });
        }
        return Ok(DerivationOutput::Floating { method, algo });
    }
    let text = std::str::from_utf8(hash).map_err(|_| ParseError::NotUtf8 { offset: hash_at })?;
    let hash = Hash::parse_with_algo(text, algo).map_err(|source| ParseError::Hash {
        offset: hash_at,
        source,
    })?;
    let path = parse_store_path(store_dir, path, path_at)?;
    Ok(DerivationOutput::Fixed { path, method, hash })
}

/// Parses a whole `.drv` file.
pub(crate) fn derivation(
    input: &[u8],
    store_dir: &StoreDir,
    options: &ParseOptions,
) -> Result<Derivation, ParseError> {
    if input.len() > options.max_size {
        return Err(ParseError::TooLarge {
            size: input.len(),
            limit: options.max_size,
        });
    }
    let mut c = Cursor::new(input);
    c.expect("Derive(")?;

    let mut outputs = BTreeMap::new();
    c.list(|c| {
        c.expect("(")?;
        let (name, name_at) = c.utf8_string()?;
        c.expect(",")?;
        let path_at = c.pos();
        let path = c.string()?;
        c.expect(",")?;
        let algo_at = c.pos();
        let algo = c.string()?;
        c.expect(",")?;
        let hash_at = c.pos();
        let hash = c.string()?;
        c.expect(")")?;
        let output = output_from_fields(
            store_dir,
            (&path, path_at),
            (&algo, algo_at),
            (&hash, hash_at),
        )?;
        if outputs.insert(name.clone(), output).is_some() {
            return Err(ParseError::Duplicate {
                offset: name_at,
                what: "output",
                name: name.into_bytes(),
            });
        }
        Ok(())
    })?;

    c.expect(",")?;
    let mut input_drvs = BTreeMap::new();
    c.list(|c| {
        c.expect("(")?;
        let path_at = c.pos();
        let path = c.store_path(store_dir)?;
        c.expect(",")?;
        let mut names = BTreeSet::new();
        c.list(|c| {
            let (name, at) = c.utf8_string()?;
            if !names.insert(name.clone()) {
                return Err(ParseError::Duplicate {
                    offset: at,
                    what: "output name of an input derivation",
                    name: name.into_bytes(),
                });
            }
            Ok(())
        })?;
        c.expect(")")?;
        match input_drvs.entry(path) {
            std::collections::btree_map::Entry::Occupied(e) => Err(ParseError::Duplicate {
                offset: path_at,
                what: "input derivation",
                name: e.key().name().as_bytes().to_vec(),
            }),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(names);
                Ok(())
            }
        }
    })?;

    c.expect(",")?;
    let mut input_srcs = BTreeSet::new();
    c.list(|c| {
        let at = c.pos();
        let path = c.store_path(store_dir)?;
        let name = path.name().as_bytes().to_vec();
        if !input_srcs.insert(path) {
            return Err(ParseError::Duplicate {
                offset: at,
                what: "input source",
                name,
            });
        }
        Ok(())
    })?;

    c.expect(",")?;
    let system = c.string()?;
    c.expect(",")?;
    let builder = c.string()?;
    c.expect(",")?;
    let mut args = Vec::new();
    c.list(|c| {
        args.push(c.string()?);
        Ok(())
    })?;

    c.expect(",")?;
    let mut env = BTreeMap::new();
    c.list(|c| {
        c.expect("(")?;
        let key_at = c.pos();
        let key = c.string()?;
        c.expect(",")?;
        let value = c.string()?;
        c.expect(")")?;
        match env.entry(key) {
            std::collections::btree_map::Entry::Occupied(e) => Err(ParseError::Duplicate {
                offset: key_at,
                what: "environment variable",
                name: e.key().clone(),
            }),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(value);
                Ok(())
            }
        }
    })?;
    c.expect(")")?;
    if c.pos() != input.len() {
        return Err(ParseError::TrailingData { offset: c.pos() });
    }
    Ok(Derivation {
        outputs,
        input_drvs,
        input_srcs,
        system,
        builder,
        args,
        env,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(input: &[u8]) -> Result<(Vec<u8>, usize), ParseError> {
        let mut c = Cursor::new(input);
        let s = c.string()?;
        Ok((s, c.pos()))
    }

    #[test]
    fn strings() -> Result<(), ParseError> {
        assert_eq!(string(br#""""#)?, (vec![], 2));
        assert_eq!(string(br#""abc",x"#)?, (b"abc".to_vec(), 5));
        assert_eq!(string(br#""a\"b\\c\nd\re\tf\g""#)?.0, b"a\"b\\c\nd\re\tfg");
        assert_eq!(string(b"\"\xff\x00\"")?.0, b"\xff\x00");
        Ok(())
    }

    #[test]
    fn string_errors_have_offsets() {
        assert_eq!(
            string(b"x"),
            Err(ParseError::Unexpected {
                offset: 0,
                expected: Expected::String
            })
        );
        assert_eq!(
            string(b""),
            Err(ParseError::UnexpectedEof {
                offset: 0,
                expected: Expected::String
            })
        );
        assert_eq!(
            string(br#""abc"#),
            Err(ParseError::UnterminatedString { offset: 0 })
        );
        assert_eq!(
            string(br#""abc\"#),
            Err(ParseError::UnterminatedString { offset: 0 })
        );
    }

    #[test]
    fn expect_points_at_first_difference() {
        let mut c = Cursor::new(b"Derivx");
        assert_eq!(
            c.expect("Derive("),
            Err(ParseError::Unexpected {
                offset: 5,
                expected: Expected::Literal("Derive(")
            })
        );
        let mut c = Cursor::new(b"Der");
        assert_eq!(
            c.expect("Derive("),
            Err(ParseError::UnexpectedEof {
                offset: 3,
                expected: Expected::Literal("Derive(")
            })
        );
        assert_eq!(c.pos(), 0);
    }

    fn list(input: &[u8]) -> Result<Vec<Vec<u8>>, ParseError> {
        let mut c = Cursor::new(input);
        let mut items = Vec::new();
        c.list(|c| {
            items.push(c.string()?);
            Ok(())
        })?;
        Ok(items)
    }

    #[test]
    fn lists() -> Result<(), ParseError> {
        assert_eq!(list(b"[]")?, Vec::<Vec<u8>>::new());
        assert_eq!(list(br#"["a"]"#)?, vec![b"a".to_vec()]);
        assert_eq!(list(br#"["a","b"]"#)?, vec![b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(
            list(br#"["a""b"]"#),
            Err(ParseError::Unexpected {
                offset: 4,
                expected: Expected::CommaOrEnd
            })
        );
        assert_eq!(
            list(br#"["a",]"#),
            Err(ParseError::Unexpected {
                offset: 5,
                expected: Expected::String
            })
        );
        assert_eq!(
            list(br#"["a""#),
            Err(ParseError::UnexpectedEof {
                offset: 4,
                expected: Expected::CommaOrEnd
            })
        );
        Ok(())
    }

    #[test]
    fn method_algo() -> Result<(), ParseError> {
        assert_eq!(
            parse_method_algo(b"sha256", 0)?,
            (FileIngestionMethod::Flat, HashAlgo::Sha256)
        );
        assert_eq!(
            parse_method_algo(b"r:md5", 0)?,
            (FileIngestionMethod::Recursive, HashAlgo::Md5)
        );
        assert!(matches!(
            parse_method_algo(b"r:sha3", 7),
            Err(ParseError::UnknownHashAlgo { offset: 7, .. })
        ));
        Ok(())
    }
}
