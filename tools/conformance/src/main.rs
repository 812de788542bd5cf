//! pcapkit-conformance: runs tshark (ground truth) and pcapkit over every capture of a
//! corpus, extracts the same fields per frame, and compares them value by value.
//!
//! Run from the workspace root: `cargo run --release -p pcapkit-conformance`.
//! See `tools/conformance/README.md` for the rules.

mod compare;
mod corpus;
mod follow;
mod known;
mod mapping;
mod normalise;
mod options;
mod pcapkit;
mod process;
mod report;
mod run;
mod table;
mod trace;
mod tshark;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use known::KnownDifferences;
use mapping::Mode;
use options::{Options, Request};
use run::{FileReport, Settings};

/// Exit status for bad usage or setup.
const SETUP_ERROR: u8 = 2;
/// Exit status when the conformance check fails.
const CHECK_FAILED: u8 = 1;

fn main() -> ExitCode {
    match options::parse(std::env::args().skip(1), &options::Env::from_process()) {
        Ok(Request::Help) => {
            emit(options::USAGE);
            ExitCode::SUCCESS
        }
        Ok(Request::Run(options)) => match check(&options) {
            Ok(code) => code,
            Err(message) => {
                eprintln!("pcapkit-conformance: {message}");
                ExitCode::from(SETUP_ERROR)
            }
        },
        Err(message) => {
            eprintln!("pcapkit-conformance: {message}");
            ExitCode::from(SETUP_ERROR)
        }
    }
}

/// Runs the whole check; `Err` is a setup problem.
fn check(options: &Options) -> Result<ExitCode, String> {
    if options.follow {
        return check_follow(options);
    }
    if options.trace {
        return check_trace(options);
    }
    let fields = options.mode.fields();
    let known = KnownDifferences::load(options.known_file(), fields)
        .map_err(|e| format!("{e} (run from the workspace root, or pass --known)"))?;
    let (files, tshark_version) = setup(options)?;
    emit(&format!(
        "tshark: {tshark_version}\npcapkit: {}\ncorpus: {} ({} files)\nmode: {}\n\n",
        options.pcapkit.display(),
        options.corpus.display(),
        files.len(),
        match options.mode {
            Mode::Plain => "no reassembly",
            Mode::Reassembly =>
                "reassembly (tshark defragments and desegments; pcapkit --ip --tcp)",
        }
    ));
    if !tshark_version.contains(" 4.0.") {
        eprintln!(
            "warning: the ground truth was established with tshark 4.0; this is {tshark_version}"
        );
    }
    let settings = Settings {
        mode: options.mode,
        pcapkit: options.pcapkit.clone(),
        tshark: options.tshark.clone(),
        timeout: options.timeout,
    };
    let reports = run::check_all(&files, &settings, &known, options.jobs)?;
    print_report(&reports, &known, options);
    Ok(verdict(&reports, options.min_percent()))
}

/// The follow check: each TCP direction's bytes, pcapkit's streams against tshark's.
fn check_follow(options: &Options) -> Result<ExitCode, String> {
    let (files, tshark_version) = setup(options)?;
    emit(&format!(
        "tshark: {tshark_version}\npcapkit: {} streams\ncorpus: {} ({} files)\nmode: follow\n\n",
        options.pcapkit.display(),
        options.corpus.display(),
        files.len()
    ));
    let settings = follow::FollowSettings {
        pcapkit: options.pcapkit.clone(),
        tshark: options.tshark.clone(),
        timeout: options.timeout,
    };
    let reports = follow::check_all(&files, &settings, options.jobs)?;
    emit(&follow::report(&reports, options.details));
    if follow::passes(&reports, options.min_percent()) {
        emit("\nPASS\n");
        Ok(ExitCode::SUCCESS)
    } else {
        emit("\nFAIL (a file could not be compared, or agreement is below --min)\n");
        Ok(ExitCode::from(CHECK_FAILED))
    }
}

/// The trace check: every trace file read back by tshark against the original frames.
fn check_trace(options: &Options) -> Result<ExitCode, String> {
    let (files, tshark_version) = setup(options)?;
    emit(&format!(
        "tshark: {tshark_version}\npcapkit: {} --trace-out\ncorpus: {} ({} files)\nmode: trace\n\n",
        options.pcapkit.display(),
        options.corpus.display(),
        files.len()
    ));
    let settings = trace::TraceSettings {
        pcapkit: options.pcapkit.clone(),
        tshark: options.tshark.clone(),
        timeout: options.timeout,
    };
    let reports = trace::check_all(&files, &settings, options.jobs)?;
    emit(&trace::report(&reports, options.details));
    if trace::passes(&reports, options.min_percent()) {
        emit("\nPASS\n");
        Ok(ExitCode::SUCCESS)
    } else {
        emit("\nFAIL (a capture could not be checked, or a frame differs)\n");
        Ok(ExitCode::from(CHECK_FAILED))
    }
}

/// The corpus files to check, once the pcapkit binary and tshark are known to be there
/// (with tshark's version).
fn setup(options: &Options) -> Result<(Vec<PathBuf>, String), String> {
    let files = corpus::list(&options.corpus)
        .map_err(|e| format!("{e} (run from the workspace root, or pass --corpus)"))?;
    let files = corpus::select(files, &options.files)?;
    require_binary(&options.pcapkit)?;
    let tshark_version = tshark::version(&options.tshark)?;
    Ok((files, tshark_version))
}

/// Fails early, with a hint, when the pcapkit binary is missing.
fn require_binary(path: &Path) -> Result<(), String> {
    // A bare name (no directory part) is looked up in PATH when run.
    if path.is_file() || path.components().count() == 1 {
        return Ok(());
    }
    Err(format!(
        "pcapkit binary not found at {} (build it: cargo build --release; or set \
         CARGO_TARGET_DIR as for that build; or pass --pcapkit)",
        path.display()
    ))
}

/// Prints every section of the report.
fn print_report(reports: &[FileReport], known: &KnownDifferences, options: &Options) {
    emit(&report::file_table(reports, options.min_percent()));
    for section in [
        report::notes(reports),
        report::field_summary(reports, options.mode.fields(), options.all_fields),
        report::protocol_summary(reports, options.mode.fields()),
        report::unused_known(reports, known),
    ] {
        if !section.is_empty() {
            emit(&format!("\n{section}"));
        }
    }
    if options.details {
        emit(&format!("\n{}", report::details(reports, known)));
    }
}

/// Prints the verdict and gives the exit status.
fn verdict(reports: &[FileReport], min: f64) -> ExitCode {
    let failures = report::failures(reports, min);
    if failures.is_empty() {
        emit("\nPASS\n");
        return ExitCode::SUCCESS;
    }
    let listed: String = failures.iter().map(|f| format!("  - {f}\n")).collect();
    emit(&format!("\nFAIL\n{listed}"));
    ExitCode::from(CHECK_FAILED)
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a panic.
fn emit(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
