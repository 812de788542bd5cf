//! pcapng files: a sequence of blocks, each `type, total length, body, total length`.
//! A Section Header Block starts a section and sets its byte order; Interface
//! Description Blocks describe the section's interfaces (link type, timestamp resolution
//! and offset); Enhanced, Simple and (obsolete) Packet Blocks carry packets; Name
//! Resolution, Interface Statistics, Decryption Secrets and Custom Blocks are metadata
//! ([`pcapng_meta`](super::pcapng_meta)). Other block types are skipped.

use deku::ctx::Endian;

use super::pcapng_meta::{self, Clock, OptionBlock, Options};
use super::source::Source;
use super::{ByteOrder, Event, Record, Span, Step};
use crate::chain::Timestamp;
use crate::protocols::pcapng_block::PcapngBlock;
use crate::protocols::pcapng_epb::PcapngEpb;
use crate::protocols::pcapng_idb::PcapngIdb;
use crate::protocols::pcapng_opb::PcapngOpb;
use crate::protocols::pcapng_shb::PcapngShb;
use crate::protocols::pcapng_spb::PcapngSpb;
use crate::protocols::tlv::pcapng_if_option::PcapngIfOption;

/// The block type of a Section Header Block, the same in both byte orders.
pub const SHB_TYPE: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;
const IDB: u32 = 1;
const OPB: u32 = 2;
const SPB: u32 = 3;
const EPB: u32 = 6;
/// Largest block accepted: a larger length means the file is damaged.
const MAX_BLOCK: u32 = 64 << 20;
/// Bytes of a Section Header Block body before its options.
const SHB_FIXED: usize = 16;
/// Bytes of an Interface Description Block body before its options.
const IDB_FIXED: usize = 8;

/// A section, as its header block describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// 1-based.
    pub number: u32,
    /// Byte order of every block in the section, from the header's byte-order magic.
    pub byte_order: ByteOrder,
    /// The Section Header Block as read (version, section length, options).
    pub header: PcapngShb,
    /// The block's options, as the dumps show them (named as the draft names them).
    pub options: Options,
}

/// An interface of a section.
#[derive(Debug, Clone, PartialEq)]
pub struct Interface {
    /// 1-based section number.
    pub section: u32,
    /// 0-based index in the section, as packets name it.
    pub index: u32,
    /// The Interface Description Block as read (link type, snaplen, options).
    pub header: PcapngIdb,
    /// Timestamp resolution: `if_tsresol` (10^-n seconds, or 2^-n with the top bit set).
    pub tsresol: u8,
    /// Seconds added to every timestamp: `if_tsoffset`.
    pub tsoffset: i64,
    /// The block's options, as the dumps show them (named as the draft names them).
    pub options: Options,
}

impl Interface {
    fn new(section: u32, index: u32, header: PcapngIdb, options: Options) -> Interface {
        let mut tsresol = 6;
        let mut tsoffset = 0;
        for option in header.options.known() {
            match option {
                PcapngIfOption::IfTsresol(r) => tsresol = r.if_tsresol,
                PcapngIfOption::IfTsoffset(o) => tsoffset = o.if_tsoffset,
                _ => {}
            }
        }
        Interface {
            section,
            index,
            header,
            tsresol,
            tsoffset,
            options: Options {
                clock: Clock { tsresol, tsoffset },
                ..options
            },
        }
    }

    /// Link-layer header type of the interface's packets (LINKTYPE_ value).
    pub fn linktype(&self) -> u32 {
        u32::from(self.header.linktype)
    }

    /// A timestamp in this interface's units, as seconds and nanoseconds.
    pub fn timestamp(&self, units: u64) -> Timestamp {
        self.clock().timestamp(units)
    }

    /// The interface's timestamp resolution and offset.
    pub fn clock(&self) -> Clock {
        Clock {
            tsresol: self.tsresol,
            tsoffset: self.tsoffset,
        }
    }
}

#[derive(Default)]
pub struct State {
    order: Option<ByteOrder>,
    section: u32,
    interfaces: Vec<Interface>,
    block: Vec<u8>,
    number: u64,
    /// The options of the last packet block: where they start in `block`, and the kind
    /// of block (none when the block has no option bytes).
    packet_options: Option<(usize, OptionBlock)>,
}

impl State {
    /// The body of the current block.
    pub fn block(&self) -> &[u8] {
        &self.block
    }

    /// The options of the packet block read last, if it has any.
    pub fn packet_options(&self) -> Option<Options> {
        let (from, block) = self.packet_options?;
        Some(Options {
            block,
            order: self.order?,
            clock: Clock::default(),
            bytes: self.block.get(from..)?.to_vec(),
        })
    }
}

fn u32_at(bytes: &[u8], order: ByteOrder) -> u32 {
    let b = [bytes[0], bytes[1], bytes[2], bytes[3]];
    match order {
        ByteOrder::Little => u32::from_le_bytes(b),
        ByteOrder::Big => u32::from_be_bytes(b),
    }
}

pub fn next(source: &mut Source, state: &mut State, span: &mut Span) -> Step {
    loop {
        let offset = source.offset();
        let head = match source.fill(12) {
            Ok([]) => return Step::End,
            Ok(h) if h.len() < 12 => {
                return Step::Stop(format!(
                    "the file ends inside a block header (offset {offset}, {} bytes left)",
                    h.len()
                ))
            }
            Ok(h) => h,
            Err(e) => return Step::Stop(format!("read error at offset {offset}: {e}")),
        };
        // A section header sets the byte order: look at its magic before its length.
        let order = if head[..4] == SHB_TYPE {
            match u32::from_le_bytes([head[8], head[9], head[10], head[11]]) {
                BYTE_ORDER_MAGIC => ByteOrder::Little,
                m if m.swap_bytes() == BYTE_ORDER_MAGIC => ByteOrder::Big,
                _ => {
                    return Step::Stop(format!(
                        "section header at offset {offset} has no byte-order magic"
                    ))
                }
            }
        } else {
            match state.order {
                Some(o) => o,
                None => {
                    return Step::Stop(format!(
                        "block at offset {offset} comes before any section header"
                    ))
                }
            }
        };
        let (block, _) = match PcapngBlock::parse(head, order.deku()) {
            Ok(b) => b,
            Err(e) => return Step::Stop(format!("block at offset {offset}: {e}")),
        };
        let total = block.total_length;
        if total < 12 || total % 4 != 0 || total > MAX_BLOCK {
            return Step::Stop(format!("block at offset {offset} has an impossible length {total}: the file is damaged here"));
        }
        let total = total as usize;
        let bytes = match source.fill(total) {
            Ok(b) => b,
            Err(e) => return Step::Stop(format!("read error at offset {offset}: {e}")),
        };
        if bytes.len() < total {
            return Step::Stop(format!(
                "the file ends inside a block (offset {offset}: {} of its {total} bytes are there)",
                bytes.len()
            ));
        }
        if u32_at(&bytes[total - 4..], order) as usize != total {
            return Step::Stop(format!("block at offset {offset}: its trailing length does not match {total}: the file is damaged here"));
        }
        state.block.clear();
        state.block.extend_from_slice(&bytes[8..total - 4]);
        state.packet_options = None;
        source.consume(total);
        let endian = order.deku();
        let event = match block.block_type {
            t if t.to_le_bytes() == SHB_TYPE => section(state, order, offset),
            IDB => interface(state, endian, offset),
            EPB => enhanced(state, endian, offset, span),
            SPB => simple(state, endian, offset, span),
            OPB => obsolete(state, endian, offset, span),
            t => {
                let interfaces = &state.interfaces;
                let clock_of = |i: u32| interfaces.get(i as usize).map(Interface::clock);
                match pcapng_meta::read(t, state.section, order, &state.block, clock_of) {
                    Some(m) => Step::Event(Event::Metadata(m)),
                    None => continue, // block types with nothing to show
                }
            }
        };
        return event;
    }
}

fn section(state: &mut State, order: ByteOrder, offset: u64) -> Step {
    match PcapngShb::parse(&state.block, order.deku()) {
        Ok((header, _)) if header.version_major == 1 => {
            state.order = Some(order);
            state.section += 1;
            state.interfaces.clear();
            let options = Options {
                block: OptionBlock::Section,
                order,
                clock: Clock::default(),
                bytes: state.block.get(SHB_FIXED..).unwrap_or_default().to_vec(),
            };
            Step::Event(Event::Section(Section {
                number: state.section,
                byte_order: order,
                header,
                options,
            }))
        }
        Ok((header, _)) => Step::Stop(format!(
            "section header at offset {offset}: pcapng version {}.{} is not supported",
            header.version_major, header.version_minor
        )),
        Err(e) => Step::Stop(format!("section header at offset {offset}: {e}")),
    }
}

fn interface(state: &mut State, endian: Endian, offset: u64) -> Step {
    match PcapngIdb::parse(&state.block, endian) {
        Ok((header, _)) => {
            let index = state.interfaces.len() as u32;
            let options = Options {
                block: OptionBlock::Interface,
                order: state.order.unwrap_or(ByteOrder::Little),
                clock: Clock::default(),
                bytes: state.block.get(IDB_FIXED..).unwrap_or_default().to_vec(),
            };
            let iface = Interface::new(state.section, index, header, options);
            state.interfaces.push(iface.clone());
            Step::Event(Event::Interface(iface))
        }
        Err(e) => Step::Stop(format!("interface description at offset {offset}: {e}")),
    }
}

/// What the three kinds of packet block say about their packet.
struct PacketInfo {
    interface: u32,
    /// Timestamp in the interface's units (none in a simple packet block).
    units: Option<u64>,
    /// Where the packet's bytes start in the block body.
    body_at: usize,
    cap_len: u32,
    orig_len: u32,
    /// The kind of block, for its options (a Simple Packet Block has none).
    options: Option<OptionBlock>,
}

/// The packet of a packet block: checks its interface and length, locates its bytes.
fn packet(state: &mut State, offset: u64, info: PacketInfo, span: &mut Span) -> Step {
    let PacketInfo {
        interface,
        units,
        body_at,
        cap_len,
        orig_len,
        options,
    } = info;
    let Some(iface) = state.interfaces.get(interface as usize) else {
        return Step::Stop(format!(
            "packet block at offset {offset} names interface {interface}, but the section describes {}",
            state.interfaces.len()
        ));
    };
    let end = body_at.saturating_add(cap_len as usize);
    if end > state.block.len() {
        return Step::Stop(format!(
            "packet block at offset {offset} claims {cap_len} bytes but holds {}: the file is damaged here",
            state.block.len().saturating_sub(body_at)
        ));
    }
    *span = Span::Block {
        from: body_at,
        len: end - body_at,
    };
    // Options follow the packet data padded to 32 bits.
    let options_at = end.next_multiple_of(4);
    state.packet_options = options
        .filter(|_| options_at < state.block.len())
        .map(|o| (options_at, o));
    state.number += 1;
    let timestamp = units.map_or_else(Timestamp::default, |u| iface.timestamp(u));
    Step::Event(Event::Packet(Record {
        timestamp,
        orig_len,
        linktype: iface.linktype(),
        interface: Some(interface),
        ts_frac: timestamp.nanos,
        nanosecond: true,
    }))
}

fn enhanced(state: &mut State, endian: Endian, offset: u64, span: &mut Span) -> Step {
    match PcapngEpb::parse(&state.block, endian) {
        Ok((h, len)) => {
            let units = (u64::from(h.ts_high) << 32) | u64::from(h.ts_low);
            let info = PacketInfo {
                interface: h.interface_id,
                units: Some(units),
                body_at: len,
                cap_len: h.cap_len,
                orig_len: h.orig_len,
                options: Some(OptionBlock::EnhancedPacket),
            };
            packet(state, offset, info, span)
        }
        Err(e) => Step::Stop(format!("enhanced packet block at offset {offset}: {e}")),
    }
}

fn obsolete(state: &mut State, endian: Endian, offset: u64, span: &mut Span) -> Step {
    match PcapngOpb::parse(&state.block, endian) {
        Ok((h, len)) => {
            let units = (u64::from(h.ts_high) << 32) | u64::from(h.ts_low);
            let info = PacketInfo {
                interface: u32::from(h.interface_id),
                units: Some(units),
                body_at: len,
                cap_len: h.cap_len,
                orig_len: h.orig_len,
                options: Some(OptionBlock::Packet),
            };
            packet(state, offset, info, span)
        }
        Err(e) => Step::Stop(format!("packet block at offset {offset}: {e}")),
    }
}

fn simple(state: &mut State, endian: Endian, offset: u64, span: &mut Span) -> Step {
    match PcapngSpb::parse(&state.block, endian) {
        Ok((h, len)) => {
            // The block holds the packet padded to 32 bits; the snaplen may cut it shorter.
            let held = (state.block.len() - len) as u32;
            let snaplen = state.interfaces.first().map_or(0, |i| i.header.snaplen);
            let mut cap_len = h.orig_len.min(held);
            if snaplen > 0 {
                cap_len = cap_len.min(snaplen);
            }
            let info = PacketInfo {
                interface: 0,
                units: None,
                body_at: len,
                cap_len,
                orig_len: h.orig_len,
                options: None,
            };
            packet(state, offset, info, span)
        }
        Err(e) => Step::Stop(format!("simple packet block at offset {offset}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlv::TlvList;

    fn iface(tsresol: u8, tsoffset: i64) -> Interface {
        Interface {
            section: 1,
            index: 0,
            header: PcapngIdb {
                linktype: 1,
                reserved: 0,
                snaplen: 0,
                options: TlvList::default(),
            },
            tsresol,
            tsoffset,
            options: Options {
                block: OptionBlock::Interface,
                order: ByteOrder::Little,
                clock: Clock::default(),
                bytes: Vec::new(),
            },
        }
    }

    #[test]
    fn timestamps_in_every_resolution() {
        let t = iface(6, 0).timestamp(1_519_128_000_195_312);
        assert_eq!((t.secs, t.nanos), (1_519_128_000, 195_312_000));
        let t = iface(9, 0).timestamp(1_519_128_000_195_312_500);
        assert_eq!((t.secs, t.nanos), (1_519_128_000, 195_312_500));
        // 2^-8 seconds: 50/256 = 0.1953125
        let t = iface(0x88, 0).timestamp((1_519_128_000 << 8) | 50);
        assert_eq!((t.secs, t.nanos), (1_519_128_000, 195_312_500));
        let t = iface(0, 10).timestamp(5);
        assert_eq!((t.secs, t.nanos), (15, 0));
    }
}
