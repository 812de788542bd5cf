//! HTTP/2 connection state: one HPACK decoder per connection and direction, fed the
//! header block fragments of HEADERS, PUSH_PROMISE and CONTINUATION frames in stream
//! order, and the header table size each end announces in its SETTINGS.
//!
//! Header blocks are decoded as their fragments arrive, as tshark (nghttp2's inflater)
//! does: the header fields wholly inside the fragments seen so far are shown on the frame
//! that completed them, and a field cut between two frames waits for the next one. The
//! decoder is [`loona_hpack`]; this module only splits fragments at field boundaries and
//! keeps the state bounded.
//!
//! An error (a bad index, a Huffman padding error, a table size update beyond what the
//! receiver allows, a field cut at the end of the block, lost bytes) is reported on the
//! PDU, and the direction's decoder is marked broken: its dynamic table can no longer be
//! trusted, so later header blocks are reported undecodable instead of decoded wrongly.

use std::collections::BTreeMap;

use loona_hpack::decoder::{Decoder, DecoderError};

use crate::chain::{Layer, LayerKind, Reassembled, ReassemblyKind, Thresholds};
use crate::conversation::{doh, Ends, PduRef};
use crate::protocols::http2::{Http2, Http2Body};
use crate::protocols::{Header, ProtocolId};

/// Largest dynamic table a decoder may be told to keep, whatever SETTINGS say (bytes, as
/// HPACK counts them).
pub const MAX_TABLE_SIZE: usize = 64 << 10;
/// The table size before any SETTINGS_HEADER_TABLE_SIZE (RFC 9113, section 6.5.2).
pub const DEFAULT_TABLE_SIZE: usize = 4096;
/// Longest part of a header field held while waiting for the frame that ends it.
pub const MAX_CARRY: usize = 256 << 10;
/// Connection directions followed at once; past this the oldest connection's go.
pub const MAX_DIRECTIONS: usize = 1 << 16;
/// What a direction costs besides its table and carried bytes, for the memory budget.
const DIRECTION_COST: usize = 512;

/// SETTINGS_HEADER_TABLE_SIZE.
const SETTINGS_HEADER_TABLE_SIZE: u16 = 1;
/// Frame types (RFC 9113, section 6).
const HEADERS: u8 = 1;
const SETTINGS: u8 = 4;
const PUSH_PROMISE: u8 = 5;
const CONTINUATION: u8 = 9;
const DATA: u8 = 0;
const RST_STREAM: u8 = 3;
/// Streams of a direction whose body is a DNS message (RFC 8484), followed at once.
pub const MAX_DNS_STREAMS: usize = 256;
/// Longest DNS message body gathered over DATA frames: a DNS message's own limit (RFC
/// 8484, section 6: the 16-bit length of DNS over TCP).
pub const MAX_DNS_BODY: usize = 65535;

/// A stream whose body is a DNS message: the bytes of its DATA frames so far.
struct DnsStream {
    stream: u32,
    /// The body's bytes, from the DATA frames seen (none for a body in one frame).
    body: Vec<u8>,
    /// The frames of those DATA frames, one entry per frame.
    frames: Vec<u64>,
    /// A DATA frame of it was seen (an empty one included).
    data_seen: bool,
    /// The body outgrew [`MAX_DNS_BODY`]: the rest is passed over.
    too_long: bool,
}

/// One direction of one connection.
struct Direction {
    decoder: Decoder<'static>,
    /// The dynamic table size the receiver allows (its SETTINGS_HEADER_TABLE_SIZE, capped).
    allowed: usize,
    /// A header block is open (HEADERS or PUSH_PROMISE without END_HEADERS seen), on
    /// this stream.
    open: Option<u32>,
    /// Bytes of a header field cut at the end of the last fragment.
    carry: Vec<u8>,
    /// Why the decoder can no longer be trusted.
    broken: Option<String>,
    /// Stream offset just past the last PDU seen (to notice lost bytes).
    next_offset: Option<u64>,
    /// Streams whose HEADERS said `content-type: application/dns-message`, oldest
    /// first, with the body gathered so far.
    dns_streams: Vec<DnsStream>,
}

impl Direction {
    fn new() -> Direction {
        let mut decoder = Decoder::new();
        decoder.set_max_allowed_table_size(DEFAULT_TABLE_SIZE);
        Direction {
            decoder,
            allowed: DEFAULT_TABLE_SIZE,
            open: None,
            carry: Vec::new(),
            broken: None,
            next_offset: None,
            dns_streams: Vec::new(),
        }
    }

    fn held(&self) -> usize {
        self.allowed
            + self.carry.capacity()
            + self
                .dns_streams
                .iter()
                .map(|d| d.body.capacity() + d.frames.capacity() * 8)
                .sum::<usize>()
            + self.dns_streams.capacity() * std::mem::size_of::<DnsStream>()
            + DIRECTION_COST
    }

    fn allow(&mut self, size: usize) {
        self.allowed = size.min(MAX_TABLE_SIZE);
        self.decoder.set_max_allowed_table_size(self.allowed);
    }

    fn break_with(&mut self, why: String) {
        self.broken = Some(why);
        self.open = None;
        self.carry = Vec::new();
    }
}

/// Both directions of one connection.
type Connection = Ends<Direction>;

impl Connection {
    fn held(&self) -> usize {
        self.iter().map(Direction::held).sum()
    }
}

/// The HTTP/2 state of every connection followed.
#[derive(Default)]
pub struct Http2State {
    /// By `tcp.stream`, so the oldest connection comes first.
    connections: BTreeMap<u64, Connection>,
    /// Directions in `connections`.
    directions: usize,
    /// What `connections` hold, kept up to date as they change: the session asks for it
    /// after every frame.
    held: usize,
    /// Where dissection of DATA bodies (DNS over HTTPS) stops.
    thresholds: Thresholds,
}

impl Http2State {
    /// No connection yet.
    pub fn new() -> Http2State {
        Http2State::default()
    }

    /// No connection yet; bodies dissected from DATA frames (DNS over HTTPS) are
    /// dissected up to `thresholds`.
    pub fn with_thresholds(thresholds: Thresholds) -> Http2State {
        Http2State {
            thresholds,
            ..Http2State::default()
        }
    }

    /// Bytes the decoders may hold (their tables' allowed sizes, and carried bytes).
    pub fn held(&self) -> usize {
        self.held
    }

    /// Directions followed.
    pub fn len(&self) -> usize {
        self.directions
    }

    /// Whether no direction is followed.
    pub fn is_empty(&self) -> bool {
        self.directions == 0
    }

    /// Forgets the oldest connection followed (the lowest stream number), to stay within
    /// a memory budget; `None` when none is followed.
    pub fn forget_oldest(&mut self) -> Option<u64> {
        let oldest = *self.connections.keys().next()?;
        self.close(oldest);
        Some(oldest)
    }

    /// Forgets a connection (closed, or given up on).
    pub fn close(&mut self, stream: u64) {
        if let Some(c) = self.connections.remove(&stream) {
            self.held -= c.held();
            self.directions -= c.len();
        }
    }

    /// Runs a PDU's HTTP/2 layers through the connection's state: SETTINGS set the
    /// other direction's table size, header block fragments are decoded and the fields
    /// put on their layer; the DATA frame that ends a stream whose HEADERS said
    /// `application/dns-message` gets its body dissected as DNS (RFC 8484): as layers
    /// after the frame's when the body is that frame's alone, or, when it came in
    /// several DATA frames, as a reassembled body returned (the frames' bytes put
    /// together, as tshark's `http2.body.reassembled`). What goes wrong is pushed on
    /// `notes`.
    pub fn apply(
        &mut self,
        pdu: PduRef<'_>,
        layers: &mut Vec<Layer>,
        notes: &mut Vec<String>,
    ) -> Vec<Reassembled> {
        let mut reassembled = Vec::new();
        if !layers
            .iter()
            .any(|l| l.protocol() == Some(ProtocolId::Http2))
        {
            return reassembled;
        }
        let known = self
            .connections
            .get(&pdu.stream)
            .is_some_and(|c| c.has(pdu.src));
        if !known && self.directions >= MAX_DIRECTIONS {
            // The oldest connection has the lowest number.
            self.forget_oldest();
        }
        let conn = self.connections.entry(pdu.stream).or_default();
        let (held_before, ends_before) = (conn.held(), conn.len());
        let dir = conn.direction(pdu.src, Direction::new);
        if let Some(expected) = dir.next_offset {
            if pdu.offset != expected && dir.broken.is_none() && pdu.offset > expected {
                dir.break_with(format!(
                    "HTTP/2: {} bytes of the stream were lost before this frame: header compression state lost",
                    pdu.offset - expected
                ));
            }
        }
        dir.next_offset = Some(pdu.offset + pdu.data.len() as u64);
        // SETTINGS of this direction, for the other one.
        let mut table_size = None;
        // DNS message bodies found, to dissect once the frames are walked.
        let mut bodies = Vec::new();
        let mut gathered = Vec::new();
        for layer in layers.iter_mut() {
            let offset = layer.offset;
            match &mut layer.kind {
                LayerKind::Header(Header::Http2(h)) => {
                    if h.type_ == SETTINGS && !h.flag_end_stream() {
                        if let Http2Body::SettingsList(s) = &h.body {
                            for setting in &s.settings {
                                if setting.id == SETTINGS_HEADER_TABLE_SIZE {
                                    table_size = Some(setting.value as usize);
                                }
                            }
                        }
                    }
                    header_block(dir, h, notes);
                    match dns_body(dir, h, offset, pdu.data, pdu.frame, notes) {
                        Some(Body::InFrame(range)) => bodies.push(range),
                        Some(Body::Gathered { data, frames }) => gathered.push(Reassembled {
                            kind: ReassemblyKind::Http2Body,
                            src: pdu.src,
                            dst: pdu.dst,
                            id: pdu.stream,
                            protocol: Some(ProtocolId::Dns),
                            offset: 0,
                            frames,
                            completed: true,
                            holes: Vec::new(),
                            anomalies: Vec::new(),
                            data,
                            layers: Vec::new(),
                        }),
                        None => {}
                    }
                }
                LayerKind::Malformed {
                    protocol: ProtocolId::Http2,
                    ..
                } => {
                    // A header block frame that could not be read leaves the table unknown.
                    let ty = pdu.data.get(layer.offset + 3).copied();
                    if matches!(ty, Some(HEADERS | PUSH_PROMISE | CONTINUATION))
                        && dir.broken.is_none()
                    {
                        dir.break_with(
                            "HTTP/2: a header block frame could not be read: header compression state lost"
                                .to_owned(),
                        );
                        notes.push(dir.broken.clone().unwrap_or_default());
                    }
                }
                _ => {}
            }
        }
        // `--protocol http2` stops there.
        let stop = self.thresholds.protocol == Some(ProtocolId::Http2);
        for body in bodies.into_iter().filter(|_| !stop) {
            doh::dns_body(layers, pdu.data, body, &self.thresholds);
        }
        for mut r in gathered {
            if !stop {
                doh::dns_body(&mut r.layers, &r.data, 0..r.data.len(), &self.thresholds);
            }
            reassembled.push(r);
        }
        if let Some(size) = table_size {
            conn.direction(pdu.dst, Direction::new).allow(size);
        }
        self.held = self.held - held_before + conn.held();
        self.directions += conn.len() - ends_before;
        reassembled
    }
}

/// Decodes the header block fragment a frame carries, if any, into its `headers` and
/// pseudo-header fields.
fn header_block(dir: &mut Direction, h: &mut Http2, notes: &mut Vec<String>) {
    let stream = h.stream();
    let fragment: &[u8] = match (h.type_, &h.body) {
        (HEADERS | CONTINUATION, Http2Body::Raw(bytes)) => bytes,
        (PUSH_PROMISE, Http2Body::PushPromise(p)) => &p.fragment,
        _ => return,
    };
    let end = h.flag_end_headers();
    if let Some(why) = &dir.broken {
        notes.push(format!(
            "HTTP/2 header block on stream {stream} not decoded: {why}"
        ));
        return;
    }
    match (h.type_, dir.open) {
        (CONTINUATION, None) => {
            notes.push(format!(
                "HTTP/2: CONTINUATION on stream {stream} without an open header block"
            ));
            return;
        }
        (CONTINUATION, Some(open)) if open != stream => {
            dir.break_with(format!(
                "HTTP/2: CONTINUATION on stream {stream} inside the header block of stream {open}"
            ));
            notes.push(dir.broken.clone().unwrap_or_default());
            return;
        }
        (HEADERS | PUSH_PROMISE, Some(open)) => {
            dir.break_with(format!(
                "HTTP/2: a header block on stream {stream} started before the block of stream {open} ended"
            ));
            notes.push(dir.broken.clone().unwrap_or_default());
            return;
        }
        _ => {}
    }
    let mut buf = std::mem::take(&mut dir.carry);
    buf.extend_from_slice(fragment);
    let cut = if end {
        buf.len()
    } else {
        complete_prefix(&buf)
    };
    if buf.len() - cut > MAX_CARRY {
        dir.break_with(format!(
            "HTTP/2: a header field on stream {stream} is longer than {MAX_CARRY} bytes"
        ));
        notes.push(dir.broken.clone().unwrap_or_default());
        return;
    }
    let mut fields = Vec::new();
    let block = without_huffman(&buf[..cut]);
    let result = dir.decoder.decode_with_cb(&block, |name, value| {
        fields.push((
            String::from_utf8_lossy(&name).into_owned(),
            String::from_utf8_lossy(&value).into_owned(),
        ));
    });
    if let Err(e) = result {
        dir.break_with(format!(
            "HTTP/2 header block on stream {stream}: HPACK error: {}; header compression state lost",
            describe(e)
        ));
        notes.push(dir.broken.clone().unwrap_or_default());
    } else {
        dir.carry = buf[cut..].to_vec();
        dir.open = if end { None } else { Some(stream) };
    }
    for (name, value) in &fields {
        let slot = match name.as_str() {
            ":method" => &mut h.method,
            ":path" => &mut h.path,
            ":status" => &mut h.status,
            ":authority" => &mut h.authority,
            _ => continue,
        };
        if slot.is_empty() {
            slot.clone_from(value);
        }
    }
    h.headers = fields;
}

/// A DNS message body found by [`dns_body`].
enum Body {
    /// All in the frame's own bytes, at this range of the PDU.
    InFrame(std::ops::Range<usize>),
    /// Put together from several DATA frames, with the frames it came in.
    Gathered { data: Vec<u8>, frames: Vec<u64> },
}

/// Follows the streams whose body is a DNS message: a header block saying so marks its
/// stream, and its DATA frames' bytes are gathered (up to [`MAX_DNS_BODY`]). The DATA
/// frame that ends such a stream gives the body: the range of the frame's own bytes in
/// `data` when it is the stream's only DATA frame (the frame's layer starts at
/// `offset`), or the bytes of every DATA frame of the stream put together.
fn dns_body(
    dir: &mut Direction,
    h: &Http2,
    offset: usize,
    data: &[u8],
    frame: u64,
    notes: &mut Vec<String>,
) -> Option<Body> {
    let stream = h.stream();
    match h.type_ {
        HEADERS | CONTINUATION if doh::carries_dns(&h.headers) => {
            let ends = h.type_ == HEADERS && h.flag_end_stream();
            if !ends && !dir.dns_streams.iter().any(|d| d.stream == stream) {
                if dir.dns_streams.len() >= MAX_DNS_STREAMS {
                    dir.dns_streams.remove(0);
                }
                dir.dns_streams.push(DnsStream {
                    stream,
                    body: Vec::new(),
                    frames: Vec::new(),
                    data_seen: false,
                    too_long: false,
                });
            }
            None
        }
        RST_STREAM => {
            dir.dns_streams.retain(|d| d.stream != stream);
            None
        }
        DATA => {
            let at = dir.dns_streams.iter().position(|d| d.stream == stream)?;
            let Http2Body::Raw(bytes) = &h.body else {
                return None;
            };
            let d = &mut dir.dns_streams[at];
            if !d.too_long {
                if d.body.len() + bytes.len() > MAX_DNS_BODY {
                    d.too_long = true;
                    d.body = Vec::new();
                    d.frames = Vec::new();
                    notes.push(format!(
                        "HTTP/2: the DNS message on stream {stream} is longer than {MAX_DNS_BODY} bytes: not dissected"
                    ));
                } else if !h.flag_end_stream() || d.data_seen {
                    d.body.extend_from_slice(bytes);
                    d.frames.push(frame);
                }
            }
            if !h.flag_end_stream() {
                d.data_seen = true;
                return None;
            }
            let d = dir.dns_streams.remove(at);
            if d.too_long {
                return None;
            }
            if d.data_seen {
                return (!d.body.is_empty()).then_some(Body::Gathered {
                    data: d.body,
                    frames: d.frames,
                });
            }
            // The frame header, then the pad length when PADDED.
            let start = offset + 9 + usize::from(h.flag_padded());
            let body = start..start + bytes.len();
            // The body's bytes are the frame's own: never a range beside them.
            (data.get(body.clone()) == Some(&bytes[..]) && !bytes.is_empty())
                .then_some(Body::InFrame(body))
        }
        _ => None,
    }
}

/// What went wrong, in words.
fn describe(e: DecoderError) -> String {
    match e {
        DecoderError::HeaderIndexOutOfBounds => "index not in the static or dynamic table".into(),
        DecoderError::InvalidMaxDynamicSize => {
            "dynamic table size update beyond the size the receiver allows".into()
        }
        DecoderError::SizeUpdateAtEnd => "dynamic table size update at the end of the block".into(),
        e => e.to_string(),
    }
}

/// The length of the longest prefix of `buf` made of whole header field representations
/// and not ending with a table size update (which may not end a block): what can be
/// decoded before the rest of the block arrives.
pub fn complete_prefix(buf: &[u8]) -> usize {
    let mut cut = 0;
    walk_representations(buf, |_, end, field| {
        if field {
            cut = end;
        }
    });
    cut
}

/// Calls `each(start, end, field)` for every whole representation at the start of `buf`
/// (`field`: a header field, not a table size update), stopping before one cut short.
fn walk_representations(buf: &[u8], mut each: impl FnMut(usize, usize, bool)) {
    let mut pos = 0;
    while pos < buf.len() {
        let b = buf[pos];
        let (len, field) = if b & 0x80 != 0 {
            (integer_len(&buf[pos..], 7), true)
        } else if b & 0x40 != 0 {
            (literal_len(&buf[pos..], 6), true)
        } else if b & 0x20 != 0 {
            (integer_len(&buf[pos..], 5), false)
        } else {
            (literal_len(&buf[pos..], 4), true)
        };
        let Some(len) = len else { break };
        each(pos, pos + len, field);
        pos += len;
    }
}

/// The header block with its Huffman-coded string literals (RFC 7541, section 5.2)
/// decoded and written back as plain literals: the same header list, the same dynamic
/// table, without the HPACK decoder's own Huffman decoding, which builds its code table
/// anew for each string and reads it a bit at a time. A string this decoder refuses
/// (bad padding, EOS inside) stays coded, for the HPACK decoder to report; a block with
/// no Huffman string is borrowed as it is.
pub fn without_huffman(block: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    use std::borrow::Cow;
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    walk_representations(block, |start, end, _| {
        let b = block[start];
        let prefix = if b & 0x80 != 0 || b & 0xe0 == 0x20 {
            return;
        } else if b & 0x40 != 0 {
            6
        } else {
            4
        };
        let Some((index, mut pos)) = integer(&block[start..end], prefix) else {
            return;
        };
        pos += start;
        let strings = if index == 0 { 2 } else { 1 };
        for _ in 0..strings {
            let Some((len, n)) = integer(&block[pos..end], 7) else {
                return;
            };
            let data = pos + n..pos + n + len as usize;
            if block[pos] & 0x80 != 0 {
                let coded = &block[data.clone()];
                let mut plain = Vec::with_capacity(coded.len() * 8 / 5 + 1);
                let decoded = httlib_huffman::decode(
                    coded,
                    &mut plain,
                    httlib_huffman::DecoderSpeed::FourBits,
                )
                .is_ok();
                // A valid string has one coding (its symbols, then at most 7 bits of the
                // EOS code): coding the result again must give the same bytes. This
                // refuses padding the fast decoder lets through (zero bits).
                let mut again = Vec::with_capacity(coded.len());
                if decoded && httlib_huffman::encode(&plain, &mut again).is_ok() && again == coded {
                    let o = out.get_or_insert_with(|| Vec::with_capacity(block.len() * 2));
                    o.extend_from_slice(&block[copied..pos]);
                    put_integer(o, 0, 7, plain.len() as u64);
                    o.extend_from_slice(&plain);
                    copied = data.end;
                }
            }
            pos = data.end;
        }
    });
    match out {
        None => Cow::Borrowed(block),
        Some(mut o) => {
            // Representations cut short at the end, if any, go as they are.
            o.extend_from_slice(&block[copied..]);
            Cow::Owned(o)
        }
    }
}

/// Appends an HPACK integer (RFC 7541, section 5.1) with a `prefix`-bit prefix, the
/// first byte's other bits set to `high`.
fn put_integer(out: &mut Vec<u8>, high: u8, prefix: u8, mut value: u64) {
    let max = (1u64 << prefix) - 1;
    if value < max {
        out.push(high | value as u8);
        return;
    }
    out.push(high | max as u8);
    value -= max;
    while value >= 0x80 {
        out.push((value & 0x7f) as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Length of a literal representation (name index or literal name, then the value).
fn literal_len(buf: &[u8], prefix: u8) -> Option<usize> {
    let (index, mut pos) = integer(buf, prefix)?;
    if index == 0 {
        pos += string_len(buf.get(pos..)?)?;
    }
    pos += string_len(buf.get(pos..)?)?;
    Some(pos)
}

/// Length of a string literal (its length, then its bytes).
fn string_len(buf: &[u8]) -> Option<usize> {
    let (len, pos) = integer(buf, 7)?;
    let end = pos.checked_add(usize::try_from(len).ok()?)?;
    (end <= buf.len()).then_some(end)
}

fn integer_len(buf: &[u8], prefix: u8) -> Option<usize> {
    integer(buf, prefix).map(|(_, len)| len)
}

/// An HPACK integer (RFC 7541, section 5.1) and its length; `None` when `buf` ends
/// first. Over-long encodings are returned as read (the decoder reports them).
fn integer(buf: &[u8], prefix: u8) -> Option<(u64, usize)> {
    let mask = ((1u16 << prefix) - 1) as u8;
    let first = buf.first()? & mask;
    if first < mask {
        return Some((u64::from(first), 1));
    }
    let mut value = u64::from(mask);
    for (i, &b) in buf[1..].iter().enumerate() {
        if i < 9 {
            value = value.saturating_add(u64::from(b & 0x7f) << (7 * i));
        } else {
            // Longer than any sane integer: let the decoder refuse it.
            return Some((value, i + 2));
        }
        if b & 0x80 == 0 {
            return Some((value, i + 2));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain;
    use crate::flow::Endpoint;
    use crate::protocols::Next;

    fn frame(ty: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = payload.len() as u32;
        let mut out = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, ty, flags];
        out.extend_from_slice(&stream.to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    /// What the running counts should be, counted again.
    fn recount(s: &Http2State) -> (usize, usize) {
        let held = s.connections.values().map(Connection::held).sum();
        let directions = s.connections.values().map(Connection::len).sum();
        (held, directions)
    }

    #[test]
    fn the_running_counts_match_a_recount() {
        let mut state = Http2State::new();
        let end = |port| Endpoint {
            addr: "192.0.2.1".parse().expect("address"),
            port,
        };
        // Per connection: SETTINGS announcing a table size (which makes the other
        // direction), a DNS-over-HTTPS HEADERS (`content-type` literal) and part of its
        // body, held until the stream ends.
        let mut headers = vec![0x0f, 31 - 15, 23];
        headers.extend_from_slice(b"application/dns-message");
        let pdus = [
            frame(SETTINGS, 0, 0, &[0, 1, 0, 0, 0x20, 0]),
            frame(HEADERS, 0x4, 1, &headers),
            frame(DATA, 0, 1, &[0x12; 100]),
        ];
        let mut offset = [0u64; 8];
        for stream in 0..8u64 {
            for bytes in &pdus {
                let mut layers = Vec::new();
                let next = Next {
                    protocol: ProtocolId::Http2,
                    name: None,
                };
                chain::dissect_next(next, bytes, &Thresholds::default(), &mut layers);
                let pdu = PduRef {
                    stream,
                    src: end(40000),
                    dst: end(80),
                    offset: offset[stream as usize],
                    data: bytes,
                    frame: 1,
                    completed: true,
                };
                offset[stream as usize] += bytes.len() as u64;
                state.apply(pdu, &mut layers, &mut Vec::new());
                assert_eq!((state.held(), state.len()), recount(&state));
            }
        }
        assert_eq!(state.len(), 16, "both directions of each connection");
        state.close(3);
        assert_eq!((state.held(), state.len()), recount(&state));
        assert_eq!(state.forget_oldest(), Some(0));
        assert_eq!((state.held(), state.len()), recount(&state));
        assert_eq!(state.len(), 12);
        state.close(99);
        assert_eq!((state.held(), state.len()), recount(&state));
    }

    #[test]
    fn integers_follow_rfc7541_c1() {
        // C.1.1: 10 in a 5-bit prefix; C.1.2: 1337 in a 5-bit prefix; C.1.3: 42 at an
        // octet boundary.
        assert_eq!(integer(&[0x0a], 5), Some((10, 1)));
        assert_eq!(integer(&[0x1f, 0x9a, 0x0a], 5), Some((1337, 3)));
        assert_eq!(integer(&[0x2a], 8), Some((42, 1)));
        assert_eq!(integer(&[0x1f, 0x9a], 5), None);
    }

    #[test]
    fn the_prefix_stops_before_a_cut_field_and_a_trailing_size_update() {
        // C.3.1's block: indexed 2, 6, 4, then a literal with indexing (name index 1).
        let block: &[u8] = &[
            0x82, 0x86, 0x84, 0x41, 0x0f, b'w', b'w', b'w', b'.', b'e', b'x', b'a', b'm', b'p',
            b'l', b'e', b'.', b'c', b'o', b'm',
        ];
        assert_eq!(complete_prefix(block), block.len());
        for cut in 4..block.len() {
            assert_eq!(complete_prefix(&block[..cut]), 3, "cut at {cut}");
        }
        // A size update (0x3f 0xe1 0x1f = 4096) then nothing: held back.
        assert_eq!(complete_prefix(&[0x82, 0x3f, 0xe1, 0x1f]), 1);
        assert_eq!(complete_prefix(&[0x3f, 0xe1, 0x1f, 0x82]), 4);
    }
}
