//! Link layers with records of their own before the IP packet: Linux netfilter NFLOG
//! (LINKTYPE_NFLOG, 239), a header and TLVs up to the logged packet, dissected as its
//! family says; IP over InfiniBand (LINKTYPE_IPOIB, 242), an address block and RFC 4391's
//! header; Solaris ipnet (LINKTYPE_IPNET, 226), a fixed header naming the family; Arista's
//! timestamp (EtherType 0xd28b) and Cisco's VN-Tag (0x8926) between Ethernet's addresses
//! and the frame's type.
//! Expected values are tshark 4.0.17's on the same bytes.

use crate::common::{frame_fields, hex};

/// Frame 1 of tcpdump's `nflog.pcap`: a DNS answer logged at the local-in hook, group 20.
const DNS_ANSWER: &str = "02000014 08000100 08000127 05000a00 00000000 08000400 00000002
    10000800 0006ffffb8a386b9c3d60000 06000f00 00010000 06001100 000e0000
    12001000 0811961c10c8b8a386b9c3d6 08000000 14000300 00000000522a1f9e 00000000000960fc
    4d000900 45000049000040003711c5144a522a2a0a000014 0035a65900356ddf
    437181800001000100000000076578616d706c6503636f6d0000010001c00c0001000100002f9600045db8d877
    000000";

#[test]
fn the_logged_packet_is_dissected_after_the_tlvs() {
    let v = frame_fields(
        239,
        &hex(DNS_ANSWER),
        &[
            "frame.protocols",
            "nflog.family",
            "nflog.res_id",
            "nflog.protocol",
            "nflog.hook",
            "nflog.prefix",
            "nflog.ifindex_indev",
            "nflog.uid",
            "ipv4.src",
            "ipv4.dst",
            "udp.srcport",
            "dns.qry.name",
        ],
    );
    // tshark: nflog:ip:udp:dns, protocol 0x0800 (integers print in decimal here); no
    // NFULA_UID, so no uid; the prefix is there, empty.
    assert_eq!(
        v,
        [
            "NFLOG:IPv4:UDP:DNS",
            "2",
            "20",
            "2048",
            "1",
            "",
            "2",
            "",
            "74.82.42.42",
            "10.0.0.20",
            "53",
            "example.com",
        ]
    );
}

#[test]
fn the_packet_ends_where_its_tlv_does() {
    // The same frame with a NFULA_UID TLV after the packet's: its bytes are no packet's.
    let mut frame = hex(DNS_ANSWER);
    frame.truncate(frame.len() - 3); // the payload TLV's padding
    frame.extend(hex("000000 08000b00 000003e8"));
    let v = frame_fields(239, &frame, &["frame.protocols", "ipv4.len", "udp.length"]);
    assert_eq!(v, ["NFLOG:IPv4:UDP:DNS", "73", "53"]);
}

/// Frame 1 of tcpdump's `ipoib.pcap` (LINKTYPE_IPOIB, 242): an ICMP echo request to
/// queue pair 0x000550.
const IPOIB_ECHO: &str = "00000000000000000000000000000000 2fa3000a 80000550
    fe800000000000000010e000664ab451 0800 0000
    45000054aefe0000ff011b37c0a8380ac0a83818
    08002bfb195f000039a3b85c000000007c74080000000000c6f982be307e2db9f00326abfd43bd55
    3bef6a1810b683223f8171e9b2bb671a0c16cbefdebe0713";

#[test]
fn ip_over_infiniband_reads_the_destination_address_then_the_packet() {
    let v = frame_fields(
        242,
        &hex(IPOIB_ECHO),
        &[
            "frame.protocols",
            "ipoib.daddr.qpn",
            "ipoib.dgid",
            "ipoib.type",
            "ipoib.grh.ipver",
            "ipoib.grh.sgid",
            "ip.src",
            "ip.dst",
            "icmp.type",
        ],
    );
    // tshark: ipoib:ip:icmp:data, QPN 0x000550, type 0x0800 (integers in decimal here);
    // no GRH, so neither its version nor a source GID.
    assert_eq!(
        v,
        [
            "IPoIB:IPv4:ICMP:Raw",
            "1360",
            "fe80::10:e000:664a:b451",
            "2048",
            "",
            "",
            "192.168.56.10",
            "192.168.56.24",
            "8",
        ]
    );
}

/// Frame 1 of tcpdump's `e1000g.pcap` (LINKTYPE_IPNET, 226): an ICMP echo reply seen
/// inbound on interface 2.
const IPNET_ECHO: &str = "01020000 00000054 00000002 00000000 ffffffff 00000000
    45000054e58e0000f901fcd581926a370a05e975
    080032e21af50000ed760d4bb9630b0008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
    202122232425262728292a2b2c2d2e2f3031323334353637";

#[test]
fn solaris_ipnet_reads_its_header_then_the_packet_of_its_family() {
    let v = frame_fields(
        226,
        &hex(IPNET_ECHO),
        &[
            "frame.protocols",
            "ipnet.family",
            "ipnet.pktlen",
            "ipnet.ifindex",
            "ipnet.zsrc",
            "ip.src",
            "ip.dst",
            "icmp.type",
        ],
    );
    // tshark: ipnet:ip:icmp:data.
    assert_eq!(
        v,
        [
            "IPNET:IPv4:ICMP:Raw",
            "2",
            "84",
            "2",
            "4294967295",
            "129.146.106.55",
            "10.5.233.117",
            "8",
        ]
    );
}

/// Frames 9 and 2 of tcpdump's `arista_ether.pcap` up to their IPv4 header: a 48-bit
/// timestamp, then one in a version Wireshark does not know (0x0011).
const ARISTA_48: &str = "000000000001 001122334455 d28b 0001 0020 ed95 18152474 0800
    4500005200000000403f4dac0a8801200a021718";
const ARISTA_UNKNOWN: &str = "000000000001 001122334455 d28b 0001 0011 5ceeed58 19c38c2c 8100
    00640800 4500004e00000000403f4db00a8801200a021718";

#[test]
fn arista_timestamps_come_before_the_frames_own_type() {
    let paths = [
        "frame.protocols",
        "avsp.ver",
        "avsp.48sec",
        "avsp.48ns",
        "avsp.etype",
        "ip.src",
    ];
    // tshark: eth:ethertype:avsp:ethertype:ip:data, 48sec 60821, 48ns 404038772, etype
    // 0x0800 (integers in decimal here).
    let v = frame_fields(1, &hex(ARISTA_48), &paths);
    assert_eq!(
        v,
        [
            "Ethernet:AVSP:IPv4",
            "32",
            "60821",
            "404038772",
            "2048",
            "10.136.1.32"
        ]
    );
    // tshark: eth:ethertype:avsp, sub type and version only.
    let v = frame_fields(1, &hex(ARISTA_UNKNOWN), &paths);
    assert_eq!(v, ["Ethernet:AVSP:Raw", "17", "", "", "", ""]);
}

#[test]
fn a_vn_tag_comes_before_the_frames_own_type() {
    // Suricata's decode-vntag-01, frame 1, up to the IPv4 addresses; tshark:
    // eth:ethertype:vntag:ethertype:vlan:ethertype:ip, every tag value 0, VLAN 11.
    let frame = hex("000001020001 000001010001 8926 00000000 8100 000b 0800
        45000064acb80000fffd08e101010101 01010201");
    let v = frame_fields(
        1,
        &frame,
        &[
            "frame.protocols",
            "vntag.dir",
            "vntag.dst",
            "vntag.src",
            "vntag.etype",
            "vlan.id",
            "ip.src",
        ],
    );
    assert_eq!(
        v,
        [
            "Ethernet:VN-Tag:VLAN:IPv4",
            "0",
            "0",
            "0",
            "33024",
            "11",
            "1.1.1.1"
        ]
    );
}
