//! Linux netfilter NFLOG (`specs/link/nflog.toml`): the 4-byte header, then netlink
//! attributes (TLVs) walked up to the logged packet, NFULA_PAYLOAD. Each TLV is a length
//! (its 4-byte header included) and a type, both in the capturing machine's byte order,
//! then a value padded to 4 bytes; the values themselves are in network order. As
//! Wireshark, the TLV headers are read little-endian (the machines nflog runs on), and
//! big-endian only where little-endian cannot be right. The header's length given back
//! ends where the packet starts; `payload_len` is the packet's length, so the TLVs after
//! it (there rarely are any) are not taken for packet bytes.

use crate::protocols::nflog::Nflog;

const PACKET_HDR: u16 = 1;
const IFINDEX_INDEV: u16 = 4;
const IFINDEX_OUTDEV: u16 = 5;
const PAYLOAD: u16 = 9;
const PREFIX: u16 = 10;
const UID: u16 = 11;
const GID: u16 = 14;
/// The type's top bits are netlink flags (nested, network order).
const TYPE_MASK: u16 = 0x3fff;
/// Linux's address families.
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

/// Reads the header and the TLVs before the packet.
pub fn parse(input: &[u8]) -> Result<(Nflog, usize), String> {
    let [family, version, r0, r1, ..] = *input else {
        return Err("nflog: frame ends inside the header".to_owned());
    };
    let mut nf = Nflog {
        family,
        version,
        res_id: u16::from_be_bytes([r0, r1]),
        ..Nflog::default()
    };
    let mut at = 4;
    while at < input.len() {
        let Some(&[l0, l1, t0, t1]) = input.get(at..at + 4) else {
            return Err(format!("nflog: TLV at byte {at} cut short"));
        };
        let left = input.len() - at;
        let (len, kind) = match usize::from(u16::from_le_bytes([l0, l1])) {
            len if (4..=left).contains(&len) => (len, u16::from_le_bytes([t0, t1])),
            _ => match usize::from(u16::from_be_bytes([l0, l1])) {
                len if (4..=left).contains(&len) => (len, u16::from_be_bytes([t0, t1])),
                _ => return Err(format!("nflog: TLV at byte {at} has an impossible length")),
            },
        };
        let kind = kind & TYPE_MASK;
        let value = &input[at + 4..at + len];
        if kind < 32 {
            nf.tlv_types |= 1 << kind;
        }
        match kind {
            PACKET_HDR => {
                if let [p0, p1, hook, ..] = *value {
                    nf.protocol = u16::from_be_bytes([p0, p1]);
                    nf.hook = hook;
                }
            }
            IFINDEX_INDEV => nf.ifindex_indev = be_u32(value),
            IFINDEX_OUTDEV => nf.ifindex_outdev = be_u32(value),
            UID => nf.uid = be_u32(value) as i32,
            GID => nf.gid = be_u32(value) as i32,
            PREFIX => {
                // A C string: up to its terminating zero.
                let text = value.split(|&b| b == 0).next().unwrap_or_default();
                nf.prefix = String::from_utf8_lossy(text).into_owned();
            }
            PAYLOAD => {
                nf.payload_len = value.len() as u16;
                nf.type_ = match family {
                    AF_INET => 0x0800,
                    AF_INET6 => 0x86dd,
                    _ => 0,
                };
                return Ok((nf, at + 4));
            }
            _ => {}
        }
        // Values are padded to 4 bytes; the last TLV may end the frame unpadded.
        at = (at + len).next_multiple_of(4).min(input.len());
    }
    Ok((nf, input.len()))
}

fn be_u32(value: &[u8]) -> u32 {
    match *value {
        [a, b, c, d, ..] => u32::from_be_bytes([a, b, c, d]),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::test_bytes as bytes;

    /// Frame 1 of tcpdump's nflog.pcap, up to the start of the logged IPv4 packet.
    const TCPDUMP_NFLOG_1: &str = concat!(
        "02000014", // IPv4, version 0, group 20
        "08000100",
        "08000100", // PACKET_HDR: 0x0800, hook 1
        "05000a00",
        "00000000", // PREFIX: "" (padded)
        "08000400",
        "00000002", // IFINDEX_INDEV: 2
        "10000800",
        "0006ffffb8a386b9c3d60000", // HWADDR
        "9c000900",                 // PAYLOAD, 152 bytes
    );

    #[test]
    fn reads_up_to_the_packet_as_tshark() {
        let mut frame = bytes(TCPDUMP_NFLOG_1);
        let header = frame.len();
        frame.extend([0x45; 152]);
        let (nf, len) = parse(&frame).unwrap();
        // tshark 4.0: nflog.family 2, res_id 20, protocol 0x0800, hook 1, prefix "",
        // ifindex_indev 2; then ip.
        assert_eq!(len, header);
        assert_eq!((nf.family, nf.version, nf.res_id), (2, 0, 20));
        assert_eq!((nf.protocol, nf.hook, nf.ifindex_indev), (0x0800, 1, 2));
        assert_eq!(nf.prefix, "");
        assert_eq!((nf.payload_len, nf.type_), (152, 0x0800));
        let present = [1, 4, 8, 9, 10].iter().fold(0, |m, t| m | 1 << t);
        assert_eq!(nf.tlv_types, present);
    }

    #[test]
    fn big_endian_tlv_headers_are_read_when_little_endian_cannot_be_right() {
        let frame = bytes("0a0000010008000b000003e8000600090000");
        let (nf, len) = parse(&frame).unwrap();
        assert_eq!((nf.uid, nf.payload_len, nf.type_), (1000, 2, 0x86dd));
        assert_eq!(len, 16);
    }

    #[test]
    fn damaged_tlvs_are_errors() {
        for hex in [
            "020000",               // header cut short
            "0200000008000100",     // TLV claims 8 bytes, 4 are there
            "02000000030001000000", // a length under 4
            "020000000800",         // TLV header cut short
        ] {
            assert!(parse(&bytes(hex)).is_err(), "{hex}");
        }
    }
}
