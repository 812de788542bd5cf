//! DNS over UDP through the whole chain: compression pointers followed across sections,
//! and hostile or cut-short messages giving a Malformed or truncated layer, never a panic.
//! Frames are Ethernet/IPv4/UDP built here around DNS messages.

use crate::common::{hex, layers_of};
use pcapkit::LayerKind;

/// Ethernet, IPv4 and UDP from port 53 to `dport` around `dns`.
fn frame(dns: &[u8], dport: u16) -> Vec<u8> {
    let mut f = hex("ffffffffffff 001122334455 0800");
    let udp_len = u16::try_from(8 + dns.len()).expect("small");
    let ip_len = 20 + udp_len;
    f.extend(hex("4500"));
    f.extend(ip_len.to_be_bytes());
    f.extend(hex("00000000 4011 0000 c0a80001 c0a80002"));
    f.extend(53u16.to_be_bytes());
    f.extend(dport.to_be_bytes());
    f.extend(udp_len.to_be_bytes());
    f.extend([0, 0]);
    f.extend(dns);
    f
}

/// The PTR response of `dpkt_dns_icmp.pcap`, frame 2 (its answer's owner is a pointer to
/// the question's name).
const PTR_RESPONSE: &str =
    "528e81800001000100000000013801380138013807696e2d61646472046172706100000c0001\
c00c000c00010000acb7002013676f6f676c652d7075626c69632d646e732d6106676f6f676c6503636f6d00";

#[test]
fn response_is_dissected_whole() {
    let dns = hex(PTR_RESPONSE);
    let layers = layers_of(&frame(&dns, 51677));
    let names: Vec<_> = layers.iter().map(|l| l.name).collect();
    assert_eq!(names, ["Ethernet", "IPv4", "UDP", "DNS"]);
    assert_eq!(layers[3].header_len, dns.len());
    assert!(layers[3].truncated.is_none());
}

#[test]
fn mdns_and_llmnr_ports_are_dns() {
    let dns = hex(PTR_RESPONSE);
    let mut f = frame(&dns, 5353);
    // Source port 5353 too, so that the lower port is the mDNS one.
    f[34..36].copy_from_slice(&5353u16.to_be_bytes());
    assert_eq!(layers_of(&f)[3].name, "MDNS");
    let mut f = frame(&dns, 5355);
    f[34..36].copy_from_slice(&5355u16.to_be_bytes());
    assert_eq!(layers_of(&f)[3].name, "LLMNR");
}

/// The reason of a Malformed DNS layer.
fn malformed_reason(dns: &[u8]) -> String {
    let layers = layers_of(&frame(dns, 40000));
    match &layers.last().expect("layers").kind {
        LayerKind::Malformed { reason, .. } => reason.clone(),
        other => panic!("expected a Malformed DNS layer, got {other:?}"),
    }
}

#[test]
fn pointer_loop_is_malformed_with_its_reason() {
    // One question whose name is a pointer to itself (offset 12).
    let dns = hex("0001 0100 0001 0000 0000 0000 c00c 0001 0001");
    let reason = malformed_reason(&dns);
    assert!(reason.contains("compression pointers loop"), "{reason}");
    // Two names pointing at each other: the question's at 12, the answer's at 18.
    let dns = hex("0001 8100 0001 0001 0000 0000 c012 0001 0001 c00c 0001 0001 00000000 0000");
    let reason = malformed_reason(&dns);
    assert!(reason.contains("compression pointers loop"), "{reason}");
}

#[test]
fn pointer_past_the_message_is_malformed_with_its_reason() {
    let dns = hex("0001 0100 0001 0000 0000 0000 c0ff 0001 0001");
    let reason = malformed_reason(&dns);
    assert!(reason.contains("past the end of the message"), "{reason}");
}

#[test]
fn counts_larger_than_the_message_cost_nothing() {
    // 65535 questions announced, one present.
    let dns = hex("0001 0100 ffff 0000 0000 0000 00 0001 0001");
    let layers = layers_of(&frame(&dns, 40000));
    let last = layers.last().expect("layers");
    assert!(
        matches!(last.kind, LayerKind::Malformed { .. }) || last.truncated.is_some(),
        "{last:?}"
    );
}

#[test]
fn every_cut_of_a_response_is_handled() {
    let dns = hex(PTR_RESPONSE);
    for cut in 0..dns.len() {
        let layers = layers_of(&frame(&dns[..cut], 51677));
        let last = layers.last().expect("layers");
        assert!(
            last.offset + last.header_len <= 42 + cut,
            "cut at {cut}: {last:?}"
        );
    }
}
