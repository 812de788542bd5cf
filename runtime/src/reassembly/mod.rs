//! Reassembly: IP datagrams from their fragments, TCP streams from their segments, and
//! application PDUs from the streams. One file per mechanism: the byte [`assembler`]
//! both use, [`ip`] defragmentation, [`tcp`] streams. The [`Session`](crate::session::Session)
//! owns them and runs them over each frame in capture order.

pub mod assembler;
pub mod framing;
pub mod ip;
pub mod tcp;

/// The end of a hole whose end is not known (the last fragment, or the rest of a PDU,
/// never came).
pub const OPEN_END: u64 = u64::MAX;

/// What to reassemble, and within what bounds (PyPCAPKit's `ipv4`, `ipv6`, `tcp`,
/// `strict`, plus the budgets it lacks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyOptions {
    /// Reassemble fragmented IPv4 datagrams.
    pub ipv4: bool,
    /// Reassemble fragmented IPv6 packets.
    pub ipv6: bool,
    /// Follow TCP streams and dissect application PDUs across segments.
    pub tcp: bool,
    /// Dissect only complete datagrams and PDUs (on by default); off, incomplete ones
    /// are dissected too, over the bytes that arrived, and still marked incomplete.
    pub strict: bool,
    /// Seconds (capture time) an incomplete IPv4 datagram waits for fragments.
    pub ipv4_timeout: i64,
    /// Seconds (capture time) an incomplete IPv6 packet waits for fragments.
    pub ipv6_timeout: i64,
    /// Bytes all pending fragments and stream data may hold; past it the oldest is given up.
    pub memory: usize,
    /// Bytes one TCP direction may hold (out-of-order data and a PDU being assembled).
    pub stream_memory: usize,
}

impl Default for ReassemblyOptions {
    fn default() -> Self {
        ReassemblyOptions {
            ipv4: false,
            ipv6: false,
            tcp: false,
            strict: true,
            ipv4_timeout: 30,
            ipv6_timeout: 60,
            memory: 64 << 20,
            stream_memory: 16 << 20,
        }
    }
}

impl ReassemblyOptions {
    /// Whether anything is reassembled.
    pub fn any(&self) -> bool {
        self.ipv4 || self.ipv6 || self.tcp
    }
}
