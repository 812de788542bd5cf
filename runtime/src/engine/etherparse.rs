//! The etherparse engine (PyPCAPKit's `dpkt`): each frame decoded by the etherparse
//! crate's `LaxSlicedPacket` (which keeps what it could read of a cut frame), its layers
//! mapped to ours: Ethernet II or Linux cooked capture, VLAN tags, IPv4 or IPv6 (with
//! the IPv6 extension headers and IPv4's AH) or ARP, then ICMP, ICMPv6, IGMP, TCP or UDP.
//! It stops there: nothing above the transport is decoded, and its payload is `Raw`.

use etherparse::{
    Ipv6ExtensionSlice, LaxLinkExtSlice, LaxNetSlice, LaxSlicedPacket, LinkSlice, SlicedPacket,
    TransportSlice,
};

use super::foreign::{ipv4_or_bytes, mac_or_bytes, offset_in, Decoder, ForeignLayer, ForeignValue};
use crate::protocols::ProtocolId;

use ForeignValue::{Bool, Uint};

/// Decodes with etherparse.
pub(crate) struct Etherparse;

impl Decoder for Etherparse {
    const NAME: &'static str = "etherparse";
    const FIELDS: &'static [&'static str] = &[
        "ethernet.dst",
        "ethernet.src",
        "ethernet.type",
        "sll.hatype",
        "sll.halen",
        "sll.addr",
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
        "ipv4.df",
        "ipv4.mf",
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
        "ipv6_frag.next_header",
        "ipv6_frag.frag_offset",
        "ipv6_frag.mf",
        "ipv6_frag.id",
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
        "tcp.ns",
        "tcp.cwr",
        "tcp.ece",
        "tcp.urg",
        "tcp.ack_flag",
        "tcp.psh",
        "tcp.rst",
        "tcp.syn",
        "tcp.fin",
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
            Ethernet
                | Sll
                | Rawip
                | Vlan
                | Ieee8021ad
                | Ipv4
                | Ipv6
                | Ipv6Hopopt
                | Ipv6Route
                | Ipv6Frag
                | Ipv6Opts
                | Ah
                | Arp
                | Icmp
                | Icmpv6
                | Tcp
                | Udp
        )
    }

    fn decode(
        &mut self,
        data: &[u8],
        linktype: u32,
        out: &mut Vec<ForeignLayer>,
        notes: &mut Vec<String>,
    ) -> Result<(), ()> {
        let packet = match linktype {
            // LINKTYPE_ETHERNET
            1 => match LaxSlicedPacket::from_ethernet(data) {
                Ok(p) => p,
                Err(e) => {
                    notes.push(format!("etherparse: {e}"));
                    out.push(ForeignLayer::new("Raw", None, 0, data.len()));
                    return Ok(());
                }
            },
            // LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6
            101 | 228 | 229 => match LaxSlicedPacket::from_ip(data) {
                Ok(p) => {
                    // Our chain names the link type's (empty) layer.
                    out.push(ForeignLayer::new("RawIP", Some(ProtocolId::Rawip), 0, 0));
                    p
                }
                Err(e) => {
                    notes.push(format!("etherparse: {e}"));
                    out.push(ForeignLayer::new("Raw", None, 0, data.len()));
                    return Ok(());
                }
            },
            // LINKTYPE_LINUX_SLL: only the strict slicer reads it.
            113 => {
                return match SlicedPacket::from_linux_sll(data) {
                    Ok(p) => {
                        sll(data, &p, out);
                        Ok(())
                    }
                    Err(e) => {
                        notes.push(format!("etherparse: {e}"));
                        out.push(ForeignLayer::new("Raw", None, 0, data.len()));
                        Ok(())
                    }
                };
            }
            _ => return Err(()),
        };
        if let Some((e, _)) = &packet.stop_err {
            notes.push(format!("etherparse: {e}"));
        }
        if let Some(LinkSlice::Ethernet2(eth)) = &packet.link {
            let mut l = ForeignLayer::new("Ethernet", Some(ProtocolId::Ethernet), 0, 14);
            l.add("dst", ForeignValue::Mac(eth.destination()))
                .add("src", ForeignValue::Mac(eth.source()))
                .add("type", Uint(eth.ether_type().0.into()));
            out.push(l);
        }
        // The TPID before each tag tells an 802.1ad service tag from a VLAN tag.
        let mut tpid = match &packet.link {
            Some(LinkSlice::Ethernet2(eth)) => eth.ether_type().0,
            _ => 0,
        };
        for ext in &packet.link_exts {
            match ext {
                LaxLinkExtSlice::Vlan(v) => {
                    let at = offset_in(data, v.slice());
                    let (name, p) = if tpid == 0x88a8 {
                        ("802.1ad", ProtocolId::Ieee8021ad)
                    } else {
                        ("VLAN", ProtocolId::Vlan)
                    };
                    tpid = v.ether_type().0;
                    let mut l = ForeignLayer::new(name, Some(p), at, 4);
                    l.add("pcp", Uint(v.priority_code_point().value().into()))
                        .add("dei", Bool(v.drop_eligible_indicator()))
                        .add("vid", Uint(v.vlan_identifier().value().into()))
                        .add("type", Uint(v.ether_type().0.into()));
                    out.push(l);
                }
                LaxLinkExtSlice::Macsec(m) => {
                    let at = offset_in(data, m.header.slice());
                    out.push(ForeignLayer::new(
                        "MACsec",
                        None,
                        at,
                        m.header.slice().len(),
                    ));
                }
            }
        }
        match &packet.net {
            Some(LaxNetSlice::Ipv4(ip)) => {
                let h = ip.header();
                let at = offset_in(data, h.slice());
                let mut l = ForeignLayer::new("IPv4", Some(ProtocolId::Ipv4), at, h.slice().len());
                l.add("version", Uint(h.version().into()))
                    .add("ihl", Uint(h.ihl().into()))
                    .add("dscp", Uint(h.dcp().value().into()))
                    .add("ecn", Uint(h.ecn().value().into()))
                    .add("len", Uint(h.total_len().into()))
                    .add("id", Uint(h.identification().into()))
                    .add("df", Bool(h.dont_fragment()))
                    .add("mf", Bool(h.more_fragments()))
                    .add("frag_offset", Uint(h.fragments_offset().value().into()))
                    .add("ttl", Uint(h.ttl().into()))
                    .add("protocol", Uint(h.protocol().0.into()))
                    .add("checksum", Uint(h.header_checksum().into()))
                    .add("src", ForeignValue::Ipv4(h.source_addr()))
                    .add("dst", ForeignValue::Ipv4(h.destination_addr()));
                out.push(l);
                if let Some(ah) = ip.extensions().auth {
                    let at = offset_in(data, ah.slice());
                    out.push(ForeignLayer::new(
                        "AH",
                        Some(ProtocolId::Ah),
                        at,
                        ah.slice().len(),
                    ));
                }
            }
            Some(LaxNetSlice::Ipv6(ip)) => {
                let h = ip.header();
                let at = offset_in(data, h.slice());
                let mut l = ForeignLayer::new("IPv6", Some(ProtocolId::Ipv6), at, 40);
                l.add("version", Uint(h.version().into()))
                    .add("traffic_class", Uint(h.traffic_class().into()))
                    .add("flow_label", Uint(h.flow_label().value().into()))
                    .add("payload_len", Uint(h.payload_length().into()))
                    .add("next_header", Uint(h.next_header().0.into()))
                    .add("hop_limit", Uint(h.hop_limit().into()))
                    .add("src", ForeignValue::Ipv6(h.source_addr()))
                    .add("dst", ForeignValue::Ipv6(h.destination_addr()));
                out.push(l);
                for ext in ip.extensions().clone() {
                    let (name, protocol, slice) = match &ext {
                        Ipv6ExtensionSlice::HopByHop(s) => {
                            ("HOPOPT", ProtocolId::Ipv6Hopopt, s.slice())
                        }
                        Ipv6ExtensionSlice::Routing(s) => {
                            ("IPv6-Route", ProtocolId::Ipv6Route, s.slice())
                        }
                        Ipv6ExtensionSlice::Fragment(s) => {
                            ("IPv6-Frag", ProtocolId::Ipv6Frag, s.slice())
                        }
                        Ipv6ExtensionSlice::DestinationOptions(s) => {
                            ("IPv6-Opts", ProtocolId::Ipv6Opts, s.slice())
                        }
                        Ipv6ExtensionSlice::Authentication(s) => ("AH", ProtocolId::Ah, s.slice()),
                    };
                    let mut l = ForeignLayer::new(
                        name,
                        Some(protocol),
                        offset_in(data, slice),
                        slice.len(),
                    );
                    if let Ipv6ExtensionSlice::Fragment(f) = &ext {
                        l.add("next_header", Uint(f.next_header().0.into()))
                            .add("frag_offset", Uint(f.fragment_offset().value().into()))
                            .add("mf", Bool(f.more_fragments()))
                            .add("id", Uint(f.identification().into()));
                    }
                    out.push(l);
                }
            }
            Some(LaxNetSlice::Arp(arp)) => {
                let at = offset_in(data, arp.slice());
                let mut l = ForeignLayer::new("ARP", Some(ProtocolId::Arp), at, arp.slice().len());
                l.add("htype", Uint(arp.hw_addr_type().0.into()))
                    .add("ptype", Uint(arp.proto_addr_type().0.into()))
                    .add("hlen", Uint(arp.hw_addr_size().into()))
                    .add("plen", Uint(arp.proto_addr_size().into()))
                    .add("oper", Uint(arp.operation().0.into()))
                    .add("sha", mac_or_bytes(arp.sender_hw_addr()))
                    .add("spa", ipv4_or_bytes(arp.sender_protocol_addr()))
                    .add("tha", mac_or_bytes(arp.target_hw_addr()))
                    .add("tpa", ipv4_or_bytes(arp.target_protocol_addr()));
                out.push(l);
            }
            None => {}
        }
        transport(data, packet.transport.as_ref(), out);
        let payload = match (&packet.transport, &packet.net) {
            (Some(t), _) => transport_payload(t),
            (None, Some(LaxNetSlice::Ipv4(ip))) => Some(ip.payload().payload),
            (None, Some(LaxNetSlice::Ipv6(ip))) => Some(ip.payload().payload),
            (None, Some(LaxNetSlice::Arp(_))) => None,
            (None, None) => packet.ether_payload().map(|p| p.payload),
        };
        rest(data, payload, out);
        Ok(())
    }
}

/// A Linux cooked capture frame, from the strict slicer.
fn sll(data: &[u8], p: &SlicedPacket<'_>, out: &mut Vec<ForeignLayer>) {
    if let Some(LinkSlice::LinuxSll(s)) = &p.link {
        let mut l = ForeignLayer::new("SLL", Some(ProtocolId::Sll), 0, 16);
        l.add("hatype", Uint(s.arp_hardware_type().0.into()))
            .add("halen", Uint(s.sender_address_valid_length().into()))
            .add("addr", ForeignValue::Bytes(s.sender_address().to_vec()));
        out.push(l);
    }
    match &p.net {
        Some(etherparse::NetSlice::Ipv4(ip)) => {
            let h = ip.header();
            let mut l = ForeignLayer::new(
                "IPv4",
                Some(ProtocolId::Ipv4),
                offset_in(data, h.slice()),
                h.slice().len(),
            );
            l.add("ttl", Uint(h.ttl().into()))
                .add("protocol", Uint(h.protocol().0.into()))
                .add("src", ForeignValue::Ipv4(h.source_addr()))
                .add("dst", ForeignValue::Ipv4(h.destination_addr()));
            out.push(l);
        }
        Some(etherparse::NetSlice::Ipv6(ip)) => {
            let h = ip.header();
            let mut l = ForeignLayer::new(
                "IPv6",
                Some(ProtocolId::Ipv6),
                offset_in(data, h.slice()),
                40,
            );
            l.add("next_header", Uint(h.next_header().0.into()))
                .add("hop_limit", Uint(h.hop_limit().into()))
                .add("src", ForeignValue::Ipv6(h.source_addr()))
                .add("dst", ForeignValue::Ipv6(h.destination_addr()));
            out.push(l);
        }
        Some(etherparse::NetSlice::Arp(arp)) => {
            out.push(ForeignLayer::new(
                "ARP",
                Some(ProtocolId::Arp),
                offset_in(data, arp.slice()),
                arp.slice().len(),
            ));
        }
        None => {}
    }
    transport(data, p.transport.as_ref(), out);
    let payload = match (&p.transport, &p.net) {
        (Some(t), _) => transport_payload(t),
        (None, Some(etherparse::NetSlice::Ipv4(ip))) => Some(ip.payload().payload),
        (None, Some(etherparse::NetSlice::Ipv6(ip))) => Some(ip.payload().payload),
        _ => None,
    };
    rest(data, payload, out);
}

/// What a transport header carries (IGMP: nothing we show).
fn transport_payload<'a>(t: &TransportSlice<'a>) -> Option<&'a [u8]> {
    match t {
        TransportSlice::Tcp(t) => Some(t.payload()),
        TransportSlice::Udp(u) => Some(u.payload()),
        TransportSlice::Icmpv4(i) => Some(i.payload()),
        TransportSlice::Icmpv6(i) => Some(i.payload()),
        TransportSlice::Igmp(_) => None,
    }
}

/// The transport layer's header and fields.
fn transport(data: &[u8], t: Option<&TransportSlice<'_>>, out: &mut Vec<ForeignLayer>) {
    let l = match t {
        Some(TransportSlice::Tcp(t)) => {
            let mut l = ForeignLayer::new(
                "TCP",
                Some(ProtocolId::Tcp),
                offset_in(data, t.slice()),
                t.header_slice().len(),
            );
            l.add("srcport", Uint(t.source_port().into()))
                .add("dstport", Uint(t.destination_port().into()))
                .add("seq", Uint(t.sequence_number().into()))
                .add("ack", Uint(t.acknowledgment_number().into()))
                .add("doff", Uint(t.data_offset().into()))
                .add("ns", Bool(t.ns()))
                .add("cwr", Bool(t.cwr()))
                .add("ece", Bool(t.ece()))
                .add("urg", Bool(t.urg()))
                .add("ack_flag", Bool(t.ack()))
                .add("psh", Bool(t.psh()))
                .add("rst", Bool(t.rst()))
                .add("syn", Bool(t.syn()))
                .add("fin", Bool(t.fin()))
                .add("window", Uint(t.window_size().into()))
                .add("checksum", Uint(t.checksum().into()))
                .add("urgent_ptr", Uint(t.urgent_pointer().into()));
            l
        }
        Some(TransportSlice::Udp(u)) => {
            let mut l =
                ForeignLayer::new("UDP", Some(ProtocolId::Udp), offset_in(data, u.slice()), 8);
            l.add("srcport", Uint(u.source_port().into()))
                .add("dstport", Uint(u.destination_port().into()))
                .add("len", Uint(u.length().into()))
                .add("checksum", Uint(u.checksum().into()));
            l
        }
        Some(TransportSlice::Icmpv4(i)) => icmp(
            data,
            "ICMP",
            ProtocolId::Icmp,
            i.slice(),
            i.header_len(),
            i.type_u8(),
            i.code_u8(),
            i.checksum(),
        ),
        Some(TransportSlice::Icmpv6(i)) => icmp(
            data,
            "ICMPv6",
            ProtocolId::Icmpv6,
            i.slice(),
            i.header_len(),
            i.type_u8(),
            i.code_u8(),
            i.checksum(),
        ),
        Some(TransportSlice::Igmp(i)) => {
            ForeignLayer::new("IGMP", None, offset_in(data, i.slice()), i.header_len())
        }
        None => return,
    };
    out.push(l);
}

#[allow(clippy::too_many_arguments)]
fn icmp(
    data: &[u8],
    name: &'static str,
    p: ProtocolId,
    slice: &[u8],
    len: usize,
    ty: u8,
    code: u8,
    checksum: u16,
) -> ForeignLayer {
    let mut l = ForeignLayer::new(name, Some(p), offset_in(data, slice), len);
    l.add("type", Uint(ty.into()))
        .add("code", Uint(code.into()))
        .add("checksum", Uint(checksum.into()));
    l
}

/// A `Raw` layer for the payload of the last header (not the Ethernet padding after
/// it: the IP length bounds it), if there is one.
fn rest(data: &[u8], payload: Option<&[u8]>, out: &mut Vec<ForeignLayer>) {
    if let Some(p) = payload.filter(|p| !p.is_empty()) {
        out.push(ForeignLayer::new("Raw", None, offset_in(data, p), p.len()));
    }
}
