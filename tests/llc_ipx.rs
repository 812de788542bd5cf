//! Ethernet's payload rules: 802.3 length-typed frames go to LLC (and SNAP onward) or to
//! Novell's raw 802.3 IPX, bounded by the length; Ethernet II 0x8137 goes to IPX.
//! Frames are built here from the bytes of `tcpdump_ipx.pcap`, frame 1. FDDI's LLC frames
//! go to LLC too.

use crate::common::{frame_fields, hex, layers_of, names};

/// Ethernet addresses of the frame.
const MACS: &str = "ffffffffffff 00 03 47 1b c1 a8";
/// The IPX header of the frame (30 bytes; length 80 with its 50 bytes of data).
const IPX: &str = "ffff0050 0014 00000000 ffffffffffff 0455 a8f87967 000000000001 0455";

/// Ethernet frame: addresses, the type or length, `body`.
fn frame(type_or_len: u16, body: &[u8]) -> Vec<u8> {
    let mut f = hex(MACS);
    f.extend(type_or_len.to_be_bytes());
    f.extend(body);
    f
}

/// IPX header and 50 bytes of data.
fn ipx_packet() -> Vec<u8> {
    let mut p = hex(IPX);
    p.extend([0u8; 50]);
    p
}

#[test]
fn llc_then_ipx_bounded_by_the_8023_length() {
    let mut body = hex("e0e003");
    body.extend(ipx_packet());
    body.push(0); // the odd byte the 802.3 length (84) still covers
    let len = u16::try_from(body.len()).expect("small");
    body.extend([0xAA; 10]); // padding after the length: not dissected
    let layers = layers_of(&frame(len, &body));
    assert_eq!(names(&layers), ["Ethernet", "LLC", "IPX", "Raw"]);
    assert_eq!(layers[0].payload_len, 84);
    assert_eq!(layers[1].header_len, 3);
    assert_eq!(layers[2].header_len, 30);
    // IPX's own length (80) bounds its data: 50 bytes, not the odd byte after it.
    assert_eq!(layers[2].payload_len, 50);
    assert_eq!(layers[3].header_len, 50);
}

#[test]
fn raw_8023_ipx_starts_with_ffff() {
    let body = ipx_packet();
    let len = u16::try_from(body.len()).expect("small");
    let layers = layers_of(&frame(len, &body));
    assert_eq!(names(&layers), ["Ethernet", "IPX", "Raw"]);
}

#[test]
fn ethernet_ii_ipx() {
    let layers = layers_of(&frame(0x8137, &ipx_packet()));
    assert_eq!(names(&layers), ["Ethernet", "IPX", "Raw"]);
}

#[test]
fn llc_snap_to_an_ethertype() {
    // LLC UI to SNAP, OUI 0, protocol id 0x8137 (IPX).
    let mut body = hex("aaaa03 000000 8137");
    body.extend(ipx_packet());
    let len = u16::try_from(body.len()).expect("small");
    let layers = layers_of(&frame(len, &body));
    assert_eq!(names(&layers), ["Ethernet", "LLC", "SNAP", "IPX", "Raw"]);
    // A SNAP OUI other than 0 is not an EtherType: the payload stays Raw.
    let mut body = hex("aaaa03 00000c 2000");
    body.extend([1, 2, 3, 4]);
    let len = u16::try_from(body.len()).expect("small");
    assert_eq!(
        names(&layers_of(&frame(len, &body))),
        ["Ethernet", "LLC", "SNAP", "Raw"]
    );
}

#[test]
fn llc_with_two_control_bytes_and_an_unknown_sap() {
    let body = hex("f0f0 0204 01020304");
    let layers = layers_of(&frame(8, &body));
    assert_eq!(names(&layers), ["Ethernet", "LLC", "Raw"]);
    assert_eq!(layers[1].header_len, 4);
}

#[test]
fn cut_and_hostile_8023_frames_do_not_panic() {
    let mut body = hex("e0e003");
    body.extend(ipx_packet());
    let whole = frame(u16::try_from(body.len()).expect("small"), &body);
    for cut in 0..whole.len() {
        let layers = layers_of(&whole[..cut]);
        assert!(!layers.is_empty() || cut == 0, "cut {cut}");
    }
    // A length larger than the frame: the payload is clipped and the shortfall reported.
    let layers = layers_of(&frame(1500, &body));
    assert_eq!(layers[0].payload_len, body.len());
    assert_eq!(layers[0].missing, 1500 - body.len() as u64);
    // Lengths and types in every range, with payloads of every small size.
    for t in [0u16, 1, 2, 3, 1500, 1501, 1535, 1536, 0x8137, 0xffff] {
        for n in 0..6 {
            let _ = layers_of(&frame(t, &[0xff; 6][..n]));
        }
    }
}

// ---- FDDI ----------------------------------------------------------------------------------

/// `pcapkit -e` values of one FDDI frame (LINKTYPE_FDDI).
fn fddi_fields(frame: &[u8], paths: &[&str]) -> Vec<String> {
    frame_fields(10, frame, paths)
}

#[test]
fn fddi_llc_frame_carries_snap_and_ipv4() {
    // zeek_dns-inverse-query.pcap, frame 1: tshark 4.0.17 gives fddi:llc:ip:tcp, DSAP
    // 0xaa, 212.180.42.100:25000 → 131.243.64.3:53.
    let frame = hex("50 aa00040083a7 aa00040082a7 aaaa03 000000 0800
         4500002ce37600003306e146d4b42a6483f34003
         61a80035b909d83d0000000060020200dff20000020405b4");
    let v = fddi_fields(
        &frame,
        &[
            "frame.protocols",
            "fddi.fc_clf",
            "llc.dsap",
            "ipv4.src",
            "tcp.srcport",
            "tcp.dstport",
        ],
    );
    assert_eq!(
        v,
        [
            "FDDI:LLC:SNAP:IPv4:TCP",
            "5",
            "170",
            "212.180.42.100",
            "25000",
            "53"
        ]
    );
}

#[test]
fn fddi_frames_other_than_llc_end_at_fddi() {
    // Frame control 0x41: an SMT frame, which tshark leaves after the FDDI header.
    let layers = {
        let mut l = Vec::new();
        let frame = hex("41 aa00040083a7 aa00040082a7 0102030405060708");
        pcapkit::chain::dissect(&frame, 10, &pcapkit::Thresholds::default(), &mut l);
        l
    };
    assert_eq!(names(&layers), ["FDDI", "Raw"]);
}
