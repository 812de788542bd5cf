//! The follow check (`--follow`): for every TCP connection of the corpus, each
//! direction's bytes as pcapkit's stream reassembly delivers them (`pcapkit streams`)
//! against tshark's Follow TCP Stream (`tshark -q -z follow,tcp,raw,N`), by length and
//! SHA-256.
//!
//! Connections are joined by stream number (pcapkit numbers them like tshark's
//! `tcp.stream`), and their endpoints must match. A connection in which pcapkit reports a
//! gap (lost bytes) in either direction is left out: what either tool shows across a
//! hole is a choice, not a fact of the capture. Every other direction in which at least
//! one side has bytes is one unit of comparison.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::corpus::file_name;
use crate::pcapkit::{self, Outcome};
use crate::process::{self, Ended};

/// tshark's preferences for the follow run: the same reassembly as `--reassembly`.
const TSHARK_PREFERENCES: [&str; 4] = [
    "ip.defragment:TRUE",
    "ipv6.defragment:TRUE",
    "tcp.desegment_tcp_streams:TRUE",
    "tcp.reassemble_out_of_order:TRUE",
];

/// Streams asked for in one tshark run (each `-z follow` is one more argument and one
/// more tap filtering every packet).
const STREAMS_PER_RUN: usize = 200;

/// One direction of a connection, as `pcapkit streams` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct DirectionLine {
    /// Bytes delivered in order.
    pub bytes: u64,
    /// Their SHA-256, lower-case hex.
    pub sha256: String,
    /// Holes skipped (lost segments).
    #[serde(default)]
    pub gaps: u64,
}

/// One line of `pcapkit streams` (NDJSON, one connection a line).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ConnectionLine {
    /// The stream number (tshark's `tcp.stream`).
    pub stream: u64,
    /// `IP:PORT` of the side that sent the connection's first frame.
    pub a: String,
    /// `IP:PORT` of the other side.
    pub b: String,
    /// The connection's frames.
    #[serde(default)]
    pub frames: Vec<u64>,
    /// From `a` to `b`.
    pub a_to_b: DirectionLine,
    /// From `b` to `a`.
    pub b_to_a: DirectionLine,
    /// Seen from SYN to close without gaps.
    #[serde(default)]
    pub completed: bool,
    /// The application protocol, if pcapkit found one.
    #[serde(default)]
    pub protocol: Option<String>,
}

impl ConnectionLine {
    /// Whether pcapkit lost bytes in either direction.
    pub fn has_gaps(&self) -> bool {
        self.a_to_b.gaps > 0 || self.b_to_a.gaps > 0
    }
}

/// Parses `pcapkit streams` output; blank lines are skipped.
pub fn parse_streams(ndjson: &str) -> Result<Vec<ConnectionLine>, String> {
    ndjson
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("streams line {}: {e}", i + 1)))
        .collect()
}

/// One direction's bytes, summarised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Digested {
    pub bytes: u64,
    pub sha256: String,
}

impl Digested {
    fn of(data: &[u8]) -> Digested {
        Digested {
            bytes: data.len() as u64,
            sha256: hex(&Sha256::digest(data)),
        }
    }
}

/// One block of tshark's follow output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Followed {
    /// `Node 0:` (the side tshark saw first).
    pub node0: String,
    /// `Node 1:`.
    pub node1: String,
    /// Bytes from node 0 to node 1 (lines without indentation).
    pub from_node0: Digested,
    /// Bytes from node 1 to node 0 (lines indented with a tab).
    pub from_node1: Digested,
}

/// Parses the output of `tshark -q -z follow,tcp,raw,N ...` (any number of blocks, in
/// any order) into the blocks by stream number.
///
/// A block is `====` line, `Follow: tcp,raw`, `Filter: tcp.stream eq N`, `Node 0: A`,
/// `Node 1: B`, then one hex line per chunk of data (the chunks node 1 sent indented
/// with a tab), then a closing `====` line.
pub fn parse_follow(output: &str) -> Result<BTreeMap<u64, Followed>, String> {
    let mut blocks = BTreeMap::new();
    let mut current: Option<(u64, Followed, Vec<u8>, Vec<u8>)> = None;
    for line in output.lines() {
        if let Some(n) = line.strip_prefix("Filter: tcp.stream eq ") {
            let n = n
                .trim()
                .parse()
                .map_err(|_| format!("bad follow filter line: {line}"))?;
            current = Some((n, Followed::default(), Vec::new(), Vec::new()));
            continue;
        }
        if line.starts_with("====") {
            if let Some((n, mut f, from0, from1)) = current.take() {
                f.from_node0 = Digested::of(&from0);
                f.from_node1 = Digested::of(&from1);
                blocks.insert(n, f);
            }
            continue;
        }
        let Some((_, block, from0, from1)) = current.as_mut() else {
            continue;
        };
        if let Some(node) = line.strip_prefix("Node 0: ") {
            block.node0 = node.trim().to_string();
        } else if let Some(node) = line.strip_prefix("Node 1: ") {
            block.node1 = node.trim().to_string();
        } else if let Some(data) = line.strip_prefix('\t') {
            from1.extend(unhex(data.trim()).ok_or_else(|| format!("bad hex line: {line}"))?);
        } else if !line.trim().is_empty() {
            from0.extend(unhex(line.trim()).ok_or_else(|| format!("bad hex line: {line}"))?);
        }
    }
    if current.is_some() {
        return Err("follow output ends inside a block".into());
    }
    Ok(blocks)
}

/// `IP:PORT` (or `[IPv6]:PORT`) in one canonical form, so that the two tools' spellings
/// of an endpoint compare equal.
pub fn endpoint(text: &str) -> String {
    let Some((addr, port)) = text.trim().rsplit_once(':') else {
        return text.to_string();
    };
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    match (addr.parse::<IpAddr>(), port.parse::<u16>()) {
        (Ok(addr), Ok(port)) => format!("{addr}:{port}"),
        _ => text.to_string(),
    }
}

/// Lower-case hex of bytes.
fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Bytes of a hex string.
fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The verdict on one direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectionResult {
    pub stream: u64,
    /// `src -> dst`.
    pub direction: String,
    pub tshark: Option<Digested>,
    pub pcapkit: Option<Digested>,
}

impl DirectionResult {
    /// Both sides have it, with the same length and hash.
    pub fn agrees(&self) -> bool {
        self.tshark.is_some() && self.tshark == self.pcapkit
    }
}

/// The follow comparison of one file.
#[derive(Debug, Clone, Default)]
pub struct FollowReport {
    pub name: String,
    /// Connections pcapkit listed / tshark followed.
    pub pcapkit_connections: usize,
    pub tshark_connections: usize,
    /// Connections left out because pcapkit reports a gap.
    pub excluded: Vec<u64>,
    /// Every compared direction.
    pub directions: Vec<DirectionResult>,
    /// Why a tool's output could not be used, if it could not.
    pub problem: Option<String>,
}

impl FollowReport {
    /// Directions that agree.
    pub fn agreeing(&self) -> usize {
        self.directions.iter().filter(|d| d.agrees()).count()
    }
}

/// Compares pcapkit's connections with tshark's follow blocks for one file.
pub fn compare(
    name: &str,
    pcapkit: &[ConnectionLine],
    tshark: &BTreeMap<u64, Followed>,
) -> FollowReport {
    let mut report = FollowReport {
        name: name.to_string(),
        pcapkit_connections: pcapkit.len(),
        tshark_connections: tshark.len(),
        ..FollowReport::default()
    };
    let by_stream: BTreeMap<u64, &ConnectionLine> = pcapkit.iter().map(|c| (c.stream, c)).collect();
    let streams: BTreeSet<u64> = by_stream.keys().chain(tshark.keys()).copied().collect();
    for stream in streams {
        let p = by_stream.get(&stream).copied();
        if p.is_some_and(ConnectionLine::has_gaps) {
            report.excluded.push(stream);
            continue;
        }
        let t = tshark.get(&stream);
        let digest = |d: &DirectionLine| Digested {
            bytes: d.bytes,
            sha256: d.sha256.to_ascii_lowercase(),
        };
        // Directions named by their sender and receiver, from whichever side has them.
        let (a, b) = match (p, t) {
            (Some(p), _) => (endpoint(&p.a), endpoint(&p.b)),
            (None, Some(t)) => (endpoint(&t.node0), endpoint(&t.node1)),
            (None, None) => continue,
        };
        for (src, dst) in [(&a, &b), (&b, &a)] {
            let pcapkit = p.map(|p| {
                if endpoint(&p.a) == *src {
                    digest(&p.a_to_b)
                } else {
                    digest(&p.b_to_a)
                }
            });
            // Another pair of endpoints under the same number is another connection.
            let tshark = t.and_then(|t| {
                let (n0, n1) = (endpoint(&t.node0), endpoint(&t.node1));
                if (&n0, &n1) == (src, dst) {
                    Some(t.from_node0.clone())
                } else if (&n1, &n0) == (src, dst) {
                    Some(t.from_node1.clone())
                } else {
                    None
                }
            });
            let empty = |d: &Option<Digested>| d.as_ref().is_none_or(|d| d.bytes == 0);
            if empty(&pcapkit) && empty(&tshark) {
                continue;
            }
            report.directions.push(DirectionResult {
                stream,
                direction: format!("{src} -> {dst}"),
                tshark,
                pcapkit,
            });
        }
    }
    report
}

/// Where the tools are and how long they may run.
#[derive(Debug, Clone)]
pub struct FollowSettings {
    pub pcapkit: PathBuf,
    pub tshark: PathBuf,
    pub timeout: Duration,
}

/// The arguments of `pcapkit streams FILE`.
pub fn pcapkit_arguments(file: &Path) -> Vec<String> {
    vec!["streams".into(), file.to_string_lossy().into_owned()]
}

/// The arguments of tshark's run listing the stream numbers of a file.
pub fn tshark_stream_arguments(file: &Path) -> Vec<String> {
    let mut args = tshark_common(file);
    args.extend(["-T", "fields", "-e", "tcp.stream"].map(String::from));
    args
}

/// The arguments of one tshark follow run over some streams.
pub fn tshark_follow_arguments(file: &Path, streams: &[u64]) -> Vec<String> {
    let mut args = tshark_common(file);
    args.push("-q".into());
    for s in streams {
        args.push("-z".into());
        args.push(format!("follow,tcp,raw,{s}"));
    }
    args
}

fn tshark_common(file: &Path) -> Vec<String> {
    let mut args = vec![
        "-n".into(),
        "-r".into(),
        file.to_string_lossy().into_owned(),
    ];
    for p in TSHARK_PREFERENCES {
        args.push("-o".into());
        args.push(p.into());
    }
    args
}

/// Runs both tools on one file and compares.
pub fn check_file(path: &Path, settings: &FollowSettings) -> Result<FollowReport, String> {
    let name = file_name(path);
    let failed = |problem: String| FollowReport {
        name: name.clone(),
        problem: Some(problem),
        ..FollowReport::default()
    };
    // pcapkit first: if it cannot list streams, tshark's runs are not worth doing.
    let mut command = Command::new(&settings.pcapkit);
    command.args(pcapkit_arguments(path));
    let out = process::run(command, settings.timeout)
        .map_err(|e| format!("cannot run {}: {e}", settings.pcapkit.display()))?;
    let connections = match pcapkit::classify(&out) {
        Outcome::Ok => match parse_streams(&out.stdout) {
            Ok(c) => c,
            Err(e) => return Ok(failed(format!("pcapkit streams: {e}"))),
        },
        // A file pcapkit refuses has no connections to compare (its refusal is the
        // fields check's business); anything worse is reported.
        Outcome::Error { code: 1, .. } if out.stdout.trim().is_empty() => Vec::new(),
        other => return Ok(failed(format!("pcapkit streams: {other:?}"))),
    };
    let mut command = Command::new(&settings.tshark);
    command.args(tshark_stream_arguments(path));
    let out = process::run(command, settings.timeout)
        .map_err(|e| format!("cannot run {}: {e}", settings.tshark.display()))?;
    if out.ended == Ended::TimedOut {
        return Ok(failed("tshark timed out listing streams".into()));
    }
    let mut streams: BTreeSet<u64> = out
        .stdout
        .lines()
        .flat_map(|l| l.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    streams.extend(connections.iter().map(|c| c.stream));
    let streams: Vec<u64> = streams.into_iter().collect();
    let mut followed = BTreeMap::new();
    for chunk in streams.chunks(STREAMS_PER_RUN) {
        let mut command = Command::new(&settings.tshark);
        command.args(tshark_follow_arguments(path, chunk));
        let out = process::run(command, settings.timeout)
            .map_err(|e| format!("cannot run {}: {e}", settings.tshark.display()))?;
        if out.ended == Ended::TimedOut {
            return Ok(failed("tshark timed out following streams".into()));
        }
        match parse_follow(&out.stdout) {
            Ok(blocks) => followed.extend(blocks),
            Err(e) => return Ok(failed(format!("tshark follow: {e}"))),
        }
    }
    Ok(compare(&name, &connections, &followed))
}

/// Checks every file with `jobs` worker threads; reports in input order.
pub fn check_all(
    files: &[PathBuf],
    settings: &FollowSettings,
    jobs: usize,
) -> Result<Vec<FollowReport>, String> {
    crate::corpus::check_each(files, jobs, |file| check_file(file, settings))
}

/// The printed report: per-file lines, total, and (with `details`) every disagreeing
/// direction.
pub fn report(reports: &[FollowReport], details: bool) -> String {
    let mut out =
        String::from("file\tconnections ts/pk\texcluded (gaps)\tdirections\tagree\tproblem\n");
    let (mut compared, mut agree, mut excluded) = (0, 0, 0);
    for r in reports {
        compared += r.directions.len();
        agree += r.agreeing();
        excluded += r.excluded.len();
        let _ = writeln!(
            out,
            "{}\t{}/{}\t{}\t{}\t{}\t{}",
            r.name,
            r.tshark_connections,
            r.pcapkit_connections,
            r.excluded.len(),
            r.directions.len(),
            r.agreeing(),
            r.problem.as_deref().unwrap_or("-")
        );
    }
    let _ = writeln!(
        out,
        "TOTAL ({} files)\t\t{excluded}\t{compared}\t{agree}\tagreement {:.3}% of directions",
        reports.len(),
        percent(agree, compared)
    );
    if details {
        out.push_str("\ndisagreeing directions:\nfile\tstream\tdirection\ttshark\tpcapkit\n");
        let show = |d: &Option<Digested>| {
            d.as_ref().map_or("(absent)".to_string(), |d| {
                format!("{} bytes {}", d.bytes, &d.sha256[..d.sha256.len().min(16)])
            })
        };
        for r in reports {
            for d in r.directions.iter().filter(|d| !d.agrees()) {
                let _ = writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}",
                    r.name,
                    d.stream,
                    d.direction,
                    show(&d.tshark),
                    show(&d.pcapkit)
                );
            }
        }
    }
    out
}

/// `part` of `whole` in percent (100 when there is nothing).
pub fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        100.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// Whether the follow check passes: every file usable and agreement at least `min`.
pub fn passes(reports: &[FollowReport], min: f64) -> bool {
    let compared: usize = reports.iter().map(|r| r.directions.len()).sum();
    let agree: usize = reports.iter().map(FollowReport::agreeing).sum();
    reports.iter().all(|r| r.problem.is_none()) && percent(agree, compared) >= min
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line in the format `pcapkit streams` is specified to print.
    const SAMPLE: &str = r#"{"stream": 0, "a": "10.0.0.1:40000", "b": "10.0.0.2:80", "frames": [1, 2, 3, 4], "a_to_b": {"bytes": 3, "sha256": "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", "gaps": 0}, "b_to_a": {"bytes": 0, "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "gaps": 0}, "completed": true, "protocol": "HTTP"}
{"stream": 1, "a": "[2001:db8::1]:5000", "b": "[2001:db8::2]:443", "frames": [5], "a_to_b": {"bytes": 10, "sha256": "00", "gaps": 1}, "b_to_a": {"bytes": 0, "sha256": "00", "gaps": 0}, "completed": false, "protocol": null}
"#;

    /// tshark 4.0's follow output for the same two streams (blocks in reverse order, as
    /// tshark prints several `-z follow` in).
    const FOLLOW: &str = "
===================================================================
Follow: tcp,raw
Filter: tcp.stream eq 1
Node 0: 2001:db8::1:5000
Node 1: 2001:db8::2:443
00112233
===================================================================

===================================================================
Follow: tcp,raw
Filter: tcp.stream eq 0
Node 0: 10.0.0.1:40000
Node 1: 10.0.0.2:80
61
\t0a
6263
===================================================================
";

    #[test]
    fn streams_lines_parse() {
        let c = parse_streams(SAMPLE).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].stream, 0);
        assert_eq!(c[0].a, "10.0.0.1:40000");
        assert_eq!(c[0].frames, [1, 2, 3, 4]);
        assert_eq!(c[0].a_to_b.bytes, 3);
        assert!(c[0].completed && !c[0].has_gaps());
        assert_eq!(c[0].protocol.as_deref(), Some("HTTP"));
        assert!(c[1].has_gaps() && c[1].protocol.is_none());
        assert!(parse_streams("{\"stream\": 0}\n").is_err());
        assert!(parse_streams("\n").unwrap().is_empty());
    }

    #[test]
    fn follow_blocks_parse_by_direction() {
        let f = parse_follow(FOLLOW).unwrap();
        assert_eq!(f.len(), 2);
        let s0 = &f[&0];
        assert_eq!(s0.node0, "10.0.0.1:40000");
        assert_eq!(s0.from_node0, Digested::of(b"abc"));
        assert_eq!(s0.from_node1, Digested::of(b"\n"));
        assert_eq!(f[&1].from_node1, Digested::of(b""));
        assert!(parse_follow("Filter: tcp.stream eq 0\nzz\n====\n").is_err());
        assert!(parse_follow("Filter: tcp.stream eq 0\n61\n").is_err());
    }

    #[test]
    fn endpoints_have_one_spelling() {
        assert_eq!(endpoint("[2001:db8::1]:80"), "2001:db8::1:80");
        assert_eq!(endpoint("2001:db8::1:80"), "2001:db8::1:80");
        assert_eq!(endpoint("10.0.0.1:80"), "10.0.0.1:80");
        assert_eq!(endpoint("junk"), "junk");
    }

    #[test]
    fn directions_compare_and_gaps_exclude() {
        let c = parse_streams(SAMPLE).unwrap();
        let f = parse_follow(FOLLOW).unwrap();
        let r = compare("x.pcap", &c, &f);
        assert_eq!(r.excluded, [1]);
        // Stream 0: a→b "abc" on both sides (hash case ignored); b→a "\n" only in
        // tshark, so it disagrees.
        assert_eq!(r.directions.len(), 2);
        assert!(r.directions[0].agrees(), "{:?}", r.directions[0]);
        assert_eq!(r.directions[0].direction, "10.0.0.1:40000 -> 10.0.0.2:80");
        assert!(!r.directions[1].agrees());
        assert_eq!(r.agreeing(), 1);
        assert_eq!(percent(1, 2), 50.0);
    }

    #[test]
    fn a_stream_only_one_side_has_disagrees() {
        let f = parse_follow(FOLLOW).unwrap();
        let r = compare("x.pcap", &[], &f);
        // Stream 0's two directions with data, stream 1's one.
        assert_eq!(r.directions.len(), 3);
        assert_eq!(r.agreeing(), 0);
    }

    #[test]
    fn tool_arguments() {
        let file = Path::new("a.pcap");
        assert_eq!(pcapkit_arguments(file), ["streams", "a.pcap"]);
        let args = tshark_follow_arguments(file, &[0, 7]);
        assert_eq!(&args[..3], ["-n", "-r", "a.pcap"]);
        assert!(args.ends_with(&[
            "-q".into(),
            "-z".into(),
            "follow,tcp,raw,0".into(),
            "-z".into(),
            "follow,tcp,raw,7".into()
        ]));
        assert!(args.contains(&"tcp.reassemble_out_of_order:TRUE".to_string()));
        assert!(tshark_stream_arguments(file).ends_with(&["-e".into(), "tcp.stream".into()]));
    }
}
