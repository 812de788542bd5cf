//! Text made ahead: a thread that has just dissected a batch also makes its frames'
//! output text (the dumper's [`Render`]), while the frames are still in its cache; the
//! caller then only writes the text. The default engine's reader does it for the batches
//! it dissects while the caller lags behind; the pipeline engine's workers for every batch.
//!
//! The text is made before the stateful stages run, so the extractor asks for it only
//! when they cannot change a frame's text (no reassembly, no flow tracing), and uses it
//! only when the session says it left the frame as it was
//! ([`Session::changed`](crate::session::Session::changed): a frame of an FTP data
//! connection, say, is dissected again there and rendered again by the caller).
//!
//! A frame's number is part of its text: the thread numbers the frames it renders from
//! the count of packets read before the batch, as the caller numbers them.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use super::Item;
use crate::dump::Render;

/// Text made ahead for one batch, at most (and one frame's more): the frames after are left
/// for the caller to render. A batch of the usual mix makes about 1 MiB of JSON; one of
/// jumbo frames would make several, and every batch in flight holds its text.
const TEXT_BUDGET: usize = 1 << 20;
/// Room made for a batch's text: the budget and the frame that passes it, most often,
/// without the buffer doubling. A text that grew larger (a huge frame) is not kept for
/// reuse.
const TEXT_ROOM: usize = TEXT_BUDGET + TEXT_BUDGET / 4;
/// Emptied texts a thread keeps.
const SPARE_TEXTS: usize = 2;

/// The text made for a batch's items, one after the other.
#[derive(Default)]
pub(crate) struct BatchText {
    text: String,
    /// Where each item's text ends in `text`, an entry per item (an item without text has
    /// an empty one: a frame's text is never empty); none when the batch was not rendered.
    ends: Vec<usize>,
}

/// A renderer, once the caller hands one over (after the output's header is written).
pub(crate) struct Renderer {
    arrives: Receiver<Box<dyn Render>>,
    renderer: Option<Box<dyn Render>>,
    /// Emptied texts coming back from the caller.
    spare_texts: Receiver<String>,
}

impl Renderer {
    /// A renderer arriving on `arrives`; emptied texts come back on `spare_texts`.
    pub fn new(arrives: Receiver<Box<dyn Render>>, spare_texts: Receiver<String>) -> Renderer {
        Renderer {
            arrives,
            renderer: None,
            spare_texts,
        }
    }

    /// Whether a renderer arrived.
    pub fn ready(&mut self) -> bool {
        if self.renderer.is_none() {
            self.renderer = self.arrives.try_recv().ok();
        }
        self.renderer.is_some()
    }

    /// Numbers and renders the dissected frames among `items`, the first packet of which
    /// comes after `before` packets, until the text passes [`TEXT_BUDGET`]; an item not
    /// dissected or past the budget (left for the caller) gets no text. Nothing is made
    /// before a renderer arrived.
    pub fn render(&mut self, items: &mut [Item], before: u64) -> BatchText {
        if !self.ready() {
            return BatchText::default();
        }
        let renderer = self.renderer.as_mut().expect("ready");
        let mut out = BatchText {
            text: self
                .spare_texts
                .try_recv()
                .unwrap_or_else(|_| String::with_capacity(TEXT_ROOM)),
            ends: Vec::with_capacity(items.len()),
        };
        let mut number = before;
        for item in items {
            if item.is_packet() {
                number += 1;
            }
            if let Item::Frame {
                frame,
                dissected: true,
            }
            | Item::Dissected { frame, .. } = item
            {
                if out.text.len() < TEXT_BUDGET {
                    frame.number = number;
                    renderer.render(frame, &mut out.text);
                }
            }
            out.ends.push(out.text.len());
        }
        out
    }
}

/// The packets among `items` (what the caller numbers).
pub(crate) fn packets(items: &[Item]) -> u64 {
    items.iter().filter(|i| i.is_packet()).count() as u64
}

/// The caller's side: the current batch's text, and the item handed out last.
pub(crate) struct Ahead {
    current: BatchText,
    /// The thread the current batch's text came from.
    from: usize,
    /// Items of the current batch handed out so far.
    taken: usize,
    /// Where emptied texts go back to, by thread.
    spare_texts: Vec<SyncSender<String>>,
}

impl Ahead {
    /// Sends emptied texts back to the thread that made them, on `spare_texts[thread]`.
    pub fn new(spare_texts: Vec<SyncSender<String>>) -> Ahead {
        Ahead {
            current: BatchText::default(),
            from: 0,
            taken: 0,
            spare_texts,
        }
    }

    /// A new batch begins, its text made by thread `from`; the last one's text goes back
    /// for reuse.
    pub fn next_batch(&mut self, text: BatchText, from: usize) {
        let mut done = std::mem::replace(&mut self.current, text);
        let done_from = std::mem::replace(&mut self.from, from);
        self.taken = 0;
        if done.text.capacity() > 0 && done.text.capacity() <= TEXT_ROOM {
            done.text.clear();
            // A full channel only means the thread has spares enough.
            let _ = self.spare_texts[done_from].try_send(done.text);
        }
    }

    /// An item of the current batch is handed out.
    pub fn handed_out(&mut self) {
        self.taken += 1;
    }

    /// The text made for the item handed out last, if any.
    pub fn last(&self) -> Option<&str> {
        let i = self.taken.checked_sub(1)?;
        let end = *self.current.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.current.ends[i - 1] };
        (start < end).then(|| &self.current.text[start..end])
    }
}

/// The caller's ends of a thread's channels: the renderer it is to get, and where its
/// emptied texts go back.
pub(crate) struct Feed {
    pub renderer: SyncSender<Box<dyn Render>>,
    pub spare_texts: SyncSender<String>,
}

/// A thread's channels: the caller's ends, and the thread's [`Renderer`].
pub(crate) fn channels() -> (Feed, Renderer) {
    let (renderer, arrives) = sync_channel(1);
    let (spare_texts, emptied) = sync_channel(SPARE_TEXTS);
    (
        Feed {
            renderer,
            spare_texts,
        },
        Renderer::new(arrives, emptied),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Frame;
    use crate::reader::Event;

    /// Writes `len` bytes of the frame's number's last digit, so that text and number
    /// can be told apart.
    struct Fixed(usize);

    impl Render for Fixed {
        fn render(&mut self, frame: &Frame, out: &mut String) {
            let digit = char::from(b'0' + (frame.number % 10) as u8);
            out.extend(std::iter::repeat_n(digit, self.0));
        }
    }

    fn dissected() -> Item {
        Item::Frame {
            frame: Box::default(),
            dissected: true,
        }
    }

    /// A renderer on its thread's end, and the caller's end of its texts.
    fn renderer(len: usize) -> (Renderer, Ahead) {
        let (feed, renderer) = channels();
        feed.renderer.send(Box::new(Fixed(len))).unwrap();
        (renderer, Ahead::new(vec![feed.spare_texts]))
    }

    #[test]
    fn each_item_gets_its_frame_text_numbered_after_the_packets_before() {
        let (mut renderer, mut ahead) = renderer(3);
        let mut items = vec![
            dissected(),
            Item::event(Event::Warning("a warning".into())),
            dissected(),
            // Not dissected: left for the caller, numbered all the same.
            Item::Frame {
                frame: Box::default(),
                dissected: false,
            },
            dissected(),
        ];
        let text = renderer.render(&mut items, 40);
        ahead.next_batch(text, 0);
        let mut seen = Vec::new();
        for _ in &items {
            ahead.handed_out();
            seen.push(ahead.last().map(str::to_owned));
        }
        let texts: Vec<Option<&str>> = seen.iter().map(Option::as_deref).collect();
        assert_eq!(
            texts,
            [Some("111"), None, Some("222"), None, Some("444")],
            "frames 41, 42 and 44 rendered; the event and frame 43 not"
        );
    }

    #[test]
    fn a_batch_stops_making_text_past_the_budget() {
        // Each frame's text is a third of the budget: the fourth passes it.
        let third = TEXT_BUDGET / 3 + 1;
        let (mut renderer, mut ahead) = renderer(third);
        let mut items: Vec<Item> = (0..10).map(|_| dissected()).collect();
        let text = renderer.render(&mut items, 0);
        assert!(text.text.len() <= TEXT_BUDGET + third);
        ahead.next_batch(text, 0);
        let rendered: Vec<bool> = items
            .iter()
            .map(|_| {
                ahead.handed_out();
                ahead.last().is_some()
            })
            .collect();
        assert_eq!(
            rendered,
            [true, true, true, false, false, false, false, false, false, false]
        );
    }

    #[test]
    fn nothing_is_made_before_a_renderer_arrives() {
        let (_feed, mut renderer) = channels();
        let mut items = vec![dissected()];
        let text = renderer.render(&mut items, 0);
        assert!(text.ends.is_empty() && text.text.is_empty());
    }
}
