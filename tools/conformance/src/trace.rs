//! The trace check (`--trace`): every capture is traced by `pcapkit --trace-out` in each
//! container (pcap, pcapng), byte order and time resolution; every trace file is read
//! back by tshark and must hold exactly the original frames of its connection: tshark's
//! `tcp.stream` on the original capture says which, and its hex dump and columns give
//! each frame's bytes, lengths and time.
//!
//! tshark reads the original with IP defragmentation off, as `--trace` without `--ip`
//! sees it: a first fragment's TCP header belongs to its connection. Frames whose TCP
//! segment tshark finds only inside what pcapkit does not dissect are left out and
//! counted: a decompressed IPComp payload, and the sampled packet headers an sFlow
//! datagram carries (copies of packets seen elsewhere, not a connection on this link).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::corpus::file_name;
use crate::process::{self, Ended};

/// Protocols pcapkit does not dissect, inside which tshark may find TCP segments.
const UNDISSECTED: &[&str] = &["ipcomp", "sflow"];

/// One frame, as tshark shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// `frame.time_epoch`, nanoseconds.
    pub epoch: String,
    pub len: u64,
    pub cap_len: u64,
    /// `frame.protocols` (on the original capture only).
    pub protocols: String,
    /// The first `tcp.stream`, if any.
    pub stream: Option<u64>,
    pub bytes: Vec<u8>,
}

/// A way of tracing: container, byte order, resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    pub pcapng: bool,
    pub big: bool,
    pub nanosecond: bool,
}

impl Variant {
    /// All eight.
    pub fn all() -> Vec<Variant> {
        let mut all = Vec::new();
        for pcapng in [false, true] {
            for big in [false, true] {
                for nanosecond in [false, true] {
                    all.push(Variant {
                        pcapng,
                        big,
                        nanosecond,
                    });
                }
            }
        }
        all
    }

    fn arguments(self) -> Vec<String> {
        let mut args = vec![
            "--trace-format".to_string(),
            if self.pcapng { "pcapng" } else { "pcap" }.into(),
            "--trace-byteorder".into(),
            if self.big { "big" } else { "little" }.into(),
        ];
        if self.nanosecond {
            args.push("--trace-nanosecond".into());
        }
        args
    }

    fn name(self) -> String {
        format!(
            "{} {} {}",
            if self.pcapng { "pcapng" } else { "pcap" },
            if self.big { "big" } else { "little" },
            if self.nanosecond { "ns" } else { "µs" }
        )
    }
}

/// The trace check of one capture.
#[derive(Debug, Clone, Default)]
pub struct TraceReport {
    pub name: String,
    /// TCP connections tshark finds.
    pub connections: usize,
    /// Frames of those connections, times the variants traced.
    pub frames: usize,
    /// Of those, frames found in their connection's file, in place, identical.
    pub matched: usize,
    /// Trace files read back.
    pub files: usize,
    /// Frames of a connection left out: their TCP segment is in an IPComp payload or an
    /// sFlow sample.
    pub excluded: usize,
    /// What differed.
    pub differences: Vec<String>,
    /// Why the capture could not be checked.
    pub problem: Option<String>,
}

/// Where the tools are and how long they may run.
#[derive(Debug, Clone)]
pub struct TraceSettings {
    pub pcapkit: PathBuf,
    pub tshark: PathBuf,
    pub timeout: Duration,
}

/// Checks every file, `jobs` at a time.
pub fn check_all(
    files: &[PathBuf],
    settings: &TraceSettings,
    jobs: usize,
) -> Result<Vec<TraceReport>, String> {
    crate::corpus::check_each(files, jobs, |f| Ok(check_file(f, settings)))
}

fn check_file(path: &Path, settings: &TraceSettings) -> TraceReport {
    let mut report = TraceReport {
        name: file_name(path),
        ..TraceReport::default()
    };
    let originals = match tshark_records(settings, path, true) {
        Ok(r) => r,
        Err(e) => {
            report.problem = Some(format!("tshark on the capture: {e}"));
            return report;
        }
    };
    let mut by_stream: BTreeMap<u64, Vec<&Record>> = BTreeMap::new();
    for r in &originals {
        if let Some(s) = r.stream {
            if r.protocols.split(':').any(|p| UNDISSECTED.contains(&p)) {
                report.excluded += 1;
                continue;
            }
            by_stream.entry(s).or_default().push(r);
        }
    }
    report.connections = by_stream.len();
    for variant in Variant::all() {
        if let Err(e) = check_variant(path, settings, variant, &by_stream, &mut report) {
            report.problem = Some(format!("{}: {e}", variant.name()));
            return report;
        }
    }
    report
}

fn check_variant(
    path: &Path,
    settings: &TraceSettings,
    variant: Variant,
    by_stream: &BTreeMap<u64, Vec<&Record>>,
    report: &mut TraceReport,
) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!(
        "pcapkit-trace-check-{}-{}",
        std::process::id(),
        unique()
    ));
    let _cleanup = RemoveOnDrop(dir.clone());
    let mut command = Command::new(&settings.pcapkit);
    command
        .arg(path)
        .args(["--nofile", "--trace-out"])
        .arg(&dir)
        .args(variant.arguments());
    let run = process::run(command, settings.timeout)
        .map_err(|e| format!("cannot run {}: {e}", settings.pcapkit.display()))?;
    // 3: a damaged capture, traced up to the damage (tshark stops there too).
    if !matches!(run.ended, Ended::Exited(0 | 3)) {
        return Err(format!(
            "pcapkit ended {:?}: {}",
            run.ended,
            run.stderr.trim()
        ));
    }
    let index = std::fs::read_to_string(dir.join("index.ndjson")).unwrap_or_default();
    let mut traced: BTreeMap<u64, PathBuf> = BTreeMap::new();
    for line in index.lines() {
        let flow: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("index line {line}: {e}"))?;
        let stream = flow["stream"]
            .as_u64()
            .ok_or("an index line without stream")?;
        let file = flow["file"].as_str().ok_or("an index line without file")?;
        traced.insert(stream, dir.join(file));
    }
    for (stream, file) in &traced {
        if !by_stream.contains_key(stream) {
            report.differences.push(format!(
                "{}: pcapkit traced stream {stream}, which tshark does not have",
                variant.name()
            ));
        }
        check_magic(file, variant, report);
    }
    for (stream, want) in by_stream {
        report.frames += want.len();
        let Some(file) = traced.get(stream) else {
            report.differences.push(format!(
                "{}: stream {stream} ({} frames) was not traced",
                variant.name(),
                want.len()
            ));
            continue;
        };
        report.files += 1;
        let got = tshark_records(settings, file, false)
            .map_err(|e| format!("tshark reading {}: {e}", file.display()))?;
        let mut matched = 0;
        for (i, w) in want.iter().enumerate() {
            let expected_epoch = if variant.nanosecond {
                w.epoch.clone()
            } else {
                microseconds(&w.epoch)
            };
            match got.get(i) {
                Some(g)
                    if g.bytes == w.bytes
                        && g.len == w.len
                        && g.cap_len == w.cap_len
                        && g.epoch == expected_epoch =>
                {
                    matched += 1
                }
                Some(g) => report.differences.push(format!(
                    "{}: stream {stream}, record {}: {} {} {} ({} bytes) instead of {expected_epoch} {} {}",
                    variant.name(),
                    i + 1,
                    g.epoch,
                    g.len,
                    g.cap_len,
                    g.bytes.len(),
                    w.len,
                    w.cap_len
                )),
                None => report.differences.push(format!(
                    "{}: stream {stream}: record {} missing",
                    variant.name(),
                    i + 1
                )),
            }
        }
        if got.len() > want.len() {
            report.differences.push(format!(
                "{}: stream {stream}: {} records more than tshark's {}",
                variant.name(),
                got.len() - want.len(),
                want.len()
            ));
        }
        report.matched += matched;
    }
    Ok(())
}

/// The file's magic number must say the variant's byte order and resolution.
fn check_magic(file: &Path, variant: Variant, report: &mut TraceReport) {
    let Ok(bytes) = std::fs::read(file) else {
        report
            .differences
            .push(format!("cannot read {}", file.display()));
        return;
    };
    let ok = if variant.pcapng {
        let magic: &[u8] = if variant.big {
            &[0x1a, 0x2b, 0x3c, 0x4d]
        } else {
            &[0x4d, 0x3c, 0x2b, 0x1a]
        };
        bytes.get(8..12) == Some(magic)
    } else {
        let magic: u32 = if variant.nanosecond {
            0xa1b2_3c4d
        } else {
            0xa1b2_c3d4
        };
        let want = if variant.big {
            magic.to_be_bytes()
        } else {
            magic.to_le_bytes()
        };
        bytes.get(..4) == Some(&want[..])
    };
    if !ok {
        report.differences.push(format!(
            "{}: {} does not start with its magic number",
            variant.name(),
            file_name(file)
        ));
    }
}

/// `1.123456789` cut to microseconds: `1.123456000`.
fn microseconds(epoch: &str) -> String {
    match epoch.split_once('.') {
        Some((s, f)) if f.len() == 9 => format!("{s}.{}000", &f[..6]),
        _ => epoch.to_string(),
    }
}

/// Every frame of `file`: tshark's columns (time, lengths, and the stream when
/// `streams`) and its hex dump of the frame's own bytes.
fn tshark_records(
    settings: &TraceSettings,
    file: &Path,
    streams: bool,
) -> Result<Vec<Record>, String> {
    let columns = if streams {
        r#"gui.column.format:"t","%Cus:frame.time_epoch","l","%Cus:frame.len","c","%Cus:frame.cap_len","p","%Cus:frame.protocols","s","%Cus:tcp.stream""#
    } else {
        r#"gui.column.format:"t","%Cus:frame.time_epoch","l","%Cus:frame.len","c","%Cus:frame.cap_len""#
    };
    let mut command = Command::new(&settings.tshark);
    command
        .arg("-r")
        .arg(file)
        .args([
            "-n",
            "-P",
            "-x",
            "--hexdump",
            "frames",
            "--hexdump",
            "noascii",
        ])
        .args(["-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE"])
        .args(["-o", columns]);
    let run = process::run(command, settings.timeout).map_err(|e| e.to_string())?;
    // tshark exits 2 on a capture cut short, after printing every frame it read.
    if !matches!(run.ended, Ended::Exited(0 | 2)) {
        return Err(format!(
            "tshark ended {:?}: {}",
            run.ended,
            run.stderr.trim()
        ));
    }
    parse_records(&run.stdout)
}

/// Parses tshark's summary lines and hex dumps.
pub fn parse_records(text: &str) -> Result<Vec<Record>, String> {
    let mut records: Vec<Record> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            continue;
        }
        let mut tokens = trimmed.split_whitespace();
        let first = tokens.next().unwrap_or_default();
        let is_hex = first.len() >= 4 && first.chars().all(|c| c.is_ascii_hexdigit());
        if is_hex {
            let record = records
                .last_mut()
                .ok_or_else(|| format!("a hex dump before any frame: {trimmed}"))?;
            for t in tokens {
                let byte =
                    u8::from_str_radix(t, 16).map_err(|_| format!("bad hex in {trimmed}"))?;
                record.bytes.push(byte);
            }
            continue;
        }
        let mut fields: Vec<&str> = trimmed.split_whitespace().collect();
        // A record without a time (a pcapng Simple Packet Block): the time column is empty.
        if !fields[0].contains('.') {
            fields.insert(0, "");
        }
        let number = |i: usize| -> Result<u64, String> {
            fields
                .get(i)
                .and_then(|f| f.parse().ok())
                .ok_or_else(|| format!("a summary line without lengths: {trimmed}"))
        };
        records.push(Record {
            epoch: fields[0].to_string(),
            len: number(1)?,
            cap_len: number(2)?,
            protocols: fields.get(3).map_or_else(String::new, |p| p.to_string()),
            stream: fields
                .get(4)
                .and_then(|s| s.split(',').next())
                .and_then(|s| s.parse().ok()),
            bytes: Vec::new(),
        });
    }
    Ok(records)
}

/// The report's text.
pub fn report(reports: &[TraceReport], details: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<48} {:>5} {:>6} {:>8} {:>8}",
        "file", "conns", "files", "frames", "matched"
    );
    for r in reports
        .iter()
        .filter(|r| r.connections > 0 || r.problem.is_some())
    {
        let _ = writeln!(
            out,
            "{:<48} {:>5} {:>6} {:>8} {:>8}{}",
            r.name,
            r.connections,
            r.files,
            r.frames,
            r.matched,
            r.problem
                .as_ref()
                .map(|p| format!("  PROBLEM: {p}"))
                .unwrap_or_default()
        );
    }
    let frames: usize = reports.iter().map(|r| r.frames).sum();
    let matched: usize = reports.iter().map(|r| r.matched).sum();
    let files: usize = reports.iter().map(|r| r.files).sum();
    let connections: usize = reports.iter().map(|r| r.connections).sum();
    let excluded: usize = reports.iter().map(|r| r.excluded).sum();
    if excluded > 0 {
        let _ = writeln!(
            out,
            "\n{excluded} frames left out: tshark finds their TCP segment in a decompressed IPComp payload or an sFlow sample"
        );
    }
    let _ = writeln!(
        out,
        "\n{connections} connections, {files} trace files read back by tshark ({} variants), {matched} of {frames} frames identical ({:.3} %)",
        Variant::all().len(),
        percent(matched, frames)
    );
    let differences: Vec<&String> = reports.iter().flat_map(|r| &r.differences).collect();
    if !differences.is_empty() {
        let _ = writeln!(out, "\n{} differences:", differences.len());
        for (r, d) in reports
            .iter()
            .flat_map(|r| r.differences.iter().map(move |d| (r, d)))
            .take(if details { usize::MAX } else { 20 })
        {
            let _ = writeln!(out, "  {}: {d}", r.name);
        }
    }
    out
}

/// Passes when no capture had a problem and every frame matched (at least `min` %).
pub fn passes(reports: &[TraceReport], min: f64) -> bool {
    let frames: usize = reports.iter().map(|r| r.frames).sum();
    let matched: usize = reports.iter().map(|r| r.matched).sum();
    reports.iter().all(|r| r.problem.is_none()) && percent(matched, frames) >= min
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        100.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

fn unique() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lines_and_hex_dumps() {
        let text = "1704067200.000000000 60 60 eth:ethertype:ip:tcp 0,3\n\n0000  ff 01 02   \n0010  0a               \n\n1704067200.000182000 62 60 eth \n\n0000  aa\n";
        let r = parse_records(text).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].stream, Some(0));
        assert_eq!(r[0].protocols, "eth:ethertype:ip:tcp");
        assert_eq!(r[0].bytes, [0xff, 1, 2, 0x0a]);
        assert_eq!((r[1].len, r[1].cap_len, r[1].stream), (62, 60, None));
        assert_eq!(r[1].bytes, [0xaa]);
        assert!(parse_records("0000  ff\n").is_err());
    }

    #[test]
    fn times_cut_to_microseconds() {
        assert_eq!(microseconds("1.123456789"), "1.123456000");
        assert_eq!(microseconds("1.5"), "1.5");
    }
}
