//! The parser against CppNix 2.8: `--parse` fixtures (`tests/parse/*.nix` with baselines
//! written by `tests/parse/make_baseline.sh`), show/parse round trips, robustness.

use std::path::{Path, PathBuf};

use nix_eval::syntax::{
    parse, parse_and_check, show, Interner, Origin, ParseErrorKind, ParseOptions, SourceMap,
};
use proptest::prelude::*;

/// Fixtures where we knowingly differ from CppNix, with the reason.
const KNOWN_FAILURES: &[(&str, &str)] = &[];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parse")
}

/// The directory the committed baselines were made in (tab expansion in error excerpts depends
/// on the length of the file name, see `filter_like_cppnix`).
const BASELINE_DIR: &str = "/work/main/nix-eval/tests/parse";

/// The workspace root the committed baselines were made in.
const BASELINE_ROOT: &str = "/work/main";

/// Reads a JSON string starting at `s[0] == '"'`; returns it and the rest.
fn json_string(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.strip_prefix('"')?.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[i + 2..])),
            '\\' => {
                let (_, e) = chars.next()?;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'u' => {
                        let hex: String = (0..4)
                            .filter_map(|_| chars.next().map(|(_, h)| h))
                            .collect();
                        let code = u32::from_str_radix(&hex, 16).ok()?;
                        out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                    }
                    other => out.push(other),
                }
            }
            c => out.push(c),
        }
    }
    None
}

/// The `(rc, stdout, stderr)` of a baseline written by make_baseline.sh.
fn read_expected(path: &Path) -> Result<(i32, String, String), Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path)?;
    let field = |key: &str| -> Option<&str> {
        let k = format!("\"{key}\": ");
        let at = text.find(&k)?;
        Some(&text[at + k.len()..])
    };
    let rc: i32 = field("rc")
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .ok_or("no rc")?;
    let stdout = field("stdout").and_then(json_string).ok_or("no stdout")?.0;
    let stderr = field("stderr").and_then(json_string).ok_or("no stderr")?.0;
    Ok((rc, stdout, stderr))
}

/// What `nixrs nix-instantiate --parse FILE` prints.
fn ours(path: &Path, dir: &Path) -> Result<(i32, String, String), Box<dyn std::error::Error>> {
    let text = std::fs::read(path)?;
    let mut map = SourceMap::new();
    let file = map.add(Origin::File(path.to_path_buf()), text);
    let mut names = Interner::new();
    let opts = ParseOptions::new(dir).with_home("/homeless-shelter");
    Ok(match parse_and_check(&map, file, &mut names, &opts) {
        Ok(e) => (0, format!("{}\n", show(&e, &names)), String::new()),
        Err(e) => (1, String::new(), e.render(&map)),
    })
}

#[test]
fn fixtures() -> Result<(), Box<dyn std::error::Error>> {
    let dir = fixtures_dir();
    let dir_str = dir.to_str().ok_or("fixture dir is not UTF-8")?.to_string();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(|p| p.to_str())
        .ok_or("workspace root is not UTF-8")?
        .to_string();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "nix"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 600, "fixtures missing: {}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let exp_path = case.with_extension("exp");
        if !exp_path.exists() {
            failures.push(format!("{name}: no baseline (run make_baseline.sh)"));
            continue;
        }
        let (erc, eout, eerr) = read_expected(&exp_path)?;
        // Baselines made in /work/main may name paths outside the fixture directory (`../x`):
        // put the workspace root of this checkout in their place.
        let (eout, eerr) = (
            eout.replace(BASELINE_ROOT, &root),
            eerr.replace(BASELINE_ROOT, &root),
        );
        let (rc, out, err) = ours(case, &dir)?;
        let (out, err) = (
            out.replace(&dir_str, "@DIR@"),
            err.replace(&dir_str, "@DIR@"),
        );
        let known = KNOWN_FAILURES.iter().any(|(n, _)| *n == name);
        let has_tab = std::fs::read(case)?.contains(&b'\t');
        if has_tab && dir_str != BASELINE_DIR {
            continue; // tab expansion depends on the directory name's length
        }
        let same = (erc, &eout, &eerr) == (rc, &out, &err);
        if same && known {
            failures.push(format!("{name}: passes but is listed in KNOWN_FAILURES"));
        } else if !same && !known {
            failures.push(format!(
                "{name}: {:?}\n  expected rc={erc} stdout={eout:?} stderr={eerr:?}\n  got      rc={rc} stdout={out:?} stderr={err:?}",
                String::from_utf8_lossy(&std::fs::read(case)?)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    Ok(())
}

fn parse_show(src: &str) -> Result<String, String> {
    let mut map = SourceMap::new();
    let file = map.add(Origin::String, src.as_bytes().to_vec());
    let mut names = Interner::new();
    parse(
        &map,
        file,
        &mut names,
        &ParseOptions::new("/base").with_home("/home"),
    )
    .map(|e| show(&e, &names))
    .map_err(|e| e.message)
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() -> Result<(), Box<dyn std::error::Error>> {
    // test threads have small stacks: run in one explicitly
    let r = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
            let ok = format!("{}1{}", "[".repeat(1000), "]".repeat(1000));
            (parse_show(&deep), parse_show(&ok).map(|s| s.len()))
        })
        .map_err(|e| e.to_string())?
        .join()
        .map_err(|_| "parser thread panicked")?;
    assert_eq!(r.0, Err("memory exhausted".to_string()));
    assert!(r.1.is_ok());
    Ok(())
}

#[test]
fn error_kinds() {
    let mut map = SourceMap::new();
    let file = map.add(Origin::String, b"{ a = 1; a = 2; }".to_vec());
    let mut names = Interner::new();
    let err = parse(&map, file, &mut names, &ParseOptions::new("/")).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::DuplicateAttr);
    assert_eq!(err.message, "attribute 'a' already defined at (string):1:3");
    assert_eq!(err.span.start, 9);
}

/// Random expressions from the grammar, written with enough parentheses to be unambiguous.
/// (Interpolated paths and `assert` in argument position are left out: CppNix's `show` format
/// does not parse back for them, e.g. `(/base/p/ + x)`.)
fn expr_source() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        (0u32..100_000).prop_map(|n| n.to_string()),
        (1u32..1000, 0u32..1000).prop_map(|(a, b)| format!("{a}.{b}")),
        prop::sample::select(vec!["a", "b", "x", "or_", "true", "null", "__curPos"])
            .prop_map(String::from),
        "[a-z ${}\\\\\"\n]{0,8}".prop_map(|s| {
            let mut out = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' | '\\' | '$' => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }),
        prop::sample::select(vec![
            "./p",
            "../q/r",
            "/abs/x",
            "<nixpkgs/lib>",
            "~/h",
            "http://x.org/a?b"
        ])
        .prop_map(String::from),
    ];
    leaf.prop_recursive(5, 64, 4, |inner| {
        let ops = prop::sample::select(vec![
            "+", "-", "*", "/", "++", "//", "==", "!=", "<", ">", "<=", ">=", "&&", "||", "->",
        ]);
        prop_oneof![
            (inner.clone(), ops, inner.clone()).prop_map(|(a, o, b)| format!("({a} {o} {b})")),
            inner.clone().prop_map(|a| format!("(x: {a})")),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| format!("({{ a, b ? ({a}), ... }}@c: {b})")),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| format!("{{ a = {a}; b.c = {b}; \"d e\" = 1; }}")),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| format!("rec {{ a = {a}; inherit b; inherit ({b}) c; }}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("(let a = {a}; in {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("[ {a} ({b}) ]")),
            inner
                .clone()
                .prop_map(|a| format!("({a}).a.\"b\".${{\"c\"}}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}).a or ({b})")),
            inner.clone().prop_map(|a| format!("(({a}) ? a.b)")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("(if {a} then {b} else {c})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("(with {a}; {b})")),
            inner.clone().prop_map(|a| format!("(! {a})")),
            inner.clone().prop_map(|a| format!("(- {a})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("\"s${{{a}}}t${{{b}}}\"")),
            inner
                .clone()
                .prop_map(|a| format!("''\n  x ${{{a}}}\n    y\n''")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// `show` output parses back, and from then on `show ∘ parse` is a fixpoint. (The first
    /// re-parse may change the tree: CppNix prints string interpolation as `("a" + x)`, which
    /// parses back as `+`.)
    #[test]
    fn show_parse_round_trip(src in expr_source()) {
        let first = parse_show(&src);
        prop_assert!(first.is_ok(), "{src:?}: {first:?}");
        let first = first.unwrap_or_default();
        let second = parse_show(&first);
        prop_assert!(second.is_ok(), "{first:?}: {second:?}");
        let second = second.unwrap_or_default();
        let third = parse_show(&second);
        prop_assert_eq!(Ok(second.clone()), third, "source {:?}", src);
        if !src.contains('"') && !src.contains("''") {
            // without strings the first re-parse is already exact
            prop_assert_eq!(first, second, "source {:?}", src);
        }
    }

    /// Arbitrary bytes never panic.
    #[test]
    fn never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut map = SourceMap::new();
        let file = map.add(Origin::String, bytes);
        let mut names = Interner::new();
        if let Err(e) = parse_and_check(&map, file, &mut names, &ParseOptions::new("/")) {
            let _ = e.render(&map);
        }
    }

    /// Token soup (more likely to get deep into the grammar than random bytes) never panics.
    #[test]
    fn never_panics_on_token_soup(toks in prop::collection::vec(prop::sample::select(vec![
        "{", "}", "(", ")", "[", "]", ";", ":", ",", ".", "@", "?", "=", "+", "-", "*", "/", "!",
        "<", ">", "\"", "''", "${", "$", "'", "\\", "a", "or", "let", "in", "rec", "inherit", "if",
        "then", "else", "with", "assert", "...", "./a", "/", "~/", "<p>", "1", "1.5", "x:", "#",
        "/*", "*/", "\n", " ", "\t", "\r", "é",
    ]), 0..40)) {
        let src: String = toks.concat();
        let mut map = SourceMap::new();
        let file = map.add(Origin::String, src.into_bytes());
        let mut names = Interner::new();
        if let Err(e) = parse_and_check(&map, file, &mut names, &ParseOptions::new("/")) {
            let _ = e.render(&map);
        }
    }
}
