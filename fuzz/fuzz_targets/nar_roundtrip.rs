//! Fuzz the writer/reader pair: build a tree from the input bytes, write it, read it back, and
//! check that the tree and the bytes come back unchanged.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use nix_nar::dump::Tree;
use nix_nar::reader::Reader;

/// Splits off up to `n` bytes.
fn take(data: &mut &[u8], n: usize) -> Vec<u8> {
    let n = n.min(data.len());
    let (a, b) = data.split_at(n);
    *data = b;
    a.to_vec()
}

/// Decodes a small tree from bytes (never fails; stops when the bytes run out).
fn tree(data: &mut &[u8], depth: u32) -> Tree {
    let tag = take(data, 1).first().copied().unwrap_or(0);
    let len = take(data, 1).first().copied().unwrap_or(0) as usize;
    match tag % 3 {
        0 => Tree::File {
            executable: tag & 0x80 != 0,
            contents: take(data, len),
        },
        1 => Tree::Symlink {
            target: take(data, len.max(1)),
        },
        _ if depth >= 6 => Tree::Directory(BTreeMap::new()),
        _ => {
            let mut entries = BTreeMap::new();
            for _ in 0..(len % 6) {
                let name_len = (take(data, 1).first().copied().unwrap_or(1) % 12) as usize + 1;
                let name = take(data, name_len);
                let child = tree(data, depth + 1);
                if nix_nar::wire::check_name(&name).is_ok() {
                    entries.insert(name, child);
                }
            }
            Tree::Directory(entries)
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    let t = tree(&mut input, 0);
    let nar = t.to_nar().expect("names were checked");
    let back = Reader::new(&nar[..])
        .read_tree()
        .expect("our own NAR must parse");
    assert_eq!(back, t);
    assert_eq!(back.to_nar().expect("same tree"), nar);
});
