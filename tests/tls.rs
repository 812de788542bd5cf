//! TLS (specs/application/tls.toml) on reassembled TCP streams, and hostile records.
//!
//! The records are built here by the rules of RFC 8446 / RFC 6066 / RFC 7301, so the
//! expected values are the ones written into them; those of handshake messages spanning
//! records (the capture of `samplegen tls`) are tshark's.

use crate::common::{self, assert_no_crash, write_file, TcpConversation};

use pcapkit::chain::{self, LayerKind, Thresholds};
use pcapkit::protocols::{Next, ProtocolId};

/// A record: content type, version 3.3, length, fragment.
fn record(content_type: u8, fragment: &[u8]) -> Vec<u8> {
    let mut r = vec![content_type, 3, 3];
    r.extend_from_slice(&(fragment.len() as u16).to_be_bytes());
    r.extend_from_slice(fragment);
    r
}

/// `body` with a big-endian length prefix of `width` bytes.
fn prefixed(width: usize, body: &[u8]) -> Vec<u8> {
    let mut v = body.len().to_be_bytes()[8 - width..].to_vec();
    v.extend_from_slice(body);
    v
}

/// A handshake message: type, u24 length, body.
fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![msg_type];
    m.extend(prefixed(3, body));
    m
}

/// An extension: type, u16 length, data.
fn extension(ext_type: u16, data: &[u8]) -> Vec<u8> {
    let mut e = ext_type.to_be_bytes().to_vec();
    e.extend(prefixed(2, data));
    e
}

/// A ClientHello offering TLS_AES_128_GCM_SHA256 (0x1301) and 0xc02f, with SNI `host`
/// and ALPN `h2`, `http/1.1`; `extensions` replaces the extensions block when given.
fn client_hello(host: &str, extensions: Option<Vec<u8>>) -> Vec<u8> {
    let mut sni = vec![0u8];
    sni.extend(prefixed(2, host.as_bytes()));
    let mut alpn = prefixed(1, b"h2");
    alpn.extend(prefixed(1, b"http/1.1"));
    let mut exts = extension(0, &prefixed(2, &sni));
    exts.extend(extension(16, &prefixed(2, &alpn)));
    let mut body = vec![3, 3];
    body.extend([0x5a; 32]); // random
    body.push(0); // no session id
    body.extend(prefixed(2, &[0x13, 0x01, 0xc0, 0x2f]));
    body.extend([1, 0]); // one compression method: null
    body.extend(extensions.unwrap_or_else(|| prefixed(2, &exts)));
    handshake(1, &body)
}

/// `pcapkit FILE --ip --tcp -e ...` on a conversation; the table.
fn tls_fields(c: &TcpConversation, fields: &[&str]) -> common::Table {
    common::conversation_fields(c, &["--ip", "--tcp"], fields)
}

const FIELDS: &[&str] = &[
    "frame.number",
    "tls.content_type",
    "tls.length",
    "tls.handshake_type",
    "tls.ciphersuite",
    "tls.sni",
    "tls.alpn",
];

#[test]
fn a_record_spanning_segments_is_dissected_on_the_frame_that_completes_it() {
    let hello = record(22, &client_hello("example.com", None));
    let mut c = TcpConversation::new("10.0.0.1:40000", "10.0.0.2:443");
    c.handshake()
        .send(true, &hello[..3]) // frame 4: not even a whole header
        .send(true, &hello[3..40]) // 5
        .send(true, &hello[40..]) // 6: completes it
        .send(false, &[record(20, &[1]), record(23, &[0xee; 30])].concat()) // 7
        .close();
    let t = tls_fields(&c, FIELDS);
    for frame in [4, 5] {
        assert_eq!(t.get(frame, "tls.content_type"), "", "frame {frame}");
    }
    assert_eq!(t.get(6, "tls.content_type"), "22");
    assert_eq!(
        t.get(6, "tls.length"),
        (hello.len() - 5).to_string().as_str()
    );
    assert_eq!(t.get(6, "tls.handshake_type"), "1");
    assert_eq!(t.get(6, "tls.ciphersuite"), "4865,49199");
    assert_eq!(t.get(6, "tls.sni"), "example.com");
    assert_eq!(t.get(6, "tls.alpn"), "h2,http/1.1");
    // Two records in one segment: each one, in order.
    assert_eq!(t.get(7, "tls.content_type"), "20,23");
    assert_eq!(t.get(7, "tls.length"), "1,30");
    assert_eq!(t.get(7, "tls.handshake_type"), "");
}

#[test]
fn several_handshake_messages_share_a_record() {
    // ServerHello (empty extensions), Certificate with two certificates, ServerHelloDone.
    let mut server_hello = vec![3, 3];
    server_hello.extend([7; 32]);
    server_hello.push(0);
    server_hello.extend([0xc0, 0x2f, 0]);
    server_hello.extend([0, 0]);
    let certs = [prefixed(3, &[0x30; 10]), prefixed(3, &[0x30; 20])].concat();
    let flight = [
        handshake(2, &server_hello),
        handshake(11, &prefixed(3, &certs)),
        handshake(14, &[]),
    ]
    .concat();
    let mut c = TcpConversation::new("10.0.0.1:40000", "10.0.0.2:443");
    c.handshake().send(false, &record(22, &flight));
    let t = tls_fields(
        &c,
        &[
            "tls.handshake_type",
            "tls.ciphersuite",
            "tls.certificates_length",
            "tls.certificate_length",
        ],
    );
    assert_eq!(t.get(4, "tls.handshake_type"), "2,11,14");
    assert_eq!(t.get(4, "tls.ciphersuite"), "49199");
    assert_eq!(t.get(4, "tls.certificates_length"), "36");
    assert_eq!(t.get(4, "tls.certificate_length"), "10,20");
}

#[test]
fn tls_on_another_port_is_found_by_its_record_header() {
    let mut c = TcpConversation::new("10.0.0.1:40000", "10.0.0.2:4433");
    c.handshake()
        .send(true, &record(22, &client_hello("a.example", None)));
    let t = tls_fields(&c, FIELDS);
    assert_eq!(t.get(4, "tls.sni"), "a.example");
    // Text on an unbound port is not TLS.
    let mut c = TcpConversation::new("10.0.0.1:40000", "10.0.0.2:4433");
    c.handshake().send(true, b"hello there, not a record\r\n");
    assert_eq!(tls_fields(&c, FIELDS).get(4, "tls.content_type"), "");
}

#[test]
fn extension_lengths_that_lie_keep_the_message_type_and_nothing_false() {
    // The extensions block says 200 bytes; 10 follow.
    let lying = [vec![0, 200], vec![0; 10]].concat();
    // An SNI extension whose name length runs past the extension.
    let sni_overrun = prefixed(2, &extension(0, &[0, 9, 0, 0, 200, b'a', b'b']));
    // The hello no longer fits its layout: only its type is shown. A bad extension
    // value only loses that extension's decoding.
    for (exts, suites, types) in [(lying, "", ""), (sni_overrun, "4865,49199", "0")] {
        let mut c = TcpConversation::new("10.0.0.1:40000", "10.0.0.2:443");
        c.handshake()
            .send(true, &record(22, &client_hello("x", Some(exts))));
        let mut fields = FIELDS.to_vec();
        fields.push("tls.extension.type");
        let t = tls_fields(&c, &fields);
        assert_eq!(t.get(4, "tls.handshake_type"), "1");
        assert_eq!(t.get(4, "tls.sni"), "");
        assert_eq!(t.get(4, "tls.ciphersuite"), suites);
        assert_eq!(t.get(4, "tls.extension.type"), types);
    }
}

#[test]
fn a_record_cut_short_by_the_close_is_not_dissected_as_whole() {
    let hello = record(22, &client_hello("example.com", None));
    let mut c = TcpConversation::new("10.0.0.1:40000", "10.0.0.2:443");
    c.handshake().send(true, &hello[..30]).close();
    let t = tls_fields(&c, FIELDS);
    for row in 1..=t.rows.len() {
        assert_eq!(t.get(row, "tls.sni"), "");
        assert_eq!(t.get(row, "tls.handshake_type"), "");
    }
}

#[test]
fn hostile_records_are_malformed_or_raw() {
    let dissect = |bytes: &[u8]| {
        let mut layers = Vec::new();
        let next = Next {
            protocol: ProtocolId::Tls,
            name: None,
        };
        chain::dissect_next(next, bytes, &Thresholds::default(), &mut layers);
        layers
    };
    let malformed = |bytes: &[u8]| match &dissect(bytes)[0].kind {
        LayerKind::Malformed { reason, .. } => reason.clone(),
        other => panic!("{bytes:02x?}: {other:?}"),
    };
    // Longer than 2^14 + 2048 (RFC 5246 section 6.2.3).
    let mut huge = vec![23, 3, 3, 0x48, 0x01];
    huge.resize(5 + 0x4801, 0);
    assert!(malformed(&huge).contains("length"));
    // Not a content type, not version 3.x.
    assert!(malformed(&[25, 3, 3, 0, 1, 0]).contains("content_type"));
    assert!(malformed(&[22, 2, 0, 0, 1, 0]).contains("version"));
    // A fragment cut short: the record header is still shown.
    let cut = dissect(&record(22, &client_hello("example.com", None))[..40]);
    assert!(cut[0].truncated.is_some() || matches!(cut[0].kind, LayerKind::Malformed { .. }));
    // Random bytes never panic.
    let mut rng = common::Rng::new(7);
    for _ in 0..2000 {
        let len = rng.below(300) as usize;
        let mut bytes = rng.bytes(len);
        if len >= 5 && rng.below(2) == 0 {
            // Often a plausible header, so that the fragment parsers run.
            bytes[..3].copy_from_slice(&[22, 3, 3]);
            bytes[3..5].copy_from_slice(&((len - 5) as u16).to_be_bytes());
        }
        dissect(&bytes);
    }
}

/// The capture of `samplegen tls` (`pcapkit_testkit::tls`), and pcapkit's table of it
/// with `--ip --tcp`.
fn fragmented_capture(fields: &[&str]) -> common::Table {
    let dir = tempfile::tempdir().unwrap();
    let input = write_file(dir.path(), "tls.pcap", &pcapkit_testkit::tls::pcap());
    let mut args = vec![input.into_os_string(), "--ip".into(), "--tcp".into()];
    for f in fields {
        args.push("-e".into());
        args.push((*f).into());
    }
    let out = common::run(args);
    assert_no_crash(&out, "pcapkit --ip --tcp on TLS handshake fragments");
    common::Table::parse(&common::ok(&out))
}

/// What tshark 4.0.17 shows of the capture of `samplegen tls`, every frame with a TLS
/// record, from
/// `tshark -r tls.pcap -o tcp.desegment_tcp_streams:TRUE -o tls.desegment_ssl_records:TRUE
/// -o tls.desegment_ssl_application_data:TRUE -T fields -e frame.number
/// -e tls.record.content_type -e tls.record.length -e tls.handshake.type
/// -e tls.handshake.length -e tls.handshake.extensions_server_name
/// -e tls.handshake.extensions_alpn_str -e tls.handshake.certificate_length`.
const TSHARK_FRAGMENTS: &str = "\
4 | 22 | 94 | 1 | 90 | fragmented.example | h2,http/1.1 |
16 | 22 | 16384 | 2 | 49 |  | h2 |
18 | 22 | 3689 | 11,14 | 20012,0 |  |  | 9000,8000,3000
19 | 22,22 | 2,100 |  |  |  |  |
20 | 22,20,22 | 160,1,40 | 16 | 258 |  |  |
21 | 20,22 | 1,40 |  |  |  |  |
22 | 23 | 100 |  |  |  |  |
23 | 23 | 300 |  |  |  |  |
30 | 22 | 50 |  |  |  |  |
31 | 22 | 39 | 1 | 85 | split.example | h2,http/1.1 |
38 | 22 | 100 |  |  |  |  |
39 | 22 | 100 |  |  |  |  |
40 | 22 | 100 |  |  |  |  |";

#[test]
fn handshake_messages_spanning_records_agree_with_tshark() {
    let columns = [
        "tls.record.content_type",
        "tls.record.length",
        "tls.handshake.type",
        "tls.handshake.length",
        "tls.handshake.extensions_server_name",
        "tls.handshake.extensions_alpn_str",
        "tls.handshake.certificate_length",
    ];
    let t = fragmented_capture(&columns);
    assert_eq!(t.rows.len(), pcapkit_testkit::tls::packets().len());
    let mut expected = vec![vec![""; columns.len()]; t.rows.len() + 1];
    for line in TSHARK_FRAGMENTS.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let frame: usize = cells[0].parse().unwrap();
        for (i, cell) in cells[1..].iter().enumerate() {
            expected[frame][i] = cell;
        }
    }
    for (frame, row) in expected.iter().enumerate().skip(1) {
        for (i, column) in columns.iter().enumerate() {
            assert_eq!(t.get(frame, column), row[i], "frame {frame}, {column}");
        }
    }
}

#[test]
fn records_holding_part_of_a_message_say_which_part() {
    let t = fragmented_capture(&["tls.handshake_fragment", "tls.handshake_reassembled"]);
    // Frame 16: the ServerHello (53 bytes), then the Certificate's first
    // 16384 - 53 bytes; frame 18 the rest (RFC 5246 section 7.4.2 sizes: 4 + 3 + 3 *
    // 3 + 9000 + 8000 + 3000).
    assert_eq!(
        t.get(16, "tls.handshake_fragment"),
        "certificate (11): bytes 0..16331 of 20016"
    );
    assert_eq!(
        t.get(18, "tls.handshake_reassembled"),
        "certificate (11): 20016 bytes from 2 records (frames 16, 18)"
    );
    // The ClientKeyExchange: 2 bytes of its header, 100 bytes, the rest (tshark's
    // tls.handshake.fragment: 19, 19, 20).
    assert_eq!(
        t.get(19, "tls.handshake_fragment"),
        "client_key_exchange (16): bytes 0..2, length not yet known,\
         client_key_exchange (16): bytes 2..102 of 262"
    );
    assert_eq!(
        t.get(20, "tls.handshake_reassembled"),
        "client_key_exchange (16): 262 bytes from 3 records (frames 19, 19, 20)"
    );
    // The claim of 16 MB: followed record by record, never gathered.
    for (frame, from) in [(38, 0), (39, 100), (40, 200)] {
        assert_eq!(
            t.get(frame, "tls.handshake_fragment"),
            format!(
                "certificate (11): bytes {from}..{} of 16777219, not reassembled (longer than 262144 bytes)",
                from + 100
            )
        );
    }
    // Ciphertext after ChangeCipherSpec is no fragment.
    assert_eq!(t.get(21, "tls.handshake_fragment"), "");
}
