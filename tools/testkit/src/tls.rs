//! TLS 1.2 handshakes whose messages span several records (RFC 5246 section 6.2.1:
//! "multiple client messages of the same ContentType MAY be coalesced into a single
//! TLSPlaintext record, or a single message MAY be fragmented across several records"),
//! and records that span TCP segments: the capture of the TLS reassembly tests, and of
//! `samplegen tls`. No key material: only the plaintext handshake is meaningful.
//!
//! - TCP stream 0, 10.0.0.1:40000 -> 10.0.0.2:443, a full TLS 1.2 handshake:
//!   - a ClientHello (SNI `fragmented.example`, ALPN `h2`, `http/1.1`) in one record;
//!   - the server's flight in two 16 KB-class records, cut into 1448-byte segments:
//!     record 1 holds the ServerHello (ALPN `h2`) and the first bytes of a 20 016-byte
//!     Certificate (three certificates of 9000, 8000 and 3000 bytes), record 2 the rest
//!     of the Certificate and the ServerHelloDone;
//!   - the client's ClientKeyExchange (262 bytes) in three records: the first holds
//!     only 2 bytes of its 4-byte header, the second 100 bytes; the third (the rest)
//!     shares a segment with the ChangeCipherSpec and the encrypted Finished (whose
//!     explicit nonce is zero, so that it begins like two empty HelloRequests);
//!   - the server's ChangeCipherSpec and encrypted Finished, application data both
//!     ways, and the close.
//! - TCP stream 1, 10.0.0.1:40001 -> 10.0.0.3:443: a ClientHello (SNI
//!   `split.example`) in two records of one segment each, the first 50 bytes then the
//!   rest.
//! - TCP stream 2, 10.0.0.1:40002 -> 10.0.0.4:443: a handshake message claiming
//!   16 777 215 bytes (a Certificate), in a 100-byte record followed by two more
//!   100-byte handshake records: hostile input that must not be buffered whole.

use crate::pcap::{pcap_file, LINKTYPE_ETHERNET};
use crate::tcp::ethernet_frames;
use crate::TcpConversation;

/// Content types (RFC 5246 section 6.2.1).
pub const CHANGE_CIPHER_SPEC: u8 = 20;
pub const HANDSHAKE: u8 = 22;
pub const APPLICATION_DATA: u8 = 23;

/// Handshake types (RFC 5246 section 7.4).
pub const CLIENT_HELLO: u8 = 1;
pub const SERVER_HELLO: u8 = 2;
pub const CERTIFICATE: u8 = 11;
pub const SERVER_HELLO_DONE: u8 = 14;
pub const CLIENT_KEY_EXCHANGE: u8 = 16;

/// The largest plaintext record fragment (RFC 5246 section 6.2.1: 2^14).
pub const MAX_FRAGMENT: usize = 1 << 14;
/// Segment payload size of the server's flight (an Ethernet MSS with timestamps).
pub const MSS: usize = 1448;

/// A record: content type, version 3.3, u16 length, fragment.
pub fn record(content_type: u8, fragment: &[u8]) -> Vec<u8> {
    let mut r = vec![content_type, 3, 3];
    r.extend_from_slice(&(fragment.len() as u16).to_be_bytes());
    r.extend_from_slice(fragment);
    r
}

/// `body` behind a big-endian length of `width` bytes.
pub fn prefixed(width: usize, body: &[u8]) -> Vec<u8> {
    let mut v = body.len().to_be_bytes()[8 - width..].to_vec();
    v.extend_from_slice(body);
    v
}

/// A handshake message: type, u24 length, body.
pub fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![msg_type];
    m.extend(prefixed(3, body));
    m
}

/// An extension: type, u16 length, data.
pub fn extension(ext_type: u16, data: &[u8]) -> Vec<u8> {
    let mut e = ext_type.to_be_bytes().to_vec();
    e.extend(prefixed(2, data));
    e
}

/// The ALPN extension (RFC 7301) offering `protocols`.
fn alpn(protocols: &[&str]) -> Vec<u8> {
    let list: Vec<u8> = protocols
        .iter()
        .flat_map(|p| prefixed(1, p.as_bytes()))
        .collect();
    extension(16, &prefixed(2, &list))
}

/// A ClientHello offering 0xc02f and 0xc030, with SNI `host` (RFC 6066) and ALPN `h2`,
/// `http/1.1`.
pub fn client_hello(host: &str) -> Vec<u8> {
    let mut sni = vec![0u8];
    sni.extend(prefixed(2, host.as_bytes()));
    let mut exts = extension(0, &prefixed(2, &sni));
    exts.extend(alpn(&["h2", "http/1.1"]));
    let mut body = vec![3, 3];
    body.extend([0x5a; 32]); // random
    body.push(0); // no session id
    body.extend(prefixed(2, &[0xc0, 0x2f, 0xc0, 0x30]));
    body.extend([1, 0]); // one compression method: null
    body.extend(prefixed(2, &exts));
    handshake(CLIENT_HELLO, &body)
}

/// A ServerHello choosing 0xc02f and ALPN `h2`.
pub fn server_hello() -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend([0xa5; 32]);
    body.push(0);
    body.extend([0xc0, 0x2f, 0]);
    body.extend(prefixed(2, &alpn(&["h2"])));
    handshake(SERVER_HELLO, &body)
}

/// A DER element: tag, definite length (X.690 section 8.1.3), content.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut e = vec![tag];
    let n = content.len();
    if n < 0x80 {
        e.push(n as u8);
    } else {
        let bytes = n.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        e.push(0x80 | (bytes.len() - skip) as u8);
        e.extend_from_slice(&bytes[skip..]);
    }
    e.extend_from_slice(content);
    e
}

/// A syntactically valid X.509 certificate (RFC 5280 section 4.1) of exactly `size`
/// bytes (at least 300): v1, empty names, a public key of an unregistered algorithm
/// (1.2.3.4, so that no dissector reads inside it), and a sha256WithRSAEncryption
/// signature whose bits are filler of the length that makes up `size`.
pub fn x509(size: usize, fill: u8) -> Vec<u8> {
    let sha256_rsa = der(
        0x30,
        &[
            der(
                0x06,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b],
            ),
            vec![0x05, 0x00],
        ]
        .concat(),
    );
    let validity = der(
        0x30,
        &[der(0x17, b"240101000000Z"), der(0x17, b"340101000000Z")].concat(),
    );
    let spki = der(
        0x30,
        &[
            der(0x30, &der(0x06, &[0x2a, 0x03, 0x04])),
            der(0x03, &[0, 1, 2, 3, 4]),
        ]
        .concat(),
    );
    let tbs = der(
        0x30,
        &[
            der(0x02, &[0x01]),
            sha256_rsa.clone(),
            der(0x30, &[]),
            validity,
            der(0x30, &[]),
            spki,
        ]
        .concat(),
    );
    // The longest signature that fits: the outer lengths grow with it.
    let head = tbs.len() + sha256_rsa.len();
    (0..size)
        .rev()
        .map(|n| {
            let mut bits = vec![0u8];
            bits.resize(n + 1, fill);
            der(
                0x30,
                &[tbs.clone(), sha256_rsa.clone(), der(0x03, &bits)].concat(),
            )
        })
        .find(|c| c.len() <= size)
        .filter(|c| c.len() == size && head < size)
        .expect("a size a certificate can have")
}

/// A Certificate message (RFC 5246 section 7.4.2) of certificates of these sizes.
pub fn certificate(sizes: &[usize]) -> Vec<u8> {
    let list: Vec<u8> = sizes
        .iter()
        .enumerate()
        .flat_map(|(i, &n)| prefixed(3, &x509(n, 0x40 + i as u8)))
        .collect();
    handshake(CERTIFICATE, &prefixed(3, &list))
}

/// The certificate sizes of stream 0's Certificate.
pub const CERT_SIZES: [usize; 3] = [9000, 8000, 3000];

/// An encrypted TLS 1.2 AES-GCM record body of `len` bytes: an explicit nonce of zero
/// (the first record after ChangeCipherSpec), then bytes that read as nothing.
pub fn sealed(len: usize) -> Vec<u8> {
    let mut b = vec![0u8; 8];
    b.extend((0..len.saturating_sub(8)).map(|i| (i as u8).wrapping_mul(37) ^ 0xa7));
    b.truncate(len);
    b
}

/// Sends `bytes` from one side in segments of at most `mss` bytes.
fn send_segmented(c: &mut TcpConversation, from_client: bool, bytes: &[u8], mss: usize) {
    for chunk in bytes.chunks(mss) {
        c.send(from_client, chunk);
    }
}

/// The IP packets of the capture, in order (see the module's documentation).
pub fn packets() -> Vec<Vec<u8>> {
    let mut out = Vec::new();

    let mut c = TcpConversation::new("10.0.0.1:40000", "10.0.0.2:443");
    c.handshake();
    c.send(
        true,
        &record(HANDSHAKE, &client_hello("fragmented.example")),
    );
    let flight = [
        server_hello(),
        certificate(&CERT_SIZES),
        handshake(SERVER_HELLO_DONE, &[]),
    ]
    .concat();
    let records: Vec<u8> = flight
        .chunks(MAX_FRAGMENT)
        .flat_map(|f| record(HANDSHAKE, f))
        .collect();
    send_segmented(&mut c, false, &records, MSS);
    let cke = handshake(
        CLIENT_KEY_EXCHANGE,
        &prefixed(2, &(0..=255).collect::<Vec<u8>>()),
    );
    c.send(
        true,
        &[
            record(HANDSHAKE, &cke[..2]),
            record(HANDSHAKE, &cke[2..102]),
        ]
        .concat(),
    );
    c.send(
        true,
        &[
            record(HANDSHAKE, &cke[102..]),
            record(CHANGE_CIPHER_SPEC, &[1]),
            record(HANDSHAKE, &sealed(40)),
        ]
        .concat(),
    );
    c.send(
        false,
        &[
            record(CHANGE_CIPHER_SPEC, &[1]),
            record(HANDSHAKE, &sealed(40)),
        ]
        .concat(),
    );
    c.send(true, &record(APPLICATION_DATA, &sealed(100)));
    c.send(false, &record(APPLICATION_DATA, &sealed(300)));
    c.close();
    out.append(&mut c.packets);

    let mut c = TcpConversation::new("10.0.0.1:40001", "10.0.0.3:443");
    c.handshake();
    let hello = client_hello("split.example");
    c.send(true, &record(HANDSHAKE, &hello[..50]));
    c.send(true, &record(HANDSHAKE, &hello[50..]));
    c.close();
    out.append(&mut c.packets);

    let mut c = TcpConversation::new("10.0.0.1:40002", "10.0.0.4:443");
    c.handshake();
    let mut huge = vec![CERTIFICATE, 0xff, 0xff, 0xff];
    huge.extend(sealed(96));
    c.send(true, &record(HANDSHAKE, &huge));
    c.send(true, &record(HANDSHAKE, &sealed(100)));
    c.send(true, &record(HANDSHAKE, &sealed(100)));
    c.close();
    out.append(&mut c.packets);
    out
}

/// The capture as a pcap file: Ethernet, one frame a millisecond from
/// 2023-11-14T22:13:20Z.
pub fn pcap() -> Vec<u8> {
    pcap_file(LINKTYPE_ETHERNET, &ethernet_frames(&packets()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_flight_spans_two_records() {
        let flight = server_hello().len() + certificate(&CERT_SIZES).len() + 4;
        assert!(flight > MAX_FRAGMENT && flight < 2 * MAX_FRAGMENT);
        // 4 + 3 + (3 + 9000) + (3 + 8000) + (3 + 3000).
        assert_eq!(certificate(&CERT_SIZES).len(), 20_016);
    }
}
