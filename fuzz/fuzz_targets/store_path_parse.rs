//! Fuzz store path (and hash / content address) parsing: nothing may panic, and whatever parses
//! prints back to the same text and parses again to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nix_store::content_address::ContentAddress;
use nix_store::hash::Hash;
use nix_store::store_path::{StoreDir, StorePath, StorePathRef};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let dir = StoreDir::default();
    if let Ok(p) = StorePath::from_base_name(s) {
        assert_eq!(p.to_string(), s);
        assert_eq!(StorePathRef::from_base_name(s).expect("same rules"), p);
        let again = StorePath::from_hash_and_name(&p.hash_digest(), p.name()).expect("valid name");
        assert_eq!(
            again.hash_part(),
            p.hash_part(),
            "hash part is not canonical nix32"
        );
        assert_eq!(
            dir.parse_path(&dir.display(&p)).expect("full path parses"),
            p
        );
    }
    if let Ok(p) = dir.parse_path(s) {
        assert_eq!(dir.display(&p), s);
    }
    if let Ok((p, rest)) = dir.parse_path_prefix(s) {
        assert_eq!(format!("{}{rest}", dir.display(&p)), s);
    }
    if let Ok(h) = Hash::parse_any(s) {
        for form in [
            h.to_typed_nix32(),
            h.to_typed_base16(),
            h.to_typed_base64(),
            h.to_sri(),
        ] {
            assert_eq!(Hash::parse_any(&form).expect("printed hash parses"), h);
        }
    }
    if let Ok(ca) = s.parse::<ContentAddress>() {
        let printed = ca.to_string();
        assert_eq!(
            printed
                .parse::<ContentAddress>()
                .expect("printed ca parses"),
            ca
        );
    }
});
