//! POSIX extended regular expressions as CppNix 2.8's `builtins.match` and `builtins.split`
//! see them.
//!
//! CppNix compiles patterns with `std::regex(pattern, std::regex::extended)` from GCC's
//! libstdc++ and runs `std::regex_match` (for `match`) or `std::sregex_iterator` (for `split`).
//! That implementation is neither a textbook POSIX leftmost-longest matcher nor a Perl-style
//! leftmost-first one, so this module rebuilds the same automaton and runs the same
//! depth-first search, which gives the same answers, captures included:
//!
//! * at an alternation `a|b` both sides are tried, left first; a match that ends later than
//!   the best one so far replaces it, one that ends at the same place does not
//!   (`(a|ab)(c|bcd)(d*)` on `abcd` captures `a`, `bcd`, `""`);
//! * a repetition is greedy, and once the greedy path produced a match the shorter choices at
//!   that repetition are not tried; a repeated sub-pattern that matched the empty string may be
//!   entered at most twice at the same position;
//! * `^` matches only at the very start of the input, `$` only at its end; `.` matches any byte
//!   except NUL (so each byte of a multi-byte UTF-8 character is one `.`);
//! * only the special characters `^$\.*+?()[]{}|` may be escaped (`\n` or `\d` are errors, as
//!   CppNix is built in strict ISO mode); inside brackets a backslash is an ordinary character;
//! * brackets: `[^…]`, ranges compared as *signed* bytes (a range ending in a non-ASCII byte
//!   is out of order and rejected), `]` first is literal, `-` first or last is literal,
//!   classes `[:alpha:]` etc. (ASCII only; names are case-insensitive, and `d` `w` `s` are
//!   accepted too), collating symbols `[.a.]` / `[.hyphen.]`, equivalence classes `[=a=]`
//!   (case-insensitive in the C locale);
//! * `{m}`, `{m,}`, `{m,n}`; an automaton larger than libstdc++'s limit of 100000 states is
//!   refused ([`RegexErrorKind::TooLarge`], which CppNix reports as "memory limit exceeded").
//!
//! libstdc++ searches with plain recursion and may take exponential time or overflow its stack;
//! here the search uses an explicit stack (no stack overflow on long inputs) and stops with
//! [`MatchError::TooComplex`] after [`DEFAULT_STEP_LIMIT`] steps ([`Regex::with_step_limit`]).
//! The search does the same work as libstdc++'s, so a pattern that is slow in CppNix is slow
//! here too (nested repetitions of sub-patterns that can match the empty string, such as
//! `((().?){0,})*x`, take hundreds of millions of steps on a dozen bytes); on such patterns
//! CppNix eventually answers where we may give up.
//!
//! # Example
//! ```
//! use nix_eval::support::regex::Regex;
//! let re = Regex::new(b"([a-z]+)-([0-9.]+)")?;
//! let caps = re.full_match(b"hello-2.1")?.expect("matches");
//! assert_eq!(caps, vec![Some(0..5), Some(6..9)]);
//! assert_eq!(re.full_match(b"hello")?, None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::ops::Range;

/// libstdc++'s `_GLIBCXX_REGEX_STATE_LIMIT`.
const STATE_LIMIT: usize = 100_000;
/// How deeply groups may nest (libstdc++ recurses; we refuse instead of overflowing).
const MAX_NESTING: usize = 1000;
/// Default bound on search steps for one match or one search.
pub const DEFAULT_STEP_LIMIT: u64 = 200_000_000;

/// Why a pattern was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegexErrorKind {
    /// Syntax error (CppNix: "invalid regular expression").
    Invalid,
    /// Too many automaton states (CppNix: "memory limit exceeded by regular expression").
    TooLarge,
}

/// A pattern that could not be compiled; `Display` is CppNix's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} '{}'", match .kind {
    RegexErrorKind::Invalid => "invalid regular expression",
    RegexErrorKind::TooLarge => "memory limit exceeded by regular expression",
}, String::from_utf8_lossy(.pattern))]
pub struct RegexError {
    /// The pattern as given.
    pub pattern: Vec<u8>,
    /// What went wrong.
    pub kind: RegexErrorKind,
    /// Byte offset in the pattern where the problem was noticed.
    pub offset: usize,
    /// A short description (libstdc++'s error category).
    pub reason: &'static str,
}

/// A search that gave up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MatchError {
    /// More than the step limit was needed (CppNix would keep going, or crash).
    #[error("regular expression '{}' is too complex to match against this string (more than {limit} steps)", String::from_utf8_lossy(.pattern))]
    TooComplex {
        /// The pattern.
        pattern: Vec<u8>,
        /// The step limit that was hit.
        limit: u64,
    },
}

/// One match found by [`Regex::find_all`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captures {
    /// Where the whole match is.
    pub whole: Range<usize>,
    /// Each group `1..=n`: where it matched, or `None` if it did not take part.
    pub groups: Vec<Option<Range<usize>>>,
}

const NONE: usize = usize::MAX;

#[derive(Debug, Clone)]
enum Op {
    /// Try `alt`, then `next` (alternation: both, longest wins).
    Alt {
        alt: usize,
        next: usize,
    },
    /// Greedy repetition: `alt` is the body, `next` the way out.
    Repeat {
        alt: usize,
        next: usize,
    },
    Begin {
        group: usize,
        next: usize,
    },
    End {
        group: usize,
        next: usize,
    },
    LineBegin {
        next: usize,
    },
    LineEnd {
        next: usize,
    },
    Match {
        set: usize,
        next: usize,
    },
    Dummy {
        next: usize,
    },
    Accept,
}

impl Op {
    fn set_next(&mut self, n: usize) {
        match self {
            Op::Alt { next, .. }
            | Op::Repeat { next, .. }
            | Op::Begin { next, .. }
            | Op::End { next, .. }
            | Op::LineBegin { next }
            | Op::LineEnd { next }
            | Op::Match { next, .. }
            | Op::Dummy { next } => *next = n,
            Op::Accept => {}
        }
    }
}

/// A fragment of the automaton: entry state and the state whose `next` is still open.
#[derive(Debug, Clone, Copy)]
struct Frag {
    start: usize,
    end: usize,
}

/// Syntax tree of an atom, kept so `{m,n}` can emit fresh copies of it.
#[derive(Debug, Clone)]
enum Node {
    Set(usize),
    Group(usize, Box<Node>),
    /// Alternatives, each a sequence of terms.
    Alt(Vec<Vec<Node>>),
    LineBegin,
    LineEnd,
    Quant(Box<Node>, Quant),
}

#[derive(Debug, Clone, Copy)]
enum Quant {
    Star,
    Plus,
    Opt,
    Range(usize, Option<usize>),
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Regex {
    pattern: Vec<u8>,
    states: Vec<Op>,
    /// Byte sets used by `Match` states: 256 flags each.
    sets: Vec<[bool; 256]>,
    start: usize,
    groups: usize,
    step_limit: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Char(u8),
    Any,
    LineBegin,
    LineEnd,
    Star,
    Plus,
    Opt,
    Or,
    Open,
    Close,
    Bracket { negated: bool },
    IntervalBegin,
    Eof,
}

struct Compiler<'p> {
    pat: &'p [u8],
    pos: usize,
    states: Vec<Op>,
    sets: Vec<[bool; 256]>,
    /// States libstdc++ would have allocated (including ones we do not need to keep).
    counted: usize,
    groups: usize,
    depth: usize,
    tok: Tok,
    tok_start: usize,
}

const SPECIAL: &[u8] = b"^$\\.*+?()[]{}|";

/// Character class names accepted in `[:name:]`, with their byte predicates (C locale).
fn class_pred(name: &[u8]) -> Option<fn(u8) -> bool> {
    let lower: Vec<u8> = name.iter().map(u8::to_ascii_lowercase).collect();
    let f: fn(u8) -> bool = match &lower[..] {
        b"d" | b"digit" => |c| c.is_ascii_digit(),
        b"w" => |c| c.is_ascii_alphanumeric() || c == b'_',
        b"s" | b"space" => |c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'),
        b"alnum" => |c| c.is_ascii_alphanumeric(),
        b"alpha" => |c| c.is_ascii_alphabetic(),
        b"blank" => |c| c == b' ' || c == b'\t',
        b"cntrl" => |c| c < 0x20 || c == 0x7f,
        b"graph" => |c| c.is_ascii_graphic(),
        b"lower" => |c| c.is_ascii_lowercase(),
        b"print" => |c| c.is_ascii_graphic() || c == b' ',
        b"punct" => |c| c.is_ascii_punctuation(),
        b"upper" => |c| c.is_ascii_uppercase(),
        b"xdigit" => |c| c.is_ascii_hexdigit(),
        _ => return None,
    };
    Some(f)
}

/// Names of the 128 ASCII characters for `[.name.]` (the POSIX portable character set).
const COLLATE_NAMES: [&str; 128] = [
    "NUL",
    "SOH",
    "STX",
    "ETX",
    "EOT",
    "ENQ",
    "ACK",
    "alert",
    "backspace",
    "tab",
    "newline",
    "vertical-tab",
    "form-feed",
    "carriage-return",
    "SO",
    "SI",
    "DLE",
    "DC1",
    "DC2",
    "DC3",
    "DC4",
    "NAK",
    "SYN",
    "ETB",
    "CAN",
    "EM",
    "SUB",
    "ESC",
    "IS4",
    "IS3",
    "IS2",
    "IS1",
    "space",
    "exclamation-mark",
    "quotation-mark",
    "number-sign",
    "dollar-sign",
    "percent-sign",
    "ampersand",
    "apostrophe",
    "left-parenthesis",
    "right-parenthesis",
    "asterisk",
    "plus-sign",
    "comma",
    "hyphen",
    "period",
    "slash",
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "colon",
    "semicolon",
    "less-than-sign",
    "equals-sign",
    "greater-than-sign",
    "question-mark",
    "commercial-at",
    "A",
    "B",
    "C",
    "D",
    "E",
    "F",
    "G",
    "H",
    "I",
    "J",
    "K",
    "L",
    "M",
    "N",
    "O",
    "P",
    "Q",
    "R",
    "S",
    "T",
    "U",
    "V",
    "W",
    "X",
    "Y",
    "Z",
    "left-square-bracket",
    "backslash",
    "right-square-bracket",
    "circumflex",
    "underscore",
    "grave-accent",
    "a",
    "b",
    "c",
    "d",
    "e",
    "f",
    "g",
    "h",
    "i",
    "j",
    "k",
    "l",
    "m",
    "n",
    "o",
    "p",
    "q",
    "r",
    "s",
    "t",
    "u",
    "v",
    "w",
    "x",
    "y",
    "z",
    "left-curly-bracket",
    "vertical-line",
    "right-curly-bracket",
    "tilde",
    "DEL",
];

fn collate_lookup(name: &[u8]) -> Option<u8> {
    COLLATE_NAMES
        .iter()
        .position(|n| n.as_bytes() == name)
        .and_then(|i| u8::try_from(i).ok())
}

/// What the last bracket term was (libstdc++'s `_BracketState`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    None,
    Char(u8),
    Class,
}

#[derive(Debug, PartialEq, Eq)]
enum BTok {
    Char(u8),
    Dash,
    End,
    Coll(Vec<u8>),
    Equiv(Vec<u8>),
    Class(Vec<u8>),
}

impl<'p> Compiler<'p> {
    fn err(&self, reason: &'static str) -> RegexError {
        RegexError {
            pattern: self.pat.to_vec(),
            kind: RegexErrorKind::Invalid,
            offset: self.tok_start,
            reason,
        }
    }

    fn add_state(&mut self, op: Op) -> Result<usize, RegexError> {
        self.count(1)?;
        self.states.push(op);
        Ok(self.states.len() - 1)
    }

    fn count(&mut self, n: usize) -> Result<(), RegexError> {
        self.counted += n;
        if self.counted > STATE_LIMIT {
            return Err(RegexError {
                pattern: self.pat.to_vec(),
                kind: RegexErrorKind::TooLarge,
                offset: self.tok_start,
                reason: "too many automaton states",
            });
        }
        Ok(())
    }

    fn append(&mut self, a: &mut Frag, b: Frag) {
        self.states[a.end].set_next(b.start);
        a.end = b.end;
    }

    // ---- scanner (normal state) ----

    fn advance(&mut self) -> Result<(), RegexError> {
        self.tok_start = self.pos;
        let Some(&c) = self.pat.get(self.pos) else {
            self.tok = Tok::Eof;
            return Ok(());
        };
        self.pos += 1;
        self.tok = match c {
            b'\\' => {
                let Some(&e) = self.pat.get(self.pos) else {
                    return Err(self.err("escape at end of pattern"));
                };
                if !SPECIAL.contains(&e) {
                    return Err(self.err("escaped ordinary character"));
                }
                self.pos += 1;
                Tok::Char(e)
            }
            b'^' => Tok::LineBegin,
            b'$' => Tok::LineEnd,
            b'.' => Tok::Any,
            b'*' => Tok::Star,
            b'+' => Tok::Plus,
            b'?' => Tok::Opt,
            b'|' => Tok::Or,
            b'(' => Tok::Open,
            b')' => Tok::Close,
            b'{' => Tok::IntervalBegin,
            b'[' => {
                let negated = self.pat.get(self.pos) == Some(&b'^');
                if negated {
                    self.pos += 1;
                }
                Tok::Bracket { negated }
            }
            _ => Tok::Char(c),
        };
        Ok(())
    }

    // ---- parser, building the automaton as it goes ----

    /// disjunction := alternative ('|' alternative)*
    fn disjunction(&mut self) -> Result<(Frag, Node), RegexError> {
        let (mut frag, first) = self.alternative()?;
        let mut alts = vec![first];
        while self.tok == Tok::Or {
            self.advance()?;
            let (rhs, seq) = self.alternative()?;
            alts.push(seq);
            let end = self.add_state(Op::Dummy { next: NONE })?;
            let mut lhs = frag;
            let mut rhs = rhs;
            self.append(&mut lhs, Frag { start: end, end });
            self.append(&mut rhs, Frag { start: end, end });
            let alt = self.add_state(Op::Alt {
                alt: lhs.start,
                next: rhs.start,
            })?;
            frag = Frag { start: alt, end };
        }
        Ok((frag, Node::Alt(alts)))
    }

    /// alternative := term*, closed by a dummy state (as libstdc++ builds it).
    fn alternative(&mut self) -> Result<(Frag, Vec<Node>), RegexError> {
        let mut frags = Vec::new();
        let mut nodes = Vec::new();
        while let Some((f, n)) = self.term()? {
            frags.push(f);
            nodes.push(n);
        }
        let d = self.add_state(Op::Dummy { next: NONE })?;
        let mut whole: Option<Frag> = None;
        for f in frags
            .into_iter()
            .chain(std::iter::once(Frag { start: d, end: d }))
        {
            match &mut whole {
                None => whole = Some(f),
                Some(w) => {
                    let mut w2 = *w;
                    self.append(&mut w2, f);
                    *w = w2;
                }
            }
        }
        let whole = whole.expect("at least the closing dummy state is there");
        Ok((whole, nodes))
    }

    /// term := '^' | '$' | atom quantifier*
    fn term(&mut self) -> Result<Option<(Frag, Node)>, RegexError> {
        match self.tok {
            Tok::LineBegin => {
                self.advance()?;
                let s = self.add_state(Op::LineBegin { next: NONE })?;
                return Ok(Some((Frag { start: s, end: s }, Node::LineBegin)));
            }
            Tok::LineEnd => {
                self.advance()?;
                let s = self.add_state(Op::LineEnd { next: NONE })?;
                return Ok(Some((Frag { start: s, end: s }, Node::LineEnd)));
            }
            _ => {}
        }
        let Some((mut frag, mut node)) = self.atom()? else {
            return Ok(None);
        };
        while let Some(q) = self.quantifier()? {
            frag = self.build_quant(frag, &node, q)?;
            node = Node::Quant(Box::new(node), q);
        }
        Ok(Some((frag, node)))
    }

    fn atom(&mut self) -> Result<Option<(Frag, Node)>, RegexError> {
        match self.tok.clone() {
            Tok::Any => {
                self.advance()?;
                let mut set = [true; 256];
                set[0] = false;
                Ok(Some(self.set_atom(set)?))
            }
            Tok::Char(c) => {
                self.advance()?;
                let mut set = [false; 256];
                set[usize::from(c)] = true;
                Ok(Some(self.set_atom(set)?))
            }
            Tok::Open => {
                if self.depth >= MAX_NESTING {
                    return Err(self.err("groups nested too deeply"));
                }
                self.depth += 1;
                self.groups += 1;
                let group = self.groups;
                let b = self.add_state(Op::Begin { group, next: NONE })?;
                self.advance()?;
                let (inner, node) = self.disjunction()?;
                if self.tok != Tok::Close {
                    return Err(self.err("unmatched parenthesis"));
                }
                self.advance()?;
                self.depth -= 1;
                let e = self.add_state(Op::End { group, next: NONE })?;
                let mut f = Frag { start: b, end: b };
                self.append(&mut f, inner);
                self.append(&mut f, Frag { start: e, end: e });
                Ok(Some((f, Node::Group(group, Box::new(node)))))
            }
            Tok::Bracket { negated } => {
                let set = self.bracket(negated)?;
                self.advance()?;
                Ok(Some(self.set_atom(set)?))
            }
            _ => Ok(None),
        }
    }

    fn set_atom(&mut self, set: [bool; 256]) -> Result<(Frag, Node), RegexError> {
        self.sets.push(set);
        let id = self.sets.len() - 1;
        let s = self.add_state(Op::Match {
            set: id,
            next: NONE,
        })?;
        Ok((Frag { start: s, end: s }, Node::Set(id)))
    }

    fn number(&mut self) -> Option<usize> {
        let start = self.pos;
        while self.pat.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        if start == self.pos {
            return None;
        }
        let mut v: usize = 0;
        for &d in &self.pat[start..self.pos] {
            v = v.checked_mul(10)?.checked_add(usize::from(d - b'0'))?;
        }
        // libstdc++ keeps counts in a `long`, and gives up on overflow
        if v > i64::MAX as usize {
            return Some(usize::MAX);
        }
        Some(v)
    }

    fn quantifier(&mut self) -> Result<Option<Quant>, RegexError> {
        let q = match self.tok {
            Tok::Star => Quant::Star,
            Tok::Plus => Quant::Plus,
            Tok::Opt => Quant::Opt,
            Tok::IntervalBegin => {
                // brace state: digits, ',' or '}' only
                let bad = |s: &Self| s.err("bad interval");
                let Some(min) = self.number() else {
                    return Err(bad(self));
                };
                let mut max = Some(min);
                if self.pat.get(self.pos) == Some(&b',') {
                    self.pos += 1;
                    max = self.number();
                    if max.is_none() && self.pat.get(self.pos) != Some(&b'}') {
                        return Err(bad(self));
                    }
                }
                if self.pat.get(self.pos) != Some(&b'}') {
                    return Err(bad(self));
                }
                self.pos += 1;
                if min == usize::MAX || max == Some(usize::MAX) {
                    return Err(bad(self));
                }
                if let Some(m) = max {
                    if m < min {
                        return Err(bad(self));
                    }
                }
                Quant::Range(min, max)
            }
            _ => return Ok(None),
        };
        self.advance()?;
        Ok(Some(q))
    }

    fn build_quant(&mut self, frag: Frag, node: &Node, q: Quant) -> Result<Frag, RegexError> {
        match q {
            Quant::Star => {
                let r = self.add_state(Op::Repeat {
                    alt: frag.start,
                    next: NONE,
                })?;
                let mut body = frag;
                self.append(&mut body, Frag { start: r, end: r });
                Ok(Frag { start: r, end: r })
            }
            Quant::Plus => {
                let r = self.add_state(Op::Repeat {
                    alt: frag.start,
                    next: NONE,
                })?;
                let mut body = frag;
                self.append(&mut body, Frag { start: r, end: r });
                Ok(Frag {
                    start: frag.start,
                    end: r,
                })
            }
            Quant::Opt => {
                let end = self.add_state(Op::Dummy { next: NONE })?;
                let r = self.add_state(Op::Repeat {
                    alt: frag.start,
                    next: NONE,
                })?;
                let mut body = frag;
                self.append(&mut body, Frag { start: end, end });
                self.states[r].set_next(end);
                Ok(Frag { start: r, end })
            }
            Quant::Range(min, max) => {
                let e = self.add_state(Op::Dummy { next: NONE })?;
                let mut whole = Frag { start: e, end: e };
                for _ in 0..min {
                    let c = self.emit(node)?;
                    self.append(&mut whole, c);
                }
                match max {
                    None => {
                        let c = self.emit(node)?;
                        let r = self.add_state(Op::Repeat {
                            alt: c.start,
                            next: NONE,
                        })?;
                        let mut body = c;
                        self.append(&mut body, Frag { start: r, end: r });
                        self.append(&mut whole, Frag { start: r, end: r });
                    }
                    Some(max) => {
                        let end = self.add_state(Op::Dummy { next: NONE })?;
                        for _ in min..max {
                            let c = self.emit(node)?;
                            let r = self.add_state(Op::Repeat {
                                alt: c.start,
                                next: end,
                            })?;
                            self.append(
                                &mut whole,
                                Frag {
                                    start: r,
                                    end: c.end,
                                },
                            );
                        }
                        self.append(&mut whole, Frag { start: end, end });
                    }
                }
                Ok(whole)
            }
        }
    }

    /// Emits a fresh copy of an atom's automaton.
    fn emit(&mut self, node: &Node) -> Result<Frag, RegexError> {
        match node {
            Node::Set(id) => {
                let s = self.add_state(Op::Match {
                    set: *id,
                    next: NONE,
                })?;
                Ok(Frag { start: s, end: s })
            }
            Node::LineBegin => {
                let s = self.add_state(Op::LineBegin { next: NONE })?;
                Ok(Frag { start: s, end: s })
            }
            Node::LineEnd => {
                let s = self.add_state(Op::LineEnd { next: NONE })?;
                Ok(Frag { start: s, end: s })
            }
            Node::Group(group, inner) => {
                let b = self.add_state(Op::Begin {
                    group: *group,
                    next: NONE,
                })?;
                let i = self.emit(inner)?;
                let e = self.add_state(Op::End {
                    group: *group,
                    next: NONE,
                })?;
                let mut f = Frag { start: b, end: b };
                self.append(&mut f, i);
                self.append(&mut f, Frag { start: e, end: e });
                Ok(f)
            }
            Node::Alt(alts) => {
                let mut frag: Option<Frag> = None;
                for seq in alts {
                    let mut f: Option<Frag> = None;
                    for n in seq {
                        let c = self.emit(n)?;
                        match &mut f {
                            None => f = Some(c),
                            Some(w) => {
                                let mut w2 = *w;
                                self.append(&mut w2, c);
                                *w = w2;
                            }
                        }
                    }
                    let d = self.add_state(Op::Dummy { next: NONE })?;
                    let mut seq_frag = f.unwrap_or(Frag { start: d, end: d });
                    if seq_frag.start != d {
                        self.append(&mut seq_frag, Frag { start: d, end: d });
                    }
                    frag = Some(match frag {
                        None => seq_frag,
                        Some(mut lhs) => {
                            let end = self.add_state(Op::Dummy { next: NONE })?;
                            let mut rhs = seq_frag;
                            self.append(&mut lhs, Frag { start: end, end });
                            self.append(&mut rhs, Frag { start: end, end });
                            let alt = self.add_state(Op::Alt {
                                alt: lhs.start,
                                next: rhs.start,
                            })?;
                            Frag { start: alt, end }
                        }
                    });
                }
                let frag = frag.expect("a disjunction has at least one alternative");
                Ok(frag)
            }
            // libstdc++ copies only the states reachable from a fragment's start: the
            // original body of a `{m,n}` is unreachable, so a copy has none of it.
            Node::Quant(inner, q @ Quant::Range(..)) => {
                let unused = Frag {
                    start: NONE,
                    end: NONE,
                };
                self.build_quant(unused, inner, *q)
            }
            Node::Quant(inner, q) => {
                let f = self.emit(inner)?;
                self.build_quant(f, inner, *q)
            }
        }
    }

    // ---- brackets ----

    fn btok(&mut self, at_start: bool) -> Result<BTok, RegexError> {
        self.tok_start = self.pos;
        let Some(&c) = self.pat.get(self.pos) else {
            return Err(self.err("unmatched '['"));
        };
        self.pos += 1;
        Ok(match c {
            b'-' => BTok::Dash,
            b'[' => match self.pat.get(self.pos) {
                None => return Err(self.err("incomplete '[['")),
                Some(&k @ (b'.' | b':' | b'=')) => {
                    self.pos += 1;
                    let start = self.pos;
                    while self.pos < self.pat.len() && self.pat[self.pos] != k {
                        self.pos += 1;
                    }
                    let name = self.pat[start..self.pos].to_vec();
                    if self.pat.get(self.pos) != Some(&k)
                        || self.pat.get(self.pos + 1) != Some(&b']')
                    {
                        return Err(self.err("unterminated class or collating element"));
                    }
                    self.pos += 2;
                    match k {
                        b'.' => BTok::Coll(name),
                        b':' => BTok::Class(name),
                        _ => BTok::Equiv(name),
                    }
                }
                Some(_) => BTok::Char(b'['),
            },
            b']' if !at_start => BTok::End,
            _ => BTok::Char(c),
        })
    }

    /// Parses a bracket expression after `[` / `[^`; leaves `pos` after the closing `]`.
    fn bracket(&mut self, negated: bool) -> Result<[bool; 256], RegexError> {
        let mut set = [false; 256];
        let mut preds: Vec<fn(u8) -> bool> = Vec::new();
        let mut equiv: Vec<u8> = Vec::new();
        let mut last = Last::None;
        let mut tok = self.btok(true)?;
        match tok {
            BTok::Char(c) => {
                last = Last::Char(c);
                tok = self.btok(false)?;
            }
            BTok::Dash => {
                last = Last::Char(b'-');
                tok = self.btok(false)?;
            }
            _ => {}
        }
        fn push_char(set: &mut [bool; 256], last: &mut Last, c: u8) {
            if let Last::Char(l) = *last {
                set[usize::from(l)] = true;
            }
            *last = Last::Char(c);
        }
        fn push_class(set: &mut [bool; 256], last: &mut Last) {
            if let Last::Char(l) = *last {
                set[usize::from(l)] = true;
            }
            *last = Last::Class;
        }
        loop {
            match tok {
                BTok::End => break,
                BTok::Coll(name) => {
                    let Some(c) = collate_lookup(&name) else {
                        return Err(self.err("invalid collating element"));
                    };
                    push_char(&mut set, &mut last, c);
                }
                BTok::Equiv(name) => {
                    push_class(&mut set, &mut last);
                    let Some(c) = collate_lookup(&name) else {
                        return Err(self.err("invalid collating element"));
                    };
                    equiv.push(c.to_ascii_lowercase());
                }
                BTok::Class(name) => {
                    push_class(&mut set, &mut last);
                    let Some(p) = class_pred(&name) else {
                        return Err(self.err("invalid character class"));
                    };
                    preds.push(p);
                }
                BTok::Char(c) => push_char(&mut set, &mut last, c),
                BTok::Dash => {
                    let next = self.btok(false)?;
                    match (next, last) {
                        (BTok::End, _) => {
                            push_char(&mut set, &mut last, b'-');
                            break;
                        }
                        (_, Last::Class) => return Err(self.err("invalid start of range")),
                        (BTok::Char(r), Last::Char(l)) => {
                            self.range(&mut set, l, r)?;
                            last = Last::None;
                        }
                        (BTok::Dash, Last::Char(l)) => {
                            self.range(&mut set, l, b'-')?;
                            last = Last::None;
                        }
                        (_, Last::Char(_)) => return Err(self.err("invalid end of range")),
                        (_, Last::None) => return Err(self.err("invalid dash in bracket")),
                    }
                }
            }
            tok = self.btok(false)?;
        }
        if let Last::Char(l) = last {
            set[usize::from(l)] = true;
        }
        let mut out = [false; 256];
        for (b, slot) in out.iter_mut().enumerate() {
            let c = u8::try_from(b).expect("index below 256");
            let hit =
                set[b] || preds.iter().any(|p| p(c)) || equiv.contains(&c.to_ascii_lowercase());
            *slot = hit != negated;
        }
        Ok(out)
    }

    /// Adds a range; bounds compare as signed `char`s, as in libstdc++.
    fn range(&self, set: &mut [bool; 256], l: u8, r: u8) -> Result<(), RegexError> {
        let (ls, rs) = (l as i8, r as i8);
        if ls > rs {
            return Err(self.err("range out of order"));
        }
        for v in ls..=rs {
            set[usize::from(v as u8)] = true;
        }
        Ok(())
    }
}

impl Regex {
    /// Compiles a POSIX extended pattern as libstdc++ (`std::regex::extended`) does.
    ///
    /// # Errors
    /// [`RegexError`] for a syntax error or an automaton over the size limit.
    pub fn new(pattern: &[u8]) -> Result<Regex, RegexError> {
        let mut c = Compiler {
            pat: pattern,
            pos: 0,
            states: Vec::new(),
            sets: Vec::new(),
            counted: 0,
            groups: 0,
            depth: 0,
            tok: Tok::Eof,
            tok_start: 0,
        };
        c.advance()?;
        let b = c.add_state(Op::Begin {
            group: 0,
            next: NONE,
        })?;
        let (body, _) = c.disjunction()?;
        if c.tok != Tok::Eof {
            return Err(c.err("unexpected token"));
        }
        let e = c.add_state(Op::End {
            group: 0,
            next: NONE,
        })?;
        let a = c.add_state(Op::Accept)?;
        let mut f = Frag { start: b, end: b };
        c.append(&mut f, body);
        c.append(&mut f, Frag { start: e, end: e });
        c.append(&mut f, Frag { start: a, end: a });
        Ok(Regex {
            pattern: pattern.to_vec(),
            states: c.states,
            sets: c.sets,
            start: b,
            groups: c.groups,
            step_limit: DEFAULT_STEP_LIMIT,
        })
    }

    /// Sets how many search steps one match or search may take before giving up.
    #[must_use]
    pub fn with_step_limit(mut self, limit: u64) -> Regex {
        self.step_limit = limit;
        self
    }

    /// The number of capture groups.
    pub fn group_count(&self) -> usize {
        self.groups
    }

    /// The pattern this was compiled from.
    pub fn pattern(&self) -> &[u8] {
        &self.pattern
    }

    /// Matches the whole of `s` (`builtins.match`): `None` if it does not match, else where each
    /// group `1..=n` matched (`None` for a group that took no part).
    ///
    /// # Errors
    /// [`MatchError::TooComplex`] when the step limit is reached.
    pub fn full_match(&self, s: &[u8]) -> Result<Option<Vec<Option<Range<usize>>>>, MatchError> {
        let flags = Flags {
            exact: true,
            not_null: false,
            prev_avail: false,
        };
        let mut exec = Exec::new(self, s);
        Ok(exec.run_at(0, flags)?.map(|subs| groups_of(&subs)))
    }

    /// All successive non-overlapping matches in `s`, as `std::sregex_iterator` finds them
    /// (`builtins.split`): after an empty match, a non-empty match at the same place is tried
    /// before moving on by one byte. The text between matches is `s[prev.whole.end..m.whole.start]`.
    ///
    /// # Errors
    /// [`MatchError::TooComplex`] when the step limit is reached in one search.
    ///
    /// # Example
    /// ```
    /// use nix_eval::support::regex::Regex;
    /// let re = Regex::new(b"(a)|b")?;
    /// let all = re.find_all(b"xaby")?;
    /// assert_eq!(all.len(), 2);
    /// assert_eq!(all[0].whole, 1..2);
    /// assert_eq!(all[0].groups, vec![Some(1..2)]);
    /// assert_eq!(all[1].groups, vec![None]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn find_all(&self, s: &[u8]) -> Result<Vec<Captures>, MatchError> {
        let mut out = Vec::new();
        let mut exec = Exec::new(self, s);
        let mut prev_avail = false;
        let Some(mut m) = exec.search(0, false, false, prev_avail)? else {
            return Ok(out);
        };
        loop {
            let (mstart, mend) = (m[0].first, m[0].second);
            out.push(Captures {
                whole: mstart..mend,
                groups: groups_of(&m),
            });
            let mut start = mend;
            if mstart == mend {
                if start == s.len() {
                    break;
                }
                if let Some(next) = exec.search(start, true, true, prev_avail)? {
                    m = next;
                    continue;
                }
                start += 1;
            }
            prev_avail = true;
            match exec.search(start, false, false, prev_avail)? {
                Some(next) => m = next,
                None => break,
            }
        }
        Ok(out)
    }
}

fn groups_of(subs: &[Sub]) -> Vec<Option<Range<usize>>> {
    subs.iter()
        .skip(1)
        .map(|s| s.matched.then_some(s.first..s.second))
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sub {
    first: usize,
    second: usize,
    matched: bool,
}

#[derive(Debug, Clone, Copy)]
struct Flags {
    exact: bool,
    not_null: bool,
    prev_avail: bool,
}

enum Task {
    Dfs(usize),
    Unconsume,
    RestoreFirst(usize, usize),
    RestoreSub(usize, Sub),
    AltRight(usize),
    AltMerge(bool),
    RepAfter(usize),
    RestoreRep(usize, (usize, u8)),
    RepDec(usize),
}

struct Exec<'r, 's> {
    re: &'r Regex,
    s: &'s [u8],
    begin: usize,
    current: usize,
    flags: Flags,
    cur: Vec<Sub>,
    best: Vec<Sub>,
    has_sol: bool,
    sol_pos: Option<usize>,
    rep: Vec<(usize, u8)>,
    steps: u64,
}

impl<'r, 's> Exec<'r, 's> {
    fn new(re: &'r Regex, s: &'s [u8]) -> Self {
        let unmatched = Sub {
            first: s.len(),
            second: s.len(),
            matched: false,
        };
        Exec {
            re,
            s,
            begin: 0,
            current: 0,
            flags: Flags {
                exact: false,
                not_null: false,
                prev_avail: false,
            },
            cur: vec![unmatched; re.groups + 1],
            best: vec![unmatched; re.groups + 1],
            has_sol: false,
            sol_pos: None,
            rep: vec![(0, 0); re.states.len()],
            steps: 0,
        }
    }

    /// `regex_search` from `start`: each start position in turn until one matches.
    fn search(
        &mut self,
        start: usize,
        not_null: bool,
        continuous: bool,
        prev_avail: bool,
    ) -> Result<Option<Vec<Sub>>, MatchError> {
        let mut flags = Flags {
            exact: false,
            not_null,
            prev_avail,
        };
        let mut begin = start;
        loop {
            if let Some(m) = self.run_at(begin, flags)? {
                return Ok(Some(m));
            }
            if continuous || begin >= self.s.len() {
                return Ok(None);
            }
            flags.prev_avail = true;
            begin += 1;
        }
    }

    /// One depth-first run of the automaton starting at `begin`.
    fn run_at(&mut self, begin: usize, flags: Flags) -> Result<Option<Vec<Sub>>, MatchError> {
        let unmatched = Sub {
            first: self.s.len(),
            second: self.s.len(),
            matched: false,
        };
        self.begin = begin;
        self.current = begin;
        self.flags = flags;
        self.has_sol = false;
        self.sol_pos = None;
        self.cur.fill(unmatched);
        self.best.fill(unmatched);
        self.rep.fill((0, 0));
        self.steps = 0;
        let mut stack = vec![Task::Dfs(self.re.start)];
        while let Some(task) = stack.pop() {
            self.steps += 1;
            if self.steps > self.re.step_limit {
                return Err(MatchError::TooComplex {
                    pattern: self.re.pattern.clone(),
                    limit: self.re.step_limit,
                });
            }
            match task {
                Task::Dfs(i) => self.step(i, &mut stack),
                Task::Unconsume => self.current -= 1,
                Task::RestoreFirst(g, old) => self.cur[g].first = old,
                Task::RestoreSub(g, old) => self.cur[g] = old,
                Task::AltRight(next) => {
                    let saved = self.has_sol;
                    self.has_sol = false;
                    stack.push(Task::AltMerge(saved));
                    stack.push(Task::Dfs(next));
                }
                Task::AltMerge(saved) => self.has_sol |= saved,
                Task::RepAfter(next) => {
                    if !self.has_sol {
                        stack.push(Task::Dfs(next));
                    }
                }
                Task::RestoreRep(i, old) => self.rep[i] = old,
                Task::RepDec(i) => self.rep[i].1 -= 1,
            }
        }
        Ok(self.has_sol.then(|| self.best.clone()))
    }

    fn step(&mut self, i: usize, stack: &mut Vec<Task>) {
        match self.re.states[i] {
            Op::Alt { alt, next } => {
                stack.push(Task::AltRight(next));
                stack.push(Task::Dfs(alt));
            }
            Op::Repeat { alt, next } => {
                stack.push(Task::RepAfter(next));
                let rc = self.rep[i];
                if rc.1 == 0 || rc.0 != self.current {
                    self.rep[i] = (self.current, 1);
                    stack.push(Task::RestoreRep(i, rc));
                    stack.push(Task::Dfs(alt));
                } else if rc.1 < 2 {
                    self.rep[i].1 += 1;
                    stack.push(Task::RepDec(i));
                    stack.push(Task::Dfs(alt));
                }
            }
            Op::Begin { group, next } => {
                stack.push(Task::RestoreFirst(group, self.cur[group].first));
                self.cur[group].first = self.current;
                stack.push(Task::Dfs(next));
            }
            Op::End { group, next } => {
                stack.push(Task::RestoreSub(group, self.cur[group]));
                self.cur[group].second = self.current;
                self.cur[group].matched = true;
                stack.push(Task::Dfs(next));
            }
            Op::LineBegin { next } => {
                if self.current == self.begin && !self.flags.prev_avail {
                    stack.push(Task::Dfs(next));
                }
            }
            Op::LineEnd { next } => {
                if self.current == self.s.len() {
                    stack.push(Task::Dfs(next));
                }
            }
            Op::Match { set, next } => {
                if let Some(&c) = self.s.get(self.current) {
                    if self.re.sets[set][usize::from(c)] {
                        self.current += 1;
                        stack.push(Task::Unconsume);
                        stack.push(Task::Dfs(next));
                    }
                }
            }
            Op::Dummy { next } => stack.push(Task::Dfs(next)),
            Op::Accept => {
                self.has_sol = !self.flags.exact || self.current == self.s.len();
                if self.current == self.begin && self.flags.not_null {
                    self.has_sol = false;
                }
                if self.has_sol && self.sol_pos.map_or(true, |p| p < self.current) {
                    self.sol_pos = Some(self.current);
                    self.best.clone_from(&self.cur);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::json::escape_string;
    use proptest::prelude::*;

    include!("regex_cases.rs");

    fn render_opt(out: &mut Vec<u8>, s: &[u8], g: &Option<Range<usize>>) {
        match g {
            Some(r) => escape_string(out, &s[r.clone()]),
            None => out.extend_from_slice(b"null"),
        }
    }

    fn render_groups(out: &mut Vec<u8>, s: &[u8], groups: &[Option<Range<usize>>]) {
        out.push(b'[');
        for (i, g) in groups.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            render_opt(out, s, g);
        }
        out.push(b']');
    }

    /// Renders what `builtins.toJSON (builtins.KIND pattern input)` would print.
    fn run(kind: &str, pattern: &str, input: &str) -> String {
        let re = match Regex::new(pattern.as_bytes()) {
            Ok(re) => re,
            Err(e) => {
                return match e.kind {
                    RegexErrorKind::Invalid => "ERR invalid".into(),
                    RegexErrorKind::TooLarge => "ERR space".into(),
                }
            }
        };
        let s = input.as_bytes();
        let mut out = Vec::new();
        if kind == "match" {
            match re.full_match(s) {
                Ok(None) => out.extend_from_slice(b"null"),
                Ok(Some(groups)) => render_groups(&mut out, s, &groups),
                Err(e) => return format!("ERR {e}"),
            }
        } else {
            let all = match re.find_all(s) {
                Ok(all) => all,
                Err(e) => return format!("ERR {e}"),
            };
            out.push(b'[');
            let mut prev = 0;
            for m in &all {
                escape_string(&mut out, &s[prev..m.whole.start]);
                out.push(b',');
                render_groups(&mut out, s, &m.groups);
                out.push(b',');
                prev = m.whole.end;
            }
            escape_string(&mut out, &s[prev..]);
            out.push(b']');
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn matches_cppnix() {
        let mut failures = Vec::new();
        for &(kind, pattern, input, want) in CASES {
            let got = run(kind, pattern, input);
            if got != want {
                failures.push(format!(
                    "{kind} {pattern:?} {input:?}: got {got}, want {want}"
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} cases differ:\n{}",
            failures.len(),
            CASES.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn error_messages() {
        let e = Regex::new(b"(").unwrap_err();
        assert_eq!(e.to_string(), "invalid regular expression '('");
        let e = Regex::new(b"a{100000}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "memory limit exceeded by regular expression 'a{100000}'"
        );
    }

    #[test]
    fn step_limit_stops_runaway_search() -> Result<(), RegexError> {
        let re = Regex::new(b"(a|aa)*(a|aa)*(a|aa)*b")?.with_step_limit(100_000);
        let input = vec![b'a'; 40];
        assert!(matches!(
            re.full_match(&input),
            Err(MatchError::TooComplex { .. })
        ));
        Ok(())
    }

    #[test]
    fn long_input_does_not_overflow_the_stack() -> Result<(), Box<dyn std::error::Error>> {
        let re = Regex::new(b"(a|b)*c")?;
        let mut input = b"ab".repeat(50_000);
        input.push(b'c');
        assert_eq!(re.full_match(&input)?, Some(vec![Some(99_999..100_000)]));
        Ok(())
    }

    proptest! {
        #[test]
        fn literal_patterns_match_themselves(s in "[a-z0-9 ]{0,20}") {
            let re = Regex::new(s.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(re.full_match(s.as_bytes()), Ok(Some(vec![])));
        }

        #[test]
        fn never_panics(p in proptest::collection::vec(proptest::sample::select(b"ab()[]{}|*+?.^$-\\:,1".to_vec()), 0..12),
                        s in "[ab-]{0,8}") {
            if let Ok(re) = Regex::new(&p) {
                let re = re.with_step_limit(1_000_000);
                let _ = re.full_match(s.as_bytes());
                let _ = re.find_all(s.as_bytes());
            }
        }

        #[test]
        fn split_pieces_rejoin(s in "[a-c,]{0,16}") {
            let re = Regex::new(b",+").map_err(|e| TestCaseError::fail(e.to_string()))?;
            let all = re.find_all(s.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut rebuilt = Vec::new();
            let mut prev = 0;
            for m in &all {
                rebuilt.extend_from_slice(&s.as_bytes()[prev..m.whole.end]);
                prev = m.whole.end;
            }
            rebuilt.extend_from_slice(&s.as_bytes()[prev..]);
            prop_assert_eq!(rebuilt, s.as_bytes().to_vec());
        }
    }
}
