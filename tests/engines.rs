//! The engines give the default engine's output byte for byte: over the corpus (the
//! ignored tests, which need it), and over captures built here to make the server
//! engine's merge work (streams first seen on different workers, datagrams that expire
//! at another worker's frame, datagrams and PDUs still pending at the end).

use crate::common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use pcapkit::chain::ReassemblyKind;
use pcapkit::{EngineKind, Extractor, Format};
use pcapkit_testkit::net::{ip_tcp, ipv4_fragments, ipv4_udp, tcp_flags};
use pcapkit_testkit::pcap::{pcap_file, PcapRecord};
use pcapkit_testkit::pcapng::{epb, idb, shb, Order};

const LINKTYPE_RAW_IPV4: u32 = 228;

/// Every engine and thread count compared with the default engine making all text on the
/// caller's thread (`render_ahead(false)`): the default engine itself, whose reader makes
/// text ahead when the caller lags, and the pipeline, whose workers always do (no
/// reassembly: a frame the session changes, as in FTP data connections, must be rendered
/// again).
const ENGINES: [(EngineKind, usize); 6] = [
    (EngineKind::Default, 1),
    (EngineKind::Pipeline, 1),
    (EngineKind::Pipeline, 2),
    (EngineKind::Pipeline, 3),
    (EngineKind::Server, 2),
    (EngineKind::Server, 3),
];

/// What an extraction wrote, or the error that stopped it.
fn extract(
    capture: &Path,
    engine: EngineKind,
    threads: usize,
    reassembly: bool,
    format: Format,
    dir: &Path,
    render_ahead: bool,
) -> Result<Vec<u8>, String> {
    let out = dir.join(format!("{engine}-{threads}-{render_ahead}.out"));
    let mut builder = Extractor::builder()
        .render_ahead(render_ahead)
        .input(capture)
        .output(&out)
        .extension(false)
        .format(format)
        .store(false)
        .engine(engine)
        .threads(threads);
    if format == Format::Fields {
        builder = builder.fields([
            "frame.number",
            "frame.time_epoch",
            "frame.protocols",
            "ipv4.src",
            "ipv6.dst",
            "tcp.stream",
            "udp.dstport",
        ]);
    }
    if reassembly {
        builder = builder.ip(true).tcp(true);
    }
    let extractor = builder.run().map_err(|e| e.to_string())?;
    assert_eq!(
        extractor.threads(),
        if engine == EngineKind::Default {
            1
        } else {
            threads
        }
    );
    let mut written = std::fs::read(&out).map_err(|e| e.to_string())?;
    // Warnings are part of what a run gives.
    for w in extractor.warnings() {
        written.extend_from_slice(w.as_bytes());
    }
    Ok(written)
}

/// The engines whose output differs from the default engine's on `capture`.
fn differing(capture: &Path, reassembly: bool, format: Format) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let expected = extract(
        capture,
        EngineKind::Default,
        1,
        reassembly,
        format,
        dir.path(),
        false,
    );
    ENGINES
        .iter()
        .filter(|(engine, threads)| {
            extract(
                capture,
                *engine,
                *threads,
                reassembly,
                format,
                dir.path(),
                true,
            ) != expected
        })
        .map(|(engine, threads)| format!("{} ({engine} {threads})", capture.display()))
        .collect()
}

/// The corpus; at least the reassembly and fragment captures must be there.
fn corpus() -> Vec<PathBuf> {
    common::corpus_captures(15)
}

#[test]
#[ignore = "needs the corpus (../shared/corpus/public or $PCAPKIT_CORPUS); .ci/run runs it"]
fn every_engine_gives_the_default_json_over_the_corpus_with_reassembly() {
    let bad: Vec<String> = corpus()
        .iter()
        .flat_map(|c| differing(c, true, Format::Json))
        .collect();
    assert!(bad.is_empty(), "differ from the default engine: {bad:#?}");
}

#[test]
#[ignore = "needs the corpus (../shared/corpus/public or $PCAPKIT_CORPUS); .ci/run runs it"]
fn every_engine_gives_the_default_fields_over_the_corpus_without_reassembly() {
    let bad: Vec<String> = corpus()
        .iter()
        .flat_map(|c| differing(c, false, Format::Fields))
        .collect();
    assert!(bad.is_empty(), "differ from the default engine: {bad:#?}");
}

fn tcp(src: &str, dst: &str, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let src: SocketAddr = src.parse().unwrap();
    let dst: SocketAddr = dst.parse().unwrap();
    ip_tcp(src, dst, seq, 1, flags, payload)
}

/// Host pairs interleaved: TCP connections whose first segments come in an order that
/// no worker sees whole, UDP datagrams cut in two of which some lose their second half,
/// a time jump past the IPv4 timeout (30 s) at one host pair's frame, and a connection
/// and fragments still open at the end.
fn interleaved() -> Vec<u8> {
    let mut records = Vec::new();
    let mut push = |secs: u32, data: Vec<u8>| records.push(PcapRecord::new(secs, 0, data));
    let ack = tcp_flags::ACK | tcp_flags::PSH;
    for i in 0..12u8 {
        let client = format!("10.0.{i}.1:{}", 40000 + u16::from(i));
        let server = format!("10.9.{}.2:80", i % 5);
        push(10, tcp(&client, &server, 100, tcp_flags::SYN, b""));
        let udp = ipv4_udp([10, 1, i, 1], [10, 2, i, 2], 5000, 53, &[i; 40]);
        let [first, second] = ipv4_fragments(&udp, 24);
        push(11, first);
        if i % 3 != 0 {
            push(12, second);
        }
        push(
            13,
            tcp(&client, &server, 101, ack, b"GET / HTTP/1.1\r\nHost: x\r\n"),
        );
    }
    // 30 s later: every fragment left pending expires here, whoever's it was.
    push(50, tcp("10.0.3.1:40003", "10.9.3.2:80", 126, ack, b"\r\n"));
    let udp = ipv4_udp([10, 3, 0, 1], [10, 4, 0, 2], 5000, 53, &[7; 40]);
    push(51, ipv4_fragments(&udp, 24)[0].clone());
    push(
        52,
        tcp(
            "10.7.0.1:1234",
            "10.7.0.2:80",
            5,
            ack,
            b"GET /half HTTP/1.1\r\n",
        ),
    );
    pcap_file(LINKTYPE_RAW_IPV4, &records)
}

#[test]
fn server_engine_merges_streams_timeouts_and_the_end_as_one_session_would() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("interleaved.pcap");
    std::fs::write(&capture, interleaved()).unwrap();
    assert_eq!(
        differing(&capture, true, Format::Json),
        Vec::<String>::new()
    );
    assert_eq!(
        differing(&capture, false, Format::Fields),
        Vec::<String>::new()
    );

    for (engine, threads) in ENGINES {
        let x = Extractor::builder()
            .input(&capture)
            .ip(true)
            .tcp(true)
            .engine(engine)
            .threads(threads)
            .run()
            .unwrap();
        // tcp.stream: 0, 1, 2, ... in order of first appearance (12 connections, then
        // the one at the end).
        let mut seen = Vec::new();
        for f in x.frames() {
            if let Some(s) = f.tcp_stream {
                if !seen.contains(&s) {
                    seen.push(s);
                }
            }
        }
        assert_eq!(seen, (0..13).collect::<Vec<u64>>(), "{engine} {threads}");
        // The 4 datagrams that lost their second half expire at the frame 30 s later,
        // oldest first.
        let late = x.frames().iter().find(|f| f.timestamp.secs == 50).unwrap();
        let expired: Vec<u64> = late
            .reassembled
            .iter()
            .filter(|r| r.kind == ReassemblyKind::Ipv4)
            .map(|r| r.frames[0])
            .collect();
        assert_eq!(expired.len(), 4, "{engine} {threads}");
        assert!(expired.windows(2).all(|w| w[0] < w[1]), "{expired:?}");
        assert!(late
            .reassembled
            .iter()
            .filter(|r| r.kind == ReassemblyKind::Ipv4)
            .all(|r| !r.completed));
        // At the end: the last fragment, then the open HTTP requests by stream (after
        // connection 3's, completed 30 s later).
        let r = x.reassembly();
        assert_eq!(r.ipv4.len(), 8 + 4 + 1, "{engine} {threads}");
        assert!(!r.ipv4.last().unwrap().completed);
        let ids: Vec<u64> = r.tcp.iter().map(|p| p.id).collect();
        let mut expected = vec![3, 0, 1, 2];
        expected.extend(4..13);
        assert_eq!(ids, expected, "{engine} {threads}");
        assert!(r.tcp[0].completed && r.tcp[1..].iter().all(|p| !p.completed));
    }
}

#[test]
fn engines_read_streams_as_they_read_files() {
    // Not a file: the reader copies packets into frames instead of sharing its blocks.
    let capture = interleaved();
    let run = |engine, threads| {
        let x = Extractor::builder()
            .reader(std::io::Cursor::new(capture.clone()))
            .ip(true)
            .tcp(true)
            .engine(engine)
            .threads(threads)
            .run()
            .unwrap();
        let frames: Vec<_> = x
            .frames()
            .iter()
            .map(|f| (f.number, f.protocols(), f.tcp_stream, f.reassembled.len()))
            .collect();
        (frames, x.reassembly().ipv4.len(), x.reassembly().tcp.len())
    };
    let expected = run(EngineKind::Default, 1);
    assert_eq!(expected.0.len(), 12 * 3 + 8 + 3);
    for (engine, threads) in ENGINES {
        assert_eq!(run(engine, threads), expected, "{engine} {threads}");
    }
}

#[test]
fn the_demo_capture_is_the_same_through_every_engine() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/demo.pcap");
    for format in [Format::Json, Format::Ndjson, Format::Tree, Format::Plist] {
        assert_eq!(differing(&demo, true, format), Vec::<String>::new());
    }
    assert_eq!(
        differing(&demo, false, Format::Fields),
        Vec::<String>::new()
    );
}

/// Every format, each with and without reassembly: the engines whose output differs from
/// the default engine's on `capture`.
fn differing_in_any_format(capture: &Path) -> Vec<String> {
    let mut bad = Vec::new();
    for format in Format::ALL {
        for reassembly in [false, true] {
            bad.extend(
                differing(capture, reassembly, format)
                    .into_iter()
                    .map(|d| format!("{d} {format} reassembly={reassembly}")),
            );
        }
    }
    bad
}

/// A pcapng capture of `sections` sections, each with an interface and `frames` packets
/// (TCP requests over many connections, UDP datagrams cut in two): far more frames than
/// a render batch holds, and sections and interfaces that must be written after the
/// frames before them, which are being rendered on other threads when they come.
fn sections_of_many_frames(sections: usize, frames: usize) -> Vec<u8> {
    let order = Order::Little;
    let mut file = Vec::new();
    let ack = tcp_flags::ACK | tcp_flags::PSH;
    let mut ts = 1_700_000_000_000_000u64;
    for section in 0..sections {
        file.extend(shb(order, &[]));
        file.extend(idb(order, LINKTYPE_RAW_IPV4 as u16, 65535, &[]));
        let mut n = 0;
        while n < frames {
            let i = (n % 200) as u16;
            let client = format!("10.{section}.{}.1:{}", i % 50, 40000 + i);
            let server = format!("10.9.{}.2:80", i % 7);
            let packets = if n % 3 == 0 {
                let udp = ipv4_udp([10, 1, i as u8, 1], [10, 2, 0, 2], 5000, 53, &[7; 40]);
                ipv4_fragments(&udp, 24).to_vec()
            } else {
                let seq = 100 + (n as u32 / 200) * 20;
                vec![tcp(
                    &client,
                    &server,
                    seq,
                    ack,
                    b"GET / HTTP/1.1\r\nX: y\r\n",
                )]
            };
            for p in packets {
                ts += 1000;
                file.extend(epb(order, 0, ts, &p));
                n += 1;
            }
        }
    }
    file
}

/// Frames the session changes without reassembly, after their text was made ahead: FTP
/// read in its real direction, a data connection a PASV reply announced (and a
/// retransmission on it, which reaches no application), DNS over HTTPS; in every format.
#[test]
fn text_made_ahead_is_made_again_for_frames_the_session_changes() {
    use pcapkit_testkit::tcp::TcpConversation;
    let dir = tempfile::tempdir().unwrap();
    let push = tcp_flags::PSH | tcp_flags::ACK;
    let mut packets = Vec::new();
    // More frames than a batch holds, so that batches are also made ahead while the
    // caller lags.
    for i in 0..300u16 {
        let mut control = TcpConversation::new(&format!("10.0.0.1:{}", 40000 + i), "10.0.0.2:21");
        let port = 2000 + i;
        let pasv = format!(
            "227 Entering Passive Mode (10,0,0,2,{},{})\r\n",
            port >> 8,
            port & 0xff
        );
        packets.push(control.segment(false, push, pasv.as_bytes()));
        packets.push(control.segment(true, push, b"RETR file\r\n"));
        let mut data = TcpConversation::new(
            &format!("10.0.0.1:{}", 50000 + i),
            &format!("10.0.0.2:{port}"),
        );
        let segment = data.segment(false, push, b"file contents");
        packets.push(segment.clone());
        packets.push(segment);
    }
    let records: Vec<PcapRecord> = packets
        .into_iter()
        .enumerate()
        .map(|(i, p)| PcapRecord::new(1_700_000_000 + i as u32, 0, p))
        .collect();
    let ftp = common::write_file(
        dir.path(),
        "ftp.pcap",
        &pcap_file(LINKTYPE_RAW_IPV4, &records),
    );
    let doh = common::write_file(dir.path(), "doh.pcap", &pcapkit_testkit::doh::pcap());
    let mut bad = Vec::new();
    for capture in [&ftp, &doh] {
        for format in Format::ALL {
            bad.extend(
                differing(capture, false, format)
                    .into_iter()
                    .map(|d| format!("{d} {format}")),
            );
        }
    }
    assert!(
        bad.is_empty(),
        "differ from text made after the session: {bad:#?}"
    );
}

#[test]
fn rendering_on_several_threads_writes_what_one_thread_writes() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("sections.pcapng");
    // 1600 frames: more batches than the workers may hold at once.
    std::fs::write(&capture, sections_of_many_frames(2, 800)).unwrap();
    assert_eq!(differing_in_any_format(&capture), Vec::<String>::new());
}

#[test]
fn rendering_on_several_threads_writes_what_one_thread_writes_on_corpus_captures() {
    let dir = std::env::var_os("PCAPKIT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/public"));
    if !dir.is_dir() {
        eprintln!("no corpus at {}: skipped", dir.display());
        return;
    }
    // pcapng with many interfaces; IPv4 fragments; TCP reassembly.
    let mut bad = Vec::new();
    for name in [
        "ppp_many_interfaces-1.pcapng",
        "ppp_ip4_fragments.pcap",
        "zeek_tcp_reassembly.pcap",
    ] {
        bad.extend(differing_in_any_format(&dir.join(name)));
    }
    assert!(bad.is_empty(), "differ from the default engine: {bad:#?}");
}

#[test]
fn a_write_failing_midway_on_several_threads_leaves_no_output() {
    // As with one thread: a file size limit makes a write fail (EFBIG, SIGXFSZ ignored)
    // while batches are being rendered; the previous file stays, no temporary is left.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("in.pcapng"),
        sections_of_many_frames(2, 2000),
    )
    .unwrap();
    for (engine, format) in [("pipeline", "json"), ("server", "ndjson")] {
        std::fs::write(dir.path().join("out"), b"previous content").unwrap();
        let script = format!(
            "trap '' XFSZ; ulimit -f 100; exec '{}' in.pcapng -f {format} -o out --engine {engine} --threads 2",
            env!("CARGO_BIN_EXE_pcapkit"),
        );
        let out = std::process::Command::new("sh")
            .current_dir(dir.path())
            .args(["-c", &script])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{engine}: {err}");
        assert!(
            err.starts_with("pcapkit: error: ") && err.contains("out"),
            "{err}"
        );
        assert_eq!(
            std::fs::read(dir.path().join("out")).unwrap(),
            b"previous content"
        );
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["in.pcapng", "out"], "{engine}");
    }
}

#[test]
fn engine_names_parse_as_the_cli_takes_them() {
    assert_eq!("pcapkit".parse::<EngineKind>(), Ok(EngineKind::Default));
    assert_eq!("DEFAULT".parse::<EngineKind>(), Ok(EngineKind::Default));
    assert_eq!("pipeline".parse::<EngineKind>(), Ok(EngineKind::Pipeline));
    assert_eq!("server".parse::<EngineKind>(), Ok(EngineKind::Server));
    // The seed's third-party engine names are aliases of their Rust counterparts.
    assert_eq!("dpkt".parse::<EngineKind>(), Ok(EngineKind::Etherparse));
    assert!("nosuch"
        .parse::<EngineKind>()
        .unwrap_err()
        .contains("known:"));
    let x = Extractor::builder()
        .input(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/demo.pcap"))
        .engine(EngineKind::Pipeline)
        .run()
        .unwrap();
    assert_eq!(x.threads(), pcapkit::engine::available_threads());
}
