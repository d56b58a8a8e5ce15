//! proptest strategies for derivations.

use std::collections::{BTreeMap, BTreeSet};

use nix_derivation::store::hash::{Hash, HashAlgo};
use nix_derivation::store::store_path::StorePath;
use nix_derivation::{Derivation, DerivationOutput, FileIngestionMethod};
use proptest::prelude::*;

pub fn store_path() -> impl Strategy<Value = StorePath> {
    (
        "[0-9a-df-np-sv-z]{32}",
        "[a-zA-Z0-9+._?=-][a-zA-Z0-9+._?=-]{0,20}",
    )
        .prop_map(|(h, n)| {
            StorePath::from_base_name(&format!("{h}-{n}")).expect("generated paths are valid")
        })
}

fn algo() -> impl Strategy<Value = HashAlgo> {
    prop_oneof![
        Just(HashAlgo::Md5),
        Just(HashAlgo::Sha1),
        Just(HashAlgo::Sha256),
        Just(HashAlgo::Sha512)
    ]
}

fn method() -> impl Strategy<Value = FileIngestionMethod> {
    prop_oneof![
        Just(FileIngestionMethod::Flat),
        Just(FileIngestionMethod::Recursive)
    ]
}

pub fn output() -> impl Strategy<Value = DerivationOutput> {
    prop_oneof![
        store_path().prop_map(DerivationOutput::InputAddressed),
        (store_path(), method(), algo(), any::<[u8; 64]>()).prop_map(|(path, method, algo, d)| {
            let hash = Hash::new(algo, &d[..algo.digest_len()]).expect("right length");
            DerivationOutput::Fixed { path, method, hash }
        }),
        (method(), algo()).prop_map(|(method, algo)| DerivationOutput::Floating { method, algo }),
        Just(DerivationOutput::Deferred),
        (method(), algo()).prop_map(|(method, algo)| DerivationOutput::Impure { method, algo }),
    ]
}

/// Bytes, with the bytes that need escaping and a few non-ASCII ones over-represented.
pub fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            3 => any::<u8>(),
            1 => prop::sample::select(vec![b'"', b'\\', b'\n', b'\r', b'\t', b'$', 0xc3, 0xa9]),
        ],
        0..max,
    )
}

/// Output names are written unescaped, so they hold no byte that needs escaping.
pub fn output_name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_-]{0,7}"
}

/// The platform is written unescaped too.
pub fn system() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        any::<u8>().prop_filter("no escapes", |b| !b"\"\\\n\r\t".contains(b)),
        0..16,
    )
}

pub fn derivation() -> impl Strategy<Value = Derivation> {
    (
        prop::collection::btree_map(output_name(), output(), 0..4),
        prop::collection::btree_map(
            store_path(),
            prop::collection::btree_set(output_name(), 0..3),
            0..4,
        ),
        prop::collection::btree_set(store_path(), 0..4),
        system(),
        bytes(20),
        prop::collection::vec(bytes(12), 0..4),
        prop::collection::btree_map(bytes(8), bytes(24), 0..6),
    )
        .prop_map(
            |(outputs, input_drvs, input_srcs, system, builder, args, env)| Derivation {
                outputs,
                input_drvs: input_drvs
                    .into_iter()
                    .collect::<BTreeMap<StorePath, BTreeSet<String>>>(),
                input_srcs,
                system,
                builder,
                args,
                env,
            },
        )
}
