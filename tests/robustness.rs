//! Damaged and unusual inputs derived from samples/demo.pcap or built by hand: pcapkit
//! never crashes, keeps every frame before the damage, and never leaves a partial output.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use serde_json::Value;

/// `pcapkit FILE -e frame.number`: the frame numbers printed.
fn frame_numbers(out: &Output) -> Vec<u64> {
    let text = stdout(out);
    let t = Table::parse(&text);
    assert_eq!(t.header, ["frame.number"]);
    t.column("frame.number")
        .iter()
        .map(|n| n.parse().unwrap())
        .collect()
}

fn numbers_run(path: &Path) -> Output {
    run([path.as_os_str(), "-e".as_ref(), "frame.number".as_ref()])
}

fn one_to(n: usize) -> Vec<u64> {
    (1..=n as u64).collect()
}

fn warnings(out: &Output) -> Vec<String> {
    stderr(out)
        .lines()
        .filter(|l| l.starts_with("pcapkit: warning:"))
        .map(String::from)
        .collect()
}

/// Asserts a run read a damaged capture: exit status 3, one warning, and returns its
/// standard output.
fn damaged(out: &Output, what: &str) -> String {
    assert_no_crash(out, what);
    assert_eq!(out.status.code(), Some(3), "{what}: {}", stderr(out));
    assert_eq!(warnings(out).len(), 1, "{what}: {}", stderr(out));
    stdout(out)
}

/// Checks a run on `bytes[..cut]`: a warning and exactly the frames wholly before the cut.
fn check_cut(dir: &Path, pcap: &[u8], records: &[RecordPos], cut: usize) {
    let path = write_file(dir, "cut.pcap", &pcap[..cut]);
    let out = numbers_run(&path);
    let what = format!("cut at {cut}");
    assert_no_crash(&out, &what);
    if cut < 24 {
        // Too short for a magic number: not a capture (1); a pcap magic number then a
        // cut header: a damaged capture (3).
        let status = if cut < 4 { 1 } else { 3 };
        assert_eq!(out.status.code(), Some(status), "{what}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{what}: {err}");
        assert!(err.starts_with("pcapkit: error: "), "{what}: {err}");
        assert!(out.stdout.is_empty(), "{what}");
        return;
    }
    let whole = records.iter().filter(|r| r.end() <= cut).count();
    assert_eq!(frame_numbers(&out), one_to(whole), "{what}");
    let at_boundary = cut == 24 || records.iter().any(|r| r.end() == cut);
    let w = warnings(&out);
    if at_boundary {
        assert!(out.status.success(), "{what}: {}", stderr(&out));
        assert!(w.is_empty(), "{what}: {w:?}");
    } else {
        damaged(&out, &what);
        assert!(w[0].contains("cut.pcap"), "{what}: {w:?}");
        assert!(
            w[0].contains(&format!("record {}", whole + 1)),
            "{what}: {w:?}"
        );
    }
}

#[test]
fn truncated_in_the_last_record_keeps_the_others() {
    let pcap = demo();
    let records = records_le(&pcap);
    let last = *records.last().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for cut in last.offset..=last.end() {
        check_cut(dir.path(), &pcap, &records, cut);
    }
}

#[test]
fn truncated_inside_record_headers_and_data() {
    let pcap = demo();
    let records = records_le(&pcap);
    let dir = tempfile::tempdir().unwrap();
    for r in &records {
        for cut in [
            r.offset + 1,
            r.offset + 8,
            r.offset + 15,
            r.data() + 1,
            r.end() - 1,
        ] {
            check_cut(dir.path(), &pcap, &records, cut);
        }
    }
}

#[test]
fn truncated_inside_the_global_header() {
    let pcap = demo();
    let records = records_le(&pcap);
    let dir = tempfile::tempdir().unwrap();
    for cut in 0..=24 {
        check_cut(dir.path(), &pcap, &records, cut);
    }
}

#[test]
fn truncated_on_standard_input_too() {
    let pcap = demo();
    let records = records_le(&pcap);
    for cut in [
        records[10].offset + 8,
        records[20].data() + 3,
        pcap.len() - 1,
    ] {
        let out = run_stdin(["-", "-e", "frame.number"], &pcap[..cut]);
        damaged(&out, "stdin cut");
        let whole = records.iter().filter(|r| r.end() <= cut).count();
        assert_eq!(frame_numbers(&out), one_to(whole));
        let w = warnings(&out);
        assert_eq!(w.len(), 1, "{}", stderr(&out));
        assert!(w[0].contains("standard input"), "{w:?}");
    }
}

#[test]
fn truncated_json_is_still_a_whole_document() {
    let pcap = demo();
    let records = records_le(&pcap);
    let dir = tempfile::tempdir().unwrap();
    let cut = records[30].data() + 10;
    let path = write_file(dir.path(), "cut.pcap", &pcap[..cut]);
    let out = run([path]);
    let text = damaged(&out, "cut JSON");
    let json: Value = serde_json::from_str(&text).expect("valid JSON");
    let keys = top_level_keys(&text);
    assert_eq!(keys.len(), 1 + 30);
    assert_eq!(keys.last().unwrap(), "Frame 30");
    assert_eq!(json["Frame 30"]["number"], 30);
}

#[test]
fn absurd_record_length_stops_with_a_warning_naming_the_offset() {
    let mut pcap = demo();
    let records = records_le(&pcap);
    let bad = records[20]; // record 21
    set_incl_len(&mut pcap, bad, 0xFFFF_FFFF);
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "absurd.pcap", &pcap);
    let out = numbers_run(&path);
    damaged(&out, "absurd incl_len");
    assert_eq!(frame_numbers(&out), one_to(20));
    let w = warnings(&out);
    assert_eq!(w.len(), 1, "{}", stderr(&out));
    assert!(w[0].contains(&bad.offset.to_string()), "{w:?}");
    assert!(w[0].contains("21"), "{w:?}");
    // The same through standard input, and in JSON.
    let out = run_stdin(["-"], &pcap);
    let text = damaged(&out, "absurd incl_len on stdin");
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["Frame 20"]["number"], 20);
    assert!(json.get("Frame 21").is_none());
    assert!(warnings(&out)[0].contains(&bad.offset.to_string()));
}

#[test]
fn record_longer_than_the_file_is_a_truncation() {
    let mut pcap = demo();
    let records = records_le(&pcap);
    let last = *records.last().unwrap();
    set_incl_len(&mut pcap, last, last.incl_len as u32 + 100);
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "long.pcap", &pcap);
    let out = numbers_run(&path);
    damaged(&out, "long record");
    assert_eq!(frame_numbers(&out), one_to(43));
}

#[test]
fn snaplen_cut_frames_show_what_they_hold() {
    // Frame 12 (Ethernet/IPv4/TCP/HTTP) captured only up to 4 bytes of TCP: the ports
    // are there, the sequence number is not. Its length on the wire stays 334.
    let pcap = demo();
    let records = records_le(&pcap);
    let r = records[11];
    let keep = 14 + 20 + 4;
    let mut data = pcap[r.data()..r.data() + keep].to_vec();
    let rec = PcapRecord {
        ts_sec: 1_704_067_200,
        ts_usec: 1,
        orig_len: r.incl_len as u32,
        data: std::mem::take(&mut data),
    };
    let file = pcap_file(1, &[rec]);
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "snap.pcap", &file);
    let t = fields_of(
        &path,
        &[
            "frame.len",
            "frame.cap_len",
            "ipv4.src",
            "ipv4.len",
            "tcp.srcport",
            "tcp.dstport",
            "tcp.seq",
            "http.method",
        ],
    );
    assert_eq!(t.rows.len(), 1);
    assert_eq!(t.get(1, "frame.len"), "334");
    assert_eq!(t.get(1, "frame.cap_len"), &keep.to_string());
    assert_eq!(t.get(1, "ipv4.src"), "192.168.1.10");
    assert_eq!(t.get(1, "ipv4.len"), "320");
    assert_eq!(t.get(1, "tcp.srcport"), "51000");
    assert_eq!(t.get(1, "tcp.dstport"), "80");
    assert_eq!(t.get(1, "tcp.seq"), "");
    assert_eq!(t.get(1, "http.method"), "");
    let json = ok(&run([&path]));
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["Frame 1"]["len"], 334);
    assert_eq!(v["Frame 1"]["cap_len"], keep);
}

// ---------------------------------------------------------------------------------------
// Byte orders and timestamp units

/// Every contract field except the time.
fn comparable_fields() -> Vec<&'static str> {
    CONTRACT_FIELDS
        .iter()
        .copied()
        .filter(|f| *f != "frame.time_epoch")
        .chain(["ieee8021ad.vid", "frame.time_epoch"])
        .collect()
}

fn variant_table(dir: &Path, name: &str, bytes: &[u8]) -> (PathBuf, Table) {
    let path = write_file(dir, name, bytes);
    let t = fields_of(&path, &comparable_fields());
    (path, t)
}

#[test]
fn big_endian_gives_the_same_fields() {
    let dir = tempfile::tempdir().unwrap();
    let (_, little) = variant_table(dir.path(), "le.pcap", &demo());
    let (be_path, big) = variant_table(dir.path(), "be.pcap", &to_big_endian(&demo()));
    assert_eq!(big.rows.len(), DEMO_FRAMES);
    assert_eq!(big.rows, little.rows);
    let json: Value = serde_json::from_str(&ok(&run([&be_path]))).unwrap();
    assert_eq!(json["Global Header"]["byte_order"], "big");
    assert_eq!(json["Global Header"]["version_major"], 2);
    assert_eq!(json["Global Header"]["snaplen"], 65535);
    assert_eq!(json["Global Header"]["linktype"]["value"], 1);
    assert_eq!(json["Frame 2"]["frame_info"]["ts_usec"], 182);
}

#[test]
fn nanosecond_gives_the_same_fields() {
    let dir = tempfile::tempdir().unwrap();
    let (_, micro) = variant_table(dir.path(), "us.pcap", &demo());
    let (ns_path, nano) = variant_table(dir.path(), "ns.pcap", &to_nanosecond(&demo(), 0));
    assert_eq!(nano.rows, micro.rows);
    let json: Value = serde_json::from_str(&ok(&run([&ns_path]))).unwrap();
    assert_eq!(json["Global Header"]["nanosecond"], true);
    assert_eq!(json["Frame 2"]["frame_info"]["ts_nsec"], 182_000);
    assert!(json["Frame 2"]["frame_info"].get("ts_usec").is_none());
    assert_eq!(json["Frame 2"]["time_epoch"], "1704067200.000182000");
}

#[test]
fn nanosecond_digits_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (_, micro) = variant_table(dir.path(), "us.pcap", &demo());
    let (_, nano) = variant_table(dir.path(), "ns.pcap", &to_nanosecond(&demo(), 789));
    let epoch = nano.header.len() - 1;
    assert_eq!(nano.header[epoch], "frame.time_epoch");
    for (m, n) in micro.rows.iter().zip(&nano.rows) {
        assert_eq!(m[..epoch], n[..epoch]);
        let expected = format!("{}789", &m[epoch][..m[epoch].len() - 3]);
        assert_eq!(n[epoch], expected);
    }
}

#[test]
fn big_endian_nanosecond_and_modified_formats() {
    let dir = tempfile::tempdir().unwrap();
    let (_, reference) = variant_table(dir.path(), "le.pcap", &demo());
    let be_ns = to_big_endian(&to_nanosecond(&demo(), 0));
    // to_big_endian swapped the nanosecond magic too: a1 b2 3c 4d.
    assert_eq!(&be_ns[..4], &[0xa1, 0xb2, 0x3c, 0x4d]);
    let (_, t) = variant_table(dir.path(), "be_ns.pcap", &be_ns);
    assert_eq!(t.rows, reference.rows);
    let (_, t) = variant_table(dir.path(), "modified.pcap", &to_modified(&demo()));
    assert_eq!(t.rows, reference.rows);
}

// ---------------------------------------------------------------------------------------
// Random damage

/// Flips `n` random bytes of `range` of a copy of `bytes`.
fn mutate(bytes: &[u8], positions: &[usize], rng: &mut Rng, n: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for _ in 0..n {
        let at = positions[rng.index(positions.len())];
        let flip = (rng.u64() % 255 + 1) as u8;
        out[at] ^= flip;
    }
    out
}

#[test]
fn random_flips_in_packet_data_never_crash() {
    let pcap = demo();
    let records = records_le(&pcap);
    let data_positions: Vec<usize> = records.iter().flat_map(|r| r.data()..r.end()).collect();
    let dir = tempfile::tempdir().unwrap();
    for seed in 0..200u64 {
        let mut rng = Rng::new(seed);
        let flips = 1 + rng.index(16);
        let bytes = mutate(&pcap, &data_positions, &mut rng, flips);
        let path = write_file(dir.path(), "mutated.pcap", &bytes);
        let what = format!("seed {seed}");
        // Alternately the JSON dumper and every contract column.
        if seed % 2 == 0 {
            let out = run([path.as_os_str(), "-f".as_ref(), "ndjson".as_ref()]);
            assert_no_crash(&out, &what);
            assert!(out.status.success(), "{what}: {}", stderr(&out));
            let text = stdout(&out);
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines.len(), DEMO_FRAMES, "{what}");
            for (i, line) in lines.iter().enumerate() {
                let v: Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("{what}: frame {}: {e}: {line}", i + 1));
                assert_eq!(v["number"], i as u64 + 1, "{what}");
            }
        } else {
            let mut args = vec![path.as_os_str().to_owned()];
            for f in CONTRACT_FIELDS
                .iter()
                .chain(&["frame.time", "frame.linktype"])
            {
                args.push("-e".into());
                args.push((*f).into());
            }
            let out = run(&args);
            assert_no_crash(&out, &what);
            assert!(out.status.success(), "{what}: {}", stderr(&out));
            let t = Table::parse(&stdout(&out));
            assert_eq!(t.rows.len(), DEMO_FRAMES, "{what}");
        }
        assert!(warnings(&run([&path])).is_empty(), "{what}");
    }
}

#[test]
fn random_flips_anywhere_never_crash() {
    let pcap = demo();
    let positions: Vec<usize> = (0..pcap.len()).collect();
    let dir = tempfile::tempdir().unwrap();
    for seed in 1000..1100u64 {
        let mut rng = Rng::new(seed);
        let flips = 1 + rng.index(8);
        let bytes = mutate(&pcap, &positions, &mut rng, flips);
        let path = write_file(dir.path(), "mutated.pcap", &bytes);
        let what = format!("seed {seed}");
        let out = numbers_run(&path);
        assert_no_crash(&out, &what);
        match out.status.code() {
            // Clean, or read up to damage that a warning names.
            Some(status @ (0 | 3)) if !out.stdout.is_empty() => {
                // Frames are numbered 1..n whatever happened to their headers.
                let numbers = frame_numbers(&out);
                assert_eq!(numbers, one_to(numbers.len()), "{what}");
                assert_eq!(warnings(&out).len(), status as usize / 3, "{what}");
            }
            // Not a capture, or a damaged file header: one line.
            Some(1 | 3) => {
                let err = stderr(&out);
                assert_eq!(err.lines().count(), 1, "{what}: {err}");
                assert!(err.starts_with("pcapkit: error: "), "{what}: {err}");
            }
            other => panic!("{what}: exit {other:?}: {}", stderr(&out)),
        }
    }
}

#[test]
fn hand_built_hostile_frames_never_crash() {
    // Headers that claim more than they hold, zero lengths, option lists that run off
    // the end, on every link type the reader knows.
    let mut frames: Vec<Vec<u8>> = Vec::new();
    let base = eth_ipv4_udp(1, b"payload");
    for cut in 0..base.len() {
        frames.push(base[..cut].to_vec());
    }
    // IPv4 with IHL 15 and nothing after the fixed header.
    let mut ihl = base.clone();
    ihl[14] = 0x4f;
    frames.push(ihl);
    // IPv4 IHL 0 and total length 0.
    let mut zero = base.clone();
    zero[14] = 0x40;
    zero[16] = 0;
    zero[17] = 0;
    frames.push(zero);
    // TCP with data offset 15 and an option whose length runs past the end.
    let tcp = {
        let mut ip = base[14..34].to_vec();
        ip[9] = 6;
        let mut seg = vec![0u8; 20];
        seg[12] = 0xf0;
        seg.extend_from_slice(&[2, 40, 5, 180]);
        ip.extend_from_slice(&seg);
        ethernet(MAC_B, MAC_A, 0x0800, &ip)
    };
    frames.push(tcp);
    // An option with length 0 (would loop forever if taken at face value).
    let tcp0 = {
        let mut ip = base[14..34].to_vec();
        ip[9] = 6;
        let mut seg = vec![0u8; 20];
        seg[12] = 0x60;
        seg.extend_from_slice(&[8, 0, 0, 0]);
        ip.extend_from_slice(&seg);
        ethernet(MAC_B, MAC_A, 0x0800, &ip)
    };
    frames.push(tcp0);
    // Nested VLAN tags, many of them (kept below serde_json's nesting limit of 128).
    let mut vlans = Vec::new();
    for _ in 0..60 {
        vlans.extend_from_slice(&[0x00, 0x64, 0x81, 0x00]);
    }
    vlans.extend_from_slice(&[0x00, 0x64, 0x08, 0x00]);
    vlans.extend_from_slice(&base[14..]);
    frames.push(ethernet(MAC_B, MAC_A, 0x8100, &vlans));
    // IPv4 in IPv4, deeply.
    let mut nested = base[14..].to_vec();
    for _ in 0..40 {
        let mut outer = base[14..34].to_vec();
        outer[9] = 4;
        outer[2..4].copy_from_slice(&((20 + nested.len()) as u16).to_be_bytes());
        outer.extend_from_slice(&nested);
        nested = outer;
    }
    frames.push(ethernet(MAC_B, MAC_A, 0x0800, &nested));
    // An HTTP-looking payload that is not text.
    let mut http = base[14..34].to_vec();
    http[9] = 6;
    let mut seg = vec![0u8; 20];
    seg[2..4].copy_from_slice(&80u16.to_be_bytes());
    seg[12] = 0x50;
    seg.extend_from_slice(b"GET /\xff\xfe\x00 HTTP/1.1\r\nHost\r\n\xc3\x28: x\r\n");
    http.extend_from_slice(&seg);
    frames.push(ethernet(MAC_B, MAC_A, 0x0800, &http));

    let dir = tempfile::tempdir().unwrap();
    for linktype in [1u32, 0, 101, 113, 228, 229, 276, 108] {
        let records: Vec<PcapRecord> = frames
            .iter()
            .enumerate()
            .map(|(i, f)| PcapRecord::new(i as u32, 0, f.clone()))
            .collect();
        let path = write_file(dir.path(), "hostile.pcap", &pcap_file(linktype, &records));
        let what = format!("linktype {linktype}");
        let out = run([path.as_os_str(), "-f".as_ref(), "ndjson".as_ref()]);
        assert_no_crash(&out, &what);
        assert!(out.status.success(), "{what}: {}", stderr(&out));
        let text = stdout(&out);
        assert_eq!(text.lines().count(), frames.len(), "{what}");
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(v["protocols"].is_string());
        }
    }
}

#[test]
fn thousands_of_nested_headers_do_not_overflow_the_stack() {
    // 10 000 VLAN tags, then 2 000 IPv4-in-IPv4 headers: every dumper must cope with
    // layers nested that deep.
    let mut vlans = Vec::new();
    for _ in 0..10_000 {
        vlans.extend_from_slice(&[0x00, 0x64, 0x81, 0x00]);
    }
    vlans.extend_from_slice(&[0x00, 0x64, 0x08, 0x00]);
    vlans.extend_from_slice(&ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 1, 9, b"deep"));
    let mut nested = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 1, 9, b"deep");
    for _ in 0..2_000 {
        let mut outer = nested[..20].to_vec();
        outer[9] = 4;
        outer[2..4].copy_from_slice(&((20 + nested.len()) as u16).to_be_bytes());
        outer.extend_from_slice(&nested);
        nested = outer;
    }
    let frames = [
        ethernet(MAC_B, MAC_A, 0x8100, &vlans),
        ethernet(MAC_B, MAC_A, 0x0800, &nested),
    ];
    let records: Vec<PcapRecord> = frames
        .iter()
        .map(|f| PcapRecord::new(1, 0, f.clone()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "deep.pcap", &pcap_file(1, &records));
    for format in ["json", "ndjson", "fields", "plist", "tree"] {
        let out = run([path.as_os_str(), "-f".as_ref(), format.as_ref()]);
        assert_no_crash(&out, format);
        assert!(out.status.success(), "{format}: {}", stderr(&out));
        assert!(stdout(&out).len() > 10_000, "{format}");
    }
    let t = fields_of(&path, &["frame.protocols"]);
    let chain = t.get(1, "frame.protocols");
    assert!(chain.starts_with("Ethernet:VLAN:VLAN:"));
    assert!(t
        .get(2, "frame.protocols")
        .starts_with("Ethernet:IPv4:IPv4:"));
}

// ---------------------------------------------------------------------------------------
// pcapng

fn udp_payload_ipv4(host: u8) -> Vec<u8> {
    ipv4_udp([10, 0, 0, host], [10, 0, 0, 254], 40000, 9, b"pcapng")
}

/// Two sections (little- then big-endian); the first with an Ethernet interface in
/// nanoseconds and a raw-IPv4 interface in microseconds shifted by 100 s; an enhanced, a
/// simple and an obsolete packet block, and unknown blocks in between.
fn two_section_pcapng() -> Vec<u8> {
    let le = Order::Little;
    let be = Order::Big;
    let mut f = Vec::new();
    f.extend(shb(le, &[option(le, 4, b"pcapkit tests")]));
    f.extend(idb(le, 1, 0, &[option(le, 2, b"eth0"), if_tsresol(le, 9)]));
    f.extend(idb(le, 228, 65535, &[if_tsoffset(le, 100)]));
    f.extend(epb(
        le,
        0,
        1_700_000_000_123_456_789,
        &eth_ipv4_udp(1, b"first"),
    ));
    f.extend(block(le, 0x0000_0BAD, &[1, 2, 3, 4, 5, 6, 7, 8]));
    f.extend(block(le, 4, &[0, 0, 0, 0])); // name resolution, empty
    f.extend(spb(le, &eth_ipv4_udp(2, b"simple packet")));
    f.extend(block(le, 0x4000_0BAD, &[0xde, 0xad, 0xbe, 0xef]));
    f.extend(opb(le, 1, 5_000_001, &udp_payload_ipv4(3)));
    f.extend(epb(le, 1, 1_600_000_000_250_000, &udp_payload_ipv4(4)));
    f.extend(shb(be, &[]));
    f.extend(idb(be, 228, 0, &[if_tsresol(be, 3)]));
    f.extend(block(be, 0x0000_0BAD, &[9, 9, 9, 9]));
    f.extend(epb(be, 0, 1_234_567, &udp_payload_ipv4(5)));
    f
}

const PCAPNG_COLUMNS: &[&str] = &[
    "frame.number",
    "frame.linktype",
    "frame.interface",
    "frame.time_epoch",
    "frame.protocols",
    "ipv4.src",
    "udp.dstport",
    "frame.cap_len",
];

#[test]
fn pcapng_sections_interfaces_and_packet_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "two.pcapng", &two_section_pcapng());
    let out = run({
        let mut a = vec![path.as_os_str().to_owned()];
        for c in PCAPNG_COLUMNS {
            a.push("-e".into());
            a.push((*c).into());
        }
        a
    });
    let text = ok(&out);
    assert!(warnings(&out).is_empty(), "{}", stderr(&out));
    let t = Table::parse(&text);
    assert_eq!(t.rows.len(), 5, "{text}");
    let expect: [[&str; 7]; 5] = [
        [
            "1",
            "1",
            "0",
            "1700000000.123456789",
            "Ethernet:IPv4:UDP:Raw",
            "10.0.0.1",
            "9",
        ],
        [
            "2",
            "1",
            "0",
            "0.000000000",
            "Ethernet:IPv4:UDP:Raw",
            "10.0.0.2",
            "9",
        ],
        [
            "3",
            "228",
            "1",
            "105.000001000",
            "IPv4:UDP:Raw",
            "10.0.0.3",
            "9",
        ],
        [
            "4",
            "228",
            "1",
            "1600000100.250000000",
            "IPv4:UDP:Raw",
            "10.0.0.4",
            "9",
        ],
        [
            "5",
            "228",
            "0",
            "1234.567000000",
            "IPv4:UDP:Raw",
            "10.0.0.5",
            "9",
        ],
    ];
    for (row, want) in t.rows.iter().zip(expect) {
        assert_eq!(row[..7], want, "{text}");
    }
    // The simple packet block holds the frame padded to 32 bits; cap_len is the frame's.
    let simple = eth_ipv4_udp(2, b"simple packet").len();
    assert_ne!(simple % 4, 0);
    assert_eq!(t.get(2, "frame.cap_len"), simple.to_string());
}

#[test]
fn pcapng_json_names_sections_and_interfaces() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "two.pcapng", &two_section_pcapng());
    let text = ok(&run([&path]));
    let json: Value = serde_json::from_str(&text).expect("valid JSON");
    let keys = top_level_keys(&text);
    assert_eq!(
        keys,
        [
            "Section Header 1",
            "Interface Description 1",
            "Interface Description 2",
            "Frame 1",
            "Custom Block 1",
            "Name Resolution 1",
            "Frame 2",
            "Custom Block 2",
            "Frame 3",
            "Frame 4",
            "Section Header 2",
            "Interface Description 3",
            "Custom Block 3",
            "Frame 5",
        ]
    );
    // Custom blocks: the enterprise number (the first 4 bytes, in the section's order).
    assert_eq!(json["Custom Block 1"]["pen"], 0x0403_0201);
    assert_eq!(json["Custom Block 1"]["length"], 4);
    assert_eq!(json["Custom Block 2"]["pen"], 0xefbe_adde_u32);
    assert_eq!(json["Custom Block 3"]["pen"], 0x0909_0909);
    assert_eq!(json["Custom Block 3"]["section"], 2);
    assert_eq!(
        json["Name Resolution 1"]["records"][0]["kind"]["name"],
        "nrb_record_end"
    );
    assert_eq!(json["Section Header 1"]["byte_order"], "little");
    assert_eq!(json["Section Header 2"]["byte_order"], "big");
    assert_eq!(json["Interface Description 2"]["linktype"]["value"], 228);
    assert_eq!(json["Interface Description 3"]["section"], 2);
    assert_eq!(json["Interface Description 3"]["index"], 0);
    assert_eq!(json["Frame 3"]["interface"], 1);
    assert_eq!(json["Frame 3"]["ipv4"]["src"], "10.0.0.3");
    assert_eq!(json["Frame 1"]["frame_info"]["ts_nsec"], 123_456_789);
    // Standard input reads it the same way.
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(ok(&run_stdin(["-"], &bytes)), text);
}

#[test]
fn pcapng_binary_timestamp_resolution() {
    let le = Order::Little;
    let mut f = shb(le, &[]);
    f.extend(idb(le, 1, 0, &[if_tsresol(le, 0x80 | 10)])); // 2^-10 s
    f.extend(epb(le, 0, (1000 << 10) | 512, &eth_ipv4_udp(1, b"x")));
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "bin.pcapng", &f);
    let t = fields_of(&path, &["frame.time_epoch"]);
    assert_eq!(t.column("frame.time_epoch"), ["1000.500000000"]);
}

#[test]
fn pcapng_bad_trailing_length_keeps_earlier_packets() {
    let le = Order::Little;
    let mut f = shb(le, &[]);
    f.extend(idb(le, 1, 0, &[]));
    f.extend(epb(le, 0, 1, &eth_ipv4_udp(1, b"one")));
    f.extend(epb(le, 0, 2, &eth_ipv4_udp(2, b"two")));
    let bad_at = f.len();
    let mut bad = epb(le, 0, 3, &eth_ipv4_udp(3, b"three"));
    let n = bad.len();
    bad[n - 4..].copy_from_slice(&le.u32(n as u32 + 4));
    f.extend(bad);
    f.extend(epb(le, 0, 4, &eth_ipv4_udp(4, b"four")));
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "bad.pcapng", &f);
    let out = numbers_run(&path);
    damaged(&out, "bad trailer");
    assert_eq!(frame_numbers(&out), [1, 2]);
    let w = warnings(&out);
    assert_eq!(w.len(), 1, "{}", stderr(&out));
    assert!(w[0].contains(&bad_at.to_string()), "{w:?}");
}

#[test]
fn pcapng_damage_of_every_kind_keeps_earlier_packets() {
    let le = Order::Little;
    let mut head = shb(le, &[]);
    head.extend(idb(le, 1, 0, &[]));
    head.extend(epb(le, 0, 1, &eth_ipv4_udp(1, b"one")));
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("length not a multiple of 4", {
            let mut b = epb(le, 0, 2, &eth_ipv4_udp(2, b"x"));
            b[4] = b[4].wrapping_add(1);
            b
        }),
        ("length below 12", {
            let mut b = epb(le, 0, 2, &eth_ipv4_udp(2, b"x"));
            b[4..8].copy_from_slice(&le.u32(8));
            b
        }),
        ("huge length", {
            let mut b = epb(le, 0, 2, &eth_ipv4_udp(2, b"x"));
            b[4..8].copy_from_slice(&le.u32(0xFFFF_FFF0));
            b
        }),
        ("unknown interface", epb(le, 7, 2, &eth_ipv4_udp(2, b"x"))),
        ("captured length past the block", {
            let mut b = epb(le, 0, 2, &eth_ipv4_udp(2, b"x"));
            b[20..24].copy_from_slice(&le.u32(5000));
            b
        }),
        (
            "cut block",
            epb(le, 0, 2, &eth_ipv4_udp(2, b"x"))[..30].to_vec(),
        ),
        ("cut block header", vec![6, 0, 0]),
        ("section without byte-order magic", {
            let mut b = shb(le, &[]);
            b[8..12].copy_from_slice(&[1, 2, 3, 4]);
            b
        }),
    ];
    for (what, tail) in cases {
        let mut f = head.clone();
        f.extend(tail);
        let path = write_file(dir.path(), "damaged.pcapng", &f);
        let out = numbers_run(&path);
        damaged(&out, what);
        assert_eq!(frame_numbers(&out), [1], "{what}");
    }
}

#[test]
fn pcapng_truncated_everywhere_never_crashes() {
    let f = two_section_pcapng();
    let dir = tempfile::tempdir().unwrap();
    let mut last_count = 0;
    for cut in (4..=f.len()).step_by(3).chain([f.len()]) {
        let path = write_file(dir.path(), "cut.pcapng", &f[..cut]);
        let out = numbers_run(&path);
        let what = format!("cut at {cut}");
        // A cut between blocks leaves a shorter, sound file.
        if warnings(&out).is_empty() {
            assert!(out.status.success(), "{what}: {}", stderr(&out));
        } else {
            damaged(&out, &what);
        }
        assert!(
            cut == f.len() || out.status.code() == Some(3) || cut % 4 == 0,
            "{what}"
        );
        let numbers = frame_numbers(&out);
        assert_eq!(numbers, one_to(numbers.len()), "{what}");
        assert!(numbers.len() >= last_count, "{what}");
        last_count = numbers.len();
    }
    assert_eq!(last_count, 5);
}

// ---------------------------------------------------------------------------------------
// Output atomicity and special files

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn failed_runs_leave_no_output_and_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_file(dir.path(), "in.pcap", &demo());
    let not_capture = write_file(dir.path(), "text.pcap", b"not a capture at all");
    let before = entries(dir.path());
    // Unknown column.
    let out = run_in(
        dir.path(),
        [
            input.as_os_str(),
            "-e".as_ref(),
            "ipv9.src".as_ref(),
            "-o".as_ref(),
            "out.tsv".as_ref(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(entries(dir.path()), before);
    // Input that is not a capture.
    let out = run_in(
        dir.path(),
        [not_capture.as_os_str(), "-o".as_ref(), "out.json".as_ref()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(entries(dir.path()), before);
    // Output that is an existing directory: the dump fails at the end.
    std::fs::create_dir(dir.path().join("adir")).unwrap();
    let before = entries(dir.path());
    let out = run_in(
        dir.path(),
        [input.as_os_str(), "-o".as_ref(), "adir".as_ref()],
    );
    assert_no_crash(&out, "directory output");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("adir"), "{}", stderr(&out));
    assert_eq!(entries(dir.path()), before);
    assert!(entries(&dir.path().join("adir")).is_empty());
}

#[test]
fn a_write_failing_midway_leaves_no_output() {
    // A file size limit makes the write fail after a few kilobytes (SIGXFSZ ignored so
    // that the write returns EFBIG instead of killing the process).
    let dir = tempfile::tempdir().unwrap();
    let input = write_file(dir.path(), "in.pcap", &demo());
    std::fs::write(dir.path().join("out.json"), b"previous content").unwrap();
    let script = format!(
        "trap '' XFSZ; ulimit -f 20; exec '{}' '{}' -o out.json",
        env!("CARGO_BIN_EXE_pcapkit"),
        input.display()
    );
    let out = std::process::Command::new("sh")
        .current_dir(dir.path())
        .args(["-c", &script])
        .output()
        .unwrap();
    assert_no_crash(&out, "file size limit");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("pcapkit: error: ") && err.contains("out.json"),
        "{err}"
    );
    // The previous file is untouched, and no temporary file remains.
    assert_eq!(
        std::fs::read(dir.path().join("out.json")).unwrap(),
        b"previous content"
    );
    assert_eq!(entries(dir.path()), ["in.pcap", "out.json"]);
}

#[test]
fn missing_output_directory_error_names_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        [
            demo_path().as_os_str(),
            "-o".as_ref(),
            "nodir/x.json".as_ref(),
        ],
    );
    assert_no_crash(&out, "missing directory");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("nodir/x.json"), "{err}");
    assert!(err.contains("directory nodir does not exist"), "{err}");
    assert!(!err.contains("entity not found"), "{err}");
    assert!(!err.contains(".pcapkit-"), "{err}");
    assert!(!err.contains(".tmp"), "{err}");
}

#[test]
fn missing_output_directory_fails_without_crashing() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        [
            demo_path().as_os_str(),
            "-o".as_ref(),
            "nodir/x.json".as_ref(),
        ],
    );
    assert_no_crash(&out, "missing directory");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).starts_with("pcapkit: error: "));
    assert!(entries(dir.path()).is_empty());
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
}

fn is_fifo(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(path)
        .map(|m| m.file_type().is_fifo())
        .unwrap_or(false)
}

#[test]
fn output_to_a_fifo_writes_through_it() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("out.fifo");
    mkfifo(&fifo);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(&fifo).unwrap())
    };
    let out = run_in(
        dir.path(),
        [
            demo_path().as_os_str(),
            "-o".as_ref(),
            "out.fifo".as_ref(),
            "-f".as_ref(),
            "ndjson".as_ref(),
        ],
    );
    let received = reader.join().unwrap();
    assert_no_crash(&out, "fifo");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(is_fifo(&fifo), "the FIFO was replaced");
    let text = String::from_utf8(received).unwrap();
    assert_eq!(text.lines().count(), DEMO_FRAMES);
    assert_eq!(entries(dir.path()), ["out.fifo"]);
}

#[test]
fn output_to_dev_null_keeps_it_a_device() {
    use std::os::unix::fs::FileTypeExt;
    let null = Path::new("/dev/null");
    let is_char = || {
        std::fs::symlink_metadata(null)
            .map(|m| m.file_type().is_char_device())
            .unwrap_or(false)
    };
    assert!(
        is_char(),
        "/dev/null is not a character device before the test"
    );
    let out = run([demo_path().as_os_str(), "-o".as_ref(), "/dev/null".as_ref()]);
    assert_no_crash(&out, "/dev/null");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(
        is_char(),
        "pcapkit replaced /dev/null; restore it: rm -f /dev/null && mknod -m 666 /dev/null c 1 3"
    );
}

// ---------------------------------------------------------------------------------------
// Timestamps at the edges

#[test]
fn timestamps_before_1970() {
    // if_tsoffset -10 s and 5.25 s of units: -4.75 s, a quarter second after
    // 1969-12-31T23:59:55.
    let le = Order::Little;
    let mut f = shb(le, &[]);
    f.extend(idb(le, 1, 0, &[if_tsoffset(le, -10)]));
    f.extend(epb(le, 0, 5_250_000, &eth_ipv4_udp(1, b"early")));
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "early.pcapng", &f);
    let t = fields_of(&path, &["frame.time_epoch", "frame.time"]);
    assert_eq!(t.get(1, "frame.time_epoch"), "-4.750000000");
    assert_eq!(t.get(1, "frame.time"), "1969-12-31T23:59:55.250000");
    let json: Value = serde_json::from_str(&ok(&run([&path]))).unwrap();
    assert_eq!(json["Frame 1"]["time_epoch"], "-4.750000000");
}

#[test]
fn json_frame_info_seconds_before_1970() {
    let le = Order::Little;
    let mut f = shb(le, &[]);
    f.extend(idb(le, 1, 0, &[if_tsoffset(le, -10)]));
    f.extend(epb(le, 0, 5_250_000, &eth_ipv4_udp(1, b"early")));
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "early.pcapng", &f);
    let json: Value = serde_json::from_str(&ok(&run([&path]))).unwrap();
    let info = &json["Frame 1"]["frame_info"];
    assert_eq!(info["ts_sec"].as_i64(), Some(-5), "{info}");
    assert_eq!(info["ts_nsec"], 250_000_000, "{info}");
}

#[test]
fn extreme_timestamps_never_crash() {
    let le = Order::Little;
    let mut f = shb(le, &[]);
    for (resol, offset) in [
        (9u8, i64::MIN),
        (6, i64::MAX),
        (0x80 | 63, 0),
        (0xff, -1),
        (19, 0),
        (0, 0),
    ] {
        f.extend(idb(
            le,
            1,
            0,
            &[if_tsresol(le, resol), if_tsoffset(le, offset)],
        ));
    }
    for iface in 0..6 {
        for ts in [0, 1, u64::MAX, u64::MAX / 2] {
            f.extend(epb(le, iface, ts, &eth_ipv4_udp(1, b"t")));
        }
    }
    let mut pcap = demo();
    for r in records_le(&pcap) {
        pcap[r.offset..r.offset + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        pcap[r.offset + 4..r.offset + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    }
    let dir = tempfile::tempdir().unwrap();
    let ng = write_file(dir.path(), "times.pcapng", &f);
    let classic = write_file(dir.path(), "times.pcap", &pcap);
    for (path, frames) in [(&ng, 24), (&classic, DEMO_FRAMES)] {
        // Times past year 9999 are no `<date>`: the plist stays loadable.
        let out = run([path.as_os_str(), "-f".as_ref(), "plist".as_ref()]);
        assert_no_crash(&out, "plist");
        plist::Value::from_reader_xml(&out.stdout[..]).expect("a valid plist");
        for format in ["json", "ndjson"] {
            let out = run([path.as_os_str(), "-f".as_ref(), format.as_ref()]);
            assert_no_crash(&out, format);
            assert!(out.status.success(), "{}", stderr(&out));
            let text = stdout(&out);
            if format == "json" {
                let v: Value = serde_json::from_str(&text).unwrap();
                assert!(v[format!("Frame {frames}")].is_object());
            } else {
                assert_eq!(text.lines().count(), frames);
            }
        }
        let t = fields_of(path, &["frame.time_epoch", "frame.time"]);
        assert_eq!(t.rows.len(), frames);
        for row in &t.rows {
            assert!(row[0].contains('.'), "{row:?}");
        }
    }
}

#[test]
fn zero_length_records_are_frames_too() {
    let file = pcap_file(
        1,
        &[
            PcapRecord::new(1, 0, eth_ipv4_udp(1, b"a")),
            PcapRecord {
                ts_sec: 2,
                ts_usec: 0,
                orig_len: 60,
                data: Vec::new(),
            },
            PcapRecord {
                ts_sec: 3,
                ts_usec: 0,
                orig_len: 60,
                data: vec![1, 2, 3, 4, 5],
            },
            PcapRecord::new(4, 0, eth_ipv4_udp(4, b"d")),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "zero.pcap", &file);
    let t = fields_of(
        &path,
        &["frame.number", "frame.len", "frame.cap_len", "ipv4.src"],
    );
    assert_eq!(t.column("frame.number"), ["1", "2", "3", "4"]);
    assert_eq!(t.column("frame.cap_len")[1..3], ["0", "5"]);
    assert_eq!(t.column("frame.len")[1..3], ["60", "60"]);
    assert_eq!(t.column("ipv4.src"), ["10.0.0.1", "", "", "10.0.0.4"]);
    let text = ok(&run([path.as_os_str(), "-f".as_ref(), "ndjson".as_ref()]));
    let second: Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
    assert_eq!(second["packet"], "");
    assert_eq!(second["cap_len"], 0);
}

// ---------------------------------------------------------------------------------------
// An input that changes underneath

#[test]
fn a_file_truncated_while_being_read_ends_with_a_warning_not_a_signal() {
    use std::io::{BufRead, BufReader};
    // 40 000 frames of 1 000 bytes, written as NDJSON of 2 kB a frame: pcapkit blocks on
    // its output pipe after a few dozen frames, long before its reader gets near the
    // middle of the file, where the file is then cut.
    let frames = 40_000;
    let records: Vec<PcapRecord> = (0..frames)
        .map(|i| PcapRecord::new(1_700_000_000 + i, 0, eth_ipv4_udp(1, &[0x55; 958])))
        .collect();
    let pcap = pcap_file(1, &records);
    let record = 16 + records[0].data.len();
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "shrinking.pcap", &pcap);
    let mut child = pcapkit()
        .args([path.as_os_str(), "-f".as_ref(), "ndjson".as_ref()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let number = |line: &str| -> u64 {
        let v: Value = serde_json::from_str(line).unwrap();
        v["number"].as_u64().unwrap()
    };
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // The first frame: the run is under way.
    assert_eq!(number(&lines.next().unwrap().unwrap()), 1);
    // Cut the file in the middle of record 20 001.
    let cut = 24 + 20_000 * record + 100;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(cut as u64)
        .unwrap();
    let rest: Vec<u64> = lines.map(|l| number(&l.unwrap())).collect();
    let out = child.wait_with_output().unwrap();
    damaged(&out, "truncated while read");
    // Every frame before the cut, in order, then a warning naming where the file ended.
    assert_eq!(rest, (2..=20_000).collect::<Vec<u64>>());
    let w = warnings(&out);
    assert_eq!(w.len(), 1, "{}", stderr(&out));
    assert!(w[0].contains("record 20001"), "{w:?}");
    assert!(w[0].contains(&format!("offset {}", cut - 100)), "{w:?}");
}
