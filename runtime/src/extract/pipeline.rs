//! Reading on a thread of its own: while the caller dissects and dumps frames, the reader
//! walks the file. From a file read in shared blocks the reader only finds where each
//! packet lies (the caller reads it there, with the next packet's headers prefetched);
//! from a stream it copies packets into frames. When the caller falls behind (the channel is full, as
//! when it writes JSON), the reader spends the wait dissecting the batch it is about to
//! hand over, so both cores dissect. Items travel in batches (the handoff costs little
//! per frame), the channel is bounded (memory stays flat), and frames the caller is done
//! with go back to the reader to be refilled (no allocation per frame).

use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread;

use crate::chain::{self, Frame, Thresholds};
use crate::reader::{prefetch, Block, CaptureReader, Event, Record};

/// Frames per batch, and bytes of packet data per batch, at most.
const BATCH_FRAMES: usize = 256;
const BATCH_BYTES: usize = 1 << 20;
/// Batches in flight between the threads.
const IN_FLIGHT: usize = 4;
/// Frames kept for reuse; frames holding more than `REUSE_BYTES` are not kept.
const SPARE_FRAMES: usize = IN_FLIGHT * BATCH_FRAMES * 2;
const REUSE_BYTES: usize = 64 << 10;

/// What the reader found.
pub enum Item {
    /// A packet in a frame, dissected or not (its bytes copied, unless nobody is to look
    /// at them).
    Frame { frame: Frame, dissected: bool },
    /// A packet lying in a block of the input: its record, and where its bytes lie (the
    /// index of the block in the batch's, and the range in the block).
    Shared {
        record: Record,
        block: usize,
        at: usize,
        len: usize,
    },
    /// A packet lying in a block of the input that the reader dissected itself: the frame
    /// (its bytes copied only when someone is to look at them) and where its bytes lie,
    /// for the stateful stages to read them there.
    Dissected {
        frame: Frame,
        block: usize,
        at: usize,
        len: usize,
    },
    /// Anything else the reader reports (sections, interfaces, warnings).
    Event(Event),
}

/// How the reader prepares frames it dissects itself.
#[derive(Clone, Copy)]
pub struct Options {
    /// Copy each packet's bytes into its frame: someone will look at them.
    pub keep_bytes: bool,
    pub thresholds: Thresholds,
}

struct Batch {
    items: Vec<Item>,
    /// The blocks `Item::Shared` packets lie in.
    blocks: Vec<Block>,
    /// Offset in the input after the batch, for progress.
    offset: u64,
}

/// The caller's end of the reading thread.
pub struct Pipeline {
    /// The blocks of the current batch, where its `Item::Shared` packets lie.
    blocks: Vec<Block>,
    batches: Receiver<Batch>,
    recycle: SyncSender<Vec<Frame>>,
    current: std::vec::IntoIter<Item>,
    done_with: Vec<Frame>,
    offset: u64,
}

impl Pipeline {
    /// Starts reading `reader` on a new thread.
    pub fn start(mut reader: CaptureReader, options: Options) -> Pipeline {
        let (send_batch, batches) = sync_channel::<Batch>(IN_FLIGHT);
        let (recycle, returned) = sync_channel::<Vec<Frame>>(IN_FLIGHT * 2);
        thread::Builder::new()
            .name("pcapkit-reader".into())
            .spawn(move || {
                let mut spare: Vec<Frame> = Vec::new();
                loop {
                    while let Ok(frames) = returned.try_recv() {
                        let room = SPARE_FRAMES.saturating_sub(spare.len());
                        spare.extend(frames.into_iter().take(room));
                    }
                    let (items, blocks, ended) = fill(&mut reader, &mut spare);
                    let mut batch = Batch {
                        items,
                        blocks,
                        offset: reader.offset(),
                    };
                    match send_batch.try_send(batch) {
                        Ok(()) => {}
                        // The caller is behind: dissect this batch while waiting for room.
                        Err(TrySendError::Full(full)) => {
                            batch = full;
                            for item in &mut batch.items {
                                complete(item, &batch.blocks, &mut spare, &options);
                            }
                            if send_batch.send(batch).is_err() {
                                return;
                            }
                        }
                        // The caller is gone.
                        Err(TrySendError::Disconnected(_)) => return,
                    }
                    if ended {
                        return;
                    }
                }
            })
            .expect("the system can start a thread");
        Pipeline {
            blocks: Vec::new(),
            batches,
            recycle,
            current: Vec::new().into_iter(),
            done_with: Vec::new(),
            offset: 0,
        }
    }

    /// The next item, in file order; `None` at the end.
    pub fn next_item(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.current.next() {
                // Start loading the next packet's headers while this one is dissected.
                if let Some(Item::Shared { block, at, len, .. }) = self.current.as_slice().first() {
                    let bytes = &self.blocks[*block][*at..*at + *len];
                    prefetch(bytes);
                    prefetch(bytes.get(64..).unwrap_or_default());
                }
                return Some(item);
            }
            let batch = self.batches.recv().ok()?;
            self.offset = batch.offset;
            self.current = batch.items.into_iter();
            self.blocks = batch.blocks;
        }
    }

    /// The bytes of an `Item::Shared` packet of the last item's batch.
    pub fn bytes(&self, block: usize, at: usize, len: usize) -> &[u8] {
        &self.blocks[block][at..at + len]
    }

    /// Gives a frame back to be refilled.
    pub fn recycle(&mut self, frame: Frame) {
        if frame.data.capacity() > REUSE_BYTES {
            return;
        }
        self.done_with.push(frame);
        if self.done_with.len() >= BATCH_FRAMES {
            let frames = std::mem::take(&mut self.done_with);
            // A full return channel only means the reader has spares enough.
            if let Err(TrySendError::Full(frames)) = self.recycle.try_send(frames) {
                drop(frames);
            }
        }
    }

    /// How far the reader has got in the input, in bytes.
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

/// Reads up to a batch, with the blocks its packets lie in; also says whether the input
/// ended.
fn fill(reader: &mut CaptureReader, spare: &mut Vec<Frame>) -> (Vec<Item>, Vec<Block>, bool) {
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
                items.push(Item::Event(event));
            }
        }
    }
    (items, blocks, false)
}

/// Dissects an item on the reader's side, turning a shared packet into a frame.
fn complete(item: &mut Item, blocks: &[Block], spare: &mut Vec<Frame>, options: &Options) {
    match item {
        Item::Frame { frame, dissected } => {
            chain::dissect(
                &frame.data,
                frame.linktype,
                &options.thresholds,
                &mut frame.layers,
            );
            *dissected = true;
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
        Item::Dissected { .. } | Item::Event(_) => {}
    }
}

/// Gives `frame` a packet's record and length, and its bytes when `keep` (else the frame
/// holds no bytes: nobody is to look at them).
fn load(frame: &mut Frame, record: &Record, bytes: &[u8], keep: bool) {
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
pub fn load_dissected(
    frame: &mut Frame,
    record: &Record,
    bytes: &[u8],
    keep: bool,
    thresholds: &Thresholds,
) {
    load(frame, record, bytes, keep);
    chain::dissect(bytes, frame.linktype, thresholds, &mut frame.layers);
}
