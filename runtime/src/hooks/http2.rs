//! HTTP/2: the heuristic that finds a connection by its preface on any TCP port, and how
//! a reassembled stream is cut into PDUs (the preface, then one frame each).

use crate::reassembly::framing::{Framing, FramingContext};

/// The client connection preface (RFC 9113, section 3.4).
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Length of the frame header (RFC 9113, section 4.1).
const FRAME_HEADER: usize = 9;

/// Whether a TCP payload starts with the HTTP/2 connection preface.
pub fn looks_like_preface(payload: &[u8]) -> bool {
    payload.starts_with(PREFACE)
}

/// The PDU at the start of an HTTP/2 stream: the 24-byte preface, or a frame (its 9-byte
/// header and the payload length the header gives). Nothing here checks the frame's
/// fields: the dissector does, on the whole frame.
pub fn frame_len(stream: &[u8], _cx: FramingContext) -> Framing {
    let n = stream.len().min(PREFACE.len());
    if n > 0 && stream[..n] == PREFACE[..n] {
        return if n == PREFACE.len() {
            Framing::Complete(PREFACE.len())
        } else {
            Framing::Incomplete
        };
    }
    let Some(header) = stream.get(..FRAME_HEADER) else {
        return Framing::Incomplete;
    };
    let len = FRAME_HEADER
        + (usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]));
    if len <= stream.len() {
        Framing::Complete(len)
    } else {
        Framing::Needs(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preface_then_frames_are_pdus() {
        let cx = FramingContext::default();
        assert_eq!(frame_len(PREFACE, cx), Framing::Complete(24));
        assert_eq!(frame_len(&PREFACE[..10], cx), Framing::Incomplete);
        // SETTINGS with one setting (length 6), then more bytes.
        let settings = [0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100, 0xff];
        assert_eq!(frame_len(&settings, cx), Framing::Complete(15));
        assert_eq!(frame_len(&settings[..12], cx), Framing::Needs(15));
        assert_eq!(frame_len(&settings[..8], cx), Framing::Incomplete);
        // A 16 MiB frame: its length, not more.
        assert_eq!(
            frame_len(&[0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 1], cx),
            Framing::Needs(9 + 0xff_ffff)
        );
    }
}
