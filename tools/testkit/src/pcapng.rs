//! pcapng blocks (section header, interface description, enhanced, simple and obsolete
//! packet blocks) and their options, in either byte order. A file is the blocks
//! concatenated: `[shb(..), idb(..), epb(..)].concat()`.

/// The byte order a section is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Little,
    Big,
}

impl Order {
    pub fn u16(self, v: u16) -> [u8; 2] {
        match self {
            Order::Little => v.to_le_bytes(),
            Order::Big => v.to_be_bytes(),
        }
    }

    pub fn u32(self, v: u32) -> [u8; 4] {
        match self {
            Order::Little => v.to_le_bytes(),
            Order::Big => v.to_be_bytes(),
        }
    }

    pub fn u64(self, v: u64) -> [u8; 8] {
        match self {
            Order::Little => v.to_le_bytes(),
            Order::Big => v.to_be_bytes(),
        }
    }
}

pub const BLOCK_SHB: u32 = 0x0a0d_0d0a;
pub const BLOCK_IDB: u32 = 1;
pub const BLOCK_OPB: u32 = 2;
pub const BLOCK_SPB: u32 = 3;
pub const BLOCK_EPB: u32 = 6;

fn pad4(v: &mut Vec<u8>) {
    while v.len() % 4 != 0 {
        v.push(0);
    }
}

/// A block: type, total length, body padded to 32 bits, total length.
pub fn block(order: Order, block_type: u32, body: &[u8]) -> Vec<u8> {
    let mut padded = body.to_vec();
    pad4(&mut padded);
    let total = (padded.len() + 12) as u32;
    let mut out = Vec::with_capacity(total as usize);
    out.extend_from_slice(&order.u32(block_type));
    out.extend_from_slice(&order.u32(total));
    out.extend_from_slice(&padded);
    out.extend_from_slice(&order.u32(total));
    out
}

/// One option (code, length, value padded to 32 bits).
pub fn option(order: Order, code: u16, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&order.u16(code));
    out.extend_from_slice(&order.u16(value.len() as u16));
    out.extend_from_slice(value);
    pad4(&mut out);
    out
}

/// An option list: the options and `opt_endofopt` (nothing at all when empty).
pub fn options(order: Order, opts: &[Vec<u8>]) -> Vec<u8> {
    let mut out: Vec<u8> = opts.concat();
    if !opts.is_empty() {
        out.extend_from_slice(&option(order, 0, &[]));
    }
    out
}

/// Section Header Block, version 1.0, unknown section length.
pub fn shb(order: Order, opts: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&order.u32(0x1a2b_3c4d));
    body.extend_from_slice(&order.u16(1));
    body.extend_from_slice(&order.u16(0));
    body.extend_from_slice(&order.u64(u64::MAX));
    body.extend_from_slice(&options(order, opts));
    block(order, BLOCK_SHB, &body)
}

/// Interface Description Block.
pub fn idb(order: Order, linktype: u16, snaplen: u32, opts: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&order.u16(linktype));
    body.extend_from_slice(&order.u16(0));
    body.extend_from_slice(&order.u32(snaplen));
    body.extend_from_slice(&options(order, opts));
    block(order, BLOCK_IDB, &body)
}

/// `if_tsresol`: a power of ten (or of two, with the top bit set) per second.
pub fn if_tsresol(order: Order, resol: u8) -> Vec<u8> {
    option(order, 9, &[resol])
}

/// `if_tsoffset`, seconds.
pub fn if_tsoffset(order: Order, secs: i64) -> Vec<u8> {
    option(order, 14, &order.u64(secs as u64))
}

/// Enhanced Packet Block; `ts` in the interface's units.
pub fn epb(order: Order, interface: u32, ts: u64, data: &[u8]) -> Vec<u8> {
    block(order, BLOCK_EPB, &epb_body(order, interface, ts, data))
}

/// The body of an Enhanced Packet Block up to its options: the packet padded to 32 bits,
/// so that options can follow it.
pub fn epb_body(order: Order, interface: u32, ts: u64, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&order.u32(interface));
    body.extend_from_slice(&order.u32((ts >> 32) as u32));
    body.extend_from_slice(&order.u32(ts as u32));
    body.extend_from_slice(&order.u32(data.len() as u32));
    body.extend_from_slice(&order.u32(data.len() as u32));
    body.extend_from_slice(data);
    pad4(&mut body);
    body
}

/// Simple Packet Block (interface 0, no timestamp).
pub fn spb(order: Order, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&order.u32(data.len() as u32));
    body.extend_from_slice(data);
    block(order, BLOCK_SPB, &body)
}

/// Obsolete Packet Block; `ts` in the interface's units.
pub fn opb(order: Order, interface: u16, ts: u64, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&order.u16(interface));
    body.extend_from_slice(&order.u16(0)); // drops
    body.extend_from_slice(&order.u32((ts >> 32) as u32));
    body.extend_from_slice(&order.u32(ts as u32));
    body.extend_from_slice(&order.u32(data.len() as u32));
    body.extend_from_slice(&order.u32(data.len() as u32));
    body.extend_from_slice(data);
    block(order, BLOCK_OPB, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_lengths_frame_a_padded_body() {
        let b = epb(Order::Little, 0, 0x1_0000_0002, &[0xaa; 5]);
        // 12 bytes of type and lengths, 20 of EPB fields, 5 of data padded to 8.
        assert_eq!(b.len(), 40);
        assert_eq!(&b[4..8], &40u32.to_le_bytes());
        assert_eq!(&b[36..40], &40u32.to_le_bytes());
        assert_eq!(&b[12..16], &1u32.to_le_bytes(), "timestamp, high half");
        assert_eq!(&b[16..20], &2u32.to_le_bytes(), "timestamp, low half");
        assert_eq!(&b[33..36], &[0, 0, 0], "padding");
    }

    #[test]
    fn big_endian_section_header() {
        let b = shb(Order::Big, &[option(Order::Big, 4, b"pcapkit")]);
        assert_eq!(&b[..4], &[0x0a, 0x0d, 0x0d, 0x0a]);
        assert_eq!(&b[8..12], &[0x1a, 0x2b, 0x3c, 0x4d], "byte-order magic");
        // 12 + 16 fixed + option (4 + 8) + end of options (4).
        assert_eq!(&b[4..8], &44u32.to_be_bytes());
        assert_eq!(&b[24..28], &[0, 4, 0, 7], "shb_userappl, 7 bytes");
        assert_eq!(&b[36..40], &[0; 4], "opt_endofopt");
    }

    #[test]
    fn no_options_means_no_end_of_options() {
        assert_eq!(idb(Order::Little, 1, 65535, &[]).len(), 20);
        assert_eq!(
            idb(Order::Little, 1, 65535, &[if_tsresol(Order::Little, 9)]).len(),
            32
        );
    }
}
