//! The system under test: `pcapkit FILE -f fields -e PATH ... -o -`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::mapping::{FieldMap, Mode};
use crate::process::{self, Captured, Ended};
use crate::table::FieldTable;

/// How a pcapkit run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0 (warnings on stderr are allowed).
    Ok,
    /// An orderly failure: exit code other than 0 and 101, no panic.
    Error { code: i32, message: String },
    /// A panic (exit 101 or "panicked" on stderr) or death by a signal.
    Crash(String),
    /// Still running at the time limit.
    Timeout,
}

/// pcapkit's frames for one file and how the run ended.
#[derive(Debug, Clone)]
pub struct PcapkitRun {
    /// The rows it printed, also after an error or a crash.
    pub table: FieldTable,
    pub outcome: Outcome,
}

/// Rust's exit code after a panic in `main`.
const PANIC_EXIT_CODE: i32 = 101;
/// pcapkit's exit code for a damaged capture read up to the damage: the frames before it
/// are there to compare, as after a clean read.
const DAMAGED_EXIT_CODE: i32 = 3;

/// pcapkit's reassembly flags: IPv4 and IPv6 defragmentation, TCP streams.
const REASSEMBLY: [&str; 2] = ["--ip", "--tcp"];

/// The arguments for one capture file.
pub fn arguments(file: &Path, fields: &[FieldMap], mode: Mode) -> Vec<String> {
    let mut args = vec![
        file.to_string_lossy().into_owned(),
        "-f".into(),
        "fields".into(),
    ];
    if mode == Mode::Reassembly {
        args.extend(REASSEMBLY.iter().map(|s| s.to_string()));
    }
    for field in fields {
        args.push("-e".into());
        args.push(field.pcapkit.into());
    }
    args.push("-o".into());
    args.push("-".into());
    args
}

/// Runs pcapkit on one file. Fails only if pcapkit cannot be started.
pub fn run(
    pcapkit: &Path,
    file: &Path,
    fields: &[FieldMap],
    mode: Mode,
    timeout: Duration,
) -> Result<PcapkitRun, String> {
    let mut command = Command::new(pcapkit);
    command.args(arguments(file, fields, mode));
    let out = process::run(command, timeout)
        .map_err(|e| format!("cannot run {}: {e}", pcapkit.display()))?;
    Ok(PcapkitRun {
        table: FieldTable::parse(&out.stdout),
        outcome: classify(&out),
    })
}

/// Classifies a finished run from its end and stderr.
pub fn classify(out: &Captured) -> Outcome {
    let panic_line = panic_message(&out.stderr);
    match out.ended {
        Ended::TimedOut => Outcome::Timeout,
        Ended::Signalled(signal) => Outcome::Crash(format!("killed by signal {signal}")),
        Ended::Exited(code) => match panic_line {
            Some(message) => Outcome::Crash(message),
            None if code == PANIC_EXIT_CODE => {
                Outcome::Crash(format!("exit code {PANIC_EXIT_CODE}"))
            }
            None if code == 0 || code == DAMAGED_EXIT_CODE => Outcome::Ok,
            None => Outcome::Error {
                code,
                message: last_line(&out.stderr),
            },
        },
    }
}

/// The panic line and the message line after it (`thread 'main' panicked at src:1:1:`
/// then the message, since Rust 1.73).
fn panic_message(stderr: &str) -> Option<String> {
    let mut lines = stderr.lines().skip_while(|l| !l.contains("panicked"));
    let at = lines.next()?.trim();
    match lines.next().map(str::trim).filter(|l| !l.is_empty()) {
        Some(message) => Some(format!("{at} {message}")),
        None => Some(at.to_string()),
    }
}

/// The last non-empty stderr line (the error line of an orderly failure).
fn last_line(stderr: &str) -> String {
    stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("(no message)")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::FIELDS;

    fn captured(ended: Ended, stderr: &str) -> Captured {
        Captured {
            stdout: String::new(),
            stderr: stderr.into(),
            ended,
        }
    }

    #[test]
    fn arguments_follow_the_cli_contract() {
        let args = arguments(Path::new("a.pcap"), &FIELDS[..2], Mode::Plain);
        assert_eq!(
            args,
            [
                "a.pcap",
                "-f",
                "fields",
                "-e",
                "frame.number",
                "-e",
                "frame.time_epoch",
                "-o",
                "-"
            ]
        );
    }

    #[test]
    fn reassembly_arguments_add_ip_and_tcp() {
        let args = arguments(Path::new("a.pcap"), &FIELDS[..1], Mode::Reassembly);
        assert_eq!(
            args,
            [
                "a.pcap",
                "-f",
                "fields",
                "--ip",
                "--tcp",
                "-e",
                "frame.number",
                "-o",
                "-"
            ]
        );
    }

    #[test]
    fn clean_exit_with_warnings_is_ok() {
        let out = captured(Ended::Exited(0), "warning: frame 3 truncated\n");
        assert_eq!(classify(&out), Outcome::Ok);
    }

    #[test]
    fn damaged_input_read_up_to_the_damage_is_ok() {
        let out = captured(
            Ended::Exited(3),
            "pcapkit: warning: x.pcap: the file ends inside record 3\n",
        );
        assert_eq!(classify(&out), Outcome::Ok);
    }

    #[test]
    fn orderly_failure_is_an_error() {
        let out = captured(Ended::Exited(2), "error: not a capture file\n");
        assert_eq!(
            classify(&out),
            Outcome::Error {
                code: 2,
                message: "error: not a capture file".into()
            }
        );
    }

    #[test]
    fn panics_and_signals_are_crashes() {
        let panic = "thread 'main' panicked at src/x.rs:1:1:\nindex out of bounds\n";
        assert!(matches!(
            classify(&captured(Ended::Exited(101), panic)),
            Outcome::Crash(_)
        ));
        assert!(matches!(
            classify(&captured(Ended::Exited(101), "")),
            Outcome::Crash(_)
        ));
        assert!(matches!(
            classify(&captured(Ended::Exited(0), panic)),
            Outcome::Crash(_)
        ));
        assert_eq!(
            classify(&captured(Ended::Signalled(11), "")),
            Outcome::Crash("killed by signal 11".into())
        );
        assert_eq!(classify(&captured(Ended::TimedOut, "")), Outcome::Timeout);
    }
}
