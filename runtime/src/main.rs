//! The `pcapkit` command line: see `pcapkit --help`.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use clap::{Parser, Subcommand};

mod cli {
    pub mod streams;
}

// Headers with options and text allocate a little per frame; mimalloc makes that cheap.
// Built without transparent huge pages (Cargo.toml): with them every thread's heap was
// touched 2 MiB at a time, doubling the peak memory of multi-threaded runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use pcapkit::chain::{Reassembled, ReassemblyKind};
use pcapkit::dump::FRAME_FIELDS;
use pcapkit::protocols::ProtocolId;
use pcapkit::reassembly::ReassemblyOptions;
use pcapkit::{EngineKind, Error, Extractor, Format, Level};

const AFTER_HELP: &str = "\
Examples:
  pcapkit capture.pcap                          JSON of every frame on standard output
  pcapkit capture.pcapng -o out.json            the same, into out.json (written whole or not at all)
  pcapkit capture.pcap -f ndjson | jq .protocols
  pcapkit capture.pcap -f tree | less          PyPCAPKit's text tree, a block per frame
  pcapkit capture.pcap -o out.plist             an XML property list (plistlib.load reads it)
  pcapkit capture.pcap --files -o frames/       frames/headers.json, frames/frame-000001.json, ...
  pcapkit capture.pcap -e frame.number -e ipv4.src -e tcp.dstport
  pcapkit capture.pcap --layer transport -f ndjson   stop after TCP/UDP; the payload stays Raw
  pcapkit capture.pcap --nofile -v              dissect only, one line a frame on standard error
  pcapkit capture.pcap -d tcp.port==8080,http2 -d udp.port==5300,dns
                                                ports bound to protocols by hand, like tshark -d
  pcapkit capture.pcap --ip --tcp -e frame.number -e tcp.stream -e http.method
                                                reassemble IP fragments and HTTP messages across segments
  cat capture.pcap | pcapkit -                  read standard input
  pcapkit capture.pcap --engine pipeline --threads 2 -o out.json
                                                the same output, dissected on two worker threads
  pcapkit capture.pcap --ip --tcp --engine server
                                                reassembly spread over the cores by host pair
  pcapkit capture.pcap --trace --nofile        a pcap per TCP connection in capture.pcap.trace/, and index.ndjson
  pcapkit capture.pcap --trace-out flows --trace-format json --trace-direction one-way
                                                a JSON dissection per TCP direction in flows/
  pcapkit streams capture.pcap                  one NDJSON line per TCP connection: endpoints, frames,
                                                bytes and SHA-256 each way, gaps, protocol
  pcapkit streams capture.pcap --payload -o s.ndjson   the same with each direction's data in hex
  pcapkit follow capture.pcap 0                 TCP stream 0 as text, like tshark -z follow,tcp,ascii,0
  pcapkit follow capture.pcap 0 --format raw    the same in hex, like tshark -z follow,tcp,raw,0
  pcapkit protocols                             every protocol, its layer and where it is found
  pcapkit fields --list                         every field path for -e

Exit status:
  0    the capture was read to its end
  1    an error: the input cannot be opened or is not a capture; the output cannot be
       written (nothing is left behind)
  2    a usage error: an unknown option, value or field
  3    the input is damaged or of an unsupported variant: every frame before the damage
       was written, and a warning on standard error says what is wrong and at which offset
  129, 130, 143   stopped by SIGHUP, SIGINT (Ctrl-C) or SIGTERM: the output was not
       written, and a file it would have replaced is untouched";

/// Exit statuses, as `--help` and the README document them (2 is also clap's).
const EXIT_ERROR: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_DAMAGED: u8 = 3;

/// How a run that did not fail went.
enum Outcome {
    /// Read to the end.
    Clean,
    /// Read up to damage, reported in warnings.
    Damaged,
}

impl Outcome {
    fn of(damaged: bool) -> Outcome {
        if damaged {
            Outcome::Damaged
        } else {
            Outcome::Clean
        }
    }
}

/// Dissect pcap and pcapng captures through every layer and dump what was found.
#[derive(Parser)]
#[command(name = "pcapkit", version, about, after_help = AFTER_HELP, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// Capture file (pcap or pcapng); `-` reads standard input.
    input: Option<PathBuf>,

    /// Output file; `-` (the default) is standard output.
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,

    /// Output format: json, ndjson, fields, plist or tree [default: from the output's
    /// extension (.json, .ndjson/.jsonl, .tsv, .plist, .txt/.tree), `fields` with -e, else json].
    #[arg(short, long, value_parser = parse_format)]
    format: Option<Format>,

    /// A column of the `fields` format (repeat for more); implies `-f fields`.
    #[arg(short = 'e', long = "field", value_name = "FIELD")]
    fields: Vec<String>,

    /// Stop after this layer: link, internet, transport or application.
    #[arg(long, value_parser = parse_level)]
    layer: Option<Level>,

    /// Stop after this protocol (a spec id or name, any case: tcp, IPv4).
    #[arg(long, value_parser = parse_protocol)]
    protocol: Option<ProtocolId>,

    /// Dissect the payload of a TCP or UDP port as a protocol, before the port tables,
    /// with tshark's -d syntax: LAYER==PORT,PROTOCOL where LAYER is tcp.port or udp.port,
    /// PORT a port, a range (8080-8090) or a first port and a count (8080:3), and
    /// PROTOCOL a tshark name (http, http2, tls, ssl, dns, mdns, llmnr, ftp, ftp-data,
    /// dhcp, bootp, ssdp) or a spec id (pcapkit protocols). Either direction matches; when
    /// both ports are named the lower wins. Repeat for more; with --tcp a protocol with
    /// stream framing (http, http2, tls, dns) is cut into messages on those ports.
    /// Example: --decode-as tcp.port==8080,http2 --decode-as udp.port==5300,dns
    #[arg(long = "decode-as", short = 'd', value_name = "RULE", value_parser = parse_decode_as)]
    decode_as: Vec<pcapkit::flow::decode_as::Rule>,

    /// Dissect without writing any output; print a summary on standard error.
    #[arg(long)]
    nofile: bool,

    /// Append the format's extension (.json, .ndjson, .tsv, .plist, .txt) to the output
    /// name when it lacks it.
    #[arg(long)]
    extension: bool,

    /// Write a directory OUT (new or empty): headers.EXT and frame-000001.EXT, ... one
    /// document per frame (json, plist or tree).
    #[arg(long)]
    files: bool,

    /// Print every frame's number and protocol chain on standard error.
    #[arg(short, long)]
    verbose: bool,

    #[command(flatten)]
    engine: EngineArgs,

    #[command(flatten)]
    reassembly: ReassemblyArgs,

    #[command(flatten)]
    trace: TraceArgs,
}

/// Engines: how the work is spread over threads. Every engine writes the same output.
#[derive(clap::Args)]
#[command(next_help_heading = "Engines")]
struct EngineArgs {
    /// Every engine writes the same output.
    /// default (alias pcapkit): a reader thread; dissection on the main thread, and on the reader's while the writer lags.
    /// pipeline: batches dissected by --threads workers in parallel and put back in capture order; reassembly and tracing then run in order.
    /// server: frames shared out to --threads workers by their pair of IP addresses; each worker dissects and reassembles its own flows, and the results are merged by frame number (tcp.stream numbered in order of first appearance). Each worker has 1/N of --reassembly-memory: past that budget, what is given up on (and when) may differ from the default engine's. Not for one stream's chunks (follow).
    /// Third-party backends (PyPCAPKit's dpkt, scapy, pyshark), without reassembly; their layers are Raw layers under the backend's names:
    /// etherparse (alias dpkt): the etherparse crate decodes each frame, up to TCP/UDP/ICMP.
    /// pnet (alias scapy): the pnet_packet crate's packet views, up to TCP/UDP/ICMP.
    /// tshark (alias pyshark): runs `tshark -r FILE -T json` (tshark on PATH, or $PCAPKIT_TSHARK) and maps what it reports.
    #[arg(
        long,
        value_name = "ENGINE",
        default_value = "default",
        verbatim_doc_comment
    )]
    engine: EngineKind,

    /// Worker threads of the pipeline and server engines [default: the cores available]. With 2 or more, the output's text is also made by N workers after reassembly and written in capture order.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
}

/// Flow tracing: a file per TCP connection.
#[derive(clap::Args)]
#[command(next_help_heading = "Flow tracing")]
struct TraceArgs {
    /// Write every TCP connection's frames into a file of its own, plus index.ndjson,
    /// in the directory given by --trace-out (by default INPUT-NAME.trace here). A flow
    /// ends at its FIN exchange, a RST, or the end of the capture.
    #[arg(long)]
    trace: bool,

    /// The trace directory (new or empty; written whole or not at all); implies --trace.
    #[arg(long, value_name = "DIR")]
    trace_out: Option<PathBuf>,

    /// What each flow's file holds: its original records (pcap, pcapng) or its frames'
    /// dissection (json, ndjson, plist, tree).
    #[arg(long, value_name = "FORMAT", default_value = "pcap")]
    trace_format: pcapkit::trace::TraceFormat,

    /// Byte order of pcap and pcapng traces.
    #[arg(long, value_name = "ORDER", default_value = "little", value_parser = parse_byte_order)]
    trace_byteorder: pcapkit::reader::ByteOrder,

    /// Times in nanoseconds in pcap and pcapng traces (microseconds otherwise; a
    /// microsecond input's times are multiplied by 1000, never left unscaled).
    #[arg(long)]
    trace_nanosecond: bool,

    /// `both`: a file per connection; `one-way`: a file per direction, as PyPCAPKit.
    #[arg(long, value_name = "DIRECTION", default_value = "both")]
    trace_direction: pcapkit::trace::TraceDirection,
}

fn parse_byte_order(s: &str) -> Result<pcapkit::reader::ByteOrder, String> {
    match s.to_ascii_lowercase().as_str() {
        "little" => Ok(pcapkit::reader::ByteOrder::Little),
        "big" => Ok(pcapkit::reader::ByteOrder::Big),
        _ => Err(format!("unknown byte order `{s}` (known: little, big)")),
    }
}

/// Reassembly: state across frames.
#[derive(clap::Args)]
#[command(next_help_heading = "Reassembly")]
struct ReassemblyArgs {
    /// Reassemble fragmented IPv4 and IPv6 datagrams: the frame with the last missing
    /// fragment carries the datagram's dissection.
    #[arg(long)]
    ip: bool,

    /// Reassemble fragmented IPv4 datagrams only.
    #[arg(long)]
    ipv4: bool,

    /// Reassemble fragmented IPv6 packets only.
    #[arg(long)]
    ipv6: bool,

    /// Follow TCP streams: number connections (tcp.stream) and dissect HTTP messages
    /// across segments; the frame that completes a message carries it.
    #[arg(long)]
    tcp: bool,

    /// Also dissect incomplete datagrams and messages (over the bytes that arrived);
    /// they stay marked incomplete, with their holes.
    #[arg(long)]
    no_strict: bool,

    /// Memory all pending fragments and stream data may hold, in MiB; past it the
    /// oldest is given up on and reported incomplete.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    reassembly_memory: usize,

    /// Memory one TCP direction may hold (out-of-order data, a message being put
    /// together), in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 16)]
    stream_memory: usize,

    /// Seconds (capture time) an incomplete IPv4 datagram waits for its fragments.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    ipv4_timeout: u32,

    /// Seconds (capture time) an incomplete IPv6 packet waits for its fragments.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    ipv6_timeout: u32,
}

/// What reassembly put together, for the `--nofile` summary.
#[derive(Default)]
struct ReassemblyTally {
    /// Complete and incomplete, per kind: IPv4, IPv6, TCP, HTTP/2 bodies.
    done: [(u64, u64); 4],
}

impl ReassemblyTally {
    fn count(&mut self, r: &Reassembled) {
        let kind = match r.kind {
            ReassemblyKind::Ipv4 => 0,
            ReassemblyKind::Ipv6 => 1,
            ReassemblyKind::Tcp => 2,
            ReassemblyKind::Http2Body => 3,
        };
        let slot = &mut self.done[kind];
        if r.completed {
            slot.0 += 1;
        } else {
            slot.1 += 1;
        }
    }
}

impl std::fmt::Display for ReassemblyTally {
    /// `reassembled 12 IPv4 datagrams (1 incomplete), 0 IPv6 packets, 340 TCP messages`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("reassembled")?;
        let names = [
            "IPv4 datagrams",
            "IPv6 packets",
            "TCP messages",
            "HTTP/2 bodies",
        ];
        for (i, ((complete, incomplete), name)) in self.done.iter().zip(names).enumerate() {
            // HTTP/2 bodies only when there are any (DNS over HTTPS over several frames).
            if i == 3 && *complete + *incomplete == 0 {
                continue;
            }
            let sep = if i == 0 { " " } else { ", " };
            write!(f, "{sep}{complete} {name}")?;
            if *incomplete > 0 {
                write!(f, " ({incomplete} incomplete)")?;
            }
        }
        Ok(())
    }
}

impl ReassemblyArgs {
    fn options(&self) -> ReassemblyOptions {
        ReassemblyOptions {
            ipv4: self.ip || self.ipv4,
            ipv6: self.ip || self.ipv6,
            tcp: self.tcp,
            strict: !self.no_strict,
            ipv4_timeout: i64::from(self.ipv4_timeout),
            ipv6_timeout: i64::from(self.ipv6_timeout),
            memory: self.reassembly_memory.saturating_mul(1 << 20),
            stream_memory: self.stream_memory.saturating_mul(1 << 20).max(1 << 16),
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// One NDJSON line per TCP connection, in tcp.stream order: its endpoints (`a` sent
    /// the first frame), frames, bytes, SHA-256 and gaps each way, whether it was seen
    /// from SYN to close without gaps, and its application protocol. IP fragments are
    /// reassembled.
    Streams(cli::streams::StreamsArgs),
    /// One TCP conversation, as `tshark -q -z follow,tcp,ascii|raw,N` prints it: the
    /// nodes, then each segment's in-order data in order of delivery, node 1's indented.
    Follow(cli::streams::FollowArgs),
    /// List every protocol: id, name, layer, and the tables it is bound into.
    Protocols,
    /// List the field paths usable with -e.
    Fields {
        /// List every field (required, for symmetry with other subcommands).
        #[arg(long)]
        list: bool,
        /// Only the fields of this protocol.
        #[arg(value_parser = parse_protocol)]
        protocol: Option<ProtocolId>,
        /// The names -e takes with this engine: a third-party engine's own (etherparse,
        /// pnet; tshark's from `tshark -G fields`); every one of ours takes the specs'.
        #[arg(long, value_name = "ENGINE", default_value = "default")]
        engine: EngineKind,
    },
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

fn parse_level(s: &str) -> Result<Level, String> {
    s.parse()
}

fn parse_protocol(s: &str) -> Result<ProtocolId, String> {
    ProtocolId::from_name(s).ok_or_else(|| {
        let known: Vec<&str> = ProtocolId::ALL.iter().map(|p| p.id()).collect();
        format!("unknown protocol `{s}` (known: {})", known.join(", "))
    })
}

fn parse_decode_as(s: &str) -> Result<pcapkit::flow::decode_as::Rule, String> {
    s.parse()
}

fn main() -> ExitCode {
    // A bug must still end in one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("pcapkit: internal error: {info} (please report it)");
    }));
    handle_signals();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Protocols) => list_protocols().map(|()| Outcome::Clean),
        Some(Command::Fields {
            list: _,
            protocol,
            engine,
        }) => list_fields(protocol, engine).map(|()| Outcome::Clean),
        Some(Command::Streams(args)) => cli::streams::streams(args).map(Outcome::of),
        Some(Command::Follow(args)) => cli::streams::follow(args).map(Outcome::of),
        None => extract(cli),
    };
    match result {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Damaged) => ExitCode::from(EXIT_DAMAGED),
        // A reader that stopped reading (`| head`) got what it wanted.
        Err(Error::Write { source, .. }) if source.kind() == io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pcapkit: error: {e}");
            ExitCode::from(match &e {
                Error::Usage(_) => EXIT_USAGE,
                e if e.is_damaged_input() => EXIT_DAMAGED,
                _ => EXIT_ERROR,
            })
        }
    }
}

/// On SIGINT, SIGTERM or SIGHUP: remove the temporary output, clear the progress bar, and
/// exit 128 + the signal's number, as shells report a process a signal ended (130 for
/// Ctrl-C). The default action would leave both behind.
fn handle_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    // Without a handler (it cannot fail on Linux) a signal still ends the run.
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("pcapkit-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                pcapkit::extract::abandon_and_exit(128 + signal);
            }
        });
}

fn extract(cli: Cli) -> Result<Outcome, Error> {
    let Some(input) = cli.input else {
        return Err(Error::Usage(
            "no input: give a capture file, or `-` for standard input (see pcapkit --help)".into(),
        ));
    };
    let format = cli.format.unwrap_or(if cli.fields.is_empty() {
        cli.output
            .as_deref()
            .and_then(|p| p.extension())
            .and_then(|e| Format::from_extension(&e.to_string_lossy()))
            .unwrap_or(Format::Json)
    } else {
        Format::Fields
    });
    if !cli.fields.is_empty() && format != Format::Fields {
        return Err(Error::Usage(format!(
            "-e chooses columns of the fields format, not of {format}"
        )));
    }
    let reassembly = cli.reassembly.options();
    let mut builder = Extractor::builder()
        .input(&input)
        .output(cli.output.unwrap_or_else(|| PathBuf::from("-")))
        .format(format)
        .fields(cli.fields)
        .nofile(cli.nofile)
        .extension(cli.extension)
        .files(cli.files)
        .store(false)
        .reassembly(reassembly)
        .engine(cli.engine.engine)
        .threads_apart(true)
        .progress(true);
    if let Some(n) = cli.engine.threads {
        builder = builder.threads(usize::from(n));
    }
    let tracing = cli.trace.trace || cli.trace.trace_out.is_some();
    if tracing {
        builder = builder
            .trace(true)
            .trace_options(pcapkit::trace::TraceOptions {
                format: cli.trace.trace_format,
                byte_order: cli.trace.trace_byteorder,
                nanosecond: cli.trace.trace_nanosecond,
                direction: cli.trace.trace_direction,
                ..Default::default()
            });
        if let Some(dir) = &cli.trace.trace_out {
            builder = builder.trace_output(dir);
        }
    }
    if let Some(l) = cli.layer {
        builder = builder.layer(l);
    }
    if let Some(p) = cli.protocol {
        builder = builder.protocol(p);
    }
    for rule in cli.decode_as {
        builder = builder.decode_as(rule);
    }
    if cli.verbose {
        builder = builder.verbose(|frame| {
            eprintln!("Frame {:>6}: {}", frame.number, frame.protocols());
        });
    }
    let tally = Arc::new(Mutex::new(ReassemblyTally::default()));
    if reassembly.any() {
        let tally = Arc::clone(&tally);
        builder = builder.on_reassembled(move |r| {
            if let Ok(mut t) = tally.lock() {
                t.count(r);
            }
        });
    }
    let started = Instant::now();
    let extractor = builder.run()?;
    for w in extractor.warnings() {
        eprintln!("pcapkit: warning: {w}");
    }
    if cli.nofile {
        eprintln!(
            "pcapkit: {} frames dissected in {:.3} s",
            extractor.frame_count(),
            started.elapsed().as_secs_f64()
        );
        if reassembly.any() {
            if let Ok(t) = tally.lock() {
                eprintln!("pcapkit: {t}");
            }
        }
    } else if let Some(path) = extractor.output_path() {
        eprintln!(
            "pcapkit: {} frames written to {}",
            extractor.frame_count(),
            path.display()
        );
    }
    if let Some(dir) = extractor.trace_path() {
        eprintln!(
            "pcapkit: {} TCP flows traced into {}",
            extractor.trace().len(),
            dir.display()
        );
    }
    // The reader warns only of damage: it stops there.
    Ok(if extractor.warnings().is_empty() {
        Outcome::Clean
    } else {
        Outcome::Damaged
    })
}

fn list_protocols() -> Result<(), Error> {
    let mut out = String::new();
    out.push_str("id           name         layer        found through\n");
    for p in ProtocolId::ALL {
        let binds: Vec<String> = p
            .bindings()
            .iter()
            .map(|b| match (b.key, b.heuristic) {
                (Some(k), _) => format!("{} {k:#x}", b.table),
                (None, Some(h)) => format!("{} heuristic {h}", b.table),
                _ => b.table.to_owned(),
            })
            .chain(p.named_by().iter().map(|id| format!("{id} payload rule")))
            .collect();
        out.push_str(&format!(
            "{:<12} {:<12} {:<12} {}\n",
            p.id(),
            p.name(),
            p.layer(),
            binds.join(", ")
        ));
    }
    print(&out)
}

fn list_fields(only: Option<ProtocolId>, engine: EngineKind) -> Result<(), Error> {
    let mut out = String::new();
    if let Some(names) = pcapkit::engine::backend_field_names(engine).map_err(Error::Usage)? {
        // The backend's names start with the protocol, as ours do (`ipv4.src`).
        let prefix = only.map(|p| format!("{}.", p.id()));
        for name in names
            .iter()
            .filter(|n| prefix.as_deref().is_none_or(|p| n.starts_with(p)))
        {
            out.push_str(name);
            out.push('\n');
        }
        return print(&out);
    }
    if only.is_none() {
        for (path, doc) in FRAME_FIELDS {
            out.push_str(&format!("{path:<28} {:<24} {doc}\n", "frame"));
        }
    }
    for p in ProtocolId::ALL
        .into_iter()
        .filter(|p| only.is_none_or(|o| o == *p))
    {
        for f in p.fields() {
            match f.wireshark {
                Some(w) => out.push_str(&format!(
                    "{:<28} {:<24} {} (Wireshark: {w})\n",
                    f.path, f.ty, f.doc
                )),
                None => out.push_str(&format!("{:<28} {:<24} {}\n", f.path, f.ty, f.doc)),
            }
        }
    }
    print(&out)
}

fn print(text: &str) -> Result<(), Error> {
    io::stdout()
        .write_all(text.as_bytes())
        .map_err(|source| Error::Write {
            path: "standard output".into(),
            source,
        })
}
