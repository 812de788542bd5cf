//! IP over InfiniBand (`specs/link/ipoib.toml`): the 40-byte address block holds either a
//! Global Route Header (its first byte's IP version not 0) or, at its end, the
//! destination address; bytes 20 to 23 belong to one or the other. Read as Wireshark
//! reads LINKTYPE_IPOIB; RFC 4391's type and reserved words follow.

use crate::protocols::ipoib::Ipoib;
use crate::wire::Bytes;

/// The address block and the encapsulation header.
const HEADER: usize = 44;

/// Reads the whole 44-byte header.
pub fn parse(input: &[u8]) -> Result<(Ipoib, usize), String> {
    let Some(h) = input.get(..HEADER) else {
        return Err(format!(
            "ipoib: frame of {} bytes ends inside the {HEADER}-byte header",
            input.len()
        ));
    };
    let word = |at: usize| u32::from_be_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]);
    let gid = |at: usize| Bytes::from_slice(&h[at..at + 16]);
    let grh = word(0);
    let mut ib = Ipoib {
        grh,
        dgid: gid(24),
        type_: u16::from_be_bytes([h[40], h[41]]),
        reserved: u16::from_be_bytes([h[42], h[43]]),
        ..Ipoib::default()
    };
    if grh >> 28 != 0 {
        ib.sqpn = word(4) & 0x00ff_ffff;
        ib.sgid = gid(8);
    } else {
        ib.qpn = word(20) & 0x00ff_ffff;
    }
    Ok((ib, HEADER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::test_bytes as bytes;
    use std::net::Ipv6Addr;

    fn gid(text: &str) -> Bytes {
        Bytes::from_slice(&text.parse::<Ipv6Addr>().unwrap().octets())
    }

    #[test]
    fn a_destination_address_or_a_grh() {
        // tcpdump_ipoib.pcap frame 1; tshark 4.0: daddr.qpn 0x000550,
        // dgid fe80::10:e000:664a:b451, type 0x0800.
        let (ib, len) = parse(&bytes(
            "00000000000000000000000000000000 2fa3000a 80000550
             fe800000000000000010e000664ab451 0800 0000 4500",
        ))
        .unwrap();
        assert_eq!(len, 44);
        assert_eq!((ib.grh, ib.qpn, ib.type_), (0, 0x000550, 0x0800));
        assert_eq!(ib.dgid, gid("fe80::10:e000:664a:b451"));
        // Frame 7: a GRH; tshark: ipver 2, tclass 7, flowlabel 157027, sqpn 0x697665,
        // sgid 6420:6279:2066:696c:7465:7270:ff:ffff, dgid ff10:401b::ffff:ffff.
        let (ib, _) = parse(&bytes(
            "20726563 65697665 64206279206669 6c7465727000ffffff
             ff10401b00000000 00000000ffffffff 0806 0000",
        ))
        .unwrap();
        assert_eq!(
            (ib.grh >> 28, ib.grh >> 20 & 0xff, ib.grh & 0xf_ffff),
            (2, 7, 157027)
        );
        assert_eq!((ib.sqpn, ib.qpn, ib.type_), (0x697665, 0, 0x0806));
        assert_eq!(ib.sgid, gid("6420:6279:2066:696c:7465:7270:ff:ffff"));
        assert_eq!(ib.dgid, gid("ff10:401b::ffff:ffff"));
    }

    #[test]
    fn a_frame_shorter_than_the_header_is_an_error() {
        assert!(parse(&[0; 43]).is_err());
    }
}
