//! PPP's optional fields (RFC 1661 §6.5, §6.6), which a frame's own first bytes announce:
//! address and control only when the first byte is 0xff, a one-byte protocol when its
//! byte is odd; and the link types that start with PPP or Cisco HDLC. Frames are built
//! here; the expected values are tshark 4.0.17's for the same layouts (PPPoE with a
//! compressed protocol, PPP over GRE without address and control, LINKTYPE_PPP with and
//! without them, Cisco HDLC with IPv4 and with SLARP, Frame Relay in each encapsulation).

use crate::common::*;
use pcapkit::chain::dissect;
use pcapkit::{Layer, Thresholds};

/// An IPv4/UDP packet, the PPP frames' information field.
fn ip() -> Vec<u8> {
    ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 5000, 5001, b"ppp")
}

/// `head` (PPP's or Cisco HDLC's header) before the IPv4 packet.
fn with_ip(head: &[u8]) -> Vec<u8> {
    let mut f = head.to_vec();
    f.extend(ip());
    f
}

fn names(linktype: u32, frame: &[u8]) -> Vec<&'static str> {
    let mut layers: Vec<Layer> = Vec::new();
    dissect(frame, linktype, &Thresholds::default(), &mut layers);
    layers.iter().map(|l| l.name).collect()
}

/// `-e` columns of `frames` written as a capture of `linktype`.
fn table(linktype: u32, frames: &[Vec<u8>], fields: &[&str]) -> Table {
    let dir = tempfile::tempdir().expect("temp dir");
    let records: Vec<PcapRecord> = (0u32..)
        .zip(frames)
        .map(|(i, f)| PcapRecord::new(1 + i, 0, f.clone()))
        .collect();
    let capture = write_file(dir.path(), "ppp.pcap", &pcap_file(linktype, &records));
    fields_of(&capture, fields)
}

const PPP: &[&str] = &["ppp.address", "ppp.control", "ppp.protocol", "ipv4.dst"];

#[test]
fn pppoe_with_a_compressed_protocol() {
    // PPPoE session 0x3d, then PPP protocol 0x21 in one byte (sv_bug-4810's layout).
    let ppp = with_ip(&[0x21]);
    let mut pppoe = vec![0x11, 0x00, 0x00, 0x3d];
    pppoe.extend(u16::try_from(ppp.len()).expect("small").to_be_bytes());
    pppoe.extend(ppp);
    let frame = ethernet(MAC_B, MAC_A, 0x8864, &pppoe);
    assert_eq!(
        names(1, &frame),
        ["Ethernet", "PPPoE", "PPP", "IPv4", "UDP", "Raw"]
    );
    let t = table(1, &[frame], PPP);
    // tshark: ppp.protocol 0x0021, no ppp.address or ppp.control.
    assert_eq!(t.rows[0], ["", "", "33", "10.0.0.2"]);
}

#[test]
fn l2tp_data_without_address_and_control() {
    // L2TPv2 data message (no length, tunnel 1, session 1), PPP `21` and IPv4: as GRE's
    // PPP in sv_bug-6942-6887 frame 1, which tshark reads with ip.version 4 inside.
    let mut l2tp = vec![0x00, 0x02, 0x00, 0x01, 0x00, 0x01];
    l2tp.extend(with_ip(&[0x21]));
    let frame = ethernet(
        MAC_B,
        MAC_A,
        0x0800,
        &ipv4_udp([10, 1, 0, 1], [10, 1, 0, 2], 1701, 1701, &l2tp),
    );
    assert_eq!(
        names(1, &frame),
        ["Ethernet", "IPv4", "UDP", "L2TP", "PPP", "IPv4", "UDP", "Raw"]
    );
}

#[test]
fn linktype_ppp_with_and_without_compression() {
    let frames = [
        with_ip(&[0xff, 0x03, 0x00, 0x21]),                   // all fields
        with_ip(&[0xff, 0x03, 0x21]),                         // protocol compressed
        with_ip(&[0x00, 0x21]),                               // address and control compressed
        with_ip(&[0x21]),                                     // both
        vec![0xff, 0x03, 0xc0, 0x21, 0x01, 0x01, 0x00, 0x04], // LCP: not dissected
    ];
    for f in &frames[..4] {
        assert_eq!(
            names(9, f),
            ["PPP", "IPv4", "UDP", "Raw"],
            "{:02x?}",
            &f[..4]
        );
    }
    assert_eq!(names(9, &frames[4]), ["PPP", "Raw"]);
    let t = table(9, &frames, PPP);
    assert_eq!(t.rows[0], ["255", "3", "33", "10.0.0.2"]);
    assert_eq!(t.rows[1], ["255", "3", "33", "10.0.0.2"]);
    assert_eq!(t.rows[2], ["", "", "33", "10.0.0.2"]);
    assert_eq!(t.rows[3], ["", "", "33", "10.0.0.2"]);
    assert_eq!(t.rows[4], ["255", "3", "49185", ""]);
    // LINKTYPE_PPP_HDLC is read the same way (tshark: ppp, address 0xff).
    assert_eq!(names(50, &frames[0]), ["PPP", "IPv4", "UDP", "Raw"]);
}

#[test]
fn ppp_cut_short_is_malformed_not_misread() {
    for frame in [&[0xff][..], &[0xff, 0x03], &[0xff, 0x03, 0x00], &[0x00]] {
        let mut layers: Vec<Layer> = Vec::new();
        dissect(frame, 9, &Thresholds::default(), &mut layers);
        assert_eq!(layers.len(), 1, "{frame:02x?}");
        assert!(layers[0].header().is_none(), "{frame:02x?}");
    }
}

#[test]
fn ppp_carries_mpls() {
    // Protocol 0x0281, MPLS unicast (tcpdump_mpls-traceroute frame 1): one label, bottom
    // of stack, then IPv4.
    let frame = with_ip(&[0xff, 0x03, 0x02, 0x81, 0x18, 0x96, 0x01, 0x01]);
    assert_eq!(names(9, &frame), ["PPP", "MPLS", "IPv4", "UDP", "Raw"]);
}

#[test]
fn cisco_hdlc() {
    let ip = with_ip(&[0x0f, 0x00, 0x08, 0x00]);
    // SLARP uses RARP's number on Cisco HDLC: kept raw, not read as RARP.
    let slarp = vec![
        0x8f, 0x00, 0x80, 0x35, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 2, 0xff, 0xff, 0, 0x78,
    ];
    assert_eq!(names(104, &ip), ["CHDLC", "IPv4", "UDP", "Raw"]);
    assert_eq!(names(104, &slarp), ["CHDLC", "Raw"]);
    let t = table(
        104,
        &[ip, slarp],
        &["chdlc.address", "chdlc.control", "chdlc.protocol"],
    );
    // tshark: 0x0f 0x00 0x0800, and 0x8f 0x00 0x8035.
    assert_eq!(t.rows[0], ["15", "0", "2048"]);
    assert_eq!(t.rows[1], ["143", "0", "32821"]);
}

#[test]
fn frame_relay_in_each_encapsulation() {
    // DLCI 302 with Cisco's EtherType; RFC 2427 with NLPID 0xcc, with a pad byte first,
    // and through SNAP; a three-byte address (as tcpdump_vrrp-vrrp_print-oobr.pcap) with
    // Cisco's EtherType. tshark 4.0.17 reads IPv4 and UDP in all five.
    let frames: Vec<Vec<u8>> = [
        "48e10800",
        "48e103cc",
        "48e10300cc",
        "48e1030080000000 0800",
        "80ea9d0800",
    ]
    .iter()
    .map(|h| with_ip(&hex(h)))
    .collect();
    for f in &frames {
        assert_eq!(names(107, f), ["FR", "IPv4", "UDP", "Raw"], "{}", f.len());
    }
    let t = table(107, &frames, &["frelay.nlpid", "ipv4.src", "udp.dstport"]);
    assert_eq!(t.column("frelay.nlpid"), ["", "204", "204", "128", ""]);
    assert_eq!(t.column("ipv4.src"), ["10.0.0.1"; 5]);
    assert_eq!(t.column("udp.dstport"), ["5001"; 5]);
}
