//! The default engine (`pcapkit`): reading on a thread of its own. While the caller
//! dissects and dumps frames, the reader walks the file. From a file read in shared
//! blocks the reader only finds where each packet lies (the caller reads it there, with
//! the next packet's headers prefetched); from a stream it copies packets into frames.
//! When the caller falls behind (the channel is full, as when it writes JSON), the reader
//! spends the wait dissecting the batch it is about to hand over, so both cores dissect,
//! and, once it has a renderer, making the batch's text (`ahead.rs`), so both write.
//! Items travel in batches (the handoff costs little per frame), the channel is bounded
//! (memory stays flat), a reader that waits for room is woken once the caller has taken
//! several batches (`room.rs`), not at each, and frames the caller is done with go back
//! to the reader to be refilled (no allocation per frame).

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread;

use super::ahead::{self, Ahead};
use super::apart::Apart;
use super::room::Room;
use super::{complete, fill, give_back, keep_spares, Batch, Engine, Item, Options, IN_FLIGHT};
use crate::chain::Frame;
use crate::dump::Render;
use crate::reader::{prefetch, prefetch_value, Block, CaptureReader};

/// The caller's end of the reading thread.
pub(crate) struct DefaultEngine {
    /// The blocks of the current batch, where its `Item::Shared` packets lie.
    blocks: Vec<Block>,
    batches: Receiver<Batch>,
    recycle: SyncSender<Vec<Box<Frame>>>,
    current: std::vec::IntoIter<Item>,
    done_with: Vec<Box<Frame>>,
    offset: u64,
    /// Where the reader's renderer goes, once there is one.
    give_renderer: SyncSender<Box<dyn Render>>,
    ahead: Ahead,
    room: Arc<Room>,
}

/// Batches left in the channel when a reader waiting for room is woken.
const LOW: usize = 2;

impl DefaultEngine {
    /// Starts reading `reader` on a new thread.
    pub(crate) fn start(mut reader: CaptureReader, options: Options) -> DefaultEngine {
        let (send_batch, batches) = sync_channel::<Batch>(IN_FLIGHT);
        let (recycle, returned) = sync_channel::<Vec<Box<Frame>>>(IN_FLIGHT * 2);
        let (feed, mut renderer) = ahead::channels();
        let room = Arc::new(Room::new(LOW));
        let readers_room = Arc::clone(&room);
        let apart = options.apart.then(Apart::new).flatten();
        thread::Builder::new()
            .name("pcapkit-reader".into())
            .spawn(move || {
                if let Some(apart) = apart {
                    apart.enter_reader();
                }
                let room = readers_room;
                let mut spare: Vec<Box<Frame>> = Vec::new();
                let mut packets = 0;
                // Batches still to send after a wait for room.
                let mut refill: usize = 0;
                let mut behind = false;
                loop {
                    while let Ok(frames) = returned.try_recv() {
                        keep_spares(&mut spare, frames);
                    }
                    let (mut items, blocks, ended) = fill(&mut reader, &mut spare);
                    let before = packets;
                    packets += ahead::packets(&items);
                    let queued = room.queued();
                    if options.stateful {
                        // The caller runs stages the reader cannot take: the reader
                        // dissects from the moment the channel is full until the caller
                        // has taken every batch.
                        match queued {
                            0 => behind = false,
                            n if n >= IN_FLIGHT => behind = true,
                            _ => {}
                        }
                    } else {
                        // Dissecting (and making text), the reader can do about as much
                        // per batch as the caller: it helps while the channel is full, and
                        // after a wait for room while it fills the channel again.
                        behind = queued >= IN_FLIGHT || refill > 0 && queued >= LOW;
                        refill = refill.saturating_sub(1);
                    }
                    let mut text = Default::default();
                    if behind {
                        // Dissect this batch while the caller works (and make its text),
                        // then wait for room.
                        for item in &mut items {
                            complete(item, &blocks, &mut spare, &options);
                        }
                        text = renderer.render(&mut items, before);
                        if room.queued() >= IN_FLIGHT {
                            room.wait();
                            refill = IN_FLIGHT - LOW;
                        }
                    }
                    let batch = Batch {
                        items,
                        blocks,
                        offset: reader.offset(),
                        spare: Vec::new(),
                        before,
                        text,
                    };
                    // Counted first: the caller may take it at once.
                    room.sent();
                    // There is room: this does not wait (unless the caller is gone).
                    if send_batch.send(batch).is_err() || ended {
                        return;
                    }
                }
            })
            .expect("the system can start a thread");
        if let Some(apart) = apart {
            apart.enter_caller();
        }
        DefaultEngine {
            blocks: Vec::new(),
            batches,
            recycle,
            current: Vec::new().into_iter(),
            done_with: Vec::new(),
            offset: 0,
            give_renderer: feed.renderer,
            ahead: Ahead::new(vec![feed.spare_texts]),
            room,
        }
    }
}

impl Drop for DefaultEngine {
    fn drop(&mut self) {
        // A reader waiting for room would wait for ever.
        self.room.close();
    }
}

impl Engine for DefaultEngine {
    fn next_item(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.current.next() {
                // The reader's core wrote the frames it dissected: start moving the one
                // after next, and the next one's layers, to this core's cache.
                let rest = self.current.as_slice();
                if let Some(Item::Dissected { frame, .. }) = rest.get(1) {
                    prefetch_value(&**frame);
                }
                if let Some(Item::Dissected { frame, .. }) = rest.first() {
                    prefetch_value(&frame.layers[..]);
                }
                // Start loading the next packet's headers while this one is dissected.
                match self.current.as_slice().first() {
                    Some(Item::Shared { block, at, len, .. }) => {
                        let bytes = &self.blocks[*block][*at..*at + *len];
                        prefetch(bytes);
                        prefetch(bytes.get(64..).unwrap_or_default());
                    }
                    // Dissected by the reader: what this thread reads next is the
                    // payload (a stream copies it), which the reader's core last touched.
                    Some(Item::Dissected { block, at, len, .. }) => {
                        let bytes = &self.blocks[*block][*at..*at + *len];
                        for line in bytes.chunks(64).take(32) {
                            prefetch(line);
                        }
                    }
                    _ => {}
                }
                self.ahead.handed_out();
                return Some(item);
            }
            let batch = self.batches.recv().ok()?;
            self.room.taken();
            self.offset = batch.offset;
            self.current = batch.items.into_iter();
            self.blocks = batch.blocks;
            self.ahead.next_batch(batch.text, 0);
        }
    }

    fn bytes(&self, block: usize, at: usize, len: usize) -> &[u8] {
        &self.blocks[block][at..at + len]
    }

    fn recycle(&mut self, frame: Box<Frame>) {
        give_back(&mut self.done_with, &self.recycle, frame);
    }

    fn offset(&self) -> u64 {
        self.offset
    }

    fn render_ahead(&mut self, renderers: Vec<Box<dyn Render>>) -> bool {
        let Some(renderer) = renderers.into_iter().next() else {
            return false;
        };
        // The reader gone, there is nothing left to render.
        let _ = self.give_renderer.try_send(renderer);
        true
    }

    fn renderers(&self) -> usize {
        1
    }

    fn rendered(&self) -> Option<&str> {
        self.ahead.last()
    }
}
