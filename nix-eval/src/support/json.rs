//! JSON for `builtins.fromJSON` and `builtins.toJSON`, matching CppNix 2.8.
//!
//! CppNix 2.8 parses JSON with the nlohmann/json library (3.x). [`parse`] reimplements that
//! library's lexer and parser closely enough to accept and reject the same texts, convert
//! numbers the same way, and produce the same error messages, byte for byte:
//!
//! * numbers without `.`/`e`/`E` that fit in `u64` (non-negative) or `i64` (negative) are
//!   integers; a `u64` above `i64::MAX` wraps (`12345678901234567890` →
//!   `-6101065172474983726`), as CppNix stores it in its 64-bit signed integer; any other
//!   number is a float (`-12345678901234567890` → `-1.23457e+19`, `1.0` → float 1), and a float
//!   that overflows to infinity is an error (`number overflow parsing '1e400'`);
//! * strings must be valid UTF-8, control characters must be escaped, `\uXXXX` escapes
//!   (including surrogate pairs) become UTF-8; `\u0000` yields a NUL byte (CppNix then cuts its
//!   string at that byte, which is the caller's business);
//! * objects keep every member in document order, duplicates included: CppNix keeps the last
//!   one ([`JsonValue::Object`] lets the caller apply that rule);
//! * a UTF-8 byte order mark at the very start is skipped; nothing but whitespace may follow
//!   the value.
//!
//! Errors render like nlohmann's `what()`, e.g.
//! `[json.exception.parse_error.101] parse error at line 1, column 4: syntax error while parsing
//! value - unexpected end of input; expected '[', '{', or a literal`, which CppNix prints after
//! `error: `.
//!
//! For `toJSON`, [`escape_string`] writes a string the way CppNix 2.8's own JSON writer does,
//! and [`format_float`] formats a float like its `std::ostream` (six significant digits).
//! The parser never recurses, so deeply nested input cannot overflow the stack.

use super::float::format_g;

/// A parsed JSON document, as a generic tree.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonValue {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer (already wrapped to 64 bits as CppNix does).
    Int(i64),
    /// A floating-point number (finite).
    Float(f64),
    /// A string, as UTF-8 bytes (may contain NUL from `\u0000`).
    String(Vec<u8>),
    /// An array.
    Array(Vec<JsonValue>),
    /// An object: members in document order, duplicate keys kept (CppNix: last one wins).
    Object(Vec<(Vec<u8>, JsonValue)>),
}

/// A `fromJSON` failure; its `Display` is the exact text CppNix 2.8 prints after `error: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// A syntax error (nlohmann `parse_error.101`).
    #[error(
        "[json.exception.parse_error.101] parse error at line {line}, column {column}: {}",
        String::from_utf8_lossy(message)
    )]
    Syntax {
        /// 1-based line of the position where the error was found.
        line: usize,
        /// Characters read on that line (nlohmann's column, 0 right after a newline).
        column: usize,
        /// Byte offset (characters read in total).
        offset: usize,
        /// The message after the position, e.g. `syntax error while parsing value - …`; raw
        /// bytes, since the "last read" part quotes the input as is.
        message: Vec<u8>,
    },
    /// A number too large for a double (nlohmann `out_of_range.406`).
    #[error("[json.exception.out_of_range.406] number overflow parsing '{token}'")]
    NumberOverflow {
        /// The number as written.
        token: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    True,
    False,
    Null,
    Str,
    Unsigned,
    Integer,
    Float,
    BeginArray,
    BeginObject,
    EndArray,
    EndObject,
    NameSep,
    ValueSep,
    ParseError,
    EndOfInput,
    /// Only used as an "expected" marker.
    LiteralOrValue,
    /// Only used as an "expected" marker meaning "nothing".
    Uninitialized,
}

fn token_name(t: Token) -> &'static str {
    match t {
        Token::Uninitialized => "<uninitialized>",
        Token::True => "true literal",
        Token::False => "false literal",
        Token::Null => "null literal",
        Token::Str => "string literal",
        Token::Unsigned | Token::Integer | Token::Float => "number literal",
        Token::BeginArray => "'['",
        Token::BeginObject => "'{'",
        Token::EndArray => "']'",
        Token::EndObject => "'}'",
        Token::NameSep => "':'",
        Token::ValueSep => "','",
        Token::ParseError => "<parse error>",
        Token::EndOfInput => "end of input",
        Token::LiteralOrValue => "'[', '{', or a literal",
    }
}

const CONTROL_NAMES: [&str; 32] = [
    "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR",
    "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC",
    "FS", "GS", "RS", "US",
];

/// The lexer, tracking positions and the "last read" text exactly as nlohmann does.
struct Lexer<'a> {
    input: &'a [u8],
    /// Index of the next byte to read.
    next: usize,
    /// The current character (`None` = end of input).
    current: Option<u8>,
    next_unget: bool,
    chars_read_total: usize,
    chars_read_current_line: usize,
    lines_read: usize,
    token_string: Vec<u8>,
    token_buffer: Vec<u8>,
    error_message: &'static str,
    /// Owned message for control-character errors.
    error_owned: Option<String>,
    value_unsigned: u64,
    value_integer: i64,
    value_float: f64,
}

impl<'a> Lexer<'a> {
    fn new(input: &'a [u8]) -> Self {
        Lexer {
            input,
            next: 0,
            current: None,
            next_unget: false,
            chars_read_total: 0,
            chars_read_current_line: 0,
            lines_read: 0,
            token_string: Vec::new(),
            token_buffer: Vec::new(),
            error_message: "",
            error_owned: None,
            value_unsigned: 0,
            value_integer: 0,
            value_float: 0.0,
        }
    }

    fn get(&mut self) -> Option<u8> {
        self.chars_read_total += 1;
        self.chars_read_current_line += 1;
        if self.next_unget {
            self.next_unget = false;
        } else {
            self.current = self.input.get(self.next).copied();
            if self.current.is_some() {
                self.next += 1;
            }
        }
        if let Some(c) = self.current {
            self.token_string.push(c);
            if c == b'\n' {
                self.lines_read += 1;
                self.chars_read_current_line = 0;
            }
        }
        self.current
    }

    fn unget(&mut self) {
        self.next_unget = true;
        self.chars_read_total -= 1;
        if self.chars_read_current_line == 0 {
            if self.lines_read > 0 {
                self.lines_read -= 1;
            }
        } else {
            self.chars_read_current_line -= 1;
        }
        if self.current.is_some() {
            self.token_string.pop();
        }
    }

    fn reset(&mut self) {
        self.token_buffer.clear();
        self.token_string.clear();
        if let Some(c) = self.current {
            self.token_string.push(c);
        }
    }

    fn fail(&mut self, msg: &'static str) -> Token {
        self.error_message = msg;
        self.error_owned = None;
        Token::ParseError
    }

    fn error_text(&self) -> String {
        match &self.error_owned {
            Some(s) => s.clone(),
            None => self.error_message.to_string(),
        }
    }

    /// The "last read" text, with control characters shown as `<U+XXXX>`.
    fn token_string_display(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.token_string.len());
        for &c in &self.token_string {
            if c <= 0x1f {
                out.extend_from_slice(format!("<U+{c:04X}>").as_bytes());
            } else {
                out.push(c);
            }
        }
        out
    }

    fn skip_bom(&mut self) -> bool {
        if self.get() == Some(0xef) {
            return self.get() == Some(0xbb) && self.get() == Some(0xbf);
        }
        self.unget();
        true
    }

    fn scan(&mut self) -> Token {
        if self.chars_read_total == 0 && !self.skip_bom() {
            return self.fail("invalid BOM; must be 0xEF 0xBB 0xBF if given");
        }
        loop {
            self.get();
            if !matches!(self.current, Some(b' ' | b'\t' | b'\n' | b'\r')) {
                break;
            }
        }
        match self.current {
            Some(b'[') => Token::BeginArray,
            Some(b']') => Token::EndArray,
            Some(b'{') => Token::BeginObject,
            Some(b'}') => Token::EndObject,
            Some(b':') => Token::NameSep,
            Some(b',') => Token::ValueSep,
            Some(b't') => self.scan_literal(b"true", Token::True),
            Some(b'f') => self.scan_literal(b"false", Token::False),
            Some(b'n') => self.scan_literal(b"null", Token::Null),
            Some(b'"') => self.scan_string(),
            Some(b'-' | b'0'..=b'9') => self.scan_number(),
            None => Token::EndOfInput,
            Some(_) => self.fail("invalid literal"),
        }
    }

    fn scan_literal(&mut self, text: &[u8], token: Token) -> Token {
        for &want in &text[1..] {
            if self.get() != Some(want) {
                return self.fail("invalid literal");
            }
        }
        token
    }

    /// Reads four hex digits; `None` if one is not a hex digit.
    fn get_codepoint(&mut self) -> Option<u32> {
        let mut cp = 0u32;
        for _ in 0..4 {
            let d = match self.get() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return None,
            };
            cp = cp * 16 + u32::from(d);
        }
        Some(cp)
    }

    fn push_utf8(&mut self, cp: u32) {
        let c = char::from_u32(cp).expect("surrogates were combined before encoding");
        let mut buf = [0u8; 4];
        self.token_buffer
            .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }

    /// Reads one more byte and checks it lies in `lo..=hi`.
    fn next_in_range(&mut self, lo: u8, hi: u8) -> bool {
        match self.get() {
            Some(c) if (lo..=hi).contains(&c) => {
                self.token_buffer.push(c);
                true
            }
            _ => false,
        }
    }

    fn scan_string(&mut self) -> Token {
        self.reset();
        loop {
            let Some(c) = self.get() else {
                return self.fail("invalid string: missing closing quote");
            };
            match c {
                b'"' => return Token::Str,
                b'\\' => match self.get() {
                    Some(b'"') => self.token_buffer.push(b'"'),
                    Some(b'\\') => self.token_buffer.push(b'\\'),
                    Some(b'/') => self.token_buffer.push(b'/'),
                    Some(b'b') => self.token_buffer.push(0x08),
                    Some(b'f') => self.token_buffer.push(0x0c),
                    Some(b'n') => self.token_buffer.push(b'\n'),
                    Some(b'r') => self.token_buffer.push(b'\r'),
                    Some(b't') => self.token_buffer.push(b'\t'),
                    Some(b'u') => {
                        let Some(cp1) = self.get_codepoint() else {
                            return self
                                .fail("invalid string: '\\u' must be followed by 4 hex digits");
                        };
                        let cp = if (0xd800..=0xdbff).contains(&cp1) {
                            if self.get() == Some(b'\\') && self.get() == Some(b'u') {
                                let Some(cp2) = self.get_codepoint() else {
                                    return self.fail(
                                        "invalid string: '\\u' must be followed by 4 hex digits",
                                    );
                                };
                                if !(0xdc00..=0xdfff).contains(&cp2) {
                                    return self.fail("invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF");
                                }
                                0x10000 + ((cp1 - 0xd800) << 10) + (cp2 - 0xdc00)
                            } else {
                                return self.fail("invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF");
                            }
                        } else if (0xdc00..=0xdfff).contains(&cp1) {
                            return self.fail(
                                "invalid string: surrogate U+DC00..U+DFFF must follow U+D800..U+DBFF",
                            );
                        } else {
                            cp1
                        };
                        self.push_utf8(cp);
                    }
                    _ => return self.fail("invalid string: forbidden character after backslash"),
                },
                0x00..=0x1f => {
                    let name = CONTROL_NAMES[usize::from(c)];
                    let alt = match c {
                        0x08 => " or \\b",
                        0x09 => " or \\t",
                        0x0a => " or \\n",
                        0x0c => " or \\f",
                        0x0d => " or \\r",
                        _ => "",
                    };
                    self.error_owned = Some(format!(
                        "invalid string: control character U+{c:04X} ({name}) must be escaped to \\u{c:04X}{alt}"
                    ));
                    return Token::ParseError;
                }
                0x20..=0x7f => self.token_buffer.push(c),
                _ => {
                    self.token_buffer.push(c);
                    let ok = match c {
                        0xc2..=0xdf => self.next_in_range(0x80, 0xbf),
                        0xe0 => self.next_in_range(0xa0, 0xbf) && self.next_in_range(0x80, 0xbf),
                        0xe1..=0xec | 0xee..=0xef => {
                            self.next_in_range(0x80, 0xbf) && self.next_in_range(0x80, 0xbf)
                        }
                        0xed => self.next_in_range(0x80, 0x9f) && self.next_in_range(0x80, 0xbf),
                        0xf0 => {
                            self.next_in_range(0x90, 0xbf)
                                && self.next_in_range(0x80, 0xbf)
                                && self.next_in_range(0x80, 0xbf)
                        }
                        0xf1..=0xf3 => {
                            self.next_in_range(0x80, 0xbf)
                                && self.next_in_range(0x80, 0xbf)
                                && self.next_in_range(0x80, 0xbf)
                        }
                        0xf4 => {
                            self.next_in_range(0x80, 0x8f)
                                && self.next_in_range(0x80, 0xbf)
                                && self.next_in_range(0x80, 0xbf)
                        }
                        _ => false,
                    };
                    if !ok {
                        return self.fail("invalid string: ill-formed UTF-8 byte");
                    }
                }
            }
        }
    }

    fn add_current(&mut self) {
        if let Some(c) = self.current {
            self.token_buffer.push(c);
        }
    }

    fn scan_number(&mut self) -> Token {
        #[derive(Clone, Copy)]
        enum St {
            Minus,
            Zero,
            Any1,
            Decimal1,
            Decimal2,
            Exponent,
            Sign,
            Any2,
        }
        self.reset();
        let mut kind = Token::Unsigned;
        let mut st = match self.current {
            Some(b'-') => St::Minus,
            Some(b'0') => St::Zero,
            _ => St::Any1,
        };
        self.add_current();
        loop {
            let c = self.get();
            st = match (st, c) {
                (St::Minus, Some(b'0')) => {
                    kind = Token::Integer;
                    St::Zero
                }
                (St::Minus, Some(b'1'..=b'9')) => {
                    kind = Token::Integer;
                    St::Any1
                }
                (St::Minus, _) => return self.fail("invalid number; expected digit after '-'"),
                (St::Zero | St::Any1, Some(b'.')) => St::Decimal1,
                (St::Any1, Some(b'0'..=b'9')) => St::Any1,
                (St::Zero | St::Any1 | St::Decimal2, Some(b'e' | b'E')) => St::Exponent,
                (St::Decimal1 | St::Decimal2, Some(b'0'..=b'9')) => St::Decimal2,
                (St::Decimal1, _) => return self.fail("invalid number; expected digit after '.'"),
                (St::Exponent, Some(b'+' | b'-')) => St::Sign,
                (St::Exponent | St::Sign | St::Any2, Some(b'0'..=b'9')) => St::Any2,
                (St::Exponent, _) => {
                    return self.fail("invalid number; expected '+', '-', or digit after exponent")
                }
                (St::Sign, _) => {
                    return self.fail("invalid number; expected digit after exponent sign")
                }
                (St::Zero | St::Any1 | St::Decimal2 | St::Any2, _) => break,
            };
            if matches!(st, St::Decimal1 | St::Exponent) {
                kind = Token::Float;
            }
            self.add_current();
        }
        self.unget();
        let text = std::str::from_utf8(&self.token_buffer)
            .expect("number tokens hold only ASCII digits, signs, '.', 'e' and 'E'");
        match kind {
            Token::Unsigned => {
                if let Ok(u) = text.parse::<u64>() {
                    self.value_unsigned = u;
                    return Token::Unsigned;
                }
            }
            Token::Integer => {
                if let Ok(i) = text.parse::<i64>() {
                    self.value_integer = i;
                    return Token::Integer;
                }
            }
            _ => {}
        }
        // Like strtod: correctly rounded, overflow to infinity (checked by the parser).
        self.value_float = text.parse::<f64>().unwrap_or(f64::INFINITY);
        Token::Float
    }
}

enum Frame {
    Array(Vec<JsonValue>),
    Object(Vec<(Vec<u8>, JsonValue)>, Vec<u8>),
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    last: Token,
}

impl Parser<'_> {
    fn next_token(&mut self) -> Token {
        self.last = self.lexer.scan();
        self.last
    }

    fn error(&self, expected: Token, context: &str) -> JsonError {
        let mut msg = Vec::new();
        msg.extend_from_slice(b"syntax error ");
        if !context.is_empty() {
            msg.extend_from_slice(format!("while parsing {context} ").as_bytes());
        }
        msg.extend_from_slice(b"- ");
        if self.last == Token::ParseError {
            msg.extend_from_slice(self.lexer.error_text().as_bytes());
            msg.extend_from_slice(b"; last read: '");
            msg.extend_from_slice(&self.lexer.token_string_display());
            msg.push(b'\'');
        } else {
            msg.extend_from_slice(format!("unexpected {}", token_name(self.last)).as_bytes());
        }
        if expected != Token::Uninitialized {
            msg.extend_from_slice(format!("; expected {}", token_name(expected)).as_bytes());
        }
        JsonError::Syntax {
            line: self.lexer.lines_read + 1,
            column: self.lexer.chars_read_current_line,
            offset: self.lexer.chars_read_total,
            message: msg,
        }
    }

    fn take_string(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.lexer.token_buffer)
    }

    /// Parses one value (iteratively), starting at the current token.
    fn parse_value(&mut self) -> Result<JsonValue, JsonError> {
        let mut stack: Vec<Frame> = Vec::new();
        loop {
            // Parse a scalar or open a container, producing a complete value or continuing.
            let mut value = match self.last {
                Token::BeginObject => {
                    if self.next_token() == Token::EndObject {
                        Some(JsonValue::Object(Vec::new()))
                    } else {
                        if self.last != Token::Str {
                            return Err(self.error(Token::Str, "object key"));
                        }
                        let key = self.take_string();
                        if self.next_token() != Token::NameSep {
                            return Err(self.error(Token::NameSep, "object separator"));
                        }
                        stack.push(Frame::Object(Vec::new(), key));
                        self.next_token();
                        None
                    }
                }
                Token::BeginArray => {
                    if self.next_token() == Token::EndArray {
                        Some(JsonValue::Array(Vec::new()))
                    } else {
                        stack.push(Frame::Array(Vec::new()));
                        None
                    }
                }
                Token::Float => {
                    let f = self.lexer.value_float;
                    if !f.is_finite() {
                        return Err(JsonError::NumberOverflow {
                            token: String::from_utf8_lossy(&self.lexer.token_string).into_owned(),
                        });
                    }
                    Some(JsonValue::Float(f))
                }
                Token::False => Some(JsonValue::Bool(false)),
                Token::True => Some(JsonValue::Bool(true)),
                Token::Null => Some(JsonValue::Null),
                Token::Integer => Some(JsonValue::Int(self.lexer.value_integer)),
                // CppNix stores the unsigned value in its signed integer: wraps.
                Token::Unsigned => Some(JsonValue::Int(self.lexer.value_unsigned as i64)),
                Token::Str => Some(JsonValue::String(self.take_string())),
                Token::ParseError => return Err(self.error(Token::Uninitialized, "value")),
                _ => return Err(self.error(Token::LiteralOrValue, "value")),
            };
            // Attach finished values to their parents, closing containers as they end.
            while let Some(v) = value.take() {
                let Some(frame) = stack.last_mut() else {
                    return Ok(v);
                };
                match frame {
                    Frame::Array(items) => {
                        items.push(v);
                        if self.next_token() == Token::ValueSep {
                            self.next_token();
                        } else if self.last == Token::EndArray {
                            if let Some(Frame::Array(items)) = stack.pop() {
                                value = Some(JsonValue::Array(items));
                            }
                        } else {
                            return Err(self.error(Token::EndArray, "array"));
                        }
                    }
                    Frame::Object(members, key) => {
                        members.push((std::mem::take(key), v));
                        if self.next_token() == Token::ValueSep {
                            if self.next_token() != Token::Str {
                                return Err(self.error(Token::Str, "object key"));
                            }
                            let k = self.take_string();
                            if let Some(Frame::Object(_, key)) = stack.last_mut() {
                                *key = k;
                            }
                            if self.next_token() != Token::NameSep {
                                return Err(self.error(Token::NameSep, "object separator"));
                            }
                            self.next_token();
                        } else if self.last == Token::EndObject {
                            if let Some(Frame::Object(members, _)) = stack.pop() {
                                value = Some(JsonValue::Object(members));
                            }
                        } else {
                            return Err(self.error(Token::EndObject, "object"));
                        }
                    }
                }
            }
        }
    }
}

impl JsonError {
    /// The exact bytes CppNix prints after `error: ` (`Display` replaces invalid UTF-8 in the
    /// quoted input with U+FFFD; this does not).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            JsonError::Syntax {
                line,
                column,
                message,
                ..
            } => {
                let mut out = format!(
                    "[json.exception.parse_error.101] parse error at line {line}, column {column}: "
                )
                .into_bytes();
                out.extend_from_slice(message);
                out
            }
            JsonError::NumberOverflow { .. } => self.to_string().into_bytes(),
        }
    }
}

/// Parses a JSON text as CppNix 2.8's `builtins.fromJSON` does.
///
/// # Errors
/// [`JsonError`] with nlohmann's message for any syntax error or float overflow.
///
/// # Example
/// ```
/// use nix_eval::support::json::{parse, JsonValue};
/// let v = parse(br#"{"a": [1, 2.5, "\u00e9"], "a": null}"#)?;
/// assert_eq!(
///     v,
///     JsonValue::Object(vec![
///         (b"a".to_vec(), JsonValue::Array(vec![
///             JsonValue::Int(1),
///             JsonValue::Float(2.5),
///             JsonValue::String("é".as_bytes().to_vec()),
///         ])),
///         (b"a".to_vec(), JsonValue::Null),
///     ])
/// );
/// let err = parse(b"[1,").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "[json.exception.parse_error.101] parse error at line 1, column 4: syntax error while \
///      parsing value - unexpected end of input; expected '[', '{', or a literal"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse(input: &[u8]) -> Result<JsonValue, JsonError> {
    let mut p = Parser {
        lexer: Lexer::new(input),
        last: Token::Uninitialized,
    };
    p.next_token();
    let v = p.parse_value()?;
    if p.next_token() != Token::EndOfInput {
        return Err(p.error(Token::EndOfInput, "value"));
    }
    Ok(v)
}

/// Appends `s` as a JSON string literal (with quotes) the way CppNix 2.8's `toJSON` writes
/// it: `"` and `\` are backslash-escaped, `\n` `\r` `\t` use their short escapes, other bytes
/// below 0x20 become `\u00xx` (lowercase hex), and every other byte, non-ASCII included, is
/// copied raw.
///
/// # Example
/// ```
/// use nix_eval::support::json::escape_string;
/// let mut out = Vec::new();
/// escape_string(&mut out, b"a\"b\\\n\x01\x1b\x7f\xc3\xa9");
/// assert_eq!(out, b"\"a\\\"b\\\\\\n\\u0001\\u001b\x7f\xc3\xa9\"");
/// ```
pub fn escape_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' | b'\\' => {
                out.push(b'\\');
                out.push(c);
            }
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
            _ => out.push(c),
        }
    }
    out.push(b'"');
}

/// Formats a float for `toJSON` as CppNix 2.8 does (`%g`, six significant digits; `inf`,
/// `-nan` are written as such, which is not valid JSON, but is what 2.8 prints).
///
/// # Example
/// ```
/// use nix_eval::support::json::format_float;
/// assert_eq!(format_float(123456789.123), "1.23457e+08");
/// assert_eq!(format_float(1.0), "1");
/// ```
pub fn format_float(x: f64) -> String {
    format_g(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn err(s: &str) -> String {
        match parse(s.as_bytes()) {
            Ok(v) => format!("ok {v:?}"),
            Err(e) => e.to_string(),
        }
    }

    const P: &str = "[json.exception.parse_error.101] parse error at ";

    /// Messages observed with `builtins.fromJSON` in CppNix 2.8.
    #[test]
    fn errors_match_cppnix() {
        let cases: &[(&[u8], &str)] = &[
            (b"[1,", "line 1, column 4: syntax error while parsing value - unexpected end of input; expected '[', '{', or a literal"),
            (b"", "line 1, column 1: syntax error while parsing value - unexpected end of input; expected '[', '{', or a literal"),
            (b"1 2", "line 1, column 3: syntax error while parsing value - unexpected number literal; expected end of input"),
            (b"[1,]", "line 1, column 4: syntax error while parsing value - unexpected ']'; expected '[', '{', or a literal"),
            (b"{\"a\":1,}", "line 1, column 8: syntax error while parsing object key - unexpected '}'; expected string literal"),
            (b"01", "line 1, column 2: syntax error while parsing value - unexpected number literal; expected end of input"),
            (b".5", "line 1, column 1: syntax error while parsing value - invalid literal; last read: '.'"),
            (b"1.", "line 1, column 3: syntax error while parsing value - invalid number; expected digit after '.'; last read: '1.'"),
            (b"\"\\ud83d\"", "line 1, column 8: syntax error while parsing value - invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF; last read: '\"\\ud83d\"'"),
            (b"\"\\x\"", "line 1, column 3: syntax error while parsing value - invalid string: forbidden character after backslash; last read: '\"\\x'"),
            (b"tru", "line 1, column 4: syntax error while parsing value - invalid literal; last read: 'tru'"),
            (b"nul", "line 1, column 4: syntax error while parsing value - invalid literal; last read: 'nul'"),
            (b"NaN", "line 1, column 1: syntax error while parsing value - invalid literal; last read: 'N'"),
            (b"\"a", "line 1, column 3: syntax error while parsing value - invalid string: missing closing quote; last read: '\"a'"),
            (b"{\"a\" 1}", "line 1, column 6: syntax error while parsing object separator - unexpected number literal; expected ':'"),
            (b"[1 2]", "line 1, column 4: syntax error while parsing array - unexpected number literal; expected ']'"),
            (b"-", "line 1, column 2: syntax error while parsing value - invalid number; expected digit after '-'; last read: '-'"),
            (b"\"tab\t\"", "line 1, column 5: syntax error while parsing value - invalid string: control character U+0009 (HT) must be escaped to \\u0009 or \\t; last read: '\"tab<U+0009>'"),
            (b"\"\\uDC00\"", "line 1, column 7: syntax error while parsing value - invalid string: surrogate U+DC00..U+DFFF must follow U+D800..U+DBFF; last read: '\"\\uDC00'"),
            (b"{1:2}", "line 1, column 2: syntax error while parsing object key - unexpected number literal; expected string literal"),
            (b"[", "line 1, column 2: syntax error while parsing value - unexpected end of input; expected '[', '{', or a literal"),
            (b"{", "line 1, column 2: syntax error while parsing object key - unexpected end of input; expected string literal"),
            (b"\"\\u12\"", "line 1, column 6: syntax error while parsing value - invalid string: '\\u' must be followed by 4 hex digits; last read: '\"\\u12\"'"),
            (b"123abc", "line 1, column 4: syntax error while parsing value - invalid literal; last read: '123a'; expected end of input"),
            (b"[1] x", "line 1, column 5: syntax error while parsing value - invalid literal; last read: '1] x'; expected end of input"),
            (b"[1,\n 2,\n x]", "line 3, column 2: syntax error while parsing value - invalid literal; last read: '2,<U+000A> x'"),
        ];
        for &(input, want) in cases {
            let got = parse(input).map_err(|e| e.to_string());
            assert_eq!(
                got,
                Err(format!("{P}{want}")),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        assert_eq!(
            err("1e400"),
            "[json.exception.out_of_range.406] number overflow parsing '1e400'"
        );
        // raw bytes: bad UTF-8 and a broken BOM
        let e = parse(b"\"\xc3\"").map_err(|e| e.to_string());
        assert_eq!(e, Err(format!("{P}line 1, column 3: syntax error while parsing value - invalid string: ill-formed UTF-8 byte; last read: '\"\u{FFFD}\"'")));
        let e = parse(b"\"\xc3\"").map_err(|e| e.to_bytes());
        assert_eq!(e, Err([P.as_bytes(), b"line 1, column 3: syntax error while parsing value - invalid string: ill-formed UTF-8 byte; last read: '\"\xc3\"'"].concat()));
        let e = parse(b"\xef\xbb[1]").map_err(|e| e.to_bytes());
        assert_eq!(e, Err([P.as_bytes(), b"line 1, column 3: syntax error while parsing value - invalid BOM; must be 0xEF 0xBB 0xBF if given; last read: '\xef\xbb['"].concat()));
        let e = parse(b"\xef\xbb[1]").map_err(|e| e.to_string());
        assert_eq!(e, Err(format!("{P}line 1, column 3: syntax error while parsing value - invalid BOM; must be 0xEF 0xBB 0xBF if given; last read: '\u{FFFD}['")));
    }

    #[test]
    fn values_match_cppnix() {
        use JsonValue::*;
        let cases: &[(&str, JsonValue)] = &[
            ("12345678901234567890", Int(-6101065172474983726)),
            ("-12345678901234567890", Float(-12345678901234567890.0)),
            ("99999999999999999999999", Float(1e23)),
            ("18446744073709551616", Float(18446744073709551616.0)),
            ("9223372036854775807", Int(i64::MAX)),
            ("9223372036854775808", Int(i64::MIN)),
            ("1.0", Float(1.0)),
            ("1e2", Float(100.0)),
            ("1E2", Float(100.0)),
            ("-0", Int(0)),
            ("0.1e-2", Float(0.001)),
            ("-1.5E+3", Float(-1500.0)),
            ("1e-400", Float(0.0)),
            (
                "\"\\u00e9\\ud83d\\ude00\"",
                String("é😀".as_bytes().to_vec()),
            ),
            ("\"\\u0000\"", String(vec![0])),
            ("\"\\/\\b\\f\"", String(b"/\x08\x0c".to_vec())),
            (" [ 1 , 2 ] ", Array(vec![Int(1), Int(2)])),
            (
                "{\"a\":1,\"a\":2}",
                Object(vec![(b"a".to_vec(), Int(1)), (b"a".to_vec(), Int(2))]),
            ),
            (
                "{\"a\":{\"b\":[null,true,false]}}",
                Object(vec![(
                    b"a".to_vec(),
                    Object(vec![(
                        b"b".to_vec(),
                        Array(vec![Null, Bool(true), Bool(false)]),
                    )]),
                )]),
            ),
            ("\u{feff}[1]", Array(vec![Int(1)])),
            ("[[],{}]", Array(vec![Array(vec![]), Object(vec![])])),
        ];
        for (input, want) in cases {
            assert_eq!(parse(input.as_bytes()).as_ref(), Ok(want), "{input:?}");
        }
        // "-0.0" is a negative zero float
        assert!(matches!(parse(b"-0.0"), Ok(Float(f)) if f == 0.0 && f.is_sign_negative()));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let mut s = "[".repeat(5_000);
        s.push_str(&"]".repeat(5_000));
        assert!(parse(s.as_bytes()).is_ok());
    }

    #[test]
    fn escape_matches_cppnix() {
        let mut out = Vec::new();
        escape_string(&mut out, b"a\"b\\c\nd\re\tf\x1b\x01\x7f\xc3\xa9/\x08\x0c");
        assert_eq!(
            out,
            b"\"a\\\"b\\\\c\\nd\\re\\tf\\u001b\\u0001\x7f\xc3\xa9/\\u0008\\u000c\"".to_vec()
        );
        assert_eq!(format_float(1e20), "1e+20");
        assert_eq!(format_float(100000.0), "100000");
        assert_eq!(format_float(1000000.0), "1e+06");
    }

    fn arb_json() -> impl Strategy<Value = JsonValue> {
        let leaf = prop_oneof![
            Just(JsonValue::Null),
            any::<bool>().prop_map(JsonValue::Bool),
            any::<i64>().prop_map(JsonValue::Int),
            (-1e300f64..1e300).prop_map(JsonValue::Float),
            proptest::collection::vec(any::<u8>(), 0..8).prop_map(|b| JsonValue::String(
                String::from_utf8_lossy(&b).into_owned().into_bytes()
            )),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(JsonValue::Array),
                proptest::collection::vec(("[a-z]{0,3}", inner), 0..4).prop_map(|m| {
                    JsonValue::Object(m.into_iter().map(|(k, v)| (k.into_bytes(), v)).collect())
                }),
            ]
        })
    }

    fn write(out: &mut Vec<u8>, v: &JsonValue) {
        match v {
            JsonValue::Null => out.extend_from_slice(b"null"),
            JsonValue::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            JsonValue::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
            // full precision here so the round trip is exact
            JsonValue::Float(f) => out.extend_from_slice(format!("{f:e}").as_bytes()),
            JsonValue::String(s) => escape_string(out, s),
            JsonValue::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write(out, item);
                }
                out.push(b']');
            }
            JsonValue::Object(members) => {
                out.push(b'{');
                for (i, (k, item)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    escape_string(out, k);
                    out.push(b':');
                    write(out, item);
                }
                out.push(b'}');
            }
        }
    }

    proptest! {
        #[test]
        fn print_then_parse_round_trips(v in arb_json()) {
            let mut text = Vec::new();
            write(&mut text, &v);
            prop_assert_eq!(parse(&text), Ok(v));
        }

        #[test]
        fn never_panics(input in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse(&input);
        }
    }
}
