//! What the third-party engines (etherparse, pnet, tshark) write: their layers nested in
//! chain order in every format, with the backend's own field names and values, and their
//! field names as `-e` columns. The expected values are the packet's bytes (and tshark's
//! own `-T fields` output for the corpus frame), never pcapkit's.
//!
//! The engines run are those this build has (each is a cargo feature, all on by default,
//! as CI builds them); tshark's need tshark, which CI installs: the tests needing the
//! corpus (run by CI with `--ignored`) fail without it rather than skip.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::common::{self, ethernet, ipv4_tcp, ok, pcap_file, run, PcapRecord, MAC_A, MAC_B};
use crate::formats::{assert_formats_agree, json_as_plist, plist_to_json, tree_holds_json};

/// The etherparse and pnet engines, as far as this build has them.
fn decoders() -> Vec<&'static str> {
    let mut out = Vec::new();
    if cfg!(feature = "etherparse") {
        out.push("etherparse");
    }
    if cfg!(feature = "pnet") {
        out.push("pnet");
    }
    out
}

/// One TCP frame whose every value is known from its bytes.
fn tcp_frame() -> Vec<u8> {
    ethernet(
        MAC_B,
        MAC_A,
        0x0800,
        &ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], 40000, 9999, b"hello\r\n"),
    )
}

fn capture(dir: &Path) -> PathBuf {
    let records = vec![PcapRecord::new(1_700_000_000, 250, tcp_frame())];
    common::write_file(dir, "one.pcap", &pcap_file(1, &records))
}

fn json_of(capture: &Path, engine: &str) -> Json {
    let out = ok(&run([
        capture.to_str().unwrap(),
        "--engine",
        engine,
        "-f",
        "json",
        "-o",
        "-",
    ]));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{engine}: invalid JSON: {e}"))
}

fn fields_of(capture: &Path, engine: &str, fields: &[&str]) -> common::Table {
    let mut args = vec![capture.to_str().unwrap(), "--engine", engine, "-o", "-"];
    for f in fields {
        args.extend(["-e", f]);
    }
    common::Table::parse(&ok(&run(args)))
}

fn be16(b: &[u8]) -> u64 {
    u64::from(u16::from_be_bytes([b[0], b[1]]))
}

fn be32(b: &[u8]) -> u64 {
    u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

#[test]
fn etherparse_and_pnet_layers_nest_in_json_with_their_fields_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let capture = capture(dir.path());
    let p = tcp_frame();
    // Read off the bytes: Ethernet 14, IPv4 20, TCP 20, then the payload.
    let (ip, tcp) = (&p[14..34], &p[34..54]);
    for engine in decoders() {
        let doc = json_of(&capture, engine);
        let f = &doc["Frame 1"];
        // The envelope is the one every engine writes.
        assert_eq!(f["number"], 1, "{engine}");
        assert_eq!(f["len"], p.len(), "{engine}");
        assert_eq!(f["protocols"], "Ethernet:IPv4:TCP:Raw", "{engine}");
        let eth = &f["ethernet"];
        assert_eq!(eth["dst"], mac(&p[0..6]), "{engine}");
        assert_eq!(eth["src"], mac(&p[6..12]), "{engine}");
        assert_eq!(eth["type"], 0x0800, "{engine}");
        let ipv4 = &eth["ipv4"];
        assert_eq!(ipv4["src"], "10.0.0.1", "{engine}");
        assert_eq!(ipv4["dst"], "10.0.0.2", "{engine}");
        assert_eq!(ipv4["ttl"], u64::from(ip[8]), "{engine}");
        assert_eq!(ipv4["id"], be16(&ip[4..]), "{engine}");
        assert_eq!(ipv4["len"], be16(&ip[2..]), "{engine}");
        assert_eq!(ipv4["checksum"], be16(&ip[10..]), "{engine}");
        let t = &ipv4["tcp"];
        assert_eq!(t["srcport"], 40000, "{engine}");
        assert_eq!(t["dstport"], 9999, "{engine}");
        assert_eq!(t["seq"], be32(&tcp[4..]), "{engine}");
        assert_eq!(t["window"], be16(&tcp[14..]), "{engine}");
        // What the backend leaves over is `raw`, as our own engines show it.
        assert_eq!(t["raw"]["length"], 7, "{engine}");
        assert_eq!(t["raw"]["packet"], "68656c6c6f0d0a", "{engine}");
        // Nothing of ours is shown in their place: the backend's names only.
        assert!(ipv4.get("offset").is_none(), "{engine}: {ipv4}");
    }
    // Where the backends name things differently, each keeps its own names.
    if cfg!(feature = "etherparse") {
        let t = &json_of(&capture, "etherparse")["Frame 1"]["ethernet"]["ipv4"]["tcp"];
        assert_eq!(t["psh"], (tcp[13] & 0x08 != 0), "{t}");
        assert_eq!(t["ack_flag"], (tcp[13] & 0x10 != 0), "{t}");
    }
    if cfg!(feature = "pnet") {
        let f = &json_of(&capture, "pnet")["Frame 1"];
        assert_eq!(f["ethernet"]["ipv4"]["tcp"]["flags"], u64::from(tcp[13]));
        assert_eq!(f["ethernet"]["ipv4"]["flags"], u64::from(ip[6] >> 5));
    }
}

fn mac(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[test]
fn etherparse_and_pnet_fields_are_named_after_their_layer() {
    let dir = tempfile::tempdir().unwrap();
    let capture = capture(dir.path());
    let p = tcp_frame();
    for engine in decoders() {
        let t = fields_of(
            &capture,
            engine,
            &[
                "frame.number",
                "ipv4.src",
                "ipv4.ttl",
                "tcp.srcport",
                "tcp.seq",
                "ethernet.src",
                "frame.protocols",
            ],
        );
        assert_eq!(t.rows.len(), 1, "{engine}");
        assert_eq!(t.get(1, "frame.number"), "1");
        assert_eq!(t.get(1, "ipv4.src"), "10.0.0.1", "{engine}");
        assert_eq!(t.get(1, "ipv4.ttl"), p[14 + 8].to_string(), "{engine}");
        assert_eq!(t.get(1, "tcp.srcport"), "40000", "{engine}");
        assert_eq!(t.get(1, "tcp.seq"), be32(&p[38..]).to_string(), "{engine}");
        assert_eq!(t.get(1, "ethernet.src"), mac(&p[6..12]), "{engine}");
        assert_eq!(t.get(1, "frame.protocols"), "Ethernet:IPv4:TCP:Raw");
    }
}

#[test]
fn a_name_no_engine_has_gives_todays_error_and_one_only_we_have_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let capture = capture(dir.path());
    let c = capture.to_str().unwrap();
    let default = run([c, "-e", "ipv9.src", "-o", "-"]);
    assert!(!default.status.success());
    let mut engines = decoders();
    if common::have_tshark() {
        engines.push("tshark");
    }
    for engine in &engines {
        let out = run([c, "--engine", engine, "-e", "ipv9.src", "-o", "-"]);
        assert!(!out.status.success(), "{engine}");
        assert_eq!(
            common::stderr(&out),
            common::stderr(&default),
            "{engine}: not today's error"
        );
    }
    // `ipv4.offset` is ours; etherparse and pnet call it `frag_offset`.
    for engine in decoders() {
        let out = run([c, "--engine", engine, "-e", "ipv4.offset", "-o", "-"]);
        assert!(!out.status.success(), "{engine}");
        let err = common::stderr(&out);
        assert!(
            err.contains(&format!(
                "the {engine} engine does not report `ipv4.offset`"
            )) && err.contains("ipv4.frag_offset"),
            "{err}"
        );
    }
    if common::have_tshark() {
        let out = run([c, "--engine", "tshark", "-e", "ipv4.src", "-o", "-"]);
        let err = common::stderr(&out);
        assert!(!out.status.success());
        assert!(
            err.contains("the tshark engine does not report `ipv4.src`") && err.contains("ip.src"),
            "{err}"
        );
    } else {
        eprintln!("tshark is not installed: its names are not checked here");
    }
}

#[test]
fn etherparse_and_pnet_plists_equal_their_json_and_trees_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let capture = capture(dir.path());
    for engine in decoders() {
        assert_formats_agree(&capture, &["--engine", engine]);
    }
}

// The corpus frame: dpkt_http.pcap frame 4, the HTTP GET. Its values, as tshark 4.0
// gives them (`tshark -r dpkt_http.pcap -Y frame.number==4 -T fields -e ...`) and as the
// bytes hold them (IPv4 at 14: 45 00 02 07 0f 45 40 00 80 06 90 10 91 fe a0 ed 41 d0
// e4 df; TCP at 34: 0d 2c 00 50 38 af fe 14 11 4c 61 8c 50 18 25 bc a9 58 00 00).
const HTTP: &str = "dpkt_http.pcap";
const SRC: &str = "145.254.160.237";
const DST: &str = "65.208.228.223";
const HOST_LINE: &str = "Host: www.ethereal.com\r\n";

fn corpus_file(name: &str) -> PathBuf {
    let all = common::corpus_captures(1);
    all.into_iter()
        .find(|p| p.file_name().is_some_and(|n| n == name))
        .unwrap_or_else(|| panic!("{name} is not in the corpus"))
}

/// Every engine of the build, tshark required (CI installs it).
fn all_engines() -> Vec<&'static str> {
    assert!(
        common::have_tshark(),
        "tshark is not installed: the tshark engine cannot be checked (CI installs it)"
    );
    let mut e = decoders();
    if cfg!(feature = "tshark") {
        e.push("tshark");
    }
    e
}

#[test]
#[ignore = "needs the corpus (../shared/corpus/public or $PCAPKIT_CORPUS) and tshark; .ci/run runs it"]
fn the_corpus_http_get_in_json_for_every_backend() {
    let capture = corpus_file(HTTP);
    for engine in all_engines() {
        let doc = json_of(&capture, engine);
        let f = &doc["Frame 4"];
        assert_eq!(f["number"], 4, "{engine}");
        assert_eq!(f["len"], 533, "{engine}");
        assert_eq!(f["time_epoch"], "1084443428.222534000", "{engine}");
        let ipv4 = &f["ethernet"]["ipv4"];
        let tcp = &ipv4["tcp"];
        if engine == "tshark" {
            assert_eq!(f["protocols"], "Ethernet:IPv4:TCP:HTTP");
            assert_eq!(f["ethernet"]["eth.src"], "00:00:01:00:00:00");
            assert_eq!(ipv4["ip.src"], SRC);
            assert_eq!(ipv4["ip.ttl"], "128");
            assert_eq!(ipv4["ip.id"], "0x0f45");
            // A name met twice in a layer is a list of its values, in tshark's order.
            assert_eq!(ipv4["ip.addr"], serde_json::json!([SRC, DST]));
            assert_eq!(tcp["tcp.srcport"], "3372");
            assert_eq!(tcp["tcp.seq_raw"], "951057940");
            assert_eq!(tcp["tcp.len"], "479");
            let http = &tcp["http"];
            assert_eq!(http["http.host"], "www.ethereal.com");
            assert_eq!(http["http.request.method"], "GET");
            let lines = http["http.request.line"].as_array().expect("a list");
            assert_eq!(lines.len(), 9, "{http}");
            assert_eq!(lines[0], HOST_LINE);
        } else {
            assert_eq!(f["protocols"], "Ethernet:IPv4:TCP:Raw", "{engine}");
            assert_eq!(f["ethernet"]["src"], "00:00:01:00:00:00", "{engine}");
            assert_eq!(ipv4["src"], SRC, "{engine}");
            assert_eq!(ipv4["dst"], DST, "{engine}");
            assert_eq!(ipv4["ttl"], 128, "{engine}");
            assert_eq!(ipv4["id"], 0x0f45, "{engine}");
            assert_eq!(ipv4["len"], 519, "{engine}");
            assert_eq!(ipv4["checksum"], 0x9010, "{engine}");
            assert_eq!(tcp["srcport"], 3372, "{engine}");
            assert_eq!(tcp["dstport"], 80, "{engine}");
            assert_eq!(tcp["seq"], 0x38af_fe14, "{engine}");
            assert_eq!(tcp["ack"], 0x114c_618c, "{engine}");
            assert_eq!(tcp["window"], 0x25bc, "{engine}");
            // 533 bytes less 14 + 20 + 20 of headers: the GET request.
            assert_eq!(tcp["raw"]["length"], 479, "{engine}");
            let body = tcp["raw"]["packet"].as_str().unwrap();
            assert!(body.starts_with("474554202f646f776e6c6f6164"), "{engine}");
        }
    }
}

#[test]
#[ignore = "needs the corpus (../shared/corpus/public or $PCAPKIT_CORPUS) and tshark; .ci/run runs it"]
fn the_corpus_http_get_in_fields_for_every_backend() {
    let capture = corpus_file(HTTP);
    for engine in all_engines() {
        let (src, ttl, id, port, seq) = if engine == "tshark" {
            ("ip.src", "ip.ttl", "ip.id", "tcp.srcport", "tcp.seq_raw")
        } else {
            ("ipv4.src", "ipv4.ttl", "ipv4.id", "tcp.srcport", "tcp.seq")
        };
        let t = fields_of(
            &capture,
            engine,
            &["frame.number", "frame.len", src, ttl, id, port, seq],
        );
        assert_eq!(t.rows.len(), 43, "{engine}");
        assert_eq!(t.get(4, "frame.number"), "4");
        assert_eq!(t.get(4, "frame.len"), "533");
        assert_eq!(t.get(4, src), SRC, "{engine}");
        assert_eq!(t.get(4, ttl), "128", "{engine}");
        // tshark shows the identification in hex, the others in decimal.
        let want_id = if engine == "tshark" { "0x0f45" } else { "3909" };
        assert_eq!(t.get(4, id), want_id, "{engine}");
        assert_eq!(t.get(4, port), "3372", "{engine}");
        assert_eq!(t.get(4, seq), "951057940", "{engine}");
        assert_eq!(t.get(2, src), DST, "{engine}");
    }
    // tshark's repeated fields joined with `,`, line breaks escaped: as `tshark -T
    // fields` prints them.
    let t = fields_of(
        &capture,
        "tshark",
        &["ip.addr", "http.request.line", "http.host"],
    );
    assert_eq!(t.get(4, "ip.addr"), format!("{SRC},{DST}"));
    assert!(
        t.get(4, "http.request.line")
            .starts_with("Host: www.ethereal.com\\r\\n,User-Agent: Mozilla/5.0 (Windows; U;"),
        "{}",
        t.get(4, "http.request.line")
    );
    assert_eq!(t.get(4, "http.host"), "www.ethereal.com");
    assert_eq!(t.get(1, "http.host"), "");
}

#[test]
#[ignore = "needs the corpus (../shared/corpus/public or $PCAPKIT_CORPUS) and tshark; .ci/run runs it"]
fn the_corpus_texts_are_escaped_as_ours_and_plists_load_in_plistlib() {
    let capture = corpus_file(HTTP);
    let c = capture.to_str().unwrap();
    for engine in all_engines() {
        // The plist equals the JSON, and the tree reads back to it (the checks of
        // tests/outputs.rs), with the backend's layers.
        assert_formats_agree(&capture, &["--engine", engine]);
        // And Python's plistlib loads it, equal to the JSON, as CI checks our own.
        let dir = tempfile::tempdir().unwrap();
        let (json, plist) = (dir.path().join("a.json"), dir.path().join("a.plist"));
        for (format, path) in [("json", &json), ("plist", &plist)] {
            ok(&run([
                c,
                "--engine",
                engine,
                "-f",
                format,
                "-o",
                path.to_str().unwrap(),
            ]));
        }
        let script = r#"
import json, plistlib, sys
sys.path.insert(0, sys.argv[1])
import plist_equals_json as c
p = plistlib.load(open(sys.argv[3], "rb"))
d = c.same(c.loaded(p), c.expected(json.load(open(sys.argv[2]))), "")
sys.exit(f"plist != json: {d}" if d else 0)
"#;
        let ci = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci");
        let out = std::process::Command::new("python3")
            .args(["-c", script])
            .arg(&ci)
            .args([&json, &plist])
            .output()
            .expect("python3 runs (CI has it)");
        assert!(
            out.status.success(),
            "{engine}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // tshark's text holds line breaks: each format escapes them as it does ours.
    let run_format = |format: &str| ok(&run([c, "--engine", "tshark", "-f", format, "-o", "-"]));
    let json = run_format("json");
    assert!(
        json.contains(r#""Host: www.ethereal.com\r\n""#),
        "JSON escapes"
    );
    let ndjson = run_format("ndjson");
    let line: Json = serde_json::from_str(ndjson.lines().nth(3).unwrap()).unwrap();
    assert_eq!(
        line["ethernet"]["ipv4"]["tcp"]["http"]["http.request.line"][0],
        HOST_LINE
    );
    let plist = run_format("plist");
    assert!(
        plist.contains("<string>Host: www.ethereal.com&#13;\n</string>"),
        "plist keeps the carriage return as a reference"
    );
    let tree = run_format("tree");
    assert!(
        tree.contains("|--> Host: www.ethereal.com\\r\\n\n"),
        "tree escapes"
    );
}

/// A capture in `format` with `engine`: its output when it was read (whole, or up to
/// damage: status 3), nothing when it was refused (status 1, as with our engines).
fn output_with(capture: &Path, engine: &str, format: &str) -> Result<Vec<u8>, String> {
    let c = capture.to_str().unwrap();
    let out = run([c, "--engine", engine, "-f", format, "-o", "-"]);
    common::assert_no_crash(&out, &format!("{c} --engine {engine} -f {format}"));
    match out.status.code() {
        Some(0 | 3) => Ok(out.stdout),
        Some(1) => Ok(Vec::new()),
        code => Err(format!("-f {format}: exit status {code:?}")),
    }
}

#[test]
#[ignore = "needs the corpus (../shared/corpus/public or $PCAPKIT_CORPUS) and tshark; .ci/run runs it"]
fn every_corpus_capture_in_every_format_for_every_backend() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for capture in common::corpus_captures(15) {
        for engine in all_engines() {
            checked += 1;
            let check = || -> Result<(), String> {
                let json = output_with(&capture, engine, "json")?;
                let (plist, tree) = (
                    output_with(&capture, engine, "plist")?,
                    output_with(&capture, engine, "tree")?,
                );
                if json.is_empty() {
                    return match plist.is_empty() && tree.is_empty() {
                        true => Ok(()),
                        false => Err("no JSON, but a plist or a tree".into()),
                    };
                }
                let json: Json =
                    serde_json::from_slice(&json).map_err(|e| format!("invalid JSON: {e}"))?;
                let plist = plist::Value::from_reader_xml(&plist[..])
                    .map_err(|e| format!("not a valid plist: {e}"))?;
                if plist_to_json(plist) != json_as_plist(json.clone(), "") {
                    return Err("the plist differs from the JSON".into());
                }
                let tree = String::from_utf8(tree).map_err(|e| format!("tree: {e}"))?;
                tree_holds_json(&json, &tree)?;
                for line in output_with(&capture, engine, "ndjson")?.split(|&b| b == b'\n') {
                    if !line.is_empty() {
                        serde_json::from_slice::<Json>(line)
                            .map_err(|e| format!("invalid NDJSON line: {e}"))?;
                    }
                }
                Ok(())
            };
            if let Err(e) = check() {
                failures.push(format!("{} --engine {engine}: {e}", capture.display()));
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

#[test]
#[ignore = "needs the corpus (../shared/corpus/public or $PCAPKIT_CORPUS); .ci/run runs it"]
fn every_field_etherparse_and_pnet_report_over_the_corpus_is_a_column() {
    use pcapkit::{EngineKind, Extractor};
    let captures = common::corpus_captures(15);
    for engine in decoders() {
        let kind: EngineKind = engine.parse().unwrap();
        // Every `key.field` the backend reported somewhere in the corpus.
        let mut seen = std::collections::BTreeSet::new();
        for capture in &captures {
            let Ok(x) = Extractor::builder()
                .input(capture)
                .nofile(true)
                .store(true)
                .engine(kind)
                .run()
            else {
                continue; // a capture refused at its header
            };
            for f in x.frames() {
                for l in &f.foreign {
                    for (name, _) in &l.fields {
                        seen.insert(format!("{}.{name}", l.key()));
                    }
                }
            }
        }
        eprintln!("{engine}: {} fields reported over the corpus", seen.len());
        // Ethernet, VLAN, 802.1ad, SLL, IPv4, IPv6, ARP, TCP, UDP, ICMP, ICMPv6 at least.
        assert!(seen.len() >= 40, "{engine}: {seen:?}");
        let names: Vec<&str> = seen.iter().map(String::as_str).collect();
        let t = fields_of(&captures[0], engine, &names);
        assert_eq!(t.header, names, "{engine}");
    }
}
