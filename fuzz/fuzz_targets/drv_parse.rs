//! Fuzz the `.drv` and derivation-JSON parsers: any input, no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nix_derivation::store::store_path::StoreDir;
use nix_derivation::{aterm, json};

fuzz_target!(|data: &[u8]| {
    let store_dir = StoreDir::default();
    if let Ok(drv) = aterm::parse(data, &store_dir, &aterm::ParseOptions::default()) {
        // Whatever parses can be printed and hashed without panicking.
        let _ = drv.to_aterm(&store_dir);
        let _ = drv.drv_path(&store_dir, "fuzz");
        let _ = drv.kind();
    }
    let _ = json::from_json(data, &store_dir);
    let _ = json::parse_show_derivation(data, &store_dir);
});
