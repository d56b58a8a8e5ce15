//! Nix strings: shared bytes plus an optional context.

use std::rc::Rc;

/// The context of a string: the store paths it refers to, encoded as CppNix does (`P` for a
/// plain path, `=P.drv` for all outputs of a derivation, `!out!P.drv` for one output).
///
/// A sorted array of shared elements: copying a context into a derived string (the usual
/// case: every string built from a derivation's outputs) shares the element strings instead
/// of copying them, and a one-element context is one small array, not a B-tree node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Context(Vec<Rc<str>>);

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Context(Vec::new())
    }

    /// Adds an element.
    pub fn insert(&mut self, element: impl Into<String>) {
        let element: String = element.into();
        if let Err(i) = self.0.binary_search_by(|e| (**e).cmp(element.as_str())) {
            self.0.insert(i, Rc::from(element));
        }
    }

    /// Adds all elements of `other`.
    pub fn extend(&mut self, other: &Context) {
        if other.0.is_empty() || self.0 == other.0 {
            return;
        }
        if self.0.is_empty() {
            self.0 = other.0.clone();
            return;
        }
        let mut out = Vec::with_capacity(self.0.len() + other.0.len());
        let (mut i, mut j) = (0, 0);
        let (a, b) = (&self.0, &other.0);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => {
                    out.push(a[i].clone());
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    out.push(b[j].clone());
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    out.push(a[i].clone());
                    i += 1;
                    j += 1;
                }
            }
        }
        out.extend_from_slice(&a[i..]);
        out.extend_from_slice(&b[j..]);
        self.0 = out;
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The elements in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|s| &**s)
    }

    /// Drops spare capacity (a context kept in a string does not grow any more).
    fn shrink(mut self) -> Self {
        self.0.shrink_to_fit();
        self
    }
}

/// Strings up to this many bytes are stored inside the string's own allocation.
const INLINE: usize = 22;

#[derive(Debug)]
struct Inner {
    context: Option<Box<Context>>,
    repr: Repr,
}

/// Where a string's bytes are. 24 bytes, so an `Inner` is 32 and a whole short string is one
/// 48-byte allocation.
#[derive(Debug)]
enum Repr {
    /// A short string, in place.
    Inline { len: u8, buf: [u8; INLINE] },
    /// A buffer of exactly the string's length.
    Heap(Box<[u8]>),
    /// A part of the buffer of a `Heap` string (a substring sharing it).
    Slice {
        base: Rc<Inner>,
        start: u32,
        len: u32,
    },
}

impl Repr {
    fn from_slice(bytes: &[u8]) -> Repr {
        match u8::try_from(bytes.len()) {
            Ok(len) if bytes.len() <= INLINE => {
                let mut buf = [0u8; INLINE];
                buf[..bytes.len()].copy_from_slice(bytes);
                Repr::Inline { len, buf }
            }
            _ => Repr::Heap(bytes.into()),
        }
    }

    fn from_vec(bytes: Vec<u8>) -> Repr {
        if bytes.len() <= INLINE {
            Repr::from_slice(&bytes)
        } else {
            Repr::Heap(bytes.into_boxed_slice())
        }
    }
}

impl Inner {
    fn as_bytes(&self) -> &[u8] {
        match &self.repr {
            Repr::Inline { len, buf } => &buf[..usize::from(*len)],
            Repr::Heap(b) => b,
            Repr::Slice { base, start, len } => match &base.repr {
                // a slice's base is always a `Heap` string and the range lies inside it
                Repr::Heap(b) => {
                    let start = *start as usize;
                    b.get(start..start + *len as usize).unwrap_or_default()
                }
                _ => &[],
            },
        }
    }
}

/// A Nix string: cheaply clonable bytes with an optional [`Context`].
///
/// Short strings (up to 22 bytes) are stored in place; longer ones own a buffer of exactly
/// their length, which slicing ([`NixString::slice`]) shares.
#[derive(Debug, Clone)]
pub struct NixString(Rc<Inner>);

impl NixString {
    /// A string without context.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        NixString(Rc::new(Inner {
            context: None,
            repr: Repr::from_vec(bytes.into()),
        }))
    }

    /// A string with a context (an empty context is dropped).
    pub fn with_context(bytes: impl Into<Vec<u8>>, context: Option<Context>) -> Self {
        NixString(Rc::new(Inner {
            context: shrink_context(context),
            repr: Repr::from_vec(bytes.into()),
        }))
    }

    /// A string of a copy of `bytes`, with a context (an empty context is dropped).
    pub fn from_slice(bytes: &[u8], context: Option<Context>) -> Self {
        NixString(Rc::new(Inner {
            context: shrink_context(context),
            repr: Repr::from_slice(bytes),
        }))
    }

    /// The same bytes (shared, not copied) with another context (an empty context is dropped).
    pub fn with_other_context(&self, context: Option<Context>) -> NixString {
        self.share(0, self.len(), shrink_context(context))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The bytes as UTF-8 (lossy).
    pub fn to_str_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.as_bytes())
    }

    /// The context, if any.
    pub fn context(&self) -> Option<&Context> {
        self.0.context.as_deref()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        match &self.0.repr {
            Repr::Inline { len, .. } => usize::from(*len),
            Repr::Heap(b) => b.len(),
            Repr::Slice { len, .. } => *len as usize,
        }
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A substring sharing the same buffer (short ones are copied), keeping the context.
    pub fn slice(&self, start: usize, end: usize) -> NixString {
        let end = end.min(self.len());
        let start = start.min(end);
        if start == 0 && end == self.len() {
            return self.clone();
        }
        self.share(start, end, self.0.context.clone())
    }

    /// The bytes `start..end` (within bounds) with `context`: short ones copied, long ones a
    /// slice of the same `Heap` buffer.
    fn share(&self, start: usize, end: usize, context: Option<Box<Context>>) -> NixString {
        let bytes = self.as_bytes().get(start..end).unwrap_or_default();
        let (base, offset) = match &self.0.repr {
            Repr::Heap(_) => (&self.0, 0),
            Repr::Slice { base, start, .. } => (base, *start as usize),
            Repr::Inline { .. } => (&self.0, 0),
        };
        let repr = match (u32::try_from(offset + start), u32::try_from(bytes.len())) {
            (Ok(start), Ok(len)) if bytes.len() > INLINE && matches!(base.repr, Repr::Heap(_)) => {
                Repr::Slice {
                    base: base.clone(),
                    start,
                    len,
                }
            }
            _ => Repr::from_slice(bytes),
        };
        NixString(Rc::new(Inner { context, repr }))
    }

    /// The same bytes without context.
    pub fn without_context(&self) -> NixString {
        if self.0.context.is_none() {
            return self.clone();
        }
        self.share(0, self.len(), None)
    }
}

/// An empty context is none; a kept one has no spare capacity.
fn shrink_context(context: Option<Context>) -> Option<Box<Context>> {
    context
        .filter(|c| !c.is_empty())
        .map(|c| Box::new(c.shrink()))
}

impl PartialEq for NixString {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl From<&str> for NixString {
    fn from(s: &str) -> Self {
        NixString::from_slice(s.as_bytes(), None)
    }
}

impl From<String> for NixString {
    fn from(s: String) -> Self {
        NixString::new(s.into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Nested slices of any string read the same bytes as slices of a plain `Vec`, and a
        /// long slice never points at another slice.
        #[test]
        fn slices_read_like_vec_slices(
            bytes in proptest::collection::vec(any::<u8>(), 0..80),
            cuts in proptest::collection::vec((0usize..90, 0usize..90), 1..4),
        ) {
            let mut s = NixString::new(bytes.clone());
            let mut want: &[u8] = &bytes;
            prop_assert_eq!(s.as_bytes(), want);
            for (a, b) in cuts {
                let end = b.min(want.len());
                let start = a.min(end);
                s = s.slice(a, b);
                want = &want[start..end];
                prop_assert_eq!(s.as_bytes(), want);
                prop_assert_eq!(s.len(), want.len());
                if let Repr::Slice { base, .. } = &s.0.repr {
                    prop_assert!(matches!(base.repr, Repr::Heap(_)));
                }
                let plain = s.without_context();
                prop_assert_eq!(plain.as_bytes(), want);
            }
        }
    }

    #[test]
    fn slices_share_and_keep_context() {
        let mut c = Context::new();
        c.insert("/nix/store/x");
        let s = NixString::with_context(b"hello world".to_vec(), Some(c));
        let t = s.slice(6, 100);
        assert_eq!(t.as_bytes(), b"world");
        assert!(t.context().is_some());
        let e = s.slice(0, 0);
        assert!(e.is_empty() && e.context().is_some());
    }

    #[test]
    fn short_strings_in_place_long_ones_shared() {
        assert_eq!(std::mem::size_of::<Inner>(), 32);
        let short = NixString::from("item-12345-86415");
        assert!(matches!(short.0.repr, Repr::Inline { .. }));
        assert_eq!(short.as_bytes(), b"item-12345-86415");
        let long = NixString::new(vec![b'x'; 100]);
        assert!(matches!(long.0.repr, Repr::Heap(_)));
        // a long substring of a substring points at the original buffer
        let sub = long.slice(10, 90).slice(5, 60);
        assert_eq!(sub.len(), 55);
        match &sub.0.repr {
            Repr::Slice { base, start, len } => {
                assert!(Rc::ptr_eq(base, &long.0));
                assert_eq!((*start, *len), (15, 55));
            }
            _ => panic!("expected a slice"),
        }
        // short substrings are copies
        let mut c = Context::new();
        c.insert("/nix/store/x");
        let tagged = NixString::with_context(b"0123456789".repeat(5), Some(c));
        let piece = tagged.slice(3, 8);
        assert!(matches!(piece.0.repr, Repr::Inline { .. }));
        assert_eq!(piece.as_bytes(), b"34567");
        assert!(piece.context().is_some());
        assert!(tagged.without_context().context().is_none());
        assert_eq!(tagged.without_context().as_bytes(), tagged.as_bytes());
        let exact = NixString::new(vec![b'y'; INLINE]);
        assert!(matches!(exact.0.repr, Repr::Inline { .. }));
        assert_eq!(exact.len(), INLINE);
        assert!(NixString::new(Vec::new()).is_empty());
    }

    #[test]
    fn contexts_stay_sorted_without_duplicates() {
        let mut a = Context::new();
        a.insert("=/nix/store/b.drv");
        a.insert("/nix/store/a");
        a.insert("/nix/store/a");
        let mut b = Context::new();
        b.insert("!out!/nix/store/c.drv");
        b.insert("/nix/store/a");
        b.insert("/nix/store/z");
        a.extend(&b);
        let got: Vec<&str> = a.iter().collect();
        assert_eq!(
            got,
            [
                "!out!/nix/store/c.drv",
                "/nix/store/a",
                "/nix/store/z",
                "=/nix/store/b.drv"
            ]
        );
        let mut e = Context::new();
        e.extend(&b);
        assert_eq!(e, b);
        e.extend(&Context::new());
        assert_eq!(e, b);
    }
}
