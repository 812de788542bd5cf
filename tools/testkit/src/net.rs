//! Byte-level builders for the headers of test and sample frames.
//!
//! Builders append to a `Vec<u8>`. A header whose length or checksum depends on what
//! follows it comes as a `begin_*` / `finish_*` pair: `begin_*` appends the header
//! with zeroed length and checksum fields and returns its offset in the buffer, the
//! caller appends everything the header covers, and `finish_*` patches the fields in
//! place. Finish inner layers before outer ones (TCP before IPv4).

use std::net::{IpAddr, SocketAddr};

pub use crate::checksum::*;

pub type Mac = [u8; 6];

pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_ARP: u16 = 0x0806;
pub const ETHERTYPE_VLAN: u16 = 0x8100;
pub const ETHERTYPE_QINQ: u16 = 0x88a8;
pub const ETHERTYPE_IPV6: u16 = 0x86dd;

pub const IPPROTO_HOPOPTS: u8 = 0;
pub const IPPROTO_ICMP: u8 = 1;
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;
pub const IPPROTO_ROUTING: u8 = 43;
pub const IPPROTO_FRAGMENT: u8 = 44;
pub const IPPROTO_ICMPV6: u8 = 58;
pub const IPPROTO_DSTOPTS: u8 = 60;

/// Shortest Ethernet frame without FCS; shorter frames are zero-padded.
pub const MIN_FRAME: usize = 60;

/// TCP header flag bits.
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
}

fn put_u16(buf: &mut [u8], at: usize, v: u16) {
    buf[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

// ---------------------------------------------------------------------------
// Link layer

/// An 802.1Q / 802.1ad tag: TPID plus the TCI fields.
#[derive(Clone, Copy, Debug)]
pub struct VlanTag {
    pub tpid: u16,
    pub pcp: u8,
    pub dei: bool,
    pub vid: u16,
}

impl VlanTag {
    /// Tag Control Information: PCP (3 bits), DEI (1 bit), VID (12 bits).
    pub fn tci(&self) -> u16 {
        (u16::from(self.pcp & 7) << 13) | (u16::from(self.dei) << 12) | (self.vid & 0x0fff)
    }
}

/// Ethernet II header, with `tags` (outermost first) between the source address and
/// the EtherType.
pub fn push_ethernet(buf: &mut Vec<u8>, dst: Mac, src: Mac, tags: &[VlanTag], ethertype: u16) {
    buf.extend_from_slice(&dst);
    buf.extend_from_slice(&src);
    for tag in tags {
        buf.extend_from_slice(&tag.tpid.to_be_bytes());
        buf.extend_from_slice(&tag.tci().to_be_bytes());
    }
    buf.extend_from_slice(&ethertype.to_be_bytes());
}

/// Zero-pads a frame to the 60-byte Ethernet minimum, as a receiving NIC delivers it.
pub fn pad_frame(buf: &mut Vec<u8>) {
    if buf.len() < MIN_FRAME {
        buf.resize(MIN_FRAME, 0);
    }
}

pub const ARP_REQUEST: u16 = 1;
pub const ARP_REPLY: u16 = 2;

/// ARP for IPv4 over Ethernet (RFC 826), 28 bytes.
pub fn push_arp(buf: &mut Vec<u8>, op: u16, sha: Mac, spa: [u8; 4], tha: Mac, tpa: [u8; 4]) {
    buf.extend_from_slice(&1u16.to_be_bytes()); // hardware type: Ethernet
    buf.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    buf.push(6);
    buf.push(4);
    buf.extend_from_slice(&op.to_be_bytes());
    buf.extend_from_slice(&sha);
    buf.extend_from_slice(&spa);
    buf.extend_from_slice(&tha);
    buf.extend_from_slice(&tpa);
}

// ---------------------------------------------------------------------------
// IPv4

/// IPv4 header fields. Total length and header checksum are filled by [`finish_ipv4`].
#[derive(Clone, Copy, Debug)]
pub struct Ipv4<'a> {
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub protocol: u8,
    pub id: u16,
    pub ttl: u8,
    pub tos: u8,
    pub dont_fragment: bool,
    pub more_fragments: bool,
    /// In 8-byte units.
    pub fragment_offset: u16,
    /// Raw option bytes, already padded to a multiple of 4 (at most 40).
    pub options: &'a [u8],
}

impl<'a> Ipv4<'a> {
    /// TTL 64, no options, not fragmented, DF clear.
    pub fn new(src: [u8; 4], dst: [u8; 4], protocol: u8, id: u16) -> Self {
        Ipv4 {
            src,
            dst,
            protocol,
            id,
            ttl: 64,
            tos: 0,
            dont_fragment: false,
            more_fragments: false,
            fragment_offset: 0,
            options: &[],
        }
    }

    pub fn pair(&self) -> IpPair {
        IpPair::V4 {
            src: self.src,
            dst: self.dst,
        }
    }
}

pub fn begin_ipv4(buf: &mut Vec<u8>, h: &Ipv4) -> usize {
    assert!(h.options.len() % 4 == 0 && h.options.len() <= 40);
    assert!(h.fragment_offset < 0x2000);
    let start = buf.len();
    let ihl = 5 + h.options.len() / 4;
    let flags_frag = (u16::from(h.dont_fragment) << 14)
        | (u16::from(h.more_fragments) << 13)
        | h.fragment_offset;
    buf.push(0x40 | ihl as u8);
    buf.push(h.tos);
    buf.extend_from_slice(&[0, 0]); // total length
    buf.extend_from_slice(&h.id.to_be_bytes());
    buf.extend_from_slice(&flags_frag.to_be_bytes());
    buf.push(h.ttl);
    buf.push(h.protocol);
    buf.extend_from_slice(&[0, 0]); // header checksum
    buf.extend_from_slice(&h.src);
    buf.extend_from_slice(&h.dst);
    buf.extend_from_slice(h.options);
    start
}

/// Sets total length to everything appended since [`begin_ipv4`] and computes the
/// header checksum.
pub fn finish_ipv4(buf: &mut [u8], start: usize) {
    let total = buf.len() - start;
    put_u16(
        buf,
        start + 2,
        u16::try_from(total).expect("IPv4 packet too long"),
    );
    let ihl = usize::from(buf[start] & 0x0f) * 4;
    put_u16(buf, start + 10, 0);
    let cs = internet_checksum(&buf[start..start + ihl]);
    put_u16(buf, start + 10, cs);
}

// ---------------------------------------------------------------------------
// IPv6

/// IPv6 fixed header fields. Payload length is filled by [`finish_ipv6`].
#[derive(Clone, Copy, Debug)]
pub struct Ipv6 {
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub next_header: u8,
    pub hop_limit: u8,
    pub traffic_class: u8,
    pub flow_label: u32,
}

impl Ipv6 {
    /// Hop limit 64, traffic class 0, flow label 0.
    pub fn new(src: [u8; 16], dst: [u8; 16], next_header: u8) -> Self {
        Ipv6 {
            src,
            dst,
            next_header,
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
        }
    }

    pub fn pair(&self) -> IpPair {
        IpPair::V6 {
            src: self.src,
            dst: self.dst,
        }
    }
}

pub fn begin_ipv6(buf: &mut Vec<u8>, h: &Ipv6) -> usize {
    let start = buf.len();
    let word = (6u32 << 28) | (u32::from(h.traffic_class) << 20) | (h.flow_label & 0x000f_ffff);
    buf.extend_from_slice(&word.to_be_bytes());
    buf.extend_from_slice(&[0, 0]); // payload length
    buf.push(h.next_header);
    buf.push(h.hop_limit);
    buf.extend_from_slice(&h.src);
    buf.extend_from_slice(&h.dst);
    start
}

/// Sets the payload length to everything appended after the 40-byte fixed header.
pub fn finish_ipv6(buf: &mut [u8], start: usize) {
    let len = buf.len() - start - 40;
    put_u16(
        buf,
        start + 4,
        u16::try_from(len).expect("IPv6 payload too long"),
    );
}

/// A Hop-by-Hop, Destination Options or Routing header: next header, header
/// extension length, then `body`. The whole header must be a multiple of 8 bytes.
pub fn push_ipv6_ext(buf: &mut Vec<u8>, next_header: u8, body: &[u8]) {
    let total = body.len() + 2;
    assert!(total % 8 == 0, "extension header not a multiple of 8 bytes");
    buf.push(next_header);
    buf.push((total / 8 - 1) as u8);
    buf.extend_from_slice(body);
}

/// IPv6 Fragment header (RFC 8200 section 4.5); `offset` in 8-byte units.
pub fn push_ipv6_fragment(buf: &mut Vec<u8>, next_header: u8, offset: u16, more: bool, id: u32) {
    assert!(offset < 0x2000);
    buf.push(next_header);
    buf.push(0);
    buf.extend_from_slice(&((offset << 3) | u16::from(more)).to_be_bytes());
    buf.extend_from_slice(&id.to_be_bytes());
}

// ---------------------------------------------------------------------------
// TCP

/// TCP header fields. Checksum is filled by [`finish_tcp`]; urgent pointer is 0.
#[derive(Clone, Copy, Debug)]
pub struct Tcp<'a> {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    /// Raw option bytes, a multiple of 4 (at most 40).
    pub options: &'a [u8],
}

pub fn begin_tcp(buf: &mut Vec<u8>, h: &Tcp) -> usize {
    assert!(h.options.len() % 4 == 0 && h.options.len() <= 40);
    let start = buf.len();
    let offset = 5 + h.options.len() / 4;
    buf.extend_from_slice(&h.sport.to_be_bytes());
    buf.extend_from_slice(&h.dport.to_be_bytes());
    buf.extend_from_slice(&h.seq.to_be_bytes());
    buf.extend_from_slice(&h.ack.to_be_bytes());
    buf.push((offset as u8) << 4);
    buf.push(h.flags);
    buf.extend_from_slice(&h.window.to_be_bytes());
    buf.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    buf.extend_from_slice(h.options);
    start
}

pub fn finish_tcp(buf: &mut [u8], start: usize, pair: IpPair) {
    put_u16(buf, start + 16, 0);
    let cs = transport_checksum(pair, IPPROTO_TCP, &buf[start..]);
    put_u16(buf, start + 16, cs);
}

/// Builds TCP options; every method appends one option.
#[derive(Clone, Copy, Debug)]
pub struct TcpOptions {
    bytes: [u8; 40],
    len: usize,
}

impl Default for TcpOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl TcpOptions {
    pub fn new() -> Self {
        TcpOptions {
            bytes: [0; 40],
            len: 0,
        }
    }

    fn push(mut self, data: &[u8]) -> Self {
        self.bytes[self.len..self.len + data.len()].copy_from_slice(data);
        self.len += data.len();
        self
    }

    pub fn nop(self) -> Self {
        self.push(&[1])
    }

    pub fn mss(self, mss: u16) -> Self {
        let m = mss.to_be_bytes();
        self.push(&[2, 4, m[0], m[1]])
    }

    pub fn window_scale(self, shift: u8) -> Self {
        self.push(&[3, 3, shift])
    }

    pub fn sack_permitted(self) -> Self {
        self.push(&[4, 2])
    }

    /// SACK blocks as (left edge, right edge) sequence numbers.
    pub fn sack(self, blocks: &[(u32, u32)]) -> Self {
        let mut s = self.push(&[5, (2 + 8 * blocks.len()) as u8]);
        for (l, r) in blocks {
            s = s.push(&l.to_be_bytes()).push(&r.to_be_bytes());
        }
        s
    }

    pub fn timestamps(self, tsval: u32, tsecr: u32) -> Self {
        self.push(&[8, 10])
            .push(&tsval.to_be_bytes())
            .push(&tsecr.to_be_bytes())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

// ---------------------------------------------------------------------------
// UDP, ICMP, ICMPv6

pub fn begin_udp(buf: &mut Vec<u8>, sport: u16, dport: u16) -> usize {
    let start = buf.len();
    buf.extend_from_slice(&sport.to_be_bytes());
    buf.extend_from_slice(&dport.to_be_bytes());
    buf.extend_from_slice(&[0, 0, 0, 0]); // length, checksum
    start
}

pub fn finish_udp(buf: &mut [u8], start: usize, pair: IpPair) {
    let len = buf.len() - start;
    put_u16(
        buf,
        start + 4,
        u16::try_from(len).expect("UDP datagram too long"),
    );
    put_u16(buf, start + 6, 0);
    let cs = match transport_checksum(pair, IPPROTO_UDP, &buf[start..]) {
        0 => 0xffff, // 0 means "no checksum" in UDP
        cs => cs,
    };
    put_u16(buf, start + 6, cs);
}

/// ICMP or ICMPv6 header: type, code, checksum, then the 4 type-specific bytes
/// (identifier and sequence number for echo, unused or MTU for errors).
pub fn begin_icmp(buf: &mut Vec<u8>, icmp_type: u8, code: u8, rest: [u8; 4]) -> usize {
    let start = buf.len();
    buf.push(icmp_type);
    buf.push(code);
    buf.extend_from_slice(&[0, 0]);
    buf.extend_from_slice(&rest);
    start
}

/// ICMP (IPv4) checksum: over the message only, no pseudo-header.
pub fn finish_icmp(buf: &mut [u8], start: usize) {
    put_u16(buf, start + 2, 0);
    let cs = internet_checksum(&buf[start..]);
    put_u16(buf, start + 2, cs);
}

/// ICMPv6 checksum: includes the IPv6 pseudo-header (RFC 4443 section 2.3).
pub fn finish_icmpv6(buf: &mut [u8], start: usize, pair: IpPair) {
    put_u16(buf, start + 2, 0);
    let cs = transport_checksum(pair, IPPROTO_ICMPV6, &buf[start..]);
    put_u16(buf, start + 2, cs);
}

/// Identifier and sequence number as the 4 type-specific bytes of an echo message.
pub fn echo_rest(id: u16, seq: u16) -> [u8; 4] {
    let i = id.to_be_bytes();
    let s = seq.to_be_bytes();
    [i[0], i[1], s[0], s[1]]
}

// ---------------------------------------------------------------------------
// Whole packets in one call, for tests that need a frame and not its details

/// Two locally administered MAC addresses for test frames.
pub const MAC_A: Mac = [0x02, 0xAA, 0xBB, 0xCC, 0xDD, 0x01];
pub const MAC_B: Mac = [0x02, 0xAA, 0xBB, 0xCC, 0xDD, 0x02];

/// An Ethernet II frame (no tags, no padding) around `payload`.
pub fn ethernet(dst: Mac, src: Mac, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    push_ethernet(&mut f, dst, src, &[], ethertype);
    f.extend_from_slice(payload);
    f
}

/// An IPv4 packet (no options, ID 0x1234, DF) carrying a UDP datagram; both checksums
/// are correct.
pub fn ipv4_udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut h = Ipv4::new(src, dst, IPPROTO_UDP, 0x1234);
    h.dont_fragment = true;
    let mut buf = Vec::with_capacity(28 + payload.len());
    let ip = begin_ipv4(&mut buf, &h);
    let udp = begin_udp(&mut buf, sport, dport);
    buf.extend_from_slice(payload);
    finish_udp(&mut buf, udp, h.pair());
    finish_ipv4(&mut buf, ip);
    buf
}

/// An IPv4 packet (no options, ID 0x1234, DF) carrying a TCP segment: PSH-ACK, seq
/// 1000, ack 2000, window 1024, no options; both checksums are correct.
pub fn ipv4_tcp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut h = Ipv4::new(src, dst, IPPROTO_TCP, 0x1234);
    h.dont_fragment = true;
    let tcp = Tcp {
        sport,
        dport,
        seq: 1000,
        ack: 2000,
        flags: tcp_flags::PSH | tcp_flags::ACK,
        window: 1024,
        options: &[],
    };
    let mut buf = Vec::with_capacity(40 + payload.len());
    let ip = begin_ipv4(&mut buf, &h);
    let seg = begin_tcp(&mut buf, &tcp);
    buf.extend_from_slice(payload);
    finish_tcp(&mut buf, seg, h.pair());
    finish_ipv4(&mut buf, ip);
    buf
}

/// An IPv4 or IPv6 packet (no options, no extension headers) carrying a TCP segment (no
/// options, window 65535); both checksums are correct. The IPv4 ID is the low half of
/// `seq`, so that retransmissions look alike.
pub fn ip_tcp(
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let tcp = Tcp {
        sport: src.port(),
        dport: dst.port(),
        seq,
        ack,
        flags,
        window: 65535,
        options: &[],
    };
    let mut buf = Vec::with_capacity(60 + payload.len());
    match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let h = Ipv4::new(s.octets(), d.octets(), IPPROTO_TCP, seq as u16);
            let ip = begin_ipv4(&mut buf, &h);
            let seg = begin_tcp(&mut buf, &tcp);
            buf.extend_from_slice(payload);
            finish_tcp(&mut buf, seg, h.pair());
            finish_ipv4(&mut buf, ip);
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let h = Ipv6::new(s.octets(), d.octets(), IPPROTO_TCP);
            let ip = begin_ipv6(&mut buf, &h);
            let seg = begin_tcp(&mut buf, &tcp);
            buf.extend_from_slice(payload);
            finish_tcp(&mut buf, seg, h.pair());
            finish_ipv6(&mut buf, ip);
        }
        _ => panic!("{src} and {dst} are not of one IP version"),
    }
    buf
}

/// An IPv4 packet without options cut in two fragments, the first carrying `first`
/// bytes of its payload (a multiple of 8).
pub fn ipv4_fragments(packet: &[u8], first: usize) -> [Vec<u8>; 2] {
    assert_eq!(
        first % 8,
        0,
        "fragments other than the last hold multiples of 8 bytes"
    );
    assert_eq!(packet[0], 0x45, "an IPv4 header without options");
    let (header, payload) = packet.split_at(20);
    let piece = |offset: usize, data: &[u8], more: bool| {
        let mut ip = header.to_vec();
        let flags = (offset / 8) as u16 | if more { 0x2000 } else { 0 };
        put_u16(&mut ip, 6, flags);
        ip.extend_from_slice(data);
        finish_ipv4(&mut ip, 0);
        ip
    };
    [
        piece(0, &payload[..first], true),
        piece(first, &payload[first..], false),
    ]
}

// ---------------------------------------------------------------------------
// DNS (RFC 1035 wire format)

pub const DNS_TYPE_A: u16 = 1;
pub const DNS_TYPE_CNAME: u16 = 5;
pub const DNS_TYPE_AAAA: u16 = 28;
pub const DNS_CLASS_IN: u16 = 1;
/// Standard query, recursion desired.
pub const DNS_FLAGS_QUERY: u16 = 0x0100;
/// Standard response, recursion desired and available, no error.
pub const DNS_FLAGS_RESPONSE: u16 = 0x8180;
/// Offset of the question name in a message: a compression pointer to it is 0xc00c.
pub const DNS_QNAME_OFFSET: u16 = 12;

pub fn push_dns_header(buf: &mut Vec<u8>, id: u16, flags: u16, counts: [u16; 4]) {
    buf.extend_from_slice(&id.to_be_bytes());
    buf.extend_from_slice(&flags.to_be_bytes());
    for c in counts {
        buf.extend_from_slice(&c.to_be_bytes());
    }
}

/// Appends a name as labels, ending with the root label unless `pointer` is given,
/// in which case the labels end with a compression pointer to that message offset.
pub fn push_dns_labels(buf: &mut Vec<u8>, labels: &str, pointer: Option<u16>) {
    for label in labels.split('.').filter(|l| !l.is_empty()) {
        assert!(label.len() < 64);
        buf.push(label.len() as u8);
        buf.extend_from_slice(label.as_bytes());
    }
    match pointer {
        Some(p) => buf.extend_from_slice(&(0xc000 | p).to_be_bytes()),
        None => buf.push(0),
    }
}

pub fn push_dns_question(buf: &mut Vec<u8>, name: &str, qtype: u16) {
    push_dns_labels(buf, name, None);
    buf.extend_from_slice(&qtype.to_be_bytes());
    buf.extend_from_slice(&DNS_CLASS_IN.to_be_bytes());
}

/// Resource record whose owner name is a compression pointer to `name_offset`.
pub fn push_dns_rr(buf: &mut Vec<u8>, name_offset: u16, rtype: u16, ttl: u32, rdata: &[u8]) {
    buf.extend_from_slice(&(0xc000 | name_offset).to_be_bytes());
    buf.extend_from_slice(&rtype.to_be_bytes());
    buf.extend_from_slice(&DNS_CLASS_IN.to_be_bytes());
    buf.extend_from_slice(&ttl.to_be_bytes());
    buf.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    buf.extend_from_slice(rdata);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_header_known_answer() {
        // A well-known sample header (Wikipedia, "Internet checksum"): 0xb861.
        let mut buf = Vec::new();
        let mut h = Ipv4::new([192, 168, 0, 1], [192, 168, 0, 199], IPPROTO_UDP, 0);
        h.dont_fragment = true;
        let start = begin_ipv4(&mut buf, &h);
        buf.resize(0x73, 0);
        finish_ipv4(&mut buf, start);
        assert_eq!(&buf[..4], &[0x45, 0x00, 0x00, 0x73]);
        assert_eq!(&buf[10..12], &[0xb8, 0x61]);
        assert_eq!(internet_checksum(&buf[..20]), 0);
    }

    #[test]
    fn ipv4_options_set_ihl() {
        let mut buf = Vec::new();
        let mut h = Ipv4::new([10, 0, 0, 1], [10, 0, 0, 2], IPPROTO_ICMP, 7);
        let opts = [0x94, 4, 0, 0, 1, 0, 0, 0];
        h.options = &opts;
        h.more_fragments = true;
        h.fragment_offset = 185;
        let start = begin_ipv4(&mut buf, &h);
        buf.extend_from_slice(&[0; 8]);
        finish_ipv4(&mut buf, start);
        assert_eq!(buf[0], 0x47);
        assert_eq!(u16::from_be_bytes([buf[2], buf[3]]), 36);
        assert_eq!(u16::from_be_bytes([buf[6], buf[7]]), 0x2000 | 185);
        assert_eq!(internet_checksum(&buf[..28]), 0);
    }

    #[test]
    fn udp_checksum_known_answer() {
        // Hand-computed: pseudo-header 0a00+0001+0a00+0002+0011+000a,
        // header 3039+0035+000a, data 6869 ("hi").
        let pair = IpPair::V4 {
            src: [10, 0, 0, 1],
            dst: [10, 0, 0, 2],
        };
        let mut buf = Vec::new();
        let start = begin_udp(&mut buf, 12345, 53);
        buf.extend_from_slice(b"hi");
        finish_udp(&mut buf, start, pair);
        let sum: u32 =
            0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 0x0011 + 0x000a + 0x3039 + 0x0035 + 0x000a + 0x6869;
        let folded = (sum & 0xffff) + (sum >> 16);
        assert_eq!(u16::from_be_bytes([buf[6], buf[7]]), !(folded as u16));
        assert_eq!(transport_checksum(pair, IPPROTO_UDP, &buf), 0);
    }

    #[test]
    fn tcp_and_icmpv6_checksums_verify() {
        let pair4 = IpPair::V4 {
            src: [192, 168, 1, 10],
            dst: [192, 168, 1, 1],
        };
        let opts = TcpOptions::new()
            .mss(1460)
            .sack_permitted()
            .timestamps(1, 0)
            .nop()
            .window_scale(7);
        assert_eq!(opts.as_bytes().len(), 20);
        let mut buf = Vec::new();
        let start = begin_tcp(
            &mut buf,
            &Tcp {
                sport: 51000,
                dport: 80,
                seq: 0xdead_beef,
                ack: 0,
                flags: tcp_flags::SYN,
                window: 64240,
                options: opts.as_bytes(),
            },
        );
        buf.extend_from_slice(b"odd");
        finish_tcp(&mut buf, start, pair4);
        assert_eq!(buf[12], 10 << 4);
        assert_eq!(transport_checksum(pair4, IPPROTO_TCP, &buf), 0);
        // Same bytes under different addresses must not verify.
        let other = IpPair::V4 {
            src: [192, 168, 1, 11],
            dst: [192, 168, 1, 1],
        };
        assert_ne!(transport_checksum(other, IPPROTO_TCP, &buf), 0);

        let mut src = [0u8; 16];
        src[0] = 0x20;
        src[1] = 0x01;
        src[15] = 0x10;
        let mut dst = src;
        dst[15] = 1;
        let pair6 = IpPair::V6 { src, dst };
        let mut buf = Vec::new();
        let start = begin_icmp(&mut buf, 128, 0, echo_rest(7, 1));
        buf.extend_from_slice(&[0x55; 13]);
        finish_icmpv6(&mut buf, start, pair6);
        assert_eq!(transport_checksum(pair6, IPPROTO_ICMPV6, &buf), 0);
    }

    #[test]
    fn whole_packets_have_correct_lengths_and_checksums() {
        let p = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 40000, 9, b"hello");
        assert_eq!(p.len(), 20 + 8 + 5);
        assert_eq!(u16::from_be_bytes([p[2], p[3]]), 33);
        assert_eq!(internet_checksum(&p[..20]), 0);
        let pair = IpPair::V4 {
            src: [10, 0, 0, 1],
            dst: [10, 0, 0, 2],
        };
        assert_eq!(transport_checksum(pair, IPPROTO_UDP, &p[20..]), 0);
        assert_eq!(u16::from_be_bytes([p[24], p[25]]), 13, "UDP length");

        let t = ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], 40000, 80, b"GET");
        assert_eq!((t[9], t[20 + 13]), (IPPROTO_TCP, 0x18), "TCP, PSH-ACK");
        assert_eq!(transport_checksum(pair, IPPROTO_TCP, &t[20..]), 0);

        let v6 = ip_tcp(
            "[2001:db8::1]:40000".parse().unwrap(),
            "[2001:db8::2]:80".parse().unwrap(),
            7,
            0,
            tcp_flags::SYN,
            b"",
        );
        assert_eq!(v6[0] >> 4, 6);
        assert_eq!(u16::from_be_bytes([v6[4], v6[5]]), 20, "payload length");
        let mut src = [0u8; 16];
        src[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        let mut dst = src;
        src[15] = 1;
        dst[15] = 2;
        assert_eq!(
            transport_checksum(IpPair::V6 { src, dst }, IPPROTO_TCP, &v6[40..]),
            0
        );
    }

    #[test]
    fn fragments_split_the_payload() {
        let p = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, &[7; 100]);
        let [a, b] = ipv4_fragments(&p, 48);
        assert_eq!((a.len(), b.len()), (20 + 48, 20 + 60));
        assert_eq!(u16::from_be_bytes([a[6], a[7]]), 0x2000, "MF, offset 0");
        assert_eq!(u16::from_be_bytes([b[6], b[7]]), 6, "no MF, offset 48 / 8");
        assert_eq!(internet_checksum(&a[..20]), 0);
        assert_eq!(internet_checksum(&b[..20]), 0);
        assert_eq!([&a[20..], &b[20..]].concat(), &p[20..]);
    }

    #[test]
    fn vlan_tci() {
        let tag = VlanTag {
            tpid: ETHERTYPE_VLAN,
            pcp: 3,
            dei: true,
            vid: 100,
        };
        assert_eq!(tag.tci(), 0x7064);
    }

    #[test]
    fn dns_names() {
        let mut buf = Vec::new();
        push_dns_labels(&mut buf, "www.example.com", None);
        assert_eq!(buf, b"\x03www\x07example\x03com\x00");
        buf.clear();
        push_dns_labels(&mut buf, "web", Some(16));
        assert_eq!(buf, b"\x03web\xc0\x10");
    }

    #[test]
    fn ipv6_fragment_header() {
        let mut buf = Vec::new();
        push_ipv6_fragment(&mut buf, IPPROTO_UDP, 176, false, 0x1234_5678);
        assert_eq!(buf, [17, 0, 0x05, 0x80, 0x12, 0x34, 0x56, 0x78]);
    }
}
