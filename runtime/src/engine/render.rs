//! The render stage: frames that went through the stateful stages, in capture order, are
//! rendered (their output text made) on N worker threads, and written in capture order
//! by the caller. Any engine uses it when it runs with more than one thread and the
//! dumper can render elsewhere ([`Dumper::renderer`](crate::dump::Dumper::renderer)):
//! writing JSON is most of the work of an extraction.
//!
//! As in the pipeline engine, batch k goes to worker k mod N and comes back in the same
//! rotation, so no reorder buffer is needed. The caller keeps at most [`PER_WORKER`]
//! batches per worker in flight and takes the oldest back before sending more: a slow
//! writer holds the caller back, which holds the engine and its reader back (every
//! channel is bounded), and no send ever waits on a worker waiting on the caller.

use std::collections::VecDeque;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};
use std::thread;

use crate::chain::Frame;
use crate::dump::Render;

/// Batches in flight per worker.
const PER_WORKER: usize = 2;
/// Frames per batch, and bytes of packet data per batch, at most: a batch's text is some
/// 6 times its packets' bytes (hex and JSON), and every batch in flight holds its text,
/// so batches are smaller than the engines' (memory stays flat and small).
const RENDER_FRAMES: usize = 64;
const RENDER_BYTES: usize = 128 << 10;
/// A batch's text buffer kept for reuse up to this capacity (a batch of huge frames
/// does not keep its memory).
const KEEP_TEXT: usize = 1 << 20;

/// Frames in capture order and, once rendered, their text.
pub(crate) struct RenderBatch {
    pub frames: Vec<Box<Frame>>,
    /// The frames' texts, one after the other.
    pub text: String,
    /// Where each frame's text ends in `text`.
    pub ends: Vec<usize>,
    /// Bytes of packet data in the batch, to cut batches of big frames short.
    bytes: usize,
}

impl RenderBatch {
    fn new() -> RenderBatch {
        RenderBatch {
            frames: Vec::with_capacity(RENDER_FRAMES),
            text: String::new(),
            ends: Vec::with_capacity(RENDER_FRAMES),
            bytes: 0,
        }
    }

    /// Each frame with its text, in order.
    pub fn rendered(&self) -> impl Iterator<Item = (&Frame, &str)> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        self.frames
            .iter()
            .zip(starts.zip(self.ends.iter().copied()))
            .map(|(f, (start, end))| (&**f, &self.text[start..end]))
    }
}

/// The caller's end of the render workers.
pub(crate) struct RenderStage {
    inputs: Vec<SyncSender<RenderBatch>>,
    outputs: Vec<Receiver<RenderBatch>>,
    /// The worker the next batch goes to, and the one the oldest batch in flight is at.
    next_out: usize,
    next_in: usize,
    in_flight: usize,
    /// The batch being filled.
    current: RenderBatch,
    /// Emptied batches, for reuse.
    spare: VecDeque<RenderBatch>,
}

impl RenderStage {
    /// Starts a worker per renderer (at least one).
    pub(crate) fn start(renderers: Vec<Box<dyn Render>>) -> RenderStage {
        assert!(!renderers.is_empty(), "a render stage needs a renderer");
        let mut inputs = Vec::with_capacity(renderers.len());
        let mut outputs = Vec::with_capacity(renderers.len());
        for (w, mut renderer) in renderers.into_iter().enumerate() {
            let (send_input, input) = sync_channel::<RenderBatch>(PER_WORKER);
            let (send_output, output) = sync_channel::<RenderBatch>(PER_WORKER);
            inputs.push(send_input);
            outputs.push(output);
            thread::Builder::new()
                .name(format!("pcapkit-render-{w}"))
                .spawn(move || {
                    while let Ok(mut batch) = input.recv() {
                        batch.text.clear();
                        batch.ends.clear();
                        for frame in &batch.frames {
                            renderer.render(frame, &mut batch.text);
                            batch.ends.push(batch.text.len());
                        }
                        if send_output.send(batch).is_err() {
                            return;
                        }
                    }
                })
                .expect("the system can start a thread");
        }
        RenderStage {
            inputs,
            outputs,
            next_out: 0,
            next_in: 0,
            in_flight: 0,
            current: RenderBatch::new(),
            spare: VecDeque::new(),
        }
    }

    /// Adds a frame to be rendered. When a batch had to be taken back to make room, it is
    /// returned, to be written (before any other).
    pub(crate) fn push(&mut self, frame: Box<Frame>) -> Option<RenderBatch> {
        self.current.bytes += frame.data.len()
            + frame
                .reassembled
                .iter()
                .map(|r| r.data.len())
                .sum::<usize>();
        self.current.frames.push(frame);
        if self.current.frames.len() < RENDER_FRAMES && self.current.bytes < RENDER_BYTES {
            return None;
        }
        self.send()
    }

    /// Sends the batch being filled; returns the oldest batch in flight, rendered, when
    /// the workers had as many as they may hold.
    fn send(&mut self) -> Option<RenderBatch> {
        if self.current.frames.is_empty() {
            return None;
        }
        let oldest = if self.in_flight == PER_WORKER * self.inputs.len() {
            self.take(true)
        } else {
            None
        };
        let next = self.spare.pop_front().unwrap_or_else(RenderBatch::new);
        let batch = std::mem::replace(&mut self.current, next);
        if self.inputs[self.next_out].send(batch).is_err() {
            gone();
        }
        self.next_out = (self.next_out + 1) % self.inputs.len();
        self.in_flight += 1;
        oldest
    }

    /// The oldest batch in flight once rendered: waiting for it when `wait`, else only
    /// if it is ready.
    pub(crate) fn take(&mut self, wait: bool) -> Option<RenderBatch> {
        if self.in_flight == 0 {
            return None;
        }
        let output = &self.outputs[self.next_in];
        let batch = if wait {
            output.recv().unwrap_or_else(|_| gone())
        } else {
            match output.try_recv() {
                Ok(batch) => batch,
                Err(TryRecvError::Empty) => return None,
                Err(TryRecvError::Disconnected) => gone(),
            }
        };
        self.next_in = (self.next_in + 1) % self.outputs.len();
        self.in_flight -= 1;
        Some(batch)
    }

    /// Sends the batch being filled: what is pushed until now is rendered; take it all
    /// back with [`take`](Self::take)`(true)` until `None`.
    pub(crate) fn flush(&mut self) -> Option<RenderBatch> {
        self.send()
    }

    /// Keeps a written batch (its frames taken out) for reuse.
    pub(crate) fn give_back(&mut self, mut batch: RenderBatch) {
        batch.frames.clear();
        batch.ends.clear();
        batch.bytes = 0;
        batch.text.clear();
        if batch.text.capacity() > KEEP_TEXT {
            batch.text = String::new();
        }
        // Every batch there is comes back here: keeping them all costs nothing more, and
        // spares the allocator the churn of dropping and remaking their buffers.
        if self.spare.len() <= PER_WORKER * self.inputs.len() {
            self.spare.push_back(batch);
        }
    }
}

/// A worker stops only by panicking (a bug): its frames are lost, so the output must not
/// be completed as if they were written.
fn gone() -> ! {
    panic!("a render thread stopped (it panicked)")
}
