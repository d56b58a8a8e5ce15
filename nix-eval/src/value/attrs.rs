//! Attribute sets: arrays sorted by symbol id.

use crate::diagnostic::Pos;
use crate::syntax::{Interner, Symbol};

use super::Value;

/// One attribute: name, value and where it was defined.
#[derive(Debug, Clone)]
pub struct Attr {
    /// The name.
    pub name: Symbol,
    /// The value (possibly a thunk).
    pub value: Value,
    /// Where the attribute was defined, if known.
    pub pos: Option<Pos>,
}

/// An attribute set, sorted by symbol id (not by name: use [`Attrs::sorted_by_name`] for the
/// order Nix shows).
#[derive(Debug, Clone, Default)]
pub struct Attrs {
    entries: Vec<Attr>,
}

impl Attrs {
    /// An empty set.
    pub fn new() -> Self {
        Attrs {
            entries: Vec::new(),
        }
    }

    /// Builds from entries already sorted by symbol id without duplicates.
    pub(crate) fn from_sorted(entries: Vec<Attr>) -> Self {
        debug_assert!(entries.windows(2).all(|w| w[0].name < w[1].name));
        Attrs { entries }
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Looks up an attribute.
    #[inline]
    pub fn get(&self, name: Symbol) -> Option<&Value> {
        self.get_attr(name).map(|a| &a.value)
    }

    /// Looks up an attribute with its position.
    #[inline]
    pub fn get_attr(&self, name: Symbol) -> Option<&Attr> {
        self.entries
            .binary_search_by(|a| a.name.cmp(&name))
            .ok()
            .map(|i| &self.entries[i])
    }

    /// Whether `name` is present.
    pub fn contains(&self, name: Symbol) -> bool {
        self.get_attr(name).is_some()
    }

    /// The entries in symbol-id order.
    pub fn iter(&self) -> std::slice::Iter<'_, Attr> {
        self.entries.iter()
    }

    /// The entries sorted by name bytes (the order Nix shows).
    pub fn sorted_by_name<'a>(&'a self, names: &Interner) -> Vec<&'a Attr> {
        let mut v: Vec<&Attr> = self.entries.iter().collect();
        v.sort_by(|a, b| names.resolve(a.name).cmp(names.resolve(b.name)));
        v
    }

    /// `self // other`: the right side wins.
    pub fn update(&self, other: &Attrs) -> Attrs {
        if other.is_empty() {
            return self.clone();
        }
        if self.is_empty() {
            return other.clone();
        }
        let mut out = Vec::with_capacity(self.len() + other.len());
        let (mut i, mut j) = (0, 0);
        let (a, b) = (&self.entries, &other.entries);
        while i < a.len() && j < b.len() {
            match a[i].name.cmp(&b[j].name) {
                std::cmp::Ordering::Less => {
                    out.push(a[i].clone());
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    out.push(b[j].clone());
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    out.push(b[j].clone());
                    i += 1;
                    j += 1;
                }
            }
        }
        out.extend_from_slice(&a[i..]);
        out.extend_from_slice(&b[j..]);
        Attrs { entries: out }
    }

    /// The entries, consuming the set.
    pub fn into_entries(self) -> Vec<Attr> {
        self.entries
    }

    /// A new set with the same names and values mapped by `f`.
    pub fn map_values(&self, mut f: impl FnMut(&Attr) -> Value) -> Attrs {
        Attrs {
            entries: self
                .entries
                .iter()
                .map(|a| Attr {
                    name: a.name,
                    value: f(a),
                    pos: a.pos,
                })
                .collect(),
        }
    }
}

/// Collects attributes in any order; the first insertion of a name wins.
#[derive(Debug, Default)]
pub struct AttrsBuilder {
    entries: Vec<Attr>,
}

impl AttrsBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder with room for `n` attributes.
    pub fn with_capacity(n: usize) -> Self {
        AttrsBuilder {
            entries: Vec::with_capacity(n),
        }
    }

    /// Adds an attribute.
    pub fn insert(&mut self, name: Symbol, value: Value, pos: Option<Pos>) {
        self.entries.push(Attr { name, value, pos });
    }

    /// Sorts and removes duplicates (keeping the first occurrence of each name).
    pub fn build(mut self) -> Attrs {
        // stable sort keeps insertion order among equal names
        self.entries.sort_by_key(|a| a.name);
        self.entries
            .dedup_by(|later, earlier| later.name == earlier.name);
        Attrs {
            entries: self.entries,
        }
    }
}
