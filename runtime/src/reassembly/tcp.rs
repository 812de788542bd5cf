//! TCP streams: connections numbered as tshark's `tcp.stream`, each direction's bytes put
//! in order (relative to the initial sequence number, across 32-bit wrap-around), and
//! application PDUs cut from the ordered bytes by the application's framing.
//!
//! - A connection is keyed by its two endpoints, either way round; a SYN (without ACK)
//!   whose sequence number is not its direction's base (tshark's reused ports: another
//!   initial sequence number, the connection closed or not) starts a new stream number.
//! - Retransmissions and overlaps keep the first copy (as tshark's analysis does); a copy
//!   with different bytes is reported on the frame.
//! - Lost segments stay gaps: they are skipped at a close, at the end of the capture, or
//!   when a direction holds more than its budget, and counted; bytes are never invented.
//! - An application protocol whose spec says how its PDUs are cut from a stream
//!   (`[stream]`: HTTP/1, TLS, HTTP/2, DNS over TCP, ...; see [`super::framing`]) is
//!   dissected on whole PDUs; the frame that completes a PDU carries it. Other payloads are
//!   dissected per segment, as without reassembly.
//! - A connection that opens with the HTTP/2 connection preface is HTTP/2 whatever its
//!   port; an HTTP/1 connection switches to HTTP/2 after a `101 Switching Protocols` to
//!   `h2c` (RFC 9113, section 3).

use std::collections::VecDeque;

// Seeded per process: fast, and keys chosen by a capture's author cannot aim at it.
use foldhash::fast::RandomState;
use lru::LruCache;
use std::ops::Range;

use sha2::{Digest, Sha256};

use super::assembler::{Assembler, Refused};
use super::framing::{Framer, Framing, FramingContext};
use crate::chain;
use crate::flow::{Endpoint, FlowKey};
use crate::hooks::http::switches_to_h2c;
use crate::protocols::{Next, ProtocolId};

/// Disjoint runs of out-of-order bytes a direction may hold.
const MAX_RUNS: usize = 256;
/// What a connection costs besides its bytes, for the memory budget: its state, its table
/// entry in the use-ordered table (its node, the index slot and slack).
pub const CONNECTION_COST: usize = std::mem::size_of::<Connection>() + 192;

/// Room made ahead for a message whose length its head gives (bounded: a head may lie).
const MESSAGE_RESERVE: usize = 64 << 10;

/// Room made at once in a direction's list of the segments that brought its pending bytes.
const PIECES: usize = 32;

/// How streams are followed.
#[derive(Debug, Clone, Copy)]
pub struct TcpOptions {
    /// Bytes a direction may hold (out-of-order data and a PDU being assembled); also
    /// how far ahead of the next expected byte a segment may start.
    pub stream_budget: usize,
    /// Keep per-connection summaries (frames, byte counts, SHA-256) for `streams`.
    pub summaries: bool,
    /// Also keep each direction's bytes in the summaries.
    pub payloads: bool,
    /// Keep this stream's data as [`Chunk`]s in the order it was delivered, both
    /// directions interleaved (for `pcapkit follow`); one stream only, so that memory
    /// stays flat for the others.
    pub chunks: Option<u64>,
    /// Only number connections and note how they end (for flow tracing without
    /// reassembly): no byte is copied and no PDU is cut.
    pub number_only: bool,
}

impl Default for TcpOptions {
    fn default() -> Self {
        TcpOptions {
            stream_budget: 16 << 20,
            summaries: false,
            payloads: false,
            chunks: None,
            number_only: false,
        }
    }
}

/// Where the stateless chain would send a segment's payload: known already, or worked
/// out when asked. Only a segment that decides its connection's application (the first
/// with payload) asks, so the others skip the port tables and the heuristics.
#[derive(Clone, Copy)]
pub enum PayloadNext<'a> {
    /// Worked out already.
    Known(Option<Next>),
    /// Worked out by the function, when asked.
    Lazy(&'a dyn Fn() -> Option<Next>),
}

impl PayloadNext<'_> {
    /// The protocol, worked out now if it was left for later.
    pub fn get(self) -> Option<Next> {
        match self {
            PayloadNext::Known(next) => next,
            PayloadNext::Lazy(find) => find(),
        }
    }
}

impl From<Option<Next>> for PayloadNext<'_> {
    fn from(next: Option<Next>) -> Self {
        PayloadNext::Known(next)
    }
}

impl std::fmt::Debug for PayloadNext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PayloadNext::Known(next) => f.debug_tuple("Known").field(next).finish(),
            PayloadNext::Lazy(_) => f.write_str("Lazy"),
        }
    }
}

/// One segment, as the TCP layer saw it.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    /// Sender.
    pub src: Endpoint,
    /// Receiver.
    pub dst: Endpoint,
    /// Sequence number.
    pub seq: u32,
    /// SYN flag.
    pub syn: bool,
    /// ACK flag.
    pub ack: bool,
    /// Acknowledgment number (meaningful with `ack`).
    pub ack_number: u32,
    /// FIN flag.
    pub fin: bool,
    /// RST flag.
    pub rst: bool,
    /// The payload's captured bytes.
    pub payload: &'a [u8],
    /// Payload bytes the IP header declares that the snapshot length cut off.
    pub missing: u64,
    /// Where the stateless chain would send the payload (port binding or heuristic).
    pub next: PayloadNext<'a>,
    /// The chain left the payload undissected (`Thresholds::defer_streams`): `next`
    /// holds only if the payload reads as it (checked when it decides the connection).
    pub deferred: bool,
    /// The frame.
    pub frame: u64,
    /// Capture time, in seconds.
    pub time: i64,
}

/// An application PDU cut from a stream, or the bytes of one given up on.
#[derive(Debug, Clone)]
pub struct Pdu {
    /// The stream number.
    pub stream: u64,
    /// Sender.
    pub src: Endpoint,
    /// Receiver.
    pub dst: Endpoint,
    /// Stream offset of its first byte (relative sequence number).
    pub offset: u64,
    /// Its bytes.
    pub data: Vec<u8>,
    /// Frames whose bytes it holds.
    pub frames: Vec<u64>,
    /// The whole PDU arrived.
    pub completed: bool,
    /// What is missing (relative to `offset`), when not completed; `OPEN_END` ends a
    /// hole whose end is not known.
    pub holes: Vec<Range<u64>>,
    /// The protocol to dissect it as.
    pub next: Next,
}

/// What a segment did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The stream number.
    pub stream: u64,
    /// The connection's payload is dissected as PDUs: the segment's own application
    /// layers go (its bytes reach the application through `pdus`).
    pub framed: bool,
    /// PDUs this segment completed or ended.
    pub pdus: Vec<Pdu>,
    /// Oddities: different retransmitted bytes, segments far outside the window.
    pub notes: Vec<String>,
    /// The connection's first sender (the source of its first captured segment).
    pub a: Endpoint,
    /// The other end.
    pub b: Endpoint,
    /// The segment goes from `b` to `a`.
    pub from_b: bool,
    /// The segment carries a FIN.
    pub fin: bool,
    /// The connection is closed (a RST, or a FIN each way) after this segment.
    pub closed: bool,
}

/// One direction of a finished connection, for `pcapkit streams`.
#[derive(Debug, Clone, Default)]
pub struct DirectionSummary {
    /// Bytes delivered in order (gaps not counted).
    pub bytes: u64,
    /// SHA-256 of those bytes.
    pub sha256: [u8; 32],
    /// Gaps skipped (lost segments).
    pub gaps: u64,
    /// The bytes themselves, when asked for.
    pub payload: Option<Vec<u8>>,
}

/// A run of in-order bytes one direction delivered, for `pcapkit follow`: what one
/// segment added to the stream (tshark's follow chunks), or bytes that never arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Sent by `b` (the server side in tshark's terms), else by `a`.
    pub from_b: bool,
    /// The frame that brought the bytes (for a gap: the first frame after it).
    pub frame: u64,
    /// The bytes, or what is missing.
    pub data: ChunkData,
}

/// What a [`Chunk`] holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkData {
    /// Bytes, in stream order.
    Bytes(Vec<u8>),
    /// This many bytes were lost (a gap skipped); when the gap's end is not known (lost
    /// bytes before a FIN), up to the FIN.
    Missing(u64),
}

/// A connection, for `pcapkit streams`.
#[derive(Debug, Clone)]
pub struct ConnectionSummary {
    /// `tcp.stream`.
    pub stream: u64,
    /// The source of the connection's first captured frame.
    pub a: Endpoint,
    /// The other end.
    pub b: Endpoint,
    /// Every frame of the connection.
    pub frames: Vec<u64>,
    /// From `a` to `b`.
    pub a_to_b: DirectionSummary,
    /// From `b` to `a`.
    pub b_to_a: DirectionSummary,
    /// Seen from its SYN to its close (FIN both ways, or RST), without gaps.
    pub completed: bool,
    /// The application protocol, when one was found.
    pub protocol: Option<ProtocolId>,
    /// The data in delivery order, for the stream [`TcpOptions::chunks`] names (empty
    /// for the others).
    pub chunks: Vec<Chunk>,
}

#[derive(Default)]
struct Direction {
    /// Sequence number of stream offset 0.
    origin: Option<u32>,
    /// tshark's base sequence number of this direction: a SYN's own, one before the first
    /// other segment's, or one before the first acknowledgement the other end sent. A SYN
    /// that does not start there begins a new connection (tshark 4.0's reused ports).
    base: Option<u32>,
    syn: bool,
    /// Highest offset seen, to place 32-bit sequence numbers.
    high: u64,
    assembler: Option<Assembler>,
    /// Where the FIN is, once seen.
    fin_at: Option<u64>,
    /// Where the message being put together ends, when its head said so: it is not
    /// framed again before its bytes are all there.
    message_end: Option<u64>,
    /// Ranges the snapshot length cut off: they never come, so a message reaching into
    /// one is given up on there.
    lost: Vec<Range<u64>>,
    /// Frames that brought bytes not yet consumed, with the stream range they brought.
    pieces: Vec<(u64, Range<u64>)>,
    /// Bytes up to here went to the summary.
    summarised: u64,
    bytes: u64,
    gaps: u64,
    hash: Option<Box<Sha256>>,
    payload: Option<Vec<u8>>,
}

impl Direction {
    fn held(&self) -> usize {
        self.assembler.as_ref().map_or(0, Assembler::held)
    }

    /// Frees the lists that grew while data flowed and are empty now.
    fn release(&mut self) {
        if let Some(a) = &mut self.assembler {
            a.release();
        }
        if self.pieces.is_empty() {
            self.pieces = Vec::new();
        }
    }

    /// The stream offset of sequence number `seq`: the one nearest the highest seen.
    fn offset(&self, seq: u32) -> Option<u64> {
        let rel = seq.wrapping_sub(self.origin?);
        let base = self.high & !0xffff_ffff;
        let candidates = [
            base.checked_sub(1 << 32).map(|b| b | u64::from(rel)),
            Some(base | u64::from(rel)),
            Some((base + (1 << 32)) | u64::from(rel)),
        ];
        candidates
            .into_iter()
            .flatten()
            .min_by_key(|c| c.abs_diff(self.high))
    }
}

/// The client's first bytes on an HTTP/2 connection (RFC 9113, section 3.4).
pub const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

#[derive(Clone, Copy)]
enum App {
    /// No payload yet.
    Undecided,
    /// Dissected per segment.
    Unframed,
    /// Cut into PDUs by the protocol's framer.
    Framed(Framer),
}

impl App {
    fn framed(self) -> bool {
        matches!(self, App::Framed(_))
    }

    /// How the payload of a connection that `next` was chosen for is dissected.
    fn of(next: Option<Next>) -> App {
        match next.and_then(|n| n.protocol.stream_framer()) {
            Some(framer) => App::Framed(framer),
            None => App::Unframed,
        }
    }
}

/// HTTP/2, when a spec defines it.
fn http2() -> Option<Next> {
    ProtocolId::from_name("http2").map(|protocol| Next {
        protocol,
        name: None,
    })
}

/// HTTP/2 and its PDU framing, when a spec defines HTTP/2.
fn http2_framing() -> Option<(Next, Framer)> {
    http2().and_then(|n| Some((n, n.protocol.stream_framer()?)))
}

struct Connection {
    stream: u64,
    a: Endpoint,
    b: Endpoint,
    /// 0: from `a`, 1: from `b`.
    dirs: [Direction; 2],
    app: App,
    next: Option<Next>,
    /// Whether each pending response answers a HEAD request, oldest first.
    heads: VecDeque<bool>,
    /// An HTTP/1 CONNECT went by: what follows is a tunnel's, whatever it looks like.
    tunnel: bool,
    rst: bool,
    frames: Vec<u64>,
    /// Delivered data, kept for one stream only (see [`TcpOptions::chunks`]).
    chunks: Option<Vec<Chunk>>,
}

impl Connection {
    /// (sender, receiver) of direction `d`.
    fn endpoints(&self, d: usize) -> (Endpoint, Endpoint) {
        if d == 0 {
            (self.a, self.b)
        } else {
            (self.b, self.a)
        }
    }

    fn closed(&self) -> bool {
        self.rst || (self.dirs[0].fin_at.is_some() && self.dirs[1].fin_at.is_some())
    }

    /// Whether the connection is closed, freeing what its directions no longer need:
    /// closed connections stay in the table (a late segment keeps their stream number),
    /// and capacity kept from their transfers would make memory grow with the capture.
    fn close_check(&mut self) -> bool {
        let closed = self.closed();
        if closed {
            for dir in &mut self.dirs {
                dir.release();
            }
            if self.heads.is_empty() {
                self.heads = VecDeque::new();
            }
        }
        closed
    }
}

/// Every TCP connection of a capture.
pub struct Streams {
    options: TcpOptions,
    /// By last use, for eviction. Each entry is allocated on its own, so the table's
    /// slack costs pointers, not whole connections.
    connections: LruCache<FlowKey, Connection, RandomState>,
    next_stream: u64,
    held: usize,
    finished: Vec<ConnectionSummary>,
}

impl Streams {
    /// No connection yet.
    pub fn new(options: TcpOptions) -> Streams {
        Streams {
            options,
            connections: LruCache::unbounded_with_hasher(RandomState::default()),
            next_stream: 0,
            held: 0,
            finished: Vec::new(),
        }
    }

    /// Bytes held, connections counted at [`CONNECTION_COST`].
    pub fn held(&self) -> usize {
        self.held + self.connections.len() * CONNECTION_COST
    }

    /// Connections open.
    pub fn len(&self) -> usize {
        self.connections.len()
    }

    /// Whether no connection is open.
    pub fn is_empty(&self) -> bool {
        self.connections.is_empty()
    }

    /// Keeps stream `stream`'s data as chunks (see [`TcpOptions::chunks`]); for a
    /// stream not yet started.
    pub fn keep_chunks(&mut self, stream: u64) {
        self.options.chunks = Some(stream);
    }

    /// Summaries of the connections forgotten so far (with `summaries` on).
    pub fn take_summaries(&mut self) -> Vec<ConnectionSummary> {
        std::mem::take(&mut self.finished)
    }

    /// Takes a segment.
    pub fn add(&mut self, s: Segment<'_>) -> Outcome {
        let (key, _) = FlowKey::new(s.src, s.dst);
        let mut out = Outcome::default();
        // Only a SYN can start a new connection on a known pair (one look-up otherwise):
        // as tshark 4.0 does, one whose sequence number is not its direction's base, open
        // or closed the connection (a retransmitted SYN starts at the base).
        let restart = s.syn
            && !s.ack
            && self.connections.peek(&key).is_some_and(|c| {
                let d = usize::from(s.src != c.a);
                c.dirs[d].base.is_some_and(|base| base != s.seq)
            });
        if restart {
            self.forget(key, &mut out.pdus);
        }
        let next_stream = &mut self.next_stream;
        let chunks = self.options.chunks;
        // Found or made, the connection becomes the most recently used.
        let conn = self.connections.get_or_insert_mut(key, || {
            let stream = *next_stream;
            *next_stream += 1;
            Connection {
                stream,
                a: s.src,
                b: s.dst,
                dirs: Default::default(),
                app: App::Undecided,
                next: None,
                heads: VecDeque::new(),
                tunnel: false,
                rst: false,
                frames: Vec::new(),
                chunks: (chunks == Some(stream)).then(Vec::new),
            }
        });
        if self.options.summaries {
            conn.frames.push(s.frame);
        }
        out.stream = conn.stream;
        out.a = conn.a;
        out.b = conn.b;
        out.fin = s.fin;
        let d = usize::from(s.src != conn.a);
        out.from_b = d == 1;
        if conn.dirs[d].base.is_none() {
            conn.dirs[d].base = Some(if s.syn { s.seq } else { s.seq.wrapping_sub(1) });
        }
        if s.ack && conn.dirs[1 - d].base.is_none() {
            conn.dirs[1 - d].base = Some(s.ack_number.wrapping_sub(1));
        }
        if matches!(conn.app, App::Undecided) && !s.payload.is_empty() {
            // The segment's own dissection decides, as the stateless chain would read it.
            let next = s.next.get();
            conn.next = match next {
                Some(n) if s.deferred && !chain::reads_as(n, s.payload) => None,
                next => next,
            };
            // A client's preface may arrive in pieces: a first segment that is a prefix
            // of it counts.
            let n = s.payload.len().min(HTTP2_PREFACE.len());
            if s.payload[..n] == HTTP2_PREFACE[..n] && n >= 4 {
                conn.next = http2().or(next);
            }
            conn.app = if self.options.number_only {
                App::Unframed
            } else {
                App::of(conn.next)
            };
        }
        // A segment cut short by the snapshot length keeps its own dissection, as in
        // tshark: what it holds of a message is all there will be.
        out.framed = conn.app.framed() && s.missing == 0;
        let options = self.options;
        if s.ack {
            let mut held = self.held;
            skip_acked_gaps(conn, 1 - d, s.ack_number, &mut out.pdus, &mut held);
            self.held = held;
        }
        let dir = &mut conn.dirs[d];
        if dir.assembler.is_none() {
            dir.assembler = Some(Assembler::new(0, options.stream_budget as u64, MAX_RUNS));
            if options.summaries {
                dir.hash = Some(Box::new(Sha256::new()));
                dir.payload = options.payloads.then(Vec::new);
            }
        }
        let before = dir.held();
        if s.syn && !dir.syn {
            dir.syn = true;
            if dir.origin.is_none() {
                dir.origin = Some(s.seq.wrapping_add(1));
            }
        }
        let data_seq = if s.syn { s.seq.wrapping_add(1) } else { s.seq };
        if s.missing > 0 {
            if dir.origin.is_none() {
                dir.origin = Some(data_seq);
            }
            let cut = dir.offset(data_seq).unwrap_or(0) + s.payload.len() as u64;
            if dir.lost.len() < MAX_RUNS {
                dir.lost.push(cut..cut + s.missing);
            }
            dir.high = dir.high.max(cut + s.missing);
        }
        // Bytes nobody reads (dissected per segment, no summary kept) need no copy: the
        // connection is only numbered and its ends noted.
        let unread = matches!(conn.app, App::Unframed) && !options.summaries;
        if !s.payload.is_empty() && !unread {
            if dir.origin.is_none() {
                dir.origin = Some(data_seq);
            }
            let offset = dir.offset(data_seq).unwrap_or(0);
            let end = offset + s.payload.len() as u64;
            let assembler = dir.assembler.as_mut().expect("made above");
            match assembler.insert(offset, s.payload) {
                Ok(inserted) => {
                    dir.high = dir.high.max(end);
                    if inserted.new > 0 {
                        if dir.pieces.capacity() == 0 {
                            // A message's segments, without growing from four.
                            dir.pieces.reserve_exact(PIECES);
                        }
                        dir.pieces.push((s.frame, offset..end));
                    }
                    if let Some(c) = inserted.conflict {
                        out.notes.push(format!(
                            "retransmitted bytes differ at relative sequence {}..{} (first copy kept)",
                            c.start, c.end
                        ));
                    }
                }
                Err(Refused::OutOfWindow) => out.notes.push(format!(
                    "segment at relative sequence {offset} is far outside the window (expected about {}); not reassembled",
                    assembler.base()
                )),
                Err(Refused::TooManyRanges) => out.notes.push(format!(
                    "too many out-of-order runs; segment at relative sequence {offset} not reassembled"
                )),
            }
        }
        if s.fin && dir.fin_at.is_none() {
            if dir.origin.is_none() {
                dir.origin = Some(data_seq);
            }
            let at = dir.offset(data_seq).unwrap_or(0) + s.payload.len() as u64 + s.missing;
            dir.fin_at = Some(at);
        }
        if s.rst {
            conn.rst = true;
        }
        self.held = self.held + conn.dirs[d].held() - before;
        let closing = conn.rst;
        // A bare acknowledgement (most segments without payload) brings nothing to
        // deliver when its direction holds nothing in order, no loss is pending and the
        // budget is kept.
        let dir = &conn.dirs[d];
        if s.payload.is_empty()
            && !s.fin
            && !closing
            && s.missing == 0
            && dir.lost.is_empty()
            && dir.held() <= options.stream_budget / 2
            && dir
                .assembler
                .as_ref()
                .is_none_or(|a| a.contiguous().is_empty())
        {
            out.closed = conn.close_check();
            return out;
        }
        let mut held = self.held;
        deliver(conn, d, closing, &mut out.pdus, &mut held);
        if closing {
            deliver(conn, 1 - d, true, &mut out.pdus, &mut held);
        }
        if conn.dirs[d].held() > options.stream_budget / 2 {
            skip_gap(conn, d, &mut out.pdus, &mut held);
        }
        self.held = held;
        out.closed = conn.close_check();
        out
    }

    /// Forgets the least recently used connection (to stay within the memory budget).
    pub fn evict_oldest(&mut self) -> Option<Vec<Pdu>> {
        let (_, conn) = self.connections.pop_lru()?;
        let mut pdus = Vec::new();
        self.close(conn, &mut pdus);
        Some(pdus)
    }

    /// Forgets every connection (the capture ended), in stream order.
    pub fn drain(&mut self) -> Vec<Pdu> {
        let mut keys: Vec<(u64, FlowKey)> = self
            .connections
            .iter()
            .map(|(k, c)| (c.stream, *k))
            .collect();
        keys.sort_unstable_by_key(|(s, _)| *s);
        let mut pdus = Vec::new();
        for (_, key) in keys {
            self.forget(key, &mut pdus);
        }
        self.finished.sort_unstable_by_key(|c| c.stream);
        pdus
    }

    fn forget(&mut self, key: FlowKey, pdus: &mut Vec<Pdu>) {
        if let Some(conn) = self.connections.pop(&key) {
            self.close(conn, pdus);
        }
    }

    /// Gives up what `conn` still holds and keeps its summary; it has left the table.
    fn close(&mut self, mut conn: Connection, pdus: &mut Vec<Pdu>) {
        let options = self.options;
        let mut held = self.held;
        for d in 0..2 {
            deliver(&mut conn, d, true, pdus, &mut held);
            while conn.dirs[d]
                .assembler
                .as_ref()
                .is_some_and(|a| !a.is_empty())
            {
                skip_gap(&mut conn, d, pdus, &mut held);
            }
            held -= conn.dirs[d].held();
        }
        self.held = held;
        if options.summaries {
            let completed =
                conn.dirs[0].syn && conn.closed() && conn.dirs.iter().all(|d| d.gaps == 0);
            let [da, db] = conn.dirs.map(|d| DirectionSummary {
                bytes: d.bytes,
                sha256: d.hash.map(|h| h.finalize().into()).unwrap_or_default(),
                gaps: d.gaps,
                payload: d.payload,
            });
            self.finished.push(ConnectionSummary {
                stream: conn.stream,
                a: conn.a,
                b: conn.b,
                frames: conn.frames,
                a_to_b: da,
                b_to_a: db,
                completed,
                protocol: conn.next.map(|n| n.protocol),
                chunks: conn.chunks.unwrap_or_default(),
            });
        }
    }
}

/// Hands direction `d`'s in-order bytes on: to the summary, then to the framer, which cuts
/// PDUs. At a close, a PDU still incomplete is given up on; so is one that reaches into
/// bytes the snapshot length cut off.
fn deliver(conn: &mut Connection, d: usize, closing: bool, pdus: &mut Vec<Pdu>, held: &mut usize) {
    loop {
        deliver_contiguous(conn, d, closing, pdus, held);
        let dir = &mut conn.dirs[d];
        let Some(assembler) = dir.assembler.as_ref() else {
            return;
        };
        let end = assembler.base() + assembler.contiguous().len() as u64;
        dir.lost.retain(|r| r.end > end);
        let Some(i) = dir.lost.iter().position(|r| r.start <= end) else {
            return;
        };
        let lost = dir.lost.swap_remove(i);
        give_up(conn, d, Some(lost.end), pdus, held);
    }
}

fn deliver_contiguous(
    conn: &mut Connection,
    d: usize,
    closing: bool,
    pdus: &mut Vec<Pdu>,
    held: &mut usize,
) {
    let (src, dst) = conn.endpoints(d);
    let stream = conn.stream;
    let app = conn.app;
    let next = conn.next;
    let dir = &mut conn.dirs[d];
    let Some(assembler) = dir.assembler.as_mut() else {
        return;
    };
    let before = assembler.held();
    // The summary sees each byte once, in order.
    let contiguous_end = assembler.base() + assembler.contiguous().len() as u64;
    // Without a summary, only the count moves on (no slice is looked up).
    let summarised = dir.hash.is_some() || dir.payload.is_some() || conn.chunks.is_some();
    if dir.summarised < contiguous_end && !summarised {
        dir.bytes += contiguous_end - dir.summarised.max(assembler.base());
        dir.summarised = contiguous_end;
    }
    if dir.summarised < contiguous_end {
        let from = dir.summarised.max(assembler.base());
        let bytes = assembler.slice(from..contiguous_end);
        dir.bytes += bytes.len() as u64;
        if let Some(h) = &mut dir.hash {
            h.update(bytes);
        }
        if let Some(p) = &mut dir.payload {
            p.extend_from_slice(bytes);
        }
        if let Some(chunks) = &mut conn.chunks {
            push_chunks(chunks, d == 1, &dir.pieces, from, bytes);
        }
        dir.summarised = contiguous_end;
    }
    let closed = closing || dir.fin_at.is_some_and(|f| f <= contiguous_end);
    match (app, next) {
        (App::Framed(mut framer), Some(mut next)) => loop {
            let bytes = assembler.contiguous();
            if bytes.is_empty() {
                break;
            }
            let end = assembler.base() + bytes.len() as u64;
            if dir.message_end.is_some_and(|e| e > end) && !closed {
                break;
            }
            dir.message_end = None;
            let http1 = next.protocol == ProtocolId::Http;
            // The client's connection preface on an HTTP/1 connection (prior knowledge,
            // after bytes from the server that were no HTTP/1 message): HTTP/2 both ways
            // from here on, as tshark's HTTP dissector hands it over; not through a
            // CONNECT tunnel, whose bytes tshark leaves as data.
            let n = bytes.len().min(HTTP2_PREFACE.len());
            if http1 && !conn.tunnel && n >= 4 && bytes[..n] == HTTP2_PREFACE[..n] {
                if n < HTTP2_PREFACE.len() && !closed {
                    break;
                }
                if let Some(h2) = http2_framing() {
                    (next, framer) = h2;
                    conn.next = Some(next);
                    conn.app = App::Framed(framer);
                    continue;
                }
            }
            let cx = FramingContext {
                closed,
                head_request: http1
                    && bytes.starts_with(b"HTTP/")
                    && conn.heads.front() == Some(&true),
            };
            let framing = match framer(bytes, cx) {
                // Taking no bytes, a PDU would be cut forever.
                Framing::Complete(0) => Framing::NotMessage,
                f => f,
            };
            let (len, completed) = match framing {
                Framing::Complete(n) => (n.min(bytes.len()), true),
                Framing::NotMessage => (bytes.len(), false),
                // At a close, a message cut short is given up on here, unless bytes
                // after a hole arrived: then skipping the gap gives it up, holes known.
                Framing::Incomplete if closed && assembler.ranges().len() == 1 => {
                    (bytes.len(), false)
                }
                Framing::Needs(_) if closed && assembler.ranges().len() == 1 => {
                    (bytes.len(), false)
                }
                Framing::Needs(n) => {
                    let end = assembler.base().saturating_add(n as u64);
                    dir.message_end = Some(end);
                    // The body arrives segment by segment: grown by doubling, its buffer
                    // would be copied again at every step.
                    assembler.reserve_to(end, MESSAGE_RESERVE);
                    break;
                }
                Framing::Incomplete => break,
            };
            let start = assembler.base();
            let mut switch = false;
            if http1 && framing != Framing::NotMessage {
                let message = &bytes[..len];
                note_message(&mut conn.heads, message);
                conn.tunnel |= message.starts_with(b"CONNECT ");
                switch = switches_to_h2c(message);
            }
            let frames = take_frames(&mut dir.pieces, start..start + len as u64);
            let data = assembler.take_front(len);
            if framing != Framing::NotMessage {
                pdus.push(Pdu {
                    stream,
                    src,
                    dst,
                    offset: start,
                    holes: if completed {
                        Vec::new()
                    } else {
                        // One hole (a one-range `vec!` reads as a range to clippy).
                        std::iter::once(len as u64..super::OPEN_END).collect()
                    },
                    data,
                    frames,
                    completed,
                    next,
                });
            }
            // Bytes between messages (or after a gap) that are not a message stay where
            // the segments left them.
            if let Some(h2) = switch.then(http2_framing).flatten() {
                // Both directions speak HTTP/2 from here on (the client's next bytes are
                // its preface).
                (next, framer) = h2;
                conn.next = Some(next);
                conn.app = App::Framed(framer);
            }
        },
        _ => {
            let end = assembler.base() + assembler.contiguous().len() as u64;
            dir.pieces.retain(|(_, r)| r.end > end);
            assembler.consume(end);
        }
    }
    *held = *held + assembler.held() - before;
}

/// Remembers requests (HEAD or not) and matches final responses to them.
fn note_message(heads: &mut VecDeque<bool>, message: &[u8]) {
    if message.starts_with(b"HTTP/") {
        // Interim (1xx) responses answer no request yet.
        if message.get(9) != Some(&b'1') {
            heads.pop_front();
        }
    } else if heads.len() < 1024 {
        heads.push_back(message.starts_with(b"HEAD "));
    }
}

/// The frames that brought bytes of `range`, in capture order; pieces wholly before its
/// end are forgotten.
fn take_frames(pieces: &mut Vec<(u64, Range<u64>)>, range: Range<u64>) -> Vec<u64> {
    // Room for every piece up front: collected from a filter, the list would grow by
    // reallocation.
    let mut frames = Vec::with_capacity(pieces.len());
    frames.extend(
        pieces
            .iter()
            .filter(|(_, r)| r.start < range.end && r.end > range.start)
            .map(|(f, _)| *f),
    );
    frames.sort_unstable();
    frames.dedup();
    pieces.retain(|(_, r)| r.end > range.end);
    frames
}

/// Splits bytes just delivered (`bytes`, from stream offset `from`) into one chunk per
/// segment that brought them, as tshark's follow does; `pieces` are in arrival order,
/// and the first copy of a byte is the one kept.
fn push_chunks(
    chunks: &mut Vec<Chunk>,
    from_b: bool,
    pieces: &[(u64, Range<u64>)],
    from: u64,
    bytes: &[u8],
) {
    let end = from + bytes.len() as u64;
    let mut at = from;
    while at < end {
        let (frame, to) = pieces
            .iter()
            .find(|(_, r)| r.contains(&at))
            .map_or((0, end), |(f, r)| (*f, r.end.min(end)));
        let data = bytes[(at - from) as usize..(to - from) as usize].to_vec();
        chunks.push(Chunk {
            from_b,
            frame,
            data: ChunkData::Bytes(data),
        });
        at = to;
    }
}

/// Gives up on the holes of direction `d` that the other side acknowledges past: the
/// receiver got those bytes, so the capture missed them and no copy will come (tshark's
/// follow does the same). A hole is skipped only once bytes after it are held and the
/// acknowledgment passes their start, compared as 32-bit sequence numbers.
fn skip_acked_gaps(
    conn: &mut Connection,
    d: usize,
    ack_number: u32,
    pdus: &mut Vec<Pdu>,
    held: &mut usize,
) {
    loop {
        let dir = &conn.dirs[d];
        let (Some(origin), Some(assembler)) = (dir.origin, dir.assembler.as_ref()) else {
            return;
        };
        let after_hole = assembler
            .ranges()
            .iter()
            .map(|r| r.start)
            .find(|&start| start > assembler.base() + assembler.contiguous().len() as u64);
        let Some(start) = after_hole else { return };
        let start_seq = origin.wrapping_add(start as u32);
        if (ack_number.wrapping_sub(start_seq) as i32) <= 0 {
            return;
        }
        skip_gap(conn, d, pdus, held);
    }
}

/// Gives up on what is contiguous in direction `d` (a PDU given up on, when framed) and
/// on the bytes up to `to`, which will never come: a gap.
fn give_up(
    conn: &mut Connection,
    d: usize,
    to: Option<u64>,
    pdus: &mut Vec<Pdu>,
    held: &mut usize,
) {
    let (src, dst) = conn.endpoints(d);
    let stream = conn.stream;
    let framed = conn.app.framed();
    let next = conn.next;
    let dir = &mut conn.dirs[d];
    let Some(assembler) = dir.assembler.as_mut() else {
        return;
    };
    let before = assembler.held();
    let start = assembler.base();
    let pending = assembler.contiguous().len() as u64;
    // The message in progress, if any, is given up on here.
    dir.message_end = None;
    if pending > 0 {
        let data = assembler.contiguous().to_vec();
        let frames = take_frames(&mut dir.pieces, start..start + pending);
        if let (true, Some(next)) = (framed, next) {
            pdus.push(Pdu {
                stream,
                src,
                dst,
                offset: start,
                holes: std::iter::once(pending..to.map_or(super::OPEN_END, |e| e - start))
                    .collect(),
                data,
                frames,
                completed: false,
                next,
            });
        }
        assembler.consume(start + pending);
    }
    if let Some(to) = to.filter(|&to| to > assembler.base()) {
        dir.gaps += 1;
        if let Some(chunks) = &mut conn.chunks {
            let frame = dir
                .pieces
                .iter()
                .find(|(_, r)| r.contains(&to))
                .map_or(0, |(f, _)| *f);
            chunks.push(Chunk {
                from_b: d == 1,
                frame,
                data: ChunkData::Missing(to - assembler.base()),
            });
        }
        assembler.consume(to);
        dir.summarised = dir.summarised.max(to);
    }
    *held = *held + assembler.held() - before;
}

/// Gives up on direction `d`'s first hole: what is contiguous before it becomes a PDU
/// given up on, the hole is counted as a gap, and delivery goes on after it.
fn skip_gap(conn: &mut Connection, d: usize, pdus: &mut Vec<Pdu>, held: &mut usize) {
    let dir = &conn.dirs[d];
    let Some(assembler) = dir.assembler.as_ref() else {
        return;
    };
    let contiguous_end = assembler.base() + assembler.contiguous().len() as u64;
    // The hole ends where the next bytes start; with none, at a FIN past it (bytes were
    // lost before it); else it is only the end of what was sent so far.
    let hole_end = assembler
        .ranges()
        .iter()
        .map(|r| r.start)
        .find(|&s| s > contiguous_end)
        .or(dir.fin_at.filter(|&f| f > contiguous_end));
    give_up(conn, d, hole_end, pdus, held);
    deliver(conn, d, false, pdus, held);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(s: &str) -> Endpoint {
        let (a, p) = s.rsplit_once(':').unwrap();
        Endpoint {
            addr: a.parse().unwrap(),
            port: p.parse().unwrap(),
        }
    }

    fn http() -> Option<Next> {
        Some(Next {
            protocol: ProtocolId::Http,
            name: None,
        })
    }

    struct Conn {
        streams: Streams,
        frame: u64,
        /// The acknowledgment number segments carry.
        ack_number: u32,
    }

    impl Conn {
        fn new() -> Conn {
            Conn {
                streams: Streams::new(TcpOptions {
                    summaries: true,
                    payloads: true,
                    ..TcpOptions::default()
                }),
                frame: 0,
                ack_number: 0,
            }
        }

        fn send(&mut self, client: bool, seq: u32, flags: &str, payload: &[u8]) -> Outcome {
            self.frame += 1;
            let (src, dst) = if client {
                (ep("10.0.0.1:40000"), ep("10.0.0.2:80"))
            } else {
                (ep("10.0.0.2:80"), ep("10.0.0.1:40000"))
            };
            self.streams.add(Segment {
                src,
                dst,
                seq,
                syn: flags.contains('S'),
                ack: flags.contains('A'),
                ack_number: self.ack_number,
                fin: flags.contains('F'),
                rst: flags.contains('R'),
                payload,
                missing: 0,
                next: http().into(),
                deferred: false,
                frame: self.frame,
                time: self.frame as i64,
            })
        }
    }

    /// A segment of `client`'s connection to port 80 holding an unfinished request.
    fn request_start(client: &str, frame: u64) -> Segment<'static> {
        Segment {
            src: ep(client),
            dst: ep("10.0.0.2:80"),
            seq: 1000,
            syn: false,
            ack: false,
            ack_number: 0,
            fin: false,
            rst: false,
            payload: b"GET / HTTP/1.1\r\n",
            missing: 0,
            next: http().into(),
            deferred: false,
            frame,
            time: frame as i64,
        }
    }

    #[test]
    fn eviction_takes_the_least_recently_used_connection() {
        let mut streams = Streams::new(TcpOptions {
            summaries: true,
            ..TcpOptions::default()
        });
        // Streams 0, 1, 2 in order of first appearance; then stream 0 is used again.
        for (frame, client) in ["10.0.0.1:1", "10.0.0.1:2", "10.0.0.1:3"]
            .iter()
            .enumerate()
        {
            streams.add(request_start(client, frame as u64 + 1));
        }
        let mut again = request_start("10.0.0.1:1", 4);
        again.seq = 1016;
        again.payload = b"Host: a\r\n";
        streams.add(again);
        let evicted = |s: &mut Streams| {
            let pdus = s.evict_oldest().expect("a connection to evict");
            // The unfinished request is given up on, not lost.
            assert_eq!(pdus.len(), 1);
            assert!(!pdus[0].completed);
            pdus[0].stream
        };
        assert_eq!(evicted(&mut streams), 1);
        assert_eq!(evicted(&mut streams), 2);
        assert_eq!(evicted(&mut streams), 0);
        assert!(streams.evict_oldest().is_none());
        let summaries: Vec<u64> = streams.take_summaries().iter().map(|c| c.stream).collect();
        assert_eq!(summaries, [1, 2, 0]);
    }

    #[test]
    fn requests_split_and_out_of_order_are_cut_into_messages() {
        let mut c = Conn::new();
        c.send(true, 100, "S", b"");
        c.send(false, 5000, "SA", b"");
        let req = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
        // Second part first.
        let o = c.send(true, 101 + 10, "A", &req[10..]);
        assert!(o.pdus.is_empty() && o.framed);
        let o = c.send(true, 101, "A", &req[..10]);
        assert_eq!(o.pdus.len(), 2);
        assert_eq!(o.pdus[0].data, &req[..28]);
        assert_eq!(o.pdus[0].frames, vec![3, 4]);
        assert_eq!(o.pdus[1].data, &req[28..]);
        assert_eq!(o.pdus[1].offset, 28);
        // A response until close.
        let o = c.send(false, 5001, "A", b"HTTP/1.0 200 OK\r\n\r\nhello");
        assert!(o.pdus.is_empty());
        let o = c.send(false, 5001 + 24, "FA", b"");
        assert_eq!(o.pdus.len(), 1);
        assert!(o.pdus[0].completed);
        assert_eq!(o.pdus[0].data, b"HTTP/1.0 200 OK\r\n\r\nhello");
    }

    #[test]
    fn a_closed_connection_frees_its_lists_and_still_takes_late_segments() {
        let mut c = Conn::new();
        c.send(true, 100, "S", b"");
        c.send(false, 5000, "SA", b"");
        let req = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
        // Out of order, so that the run and piece lists grow.
        c.send(true, 101 + 10, "A", &req[10..]);
        c.send(true, 101, "A", &req[..10]);
        c.send(false, 5001, "A", b"HTTP/1.0 200 OK\r\n\r\nhello");
        c.send(true, 101 + req.len() as u32, "FA", b"");
        let o = c.send(false, 5001 + 24, "FA", b"");
        assert!(o.closed);
        let (_, conn) = c
            .streams
            .connections
            .peek_lru()
            .expect("kept for its number");
        for dir in &conn.dirs {
            assert_eq!(dir.pieces.capacity(), 0);
            assert!(dir.assembler.as_ref().is_some_and(Assembler::is_empty));
        }
        // A late retransmission still finds its stream, and starts no message.
        let o = c.send(true, 101, "A", b"GET ");
        assert_eq!(o.stream, 0);
        assert!(o.pdus.is_empty());
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut c = Conn::new();
        c.send(true, u32::MAX - 5, "S", b"");
        let msg = b"GET /wrap HTTP/1.1\r\n\r\n";
        let o1 = c.send(true, u32::MAX - 4, "A", &msg[..8]);
        assert!(o1.pdus.is_empty());
        let o2 = c.send(true, (u32::MAX - 4).wrapping_add(8), "A", &msg[8..]);
        assert_eq!(o2.pdus.len(), 1);
        assert_eq!(o2.pdus[0].data, msg);
    }

    #[test]
    fn retransmissions_with_other_bytes_are_noted_and_first_copy_wins() {
        let mut c = Conn::new();
        c.send(true, 0, "S", b"");
        c.send(true, 1, "A", b"GET /x");
        let o = c.send(true, 1, "A", b"GET /y HTTP/1.1\r\n\r\n");
        assert_eq!(o.notes.len(), 1, "{:?}", o.notes);
        assert_eq!(o.pdus[0].data, b"GET /x HTTP/1.1\r\n\r\n");
    }

    #[test]
    fn a_lost_segment_is_a_gap_at_the_close() {
        let mut c = Conn::new();
        c.send(true, 0, "S", b"");
        c.send(
            true,
            1,
            "A",
            b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n01",
        );
        // bytes 41..45 lost
        c.send(true, 46, "A", b"6789");
        let o = c.send(true, 50, "FA", b"");
        assert!(
            o.pdus.is_empty(),
            "the lost bytes may still be retransmitted"
        );
        let pdus = c.streams.drain();
        assert_eq!(pdus.len(), 1);
        assert!(!pdus[0].completed);
        assert_eq!(pdus[0].holes, vec![41..45]);
        let summaries = c.streams.take_summaries();
        assert_eq!(summaries[0].a_to_b.gaps, 1);
        assert_eq!(summaries[0].a_to_b.bytes, 41 + 4);
        assert!(!summaries[0].completed);
    }

    #[test]
    fn chunks_follow_delivery_order_across_directions() {
        let mut c = Conn::new();
        c.streams.options.chunks = Some(0);
        c.send(true, 0, "S", b"");
        c.send(false, 100, "SA", b"");
        // "world" before "hello ", then the server answers, then a lost segment.
        c.send(true, 7, "A", b"world");
        c.send(true, 1, "A", b"hello ");
        c.send(false, 101, "A", b"hi");
        c.send(true, 12, "A", b"one");
        c.send(true, 18, "FA", b"three");
        c.streams.drain();
        let s = &c.streams.take_summaries()[0];
        let chunk = |from_b, frame, data: &[u8]| Chunk {
            from_b,
            frame,
            data: ChunkData::Bytes(data.to_vec()),
        };
        assert_eq!(
            s.chunks,
            vec![
                chunk(false, 4, b"hello "),
                chunk(false, 3, b"world"),
                chunk(true, 5, b"hi"),
                chunk(false, 6, b"one"),
                Chunk {
                    from_b: false,
                    frame: 7,
                    data: ChunkData::Missing(3),
                },
                chunk(false, 7, b"three"),
            ]
        );
        assert_eq!(s.a_to_b.gaps, 1);
    }

    #[test]
    fn a_hole_the_receiver_acknowledges_is_skipped_at_once() {
        let mut c = Conn::new();
        c.streams.options.chunks = Some(0);
        c.send(true, 0, "S", b"");
        c.send(false, 100, "SA", b"");
        c.send(true, 1, "A", b"GET /a HTTP/1.1\r\n");
        // 10 bytes lost, then the rest of the request.
        c.send(true, 28, "A", b"\r\n");
        // An acknowledgment up to the lost bytes only changes nothing.
        c.ack_number = 28;
        assert!(c.send(false, 101, "A", b"").pdus.is_empty());
        // One past their end: the server got them; the request is given up on now.
        c.ack_number = 29;
        let o = c.send(false, 101, "A", b"");
        assert_eq!(o.pdus.len(), 1);
        assert!(!o.pdus[0].completed);
        assert_eq!(o.pdus[0].holes, vec![17..27]);
        c.streams.drain();
        let s = &c.streams.take_summaries()[0];
        assert_eq!(s.a_to_b.gaps, 1);
        assert_eq!(s.a_to_b.bytes, 19);
        assert_eq!(s.chunks[1].data, ChunkData::Missing(10));
    }

    #[test]
    fn chunks_are_kept_for_the_stream_asked_for_only() {
        let mut c = Conn::new();
        c.send(true, 0, "S", b"");
        c.send(true, 1, "A", b"data");
        c.streams.drain();
        assert!(c.streams.take_summaries()[0].chunks.is_empty());
    }

    #[test]
    fn a_syn_on_a_closed_connection_starts_a_new_stream() {
        let mut c = Conn::new();
        assert_eq!(c.send(true, 0, "S", b"").stream, 0);
        c.send(true, 1, "FA", b"");
        c.send(false, 0, "FA", b"");
        assert_eq!(c.send(true, 1, "A", b"").stream, 0, "the last ACK");
        assert_eq!(c.send(true, 9000, "S", b"").stream, 1);
        c.streams.drain();
        let s = c.streams.take_summaries();
        assert_eq!(s.len(), 2);
        assert!(s[0].completed);
        assert_eq!(s[0].frames, vec![1, 2, 3, 4]);
    }

    #[test]
    fn a_syn_off_its_directions_base_starts_a_new_stream_open_or_not() {
        // As tshark 4.0 numbers them (Suricata's bug-7657 and split-handshake captures).
        let mut c = Conn::new();
        assert_eq!(c.send(true, 1000, "S", b"").stream, 0);
        assert_eq!(c.send(true, 1000, "S", b"").stream, 0, "retransmitted");
        assert_eq!(c.send(true, 5000, "S", b"").stream, 1, "another ISN");
        // The other end's base: one before its first segment, here an ACK.
        assert_eq!(c.send(false, 2000, "A", b"").stream, 1);
        assert_eq!(c.send(false, 1999, "S", b"").stream, 1, "at the base");
        assert_eq!(c.send(false, 3000, "S", b"").stream, 2, "split handshake");
        // A SYN/ACK never starts one.
        assert_eq!(c.send(true, 7000, "SA", b"").stream, 2);
    }

    #[test]
    fn an_acknowledgement_sets_the_other_directions_base() {
        let mut c = Conn::new();
        c.ack_number = 501;
        assert_eq!(c.send(true, 1, "A", b"").stream, 0);
        // The other end's base is 500, from the acknowledgement.
        assert_eq!(c.send(false, 500, "S", b"").stream, 0);
        assert_eq!(c.send(false, 800, "S", b"").stream, 1);
    }
}
