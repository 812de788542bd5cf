//! The printed report: per-file table, total, notes, per-field summary, details, and the
//! pass/fail verdict.

use std::fmt::Write;

use crate::compare::Tally;
use crate::known::KnownDifferences;
use crate::mapping::FieldMap;
use crate::pcapkit::Outcome;
use crate::run::FileReport;

/// Shown for an absent value in the details.
const ABSENT: &str = "(absent)";

/// Sum of all files' tallies.
pub fn grand_total(reports: &[FileReport]) -> Tally {
    let mut total = Tally::default();
    for report in reports {
        total.add(&report.comparison.total());
    }
    total
}

/// The per-file table and the TOTAL line.
pub fn file_table(reports: &[FileReport], min: f64) -> String {
    let width = reports
        .iter()
        .map(|r| r.name.len())
        .chain(["TOTAL (000 files)".len()])
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:width$}  {:>13}  {:>9}  {:>9}  {:>8}  {:>9}  status",
        "file", "frames ts/pk", "compared", "agree", "disagree", "explained"
    );
    for report in reports {
        let frames = format!("{}/{}", report.tshark_frames, report.pcapkit_frames);
        let row = counts_row(&report.name, &frames, &report.comparison.total(), width);
        let _ = writeln!(out, "{row}  {}", report.status().label());
    }
    let total = grand_total(reports);
    let frames = format!(
        "{}/{}",
        reports.iter().map(|r| r.tshark_frames).sum::<usize>(),
        reports.iter().map(|r| r.pcapkit_frames).sum::<usize>()
    );
    let label = format!("TOTAL ({} files)", reports.len());
    let row = counts_row(&label, &frames, &total, width);
    let _ = writeln!(
        out,
        "{row}  agreement {:.3}% (min {min}%)",
        total.agreement()
    );
    out
}

/// The aligned counting columns of one line.
fn counts_row(label: &str, frames: &str, tally: &Tally, width: usize) -> String {
    format!(
        "{label:width$}  {frames:>13}  {:>9}  {:>9}  {:>8}  {:>9}",
        tally.compared, tally.agree, tally.disagree, tally.explained
    )
}

/// One line per file with something to say: tool messages, errors, crashes.
pub fn notes(reports: &[FileReport]) -> String {
    let mut out = String::new();
    for report in reports {
        for note in file_notes(report) {
            let _ = writeln!(out, "  {}: {note}", report.name);
        }
    }
    if out.is_empty() {
        out
    } else {
        format!("notes:\n{out}")
    }
}

/// The notes of one file.
fn file_notes(report: &FileReport) -> Vec<String> {
    let mut notes = Vec::new();
    match &report.outcome {
        Outcome::Ok => {}
        Outcome::Error { code, message } => {
            notes.push(format!("pcapkit exit {code}: {message}"));
        }
        Outcome::Crash(why) => notes.push(format!("pcapkit CRASH: {why}")),
        Outcome::Timeout => notes.push("pcapkit timed out".into()),
    }
    if let Some(message) = &report.tshark_message {
        notes.push(format!("tshark: {message}"));
    }
    if report.tshark_timed_out {
        notes.push("tshark timed out: ground truth incomplete".into());
    }
    if !report.comparison.missing_columns.is_empty() {
        notes.push(format!(
            "pcapkit header lacks {}",
            report.comparison.missing_columns.join(", ")
        ));
    }
    if !report.comparison.repeated_frames.is_empty() {
        notes.push(format!(
            "pcapkit repeated frame numbers {:?} (first row used)",
            report.comparison.repeated_frames
        ));
    }
    notes
}

/// Fields with disagreements (with `all`, every field compared), most first, with the
/// first file and frame where each was seen; `fields` are the compared fields, in the
/// order of the tallies.
pub fn field_summary(reports: &[FileReport], fields: &[FieldMap], all: bool) -> String {
    let mut rows: Vec<(usize, Tally, String)> = fields
        .iter()
        .enumerate()
        .map(|(i, field)| {
            (
                i,
                field_tally(reports, i),
                first_seen(reports, field.pcapkit),
            )
        })
        .filter(|(_, tally, _)| tally.disagree > 0 || all && tally.compared > 0)
        .collect();
    if rows.is_empty() {
        return "per-field disagreements: none\n".into();
    }
    rows.sort_by_key(|(i, tally, _)| (std::cmp::Reverse(tally.disagree), *i));
    let mut out = format!(
        "per-field disagreements:\n{:18}  {:>9}  {:>8}  {:>9}  {:>9}  first seen\n",
        "field", "compared", "disagree", "explained", "agreement"
    );
    for (i, tally, first) in rows {
        let _ = writeln!(
            out,
            "{:18}  {:>9}  {:>8}  {:>9}  {:>8.3}%  {first}",
            fields[i].pcapkit,
            tally.compared,
            tally.disagree,
            tally.explained,
            tally.agreement()
        );
    }
    out
}

/// Every protocol's fields together (a field's protocol is its path up to the first
/// dot: `ftp_data.command` is `ftp_data`), in the order the fields are compared: what
/// an issue's "per protocol" agreement asks for.
pub fn protocol_summary(reports: &[FileReport], fields: &[FieldMap]) -> String {
    let mut rows: Vec<(&str, usize, Tally)> = Vec::new();
    for (i, field) in fields.iter().enumerate() {
        let protocol = field.pcapkit.split('.').next().unwrap_or(field.pcapkit);
        let tally = field_tally(reports, i);
        match rows.iter_mut().find(|(p, _, _)| *p == protocol) {
            Some((_, n, t)) => {
                *n += 1;
                t.add(&tally);
            }
            None => rows.push((protocol, 1, tally)),
        }
    }
    let mut out = format!(
        "per-protocol agreement:\n{:18}  {:>6}  {:>9}  {:>8}  {:>9}  {:>9}\n",
        "protocol", "fields", "compared", "disagree", "explained", "agreement"
    );
    for (protocol, n, tally) in rows.iter().filter(|(_, _, t)| t.compared > 0) {
        let _ = writeln!(
            out,
            "{protocol:18}  {n:>6}  {:>9}  {:>8}  {:>9}  {:>8.3}%",
            tally.compared,
            tally.disagree,
            tally.explained,
            tally.agreement()
        );
    }
    out
}

/// One field's tally over all files.
fn field_tally(reports: &[FileReport], index: usize) -> Tally {
    let mut tally = Tally::default();
    for report in reports {
        if let Some(t) = report.comparison.fields.get(index) {
            tally.add(t);
        }
    }
    tally
}

/// `file#frame` of a field's first disagreement.
fn first_seen(reports: &[FileReport], field: &str) -> String {
    reports
        .iter()
        .find_map(|r| {
            let d = r
                .comparison
                .disagreements
                .iter()
                .find(|d| d.field == field)?;
            Some(format!("{}#{}", r.name, d.frame))
        })
        .unwrap_or_default()
}

/// Every disagreement, tab separated: file, frame, field, tshark, pcapkit, explanation.
pub fn details(reports: &[FileReport], known: &KnownDifferences) -> String {
    let mut out =
        String::from("disagreements:\nfile\tframe\tfield\ttshark\tpcapkit\texplained by\n");
    for report in reports {
        for d in &report.comparison.disagreements {
            let tshark = match (d.tshark.as_str(), d.tshark_raw.as_str()) {
                ("", _) => ABSENT.to_string(),
                (value, raw) if value == raw => value.to_string(),
                (value, raw) => format!("{value} [{raw}]"),
            };
            let pcapkit = if d.pcapkit.is_empty() {
                ABSENT
            } else {
                &d.pcapkit
            };
            let explanation = d
                .explained_by
                .and_then(|i| known.entries.get(i))
                .map_or("-", |e| e.reason.as_str());
            let _ = writeln!(
                out,
                "{}\t{}\t{}\t{tshark}\t{pcapkit}\t{explanation}",
                report.name, d.frame, d.field
            );
        }
    }
    out
}

/// Known differences that explained nothing in the files checked (stale or mistyped).
pub fn unused_known(reports: &[FileReport], known: &KnownDifferences) -> String {
    let mut out = String::new();
    for (i, entry) in known.entries.iter().enumerate() {
        let used = reports.iter().any(|r| {
            r.comparison
                .disagreements
                .iter()
                .any(|d| d.explained_by == Some(i))
        });
        if !used {
            let _ = writeln!(
                out,
                "  #{} file={} field={} frames={}",
                i + 1,
                entry.file,
                entry.field,
                entry
                    .frames
                    .as_ref()
                    .map_or("all".to_string(), ToString::to_string)
            );
        }
    }
    if out.is_empty() {
        out
    } else {
        format!("known differences that matched no disagreement in the files checked:\n{out}")
    }
}

/// The reasons the run fails; empty when it passes.
pub fn failures(reports: &[FileReport], min: f64) -> Vec<String> {
    let mut failures = Vec::new();
    let fatal: Vec<String> = reports
        .iter()
        .filter(|r| r.status().is_fatal())
        .map(|r| format!("{} ({})", r.name, r.status().label()))
        .collect();
    if !fatal.is_empty() {
        failures.push(format!("crash or hang: {}", fatal.join(", ")));
    }
    let total = grand_total(reports);
    if total.agreement() < min {
        failures.push(format!(
            "agreement {:.3}% is below the minimum {min}%",
            total.agreement()
        ));
    }
    if total.unexplained() > 0 {
        failures.push(format!(
            "{} disagreement(s) not covered by known differences",
            total.unexplained()
        ));
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{Comparison, Disagreement};
    use crate::mapping::FIELDS;

    fn report(
        name: &str,
        outcome: Outcome,
        agree: u64,
        disagreements: &[(u64, &'static str)],
    ) -> FileReport {
        let mut fields = vec![Tally::default(); FIELDS.len()];
        fields[1].compared = agree;
        fields[1].agree = agree;
        let mut listed = Vec::new();
        for &(frame, field) in disagreements {
            let i = FIELDS.iter().position(|f| f.pcapkit == field).unwrap();
            fields[i].compared += 1;
            fields[i].disagree += 1;
            listed.push(Disagreement {
                frame,
                field,
                tshark: "2048".into(),
                tshark_raw: "0x0800".into(),
                pcapkit: String::new(),
                explained_by: None,
            });
        }
        FileReport {
            name: name.into(),
            tshark_frames: 2,
            pcapkit_frames: 2,
            tshark_message: None,
            tshark_timed_out: false,
            outcome,
            comparison: Comparison {
                fields,
                disagreements: listed,
                repeated_frames: Vec::new(),
                missing_columns: Vec::new(),
            },
        }
    }

    #[test]
    fn table_has_a_row_per_file_and_a_total() {
        let reports = [
            report("a.pcap", Outcome::Ok, 10, &[]),
            report("b.pcap", Outcome::Ok, 9, &[(2, "ethernet.type")]),
        ];
        let table = file_table(&reports, 99.5);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[1].starts_with("a.pcap") && lines[1].ends_with("OK"));
        assert!(lines[2].ends_with("DIFF"));
        assert!(lines[3].starts_with("TOTAL (2 files)"));
        assert!(lines[3].contains("agreement 95.000%"), "{}", lines[3]);
    }

    #[test]
    fn details_show_raw_tshark_and_absent_values() {
        let reports = [report("b.pcap", Outcome::Ok, 0, &[(2, "ethernet.type")])];
        let text = details(&reports, &KnownDifferences::default());
        assert!(text.contains("b.pcap\t2\tethernet.type\t2048 [0x0800]\t(absent)\t-"));
    }

    #[test]
    fn field_summary_lists_only_disagreeing_fields() {
        let reports = [report(
            "b.pcap",
            Outcome::Ok,
            5,
            &[(2, "ethernet.type"), (3, "ethernet.type")],
        )];
        let text = field_summary(&reports, &FIELDS, false);
        assert!(text.contains("ethernet.type"));
        assert!(text.contains("b.pcap#2"));
        assert!(!text.contains("frame.time_epoch"));
        assert_eq!(
            field_summary(&[report("a.pcap", Outcome::Ok, 1, &[])], &FIELDS, false),
            "per-field disagreements: none\n"
        );
        // With `all`, agreeing fields too (FIELDS[1] holds the 5 agreeing values).
        let all = field_summary(&reports, &FIELDS, true);
        assert!(all.contains("frame.time_epoch"), "{all}");
        assert!(!all.contains("frame.len "), "nothing compared: {all}");
    }

    #[test]
    fn protocol_summary_adds_up_each_protocols_fields() {
        let reports = [report(
            "b.pcap",
            Outcome::Ok,
            5,
            &[(2, "ethernet.type"), (3, "ethernet.type")],
        )];
        let text = protocol_summary(&reports, &FIELDS);
        let line = |name: &str| {
            text.lines()
                .find(|l| l.split_whitespace().next() == Some(name))
                .map(|l| l.split_whitespace().skip(2).take(2).collect::<Vec<_>>())
        };
        // FIELDS[1] (frame.time_epoch) holds 5 agreeing values (see `report`);
        // ethernet.type 2 disagreeing ones.
        assert_eq!(FIELDS[1].pcapkit, "frame.time_epoch");
        assert_eq!(line("frame"), Some(vec!["5", "0"]), "{text}");
        assert_eq!(line("ethernet"), Some(vec!["2", "2"]), "{text}");
        // Protocols with nothing compared are left out.
        assert!(!text.contains("\nospf "), "{text}");
    }

    #[test]
    fn verdict() {
        let clean = [report("a.pcap", Outcome::Ok, 1000, &[])];
        assert!(failures(&clean, 99.5).is_empty());
        let diff = [report("a.pcap", Outcome::Ok, 1000, &[(1, "tcp.flags")])];
        assert_eq!(failures(&diff, 99.5).len(), 1);
        let low = [report("a.pcap", Outcome::Ok, 10, &[(1, "tcp.flags")])];
        assert_eq!(failures(&low, 99.5).len(), 2);
        let crash = [report("a.pcap", Outcome::Crash("boom".into()), 10, &[])];
        assert!(failures(&crash, 99.5)[0].contains("CRASH"));
        assert!(notes(&crash).contains("pcapkit CRASH: boom"));
    }
}
