//! Store paths against `storepaths.json` and `derivations.json` (made with CppNix 2.8).

use std::collections::BTreeSet;

use nix_store::content_address::ContentAddress;
use nix_store::hash::{Hash, HashAlgo};
use nix_store::store_path::{FileIngestionMethod, StoreDir, StorePath, StorePathRef};

type R = Result<(), Box<dyn std::error::Error>>;

#[test]
fn every_vector_path_from_its_content_address() -> R {
    let dir = StoreDir::default();
    let v = testkit::vectors("storepaths");
    let mut checked = 0;
    for (key, case) in v.as_object().ok_or("not an object")? {
        let (Some(path), Some(ca)) = (case["path"].as_str(), case["ca"].as_str()) else {
            continue;
        };
        let sp = dir.parse_path(path)?;
        assert_eq!(dir.display(&sp), path);
        let ca: ContentAddress = ca.parse()?;
        assert_eq!(ca.to_string(), case["ca"].as_str().ok_or("ca")?);
        let mut refs = BTreeSet::new();
        for r in case["references_queried"].as_array().into_iter().flatten() {
            refs.insert(dir.parse_path(r.as_str().ok_or("ref")?)?);
        }
        let computed = ca.store_path(&dir, sp.name(), &refs, false)?;
        assert_eq!(dir.display(&computed), path, "{key}");
        // The NAR hash is printed typed nix32 and parses back.
        if let Some(nh) = case["nar_hash"].as_str() {
            assert_eq!(Hash::parse_any(nh)?.to_typed_nix32(), nh);
        }
        // For text paths with known contents, the content hash is sha256 of the contents.
        if let Some(contents) = case["contents"].as_str() {
            let h = Hash::digest_bytes(HashAlgo::Sha256, contents.as_bytes());
            assert_eq!(dir.make_text_path(sp.name(), &h, &refs)?, computed);
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} vectors checked");
    Ok(())
}

#[test]
fn derivation_files_are_text_paths() -> R {
    // The `.drv` path is a text path over the ATerm with inputSrcs ∪ inputDrvs as references.
    let dir = StoreDir::default();
    let v = testkit::vectors("derivations");
    let mut checked = 0;
    for (key, case) in v.as_object().ok_or("not an object")? {
        let (Some(drv_path), Some(aterm)) = (case["drv_path"].as_str(), case["drv_aterm"].as_str())
        else {
            continue;
        };
        let sp = dir.parse_path(drv_path)?;
        let mut refs = BTreeSet::new();
        for r in case["drv_references"].as_array().into_iter().flatten() {
            refs.insert(dir.parse_path(r.as_str().ok_or("ref")?)?);
        }
        let h = Hash::digest_bytes(HashAlgo::Sha256, aterm.as_bytes());
        let name = sp.name().strip_suffix(".drv").ok_or("not a .drv")?;
        assert_eq!(dir.make_drv_path(name, &h, &refs)?, sp, "{key}");
        checked += 1;
        // Fixed-output derivations: the output path follows from the declared hash alone.
        let drv = &case["show_derivation_json"][drv_path];
        for (out, o) in drv["outputs"].as_object().ok_or("outputs")? {
            let (Some(algo), Some(hex)) = (o["hashAlgo"].as_str(), o["hash"].as_str()) else {
                continue;
            };
            let (method, algo) = match algo.strip_prefix("r:") {
                Some(a) => (FileIngestionMethod::Recursive, a),
                None => (FileIngestionMethod::Flat, algo),
            };
            let hash = Hash::parse_with_algo(hex, algo.parse()?)?;
            let p = dir.make_fixed_output_path(name, method, &hash, &BTreeSet::new(), false)?;
            assert_eq!(
                Some(dir.display(&p).as_str()),
                o["path"].as_str(),
                "{key} {out}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} derivations checked");
    Ok(())
}

#[test]
fn other_store_dirs_give_other_paths() -> R {
    let h = Hash::digest_bytes(HashAlgo::Sha256, b"hello\n");
    let a = StoreDir::default().make_text_path("x", &h, &BTreeSet::new())?;
    let other = StoreDir::new("/tmp/other-store")?;
    let b = other.make_text_path("x", &h, &BTreeSet::new())?;
    assert_ne!(a, b);
    assert!(other.display(&b).starts_with("/tmp/other-store/"));
    Ok(())
}

#[test]
fn ordering_is_by_base_name() -> R {
    let a: StorePath = "00000000000000000000000000000000-z".parse()?;
    let b: StorePath = "00000000000000000000000000000001-a".parse()?;
    assert!(a < b);
    let c: StorePath = "00000000000000000000000000000001-b".parse()?;
    assert!(b < c);
    Ok(())
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    fn name() -> impl Strategy<Value = String> {
        "[A-Za-z0-9+._?=-]{1,211}"
    }
    fn hash_part() -> impl Strategy<Value = String> {
        "[0123456789abcdfghijklmnpqrsvwxyz]{32}"
    }

    proptest! {
        #[test]
        fn base_names_and_full_paths_roundtrip(h in hash_part(), n in name()) {
            let base = format!("{h}-{n}");
            let p = StorePath::from_base_name(&base).expect("valid");
            prop_assert_eq!(p.hash_part(), h.as_str());
            prop_assert_eq!(p.name(), n.as_str());
            prop_assert_eq!(p.to_string(), base.clone());
            let dir = StoreDir::default();
            let full = dir.display(&p);
            prop_assert_eq!(dir.parse_path(&full).expect("valid"), p.clone());
            let json = serde_json::to_string(&p).expect("serialises");
            prop_assert_eq!(serde_json::from_str::<StorePath>(&json).expect("parses"), p);
        }

        #[test]
        fn arbitrary_strings_never_panic(s in ".{0,80}") {
            let _ = StorePath::from_base_name(&s);
            let _ = StoreDir::default().parse_path(&s);
            let _ = StoreDir::default().parse_path_prefix(&s);
        }
    }
}

#[test]
fn promised_auto_traits_and_sizes() {
    fn send_sync<T: Send + Sync + std::panic::UnwindSafe>() {}
    send_sync::<Hash>();
    send_sync::<StorePath>();
    send_sync::<StorePathRef<'static>>();
    send_sync::<StoreDir>();
    send_sync::<nix_store::narinfo::NarInfo>();
    send_sync::<nix_store::path_info::PathInfo>();
    send_sync::<nix_store::references::ReferenceScanner>();
    send_sync::<nix_store::narinfo::keys::SecretKey>();
    // Hash is a plain value: algorithm byte + 64-byte digest buffer.
    assert_eq!(std::mem::size_of::<Hash>(), 65);
    assert_eq!(
        std::mem::size_of::<StorePath>(),
        std::mem::size_of::<String>()
    );
}
