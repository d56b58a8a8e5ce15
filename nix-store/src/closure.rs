//! Closures and topological order over any reference graph.
//!
//! Both functions are generic over a "references of" function, so they work for every
//! [`crate::store::Store`] (and for plain test graphs).
//!
//! # Example
//! ```
//! use std::collections::{BTreeMap, BTreeSet};
//! use nix_store::closure::{closure, topo_sort};
//! let graph: BTreeMap<&str, Vec<&str>> =
//!     [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec![])].into_iter().collect();
//! let refs = |p: &&str| Ok::<_, std::convert::Infallible>(graph[p].clone());
//! let all = closure(["a"], refs)?;
//! assert_eq!(all, BTreeSet::from(["a", "b", "c"]));
//! // Referrers first, like CppNix's topoSortPaths.
//! assert_eq!(topo_sort(&all, refs)?, vec!["a", "b", "c"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeSet;
use std::fmt::Debug;

/// Errors of [`topo_sort`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TopoSortError<T: Debug, E> {
    /// The graph has a cycle (other than self-references).
    #[error("cycle detected in the references of '{path:?}' from '{parent:?}'")]
    Cycle {
        /// The path reached again.
        path: T,
        /// The path it was reached from.
        parent: T,
    },
    /// The references function failed.
    #[error("cannot query references")]
    References(#[source] E),
}

/// Everything reachable from `start` (inclusive) through `references_of`.
///
/// # Errors
/// Whatever `references_of` returns.
pub fn closure<T, E, I, F>(
    start: impl IntoIterator<Item = T>,
    mut references_of: F,
) -> Result<BTreeSet<T>, E>
where
    T: Ord + Clone,
    I: IntoIterator<Item = T>,
    F: FnMut(&T) -> Result<I, E>,
{
    let mut done = BTreeSet::new();
    let mut todo: Vec<T> = Vec::new();
    for s in start {
        if done.insert(s.clone()) {
            todo.push(s);
        }
    }
    while let Some(p) = todo.pop() {
        for r in references_of(&p)? {
            if !done.contains(&r) {
                done.insert(r.clone());
                todo.push(r);
            }
        }
    }
    Ok(done)
}

/// Sorts `items` so that every item comes before the items it references (referrers first),
/// exactly as CppNix's `topoSortPaths`: a depth-first search over `items` in order, children
/// in order, emitting post-order, then reversed. References outside `items` and
/// self-references are ignored. `nix-store -q --requisites` prints the reverse of this.
///
/// # Errors
/// [`TopoSortError::Cycle`] if there is a cycle, [`TopoSortError::References`] if
/// `references_of` fails.
pub fn topo_sort<T, E, I, F>(
    items: &BTreeSet<T>,
    mut references_of: F,
) -> Result<Vec<T>, TopoSortError<T, E>>
where
    T: Ord + Clone + Debug,
    I: IntoIterator<Item = T>,
    F: FnMut(&T) -> Result<I, E>,
{
    enum Step<T> {
        Enter(T, Option<T>),
        Leave(T),
    }
    let mut sorted = Vec::with_capacity(items.len());
    let mut visited = BTreeSet::new();
    let mut parents = BTreeSet::new();
    for root in items {
        let mut stack = vec![Step::Enter(root.clone(), None)];
        while let Some(step) = stack.pop() {
            match step {
                Step::Enter(path, parent) => {
                    if parents.contains(&path) {
                        return Err(TopoSortError::Cycle {
                            parent: parent.unwrap_or_else(|| path.clone()),
                            path,
                        });
                    }
                    if !visited.insert(path.clone()) {
                        continue;
                    }
                    parents.insert(path.clone());
                    let mut children: BTreeSet<T> = BTreeSet::new();
                    for r in references_of(&path).map_err(TopoSortError::References)? {
                        if r != path && items.contains(&r) {
                            children.insert(r);
                        }
                    }
                    stack.push(Step::Leave(path.clone()));
                    // Pushed in reverse so they are visited in ascending order.
                    for c in children.into_iter().rev() {
                        stack.push(Step::Enter(c, Some(path.clone())));
                    }
                }
                Step::Leave(path) => {
                    parents.remove(&path);
                    sorted.push(path);
                }
            }
        }
    }
    sorted.reverse();
    Ok(sorted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::convert::Infallible;

    fn graph(edges: &[(u32, &[u32])]) -> BTreeMap<u32, Vec<u32>> {
        edges.iter().map(|(k, v)| (*k, v.to_vec())).collect()
    }

    #[test]
    fn topo_sort_matches_cppnix_dfs_order() -> Result<(), Box<dyn std::error::Error>> {
        // 1 -> 3, 2 -> 3, 3 -> 4; DFS from 1: post-order 4 3 1, then 2 → reversed: 2 1 3 4
        let g = graph(&[(1, &[3]), (2, &[3]), (3, &[4, 3]), (4, &[])]);
        let refs = |p: &u32| Ok::<_, Infallible>(g[p].clone());
        let all = closure([1, 2], refs)?;
        let sorted = topo_sort(&all, refs)?;
        assert_eq!(sorted, vec![2, 1, 3, 4]);
        Ok(())
    }

    #[test]
    fn topo_sort_reports_cycles() {
        let g = graph(&[(1, &[2]), (2, &[1])]);
        let all = BTreeSet::from([1, 2]);
        let r = topo_sort(&all, |p: &u32| Ok::<_, Infallible>(g[p].clone()));
        assert!(matches!(r, Err(TopoSortError::Cycle { .. })));
    }

    proptest::proptest! {
        #[test]
        fn topo_sort_puts_referrers_first(edges in proptest::collection::vec((0u8..20, 0u8..20), 0..60)) {
            // Only edges from higher to lower numbers: acyclic.
            let mut g: BTreeMap<u8, Vec<u8>> = (0..20).map(|n| (n, Vec::new())).collect();
            for (a, b) in edges {
                if a > b { g.entry(a).or_default().push(b); }
            }
            let all: BTreeSet<u8> = (0..20).collect();
            let sorted = topo_sort(&all, |p: &u8| Ok::<_, Infallible>(g[p].clone()));
            let sorted = sorted.map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            let pos: BTreeMap<u8, usize> = sorted.iter().enumerate().map(|(i, p)| (*p, i)).collect();
            for (a, bs) in &g {
                for b in bs { proptest::prop_assert!(pos[a] < pos[b]); }
            }
        }
    }
}
