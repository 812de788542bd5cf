//! End-to-end runs of the binary against fake `tshark` and `pcapkit` shell scripts, so
//! that neither tool (nor a real corpus) is needed.
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fake tshark: prints a version, or a fixed table for `-r a.pcap`.
const FAKE_TSHARK: &str = r#"#!/bin/sh
if [ "$1" = "--version" ]; then echo "TShark (Wireshark) 4.0.17 (fake)"; exit 0; fi
if [ "$MODE" = reassembly ]; then
  case "$*" in
    *ip.defragment:TRUE*tcp.desegment_tcp_streams:TRUE*tcp.reassemble_out_of_order:TRUE*-e\ tcp.stream*) ;;
    *) echo "tshark: not asked to reassemble" >&2; exit 3 ;;
  esac
  case "$3" in
    *a.pcap) printf 'frame.number\ttcp.stream\ttcp.len\n1\t0\t0\n2\t0\t10\n'; exit 0 ;;
  esac
fi
case "$3" in
  *a.pcap) printf 'frame.number\teth.type\tip.hdr_len\ttcp.flags\n1\t0x0800\t20\t0x0012\n2\t0x0800\t24\t0x0010\n' ;;
  *b.pcap) echo "tshark: The file appears to be damaged or corrupt." >&2; exit 2 ;;
esac
"#;

/// A fake pcapkit: its behaviour on `a.pcap` is chosen by `$MODE`.
const FAKE_PCAPKIT: &str = r#"#!/bin/sh
case "$1" in
  *b.pcap) echo "error: not a capture file" >&2; exit 1 ;;
esac
header='frame.number	ethernet.type	ipv4.ihl	tcp.flags'
case "$MODE" in
  reassembly)
    case "$*" in *" --ip --tcp "*) ;; *) echo "error: not asked to reassemble" >&2; exit 2 ;; esac
    printf 'frame.number\ttcp.stream\ttcp.len\n1\t0\t0\n2\t0\t9\n' ;;
  ok)    printf '%s\n1\t2048\t5\t18\n2\t2048\t6\t16\n' "$header" ;;
  diff)  printf '%s\n1\t2048\t5\t18\n2\t2048\t6\t0x10\n' "$header" ;;
  crash) printf '%s\n1\t2048\t5\t18\n' "$header"
         echo "thread 'main' panicked at src/lib.rs:1:1:" >&2; echo "boom" >&2; exit 101 ;;
esac
"#;

const KNOWN_TCP_FLAGS: &str = r#"
[[difference]]
file   = "a.pcap"
field  = "tcp.flags"
frames = "2"
reason = "test explanation"
"#;

/// A fresh scratch folder with the fake tools, a two-file corpus and a known file.
fn scratch(known: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "pcapkit-conformance-test-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("corpus")).unwrap();
    fs::write(dir.join("corpus/a.pcap"), b"").unwrap();
    fs::write(dir.join("corpus/b.pcap"), b"").unwrap();
    fs::write(dir.join("corpus/notes.txt"), b"").unwrap();
    fs::write(dir.join("known.toml"), known).unwrap();
    script(&dir.join("tshark"), FAKE_TSHARK);
    script(&dir.join("pcapkit"), FAKE_PCAPKIT);
    dir
}

fn script(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

fn run(dir: &Path, mode: &str, extra: &[&str]) -> (i32, String) {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_pcapkit-conformance"))
        .current_dir(dir)
        .env("MODE", mode)
        .args(["--corpus", "corpus", "--known", "known.toml"])
        .args([
            "--tshark",
            "./tshark",
            "--pcapkit",
            "./pcapkit",
            "--jobs",
            "2",
        ])
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let _ = fs::remove_dir_all(dir);
    (out.status.code().unwrap_or(-1), stdout)
}

#[test]
fn agreeing_output_passes() {
    let (code, out) = run(&scratch(""), "ok", &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("TOTAL (2 files)"), "{out}");
    assert!(out.contains("agreement 100.000%"), "{out}");
    // b.pcap: both tools reject it, nothing to compare.
    assert!(
        out.contains("pcapkit exit 1: error: not a capture file"),
        "{out}"
    );
    assert!(out.trim_end().ends_with("PASS"), "{out}");
}

#[test]
fn unexplained_difference_fails() {
    let (code, out) = run(&scratch(""), "diff", &["--details", "--min", "50"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("DIFF"), "{out}");
    assert!(
        out.contains("a.pcap\t2\ttcp.flags\t16 [0x0010]\t0x10\t-"),
        "{out}"
    );
    assert!(out.contains("1 disagreement(s) not covered"), "{out}");
}

#[test]
fn explained_difference_passes_above_the_minimum() {
    let (code, out) = run(&scratch(KNOWN_TCP_FLAGS), "diff", &["--min", "80"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(&scratch(KNOWN_TCP_FLAGS), "diff", &["--min", "99.5"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("below the minimum"), "{out}");
}

#[test]
fn crash_fails_and_counts_missing_frames() {
    let (code, out) = run(&scratch(""), "crash", &["--file", "a.pcap", "--min", "0"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("CRASH"), "{out}");
    assert!(out.contains("panicked at src/lib.rs:1:1: boom"), "{out}");
    assert!(out.contains("2/1"), "{out}");
}

#[test]
fn stale_known_difference_is_listed() {
    let (code, out) = run(&scratch(KNOWN_TCP_FLAGS), "ok", &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("matched no disagreement"), "{out}");
}

#[test]
fn reassembly_mode_reassembles_and_compares_stream_fields() {
    let known = "[[difference]]\nfile=\"a.pcap\"\nfield=\"tcp.len\"\nframes=\"2\"\nreason=\"r\"\n";
    let (code, out) = run(
        &scratch(known),
        "reassembly",
        &[
            "--reassembly",
            "--details",
            "--file",
            "a.pcap",
            "--min",
            "50",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("mode: reassembly"), "{out}");
    assert!(out.contains("a.pcap\t2\ttcp.len\t10\t9\tr"), "{out}");
    // The default mode does not know tcp.stream: a known difference naming it is a typo.
    let (code, _) = run(&scratch(known), "ok", &[]);
    assert_eq!(code, 2);
}

/// Runs `exe` in `dir` without `--pcapkit`, with `CARGO_TARGET_DIR` set to `target_dir`
/// or unset, and the fake pcapkit agreeing with the fake tshark.
fn run_default_pcapkit(exe: &Path, dir: &Path, target_dir: Option<&str>) -> (i32, String) {
    let mut command = Command::new(exe);
    command
        .current_dir(dir)
        .env("MODE", "ok")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .args(["--corpus", "corpus", "--known", "known.toml"])
        .args(["--tshark", "./tshark", "--file", "a.pcap"]);
    if let Some(target_dir) = target_dir {
        command.env("CARGO_TARGET_DIR", target_dir);
    }
    // `exe` may be a copy this test just wrote: while another test thread forks, its
    // child holds the copy's write descriptor until it execs, and Linux refuses to run
    // a file open for writing (ETXTBSY). That window is short: try again.
    let mut tries = 0;
    let out = loop {
        match command.output() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 200 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => break other.unwrap(),
        }
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn pcapkit_is_found_under_cargo_target_dir() {
    let dir = scratch("");
    fs::create_dir_all(dir.join("elsewhere/release")).unwrap();
    fs::rename(dir.join("pcapkit"), dir.join("elsewhere/release/pcapkit")).unwrap();
    let exe = Path::new(env!("CARGO_BIN_EXE_pcapkit-conformance"));
    let (code, out) = run_default_pcapkit(exe, &dir, Some("elsewhere"));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("pcapkit: elsewhere/release/pcapkit\n"),
        "{out}"
    );
    assert!(out.contains("agreement 100.000%"), "{out}");
    // A target directory without pcapkit is a setup error that names where it looked.
    let (code, out) = run_default_pcapkit(exe, &dir, Some("nowhere"));
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("not found at nowhere/release/pcapkit"),
        "{out}"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn pcapkit_is_found_beside_the_tool_without_cargo_target_dir() {
    // A target directory of its own, as a cargo config's target-dir would give: the
    // tool in <target>/release, pcapkit beside it, and no target/ in the current one.
    let dir = scratch("");
    let release = dir.join("build/release");
    fs::create_dir_all(&release).unwrap();
    let exe = release.join("pcapkit-conformance");
    fs::copy(env!("CARGO_BIN_EXE_pcapkit-conformance"), &exe).unwrap();
    fs::rename(dir.join("pcapkit"), release.join("pcapkit")).unwrap();
    let (code, out) = run_default_pcapkit(&exe, &dir, None);
    assert_eq!(code, 0, "{out}");
    let expected = format!("pcapkit: {}\n", release.join("pcapkit").display());
    assert!(out.contains(&expected), "{out}");
    assert!(out.contains("agreement 100.000%"), "{out}");
    let _ = fs::remove_dir_all(&dir);
}
