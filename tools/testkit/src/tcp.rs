//! TCP conversations built segment by segment, with consistent sequence and
//! acknowledgement numbers, as pcap files or frames.

use std::net::SocketAddr;

use crate::net::tcp_flags::{ACK, FIN, PSH, SYN};
use crate::net::{ethernet, ip_tcp, ETHERTYPE_IPV4, ETHERTYPE_IPV6, MAC_A, MAC_B};
use crate::pcap::{pcap_file, PcapRecord, LINKTYPE_ETHERNET};

/// A TCP conversation between a client and a server over Ethernet; segments can be
/// lost (sent but not captured) or captured in any order by editing `packets`.
pub struct TcpConversation {
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// Next sequence number of the client, of the server.
    next: [u32; 2],
    /// IP packets, in capture order.
    pub packets: Vec<Vec<u8>>,
}

impl TcpConversation {
    /// `client` and `server` as `10.0.0.1:40000` or `[2001:db8::1]:80`. The server's
    /// sequence numbers wrap around early in the conversation.
    pub fn new(client: &str, server: &str) -> TcpConversation {
        TcpConversation {
            client: client.parse().expect("a socket address"),
            server: server.parse().expect("a socket address"),
            next: [1_000_000, 0xffff_fff0],
            packets: Vec::new(),
        }
    }

    fn ends(&self, from_client: bool) -> (SocketAddr, SocketAddr, usize) {
        if from_client {
            (self.client, self.server, 0)
        } else {
            (self.server, self.client, 1)
        }
    }

    /// The IP packet of a segment from one side, not captured; advances that side's
    /// sequence number (SYN and FIN count one).
    pub fn segment(&mut self, from_client: bool, flags: u8, payload: &[u8]) -> Vec<u8> {
        let (src, dst, d) = self.ends(from_client);
        let seq = self.next[d];
        let ack = if flags & ACK != 0 {
            self.next[1 - d]
        } else {
            0
        };
        let len = payload.len() as u32 + u32::from(flags & (SYN | FIN) != 0);
        self.next[d] = seq.wrapping_add(len);
        ip_tcp(src, dst, seq, ack, flags, payload)
    }

    /// SYN, SYN-ACK, ACK.
    pub fn handshake(&mut self) -> &mut Self {
        let syn = self.segment(true, SYN, b"");
        let syn_ack = self.segment(false, SYN | ACK, b"");
        let ack = self.segment(true, ACK, b"");
        self.packets.extend([syn, syn_ack, ack]);
        self
    }

    /// Data from one side, captured.
    pub fn send(&mut self, from_client: bool, payload: &[u8]) -> &mut Self {
        let p = self.segment(from_client, PSH | ACK, payload);
        self.packets.push(p);
        self
    }

    /// Data from one side that the capture missed.
    pub fn lose(&mut self, from_client: bool, payload: &[u8]) -> &mut Self {
        self.segment(from_client, PSH | ACK, payload);
        self
    }

    /// FIN from the client, FIN-ACK from the server, the client's last ACK.
    pub fn close(&mut self) -> &mut Self {
        let fin = self.segment(true, FIN | ACK, b"");
        let fin_ack = self.segment(false, FIN | ACK, b"");
        let ack = self.segment(true, ACK, b"");
        self.packets.extend([fin, fin_ack, ack]);
        self
    }

    /// The packets as Ethernet frames, one a millisecond from 2023-11-14T22:13:20Z.
    pub fn frames(&self) -> Vec<PcapRecord> {
        ethernet_frames(&self.packets)
    }

    /// A pcap file of the conversation.
    pub fn pcap(&self) -> Vec<u8> {
        pcap_file(LINKTYPE_ETHERNET, &self.frames())
    }
}

/// IP packets as Ethernet frames (the EtherType from each packet's version), one a
/// millisecond from 2023-11-14T22:13:20Z.
pub fn ethernet_frames(packets: &[Vec<u8>]) -> Vec<PcapRecord> {
    packets
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let ethertype = if p[0] >> 4 == 6 {
                ETHERTYPE_IPV6
            } else {
                ETHERTYPE_IPV4
            };
            PcapRecord::new(
                1_700_000_000,
                i as u32 * 1000,
                ethernet(MAC_B, MAC_A, ethertype, p),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq_ack_flags(packet: &[u8]) -> (u32, u32, u8) {
        let tcp = &packet[usize::from(packet[0] & 0x0f) * 4..];
        (
            u32::from_be_bytes(tcp[4..8].try_into().unwrap()),
            u32::from_be_bytes(tcp[8..12].try_into().unwrap()),
            tcp[13],
        )
    }

    #[test]
    fn sequence_numbers_follow_the_bytes_sent() {
        let mut c = TcpConversation::new("10.0.0.1:40000", "10.0.0.2:80");
        c.handshake()
            .send(true, b"hello")
            .lose(false, b"abc")
            .send(false, &[b'x'; 16]);
        c.close();
        let s: Vec<_> = c.packets.iter().map(|p| seq_ack_flags(p)).collect();
        assert_eq!(s.len(), 8, "3 + 2 captured + 3, the lost segment left out");
        assert_eq!(s[0], (1_000_000, 0, SYN));
        assert_eq!(s[1], (0xffff_fff0, 1_000_001, SYN | ACK));
        assert_eq!(s[2], (1_000_001, 0xffff_fff1, ACK));
        assert_eq!(s[3], (1_000_001, 0xffff_fff1, PSH | ACK));
        // After the 3 lost bytes; its 16 bytes take the server's numbers past zero.
        assert_eq!(s[4], (0xffff_fff4, 1_000_006, PSH | ACK));
        assert_eq!(s[5], (1_000_006, 4, FIN | ACK));
        assert_eq!(s[6], (4, 1_000_007, FIN | ACK));
        assert_eq!(s[7], (1_000_007, 5, ACK));
    }

    #[test]
    fn frames_are_ethernet_one_a_millisecond() {
        let mut c = TcpConversation::new("[2001:db8::1]:40000", "[2001:db8::2]:80");
        c.handshake();
        let frames = c.frames();
        assert_eq!(frames.len(), 3);
        assert_eq!(&frames[1].data[12..14], &ETHERTYPE_IPV6.to_be_bytes());
        assert_eq!((frames[2].ts_sec, frames[2].ts_usec), (1_700_000_000, 2000));
        assert_eq!(
            c.pcap().len(),
            24 + 3 * 16 + frames.iter().map(|f| f.data.len()).sum::<usize>()
        );
    }
}
