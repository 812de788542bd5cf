//! Captures for the stateful stages: one of fragmented datagrams and HTTP transfers
//! spread over many segments (for reassembly speed and correctness), and one flood of
//! what reassembly must survive (for its memory bound).

use std::io::{self, Write};

use pcapkit_testkit::net::*;
use pcapkit_testkit::pcap::{PcapWriter, LINKTYPE_ETHERNET};
use pcapkit_testkit::Rng;

use crate::demo::START_US;

const CLIENT_MAC: Mac = [0x02, 0x00, 0x0a, 0x02, 0x00, 0x01];
const ROUTER_MAC: Mac = [0x02, 0x00, 0x0a, 0x02, 0x00, 0xfe];
/// Bytes of IP payload per fragment on a 1500-byte MTU (a multiple of 8).
const FRAGMENT: usize = 1480;
const MSS: usize = 1460;

fn client(i: u64) -> [u8; 4] {
    [10, 2, (i >> 8) as u8, i as u8]
}

fn server(i: u64) -> [u8; 4] {
    [198, 19, (i >> 8) as u8, i as u8]
}

/// An Ethernet frame holding an IPv4 packet with `payload` (whose transport checksum,
/// if any, is already set).
fn ipv4_frame(h: &Ipv4, payload: &[u8], to_server: bool) -> Vec<u8> {
    let mut buf = Vec::with_capacity(14 + 20 + payload.len());
    let (dst, src) = if to_server {
        (ROUTER_MAC, CLIENT_MAC)
    } else {
        (CLIENT_MAC, ROUTER_MAC)
    };
    push_ethernet(&mut buf, dst, src, &[], ETHERTYPE_IPV4);
    let start = begin_ipv4(&mut buf, h);
    buf.extend_from_slice(payload);
    finish_ipv4(&mut buf, start);
    pad_frame(&mut buf);
    buf
}

/// A TCP segment (header and payload, checksum set) between `src` and `dst`.
fn tcp_segment(src: [u8; 4], dst: [u8; 4], h: &Tcp, payload: &[u8]) -> Vec<u8> {
    let mut seg = Vec::with_capacity(20 + payload.len());
    let start = begin_tcp(&mut seg, h);
    seg.extend_from_slice(payload);
    finish_tcp(&mut seg, start, IpPair::V4 { src, dst });
    seg
}

/// A UDP datagram (header and payload, checksum set).
fn udp_datagram(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut d = Vec::with_capacity(8 + payload.len());
    let start = begin_udp(&mut d, sport, dport);
    d.extend_from_slice(payload);
    finish_udp(&mut d, start, IpPair::V4 { src, dst });
    d
}

/// The IPv4 fragments of `datagram`, each a whole Ethernet frame.
fn fragment(src: [u8; 4], dst: [u8; 4], id: u16, protocol: u8, datagram: &[u8]) -> Vec<Vec<u8>> {
    datagram
        .chunks(FRAGMENT)
        .enumerate()
        .map(|(i, piece)| {
            let mut h = Ipv4::new(src, dst, protocol, id);
            h.fragment_offset = (i * FRAGMENT / 8) as u16;
            h.more_fragments = (i + 1) * FRAGMENT < datagram.len();
            ipv4_frame(&h, piece, true)
        })
        .collect()
}

/// One HTTP/1.1 exchange on a new connection: handshake, a GET, a response of `body`
/// bytes in MSS-sized segments (one pair sometimes swapped, one segment sometimes sent
/// twice), and the FIN exchange.
fn http_exchange(rng: &mut Rng, c: [u8; 4], s: [u8; 4], port: u16, body: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let (mut cseq, mut sseq) = (rng.u32(), rng.u32());
    let seg = |to_server: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]| {
        let (src, dst, sport, dport) = if to_server {
            (c, s, port, 80)
        } else {
            (s, c, 80, port)
        };
        let h = Tcp {
            sport,
            dport,
            seq,
            ack,
            flags,
            window: 65_535,
            options: &[],
        };
        let t = tcp_segment(src, dst, &h, payload);
        ipv4_frame(&Ipv4::new(src, dst, IPPROTO_TCP, 0), &t, to_server)
    };
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const PSH_ACK: u8 = 0x18;
    const FIN_ACK: u8 = 0x11;
    out.push(seg(true, cseq, 0, SYN, b""));
    out.push(seg(false, sseq, cseq.wrapping_add(1), SYN | ACK, b""));
    cseq = cseq.wrapping_add(1);
    sseq = sseq.wrapping_add(1);
    out.push(seg(true, cseq, sseq, ACK, b""));
    let request = format!(
        "GET /object/{body} HTTP/1.1\r\nHost: {}.{}.{}.{}\r\nUser-Agent: samplegen\r\n\r\n",
        s[0], s[1], s[2], s[3]
    );
    out.push(seg(true, cseq, sseq, PSH_ACK, request.as_bytes()));
    cseq = cseq.wrapping_add(request.len() as u32);
    let mut response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {body}\r\n\r\n"
    )
    .into_bytes();
    response.extend((0..body).map(|i| (i % 251) as u8));
    // Each segment with its index in sending order, so that the client acknowledges only
    // what it has received in order (as a real receiver does).
    let mut segments: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut starts = Vec::new();
    for (i, chunk) in response.chunks(MSS).enumerate() {
        starts.push(sseq);
        segments.push((i, seg(false, sseq, cseq, PSH_ACK, chunk)));
        sseq = sseq.wrapping_add(chunk.len() as u32);
    }
    if segments.len() > 2 && rng.percent(20) {
        let i = rng.below(segments.len() as u64 - 1) as usize;
        segments.swap(i, i + 1);
    }
    if segments.len() > 1 && rng.percent(10) {
        let i = rng.below(segments.len() as u64) as usize;
        let again = segments[i].clone();
        segments.insert(i + 1, again);
    }
    let mut received = vec![false; starts.len()];
    for (i, s) in segments {
        out.push(s);
        received[i] = true;
        if rng.percent(50) {
            let next = received.iter().position(|r| !r);
            let ack = next.map_or(sseq, |n| starts[n]);
            out.push(seg(true, cseq, ack, ACK, b""));
        }
    }
    out.push(seg(true, cseq, sseq, FIN_ACK, b""));
    out.push(seg(false, sseq, cseq.wrapping_add(1), FIN_ACK, b""));
    out.push(seg(
        true,
        cseq.wrapping_add(1),
        sseq.wrapping_add(1),
        ACK,
        b"",
    ));
    out
}

/// Writes about `packets` frames: concurrent HTTP transfers of 1..64 KiB bodies and
/// fragmented UDP datagrams of 2..6 fragments (a fifth of them in reverse order),
/// interleaved.
pub fn reassembly<W: Write>(out: W, packets: u64, seed: u64) -> io::Result<u64> {
    let mut w = PcapWriter::new(out, LINKTYPE_ETHERNET)?;
    let mut rng = Rng::new(seed);
    let mut queues: Vec<std::collections::VecDeque<Vec<u8>>> = Vec::new();
    let (mut written, mut conversation, mut ts) = (0u64, 0u64, START_US);
    let mut ip_id = 1u16;
    while written < packets {
        while queues.len() < 32 {
            conversation += 1;
            let c = client(conversation % 4000);
            let s = server(conversation % 300);
            let frames = if rng.percent(70) {
                let body = rng.range(1, 64 * 1024) as usize;
                let port = 1024 + (conversation % 60_000) as u16;
                http_exchange(&mut rng, c, s, port, body)
            } else {
                let size = rng.range(FRAGMENT as u64 + 1, 6 * FRAGMENT as u64 - 8) as usize;
                let payload: Vec<u8> = (0..size).map(|i| (i % 239) as u8).collect();
                let datagram = udp_datagram(c, s, 40_000, 31_337, &payload);
                ip_id = ip_id.wrapping_add(1);
                let mut frags = fragment(c, s, ip_id, IPPROTO_UDP, &datagram);
                if rng.percent(20) {
                    frags.reverse();
                }
                frags
            };
            queues.push(frames.into());
        }
        let i = rng.below(queues.len() as u64) as usize;
        if let Some(frame) = queues[i].pop_front() {
            ts += rng.range(1, 200);
            w.write_packet(ts, &frame)?;
            written += 1;
        }
        if queues[i].is_empty() {
            queues.swap_remove(i);
        }
    }
    w.finish()?;
    Ok(written)
}

/// Writes `packets` frames of what reassembly must survive, in turn: first fragments of
/// datagrams that never complete (each with a new id), SYNs from new endpoints, tiny
/// overlapping fragments with conflicting bytes, and data segments far outside the
/// window of one connection.
pub fn flood<W: Write>(out: W, packets: u64) -> io::Result<u64> {
    let mut w = PcapWriter::new(out, LINKTYPE_ETHERNET)?;
    let target = server(1);
    for n in 0..packets {
        let ts = START_US + n;
        let src = client(n >> 16);
        let frame = match n % 4 {
            0 => {
                let mut h = Ipv4::new(src, target, IPPROTO_UDP, n as u16);
                h.more_fragments = true;
                ipv4_frame(&h, &[0xab; 64], true)
            }
            1 => {
                let h = Tcp {
                    sport: (n >> 2) as u16 | 1024,
                    dport: 80,
                    seq: n as u32,
                    ack: 0,
                    flags: 0x02,
                    window: 1024,
                    options: &[],
                };
                let seg = tcp_segment(src, target, &h, b"");
                ipv4_frame(&Ipv4::new(src, target, IPPROTO_TCP, 0), &seg, true)
            }
            2 => {
                // Eight-byte fragments overlapping each other with other bytes.
                let mut h = Ipv4::new(src, target, IPPROTO_UDP, 7);
                h.more_fragments = true;
                h.fragment_offset = ((n / 4) % 64) as u16;
                ipv4_frame(&h, &[(n & 0xff) as u8; 16], true)
            }
            _ => {
                let h = Tcp {
                    sport: 5555,
                    dport: 80,
                    seq: (n as u32).wrapping_mul(0x9e37_79b9),
                    ack: 1,
                    flags: 0x18,
                    window: 1024,
                    options: &[],
                };
                let seg = tcp_segment(client(1), target, &h, &[b'x'; 64]);
                ipv4_frame(&Ipv4::new(client(1), target, IPPROTO_TCP, 0), &seg, true)
            }
        };
        w.write_packet(ts, &frame)?;
    }
    w.finish()?;
    Ok(packets)
}

/// An HTTP/2 frame: the 9-byte header (RFC 9113, section 4.1) and `payload`.
fn h2_frame(out: &mut Vec<u8>, ty: u8, flags: u8, stream: u32, payload: &[u8]) {
    let len = payload.len() as u32;
    out.extend_from_slice(&[(len >> 16) as u8, (len >> 8) as u8, len as u8, ty, flags]);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
}

/// An HPACK string literal without Huffman coding (RFC 7541, section 5.2); strings here
/// are shorter than 127 bytes.
fn hpack_string(out: &mut Vec<u8>, s: &[u8]) {
    assert!(s.len() < 127);
    out.push(s.len() as u8);
    out.extend_from_slice(s);
}

/// One HTTP/2 connection with prior knowledge on port 80: handshake, the preface and
/// SETTINGS both ways, then `requests` GETs one after the other, each answered with
/// HEADERS and DATA frames of up to 16 KiB; each side's bytes cut into MSS-sized
/// segments (frames span segments), and the FIN exchange. The first request adds
/// `:authority` to the dynamic table; the later ones refer to it by index 62.
fn http2_exchange(rng: &mut Rng, c: [u8; 4], s: [u8; 4], port: u16, requests: u32) -> Vec<Vec<u8>> {
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const PSH_ACK: u8 = 0x18;
    const FIN_ACK: u8 = 0x11;
    let mut out = Vec::new();
    let (mut cseq, mut sseq) = (rng.u32(), rng.u32());
    let seg = |to_server: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]| {
        let (src, dst, sport, dport) = if to_server {
            (c, s, port, 80)
        } else {
            (s, c, 80, port)
        };
        let h = Tcp {
            sport,
            dport,
            seq,
            ack,
            flags,
            window: 65_535,
            options: &[],
        };
        let t = tcp_segment(src, dst, &h, payload);
        ipv4_frame(&Ipv4::new(src, dst, IPPROTO_TCP, 0), &t, to_server)
    };
    out.push(seg(true, cseq, 0, SYN, b""));
    out.push(seg(false, sseq, cseq.wrapping_add(1), SYN | ACK, b""));
    cseq = cseq.wrapping_add(1);
    sseq = sseq.wrapping_add(1);
    out.push(seg(true, cseq, sseq, ACK, b""));
    // Each side's bytes, sent in turn.
    let mut turns: Vec<(bool, Vec<u8>)> = Vec::new();
    let mut hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    h2_frame(
        &mut hello,
        4,
        0,
        0,
        &[0, 3, 0, 0, 0, 100, 0, 4, 0, 0xff, 0xff, 0xff],
    );
    h2_frame(&mut hello, 8, 0, 0, &0x00ff_0000u32.to_be_bytes());
    turns.push((true, hello));
    let mut answer = Vec::new();
    h2_frame(&mut answer, 4, 0, 0, &[0, 3, 0, 0, 0, 128]);
    h2_frame(&mut answer, 4, 1, 0, &[]);
    turns.push((false, answer));
    let authority = format!("{}.{}.{}.{}", s[0], s[1], s[2], s[3]);
    for r in 0..requests {
        let stream = 1 + 2 * r;
        let body = rng.range(100, 40_000) as usize;
        // :method GET (2), :scheme http (6), :authority, :path (literal, name index 4),
        // user-agent (literal, name index 58).
        let mut block = vec![0x82, 0x86];
        if r == 0 {
            block.push(0x41);
            hpack_string(&mut block, authority.as_bytes());
        } else {
            block.push(0x80 | 62);
        }
        block.push(0x04);
        hpack_string(&mut block, format!("/object/{stream}/{body}").as_bytes());
        block.extend_from_slice(&[0x0f, 58 - 15]);
        hpack_string(&mut block, b"samplegen");
        let mut request = Vec::new();
        if r == 0 {
            request.extend_from_slice(&[0, 0, 0, 4, 1, 0, 0, 0, 0]); // SETTINGS ACK
        }
        h2_frame(&mut request, 1, 0x5, stream, &block);
        turns.push((true, request));
        // :status 200 (8), content-type (31) and content-length (28) as literals.
        let mut block = vec![0x88, 0x0f, 31 - 15];
        hpack_string(&mut block, b"application/octet-stream");
        block.extend_from_slice(&[0x0f, 28 - 15]);
        hpack_string(&mut block, body.to_string().as_bytes());
        let mut response = Vec::new();
        h2_frame(&mut response, 1, 0x4, stream, &block);
        let data: Vec<u8> = (0..body).map(|i| (i % 251) as u8).collect();
        let chunks: Vec<&[u8]> = data.chunks(16_384).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            let end = if i + 1 == chunks.len() { 0x1 } else { 0 };
            h2_frame(&mut response, 0, end, stream, chunk);
        }
        turns.push((false, response));
    }
    for (to_server, bytes) in turns {
        for chunk in bytes.chunks(MSS) {
            if to_server {
                out.push(seg(true, cseq, sseq, PSH_ACK, chunk));
                cseq = cseq.wrapping_add(chunk.len() as u32);
            } else {
                out.push(seg(false, sseq, cseq, PSH_ACK, chunk));
                sseq = sseq.wrapping_add(chunk.len() as u32);
            }
        }
        if !to_server {
            out.push(seg(true, cseq, sseq, ACK, b""));
        }
    }
    out.push(seg(true, cseq, sseq, FIN_ACK, b""));
    out.push(seg(false, sseq, cseq.wrapping_add(1), FIN_ACK, b""));
    out.push(seg(
        true,
        cseq.wrapping_add(1),
        sseq.wrapping_add(1),
        ACK,
        b"",
    ));
    out
}

/// Writes about `packets` frames of HTTP/2 with prior knowledge (h2c): 32 connections at
/// a time, each of 1..20 requests.
pub fn http2<W: Write>(out: W, packets: u64, seed: u64) -> io::Result<u64> {
    let mut w = PcapWriter::new(out, LINKTYPE_ETHERNET)?;
    let mut rng = Rng::new(seed);
    let mut queues: Vec<std::collections::VecDeque<Vec<u8>>> = Vec::new();
    let (mut written, mut conversation, mut ts) = (0u64, 0u64, START_US);
    while written < packets {
        while queues.len() < 32 {
            conversation += 1;
            let c = client(conversation % 4000);
            let s = server(conversation % 300);
            let port = 1024 + (conversation % 60_000) as u16;
            let requests = rng.range(1, 20) as u32;
            queues.push(http2_exchange(&mut rng, c, s, port, requests).into());
        }
        let i = rng.below(queues.len() as u64) as usize;
        if let Some(frame) = queues[i].pop_front() {
            ts += rng.range(1, 200);
            w.write_packet(ts, &frame)?;
            written += 1;
        }
        if queues[i].is_empty() {
            queues.swap_remove(i);
        }
    }
    w.finish()?;
    Ok(written)
}
