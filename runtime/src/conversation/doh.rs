//! DNS over HTTPS (RFC 8484): an HTTP message whose `Content-Type` is
//! `application/dns-message` carries one DNS message as its body. Its body is dissected
//! with the DNS spec, as a DNS layer above HTTP or HTTP/2 (tshark does the same through
//! its media type table).
//!
//! The body is whole when this runs (a complete HTTP/1 message, or an HTTP/2 DATA frame
//! that ends its stream), so a DNS message that reads past its end is not cut short by
//! the capture: it is a `Malformed` DNS layer, with the reason.

use std::ops::Range;

use crate::chain::{self, Layer, LayerKind, Thresholds};
use crate::hooks::http::NO_LENGTH;
use crate::protocols::{Header, Next, ProtocolId};

/// The media type of a DNS message (RFC 8484, section 6).
pub const MEDIA_TYPE: &str = "application/dns-message";

/// Whether a `Content-Type` value names a DNS message (parameters after `;` aside).
pub fn is_dns_message(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or("").trim();
    media.eq_ignore_ascii_case(MEDIA_TYPE)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Whether a header list says its message's body is a DNS message as sent: its type is
/// `application/dns-message` and no content coding (gzip) is applied to it.
pub fn carries_dns(headers: &[(String, String)]) -> bool {
    header(headers, "content-type").is_some_and(is_dns_message)
        && header(headers, "content-encoding")
            .is_none_or(|c| c.trim().eq_ignore_ascii_case("identity"))
}

/// When `layers[i]` is an HTTP/1 message whose body is a DNS message, wholly in `data`,
/// dissects the body as DNS in place of the layers after it. A chunked body is left as
/// it is (its chunk sizes are not the message), and so is one the bytes do not hold
/// whole (a segment without `--tcp` holding part of the body). Says whether it did.
pub fn http1(layers: &mut Vec<Layer>, i: usize, data: &[u8], thresholds: &Thresholds) -> bool {
    let Some(layer) = layers.get(i) else {
        return false;
    };
    let decoded;
    let h = match &layer.kind {
        LayerKind::Header(Header::Http(h)) => h,
        // Walked through its view: read only a message whose head names the type.
        LayerKind::View(ProtocolId::Http) => {
            let head = &data[layer.header_range()];
            if layer.payload_len == 0 || !names_dns_message(head) {
                return false;
            }
            let Ok((http, _)) = crate::hooks::http::parse(head) else {
                return false;
            };
            decoded = http;
            &decoded
        }
        _ => return false,
    };
    let body = layer.payload_range();
    if body.is_empty()
        || h.status != 0 && h.status < 200
        || !carries_dns(&h.headers)
        || header(&h.headers, "transfer-encoding").is_some()
        || h.content_length != NO_LENGTH && h.content_length != body.len() as u64
        || thresholds.protocol == Some(ProtocolId::Http)
    {
        return false;
    }
    layers.truncate(i + 1);
    dns_body(layers, data, body, thresholds);
    true
}

/// Whether `head` holds `dns-message` in any case (what every head whose content type is
/// `application/dns-message` holds), found by its one `-`.
fn names_dns_message(head: &[u8]) -> bool {
    const NAME: &[u8] = b"dns-message";
    memchr::memchr_iter(b'-', head).any(|at| {
        at >= 3
            && head
                .get(at - 3..at - 3 + NAME.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(NAME))
    })
}

/// Appends the layers of the DNS message that is all of `data[body]` (a whole HTTP
/// body): a DNS layer, or a `Malformed` one when the bytes are not a DNS message.
pub fn dns_body(layers: &mut Vec<Layer>, data: &[u8], body: Range<usize>, thresholds: &Thresholds) {
    let Some(bytes) = data.get(body.clone()) else {
        return;
    };
    let start = layers.len();
    let next = Next {
        protocol: ProtocolId::Dns,
        name: None,
    };
    chain::dissect_next(next, bytes, thresholds, layers);
    for l in &mut layers[start..] {
        l.offset += body.start;
        let whence = format!("DNS message in an HTTP body of {} bytes", bytes.len());
        // The body is whole: a message that reads past its end is malformed, not cut
        // short by the capture.
        if let Some(reason) = l.truncated.take() {
            l.kind = LayerKind::Malformed {
                protocol: l.protocol().unwrap_or(ProtocolId::Dns),
                reason: format!("{whence}: {reason}"),
            };
            l.name = "Malformed";
        } else if let LayerKind::Malformed { reason, .. } = &mut l.kind {
            *reason = format!("{whence}: {reason}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_media_type_is_matched_without_parameters_or_case() {
        assert!(is_dns_message("application/dns-message"));
        assert!(is_dns_message(" Application/DNS-Message ; charset=x"));
        assert!(!is_dns_message("application/dns-json"));
        assert!(!is_dns_message("application/dns-messages"));
    }

    #[test]
    fn a_body_cut_anywhere_is_malformed_dns_never_truncated() {
        // A query for `a.b`, type A, class IN (RFC 1035, section 4.1).
        let query: &[u8] = &[
            0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 1, b'a', 1, b'b', 0, 0, 1, 0, 1,
        ];
        let mut data = b"HEAD".to_vec();
        data.extend_from_slice(query);
        let mut layers = Vec::new();
        dns_body(&mut layers, &data, 4..data.len(), &Thresholds::default());
        assert_eq!(layers.len(), 1);
        assert!(matches!(layers[0].header(), Some(Header::Dns(_))));
        assert_eq!((layers[0].offset, layers[0].header_len), (4, query.len()));
        for cut in 1..query.len() {
            let mut layers = Vec::new();
            dns_body(&mut layers, &data, 4..4 + cut, &Thresholds::default());
            match &layers[0].kind {
                LayerKind::Malformed { protocol, reason } => {
                    assert_eq!(*protocol, ProtocolId::Dns);
                    assert!(
                        reason.starts_with("DNS message in an HTTP body"),
                        "{reason}"
                    );
                }
                other => panic!("cut at {cut}: {other:?}"),
            }
            assert!(layers.iter().all(|l| l.truncated.is_none()));
        }
        // A range beside the bytes is ignored, not a panic.
        let mut layers = Vec::new();
        dns_body(&mut layers, &data, 10..100, &Thresholds::default());
        assert!(layers.is_empty());
    }

    #[test]
    fn a_coded_body_is_not_read_as_dns() {
        let h = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        assert!(carries_dns(&h(&[("Content-Type", MEDIA_TYPE)])));
        assert!(!carries_dns(&h(&[
            ("content-type", MEDIA_TYPE),
            ("content-encoding", "gzip")
        ])));
        assert!(!carries_dns(&h(&[("content-length", "12")])));
    }
}
