//! Tunnels that carry a whole frame or packet: GRE's Transparent Ethernet Bridging
//! (EtherType 0x6558 → Ethernet), Geneve (UDP 6081), the Teredo authentication
//! indicator, ERSPAN, GTP-U's extension headers, GRE and MPLS over UDP, and 802.1ah
//! Provider Backbone Bridging. Frames are built here; the tunnel headers are those of public captures
//! (named at each test), with the values tshark 4.0.17 gives for them.

use crate::common;
use common::{
    ethernet, frame_fields, hex, ipv4, ipv4_udp, layers_of, names, pcap_file, write_file,
    PcapRecord, MAC_A, MAC_B,
};

/// The inner frame: Ethernet, IPv4, UDP 1234 → 9 with `data`.
fn inner_frame(data: &[u8]) -> Vec<u8> {
    ethernet(
        MAC_A,
        MAC_B,
        0x0800,
        &ipv4_udp([192, 0, 2, 1], [192, 0, 2, 2], 1234, 9, data),
    )
}

/// `pcapkit -e` values of one Ethernet frame.
fn fields(frame: &[u8], paths: &[&str]) -> Vec<String> {
    frame_fields(1, frame, paths)
}

// ---- GRE, Transparent Ethernet Bridging -----------------------------------------------

#[test]
fn gre_6558_carries_an_ethernet_frame() {
    // The GRE header of sv_bug-2576-01_temp6.pcap, frame 1: no options, 0x6558.
    let mut gre = hex("00006558");
    gre.extend(inner_frame(b"bridged"));
    let frame = ethernet(MAC_B, MAC_A, 0x0800, &ipv4(47, &gre));
    let layers = layers_of(&frame);
    assert_eq!(
        names(&layers),
        ["Ethernet", "IPv4", "GRE", "Ethernet", "IPv4", "UDP", "Raw"]
    );
    assert_eq!(layers[3].header_len, 14);
    let v = fields(
        &frame,
        &["frame.protocols", "gre.proto", "eth.src", "ip.src"],
    );
    assert_eq!(v[0], "Ethernet:IPv4:GRE:Ethernet:IPv4:UDP:Raw");
    assert_eq!(v[1], "25944");
    // Every occurrence, outer first.
    assert_eq!(v[2], format!("{},{}", mac(MAC_A), mac(MAC_B)));
    assert_eq!(v[3], "10.0.0.1,192.0.2.1");
}

fn mac(m: [u8; 6]) -> String {
    m.map(|b| format!("{b:02x}")).join(":")
}

#[test]
fn ethernet_nested_in_ethernet_ends_with_the_bytes() {
    // EtherType 0x6558 straight in Ethernet, 2 000 times: each frame takes 14 bytes, so
    // the chain ends where the bytes do, and every dumper copes with the depth.
    let mut frame = inner_frame(b"deep");
    for _ in 0..2_000 {
        frame = ethernet(MAC_B, MAC_A, 0x6558, &frame);
    }
    let layers = layers_of(&frame);
    assert_eq!(layers.len(), 2_001 + 3);
    assert!(layers[..2_001].iter().all(|l| l.name == "Ethernet"));
    assert_eq!(names(&layers[2_001..]), ["IPv4", "UDP", "Raw"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = pcap_file(1, &[PcapRecord::new(1, 0, frame)]);
    let path = write_file(dir.path(), "nested.pcap", &file);
    for format in ["json", "ndjson", "fields", "plist", "tree"] {
        let out = common::run([path.as_os_str(), "-f".as_ref(), format.as_ref()]);
        common::assert_no_crash(&out, format);
        assert!(out.status.success(), "{format}: {}", common::stderr(&out));
    }
}

// ---- Geneve ------------------------------------------------------------------------------

/// Ethernet, IPv4, UDP to port 6081, then `geneve`.
fn over_geneve(geneve: &[u8]) -> Vec<u8> {
    ethernet(
        MAC_B,
        MAC_A,
        0x0800,
        &ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 12618, 6081, geneve),
    )
}

#[test]
fn geneve_with_a_critical_option_carries_ethernet() {
    // The Geneve header of tcpdump_geneve.pcap, frame 1: one critical option (class 0,
    // type 0x80, 4 bytes of data), VNI 10, then an Ethernet frame.
    let mut geneve = hex("02406558 00000a00 00008001 0000000c");
    geneve.extend(inner_frame(b"geneve"));
    let frame = over_geneve(&geneve);
    let layers = layers_of(&frame);
    assert_eq!(
        names(&layers),
        ["Ethernet", "IPv4", "UDP", "Geneve", "Ethernet", "IPv4", "UDP", "Raw"]
    );
    assert_eq!(layers[3].header_len, 16);
    let v = fields(
        &frame,
        &[
            "geneve.version",
            "geneve.opt_len",
            "geneve.flags",
            "geneve.flags.critical",
            "geneve.proto_type",
            "geneve.vni",
            "geneve.option.class",
            "geneve.option.type",
            "geneve.option.type.critical",
            "geneve.option.length",
            "geneve.option.data",
            "udp.dstport",
        ],
    );
    assert_eq!(
        v,
        ["0", "8", "64", "1", "25944", "10", "0", "128", "1", "4", "0000000c", "6081,9"]
    );
}

#[test]
fn geneve_options_fill_opt_len_words() {
    // zeek_geneve-many-options.pcap, frame 1: three Linux options of 16, 36 and 12 bytes
    // of data (76 bytes in all, Opt Len 19), VNI 0x0c012e.
    let mut geneve = hex("13006558 0c012e00
         01000104 31323334 35363738 39306162 63646500
         01000209 30313233 34353637 38396162 63646566 30313233 34353637 38396162 63646566 30000000
         01000303 30313233 34353637 38390000");
    geneve.extend(inner_frame(b"options"));
    let frame = over_geneve(&geneve);
    let layers = layers_of(&frame);
    assert_eq!(layers[3].name, "Geneve");
    assert_eq!(layers[3].header_len, 8 + 76);
    assert_eq!(layers[4].name, "Ethernet");
    let v = fields(
        &frame,
        &[
            "geneve.opt_len",
            "geneve.vni",
            "geneve.option.type",
            "geneve.option.length",
        ],
    );
    assert_eq!(v, ["76", "786734", "1,2,3", "16,36,12"]);
}

#[test]
fn geneve_protocol_type_is_an_ethertype() {
    // As tcpdump_geneve-gcp.pcap: IPv4 straight after the header (0x0800), no options.
    let mut geneve = hex("00000800 00000000");
    geneve.extend(ipv4_udp(
        [192, 0, 2, 1],
        [192, 0, 2, 2],
        1234,
        9,
        b"no ethernet",
    ));
    let layers = layers_of(&over_geneve(&geneve));
    assert_eq!(
        names(&layers),
        ["Ethernet", "IPv4", "UDP", "Geneve", "IPv4", "UDP", "Raw"]
    );
}

#[test]
fn geneve_option_running_past_opt_len_stops_the_chain() {
    // Opt Len says 8 bytes, the option's Length 5 words: the options do not fit, the
    // header is not read and nothing after it is dissected.
    let mut geneve = hex("02006558 00000a00 01000105 00000000");
    geneve.extend(inner_frame(b"x"));
    let layers = layers_of(&over_geneve(&geneve));
    assert_eq!(layers.len(), 4, "{:?}", names(&layers));
    assert_eq!(names(&layers[..3]), ["Ethernet", "IPv4", "UDP"]);
}

// ---- Teredo authentication indicator -------------------------------------------------------

/// An IPv6 router solicitation, fe80::1 → ff02::2 (ICMPv6 type 133).
fn router_solicitation() -> Vec<u8> {
    let mut p = hex(
        "60000000 0008 3a ff fe800000000000000000000000000001 ff020000000000000000000000000002",
    );
    p.extend(hex("85000000 00000000"));
    p
}

/// Ethernet, IPv4, UDP from port 3544, then `teredo`.
fn over_teredo(teredo: &[u8]) -> Vec<u8> {
    ethernet(
        MAC_B,
        MAC_A,
        0x0800,
        &ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 3544, 3797, teredo),
    )
}

#[test]
fn teredo_authentication_then_ipv6() {
    // sv_decode-teredo-01_input.pcap, frame 6: empty identifier and value, nonce
    // cd5669400b22df88, confirmation 0, then a router solicitation.
    let mut teredo = hex("0001 00 00 cd5669400b22df88 00");
    teredo.extend(router_solicitation());
    let frame = over_teredo(&teredo);
    let layers = layers_of(&frame);
    assert_eq!(
        names(&layers),
        [
            "Ethernet",
            "IPv4",
            "UDP",
            "Teredo",
            "Teredo-Auth",
            "IPv6",
            "ICMPv6"
        ]
    );
    assert_eq!(layers[4].header_len, 13);
    let v = fields(
        &frame,
        &[
            "teredo.auth.idlen",
            "teredo.auth.aulen",
            "teredo.auth.id",
            "teredo.auth.value",
            "teredo.auth.nonce",
            "teredo.auth.conf",
            "icmpv6.type",
        ],
    );
    assert_eq!(v, ["0", "0", "", "", "cd5669400b22df88", "00", "133"]);
}

#[test]
fn teredo_authentication_then_origin_indication() {
    // Frame 7 of the same capture: the server's answer, authentication, origin
    // indication, then IPv6. Here with a client identifier and an authentication value.
    let mut teredo = hex("0001 02 03 abcd 010203 cd5669400b22df88 00");
    teredo.extend(hex("0000 f12a b9c82815"));
    teredo.extend(router_solicitation());
    let frame = over_teredo(&teredo);
    let layers = layers_of(&frame);
    assert_eq!(
        names(&layers),
        [
            "Ethernet",
            "IPv4",
            "UDP",
            "Teredo",
            "Teredo-Auth",
            "Teredo-Origin",
            "IPv6",
            "ICMPv6"
        ]
    );
    assert_eq!(layers[4].header_len, 13 + 2 + 3);
    let v = fields(&frame, &["teredo.auth.id", "teredo.auth.value", "ipv6.dst"]);
    assert_eq!(v, ["abcd", "010203", "ff02::2"]);
}

#[test]
fn teredo_authentication_is_not_repeated() {
    // A second authentication indicator after the first is not looked for.
    let mut teredo = hex("0001 00 00 cd5669400b22df88 00");
    teredo.extend(hex("0001 00 00 cd5669400b22df88 00"));
    teredo.extend(router_solicitation());
    let layers = layers_of(&over_teredo(&teredo));
    assert_eq!(
        names(&layers),
        ["Ethernet", "IPv4", "UDP", "Teredo", "Teredo-Auth", "Raw"]
    );
}

// ---- ERSPAN --------------------------------------------------------------------------------

/// Ethernet, IPv4, then GRE (`gre`, its header, and what follows it).
fn over_gre(gre: &[u8]) -> Vec<u8> {
    ethernet(MAC_B, MAC_A, 0x0800, &ipv4(47, gre))
}

#[test]
fn erspan_type_i_is_gre_0x88be_without_a_sequence_number() {
    // zeek_erspanI.pcap: GRE flags 0, protocol 0x88BE, then the mirrored frame at once.
    let mut gre = hex("000088be");
    gre.extend(inner_frame(b"type I"));
    let layers = layers_of(&over_gre(&gre));
    assert_eq!(
        names(&layers),
        ["Ethernet", "IPv4", "GRE", "Ethernet", "IPv4", "UDP", "Raw"]
    );
}

#[test]
fn erspan_type_ii() {
    // zeek_erspanII.pcap, frame 1: GRE with sequence 1796, then ERSPAN version 1, VLAN
    // 23, encapsulation 1 (ISL), span 100, index 0.
    let mut gre = hex("100088be 00000704 10170864 00000000");
    gre.extend(inner_frame(b"type II"));
    let frame = over_gre(&gre);
    let layers = layers_of(&frame);
    assert_eq!(
        names(&layers),
        ["Ethernet", "IPv4", "GRE", "ERSPAN", "Ethernet", "IPv4", "UDP", "Raw"]
    );
    assert_eq!(layers[3].header_len, 8);
    let v = fields(
        &frame,
        &[
            "erspan.version",
            "erspan.vlan",
            "erspan.encap",
            "erspan.bso",
            "erspan.spanid",
            "erspan.index",
            "erspan.timestamp",
        ],
    );
    assert_eq!(v, ["1", "23", "1", "", "100", "0", ""]);
}

#[test]
fn erspan_type_iii_with_and_without_its_platform_sub_header() {
    // zeek_erspanIII.pcap, frame 1: version 2, VLAN 20, timestamp 5208, P 1, FT 0
    // (Ethernet), hardware 3, no sub-header.
    let mut gre = hex("000022eb 20140000 00001458 00008030");
    gre.extend(inner_frame(b"type III"));
    let frame = over_gre(&gre);
    let layers = layers_of(&frame);
    assert_eq!(
        names(&layers),
        ["Ethernet", "IPv4", "GRE", "ERSPAN", "Ethernet", "IPv4", "UDP", "Raw"]
    );
    assert_eq!(layers[3].header_len, 12);
    let v = fields(
        &frame,
        &[
            "erspan.version",
            "erspan.vlan",
            "erspan.timestamp",
            "erspan.hw",
            "erspan.o",
            "erspan.encap",
        ],
    );
    assert_eq!(v, ["2", "20", "5208", "3", "0", ""]);

    // O set: the 8-byte platform sub-header (platform 3) comes before the frame.
    let mut gre = hex("000022eb 20140000 00001458 00008031 0c000000 00000000");
    gre.extend(inner_frame(b"type III"));
    let frame = over_gre(&gre);
    let layers = layers_of(&frame);
    assert_eq!(layers[3].header_len, 20);
    assert_eq!(layers[4].name, "Ethernet");
    assert_eq!(fields(&frame, &["erspan.platid"]), ["3"]);
}

#[test]
fn erspan_type_iii_other_frame_types_are_not_ethernet() {
    // As tcpdump_erspan-type-iii-ft-7.pcap: frame type 7, which tshark leaves as data.
    let mut gre = hex("000022eb 20140000 00001458 00001c00");
    gre.extend(inner_frame(b"type III"));
    let layers = layers_of(&over_gre(&gre));
    assert_eq!(names(&layers), ["Ethernet", "IPv4", "GRE", "ERSPAN", "Raw"]);
}

// ---- GTP-U extension headers ---------------------------------------------------------------

/// Ethernet, IPv4, UDP 2152 → 2152, then a G-PDU whose header (after its TEID) is
/// `options` (sequence number 5, N-PDU 0, the first extension type) and `extensions`,
/// carrying IPv4/UDP 1234 → 9 from 192.0.2.1.
fn over_gtp(first: u8, extensions: &str) -> Vec<u8> {
    let inner = ipv4_udp([192, 0, 2, 1], [192, 0, 2, 2], 1234, 9, b"inner");
    let mut body = vec![0, 5, 0, first];
    body.extend(hex(extensions));
    body.extend(&inner);
    let mut gtp = vec![0x34, 0xff];
    gtp.extend(u16::try_from(body.len()).expect("small").to_be_bytes());
    gtp.extend([0x00, 0x10, 0x06, 0x57]);
    gtp.extend(body);
    ethernet(
        MAC_A,
        MAC_B,
        0x0800,
        &ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 2152, 2152, &gtp),
    )
}

const GTP_PATHS: [&str; 5] = [
    "frame.protocols",
    "gtp.ext_len",
    "gtp.ext_next",
    "ipv4.src",
    "udp.srcport",
];

#[test]
fn gtp_packet_after_one_extension_header() {
    // The PDCP PDU Number header of zeek_gtp_ext_header.pcap (0xc0, sequence 2308), and
    // 5G's PDU Session Container (0x85): tshark 4.0.17 gives gtp:ip:udp for both, with
    // gtp.ext_hdr.length 1 and the chain ending in 0x00.
    for (first, extension) in [(0xc0, "01090400"), (0x85, "01100100")] {
        assert_eq!(
            fields(&over_gtp(first, extension), &GTP_PATHS),
            [
                "Ethernet:IPv4:UDP:GTP:RawIP:IPv4:UDP:Raw",
                "1",
                "0",
                "10.0.0.1,192.0.2.1",
                "2152,1234"
            ],
            "first extension header {first:#x}"
        );
    }
}

#[test]
fn gtp_packet_after_two_extension_headers() {
    // 0x85 then 0xc0: tshark reads gtp.ext_hdr.next 0x85,0xc0,0x00 and the packet.
    let frame = over_gtp(0x85, "011001c0 01090400");
    let v = fields(
        &frame,
        &[
            "frame.protocols",
            "gtp.ext_next",
            "gtp.ext2_len",
            "gtp.ext2_next",
            "ipv4.src",
        ],
    );
    assert_eq!(
        v,
        [
            "Ethernet:IPv4:UDP:GTP:RawIP:IPv4:UDP:Raw",
            "192",
            "1",
            "0",
            "10.0.0.1,192.0.2.1"
        ]
    );
}

#[test]
fn gtp_longer_chains_leave_the_packet_undissected() {
    // A third extension header: tshark reads on (gtp:ip:udp); the spec reads two, and
    // leaves the rest as bytes rather than take an extension header for the packet.
    let layers = layers_of(&over_gtp(0x85, "011001c0 01090485 01100100"));
    assert_eq!(names(&layers), ["Ethernet", "IPv4", "UDP", "GTP", "Raw"]);
}

#[test]
fn gtp_extension_header_of_length_zero_is_malformed() {
    // tshark: "Extension header length is zero" (Error/Malformed), nothing after GTP.
    let layers = layers_of(&over_gtp(0xc0, "00090400"));
    assert_eq!(names(&layers), ["Ethernet", "IPv4", "UDP", "Malformed"]);
}

// ---- GRE and MPLS over UDP -------------------------------------------------------------------

/// Ethernet, IPv4, UDP 50000 → `port`, then `tunnel` and IPv4/UDP 1234 → 9 from 192.0.2.1.
fn over_udp_port(port: u16, tunnel: &str) -> Vec<u8> {
    let mut payload = hex(tunnel);
    payload.extend(ipv4_udp([192, 0, 2, 1], [192, 0, 2, 2], 1234, 9, b"inner"));
    ethernet(
        MAC_A,
        MAC_B,
        0x0800,
        &ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 50000, port, &payload),
    )
}

#[test]
fn gre_in_udp_on_port_4754() {
    // RFC 8086, as zeek_gre-over-udp-4754.pcap: tshark 4.0.17 gives udp:gre:ip:udp.
    let v = fields(
        &over_udp_port(4754, "00000800"),
        &["frame.protocols", "gre.proto", "ipv4.src", "udp.srcport"],
    );
    assert_eq!(
        v,
        [
            "Ethernet:IPv4:UDP:GRE:IPv4:UDP:Raw",
            "2048",
            "10.0.0.1,192.0.2.1",
            "50000,1234"
        ]
    );
}

#[test]
fn mpls_in_udp_on_port_6635() {
    // RFC 7510, as tcpdump_mpls-over-udp.pcap: label 21, bottom of stack, then IPv4.
    let v = fields(
        &over_udp_port(6635, "00015140"),
        &["frame.protocols", "mpls.label", "ipv4.src", "udp.srcport"],
    );
    assert_eq!(
        v,
        [
            "Ethernet:IPv4:UDP:MPLS:IPv4:UDP:Raw",
            "21",
            "10.0.0.1,192.0.2.1",
            "50000,1234"
        ]
    );
}

// ---- IEEE 802.1ah Provider Backbone Bridging ---------------------------------------------

#[test]
fn pbb_itag_then_the_customer_frame() {
    // The I-TAG and customer addresses of zeek_pbb.pcap, frame 2 (I-SID 2014000), over
    // IPv4: tshark 4.0.17 gives eth:ethertype:ieee8021ah:ethertype:ip:udp, C-Src
    // 00:1c:eb:af:52:01.
    let mut body = hex("001ebb30 011cebaf5000 001cebaf5201 0800");
    body.extend(ipv4_udp([192, 0, 2, 1], [192, 0, 2, 2], 1234, 9, b"inner"));
    let frame = ethernet(MAC_A, MAC_B, 0x88e7, &body);
    let v = fields(
        &frame,
        &["frame.protocols", "pbb.isid", "pbb.c_src", "ipv4.src"],
    );
    assert_eq!(
        v,
        [
            "Ethernet:PBB:IPv4:UDP:Raw",
            "2014000",
            "00:1c:eb:af:52:01",
            "192.0.2.1"
        ]
    );
}

/// Zeek's `ayiya3.pcap`, frame 1: an ICMPv6 echo request forwarded through an AYIYA
/// tunnel (UDP 5072), with a 16-byte identity and a SHA-1 signature.
const AYIYA_ECHO: &str = "0017f24c7a3500062559a2200800450000b0000040003411480bd80e6216c0a8036513d0d224009c9404415211294af6
    4bfd20014978000f004c0000000000000001e1cbc30d88bd052ad921d321f0c397ee8492acf56000000000403a402001
    4978000f004c000000000000000120014978000f004c000000000000000280009e4dff4a4c0002000000fd4bf64ac1a9
    0b000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";

#[test]
fn ayiya_forwards_the_packet_its_next_header_names() {
    let v = frame_fields(
        1,
        &hex(AYIYA_ECHO),
        &[
            "frame.protocols",
            "ayiya.idlen",
            "ayiya.opcode",
            "ayiya.nextheader",
            "ayiya.identity",
            "ipv6.src",
            "icmpv6.type",
        ],
    );
    // tshark: eth:ethertype:ip:udp:ayiya:ipv6:icmpv6:data, idlen 4, opcode 1, next header
    // 0x29; identity 20014978000f004c0000000000000001; echo request (128).
    assert_eq!(
        v,
        [
            "Ethernet:IPv4:UDP:AYIYA:IPv6:ICMPv6:Raw",
            "4",
            "1",
            "41",
            "20014978000f004c0000000000000001",
            "2001:4978:f:4c::1",
            "128",
        ]
    );
}

/// tcpdump's `PIM_register_register-stop.pcap`, frame 1: a PIM Register from the
/// designated router 192.168.0.6 to the rendezvous point, carrying a multicast ICMP echo
/// request from 192.168.20.10 to 239.1.2.3.
const PIM_REGISTER: &str = "cc05061cf000cc06061cf001080045000080015e0000ff673664c0a80006c0a801fe2100deff0000000045000064000f0000
    fe01f6d2c0a8140aef010203080090e100030000000000000005ed60abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd
    abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd";

#[test]
fn a_pim_register_carries_the_multicast_packet() {
    let v = frame_fields(
        1,
        &hex(PIM_REGISTER),
        &[
            "frame.protocols",
            "pim.version",
            "pim.type",
            "pim.cksum",
            "pim.register_flag.border",
            "ip.src",
            "ip.dst",
            "icmp.type",
        ],
    );
    // tshark: eth:ethertype:ip:pim:ip:icmp:data, version 2, type 1 (Register), checksum
    // 0xdeff (integers in decimal here), not from a border router; both IP headers' addresses.
    assert_eq!(
        v,
        [
            "Ethernet:IPv4:PIM:IPv4:ICMP:Raw",
            "2",
            "1",
            "57087",
            "0",
            "192.168.0.6,192.168.20.10",
            "192.168.1.254,239.1.2.3",
            "8",
        ]
    );
}
