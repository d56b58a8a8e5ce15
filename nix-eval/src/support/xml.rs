//! XML output for `builtins.toXML` and `nix-instantiate --eval --xml`, as CppNix 2.8 writes it.
//!
//! CppNix's XML writer produces:
//!
//! ```text
//! <?xml version='1.0' encoding='utf-8'?>
//! <expr>
//!   <attrs>
//!     <attr name="s">
//!       <string value="a&lt;b" />
//!     </attr>
//!   </attrs>
//! </expr>
//! ```
//!
//! Each element is on its own line, indented by two spaces per level; attributes of one
//! element are written sorted by name (bytewise); an empty element is written `<name />`.
//! Attribute values escape `<` `>` `&` `"` and newline (`&#xA;`); everything else, including
//! `'`, tab, carriage return, other control bytes and non-ASCII, is written raw. This module
//! knows nothing about Nix values: the caller decides which elements to write.

/// Appends `s` escaped for an XML attribute value, as CppNix 2.8 escapes it.
///
/// # Example
/// ```
/// use nix_eval::support::xml::escape_attr;
/// let mut out = Vec::new();
/// escape_attr(&mut out, b"a<b>c&d\"e'f\ng\th");
/// assert_eq!(out, b"a&lt;b&gt;c&amp;d&quot;e'f&#xA;g\th");
/// ```
pub fn escape_attr(out: &mut Vec<u8>, s: &[u8]) {
    for &c in s {
        match c {
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'&' => out.extend_from_slice(b"&amp;"),
            b'"' => out.extend_from_slice(b"&quot;"),
            b'\n' => out.extend_from_slice(b"&#xA;"),
            _ => out.push(c),
        }
    }
}

/// A streaming writer for CppNix-style XML documents.
///
/// # Example
/// ```
/// use nix_eval::support::xml::XmlWriter;
/// let mut w = XmlWriter::new();
/// w.open("expr", &[]);
/// w.open("attrs", &[]);
/// w.open("attr", &[("name", b"s"), ("line", b"1")]);
/// w.empty("string", &[("value", b"a<b")]);
/// w.close();
/// w.close();
/// w.empty("null", &[]);
/// let text = w.finish();
/// assert_eq!(
///     String::from_utf8(text)?,
///     "<?xml version='1.0' encoding='utf-8'?>\n<expr>\n  <attrs>\n    \
///      <attr line=\"1\" name=\"s\">\n      <string value=\"a&lt;b\" />\n    </attr>\n  \
///      </attrs>\n  <null />\n</expr>\n"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct XmlWriter {
    out: Vec<u8>,
    open: Vec<String>,
}

impl Default for XmlWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl XmlWriter {
    /// Starts a document (writes the `<?xml …?>` header line).
    pub fn new() -> Self {
        XmlWriter {
            out: b"<?xml version='1.0' encoding='utf-8'?>\n".to_vec(),
            open: Vec::new(),
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.open.len() {
            self.out.extend_from_slice(b"  ");
        }
    }

    fn start_tag(&mut self, name: &str, attrs: &[(&str, &[u8])]) {
        self.indent();
        self.out.push(b'<');
        self.out.extend_from_slice(name.as_bytes());
        let mut sorted: Vec<&(&str, &[u8])> = attrs.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        for (key, value) in sorted {
            self.out.push(b' ');
            self.out.extend_from_slice(key.as_bytes());
            self.out.extend_from_slice(b"=\"");
            escape_attr(&mut self.out, value);
            self.out.push(b'"');
        }
    }

    /// Opens an element with the given attributes (written sorted by name).
    pub fn open(&mut self, name: &str, attrs: &[(&str, &[u8])]) {
        self.start_tag(name, attrs);
        self.out.extend_from_slice(b">\n");
        self.open.push(name.to_string());
    }

    /// Writes an element with no content: `<name a="…" />`.
    pub fn empty(&mut self, name: &str, attrs: &[(&str, &[u8])]) {
        self.start_tag(name, attrs);
        self.out.extend_from_slice(b" />\n");
    }

    /// Closes the innermost open element; does nothing if none is open.
    pub fn close(&mut self) {
        if let Some(name) = self.open.pop() {
            self.indent();
            self.out.extend_from_slice(b"</");
            self.out.extend_from_slice(name.as_bytes());
            self.out.extend_from_slice(b">\n");
        }
    }

    /// Closes every open element and returns the document.
    pub fn finish(mut self) -> Vec<u8> {
        while !self.open.is_empty() {
            self.close();
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `builtins.toXML { s = "a<b>c&d\"e'f\ng\th\ri é\x01"; "x<y" = 1; }` printed in
    /// CppNix 2.8.
    #[test]
    fn matches_cppnix_to_xml() {
        let mut w = XmlWriter::new();
        w.open("expr", &[]);
        w.open("attrs", &[]);
        w.open("attr", &[("name", b"s")]);
        w.empty(
            "string",
            &[("value", "a<b>c&d\"e'f\ng\th\ri é\x01".as_bytes())],
        );
        w.close();
        w.open("attr", &[("name", b"x<y")]);
        w.empty("int", &[("value", b"1")]);
        let got = w.finish();
        let want = "<?xml version='1.0' encoding='utf-8'?>\n<expr>\n  <attrs>\n    <attr name=\"s\">\n      <string value=\"a&lt;b&gt;c&amp;d&quot;e'f&#xA;g\th\ri é\x01\" />\n    </attr>\n    <attr name=\"x&lt;y\">\n      <int value=\"1\" />\n    </attr>\n  </attrs>\n</expr>\n";
        assert_eq!(String::from_utf8_lossy(&got), want);
    }

    #[test]
    fn attributes_sorted_and_empty_element() {
        let mut w = XmlWriter::new();
        w.open("expr", &[]);
        w.open(
            "attr",
            &[
                ("path", b"/x"),
                ("name", b"s"),
                ("line", b"1"),
                ("column", b"3"),
            ],
        );
        w.close();
        w.empty("null", &[]);
        w.close();
        w.close(); // extra close is ignored
        let got = w.finish();
        assert_eq!(
            String::from_utf8_lossy(&got),
            "<?xml version='1.0' encoding='utf-8'?>\n<expr>\n  <attr column=\"3\" line=\"1\" name=\"s\" path=\"/x\">\n  </attr>\n  <null />\n</expr>\n"
        );
    }
}
