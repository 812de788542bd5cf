//! Frame Relay (Q.922, RFC 2427): after the address (two bytes, or up to four), the third byte tells the
//! encapsulation, which the spec language cannot express (`specs/link/frelay.toml`). Read
//! as Wireshark reads LINKTYPE_FRELAY: control 0x03 starts RFC 2427's (a pad byte may
//! come before the NLPID; SNAP follows NLPID 0x80); otherwise a DLCI other than 0 carries
//! Cisco's EtherType. The payload's protocol is given as an EtherType either way.

use crate::protocols::frelay::Frelay;

/// Unnumbered information: RFC 2427's control byte.
const UI: u8 = 0x03;
/// NLPIDs (ISO/IEC TR 9577) that name a protocol by EtherType here.
const NLPID_SNAP: u8 = 0x80;
const NLPID_IPV4: u8 = 0xcc;
const NLPID_IPV6: u8 = 0x8e;
/// The pad byte some senders put before the NLPID to align what follows.
const PAD: u8 = 0x00;

/// Reads the address and the encapsulation; the header's length includes SNAP.
pub fn parse(input: &[u8]) -> Result<(Frelay, usize), String> {
    let [a0, a1, ..] = input else {
        return Err("frelay: frame ends inside the address".to_owned());
    };
    if a0 & 1 != 0 {
        return Err("frelay: address extension set on its first byte".to_owned());
    }
    // The address ends at the first byte with its extension bit set: two bytes, or three
    // or four (Q.922's longer DLCIs; `address` keeps the first two).
    let Some(end) = input[1..4.min(input.len())].iter().position(|b| b & 1 != 0) else {
        return Err("frelay: address longer than four bytes, or cut short".to_owned());
    };
    let addr_len = end + 2;
    let rest = &input[addr_len..];
    let mut fr = Frelay {
        address: u16::from_be_bytes([*a0, *a1]),
        ..Frelay::default()
    };
    let dlci = (u16::from(*a0) >> 2) << 4 | u16::from(*a1) >> 4;
    match rest {
        [UI, tail @ ..] => {
            fr.control = UI;
            let (pad, tail) = match tail {
                [PAD, tail @ ..] => (1, tail),
                _ => (0, tail),
            };
            let Some((&nlpid, after)) = tail.split_first() else {
                return Err("frelay: frame ends before the NLPID".to_owned());
            };
            fr.nlpid = nlpid;
            let header = addr_len + 1 + pad + 1;
            match nlpid {
                NLPID_IPV4 => fr.type_ = 0x0800,
                NLPID_IPV6 => fr.type_ = 0x86dd,
                NLPID_SNAP => {
                    let [o0, o1, o2, p0, p1, ..] = after else {
                        return Err("frelay: frame ends inside SNAP".to_owned());
                    };
                    if [*o0, *o1, *o2] == [0, 0, 0] {
                        fr.type_ = u16::from_be_bytes([*p0, *p1]);
                    }
                    return Ok((fr, header + 5));
                }
                _ => {}
            }
            Ok((fr, header))
        }
        [t0, t1, ..] if dlci != 0 => {
            fr.type_ = u16::from_be_bytes([*t0, *t1]);
            Ok((fr, addr_len + 2))
        }
        _ => Ok((fr, addr_len)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(hex: &[u8]) -> (u8, u8, u16, usize) {
        let (fr, len) = parse(hex).unwrap();
        (fr.control, fr.nlpid, fr.type_, len)
    }

    #[test]
    fn each_encapsulation() {
        // Cisco's, as tcpdump_OSPFv3_NBMA_adjacencies.pcap (DLCI 302, IPv6).
        assert_eq!(read(&[0x48, 0xe1, 0x86, 0xdd, 0x6e]), (0, 0, 0x86dd, 4));
        // RFC 2427: IPv4, IPv6, with a pad byte, SNAP, another NLPID.
        assert_eq!(read(&[0x48, 0xe1, 0x03, 0xcc, 0x45]), (3, 0xcc, 0x0800, 4));
        assert_eq!(read(&[0x48, 0xe1, 0x03, 0x8e, 0x60]), (3, 0x8e, 0x86dd, 4));
        assert_eq!(read(&[0x48, 0xe1, 0x03, 0x00, 0xcc]), (3, 0xcc, 0x0800, 5));
        assert_eq!(
            read(&[0x48, 0xe1, 0x03, 0x00, 0x80, 0, 0, 0, 0x08, 0x06]),
            (3, 0x80, 0x0806, 10)
        );
        assert_eq!(read(&[0x48, 0xe1, 0x03, 0x83, 0x1b]), (3, 0x83, 0, 4));
        // DLCI 0 without control 0x03: signalling, nothing after the address.
        assert_eq!(read(&[0x00, 0x01, 0x75, 0x95]), (0, 0, 0, 2));
        // A three-byte address, as tcpdump_vrrp-vrrp_print-oobr.pcap (tshark: fr:ip).
        assert_eq!(
            read(&[0x80, 0xea, 0x9d, 0x08, 0x00, 0x47]),
            (0, 0, 0x0800, 5)
        );
    }

    #[test]
    fn cut_short_or_not_frame_relay() {
        for bytes in [
            &[][..],
            &[0x48],
            &[0x48, 0xe1, 0x03],
            &[0x48, 0xe1, 0x03, 0x80, 0, 0],
            &[0x49, 0xe1, 0x08, 0x00],
            &[0x48, 0xe0, 0x08, 0x00, 0x00],
            &[0x48, 0xe0],
        ] {
            assert!(parse(bytes).is_err(), "{bytes:02x?}");
        }
    }
}
