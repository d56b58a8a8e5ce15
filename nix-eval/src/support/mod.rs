//! Value-independent building blocks for the builtins and the printer.
//!
//! Everything here is a pure function over bytes and numbers, with no dependency on the
//! evaluator's `Value`, so each piece can be tested against CppNix 2.8 on its own:
//!
//! * [`float`]: `%g` / `%f` float formatting as C++ streams and `printf` do it.
//! * [`version`]: `compareVersions`, `splitVersion`, `parseDrvName`.
//! * [`json`]: the `fromJSON` parser and the `toJSON` string escaper.
//! * [`regex`]: a POSIX extended regular expression engine for `match` and `split`.
//! * [`toml`]: the `fromTOML` reader.
//! * [`xml`]: attribute escaping for `toXML` and `--xml`.

pub mod float;
pub mod json;
pub mod regex;
pub mod toml;
pub mod version;
pub mod xml;
