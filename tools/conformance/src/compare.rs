//! Cell-by-cell comparison of tshark's and pcapkit's tables for one capture file.
//!
//! The unit is one (frame, field) cell in which at least one side has a value after
//! normalisation and filtering. Frames are matched by `frame.number`; a frame that only
//! one side has makes each of its non-empty cells a disagreement (its `frame.number`
//! included, so a missing frame always counts). For matched frames `frame.number` is the
//! join key and is not compared.

use std::collections::BTreeSet;

use crate::known::KnownDifferences;
use crate::mapping::{FieldMap, KEY_FIELD};
use crate::normalise::{pcapkit_values, tshark_values};
use crate::table::FieldTable;

/// The verdict on one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Both sides are empty: not a unit of comparison.
    Skip,
    Agree,
    /// The normalised values, joined with `,`.
    Disagree {
        tshark: String,
        pcapkit: String,
    },
}

/// Compares one cell of a field.
pub fn compare_cell(field: &FieldMap, tshark_cell: &str, pcapkit_cell: &str) -> Verdict {
    let tshark = tshark_values(tshark_cell, field);
    let pcapkit = pcapkit_values(pcapkit_cell, field);
    if tshark.is_empty() && pcapkit.is_empty() {
        Verdict::Skip
    } else if tshark == pcapkit {
        Verdict::Agree
    } else {
        Verdict::Disagree {
            tshark: tshark.join(","),
            pcapkit: pcapkit.join(","),
        }
    }
}

/// Counts for one field (or a whole file).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub compared: u64,
    pub agree: u64,
    /// All disagreements, explained ones included.
    pub disagree: u64,
    /// Disagreements covered by a known difference.
    pub explained: u64,
}

impl Tally {
    /// Adds another tally.
    pub fn add(&mut self, other: &Tally) {
        self.compared += other.compared;
        self.agree += other.agree;
        self.disagree += other.disagree;
        self.explained += other.explained;
    }

    /// Disagreements no known difference covers.
    pub fn unexplained(&self) -> u64 {
        self.disagree - self.explained
    }

    /// Share of compared cells that agree, in percent (100 when nothing was compared).
    pub fn agreement(&self) -> f64 {
        if self.compared == 0 {
            100.0
        } else {
            self.agree as f64 * 100.0 / self.compared as f64
        }
    }
}

/// One disagreeing cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    pub frame: u64,
    pub field: &'static str,
    /// tshark's value after normalisation (empty when absent).
    pub tshark: String,
    /// tshark's cell as printed.
    pub tshark_raw: String,
    /// pcapkit's value (empty when absent).
    pub pcapkit: String,
    /// Index of the known difference that explains it.
    pub explained_by: Option<usize>,
}

/// The comparison of one file.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    /// One tally per mapped field, in mapping order.
    pub fields: Vec<Tally>,
    pub disagreements: Vec<Disagreement>,
    /// Frame numbers that pcapkit printed more than once (the first row was used).
    pub repeated_frames: Vec<u64>,
    /// Requested fields missing from pcapkit's header line (their cells count as absent).
    pub missing_columns: Vec<&'static str>,
}

impl Comparison {
    /// The file's total over all fields.
    pub fn total(&self) -> Tally {
        let mut total = Tally::default();
        for tally in &self.fields {
            total.add(tally);
        }
        total
    }
}

/// Compares the two tables of one capture file.
pub fn compare_file(
    file: &str,
    tshark: &FieldTable,
    pcapkit: &FieldTable,
    fields: &'static [FieldMap],
    known: &KnownDifferences,
) -> Comparison {
    let (tshark_rows, _) = tshark.index_by(KEY_FIELD);
    let (pcapkit_rows, repeated_frames) = pcapkit.index_by(KEY_FIELD);
    let frames: BTreeSet<u64> = tshark_rows
        .keys()
        .chain(pcapkit_rows.keys())
        .copied()
        .collect();
    let mut comparison = Comparison {
        fields: vec![Tally::default(); fields.len()],
        disagreements: Vec::new(),
        repeated_frames,
        missing_columns: missing_columns(pcapkit, fields),
    };
    for frame in frames {
        let t_row = tshark_rows.get(&frame).copied();
        let p_row = pcapkit_rows.get(&frame).copied();
        let matched = t_row.is_some() && p_row.is_some();
        for (i, field) in fields.iter().enumerate() {
            if matched && field.pcapkit == KEY_FIELD {
                continue;
            }
            let t_cell = t_row.map_or(String::new(), |r| {
                let first = tshark.cell(r, tshark.column(field.tshark));
                match field.tshark_also.map(|a| tshark.cell(r, tshark.column(a))) {
                    Some(also) if !also.is_empty() && !first.is_empty() => {
                        format!("{first},{also}")
                    }
                    Some(also) if !also.is_empty() => also.to_string(),
                    _ => first.to_string(),
                }
            });
            let t_cell = t_cell.as_str();
            let p_cell = p_row.map_or("", |r| pcapkit.cell(r, pcapkit.column(field.pcapkit)));
            let verdict = compare_cell(field, t_cell, p_cell);
            let tally = &mut comparison.fields[i];
            match verdict {
                Verdict::Skip => continue,
                Verdict::Agree => tally.agree += 1,
                Verdict::Disagree {
                    tshark: t_value,
                    pcapkit: p_value,
                } => {
                    let explained_by = known.explain(file, field.pcapkit, frame);
                    tally.disagree += 1;
                    tally.explained += u64::from(explained_by.is_some());
                    comparison.disagreements.push(Disagreement {
                        frame,
                        field: field.pcapkit,
                        tshark: t_value,
                        tshark_raw: t_cell.to_string(),
                        pcapkit: p_value,
                        explained_by,
                    });
                }
            }
            tally.compared += 1;
        }
    }
    comparison
}

/// Requested pcapkit paths absent from a table that has a header.
fn missing_columns(pcapkit: &FieldTable, fields: &'static [FieldMap]) -> Vec<&'static str> {
    if !pcapkit.has_header() {
        return Vec::new();
    }
    fields
        .iter()
        .map(|f| f.pcapkit)
        .filter(|path| pcapkit.column(path).is_none())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::{by_pcapkit_path, FIELDS};

    fn field(path: &str) -> &'static FieldMap {
        by_pcapkit_path(path).expect("mapped field")
    }

    #[test]
    fn cells_agree_after_normalisation() {
        assert_eq!(
            compare_cell(field("ethernet.type"), "0x0800", "2048"),
            Verdict::Agree
        );
        assert_eq!(compare_cell(field("ipv4.ihl"), "20", "5"), Verdict::Agree);
        assert_eq!(
            compare_cell(field("ipv4.offset"), "185", "1480"),
            Verdict::Agree
        );
        assert_eq!(compare_cell(field("ipv4.df"), "1", "1"), Verdict::Agree);
        assert_eq!(
            compare_cell(field("vlan.vid"), "10,20", "10,20"),
            Verdict::Agree
        );
    }

    #[test]
    fn empty_on_both_sides_is_skipped() {
        assert_eq!(compare_cell(field("tcp.mss"), "", ""), Verdict::Skip);
        assert_eq!(compare_cell(field("ipv4.version"), "6", ""), Verdict::Skip);
        assert_eq!(
            compare_cell(field("ethernet.type"), "", "46"),
            Verdict::Skip
        );
    }

    #[test]
    fn one_sided_and_different_cells_disagree() {
        assert_eq!(
            compare_cell(field("tcp.mss"), "1460", ""),
            Verdict::Disagree {
                tshark: "1460".into(),
                pcapkit: String::new()
            }
        );
        assert_eq!(
            compare_cell(field("ipv6.src"), "", "::1"),
            Verdict::Disagree {
                tshark: String::new(),
                pcapkit: "::1".into()
            }
        );
        // Order and count matter: outer layer first.
        assert!(matches!(
            compare_cell(field("vlan.vid"), "10,20", "20,10"),
            Verdict::Disagree { .. }
        ));
        assert!(matches!(
            compare_cell(field("ipv4.src"), "10.0.0.1,10.0.0.2", "10.0.0.1"),
            Verdict::Disagree { .. }
        ));
        // pcapkit must print decimal, not tshark's hex.
        assert!(matches!(
            compare_cell(field("tcp.flags"), "0x0018", "0x0018"),
            Verdict::Disagree { .. }
        ));
    }

    #[test]
    fn uri_with_commas_compares_whole() {
        let uri = "/home/0,7340,L-8,00.html";
        assert_eq!(compare_cell(field("http.uri"), uri, uri), Verdict::Agree);
    }

    fn table(rows: &[&str]) -> FieldTable {
        FieldTable::parse(&rows.join("\n"))
    }

    #[test]
    fn file_comparison_matches_frames_and_counts_cells() {
        let tshark = table(&[
            "frame.number\tframe.len\tip.ttl\ttcp.flags",
            "1\t60\t64\t0x0002",
            "2\t60\t64\t0x0012",
            "3\t70\t\t",
        ]);
        let pcapkit = table(&[
            "frame.number\tframe.len\tipv4.ttl\ttcp.flags",
            "1\t60\t64\t2",
            "2\t60\t63\t18",
        ]);
        let c = compare_file(
            "f.pcap",
            &tshark,
            &pcapkit,
            &FIELDS,
            &KnownDifferences::default(),
        );
        let total = c.total();
        // Frames 1–2: frame.len, ipv4.ttl, tcp.flags each (6 cells); frame 3 only on the
        // tshark side: frame.number and frame.len (2 cells).
        assert_eq!(total.compared, 8);
        assert_eq!(total.agree, 5);
        assert_eq!(total.disagree, 3);
        assert_eq!(total.explained, 0);
        let fields: Vec<_> = c.disagreements.iter().map(|d| (d.frame, d.field)).collect();
        assert_eq!(
            fields,
            [(2, "ipv4.ttl"), (3, "frame.number"), (3, "frame.len")]
        );
    }

    #[test]
    fn known_differences_explain_disagreements() {
        let tshark = table(&["frame.number\tip.ttl", "1\t64", "2\t64"]);
        let pcapkit = table(&["frame.number\tipv4.ttl", "1\t1", "2\t2"]);
        let known = KnownDifferences::parse(
            "[[difference]]\nfile=\"f.pcap\"\nfield=\"ipv4.ttl\"\nframes=\"2\"\nreason=\"r\"\n",
            &FIELDS,
        )
        .unwrap();
        let c = compare_file("f.pcap", &tshark, &pcapkit, &FIELDS, &known);
        let total = c.total();
        assert_eq!(
            (total.disagree, total.explained, total.unexplained()),
            (2, 1, 1)
        );
        assert_eq!(c.disagreements[1].explained_by, Some(0));
        assert_eq!(c.disagreements[0].tshark_raw, "64");
    }

    #[test]
    fn a_second_tshark_name_is_appended() {
        use crate::mapping::REASSEMBLY_FIELDS;
        // TLS 1.3: the ServerHello record's type is a content_type, the encrypted
        // records' an opaque_type (pcapparser_err-buffertoosmall.pcapng, frames 8, 10).
        let tshark = table(&[
            "frame.number\ttls.record.content_type\ttls.record.opaque_type",
            "8\t22\t23",
            "10\t\t23,23",
        ]);
        let pcapkit = table(&["frame.number\ttls.content_type", "8\t22,23", "10\t23,23"]);
        let c = compare_file(
            "f.pcap",
            &tshark,
            &pcapkit,
            &REASSEMBLY_FIELDS,
            &KnownDifferences::default(),
        );
        assert_eq!((c.total().compared, c.total().agree), (2, 2));
    }

    #[test]
    fn missing_pcapkit_column_counts_against_pcapkit() {
        let tshark = table(&["frame.number\tudp.length", "1\t8"]);
        let pcapkit = table(&["frame.number", "1"]);
        let c = compare_file(
            "f.pcap",
            &tshark,
            &pcapkit,
            &FIELDS,
            &KnownDifferences::default(),
        );
        assert_eq!(c.total().disagree, 1);
        assert!(c.missing_columns.contains(&"udp.len"));
        assert!(!c.missing_columns.contains(&"frame.number"));
    }

    #[test]
    fn agreement_percentage() {
        let tally = Tally {
            compared: 200,
            agree: 199,
            disagree: 1,
            explained: 0,
        };
        assert!((tally.agreement() - 99.5).abs() < 1e-9);
        assert_eq!(Tally::default().agreement(), 100.0);
    }
}
