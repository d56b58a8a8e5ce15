//! Hashes against `shared/testvectors/hashes.json` (made with CppNix 2.8).

use nix_store::hash::{nix32, Hash, HashAlgo};

type R = Result<(), Box<dyn std::error::Error>>;

fn s<'a>(v: &'a serde_json::Value, k: &str) -> &'a str {
    v[k].as_str()
        .unwrap_or_else(|| panic!("vector field {k} missing"))
}

#[test]
fn hashes_of_inputs() -> R {
    let v = testkit::vectors("hashes");
    let cases = v["hashes_of_inputs"].as_array().ok_or("no cases")?;
    assert!(cases.len() >= 16);
    for c in cases {
        let algo: HashAlgo = s(c, "type").parse()?;
        let h = Hash::digest_bytes(algo, s(c, "input_utf8").as_bytes());
        assert_eq!(h.to_base16(), s(c, "base16"));
        assert_eq!(h.to_nix32(), s(c, "nix32"));
        assert_eq!(h.to_base64(), s(c, "base64"));
        assert_eq!(h.to_sri(), s(c, "sri"));
        for form in ["base16", "nix32", "base64"] {
            assert_eq!(Hash::parse_with_algo(s(c, form), algo)?, h);
            assert_eq!(Hash::parse_any(&format!("{algo}:{}", s(c, form)))?, h);
        }
        assert_eq!(Hash::parse_any(s(c, "sri"))?, h);
        assert_eq!(
            Hash::parse_with_algo(&s(c, "base16").to_uppercase(), algo)?,
            h
        );
    }
    Ok(())
}

#[test]
fn nix32_of_special_digests() -> R {
    let v = testkit::vectors("hashes");
    for c in v["nix32_of_digests"].as_array().ok_or("no cases")? {
        let algo: HashAlgo = s(c, "type").parse()?;
        let h = Hash::parse_with_algo(s(c, "base16"), algo)?;
        assert_eq!(h.to_nix32(), s(c, "nix32"), "{}", s(c, "base16"));
        assert_eq!(nix32::decode(s(c, "nix32"))?, h.digest());
    }
    Ok(())
}

#[test]
fn streaming_equals_one_shot() -> R {
    use std::io::Write;
    for algo in HashAlgo::ALL {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut h = nix_store::hash::Hasher::new(algo);
        for chunk in data.chunks(333) {
            h.write_all(chunk)?;
        }
        assert_eq!(h.finish(), Hash::digest_bytes(algo, &data));
    }
    Ok(())
}
