//! Running both tools over the corpus (in parallel) and comparing their tables.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::compare::{compare_file, Comparison};
use crate::corpus::file_name;
use crate::known::KnownDifferences;
use crate::mapping::Mode;
use crate::pcapkit::{self, Outcome};
use crate::tshark;

/// Where the tools are and how long they may run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Without or with reassembly (which also decides the compared fields).
    pub mode: Mode,
    pub pcapkit: PathBuf,
    pub tshark: PathBuf,
    pub timeout: Duration,
}

/// The state of a file after comparison, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// pcapkit panicked or died by a signal.
    Crash,
    /// pcapkit hit the time limit.
    Timeout,
    /// tshark hit the time limit: the ground truth is incomplete.
    Tshark,
    /// pcapkit failed with an error while tshark read frames.
    Error,
    /// Some disagreement is not a known difference.
    Diff,
    /// Every compared cell agrees or is explained.
    Ok,
}

impl Status {
    /// The label printed in the report.
    pub fn label(self) -> &'static str {
        match self {
            Status::Crash => "CRASH",
            Status::Timeout => "TIMEOUT",
            Status::Tshark => "TSHARK-TIMEOUT",
            Status::Error => "ERROR",
            Status::Diff => "DIFF",
            Status::Ok => "OK",
        }
    }

    /// Whether this status alone fails the run (a crash or a hang of either tool).
    pub fn is_fatal(self) -> bool {
        matches!(self, Status::Crash | Status::Timeout | Status::Tshark)
    }
}

/// The result for one capture file.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub name: String,
    pub tshark_frames: usize,
    pub pcapkit_frames: usize,
    /// tshark's diagnostic (corrupt or unsupported file), if any.
    pub tshark_message: Option<String>,
    pub tshark_timed_out: bool,
    pub outcome: Outcome,
    pub comparison: Comparison,
}

impl FileReport {
    /// The file's status.
    pub fn status(&self) -> Status {
        match &self.outcome {
            Outcome::Crash(_) => Status::Crash,
            Outcome::Timeout => Status::Timeout,
            _ if self.tshark_timed_out => Status::Tshark,
            Outcome::Error { .. } if self.tshark_frames > 0 => Status::Error,
            _ if self.comparison.total().unexplained() > 0 => Status::Diff,
            _ => Status::Ok,
        }
    }
}

/// Runs both tools on one file and compares their output.
pub fn check_file(
    path: &Path,
    settings: &Settings,
    known: &KnownDifferences,
) -> Result<FileReport, String> {
    let name = file_name(path);
    let (mode, fields) = (settings.mode, settings.mode.fields());
    let truth = tshark::run(&settings.tshark, path, fields, mode, settings.timeout)?;
    let tested = pcapkit::run(&settings.pcapkit, path, fields, mode, settings.timeout)?;
    let comparison = compare_file(&name, &truth.table, &tested.table, fields, known);
    Ok(FileReport {
        name,
        tshark_frames: truth.table.len(),
        pcapkit_frames: tested.table.len(),
        tshark_message: truth.message,
        tshark_timed_out: truth.timed_out,
        outcome: tested.outcome,
        comparison,
    })
}

/// Checks every file with `jobs` worker threads; reports come back in the input order.
pub fn check_all(
    files: &[PathBuf],
    settings: &Settings,
    known: &KnownDifferences,
    jobs: usize,
) -> Result<Vec<FileReport>, String> {
    crate::corpus::check_each(files, jobs, |file| check_file(file, settings, known))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{Disagreement, Tally};
    use crate::mapping::FIELDS;

    fn report(outcome: Outcome, tshark_frames: usize, unexplained: u64) -> FileReport {
        let mut comparison = Comparison {
            fields: vec![Tally::default(); FIELDS.len()],
            ..Comparison::default()
        };
        comparison.fields[1].compared = 10;
        comparison.fields[1].agree = 10 - unexplained;
        comparison.fields[1].disagree = unexplained;
        comparison.disagreements = (0..unexplained)
            .map(|frame| Disagreement {
                frame,
                field: FIELDS[1].pcapkit,
                tshark: "1".into(),
                tshark_raw: "1".into(),
                pcapkit: "2".into(),
                explained_by: None,
            })
            .collect();
        FileReport {
            name: "f.pcap".into(),
            tshark_frames,
            pcapkit_frames: tshark_frames,
            tshark_message: None,
            tshark_timed_out: false,
            outcome,
            comparison,
        }
    }

    #[test]
    fn statuses() {
        assert_eq!(report(Outcome::Ok, 3, 0).status(), Status::Ok);
        assert_eq!(report(Outcome::Ok, 3, 1).status(), Status::Diff);
        assert_eq!(
            report(Outcome::Crash("x".into()), 3, 0).status(),
            Status::Crash
        );
        assert_eq!(report(Outcome::Timeout, 3, 0).status(), Status::Timeout);
        let error = Outcome::Error {
            code: 1,
            message: "bad".into(),
        };
        assert_eq!(report(error.clone(), 3, 0).status(), Status::Error);
        // Both tools reject the file: nothing to compare, and that is agreement.
        assert_eq!(report(error, 0, 0).status(), Status::Ok);
        assert!(Status::Crash.is_fatal() && !Status::Error.is_fatal());
    }
}
