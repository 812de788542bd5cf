//! The state of one capture: IP fragment pools, TCP streams, one memory budget over all
//! of them, and expiry in capture time. Dissectors stay pure functions of bytes; the
//! session runs after the stateless chain, frame by frame in capture order, takes the
//! payloads that belong to a datagram or a stream, and attaches to each frame what it
//! completed, dissected again from the protocol above.
//!
//! ```
//! use pcapkit::reassembly::ReassemblyOptions;
//! use pcapkit::session::Session;
//! use pcapkit::Thresholds;
//!
//! let options = ReassemblyOptions { ipv4: true, tcp: true, ..Default::default() };
//! let mut session = Session::new(options, Thresholds::default());
//! # let mut frame = pcapkit::Frame::default();
//! # let bytes: &[u8] = &[];
//! // For every frame, after `chain::dissect`:
//! session.process(&mut frame, bytes);
//! // At the end, what never completed:
//! let incomplete = session.finish();
//! # assert!(incomplete.is_empty());
//! ```

use std::net::IpAddr;

use crate::chain::{self, Frame, Layer, LayerKind, Reassembled, ReassemblyKind, Thresholds};
use crate::conversation::doh;
use crate::conversation::http2::Http2State;
use crate::conversation::tls::TlsState;
use crate::conversation::PduRef;
use crate::flow::bindings::{Bindings, SegmentInfo};
use crate::flow::decode_as::{DecodeAs, Selector};
use crate::flow::seq::SeqSegment;
use crate::flow::{Endpoint, FlowMark};
use crate::protocols::{self, Header, Next, ProtocolId};
use crate::reassembly::ip::{Added, Datagram, DatagramKey, Defragmenter, Fragment};
use crate::reassembly::tcp::{ConnectionSummary, PayloadNext, Pdu, Segment, Streams, TcpOptions};
use crate::reassembly::ReassemblyOptions;

/// Reassembly state for one capture, or for one server engine worker's shard of it.
pub struct Session {
    options: ReassemblyOptions,
    thresholds: Thresholds,
    ipv4: Defragmenter,
    ipv6: Defragmenter,
    tcp: Streams,
    /// TCP segments go to `tcp`: to reassemble (`options.tcp`), or only to be numbered
    /// for the flow tracer.
    follow_tcp: bool,
    /// What the last frame's TCP segment did.
    last: Option<FlowMark>,
    /// HTTP/2 connections' header compression state.
    http2: Http2State,
    /// TLS connections' handshake messages spanning records.
    tls: TlsState,
    /// Connections announced at run time (FTP data), consulted before the static tables.
    bindings: Bindings,
    /// Ports the user named (`--decode-as`), consulted after `bindings`, before the
    /// static tables.
    decode_as: DecodeAs,
    /// Whether the last [`Session::process`] may have changed its frame (see
    /// [`Session::changed`]).
    changed: bool,
}

/// Where the layers being walked lie: the frame's own, or a reassembled buffer's.
#[derive(Clone, Copy)]
enum Source {
    Frame,
    Reassembled(usize),
}

impl Source {
    /// The layers walked and the bytes they lie in: the frame's (`bytes`, its captured
    /// bytes) or reassembled buffer `k`'s.
    fn parts<'a>(
        self,
        layers: &'a mut Vec<Layer>,
        reassembled: &'a mut [Reassembled],
        bytes: &'a [u8],
    ) -> (&'a mut Vec<Layer>, &'a [u8]) {
        match self {
            Source::Frame => (layers, bytes),
            Source::Reassembled(k) => {
                let r = &mut reassembled[k];
                (&mut r.layers, &r.data[..])
            }
        }
    }
}

impl Session {
    /// A session reassembling what `options` asks for; reassembled bytes are dissected
    /// up to `thresholds`, like the frames.
    pub fn new(options: ReassemblyOptions, thresholds: Thresholds) -> Session {
        Session::with_tcp(options, thresholds, false, false)
    }

    /// A session that also keeps a summary of every TCP connection (for `pcapkit
    /// streams`), with each direction's bytes when `payloads`.
    pub fn with_tcp(
        options: ReassemblyOptions,
        thresholds: Thresholds,
        summaries: bool,
        payloads: bool,
    ) -> Session {
        Session {
            options,
            thresholds,
            ipv4: Defragmenter::new(options.ipv4_timeout),
            ipv6: Defragmenter::new(options.ipv6_timeout),
            tcp: Streams::new(TcpOptions {
                stream_budget: options.stream_memory,
                summaries,
                payloads,
                ..TcpOptions::default()
            }),
            follow_tcp: options.tcp,
            last: None,
            http2: Http2State::with_thresholds(thresholds),
            tls: TlsState::new(),
            bindings: Bindings::new(),
            decode_as: DecodeAs::new(),
            changed: false,
        }
    }

    /// Dissects the payload of TCP and UDP ports the rules name as the protocol they
    /// say, before the static port tables (tshark's `-d`).
    pub fn with_decode_as(mut self, rules: DecodeAs) -> Session {
        self.decode_as = rules;
        self
    }

    /// Also numbers TCP connections when TCP reassembly is off, for the flow tracer:
    /// frames are left as they are (no `tcp_stream`, no PDU), and [`Session::last_flow`]
    /// tells each segment's connection.
    pub fn with_flows(mut self) -> Session {
        if !self.options.tcp {
            self.follow_tcp = true;
            self.tcp = Streams::new(TcpOptions {
                number_only: true,
                ..TcpOptions::default()
            });
        }
        self
    }

    /// The TCP connection of the frame processed last, and what its segment did to it;
    /// `None` when it held no TCP segment (or TCP is not followed).
    pub fn last_flow(&self) -> Option<FlowMark> {
        self.last
    }

    /// Whether anything is asked of the session (reassembly or flow numbering).
    pub fn is_active(&self) -> bool {
        self.options.any() || self.follow_tcp
    }

    /// Also keeps TCP stream `stream`'s data as chunks in delivery order, in its
    /// connection summary (for `pcapkit follow`); needs summaries on (`with_tcp`).
    pub fn with_chunks(mut self, stream: u64) -> Session {
        self.tcp.keep_chunks(stream);
        self
    }

    /// The dynamic binding table (connections announced at run time).
    pub fn bindings(&self) -> &Bindings {
        &self.bindings
    }

    /// The options.
    pub fn options(&self) -> &ReassemblyOptions {
        &self.options
    }

    /// Bytes held by all pools and streams.
    pub fn held(&self) -> usize {
        self.ipv4.held() + self.ipv6.held() + self.tcp.held() + self.http2.held() + self.tls.held()
    }

    /// Runs the stateful stages over a dissected frame; `bytes` are the frame's captured
    /// bytes (which `frame.data` may not hold). Sets `tcp_stream`, `reassembled` and
    /// `notes`; a fragment's or a framed segment's own payload layers are replaced.
    pub fn process(&mut self, frame: &mut Frame, bytes: &[u8]) {
        frame.clear_reassembly();
        self.last = None;
        // Reassembly and flow numbering may change any frame; without them, only the
        // places that dissect a payload again or note something say they did.
        self.changed = self.is_active();
        let now = frame.timestamp.secs;
        if self.may_expire(now) {
            let expired = self.expire(now);
            self.changed |= !expired.is_empty();
            frame.reassembled.extend(expired);
        }
        self.walk(frame, bytes);
        self.keep_budget(frame);
    }

    /// Whether the last [`Session::process`] may have changed its frame's layers, notes,
    /// stream number or reassembled buffers: always when reassembling or numbering flows
    /// ([`Session::is_active`]); otherwise only when a dynamic binding, a `--decode-as`
    /// rule or DNS over HTTPS dissected a payload again, or FTP was read in its real
    /// direction. When it did not, output text made from the frame before (on another
    /// thread, ahead of the session) is what the frame shows now.
    pub fn changed(&self) -> bool {
        self.changed
    }

    /// Whether [`Session::expire`] at `now` may give anything up (most frames: no).
    #[inline]
    fn may_expire(&self, now: i64) -> bool {
        self.options.ipv4 && self.ipv4.may_expire(now)
            || self.options.ipv6 && self.ipv6.may_expire(now)
    }

    /// Gives up on the datagrams whose timeout has passed at `now` (capture time, in
    /// seconds): IPv4 then IPv6, oldest first. [`Session::process`] does it first thing;
    /// a session that sees only some of the frames (a server engine worker) calls it
    /// with the others' times.
    pub fn expire(&mut self, now: i64) -> Vec<Reassembled> {
        let mut out = Vec::new();
        if self.options.ipv4 {
            for d in self.ipv4.expire(now) {
                out.push(self.datagram(d, ReassemblyKind::Ipv4));
            }
        }
        if self.options.ipv6 {
            for d in self.ipv6.expire(now) {
                out.push(self.datagram(d, ReassemblyKind::Ipv6));
            }
        }
        out
    }

    /// Ends the capture: every datagram and PDU still pending, given up on, in order
    /// (IPv4, IPv6, then TCP by stream).
    pub fn finish(&mut self) -> Vec<Reassembled> {
        let mut out = Vec::new();
        for d in self.ipv4.drain() {
            out.push(self.datagram(d, ReassemblyKind::Ipv4));
        }
        for d in self.ipv6.drain() {
            out.push(self.datagram(d, ReassemblyKind::Ipv6));
        }
        for p in self.tcp.drain() {
            self.pdu(p, &mut out);
        }
        self.http2 = Http2State::with_thresholds(self.thresholds);
        self.tls = TlsState::new();
        out
    }

    /// Summaries of the TCP connections forgotten so far (all of them after `finish`),
    /// when the session was made to keep them.
    pub fn take_connections(&mut self) -> Vec<ConnectionSummary> {
        self.tcp.take_summaries()
    }

    /// A TCP segment's part before any stream is followed: the bindings learn from it,
    /// a payload left to the session (`defer_streams`) is dissected unless the streams
    /// will frame it, and DNS over HTTPS is looked for. Whether the payload is still left
    /// to the streams.
    fn bind_segment(
        &mut self,
        layers: &mut Vec<Layer>,
        i: usize,
        data: &[u8],
        payload: std::ops::Range<usize>,
        info: &SegmentInfo,
        notes: &mut Vec<String>,
    ) -> bool {
        self.bind(layers, i, data, payload.clone(), info, notes);
        let mut deferred = layers.len() == i + 1 && !payload.is_empty();
        if deferred && !self.options.tcp {
            self.undefer(layers, i, data, payload);
            deferred = false;
        }
        // DNS over HTTPS in a segment that holds a whole HTTP/1 message.
        self.changed |= doh::http1(layers, i + 1, data, &self.thresholds);
        deferred
    }

    fn walk(&mut self, frame: &mut Frame, bytes: &[u8]) {
        let mut source = Source::Frame;
        let mut i = 0;
        loop {
            // A TCP header at the start of a reassembled datagram: its addresses.
            let outer = match source {
                Source::Reassembled(k) => {
                    let r = &frame.reassembled[k];
                    Some((r.src.addr, r.dst.addr))
                }
                Source::Frame => None,
            };
            let (layers, data) = source.parts(&mut frame.layers, &mut frame.reassembled, bytes);
            // A header the chain left undecoded (`Thresholds::views`) is decoded only
            // when this session acts on it; the others are passed over as the match
            // below passes over their decoded kind.
            if let Some(LayerKind::View(protocol)) = layers.get(i).map(|l| &l.kind) {
                let acts = match protocol {
                    // Only a fragment is reassembled.
                    ProtocolId::Ipv4 => {
                        self.options.ipv4
                            && data
                                .get(layers[i].header_range())
                                .and_then(crate::protocols::ipv4::Ipv4View::new)
                                .is_some_and(|(h, _)| h.mf() || h.offset() > 0)
                    }
                    ProtocolId::Ipv6Frag => self.options.ipv6,
                    ProtocolId::Udp => !self.decode_as.is_empty(),
                    // A segment is read through its view (`segment`).
                    ProtocolId::Tcp => {
                        self.segment(frame, bytes, source, i, outer);
                        return;
                    }
                    ProtocolId::Icmp | ProtocolId::Icmpv6 => true,
                    _ => false,
                };
                if !acts {
                    i += 1;
                    continue;
                }
                layers[i].decode(data);
            }
            let Some(layer) = layers.get(i) else { return };
            let Some(header) = layer.header() else { return };
            let payload = layer.payload_range();
            // Layers always lie within their bytes; bytes not handed over mean nothing to do.
            if data.get(payload.clone()).is_none() {
                return;
            }
            let fragment = match header {
                // What an ICMP error quotes is not a packet of its own.
                Header::Icmp(_) | Header::Icmpv6(_) => return,
                Header::Ipv4(h) if self.options.ipv4 && (h.mf() || h.offset() > 0) => Some((
                    ReassemblyKind::Ipv4,
                    DatagramKey {
                        src: IpAddr::V4(h.src),
                        dst: IpAddr::V4(h.dst),
                        id: u32::from(h.id),
                        protocol: h.protocol,
                    },
                    u64::from(h.offset()),
                    h.mf(),
                    h.protocol,
                )),
                Header::Ipv6Frag(h) if self.options.ipv6 && (h.mf() || h.offset() > 0) => {
                    let Some((src, dst)) = addresses(&layers[..i], data) else {
                        i += 1;
                        continue;
                    };
                    Some((
                        ReassemblyKind::Ipv6,
                        DatagramKey {
                            src,
                            dst,
                            id: h.id,
                            protocol: 0,
                        },
                        u64::from(h.offset()),
                        h.mf(),
                        h.next_header,
                    ))
                }
                Header::Udp(h) => {
                    if let Some(next) =
                        self.decode_as
                            .lookup(Selector::UdpPort, h.srcport, h.dstport)
                    {
                        self.rebind(layers, i, next, data, payload);
                    }
                    i += 1;
                    continue;
                }
                Header::Tcp(_) => {
                    self.segment(frame, bytes, source, i, outer);
                    return;
                }
                _ => None,
            };
            let Some((kind, key, offset, more, protocol)) = fragment else {
                i += 1;
                continue;
            };
            let pool = match kind {
                ReassemblyKind::Ipv4 => &mut self.ipv4,
                _ => &mut self.ipv6,
            };
            let added = pool.add(Fragment {
                key,
                offset,
                more,
                protocol,
                data: &data[payload.clone()],
                frame: frame.number,
                time: frame.timestamp.secs,
            });
            // The fragment's data is not a transport header: the layers the stateless
            // chain found after it go.
            layers.truncate(i + 1);
            match added {
                Added::Completed(d) => {
                    let r = self.datagram(d, kind);
                    frame.reassembled.push(r);
                    source = Source::Reassembled(frame.reassembled.len() - 1);
                    i = 0;
                }
                Added::Held => {
                    push_raw(layers, payload);
                    return;
                }
                Added::Refused(why) => {
                    push_raw(layers, payload);
                    frame.notes.push(why);
                    return;
                }
            }
        }
    }

    /// The stages for the TCP header at `layers[i]` of `source` (decoded, or read through
    /// its view): the bindings, then, when TCP is followed, the stream, which may take the
    /// segment's payload and complete PDUs.
    fn segment(
        &mut self,
        frame: &mut Frame,
        bytes: &[u8],
        source: Source,
        i: usize,
        outer: Option<(IpAddr, IpAddr)>,
    ) {
        let (layers, data) = source.parts(&mut frame.layers, &mut frame.reassembled, bytes);
        let payload = layers[i].payload_range();
        // Layers always lie within their bytes; bytes not handed over mean nothing to do.
        let Some(carried) = data.get(payload.clone()) else {
            return;
        };
        let Some((src, dst)) = addresses(&layers[..i], data).or(outer) else {
            return;
        };
        let Some(tcp) = TcpBasics::of(&layers[i], data) else {
            return;
        };
        let info = tcp.info(
            src,
            dst,
            (frame.number, frame.timestamp.secs),
            payload.len(),
        );
        let deferred = self.bind_segment(layers, i, data, payload.clone(), &info, &mut frame.notes);
        if !self.follow_tcp {
            return;
        }
        // Bytes the snapshot length cut off (not those the wire never carried).
        let wire_cut = match source {
            Source::Frame => u64::from(frame.len.saturating_sub(frame.cap_len)),
            Source::Reassembled(_) => 0,
        };
        let missing = chain::tcp_len(layers, i, wire_cut)
            .unwrap_or(0)
            .saturating_sub(payload.len() as u64);
        let layers_now: &[Layer] = layers;
        let find_next = || {
            if deferred {
                next_of(&layers_now[i], data, carried)
            } else {
                layers_now.get(i + 1).and_then(|l| {
                    l.header_protocol().map(|protocol| Next {
                        protocol,
                        name: Some(l.name),
                    })
                })
            }
        };
        let segment = Segment {
            src: Endpoint {
                addr: src,
                port: tcp.srcport,
            },
            dst: Endpoint {
                addr: dst,
                port: tcp.dstport,
            },
            seq: tcp.seq,
            syn: tcp.flag_syn,
            ack: tcp.flag_ack,
            ack_number: tcp.ack,
            fin: tcp.flag_fin,
            rst: tcp.flag_rst,
            payload: carried,
            missing,
            next: PayloadNext::Lazy(&find_next),
            deferred,
            frame: frame.number,
            time: frame.timestamp.secs,
        };
        let outcome = self.tcp.add(segment);
        self.last = Some(FlowMark {
            stream: outcome.stream,
            a: outcome.a,
            b: outcome.b,
            from_b: outcome.from_b,
            fin: outcome.fin,
            rst: segment.rst,
            closed: outcome.closed,
        });
        if !self.options.tcp {
            // Numbered for the tracer only: the frame stays as it was.
            return;
        }
        if outcome.framed {
            layers.truncate(i + 1);
        } else if deferred {
            self.undefer(layers, i, data, payload.clone());
            self.changed |= doh::http1(layers, i + 1, data, &self.thresholds);
        }
        frame.tcp_stream = Some(outcome.stream);
        // Most segments complete nothing and note nothing.
        if !outcome.notes.is_empty() {
            frame.notes.extend(outcome.notes);
        }
        if !outcome.pdus.is_empty() {
            for pdu in outcome.pdus {
                self.pdu(pdu, &mut frame.reassembled);
            }
        }
        if outcome.closed {
            self.http2.close(outcome.stream);
            self.tls.closed(outcome.stream, &mut frame.notes);
        }
    }

    /// The dynamic binding stage for the TCP segment at `layers[i]`, whose payload lies
    /// at `payload` in `data`: a connection a control connection announced gets its
    /// payload dissected again as that protocol (replacing what the static tables chose);
    /// an FTP control segment is read in its real direction and followed.
    fn bind(
        &mut self,
        layers: &mut Vec<Layer>,
        i: usize,
        data: &[u8],
        payload: std::ops::Range<usize>,
        info: &SegmentInfo,
        notes: &mut Vec<String>,
    ) {
        // Most segments are nothing to the binding table: one check passes them by.
        let verdict = if self.bindings.quiet(info) {
            None
        } else {
            self.bindings.saw_segment(info);
            self.bindings.analyse(info)
        };
        let mut payload = payload;
        if let (Some(v), false) = (verdict, payload.is_empty()) {
            // As tshark 4.0: without reassembly, a retransmitted, out-of-order or
            // keep-alive segment reaches no application; with it, only bytes not
            // received before do (see `flow::seq`).
            let skip = if self.options.tcp {
                if v.held {
                    payload.len()
                } else {
                    v.seen as usize
                }
            } else if v.repeated {
                payload.len()
            } else {
                0
            };
            let skip = skip.min(payload.len());
            if skip > 0 {
                self.changed = true;
                let app = layers
                    .get(i + 1)
                    .and_then(|l| l.header_protocol().map(|p| (p, l.name)));
                let app_name = app.map_or("data", |(_, name)| name);
                let expected = self.bindings.data_expected(info);
                layers.truncate(i + 1);
                if skip == payload.len() {
                    push_raw(layers, payload);
                    notes.push(if v.held && self.options.tcp {
                        "TCP: segment past a gap (bytes not received); its data is held, not dissected"
                            .to_string()
                    } else if self.options.tcp {
                        "TCP: every byte of this segment came before; not dissected again"
                            .to_string()
                    } else {
                        format!(
                            "TCP: retransmission, out-of-order segment or keep-alive; not dissected as {}",
                            if expected { "FTP-DATA" } else { app_name }
                        )
                    });
                    return;
                }
                payload = payload.start + skip..payload.end;
                if let (Some((protocol, name)), false) = (app, expected) {
                    let next = Next {
                        protocol,
                        name: Some(name),
                    };
                    self.rebind(layers, i, next, data, payload.clone());
                }
            }
        }
        let bytes = &data[payload.clone()];
        if bytes.is_empty() {
            return;
        }
        if let Some(m) = self.bindings.data(info) {
            let next = Next {
                protocol: ProtocolId::FtpData,
                name: None,
            };
            if let Some(start) = self.rebind(layers, i, next, data, payload) {
                for l in &mut layers[start..] {
                    if let LayerKind::Header(Header::FtpData(d)) = &mut l.kind {
                        d.setup_frame = m.setup_frame;
                        d.command = m.command.clone();
                    }
                }
            }
            return;
        }
        // A connection that switched to HTTP/2 (with reassembly, the stream's framing
        // follows the switch: `reassembly::tcp`).
        if !self.options.tcp {
            let app = layers.get(i + 1).and_then(Layer::header_protocol);
            let http = matches!(app, Some(ProtocolId::Http | ProtocolId::Http2)).then_some(bytes);
            if self.bindings.http2(info, http) {
                if app != Some(ProtocolId::Http2) {
                    let next = Next {
                        protocol: ProtocolId::Http2,
                        name: None,
                    };
                    self.rebind(layers, i, next, data, payload);
                }
                return;
            }
        }
        if let Some(next) = self
            .decode_as
            .lookup(Selector::TcpPort, info.src.port, info.dst.port)
        {
            self.rebind(layers, i, next, data, payload);
        }
        let Some(layer) = layers.get_mut(i + 1) else {
            return;
        };
        match &mut layer.kind {
            LayerKind::Header(Header::FtpData(d)) => {
                self.changed = true;
                d.setup_frame = self.bindings.port20(info);
            }
            LayerKind::Header(Header::Ftp(f)) => {
                self.changed = true;
                // The direction tells a request from a reply (tshark: towards the port
                // that matched, 21); the hook only guessed from the first bytes.
                let request = if info.dst.port == 21 {
                    true
                } else if info.src.port == 21 {
                    false
                } else {
                    f.code == 0
                };
                if request != (f.code == 0 && !crate::hooks::ftp::looks_like_reply(bytes)) {
                    **f = crate::hooks::ftp::parse_directed(bytes, request);
                }
                self.bindings.control(info, f, request, bytes, notes);
            }
            _ => {}
        }
    }

    /// Dissects the payload of the TCP layer `layers[i]` (the last), lying at `payload`
    /// in `data`, as the stateless chain would have (it deferred it to the session).
    fn undefer(
        &mut self,
        layers: &mut Vec<Layer>,
        i: usize,
        data: &[u8],
        payload: std::ops::Range<usize>,
    ) {
        let next = next_of(&layers[i], data, &data[payload.clone()]);
        if let Some(next) = next {
            self.rebind(layers, i, next, data, payload);
        }
    }

    /// Dissects the payload of the transport layer `layers[i]` (at `payload` in `data`)
    /// again as `next`, replacing what the static tables chose, unless a threshold
    /// stops dissection at the transport. Returns where the new layers start, when it
    /// dissected.
    fn rebind(
        &mut self,
        layers: &mut Vec<Layer>,
        i: usize,
        next: Next,
        data: &[u8],
        payload: std::ops::Range<usize>,
    ) -> Option<usize> {
        let transport = layers[i].protocol();
        if payload.is_empty() || transport.is_some() && self.thresholds.protocol == transport {
            return None;
        }
        self.changed = true;
        layers.truncate(i + 1);
        let start = layers.len();
        chain::dissect_next(next, &data[payload.clone()], &self.thresholds, layers);
        for l in &mut layers[start..] {
            l.offset += payload.start;
        }
        Some(start)
    }

    /// Gives up on the oldest pending data while the pools hold more than the budget;
    /// what is given up is reported on this frame.
    fn keep_budget(&mut self, frame: &mut Frame) {
        while self.held() > self.options.memory {
            if !self.free_some(frame) {
                break;
            }
            self.changed = true;
        }
    }

    /// Gives up on the oldest of what is held: an IP datagram or a TCP connection's
    /// pending data (from whichever holds more), else a TLS handshake message being
    /// gathered, else HTTP/2's header tables. Says whether anything went; each pool is
    /// tried in turn, so one that has nothing to give (a pool whose count is only stale
    /// entries) does not stop the others from giving (a fuzzed capture found HTTP/2
    /// holding 69 KiB over a 4 KiB budget that way).
    fn free_some(&mut self, frame: &mut Frame) -> bool {
        let before = self.held();
        let (v4, v6, tcp) = (self.ipv4.held(), self.ipv6.held(), self.tcp.held());
        let datagrams_first = v4 > tcp || v6 > tcp;
        let ip_order = if v4 >= v6 {
            [ReassemblyKind::Ipv4, ReassemblyKind::Ipv6]
        } else {
            [ReassemblyKind::Ipv6, ReassemblyKind::Ipv4]
        };
        if datagrams_first && self.evict_datagram(ip_order, frame) {
            return true;
        }
        if let Some(pdus) = self.tcp.evict_oldest() {
            for p in pdus {
                self.pdu(p, &mut frame.reassembled);
            }
            return true;
        }
        if self.evict_datagram(ip_order, frame) {
            return true;
        }
        if let Some((stream, gathering)) = self.tls.forget_oldest() {
            frame.notes.push(if gathering {
                format!(
                    "TLS handshake message being reassembled on TCP stream {stream} dropped to stay within the memory budget"
                )
            } else {
                format!(
                    "TLS state of TCP stream {stream} dropped to stay within the memory budget"
                )
            });
            return true;
        }
        if let Some(stream) = self.http2.forget_oldest() {
            frame.notes.push(format!(
                "HTTP/2 header compression state of TCP stream {stream} dropped to stay within the memory budget"
            ));
            return true;
        }
        self.held() < before
    }

    /// Gives up on the oldest datagram of the first pool in `order` that has one.
    fn evict_datagram(&mut self, order: [ReassemblyKind; 2], frame: &mut Frame) -> bool {
        for kind in order {
            let pool = if kind == ReassemblyKind::Ipv4 {
                &mut self.ipv4
            } else {
                &mut self.ipv6
            };
            if let Some(d) = pool.evict_oldest() {
                let r = self.datagram(d, kind);
                frame.reassembled.push(r);
                return true;
            }
        }
        false
    }

    /// A datagram as a reassembled buffer, dissected from its payload protocol when it
    /// is complete (or, not strict, when its first bytes arrived).
    fn datagram(&self, d: Datagram, kind: ReassemblyKind) -> Reassembled {
        let next = d
            .protocol
            .and_then(|p| protocols::table::ip_proto(u64::from(p)));
        let mut layers = Vec::new();
        if d.completed || (!self.options.strict && d.starts_at_zero) {
            match next {
                Some(next) => chain::dissect_next(next, &d.data, &self.thresholds, &mut layers),
                None => push_raw(&mut layers, 0..d.data.len()),
            }
        }
        Reassembled {
            kind,
            src: Endpoint {
                addr: d.key.src,
                port: 0,
            },
            dst: Endpoint {
                addr: d.key.dst,
                port: 0,
            },
            id: u64::from(d.key.id),
            protocol: next.map(|n| n.protocol),
            offset: 0,
            frames: d.frames,
            completed: d.completed,
            holes: d.holes,
            anomalies: d.anomalies,
            data: d.data,
            layers,
        }
    }

    /// Pushes a PDU on `out` as a reassembled buffer, dissected when complete (or, not
    /// strict, always), then the HTTP/2 bodies it completed, if any.
    fn pdu(&mut self, p: Pdu, out: &mut Vec<Reassembled>) {
        let mut layers = Vec::new();
        let mut anomalies = Vec::new();
        let mut bodies = Vec::new();
        if p.completed || !self.options.strict {
            chain::dissect_next(p.next, &p.data, &self.thresholds, &mut layers);
            // DNS over HTTPS: a whole HTTP/1 message whose body is a DNS message.
            doh::http1(&mut layers, 0, &p.data, &self.thresholds);
            // Conversation state, in stream order.
            let pdu = PduRef {
                stream: p.stream,
                src: p.src,
                dst: p.dst,
                offset: p.offset,
                data: &p.data,
                frame: p.frames.last().copied().unwrap_or_default(),
                completed: p.completed,
            };
            bodies = self.http2.apply(pdu, &mut layers, &mut anomalies);
            self.tls.apply(pdu, &mut layers, &mut anomalies);
        }
        out.push(Reassembled {
            kind: ReassemblyKind::Tcp,
            src: p.src,
            dst: p.dst,
            id: p.stream,
            protocol: Some(p.next.protocol),
            offset: p.offset,
            frames: p.frames,
            completed: p.completed,
            holes: p.holes,
            anomalies,
            data: p.data,
            layers,
        });
        out.append(&mut bodies);
    }
}

/// The addresses of the innermost IP header among `layers`.
/// What the session reads of a TCP header, from the decoded struct or through its view.
struct TcpBasics {
    srcport: u16,
    dstport: u16,
    seq: u32,
    ack: u32,
    flag_ack: bool,
    flag_syn: bool,
    flag_fin: bool,
    flag_rst: bool,
}

impl TcpBasics {
    fn of(layer: &Layer, data: &[u8]) -> Option<TcpBasics> {
        use crate::protocols::tcp::TcpView;
        Some(match &layer.kind {
            LayerKind::Header(Header::Tcp(h)) => TcpBasics {
                srcport: h.srcport,
                dstport: h.dstport,
                seq: h.seq,
                ack: h.ack,
                flag_ack: h.flag_ack(),
                flag_syn: h.flag_syn(),
                flag_fin: h.flag_fin(),
                flag_rst: h.flag_rst(),
            },
            LayerKind::View(ProtocolId::Tcp) => {
                let (h, _) = TcpView::new(data.get(layer.header_range())?)?;
                TcpBasics {
                    srcport: h.srcport(),
                    dstport: h.dstport(),
                    seq: h.seq(),
                    ack: h.ack(),
                    flag_ack: h.flag_ack(),
                    flag_syn: h.flag_syn(),
                    flag_fin: h.flag_fin(),
                    flag_rst: h.flag_rst(),
                }
            }
            _ => return None,
        })
    }

    /// The segment as the bindings see it: `at` is its frame's number and time (in
    /// seconds), `len` its captured payload bytes.
    fn info(&self, src: IpAddr, dst: IpAddr, at: (u64, i64), len: usize) -> SegmentInfo {
        SegmentInfo {
            src: Endpoint {
                addr: src,
                port: self.srcport,
            },
            dst: Endpoint {
                addr: dst,
                port: self.dstport,
            },
            closing: self.flag_fin || self.flag_rst,
            frame: at.0,
            time: at.1,
            tcp: SeqSegment {
                seq: self.seq,
                ack: self.flag_ack.then_some(self.ack),
                syn: self.flag_syn,
                fin: self.flag_fin,
                rst: self.flag_rst,
                // Captured bytes: those the snapshot length cut are not known.
                len: u32::try_from(len).unwrap_or(u32::MAX),
            },
        }
    }
}

/// The addresses of the innermost IP header of `layers` (which lie in `data`).
fn addresses(layers: &[Layer], data: &[u8]) -> Option<(IpAddr, IpAddr)> {
    use crate::protocols::{ipv4::Ipv4View, ipv6::Ipv6View};
    layers.iter().rev().find_map(|l| match &l.kind {
        LayerKind::Header(Header::Ipv4(h)) => Some((IpAddr::V4(h.src), IpAddr::V4(h.dst))),
        LayerKind::Header(Header::Ipv6(h)) => Some((IpAddr::V6(h.src), IpAddr::V6(h.dst))),
        LayerKind::View(ProtocolId::Ipv4) => {
            let (h, _) = Ipv4View::new(data.get(l.header_range())?)?;
            Some((IpAddr::V4(h.src()), IpAddr::V4(h.dst())))
        }
        LayerKind::View(ProtocolId::Ipv6) => {
            let (h, _) = Ipv6View::new(data.get(l.header_range())?)?;
            Some((IpAddr::V6(h.src()), IpAddr::V6(h.dst())))
        }
        _ => None,
    })
}

/// The protocol of `payload` by the dispatch rules of `layer`'s header (which lies in
/// `data`), decoded or read through its view.
fn next_of(layer: &Layer, data: &[u8], payload: &[u8]) -> Option<Next> {
    use crate::chain::HeaderView;
    match &layer.kind {
        LayerKind::Header(h) => h.next_protocol(payload),
        LayerKind::View(ProtocolId::Tcp) => {
            let (h, _) = crate::protocols::tcp::TcpView::new(data.get(layer.header_range())?)?;
            h.next_protocol(payload)
        }
        _ => None,
    }
}

fn push_raw(layers: &mut Vec<Layer>, range: std::ops::Range<usize>) {
    if !range.is_empty() {
        layers.push(chain::raw(range.start, range.len()));
    }
}
