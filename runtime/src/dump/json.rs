//! JSON and NDJSON: PyPCAPKit's layout (`Global Header`, `Frame 1`, ... with layers nested
//! in chain order) with typed values: numbers as numbers, addresses as text, enums as
//! `{"name": ..., "value": ...}`, bytes as hex.

use std::io::{self, Write};

use super::walk::{self, Document, DocumentWriter, EntryRender, Leaf, TreeWriter};
use super::{Dumper, Render};
use crate::chain::Frame;
use crate::reader::CaptureInfo;
use crate::value::{write_bytes, BytesDisplay, Value};

/// Builds JSON text in a `String`, keeping track of commas; pretty (indented) by default.
#[derive(Clone)]
pub struct JsonText {
    /// The text built so far.
    pub out: String,
    /// Per open container: whether it has an element yet.
    stack: Vec<bool>,
    pretty: bool,
}

impl Default for JsonText {
    fn default() -> JsonText {
        JsonText::new(true)
    }
}

impl JsonText {
    /// An empty text, indented when `pretty`.
    pub fn new(pretty: bool) -> JsonText {
        JsonText {
            out: String::new(),
            stack: Vec::new(),
            pretty,
        }
    }

    /// A line break and the current indentation, after a comma when `comma`.
    fn newline(&mut self, comma: bool) {
        if !self.pretty {
            if comma {
                self.out.push(',');
            }
            return;
        }
        // Comma, line break and two spaces a level, in one copy while the depth allows.
        const INDENT: &str = concat!(
            ",\n",
            "                                ",
            "                                "
        );
        let from = usize::from(!comma);
        let end = 2 + 2 * self.stack.len();
        match INDENT.get(from..end) {
            Some(indent) => self.out.push_str(indent),
            None => {
                self.out.push_str(&INDENT[from..]);
                for _ in INDENT.len()..end {
                    self.out.push(' ');
                }
            }
        }
    }

    /// Starts an element of the current container (comma and indentation).
    pub fn element(&mut self) {
        if let Some(has) = self.stack.last_mut() {
            let comma = std::mem::replace(has, true);
            self.newline(comma);
        }
    }

    /// A key, or a list element's comma when `None`.
    fn start(&mut self, key: Option<&str>) {
        match key {
            Some(k) => self.key(k),
            None => self.element(),
        }
    }

    /// Starts a member of the current object: its key.
    pub fn key(&mut self, key: &str) {
        self.element();
        string(&mut self.out, key);
        self.out.push(':');
        if self.pretty {
            self.out.push(' ');
        }
    }

    /// Opens an object, as a value (after `key`, or in an array when `in_array`).
    pub fn open(&mut self, bracket: char, in_array: bool) {
        if in_array {
            self.element();
        }
        self.out.push(bracket);
        self.stack.push(false);
    }

    /// Closes the container opened last.
    pub fn close(&mut self, bracket: char) {
        let had = self.stack.pop().unwrap_or(false);
        if had {
            self.newline(false);
        }
        self.out.push(bracket);
    }

    /// Opens an object under `key`.
    pub fn open_object(&mut self, key: &str) {
        self.key(key);
        self.open('{', false);
    }

    /// A number member.
    pub fn uint_field(&mut self, key: &str, value: u64) {
        self.key(key);
        self.out.push_str(itoa::Buffer::new().format(value));
    }

    /// Writes a value, after a key or as an array element.
    pub fn value(&mut self, value: &Value<'_>, in_array: bool) {
        if in_array {
            self.element();
        }
        let out = &mut self.out;
        match *value {
            Value::Uint(v) => out.push_str(itoa::Buffer::new().format(v)),
            Value::Int(v) => out.push_str(itoa::Buffer::new().format(v)),
            Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
            Value::Enum(v, name) => {
                out.push_str("{\"name\":");
                match name {
                    Some(n) => string(out, n),
                    None => out.push_str("null"),
                }
                out.push_str(",\"value\":");
                out.push_str(itoa::Buffer::new().format(v));
                out.push('}');
            }
            Value::Text(t) => string(out, t),
            Value::Bytes(b, BytesDisplay::Text) => string(out, &String::from_utf8_lossy(b)),
            Value::Bytes(b, display) => {
                out.push('"');
                write_bytes(out, b, display);
                out.push('"');
            }
            // Addresses and MACs print as plain ASCII.
            Value::Mac(_) | Value::Ipv4(_) | Value::Ipv6(_) => {
                out.push('"');
                value.write_text(out);
                out.push('"');
            }
        }
    }
}

/// The bytes a JSON string escapes: control characters, the quote and the backslash.
static ESCAPED: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = true;
        b += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// Appends `s` as a JSON string.
pub fn string(out: &mut String, s: &str) {
    // Most strings (every key) need no escape: copied whole, after one look-up a byte.
    if !s.bytes().any(|b| ESCAPED[usize::from(b)]) {
        out.reserve(s.len() + 2);
        out.push('"');
        out.push_str(s);
        out.push('"');
        return;
    }
    out.push('"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push_str(escape);
        }
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
    out.push('"');
}

impl TreeWriter for JsonText {
    fn open_dict(&mut self, key: Option<&str>) {
        self.start(key);
        self.out.push('{');
        self.stack.push(false);
    }

    fn open_list(&mut self, key: Option<&str>) {
        self.start(key);
        self.out.push('[');
        self.stack.push(false);
    }

    fn leaf(&mut self, key: Option<&str>, leaf: Leaf<'_>) {
        self.start(key);
        match leaf {
            Leaf::Value(v) => self.value(&v, false),
            Leaf::Null => self.out.push_str("null"),
            Leaf::Time(t) => string(
                &mut self.out,
                t.iso8601_in(&mut [0; crate::Timestamp::ISO8601_LEN]),
            ),
        }
    }

    fn close_dict(&mut self) {
        self.close('}');
    }

    fn close_list(&mut self) {
        self.close(']');
    }
}

impl DocumentWriter for JsonText {
    fn begin(&mut self) {
        self.open_dict(None);
    }

    fn end(&mut self) {
        self.close('}');
        self.out.push('\n');
    }

    fn text(&mut self) -> &mut String {
        &mut self.out
    }

    fn renderer(&self, nanosecond: bool) -> Option<Box<dyn Render>> {
        // As before the document's first entry: the comma is `join`'s.
        let template = JsonText {
            out: String::new(),
            stack: vec![false; self.stack.len()],
            pretty: self.pretty,
        };
        Some(Box::new(EntryRender {
            template,
            nanosecond,
        }))
    }

    fn join(&mut self) {
        if let Some(has) = self.stack.last_mut() {
            if *has {
                self.out.push(',');
            }
            *has = true;
        }
    }
}

/// `json`: one document, `{"Global Header": {...}, "Frame 1": {...}, ...}`.
pub type Json<W> = Document<W, JsonText>;

/// `ndjson`: one compact frame object a line, for streaming and jq.
pub struct Ndjson<W: Write> {
    out: W,
    text: JsonText,
    nanosecond: bool,
}

impl<W: Write> Ndjson<W> {
    /// Writes to `out`, a line per frame; wrap a file in a `BufWriter`.
    pub fn new(out: W) -> Self {
        Ndjson {
            out,
            text: JsonText::new(false),
            nanosecond: true,
        }
    }
}

impl<W: Write> Ndjson<W> {
    /// The output, to take what was written so far (a flow trace's buffer).
    pub fn output_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Gives back the memory the text of a large frame left behind.
    pub fn shrink(&mut self) {
        self.text.out.shrink_to(1024);
    }
}

impl<W: Write> Dumper for Ndjson<W> {
    fn header(&mut self, info: &CaptureInfo) -> io::Result<()> {
        self.nanosecond = match info {
            CaptureInfo::Pcap(h) => h.nanosecond,
            CaptureInfo::Pcapng => true,
        };
        Ok(())
    }

    fn frame(&mut self, frame: &Frame) -> io::Result<()> {
        self.text.out.clear();
        walk::frame(&mut self.text, None, frame, self.nanosecond);
        self.text.out.push('\n');
        self.out.write_all(self.text.out.as_bytes())
    }

    fn renderer(&self) -> Option<Box<dyn Render>> {
        Some(Box::new(NdjsonRender {
            text: JsonText::new(false),
            nanosecond: self.nanosecond,
        }))
    }

    fn rendered(&mut self, _frame: &Frame, text: &str) -> io::Result<()> {
        self.out.write_all(text.as_bytes())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// NDJSON's lines, rendered on another thread: a line holds nothing from the lines before.
struct NdjsonRender {
    text: JsonText,
    nanosecond: bool,
}

impl Render for NdjsonRender {
    fn render(&mut self, frame: &Frame, out: &mut String) {
        std::mem::swap(&mut self.text.out, out);
        walk::frame(&mut self.text, None, frame, self.nanosecond);
        self.text.out.push('\n');
        std::mem::swap(&mut self.text.out, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        let mut s = String::new();
        string(&mut s, "a\"b\\c\nd\u{1}é");
        assert_eq!(s, r#""a\"b\\c\nd\u0001é""#);
    }

    #[test]
    fn indentation_past_the_prepared_depth() {
        // Deeper than the indentation string: the rest of each line's spaces are added.
        let mut j = JsonText::new(true);
        for _ in 0..40 {
            j.open('[', true);
        }
        j.value(&Value::Uint(7), true);
        for _ in 0..40 {
            j.close(']');
        }
        let mut want = String::new();
        for depth in 0..40 {
            if depth > 0 {
                want.push('\n');
                want.push_str(&"  ".repeat(depth));
            }
            want.push('[');
        }
        want.push('\n');
        want.push_str(&"  ".repeat(40));
        want.push('7');
        for depth in (0..40).rev() {
            want.push('\n');
            want.push_str(&"  ".repeat(depth));
            want.push(']');
        }
        assert_eq!(j.out, want);
    }

    #[test]
    fn commas_and_nesting() {
        let mut j = JsonText::new(false);
        j.open('{', false);
        j.uint_field("a", 1);
        j.key("b");
        j.open('[', false);
        j.value(&Value::Bool(true), true);
        j.value(&Value::Enum(6, Some("TCP")), true);
        j.close(']');
        j.open_object("c");
        j.close('}');
        j.close('}');
        assert_eq!(
            j.out,
            r#"{"a":1,"b":[true,{"name":"TCP","value":6}],"c":{}}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&j.out).unwrap();
        assert_eq!(parsed["b"][1]["value"], 6);
    }
}
