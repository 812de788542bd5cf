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
//! skipped, with a note), at most [`MAX_DIRECTIONS`] directions are followed, and what
//! is held counts against the session's memory budget.

use std::collections::HashMap;

use deku::ctx::Endian;
use foldhash::fast::RandomState;

use crate::chain::{Layer, LayerKind};
use crate::flow::Endpoint;
use crate::protocols::tls::{
    server_extension::ServerExtensionData, Handshake, HandshakeMessages, Tls, TlsBody,
};
use crate::protocols::{Header, ProtocolId};

/// Longest handshake message gathered over records (its 4-byte header included). A
/// certificate chain is the longest message in practice; OpenSSL refuses chains past
/// 100 KiB by default.
pub const MAX_MESSAGE: usize = 256 << 10;
/// Connection directions followed at once; past this the oldest connection's go.
pub const MAX_DIRECTIONS: usize = 1 << 16;
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

/// The TLS state of every connection followed.
#[derive(Default)]
pub struct TlsState {
    directions: HashMap<(u64, Endpoint), Direction, RandomState>,
}

/// A PDU (one record) of a TLS connection, as the session hands it over.
pub struct TlsPdu<'a> {
    /// `tcp.stream`.
    pub stream: u64,
    /// Sender.
    pub src: Endpoint,
    /// Receiver.
    pub dst: Endpoint,
    /// Stream offset of the PDU's first byte.
    pub offset: u64,
    /// The PDU's bytes (its layers' offsets are into them).
    pub data: &'a [u8],
    /// The frame that completed it.
    pub frame: u64,
    /// Every byte of it arrived.
    pub completed: bool,
}

impl TlsState {
    /// No connection yet.
    pub fn new() -> TlsState {
        TlsState::default()
    }

    /// Bytes held: the messages being gathered, and each direction's bookkeeping.
    pub fn held(&self) -> usize {
        self.directions.values().map(Direction::held).sum()
    }

    /// Directions followed.
    pub fn len(&self) -> usize {
        self.directions.len()
    }

    /// Whether no direction is followed.
    pub fn is_empty(&self) -> bool {
        self.directions.is_empty()
    }

    /// Forgets the oldest connection that is gathering a message (the lowest stream
    /// number), to stay within a memory budget; `None` when none is.
    pub fn forget_oldest(&mut self) -> Option<u64> {
        let oldest = self
            .directions
            .iter()
            .filter(|(_, d)| matches!(d.pending, Pending::Message(_)))
            .map(|((s, _), _)| *s)
            .min()?;
        self.close(oldest);
        Some(oldest)
    }

    /// Forgets a connection (closed, or given up on).
    pub fn close(&mut self, stream: u64) {
        self.directions.retain(|(s, _), _| *s != stream);
    }

    /// Runs a PDU's TLS records through the connection's state, in stream order: a
    /// handshake message that spans records is gathered and shown on the record that
    /// completes it; ciphertext handshake records are kept as bytes. What goes wrong is
    /// pushed on `notes`.
    pub fn apply(&mut self, pdu: TlsPdu<'_>, layers: &mut [Layer], notes: &mut Vec<String>) {
        if !layers.iter().any(|l| l.protocol() == Some(ProtocolId::Tls)) {
            return;
        }
        if !self.directions.contains_key(&(pdu.stream, pdu.src))
            && self.directions.len() >= MAX_DIRECTIONS
        {
            if let Some(oldest) = self.directions.keys().map(|(s, _)| *s).min() {
                self.close(oldest);
            }
        }
        let dir = self
            .directions
            .entry((pdu.stream, pdu.src))
            .or_insert_with(Direction::new);
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
                HANDSHAKE if dir.encrypted => {
                    // tshark's "Encrypted Handshake Message": bytes that happen to tile
                    // as messages are still ciphertext.
                    if !matches!(record.body, TlsBody::Raw(_)) {
                        record.body = TlsBody::Raw(fragment.to_vec());
                    }
                }
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
                let d = self
                    .directions
                    .entry((pdu.stream, end))
                    .or_insert_with(Direction::new);
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
        TlsBody::Raw(fragment.to_vec())
    } else {
        match crate::wire::read_whole::<HandshakeMessages>(whole, Endian::Big) {
            Some(m) => TlsBody::HandshakeMessages(m),
            // Whole messages always tile; kept as bytes should the layout ever refuse.
            None => TlsBody::Raw(fragment.to_vec()),
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
