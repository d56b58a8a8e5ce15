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

#[cfg(test)]
mod tests {
    fn send_sync<T: Send + Sync>() {}

    /// The compiled regex is shared between threads by callers that cache it; results and
    /// errors cross threads too.
    #[test]
    fn types_are_send_and_sync() {
        send_sync::<super::regex::Regex>();
        send_sync::<super::regex::RegexError>();
        send_sync::<super::regex::MatchError>();
        send_sync::<super::regex::Captures>();
        send_sync::<super::json::JsonValue>();
        send_sync::<super::json::JsonError>();
        send_sync::<super::toml::TomlError>();
        send_sync::<super::xml::XmlWriter>();
    }
}
