//! Test-only frame parser: walks Ethernet / VLAN / ARP / IPv4 / IPv6 (with extension
//! headers) / TCP / UDP / ICMP / ICMPv6 independently of the builders, asserting
//! every length field and checksum it can check.

use pcapkit_testkit::net::*;

/// TCP fields the tests look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpInfo {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub options: Vec<u8>,
    pub payload: Vec<u8>,
}

/// A fragment of an IP datagram, to be reassembled by the caller.
#[derive(Clone, Debug)]
pub struct Fragment {
    pub id: u32,
    /// In bytes.
    pub offset: usize,
    pub more: bool,
    pub protocol: u8,
    /// Addresses for the reassembled datagram's pseudo-header.
    pub pair: IpPair,
    pub data: Vec<u8>,
}

#[derive(Clone, Debug, Default)]
pub struct Info {
    /// (TPID, TCI) of each tag, outermost first.
    pub tags: Vec<(u16, u16)>,
    pub ethertype: u16,
    pub arp_op: Option<u16>,
    pub ipv4_options: Vec<u8>,
    /// Next-header values of the IPv6 extension headers, in order.
    pub ipv6_ext: Vec<u8>,
    pub pair: Option<IpPair>,
    /// Upper-layer protocol number.
    pub protocol: Option<u8>,
    pub fragment: Option<Fragment>,
    pub tcp: Option<TcpInfo>,
    /// (source port, destination port, payload).
    pub udp: Option<(u16, u16, Vec<u8>)>,
    /// (type, code).
    pub icmp: Option<(u8, u8)>,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Parses and checks one Ethernet frame.
pub fn check_frame(frame: &[u8]) -> Info {
    assert!(frame.len() >= MIN_FRAME, "runt frame");
    assert!(frame.len() <= 1514, "frame over 1514 bytes");
    let mut info = Info::default();
    let mut at = 12;
    let mut ethertype = be16(frame, at);
    while ethertype == ETHERTYPE_VLAN || ethertype == ETHERTYPE_QINQ {
        info.tags.push((ethertype, be16(frame, at + 2)));
        at += 4;
        ethertype = be16(frame, at);
    }
    at += 2;
    info.ethertype = ethertype;
    let rest = &frame[at..];
    match ethertype {
        ETHERTYPE_ARP => {
            assert_eq!(&rest[..6], &[0, 1, 8, 0, 6, 4]);
            info.arp_op = Some(be16(rest, 6));
        }
        ETHERTYPE_IPV4 => check_ipv4(rest, &mut info),
        ETHERTYPE_IPV6 => check_ipv6(rest, &mut info),
        other => panic!("unexpected ethertype {other:#06x}"),
    }
    info
}

fn check_ipv4(p: &[u8], info: &mut Info) {
    assert_eq!(p[0] >> 4, 4);
    let ihl = usize::from(p[0] & 0x0f) * 4;
    assert!(ihl >= 20);
    assert_eq!(internet_checksum(&p[..ihl]), 0, "IPv4 header checksum");
    let total = usize::from(be16(p, 2));
    assert!(total <= p.len(), "IPv4 total length beyond frame");
    // Anything after `total` is Ethernet padding and must be zero.
    assert!(p[total..].iter().all(|&b| b == 0));
    if total < p.len() {
        assert!(14 + total < MIN_FRAME, "unexpected trailer");
    }
    info.ipv4_options = p[20..ihl].to_vec();
    let pair = IpPair::V4 {
        src: p[12..16].try_into().unwrap(),
        dst: p[16..20].try_into().unwrap(),
    };
    info.pair = Some(pair);
    let protocol = p[9];
    info.protocol = Some(protocol);
    let flags_frag = be16(p, 6);
    let more = flags_frag & 0x2000 != 0;
    let offset = usize::from(flags_frag & 0x1fff) * 8;
    let payload = &p[ihl..total];
    if more || offset != 0 {
        if more {
            assert_eq!(
                payload.len() % 8,
                0,
                "non-final fragment not a multiple of 8"
            );
        }
        info.fragment = Some(Fragment {
            id: u32::from(be16(p, 4)),
            offset,
            more,
            protocol,
            pair,
            data: payload.to_vec(),
        });
        return;
    }
    check_upper(protocol, pair, payload, info);
}

fn check_ipv6(p: &[u8], info: &mut Info) {
    assert_eq!(p[0] >> 4, 6);
    let payload_len = usize::from(be16(p, 4));
    assert!(
        40 + payload_len <= p.len(),
        "IPv6 payload length beyond frame"
    );
    let src: [u8; 16] = p[8..24].try_into().unwrap();
    let mut dst: [u8; 16] = p[24..40].try_into().unwrap();
    let end = 40 + payload_len;
    assert!(p[end..].iter().all(|&b| b == 0));
    let mut next = p[6];
    let mut at = 40;
    let mut fragment = None;
    loop {
        match next {
            IPPROTO_HOPOPTS | IPPROTO_DSTOPTS | IPPROTO_ROUTING => {
                info.ipv6_ext.push(next);
                let len = (usize::from(p[at + 1]) + 1) * 8;
                if next == IPPROTO_ROUTING && p[at + 2] == 2 {
                    assert_eq!(len, 24);
                    if p[at + 3] > 0 {
                        // Final destination: the home address.
                        dst = p[at + 8..at + 24].try_into().unwrap();
                    }
                } else if next != IPPROTO_ROUTING {
                    check_tlv_options(&p[at + 2..at + len]);
                }
                next = p[at];
                at += len;
            }
            IPPROTO_FRAGMENT => {
                info.ipv6_ext.push(next);
                let off = be16(p, at + 2);
                fragment = Some((
                    be32(p, at + 4),
                    usize::from(off >> 3) * 8,
                    off & 1 != 0,
                    p[at],
                ));
                next = p[at];
                at += 8;
            }
            _ => break,
        }
    }
    let pair = IpPair::V6 { src, dst };
    info.pair = Some(pair);
    info.protocol = Some(next);
    let payload = &p[at..end];
    if let Some((id, offset, more, protocol)) = fragment {
        if more {
            assert_eq!(payload.len() % 8, 0);
        }
        info.fragment = Some(Fragment {
            id,
            offset,
            more,
            protocol,
            pair,
            data: payload.to_vec(),
        });
        return;
    }
    check_upper(next, pair, payload, info);
}

/// Hop-by-Hop / Destination Options TLVs must exactly fill the header.
fn check_tlv_options(mut o: &[u8]) {
    while !o.is_empty() {
        if o[0] == 0 {
            o = &o[1..];
            continue;
        }
        let len = 2 + usize::from(o[1]);
        assert!(len <= o.len(), "option overruns its header");
        if o[0] == 1 {
            assert!(o[2..len].iter().all(|&b| b == 0), "PadN data must be zero");
        }
        o = &o[len..];
    }
}

/// Checks a complete (unfragmented or reassembled) upper-layer message.
pub fn check_upper(protocol: u8, pair: IpPair, m: &[u8], info: &mut Info) {
    match protocol {
        IPPROTO_TCP => {
            assert_eq!(transport_checksum(pair, IPPROTO_TCP, m), 0, "TCP checksum");
            let off = usize::from(m[12] >> 4) * 4;
            assert!(off >= 20 && off <= m.len());
            check_tcp_options(&m[20..off]);
            info.tcp = Some(TcpInfo {
                sport: be16(m, 0),
                dport: be16(m, 2),
                seq: be32(m, 4),
                ack: be32(m, 8),
                flags: m[13],
                options: m[20..off].to_vec(),
                payload: m[off..].to_vec(),
            });
        }
        IPPROTO_UDP => {
            assert_eq!(usize::from(be16(m, 4)), m.len(), "UDP length");
            assert_ne!(be16(m, 6), 0, "UDP checksum missing");
            assert_eq!(transport_checksum(pair, IPPROTO_UDP, m), 0, "UDP checksum");
            info.udp = Some((be16(m, 0), be16(m, 2), m[8..].to_vec()));
        }
        IPPROTO_ICMP => {
            assert!(matches!(pair, IpPair::V4 { .. }));
            assert_eq!(internet_checksum(m), 0, "ICMP checksum");
            info.icmp = Some((m[0], m[1]));
        }
        IPPROTO_ICMPV6 => {
            assert!(matches!(pair, IpPair::V6 { .. }));
            assert_eq!(
                transport_checksum(pair, IPPROTO_ICMPV6, m),
                0,
                "ICMPv6 checksum"
            );
            info.icmp = Some((m[0], m[1]));
        }
        other => panic!("unexpected protocol {other}"),
    }
}

/// TCP options must parse to exactly their space.
fn check_tcp_options(mut o: &[u8]) {
    while let Some(&kind) = o.first() {
        match kind {
            0 => {
                assert!(o.iter().all(|&b| b == 0));
                return;
            }
            1 => o = &o[1..],
            _ => {
                let len = usize::from(o[1]);
                let expected = match kind {
                    2 => Some(4),
                    3 => Some(3),
                    4 => Some(2),
                    8 => Some(10),
                    _ => None,
                };
                if let Some(e) = expected {
                    assert_eq!(len, e, "TCP option {kind} length");
                }
                if kind == 5 {
                    assert_eq!((len - 2) % 8, 0, "SACK option length");
                }
                assert!(len >= 2 && len <= o.len());
                o = &o[len..];
            }
        }
    }
}

/// Finds a TCP option's data (after kind and length).
pub fn tcp_option(options: &[u8], kind: u8) -> Option<&[u8]> {
    let mut o = options;
    while let Some(&k) = o.first() {
        match k {
            0 => return None,
            1 => o = &o[1..],
            _ => {
                let len = usize::from(o[1]);
                if k == kind {
                    return Some(&o[2..len]);
                }
                o = &o[len..];
            }
        }
    }
    None
}

/// Follows TCP connections, asserting sequence and acknowledgement numbers are
/// consistent: a segment either continues its direction's byte stream or
/// retransmits bytes already sent, and acknowledges nothing the other side has
/// not sent.
#[derive(Default)]
pub struct TcpTracker {
    /// Keyed by (source address bytes, source port, destination address bytes,
    /// destination port): next sequence number of that direction.
    next: std::collections::HashMap<(Vec<u8>, u16, Vec<u8>, u16), u32>,
    pub retransmissions: usize,
    pub segments: usize,
}

fn pair_bytes(pair: IpPair) -> (Vec<u8>, Vec<u8>) {
    match pair {
        IpPair::V4 { src, dst } => (src.to_vec(), dst.to_vec()),
        IpPair::V6 { src, dst } => (src.to_vec(), dst.to_vec()),
    }
}

impl TcpTracker {
    pub fn segment(&mut self, pair: IpPair, t: &TcpInfo) {
        use tcp_flags::*;
        self.segments += 1;
        let (src, dst) = pair_bytes(pair);
        let fwd = (src.clone(), t.sport, dst.clone(), t.dport);
        let rev = (dst, t.dport, src, t.sport);
        let len = t.payload.len() as u32 + u32::from(t.flags & (SYN | FIN) != 0);
        if t.flags & SYN != 0 {
            if t.flags & ACK == 0 {
                // A new connection reuses the 4-tuple from scratch.
                self.next.remove(&rev);
            }
            self.next.insert(fwd.clone(), t.seq.wrapping_add(len));
        } else {
            let next = *self.next.get(&fwd).expect("segment before SYN");
            if t.seq == next {
                self.next.insert(fwd.clone(), next.wrapping_add(len));
            } else {
                // Must lie entirely within what was already sent.
                let behind = next.wrapping_sub(t.seq);
                assert!(behind >= len && behind < 1 << 30, "sequence gap");
                self.retransmissions += 1;
            }
        }
        if t.flags & ACK != 0 {
            let peer_next = *self.next.get(&rev).expect("ACK before peer SYN");
            let ahead = peer_next.wrapping_sub(t.ack);
            assert!(ahead < 1 << 30, "acknowledges unsent data");
        }
    }
}

/// Reassembles fragments (any order), asserting they tile the datagram exactly.
pub fn reassemble(fragments: &[Fragment]) -> Vec<u8> {
    let mut sorted: Vec<&Fragment> = fragments.iter().collect();
    sorted.sort_by_key(|f| f.offset);
    let mut data = Vec::new();
    for (i, f) in sorted.iter().enumerate() {
        assert_eq!(f.offset, data.len(), "fragment gap or overlap");
        assert_eq!(f.more, i + 1 < sorted.len(), "MF flag");
        assert_eq!(f.id, sorted[0].id);
        data.extend_from_slice(&f.data);
    }
    data
}
