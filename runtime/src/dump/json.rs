//! JSON and NDJSON: PyPCAPKit's layout (`Global Header`, `Frame 1`, ... with layers nested
//! in chain order) with typed values: numbers as numbers, addresses as text, enums as
//! `{"name": ..., "value": ...}`, bytes as hex.

use std::io::{self, Write};

use super::Dumper;
use crate::chain::{Frame, Layer, LayerKind, Reassembled, ReassemblyKind};
use crate::protocols::ProtocolId;
use crate::reader::{CaptureInfo, Interface, Section};
use crate::value::{write_bytes, write_hex, BytesDisplay, FieldInfo, Value, Visitor};

/// Builds JSON text in a `String`, keeping track of commas.
#[derive(Default)]
pub struct JsonText {
    pub out: String,
    /// Per open container: whether it has an element yet.
    stack: Vec<bool>,
    pretty: bool,
}

impl JsonText {
    pub fn new(pretty: bool) -> JsonText {
        JsonText {
            out: String::new(),
            stack: Vec::new(),
            pretty,
        }
    }

    fn newline(&mut self) {
        if self.pretty {
            self.out.push('\n');
            for _ in 0..self.stack.len() {
                self.out.push_str("  ");
            }
        }
    }

    /// Starts an element of the current container (comma and indentation).
    pub fn element(&mut self) {
        if let Some(has) = self.stack.last_mut() {
            if *has {
                self.out.push(',');
            }
            *has = true;
            self.newline();
        }
    }

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

    pub fn close(&mut self, bracket: char) {
        let had = self.stack.pop().unwrap_or(false);
        if had {
            self.newline();
        }
        self.out.push(bracket);
    }

    pub fn open_object(&mut self, key: &str) {
        self.key(key);
        self.open('{', false);
    }

    pub fn str_field(&mut self, key: &str, value: &str) {
        self.key(key);
        string(&mut self.out, value);
    }

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

/// Appends `s` as a JSON string.
pub fn string(out: &mut String, s: &str) {
    out.push('"');
    // Most strings need no escape: copy them whole.
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(s);
        out.push('"');
        return;
    }
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

/// A visitor writing a header's values as members of the open object.
struct Members<'a> {
    json: &'a mut JsonText,
    /// Per open list: whether its entries are objects (items) rather than values.
    lists: Vec<bool>,
}

impl Visitor for Members<'_> {
    fn field(&mut self, info: &'static FieldInfo, value: Value<'_>) {
        let in_bare_list = self.lists.last() == Some(&false);
        if !in_bare_list {
            self.json.key(info.name);
        }
        self.json.value(&value, in_bare_list);
    }

    fn begin_list(&mut self, info: &'static FieldInfo) {
        self.json.key(info.name);
        self.json.open('[', false);
        self.lists.push(false);
    }

    fn end_list(&mut self) {
        self.lists.pop();
        self.json.close(']');
    }

    fn begin_item(&mut self) {
        if let Some(l) = self.lists.last_mut() {
            *l = true;
        }
        self.json.open('{', true);
        self.lists.push(true);
    }

    fn end_item(&mut self) {
        self.lists.pop();
        self.json.close('}');
    }
}

/// Writes the members of an object for a header (through its generated visitor).
pub fn header_members(json: &mut JsonText, visit: impl FnOnce(&mut dyn Visitor)) {
    let mut members = Members {
        json,
        lists: Vec::new(),
    };
    visit(&mut members);
}

fn layer_key(layer: &Layer) -> &'static str {
    match &layer.kind {
        LayerKind::Header(h) => h.protocol().id(),
        LayerKind::Raw => "raw",
        LayerKind::Malformed { .. } => "malformed",
    }
}

/// Writes a frame as the members of an open object.
pub fn frame_members(json: &mut JsonText, frame: &Frame, nanosecond: bool) {
    json.open_object("frame_info");
    json.key("ts_sec");
    json.value(&Value::Int(frame.timestamp.secs), false);
    if nanosecond {
        json.uint_field("ts_nsec", u64::from(frame.timestamp.nanos));
    } else {
        json.uint_field("ts_usec", u64::from(frame.timestamp.nanos / 1000));
    }
    json.uint_field("incl_len", u64::from(frame.cap_len));
    json.uint_field("orig_len", u64::from(frame.len));
    json.close('}');
    json.uint_field("number", frame.number);
    json.str_field("time", &frame.timestamp.iso8601());
    json.str_field("time_epoch", &frame.timestamp.epoch());
    json.uint_field("len", u64::from(frame.len));
    json.uint_field("cap_len", u64::from(frame.cap_len));
    if let Some(i) = frame.interface {
        json.uint_field("interface", u64::from(i));
    }
    json.key("linktype");
    json.value(
        &Value::enumerated(u64::from(frame.linktype), crate::registry::linktype),
        false,
    );
    let mut depth = 0;
    let mut stream = frame.tcp_stream;
    for (layer, data) in frame.all_layers() {
        json.open_object(layer_key(layer));
        depth += 1;
        match &layer.kind {
            LayerKind::Header(h) => {
                if layer.name != h.protocol().name() {
                    json.str_field("name", layer.name);
                }
                header_members(json, |v| layer.visit(v));
                if layer.missing > 0 {
                    json.uint_field("missing", layer.missing);
                }
                if let Some(reason) = &layer.truncated {
                    json.str_field("truncated", reason);
                }
                if h.protocol() == ProtocolId::Tcp {
                    if let Some(s) = stream.take() {
                        json.uint_field("stream", s);
                    }
                }
            }
            LayerKind::Raw => {
                json.uint_field("length", layer.header_len as u64);
                hex_field(json, "packet", &data[layer.header_range()]);
            }
            LayerKind::Malformed { protocol, reason } => {
                json.str_field("protocol", protocol.id());
                json.uint_field("offset", layer.offset as u64);
                json.str_field("reason", reason);
                hex_field(json, "packet", &data[layer.header_range()]);
            }
        }
    }
    for _ in 0..depth {
        json.close('}');
    }
    if !frame.reassembled.is_empty() {
        json.key("reassembly");
        json.open('[', false);
        for r in &frame.reassembled {
            json.open('{', true);
            reassembled_members(json, r);
            json.close('}');
        }
        json.close(']');
    }
    if !frame.notes.is_empty() {
        json.key("notes");
        json.open('[', false);
        for note in &frame.notes {
            json.value(&Value::Text(note), true);
        }
        json.close(']');
    }
    json.key("protocols");
    let mut chain = String::new();
    frame.write_protocols(&mut chain);
    string(&mut json.out, &chain);
    hex_field(json, "packet", &frame.data);
}

/// What reassembly did, as members of an open object: which datagram or stream, which
/// frames, whether complete, what is missing; the dissected layers are in the frame's
/// layer nesting, not here.
pub fn reassembled_members(json: &mut JsonText, r: &Reassembled) {
    json.str_field("kind", r.kind.name());
    json.uint_field("id", r.id);
    if r.kind == ReassemblyKind::Tcp {
        json.str_field("src", &r.src.to_string());
        json.str_field("dst", &r.dst.to_string());
    } else {
        json.str_field("src", &r.src.addr.to_string());
        json.str_field("dst", &r.dst.addr.to_string());
    }
    if let Some(p) = r.protocol {
        json.str_field("protocol", p.id());
    }
    json.uint_field("offset", r.offset);
    json.uint_field("length", r.data.len() as u64);
    json.key("completed");
    json.value(&Value::Bool(r.completed), false);
    json.key("frames");
    json.open('[', false);
    for f in &r.frames {
        json.value(&Value::Uint(*f), true);
    }
    json.close(']');
    if !r.holes.is_empty() {
        json.key("holes");
        json.open('[', false);
        for h in &r.holes {
            json.open('[', true);
            json.value(&Value::Uint(h.start), true);
            if h.end == crate::reassembly::OPEN_END {
                json.element();
                json.out.push_str("null");
            } else {
                json.value(&Value::Uint(h.end), true);
            }
            json.close(']');
        }
        json.close(']');
    }
    if !r.anomalies.is_empty() {
        json.key("anomalies");
        json.open('[', false);
        for a in &r.anomalies {
            json.value(&Value::Text(a), true);
        }
        json.close(']');
    }
}

fn hex_field(json: &mut JsonText, key: &str, bytes: &[u8]) {
    json.key(key);
    json.out.push('"');
    write_hex(&mut json.out, bytes);
    json.out.push('"');
}

/// `json`: one document, `{"Global Header": {...}, "Frame 1": {...}, ...}`.
pub struct Json<W: Write> {
    out: W,
    text: JsonText,
    nanosecond: bool,
    interfaces: u32,
}

impl<W: Write> Json<W> {
    /// Writes to `out`, a frame at a time; wrap a file in a `BufWriter`.
    pub fn new(out: W) -> Self {
        let mut text = JsonText::new(true);
        text.open('{', false);
        Json {
            out,
            text,
            nanosecond: false,
            interfaces: 0,
        }
    }

    fn flush_text(&mut self) -> io::Result<()> {
        self.out.write_all(self.text.out.as_bytes())?;
        self.text.out.clear();
        Ok(())
    }
}

impl<W: Write> Dumper for Json<W> {
    fn header(&mut self, info: &CaptureInfo) -> io::Result<()> {
        if let CaptureInfo::Pcap(h) = info {
            self.nanosecond = h.nanosecond;
            self.text.open_object("Global Header");
            header_members(&mut self.text, |v| h.raw.visit(v));
            self.text.str_field("byte_order", h.byte_order.name());
            self.text.key("nanosecond");
            self.text.value(&Value::Bool(h.nanosecond), false);
            self.text.close('}');
        } else {
            self.nanosecond = true;
        }
        self.flush_text()
    }

    fn section(&mut self, s: &Section) -> io::Result<()> {
        self.text
            .open_object(&format!("Section Header {}", s.number));
        self.text.str_field("byte_order", s.byte_order.name());
        header_members(&mut self.text, |v| s.header.visit(v));
        self.text.close('}');
        self.flush_text()
    }

    fn interface(&mut self, i: &Interface) -> io::Result<()> {
        self.interfaces += 1;
        self.text
            .open_object(&format!("Interface Description {}", self.interfaces));
        self.text.uint_field("section", u64::from(i.section));
        self.text.uint_field("index", u64::from(i.index));
        header_members(&mut self.text, |v| i.header.visit(v));
        self.text.close('}');
        self.flush_text()
    }

    fn frame(&mut self, frame: &Frame) -> io::Result<()> {
        let mut key = String::from("Frame ");
        key.push_str(itoa::Buffer::new().format(frame.number));
        self.text.open_object(&key);
        frame_members(&mut self.text, frame, self.nanosecond);
        self.text.close('}');
        self.flush_text()
    }

    fn reassembled_at_end(&mut self, incomplete: &[Reassembled]) -> io::Result<()> {
        if incomplete.is_empty() {
            return Ok(());
        }
        self.text.key("Incomplete Reassembly");
        self.text.open('[', false);
        for r in incomplete {
            self.text.open('{', true);
            reassembled_members(&mut self.text, r);
            self.text.close('}');
        }
        self.text.close(']');
        self.flush_text()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.text.close('}');
        self.text.out.push('\n');
        self.flush_text()?;
        self.out.flush()
    }
}

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
        self.text.open('{', false);
        frame_members(&mut self.text, frame, self.nanosecond);
        self.text.close('}');
        self.text.out.push('\n');
        self.out.write_all(self.text.out.as_bytes())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
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
