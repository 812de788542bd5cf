//! Conversation state of application protocols that need more than one PDU's bytes:
//! kept in the session per connection and direction, bounded, dropped when the
//! connection ends. Dissectors stay pure; the session hands each dissected PDU here.

pub mod doh;
pub mod http2;
pub mod tls;

use crate::flow::Endpoint;

/// The ends of one TCP connection, each with the state of the direction it sends.
pub(crate) struct Ends<D> {
    ends: Vec<(Endpoint, D)>,
}

impl<D> Default for Ends<D> {
    fn default() -> Self {
        Ends { ends: Vec::new() }
    }
}

impl<D> Ends<D> {
    /// The direction `src` sends, made by `new` if need be.
    pub(crate) fn direction(&mut self, src: Endpoint, new: impl FnOnce() -> D) -> &mut D {
        let i = match self.ends.iter().position(|(e, _)| *e == src) {
            Some(i) => i,
            None => {
                self.ends.push((src, new()));
                self.ends.len() - 1
            }
        };
        &mut self.ends[i].1
    }

    /// Whether `src`'s direction is followed.
    pub(crate) fn has(&self, src: Endpoint) -> bool {
        self.ends.iter().any(|(e, _)| *e == src)
    }

    /// Directions followed.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &D> {
        self.ends.iter().map(|(_, d)| d)
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut D> {
        self.ends.iter_mut().map(|(_, d)| d)
    }
}

/// A PDU of a TCP connection, as the session hands it to the conversation state of its
/// protocol (HTTP/2, TLS).
#[derive(Debug, Clone, Copy)]
pub struct PduRef<'a> {
    /// `tcp.stream`.
    pub stream: u64,
    /// Sender.
    pub src: Endpoint,
    /// Receiver.
    pub dst: Endpoint,
    /// Stream offset of the PDU's first byte.
    pub offset: u64,
    /// The PDU's bytes (its layers' offsets are into them).
    pub data: &'a [u8],
    /// The frame that completed the PDU.
    pub frame: u64,
    /// Every byte of it arrived.
    pub completed: bool,
}
