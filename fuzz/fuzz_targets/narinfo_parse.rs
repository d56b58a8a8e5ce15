//! Fuzz the narinfo parser: nothing may panic, and whatever parses is written back as text that
//! parses to the same value (and is then a fixed point of parse + write).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nix_store::narinfo::NarInfo;
use nix_store::store_path::StoreDir;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let dir = StoreDir::default();
    if let Ok(info) = NarInfo::parse(s, &dir) {
        let text = info.to_text(&dir);
        let again = NarInfo::parse(&text, &dir).expect("written narinfo parses");
        assert_eq!(again, info);
        assert_eq!(again.to_text(&dir), text);
        // Fingerprinting and signature checks must not panic either.
        let _ = info.fingerprint(&dir);
        let _ = info.count_valid_signatures(&dir, &Default::default());
    }
});
