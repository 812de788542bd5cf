//! The Internet checksum (RFC 1071) and the transport pseudo-header sums.

/// Adds `data` to a running one's-complement sum. `data` is treated as starting at
/// an even offset of the checksummed stream; a trailing odd byte is padded with zero.
pub fn checksum_add(mut acc: u64, data: &[u8]) -> u64 {
    // 32-bit words fold to the same one's-complement sum as their two halves.
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        acc += u64::from(u32::from_be_bytes([w[0], w[1], w[2], w[3]]));
    }
    let rest = words.remainder();
    let mut pairs = rest.chunks_exact(2);
    for p in &mut pairs {
        acc += u64::from(u16::from_be_bytes([p[0], p[1]]));
    }
    if let [last] = pairs.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// Folds a running sum to 16 bits and complements it: the value to store in a
/// checksum field.
pub fn checksum_finish(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// The Internet checksum of `data`. Over data that already holds a correct
/// checksum field this returns 0.
pub fn internet_checksum(data: &[u8]) -> u16 {
    checksum_finish(checksum_add(0, data))
}

/// The addresses of an IP packet, for transport pseudo-headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpPair {
    V4 { src: [u8; 4], dst: [u8; 4] },
    V6 { src: [u8; 16], dst: [u8; 16] },
}

impl IpPair {
    /// Sum of the pseudo-header (RFC 768 / RFC 8200 section 8.1) for `len` bytes of
    /// upper-layer data.
    pub fn pseudo_header_sum(&self, protocol: u8, len: usize) -> u64 {
        let base = match self {
            IpPair::V4 { src, dst } => checksum_add(checksum_add(0, src), dst),
            IpPair::V6 { src, dst } => checksum_add(checksum_add(0, src), dst),
        };
        // The length is a 16- or 32-bit field; adding it whole folds the same way.
        base + u64::from(protocol) + len as u64
    }
}

/// Checksum of an upper-layer message with its pseudo-header; the message's own
/// checksum field must be zero (or correct, giving 0).
pub fn transport_checksum(pair: IpPair, protocol: u8, message: &[u8]) -> u16 {
    checksum_finish(checksum_add(
        pair.pseudo_header_sum(protocol, message.len()),
        message,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3: the sum of these words is 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(internet_checksum(&data), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(
            internet_checksum(&[0x12, 0x34, 0x56]),
            !(0x1234u16 + 0x5600)
        );
        // Same as the even-length buffer with an explicit zero byte.
        assert_eq!(
            internet_checksum(&[1, 2, 3, 4, 5, 6, 7]),
            internet_checksum(&[1, 2, 3, 4, 5, 6, 7, 0])
        );
    }

    #[test]
    fn carries_fold_back_in() {
        // 0xffff + 0x0001 = 0x1_0000, which folds to 0x0001.
        assert_eq!(internet_checksum(&[0xff, 0xff, 0x00, 0x01]), !0x0001);
        // 0xffff words carry at every addition and still fold to 0xffff.
        assert_eq!(internet_checksum(&[0xff; 1000]), !0xffff);
    }
}
