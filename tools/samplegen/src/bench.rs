//! The benchmark capture: a long, deterministic traffic mix seen from a client LAN
//! (10.1.0.0/16, 2001:db8:1::/64) behind a router, talking to servers in
//! 198.18.0.0/15 and 2001:db8:2::/64 and to a resolver on the LAN.
//!
//! Per packet, by a seeded generator: ~60% IPv4/TCP, ~30% IPv4/UDP, ~5% ARP and
//! ~5% IPv6 (TCP or UDP). TCP flows run a full lifecycle (handshake with options,
//! data, FIN exchange, then a new connection from a new port) with consistent
//! sequence and acknowledgement numbers; a third of them are HTTP/1.1 on port 80,
//! the rest bulk transfers of 0..MSS-byte segments on unassigned ports.

use std::collections::VecDeque;
use std::io::{self, Write};

use pcapkit_testkit::net::*;
use pcapkit_testkit::pcap::{PcapWriter, LINKTYPE_ETHERNET};
use pcapkit_testkit::Rng;

use crate::demo::START_US;

/// Generator settings.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    pub packets: u64,
    /// Concurrent IPv4 TCP flows; IPv6 and UDP flow counts derive from it.
    pub flows: usize,
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            packets: 100_000,
            flows: 1000,
            seed: DEFAULT_SEED,
        }
    }
}

pub const DEFAULT_SEED: u64 = 0x5eed_0f9c_ab1e;

/// What was written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub packets: u64,
    /// File size, headers included.
    pub bytes: u64,
    pub tcp: u64,
    pub udp: u64,
    pub dns: u64,
    pub arp: u64,
    pub ipv6: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Addr {
    V4([u8; 4]),
    V6([u8; 16]),
}

/// An address plus the MAC its frames carry on the captured LAN: the host's own
/// MAC for LAN hosts, the router's for remote servers.
#[derive(Clone, Copy, Debug)]
struct Endpoint {
    mac: Mac,
    addr: Addr,
}

const CLIENTS: usize = 250;
const SERVERS: usize = 400;
const ROUTER_MAC: Mac = [0x02, 0x00, 0x0a, 0x01, 0x00, 0x01];
const GATEWAY_V4: [u8; 4] = [10, 1, 0, 1];
const RESOLVER: Endpoint = Endpoint {
    mac: [0x02, 0x00, 0x0a, 0x01, 0x00, 0x35],
    addr: Addr::V4([10, 1, 0, 53]),
};
const RESOLVER_V6: Endpoint = Endpoint {
    mac: RESOLVER.mac,
    addr: Addr::V6([
        0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53,
    ]),
};
/// Server ports for non-HTTP TCP flows; none has a tshark port dissector.
const BULK_PORTS: [u16; 4] = [5201, 7070, 8888, 9080];
/// Server ports for non-DNS UDP flows; none has a tshark port dissector.
const UDP_PORTS: [u16; 4] = [31337, 33333, 40404, 44444];

fn client_v4(i: usize) -> [u8; 4] {
    [10, 1, (i / 200) as u8 + 1, (i % 200) as u8 + 10]
}

fn client_mac(i: usize) -> Mac {
    let a = client_v4(i);
    [0x02, 0x00, a[0], a[1], a[2], a[3]]
}

fn client(i: usize, v6: bool) -> Endpoint {
    let addr = if v6 {
        let mut a = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        a[14..16].copy_from_slice(&(0x100 + i as u16).to_be_bytes());
        Addr::V6(a)
    } else {
        Addr::V4(client_v4(i))
    };
    Endpoint {
        mac: client_mac(i),
        addr,
    }
}

fn server(j: usize, v6: bool) -> Endpoint {
    let addr = if v6 {
        let mut a = [0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        a[14..16].copy_from_slice(&(1 + j as u16).to_be_bytes());
        Addr::V6(a)
    } else {
        Addr::V4([198, 18, (j / 200) as u8, (j % 200) as u8 + 1])
    };
    Endpoint {
        mac: ROUTER_MAC,
        addr,
    }
}

/// Builds one IP packet in `buf` (cleared first): Ethernet, IPv4 or IPv6, then
/// whatever `body` appends, which it must finish itself given the address pair.
fn ip_packet(
    buf: &mut Vec<u8>,
    from: &Endpoint,
    to: &Endpoint,
    protocol: u8,
    ip_id: u16,
    body: impl FnOnce(&mut Vec<u8>, IpPair),
) {
    buf.clear();
    match (from.addr, to.addr) {
        (Addr::V4(src), Addr::V4(dst)) => {
            push_ethernet(buf, to.mac, from.mac, &[], ETHERTYPE_IPV4);
            let mut ip = Ipv4::new(src, dst, protocol, ip_id);
            ip.dont_fragment = true;
            let start = begin_ipv4(buf, &ip);
            body(buf, ip.pair());
            finish_ipv4(buf, start);
        }
        (Addr::V6(src), Addr::V6(dst)) => {
            push_ethernet(buf, to.mac, from.mac, &[], ETHERTYPE_IPV6);
            let ip = Ipv6::new(src, dst, protocol);
            let start = begin_ipv6(buf, &ip);
            body(buf, ip.pair());
            finish_ipv6(buf, start);
        }
        _ => unreachable!("mixed address families"),
    }
    pad_frame(buf);
}

fn udp_packet(
    buf: &mut Vec<u8>,
    from: &Endpoint,
    to: &Endpoint,
    ports: (u16, u16),
    ip_id: u16,
    payload: &[u8],
) {
    ip_packet(buf, from, to, IPPROTO_UDP, ip_id, |b, pair| {
        let start = begin_udp(b, ports.0, ports.1);
        b.extend_from_slice(payload);
        finish_udp(b, start, pair);
    });
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Syn,
    SynAck,
    HandshakeAck,
    Request,
    Response,
    Body,
    Bulk,
    ClientFin,
    ServerFin,
    LastAck,
}

/// One TCP flow slot: successive connections between the same two hosts.
struct TcpFlow {
    client: Endpoint,
    server: Endpoint,
    server_index: usize,
    cport: u16,
    sport: u16,
    http: bool,
    /// Whether this host pair negotiates timestamps (most do; Windows-like ones don't).
    timestamps: bool,
    phase: Phase,
    /// Next sequence number each side will send.
    c_next: u32,
    s_next: u32,
    c_ts_base: u32,
    s_ts_base: u32,
    c_last_ts: u32,
    s_last_ts: u32,
    c_ip_id: u16,
    s_ip_id: u16,
    /// Body bytes (HTTP) or segments (bulk) still to send.
    left: u32,
    /// Server segments since the client last acknowledged.
    unacked: u32,
    /// The peer's next sequence number when this side last acknowledged.
    c_acked: u32,
    s_acked: u32,
    /// HTTP requests left on this connection.
    requests: u32,
    /// Index into [`HTTP_PATHS`] of the request being answered.
    path: usize,
}

/// Request targets; all are served from the text pool, so all have text types.
const HTTP_PATHS: [&str; 8] = [
    "/",
    "/index.html",
    "/css/site.css",
    "/js/app.js",
    "/about.html",
    "/robots.txt",
    "/docs/guide.html?lang=en",
    "/news/2024/01/01/happy-new-year.html",
];

const USER_AGENTS: [&str; 3] = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "curl/8.5.0",
];

fn content_type(path: &str) -> &'static str {
    if path.ends_with(".css") {
        "text/css"
    } else if path.ends_with(".js") {
        "application/javascript"
    } else if path.ends_with(".txt") {
        "text/plain; charset=utf-8"
    } else {
        "text/html; charset=utf-8"
    }
}

/// Shared scratch buffers and payload pools.
struct Ctx<'a> {
    rng: &'a mut Rng,
    now_us: u64,
    buf: &'a mut Vec<u8>,
    scratch: &'a mut Vec<u8>,
    text: &'a [u8],
    binary: &'a [u8],
}

impl TcpFlow {
    fn new(rng: &mut Rng, client_index: usize, server_index: usize, v6: bool) -> Self {
        let http = rng.percent(35);
        TcpFlow {
            client: client(client_index, v6),
            server: server(server_index, v6),
            server_index,
            cport: 0,
            sport: if http { 80 } else { *rng.pick(&BULK_PORTS) },
            http,
            timestamps: rng.percent(85),
            phase: Phase::Syn,
            c_next: 0,
            s_next: 0,
            c_ts_base: rng.u32(),
            s_ts_base: rng.u32(),
            c_last_ts: 0,
            s_last_ts: 0,
            c_ip_id: rng.below(65536) as u16,
            s_ip_id: rng.below(65536) as u16,
            left: 0,
            unacked: 0,
            requests: 0,
            path: 0,
            c_acked: 0,
            s_acked: 0,
        }
    }

    /// MSS announced in the SYNs: a 1500-byte MTU minus IP and TCP headers.
    fn announced_mss(&self) -> u16 {
        match self.client.addr {
            Addr::V4(_) => 1460,
            Addr::V6(_) => 1440,
        }
    }

    /// Largest payload per segment, after the timestamps option if any.
    fn mss(&self) -> usize {
        usize::from(self.announced_mss()) - if self.timestamps { 12 } else { 0 }
    }

    /// Writes one segment into `ctx.buf` and advances that side's sequence number.
    fn send(&mut self, ctx: &mut Ctx, from_client: bool, flags: u8, payload: &[u8]) {
        use tcp_flags::*;
        let ms = (ctx.now_us / 1000) as u32;
        let syn = flags & SYN != 0;
        let (tsval, tsecr) = if from_client {
            let v = self.c_ts_base.wrapping_add(ms);
            self.c_last_ts = v;
            (v, self.s_last_ts)
        } else {
            let v = self.s_ts_base.wrapping_add(ms);
            self.s_last_ts = v;
            (v, self.c_last_ts)
        };
        let opts = match (syn, self.timestamps) {
            (true, true) => TcpOptions::new()
                .mss(self.announced_mss())
                .sack_permitted()
                .timestamps(tsval, tsecr)
                .nop()
                .window_scale(7),
            (true, false) => TcpOptions::new()
                .mss(self.announced_mss())
                .nop()
                .window_scale(8)
                .nop()
                .nop()
                .sack_permitted(),
            (false, true) => TcpOptions::new().nop().nop().timestamps(tsval, tsecr),
            (false, false) => TcpOptions::new(),
        };
        let window = match (syn, from_client, self.timestamps) {
            (true, true, _) => 64240,
            (true, false, _) => 65160,
            (false, true, true) => 502,
            (false, false, true) => 509,
            (false, true, false) => 1026,
            (false, false, false) => 255,
        };
        let (src, dst, sport, dport, seq, ack, ip_id) = if from_client {
            self.c_ip_id = self.c_ip_id.wrapping_add(1);
            (
                &self.client,
                &self.server,
                self.cport,
                self.sport,
                self.c_next,
                self.s_next,
                self.c_ip_id,
            )
        } else {
            self.s_ip_id = self.s_ip_id.wrapping_add(1);
            (
                &self.server,
                &self.client,
                self.sport,
                self.cport,
                self.s_next,
                self.c_next,
                self.s_ip_id,
            )
        };
        let tcp = Tcp {
            sport,
            dport,
            seq,
            ack: if flags & ACK != 0 { ack } else { 0 },
            flags,
            window,
            options: opts.as_bytes(),
        };
        ip_packet(ctx.buf, src, dst, IPPROTO_TCP, ip_id, |b, pair| {
            let start = begin_tcp(b, &tcp);
            b.extend_from_slice(payload);
            finish_tcp(b, start, pair);
        });
        if flags & ACK != 0 {
            if from_client {
                self.c_acked = self.s_next;
            } else {
                self.s_acked = self.c_next;
            }
        }
        let advance = payload.len() as u32 + u32::from(flags & (SYN | FIN) != 0);
        let next = if from_client {
            &mut self.c_next
        } else {
            &mut self.s_next
        };
        *next = next.wrapping_add(advance);
    }

    /// Writes this flow's next segment into `ctx.buf`.
    fn step(&mut self, ctx: &mut Ctx) {
        use tcp_flags::*;
        let mss = self.mss();
        match self.phase {
            Phase::Syn => {
                self.cport = ctx.rng.range(32768, 60999) as u16;
                self.c_next = ctx.rng.u32();
                self.s_next = ctx.rng.u32();
                self.c_last_ts = 0;
                self.s_last_ts = 0;
                self.send(ctx, true, SYN, &[]);
                self.phase = Phase::SynAck;
            }
            Phase::SynAck => {
                self.send(ctx, false, SYN | ACK, &[]);
                self.phase = Phase::HandshakeAck;
            }
            Phase::HandshakeAck => {
                self.send(ctx, true, ACK, &[]);
                if self.http {
                    self.requests = ctx.rng.range(1, 4) as u32;
                    self.phase = Phase::Request;
                } else {
                    self.left = ctx.rng.range(4, 400) as u32;
                    self.phase = Phase::Bulk;
                }
            }
            Phase::Request => {
                self.path = ctx.rng.below(HTTP_PATHS.len() as u64) as usize;
                let path = HTTP_PATHS[self.path];
                let ua = *ctx.rng.pick(&USER_AGENTS);
                ctx.scratch.clear();
                write!(
                    ctx.scratch,
                    "GET {path} HTTP/1.1\r\nHost: www{}.example.net\r\nUser-Agent: {ua}\r\n\
                     Accept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n",
                    self.server_index
                )
                .expect("writing to a Vec");
                let request = std::mem::take(ctx.scratch);
                self.send(ctx, true, PSH | ACK, &request);
                *ctx.scratch = request;
                self.left = match ctx.rng.below(10) {
                    0..=2 => ctx.rng.range(200, 2_000),
                    3..=7 => ctx.rng.range(2_000, 30_000),
                    _ => ctx.rng.range(30_000, 300_000),
                } as u32;
                self.phase = Phase::Response;
            }
            Phase::Response => {
                let secs = ctx.now_us / 1_000_000;
                let mut head = std::mem::take(ctx.scratch);
                head.clear();
                write!(
                    head,
                    "HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 {:02}:{:02}:{:02} GMT\r\n\
                     Server: nginx/1.24.0\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
                     Connection: keep-alive\r\n\r\n",
                    secs / 3600 % 24,
                    secs / 60 % 60,
                    secs % 60,
                    content_type(HTTP_PATHS[self.path]),
                    self.left
                )
                .expect("writing to a Vec");
                let first = (mss - head.len()).min(self.left as usize);
                let at = ctx.rng.below((ctx.text.len() - mss) as u64) as usize;
                head.extend_from_slice(&ctx.text[at..at + first]);
                self.left -= first as u32;
                let flags = if self.left == 0 { PSH | ACK } else { ACK };
                self.send(ctx, false, flags, &head);
                *ctx.scratch = head;
                self.unacked = 1;
                self.phase = Phase::Body;
            }
            Phase::Body => {
                if self.left == 0 || self.unacked >= 2 {
                    self.send(ctx, true, ACK, &[]);
                    self.unacked = 0;
                    if self.left == 0 {
                        self.requests -= 1;
                        self.phase = if self.requests > 0 {
                            Phase::Request
                        } else {
                            Phase::ClientFin
                        };
                    }
                } else {
                    let n = mss.min(self.left as usize);
                    let at = ctx.rng.below((ctx.text.len() - mss) as u64) as usize;
                    let flags = if n == self.left as usize {
                        PSH | ACK
                    } else {
                        ACK
                    };
                    let text = ctx.text;
                    self.send(ctx, false, flags, &text[at..at + n]);
                    self.left -= n as u32;
                    self.unacked += 1;
                }
            }
            Phase::Bulk => {
                let from_client = ctx.rng.percent(30);
                // A pure ACK only when the peer sent something since this side
                // last acknowledged; otherwise it would be a duplicate ACK.
                let peer_sent = if from_client {
                    self.s_next != self.c_acked
                } else {
                    self.c_next != self.s_acked
                };
                let len = match ctx.rng.below(100) {
                    0..=29 if peer_sent => 0,
                    0..=69 => mss,
                    _ => ctx.rng.range(1, mss as u64) as usize,
                };
                let flags = if len == 0 || len == mss {
                    ACK
                } else {
                    PSH | ACK
                };
                let mut payload = std::mem::take(ctx.scratch);
                binary_payload(ctx.rng, ctx.binary, len, &mut payload);
                self.send(ctx, from_client, flags, &payload);
                *ctx.scratch = payload;
                self.left -= 1;
                if self.left == 0 {
                    self.phase = Phase::ClientFin;
                }
            }
            Phase::ClientFin => {
                self.send(ctx, true, FIN | ACK, &[]);
                self.phase = Phase::ServerFin;
            }
            Phase::ServerFin => {
                self.send(ctx, false, FIN | ACK, &[]);
                self.phase = Phase::LastAck;
            }
            Phase::LastAck => {
                self.send(ctx, true, ACK, &[]);
                self.phase = Phase::Syn;
            }
        }
    }
}

const DNS_NAMES: [&str; 16] = [
    "www.example.com",
    "example.com",
    "mail.example.com",
    "api.example.net",
    "cdn.example.org",
    "static.example.org",
    "login.example.net",
    "time.example.com",
    "updates.example.org",
    "images.example.com",
    "video.example.net",
    "news.example.org",
    "docs.example.com",
    "git.example.net",
    "chat.example.org",
    "metrics.example.com",
];

/// A query waiting for its response.
struct PendingDns {
    client: Endpoint,
    port: u16,
    id: u16,
    name: &'static str,
    qtype: u16,
}

/// A non-DNS UDP conversation.
struct UdpFlow {
    client: Endpoint,
    server: Endpoint,
    cport: u16,
    sport: u16,
}

struct Generator {
    rng: Rng,
    now_us: u64,
    buf: Vec<u8>,
    scratch: Vec<u8>,
    text: Vec<u8>,
    binary: Vec<u8>,
    tcp4: Vec<TcpFlow>,
    tcp6: Vec<TcpFlow>,
    udp4: Vec<UdpFlow>,
    udp6: Vec<UdpFlow>,
    /// Queries waiting for a response, IPv4 then IPv6.
    pending_dns: [VecDeque<PendingDns>; 2],
    /// Client whose ARP request is waiting for a reply.
    pending_arp: Option<usize>,
    ip_id: u16,
    stats: Stats,
}

/// Opaque application bytes for bulk TCP and non-DNS UDP: a fixed 8-byte record
/// marker, then pool bytes. Without the marker, tshark's heuristic dissectors
/// (RTCP, Thrift, CLTP, ...) claim a few hundred random payloads per 100k frames.
/// Byte 0 rules out RTCP (version 0); bytes 0 and 4 rule out Thrift, plain or
/// framed (no protocol id, absurd lengths); byte 1 is no OSI TPDU type.
fn binary_payload(rng: &mut Rng, pool: &[u8], len: usize, out: &mut Vec<u8>) {
    const MARKER: &[u8; 8] = &[0x3f, 0xa7, 0x1c, 0x55, 0x3f, 0xa7, 0x1c, 0x55];
    out.clear();
    out.extend_from_slice(&MARKER[..len.min(MARKER.len())]);
    if len > MARKER.len() {
        let n = len - MARKER.len();
        let at = rng.below((pool.len() - n) as u64) as usize;
        out.extend_from_slice(&pool[at..at + n]);
    }
}

fn text_pool() -> Vec<u8> {
    const LINES: [&str; 6] = [
        "<div class=\"item\"><h2>Lorem ipsum dolor sit amet</h2>\n",
        "<p>Consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.</p>\n",
        "<a href=\"/news/2024/01/01/happy-new-year.html\">Read more</a></div>\n",
        "<ul><li>alpha</li><li>beta</li><li>gamma</li><li>delta</li></ul>\n",
        "<script>window.dataLayer = window.dataLayer || [];</script>\n",
        "<p>Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris.</p>\n",
    ];
    let mut pool = Vec::with_capacity(70_000);
    let mut i = 0;
    while pool.len() < 65_536 + 1460 {
        pool.extend_from_slice(LINES[i % LINES.len()].as_bytes());
        i = (i * 7 + 3) % 13;
    }
    pool
}

impl Generator {
    fn new(cfg: &Config) -> Self {
        let mut rng = Rng::new(cfg.seed);
        let flows = cfg.flows.max(1);
        let mut binary = vec![0u8; 65_536 + 1460];
        for chunk in binary.chunks_mut(8) {
            let r = rng.u64().to_le_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
        let tcp_flows = |n: usize, v6: bool, rng: &mut Rng| -> Vec<TcpFlow> {
            (0..n)
                .map(|_| {
                    let c = rng.below(CLIENTS as u64) as usize;
                    let s = rng.below(SERVERS as u64) as usize;
                    TcpFlow::new(rng, c, s, v6)
                })
                .collect()
        };
        let tcp4 = tcp_flows(flows, false, &mut rng);
        let tcp6 = tcp_flows(flows.div_ceil(20), true, &mut rng);
        let udp_flows = |n: usize, v6: bool, rng: &mut Rng| -> Vec<UdpFlow> {
            (0..n)
                .map(|_| UdpFlow {
                    client: client(rng.below(CLIENTS as u64) as usize, v6),
                    server: server(rng.below(SERVERS as u64) as usize, v6),
                    cport: rng.range(49152, 65535) as u16,
                    sport: *rng.pick(&UDP_PORTS),
                })
                .collect()
        };
        let udp4 = udp_flows(flows.div_ceil(4), false, &mut rng);
        let udp6 = udp_flows(flows.div_ceil(40), true, &mut rng);
        Generator {
            rng,
            now_us: 0,
            buf: Vec::with_capacity(2048),
            scratch: Vec::with_capacity(2048),
            text: text_pool(),
            binary,
            tcp4,
            tcp6,
            udp4,
            udp6,
            pending_dns: [VecDeque::new(), VecDeque::new()],
            pending_arp: None,
            ip_id: 0,
            stats: Stats::default(),
        }
    }

    fn next_ip_id(&mut self) -> u16 {
        self.ip_id = self.ip_id.wrapping_add(1);
        self.ip_id
    }

    /// Builds the next frame into `self.buf`.
    fn next_packet(&mut self) {
        self.now_us += self.rng.range(1, 19);
        let r = self.rng.below(100);
        match r {
            0..=59 => self.tcp(false),
            60..=89 => self.udp(false),
            90..=94 => self.arp(),
            _ => {
                self.stats.ipv6 += 1;
                if self.rng.percent(70) {
                    self.tcp(true)
                } else {
                    self.udp(true)
                }
            }
        }
    }

    fn tcp(&mut self, v6: bool) {
        self.stats.tcp += 1;
        let flows = if v6 { &mut self.tcp6 } else { &mut self.tcp4 };
        let i = self.rng.below(flows.len() as u64) as usize;
        let mut ctx = Ctx {
            rng: &mut self.rng,
            now_us: self.now_us,
            buf: &mut self.buf,
            scratch: &mut self.scratch,
            text: &self.text,
            binary: &self.binary,
        };
        flows[i].step(&mut ctx);
    }

    fn udp(&mut self, v6: bool) {
        self.stats.udp += 1;
        if self.rng.percent(55) {
            self.dns(v6);
            return;
        }
        let flows = if v6 { &self.udp6 } else { &self.udp4 };
        let f = &flows[self.rng.below(flows.len() as u64) as usize];
        let len = if self.rng.percent(60) {
            self.rng.range(16, 200)
        } else {
            self.rng.range(200, 1200)
        } as usize;
        binary_payload(&mut self.rng, &self.binary, len, &mut self.scratch);
        let (from, to, ports) = if self.rng.percent(50) {
            (&f.client, &f.server, (f.cport, f.sport))
        } else {
            (&f.server, &f.client, (f.sport, f.cport))
        };
        self.ip_id = self.ip_id.wrapping_add(1);
        udp_packet(&mut self.buf, from, to, ports, self.ip_id, &self.scratch);
    }

    fn dns(&mut self, v6: bool) {
        self.stats.dns += 1;
        let id = self.next_ip_id();
        let pending = &mut self.pending_dns[usize::from(v6)];
        let answer_now = !pending.is_empty() && (pending.len() >= 16 || self.rng.percent(50));
        let msg = &mut self.scratch;
        msg.clear();
        if answer_now {
            let q = pending.pop_front().expect("checked non-empty");
            let nxdomain = self.rng.percent(5);
            let answers = match (nxdomain, q.qtype) {
                (true, _) => 0,
                (false, DNS_TYPE_AAAA) => 1,
                _ => self.rng.range(1, 3) as u16,
            };
            let flags = if nxdomain {
                DNS_FLAGS_RESPONSE | 3
            } else {
                DNS_FLAGS_RESPONSE
            };
            push_dns_header(msg, q.id, flags, [1, answers, 0, 0]);
            push_dns_question(msg, q.name, q.qtype);
            for _ in 0..answers {
                let ttl = self.rng.range(30, 86_400) as u32;
                if q.qtype == DNS_TYPE_AAAA {
                    let Addr::V6(a) = server(self.rng.below(SERVERS as u64) as usize, true).addr
                    else {
                        unreachable!()
                    };
                    push_dns_rr(msg, DNS_QNAME_OFFSET, DNS_TYPE_AAAA, ttl, &a);
                } else {
                    let Addr::V4(a) = server(self.rng.below(SERVERS as u64) as usize, false).addr
                    else {
                        unreachable!()
                    };
                    push_dns_rr(msg, DNS_QNAME_OFFSET, DNS_TYPE_A, ttl, &a);
                }
            }
            let resolver = if v6 { &RESOLVER_V6 } else { &RESOLVER };
            udp_packet(&mut self.buf, resolver, &q.client, (53, q.port), id, msg);
        } else {
            let q = PendingDns {
                client: client(self.rng.below(CLIENTS as u64) as usize, v6),
                port: self.rng.range(32768, 60999) as u16,
                id: self.rng.below(65536) as u16,
                name: DNS_NAMES[self.rng.below(DNS_NAMES.len() as u64) as usize],
                qtype: if self.rng.percent(65) {
                    DNS_TYPE_A
                } else {
                    DNS_TYPE_AAAA
                },
            };
            push_dns_header(msg, q.id, DNS_FLAGS_QUERY, [1, 0, 0, 0]);
            push_dns_question(msg, q.name, q.qtype);
            let resolver = if v6 { &RESOLVER_V6 } else { &RESOLVER };
            udp_packet(&mut self.buf, &q.client, resolver, (q.port, 53), id, msg);
            pending.push_back(q);
        }
    }

    fn arp(&mut self) {
        self.stats.arp += 1;
        self.buf.clear();
        match self.pending_arp.take() {
            Some(i) => {
                push_ethernet(&mut self.buf, ROUTER_MAC, client_mac(i), &[], ETHERTYPE_ARP);
                push_arp(
                    &mut self.buf,
                    ARP_REPLY,
                    client_mac(i),
                    client_v4(i),
                    ROUTER_MAC,
                    GATEWAY_V4,
                );
            }
            None => {
                let i = self.rng.below(CLIENTS as u64) as usize;
                push_ethernet(&mut self.buf, [0xff; 6], ROUTER_MAC, &[], ETHERTYPE_ARP);
                push_arp(
                    &mut self.buf,
                    ARP_REQUEST,
                    ROUTER_MAC,
                    GATEWAY_V4,
                    [0; 6],
                    client_v4(i),
                );
                self.pending_arp = Some(i);
            }
        }
        pad_frame(&mut self.buf);
    }
}

/// Writes `cfg.packets` frames; returns what was written.
pub fn generate<W: Write>(out: W, cfg: &Config) -> io::Result<Stats> {
    let mut g = Generator::new(cfg);
    let mut w = PcapWriter::new(out, LINKTYPE_ETHERNET)?;
    for _ in 0..cfg.packets {
        g.next_packet();
        w.write_packet(START_US + g.now_us, &g.buf)?;
    }
    let mut stats = g.stats;
    stats.packets = w.packets();
    stats.bytes = w.bytes();
    w.finish()?;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::*;

    fn generate_vec(cfg: &Config) -> (Vec<u8>, Stats) {
        let mut out = Vec::new();
        let stats = generate(&mut out, cfg).unwrap();
        (out, stats)
    }

    /// Splits a pcap file into (timestamp in µs, frame) records.
    fn records(file: &[u8]) -> Vec<(u64, &[u8])> {
        let mut at = 24;
        let mut out = Vec::new();
        while at < file.len() {
            let field = |i: usize| u32::from_le_bytes(file[at + i..at + i + 4].try_into().unwrap());
            let ts = u64::from(field(0)) * 1_000_000 + u64::from(field(4));
            let len = field(8) as usize;
            assert_eq!(field(12) as usize, len);
            out.push((ts, &file[at + 16..at + 16 + len]));
            at += 16 + len;
        }
        assert_eq!(at, file.len());
        out
    }

    #[test]
    fn deterministic_and_seed_dependent() {
        let cfg = Config {
            packets: 3000,
            ..Config::default()
        };
        let (a, sa) = generate_vec(&cfg);
        let (b, sb) = generate_vec(&cfg);
        assert_eq!(a, b);
        assert_eq!(sa, sb);
        assert_eq!(sa.bytes, a.len() as u64);
        let (c, _) = generate_vec(&Config { seed: 1, ..cfg });
        assert_ne!(a, c);
    }

    #[test]
    fn every_frame_checks_out() {
        let cfg = Config {
            packets: 30_000,
            flows: 200,
            ..Config::default()
        };
        let (file, stats) = generate_vec(&cfg);
        let recs = records(&file);
        assert_eq!(recs.len(), 30_000);
        assert_eq!(stats.packets, 30_000);
        assert_eq!(recs[0].0 / 1_000_000, START_US / 1_000_000);
        let mut tracker = TcpTracker::default();
        let (mut tcp, mut udp, mut dns, mut arp, mut v6) = (0, 0, 0, 0, 0);
        let (mut http_requests, mut http_responses, mut syns_with_options, mut with_ts) =
            (0, 0, 0, 0);
        let mut sizes = std::collections::BTreeSet::new();
        let mut last_ts = 0;
        for (ts, frame) in &recs {
            assert!(*ts > last_ts);
            last_ts = *ts;
            let info = check_frame(frame);
            assert!(info.fragment.is_none());
            match info.ethertype {
                ETHERTYPE_ARP => arp += 1,
                ETHERTYPE_IPV6 => v6 += 1,
                _ => {}
            }
            if let Some(t) = &info.tcp {
                tcp += 1;
                tracker.segment(info.pair.unwrap(), t);
                sizes.insert(t.payload.len());
                if t.flags & tcp_flags::SYN != 0 {
                    assert!(tcp_option(&t.options, 2).is_some(), "SYN without MSS");
                    syns_with_options += 1;
                }
                if tcp_option(&t.options, 8).is_some() {
                    with_ts += 1;
                }
                if t.payload.starts_with(b"GET ") {
                    assert_eq!(t.dport, 80);
                    assert!(t.payload.ends_with(b"\r\n\r\n"));
                    http_requests += 1;
                }
                if t.payload.starts_with(b"HTTP/1.1 200 OK\r\n") {
                    http_responses += 1;
                }
            }
            if let Some((sport, dport, payload)) = &info.udp {
                udp += 1;
                if *sport == 53 || *dport == 53 {
                    dns += 1;
                    assert_eq!(payload[4..6], [0, 1]); // one question
                }
            }
        }
        assert_eq!(tcp, stats.tcp);
        assert_eq!(udp, stats.udp);
        assert_eq!(dns, stats.dns);
        assert_eq!(arp, stats.arp);
        assert_eq!(v6, stats.ipv6);
        let pct = |n: u64| n * 100 / 30_000;
        assert!((57..=63).contains(&pct(tcp - v6 * 7 / 10)), "tcp {tcp}");
        assert!((27..=33).contains(&pct(udp)), "udp {udp}");
        assert!((4..=6).contains(&pct(arp)), "arp {arp}");
        assert!((4..=6).contains(&pct(v6)), "ipv6 {v6}");
        assert!(dns > udp / 3);
        assert!(http_requests > 100 && http_responses > 100);
        assert!(http_responses <= http_requests);
        assert!(syns_with_options > 500);
        assert!(with_ts * 100 / tcp >= 70, "timestamps on most segments");
        assert!(tracker.segments as u64 == tcp);
        assert_eq!(tracker.retransmissions, 0);
        assert!(sizes.contains(&0) && sizes.contains(&1448) && sizes.contains(&1460));
        assert!(sizes.len() > 500, "segment sizes should vary");
    }
}
