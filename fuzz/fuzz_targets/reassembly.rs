//! The reassembly engine: a sequence of frames (raw ones, or IPv4/IPv6 fragments and TCP
//! segments built from a few fields) goes through the stateless chain and the Session,
//! as the extractor runs them with `--ip --tcp`, then the session is finished.
//!
//! Input (read front to back; the input ending ends the capture):
//!
//! ```text
//! options  u8   bit 0 IPv4, 1 IPv6, 2 TCP, 3 not strict, 4 connection summaries,
//!               5 with payloads, 6 chunks of stream 0, 7 also through views
//! memory   u8   total budget: 512 << (m % 16) bytes
//! stream   u8   budget per TCP direction: 256 << (s % 16) bytes
//! then ops, each a tag byte: the op is tag % 8, the clock moves tag / 8 seconds
//!   0    raw frame     link type u16le, bytes cut by the snapshot length u8,
//!                      length u16le, bytes
//!   1    IPv4 fragment hosts u8, id u16le, protocol u8, flags+offset u16le
//!                      (as in the header: 0x2000 more fragments, 13-bit offset in
//!                      units of 8), length u16le, payload
//!   2    IPv6 fragment hosts u8, id u16le, next header u8, offset+M u16le (as in the
//!                      header: offset << 3 | M), length u16le, payload
//!   3, 5 TCP over IPv4 hosts u8, ports u8, seq u32le, ack u32le, flags u8,
//!                      length u16le, payload
//!   4, 6 TCP over IPv6 the same
//!   7    TCP over IPv4 as 3, the payload ending with "\r\n\r\n" (an HTTP head's end)
//! ```
//!
//! `hosts` picks the source (low nibble) and destination (high nibble) among four
//! addresses; `ports` likewise among a few ports, HTTP's among them. `seed.py` writes
//! this format.
//!
//! Checked: nothing panics; every layer lies within its bytes; the session holds no
//! more than its budget after each frame, and nothing after `finish`; a completed
//! buffer has no holes and an IP datagram fits in 65535 bytes; no buffer holds more
//! bytes than the capture so far; connection summaries agree with their payloads
//! (length, SHA-256) and with the follow chunks. As the extractor does, a TCP payload
//! framed on its stream is left to the session when TCP is reassembled. With bit 7, a
//! second session takes the same frames walked through views (as for `--nofile` and the
//! `fields` output): once its headers are decoded, every frame must equal the first
//! session's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcapkit::chain::{self, Reassembled};
use pcapkit::reassembly::tcp::{ChunkData, ConnectionSummary};
use pcapkit::reassembly::{ReassemblyOptions, OPEN_END};
use pcapkit::session::Session;
use pcapkit::{Frame, Thresholds, Timestamp};
use pcapkit_fuzz::{check_dump, check_layers};
use sha2::{Digest, Sha256};

const RAWIP: u32 = 101;
const PORTS: [u16; 8] = [80, 8080, 1234, 443, 0, 65535, 3128, 5000];

struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes([self.u8()?, self.u8()?]))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes([
            self.u8()?,
            self.u8()?,
            self.u8()?,
            self.u8()?,
        ]))
    }

    /// `len` bytes, or what is left.
    fn bytes(&mut self, len: usize) -> &'a [u8] {
        let (b, rest) = self.0.split_at(len.min(self.0.len()));
        self.0 = rest;
        b
    }
}

fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn ipv4(hosts: u8, id: u16, protocol: u8, frag: u16, payload: &[u8]) -> Vec<u8> {
    // The total length is 16 bits.
    let payload = &payload[..payload.len().min(65535 - 20)];
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&frag.to_be_bytes());
    p.extend_from_slice(&[64, protocol, 0, 0]);
    p.extend_from_slice(&[10, 0, 0, hosts & 3]);
    p.extend_from_slice(&[10, 0, 0, (hosts >> 4) & 3]);
    let sum = checksum(&p);
    p[10..12].copy_from_slice(&sum.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

fn ipv6(hosts: u8, next: u8, payload: &[u8]) -> Vec<u8> {
    let payload = &payload[..payload.len().min(65535)];
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    p.extend_from_slice(&[next, 64]);
    for host in [hosts & 3, (hosts >> 4) & 3] {
        p.extend_from_slice(&[0xfe, 0x80]);
        p.extend_from_slice(&[0; 13]);
        p.push(host + 1);
    }
    p.extend_from_slice(payload);
    p
}

fn tcp(ports: u8, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut s = Vec::with_capacity(20 + payload.len());
    s.extend_from_slice(&PORTS[usize::from(ports & 7)].to_be_bytes());
    s.extend_from_slice(&PORTS[usize::from((ports >> 4) & 7)].to_be_bytes());
    s.extend_from_slice(&seq.to_be_bytes());
    s.extend_from_slice(&ack.to_be_bytes());
    s.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    s.extend_from_slice(payload);
    s
}

/// The next frame's link type, bytes and length on the wire; `None` at the end.
fn next_frame(input: &mut Input, op: u8) -> Option<(u32, Vec<u8>, usize)> {
    Some(match op {
        0 => {
            let linktype = u32::from(input.u16()?);
            let cut = usize::from(input.u8()?);
            let len = usize::from(input.u16()?);
            let bytes = input.bytes(len).to_vec();
            let wire = bytes.len() + cut;
            (linktype, bytes, wire)
        }
        1 => {
            let (hosts, id, protocol, frag) =
                (input.u8()?, input.u16()?, input.u8()?, input.u16()?);
            let len = usize::from(input.u16()?);
            let p = ipv4(hosts, id, protocol, frag, input.bytes(len));
            (RAWIP, p, 0)
        }
        2 => {
            let (hosts, id, next, frag) = (input.u8()?, input.u16()?, input.u8()?, input.u16()?);
            let len = usize::from(input.u16()?);
            let mut f = vec![next, 0];
            f.extend_from_slice(&frag.to_be_bytes());
            f.extend_from_slice(&u32::from(id).to_be_bytes());
            f.extend_from_slice(input.bytes(len));
            (RAWIP, ipv6(hosts, 44, &f), 0)
        }
        _ => {
            let (hosts, ports) = (input.u8()?, input.u8()?);
            let (seq, ack, flags) = (input.u32()?, input.u32()?, input.u8()?);
            let len = usize::from(input.u16()?);
            let mut payload = input.bytes(len).to_vec();
            if op == 7 {
                payload.extend_from_slice(b"\r\n\r\n");
            }
            let segment = tcp(ports, seq, ack, flags, &payload);
            let p = match op {
                4 | 6 => ipv6(hosts, 6, &segment),
                _ => ipv4(hosts, 0, 6, 0x4000, &segment),
            };
            (RAWIP, p, 0)
        }
    })
}

/// Invariants of a reassembled buffer; `seen` is every byte the capture held so far.
fn check_reassembled(r: &Reassembled, seen: usize) {
    check_layers(&r.layers, &r.data);
    assert!(
        r.data.len() <= seen,
        "{} bytes reassembled from {seen} captured",
        r.data.len()
    );
    if !r.kind.on_tcp() {
        assert!(
            r.data.len() <= 65535,
            "a datagram of {} bytes",
            r.data.len()
        );
    }
    if r.completed {
        assert!(r.holes.is_empty(), "completed with holes {:?}", r.holes);
    }
    let mut after = 0;
    for (i, h) in r.holes.iter().enumerate() {
        assert!(h.start < h.end, "an empty or reversed hole {h:?}");
        assert!(h.start >= after, "holes out of order: {:?}", r.holes);
        assert!(
            h.end != OPEN_END || i + 1 == r.holes.len(),
            "an open hole before another"
        );
        after = h.end;
    }
}

fn check_summary(c: &ConnectionSummary, payloads: bool) {
    let mut chunked = [Vec::new(), Vec::new()];
    for chunk in &c.chunks {
        if let ChunkData::Bytes(b) = &chunk.data {
            chunked[usize::from(chunk.from_b)].extend_from_slice(b);
        }
    }
    for (d, dir) in [&c.a_to_b, &c.b_to_a].into_iter().enumerate() {
        // A direction that never sent a segment has no payload (nor hash).
        assert!(dir.payload.is_none() || payloads, "a payload not asked for");
        if payloads && dir.payload.is_none() {
            assert_eq!((dir.bytes, dir.gaps), (0, 0), "bytes without a payload");
        }
        if let Some(p) = &dir.payload {
            assert_eq!(
                p.len() as u64,
                dir.bytes,
                "stream {} payload length",
                c.stream
            );
            let sha: [u8; 32] = Sha256::digest(p).into();
            assert_eq!(sha, dir.sha256, "stream {} SHA-256", c.stream);
            if !c.chunks.is_empty() {
                assert_eq!(
                    &chunked[d], p,
                    "stream {} chunks and payload differ",
                    c.stream
                );
            }
        }
        if c.completed {
            assert_eq!(dir.gaps, 0, "a completed connection with gaps");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let (Some(flags), Some(memory), Some(stream)) = (input.u8(), input.u8(), input.u8()) else {
        return;
    };
    let options = ReassemblyOptions {
        ipv4: flags & 1 != 0,
        ipv6: flags & 2 != 0,
        tcp: flags & 4 != 0,
        strict: flags & 8 == 0,
        memory: 512 << (memory % 16),
        stream_memory: 256 << (stream % 16),
        ..ReassemblyOptions::default()
    };
    let (summaries, payloads) = (flags & 16 != 0, flags & 48 == 48);
    let new_session = || {
        let session = Session::with_tcp(options, Thresholds::default(), summaries, payloads);
        if summaries && flags & 64 != 0 {
            session.with_chunks(0)
        } else {
            session
        }
    };
    let mut session = new_session();
    let walk = Thresholds {
        defer_streams: options.tcp,
        ..Thresholds::default()
    };
    // The same session again, for the frames walked through views.
    let mut viewed = (flags & 128 != 0).then(|| {
        let walk = Thresholds {
            views: true,
            ..walk
        };
        (new_session(), walk, Frame::default())
    });
    let mut frame = Frame::default();
    let (mut number, mut now, mut seen) = (0u64, 1_700_000_000i64, 0usize);
    let mut connections = Vec::new();
    while let Some(tag) = input.u8() {
        now += i64::from(tag / 8);
        let Some((linktype, bytes, wire)) = next_frame(&mut input, tag % 8) else {
            break;
        };
        number += 1;
        seen += bytes.len();
        frame.number = number;
        frame.timestamp = Timestamp {
            secs: now,
            nanos: 0,
        };
        frame.cap_len = bytes.len() as u32;
        frame.len = wire.max(bytes.len()) as u32;
        frame.linktype = linktype;
        chain::dissect(&bytes, linktype, &walk, &mut frame.layers);
        session.process(&mut frame, &bytes);
        if let Some((session, walk, other)) = &mut viewed {
            other.number = frame.number;
            other.timestamp = frame.timestamp;
            other.cap_len = frame.cap_len;
            other.len = frame.len;
            other.linktype = linktype;
            chain::dissect(&bytes, linktype, walk, &mut other.layers);
            session.process(other, &bytes);
            for layer in &mut other.layers {
                layer.decode(&bytes);
            }
            other.data.clone_from(&bytes);
        }
        frame.data = bytes;
        if let Some((_, _, other)) = &viewed {
            assert!(
                *other == frame,
                "through views, frame {number} differs:\n{other:?}\ndecoded:\n{frame:?}"
            );
        }
        check_layers(&frame.layers, &frame.data);
        for r in &frame.reassembled {
            check_reassembled(r, seen);
        }
        assert!(
            session.held() <= options.memory,
            "the session holds {} bytes, over its budget of {}",
            session.held(),
            options.memory
        );
        // Frames reassembly left alone dump as in the `chain` target.
        if !frame.reassembled.is_empty() || !frame.notes.is_empty() {
            check_dump(&frame);
        }
        connections.extend(session.take_connections());
    }
    let finished = session.finish();
    for r in &finished {
        check_reassembled(r, seen);
    }
    if let Some((mut session, _, _)) = viewed {
        assert!(
            session.finish() == finished,
            "through views, the end differs"
        );
    }
    assert_eq!(session.held(), 0, "bytes held after finish");
    connections.extend(session.take_connections());
    for c in &connections {
        check_summary(c, payloads);
    }
});
