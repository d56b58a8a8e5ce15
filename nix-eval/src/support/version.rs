//! Version strings: `builtins.compareVersions`, `builtins.splitVersion` and
//! `builtins.parseDrvName`, with CppNix 2.8's exact rules.
//!
//! A version is split into *components*: separators `.` and `-` are skipped, then a component
//! is either the longest run of ASCII digits or the longest run of bytes that are neither
//! digits nor separators (`"1.2pre3"` → `1`, `2`, `pre`, `3`). Two versions are compared
//! component by component; a version that runs out yields empty components. Two components
//! compare as follows (`c1 < c2`):
//!
//! 1. both are numbers that fit in a C `int` (32 bits; `"2147483648"` does **not**, and is
//!    then treated as a word): numerically (`"010"` = `"10"`);
//! 2. `c1` is empty and `c2` a number: less;
//! 3. `c1` is `pre` and `c2` is not: less; `c2` is `pre`: not less;
//! 4. `c2` is a number: less (`2.3a` < `2.3.1`); `c1` is a number: not less;
//! 5. otherwise bytewise (`"B"` < `"a"`, `""` < `"a"`).
//!
//! See the facts reference, section 9.

use std::cmp::Ordering;

fn is_sep(b: u8) -> bool {
    b == b'.' || b == b'-'
}

/// Returns the next component starting at `*pos`, advancing `*pos` past it; empty at the end.
fn next_component<'a>(s: &'a [u8], pos: &mut usize) -> &'a [u8] {
    while *pos < s.len() && is_sep(s[*pos]) {
        *pos += 1;
    }
    let start = *pos;
    if start == s.len() {
        return &s[start..];
    }
    if s[start].is_ascii_digit() {
        while *pos < s.len() && s[*pos].is_ascii_digit() {
            *pos += 1;
        }
    } else {
        while *pos < s.len() && !s[*pos].is_ascii_digit() && !is_sep(s[*pos]) {
            *pos += 1;
        }
    }
    &s[start..*pos]
}

/// Parses an all-digit component as a C `int`, as CppNix's `string2Int<int>` does.
fn as_int(c: &[u8]) -> Option<i32> {
    if c.is_empty() || !c.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(c).ok()?.parse().ok()
}

fn component_lt(c1: &[u8], c2: &[u8]) -> bool {
    let n1 = as_int(c1);
    let n2 = as_int(c2);
    match (n1, n2) {
        (Some(a), Some(b)) => a < b,
        _ if c1.is_empty() && n2.is_some() => true,
        _ if c1 == b"pre" && c2 != b"pre" => true,
        _ if c2 == b"pre" => false,
        (_, Some(_)) => true,
        (Some(_), _) => false,
        _ => c1 < c2,
    }
}

/// Compares two version strings as `builtins.compareVersions` does.
///
/// # Example
/// ```
/// use nix_eval::support::version::compare_versions;
/// use std::cmp::Ordering;
/// assert_eq!(compare_versions(b"2.3pre1", b"2.3"), Ordering::Less);
/// assert_eq!(compare_versions(b"2.3.1", b"2.3a"), Ordering::Greater);
/// assert_eq!(compare_versions(b"1.0", b"1.0"), Ordering::Equal);
/// ```
pub fn compare_versions(a: &[u8], b: &[u8]) -> Ordering {
    let (mut p1, mut p2) = (0, 0);
    while p1 < a.len() || p2 < b.len() {
        let c1 = next_component(a, &mut p1);
        let c2 = next_component(b, &mut p2);
        if component_lt(c1, c2) {
            return Ordering::Less;
        }
        if component_lt(c2, c1) {
            return Ordering::Greater;
        }
    }
    Ordering::Equal
}

/// Splits a version into its components, as `builtins.splitVersion` does (no empty ones).
///
/// # Example
/// ```
/// use nix_eval::support::version::split_version;
/// let parts: Vec<&[u8]> = split_version(b"1-2.3pre4");
/// assert_eq!(parts, [&b"1"[..], b"2", b"3", b"pre", b"4"]);
/// ```
pub fn split_version(s: &[u8]) -> Vec<&[u8]> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < s.len() {
        let c = next_component(s, &mut pos);
        if c.is_empty() {
            break;
        }
        out.push(c);
    }
    out
}

/// Splits a derivation name into `(name, version)` as `builtins.parseDrvName` does: at the
/// first `-` that is followed by a byte that is not an ASCII letter. Without one, the version
/// is empty.
///
/// # Example
/// ```
/// use nix_eval::support::version::parse_drv_name;
/// assert_eq!(parse_drv_name(b"hello-world-1.2"), (&b"hello-world"[..], &b"1.2"[..]));
/// assert_eq!(parse_drv_name(b"a-b-c"), (&b"a-b-c"[..], &b""[..]));
/// ```
pub fn parse_drv_name(s: &[u8]) -> (&[u8], &[u8]) {
    for i in 0..s.len() {
        if s[i] == b'-' && i + 1 < s.len() && !s[i + 1].is_ascii_alphabetic() {
            return (&s[..i], &s[i + 1..]);
        }
    }
    (s, &s[s.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Pairs and results observed with `builtins.compareVersions` in CppNix 2.8.
    const CMP: &[(&str, &str, i8)] = &[
        ("1.0", "2.3", -1),
        ("2.1", "2.3", -1),
        ("2.3", "2.3", 0),
        ("2.5", "2.3", 1),
        ("3.1", "2.3", 1),
        ("2.3.1", "2.3", 1),
        ("2.3.1", "2.3a", 1),
        ("2.3pre1", "2.3", -1),
        ("2.3pre3", "2.3pre12", -1),
        ("2.3a", "2.3c", -1),
        ("2.3pre1", "2.3c", -1),
        ("2.3pre1", "2.3q", -1),
        ("1.0", "1.0.0", -1),
        ("1", "1.", 0),
        ("1..", "1", 0),
        ("", "1", -1),
        ("", "", 0),
        ("a", "", 1),
        ("pre", "", -1),
        ("001", "1", 0),
        ("010", "9", 1),
        ("99999999999", "1", -1),
        ("2147483648", "2147483647", -1),
        ("2147483647", "1", 1),
        ("4294967296", "a", -1),
        ("1-2", "1.2", 0),
        ("1a", "1.a", 0),
        ("a", "b", -1),
        ("B", "a", -1),
        ("pre", "a", -1),
        ("pre", "pre", 0),
        ("1pre", "1", -1),
        ("1.pre", "1", -1),
        ("1.2.3", "1.2-3", 0),
        ("alpha", "1", -1),
        ("1", "alpha", 1),
        ("1.0rc1", "1.0", 1),
        ("1.0", "1.0rc1", -1),
        ("é", "1", -1),
        ("1é", "1e", 1),
        ("-1", "1", 0),
        ("1--2", "1-2", 0),
        ("0", "", 1),
        ("", "0", -1),
        ("", "a", -1),
        ("00", "0", 0),
        ("1.2", "1.10", -1),
        ("9223372036854775808", "0", -1),
        ("2.3", "2.3.0.0", -1),
        ("x", "x.0", -1),
    ];

    #[test]
    fn compare_matches_cppnix() {
        for &(a, b, want) in CMP {
            let got = match compare_versions(a.as_bytes(), b.as_bytes()) {
                Ordering::Less => -1,
                Ordering::Equal => 0,
                Ordering::Greater => 1,
            };
            assert_eq!(got, want, "compareVersions {a:?} {b:?}");
        }
    }

    #[test]
    fn split_matches_cppnix() {
        let cases: &[(&str, &[&str])] = &[
            ("1.2.3", &["1", "2", "3"]),
            ("1.", &["1"]),
            (".1", &["1"]),
            ("1..2", &["1", "2"]),
            ("", &[]),
            ("1a2b", &["1", "a", "2", "b"]),
            ("1-2.3pre4", &["1", "2", "3", "pre", "4"]),
            ("-", &[]),
            ("a.b-c", &["a", "b", "c"]),
            ("2.3pre1", &["2", "3", "pre", "1"]),
            ("1é2", &["1", "é", "2"]),
            ("x y", &["x y"]),
        ];
        for &(s, want) in cases {
            let got: Vec<&[u8]> = split_version(s.as_bytes());
            let want: Vec<&[u8]> = want.iter().map(|w| w.as_bytes()).collect();
            assert_eq!(got, want, "splitVersion {s:?}");
        }
    }

    #[test]
    fn drv_name_matches_cppnix() {
        let cases: &[(&str, &str, &str)] = &[
            ("hello-1.0", "hello", "1.0"),
            ("hello", "hello", ""),
            ("hello-world-1.2", "hello-world", "1.2"),
            ("a-b-c", "a-b-c", ""),
            ("foo-1a", "foo", "1a"),
            ("foo-", "foo-", ""),
            ("-1", "", "1"),
            ("foo--1", "foo", "-1"),
            ("foo-_1", "foo", "_1"),
            ("foo-é", "foo", "é"),
            ("nix-2.8.0pre-git", "nix", "2.8.0pre-git"),
            ("x-Y1", "x-Y1", ""),
            ("a-.b", "a", ".b"),
        ];
        for &(s, name, version) in cases {
            assert_eq!(
                parse_drv_name(s.as_bytes()),
                (name.as_bytes(), version.as_bytes()),
                "parseDrvName {s:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn compare_is_antisymmetric_and_reflexive(a in "[0-9a-z.-]{0,12}", b in "[0-9a-z.-]{0,12}") {
            let ab = compare_versions(a.as_bytes(), b.as_bytes());
            let ba = compare_versions(b.as_bytes(), a.as_bytes());
            prop_assert_eq!(ab, ba.reverse());
            prop_assert_eq!(compare_versions(a.as_bytes(), a.as_bytes()), Ordering::Equal);
        }

        #[test]
        fn split_parts_rejoin(s in "[0-9a-z.-]{0,16}") {
            let parts = split_version(s.as_bytes());
            let joined: Vec<u8> = parts.concat();
            let without_seps: Vec<u8> = s.bytes().filter(|b| !is_sep(*b)).collect();
            prop_assert_eq!(joined, without_seps);
        }

        #[test]
        fn drv_name_rejoins(s in "[0-9a-zA-Z.-]{0,16}") {
            let (name, version) = parse_drv_name(s.as_bytes());
            if version.is_empty() && name.len() == s.len() {
                prop_assert_eq!(name, s.as_bytes());
            } else {
                prop_assert_eq!([name, b"-", version].concat(), s.as_bytes().to_vec());
            }
        }
    }
}
