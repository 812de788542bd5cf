//! pcapng metadata in the outputs: the options of every block (per-packet comments, flags,
//! hashes, ...), and the Name Resolution, Interface Statistics, Decryption Secrets and
//! Custom blocks. The captures are built here; expected values are worked out by hand
//! from draft-ietf-opsawg-pcapng. The ignored tests at the end (run by `.ci/run`) compare
//! the same captures and every pcapng file of the corpus with tshark.

use crate::common;
use crate::formats;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use formats::*;
use pcapkit::reader::pcapng_meta::{Metadata, OptionValue, RecordValue};
use pcapkit::reader::{CaptureReader, Event};
use serde_json::{json, Value as Json};

// ---------------------------------------------------------------------------------------
// Building captures

/// An Enhanced Packet Block with options (and `opt_endofopt` after them).
fn epb_with(order: Order, interface: u32, ts: u64, data: &[u8], opts: &[Vec<u8>]) -> Vec<u8> {
    let mut body = epb_body(order, interface, ts, data);
    body.extend_from_slice(&options(order, opts));
    block(order, 6, &body)
}

/// A timestamp as two 32-bit words, the upper first (EPB and ISB timestamps).
fn ts_words(order: Order, units: u64) -> Vec<u8> {
    [order.u32((units >> 32) as u32), order.u32(units as u32)].concat()
}

/// An Interface Statistics Block.
fn isb(order: Order, interface: u32, units: u64, opts: &[Vec<u8>]) -> Vec<u8> {
    let mut body = order.u32(interface).to_vec();
    body.extend_from_slice(&ts_words(order, units));
    body.extend_from_slice(&options(order, opts));
    block(order, 5, &body)
}

/// A 42-byte broadcast ARP frame.
fn arp_frame() -> Vec<u8> {
    ethernet(
        [0xff; 6],
        [0, 0x11, 0x22, 0x33, 0x44, 0x55],
        0x0806,
        &[0; 28],
    )
}

/// The secret the Decryption Secrets Block holds, which no output may show.
const SECRET: &[u8] = b"CLIENT_RANDOM 0011 SECRETKEY42\n";

/// The `epb_flags` of frame 1: inbound (1), broadcast (3 << 2), an FCS of 4 octets
/// (4 << 5), CRC error (bit 24), symbol error (bit 31).
const FLAGS_1: u32 = 1 | 3 << 2 | 4 << 5 | 1 << 24 | 1 << 31;
/// Frame 2's: outbound (2), multicast (2 << 2), checksum not ready (bit 9), TCP
/// segmentation offloaded (bit 11).
const FLAGS_2: u32 = 2 | 2 << 2 | 1 << 9 | 1 << 11;

/// Nanoseconds since the epoch of frame 1 (interface 0 counts nanoseconds).
const T1: u64 = 1_700_000_000_123_456_789;

/// A capture with every kind of metadata: a section and two interfaces with options, a
/// name resolution block, decryption secrets, three packets (with comments and flags;
/// with every other packet option; with none), a custom block, and statistics for both
/// interfaces.
fn rich(order: Order) -> Vec<u8> {
    let o = |code, value: &[u8]| option(order, code, value);
    let mut out = shb(
        order,
        &[
            o(2, b"Test Machine"),
            o(3, b"TestOS 1.0"),
            o(4, b"pcapkit tests"),
            o(1, b"section comment"),
        ],
    );
    out.extend(idb(
        order,
        1,
        65535,
        &[
            o(2, b"eth0"),
            o(3, b"first interface"),
            o(4, &[192, 168, 0, 1, 255, 255, 255, 0]),
            o(
                5,
                &[&[0x20, 0x01, 0x0d, 0xb8][..], &[0; 11], &[1, 64]].concat(),
            ),
            o(6, &[0, 1, 2, 3, 4, 5]),
            o(7, &[0x02, 0x34, 0x56, 0xff, 0xfe, 0x78, 0x9a, 0xbc]),
            o(8, &order.u64(100_000_000)),
            o(9, &[9]),
            o(10, &order.u32(0)),
            o(11, b"\x00tcp port 80"),
            o(12, b"Linux 6.1"),
            o(13, &[4]),
            o(14, &order.u64(0)),
            o(15, b"NIC 9000"),
            o(16, &order.u64(1_000_000_000)),
            o(17, &order.u64(2_000_000_000)),
            o(18, b"Europe/Berlin"),
            o(2988, &[&order.u32(32473)[..], b"custom text"].concat()),
            o(2989, &[&order.u32(32473)[..], &[1, 2, 3]].concat()),
        ],
    ));
    // Interface 1 counts microseconds (no if_tsresol) from 100 s after the epoch.
    out.extend(idb(order, 0, 0, &[o(2, b"lo0"), if_tsoffset(order, 100)]));
    let records = [
        o(1, b"\x0a\x00\x00\x01host-a\0alias-a\0"),
        o(
            2,
            &[&[0x20, 0x01, 0x0d, 0xb8][..], &[0; 11], &[2], b"host-b\0"].concat(),
        ),
        o(3, b"\x02\xca\xfe\xf0\x0d\x01teapot\0"),
        o(4, b"\x02\x34\x56\xff\xfe\x78\x9a\xbceui\0"),
        o(0, &[]),
    ]
    .concat();
    let nrb_options = options(
        order,
        &[
            o(2, b"ns.example"),
            o(3, &[192, 0, 2, 53]),
            o(
                4,
                &[&[0x20, 0x01, 0x0d, 0xb8][..], &[0; 11], &[0x35]].concat(),
            ),
            o(1, b"nrb comment"),
        ],
    );
    out.extend(block(order, 4, &[records, nrb_options].concat()));
    let mut dsb = order.u32(0x544c_534b).to_vec();
    dsb.extend_from_slice(&order.u32(SECRET.len() as u32));
    dsb.extend_from_slice(SECRET);
    dsb.resize(dsb.len().next_multiple_of(4), 0);
    dsb.extend(options(order, &[o(1, b"dsb comment")]));
    out.extend(block(order, 10, &dsb));
    out.extend(epb_with(
        order,
        0,
        T1,
        &arp_frame(),
        &[
            o(1, b"first packet"),
            o(1, b"second comment"),
            o(2, &order.u32(FLAGS_1)),
        ],
    ));
    out.extend(epb_with(
        order,
        0,
        T1 + 1_000_000_000,
        &arp_frame(),
        &[
            o(2, &order.u32(FLAGS_2)),
            o(3, &[2, 0xde, 0xad, 0xbe, 0xef]),
            o(4, &order.u64(7)),
            o(5, &order.u64(0x1122_3344_5566_7788)),
            o(6, &order.u32(3)),
            o(7, &[&[2][..], &order.u64(2)].concat()),
            o(7, &[&[1][..], &order.u64(1)].concat()),
            o(7, &[0, 0xaa, 0xbb]),
            o(8, &[order.u32(1234), order.u32(0)].concat()),
            o(19373, &[&order.u32(32473)[..], &[0xff]].concat()),
        ],
    ));
    out.extend(block(
        order,
        0x4000_0BAD,
        &[&order.u32(32473)[..], b"vendor data!"].concat(),
    ));
    out.extend(epb(order, 0, T1 + 2_000_000_000, &arp_frame()));
    out.extend(isb(
        order,
        0,
        T1 + 3_000_000_000,
        &[
            o(2, &ts_words(order, 1_700_000_000_000_000_000)),
            o(3, &ts_words(order, 1_700_000_003_500_000_000)),
            o(4, &order.u64(100)),
            o(5, &order.u64(1)),
            o(6, &order.u64(90)),
            o(7, &order.u64(2)),
            o(8, &order.u64(88)),
            o(1, b"isb comment"),
        ],
    ));
    out.extend(isb(
        order,
        1,
        1_500_000,
        &[o(2, &ts_words(order, 250_000)), o(4, &order.u64(0))],
    ));
    out
}

/// Writes `bytes` into a new temporary directory.
fn capture(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), name, bytes);
    (dir, path)
}

fn json_of(path: &Path) -> Json {
    serde_json::from_str(&ok(&run([path.to_str().unwrap(), "-f", "json"]))).unwrap()
}

fn kind(name: &str, value: u64) -> Json {
    json!({"name": name, "value": value})
}

fn end() -> Json {
    json!({"kind": kind("opt_endofopt", 0), "length": 0})
}

/// The decoded flags word, every member, as the JSON shows it.
#[allow(clippy::too_many_arguments)]
fn flags(
    word: u32,
    direction: (&str, u64),
    reception: (&str, u64),
    fcs: u64,
    not_ready: bool,
    tso: bool,
    crc: bool,
    symbol: bool,
) -> Json {
    json!({
        "kind": kind("epb_flags", 2), "length": 4, "epb_flags": word,
        "direction": kind(direction.0, direction.1),
        "reception_type": kind(reception.0, reception.1),
        "fcs_length": fcs, "checksum_not_ready": not_ready, "checksum_valid": false,
        "tcp_segmentation_offloaded": tso, "reserved": 0,
        "link_layer_errors": word >> 16,
        "crc_error": crc, "packet_too_long_error": false, "packet_too_short_error": false,
        "wrong_inter_frame_gap_error": false, "unaligned_frame_error": false,
        "start_frame_delimiter_error": false, "preamble_error": false, "symbol_error": symbol,
    })
}

// ---------------------------------------------------------------------------------------
// What each block shows

#[test]
fn packet_options_are_members_of_their_frame_in_both_byte_orders() {
    for order in [Order::Little, Order::Big] {
        let (_dir, path) = capture("rich.pcapng", &rich(order));
        let v = json_of(&path);
        assert_eq!(
            v["Frame 1"]["options"],
            json!([
                {"kind": kind("opt_comment", 1), "length": 12, "comment": "first packet"},
                {"kind": kind("opt_comment", 1), "length": 14, "comment": "second comment"},
                flags(0x8100_008d, ("inbound", 1), ("broadcast", 3), 4, false, false, true, true),
                end(),
            ]),
            "{order:?}"
        );
        assert_eq!(
            v["Frame 2"]["options"],
            json!([
                flags(0x0a0a, ("outbound", 2), ("multicast", 2), 0, true, true, false, false),
                {"kind": kind("epb_hash", 3), "length": 5,
                 "algorithm": kind("CRC32", 2), "hash": "deadbeef"},
                {"kind": kind("epb_dropcount", 4), "length": 8, "epb_dropcount": 7},
                {"kind": kind("epb_packetid", 5), "length": 8,
                 "epb_packetid": 0x1122_3344_5566_7788_u64},
                {"kind": kind("epb_queue", 6), "length": 4, "epb_queue": 3},
                {"kind": kind("epb_verdict", 7), "length": 9,
                 "verdict_type": kind("Linux eBPF XDP", 2), "verdict": 2},
                {"kind": kind("epb_verdict", 7), "length": 9,
                 "verdict_type": kind("Linux eBPF TC", 1), "verdict": 1},
                {"kind": kind("epb_verdict", 7), "length": 3,
                 "verdict_type": kind("Hardware", 0), "verdict": "aabb"},
                {"kind": kind("epb_processid_threadid", 8), "length": 8,
                 "process_id": 1234, "thread_id": 0},
                {"kind": kind("opt_custom", 19373), "length": 5, "pen": 32473, "custom": "ff"},
                end(),
            ]),
            "{order:?}"
        );
        // A block without options: no member, the frame as before.
        let frame3 = v["Frame 3"].as_object().unwrap();
        assert!(!frame3.contains_key("options"));
        // Just before the first layer, after the record's metadata.
        let keys: Vec<&String> = v["Frame 1"].as_object().unwrap().keys().collect();
        assert!(keys.contains(&&"options".to_string()));
        assert_eq!(v["Frame 1"]["time_epoch"], "1700000000.123456789");
    }
}

#[test]
fn options_come_after_the_records_metadata_and_before_the_layers() {
    let (_dir, path) = capture("rich.pcapng", &rich(Order::Little));
    // serde_json sorts keys: read the order from the text itself.
    let text = ok(&run([path.to_str().unwrap(), "-f", "ndjson"]));
    let line = text.lines().next().unwrap();
    let at = |key: &str| line.find(&format!("\"{key}\":")).unwrap();
    assert!(at("linktype") < at("options") && at("options") < at("ethernet"));
    // NDJSON lines are the JSON's frames.
    let whole = json_of(&path);
    for (n, line) in text.lines().enumerate() {
        let frame: Json = serde_json::from_str(line).unwrap();
        assert_eq!(frame, whole[format!("Frame {}", n + 1)]);
    }
}

#[test]
fn section_and_interface_options_are_named_as_the_draft_names_them() {
    let (_dir, path) = capture("rich.pcapng", &rich(Order::Big));
    let v = json_of(&path);
    let section = &v["Section Header 1"];
    assert_eq!(section["byte_order"], "big");
    assert_eq!(
        section["options"],
        json!([
            {"kind": kind("shb_hardware", 2), "length": 12, "shb_hardware": "Test Machine"},
            {"kind": kind("shb_os", 3), "length": 10, "shb_os": "TestOS 1.0"},
            {"kind": kind("shb_userappl", 4), "length": 13, "shb_userappl": "pcapkit tests"},
            {"kind": kind("opt_comment", 1), "length": 15, "comment": "section comment"},
            end(),
        ])
    );
    assert_eq!(
        v["Interface Description 1"]["options"],
        json!([
            {"kind": kind("if_name", 2), "length": 4, "if_name": "eth0"},
            {"kind": kind("if_description", 3), "length": 15, "if_description": "first interface"},
            {"kind": kind("if_IPv4addr", 4), "length": 8,
             "address": "192.168.0.1", "netmask": "255.255.255.0"},
            {"kind": kind("if_IPv6addr", 5), "length": 17,
             "address": "2001:db8::1", "prefix_length": 64},
            {"kind": kind("if_MACaddr", 6), "length": 6, "if_MACaddr": "00:01:02:03:04:05"},
            {"kind": kind("if_EUIaddr", 7), "length": 8, "if_EUIaddr": "023456fffe789abc"},
            {"kind": kind("if_speed", 8), "length": 8, "if_speed": 100_000_000},
            {"kind": kind("if_tsresol", 9), "length": 1, "if_tsresol": 9},
            {"kind": kind("if_tzone", 10), "length": 4, "if_tzone": 0},
            {"kind": kind("if_filter", 11), "length": 12,
             "filter_type": kind("libpcap string", 0), "filter": "tcp port 80"},
            {"kind": kind("if_os", 12), "length": 9, "if_os": "Linux 6.1"},
            {"kind": kind("if_fcslen", 13), "length": 1, "if_fcslen": 4},
            {"kind": kind("if_tsoffset", 14), "length": 8, "if_tsoffset": 0},
            {"kind": kind("if_hardware", 15), "length": 8, "if_hardware": "NIC 9000"},
            {"kind": kind("if_txspeed", 16), "length": 8, "if_txspeed": 1_000_000_000},
            {"kind": kind("if_rxspeed", 17), "length": 8, "if_rxspeed": 2_000_000_000},
            {"kind": kind("if_iana_tzname", 18), "length": 13, "if_iana_tzname": "Europe/Berlin"},
            {"kind": kind("opt_custom", 2988), "length": 15, "pen": 32473, "custom": "custom text"},
            {"kind": kind("opt_custom", 2989), "length": 7, "pen": 32473, "custom": "010203"},
            end(),
        ])
    );
    assert_eq!(
        v["Interface Description 2"]["options"],
        json!([
            {"kind": kind("if_name", 2), "length": 3, "if_name": "lo0"},
            {"kind": kind("if_tsoffset", 14), "length": 8, "if_tsoffset": 100},
            end(),
        ])
    );
}

#[test]
fn name_resolution_records_hold_an_address_and_its_names() {
    let (_dir, path) = capture("rich.pcapng", &rich(Order::Little));
    let v = json_of(&path);
    assert_eq!(
        v["Name Resolution 1"],
        json!({
            "section": 1,
            "records": [
                {"kind": kind("nrb_record_ipv4", 1), "length": 19,
                 "address": "10.0.0.1", "names": ["host-a", "alias-a"]},
                {"kind": kind("nrb_record_ipv6", 2), "length": 23,
                 "address": "2001:db8::2", "names": ["host-b"]},
                {"kind": kind("nrb_record_eui48", 3), "length": 13,
                 "address": "02:ca:fe:f0:0d:01", "names": ["teapot"]},
                {"kind": kind("nrb_record_eui64", 4), "length": 12,
                 "address": "023456fffe789abc", "names": ["eui"]},
                {"kind": kind("nrb_record_end", 0), "length": 0},
            ],
            "options": [
                {"kind": kind("ns_dnsname", 2), "length": 10, "ns_dnsname": "ns.example"},
                {"kind": kind("ns_dnsIP4addr", 3), "length": 4, "ns_dnsIP4addr": "192.0.2.53"},
                {"kind": kind("ns_dnsIP6addr", 4), "length": 16, "ns_dnsIP6addr": "2001:db8::35"},
                {"kind": kind("opt_comment", 1), "length": 11, "comment": "nrb comment"},
                end(),
            ],
        })
    );
}

#[test]
fn interface_statistics_count_time_with_their_interfaces_clock() {
    let (_dir, path) = capture("rich.pcapng", &rich(Order::Big));
    let v = json_of(&path);
    let counter =
        |name: &str, code: u64, n: u64| json!({"kind": kind(name, code), "length": 8, name: n});
    // Interface 0 counts nanoseconds.
    assert_eq!(
        v["Interface Statistics 1"],
        json!({
            "section": 1,
            "interface": 0,
            "time_epoch": "1700000003.123456789",
            "options": [
                {"kind": kind("isb_starttime", 2), "length": 8,
                 "isb_starttime": "1700000000.000000000"},
                {"kind": kind("isb_endtime", 3), "length": 8,
                 "isb_endtime": "1700000003.500000000"},
                counter("isb_ifrecv", 4, 100),
                counter("isb_ifdrop", 5, 1),
                counter("isb_filteraccept", 6, 90),
                counter("isb_osdrop", 7, 2),
                counter("isb_usrdeliv", 8, 88),
                {"kind": kind("opt_comment", 1), "length": 11, "comment": "isb comment"},
                end(),
            ],
        })
    );
    // Interface 1 counts microseconds from 100 s: 1 500 000 us is 101.5 s.
    assert_eq!(
        v["Interface Statistics 2"],
        json!({
            "section": 1,
            "interface": 1,
            "time_epoch": "101.500000000",
            "options": [
                {"kind": kind("isb_starttime", 2), "length": 8, "isb_starttime": "100.250000000"},
                counter("isb_ifrecv", 4, 0),
                end(),
            ],
        })
    );
}

#[test]
fn decryption_secrets_show_their_type_and_length_and_never_the_secrets() {
    let (dir, path) = capture("rich.pcapng", &rich(Order::Little));
    let v = json_of(&path);
    assert_eq!(
        v["Decryption Secrets 1"],
        json!({
            "section": 1,
            "secrets_type": kind("TLS Key Log", 0x544c_534b),
            "secrets_length": SECRET.len(),
            "options": [
                {"kind": kind("opt_comment", 1), "length": 11, "comment": "dsb comment"},
                end(),
            ],
        })
    );
    // Not in any format, not in any file of --files, as text, hex or base64.
    let hex: String = SECRET.iter().map(|b| format!("{b:02x}")).collect();
    let spaced: Vec<String> = SECRET[..16].iter().map(|b| format!("{b:02x}")).collect();
    let leaks = [
        "SECRETKEY42",
        &hex[..20],
        &spaced.join(" "),
        "U0VDUkVUS0VZNDI",
        "Q0xJRU5UX1JBTkRPTS",
    ];
    let mut outputs = Vec::new();
    for format in ["json", "ndjson", "plist", "tree"] {
        outputs.push(ok(&run([path.to_str().unwrap(), "-f", format])));
    }
    for format in ["json", "plist", "tree"] {
        let out = dir.path().join(format!("files-{format}"));
        ok(&run([
            path.to_str().unwrap(),
            "--files",
            "-f",
            format,
            "-o",
            out.to_str().unwrap(),
        ]));
        for entry in std::fs::read_dir(&out).unwrap() {
            outputs.push(std::fs::read_to_string(entry.unwrap().path()).unwrap());
        }
    }
    for text in &outputs {
        for leak in leaks {
            assert!(!text.contains(leak), "{leak:?} is in an output");
        }
    }
    // The checks could fail: the secret is in the file itself.
    let file = std::fs::read(&path).unwrap();
    assert!(file.windows(11).any(|w| w == b"SECRETKEY42"));
}

#[test]
fn custom_blocks_show_their_enterprise_number_and_length() {
    let (_dir, path) = capture("rich.pcapng", &rich(Order::Big));
    assert_eq!(
        json_of(&path)["Custom Block 1"],
        json!({
            "section": 1,
            "block_type": kind("Custom (no copy)", 0x4000_0BAD),
            "pen": 32473,
            "length": 12,
        })
    );
}

#[test]
fn every_format_and_every_file_of_files_holds_the_metadata() {
    let (dir, path) = capture("rich.pcapng", &rich(Order::Little));
    assert_formats_agree(&path, &[]);
    let whole = json_of(&path);
    let out = dir.path().join("files");
    ok(&run([
        path.to_str().unwrap(),
        "--files",
        "-o",
        out.to_str().unwrap(),
    ]));
    let read = |name: &str| -> Json {
        serde_json::from_str(&std::fs::read_to_string(out.join(name)).unwrap()).unwrap()
    };
    let headers = read("headers.json");
    let keys: Vec<&String> = headers.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "Custom Block 1",
            "Decryption Secrets 1",
            "Interface Description 1",
            "Interface Description 2",
            "Interface Statistics 1",
            "Interface Statistics 2",
            "Name Resolution 1",
            "Section Header 1",
        ]
    );
    for key in keys {
        assert_eq!(headers[key], whole[key], "{key}");
    }
    for n in 1..=3 {
        let key = format!("Frame {n}");
        assert_eq!(read(&format!("frame-{n:06}.json"))[&key], whole[&key]);
    }
    // The tree shows an option's parts below it, the flags' names with their values.
    let tree = ok(&run([path.to_str().unwrap(), "-f", "tree"]));
    assert!(tree.contains(
        "\n  |-- options\n  |     |-- [0]\n  |     |     |-- kind -> opt_comment [1]\n  |     |     |-- length -> 12\n  |     |     |-- comment -> first packet\n"
    ));
    assert!(tree.contains("|-- direction -> inbound [1]\n"));
}

#[test]
fn packet_options_as_fields_take_tsharks_names() {
    let (_dir, path) = capture("rich.pcapng", &rich(Order::Big));
    let table = ok(&run([
        path.to_str().unwrap(),
        "-e",
        "frame.number",
        "-e",
        "frame.comment",
        "-e",
        "frame.packet_flags",
        "-e",
        "frame.drop_count",
        "-e",
        "frame.packet_id",
        "-e",
        "frame.interface_queue",
    ]));
    assert_eq!(
        table,
        format!(
            "frame.number\tframe.comment\tframe.packet_flags\tframe.drop_count\tframe.packet_id\tframe.interface_queue\n\
             1\tfirst packet,second comment\t{FLAGS_1}\t\t\t\n\
             2\t\t{FLAGS_2}\t7\t{}\t3\n\
             3\t\t\t\t\t\n",
            0x1122_3344_5566_7788_u64
        )
    );
}

#[test]
fn the_library_reads_options_and_metadata() {
    let (_dir, path) = capture("rich.pcapng", &rich(Order::Big));
    let mut reader = CaptureReader::from_file(std::fs::File::open(&path).unwrap()).unwrap();
    let (mut comments, mut directions, mut kinds) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(event) = reader.next_event() {
        match event {
            Event::Packet(_) => {
                if let Some(o) = reader.packet_options() {
                    comments.extend(o.comments());
                    directions.push(o.flags().map(|f| f.direction()));
                } else {
                    directions.push(None);
                }
            }
            Event::Metadata(m) => {
                kinds.push(match &m {
                    Metadata::NameResolution(n) => {
                        let first = n.records().next().unwrap();
                        assert!(matches!(first.value, RecordValue::Ipv4(a, _) if a.octets() == [10, 0, 0, 1]));
                        "nrb"
                    }
                    Metadata::InterfaceStatistics(_) => "isb",
                    Metadata::DecryptionSecrets(d) => {
                        assert_eq!(d.secrets_length, Some(SECRET.len() as u32));
                        "dsb"
                    }
                    Metadata::Custom(c) => {
                        assert_eq!(c.pen, Some(32473));
                        "cb"
                    }
                });
            }
            _ => {}
        }
    }
    assert_eq!(comments, ["first packet", "second comment"]);
    assert_eq!(directions, [Some(1), Some(2), None]);
    assert_eq!(kinds, ["nrb", "dsb", "cb", "isb", "isb"]);

    // The extractor keeps them with `store` on, and each frame its options.
    let ex = pcapkit::Extractor::builder()
        .input(&path)
        .store(true)
        .run()
        .unwrap();
    assert_eq!(ex.metadata().len(), 5);
    let frames = ex.frames();
    let o = frames[1].pcapng_options.as_ref().unwrap();
    assert!(o.iter().any(|o| matches!(
        o.value,
        OptionValue::Verdict {
            kind: 2,
            value: Some(2),
            ..
        }
    )));
    assert!(frames[2].pcapng_options.is_none());
}

// ---------------------------------------------------------------------------------------
// Damage

#[test]
fn damaged_options_and_blocks_are_reported_and_every_frame_is_kept() {
    let order = Order::Little;
    let o = |code, value: &[u8]| option(order, code, value);
    let mut file = shb(order, &[]);
    file.extend(idb(order, 1, 0, &[]));
    // An option announcing 200 bytes where 8 remain.
    let mut body = epb_body(order, 0, 1, &arp_frame());
    body.extend_from_slice(&o(1, b"ok"));
    body.extend_from_slice(&order.u16(1));
    body.extend_from_slice(&order.u16(200));
    body.extend_from_slice(b"abcdefgh");
    file.extend(block(order, 6, &body));
    // Flags of 3 bytes; a CRC32 hash of 3 bytes; an eBPF verdict of 4 bytes.
    file.extend(epb_with(
        order,
        0,
        2,
        &arp_frame(),
        &[
            o(2, &[1, 2, 3]),
            o(3, &[2, 1, 2, 3]),
            o(7, &[1, 0, 0, 0, 1]),
        ],
    ));
    // Bytes after opt_endofopt.
    let mut body = epb_body(order, 0, 3, &arp_frame());
    body.extend_from_slice(&o(0, &[]));
    body.extend_from_slice(&[0xee; 8]);
    file.extend(block(order, 6, &body));
    // Records: a name without its zero, an address cut short, one running past the block.
    let mut nrb = [o(1, b"\x0a\x00\x00\x01abc"), o(1, &[10, 0, 0])].concat();
    nrb.extend_from_slice(&order.u16(2));
    nrb.extend_from_slice(&order.u16(64));
    nrb.extend_from_slice(&[0; 16]);
    file.extend(block(order, 4, &nrb));
    // Statistics too short for their fixed fields, and of an interface never described.
    file.extend(block(order, 5, &[0; 8]));
    file.extend(isb(order, 9, 2_000_000, &[o(2, &ts_words(order, 500_000))]));
    // Secrets longer than the block; a block too short for a type and length; a custom
    // block too short for its enterprise number.
    file.extend(block(
        order,
        10,
        &[
            &order.u32(0x5353_484b)[..],
            &order.u32(0xffff_fff0),
            &[0; 8],
        ]
        .concat(),
    ));
    file.extend(block(order, 10, &[1, 2, 3, 4]));
    file.extend(block(order, 0x0BAD, &[]));
    file.extend(epb(order, 0, 4, &arp_frame()));

    let (_dir, path) = capture("damaged.pcapng", &file);
    let out = run([path.to_str().unwrap(), "-f", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let v: Json = serde_json::from_str(&stdout(&out)).unwrap();
    for n in 1..=4 {
        assert_eq!(
            v[format!("Frame {n}")]["protocols"],
            "Ethernet:ARP",
            "frame {n}"
        );
    }
    assert_eq!(
        v["Frame 1"]["options"],
        json!([
            {"kind": kind("opt_comment", 1), "length": 2, "comment": "ok"},
            {"kind": kind("opt_comment", 1), "length": 200, "data": "6162636465666768",
             "malformed": "the option announces 200 bytes but 8 are left in the block"},
        ])
    );
    assert_eq!(
        v["Frame 2"]["options"],
        json!([
            {"kind": kind("epb_flags", 2), "length": 3, "data": "010203",
             "malformed": "epb_flags must be 4 bytes long, not 3"},
            {"kind": kind("epb_hash", 3), "length": 4, "data": "02010203",
             "malformed": "a CRC32 hash is 4 bytes long, not 3"},
            {"kind": kind("epb_verdict", 7), "length": 5, "data": "0100000001",
             "malformed": "an eBPF verdict is 8 bytes long, not 4"},
            end(),
        ])
    );
    assert_eq!(
        v["Frame 3"]["options"],
        json!([
            end(),
            {"data": "eeeeeeeeeeeeeeee", "malformed": "8 bytes after opt_endofopt"},
        ])
    );
    assert_eq!(
        v["Name Resolution 1"],
        json!({
            "section": 1,
            "records": [
                {"kind": kind("nrb_record_ipv4", 1), "length": 7, "data": "0a000001616263",
                 "malformed": "the last name of the nrb_record_ipv4 is not zero-terminated"},
                {"kind": kind("nrb_record_ipv4", 1), "length": 3, "data": "0a0000",
                 "malformed": "nrb_record_ipv4 must hold a 4-byte address and a name, but has 3 bytes"},
                {"kind": kind("nrb_record_ipv6", 2), "length": 64, "data": "00".repeat(16),
                 "malformed": "the record announces 64 bytes but 16 are left in the block"},
            ],
            "options": [],
        })
    );
    assert_eq!(
        v["Interface Statistics 1"],
        json!({
            "section": 1, "options": [],
            "malformed": "the block holds 8 bytes, too few for an interface and a timestamp (12)",
        })
    );
    assert_eq!(
        v["Interface Statistics 2"],
        json!({
            "section": 1, "interface": 9, "time_epoch": "2.000000000",
            "options": [
                {"kind": kind("isb_starttime", 2), "length": 8, "isb_starttime": "0.500000000"},
                end(),
            ],
            "malformed": "interface 9 is not described in section 1; times are read in microseconds",
        })
    );
    assert_eq!(
        v["Decryption Secrets 1"],
        json!({
            "section": 1, "secrets_type": kind("SSH Key Log", 0x5353_484b),
            "secrets_length": 0xffff_fff0_u32, "options": [],
            "malformed": "the secrets' length 4294967280 runs past the block (8 bytes after the length)",
        })
    );
    assert_eq!(
        v["Decryption Secrets 2"],
        json!({
            "section": 1, "options": [],
            "malformed": "the block holds 4 bytes, too few for a secrets type and length (8)",
        })
    );
    assert_eq!(
        v["Custom Block 1"],
        json!({
            "section": 1, "block_type": kind("Custom (copyable)", 0x0BAD), "length": 0,
            "malformed": "the block holds 0 bytes, too few for an enterprise number (4)",
        })
    );
    assert_formats_agree(&path, &[]);
}

#[test]
fn huge_counts_of_options_and_records_are_cut_with_a_note() {
    let order = Order::Little;
    let mut file = shb(order, &[]);
    file.extend(idb(order, 1, 0, &[]));
    // 20 000 empty options of an unknown code: 80 kB that would list as 2 MB of JSON.
    let mut body = epb_body(order, 0, 1, &arp_frame());
    for _ in 0..20_000 {
        body.extend_from_slice(&option(order, 0x0123, &[]));
    }
    file.extend(block(order, 6, &body));
    // 150 000 empty records of an unknown type, then the end.
    let mut records = Vec::new();
    for _ in 0..150_000 {
        records.extend_from_slice(&option(order, 0x0077, &[]));
    }
    records.extend_from_slice(&option(order, 0, &[]));
    file.extend(block(order, 4, &records));
    file.extend(epb(order, 0, 2, &arp_frame()));
    let (_dir, path) = capture("huge.pcapng", &file);
    let v = json_of(&path);
    let options = v["Frame 1"]["options"].as_array().unwrap();
    assert_eq!(options.len(), 10_001);
    assert_eq!(
        options[9_999],
        json!({"kind": {"name": null, "value": 0x0123}, "length": 0, "data": ""})
    );
    assert_eq!(
        options[10_000],
        json!({"malformed": "10000 more options not shown: at most 10000 are listed per block"})
    );
    let records = v["Name Resolution 1"]["records"].as_array().unwrap();
    assert_eq!(records.len(), 100_001);
    assert_eq!(
        records[100_000],
        json!({"malformed": "50001 more records not shown: at most 100000 are listed per block"})
    );
    assert_eq!(v["Frame 2"]["number"], 2);
}

#[test]
fn captures_without_metadata_dump_as_before() {
    // A pcapng file with no options anywhere: empty option lists, no new entries or
    // members (the JSON of such files is byte for byte what it was).
    let order = Order::Little;
    let mut file = shb(order, &[]);
    file.extend(idb(order, 1, 0, &[]));
    file.extend(epb(order, 0, 5, &arp_frame()));
    let (_dir, path) = capture("plain.pcapng", &file);
    let text = ok(&run([path.to_str().unwrap(), "-f", "json"]));
    let v: Json = serde_json::from_str(&text).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["Frame 1", "Interface Description 1", "Section Header 1"]
    );
    assert!(text.contains("\"options\": []\n  },\n  \"Interface Description 1\""));
    assert!(!v["Frame 1"].as_object().unwrap().contains_key("options"));
}

// ---------------------------------------------------------------------------------------
// Against tshark (ignored: they need tshark and the corpus; `.ci/run` runs them)

fn corpus_pcapng() -> Vec<PathBuf> {
    let dir = std::env::var_os("PCAPKIT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/public"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "the corpus is not at {} ({e}); set PCAPKIT_CORPUS",
                dir.display()
            )
        })
        .map(|e| e.unwrap().path())
        .filter(|p| std::fs::read(p).is_ok_and(|b| b.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a])))
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "too few pcapng files in {}",
        dir.display()
    );
    files
}

fn tshark(args: &[&str]) -> String {
    let out = Command::new("tshark")
        .args(args)
        .output()
        .expect("tshark is installed (.ci/run installs it)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `frame.comment`, `frame.packet_flags`, `frame.drop_count`, `frame.packet_id`,
/// `frame.interface_queue` and the eBPF verdicts of frame `n`, as tshark prints them with
/// `-T fields`, from pcapkit's JSON.
fn frame_fields(json: &Json, n: usize) -> Vec<String> {
    let options = json[format!("Frame {n}")]["options"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let joined = |values: Vec<String>| values.join(",");
    let all = |key: &str, show: &dyn Fn(&Json) -> String| {
        joined(
            options
                .iter()
                .filter_map(|o| o.get(key))
                .map(show)
                .collect(),
        )
    };
    let verdict = |kind: u64| {
        joined(
            options
                .iter()
                .filter(|o| o["verdict_type"]["value"] == kind)
                .map(|o| o["verdict"].to_string())
                .collect(),
        )
    };
    vec![
        all("comment", &|c| c.as_str().unwrap().to_owned()),
        all("epb_flags", &|f| format!("0x{:08x}", f.as_u64().unwrap())),
        all("epb_dropcount", &Json::to_string),
        all("epb_packetid", &Json::to_string),
        all("epb_queue", &Json::to_string),
        verdict(2),
        verdict(1),
    ]
}

#[test]
#[ignore = "needs tshark and the corpus (../shared/corpus/public or $PCAPKIT_CORPUS); .ci/run runs it"]
fn packet_comments_and_flags_agree_with_tshark() {
    let dir = tempfile::tempdir().unwrap();
    let mut captures = corpus_pcapng();
    for (name, order) in [
        ("rich-le.pcapng", Order::Little),
        ("rich-be.pcapng", Order::Big),
    ] {
        captures.push(write_file(dir.path(), name, &rich(order)));
    }
    // tshark shows a custom block as a frame without encapsulation: those rows are left
    // out, and frames are compared in order.
    let fields = [
        "frame.encap_type",
        "frame.comment",
        "frame.packet_flags",
        "frame.drop_count",
        "frame.packet_id",
        "frame.interface_queue",
        "frame.verdict.ebpf_xdp",
        "frame.verdict.ebpf_tc",
    ];
    let mut compared = 0;
    let mut with_options = 0;
    for capture in &captures {
        let mut args = vec!["-r", capture.to_str().unwrap(), "-T", "fields"];
        args.extend(["-E", "occurrence=a"]);
        for f in fields {
            args.extend(["-e", f]);
        }
        let theirs: Vec<Vec<String>> = tshark(&args)
            .lines()
            .map(|l| l.split('\t').map(str::to_owned).collect::<Vec<_>>())
            .filter(|row| !row[0].is_empty())
            .map(|row| row[1..].to_vec())
            .collect();
        let out = run([capture.to_str().unwrap(), "-f", "json"]);
        let json: Json = serde_json::from_slice(&out.stdout).unwrap();
        // The same columns from pcapkit's -e (its flags in decimal, as all its integers).
        let mut args = vec![capture.to_str().unwrap()];
        for f in &fields[1..6] {
            args.extend(["-e", f]);
        }
        let table = stdout(&run(&args));
        let rows: Vec<&str> = table.lines().skip(1).collect();
        let frames = json
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with("Frame "))
            .count();
        assert_eq!(theirs.len(), frames, "{}: frames", capture.display());
        assert_eq!(rows.len(), frames, "{}: rows", capture.display());
        for (n, theirs) in theirs.iter().enumerate() {
            let at = format!("{} frame {}", capture.display(), n + 1);
            assert_eq!(&frame_fields(&json, n + 1), theirs, "{at}");
            let mut row: Vec<String> = rows[n].split('\t').map(str::to_owned).collect();
            if !row[1].is_empty() {
                row[1] = format!("0x{:08x}", row[1].parse::<u32>().unwrap());
            }
            assert_eq!(row, theirs[..5], "{at}: -e");
            compared += 1;
            with_options += usize::from(json[format!("Frame {}", n + 1)].get("options").is_some());
        }
    }
    println!("{compared} frames agree with tshark, {with_options} of them with options");
    assert!(
        compared > 6000 && with_options >= 4,
        "{compared} frames, {with_options} with options"
    );
}

/// tshark's file-pcapng dissector (`-X read_format:"MIME Files Format"`) shows every
/// block and option: a block's list of options, each as tshark's field names and values.
fn tshark_blocks(capture: &Path) -> Vec<Json> {
    let out = tshark(&[
        "-r",
        capture.to_str().unwrap(),
        "-X",
        "read_format:MIME Files Format",
        "-T",
        "json",
        "--no-duplicate-keys",
    ]);
    let v: Json = serde_json::from_str(&out).expect("tshark's JSON");
    let blocks = &v[0]["_source"]["layers"]["file-pcapng"]["pcapng.block"];
    match blocks {
        Json::Array(a) => a.clone(),
        other => vec![other.clone()],
    }
}

/// A field of tshark's, as a list (it shows one value as a value and several as a list).
fn list(v: &Json) -> Vec<Json> {
    match v {
        Json::Array(a) => a.clone(),
        Json::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

fn number(s: &Json) -> u64 {
    let s = s.as_str().unwrap();
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).unwrap(),
        None => s.parse().unwrap(),
    }
}

/// Compares one option (or record) of pcapkit's with tshark's: code, length, and each
/// value tshark decodes; returns what tshark shows that was not compared.
fn compare_option(ours: &Json, theirs: &Json, at: &str, unchecked: &mut Vec<String>) {
    let t = |k: &str| &theirs[format!("pcapng.options.option.{k}")];
    let code = number(t("code"));
    assert_eq!(ours["kind"]["value"], code, "{at}: code");
    assert_eq!(ours["length"], number(t("length")), "{at}: length");
    let prefix = "pcapng.options.option.data.";
    for (key, value) in theirs.as_object().unwrap() {
        let Some(field) = key.strip_prefix(prefix) else {
            continue; // code, length, padding
        };
        let text = value.as_str().map(str::to_owned);
        let ours_at = |k: &str| ours[k].clone();
        let checked = match field {
            "comment" => ours_at("comment") == *value,
            "hardware" => ours_at("shb_hardware") == *value,
            "os" => ours_at("shb_os") == *value,
            "user_application" => ours_at("shb_userappl") == *value,
            "interface.name" => ours_at("if_name") == *value,
            "interface.description" => ours_at("if_description") == *value,
            "interface.os" => ours_at("if_os") == *value,
            "interface.hardware" => ours_at("if_hardware") == *value,
            // An interface's address, or a name server's.
            "ipv4" | "ipv6" => ["address", "ns_dnsIP4addr", "ns_dnsIP6addr"]
                .iter()
                .any(|k| ours_at(k) == *value),
            "ipv4_mask" => ours_at("netmask") == *value,
            "ipv6_mask" => ours_at("prefix_length") == number(value),
            "mac" => ours_at("if_MACaddr") == *value,
            "interface.speed" => ours_at("if_speed") == number(value),
            "interface.timestamp_resolution" => ours_at("if_tsresol") == number(value),
            "interface.timezone" => ours_at("if_tzone") == number(value),
            "interface.filter.type" => ours["filter_type"]["value"] == number(value),
            "interface.filter.string" => ours_at("filter") == *value,
            "interface.fcs_length" => ours_at("if_fcslen") == number(value),
            "interface.timestamp_offset" => ours_at("if_tsoffset") == number(value),
            "interface.transmit_speed" => ours_at("if_txspeed") == number(value),
            "interface.receive_speed" => ours_at("if_rxspeed") == number(value),
            "interface.iana_timezone" => ours_at("if_iana_tzname") == *value,
            "dns_name" => ours_at("ns_dnsname") == *value,
            "packet.flags" => {
                ours_at("epb_flags").as_u64().map(|f| f & 0xffff) == Some(number(value))
            }
            "packet.flags.link_layer_errors" => ours_at("link_layer_errors") == number(value),
            "packet.hash.algorithm" => ours["algorithm"]["value"] == number(value),
            "packet.hash.data" => ours_at("hash") == text.unwrap().replace(':', ""),
            "packet.drop_count" => ours_at("epb_dropcount") == number(value),
            "packet.id" => ours_at("epb_packetid") == number(value),
            "packet.queue" => ours_at("epb_queue") == number(value),
            "packet.verdict.type" => ours["verdict_type"]["value"] == number(value),
            "interface.received" => ours_at("isb_ifrecv") == number(value),
            "interface.dropped" => ours_at("isb_ifdrop") == number(value),
            "interface.accepted_by_filter" => ours_at("isb_filteraccept") == number(value),
            "interface.dropped_by_os" => ours_at("isb_osdrop") == number(value),
            "interface.delivered_to_user" => ours_at("isb_usrdeliv") == number(value),
            // Subtrees of values compared above, or opaque to tshark (it shows "").
            _ if field.ends_with("_tree") || text.as_deref() == Some("") => true,
            // tshark 4.0 reads if_EUIaddr as a number in the section's byte order, so a
            // little-endian file shows the bytes reversed; the draft's example
            // (02 34 56 FF FE 78 9A BC) is an address in byte order, as pcapkit shows it.
            "eui" => {
                let mut b: Vec<String> = text.unwrap().split(':').map(str::to_owned).collect();
                let direct = b.concat();
                b.reverse();
                ours_at("if_EUIaddr") == direct || ours_at("if_EUIaddr") == b.concat()
            }
            "packet.verdict.data" => {
                let hex = text.unwrap().replace(':', "");
                match &ours["verdict"] {
                    Json::String(s) => *s == hex,
                    Json::Number(n) => {
                        let bytes: Vec<u8> = (0..hex.len() / 2)
                            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                            .collect();
                        let le = u64::from_le_bytes(bytes[..8].try_into().unwrap());
                        let be = u64::from_be_bytes(bytes[..8].try_into().unwrap());
                        n.as_u64() == Some(le) || n.as_u64() == Some(be)
                    }
                    _ => false,
                }
            }
            _ => {
                unchecked.push(format!("{at}: {field} = {value}"));
                true
            }
        };
        assert!(
            checked,
            "{at}: tshark's {field} is {value}, pcapkit's option is {ours}"
        );
    }
}

/// The `if_tsoffset` of interface `index` of `section`, from pcapkit's JSON.
fn tsoffset_of(json: &Json, section: &Json, index: u64) -> i64 {
    let interface = json
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, v)| {
            k.starts_with("Interface Description ")
                && v["section"] == *section
                && v["index"] == index
        })
        .expect("the interface is described")
        .1;
    interface["options"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|o| o["if_tsoffset"].as_i64())
        .unwrap_or(0)
}

/// tshark's `Nov 14, 2023 22:13:23.123456789 UTC` as seconds since the epoch, with
/// nine decimals (`1700000003.123456789`).
fn epoch_of(time: &str) -> String {
    let [month, day, year, clock, "UTC"] = time.split_whitespace().collect::<Vec<_>>()[..] else {
        panic!("tshark's time {time:?}")
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = MONTHS.iter().position(|&n| n == month).unwrap() as i64 + 1;
    let d: i64 = day.trim_end_matches(',').parse().unwrap();
    let y: i64 = year.parse().unwrap();
    // Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let (hms, frac) = clock.split_once('.').unwrap();
    let hms: Vec<i64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
    let secs = days * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2];
    format!("{secs}.{frac:0<9}")
}

fn compare_options(ours: &Json, theirs: &Json, at: &str, unchecked: &mut Vec<String>) -> usize {
    let ours = ours.as_array().cloned().unwrap_or_default();
    let theirs = list(&theirs["pcapng.options"]["pcapng.options.option"]);
    assert_eq!(
        ours.len(),
        theirs.len(),
        "{at}: options {ours:?} vs tshark's {theirs:?}"
    );
    for (k, (o, t)) in ours.iter().zip(&theirs).enumerate() {
        compare_option(o, t, &format!("{at} option {k}"), unchecked);
    }
    ours.len()
}

#[test]
#[ignore = "needs tshark and the corpus (../shared/corpus/public or $PCAPKIT_CORPUS); .ci/run runs it"]
fn every_block_and_option_agrees_with_tshark() {
    let dir = tempfile::tempdir().unwrap();
    let mut captures = corpus_pcapng();
    for (name, order) in [
        ("rich-le.pcapng", Order::Little),
        ("rich-be.pcapng", Order::Big),
    ] {
        captures.push(write_file(dir.path(), name, &rich(order)));
    }
    let (mut blocks, mut options, mut records, mut offset_times) = (0, 0, 0, 0);
    let mut unchecked = Vec::new();
    for capture in &captures {
        let out = run([capture.to_str().unwrap(), "-f", "json"]);
        if out.status.code() != Some(0) {
            continue; // damaged: tshark's dissector reads it differently
        }
        let json: Json = serde_json::from_slice(&out.stdout).unwrap();
        let mut seen = std::collections::HashMap::<&str, usize>::new();
        for theirs in tshark_blocks(capture) {
            let block_type = number(&theirs["pcapng.block.type"]);
            let kind = match block_type {
                0x0a0d_0d0a => "Section Header",
                1 => "Interface Description",
                2 | 3 | 6 => "Frame",
                4 => "Name Resolution",
                5 => "Interface Statistics",
                10 => "Decryption Secrets",
                0x0BAD | 0x4000_0BAD => "Custom Block",
                _ => continue,
            };
            let n = seen.entry(kind).or_default();
            *n += 1;
            let key = format!("{kind} {n}");
            let ours = &json[&key];
            assert!(ours.is_object(), "{}: no {key}", capture.display());
            let at = format!("{} {key}", capture.display());
            let data = &theirs["pcapng.block.data"];
            blocks += 1;
            match block_type {
                4 => {
                    let theirs_records = list(&data["pcapng.records"]["pcapng.records.record"]);
                    let ours_records = ours["records"].as_array().unwrap();
                    assert_eq!(ours_records.len(), theirs_records.len(), "{at}: records");
                    for (o, t) in ours_records.iter().zip(&theirs_records) {
                        let r = |k: &str| &t[format!("pcapng.records.record.{k}")];
                        assert_eq!(o["kind"]["value"], number(r("code")), "{at}");
                        assert_eq!(o["length"], number(r("length")), "{at}");
                        for field in ["data.ipv4", "data.ipv6"] {
                            if !r(field).is_null() {
                                assert_eq!(&o["address"], r(field), "{at}");
                            }
                        }
                        if !r("data.name").is_null() {
                            assert_eq!(o["names"], Json::Array(list(r("data.name"))), "{at}");
                        }
                        records += 1;
                    }
                }
                5 => {
                    let interface = number(&data["pcapng.interface_id"]);
                    assert_eq!(ours["interface"], interface, "{at}");
                    let time = data["pcapng.timestamp"].as_str().unwrap();
                    // tshark 4.0's pcapng file dissector adds if_tsoffset in the
                    // interface's units rather than in seconds (its packet reader does
                    // not): times of such interfaces are not compared.
                    if tsoffset_of(&json, &ours["section"], interface) == 0 {
                        assert_eq!(ours["time_epoch"].as_str(), Some(&*epoch_of(time)), "{at}");
                    } else {
                        offset_times += 1;
                    }
                }
                10 => {
                    assert_eq!(
                        ours["secrets_type"]["value"],
                        number(&data["pcapng.dsb.secrets_type"]),
                        "{at}"
                    );
                    assert_eq!(
                        ours["secrets_length"],
                        number(&data["pcapng.dsb.secrets_length"]),
                        "{at}"
                    );
                }
                _ => {}
            }
            if !matches!(block_type, 0x0BAD | 0x4000_0BAD) {
                options += compare_options(&ours["options"], data, &at, &mut unchecked);
            }
        }
    }
    assert!(
        unchecked.is_empty(),
        "tshark fields not compared:\n{}",
        unchecked.join("\n")
    );
    println!("{blocks} blocks, {options} options, {records} records agree with tshark");
    assert!(
        blocks > 6000 && options > 100 && records > 20,
        "{blocks} blocks, {options} options, {records} records"
    );
    // The statistics of interface 1 of the two hand-built captures.
    assert_eq!(offset_times, 2);
}
