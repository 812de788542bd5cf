//! `pcapkit streams` and `pcapkit follow`: TCP connections, read with IP defragmentation
//! and TCP reassembly on.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use pcapkit::extract::streams::{follow_text, write_ndjson, FollowFormat};
use pcapkit::{Error, Extractor, ExtractorBuilder};

/// `pcapkit streams`.
#[derive(clap::Args)]
pub struct StreamsArgs {
    /// Capture file (pcap or pcapng); `-` reads standard input.
    input: PathBuf,

    /// Output file; `-` (the default) is standard output.
    #[arg(short, long, value_name = "OUT", default_value = "-")]
    output: PathBuf,

    /// Add each direction's data, in hex, as `payload`.
    #[arg(long)]
    payload: bool,
}

/// `pcapkit follow`.
#[derive(clap::Args)]
pub struct FollowArgs {
    /// Capture file (pcap or pcapng); `-` reads standard input.
    input: PathBuf,

    /// The stream (`tcp.stream`, as `pcapkit streams` numbers them).
    stream: u64,

    /// ascii: printable text, each chunk after its length; raw: hex, a line a chunk.
    #[arg(long, value_name = "FORMAT", default_value_t = FollowFormat::Ascii,
          value_parser = |s: &str| s.parse::<FollowFormat>())]
    format: FollowFormat,
}

/// Every TCP connection as NDJSON. Whether the capture was damaged (the reader stopped
/// early: the command then exits as the main one does).
pub fn streams(args: StreamsArgs) -> Result<bool, Error> {
    let extractor = read(&args.input, |b| b.connections(args.payload))?;
    let connections = extractor.connections();
    write_ndjson(connections, &args.input, &args.output)?;
    if args.output != Path::new("-") {
        eprintln!(
            "pcapkit: {} TCP connections written to {}",
            connections.len(),
            args.output.display()
        );
    }
    Ok(!extractor.warnings().is_empty())
}

/// One conversation, as `tshark -q -z follow,tcp,FORMAT,N` prints it. Whether the capture
/// was damaged.
pub fn follow(args: FollowArgs) -> Result<bool, Error> {
    let extractor = read(&args.input, |b| b.chunks(args.stream))?;
    let connections = extractor.connections();
    let Some(c) = connections.iter().find(|c| c.stream == args.stream) else {
        return Err(Error::Usage(format!(
            "no TCP stream {} in {} (it has {}: 0 to {})",
            args.stream,
            args.input.display(),
            connections.len(),
            connections.len().saturating_sub(1)
        )));
    };
    io::stdout()
        .write_all(&follow_text(c, args.format))
        .map_err(|source| Error::Write {
            path: "standard output".into(),
            source,
        })?;
    Ok(!extractor.warnings().is_empty())
}

/// Reads the whole capture, IP fragments and TCP streams reassembled, writing nothing.
fn read(
    input: &Path,
    keep: impl FnOnce(ExtractorBuilder) -> ExtractorBuilder,
) -> Result<Extractor, Error> {
    let builder = Extractor::builder()
        .input(input)
        .store(false)
        .ip(true)
        .tcp(true)
        .threads_apart(true)
        .progress(true);
    let extractor = keep(builder).run()?;
    // The reader warns only of damage: it stops there.
    for w in extractor.warnings() {
        eprintln!("pcapkit: warning: {w}");
    }
    Ok(extractor)
}
