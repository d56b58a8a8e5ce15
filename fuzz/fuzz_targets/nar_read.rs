//! Fuzz the NAR reader: no input may panic it, and whatever it accepts is canonical, so writing
//! it back through the type-state writer must give the input bytes again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nix_nar::reader::{transcode, Reader};

fuzz_target!(|data: &[u8]| {
    let tree = Reader::new(data).read_tree();
    let mut out = Vec::new();
    let streamed = transcode(&mut Reader::new(data), &mut out);
    let listed = nix_nar::listing::list(data);
    match tree {
        Ok(tree) => {
            let again = tree.to_nar().expect("an accepted tree can be written");
            assert_eq!(again, data, "accepted NAR is not canonical");
            assert!(streamed.is_ok(), "transcode rejects what read_tree accepts");
            assert_eq!(out, data);
            assert!(listed.is_ok());
        }
        Err(e) => {
            assert!(
                streamed.is_err(),
                "transcode accepts what read_tree rejects"
            );
            assert!(listed.is_err());
            if let Some(offset) = e.offset() {
                assert!(offset <= data.len() as u64, "offset past the input");
            }
        }
    }
});
