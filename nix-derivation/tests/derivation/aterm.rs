//! ATerm edge cases: errors with offsets, CppNix's leniencies we keep or refuse.

use nix_derivation::aterm::{self, Expected, ParseError, ParseOptions};
use nix_derivation::store::store_path::StoreDir;
use nix_derivation::{Derivation, DerivationOutput};

use crate::common::TestResult;

const SIMPLE: &str = r#"Derive([("out","/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple","","")],[],[],"x86_64-linux","/bin/sh",["-c","echo hello > $out"],[("builder","/bin/sh"),("name","simple"),("out","/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple"),("system","x86_64-linux")])"#;

fn parse(s: &str) -> Result<Derivation, ParseError> {
    Derivation::parse(s.as_bytes(), &StoreDir::default())
}

#[test]
fn unsorted_input_is_accepted_and_printed_sorted() -> TestResult {
    let text = SIMPLE.replace(
        r#"[("builder","/bin/sh"),("name","simple")"#,
        r#"[("name","simple"),("builder","/bin/sh")"#,
    );
    let drv = parse(&text)?;
    assert_eq!(
        String::from_utf8(drv.to_aterm(&StoreDir::default()))?,
        SIMPLE
    );
    Ok(())
}

#[test]
fn duplicates_are_refused() {
    let text = SIMPLE.replace(
        r#"("name","simple")"#,
        r#"("name","simple"),("name","other")"#,
    );
    let err = parse(&text).err();
    assert!(
        matches!(
            err,
            Some(ParseError::Duplicate {
                what: "environment variable",
                ..
            })
        ),
        "{err:?}"
    );
    let out = r#"("out","/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple","","")"#;
    let text = SIMPLE.replace(out, &format!("{out},{out}"));
    assert!(matches!(
        parse(&text),
        Err(ParseError::Duplicate {
            what: "output",
            offset: 76,
            ..
        })
    ));
}

#[test]
fn errors_say_where_and_what() {
    let cases: &[(&str, usize)] = &[
        ("", 0),
        ("Derive(x", 7),
        ("Derive([(\"out\",\"\",\"\",\"\")]", 25),
        ("Derive([(\"out\",\"/nix/store/bad\",\"\",\"\")],[],[],\"s\",\"b\",[],[])", 15),
        ("Derive([(\"out\",\"\",\"r:sha3\",\"\")],[],[],\"s\",\"b\",[],[])", 18),
        ("Derive([(\"out\",\"\",\"\",\"abc\")],[],[],\"s\",\"b\",[],[])", 21),
        ("Derive([(\"out\",\"/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-x\",\"sha256\",\"abc\")],[],[],\"s\",\"b\",[],[])", 72),
        ("Derive([(\"out\",\"/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-x\",\"sha256\",\"impure\")],[],[],\"s\",\"b\",[],[])", 15),
        ("Derive([],[],[],\"s\",\"b\",[],[])x", 30),
        ("Derive([],[],[],\"s\",\"b\",[],[(\"a", 29),
    ];
    for &(input, offset) in cases {
        match parse(input) {
            Ok(d) => panic!("{input:?} parsed: {d:?}"),
            Err(e) => assert_eq!(e.offset(), offset, "{input:?}: {e}"),
        }
    }
    assert_eq!(
        parse("Derive([]"),
        Err(ParseError::UnexpectedEof {
            offset: 9,
            expected: Expected::Literal(",")
        })
    );
}

#[test]
fn store_dir_must_match() {
    let gnu = StoreDir::new("/gnu/store").expect("valid store dir");
    assert!(matches!(
        Derivation::parse(SIMPLE.as_bytes(), &gnu),
        Err(ParseError::StorePath { offset: 15, .. })
    ));
}

#[test]
fn size_limit() {
    let options = ParseOptions { max_size: 10 };
    assert_eq!(
        aterm::parse(SIMPLE.as_bytes(), &StoreDir::default(), &options).err(),
        Some(ParseError::TooLarge {
            size: SIMPLE.len(),
            limit: 10
        })
    );
}

#[test]
fn fixed_hash_in_any_encoding_prints_as_base16() -> TestResult {
    // CppNix parses the hash in any encoding (by length) and prints base 16.
    let nix32 = "04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw";
    let text = format!(
        r#"Derive([("out","/nix/store/gy454w1cxaq731grqwylhzf4pp9r5izh-hello.txt","sha256","{nix32}")],[],[],"s","b",[],[])"#
    );
    let drv = parse(&text)?;
    let DerivationOutput::Fixed { hash, .. } = &drv.outputs["out"] else {
        panic!("not fixed")
    };
    assert_eq!(hash.to_nix32(), nix32);
    assert!(String::from_utf8(drv.to_aterm(&StoreDir::default()))?.contains(&hash.to_base16()));
    Ok(())
}

#[test]
fn masked_printing() -> TestResult {
    let drv = parse(SIMPLE)?;
    let masked = String::from_utf8(aterm::print_masked(&drv, &StoreDir::default()))?;
    assert_eq!(
        masked,
        SIMPLE.replace("/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple", "")
    );
    Ok(())
}

#[test]
fn platform_is_written_unescaped_as_cppnix_does() -> TestResult {
    let mut drv = parse(SIMPLE)?;
    drv.system = b"a\"b".to_vec();
    let text = drv.to_aterm(&StoreDir::default());
    assert!(text.windows(5).any(|w| w == b"\"a\"b\""));
    Ok(())
}
