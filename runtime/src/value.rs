//! Typed values of dissected fields, and the visitor the dumpers implement.
//!
//! Every generated header hands its values to a [`Visitor`] in wire order, each with the
//! [`FieldInfo`] that names it (`tcp.srcport`). Values stay typed until a dumper decides
//! how to print them: numbers as numbers, addresses as text, enums with name and value.

use std::fmt::{self, Write};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Static description of one value a protocol shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldInfo {
    /// Global index, below [`crate::protocols::FIELD_COUNT`].
    pub id: u32,
    /// Where the value's bytes end in its header, when that does not vary (`u32::MAX`
    /// otherwise): a header cut short by the snapshot length still shows what it holds.
    pub end: u32,
    /// The protocol's spec id.
    pub protocol: &'static str,
    /// Full path, as used with `-e` (`tcp.mss`).
    pub path: &'static str,
    /// Wireshark display-filter name (`ip.src`), when the spec gives one: `-e` takes
    /// it as well as the path.
    pub wireshark: Option<&'static str>,
    /// Key in JSON output (`mss`).
    pub name: &'static str,
    /// Type, as `pcapkit fields --list` shows it (`u16`, `bool`, `u16 (ethertype)`).
    pub ty: &'static str,
    /// One line from the spec.
    pub doc: &'static str,
}

/// How a byte string is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BytesDisplay {
    /// As lower-case hex without separators (the default).
    Hex,
    /// As a MAC address when 6 bytes long, hex otherwise.
    Mac,
    /// As an IPv4 address when 4 bytes long, hex otherwise.
    Ipv4,
    /// As an IPv6 address when 16 bytes long, hex otherwise.
    Ipv6,
    /// As (lossy UTF-8) text.
    Text,
}

/// One dissected value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    /// An unsigned integer or bit range.
    Uint(u64),
    /// A signed integer.
    Int(i64),
    /// A one-bit flag.
    Bool(bool),
    /// A registry value: its number, and its name when the registry knows it.
    Enum(u64, Option<&'static str>),
    /// A MAC address.
    Mac([u8; 6]),
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address.
    Ipv6(Ipv6Addr),
    /// A byte string, and how to show it.
    Bytes(&'a [u8], BytesDisplay),
    /// Text, such as an HTTP method or header value.
    Text(&'a str),
}

impl Value<'_> {
    /// A registry value, named by `registry` when it knows it.
    pub fn enumerated(value: u64, registry: fn(u64) -> Option<&'static str>) -> Value<'static> {
        Value::Enum(value, registry(value))
    }

    /// Writes the value the way `tshark -T fields` does: integers in decimal, booleans as
    /// 1/0, MACs in lower-case hex with colons, IPv6 in RFC 5952 form, bytes in hex.
    ///
    /// ```
    /// use pcapkit::value::Value;
    /// let mut s = String::new();
    /// Value::Mac([0, 0x1b, 0x21, 0xaa, 0xbb, 0xcc]).write_text(&mut s);
    /// assert_eq!(s, "00:1b:21:aa:bb:cc");
    /// ```
    pub fn write_text(&self, out: &mut String) {
        match *self {
            Value::Uint(v) | Value::Enum(v, _) => out.push_str(itoa::Buffer::new().format(v)),
            Value::Int(v) => out.push_str(itoa::Buffer::new().format(v)),
            Value::Bool(b) => out.push(if b { '1' } else { '0' }),
            Value::Mac(m) => write_mac(out, &m),
            Value::Ipv4(a) => write_ipv4(out, a.octets()),
            Value::Ipv6(a) => {
                let _ = write!(out, "{a}");
            }
            Value::Bytes(b, display) => write_bytes(out, b, display),
            Value::Text(t) => out.push_str(t),
        }
    }
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.write_text(&mut s);
        f.write_str(&s)
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lower-case hex, no separators.
pub fn write_hex(out: &mut String, bytes: &[u8]) {
    // A chunk at a time through a stack buffer, encoded with SIMD where the CPU has it:
    // every frame's bytes are shown as hex in the dumps.
    let mut buf = [0u8; 1024];
    for chunk in bytes.chunks(buf.len() / 2) {
        let digits = faster_hex::hex_encode(chunk, &mut buf[..chunk.len() * 2])
            .expect("the buffer holds two digits a byte");
        out.push_str(digits);
    }
}

fn write_mac(out: &mut String, m: &[u8]) {
    for (i, b) in m.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0xf)] as char);
    }
}

fn write_ipv4(out: &mut String, o: [u8; 4]) {
    let mut buf = itoa::Buffer::new();
    for (i, b) in o.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(buf.format(*b));
    }
}

/// A byte string as its display asks, falling back to hex when the length does not fit.
pub fn write_bytes(out: &mut String, b: &[u8], display: BytesDisplay) {
    match display {
        BytesDisplay::Mac if b.len() == 6 => write_mac(out, b),
        BytesDisplay::Ipv4 if b.len() == 4 => write_ipv4(out, [b[0], b[1], b[2], b[3]]),
        BytesDisplay::Ipv6 if b.len() == 16 => {
            let octets: [u8; 16] = b.try_into().expect("length checked");
            let _ = write!(out, "{}", Ipv6Addr::from(octets));
        }
        BytesDisplay::Text => out.push_str(&String::from_utf8_lossy(b)),
        _ => write_hex(out, b),
    }
}

/// Receives the values of a header, in wire order. Lists (TLV options, address lists,
/// header fields) are bracketed by `begin_list`/`end_list`; the entries of a list of
/// records by `begin_item`/`end_item`; a record that is a field of its own by
/// `begin_record`/`end_record`.
pub trait Visitor {
    /// One value, and the field it belongs to.
    fn field(&mut self, info: &'static FieldInfo, value: Value<'_>);
    /// The whole value of a field split into bit ranges (`l2tp.flags_version`, tshark's
    /// `l2tp.flags`), just before its ranges come as fields of their own. Only what
    /// prints the values asked for by name (`-e`) takes it; the dumps show the ranges.
    fn whole(&mut self, _info: &'static FieldInfo, _value: Value<'_>) {}
    /// A list field starts; its values or items follow, up to the matching `end_list`.
    fn begin_list(&mut self, _info: &'static FieldInfo) {}
    /// The list opened last ends.
    fn end_list(&mut self) {}
    /// An entry of the current list starts (a TLV option, a record).
    fn begin_item(&mut self) {}
    /// The entry opened last ends.
    fn end_item(&mut self) {}
    /// A record (a field whose type is a spec's `[[record]]`, or a switch's case) starts;
    /// its values follow, up to the matching `end_record`.
    fn begin_record(&mut self, _info: &'static FieldInfo) {}
    /// The record opened last ends.
    fn end_record(&mut self) {}
    /// Whether to visit the option list `info`, whose options' values are `values`, at
    /// all: a visitor that only collects some fields says no to lists that hold none of
    /// them, and the options are then not even decoded.
    fn wants_list(&mut self, _info: &'static FieldInfo, _values: &'static [FieldInfo]) -> bool {
        true
    }
}

/// A registry's table of named values, for listings.
#[derive(Debug)]
pub struct Registry {
    /// The spec id, as fields' `enum` names it (`ethertype`).
    pub id: &'static str,
    /// What the values are (`ARP hardware type`).
    pub title: &'static str,
    /// Where the names come from (an IANA registry, an RFC, a header file).
    pub source: &'static str,
    /// Every named value and its name, by increasing value.
    pub values: &'static [(u64, &'static str)],
}

/// For tests: everything a visitor is shown, in order, as text: values with their paths,
/// and the lists, items and records around them (to compare two ways of showing a
/// header).
#[cfg(test)]
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Transcript(pub Vec<String>);

#[cfg(test)]
impl Visitor for Transcript {
    fn field(&mut self, info: &'static FieldInfo, value: Value<'_>) {
        self.0.push(format!("{}={value}", info.path));
    }
    fn whole(&mut self, info: &'static FieldInfo, value: Value<'_>) {
        self.0.push(format!("whole {}={value}", info.path));
    }
    fn begin_list(&mut self, info: &'static FieldInfo) {
        self.0.push(format!("[{}", info.path));
    }
    fn end_list(&mut self) {
        self.0.push("]".into());
    }
    fn begin_item(&mut self) {
        self.0.push("{".into());
    }
    fn end_item(&mut self) {
        self.0.push("}".into());
    }
    fn begin_record(&mut self, info: &'static FieldInfo) {
        self.0.push(format!("({}", info.path));
    }
    fn end_record(&mut self) {
        self.0.push(")".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any bytes, across the encoder's chunks, as two lower-case digits each.
        #[test]
        fn hex_is_two_lower_case_digits_a_byte(
            bytes in prop::collection::vec(any::<u8>(), 0..1500),
        ) {
            let mut out = String::from("x");
            write_hex(&mut out, &bytes);
            let want: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            prop_assert_eq!(out, format!("x{want}"));
        }
    }

    fn text(v: Value) -> String {
        let mut s = String::new();
        v.write_text(&mut s);
        s
    }

    #[test]
    fn values_print_like_tshark_fields() {
        assert_eq!(text(Value::Uint(2048)), "2048");
        assert_eq!(text(Value::Int(-5)), "-5");
        assert_eq!(text(Value::Enum(0x800, Some("IPv4"))), "2048");
        assert_eq!(text(Value::Bool(true)), "1");
        assert_eq!(text(Value::Bool(false)), "0");
        assert_eq!(text(Value::Ipv4(Ipv4Addr::new(10, 0, 0, 1))), "10.0.0.1");
        let v6: Ipv6Addr = "2001:db8:0:0:0:0:0:1".parse().unwrap();
        assert_eq!(text(Value::Ipv6(v6)), "2001:db8::1");
        assert_eq!(text(Value::Bytes(&[0xde, 0xad], BytesDisplay::Hex)), "dead");
        let long: Vec<u8> = (0..=255).cycle().take(1000).collect();
        let hex = text(Value::Bytes(&long, BytesDisplay::Hex));
        assert_eq!(hex.len(), 2000);
        assert!(hex.starts_with("000102") && hex[510..].starts_with("ff00"));
        assert_eq!(
            text(Value::Bytes(&[10, 0, 0, 1], BytesDisplay::Ipv4)),
            "10.0.0.1"
        );
        assert_eq!(
            text(Value::Bytes(&[1, 2, 3], BytesDisplay::Mac)),
            "010203",
            "wrong length falls back to hex"
        );
        assert_eq!(text(Value::Bytes(b"GET", BytesDisplay::Text)), "GET");
    }
}
