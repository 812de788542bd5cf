//! The pipeline engine: the reader numbers batches in capture order and hands batch k
//! to worker k mod N, which dissects it (the stateless chain); the caller takes the
//! batches back in the same rotation, so they come out in capture order with no reorder
//! buffer (a worker slow on its batch holds the others back by at most their channels).
//! The stateful stages and the tracer then run on the caller's thread, in order, exactly
//! as with the default engine. When those stages cannot change a frame's text, each
//! worker also makes its batches' text as it dissects them (`ahead.rs`); otherwise the
//! text is made by the render stage (`render.rs`) when there are 2 workers or more.
//!
//! std's bounded `sync_channel`s are enough: every channel has one sender and one
//! receiver (the rotation needs no shared queue), and their bound keeps memory flat: a
//! slow writer fills them and the reader waits. Frames come back from the caller to the
//! reader, which sends them on with the next batch for its worker to fill.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread;

use super::ahead::{self, Ahead};
use super::{complete, fill, give_back, keep_spares, Batch, Engine, Item, Options, IN_FLIGHT};
use crate::chain::Frame;
use crate::dump::Render;
use crate::reader::{Block, CaptureReader};

/// The caller's end of the pipeline.
pub(crate) struct PipelineEngine {
    /// Each worker's dissected batches.
    outputs: Vec<Receiver<Batch>>,
    /// The worker whose batch comes next.
    next: usize,
    blocks: Vec<Block>,
    recycle: SyncSender<Vec<Box<Frame>>>,
    current: std::vec::IntoIter<Item>,
    done_with: Vec<Box<Frame>>,
    offset: u64,
    /// Where each worker's renderer goes, once there is one.
    give_renderers: Vec<SyncSender<Box<dyn Render>>>,
    ahead: Ahead,
}

impl PipelineEngine {
    /// Starts the reader and `threads` workers (at least one).
    pub(crate) fn start(
        mut reader: CaptureReader,
        options: Options,
        threads: usize,
    ) -> PipelineEngine {
        let threads = threads.max(1);
        let mut inputs = Vec::with_capacity(threads);
        let mut outputs = Vec::with_capacity(threads);
        let mut give_renderers = Vec::with_capacity(threads);
        let mut spare_texts = Vec::with_capacity(threads);
        for w in 0..threads {
            let (send_input, input) = sync_channel::<Batch>(IN_FLIGHT / 2);
            let (send_output, output) = sync_channel::<Batch>(IN_FLIGHT / 2);
            let (feed, mut renderer) = ahead::channels();
            inputs.push(send_input);
            outputs.push(output);
            give_renderers.push(feed.renderer);
            spare_texts.push(feed.spare_texts);
            thread::Builder::new()
                .name(format!("pcapkit-dissect-{w}"))
                .spawn(move || {
                    while let Ok(mut batch) = input.recv() {
                        for item in &mut batch.items {
                            complete(item, &batch.blocks, &mut batch.spare, &options);
                        }
                        batch.text = renderer.render(&mut batch.items, batch.before);
                        if send_output.send(batch).is_err() {
                            return;
                        }
                    }
                })
                .expect("the system can start a thread");
        }
        let (recycle, returned) = sync_channel::<Vec<Box<Frame>>>(IN_FLIGHT * 2);
        thread::Builder::new()
            .name("pcapkit-reader".into())
            .spawn(move || {
                let mut spare: Vec<Box<Frame>> = Vec::new();
                let mut packets = 0;
                for k in 0.. {
                    while let Ok(frames) = returned.try_recv() {
                        keep_spares(&mut spare, frames);
                    }
                    let (items, blocks, ended) = fill(&mut reader, &mut spare);
                    let before = packets;
                    packets += ahead::packets(&items);
                    // The worker fills a frame per shared packet: hand it spares for them.
                    let shared = items
                        .iter()
                        .filter(|i| matches!(i, Item::Shared { .. }))
                        .count();
                    let batch = Batch {
                        items,
                        blocks,
                        offset: reader.offset(),
                        spare: spare.split_off(spare.len().saturating_sub(shared)),
                        before,
                        text: Default::default(),
                    };
                    if inputs[k % threads].send(batch).is_err() || ended {
                        return;
                    }
                }
            })
            .expect("the system can start a thread");
        PipelineEngine {
            outputs,
            next: 0,
            blocks: Vec::new(),
            recycle,
            current: Vec::new().into_iter(),
            done_with: Vec::new(),
            offset: 0,
            give_renderers,
            ahead: Ahead::new(spare_texts),
        }
    }
}

impl Engine for PipelineEngine {
    fn next_item(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.current.next() {
                self.ahead.handed_out();
                return Some(item);
            }
            // A worker gone means the reader ended: every batch before was taken.
            let batch = self.outputs[self.next].recv().ok()?;
            self.ahead.next_batch(batch.text, self.next);
            self.next = (self.next + 1) % self.outputs.len();
            self.offset = batch.offset;
            self.current = batch.items.into_iter();
            self.blocks = batch.blocks;
            for frame in batch.spare {
                self.recycle(frame);
            }
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
        if renderers.len() != self.give_renderers.len() {
            return false;
        }
        for (give, renderer) in self.give_renderers.iter().zip(renderers) {
            // A worker gone means the reader ended: there is nothing left to render.
            let _ = give.try_send(renderer);
        }
        true
    }

    fn renderers(&self) -> usize {
        self.give_renderers.len()
    }

    fn rendered(&self) -> Option<&str> {
        self.ahead.last()
    }
}
