//! The lexer: a hand-written, allocation-free tokenizer over bytes that produces exactly the token
//! stream of CppNix 2.8's flex scanner (longest match, rule order on ties, and its start-condition
//! stack for strings, indented strings and paths).
//!
//! Tokens carry byte ranges only; the parser decodes payloads (numbers, string escapes) from the
//! source when it builds nodes.

/// Token kinds (CppNix's bison token names in comments where they differ).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Tok {
    Id,
    Int,
    Float,
    /// A path literal (or the `a/b/` prefix of an interpolated path).
    Path,
    /// `~/…`.
    HPath,
    /// `<a/b>`.
    SPath,
    Uri,
    /// A piece of a `"…"` string (escapes not yet decoded) or of an interpolated path.
    Str,
    /// Raw text of an indented string (subject to indentation stripping).
    IndStr,
    /// A fixed piece of an indented string: `''$`/`$` → `$`, `'''` → `''`, `'` → `'`,
    /// `''\x` → escape (decoded by the parser from the token text).
    IndStrLit,
    PathEnd,
    If,
    Then,
    Else,
    Assert,
    With,
    Let,
    In,
    Rec,
    Inherit,
    OrKw,
    Ellipsis,
    Eq,
    NEq,
    Leq,
    Geq,
    And,
    Or,
    Impl,
    Update,
    Concat,
    DollarCurly,
    IndStringOpen,
    IndStringClose,
    /// A single-character token (`{`, `;`, `+`, …, and any byte CppNix has no rule for).
    Char(u8),
    Eof,
}

impl Tok {
    /// The name bison uses for the token in `unexpected …` / `expecting …`.
    pub(crate) fn bison_name(self) -> String {
        let s = match self {
            Tok::Id => "ID",
            Tok::Int => "INT",
            Tok::Float => "FLOAT",
            Tok::Path => "PATH",
            Tok::HPath => "HPATH",
            Tok::SPath => "SPATH",
            Tok::Uri => "URI",
            Tok::Str => "STR",
            Tok::IndStr | Tok::IndStrLit => "IND_STR",
            Tok::PathEnd => "PATH_END",
            Tok::If => "IF",
            Tok::Then => "THEN",
            Tok::Else => "ELSE",
            Tok::Assert => "ASSERT",
            Tok::With => "WITH",
            Tok::Let => "LET",
            Tok::In => "IN",
            Tok::Rec => "REC",
            Tok::Inherit => "INHERIT",
            Tok::OrKw => "OR_KW",
            Tok::Ellipsis => "ELLIPSIS",
            Tok::Eq => "EQ",
            Tok::NEq => "NEQ",
            Tok::Leq => "LEQ",
            Tok::Geq => "GEQ",
            Tok::And => "AND",
            Tok::Or => "OR",
            Tok::Impl => "IMPL",
            Tok::Update => "UPDATE",
            Tok::Concat => "CONCAT",
            Tok::DollarCurly => "DOLLAR_CURLY",
            Tok::IndStringOpen => "IND_STRING_OPEN",
            Tok::IndStringClose => "IND_STRING_CLOSE",
            Tok::Eof => "end of file",
            Tok::Char(c) => {
                return if b"{}()[];:,.@?=+-*/<>!\"".contains(&c) {
                    format!("'{}'", c as char)
                } else {
                    "invalid token".to_string()
                };
            }
        };
        s.to_string()
    }
}

/// A token: its kind, its bytes `start..end`, and the offset CppNix's scanner reports as its
/// location (`loc`, normally `start`; differs for `PATH_END` and end of file).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Token {
    pub kind: Tok,
    pub start: u32,
    pub end: u32,
    pub loc: u32,
}

/// Flex start conditions.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// The bottom of the stack (a `}` here does not pop).
    Initial,
    Default,
    Str,
    IndStr,
    InPath,
    InPathSlash,
}

/// An error raised by the scanner itself.
#[derive(Clone, Debug)]
pub(crate) enum LexError {
    /// `path has a trailing slash`, at the offset.
    TrailingSlash(u32),
}

pub(crate) struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    modes: Vec<Mode>,
    /// Start of the last lexeme (token, whitespace or comment): CppNix's current location.
    last_lexeme: u32,
    /// Start of the lexeme before that.
    prev_lexeme: u32,
}

#[inline]
fn is_path_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'+')
}

#[inline]
fn is_id_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

#[inline]
fn is_id_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'\'' | b'-')
}

#[inline]
fn is_uri_char(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'%' | b'/'
                | b'?'
                | b':'
                | b'@'
                | b'&'
                | b'='
                | b'+'
                | b'$'
                | b','
                | b'-'
                | b'_'
                | b'.'
                | b'!'
                | b'~'
                | b'*'
                | b'\''
        )
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a [u8]) -> Self {
        Lexer {
            src,
            pos: 0,
            modes: vec![Mode::Initial],
            last_lexeme: 0,
            prev_lexeme: 0,
        }
    }

    #[inline]
    fn at(&self, i: usize) -> u8 {
        // 0 stands for "end of input" (CppNix appends two NULs; a NUL never continues a rule
        // below except where a rule accepts any byte, which checks the length itself).
        self.src.get(i).copied().unwrap_or(0)
    }

    #[inline]
    fn mode(&self) -> Mode {
        *self.modes.last().expect("mode stack is never empty")
    }

    fn pop(&mut self) {
        if self.modes.len() > 1 {
            self.modes.pop();
        }
    }

    #[inline]
    fn lexeme(&mut self, start: usize) {
        self.prev_lexeme = self.last_lexeme;
        self.last_lexeme = start as u32;
    }

    #[inline]
    fn tok(&mut self, kind: Tok, start: usize, end: usize) -> Token {
        self.lexeme(start);
        self.pos = end;
        Token {
            kind,
            start: start as u32,
            end: end as u32,
            loc: start as u32,
        }
    }

    /// The next token.
    pub(crate) fn next_token(&mut self) -> Result<Token, LexError> {
        match self.mode() {
            Mode::Initial | Mode::Default => self.lex_default(),
            Mode::Str => Ok(self.lex_string()),
            Mode::IndStr => Ok(self.lex_ind_string()),
            Mode::InPath | Mode::InPathSlash => self.lex_in_path(),
        }
    }

    fn eof(&self) -> Token {
        let p = self.src.len() as u32;
        Token {
            kind: Tok::Eof,
            start: p,
            end: p,
            loc: self.last_lexeme,
        }
    }

    /// Length of `{PATH}` = `{PATH_CHAR}*(\/{PATH_CHAR}+)+\/?` at `i`, or 0.
    fn match_path(&self, i: usize) -> usize {
        let s = self.src;
        let mut j = i;
        while j < s.len() && is_path_char(s[j]) {
            j += 1;
        }
        let mut segs = 0;
        let mut end = 0;
        loop {
            if j < s.len() && s[j] == b'/' && j + 1 < s.len() && is_path_char(s[j + 1]) {
                j += 1;
                while j < s.len() && is_path_char(s[j]) {
                    j += 1;
                }
                segs += 1;
                end = j;
            } else {
                break;
            }
        }
        if segs == 0 {
            return 0;
        }
        if end < s.len() && s[end] == b'/' {
            end += 1;
        }
        end - i
    }

    /// Length of `{PATH_CHAR}*\/` ending right before `${` (the `{PATH_SEG}\$\{` rule minus the
    /// `${`): the longest such prefix, or 0.
    fn match_path_seg_dollar(&self, i: usize) -> usize {
        let s = self.src;
        let mut j = i;
        while j < s.len() && is_path_char(s[j]) {
            j += 1;
        }
        if j < s.len() && s[j] == b'/' && self.at(j + 1) == b'$' && self.at(j + 2) == b'{' {
            j + 1 - i
        } else {
            0
        }
    }

    fn lex_default(&mut self) -> Result<Token, LexError> {
        let s = self.src;
        loop {
            let i = self.pos;
            if i >= s.len() {
                return Ok(self.eof());
            }
            let c = s[i];
            match c {
                b' ' | b'\t' | b'\r' | b'\n' => {
                    let mut j = i + 1;
                    while j < s.len() && matches!(s[j], b' ' | b'\t' | b'\r' | b'\n') {
                        j += 1;
                    }
                    self.lexeme(i);
                    self.pos = j;
                    continue;
                }
                b'#' => {
                    let j = s[i..]
                        .iter()
                        .position(|&c| c == b'\n' || c == b'\r')
                        .map_or(s.len(), |k| i + k);
                    self.lexeme(i);
                    self.pos = j;
                    continue;
                }
                b'/' if self.at(i + 1) == b'*' => {
                    // `\/\*([^*]|\*+[^*/])*\*+\/`: the first `*/` after `/*` (at i + 2 at the
                    // earliest, so `/*/` does not close).
                    let mut j = i + 2;
                    let mut closed = None;
                    while let Some(k) = s[j..].iter().position(|&c| c == b'*') {
                        let star = j + k;
                        if s.get(star + 1) == Some(&b'/') {
                            closed = Some(star + 2);
                            break;
                        }
                        j = star + 1;
                    }
                    if let Some(end) = closed {
                        self.lexeme(i);
                        self.pos = end;
                        continue;
                    }
                    // unterminated: falls through to `/` (or a path / `//`)
                }
                _ => {}
            }
            return Ok(self.lex_default_token(i, c));
        }
    }

    fn lex_default_token(&mut self, i: usize, c: u8) -> Token {
        let s = self.src;
        // Fast path: an identifier not followed by `/`, `.`, `+` or `:` cannot be the start of a
        // longer PATH or URI match, so it is an ID or keyword.
        if is_id_start(c) {
            let mut j = i + 1;
            while j < s.len() && is_id_char(s[j]) {
                j += 1;
            }
            if !matches!(self.at(j), b'/' | b'.' | b'+' | b':') {
                return self.ident(i, j);
            }
        }
        // Candidates whose longest match we compare: path forms first (they are the longest
        // rules starting with path characters).
        if is_path_char(c) || c == b'/' {
            let seg = self.match_path_seg_dollar(i);
            let path = self.match_path(i);
            // `{PATH_SEG}\$\{` matches seg + 2 bytes, always longer than PATH when it applies
            // and PATH can't extend past the `/`.
            if seg > 0 && seg + 2 > path {
                self.modes.push(Mode::InPathSlash);
                return self.tok(Tok::Path, i, i + seg);
            }
            if path > 0 {
                // Compete with ID / INT / FLOAT / URI / keywords: PATH contains a '/', none of
                // those except URI do, and a URI needs ':' which PATH can't contain; a URI is
                // longer only when it covers the path's '/', which needs the ':' before it.
                let uri = if c.is_ascii_alphabetic() {
                    self.match_uri(i)
                } else {
                    0
                };
                if uri > path {
                    return self.tok(Tok::Uri, i, i + uri);
                }
                let end = i + path;
                self.modes.push(if s[end - 1] == b'/' {
                    Mode::InPathSlash
                } else {
                    Mode::InPath
                });
                return self.tok(Tok::Path, i, end);
            }
        }
        if is_id_start(c) {
            let mut j = i + 1;
            while j < s.len() && is_id_char(s[j]) {
                j += 1;
            }
            let uri = if c.is_ascii_alphabetic() {
                self.match_uri(i)
            } else {
                0
            };
            if uri > j - i {
                return self.tok(Tok::Uri, i, i + uri);
            }
            return self.ident(i, j);
        }
        if c.is_ascii_digit() || c == b'.' {
            // INT [0-9]+ ; FLOAT (([1-9][0-9]*\.[0-9]*)|(0?\.[0-9]+))([Ee][+-]?[0-9]+)?
            let mut j = i;
            while j < s.len() && s[j].is_ascii_digit() {
                j += 1;
            }
            let int_len = j - i;
            let mut float_len = 0;
            let mantissa_end = if c != b'0' && c != b'.' && self.at(j) == b'.' {
                // [1-9][0-9]*\.[0-9]*
                let mut k = j + 1;
                while k < s.len() && s[k].is_ascii_digit() {
                    k += 1;
                }
                Some(k)
            } else {
                // 0?\.[0-9]+
                let k0 = if c == b'0' && int_len >= 1 { i + 1 } else { i };
                if (k0 == i || int_len == 1)
                    && self.at(k0) == b'.'
                    && self.at(k0 + 1).is_ascii_digit()
                {
                    let mut k = k0 + 1;
                    while k < s.len() && s[k].is_ascii_digit() {
                        k += 1;
                    }
                    Some(k)
                } else {
                    None
                }
            };
            if let Some(mut k) = mantissa_end {
                if matches!(self.at(k), b'e' | b'E') {
                    let mut e = k + 1;
                    if matches!(self.at(e), b'+' | b'-') {
                        e += 1;
                    }
                    if self.at(e).is_ascii_digit() {
                        while e < s.len() && s[e].is_ascii_digit() {
                            e += 1;
                        }
                        k = e;
                    }
                }
                float_len = k - i;
            }
            if float_len > 0 && float_len >= int_len {
                return self.tok(Tok::Float, i, i + float_len);
            }
            if int_len > 0 {
                return self.tok(Tok::Int, i, i + int_len);
            }
            if c == b'.' && self.at(i + 1) == b'.' && self.at(i + 2) == b'.' {
                return self.tok(Tok::Ellipsis, i, i + 3);
            }
            return self.tok(Tok::Char(b'.'), i, i + 1);
        }
        let n = self.at(i + 1);
        let two = |k: Tok| (k, 2usize);
        let (kind, len) = match (c, n) {
            (b'=', b'=') => two(Tok::Eq),
            (b'!', b'=') => two(Tok::NEq),
            (b'<', b'=') => two(Tok::Leq),
            (b'>', b'=') => two(Tok::Geq),
            (b'&', b'&') => two(Tok::And),
            (b'|', b'|') => two(Tok::Or),
            (b'-', b'>') => two(Tok::Impl),
            (b'/', b'/') => two(Tok::Update),
            (b'+', b'+') => two(Tok::Concat),
            (b'$', b'{') => {
                self.modes.push(Mode::Default);
                two(Tok::DollarCurly)
            }
            (b'}', _) => {
                self.pop();
                (Tok::Char(b'}'), 1)
            }
            (b'{', _) => {
                self.modes.push(Mode::Default);
                (Tok::Char(b'{'), 1)
            }
            (b'"', _) => {
                self.modes.push(Mode::Str);
                (Tok::Char(b'"'), 1)
            }
            (b'\'', b'\'') => {
                // \'\'(\ *\n)?
                let mut j = i + 2;
                while self.at(j) == b' ' {
                    j += 1;
                }
                let len = if self.at(j) == b'\n' && j < s.len() {
                    j + 1 - i
                } else {
                    2
                };
                self.modes.push(Mode::IndStr);
                (Tok::IndStringOpen, len)
            }
            (b'~', b'/') => {
                if self.at(i + 2) == b'$' && self.at(i + 3) == b'{' {
                    // {HPATH_START}\$\{
                    self.modes.push(Mode::InPathSlash);
                    (Tok::HPath, 2)
                } else {
                    let p = self.match_path(i + 1);
                    if p > 0 {
                        let end = i + 1 + p;
                        self.modes.push(if s[end - 1] == b'/' {
                            Mode::InPathSlash
                        } else {
                            Mode::InPath
                        });
                        (Tok::HPath, 1 + p)
                    } else {
                        (Tok::Char(b'~'), 1)
                    }
                }
            }
            (b'<', _) => {
                // \<{PATH_CHAR}+(\/{PATH_CHAR}+)*\>
                let mut j = i + 1;
                let mut ok = false;
                loop {
                    let seg_start = j;
                    while j < s.len() && is_path_char(s[j]) {
                        j += 1;
                    }
                    if j == seg_start {
                        break;
                    }
                    if self.at(j) == b'>' && j < s.len() {
                        ok = true;
                        j += 1;
                        break;
                    }
                    if self.at(j) == b'/' && j < s.len() {
                        j += 1;
                        continue;
                    }
                    break;
                }
                if ok {
                    (Tok::SPath, j - i)
                } else {
                    (Tok::Char(b'<'), 1)
                }
            }
            _ => (Tok::Char(c), 1),
        };
        self.tok(kind, i, i + len)
    }

    fn ident(&mut self, i: usize, j: usize) -> Token {
        let kind = match &self.src[i..j] {
            b"if" => Tok::If,
            b"then" => Tok::Then,
            b"else" => Tok::Else,
            b"assert" => Tok::Assert,
            b"with" => Tok::With,
            b"let" => Tok::Let,
            b"in" => Tok::In,
            b"rec" => Tok::Rec,
            b"inherit" => Tok::Inherit,
            b"or" => Tok::OrKw,
            _ => Tok::Id,
        };
        self.tok(kind, i, j)
    }

    /// Length of a URI at `i` (`[a-zA-Z][a-zA-Z0-9\+\-\.]*\:{URI_CHAR}+`), or 0.
    fn match_uri(&self, i: usize) -> usize {
        let s = self.src;
        let mut j = i + 1;
        while j < s.len() && (s[j].is_ascii_alphanumeric() || matches!(s[j], b'+' | b'-' | b'.')) {
            j += 1;
        }
        if j >= s.len() || s[j] != b':' {
            return 0;
        }
        j += 1;
        let start = j;
        while j < s.len() && is_uri_char(s[j]) {
            j += 1;
        }
        if j == start {
            0
        } else {
            j - i
        }
    }

    fn lex_string(&mut self) -> Token {
        let s = self.src;
        let i = self.pos;
        if i >= s.len() {
            return self.eof();
        }
        match s[i] {
            b'"' => {
                self.pop();
                return self.tok(Tok::Char(b'"'), i, i + 1);
            }
            b'$' if self.at(i + 1) == b'{' && i + 1 < s.len() => {
                self.modes.push(Mode::Default);
                return self.tok(Tok::DollarCurly, i, i + 2);
            }
            _ => {}
        }
        // ([^\$\"\\]|\$[^\{\"\\]|\\{ANY}|\$\\{ANY})+ , plus a trailing lone `$` before `"`;
        // at end of input a lone `$`, `\` or `$\` is a token of its own.
        let mut j = i;
        loop {
            if j >= s.len() {
                break;
            }
            match s[j] {
                b'"' => break,
                b'\\' => {
                    if j + 1 < s.len() {
                        j += 2;
                    } else {
                        if j == i {
                            j += 1;
                        }
                        break;
                    }
                }
                b'$' => {
                    if j + 1 >= s.len() {
                        if j == i {
                            j += 1;
                        }
                        break;
                    }
                    match s[j + 1] {
                        b'{' => break,
                        b'"' => {
                            j += 1;
                            break;
                        }
                        b'\\' => {
                            if j + 2 < s.len() {
                                j += 3;
                            } else {
                                if j == i {
                                    j += 2;
                                }
                                break;
                            }
                        }
                        _ => j += 2,
                    }
                }
                _ => j += 1,
            }
        }
        self.tok(Tok::Str, i, j)
    }

    fn lex_ind_string(&mut self) -> Token {
        let s = self.src;
        let i = self.pos;
        if i >= s.len() {
            return self.eof();
        }
        let c = s[i];
        let n = self.at(i + 1);
        if c == b'\'' && n == b'\'' && i + 1 < s.len() {
            let n2 = self.at(i + 2);
            if i + 2 < s.len() {
                if n2 == b'$' {
                    return self.tok(Tok::IndStrLit, i, i + 3);
                }
                if n2 == b'\'' {
                    return self.tok(Tok::IndStrLit, i, i + 3);
                }
                if n2 == b'\\' && i + 3 < s.len() {
                    return self.tok(Tok::IndStrLit, i, i + 4);
                }
            }
            self.pop();
            return self.tok(Tok::IndStringClose, i, i + 2);
        }
        if c == b'$' {
            if n == b'{' && i + 1 < s.len() {
                self.modes.push(Mode::Default);
                return self.tok(Tok::DollarCurly, i, i + 2);
            }
            if i + 1 >= s.len() || n == b'\'' {
                // `\$` alone (before a quote or at the end)
                return self.tok(Tok::IndStrLit, i, i + 1);
            }
        }
        // ([^\$\']|\$[^\{\']|\'[^\'\$])+
        let mut j = i;
        while j < s.len() {
            match s[j] {
                b'$' => {
                    if j + 1 < s.len() && s[j + 1] != b'{' && s[j + 1] != b'\'' {
                        j += 2;
                    } else {
                        break;
                    }
                }
                b'\'' => {
                    if j + 1 < s.len() && s[j + 1] != b'\'' && s[j + 1] != b'$' {
                        j += 2;
                    } else {
                        break;
                    }
                }
                _ => j += 1,
            }
        }
        if j > i {
            return self.tok(Tok::IndStr, i, j);
        }
        // a lone `'` (before `$` or at the end)
        self.tok(Tok::IndStrLit, i, i + 1)
    }

    fn lex_in_path(&mut self) -> Result<Token, LexError> {
        let s = self.src;
        let i = self.pos;
        let slash = self.mode() == Mode::InPathSlash;
        if i < s.len() {
            if s[i] == b'$' && self.at(i + 1) == b'{' && i + 1 < s.len() {
                self.modes.pop();
                self.modes.push(Mode::InPath);
                self.modes.push(Mode::Default);
                return Ok(self.tok(Tok::DollarCurly, i, i + 2));
            }
            // {PATH}|{PATH_SEG}|{PATH_CHAR}+
            let path = self.match_path(i);
            let mut seg = 0;
            {
                let mut j = i;
                while j < s.len() && is_path_char(s[j]) {
                    j += 1;
                }
                let chars = j - i;
                if j < s.len() && s[j] == b'/' {
                    seg = chars + 1;
                } else if chars > 0 {
                    seg = chars;
                }
            }
            let len = path.max(seg);
            if len > 0 {
                let end = i + len;
                self.modes.pop();
                self.modes.push(if s[end - 1] == b'/' {
                    Mode::InPathSlash
                } else {
                    Mode::InPath
                });
                return Ok(self.tok(Tok::Str, i, end));
            }
            if slash {
                // the ANY rule runs adjustLoc first: the error is at this byte
                self.lexeme(i);
                return Err(LexError::TrailingSlash(i as u32));
            }
            // `<INPATH>{ANY}`: yyless(0) and report the previous lexeme's location
            self.modes.pop();
            let loc = self.last_lexeme;
            return Ok(Token {
                kind: Tok::PathEnd,
                start: i as u32,
                end: i as u32,
                loc,
            });
        }
        if slash {
            return Err(LexError::TrailingSlash(self.last_lexeme));
        }
        self.modes.pop();
        let p = s.len() as u32;
        Ok(Token {
            kind: Tok::PathEnd,
            start: p,
            end: p,
            loc: self.prev_lexeme,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        let mut l = Lexer::new(src.as_bytes());
        let mut v = Vec::new();
        loop {
            let t = l.next_token().expect("no lex error");
            v.push(t.kind);
            if t.kind == Tok::Eof {
                return v;
            }
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(kinds("1.5"), vec![Tok::Float, Tok::Eof]);
        assert_eq!(kinds("1e3"), vec![Tok::Int, Tok::Id, Tok::Eof]);
        assert_eq!(kinds("00.5"), vec![Tok::Int, Tok::Float, Tok::Eof]);
        assert_eq!(kinds(".5e-2"), vec![Tok::Float, Tok::Eof]);
        assert_eq!(kinds("1.5.2"), vec![Tok::Float, Tok::Float, Tok::Eof]);
        assert_eq!(kinds("0."), vec![Tok::Int, Tok::Char(b'.'), Tok::Eof]);
        assert_eq!(kinds("..."), vec![Tok::Ellipsis, Tok::Eof]);
    }

    #[test]
    fn paths() {
        assert_eq!(kinds("./a"), vec![Tok::Path, Tok::PathEnd, Tok::Eof]);
        assert_eq!(kinds("a/b"), vec![Tok::Path, Tok::PathEnd, Tok::Eof]);
        assert_eq!(
            kinds("./a/${x}"),
            vec![
                Tok::Path,
                Tok::DollarCurly,
                Tok::Id,
                Tok::Char(b'}'),
                Tok::PathEnd,
                Tok::Eof
            ]
        );
        assert_eq!(kinds("x/x"), vec![Tok::Path, Tok::PathEnd, Tok::Eof]);
        assert_eq!(
            kinds("x / x"),
            vec![Tok::Id, Tok::Char(b'/'), Tok::Id, Tok::Eof]
        );
        assert_eq!(kinds("http://a.b/c?d"), vec![Tok::Uri, Tok::Eof]);
        assert_eq!(kinds("<a/b>"), vec![Tok::SPath, Tok::Eof]);
        assert_eq!(
            kinds("a // b"),
            vec![Tok::Id, Tok::Update, Tok::Id, Tok::Eof]
        );
    }

    #[test]
    fn strings() {
        assert_eq!(
            kinds(r#""a${b}c""#),
            vec![
                Tok::Char(b'"'),
                Tok::Str,
                Tok::DollarCurly,
                Tok::Id,
                Tok::Char(b'}'),
                Tok::Str,
                Tok::Char(b'"'),
                Tok::Eof
            ]
        );
        assert_eq!(
            kinds("''a''$b'''c''"),
            vec![
                Tok::IndStringOpen,
                Tok::IndStr,
                Tok::IndStrLit,
                Tok::IndStr,
                Tok::IndStrLit,
                Tok::IndStr,
                Tok::IndStringClose,
                Tok::Eof
            ]
        );
    }
}
