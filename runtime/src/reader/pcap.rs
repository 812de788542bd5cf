//! pcap (libpcap) files: a 24-byte header, then records of a 16-byte header and the
//! packet's bytes. The magic number gives the byte order and whether the sub-second part
//! is in microseconds or nanoseconds; the "modified" format (Alexey Kuznetsov's patch,
//! magic a1b2cd34) adds 8 bytes to every record header.

use super::source::Source;
use super::{hex, ByteOrder, Event, ReadError, Record, Span, Step};
use crate::chain::Timestamp;
use crate::protocols::pcap_header::PcapHeader as Raw;
use crate::protocols::pcap_record::PcapRecord;

/// Largest record accepted: a larger length means the file is damaged.
const MAX_RECORD: u32 = 16 << 20;

/// What the pcap file header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcapHeader {
    /// The header as read (magic number, version, time zone, snaplen, link type...).
    pub raw: Raw,
    /// Byte order of the file, from the magic number.
    pub byte_order: ByteOrder,
    /// Record timestamps' sub-second part is in nanoseconds (magic a1b23c4d), not
    /// microseconds.
    pub nanosecond: bool,
    /// The "modified" pcap format, with 8 more bytes per record header.
    pub modified: bool,
}

impl PcapHeader {
    /// Link-layer header type of every record (LINKTYPE_ value).
    pub fn linktype(&self) -> u32 {
        u32::from(self.raw.linktype())
    }
}

pub struct State {
    order: ByteOrder,
    nanosecond: bool,
    record_len: usize,
    linktype: u32,
    number: u64,
}

pub fn open(source: &mut Source, magic: [u8; 4]) -> Result<(State, PcapHeader), ReadError> {
    let (order, nanosecond, modified) = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] => (ByteOrder::Little, false, false),
        [0xa1, 0xb2, 0xc3, 0xd4] => (ByteOrder::Big, false, false),
        [0x4d, 0x3c, 0xb2, 0xa1] => (ByteOrder::Little, true, false),
        [0xa1, 0xb2, 0x3c, 0x4d] => (ByteOrder::Big, true, false),
        [0x34, 0xcd, 0xb2, 0xa1] => (ByteOrder::Little, false, true),
        [0xa1, 0xb2, 0xcd, 0x34] => (ByteOrder::Big, false, true),
        other => return Err(ReadError::NotACapture(hex(&other))),
    };
    let bytes = source.fill(24)?;
    if bytes.len() < 24 {
        return Err(ReadError::TruncatedHeader("pcap file header"));
    }
    let (raw, _) = Raw::parse(bytes, order.deku())
        .map_err(|e| ReadError::Unsupported(format!("pcap file header: {e}")))?;
    if raw.version_major != 2 {
        return Err(ReadError::Unsupported(format!(
            "pcap version {}.{} is not supported (only 2.x exists)",
            raw.version_major, raw.version_minor
        )));
    }
    source.consume(24);
    let state = State {
        order,
        nanosecond,
        record_len: if modified { 24 } else { 16 },
        linktype: u32::from(raw.linktype()),
        number: 0,
    };
    Ok((
        state,
        PcapHeader {
            raw,
            byte_order: order,
            nanosecond,
            modified,
        },
    ))
}

pub fn next(source: &mut Source, state: &mut State, span: &mut Span) -> Step {
    let offset = source.offset();
    let header = match source.fill(state.record_len) {
        Ok([]) => return Step::End,
        Ok(h) if h.len() < state.record_len => {
            return Step::Stop(format!(
                "the file ends inside the header of record {} (offset {offset}: {} of {} bytes)",
                state.number + 1,
                h.len(),
                state.record_len
            ))
        }
        Ok(h) => h,
        Err(e) => return Step::Stop(format!("read error at offset {offset}: {e}")),
    };
    let record = match PcapRecord::parse(header, state.order.deku()) {
        Ok((r, _)) => r,
        Err(e) => {
            return Step::Stop(format!(
                "record {} at offset {offset}: {e}",
                state.number + 1
            ))
        }
    };
    if record.incl_len > MAX_RECORD {
        return Step::Stop(format!(
            "record {} at offset {offset} claims {} bytes: the file is damaged here",
            state.number + 1,
            record.incl_len
        ));
    }
    let total = state.record_len + record.incl_len as usize;
    let bytes = match source.fill(total) {
        Ok(b) => b,
        Err(e) => return Step::Stop(format!("read error at offset {offset}: {e}")),
    };
    if bytes.len() < total {
        return Step::Stop(format!(
            "the file ends inside record {} (offset {offset}: {} of its {} bytes are there)",
            state.number + 1,
            bytes.len().saturating_sub(state.record_len),
            record.incl_len
        ));
    }
    *span = Span::Input {
        offset: offset + state.record_len as u64,
        len: total - state.record_len,
    };
    source.consume(total);
    // The next record header and the start of its packet: load them while this one is
    // being dissected.
    source.prefetch(0);
    source.prefetch(64);
    state.number += 1;
    let frac_ns = if state.nanosecond {
        u64::from(record.ts_frac)
    } else {
        u64::from(record.ts_frac) * 1000
    };
    let timestamp = Timestamp {
        secs: i64::from(record.ts_sec) + (frac_ns / 1_000_000_000) as i64,
        nanos: (frac_ns % 1_000_000_000) as u32,
    };
    Step::Event(Event::Packet(Record {
        timestamp,
        orig_len: record.orig_len,
        linktype: state.linktype,
        interface: None,
        ts_frac: record.ts_frac,
        nanosecond: state.nanosecond,
    }))
}
