//! The library API: the `Extractor` builder in its modes, and the protocol chain.

use crate::common;

use std::io::Cursor;
use std::path::Path;
use std::sync::{Arc, Mutex};

use common::*;
use pcapkit::chain::{dissect, dissect_from};
use pcapkit::protocols::{Header, ProtocolId};
use pcapkit::reader::{ByteOrder, CaptureInfo};
use pcapkit::value::{FieldInfo, Value, Visitor};
use pcapkit::{Error, Extractor, Format, Frame, LayerKind, Level, Thresholds};
use serde_json::Value as Json;

/// Collects `path=value` texts of every value a layer shows.
#[derive(Default)]
struct Texts(Vec<(String, String)>);

impl Visitor for Texts {
    fn field(&mut self, info: &'static FieldInfo, value: Value<'_>) {
        self.0.push((info.path.to_owned(), value.to_string()));
    }
}

impl Texts {
    fn get(&self, path: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

fn frame_texts(frame: &Frame) -> Texts {
    let mut t = Texts::default();
    for layer in &frame.layers {
        layer.visit(&mut t);
    }
    t
}

fn demo_store() -> Extractor {
    Extractor::builder()
        .input(demo_path())
        .store(true)
        .run()
        .expect("demo.pcap extracts")
}

// ---------------------------------------------------------------------------------------
// Running to the end

#[test]
fn run_with_store_keeps_every_frame() {
    let ex = demo_store();
    assert_eq!(ex.frame_count(), DEMO_FRAMES as u64);
    let frames = ex.frames();
    assert_eq!(frames.len(), DEMO_FRAMES);
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(f.number, i as u64 + 1);
        assert_eq!(f.cap_len as usize, f.data.len());
        assert_eq!(f.linktype, 1);
        assert_eq!(f.interface, None);
        assert!(!f.layers.is_empty());
    }
    assert_eq!(frames[11].protocols(), "Ethernet:IPv4:TCP:HTTP");
    assert_eq!(frames[0].timestamp.secs, 1_704_067_200);
    assert_eq!(frames[1].timestamp.nanos, 182_000);
    assert_eq!(frames[1].timestamp.epoch(), "1704067200.000182000");
    assert!(ex.warnings().is_empty(), "{:?}", ex.warnings());
    assert_eq!(ex.output_path(), None);
    let http = frames[11].header(ProtocolId::Http).expect("an HTTP header");
    assert_eq!(http.protocol(), ProtocolId::Http);
    assert!(frames[0].header(ProtocolId::Tcp).is_none());
}

#[test]
fn info_reports_the_pcap_header() {
    let ex = Extractor::builder()
        .input(demo_path())
        .store(false)
        .build()
        .unwrap();
    let CaptureInfo::Pcap(h) = ex.info() else {
        panic!("demo.pcap is a pcap file: {:?}", ex.info());
    };
    assert_eq!((h.raw.version_major, h.raw.version_minor), (2, 4));
    assert_eq!(h.raw.snaplen, 65535);
    assert_eq!(h.linktype(), 1);
    assert_eq!(h.byte_order, ByteOrder::Little);
    assert!(!h.nanosecond);
    assert!(!h.modified);
    assert_eq!(h.raw.magic_number, 0xa1b2_c3d4);
    // Nothing read yet.
    assert_eq!(ex.frame_count(), 0);
}

#[test]
fn info_of_variants() {
    let ex = Extractor::builder()
        .reader(Cursor::new(to_big_endian(&to_nanosecond(&demo(), 0))))
        .build()
        .unwrap();
    let CaptureInfo::Pcap(h) = ex.info() else {
        panic!("pcap expected")
    };
    assert_eq!(h.byte_order, ByteOrder::Big);
    assert!(h.nanosecond);
    assert_eq!(h.raw.snaplen, 65535);
    assert_eq!(h.linktype(), 1);
    let ex = Extractor::builder()
        .reader(Cursor::new(shb(Order::Little, &[])))
        .build()
        .unwrap();
    assert_eq!(ex.info(), &CaptureInfo::Pcapng);
}

#[test]
fn store_false_keeps_no_frames() {
    let ex = Extractor::builder()
        .input(demo_path())
        .store(false)
        .run()
        .unwrap();
    assert_eq!(ex.frame_count(), DEMO_FRAMES as u64);
    assert!(ex.frames().is_empty());
}

#[test]
fn reader_input_gives_the_same_frames_as_a_file() {
    let from_reader = Extractor::builder()
        .reader(Cursor::new(demo()))
        .store(true)
        .run()
        .unwrap();
    let from_file = demo_store();
    assert_eq!(from_reader.frames(), from_file.frames());
}

// ---------------------------------------------------------------------------------------
// Iterator mode

#[test]
fn iterator_yields_every_frame_in_order() {
    let mut ex = Extractor::builder()
        .input(demo_path())
        .store(false)
        .build()
        .unwrap();
    let mut numbers = Vec::new();
    let mut chains = Vec::new();
    for frame in &mut ex {
        numbers.push(frame.number);
        chains.push(frame.protocols());
        assert_eq!(frame.data.len(), frame.cap_len as usize);
    }
    assert_eq!(numbers, (1..=DEMO_FRAMES as u64).collect::<Vec<_>>());
    assert_eq!(chains[24], "Ethernet:IPv4:TCP:HTTP");
    assert_eq!(ex.frame_count(), DEMO_FRAMES as u64);
    assert!(ex.frames().is_empty());
    assert!(ex.next().is_none(), "the iterator stays finished");
}

#[test]
fn iterator_frames_equal_stored_frames() {
    let stored = demo_store();
    let mut ex = Extractor::builder()
        .input(demo_path())
        .store(true)
        .build()
        .unwrap();
    let iterated: Vec<Frame> = ex.by_ref().collect();
    assert_eq!(iterated.as_slice(), stored.frames());
    assert_eq!(ex.frames(), stored.frames());
}

#[test]
fn next_frame_returns_results() {
    let mut ex = Extractor::builder()
        .reader(Cursor::new(demo()))
        .store(false)
        .build()
        .unwrap();
    let first = ex.next_frame().expect("a frame").expect("no error");
    assert_eq!(first.number, 1);
    assert_eq!(first.protocols(), "Ethernet:ARP");
    let mut count = 1;
    while let Some(frame) = ex.next_frame() {
        frame.unwrap();
        count += 1;
    }
    assert_eq!(count, DEMO_FRAMES);
}

#[test]
fn auto_true_runs_on_build() {
    let ex = Extractor::builder()
        .input(demo_path())
        .auto(true)
        .build()
        .unwrap();
    assert_eq!(ex.frame_count(), DEMO_FRAMES as u64);
    assert_eq!(ex.frames().len(), DEMO_FRAMES, "store is on by default");
}

// ---------------------------------------------------------------------------------------
// Callback, thresholds, warnings

#[test]
fn verbose_callback_sees_every_frame_once() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let ex = Extractor::builder()
        .input(demo_path())
        .store(false)
        .verbose(move |frame: &Frame| {
            sink.lock()
                .unwrap()
                .push((frame.number, frame.protocols(), frame.data.len()));
        })
        .run()
        .unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), DEMO_FRAMES);
    for (i, (number, chain, len)) in seen.iter().enumerate() {
        assert_eq!(*number, i as u64 + 1);
        assert!(chain.starts_with("Ethernet"));
        assert!(*len >= 60, "the callback sees the frame's bytes");
    }
    assert_eq!(seen[11].1, "Ethernet:IPv4:TCP:HTTP");
    assert_eq!(ex.frame_count(), DEMO_FRAMES as u64);
}

#[test]
fn verbose_callback_in_iterator_mode() {
    let seen = Arc::new(Mutex::new(0u64));
    let sink = Arc::clone(&seen);
    let ex = Extractor::builder()
        .input(demo_path())
        .store(false)
        .verbose(move |_| *sink.lock().unwrap() += 1)
        .build()
        .unwrap();
    assert_eq!(ex.count(), DEMO_FRAMES);
    assert_eq!(*seen.lock().unwrap(), DEMO_FRAMES as u64);
}

#[test]
fn layer_and_protocol_thresholds() {
    let transport = Extractor::builder()
        .input(demo_path())
        .layer(Level::Transport)
        .run()
        .unwrap();
    let f = &transport.frames()[11];
    assert_eq!(f.protocols(), "Ethernet:IPv4:TCP:Raw");
    assert!(f.header(ProtocolId::Http).is_none());
    let raw = f.layers.last().unwrap();
    assert_eq!(raw.kind, LayerKind::Raw);
    assert_eq!(raw.offset, 14 + 20 + 32);
    assert_eq!(raw.header_len, f.data.len() - raw.offset);

    let ipv4 = Extractor::builder()
        .input(demo_path())
        .protocol(ProtocolId::Ipv4)
        .run()
        .unwrap();
    assert_eq!(ipv4.frames()[11].protocols(), "Ethernet:IPv4:Raw");
    assert_eq!(ipv4.frames()[0].protocols(), "Ethernet:ARP");
    assert_eq!(
        ProtocolId::from_name("IPv4"),
        Some(ProtocolId::Ipv4),
        "names match in any case"
    );
    assert_eq!(ProtocolId::from_name("nosuch"), None);
    assert_eq!("Transport".parse::<Level>(), Ok(Level::Transport));
    assert!("session".parse::<Level>().is_err());
}

#[test]
fn warnings_after_a_truncated_input() {
    let pcap = demo();
    let records = records_le(&pcap);
    let cut = records[30].data() + 5;
    let ex = Extractor::builder()
        .reader(Cursor::new(pcap[..cut].to_vec()))
        .store(true)
        .run()
        .expect("a truncated file is read up to the cut");
    assert_eq!(ex.frame_count(), 30);
    assert_eq!(ex.frames().len(), 30);
    let w = ex.warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("record 31"), "{w:?}");
    assert!(w[0].contains(&records[30].offset.to_string()), "{w:?}");
    // Iterator mode: the same frames, then the same warning.
    let mut ex = Extractor::builder()
        .reader(Cursor::new(pcap[..cut].to_vec()))
        .store(false)
        .build()
        .unwrap();
    assert_eq!(ex.by_ref().count(), 30);
    assert_eq!(ex.warnings().len(), 1);
}

#[test]
fn open_errors_are_values() {
    let none = Extractor::builder().build();
    assert!(matches!(none, Err(Error::Usage(_))));
    let dir = tempfile::tempdir().unwrap();
    let missing = Extractor::builder()
        .input(dir.path().join("nope.pcap"))
        .build();
    match missing {
        Err(Error::Open { path, .. }) => assert!(path.ends_with("nope.pcap")),
        other => panic!("expected Error::Open, got {:?}", other.err()),
    }
    let text = Extractor::builder()
        .reader(Cursor::new(b"plain text, not a capture".to_vec()))
        .build();
    match text {
        Err(e @ Error::Read { .. }) => assert!(e.to_string().contains("not a pcap")),
        other => panic!("expected Error::Read, got {:?}", other.err()),
    }
    let empty = Extractor::builder().reader(Cursor::new(Vec::new())).build();
    assert!(matches!(empty, Err(Error::Read { .. })));
    let bad_field = Extractor::builder()
        .input(demo_path())
        .output(dir.path().join("out.tsv"))
        .fields(["frame.number", "ipv9.src"])
        .build();
    match bad_field {
        Err(Error::Usage(msg)) => assert!(msg.contains("ipv9.src") && msg.contains("ipv4.src")),
        other => panic!("expected Error::Usage, got {:?}", other.err()),
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

// ---------------------------------------------------------------------------------------
// Output

fn dir_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn output_with_extension_and_output_path() {
    let dir = tempfile::tempdir().unwrap();
    let ex = Extractor::builder()
        .input(demo_path())
        .output(dir.path().join("out"))
        .store(false)
        .run()
        .unwrap();
    // `extension` is on by default in the library.
    let expected = dir.path().join("out.json");
    assert_eq!(ex.output_path(), Some(expected.as_path()));
    assert_eq!(ex.format(), Format::Json);
    let json: Json = serde_json::from_str(&std::fs::read_to_string(&expected).unwrap()).unwrap();
    assert_eq!(json["Frame 44"]["number"], 44);
    assert_eq!(dir_names(dir.path()), ["out.json"]);

    let ex = Extractor::builder()
        .input(demo_path())
        .output(dir.path().join("plain"))
        .extension(false)
        .format(Format::Ndjson)
        .run()
        .unwrap();
    assert_eq!(ex.output_path(), Some(dir.path().join("plain").as_path()));
    let text = std::fs::read_to_string(dir.path().join("plain")).unwrap();
    assert_eq!(text.lines().count(), DEMO_FRAMES);

    let ex = Extractor::builder()
        .input(demo_path())
        .output(dir.path().join("cols"))
        .format(Format::Fields)
        .fields(["frame.number", "tcp.mss"])
        .run()
        .unwrap();
    assert_eq!(
        ex.output_path(),
        Some(dir.path().join("cols.tsv").as_path())
    );
    let text = std::fs::read_to_string(dir.path().join("cols.tsv")).unwrap();
    let t = Table::parse(&text);
    assert_eq!(t.header, ["frame.number", "tcp.mss"]);
    assert_eq!(t.get(9, "tcp.mss"), "1460");
}

#[test]
fn output_format_from_the_extension() {
    let dir = tempfile::tempdir().unwrap();
    let ex = Extractor::builder()
        .input(demo_path())
        .output(dir.path().join("x.ndjson"))
        .build()
        .unwrap();
    assert_eq!(ex.format(), Format::Ndjson);
}

#[test]
fn iterator_mode_output_appears_once_complete() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("it.json");
    let mut ex = Extractor::builder()
        .input(demo_path())
        .output(&target)
        .store(false)
        .build()
        .unwrap();
    for _ in 0..10 {
        ex.next().unwrap();
    }
    assert!(!target.exists(), "the output appears only once complete");
    assert_eq!(ex.by_ref().count(), DEMO_FRAMES - 10);
    assert!(target.is_file());
    let json: Json = serde_json::from_str(&std::fs::read_to_string(&target).unwrap()).unwrap();
    assert_eq!(json["Frame 44"]["number"], 44);
    assert_eq!(dir_names(dir.path()), ["it.json"]);
}

#[test]
fn dropped_before_the_end_finishes_the_output_with_the_frames_so_far() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("partial.json");
    {
        let mut ex = Extractor::builder()
            .input(demo_path())
            .output(&target)
            .build()
            .unwrap();
        for frame in &mut ex {
            if frame.number == 5 {
                break;
            }
        }
        // Not there yet: still under a temporary name.
        assert_eq!(ex.output_path(), None);
        assert!(!target.exists());
    }
    // Dropped: a whole JSON document of the five frames read.
    assert_eq!(dir_names(dir.path()), ["partial.json"]);
    let text = std::fs::read_to_string(&target).unwrap();
    let json: Json = serde_json::from_str(&text).expect("valid JSON");
    let keys = top_level_keys(&text);
    assert_eq!(keys.len(), 1 + 5, "{keys:?}");
    assert_eq!(json["Frame 5"]["number"], 5);
    assert!(json.get("Frame 6").is_none());
}

#[test]
fn output_path_names_the_output_once_finished() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("early.ndjson");
    let mut ex = Extractor::builder()
        .input(demo_path())
        .output(&target)
        .build()
        .unwrap();
    ex.next().unwrap();
    ex.next().unwrap();
    assert_eq!(ex.output_path(), None);
    ex.finish().unwrap();
    assert_eq!(ex.output_path(), Some(target.as_path()));
    let text = std::fs::read_to_string(&target).unwrap();
    assert_eq!(text.lines().count(), 2);
    // Finishing twice changes nothing; dropping neither.
    ex.finish().unwrap();
    drop(ex);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), text);
    assert_eq!(dir_names(dir.path()), ["early.ndjson"]);
}

#[test]
fn nofile_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ex = Extractor::builder()
        .input(demo_path())
        .output(dir.path().join("out.json"))
        .nofile(true)
        .store(false)
        .run()
        .unwrap();
    assert_eq!(ex.frame_count(), DEMO_FRAMES as u64);
    assert_eq!(ex.output_path(), None);
    assert!(dir_names(dir.path()).is_empty());
}

// ---------------------------------------------------------------------------------------
// pcapng through the library

#[test]
fn pcapng_sections_and_interfaces() {
    let le = Order::Little;
    let be = Order::Big;
    let mut f = shb(le, &[]);
    f.extend(idb(le, 1, 0, &[if_tsresol(le, 9)]));
    f.extend(idb(le, 228, 0, &[if_tsoffset(le, 100)]));
    f.extend(epb(
        le,
        0,
        1_700_000_000_000_000_001,
        &eth_ipv4_udp(1, b"a"),
    ));
    f.extend(epb(
        le,
        1,
        2_000_000,
        &ipv4_udp([10, 0, 0, 2], [10, 0, 0, 3], 1, 9, b"b"),
    ));
    f.extend(shb(be, &[]));
    f.extend(idb(be, 1, 0, &[]));
    f.extend(epb(be, 0, 3_000_000, &eth_ipv4_udp(3, b"c")));
    let ex = Extractor::builder()
        .reader(Cursor::new(f))
        .store(true)
        .run()
        .unwrap();
    assert!(ex.warnings().is_empty(), "{:?}", ex.warnings());
    let sections = ex.sections();
    assert_eq!(sections.len(), 2);
    assert_eq!(sections[0].byte_order, ByteOrder::Little);
    assert_eq!(sections[1].byte_order, ByteOrder::Big);
    assert_eq!((sections[0].number, sections[1].number), (1, 2));
    let ifaces = ex.interfaces();
    assert_eq!(ifaces.len(), 3);
    assert_eq!((ifaces[0].linktype(), ifaces[0].tsresol), (1, 9));
    assert_eq!((ifaces[1].linktype(), ifaces[1].tsoffset), (228, 100));
    assert_eq!((ifaces[2].section, ifaces[2].index), (2, 0));
    let frames = ex.frames();
    assert_eq!(frames.len(), 3);
    assert_eq!(frames[0].timestamp.epoch(), "1700000000.000000001");
    assert_eq!(frames[1].timestamp.epoch(), "102.000000000");
    assert_eq!(frames[2].timestamp.epoch(), "3.000000000");
    assert_eq!(
        frames.iter().map(|f| f.linktype).collect::<Vec<_>>(),
        [1, 228, 1]
    );
    assert_eq!(
        frames.iter().map(|f| f.interface).collect::<Vec<_>>(),
        [Some(0), Some(1), Some(0)]
    );
    assert_eq!(frames[1].protocols(), "IPv4:UDP:Raw");
}

// ---------------------------------------------------------------------------------------
// The chain

#[test]
fn dissect_a_hand_built_frame() {
    let data = eth_ipv4_udp(7, b"hello");
    let mut layers = Vec::new();
    dissect(&data, 1, &Thresholds::default(), &mut layers);
    let frame = Frame {
        number: 1,
        len: data.len() as u32,
        cap_len: data.len() as u32,
        linktype: 1,
        data: data.clone(),
        layers,
        ..Frame::default()
    };
    assert_eq!(frame.protocols(), "Ethernet:IPv4:UDP:Raw");
    let l = &frame.layers;
    assert_eq!(l.len(), 4);
    assert_eq!((l[0].offset, l[0].header_len), (0, 14));
    assert_eq!((l[1].offset, l[1].header_len), (14, 20));
    assert_eq!((l[2].offset, l[2].header_len), (34, 8));
    assert_eq!((l[3].offset, l[3].header_len), (42, 5));
    assert_eq!(l[2].payload_len, 5);
    assert_eq!(frame.payload(&l[2]), b"hello");
    assert_eq!(l[0].protocol(), Some(ProtocolId::Ethernet));
    assert_eq!(l[3].protocol(), None);
    assert!(l.iter().all(|l| l.missing == 0 && l.truncated.is_none()));
    let t = frame_texts(&frame);
    assert_eq!(t.get("ethernet.src"), ["02:aa:bb:cc:dd:01"]);
    assert_eq!(t.get("ipv4.src"), ["10.0.0.7"]);
    assert_eq!(t.get("ipv4.dst"), ["10.0.0.254"]);
    assert_eq!(t.get("ipv4.ttl"), ["64"]);
    assert_eq!(t.get("udp.srcport"), ["40000"]);
    assert_eq!(t.get("udp.dstport"), ["9"]);
    assert_eq!(t.get("udp.len"), ["13"]);
    match frame.header(ProtocolId::Ipv4) {
        Some(Header::Ipv4(h)) => {
            assert_eq!(h.src, std::net::Ipv4Addr::new(10, 0, 0, 7));
            assert_eq!(h.ttl, 64);
        }
        other => panic!("expected an IPv4 header, got {other:?}"),
    }
}

#[test]
fn dissect_raw_ipv4_and_thresholds() {
    let port = unbound_udp_port();
    let packet = ipv4_udp([192, 0, 2, 1], [192, 0, 2, 2], port, port, b"xyz");
    let mut layers = Vec::new();
    dissect(&packet, 228, &Thresholds::default(), &mut layers);
    let names: Vec<&str> = layers.iter().map(|l| l.name).collect();
    assert_eq!(names, ["IPv4", "UDP", "Raw"]);
    let limits = Thresholds {
        layer: Some(Level::Internet),
        protocol: None,
        ..Default::default()
    };
    dissect(&packet, 228, &limits, &mut layers);
    let names: Vec<&str> = layers.iter().map(|l| l.name).collect();
    assert_eq!(names, ["IPv4", "Raw"]);
    assert_eq!(layers[1].header_len, 11);
    let limits = Thresholds {
        layer: None,
        protocol: Some(ProtocolId::Udp),
        ..Default::default()
    };
    dissect_from(ProtocolId::Ipv4, &packet, &limits, &mut layers);
    let names: Vec<&str> = layers.iter().map(|l| l.name).collect();
    assert_eq!(names, ["IPv4", "UDP", "Raw"]);
}

#[test]
fn dissect_reports_missing_payload_and_cut_headers() {
    // The IPv4 total length claims 100 bytes more than captured.
    let mut packet = ipv4_udp([192, 0, 2, 1], [192, 0, 2, 2], 1, 9, b"xyz");
    let total = packet.len() as u16 + 100;
    packet[2..4].copy_from_slice(&total.to_be_bytes());
    let mut layers = Vec::new();
    dissect(&packet, 228, &Thresholds::default(), &mut layers);
    assert_eq!(layers[0].missing, 100);
    assert_eq!(layers[0].payload_len, packet.len() - 20);
    // A frame cut inside the IPv4 header: what is there is kept, and nothing panics.
    let frame = eth_ipv4_udp(1, b"abc");
    for cut in 0..frame.len() {
        dissect(&frame[..cut], 1, &Thresholds::default(), &mut layers);
        let end = layers
            .iter()
            .map(|l| l.offset + l.header_len + l.payload_len)
            .max()
            .unwrap_or(0);
        assert!(end <= cut, "cut {cut}: layers run past the data");
        if cut >= 14 + 16 {
            // Source address captured.
            let ipv4 = layers
                .iter()
                .find(|l| l.protocol() == Some(ProtocolId::Ipv4));
            let ipv4 = ipv4.unwrap_or_else(|| panic!("cut {cut}: no IPv4 layer"));
            let mut t = Texts::default();
            ipv4.visit(&mut t);
            assert_eq!(t.get("ipv4.src"), ["10.0.0.1"], "cut {cut}");
        }
    }
    // An unknown link type leaves everything Raw.
    dissect(&frame, 0xfffe, &Thresholds::default(), &mut layers);
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0].kind, LayerKind::Raw);
    dissect(&[], 1, &Thresholds::default(), &mut layers);
    let f = Frame {
        layers: layers.clone(),
        ..Frame::default()
    };
    assert!(layers.len() <= 1);
    assert!(f.protocols().len() < 20);
}

#[test]
fn protocols_of_an_empty_frame_and_of_demo_frames() {
    assert_eq!(Frame::default().protocols(), "");
    let ex = demo_store();
    let mut s = String::from("chain: ");
    ex.frames()[42].write_protocols(&mut s);
    assert_eq!(
        s,
        "chain: Ethernet:IPv6:HOPOPT:IPv6-Opts:IPv6-Route:IPv6-Frag:UDP:Raw"
    );
    assert_eq!(
        ex.frames()[3].protocols(),
        "Ethernet:802.1ad:VLAN:IPv4:UDP:NTP"
    );
    assert_eq!(ex.frames()[39].protocols(), "Ethernet:IPv4:ICMP:IPv4:UDP");
}

#[test]
fn demo_frame_values_through_the_visitor() {
    let ex = demo_store();
    let f = &ex.frames();
    let t = frame_texts(&f[2]);
    assert_eq!(t.get("vlan.vid"), ["100"]);
    assert_eq!(t.get("vlan.pcp"), ["3"]);
    assert_eq!(t.get("vlan.dei"), ["1"]);
    let t = frame_texts(&f[8]);
    assert_eq!(t.get("tcp.mss"), ["1460"]);
    assert_eq!(t.get("tcp.flags"), ["2"]);
    let t = frame_texts(&f[36]);
    assert_eq!(t.get("ipv4.offset"), ["1480"]);
    let t = frame_texts(&f[43]);
    assert_eq!(t.get("ipv6_frag.offset"), ["1408"]);
    assert_eq!(t.get("ipv6.dst"), ["2001:db8:1::10"]);
    let t = frame_texts(&f[24]);
    assert_eq!(t.get("http.uri"), ["/api/v1/status"]);
}
