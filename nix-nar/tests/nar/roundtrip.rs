//! proptest round-trips: tree → NAR → parse → tree → NAR, in memory and through the file system.

use std::collections::BTreeMap;

use nix_nar::dump::Tree;
use nix_nar::reader::{transcode, Reader};
use proptest::prelude::*;

fn name() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "[a-zA-Z0-9._ -]{1,12}".prop_map(|s| s.into_bytes()),
        proptest::collection::vec(1u8..=255, 1..10),
    ]
    .prop_filter("valid NAR name", |n| nix_nar::wire::check_name(n).is_ok())
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        (
            any::<bool>(),
            proptest::collection::vec(any::<u8>(), 0..300)
        )
            .prop_map(|(executable, contents)| Tree::File {
                executable,
                contents
            }),
        proptest::collection::vec(1u8..=255, 1..40).prop_map(|target| Tree::Symlink { target }),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        proptest::collection::btree_map(name(), inner, 0..8)
            .prop_map(|m: BTreeMap<Vec<u8>, Tree>| Tree::Directory(m))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn in_memory_roundtrip(t in tree()) {
        let nar = t.to_nar().expect("valid tree");
        let back = Reader::new(&nar[..]).read_tree().expect("our NAR parses");
        prop_assert_eq!(&back, &t);
        prop_assert_eq!(back.to_nar().expect("valid tree"), nar.clone());
        let mut out = Vec::new();
        transcode(&mut Reader::new(&nar[..]), &mut out).expect("transcode");
        prop_assert_eq!(out, nar);
    }

    #[test]
    fn filesystem_roundtrip(t in tree()) {
        let nar = t.to_nar().expect("valid tree");
        let tmp = testkit::tempdir();
        let target = tmp.path().join("t");
        nix_nar::restore::restore(&nar[..], &target, &Default::default()).expect("restore");
        let mut again = Vec::new();
        nix_nar::dump_path(&target, &mut again).expect("dump");
        prop_assert!(again == nar);
    }
}

/// What the `nar_read` fuzz target checks: no panic, and an accepted input is canonical.
fn check_any_input(data: &[u8]) -> Result<(), TestCaseError> {
    match Reader::new(data).read_tree() {
        Ok(tree) => {
            prop_assert_eq!(tree.to_nar().expect("accepted tree writes"), data.to_vec());
        }
        Err(e) => {
            if let Some(off) = e.offset() {
                prop_assert!(off <= data.len() as u64);
            }
        }
    }
    let _ = nix_nar::listing::list(data);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        check_any_input(&data)?;
    }

    #[test]
    fn mutated_nars_are_rejected_or_canonical(
        t in tree(),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
    ) {
        let mut nar = t.to_nar().expect("valid tree");
        for (at, x) in flips {
            let i = at % nar.len();
            nar[i] ^= x;
        }
        check_any_input(&nar)?;
    }
}
