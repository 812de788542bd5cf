//! Engines: what turns the reader's records into dissected frames, in capture order,
//! for the [`Extractor`](crate::Extractor) (which then runs the stateful stages, the
//! dumper and the tracer). PyPCAPKit's `engine` option.
//!
//! - [`EngineKind::Default`] (`pcapkit`): a reader thread; the caller dissects, and the
//!   reader dissects too while the caller lags behind (two cores at most).
//! - [`EngineKind::Pipeline`]: batches numbered in capture order are dissected by N
//!   worker threads, handed out round-robin and collected in the same rotation (the
//!   reorder stage); the stateful stages then run in order on the caller's thread.
//! - [`EngineKind::Server`]: frames are sharded by the unordered pair of their IP
//!   addresses to N workers, each owning a [`Session`](crate::session::Session) that
//!   dissects and reassembles its flows; the caller merges the results by frame number
//!   and renumbers TCP streams in order of first appearance.
//!
//! All three are bounded (a slow consumer holds the reader back) and recycle frames.
//!
//! The output's text is made off the caller's thread too. When the stateful stages
//! cannot change a frame's text (no reassembly, no flow tracing), the threads that
//! dissect make it as they go: the default engine's reader for the batches it dissects,
//! the pipeline's workers for all of theirs (see `ahead.rs`). Otherwise, with more than
//! one thread, the render stage takes frames after the stateful stages and gives their
//! text back in capture order, whatever the engine (see `render.rs`).
//!
//! The third-party engines, PyPCAPKit's dpkt, scapy and pyshark as their Rust-world
//! counterparts, each behind a cargo feature of the same name (all on by default):
//!
//! - [`EngineKind::Etherparse`] (dpkt's place): the etherparse crate decodes each frame.
//! - [`EngineKind::Pnet`] (scapy's place): the `pnet_packet` crate's packet views.
//! - [`EngineKind::Tshark`] (pyshark's place): runs `tshark -r FILE -T json` and maps
//!   what it reports (tshark must be on `PATH`).
//!
//! They give the same frame envelope (number, time, lengths, chain) with the backend's
//! own fields in [`Frame::foreign`](crate::Frame::foreign) (see [`ForeignLayer`]); they
//! honour the `layer` and `protocol` thresholds by cutting what the backend decoded,
//! and warn when the backend does not decode the protocol asked for. They do no
//! reassembly: the extractor refuses `--ip`/`--tcp`, tracing and connection summaries
//! with them. They run on the caller's thread (tshark in a process of its own).

// Frames travel boxed, in the vectors that carry them between threads too: a frame is 192
// bytes, and moving it at every handout, return and refill cost more than its pointer.
#![allow(clippy::vec_box)]

mod ahead;
mod apart;
mod default;
#[cfg(feature = "etherparse")]
mod etherparse;
mod foreign;
mod pipeline;
#[cfg(feature = "pnet")]
mod pnet;
mod render;
mod room;
mod server;
#[cfg(feature = "tshark")]
mod tshark;

pub use foreign::backend_field_names;
pub(crate) use foreign::{backend_fields, backend_has};
pub use foreign::{ForeignLayer, ForeignValue};

use std::str::FromStr;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::Arc;

use crate::chain::{self, Frame, Reassembled, Thresholds};
use crate::dump::Render;
use crate::flow::FlowMark;
use crate::reader::{Block, CaptureReader, Event, Record};
use crate::reassembly::tcp::ConnectionSummary;
use crate::session::Session;

use ahead::BatchText;
pub(crate) use default::DefaultEngine;
pub(crate) use pipeline::PipelineEngine;
pub(crate) use render::{RenderBatch, RenderStage};
pub(crate) use server::ServerEngine;

/// Which engine extracts (see the [module](self) documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EngineKind {
    /// One reader thread; the caller dissects (PyPCAPKit's `default`, alias `pcapkit`).
    #[default]
    Default,
    /// N threads dissect batches in parallel; the stateful stages run in order after.
    Pipeline,
    /// N workers each dissect and reassemble the flows of their shard of addresses.
    Server,
    /// The etherparse crate decodes each frame (in place of PyPCAPKit's dpkt).
    Etherparse,
    /// The `pnet_packet` crate decodes each frame (in place of PyPCAPKit's scapy).
    Pnet,
    /// tshark decodes the file, in a child process (as PyPCAPKit's pyshark does).
    Tshark,
}

impl EngineKind {
    /// The name `--engine` takes.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Default => "default",
            EngineKind::Pipeline => "pipeline",
            EngineKind::Server => "server",
            EngineKind::Etherparse => "etherparse",
            EngineKind::Pnet => "pnet",
            EngineKind::Tshark => "tshark",
        }
    }

    /// Whether the engine is a third-party backend (etherparse, pnet, tshark): its
    /// fields are the backend's, and it does no reassembly.
    pub fn is_foreign(self) -> bool {
        matches!(
            self,
            EngineKind::Etherparse | EngineKind::Pnet | EngineKind::Tshark
        )
    }
}

impl std::fmt::Display for EngineKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EngineKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "default" | "pcapkit" => Ok(EngineKind::Default),
            "pipeline" => Ok(EngineKind::Pipeline),
            "server" => Ok(EngineKind::Server),
            "etherparse" | "dpkt" => Ok(EngineKind::Etherparse),
            "pnet" | "scapy" => Ok(EngineKind::Pnet),
            "tshark" | "pyshark" => Ok(EngineKind::Tshark),
            _ => Err(format!(
                "unknown engine `{s}` (known: default or pcapkit, pipeline, server, \
                 etherparse, pnet, tshark)"
            )),
        }
    }
}

/// The threads a multi-threaded engine uses when none are asked for: the cores
/// available to the process (PyPCAPKit's `CPU_CNT`).
pub fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Frames per batch, and bytes of packet data per batch, at most.
pub(crate) const BATCH_FRAMES: usize = 256;
pub(crate) const BATCH_BYTES: usize = 1 << 20;
/// Batches in flight between two threads.
pub(crate) const IN_FLIGHT: usize = 4;
/// Frames kept for reuse; frames holding more than `REUSE_BYTES` are not kept.
pub(crate) const SPARE_FRAMES: usize = IN_FLIGHT * BATCH_FRAMES * 2;
pub(crate) const REUSE_BYTES: usize = 64 << 10;

/// What an engine hands the extractor, in capture order.
pub(crate) enum Item {
    /// A packet in a frame, dissected or not (its bytes copied, unless nobody is to look
    /// at them).
    Frame { frame: Box<Frame>, dissected: bool },
    /// A packet lying in a block of the input: its record, and where its bytes lie (the
    /// index of the block in the batch's, and the range in the block).
    Shared {
        record: Record,
        block: usize,
        at: usize,
        len: usize,
    },
    /// A packet lying in a block of the input, dissected: the frame (its bytes copied
    /// only when someone is to look at them) and where its bytes lie, for the stateful
    /// stages to read them there.
    Dissected {
        frame: Box<Frame>,
        block: usize,
        at: usize,
        len: usize,
    },
    /// A frame numbered, dissected and through the stateful stages already (the server
    /// engine), with what its TCP segment did to its flow.
    Processed {
        frame: Box<Frame>,
        flow: Option<FlowMark>,
    },
    /// Anything else the reader reports (sections, interfaces, warnings); boxed, as the
    /// frames are, so that an item is small to move (they are rare).
    Event(Box<Event>),
}

impl Item {
    /// An event of the reader, as an item.
    pub(crate) fn event(event: Event) -> Item {
        Item::Event(Box::new(event))
    }

    /// Whether the item is a packet the caller numbers (a frame the server engine
    /// processed is numbered already).
    pub(crate) fn is_packet(&self) -> bool {
        matches!(
            self,
            Item::Frame { .. } | Item::Shared { .. } | Item::Dissected { .. }
        )
    }
}

/// What the stateful stages left at the end of the capture, when the engine ran them
/// (the server engine).
pub(crate) struct SessionEnd {
    /// Datagrams and PDUs given up on: IPv4, IPv6, then TCP by stream.
    pub rest: Vec<Reassembled>,
    /// Connection summaries, in stream order.
    pub connections: Vec<ConnectionSummary>,
}

/// An engine, as the extractor drives it.
pub(crate) trait Engine: Send {
    /// The next item, in capture order; `None` at the end.
    fn next_item(&mut self) -> Option<Item>;
    /// The bytes of an `Item::Shared` or `Item::Dissected` packet of the last item's batch.
    /// By default none: an engine that hands out only frames holding their own bytes
    /// (`Item::Frame`, `Item::Processed`: the third-party engines) is never asked.
    fn bytes(&self, block: usize, at: usize, len: usize) -> &[u8] {
        let _ = (block, at, len);
        &[]
    }
    /// Gives a frame back to be refilled. By default the frame is dropped: an engine that
    /// makes each frame anew (the third-party engines) has nothing to refill.
    fn recycle(&mut self, frame: Box<Frame>) {
        drop(frame);
    }
    /// How far the reader has got in the input, in bytes.
    fn offset(&self) -> u64;
    /// The engine's sessions' end, when the engine runs the stateful stages itself.
    fn finish_session(&mut self) -> Option<SessionEnd> {
        None
    }
    /// Hands the threads that dissect a renderer each, to make frames' text ahead
    /// (`ahead.rs`); says whether the engine takes them (by default it does not).
    fn render_ahead(&mut self, renderers: Vec<Box<dyn Render>>) -> bool {
        drop(renderers);
        false
    }
    /// How many renderers [`render_ahead`](Self::render_ahead) takes.
    fn renderers(&self) -> usize {
        0
    }
    /// The text made ahead for the last item handed out, if any.
    fn rendered(&self) -> Option<&str> {
        None
    }
}

/// How the engines prepare frames.
#[derive(Clone, Copy)]
pub(crate) struct Options {
    /// Copy each packet's bytes into its frame: someone will look at them.
    pub keep_bytes: bool,
    /// Where dissection stops.
    pub thresholds: Thresholds,
    /// The caller runs stateful stages (reassembly, flow numbering) that no other thread
    /// can take: it is the slower side, and the reader dissects all it can.
    pub stateful: bool,
    /// The default engine keeps its two threads on different processors (`apart.rs`).
    pub apart: bool,
}

/// Starts `kind` over `reader`. `sessions` (the server engine only): one per worker,
/// `threads` of them, or none when no stateful stage is asked for. `input`: the file
/// read, for the tshark engine (which reads it itself). Fails when the engine was left
/// out of the build, or its tool cannot be run.
pub(crate) fn start(
    kind: EngineKind,
    reader: CaptureReader,
    options: Options,
    threads: usize,
    sessions: Option<Vec<Session>>,
    input: Option<&std::path::Path>,
) -> Result<Box<dyn Engine>, String> {
    let _ = input;
    Ok(match kind {
        EngineKind::Default => Box::new(DefaultEngine::start(reader, options)),
        EngineKind::Pipeline => Box::new(PipelineEngine::start(reader, options, threads)),
        EngineKind::Server => Box::new(ServerEngine::start(reader, options, threads, sessions)),
        #[cfg(feature = "etherparse")]
        EngineKind::Etherparse => Box::new(foreign::DecodeEngine::start(
            reader,
            etherparse::Etherparse,
            options,
        )),
        #[cfg(feature = "pnet")]
        EngineKind::Pnet => Box::new(foreign::DecodeEngine::start(reader, pnet::Pnet, options)),
        #[cfg(feature = "tshark")]
        EngineKind::Tshark => {
            let Some(path) = input else {
                return Err(
                    "--engine tshark runs tshark on the capture file: give a file, \
                            not standard input"
                        .into(),
                );
            };
            Box::new(tshark::TsharkEngine::start(reader, path, options)?)
        }
        #[allow(unreachable_patterns)]
        other => {
            return Err(format!(
                "this pcapkit was built without the `{other}` feature: rebuild with \
                 `--features {other}` for --engine {other}"
            ))
        }
    })
}

/// A batch read, in capture order.
pub(crate) struct Batch {
    pub items: Vec<Item>,
    /// The blocks `Item::Shared` packets lie in.
    pub blocks: Vec<Block>,
    /// Offset in the input after the batch, for progress.
    pub offset: u64,
    /// Frames to fill, travelling with the batch to whoever dissects it.
    pub spare: Vec<Box<Frame>>,
    /// Packets read before the batch (its frames' numbers follow).
    pub before: u64,
    /// Its frames' text, when made ahead.
    pub text: BatchText,
}

/// Reads up to a batch, with the blocks its packets lie in; also says whether the input
/// ended.
pub(crate) fn fill(
    reader: &mut CaptureReader,
    spare: &mut Vec<Box<Frame>>,
) -> (Vec<Item>, Vec<Block>, bool) {
    let mut items = Vec::with_capacity(BATCH_FRAMES);
    let mut blocks: Vec<Block> = Vec::new();
    let mut bytes = 0;
    while items.len() < BATCH_FRAMES && bytes < BATCH_BYTES {
        match reader.next_event() {
            None => return (items, blocks, true),
            Some(Event::Packet(record)) => {
                if let Some((block, at, len)) = reader.packet_shared() {
                    if !blocks.last().is_some_and(|b| Arc::ptr_eq(b, block)) {
                        blocks.push(block.clone());
                    }
                    bytes += len;
                    items.push(Item::Shared {
                        record,
                        block: blocks.len() - 1,
                        at,
                        len,
                    });
                    continue;
                }
                let data = reader.packet();
                let mut frame = spare.pop().unwrap_or_default();
                load(&mut frame, &record, data, true);
                frame.pcapng_options = reader.packet_options().map(Box::new);
                frame.layers.clear();
                bytes += data.len() + frame.pcapng_options.as_ref().map_or(0, |o| o.bytes.len());
                items.push(Item::Frame {
                    frame,
                    dissected: false,
                });
            }
            Some(event) => {
                // A pcapng block's options or metadata hold up to the block's bytes.
                bytes += event.held_bytes();
                items.push(Item::event(event));
            }
        }
    }
    (items, blocks, false)
}

/// Dissects an item, turning a shared packet into a frame.
pub(crate) fn complete(
    item: &mut Item,
    blocks: &[Block],
    spare: &mut Vec<Box<Frame>>,
    options: &Options,
) {
    match item {
        Item::Frame { frame, dissected } => {
            if !*dissected {
                chain::dissect(
                    &frame.data,
                    frame.linktype,
                    &options.thresholds,
                    &mut frame.layers,
                );
                *dissected = true;
            }
        }
        Item::Shared {
            record,
            block,
            at,
            len,
        } => {
            let bytes = &blocks[*block][*at..*at + *len];
            let mut frame = spare.pop().unwrap_or_default();
            load_dissected(
                &mut frame,
                record,
                bytes,
                options.keep_bytes,
                &options.thresholds,
            );
            *item = Item::Dissected {
                frame,
                block: *block,
                at: *at,
                len: *len,
            };
        }
        Item::Dissected { .. } | Item::Processed { .. } | Item::Event(_) => {}
    }
}

/// Gives `frame` a packet's record and length, and its bytes when `keep` (else the frame
/// holds no bytes: nobody is to look at them).
pub(crate) fn load(frame: &mut Frame, record: &Record, bytes: &[u8], keep: bool) {
    frame.timestamp = record.timestamp;
    frame.len = record.orig_len;
    frame.cap_len = bytes.len() as u32;
    frame.linktype = record.linktype;
    frame.interface = record.interface;
    frame.pcapng_options = None;
    frame.data.clear();
    if keep {
        frame.data.extend_from_slice(bytes);
    }
}

/// [`load`], then dissects the packet from `bytes`, where they lie (a copy kept in the
/// frame is the same bytes).
pub(crate) fn load_dissected(
    frame: &mut Frame,
    record: &Record,
    bytes: &[u8],
    keep: bool,
    thresholds: &Thresholds,
) {
    load(frame, record, bytes, keep);
    chain::dissect(bytes, frame.linktype, thresholds, &mut frame.layers);
}

/// Keeps a frame the consumer is done with for reuse (unless its buffer grew past
/// `REUSE_BYTES`) and sends the kept frames back to the reader a batch at a time.
pub(crate) fn give_back(
    done_with: &mut Vec<Box<Frame>>,
    reader: &SyncSender<Vec<Box<Frame>>>,
    mut frame: Box<Frame>,
) {
    if frame.data.capacity() > REUSE_BYTES {
        return;
    }
    // Reassembled messages go now, on the thread that made them: kept in the spare
    // frame, they would hold up to 64 KiB each for a round trip through the reader, and
    // this thread's allocator would take fresh pages meanwhile.
    frame.clear_reassembly();
    done_with.push(frame);
    if done_with.len() >= BATCH_FRAMES {
        // A batch's worth of room up front: grown by doubling, the frames would be moved
        // eight times over.
        let frames = std::mem::replace(done_with, Vec::with_capacity(BATCH_FRAMES));
        // A full return channel only means the reader has spares enough.
        if let Err(TrySendError::Full(frames)) = reader.try_send(frames) {
            drop(frames);
        }
    }
}

/// Keeps `frames` for reuse, up to [`SPARE_FRAMES`].
pub(crate) fn keep_spares(
    spare: &mut Vec<Box<Frame>>,
    frames: impl IntoIterator<Item = Box<Frame>>,
) {
    let room = SPARE_FRAMES.saturating_sub(spare.len());
    spare.extend(frames.into_iter().take(room));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Items are moved at every handout: a frame or an event inline would make each of
    /// them as large as the largest (248 bytes before they were boxed).
    #[test]
    fn an_item_is_small_to_move() {
        assert!(
            std::mem::size_of::<Item>() <= 80,
            "an Item takes {} bytes",
            std::mem::size_of::<Item>()
        );
        assert!(
            std::mem::size_of::<Frame>() > 128,
            "the frame is what is boxed"
        );
    }
}
