//! The hand-made NARs of `restore_cases_cppnix_2_8`: our reader rejects each bad one with the
//! right typed error and byte offset.

use nix_nar::reader::{Error, Options, Reader};

use crate::{unhex, TestResult};

/// What our reader must do with each case (CppNix 2.8 accepts `unsorted_entries` and
/// `trailing_garbage_after_nar`, and fails `duplicate_entries` only at the file system).
fn check(case: &str, r: Result<nix_nar::dump::Tree, Error>) -> TestResult {
    match (case, &r) {
        ("valid_two_entries_sorted", Ok(_)) => {}
        ("unsorted_entries", Err(Error::NotSorted { name, previous, .. })) => {
            assert_eq!((name.as_str(), previous.as_str()), ("a", "b"));
        }
        ("duplicate_entries", Err(Error::NotSorted { name, previous, .. })) => {
            assert_eq!((name.as_str(), previous.as_str()), ("a", "a"));
        }
        ("name_dotdot", Err(Error::InvalidName { name, .. })) => assert_eq!(name, ".."),
        ("name_with_slash", Err(Error::InvalidName { name, .. })) => assert_eq!(name, "x/y"),
        ("name_empty", Err(Error::InvalidName { name, .. })) => assert_eq!(name, ""),
        ("bad_magic", Err(Error::BadMagic { offset: 0 })) => {}
        ("nonzero_padding", Err(Error::NonZeroPadding { .. })) => {}
        ("executable_nonempty_marker", Err(Error::NonEmptyExecutableMarker { .. })) => {}
        ("unknown_type", Err(Error::UnknownType { file_type, .. })) => {
            assert_eq!(file_type, "fifo")
        }
        ("contents_in_directory", Err(Error::UnknownField { field, .. })) => {
            assert_eq!(field, "contents")
        }
        ("two_type_fields", Err(Error::MultipleTypeFields { .. })) => {}
        ("trailing_garbage_after_nar", Err(Error::TrailingData { .. })) => {}
        _ => return Err(format!("case {case}: unexpected result {r:?}").into()),
    }
    Ok(())
}

#[test]
fn restore_cases_are_classified() -> TestResult {
    let v = testkit::vectors("nar");
    let cases = v["restore_cases_cppnix_2_8"].as_array().ok_or("cases")?;
    assert_eq!(cases.len(), 13);
    for c in cases {
        let name = c["case"].as_str().ok_or("case")?;
        let nar = unhex(c["nar_hex"].as_str().ok_or("hex")?);
        let r = Reader::new(&nar[..]).read_tree();
        if let Err(e) = &r {
            let off = e.offset().ok_or("offset")?;
            assert!(off <= nar.len() as u64, "{name}: offset {off}");
            // The error message names the offset.
            assert!(e.to_string().contains(&off.to_string()), "{name}: {e}");
        }
        check(name, r)?;
    }
    Ok(())
}

#[test]
fn offsets_point_at_the_bad_token() -> TestResult {
    let v = testkit::vectors("nar");
    let cases = v["restore_cases_cppnix_2_8"].as_array().ok_or("cases")?;
    let get = |n: &str| -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        let c = cases
            .iter()
            .find(|c| c["case"] == n)
            .ok_or("missing case")?;
        Ok(unhex(c["nar_hex"].as_str().ok_or("hex")?))
    };
    // "nix-archive-1" (24) "(" (16) "type" (16) "regular" (16) "contents" (16) len (8) then "x"
    // and its padding: the padding starts at 24+16+16+16+16+8+1 = 97.
    match Reader::new(&get("nonzero_padding")?[..]).read_tree() {
        Err(Error::NonZeroPadding { offset }) => assert_eq!(offset, 97),
        other => return Err(format!("{other:?}").into()),
    }
    // The second "type" follows "(" "type" "regular": 24+16+16+16 = 72.
    match Reader::new(&get("two_type_fields")?[..]).read_tree() {
        Err(Error::MultipleTypeFields { offset }) => assert_eq!(offset, 72),
        other => return Err(format!("{other:?}").into()),
    }
    let trailing = get("trailing_garbage_after_nar")?;
    match Reader::new(&trailing[..]).read_tree() {
        Err(Error::TrailingData { offset }) => assert_eq!(offset, 120),
        other => return Err(format!("{other:?}").into()),
    }
    let lenient = Options {
        allow_trailing_data: true,
        ..Options::default()
    };
    Reader::with_options(&trailing[..], lenient).read_tree()?;
    Ok(())
}

#[test]
fn huge_lengths_do_not_allocate() -> TestResult {
    // A name claiming u64::MAX bytes must be refused from its length alone.
    let mut nar = Vec::new();
    for t in [
        &b"nix-archive-1"[..],
        b"(",
        b"type",
        b"directory",
        b"entry",
        b"(",
        b"name",
    ] {
        nix_nar::wire::encode_str(&mut nar, t);
    }
    nar.extend_from_slice(&u64::MAX.to_le_bytes());
    match Reader::new(&nar[..]).read_tree() {
        Err(Error::TooLong { what, len, .. }) => {
            assert_eq!((what, len), ("name", u64::MAX));
        }
        other => return Err(format!("{other:?}").into()),
    }
    Ok(())
}
