//! The extractor: PyPCAPKit's `Extractor`, as a builder. It reads a capture, dissects
//! every frame up to the chosen threshold, optionally keeps the frames, calls back for
//! each one, and dumps them in a format.
//!
//! ```no_run
//! use pcapkit::{Extractor, Format, Level};
//!
//! // Iterator mode: frames one at a time, nothing kept, nothing written.
//! let mut extractor = Extractor::builder()
//!     .input("capture.pcapng")
//!     .layer(Level::Transport)
//!     .store(false)
//!     .build()?;
//! for frame in &mut extractor {
//!     println!("{:>6} {}", frame.number, frame.protocols());
//! }
//! for warning in extractor.warnings() {
//!     eprintln!("warning: {warning}");
//! }
//! # Ok::<(), pcapkit::Error>(())
//! ```

mod interrupt;
mod output;
pub mod streams;

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use crate::chain::{self, Frame, Reassembled, ReassemblyKind, Thresholds};
use crate::dump::{
    Dumper, Fields, Files, Format, Json, JsonText, Ndjson, Plist, PlistText, Tree, TreeText,
};
use crate::engine::{self, Engine, EngineKind, Item, Options, RenderBatch, RenderStage};
use crate::flow::decode_as::{DecodeAs, Rule};
use crate::layer::Level;
use crate::protocols::ProtocolId;
use crate::reader::{CaptureInfo, CaptureReader, Event, Interface, Metadata, ReadError, Section};
use crate::reassembly::tcp::ConnectionSummary;
use crate::reassembly::ReassemblyOptions;
use crate::session::Session;
use crate::trace::{TraceOptions, TracedFlow, Tracer};

use crate::engine::load_dissected;
use crate::flow::FlowMark;
pub use interrupt::abandon_and_exit;
use output::{FileId, Output};

/// Why extraction failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The capture file could not be opened.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The capture file.
        path: PathBuf,
        /// Why it could not be opened.
        source: io::Error,
    },
    /// The capture's file header could not be read, or is not pcap or pcapng.
    #[error("{path}: {source}")]
    Read {
        /// The input: the file's path, `standard input`, or `input` for a reader.
        path: String,
        /// What was wrong.
        source: ReadError,
    },
    /// The output could not be created, written or moved into place.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The output: the file's path, `standard output`, or `output`.
        path: String,
        /// Why the write failed.
        source: io::Error,
    },
    /// The options do not make sense: no input, or an unknown `fields` column.
    #[error("{0}")]
    Usage(String),
    /// The output is the input file, under its name or another (a symbolic or hard
    /// link): writing it would destroy the capture.
    #[error("cannot write {}: it is the input file {input}; choose another output", output.display())]
    OutputIsInput {
        /// The output, as named (with the extension appended, if it was).
        output: PathBuf,
        /// The input, as named.
        input: String,
    },
}

impl Error {
    /// The input is a capture damaged or unsupported from its file header on (see
    /// [`ReadError::is_damage`]), rather than something that is not a capture at all.
    pub fn is_damaged_input(&self) -> bool {
        matches!(self, Error::Read { source, .. } if source.is_damage())
    }
}

/// Where the capture comes from.
enum Input {
    Path(PathBuf),
    Stdin,
    Reader(Box<dyn Read + Send>),
}

type Callback = Box<dyn FnMut(&Frame) + Send>;
type ReassemblyCallback = Box<dyn FnMut(&Reassembled) + Send>;
type FlowCallback = Box<dyn FnMut(&TracedFlow) + Send>;

/// What reassembly put together (PyPCAPKit's `reassembly`), kept with `store` on: every
/// datagram and PDU, complete or given up on, in the order they ended.
#[derive(Debug, Clone, Default)]
pub struct Reassembly {
    /// IPv4 datagrams.
    pub ipv4: Vec<Reassembled>,
    /// IPv6 packets.
    pub ipv6: Vec<Reassembled>,
    /// TCP application PDUs.
    pub tcp: Vec<Reassembled>,
    /// HTTP/2 message bodies put together from several DATA frames.
    pub http2: Vec<Reassembled>,
}

impl Reassembly {
    fn push(&mut self, r: &Reassembled) {
        match r.kind {
            ReassemblyKind::Ipv4 => self.ipv4.push(r.clone()),
            ReassemblyKind::Ipv6 => self.ipv6.push(r.clone()),
            ReassemblyKind::Tcp => self.tcp.push(r.clone()),
            ReassemblyKind::Http2Body => self.http2.push(r.clone()),
        }
    }
}

/// Options for an [`Extractor`], named after PyPCAPKit's.
pub struct ExtractorBuilder {
    input: Option<Input>,
    output: Option<PathBuf>,
    format: Option<Format>,
    auto: bool,
    store: bool,
    nofile: bool,
    extension: bool,
    files: bool,
    thresholds: Thresholds,
    fields: Vec<String>,
    verbose: Option<Callback>,
    progress: bool,
    reassembly: ReassemblyOptions,
    on_reassembled: Option<ReassemblyCallback>,
    /// Keep connection summaries; `Some(true)`: with their bytes.
    connections: Option<bool>,
    /// The stream whose data is kept as chunks.
    chunks: Option<u64>,
    /// Trace TCP flows: into this directory (`None`: the default name).
    trace: Option<Option<PathBuf>>,
    trace_options: TraceOptions,
    on_flow: Option<FlowCallback>,
    engine: EngineKind,
    /// `None`: the cores available.
    threads: Option<usize>,
    /// Ports the user bound to protocols (`--decode-as`).
    decode_as: DecodeAs,
    render_ahead: bool,
    threads_apart: bool,
}

impl Default for ExtractorBuilder {
    fn default() -> Self {
        ExtractorBuilder {
            input: None,
            output: None,
            format: None,
            auto: false,
            store: true,
            nofile: false,
            extension: true,
            files: false,
            thresholds: Thresholds::default(),
            fields: Vec::new(),
            verbose: None,
            progress: false,
            reassembly: ReassemblyOptions::default(),
            on_reassembled: None,
            connections: None,
            chunks: None,
            trace: None,
            trace_options: TraceOptions::default(),
            on_flow: None,
            engine: EngineKind::Default,
            threads: None,
            decode_as: DecodeAs::new(),
            render_ahead: true,
            threads_apart: false,
        }
    }
}

impl ExtractorBuilder {
    /// The capture file (PyPCAPKit's `fin`); `-` reads standard input.
    pub fn input(mut self, path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        self.input = Some(if path == Path::new("-") {
            Input::Stdin
        } else {
            Input::Path(path.to_owned())
        });
        self
    }

    /// Reads the capture from any reader instead of a file.
    pub fn reader(mut self, reader: impl Read + Send + 'static) -> Self {
        self.input = Some(Input::Reader(Box::new(reader)));
        self
    }

    /// Where to write the dump (PyPCAPKit's `fout`); `-` is standard output. Without an
    /// output nothing is written.
    pub fn output(mut self, path: impl AsRef<Path>) -> Self {
        self.output = Some(path.as_ref().to_owned());
        self
    }

    /// The dump format; by default the output name's extension decides, else JSON.
    pub fn format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }

    /// Run to the end when built (PyPCAPKit's `auto`); off: iterate over the extractor.
    pub fn auto(mut self, auto: bool) -> Self {
        self.auto = auto;
        self
    }

    /// Keep every frame, for [`Extractor::frames`] (on by default, as in PyPCAPKit).
    /// Off, memory stays flat whatever the capture's size.
    pub fn store(mut self, store: bool) -> Self {
        self.store = store;
        self
    }

    /// Write no output file, whatever `output` says.
    pub fn nofile(mut self, nofile: bool) -> Self {
        self.nofile = nofile;
        self
    }

    /// Append the format's extension to the output name when it lacks it (on by default).
    pub fn extension(mut self, extension: bool) -> Self {
        self.extension = extension;
        self
    }

    /// Write a directory instead of one file (PyPCAPKit's `files`): `headers.EXT` and a
    /// `frame-000001.EXT` per frame, each a whole document (json, plist or tree only).
    /// The directory must be new or empty; it appears complete or not at all.
    pub fn files(mut self, files: bool) -> Self {
        self.files = files;
        self
    }

    /// Stop after the last protocol of this layer: its payload stays Raw.
    pub fn layer(mut self, layer: Level) -> Self {
        self.thresholds.layer = Some(layer);
        self
    }

    /// Stop after this protocol: its payload stays Raw.
    pub fn protocol(mut self, protocol: ProtocolId) -> Self {
        self.thresholds.protocol = Some(protocol);
        self
    }

    /// Dissect the payload of the ports a rule names as its protocol, before the static
    /// port tables, per segment and for TCP stream framing (tshark's `-d`); rules read
    /// as tshark's: `"tcp.port==8080,http2".parse()?`. Repeat for more; a later rule
    /// wins for the ports it names.
    pub fn decode_as(mut self, rule: Rule) -> Self {
        self.decode_as.push(rule);
        self
    }

    /// The columns of the `fields` format (field paths, as `ipv4.src`).
    pub fn fields<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.fields = fields.into_iter().map(Into::into).collect();
        self
    }

    /// Called with every frame once dissected (PyPCAPKit's `verbose`).
    pub fn verbose(mut self, callback: impl FnMut(&Frame) + Send + 'static) -> Self {
        self.verbose = Some(Box::new(callback));
        self
    }

    /// Reassemble fragmented IPv4 and IPv6 datagrams (PyPCAPKit's `ip`).
    pub fn ip(mut self, on: bool) -> Self {
        self.reassembly.ipv4 = on;
        self.reassembly.ipv6 = on;
        self
    }

    /// Reassemble fragmented IPv4 datagrams (PyPCAPKit's `ipv4`).
    pub fn ipv4(mut self, on: bool) -> Self {
        self.reassembly.ipv4 = on;
        self
    }

    /// Reassemble fragmented IPv6 packets (PyPCAPKit's `ipv6`).
    pub fn ipv6(mut self, on: bool) -> Self {
        self.reassembly.ipv6 = on;
        self
    }

    /// Follow TCP streams: number connections (`tcp.stream`) and dissect application
    /// PDUs across segments (PyPCAPKit's `tcp`).
    pub fn tcp(mut self, on: bool) -> Self {
        self.reassembly.tcp = on;
        self
    }

    /// Dissect only complete datagrams and PDUs (on by default, PyPCAPKit's `strict`);
    /// off, incomplete ones are dissected too, and still marked incomplete.
    pub fn strict(mut self, on: bool) -> Self {
        self.reassembly.strict = on;
        self
    }

    /// Every reassembly option at once, budgets and timeouts included.
    pub fn reassembly(mut self, options: ReassemblyOptions) -> Self {
        self.reassembly = options;
        self
    }

    /// Called with every datagram and PDU reassembly completes or gives up on.
    pub fn on_reassembled(mut self, callback: impl FnMut(&Reassembled) + Send + 'static) -> Self {
        self.on_reassembled = Some(Box::new(callback));
        self
    }

    /// Keep a summary of every TCP connection (which turns TCP reassembly on): its
    /// frames, and each direction's byte count, SHA-256 and gaps, plus the bytes
    /// themselves when `payloads`. Read them with [`Extractor::connections`] once the
    /// extraction has finished.
    pub fn connections(mut self, payloads: bool) -> Self {
        self.connections = Some(payloads);
        self
    }

    /// Also keep TCP stream `stream`'s data as chunks in the order it was delivered, in
    /// its summary (for `pcapkit follow`); implies [`connections`](Self::connections).
    pub fn chunks(mut self, stream: u64) -> Self {
        self.chunks = Some(stream);
        self
    }

    /// Trace TCP flows (PyPCAPKit's `trace`): every connection's frames into a file of
    /// its own, in a directory (see [`trace`](crate::trace)); by default
    /// `INPUT-NAME.trace` in the current directory, or `trace` for a stream. The
    /// directory must be new or empty; it appears complete or not at all.
    pub fn trace(mut self, on: bool) -> Self {
        self.trace = on.then(|| self.trace.take().flatten());
        self
    }

    /// The trace directory (PyPCAPKit's `trace_fout`); turns tracing on.
    pub fn trace_output(mut self, dir: impl AsRef<Path>) -> Self {
        self.trace = Some(Some(dir.as_ref().to_owned()));
        self
    }

    /// What trace files hold (PyPCAPKit's `trace_format`): pcap by default.
    pub fn trace_format(mut self, format: crate::trace::TraceFormat) -> Self {
        self.trace_options.format = format;
        self
    }

    /// Byte order of pcap and pcapng traces (PyPCAPKit's `trace_byteorder`).
    pub fn trace_byteorder(mut self, order: crate::reader::ByteOrder) -> Self {
        self.trace_options.byte_order = order;
        self
    }

    /// Nanosecond times in pcap and pcapng traces (PyPCAPKit's `trace_nanosecond`).
    pub fn trace_nanosecond(mut self, on: bool) -> Self {
        self.trace_options.nanosecond = on;
        self
    }

    /// Every trace option at once.
    pub fn trace_options(mut self, options: TraceOptions) -> Self {
        self.trace_options = options;
        self
    }

    /// Called with every traced flow when it ends (its FIN exchange, a RST, or the end
    /// of the capture).
    pub fn on_flow_closed(mut self, callback: impl FnMut(&TracedFlow) + Send + 'static) -> Self {
        self.on_flow = Some(Box::new(callback));
        self
    }

    /// The engine (PyPCAPKit's `engine`): [`EngineKind::Default`] unless asked; see
    /// [`engine`](crate::engine). Every engine gives the same output.
    pub fn engine(mut self, engine: EngineKind) -> Self {
        self.engine = engine;
        self
    }

    /// Threads of the pipeline and server engines (at least 1; by default the cores
    /// available, see [`Extractor::threads`]).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads.max(1));
        self
    }

    /// Whether the default engine keeps its reader thread and the calling thread on
    /// different processors (Linux CPU affinity: each is barred from the one the other
    /// starts on; nothing else changes, and nothing with fewer than two processors).
    /// Off by default, since it changes the calling thread's affinity for good; the
    /// command line turns it on: without it, the scheduler often runs both threads on one
    /// processor for stretches of a run.
    pub fn threads_apart(mut self, on: bool) -> Self {
        self.threads_apart = on;
        self
    }

    /// Whether the threads that dissect may also make frames' output text as they go,
    /// ahead of the stateful stages, when those cannot change it (no reassembly, no flow
    /// tracing; a frame they change all the same is rendered again): on by default. The
    /// output is the same either way; off, all text is made after the stateful stages,
    /// on the caller's thread or the render stage's (a reference for tests).
    pub fn render_ahead(mut self, on: bool) -> Self {
        self.render_ahead = on;
        self
    }

    /// Show a progress bar on standard error when it is a terminal.
    pub fn progress(mut self, progress: bool) -> Self {
        self.progress = progress;
        self
    }

    /// Opens the input and the output and reads the file header; runs to the end too
    /// when `auto` is on.
    pub fn build(self) -> Result<Extractor, Error> {
        let auto = self.auto;
        let mut extractor = self.open(auto)?;
        if auto {
            extractor.run_to_end()?;
        }
        Ok(extractor)
    }

    /// Builds and runs to the end.
    pub fn run(self) -> Result<Extractor, Error> {
        self.auto(true).build()
    }

    fn open(self, auto: bool) -> Result<Extractor, Error> {
        if self.engine.is_foreign() {
            // Their backends decode frame by frame: there is nothing to reassemble with.
            let asked = [
                (
                    self.reassembly.ipv4 || self.reassembly.ipv6,
                    "--ip/--ipv4/--ipv6",
                ),
                (self.reassembly.tcp, "--tcp"),
                (
                    self.connections.is_some() || self.chunks.is_some(),
                    "connections",
                ),
                (self.trace.is_some(), "--trace"),
            ];
            if let Some((_, what)) = asked.iter().find(|(on, _)| *on) {
                return Err(Error::Usage(format!(
                    "the {} engine does no reassembly ({what}): use the default, pipeline \
                     or server engine",
                    self.engine
                )));
            }
        }
        let input_path = match &self.input {
            Some(Input::Path(p)) => Some(p.clone()),
            _ => None,
        };
        let (reader, name, size, input_id) = match self.input {
            None => {
                return Err(Error::Usage(
                    "no input: give a capture file, or `-` for standard input".into(),
                ))
            }
            Some(Input::Path(path)) => {
                let file = File::open(&path).map_err(|source| Error::Open {
                    path: path.clone(),
                    source,
                })?;
                let metadata = file.metadata().ok();
                let size = metadata.as_ref().map(|m| m.len());
                let id = metadata.as_ref().and_then(FileId::of);
                let name = path.display().to_string();
                (CaptureReader::from_file(file), name, size, id)
            }
            Some(Input::Stdin) => (
                CaptureReader::new(io::stdin()),
                "standard input".to_owned(),
                None,
                // `pcapkit - -o s.pcap < s.pcap` would destroy s.pcap too.
                stdin_id(),
            ),
            Some(Input::Reader(r)) => (CaptureReader::new(r), "input".to_owned(), None, None),
        };
        let reader = reader.map_err(|source| Error::Read {
            path: name.clone(),
            source,
        })?;

        let format = self.format.unwrap_or_else(|| {
            self.output
                .as_deref()
                .and_then(|p| p.extension())
                .and_then(|e| Format::from_extension(&e.to_string_lossy()))
                .unwrap_or(Format::Json)
        });
        let (output, dumper) = match (&self.output, self.nofile) {
            (Some(path), false) if self.files => {
                if path == Path::new("-") {
                    return Err(Error::Usage(
                        "--files writes a directory: give it with -o DIR".into(),
                    ));
                }
                if !matches!(format, Format::Json | Format::Plist | Format::Tree) {
                    return Err(Error::Usage(format!(
                        "--files writes json, plist or tree, not {format}"
                    )));
                }
                let output = Output::create_dir(path, "--files")?;
                let dir = output.dir().expect("a new directory").to_owned();
                let dumper = make_files_dumper(format, dir).map_err(|source| Error::Write {
                    path: path.display().to_string(),
                    source,
                })?;
                (Some(output), Some(dumper))
            }
            (Some(path), false) => {
                let output = Output::create(
                    path,
                    self.extension.then(|| format.extension()),
                    input_id.map(|id| (id, name.as_str())),
                )?;
                let writer = BufWriter::with_capacity(1 << 16, output.writer()?);
                let dumper = make_dumper(format, writer, &self.fields, self.engine)?;
                (Some(output), Some(dumper))
            }
            _ => {
                if format == Format::Fields || !self.fields.is_empty() {
                    // Check the columns even when nothing is written.
                    Fields::with_engine(io::sink(), &self.fields, self.engine)
                        .map_err(Error::Usage)?;
                }
                (None, None)
            }
        };
        let trace = match &self.trace {
            Some(dir) => {
                let dir = dir
                    .clone()
                    .unwrap_or_else(|| default_trace_dir(input_path.as_deref()));
                if let Some(out) = output.as_ref().and_then(Output::path) {
                    if crate::trace::is_inside(out, &dir) || crate::trace::is_inside(&dir, out) {
                        return Err(Error::Usage(format!(
                            "the output {} and the trace directory {} must not lie one in the other",
                            out.display(),
                            dir.display()
                        )));
                    }
                }
                let out = Output::create_dir(&dir, "--trace")?;
                let tracer = Tracer::new(
                    out.dir().expect("a new directory").to_owned(),
                    self.trace_options,
                    reader.info().clone(),
                );
                Some((out, tracer))
            }
            None => None,
        };
        let progress = (self.progress && io::stderr().is_terminal()).then(|| {
            let bar = progress_bar(size);
            // Cleared if the process is interrupted, too.
            let id = interrupt::lock().add_bar(bar.clone());
            (bar, id)
        });
        let info = reader.info().clone();
        // A frame's bytes are copied out of a file's shared blocks only for someone to look
        // at (reassembly reads them where they lie).
        let keep_bytes =
            !auto || self.store || dumper.is_some() || self.verbose.is_some() || trace.is_some();
        let threads = match self.engine {
            EngineKind::Default => 1,
            e if e.is_foreign() => 1,
            _ => self.threads.unwrap_or_else(engine::available_threads),
        };
        let make_session = |memory: usize| {
            session(
                ReassemblyOptions {
                    memory,
                    ..self.reassembly
                },
                self.thresholds,
                self.connections,
                self.chunks,
                trace.is_some(),
            )
            .map(|s| s.with_decode_as(self.decode_as.clone()))
        };
        let (session, sessions) = if self.engine == EngineKind::Server {
            if self.chunks.is_some() {
                return Err(Error::Usage(
                    "the server engine cannot keep one stream's chunks (its workers number \
                     streams on their own): use the default or pipeline engine"
                        .into(),
                ));
            }
            // Each worker holds a share of the budget: the whole stays within it.
            let memory = self.reassembly.memory / threads;
            let sessions: Option<Vec<Session>> =
                (0..threads).map(|_| make_session(memory)).collect();
            (None, sessions)
        } else {
            (make_session(self.reassembly.memory), None)
        };
        // A session that reassembles TCP dissects what the streams carry: the segments'
        // own dissection above TCP is left to it.
        let reassembles_tcp = session
            .iter()
            .chain(sessions.iter().flatten())
            .any(|s| s.options().tcp);
        // Headers may stay undecoded when nobody but a dumper that reads them from the
        // bytes looks at the frames: no frames kept or handed out, no callback, no
        // tracing. The session decodes the few it acts on (a fragment, a followed TCP
        // segment), and dissects reassembled data whole.
        let views = auto
            && !self.store
            && self.verbose.is_none()
            && trace.is_none()
            && dumper.as_ref().is_none_or(|d| d.reads_views());
        let thresholds = Thresholds {
            defer_streams: reassembles_tcp,
            views,
            ..self.thresholds
        };
        let options = Options {
            keep_bytes,
            thresholds,
            stateful: session.as_ref().is_some_and(Session::is_active),
            apart: self.threads_apart,
        };
        let mut extractor = Extractor {
            reader: engine::start(
                self.engine,
                reader,
                options,
                threads,
                sessions,
                input_path.as_deref(),
            )
            .map_err(Error::Usage)?,
            engine: self.engine,
            threads,
            info,
            keep_bytes,
            thresholds,
            session,
            trace,
            on_flow: self.on_flow,
            on_reassembled: self.on_reassembled,
            reassembled: Reassembly::default(),
            connections: Vec::new(),
            scratch: None,
            name,
            format,
            output,
            dumper,
            render: None,
            may_render_ahead: self.render_ahead,
            ahead: false,
            store: self.store,
            verbose: self.verbose,
            progress,
            frames: Vec::new(),
            sections: Vec::new(),
            interfaces: Vec::new(),
            metadata: Vec::new(),
            warnings: Vec::new(),
            count: 0,
            finished: false,
            failed: false,
        };
        let info = extractor.info.clone();
        extractor.dump(|d| d.header(&info))?;
        Ok(extractor)
    }
}

/// The session: reassembly, connection summaries and flow numbering when asked for, and
/// always the dynamic bindings.
fn session(
    mut options: ReassemblyOptions,
    thresholds: Thresholds,
    connections: Option<bool>,
    chunks: Option<u64>,
    trace: bool,
) -> Option<Session> {
    let summaries = connections.is_some() || chunks.is_some();
    // Summaries are of TCP streams: they must be followed.
    options.tcp |= summaries;
    let session = Session::with_tcp(options, thresholds, summaries, connections == Some(true));
    let session = match chunks {
        Some(stream) => session.with_chunks(stream),
        None => session,
    };
    if trace {
        return Some(session.with_flows());
    }
    // Always a session, even without reassembly: connections announced at run time (FTP
    // data) are recognised only by what an earlier frame said.
    Some(session)
}

/// The trace directory when none is given: the input's file name with `.trace`, in the
/// current directory (the input's own directory may not be writable).
fn default_trace_dir(input: Option<&Path>) -> PathBuf {
    match input.and_then(Path::file_name) {
        Some(file) => {
            let mut dir = file.to_owned();
            dir.push(".trace");
            PathBuf::from(dir)
        }
        None => PathBuf::from("trace"),
    }
}

/// The dumper of `--files`: documents only (a line or a row per frame needs no files).
fn make_files_dumper(format: Format, dir: PathBuf) -> io::Result<Box<dyn Dumper + Send>> {
    let ext = format.extension();
    Ok(match format {
        Format::Json => Box::new(Files::<JsonText>::new(dir, ext)?),
        Format::Plist => Box::new(Files::<PlistText>::new(dir, ext)?),
        Format::Tree => Box::new(Files::<TreeText>::new(dir, ext)?),
        Format::Ndjson | Format::Fields => {
            return Err(io::Error::other(format!("--files cannot write {format}")))
        }
    })
}

fn make_dumper(
    format: Format,
    writer: BufWriter<Box<dyn Write + Send>>,
    fields: &[String],
    engine: EngineKind,
) -> Result<Box<dyn Dumper + Send>, Error> {
    Ok(match format {
        Format::Json => Box::new(Json::new(writer)),
        Format::Ndjson => Box::new(Ndjson::new(writer)),
        Format::Plist => Box::new(Plist::new(writer)),
        Format::Tree => Box::new(Tree::new(writer)),
        Format::Fields => {
            let columns = if fields.is_empty() {
                [
                    "frame.number",
                    "frame.time_epoch",
                    "frame.cap_len",
                    "frame.protocols",
                ]
                .map(String::from)
                .to_vec()
            } else {
                fields.to_vec()
            };
            Box::new(Fields::with_engine(writer, &columns, engine).map_err(Error::Usage)?)
        }
    })
}

/// The identity of standard input, when it is a regular file.
fn stdin_id() -> Option<FileId> {
    use std::os::fd::AsFd;
    let fd = io::stdin().as_fd().try_clone_to_owned().ok()?;
    File::from(fd).metadata().ok().as_ref().and_then(FileId::of)
}

fn progress_bar(size: Option<u64>) -> indicatif::ProgressBar {
    let bar = match size {
        Some(len) => indicatif::ProgressBar::new(len).with_style(
            indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta})")
                .expect("valid template"),
        ),
        None => indicatif::ProgressBar::new_spinner(),
    };
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(4));
    bar
}

/// Reads and dissects a capture; see [`ExtractorBuilder`] for the options.
///
/// The output file is written under a temporary name beside its own and renamed into place
/// by [`Extractor::finish`] (called at the end of the capture, and by
/// [`ExtractorBuilder::run`]). An extractor dropped before that, as when a loop over its
/// frames breaks early, finishes its output then: the file is a valid dump of the frames
/// read so far. After an error (a write that failed), nothing is renamed into place and
/// the temporary file is removed.
pub struct Extractor {
    /// The engine: the reader, running on a thread of its own, and its workers.
    reader: Box<dyn Engine>,
    engine: EngineKind,
    threads: usize,
    info: CaptureInfo,
    /// Copy frames' bytes out of the input's shared blocks (someone will look at them).
    keep_bytes: bool,
    thresholds: Thresholds,
    /// Reassembly state, when any is asked for (or flows are traced).
    session: Option<Session>,
    /// The flow tracer and its directory.
    trace: Option<(Output, Tracer)>,
    on_flow: Option<FlowCallback>,
    on_reassembled: Option<ReassemblyCallback>,
    reassembled: Reassembly,
    connections: Vec<ConnectionSummary>,
    /// The frame a shared packet is read into.
    scratch: Option<Box<Frame>>,
    name: String,
    format: Format,
    output: Option<Output>,
    dumper: Option<Box<dyn Dumper + Send>>,
    /// The render stage, making the dumper's frames' text on worker threads (run to the
    /// end with more than one thread).
    render: Option<RenderStage>,
    /// Text made ahead by the engine's threads may be used (see
    /// [`ExtractorBuilder::render_ahead`]); `ahead`: they were given renderers.
    may_render_ahead: bool,
    ahead: bool,
    store: bool,
    verbose: Option<Callback>,
    /// The bar, and its registration for clearing on an interruption.
    progress: Option<(indicatif::ProgressBar, u64)>,
    frames: Vec<Frame>,
    sections: Vec<Section>,
    interfaces: Vec<Interface>,
    metadata: Vec<Metadata>,
    warnings: Vec<String>,
    count: u64,
    finished: bool,
    /// An error stopped the extraction: the output is not to be completed.
    failed: bool,
}

impl Extractor {
    /// Starts with PyPCAPKit's defaults: `store` and `extension` on, `auto` off, no
    /// output, no threshold.
    pub fn builder() -> ExtractorBuilder {
        ExtractorBuilder::default()
    }

    /// The engine extracting.
    pub fn engine(&self) -> EngineKind {
        self.engine
    }

    /// The worker threads the engine uses (PyPCAPKit's `CPU_CNT`): as asked, by default
    /// the cores available; 1 for the default engine (whose reader thread helps dissect
    /// and, without reassembly, make the output text when the caller lags).
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// What the file header says (pcap), or that it is pcapng.
    pub fn info(&self) -> &CaptureInfo {
        &self.info
    }

    /// pcapng sections read so far.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// pcapng interfaces read so far, in file order.
    pub fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }

    /// What reassembly put together or gave up on (with `store` on); complete once the
    /// extraction has finished.
    pub fn reassembly(&self) -> &Reassembly {
        &self.reassembled
    }

    /// Every TCP connection, in `tcp.stream` order (with
    /// [`connections`](ExtractorBuilder::connections) on), once the extraction has finished.
    pub fn connections(&self) -> &[ConnectionSummary] {
        &self.connections
    }

    /// Every traced flow so far, in the order of their first frames (the trace's
    /// index); empty when not tracing.
    pub fn trace(&self) -> &[TracedFlow] {
        self.trace.as_ref().map_or(&[], |(_, t)| t.flows())
    }

    /// The trace directory, once complete and in place (see
    /// [`output_path`](Self::output_path)).
    pub fn trace_path(&self) -> Option<&Path> {
        self.trace
            .as_ref()
            .filter(|(o, _)| o.is_complete() && !self.failed)
            .and_then(|(o, _)| o.path())
    }

    /// pcapng name resolution, interface statistics, decryption secrets and custom blocks
    /// read so far, in file order (with `store` on).
    pub fn metadata(&self) -> &[Metadata] {
        &self.metadata
    }

    /// The frames kept (with `store` on).
    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    /// Number of frames read so far.
    pub fn frame_count(&self) -> u64 {
        self.count
    }

    /// What went wrong in the file (it was read up to there).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The output file, once the dump is complete and in place under that name: `None`
    /// before [`Extractor::finish`] (the dump is under a temporary name until then), after
    /// an error, and for standard output or no output. A FIFO or a device is written
    /// directly, so its path is given from the start.
    pub fn output_path(&self) -> Option<&Path> {
        self.output
            .as_ref()
            .filter(|o| o.is_complete() && !self.failed)
            .and_then(Output::path)
    }

    /// The dump format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Reads every remaining frame and completes the output.
    pub fn run_to_end(&mut self) -> Result<(), Error> {
        self.start_render();
        while !matches!(self.step(false)?, Step::End) {}
        self.finish()
    }

    /// Has the engine's threads make frames' text as they dissect them, when the
    /// stateful stages cannot change it; else starts the render stage, when more than one
    /// thread is asked for. Either only when the dumper can render its frames elsewhere.
    fn start_render(&mut self) {
        if self.render.is_some() || self.ahead {
            return;
        }
        let Some(dumper) = &self.dumper else { return };
        // One renderer a thread, or none when the format renders only in order.
        let renderers =
            |n: usize| -> Option<Vec<_>> { (0..n).map(|_| dumper.renderer()).collect() };
        let stateless =
            self.trace.is_none() && !self.session.as_ref().is_some_and(Session::is_active);
        if self.may_render_ahead && stateless && self.reader.renderers() > 0 {
            if let Some(r) = renderers(self.reader.renderers()) {
                if self.reader.render_ahead(r) {
                    self.ahead = true;
                    return;
                }
            }
        }
        if self.threads < 2 {
            return;
        }
        self.render = renderers(self.threads).map(RenderStage::start);
    }

    /// Writes every frame handed to the render stage (before an entry that must follow
    /// them, or the end); the stage stays.
    fn drain_render(&mut self) -> Result<(), Error> {
        let Some(stage) = &mut self.render else {
            return Ok(());
        };
        let mut next = stage.flush();
        loop {
            let batch = match next.take() {
                Some(batch) => batch,
                None => match self.render.as_mut().and_then(|s| s.take(true)) {
                    Some(batch) => batch,
                    None => return Ok(()),
                },
            };
            self.write_rendered(batch)?;
        }
    }

    /// Writes a rendered batch in order, then recycles its frames.
    fn write_rendered(&mut self, mut batch: RenderBatch) -> Result<(), Error> {
        self.dump(|d| {
            for (frame, text) in batch.rendered() {
                d.rendered(frame, text)?;
            }
            Ok(())
        })?;
        for frame in batch.frames.drain(..) {
            if self.scratch.is_none() {
                self.scratch = Some(frame);
            } else {
                self.reader.recycle(frame);
            }
        }
        if let Some(stage) = &mut self.render {
            stage.give_back(batch);
        }
        Ok(())
    }

    /// Completes the output: writes its end and renames the temporary file into place.
    /// Called by `run_to_end`, and at the end of iteration.
    pub fn finish(&mut self) -> Result<(), Error> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        self.clear_progress();
        self.drain_render()?;
        self.render = None;
        let end = match &mut self.session {
            Some(session) => Some(engine::SessionEnd {
                rest: session.finish(),
                connections: session.take_connections(),
            }),
            None => self.reader.finish_session(),
        };
        if let Some(engine::SessionEnd { rest, connections }) = end {
            self.connections = connections;
            for r in &rest {
                self.record_reassembled(r);
            }
            self.dump(|d| d.reassembled_at_end(&rest))?;
        }
        self.dump(|d| d.finish())?;
        self.dumper = None;
        if let Some((out, tracer)) = &mut self.trace {
            let ended = tracer.finish().map_err(|source| Error::Write {
                path: out.display(),
                source,
            });
            let ended = match ended {
                Ok(e) => e,
                Err(e) => {
                    self.failed = true;
                    return Err(e);
                }
            };
            if let Some(cb) = &mut self.on_flow {
                ended.iter().for_each(cb);
            }
            if let Err(e) = out.commit() {
                self.failed = true;
                return Err(e);
            }
        }
        if let Some(output) = &mut self.output {
            if let Err(e) = output.commit() {
                self.failed = true;
                return Err(e);
            }
        }
        Ok(())
    }

    fn clear_progress(&mut self) {
        if let Some((bar, id)) = self.progress.take() {
            bar.finish_and_clear();
            interrupt::lock().forget_bar(id);
        }
    }

    fn dump(&mut self, f: impl FnOnce(&mut dyn Dumper) -> io::Result<()>) -> Result<(), Error> {
        match &mut self.dumper {
            Some(d) => f(d.as_mut()).map_err(|source| self.write_failed(source)),
            None => Ok(()),
        }
    }

    /// The output could not be written: it is not to be completed.
    fn write_failed(&mut self, source: io::Error) -> Error {
        self.failed = true;
        Error::Write {
            path: self
                .output
                .as_ref()
                .map_or_else(|| "output".into(), Output::display),
            source,
        }
    }

    /// Takes the next frame from the reader and dissects it. `handout`: the caller takes
    /// the frame.
    fn step(&mut self, handout: bool) -> Result<Step, Error> {
        if handout && self.render.is_some() {
            // Frames handed out are written one at a time, as they go.
            self.drain_render()?;
            self.render = None;
        }
        let mark: Option<FlowMark>;
        let frame = loop {
            match self.reader.next_item() {
                None => return Ok(Step::End),
                Some(Item::Frame {
                    mut frame,
                    dissected,
                }) => {
                    if !dissected {
                        chain::dissect(
                            &frame.data,
                            frame.linktype,
                            &self.thresholds,
                            &mut frame.layers,
                        );
                    }
                    let data = std::mem::take(&mut frame.data);
                    mark = number_and_reassemble(
                        &mut self.count,
                        &mut self.session,
                        &mut frame,
                        &data,
                    );
                    frame.data = data;
                    break frame;
                }
                Some(Item::Shared {
                    record,
                    block,
                    at,
                    len,
                }) => {
                    let mut frame = self.scratch.take().unwrap_or_default();
                    // Bytes nobody looks at are not copied out of the input.
                    let keep = self.keep_bytes || handout;
                    let bytes = self.reader.bytes(block, at, len);
                    load_dissected(&mut frame, &record, bytes, keep, &self.thresholds);
                    mark = number_and_reassemble(
                        &mut self.count,
                        &mut self.session,
                        &mut frame,
                        bytes,
                    );
                    break frame;
                }
                Some(Item::Dissected {
                    mut frame,
                    block,
                    at,
                    len,
                }) => {
                    let bytes = self.reader.bytes(block, at, len);
                    if handout && frame.data.is_empty() {
                        frame.data.extend_from_slice(bytes);
                    }
                    mark = number_and_reassemble(
                        &mut self.count,
                        &mut self.session,
                        &mut frame,
                        bytes,
                    );
                    break frame;
                }
                Some(Item::Processed { frame, flow }) => {
                    self.count = frame.number;
                    mark = flow;
                    break frame;
                }
                Some(Item::Event(event)) => match *event {
                    Event::Section(s) => {
                        self.drain_render()?;
                        self.dump(|d| d.section(&s))?;
                        self.sections.push(s);
                    }
                    Event::Interface(i) => {
                        self.drain_render()?;
                        self.dump(|d| d.interface(&i))?;
                        self.interfaces.push(i);
                    }
                    Event::Metadata(m) => {
                        self.drain_render()?;
                        self.dump(|d| d.metadata(&m))?;
                        if self.store {
                            self.metadata.push(m);
                        }
                    }
                    Event::Warning(w) => self.warnings.push(format!("{}: {w}", self.name)),
                    Event::Packet(_) => {
                        unreachable!("the reading thread sends packets as items")
                    }
                },
            }
        };
        for r in &frame.reassembled {
            self.record_reassembled(r);
        }
        if let Err(e) = self.trace_frame(&frame, mark) {
            self.scratch = Some(frame);
            return Err(e);
        }
        if let Some(cb) = &mut self.verbose {
            cb(&frame);
        }
        self.progress_tick();
        if let Some(stage) = &mut self.render {
            if self.store {
                self.frames.push(Frame::clone(&frame));
            }
            if let Some(batch) = stage.push(frame) {
                self.write_rendered(batch)?;
            }
            // Write what is rendered already, so the workers never wait for room.
            while let Some(batch) = self.render.as_mut().and_then(|s| s.take(false)) {
                self.write_rendered(batch)?;
            }
            return Ok(Step::Done);
        }
        // Text made ahead holds unless the session changed the frame since.
        let text = if self.ahead && !self.session.as_ref().is_some_and(Session::changed) {
            self.reader.rendered()
        } else {
            None
        };
        let result = match (&mut self.dumper, text) {
            (Some(d), Some(text)) => d.rendered(&frame, text),
            (Some(d), None) => d.frame(&frame),
            (None, _) => Ok(()),
        };
        if let Err(source) = result {
            self.scratch = Some(frame);
            return Err(self.write_failed(source));
        }
        if self.store {
            self.frames.push(Frame::clone(&frame));
        }
        if handout {
            Ok(Step::Frame(*frame))
        } else {
            // Frames go back to the reader to be refilled; the scratch frame stays.
            if self.scratch.is_none() {
                self.scratch = Some(frame);
            } else {
                self.reader.recycle(frame);
            }
            Ok(Step::Done)
        }
    }

    /// Hands a frame to the tracer, when its TCP segment belongs to a flow.
    fn trace_frame(&mut self, frame: &Frame, mark: Option<FlowMark>) -> Result<(), Error> {
        let Some((out, tracer)) = &mut self.trace else {
            return Ok(());
        };
        let Some(mark) = mark else {
            return Ok(());
        };
        match tracer.frame(frame, mark) {
            Ok(Some(ended)) => {
                if let Some(cb) = &mut self.on_flow {
                    cb(ended);
                }
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(source) => {
                self.failed = true;
                Err(Error::Write {
                    path: out.display(),
                    source,
                })
            }
        }
    }

    fn record_reassembled(&mut self, r: &Reassembled) {
        if let Some(cb) = &mut self.on_reassembled {
            cb(r);
        }
        if self.store {
            self.reassembled.push(r);
        }
    }

    fn progress_tick(&self) {
        if let Some((bar, _)) = &self.progress {
            if self.count % 1024 == 0 {
                bar.set_position(self.reader.offset());
                bar.set_message(format!("{} frames", self.count));
            }
        }
    }

    /// The next frame, or the error that stopped the extraction.
    pub fn next_frame(&mut self) -> Option<Result<Frame, Error>> {
        loop {
            return match self.step(true) {
                Ok(Step::Frame(frame)) => Some(Ok(frame)),
                // Written by the render stage (not when handing out): on to the next.
                Ok(Step::Done) => continue,
                Ok(Step::End) => match self.finish() {
                    Ok(()) => None,
                    Err(e) => Some(Err(e)),
                },
                Err(e) => Some(Err(e)),
            };
        }
    }
}

/// What one [`Extractor::step`] did.
enum Step {
    /// The input ended.
    End,
    /// A frame went through: written, kept or recycled.
    Done,
    /// The frame, for the caller.
    Frame(Frame),
}

/// Finishes the output with the frames read so far, unless an error stopped the extraction
/// (then the temporary file is removed); see [`Extractor`].
impl Drop for Extractor {
    fn drop(&mut self) {
        if !self.finished && !self.failed && !std::thread::panicking() {
            let _ = self.finish();
        }
        self.clear_progress();
    }
}

/// Iterating yields frames until the end of the capture; a write error ends the
/// iteration and is kept in [`Extractor::warnings`]. Use [`Extractor::next_frame`] to
/// get errors as values.
impl Iterator for Extractor {
    type Item = Frame;

    fn next(&mut self) -> Option<Frame> {
        match self.next_frame()? {
            Ok(frame) => Some(frame),
            Err(e) => {
                self.warnings.push(e.to_string());
                None
            }
        }
    }
}

/// Gives a frame its number and runs the stateful stages over it; `bytes` are its
/// captured bytes, wherever they lie. Returns what its TCP segment did to its flow.
fn number_and_reassemble(
    count: &mut u64,
    session: &mut Option<Session>,
    frame: &mut Frame,
    bytes: &[u8],
) -> Option<FlowMark> {
    *count += 1;
    frame.number = *count;
    let session = session.as_mut()?;
    session.process(frame, bytes);
    session.last_flow()
}
