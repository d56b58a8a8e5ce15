//! narinfo, signatures and keys against `binary-cache.json` (real caches written by CppNix 2.8).

use nix_store::narinfo::keys::{PublicKey, PublicKeys, SecretKey};
use nix_store::narinfo::NarInfo;
use nix_store::store_path::StoreDir;

type R = Result<(), Box<dyn std::error::Error>>;

fn narinfos() -> Vec<(String, String)> {
    let v = testkit::vectors("binary-cache");
    let mut out = Vec::new();
    for (cache, c) in v["caches"].as_object().expect("caches") {
        for (file, content) in c["files"].as_object().expect("files") {
            if file.ends_with(".narinfo") {
                let text = content.as_str().expect("narinfo text").to_string();
                out.push((format!("{cache}/{file}"), text));
            }
        }
    }
    assert!(out.len() >= 6, "expected narinfos in two caches");
    out
}

fn keys() -> (SecretKey, PublicKey) {
    let v = testkit::vectors("binary-cache");
    let sk = v["secret_key_file"]
        .as_str()
        .expect("sk")
        .parse()
        .expect("valid secret key");
    let pk = v["public_key_file"]
        .as_str()
        .expect("pk")
        .parse()
        .expect("valid public key");
    (sk, pk)
}

#[test]
fn key_files_roundtrip() -> R {
    let v = testkit::vectors("binary-cache");
    let (sk, pk) = keys();
    assert_eq!(sk.to_string(), v["secret_key_file"].as_str().ok_or("sk")?);
    assert_eq!(pk.to_string(), v["public_key_file"].as_str().ok_or("pk")?);
    assert_eq!(sk.to_public(), pk);
    assert_eq!(sk.name(), "test-key-1");
    Ok(())
}

#[test]
fn real_narinfos_roundtrip_and_verify() -> R {
    let dir = StoreDir::default();
    let (sk, pk) = keys();
    let trusted: PublicKeys = [pk].into_iter().collect();
    for (name, text) in narinfos() {
        let n = NarInfo::parse(&text, &dir)?;
        assert_eq!(
            n.to_text(&dir),
            text,
            "{name}: not written back byte for byte"
        );
        assert_eq!(n.info.signatures.len(), 1, "{name}");
        assert_eq!(
            n.count_valid_signatures(&dir, &trusted)?,
            1,
            "{name}: signature does not verify"
        );
        // Re-signing reproduces the Sig line exactly (ed25519 is deterministic).
        let mut resigned = n.clone();
        resigned.info.signatures.clear();
        resigned.sign(&dir, &sk)?;
        assert_eq!(resigned.info.signatures, n.info.signatures, "{name}");
        // A different key is not trusted, and a changed fingerprint does not verify.
        let other: PublicKeys = [SecretKey::generate("test-key-1").to_public()]
            .into_iter()
            .collect();
        assert_eq!(n.count_valid_signatures(&dir, &other)?, 0);
        let mut tampered = n.clone();
        tampered.info.nar_size += 1;
        assert_eq!(tampered.count_valid_signatures(&dir, &trusted)?, 0);
    }
    Ok(())
}

#[test]
fn none_compression_cache_has_nar_hash_as_file_hash() -> R {
    let dir = StoreDir::default();
    for (name, text) in narinfos() {
        let n = NarInfo::parse(&text, &dir)?;
        if name.starts_with("none/") {
            assert_eq!(n.compression(), "none");
            assert_eq!(n.file_hash, Some(n.info.nar_hash));
            assert_eq!(n.url, format!("nar/{}.nar", n.info.nar_hash.to_nix32()));
        } else {
            assert_eq!(n.compression(), "xz");
        }
    }
    Ok(())
}

mod prop {
    use nix_store::content_address::{ContentAddress, FileIngestionMethod};
    use nix_store::hash::{Hash, HashAlgo};
    use nix_store::narinfo::NarInfo;
    use nix_store::path_info::{self, PathInfo};
    use nix_store::store_path::{StoreDir, StorePath};
    use proptest::prelude::*;

    fn store_path() -> impl Strategy<Value = StorePath> {
        (
            "[0123456789abcdfghijklmnpqrsvwxyz]{32}",
            "[A-Za-z0-9+._?=-]{1,40}",
        )
            .prop_map(|(h, n)| StorePath::from_base_name(&format!("{h}-{n}")).expect("valid"))
    }

    fn sha256() -> impl Strategy<Value = Hash> {
        prop::collection::vec(any::<u8>(), 0..8)
            .prop_map(|d| Hash::digest_bytes(HashAlgo::Sha256, &d))
    }

    fn path_info() -> impl Strategy<Value = PathInfo> {
        (
            store_path(),
            sha256(),
            1..u64::MAX,
            prop::collection::btree_set(store_path(), 0..4),
            prop::option::of(store_path()),
            prop::collection::btree_set("[a-z0-9.-]{1,10}:[A-Za-z0-9+/]{86}==", 0..3),
            prop::option::of((0..3u8, sha256())),
            (0..u32::MAX as u64, any::<bool>()),
        )
            .prop_map(
                |(
                    path,
                    nar_hash,
                    nar_size,
                    references,
                    deriver,
                    signatures,
                    ca,
                    (time, ultimate),
                )| {
                    let ca = ca.map(|(k, hash)| match k {
                        0 => ContentAddress::Text(hash),
                        1 => ContentAddress::Fixed {
                            method: FileIngestionMethod::Flat,
                            hash,
                        },
                        _ => ContentAddress::Fixed {
                            method: FileIngestionMethod::Recursive,
                            hash,
                        },
                    });
                    PathInfo {
                        path,
                        deriver,
                        nar_hash,
                        nar_size,
                        references,
                        registration_time: time,
                        ultimate,
                        signatures,
                        ca,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn narinfo_text_roundtrips(
            mut info in path_info(),
            url in "[a-z0-9/._-]{1,40}",
            compression in prop::option::of("[a-z]{1,6}"),
            file in prop::option::of((sha256(), any::<u64>())),
            system in prop::option::of("[a-z0-9_-]{1,20}"),
        ) {
            info.registration_time = 0;
            info.ultimate = false;
            let n = NarInfo {
                info,
                url,
                compression,
                file_hash: file.map(|f| f.0),
                file_size: file.map(|f| f.1),
                system,
                extra: Vec::new(),
            };
            let dir = StoreDir::default();
            let text = n.to_text(&dir);
            let back = NarInfo::parse(&text, &dir).expect("parses");
            prop_assert_eq!(back.to_text(&dir), text);
            prop_assert_eq!(back, n);
        }

        #[test]
        fn path_info_json_roundtrips(infos in prop::collection::vec(path_info(), 0..4)) {
            let dir = StoreDir::new("/tmp/some/store").expect("valid");
            let json = path_info::to_json(&dir, &infos);
            let back: Vec<PathInfo> =
                path_info::parse_json(&dir, &json).expect("parses").into_iter().filter_map(|e| e.1).collect();
            prop_assert_eq!(back, infos);
        }

        #[test]
        fn arbitrary_text_never_panics(s in "(?s).{0,300}") {
            let _ = NarInfo::parse(&s, &StoreDir::default());
        }

        #[test]
        fn line_shaped_text_never_panics(lines in prop::collection::vec(
            ("(StorePath|URL|NarHash|NarSize|References|Deriver|Sig|CA|FileHash|X)", ".{0,60}"), 0..10)) {
            let text: String = lines.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
            let _ = NarInfo::parse(&text, &StoreDir::default());
        }
    }
}
