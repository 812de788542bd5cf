//! pcapkit's test kit: packets built byte by byte, the Internet checksum, and pcap and
//! pcapng files, for samplegen, the integration tests and the benchmarks.
//!
//! It depends on nothing but std, and in particular not on pcapkit: a dissector bug
//! cannot slip into the bytes that test the dissector.
//!
//! - [`net`]: header builders (Ethernet, VLAN, ARP, IPv4, IPv6 and its extension
//!   headers, TCP with options, UDP, ICMP, ICMPv6, DNS) and whole packets in one call
//! - [`checksum`]: the Internet checksum and transport pseudo-headers
//! - [`tcp`]: TCP conversations with consistent sequence numbers
//! - [`doh`]: DNS over HTTPS in cleartext (HTTP/1.1 and h2c) and DNS on UDP 5300
//! - [`tls`]: TLS 1.2 handshake messages spanning records, records spanning segments
//! - [`pcap`]: a streaming pcap writer, files in memory, rewrites of a file's format
//! - [`pcapng`]: pcapng blocks and options, in either byte order
//! - [`rng`]: a deterministic generator

pub mod checksum;
pub mod doh;
pub mod net;
pub mod pcap;
pub mod pcapng;
pub mod rng;
pub mod tcp;
pub mod tls;

pub use rng::Rng;
pub use tcp::TcpConversation;
