//! HTTP/1.x: the start line and header fields are text, so `specs/application/http.toml`
//! names this hook to fill the generated `Http` struct.
//!
//! With one TCP segment at a time (no reassembly), a message may start mid-segment of
//! nothing: a segment that starts with neither a request line nor a status line is the
//! continuation of an earlier message, and comes back as an `Http` with no start line,
//! whose bytes stay Raw.

use crate::protocols::http::Http;
pub use crate::reassembly::framing::{Framing, FramingContext};

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
    let mut http = Http {
        content_length: NO_LENGTH,
        ..Http::default()
    };
    let Some((start, len)) = scan(input, |name, value| {
        content_length(name, value, &mut http.content_length);
        http.headers.push((text(name), text(value)));
    }) else {
        // A continuation: no header here.
        return Ok((http, 0));
    };
    match start {
        StartLine::Request {
            method,
            uri,
            version,
        } => {
            http.method = text(method);
            http.uri = text(uri);
            http.version = text(version);
        }
        StartLine::Status {
            version,
            status,
            reason,
        } => {
            http.version = text(version);
            http.status = status;
            http.reason = text(reason);
        }
    }
    Ok((http, len))
}

/// The header field `name: value` sets `length` when it is a valid Content-Length (the
/// last valid one of a head counts, as `parse` and the view both show it).
fn content_length(name: &[u8], value: &[u8], length: &mut u64) {
    if name.eq_ignore_ascii_case(b"content-length") {
        if let Some(n) = decimal(value) {
            *length = n;
        }
    }
}

/// The start line of a message.
enum StartLine<'a> {
    Request {
        method: &'a [u8],
        uri: &'a [u8],
        version: &'a [u8],
    },
    Status {
        version: &'a [u8],
        status: u16,
        reason: &'a [u8],
    },
}

/// Finds the start line at the start of `input` and hands each header field to `field`
/// (its name and value, trimmed); returns the start line and the head's length, up to and
/// including the empty line (or all of `input` when the head is not complete in it).
/// `None` for a continuation, which has no head.
fn scan<'a>(
    input: &'a [u8],
    mut field: impl FnMut(&'a [u8], &'a [u8]),
) -> Option<(StartLine<'a>, usize)> {
    // Most segments on an HTTP port continue a body: tell them by their first bytes,
    // before looking for the end of a line through all of them.
    if !starts_with_start_line(input) {
        return None;
    }
    let (first, mut pos) = line(input, 0);
    // On an HTTP port a segment may hold only the start of a request line ("GET /").
    let start = if let Some((method, uri, version)) = request_line(first, false) {
        StartLine::Request {
            method,
            uri,
            version,
        }
    } else if let Some((version, status, reason)) = status_line(first) {
        StartLine::Status {
            version,
            status,
            reason,
        }
    } else {
        return None;
    };
    while pos < input.len() {
        let (l, next) = line(input, pos);
        pos = next;
        if l.is_empty() {
            break;
        }
        let (name, value) = match memchr::memchr(b':', l) {
            Some(colon) => (&l[..colon], &l[colon + 1..]),
            None => (l, &b""[..]),
        };
        field(name.trim_ascii(), value.trim_ascii());
    }
    Some((start, pos))
}

/// A view of an HTTP/1 message head over its bytes, for the chain's walk through views
/// (`Thresholds::views`): it finds where the head ends without making its strings, which
/// [`parse`] makes only when the values are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpView<'a> {
    /// The bytes the head was found in (the head and what follows it).
    input: &'a [u8],
}

impl<'a> crate::chain::HeaderView<'a> for HttpView<'a> {
    fn read(input: &'a [u8]) -> Option<(Self, usize)> {
        // As `parse`: a continuation is an HTTP layer of no bytes.
        let len = scan(input, |_, _| {}).map_or(0, |(_, len)| len);
        Some((HttpView { input }, len))
    }

    fn check(&self) -> Result<(), crate::layer::DissectError> {
        Ok(())
    }

    fn payload_len(&self, _captured: u64) -> Option<u64> {
        None
    }

    fn next_protocol(&self, _payload: &[u8]) -> Option<crate::protocols::Next> {
        None
    }

    /// The values `parse` would fill the struct with, in the order the struct's `visit`
    /// shows them, read from the bytes without making a string (unless the text is not
    /// UTF-8): the start line and Content-Length in one pass over the head, the header
    /// fields, which the list shows between them, in a second.
    fn visit<V: crate::value::Visitor + ?Sized>(&self, v: &mut V) {
        use crate::protocols::http::FIELDS;
        use crate::value::Value;
        let mut length = NO_LENGTH;
        let start = scan(self.input, |name, value| {
            content_length(name, value, &mut length);
        });
        let text = |info: &'static crate::value::FieldInfo, b: &[u8], v: &mut V| {
            if !b.is_empty() {
                v.field(info, Value::Text(&String::from_utf8_lossy(b)));
            }
        };
        let headed = start.is_some();
        match start {
            Some((
                StartLine::Request {
                    method,
                    uri,
                    version,
                },
                _,
            )) => {
                text(&FIELDS[0], method, v);
                text(&FIELDS[1], uri, v);
                text(&FIELDS[2], version, v);
            }
            Some((
                StartLine::Status {
                    version,
                    status,
                    reason,
                },
                _,
            )) => {
                text(&FIELDS[2], version, v);
                if status != 0 {
                    v.field(&FIELDS[3], Value::Uint(u64::from(status)));
                }
                text(&FIELDS[4], reason, v);
            }
            None => {}
        }
        v.begin_list(&FIELDS[5]);
        if headed {
            scan(self.input, |name, value| {
                v.begin_item();
                v.field(&FIELDS[6], Value::Text(&String::from_utf8_lossy(name)));
                v.field(&FIELDS[7], Value::Text(&String::from_utf8_lossy(value)));
                v.end_item();
            });
        }
        v.end_list();
        if length != NO_LENGTH {
            v.field(&FIELDS[8], Value::Uint(length));
        }
    }
}

/// `content_length` of a message without a Content-Length header.
pub const NO_LENGTH: u64 = u64::MAX;

/// Longest message head (start line and header fields) looked for on a stream: a head
/// still incomplete after this many bytes is not HTTP.
pub const MAX_HEAD: usize = 256 * 1024;

/// The length of the HTTP/1 message at the start of `stream`: the head up to the empty
/// line, then a body by Content-Length, by chunked transfer coding, or, for a response
/// without either, up to the close. Requests without either have no body; so have 1xx,
/// 204 and 304 responses and responses to HEAD.
pub fn message_len(stream: &[u8], cx: FramingContext) -> Framing {
    let Some(head_len) = head_len(stream) else {
        if stream.len() > MAX_HEAD || (!stream.is_empty() && !starts_like_message(stream)) {
            return Framing::NotMessage;
        }
        return Framing::Incomplete;
    };
    let (first, mut pos) = line(stream, 0);
    let response = match (request_line(first, true), status_line(first)) {
        (Some(_), _) => None,
        (None, Some((_, status, _))) => Some(status),
        (None, None) => return Framing::NotMessage,
    };
    let mut length = None;
    let mut chunked = false;
    while pos < head_len {
        let (l, next) = line(stream, pos);
        pos = next;
        let Some(colon) = memchr::memchr(b':', l) else {
            continue;
        };
        let (name, value) = (l[..colon].trim_ascii(), l[colon + 1..].trim_ascii());
        if name.eq_ignore_ascii_case(b"content-length") {
            length = decimal(value);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            chunked = value
                .rsplit(|&b| b == b',')
                .next()
                .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        }
    }
    let no_body = match response {
        None => !chunked && length.is_none(),
        Some(status) => {
            (100..200).contains(&status) || status == 204 || status == 304 || cx.head_request
        }
    };
    if no_body {
        return Framing::Complete(head_len);
    }
    if chunked {
        return match chunked_len(&stream[head_len..]) {
            Some(body) => Framing::Complete(head_len + body),
            None if cx.closed => Framing::Complete(stream.len()),
            None => Framing::Incomplete,
        };
    }
    match length {
        Some(n) => match usize::try_from(n)
            .ok()
            .and_then(|n| n.checked_add(head_len))
        {
            Some(total) if total <= stream.len() => Framing::Complete(total),
            Some(total) => Framing::Needs(total),
            None => Framing::Incomplete,
        },
        // A response delimited by the close of the connection.
        None if cx.closed => Framing::Complete(stream.len()),
        None => Framing::Incomplete,
    }
}

/// Whether a method or status line could still be starting in `stream` (its first word).
fn starts_like_message(stream: &[u8]) -> bool {
    let word = &stream[..stream.len().min(8)];
    b"HTTP/1.".starts_with(&word[..word.len().min(7)])
        || METHODS.iter().any(|m| {
            let n = word.len().min(m.len() + 1);
            let mut with_space = m.to_vec();
            with_space.push(b' ');
            with_space.starts_with(&word[..n])
        })
}

/// The length of the head, up to and including the empty line.
fn head_len(stream: &[u8]) -> Option<usize> {
    let window = &stream[..stream.len().min(MAX_HEAD)];
    let mut pos = 0;
    while pos < window.len() {
        let nl = memchr::memchr(b'\n', &window[pos..])?;
        let l = &window[pos..pos + nl];
        pos += nl + 1;
        if l.is_empty() || l == b"\r" {
            // An empty line before the start line is not a message head.
            return (pos > l.len() + 1).then_some(pos);
        }
    }
    None
}

/// The length of a chunked body (chunks, the last chunk, trailers and the final empty
/// line), or `None` when it does not end within `body`.
fn chunked_len(body: &[u8]) -> Option<usize> {
    let mut pos = 0;
    loop {
        let nl = body.get(pos..)?.iter().position(|&b| b == b'\n')?;
        let size_line = &body[pos..pos + nl];
        pos += nl + 1;
        let digits = size_line
            .split(|&b| b == b';' || b == b'\r')
            .next()
            .unwrap_or_default()
            .trim_ascii();
        let size = std::str::from_utf8(digits)
            .ok()
            .and_then(|d| u64::from_str_radix(d, 16).ok())?;
        if size == 0 {
            // Trailer fields, up to an empty line.
            loop {
                let nl = body.get(pos..)?.iter().position(|&b| b == b'\n')?;
                let l = &body[pos..pos + nl];
                pos += nl + 1;
                if l.is_empty() || l == b"\r" {
                    return Some(pos);
                }
            }
        }
        let size = usize::try_from(size).ok()?;
        pos = pos.checked_add(size)?;
        // The chunk's CR LF.
        let rest = body.get(pos..)?;
        if rest.starts_with(b"\r\n") {
            pos += 2;
        } else if rest.starts_with(b"\n") {
            pos += 1;
        } else if rest.len() < 2 {
            return None;
        }
    }
}

/// A decimal number, with no sign or other characters.
fn decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
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
    match memchr::memchr(b'\n', &rest[..rest.len().min(MAX_LINE)]) {
        Some(nl) => {
            let l = &rest[..nl];
            (l.strip_suffix(b"\r").unwrap_or(l), start + nl + 1)
        }
        None => (&rest[..rest.len().min(MAX_LINE)], input.len()),
    }
}

/// Whether `input` begins as a request line (a known method and a space) or a status
/// line (`HTTP/`) must: what [`request_line`] and [`status_line`] accept, told cheaply.
fn starts_with_start_line(input: &[u8]) -> bool {
    if !input.first().is_some_and(u8::is_ascii_uppercase) {
        return false;
    }
    input.starts_with(b"HTTP/")
        || METHODS
            .iter()
            .any(|m| input.starts_with(m) && input.get(m.len()) == Some(&b' '))
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
    // Header text is nearly always ASCII: checked in one pass, copied in one.
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// Whether an HTTP/1 message is a `101 Switching Protocols` response to HTTP/2 over
/// cleartext (`Upgrade: h2c`).
pub fn switches_to_h2c(message: &[u8]) -> bool {
    let head = &message[..message.len().min(4096)];
    head.starts_with(b"HTTP/1.1 101")
        && head.split(|&b| b == b'\n').any(|line| {
            let line = line.trim_ascii();
            line.len() > 8
                && line[..8].eq_ignore_ascii_case(b"upgrade:")
                && line[8..].trim_ascii().eq_ignore_ascii_case(b"h2c")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::HeaderView;
    use crate::value::Transcript;
    use proptest::prelude::*;

    /// The head's length as the view finds it, and as `parse` does.
    fn both(input: &[u8]) -> (usize, usize) {
        let view = HttpView::read(input).map(|(_, len)| len);
        (view.unwrap_or(usize::MAX), parse(input).unwrap().1)
    }

    #[test]
    fn only_a_101_to_h2c_switches_to_http2() {
        let switch =
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
        assert!(switches_to_h2c(switch));
        let upper = b"HTTP/1.1 101 Switching Protocols\r\nUPGRADE:  H2C \r\n\r\n";
        assert!(switches_to_h2c(upper));
        let websocket = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
        assert!(!switches_to_h2c(websocket));
        let ok = b"HTTP/1.1 200 OK\r\nUpgrade: h2c\r\n\r\n";
        assert!(!switches_to_h2c(ok));
        // A request asking for the upgrade is not the switch.
        assert!(!switches_to_h2c(b"GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n"));
    }

    #[test]
    fn the_view_ends_the_head_where_parse_does() {
        for msg in [
            &b"GET / HTTP/1.1\r\nHost: a\r\n\r\nbody"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            b"GET / HTTP/1.1\r\nHost: a\r\n",
            b"GET /",
            b"continuation of a body",
            b"",
        ] {
            let (view, parsed) = both(msg);
            assert_eq!(view, parsed, "{:?}", String::from_utf8_lossy(msg));
        }
    }

    proptest! {
        #[test]
        fn the_view_agrees_with_parse(
            start in prop::sample::select(vec![
                &b"GET / HTTP/1.1\r\n"[..], b"HTTP/1.0 404 Not Found\r\n", b"POST /x HTTP/1.1\n", b"",
            ]),
            lines in prop::collection::vec(
                prop::sample::select(vec![
                    &b"Host: x\r\n"[..], b"Content-Length: 12\r\n", b"\r\n", b"\n", b"a:b",
                    b"Content-Type: application/dns-message\r\n", b"\xff\xfe:\x00\r\n",
                ]),
                0..8,
            ),
            tail in prop::collection::vec(any::<u8>(), 0..32),
        ) {
            let mut input = start.to_vec();
            for l in lines {
                input.extend_from_slice(l);
            }
            input.extend_from_slice(&tail);
            let (view, parsed) = both(&input);
            prop_assert_eq!(view, parsed);
            // The values read through the view are those of the parsed head.
            let (head, _) = HttpView::read(&input).unwrap();
            let (http, _) = parse(&input).unwrap();
            let (mut a, mut b) = (Transcript::default(), Transcript::default());
            head.visit(&mut a);
            http.visit(&mut b);
            prop_assert_eq!(a, b);
        }
    }

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
        let empty = Http {
            content_length: NO_LENGTH,
            ..Http::default()
        };
        assert_eq!((h, len), (empty, 0));
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
    fn messages_are_framed_by_length_chunks_or_close() {
        let cx = FramingContext::default();
        let get = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\n";
        assert_eq!(message_len(get, cx), Framing::Complete(27));
        let post = b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello!";
        assert_eq!(message_len(post, cx), Framing::Complete(post.len() - 1));
        assert_eq!(message_len(&post[..30], cx), Framing::Incomplete);
        assert_eq!(message_len(&post[..40], cx), Framing::Needs(post.len() - 1));
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nX";
        assert_eq!(
            message_len(chunked, cx),
            Framing::Complete(chunked.len() - 1)
        );
        assert_eq!(message_len(&chunked[..50], cx), Framing::Incomplete);
        let until_close = b"HTTP/1.0 200 OK\r\n\r\nbody";
        assert_eq!(message_len(until_close, cx), Framing::Incomplete);
        let closed = FramingContext { closed: true, ..cx };
        assert_eq!(
            message_len(until_close, closed),
            Framing::Complete(until_close.len())
        );
        let head = FramingContext {
            head_request: true,
            ..cx
        };
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n";
        assert_eq!(message_len(r, head), Framing::Complete(r.len()));
        let cont = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n";
        assert_eq!(message_len(cont, cx), Framing::Complete(25));
        assert_eq!(message_len(b"\x16\x03\x01 tls", cx), Framing::NotMessage);
        assert_eq!(message_len(b"GE", cx), Framing::Incomplete);
        assert_eq!(
            message_len(b"HTTP/1.1 200 OK\r\nHost", cx),
            Framing::Incomplete
        );
    }

    #[test]
    fn content_length_is_a_field() {
        let (h, _) = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 43\r\n\r\n").unwrap();
        assert_eq!(h.content_length, 43);
        let (h, _) = parse(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(h.content_length, NO_LENGTH);
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
