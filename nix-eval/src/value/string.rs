//! Nix strings: shared bytes plus an optional context.

use std::rc::Rc;

use bytes::Bytes;

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

#[derive(Debug)]
struct Inner {
    bytes: Bytes,
    context: Option<Box<Context>>,
}

/// A Nix string: cheaply clonable bytes with an optional [`Context`].
///
/// Slicing ([`NixString::slice`]) shares the underlying buffer.
#[derive(Debug, Clone)]
pub struct NixString(Rc<Inner>);

impl NixString {
    /// A string without context.
    pub fn new(bytes: impl Into<Bytes>) -> Self {
        NixString(Rc::new(Inner {
            bytes: bytes.into(),
            context: None,
        }))
    }

    /// A string with a context (an empty context is dropped).
    pub fn with_context(bytes: impl Into<Bytes>, context: Option<Context>) -> Self {
        NixString(Rc::new(Inner {
            bytes: bytes.into(),
            context: context
                .filter(|c| !c.is_empty())
                .map(|c| Box::new(c.shrink())),
        }))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0.bytes
    }

    /// The shared byte buffer.
    pub fn bytes(&self) -> &Bytes {
        &self.0.bytes
    }

    /// The bytes as UTF-8 (lossy).
    pub fn to_str_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.0.bytes)
    }

    /// The context, if any.
    pub fn context(&self) -> Option<&Context> {
        self.0.context.as_deref()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.bytes.len()
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.0.bytes.is_empty()
    }

    /// A substring sharing the same buffer, keeping the context.
    pub fn slice(&self, start: usize, end: usize) -> NixString {
        let end = end.min(self.len());
        let start = start.min(end);
        NixString(Rc::new(Inner {
            bytes: self.0.bytes.slice(start..end),
            context: self.0.context.clone(),
        }))
    }

    /// The same bytes without context.
    pub fn without_context(&self) -> NixString {
        if self.0.context.is_none() {
            return self.clone();
        }
        NixString::new(self.0.bytes.clone())
    }
}

impl PartialEq for NixString {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl From<&str> for NixString {
    fn from(s: &str) -> Self {
        NixString::new(Bytes::copy_from_slice(s.as_bytes()))
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
