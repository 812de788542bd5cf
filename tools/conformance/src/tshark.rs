//! The ground truth: tshark's `-T fields` output for the mapped fields.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::mapping::{FieldMap, Mode};
use crate::process::{self, Ended};
use crate::table::FieldTable;

/// tshark's frames for one file.
#[derive(Debug, Clone)]
pub struct TsharkRun {
    /// The rows it printed (also when it exited non-zero on a corrupt file).
    pub table: FieldTable,
    /// Its first diagnostic line, if it reported one or exited non-zero.
    pub message: Option<String>,
    /// It was killed at the time limit.
    pub timed_out: bool,
}

/// The preferences that turn tshark's reassembly off (every frame on its own).
const NO_REASSEMBLY: [&str; 3] = [
    "tcp.desegment_tcp_streams:FALSE",
    "ip.defragment:FALSE",
    "ipv6.defragment:FALSE",
];

/// The preferences that turn it on, as pcapkit's `--ip --tcp` does: IPv4/IPv6
/// defragmentation, TCP desegmentation, and out-of-order segments put in order (off by
/// default in tshark 4.0; pcapkit always orders them).
const REASSEMBLY: [&str; 4] = [
    "ip.defragment:TRUE",
    "ipv6.defragment:TRUE",
    "tcp.desegment_tcp_streams:TRUE",
    "tcp.reassemble_out_of_order:TRUE",
];

/// The arguments for one capture file: fields output, with or without reassembly.
pub fn arguments(file: &Path, fields: &[FieldMap], mode: Mode) -> Vec<String> {
    let mut args: Vec<String> = [
        "-n",
        "-r",
        &file.to_string_lossy(),
        "-T",
        "fields",
        "-E",
        "header=y",
        "-E",
        "separator=/t",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let preferences: &[&str] = match mode {
        Mode::Plain => &NO_REASSEMBLY,
        Mode::Reassembly => &REASSEMBLY,
    };
    for preference in preferences {
        args.push("-o".into());
        args.push(preference.to_string());
    }
    for field in fields {
        args.push("-e".into());
        args.push(field.tshark.into());
    }
    // Second names go last, so that the mapped fields keep their columns.
    for also in fields.iter().filter_map(|f| f.tshark_also) {
        args.push("-e".into());
        args.push(also.into());
    }
    args
}

/// Runs tshark on one file. Fails only if tshark cannot be started.
pub fn run(
    tshark: &Path,
    file: &Path,
    fields: &[FieldMap],
    mode: Mode,
    timeout: Duration,
) -> Result<TsharkRun, String> {
    let mut command = Command::new(tshark);
    command.args(arguments(file, fields, mode));
    let out = process::run(command, timeout)
        .map_err(|e| format!("cannot run {}: {e}", tshark.display()))?;
    let mut message = first_diagnostic(&out.stderr);
    if message.is_none() && out.ended != Ended::Exited(0) {
        message = Some(format!("tshark ended with {:?}", out.ended));
    }
    Ok(TsharkRun {
        table: FieldTable::parse(&out.stdout),
        message,
        timed_out: out.ended == Ended::TimedOut,
    })
}

/// tshark's version line (`TShark (Wireshark) 4.0.17 ...`).
pub fn version(tshark: &Path) -> Result<String, String> {
    let mut command = Command::new(tshark);
    command.arg("--version");
    let out = process::run(command, Duration::from_secs(30))
        .map_err(|e| format!("cannot run {}: {e}", tshark.display()))?;
    out.stdout
        .lines()
        .next()
        .map(str::to_string)
        .ok_or_else(|| format!("{} --version printed nothing", tshark.display()))
}

/// The first stderr line that is not tshark's "running as root" notice.
pub fn first_diagnostic(stderr: &str) -> Option<String> {
    stderr
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("Running as user"))
        .map(|l| l.strip_prefix("tshark: ").unwrap_or(l).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::{FIELDS, REASSEMBLY_FIELDS};

    /// The `-o` preferences among the arguments.
    fn preferences(args: &[String]) -> Vec<&str> {
        args.windows(2)
            .filter(|w| w[0] == "-o")
            .map(|w| w[1].as_str())
            .collect()
    }

    #[test]
    fn arguments_name_every_field() {
        let args = arguments(Path::new("x.pcap"), &FIELDS, Mode::Plain);
        assert_eq!(&args[..3], ["-n", "-r", "x.pcap"]);
        let fields: Vec<_> = args
            .windows(2)
            .filter(|w| w[0] == "-e")
            .map(|w| w[1].as_str())
            .collect();
        assert_eq!(fields.len(), FIELDS.len());
        assert_eq!(fields[0], "frame.number");
        assert_eq!(
            preferences(&args),
            [
                "tcp.desegment_tcp_streams:FALSE",
                "ip.defragment:FALSE",
                "ipv6.defragment:FALSE"
            ]
        );
    }

    #[test]
    fn reassembly_arguments_turn_reassembly_on() {
        let args = arguments(Path::new("x.pcap"), &REASSEMBLY_FIELDS, Mode::Reassembly);
        assert_eq!(&args[..3], ["-n", "-r", "x.pcap"]);
        assert_eq!(
            preferences(&args),
            [
                "ip.defragment:TRUE",
                "ipv6.defragment:TRUE",
                "tcp.desegment_tcp_streams:TRUE",
                "tcp.reassemble_out_of_order:TRUE"
            ]
        );
        assert!(!args.iter().any(|a| a.ends_with(":FALSE")));
        let fields: Vec<_> = args
            .windows(2)
            .filter(|w| w[0] == "-e")
            .map(|w| w[1].as_str())
            .collect();
        // Every mapped field, then the second names (TLS 1.3's opaque record type).
        assert_eq!(fields.len(), REASSEMBLY_FIELDS.len() + 1);
        assert!(fields.contains(&"http.content_length"));
        assert!(fields.contains(&"http2.streamid"));
        assert_eq!(fields.last(), Some(&"tls.record.opaque_type"));
    }

    #[test]
    fn root_notice_is_not_a_diagnostic() {
        let stderr = "Running as user \"root\" and group \"root\". This could be dangerous.\n\
                      tshark: The file \"x\" appears to be damaged or corrupt.\n";
        assert_eq!(
            first_diagnostic(stderr).as_deref(),
            Some("The file \"x\" appears to be damaged or corrupt.")
        );
        assert_eq!(first_diagnostic("Running as user \"root\"\n"), None);
    }
}
