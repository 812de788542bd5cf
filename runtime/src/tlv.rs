//! TLV option lists (IPv4, IPv6, TCP, pcapng options): the framing is this file's, the
//! typed values are generated from the specs' `[[tlv]]` families.
//!
//! Reading is lossless: every byte of the list lands in some item (an option, a raw
//! option, padding after the end marker, or a truncated tail), so writing a list back
//! gives the bytes it was read from. A bad length stops the list, not the header.

use std::fmt;
use std::marker::PhantomData;

use deku::ctx::Endian;
use deku::no_std_io::{Read, Seek, Write};
use deku::reader::Reader;
use deku::writer::Writer;
use deku::DekuError;

use crate::value::{BytesDisplay, FieldInfo, Value, Visitor};

/// How a family frames its options (from its spec).
#[derive(Debug, Clone, Copy)]
pub struct TlvFormat {
    /// Width of the kind field: 1 or 2 bytes.
    pub kind_bytes: u8,
    /// Width of the length field: 1 or 2 bytes.
    pub length_bytes: u8,
    /// The length counts the kind and length bytes too.
    pub length_covers_all: bool,
    /// The length counts units of this many bytes (1, or 8 for IPv6 Neighbor Discovery).
    pub length_unit: u8,
    /// Each option is padded to a multiple of this.
    pub align: u8,
    /// Kinds that are a single kind, without length or value.
    pub single: &'static [u64],
    /// A kind after which the rest of the list is padding.
    pub end: Option<u64>,
    /// Names the kinds when values are visited; `None` shows kinds as plain numbers.
    pub registry: Option<fn(u64) -> Option<&'static str>>,
}

/// The typed options of a family (generated).
pub trait TlvValue: Sized {
    /// How the family's options are framed.
    const FORMAT: TlvFormat;
    /// The option of this kind, if the kind is known and `value` fits its layout.
    fn read(kind: u64, value: &[u8], endian: Endian) -> Option<Self>;
    /// The kind the option is read from and written as.
    fn kind(&self) -> u64;
    /// Appends the option's value bytes (not its kind, length or padding) to `out`.
    fn write(&self, out: &mut Vec<u8>, endian: Endian) -> Result<(), DekuError>;
    /// Hands the option's values to `v`; `infos` are this family's value infos for the
    /// protocol using it, in variant order.
    fn visit<V: Visitor + ?Sized>(&self, v: &mut V, infos: &'static [FieldInfo]);
}

/// Why a list ended before its bytes did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tail {
    /// Bytes after the end-of-list option.
    Padding,
    /// An option whose kind, length or value runs past the end of the list.
    Truncated,
}

/// One entry of an option list, borrowing the list's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlvItem<'a, T> {
    /// A one-byte option (EOL, NOP, Pad1).
    Single {
        /// The option's kind.
        kind: u64,
    },
    /// An option with a known layout.
    Known {
        /// The option's kind.
        kind: u64,
        /// The length field as read (it counts the kind and length bytes too when the
        /// format's `length_covers_all` is set).
        length: u64,
        /// The decoded value.
        value: T,
        /// Bytes after the value up to the format's alignment.
        padding: &'a [u8],
    },
    /// An option of an unknown kind, or whose value does not fit its kind's layout.
    Raw {
        /// The option's kind.
        kind: u64,
        /// The length field as read, as in `Known`.
        length: u64,
        /// The value bytes, undecoded.
        data: &'a [u8],
        /// Bytes after the value up to the format's alignment.
        padding: &'a [u8],
    },
    /// The end of the list that is not an option.
    Tail {
        /// Why the list ended here.
        tail: Tail,
        /// Every remaining byte of the list.
        data: &'a [u8],
    },
}

/// Option lists of IP and TCP headers are at most 40 bytes: held inline, they cost no
/// allocation.
const INLINE: usize = 40;

/// A list of options, in wire order: the bytes of the list as read, decoded into
/// [`TlvItem`]s each time they are iterated. Dissecting a header only finds where its
/// list lies; the options are decoded by whoever looks at them (an output, a hook), so
/// a frame is dissected without allocating, and writing the list back gives its bytes.
///
/// ```
/// use pcapkit::protocols::tlv::tcp_option::TcpOption;
/// use pcapkit::tlv::{self, TlvItem, TlvList};
///
/// // MSS 1460, NOP, window scale 7.
/// let list: TlvList<TcpOption> =
///     tlv::parse(&[2, 4, 0x05, 0xb4, 1, 3, 3, 7], deku::ctx::Endian::Big);
/// assert_eq!(list.items().count(), 3);
/// assert!(matches!(list.items().nth(1), Some(TlvItem::Single { kind: 1 })));
/// assert_eq!(list.as_bytes(), [2, 4, 0x05, 0xb4, 1, 3, 3, 7]);
/// ```
pub struct TlvList<T> {
    bytes: smallvec::SmallVec<[u8; INLINE]>,
    little: bool,
    value: PhantomData<fn() -> T>,
}

impl<T> Default for TlvList<T> {
    fn default() -> Self {
        TlvList {
            bytes: smallvec::SmallVec::new(),
            little: false,
            value: PhantomData,
        }
    }
}

impl<T> Clone for TlvList<T> {
    fn clone(&self) -> Self {
        TlvList {
            bytes: self.bytes.clone(),
            little: self.little,
            value: PhantomData,
        }
    }
}

impl<T> PartialEq for TlvList<T> {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes && self.little == other.little
    }
}

impl<T> Eq for TlvList<T> {}

impl<T: TlvValue + fmt::Debug> fmt::Debug for TlvList<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.items()).finish()
    }
}

impl<T> TlvList<T> {
    /// The list's bytes, as read.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether the list has no bytes.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn endian(&self) -> Endian {
        if self.little {
            Endian::Little
        } else {
            Endian::Big
        }
    }
}

impl<T: TlvValue> TlvList<T> {
    /// The entries, decoded from the bytes, covering all of them.
    pub fn items(&self) -> Items<'_, T> {
        Items {
            bytes: &self.bytes,
            at: 0,
            endian: self.endian(),
            ended: false,
            value: PhantomData,
        }
    }

    /// The typed options, skipping padding and raw options.
    pub fn known(&self) -> impl Iterator<Item = T> + '_ {
        self.items().filter_map(|i| match i {
            TlvItem::Known { value, .. } => Some(value),
            _ => None,
        })
    }

    /// A list made of `items`, laid out as the family frames them.
    pub fn from_items<'a>(
        items: impl IntoIterator<Item = TlvItem<'a, T>>,
        endian: Endian,
    ) -> Result<TlvList<T>, DekuError>
    where
        T: 'a,
    {
        let f = T::FORMAT;
        let mut out = Vec::new();
        for item in items {
            match item {
                TlvItem::Single { kind } => put(&mut out, kind, f.kind_bytes, endian),
                TlvItem::Known {
                    kind,
                    length,
                    value,
                    padding,
                } => {
                    put(&mut out, kind, f.kind_bytes, endian);
                    put(&mut out, length, f.length_bytes, endian);
                    value.write(&mut out, endian)?;
                    out.extend_from_slice(padding);
                }
                TlvItem::Raw {
                    kind,
                    length,
                    data,
                    padding,
                } => {
                    put(&mut out, kind, f.kind_bytes, endian);
                    put(&mut out, length, f.length_bytes, endian);
                    out.extend_from_slice(data);
                    out.extend_from_slice(padding);
                }
                TlvItem::Tail { data, .. } => out.extend_from_slice(data),
            }
        }
        Ok(parse(&out, endian))
    }
}

/// The entries of a [`TlvList`], decoded one at a time.
pub struct Items<'a, T> {
    bytes: &'a [u8],
    at: usize,
    endian: Endian,
    /// The end-of-list option was read: what follows is padding.
    ended: bool,
    value: PhantomData<fn() -> T>,
}

impl<'a, T: TlvValue> Items<'a, T> {
    /// The rest of the list as its last item.
    fn tail(&mut self, tail: Tail) -> Option<TlvItem<'a, T>> {
        let data = &self.bytes[self.at..];
        self.at = self.bytes.len();
        Some(TlvItem::Tail { tail, data })
    }
}

impl<'a, T: TlvValue> Iterator for Items<'a, T> {
    type Item = TlvItem<'a, T>;

    fn next(&mut self) -> Option<TlvItem<'a, T>> {
        if self.at >= self.bytes.len() {
            return None;
        }
        if self.ended {
            return self.tail(Tail::Padding);
        }
        let f = T::FORMAT;
        let (kb, lb) = (usize::from(f.kind_bytes), usize::from(f.length_bytes));
        let align = usize::from(f.align.max(1));
        let rest = &self.bytes[self.at..];
        let endian = self.endian;
        if rest.len() < kb {
            return self.tail(Tail::Truncated);
        }
        let kind = get(rest, f.kind_bytes, endian);
        let item = if f.single.contains(&kind) {
            self.at += kb;
            TlvItem::Single { kind }
        } else {
            if rest.len() < kb + lb {
                return self.tail(Tail::Truncated);
            }
            let length = get(&rest[kb..], f.length_bytes, endian);
            // At most 0xffff * 255 bytes: no overflow, and past `rest` it is a truncation.
            let declared = usize::try_from(length)
                .unwrap_or(usize::MAX)
                .saturating_mul(usize::from(f.length_unit.max(1)));
            let value_len = if f.length_covers_all {
                match declared.checked_sub(kb + lb) {
                    Some(v) => v,
                    None => return self.tail(Tail::Truncated),
                }
            } else {
                declared
            };
            if value_len > rest.len() - kb - lb {
                return self.tail(Tail::Truncated);
            }
            let total = kb + lb + value_len;
            let value = &rest[kb + lb..total];
            let padded = (total.div_ceil(align) * align).min(rest.len());
            let padding = &rest[total..padded];
            self.at += padded;
            match T::read(kind, value, endian) {
                Some(value) => TlvItem::Known {
                    kind,
                    length,
                    value,
                    padding,
                },
                None => TlvItem::Raw {
                    kind,
                    length,
                    data: value,
                    padding,
                },
            }
        };
        self.ended = f.end == Some(kind);
        Some(item)
    }
}

fn get(bytes: &[u8], width: u8, endian: Endian) -> u64 {
    match (width, endian) {
        (1, _) => u64::from(bytes[0]),
        (_, Endian::Big) => u64::from(u16::from_be_bytes([bytes[0], bytes[1]])),
        _ => u64::from(u16::from_le_bytes([bytes[0], bytes[1]])),
    }
}

fn put(out: &mut Vec<u8>, value: u64, width: u8, endian: Endian) {
    match (width, endian) {
        (1, _) => out.push(value as u8),
        (_, Endian::Big) => out.extend_from_slice(&(value as u16).to_be_bytes()),
        _ => out.extend_from_slice(&(value as u16).to_le_bytes()),
    }
}

/// The list held by `bytes`; its options are decoded when iterated.
pub fn parse<T: TlvValue>(bytes: &[u8], endian: Endian) -> TlvList<T> {
    TlvList {
        bytes: smallvec::SmallVec::from_slice(bytes),
        little: endian == Endian::Little,
        value: PhantomData,
    }
}

/// The wire form of a list: the bytes it was read from.
pub fn serialize<T: TlvValue>(list: &TlvList<T>, _endian: Endian) -> Result<Vec<u8>, DekuError> {
    Ok(list.bytes.to_vec())
}

/// deku reader: `size` bytes of options (the rest of the input when `usize::MAX`).
pub fn read<T: TlvValue, R: Read + Seek>(
    reader: &mut Reader<R>,
    size: usize,
    endian: Endian,
) -> Result<TlvList<T>, DekuError> {
    crate::wire::with_bytes(reader, size, |bytes| Ok(parse(bytes, endian)))
}

/// deku writer.
pub fn write<T: TlvValue, W: Write + Seek>(
    writer: &mut Writer<W>,
    list: &TlvList<T>,
    _endian: Endian,
) -> Result<(), DekuError> {
    writer.write_bytes(&list.bytes)
}

/// Visits a list: `infos` are the list's own info, then kind, length and data; `values`
/// the family's value infos (shared by every list of the family in a protocol).
pub fn visit<T: TlvValue, V: Visitor + ?Sized>(
    list: &TlvList<T>,
    v: &mut V,
    infos: &'static [FieldInfo],
    values: &'static [FieldInfo],
) {
    if !v.wants_list(&infos[0], values) {
        return;
    }
    let f = T::FORMAT;
    let kind_value = |kind: u64| match f.registry {
        Some(r) => Value::Enum(kind, r(kind)),
        None => Value::Uint(kind),
    };
    v.begin_list(&infos[0]);
    for item in list.items() {
        v.begin_item();
        match item {
            TlvItem::Single { kind } => v.field(&infos[1], kind_value(kind)),
            TlvItem::Known {
                kind,
                length,
                value,
                ..
            } => {
                v.field(&infos[1], kind_value(kind));
                v.field(&infos[2], Value::Uint(length));
                value.visit(v, values);
            }
            TlvItem::Raw {
                kind, length, data, ..
            } => {
                v.field(&infos[1], kind_value(kind));
                v.field(&infos[2], Value::Uint(length));
                v.field(&infos[3], Value::Bytes(data, BytesDisplay::Hex));
            }
            TlvItem::Tail { data, .. } => v.field(&infos[3], Value::Bytes(data, BytesDisplay::Hex)),
        }
        v.end_item();
    }
    v.end_list();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IPv6 Neighbor Discovery options (RFC 4861 4.6): the length counts the whole option,
    /// type and length included, in units of 8 bytes. Only the MTU option is typed.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct NdMtu(u32);

    impl TlvValue for NdMtu {
        const FORMAT: TlvFormat = TlvFormat {
            kind_bytes: 1,
            length_bytes: 1,
            length_covers_all: true,
            length_unit: 8,
            align: 1,
            single: &[],
            end: None,
            registry: None,
        };
        fn read(kind: u64, value: &[u8], _: Endian) -> Option<Self> {
            (kind == 5 && value.len() == 6)
                .then(|| NdMtu(u32::from_be_bytes([value[2], value[3], value[4], value[5]])))
        }
        fn kind(&self) -> u64 {
            5
        }
        fn write(&self, out: &mut Vec<u8>, _: Endian) -> Result<(), DekuError> {
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&self.0.to_be_bytes());
            Ok(())
        }
        fn visit<V: Visitor + ?Sized>(&self, _: &mut V, _: &'static [FieldInfo]) {}
    }

    #[test]
    fn lengths_count_units() {
        // A router advertisement's options (pcapparser_wireshark_samples-test.pcapng,
        // frame 241; tshark: MTU 1500, source link-layer address 58:ef:68:10:8f:69).
        let bytes = [
            0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05, 0xdc, // MTU, length 1 (8 bytes)
            0x01, 0x01, 0x58, 0xef, 0x68, 0x10, 0x8f, 0x69, // source link-layer address
        ];
        let list: TlvList<NdMtu> = parse(&bytes, Endian::Big);
        assert_eq!(
            list.items().collect::<Vec<_>>(),
            [
                TlvItem::Known {
                    kind: 5,
                    length: 1,
                    value: NdMtu(1500),
                    padding: &[]
                },
                TlvItem::Raw {
                    kind: 1,
                    length: 1,
                    data: &[0x58, 0xef, 0x68, 0x10, 0x8f, 0x69],
                    padding: &[]
                },
            ]
        );
        assert_eq!(serialize(&list, Endian::Big).unwrap(), bytes);
    }

    #[test]
    fn items_are_decoded_from_the_bytes_and_made_back_into_them() {
        // NOP, an unknown option, the end of the list, then padding (RFC 791 style).
        #[derive(Debug, Clone, PartialEq, Eq)]
        struct Ip;
        impl TlvValue for Ip {
            const FORMAT: TlvFormat = TlvFormat {
                kind_bytes: 1,
                length_bytes: 1,
                length_covers_all: true,
                length_unit: 1,
                align: 1,
                single: &[0, 1],
                end: Some(0),
                registry: None,
            };
            fn read(_: u64, _: &[u8], _: Endian) -> Option<Self> {
                None
            }
            fn kind(&self) -> u64 {
                0
            }
            fn write(&self, _: &mut Vec<u8>, _: Endian) -> Result<(), DekuError> {
                Ok(())
            }
            fn visit<V: Visitor + ?Sized>(&self, _: &mut V, _: &'static [FieldInfo]) {}
        }
        let bytes = [1, 0x94, 4, 0, 0, 0, 0xaa, 0xbb];
        let list: TlvList<Ip> = parse(&bytes, Endian::Big);
        let items: Vec<_> = list.items().collect();
        assert_eq!(
            items,
            [
                TlvItem::Single { kind: 1 },
                TlvItem::Raw {
                    kind: 0x94,
                    length: 4,
                    data: &[0, 0],
                    padding: &[]
                },
                TlvItem::Single { kind: 0 },
                TlvItem::Tail {
                    tail: Tail::Padding,
                    data: &[0xaa, 0xbb]
                },
            ]
        );
        let again = TlvList::<Ip>::from_items(items, Endian::Big).unwrap();
        assert_eq!(again.as_bytes(), bytes);
        assert_eq!(again, list);
        // A list that ends at its end-of-list option has nothing after it.
        let short: TlvList<Ip> = parse(&[1, 0], Endian::Big);
        assert_eq!(short.items().count(), 2);
    }

    #[test]
    fn a_length_in_units_that_cannot_hold_its_header_or_runs_past_the_end_is_a_tail() {
        // Length 0 (RFC 4861: "MUST silently discard"): less than the two header bytes.
        let zero: TlvList<NdMtu> = parse(&[0x05, 0x00, 0xaa, 0xbb], Endian::Big);
        assert!(matches!(
            zero.items().collect::<Vec<_>>()[..],
            [TlvItem::Tail {
                tail: Tail::Truncated,
                ..
            }]
        ));
        // Length 2 is 16 bytes, and only 8 are there.
        let long: TlvList<NdMtu> = parse(&[0x01, 0x02, 0, 0, 0, 0, 0, 0], Endian::Big);
        assert!(matches!(
            long.items().collect::<Vec<_>>()[..],
            [TlvItem::Tail {
                tail: Tail::Truncated,
                ..
            }]
        ));
        // The largest length does not overflow.
        let max: TlvList<NdMtu> = parse(&[0x01, 0xff, 0], Endian::Big);
        assert_eq!(serialize(&max, Endian::Big).unwrap(), [0x01, 0xff, 0]);
    }
}
