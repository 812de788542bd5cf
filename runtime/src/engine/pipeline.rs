//! The pipeline engine: the reader numbers batches in capture order and hands batch k
//! to worker k mod N, which dissects it (the stateless chain); the caller takes the
//! batches back in the same rotation, so they come out in capture order with no reorder
//! buffer (a worker slow on its batch holds the others back by at most their channels).
//! The stateful stages and the tracer then run on the caller's thread, in order, exactly
//! as with the default engine; the dumper's text is made by the render stage
//! (`render.rs`) when there are 2 workers or more.
//!
//! std's bounded `sync_channel`s are enough: every channel has one sender and one
//! receiver (the rotation needs no shared queue), and their bound keeps memory flat: a
//! slow writer fills them and the reader waits. Frames come back from the caller to the
//! reader, which sends them on with the next batch for its worker to fill.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread;

use super::{complete, fill, give_back, keep_spares, Batch, Engine, Item, Options, IN_FLIGHT};
use crate::chain::Frame;
use crate::reader::{Block, CaptureReader};

/// The caller's end of the pipeline.
pub(crate) struct PipelineEngine {
    /// Each worker's dissected batches.
    outputs: Vec<Receiver<Batch>>,
    /// The worker whose batch comes next.
    next: usize,
    blocks: Vec<Block>,
    recycle: SyncSender<Vec<Frame>>,
    current: std::vec::IntoIter<Item>,
    done_with: Vec<Frame>,
    offset: u64,
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
        for w in 0..threads {
            let (send_input, input) = sync_channel::<Batch>(IN_FLIGHT / 2);
            let (send_output, output) = sync_channel::<Batch>(IN_FLIGHT / 2);
            inputs.push(send_input);
            outputs.push(output);
            thread::Builder::new()
                .name(format!("pcapkit-dissect-{w}"))
                .spawn(move || {
                    while let Ok(mut batch) = input.recv() {
                        for item in &mut batch.items {
                            complete(item, &batch.blocks, &mut batch.spare, &options);
                        }
                        if send_output.send(batch).is_err() {
                            return;
                        }
                    }
                })
                .expect("the system can start a thread");
        }
        let (recycle, returned) = sync_channel::<Vec<Frame>>(IN_FLIGHT * 2);
        thread::Builder::new()
            .name("pcapkit-reader".into())
            .spawn(move || {
                let mut spare: Vec<Frame> = Vec::new();
                for k in 0.. {
                    while let Ok(frames) = returned.try_recv() {
                        keep_spares(&mut spare, frames);
                    }
                    let (items, blocks, ended) = fill(&mut reader, &mut spare);
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
        }
    }
}

impl Engine for PipelineEngine {
    fn next_item(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.current.next() {
                return Some(item);
            }
            // A worker gone means the reader ended: every batch before was taken.
            let batch = self.outputs[self.next].recv().ok()?;
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

    fn recycle(&mut self, frame: Frame) {
        give_back(&mut self.done_with, &self.recycle, frame);
    }

    fn offset(&self) -> u64 {
        self.offset
    }
}
