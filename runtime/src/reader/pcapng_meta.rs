//! pcapng metadata besides packets: the options of every block, and the blocks that hold
//! no packet (Name Resolution, Interface Statistics, Decryption Secrets, Custom).
//!
//! Options are read here rather than through the specs' TLV families because an option
//! code means something different in each block type (2 is `shb_hardware`, `if_name`,
//! `epb_flags`, `ns_dnsname` or `isb_starttime`), strings end at their first zero octet,
//! custom options start with an enterprise number, and a value of the wrong length must
//! say why it was not read. Everything is kept as the block's bytes and decoded when it
//! is looked at; no length in the file is trusted: a value that runs past its block or
//! does not have the length its code requires is shown as bytes with the reason.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::ByteOrder;
use crate::chain::Timestamp;
use crate::registry;

/// Which block an option list belongs to: option codes from 2 up mean something else in
/// each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionBlock {
    /// Section Header Block.
    Section,
    /// Interface Description Block.
    Interface,
    /// Enhanced Packet Block.
    EnhancedPacket,
    /// The obsolete Packet Block.
    Packet,
    /// Name Resolution Block.
    NameResolution,
    /// Interface Statistics Block.
    InterfaceStatistics,
    /// Decryption Secrets Block (common options only).
    DecryptionSecrets,
}

impl OptionBlock {
    /// The option's name as the draft gives it (`epb_flags`), or `None` for a code this
    /// block does not define.
    pub fn name(self, code: u16) -> Option<&'static str> {
        let code = u64::from(code);
        match self {
            OptionBlock::Section => registry::pcapng_shb_option(code),
            OptionBlock::Interface => registry::pcapng_option(code),
            OptionBlock::EnhancedPacket => registry::pcapng_epb_option(code),
            OptionBlock::Packet => registry::pcapng_pb_option(code),
            OptionBlock::NameResolution => registry::pcapng_nrb_option(code),
            OptionBlock::InterfaceStatistics => registry::pcapng_isb_option(code),
            OptionBlock::DecryptionSecrets => registry::pcapng_common_option(code),
        }
    }
}

/// How an interface's timestamps count: `if_tsresol` and `if_tsoffset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// 10^-n seconds a unit, or 2^-n with the top bit set; 6 (microseconds) by default.
    pub tsresol: u8,
    /// Seconds added to every timestamp.
    pub tsoffset: i64,
}

impl Default for Clock {
    fn default() -> Clock {
        Clock {
            tsresol: 6,
            tsoffset: 0,
        }
    }
}

impl Clock {
    /// A timestamp in this clock's units, as seconds and nanoseconds.
    pub fn timestamp(&self, units: u64) -> Timestamp {
        let (secs, nanos) = if self.tsresol & 0x80 != 0 {
            let shift = u32::from(self.tsresol & 0x7f).min(63);
            let frac = units & ((1u64 << shift) - 1);
            (
                units >> shift,
                ((u128::from(frac) * 1_000_000_000) >> shift) as u32,
            )
        } else {
            let exp = u32::from(self.tsresol).min(19);
            let per_sec = 10u64.pow(exp);
            let frac = units % per_sec;
            let nanos = if exp <= 9 {
                frac * 10u64.pow(9 - exp)
            } else {
                frac / 10u64.pow(exp - 9)
            };
            (units / per_sec, nanos as u32)
        };
        Timestamp {
            secs: (secs as i64).saturating_add(self.tsoffset),
            nanos,
        }
    }
}

/// The options of one block, as the file holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The block they belong to.
    pub block: OptionBlock,
    /// The section's byte order.
    pub order: ByteOrder,
    /// The clock of the interface the block refers to (for `isb_starttime` and
    /// `isb_endtime`).
    pub clock: Clock,
    /// Every byte of the option list, from the first option to the end of the block.
    pub bytes: Vec<u8>,
}

impl Options {
    /// The options, in file order, decoded.
    pub fn iter(&self) -> OptionIter<'_> {
        OptionIter::new(self.block, self.order, self.clock, &self.bytes)
    }

    /// Whether the block has no option bytes at all.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The texts of the block's `opt_comment` options, in order.
    pub fn comments(&self) -> impl Iterator<Item = String> + '_ {
        self.iter().filter_map(|o| match (o.header, o.value) {
            (Some(h), OptionValue::Text(t)) if h.code == OPT_COMMENT => {
                Some(String::from_utf8_lossy(t).into_owned())
            }
            _ => None,
        })
    }

    /// The `epb_flags` (or `pack_flags`) word, when the block has a readable one.
    pub fn flags(&self) -> Option<PacketFlags> {
        self.iter().find_map(|o| match o.value {
            OptionValue::Flags(f) => Some(f),
            _ => None,
        })
    }
}

const OPT_ENDOFOPT: u16 = 0;
const OPT_COMMENT: u16 = 1;

/// An option's code and length field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionHeader {
    /// The option (or record) code.
    pub code: u16,
    /// The length of its value, as the file says (padding not counted).
    pub length: u16,
}

/// One option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcapngOption<'a> {
    /// Code and length; `None` for bytes at the end too few to hold them.
    pub header: Option<OptionHeader>,
    /// The value.
    pub value: OptionValue<'a>,
}

/// An option's value, decoded as its code says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionValue<'a> {
    /// `opt_endofopt`: the list ends.
    End,
    /// A UTF-8 string (comments, names, descriptions), up to its first zero octet.
    Text(&'a [u8]),
    /// An unsigned number (counters, speeds, lengths, the timestamp resolution).
    Uint(u64),
    /// A signed number (`if_tsoffset`).
    Int(i64),
    /// A time (`isb_starttime`, `isb_endtime`), counted with the interface's clock.
    Time(Timestamp),
    /// An EUI-48 (MAC) address.
    Mac([u8; 6]),
    /// Bytes without more structure (`if_EUIaddr`).
    Bytes(&'a [u8]),
    /// An IPv4 address (`ns_dnsIP4addr`).
    Ipv4(Ipv4Addr),
    /// An IPv6 address (`ns_dnsIP6addr`).
    Ipv6(Ipv6Addr),
    /// `if_IPv4addr`: an address and its netmask.
    Ipv4Net {
        /// The address.
        address: Ipv4Addr,
        /// The netmask.
        netmask: Ipv4Addr,
    },
    /// `if_IPv6addr`: an address and its prefix length.
    Ipv6Net {
        /// The address.
        address: Ipv6Addr,
        /// The prefix length, in bits.
        prefix_length: u8,
    },
    /// `if_filter`: the filter's type (0: a libpcap filter string) and the filter.
    Filter {
        /// The first octet.
        kind: u8,
        /// The rest: text for a libpcap string, else bytes.
        filter: &'a [u8],
    },
    /// `epb_flags` or `pack_flags`.
    Flags(PacketFlags),
    /// `epb_hash` or `pack_hash`.
    Hash {
        /// The algorithm's code (2: CRC32, 3: MD5, ...).
        algorithm: u8,
        /// The hash.
        hash: &'a [u8],
    },
    /// `epb_verdict`.
    Verdict {
        /// The verdict's type (0: hardware, 1: Linux eBPF TC, 2: Linux eBPF XDP).
        kind: u8,
        /// The verdict of an eBPF type, a 64-bit number.
        value: Option<u64>,
        /// The verdict's bytes (a hardware verdict has no more structure).
        data: &'a [u8],
    },
    /// `epb_processid_threadid`.
    ProcessThread {
        /// The process.
        process: u32,
        /// The thread.
        thread: u32,
    },
    /// `opt_custom`: an enterprise number and the vendor's data.
    Custom {
        /// The IANA Private Enterprise Number of the vendor.
        pen: u32,
        /// The data after it.
        data: &'a [u8],
        /// The data is a UTF-8 string (codes 2988 and 19372).
        text: bool,
    },
    /// A code the block does not define: the value's bytes.
    Unknown(&'a [u8]),
    /// A value that cannot be read as its code says: its bytes, and why.
    Malformed {
        /// The bytes.
        data: &'a [u8],
        /// Why they could not be read.
        reason: String,
    },
}

/// The `epb_flags` word (bit 0 the least significant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketFlags(pub u32);

impl PacketFlags {
    /// Bits 0-1: 0 not available, 1 inbound, 2 outbound.
    pub fn direction(self) -> u32 {
        self.0 & 0b11
    }
    /// Bits 2-4: 0 not specified, 1 unicast, 2 multicast, 3 broadcast, 4 promiscuous.
    pub fn reception_type(self) -> u32 {
        self.0 >> 2 & 0b111
    }
    /// Bits 5-8: the FCS length in octets (0: not available).
    pub fn fcs_length(self) -> u32 {
        self.0 >> 5 & 0b1111
    }
    /// Bit 9: the checksum was not ready (checksum offloading).
    pub fn checksum_not_ready(self) -> bool {
        self.0 >> 9 & 1 == 1
    }
    /// Bit 10: the checksum was checked before capture.
    pub fn checksum_valid(self) -> bool {
        self.0 >> 10 & 1 == 1
    }
    /// Bit 11: TCP segmentation was offloaded.
    pub fn tcp_segmentation_offloaded(self) -> bool {
        self.0 >> 11 & 1 == 1
    }
    /// Bits 12-15, reserved.
    pub fn reserved(self) -> u32 {
        self.0 >> 12 & 0xf
    }
    /// Bits 16-31: link-layer-dependent errors.
    pub fn link_layer_errors(self) -> u32 {
        self.0 >> 16
    }
    /// The named error bits, 24 (CRC error) to 31 (symbol error), as (name, set).
    pub fn errors(self) -> [(&'static str, bool); 8] {
        const NAMES: [&str; 8] = [
            "crc_error",
            "packet_too_long_error",
            "packet_too_short_error",
            "wrong_inter_frame_gap_error",
            "unaligned_frame_error",
            "start_frame_delimiter_error",
            "preamble_error",
            "symbol_error",
        ];
        let mut out = [("", false); 8];
        for (i, name) in NAMES.iter().enumerate() {
            out[i] = (name, self.0 >> (24 + i) & 1 == 1);
        }
        out
    }
}

/// Walks an option list (or a Name Resolution Block's records, which are framed alike):
/// a 16-bit code, a 16-bit length, the value padded to 32 bits; code 0 ends the list.
#[derive(Debug, Clone)]
struct Tlvs<'a> {
    order: ByteOrder,
    rest: &'a [u8],
    /// Where `rest` starts in the list.
    at: usize,
    done: bool,
}

/// One TLV as framed: its header and value, or bytes that cannot be framed and why.
enum Framed<'a> {
    Item(OptionHeader, &'a [u8]),
    Bad(Option<OptionHeader>, &'a [u8], String),
}

impl<'a> Tlvs<'a> {
    fn new(order: ByteOrder, bytes: &'a [u8]) -> Tlvs<'a> {
        Tlvs {
            order,
            rest: bytes,
            at: 0,
            done: false,
        }
    }

    fn u16_at(&self, b: &[u8]) -> u16 {
        match self.order {
            ByteOrder::Little => u16::from_le_bytes([b[0], b[1]]),
            ByteOrder::Big => u16::from_be_bytes([b[0], b[1]]),
        }
    }

    fn next(&mut self, what: &str) -> Option<Framed<'a>> {
        if self.done || self.rest.is_empty() {
            return None;
        }
        let rest = self.rest;
        let take_all = |s: &mut Self| {
            s.done = true;
            s.at += rest.len();
            s.rest = &[];
        };
        if rest.len() < 4 {
            take_all(self);
            return Some(Framed::Bad(
                None,
                rest,
                format!(
                    "{} bytes after the last {what}, too few for a code and a length",
                    rest.len()
                ),
            ));
        }
        let header = OptionHeader {
            code: self.u16_at(rest),
            length: self.u16_at(&rest[2..]),
        };
        let end = 4 + usize::from(header.length);
        if end > rest.len() {
            take_all(self);
            return Some(Framed::Bad(
                Some(header),
                &rest[4..],
                format!(
                    "the {what} announces {} bytes but {} are left in the block",
                    header.length,
                    rest.len() - 4
                ),
            ));
        }
        let advance = end.next_multiple_of(4).min(rest.len());
        self.rest = &rest[advance..];
        self.at += advance;
        if header.code == OPT_ENDOFOPT {
            self.done = true;
        }
        Some(Framed::Item(header, &rest[4..end]))
    }
}

/// The options of a block, decoded one at a time.
#[derive(Debug, Clone)]
pub struct OptionIter<'a> {
    block: OptionBlock,
    clock: Clock,
    tlvs: Tlvs<'a>,
    /// The list ended with `opt_endofopt`; bytes after it are reported once.
    trailing: Option<&'a [u8]>,
}

impl<'a> OptionIter<'a> {
    /// The options in `bytes` (which start with the first option).
    pub fn new(block: OptionBlock, order: ByteOrder, clock: Clock, bytes: &'a [u8]) -> Self {
        OptionIter {
            block,
            clock,
            tlvs: Tlvs::new(order, bytes),
            trailing: None,
        }
    }

    /// The block the options belong to.
    pub fn block(&self) -> OptionBlock {
        self.block
    }

    /// How many options are left, counted without decoding them.
    pub fn count_rest(mut self) -> u64 {
        let mut n = u64::from(self.trailing.is_some());
        while let Some(framed) = self.tlvs.next("option") {
            n += 1;
            if let Framed::Item(h, _) = framed {
                n += u64::from(h.code == OPT_ENDOFOPT && !self.tlvs.rest.is_empty());
            }
        }
        n
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = PcapngOption<'a>;

    fn next(&mut self) -> Option<PcapngOption<'a>> {
        if let Some(data) = self.trailing.take() {
            return Some(PcapngOption {
                header: None,
                value: OptionValue::Malformed {
                    data,
                    reason: format!("{} bytes after opt_endofopt", data.len()),
                },
            });
        }
        match self.tlvs.next("option")? {
            Framed::Bad(header, data, reason) => Some(PcapngOption {
                header,
                value: OptionValue::Malformed { data, reason },
            }),
            Framed::Item(header, value) => {
                if header.code == OPT_ENDOFOPT && !self.tlvs.rest.is_empty() {
                    self.trailing = Some(self.tlvs.rest);
                }
                let value = decode(self.block, self.tlvs.order, self.clock, header.code, value);
                Some(PcapngOption {
                    header: Some(header),
                    value,
                })
            }
        }
    }
}

fn u32_of(order: ByteOrder, b: &[u8]) -> u32 {
    let b = [b[0], b[1], b[2], b[3]];
    match order {
        ByteOrder::Little => u32::from_le_bytes(b),
        ByteOrder::Big => u32::from_be_bytes(b),
    }
}

fn u64_of(order: ByteOrder, b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    match order {
        ByteOrder::Little => u64::from_le_bytes(a),
        ByteOrder::Big => u64::from_be_bytes(a),
    }
}

/// A string value up to its first zero octet (the draft: readers MUST treat one as the
/// end of the string).
fn text(value: &[u8]) -> &[u8] {
    value
        .iter()
        .position(|&b| b == 0)
        .map_or(value, |end| &value[..end])
}

/// How long an option's value must be.
enum Size {
    Exactly(usize),
    AtLeast(usize),
}

fn decode<'a>(
    block: OptionBlock,
    order: ByteOrder,
    clock: Clock,
    code: u16,
    v: &'a [u8],
) -> OptionValue<'a> {
    use OptionBlock as B;
    use OptionValue as O;
    let name = block.name(code).unwrap_or("option");
    let sized = |size: Size, read: &dyn Fn(&'a [u8]) -> OptionValue<'a>| -> OptionValue<'a> {
        let (ok, rule) = match size {
            Size::Exactly(n) => (v.len() == n, format!("{n} bytes long")),
            Size::AtLeast(n) => (v.len() >= n, format!("at least {n} bytes long")),
        };
        if ok {
            read(v)
        } else {
            O::Malformed {
                data: v,
                reason: format!("{name} must be {rule}, not {}", v.len()),
            }
        }
    };
    let uint64 = |v: &[u8]| O::Uint(u64_of(order, v));
    match (block, code) {
        (_, OPT_ENDOFOPT) => sized(Size::Exactly(0), &|_| O::End),
        (_, OPT_COMMENT) => O::Text(text(v)),
        (_, 2988 | 2989 | 19372 | 19373) => sized(Size::AtLeast(4), &|v| O::Custom {
            pen: u32_of(order, v),
            data: if code % 2 == 0 {
                text(&v[4..])
            } else {
                &v[4..]
            },
            text: code % 2 == 0,
        }),
        (B::Section, 2..=4) | (B::Interface, 2 | 3 | 12 | 15 | 18) | (B::NameResolution, 2) => {
            O::Text(text(v))
        }
        (B::Interface, 4) => sized(Size::Exactly(8), &|v| O::Ipv4Net {
            address: Ipv4Addr::new(v[0], v[1], v[2], v[3]),
            netmask: Ipv4Addr::new(v[4], v[5], v[6], v[7]),
        }),
        (B::Interface, 5) => sized(Size::Exactly(17), &|v| {
            let mut a = [0u8; 16];
            a.copy_from_slice(&v[..16]);
            O::Ipv6Net {
                address: Ipv6Addr::from(a),
                prefix_length: v[16],
            }
        }),
        (B::Interface, 6) => sized(Size::Exactly(6), &|v| {
            O::Mac([v[0], v[1], v[2], v[3], v[4], v[5]])
        }),
        (B::Interface, 7) => sized(Size::Exactly(8), &|v| O::Bytes(v)),
        (B::Interface, 8 | 16 | 17) => sized(Size::Exactly(8), &uint64),
        (B::Interface, 9 | 13) => sized(Size::Exactly(1), &|v| O::Uint(u64::from(v[0]))),
        (B::Interface, 10) => sized(Size::Exactly(4), &|v| O::Uint(u64::from(u32_of(order, v)))),
        (B::Interface, 11) => sized(Size::AtLeast(1), &|v| O::Filter {
            kind: v[0],
            filter: if v[0] == 0 { text(&v[1..]) } else { &v[1..] },
        }),
        (B::Interface, 14) => sized(Size::Exactly(8), &|v| O::Int(u64_of(order, v) as i64)),
        (B::EnhancedPacket | B::Packet, 2) => sized(Size::Exactly(4), &|v| {
            O::Flags(PacketFlags(u32_of(order, v)))
        }),
        (B::EnhancedPacket | B::Packet, 3) => sized(Size::AtLeast(1), &|v| {
            let hash = &v[1..];
            match hash_size(v[0]) {
                Some(n) if n != hash.len() => O::Malformed {
                    data: v,
                    reason: format!(
                        "a {} hash is {n} bytes long, not {}",
                        registry::pcapng_hash_algorithm(u64::from(v[0])).unwrap_or("?"),
                        hash.len()
                    ),
                },
                _ => O::Hash {
                    algorithm: v[0],
                    hash,
                },
            }
        }),
        (B::EnhancedPacket, 4..=5) => sized(Size::Exactly(8), &uint64),
        (B::EnhancedPacket, 6) => {
            sized(Size::Exactly(4), &|v| O::Uint(u64::from(u32_of(order, v))))
        }
        (B::EnhancedPacket, 7) => sized(Size::AtLeast(1), &|v| {
            let data = &v[1..];
            match (v[0], data.len()) {
                (0, _) => O::Verdict {
                    kind: 0,
                    value: None,
                    data,
                },
                (1 | 2, 8) => O::Verdict {
                    kind: v[0],
                    value: Some(u64_of(order, data)),
                    data,
                },
                (1 | 2, n) => O::Malformed {
                    data: v,
                    reason: format!("an eBPF verdict is 8 bytes long, not {n}"),
                },
                _ => O::Verdict {
                    kind: v[0],
                    value: None,
                    data,
                },
            }
        }),
        (B::EnhancedPacket, 8) => sized(Size::Exactly(8), &|v| O::ProcessThread {
            process: u32_of(order, v),
            thread: u32_of(order, &v[4..]),
        }),
        (B::NameResolution, 3) => sized(Size::Exactly(4), &|v| {
            O::Ipv4(Ipv4Addr::new(v[0], v[1], v[2], v[3]))
        }),
        (B::NameResolution, 4) => sized(Size::Exactly(16), &|v| {
            let mut a = [0u8; 16];
            a.copy_from_slice(v);
            O::Ipv6(Ipv6Addr::from(a))
        }),
        (B::InterfaceStatistics, 2 | 3) => sized(Size::Exactly(8), &|v| {
            // Two 32-bit words, the upper half first, as an EPB's timestamp.
            let units = u64::from(u32_of(order, v)) << 32 | u64::from(u32_of(order, &v[4..]));
            O::Time(clock.timestamp(units))
        }),
        (B::InterfaceStatistics, 4..=8) => sized(Size::Exactly(8), &uint64),
        _ => O::Unknown(v),
    }
}

/// The length of a hash of a known algorithm (2s complement and XOR are not specified).
fn hash_size(algorithm: u8) -> Option<usize> {
    match algorithm {
        2 | 5 => Some(4),
        3 => Some(16),
        4 => Some(20),
        _ => None,
    }
}

/// A pcapng block that neither starts a section, describes an interface nor holds a
/// packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Metadata {
    /// Name Resolution Block: addresses and their names.
    NameResolution(NameResolution),
    /// Interface Statistics Block: an interface's capture counters.
    InterfaceStatistics(InterfaceStatistics),
    /// Decryption Secrets Block: its type and length (the secrets are not kept).
    DecryptionSecrets(DecryptionSecrets),
    /// Custom Block: a vendor's enterprise number and the length of its data.
    Custom(CustomBlock),
}

impl Metadata {
    /// The 1-based section the block is in.
    pub fn section(&self) -> u32 {
        match self {
            Metadata::NameResolution(b) => b.section,
            Metadata::InterfaceStatistics(b) => b.section,
            Metadata::DecryptionSecrets(b) => b.section,
            Metadata::Custom(b) => b.section,
        }
    }
}

/// A Name Resolution Block, as the file holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameResolution {
    /// 1-based section number.
    pub section: u32,
    /// The section's byte order.
    pub order: ByteOrder,
    /// The block's body: records, then options.
    pub body: Vec<u8>,
}

impl NameResolution {
    /// The records, decoded, up to and including `nrb_record_end`.
    pub fn records(&self) -> RecordIter<'_> {
        RecordIter {
            tlvs: Tlvs::new(self.order, &self.body),
        }
    }

    /// The options after the records (none when the records do not end before the
    /// block does).
    pub fn options(&self) -> OptionIter<'_> {
        let mut records = self.records();
        for _ in records.by_ref() {}
        let at = records.tlvs.at.min(self.body.len());
        OptionIter::new(
            OptionBlock::NameResolution,
            self.order,
            Clock::default(),
            &self.body[at..],
        )
    }
}

/// The names of a record: zero-terminated strings, one after the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Names<'a>(&'a [u8]);

impl<'a> Names<'a> {
    /// Each name, without its terminating zero.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> {
        // The bytes end with a zero (checked when the record is read): split before it.
        self.0[..self.0.len() - 1].split(|&b| b == 0)
    }
}

/// One record of a Name Resolution Block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameRecord<'a> {
    /// Record type and length; `None` for bytes at the end too few to hold them.
    pub header: Option<OptionHeader>,
    /// The record.
    pub value: RecordValue<'a>,
}

/// A record's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordValue<'a> {
    /// `nrb_record_end`.
    End,
    /// `nrb_record_ipv4`.
    Ipv4(Ipv4Addr, Names<'a>),
    /// `nrb_record_ipv6`.
    Ipv6(Ipv6Addr, Names<'a>),
    /// `nrb_record_eui48`.
    Eui48([u8; 6], Names<'a>),
    /// `nrb_record_eui64`.
    Eui64(&'a [u8], Names<'a>),
    /// A record type the draft does not define: its bytes.
    Unknown(&'a [u8]),
    /// A record that cannot be read as its type says: its bytes, and why.
    Malformed {
        /// The bytes.
        data: &'a [u8],
        /// Why.
        reason: String,
    },
}

/// The records of a Name Resolution Block, decoded one at a time.
#[derive(Debug, Clone)]
pub struct RecordIter<'a> {
    tlvs: Tlvs<'a>,
}

impl RecordIter<'_> {
    /// How many records are left, counted without decoding them.
    pub fn count_rest(mut self) -> u64 {
        let mut n = 0;
        while self.tlvs.next("record").is_some() {
            n += 1;
        }
        n
    }
}

impl<'a> Iterator for RecordIter<'a> {
    type Item = NameRecord<'a>;

    fn next(&mut self) -> Option<NameRecord<'a>> {
        let (header, v) = match self.tlvs.next("record")? {
            Framed::Bad(header, data, reason) => {
                return Some(NameRecord {
                    header,
                    value: RecordValue::Malformed { data, reason },
                })
            }
            Framed::Item(h, v) => (h, v),
        };
        let address_len = match header.code {
            0 if v.is_empty() => {
                return Some(NameRecord {
                    header: Some(header),
                    value: RecordValue::End,
                })
            }
            0 => 0,
            1 => 4,
            2 => 16,
            3 => 6,
            4 => 8,
            _ => {
                return Some(NameRecord {
                    header: Some(header),
                    value: RecordValue::Unknown(v),
                })
            }
        };
        let name = registry::pcapng_nrb_record(u64::from(header.code)).unwrap_or("record");
        let malformed = |reason: String| NameRecord {
            header: Some(header),
            value: RecordValue::Malformed { data: v, reason },
        };
        if header.code == 0 {
            return Some(malformed(format!(
                "{name} has {} bytes; it has none",
                v.len()
            )));
        }
        // An address, then at least one name and its terminating zero.
        if v.len() < address_len + 1 {
            return Some(malformed(format!(
                "{name} must hold a {address_len}-byte address and a name, but has {} bytes",
                v.len()
            )));
        }
        let (a, names) = v.split_at(address_len);
        if names.last() != Some(&0) {
            return Some(malformed(format!(
                "the last name of the {name} is not zero-terminated"
            )));
        }
        let names = Names(names);
        let value = match header.code {
            1 => RecordValue::Ipv4(Ipv4Addr::new(a[0], a[1], a[2], a[3]), names),
            2 => {
                let mut b = [0u8; 16];
                b.copy_from_slice(a);
                RecordValue::Ipv6(Ipv6Addr::from(b), names)
            }
            3 => RecordValue::Eui48([a[0], a[1], a[2], a[3], a[4], a[5]], names),
            _ => RecordValue::Eui64(a, names),
        };
        Some(NameRecord {
            header: Some(header),
            value,
        })
    }
}

/// An Interface Statistics Block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceStatistics {
    /// 1-based section number.
    pub section: u32,
    /// The interface (index in its section), when the block is long enough to say.
    pub interface: Option<u32>,
    /// When the statistics were taken, with the interface's clock.
    pub timestamp: Option<Timestamp>,
    /// The counters and times, as options.
    pub options: Options,
    /// What is wrong with the block, if anything.
    pub malformed: Option<String>,
}

/// A Decryption Secrets Block: what kind of secrets and how many bytes; the secrets
/// themselves are never kept, so no output can leak them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecryptionSecrets {
    /// 1-based section number.
    pub section: u32,
    /// The secrets' format (`0x544c534b`, TLS Key Log), when the block is long enough.
    pub secrets_type: Option<u32>,
    /// Length of the secrets in bytes, as the block says.
    pub secrets_length: Option<u32>,
    /// The block's options (after the secrets).
    pub options: Options,
    /// What is wrong with the block, if anything.
    pub malformed: Option<String>,
}

/// A Custom Block: a vendor's data, opaque without the vendor's format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomBlock {
    /// 1-based section number.
    pub section: u32,
    /// `0x00000BAD` (may be copied) or `0x40000BAD` (should not be).
    pub block_type: u32,
    /// The vendor's IANA Private Enterprise Number, when the block is long enough.
    pub pen: Option<u32>,
    /// Bytes after the enterprise number: the custom data and any options, which only
    /// the vendor's format tells apart.
    pub length: u32,
    /// What is wrong with the block, if anything.
    pub malformed: Option<String>,
}

/// Reads the body of a metadata block of type `block_type` (NRB 4, ISB 5, DSB 10, a
/// Custom Block); `None` for other types. `clock_of` gives an interface's clock.
pub(crate) fn read(
    block_type: u32,
    section: u32,
    order: ByteOrder,
    body: &[u8],
    clock_of: impl Fn(u32) -> Option<Clock>,
) -> Option<Metadata> {
    let options = |block, clock, from: usize| Options {
        block,
        order,
        clock,
        bytes: body.get(from..).unwrap_or_default().to_vec(),
    };
    Some(match block_type {
        4 => Metadata::NameResolution(NameResolution {
            section,
            order,
            body: body.to_vec(),
        }),
        5 => {
            let mut malformed = None;
            let (interface, timestamp, clock) = if body.len() < 12 {
                malformed = Some(format!(
                    "the block holds {} bytes, too few for an interface and a timestamp (12)",
                    body.len()
                ));
                (None, None, Clock::default())
            } else {
                let interface = u32_of(order, body);
                let clock = clock_of(interface).unwrap_or_else(|| {
                    malformed = Some(format!(
                        "interface {interface} is not described in section {section}; times are read in microseconds"
                    ));
                    Clock::default()
                });
                let units = u64::from(u32_of(order, &body[4..])) << 32
                    | u64::from(u32_of(order, &body[8..]));
                (Some(interface), Some(clock.timestamp(units)), clock)
            };
            Metadata::InterfaceStatistics(InterfaceStatistics {
                section,
                interface,
                timestamp,
                options: options(
                    OptionBlock::InterfaceStatistics,
                    clock,
                    if body.len() < 12 { body.len() } else { 12 },
                ),
                malformed,
            })
        }
        10 => {
            let none = || options(OptionBlock::DecryptionSecrets, Clock::default(), body.len());
            let dsb = if body.len() < 8 {
                DecryptionSecrets {
                    section,
                    secrets_type: None,
                    secrets_length: None,
                    options: none(),
                    malformed: Some(format!(
                        "the block holds {} bytes, too few for a secrets type and length (8)",
                        body.len()
                    )),
                }
            } else {
                let length = u32_of(order, &body[4..]);
                let end = (length as usize).saturating_add(8).next_multiple_of(4);
                let (opts, malformed) = if end <= body.len() {
                    (
                        options(OptionBlock::DecryptionSecrets, Clock::default(), end),
                        None,
                    )
                } else {
                    (
                        none(),
                        Some(format!(
                            "the secrets' length {length} runs past the block ({} bytes after the length)",
                            body.len() - 8
                        )),
                    )
                };
                DecryptionSecrets {
                    section,
                    secrets_type: Some(u32_of(order, body)),
                    secrets_length: Some(length),
                    options: opts,
                    malformed,
                }
            };
            Metadata::DecryptionSecrets(dsb)
        }
        0x0000_0BAD | 0x4000_0BAD => Metadata::Custom(if body.len() < 4 {
            CustomBlock {
                section,
                block_type,
                pen: None,
                length: 0,
                malformed: Some(format!(
                    "the block holds {} bytes, too few for an enterprise number (4)",
                    body.len()
                )),
            }
        } else {
            CustomBlock {
                section,
                block_type,
                pen: Some(u32_of(order, body)),
                length: (body.len() - 4) as u32,
                malformed: None,
            }
        }),
        _ => return None,
    })
}
