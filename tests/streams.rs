//! `pcapkit streams` and `pcapkit follow` on TCP conversations built here: byte counts
//! and SHA-256 computed from the bytes the test sent, gaps, IPv6 endpoints, fragmented
//! datagrams, and the follow output.

use crate::common;

use common::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `pcapkit streams` on `pcap` with `args`; one JSON value per line.
fn streams(pcap: &[u8], args: &[&str]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let input = write_file(dir.path(), "in.pcap", pcap);
    let mut all = vec!["streams".as_ref(), input.as_os_str()];
    all.extend(args.iter().map(std::ffi::OsStr::new));
    let out = ok(&run(all));
    assert!(out.ends_with('\n'), "lines end with a newline");
    out.lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

fn follow(pcap: &[u8], args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let input = write_file(dir.path(), "in.pcap", pcap);
    let mut all = vec!["follow".as_ref(), input.as_os_str()];
    all.extend(args.iter().map(std::ffi::OsStr::new));
    run(all)
}

const REQUEST: &[u8] = b"GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n";
const RESPONSE_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n";

/// An HTTP exchange: the request in two segments, the response in three (its body
/// binary), then a close.
fn http_exchange(client: &str, server: &str) -> (TcpConversation, Vec<u8>) {
    let body: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
    let mut c = TcpConversation::new(client, server);
    c.handshake()
        .send(true, &REQUEST[..10])
        .send(true, &REQUEST[10..])
        .send(false, RESPONSE_HEAD)
        .send(false, &body[..150])
        .send(false, &body[150..])
        .close();
    let mut response = RESPONSE_HEAD.to_vec();
    response.extend_from_slice(&body);
    (c, response)
}

#[test]
fn streams_counts_and_hashes_each_direction() {
    let (c, response) = http_exchange("10.0.0.1:40000", "10.0.0.2:80");
    let lines = streams(&c.pcap(), &[]);
    assert_eq!(lines.len(), 1);
    let s = &lines[0];
    assert_eq!(s["stream"], 0);
    assert_eq!(s["a"], "10.0.0.1:40000");
    assert_eq!(s["b"], "10.0.0.2:80");
    assert_eq!(
        s["frames"],
        serde_json::json!((1..=11).collect::<Vec<u64>>())
    );
    assert_eq!(s["a_to_b"]["bytes"], REQUEST.len());
    assert_eq!(s["a_to_b"]["sha256"], sha256_hex(REQUEST));
    assert_eq!(s["a_to_b"]["gaps"], 0);
    assert_eq!(s["b_to_a"]["bytes"], response.len());
    assert_eq!(s["b_to_a"]["sha256"], sha256_hex(&response));
    assert_eq!(s["b_to_a"]["gaps"], 0);
    assert_eq!(s["completed"], true);
    assert_eq!(s["protocol"], "HTTP");
    assert!(
        s["a_to_b"].get("payload").is_none(),
        "payload only when asked"
    );
}

#[test]
fn members_come_in_the_documented_order() {
    let (c, _) = http_exchange("10.0.0.1:40000", "10.0.0.2:80");
    let dir = tempfile::tempdir().unwrap();
    let input = write_file(dir.path(), "in.pcap", &c.pcap());
    let line = ok(&run(["streams".as_ref(), input.as_os_str()]));
    assert_eq!(
        top_level_keys(&line),
        [
            "stream",
            "a",
            "b",
            "frames",
            "a_to_b",
            "b_to_a",
            "completed",
            "protocol"
        ]
    );
}

#[test]
fn payload_adds_each_direction_in_hex() {
    let (c, response) = http_exchange("10.0.0.1:40000", "10.0.0.2:80");
    let s = &streams(&c.pcap(), &["--payload"])[0];
    assert_eq!(s["a_to_b"]["payload"], hex(REQUEST));
    assert_eq!(s["b_to_a"]["payload"], hex(&response));
}

#[test]
fn connections_come_in_stream_order_with_their_protocol() {
    // Two connections interleaved, the second not HTTP, the first never closed.
    let mut web = TcpConversation::new("10.0.0.1:40000", "10.0.0.2:80");
    let mut other = TcpConversation::new("10.0.0.3:5555", "10.0.0.4:7777");
    let mut packets = Vec::new();
    web.handshake();
    other.handshake().send(true, b"\x00\x01binary").close();
    web.send(true, REQUEST);
    packets.extend(web.packets.drain(..3));
    packets.append(&mut other.packets);
    packets.append(&mut web.packets);
    web.packets = packets;
    let lines = streams(&web.pcap(), &[]);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["stream"], 0);
    assert_eq!(lines[0]["a"], "10.0.0.1:40000");
    assert_eq!(lines[0]["frames"], serde_json::json!([1, 2, 3, 11]));
    assert_eq!(lines[0]["completed"], false, "never closed");
    assert_eq!(lines[0]["protocol"], "HTTP");
    assert_eq!(lines[1]["stream"], 1);
    assert_eq!(lines[1]["a"], "10.0.0.3:5555");
    assert_eq!(lines[1]["a_to_b"]["bytes"], 8);
    assert_eq!(lines[1]["a_to_b"]["sha256"], sha256_hex(b"\x00\x01binary"));
    assert_eq!(lines[1]["b_to_a"]["bytes"], 0);
    assert_eq!(lines[1]["b_to_a"]["sha256"], sha256_hex(b""));
    assert_eq!(lines[1]["completed"], true);
    assert_eq!(lines[1]["protocol"], Value::Null);
}

#[test]
fn a_lost_segment_is_a_gap_and_its_bytes_are_not_counted() {
    let mut c = TcpConversation::new("10.0.0.1:40000", "10.0.0.2:9000");
    c.handshake()
        .send(true, b"first ")
        .lose(true, b"lost ")
        .send(true, b"last")
        .send(false, b"reply")
        .close();
    let s = &streams(&c.pcap(), &["--payload"])[0];
    assert_eq!(s["a_to_b"]["bytes"], 10);
    assert_eq!(s["a_to_b"]["sha256"], sha256_hex(b"first last"));
    assert_eq!(s["a_to_b"]["payload"], hex(b"first last"));
    assert_eq!(s["a_to_b"]["gaps"], 1);
    assert_eq!(s["b_to_a"]["gaps"], 0);
    assert_eq!(s["b_to_a"]["sha256"], sha256_hex(b"reply"));
    assert_eq!(s["completed"], false, "data was lost");
}

#[test]
fn ipv6_endpoints_are_bracketed() {
    let (c, response) = http_exchange("[2001:db8::1]:40000", "[2001:db8::2]:80");
    let s = &streams(&c.pcap(), &[])[0];
    assert_eq!(s["a"], "[2001:db8::1]:40000");
    assert_eq!(s["b"], "[2001:db8::2]:80");
    assert_eq!(s["b_to_a"]["sha256"], sha256_hex(&response));
    let out = follow(&c.pcap(), &["0", "--format", "raw"]);
    let text = ok(&out);
    assert!(text.contains("Node 0: [2001:db8::1]:40000\nNode 1: [2001:db8::2]:80\n"));
}

#[test]
fn tcp_in_fragmented_datagrams_counts() {
    let mut c = TcpConversation::new("10.0.0.1:40000", "10.0.0.2:9000");
    let data: Vec<u8> = (0..100u8).collect();
    c.handshake().send(true, &data);
    // The data segment travels in two fragments: 20 bytes of TCP header and 4 of data,
    // then the rest.
    let segment = c.packets.pop().unwrap();
    c.packets.extend(ipv4_fragments(&segment, 24));
    c.close();
    let s = &streams(&c.pcap(), &[])[0];
    assert_eq!(s["a_to_b"]["bytes"], 100);
    assert_eq!(s["a_to_b"]["sha256"], sha256_hex(&data));
    assert_eq!(s["frames"], serde_json::json!([1, 2, 3, 5, 6, 7, 8]));
}

#[test]
fn output_file_is_written_whole() {
    let (c, _) = http_exchange("10.0.0.1:40000", "10.0.0.2:80");
    let dir = tempfile::tempdir().unwrap();
    let input = write_file(dir.path(), "in.pcap", &c.pcap());
    let out = dir.path().join("streams.ndjson");
    let o = run([
        "streams".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(ok(&o), "");
    assert!(stderr(&o).contains("1 TCP connections written to"));
    let written = std::fs::read_to_string(&out).unwrap();
    let expected = ok(&run(["streams".as_ref(), input.as_os_str()]));
    assert_eq!(written, expected);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
}

/// The exchange tshark's follow prints for a small conversation: header lines, then one
/// chunk per segment in delivery order, the server's indented.
#[test]
fn follow_prints_chunks_like_tshark() {
    let mut c = TcpConversation::new("192.0.2.1:51000", "192.0.2.2:7");
    c.handshake()
        .send(true, b"hello\r\n")
        .send(false, b"hello\r\n")
        .send(true, b"\x00\x7f\tbin")
        .close();
    let sep = "===================================================================\n";
    let head = |mode: &str| {
        format!(
            "\n{sep}Follow: tcp,{mode}\nFilter: tcp.stream eq 0\nNode 0: 192.0.2.1:51000\nNode 1: 192.0.2.2:7\n"
        )
    };
    assert_eq!(
        ok(&follow(&c.pcap(), &["0"])),
        format!(
            "{}7\nhello\r\n\n\t7\nhello\r\n\n6\n...bin\n{sep}",
            head("ascii")
        )
    );
    assert_eq!(
        ok(&follow(&c.pcap(), &["0", "--format", "raw"])),
        format!(
            "{}68656c6c6f0d0a\n\t68656c6c6f0d0a\n007f0962696e\n{sep}",
            head("raw")
        )
    );
}

#[test]
fn follow_puts_out_of_order_segments_in_order_and_shows_lost_bytes() {
    let mut c = TcpConversation::new("192.0.2.1:51000", "192.0.2.2:7");
    c.handshake()
        .send(true, b"one ")
        .send(true, b"two ")
        .lose(true, b"three ")
        .send(true, b"four")
        .close();
    // "two " arrives before "one ".
    c.packets.swap(3, 4);
    let text = ok(&follow(&c.pcap(), &["0"]));
    let body = text.split("Node 1: 192.0.2.2:7\n").nth(1).unwrap();
    assert_eq!(
        body,
        "4\none \n4\ntwo \n34\n[6 bytes missing in capture file].\n4\nfour\n\
         ===================================================================\n"
    );
}

#[test]
fn a_damaged_capture_exits_3_after_its_connections_as_the_main_command() {
    let (c, response) = http_exchange("10.0.0.1:40000", "10.0.0.2:80");
    let mut pcap = c.pcap();
    // The last record cut in its middle: the connections before it are still written.
    pcap.truncate(pcap.len() - 10);
    let dir = tempfile::tempdir().unwrap();
    let input = write_file(dir.path(), "cut.pcap", &pcap);
    let out = run(["streams".as_ref(), input.as_os_str()]);
    assert_no_crash(&out, "streams");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning"), "{}", stderr(&out));
    let line: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(line["b_to_a"]["bytes"], response.len());
    let out = run(["follow".as_ref(), input.as_os_str(), "0".as_ref()]);
    assert_no_crash(&out, "follow");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Follow: tcp,ascii"),
        "{}",
        stdout(&out)
    );
    // The main command, for comparison.
    let out = run([input.as_os_str(), "--nofile".as_ref()]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

#[test]
fn follow_of_a_stream_not_in_the_capture_fails() {
    let (c, _) = http_exchange("10.0.0.1:40000", "10.0.0.2:80");
    let o = follow(&c.pcap(), &["1"]);
    assert_no_crash(&o, "follow 1");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no TCP stream 1"), "{}", stderr(&o));
    let o = follow(&c.pcap(), &["0", "--format", "hex"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("ascii, raw"), "{}", stderr(&o));
}

#[test]
fn help_documents_both_subcommands() {
    let help = ok(&run(["--help"]));
    for word in ["streams", "follow"] {
        assert!(help.contains(word), "--help lacks {word}");
    }
    let s = ok(&run(["streams", "--help"]));
    assert!(s.contains("--payload") && s.contains("--output"), "{s}");
    let f = ok(&run(["follow", "--help"]));
    assert!(f.contains("--format") && f.contains("<STREAM>"), "{f}");
}
