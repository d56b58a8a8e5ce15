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

/// How many `//` layers may stack up before a set is flattened into one array.
const MAX_LAYERS: u8 = 12;

/// An attribute set, sorted by symbol id (not by name: use [`Attrs::sorted_by_name`] for the
/// order Nix shows).
///
/// `big // small` does not copy `big`: the result is a layer holding the entries of `small`
/// over a shared `big` (at most [`MAX_LAYERS`] deep, then it is flattened). Lookups search
/// the layers top down; iterating a layered set builds (once) its flat array.
#[derive(Debug, Clone, Default)]
pub struct Attrs {
    /// The entries of this layer, sorted by symbol id, no duplicates (a boxed slice: no
    /// spare capacity, and 16 bytes smaller than a `Vec` in every set).
    entries: Box<[Attr]>,
    /// The set under this layer, for a layered set (boxed: most sets are flat, and this keeps
    /// every set 32 bytes).
    layer: Option<Box<Layer>>,
    /// Number of distinct names in all layers.
    len: u32,
    /// Where the set was written (CppNix's `Bindings::pos`): only for sets made by an
    /// attribute set expression.
    pos: Option<Pos>,
}

/// What a layered set (`big // small`) has beyond its own entries.
#[derive(Debug, Clone)]
struct Layer {
    /// The set under this layer (its names shadowed by the layer's entries).
    base: std::rc::Rc<Attrs>,
    /// Number of layers, this one included.
    depth: u8,
    /// The flattened entries, built on first iteration.
    flat: std::cell::OnceCell<Box<[Attr]>>,
}

/// A number of attributes as stored (a set of more than `u32::MAX` attributes would need
/// over 128 GiB).
fn count(n: usize) -> u32 {
    u32::try_from(n).expect("fewer than 2^32 attributes in a set")
}

/// Merges two sorted entry arrays; on equal names the right one wins.
fn merge(a: &[Attr], b: &[Attr]) -> Vec<Attr> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
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
    out
}

impl Attrs {
    /// An empty set.
    pub fn new() -> Self {
        Attrs::default()
    }

    fn flat_of(entries: Vec<Attr>) -> Self {
        Attrs {
            len: count(entries.len()),
            entries: entries.into_boxed_slice(),
            layer: None,
            pos: None,
        }
    }

    /// Number of layers (1 for a flat set).
    fn depth(&self) -> u8 {
        self.layer.as_ref().map_or(1, |l| l.depth)
    }

    /// The same set, written at `pos`.
    pub(crate) fn with_pos(mut self, pos: Option<Pos>) -> Self {
        self.pos = pos;
        self
    }

    /// Where the set was written, if it comes from an attribute set expression (CppNix's
    /// `Bindings::pos`; sets built by builtins or `//` have none).
    pub fn pos(&self) -> Option<Pos> {
        self.pos
    }

    /// Builds from entries already sorted by symbol id without duplicates.
    pub(crate) fn from_sorted(entries: Vec<Attr>) -> Self {
        debug_assert!(entries.windows(2).all(|w| w[0].name < w[1].name));
        Attrs::flat_of(entries)
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Looks up an attribute.
    #[inline]
    pub fn get(&self, name: Symbol) -> Option<&Value> {
        self.get_attr(name).map(|a| &a.value)
    }

    /// Looks up an attribute with its position.
    #[inline]
    pub fn get_attr(&self, name: Symbol) -> Option<&Attr> {
        let mut set = self;
        loop {
            if let Ok(i) = set.entries.binary_search_by(|a| a.name.cmp(&name)) {
                return Some(&set.entries[i]);
            }
            set = &set.layer.as_deref()?.base;
        }
    }

    /// Whether `name` is present.
    pub fn contains(&self, name: Symbol) -> bool {
        self.get_attr(name).is_some()
    }

    /// All entries in symbol-id order, as one array.
    fn entries(&self) -> &[Attr] {
        match &self.layer {
            None => &self.entries,
            Some(l) => l
                .flat
                .get_or_init(|| self.flattened().into_owned().into_boxed_slice()),
        }
    }

    /// The flat entries without caching them in this layer (a cached array is reused).
    ///
    /// The small upper layers are combined first (the topmost entry of a name wins) and then
    /// merged once with the flat set at the bottom, so flattening `n` entries under `k` layers
    /// costs one pass over `n`, not `k`.
    fn flattened(&self) -> std::borrow::Cow<'_, [Attr]> {
        let mut set = match self.layer.as_deref().map(|l| l.flat.get()) {
            None => return std::borrow::Cow::Borrowed(&self.entries),
            Some(Some(f)) => return std::borrow::Cow::Borrowed(f),
            Some(None) => self,
        };
        // collect the upper layers, top first, down to a flat (or already flattened) set
        let mut tops: Vec<&Attr> = Vec::new();
        let bottom: &[Attr] = loop {
            match set.layer.as_deref() {
                None => break &set.entries,
                Some(l) => match l.flat.get() {
                    Some(f) => break f,
                    None => {
                        tops.extend(set.entries.iter());
                        set = &l.base;
                    }
                },
            }
        };
        // stable: among equal names the one from the highest layer stays first
        tops.sort_by_key(|a| a.name);
        tops.dedup_by(|later, earlier| later.name == earlier.name);
        let tops: Vec<Attr> = tops.into_iter().cloned().collect();
        std::borrow::Cow::Owned(merge(bottom, &tops))
    }

    /// The entries in symbol-id order.
    pub fn iter(&self) -> std::slice::Iter<'_, Attr> {
        self.entries().iter()
    }

    /// The entries sorted by name bytes (the order Nix shows).
    pub fn sorted_by_name<'a>(&'a self, names: &Interner) -> Vec<&'a Attr> {
        let mut v: Vec<&Attr> = self.iter().collect();
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
        Attrs::flat_of(merge(&self.flattened(), &other.flattened()))
    }

    /// `left // right` sharing `left` when `right` is small: the result is a layer over
    /// `left` instead of a copy of it.
    pub fn update_shared(left: &std::rc::Rc<Attrs>, right: &Attrs) -> Attrs {
        if right.len() * 4 > left.len() || left.depth() >= MAX_LAYERS {
            return left.update(right);
        }
        let top = right.flattened().into_owned().into_boxed_slice();
        let shadowed = top.iter().filter(|a| left.contains(a.name)).count();
        Attrs {
            len: count(left.len() + top.len() - shadowed),
            entries: top,
            layer: Some(Box::new(Layer {
                base: left.clone(),
                depth: left.depth() + 1,
                flat: std::cell::OnceCell::new(),
            })),
            pos: None,
        }
    }

    /// The entries, consuming the set.
    pub fn into_entries(self) -> Vec<Attr> {
        match self.layer {
            None => self.entries.into_vec(),
            Some(_) => self.entries().to_vec(),
        }
    }

    /// A new set with the same names and values mapped by `f`.
    pub fn map_values(&self, mut f: impl FnMut(&Attr) -> Value) -> Attrs {
        Attrs::flat_of(
            self.iter()
                .map(|a| Attr {
                    name: a.name,
                    value: f(a),
                    pos: a.pos,
                })
                .collect(),
        )
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
        Attrs::flat_of(self.entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Symbols whose ids grow with `i`.
    fn symbols(n: usize) -> Vec<Symbol> {
        let mut names = Interner::new();
        (0..n)
            .map(|i| names.intern(format!("s{i}").as_bytes()))
            .collect()
    }

    #[test]
    fn a_set_is_32_bytes_and_an_entry_24() {
        assert_eq!(std::mem::size_of::<Attrs>(), 32);
        assert_eq!(std::mem::size_of::<Attr>(), 24);
    }

    #[test]
    fn layers_shadow_and_flatten() {
        let sym = symbols(80);
        let mut b = AttrsBuilder::new();
        for (i, s) in sym.iter().take(40).enumerate() {
            b.insert(*s, Value::Int(i as i64), None);
        }
        let mut top = std::rc::Rc::new(b.build());
        for i in 0..20 {
            let mut b = AttrsBuilder::new();
            b.insert(sym[i], Value::Int(100 + i as i64), None);
            b.insert(sym[40 + i], Value::Null, None);
            top = std::rc::Rc::new(Attrs::update_shared(&top, &b.build()));
            assert!(top.depth() <= MAX_LAYERS);
        }
        assert_eq!(top.len(), 60);
        assert_eq!(top.iter().count(), 60);
        assert!(matches!(top.get(sym[3]), Some(Value::Int(103))));
        assert!(matches!(top.get(sym[39]), Some(Value::Int(39))));
        assert!(top.contains(sym[59]) && !top.contains(sym[60]));
        assert!(top
            .iter()
            .zip(top.iter().skip(1))
            .all(|(a, b)| a.name < b.name));
        assert_eq!(top.as_ref().clone().into_entries().len(), 60);
    }
}
