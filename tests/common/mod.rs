//! Helpers shared by the CLI, library and robustness tests: the demo capture and
//! variants of it rewritten in memory, hand-built pcap and pcapng files, hand-built
//! frames, and running the `pcapkit` binary.
//!
//! Tests only read `samples/demo.pcap` and bytes they build themselves.

#![allow(dead_code)]

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Number of frames in `samples/demo.pcap`.
pub const DEMO_FRAMES: usize = 44;

/// Every field path the CLI contract promises for `-e`.
pub const CONTRACT_FIELDS: &[&str] = &[
    "frame.number",
    "frame.time_epoch",
    "frame.len",
    "frame.cap_len",
    "frame.protocols",
    "ethernet.src",
    "ethernet.dst",
    "ethernet.type",
    "vlan.pcp",
    "vlan.dei",
    "vlan.vid",
    "vlan.type",
    "arp.htype",
    "arp.ptype",
    "arp.oper",
    "arp.sha",
    "arp.spa",
    "arp.tha",
    "arp.tpa",
    "ipv4.version",
    "ipv4.ihl",
    "ipv4.len",
    "ipv4.id",
    "ipv4.df",
    "ipv4.mf",
    "ipv4.offset",
    "ipv4.ttl",
    "ipv4.protocol",
    "ipv4.checksum",
    "ipv4.src",
    "ipv4.dst",
    "ipv6.flow_label",
    "ipv6.payload_len",
    "ipv6.next_header",
    "ipv6.hop_limit",
    "ipv6.src",
    "ipv6.dst",
    "ipv6_frag.id",
    "ipv6_frag.offset",
    "ipv6_frag.mf",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.seq",
    "tcp.ack",
    "tcp.flags",
    "tcp.window",
    "tcp.mss",
    "udp.srcport",
    "udp.dstport",
    "udp.len",
    "http.method",
    "http.uri",
    "http.status",
];

// ---------------------------------------------------------------------------------------
// The demo capture

pub fn demo_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/demo.pcap")
}

pub fn demo() -> Vec<u8> {
    std::fs::read(demo_path()).expect("samples/demo.pcap is readable")
}

/// A record of a classic pcap file: where its 16-byte header starts and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordPos {
    pub offset: usize,
    pub incl_len: usize,
}

impl RecordPos {
    /// First byte of the packet data.
    pub fn data(&self) -> usize {
        self.offset + 16
    }

    /// First byte after the record.
    pub fn end(&self) -> usize {
        self.offset + 16 + self.incl_len
    }
}

/// The records of a little-endian pcap file with 16-byte record headers (like demo.pcap).
pub fn records_le(pcap: &[u8]) -> Vec<RecordPos> {
    assert_eq!(&pcap[2..4], &[0xb2, 0xa1], "little-endian pcap");
    let mut out = Vec::new();
    let mut offset = 24;
    while offset + 16 <= pcap.len() {
        let incl_len = u32::from_le_bytes(pcap[offset + 8..offset + 12].try_into().unwrap());
        out.push(RecordPos {
            offset,
            incl_len: incl_len as usize,
        });
        offset += 16 + incl_len as usize;
    }
    assert_eq!(offset, pcap.len(), "records fill the file exactly");
    out
}

fn swap16(b: &mut [u8], at: usize) {
    b[at..at + 2].reverse();
}

fn swap32(b: &mut [u8], at: usize) {
    b[at..at + 4].reverse();
}

/// The same capture with big-endian headers (magic `a1 b2 c3 d4`, or `a1 b2 3c 4d`
/// for nanoseconds).
pub fn to_big_endian(pcap: &[u8]) -> Vec<u8> {
    let records = records_le(pcap);
    let mut out = pcap.to_vec();
    swap32(&mut out, 0); // magic
    swap16(&mut out, 4); // version major
    swap16(&mut out, 6); // version minor
    swap32(&mut out, 8); // thiszone
    swap32(&mut out, 12); // sigfigs
    swap32(&mut out, 16); // snaplen
    swap32(&mut out, 20); // network
    for r in records {
        for field in 0..4 {
            swap32(&mut out, r.offset + 4 * field);
        }
    }
    assert_eq!(&out[..2], &[0xa1, 0xb2]);
    out
}

/// The same capture with nanosecond timestamps (magic `4d 3c b2 a1`): every sub-second
/// part multiplied by 1000, plus `extra_ns` (below 1000).
pub fn to_nanosecond(pcap: &[u8], extra_ns: u32) -> Vec<u8> {
    assert!(extra_ns < 1000);
    let records = records_le(pcap);
    let mut out = pcap.to_vec();
    out[..4].copy_from_slice(&0xa1b2_3c4d_u32.to_le_bytes());
    for r in records {
        let at = r.offset + 4;
        let usec = u32::from_le_bytes(out[at..at + 4].try_into().unwrap());
        assert!(usec < 1_000_000);
        out[at..at + 4].copy_from_slice(&(usec * 1000 + extra_ns).to_le_bytes());
    }
    out
}

/// The same capture in the "modified" pcap format (magic `34 cd b2 a1`): 8 more bytes
/// (ifindex, protocol, pkt_type, pad) in every record header.
pub fn to_modified(pcap: &[u8]) -> Vec<u8> {
    let records = records_le(pcap);
    let mut out = pcap[..24].to_vec();
    out[..4].copy_from_slice(&0xa1b2_cd34_u32.to_le_bytes());
    for r in records {
        out.extend_from_slice(&pcap[r.offset..r.offset + 16]);
        out.extend_from_slice(&[3, 0, 0, 0, 0x00, 0x08, 0, 0]);
        out.extend_from_slice(&pcap[r.data()..r.end()]);
    }
    out
}

/// Sets the `incl_len` of a record (little-endian file) without touching the data.
pub fn set_incl_len(pcap: &mut [u8], record: RecordPos, incl_len: u32) {
    pcap[record.offset + 8..record.offset + 12].copy_from_slice(&incl_len.to_le_bytes());
}

/// A little-endian classic pcap file.
pub fn pcap_file(linktype: u32, records: &[PcapRecord]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4_u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&linktype.to_le_bytes());
    for r in records {
        out.extend_from_slice(&r.ts_sec.to_le_bytes());
        out.extend_from_slice(&r.ts_usec.to_le_bytes());
        out.extend_from_slice(&(r.data.len() as u32).to_le_bytes());
        out.extend_from_slice(&r.orig_len.to_le_bytes());
        out.extend_from_slice(&r.data);
    }
    out
}

pub struct PcapRecord {
    pub ts_sec: u32,
    pub ts_usec: u32,
    pub orig_len: u32,
    pub data: Vec<u8>,
}

impl PcapRecord {
    pub fn new(ts_sec: u32, ts_usec: u32, data: Vec<u8>) -> PcapRecord {
        PcapRecord {
            ts_sec,
            ts_usec,
            orig_len: data.len() as u32,
            data,
        }
    }
}

// ---------------------------------------------------------------------------------------
// pcapng

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Little,
    Big,
}

impl Order {
    pub fn u16(self, v: u16) -> [u8; 2] {
        match self {
            Order::Little => v.to_le_bytes(),
            Order::Big => v.to_be_bytes(),
        }
    }

    pub fn u32(self, v: u32) -> [u8; 4] {
        match self {
            Order::Little => v.to_le_bytes(),
            Order::Big => v.to_be_bytes(),
        }
    }

    pub fn u64(self, v: u64) -> [u8; 8] {
        match self {
            Order::Little => v.to_le_bytes(),
            Order::Big => v.to_be_bytes(),
        }
    }
}

fn pad4(v: &mut Vec<u8>) {
    while v.len() % 4 != 0 {
        v.push(0);
    }
}

/// A pcapng block: type, total length, body padded to 32 bits, total length.
pub fn block(order: Order, block_type: u32, body: &[u8]) -> Vec<u8> {
    let mut padded = body.to_vec();
    pad4(&mut padded);
    let total = (padded.len() + 12) as u32;
    let mut out = Vec::new();
    out.extend_from_slice(&order.u32(block_type));
    out.extend_from_slice(&order.u32(total));
    out.extend_from_slice(&padded);
    out.extend_from_slice(&order.u32(total));
    out
}

/// One option (code, length, value padded to 32 bits).
pub fn option(order: Order, code: u16, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&order.u16(code));
    out.extend_from_slice(&order.u16(value.len() as u16));
    out.extend_from_slice(value);
    pad4(&mut out);
    out
}

/// An option list: the options and `opt_endofopt`.
pub fn options(order: Order, opts: &[Vec<u8>]) -> Vec<u8> {
    let mut out: Vec<u8> = opts.concat();
    if !opts.is_empty() {
        out.extend_from_slice(&option(order, 0, &[]));
    }
    out
}

/// Section Header Block, version 1.0, unknown section length.
pub fn shb(order: Order, opts: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&order.u32(0x1a2b_3c4d));
    body.extend_from_slice(&order.u16(1));
    body.extend_from_slice(&order.u16(0));
    body.extend_from_slice(&order.u64(u64::MAX));
    body.extend_from_slice(&options(order, opts));
    block(order, 0x0a0d_0d0a, &body)
}

/// Interface Description Block.
pub fn idb(order: Order, linktype: u16, snaplen: u32, opts: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&order.u16(linktype));
    body.extend_from_slice(&order.u16(0));
    body.extend_from_slice(&order.u32(snaplen));
    body.extend_from_slice(&options(order, opts));
    block(order, 1, &body)
}

/// `if_tsresol`.
pub fn if_tsresol(order: Order, resol: u8) -> Vec<u8> {
    option(order, 9, &[resol])
}

/// `if_tsoffset`, seconds.
pub fn if_tsoffset(order: Order, secs: i64) -> Vec<u8> {
    option(order, 14, &order.u64(secs as u64))
}

/// Enhanced Packet Block; `ts` in the interface's units.
pub fn epb(order: Order, interface: u32, ts: u64, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&order.u32(interface));
    body.extend_from_slice(&order.u32((ts >> 32) as u32));
    body.extend_from_slice(&order.u32(ts as u32));
    body.extend_from_slice(&order.u32(data.len() as u32));
    body.extend_from_slice(&order.u32(data.len() as u32));
    body.extend_from_slice(data);
    pad4(&mut body);
    block(order, 6, &body)
}

/// Simple Packet Block (interface 0, no timestamp).
pub fn spb(order: Order, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&order.u32(data.len() as u32));
    body.extend_from_slice(data);
    block(order, 3, &body)
}

/// Obsolete Packet Block (type 2); `ts` in the interface's units.
pub fn opb(order: Order, interface: u16, ts: u64, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&order.u16(interface));
    body.extend_from_slice(&order.u16(0)); // drops
    body.extend_from_slice(&order.u32((ts >> 32) as u32));
    body.extend_from_slice(&order.u32(ts as u32));
    body.extend_from_slice(&order.u32(data.len() as u32));
    body.extend_from_slice(&order.u32(data.len() as u32));
    body.extend_from_slice(data);
    block(order, 2, &body)
}

// ---------------------------------------------------------------------------------------
// Frames

/// The IPv4 header checksum.
pub fn ipv4_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An IPv4 packet (no options) carrying UDP from `src` to `dst`.
pub fn ipv4_udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let total = 20 + udp_len;
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&(total as u16).to_be_bytes());
    ip.extend_from_slice(&0x1234u16.to_be_bytes()); // id
    ip.extend_from_slice(&0x4000u16.to_be_bytes()); // DF
    ip.push(64);
    ip.push(17);
    ip.extend_from_slice(&[0, 0]);
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    let sum = ipv4_checksum(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    ip.extend_from_slice(&sport.to_be_bytes());
    ip.extend_from_slice(&dport.to_be_bytes());
    ip.extend_from_slice(&(udp_len as u16).to_be_bytes());
    ip.extend_from_slice(&[0, 0]); // no checksum
    ip.extend_from_slice(payload);
    ip
}

/// An IPv4 packet (no options) carrying a TCP segment (PSH-ACK, no options, checksum
/// left zero) from `src` to `dst`.
pub fn ipv4_tcp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut ip = ipv4_udp(src, dst, 0, 0, &[]);
    ip.truncate(20);
    ip[9] = 6;
    ip[2..4].copy_from_slice(&((20 + 20 + payload.len()) as u16).to_be_bytes());
    ip[10..12].copy_from_slice(&[0, 0]);
    let sum = ipv4_checksum(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    ip.extend_from_slice(&sport.to_be_bytes());
    ip.extend_from_slice(&dport.to_be_bytes());
    ip.extend_from_slice(&1000u32.to_be_bytes()); // seq
    ip.extend_from_slice(&2000u32.to_be_bytes()); // ack
    ip.extend_from_slice(&[0x50, 0x18]); // doff 5, PSH ACK
    ip.extend_from_slice(&1024u16.to_be_bytes()); // window
    ip.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    ip.extend_from_slice(payload);
    ip
}

/// An Ethernet II frame.
pub fn ethernet(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

pub const MAC_A: [u8; 6] = [0x02, 0xAA, 0xBB, 0xCC, 0xDD, 0x01];
pub const MAC_B: [u8; 6] = [0x02, 0xAA, 0xBB, 0xCC, 0xDD, 0x02];

/// Ethernet / IPv4 / UDP to port 9 from 10.0.0.`host`.
pub fn eth_ipv4_udp(host: u8, payload: &[u8]) -> Vec<u8> {
    ethernet(
        MAC_B,
        MAC_A,
        0x0800,
        &ipv4_udp([10, 0, 0, host], [10, 0, 0, 254], 40000, 9, payload),
    )
}

// ---------------------------------------------------------------------------------------
// TCP conversations

/// TCP flags.
pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// An IPv4 or IPv6 packet (no options, no extension headers) carrying a TCP segment (no
/// options, checksum left zero).
pub fn ip_tcp(
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut tcp = Vec::with_capacity(20 + payload.len());
    tcp.extend_from_slice(&src.port().to_be_bytes());
    tcp.extend_from_slice(&dst.port().to_be_bytes());
    tcp.extend_from_slice(&seq.to_be_bytes());
    tcp.extend_from_slice(&ack.to_be_bytes());
    tcp.extend_from_slice(&[0x50, flags]);
    tcp.extend_from_slice(&65535u16.to_be_bytes()); // window
    tcp.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    tcp.extend_from_slice(payload);
    let mut ip = match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut ip = vec![0x45, 0];
            ip.extend_from_slice(&((20 + tcp.len()) as u16).to_be_bytes());
            ip.extend_from_slice(&(seq as u16).to_be_bytes()); // id
            ip.extend_from_slice(&[0, 0, 64, 6, 0, 0]);
            ip.extend_from_slice(&s.octets());
            ip.extend_from_slice(&d.octets());
            let sum = ipv4_checksum(&ip);
            ip[10..12].copy_from_slice(&sum.to_be_bytes());
            ip
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let mut ip = vec![0x60, 0, 0, 0];
            ip.extend_from_slice(&(tcp.len() as u16).to_be_bytes());
            ip.extend_from_slice(&[6, 64]);
            ip.extend_from_slice(&s.octets());
            ip.extend_from_slice(&d.octets());
            ip
        }
        _ => panic!("{src} and {dst} are not of one IP version"),
    };
    ip.extend_from_slice(&tcp);
    ip
}

/// An IPv4 packet (no options) cut in two fragments, the first carrying `first` bytes
/// of its payload (a multiple of 8).
pub fn ipv4_fragments(packet: &[u8], first: usize) -> [Vec<u8>; 2] {
    assert_eq!(first % 8, 0);
    let (header, payload) = packet.split_at(20);
    let piece = |offset: usize, data: &[u8], more: bool| {
        let mut ip = header.to_vec();
        ip[2..4].copy_from_slice(&((20 + data.len()) as u16).to_be_bytes());
        let flags = (offset / 8) as u16 | if more { 0x2000 } else { 0 };
        ip[6..8].copy_from_slice(&flags.to_be_bytes());
        ip[10..12].copy_from_slice(&[0, 0]);
        let sum = ipv4_checksum(&ip);
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        ip.extend_from_slice(data);
        ip
    };
    [
        piece(0, &payload[..first], true),
        piece(first, &payload[first..], false),
    ]
}

/// A TCP conversation between a client and a server over Ethernet, built segment by
/// segment with consistent sequence numbers; segments can be lost or reordered.
pub struct TcpConversation {
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// Next sequence number of the client, of the server.
    next: [u32; 2],
    /// IP packets, in capture order.
    pub packets: Vec<Vec<u8>>,
}

impl TcpConversation {
    /// `client` and `server` as `10.0.0.1:40000` or `[2001:db8::1]:80`.
    pub fn new(client: &str, server: &str) -> TcpConversation {
        TcpConversation {
            client: client.parse().expect("a socket address"),
            server: server.parse().expect("a socket address"),
            next: [1_000_000, 0xffff_fff0], // the server's wraps around
            packets: Vec::new(),
        }
    }

    fn ends(&self, from_client: bool) -> (SocketAddr, SocketAddr, usize) {
        if from_client {
            (self.client, self.server, 0)
        } else {
            (self.server, self.client, 1)
        }
    }

    /// The IP packet of a segment from one side; advances its sequence number.
    pub fn segment(&mut self, from_client: bool, flags: u8, payload: &[u8]) -> Vec<u8> {
        let (src, dst, d) = self.ends(from_client);
        let seq = self.next[d];
        let ack = if flags & ACK != 0 {
            self.next[1 - d]
        } else {
            0
        };
        let len = payload.len() as u32 + u32::from(flags & (SYN | FIN) != 0);
        self.next[d] = seq.wrapping_add(len);
        ip_tcp(src, dst, seq, ack, flags, payload)
    }

    /// SYN, SYN-ACK, ACK.
    pub fn handshake(&mut self) -> &mut Self {
        let syn = self.segment(true, SYN, b"");
        let syn_ack = self.segment(false, SYN | ACK, b"");
        let ack = self.segment(true, ACK, b"");
        self.packets.extend([syn, syn_ack, ack]);
        self
    }

    /// Data from one side, captured.
    pub fn send(&mut self, from_client: bool, payload: &[u8]) -> &mut Self {
        let p = self.segment(from_client, PSH | ACK, payload);
        self.packets.push(p);
        self
    }

    /// Data from one side that the capture missed.
    pub fn lose(&mut self, from_client: bool, payload: &[u8]) -> &mut Self {
        self.segment(from_client, PSH | ACK, payload);
        self
    }

    /// FIN from the client, FIN-ACK from the server, the client's last ACK.
    pub fn close(&mut self) -> &mut Self {
        let fin = self.segment(true, FIN | ACK, b"");
        let fin_ack = self.segment(false, FIN | ACK, b"");
        let ack = self.segment(true, ACK, b"");
        self.packets.extend([fin, fin_ack, ack]);
        self
    }

    /// The packets as Ethernet frames, one a millisecond.
    pub fn frames(&self) -> Vec<PcapRecord> {
        self.packets
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let ethertype = if p[0] >> 4 == 6 { 0x86dd } else { 0x0800 };
                PcapRecord::new(
                    1_700_000_000,
                    i as u32 * 1000,
                    ethernet(MAC_B, MAC_A, ethertype, p),
                )
            })
            .collect()
    }

    /// A pcap file of the conversation.
    pub fn pcap(&self) -> Vec<u8> {
        pcap_file(1, &self.frames())
    }
}

// ---------------------------------------------------------------------------------------
// Deterministic randomness

/// splitmix64.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.u64() % n as u64) as usize
    }

    /// A value for an integer field: often random, often small (so that lengths stay
    /// reasonable), sometimes one of `literals` (so that `x == 6` can hold).
    pub fn draw(&mut self, mask: u64, literals: &[u64]) -> u64 {
        match self.u64() % 4 {
            0 | 1 => self.u64() & mask,
            2 => (self.u64() % 64) & mask,
            _ if literals.is_empty() => self.u64() & mask,
            _ => literals[(self.u64() % literals.len() as u64) as usize] & mask,
        }
    }

    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for b in &mut out {
            *b = self.u64() as u8;
        }
        out
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.u64() as u8).collect()
    }
}

// ---------------------------------------------------------------------------------------
// Running the binary

pub fn pcapkit() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pcapkit"));
    // A backtrace must never be needed to tell what went wrong.
    cmd.env_remove("RUST_BACKTRACE");
    cmd.env_remove("RUST_LIB_BACKTRACE");
    cmd
}

/// Runs `pcapkit args...` with no standard input.
pub fn run<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    pcapkit()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("pcapkit runs")
}

/// Runs `pcapkit args...` in `dir`.
pub fn run_in<I, S>(dir: &Path, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    pcapkit()
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("pcapkit runs")
}

/// Runs `pcapkit args...` with `input` on standard input.
pub fn run_stdin<I, S>(args: I, input: &[u8]) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut child = pcapkit()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pcapkit starts");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // Write from a thread: the child may fill its output pipe before reading all input.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("pcapkit finishes");
    writer.join().unwrap();
    out
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the run did not crash: no panic message, no abort, no signal.
pub fn assert_no_crash(o: &Output, what: &str) {
    let err = stderr(o);
    assert!(
        !err.contains("panicked")
            && !err.contains("internal error")
            && !err.contains("RUST_BACKTRACE"),
        "{what}: pcapkit crashed: {err}"
    );
    assert!(
        o.status.code().is_some(),
        "{what}: pcapkit was killed by a signal: {:?}",
        o.status
    );
    assert_ne!(
        o.status.code(),
        Some(101),
        "{what}: pcapkit panicked: {err}"
    );
}

/// Asserts success and returns stdout.
pub fn ok(o: &Output) -> String {
    assert_no_crash(o, "run");
    assert!(
        o.status.success(),
        "pcapkit failed ({:?}): {}",
        o.status,
        stderr(o)
    );
    stdout(o)
}

/// Writes `bytes` to `dir/name`.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The `fields` output as a header and rows of cells.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn parse(text: &str) -> Table {
        assert!(
            text.ends_with('\n') || text.is_empty(),
            "ends with a newline"
        );
        let mut lines = text.lines();
        let header: Vec<String> = lines
            .next()
            .expect("a header line")
            .split('\t')
            .map(String::from)
            .collect();
        let rows: Vec<Vec<String>> = lines
            .map(|l| l.split('\t').map(String::from).collect())
            .collect();
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(
                row.len(),
                header.len(),
                "row {} has {} cells, the header {}",
                i + 1,
                row.len(),
                header.len()
            );
        }
        Table { header, rows }
    }

    fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    /// The cell of `name` in the row of frame `number` (1-based rows).
    pub fn get(&self, number: usize, name: &str) -> &str {
        &self.rows[number - 1][self.col(name)]
    }

    /// A whole column.
    pub fn column(&self, name: &str) -> Vec<&str> {
        let c = self.col(name);
        self.rows.iter().map(|r| r[c].as_str()).collect()
    }
}

/// Runs `pcapkit input -e f1 -e f2 ...` and parses the table.
pub fn fields_of(input: &Path, fields: &[&str]) -> Table {
    let mut args = vec![input.as_os_str().to_owned()];
    for f in fields {
        args.push("-e".into());
        args.push((*f).into());
    }
    Table::parse(&ok(&run(args)))
}

/// The keys of the top-level object of a JSON text, in document order.
pub fn top_level_keys(json: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut depth = 0usize;
    let mut chars = json.chars().peekable();
    // Whether the next string at depth 1 is a key.
    let mut expect_key = false;
    while let Some(c) = chars.next() {
        match c {
            '{' | '[' => {
                depth += 1;
                expect_key = depth == 1 && c == '{';
            }
            '}' | ']' => depth -= 1,
            ',' if depth == 1 => expect_key = true,
            '"' => {
                let mut s = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            s.push(c);
                            s.push(chars.next().unwrap());
                        }
                        '"' => break,
                        c => s.push(c),
                    }
                }
                if depth == 1 && expect_key {
                    keys.push(s);
                    expect_key = false;
                }
            }
            _ => {}
        }
    }
    keys
}
