//! Domain names in the wire form of RFC 1035 §3.1 and §4.1.4, the spec field type
//! `dns_name`: labels (a length byte, then that many bytes) ended by a zero byte, or by a
//! two-byte compression pointer to a later part of the name written elsewhere in the
//! message.
//!
//! A pointer is an offset from the start of the message, which a field reader does not
//! see when it reads a switch case's bytes on their own. So a protocol with `dns_name`
//! fields reads its header through [`read_header`], which keeps the whole message at
//! hand (in a thread-local) while the header is read; the name reader follows pointers
//! in it. Hostile names are bounded: at most [`MAX_HOPS`] pointers are followed and a name
//! may not grow past [`MAX_NAME_BYTES`], so a loop or an out-of-range pointer is an error
//! with a clear reason, never a hang.

use std::cell::RefCell;

use deku::ctx::Order;
use deku::no_std_io::{Read, Seek, Write};
use deku::reader::Reader;
use deku::writer::Writer;
use deku::{DekuError, DekuReader};

use crate::layer::DissectError;

/// Longest name in wire form, in bytes (RFC 1035 §2.3.4).
pub const MAX_NAME_BYTES: usize = 255;

/// Most compression pointers followed in one name. A name of 255 bytes holds at most 127
/// labels, so a name needing more pointers than that loops.
pub const MAX_HOPS: usize = 127;

/// The text Wireshark shows for the root name (a lone zero byte); kept so that values
/// compare with tshark's.
pub const ROOT: &str = "<Root>";

/// Reason when a pointer leads outside the message.
const POINTER_OUT_OF_RANGE: &str =
    "dns name: a compression pointer points past the end of the message";
/// Reason when pointers loop.
const POINTER_LOOP: &str = "dns name: compression pointers loop (more than 127 followed)";
/// Reason when the name is too long.
const TOO_LONG: &str = "dns name: longer than 255 bytes";
/// Reason for the label types of RFC 6891 §5 (extended) and the reserved one.
const LABEL_TYPE: &str = "dns name: extended or reserved label type (0x40 or 0x80) not supported";
/// Reason when a label reached through a pointer runs past the message.
const LABEL_PAST_END: &str = "dns name: a label runs past the end of the message";

thread_local! {
    /// The messages whose headers are being read, innermost last (a header read while
    /// another is, as DNS quoted in an ICMP error): the first `depth` buffers. The
    /// buffers stay for the next message, so keeping one costs no allocation.
    static MESSAGES: RefCell<Messages> = const { RefCell::new(Messages { buffers: Vec::new(), depth: 0 }) };
}

struct Messages {
    buffers: Vec<Vec<u8>>,
    depth: usize,
}

/// Keeps `message` at hand for pointers while `f` runs: names read in `f` (by a record's
/// reader) follow their compression pointers through it.
pub(crate) fn with_message<T>(message: &[u8], f: impl FnOnce() -> T) -> T {
    /// Leaves the message however `f` ends.
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            MESSAGES.with(|m| m.borrow_mut().depth -= 1);
        }
    }
    MESSAGES.with(|m| {
        let mut m = m.borrow_mut();
        let depth = m.depth;
        if m.buffers.len() == depth {
            m.buffers.push(Vec::new());
        }
        let buffer = &mut m.buffers[depth];
        buffer.clear();
        buffer.extend_from_slice(message);
        m.depth += 1;
    });
    let _leave = Leave;
    f()
}

/// Names up to this many bytes (text, and wire form in place) are held inline: most
/// are shorter, and then reading one costs no allocation.
const INLINE: usize = 32;

/// A domain name: its dotted text and the bytes it took in place (labels, then a zero
/// byte or a pointer), kept so that the header writes back byte for byte.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct DnsName {
    /// UTF-8: made of ASCII (see [`Name::label`]).
    text: smallvec::SmallVec<[u8; INLINE]>,
    wire: smallvec::SmallVec<[u8; INLINE]>,
}

impl std::fmt::Debug for DnsName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsName")
            .field("text", &self.as_str())
            .field("wire", &self.wire())
            .finish()
    }
}

impl DnsName {
    /// The name as dotted text (`www.example.com`), `<Root>` for the root.
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever pushed; the check cannot fail.
        std::str::from_utf8(&self.text).unwrap_or(ROOT)
    }

    /// The bytes the name took where it was read (up to and including its pointer).
    pub fn wire(&self) -> &[u8] {
        &self.wire
    }
}

/// Reads a header of a protocol with names at the start of `input`, with `input` as the
/// message that compression pointers point into.
pub fn read_header<'a, T, C>(input: &'a [u8], ctx: C) -> Result<(T, usize), DissectError>
where
    T: DekuReader<'a, C>,
{
    with_message(input, || crate::wire::read_header(input, ctx))
}

/// Reads a name from `reader`: the labels in place, then whatever a pointer leads to in
/// the message (see [`read_header`]).
pub fn read<R: Read + Seek>(reader: &mut Reader<R>) -> Result<DnsName, DekuError> {
    let mut name = Name::default();
    let mut wire = smallvec::SmallVec::<[u8; INLINE]>::new();
    loop {
        let len = read_byte(reader)?;
        wire.push(len);
        match len & 0xc0 {
            0x00 if len == 0 => break,
            0x00 => {
                let start = wire.len();
                wire.resize(start + usize::from(len), 0);
                reader.read_bytes(usize::from(len), &mut wire[start..], Order::Msb0)?;
                name.label(&wire[start..])?;
            }
            0xc0 => {
                let low = read_byte(reader)?;
                wire.push(low);
                let offset = usize::from(u16::from_be_bytes([len & 0x3f, low]));
                MESSAGES.with(|m| {
                    let m = m.borrow();
                    let message = m.depth.checked_sub(1).map_or(&[][..], |d| &m.buffers[d]);
                    follow(message, offset, &mut name)
                })?;
                break;
            }
            _ => return Err(DekuError::Parse(LABEL_TYPE)),
        }
    }
    Ok(DnsName {
        text: name.finish(),
        wire,
    })
}

/// Writes the name's bytes as they were read.
pub fn write<W: Write + Seek>(writer: &mut Writer<W>, name: &DnsName) -> Result<(), DekuError> {
    writer.write_bytes(&name.wire)
}

fn read_byte<R: Read + Seek>(reader: &mut Reader<R>) -> Result<u8, DekuError> {
    Ok(crate::wire::read_array::<1, _>(reader)?[0])
}

/// Reads the rest of a name from `offset` of `message`, following pointers.
fn follow(message: &[u8], mut offset: usize, name: &mut Name) -> Result<(), DekuError> {
    let mut hops = 1;
    loop {
        let len = *message
            .get(offset)
            .ok_or(DekuError::Parse(POINTER_OUT_OF_RANGE))?;
        match len & 0xc0 {
            0x00 if len == 0 => return Ok(()),
            0x00 => {
                let label = message
                    .get(offset + 1..offset + 1 + usize::from(len))
                    .ok_or(DekuError::Parse(LABEL_PAST_END))?;
                name.label(label)?;
                offset += 1 + usize::from(len);
            }
            0xc0 => {
                let low = *message
                    .get(offset + 1)
                    .ok_or(DekuError::Parse(LABEL_PAST_END))?;
                hops += 1;
                if hops > MAX_HOPS {
                    return Err(DekuError::Parse(POINTER_LOOP));
                }
                offset = usize::from(u16::from_be_bytes([len & 0x3f, low]));
            }
            _ => return Err(DekuError::Parse(LABEL_TYPE)),
        }
    }
}

/// A name being put together, label by label.
#[derive(Default)]
struct Name {
    text: smallvec::SmallVec<[u8; INLINE]>,
    /// Wire length so far: each label's length byte and bytes (the final zero is added
    /// when comparing with the limit).
    wire_len: usize,
}

impl Name {
    fn label(&mut self, label: &[u8]) -> Result<(), DekuError> {
        self.wire_len += 1 + label.len();
        if self.wire_len + 1 > MAX_NAME_BYTES {
            return Err(DekuError::Parse(TOO_LONG));
        }
        if !self.text.is_empty() {
            self.text.push(b'.');
        }
        for &b in label {
            // Printable ASCII as is; anything else as RFC 1035 §5.1's `\DDD`.
            if b.is_ascii_graphic() || b == b' ' {
                self.text.push(b);
            } else {
                self.text.extend_from_slice(&[
                    b'\\',
                    b'0' + b / 100,
                    b'0' + b / 10 % 10,
                    b'0' + b % 10,
                ]);
            }
        }
        Ok(())
    }

    fn finish(self) -> smallvec::SmallVec<[u8; INLINE]> {
        if self.wire_len == 0 {
            smallvec::SmallVec::from_slice(ROOT.as_bytes())
        } else {
            self.text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A header holding one name, read the way generated headers read it.
    #[derive(Debug)]
    struct OneName(DnsName);

    impl<'a> DekuReader<'a, ()> for OneName {
        fn from_reader_with_ctx<R: Read + Seek>(
            reader: &mut Reader<R>,
            _: (),
        ) -> Result<Self, DekuError> {
            read(reader).map(OneName)
        }
    }

    /// Reads the name at `at` of `message`, as a header starting there would, but with
    /// the whole message for pointers: returns the name and the bytes it took in place.
    fn name_at(message: &[u8], at: usize) -> Result<(String, usize), String> {
        with_message(message, || {
            let mut cursor = Cursor::new(&message[at..]);
            let mut reader = Reader::new(&mut cursor);
            read(&mut reader)
                .map(|n| (n.as_str().to_owned(), reader.bits_read / 8))
                .map_err(|e| e.to_string())
        })
    }

    #[test]
    fn labels_and_root() {
        let m = b"\x03www\x07example\x03com\x00";
        assert_eq!(name_at(m, 0), Ok(("www.example.com".into(), 17)));
        assert_eq!(name_at(b"\x00", 0), Ok(("<Root>".into(), 1)));
    }

    #[test]
    fn pointer_is_followed_and_takes_two_bytes_in_place() {
        // RFC 1035 §4.1.4's example: F.ISI.ARPA at 20, FOO.F.ISI.ARPA at 40, ARPA at 64.
        let mut m = vec![0u8; 80];
        m[20..32].copy_from_slice(b"\x01F\x03ISI\x04ARPA\x00");
        m[40..46].copy_from_slice(b"\x03FOO\xc0\x14");
        m[64..66].copy_from_slice(b"\xc0\x1a");
        assert_eq!(name_at(&m, 40), Ok(("FOO.F.ISI.ARPA".into(), 6)));
        assert_eq!(name_at(&m, 64), Ok(("ARPA".into(), 2)));
    }

    #[test]
    fn through_read_header_pointers_see_the_message() {
        // The header's first name is a pointer to offset 2 of the message.
        let m = b"\xc0\x02\x03abc\x00";
        let (OneName(n), len) = read_header::<OneName, _>(m, ()).unwrap();
        assert_eq!((n.as_str(), n.wire(), len), ("abc", &m[..2], 2));
    }

    #[test]
    fn hostile_names_are_errors_with_a_reason() {
        // A pointer to itself, and two pointers to each other.
        let err = name_at(b"\xc0\x00", 0).unwrap_err();
        assert!(err.contains("loop"), "{err}");
        let err = name_at(b"\xc0\x02\xc0\x00", 0).unwrap_err();
        assert!(err.contains("loop"), "{err}");
        // A label then a pointer back to it: the name grows until it is too long.
        let err = name_at(b"\x01a\xc0\x00", 0).unwrap_err();
        assert!(
            err.contains("loop") || err.contains("longer than 255"),
            "{err}"
        );
        // Out of range, and a label past the end of the message.
        let err = name_at(b"\xc0\x10", 0).unwrap_err();
        assert!(err.contains("past the end of the message"), "{err}");
        let err = name_at(b"\x00\x05ab\xc0\x01", 4).unwrap_err();
        assert!(err.contains("runs past the end"), "{err}");
        // Extended label types.
        let err = name_at(b"\x41\x00", 0).unwrap_err();
        assert!(err.contains("label type"), "{err}");
        // Cut short in place: deku's own incomplete error.
        assert!(name_at(b"\x03ww", 0).is_err());
        assert!(name_at(b"\xc0", 0).is_err());
        // 128 labels of one byte are 256 bytes with the zero: too long.
        let long: Vec<u8> = std::iter::repeat_n([1u8, b'x'], 128)
            .flatten()
            .chain([0])
            .collect();
        assert!(name_at(&long, 0).unwrap_err().contains("longer than 255"));
        assert_eq!(name_at(&long[2..], 0).map(|(_, n)| n), Ok(255));
    }

    #[test]
    fn unprintable_bytes_are_escaped() {
        assert_eq!(name_at(b"\x03a\x00b\x00", 0), Ok(("a\\000b".into(), 5)));
    }
}
