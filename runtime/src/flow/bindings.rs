//! Dynamic bindings: connections that a control connection announces at run time, and
//! that are recognised only because it said so. Today FTP: PORT and EPRT (the client
//! listens), 227 and 229 replies (the server listens) announce a data connection, whose
//! payload is then `ftp_data`, with the announcing frame and the command it answers.
//!
//! The session consults this table before the static port tables when a TCP segment's
//! payload is dispatched. Everything is bounded: expected connections and followed
//! control connections are capped in number (the oldest goes first), idle entries expire
//! in capture time, and a control connection's close forgets the announcements nobody used.
//!
//! Which connection an announcement names, as tshark 4.0 takes it:
//! - 227 / 229: the announced address and port (229: the control connection's server
//!   address), from the control connection's client, any port.
//! - PORT / EPRT: the announced address and port, from the control connection's server,
//!   port 20 (RFC 959's default data port L-1). tshark expects the same two hosts and port
//!   20, so a server that connects from another port is not recognised by either.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;

use crate::flow::seq::{SeqAnalysis, SeqSegment, Verdict};
use crate::flow::{Endpoint, FlowKey};
use crate::hooks::ftp::{Announcement, MAX_LINE};
use crate::protocols::ftp::Ftp;

/// Expected data connections kept at most; a flood of PORT commands evicts the oldest.
pub const MAX_EXPECTED: usize = 1024;
/// Control connections followed at most (their last command and open multi-line reply).
pub const MAX_CONTROLS: usize = 4096;
/// Port-20 connections whose first frame is remembered at most.
pub const MAX_PORT20: usize = 4096;
/// Connections that switched to HTTP/2, and CONNECT tunnels, remembered at most (the
/// oldest is forgotten).
pub const MAX_HTTP2: usize = 4096;
/// Seconds of capture time after which an idle expectation or control state is dropped.
pub const IDLE_TIMEOUT: i64 = 600;
/// Lines of one multi-line reply followed before it is reported and given up on.
pub const MAX_REPLY_LINES: u32 = 1000;
/// Bytes of one multi-line reply followed before it is reported and given up on.
pub const MAX_REPLY_BYTES: usize = 256 * 1024;

/// The FTP data port a server connects from after PORT or EPRT (RFC 959 3.2).
const FTP_DATA_PORT: u16 = 20;
/// The FTP control port.
const FTP_PORT: u16 = 21;

/// What a data connection's segment is shown with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataMatch {
    /// The frame that announced the connection.
    pub setup_frame: u64,
    /// The control connection's command the data answers (its request line), if one came.
    pub command: String,
}

/// A connection that a control connection announced.
#[derive(Debug, Clone)]
struct Expected {
    /// Distinguishes this entry from a later one under the same key (for eviction).
    id: u64,
    /// The other end's address, and port when it must be one.
    peer: IpAddr,
    peer_port: Option<u16>,
    setup_frame: u64,
    command: Option<String>,
    /// The control connection that announced it.
    control: FlowKey,
    /// A segment of the data connection was seen.
    used: bool,
    last: i64,
}

/// What is followed of a control connection.
#[derive(Debug, Clone, Default)]
struct Control {
    /// The last expected connection it announced (the key of `expected`, and its id).
    data: Option<(Endpoint, u64)>,
    /// The multi-line reply being read: its code, lines and bytes so far.
    reply: Option<([u8; 3], u32, usize)>,
    last: i64,
}

/// The dynamic binding table of one capture.
#[derive(Debug, Default)]
pub struct Bindings {
    /// Keyed by the listening endpoint the announcement named.
    expected: HashMap<Endpoint, Expected>,
    /// Keys of `expected` in announcement order, with their ids; stale pairs are skipped.
    order: VecDeque<(Endpoint, u64)>,
    controls: HashMap<FlowKey, Control>,
    /// First frame of connections with port 20 on one side (static FTP data).
    port20: HashMap<FlowKey, (u64, i64)>,
    next_id: u64,
    /// Capture time of the last expiry sweep.
    swept: i64,
    /// Sequence analysis of the FTP connections (control and data).
    seq: SeqAnalysis,
    /// Connections that switched to HTTP/2 on an HTTP/1 port (see [`Bindings::http2`]).
    http2: Recent,
    /// Connections an HTTP/1 CONNECT made tunnels (never switched).
    tunnels: Recent,
}

/// A set of connections bounded at [`MAX_HTTP2`]: the one added first goes first.
#[derive(Debug, Default)]
struct Recent {
    keys: HashSet<FlowKey>,
    order: VecDeque<FlowKey>,
}

impl Recent {
    fn contains(&self, key: &FlowKey) -> bool {
        self.keys.contains(key)
    }

    fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn insert(&mut self, key: FlowKey) {
        if !self.keys.insert(key) {
            return;
        }
        if self.order.len() >= MAX_HTTP2 {
            if let Some(old) = self.order.pop_front() {
                self.keys.remove(&old);
            }
        }
        self.order.push_back(key);
    }

    fn remove(&mut self, key: &FlowKey) {
        if self.keys.remove(key) {
            self.order.retain(|k| k != key);
        }
    }
}

/// A TCP segment as the binding stage sees it.
#[derive(Debug, Clone, Copy)]
pub struct SegmentInfo {
    /// Source endpoint.
    pub src: Endpoint,
    /// Destination endpoint.
    pub dst: Endpoint,
    /// The segment carries a FIN or a RST.
    pub closing: bool,
    /// Frame number.
    pub frame: u64,
    /// Capture time, in seconds.
    pub time: i64,
    /// Sequence and acknowledgment numbers, flags and payload length.
    pub tcp: SeqSegment,
}

impl Bindings {
    /// An empty table.
    pub fn new() -> Bindings {
        Bindings::default()
    }

    /// Whether the connection of `s` switched to HTTP/2: its later payloads are HTTP/2
    /// frames both ways, whatever the port tables say, as tshark sets the conversation's
    /// dissector. `http` is the segment's payload when the chain read it as HTTP/1 or
    /// HTTP/2. The connection switches when that payload is the client's connection preface
    /// (`prior knowledge`, RFC 9113 section 3.3), unless an HTTP/1 CONNECT made the
    /// connection a tunnel, or a `101 Switching Protocols` response to `Upgrade: h2c`
    /// (section 3.2 of RFC 7540); a SYN starting a new connection on the pair forgets it.
    pub fn http2(&mut self, s: &SegmentInfo, http: Option<&[u8]>) -> bool {
        if self.http2.is_empty() && http.is_none() {
            return false;
        }
        let (key, _) = FlowKey::new(s.src, s.dst);
        if s.tcp.syn && s.tcp.ack.is_none() {
            self.http2.remove(&key);
        }
        if self.http2.contains(&key) {
            return true;
        }
        let Some(payload) = http else {
            return false;
        };
        if payload.starts_with(b"CONNECT ") {
            // What goes through a tunnel is data to tshark, a preface included.
            self.tunnels.insert(key);
            return false;
        }
        let preface =
            crate::hooks::http2::looks_like_preface(payload) && !self.tunnels.contains(&key);
        if preface || crate::hooks::http::switches_to_h2c(payload) {
            self.http2.insert(key);
        }
        // The preface is HTTP/2 itself; the 101 response is still HTTP/1.
        preface
    }

    /// Expected connections held (for tests and budgets).
    pub fn expected_len(&self) -> usize {
        self.expected.len()
    }

    /// Control connections followed.
    pub fn controls_len(&self) -> usize {
        self.controls.len()
    }

    /// What tshark's sequence analysis says of segment `s` (see [`crate::flow::seq`]),
    /// for an FTP connection: control (port 21), data from port 20, or announced; `None`
    /// for another connection (not followed). Call it for every segment, with or without
    /// payload: acknowledgments count.
    pub fn analyse(&mut self, s: &SegmentInfo) -> Option<Verdict> {
        let ports = [s.src.port, s.dst.port];
        let ftp = ports.contains(&FTP_PORT)
            || ports.contains(&FTP_DATA_PORT)
            || self.expected_key(s).is_some();
        if !ftp {
            return None;
        }
        let (key, from_low) = FlowKey::new(s.src, s.dst);
        Some(self.seq.add(key, from_low, s.tcp, s.time))
    }

    /// Whether `s` belongs to an announced data connection (without marking it used).
    pub fn data_expected(&self, s: &SegmentInfo) -> bool {
        self.expected_key(s).is_some()
    }

    /// The key of the expected connection `s` belongs to.
    fn expected_key(&self, s: &SegmentInfo) -> Option<Endpoint> {
        if self.expected.is_empty() {
            return None;
        }
        let matches = |e: &Expected, peer: Endpoint| {
            e.peer == peer.addr && e.peer_port.is_none_or(|p| p == peer.port)
        };
        if self.expected.get(&s.src).is_some_and(|e| matches(e, s.dst)) {
            Some(s.src)
        } else if self.expected.get(&s.dst).is_some_and(|e| matches(e, s.src)) {
            Some(s.dst)
        } else {
            None
        }
    }

    /// The expected data connection `s` belongs to, if any.
    pub fn data(&mut self, s: &SegmentInfo) -> Option<DataMatch> {
        self.sweep(s.time);
        let key = self.expected_key(s)?;
        let e = self.expected.get_mut(&key)?;
        e.used = true;
        e.last = s.time;
        Some(DataMatch {
            setup_frame: e.setup_frame,
            command: e.command.clone().unwrap_or_default(),
        })
    }

    /// The setup frame of a connection statically bound to FTP data (port 20): the
    /// first frame of it seen, as tshark gives its conversation's first frame.
    pub fn port20(&mut self, s: &SegmentInfo) -> u64 {
        let (key, _) = FlowKey::new(s.src, s.dst);
        if let Some(entry) = self.port20.get_mut(&key) {
            entry.1 = s.time;
            return entry.0;
        }
        if self.port20.len() >= MAX_PORT20 {
            // Forget the connection idle longest.
            if let Some(old) = self.port20.iter().min_by_key(|(_, v)| v.1).map(|(k, _)| *k) {
                self.port20.remove(&old);
            }
        }
        self.port20.insert(key, (s.frame, s.time));
        s.frame
    }

    /// Whether segment `s` is nothing to [`Bindings::saw_segment`] and
    /// [`Bindings::analyse`]: no FTP port, and no connection announced, followed or
    /// remembered that it could belong to.
    pub fn quiet(&self, s: &SegmentInfo) -> bool {
        self.expected.is_empty()
            && self.controls.is_empty()
            && self.port20.is_empty()
            && ![s.src.port, s.dst.port]
                .iter()
                .any(|&p| p == FTP_PORT || p == FTP_DATA_PORT)
    }

    /// Notes any TCP segment of a port-20 connection (including those without payload,
    /// so that the first frame is the connection's first).
    pub fn saw_segment(&mut self, s: &SegmentInfo) {
        if s.src.port == FTP_DATA_PORT || s.dst.port == FTP_DATA_PORT {
            self.port20(s);
        }
        if s.closing && !self.controls.is_empty() {
            let (key, _) = FlowKey::new(s.src, s.dst);
            if self.controls.remove(&key).is_some() {
                // Announcements nobody used die with their control connection; a transfer
                // under way may outlive it (QUIT while the data still flows).
                self.expected.retain(|_, e| e.control != key || e.used);
            }
        }
    }

    /// Follows an FTP control segment: its announcement becomes an expected connection,
    /// its request becomes the command of the last one, and multi-line replies are
    /// followed. `first_line` is the segment's first line; problems go to `notes`.
    pub fn control(
        &mut self,
        s: &SegmentInfo,
        ftp: &Ftp,
        request: bool,
        payload: &[u8],
        notes: &mut Vec<String>,
    ) {
        self.sweep(s.time);
        let (key, _) = FlowKey::new(s.src, s.dst);
        if !self.controls.contains_key(&key) && self.controls.len() >= MAX_CONTROLS {
            if let Some(old) = self
                .controls
                .iter()
                .min_by_key(|(_, c)| c.last)
                .map(|(k, _)| *k)
            {
                self.controls.remove(&old);
            }
        }
        let control = self.controls.entry(key).or_default();
        control.last = s.time;
        if !ftp.problem.is_empty() {
            notes.push(format!("FTP: {}", ftp.problem));
        }
        if request {
            let line = first_line(payload);
            if let Some((data_key, id)) = control.data {
                if let Some(e) = self.expected.get_mut(&data_key).filter(|e| e.id == id) {
                    // tshark's rule: the first request after the announcement, whatever
                    // it is (TYPE I before a RETR is the command).
                    if e.command.is_none() {
                        e.command = Some(String::from_utf8_lossy(line).into_owned());
                    }
                }
            }
        } else {
            follow_reply(control, payload, notes);
        }
        let Some(announced) = Announcement::of(ftp) else {
            return;
        };
        // The control connection's client and server, from this segment's direction.
        let (client, server) = if request {
            (s.src, s.dst)
        } else {
            (s.dst, s.src)
        };
        let (listen, peer, peer_port) = match announced {
            Announcement::Active(addr, port) => {
                if addr != client.addr {
                    notes.push(format!(
                        "FTP: PORT/EPRT announces {} for data, not the control connection's client {} (bounce or NAT); bound as announced",
                        Endpoint { addr, port },
                        client.addr
                    ));
                }
                (Endpoint { addr, port }, server.addr, Some(FTP_DATA_PORT))
            }
            Announcement::Passive(addr, port) => {
                if addr != server.addr {
                    notes.push(format!(
                        "FTP: 227 announces {} for data, not the control connection's server {} (PASV bounce or NAT); bound as announced",
                        Endpoint { addr, port },
                        server.addr
                    ));
                }
                (Endpoint { addr, port }, client.addr, None)
            }
            Announcement::ExtendedPassive(port) => (
                Endpoint {
                    addr: server.addr,
                    port,
                },
                client.addr,
                None,
            ),
        };
        if listen.port == FTP_PORT && listen.addr == server.addr {
            notes.push(
                "FTP: data connection announced on the control connection's own port; not bound"
                    .into(),
            );
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.expected.insert(
            listen,
            Expected {
                id,
                peer,
                peer_port,
                setup_frame: s.frame,
                command: None,
                control: key,
                used: false,
                last: s.time,
            },
        );
        self.order.push_back((listen, id));
        if let Some(c) = self.controls.get_mut(&key) {
            c.data = Some((listen, id));
        }
        while self.expected.len() > MAX_EXPECTED {
            let Some((k, id)) = self.order.pop_front() else {
                break;
            };
            if self.expected.get(&k).is_some_and(|e| e.id == id) {
                self.expected.remove(&k);
                notes.push(format!(
                    "FTP: more than {MAX_EXPECTED} data connections expected; the oldest ({k}) forgotten"
                ));
            }
        }
        // Stale pairs (replaced entries) must not pile up either.
        if self.order.len() > 2 * MAX_EXPECTED {
            let expected = &self.expected;
            self.order
                .retain(|(k, id)| expected.get(k).is_some_and(|e| e.id == *id));
        }
    }

    /// Drops what has been idle for [`IDLE_TIMEOUT`], at most once a minute of capture time.
    fn sweep(&mut self, now: i64) {
        if now.saturating_sub(self.swept) < 60 {
            return;
        }
        self.swept = now;
        let alive = |last: i64| now.saturating_sub(last) <= IDLE_TIMEOUT;
        self.expected.retain(|_, e| alive(e.last));
        self.controls.retain(|_, c| alive(c.last));
        self.port20.retain(|_, p| alive(p.1));
        let expected = &self.expected;
        self.order
            .retain(|(k, id)| expected.get(k).is_some_and(|e| e.id == *id));
    }
}

/// Follows a reply segment's lines through a multi-line reply (RFC 959 4.2: `123-` opens
/// it, a line starting `123 ` closes it); one that runs past the caps is reported once
/// and no longer followed, so its state stays a few counters whatever its length.
fn follow_reply(control: &mut Control, payload: &[u8], notes: &mut Vec<String>) {
    for line in crate::hooks::ftp::lines(payload) {
        match &mut control.reply {
            None => {
                if line.len() >= 4 && line[..3].iter().all(u8::is_ascii_digit) && line[3] == b'-' {
                    control.reply = Some(([line[0], line[1], line[2]], 1, line.len()));
                }
            }
            Some((code, lines, bytes)) => {
                *lines += 1;
                *bytes += line.len();
                if line.len() >= 4 && line[..3] == code[..] && line[3] == b' ' {
                    control.reply = None;
                } else if *lines > MAX_REPLY_LINES || *bytes > MAX_REPLY_BYTES {
                    notes.push(format!(
                        "FTP: multi-line reply {} longer than {MAX_REPLY_LINES} lines or {MAX_REPLY_BYTES} bytes; no longer followed",
                        String::from_utf8_lossy(&code[..])
                    ));
                    control.reply = None;
                    return;
                }
            }
        }
    }
}

/// A segment's first line, without its end, cut at [`MAX_LINE`].
fn first_line(payload: &[u8]) -> &[u8] {
    let line = crate::hooks::ftp::lines(payload).next().unwrap_or_default();
    &line[..line.len().min(MAX_LINE)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::ftp::parse_directed;

    fn ep(s: &str) -> Endpoint {
        let (a, p) = s.rsplit_once(':').unwrap();
        Endpoint {
            addr: a.trim_matches(['[', ']']).parse().unwrap(),
            port: p.parse().unwrap(),
        }
    }

    fn seg(src: &str, dst: &str, frame: u64) -> SegmentInfo {
        SegmentInfo {
            src: ep(src),
            dst: ep(dst),
            closing: false,
            frame,
            time: 1000,
            tcp: SeqSegment::default(),
        }
    }

    const CLIENT: &str = "10.0.0.1:50000";
    const SERVER: &str = "10.0.0.2:21";

    fn said(b: &mut Bindings, s: &SegmentInfo, request: bool, text: &[u8]) -> Vec<String> {
        let mut notes = Vec::new();
        let ftp = parse_directed(text, request);
        b.control(s, &ftp, request, text, &mut notes);
        notes
    }

    #[test]
    fn pasv_then_retr() {
        let mut b = Bindings::new();
        said(&mut b, &seg(CLIENT, SERVER, 1), true, b"PASV\r\n");
        let notes = said(
            &mut b,
            &seg(SERVER, CLIENT, 2),
            false,
            b"227 Entering Passive Mode (10,0,0,2,4,1)\r\n",
        );
        assert!(notes.is_empty());
        said(&mut b, &seg(CLIENT, SERVER, 3), true, b"RETR a.txt\r\n");
        said(&mut b, &seg(CLIENT, SERVER, 4), true, b"NOOP\r\n");
        said(&mut b, &seg(CLIENT, SERVER, 5), true, b"NOOP\r\n");
        let m = b.data(&seg("10.0.0.2:1025", "10.0.0.1:50001", 6)).unwrap();
        assert_eq!(m.setup_frame, 2);
        assert_eq!(m.command, "RETR a.txt");
        // Either direction; another client host is not it.
        assert!(b.data(&seg("10.0.0.1:50001", "10.0.0.2:1025", 7)).is_some());
        assert!(b.data(&seg("10.0.0.9:50001", "10.0.0.2:1025", 8)).is_none());
    }

    #[test]
    fn the_first_request_after_the_announcement_is_the_command() {
        // As tshark 4.0 (packet-ftp.c fills the data conversation's command only while
        // it is empty): zeek's retr.pcap shows `SIZE /README` on the RETR's data.
        let mut b = Bindings::new();
        said(&mut b, &seg(CLIENT, SERVER, 1), true, b"PASV\r\n");
        said(
            &mut b,
            &seg(SERVER, CLIENT, 2),
            false,
            b"227 Entering Passive Mode (10,0,0,2,4,1)\r\n",
        );
        said(&mut b, &seg(CLIENT, SERVER, 3), true, b"TYPE I\r\n");
        said(&mut b, &seg(CLIENT, SERVER, 4), true, b"RETR a.txt\r\n");
        let m = b.data(&seg("10.0.0.2:1025", "10.0.0.1:50001", 5)).unwrap();
        assert_eq!(m.command, "TYPE I");
    }

    #[test]
    fn remembered_connections_are_bounded_oldest_first() {
        let mut r = Recent::default();
        let key = |port: u16| FlowKey::new(ep(&format!("10.0.0.1:{port}")), ep(SERVER)).0;
        for port in 0..=MAX_HTTP2 as u16 {
            r.insert(key(port));
            r.insert(key(port));
        }
        assert_eq!((r.keys.len(), r.order.len()), (MAX_HTTP2, MAX_HTTP2));
        assert!(!r.contains(&key(0)));
        assert!(r.contains(&key(1)) && r.contains(&key(MAX_HTTP2 as u16)));
        r.remove(&key(1));
        assert!(!r.contains(&key(1)));
        assert_eq!(r.order.len(), MAX_HTTP2 - 1);
    }

    #[test]
    fn h2c_and_the_preface_switch_a_connection_to_http2_until_a_new_syn() {
        let mut b = Bindings::new();
        let request = seg(CLIENT, "10.0.0.2:80", 1);
        let response = seg("10.0.0.2:80", CLIENT, 2);
        assert!(!b.http2(&request, Some(b"GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n")));
        let switch = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n";
        // The 101 itself is HTTP/1; what follows, either way, is HTTP/2.
        assert!(!b.http2(&response, Some(switch)));
        assert!(b.http2(&request, None));
        assert!(b.http2(&response, Some(b"\0\0\0\x04\0\0\0\0\0")));
        let mut syn = seg(CLIENT, "10.0.0.2:80", 3);
        syn.tcp.syn = true;
        assert!(!b.http2(&syn, None), "a new connection");
        // A preface is HTTP/2 itself, except through a CONNECT tunnel.
        let preface = crate::reassembly::tcp::HTTP2_PREFACE;
        assert!(b.http2(&request, Some(preface)));
        let other = seg("10.0.0.1:40001", "10.0.0.2:80", 4);
        assert!(!b.http2(&other, Some(b"CONNECT a:80 HTTP/1.1\r\n\r\n")));
        assert!(!b.http2(&other, Some(preface)));
    }

    #[test]
    fn port_expects_the_server_port_20() {
        let mut b = Bindings::new();
        said(
            &mut b,
            &seg(CLIENT, SERVER, 1),
            true,
            b"PORT 10,0,0,1,200,10\r\n",
        );
        said(&mut b, &seg(CLIENT, SERVER, 2), true, b"LIST\r\n");
        let m = b.data(&seg("10.0.0.2:20", "10.0.0.1:51210", 3)).unwrap();
        assert_eq!((m.setup_frame, m.command.as_str()), (1, "LIST"));
        assert!(b
            .data(&seg("10.0.0.2:61920", "10.0.0.1:51210", 4))
            .is_none());
    }

    #[test]
    fn epsv_uses_the_control_server_address() {
        let mut b = Bindings::new();
        let c = "[2001:db8::1]:49185";
        let s = "[2001:db8::21]:21";
        said(
            &mut b,
            &seg(s, c, 5),
            false,
            b"229 Entering Extended Passive Mode (|||6446|)\r\n",
        );
        said(&mut b, &seg(c, s, 6), true, b"NLST\r\n");
        let m = b
            .data(&seg("[2001:db8::21]:6446", "[2001:db8::1]:49190", 7))
            .unwrap();
        assert_eq!((m.setup_frame, m.command.as_str()), (5, "NLST"));
    }

    #[test]
    fn pasv_on_another_host_is_bound_and_reported() {
        let mut b = Bindings::new();
        let notes = said(
            &mut b,
            &seg(SERVER, CLIENT, 2),
            false,
            b"227 Entering Passive Mode (192,0,2,7,4,1)\r\n",
        );
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("192.0.2.7:1025"));
        assert!(b
            .data(&seg("192.0.2.7:1025", "10.0.0.1:50001", 3))
            .is_some());
        assert!(b.data(&seg("10.0.0.2:1025", "10.0.0.1:50001", 3)).is_none());
    }

    #[test]
    fn port_flood_is_capped() {
        let mut b = Bindings::new();
        let mut notes = 0;
        for i in 0..(MAX_EXPECTED as u32 * 3) {
            let cmd = format!(
                "PORT 10,0,{},{},{},{}\r\n",
                i >> 16 & 255,
                i >> 8 & 255,
                1 + (i & 127),
                1 + (i >> 7 & 127)
            );
            notes += said(
                &mut b,
                &seg(CLIENT, SERVER, u64::from(i)),
                true,
                cmd.as_bytes(),
            )
            .len();
        }
        assert_eq!(b.expected_len(), MAX_EXPECTED);
        assert!(b.order.len() <= 2 * MAX_EXPECTED + 1);
        // Each announcement is on another host than the client, and the overflow is told.
        assert!(notes >= MAX_EXPECTED * 2);
    }

    #[test]
    fn endless_multi_line_reply_is_reported_once() {
        let mut b = Bindings::new();
        let mut all = said(&mut b, &seg(SERVER, CLIENT, 1), false, b"211-Features:\r\n");
        for i in 0..(MAX_REPLY_LINES as u64 * 2) {
            all.extend(said(
                &mut b,
                &seg(SERVER, CLIENT, 2 + i),
                false,
                b" MORE\r\n",
            ));
        }
        assert_eq!(all.len(), 1, "{all:?}");
        assert!(all[0].contains("211"));
        // A closed reply is not reported.
        let mut b = Bindings::new();
        let n = said(
            &mut b,
            &seg(SERVER, CLIENT, 1),
            false,
            b"211-a\r\n b\r\n211 end\r\n",
        );
        assert!(
            n.is_empty()
                && b.controls[&FlowKey::new(ep(SERVER), ep(CLIENT)).0]
                    .reply
                    .is_none()
        );
    }

    #[test]
    fn close_and_idle_forget() {
        let mut b = Bindings::new();
        said(
            &mut b,
            &seg(SERVER, CLIENT, 2),
            false,
            b"227 ok (10,0,0,2,4,1)\r\n",
        );
        assert_eq!((b.expected_len(), b.controls_len()), (1, 1));
        let mut fin = seg(CLIENT, SERVER, 3);
        fin.closing = true;
        b.saw_segment(&fin);
        assert_eq!((b.expected_len(), b.controls_len()), (0, 0));
        said(
            &mut b,
            &seg(SERVER, CLIENT, 4),
            false,
            b"227 ok (10,0,0,2,4,1)\r\n",
        );
        let mut later = seg("10.0.0.7:1", "10.0.0.8:2", 5);
        later.time = 1000 + IDLE_TIMEOUT + 61;
        assert!(b.data(&later).is_none());
        assert_eq!((b.expected_len(), b.controls_len()), (0, 0));
    }

    #[test]
    fn port20_setup_frame_is_the_first_seen() {
        let mut b = Bindings::new();
        b.saw_segment(&seg("10.0.0.2:20", "10.0.0.1:1137", 4));
        assert_eq!(b.port20(&seg("10.0.0.1:1137", "10.0.0.2:20", 9)), 4);
    }
}
