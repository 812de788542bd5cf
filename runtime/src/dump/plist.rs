//! `plist`: an XML property list (Apple's plist 1.0 DTD) in PyPCAPKit's layout, written
//! as the walk goes (the `plist` crate builds whole documents in memory; this keeps memory
//! flat). Values: numbers as `<integer>`, flags as `<true/>`/`<false/>`, addresses and
//! text as `<string>`, raw bytes as base64 `<data>`, enums as a dictionary of `name` (when
//! known) and `value`, the frame time as a whole-second `<date>` (the exact time is in
//! `time_epoch`), the open end of a hole as the string `null` (plist has no null).

use super::walk::{Document, DocumentWriter, EntryRender, Leaf, TreeWriter};
use super::Render;
use crate::value::{BytesDisplay, Value};

/// Builds plist XML text in a `String`, indented with tabs as Apple's tools do.
#[derive(Default, Clone)]
pub struct PlistText {
    out: String,
    /// Open containers, the document's own dictionary included.
    depth: usize,
}

/// `plist`: one XML property list, `Global Header`, `Frame 1`, ... as keys of its dictionary.
pub type Plist<W> = Document<W, PlistText>;

const PROLOGUE: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
<plist version=\"1.0\">\n<dict>\n";

impl PlistText {
    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push('\t');
        }
    }

    fn key(&mut self, key: Option<&str>) {
        if let Some(k) = key {
            self.indent();
            self.out.push_str("<key>");
            escape(&mut self.out, k);
            self.out.push_str("</key>\n");
        }
    }

    /// One element on its own line.
    fn line(&mut self, open: &str, body: impl FnOnce(&mut String), close: &str) {
        self.indent();
        self.out.push_str(open);
        body(&mut self.out);
        self.out.push_str(close);
        self.out.push('\n');
    }

    fn string(&mut self, s: &str) {
        self.line("<string>", |o| escape(o, s), "</string>");
    }

    fn integer(&mut self, text: &str) {
        self.line("<integer>", |o| o.push_str(text), "</integer>");
    }

    fn value(&mut self, v: &Value<'_>) {
        match *v {
            Value::Uint(n) => self.integer(itoa::Buffer::new().format(n)),
            Value::Int(n) => self.integer(itoa::Buffer::new().format(n)),
            Value::Bool(b) => self.line(if b { "<true/>" } else { "<false/>" }, |_| {}, ""),
            Value::Enum(n, name) => {
                self.open_dict(None);
                if let Some(name) = name {
                    self.key(Some("name"));
                    self.string(name);
                }
                self.key(Some("value"));
                self.integer(itoa::Buffer::new().format(n));
                self.close_dict();
            }
            Value::Text(t) => self.string(t),
            Value::Bytes(b, BytesDisplay::Text) => self.string(&String::from_utf8_lossy(b)),
            Value::Bytes(b, d) if !shown_as_address(b, d) => {
                self.line("<data>", |o| base64(o, b), "</data>")
            }
            // Addresses (and bytes shown as one) are ASCII text.
            Value::Mac(_) | Value::Ipv4(_) | Value::Ipv6(_) | Value::Bytes(..) => {
                let mut s = String::new();
                v.write_text(&mut s);
                self.string(&s);
            }
        }
    }
}

/// Whether bytes are shown as an address (the length fits the display), not as bytes.
fn shown_as_address(b: &[u8], display: BytesDisplay) -> bool {
    matches!(
        (display, b.len()),
        (BytesDisplay::Mac, 6) | (BytesDisplay::Ipv4, 4) | (BytesDisplay::Ipv6, 16)
    )
}

impl TreeWriter for PlistText {
    fn open_dict(&mut self, key: Option<&str>) {
        self.key(key);
        self.line("<dict>", |_| {}, "");
        self.depth += 1;
    }

    fn open_list(&mut self, key: Option<&str>) {
        self.key(key);
        self.line("<array>", |_| {}, "");
        self.depth += 1;
    }

    fn leaf(&mut self, key: Option<&str>, leaf: Leaf<'_>) {
        self.key(key);
        match leaf {
            Leaf::Value(v) => self.value(&v),
            Leaf::Null => self.string("null"),
            Leaf::Time(t) => {
                let iso = t.iso8601();
                // plistlib reads `<date>` only without fractions and within years
                // 0001-9999 (Python's datetime); any other time stays text.
                let year_ok = iso.as_bytes().get(4) == Some(&b'-')
                    && iso[..4].bytes().all(|c| c.is_ascii_digit())
                    && &iso[..4] != "0000";
                if year_ok {
                    self.line("<date>", |o| o.push_str(&iso[..19]), "Z</date>");
                } else {
                    self.string(&iso);
                }
            }
        }
    }

    fn close_dict(&mut self) {
        self.depth -= 1;
        self.line("</dict>", |_| {}, "");
    }

    fn close_list(&mut self) {
        self.depth -= 1;
        self.line("</array>", |_| {}, "");
    }
}

impl DocumentWriter for PlistText {
    fn begin(&mut self) {
        self.out.push_str(PROLOGUE);
        self.depth = 1;
    }

    fn end(&mut self) {
        self.out.push_str("</dict>\n</plist>\n");
        self.depth = 0;
    }

    fn text(&mut self) -> &mut String {
        &mut self.out
    }

    fn renderer(&self, nanosecond: bool) -> Option<Box<dyn Render>> {
        let template = PlistText {
            out: String::new(),
            depth: self.depth,
        };
        Some(Box::new(EntryRender {
            template,
            nanosecond,
        }))
    }
}

/// Appends `s` as XML character data: markup characters escaped, a carriage return as a
/// reference (a parser would turn a literal one into a line feed), and characters XML 1.0
/// forbids (controls other than tab and line feed, U+FFFE, U+FFFF) replaced by U+FFFD.
pub fn escape(out: &mut String, s: &str) {
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let rep = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '\r' => "&#13;",
            '\t' | '\n' => continue,
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => "\u{fffd}",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        out.push_str(rep);
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
}

/// Appends `bytes` in standard base64 with padding (RFC 4648), as `<data>` holds them.
pub fn base64(out: &mut String, bytes: &[u8]) {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(b: &[u8]) -> String {
        let mut s = String::new();
        base64(&mut s, b);
        s
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        assert_eq!(b64(b""), "");
        assert_eq!(b64(b"f"), "Zg==");
        assert_eq!(b64(b"fo"), "Zm8=");
        assert_eq!(b64(b"foo"), "Zm9v");
        assert_eq!(b64(b"foob"), "Zm9vYg==");
        assert_eq!(b64(b"fooba"), "Zm9vYmE=");
        assert_eq!(b64(b"foobar"), "Zm9vYmFy");
        assert_eq!(b64(&[0xff, 0xfe, 0x00]), "//4A");
    }

    #[test]
    fn text_is_valid_xml() {
        let mut s = String::new();
        escape(&mut s, "a<b>&c\r\n\t\u{1}\u{ffff}é");
        assert_eq!(s, "a&lt;b&gt;&amp;c&#13;\n\t\u{fffd}\u{fffd}é");
    }

    #[test]
    fn dates_are_whole_seconds_and_years_out_of_range_are_text() {
        let mut p = PlistText::default();
        let t = crate::chain::Timestamp {
            secs: 1_700_000_000,
            nanos: 19_000_000,
        };
        p.leaf(Some("time"), Leaf::Time(t));
        assert_eq!(
            p.out,
            "<key>time</key>\n<date>2023-11-14T22:13:20Z</date>\n"
        );
        let mut p = PlistText::default();
        let far = crate::chain::Timestamp {
            secs: 400_000_000_000,
            nanos: 0,
        };
        p.leaf(None, Leaf::Time(far));
        assert!(p.out.starts_with("<string>"), "{}", p.out);
    }
}
