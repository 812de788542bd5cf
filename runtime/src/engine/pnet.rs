//! The pnet engine (PyPCAPKit's `scapy`): each frame walked with the `pnet_packet`
//! crate's packet views, as a pnet user would: Ethernet II or Linux cooked capture, VLAN
//! tags, IPv4, IPv6 or ARP, then ICMP, ICMPv6, TCP or UDP. pnet's views do not follow
//! IPv6 extension headers, nor IPv4 fragments past the first: their payload is `Raw`.
//! A view is only made over bytes that hold its fixed header (`new` checks that), and the
//! lengths it reports are checked against the bytes before a payload is taken, so a cut
//! or lying frame stops the walk with a note rather than a panic.

use pnet_packet::arp::ArpPacket;
use pnet_packet::ethernet::EthernetPacket;
use pnet_packet::icmp::IcmpPacket;
use pnet_packet::icmpv6::Icmpv6Packet;
use pnet_packet::ipv4::Ipv4Packet;
use pnet_packet::ipv6::Ipv6Packet;
use pnet_packet::sll::SLLPacket;
use pnet_packet::tcp::TcpPacket;
use pnet_packet::udp::UdpPacket;
use pnet_packet::vlan::VlanPacket;

use super::foreign::{offset_in, Decoder, ForeignLayer, ForeignValue};
use crate::protocols::ProtocolId;

use ForeignValue::{Bool, Uint};

/// VLAN tags followed, at most (as our VLAN chain would, well past real stacks).
const MAX_TAGS: usize = 8;

/// Decodes with pnet_packet.
pub(crate) struct Pnet;

/// What comes next in the walk.
enum Next<'a> {
    Ether(u16, &'a [u8]),
    Ip(u8, &'a [u8]),
    Done(Option<&'a [u8]>),
}

impl Decoder for Pnet {
    const NAME: &'static str = "pnet";
    const FIELDS: &'static [&'static str] = &[
        "ethernet.dst",
        "ethernet.src",
        "ethernet.type",
        "sll.pkttype",
        "sll.hatype",
        "sll.halen",
        "sll.protocol",
        "vlan.pcp",
        "vlan.dei",
        "vlan.vid",
        "vlan.type",
        "ieee8021ad.pcp",
        "ieee8021ad.dei",
        "ieee8021ad.vid",
        "ieee8021ad.type",
        "ipv4.version",
        "ipv4.ihl",
        "ipv4.dscp",
        "ipv4.ecn",
        "ipv4.len",
        "ipv4.id",
        "ipv4.flags",
        "ipv4.frag_offset",
        "ipv4.ttl",
        "ipv4.protocol",
        "ipv4.checksum",
        "ipv4.src",
        "ipv4.dst",
        "ipv6.version",
        "ipv6.traffic_class",
        "ipv6.flow_label",
        "ipv6.payload_len",
        "ipv6.next_header",
        "ipv6.hop_limit",
        "ipv6.src",
        "ipv6.dst",
        "arp.htype",
        "arp.ptype",
        "arp.hlen",
        "arp.plen",
        "arp.oper",
        "arp.sha",
        "arp.spa",
        "arp.tha",
        "arp.tpa",
        "tcp.srcport",
        "tcp.dstport",
        "tcp.seq",
        "tcp.ack",
        "tcp.doff",
        "tcp.flags",
        "tcp.window",
        "tcp.checksum",
        "tcp.urgent_ptr",
        "udp.srcport",
        "udp.dstport",
        "udp.len",
        "udp.checksum",
        "icmp.type",
        "icmp.code",
        "icmp.checksum",
        "icmpv6.type",
        "icmpv6.code",
        "icmpv6.checksum",
    ];

    fn knows(protocol: ProtocolId) -> bool {
        use ProtocolId::*;
        matches!(
            protocol,
            Ethernet | Sll | Vlan | Ieee8021ad | Ipv4 | Ipv6 | Arp | Icmp | Icmpv6 | Tcp | Udp
        )
    }

    fn decode(
        &mut self,
        data: &[u8],
        linktype: u32,
        out: &mut Vec<ForeignLayer>,
        notes: &mut Vec<String>,
    ) -> Result<(), ()> {
        let mut next = match linktype {
            1 => match EthernetPacket::new(data) {
                Some(eth) => {
                    let mut l = ForeignLayer::new("Ethernet", Some(ProtocolId::Ethernet), 0, 14);
                    l.add("dst", ForeignValue::Mac(eth.get_destination().octets()))
                        .add("src", ForeignValue::Mac(eth.get_source().octets()))
                        .add("type", Uint(eth.get_ethertype().0.into()));
                    out.push(l);
                    Next::Ether(eth.get_ethertype().0, &data[14..])
                }
                None => cut(notes, "Ethernet", data),
            },
            113 => match SLLPacket::new(data) {
                Some(sll) => {
                    let mut l = ForeignLayer::new("SLL", Some(ProtocolId::Sll), 0, 16);
                    l.add("pkttype", Uint(sll.get_packet_type().into()))
                        .add("hatype", Uint(sll.get_link_layer_address_type().into()))
                        .add("halen", Uint(sll.get_link_layer_address_len().into()))
                        .add("protocol", Uint(sll.get_protocol().0.into()));
                    out.push(l);
                    Next::Ether(sll.get_protocol().0, &data[16..])
                }
                None => cut(notes, "SLL", data),
            },
            101 | 228 | 229 => match data.first().map(|b| b >> 4) {
                Some(4) => Next::Ether(0x0800, data),
                Some(6) => Next::Ether(0x86dd, data),
                _ => Next::Done(Some(data)),
            },
            _ => return Err(()),
        };
        let mut tags = 0;
        loop {
            next = match next {
                Next::Ether(tpid @ (0x8100 | 0x88a8), bytes) if tags < MAX_TAGS => {
                    tags += 1;
                    // 0x88a8 introduces an 802.1ad service tag, as our chain names it.
                    let (name, p) = if tpid == 0x88a8 {
                        ("802.1ad", ProtocolId::Ieee8021ad)
                    } else {
                        ("VLAN", ProtocolId::Vlan)
                    };
                    match VlanPacket::new(bytes) {
                        Some(v) => {
                            let mut l = ForeignLayer::new(name, Some(p), offset_in(data, bytes), 4);
                            l.add("pcp", Uint(v.get_priority_code_point().0.into()))
                                .add("dei", Bool(v.get_drop_eligible_indicator() == 1))
                                .add("vid", Uint(v.get_vlan_identifier().into()))
                                .add("type", Uint(v.get_ethertype().0.into()));
                            out.push(l);
                            Next::Ether(v.get_ethertype().0, &bytes[4..])
                        }
                        None => cut(notes, "VLAN", bytes),
                    }
                }
                Next::Ether(0x0800, bytes) => ipv4(data, bytes, out, notes),
                Next::Ether(0x86dd, bytes) => match Ipv6Packet::new(bytes) {
                    Some(ip) => {
                        let mut l = ForeignLayer::new(
                            "IPv6",
                            Some(ProtocolId::Ipv6),
                            offset_in(data, bytes),
                            40,
                        );
                        l.add("version", Uint(ip.get_version().into()))
                            .add("traffic_class", Uint(ip.get_traffic_class().into()))
                            .add("flow_label", Uint(ip.get_flow_label().into()))
                            .add("payload_len", Uint(ip.get_payload_length().into()))
                            .add("next_header", Uint(ip.get_next_header().0.into()))
                            .add("hop_limit", Uint(ip.get_hop_limit().into()))
                            .add("src", ForeignValue::Ipv6(ip.get_source()))
                            .add("dst", ForeignValue::Ipv6(ip.get_destination()));
                        out.push(l);
                        let end = (40 + usize::from(ip.get_payload_length())).min(bytes.len());
                        Next::Ip(ip.get_next_header().0, &bytes[40..end])
                    }
                    None => cut(notes, "IPv6", bytes),
                },
                Next::Ether(0x0806, bytes) => match ArpPacket::new(bytes) {
                    Some(arp) => {
                        let mut l = ForeignLayer::new(
                            "ARP",
                            Some(ProtocolId::Arp),
                            offset_in(data, bytes),
                            28,
                        );
                        l.add("htype", Uint(arp.get_hardware_type().0.into()))
                            .add("ptype", Uint(arp.get_protocol_type().0.into()))
                            .add("hlen", Uint(arp.get_hw_addr_len().into()))
                            .add("plen", Uint(arp.get_proto_addr_len().into()))
                            .add("oper", Uint(arp.get_operation().0.into()))
                            .add("sha", ForeignValue::Mac(arp.get_sender_hw_addr().octets()))
                            .add("spa", ForeignValue::Ipv4(arp.get_sender_proto_addr()))
                            .add("tha", ForeignValue::Mac(arp.get_target_hw_addr().octets()))
                            .add("tpa", ForeignValue::Ipv4(arp.get_target_proto_addr()));
                        out.push(l);
                        Next::Done(None)
                    }
                    None => cut(notes, "ARP", bytes),
                },
                Next::Ether(_, bytes) => Next::Done(Some(bytes)),
                Next::Ip(6, bytes) => match TcpPacket::new(bytes) {
                    Some(t) => {
                        let len = usize::from(t.get_data_offset()) * 4;
                        if len < 20 || len > bytes.len() {
                            notes.push(format!("pnet: TCP data offset {len} does not fit"));
                            let mut l = ForeignLayer::new(
                                "TCP",
                                Some(ProtocolId::Tcp),
                                offset_in(data, bytes),
                                bytes.len(),
                            );
                            tcp_fields(&mut l, &t);
                            out.push(l);
                            Next::Done(None)
                        } else {
                            let mut l = ForeignLayer::new(
                                "TCP",
                                Some(ProtocolId::Tcp),
                                offset_in(data, bytes),
                                len,
                            );
                            tcp_fields(&mut l, &t);
                            out.push(l);
                            Next::Done(Some(&bytes[len..]))
                        }
                    }
                    None => cut(notes, "TCP", bytes),
                },
                Next::Ip(17, bytes) => match UdpPacket::new(bytes) {
                    Some(u) => {
                        let mut l = ForeignLayer::new(
                            "UDP",
                            Some(ProtocolId::Udp),
                            offset_in(data, bytes),
                            8,
                        );
                        l.add("srcport", Uint(u.get_source().into()))
                            .add("dstport", Uint(u.get_destination().into()))
                            .add("len", Uint(u.get_length().into()))
                            .add("checksum", Uint(u.get_checksum().into()));
                        out.push(l);
                        let end = usize::from(u.get_length()).clamp(8, bytes.len());
                        Next::Done(Some(&bytes[8..end]))
                    }
                    None => cut(notes, "UDP", bytes),
                },
                Next::Ip(1, bytes) => match IcmpPacket::new(bytes) {
                    Some(i) => {
                        let mut l = ForeignLayer::new(
                            "ICMP",
                            Some(ProtocolId::Icmp),
                            offset_in(data, bytes),
                            4,
                        );
                        l.add("type", Uint(i.get_icmp_type().0.into()))
                            .add("code", Uint(i.get_icmp_code().0.into()))
                            .add("checksum", Uint(i.get_checksum().into()));
                        out.push(l);
                        Next::Done(Some(&bytes[4..]))
                    }
                    None => cut(notes, "ICMP", bytes),
                },
                Next::Ip(58, bytes) => match Icmpv6Packet::new(bytes) {
                    Some(i) => {
                        let mut l = ForeignLayer::new(
                            "ICMPv6",
                            Some(ProtocolId::Icmpv6),
                            offset_in(data, bytes),
                            4,
                        );
                        l.add("type", Uint(i.get_icmpv6_type().0.into()))
                            .add("code", Uint(i.get_icmpv6_code().0.into()))
                            .add("checksum", Uint(i.get_checksum().into()));
                        out.push(l);
                        Next::Done(Some(&bytes[4..]))
                    }
                    None => cut(notes, "ICMPv6", bytes),
                },
                Next::Ip(_, bytes) => Next::Done(Some(bytes)),
                Next::Done(rest) => {
                    if let Some(p) = rest.filter(|p| !p.is_empty()) {
                        out.push(ForeignLayer::new("Raw", None, offset_in(data, p), p.len()));
                    }
                    return Ok(());
                }
            };
        }
    }
}

/// An IPv4 header; its payload as far as its total length says and the bytes hold; a
/// fragment past the first is not decoded further.
fn ipv4<'a>(
    data: &'a [u8],
    bytes: &'a [u8],
    out: &mut Vec<ForeignLayer>,
    notes: &mut Vec<String>,
) -> Next<'a> {
    let Some(ip) = Ipv4Packet::new(bytes) else {
        return cut(notes, "IPv4", bytes);
    };
    let ihl = usize::from(ip.get_header_length()) * 4;
    let mut l = ForeignLayer::new(
        "IPv4",
        Some(ProtocolId::Ipv4),
        offset_in(data, bytes),
        ihl.clamp(20, bytes.len()),
    );
    l.add("version", Uint(ip.get_version().into()))
        .add("ihl", Uint(ip.get_header_length().into()))
        .add("dscp", Uint(ip.get_dscp().into()))
        .add("ecn", Uint(ip.get_ecn().into()))
        .add("len", Uint(ip.get_total_length().into()))
        .add("id", Uint(ip.get_identification().into()))
        .add("flags", Uint(ip.get_flags().into()))
        .add("frag_offset", Uint(ip.get_fragment_offset().into()))
        .add("ttl", Uint(ip.get_ttl().into()))
        .add("protocol", Uint(ip.get_next_level_protocol().0.into()))
        .add("checksum", Uint(ip.get_checksum().into()))
        .add("src", ForeignValue::Ipv4(ip.get_source()))
        .add("dst", ForeignValue::Ipv4(ip.get_destination()));
    out.push(l);
    if ihl < 20 || ihl > bytes.len() {
        notes.push(format!("pnet: IPv4 header length {ihl} does not fit"));
        return Next::Done(None);
    }
    let end = usize::from(ip.get_total_length()).clamp(ihl, bytes.len());
    let payload = &bytes[ihl..end];
    if ip.get_fragment_offset() != 0 {
        return Next::Done(Some(payload));
    }
    Next::Ip(ip.get_next_level_protocol().0, payload)
}

fn tcp_fields(l: &mut ForeignLayer, t: &TcpPacket<'_>) {
    let flags = t.get_flags();
    l.add("srcport", Uint(t.get_source().into()))
        .add("dstport", Uint(t.get_destination().into()))
        .add("seq", Uint(t.get_sequence().into()))
        .add("ack", Uint(t.get_acknowledgement().into()))
        .add("doff", Uint(t.get_data_offset().into()))
        .add("flags", Uint(flags.into()))
        .add("window", Uint(t.get_window().into()))
        .add("checksum", Uint(t.get_checksum().into()))
        .add("urgent_ptr", Uint(t.get_urgent_ptr().into()));
}

/// Too few bytes for `what`'s view: a note, and the bytes left `Raw`.
fn cut<'a>(notes: &mut Vec<String>, what: &str, bytes: &'a [u8]) -> Next<'a> {
    notes.push(format!("pnet: too few bytes for {what} ({})", bytes.len()));
    Next::Done(Some(bytes))
}
