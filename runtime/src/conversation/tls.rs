//! TLS connection state: handshake messages fragmented over several records (RFC 5246
//! section 6.2.1, RFC 8446 section 5.1), per connection and direction.
//!
//! The TLS spec cuts the reassembled stream into records and reads the handshake
//! messages that tile a record exactly; a message that does not end in its record (a
//! Certificate chain longer than 16 KB, or a hello split by a middlebox) is left as
//! bytes there. This module follows each direction's records in stream order, gathers
//! such a message, and puts it, parsed by the spec's own layout, first among the
//! messages of the record that completes it, as tshark does with
//! `tls.desegment_ssl_records`. Each record that holds only part of it says so in its
//! `handshake_fragment` field; the completing one says where the message came from in
//! `handshake_reassembled`.
//!
//! It also knows when handshake records are ciphertext: after a ChangeCipherSpec of a
//! direction (before TLS 1.3; in 1.3 a ChangeCipherSpec is only a compatibility
//! gesture and the encrypted handshake travels in application_data records), so that an
//! encrypted Finished is never read as messages nor begins a fragment.
//!
//! Bounded: a message longer than [`MAX_MESSAGE`] is not gathered (its bytes are
//! skipped, with a note), at most [`MAX_CONNECTIONS`] connections are followed, and
//! what is held counts against the session's memory budget.

use std::collections::BTreeMap;

use deku::ctx::Endian;

use crate::chain::{Layer, LayerKind};
use crate::conversation::{Ends, PduRef};
use crate::protocols::tls::{
    server_extension::ServerExtensionData, Handshake, HandshakeMessages, Tls, TlsBody,
};
use crate::protocols::{Header, ProtocolId};

/// Longest handshake message gathered over records (its 4-byte header included). A
/// certificate chain is the longest message in practice; OpenSSL refuses chains past
/// 100 KiB by default.
pub const MAX_MESSAGE: usize = 256 << 10;
/// Connections followed at once; past this the oldest goes.
pub const MAX_CONNECTIONS: usize = 1 << 15;
/// What a direction costs besides the bytes it gathers, for the memory budget.
const DIRECTION_COST: usize = 128;
/// Record frames remembered for a message's `handshake_reassembled` (the count goes on).
const MAX_FRAMES_SHOWN: usize = 16;

/// Content types (RFC 8446 section 5.1).
const CHANGE_CIPHER_SPEC: u8 = 20;
const HANDSHAKE: u8 = 22;
/// Handshake header: type u8, length u24.
const HEADER: usize = 4;
/// The supported_versions extension's value that selects TLS 1.3.
const TLS13: u16 = 0x0304;

/// A handshake message begun in an earlier record.
struct Partial {
    /// Its bytes so far, header first.
    bytes: Vec<u8>,
    /// Records it was found in so far.
    records: usize,
    /// The frame of each of those records (the first [`MAX_FRAMES_SHOWN`]).
    frames: Vec<u64>,
}

impl Partial {
    /// The whole message's length, header included, once its header is in.
    fn total(&self) -> Option<usize> {
        (self.bytes.len() >= HEADER).then(|| HEADER + u24(&self.bytes[1..4]))
    }
}

/// What a direction is in the middle of.
enum Pending {
    Nothing,
    /// Gathering a message.
    Message(Partial),
    /// Passing over the rest of a message too long to gather.
    Skip {
        msg_type: u8,
        /// Bytes of it still to come.
        left: usize,
        /// Its whole length, header included.
        total: usize,
    },
}

/// One direction of one connection.
struct Direction {
    pending: Pending,
    /// A ChangeCipherSpec was sent (before TLS 1.3): handshake records are ciphertext.
    encrypted: bool,
    /// The server chose TLS 1.3 (the ServerHello or HelloRetryRequest said so).
    tls13: bool,
    /// Stream offset just past the last record seen (to notice lost bytes).
    next_offset: Option<u64>,
}

impl Direction {
    fn new() -> Direction {
        Direction {
            pending: Pending::Nothing,
            encrypted: false,
            tls13: false,
            next_offset: None,
        }
    }

    fn held(&self) -> usize {
        DIRECTION_COST
            + match &self.pending {
                Pending::Message(p) => p.bytes.capacity() + p.frames.capacity() * 8,
                _ => 0,
            }
    }

    /// Drops a message being gathered; says why on `notes`.
    fn drop_pending(&mut self, why: &str, notes: &mut Vec<String>) {
        match std::mem::replace(&mut self.pending, Pending::Nothing) {
            Pending::Message(p) => notes.push(format!(
                "TLS: the {} handshake message begun in an earlier record was dropped: {why}",
                type_name(p.bytes[0])
            )),
            Pending::Skip { msg_type, .. } => notes.push(format!(
                "TLS: the rest of the {} handshake message was not awaited: {why}",
                type_name(msg_type)
            )),
            Pending::Nothing => {}
        }
    }
}

/// Both directions of one connection.
type Connection = Ends<Direction>;

impl Connection {
    fn held(&self) -> usize {
        self.iter().map(Direction::held).sum()
    }

    fn gathering(&self) -> bool {
        self.iter()
            .any(|d| matches!(d.pending, Pending::Message(_)))
    }
}

/// The TLS state of every connection followed.
#[derive(Default)]
pub struct TlsState {
    /// By `tcp.stream`, so the oldest connection comes first.
    connections: BTreeMap<u64, Connection>,
    /// What `connections` hold, kept up to date as they change: the session asks for it
    /// after every frame.
    held: usize,
}

impl TlsState {
    /// No connection yet.
    pub fn new() -> TlsState {
        TlsState::default()
    }

    /// Bytes held: the messages being gathered, and each direction's bookkeeping.
    pub fn held(&self) -> usize {
        self.held
    }

    /// Connections followed.
    pub fn len(&self) -> usize {
        self.connections.len()
    }

    /// Whether no connection is followed.
    pub fn is_empty(&self) -> bool {
        self.connections.is_empty()
    }

    /// Forgets a connection to stay within a memory budget: the oldest (lowest stream
    /// number) gathering a message, else the oldest of all, since each one's bookkeeping
    /// counts too (many connections with nothing pending could otherwise hold more than
    /// the budget for good). Gives its stream and whether a message was being gathered;
    /// `None` when no connection is followed.
    pub fn forget_oldest(&mut self) -> Option<(u64, bool)> {
        let (oldest, gathering) = match self.connections.iter().find(|(_, c)| c.gathering()) {
            Some((s, _)) => (*s, true),
            None => (*self.connections.keys().next()?, false),
        };
        self.close(oldest);
        Some((oldest, gathering))
    }

    /// Forgets a connection (closed, or given up on).
    pub fn close(&mut self, stream: u64) {
        if let Some(c) = self.connections.remove(&stream) {
            self.held -= c.held();
        }
    }

    /// Forgets a connection that closed; a message still being gathered is said to be
    /// dropped on `notes` (the closing frame's).
    pub fn closed(&mut self, stream: u64, notes: &mut Vec<String>) {
        if let Some(mut c) = self.connections.remove(&stream) {
            self.held -= c.held();
            for d in c.iter_mut() {
                d.drop_pending("the connection closed first", notes);
            }
        }
    }

    /// Runs a PDU's TLS records through the connection's state, in stream order: a
    /// handshake message that spans records is gathered and shown on the record that
    /// completes it; ciphertext handshake records are kept as bytes. What goes wrong is
    /// pushed on `notes`.
    pub fn apply(&mut self, pdu: PduRef<'_>, layers: &mut [Layer], notes: &mut Vec<String>) {
        if !layers.iter().any(|l| l.protocol() == Some(ProtocolId::Tls)) {
            return;
        }
        if !self.connections.contains_key(&pdu.stream) && self.connections.len() >= MAX_CONNECTIONS
        {
            if let Some((_, c)) = self.connections.pop_first() {
                self.held -= c.held();
            }
        }
        let conn = self.connections.entry(pdu.stream).or_default();
        let before = conn.held();
        Self::follow(conn, &pdu, layers, notes);
        self.held = self.held - before + conn.held();
    }

    /// [`TlsState::apply`] on the PDU's connection.
    fn follow(
        conn: &mut Connection,
        pdu: &PduRef<'_>,
        layers: &mut [Layer],
        notes: &mut Vec<String>,
    ) {
        let dir = conn.direction(pdu.src, Direction::new);
        if let Some(expected) = dir.next_offset {
            if pdu.offset > expected {
                dir.drop_pending(
                    &format!("{} bytes of the stream were lost", pdu.offset - expected),
                    notes,
                );
            }
        }
        dir.next_offset = Some(pdu.offset + pdu.data.len() as u64);
        if !pdu.completed {
            dir.drop_pending("the record that continues it is incomplete", notes);
            return;
        }
        let mut chose_tls13 = false;
        for layer in layers.iter_mut() {
            let LayerKind::Header(Header::Tls(record)) = &mut layer.kind else {
                if layer.protocol() == Some(ProtocolId::Tls) {
                    dir.drop_pending("a record in between could not be read", notes);
                }
                continue;
            };
            if layer.truncated.is_some() {
                dir.drop_pending("the record that continues it is cut short", notes);
                continue;
            }
            let start = layer.offset + 5;
            let Some(fragment) = pdu.data.get(start..start + usize::from(record.length)) else {
                continue;
            };
            match record.content_type {
                CHANGE_CIPHER_SPEC if !dir.tls13 => {
                    dir.drop_pending("a ChangeCipherSpec came before its end", notes);
                    dir.encrypted = true;
                }
                // tshark's "Encrypted Handshake Message": bytes that happen to tile as
                // messages are still ciphertext.
                HANDSHAKE if dir.encrypted && !matches!(record.body, TlsBody::Raw(_)) => {
                    record.body = TlsBody::Raw(crate::wire::Bytes::from_slice(fragment));
                }
                HANDSHAKE if dir.encrypted => {}
                HANDSHAKE => {
                    handshake_record(dir, record, fragment, pdu.frame, notes);
                    chose_tls13 |= selects_tls13(record);
                }
                _ => {}
            }
        }
        if chose_tls13 {
            // Both directions of the connection: a later ChangeCipherSpec is only for
            // middleboxes (RFC 8446 appendix D.4).
            for end in [pdu.src, pdu.dst] {
                let d = conn.direction(end, Direction::new);
                d.tls13 = true;
                d.encrypted = false;
            }
        }
    }
}

/// Follows one plaintext handshake record whose fragment is `fragment`: continues the
/// message pending, reads the whole messages after it, begins a message cut at the
/// end; rewrites the record's body and fragment fields when any of that happened.
fn handshake_record(
    dir: &mut Direction,
    record: &mut Tls,
    fragment: &[u8],
    frame: u64,
    notes: &mut Vec<String>,
) {
    // The usual case: nothing pending, the messages tile the record.
    if matches!(dir.pending, Pending::Nothing)
        && matches!(record.body, TlsBody::HandshakeMessages(_))
    {
        return;
    }
    let mut pos = 0;
    // Whole messages, in order: the one completed here first.
    let mut whole: Vec<u8> = Vec::new();
    let mut reassembled = String::new();
    let mut fragment_note = String::new();
    let mut pending = std::mem::replace(&mut dir.pending, Pending::Nothing);
    // Where this record's bytes start in the pending message.
    let mut from = 0;
    match &mut pending {
        Pending::Message(p) => {
            from = p.bytes.len();
            // The header first, when the last record cut it.
            let take = HEADER.saturating_sub(from).min(fragment.len());
            p.bytes.extend_from_slice(&fragment[..take]);
            pos = take;
            if let Some(total) = p.total().filter(|&t| t > MAX_MESSAGE) {
                notes.push(too_long(p.bytes[0], total));
                pending = Pending::Skip {
                    msg_type: p.bytes[0],
                    left: total - p.bytes.len(),
                    total,
                };
            }
        }
        Pending::Skip { left, total, .. } => from = *total - *left,
        Pending::Nothing => {}
    }
    match pending {
        Pending::Nothing => {}
        Pending::Skip {
            msg_type,
            left,
            total,
        } => {
            let take = left.min(fragment.len() - pos);
            pos += take;
            fragment_note = format!(
                "{}: bytes {from}..{} of {total}, not reassembled (longer than {MAX_MESSAGE} bytes)",
                type_label(msg_type),
                total - left + take
            );
            if take < left {
                dir.pending = Pending::Skip {
                    msg_type,
                    left: left - take,
                    total,
                };
            }
        }
        Pending::Message(mut p) => {
            if let Some(total) = p.total() {
                let take = (total - p.bytes.len()).min(fragment.len() - pos);
                p.bytes.extend_from_slice(&fragment[pos..pos + take]);
                pos += take;
            }
            p.records += 1;
            if p.frames.len() < MAX_FRAMES_SHOWN {
                p.frames.push(frame);
            }
            if p.total() == Some(p.bytes.len()) {
                reassembled = format!(
                    "{}: {} bytes from {} records (frames {})",
                    type_label(p.bytes[0]),
                    p.bytes.len(),
                    p.records,
                    frames_text(&p.frames, p.records)
                );
                whole = p.bytes;
            } else {
                // It takes the whole record, and goes on in the next.
                fragment_note = fragment_text(p.bytes[0], from, p.bytes.len(), p.total());
                dir.pending = Pending::Message(p);
            }
        }
    }
    // Whole messages after it.
    let mut end = pos;
    while let Some(header) = fragment.get(end..end + HEADER) {
        let total = HEADER + u24(&header[1..]);
        if end + total > fragment.len() {
            break;
        }
        end += total;
    }
    whole.extend_from_slice(&fragment[pos..end]);
    pos = end;
    // A message cut at the end of the record.
    let rest = &fragment[pos..];
    if !rest.is_empty() {
        let msg_type = rest[0];
        let total = (rest.len() >= HEADER).then(|| HEADER + u24(&rest[1..4]));
        match total {
            // Not a handshake message: ciphertext whose ChangeCipherSpec was not
            // captured, or garbage. The record stays bytes, as the spec left it,
            // unless it completed a message.
            _ if crate::registry::tls_handshake_type(u64::from(msg_type)).is_none() => {
                if reassembled.is_empty() {
                    return;
                }
                notes.push(format!(
                    "TLS: the {} bytes after the last handshake message of the record are not a handshake message",
                    rest.len()
                ));
            }
            Some(total) if total > MAX_MESSAGE => {
                notes.push(too_long(msg_type, total));
                fragment_note = format!(
                    "{}: bytes 0..{} of {total}, not reassembled (longer than {MAX_MESSAGE} bytes)",
                    type_label(msg_type),
                    rest.len()
                );
                dir.pending = Pending::Skip {
                    msg_type,
                    left: total - rest.len(),
                    total,
                };
            }
            _ => {
                fragment_note = fragment_text(msg_type, 0, rest.len(), total);
                dir.pending = Pending::Message(Partial {
                    bytes: rest.to_vec(),
                    records: 1,
                    frames: vec![frame],
                });
            }
        }
    }
    finish(record, fragment, &whole, reassembled, fragment_note);
}

/// Sets the record's body to the whole messages `whole` (when there are any, else
/// keeps its bytes) and its fragment fields.
fn finish(
    record: &mut Tls,
    fragment: &[u8],
    whole: &[u8],
    reassembled: String,
    fragment_note: String,
) {
    record.body = if whole.is_empty() {
        TlsBody::Raw(crate::wire::Bytes::from_slice(fragment))
    } else {
        match crate::wire::read_whole::<HandshakeMessages>(whole, Endian::Big) {
            Some(m) => TlsBody::HandshakeMessages(m),
            // Whole messages always tile; kept as bytes should the layout ever refuse.
            None => TlsBody::Raw(crate::wire::Bytes::from_slice(fragment)),
        }
    };
    record.handshake_reassembled = reassembled;
    record.handshake_fragment = fragment_note;
}

/// Whether a record's ServerHello (or HelloRetryRequest) selects TLS 1.3.
fn selects_tls13(record: &Tls) -> bool {
    let TlsBody::HandshakeMessages(m) = &record.body else {
        return false;
    };
    m.handshakes.iter().any(|h: &Handshake| match &h.message {
        crate::protocols::tls::handshake::HandshakeMessage::ServerHello(sh) => {
            sh.extensions.iter().any(|e| {
                matches!(&e.data, ServerExtensionData::SupportedVersion(v) if v.supported_version == TLS13)
            })
        }
        _ => false,
    })
}

fn u24(b: &[u8]) -> usize {
    usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2])
}

/// `certificate (11)`.
fn type_label(msg_type: u8) -> String {
    format!("{} ({msg_type})", type_name(msg_type))
}

fn type_name(msg_type: u8) -> &'static str {
    crate::registry::tls_handshake_type(u64::from(msg_type)).unwrap_or("unknown")
}

/// `certificate (11): bytes 0..16310 of 20016`.
fn fragment_text(msg_type: u8, from: usize, to: usize, total: Option<usize>) -> String {
    match total {
        Some(total) => format!("{}: bytes {from}..{to} of {total}", type_label(msg_type)),
        None => format!(
            "{}: bytes {from}..{to}, length not yet known",
            type_label(msg_type)
        ),
    }
}

fn too_long(msg_type: u8, total: usize) -> String {
    format!(
        "TLS: a {} handshake message of {total} bytes spans records; longer than the {MAX_MESSAGE} followed, not reassembled",
        type_name(msg_type)
    )
}

/// `16, 18`, and `...` when more records than were remembered.
fn frames_text(frames: &[u64], records: usize) -> String {
    let mut s = frames
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if records > frames.len() {
        s.push_str(", ...");
    }
    s
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use pcapkit_testkit::tls::{
        certificate, client_hello, handshake, prefixed, record, sealed, server_hello, CERTIFICATE,
        CHANGE_CIPHER_SPEC, CLIENT_KEY_EXCHANGE, HANDSHAKE, SERVER_HELLO, SERVER_HELLO_DONE,
    };

    use super::*;
    use crate::chain::{self, Thresholds};
    use crate::flow::Endpoint;
    use crate::protocols::tls::handshake::HandshakeMessage;
    use crate::protocols::Next;

    fn end(last: u8, port: u16) -> Endpoint {
        Endpoint {
            addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)),
            port,
        }
    }

    /// One direction of one connection, fed records as the session would.
    struct Feed {
        state: TlsState,
        /// Each direction's stream offset: the client's, the server's.
        offset: [u64; 2],
        frame: u64,
        /// The next records are the server's.
        server: bool,
        /// `tcp.stream`.
        stream: u64,
    }

    impl Feed {
        fn new() -> Feed {
            Feed {
                state: TlsState::new(),
                offset: [0; 2],
                frame: 0,
                server: false,
                stream: 0,
            }
        }

        /// One PDU (one record, as the spec frames the stream); its TLS header and notes.
        fn record(&mut self, bytes: &[u8]) -> (Tls, Vec<String>) {
            let mut layers = Vec::new();
            let next = Next {
                protocol: ProtocolId::Tls,
                name: None,
            };
            chain::dissect_next(next, bytes, &Thresholds::default(), &mut layers);
            let (src, dst) = (end(1, 40000), end(2, 443));
            let (src, dst) = if self.server { (dst, src) } else { (src, dst) };
            self.frame += 1;
            let mut notes = Vec::new();
            self.state.apply(
                PduRef {
                    stream: self.stream,
                    src,
                    dst,
                    offset: self.offset[usize::from(self.server)],
                    data: bytes,
                    frame: self.frame,
                    completed: true,
                },
                &mut layers,
                &mut notes,
            );
            self.offset[usize::from(self.server)] += bytes.len() as u64;
            match &layers[0].kind {
                LayerKind::Header(Header::Tls(t)) => ((**t).clone(), notes),
                other => panic!("not a TLS record: {other:?}"),
            }
        }
    }

    fn types(t: &Tls) -> Vec<u8> {
        match &t.body {
            TlsBody::HandshakeMessages(m) => {
                m.handshakes.iter().map(|h| h.handshake_type).collect()
            }
            _ => Vec::new(),
        }
    }

    #[test]
    fn a_certificate_over_two_records_is_shown_on_the_second() {
        // RFC 5246 section 6.2.1: a 20 016-byte Certificate cannot fit a 2^14-byte record.
        let flight = [
            server_hello(),
            certificate(&[9000, 8000, 3000]),
            handshake(SERVER_HELLO_DONE, &[]),
        ]
        .concat();
        let mut f = Feed::new();
        let (first, notes) = f.record(&record(HANDSHAKE, &flight[..16384]));
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(types(&first), [SERVER_HELLO]);
        let sh = server_hello().len();
        assert_eq!(
            first.handshake_fragment,
            format!("certificate (11): bytes 0..{} of 20016", 16384 - sh)
        );
        assert_eq!(first.handshake_reassembled, "");
        let (second, notes) = f.record(&record(HANDSHAKE, &flight[16384..]));
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(types(&second), [CERTIFICATE, SERVER_HELLO_DONE]);
        assert_eq!(
            second.handshake_reassembled,
            "certificate (11): 20016 bytes from 2 records (frames 1, 2)"
        );
        assert_eq!(second.handshake_fragment, "");
        let TlsBody::HandshakeMessages(m) = &second.body else {
            panic!()
        };
        assert_eq!(m.handshakes[0].handshake_length, 20012);
        let HandshakeMessage::Certificate(c) = &m.handshakes[0].message else {
            panic!("{:?}", m.handshakes[0].message)
        };
        let lengths: Vec<u32> = c
            .certificates
            .iter()
            .map(|e| e.certificate_length)
            .collect();
        assert_eq!(lengths, [9000, 8000, 3000]);
        assert!(f.state.held() < 1024, "nothing is pending any more");
    }

    #[test]
    fn a_close_with_a_message_half_gathered_says_it_was_dropped() {
        let cert = certificate(&[9000, 8000, 3000]);
        let mut f = Feed::new();
        f.record(&record(HANDSHAKE, &cert[..16384]));
        assert!(f.state.held() > 16384);
        let mut notes = Vec::new();
        f.state.closed(f.stream, &mut notes);
        assert_eq!(
            notes,
            ["TLS: the certificate handshake message begun in an earlier record was dropped: the connection closed first"]
        );
        assert_eq!(f.state.held(), 0);
        // Closing again, or a connection never seen, says nothing.
        f.state.closed(f.stream, &mut notes);
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn a_message_whose_header_is_cut_waits_for_its_length() {
        let cke = handshake(CLIENT_KEY_EXCHANGE, &prefixed(2, &[7; 256]));
        let mut f = Feed::new();
        let (a, _) = f.record(&record(HANDSHAKE, &cke[..2]));
        assert_eq!(
            a.handshake_fragment,
            "client_key_exchange (16): bytes 0..2, length not yet known"
        );
        assert!(matches!(a.body, TlsBody::Raw(ref b) if b[..] == cke[..2]));
        let (b, _) = f.record(&record(HANDSHAKE, &cke[2..102]));
        assert_eq!(
            b.handshake_fragment,
            "client_key_exchange (16): bytes 2..102 of 262"
        );
        assert!(types(&b).is_empty());
        let (c, notes) = f.record(&record(HANDSHAKE, &cke[102..]));
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(types(&c), [CLIENT_KEY_EXCHANGE]);
        assert_eq!(
            c.handshake_reassembled,
            "client_key_exchange (16): 262 bytes from 3 records (frames 1, 2, 3)"
        );
    }

    #[test]
    fn a_hello_split_in_two_records_gives_its_sni_on_the_second() {
        let hello = client_hello("split.example");
        let mut f = Feed::new();
        f.record(&record(HANDSHAKE, &hello[..50]));
        let (t, _) = f.record(&record(HANDSHAKE, &hello[50..]));
        let TlsBody::HandshakeMessages(m) = &t.body else {
            panic!("{:?}", t.body)
        };
        let HandshakeMessage::ClientHello(ch) = &m.handshakes[0].message else {
            panic!()
        };
        let sni: Vec<String> = ch
            .extensions
            .iter()
            .filter_map(|e| match &e.data {
                crate::protocols::tls::extension::ExtensionData::ServerNameExt(s) => {
                    Some(String::from_utf8_lossy(&s.server_names[0].sni).into_owned())
                }
                _ => None,
            })
            .collect();
        assert_eq!(sni, ["split.example"]);
    }

    #[test]
    fn a_claim_of_16_mb_is_skipped_not_buffered() {
        let mut huge = vec![CERTIFICATE, 0xff, 0xff, 0xff];
        huge.extend([0x30; 96]);
        let mut f = Feed::new();
        let (t, notes) = f.record(&record(HANDSHAKE, &huge));
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("16777219 bytes"), "{}", notes[0]);
        assert!(t.handshake_fragment.contains("not reassembled"));
        for i in 1..50u32 {
            let (t, notes) = f.record(&record(HANDSHAKE, &[0x41; 16384]));
            assert!(notes.is_empty());
            assert!(types(&t).is_empty());
            let from = 100 + (i as usize - 1) * 16384;
            assert!(
                t.handshake_fragment
                    .starts_with(&format!("certificate (11): bytes {from}..")),
                "{}",
                t.handshake_fragment
            );
            assert!(f.state.held() <= DIRECTION_COST, "{}", f.state.held());
        }
        // Also when the claim is only known once the header's last bytes come.
        let mut f = Feed::new();
        f.record(&record(HANDSHAKE, &[CERTIFICATE, 0xff]));
        let (_, notes) = f.record(&record(HANDSHAKE, &[0xff, 0xff, 0, 0]));
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(f.state.held() <= DIRECTION_COST);
    }

    #[test]
    fn after_change_cipher_spec_handshake_records_are_ciphertext() {
        let mut f = Feed::new();
        f.record(&record(CHANGE_CIPHER_SPEC, &[1]));
        // 40 bytes that tile as a Finished (type 20, length 36): still ciphertext.
        let mut finished = vec![20, 0, 0, 36];
        finished.extend([0x99; 36]);
        let (t, _) = f.record(&record(HANDSHAKE, &finished));
        assert!(matches!(t.body, TlsBody::Raw(_)), "{:?}", t.body);
        // Nor does a zero explicit nonce begin a fragment.
        let (t, notes) = f.record(&record(HANDSHAKE, &sealed(40)));
        assert!(notes.is_empty() && t.handshake_fragment.is_empty());
        assert!(f.state.held() <= DIRECTION_COST);
    }

    #[test]
    fn in_tls13_change_cipher_spec_does_not_encrypt_handshake_records() {
        // A HelloRetryRequest (a ServerHello selecting 0x0304, RFC 8446 section 4.1.4),
        // then the client's compatibility ChangeCipherSpec and its second ClientHello
        // (appendix D.4), both plaintext.
        let mut hrr = vec![3, 3];
        hrr.extend([0xcf; 32]);
        hrr.push(0);
        hrr.extend([0x13, 0x01, 0]);
        hrr.extend(prefixed(2, &[0, 43, 0, 2, 3, 4]));
        let mut f = Feed::new();
        f.record(&record(HANDSHAKE, &client_hello("a.example")));
        f.server = true;
        let (t, _) = f.record(&record(HANDSHAKE, &handshake(SERVER_HELLO, &hrr)));
        assert_eq!(types(&t), [SERVER_HELLO]);
        f.server = false;
        f.record(&record(CHANGE_CIPHER_SPEC, &[1]));
        let (t, _) = f.record(&record(HANDSHAKE, &client_hello("a.example")));
        assert_eq!(types(&t), [1]);
        // Before TLS 1.3 the same records are ciphertext.
        let mut f = Feed::new();
        f.record(&record(CHANGE_CIPHER_SPEC, &[1]));
        let (t, _) = f.record(&record(HANDSHAKE, &client_hello("a.example")));
        assert!(types(&t).is_empty());
    }

    #[test]
    fn lost_bytes_drop_the_message_being_gathered() {
        let cert = certificate(&[3000]);
        let mut f = Feed::new();
        f.record(&record(HANDSHAKE, &cert[..1000]));
        f.offset[0] += 500; // a hole in the stream
        let (t, notes) = f.record(&record(HANDSHAKE, &cert[1000..]));
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("lost"), "{}", notes[0]);
        assert!(types(&t).is_empty());
        assert!(t.handshake_reassembled.is_empty());
    }

    #[test]
    fn the_budget_can_forget_a_message_being_gathered() {
        let cert = certificate(&[30000]);
        let mut f = Feed::new();
        f.record(&record(HANDSHAKE, &cert[..16000]));
        assert!(f.state.held() >= 16000);
        assert_eq!(f.state.forget_oldest(), Some((0, true)));
        assert_eq!(f.state.held(), 0);
        assert_eq!(f.state.forget_oldest(), None);
    }

    /// Found by the `reassembly` fuzz target: connections with nothing pending held their
    /// bookkeeping over a small budget, and the budget could not forget them.
    #[test]
    fn the_budget_can_forget_a_connection_with_nothing_pending() {
        let mut f = Feed::new();
        f.record(&record(HANDSHAKE, &certificate(&[100])));
        assert!(
            !f.state.connections[&0].gathering(),
            "the message was whole"
        );
        assert!(f.state.held() > 0, "its bookkeeping counts");
        assert_eq!(f.state.forget_oldest(), Some((0, false)));
        assert_eq!(f.state.held(), 0);
        assert_eq!(f.state.forget_oldest(), None);
    }

    #[test]
    fn random_records_never_panic_and_stay_bounded() {
        let mut rng = pcapkit_testkit::Rng::new(11);
        let mut f = Feed::new();
        for _ in 0..3000 {
            let len = rng.below(600) as usize;
            let mut body = rng.bytes(len);
            if len >= 4 && rng.below(2) == 0 {
                // A known type and a length near the record's, to start fragments often.
                body[0] = [1, 2, 11, 12, 16][rng.below(5) as usize];
                let claimed = (len as u64 + rng.below(2000)).saturating_sub(1000);
                body[1..4].copy_from_slice(&claimed.to_be_bytes()[5..]);
            }
            // No ChangeCipherSpec: after it nothing would be gathered.
            let ct = [21, 22, 22, 22, 23][rng.below(5) as usize];
            f.server = rng.below(2) == 0;
            f.record(&record(ct, &body));
            assert!(f.state.held() <= 2 * (MAX_MESSAGE + 1024));
            let recount: usize = f.state.connections.values().map(Connection::held).sum();
            assert_eq!(f.state.held(), recount);
        }
    }

    #[test]
    fn past_the_connection_limit_the_oldest_goes() {
        let mut f = Feed::new();
        for stream in 0..=MAX_CONNECTIONS as u64 {
            f.stream = stream;
            f.offset = [0; 2];
            f.record(&record(CHANGE_CIPHER_SPEC, &[1]));
        }
        assert_eq!(f.state.len(), MAX_CONNECTIONS);
        assert_eq!(f.state.held(), MAX_CONNECTIONS * DIRECTION_COST);
        // Stream 0 was forgotten: its ChangeCipherSpec with it.
        f.stream = 0;
        f.offset = [6, 0];
        let (t, _) = f.record(&record(HANDSHAKE, &client_hello("a.example")));
        assert_eq!(types(&t), [1]);
        f.state.close(0);
        f.state.close(1);
        assert_eq!(f.state.held(), (MAX_CONNECTIONS - 1) * DIRECTION_COST);
    }
}
