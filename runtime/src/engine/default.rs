//! The default engine (`pcapkit`): reading on a thread of its own. While the caller
//! dissects and dumps frames, the reader walks the file. From a file read in shared
//! blocks the reader only finds where each packet lies (the caller reads it there, with
//! the next packet's headers prefetched); from a stream it copies packets into frames.
//! When the caller falls behind (the channel is full, as when it writes JSON), the reader
//! spends the wait dissecting the batch it is about to hand over, so both cores dissect,
//! and, once it has a renderer, making the batch's text (`ahead.rs`), so both write.
//! Items travel in batches (the handoff costs little per frame), the channel is bounded
//! (memory stays flat), and frames the caller is done with go back to the reader to be
//! refilled (no allocation per frame).

use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::thread;

use super::ahead::{self, Ahead};
use super::{complete, fill, give_back, keep_spares, Batch, Engine, Item, Options, IN_FLIGHT};
use crate::chain::Frame;
use crate::dump::Render;
use crate::reader::{prefetch, Block, CaptureReader};

/// The caller's end of the reading thread.
pub(crate) struct DefaultEngine {
    /// The blocks of the current batch, where its `Item::Shared` packets lie.
    blocks: Vec<Block>,
    batches: Receiver<Batch>,
    recycle: SyncSender<Vec<Frame>>,
    current: std::vec::IntoIter<Item>,
    done_with: Vec<Frame>,
    offset: u64,
    /// Where the reader's renderer goes, once there is one.
    give_renderer: SyncSender<Box<dyn Render>>,
    ahead: Ahead,
}

impl DefaultEngine {
    /// Starts reading `reader` on a new thread.
    pub(crate) fn start(mut reader: CaptureReader, options: Options) -> DefaultEngine {
        let (send_batch, batches) = sync_channel::<Batch>(IN_FLIGHT);
        let (recycle, returned) = sync_channel::<Vec<Frame>>(IN_FLIGHT * 2);
        let (feed, mut renderer) = ahead::channels();
        thread::Builder::new()
            .name("pcapkit-reader".into())
            .spawn(move || {
                let mut spare: Vec<Frame> = Vec::new();
                let mut packets = 0;
                loop {
                    while let Ok(frames) = returned.try_recv() {
                        keep_spares(&mut spare, frames);
                    }
                    let (items, blocks, ended) = fill(&mut reader, &mut spare);
                    let before = packets;
                    packets += ahead::packets(&items);
                    let mut batch = Batch {
                        items,
                        blocks,
                        offset: reader.offset(),
                        spare: Vec::new(),
                        before,
                        text: Default::default(),
                    };
                    match send_batch.try_send(batch) {
                        Ok(()) => {}
                        // The caller is behind: dissect this batch while waiting for room
                        // (and make its text).
                        Err(TrySendError::Full(full)) => {
                            batch = full;
                            for item in &mut batch.items {
                                complete(item, &batch.blocks, &mut spare, &options);
                            }
                            batch.text = renderer.render(&mut batch.items, before);
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
        DefaultEngine {
            blocks: Vec::new(),
            batches,
            recycle,
            current: Vec::new().into_iter(),
            done_with: Vec::new(),
            offset: 0,
            give_renderer: feed.renderer,
            ahead: Ahead::new(vec![feed.spare_texts]),
        }
    }
}

impl Engine for DefaultEngine {
    fn next_item(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.current.next() {
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
            self.offset = batch.offset;
            self.current = batch.items.into_iter();
            self.blocks = batch.blocks;
            self.ahead.next_batch(batch.text, 0);
        }
    }

    fn bytes(&self, block: usize, at: usize, len: usize) -> &[u8] {
        &self.blocks[block][at..at + len]
    }

    fn recycle(&mut self, frame: Frame) {
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
