//! HTTP/1.x: the start line and header fields are text, so `specs/application/http.toml`
//! names this hook to fill the generated `Http` struct.
//!
//! With one TCP segment at a time (no reassembly), a message may start mid-segment of
//! nothing: a segment that starts with neither a request line nor a status line is the
//! continuation of an earlier message, and comes back as an `Http` with no start line,
//! whose bytes stay Raw.

use crate::protocols::http::Http;

/// Request methods recognised in a request line (RFC 9110, WebDAV, and common others).
const METHODS: &[&[u8]] = &[
    b"GET",
    b"HEAD",
    b"POST",
    b"PUT",
    b"DELETE",
    b"CONNECT",
    b"OPTIONS",
    b"TRACE",
    b"PATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"SEARCH",
    b"REPORT",
    b"CHECKOUT",
    b"MERGE",
    b"NOTIFY",
    b"SUBSCRIBE",
    b"UNSUBSCRIBE",
    b"M-SEARCH",
];

/// Longest start line or header line looked at (longer lines are cut, not an error).
const MAX_LINE: usize = 64 * 1024;

/// Reads the start line and header fields at the start of `input`; returns the header
/// and its length, up to and including the empty line (or all of `input` when the header
/// is not complete in it).
pub fn parse(input: &[u8]) -> Result<(Http, usize), String> {
    let (first, mut pos) = line(input, 0);
    let mut http = Http::default();
    // On an HTTP port a segment may hold only the start of a request line ("GET /").
    if let Some((method, uri, version)) = request_line(first, false) {
        http.method = text(method);
        http.uri = text(uri);
        http.version = text(version);
    } else if let Some((version, status, reason)) = status_line(first) {
        http.version = text(version);
        http.status = status;
        http.reason = text(reason);
    } else {
        // A continuation: no header here.
        return Ok((http, 0));
    }
    while pos < input.len() {
        let (l, next) = line(input, pos);
        pos = next;
        if l.is_empty() {
            break;
        }
        let (name, value) = match l.iter().position(|&b| b == b':') {
            Some(colon) => (&l[..colon], &l[colon + 1..]),
            None => (l, &b""[..]),
        };
        http.headers
            .push((text(name.trim_ascii()), text(value.trim_ascii())));
    }
    Ok((http, pos))
}

/// Whether a payload on a port without a binding starts like an HTTP/1 message.
pub fn looks_like_http(payload: &[u8]) -> bool {
    // Most payloads fail on their first byte, the rest on the first word; only then
    // look for the end of the line.
    if !payload.first().is_some_and(u8::is_ascii_uppercase) {
        return false;
    }
    let starts_right = payload.starts_with(b"HTTP/1.")
        || METHODS
            .iter()
            .any(|m| payload.len() > m.len() && payload.starts_with(m) && payload[m.len()] == b' ');
    if !starts_right {
        return false;
    }
    let (first, _) = line(payload, 0);
    request_line(first, true).is_some() || status_line(first).is_some()
}

/// The line starting at `start` (without its CR LF) and where the next one starts.
fn line(input: &[u8], start: usize) -> (&[u8], usize) {
    let rest = &input[start..];
    match rest.iter().take(MAX_LINE).position(|&b| b == b'\n') {
        Some(nl) => {
            let l = &rest[..nl];
            (l.strip_suffix(b"\r").unwrap_or(l), start + nl + 1)
        }
        None => (&rest[..rest.len().min(MAX_LINE)], input.len()),
    }
}

/// `METHOD SP request-target SP HTTP/1.x`; unless `complete`, the version (and the
/// target's end) may be missing, cut off by the end of the segment.
fn request_line(l: &[u8], complete: bool) -> Option<(&[u8], &[u8], &[u8])> {
    let sp = l.iter().position(|&b| b == b' ')?;
    let method = &l[..sp];
    if !METHODS.contains(&method) {
        return None;
    }
    let rest = &l[sp + 1..];
    let (uri, version) = match rest.iter().rposition(|&b| b == b' ') {
        Some(sp2) if is_version(&rest[sp2 + 1..]) => (&rest[..sp2], &rest[sp2 + 1..]),
        _ if complete => return None,
        _ => (rest, &b""[..]),
    };
    (!uri.is_empty()).then_some((method, uri, version))
}

/// `HTTP/x.y SP status-code [SP reason-phrase]`
fn status_line(l: &[u8]) -> Option<(&[u8], u16, &[u8])> {
    let version = l.get(..8)?;
    if !is_version(version) || l.get(8) != Some(&b' ') {
        return None;
    }
    let code = l.get(9..12)?;
    if !code.iter().all(u8::is_ascii_digit) || l.get(12).is_some_and(|&b| b != b' ') {
        return None;
    }
    let status = code.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    Some((version, status, l.get(13..).unwrap_or_default()))
}

fn is_version(v: &[u8]) -> bool {
    v.len() == 8
        && v.starts_with(b"HTTP/")
        && v[5].is_ascii_digit()
        && v[6] == b'.'
        && v[7].is_ascii_digit()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_with_headers() {
        let msg = b"GET /index.html?a=1 HTTP/1.1\r\nHost: example.com\r\nAccept:  */* \r\n\r\nbody";
        let (h, len) = parse(msg).unwrap();
        assert_eq!(
            (h.method.as_str(), h.uri.as_str(), h.version.as_str()),
            ("GET", "/index.html?a=1", "HTTP/1.1")
        );
        assert_eq!(h.status, 0);
        assert_eq!(
            h.headers,
            vec![
                ("Host".into(), "example.com".into()),
                ("Accept".into(), "*/*".into())
            ]
        );
        assert_eq!(&msg[len..], b"body");
    }

    #[test]
    fn response_status_line() {
        let (h, len) = parse(b"HTTP/1.0 404 Not Found\r\n\r\n").unwrap();
        assert_eq!(
            (h.version.as_str(), h.status, h.reason.as_str()),
            ("HTTP/1.0", 404, "Not Found")
        );
        assert_eq!(len, 26);
        let (h, _) = parse(b"HTTP/1.1 200\r\n").unwrap();
        assert_eq!(h.status, 200);
    }

    #[test]
    fn continuation_and_incomplete_headers() {
        let (h, len) = parse(b"\x89PNG binary body").unwrap();
        assert_eq!((h, len), (Http::default(), 0));
        let msg = b"POST /x HTTP/1.1\r\nHost: a";
        let (h, len) = parse(msg).unwrap();
        assert_eq!(h.method, "POST");
        assert_eq!(
            len,
            msg.len(),
            "an incomplete header takes the whole segment"
        );
    }

    #[test]
    fn request_line_cut_by_the_segment_end() {
        let (h, len) = parse(b"GET /").unwrap();
        assert_eq!(
            (h.method.as_str(), h.uri.as_str(), h.version.as_str()),
            ("GET", "/", "")
        );
        assert_eq!(len, 5);
        assert!(
            !looks_like_http(b"GET /"),
            "the heuristic wants a whole request line"
        );
    }

    #[test]
    fn http2_preface_is_not_http1() {
        assert!(!looks_like_http(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
        assert_eq!(parse(b"PRI * HTTP/2.0\r\n").unwrap().1, 0);
    }

    #[test]
    fn heuristic() {
        assert!(looks_like_http(b"GET / HTTP/1.1\r\n"));
        assert!(looks_like_http(b"HTTP/1.1 301 Moved\r\n"));
        assert!(!looks_like_http(b"SSH-2.0-OpenSSH\r\n"));
        assert!(!looks_like_http(b"GETX / HTTP/1.1\r\n"));
        assert!(!looks_like_http(b"GET / HTTP/x\r\n"));
        assert!(!looks_like_http(b""));
    }
}
