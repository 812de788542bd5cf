//! Small readers and writers the generated dissectors call from their deku attributes.
//! Each one bounds what it allocates by what the input really holds, so a length field
//! claiming gigabytes costs nothing but an error.

use std::io::Cursor;

use deku::ctx::{Endian, Order};
use deku::no_std_io::{Read, Seek, Write};
use deku::reader::Reader;
use deku::writer::Writer;
use deku::{DekuError, DekuReader, DekuWriter};

use crate::layer::DissectError;

/// Reads a header at the start of `input`: the header and the bytes it took.
pub fn read_header<'a, T, C>(input: &'a [u8], ctx: C) -> Result<(T, usize), DissectError>
where
    T: DekuReader<'a, C>,
{
    let mut cursor = Cursor::new(input);
    let mut reader = Reader::new(&mut cursor);
    match T::from_reader_with_ctx(&mut reader, ctx) {
        Ok(header) => Ok((header, reader.bits_read / 8)),
        Err(e) => Err(describe(e, input.len())),
    }
}

/// How the reason of a header cut short starts.
pub const TRUNCATED: &str = "truncated";

fn describe(e: DekuError, available: usize) -> DissectError {
    match e {
        DekuError::Incomplete(_) => DissectError::new(format!(
            "{TRUNCATED}: the header does not fit in the {available} bytes captured"
        )),
        DekuError::Parse(m) | DekuError::InvalidParam(m) | DekuError::Assertion(m) => {
            DissectError::new(m)
        }
        other => DissectError::new(other.to_string()),
    }
}

/// Reads `N` bytes in one go (deku's own array reader takes them one at a time).
pub fn read_array<const N: usize, R: Read + Seek>(
    reader: &mut Reader<R>,
) -> Result<[u8; N], DekuError> {
    let mut out = [0u8; N];
    reader.read_bytes_const_into::<N>(&mut out, Order::Msb0)?;
    Ok(out)
}

/// The owned form of a byte field: up to 16 bytes (hardware and IP addresses, most
/// integrity check values) are held inline, so reading them costs no allocation; longer
/// values go to the heap. Dereferences to `[u8]`.
pub type Bytes = smallvec::SmallVec<[u8; 16]>;

/// Reads `size` bytes (the rest of the input when `usize::MAX`), growing the buffer
/// only as bytes arrive.
pub fn read_bytes<R: Read + Seek>(reader: &mut Reader<R>, size: usize) -> Result<Bytes, DekuError> {
    const CHUNK: usize = 4096;
    if size == usize::MAX {
        return read_rest(reader);
    }
    let mut out = Bytes::new();
    let mut filled = 0;
    while filled < size {
        let n = (size - filled).min(CHUNK);
        out.resize(filled + n, 0);
        reader.read_bytes(n, &mut out[filled..filled + n], Order::Msb0)?;
        filled += n;
    }
    Ok(out)
}

/// Reads `size` bytes as [`read_bytes`] does and hands them to `f`; up to 256 bytes (option
/// lists, SACK blocks, a few addresses) are read on the stack, so they cost no allocation.
pub fn with_bytes<R: Read + Seek, T>(
    reader: &mut Reader<R>,
    size: usize,
    f: impl FnOnce(&[u8]) -> Result<T, DekuError>,
) -> Result<T, DekuError> {
    const SHORT: usize = 256;
    if size <= SHORT {
        let mut short = [0u8; SHORT];
        reader.read_bytes(size, &mut short[..size], Order::Msb0)?;
        f(&short[..size])
    } else {
        f(&read_bytes(reader, size)?)
    }
}

/// Reads whatever is left of the input.
pub fn read_rest<R: Read + Seek>(reader: &mut Reader<R>) -> Result<Bytes, DekuError> {
    let mut out = Bytes::new();
    let mut byte = [0u8; 1];
    while !reader.end() {
        reader.read_bytes(1, &mut byte, Order::Msb0)?;
        out.push(byte[0]);
    }
    Ok(out)
}

/// deku writer for a [`Bytes`] field.
pub fn write_bytes<W: Write + Seek>(writer: &mut Writer<W>, bytes: &[u8]) -> Result<(), DekuError> {
    writer.write_bytes(bytes)
}

/// Reads `size` bytes of whole `T`s (the rest of the input when `size` is `usize::MAX`).
/// Bytes that do not make a whole element are an error.
pub fn read_list<'a, T, C, R>(
    reader: &mut Reader<R>,
    size: usize,
    endian: Endian,
) -> Result<C, DekuError>
where
    T: for<'b> DekuReader<'b, Endian>,
    C: Default + Extend<T>,
    R: Read + Seek,
{
    with_bytes(reader, size, |bytes| {
        let mut cursor = Cursor::new(bytes);
        let mut inner = Reader::new(&mut cursor);
        let mut out = C::default();
        while inner.bits_read / 8 < bytes.len() {
            out.extend(Some(read_element(&mut inner, endian)?));
        }
        Ok(out)
    })
}

/// Reads `count` elements. Each element takes at least one byte, or the list is an
/// error, so a count larger than the input costs nothing but the error: memory grows
/// with the elements actually read, never with the count.
pub fn read_count<'a, T, C, R>(
    reader: &mut Reader<R>,
    count: usize,
    endian: Endian,
) -> Result<C, DekuError>
where
    T: DekuReader<'a, Endian>,
    C: Default + Extend<T>,
    R: Read + Seek,
{
    let mut out = C::default();
    for _ in 0..count {
        out.extend(Some(read_element(reader, endian)?));
    }
    Ok(out)
}

/// Reads one list element; one that takes no bytes is an error, so no list loops
/// without end or grows past its input.
fn read_element<'a, T, R>(reader: &mut Reader<R>, endian: Endian) -> Result<T, DekuError>
where
    T: DekuReader<'a, Endian>,
    R: Read + Seek,
{
    let before = reader.bits_read;
    let element = T::from_reader_with_ctx(reader, endian)?;
    if reader.bits_read == before {
        return Err(DekuError::Parse("a list element takes no bytes"));
    }
    Ok(element)
}

/// Writes every element of a list.
pub fn write_list<T, W>(writer: &mut Writer<W>, list: &[T], endian: Endian) -> Result<(), DekuError>
where
    T: DekuWriter<Endian>,
    W: Write + Seek,
{
    for item in list {
        item.to_writer(writer, endian)?;
    }
    Ok(())
}

/// Reads a `T` that must take exactly all of `bytes`; `None` otherwise.
pub fn read_whole<T>(bytes: &[u8], endian: Endian) -> Option<T>
where
    T: for<'b> DekuReader<'b, Endian>,
{
    let mut cursor = Cursor::new(bytes);
    let mut reader = Reader::new(&mut cursor);
    let value = T::from_reader_with_ctx(&mut reader, endian).ok()?;
    (reader.bits_read == bytes.len() * 8).then_some(value)
}

/// Appends the wire form of `value` to `out`.
pub fn write_into<T: DekuWriter<Endian>>(
    value: &T,
    out: &mut Vec<u8>,
    endian: Endian,
) -> Result<(), DekuError> {
    let start = out.len();
    let mut cursor = Cursor::new(&mut *out);
    cursor.set_position(start as u64);
    let mut writer = Writer::new(&mut cursor);
    value.to_writer(&mut writer, endian)?;
    writer.finalize()
}

/// The big-endian integer of `width` bytes (1 to 8) at `offset` of `bytes`, for the
/// `payload(offset, width)` of dispatch rules; 0 when the bytes are not all there or
/// the width is out of range.
pub fn peek_uint(bytes: &[u8], offset: u64, width: u64) -> u64 {
    let (Ok(start), Ok(width)) = (usize::try_from(offset), usize::try_from(width)) else {
        return 0;
    };
    if !(1..=8).contains(&width) {
        return 0;
    }
    match start
        .checked_add(width)
        .and_then(|end| bytes.get(start..end))
    {
        Some(b) => b.iter().fold(0, |acc, &x| (acc << 8) | u64::from(x)),
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_bytes_fails_cleanly_on_a_huge_claim() {
        let data = [1u8, 2, 3];
        let mut cursor = Cursor::new(&data[..]);
        let mut reader = Reader::new(&mut cursor);
        assert!(read_bytes(&mut reader, 1 << 40).is_err());
    }

    #[test]
    fn read_list_rejects_partial_elements() {
        let data = [0u8, 1, 0, 2, 9];
        let mut cursor = Cursor::new(&data[..]);
        let mut reader = Reader::new(&mut cursor);
        assert!(read_list::<u16, Vec<u16>, _>(&mut reader, 5, Endian::Big).is_err());
        let mut cursor = Cursor::new(&data[..]);
        let mut reader = Reader::new(&mut cursor);
        assert_eq!(
            read_list::<u16, Vec<u16>, _>(&mut reader, 4, Endian::Big).unwrap(),
            vec![1, 2]
        );
    }

    #[test]
    fn read_whole_needs_every_byte() {
        assert_eq!(read_whole::<u16>(&[0, 5], Endian::Big), Some(5));
        assert_eq!(read_whole::<u16>(&[0, 5, 0], Endian::Big), None);
        assert_eq!(read_whole::<u16>(&[0], Endian::Big), None);
    }

    #[test]
    fn peek_uint_reads_big_endian_or_gives_zero() {
        let b = [0xff, 0xff, 0x00, 0x50];
        assert_eq!(super::peek_uint(&b, 0, 2), 0xffff);
        assert_eq!(super::peek_uint(&b, 2, 2), 0x50);
        assert_eq!(super::peek_uint(&b, 3, 2), 0);
        assert_eq!(super::peek_uint(&b, u64::MAX, 2), 0);
        assert_eq!(super::peek_uint(&b, 0, 0), 0);
        assert_eq!(super::peek_uint(&b, 0, 9), 0);
    }
}
