//! PPP (RFC 1661): the frame's own first bytes say which fields it has, which the spec
//! language cannot express (`specs/link/ppp.toml`). Read as Wireshark reads them:
//! address and control (RFC 1662) when the first byte is 0xff, else they were left out
//! (Address-and-Control-Field-Compression, RFC 1661 §6.6); then the protocol, one byte
//! when that byte is odd (Protocol-Field-Compression, §6.5), else two.

use crate::protocols::ppp::Ppp;

/// Address value of HDLC-like framing: all stations.
const ALL_STATIONS: u8 = 0xff;

/// Reads the address and control (if present) and the protocol (one or two bytes).
pub fn parse(input: &[u8]) -> Result<(Ppp, usize), String> {
    let mut ppp = Ppp::default();
    let rest = match input {
        [ALL_STATIONS, control, rest @ ..] => {
            ppp.address = ALL_STATIONS;
            ppp.control = *control;
            rest
        }
        [ALL_STATIONS] => return Err("ppp: frame ends before the control field".to_owned()),
        _ => input,
    };
    let header = input.len() - rest.len();
    match rest {
        [first, ..] if first & 1 == 1 => {
            ppp.protocol = u16::from(*first);
            Ok((ppp, header + 1))
        }
        [first, second, ..] => {
            ppp.protocol = u16::from_be_bytes([*first, *second]);
            Ok((ppp, header + 2))
        }
        _ => Err("ppp: frame ends inside the protocol".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> (u8, u8, u16, usize) {
        let (p, len) = parse(bytes).unwrap();
        (p.address, p.control, p.protocol, len)
    }

    #[test]
    fn every_compression() {
        assert_eq!(read(&[0xff, 0x03, 0x00, 0x21, 0x45]), (0xff, 0x03, 0x21, 4));
        assert_eq!(read(&[0xff, 0x03, 0x21, 0x45]), (0xff, 0x03, 0x21, 3));
        assert_eq!(read(&[0x00, 0x21, 0x45]), (0, 0, 0x21, 2));
        assert_eq!(read(&[0x21, 0x45]), (0, 0, 0x21, 1));
        assert_eq!(read(&[0xc0, 0x21, 0x01]), (0, 0, 0xc021, 2));
    }

    #[test]
    fn cut_short() {
        for bytes in [
            &[][..],
            &[0xff],
            &[0xff, 0x03],
            &[0xff, 0x03, 0xc0],
            &[0x00],
        ] {
            assert!(parse(bytes).is_err(), "{bytes:02x?}");
        }
    }
}
