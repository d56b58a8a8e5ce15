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
