//! A field split into bit ranges is also a value of its own, whole, for `-e` (by its path
//! and by its Wireshark name), while the dumps keep showing only its ranges. The expected
//! values are tshark 4.0.17's for the same bytes.

use crate::common::*;

/// Ethernet / IPv4 (DSCP EF: TOS 0xb8) / UDP 1701 / an L2TP ZLB acknowledgement, the
/// header of `specs/transport/l2tp.toml`'s third example.
fn l2tp_capture(dir: &std::path::Path) -> std::path::PathBuf {
    let l2tp = [
        0xc8, 0x02, 0x00, 0x0c, 0x4a, 0x32, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02,
    ];
    let mut frame = ethernet(
        MAC_B,
        MAC_A,
        0x0800,
        &ipv4_udp([10, 0, 0, 1], [10, 0, 0, 254], 1701, 1701, &l2tp),
    );
    // The TOS byte (neither tool checks the IPv4 checksum by default).
    frame[15] = 0xb8;
    let pcap = pcap_file(1, &[PcapRecord::new(1, 0, frame)]);
    write_file(dir, "l2tp.pcap", &pcap)
}

#[test]
fn containers_are_columns_by_path_and_wireshark_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    let capture = l2tp_capture(dir.path());
    let table = fields_of(
        &capture,
        &[
            "l2tp.flags",
            "l2tp.flags_version",
            "l2tp.t",
            "l2tp.version",
            "ip.dsfield",
            "ipv4.tos",
            "ip.dsfield.dscp",
        ],
    );
    // tshark -e l2tp.flags -e l2tp.type -e l2tp.version -e ip.dsfield -e ip.dsfield.dscp:
    // 0xc802  1  2  0xb8  46 (fields are decimal here, as every integer of `-e`).
    assert_eq!(table.get(1, "l2tp.flags"), "51202");
    assert_eq!(table.get(1, "l2tp.flags_version"), "51202");
    assert_eq!(table.get(1, "l2tp.t"), "1");
    assert_eq!(table.get(1, "l2tp.version"), "2");
    assert_eq!(table.get(1, "ip.dsfield"), "184");
    assert_eq!(table.get(1, "ipv4.tos"), "184");
    assert_eq!(table.get(1, "ip.dsfield.dscp"), "46");
}

#[test]
fn dumps_show_the_ranges_not_the_container() {
    let dir = tempfile::tempdir().expect("temp dir");
    let capture = l2tp_capture(dir.path());
    let json = ok(&run([
        capture.as_os_str(),
        "-f".as_ref(),
        "json".as_ref(),
        "-o".as_ref(),
        "-".as_ref(),
    ]));
    assert!(json.contains("\"dscp\""), "{json}");
    assert!(json.contains("\"version\""), "{json}");
    assert!(!json.contains("\"tos\""), "{json}");
    assert!(!json.contains("\"flags_version\""), "{json}");
}

#[test]
fn containers_are_listed_with_their_wireshark_names() {
    let list = ok(&run(["fields", "--list"]));
    for (path, wireshark) in [
        ("l2tp.flags_version", "l2tp.flags"),
        ("ipv4.tos", "ip.dsfield"),
        ("dns.flags", "dns.flags"),
    ] {
        let line = list
            .lines()
            .find(|l| l.split_whitespace().next() == Some(path))
            .unwrap_or_else(|| panic!("{path} not listed:\n{list}"));
        assert!(line.contains(wireshark), "{line}");
    }
}
