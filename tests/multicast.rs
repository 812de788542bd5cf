//! IGMP (IP protocol 2): which values a message shows depends on its type and, for a
//! query, on its length, as tshark 4.0.17 tells them; DVMRP and PIMv1, which travel in
//! IGMP, show none. Frames are built here around IGMP messages of public captures (named
//! at each test).

use crate::common;
use common::{ethernet, frame_fields, hex, ipv4, MAC_A, MAC_B};

/// Ethernet and IPv4 of protocol 2, then `igmp`.
fn igmp_frame(igmp: &[u8]) -> Vec<u8> {
    ethernet(MAC_A, MAC_B, 0x0800, &ipv4(2, igmp))
}

const PATHS: &[&str] = &[
    "frame.protocols",
    "igmp.type",
    "igmp.max_resp",
    "igmp.checksum",
    "igmp.maddr",
    "igmp.qrv",
    "igmp.num_src",
];

fn values(igmp: &str) -> Vec<String> {
    frame_fields(1, &igmp_frame(&hex(igmp)), PATHS)
}

#[test]
fn a_query_is_version_1_2_or_3_by_its_code_and_length() {
    // tcpdump IGMP_V1.pcap frame 1: 8 bytes, code 0: version 1, no max_resp (tshark
    // shows the byte as igmp.reserved).
    assert_eq!(
        values("1100eeff00000000"),
        ["Ethernet:IPv4:IGMP", "17", "", "61183", "0.0.0.0", "", ""]
    );
    // Suricata igmp-v1-v2-rgmp-01 (the Wireshark wiki's IGMP dataset): 8 bytes, code
    // 100: version 2.
    assert_eq!(
        values("1164ee9b00000000"),
        [
            "Ethernet:IPv4:IGMP",
            "17",
            "100",
            "61083",
            "0.0.0.0",
            "",
            ""
        ]
    );
    // Zeek home-multicast-short.pcap frame 1: 12 bytes and 10 of padding: version 3,
    // QRV 2, no source.
    assert_eq!(
        values("1164ec1e00000000027d0000 00000000000000000000"),
        [
            "Ethernet:IPv4:IGMP",
            "17",
            "100",
            "60446",
            "0.0.0.0",
            "2",
            "0"
        ]
    );
}

#[test]
fn reports_show_their_groups() {
    // Zeek igmp-many-groups.pcap frame 1: a version 2 report, max_resp 20.
    assert_eq!(
        values("1614fae9ef000001"),
        [
            "Ethernet:IPv4:IGMP",
            "22",
            "20",
            "64233",
            "239.0.0.1",
            "",
            ""
        ]
    );
    // Zeek igmp.pcap frame 1: a version 3 report of one record, no source: no max_resp.
    assert_eq!(
        values("2200ea0300000001 04000000effffffa"),
        [
            "Ethernet:IPv4:IGMP",
            "34",
            "",
            "59907",
            "239.255.255.250",
            "",
            "0"
        ]
    );
}

#[test]
fn dvmrp_and_pim_version_1_show_no_igmp_value() {
    // tcpdump mrinfo_query.pcap: a DVMRP Ask Neighbors 2 (type 0x13); and a PIMv1
    // Query (type 0x14, made here). tshark shows neither as IGMP.
    for message in ["1305e8e4000a040c", "1400000000000000"] {
        let v = values(message);
        assert_eq!(v[0], "Ethernet:IPv4:IGMP");
        assert!(v[1..].iter().all(String::is_empty), "{message}: {v:?}");
    }
}
