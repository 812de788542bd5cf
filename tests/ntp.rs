//! NTP (UDP port 123): which values each mode shows, as tshark 4.0.17 shows them. The
//! messages are those of tcpdump's NTP captures (named at each test).

use crate::common::{ethernet, frame_fields, hex, ipv4_udp, MAC_A, MAC_B};

fn values(ntp: &str, paths: &[&str]) -> Vec<String> {
    let frame = ethernet(
        MAC_A,
        MAC_B,
        0x0800,
        &ipv4_udp([10, 0, 0, 1], [10, 0, 0, 2], 123, 123, &hex(ntp)),
    );
    frame_fields(1, &frame, paths)
}

#[test]
fn a_private_mode_7_message_has_no_leap_indicator() {
    // tcpdump ntp-mode7.pcap, frame 1 (its first 8 bytes): a private request; tshark
    // reads the first byte's top bits as response and more bits, not as ntp.flags.li.
    let v = values(
        "1700031c 00000000",
        &[
            "frame.protocols",
            "ntp.flags.li",
            "ntp.flags.vn",
            "ntp.flags.mode",
            "ntp.stratum",
        ],
    );
    assert_eq!(v, ["Ethernet:IPv4:UDP:NTP", "", "2", "7", ""]);
}

#[test]
fn the_reserved_mode_0_is_read_as_a_time_packet() {
    // A mode 0 packet of 48 bytes (made here; Zeek's ipv4_fragmented-1.pcap holds a
    // short one): tshark reads it as modes 1 to 5 are read.
    let mut packet = String::from("00030aec");
    packet.push_str(&"0".repeat(88));
    let v = values(
        &packet,
        &[
            "ntp.flags.mode",
            "ntp.stratum",
            "ntp.ppoll",
            "ntp.precision",
        ],
    );
    assert_eq!(v, ["0", "3", "10", "236"]);
}
