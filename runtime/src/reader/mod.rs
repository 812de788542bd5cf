//! Capture files: pcap (all four magics, and the "modified" variant) and pcapng (several
//! sections of either byte order, several interfaces, options and metadata blocks: see
//! [`pcapng_meta`]). The fixed structures are generated from `specs/capture/`; this module
//! walks the files.
//!
//! A damaged file is read up to the damage: every record before it is returned, then a
//! [`Event::Warning`] says what went wrong and where, and the reader stops.

mod pcap;
mod pcapng;
pub mod pcapng_meta;
mod source;

use std::fmt;
use std::io::Read;

use crate::chain::Timestamp;

pub use pcap::PcapHeader;
pub use pcapng::{Interface, Section};
pub use pcapng_meta::{Metadata, Options};

pub(crate) use source::Block;
use source::Source;
pub(crate) use source::{prefetch, prefetch_value};

/// Byte order of a file or section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteOrder {
    /// Least significant byte first.
    Little,
    /// Most significant byte first (network order).
    Big,
}

impl ByteOrder {
    /// `little` or `big`, as the dumps write it.
    pub fn name(self) -> &'static str {
        match self {
            ByteOrder::Little => "little",
            ByteOrder::Big => "big",
        }
    }

    pub(crate) fn deku(self) -> deku::ctx::Endian {
        match self {
            ByteOrder::Little => deku::ctx::Endian::Little,
            ByteOrder::Big => deku::ctx::Endian::Big,
        }
    }
}

/// A file that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Reading the input failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The magic number is neither pcap's nor pcapng's: its bytes in hex, or `missing`
    /// when the input is empty.
    #[error("not a pcap or pcapng file (the first bytes are {0})")]
    NotACapture(String),
    /// The input ends inside the magic number or the pcap file header (named).
    #[error("the file ends inside its {0}")]
    TruncatedHeader(&'static str),
    /// The pcap file header cannot be parsed, or its version is not 2.x.
    #[error("{0}")]
    Unsupported(String),
}

impl ReadError {
    /// The input is recognisably a capture (its magic number is pcap's) but its file
    /// header is cut short or not supported: a damaged capture rather than something else.
    pub fn is_damage(&self) -> bool {
        match self {
            ReadError::TruncatedHeader(what) => *what != MAGIC_NUMBER,
            ReadError::Unsupported(_) => true,
            ReadError::Io(_) | ReadError::NotACapture(_) => false,
        }
    }
}

/// What [`ReadError::TruncatedHeader`] names when the input is too short for a magic
/// number, so that nothing says it is a capture.
const MAGIC_NUMBER: &str = "magic number";

/// Metadata of a record; its bytes are [`CaptureReader::packet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// When the packet was captured; for pcapng, scaled by the interface's `if_tsresol`
    /// and `if_tsoffset`, and zero for a Simple Packet Block, which has no timestamp.
    pub timestamp: Timestamp,
    /// Length on the wire.
    pub orig_len: u32,
    /// Link-layer header type (LINKTYPE_ value): the pcap file header's, or the pcapng
    /// interface's.
    pub linktype: u32,
    /// pcapng interface (index in its section); `None` in pcap.
    pub interface: Option<u32>,
    /// The timestamp's raw sub-second part as the file stores it, and its unit
    /// (microseconds or nanoseconds in pcap), for PyPCAPKit-style `frame_info`.
    pub ts_frac: u32,
    /// `ts_frac` is in nanoseconds (always in pcapng, where it is the timestamp's
    /// `nanos`); otherwise microseconds.
    pub nanosecond: bool,
}

/// What the reader found next.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A packet record; its bytes are [`CaptureReader::packet`] until the next event.
    Packet(Record),
    /// A pcapng section begins.
    Section(Section),
    /// A pcapng interface is described.
    Interface(Interface),
    /// A pcapng block about the capture rather than a packet: name resolution, interface
    /// statistics, decryption secrets (type and length only), a custom block.
    Metadata(Metadata),
    /// Something in the file is wrong; reading stops after this if it could not go on.
    Warning(String),
}

impl Event {
    /// Roughly how many bytes of the file the event holds on to (options, metadata).
    pub(crate) fn held_bytes(&self) -> usize {
        match self {
            Event::Packet(_) => 0,
            Event::Section(s) => s.options.bytes.len(),
            Event::Interface(i) => i.options.bytes.len(),
            Event::Metadata(Metadata::NameResolution(n)) => n.body.len(),
            Event::Metadata(Metadata::InterfaceStatistics(i)) => i.options.bytes.len(),
            Event::Metadata(Metadata::DecryptionSecrets(d)) => d.options.bytes.len(),
            Event::Metadata(Metadata::Custom(_)) => 0,
            Event::Warning(w) => w.len(),
        }
    }
}

/// The kind of capture file, with what its header says.
#[derive(Debug, Clone, PartialEq)]
pub enum CaptureInfo {
    /// A pcap file, and its file header.
    Pcap(PcapHeader),
    /// A pcapng file: its section and interface headers arrive as [`Event`]s.
    Pcapng,
}

/// Reads records from a pcap or pcapng file or stream.
pub struct CaptureReader {
    source: Source,
    format: Format,
    info: CaptureInfo,
    done: bool,
    packet: Span,
}

/// Where the bytes of the last packet are.
#[derive(Debug, Clone, Copy)]
enum Span {
    /// In the input, at this offset.
    Input { offset: u64, len: usize },
    /// In the current pcapng block.
    Block { from: usize, len: usize },
}

enum Format {
    Pcap(pcap::State),
    Pcapng(pcapng::State),
}

impl CaptureReader {
    /// Reads a stream: recognises the format and reads the file header.
    pub fn new(input: impl Read + Send + 'static) -> Result<Self, ReadError> {
        Self::start(Source::stream(Box::new(input)))
    }

    /// Reads a file (a regular file in large blocks, shared with the threads dissecting
    /// its packets).
    pub fn from_file(file: std::fs::File) -> Result<Self, ReadError> {
        Self::start(Source::file(file))
    }

    fn start(mut source: Source) -> Result<Self, ReadError> {
        let head = source.fill(4)?;
        if head.len() < 4 {
            return Err(if head.is_empty() {
                ReadError::NotACapture("missing: the input is empty".into())
            } else {
                ReadError::TruncatedHeader(MAGIC_NUMBER)
            });
        }
        let magic = [head[0], head[1], head[2], head[3]];
        if magic == pcapng::SHB_TYPE {
            return Ok(CaptureReader {
                source,
                format: Format::Pcapng(pcapng::State::default()),
                info: CaptureInfo::Pcapng,
                done: false,
                packet: Span::Block { from: 0, len: 0 },
            });
        }
        let (state, header) = pcap::open(&mut source, magic)?;
        Ok(CaptureReader {
            source,
            format: Format::Pcap(state),
            info: CaptureInfo::Pcap(header),
            done: false,
            packet: Span::Block { from: 0, len: 0 },
        })
    }

    /// What the file header says (pcap), or that the file is pcapng (whose sections and
    /// interfaces arrive as events).
    pub fn info(&self) -> &CaptureInfo {
        &self.info
    }

    /// Offset in the stream of the next unread byte.
    pub fn offset(&self) -> u64 {
        self.source.offset()
    }

    /// The next event: `None` at the end, and after a warning that stopped the reader.
    pub fn next_event(&mut self) -> Option<Event> {
        if self.done {
            return None;
        }
        let event = match &mut self.format {
            Format::Pcap(state) => pcap::next(&mut self.source, state, &mut self.packet),
            Format::Pcapng(state) => pcapng::next(&mut self.source, state, &mut self.packet),
        };
        match event {
            Step::Event(e) => Some(e),
            Step::End => {
                self.done = true;
                None
            }
            Step::Stop(warning) => {
                self.done = true;
                Some(Event::Warning(warning))
            }
        }
    }
}

impl CaptureReader {
    /// Where the bytes of the last [`Event::Packet`] lie in a shared block of a file
    /// (the block, and the packet's start and length in it), when they lie there
    /// unchanged: they can then be read in place, from any thread.
    pub(crate) fn packet_shared(&self) -> Option<(&Block, usize, usize)> {
        match self.packet {
            Span::Input { offset, len } => self
                .source
                .shared(offset)
                .map(|(block, at)| (block, at, len)),
            Span::Block { .. } => None,
        }
    }

    /// The options of the last [`Event::Packet`] (pcapng Enhanced and obsolete Packet
    /// Blocks: comments, flags, hashes, ...), when its block has any; ask before the next
    /// call to `next_event`, which reads another block.
    pub fn packet_options(&self) -> Option<Options> {
        match &self.format {
            Format::Pcapng(state) => state.packet_options(),
            Format::Pcap(_) => None,
        }
    }

    /// The bytes of the last [`Event::Packet`], valid until the next call to `next_event`.
    pub fn packet(&self) -> &[u8] {
        match (self.packet, &self.format) {
            (Span::Input { offset, len }, _) => self.source.recent(offset, len),
            (Span::Block { from, len }, Format::Pcapng(state)) => &state.block()[from..from + len],
            (Span::Block { .. }, Format::Pcap(_)) => &[],
        }
    }
}

/// What a format reader returns for one step.
enum Step {
    Event(Event),
    End,
    /// The file is damaged here: warn and stop.
    Stop(String),
}

impl fmt::Display for ByteOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
