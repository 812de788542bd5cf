//! Conversation state of application protocols that need more than one PDU's bytes:
//! kept in the session per connection and direction, bounded, dropped when the
//! connection ends. Dissectors stay pure; the session hands each dissected PDU here.

pub mod doh;
pub mod http2;
pub mod tls;

use crate::flow::Endpoint;

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
