//! A dissected frame: its record metadata, its bytes, and its layers in order.

use std::fmt::{self, Write};
use std::ops::Range;

use crate::flow::Endpoint;
use crate::protocols::{Header, ProtocolId};
use crate::value::{FieldInfo, Value, Visitor};

/// A capture timestamp: seconds and nanoseconds since 1970-01-01 UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Timestamp {
    /// Whole seconds since the epoch; negative before 1970.
    pub secs: i64,
    /// Nanoseconds past `secs`, `0..1_000_000_000` (always forward in time, even when
    /// `secs` is negative).
    pub nanos: u32,
}

impl Timestamp {
    /// Room for [`epoch_in`](Self::epoch_in)'s text: a sign, 19 digits, a point and 9 (10
    /// with nanoseconds past their range).
    pub const EPOCH_LEN: usize = 32;
    /// Room for [`iso8601_in`](Self::iso8601_in)'s text: a signed year of up to 12 digits
    /// and the 22 bytes after it.
    pub const ISO8601_LEN: usize = 40;

    /// `1700000000.019000000`, as tshark's `frame.time_epoch`.
    ///
    /// ```
    /// use pcapkit::Timestamp;
    ///
    /// let t = Timestamp { secs: 1_700_000_000, nanos: 19_000_000 };
    /// assert_eq!(t.epoch(), "1700000000.019000000");
    /// assert_eq!(Timestamp { secs: -2, nanos: 500_000_000 }.epoch(), "-1.500000000");
    /// ```
    pub fn epoch(&self) -> String {
        self.epoch_in(&mut [0; Self::EPOCH_LEN]).to_owned()
    }

    /// [`epoch`](Self::epoch)'s text, made in `buf`: every frame of a dump and every row
    /// of `-e frame.time_epoch` shows one, so it is made without an allocation.
    pub fn epoch_in<'b>(&self, buf: &'b mut [u8; Self::EPOCH_LEN]) -> &'b str {
        let mut t = Digits { buf, len: 0 };
        if self.secs < 0 && self.nanos > 0 {
            // -1.5 s is secs = -2, nanos = 500_000_000.
            t.push(b'-');
            t.signed(-(self.secs + 1), 0);
            t.push(b'.');
            t.signed(i64::from(1_000_000_000u32.wrapping_sub(self.nanos)), 9);
        } else {
            t.signed(self.secs, 0);
            t.push(b'.');
            t.signed(i64::from(self.nanos), 9);
        }
        t.into_str()
    }

    /// ISO 8601 in UTC with microseconds, as PyPCAPKit's `time` (`2023-11-14T22:13:20.019000`).
    pub fn iso8601(&self) -> String {
        self.iso8601_in(&mut [0; Self::ISO8601_LEN]).to_owned()
    }

    /// [`iso8601`](Self::iso8601)'s text, made in `buf` (without an allocation).
    pub fn iso8601_in<'b>(&self, buf: &'b mut [u8; Self::ISO8601_LEN]) -> &'b str {
        let days = self.secs.div_euclid(86_400);
        let secs_of_day = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let mut t = Digits { buf, len: 0 };
        t.signed(y, 4);
        for (sep, n, width) in [
            (b'-', i64::from(m), 2),
            (b'-', i64::from(d), 2),
            (b'T', secs_of_day / 3600, 2),
            (b':', secs_of_day / 60 % 60, 2),
            (b':', secs_of_day % 60, 2),
            (b'.', i64::from(self.nanos / 1000), 6),
        ] {
            t.push(sep);
            t.signed(n, width);
        }
        t.into_str()
    }
}

/// Text made in a stack buffer, as `format!` would make it with `{:0width$}`.
struct Digits<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> Digits<'b> {
    fn push(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    /// `n` in decimal, zero-padded to `width` with the sign counted in it.
    fn signed(&mut self, n: i64, width: usize) {
        let mut digits = itoa::Buffer::new();
        let text = digits.format(n.unsigned_abs());
        let sign = usize::from(n < 0);
        if n < 0 {
            self.push(b'-');
        }
        for _ in (text.len() + sign)..width {
            self.push(b'0');
        }
        for b in text.bytes() {
            self.push(b);
        }
    }

    fn into_str(self) -> &'b str {
        std::str::from_utf8(&self.buf[..self.len]).expect("digits and separators are ASCII")
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.epoch_in(&mut [0; Timestamp::EPOCH_LEN]))
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// What a layer holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerKind {
    /// A dissected header.
    Header(Header),
    /// A header the chain walked through its generated view and left undecoded (only
    /// when asked, by [`Thresholds::views`](super::Thresholds::views)): its values are
    /// read from the frame's bytes by [`Layer::visit_in`], and [`Layer::decode`] makes
    /// it a `Header`.
    View(ProtocolId),
    /// Bytes not dissected: no protocol is bound to the key, or a threshold was reached.
    Raw,
    /// A header that could not be read: which protocol, and why.
    Malformed {
        /// The protocol the dispatch table chose for these bytes.
        protocol: ProtocolId,
        /// The dissector's error message.
        reason: String,
    },
}

/// One layer of a frame, and where it lies in the frame's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// What the layer holds: a header, raw bytes, or a malformed header.
    pub kind: LayerKind,
    /// Display name (the protocol's, or its binding's, like `RARP`; `Raw`; `Malformed`).
    pub name: &'static str,
    /// Offset of the layer in the frame.
    pub offset: usize,
    /// Bytes of the header (for Raw and Malformed: all the bytes of the layer).
    pub header_len: usize,
    /// Bytes of payload after the header that are in the frame.
    pub payload_len: usize,
    /// Payload bytes the header declares that were not captured.
    pub missing: u64,
    /// Set when the header itself was cut short (by the snapshot length, or by the end
    /// of an ICMP quote): why it could not be read whole. Only the values held by the
    /// captured bytes are shown.
    pub truncated: Option<Box<str>>,
}

impl Layer {
    /// The protocol of a header or a malformed header.
    pub fn protocol(&self) -> Option<ProtocolId> {
        match &self.kind {
            LayerKind::Header(h) => Some(h.protocol()),
            LayerKind::View(protocol) => Some(*protocol),
            LayerKind::Malformed { protocol, .. } => Some(*protocol),
            LayerKind::Raw => None,
        }
    }

    /// The protocol of a header, decoded or walked through its view (`None` for Raw and
    /// Malformed).
    pub fn header_protocol(&self) -> Option<ProtocolId> {
        match &self.kind {
            LayerKind::Header(h) => Some(h.protocol()),
            LayerKind::View(protocol) => Some(*protocol),
            _ => None,
        }
    }

    /// The dissected header, if the layer holds one (`None` for Raw and Malformed).
    pub fn header(&self) -> Option<&Header> {
        match &self.kind {
            LayerKind::Header(h) => Some(h),
            _ => None,
        }
    }

    /// Hands the header's values to `v`; for a truncated header, only those whose bytes
    /// were captured.
    pub fn visit<V: Visitor + ?Sized>(&self, v: &mut V) {
        let Some(header) = self.header() else { return };
        if self.truncated.is_none() {
            header.visit(v);
        } else {
            header.visit(&mut Captured {
                inner: v,
                captured: self.header_len,
                skipping: 0,
            });
        }
    }

    /// Hands the header's values to `v`, reading an undecoded header
    /// ([`LayerKind::View`]) from `bytes`, the buffer the layer lies in (the frame's, or
    /// a reassembled buffer's: see [`Frame::all_layers`]).
    pub fn visit_in<V: Visitor + ?Sized>(&self, bytes: &[u8], v: &mut V) {
        match &self.kind {
            LayerKind::View(protocol) => {
                if let Some(input) = bytes.get(self.input_range()) {
                    crate::protocols::visit_view(*protocol, input, v);
                }
            }
            _ => self.visit(v),
        }
    }

    /// Decodes a header the chain left undecoded ([`LayerKind::View`]) from `bytes`, the
    /// buffer the layer lies in; other layers are left as they are.
    pub fn decode(&mut self, bytes: &[u8]) {
        if let LayerKind::View(protocol) = self.kind {
            let read = bytes
                .get(self.input_range())
                .and_then(|b| crate::protocols::dissect(protocol, b).ok());
            if let Some((header, _)) = read {
                self.kind = LayerKind::Header(header);
            }
        }
    }

    /// The bytes the header was read from: the header and its payload. (A header that
    /// declares no payload length, as DNS, read all of them: its compression pointers
    /// may point past its end.)
    fn input_range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.header_len + self.payload_len
    }

    /// Range of the header in the frame's bytes.
    pub fn header_range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.header_len
    }

    /// Range of the payload in the frame's bytes.
    pub fn payload_range(&self) -> std::ops::Range<usize> {
        let start = self.offset + self.header_len;
        start..start + self.payload_len
    }
}

/// Passes on the values held by the first `captured` bytes of a header.
struct Captured<'a, V: ?Sized> {
    inner: &'a mut V,
    captured: usize,
    /// Depth of lists being skipped.
    skipping: usize,
}

impl<V: Visitor + ?Sized> Captured<'_, V> {
    fn held(&self, info: &FieldInfo) -> bool {
        (info.end as usize) <= self.captured
    }
}

impl<V: Visitor + ?Sized> Visitor for Captured<'_, V> {
    fn field(&mut self, info: &'static FieldInfo, value: Value<'_>) {
        if self.skipping == 0 && self.held(info) {
            self.inner.field(info, value);
        }
    }

    fn whole(&mut self, info: &'static FieldInfo, value: Value<'_>) {
        if self.skipping == 0 && self.held(info) {
            self.inner.whole(info, value);
        }
    }

    fn wants_list(&mut self, info: &'static FieldInfo, values: &'static [FieldInfo]) -> bool {
        self.skipping > 0 || !self.held(info) || self.inner.wants_list(info, values)
    }

    fn begin_list(&mut self, info: &'static FieldInfo) {
        if self.skipping > 0 || !self.held(info) {
            self.skipping += 1;
        } else {
            self.inner.begin_list(info);
        }
    }

    fn end_list(&mut self) {
        if self.skipping > 0 {
            self.skipping -= 1;
        } else {
            self.inner.end_list();
        }
    }

    fn begin_item(&mut self) {
        if self.skipping == 0 {
            self.inner.begin_item();
        }
    }

    fn end_item(&mut self) {
        if self.skipping == 0 {
            self.inner.end_item();
        }
    }

    fn begin_record(&mut self, info: &'static FieldInfo) {
        if self.skipping > 0 || !self.held(info) {
            self.skipping += 1;
        } else {
            self.inner.begin_record(info);
        }
    }

    fn end_record(&mut self) {
        if self.skipping > 0 {
            self.skipping -= 1;
        } else {
            self.inner.end_record();
        }
    }
}

/// The payload length of the TCP header at `layers[i]` (`None` if it is not TCP), from
/// the declared length of the IP layer before it; `wire_cut` bounds the bytes counted
/// beyond those captured (a frame's length on the wire less its captured length).
pub fn tcp_len(layers: &[Layer], i: usize, wire_cut: u64) -> Option<u64> {
    let layer = layers.get(i)?;
    let header = match &layer.kind {
        LayerKind::Header(Header::Tcp(tcp)) => u64::from(tcp.doff()) * 4,
        // Walked through its view: the header was read whole, `doff` words long.
        LayerKind::View(ProtocolId::Tcp) => layer.header_len as u64,
        _ => return None,
    };
    let ip = layers[..i]
        .iter()
        .rev()
        .find(|l| matches!(l.protocol(), Some(ProtocolId::Ipv4 | ProtocolId::Ipv6)));
    Some(match ip {
        Some(ip) => {
            let end =
                (ip.offset + ip.header_len + ip.payload_len) as u64 + ip.missing.min(wire_cut);
            end.saturating_sub(layer.offset as u64 + header)
        }
        None => layer.payload_len as u64,
    })
}

/// A frame: record metadata, the captured bytes, and the layers dissected from them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frame {
    /// 1-based position in the capture.
    pub number: u64,
    /// When the frame was captured, from the record header.
    pub timestamp: Timestamp,
    /// Length on the wire.
    pub len: u32,
    /// Bytes captured (`data.len()`).
    pub cap_len: u32,
    /// Link-layer header type (LINKTYPE_ value).
    pub linktype: u32,
    /// pcapng interface the frame was captured on (index in its section).
    pub interface: Option<u32>,
    /// The options of the frame's pcapng packet block (comments, flags, ...), when it has
    /// any.
    pub pcapng_options: Option<Box<crate::reader::Options>>,
    /// The captured bytes.
    pub data: Vec<u8>,
    /// The layers dissected from `data`, outermost (link layer) first.
    pub layers: Vec<Layer>,
    /// The TCP connection number of the frame's segment (`tcp.stream`), counted from 0 in
    /// order of first appearance; only when TCP reassembly is on.
    pub tcp_stream: Option<u64>,
    /// Datagrams and PDUs this frame completed (or, at a timeout or a close, gave up on),
    /// each with its own bytes and layers, which continue the frame's protocol chain.
    pub reassembled: Vec<Reassembled>,
    /// What reassembly found wrong with this frame's piece: an overlap with different
    /// bytes, a fragment past 65535, a segment far outside the window, ... (and, from a
    /// third-party engine, why its backend stopped early).
    pub notes: Vec<String>,
    /// From a third-party engine (etherparse, pnet, tshark): each layer's fields as the
    /// backend decoded them, one entry per layer of `layers` (which are then `Raw`
    /// layers named as the backend's); empty from our own engines.
    pub foreign: Vec<crate::engine::ForeignLayer>,
}

/// Which reassembly put a buffer together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReassemblyKind {
    /// An IPv4 datagram from its fragments.
    Ipv4,
    /// An IPv6 packet from its fragments.
    Ipv6,
    /// An application PDU from TCP segments.
    Tcp,
    /// An HTTP/2 message body from the DATA frames of its stream (a DNS message, when
    /// DNS over HTTPS spreads one over several frames).
    Http2Body,
}

impl ReassemblyKind {
    /// `ipv4`, `ipv6` or `tcp`, as in PyPCAPKit's `reassembly` results, or `http2`.
    pub fn name(self) -> &'static str {
        match self {
            ReassemblyKind::Ipv4 => "ipv4",
            ReassemblyKind::Ipv6 => "ipv6",
            ReassemblyKind::Tcp => "tcp",
            ReassemblyKind::Http2Body => "http2",
        }
    }

    /// Whether `id` is a TCP stream number and the ends carry ports (TCP PDUs and what
    /// is put together from them), not an IP identification.
    pub fn on_tcp(self) -> bool {
        matches!(self, ReassemblyKind::Tcp | ReassemblyKind::Http2Body)
    }
}

/// A buffer put together from several frames: an IP datagram or a TCP PDU, with the
/// layers dissected from it (starting with the protocol above the one reassembled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassembled {
    /// IP defragmentation, TCP, or an HTTP/2 body.
    pub kind: ReassemblyKind,
    /// Source (port 0 for IP).
    pub src: Endpoint,
    /// Destination (port 0 for IP).
    pub dst: Endpoint,
    /// The IP identification, or the TCP stream number (of an HTTP/2 body too).
    pub id: u64,
    /// The protocol the bytes were dissected as (the payload protocol of IP, the
    /// application protocol of TCP), when known.
    pub protocol: Option<ProtocolId>,
    /// Where the buffer starts: 0 for IP and HTTP/2 bodies, the stream offset (relative
    /// sequence number) for TCP.
    pub offset: u64,
    /// The frames whose bytes it holds, in capture order.
    pub frames: Vec<u64>,
    /// Every byte arrived. When false, `holes` says which did not; the bytes are those
    /// of the runs that arrived, back to back (never zero-filled).
    pub completed: bool,
    /// Missing byte ranges, relative to `offset`.
    pub holes: Vec<Range<u64>>,
    /// Overlaps with different bytes, conflicting ends, and the like.
    pub anomalies: Vec<String>,
    /// The reassembled bytes.
    pub data: Vec<u8>,
    /// The layers dissected from `data` (empty for incomplete data in strict mode).
    pub layers: Vec<Layer>,
}

impl Frame {
    /// The protocol chain, `Ethernet:VLAN:IPv4:TCP:HTTP`.
    pub fn protocols(&self) -> String {
        let mut s = String::new();
        self.write_protocols(&mut s);
        s
    }

    /// Appends the protocol chain to `out`: the frame's layers, then those of what it
    /// reassembled.
    pub fn write_protocols(&self, out: &mut String) {
        for (i, (layer, _)) in self.all_layers().enumerate() {
            if i > 0 {
                out.push(':');
            }
            let _ = out.write_str(layer.name);
        }
    }

    /// Every layer in chain order, each with the bytes its offsets refer to: the frame's
    /// own, then those of each reassembled buffer.
    pub fn all_layers(&self) -> impl Iterator<Item = (&Layer, &[u8])> {
        let own = self.layers.iter().map(|l| (l, &self.data[..]));
        let rest = self
            .reassembled
            .iter()
            .flat_map(|r| r.layers.iter().map(|l| (l, &r.data[..])));
        own.chain(rest)
    }

    /// The first header of a protocol (in the frame or in what it reassembled).
    pub fn header(&self, protocol: ProtocolId) -> Option<&Header> {
        self.all_layers()
            .filter_map(|(l, _)| l.header())
            .find(|h| h.protocol() == protocol)
    }

    /// The bytes of a layer's payload (a layer of the frame itself).
    pub fn payload(&self, layer: &Layer) -> &[u8] {
        &self.data[layer.payload_range()]
    }

    /// Each TCP segment's payload length (tshark's `tcp.len`): what its IP header declares,
    /// as far as the frame went on the wire, less the TCP header; bytes the snapshot
    /// length cut off count, bytes the wire never carried do not.
    pub fn tcp_lengths(&self) -> Vec<u64> {
        let wire_cut = u64::from(self.len.saturating_sub(self.cap_len));
        let mut out = Vec::new();
        let buffers =
            std::iter::once(&self.layers[..]).chain(self.reassembled.iter().map(|r| &r.layers[..]));
        for (b, layers) in buffers.enumerate() {
            let cut = if b == 0 { wire_cut } else { 0 };
            for i in 0..layers.len() {
                if let Some(len) = tcp_len(layers, i, cut) {
                    out.push(len);
                }
            }
        }
        out
    }

    /// Clears what the stateful stages add, before the frame is refilled.
    pub fn clear_reassembly(&mut self) {
        self.tcp_stream = None;
        self.reassembled.clear();
        self.notes.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The texts made in a buffer are those `format!` makes (as they were made before).
        #[test]
        fn timestamp_texts_are_formats(
            // Any, and years from about 1200 BC to AD 5100 (fewer than four digits too).
            secs in prop_oneof![any::<i64>(), -100_000_000_000i64..100_000_000_000],
            nanos in prop_oneof![Just(0u32), 0u32..1_000_000_000],
        ) {
            let t = Timestamp { secs, nanos };
            let epoch = if secs < 0 && nanos > 0 {
                format!("-{}.{:09}", -(secs + 1), 1_000_000_000 - nanos)
            } else {
                format!("{secs}.{nanos:09}")
            };
            prop_assert_eq!(t.epoch(), epoch);
            let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
            let day = secs.rem_euclid(86_400);
            let iso = format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}",
                day / 3600,
                day / 60 % 60,
                day % 60,
                nanos / 1000
            );
            prop_assert_eq!(t.iso8601(), iso);
        }
    }

    #[test]
    fn timestamps_print_like_tshark_and_pypcapkit() {
        let t = Timestamp {
            secs: 1_700_000_000,
            nanos: 19_000_000,
        };
        assert_eq!(t.epoch(), "1700000000.019000000");
        assert_eq!(t.iso8601(), "2023-11-14T22:13:20.019000");
        assert_eq!(
            Timestamp { secs: 0, nanos: 0 }.iso8601(),
            "1970-01-01T00:00:00.000000"
        );
        assert_eq!(
            Timestamp {
                secs: 951_782_400,
                nanos: 0
            }
            .iso8601(),
            "2000-02-29T00:00:00.000000"
        );
        assert_eq!(
            Timestamp {
                secs: -2,
                nanos: 500_000_000
            }
            .epoch(),
            "-1.500000000"
        );
    }
}
