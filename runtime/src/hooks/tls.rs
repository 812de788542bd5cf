//! TLS on a port without a binding: `specs/application/tls.toml` names this heuristic.
//! The spec itself reads the records; this only says whether a payload starts with one.

/// Largest record fragment: 2^14 bytes plus 2048 of expansion (RFC 5246 section 6.2.3).
const MAX_FRAGMENT: u16 = (1 << 14) + 2048;

/// Whether a TCP payload starts with a sane TLS record header: a content type from
/// change_cipher_spec (20) to heartbeat (24), a version 3.0 to 3.4 (SSL 3.0 to TLS 1.3),
/// and a non-empty fragment no longer than the protocol allows.
pub fn looks_like_tls(payload: &[u8]) -> bool {
    let [content_type, major, minor, hi, lo, ..] = *payload else {
        return false;
    };
    let length = u16::from_be_bytes([hi, lo]);
    (20..=24).contains(&content_type)
        && major == 3
        && minor <= 4
        && length > 0
        && length <= MAX_FRAGMENT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_headers_are_recognised() {
        // A ClientHello record header (RFC 8446 section 5.1) and an application data one.
        assert!(looks_like_tls(&[22, 3, 1, 0x02, 0x00, 1]));
        assert!(looks_like_tls(&[23, 3, 3, 0x00, 0x20]));
    }

    #[test]
    fn other_bytes_are_not() {
        assert!(!looks_like_tls(b"GET / HTTP/1.1\r\n"));
        assert!(!looks_like_tls(&[22, 3, 1, 0x02])); // cut short
        assert!(!looks_like_tls(&[25, 3, 1, 0, 5])); // no such content type
        assert!(!looks_like_tls(&[22, 2, 0, 0, 5])); // SSL 2 is not this record layer
        assert!(!looks_like_tls(&[22, 3, 9, 0, 5])); // no such minor version
        assert!(!looks_like_tls(&[23, 3, 3, 0, 0])); // empty
        assert!(!looks_like_tls(&[23, 3, 3, 0x48, 0x01])); // 18433 > 2^14 + 2048
    }
}
