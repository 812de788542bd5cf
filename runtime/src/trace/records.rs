//! pcap and pcapng files holding a flow's original records: the same bytes, the same
//! lengths, the times at the chosen resolution, in the chosen byte order.

use crate::chain::{Frame, Timestamp};
use crate::reader::ByteOrder;

/// Snapshot length written in a pcap file header: the largest record Wireshark reads for
/// most link types (a record keeps its own captured length whatever this says).
const PCAP_SNAPLEN: u32 = 262_144;

/// pcapng block types.
const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 1;
const EPB: u32 = 6;
/// pcapng option codes.
const OPT_END: u16 = 0;
const SHB_USERAPPL: u16 = 4;
const IF_TSRESOL: u16 = 9;

/// How records are written: which container, byte order and time resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordFormat {
    /// pcapng rather than pcap.
    pub pcapng: bool,
    /// Byte order of every header.
    pub byte_order: ByteOrder,
    /// Times in nanoseconds rather than microseconds.
    pub nanosecond: bool,
}

/// One trace file's record state: the link types its interfaces stand for (pcapng: one
/// interface per link type met; pcap: the file header's only).
#[derive(Debug, Default)]
pub struct RecordFile {
    linktypes: Vec<u32>,
}

/// Why a record was not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    /// A pcap file has one link type, and the frame has another.
    OtherLinkType,
}

impl RecordFormat {
    fn u16(self, out: &mut Vec<u8>, v: u16) {
        out.extend_from_slice(&match self.byte_order {
            ByteOrder::Little => v.to_le_bytes(),
            ByteOrder::Big => v.to_be_bytes(),
        });
    }

    fn u32(self, out: &mut Vec<u8>, v: u32) {
        out.extend_from_slice(&match self.byte_order {
            ByteOrder::Little => v.to_le_bytes(),
            ByteOrder::Big => v.to_be_bytes(),
        });
    }

    /// The sub-second part of `t` in the file's unit (truncated, never rounded up into
    /// the next second).
    fn fraction(self, t: Timestamp) -> u32 {
        if self.nanosecond {
            t.nanos
        } else {
            t.nanos / 1000
        }
    }

    /// Writes the file's opening: a pcap file header for `linktype`, or a pcapng section
    /// header (interfaces follow as their link types are met).
    pub fn begin(self, out: &mut Vec<u8>, file: &mut RecordFile, linktype: u32) {
        if self.pcapng {
            let mut body = Vec::with_capacity(32);
            self.u32(&mut body, 0x1A2B_3C4D);
            self.u16(&mut body, 1);
            self.u16(&mut body, 0);
            // Section length unknown: -1.
            body.extend_from_slice(&[0xff; 8]);
            self.option(&mut body, SHB_USERAPPL, b"pcapkit");
            self.u16(&mut body, OPT_END);
            self.u16(&mut body, 0);
            self.block(out, SHB, &body);
        } else {
            let magic: u32 = if self.nanosecond {
                0xA1B2_3C4D
            } else {
                0xA1B2_C3D4
            };
            self.u32(out, magic);
            self.u16(out, 2);
            self.u16(out, 4);
            self.u32(out, 0); // thiszone
            self.u32(out, 0); // sigfigs
            self.u32(out, PCAP_SNAPLEN);
            self.u32(out, linktype);
            file.linktypes.push(linktype);
        }
    }

    /// Writes `frame`'s record (its captured bytes are `frame.data`).
    pub fn record(
        self,
        out: &mut Vec<u8>,
        file: &mut RecordFile,
        frame: &Frame,
    ) -> Result<(), Skipped> {
        let t = frame.timestamp;
        if !self.pcapng {
            if file.linktypes.first() != Some(&frame.linktype) {
                return Err(Skipped::OtherLinkType);
            }
            // A time before 1970 has no pcap form: it wraps, as libpcap's would.
            self.u32(out, t.secs as u32);
            self.u32(out, self.fraction(t));
            self.u32(out, frame.data.len() as u32);
            self.u32(out, frame.len);
            out.extend_from_slice(&frame.data);
            return Ok(());
        }
        let interface = match file.linktypes.iter().position(|&l| l == frame.linktype) {
            Some(i) => i,
            None => {
                self.interface(out, frame.linktype);
                file.linktypes.push(frame.linktype);
                file.linktypes.len() - 1
            }
        };
        let units: u64 = if self.nanosecond {
            1_000_000_000
        } else {
            1_000_000
        };
        // Before 1970 is not representable: the earliest time is written instead.
        let ts = u64::try_from(t.secs).map_or(0, |s| {
            s.saturating_mul(units)
                .saturating_add(u64::from(self.fraction(t)))
        });
        let padded = frame.data.len().next_multiple_of(4);
        let mut body = Vec::with_capacity(20 + padded);
        self.u32(&mut body, interface as u32);
        self.u32(&mut body, (ts >> 32) as u32);
        self.u32(&mut body, ts as u32);
        self.u32(&mut body, frame.data.len() as u32);
        self.u32(&mut body, frame.len);
        body.extend_from_slice(&frame.data);
        body.resize(20 + padded, 0);
        self.block(out, EPB, &body);
        Ok(())
    }

    /// An interface description block for `linktype`, with the time resolution.
    fn interface(self, out: &mut Vec<u8>, linktype: u32) {
        let mut body = Vec::with_capacity(20);
        // The link type is 16 bits in an IDB; LINKTYPE_ values fit.
        self.u16(&mut body, linktype as u16);
        self.u16(&mut body, 0);
        self.u32(&mut body, 0); // snaplen: no limit
        let resolution = if self.nanosecond { 9u8 } else { 6 };
        self.option(&mut body, IF_TSRESOL, &[resolution]);
        self.u16(&mut body, OPT_END);
        self.u16(&mut body, 0);
        self.block(out, IDB, &body);
    }

    /// An option: code, length, value padded to 32 bits.
    fn option(self, out: &mut Vec<u8>, code: u16, value: &[u8]) {
        self.u16(out, code);
        self.u16(out, value.len() as u16);
        out.extend_from_slice(value);
        out.resize(out.len() + (4 - value.len() % 4) % 4, 0);
    }

    /// A block: type, total length, body, total length again.
    fn block(self, out: &mut Vec<u8>, kind: u32, body: &[u8]) {
        let total = (12 + body.len()) as u32;
        self.u32(out, kind);
        self.u32(out, total);
        out.extend_from_slice(body);
        self.u32(out, total);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(secs: i64, nanos: u32, data: &[u8], len: u32, linktype: u32) -> Frame {
        Frame {
            number: 1,
            timestamp: Timestamp { secs, nanos },
            len,
            cap_len: data.len() as u32,
            linktype,
            data: data.to_vec(),
            ..Frame::default()
        }
    }

    #[test]
    fn pcap_little_endian_microseconds_by_hand() {
        let f = RecordFormat {
            pcapng: false,
            byte_order: ByteOrder::Little,
            nanosecond: false,
        };
        let mut out = Vec::new();
        let mut file = RecordFile::default();
        f.begin(&mut out, &mut file, 1);
        f.record(
            &mut out,
            &mut file,
            &frame(0x0102_0304, 5_678_999, b"abc", 60, 1),
        )
        .unwrap();
        let want: Vec<u8> = [
            &[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0][..],
            &[0; 8],
            &[0, 0, 4, 0], // 262144
            &[1, 0, 0, 0],
            &[4, 3, 2, 1],
            &[0x2e, 0x16, 0, 0], // 5678 µs: the 999 ns are cut, not rounded
            &[3, 0, 0, 0],
            &[60, 0, 0, 0],
            b"abc",
        ]
        .concat();
        assert_eq!(out, want);
    }

    #[test]
    fn pcap_big_endian_nanoseconds_by_hand() {
        let f = RecordFormat {
            pcapng: false,
            byte_order: ByteOrder::Big,
            nanosecond: true,
        };
        let mut out = Vec::new();
        let mut file = RecordFile::default();
        f.begin(&mut out, &mut file, 101);
        f.record(&mut out, &mut file, &frame(7, 1_000, b"x", 1, 101))
            .unwrap();
        assert_eq!(&out[..4], &[0xa1, 0xb2, 0x3c, 0x4d]);
        assert_eq!(&out[20..24], &[0, 0, 0, 101]);
        assert_eq!(
            &out[24..40],
            &[0, 0, 0, 7, 0, 0, 0x03, 0xe8, 0, 0, 0, 1, 0, 0, 0, 1]
        );
        assert_eq!(
            f.record(&mut out, &mut file, &frame(7, 0, b"x", 1, 1)),
            Err(Skipped::OtherLinkType)
        );
    }

    #[test]
    fn pcapng_adds_an_interface_per_link_type() {
        let f = RecordFormat {
            pcapng: true,
            byte_order: ByteOrder::Big,
            nanosecond: false,
        };
        let mut out = Vec::new();
        let mut file = RecordFile::default();
        f.begin(&mut out, &mut file, 1);
        let shb = out.len();
        assert_eq!(&out[..4], &[0x0a, 0x0d, 0x0d, 0x0a]);
        assert_eq!(&out[8..12], &[0x1a, 0x2b, 0x3c, 0x4d]);
        f.record(&mut out, &mut file, &frame(1, 2_000, b"hello", 9, 1))
            .unwrap();
        // IDB: type 1, link type 1, if_tsresol 6.
        assert_eq!(&out[shb..shb + 4], &[0, 0, 0, 1]);
        assert_eq!(&out[shb + 8..shb + 10], &[0, 1]);
        assert_eq!(&out[shb + 16..shb + 21], &[0, 9, 0, 1, 6]);
        let idb_len = u32::from_be_bytes(out[shb + 4..shb + 8].try_into().unwrap()) as usize;
        let epb = shb + idb_len;
        assert_eq!(&out[epb..epb + 4], &[0, 0, 0, 6]);
        // 1 s + 2000 ns = 1_000_002 µs.
        assert_eq!(&out[epb + 16..epb + 20], &1_000_002u32.to_be_bytes());
        assert_eq!(&out[epb + 20..epb + 28], &[0, 0, 0, 5, 0, 0, 0, 9]);
        assert_eq!(&out[epb + 28..epb + 36], b"hello\0\0\0");
        let before = out.len();
        f.record(&mut out, &mut file, &frame(1, 0, b"x", 1, 1))
            .unwrap();
        // Same link type: no new interface.
        assert_eq!(&out[before..before + 4], &[0, 0, 0, 6]);
        f.record(&mut out, &mut file, &frame(1, 0, b"x", 1, 113))
            .unwrap();
        assert_eq!(file.linktypes, vec![1, 113]);
    }
}
