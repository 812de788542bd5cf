//! HTTP/2: the heuristic that finds a connection by its preface on any TCP port, and the
//! preface itself.

/// The client connection preface (RFC 9113, section 3.4).
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Whether a TCP payload starts with the HTTP/2 connection preface.
pub fn looks_like_preface(payload: &[u8]) -> bool {
    payload.starts_with(PREFACE)
}
