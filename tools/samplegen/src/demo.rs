//! The demo capture: 44 hand-scripted Ethernet frames, each group showing off one
//! dissector feature. The frame list is documented in README.md; keep them in sync.

use std::io::{self, Write};

use pcapkit_testkit::net::*;
use pcapkit_testkit::pcap::{PcapWriter, LINKTYPE_ETHERNET};

/// 2024-01-01T00:00:00Z, in microseconds since the Unix epoch.
pub const START_US: u64 = 1_704_067_200 * 1_000_000;

/// Number of frames [`frames`] returns.
pub const FRAME_COUNT: usize = 44;

/// One captured frame.
#[derive(Clone, Debug)]
pub struct Frame {
    /// Microseconds since the Unix epoch.
    pub ts_us: u64,
    pub data: Vec<u8>,
}

#[derive(Clone, Copy, Debug)]
struct Host {
    mac: Mac,
    ip: [u8; 4],
    ip6: [u8; 16],
}

const BROADCAST: Mac = [0xff; 6];

const CLIENT: Host = Host {
    mac: [0x00, 0x11, 0x22, 0x33, 0x44, 0x55],
    ip: [192, 168, 1, 10],
    ip6: ipv6_doc(0, 0x10),
};

const SERVER: Host = Host {
    mac: [0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb],
    ip: [192, 168, 1, 1],
    ip6: ipv6_doc(0, 0x1),
};

/// Hosts of the tagged VLAN 100 (frames 3 and 4).
const VLAN_CLIENT: [u8; 4] = [192, 168, 100, 10];
const VLAN_GATEWAY: [u8; 4] = [192, 168, 100, 1];

/// The client's care-of address, used with the type 2 routing header.
const CLIENT_CARE_OF: [u8; 16] = ipv6_doc(1, 0x10);

/// 2001:db8:`subnet`::`host`.
const fn ipv6_doc(subnet: u8, host: u8) -> [u8; 16] {
    [
        0x20, 0x01, 0x0d, 0xb8, 0, subnet, 0, 0, 0, 0, 0, 0, 0, 0, 0, host,
    ]
}

/// Which pseudo-random-free TCP options a demo segment carries.
#[derive(Clone, Copy)]
enum Opts<'a> {
    /// MSS 1460, SACK permitted, timestamps, NOP, window scale 7 (Linux SYN order).
    Syn,
    /// NOP, NOP, timestamps.
    Ts,
    /// NOP, NOP, timestamps, NOP, NOP, SACK blocks.
    TsSack(&'a [(u32, u32)]),
}

/// One TCP connection's endpoints and timestamp-option clocks.
struct Conv {
    client: Host,
    server: Host,
    cport: u16,
    sport: u16,
    /// Offsets added to the millisecond clock to form each side's TSval.
    client_ts_base: u32,
    server_ts_base: u32,
    /// The last TSval each side sent, echoed by the other side.
    client_last_ts: u32,
    server_last_ts: u32,
}

#[derive(Default)]
struct Demo {
    /// Microseconds since [`START_US`].
    now: u64,
    frames: Vec<Frame>,
    client_ip_id: u16,
    server_ip_id: u16,
}

impl Demo {
    fn wait(&mut self, delta_us: u64) {
        self.now += delta_us;
    }

    fn emit(&mut self, mut data: Vec<u8>) {
        pad_frame(&mut data);
        self.frames.push(Frame {
            ts_us: START_US + self.now,
            data,
        });
    }

    fn ip_id(&mut self, from_client: bool) -> u16 {
        let id = if from_client {
            &mut self.client_ip_id
        } else {
            &mut self.server_ip_id
        };
        *id = id.wrapping_add(1);
        *id
    }

    /// Ethernet + IPv4 + UDP with the default IPv4 header.
    fn udp4(&mut self, from: Host, to: Host, ports: (u16, u16), payload: &[u8]) -> Vec<u8> {
        let id = self.ip_id(from.ip == CLIENT.ip);
        let mut ip = Ipv4::new(from.ip, to.ip, IPPROTO_UDP, id);
        ip.dont_fragment = true;
        udp4_frame(from.mac, to.mac, &[], &ip, ports, payload)
    }

    fn tcp(&mut self, c: &mut Conv, seg: Segment) -> Vec<u8> {
        let ms = (self.now / 1000) as u32;
        let (from, to, sport, dport, tsval, tsecr) = if seg.from_client {
            let v = c.client_ts_base.wrapping_add(ms);
            c.client_last_ts = v;
            (c.client, c.server, c.cport, c.sport, v, c.server_last_ts)
        } else {
            let v = c.server_ts_base.wrapping_add(ms);
            c.server_last_ts = v;
            (c.server, c.client, c.sport, c.cport, v, c.client_last_ts)
        };
        let opts = match seg.opts {
            Opts::Syn => TcpOptions::new()
                .mss(1460)
                .sack_permitted()
                .timestamps(tsval, tsecr)
                .nop()
                .window_scale(7),
            Opts::Ts => TcpOptions::new().nop().nop().timestamps(tsval, tsecr),
            Opts::TsSack(blocks) => TcpOptions::new()
                .nop()
                .nop()
                .timestamps(tsval, tsecr)
                .nop()
                .nop()
                .sack(blocks),
        };
        let mut ip = Ipv4::new(from.ip, to.ip, IPPROTO_TCP, self.ip_id(seg.from_client));
        ip.dont_fragment = true;
        let mut buf = Vec::with_capacity(80 + seg.payload.len());
        push_ethernet(&mut buf, to.mac, from.mac, &[], ETHERTYPE_IPV4);
        let ip_start = begin_ipv4(&mut buf, &ip);
        let tcp_start = begin_tcp(
            &mut buf,
            &Tcp {
                sport,
                dport,
                seq: seg.seq,
                ack: seg.ack,
                flags: seg.flags,
                window: seg.window,
                options: opts.as_bytes(),
            },
        );
        buf.extend_from_slice(seg.payload);
        finish_tcp(&mut buf, tcp_start, ip.pair());
        finish_ipv4(&mut buf, ip_start);
        buf
    }

    /// Sends one TCP segment after `delta_us`.
    fn segment(&mut self, c: &mut Conv, delta_us: u64, seg: Segment) {
        self.wait(delta_us);
        let frame = self.tcp(c, seg);
        self.emit(frame);
    }
}

struct Segment<'a> {
    from_client: bool,
    seq: u32,
    ack: u32,
    flags: u8,
    window: u16,
    opts: Opts<'a>,
    payload: &'a [u8],
}

fn udp4_frame(
    src_mac: Mac,
    dst_mac: Mac,
    tags: &[VlanTag],
    ip: &Ipv4,
    ports: (u16, u16),
    payload: &[u8],
) -> Vec<u8> {
    let mut buf = Vec::with_capacity(64 + payload.len());
    push_ethernet(&mut buf, dst_mac, src_mac, tags, ETHERTYPE_IPV4);
    let ip_start = begin_ipv4(&mut buf, ip);
    let udp_start = begin_udp(&mut buf, ports.0, ports.1);
    buf.extend_from_slice(payload);
    finish_udp(&mut buf, udp_start, ip.pair());
    finish_ipv4(&mut buf, ip_start);
    buf
}

fn arp_frame(
    dst: Mac,
    tags: &[VlanTag],
    op: u16,
    sha: Mac,
    spa: [u8; 4],
    tha: Mac,
    tpa: [u8; 4],
) -> Vec<u8> {
    let mut buf = Vec::with_capacity(64);
    push_ethernet(&mut buf, dst, sha, tags, ETHERTYPE_ARP);
    push_arp(&mut buf, op, sha, spa, tha, tpa);
    buf
}

/// Linux `ping` payload: a 16-byte `struct timeval` (little-endian) then bytes
/// 0x10..=0x37, 56 bytes in all.
fn ping_payload(ts_us: u64) -> Vec<u8> {
    let mut p = Vec::with_capacity(56);
    p.extend_from_slice(&(ts_us / 1_000_000).to_le_bytes());
    p.extend_from_slice(&(ts_us % 1_000_000).to_le_bytes());
    p.extend(0x10u8..=0x37);
    p
}

/// Deterministic filler: the byte at index i is `i mod 251` (a prime, so the
/// pattern does not line up with fragment boundaries).
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Frames 1-4: ARP on the native LAN, ARP inside 802.1Q, IPv4/UDP inside QinQ.
fn link_layer(d: &mut Demo) {
    // 1: who-has 192.168.1.1 tell 192.168.1.10
    d.wait(0);
    d.emit(arp_frame(
        BROADCAST,
        &[],
        ARP_REQUEST,
        CLIENT.mac,
        CLIENT.ip,
        [0; 6],
        SERVER.ip,
    ));
    // 2: 192.168.1.1 is-at 66:77:88:99:aa:bb
    d.wait(182);
    d.emit(arp_frame(
        CLIENT.mac,
        &[],
        ARP_REPLY,
        SERVER.mac,
        SERVER.ip,
        CLIENT.mac,
        CLIENT.ip,
    ));

    // 3: the same question on VLAN 100, priority 3, drop eligible.
    let c_tag = VlanTag {
        tpid: ETHERTYPE_VLAN,
        pcp: 3,
        dei: true,
        vid: 100,
    };
    d.wait(10_250);
    d.emit(arp_frame(
        BROADCAST,
        &[c_tag],
        ARP_REQUEST,
        CLIENT.mac,
        VLAN_CLIENT,
        [0; 6],
        VLAN_GATEWAY,
    ));

    // 4: an NTP client request on C-VLAN 100 inside provider S-VLAN 200.
    let s_tag = VlanTag {
        tpid: ETHERTYPE_QINQ,
        pcp: 0,
        dei: false,
        vid: 200,
    };
    let inner = VlanTag {
        tpid: ETHERTYPE_VLAN,
        pcp: 0,
        dei: false,
        vid: 100,
    };
    d.wait(4_870);
    let mut ntp = vec![0u8; 48];
    ntp[0] = 0x23; // LI 0, version 4, mode 3 (client)
    ntp[2] = 6; // poll 2^6 s
    ntp[3] = 0xe9; // precision 2^-23 s
    let now = START_US + d.now;
    let ntp_secs = (now / 1_000_000 + 2_208_988_800) as u32; // NTP era 0 starts 1900
    let ntp_frac = (((now % 1_000_000) << 32) / 1_000_000) as u32;
    ntp[40..44].copy_from_slice(&ntp_secs.to_be_bytes());
    ntp[44..48].copy_from_slice(&ntp_frac.to_be_bytes());
    let mut ip = Ipv4::new(VLAN_CLIENT, VLAN_GATEWAY, IPPROTO_UDP, 0x5c21);
    ip.dont_fragment = true;
    ip.tos = 0xb8; // DSCP EF
    d.emit(udp4_frame(
        CLIENT.mac,
        SERVER.mac,
        &[s_tag, inner],
        &ip,
        (123, 123),
        &ntp,
    ));
}

/// DNS message for www.example.com: a query, or a response answering with a CNAME
/// to web.example.com and that name's address.
fn dns_message(id: u16, qtype: u16, answer: Option<&[u8]>) -> Vec<u8> {
    let mut m = Vec::with_capacity(96);
    let (flags, an) = match answer {
        Some(_) => (DNS_FLAGS_RESPONSE, 2),
        None => (DNS_FLAGS_QUERY, 0),
    };
    push_dns_header(&mut m, id, flags, [1, an, 0, 0]);
    push_dns_question(&mut m, "www.example.com", qtype);
    if let Some(rdata) = answer {
        // www.example.com CNAME web.example.com, "example.com" compressed to the
        // question name's second label (offset 12 + 4).
        let mut cname = Vec::new();
        push_dns_labels(&mut cname, "web", Some(DNS_QNAME_OFFSET + 4));
        let cname_rdata_at = m.len() + 12;
        push_dns_rr(&mut m, DNS_QNAME_OFFSET, DNS_TYPE_CNAME, 3600, &cname);
        // web.example.com A/AAAA, owner name pointing into the CNAME's rdata.
        push_dns_rr(&mut m, cname_rdata_at as u16, qtype, 300, rdata);
    }
    m
}

/// Frames 5-8: DNS A and AAAA lookups of www.example.com.
fn dns(d: &mut Demo) {
    let resolver = (53001, 53);
    d.wait(212_400);
    let q = dns_message(0x1a2b, DNS_TYPE_A, None);
    let f = d.udp4(CLIENT, SERVER, resolver, &q);
    d.emit(f);
    d.wait(120);
    let q = dns_message(0x3c4d, DNS_TYPE_AAAA, None);
    let f = d.udp4(CLIENT, SERVER, (53002, 53), &q);
    d.emit(f);
    d.wait(1_340);
    let r = dns_message(0x1a2b, DNS_TYPE_A, Some(&SERVER.ip));
    let f = d.udp4(SERVER, CLIENT, (53, 53001), &r);
    d.emit(f);
    d.wait(95);
    let r = dns_message(0x3c4d, DNS_TYPE_AAAA, Some(&SERVER.ip6));
    let f = d.udp4(SERVER, CLIENT, (53, 53002), &r);
    d.emit(f);
}

const HTTP_REQUEST: &[u8] = b"GET /index.html HTTP/1.1\r\n\
Host: www.example.com\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: identity\r\n\
\r\n";

const HTTP_BODY: &str = "<!DOCTYPE html>
<html>
<head>
<meta charset=\"utf-8\">
<title>pcapkit demo</title>
</head>
<body>
<h1>It works!</h1>
<p>This page was served inside a synthetic capture written by pcapkit-samplegen.</p>
</body>
</html>
";

fn http_response_head(body_len: usize) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\n\
Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n\
Server: Apache/2.4.58 (Unix)\r\n\
Last-Modified: Sun, 31 Dec 2023 12:00:00 GMT\r\n\
ETag: \"{body_len:x}-60dcf4a1b2c00\"\r\n\
Accept-Ranges: bytes\r\n\
Content-Length: {body_len}\r\n\
Content-Type: text/html; charset=UTF-8\r\n\
Connection: close\r\n\
\r\n"
    )
    .into_bytes()
}

/// Frames 9-21: an HTTP/1.1 exchange on port 80. The response goes out as two
/// segments; the capture point is next to the server and the first segment is
/// lost after it, so the client SACKs the second, the server retransmits the
/// first, then the server closes (Connection: close).
fn http_port_80(d: &mut Demo) {
    use tcp_flags::*;
    let mut c = Conv {
        client: CLIENT,
        server: SERVER,
        cport: 51000,
        sport: 80,
        client_ts_base: 2_841_377_010,
        server_ts_base: 917_113_402,
        client_last_ts: 0,
        server_last_ts: 0,
    };
    let c_isn: u32 = 0x8f3a_21c0;
    let s_isn: u32 = 0x1d4e_7b02;
    let head = http_response_head(HTTP_BODY.len());
    let body = HTTP_BODY.as_bytes();
    let c1 = c_isn.wrapping_add(1);
    let s1 = s_isn.wrapping_add(1);
    let c2 = c1.wrapping_add(HTTP_REQUEST.len() as u32); // after the request
    let s_body = s1.wrapping_add(head.len() as u32);
    let s2 = s_body.wrapping_add(body.len() as u32); // after the response
    let seg = |from_client, seq, ack, flags, window, opts, payload| Segment {
        from_client,
        seq,
        ack,
        flags,
        window,
        opts,
        payload,
    };
    d.wait(8_120);
    d.segment(&mut c, 0, seg(true, c_isn, 0, SYN, 64240, Opts::Syn, &[]));
    d.segment(
        &mut c,
        312,
        seg(false, s_isn, c1, SYN | ACK, 65160, Opts::Syn, &[]),
    );
    d.segment(&mut c, 95, seg(true, c1, s1, ACK, 502, Opts::Ts, &[]));
    d.segment(
        &mut c,
        120,
        seg(true, c1, s1, PSH | ACK, 502, Opts::Ts, HTTP_REQUEST),
    );
    d.segment(&mut c, 410, seg(false, s1, c2, ACK, 509, Opts::Ts, &[]));
    d.segment(&mut c, 1_850, seg(false, s1, c2, ACK, 509, Opts::Ts, &head));
    d.segment(
        &mut c,
        35,
        seg(false, s_body, c2, PSH | ACK, 509, Opts::Ts, body),
    );
    let sack = [(s_body, s2)];
    d.segment(
        &mut c,
        1_210,
        seg(true, c2, s1, ACK, 502, Opts::TsSack(&sack), &[]),
    );
    d.segment(&mut c, 60, seg(false, s1, c2, ACK, 509, Opts::Ts, &head));
    d.segment(&mut c, 415, seg(true, c2, s2, ACK, 501, Opts::Ts, &[]));
    d.segment(
        &mut c,
        70,
        seg(false, s2, c2, FIN | ACK, 509, Opts::Ts, &[]),
    );
    let s3 = s2.wrapping_add(1);
    d.segment(
        &mut c,
        260,
        seg(true, c2, s3, FIN | ACK, 501, Opts::Ts, &[]),
    );
    d.segment(
        &mut c,
        310,
        seg(false, s3, c2.wrapping_add(1), ACK, 509, Opts::Ts, &[]),
    );
}

const API_REQUEST: &[u8] = b"GET /api/v1/status HTTP/1.1\r\n\
Host: 192.168.1.1:8081\r\n\
User-Agent: curl/8.5.0\r\n\
Accept: application/json\r\n\
\r\n";

const API_BODY: &str = "{\"status\":\"ok\",\"uptime\":86400,\"version\":\"1.4.2\"}\n";

/// Frames 22-30: HTTP on TCP port 8081, which no port table maps to HTTP.
fn http_other_port(d: &mut Demo) {
    use tcp_flags::*;
    let mut c = Conv {
        client: CLIENT,
        server: SERVER,
        cport: 51002,
        sport: 8081,
        client_ts_base: 2_841_377_010,
        server_ts_base: 917_113_402,
        client_last_ts: 0,
        server_last_ts: 0,
    };
    let response = format!(
        "HTTP/1.1 200 OK\r\n\
Content-Type: application/json\r\n\
Content-Length: {}\r\n\
\r\n{API_BODY}",
        API_BODY.len()
    )
    .into_bytes();
    let c_isn: u32 = 0x0419_7c3e;
    let s_isn: u32 = 0xb26d_0e55;
    let c1 = c_isn.wrapping_add(1);
    let s1 = s_isn.wrapping_add(1);
    let c2 = c1.wrapping_add(API_REQUEST.len() as u32);
    let s2 = s1.wrapping_add(response.len() as u32);
    let seg = |from_client, seq, ack, flags, opts, payload| Segment {
        from_client,
        seq,
        ack,
        flags,
        window: if from_client { 502 } else { 509 },
        opts,
        payload,
    };
    d.wait(152_006);
    d.segment(
        &mut c,
        0,
        Segment {
            window: 64240,
            ..seg(true, c_isn, 0, SYN, Opts::Syn, &[])
        },
    );
    d.segment(
        &mut c,
        288,
        Segment {
            window: 65160,
            ..seg(false, s_isn, c1, SYN | ACK, Opts::Syn, &[])
        },
    );
    d.segment(&mut c, 84, seg(true, c1, s1, ACK, Opts::Ts, &[]));
    d.segment(
        &mut c,
        133,
        seg(true, c1, s1, PSH | ACK, Opts::Ts, API_REQUEST),
    );
    d.segment(
        &mut c,
        2_705,
        seg(false, s1, c2, PSH | ACK, Opts::Ts, &response),
    );
    d.segment(&mut c, 301, seg(true, c2, s2, ACK, Opts::Ts, &[]));
    d.segment(&mut c, 1_044, seg(true, c2, s2, FIN | ACK, Opts::Ts, &[]));
    let c3 = c2.wrapping_add(1);
    d.segment(&mut c, 390, seg(false, s2, c3, FIN | ACK, Opts::Ts, &[]));
    d.segment(
        &mut c,
        77,
        seg(true, c3, s2.wrapping_add(1), ACK, Opts::Ts, &[]),
    );
}

fn icmp4_frame(from: Host, to: Host, ip: &Ipv4, icmp: (u8, u8, [u8; 4]), data: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(128);
    push_ethernet(&mut buf, to.mac, from.mac, &[], ETHERTYPE_IPV4);
    let ip_start = begin_ipv4(&mut buf, ip);
    let icmp_start = begin_icmp(&mut buf, icmp.0, icmp.1, icmp.2);
    buf.extend_from_slice(data);
    finish_icmp(&mut buf, icmp_start);
    finish_ipv4(&mut buf, ip_start);
    buf
}

/// Record Route option as Linux `ping -R` sends it: NOP, then RR with room for
/// nine addresses, `recorded` filled in. 40 bytes.
fn record_route(recorded: &[[u8; 4]]) -> Vec<u8> {
    let mut o = vec![0u8; 40];
    o[0] = 1; // NOP
    o[1] = 7; // RR
    o[2] = 39;
    o[3] = 4 + 4 * recorded.len() as u8; // pointer to the next free slot
    for (i, addr) in recorded.iter().enumerate() {
        o[4 + 4 * i..8 + 4 * i].copy_from_slice(addr);
    }
    o
}

/// Frames 31-35: ICMP echo, echo with Record Route, UDP with Router Alert.
fn icmp_and_ip_options(d: &mut Demo) {
    for (seq, rr) in [(1u16, false), (2, true)] {
        let id = 0x4a2f;
        d.wait(if seq == 1 { 734_511 } else { 1_000_212 });
        let data = ping_payload(START_US + d.now);
        let rr_request = record_route(&[CLIENT.ip]);
        let rr_reply = record_route(&[CLIENT.ip, SERVER.ip, SERVER.ip]);
        let mut ip = Ipv4::new(CLIENT.ip, SERVER.ip, IPPROTO_ICMP, d.ip_id(true));
        ip.dont_fragment = true;
        if rr {
            ip.options = &rr_request;
        }
        d.emit(icmp4_frame(
            CLIENT,
            SERVER,
            &ip,
            (8, 0, echo_rest(id, seq)),
            &data,
        ));
        d.wait(if rr { 351 } else { 286 });
        let mut ip = Ipv4::new(SERVER.ip, CLIENT.ip, IPPROTO_ICMP, d.ip_id(false));
        if rr {
            ip.options = &rr_reply;
        }
        d.emit(icmp4_frame(
            SERVER,
            CLIENT,
            &ip,
            (0, 0, echo_rest(id, seq)),
            &data,
        ));
    }

    // Router Alert (RFC 2113, value 0 = "examine packet"), then NOP, EOL and
    // zero padding to the 4-byte boundary.
    let options = [0x94, 0x04, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00];
    let mut ip = Ipv4::new(CLIENT.ip, SERVER.ip, IPPROTO_UDP, d.ip_id(true));
    ip.tos = 0xc0; // network control
    ip.options = &options;
    d.wait(512_009);
    d.emit(udp4_frame(
        CLIENT.mac,
        SERVER.mac,
        &[],
        &ip,
        (50010, 9),
        b"router alert demo\n",
    ));
}

/// Frames 36-38: a 3000-byte UDP datagram (8-byte header + 2992 bytes) in three
/// IPv4 fragments of 1480, 1480 and 40 bytes, offsets 0, 185 and 370.
fn ipv4_fragments(d: &mut Demo) {
    let pair = IpPair::V4 {
        src: CLIENT.ip,
        dst: SERVER.ip,
    };
    let mut datagram = Vec::new();
    let start = begin_udp(&mut datagram, 50020, 9);
    datagram.extend_from_slice(&pattern(2992));
    finish_udp(&mut datagram, start, pair);
    assert_eq!(datagram.len(), 3000);

    let id = d.ip_id(true);
    d.wait(488_120);
    for (i, chunk) in datagram.chunks(1480).enumerate() {
        let offset = i * 1480;
        let mut ip = Ipv4::new(CLIENT.ip, SERVER.ip, IPPROTO_UDP, id);
        ip.fragment_offset = (offset / 8) as u16;
        ip.more_fragments = offset + chunk.len() < datagram.len();
        let mut buf = Vec::with_capacity(1514);
        push_ethernet(&mut buf, SERVER.mac, CLIENT.mac, &[], ETHERTYPE_IPV4);
        let ip_start = begin_ipv4(&mut buf, &ip);
        buf.extend_from_slice(chunk);
        finish_ipv4(&mut buf, ip_start);
        d.wait(if i == 0 { 0 } else { 12 });
        d.emit(buf);
    }
}

/// Frames 39-40: UDP to a closed port and the ICMP port unreachable it provokes,
/// which quotes the offending IPv4 header plus the first 8 bytes of its payload
/// (the UDP header), as RFC 792 requires.
fn port_unreachable(d: &mut Demo) {
    let id = d.ip_id(true);
    let mut ip = Ipv4::new(CLIENT.ip, SERVER.ip, IPPROTO_UDP, id);
    ip.dont_fragment = true;
    let probe = udp4_frame(
        CLIENT.mac,
        SERVER.mac,
        &[],
        &ip,
        (50030, 33333),
        b"hello, is anyone listening?",
    );
    let quoted = probe[14..14 + 20 + 8].to_vec();
    d.wait(301_777);
    d.emit(probe);

    let mut ip = Ipv4::new(SERVER.ip, CLIENT.ip, IPPROTO_ICMP, d.ip_id(false));
    ip.tos = 0xc0;
    d.wait(140);
    d.emit(icmp4_frame(SERVER, CLIENT, &ip, (3, 3, [0; 4]), &quoted));
}

/// Frames 41-44: ICMPv6 echo, then a UDP datagram over IPv6 in two fragments, each
/// carrying Hop-by-Hop, Destination Options, type 2 Routing and Fragment headers.
fn ipv6(d: &mut Demo) {
    d.wait(409_330);
    let data = ping_payload(START_US + d.now);
    for (from, to, icmp_type, delta) in [(CLIENT, SERVER, 128u8, 0u64), (SERVER, CLIENT, 129, 244)]
    {
        d.wait(delta);
        let ip = Ipv6::new(from.ip6, to.ip6, IPPROTO_ICMPV6);
        let mut buf = Vec::with_capacity(128);
        push_ethernet(&mut buf, to.mac, from.mac, &[], ETHERTYPE_IPV6);
        let ip_start = begin_ipv6(&mut buf, &ip);
        let icmp_start = begin_icmp(&mut buf, icmp_type, 0, echo_rest(0x2f1a, 1));
        buf.extend_from_slice(&data);
        finish_icmpv6(&mut buf, icmp_start, ip.pair());
        finish_ipv6(&mut buf, ip_start);
        d.emit(buf);
    }

    // Server (correspondent node) to the client's care-of address; the type 2
    // routing header carries the client's home address, which is the final
    // destination and so the address the UDP pseudo-header uses.
    let final_pair = IpPair::V6 {
        src: SERVER.ip6,
        dst: CLIENT.ip6,
    };
    let mut datagram = Vec::new();
    let start = begin_udp(&mut datagram, 40001, 9);
    datagram.extend_from_slice(&pattern(1992));
    finish_udp(&mut datagram, start, final_pair);
    assert_eq!(datagram.len(), 2000);

    // Hop-by-Hop: Router Alert (type 5, value 0 = MLD), PadN with 0 data bytes.
    let hop_by_hop = [0x05, 0x02, 0x00, 0x00, 0x01, 0x00];
    // Destination Options: Pad1, PadN with 3 data bytes.
    let dest_opts = [0x00, 0x01, 0x03, 0x00, 0x00, 0x00];
    // Routing type 2, segments left 1, reserved, home address.
    let mut routing = vec![2, 1, 0, 0, 0, 0];
    routing.extend_from_slice(&CLIENT.ip6);

    // Each fragment: 40 + 8 + 8 + 24 + 8 = 88 bytes of headers; 1408 (a multiple
    // of 8) + 88 = 1496 fits a 1500-byte MTU.
    let frag_id = 0x6a3f_0c11;
    d.wait(620_404);
    for (i, chunk) in datagram.chunks(1408).enumerate() {
        let offset = i * 1408;
        let more = offset + chunk.len() < datagram.len();
        let ip = Ipv6::new(SERVER.ip6, CLIENT_CARE_OF, IPPROTO_HOPOPTS);
        let mut buf = Vec::with_capacity(1514);
        push_ethernet(&mut buf, CLIENT.mac, SERVER.mac, &[], ETHERTYPE_IPV6);
        let ip_start = begin_ipv6(&mut buf, &ip);
        push_ipv6_ext(&mut buf, IPPROTO_DSTOPTS, &hop_by_hop);
        push_ipv6_ext(&mut buf, IPPROTO_ROUTING, &dest_opts);
        push_ipv6_ext(&mut buf, IPPROTO_FRAGMENT, &routing);
        push_ipv6_fragment(&mut buf, IPPROTO_UDP, (offset / 8) as u16, more, frag_id);
        buf.extend_from_slice(chunk);
        finish_ipv6(&mut buf, ip_start);
        d.wait(if i == 0 { 0 } else { 15 });
        d.emit(buf);
    }
}

/// All demo frames, in capture order.
pub fn frames() -> Vec<Frame> {
    let mut d = Demo {
        client_ip_id: 0x1c45,
        server_ip_id: 0x7a10,
        ..Demo::default()
    };
    link_layer(&mut d);
    dns(&mut d);
    http_port_80(&mut d);
    http_other_port(&mut d);
    icmp_and_ip_options(&mut d);
    ipv4_fragments(&mut d);
    port_unreachable(&mut d);
    ipv6(&mut d);
    debug_assert_eq!(d.frames.len(), FRAME_COUNT);
    d.frames
}

/// Writes the demo capture; returns the number of frames.
pub fn write<W: Write>(out: W) -> io::Result<usize> {
    let frames = frames();
    let mut w = PcapWriter::new(out, LINKTYPE_ETHERNET)?;
    for f in &frames {
        w.write_packet(f.ts_us, &f.data)?;
    }
    w.finish()?;
    Ok(frames.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::*;

    fn infos() -> Vec<Info> {
        frames().iter().map(|f| check_frame(&f.data)).collect()
    }

    /// Frame `n` (1-based, as tshark numbers them).
    fn nth(infos: &[Info], n: usize) -> &Info {
        &infos[n - 1]
    }

    #[test]
    fn frame_count_and_timestamps() {
        let frames = frames();
        assert_eq!(frames.len(), FRAME_COUNT);
        assert!((40..=60).contains(&frames.len()));
        assert_eq!(frames[0].ts_us, START_US);
        for w in frames.windows(2) {
            assert!(w[0].ts_us < w[1].ts_us, "timestamps must increase");
        }
    }

    #[test]
    fn pcap_file_is_well_formed_and_deterministic() {
        let mut a = Vec::new();
        assert_eq!(write(&mut a).unwrap(), FRAME_COUNT);
        let mut b = Vec::new();
        write(&mut b).unwrap();
        assert_eq!(a, b);
        assert_eq!(&a[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(u32::from_le_bytes(a[20..24].try_into().unwrap()), 1);
        // Walk the records: lengths must chain exactly to the end of the file.
        let mut at = 24;
        let mut n = 0;
        let mut last_ts = 0u64;
        while at < a.len() {
            let field = |i: usize| u32::from_le_bytes(a[at + i..at + i + 4].try_into().unwrap());
            let (secs, usecs, incl, orig) = (field(0), field(4), field(8), field(12));
            assert!(usecs < 1_000_000);
            assert_eq!(incl, orig);
            let ts = u64::from(secs) * 1_000_000 + u64::from(usecs);
            assert!(ts > last_ts);
            last_ts = ts;
            at += 16 + incl as usize;
            n += 1;
        }
        assert_eq!(at, a.len());
        assert_eq!(n, FRAME_COUNT);
    }

    #[test]
    fn checksums_verify_and_fragments_reassemble() {
        let infos = infos();
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for info in &infos {
            if let Some(f) = &info.fragment {
                match f.pair {
                    IpPair::V4 { .. } => v4.push(f.clone()),
                    IpPair::V6 { .. } => v6.push(f.clone()),
                }
            }
        }
        assert_eq!(v4.len(), 3);
        assert_eq!(v6.len(), 2);
        assert_eq!(
            v4.iter()
                .map(|f| (f.offset / 8, f.more))
                .collect::<Vec<_>>(),
            [(0, true), (185, true), (370, false)]
        );
        for frags in [v4, v6] {
            let datagram = reassemble(&frags);
            let mut info = Info::default();
            check_upper(frags[0].protocol, frags[0].pair, &datagram, &mut info);
            let (_, dport, payload) = info.udp.expect("UDP datagram");
            assert_eq!(dport, 9);
            assert_eq!(payload, pattern(payload.len()));
        }
    }

    #[test]
    fn tcp_sequence_numbers_are_consistent() {
        let infos = infos();
        let mut tracker = TcpTracker::default();
        for info in &infos {
            if let Some(t) = &info.tcp {
                tracker.segment(info.pair.unwrap(), t);
            }
        }
        assert_eq!(tracker.segments, 13 + 9);
        assert_eq!(tracker.retransmissions, 1);
        // Every segment after the handshake carries timestamps.
        for info in &infos {
            let t = info.tcp.as_ref().map(|t| tcp_option(&t.options, 8));
            assert!(t.is_none() || t.unwrap().is_some());
        }
    }

    #[test]
    fn syn_and_sack_options() {
        let infos = infos();
        let syn = nth(&infos, 9).tcp.as_ref().unwrap();
        assert_eq!(syn.flags, tcp_flags::SYN);
        assert_eq!(
            syn.options[..4],
            [2, 4, 0x05, 0xb4] // MSS 1460
        );
        assert_eq!(tcp_option(&syn.options, 4), Some(&[][..]));
        assert_eq!(tcp_option(&syn.options, 3), Some(&[7][..]));
        assert_eq!(
            nth(&infos, 10).tcp.as_ref().unwrap().flags,
            tcp_flags::SYN | tcp_flags::ACK
        );
        let dup = nth(&infos, 16).tcp.as_ref().unwrap();
        let body = nth(&infos, 15).tcp.as_ref().unwrap();
        let sack = tcp_option(&dup.options, 5).expect("SACK option");
        assert_eq!(sack.len(), 8);
        assert_eq!(u32::from_be_bytes(sack[0..4].try_into().unwrap()), body.seq);
        assert_eq!(
            u32::from_be_bytes(sack[4..8].try_into().unwrap()),
            body.seq + body.payload.len() as u32
        );
    }

    #[test]
    fn application_payloads() {
        let infos = infos();
        let request = &nth(&infos, 12).tcp.as_ref().unwrap().payload;
        assert!(request.starts_with(b"GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n"));
        let head = &nth(&infos, 14).tcp.as_ref().unwrap().payload;
        let body = &nth(&infos, 15).tcp.as_ref().unwrap().payload;
        let head = String::from_utf8(head.clone()).unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(head.contains(&format!("Content-Length: {}\r\n", body.len())));
        assert!(head.ends_with("\r\n\r\n"));
        let t = nth(&infos, 25).tcp.as_ref().unwrap();
        assert_eq!(t.dport, 8081);
        assert!(t.payload.starts_with(b"GET /api/v1/status HTTP/1.1\r\n"));
        let (_, dport, query) = nth(&infos, 5).udp.clone().unwrap();
        assert_eq!(dport, 53);
        assert_eq!(&query[..4], &[0x1a, 0x2b, 0x01, 0x00]);
        assert_eq!(&query[12..29], b"\x03www\x07example\x03com\x00");
        let (sport, _, answer) = nth(&infos, 7).udp.clone().unwrap();
        assert_eq!(sport, 53);
        assert_eq!(&answer[6..8], &[0, 2]); // two answers
        assert!(answer.ends_with(&[0, 4, 192, 168, 1, 1]));
    }

    #[test]
    fn link_layer() {
        let infos = infos();
        assert_eq!(nth(&infos, 1).arp_op, Some(ARP_REQUEST));
        assert_eq!(nth(&infos, 2).arp_op, Some(ARP_REPLY));
        let vlan = nth(&infos, 3);
        assert_eq!(vlan.tags, [(ETHERTYPE_VLAN, 0x7064)]); // PCP 3, DEI 1, VID 100
        assert_eq!(vlan.arp_op, Some(ARP_REQUEST));
        let qinq = nth(&infos, 4);
        assert_eq!(qinq.tags, [(ETHERTYPE_QINQ, 200), (ETHERTYPE_VLAN, 100)]);
        assert_eq!(qinq.udp.as_ref().unwrap().1, 123);
        let frames = frames();
        assert_eq!(frames[0].data[..6], BROADCAST);
        assert_eq!(frames[0].data[6..12], CLIENT.mac);
        assert_eq!(frames[1].data[..12], [CLIENT.mac, SERVER.mac].concat());
    }

    #[test]
    fn ipv4_options_and_icmp() {
        let infos = infos();
        assert_eq!(nth(&infos, 31).icmp, Some((8, 0)));
        assert_eq!(nth(&infos, 32).icmp, Some((0, 0)));
        let rr = &nth(&infos, 33).ipv4_options;
        assert_eq!(rr.len(), 40);
        assert_eq!(&rr[..4], &[1, 7, 39, 8]);
        assert_eq!(&nth(&infos, 34).ipv4_options[..4], &[1, 7, 39, 16]);
        let ra = nth(&infos, 35);
        assert_eq!(ra.ipv4_options, [0x94, 4, 0, 0, 1, 0, 0, 0]);
        assert!(ra.udp.is_some());
        let unreachable = nth(&infos, 40);
        assert_eq!(unreachable.icmp, Some((3, 3)));
        // The quoted header is the probe's IPv4 header plus its UDP header.
        let frames = frames();
        let probe = &frames[38].data;
        let quoted = &frames[39].data[14 + 20 + 8..];
        assert_eq!(quoted.len(), 28);
        assert_eq!(quoted, &probe[14..14 + 28]);
        assert_eq!(nth(&infos, 39).udp.as_ref().unwrap().1, 33333);
    }

    #[test]
    fn ipv6_extension_headers() {
        let infos = infos();
        assert_eq!(nth(&infos, 41).icmp, Some((128, 0)));
        assert_eq!(nth(&infos, 42).icmp, Some((129, 0)));
        for n in [43, 44] {
            assert_eq!(
                nth(&infos, n).ipv6_ext,
                [
                    IPPROTO_HOPOPTS,
                    IPPROTO_DSTOPTS,
                    IPPROTO_ROUTING,
                    IPPROTO_FRAGMENT
                ]
            );
        }
        let frames = frames();
        let first = &frames[42].data;
        assert_eq!(first.len(), 14 + 1496);
        // Hop-by-Hop: Router Alert then PadN.
        assert_eq!(&first[54..62], &[60, 0, 5, 2, 0, 0, 1, 0]);
        // Destination Options: Pad1 then PadN.
        assert_eq!(&first[62..70], &[43, 0, 0, 1, 3, 0, 0, 0]);
        // Routing type 2, one segment left, home address.
        assert_eq!(&first[70..74], &[44, 2, 2, 1]);
        assert_eq!(&first[78..94], &CLIENT.ip6);
    }
}
