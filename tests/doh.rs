//! DNS over HTTPS (RFC 8484) and `--decode-as`, on the capture `samplegen doh` writes
//! (built here by `pcapkit_testkit::doh`): HTTP/1.1 POSTs on port 80, h2c on port 8080,
//! DNS on UDP and TCP port 5300. Expected values are tshark 4.0.17's, from the commands
//! quoted at each table, never from pcapkit.

use std::path::{Path, PathBuf};

use crate::common;

use common::Table;
use pcapkit::protocols::{Header, ProtocolId};
use pcapkit::{Extractor, LayerKind};

fn capture(dir: &Path) -> PathBuf {
    common::write_file(dir, "doh.pcap", &pcapkit_testkit::doh::pcap())
}

fn table(args: &[&str]) -> Table {
    Table::parse(&common::ok(&common::run(args)))
}

/// The rows of `t` with a value in any of `columns` after the first, as
/// `frame<TAB>values...`, as `tshark ... | awk` prints them.
fn rows(t: &Table, columns: &[&str]) -> Vec<String> {
    (1..=t.rows.len())
        .map(|n| {
            let cells: Vec<&str> = columns.iter().map(|c| t.get(n, c)).collect();
            (n, cells)
        })
        .filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()))
        .map(|(n, cells)| format!("{n}\t{}", cells.join("\t")))
        .collect()
}

fn fields_args<'a>(input: &'a str, extra: &[&'a str], fields: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![input];
    args.extend_from_slice(extra);
    for f in fields {
        args.extend(["-e", f]);
    }
    args
}

#[test]
fn doh_bodies_agree_with_tshark() {
    // tshark -r doh.pcap -d tcp.port==5300,dns -T fields -e frame.number -e dns.qry.name
    //   -e dns.a -e dns.flags.response -e http2.streamid -e dns.length   (rows with a value)
    // (tshark's defaults desegment TCP streams and reassemble HTTP bodies.)
    let wanted = [
        "4\texample.com\t\t0\t\t",
        "6\texample.com\t93.184.216.34\t1\t\t",
        "7\twww.example.org\t\t0\t\t",
        "8\twww.example.org\t192.0.2.80\t1\t\t",
        "17\t\t\t\t0\t",
        "18\t\t\t\t0,0\t",
        "19\th2.example.net\t\t0\t0,1,1\t",
        "20\tmail.example.com\t\t0\t3,3\t",
        "21\th2.example.net\t198.51.100.7\t1\t1,1\t",
        "22\tmail.example.com\t203.0.113.25\t1\t3,3\t",
        "32\ttcp.example.com\t\t0\t\t33",
        "33\ttcp.example.com\t192.0.2.54\t1\t\t49",
        "40\t\t\t\t0\t",
        "41\t\t\t\t0,0\t",
        "42\t\t\t\t0,1,1\t",
        "43\tsplit.example.net\t\t0\t1\t",
        "44\t\t\t\t1,1\t",
        "45\t\t\t\t1,1\t",
        "46\tsplit.example.net\t192.0.2.99\t1\t1\t",
    ];
    let dir = tempfile::tempdir().unwrap();
    let input = capture(dir.path());
    let input = input.to_str().unwrap();
    let columns = [
        "dns.qry.name",
        "dns.a",
        "dns.flags.response",
        "http2.streamid",
        "dns.length",
    ];
    let t = table(&fields_args(
        input,
        &["--tcp", "-d", "tcp.port==5300,dns"],
        &columns,
    ));
    assert_eq!(rows(&t, &columns), wanted);
    // The same with every engine.
    for engine in [["--engine", "pipeline"], ["--engine", "server"]] {
        let mut extra = vec!["--tcp", "-d", "tcp.port==5300,dns", "--threads", "2"];
        extra.extend(engine);
        let t = table(&fields_args(input, &extra, &columns));
        assert_eq!(rows(&t, &columns), wanted, "{engine:?}");
    }
}

#[test]
fn a_body_that_is_not_dns_is_a_malformed_dns_layer() {
    // Frame 9 POSTs "this is not a DNS message" as application/dns-message; tshark
    // shows `[Malformed Packet: DNS]` there (its header reads, its 8297 questions do not).
    let dir = tempfile::tempdir().unwrap();
    let input = capture(dir.path());
    let ex = Extractor::builder().input(&input).tcp(true).run().unwrap();
    let frame = &ex.frames()[8];
    let pdu = &frame.reassembled[0];
    let kinds: Vec<_> = pdu.layers.iter().map(|l| l.protocol()).collect();
    assert_eq!(kinds[0], Some(ProtocolId::Http));
    match &pdu.layers.last().unwrap().kind {
        LayerKind::Malformed { protocol, reason } => {
            assert_eq!(*protocol, ProtocolId::Dns);
            // The message's name reads 0x6973 ("is") as a label type.
            assert!(
                reason.starts_with("DNS message in an HTTP body of 25 bytes: ")
                    && reason.contains("label type"),
                "{reason}"
            );
        }
        other => panic!("not Malformed: {other:?}"),
    }
    // The 400 answer is text: its body stays Raw.
    let answer = &ex.frames()[9].reassembled[0];
    assert_eq!(answer.layers.last().unwrap().name, "Raw");
}

#[test]
fn a_whole_message_in_one_segment_is_dns_without_reassembly() {
    // Frames 4, 7 and 8 hold a whole message each; frame 6 holds only the body whose head
    // came in frame 5, so without --tcp it is not known to be DNS.
    let dir = tempfile::tempdir().unwrap();
    let input = capture(dir.path());
    let t = common::fields_of(&input, &["dns.qry.name", "dns.a"]);
    assert_eq!(t.get(4, "dns.qry.name"), "example.com");
    assert_eq!(t.get(6, "dns.qry.name"), "");
    assert_eq!(t.get(8, "dns.a"), "192.0.2.80");
}

#[test]
fn decode_as_per_segment_agrees_with_tshark() {
    // tshark -r doh.pcap -o tcp.desegment_tcp_streams:FALSE -d tcp.port==8080,http2
    //   -d udp.port==5300,dns -T fields -e frame.number -e http2.type -e http2.streamid
    //   -e dns.qry.name -e dns.a   (frames 17-22, 26-27, 40-46; tshark also decodes HPACK
    //   and the DoH bodies segment by segment, which pcapkit does only with --tcp)
    let wanted = [
        "17\t4\t0",
        "18\t4,4\t0,0",
        "19\t4,1,0\t0,1,1",
        "20\t1,0\t3,3",
        "21\t1,0\t1,1",
        "22\t1,0\t3,3",
        "40\t4\t0",
        "41\t4,4\t0,0",
        "42\t4,1,0\t0,1,1",
        "43\t0\t1",
        "44\t1,0\t1,1",
        "45\t0,0\t1,1",
        "46\t0\t1",
    ];
    let wanted_udp = ["26\tudp.example.com\t", "27\tudp.example.com\t192.0.2.53"];
    let dir = tempfile::tempdir().unwrap();
    let input = capture(dir.path());
    let input = input.to_str().unwrap();
    let all = [
        "frame.protocols",
        "http2.type",
        "http2.streamid",
        "dns.qry.name",
        "dns.a",
    ];
    let rules = [
        "-d",
        "tcp.port==8080,http2",
        "--decode-as",
        "udp.port==5300,dns",
    ];
    let t = table(&fields_args(input, &rules, &all));
    assert_eq!(rows(&t, &["http2.type", "http2.streamid"]), wanted);
    let udp: Vec<String> = rows(&t, &["dns.qry.name", "dns.a"])
        .into_iter()
        .filter(|r| r.starts_with("26\t") || r.starts_with("27\t"))
        .collect();
    assert_eq!(udp, wanted_udp);
    assert_eq!(t.get(26, "frame.protocols"), "Ethernet:IPv4:UDP:DNS");
    // Without the rules, 8080 is HTTP's port, where the client's connection preface makes
    // the connection HTTP/2 (tshark without -d gives the same rows); nothing knows 5300.
    let t = table(&fields_args(input, &[], &all));
    assert_eq!(rows(&t, &["http2.type", "http2.streamid"]), wanted);
    assert!(t
        .get(19, "frame.protocols")
        .starts_with("Ethernet:IPv4:TCP:HTTP2"));
    assert_eq!(t.get(26, "frame.protocols"), "Ethernet:IPv4:UDP:Raw");
    // A threshold at the transport wins over a rule.
    let mut args = rules.to_vec();
    args.extend(["--protocol", "udp"]);
    let t = table(&fields_args(input, &args, &all));
    assert_eq!(t.get(26, "frame.protocols"), "Ethernet:IPv4:UDP:Raw");
}

#[test]
fn decode_as_frames_a_tcp_stream() {
    // DNS over TCP on port 5300, the query split between frames 31 and 32: without the
    // rule, Raw segments; with it (tshark -d tcp.port==5300,dns, as in
    // doh_bodies_agree_with_tshark), the message on the frame that completes it.
    let dir = tempfile::tempdir().unwrap();
    let input = capture(dir.path());
    let input = input.to_str().unwrap();
    let cols = ["frame.protocols", "dns.qry.name"];
    let t = table(&fields_args(input, &["--tcp"], &cols));
    assert_eq!(t.get(31, "frame.protocols"), "Ethernet:IPv4:TCP:Raw");
    assert_eq!(t.get(32, "dns.qry.name"), "");
    let t = table(&fields_args(
        input,
        &["--tcp", "-d", "tcp.port==5300,dns"],
        &cols,
    ));
    assert_eq!(t.get(31, "frame.protocols"), "Ethernet:IPv4:TCP");
    assert_eq!(
        t.get(32, "frame.protocols"),
        "Ethernet:IPv4:TCP:DNS-TCP:DNS"
    );
    assert_eq!(t.get(32, "dns.qry.name"), "tcp.example.com");
}

#[test]
fn the_library_takes_rules() {
    let dir = tempfile::tempdir().unwrap();
    let input = capture(dir.path());
    let ex = Extractor::builder()
        .input(&input)
        .decode_as("udp.port==5300,dns".parse().unwrap())
        .run()
        .unwrap();
    let frame = &ex.frames()[25];
    assert!(matches!(
        frame.header(ProtocolId::Dns),
        Some(Header::Dns(_))
    ));
}

#[test]
fn bad_rules_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let input = capture(dir.path());
    for (rule, why) in [
        (
            "sctp.port==80,http",
            "the selector `sctp.port` is not supported (supported: tcp.port, udp.port)",
        ),
        ("tcp.port==80,gopher", "unknown protocol `gopher`"),
        ("tcp.port==99999,http", "`99999` is not a port"),
        ("tcp.port:80,http", "expected LAYER==SELECTOR,PROTOCOL"),
    ] {
        let out = common::run([input.as_os_str(), "-d".as_ref(), rule.as_ref()]);
        common::assert_no_crash(&out, rule);
        assert_eq!(out.status.code(), Some(2), "{rule}");
        let err = common::stderr(&out);
        assert!(err.contains(why), "{rule}: {err}");
    }
    let help = common::stdout(&common::run(["--help"]));
    assert!(help.contains("--decode-as <RULE>"), "{help}");
    assert!(help.contains("tcp.port==8080,http2"), "{help}");
}
