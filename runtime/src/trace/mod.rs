//! The TCP flow tracer (PyPCAPKit's `trace`): every TCP connection's frames into a file
//! of their own, plus an index.
//!
//! A flow is a TCP connection both ways (its `tcp.stream`), or with
//! [`TraceDirection::OneWay`] one direction of it, as PyPCAPKit traces. It ends on its FIN
//! exchange (at the ACK of the second FIN), on a RST, or at the end of the capture; a
//! frame of the connection seen after that (a late retransmission) still goes to its
//! file. pcap and pcapng traces hold the original records unchanged (bytes, lengths,
//! times at the chosen resolution, the frame's link type); json, ndjson, plist and tree
//! traces hold each frame's dissection as the main output does, under its original
//! number.
//!
//! Files are named `000003_192.0.2.1_50000_198.51.100.7_80_20231114T221320.019000Z.pcap`:
//! the connection's number, its first sender and receiver, and its first frame's time
//! (UTC), with nothing a file system refuses (IPv6 colons become `-`). At most
//! [`TraceOptions::max_open`] files are open at once; frames are buffered per flow, and
//! a flow's file is reopened to append. `index.ndjson` lists every flow.

mod files;
mod records;

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::chain::{Frame, Timestamp};
use crate::dump::{json_string, Document, Dumper, JsonText, Ndjson, PlistText, TreeText};
use crate::flow::{Endpoint, FlowMark};
use crate::reader::{ByteOrder, CaptureInfo};
use files::OpenFiles;
pub use records::{RecordFile, RecordFormat, Skipped};

/// A flow's buffered output is written to its file past this many bytes.
const FLUSH_AT: usize = 32 << 10;
/// All flows' buffered output together: past this, every buffer is written out.
const MAX_PENDING: usize = 16 << 20;

/// What a trace file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TraceFormat {
    /// The original records, in a pcap file (PyPCAPKit's default).
    Pcap,
    /// The original records, in a pcapng file.
    Pcapng,
    /// The frames' dissection, one JSON document.
    Json,
    /// The frames' dissection, a JSON object a line.
    Ndjson,
    /// The frames' dissection, an XML property list.
    Plist,
    /// The frames' dissection, PyPCAPKit's text tree.
    Tree,
}

impl TraceFormat {
    /// Every format, for parsing by name.
    pub const ALL: [TraceFormat; 6] = [
        TraceFormat::Pcap,
        TraceFormat::Pcapng,
        TraceFormat::Json,
        TraceFormat::Ndjson,
        TraceFormat::Plist,
        TraceFormat::Tree,
    ];

    /// The name [`FromStr`] accepts.
    pub fn name(self) -> &'static str {
        match self {
            TraceFormat::Pcap => "pcap",
            TraceFormat::Pcapng => "pcapng",
            TraceFormat::Json => "json",
            TraceFormat::Ndjson => "ndjson",
            TraceFormat::Plist => "plist",
            TraceFormat::Tree => "tree",
        }
    }

    /// The trace files' extension.
    pub fn extension(self) -> &'static str {
        match self {
            TraceFormat::Tree => "txt",
            f => f.name(),
        }
    }
}

impl fmt::Display for TraceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TraceFormat {
    type Err = String;

    /// ```
    /// use pcapkit::trace::TraceFormat;
    ///
    /// assert_eq!("PCAPNG".parse::<TraceFormat>(), Ok(TraceFormat::Pcapng));
    /// assert!("csv".parse::<TraceFormat>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<TraceFormat, String> {
        TraceFormat::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown trace format `{s}` (known: pcap, pcapng, json, ndjson, plist, tree)"
                )
            })
    }
}

/// Which frames make a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TraceDirection {
    /// A TCP connection, both directions in one file.
    #[default]
    Both,
    /// One direction of a TCP connection a file, as PyPCAPKit traces.
    OneWay,
}

impl FromStr for TraceDirection {
    type Err = String;

    fn from_str(s: &str) -> Result<TraceDirection, String> {
        match s.to_ascii_lowercase().as_str() {
            "both" => Ok(TraceDirection::Both),
            "one-way" | "oneway" => Ok(TraceDirection::OneWay),
            _ => Err(format!(
                "unknown trace direction `{s}` (known: both, one-way)"
            )),
        }
    }
}

/// How flows are traced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceOptions {
    /// What the files hold (pcap by default).
    pub format: TraceFormat,
    /// Byte order of pcap and pcapng traces (little by default, as PyPCAPKit on the
    /// usual machines).
    pub byte_order: ByteOrder,
    /// Times in nanoseconds in pcap and pcapng traces (microseconds by default).
    pub nanosecond: bool,
    /// A file per connection or per direction.
    pub direction: TraceDirection,
    /// Files open at once, at most.
    pub max_open: usize,
}

impl Default for TraceOptions {
    fn default() -> Self {
        TraceOptions {
            format: TraceFormat::Pcap,
            byte_order: ByteOrder::Little,
            nanosecond: false,
            direction: TraceDirection::Both,
            max_open: 128,
        }
    }
}

/// How a flow ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowEnd {
    /// Its FIN exchange (the second FIN acknowledged, or the capture ended after it).
    Fin,
    /// A RST.
    Rst,
    /// The capture ended first.
    Capture,
}

impl FlowEnd {
    /// `fin`, `rst` or `capture`, as the index writes it.
    pub fn name(self) -> &'static str {
        match self {
            FlowEnd::Fin => "fin",
            FlowEnd::Rst => "rst",
            FlowEnd::Capture => "capture",
        }
    }
}

/// One traced flow, as the index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracedFlow {
    /// The file's name without its extension.
    pub label: String,
    /// The file's name in the trace directory.
    pub file: String,
    /// The TCP connection's number (`tcp.stream`).
    pub stream: u64,
    /// The connection's first sender; for a one-way flow, its sender.
    pub a: Endpoint,
    /// The other end; for a one-way flow, its receiver.
    pub b: Endpoint,
    /// Only the frames from `a` to `b` (a one-way flow).
    pub one_way: bool,
    /// Capture time of the first frame.
    pub first: Timestamp,
    /// Capture time of the last frame.
    pub last: Timestamp,
    /// The frames' numbers in the capture, in order.
    pub frames: Vec<u64>,
    /// Captured bytes of all its frames.
    pub bytes: u64,
    /// Bytes of all its frames on the wire.
    pub wire_bytes: u64,
    /// Frames not written: a pcap file has one link type, and they had another.
    pub skipped: u64,
    /// How it ended; `None` while it is open.
    pub end: Option<FlowEnd>,
}

impl TracedFlow {
    /// Its line in `index.ndjson`.
    pub fn index_line(&self) -> String {
        let mut s = String::with_capacity(256 + self.frames.len() * 8);
        s.push_str("{\"label\":");
        json_string(&mut s, &self.label);
        s.push_str(",\"file\":");
        json_string(&mut s, &self.file);
        s.push_str(&format!(
            ",\"stream\":{},\"a\":\"{}\",\"b\":\"{}\",\"one_way\":{},\"first\":\"{}\",\"last\":\"{}\",\"packets\":{},\"bytes\":{},\"wire_bytes\":{}",
            self.stream,
            self.a,
            self.b,
            self.one_way,
            self.first,
            self.last,
            self.frames.len(),
            self.bytes,
            self.wire_bytes,
        ));
        if self.skipped > 0 {
            s.push_str(&format!(",\"skipped\":{}", self.skipped));
        }
        s.push_str(",\"end\":");
        match self.end {
            Some(e) => {
                s.push('"');
                s.push_str(e.name());
                s.push('"');
            }
            None => s.push_str("null"),
        }
        s.push_str(",\"frames\":[");
        for (i, n) in self.frames.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(itoa::Buffer::new().format(*n));
        }
        s.push_str("]}");
        s
    }
}

/// A flow's dissection document, writing into a buffer the tracer empties.
trait FlowDocument: Send {
    fn dumper(&mut self) -> &mut dyn Dumper;
    fn buffer(&mut self) -> &mut Vec<u8>;
    fn shrink(&mut self);
}

impl<D: crate::dump::DocumentWriter + Send> FlowDocument for Document<Vec<u8>, D> {
    fn dumper(&mut self) -> &mut dyn Dumper {
        self
    }

    fn buffer(&mut self) -> &mut Vec<u8> {
        self.output_mut()
    }

    fn shrink(&mut self) {
        Document::shrink(self);
    }
}

impl FlowDocument for Ndjson<Vec<u8>> {
    fn dumper(&mut self) -> &mut dyn Dumper {
        self
    }

    fn buffer(&mut self) -> &mut Vec<u8> {
        self.output_mut()
    }

    fn shrink(&mut self) {
        Ndjson::shrink(self);
    }
}

enum FlowWriter {
    Records(RecordFile, Vec<u8>),
    Document(Box<dyn FlowDocument>),
}

impl FlowWriter {
    fn buffer(&mut self) -> &mut Vec<u8> {
        match self {
            FlowWriter::Records(_, buffer) => buffer,
            FlowWriter::Document(d) => d.buffer(),
        }
    }
}

struct FlowState {
    writer: FlowWriter,
    /// Its file exists.
    created: bool,
    /// Its buffer holds bytes (it is in `dirty`).
    dirty: bool,
    /// Both FINs were seen; the direction (`from_b`) that sent the second.
    second_fin_from_b: Option<bool>,
}

/// Writes every TCP flow's frames into a file of its own, in a directory.
pub struct Tracer {
    dir: PathBuf,
    options: TraceOptions,
    info: CaptureInfo,
    flows: Vec<TracedFlow>,
    states: Vec<FlowState>,
    /// (stream, 0 both ways | 1 from a | 2 from b) to the flow.
    by_key: HashMap<(u64, u8), usize>,
    files: OpenFiles,
    /// Bytes buffered across flows.
    pending: usize,
    dirty: Vec<usize>,
}

impl Tracer {
    /// Traces into `dir` (which exists and is empty); `info` is the capture's header,
    /// which dissection documents start with.
    pub fn new(dir: PathBuf, options: TraceOptions, info: CaptureInfo) -> Tracer {
        Tracer {
            dir,
            files: OpenFiles::new(options.max_open),
            options,
            info,
            flows: Vec::new(),
            states: Vec::new(),
            by_key: HashMap::new(),
            pending: 0,
            dirty: Vec::new(),
        }
    }

    /// Every flow so far, in the order of their first frames.
    pub fn flows(&self) -> &[TracedFlow] {
        &self.flows
    }

    /// Files open now (never more than [`TraceOptions::max_open`]).
    pub fn open_files(&self) -> usize {
        self.files.len()
    }

    /// Files opened so far, reopenings to append included.
    pub fn files_opened(&self) -> u64 {
        self.files.opened()
    }

    /// Traces a frame (its bytes in `frame.data`) whose TCP segment is `mark`; returns
    /// the flow it ended, if it ended one.
    pub fn frame(&mut self, frame: &Frame, mark: FlowMark) -> io::Result<Option<&TracedFlow>> {
        let one_way = self.options.direction == TraceDirection::OneWay;
        let (key, a, b) = match (one_way, mark.from_b) {
            (false, _) => ((mark.stream, 0), mark.a, mark.b),
            (true, false) => ((mark.stream, 1), mark.a, mark.b),
            (true, true) => ((mark.stream, 2), mark.b, mark.a),
        };
        let id = match self.by_key.get(&key) {
            Some(&id) => id,
            None => self.start(key, a, b, one_way, frame),
        };
        let flow = &mut self.flows[id];
        flow.frames.push(frame.number);
        flow.last = frame.timestamp;
        flow.bytes += frame.data.len() as u64;
        flow.wire_bytes += u64::from(frame.len);
        let state = &mut self.states[id];
        let before = state.writer.buffer().len();
        match &mut state.writer {
            FlowWriter::Records(file, buffer) => {
                if record_format(self.options)
                    .record(buffer, file, frame)
                    .is_err()
                {
                    flow.skipped += 1;
                }
            }
            FlowWriter::Document(d) => {
                d.dumper().frame(frame)?;
                d.shrink();
            }
        }
        let after = state.writer.buffer().len();
        self.pending = self.pending + after - before;
        if after >= FLUSH_AT {
            self.flush(id)?;
        } else if after > 0 && !state.dirty {
            state.dirty = true;
            self.dirty.push(id);
        }
        if self.pending > MAX_PENDING {
            self.flush_all()?;
        }
        let end = if self.flows[id].end.is_some() {
            None
        } else if one_way {
            if mark.rst {
                Some(FlowEnd::Rst)
            } else if mark.fin {
                Some(FlowEnd::Fin)
            } else {
                None
            }
        } else if mark.rst {
            Some(FlowEnd::Rst)
        } else if mark.closed {
            // The FIN exchange ends at the ACK of the second FIN, from the other side.
            let state = &mut self.states[id];
            match state.second_fin_from_b {
                None => {
                    state.second_fin_from_b = Some(mark.from_b);
                    None
                }
                Some(from_b) if from_b != mark.from_b => Some(FlowEnd::Fin),
                Some(_) => None,
            }
        } else {
            None
        };
        match end {
            Some(end) => {
                self.end(id, end)?;
                Ok(Some(&self.flows[id]))
            }
            None => Ok(None),
        }
    }

    /// Ends the capture: every flow still open ends, every file is completed, and the
    /// index is written. Returns the flows that ended now.
    pub fn finish(&mut self) -> io::Result<Vec<TracedFlow>> {
        let mut ended = Vec::new();
        for id in 0..self.flows.len() {
            if self.flows[id].end.is_none() {
                let end = match self.states[id].second_fin_from_b {
                    Some(_) => FlowEnd::Fin,
                    None => FlowEnd::Capture,
                };
                self.flows[id].end = Some(end);
                ended.push(self.flows[id].clone());
            }
            if let FlowWriter::Document(d) = &mut self.states[id].writer {
                let before = d.buffer().len();
                d.dumper().finish()?;
                // The document's closing bytes are pending like any other.
                self.pending += d.buffer().len() - before;
            }
            self.flush(id)?;
            self.files.close(id);
        }
        let mut index = String::new();
        for flow in &self.flows {
            index.push_str(&flow.index_line());
            index.push('\n');
        }
        std::fs::write(self.dir.join("index.ndjson"), index)?;
        Ok(ended)
    }

    /// A new flow, starting with `frame`.
    fn start(
        &mut self,
        key: (u64, u8),
        a: Endpoint,
        b: Endpoint,
        one_way: bool,
        frame: &Frame,
    ) -> usize {
        let time: String = frame
            .timestamp
            .iso8601()
            .chars()
            .filter(|c| *c != '-' && *c != ':')
            .collect();
        let label = format!("{:06}_{}_{}_{time}Z", key.0, a.file_name(), b.file_name());
        let file = format!("{label}.{}", self.options.format.extension());
        let mut writer = match self.options.format {
            TraceFormat::Pcap | TraceFormat::Pcapng => {
                let mut records = RecordFile::default();
                let mut buffer = Vec::new();
                record_format(self.options).begin(&mut buffer, &mut records, frame.linktype);
                FlowWriter::Records(records, buffer)
            }
            TraceFormat::Json => {
                FlowWriter::Document(Box::new(Document::<Vec<u8>, JsonText>::new(Vec::new())))
            }
            TraceFormat::Plist => {
                FlowWriter::Document(Box::new(Document::<Vec<u8>, PlistText>::new(Vec::new())))
            }
            TraceFormat::Tree => {
                FlowWriter::Document(Box::new(Document::<Vec<u8>, TreeText>::new(Vec::new())))
            }
            TraceFormat::Ndjson => FlowWriter::Document(Box::new(Ndjson::new(Vec::new()))),
        };
        if let FlowWriter::Document(d) = &mut writer {
            // Writing into memory cannot fail.
            let _ = d.dumper().header(&self.info);
        }
        let id = self.flows.len();
        self.pending += writer.buffer().len();
        self.flows.push(TracedFlow {
            label,
            file,
            stream: key.0,
            a,
            b,
            one_way,
            first: frame.timestamp,
            last: frame.timestamp,
            frames: Vec::new(),
            bytes: 0,
            wire_bytes: 0,
            skipped: 0,
            end: None,
        });
        self.states.push(FlowState {
            writer,
            created: false,
            dirty: true,
            second_fin_from_b: None,
        });
        self.dirty.push(id);
        self.by_key.insert(key, id);
        id
    }

    fn end(&mut self, id: usize, end: FlowEnd) -> io::Result<()> {
        self.flows[id].end = Some(end);
        self.flush(id)?;
        self.files.close(id);
        Ok(())
    }

    /// Writes flow `id`'s buffer to its file.
    fn flush(&mut self, id: usize) -> io::Result<()> {
        let state = &mut self.states[id];
        state.dirty = false;
        let buffer = state.writer.buffer();
        if buffer.is_empty() && state.created {
            return Ok(());
        }
        let path = self.dir.join(&self.flows[id].file);
        self.files.append(id, &path, !state.created, buffer)?;
        state.created = true;
        self.pending -= buffer.len();
        buffer.clear();
        buffer.shrink_to(FLUSH_AT);
        Ok(())
    }

    fn flush_all(&mut self) -> io::Result<()> {
        for id in std::mem::take(&mut self.dirty) {
            if self.states[id].dirty {
                self.flush(id)?;
            }
        }
        Ok(())
    }
}

fn record_format(options: TraceOptions) -> RecordFormat {
    RecordFormat {
        pcapng: options.format == TraceFormat::Pcapng,
        byte_order: options.byte_order,
        nanosecond: options.nanosecond,
    }
}

/// Whether `path` lies in directory `dir` (or is it), comparing the directories as the
/// file system resolves them; for refusing an output inside a trace directory.
pub fn is_inside(path: &Path, dir: &Path) -> bool {
    let resolve = |p: &Path| -> Option<PathBuf> {
        // The last component may not exist yet: resolve its parent.
        let absolute = std::path::absolute(p).ok()?;
        let name = absolute.file_name()?.to_owned();
        let parent = absolute.parent()?;
        Some(std::fs::canonicalize(parent).ok()?.join(name))
    };
    match (resolve(path), resolve(dir)) {
        (Some(p), Some(d)) => p.starts_with(&d),
        _ => false,
    }
}
