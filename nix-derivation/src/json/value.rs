//! A small JSON reader over bytes.
//!
//! CppNix 2.8 writes strings byte for byte (escaping only `"`, `\`, and control bytes), so its
//! JSON may hold bytes that are not UTF-8. This reader keeps such bytes as they are, decodes
//! the standard escapes (with `\uXXXX` to UTF-8), and limits nesting depth.

use super::JsonError;

/// The deepest nesting accepted (a derivation needs 4).
const MAX_DEPTH: usize = 64;

/// A JSON value. Object members keep their order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    /// The number's text.
    Number(Vec<u8>),
    String(Vec<u8>),
    Array(Vec<(usize, Value)>),
    /// Members with the offset of their key.
    Object(Vec<(usize, Vec<u8>, Value)>),
}

impl Value {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

/// Parses one JSON document (surrounding whitespace allowed).
pub(crate) fn parse(input: &[u8]) -> Result<(usize, Value), JsonError> {
    let mut p = Parser { input, pos: 0 };
    p.ws();
    let start = p.pos;
    let v = p.value(0)?;
    p.ws();
    if p.pos != input.len() {
        return Err(p.err("end of input"));
    }
    Ok((start, v))
}

struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, expected: &'static str) -> JsonError {
        JsonError::Syntax {
            offset: self.pos,
            expected,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn literal(&mut self, lit: &'static str, v: Value) -> Result<Value, JsonError> {
        if self.input[self.pos..].starts_with(lit.as_bytes()) {
            self.pos += lit.len();
            Ok(v)
        } else {
            Err(self.err("a JSON value"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        if depth > MAX_DEPTH {
            return Err(JsonError::TooDeep { offset: self.pos });
        }
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.err("a JSON value")),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        if self.digits() == 0 {
            return Err(self.err("a digit"));
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.err("a digit"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("a digit"));
            }
        }
        Ok(Value::Number(self.input[start..self.pos].to_vec()))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.err("a hex digit")),
            };
            v = v * 16 + u32::from(d);
            self.pos += 1;
        }
        Ok(v)
    }

    fn string(&mut self) -> Result<Vec<u8>, JsonError> {
        // The caller saw the opening quote.
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                return Err(self.err("'\"'"));
            };
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.pos += 1;
                    let e = self.peek().ok_or_else(|| self.err("an escape"))?;
                    self.pos += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let at = self.pos - 2;
                            let mut c = self.hex4()?;
                            if (0xd800..0xdc00).contains(&c) {
                                if !self.input[self.pos..].starts_with(b"\\u") {
                                    return Err(JsonError::Syntax {
                                        offset: at,
                                        expected: "a low surrogate after a high surrogate",
                                    });
                                }
                                self.pos += 2;
                                let low = self.hex4()?;
                                if !(0xdc00..0xe000).contains(&low) {
                                    return Err(JsonError::Syntax {
                                        offset: at,
                                        expected: "a low surrogate after a high surrogate",
                                    });
                                }
                                c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
                            }
                            let ch = char::from_u32(c).ok_or(JsonError::Syntax {
                                offset: at,
                                expected: "a Unicode scalar value",
                            })?;
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.err("a valid escape"));
                        }
                    }
                }
                0..=0x1f => return Err(self.err("no raw control character in a string")),
                _ => {
                    // Copy a run of plain bytes.
                    let rest = &self.input[self.pos..];
                    let n = rest
                        .iter()
                        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                        .unwrap_or(rest.len());
                    out.extend_from_slice(&rest[..n]);
                    self.pos += n;
                }
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.ws();
            let at = self.pos;
            items.push((at, self.value(depth + 1)?));
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.err("',' or ']'")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.pos += 1;
        let mut members = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("a string key"));
            }
            let at = self.pos;
            let key = self.string()?;
            self.ws();
            if self.peek() != Some(b':') {
                return Err(self.err("':'"));
            }
            self.pos += 1;
            self.ws();
            let v = self.value(depth + 1)?;
            members.push((at, key, v));
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.err("',' or '}'")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[u8]) -> Value {
        parse(s).expect("valid JSON in test").1
    }

    #[test]
    fn values() {
        assert_eq!(v(b" null "), Value::Null);
        assert_eq!(v(b"true"), Value::Bool(true));
        assert_eq!(v(b"-1.5e+3"), Value::Number(b"-1.5e+3".to_vec()));
        assert_eq!(
            v(br#""a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00""#),
            Value::String("a\"\\/\u{8}\u{c}\n\r\té😀".as_bytes().to_vec())
        );
        assert_eq!(v(b"\"\xff\xfe\""), Value::String(b"\xff\xfe".to_vec()));
        assert_eq!(
            v(b"[1, []]"),
            Value::Array(vec![
                (1, Value::Number(b"1".to_vec())),
                (4, Value::Array(vec![]))
            ])
        );
        assert_eq!(
            v(br#"{"a": {}}"#),
            Value::Object(vec![(1, b"a".to_vec(), Value::Object(vec![]))])
        );
    }

    #[test]
    fn errors() {
        for (input, offset) in [
            (&b""[..], 0),
            (b"[1,]", 3),
            (b"{\"a\" 1}", 5),
            (b"\"abc", 4),
            (b"\"\\x\"", 2),
            (b"\"\\ud800\"", 1),
            (b"\"a\nb\"", 2),
            (b"1 2", 2),
            (b"-", 1),
            (b"tru", 0),
        ] {
            match parse(input) {
                Err(JsonError::Syntax { offset: o, .. }) => assert_eq!(o, offset, "{input:?}"),
                other => panic!("{input:?}: {other:?}"),
            }
        }
        let deep = "[".repeat(100);
        assert!(matches!(
            parse(deep.as_bytes()),
            Err(JsonError::TooDeep { .. })
        ));
    }
}
