//! The ground truth: tshark's `-T fields` output for the mapped fields.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::mapping::FieldMap;
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

/// The arguments for one capture file: fields output without reassembly.
pub fn arguments(file: &Path, fields: &[FieldMap]) -> Vec<String> {
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
        "-o",
        "tcp.desegment_tcp_streams:FALSE",
        "-o",
        "ip.defragment:FALSE",
        "-o",
        "ipv6.defragment:FALSE",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for field in fields {
        args.push("-e".into());
        args.push(field.tshark.into());
    }
    args
}

/// Runs tshark on one file. Fails only if tshark cannot be started.
pub fn run(
    tshark: &Path,
    file: &Path,
    fields: &[FieldMap],
    timeout: Duration,
) -> Result<TsharkRun, String> {
    let mut command = Command::new(tshark);
    command.args(arguments(file, fields));
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
    use crate::mapping::FIELDS;

    #[test]
    fn arguments_name_every_field() {
        let args = arguments(Path::new("x.pcap"), FIELDS);
        assert_eq!(&args[..3], ["-n", "-r", "x.pcap"]);
        let fields: Vec<_> = args
            .windows(2)
            .filter(|w| w[0] == "-e")
            .map(|w| w[1].as_str())
            .collect();
        assert_eq!(fields.len(), FIELDS.len());
        assert_eq!(fields[0], "frame.number");
        assert!(args.contains(&"tcp.desegment_tcp_streams:FALSE".to_string()));
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
