//! Helpers shared by the integration tests: the demo capture, running the `pcapkit`
//! binary, reading its output. Packets, pcap and pcapng files are built with
//! `pcapkit-testkit` (`tools/testkit`), re-exported here under the names the tests use.
//!
//! Tests only read `samples/demo.pcap` and bytes they build themselves.

// Each test file includes this module and uses only part of it.
#![allow(dead_code, unused_imports)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub use pcapkit_testkit::net::tcp_flags::{ACK, FIN, PSH, RST, SYN};
pub use pcapkit_testkit::net::{
    ethernet, internet_checksum, ip_tcp, ipv4_fragments, ipv4_tcp, ipv4_udp, MAC_A, MAC_B,
};
pub use pcapkit_testkit::pcap::{
    pcap_file, records_le, set_incl_len, to_big_endian, to_modified, to_nanosecond, PcapRecord,
    RecordPos,
};
pub use pcapkit_testkit::pcapng::{
    block, epb, epb_body, idb, if_tsoffset, if_tsresol, opb, option, options, shb, spb, Order,
};
pub use pcapkit_testkit::{Rng, TcpConversation};

/// Bytes from hex digits, whitespace between them ignored (as captures are quoted).
pub fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The layers the stateless chain dissects from an Ethernet frame.
pub fn layers_of(frame: &[u8]) -> Vec<pcapkit::Layer> {
    let mut layers = Vec::new();
    pcapkit::chain::dissect(frame, 1, &pcapkit::Thresholds::default(), &mut layers);
    layers
}

/// The names of `layers`, outermost first.
pub fn names(layers: &[pcapkit::Layer]) -> Vec<&'static str> {
    layers.iter().map(|l| l.name).collect()
}

/// Number of frames in `samples/demo.pcap`.
pub const DEMO_FRAMES: usize = 44;

/// Every field path the CLI contract promises for `-e`.
pub const CONTRACT_FIELDS: &[&str] = &[
    "frame.number",
    "frame.time_epoch",
    "frame.len",
    "frame.cap_len",
    "frame.protocols",
    "ethernet.src",
    "ethernet.dst",
    "ethernet.type",
    "vlan.pcp",
    "vlan.dei",
    "vlan.vid",
    "vlan.type",
    "arp.htype",
    "arp.ptype",
    "arp.oper",
    "arp.sha",
    "arp.spa",
    "arp.tha",
    "arp.tpa",
    "ipv4.version",
    "ipv4.ihl",
    "ipv4.len",
    "ipv4.id",
    "ipv4.df",
    "ipv4.mf",
    "ipv4.offset",
    "ipv4.ttl",
    "ipv4.protocol",
    "ipv4.checksum",
    "ipv4.src",
    "ipv4.dst",
    "ipv6.flow_label",
    "ipv6.payload_len",
    "ipv6.next_header",
    "ipv6.hop_limit",
    "ipv6.src",
    "ipv6.dst",
    "ipv6_frag.id",
    "ipv6_frag.offset",
    "ipv6_frag.mf",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.seq",
    "tcp.ack",
    "tcp.flags",
    "tcp.window",
    "tcp.mss",
    "udp.srcport",
    "udp.dstport",
    "udp.len",
    "http.method",
    "http.uri",
    "http.status",
];

// ---------------------------------------------------------------------------------------
// The demo capture

pub fn demo_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/demo.pcap")
}

pub fn demo() -> Vec<u8> {
    std::fs::read(demo_path()).expect("samples/demo.pcap is readable")
}

// ---------------------------------------------------------------------------------------
// Frames

/// Ethernet / IPv4 / UDP to port 9 from 10.0.0.`host`.
pub fn eth_ipv4_udp(host: u8, payload: &[u8]) -> Vec<u8> {
    ethernet(
        MAC_B,
        MAC_A,
        0x0800,
        &ipv4_udp([10, 0, 0, host], [10, 0, 0, 254], 40000, 9, payload),
    )
}

// ---------------------------------------------------------------------------------------
// Running the binary

pub fn pcapkit() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pcapkit"));
    // A backtrace must never be needed to tell what went wrong.
    cmd.env_remove("RUST_BACKTRACE");
    cmd.env_remove("RUST_LIB_BACKTRACE");
    cmd
}

/// Runs `pcapkit args...` with no standard input.
pub fn run<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    pcapkit()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("pcapkit runs")
}

/// Runs `pcapkit args...` in `dir`.
pub fn run_in<I, S>(dir: &Path, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    pcapkit()
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("pcapkit runs")
}

/// Runs `pcapkit args...` with `input` on standard input.
pub fn run_stdin<I, S>(args: I, input: &[u8]) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut child = pcapkit()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pcapkit starts");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // Write from a thread: the child may fill its output pipe before reading all input.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("pcapkit finishes");
    writer.join().unwrap();
    out
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the run did not crash: no panic message, no abort, no signal.
pub fn assert_no_crash(o: &Output, what: &str) {
    let err = stderr(o);
    assert!(
        !err.contains("panicked")
            && !err.contains("internal error")
            && !err.contains("RUST_BACKTRACE"),
        "{what}: pcapkit crashed: {err}"
    );
    assert!(
        o.status.code().is_some(),
        "{what}: pcapkit was killed by a signal: {:?}",
        o.status
    );
    assert_ne!(
        o.status.code(),
        Some(101),
        "{what}: pcapkit panicked: {err}"
    );
}

/// Asserts success and returns stdout.
pub fn ok(o: &Output) -> String {
    assert_no_crash(o, "run");
    assert!(
        o.status.success(),
        "pcapkit failed ({:?}): {}",
        o.status,
        stderr(o)
    );
    stdout(o)
}

/// Writes `bytes` to `dir/name`.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The `fields` output as a header and rows of cells.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn parse(text: &str) -> Table {
        assert!(
            text.ends_with('\n') || text.is_empty(),
            "ends with a newline"
        );
        let mut lines = text.lines();
        let header: Vec<String> = lines
            .next()
            .expect("a header line")
            .split('\t')
            .map(String::from)
            .collect();
        let rows: Vec<Vec<String>> = lines
            .map(|l| l.split('\t').map(String::from).collect())
            .collect();
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(
                row.len(),
                header.len(),
                "row {} has {} cells, the header {}",
                i + 1,
                row.len(),
                header.len()
            );
        }
        Table { header, rows }
    }

    fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    /// The cell of `name` in the row of frame `number` (1-based rows).
    pub fn get(&self, number: usize, name: &str) -> &str {
        &self.rows[number - 1][self.col(name)]
    }

    /// A whole column.
    pub fn column(&self, name: &str) -> Vec<&str> {
        let c = self.col(name);
        self.rows.iter().map(|r| r[c].as_str()).collect()
    }
}

/// Runs `pcapkit input -e f1 -e f2 ...` and parses the table.
pub fn fields_of(input: &Path, fields: &[&str]) -> Table {
    let mut args = vec![input.as_os_str().to_owned()];
    for f in fields {
        args.push("-e".into());
        args.push((*f).into());
    }
    Table::parse(&ok(&run(args)))
}

/// A 20-byte IPv4 header of protocol `proto` (10.0.0.1 → 10.0.0.2, no checksum), then
/// `payload`.
pub fn ipv4(proto: u8, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(20 + payload.len()).expect("small");
    let mut p = vec![0x45, 0];
    p.extend(len.to_be_bytes());
    p.extend([0, 0, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    p.extend(payload);
    p
}

/// Runs `pcapkit FILE ARGS... -e f1 -e f2 ...` on a conversation written as a capture,
/// checks that it did not crash, and parses the table.
pub fn conversation_fields(c: &TcpConversation, args: &[&str], fields: &[&str]) -> Table {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write_file(dir.path(), "in.pcap", &c.pcap());
    let mut all = vec![input.into_os_string()];
    all.extend(args.iter().map(Into::into));
    for f in fields {
        all.push("-e".into());
        all.push((*f).into());
    }
    let out = run(all);
    assert_no_crash(&out, &format!("pcapkit {}", args.join(" ")));
    Table::parse(&ok(&out))
}

/// The keys of the top-level object of a JSON text, in document order.
pub fn top_level_keys(json: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut depth = 0usize;
    let mut chars = json.chars().peekable();
    // Whether the next string at depth 1 is a key.
    let mut expect_key = false;
    while let Some(c) = chars.next() {
        match c {
            '{' | '[' => {
                depth += 1;
                expect_key = depth == 1 && c == '{';
            }
            '}' | ']' => depth -= 1,
            ',' if depth == 1 => expect_key = true,
            '"' => {
                let mut s = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            s.push(c);
                            s.push(chars.next().unwrap());
                        }
                        '"' => break,
                        c => s.push(c),
                    }
                }
                if depth == 1 && expect_key {
                    keys.push(s);
                    expect_key = false;
                }
            }
            _ => {}
        }
    }
    keys
}

/// A UDP port no spec binds (so that a test's payload stays Raw whatever specs are added),
/// searched from the top of the ephemeral range down.
pub fn unbound_udp_port() -> u16 {
    (49152..=u16::MAX)
        .rev()
        .find(|&p| pcapkit::protocols::table::udp_port(u64::from(p)).is_none())
        .expect("some UDP port is unbound")
}

/// The captures of the corpus, sorted: `$PCAPKIT_CORPUS`, else `../shared/corpus/public`
/// beside the repository. Fewer than `at_least` captures (or no corpus) fails the test.
pub fn corpus_captures(at_least: usize) -> Vec<PathBuf> {
    let dir = std::env::var_os("PCAPKIT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/public"));
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "the corpus is not at {} ({e}); set PCAPKIT_CORPUS",
            dir.display()
        )
    });
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    files.sort();
    assert!(
        files.len() >= at_least.max(1),
        "{} captures in {}",
        files.len(),
        dir.display()
    );
    files
}

/// Whether `tshark` runs here (the corpus tests that need it fail without it; CI
/// installs it).
pub fn have_tshark() -> bool {
    std::process::Command::new("tshark")
        .arg("-v")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Every value a header shows, by path, in wire order, as `-e` prints them.
#[derive(Default)]
pub struct Values(pub std::collections::BTreeMap<&'static str, Vec<String>>);

impl pcapkit::value::Visitor for Values {
    fn field(
        &mut self,
        info: &'static pcapkit::value::FieldInfo,
        value: pcapkit::value::Value<'_>,
    ) {
        self.0.entry(info.path).or_default().push(value.to_string());
    }

    /// A container of bit ranges, as `-e` prints it.
    fn whole(
        &mut self,
        info: &'static pcapkit::value::FieldInfo,
        value: pcapkit::value::Value<'_>,
    ) {
        self.field(info, value);
    }
}

/// The values `visit` shows, by path (to compare two ways of reading a header).
pub fn values(
    visit: impl FnOnce(&mut Values),
) -> std::collections::BTreeMap<&'static str, Vec<String>> {
    let mut v = Values::default();
    visit(&mut v);
    v.0
}

/// `pcapkit -e` values of one frame of `linktype`, written as a capture of its own.
pub fn frame_fields(linktype: u32, frame: &[u8], paths: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = pcap_file(linktype, &[PcapRecord::new(1, 0, frame.to_vec())]);
    let path = write_file(dir.path(), "frame.pcap", &file);
    let table = fields_of(&path, paths);
    paths.iter().map(|p| table.get(1, p).to_string()).collect()
}
