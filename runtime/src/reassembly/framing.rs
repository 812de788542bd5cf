//! How an application's PDUs are cut from a reassembled TCP stream.
//!
//! A protocol says it in its spec's `[stream]` section: `pdu = "declared"` (the header,
//! then the payload length the header declares, as TLS records, HTTP/2 frames or DNS
//! messages over TCP) or `hook = "..."` (a function that reads the stream, as HTTP/1's
//! head-then-body rules need). [`ProtocolId::stream_framer`](crate::protocols::ProtocolId::stream_framer)
//! hands the TCP stage the function; protocols without one are dissected per segment.

use crate::layer::DissectError;
use crate::wire::TRUNCATED;

/// How much of a stream the PDU at its start takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// The PDU is this many bytes long (never zero).
    Complete(usize),
    /// More bytes are needed.
    Incomplete,
    /// More bytes are needed: the PDU is this many bytes long (its header is complete
    /// and gives its length), so nothing need be looked at before they are there.
    Needs(usize),
    /// The bytes do not start a PDU of the protocol.
    NotMessage,
}

/// What a stream consumer knows besides the bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FramingContext {
    /// The sender has closed its direction: a PDU delimited by the close is complete.
    pub closed: bool,
    /// HTTP/1: the response answers a HEAD request (it has no body whatever it says).
    pub head_request: bool,
}

/// Says how long the PDU at the start of a stream is.
pub type Framer = fn(&[u8], FramingContext) -> Framing;

/// The framing of `pdu = "declared"`: `parsed` is the header read from the start of a
/// stream of `available` bytes, and `payload_len` the payload length it declares given
/// the bytes after it. A header cut short needs more bytes; one that fails its checks is
/// not a PDU.
pub fn declared<H>(
    parsed: Result<(H, usize), DissectError>,
    available: usize,
    payload_len: impl FnOnce(&H, u64) -> Option<u64>,
) -> Framing {
    match parsed {
        Ok((header, len)) => {
            let rest = available.saturating_sub(len) as u64;
            let total = payload_len(&header, rest).map(|n| n.saturating_add(len as u64));
            match total.and_then(|t| usize::try_from(t).ok()) {
                Some(0) | None => Framing::NotMessage,
                Some(t) if t <= available => Framing::Complete(t),
                Some(t) => Framing::Needs(t),
            }
        }
        Err(e) if e.reason.starts_with(TRUNCATED) => Framing::Incomplete,
        Err(_) => Framing::NotMessage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_byte_length(input: &[u8]) -> Result<(u16, usize), DissectError> {
        match input {
            [a, b, ..] => Ok((u16::from_be_bytes([*a, *b]), 2)),
            _ => Err(DissectError::new(format!("{TRUNCATED}: 2 bytes needed"))),
        }
    }

    fn frame(stream: &[u8]) -> Framing {
        declared(two_byte_length(stream), stream.len(), |h, _| {
            Some(u64::from(*h))
        })
    }

    #[test]
    fn a_declared_length_cuts_the_header_and_its_payload() {
        assert_eq!(frame(b"\x00\x03abcdef"), Framing::Complete(5));
        assert_eq!(frame(b"\x00\x03ab"), Framing::Needs(5));
        assert_eq!(frame(b"\x00"), Framing::Incomplete);
        assert_eq!(frame(b""), Framing::Incomplete);
    }

    #[test]
    fn a_header_that_fails_its_checks_is_not_a_pdu() {
        let failed: Result<(u16, usize), _> = Err(DissectError::new("x: `v == 1` does not hold"));
        assert_eq!(declared(failed, 10, |_, _| Some(1)), Framing::NotMessage);
    }

    #[test]
    fn an_empty_or_unrepresentable_pdu_is_not_one() {
        let empty: Result<(u16, usize), DissectError> = Ok((0, 0));
        assert_eq!(declared(empty, 4, |_, _| Some(0)), Framing::NotMessage);
        let huge: Result<(u16, usize), DissectError> = Ok((0, 2));
        assert_eq!(
            declared(huge, 4, |_, _| Some(u64::MAX)),
            Framing::Needs(usize::MAX)
        );
    }
}
