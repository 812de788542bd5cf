//! Command-line options (std only).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::mapping::Mode;

/// Known differences without reassembly.
const KNOWN_PLAIN: &str = "tools/conformance/known-differences.toml";
/// Known differences with reassembly (other fields, other frames: a file of their own).
const KNOWN_REASSEMBLY: &str = "tools/conformance/known-differences-reassembly.toml";

/// The usage text.
pub const USAGE: &str = "\
pcapkit-conformance: compare pcapkit's fields output with tshark over a capture corpus

Run from the workspace root:  cargo run --release -p pcapkit-conformance -- [OPTIONS]
Relative paths are resolved against the current directory.

Options:
  --corpus DIR        capture folder (*.pcap, *.pcapng)   [../shared/corpus/public]
  --pcapkit PATH      pcapkit binary                       [release/pcapkit in cargo's target
                      directory: $CARGO_TARGET_DIR when set, else the one this tool was
                      built in, else ./target]
  --tshark PATH       tshark binary                        [tshark]
  --known FILE        known differences                    [tools/conformance/known-differences.toml,
                      with --reassembly tools/conformance/known-differences-reassembly.toml]
  --reassembly        both tools reassemble: tshark defragments IPv4/IPv6 and desegments
                      TCP (out-of-order too), pcapkit runs with --ip --tcp; tcp.stream,
                      tcp.len, http.content_length and the HTTP/2 fields (type, stream,
                      method, path, status, authority) are compared as well
  --follow            instead of fields: every TCP connection's bytes, each direction,
                      from `pcapkit streams` against tshark's `-z follow,tcp,raw,N`
                      (length and SHA-256; connections pcapkit lost bytes in are left out)
  --trace             instead of fields: trace every capture with pcapkit --trace-out in
                      pcap and pcapng, both byte orders, both resolutions, and check with
                      tshark that each trace file holds exactly its connection's frames
                      (bytes, lengths, times), by tshark's tcp.stream on the original
  --file NAME         check only this corpus file (repeatable)
  --details           print every disagreement
  --all-fields        list every compared field in the per-field table, not only
                      those with disagreements
  --min PERCENT       minimum agreement over compared cells [99.5; --follow: 98,
                      the share of directions issue 5 asks for; --trace: 100]
  --jobs N            files checked in parallel            [available cores]
  --timeout SECONDS   time limit per tool run              [120]
  -h, --help          this text

Exit status: 0 pass; 1 a crash or hang, agreement below --min, or a disagreement not
in the known differences; 2 bad usage or setup (missing binary, corpus or known file).
";

/// Parsed options.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Without reassembly (the default) or with it (`--reassembly`).
    pub mode: Mode,
    /// Compare followed TCP streams instead of fields (`--follow`).
    pub follow: bool,
    pub trace: bool,
    pub corpus: PathBuf,
    pub pcapkit: PathBuf,
    pub tshark: PathBuf,
    /// `--known`; when absent, the mode's own file ([`Options::known_file`]).
    pub known: Option<PathBuf>,
    pub files: Vec<String>,
    pub details: bool,
    /// The per-field table lists every compared field.
    pub all_fields: bool,
    /// `--min`; when absent, the mode's own minimum ([`Options::min_percent`]).
    pub min: Option<f64>,
    pub jobs: usize,
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mode: Mode::Plain,
            follow: false,
            trace: false,
            corpus: "../shared/corpus/public".into(),
            pcapkit: "target/release/pcapkit".into(),
            tshark: "tshark".into(),
            known: None,
            files: Vec::new(),
            details: false,
            all_fields: false,
            min: None,
            jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            timeout: Duration::from_secs(120),
        }
    }
}

impl Options {
    /// The minimum agreement: `--min`, else 99.5 % of cells, or 98 % of directions for
    /// `--follow`.
    pub fn min_percent(&self) -> f64 {
        self.min.unwrap_or(if self.trace {
            100.0
        } else if self.follow {
            98.0
        } else {
            99.5
        })
    }

    /// The known-differences file: `--known`, or the default of the mode (the two modes
    /// compare different fields on different frames, so each has its own list).
    pub fn known_file(&self) -> &Path {
        match (&self.known, self.mode) {
            (Some(path), _) => path,
            (None, Mode::Plain) => Path::new(KNOWN_PLAIN),
            (None, Mode::Reassembly) => Path::new(KNOWN_REASSEMBLY),
        }
    }
}

/// The name of the pcapkit binary on this platform.
const PCAPKIT_BIN: &str = if cfg!(windows) {
    "pcapkit.exe"
} else {
    "pcapkit"
};

/// What the defaults depend on besides the command line.
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// `CARGO_TARGET_DIR` (or `CARGO_BUILD_TARGET_DIR`), as cargo reads it.
    pub target_dir: Option<OsString>,
    /// This tool's own executable.
    pub exe: Option<PathBuf>,
}

impl Env {
    pub fn from_process() -> Env {
        Env {
            target_dir: std::env::var_os("CARGO_TARGET_DIR")
                .or_else(|| std::env::var_os("CARGO_BUILD_TARGET_DIR"))
                .filter(|d| !d.is_empty()),
            exe: std::env::current_exe().ok(),
        }
    }
}

/// The pcapkit binary when `--pcapkit` is not given: `release/pcapkit` in the target
/// directory `cargo build --release` wrote it to. That is `CARGO_TARGET_DIR` when set
/// (relative to the current directory, as cargo takes it); else the directory this tool
/// was built in (it runs from `<target>/release/`), when pcapkit is there; else
/// `target/` in the current directory (the workspace root).
pub fn default_pcapkit(env: &Env) -> PathBuf {
    if let Some(dir) = &env.target_dir {
        return Path::new(dir).join("release").join(PCAPKIT_BIN);
    }
    let built_beside = env
        .exe
        .as_deref()
        .and_then(|exe| exe.parent()?.parent())
        .map(|target| target.join("release").join(PCAPKIT_BIN));
    match built_beside {
        Some(path) if path.is_file() => path,
        _ => Path::new("target").join("release").join(PCAPKIT_BIN),
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Help,
    Run(Options),
}

/// Parses the arguments (without the program name). Accepts `--opt VALUE` and
/// `--opt=VALUE`.
pub fn parse<I: IntoIterator<Item = String>>(args: I, env: &Env) -> Result<Request, String> {
    let mut options = Options {
        pcapkit: default_pcapkit(env),
        ..Options::default()
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Request::Help),
            "--details" => options.details = true,
            "--all-fields" => options.all_fields = true,
            "--reassembly" => options.mode = Mode::Reassembly,
            "--follow" => options.follow = true,
            "--trace" => options.trace = true,
            "--corpus" => options.corpus = value()?.into(),
            "--pcapkit" => options.pcapkit = value()?.into(),
            "--tshark" => options.tshark = value()?.into(),
            "--known" => options.known = Some(value()?.into()),
            "--file" => options.files.push(value()?),
            "--min" => options.min = Some(parse_percent(&value()?)?),
            "--jobs" => options.jobs = parse_number(&name, &value()?)?.max(1) as usize,
            "--timeout" => options.timeout = Duration::from_secs(parse_number(&name, &value()?)?),
            _ => return Err(format!("unknown argument {name} (see --help)")),
        }
    }
    Ok(Request::Run(options))
}

/// A percentage between 0 and 100.
fn parse_percent(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('%').parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!(
            "--min wants a percentage from 0 to 100, not {text}"
        )),
    }
}

/// A whole positive number.
fn parse_number(name: &str, text: &str) -> Result<u64, String> {
    text.parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{name} wants a positive whole number, not {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Options, String> {
        match parse(args.iter().map(|s| s.to_string()), &Env::default())? {
            Request::Run(options) => Ok(options),
            Request::Help => Err("help".into()),
        }
    }

    #[test]
    fn defaults() {
        let o = run(&[]).unwrap();
        assert_eq!(o.corpus, PathBuf::from("../shared/corpus/public"));
        assert_eq!(o.pcapkit, PathBuf::from("target/release/pcapkit"));
        assert_eq!(o.min_percent(), 99.5);
        assert!(!o.details && o.files.is_empty());
        assert_eq!(o.mode, Mode::Plain);
        assert_eq!(o.known_file(), Path::new(KNOWN_PLAIN));
    }

    #[test]
    fn pcapkit_is_found_in_the_target_directory() {
        let dir = std::env::temp_dir().join(format!("pcapkit-conformance-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let release = dir.join("target-x/release");
        std::fs::create_dir_all(&release).unwrap();
        let exe = release.join("pcapkit-conformance");
        // CARGO_TARGET_DIR wins, relative or not, whether or not pcapkit is there yet.
        let env = Env {
            target_dir: Some("elsewhere".into()),
            exe: Some(exe.clone()),
        };
        assert_eq!(
            default_pcapkit(&env),
            Path::new("elsewhere/release").join(PCAPKIT_BIN)
        );
        // Without it: beside this tool's own build, once pcapkit is there...
        let env = Env {
            target_dir: None,
            exe: Some(exe),
        };
        assert_eq!(
            default_pcapkit(&env),
            Path::new("target/release").join(PCAPKIT_BIN)
        );
        std::fs::write(release.join(PCAPKIT_BIN), b"").unwrap();
        assert_eq!(default_pcapkit(&env), release.join(PCAPKIT_BIN));
        // ...and the option wins over both.
        match parse(["--pcapkit".to_string(), "/x/pcapkit".into()], &env).unwrap() {
            Request::Run(o) => assert_eq!(o.pcapkit, PathBuf::from("/x/pcapkit")),
            Request::Help => panic!("not help"),
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn reassembly_mode_has_its_own_known_differences() {
        let o = run(&["--reassembly"]).unwrap();
        assert_eq!(o.mode, Mode::Reassembly);
        assert_eq!(
            o.known_file(),
            Path::new("tools/conformance/known-differences-reassembly.toml")
        );
        let o = run(&["--reassembly", "--known", "k.toml"]).unwrap();
        assert_eq!(o.known_file(), Path::new("k.toml"));
        assert_eq!(run(&["--known=k.toml"]).unwrap().mode, Mode::Plain);
    }

    #[test]
    fn follow_is_a_flag() {
        assert!(run(&["--follow"]).unwrap().follow);
        assert!(!run(&[]).unwrap().follow);
    }

    #[test]
    fn values_separate_or_inline() {
        let o = run(&[
            "--pcapkit",
            "/x/pcapkit",
            "--min=98",
            "--file",
            "a.pcap",
            "--file=b.pcap",
            "--details",
            "--all-fields",
            "--jobs",
            "3",
            "--timeout=5",
        ])
        .unwrap();
        assert_eq!(o.pcapkit, PathBuf::from("/x/pcapkit"));
        assert_eq!(o.min, Some(98.0));
        assert_eq!(o.files, ["a.pcap", "b.pcap"]);
        assert!(o.details && o.all_fields);
        assert_eq!(o.jobs, 3);
        assert_eq!(o.timeout, Duration::from_secs(5));
    }

    #[test]
    fn errors_and_help() {
        assert!(run(&["--min", "101"]).is_err());
        assert!(run(&["--min"]).is_err());
        assert!(run(&["--jobs", "0"]).is_err());
        assert!(run(&["--bogus"]).is_err());
        assert_eq!(run(&["--help"]), Err("help".into()));
    }
}
