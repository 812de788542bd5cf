//! Classic libpcap file writer: little-endian, microsecond timestamps.

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
        let len = frame.len() as u32;
        let mut h = [0u8; RECORD_HEADER_LEN];
        h[0..4].copy_from_slice(&secs.to_le_bytes());
        h[4..8].copy_from_slice(&usecs.to_le_bytes());
        h[8..12].copy_from_slice(&len.to_le_bytes());
        h[12..16].copy_from_slice(&len.to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(frame)?;
        self.packets += 1;
        self.bytes += (RECORD_HEADER_LEN + frame.len()) as u64;
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
}
