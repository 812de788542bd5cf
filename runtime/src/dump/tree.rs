//! `tree`: PyPCAPKit's indented text tree, one block per entry (`Global Header`,
//! `Frame 1`, ...), blocks apart by an empty line. A member is `|-- key -> value`, a
//! dictionary or list `|-- key` with its members below, a list's values `|--> value`, a
//! list's dictionaries `|-- [i]`; bytes are hex, 16 a line, below their key. The bar of a
//! level stops after its last member, so a block is laid out once it is complete.

use std::fmt::Write;

use super::walk::{Document, DocumentWriter, EntryRender, Leaf, TreeWriter};
use super::Render;
use crate::value::{BytesDisplay, Value};

/// How a line starts after its ancestors' bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    /// `|-- `: a member.
    Branch,
    /// `|--> `: a value of a list, or bytes below their key.
    Arrow,
    /// More lines of the value above.
    More,
}

#[derive(Clone)]
struct Line {
    depth: usize,
    mark: Mark,
    /// Range of the text in `TreeText::buf`.
    text: std::ops::Range<usize>,
}

/// Builds the tree text of one entry at a time.
#[derive(Default, Clone)]
pub struct TreeText {
    out: String,
    /// The lines of the entry being walked, and their text.
    lines: Vec<Line>,
    buf: String,
    /// Per open container: whether it is a list, and how many elements it has so far.
    stack: Vec<(bool, usize)>,
}

/// `tree`: an indented text tree, a block per entry.
pub type Tree<W> = Document<W, TreeText>;

/// Bytes a line of hex.
const HEX_PER_LINE: usize = 16;

impl TreeText {
    fn push_line(&mut self, depth: usize, mark: Mark, text: impl FnOnce(&mut String)) {
        let start = self.buf.len();
        text(&mut self.buf);
        self.lines.push(Line {
            depth,
            mark,
            text: start..self.buf.len(),
        });
    }

    /// The label of a new child of the open container: its key (control characters
    /// escaped, as in values: a third-party backend's keys may hold any text), or `[i]`
    /// in a list.
    fn label(&mut self, key: Option<&str>, out: &mut String) {
        match (key, self.stack.last_mut()) {
            (Some(k), _) => text(out, k),
            (None, Some((_, n))) => {
                let _ = write!(out, "[{n}]");
            }
            (None, None) => {}
        }
    }

    fn open(&mut self, key: Option<&str>, list: bool) {
        let mut label = String::new();
        self.label(key, &mut label);
        self.count();
        self.push_line(self.stack.len(), Mark::Branch, |o| o.push_str(&label));
        self.stack.push((list, 0));
    }

    fn count(&mut self) {
        if let Some((_, n)) = self.stack.last_mut() {
            *n += 1;
        }
    }

    /// Hex bytes, 16 a line, at `depth`: the first line marked `first`.
    fn hex_lines(&mut self, depth: usize, first: Mark, bytes: &[u8]) {
        for (i, chunk) in bytes.chunks(HEX_PER_LINE).enumerate() {
            let mark = if i == 0 { first } else { Mark::More };
            self.push_line(depth, mark, |o| {
                // A byte at a time through a table: `write!` per byte is slow on big captures.
                const HEX: &[u8; 16] = b"0123456789abcdef";
                for (j, b) in chunk.iter().enumerate() {
                    if j > 0 {
                        o.push(' ');
                    }
                    o.push(HEX[usize::from(b >> 4)] as char);
                    o.push(HEX[usize::from(b & 0xf)] as char);
                }
            });
        }
    }

    /// Lays out the complete entry: a bar continues below a member only while its
    /// dictionary or list has more members after it.
    fn render(&mut self) {
        // Backwards: `more[k]`: a member at depth k comes later, before its parent ends.
        // A line's bars as a bit mask (bit k: level k); levels past 127 always show one.
        let mut more = 0u128;
        let mut bars: Vec<u128> = Vec::with_capacity(self.lines.len());
        for line in self.lines.iter().rev() {
            bars.push(more);
            if line.mark != Mark::More && line.depth < 128 {
                more |= 1 << line.depth;
                more &= (1u128 << line.depth << 1).wrapping_sub(1);
            }
        }
        for (line, &bars) in self.lines.iter().zip(bars.iter().rev()) {
            if line.depth > 0 {
                self.out.push_str("  ");
                for k in 1..line.depth {
                    let bar = k >= 128 || bars >> k & 1 == 1;
                    self.out.push_str(if bar { "|     " } else { "      " });
                }
                self.out.push_str(match line.mark {
                    Mark::Branch => "|-- ",
                    Mark::Arrow => "|--> ",
                    Mark::More => "     ",
                });
            }
            self.out.push_str(&self.buf[line.text.clone()]);
            self.out.push('\n');
        }
        self.out.push('\n');
        self.lines.clear();
        self.buf.clear();
    }
}

/// Appends a value on one line: control characters escaped, so a value never breaks the
/// layout.
fn scalar(out: &mut String, leaf: &Leaf<'_>) {
    match leaf {
        Leaf::Null => out.push_str("None"),
        Leaf::Time(t) => out.push_str(t.iso8601_in(&mut [0; crate::Timestamp::ISO8601_LEN])),
        Leaf::Value(Value::Bool(b)) => out.push_str(if *b { "True" } else { "False" }),
        Leaf::Value(Value::Enum(n, name)) => {
            if let Some(name) = name {
                out.push_str(name);
                out.push(' ');
            }
            let _ = write!(out, "[{n}]");
        }
        Leaf::Value(Value::Text(t)) => text(out, t),
        Leaf::Value(Value::Bytes(b, BytesDisplay::Text)) => text(out, &String::from_utf8_lossy(b)),
        Leaf::Value(v) => v.write_text(out),
    }
}

fn text(out: &mut String, s: &str) {
    // Most text (every key of ours) is printable ASCII: copied whole.
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
}

/// The bytes of a leaf shown as hex (not as an address or text).
fn hex_bytes<'a>(leaf: &Leaf<'a>) -> Option<&'a [u8]> {
    match *leaf {
        Leaf::Value(Value::Bytes(b, d)) => match (d, b.len()) {
            (BytesDisplay::Text, _)
            | (BytesDisplay::Mac, 6)
            | (BytesDisplay::Ipv4, 4)
            | (BytesDisplay::Ipv6, 16) => None,
            _ => Some(b),
        },
        _ => None,
    }
}

impl TreeWriter for TreeText {
    fn open_dict(&mut self, key: Option<&str>) {
        self.open(key, false);
    }

    fn open_list(&mut self, key: Option<&str>) {
        self.open(key, true);
    }

    fn leaf(&mut self, key: Option<&str>, leaf: Leaf<'_>) {
        let depth = self.stack.len();
        let in_list = key.is_none() && self.stack.last().is_some_and(|(list, _)| *list);
        let mut label = String::new();
        self.label(key, &mut label);
        self.count();
        match hex_bytes(&leaf) {
            Some([]) if in_list => self.push_line(depth, Mark::Arrow, |o| o.push_str("NIL")),
            Some([]) => self.push_line(depth, Mark::Branch, |o| {
                o.push_str(&label);
                o.push_str(" -> NIL");
            }),
            Some(b) if in_list => self.hex_lines(depth, Mark::Arrow, b),
            Some(b) => {
                self.push_line(depth, Mark::Branch, |o| o.push_str(&label));
                self.hex_lines(depth + 1, Mark::Arrow, b);
            }
            None if in_list => self.push_line(depth, Mark::Arrow, |o| scalar(o, &leaf)),
            None => self.push_line(depth, Mark::Branch, |o| {
                o.push_str(&label);
                o.push_str(" -> ");
                scalar(o, &leaf);
            }),
        }
    }

    fn close_dict(&mut self) {
        self.stack.pop();
    }

    fn close_list(&mut self) {
        self.stack.pop();
    }
}

impl DocumentWriter for TreeText {
    fn begin(&mut self) {}

    fn entry_done(&mut self) {
        if !self.lines.is_empty() {
            self.render();
        }
    }

    fn end(&mut self) {}

    fn text(&mut self) -> &mut String {
        &mut self.out
    }

    fn renderer(&self, nanosecond: bool) -> Option<Box<dyn Render>> {
        // Entries are blocks of their own: nothing carries over from one to the next.
        Some(Box::new(EntryRender {
            template: TreeText::default(),
            nanosecond,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_bars_and_bytes_read_as_written_by_hand() {
        let mut t = TreeText::default();
        t.open_dict(Some("Frame 7"));
        t.open_list(Some("frames"));
        t.leaf(None, Leaf::Value(Value::Uint(1)));
        t.leaf(None, Leaf::Null);
        t.close_list();
        t.open_list(Some("options"));
        t.open_dict(None);
        t.leaf(Some("kind"), Leaf::Value(Value::Enum(2, Some("MSS"))));
        t.leaf(
            Some("data"),
            Leaf::Value(Value::Bytes(&[], BytesDisplay::Hex)),
        );
        t.close_dict();
        t.open_dict(None);
        t.leaf(Some("kind"), Leaf::Value(Value::Enum(99, None)));
        t.leaf(Some("text"), Leaf::Value(Value::Text("a\nb")));
        t.close_dict();
        t.close_list();
        let bytes: Vec<u8> = (0..18).collect();
        t.leaf(
            Some("packet"),
            Leaf::Value(Value::Bytes(&bytes, BytesDisplay::Hex)),
        );
        t.close_dict();
        t.entry_done();
        let want = "\
Frame 7
  |-- frames
  |     |--> 1
  |     |--> None
  |-- options
  |     |-- [0]
  |     |     |-- kind -> MSS [2]
  |     |     |-- data -> NIL
  |     |-- [1]
  |           |-- kind -> [99]
  |           |-- text -> a\\nb
  |-- packet
        |--> 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f
             10 11

";
        assert_eq!(t.out, want);
    }
}
