//! DNS over HTTPS (RFC 8484) in cleartext, and DNS on a port of its own: the capture of
//! the DoH and `--decode-as` tests, and of `samplegen doh`.
//!
//! - TCP stream 0, HTTP/1.1 on port 80: three POSTs of `application/dns-message` on one
//!   connection; the first answer's body comes in a segment after its head, the third
//!   request's body is not a DNS message (answered 400).
//! - TCP stream 1, HTTP/2 with prior knowledge (h2c) on port 8080: two queries on
//!   streams 1 and 3, each HEADERS then one DATA frame that ends the stream, answered
//!   the same way (the answer to stream 3 padded).
//! - UDP on port 5300: a DNS query and its answer (no port binding knows 5300).
//! - TCP stream 2, DNS over TCP on port 5300: a query whose length prefix and first
//!   bytes come in one segment and the rest in the next, then its answer.
//! - TCP stream 3, HTTP/2 (h2c) on port 8080: a query on stream 1 whose body comes in
//!   two DATA frames, in two segments, and its answer in four (the first padded, the
//!   third empty), over three segments.

use crate::net::*;
use crate::pcap::{pcap_file, LINKTYPE_ETHERNET};
use crate::tcp::ethernet_frames;
use crate::TcpConversation;

/// A DNS query for `name` (type A, recursion desired).
pub fn dns_query(id: u16, name: &str) -> Vec<u8> {
    let mut m = Vec::new();
    push_dns_header(&mut m, id, DNS_FLAGS_QUERY, [1, 0, 0, 0]);
    push_dns_question(&mut m, name, DNS_TYPE_A);
    m
}

/// The answer to [`dns_query`]: one A record, TTL 300.
pub fn dns_answer(id: u16, name: &str, addr: [u8; 4]) -> Vec<u8> {
    let mut m = Vec::new();
    push_dns_header(&mut m, id, DNS_FLAGS_RESPONSE, [1, 1, 0, 0]);
    push_dns_question(&mut m, name, DNS_TYPE_A);
    push_dns_rr(&mut m, DNS_QNAME_OFFSET, DNS_TYPE_A, 300, &addr);
    m
}

fn post(path: &str, body: &[u8]) -> Vec<u8> {
    let mut m = format!(
        "POST {path} HTTP/1.1\r\nHost: doh.example\r\nAccept: application/dns-message\r\n\
         Content-Type: application/dns-message\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    m.extend_from_slice(body);
    m
}

fn response_head(status: &str, content_type: &str, len: usize) -> Vec<u8> {
    format!("HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len}\r\n\r\n")
        .into_bytes()
}

/// An HTTP/2 frame: the 9-byte header (RFC 9113, section 4.1) and `payload`.
fn h2_frame(out: &mut Vec<u8>, ty: u8, flags: u8, stream: u32, payload: &[u8]) {
    let len = payload.len() as u32;
    out.extend_from_slice(&[(len >> 16) as u8, (len >> 8) as u8, len as u8, ty, flags]);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
}

/// An HPACK literal header field without indexing, its name indexed (RFC 7541, 6.2.2),
/// its value a plain string shorter than 127 bytes.
fn hpack_literal(out: &mut Vec<u8>, name_index: u8, value: &str) {
    if name_index < 15 {
        out.push(name_index);
    } else {
        out.extend_from_slice(&[0x0f, name_index - 15]);
    }
    out.push(value.len() as u8);
    out.extend_from_slice(value.as_bytes());
}

/// HPACK static table indices (RFC 7541, appendix A).
const AUTHORITY: u8 = 1;
const METHOD_POST: u8 = 3;
const PATH: u8 = 4;
const SCHEME_HTTP: u8 = 6;
const STATUS_200: u8 = 8;
const CONTENT_LENGTH: u8 = 28;
const CONTENT_TYPE: u8 = 31;

const DATA: u8 = 0;
const HEADERS: u8 = 1;
const SETTINGS: u8 = 4;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;

fn h2_request(out: &mut Vec<u8>, stream: u32, body: &[u8]) {
    let mut block = vec![0x80 | METHOD_POST, 0x80 | SCHEME_HTTP];
    hpack_literal(&mut block, AUTHORITY, "doh.example");
    hpack_literal(&mut block, PATH, "/dns-query");
    hpack_literal(&mut block, CONTENT_TYPE, "application/dns-message");
    hpack_literal(&mut block, CONTENT_LENGTH, &body.len().to_string());
    h2_frame(out, HEADERS, END_HEADERS, stream, &block);
    h2_frame(out, DATA, END_STREAM, stream, body);
}

fn h2_response(out: &mut Vec<u8>, stream: u32, body: &[u8], padding: u8) {
    let mut block = vec![0x80 | STATUS_200];
    hpack_literal(&mut block, CONTENT_TYPE, "application/dns-message");
    hpack_literal(&mut block, CONTENT_LENGTH, &body.len().to_string());
    h2_frame(out, HEADERS, END_HEADERS, stream, &block);
    if padding == 0 {
        h2_frame(out, DATA, END_STREAM, stream, body);
    } else {
        let mut payload = vec![padding];
        payload.extend_from_slice(body);
        payload.resize(payload.len() + usize::from(padding), 0);
        h2_frame(out, DATA, END_STREAM | PADDED, stream, &payload);
    }
}

/// The HEADERS of a DoH POST on `stream`, for a body of `len` bytes.
fn h2_post_headers(out: &mut Vec<u8>, stream: u32, len: usize) {
    let mut block = vec![0x80 | METHOD_POST, 0x80 | SCHEME_HTTP];
    hpack_literal(&mut block, AUTHORITY, "doh.example");
    hpack_literal(&mut block, PATH, "/dns-query");
    hpack_literal(&mut block, CONTENT_TYPE, "application/dns-message");
    hpack_literal(&mut block, CONTENT_LENGTH, &len.to_string());
    h2_frame(out, HEADERS, END_HEADERS, stream, &block);
}

/// The HTTP/2 connection of TCP stream 3: DNS messages spread over DATA frames.
fn h2_split_bodies() -> TcpConversation {
    let mut h2 = TcpConversation::new("10.0.0.1:40003", "10.0.0.3:8080");
    h2.handshake();
    let mut hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    h2_frame(&mut hello, SETTINGS, 0, 0, &[]);
    h2.send(true, &hello);
    let mut settings = Vec::new();
    h2_frame(&mut settings, SETTINGS, 0, 0, &[]);
    h2_frame(&mut settings, SETTINGS, 1, 0, &[]);
    h2.send(false, &settings);

    let query = dns_query(0, "split.example.net");
    let mut m = Vec::new();
    h2_frame(&mut m, SETTINGS, 1, 0, &[]);
    h2_post_headers(&mut m, 1, query.len());
    h2_frame(&mut m, DATA, 0, 1, &query[..10]);
    h2.send(true, &m);
    let mut m = Vec::new();
    h2_frame(&mut m, DATA, END_STREAM, 1, &query[10..]);
    h2.send(true, &m);

    let answer = dns_answer(0, "split.example.net", [192, 0, 2, 99]);
    let mut m = Vec::new();
    let mut block = vec![0x80 | STATUS_200];
    hpack_literal(&mut block, CONTENT_TYPE, "application/dns-message");
    hpack_literal(&mut block, CONTENT_LENGTH, &answer.len().to_string());
    h2_frame(&mut m, HEADERS, END_HEADERS, 1, &block);
    let mut padded = vec![2];
    padded.extend_from_slice(&answer[..7]);
    padded.extend_from_slice(&[0, 0]);
    h2_frame(&mut m, DATA, PADDED, 1, &padded);
    h2.send(false, &m);
    let mut m = Vec::new();
    h2_frame(&mut m, DATA, 0, 1, &answer[7..30]);
    h2_frame(&mut m, DATA, 0, 1, &[]);
    h2.send(false, &m);
    let mut m = Vec::new();
    h2_frame(&mut m, DATA, END_STREAM, 1, &answer[30..]);
    h2.send(false, &m);
    h2.close();
    h2
}

/// The IP packets of the capture, in order (see the module's documentation).
pub fn packets() -> Vec<Vec<u8>> {
    let mut out = Vec::new();

    let mut h1 = TcpConversation::new("10.0.0.1:40000", "10.0.0.2:80");
    h1.handshake();
    h1.send(true, &post("/dns-query", &dns_query(0, "example.com")));
    let answer = dns_answer(0, "example.com", [93, 184, 216, 34]);
    h1.send(
        false,
        &response_head("200 OK", "application/dns-message", answer.len()),
    );
    h1.send(false, &answer);
    h1.send(true, &post("/dns-query", &dns_query(0, "www.example.org")));
    let answer = dns_answer(0, "www.example.org", [192, 0, 2, 80]);
    let mut m = response_head("200 OK", "application/dns-message", answer.len());
    m.extend_from_slice(&answer);
    h1.send(false, &m);
    h1.send(true, &post("/dns-query", b"this is not a DNS message"));
    let text = b"bad request";
    let mut m = response_head("400 Bad Request", "text/plain", text.len());
    m.extend_from_slice(text);
    h1.send(false, &m);
    h1.close();
    out.append(&mut h1.packets);

    let mut h2 = TcpConversation::new("10.0.0.1:40001", "10.0.0.3:8080");
    h2.handshake();
    let mut hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    h2_frame(&mut hello, SETTINGS, 0, 0, &[0, 3, 0, 0, 0, 100]);
    h2.send(true, &hello);
    let mut settings = Vec::new();
    h2_frame(&mut settings, SETTINGS, 0, 0, &[0, 3, 0, 0, 0, 128]);
    h2_frame(&mut settings, SETTINGS, 1, 0, &[]);
    h2.send(false, &settings);
    let mut request = Vec::new();
    h2_frame(&mut request, SETTINGS, 1, 0, &[]);
    h2_request(&mut request, 1, &dns_query(0, "h2.example.net"));
    h2.send(true, &request);
    let mut request = Vec::new();
    h2_request(&mut request, 3, &dns_query(0, "mail.example.com"));
    h2.send(true, &request);
    let mut response = Vec::new();
    h2_response(
        &mut response,
        1,
        &dns_answer(0, "h2.example.net", [198, 51, 100, 7]),
        0,
    );
    h2.send(false, &response);
    let mut response = Vec::new();
    h2_response(
        &mut response,
        3,
        &dns_answer(0, "mail.example.com", [203, 0, 113, 25]),
        4,
    );
    h2.send(false, &response);
    h2.close();
    out.append(&mut h2.packets);

    out.push(ipv4_udp(
        [10, 0, 0, 1],
        [10, 0, 0, 4],
        50000,
        5300,
        &dns_query(0x5300, "udp.example.com"),
    ));
    out.push(ipv4_udp(
        [10, 0, 0, 4],
        [10, 0, 0, 1],
        5300,
        50000,
        &dns_answer(0x5300, "udp.example.com", [192, 0, 2, 53]),
    ));

    let mut tcp = TcpConversation::new("10.0.0.1:40002", "10.0.0.4:5300");
    tcp.handshake();
    let query = dns_query(0x5301, "tcp.example.com");
    let mut framed = (query.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&query);
    tcp.send(true, &framed[..12]);
    tcp.send(true, &framed[12..]);
    let answer = dns_answer(0x5301, "tcp.example.com", [192, 0, 2, 54]);
    let mut framed = (answer.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&answer);
    tcp.send(false, &framed);
    tcp.close();
    out.append(&mut tcp.packets);

    out.append(&mut h2_split_bodies().packets);
    out
}

/// The capture as a pcap file: Ethernet, one frame a millisecond from
/// 2023-11-14T22:13:20Z.
pub fn pcap() -> Vec<u8> {
    pcap_file(LINKTYPE_ETHERNET, &ethernet_frames(&packets()))
}
