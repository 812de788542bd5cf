//! FTP control and data connections: fields against tshark 4.0.17 on corpus captures, and
//! hostile control connections (PASV bounce, endless multi-line replies, PORT floods,
//! garbage PORT arguments) built here: notes, bounded tables, no panic.

use std::path::{Path, PathBuf};

use crate::common;

use common::{TcpConversation, ACK, PSH};
use pcapkit::chain::{self, Frame, Thresholds};
use pcapkit::flow::bindings::{MAX_EXPECTED, MAX_REPLY_LINES};
use pcapkit::protocols::{Header, ProtocolId};
use pcapkit::reassembly::ReassemblyOptions;
use pcapkit::session::Session;

const LINKTYPE_RAW_IPV4: u32 = 228;

fn corpus(name: &str) -> PathBuf {
    std::env::var_os("PCAPKIT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/public"))
        .join(name)
}

/// `pcapkit FILE -e frame.number -e FIELD...` rows, keyed by frame number.
fn fields(file: &Path, extra: &[&str], fields: &[&str]) -> Vec<Vec<String>> {
    let mut args: Vec<String> = vec![file.to_string_lossy().into_owned()];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(["-e".to_string(), "frame.number".to_string()]);
    for f in fields {
        args.extend(["-e".to_string(), f.to_string()]);
    }
    args.extend(["-o".to_string(), "-".to_string()]);
    let out = common::run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

/// Frame `n`'s values (frame numbers start at 1).
fn row(rows: &[Vec<String>], n: usize) -> Vec<&str> {
    rows[n - 1][1..].iter().map(String::as_str).collect()
}

#[test]
#[ignore = "needs the corpus (../shared/corpus/public or $PCAPKIT_CORPUS); .ci/run runs it"]
fn zeek_ftp_ipv4_agrees_with_tshark() {
    // Expected values: `tshark -r zeek_ftp_ipv4.pcap -T fields -e ftp.request.command
    // -e ftp.request.arg -e ftp.response.code -e ftp.passive.port -e ftp.active.port
    // -e ftp-data.setup-frame -e ftp-data.command` (tshark 4.0.17).
    let file = corpus("zeek_ftp_ipv4.pcap");
    let wanted = [
        "ftp.command",
        "ftp.arg",
        "ftp.code",
        "ftp.passive_port",
        "ftp.active_port",
        "ftp-data.setup-frame",
        "ftp_data.command",
    ];
    for extra in [&[][..], &["--ip", "--tcp"][..]] {
        let rows = fields(&file, extra, &wanted);
        assert_eq!(row(&rows, 6), ["USER", "anonymous", "", "", "", "", ""]);
        assert_eq!(row(&rows, 17), ["", "", "215", "", "", "", ""]);
        assert_eq!(row(&rows, 20), ["", "", "227", "56666", "", "", ""]);
        assert_eq!(row(&rows, 28), ["", "", "", "", "", "20", "LIST"]);
        assert_eq!(row(&rows, 39), ["", "", "227", "56667", "", "", ""]);
        assert_eq!(
            row(&rows, 46),
            ["", "", "", "", "", "39", "RETR robots.txt"]
        );
        assert_eq!(
            row(&rows, 57),
            ["PORT", "141,142,220,235,131,46", "", "", "33582", "", ""]
        );
        // The server connects from port 61920, not 20: tshark does not take it as FTP
        // data, and neither does pcapkit.
        assert_eq!(row(&rows, 63), ["", "", "", "", "", "", ""]);
        // A line of the multi-line 230 reply that starts with spaces: a reply (the server
        // sent it), not a request.
        assert_eq!(row(&rows, 14)[..3], ["", "", ""]);
    }
}

#[test]
#[ignore = "needs the corpus (../shared/corpus/public or $PCAPKIT_CORPUS); .ci/run runs it"]
fn ndpi_ftp_and_ipv6_epsv_agree_with_tshark() {
    // tshark 4.0.17: frame 35 is `227` for port 25685, 43 its LIST data; 64 the 227 for
    // 24523, whose RETR data starts at 72.
    let rows = fields(
        &corpus("ndpi_ftp.pcap"),
        &[],
        &[
            "ftp.code",
            "ftp.passive_port",
            "ftp_data.setup_frame",
            "ftp_data.command",
        ],
    );
    assert_eq!(row(&rows, 35), ["227", "25685", "", ""]);
    assert_eq!(row(&rows, 43), ["", "", "35", "LIST"]);
    assert_eq!(row(&rows, 72), ["", "", "64", "RETR 1MB.zip"]);
    // zeek_ftp_ipv6: EPSV (229) at 28, its LIST data at 36; 45 and NLST at 53.
    let rows = fields(
        &corpus("zeek_ftp_ipv6.pcap"),
        &[],
        &[
            "ftp.code",
            "ftp.epsv_port",
            "ftp_data.setup_frame",
            "ftp_data.command",
        ],
    );
    assert_eq!(row(&rows, 28)[0], "229");
    assert_eq!(row(&rows, 36)[2..], ["28", "LIST"]);
    assert_eq!(row(&rows, 53)[2..], ["45", "NLST"]);
    // ppp_Ftp: a connection from port 20 with no announcement seen; its own first frame.
    let rows = fields(&corpus("ppp_Ftp.pcap"), &[], &["ftp_data.setup_frame"]);
    assert_eq!(row(&rows, 6), ["6"]);
}

#[test]
#[ignore = "needs the corpus (../shared/corpus/public or $PCAPKIT_CORPUS); .ci/run runs it"]
fn retransmissions_reach_ftp_as_tshark_lets_them() {
    // tshark 4.0.17, default preferences (tcp.no_subdissector_on_error TRUE), without
    // desegmentation: frames 7 and 8 are spurious retransmissions (dissected), 9 and 10
    // retransmissions (not); ndpi_ftp frame 74 is out of order (not).
    let ftp = ["ftp.command", "ftp.arg", "ftp.code", "ftp.text"];
    let rows = fields(&corpus("ppp_Ftp.pcap"), &[], &ftp);
    assert_eq!(row(&rows, 7), ["FEAT", "csanders", "", ""]);
    assert_eq!(row(&rows, 8), ["FEAT", "Test option", "", ""]);
    assert_eq!(row(&rows, 9), ["", "", "", ""]);
    assert_eq!(row(&rows, 10), ["", "", "", ""]);
    let data = ["ftp_data.setup_frame", "ftp_data.command"];
    let rows = fields(&corpus("ndpi_ftp.pcap"), &[], &data);
    assert_eq!(row(&rows, 72), ["64", "RETR 1MB.zip"]);
    assert_eq!(row(&rows, 74), ["", ""]);
    // With desegmentation and out-of-order reassembly: frame 5 follows bytes never
    // captured (held for good), 7, 9 and 10 repeat bytes already had, 8 adds `n\r\n`;
    // frame 72 is held until 74 fills the gap before it.
    let reassembly = ["--ip", "--tcp"];
    let rows = fields(&corpus("ppp_Ftp.pcap"), &reassembly, &ftp);
    assert_eq!(row(&rows, 4), ["", "", "211", "Extensions supported:"]);
    for n in [5, 7, 9, 10] {
        assert_eq!(row(&rows, n), ["", "", "", ""], "frame {n}");
    }
    assert_eq!(row(&rows, 8), ["n", "", "", ""]);
    let rows = fields(&corpus("ndpi_ftp.pcap"), &reassembly, &data);
    assert_eq!(row(&rows, 72), ["", ""]);
    assert_eq!(row(&rows, 74), ["64", "RETR 1MB.zip"]);
    assert_eq!(row(&rows, 76), ["64", "RETR 1MB.zip"]);
}

/// Feeds IPv4 packets to a session without reassembly; returns each frame's notes and
/// protocols.
struct Run {
    session: Session,
    frame: Frame,
    number: u64,
}

impl Run {
    fn new() -> Run {
        Run {
            session: Session::new(ReassemblyOptions::default(), Thresholds::default()),
            frame: Frame::default(),
            number: 0,
        }
    }

    fn feed(&mut self, packet: &[u8]) -> &Frame {
        self.number += 1;
        chain::dissect(
            packet,
            LINKTYPE_RAW_IPV4,
            &Thresholds::default(),
            &mut self.frame.layers,
        );
        self.frame.number = self.number;
        self.frame.timestamp.secs = 1_000;
        self.session.process(&mut self.frame, packet);
        &self.frame
    }

    fn last(&self) -> Option<&Header> {
        self.frame.layers.last().and_then(|l| l.header())
    }
}

#[test]
fn pasv_on_another_host_is_bound_as_announced_and_noted() {
    let mut run = Run::new();
    let mut control = TcpConversation::new("10.0.0.1:40000", "10.0.0.2:21");
    let reply = control.segment(
        false,
        PSH | ACK,
        b"227 Entering Passive Mode (192,0,2,66,4,1)\r\n",
    );
    let notes = run.feed(&reply).notes.clone();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("192.0.2.66:1025"), "{notes:?}");
    let retr = control.segment(true, PSH | ACK, b"RETR secret\r\n");
    run.feed(&retr);
    // The announced host: FTP data for RETR, set up by frame 1.
    let mut data = TcpConversation::new("10.0.0.1:40001", "192.0.2.66:1025");
    let seg = data.segment(false, PSH | ACK, b"file contents");
    run.feed(&seg);
    match run.last() {
        Some(Header::FtpData(d)) => {
            assert_eq!(
                (d.setup_frame, d.command.as_str(), d.len),
                (1, "RETR secret", 13)
            )
        }
        other => panic!("not FTP data: {other:?}"),
    }
    // The control connection's server on that port is not it.
    let mut other = TcpConversation::new("10.0.0.1:40002", "10.0.0.2:1025");
    let seg = other.segment(false, PSH | ACK, b"file contents");
    run.feed(&seg);
    assert_ne!(run.last().map(Header::protocol), Some(ProtocolId::FtpData));
}

#[test]
fn an_endless_multi_line_reply_is_noted_once_and_kept_small() {
    let mut run = Run::new();
    let mut control = TcpConversation::new("10.0.0.1:40000", "10.0.0.2:21");
    let first = control.segment(false, PSH | ACK, b"211-Features:\r\n");
    run.feed(&first);
    let mut notes = Vec::new();
    for _ in 0..(MAX_REPLY_LINES * 3) {
        let seg = control.segment(false, PSH | ACK, b" SIZE\r\n MDTM\r\n");
        notes.extend(run.feed(&seg).notes.iter().cloned());
        // Every continuation segment is a reply line, without a code.
        match run.last() {
            Some(Header::Ftp(f)) => assert_eq!((f.code, f.command.as_str()), (0, "")),
            other => panic!("not FTP: {other:?}"),
        }
    }
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("multi-line reply 211"));
    assert_eq!(run.session.bindings().controls_len(), 1);
}

#[test]
fn a_port_flood_keeps_the_table_bounded() {
    let mut run = Run::new();
    let mut control = TcpConversation::new("10.0.0.1:40000", "10.0.0.2:21");
    let mut forgotten = 0;
    for i in 0..(MAX_EXPECTED as u32 * 4) {
        let cmd = format!("PORT 10,0,0,1,{},{}\r\n", 1 + i / 250, 1 + i % 250);
        let seg = control.segment(true, PSH | ACK, cmd.as_bytes());
        let frame = run.feed(&seg);
        forgotten += frame
            .notes
            .iter()
            .filter(|n| n.contains("forgotten"))
            .count();
        assert!(run.session.bindings().expected_len() <= MAX_EXPECTED);
    }
    assert_eq!(forgotten, MAX_EXPECTED * 3);
    // The newest announcement still works.
    let last = MAX_EXPECTED as u32 * 4 - 1;
    let port = (1 + last / 250) * 256 + 1 + last % 250;
    let mut data = TcpConversation::new(&format!("10.0.0.1:{port}"), "10.0.0.2:20");
    let seg = data.segment(false, PSH | ACK, b"x");
    run.feed(&seg);
    assert_eq!(run.last().map(Header::protocol), Some(ProtocolId::FtpData));
}

#[test]
fn garbage_port_arguments_are_noted_and_bind_nothing() {
    let mut run = Run::new();
    let mut control = TcpConversation::new("10.0.0.1:40000", "10.0.0.2:21");
    for arg in [
        &b"PORT 300,1,1,1,1,1\r\n"[..],
        b"PORT 1,2,3,4\r\n",
        b"PORT ,,,,,\r\n",
        b"EPRT |9|x|y|\r\n",
        b"PORT 99999999999999999999999999,1,1,1,1,1\r\n",
    ] {
        let seg = control.segment(true, PSH | ACK, arg);
        let frame = run.feed(&seg);
        assert!(
            frame
                .notes
                .iter()
                .any(|n| n.starts_with("FTP: PORT") || n.starts_with("FTP: EPRT")),
            "{arg:?}: {:?}",
            frame.notes
        );
        match run.last() {
            Some(Header::Ftp(f)) => {
                assert_eq!((f.active_port, f.eprt_port), (0, 0));
                assert!(!f.problem.is_empty());
            }
            other => panic!("not FTP: {other:?}"),
        }
    }
    assert_eq!(run.session.bindings().expected_len(), 0);
}
