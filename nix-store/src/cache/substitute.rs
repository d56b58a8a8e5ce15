//! Substitution: fetching missing store paths (and their closures) from binary caches.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use super::verify::Verifier;
use super::{BinaryCache, CacheError};
use crate::narinfo::{NarInfo, PublicKeys};
use crate::store::{now_secs, Store, StoreError, ValidPathInfo};
use crate::store_path::StorePath;

/// The default number of parallel downloads.
pub const DEFAULT_JOBS: usize = 4;

/// A list of binary caches to substitute from, and the keys their signatures must be made
/// with. This is the entry point for "substitute before building".
///
/// Caches are tried in the order of their `Priority` (lower first; 50 when
/// `nix-cache-info` has none; ties keep the given order). The first cache with a narinfo that
/// is trusted wins; a narinfo without a trusted signature is skipped (the next cache is
/// tried), and reported as [`CacheError::Untrusted`] if no cache has a trusted one.
///
/// A narinfo is trusted when one of its `Sig:` lines verifies with one of the trusted keys,
/// or, as in CppNix, when the path is content-addressed: its `CA:` field implies its store
/// path (then the NAR is checked against the content address too). With
/// [`Substituters::check_sigs`]`(false)` (CppNix's `--no-check-sigs`) every narinfo is
/// trusted; the NAR hash and size are always checked.
///
/// Each path is registered with [`Store::add_nar`], which adds it atomically, so a
/// substitution that fails or is killed midway leaves the paths fetched so far valid and
/// nothing else registered.
#[derive(Debug)]
pub struct Substituters {
    caches: Vec<Box<dyn BinaryCache>>,
    trusted_keys: PublicKeys,
    check_sigs: bool,
    jobs: usize,
}

/// One path to fetch: where from, and whether it is trusted only by its content address.
#[derive(Debug, Clone)]
struct Item {
    cache: usize,
    info: Arc<NarInfo>,
    by_ca: bool,
}

/// What [`Substituters::plan`] found.
struct Plan {
    items: Vec<Item>,
    /// Requested paths no cache has.
    missing_roots: BTreeSet<StorePath>,
}

impl Substituters {
    /// Substituters over `caches`, trusting signatures by `trusted_keys`, with signature
    /// checks on and [`DEFAULT_JOBS`] parallel downloads.
    pub fn new(caches: Vec<Box<dyn BinaryCache>>, trusted_keys: PublicKeys) -> Self {
        Substituters {
            caches,
            trusted_keys,
            check_sigs: true,
            jobs: DEFAULT_JOBS,
        }
    }

    /// Whether narinfos must be trusted (default `true`; `false` is CppNix's
    /// `--no-check-sigs`).
    pub fn check_sigs(mut self, check: bool) -> Self {
        self.check_sigs = check;
        self
    }

    /// How many NARs (and narinfos) to fetch at once (at least 1).
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    /// The caches, in the order given.
    pub fn caches(&self) -> &[Box<dyn BinaryCache>] {
        &self.caches
    }

    /// The trusted keys.
    pub fn trusted_keys(&self) -> &PublicKeys {
        &self.trusted_keys
    }

    /// Cache indices by priority. Reads each cache's `nix-cache-info` (once).
    fn order(&self) -> Result<Vec<usize>, CacheError> {
        let mut keyed = Vec::with_capacity(self.caches.len());
        for (i, c) in self.caches.iter().enumerate() {
            keyed.push((c.cache_info()?.priority_or_default(), i));
        }
        keyed.sort();
        Ok(keyed.into_iter().map(|(_, i)| i).collect())
    }

    /// Finds the trusted narinfo of `path` in the first cache (by priority) that has one.
    fn lookup(&self, order: &[usize], path: &StorePath) -> Result<Option<Item>, CacheError> {
        let mut untrusted = None;
        for &i in order {
            let cache = &self.caches[i];
            let Some(info) = cache.query_narinfo(path)? else {
                continue;
            };
            if !self.check_sigs {
                return Ok(Some(Item {
                    cache: i,
                    info,
                    by_ca: false,
                }));
            }
            let sd = cache.store_dir();
            let signed = info
                .count_valid_signatures(sd, &self.trusted_keys)
                .map_err(|source| CacheError::Fingerprint {
                    path: sd.display(path),
                    source,
                })?;
            if signed > 0 {
                return Ok(Some(Item {
                    cache: i,
                    info,
                    by_ca: false,
                }));
            }
            if info.info.is_content_addressed(sd) {
                return Ok(Some(Item {
                    cache: i,
                    info,
                    by_ca: true,
                }));
            }
            untrusted.get_or_insert(CacheError::Untrusted {
                path: sd.display(path),
                url: cache.url().to_string(),
            });
        }
        match untrusted {
            Some(e) => Err(e),
            None => Ok(None),
        }
    }

    /// The narinfo this would substitute `path` from, and the cache's URL; `None` if no cache
    /// has it.
    ///
    /// # Errors
    /// [`CacheError::Untrusted`] if caches have it but none with a trusted signature, cache
    /// and narinfo errors.
    pub fn query(&self, path: &StorePath) -> Result<Option<(String, Arc<NarInfo>)>, CacheError> {
        let order = self.order()?;
        Ok(self
            .lookup(&order, path)?
            .map(|item| (self.caches[item.cache].url().to_string(), item.info)))
    }

    /// Looks up the missing closure of `roots`, one level of references at a time (each
    /// level in parallel).
    fn plan(&self, store: &dyn Store, roots: &BTreeSet<StorePath>) -> Result<Plan, CacheError> {
        let order = self.order()?;
        let mut seen: BTreeSet<StorePath> = BTreeSet::new();
        let mut frontier = Vec::new();
        for p in roots {
            if !store.is_valid_path(p)? && seen.insert(p.clone()) {
                frontier.push(p.clone());
            }
        }
        let mut items = Vec::new();
        let mut missing_roots = BTreeSet::new();
        while !frontier.is_empty() {
            let found = parallel_map(&frontier, self.jobs, |p| self.lookup(&order, p));
            let mut next = Vec::new();
            for (p, r) in frontier.iter().zip(found) {
                let Some(item) = r? else {
                    if roots.contains(p) {
                        missing_roots.insert(p.clone());
                        continue;
                    }
                    return Err(CacheError::NotSubstitutable {
                        path: store.store_dir().display(p),
                    });
                };
                for r in &item.info.info.references {
                    if r != p && !seen.contains(r) && !store.is_valid_path(r)? {
                        seen.insert(r.clone());
                        next.push(r.clone());
                    }
                }
                items.push(item);
            }
            frontier = next;
        }
        Ok(Plan {
            items,
            missing_roots,
        })
    }

    /// Makes `path` valid in `store` by substituting it and its missing references. Returns
    /// `true` if it is valid afterwards (or was already), `false` if no cache has it.
    ///
    /// # Errors
    /// A reference no cache has ([`CacheError::NotSubstitutable`]), an untrusted narinfo, a
    /// NAR that does not match its narinfo, cache and store errors.
    pub fn substitute_path(&self, store: &dyn Store, path: &StorePath) -> Result<bool, CacheError> {
        if store.is_valid_path(path)? {
            return Ok(true);
        }
        let plan = self.plan(store, &BTreeSet::from([path.clone()]))?;
        if plan.missing_roots.contains(path) {
            return Ok(false);
        }
        self.fetch_all(store, plan.items, None)?;
        Ok(true)
    }

    /// Substitutes every path of `paths` that is not valid in `store`, with its missing
    /// closure. Returns the paths added, references before referrers.
    ///
    /// # Errors
    /// As [`Substituters::substitute_path`]; a requested path no cache has is
    /// [`CacheError::NotSubstitutable`].
    pub fn substitute(
        &self,
        store: &dyn Store,
        paths: &BTreeSet<StorePath>,
    ) -> Result<Vec<StorePath>, CacheError> {
        self.substitute_cancellable(store, paths, &AtomicBool::new(false))
    }

    /// [`Substituters::substitute`] that stops between paths once `cancel` is set (then
    /// fails with [`CacheError::Cancelled`]; the paths fetched so far stay valid).
    ///
    /// # Errors
    /// As [`Substituters::substitute`], and [`CacheError::Cancelled`].
    pub fn substitute_cancellable(
        &self,
        store: &dyn Store,
        paths: &BTreeSet<StorePath>,
        cancel: &AtomicBool,
    ) -> Result<Vec<StorePath>, CacheError> {
        let plan = self.plan(store, paths)?;
        if let Some(p) = plan.missing_roots.first() {
            return Err(CacheError::NotSubstitutable {
                path: store.store_dir().display(p),
            });
        }
        self.fetch_all(store, plan.items, Some(cancel))
    }

    /// Fetches `items` with up to `jobs` workers, each path once all its references are
    /// valid.
    fn fetch_all(
        &self,
        store: &dyn Store,
        items: Vec<Item>,
        cancel: Option<&AtomicBool>,
    ) -> Result<Vec<StorePath>, CacheError> {
        let index: BTreeMap<&StorePath, usize> = items
            .iter()
            .enumerate()
            .map(|(i, it)| (&it.info.info.path, i))
            .collect();
        let mut dependents = vec![Vec::new(); items.len()];
        let mut pending = vec![0usize; items.len()];
        for (i, it) in items.iter().enumerate() {
            for r in &it.info.info.references {
                if r == &it.info.info.path {
                    continue;
                }
                if let Some(&j) = index.get(r) {
                    dependents[j].push(i);
                    pending[i] += 1;
                }
            }
        }
        let ready: Vec<usize> = (0..items.len()).filter(|&i| pending[i] == 0).collect();
        let sched = Mutex::new(Sched {
            ready,
            pending,
            done: Vec::new(),
            running: 0,
            remaining: items.len(),
            error: None,
        });
        let wake = Condvar::new();
        let workers = self.jobs.min(items.len());
        let work = || loop {
            let i = {
                let mut s = sched.lock().unwrap_or_else(|e| e.into_inner());
                loop {
                    if s.error.is_some() || s.remaining == 0 {
                        return;
                    }
                    if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                        s.error = Some(CacheError::Cancelled);
                        wake.notify_all();
                        return;
                    }
                    if let Some(i) = s.ready.pop() {
                        s.running += 1;
                        break i;
                    }
                    if s.running == 0 {
                        // Nothing runs and nothing is ready: the references form a cycle.
                        let p = items
                            .iter()
                            .enumerate()
                            .find(|(i, _)| s.pending[*i] > 0)
                            .map(|(_, it)| store.store_dir().display(&it.info.info.path))
                            .unwrap_or_default();
                        s.error = Some(CacheError::Store(StoreError::Cycle {
                            path: p.clone(),
                            parent: p,
                        }));
                        wake.notify_all();
                        return;
                    }
                    s = wake.wait(s).unwrap_or_else(|e| e.into_inner());
                }
            };
            let result = self.fetch_one(store, &items[i]);
            let mut s = sched.lock().unwrap_or_else(|e| e.into_inner());
            s.running -= 1;
            match result {
                Ok(()) => {
                    s.remaining -= 1;
                    s.done.push(items[i].info.info.path.clone());
                    for &d in &dependents[i] {
                        s.pending[d] -= 1;
                        if s.pending[d] == 0 {
                            s.ready.push(d);
                        }
                    }
                }
                Err(e) => {
                    if s.error.is_none() {
                        s.error = Some(e);
                    }
                }
            }
            wake.notify_all();
        };
        std::thread::scope(|scope| {
            for _ in 1..workers {
                scope.spawn(work);
            }
            work();
        });
        let s = sched.into_inner().unwrap_or_else(|e| e.into_inner());
        match s.error {
            Some(e) => Err(e),
            None => Ok(s.done),
        }
    }

    /// Fetches one NAR, verifying it while [`Store::add_nar`] reads it.
    fn fetch_one(&self, store: &dyn Store, item: &Item) -> Result<(), CacheError> {
        let cache = &self.caches[item.cache];
        let ni = &item.info;
        let pi = &ni.info;
        let sd = store.store_dir();
        let reader = cache.nar_reader(ni)?;
        let mut verifier = Verifier::new(
            reader,
            sd.display(&pi.path),
            cache.file_url(&ni.url),
            pi.nar_hash,
            pi.nar_size,
            if item.by_ca { pi.ca.as_ref() } else { None },
        );
        let info = ValidPathInfo {
            path: pi.path.clone(),
            deriver: pi.deriver.clone(),
            nar_hash: pi.nar_hash,
            references: pi.references.clone(),
            registration_time: now_secs(),
            nar_size: pi.nar_size,
            ultimate: false,
            sigs: pi.signatures.iter().cloned().collect(),
            ca: pi.ca,
        };
        match store.add_nar(&info, &mut verifier) {
            Ok(()) if verifier.verified || verifier.bytes_read() == 0 => Ok(()),
            Ok(()) => Err(CacheError::NarSizeMismatch {
                path: sd.display(&pi.path),
                url: cache.file_url(&ni.url),
                expected: pi.nar_size,
                got: verifier.bytes_read(),
            }),
            Err(e) => Err(verifier.failure.take().unwrap_or(CacheError::Store(e))),
        }
    }
}

struct Sched {
    ready: Vec<usize>,
    pending: Vec<usize>,
    done: Vec<StorePath>,
    running: usize,
    remaining: usize,
    error: Option<CacheError>,
}

/// `f` over `items` with up to `jobs` threads; results in input order.
pub(super) fn parallel_map<T: Sync, U: Send>(
    items: &[T],
    jobs: usize,
    f: impl Fn(&T) -> U + Sync,
) -> Vec<U> {
    if jobs <= 1 || items.len() <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<U>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(items.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let u = f(item);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(u);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|u| u.expect("every index below the length was taken by a worker"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_map_keeps_order() {
        let v: Vec<u32> = (0..100).collect();
        assert_eq!(
            parallel_map(&v, 4, |x| x * 2),
            (0..100).map(|x| x * 2).collect::<Vec<_>>()
        );
        assert_eq!(parallel_map(&v[..0], 4, |x| *x), Vec::<u32>::new());
    }
}
