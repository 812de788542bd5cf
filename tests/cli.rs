//! The `pcapkit` command line on samples/demo.pcap and on small files built here.

use crate::common;

use std::collections::HashSet;
use std::io::Read;
use std::process::Stdio;

use common::*;
use serde_json::Value;

fn demo_json() -> (String, Value) {
    let text = ok(&run([demo_path()]));
    let value: Value = serde_json::from_str(&text).expect("valid JSON");
    (text, value)
}

// ---------------------------------------------------------------------------------------
// Help, version, listings

#[test]
fn help_describes_options_and_subcommands() {
    let out = ok(&run(["--help"]));
    for word in [
        "Usage: pcapkit",
        "--output",
        "--format",
        "--field",
        "--layer",
        "--protocol",
        "--nofile",
        "--extension",
        "--verbose",
        "protocols",
        "fields",
        "Examples:",
    ] {
        assert!(out.contains(word), "--help lacks {word}:\n{out}");
    }
    let short = ok(&run(["-h"]));
    assert!(short.contains("Usage: pcapkit"));
}

#[test]
fn version_prints_name_and_version() {
    let out = ok(&run(["--version"]));
    assert_eq!(out.trim(), format!("pcapkit {}", env!("CARGO_PKG_VERSION")));
    let short = ok(&run(["-V"]));
    assert_eq!(short, out);
}

#[test]
fn protocols_lists_layers_and_bindings() {
    let out = ok(&run(["protocols"]));
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    let row = |id: &str| {
        rows.iter()
            .find(|r| r[0] == id)
            .unwrap_or_else(|| panic!("protocol {id} not listed:\n{out}"))
            .join(" ")
    };
    assert!(out.lines().next().unwrap().starts_with("id"), "{out}");
    let ethernet = row("ethernet");
    assert!(
        ethernet.starts_with("ethernet Ethernet link "),
        "{ethernet}"
    );
    assert!(ethernet.contains("linktype 0x1"), "{ethernet}");
    let ipv4 = row("ipv4");
    assert!(ipv4.starts_with("ipv4 IPv4 internet "), "{ipv4}");
    assert!(ipv4.contains("ethertype 0x800"), "{ipv4}");
    assert!(ipv4.contains("linktype 0xe4"), "{ipv4}");
    let tcp = row("tcp");
    assert!(tcp.starts_with("tcp TCP transport "), "{tcp}");
    assert!(tcp.contains("ip_proto 0x6"), "{tcp}");
    let udp = row("udp");
    assert!(udp.contains("ip_proto 0x11"), "{udp}");
    let http = row("http");
    assert!(http.starts_with("http HTTP application "), "{http}");
    assert!(http.contains("tcp_port 0x50"), "{http}");
    assert!(http.contains("heuristic"), "{http}");
    let ids: HashSet<&str> = rows.iter().map(|r| r[0]).collect();
    for id in [
        "vlan",
        "ieee8021ad",
        "arp",
        "ipv6",
        "ipv6_frag",
        "icmp",
        "icmpv6",
    ] {
        assert!(ids.contains(id), "{id} not listed");
    }
}

#[test]
fn protocols_columns_line_up_with_the_header() {
    let out = ok(&run(["protocols"]));
    let header = out.lines().next().unwrap();
    let found = header
        .find("found through")
        .expect("header names the column");
    let layer = header.find("layer").unwrap();
    for line in out.lines().skip(1) {
        let mut words = line.split_whitespace();
        let (id, name) = (words.next().unwrap(), words.next().unwrap());
        if id.len() >= 12 || name.len() >= 12 {
            continue; // wider than its column
        }
        let lvl = words.next().unwrap();
        assert_eq!(line.find(lvl), Some(layer), "layer column of {line:?}");
        let rest = words.next().unwrap();
        assert_eq!(
            line[layer + lvl.len()..]
                .find(rest)
                .map(|i| i + layer + lvl.len()),
            Some(found),
            "`found through` column of {line:?}"
        );
    }
}

#[test]
fn fields_list_has_every_contract_field() {
    let out = ok(&run(["fields", "--list"]));
    let paths: HashSet<&str> = out
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for f in CONTRACT_FIELDS {
        assert!(paths.contains(f), "`fields --list` lacks {f}");
    }
    assert!(paths.contains("ieee8021ad.vid"));
    // Types and descriptions are shown.
    let mss = out.lines().find(|l| l.starts_with("tcp.mss ")).unwrap();
    assert!(mss.contains("u16"), "{mss}");
    let offset = out.lines().find(|l| l.starts_with("ipv4.offset ")).unwrap();
    assert!(offset.contains("bytes"), "{offset}");
}

#[test]
fn fields_of_one_protocol() {
    let out = ok(&run(["fields", "--list", "TCP"]));
    assert!(out.lines().count() > 5);
    for line in out.lines() {
        assert!(line.starts_with("tcp."), "{line}");
    }
    let bad = run(["fields", "--list", "nosuch"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("nosuch"));
}

#[test]
fn fields_list_of_a_third_party_engine_gives_its_own_names() {
    // etherparse's names are its list's: the common stack, none of our deeper protocols.
    let out = ok(&run(["fields", "--list", "--engine", "etherparse"]));
    let names: Vec<&str> = out.lines().collect();
    assert!(
        names.contains(&"ipv4.src") && names.contains(&"tcp.dstport"),
        "{out}"
    );
    assert!(!names.iter().any(|n| n.starts_with("dns.")), "{out}");
    // Our engines take the specs' paths, with types and descriptions.
    let ours = ok(&run(["fields", "--list", "--engine", "server", "dns"]));
    assert!(ours.lines().any(|l| l.starts_with("dns.qname ")), "{ours}");
    // One protocol's, by prefix.
    let ipv4 = ok(&run(["fields", "--list", "--engine", "scapy", "ipv4"]));
    assert!(ipv4.lines().count() > 5);
    assert!(ipv4.lines().all(|l| l.starts_with("ipv4.")), "{ipv4}");
    // tshark's come from tshark itself: a missing tshark is a usage error saying so.
    let missing = common::pcapkit()
        .args(["fields", "--list", "--engine", "tshark"])
        .env("PCAPKIT_TSHARK", "/nonexistent/tshark")
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/nonexistent/tshark"));
}

#[test]
fn fields_list_types_of_option_kinds() {
    let out = ok(&run(["fields", "--list"]));
    for path in ["tcp.options.kind", "ipv4.options.kind"] {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(path))
            .unwrap();
        let ty = line.split_whitespace().nth(1).unwrap();
        assert_eq!(ty, "u8", "{line}");
    }
}

// ---------------------------------------------------------------------------------------
// JSON and NDJSON

#[test]
fn json_has_global_header_then_every_frame_in_order() {
    let (text, value) = demo_json();
    let keys = top_level_keys(&text);
    let mut expected = vec!["Global Header".to_owned()];
    expected.extend((1..=DEMO_FRAMES).map(|n| format!("Frame {n}")));
    assert_eq!(keys, expected);
    let header = &value["Global Header"];
    assert_eq!(header["version_major"], 2);
    assert_eq!(header["version_minor"], 4);
    assert_eq!(header["snaplen"], 65535);
    assert_eq!(header["linktype"]["value"], 1);
    assert_eq!(header["byte_order"], "little");
    assert_eq!(header["nanosecond"], false);
}

#[test]
fn json_frames_have_metadata_and_nested_layers() {
    let (_, value) = demo_json();
    for n in 1..=DEMO_FRAMES {
        let frame = &value[format!("Frame {n}")];
        assert_eq!(frame["number"], n as u64, "frame {n}");
        for key in [
            "time",
            "time_epoch",
            "len",
            "cap_len",
            "protocols",
            "packet",
        ] {
            assert!(!frame[key].is_null(), "frame {n} lacks {key}");
        }
        let packet = frame["packet"].as_str().unwrap();
        assert_eq!(
            packet.len(),
            2 * frame["cap_len"].as_u64().unwrap() as usize
        );
        assert!(packet
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert!(frame["protocols"].as_str().unwrap().starts_with("Ethernet"));
        assert!(frame["ethernet"].is_object(), "frame {n}");
    }
    let first = &value["Frame 1"];
    assert_eq!(first["time"], "2024-01-01T00:00:00.000000");
    assert_eq!(first["time_epoch"], "1704067200.000000000");
    assert_eq!(first["len"], 60);
    assert_eq!(first["cap_len"], 60);

    let f12 = &value["Frame 12"];
    assert_eq!(f12["protocols"], "Ethernet:IPv4:TCP:HTTP");
    let http = &f12["ethernet"]["ipv4"]["tcp"]["http"];
    assert_eq!(http["method"], "GET");
    assert_eq!(http["uri"], "/index.html");
    assert_eq!(f12["ethernet"]["ipv4"]["src"], "192.168.1.10");
    assert_eq!(f12["ethernet"]["ipv4"]["tcp"]["dstport"], 80);
    assert_eq!(f12["ethernet"]["type"]["value"], 0x0800);
    assert_eq!(f12["ethernet"]["type"]["name"], "IPv4");

    // QinQ: 802.1ad outside, 802.1Q inside.
    let f4 = &value["Frame 4"]["ethernet"]["ieee8021ad"];
    assert_eq!(f4["vid"], 200);
    assert_eq!(f4["vlan"]["vid"], 100);
    assert!(f4["vlan"]["ipv4"]["udp"].is_object());

    // IPv6 with its extension headers, nested in order.
    let f43 = &value["Frame 43"];
    assert_eq!(
        f43["protocols"],
        "Ethernet:IPv6:HOPOPT:IPv6-Opts:IPv6-Route:IPv6-Frag:UDP:Raw"
    );
    let frag = &f43["ethernet"]["ipv6"]["ipv6_hopopt"]["ipv6_opts"]["ipv6_route"]["ipv6_frag"];
    assert_eq!(frag["offset"], 0);
    assert_eq!(frag["mf"], true);
    assert_eq!(f43["ethernet"]["ipv6"]["dst"], "2001:db8:1::10");
}

#[test]
fn ndjson_is_one_valid_object_a_line() {
    let out = ok(&run([
        demo_path().as_os_str(),
        "-f".as_ref(),
        "ndjson".as_ref(),
    ]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), DEMO_FRAMES);
    let (_, json) = demo_json();
    for (i, line) in lines.iter().enumerate() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", i + 1));
        assert_eq!(v["number"], i as u64 + 1);
        // The same frame as in the JSON document.
        assert_eq!(v, json[format!("Frame {}", i + 1)], "frame {}", i + 1);
    }
}

// ---------------------------------------------------------------------------------------
// Fields

fn demo_table() -> Table {
    fields_of(&demo_path(), CONTRACT_FIELDS)
}

#[test]
fn fields_header_and_one_row_a_frame() {
    let out = ok(&run([
        demo_path().as_os_str(),
        "-e".as_ref(),
        "frame.number".as_ref(),
        "-e".as_ref(),
        "ipv4.src".as_ref(),
    ]));
    let t = Table::parse(&out);
    assert_eq!(t.header, ["frame.number", "ipv4.src"]);
    assert_eq!(t.rows.len(), DEMO_FRAMES);
    let numbers: Vec<String> = (1..=DEMO_FRAMES).map(|n| n.to_string()).collect();
    assert_eq!(t.column("frame.number"), numbers);
    assert_eq!(out.lines().nth(5).unwrap(), "5\t192.168.1.10");
}

/// `-e` takes a field's Wireshark name as well as its path, for every field a spec names
/// (the conformance tool compares exactly these): the column is headed by the name asked
/// for and holds the same values.
#[test]
fn every_wireshark_name_is_accepted_by_e() {
    let named: Vec<(&str, &str)> = pcapkit::ProtocolId::ALL
        .into_iter()
        .flat_map(|p| p.fields())
        .filter_map(|f| Some((f.path, f.wireshark?)))
        .collect();
    assert!(named.len() > 200, "{} named fields", named.len());
    let asked: Vec<&str> = named.iter().flat_map(|(p, w)| [*p, *w]).collect();
    let t = fields_of(&demo_path(), &asked);
    assert_eq!(t.header, asked);
    for (path, wireshark) in &named {
        assert_eq!(t.column(path), t.column(wireshark), "{path} / {wireshark}");
    }
    // Not vacuous: the demo capture fills these under both names.
    assert!(t.column("ip.src").contains(&"192.168.1.10"));
    assert!(t.column("tcp.srcport").iter().any(|v| !v.is_empty()));
}

#[test]
fn every_contract_field_is_accepted() {
    let t = demo_table();
    assert_eq!(t.header, CONTRACT_FIELDS);
    assert_eq!(t.rows.len(), DEMO_FRAMES);
}

#[test]
fn fields_frame_values() {
    let t = demo_table();
    assert_eq!(t.get(1, "frame.len"), "60");
    assert_eq!(t.get(1, "frame.cap_len"), "60");
    assert_eq!(t.get(12, "frame.len"), "334");
    assert_eq!(t.get(1, "frame.time_epoch"), "1704067200.000000000");
    assert_eq!(t.get(2, "frame.time_epoch"), "1704067200.000182000");
    assert_eq!(t.get(12, "frame.protocols"), "Ethernet:IPv4:TCP:HTTP");
    assert_eq!(t.get(1, "frame.protocols"), "Ethernet:ARP");
    assert_eq!(t.get(3, "frame.protocols"), "Ethernet:VLAN:ARP");
    for epoch in t.column("frame.time_epoch") {
        let (secs, frac) = epoch.split_once('.').unwrap();
        assert_eq!(secs.len(), 10, "{epoch}");
        assert_eq!(frac.len(), 9, "{epoch}");
    }
}

#[test]
fn fields_arp_and_macs() {
    let t = demo_table();
    assert_eq!(t.get(1, "ethernet.dst"), "ff:ff:ff:ff:ff:ff");
    assert_eq!(t.get(1, "ethernet.src"), "00:11:22:33:44:55");
    assert_eq!(t.get(1, "ethernet.type"), "2054");
    assert_eq!(t.get(1, "arp.htype"), "1");
    assert_eq!(t.get(1, "arp.ptype"), "2048");
    assert_eq!(t.get(1, "arp.oper"), "1");
    assert_eq!(t.get(1, "arp.sha"), "00:11:22:33:44:55");
    assert_eq!(t.get(1, "arp.spa"), "192.168.1.10");
    assert_eq!(t.get(1, "arp.tha"), "00:00:00:00:00:00");
    assert_eq!(t.get(1, "arp.tpa"), "192.168.1.1");
    // The reply, with the server's MAC in lower case.
    assert_eq!(t.get(2, "arp.oper"), "2");
    assert_eq!(t.get(2, "ethernet.src"), "66:77:88:99:aa:bb");
    assert_eq!(t.get(2, "arp.sha"), "66:77:88:99:aa:bb");
    for mac in t.column("ethernet.src") {
        assert_eq!(mac, mac.to_lowercase());
        assert_eq!(mac.len(), 17);
    }
}

#[test]
fn fields_vlan_and_qinq() {
    let t = demo_table();
    assert_eq!(t.get(3, "ethernet.type"), "33024");
    assert_eq!(t.get(3, "vlan.vid"), "100");
    assert_eq!(t.get(3, "vlan.pcp"), "3");
    assert_eq!(t.get(3, "vlan.dei"), "1");
    assert_eq!(t.get(3, "vlan.type"), "2054");
    assert_eq!(t.get(3, "arp.oper"), "1");
    let q = fields_of(
        &demo_path(),
        &[
            "frame.protocols",
            "ieee8021ad.vid",
            "vlan.vid",
            "vlan.type",
            "udp.dstport",
        ],
    );
    assert_eq!(
        q.get(4, "frame.protocols"),
        // tshark: eth:ethertype:ieee8021ad:ethertype:vlan:ethertype:ip:udp:ntp
        "Ethernet:802.1ad:VLAN:IPv4:UDP:NTP"
    );
    assert_eq!(q.get(4, "ieee8021ad.vid"), "200");
    assert_eq!(q.get(4, "vlan.vid"), "100");
    assert_eq!(q.get(4, "vlan.type"), "2048");
    assert_eq!(q.get(4, "udp.dstport"), "123");
    // No VLAN elsewhere.
    assert_eq!(
        t.column("vlan.vid")
            .iter()
            .filter(|v| !v.is_empty())
            .count(),
        2
    );
}

#[test]
fn fields_ipv4_fragments_and_options() {
    let t = demo_table();
    assert_eq!(t.get(36, "ipv4.offset"), "0");
    assert_eq!(t.get(37, "ipv4.offset"), "1480");
    assert_eq!(t.get(38, "ipv4.offset"), "2960");
    assert_eq!(t.get(36, "ipv4.mf"), "1");
    assert_eq!(t.get(37, "ipv4.mf"), "1");
    assert_eq!(t.get(38, "ipv4.mf"), "0");
    assert_eq!(t.get(36, "ipv4.df"), "0");
    assert_eq!(t.get(36, "ipv4.id"), t.get(37, "ipv4.id"));
    assert_eq!(t.get(36, "ipv4.id"), t.get(38, "ipv4.id"));
    assert_eq!(t.get(36, "ipv4.len"), "1500");
    assert_eq!(t.get(38, "ipv4.len"), "60");
    // Only the first fragment holds the UDP header.
    assert_eq!(t.get(36, "udp.dstport"), "9");
    assert_eq!(t.get(36, "udp.len"), "3000");
    assert_eq!(t.get(37, "udp.dstport"), "");
    assert_eq!(t.get(37, "frame.protocols"), "Ethernet:IPv4:Raw");
    // Options: IHL 15 with Record Route, IHL 7 with Router Alert.
    assert_eq!(t.get(33, "ipv4.ihl"), "15");
    assert_eq!(t.get(35, "ipv4.ihl"), "7");
    assert_eq!(t.get(12, "ipv4.ihl"), "5");
    assert_eq!(t.get(12, "ipv4.version"), "4");
    assert_eq!(t.get(12, "ipv4.ttl"), "64");
    assert_eq!(t.get(12, "ipv4.protocol"), "6");
    assert_eq!(t.get(5, "ipv4.protocol"), "17");
    assert_eq!(t.get(31, "ipv4.protocol"), "1");
    assert_eq!(t.get(12, "ipv4.df"), "1");
    assert_eq!(t.get(12, "ipv4.src"), "192.168.1.10");
    assert_eq!(t.get(12, "ipv4.dst"), "192.168.1.1");
    assert_eq!(t.get(12, "ipv4.len"), "320");
}

#[test]
fn ipv4_checksums_check_out() {
    // Every IPv4 header in demo.pcap has a correct checksum: recompute it from the
    // packet bytes and compare with the `ipv4.checksum` column.
    let t = fields_of(&demo_path(), &["frame.number", "ipv4.checksum", "ipv4.ihl"]);
    let pcap = demo();
    let records = records_le(&pcap);
    let mut checked = 0;
    for (i, r) in records.iter().enumerate() {
        let data = &pcap[r.data()..r.end()];
        if data[12..14] != [0x08, 0x00] {
            continue;
        }
        let ihl = usize::from(data[14] & 0xf) * 4;
        let mut header = data[14..14 + ihl].to_vec();
        let stored = u16::from_be_bytes([header[10], header[11]]);
        header[10] = 0;
        header[11] = 0;
        assert_eq!(internet_checksum(&header), stored, "frame {}", i + 1);
        let cell = t.get(i + 1, "ipv4.checksum");
        assert_eq!(
            cell.split(',').next().unwrap(),
            stored.to_string(),
            "frame {}",
            i + 1
        );
        checked += 1;
    }
    assert!(checked > 30);
}

#[test]
fn fields_ipv6_and_its_fragments() {
    let t = demo_table();
    assert_eq!(t.get(41, "ipv6.src"), "2001:db8::10");
    assert_eq!(t.get(41, "ipv6.dst"), "2001:db8::1");
    assert_eq!(t.get(41, "ipv6.next_header"), "58");
    assert_eq!(t.get(41, "ipv6.hop_limit"), "64");
    assert_eq!(t.get(41, "ipv6.flow_label"), "0");
    assert_eq!(t.get(41, "ipv6.payload_len"), "64");
    assert_eq!(t.get(43, "ipv6.dst"), "2001:db8:1::10");
    assert_eq!(t.get(43, "ipv6.next_header"), "0");
    assert_eq!(t.get(43, "ipv6_frag.offset"), "0");
    assert_eq!(t.get(44, "ipv6_frag.offset"), "1408");
    assert_eq!(t.get(43, "ipv6_frag.mf"), "1");
    assert_eq!(t.get(44, "ipv6_frag.mf"), "0");
    assert!(!t.get(43, "ipv6_frag.id").is_empty());
    assert_eq!(t.get(43, "ipv6_frag.id"), t.get(44, "ipv6_frag.id"));
    assert_eq!(t.get(43, "udp.len"), "2000");
    assert_eq!(t.get(44, "udp.len"), "");
    assert_eq!(t.get(12, "ipv6.src"), "");
    for addr in t.column("ipv6.src").into_iter().filter(|a| !a.is_empty()) {
        assert!(!addr.contains(":0:"), "not compressed: {addr}");
        assert_eq!(addr, addr.to_lowercase());
    }
}

#[test]
fn fields_tcp() {
    let t = demo_table();
    // SYN, SYN-ACK, ACK, PSH-ACK, FIN-ACK: the 12 flag bits as one number.
    assert_eq!(t.get(9, "tcp.flags"), "2");
    assert_eq!(t.get(10, "tcp.flags"), "18");
    assert_eq!(t.get(11, "tcp.flags"), "16");
    assert_eq!(t.get(12, "tcp.flags"), "24");
    assert_eq!(t.get(19, "tcp.flags"), "17");
    assert_eq!(t.get(9, "tcp.mss"), "1460");
    assert_eq!(t.get(10, "tcp.mss"), "1460");
    assert_eq!(t.get(11, "tcp.mss"), "");
    assert_eq!(t.get(9, "tcp.srcport"), "51000");
    assert_eq!(t.get(9, "tcp.dstport"), "80");
    assert_eq!(t.get(9, "tcp.ack"), "0");
    assert_eq!(t.get(9, "tcp.window"), "64240");
    // The SYN-ACK acknowledges the SYN's sequence number plus one.
    let syn_seq: u64 = t.get(9, "tcp.seq").parse().unwrap();
    let synack_ack: u64 = t.get(10, "tcp.ack").parse().unwrap();
    assert_eq!(synack_ack, syn_seq + 1);
    assert_eq!(t.get(22, "tcp.dstport"), "8081");
    assert_eq!(t.get(22, "tcp.mss"), "1460");
}

#[test]
fn fields_udp() {
    let t = demo_table();
    assert_eq!(t.get(5, "udp.srcport"), "53001");
    assert_eq!(t.get(5, "udp.dstport"), "53");
    assert_eq!(t.get(6, "udp.srcport"), "53002");
    assert_eq!(t.get(7, "udp.srcport"), "53");
    assert_eq!(t.get(12, "udp.srcport"), "");
}

#[test]
fn fields_http_on_port_80_and_by_heuristic() {
    let t = demo_table();
    assert_eq!(t.get(12, "http.method"), "GET");
    assert_eq!(t.get(12, "http.uri"), "/index.html");
    assert_eq!(t.get(12, "http.status"), "");
    assert_eq!(t.get(14, "http.status"), "200");
    assert_eq!(t.get(17, "http.status"), "200");
    // Port 8081 is in no table: the heuristic finds it.
    assert_eq!(t.get(25, "tcp.dstport"), "8081");
    assert_eq!(t.get(25, "http.method"), "GET");
    assert_eq!(t.get(25, "http.uri"), "/api/v1/status");
    assert_eq!(t.get(25, "frame.protocols"), "Ethernet:IPv4:TCP:HTTP");
    assert_eq!(t.get(26, "http.status"), "200");
    // Handshake segments carry no payload: no HTTP.
    assert_eq!(t.get(22, "frame.protocols"), "Ethernet:IPv4:TCP");
    let requests = t
        .column("http.method")
        .iter()
        .filter(|m| **m == "GET")
        .count();
    assert_eq!(requests, 2);
}

#[test]
fn a_field_present_twice_is_joined_with_commas() {
    // Frame 40: ICMP port unreachable quoting the original IPv4 header and UDP header.
    let t = demo_table();
    assert_eq!(t.get(40, "ipv4.src"), "192.168.1.1,192.168.1.10");
    assert_eq!(t.get(40, "ipv4.dst"), "192.168.1.10,192.168.1.1");
    assert_eq!(t.get(40, "ipv4.protocol"), "1,17");
    assert_eq!(t.get(40, "udp.dstport"), "33333");
    assert_eq!(t.get(39, "ipv4.src"), "192.168.1.10");
}

#[test]
fn a_column_repeated_is_repeated() {
    let t = fields_of(&demo_path(), &["frame.number", "ipv4.ttl", "frame.number"]);
    assert_eq!(t.header, ["frame.number", "ipv4.ttl", "frame.number"]);
    assert_eq!(t.rows[11], ["12", "64", "12"]);
}

#[test]
fn fields_format_without_e_has_default_columns() {
    let out = ok(&run([
        demo_path().as_os_str(),
        "-f".as_ref(),
        "fields".as_ref(),
    ]));
    let t = Table::parse(&out);
    assert_eq!(t.rows.len(), DEMO_FRAMES);
    assert!(t.header.contains(&"frame.number".to_owned()));
    assert!(t.header.contains(&"frame.protocols".to_owned()));
}

#[test]
fn unknown_field_fails_with_a_suggestion_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        [
            demo_path().as_os_str(),
            "-e".as_ref(),
            "frame.number".as_ref(),
            "-e".as_ref(),
            "ipv9.src".as_ref(),
            "-o".as_ref(),
            "out.tsv".as_ref(),
        ],
    );
    assert_no_crash(&out, "unknown field");
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("pcapkit: error:"), "{err}");
    assert!(err.contains("ipv9.src"), "{err}");
    assert!(err.contains("ipv4.src"), "{err}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "files left: {left:?}");
    // On standard output too: nothing printed.
    let out = run([
        demo_path().as_os_str(),
        "-e".as_ref(),
        "tcp.nosuch".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("tcp.nosuch"));
}

#[test]
fn e_with_a_json_format_is_a_usage_error() {
    let out = run([
        demo_path().as_os_str(),
        "-e".as_ref(),
        "frame.number".as_ref(),
        "-f".as_ref(),
        "json".as_ref(),
    ]);
    assert_no_crash(&out, "-e -f json");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("-e"), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------
// Thresholds

#[test]
fn layer_transport_stops_after_tcp_and_udp() {
    let t = Table::parse(&ok(&run([
        demo_path().as_os_str(),
        "--layer".as_ref(),
        "transport".as_ref(),
        "-e".as_ref(),
        "frame.protocols".as_ref(),
        "-e".as_ref(),
        "http.method".as_ref(),
        "-e".as_ref(),
        "tcp.dstport".as_ref(),
    ])));
    assert_eq!(t.get(12, "frame.protocols"), "Ethernet:IPv4:TCP:Raw");
    assert_eq!(t.get(25, "frame.protocols"), "Ethernet:IPv4:TCP:Raw");
    assert_eq!(t.get(12, "tcp.dstport"), "80");
    assert!(t.column("http.method").iter().all(|m| m.is_empty()));
    assert!(t
        .column("frame.protocols")
        .iter()
        .all(|p| !p.contains("HTTP")));
    // Below the threshold nothing changes.
    assert_eq!(t.get(3, "frame.protocols"), "Ethernet:VLAN:ARP");
    assert_eq!(t.get(9, "frame.protocols"), "Ethernet:IPv4:TCP");

    let json = ok(&run([
        demo_path().as_os_str(),
        "--layer".as_ref(),
        "transport".as_ref(),
        "-f".as_ref(),
        "ndjson".as_ref(),
    ]));
    let f12: Value = serde_json::from_str(json.lines().nth(11).unwrap()).unwrap();
    let tcp = &f12["ethernet"]["ipv4"]["tcp"];
    assert!(tcp.is_object());
    assert!(tcp.get("http").is_none());
    assert!(tcp["raw"].is_object());
    assert_eq!(f12["protocols"], "Ethernet:IPv4:TCP:Raw");
}

#[test]
fn layer_link_and_internet() {
    let t = fields_of(&demo_path(), &["frame.protocols"]);
    let link = Table::parse(&ok(&run([
        demo_path().as_os_str(),
        "--layer".as_ref(),
        "LINK".as_ref(),
        "-e".as_ref(),
        "frame.protocols".as_ref(),
    ])));
    assert_eq!(link.get(12, "frame.protocols"), "Ethernet:Raw");
    assert_eq!(link.get(4, "frame.protocols"), "Ethernet:802.1ad:VLAN:Raw");
    let internet = Table::parse(&ok(&run([
        demo_path().as_os_str(),
        "--layer".as_ref(),
        "internet".as_ref(),
        "-e".as_ref(),
        "frame.protocols".as_ref(),
    ])));
    assert_eq!(internet.get(12, "frame.protocols"), "Ethernet:IPv4:Raw");
    assert_eq!(internet.get(1, "frame.protocols"), "Ethernet:ARP");
    assert_eq!(
        internet.get(43, "frame.protocols"),
        "Ethernet:IPv6:HOPOPT:IPv6-Opts:IPv6-Route:IPv6-Frag:Raw"
    );
    let application = Table::parse(&ok(&run([
        demo_path().as_os_str(),
        "--layer".as_ref(),
        "application".as_ref(),
        "-e".as_ref(),
        "frame.protocols".as_ref(),
    ])));
    assert_eq!(application.rows, t.rows);
}

#[test]
fn protocol_ipv4_stops_after_ipv4_in_any_case() {
    for name in ["ipv4", "IPv4", "IPV4"] {
        let t = Table::parse(&ok(&run([
            demo_path().as_os_str(),
            "--protocol".as_ref(),
            name.as_ref(),
            "-e".as_ref(),
            "frame.protocols".as_ref(),
            "-e".as_ref(),
            "ipv4.src".as_ref(),
            "-e".as_ref(),
            "udp.dstport".as_ref(),
        ])));
        assert_eq!(t.get(12, "frame.protocols"), "Ethernet:IPv4:Raw", "{name}");
        assert_eq!(t.get(12, "ipv4.src"), "192.168.1.10");
        assert_eq!(
            t.get(4, "frame.protocols"),
            "Ethernet:802.1ad:VLAN:IPv4:Raw"
        );
        // The ICMP error's quoted IPv4 header is not reached.
        assert_eq!(t.get(40, "frame.protocols"), "Ethernet:IPv4:Raw");
        assert_eq!(t.get(40, "ipv4.src"), "192.168.1.1");
        // UDP over IPv4 is not reached; over IPv6 it is.
        assert!(t.column("udp.dstport")[..40].iter().all(|p| p.is_empty()));
        assert_eq!(t.get(43, "udp.dstport"), "9");
        // ARP has no IPv4 layer to stop at.
        assert_eq!(t.get(1, "frame.protocols"), "Ethernet:ARP");
    }
    let tcp = Table::parse(&ok(&run([
        demo_path().as_os_str(),
        "--protocol".as_ref(),
        "TCP".as_ref(),
        "-e".as_ref(),
        "frame.protocols".as_ref(),
    ])));
    assert_eq!(tcp.get(12, "frame.protocols"), "Ethernet:IPv4:TCP:Raw");
}

#[test]
fn bad_option_values_are_usage_errors_naming_the_known_values() {
    let cases: [(&str, &str, &[&str]); 3] = [
        (
            "--layer",
            "session",
            &["link", "internet", "transport", "application"],
        ),
        ("--format", "xml", &["json", "ndjson", "fields"]),
        ("--protocol", "ip", &["ipv4", "tcp", "http", "ethernet"]),
    ];
    for (option, value, known) in cases {
        let out = run([demo_path().as_os_str(), option.as_ref(), value.as_ref()]);
        assert_no_crash(&out, option);
        assert_eq!(out.status.code(), Some(2), "{option} {value}");
        assert!(out.stdout.is_empty());
        let err = stderr(&out);
        assert!(err.contains(value), "{option}: {err}");
        for k in known {
            assert!(err.contains(k), "{option}: {err} lacks {k}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Input and output

#[test]
fn stdin_gives_the_same_output_as_the_file() {
    let bytes = demo();
    for args in [
        vec![],
        vec!["-f", "ndjson"],
        vec![
            "-e",
            "frame.number",
            "-e",
            "frame.protocols",
            "-e",
            "ipv4.src",
        ],
    ] {
        let mut file_args: Vec<std::ffi::OsString> = vec![demo_path().into()];
        file_args.extend(args.iter().map(Into::into));
        let from_file = ok(&run(&file_args));
        let mut stdin_args: Vec<&str> = vec!["-"];
        stdin_args.extend(&args);
        let from_stdin = ok(&run_stdin(&stdin_args, &bytes));
        assert!(!from_file.is_empty());
        assert_eq!(from_stdin, from_file, "{args:?}");
    }
}

#[test]
fn output_file_is_written_and_stdout_stays_empty() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        [demo_path().as_os_str(), "-o".as_ref(), "out.json".as_ref()],
    );
    assert_no_crash(&out, "-o");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "stdout: {}", stdout(&out));
    let written = std::fs::read_to_string(dir.path().join("out.json")).unwrap();
    let (expected, _) = demo_json();
    assert_eq!(written, expected);
    assert!(stderr(&out).contains("out.json"));
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["out.json"]);
}

#[test]
fn output_format_follows_the_extension() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        [demo_path().as_os_str(), "-o".as_ref(), "x.ndjson".as_ref()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(dir.path().join("x.ndjson")).unwrap();
    assert_eq!(text.lines().count(), DEMO_FRAMES);
    let out = run_in(
        dir.path(),
        [demo_path().as_os_str(), "-o".as_ref(), "x.tsv".as_ref()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(dir.path().join("x.tsv")).unwrap();
    assert_eq!(Table::parse(&text).rows.len(), DEMO_FRAMES);
}

#[test]
fn extension_is_appended_when_missing() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["-o", "out", "--extension"], "out.json"),
        (&["-o", "nd", "--extension", "-f", "ndjson"], "nd.ndjson"),
        (
            &["-o", "cols", "--extension", "-e", "frame.number"],
            "cols.tsv",
        ),
        (&["-o", "already.json", "--extension"], "already.json"),
    ];
    for (args, file) in cases {
        let mut all: Vec<std::ffi::OsString> = vec![demo_path().into()];
        all.extend(args.iter().map(Into::into));
        let out = run_in(dir.path(), &all);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty());
        assert!(dir.path().join(file).is_file(), "{args:?}: no {file}");
    }
    assert!(!dir.path().join("out").exists());
    assert!(!dir.path().join("already.json.json").exists());
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out.json")).unwrap())
            .unwrap();
    assert_eq!(json["Frame 44"]["number"], 44);
    // Without --extension the name is kept as given.
    let out = run_in(
        dir.path(),
        [demo_path().as_os_str(), "-o".as_ref(), "plain".as_ref()],
    );
    assert!(out.status.success());
    assert!(dir.path().join("plain").is_file());
    assert!(!dir.path().join("plain.json").exists());
}

#[test]
fn output_file_has_ordinary_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        [demo_path().as_os_str(), "-o".as_ref(), "out.json".as_ref()],
    );
    assert!(out.status.success());
    // A file created the ordinary way, under the same umask.
    let reference = dir.path().join("reference");
    std::fs::File::create(&reference).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        format!("{:o}", mode(&dir.path().join("out.json"))),
        format!("{:o}", mode(&reference))
    );
}

#[test]
fn missing_input_is_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), ["no-such-file.pcap"]);
    assert_no_crash(&out, "missing input");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("pcapkit: error: "), "{err}");
    assert!(err.contains("no-such-file.pcap"), "{err}");
    assert!(
        !err.contains("backtrace") && !err.contains("panicked"),
        "{err}"
    );
}

#[test]
fn no_input_is_an_error() {
    let out = run(Vec::<&str>::new());
    assert_no_crash(&out, "no input");
    assert_ne!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("input"), "{}", stderr(&out));
}

#[test]
fn empty_and_non_capture_files_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    // Not a capture: an error (1); a pcap magic number then too short a header: a damaged
    // capture (3).
    let cases: [(&str, &[u8], &str, i32); 4] = [
        ("empty.pcap", b"", "empty", 1),
        (
            "text.pcap",
            b"hello, this is not a capture\n",
            "not a pcap or pcapng file",
            1,
        ),
        ("magic.pcap", &[0xd4, 0xc3], "magic", 1),
        (
            "header.pcap",
            &[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0],
            "header",
            3,
        ),
    ];
    for (name, bytes, says, status) in cases {
        let path = write_file(dir.path(), name, bytes);
        let out = run_in(
            dir.path(),
            [path.as_os_str(), "-o".as_ref(), "out.json".as_ref()],
        );
        assert_no_crash(&out, name);
        assert_eq!(out.status.code(), Some(status), "{name}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(err.starts_with("pcapkit: error: "), "{name}: {err}");
        assert!(err.contains(name), "{name}: {err}");
        assert!(err.contains(says), "{name}: {err}");
        assert!(!dir.path().join("out.json").exists(), "{name}");
    }
}

#[test]
fn unsupported_pcap_version_fails_clearly() {
    let mut bytes = demo();
    bytes[4] = 3; // version 3.4
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "v3.pcap", &bytes);
    let out = run([path]);
    assert_no_crash(&out, "version 3");
    assert_eq!(out.status.code(), Some(3), "a damaged capture");
    assert!(stderr(&out).contains("version"), "{}", stderr(&out));
}

#[test]
fn nofile_writes_nothing_and_summarises() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        [
            demo_path().as_os_str(),
            "--nofile".as_ref(),
            "-o".as_ref(),
            "out.json".as_ref(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(!dir.path().join("out.json").exists());
    let err = stderr(&out);
    assert!(err.contains("44 frames"), "{err}");
    let out = run([demo_path().as_os_str(), "--nofile".as_ref()]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("44"), "{}", stderr(&out));
    // Columns are still checked.
    let out = run([
        demo_path().as_os_str(),
        "--nofile".as_ref(),
        "-e".as_ref(),
        "ipv9.src".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("ipv9.src"));
}

#[test]
fn verbose_prints_one_line_a_frame_on_stderr() {
    let out = run([
        demo_path().as_os_str(),
        "-v".as_ref(),
        "-e".as_ref(),
        "frame.number".as_ref(),
    ]);
    let stdout_text = ok(&out);
    assert_eq!(Table::parse(&stdout_text).rows.len(), DEMO_FRAMES);
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), DEMO_FRAMES, "{err}");
    for (i, line) in lines.iter().enumerate() {
        let (head, chain) = line.split_once(':').unwrap();
        assert_eq!(
            head.split_whitespace().last(),
            Some((i + 1).to_string().as_str())
        );
        assert!(chain.trim().starts_with("Ethernet"), "{line}");
    }
    assert!(
        lines[11].ends_with("Ethernet:IPv4:TCP:HTTP"),
        "{}",
        lines[11]
    );
    // With --nofile: the frames, then the summary.
    let out = run([
        demo_path().as_os_str(),
        "--nofile".as_ref(),
        "--verbose".as_ref(),
    ]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert_eq!(stderr(&out).lines().count(), DEMO_FRAMES + 1);
}

#[test]
fn a_closed_pipe_ends_quietly() {
    // Many copies of the demo frames: far more output than a pipe holds.
    let pcap = demo();
    let records = records_le(&pcap);
    let mut big = pcap[..24].to_vec();
    for _ in 0..20 {
        for r in &records {
            big.extend_from_slice(&pcap[r.offset..r.end()]);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "big.pcap", &big);
    let mut child = pcapkit()
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).unwrap();
    assert!(first.starts_with(b"{"));
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_no_crash(&out, "closed pipe");
    assert!(out.status.success(), "{:?}: {}", out.status, stderr(&out));
    assert!(!stderr(&out).contains("error"), "{}", stderr(&out));
}

#[test]
fn dash_output_is_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        dir.path(),
        [demo_path().as_os_str(), "-o".as_ref(), "-".as_ref()],
    );
    let text = ok(&out);
    assert_eq!(text, demo_json().0);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn input_that_is_a_directory_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let out = run([dir.path()]);
    assert_no_crash(&out, "directory input");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("pcapkit: error: "), "{err}");
    assert!(err.contains(&dir.path().display().to_string()), "{err}");
}

#[test]
fn input_from_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("in.fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(&fifo, demo()).unwrap())
    };
    let out = run([fifo.as_os_str(), "-e".as_ref(), "frame.protocols".as_ref()]);
    writer.join().unwrap();
    let t = Table::parse(&ok(&out));
    assert_eq!(t.rows.len(), DEMO_FRAMES);
    assert_eq!(t.get(12, "frame.protocols"), "Ethernet:IPv4:TCP:HTTP");
}

#[test]
fn values_with_tabs_keep_the_columns_apart() {
    // An HTTP header value may hold a tab (RFC 9110 field-content allows HTAB); a reason
    // phrase too. The `fields` format is tab-separated: such values must not add cells.
    let request = b"GET /a HTTP/1.1\r\nHost: example\r\nX-Test: left\tright\r\n\r\n";
    let response = b"HTTP/1.1 200 All\tfine\r\nServer: x\r\n\r\n";
    let frames = [
        ethernet(
            MAC_B,
            MAC_A,
            0x0800,
            &ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], 40000, 80, request),
        ),
        ethernet(
            MAC_A,
            MAC_B,
            0x0800,
            &ipv4_tcp([10, 0, 0, 2], [10, 0, 0, 1], 80, 40000, response),
        ),
    ];
    let records: Vec<PcapRecord> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| PcapRecord::new(i as u32, 0, f.clone()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "tabs.pcap", &pcap_file(1, &records));
    // JSON keeps the values whole.
    let json: Value = serde_json::from_str(&ok(&run([&path]))).unwrap();
    let http = &json["Frame 1"]["ethernet"]["ipv4"]["tcp"]["http"];
    assert_eq!(http["method"], "GET");
    assert_eq!(http["headers"][1]["value"], "left\tright");
    // Fields: every row has as many cells as the header.
    let out = ok(&run([
        path.as_os_str(),
        "-e".as_ref(),
        "frame.number".as_ref(),
        "-e".as_ref(),
        "http.headers.value".as_ref(),
        "-e".as_ref(),
        "http.reason".as_ref(),
        "-e".as_ref(),
        "tcp.srcport".as_ref(),
    ]));
    for line in out.lines() {
        assert_eq!(line.split('\t').count(), 4, "{line:?}");
    }
}

#[test]
fn output_through_a_symlink_writes_its_target() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("real.json"), b"old").unwrap();
    std::os::unix::fs::symlink("real.json", dir.path().join("link.json")).unwrap();
    let out = run_in(
        dir.path(),
        [demo_path().as_os_str(), "-o".as_ref(), "link.json".as_ref()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let link = std::fs::symlink_metadata(dir.path().join("link.json")).unwrap();
    assert!(link.file_type().is_symlink(), "the link was replaced");
    let written = std::fs::read_to_string(dir.path().join("real.json")).unwrap();
    assert_eq!(written, demo_json().0);
}

#[test]
fn output_to_proc_self_fd_when_stdout_is_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("stdout.ndjson");
    let file = std::fs::File::create(&target).unwrap();
    let out = pcapkit()
        .args([
            demo_path().as_os_str(),
            "-o".as_ref(),
            "/proc/self/fd/1".as_ref(),
            "-f".as_ref(),
            "ndjson".as_ref(),
        ])
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_no_crash(&out, "/proc/self/fd/1");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&target).unwrap();
    assert_eq!(text.lines().count(), DEMO_FRAMES);
}

// ---------------------------------------------------------------------------------------
// Exit statuses

#[test]
fn exit_status_tells_clean_damaged_error_and_usage_apart() {
    let dir = tempfile::tempdir().unwrap();
    let le = Order::Little;
    let pcapng = |tail: Vec<u8>| {
        let mut f = shb(le, &[]);
        f.extend(idb(le, 1, 0, &[]));
        f.extend(epb(le, 0, 1, &eth_ipv4_udp(1, b"one")));
        f.extend(tail);
        f
    };
    let demo = demo();
    let last = *records_le(&demo).last().unwrap();
    let mut v3 = demo.clone();
    v3[4] = 3;
    let mut impossible = epb(le, 0, 2, &eth_ipv4_udp(2, b"two"));
    impossible[4..8].copy_from_slice(&le.u32(10));
    let mut unsupported_section = shb(le, &[]);
    unsupported_section[12..14].copy_from_slice(&le.u16(2));
    let cases: Vec<(&str, Vec<u8>, i32)> = vec![
        ("clean.pcap", demo.clone(), 0),
        ("clean.pcapng", pcapng(Vec::new()), 0),
        ("truncated-record.pcap", demo[..last.end() - 1].to_vec(), 3),
        ("impossible-block-length.pcapng", pcapng(impossible), 3),
        ("unsupported-section.pcapng", pcapng(unsupported_section), 3),
        ("unsupported-version.pcap", v3, 3),
        ("not-a-capture.pcap", b"hello, world\n".to_vec(), 1),
    ];
    for (name, bytes, status) in cases {
        let path = write_file(dir.path(), name, &bytes);
        let out = run([path.as_os_str(), "-e".as_ref(), "frame.number".as_ref()]);
        assert_no_crash(&out, name);
        assert_eq!(out.status.code(), Some(status), "{name}: {}", stderr(&out));
        let err = stderr(&out);
        match status {
            0 => assert!(!err.contains("warning") && !err.contains("error"), "{err}"),
            // What is wrong, and where.
            _ => assert!(err.contains(name), "{name}: {err}"),
        }
    }
    // Missing input: an error; a bad option or an option that makes no sense: usage.
    let missing = dir.path().join("missing.pcap");
    assert_eq!(run([&missing]).status.code(), Some(1));
    assert_eq!(run(["--no-such-option"]).status.code(), Some(2));
    let e_json = run([
        demo_path().as_os_str(),
        "-e".as_ref(),
        "frame.number".as_ref(),
        "-f".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(e_json.status.code(), Some(2));
}

#[test]
fn help_documents_the_exit_statuses() {
    let help = ok(&run(["--help"]));
    let section = help
        .split("Exit status:")
        .nth(1)
        .expect("--help has an Exit status section");
    for status in ["0 ", "1 ", "2 ", "3 ", "130", "143", "129"] {
        assert!(section.contains(status), "no exit status {status}:\n{help}");
    }
}

// ---------------------------------------------------------------------------------------
// Signals

/// Files in `dir` named like a temporary output.
fn temporaries(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".pcapkit-"))
        .collect()
}

#[test]
fn a_signal_removes_the_temporary_output_and_exits_128_plus_its_number() {
    use std::io::Write;
    let records: Vec<PcapRecord> = (0..50)
        .map(|i| PcapRecord::new(1_700_000_000 + i, 0, eth_ipv4_udp(1, b"payload")))
        .collect();
    let pcap = pcap_file(1, &records);
    for (signal, status) in [("TERM", 143), ("INT", 130), ("HUP", 129)] {
        let dir = tempfile::tempdir().unwrap();
        let out_path = dir.path().join("out.json");
        std::fs::write(&out_path, b"previous content").unwrap();
        // Standard input stays open: the run waits for more packets until the signal.
        let mut child = pcapkit()
            .current_dir(dir.path())
            .args(["-", "-o", "out.json"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&pcap).unwrap();
        stdin.flush().unwrap();
        // The run is under way once its temporary output exists.
        let mut waited = 0;
        while temporaries(dir.path()).is_empty() {
            assert!(waited < 2000, "SIG{signal}: no temporary output appeared");
            std::thread::sleep(std::time::Duration::from_millis(10));
            waited += 1;
        }
        let killed = std::process::Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let out = child.wait_with_output().unwrap();
        drop(stdin);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(status), "SIG{signal}: {err}");
        assert!(!err.contains("panicked"), "SIG{signal}: {err}");
        assert!(
            temporaries(dir.path()).is_empty(),
            "SIG{signal}: a temporary output was left behind"
        );
        assert_eq!(
            std::fs::read(&out_path).unwrap(),
            b"previous content",
            "SIG{signal}: the existing output changed"
        );
    }
}

// ---------------------------------------------------------------------------------------
// An output that is the input

#[test]
fn an_output_that_is_the_input_is_refused_by_any_name() {
    let dir = tempfile::tempdir().unwrap();
    let demo = demo();
    let input = write_file(dir.path(), "s.pcap", &demo);
    std::os::unix::fs::symlink("s.pcap", dir.path().join("link.json")).unwrap();
    std::fs::hard_link(&input, dir.path().join("hard.json")).unwrap();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let cases: [&[&str]; 5] = [
        &["s.pcap", "-o", "s.pcap"],
        &["s.pcap", "-o", "./sub/../s.pcap"],
        &["s.pcap", "-o", "link.json"],
        &["s.pcap", "-o", "hard.json"],
        // The name with the extension appended is the input's.
        &["hard.json", "-o", "hard", "--extension"],
    ];
    for args in cases {
        let out = run_in(dir.path(), args);
        let what = args.join(" ");
        assert_no_crash(&out, &what);
        assert_eq!(out.status.code(), Some(1), "{what}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{what}: {err}");
        assert!(err.contains("is the input"), "{what}: {err}");
        assert_eq!(
            std::fs::read(&input).unwrap(),
            demo,
            "{what}: input changed"
        );
        assert!(temporaries(dir.path()).is_empty(), "{what}");
    }
    // Standard input redirected from the file.
    let out = pcapkit()
        .current_dir(dir.path())
        .args(["-", "-o", "s.pcap"])
        .stdin(std::fs::File::open(&input).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("is the input"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&input).unwrap(), demo);
    // A copy is another file: allowed.
    std::fs::copy(&input, dir.path().join("copy.json")).unwrap();
    let out = run_in(dir.path(), ["s.pcap", "-o", "copy.json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(&input).unwrap(), demo);
}
