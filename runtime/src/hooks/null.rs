//! BSD loopback (LINKTYPE_NULL): the 4-byte address family is in the byte order of the host
//! that captured, which the file does not say. `specs/link/null.toml` names this hook for
//! the field: address families are small numbers, so the byte order that makes the upper
//! half zero is the right one (as tcpdump and Wireshark decide).

use deku::ctx::Endian;
use deku::no_std_io::{Read, Seek, Write};
use deku::reader::Reader;
use deku::writer::Writer;
use deku::DekuError;

/// Reads the family in whichever byte order gives a small number.
pub fn read_family<R: Read + Seek>(
    reader: &mut Reader<R>,
    _endian: Endian,
) -> Result<u32, DekuError> {
    let le = u32::from_le_bytes(crate::wire::read_array::<4, _>(reader)?);
    Ok(if le & 0xffff_0000 != 0 && le & 0xffff == 0 {
        le.swap_bytes()
    } else {
        le
    })
}

/// Writes the family little-endian (the byte order of most capturing hosts).
pub fn write_family<W: Write + Seek>(
    writer: &mut Writer<W>,
    family: &u32,
    _endian: Endian,
) -> Result<(), DekuError> {
    writer.write_bytes(&family.to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn read(bytes: [u8; 4]) -> u32 {
        let mut cursor = Cursor::new(&bytes[..]);
        read_family(&mut Reader::new(&mut cursor), Endian::Little).unwrap()
    }

    #[test]
    fn either_byte_order() {
        assert_eq!(read([2, 0, 0, 0]), 2, "AF_INET from a little-endian host");
        assert_eq!(read([0, 0, 0, 2]), 2, "AF_INET from a big-endian host");
        assert_eq!(
            read([0, 0, 0, 30]),
            30,
            "AF_INET6 (Darwin) from a big-endian host"
        );
        assert_eq!(read([0x0f, 0, 8, 0]), 0x0008_000f, "neither: kept as read");
    }
}
