//! HTTP/2 and HPACK: the RFC 7541 Appendix C examples, header blocks split across
//! HEADERS and CONTINUATION frames, a property test against an independent encoder, and
//! hostile input (table overflow, Huffman padding, bad indexes, SETTINGS floods, frames
//! longer than their bytes).
//!
//! Expected values are the RFC's, never pcapkit's own output.

use crate::common::{self, hex};
use loona_hpack::decoder::{Decoder, DecoderError};
use loona_hpack::huffman::HuffmanDecoderError;
use pcapkit::chain::{self, Reassembled, ReassemblyKind, Thresholds};
use pcapkit::conversation::http2::{Http2State, MAX_TABLE_SIZE};
use pcapkit::conversation::PduRef;
use pcapkit::flow::Endpoint;
use pcapkit::protocols::{Header, Next, ProtocolId};
use pcapkit::{Layer, LayerKind};
use proptest::prelude::*;

fn pairs(list: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    list.iter()
        .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}

/// The dynamic table, newest first, read back through indexed representations (index 62
/// is the newest entry, RFC 7541 section 2.3.3), and the index just past it refused.
fn dynamic_table(decoder: &mut Decoder<'_>) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    for index in 62u8..127 {
        match decoder.decode(&[0x80 | index]) {
            Ok(mut one) => out.push(one.remove(0)),
            Err(DecoderError::HeaderIndexOutOfBounds) => return out,
            Err(e) => panic!("index {index}: {e:?}"),
        }
    }
    panic!("the table has more than 65 entries")
}

/// HPACK's size of a table: each entry's name and value lengths plus 32 (section 4.1).
fn table_size(table: &[(Vec<u8>, Vec<u8>)]) -> usize {
    table.iter().map(|(n, v)| n.len() + v.len() + 32).sum()
}

/// One step of an Appendix C sequence: the block, the header list, the dynamic table
/// after it (newest first) and its size.
struct Step<'a> {
    block: &'a str,
    headers: &'a [(&'a str, &'a str)],
    table: &'a [(&'a str, &'a str)],
    size: usize,
}

fn run_sequence(table_max: usize, steps: &[Step<'_>]) {
    let mut decoder = Decoder::new();
    decoder.set_max_table_size(table_max);
    for (i, step) in steps.iter().enumerate() {
        let got = decoder.decode(&hex(step.block)).expect("decodes");
        assert_eq!(got, pairs(step.headers), "step {} headers", i + 1);
        let table = dynamic_table(&mut decoder);
        assert_eq!(table, pairs(step.table), "step {} table", i + 1);
        assert_eq!(table_size(&table), step.size, "step {} table size", i + 1);
    }
}

const REQ1: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "www.example.com"),
];
const REQ2: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "www.example.com"),
    ("cache-control", "no-cache"),
];
const REQ3: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "https"),
    (":path", "/index.html"),
    (":authority", "www.example.com"),
    ("custom-key", "custom-value"),
];
const REQ_T1: &[(&str, &str)] = &[(":authority", "www.example.com")];
const REQ_T2: &[(&str, &str)] = &[
    ("cache-control", "no-cache"),
    (":authority", "www.example.com"),
];
const REQ_T3: &[(&str, &str)] = &[
    ("custom-key", "custom-value"),
    ("cache-control", "no-cache"),
    (":authority", "www.example.com"),
];

const DATE1: &str = "Mon, 21 Oct 2013 20:13:21 GMT";
const DATE2: &str = "Mon, 21 Oct 2013 20:13:22 GMT";
const LOCATION: &str = "https://www.example.com";
const COOKIE: &str = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";

fn responses(blocks: [&str; 3]) {
    let r1 = [
        (":status", "302"),
        ("cache-control", "private"),
        ("date", DATE1),
        ("location", LOCATION),
    ];
    let t1 = [
        ("location", LOCATION),
        ("date", DATE1),
        ("cache-control", "private"),
        (":status", "302"),
    ];
    let r2 = [
        (":status", "307"),
        ("cache-control", "private"),
        ("date", DATE1),
        ("location", LOCATION),
    ];
    let t2 = [
        (":status", "307"),
        ("location", LOCATION),
        ("date", DATE1),
        ("cache-control", "private"),
    ];
    let r3 = [
        (":status", "200"),
        ("cache-control", "private"),
        ("date", DATE2),
        ("location", LOCATION),
        ("content-encoding", "gzip"),
        ("set-cookie", COOKIE),
    ];
    let t3 = [
        ("set-cookie", COOKIE),
        ("content-encoding", "gzip"),
        ("date", DATE2),
    ];
    run_sequence(
        256,
        &[
            Step {
                block: blocks[0],
                headers: &r1,
                table: &t1,
                size: 222,
            },
            Step {
                block: blocks[1],
                headers: &r2,
                table: &t2,
                size: 222,
            },
            Step {
                block: blocks[2],
                headers: &r3,
                table: &t3,
                size: 215,
            },
        ],
    );
}

#[test]
fn rfc7541_c2_header_field_representations() {
    // C.2.1 literal with indexing, C.2.2 without, C.2.3 never indexed, C.2.4 indexed:
    // each on a fresh decoder.
    type Fields<'a> = &'a [(&'a str, &'a str)];
    let cases: [(&str, Fields<'_>, Fields<'_>, usize); 4] = [
        (
            "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
            &[("custom-key", "custom-header")],
            &[("custom-key", "custom-header")],
            55,
        ),
        (
            "040c 2f73 616d 706c 652f 7061 7468",
            &[(":path", "/sample/path")],
            &[],
            0,
        ),
        (
            "1008 7061 7373 776f 7264 0673 6563 7265 74",
            &[("password", "secret")],
            &[],
            0,
        ),
        ("82", &[(":method", "GET")], &[], 0),
    ];
    for (block, headers, table, size) in cases {
        run_sequence(
            4096,
            &[Step {
                block,
                headers,
                table,
                size,
            }],
        );
    }
}

#[test]
fn rfc7541_c3_requests_without_huffman() {
    run_sequence(
        4096,
        &[
            Step {
                block: "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
                headers: REQ1,
                table: REQ_T1,
                size: 57,
            },
            Step {
                block: "8286 84be 5808 6e6f 2d63 6163 6865",
                headers: REQ2,
                table: REQ_T2,
                size: 110,
            },
            Step {
                block: "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
                headers: REQ3,
                table: REQ_T3,
                size: 164,
            },
        ],
    );
}

#[test]
fn rfc7541_c4_requests_with_huffman() {
    run_sequence(
        4096,
        &[
            Step {
                block: "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
                headers: REQ1,
                table: REQ_T1,
                size: 57,
            },
            Step {
                block: "8286 84be 5886 a8eb 1064 9cbf",
                headers: REQ2,
                table: REQ_T2,
                size: 110,
            },
            Step {
                block: "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
                headers: REQ3,
                table: REQ_T3,
                size: 164,
            },
        ],
    );
}

#[test]
fn rfc7541_c5_responses_without_huffman() {
    responses([
        "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
         2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
         6c65 2e63 6f6d",
        "4803 3330 37c1 c0bf",
        "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
         54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
         5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
         3d31",
    ]);
}

#[test]
fn rfc7541_c6_responses_with_huffman() {
    responses([
        "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
         2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
        "4883 640e ffc1 c0bf",
        "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
         77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
         9587 3160 65c0 03ed 4ee5 b106 3d50 07",
    ]);
}

// ---------------------------------------------------------------------------------------
// Through the session's state: frames dissected by the spec, header blocks decoded
// ---------------------------------------------------------------------------------------

fn ep(port: u16) -> Endpoint {
    Endpoint {
        addr: "192.0.2.1".parse().expect("address"),
        port,
    }
}

/// A frame: the 9-byte header, then `payload`.
fn frame(ty: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut out = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, ty, flags];
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Feeds frames to one direction (client → server) of connection 0 as PDUs, one frame
/// each, in stream order; returns each PDU's layers and notes.
struct Conn {
    state: Http2State,
    offset: u64,
    /// The frame number of the next PDU (one PDU a frame).
    frame: u64,
    /// HTTP/2 bodies put together so far.
    bodies: Vec<Reassembled>,
}

impl Conn {
    fn new() -> Conn {
        Conn {
            state: Http2State::new(),
            offset: 24,
            frame: 1,
            bodies: Vec::new(),
        }
    }

    fn send(&mut self, bytes: &[u8]) -> (Vec<Layer>, Vec<String>) {
        self.send_from(ep(50000), ep(80), bytes)
    }

    fn send_from(
        &mut self,
        src: Endpoint,
        dst: Endpoint,
        bytes: &[u8],
    ) -> (Vec<Layer>, Vec<String>) {
        let mut layers = Vec::new();
        chain::dissect_next(
            Next {
                protocol: ProtocolId::Http2,
                name: None,
            },
            bytes,
            &Thresholds::default(),
            &mut layers,
        );
        let mut notes = Vec::new();
        let bodies = self.state.apply(
            PduRef {
                stream: 0,
                src,
                dst,
                offset: self.offset,
                data: bytes,
                frame: self.frame,
                completed: true,
            },
            &mut layers,
            &mut notes,
        );
        self.bodies.extend(bodies);
        self.offset += bytes.len() as u64;
        self.frame += 1;
        (layers, notes)
    }
}

/// The decoded header list of the first HTTP/2 layer.
fn headers(layers: &[Layer]) -> Vec<(String, String)> {
    match &layers[0].kind {
        LayerKind::Header(Header::Http2(h)) => h.headers.clone(),
        other => panic!("not an HTTP/2 header: {other:?}"),
    }
}

fn pseudo(layers: &[Layer]) -> [String; 4] {
    match &layers[0].kind {
        LayerKind::Header(Header::Http2(h)) => [
            h.method.clone(),
            h.path.clone(),
            h.status.clone(),
            h.authority.clone(),
        ],
        other => panic!("not an HTTP/2 header: {other:?}"),
    }
}

fn owned(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;

#[test]
fn c4_requests_as_headers_frames_fill_the_pseudo_header_fields() {
    let mut conn = Conn::new();
    let blocks = [
        "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
        "8286 84be 5886 a8eb 1064 9cbf",
        "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
    ];
    let expected = [REQ1, REQ2, REQ3];
    for (i, (block, want)) in blocks.iter().zip(expected).enumerate() {
        let stream = 1 + 2 * i as u32;
        let (layers, notes) = conn.send(&frame(1, END_HEADERS | END_STREAM, stream, &hex(block)));
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(headers(&layers), owned(want));
        let path = if i == 2 { "/index.html" } else { "/" };
        assert_eq!(
            pseudo(&layers),
            [
                "GET".into(),
                path.into(),
                String::new(),
                "www.example.com".into()
            ]
        );
    }
}

#[test]
fn a_block_split_anywhere_across_continuation_frames_decodes_the_same() {
    // C.4's three requests in one direction, the third split at every byte.
    let blocks = [
        hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"),
        hex("8286 84be 5886 a8eb 1064 9cbf"),
        hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"),
    ];
    for cut in 0..=blocks[2].len() {
        let mut conn = Conn::new();
        conn.send(&frame(1, END_HEADERS, 1, &blocks[0]));
        conn.send(&frame(1, END_HEADERS, 3, &blocks[1]));
        let (first, notes1) = conn.send(&frame(1, 0, 5, &blocks[2][..cut]));
        let (second, notes2) = conn.send(&frame(9, END_HEADERS, 5, &blocks[2][cut..]));
        assert!(
            notes1.is_empty() && notes2.is_empty(),
            "{notes1:?} {notes2:?}"
        );
        let mut all = headers(&first);
        all.extend(headers(&second));
        assert_eq!(all, owned(REQ3), "cut at {cut}");
    }
}

#[test]
fn padding_and_priority_around_a_header_block() {
    // HEADERS with PADDED and PRIORITY: pad length 3, exclusive dependency on 0, weight 16.
    let mut payload = vec![3, 0x80, 0, 0, 0, 15];
    payload.extend(hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"));
    payload.extend([0, 0, 0]);
    let (layers, notes) = Conn::new().send(&frame(1, 0x20 | 0x08 | END_HEADERS, 1, &payload));
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(headers(&layers), owned(REQ1));
}

#[test]
fn settings_header_table_size_bounds_the_other_directions_table() {
    let mut conn = Conn::new();
    // A size update to 8192 is refused while the receiver allows the default 4096 ...
    let update_8192 = hex("3fe1 3f 82");
    let (_, notes) = conn.send(&frame(1, END_HEADERS, 1, &update_8192));
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("table size"), "{notes:?}");
    // ... and accepted on a new connection once the server's SETTINGS allow 8192.
    let mut conn = Conn::new();
    let settings = frame(4, 0, 0, &[0, 1, 0, 0, 0x20, 0]);
    conn.send_from(ep(80), ep(50000), &settings);
    let (layers, notes) = conn.send(&frame(1, END_HEADERS, 1, &update_8192));
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(headers(&layers), owned(&[(":method", "GET")]));
}

// ---------------------------------------------------------------------------------------
// Hostile input
// ---------------------------------------------------------------------------------------

#[test]
fn a_table_size_update_past_the_cap_is_refused_and_breaks_the_decoder() {
    let mut conn = Conn::new();
    // The server allows 1 GiB: capped at 64 KiB.
    conn.send_from(ep(80), ep(50000), &frame(4, 0, 0, &[0, 1, 0x40, 0, 0, 0]));
    // A size update to 65537 (0x3f then 65506 in 7-bit groups).
    let mut block = vec![0x3f];
    let mut rest = (MAX_TABLE_SIZE + 1 - 31) as u32;
    while rest >= 128 {
        block.push((rest as u8 & 0x7f) | 0x80);
        rest >>= 7;
    }
    block.push(rest as u8);
    block.push(0x82);
    let (_, notes) = conn.send(&frame(1, END_HEADERS, 1, &block));
    assert!(notes[0].contains("table size update beyond"), "{notes:?}");
    // Later blocks are reported, not decoded with a table that may be wrong.
    let (layers, notes) = conn.send(&frame(1, END_HEADERS, 3, &[0x82]));
    assert!(headers(&layers).is_empty());
    assert!(notes[0].contains("not decoded"), "{notes:?}");
}

#[test]
fn huffman_strings_are_decoded_before_the_hpack_decoder() {
    // RFC 7541 C.4.1 (Huffman) reads as C.3.1 (plain) does, and is rewritten plain.
    let coded = hex("828684418cf1e3c2e5f23a6ba0ab90f4ff");
    let plain = hex("828684410f7777772e6578616d706c652e636f6d");
    let rewritten = pcapkit::conversation::http2::without_huffman(&coded);
    assert_eq!(&rewritten[..], &plain[..]);
    // Nothing to rewrite: the block itself.
    assert!(matches!(
        pcapkit::conversation::http2::without_huffman(&plain),
        std::borrow::Cow::Borrowed(_)
    ));
    // Zero bits of padding, the EOS code inside, a cut representation: left as they
    // are, for the HPACK decoder to judge.
    for bad in [
        &[0x04, 0x81, 0x00][..],
        &[0x04, 0x84, 0xff, 0xff, 0xff, 0xff],
        &[0x04, 0x85, 0x63],
    ] {
        assert_eq!(&pcapkit::conversation::http2::without_huffman(bad)[..], bad);
    }
}

#[test]
fn huffman_padding_errors_are_reported() {
    // A literal without indexing, name `:path` (index 4), Huffman value 0x00: '0' (00000)
    // then three 0 bits of padding, which must be the EOS prefix (ones).
    let mut decoder = Decoder::new();
    assert_eq!(
        decoder.decode(&[0x04, 0x81, 0x00]),
        Err(DecoderError::StringDecodingError(
            loona_hpack::decoder::StringDecodingError::HuffmanDecoderError(
                HuffmanDecoderError::InvalidPadding
            )
        ))
    );
    // Padding longer than 7 bits: "0" then a whole byte of ones.
    assert!(decoder.decode(&[0x04, 0x82, 0x07, 0xff]).is_err());
    let (_, notes) = Conn::new().send(&frame(1, END_HEADERS, 1, &[0x04, 0x81, 0x00]));
    assert!(notes[0].contains("Huffman"), "{notes:?}");
}

#[test]
fn a_bad_index_and_a_block_cut_at_its_end_are_reported() {
    let (_, notes) = Conn::new().send(&frame(1, END_HEADERS, 1, &[0xff, 0x10]));
    assert!(notes[0].contains("index"), "{notes:?}");
    // END_HEADERS on a block whose last field is cut.
    let (_, notes) = Conn::new().send(&frame(1, END_HEADERS, 1, &[0x04, 0x0c, b'/']));
    assert!(notes[0].contains("HPACK error"), "{notes:?}");
    // CONTINUATION with no block open.
    let (_, notes) = Conn::new().send(&frame(9, END_HEADERS, 1, &[0x82]));
    assert!(
        notes[0].contains("without an open header block"),
        "{notes:?}"
    );
}

#[test]
fn a_settings_flood_keeps_memory_flat() {
    let mut conn = Conn::new();
    let mut entries = Vec::new();
    for i in 0..1000u32 {
        entries.extend_from_slice(&[0, 1]);
        entries.extend_from_slice(&(i * 4096).to_be_bytes());
    }
    let settings = frame(4, 0, 0, &entries);
    conn.send_from(ep(80), ep(50000), &settings);
    let held = conn.state.held();
    for _ in 0..2000 {
        conn.send_from(ep(80), ep(50000), &settings);
        conn.send(&frame(4, 0, 0, &entries));
    }
    assert!(conn.state.held() <= held.max(2 * (MAX_TABLE_SIZE + 4096)));
    assert_eq!(conn.state.len(), 2);
}

#[test]
fn frames_longer_than_their_bytes_or_the_max_frame_size_are_malformed() {
    for bytes in [
        frame(0, 0, 1, &[])
            .into_iter()
            .chain([1, 2, 3])
            .collect::<Vec<u8>>(),
        {
            let mut f = frame(1, END_HEADERS, 1, &[0x82]);
            f[0] = 0xff; // length 16 MiB: past SETTINGS_MAX_FRAME_SIZE's largest value too
            f
        },
        {
            let mut f = frame(0, 0x08, 1, &[200, 1, 2]);
            f[2] = 3; // pad length 200 in a 3-byte payload
            f
        },
    ] {
        let (layers, _) = Conn::new().send(&bytes);
        // Cut short (as by a snapshot length) or Malformed: never a whole frame.
        assert!(
            layers
                .iter()
                .any(|l| l.truncated.is_some() || matches!(l.kind, LayerKind::Malformed { .. })),
            "{layers:?}"
        );
    }
    let mut f = frame(0, 0x08, 1, &[200, 1, 2]);
    f[2] = 3;
    let (layers, _) = Conn::new().send(&f);
    assert!(
        matches!(layers[0].kind, LayerKind::Malformed { .. }),
        "{:?}",
        layers[0].kind
    );
}

// ---------------------------------------------------------------------------------------
// Property: header lists encoded by an independent encoder decode back exactly
// ---------------------------------------------------------------------------------------

/// A tiny HPACK encoder written here (not the decoder's crate, nor pcapkit's own
/// integer writer): every field a literal with a literal name, with incremental indexing
/// or without as `index` says in turn, each string Huffman-coded (by the httlib-huffman
/// encoder) or not as `huffman` says in turn.
fn encode(list: &[(String, String)], index: &[bool], huffman: &[bool]) -> Vec<u8> {
    fn integer(out: &mut Vec<u8>, first: u8, prefix: u8, mut v: usize) {
        let max = (1usize << prefix) - 1;
        if v < max {
            out.push(first | v as u8);
            return;
        }
        out.push(first | max as u8);
        v -= max;
        while v >= 128 {
            out.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    let mut out = Vec::new();
    let mut k = 0;
    let mut string = |out: &mut Vec<u8>, s: &str| {
        k += 1;
        if huffman[k % huffman.len()] {
            let mut coded = Vec::new();
            httlib_huffman::encode(s.as_bytes(), &mut coded).unwrap();
            integer(out, 0x80, 7, coded.len());
            out.extend_from_slice(&coded);
        } else {
            integer(out, 0, 7, s.len());
            out.extend_from_slice(s.as_bytes());
        }
    };
    for (i, (name, value)) in list.iter().enumerate() {
        out.push(if index[i % index.len()] { 0x40 } else { 0x00 });
        string(&mut out, name);
        string(&mut out, value);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_header_lists_decode_back_exactly(
        lists in prop::collection::vec(
            prop::collection::vec(("[a-z][a-z0-9-]{0,20}", "[ -~]{0,300}"), 0..12),
            1..5,
        ),
        index in prop::collection::vec(any::<bool>(), 1..8),
        huffman in prop::collection::vec(any::<bool>(), 1..8),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 1..4),
    ) {
        let mut conn = Conn::new();
        // The same blocks through loona-hpack's own Huffman decoder, whole.
        let mut direct = Decoder::new();
        for (k, list) in lists.iter().enumerate() {
            let block = encode(list, &index, &huffman);
            let plain: Vec<(String, String)> = direct
                .decode(&block)
                .unwrap()
                .into_iter()
                .map(|(n, v)| (String::from_utf8(n).unwrap(), String::from_utf8(v).unwrap()))
                .collect();
            prop_assert_eq!(&plain, list);
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(block.len() + 1)).collect();
            points.sort_unstable();
            let mut decoded = Vec::new();
            let mut start = 0;
            let stream = 1 + 2 * k as u32;
            for (j, &p) in points.iter().chain([&block.len()]).enumerate() {
                let last = j == points.len();
                let ty = if j == 0 { 1 } else { 9 };
                let flags = if last { END_HEADERS } else { 0 };
                let (layers, notes) = conn.send(&frame(ty, flags, stream, &block[start..p]));
                prop_assert!(notes.is_empty(), "{:?}", notes);
                decoded.extend(headers(&layers));
                start = p;
            }
            prop_assert_eq!(&decoded, list);
        }
    }

    #[test]
    fn random_blocks_never_panic(blocks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 1..8)) {
        let mut conn = Conn::new();
        for (i, b) in blocks.iter().enumerate() {
            let ty = [1u8, 9, 5, 4][i % 4];
            conn.send(&frame(ty, if i % 2 == 0 { END_HEADERS } else { 0 }, 1, b));
            let mut decoder = Decoder::new();
            decoder.set_max_allowed_table_size(MAX_TABLE_SIZE);
            let _ = decoder.decode(b);
        }
    }
}

#[test]
fn the_preface_finds_http2_on_any_port_without_reassembly() {
    // A TCP header 5000 -> 5001 (data offset 5, PSH|ACK), then the preface and an empty
    // SETTINGS frame in one segment.
    let mut segment = vec![
        0x13, 0x88, 0x13, 0x89, 0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0,
    ];
    segment.extend_from_slice(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    segment.extend(frame(4, 0, 0, &[]));
    let mut layers = Vec::new();
    chain::dissect_next(
        Next {
            protocol: ProtocolId::Tcp,
            name: None,
        },
        &segment,
        &Thresholds::default(),
        &mut layers,
    );
    let names: Vec<&str> = layers.iter().map(|l| l.name).collect();
    assert_eq!(names, ["TCP", "HTTP2", "HTTP2"]);
    match &layers[2].kind {
        LayerKind::Header(Header::Http2(h)) => assert_eq!((h.type_, h.length), (4, 0)),
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// DNS over HTTPS bodies spread over DATA frames
// ---------------------------------------------------------------------------------------

const DATA: u8 = 0;
const HEADERS: u8 = 1;
const RST_STREAM: u8 = 3;
const PADDED: u8 = 0x8;

/// A HEADERS frame saying its stream's body is a DNS message: `content-type` (static
/// index 31) as a literal without indexing (RFC 7541, section 6.2.2).
fn dns_headers(stream: u32) -> Vec<u8> {
    let mut block = vec![0x0f, 31 - 15, 23];
    block.extend_from_slice(b"application/dns-message");
    frame(HEADERS, END_HEADERS, stream, &block)
}

/// A DNS query for `a.example` (RFC 1035, section 4.1), id 0x1234.
fn dns_query() -> Vec<u8> {
    let mut m = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(b"\x01a\x07example\x00\x00\x01\x00\x01");
    m
}

#[test]
fn a_dns_body_over_data_frames_is_put_together_on_the_last() {
    let query = dns_query();
    let mut c = Conn::new();
    c.send(&dns_headers(5));
    // Three DATA frames: the first padded, the second empty, the last ends the stream.
    let mut padded = vec![3];
    padded.extend_from_slice(&query[..4]);
    padded.extend_from_slice(&[0; 3]);
    let (layers, notes) = c.send(&frame(DATA, PADDED, 5, &padded));
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(layers.len(), 1, "a piece is not dissected: {layers:?}");
    c.send(&frame(DATA, 0, 5, &[]));
    assert!(c.bodies.is_empty());
    let (layers, notes) = c.send(&frame(DATA, END_STREAM, 5, &query[4..]));
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(
        layers.len(),
        1,
        "the DNS layers are in the body: {layers:?}"
    );
    assert_eq!(c.bodies.len(), 1);
    let body = &c.bodies[0];
    assert_eq!(body.kind, ReassemblyKind::Http2Body);
    assert_eq!(
        body.data, query,
        "the DATA frames' bytes without their padding"
    );
    assert_eq!(body.frames, [2, 3, 4]);
    assert!(body.completed);
    assert_eq!((body.src, body.dst), (ep(50000), ep(80)));
    assert_eq!(body.layers.len(), 1);
    match body.layers[0].header() {
        Some(Header::Dns(d)) => assert_eq!(d.id, 0x1234),
        other => panic!("not DNS: {other:?}"),
    }
    assert_eq!(
        (body.layers[0].offset, body.layers[0].header_len),
        (0, query.len())
    );
}

#[test]
fn a_dns_body_in_one_data_frame_stays_in_the_frame() {
    let query = dns_query();
    let mut c = Conn::new();
    c.send(&dns_headers(1));
    let (layers, _) = c.send(&frame(DATA, END_STREAM, 1, &query));
    assert!(c.bodies.is_empty());
    assert_eq!(layers.len(), 2);
    assert!(matches!(layers[1].header(), Some(Header::Dns(_))));
    assert_eq!(layers[1].offset, 9);
}

#[test]
fn a_dns_body_past_65535_bytes_is_noted_not_held() {
    let mut c = Conn::new();
    c.send(&dns_headers(1));
    let piece = vec![0u8; 16_000];
    let mut said = Vec::new();
    for _ in 0..5 {
        let (_, notes) = c.send(&frame(DATA, 0, 1, &piece));
        said.extend(notes);
        assert!(c.state.held() < 2 * 65_536 + 16_384, "{}", c.state.held());
    }
    let (_, notes) = c.send(&frame(DATA, END_STREAM, 1, &piece[..10]));
    said.extend(notes);
    assert!(c.bodies.is_empty());
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains("longer than 65535 bytes"), "{said:?}");
}

#[test]
fn a_reset_stream_forgets_its_body() {
    let query = dns_query();
    let mut c = Conn::new();
    c.send(&dns_headers(1));
    c.send(&frame(DATA, 0, 1, &query[..6]));
    c.send(&frame(RST_STREAM, 0, 1, &[0, 0, 0, 8]));
    // A DATA frame after the reset (not allowed, RFC 9113 section 6.4) is not a body.
    c.send(&frame(DATA, END_STREAM, 1, &query[6..]));
    assert!(c.bodies.is_empty());
}

/// HTTP/2 with prior knowledge on port 80: the server's SETTINGS first (no HTTP/1 message),
/// then the client's preface and SETTINGS, then PINGs both ways; the same after an HTTP/1
/// CONNECT (a tunnel); and h2c after a `101 Switching Protocols`.
fn prior_knowledge(connect: bool) -> Vec<u8> {
    let settings = frame(4, 0, 0, &[]);
    let ping = frame(6, 0, 0, &[1; 8]);
    let pong = frame(6, 1, 0, &[1; 8]);
    let mut preface = pcapkit::reassembly::tcp::HTTP2_PREFACE.to_vec();
    preface.extend_from_slice(&settings);
    let mut c = common::TcpConversation::new("10.0.0.1:40000", "10.0.0.2:80");
    c.handshake();
    if connect {
        c.send(
            true,
            b"CONNECT example.com:80 HTTP/1.1\r\nHost: example.com:80\r\n\r\n",
        )
        .send(false, b"HTTP/1.1 200 Connection established\r\n\r\n");
    }
    c.send(false, &settings)
        .send(true, &preface)
        .send(true, &ping)
        .send(false, &pong)
        .close();
    c.pcap()
}

fn http2_types(pcap: &[u8], extra: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let input = common::write_file(dir.path(), "h2.pcap", pcap);
    let mut args = vec![input.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.extend(["-e", "frame.number", "-e", "http2.type"]);
    let out = common::ok(&common::run(&args));
    out.lines()
        .skip(1)
        .filter(|l| l.split('\t').nth(1).is_some_and(|v| !v.is_empty()))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_preface_on_an_http_port_makes_the_connection_http2_both_ways() {
    // tshark -r h2.pcap [-o tcp.desegment_tcp_streams:FALSE] -T fields -e frame.number
    //   -e http2.type   (rows with a value; the same with and without desegmentation)
    let wanted = ["5\t4", "6\t6", "7\t6"];
    let pcap = prior_knowledge(false);
    assert_eq!(http2_types(&pcap, &[]), wanted);
    assert_eq!(http2_types(&pcap, &["--ip", "--tcp"]), wanted);
}

#[test]
fn a_preface_through_a_connect_tunnel_stays_data() {
    // tshark -r h2.pcap [-o tcp.desegment_tcp_streams:FALSE] -T fields -e frame.number
    //   -e http2.type   (no row has a value)
    let pcap = prior_knowledge(true);
    assert!(http2_types(&pcap, &[]).is_empty());
    assert!(http2_types(&pcap, &["--ip", "--tcp"]).is_empty());
}
