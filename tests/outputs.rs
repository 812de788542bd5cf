//! The `plist` and `tree` formats: a plist holds what the JSON holds, the tree reads back
//! to the JSON's structure, and the tree of a small frame reads exactly as written out
//! here by hand. The same checks over every capture of the corpus are ignored by default
//! (they need it); `.ci/run` runs them.

use crate::common;
use crate::formats;

use std::path::{Path, PathBuf};

use common::*;
use formats::*;
use serde_json::Value as Json;

#[test]
fn plist_and_tree_hold_what_json_holds() {
    assert_formats_agree(&demo_path(), &[]);
    // Reassembled datagrams and messages, their `reassembly` members.
    assert_formats_agree(&demo_path(), &["--ip", "--tcp"]);
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
    assert_formats_agree(&path, &["--ip"]);
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
    let dir = tempfile::tempdir().unwrap();
    let path = arp_capture(dir.path());
    let tree = ok(&run([path.to_str().unwrap(), "-f", "tree"]));
    assert_eq!(tree, ARP_TREE);
    // By extension, too.
    let out = dir.path().join("arp.txt");
    ok(&run([path.to_str().unwrap(), "-o", out.to_str().unwrap()]));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), ARP_TREE);
}

/// Writes the one-frame ARP capture of [`ARP_TREE`] into `dir`.
fn arp_capture(dir: &Path) -> PathBuf {
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
    let path = dir.join("arp.pcap");
    std::fs::write(
        &path,
        pcap_file(1, &[PcapRecord::new(1_700_000_000, 19_000, frame)]),
    )
    .unwrap();
    path
}

#[test]
fn the_tree_reader_reads_the_arp_tree_back_and_notices_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let json: Json = serde_json::from_str(&ok(&run([arp_capture(dir.path())]))).unwrap();
    assert_eq!(tree_holds_json(&json, ARP_TREE), Ok(()));
    let entries = read_tree(ARP_TREE).unwrap();
    let names: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["Global Header", "Frame 1"]);
    let Node::Dict(frame) = &entries[1].1 else {
        panic!("{:?}", entries[1].1)
    };
    let member = |k: &str| &frame.iter().find(|(key, _)| key == k).unwrap().1;
    assert_eq!(member("number"), &Node::Scalar("1".into()));
    let Node::Dict(ethernet) = member("ethernet") else {
        panic!()
    };
    assert_eq!(
        ethernet[2],
        ("type".into(), Node::Scalar("ARP [2054]".into()))
    );
    assert!(matches!(&ethernet[3], (k, Node::Dict(arp)) if k == "arp" && arp.len() == 9));
    // The frame's 42 bytes: three hex lines read as one value.
    let Node::Lines(packet) = member("packet") else {
        panic!()
    };
    assert_eq!(packet.len(), 1);
    assert_eq!(packet[0].split(' ').count(), 42);

    // Every kind of change is noticed.
    let changes = [
        ("ts_usec -> 19000", "ts_usec -> 19001"), // a value
        ("  |-- len -> 42\n", ""),                // a member missing
        ("cap_len -> 42", "cap_len -> 42\n  |-- extra -> 1"), // a member too many
        ("oper -> REQUEST [1]", "oper -> REPLY [1]"), // a name
        ("  |     |-- src", "  |     |     |-- src"), // a level skipped
        ("  |     |-- type -> ARP", "        |-- type -> ARP"), // a bar missing
        ("  |           |-- tpa", "  |     |     |-- tpa"), // a bar too many
        ("08 00 06 04 00 01", "08 00 06 04 00 02"), // a byte
        ("             00 00 00 00 00 00 c0 a8 01 01\n", ""), // bytes missing
        ("nanosecond -> False\n\n", "nanosecond -> False\n"), // entries run together
    ];
    for (from, to) in changes {
        assert!(ARP_TREE.contains(from), "{from:?}");
        let changed = ARP_TREE.replacen(from, to, 1);
        assert!(
            tree_holds_json(&json, &changed).is_err(),
            "{from:?} -> {to:?} went unnoticed"
        );
    }
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

/// The captures of the corpus. A missing or empty corpus fails the test.
fn corpus() -> Vec<PathBuf> {
    common::corpus_captures(1)
}

/// Runs `check` on every corpus capture, with and without reassembly; damaged captures
/// (exit status 3) are checked on what was read before the damage.
fn over_the_corpus(check: impl Fn(&Path, &[&str]) -> Result<(), String>) {
    let mut failures = Vec::new();
    let mut checked = 0;
    for capture in corpus() {
        for extra in [&[][..], &["--ip", "--tcp", "--no-strict"][..]] {
            checked += 1;
            if let Err(e) = check(&capture, extra) {
                failures.push(format!("{} {extra:?}: {e}", capture.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} runs differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Runs pcapkit in `format`: its output, when it read the capture (whole or up to damage).
fn output(capture: &Path, extra: &[&str], format: &str) -> Result<Vec<u8>, String> {
    let mut args = vec![capture.to_str().unwrap(), "-f", format];
    args.extend_from_slice(extra);
    let out = run(args);
    assert_no_crash(&out, &capture.display().to_string());
    match out.status.code() {
        Some(0 | 3) => Ok(out.stdout),
        code => Err(format!(
            "-f {format}: exit status {code:?}: {}",
            stderr(&out)
        )),
    }
}

/// The JSON and the output in `format` of a capture; `None` when the capture is refused
/// at its file header (exit status 3 and no output) and the other format is empty too.
fn json_and(
    capture: &Path,
    extra: &[&str],
    format: &str,
) -> Result<Option<(Json, Vec<u8>)>, String> {
    let (json, other) = (
        output(capture, extra, "json")?,
        output(capture, extra, format)?,
    );
    if json.is_empty() {
        return if other.is_empty() {
            Ok(None)
        } else {
            Err(format!("no JSON but {} bytes of {format}", other.len()))
        };
    }
    let json = serde_json::from_slice(&json).map_err(|e| format!("invalid JSON: {e}"))?;
    Ok(Some((json, other)))
}

#[test]
#[ignore = "needs the corpus (../shared/corpus/public or $PCAPKIT_CORPUS); .ci/run runs it"]
fn every_corpus_plist_equals_its_json() {
    over_the_corpus(|capture, extra| {
        let Some((json, plist)) = json_and(capture, extra, "plist")? else {
            return Ok(());
        };
        let plist = plist::Value::from_reader_xml(&plist[..])
            .map_err(|e| format!("not a valid plist: {e}"))?;
        if plist_to_json(plist) == json_as_plist(json, "") {
            Ok(())
        } else {
            Err("the plist differs from the JSON".into())
        }
    });
}

#[test]
#[ignore = "needs the corpus (../shared/corpus/public or $PCAPKIT_CORPUS); .ci/run runs it"]
fn every_corpus_tree_reads_back_to_its_json() {
    over_the_corpus(|capture, extra| {
        let Some((json, tree)) = json_and(capture, extra, "tree")? else {
            return Ok(());
        };
        let tree = String::from_utf8(tree).map_err(|e| format!("the tree is not UTF-8: {e}"))?;
        tree_holds_json(&json, &tree)
    });
}
