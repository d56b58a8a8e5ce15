//! Reference scanning: streaming results equal a naive search, whatever the chunking.

use std::collections::BTreeSet;
use std::io::Write;

use nix_store::references::{scan_references, ReferenceScanner};
use nix_store::store_path::StorePath;
use proptest::prelude::*;

fn naive(data: &[u8], candidates: &BTreeSet<StorePath>) -> BTreeSet<StorePath> {
    candidates
        .iter()
        .filter(|c| data.windows(32).any(|w| w == c.hash_part().as_bytes()))
        .cloned()
        .collect()
}

fn candidate() -> impl Strategy<Value = StorePath> {
    // A small alphabet makes near-misses and overlaps likely.
    ("[0-3a]{32}", "[a-z]{1,8}")
        .prop_map(|(h, n)| StorePath::from_base_name(&format!("{h}-{n}")).expect("valid"))
}

/// Data mixing random bytes, nix32 runs and copies of (pieces of) the candidates.
fn data(candidates: Vec<StorePath>) -> impl Strategy<Value = (Vec<StorePath>, Vec<u8>)> {
    let n = candidates.len();
    let piece = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..40),
        "[0-3a]{0,40}".prop_map(String::into_bytes),
        (0..n.max(1), 0usize..=32, 0usize..=32)
            .prop_map(move |(i, a, b)| (i, a.min(b), a.max(b)))
            .prop_map({
                let c = candidates.clone();
                move |(i, a, b)| {
                    c.get(i)
                        .map(|p| p.hash_part().as_bytes()[a..b].to_vec())
                        .unwrap_or_default()
                }
            }),
        (0..n.max(1)).prop_map({
            let c = candidates.clone();
            move |i| {
                c.get(i)
                    .map(|p| p.hash_part().as_bytes().to_vec())
                    .unwrap_or_default()
            }
        }),
    ];
    prop::collection::vec(piece, 0..30)
        .prop_map(move |pieces| (candidates.clone(), pieces.concat()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn any_chunking_gives_the_naive_result(
        (cands, bytes) in prop::collection::vec(candidate(), 0..6).prop_flat_map(data),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let candidates: BTreeSet<StorePath> = cands.into_iter().collect();
        let expected = naive(&bytes, &candidates);
        // one write
        prop_assert_eq!(scan_references(&candidates, &bytes[..]).expect("in memory"), expected.clone());
        // split at random points
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut scanner = ReferenceScanner::for_paths(&candidates);
        let mut last = 0;
        for p in points.into_iter().chain([bytes.len()]) {
            scanner.write_all(&bytes[last..p]).expect("in memory");
            last = p;
        }
        prop_assert_eq!(scanner.found_paths(&candidates), expected.clone());
        // byte by byte
        let mut scanner = ReferenceScanner::for_paths(&candidates);
        for b in &bytes {
            scanner.write_all(std::slice::from_ref(b)).expect("in memory");
        }
        prop_assert_eq!(scanner.found_paths(&candidates), expected);
    }
}

#[test]
fn finds_references_in_a_nar_of_a_script() -> Result<(), Box<dyn std::error::Error>> {
    let a: StorePath = "l82nr4gna33sc2g8m4hkkr6r983dlbd6-a.txt".parse()?;
    let b: StorePath = "94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple".parse()?;
    let unused: StorePath = "3ghsl9sd83mc26i81adpa2fzf3yw4f68-simple.drv".parse()?;
    let candidates = BTreeSet::from([a.clone(), b.clone(), unused]);
    let dir = testkit::tempdir();
    let f = dir.path().join("script");
    std::fs::write(
        &f,
        format!("#!/bin/sh\nexec /nix/store/{a}/bin/x --data=/nix/store/{b}\n"),
    )?;
    let mut nar = Vec::new();
    nix_store::nar::dump_path(&f, &mut nar)?;
    assert_eq!(
        scan_references(&candidates, &nar[..])?,
        BTreeSet::from([a, b])
    );
    Ok(())
}
