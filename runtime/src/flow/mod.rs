//! Flows: the endpoints of a transport conversation, and a key that names a conversation
//! the same way whichever direction a packet travels.

pub mod bindings;
pub mod decode_as;
pub mod seq;

use std::fmt;
use std::net::IpAddr;

/// One end of a transport conversation: an address and a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// The IPv4 or IPv6 address.
    pub addr: IpAddr,
    /// The TCP or UDP port.
    pub port: u16,
}

/// `0.0.0.0:0`: no endpoint yet.
impl Default for Endpoint {
    fn default() -> Self {
        Endpoint {
            addr: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            port: 0,
        }
    }
}

impl Endpoint {
    /// A name usable in a file name on any system: `192.0.2.1_80`, `2001-db8--1_443`
    /// (an IPv6 address's colons would be refused by Windows and confuse `scp`).
    ///
    /// ```
    /// use pcapkit::flow::Endpoint;
    ///
    /// let e = Endpoint { addr: "2001:db8::1".parse().unwrap(), port: 443 };
    /// assert_eq!(e.file_name(), "2001-db8--1_443");
    /// ```
    pub fn file_name(&self) -> String {
        let addr = self.addr.to_string().replace(':', "-");
        format!("{addr}_{}", self.port)
    }
}

impl fmt::Display for Endpoint {
    /// `192.0.2.1:80`, or `[2001:db8::1]:80` for IPv6.
    ///
    /// ```
    /// use pcapkit::flow::Endpoint;
    ///
    /// let e = Endpoint { addr: "2001:db8::1".parse().unwrap(), port: 443 };
    /// assert_eq!(e.to_string(), "[2001:db8::1]:443");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.port),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.port),
        }
    }
}

/// A conversation between two endpoints, the same key for both directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowKey {
    /// The lower endpoint.
    pub low: Endpoint,
    /// The higher endpoint.
    pub high: Endpoint,
}

/// Hashed as three words: the derived hash feeds the hasher eight times (each address's
/// kind, length and bytes, each port), and connection tables hash a key per segment.
impl std::hash::Hash for FlowKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u128(address_bits(self.low.addr));
        state.write_u128(address_bits(self.high.addr));
        state.write_u32(u32::from(self.low.port) << 16 | u32::from(self.high.port));
    }
}

/// An address as 128 bits, an IPv4 one as its IPv4-mapped IPv6 form (equal keys hash
/// alike; a mapped address and its IPv4 twin only share a hash).
fn address_bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(a.to_ipv6_mapped()),
        IpAddr::V6(a) => u128::from(a),
    }
}

impl FlowKey {
    /// The key of a packet from `src` to `dst`, and whether `src` is the lower endpoint.
    ///
    /// ```
    /// use pcapkit::flow::{Endpoint, FlowKey};
    ///
    /// let a = Endpoint { addr: "10.0.0.1".parse().unwrap(), port: 1234 };
    /// let b = Endpoint { addr: "10.0.0.2".parse().unwrap(), port: 80 };
    /// assert_eq!(FlowKey::new(a, b).0, FlowKey::new(b, a).0);
    /// ```
    pub fn new(src: Endpoint, dst: Endpoint) -> (FlowKey, bool) {
        if src <= dst {
            (
                FlowKey {
                    low: src,
                    high: dst,
                },
                true,
            )
        } else {
            (
                FlowKey {
                    low: dst,
                    high: src,
                },
                false,
            )
        }
    }
}

/// The TCP connection a frame's segment belongs to, and what the segment did to it (for
/// the flow tracer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowMark {
    /// The connection's number (`tcp.stream`).
    pub stream: u64,
    /// The connection's first sender (the source of its first captured segment).
    pub a: Endpoint,
    /// The other end.
    pub b: Endpoint,
    /// The segment goes from `b` to `a`.
    pub from_b: bool,
    /// The segment carries a FIN.
    pub fin: bool,
    /// The segment carries a RST.
    pub rst: bool,
    /// The connection is closed (a RST, or a FIN each way) after this segment.
    pub closed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn endpoint() -> impl Strategy<Value = Endpoint> {
        // Few distinct values, so that equal addresses and ports come up often.
        let addr = prop_oneof![
            (0u32..4).prop_map(|a| IpAddr::V4(Ipv4Addr::from(a << 24 | a))),
            (0u128..4).prop_map(|a| IpAddr::V6(Ipv6Addr::from(a << 120 | a))),
            (0u32..4).prop_map(|a| IpAddr::V6(Ipv4Addr::from(a).to_ipv6_mapped())),
        ];
        (addr, 0u16..3).prop_map(|(addr, port)| Endpoint { addr, port })
    }

    fn hash(key: &FlowKey) -> u64 {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        h.finish()
    }

    proptest! {
        /// Keys are ordered as `Endpoint`'s derived order says, whichever way round the
        /// endpoints come, and equal keys hash alike.
        #[test]
        fn keys_follow_the_endpoint_order(a in endpoint(), b in endpoint()) {
            let (key, from_low) = FlowKey::new(a, b);
            prop_assert_eq!(from_low, a <= b);
            prop_assert_eq!(key.low, a.min(b));
            prop_assert_eq!(key.high, a.max(b));
            let (back, _) = FlowKey::new(b, a);
            prop_assert_eq!(back, key);
            prop_assert_eq!(hash(&back), hash(&key));
        }
    }
}
