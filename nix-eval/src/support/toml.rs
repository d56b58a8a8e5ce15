//! TOML for `builtins.fromTOML`.
//!
//! CppNix 2.8 parses TOML with the toml11 library and converts the result into Nix values;
//! this module parses with the `toml` crate (TOML 1.0) and produces the same generic tree as
//! [`super::json`] ([`JsonValue`]; TOML has no null, so [`JsonValue::Null`] never appears):
//! integers, floats (including `inf` and `nan`), booleans, strings, arrays (mixed types
//! allowed, as in CppNix 2.8), tables and arrays of tables. Table members come out sorted by
//! key; TOML forbids duplicate keys, so order does not matter to the caller.
//!
//! Like CppNix 2.8, any date or time value (offset date-time, local date-time, local date,
//! local time) is refused with "Dates and times are not supported", after the whole document
//! has parsed.
//!
//! # Compatibility with CppNix
//! * Error messages: ours read `while parsing a TOML string: <reason>` like CppNix's. For a
//!   key or table defined twice (`a = 1` twice in a table, `[t]` twice, `a = 1` then `[a]`,
//!   each on its own line with bare keys) and for a malformed `key = value` line (a key
//!   without `=`, `=` without a value, a token after the value) the reason is toml11's, with
//!   its `-->` source excerpt; for every other mistake it comes from the `toml` crate and
//!   differs from toml11's.
//! * Out-of-range numbers: toml11 (as built into CppNix 2.8) saturates integers to the
//!   `i64` range (`9223372036854775808` → `9223372036854775807`) and overflowing floats to
//!   the largest finite double; the `toml` crate rejects them, so [`parse`] replaces each such
//!   number by its saturated value and parses again (byte offsets in later errors then refer
//!   to the rewritten text). One difference remains: a negative float that overflows
//!   (`-1e400`) is read as `-inf` by the `toml` crate, where CppNix gives `-1.79769e+308`.
//! * A table first defined by dotted keys and then by a `[table]` header (`a.b = 1` then
//!   `[a]`) is accepted by toml11 but rejected by TOML 1.0 and the `toml` crate.

use super::json::JsonValue;

/// A `fromTOML` failure; `Display` is `while parsing a TOML string: <reason>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TomlError {
    /// The text is not valid TOML.
    #[error("while parsing a TOML string: {message}")]
    Syntax {
        /// The parser's description (from the `toml` crate).
        message: String,
        /// Byte range in the input where the problem is, when known.
        span: Option<std::ops::Range<usize>>,
    },
    /// The document contains a date or time, which CppNix 2.8 does not support.
    #[error("while parsing a TOML string: Dates and times are not supported")]
    DateTime,
}

/// Parses a TOML document as `builtins.fromTOML` does.
///
/// # Errors
/// [`TomlError::Syntax`] for invalid TOML, [`TomlError::DateTime`] for a date or time value.
///
/// # Example
/// ```
/// use nix_eval::support::{json::JsonValue, toml::parse};
/// let v = parse("a = 1\n[t]\nb = [\"x\", 2.5]\n")?;
/// assert_eq!(
///     v,
///     JsonValue::Object(vec![
///         (b"a".to_vec(), JsonValue::Int(1)),
///         (b"t".to_vec(), JsonValue::Object(vec![(
///             b"b".to_vec(),
///             JsonValue::Array(vec![JsonValue::String(b"x".to_vec()), JsonValue::Float(2.5)]),
///         )])),
///     ])
/// );
/// assert_eq!(
///     parse("d = 1979-05-27").unwrap_err().to_string(),
///     "while parsing a TOML string: Dates and times are not supported"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse(input: &str) -> Result<JsonValue, TomlError> {
    let mut doc = std::borrow::Cow::Borrowed(input);
    // Each round replaces one out-of-range number; a document has at most one per byte.
    for _ in 0..=input.len() {
        match doc.parse::<::toml::Table>() {
            Ok(table) => return convert_table(table),
            Err(e) => match saturate(&doc, &e) {
                Some(fixed) => doc = std::borrow::Cow::Owned(fixed),
                None => {
                    let message = if e.message().contains("duplicate key") {
                        duplicate_value_message(&doc)
                    } else {
                        e.span()
                            .and_then(|sp| key_value_line_message(&doc, sp.start))
                    };
                    return Err(TomlError::Syntax {
                        message: message.unwrap_or_else(|| e.message().to_string()),
                        span: e.span(),
                    });
                }
            },
        }
    }
    Err(TomlError::Syntax {
        message: "too many out-of-range numbers".to_string(),
        span: None,
    })
}

/// One `key = value` line of a document, as far as [`duplicate_value_message`] reads it.
struct KeyValueLine<'a> {
    /// 1-based line number.
    line_no: usize,
    /// The whole line.
    line: &'a str,
    /// The key as written, without spaces (`a.b`).
    key: String,
    /// Byte column where the value starts and its length.
    value_col: usize,
    value_len: usize,
}

/// The length of the value starting `v` when it ends on its line (a string, an array or
/// inline table on one line, or a bare token), else `None`.
fn one_line_value_len(v: &str) -> Option<usize> {
    let b = v.as_bytes();
    match b.first()? {
        b'"' => {
            if v.starts_with("\"\"\"") {
                return None;
            }
            let mut i = 1;
            while i < b.len() {
                match b[i] {
                    b'\\' => i += 2,
                    b'"' => return Some(i + 1),
                    _ => i += 1,
                }
            }
            None
        }
        b'\'' => {
            if v.starts_with("'''") {
                return None;
            }
            v[1..].find('\'').map(|i| i + 2)
        }
        b'[' | b'{' => {
            // brackets outside strings, on this line
            let mut depth = 0usize;
            let mut quote: Option<u8> = None;
            let mut i = 0;
            while i < b.len() {
                let c = b[i];
                match quote {
                    Some(q) if c == q => quote = None,
                    Some(b'"') if c == b'\\' => i += 1,
                    Some(_) => {}
                    None => match c {
                        b'"' | b'\'' => quote = Some(c),
                        b'[' | b'{' => depth += 1,
                        b']' | b'}' => {
                            depth = depth.checked_sub(1)?;
                            if depth == 0 {
                                return Some(i + 1);
                            }
                        }
                        b'#' => return None,
                        _ => {}
                    },
                }
                i += 1;
            }
            None
        }
        _ => Some(
            v.find(|c: char| c.is_whitespace() || c == '#' || c == ',')
                .unwrap_or(v.len()),
        ),
    }
}

/// toml11's message (CppNix 2.8) for a key defined twice by two `key = value` lines of the
/// same table, with its source excerpt:
///
/// ```text
/// [error] toml::insert_value: value ("a") already exists.
///  --> fromTOML
///    |
///  1 | a = 1
///    |     ^--- value already exists here
///  ...
///  2 | a = 2
///    |     ^--- value defined twice
/// ```
///
/// `None` for other shapes of the mistake (a table header defined twice, quoted keys,
/// values over several lines), whose toml11 messages we do not reproduce.
fn duplicate_value_message(doc: &str) -> Option<String> {
    let mut table = String::new();
    let mut seen: std::collections::HashMap<String, KeyValueLine<'_>> =
        std::collections::HashMap::new();
    let mut headers: std::collections::HashMap<String, KeyValueLine<'_>> =
        std::collections::HashMap::new();
    for (i, line) in doc.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let t = line.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if t.starts_with("[[") {
            return None;
        }
        if let Some(rest) = t.strip_prefix('[') {
            let name = rest.split(']').next()?;
            table = name.split('.').map(str::trim).collect::<Vec<_>>().join(".");
            let col = line.len() - t.len();
            let here = KeyValueLine {
                line_no: i + 1,
                line,
                key: table.clone(),
                value_col: col,
                value_len: name.len() + 2,
            };
            if let Some(first) = seen.get(&table) {
                // `a = 1` then `[a]`
                return Some(format_duplicate("value", first, &here));
            }
            match headers.get(&table) {
                Some(first) => return Some(format_duplicate("table", first, &here)),
                None => {
                    headers.insert(table.clone(), here);
                }
            }
            continue;
        }
        let (key, value) = t.split_once('=')?;
        let key: String = key.split('.').map(str::trim).collect::<Vec<_>>().join(".");
        if key.is_empty()
            || !key
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
        {
            return None;
        }
        let value_trimmed = value.trim_start();
        let value_col = line.len() - value_trimmed.len();
        let value_len = one_line_value_len(value_trimmed)?;
        let full = if table.is_empty() {
            key.clone()
        } else {
            format!("{table}.{key}")
        };
        let here = KeyValueLine {
            line_no: i + 1,
            line,
            key,
            value_col,
            value_len,
        };
        match seen.get(&full) {
            Some(first) => return Some(format_duplicate("value", first, &here)),
            None => {
                seen.insert(full, here);
            }
        }
    }
    None
}

/// toml11's message for a malformed `key = value` line, when the `toml` crate's error at byte
/// `at` is on that line: a key without `=` (`a`), `=` without a value (`a =`), or something
/// after the value (`a = 1 2`). `None` for anything else.
fn key_value_line_message(doc: &str, at: usize) -> Option<String> {
    let line_no = doc.get(..at)?.matches('\n').count() + 1;
    let line = doc.split('\n').nth(line_no - 1)?;
    let line = line.strip_suffix('\r').unwrap_or(line);
    let t = line.trim_start();
    if t.is_empty() || t.starts_with('#') || t.starts_with('[') {
        return None;
    }
    let indent = line.len() - t.len();
    let key_len = t
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        .unwrap_or(t.len());
    if key_len == 0 {
        return None;
    }
    let after_key = &t[key_len..];
    let rest = after_key.trim_start_matches([' ', '\t']);
    let one = |message: &str, col: usize, comment: &str| {
        let width = line_no.to_string().len();
        let pad = " ".repeat(width + 1);
        format!(
            "{message}\n --> fromTOML\n{pad} |\n {line_no} | {line}\n{pad} | {}^--- {comment}",
            " ".repeat(col)
        )
    };
    let Some(value) = rest.strip_prefix('=') else {
        if rest.is_empty() || rest.starts_with('#') {
            return Some(one(
                "[error] toml::parse_key_value_pair: missing key-value separator `=`",
                indent + key_len,
                "should be `=`",
            ));
        }
        return None;
    };
    let value_t = value.trim_start_matches([' ', '\t']);
    let value_col = line.len() - value_t.len();
    if value_t.is_empty() || value_t.starts_with('#') {
        return Some(one(
            "[error] toml::parse_key_value_pair: missing value after key-value separator '='",
            value_col,
            "expected value, but got nothing",
        ));
    }
    // a value on one line followed by another token
    let len = one_line_value_len(value_t)?;
    let after = &value_t[len..];
    let extra = after.trim_start_matches([' ', '\t']);
    let first = extra.chars().next()?;
    let bare = !value_t.starts_with(['"', '\'', '[', '{']);
    if first == '#'
        || (bare
            && !value_t[..len]
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'+' | b'-')))
    {
        return None;
    }
    Some(one(
        "[error] toml::parse_table: invalid line format",
        line.len() - extra.len(),
        &format!("expected newline, but got '{first}'."),
    ))
}

/// toml11's `format_underline` for the two definitions of a value or table (`what`).
fn format_duplicate(what: &str, first: &KeyValueLine<'_>, second: &KeyValueLine<'_>) -> String {
    let width = second
        .line_no
        .to_string()
        .len()
        .max(first.line_no.to_string().len());
    let pad = " ".repeat(width + 1);
    let one = |kv: &KeyValueLine<'_>, comment: &str| {
        let mark = if kv.value_len == 1 {
            "^---".to_string()
        } else {
            "~".repeat(kv.value_len.min(kv.line.len()))
        };
        format!(
            " {:>width$} | {}\n{pad} | {}{mark} {comment}",
            kv.line_no,
            kv.line,
            " ".repeat(kv.value_col)
        )
    };
    format!(
        "[error] toml::insert_value: {what} (\"{}\") already exists.\n --> fromTOML\n{pad} |\n{}\n ...\n{}",
        second.key,
        one(first, &format!("{what} already exists here")),
        one(second, &format!("{what} defined twice"))
    )
}

/// If `e` is about a number out of range, returns `doc` with that number replaced by the
/// nearest representable one, as toml11 (CppNix 2.8) reads it: integers saturate to the `i64`
/// range, floats that overflow become the largest finite double of their sign.
fn saturate(doc: &str, e: &::toml::de::Error) -> Option<String> {
    let start = e.span()?.start;
    let rest = doc.get(start..)?;
    let len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-' | '.')))
        .unwrap_or(rest.len());
    let token = &rest[..len];
    if token.is_empty() {
        return None;
    }
    let replacement = match e.message() {
        "number too large to fit in target type" => i64::MAX.to_string(),
        "number too small to fit in target type" => i64::MIN.to_string(),
        "invalid floating-point number" => {
            let digits: String = token.chars().filter(|&c| c != '_').collect();
            let all_numeric = digits
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'));
            let x: f64 = digits.parse().ok()?;
            if !all_numeric || x.is_finite() {
                return None;
            }
            format!("{:e}", f64::MAX.copysign(x))
        }
        _ => return None,
    };
    Some(format!("{}{}{}", &doc[..start], replacement, &rest[len..]))
}

fn convert_table(table: ::toml::Table) -> Result<JsonValue, TomlError> {
    let mut members = Vec::with_capacity(table.len());
    for (k, v) in table {
        members.push((k.into_bytes(), convert(v)?));
    }
    Ok(JsonValue::Object(members))
}

fn convert(v: ::toml::Value) -> Result<JsonValue, TomlError> {
    Ok(match v {
        ::toml::Value::String(s) => JsonValue::String(s.into_bytes()),
        ::toml::Value::Integer(i) => JsonValue::Int(i),
        ::toml::Value::Float(f) => JsonValue::Float(f),
        ::toml::Value::Boolean(b) => JsonValue::Bool(b),
        ::toml::Value::Datetime(_) => return Err(TomlError::DateTime),
        ::toml::Value::Array(items) => {
            JsonValue::Array(items.into_iter().map(convert).collect::<Result<_, _>>()?)
        }
        ::toml::Value::Table(t) => convert_table(t)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use JsonValue::*;

    fn obj(members: Vec<(&str, JsonValue)>) -> JsonValue {
        Object(
            members
                .into_iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v))
                .collect(),
        )
    }

    /// The document and result observed with `builtins.fromTOML` in CppNix 2.8.
    #[test]
    fn matches_cppnix() -> Result<(), TomlError> {
        let doc = r#"a = 1
b = 1.5
c = "str"
d = true
e = [1, 2, 3]
f = { x = 1, y = "z" }
k = 0xff
l = 1e10
m = inf
o = 'lit\n'
p = """multi
line"""
q = [[1, 2], ["a"]]
"quoted key" = 1
r.s.t = 2
u = 1_000
w = 0o17
[[arr]]
x = 1
[[arr]]
x = 2
[tbl]
y = 3
[tbl.sub]
z = 4
"#;
        let want = obj(vec![
            ("a", Int(1)),
            (
                "arr",
                Array(vec![obj(vec![("x", Int(1))]), obj(vec![("x", Int(2))])]),
            ),
            ("b", Float(1.5)),
            ("c", String(b"str".to_vec())),
            ("d", Bool(true)),
            ("e", Array(vec![Int(1), Int(2), Int(3)])),
            ("f", obj(vec![("x", Int(1)), ("y", String(b"z".to_vec()))])),
            ("k", Int(255)),
            ("l", Float(1e10)),
            ("m", Float(f64::INFINITY)),
            ("o", String(b"lit\\n".to_vec())),
            ("p", String(b"multi\nline".to_vec())),
            (
                "q",
                Array(vec![
                    Array(vec![Int(1), Int(2)]),
                    Array(vec![String(b"a".to_vec())]),
                ]),
            ),
            ("quoted key", Int(1)),
            ("r", obj(vec![("s", obj(vec![("t", Int(2))]))])),
            (
                "tbl",
                obj(vec![("sub", obj(vec![("z", Int(4))])), ("y", Int(3))]),
            ),
            ("u", Int(1000)),
            ("w", Int(15)),
        ]);
        assert_eq!(parse(doc)?, want);
        Ok(())
    }

    #[test]
    fn nan_and_mixed_arrays() -> Result<(), TomlError> {
        let v = parse("n = nan\na = [1, \"a\"]")?;
        let Object(members) = v else {
            panic!("a table")
        };
        assert!(matches!(members[1].1, Float(f) if f.is_nan()));
        assert_eq!(members[0].1, Array(vec![Int(1), String(b"a".to_vec())]));
        Ok(())
    }

    #[test]
    fn dates_and_errors() {
        for doc in [
            "g = 1979-05-27T07:32:00Z",
            "h = 1979-05-27",
            "i = 07:32:00",
            "j = 1979-05-27T07:32:00",
            "x = [1979-05-27]",
        ] {
            assert_eq!(parse(doc), Err(TomlError::DateTime), "{doc}");
        }
        for doc in [
            "a = ",
            "a = 1\na = 2",
            "[x]\n[x]",
            "a = \"x",
            "= 1",
            "a = 1 b = 2",
        ] {
            let e = parse(doc).unwrap_err();
            assert!(matches!(e, TomlError::Syntax { .. }), "{doc}");
            assert!(e.to_string().starts_with("while parsing a TOML string: "));
        }
    }

    /// Renders a tree like `nix-instantiate --eval --strict --json` prints it.
    fn render(v: &JsonValue, out: &mut Vec<u8>) {
        match v {
            Null => out.extend_from_slice(b"null"),
            Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
            Float(f) => out.extend_from_slice(crate::support::float::format_g(*f).as_bytes()),
            String(s) => crate::support::json::escape_string(out, s),
            Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    render(item, out);
                }
                out.push(b']');
            }
            Object(members) => {
                let mut sorted: Vec<&(Vec<u8>, JsonValue)> = members.iter().collect();
                sorted.sort_by(|a, b| a.0.cmp(&b.0));
                out.push(b'{');
                for (i, (k, item)) in sorted.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    crate::support::json::escape_string(out, k);
                    out.push(b':');
                    render(item, out);
                }
                out.push(b'}');
            }
        }
    }

    /// Documents and the `--json` output (or an error) observed with CppNix 2.8.
    #[test]
    fn malformed_key_value_lines_word_like_toml11() {
        let msg = |doc: &str| match parse(doc) {
            Err(TomlError::Syntax { message, .. }) => message,
            other => panic!("{doc}: {other:?}"),
        };
        // outputs of CppNix 2.8's fromTOML (toml11), after `while parsing a TOML string: `
        assert_eq!(
            msg("a = "),
            "[error] toml::parse_key_value_pair: missing value after key-value separator '='\n --> fromTOML\n   |\n 1 | a = \n   |     ^--- expected value, but got nothing"
        );
        assert_eq!(
            msg("a"),
            "[error] toml::parse_key_value_pair: missing key-value separator `=`\n --> fromTOML\n   |\n 1 | a\n   |  ^--- should be `=`"
        );
        assert_eq!(
            msg("a = 1 2"),
            "[error] toml::parse_table: invalid line format\n --> fromTOML\n   |\n 1 | a = 1 2\n   |       ^--- expected newline, but got '2'."
        );
    }

    #[test]
    fn duplicate_keys_word_like_toml11() {
        let msg = |doc: &str| match parse(doc) {
            Err(TomlError::Syntax { message, .. }) => message,
            other => panic!("{doc}: {other:?}"),
        };
        // outputs of CppNix 2.8's fromTOML (toml11), after `while parsing a TOML string: `
        assert_eq!(
            msg("a = \"xy\"\n\n\n\n\n\n\n\n\n\n\na = 2"),
            "[error] toml::insert_value: value (\"a\") already exists.\n --> fromTOML\n    |\n  1 | a = \"xy\"\n    |     ~~~~ value already exists here\n ...\n 12 | a = 2\n    |     ^--- value defined twice"
        );
        assert_eq!(
            msg("[t]\nb = 1\n[u]\nb = 2\n[ t ]\nb = 3"),
            "[error] toml::insert_value: table (\"t\") already exists.\n --> fromTOML\n   |\n 1 | [t]\n   | ~~~ table already exists here\n ...\n 5 | [ t ]\n   | ~~~~~ table defined twice"
        );
        assert_eq!(
            msg("a = 1\n[a]"),
            "[error] toml::insert_value: value (\"a\") already exists.\n --> fromTOML\n   |\n 1 | a = 1\n   |     ^--- value already exists here\n ...\n 2 | [a]\n   | ~~~ value defined twice"
        );
    }

    #[test]
    fn edge_cases_match_cppnix() {
        let cases: &[(&str, Option<&str>)] = &[
            ("a = 0b101", Some(r#"{"a":5}"#)),
            ("a = +inf", Some(r#"{"a":inf}"#)),
            ("a = 01", None),
            ("a = 1__0", None),
            ("a = \"\\e\"", None),
            ("a = \"\\x41\"", None),
            ("a = \"\\u00e9\\U0001F600\"", Some(r#"{"a":"é😀"}"#)),
            ("a = '''raw\\n'''", Some(r#"{"a":"raw\\n"}"#)),
            ("a = { b = 1, }", None),
            ("a = { b = 1 }\na.c = 2", None),
            (
                "[a]\nb = 1\n[a.c]\nd = 2",
                Some(r#"{"a":{"b":1,"c":{"d":2}}}"#),
            ),
            (
                "[a.c]\nd = 2\n[a]\nb = 1",
                Some(r#"{"a":{"b":1,"c":{"d":2}}}"#),
            ),
            // Known difference: CppNix 2.8 (toml11) accepts this and yields
            // {"a":{"b":1,"c":2}}; TOML 1.0 and the `toml` crate reject it.
            ("a.b = 1\n[a]\nc = 2", None),
            ("[[a]]\nb = 1\n[a]\nc = 2", None),
            ("\"é\" = 1", Some(r#"{"é":1}"#)),
            ("a = [ 1, 2, ]", Some(r#"{"a":[1,2]}"#)),
            ("a = [\n  1,\n  # comment\n  2\n]", Some(r#"{"a":[1,2]}"#)),
            ("a = 1e1_0", Some(r#"{"a":1e+10}"#)),
            ("a = 0.1e-1", Some(r#"{"a":0.01}"#)),
            ("a = -0", Some(r#"{"a":0}"#)),
            ("a = 1.", None),
            ("a = .5", None),
            (
                "a = 9223372036854775807",
                Some(r#"{"a":9223372036854775807}"#),
            ),
            (
                "a = -9223372036854775808",
                Some(r#"{"a":-9223372036854775808}"#),
            ),
            ("a = 'it''s'", None),
            ("  a   =   1   # comment", Some(r#"{"a":1}"#)),
            (
                "a = \"\"\"\nfirst newline trimmed\"\"\"",
                Some(r#"{"a":"first newline trimmed"}"#),
            ),
            ("a = {}\nb = []", Some(r#"{"a":{},"b":[]}"#)),
            (
                "[[a.b]]\nc = 1\n[[a.b]]\nc = 2",
                Some(r#"{"a":{"b":[{"c":1},{"c":2}]}}"#),
            ),
            ("a = 1\n\n[b]\n[c]", Some(r#"{"a":1,"b":{},"c":{}}"#)),
            (
                "a = 9223372036854775808",
                Some(r#"{"a":9223372036854775807}"#),
            ),
            (
                "a = -9223372036854775809",
                Some(r#"{"a":-9223372036854775808}"#),
            ),
            (
                "a = 99999999999999999999",
                Some(r#"{"a":9223372036854775807}"#),
            ),
            (
                "a = 0x7fffffffffffffff1",
                Some(r#"{"a":9223372036854775807}"#),
            ),
            ("a = 1e400", Some(r#"{"a":1.79769e+308}"#)),
            ("b = [1e400, 1_0]", Some(r#"{"b":[1.79769e+308,10]}"#)),
            // Known difference: CppNix 2.8 gives -1.79769e+308; the `toml` crate reads -inf.
            ("a = -1e400", Some(r#"{"a":-inf}"#)),
            (
                "b = [1, 99999999999999999999]",
                Some(r#"{"b":[1,9223372036854775807]}"#),
            ),
            ("a = 1e-400", Some(r#"{"a":0}"#)),
        ];
        for &(doc, want) in cases {
            let got = parse(doc).map(|v| {
                let mut out = Vec::new();
                render(&v, &mut out);
                std::string::String::from_utf8_lossy(&out).into_owned()
            });
            match want {
                Some(w) => assert_eq!(got.as_deref(), Ok(w), "{doc:?}"),
                None => assert!(
                    matches!(got, Err(TomlError::Syntax { .. })),
                    "{doc:?}: {got:?}"
                ),
            }
        }
    }
}
