//! Classic libpcap files: a streaming writer (little-endian, microsecond timestamps),
//! whole files in memory, and rewrites of a file's byte order, timestamp resolution and
//! record format.

use std::io::{self, Write};

/// `LINKTYPE_ETHERNET` (DLT_EN10MB).
pub const LINKTYPE_ETHERNET: u32 = 1;
/// Magic number of a microsecond-resolution capture, written in host order by
/// libpcap; written little-endian here, so the file starts `d4 c3 b2 a1`.
pub const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// Snapshot length written into the global header.
pub const SNAPLEN: u32 = 65_535;
/// Length of the global header.
pub const GLOBAL_HEADER_LEN: usize = 24;
/// Length of each per-record header.
pub const RECORD_HEADER_LEN: usize = 16;

/// Writes a classic pcap stream: the 24-byte global header on creation, then one
/// 16-byte record header plus the frame bytes per packet.
pub struct PcapWriter<W: Write> {
    out: W,
    packets: u64,
    bytes: u64,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header (version 2.4, thiszone 0, sigfigs 0, snaplen 65535).
    pub fn new(mut out: W, linktype: u32) -> io::Result<Self> {
        let mut h = [0u8; GLOBAL_HEADER_LEN];
        h[0..4].copy_from_slice(&MAGIC_MICROS.to_le_bytes());
        h[4..6].copy_from_slice(&2u16.to_le_bytes());
        h[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone (i32) and sigfigs (u32) stay zero.
        h[16..20].copy_from_slice(&SNAPLEN.to_le_bytes());
        h[20..24].copy_from_slice(&linktype.to_le_bytes());
        out.write_all(&h)?;
        Ok(PcapWriter {
            out,
            packets: 0,
            bytes: GLOBAL_HEADER_LEN as u64,
        })
    }

    /// Appends one record; `ts_us` is microseconds since the Unix epoch. Frames are
    /// never longer than the snapshot length, so captured length = original length.
    pub fn write_packet(&mut self, ts_us: u64, frame: &[u8]) -> io::Result<()> {
        assert!(frame.len() <= SNAPLEN as usize, "frame longer than snaplen");
        let secs = u32::try_from(ts_us / 1_000_000).expect("timestamp after 2106");
        let usecs = (ts_us % 1_000_000) as u32;
        self.write_raw(secs, usecs, frame.len() as u32, frame)
    }

    /// Appends one record as given, unchecked: tests use it for records a capture
    /// program would never write (microseconds past a second, `orig_len` below the data).
    pub fn write_record(&mut self, r: &PcapRecord) -> io::Result<()> {
        self.write_raw(r.ts_sec, r.ts_usec, r.orig_len, &r.data)
    }

    fn write_raw(&mut self, secs: u32, usecs: u32, orig_len: u32, data: &[u8]) -> io::Result<()> {
        let mut h = [0u8; RECORD_HEADER_LEN];
        h[0..4].copy_from_slice(&secs.to_le_bytes());
        h[4..8].copy_from_slice(&usecs.to_le_bytes());
        h[8..12].copy_from_slice(&(data.len() as u32).to_le_bytes());
        h[12..16].copy_from_slice(&orig_len.to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(data)?;
        self.packets += 1;
        self.bytes += (RECORD_HEADER_LEN + data.len()) as u64;
        Ok(())
    }

    /// Packets written so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Bytes written so far, headers included.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// One record of a capture built in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PcapRecord {
    pub ts_sec: u32,
    pub ts_usec: u32,
    pub orig_len: u32,
    pub data: Vec<u8>,
}

impl PcapRecord {
    /// A record whose original length is its data's.
    pub fn new(ts_sec: u32, ts_usec: u32, data: Vec<u8>) -> PcapRecord {
        PcapRecord {
            ts_sec,
            ts_usec,
            orig_len: data.len() as u32,
            data,
        }
    }
}

/// A whole little-endian, microsecond pcap file in memory.
pub fn pcap_file(linktype: u32, records: &[PcapRecord]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), linktype).expect("a Vec never fails");
    for r in records {
        w.write_record(r).expect("a Vec never fails");
    }
    w.finish().expect("a Vec never fails")
}

// ---------------------------------------------------------------------------
// Rewriting a file

/// A record of a classic pcap file: where its 16-byte header starts and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordPos {
    pub offset: usize,
    pub incl_len: usize,
}

impl RecordPos {
    /// First byte of the packet data.
    pub fn data(&self) -> usize {
        self.offset + RECORD_HEADER_LEN
    }

    /// First byte after the record.
    pub fn end(&self) -> usize {
        self.data() + self.incl_len
    }
}

/// The records of a little-endian pcap file with 16-byte record headers (as
/// [`PcapWriter`] writes them).
pub fn records_le(pcap: &[u8]) -> Vec<RecordPos> {
    assert_eq!(&pcap[2..4], &[0xb2, 0xa1], "little-endian pcap");
    let mut out = Vec::new();
    let mut offset = GLOBAL_HEADER_LEN;
    while offset + RECORD_HEADER_LEN <= pcap.len() {
        let incl_len = u32::from_le_bytes(pcap[offset + 8..offset + 12].try_into().unwrap());
        out.push(RecordPos {
            offset,
            incl_len: incl_len as usize,
        });
        offset += RECORD_HEADER_LEN + incl_len as usize;
    }
    assert_eq!(offset, pcap.len(), "records fill the file exactly");
    out
}

fn swap(b: &mut [u8], at: usize, width: usize) {
    b[at..at + width].reverse();
}

/// The same capture with big-endian headers (magic `a1 b2 c3 d4`, or `a1 b2 3c 4d`
/// for nanoseconds).
pub fn to_big_endian(pcap: &[u8]) -> Vec<u8> {
    let records = records_le(pcap);
    let mut out = pcap.to_vec();
    // magic, version major and minor, thiszone, sigfigs, snaplen, network
    for (at, width) in [(0, 4), (4, 2), (6, 2), (8, 4), (12, 4), (16, 4), (20, 4)] {
        swap(&mut out, at, width);
    }
    for r in records {
        for field in 0..4 {
            swap(&mut out, r.offset + 4 * field, 4);
        }
    }
    assert_eq!(&out[..2], &[0xa1, 0xb2]);
    out
}

/// The same capture with nanosecond timestamps (magic `4d 3c b2 a1`): every sub-second
/// part multiplied by 1000, plus `extra_ns` (below 1000).
pub fn to_nanosecond(pcap: &[u8], extra_ns: u32) -> Vec<u8> {
    assert!(extra_ns < 1000);
    let records = records_le(pcap);
    let mut out = pcap.to_vec();
    out[..4].copy_from_slice(&0xa1b2_3c4d_u32.to_le_bytes());
    for r in records {
        let at = r.offset + 4;
        let usec = u32::from_le_bytes(out[at..at + 4].try_into().unwrap());
        assert!(usec < 1_000_000);
        out[at..at + 4].copy_from_slice(&(usec * 1000 + extra_ns).to_le_bytes());
    }
    out
}

/// The same capture in the "modified" pcap format (magic `34 cd b2 a1`): 8 more bytes
/// (ifindex 3, protocol 0x0800, pkt_type 0, pad) in every record header.
pub fn to_modified(pcap: &[u8]) -> Vec<u8> {
    let records = records_le(pcap);
    let mut out = pcap[..GLOBAL_HEADER_LEN].to_vec();
    out[..4].copy_from_slice(&0xa1b2_cd34_u32.to_le_bytes());
    for r in records {
        out.extend_from_slice(&pcap[r.offset..r.data()]);
        out.extend_from_slice(&[3, 0, 0, 0, 0x00, 0x08, 0, 0]);
        out.extend_from_slice(&pcap[r.data()..r.end()]);
    }
    out
}

/// Sets the `incl_len` of a record (little-endian file) without touching the data.
pub fn set_incl_len(pcap: &mut [u8], record: RecordPos, incl_len: u32) {
    pcap[record.offset + 8..record.offset + 12].copy_from_slice(&incl_len.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_header_layout() {
        let w = PcapWriter::new(Vec::new(), LINKTYPE_ETHERNET).unwrap();
        let buf = w.finish().unwrap();
        assert_eq!(
            buf,
            [
                0xd4, 0xc3, 0xb2, 0xa1, // magic, little-endian, microseconds
                2, 0, 4, 0, // version 2.4
                0, 0, 0, 0, // thiszone
                0, 0, 0, 0, // sigfigs
                0xff, 0xff, 0, 0, // snaplen 65535
                1, 0, 0, 0, // LINKTYPE_ETHERNET
            ]
        );
    }

    #[test]
    fn record_header_layout() {
        let mut w = PcapWriter::new(Vec::new(), LINKTYPE_ETHERNET).unwrap();
        w.write_packet(1_704_067_200_000_000 + 1_234_567, &[0xaa; 60])
            .unwrap();
        assert_eq!(w.packets(), 1);
        assert_eq!(w.bytes(), 24 + 16 + 60);
        let buf = w.finish().unwrap();
        let rec = &buf[24..40];
        assert_eq!(
            u32::from_le_bytes(rec[0..4].try_into().unwrap()),
            1_704_067_201
        );
        assert_eq!(u32::from_le_bytes(rec[4..8].try_into().unwrap()), 234_567);
        assert_eq!(u32::from_le_bytes(rec[8..12].try_into().unwrap()), 60);
        assert_eq!(u32::from_le_bytes(rec[12..16].try_into().unwrap()), 60);
        assert_eq!(&buf[40..], &[0xaa; 60]);
    }
    #[test]
    fn records_in_memory_round_trip() {
        let records = [
            PcapRecord::new(1, 999_999, vec![1, 2, 3]),
            PcapRecord {
                ts_sec: 2,
                ts_usec: 0,
                orig_len: 1500,
                data: vec![4; 60],
            },
        ];
        let file = pcap_file(LINKTYPE_ETHERNET, &records);
        let pos = records_le(&file);
        assert_eq!(pos.len(), 2);
        assert_eq!(&file[pos[0].data()..pos[0].end()], &[1, 2, 3]);
        let orig = pos[1].offset + 12;
        assert_eq!(&file[orig..orig + 4], &1500u32.to_le_bytes());
        assert_eq!(pos[1].end(), file.len());
    }

    #[test]
    fn rewrites_keep_the_records() {
        let file = pcap_file(LINKTYPE_ETHERNET, &[PcapRecord::new(5, 7, vec![9; 10])]);
        let be = to_big_endian(&file);
        assert_eq!(&be[..4], &[0xa1, 0xb2, 0xc3, 0xd4]);
        assert_eq!(&be[24..28], &5u32.to_be_bytes());
        assert_eq!(&be[32..36], &10u32.to_be_bytes());
        assert_eq!(&be[40..], &[9; 10]);

        let ns = to_nanosecond(&file, 3);
        assert_eq!(&ns[..4], &[0x4d, 0x3c, 0xb2, 0xa1]);
        assert_eq!(&ns[28..32], &7003u32.to_le_bytes());

        let modified = to_modified(&file);
        assert_eq!(modified.len(), file.len() + 8);
        assert_eq!(&modified[40..48], &[3, 0, 0, 0, 0x00, 0x08, 0, 0]);
        assert_eq!(&modified[48..], &[9; 10]);

        let mut cut = file.clone();
        set_incl_len(&mut cut, records_le(&file)[0], 4);
        assert_eq!(&cut[32..36], &4u32.to_le_bytes());
        assert_eq!(cut.len(), file.len(), "the data stays");
    }
}
