//! Reassembly across frames: IP fragments and TCP segments built here byte by byte, run
//! through the stateless chain and a `Session` as the extractor does, and checked against
//! what the test itself sent.

use crate::common;

use pcapkit::chain::{self, Frame, LayerKind, ReassemblyKind, Thresholds, Timestamp};
use pcapkit::protocols::{Header, ProtocolId};
use pcapkit::reassembly::{ReassemblyOptions, OPEN_END};
use pcapkit::session::Session;
use proptest::prelude::*;

const LINKTYPE_RAW_IPV4: u32 = 228;
const LINKTYPE_RAW_IPV6: u32 = 229;

/// An IPv4 header (no options) with this payload.
fn ipv4(id: u16, protocol: u8, offset: usize, more: bool, payload: &[u8]) -> Vec<u8> {
    ipv4_between(
        [10, 0, 0, 1],
        [10, 0, 0, 2],
        id,
        protocol,
        offset,
        more,
        payload,
    )
}

fn ipv4_between(
    src: [u8; 4],
    dst: [u8; 4],
    id: u16,
    protocol: u8,
    offset: usize,
    more: bool,
    payload: &[u8],
) -> Vec<u8> {
    assert_eq!(offset % 8, 0);
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
    p.extend_from_slice(&id.to_be_bytes());
    let flags = (offset / 8) as u16 | if more { 0x2000 } else { 0 };
    p.extend_from_slice(&flags.to_be_bytes());
    p.extend_from_slice(&[64, protocol, 0, 0]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(payload);
    p
}

fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

fn tcp(sport: u16, dport: u16, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    t.extend_from_slice(&[0x50, flags, 0x10, 0, 0, 0, 0, 0]);
    t.extend_from_slice(payload);
    t
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const FIN: u8 = 0x01;
const PSH_ACK: u8 = 0x18;

/// Runs packets through the chain and a session, one frame each, `seconds[i]` apart.
struct Run {
    session: Session,
    frames: Vec<Frame>,
}

impl Run {
    fn new(options: ReassemblyOptions) -> Run {
        Run {
            session: Session::new(options, Thresholds::default()),
            frames: Vec::new(),
        }
    }

    fn ip_tcp() -> Run {
        Run::new(ReassemblyOptions {
            ipv4: true,
            ipv6: true,
            tcp: true,
            ..ReassemblyOptions::default()
        })
    }

    fn feed(&mut self, linktype: u32, secs: i64, data: Vec<u8>) -> &Frame {
        // What the IP header declares was on the wire; a shorter packet was cut short
        // by the snapshot length.
        let wire = match data.first().map(|b| b >> 4) {
            Some(4) => usize::from(u16::from_be_bytes([data[2], data[3]])),
            Some(6) => 40 + usize::from(u16::from_be_bytes([data[4], data[5]])),
            _ => data.len(),
        };
        let mut frame = Frame {
            number: self.frames.len() as u64 + 1,
            timestamp: Timestamp { secs, nanos: 0 },
            len: wire.max(data.len()) as u32,
            cap_len: data.len() as u32,
            linktype,
            ..Frame::default()
        };
        chain::dissect(&data, linktype, &Thresholds::default(), &mut frame.layers);
        self.session.process(&mut frame, &data);
        frame.data = data;
        self.frames.push(frame);
        self.frames.last().unwrap()
    }

    fn v4(&mut self, secs: i64, packet: Vec<u8>) -> &Frame {
        self.feed(LINKTYPE_RAW_IPV4, secs, packet)
    }
}

/// Cuts `datagram` (a UDP header and data) into IPv4 fragments of `size` bytes (a
/// multiple of 8): (offset, more, bytes).
fn fragments(datagram: &[u8], size: usize) -> Vec<(usize, bool, Vec<u8>)> {
    datagram
        .chunks(size)
        .enumerate()
        .map(|(i, c)| (i * size, (i + 1) * size < datagram.len(), c.to_vec()))
        .collect()
}

#[test]
fn the_frame_with_the_last_fragment_carries_the_datagram() {
    let body: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
    let datagram = udp(5000, 9999, &body);
    let mut pieces = fragments(&datagram, 296);
    // The last fragment first, then the rest backwards: order must not matter.
    pieces.reverse();
    let mut run = Run::ip_tcp();
    for (i, (offset, more, bytes)) in pieces.iter().enumerate() {
        let f = run.v4(i as i64, ipv4(0x77, 17, *offset, *more, bytes));
        if i + 1 < pieces.len() {
            assert_eq!(
                f.protocols(),
                "IPv4:Raw",
                "a fragment's data is never a UDP header"
            );
            assert!(f.reassembled.is_empty());
        }
    }
    let last = run.frames.last().unwrap();
    assert_eq!(last.protocols(), "IPv4:UDP:Raw");
    assert_eq!(last.reassembled.len(), 1);
    let r = &last.reassembled[0];
    assert_eq!(r.kind, ReassemblyKind::Ipv4);
    assert!(r.completed);
    assert_eq!(r.data, datagram);
    assert_eq!(r.frames, vec![1, 2, 3, 4]);
    assert_eq!(r.id, 0x77);
    match last.header(ProtocolId::Udp) {
        Some(Header::Udp(u)) => assert_eq!((u.srcport, u.dstport), (5000, 9999)),
        other => panic!("no UDP header: {other:?}"),
    }
    let raw = r.layers.last().unwrap();
    assert_eq!(raw.kind, LayerKind::Raw);
    assert_eq!(&r.data[raw.header_range()], &body[..]);
}

#[test]
fn without_reassembly_nothing_changes() {
    let datagram = udp(5000, 9999, &[1; 64]);
    let mut run = Run::new(ReassemblyOptions::default());
    let f = run.v4(0, ipv4(1, 17, 0, true, &datagram[..32]));
    assert_eq!(
        f.protocols(),
        "IPv4:UDP:Raw",
        "the first fragment, as tshark without defragmentation"
    );
    assert!(f.reassembled.is_empty() && f.tcp_stream.is_none());
}

#[test]
fn overlapping_fragments_keep_the_first_copy_and_say_so() {
    let mut run = Run::ip_tcp();
    let datagram = udp(1, 2, &[b'A'; 40]);
    run.v4(0, ipv4(9, 17, 0, true, &datagram[..24]));
    // Teardrop-style: overlaps bytes 16..24 with other bytes.
    let mut evil = datagram[16..40].to_vec();
    evil[0] = b'X';
    let f = run.v4(1, ipv4(9, 17, 16, true, &evil));
    assert_eq!(f.notes.len(), 1, "{:?}", f.notes);
    assert!(f.notes[0].contains("different bytes"), "{:?}", f.notes);
    let f = run.v4(2, ipv4(9, 17, 40, false, &datagram[40..]));
    let r = &f.reassembled[0];
    assert!(r.completed);
    assert_eq!(r.data, datagram, "the first copy wins");
    assert_eq!(r.anomalies.len(), 1);
}

#[test]
fn hostile_fragments_are_reported_not_pooled() {
    let mut run = Run::ip_tcp();
    // Past 65535 bytes.
    let f = run.v4(0, ipv4(1, 17, 65_528, false, &[0; 64]));
    assert!(
        f.notes[0].contains("past the largest datagram"),
        "{:?}",
        f.notes
    );
    // Zero-length.
    let f = run.v4(0, ipv4(2, 17, 8, true, &[]));
    assert!(f.notes[0].contains("zero-length"), "{:?}", f.notes);
    // A second last fragment with another end.
    run.v4(0, ipv4(3, 17, 8, false, &[1; 8]));
    let f = run.v4(0, ipv4(3, 17, 8, false, &[1; 16]));
    assert!(f.notes[0].contains("second last fragment"), "{:?}", f.notes);
    assert!(run.frames.iter().all(|f| f.reassembled.is_empty()));
}

#[test]
fn incomplete_datagrams_time_out_in_capture_time() {
    let datagram = udp(1, 2, &[7; 64]);
    let mut run = Run::ip_tcp();
    run.v4(100, ipv4(5, 17, 0, true, &datagram[..32]));
    // 29 s later: still waiting.
    let f = run.v4(129, ipv4(6, 17, 0, false, &udp(1, 2, b"x")));
    assert!(f.reassembled.is_empty());
    let f = run.v4(131, ipv4(7, 17, 0, false, &udp(1, 2, b"y")));
    assert_eq!(f.reassembled.len(), 1);
    let r = &f.reassembled[0];
    assert!(!r.completed);
    assert_eq!(r.frames, vec![1]);
    assert_eq!(r.holes, vec![32..OPEN_END]);
    assert!(
        r.layers.is_empty(),
        "strict: incomplete data is not dissected"
    );

    // Not strict: the same data is dissected over what arrived, still incomplete.
    let mut run = Run::new(ReassemblyOptions {
        ipv4: true,
        strict: false,
        ..ReassemblyOptions::default()
    });
    run.v4(100, ipv4(5, 17, 0, true, &datagram[..32]));
    let rest = run.session.finish();
    assert_eq!(rest.len(), 1);
    assert!(!rest[0].completed);
    assert_eq!(rest[0].layers[0].protocol(), Some(ProtocolId::Udp));
}

#[test]
fn a_flood_of_fragments_stays_within_the_budget() {
    let budget = 1 << 20;
    let mut session = Session::new(
        ReassemblyOptions {
            ipv4: true,
            memory: budget,
            ..ReassemblyOptions::default()
        },
        Thresholds::default(),
    );
    let mut frame = Frame::default();
    let mut given_up = 0;
    for id in 0..200_000u32 {
        let packet = ipv4(id as u16, (id >> 16) as u8, 8, true, &[0xEE; 64]);
        chain::dissect(
            &packet,
            LINKTYPE_RAW_IPV4,
            &Thresholds::default(),
            &mut frame.layers,
        );
        frame.number = u64::from(id) + 1;
        session.process(&mut frame, &packet);
        given_up += frame.reassembled.len();
        assert!(session.held() <= budget, "held {} at {id}", session.held());
    }
    assert!(given_up > 150_000, "the oldest were given up: {given_up}");
}

/// A client at 10.0.0.1:40000 talking to 10.0.0.2:80.
fn segment(client: bool, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let (src, dst, sport, dport) = if client {
        ([10, 0, 0, 1], [10, 0, 0, 2], 40000, 80)
    } else {
        ([10, 0, 0, 2], [10, 0, 0, 1], 80, 40000)
    };
    ipv4_between(
        src,
        dst,
        0,
        6,
        0,
        false,
        &tcp(sport, dport, seq, flags, payload),
    )
}

fn http_fields(f: &Frame) -> Vec<(String, String, u16)> {
    f.all_layers()
        .filter_map(|(l, _)| match l.header() {
            Some(Header::Http(h)) => Some((h.method.clone(), h.uri.clone(), h.status)),
            _ => None,
        })
        .collect()
}

#[test]
fn http_messages_are_dissected_on_the_frame_that_completes_them() {
    let request =
        b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n0123456789abcdefghij";
    let response = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    let mut run = Run::ip_tcp();
    run.v4(0, segment(true, 1000, SYN, b""));
    run.v4(0, segment(false, 5000, SYN | ACK, b""));
    // The request in three segments, the middle one last.
    let f = run.v4(1, segment(true, 1001, PSH_ACK, &request[..30]));
    assert_eq!(
        f.protocols(),
        "IPv4:TCP",
        "a segment of a message is not HTTP yet"
    );
    assert_eq!(f.tcp_stream, Some(0));
    run.v4(1, segment(true, 1001 + 50, PSH_ACK, &request[50..]));
    let f = run.v4(1, segment(true, 1001 + 30, PSH_ACK, &request[30..50]));
    assert_eq!(f.protocols(), "IPv4:TCP:HTTP:Raw");
    assert_eq!(http_fields(f), vec![("POST".into(), "/upload".into(), 0)]);
    assert_eq!(f.reassembled[0].data, request);
    assert_eq!(f.reassembled[0].frames, vec![3, 4, 5]);
    let f = run.v4(2, segment(false, 5001, PSH_ACK, response));
    assert_eq!(http_fields(f), vec![(String::new(), String::new(), 200)]);
    assert_eq!(f.tcp_stream, Some(0));
    // A new connection from another port is stream 1.
    let other = ipv4_between(
        [10, 0, 0, 3],
        [10, 0, 0, 2],
        0,
        6,
        0,
        false,
        &tcp(1, 80, 0, SYN, b""),
    );
    assert_eq!(run.v4(3, other).tcp_stream, Some(1));
}

#[test]
fn pipelined_requests_in_one_segment_are_each_dissected() {
    let two = b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
    let mut run = Run::ip_tcp();
    run.v4(0, segment(true, 0, SYN, b""));
    let f = run.v4(0, segment(true, 1, PSH_ACK, two));
    let got: Vec<String> = http_fields(f).into_iter().map(|(_, u, _)| u).collect();
    assert_eq!(got, vec!["/a", "/b"]);
    assert_eq!(f.protocols(), "IPv4:TCP:HTTP:HTTP");
}

#[test]
fn a_response_without_length_ends_at_the_close() {
    let mut run = Run::ip_tcp();
    run.v4(0, segment(true, 0, SYN, b""));
    run.v4(0, segment(true, 1, PSH_ACK, b"GET / HTTP/1.0\r\n\r\n"));
    let f = run.v4(
        0,
        segment(false, 100, PSH_ACK, b"HTTP/1.0 200 OK\r\n\r\nbody..."),
    );
    assert!(http_fields(f).is_empty());
    let f = run.v4(0, segment(false, 100 + 26, FIN | ACK, b"...end"));
    assert_eq!(http_fields(f), vec![(String::new(), String::new(), 200)]);
    assert_eq!(
        f.reassembled[0].data,
        b"HTTP/1.0 200 OK\r\n\r\nbody......end"
    );
}

#[test]
fn a_syn_flood_stays_within_the_budget() {
    let budget = 4 << 20;
    let mut session = Session::new(
        ReassemblyOptions {
            tcp: true,
            memory: budget,
            ..ReassemblyOptions::default()
        },
        Thresholds::default(),
    );
    let mut frame = Frame::default();
    for i in 0..100_000u32 {
        let src = [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
        let packet = ipv4_between(
            src,
            [10, 0, 0, 2],
            0,
            6,
            0,
            false,
            &tcp(1024, 80, i, SYN, b""),
        );
        chain::dissect(
            &packet,
            LINKTYPE_RAW_IPV4,
            &Thresholds::default(),
            &mut frame.layers,
        );
        frame.number = u64::from(i) + 1;
        session.process(&mut frame, &packet);
        assert!(session.held() <= budget);
    }
}

#[test]
fn segments_far_outside_the_window_are_noted_and_dropped() {
    let mut run = Run::ip_tcp();
    run.v4(0, segment(true, 0, SYN, b""));
    let f = run.v4(
        0,
        segment(true, 0x4000_0000, PSH_ACK, b"GET / HTTP/1.1\r\n\r\n"),
    );
    assert!(
        f.notes.iter().any(|n| n.contains("far outside the window")),
        "{:?}",
        f.notes
    );
    assert!(f.reassembled.is_empty());
}

#[test]
fn ipv6_fragments_take_the_upper_protocol_from_the_first() {
    // Unbound ports: the payload stays Raw whatever protocols are added.
    let datagram = udp(40001, 40002, &[9; 100]);
    let frag = |offset: usize, more: bool, bytes: &[u8]| {
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&((8 + bytes.len()) as u16).to_be_bytes());
        p.extend_from_slice(&[44, 64]);
        p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8].repeat(4));
        p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb9].repeat(4));
        p.extend_from_slice(&[17, 0]);
        p.extend_from_slice(&((offset as u16) | u16::from(more)).to_be_bytes());
        p.extend_from_slice(&0xdead_beefu32.to_be_bytes());
        p.extend_from_slice(bytes);
        p
    };
    let mut run = Run::ip_tcp();
    let f = run.feed(LINKTYPE_RAW_IPV6, 0, frag(56, false, &datagram[56..]));
    assert_eq!(f.protocols(), "IPv6:IPv6-Frag:Raw");
    let f = run.feed(LINKTYPE_RAW_IPV6, 0, frag(0, true, &datagram[..56]));
    assert_eq!(f.protocols(), "IPv6:IPv6-Frag:UDP:Raw");
    assert_eq!(f.reassembled[0].kind, ReassemblyKind::Ipv6);
    assert_eq!(f.reassembled[0].data, datagram);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any UDP datagram, cut into fragments, shuffled, with duplicates, comes back whole
    /// on the frame that brought the last missing fragment.
    #[test]
    fn shuffled_fragments_reassemble_exactly(
        body in proptest::collection::vec(any::<u8>(), 1..3000),
        size in 1usize..64,
        order in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
        dups in proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
    ) {
        let datagram = udp(7, 8, &body);
        let mut pieces = fragments(&datagram, size * 8);
        // One piece is a whole datagram, not a fragment.
        prop_assume!(pieces.len() > 1);
        for (i, o) in order.iter().enumerate() {
            let (j, k) = (o.index(pieces.len()), i % pieces.len());
            pieces.swap(k, j);
        }
        for d in &dups {
            let p = pieces[d.index(pieces.len())].clone();
            pieces.push(p);
        }
        let mut run = Run::ip_tcp();
        let mut done = Vec::new();
        for (offset, more, bytes) in &pieces {
            let f = run.v4(0, ipv4(42, 17, *offset, *more, bytes));
            done.extend(f.reassembled.iter().map(|r| (f.number, r.clone())));
        }
        // Duplicates arriving after the datagram completed start it again (the same id
        // may be a new datagram), so it may complete more than once: always whole.
        prop_assert!(!done.is_empty());
        for (_, r) in &done {
            prop_assert_eq!(&r.data, &datagram);
            prop_assert!(r.completed);
        }
    }

    /// Any HTTP body, cut into random segments delivered in random order with some
    /// retransmitted, comes back as the one message sent.
    #[test]
    fn shuffled_segments_reassemble_the_message(
        body in proptest::collection::vec(any::<u8>(), 0..4000),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
        order in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
        isn in any::<u32>(),
    ) {
        let mut message = format!("POST /p HTTP/1.1\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
        message.extend_from_slice(&body);
        let mut bounds: Vec<usize> = cuts.iter().map(|c| c.index(message.len())).collect();
        bounds.extend([0, message.len()]);
        bounds.sort_unstable();
        bounds.dedup();
        let mut pieces: Vec<(usize, usize)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
        for (i, o) in order.iter().enumerate() {
            let j = o.index(pieces.len());
            let k = i % pieces.len();
            pieces.swap(k, j);
            if i % 3 == 0 {
                let again = pieces[j];
                pieces.push(again);
            }
        }
        let mut run = Run::ip_tcp();
        run.v4(0, segment(true, isn, SYN, b""));
        let mut done = Vec::new();
        for (s, e) in pieces {
            let seq = isn.wrapping_add(1).wrapping_add(s as u32);
            let f = run.v4(0, segment(true, seq, PSH_ACK, &message[s..e]));
            done.extend(f.reassembled.iter().cloned());
        }
        prop_assert_eq!(done.len(), 1);
        prop_assert_eq!(&done[0].data, &message);
        prop_assert!(done[0].completed);
    }
}

#[test]
fn a_segment_cut_by_the_snapshot_length_keeps_its_own_dissection() {
    let mut run = Run::ip_tcp();
    run.v4(0, segment(true, 0, SYN, b""));
    let mut head = b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n".to_vec();
    head.extend_from_slice(&[b'z'; 1000]);
    let mut cut = segment(false, 100, PSH_ACK, &head);
    cut.truncate(40 + 60);
    let f = run.v4(0, cut);
    assert_eq!(
        f.protocols(),
        "IPv4:TCP:HTTP:Raw",
        "as tshark: the part captured, dissected"
    );
    assert_eq!(f.tcp_lengths(), vec![head.len() as u64]);
    // The rest of the body, captured without payload, then the next message: found
    // after the gaps the snapshot length left.
    let mut rest = segment(false, 100 + head.len() as u32, PSH_ACK, &[b'z'; 4000]);
    rest.truncate(40);
    assert_eq!(run.v4(0, rest).protocols(), "IPv4:TCP");
    let next = 100 + head.len() as u32 + 4000;
    let f = run.v4(
        0,
        segment(false, next, PSH_ACK, b"HTTP/1.1 204 No Content\r\n\r\n"),
    );
    assert_eq!(http_fields(f), vec![(String::new(), String::new(), 204)]);
}

#[test]
fn an_idle_connection_keeps_its_stream_number() {
    let mut run = Run::ip_tcp();
    run.v4(0, segment(true, 0, SYN, b""));
    run.v4(
        1,
        ipv4_between(
            [10, 0, 0, 9],
            [10, 0, 0, 2],
            0,
            6,
            0,
            false,
            &tcp(9, 80, 0, SYN, b""),
        ),
    );
    // Years later, with no SYN: the same conversation, as tshark numbers it.
    let f = run.v4(
        400_000_000,
        segment(true, 1, PSH_ACK, b"GET / HTTP/1.1\r\n\r\n"),
    );
    assert_eq!(f.tcp_stream, Some(0));
    assert_eq!(http_fields(f).len(), 1);
}

#[test]
fn the_command_line_shows_what_reassembly_did() {
    let dir = tempfile::tempdir().unwrap();
    let whole = udp(1000, 2000, &[5; 40]);
    let lost = udp(1000, 2000, &[6; 40]);
    let records = [
        ipv4(10, 17, 0, true, &whole[..24]),
        ipv4(10, 17, 24, false, &whole[24..]),
        ipv4(11, 17, 0, true, &lost[..24]),
    ]
    .map(|p| common::PcapRecord::new(1_700_000_000, 0, p));
    let path = common::write_file(
        dir.path(),
        "frags.pcap",
        &common::pcap_file(LINKTYPE_RAW_IPV4, &records),
    );

    let table = common::Table::parse(&common::ok(&common::run([
        path.to_str().unwrap(),
        "--ip",
        "-e",
        "frame.protocols",
        "-e",
        "udp.dstport",
    ])));
    assert_eq!(
        table.column("frame.protocols"),
        vec!["IPv4:Raw", "IPv4:UDP:Raw", "IPv4:Raw"]
    );
    assert_eq!(table.column("udp.dstport"), vec!["", "2000", ""]);

    let json = common::ok(&common::run([path.to_str().unwrap(), "--ip", "-f", "json"]));
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let done = &doc["Frame 2"]["reassembly"][0];
    assert_eq!(done["kind"], "ipv4");
    assert_eq!(done["completed"], true);
    assert_eq!(done["frames"], serde_json::json!([1, 2]));
    assert_eq!(done["length"], 48);
    assert_eq!(doc["Frame 2"]["ipv4"]["udp"]["dstport"], 2000);
    let left = &doc["Incomplete Reassembly"][0];
    assert_eq!(left["completed"], false);
    assert_eq!(left["id"], 11);
    assert_eq!(left["holes"], serde_json::json!([[24, null]]));

    // Without --ip: as before, the first fragment's UDP header is dissected.
    let table = common::Table::parse(&common::ok(&common::run([
        path.to_str().unwrap(),
        "-e",
        "frame.protocols",
    ])));
    assert_eq!(
        table.column("frame.protocols"),
        vec!["IPv4:UDP:Raw", "IPv4:Raw", "IPv4:UDP:Raw"]
    );
}
