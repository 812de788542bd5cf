//! The `plist` and `tree` formats: a plist holds what the JSON holds, and the tree of a
//! small frame reads exactly as written out here by hand.

mod common;

use std::path::Path;

use common::*;
use serde_json::{Map, Value as Json};

/// A plist as JSON would show it: `<data>` as hex, `<date>` as its text.
fn plist_to_json(v: plist::Value) -> Json {
    match v {
        plist::Value::Dictionary(d) => {
            Json::Object(d.into_iter().map(|(k, v)| (k, plist_to_json(v))).collect())
        }
        plist::Value::Array(a) => Json::Array(a.into_iter().map(plist_to_json).collect()),
        plist::Value::Boolean(b) => Json::Bool(b),
        plist::Value::Integer(i) => match i.as_unsigned() {
            Some(u) => Json::from(u),
            None => Json::from(i.as_signed().expect("an integer")),
        },
        plist::Value::String(s) => Json::String(s),
        plist::Value::Data(d) => Json::String(d.iter().map(|b| format!("{b:02x}")).collect()),
        plist::Value::Date(d) => Json::String(d.to_xml_format()),
        other => panic!("unexpected plist value {other:?}"),
    }
}

/// JSON as the plist shows it: `time` in whole seconds, `null` as the string `null`, an
/// enum without a name without its `name` member.
fn json_as_plist(v: Json, key: &str) -> Json {
    match v {
        Json::Object(o) => Json::Object(
            o.into_iter()
                .filter(|(k, v)| !(k == "name" && v.is_null()))
                .map(|(k, v)| {
                    let v = json_as_plist(v, &k);
                    (k, v)
                })
                .collect::<Map<_, _>>(),
        ),
        Json::Array(a) => Json::Array(a.into_iter().map(|v| json_as_plist(v, "")).collect()),
        Json::Null => Json::String("null".into()),
        Json::String(s) if key == "time" => Json::String(format!("{}Z", &s[..19])),
        other => other,
    }
}

fn assert_plist_matches_json(capture: &Path, extra: &[&str]) {
    let run_format = |format: &str| {
        let mut args = vec![capture.to_str().unwrap(), "-f", format];
        args.extend_from_slice(extra);
        run(args)
    };
    let json: Json = serde_json::from_str(&ok(&run_format("json"))).expect("valid JSON");
    let out = run_format("plist");
    assert!(out.status.success());
    let plist = plist::Value::from_reader_xml(&out.stdout[..]).expect("a valid plist");
    let (got, want) = (plist_to_json(plist), json_as_plist(json, ""));
    assert!(
        got == want,
        "plist and JSON differ for {capture:?} {extra:?}"
    );
}

#[test]
fn plist_holds_what_json_holds() {
    assert_plist_matches_json(&demo_path(), &[]);
    // Reassembled datagrams and messages, their `reassembly` members.
    assert_plist_matches_json(&demo_path(), &["--ip", "--tcp"]);
}

#[test]
fn plist_of_an_incomplete_datagram_holds_what_json_holds() {
    // The first fragment only: `Incomplete Reassembly` with an open hole (null in JSON).
    let udp = ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 1000, 2000, &[0x41; 40]);
    let [first, _] = ipv4_fragments(&udp, 16);
    let frame = ethernet([2; 6], [4; 6], 0x0800, &first);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("frag.pcap");
    std::fs::write(&path, pcap_file(1, &[PcapRecord::new(1, 2, frame)])).unwrap();
    let json = ok(&run([path.to_str().unwrap(), "--ip", "-f", "json"]));
    assert!(json.contains("\"Incomplete Reassembly\""), "{json}");
    assert!(json.contains("null"), "{json}");
    assert_plist_matches_json(&path, &["--ip"]);
}

#[test]
fn plist_is_chosen_by_extension_and_starts_with_the_dtd() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo.plist");
    ok(&run([
        demo_path().to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\""
    ));
    assert!(text.ends_with("</dict>\n</plist>\n"));
}

/// One ARP request, written out by hand in the tree layout.
const ARP_TREE: &str = "\
Global Header
  |-- magic_number -> 2712847316
  |-- version_major -> 2
  |-- version_minor -> 4
  |-- thiszone -> 0
  |-- sigfigs -> 0
  |-- snaplen -> 65535
  |-- fcs_len -> 0
  |-- fcs_present -> False
  |-- reserved -> 0
  |-- linktype -> ETHERNET [1]
  |-- byte_order -> little
  |-- nanosecond -> False

Frame 1
  |-- frame_info
  |     |-- ts_sec -> 1700000000
  |     |-- ts_usec -> 19000
  |     |-- incl_len -> 42
  |     |-- orig_len -> 42
  |-- number -> 1
  |-- time -> 2023-11-14T22:13:20.019000
  |-- time_epoch -> 1700000000.019000000
  |-- len -> 42
  |-- cap_len -> 42
  |-- linktype -> ETHERNET [1]
  |-- ethernet
  |     |-- dst -> ff:ff:ff:ff:ff:ff
  |     |-- src -> 00:11:22:33:44:55
  |     |-- type -> ARP [2054]
  |     |-- arp
  |           |-- htype -> Ethernet [1]
  |           |-- ptype -> IPv4 [2048]
  |           |-- hlen -> 6
  |           |-- plen -> 4
  |           |-- oper -> REQUEST [1]
  |           |-- sha -> 00:11:22:33:44:55
  |           |-- spa -> 192.168.1.10
  |           |-- tha -> 00:00:00:00:00:00
  |           |-- tpa -> 192.168.1.1
  |-- protocols -> Ethernet:ARP
  |-- packet
        |--> ff ff ff ff ff ff 00 11 22 33 44 55 08 06 00 01
             08 00 06 04 00 01 00 11 22 33 44 55 c0 a8 01 0a
             00 00 00 00 00 00 c0 a8 01 01

";

#[test]
fn tree_of_an_arp_request_reads_as_written_by_hand() {
    let arp = [
        0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01, // Ethernet, IPv4, request
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 192, 168, 1, 10, // sender
        0, 0, 0, 0, 0, 0, 192, 168, 1, 1, // target
    ];
    let frame = ethernet(
        [0xff; 6],
        [0x00, 0x11, 0x22, 0x33, 0x44, 0x55],
        0x0806,
        &arp,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("arp.pcap");
    std::fs::write(
        &path,
        pcap_file(1, &[PcapRecord::new(1_700_000_000, 19_000, frame)]),
    )
    .unwrap();
    let tree = ok(&run([path.to_str().unwrap(), "-f", "tree"]));
    assert_eq!(tree, ARP_TREE);
    // By extension, too.
    let out = dir.path().join("arp.txt");
    ok(&run([path.to_str().unwrap(), "-o", out.to_str().unwrap()]));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), ARP_TREE);
}

#[test]
fn extension_appends_the_formats_extension() {
    let dir = tempfile::tempdir().unwrap();
    for (format, ext) in [("plist", "plist"), ("tree", "txt")] {
        let base = dir.path().join(format!("out-{format}"));
        ok(&run([
            demo_path().to_str().unwrap(),
            "-f",
            format,
            "--extension",
            "-o",
            base.to_str().unwrap(),
        ]));
        assert!(
            base.with_extension(ext).exists(),
            "no {ext} file for -f {format}"
        );
    }
    // An explicit -f wins over the extension.
    let out = dir.path().join("tree.json");
    ok(&run([
        demo_path().to_str().unwrap(),
        "-f",
        "tree",
        "-o",
        out.to_str().unwrap(),
    ]));
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .starts_with("Global Header\n"));
}

#[test]
fn files_writes_a_directory_of_documents() {
    let (_, whole) = {
        let text = ok(&run([demo_path()]));
        let v: Json = serde_json::from_str(&text).unwrap();
        (text, v)
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("frames");
    ok(&run([
        demo_path().to_str().unwrap(),
        "--files",
        "-o",
        out.to_str().unwrap(),
    ]));
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), DEMO_FRAMES + 1);
    assert_eq!(names[0], "frame-000001.json");
    assert_eq!(names[DEMO_FRAMES], "headers.json");
    let read = |name: &str| -> Json {
        serde_json::from_str(&std::fs::read_to_string(out.join(name)).unwrap()).unwrap()
    };
    assert_eq!(
        read("headers.json")["Global Header"],
        whole["Global Header"]
    );
    for n in [1, DEMO_FRAMES] {
        let key = format!("Frame {n}");
        assert_eq!(read(&format!("frame-{n:06}.json"))[&key], whole[&key]);
    }
    // Not over a directory that holds files; not as lines or rows; not to standard output.
    let again = run([
        demo_path().to_str().unwrap(),
        "--files",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    let other = dir.path().join("other");
    let ndjson = run([
        demo_path().to_str().unwrap(),
        "--files",
        "-f",
        "ndjson",
        "-o",
        other.to_str().unwrap(),
    ]);
    assert_eq!(ndjson.status.code(), Some(2));
    assert!(!other.exists());
    assert_eq!(
        run([demo_path().to_str().unwrap(), "--files"])
            .status
            .code(),
        Some(2)
    );
    // Nothing temporary is left beside it.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with(".pcapkit-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn files_in_tree_and_plist() {
    let dir = tempfile::tempdir().unwrap();
    for (format, ext) in [("tree", "txt"), ("plist", "plist")] {
        let out = dir.path().join(format);
        std::fs::create_dir(&out).unwrap(); // an empty directory is replaced
        ok(&run([
            demo_path().to_str().unwrap(),
            "--files",
            "-f",
            format,
            "-o",
            out.to_str().unwrap(),
        ]));
        let first = std::fs::read(out.join(format!("frame-000001.{ext}"))).unwrap();
        if format == "plist" {
            plist::Value::from_reader_xml(&first[..]).expect("a valid plist");
        } else {
            assert!(String::from_utf8(first).unwrap().starts_with("Frame 1\n"));
        }
        assert!(out.join(format!("headers.{ext}")).exists());
    }
}
