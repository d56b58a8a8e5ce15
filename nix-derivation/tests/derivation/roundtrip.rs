//! proptest round-trips: ATerm and JSON.

use std::collections::BTreeMap;

use nix_derivation::store::store_path::StoreDir;
use nix_derivation::{aterm, json, Derivation};
use proptest::prelude::*;

use crate::strategy;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn aterm_round_trips(drv in strategy::derivation()) {
        let store_dir = StoreDir::default();
        let text = drv.to_aterm(&store_dir);
        let back = Derivation::parse(&text, &store_dir).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &drv);
        // Canonical bytes come back unchanged.
        prop_assert_eq!(back.to_aterm(&store_dir), text);
    }

    #[test]
    fn aterm_round_trips_in_another_store_dir(drv in strategy::derivation()) {
        let store_dir = StoreDir::new("/gnu/store").map_err(|e| TestCaseError::fail(e.to_string()))?;
        let text = drv.to_aterm(&store_dir);
        let back = Derivation::parse(&text, &store_dir).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, drv);
    }

    #[test]
    fn json_round_trips(drv in strategy::derivation(), path in strategy::store_path()) {
        let store_dir = StoreDir::default();
        let one = json::to_json(&drv, &store_dir);
        prop_assert_eq!(json::from_json(&one, &store_dir).map_err(|e| TestCaseError::fail(e.to_string()))?, drv.clone());
        let all = BTreeMap::from([(path, drv)]);
        let text = json::show_derivation(&store_dir, &all);
        let back = json::parse_show_derivation(&text, &store_dir).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &all);
        prop_assert_eq!(json::show_derivation(&store_dir, &back), text);
    }

    #[test]
    fn json_is_valid_json_when_utf8(drv in strategy::derivation()) {
        // Whenever our JSON is UTF-8, a standard parser accepts it.
        let text = json::to_json(&drv, &StoreDir::default());
        if std::str::from_utf8(&text).is_ok() {
            prop_assert!(serde_json::from_slice::<serde_json::Value>(&text).is_ok());
        }
    }

    #[test]
    fn parser_never_panics(input in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = aterm::parse(&input, &StoreDir::default(), &Default::default());
        let _ = json::from_json(&input, &StoreDir::default());
    }

    #[test]
    fn mutated_drvs_never_panic(drv in strategy::derivation(), pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let store_dir = StoreDir::default();
        let mut text = drv.to_aterm(&store_dir);
        let i = pos.index(text.len());
        text[i] = byte;
        if let Ok(d) = Derivation::parse(&text, &store_dir) {
            // Whatever parses prints and parses back to the same value.
            let again = d.to_aterm(&store_dir);
            if let Ok(d2) = Derivation::parse(&again, &store_dir) {
                prop_assert_eq!(d2, d);
            }
        }
    }
}

/// JSON values as structured attributes hold them (no floats: their text is nlohmann's, which
/// serde reads back exactly only for shortest forms; the float printer has its own unit test).
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// `.attrs.json` text parses back to the same value, is canonical (printing the parse
    /// gives the same bytes), and `.attrs.sh` never panics and is a list of declarations.
    #[test]
    fn attrs_json_round_trips(v in json_value()) {
        use nix_derivation::build::attrs::{attrs_sh, dump_json};
        let text = dump_json(&v);
        let back: serde_json::Value = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &v);
        prop_assert_eq!(dump_json(&back), text);
        if let Some(o) = v.as_object() {
            let sh = attrs_sh(o);
            prop_assert!(sh.is_empty() || (sh.starts_with("declare ") && sh.ends_with('\n')));
        }
    }
}
