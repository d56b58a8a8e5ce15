//! `shared/testvectors/nar.json`: exact bytes of CppNix 2.8 dumps.

use nix_nar::dump::Tree;

use crate::{hex, unhex, TestResult};

fn tree_of(name: &str) -> Option<Tree> {
    let file = |x: bool, c: &[u8]| Tree::File {
        executable: x,
        contents: c.to_vec(),
    };
    Some(match name {
        "hello.txt" => file(false, b"hello\n"),
        "exe" => file(true, b"#!/bin/sh\n"),
        "link" => Tree::Symlink {
            target: b"/nix/store/target".to_vec(),
        },
        "emptydir" => Tree::Directory(Default::default()),
        "tree" => Tree::Directory(
            [
                (b"a".to_vec(), file(false, b"hello\n")),
                (b"b.sh".to_vec(), file(true, b"#!/bin/sh\necho hi\n")),
                (
                    b"c".to_vec(),
                    Tree::Symlink {
                        target: b"a".to_vec(),
                    },
                ),
                (
                    b"d".to_vec(),
                    Tree::Directory([(b"e".to_vec(), file(false, b""))].into()),
                ),
            ]
            .into(),
        ),
        "order" => Tree::Directory(
            ["B", "a", "_", "Z", "a.b", "a-b", "ab"]
                .iter()
                .map(|n| (n.as_bytes().to_vec(), file(false, n.as_bytes())))
                .collect(),
        ),
        _ => return None,
    })
}

#[test]
fn in_memory_trees_match_cppnix_bytes() -> TestResult {
    let v = testkit::vectors("nar");
    let dumps = v["dumps"].as_array().ok_or("dumps")?;
    let mut seen = 0;
    for d in dumps {
        let name = d["name"].as_str().ok_or("name")?;
        let expected = unhex(d["nar_hex"].as_str().ok_or("nar_hex")?);
        assert_eq!(expected.len() as u64, d["nar_size"].as_u64().ok_or("size")?);
        let tree = tree_of(name).ok_or_else(|| format!("no tree for vector {name}"))?;
        let ours = tree.to_nar()?;
        assert_eq!(hex(&ours), hex(&expected), "vector {name}");
        let digest = {
            use std::io::Write;
            let mut h = nix_nar::hash::HashingWriter::sink();
            h.write_all(&ours)?;
            h.finish().1
        };
        assert_eq!(
            hex(&digest),
            d["nar_sha256_base16"].as_str().ok_or("sha")?,
            "vector {name}"
        );
        seen += 1;
    }
    assert_eq!(seen, 6);
    Ok(())
}
